/**
 * kube-state-metrics: the state of the Kubernetes objects as metrics (pod restarts, replicas
 * available, resource limits, claims), which the alert rules and panels query. One replica per
 * system that runs a Prometheus, limited to the system's namespaces (`--namespaces`) and to the kinds
 * it is given RBAC for (`--resources`): a ClusterRole with list/watch on exactly those kinds, nothing
 * else (no get, no Secrets, no ConfigMaps), bound to its own ServiceAccount. Egress: the API server
 * only; ingress: its scrapers on the metrics port.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { httpProbe, ResourceSpec } from "../k8s/container";
import { standardLabels } from "../k8s/labels";
import { OWNED_ANNOTATIONS } from "../k8s/metadata";
import { PolicyRule } from "../k8s/rbac";
import { Peer, PortSpec } from "../k8s/traffic";
import { imageTag } from "../k8s/validation";
import { Workload } from "../k8s/workload";
import { identity, rules } from "./common";

export const KUBE_STATE_METRICS_IMAGE = "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.13.0";
export const KUBE_STATE_METRICS_PORT = 8080;
export const KUBE_STATE_METRICS_TELEMETRY_PORT = 8081;

/** The kinds it exports (its `--resources` names) and the RBAC each needs. */
export const KUBE_STATE_METRICS_KINDS: { resource: string; apiGroup: string; kind: string }[] = [
    { resource: "pods", apiGroup: "", kind: "pods" },
    { resource: "nodes", apiGroup: "", kind: "nodes" },
    { resource: "persistentvolumeclaims", apiGroup: "", kind: "persistentvolumeclaims" },
    { resource: "deployments", apiGroup: "apps", kind: "deployments" },
    { resource: "statefulsets", apiGroup: "apps", kind: "statefulsets" },
    { resource: "horizontalpodautoscalers", apiGroup: "autoscaling", kind: "horizontalpodautoscalers" },
];

/** list/watch on the exported kinds, grouped by API group; nothing else. */
export const KUBE_STATE_METRICS_RULES: PolicyRule[] = [...new Set(KUBE_STATE_METRICS_KINDS.map(k => k.apiGroup))].map(group => ({
    apiGroups: [group],
    resources: KUBE_STATE_METRICS_KINDS.filter(k => k.apiGroup === group).map(k => k.kind),
    verbs: ["list", "watch"],
}));

/** Requests and limits when the args give none. */
export const KUBE_STATE_METRICS_RESOURCES: ResourceSpec = { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "200m", memory: "256Mi" } };

export interface KubeStateMetricsArgs {
    namespace: pulumi.Input<string>;
    partOf?: string;
    image?: string;
    resources?: ResourceSpec;
    /** Export the objects of these namespaces only (cluster-scoped nodes are always exported); all when absent. */
    namespaces?: string[];
    /** The Kubernetes API server it lists and watches: address ranges and ports (default 443 and 6443). */
    apiServer: { cidrs: string[]; ports?: number[] };
    /** Who scrapes the metrics port (Prometheus). */
    scrapers?: Peer[];
    /** Name of the ClusterRole (cluster-scoped, so unique per cluster); default `<namespace>-<name>`. */
    clusterRoleName?: pulumi.Input<string>;
}

export class KubeStateMetrics extends pulumi.ComponentResource {
    public readonly host: pulumi.Output<string>;
    /** host:8080, the static scrape target. */
    public readonly target: pulumi.Output<string>;
    public readonly port: number;
    public readonly clusterRoleName: pulumi.Output<string>;
    public readonly peer: Peer;
    public readonly workload: Workload;

    constructor(name: string, args: KubeStateMetricsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:observability:KubeStateMetrics", name, {}, opts);
        const image = args.image ?? KUBE_STATE_METRICS_IMAGE;
        const id = identity(name, "kube-state-metrics", args.partOf, imageTag(image));
        const labels = standardLabels(id);
        const child = { parent: this };
        const apiPorts: PortSpec[] = (args.apiServer.ports ?? [443, 6443]).map(port => ({ port }));

        this.workload = new Workload(name, {
            namespace: args.namespace,
            identity: id,
            kind: "Deployment",
            replicas: 1,
            containers: [{
                name: "kube-state-metrics",
                image,
                args: [
                    `--port=${KUBE_STATE_METRICS_PORT}`,
                    `--telemetry-port=${KUBE_STATE_METRICS_TELEMETRY_PORT}`,
                    `--resources=${KUBE_STATE_METRICS_KINDS.map(k => k.resource).join(",")}`,
                    ...(args.namespaces ? [`--namespaces=${args.namespaces.join(",")}`] : []),
                ],
                ports: [
                    { name: "metrics", containerPort: KUBE_STATE_METRICS_PORT },
                    { name: "telemetry", containerPort: KUBE_STATE_METRICS_TELEMETRY_PORT },
                ],
                resources: args.resources ?? KUBE_STATE_METRICS_RESOURCES,
                livenessProbe: httpProbe("/livez", KUBE_STATE_METRICS_PORT, { initialDelaySeconds: 5 }),
                readinessProbe: httpProbe("/readyz", KUBE_STATE_METRICS_TELEMETRY_PORT, { initialDelaySeconds: 5 }),
            }],
            servicePorts: [{ name: "metrics", port: KUBE_STATE_METRICS_PORT }],
            traffic: {
                ingress: rules(args.scrapers, [{ port: KUBE_STATE_METRICS_PORT }]),
                egress: args.apiServer.cidrs.map(cidr => ({ peer: { kind: "cidr" as const, cidr }, ports: apiPorts })),
            },
            // It lists and watches the API: it mounts a token.
            automountServiceAccountToken: true,
        }, child);

        // Cluster-scoped: the default carries the namespace, so equal names in two namespaces never collide.
        const roleName = args.clusterRoleName ?? pulumi.interpolate`${args.namespace}-${name}`;
        const role = new k8s.rbac.v1.ClusterRole(name, {
            metadata: { name: roleName, labels, annotations: OWNED_ANNOTATIONS },
            rules: KUBE_STATE_METRICS_RULES,
        }, child);
        new k8s.rbac.v1.ClusterRoleBinding(name, {
            metadata: { name: roleName, labels, annotations: OWNED_ANNOTATIONS },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role.metadata.name },
            subjects: [{ kind: "ServiceAccount", name: this.workload.serviceAccountName, namespace: args.namespace }],
        }, child);

        this.peer = this.workload.peer;
        this.port = KUBE_STATE_METRICS_PORT;
        this.clusterRoleName = role.metadata.name;
        this.host = this.workload.host.apply(h => h ?? "");
        this.target = pulumi.interpolate`${this.host}:${KUBE_STATE_METRICS_PORT}`;
        this.registerOutputs({ host: this.host, target: this.target, clusterRoleName: this.clusterRoleName });
    }
}
