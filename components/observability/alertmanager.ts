/**
 * Alertmanager: receives the alerts of every Prometheus of the stack, groups, routes and delivers
 * them to the configured receivers. A StatefulSet (stable pod names: Prometheus sends to each
 * replica, the replicas find each other through the headless Service); with more than one replica
 * an HA cluster that gossips silences and notification state on 9094 (TCP and UDP), with one the
 * clustering is off. The config file holds receiver URLs and keys: it is mounted from a Secret.
 * Ingress: the Prometheus servers (9093) and the peers (9094); egress: the peers, HTTPS to the
 * receivers' address ranges and the in-cluster webhooks; DNS through the namespace baseline.
 */
import * as pulumi from "@pulumi/pulumi";
import { rollingSecret } from "../k8s/config";
import { httpProbe, ResourceSpec } from "../k8s/container";
import { standardLabels } from "../k8s/labels";
import { Peer, PortSpec, TrafficRule } from "../k8s/traffic";
import { imageTag } from "../k8s/validation";
import { Workload } from "../k8s/workload";
import { ALERTMANAGER_CLUSTER_PORT, ALERTMANAGER_IMAGE, ALERTMANAGER_PORT, ALERTMANAGER_RESOURCES, alertmanagerPodHosts, AlertmanagerTarget } from "./alerting";
import { identity, observabilityPeer, rules, StorageArgs } from "./common";

export const ALERTMANAGER_CONFIG_FILE = "alertmanager.yaml";
const CONFIG_DIR = "/etc/alertmanager";
const DATA_DIR = "/alertmanager";
const CLUSTER_PORTS: PortSpec[] = [{ port: ALERTMANAGER_CLUSTER_PORT, protocol: "TCP" }, { port: ALERTMANAGER_CLUSTER_PORT, protocol: "UDP" }];

export interface AlertmanagerArgs {
    namespace: pulumi.Input<string>;
    /** The same namespace's name as a plain string: the peers' DNS names are built from it. */
    namespaceName: string;
    partOf?: string;
    image?: string;
    resources?: ResourceSpec;
    /** 1: no clustering; more: an HA cluster of that many peers. */
    replicas: number;
    /** Silences and notification log, one claim per replica. */
    storage: StorageArgs;
    /** alertmanager.yml: a secret Output (it holds receiver endpoints). */
    config: pulumi.Output<string>;
    /** A hash of the config with its secrets left out: a routing change rolls the pods. */
    configChecksum: string;
    /** Who sends alerts (the Prometheus servers). */
    clients: Peer[];
    /** Where the receivers are (HTTPS to address ranges, in-cluster webhooks). */
    receiverEgress: TrafficRule[];
    protect?: boolean;
}

/** The target of an Alertmanager named `name` (for the Prometheus servers), known before it exists. */
export function alertmanagerTarget(name: string, namespace: string, replicas: number, peer: Peer): AlertmanagerTarget {
    return { peer, targets: alertmanagerPodHosts(name, namespace, replicas).map(h => `${h}:${ALERTMANAGER_PORT}`) };
}

/** The container args: clustering with every peer, or none with one replica. */
export function alertmanagerArgs(name: string, namespace: string, replicas: number): string[] {
    const cluster = replicas > 1
        ? [
            `--cluster.listen-address=0.0.0.0:${ALERTMANAGER_CLUSTER_PORT}`,
            `--cluster.advertise-address=$(POD_IP):${ALERTMANAGER_CLUSTER_PORT}`,
            ...alertmanagerPodHosts(name, namespace, replicas).map(h => `--cluster.peer=${h}:${ALERTMANAGER_CLUSTER_PORT}`),
        ]
        : ["--cluster.listen-address="];
    return [
        `--config.file=${CONFIG_DIR}/${ALERTMANAGER_CONFIG_FILE}`,
        `--storage.path=${DATA_DIR}`,
        `--web.listen-address=:${ALERTMANAGER_PORT}`,
        ...cluster,
    ];
}

export class Alertmanager extends pulumi.ComponentResource {
    /** http://<client Service>:9093 */
    public readonly url: pulumi.Output<string>;
    public readonly configSecretName: pulumi.Output<string>;
    public readonly peer: Peer;
    public readonly target: AlertmanagerTarget;
    public readonly workload: Workload;

    constructor(name: string, args: AlertmanagerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:observability:Alertmanager", name, {}, opts);
        const image = args.image ?? ALERTMANAGER_IMAGE;
        const id = identity(name, "alertmanager", args.partOf, imageTag(image));
        const labels = standardLabels(id);
        const child = { parent: this };
        const clustered = args.replicas > 1;

        const config = rollingSecret(`${name}-config`, {
            namespace: args.namespace, labels, data: { [ALERTMANAGER_CONFIG_FILE]: args.config },
        }, child);

        // The peers' own pods (the selector the workload gets), for the gossip between them.
        const self: Peer[] = clustered ? [observabilityPeer(name, args.namespace, args.partOf)] : [];
        this.workload = new Workload(name, {
            namespace: args.namespace,
            identity: id,
            kind: "StatefulSet",
            replicas: args.replicas,
            // Every peer starts at once: none waits for another to be ready.
            podManagementPolicy: "Parallel",
            containers: [{
                name: "alertmanager",
                image,
                args: alertmanagerArgs(name, args.namespaceName, args.replicas),
                env: clustered ? [{ name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } }] : [],
                ports: [
                    { name: "web", containerPort: ALERTMANAGER_PORT },
                    ...(clustered ? [
                        { name: "cluster-tcp", containerPort: ALERTMANAGER_CLUSTER_PORT, protocol: "TCP" as const },
                        { name: "cluster-udp", containerPort: ALERTMANAGER_CLUSTER_PORT, protocol: "UDP" as const },
                    ] : []),
                ],
                resources: args.resources ?? ALERTMANAGER_RESOURCES,
                livenessProbe: httpProbe("/-/healthy", ALERTMANAGER_PORT),
                readinessProbe: httpProbe("/-/ready", ALERTMANAGER_PORT, { initialDelaySeconds: 5 }),
                volumeMounts: [
                    { name: "config", mountPath: CONFIG_DIR, readOnly: true },
                    { name: "data", mountPath: DATA_DIR },
                ],
            }],
            volumes: [{ name: "config", secret: { secretName: config.metadata.name } }],
            volumeClaims: [{ name: "data", size: args.storage.size, storageClass: args.storage.storageClass }],
            podAnnotations: { "checksum/config": args.configChecksum },
            servicePorts: [
                { name: "web", port: ALERTMANAGER_PORT },
                ...(clustered ? [
                    { name: "cluster-tcp", port: ALERTMANAGER_CLUSTER_PORT, protocol: "TCP" as const },
                    { name: "cluster-udp", port: ALERTMANAGER_CLUSTER_PORT, protocol: "UDP" as const },
                ] : []),
            ],
            clientServicePorts: [{ name: "web", port: ALERTMANAGER_PORT }],
            traffic: {
                ingress: [...rules(args.clients, [{ port: ALERTMANAGER_PORT }]), ...rules(self, CLUSTER_PORTS)],
                egress: [...rules(self, CLUSTER_PORTS), ...args.receiverEgress],
            },
            terminationGracePeriodSeconds: 30,
            protect: args.protect,
        }, child);
        this.peer = this.workload.peer;
        this.target = alertmanagerTarget(name, args.namespaceName, args.replicas, this.peer);
        this.configSecretName = config.metadata.name;
        this.url = pulumi.interpolate`http://${this.workload.host.apply(h => h ?? "")}:${ALERTMANAGER_PORT}`;
        this.registerOutputs({ url: this.url, configSecretName: this.configSecretName });
    }
}
