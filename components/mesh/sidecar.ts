/**
 * The size of the istio-proxy that Istio injects into a pod, set on the pod itself.
 *
 * The capacity check (components/systems/greenfield/plan.ts) counts one istio-proxy per pod at
 * `mesh.sidecarResources` against the namespace's quota and LimitRange. Without these annotations
 * the injector would use the cluster's `values.global.proxy.resources`, which may differ from what
 * was checked; with them, every pod gets exactly the checked size, whatever the cluster's default.
 */
import * as pulumi from "@pulumi/pulumi";
import { ResourceSpec } from "../k8s/container";

/** Istio's per-pod overrides of the injected proxy's resources. */
export function sidecarResourceAnnotations(r: ResourceSpec): Record<string, string> {
    return {
        "sidecar.istio.io/proxyCPU": r.requests.cpu,
        "sidecar.istio.io/proxyMemory": r.requests.memory,
        "sidecar.istio.io/proxyCPULimit": r.limits.cpu,
        "sidecar.istio.io/proxyMemoryLimit": r.limits.memory,
    };
}

/** Where each kind of workload keeps its pod template's annotations. */
const POD_ANNOTATIONS_PATH: Record<string, string[]> = {
    "kubernetes:apps/v1:Deployment": ["spec", "template", "metadata", "annotations"],
    "kubernetes:apps/v1:StatefulSet": ["spec", "template", "metadata", "annotations"],
    "kubernetes:apps/v1:DaemonSet": ["spec", "template", "metadata", "annotations"],
    "kubernetes:batch/v1:Job": ["spec", "template", "metadata", "annotations"],
    "kubernetes:batch/v1:CronJob": ["spec", "jobTemplate", "spec", "template", "metadata", "annotations"],
};

/** `value` with `add` merged into the object at `path`; an Output on the way is merged inside it. */
function mergeAt(value: unknown, path: string[], add: Record<string, string>): unknown {
    if (pulumi.Output.isInstance(value)) {
        return value.apply(v => mergeAt(v, path, add));
    }
    const obj = (value ?? {}) as Record<string, unknown>;
    if (path.length === 0) {
        return { ...obj, ...add };
    }
    const [head, ...rest] = path;
    return { ...obj, [head]: mergeAt(obj[head], rest, add) };
}

/**
 * A transformation for a system's component: every pod template among its descendants gets the
 * sidecar annotations of `r` (pods of Deployments, StatefulSets, DaemonSets, Jobs and CronJobs).
 */
export function sidecarSizing(r: ResourceSpec): pulumi.ResourceTransformation {
    const annotations = sidecarResourceAnnotations(r);
    return ({ type, props, opts }) => {
        const path = POD_ANNOTATIONS_PATH[type];
        return path === undefined ? undefined : { props: mergeAt(props, path, annotations) as pulumi.Inputs, opts };
    };
}
