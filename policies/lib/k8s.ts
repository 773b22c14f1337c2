// Helpers to read Kubernetes resource properties as the policy engine hands them over:
// inputs (resource policies) or outputs (stack policies), possibly holding values that are
// unknown during preview.  Every reader here tolerates missing fields and unknown values.

/** The marker properties of @pulumi/policy's unknown-checking proxy. */
const PROXY_FLAG = "__isSpecialProxy";
const PROXY_TARGET = "__getSpecialProxyTarget";

/** Sentinel values that stand for "unknown during preview". */
const UNKNOWN_SENTINELS: Set<unknown> = loadUnknownSentinels();

function loadUnknownSentinels(): Set<unknown> {
    const values = new Set<unknown>();
    try {
        // The sentinels are internal to @pulumi/policy; read them from its module at run time.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const proxy = require("@pulumi/policy/proxy") as Record<string, unknown>;
        for (const [key, value] of Object.entries(proxy)) {
            if (/^unknown[A-Z]\w*Value$/.test(key) && typeof value === "string") {
                values.add(value);
            }
        }
    } catch {
        // fall through: only the engine's generic sentinel below
    }
    // The engine's generic "unknown" string, as serialised by @pulumi/pulumi.
    values.add("04da6b54-80e4-46f7-96ec-b56ff0331ba9");
    return values;
}

/** The unknown sentinel used by tests to simulate preview values. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function isUnknown(v: unknown): boolean {
    return typeof v === "string" && UNKNOWN_SENTINELS.has(v);
}

/** Removes @pulumi/policy's unknown-checking proxy so unknowns can be inspected instead of throwing. */
export function unwrap<T>(v: T): T {
    if (v !== null && typeof v === "object") {
        try {
            const obj = v as Record<PropertyKey, unknown>;
            if (obj[PROXY_FLAG] === true) {
                return obj[PROXY_TARGET] as T;
            }
        } catch {
            // not a proxy
        }
    }
    return v;
}

export type Obj = Record<string, unknown>;

/** An object (not unknown, not an array), or undefined. */
export function obj(v: unknown): Obj | undefined {
    v = unwrap(v);
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : undefined;
}

/** An array (entries may still be unknown), or undefined when absent or unknown. */
export function arr(v: unknown): unknown[] | undefined {
    v = unwrap(v);
    return Array.isArray(v) ? v : undefined;
}

/** A known string, or undefined. */
export function str(v: unknown): string | undefined {
    return typeof v === "string" && !isUnknown(v) ? v : undefined;
}

/** A known number (numeric strings are not accepted), or undefined. */
export function num(v: unknown): number | undefined {
    return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** Walks a path of object keys; undefined when any step is missing or unknown. */
export function get(v: unknown, ...path: string[]): unknown {
    let cur: unknown = unwrap(v);
    for (const key of path) {
        const o = obj(cur);
        if (!o) {
            return undefined;
        }
        cur = unwrap(o[key]);
    }
    return cur;
}

/** Three-valued reading of a field: known value, known absent, or unknown. */
export type Tri<T> = { state: "known"; value: T } | { state: "absent" } | { state: "unknown" };

/** Reads a path and classifies it; unknown when the value or any parent is unknown. */
export function probe(v: unknown, ...path: string[]): Tri<unknown> {
    let cur: unknown = unwrap(v);
    for (const key of path) {
        if (isUnknown(cur)) {
            return { state: "unknown" };
        }
        const o = obj(cur);
        if (!o) {
            return { state: "absent" };
        }
        cur = unwrap(o[key]);
    }
    if (isUnknown(cur)) {
        return { state: "unknown" };
    }
    if (cur === undefined || cur === null) {
        return { state: "absent" };
    }
    return { state: "known", value: cur };
}

/** Known string labels of an object (unknown values dropped). */
export function labelsOf(v: unknown): Record<string, string> {
    const out: Record<string, string> = {};
    const o = obj(v);
    if (!o) {
        return out;
    }
    for (const [k, val] of Object.entries(o)) {
        const s = str(unwrap(val));
        if (s !== undefined) {
            out[k] = s;
        }
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Resource types

export const T = {
    Namespace: "kubernetes:core/v1:Namespace",
    Pod: "kubernetes:core/v1:Pod",
    Service: "kubernetes:core/v1:Service",
    ServiceAccount: "kubernetes:core/v1:ServiceAccount",
    ResourceQuota: "kubernetes:core/v1:ResourceQuota",
    LimitRange: "kubernetes:core/v1:LimitRange",
    Deployment: "kubernetes:apps/v1:Deployment",
    StatefulSet: "kubernetes:apps/v1:StatefulSet",
    DaemonSet: "kubernetes:apps/v1:DaemonSet",
    ReplicaSet: "kubernetes:apps/v1:ReplicaSet",
    Job: "kubernetes:batch/v1:Job",
    CronJob: "kubernetes:batch/v1:CronJob",
    NetworkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    PodDisruptionBudget: "kubernetes:policy/v1:PodDisruptionBudget",
    Role: "kubernetes:rbac.authorization.k8s.io/v1:Role",
    ClusterRole: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
    RoleBinding: "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    ClusterRoleBinding: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
} as const;

/** The Kubernetes kind of a Pulumi type token ("kubernetes:apps/v1:Deployment" -> "Deployment"). */
export function kindOf(type: string): string | undefined {
    const m = /^kubernetes:([^:]+):([A-Za-z0-9]+)$/.exec(type);
    return m ? m[2] : undefined;
}

/** The API group of a type token ("kubernetes:apps/v1:Deployment" -> "apps", core -> ""). */
export function groupOf(type: string): string | undefined {
    const m = /^kubernetes:([^/:]+)\/[^:]+:[A-Za-z0-9]+$/.exec(type);
    if (!m) {
        return undefined;
    }
    return m[1] === "core" ? "" : m[1];
}

/** True when `type` is one of the given kinds of the given API group (any version). */
export function isKind(type: string, group: string, ...kinds: string[]): boolean {
    return groupOf(type) === group && kinds.includes(kindOf(type) ?? "");
}

export function isWorkloadType(type: string): boolean {
    return (
        isKind(type, "apps", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet") ||
        isKind(type, "batch", "Job", "CronJob") ||
        isKind(type, "", "Pod")
    );
}

export const isRole = (type: string) => isKind(type, "rbac.authorization.k8s.io", "Role", "ClusterRole");
export const isBinding = (type: string) =>
    isKind(type, "rbac.authorization.k8s.io", "RoleBinding", "ClusterRoleBinding");
export const isNetworkPolicy = (type: string) => isKind(type, "networking.k8s.io", "NetworkPolicy");

// ---------------------------------------------------------------------------------------------
// A uniform view of a resource

export interface K8sResource {
    /** Pulumi type token. */
    type: string;
    /** Kubernetes kind, e.g. "Deployment". */
    kind: string;
    /** Pulumi resource name. */
    resourceName: string;
    urn: string;
    /** Properties with the proxy removed (unknown values appear as sentinels). */
    props: Obj;
    /** metadata.name, else the Pulumi resource name. */
    name: string;
    /** metadata.namespace, "default" when absent (cluster-scoped kinds: ""). */
    namespace: string;
    /** "<namespace>/<name>" (or "<name>" for cluster-scoped kinds). */
    id: string;
    labels: Record<string, string>;
}

const CLUSTER_SCOPED = new Set([
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "Node",
    "PersistentVolume",
    "PriorityClass",
    "StorageClass",
    "CustomResourceDefinition",
]);

export function toK8sResource(type: string, props: unknown, resourceName: string, urn = ""): K8sResource {
    const p = obj(props) ?? {};
    const kind = kindOf(type) ?? type;
    const name = str(get(p, "metadata", "name")) ?? resourceName;
    const clusterScoped = CLUSTER_SCOPED.has(kind);
    const namespace = clusterScoped ? "" : str(get(p, "metadata", "namespace")) ?? "default";
    return {
        type,
        kind,
        resourceName,
        urn,
        props: p,
        name,
        namespace,
        id: clusterScoped ? name : `${namespace}/${name}`,
        labels: labelsOf(get(p, "metadata", "labels")),
    };
}

// ---------------------------------------------------------------------------------------------
// Pod templates

/** The pod spec of a workload of any kind: Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob. */
export function podSpecOf(type: string, props: unknown): Obj | undefined {
    const kind = kindOf(type);
    switch (kind) {
        case "Pod":
            return obj(get(props, "spec"));
        case "CronJob":
            return obj(get(props, "spec", "jobTemplate", "spec", "template", "spec"));
        case "Deployment":
        case "StatefulSet":
        case "DaemonSet":
        case "ReplicaSet":
        case "Job":
            return obj(get(props, "spec", "template", "spec"));
        default:
            return undefined;
    }
}

/** Labels of the pods a workload creates (template labels; a Pod's own labels). */
export function podLabelsOf(type: string, props: unknown): Record<string, string> {
    const kind = kindOf(type);
    switch (kind) {
        case "Pod":
            return labelsOf(get(props, "metadata", "labels"));
        case "CronJob":
            return labelsOf(get(props, "spec", "jobTemplate", "spec", "template", "metadata", "labels"));
        default:
            return labelsOf(get(props, "spec", "template", "metadata", "labels"));
    }
}

export interface ContainerRef {
    /** "container" or "initContainer" */
    role: "container" | "initContainer";
    name: string;
    spec: Obj;
}

/** All containers and init containers of a pod spec whose values are known objects. */
export function containersOf(podSpec: Obj | undefined, includeInit = true): ContainerRef[] {
    const out: ContainerRef[] = [];
    if (!podSpec) {
        return out;
    }
    const lists: [ContainerRef["role"], unknown][] = [["container", podSpec.containers]];
    if (includeInit) {
        lists.push(["initContainer", podSpec.initContainers]);
    }
    for (const [role, list] of lists) {
        (arr(list) ?? []).forEach((c, i) => {
            const spec = obj(c);
            if (spec) {
                out.push({ role, name: str(spec.name) ?? `#${i}`, spec });
            }
        });
    }
    return out;
}

export function describeContainer(c: ContainerRef): string {
    return c.role === "initContainer" ? `init container "${c.name}"` : `container "${c.name}"`;
}

// ---------------------------------------------------------------------------------------------
// Quantities

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** Parses a Kubernetes quantity ("250m", "1.5", "128Mi", "1e3") to a number; undefined when not parseable/unknown. */
export function parseQuantity(v: unknown): number | undefined {
    if (typeof v === "number") {
        return Number.isFinite(v) ? v : undefined;
    }
    const s = str(v);
    if (s === undefined) {
        return undefined;
    }
    const m = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/.exec(s.trim());
    if (!m) {
        return undefined;
    }
    const n = Number(m[1]);
    const suffix = m[2] ?? "";
    const factor = BINARY[suffix] ?? DECIMAL[suffix];
    return factor === undefined ? undefined : n * factor;
}

// ---------------------------------------------------------------------------------------------
// Label selectors

export interface Requirement {
    key: string;
    operator: string;
    values: string[];
}

/** A label selector; `unknown` is true when some part of it is unknown (treat the result as uncertain). */
export interface Selector {
    matchLabels: Record<string, string>;
    requirements: Requirement[];
    unknown: boolean;
}

export function parseSelector(v: unknown): Selector {
    const sel: Selector = { matchLabels: {}, requirements: [], unknown: false };
    if (isUnknown(v)) {
        sel.unknown = true;
        return sel;
    }
    const o = obj(v);
    if (!o) {
        return sel;
    }
    const ml = obj(o.matchLabels);
    if (isUnknown(o.matchLabels)) {
        sel.unknown = true;
    }
    for (const [k, val] of Object.entries(ml ?? {})) {
        const s = str(unwrap(val));
        if (s === undefined) {
            sel.unknown = true;
        } else {
            sel.matchLabels[k] = s;
        }
    }
    if (isUnknown(o.matchExpressions)) {
        sel.unknown = true;
    }
    for (const e of arr(o.matchExpressions) ?? []) {
        const key = str(get(e, "key"));
        const operator = str(get(e, "operator"));
        if (!key || !operator) {
            sel.unknown = true;
            continue;
        }
        const values = (arr(get(e, "values")) ?? []).map((x) => str(unwrap(x))).filter((x): x is string => !!x);
        sel.requirements.push({ key, operator, values });
    }
    return sel;
}

export function selectorIsEmpty(sel: Selector): boolean {
    return !sel.unknown && Object.keys(sel.matchLabels).length === 0 && sel.requirements.length === 0;
}

export function selectorMatches(sel: Selector, labels: Record<string, string>): boolean {
    for (const [k, v] of Object.entries(sel.matchLabels)) {
        if (labels[k] !== v) {
            return false;
        }
    }
    for (const r of sel.requirements) {
        const has = Object.prototype.hasOwnProperty.call(labels, r.key);
        switch (r.operator) {
            case "In":
                if (!has || !r.values.includes(labels[r.key])) return false;
                break;
            case "NotIn":
                if (has && r.values.includes(labels[r.key])) return false;
                break;
            case "Exists":
                if (!has) return false;
                break;
            case "DoesNotExist":
                if (has) return false;
                break;
            default:
                return false;
        }
    }
    return true;
}

export function describeSelector(sel: Selector): string {
    const parts = Object.entries(sel.matchLabels).map(([k, v]) => `${k}=${v}`);
    for (const r of sel.requirements) {
        parts.push(
            r.operator === "Exists" ? r.key : r.operator === "DoesNotExist" ? `!${r.key}` : `${r.key} ${r.operator} (${r.values.join(",")})`,
        );
    }
    return parts.length ? parts.join(",") : "all";
}
