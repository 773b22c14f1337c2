// RBAC rules: roles, bindings and the service accounts workloads run as.
import { arr, get, isBinding, isKind, isRole, isUnknown, isWorkloadType, K8sResource, obj, podSpecOf, probe, str, T, unwrap } from "./lib/k8s";
import { inAllowList, resourceRule, stackRule, stringList } from "./lib/policy";

// ---------------------------------------------------------------------------------------------
// Reading role rules

export interface RbacRule {
    apiGroups: string[];
    resources: string[];
    verbs: string[];
    resourceNames: string[];
    nonResourceURLs: string[];
    /** True when some list of the rule holds an unknown value. */
    unknown: boolean;
}

function knownStrings(v: unknown): { values: string[]; unknown: boolean } {
    if (isUnknown(v)) {
        return { values: [], unknown: true };
    }
    let unknown = false;
    const values: string[] = [];
    for (const x of arr(v) ?? []) {
        const s = str(unwrap(x));
        if (s === undefined) {
            unknown = true;
        } else {
            values.push(s);
        }
    }
    return { values, unknown };
}

export function rulesOf(props: unknown): RbacRule[] {
    const out: RbacRule[] = [];
    for (const r of arr(get(props, "rules")) ?? []) {
        if (!obj(r)) {
            continue;
        }
        const g = knownStrings(get(r, "apiGroups"));
        const res = knownStrings(get(r, "resources"));
        const v = knownStrings(get(r, "verbs"));
        const rn = knownStrings(get(r, "resourceNames"));
        const nr = knownStrings(get(r, "nonResourceURLs"));
        out.push({
            apiGroups: g.values,
            resources: res.values,
            verbs: v.values.map((x) => x.toLowerCase()),
            resourceNames: rn.values,
            nonResourceURLs: nr.values,
            unknown: g.unknown || res.unknown || v.unknown || rn.unknown || nr.unknown,
        });
    }
    return out;
}

export const READ_VERBS = ["get", "list", "watch"];
export const CRUD_VERBS = ["get", "list", "watch", "create", "update", "patch", "delete"];
const WRITE_VERBS = ["create", "update", "patch", "delete", "deletecollection", "escalate", "bind", "impersonate", "*"];

function coversCoreResource(rule: RbacRule, resource: string): boolean {
    const group = rule.apiGroups.includes("") || rule.apiGroups.includes("*");
    return group && (rule.resources.includes(resource) || rule.resources.includes("*"));
}

export function grantsWrite(rules: RbacRule[]): boolean {
    return rules.some((r) => r.verbs.some((v) => WRITE_VERBS.includes(v)));
}

const roleTypes = (type: string) => isRole(type);

// ---------------------------------------------------------------------------------------------
// rbac-no-wildcards

export const rbacNoWildcards = resourceRule({
    name: "rbac-no-wildcards",
    description: "Roles and ClusterRoles grant named verbs on named resources of named API groups: no '*'.",
    remediationSteps:
        "Replace every '*' in the role's rules (verbs, resources, apiGroups, nonResourceURLs) with the explicit list the workload needs.",
    severity: "high",
    tags: ["rbac"],
    defaults: {},
    appliesTo: roleTypes,
    check: (res, _cfg, report) => {
        rulesOf(res.props).forEach((r, i) => {
            const fields: [string, string[]][] = [
                ["verbs", r.verbs],
                ["resources", r.resources],
                ["apiGroups", r.apiGroups],
                ["nonResourceURLs", r.nonResourceURLs],
            ];
            for (const [field, values] of fields) {
                if (values.some((v) => v === "*" || v.endsWith("/*"))) {
                    report(`rule ${i} uses a wildcard in ${field}`);
                }
            }
        });
    },
});

// ---------------------------------------------------------------------------------------------
// rbac-no-cluster-admin-binding

export const rbacNoClusterAdminBinding = resourceRule({
    name: "rbac-no-cluster-admin-binding",
    description: "No RoleBinding or ClusterRoleBinding refers to cluster-admin (or another forbidden built-in super-role).",
    remediationSteps: "Bind a Role with the minimal verbs the subject needs instead of cluster-admin.",
    severity: "critical",
    tags: ["rbac"],
    defaults: { forbiddenRoles: ["cluster-admin"] as string[] },
    schema: { forbiddenRoles: stringList },
    appliesTo: isBinding,
    check: (res, cfg, report) => {
        const roleName = str(get(res.props, "roleRef", "name"));
        if (roleName && cfg.forbiddenRoles.includes(roleName)) {
            report(`binds the forbidden role "${roleName}"`);
        }
    },
});

// ---------------------------------------------------------------------------------------------
// rbac-no-cluster-wide-write (stack)

export const rbacNoClusterWideWrite = stackRule({
    name: "rbac-no-cluster-wide-write",
    description: "No ClusterRoleBinding grants a ClusterRole with write verbs cluster-wide (unless allow-listed).",
    remediationSteps:
        "Bind the ClusterRole with a namespaced RoleBinding, or split the write verbs into a namespaced Role; allow-list only controllers that must write cluster-wide (e.g. sealed-secrets).",
    severity: "critical",
    tags: ["rbac"],
    defaults: {
        allowedClusterRoles: ["sealed-secrets-controller", "secrets-unsealer"] as string[],
        builtinWriteRoles: ["cluster-admin", "admin", "edit"] as string[],
    },
    schema: { allowedClusterRoles: stringList, builtinWriteRoles: stringList },
    check: (resources, cfg, report) => {
        const clusterRoles = new Map<string, K8sResource>();
        for (const r of resources) {
            if (isKind(r.type, "rbac.authorization.k8s.io", "ClusterRole")) {
                clusterRoles.set(r.name, r);
            }
        }
        for (const b of resources) {
            if (!isKind(b.type, "rbac.authorization.k8s.io", "ClusterRoleBinding")) {
                continue;
            }
            const roleName = str(get(b.props, "roleRef", "name"));
            if (!roleName || cfg.allowedClusterRoles.includes(roleName)) {
                continue;
            }
            const role = clusterRoles.get(roleName);
            if (role && inAllowList(role, cfg.allowedClusterRoles)) {
                continue;
            }
            const writes = role ? grantsWrite(rulesOf(role.props)) : cfg.builtinWriteRoles.includes(roleName);
            if (writes) {
                report(`ClusterRoleBinding ${b.name} grants write access cluster-wide through ClusterRole "${roleName}"`, b.urn);
            }
        }
    },
});

// ---------------------------------------------------------------------------------------------
// rbac-no-escalation-verbs

export const rbacNoEscalationVerbs = resourceRule({
    name: "rbac-no-escalation-verbs",
    description: "Roles never grant the escalate, bind or impersonate verbs.",
    remediationSteps: "Remove escalate, bind and impersonate from the role's verbs.",
    severity: "critical",
    tags: ["rbac"],
    defaults: {},
    appliesTo: roleTypes,
    check: (res, _cfg, report) => {
        rulesOf(res.props).forEach((r, i) => {
            for (const v of r.verbs.filter((x) => ["escalate", "bind", "impersonate"].includes(x))) {
                report(`rule ${i} grants the "${v}" verb`);
            }
        });
    },
});

// ---------------------------------------------------------------------------------------------
// rbac-no-pod-exec

export const rbacNoPodExec = resourceRule({
    name: "rbac-no-pod-exec",
    description: "Roles never grant pods/exec or pods/attach.",
    remediationSteps: "Remove pods/exec and pods/attach from the role's resources; debug through logs and metrics.",
    severity: "high",
    tags: ["rbac"],
    defaults: {},
    appliesTo: roleTypes,
    check: (res, _cfg, report) => {
        rulesOf(res.props).forEach((r, i) => {
            for (const sub of ["pods/exec", "pods/attach"]) {
                if (r.resources.includes(sub) || r.resources.includes("pods/*")) {
                    report(`rule ${i} grants ${sub}`);
                }
            }
        });
    },
});

// ---------------------------------------------------------------------------------------------
// rbac-secrets-read-only

export const rbacSecretsReadOnly = resourceRule({
    name: "rbac-secrets-read-only",
    description: "Roles only read secrets (get, list, watch); writing secrets needs an allow-list entry.",
    remediationSteps:
        "Limit the verbs on secrets to get, list and watch, or add the role (name or namespace/name) to allowedRoles if it must write secrets.",
    severity: "high",
    tags: ["rbac"],
    defaults: { allowedRoles: ["sealed-secrets-controller", "secrets-unsealer"] as string[] },
    schema: { allowedRoles: stringList },
    appliesTo: roleTypes,
    check: (res, cfg, report) => {
        if (inAllowList(res, cfg.allowedRoles)) {
            return;
        }
        rulesOf(res.props).forEach((r, i) => {
            if (!coversCoreResource(r, "secrets")) {
                return;
            }
            const writes = r.verbs.filter((v) => !READ_VERBS.includes(v));
            if (writes.length > 0) {
                report(`rule ${i} grants ${writes.join(", ")} on secrets`);
            }
        });
    },
});

// ---------------------------------------------------------------------------------------------
// rbac-cluster-role-allow-list

const DISCOVERY_RESOURCES = ["nodes", "nodes/metrics", "services", "endpoints", "endpointslices", "pods", "ingresses"];
/** The kubelet's endpoints through the API server's node proxy: `get` only (a scrape), never create (exec, port-forward). */
const KUBELET_PROXY = "nodes/proxy";

/**
 * What kube-state-metrics may list and watch: workload, storage and scaling objects. Never Secrets
 * or ConfigMaps (their contents), never RBAC objects.
 */
const INVENTORY_RESOURCES = [
    "pods", "nodes", "namespaces", "services", "endpoints", "persistentvolumeclaims", "persistentvolumes", "resourcequotas", "limitranges",
    "replicationcontrollers", "deployments", "statefulsets", "daemonsets", "replicasets", "jobs", "cronjobs", "horizontalpodautoscalers",
    "poddisruptionbudgets", "networkpolicies", "ingresses", "storageclasses",
];

/** True when the rules only list and watch inventory resources (the kube-state-metrics role). */
export function isReadOnlyInventory(rules: RbacRule[]): boolean {
    return rules.length > 0 && rules.every((r) =>
        !r.unknown && r.nonResourceURLs.length === 0 && r.verbs.length > 0 && r.verbs.every((v) => v === "list" || v === "watch") &&
        r.resources.length > 0 && r.resources.every((x) => INVENTORY_RESOURCES.includes(x)));
}

/** True when the rules only read discovery resources (the Prometheus read-only discovery role). */
export function isReadOnlyDiscovery(rules: RbacRule[]): boolean {
    if (rules.length === 0) {
        return false;
    }
    return rules.every((r) => {
        if (r.unknown || r.verbs.length === 0 || !r.verbs.every((v) => READ_VERBS.includes(v) || v === "get")) {
            return false;
        }
        if (r.nonResourceURLs.length > 0) {
            return r.resources.length === 0 && r.nonResourceURLs.every((u) => u === "/metrics") && r.verbs.every((v) => v === "get");
        }
        if (r.resources.includes(KUBELET_PROXY)) {
            return r.verbs.every((v) => v === "get") && r.resources.every((x) => x === KUBELET_PROXY || x === "nodes/metrics");
        }
        return r.resources.length > 0 && r.resources.every((x) => DISCOVERY_RESOURCES.includes(x));
    });
}

export const rbacClusterRoleAllowList = resourceRule({
    name: "rbac-cluster-role-allow-list",
    description:
        "ClusterRoles exist only when allow-listed (by default the Prometheus read-only discovery role, with `get` on nodes/proxy for the kubelet's metrics, kube-state-metrics' list/watch inventory role and the sealed-secrets controller role).",
    remediationSteps:
        "Use a namespaced Role instead; if a ClusterRole is really needed, add its name to allowedClusterRoles in the policy config.",
    severity: "high",
    tags: ["rbac"],
    defaults: {
        allowedClusterRoles: ["prometheus-discovery", "sealed-secrets-controller", "secrets-unsealer"] as string[],
        allowReadOnlyDiscovery: true,
    },
    schema: { allowedClusterRoles: stringList, allowReadOnlyDiscovery: { type: "boolean" } },
    appliesTo: (type) => isKind(type, "rbac.authorization.k8s.io", "ClusterRole"),
    check: (res, cfg, report) => {
        if (inAllowList(res, cfg.allowedClusterRoles)) {
            return;
        }
        if (cfg.allowReadOnlyDiscovery && (isReadOnlyDiscovery(rulesOf(res.props)) || isReadOnlyInventory(rulesOf(res.props)))) {
            return;
        }
        report(`ClusterRole "${res.name}" is not in the allow-list (${cfg.allowedClusterRoles.join(", ")})`);
    },
});

// ---------------------------------------------------------------------------------------------
// rbac-deployer-roles (exact grants of the designs)

export interface Grant {
    /** API group; null = any non-core group (a CRD whose group the design does not name). */
    group: string | null;
    resource: string;
    verbs: string[];
}

/** restapi-operator.md "RBAC Configuration". */
export const RESTAPI_DEPLOYER: Grant[] = [
    { group: null, resource: "restapis", verbs: CRUD_VERBS },
    { group: "apps", resource: "deployments", verbs: CRUD_VERBS },
    { group: "", resource: "services", verbs: CRUD_VERBS },
    { group: "autoscaling", resource: "horizontalpodautoscalers", verbs: CRUD_VERBS },
    { group: "", resource: "configmaps", verbs: CRUD_VERBS },
    { group: "", resource: "secrets", verbs: READ_VERBS },
];

/** database-operator.md "RBAC Permissions". */
export const DATABASE_DEPLOYER: Grant[] = [
    { group: "database-operator.io", resource: "databases", verbs: CRUD_VERBS },
    { group: "database-operator.io", resource: "databases/status", verbs: ["get", "update", "patch"] },
    { group: "database-operator.io", resource: "databases/finalizers", verbs: ["update"] },
    { group: "apps", resource: "statefulsets", verbs: CRUD_VERBS },
    { group: "apps", resource: "deployments", verbs: CRUD_VERBS },
    { group: "", resource: "services", verbs: CRUD_VERBS },
    { group: "", resource: "configmaps", verbs: CRUD_VERBS },
    { group: "", resource: "persistentvolumeclaims", verbs: CRUD_VERBS },
    { group: "", resource: "secrets", verbs: READ_VERBS },
];

export const DEPLOYER_LABEL = "platform.io/deployer";
export const DEPLOYER_GRANTS: Record<string, Grant[]> = { restapi: RESTAPI_DEPLOYER, database: DATABASE_DEPLOYER };

/** Compares the rules of a role with the expected grants; returns human-readable differences. */
export function compareGrants(rules: RbacRule[], expected: Grant[]): string[] {
    const want = new Map<string, Grant>();
    for (const g of expected) {
        want.set(g.resource, g);
    }
    const have = new Set<string>();
    const problems: string[] = [];
    for (const r of rules) {
        if (r.nonResourceURLs.length > 0) {
            problems.push(`grants non-resource URLs ${r.nonResourceURLs.join(", ")} (the design lists none)`);
        }
        if (r.resourceNames.length > 0) {
            problems.push(`restricts rules to resourceNames ${r.resourceNames.join(", ")} (the design grants whole resources)`);
        }
        for (const group of r.apiGroups) {
            for (const resource of r.resources) {
                const g = want.get(resource);
                for (const verb of r.verbs) {
                    if (!g || !g.verbs.includes(verb)) {
                        problems.push(`grants "${verb}" on ${resource} which the design does not list`);
                        continue;
                    }
                    const groupOk = g.group === null ? group !== "" && group !== "*" : group === g.group;
                    if (!groupOk) {
                        problems.push(`grants ${resource} in API group "${group}" (expected ${g.group === null ? "the CRD's group" : `"${g.group}"`})`);
                        continue;
                    }
                    have.add(`${resource}:${verb}`);
                }
            }
        }
    }
    for (const g of expected) {
        const missing = g.verbs.filter((v) => !have.has(`${g.resource}:${v}`));
        if (missing.length > 0) {
            problems.push(`lacks ${missing.join(", ")} on ${g.resource} which the design lists`);
        }
    }
    return [...new Set(problems)];
}

export const rbacDeployerRoles = resourceRule({
    name: "rbac-deployer-roles",
    description:
        "Roles labelled platform.io/deployer=restapi|database grant exactly the verbs of restapi-operator.md / database-operator.md: no more, no less.",
    remediationSteps:
        "Make the role's rules equal the design's RBAC table: CRUD (get, list, watch, create, update, patch, delete) on the listed resources and get, list, watch on secrets.",
    severity: "high",
    tags: ["rbac"],
    defaults: {},
    appliesTo: roleTypes,
    check: (res, _cfg, report) => {
        const deployer = res.labels[DEPLOYER_LABEL];
        if (!deployer) {
            return;
        }
        const expected = DEPLOYER_GRANTS[deployer];
        if (!expected) {
            report(`unknown deployer "${deployer}" (expected one of ${Object.keys(DEPLOYER_GRANTS).join(", ")})`);
            return;
        }
        const rulesTri = probe(res.props, "rules");
        if (rulesTri.state === "unknown") {
            return;
        }
        const rules = rulesOf(res.props);
        if (rules.some((r) => r.unknown)) {
            return;
        }
        for (const p of compareGrants(rules, expected)) {
            report(`${deployer} deployer role ${p}`);
        }
    },
});

// ---------------------------------------------------------------------------------------------
// rbac-no-default-service-account

export const rbacNoDefaultServiceAccount = resourceRule({
    name: "rbac-no-default-service-account",
    description: "Workloads run under their own ServiceAccount, never the namespace's default one.",
    remediationSteps: "Create a ServiceAccount for the workload and set spec.serviceAccountName in its pod template.",
    severity: "medium",
    tags: ["rbac"],
    defaults: {},
    appliesTo: isWorkloadType,
    check: (res, _cfg, report) => {
        const spec = podSpecOf(res.type, res.props);
        if (!spec) {
            return;
        }
        const sa = probe(spec, "serviceAccountName");
        const legacy = probe(spec, "serviceAccount");
        if (sa.state === "unknown" || (sa.state === "absent" && legacy.state === "unknown")) {
            return;
        }
        const name = sa.state === "known" ? str(sa.value) : legacy.state === "known" ? str(legacy.value) : undefined;
        if (!name || name === "default") {
            report("runs under the default ServiceAccount; set serviceAccountName");
        }
    },
});

// ---------------------------------------------------------------------------------------------
// rbac-token-automount (stack)

function boundServiceAccounts(resources: K8sResource[]): Set<string> {
    const bound = new Set<string>();
    for (const b of resources) {
        if (!isBinding(b.type)) {
            continue;
        }
        const defaultNs = b.kind === "RoleBinding" ? b.namespace : "";
        for (const s of arr(get(b.props, "subjects")) ?? []) {
            if (str(get(s, "kind")) !== "ServiceAccount") {
                continue;
            }
            const name = str(get(s, "name"));
            const ns = str(get(s, "namespace")) ?? defaultNs;
            if (name) {
                bound.add(`${ns}/${name}`);
            }
        }
    }
    return bound;
}

export const rbacTokenAutomount = stackRule({
    name: "rbac-token-automount",
    description: "ServiceAccount tokens are not mounted into pods unless the ServiceAccount is bound to a Role.",
    remediationSteps:
        "Set automountServiceAccountToken: false on the ServiceAccount (and do not force it to true in the pod spec) unless a RoleBinding/ClusterRoleBinding grants it access to the API.",
    severity: "medium",
    tags: ["rbac"],
    defaults: {},
    check: (resources, _cfg, report) => {
        const bound = boundServiceAccounts(resources);
        for (const sa of resources.filter((r) => r.type === T.ServiceAccount || isKind(r.type, "", "ServiceAccount"))) {
            const v = probe(sa.props, "automountServiceAccountToken");
            if (v.state === "unknown") {
                continue;
            }
            const mounts = !(v.state === "known" && v.value === false);
            if (mounts && !bound.has(sa.id)) {
                report(`ServiceAccount ${sa.id} mounts its API token but is bound to no Role; set automountServiceAccountToken: false`, sa.urn);
            }
        }
        for (const w of resources.filter((r) => isWorkloadType(r.type))) {
            const spec = podSpecOf(w.type, w.props);
            if (!spec) {
                continue;
            }
            const saName = str(spec.serviceAccountName) ?? str(spec.serviceAccount) ?? "default";
            const saId = `${w.namespace}/${saName}`;
            if (spec.automountServiceAccountToken === true && !bound.has(saId)) {
                report(`${w.kind} ${w.id} forces automountServiceAccountToken: true but ServiceAccount ${saId} is bound to no Role`, w.urn);
            }
        }
    },
});

export const rbacPolicies = {
    "rbac-no-wildcards": rbacNoWildcards,
    "rbac-no-cluster-admin-binding": rbacNoClusterAdminBinding,
    "rbac-no-cluster-wide-write": rbacNoClusterWideWrite,
    "rbac-no-escalation-verbs": rbacNoEscalationVerbs,
    "rbac-no-pod-exec": rbacNoPodExec,
    "rbac-secrets-read-only": rbacSecretsReadOnly,
    "rbac-cluster-role-allow-list": rbacClusterRoleAllowList,
    "rbac-deployer-roles": rbacDeployerRoles,
    "rbac-no-default-service-account": rbacNoDefaultServiceAccount,
    "rbac-token-automount": rbacTokenAutomount,
};
