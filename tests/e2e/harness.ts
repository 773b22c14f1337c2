/**
 * End-to-end harness: what only the tests need (timings, live objects against the stack's state,
 * RBAC checks, the blue/green and protected variants), on top of scripts/lib/local-stack (the
 * isolated cluster, broker and `local` stack, shared with the benchmarks).
 *
 * Everything is checked against the API server (kubectl) and the broker (Kafka's admin tools).
 */
import * as fs from "fs";
import * as path from "path";
import { CLUSTER_ENV, E2E_DIR, kubectl, kubectlJson, localConfig, merge, mustRun, ROOT, run, Stack } from "../../scripts/lib/local-stack";

export * from "../../scripts/lib/local-stack";

// ---------------------------------------------------------------- timings

const timings: Array<[string, number]> = [];
export function timed<T extends { seconds: number }>(label: string, r: T): T {
    timings.push([label, r.seconds]);
    console.log(`      [${r.seconds.toFixed(1)}s] ${label}`);
    return r;
}
export function printTimings(): void {
    console.log("\n  e2e timings (s):");
    for (const [label, s] of timings) {
        console.log(`    ${s.toFixed(1).padStart(7)}  ${label}`);
    }
}

/** Pids of the processes started for the e2e cluster/broker (by their state dir on the command line). */
export function leftoverProcesses(): string[] {
    const r = run("ps", ["-eo", "pid=,args="]);
    return r.stdout.split("\n").filter(l => l.includes(E2E_DIR) && !l.includes("ps -eo"));
}

// ---------------------------------------------------------------- kubectl

/** `kubectl auth can-i VERB RESOURCE -n NS --as SA`: true/false (exit 0 yes, 1 no). */
export function canI(sa: string, ns: string, verb: string, resource: string, sub?: string): boolean {
    const r = kubectl("auth", "can-i", verb, resource, ...(sub ? ["--subresource", sub] : []), "-n", ns, "--as", `system:serviceaccount:${ns}:${sa}`);
    if (r.status !== 0 && r.status !== 1) {
        throw new Error(`can-i failed: ${r.output}`);
    }
    return r.stdout.trim() === "yes";
}

/** Kinds a stack creates in its namespaces (objects the cluster generates are filtered out). */
export const STACK_KINDS = [
    "deployments.apps", "statefulsets.apps", "services", "configmaps", "secrets", "serviceaccounts",
    "roles.rbac.authorization.k8s.io", "rolebindings.rbac.authorization.k8s.io", "networkpolicies.networking.k8s.io",
    "horizontalpodautoscalers.autoscaling", "poddisruptionbudgets.policy", "resourcequotas", "limitranges",
    "cronjobs.batch", "ingresses.networking.k8s.io", "persistentvolumeclaims",
];

export interface ObjRef { kind: string; namespace: string; name: string; uid: string }

/** Every object of STACK_KINDS in every namespace but the cluster's own, plus the namespaces themselves. */
export function liveObjects(): ObjRef[] {
    const list = kubectlJson<any>("get", [...STACK_KINDS, "namespaces"].join(","), "-A");
    const system = new Set(["kube-system", "kube-public", "kube-node-lease", "default", "ingress-nginx"]);
    return (list.items as any[])
        .filter(o => !system.has(o.metadata.namespace ?? o.metadata.name))
        .filter(o => !(o.kind === "ConfigMap" && o.metadata.name === "kube-root-ca.crt"))
        .filter(o => !(o.kind === "ServiceAccount" && o.metadata.name === "default"))
        .map(o => ({ kind: o.kind, namespace: o.metadata.namespace ?? "", name: o.metadata.name, uid: o.metadata.uid }));
}
export function key(o: { kind: string; namespace: string; name: string }): string {
    return `${o.kind}/${o.namespace}/${o.name}`;
}

/** The blue/green variant: only the RestAPI system, in namespaces of its own, blue/green on. */
export function blueGreenConfig(active: "blue" | "green"): Record<string, any> {
    const base = localConfig();
    return merge(base, {
        "k8s-platform:databases": null, "k8s-platform:cstore": null, "k8s-platform:outbox": null, "k8s-platform:greenfield": null,
        "k8s-platform:restapi": { name: "shop", namespace: "bg-restapi", observability: { namespace: "bg-monitoring" }, blueGreen: { enabled: true, activeEnvironment: active } },
    });
}

/** The prod-like variant: data protection on, only the database service, in a namespace of its own. */
export function protectedConfig(): Record<string, any> {
    const base = localConfig();
    return merge(base, {
        "k8s-platform:protectData": true,
        "k8s-platform:restapi": null, "k8s-platform:cstore": null, "k8s-platform:outbox": null, "k8s-platform:greenfield": null,
        "k8s-platform:databases": { namespace: "pd-databases", instances: { "orders-cache": null, "orders-mysql": null, "catalog-mongo": null } },
    });
}

/** Live objects whose namespace (or, for Namespaces, name) is one of `namespaces`. */
export function liveIn(namespaces: string[]): ObjRef[] {
    const live = liveObjects().filter(o => namespaces.includes(o.namespace) || (o.kind === "Namespace" && namespaces.includes(o.name)));
    // Claims of StatefulSet volumeClaimTemplates belong to the StatefulSet, not to the stack's state.
    const sts = live.filter(o => o.kind === "StatefulSet").map(o => `${o.namespace}/${o.name}`);
    return live.filter(o => !(o.kind === "PersistentVolumeClaim" && sts.some(s => {
        const [ns, name] = s.split("/");
        return o.namespace === ns && new RegExp(`^[a-z0-9-]+-${name}-\\d+$`).test(o.name);
    })));
}

/**
 * Live objects of the stack's namespaces against the stack's state: `extra` are objects nobody
 * tracks (duplicates, orphans), `missing` are tracked objects that do not exist.
 */
export function compareWithState(stack: Stack, namespaces: string[]): { extra: string[]; missing: string[]; tracked: number } {
    const state = stack.stateObjects();
    const inScope = state.filter(o => namespaces.includes(o.namespace) || (o.kind === "Namespace" && namespaces.includes(o.name)));
    const live = liveIn(namespaces);
    const stateKeys = new Set(inScope.map(key));
    const liveKeys = new Set(live.map(key));
    const missing = inScope.filter(o => !liveKeys.has(key(o))).map(key);
    // Cluster-scoped objects of the stack (ClusterRoles, ...) must exist too.
    for (const o of state.filter(s => s.namespace === "" && s.kind !== "Namespace")) {
        if (kubectl("get", o.kind, o.name, "-o", "name").status !== 0) {
            missing.push(key(o));
        }
    }
    return { extra: live.filter(o => !stateKeys.has(key(o))).map(key), missing, tracked: inScope.length };
}

function exported(stack: Stack): any {
    const r = mustRun(path.join(mustRun(path.join(ROOT, "scripts", "toolchain.sh"), ["--print-path"]).stdout.trim(), "pulumi"),
        ["stack", "export", "--stack", "local"], stack.env());
    return JSON.parse(r.stdout).deployment;
}

export function pendingOperations(stack: Stack): number {
    return (exported(stack).pending_operations ?? []).length;
}

/** The Kafka topics in the stack's state: topic name -> resource ID. */
export function stateTopics(stack: Stack): Record<string, string> {
    return Object.fromEntries(((exported(stack).resources ?? []) as any[])
        .filter(r => r.type === "kafka:index/topic:Topic")
        .map(r => [r.outputs.name, r.id]));
}

/** The stack's checkpoint file in its file backend. */
function checkpointFile(stack: Stack): string {
    return path.join(stack.dir, "backend", ".pulumi", "stacks", "k8s-platform", "local.json");
}

/** The file backend's metadata file beside the checkpoint (content type, checksum). */
export function checkpointAttrs(stack: Stack): string {
    return `${checkpointFile(stack)}.attrs`;
}

/**
 * Topics whose create is pending in the stack's checkpoint file, read from the file while an
 * update runs (the file backend rewrites it on every step; a pending create is written before
 * the provider is called and cleared when the create is recorded).
 */
export function pendingTopicCreates(stack: Stack): string[] {
    const file = checkpointFile(stack);
    let latest: any;
    try {
        latest = JSON.parse(fs.readFileSync(file, "utf8")).checkpoint?.latest;
    } catch {
        return []; // not written yet
    }
    return ((latest?.pending_operations ?? []) as any[])
        .filter(op => op.type === "creating" && op.resource.type === "kafka:index/topic:Topic")
        .map(op => op.resource.inputs.name as string);
}

/** The broker has the topic on disk (its first partition's log directory): no admin client, no JVM start. */
export function topicOnBrokerDisk(topic: string): boolean {
    return fs.existsSync(path.join(CLUSTER_ENV.KAFKA_STATE_DIR!, "data", `${topic}-0`));
}

