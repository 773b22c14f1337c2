// Availability rules: PodDisruptionBudgets for replicated workloads.
import { get, isKind, K8sResource, num, parseSelector, podLabelsOf, probe, selectorMatches, str } from "./lib/k8s";
import { stackRule, stringList } from "./lib/policy";

/** Resolves an int-or-percent PDB value against a replica count (percentages of minAvailable round up). */
export function resolveIntOrPercent(v: unknown, replicas: number, roundUp: boolean): number | undefined {
    const n = num(v);
    if (n !== undefined) {
        return n;
    }
    const s = str(v);
    const m = s ? /^(\d+(?:\.\d+)?)%$/.exec(s) : null;
    if (!m) {
        return undefined;
    }
    const exact = (Number(m[1]) * replicas) / 100;
    return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

function hpaFor(w: K8sResource, hpas: K8sResource[]): K8sResource | undefined {
    return hpas.find(
        (h) =>
            h.namespace === w.namespace &&
            str(get(h.props, "spec", "scaleTargetRef", "name")) === w.name &&
            (str(get(h.props, "spec", "scaleTargetRef", "kind")) ?? w.kind) === w.kind,
    );
}

export const pdbForReplicatedWorkloads = stackRule({
    name: "pdb-for-replicated-workloads",
    description:
        "Every Deployment/StatefulSet with more than one replica has a PodDisruptionBudget whose minAvailable is below the replica count and not above the HPA minimum.",
    remediationSteps:
        "Add a PodDisruptionBudget selecting the workload's pods with minAvailable = replicas - 1 (at most the HPA's minReplicas), or maxUnavailable: 1.",
    severity: "medium",
    tags: ["availability"],
    defaults: { exemptWorkloads: [] as string[] },
    schema: { exemptWorkloads: stringList },
    check: (resources, cfg, report) => {
        const hpas = resources.filter((r) => isKind(r.type, "autoscaling", "HorizontalPodAutoscaler"));
        const pdbs = resources.filter((r) => isKind(r.type, "policy", "PodDisruptionBudget"));
        for (const w of resources) {
            if (!isKind(w.type, "apps", "Deployment", "StatefulSet", "ReplicaSet") || cfg.exemptWorkloads.includes(w.id)) {
                continue;
            }
            const rp = probe(w.props, "spec", "replicas");
            if (rp.state === "unknown") {
                continue;
            }
            const hpa = hpaFor(w, hpas);
            const hpaMinP = hpa ? probe(hpa.props, "spec", "minReplicas") : undefined;
            const hpaMin = hpaMinP ? (hpaMinP.state === "absent" ? 1 : num(hpaMinP.state === "known" ? hpaMinP.value : undefined)) : undefined;
            const replicas = rp.state === "known" ? num(rp.value) ?? 1 : hpaMin ?? 1;
            if (Math.max(replicas, hpaMin ?? 0) <= 1) {
                continue;
            }
            const labels = podLabelsOf(w.type, w.props);
            const matching = pdbs.filter((p) => {
                if (p.namespace !== w.namespace) {
                    return false;
                }
                const sel = parseSelector(get(p.props, "spec", "selector"));
                return !sel.unknown && selectorMatches(sel, labels);
            });
            if (matching.length === 0) {
                report(`${w.kind} ${w.id} has ${replicas} replicas but no PodDisruptionBudget selects its pods`, w.urn);
                continue;
            }
            for (const p of matching) {
                const minP = probe(p.props, "spec", "minAvailable");
                const maxP = probe(p.props, "spec", "maxUnavailable");
                if (minP.state === "known") {
                    const min = resolveIntOrPercent(minP.value, replicas, true);
                    if (min !== undefined && min >= replicas) {
                        report(`PodDisruptionBudget ${p.id}: minAvailable ${min} is not below the ${replicas} replicas of ${w.kind} ${w.id}`, p.urn);
                    }
                    if (min !== undefined && hpaMin !== undefined && min > hpaMin) {
                        report(`PodDisruptionBudget ${p.id}: minAvailable ${min} is above the HPA minimum ${hpaMin} of ${w.kind} ${w.id}`, p.urn);
                    }
                } else if (maxP.state === "known") {
                    const max = resolveIntOrPercent(maxP.value, replicas, false);
                    if (max !== undefined && max < 1) {
                        report(`PodDisruptionBudget ${p.id}: maxUnavailable ${max} blocks every voluntary eviction of ${w.kind} ${w.id}`, p.urn);
                    }
                } else if (minP.state === "absent" && maxP.state === "absent") {
                    report(`PodDisruptionBudget ${p.id} sets neither minAvailable nor maxUnavailable`, p.urn);
                }
            }
        }
    },
});

export const availabilityPolicies = {
    "pdb-for-replicated-workloads": pdbForReplicatedWorkloads,
};
