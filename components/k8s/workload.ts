/**
 * Workload: the one building block every component uses for a running thing. It owns a dedicated
 * ServiceAccount, a Deployment or StatefulSet with secure pod defaults, its Services, a
 * PodDisruptionBudget when replicated, an optional HPA and the NetworkPolicy generated from the
 * workload's traffic rules.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AppIdentity, selectorLabels, standardLabels } from "./labels";
import { OWNED_ANNOTATIONS } from "./metadata";
import { ContainerSpec, containerVolumes, podSecurityContext, secureContainer, validateContainer } from "./container";
import { KUBE_SCORE_IGNORE_ANNOTATION, priorityClassName, STATELESS, UID_EXCEPTION_ANNOTATION, UidException, WorkloadProfile } from "./profile";
import { networkPolicySpec, Peer, WorkloadTraffic } from "./traffic";
import { WorkloadStatus } from "./status";
import { requireIntInRange, requireObject, requireQuantity, ValidationError } from "./validation";

import CoreInput = k8s.types.input.core.v1;

export interface ServicePort {
    name: string;
    port: number;
    targetPort?: number | string;
    protocol?: "TCP" | "UDP";
}

export interface VolumeClaim {
    /** Volume name, mounted by containers through volumeMounts. */
    name: string;
    size: string;
    storageClass?: pulumi.Input<string>;
    accessModes?: string[];
}

export interface AutoscalingSpec {
    minReplicas: number;
    maxReplicas: number;
    targetCPUUtilizationPercentage?: number;
    targetMemoryUtilizationPercentage?: number;
    behavior?: k8s.types.input.autoscaling.v2.HorizontalPodAutoscalerBehavior;
}

export interface RollingUpdateSpec {
    maxSurge: number | string;
    maxUnavailable: number | string;
}

export interface WorkloadArgs {
    namespace: pulumi.Input<string>;
    identity: AppIdentity;
    kind: "Deployment" | "StatefulSet";
    replicas: number;
    containers: ContainerSpec[];
    initContainers?: ContainerSpec[];
    /**
     * What kind of workload this is (profile.ts): ephemeral storage, scratch size, priority tier and
     * the PDB's unhealthy-pod policy. Default: STATELESS.
     */
    profile?: WorkloadProfile;
    /** Run as the image's own (low) UID instead of DEFAULT_UID, with the reason (docs/hardening.md). */
    uidException?: UidException;
    volumes?: CoreInput.Volume[];
    /** StatefulSet only: one claim per replica, kept when the StatefulSet is deleted or scaled. */
    volumeClaims?: VolumeClaim[];
    /** Ports of the client (ClusterIP) and headless Services; no client Service when empty. */
    servicePorts?: ServicePort[];
    /** Ports of the client Service when they differ from servicePorts (the headless one keeps servicePorts). */
    clientServicePorts?: ServicePort[];
    /** StatefulSet: "Parallel" for quorum systems whose members must start together. */
    podManagementPolicy?: "OrderedReady" | "Parallel";
    /**
     * StatefulSet with one writable primary that is always ordinal 0 (no automatic promotion):
     * the client Service targets ordinal 0 only. Engines whose primary moves (Redis sentinel) must
     * not use this; their clients find the primary through the engine (sentinel).
     */
    primaryOnlyService?: boolean;
    /** Also a `<name>-read` ClusterIP Service over every ready member (reads from standbys/replicas). */
    readService?: boolean;
    /** StatefulSet: also a headless Service for stable pod DNS names (default true). */
    headlessService?: boolean;
    /** Extra pod labels (not part of the selector unless listed in selectorExtra). */
    podLabels?: Record<string, string>;
    /** Extra labels on every object of the workload and its pods (not the selector). */
    extraLabels?: Record<string, string>;
    /** Extra selector labels, e.g. the blue/green colour; they also become pod labels. */
    selectorExtra?: Record<string, string>;
    podAnnotations?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    autoscaling?: AutoscalingSpec;
    traffic: WorkloadTraffic;
    rollingUpdate?: RollingUpdateSpec;
    /** Deployments with a ReadWriteOnce volume must not surge a second pod onto it. */
    recreate?: boolean;
    terminationGracePeriodSeconds?: number;
    /** Mount an API token only for workloads that talk to the API server. */
    automountServiceAccountToken?: boolean;
    /** Protect the workload from `pulumi destroy` (data-bearing workloads in prod). */
    protect?: boolean;
}

/** The label the StatefulSet controller sets on each pod (its name): the write Service's selector of a fixed primary. */
export const POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name";

/**
 * spec.replicas of a Deployment: none when an HPA scales it (the HPA is the only owner of the
 * count; a manifest value would reset it on every apply), the fixed count otherwise.
 */
export function deploymentReplicas(replicas: number, autoscaling?: AutoscalingSpec): number | undefined {
    return autoscaling ? undefined : replicas;
}

/**
 * Spread of a replicated workload's pods: at most one more per node than on any other node (a
 * hard rule; nodes whose taints the pods do not tolerate are left out of the count), and across
 * zones as far as possible (a soft rule: single-zone clusters still schedule).
 */
export function topologySpread(selector: Record<string, string>): CoreInput.TopologySpreadConstraint[] {
    return [
        { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "DoNotSchedule", nodeTaintsPolicy: "Honor", labelSelector: { matchLabels: selector } },
        { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: selector } },
    ];
}

/** minAvailable that tolerates one voluntary disruption and stays within the HPA floor. */
export function pdbMinAvailable(replicas: number, hpaMin?: number): number {
    const floor = hpaMin === undefined ? replicas : Math.min(replicas, hpaMin);
    return Math.max(1, floor - 1);
}

/** Reads an HPA spec (config or args): replica bounds within `cap` and at least one metric target. Returns it typed. */
export function validateAutoscaling(key: string, raw: unknown, cap = 100): AutoscalingSpec {
    const a = requireObject(key, raw);
    const minReplicas = requireIntInRange(`${key}.minReplicas`, a.minReplicas, 1, cap);
    const maxReplicas = requireIntInRange(`${key}.maxReplicas`, a.maxReplicas, 1, cap);
    if (minReplicas > maxReplicas) {
        throw new ValidationError(`${key}.minReplicas`,
            `${minReplicas} is above maxReplicas ${maxReplicas}; allowed: minReplicas <= maxReplicas`);
    }
    if (a.targetCPUUtilizationPercentage === undefined && a.targetMemoryUtilizationPercentage === undefined) {
        throw new ValidationError(key, "no metric target; allowed: targetCPUUtilizationPercentage and/or targetMemoryUtilizationPercentage");
    }
    const target = (k: "targetCPUUtilizationPercentage" | "targetMemoryUtilizationPercentage") =>
        a[k] === undefined ? {} : { [k]: requireIntInRange(`${key}.${k}`, a[k], 1, 100) };
    return {
        minReplicas, maxReplicas, ...target("targetCPUUtilizationPercentage"), ...target("targetMemoryUtilizationPercentage"),
        // Set by the components' own code (scale-down windows), never read from config.
        ...(a.behavior === undefined ? {} : { behavior: a.behavior as AutoscalingSpec["behavior"] }),
    };
}

/** The status outputs of a Deployment/StatefulSet as a WorkloadStatus (desired: the live spec.replicas, e.g. the HPA's). */
function workloadStatus(kind: "Deployment" | "StatefulSet", name: string, replicas: number,
    w: k8s.apps.v1.Deployment | k8s.apps.v1.StatefulSet): pulumi.Output<WorkloadStatus> {
    interface LiveStatus {
        observedGeneration?: number; replicas?: number; readyReplicas?: number; updatedReplicas?: number;
        conditions?: { type: string; status: string; reason?: string; message?: string }[];
    }
    const meta = w.metadata as pulumi.Output<{ generation?: number } | undefined>;
    const spec = (w.spec as pulumi.Output<{ replicas?: number } | undefined>);
    const status = w.status as pulumi.Output<LiveStatus | undefined>;
    return pulumi.all([meta, spec, status])
        .apply(([meta, spec, st]) => ({
            kind, name,
            desired: spec?.replicas ?? replicas,
            generation: meta?.generation,
            observedGeneration: st?.observedGeneration,
            replicas: st?.replicas,
            readyReplicas: st?.readyReplicas,
            updatedReplicas: st?.updatedReplicas,
            conditions: (st?.conditions ?? []).map(c => ({ type: c.type, status: c.status, reason: c.reason, message: c.message })),
        }));
}

export class Workload extends pulumi.ComponentResource {
    public readonly name: string;
    public readonly namespace: pulumi.Output<string>;
    public readonly selector: Record<string, string>;
    /** The pods of this workload as a traffic peer. */
    public readonly peer: Peer;
    public readonly serviceName: pulumi.Output<string | undefined>;
    /** In-cluster DNS name of the client Service. */
    public readonly host: pulumi.Output<string | undefined>;
    public readonly headlessServiceName: pulumi.Output<string | undefined>;
    public readonly serviceAccountName: pulumi.Output<string>;
    public readonly replicas: pulumi.Output<number>;
    public readonly readyReplicas: pulumi.Output<number | undefined>;
    /** What the API server reported about the Deployment/StatefulSet (for phase and conditions). */
    public readonly status: pulumi.Output<WorkloadStatus>;
    public readonly deployment?: k8s.apps.v1.Deployment;
    public readonly statefulSet?: k8s.apps.v1.StatefulSet;
    public readonly service?: k8s.core.v1.Service;
    /** The `<name>-read` Service (readService), spanning every member. */
    public readonly readService?: k8s.core.v1.Service;
    /** In-cluster DNS name of the read Service; undefined without one. */
    public readonly readHost: pulumi.Output<string | undefined>;

    constructor(name: string, args: WorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
        const key = `Workload(${name})`;
        const id = args.identity;
        requireIntInRange(`${key}.replicas`, args.replicas, 0, 100);
        if (args.autoscaling) {
            validateAutoscaling(`${key}.autoscaling`, args.autoscaling);
        }
        if (args.volumeClaims?.length && args.kind !== "StatefulSet") {
            throw new ValidationError(`${key}.volumeClaims`, "only a StatefulSet has volumeClaimTemplates; allowed: kind StatefulSet");
        }
        args.volumeClaims?.forEach((c, i) => requireQuantity(`${key}.volumeClaims[${i}].size`, c.size, "storage"));
        args.containers.forEach((c, i) => validateContainer(c, `${key}.containers[${i}]`));
        args.initContainers?.forEach((c, i) => validateContainer(c, `${key}.initContainers[${i}]`, true));
        const securityContext = podSecurityContext(key, args.uidException);
        const profile = args.profile ?? STATELESS;
        super("platform:k8s:Workload", name, {}, opts);

        this.name = id.name;
        this.selector = { ...selectorLabels(id), ...(args.selectorExtra ?? {}) };
        this.peer = { kind: "pods", namespace: args.namespace, selector: this.selector };
        const labels = { ...standardLabels(id), ...(args.extraLabels ?? {}) };
        const podLabels = { ...labels, ...(args.podLabels ?? {}), ...(args.selectorExtra ?? {}) };
        const metaName = Object.values(args.selectorExtra ?? {}).length
            ? `${id.name}-${Object.values(args.selectorExtra!).join("-")}` : id.name;
        const metadata = { name: metaName, namespace: args.namespace, labels, annotations: OWNED_ANNOTATIONS };
        // A UID exception is visible on the Deployment/StatefulSet itself: the reason for reviewers
        // and the policy pack, and kube-score's opt-out for its high-UID check.
        const workloadMetadata = args.uidException ? {
            ...metadata,
            annotations: {
                ...OWNED_ANNOTATIONS,
                [UID_EXCEPTION_ANNOTATION]: `uid ${args.uidException.uid}: ${args.uidException.reason}`,
                [KUBE_SCORE_IGNORE_ANNOTATION]: "container-security-context-user-group-id",
            },
        } : metadata;
        const childOpts: pulumi.CustomResourceOptions = { parent: this };

        const sa = new k8s.core.v1.ServiceAccount(`${name}-sa`, {
            metadata,
            automountServiceAccountToken: args.automountServiceAccountToken ?? false,
        }, childOpts);
        this.serviceAccountName = sa.metadata.name;

        const hpaMin = args.autoscaling?.minReplicas;
        const replicas = args.autoscaling ? Math.max(args.replicas, args.autoscaling.minReplicas) : args.replicas;
        const replicated = replicas > 1 || (args.autoscaling?.maxReplicas ?? 0) > 1;
        const podSpec: CoreInput.PodSpec = {
            serviceAccountName: this.serviceAccountName,
            automountServiceAccountToken: args.automountServiceAccountToken ?? false,
            enableServiceLinks: false,
            terminationGracePeriodSeconds: args.terminationGracePeriodSeconds ?? 30,
            priorityClassName: priorityClassName(profile.priorityTier),
            securityContext,
            initContainers: args.initContainers?.map((c, i) => secureContainer(c, `${key}.initContainers[${i}]`, true, profile)),
            containers: args.containers.map((c, i) => secureContainer(c, `${key}.containers[${i}]`, false, profile)),
            volumes: [...(args.volumes ?? []), ...containerVolumes([...args.containers, ...(args.initContainers ?? [])], profile)],
            affinity: replicated ? {
                podAntiAffinity: {
                    preferredDuringSchedulingIgnoredDuringExecution: [{
                        weight: 100,
                        podAffinityTerm: { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: this.selector } },
                    }],
                },
            } : undefined,
            topologySpreadConstraints: replicated ? topologySpread(this.selector) : undefined,
        };
        const template = { metadata: { labels: podLabels, annotations: args.podAnnotations }, spec: podSpec };
        // An HPA owns the replica count once it exists: do not fight it on every `pulumi up`. A
        // Deployment's manifest has no replicas then; ignoreChanges still matters to stacks created
        // before that: the engine keeps their recorded value as the input, and the provider leaves a
        // field that another manager (the HPA controller) owns out of its server-side apply.
        const workloadOpts: pulumi.CustomResourceOptions = {
            ...childOpts,
            protect: args.protect,
            ignoreChanges: args.autoscaling ? ["spec.replicas"] : undefined,
        };

        let workloadRef: { apiVersion: string; kind: string; name: pulumi.Output<string> };
        const servicePorts = args.servicePorts ?? [];
        const headless = args.kind === "StatefulSet" && (args.headlessService ?? true);
        let headlessSvc: k8s.core.v1.Service | undefined;
        if (headless) {
            headlessSvc = new k8s.core.v1.Service(`${name}-headless`, {
                metadata: { ...metadata, name: `${metaName}-headless` },
                spec: {
                    clusterIP: "None",
                    publishNotReadyAddresses: true,
                    selector: this.selector,
                    ports: servicePorts.map(p => ({ name: p.name, port: p.port, targetPort: p.targetPort ?? p.port, protocol: p.protocol ?? "TCP" })),
                },
            }, childOpts);
        }
        this.headlessServiceName = headlessSvc ? headlessSvc.metadata.name : pulumi.output(undefined);

        if (args.kind === "StatefulSet") {
            this.statefulSet = new k8s.apps.v1.StatefulSet(`${name}-statefulset`, {
                metadata: workloadMetadata,
                spec: {
                    replicas,
                    serviceName: headlessSvc ? headlessSvc.metadata.name : metaName,
                    selector: { matchLabels: this.selector },
                    podManagementPolicy: args.podManagementPolicy ?? "OrderedReady",
                    updateStrategy: { type: "RollingUpdate" },
                    // Claims outlive the StatefulSet: deleting or scaling it never deletes data.
                    persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
                    template,
                    volumeClaimTemplates: (args.volumeClaims ?? []).map(c => ({
                        metadata: { name: c.name, labels },
                        spec: {
                            accessModes: c.accessModes ?? ["ReadWriteOnce"],
                            storageClassName: c.storageClass,
                            resources: { requests: { storage: c.size } },
                        },
                    })),
                },
            }, workloadOpts);
            workloadRef = { apiVersion: "apps/v1", kind: "StatefulSet", name: this.statefulSet.metadata.name };
            this.readyReplicas = this.statefulSet.status.apply(s => s?.readyReplicas);
            this.status = workloadStatus("StatefulSet", metaName, replicas, this.statefulSet);
        } else {
            this.deployment = new k8s.apps.v1.Deployment(`${name}-deployment`, {
                metadata: workloadMetadata,
                spec: {
                    // An HPA owns the count: the manifest leaves it out (Kubernetes creates 1 pod, the
                    // HPA raises it to minReplicas within one sync period); see deploymentReplicas.
                    replicas: deploymentReplicas(replicas, args.autoscaling),
                    selector: { matchLabels: this.selector },
                    revisionHistoryLimit: 5,
                    strategy: args.recreate ? { type: "Recreate" } : {
                        type: "RollingUpdate",
                        rollingUpdate: args.rollingUpdate ?? { maxSurge: "25%", maxUnavailable: "25%" },
                    },
                    template,
                },
            }, workloadOpts);
            workloadRef = { apiVersion: "apps/v1", kind: "Deployment", name: this.deployment.metadata.name };
            this.readyReplicas = this.deployment.status.apply(s => s?.readyReplicas);
            this.status = workloadStatus("Deployment", metaName, replicas, this.deployment);
        }
        this.replicas = pulumi.output(replicas);

        if (servicePorts.length > 0) {
            this.service = new k8s.core.v1.Service(`${name}-service`, {
                // The write Service of a fixed primary selects ordinal 0 by the label the StatefulSet
                // controller puts on each pod; kube-score only looks at pod templates, which never carry
                // it (docs/hardening.md).
                metadata: args.primaryOnlyService
                    ? { ...metadata, annotations: { ...OWNED_ANNOTATIONS, [KUBE_SCORE_IGNORE_ANNOTATION]: "service-targets-pod" } }
                    : metadata,
                spec: {
                    type: "ClusterIP",
                    selector: args.primaryOnlyService
                        ? { ...this.selector, [POD_NAME_LABEL]: `${metaName}-0` } : this.selector,
                    ports: (args.clientServicePorts ?? servicePorts).map(p => ({ name: p.name, port: p.port, targetPort: p.targetPort ?? p.port, protocol: p.protocol ?? "TCP" })),
                },
            }, childOpts);
            this.serviceName = this.service.metadata.name;
            this.host = pulumi.interpolate`${this.service.metadata.name}.${this.service.metadata.namespace}.svc.cluster.local`;
        } else {
            this.serviceName = pulumi.output(undefined);
            this.host = pulumi.output(undefined);
        }
        if (args.readService && servicePorts.length > 0) {
            this.readService = new k8s.core.v1.Service(`${name}-read-service`, {
                metadata: { ...metadata, name: `${metaName}-read` },
                spec: {
                    type: "ClusterIP",
                    selector: this.selector,
                    ports: servicePorts.map(p => ({ name: p.name, port: p.port, targetPort: p.targetPort ?? p.port, protocol: p.protocol ?? "TCP" })),
                },
            }, childOpts);
            this.readHost = pulumi.interpolate`${this.readService.metadata.name}.${this.readService.metadata.namespace}.svc.cluster.local`;
        } else {
            this.readHost = pulumi.output(undefined);
        }

        const effectiveMin = hpaMin === undefined ? replicas : Math.min(replicas, hpaMin);
        if (effectiveMin > 1) {
            new k8s.policy.v1.PodDisruptionBudget(`${name}-pdb`, {
                metadata,
                spec: {
                    minAvailable: pdbMinAvailable(replicas, hpaMin),
                    selector: { matchLabels: this.selector },
                    unhealthyPodEvictionPolicy: profile.unhealthyPodEvictionPolicy,
                },
            }, childOpts);
        }

        if (args.autoscaling) {
            const a = args.autoscaling;
            const metrics: k8s.types.input.autoscaling.v2.MetricSpec[] = [];
            if (a.targetCPUUtilizationPercentage !== undefined) {
                metrics.push({ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: a.targetCPUUtilizationPercentage } } });
            }
            if (a.targetMemoryUtilizationPercentage !== undefined) {
                metrics.push({ type: "Resource", resource: { name: "memory", target: { type: "Utilization", averageUtilization: a.targetMemoryUtilizationPercentage } } });
            }
            new k8s.autoscaling.v2.HorizontalPodAutoscaler(`${name}-hpa`, {
                metadata,
                spec: {
                    scaleTargetRef: workloadRef,
                    minReplicas: a.minReplicas,
                    maxReplicas: a.maxReplicas,
                    metrics,
                    behavior: a.behavior,
                },
            }, childOpts);
        }

        new k8s.networking.v1.NetworkPolicy(`${name}-netpol`, {
            metadata,
            spec: networkPolicySpec(this.selector, args.traffic),
        }, childOpts);

        this.namespace = pulumi.output(args.namespace);
        this.registerOutputs({
            namespace: this.namespace,
            serviceName: this.serviceName,
            host: this.host,
            serviceAccountName: this.serviceAccountName,
            replicas: this.replicas,
        });
    }
}
