// Workload hardening rules (what kube-score and its peers expect): ephemeral storage, distinct
// probes, high UIDs/GIDs, PDB unhealthy-pod policy, topology spread, priority classes, and no
// replica count on a Deployment an HPA scales.
import {
    arr,
    containersOf,
    describeContainer,
    get,
    isKind,
    isUnknown,
    isWorkloadType,
    K8sResource,
    num,
    obj,
    Obj,
    parseQuantity,
    parseSelector,
    podLabelsOf,
    podSpecOf,
    probe,
    selectorIsEmpty,
    selectorMatches,
    str,
    unwrap,
} from "./lib/k8s";
import { resourceRule, stackRule, stringList } from "./lib/policy";

/** Annotation on a workload that documents why it runs with its image's low UID (components/k8s/profile.ts). */
export const UID_EXCEPTION_ANNOTATION = "platform.io/uid-exception";

const EPHEMERAL = "ephemeral-storage";

export const containerEphemeralStorage = resourceRule({
    name: "container-ephemeral-storage",
    description:
        "Every container and init container requests and limits ephemeral-storage (limit >= request), and every emptyDir has a sizeLimit.",
    remediationSteps:
        "Set resources.requests['ephemeral-storage'] and resources.limits['ephemeral-storage'] on every container, and emptyDir.sizeLimit on every emptyDir volume.",
    severity: "high",
    tags: ["resources", "hardening"],
    defaults: {},
    appliesTo: isWorkloadType,
    check: (res, _cfg, report) => {
        const pod = podSpecOf(res.type, res.props);
        for (const c of containersOf(pod)) {
            const req = probe(c.spec, "resources", "requests", EPHEMERAL);
            const lim = probe(c.spec, "resources", "limits", EPHEMERAL);
            const missing = [req.state === "absent" ? `requests.${EPHEMERAL}` : "", lim.state === "absent" ? `limits.${EPHEMERAL}` : ""].filter(Boolean);
            if (missing.length > 0) {
                report(`${describeContainer(c)} has no ${missing.join(", ")}`);
                continue;
            }
            const r = req.state === "known" ? parseQuantity(req.value) : undefined;
            const l = lim.state === "known" ? parseQuantity(lim.value) : undefined;
            if (r !== undefined && l !== undefined && l < r) {
                report(`${describeContainer(c)} has an ${EPHEMERAL} limit below its request`);
            }
        }
        for (const v of arr(pod?.volumes) ?? []) {
            const ed = probe(v, "emptyDir");
            if (ed.state === "known" && probe(v, "emptyDir", "sizeLimit").state === "absent") {
                report(`emptyDir volume "${str(get(v, "name")) ?? "?"}" has no sizeLimit`);
            }
        }
    },
});

/** True when any value inside `v` is unknown (preview). */
function hasUnknown(v: unknown): boolean {
    v = unwrap(v);
    if (isUnknown(v)) {
        return true;
    }
    if (Array.isArray(v)) {
        return v.some(hasUnknown);
    }
    return v !== null && typeof v === "object" ? Object.values(v as Obj).some(hasUnknown) : false;
}

/** The action of a probe (what it checks: httpGet, tcpSocket, exec, grpc), without its timing; undefined when absent or unknown. */
function probeAction(p: unknown): string | undefined {
    const o = obj(p);
    if (!o || hasUnknown(o)) {
        return undefined;
    }
    const action: Record<string, unknown> = {};
    for (const k of ["httpGet", "tcpSocket", "exec", "grpc"]) {
        if (o[k] !== undefined && o[k] !== null) {
            action[k] = o[k];
        }
    }
    return Object.keys(action).length > 0 ? JSON.stringify(action) : undefined;
}

export const podProbesDistinct = resourceRule({
    name: "pod-probes-distinct",
    description:
        "A container's liveness probe checks something other than its readiness probe (readiness: serving; liveness: the process is alive).",
    remediationSteps:
        "Keep the serving check (HTTP endpoint, protocol ping) as readinessProbe and make livenessProbe a cheaper process check (tcpSocket on the port, a PID check), with a longer period and failure threshold.",
    severity: "high",
    tags: ["pod", "hardening"],
    defaults: { exemptKinds: ["Job", "CronJob"] as string[] },
    schema: { exemptKinds: stringList },
    appliesTo: isWorkloadType,
    check: (res, cfg, report) => {
        if (cfg.exemptKinds.includes(res.kind)) {
            return;
        }
        for (const c of containersOf(podSpecOf(res.type, res.props), false)) {
            const live = probeAction(c.spec.livenessProbe);
            const ready = probeAction(c.spec.readinessProbe);
            if (live !== undefined && live === ready) {
                report(`${describeContainer(c)} has identical liveness and readiness probes`);
            }
        }
    },
});

export const podHighUidGid = resourceRule({
    name: "pod-high-uid-gid",
    description:
        "Pods run as UID and GID >= 10000 (runAsUser, runAsGroup, fsGroup), unless the workload documents an exception in the platform.io/uid-exception annotation.",
    remediationSteps:
        "Set securityContext.runAsUser, runAsGroup and fsGroup to 10000 or above; where the image needs its own UID (data directory ownership), annotate the workload with platform.io/uid-exception: <uid>: <reason>.",
    severity: "high",
    tags: ["pod-security", "hardening"],
    defaults: { minId: 10000 },
    schema: { minId: { type: "integer" } },
    appliesTo: isWorkloadType,
    check: (res, cfg, report) => {
        const pod = podSpecOf(res.type, res.props);
        if (!pod) {
            return;
        }
        const exception = str(get(res.props, "metadata", "annotations", UID_EXCEPTION_ANNOTATION));
        if (exception && exception.trim().length > 0) {
            return;
        }
        const podField = (f: string) => probe(pod, "securityContext", f);
        const fs = podField("fsGroup");
        if (fs.state === "absent") {
            report(`sets no fsGroup (expected >= ${cfg.minId})`);
        } else if (fs.state === "known" && (num(fs.value) ?? 0) < cfg.minId) {
            report(`fsGroup ${String(fs.value)} is below ${cfg.minId}`);
        }
        for (const c of containersOf(pod)) {
            for (const f of ["runAsUser", "runAsGroup"]) {
                let v = probe(c.spec, "securityContext", f);
                if (v.state === "absent") {
                    v = podField(f);
                }
                if (v.state === "absent") {
                    report(`${describeContainer(c)} sets no ${f} (expected >= ${cfg.minId})`);
                } else if (v.state === "known" && (num(v.value) ?? 0) < cfg.minId) {
                    report(`${describeContainer(c)} runs with ${f} ${String(v.value)}, below ${cfg.minId}`);
                }
            }
        }
    },
});

export const pdbUnhealthyPodEvictionPolicy = resourceRule({
    name: "pdb-unhealthy-pod-eviction-policy",
    description: "Every PodDisruptionBudget sets unhealthyPodEvictionPolicy (AlwaysAllow or IfHealthyBudget) deliberately.",
    remediationSteps:
        "Set spec.unhealthyPodEvictionPolicy: AlwaysAllow for stateless workloads (a drain never blocks on a crash-looping pod), IfHealthyBudget where a not-Ready pod may be recovering data.",
    severity: "medium",
    tags: ["availability", "hardening"],
    defaults: { allowed: ["AlwaysAllow", "IfHealthyBudget"] as string[] },
    schema: { allowed: stringList },
    appliesTo: (type) => isKind(type, "policy", "PodDisruptionBudget"),
    check: (res, cfg, report) => {
        const p = probe(res.props, "spec", "unhealthyPodEvictionPolicy");
        if (p.state === "absent") {
            report(`sets no unhealthyPodEvictionPolicy (allowed: ${cfg.allowed.join(", ")})`);
        } else if (p.state === "known" && !cfg.allowed.includes(String(p.value))) {
            report(`unhealthyPodEvictionPolicy ${String(p.value)} is not allowed (allowed: ${cfg.allowed.join(", ")})`);
        }
    },
});

export const podPriorityClass = resourceRule({
    name: "pod-priority-class",
    description: "Every pod names a priorityClassName, and none of the cluster's system-critical classes.",
    remediationSteps:
        "Set spec.priorityClassName to one of the platform's PriorityClasses (data-store, service, batch of the stack); system-* classes are for cluster components.",
    severity: "medium",
    tags: ["scheduling", "hardening"],
    defaults: { forbidden: ["system-cluster-critical", "system-node-critical"] as string[] },
    schema: { forbidden: stringList },
    appliesTo: isWorkloadType,
    check: (res, cfg, report) => {
        const pod = podSpecOf(res.type, res.props);
        if (!pod) {
            return;
        }
        const p = probe(pod, "priorityClassName");
        if (p.state === "absent" || (p.state === "known" && String(p.value) === "")) {
            report("sets no priorityClassName");
        } else if (p.state === "known" && cfg.forbidden.includes(String(p.value))) {
            report(`uses the system priority class ${String(p.value)}`);
        }
    },
});

function hpasByTarget(resources: K8sResource[]): Map<string, K8sResource> {
    const out = new Map<string, K8sResource>();
    for (const h of resources.filter((r) => isKind(r.type, "autoscaling", "HorizontalPodAutoscaler"))) {
        const kind = str(get(h.props, "spec", "scaleTargetRef", "kind"));
        const name = str(get(h.props, "spec", "scaleTargetRef", "name"));
        if (kind && name) {
            out.set(`${kind}/${h.namespace}/${name}`, h);
        }
    }
    return out;
}

export const topologySpreadReplicated = stackRule({
    name: "topology-spread-replicated",
    description:
        "A Deployment/StatefulSet with more than one replica (or an HPA maximum above one) spreads its pods over nodes (kubernetes.io/hostname) and zones (topology.kubernetes.io/zone) with constraints that select its pods.",
    remediationSteps:
        "Add spec.template.spec.topologySpreadConstraints: maxSkew 1 on kubernetes.io/hostname (DoNotSchedule) and on topology.kubernetes.io/zone (ScheduleAnyway), labelSelector = the workload's pod labels.",
    severity: "medium",
    tags: ["availability", "hardening"],
    defaults: { topologyKeys: ["kubernetes.io/hostname", "topology.kubernetes.io/zone"] as string[] },
    schema: { topologyKeys: stringList },
    check: (resources, cfg, report) => {
        const hpas = hpasByTarget(resources);
        for (const w of resources.filter((r) => isKind(r.type, "apps", "Deployment", "StatefulSet"))) {
            const rp = probe(w.props, "spec", "replicas");
            if (rp.state === "unknown") {
                continue;
            }
            const hpa = hpas.get(`${w.kind}/${w.namespace}/${w.name}`);
            const max = Math.max(rp.state === "known" ? num(rp.value) ?? 1 : 1, num(get(hpa?.props, "spec", "maxReplicas")) ?? 0);
            if (max <= 1) {
                continue;
            }
            const labels = podLabelsOf(w.type, w.props);
            const constraints = arr(get(podSpecOf(w.type, w.props), "topologySpreadConstraints")) ?? [];
            for (const key of cfg.topologyKeys) {
                const found = constraints.some((c) => {
                    const sel = parseSelector(get(c, "labelSelector"));
                    return str(get(c, "topologyKey")) === key && (sel.unknown || (!selectorIsEmpty(sel) && selectorMatches(sel, labels)));
                });
                if (!found) {
                    report(`${w.kind} ${w.id} runs up to ${max} pods but has no topology spread constraint on ${key} selecting them`, w.urn);
                }
            }
        }
    },
});

/** The field manager pulumi-kubernetes applies with (server-side apply): "pulumi-kubernetes-<suffix>". */
const PULUMI_FIELD_MANAGER = /^pulumi-kubernetes/;

/**
 * Whether the applied manifest sets spec.replicas. Against a live cluster a stack policy sees the API
 * server's answer (a dry-run in preview), where a Deployment created without replicas reports the
 * defaulted 1; managedFields then tells who set the field: Pulumi's field manager owning
 * f:spec.f:replicas means the program sent it. Without managedFields (render mode, mocks) the
 * properties are what the program sent.
 */
export function programSetsReplicas(props: unknown): boolean {
    const managed = probe(props, "metadata", "managedFields");
    if (managed.state === "known" && Array.isArray(managed.value)) {
        return managed.value.some((entry) => {
            const e = entry as { manager?: unknown; fieldsV1?: Record<string, Record<string, unknown> | undefined> };
            return typeof e.manager === "string" && PULUMI_FIELD_MANAGER.test(e.manager) && e.fieldsV1?.["f:spec"]?.["f:replicas"] !== undefined;
        });
    }
    return probe(props, "spec", "replicas").state === "known";
}

export const hpaTargetNoReplicas = stackRule({
    name: "hpa-target-no-replicas",
    description: "A Deployment that a HorizontalPodAutoscaler scales leaves spec.replicas out: the HPA is the only owner of the count.",
    remediationSteps:
        "Remove spec.replicas from the Deployment's manifest (Kubernetes creates it with 1 pod and the HPA raises it to minReplicas); keep minReplicas on the HPA.",
    severity: "medium",
    tags: ["availability", "hardening"],
    defaults: {},
    check: (resources, _cfg, report) => {
        const hpas = hpasByTarget(resources);
        for (const d of resources.filter((r) => isKind(r.type, "apps", "Deployment"))) {
            const hpa = hpas.get(`Deployment/${d.namespace}/${d.name}`);
            if (hpa && programSetsReplicas(d.props)) {
                report(`Deployment ${d.id} sets spec.replicas although HorizontalPodAutoscaler ${hpa.id} scales it`, d.urn);
            }
        }
    },
});

export const hardeningPolicies = {
    "container-ephemeral-storage": containerEphemeralStorage,
    "pod-probes-distinct": podProbesDistinct,
    "pod-high-uid-gid": podHighUidGid,
    "pdb-unhealthy-pod-eviction-policy": pdbUnhealthyPodEvictionPolicy,
    "pod-priority-class": podPriorityClass,
    "topology-spread-replicated": topologySpreadReplicated,
    "hpa-target-no-replicas": hpaTargetNoReplicas,
};
