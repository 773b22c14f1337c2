/**
 * Workload profiles: what kind of thing a workload is decides, in one place, its ephemeral-storage
 * budget, the size of its writable scratch emptyDirs, its priority tier and how its
 * PodDisruptionBudget treats unhealthy pods. Components pick a profile; they never size these
 * themselves. docs/hardening.md explains the numbers.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { OWNED_ANNOTATIONS } from "./metadata";

/** Priority tiers, highest first. Data stores are evicted last; batch jobs first. */
export type PriorityTier = "data-store" | "service" | "batch";

/** PriorityClass values: above 0 (default) and far below system-cluster-critical (2000000000). */
export const PRIORITY_VALUES: Readonly<Record<PriorityTier, number>> = Object.freeze({
    "data-store": 100000,
    service: 50000,
    batch: 10000,
});

export interface WorkloadProfile {
    /** Profile name, for errors and docs. */
    name: string;
    /** Per container: container log files and writable layer (the emptyDirs count at pod level, see sizeLimit). */
    ephemeralStorage: { request: string; limit: string };
    /** sizeLimit of every writable scratch emptyDir (/tmp and the container's writablePaths). */
    scratchSizeLimit: string;
    priorityTier: PriorityTier;
    /**
     * PodDisruptionBudget unhealthyPodEvictionPolicy. AlwaysAllow: a pod that is not Ready can always
     * be evicted (a drain never blocks on a crash-looping pod). IfHealthyBudget: a not-Ready pod is
     * evicted only while the budget holds, because it may be recovering data (docs/hardening.md).
     */
    unhealthyPodEvictionPolicy: "AlwaysAllow" | "IfHealthyBudget";
}

/** Stateless services: APIs, web front ends, exporters, collectors, controllers. */
export const STATELESS: WorkloadProfile = Object.freeze({
    name: "stateless",
    ephemeralStorage: { request: "64Mi", limit: "512Mi" },
    scratchSizeLimit: "256Mi",
    priorityTier: "service",
    unhealthyPodEvictionPolicy: "AlwaysAllow",
});

/** Data stores: databases, Redis, Kafka, ZooKeeper (data on claims; scratch for sockets, temp sorts, generated config). */
export const DATA_STORE: WorkloadProfile = Object.freeze({
    name: "data-store",
    ephemeralStorage: { request: "256Mi", limit: "1Gi" },
    scratchSizeLimit: "512Mi",
    priorityTier: "data-store",
    unhealthyPodEvictionPolicy: "IfHealthyBudget",
});

/** Search: Elasticsearch writes logs, the keystore and temp files (JNA, heap dumps go to the data claim). */
export const SEARCH: WorkloadProfile = Object.freeze({
    name: "search",
    ephemeralStorage: { request: "512Mi", limit: "2Gi" },
    scratchSizeLimit: "1Gi",
    priorityTier: "data-store",
    unhealthyPodEvictionPolicy: "IfHealthyBudget",
});

/** Stateful observability: Prometheus and Grafana keep data on claims but serve no application traffic. */
export const OBSERVABILITY_STORE: WorkloadProfile = Object.freeze({
    name: "observability-store",
    ephemeralStorage: { request: "128Mi", limit: "1Gi" },
    scratchSizeLimit: "512Mi",
    priorityTier: "service",
    unhealthyPodEvictionPolicy: "AlwaysAllow",
});

/** Run-to-completion Jobs and CronJobs (backups, maintenance): no PDB, lowest tier. */
export const BATCH: WorkloadProfile = Object.freeze({
    name: "batch",
    ephemeralStorage: { request: "64Mi", limit: "512Mi" },
    scratchSizeLimit: "256Mi",
    priorityTier: "batch",
    unhealthyPodEvictionPolicy: "AlwaysAllow",
});

/**
 * Name of the stack's PriorityClass of a tier. PriorityClasses are cluster-scoped: the project and
 * stack are part of the name, so two stacks on one cluster each own their set.
 */
export function priorityClassName(tier: PriorityTier): string {
    return `${pulumi.getProject()}-${pulumi.getStack()}-${tier}`.toLowerCase().substring(0, 253);
}

/** The first UID/GID that cannot collide with a host account (what kube-score and its peers expect). */
export const MIN_HIGH_ID = 10000;

/** The UID/GID a pod runs as unless its image forces another one (an explicit exception). */
export const DEFAULT_UID = 10001;

/**
 * A workload that must run with the image's own (low) UID. The reason is required and lands in the
 * manifest (annotation) and in docs/hardening.md.
 */
export interface UidException {
    uid: number;
    /** Why the image's UID is required, e.g. the data directory on the claim belongs to it. */
    reason: string;
}

/** Annotation carrying a UID exception's reason on the workload (the policy pack reads it). */
export const UID_EXCEPTION_ANNOTATION = "platform.io/uid-exception";

/** kube-score's own opt-out annotation, listing the checks a workload is deliberately exempt from. */
export const KUBE_SCORE_IGNORE_ANNOTATION = "kube-score/ignore";

/** One PriorityClass per tier, named for the stack; every pod of the platform names one of them. */
export class PriorityClasses extends pulumi.ComponentResource {
    public readonly names: Record<PriorityTier, pulumi.Output<string>>;

    constructor(name: string, args: Record<string, never> = {}, opts?: pulumi.ComponentResourceOptions) {
        super("platform:k8s:PriorityClasses", name, args, opts);
        const names = {} as Record<PriorityTier, pulumi.Output<string>>;
        for (const tier of Object.keys(PRIORITY_VALUES) as PriorityTier[]) {
            const pc = new k8s.scheduling.v1.PriorityClass(`${name}-${tier}`, {
                metadata: {
                    name: priorityClassName(tier),
                    labels: { "app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "platform" },
                    annotations: OWNED_ANNOTATIONS,
                },
                value: PRIORITY_VALUES[tier],
                globalDefault: false,
                // A data-store pod rescheduled after a node loss may preempt lower tiers to get its
                // place back; services and batch jobs wait for free capacity instead.
                preemptionPolicy: tier === "data-store" ? "PreemptLowerPriority" : "Never",
                description: `k8s-platform ${pulumi.getStack()}: ${tier} pods`,
            }, { parent: this });
            names[tier] = pc.metadata.name;
        }
        this.names = names;
        this.registerOutputs({ names });
    }
}
