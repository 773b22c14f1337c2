/**
 * Phase and conditions of a component, from what the API server reports about its workloads
 * (the Deployment/StatefulSet status outputs), in the shape of a CRD status: a phase and a list of
 * conditions. Written once; Database and RestApi use it.
 *
 * The outputs are read when `pulumi up` (or refresh) last read the objects: they say what the API
 * server reported then, not what happens afterwards.
 */

export type Phase = "Pending" | "Creating" | "Ready" | "Failed";

export interface WorkloadCondition {
    type: string;
    status: string;
    reason?: string;
    message?: string;
}

/** The fields of a Deployment's or StatefulSet's status (and metadata.generation) the phase needs. */
export interface WorkloadStatus {
    kind: "Deployment" | "StatefulSet";
    name: string;
    /** Desired replicas (spec). */
    desired: number;
    generation?: number;
    observedGeneration?: number;
    replicas?: number;
    readyReplicas?: number;
    updatedReplicas?: number;
    conditions?: WorkloadCondition[];
}

/** Why a workload failed: a Deployment that ran out of its progress deadline, or a replica failure. */
export function failureOf(s: WorkloadStatus): WorkloadCondition | undefined {
    return (s.conditions ?? []).find(c =>
        (c.type === "Progressing" && c.status === "False" && c.reason === "ProgressDeadlineExceeded")
        || (c.type === "ReplicaFailure" && c.status === "True"));
}

/**
 * Pending: the API server reported no status yet (nothing observed). Failed: a failure condition.
 * Creating: the controller has not observed the latest spec, or fewer replicas are updated and
 * ready than desired. Ready: every desired replica is updated and ready.
 */
export function workloadPhase(s: WorkloadStatus): Phase {
    if (s.observedGeneration === undefined && s.readyReplicas === undefined && s.replicas === undefined) {
        return "Pending";
    }
    if (failureOf(s)) {
        return "Failed";
    }
    if (s.generation !== undefined && (s.observedGeneration ?? 0) < s.generation) {
        return "Creating";
    }
    const ready = s.readyReplicas ?? 0;
    const updated = s.updatedReplicas ?? ready;
    return ready >= s.desired && updated >= s.desired ? "Ready" : "Creating";
}

/** The phase of several workloads: Failed if any failed, Pending if any is pending, Ready if all are. */
export function combinedPhase(statuses: WorkloadStatus[]): Phase {
    const phases = statuses.map(workloadPhase);
    for (const p of ["Failed", "Pending", "Creating"] as const) {
        if (phases.includes(p)) {
            return p;
        }
    }
    return "Ready";
}

/**
 * The conditions of a component: `Ready` (True only in phase Ready, with the reason), then every
 * workload's own conditions, their type prefixed with the workload ("orders-db/Available").
 */
export function componentConditions(statuses: WorkloadStatus[], extra: WorkloadCondition[] = []): WorkloadCondition[] {
    const phase = combinedPhase(statuses);
    const notReady = statuses.filter(s => workloadPhase(s) !== "Ready")
        .map(s => `${s.kind} ${s.name}: ${s.readyReplicas ?? 0}/${s.desired} ready`);
    const failure = statuses.map(failureOf).find(c => c !== undefined);
    const ready: WorkloadCondition = phase === "Ready"
        ? { type: "Ready", status: "True", reason: "AllReplicasReady", message: statuses.map(s => `${s.kind} ${s.name}: ${s.desired}/${s.desired} ready`).join("; ") }
        : {
            type: "Ready", status: "False", reason: phase === "Failed" ? failure!.reason ?? "Failed" : phase === "Pending" ? "NoStatusReported" : "ReplicasNotReady",
            message: phase === "Failed" ? failure!.message ?? notReady.join("; ") : notReady.join("; ") || "no status reported by the API server",
        };
    const own = statuses.flatMap(s => (s.conditions ?? []).map(c => ({ ...c, type: `${s.name}/${c.type}` })));
    return [ready, ...extra, ...own];
}
