/**
 * Capacity checks of a namespace against what its workloads ask for: the ResourceQuota must hold
 * the pods, and the LimitRange max must admit every container. Errors name the quota or limit key.
 */
import { ResourceSpec } from "./container";
import { LimitRangeSpec, QuotaSpec } from "./namespace";
import { parseQuantity } from "./quantity";
import { ValidationError } from "./validation";

/** What a namespace must hold: sums over its pods and claims. */
export interface Budget {
    requestsCpu: number;
    requestsMemory: number;
    limitsCpu: number;
    limitsMemory: number;
    requestsStorage: number;
    pods: number;
    persistentVolumeClaims: number;
}

/** `pods` pods of one workload, each asking for `resources` (its main container) plus its `sidecars`. */
export interface PodGroup {
    pods: number;
    resources: ResourceSpec;
    sidecars?: readonly ResourceSpec[];
}

/** Pods a Deployment runs at most during a rolling update with the default maxSurge 25% (rounded up). */
export const withSurge = (replicas: number): number => replicas + Math.ceil(replicas * 0.25);

export function budgetOf(groups: PodGroup[], claims: string[]): Budget {
    const sum = (f: (r: ResourceSpec) => string) => groups.reduce((t, g) =>
        t + g.pods * [g.resources, ...(g.sidecars ?? [])].reduce((pod, r) => pod + parseQuantity(f(r))!, 0), 0);
    return {
        requestsCpu: sum(r => r.requests.cpu),
        requestsMemory: sum(r => r.requests.memory),
        limitsCpu: sum(r => r.limits.cpu),
        limitsMemory: sum(r => r.limits.memory),
        requestsStorage: claims.reduce((t, c) => t + parseQuantity(c)!, 0),
        pods: groups.reduce((t, g) => t + g.pods, 0),
        persistentVolumeClaims: claims.length,
    };
}

function show(kind: "cpu" | "memory" | "count", v: number): string {
    if (kind === "cpu") {
        return `${Math.round(v * 1000)}m`;
    }
    if (kind === "memory") {
        return `${Math.ceil(v / 2 ** 20)}Mi`;
    }
    return String(v);
}

/** The namespace quota (at `key`) must hold `need`; `what` says which load, e.g. "for the system at its peak (...)". */
export function requireQuotaFits(key: string, q: QuotaSpec, need: Budget, what: string): void {
    const checks: [keyof Budget, number, "cpu" | "memory" | "count"][] = [
        ["requestsCpu", parseQuantity(q.requestsCpu)!, "cpu"],
        ["requestsMemory", parseQuantity(q.requestsMemory)!, "memory"],
        ["limitsCpu", parseQuantity(q.limitsCpu)!, "cpu"],
        ["limitsMemory", parseQuantity(q.limitsMemory)!, "memory"],
        ["requestsStorage", parseQuantity(q.requestsStorage)!, "memory"],
        ["pods", q.pods, "count"],
        ["persistentVolumeClaims", q.persistentVolumeClaims, "count"],
    ];
    for (const [field, have, kind] of checks) {
        if (have < need[field] - 1e-9) {
            throw new ValidationError(`${key}.${field}`,
                `${JSON.stringify(q[field])} is too small ${what}; allowed: at least ${show(kind, need[field])}`);
        }
    }
}

/** No container may ask for more than the LimitRange max (at `key`, the max object), or the API server refuses its pods. */
export function requireLimitRangeFits(key: string, limits: LimitRangeSpec, containers: [string, ResourceSpec][]): void {
    for (const kind of ["cpu", "memory"] as const) {
        const max = parseQuantity(limits.max[kind])!;
        for (const [name, r] of containers) {
            if (parseQuantity(r.limits[kind])! > max) {
                throw new ValidationError(`${key}.${kind}`,
                    `${JSON.stringify(limits.max[kind])} is below the ${name} limit ${r.limits[kind]}; allowed: at least the largest container limit`);
            }
        }
    }
}
