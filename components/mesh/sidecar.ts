/**
 * What every pod of a meshed system tells Istio's injector about its istio-proxy.
 *
 * - Its size. The capacity check (components/systems/greenfield/plan.ts) counts one istio-proxy per
 *   pod at `mesh.sidecarResources` against the namespace's quota and LimitRange. Without these
 *   annotations the injector would use the cluster's `values.global.proxy.resources`, which may
 *   differ from what was checked; with them, every pod gets exactly the checked size.
 * - For the pods of Jobs and CronJobs (the backups and their restores), a native sidecar
 *   (`sidecar.istio.io/nativeSidecar`): an init container with restartPolicy Always, which Kubernetes
 *   stops when the pod's own containers are done. A classic sidecar never exits, so the Job would
 *   never complete and, with concurrencyPolicy Forbid, no later backup would start. Istio makes
 *   native sidecars the default only from 1.27; the README's prerequisite is Istio >= 1.22 on
 *   Kubernetes >= 1.29 (SidecarContainers).
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

/** Batch pods: the proxy must stop with the pod's own containers. */
const NATIVE_SIDECAR = { "sidecar.istio.io/nativeSidecar": "true" };
const BATCH_TYPES = new Set(["kubernetes:batch/v1:Job", "kubernetes:batch/v1:CronJob"]);

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
 * A transformation for a system's component: every pod template among its descendants (of
 * Deployments, StatefulSets, DaemonSets, Jobs and CronJobs) gets the proxy size `r`, and those of
 * Jobs and CronJobs a native sidecar.
 */
export function meshPodTemplates(r: ResourceSpec): pulumi.ResourceTransformation {
    const sized = sidecarResourceAnnotations(r);
    return ({ type, props, opts }) => {
        const path = POD_ANNOTATIONS_PATH[type];
        const annotations = BATCH_TYPES.has(type) ? { ...sized, ...NATIVE_SIDECAR } : sized;
        return path === undefined ? undefined : { props: mergeAt(props, path, annotations) as pulumi.Inputs, opts };
    };
}
