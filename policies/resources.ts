// Resource rules: container requests/limits, HPAs, StatefulSet volume claims, quotas and limit ranges.
import {
    arr,
    containersOf,
    ContainerRef,
    describeContainer,
    get,
    isKind,
    isWorkloadType,
    num,
    parseQuantity,
    podSpecOf,
    probe,
    str,
} from "./lib/k8s";
import { resourceRule, stackRule, stringList } from "./lib/policy";

type Res = "cpu" | "memory";
type Field = "requests" | "limits";

/** Reads resources.<field>.<res> of a container: a number, "absent", or "unknown". */
function quantity(c: ContainerRef, field: Field, res: Res): number | "absent" | "unknown" {
    const p = probe(c.spec, "resources", field, res);
    if (p.state !== "known") {
        return p.state;
    }
    const n = parseQuantity(p.value);
    return n === undefined ? "unknown" : n;
}

// ---------------------------------------------------------------------------------------------
// container-resources-required

export const containerResourcesRequired = resourceRule({
    name: "container-resources-required",
    description: "Every container and init container sets CPU and memory requests and limits.",
    remediationSteps: "Set resources.requests.cpu, resources.requests.memory, resources.limits.cpu and resources.limits.memory on every container.",
    severity: "high",
    tags: ["resources"],
    defaults: {},
    appliesTo: isWorkloadType,
    check: (res, _cfg, report) => {
        for (const c of containersOf(podSpecOf(res.type, res.props))) {
            const missing: string[] = [];
            for (const field of ["requests", "limits"] as Field[]) {
                for (const r of ["cpu", "memory"] as Res[]) {
                    if (quantity(c, field, r) === "absent") {
                        missing.push(`${field}.${r}`);
                    }
                }
            }
            if (missing.length > 0) {
                report(`${describeContainer(c)} has no ${missing.join(", ")}`);
            }
        }
    },
});

// ---------------------------------------------------------------------------------------------
// container-limits-above-requests

export const containerLimitsAboveRequests = resourceRule({
    name: "container-limits-above-requests",
    description: "A container's CPU and memory limits are at least its requests.",
    remediationSteps: "Raise the limit or lower the request so that limit >= request.",
    severity: "medium",
    tags: ["resources"],
    defaults: {},
    appliesTo: isWorkloadType,
    check: (res, _cfg, report) => {
        for (const c of containersOf(podSpecOf(res.type, res.props))) {
            for (const r of ["cpu", "memory"] as Res[]) {
                const req = quantity(c, "requests", r);
                const lim = quantity(c, "limits", r);
                if (typeof req === "number" && typeof lim === "number" && lim < req) {
                    report(`${describeContainer(c)} has a ${r} limit below its request`);
                }
            }
        }
    },
});

// ---------------------------------------------------------------------------------------------
// container-memory-ratio

export const containerMemoryRatio = resourceRule({
    name: "container-memory-ratio",
    description: "A container's memory limit is at most maxMemoryLimitRequestRatio times its memory request.",
    remediationSteps: "Raise the memory request (or lower the limit) so limit/request stays within the configured ratio.",
    severity: "low",
    tags: ["resources"],
    defaults: { maxMemoryLimitRequestRatio: 2 },
    schema: { maxMemoryLimitRequestRatio: { type: "number", minimum: 1 } },
    appliesTo: isWorkloadType,
    check: (res, cfg, report) => {
        for (const c of containersOf(podSpecOf(res.type, res.props))) {
            const req = quantity(c, "requests", "memory");
            const lim = quantity(c, "limits", "memory");
            if (typeof req === "number" && typeof lim === "number" && req > 0) {
                const ratio = lim / req;
                if (ratio > cfg.maxMemoryLimitRequestRatio + 1e-9) {
                    report(
                        `${describeContainer(c)} has a memory limit/request ratio of ${+ratio.toFixed(2)}, above ${cfg.maxMemoryLimitRequestRatio}`,
                    );
                }
            }
        }
    },
});

// ---------------------------------------------------------------------------------------------
// hpa-bounds

export const hpaBounds = resourceRule({
    name: "hpa-bounds",
    description: "HorizontalPodAutoscalers scale between 1 <= minReplicas <= maxReplicas <= maxReplicasCap on at least one metric.",
    remediationSteps: "Set minReplicas >= 1, maxReplicas >= minReplicas and <= the cap, and at least one metric (e.g. CPU utilisation).",
    severity: "medium",
    tags: ["resources"],
    defaults: { maxReplicasCap: 20 },
    schema: { maxReplicasCap: { type: "integer", minimum: 1 } },
    appliesTo: (type) => isKind(type, "autoscaling", "HorizontalPodAutoscaler"),
    check: (res, cfg, report) => {
        const spec = res.props.spec;
        const minP = probe(spec, "minReplicas");
        const maxP = probe(spec, "maxReplicas");
        const min = minP.state === "absent" ? 1 : num(minP.state === "known" ? minP.value : undefined);
        const max = maxP.state === "known" ? num(maxP.value) : undefined;
        if (min !== undefined && min < 1) {
            report(`minReplicas is ${min}, below 1`);
        }
        if (maxP.state === "absent") {
            report("has no maxReplicas");
        }
        if (min !== undefined && max !== undefined && min > max) {
            report(`minReplicas ${min} is above maxReplicas ${max}`);
        }
        if (max !== undefined && max > cfg.maxReplicasCap) {
            report(`maxReplicas ${max} is above the cap of ${cfg.maxReplicasCap}`);
        }
        const metrics = probe(spec, "metrics");
        const cpuV1 = probe(spec, "targetCPUUtilizationPercentage");
        if (metrics.state === "unknown" || cpuV1.state === "unknown") {
            return;
        }
        const count = (metrics.state === "known" ? arr(metrics.value)?.length ?? 0 : 0) + (cpuV1.state === "known" ? 1 : 0);
        if (count === 0) {
            report("has no metric target");
        }
    },
});

// ---------------------------------------------------------------------------------------------
// statefulset-storage-requests

export const statefulSetStorageRequests = resourceRule({
    name: "statefulset-storage-requests",
    description: "Every volumeClaimTemplate of a StatefulSet requests a storage size.",
    remediationSteps: "Set spec.resources.requests.storage on each volumeClaimTemplate.",
    severity: "medium",
    tags: ["resources"],
    defaults: {},
    appliesTo: (type) => isKind(type, "apps", "StatefulSet"),
    check: (res, _cfg, report) => {
        (arr(get(res.props, "spec", "volumeClaimTemplates")) ?? []).forEach((t, i) => {
            const name = str(get(t, "metadata", "name")) ?? `#${i}`;
            const p = probe(t, "spec", "resources", "requests", "storage");
            if (p.state === "absent") {
                report(`volumeClaimTemplate "${name}" requests no storage`);
            } else if (p.state === "known" && !((parseQuantity(p.value) ?? 1) > 0)) {
                report(`volumeClaimTemplate "${name}" requests no storage`);
            }
        });
    },
});

// ---------------------------------------------------------------------------------------------
// namespace-quota-and-limits (stack)

export const namespaceQuotaAndLimits = stackRule({
    name: "namespace-quota-and-limits",
    description: "Every namespace of the stack (declared or used by a workload) has a ResourceQuota and a LimitRange.",
    remediationSteps: "Add a ResourceQuota and a LimitRange to the namespace (the platform's namespace component creates both).",
    severity: "medium",
    tags: ["resources"],
    defaults: { exemptNamespaces: ["kube-system", "kube-public", "kube-node-lease"] as string[] },
    schema: { exemptNamespaces: stringList },
    check: (resources, cfg, report) => {
        const namespaces = new Map<string, string | undefined>();
        for (const r of resources) {
            if (isKind(r.type, "", "Namespace")) {
                namespaces.set(r.name, r.urn);
            } else if (isWorkloadType(r.type) && !namespaces.has(r.namespace)) {
                namespaces.set(r.namespace, undefined);
            }
        }
        const quotas = new Set(resources.filter((r) => isKind(r.type, "", "ResourceQuota")).map((r) => r.namespace));
        const ranges = new Set(resources.filter((r) => isKind(r.type, "", "LimitRange")).map((r) => r.namespace));
        for (const [ns, urn] of namespaces) {
            if (cfg.exemptNamespaces.includes(ns)) {
                continue;
            }
            if (!quotas.has(ns)) {
                report(`namespace ${ns} has no ResourceQuota`, urn);
            }
            if (!ranges.has(ns)) {
                report(`namespace ${ns} has no LimitRange`, urn);
            }
        }
    },
});

export const resourcePolicies = {
    "container-resources-required": containerResourcesRequired,
    "container-limits-above-requests": containerLimitsAboveRequests,
    "container-memory-ratio": containerMemoryRatio,
    "hpa-bounds": hpaBounds,
    "statefulset-storage-requests": statefulSetStorageRequests,
    "namespace-quota-and-limits": namespaceQuotaAndLimits,
};
