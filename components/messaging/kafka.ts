/**
 * KafkaCluster: the greenfield-cluster.md messaging layer. Brokers (and, in zookeeper mode, a
 * ZooKeeper ensemble) run as StatefulSets through Workload: one claim per pod, a headless Service
 * for stable pod DNS names, a client Service, PodDisruptionBudgets, anti-affinity and
 * NetworkPolicies generated from a traffic plan (clients -> brokers, brokers <-> brokers,
 * brokers -> ZooKeeper, ZooKeeper quorum).
 *
 * Two layouts, chosen per stack:
 * - zookeeper: the design's layout (3 brokers x 10Gi + 3 ZooKeeper x 2Gi), confluentinc/cp-kafka and
 *   cp-zookeeper 7.x (the last line of images that supports ZooKeeper);
 * - kraft: no ZooKeeper, apache/kafka; the first 1, 3 or 5 brokers also form the controller quorum.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ContainerPort, ContainerSpec, ResourceSpec, tcpProbe, execProbe, livenessExec, livenessTcp, PID1_ALIVE } from "../k8s/container";
import { AppIdentity, selectorLabels, standardLabels } from "../k8s/labels";
import { DATA_STORE } from "../k8s/profile";
import { parseQuantity } from "../k8s/quantity";
import { Endpoint, Flow, Peer, PortSpec, TrafficPlan, TrafficRule } from "../k8s/traffic";
import { Checked, isChecked } from "../k8s/validation";
import { Workload } from "../k8s/workload";
import { DEFAULT_BROKER_RESOURCES, DEFAULT_ZOOKEEPER_RESOURCES, KafkaClusterSpec, KafkaMode, validateKafkaClusterArgs } from "./spec";
import { OWNED_ANNOTATIONS } from "../k8s/metadata";
import { rollingConfigMap } from "../k8s/config";

import EnvVar = k8s.types.input.core.v1.EnvVar;

export const KAFKA_PORTS = { client: 9092, controller: 9093 } as const;
/** ZooKeeper serves when `srvr` reports a Mode line (bash's /dev/tcp: the image has no nc). */
export const ZOOKEEPER_SERVING = 'exec 3<>/dev/tcp/127.0.0.1/2181 && printf srvr >&3 && grep -q "^Mode: " <&3';
export const ZOOKEEPER_PORTS = { client: 2181, quorum: 2888, election: 3888 } as const;

/** UID/GID of the "appuser" in apache/kafka and the Confluent images. */
export const KAFKA_UID = 1000;
const KAFKA_UID_EXCEPTION = { uid: KAFKA_UID, reason: "the image's appuser owns the log and snapshot directories on the claims; another UID cannot write existing data" };

const INIT_RESOURCES: ResourceSpec = { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } };

/** Where the broker claim is mounted; the log dir is a subdirectory so the volume root (lost+found) is not a log dir. */
export const BROKER_DATA_PATH = "/var/lib/kafka/data";
export const BROKER_LOG_DIRS = `${BROKER_DATA_PATH}/logs`;
export const ZOOKEEPER_DATA_PATH = "/var/lib/zookeeper";

/** Where the `<name>-scripts` ConfigMap (scripts/broker-start.sh) is mounted in the brokers. */
export const BROKER_SCRIPT_DIR = "/etc/broker-start";
/** The brokers' start script, as the ConfigMap carries it. */
export const BROKER_START_SCRIPT = fs.readFileSync(path.join(__dirname, "scripts", "broker-start.sh"), "utf8");
/** The images' own entrypoints, which broker-start.sh execs. */
export const BROKER_ENTRYPOINTS: Record<KafkaMode, string> = { kraft: "/etc/kafka/docker/run", zookeeper: "/etc/confluent/docker/run" };

export interface KafkaClusterArgs extends KafkaClusterSpec {
    namespace: pulumi.Input<string>;
    /** Who may connect on the client port (9092). Nobody else can. */
    clients: Peer[];
    /** System label (app.kubernetes.io/part-of), e.g. greenfield or outbox. */
    partOf: string;
    /** Protect the StatefulSets from `pulumi destroy` (prod). Claims are always retained. */
    protect?: boolean;
}

export function kafkaImages(mode: KafkaMode, version: string): { broker: string; zookeeper?: string } {
    return mode === "kraft"
        ? { broker: `apache/kafka:${version}` }
        : { broker: `confluentinc/cp-kafka:${version}`, zookeeper: `confluentinc/cp-zookeeper:${version}` };
}

/** KRaft voters: a majority must be up, so an odd quorum of 1, 3 or 5 of the first brokers. */
export function controllerVoterCount(brokers: number): number {
    return brokers >= 5 ? 5 : brokers >= 3 ? 3 : 1;
}

/** Stable DNS name of pod `ordinal` of a StatefulSet behind its headless Service. */
export function podHost(statefulSet: string, ordinal: number, namespace: string): string {
    return `${statefulSet}-${ordinal}.${statefulSet}-headless.${namespace}.svc.cluster.local`;
}

/** JVM heap: half the memory limit (the rest is page cache and off-heap), in MiB. */
export function heapOpts(memoryLimit: string): string {
    const mib = Math.max(128, Math.floor(parseQuantity(memoryLimit)! / 2 ** 20 / 2));
    return `-Xms${mib}m -Xmx${mib}m`;
}

/**
 * KRaft cluster.id: 16 bytes, base64url without padding (what `kafka-storage random-uuid` prints).
 * Derived from project, stack and name so it is stable across runs and re-creations.
 */
export function kraftClusterId(project: string, stack: string, name: string): string {
    return crypto.createHash("md5").update(`${project}/${stack}/${name}`).digest("base64url");
}

const env = (name: string, value: pulumi.Input<string>): EnvVar => ({ name, value });
const podNameEnv: EnvVar = { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } };

export class KafkaCluster extends pulumi.ComponentResource {
    /** Comma-separated host:port of every broker (pod DNS names via the headless Service). */
    public readonly bootstrapServers: pulumi.Output<string>;
    /** The same, as a list (what the kafka provider takes). */
    public readonly bootstrapServerList: pulumi.Output<string[]>;
    /** The brokers' external addresses (EXTERNAL listener), undefined without `external`. */
    public readonly externalBootstrapServerList: pulumi.Output<string[] | undefined>;
    /** The per-broker Services of the EXTERNAL listener. */
    public readonly externalServices: k8s.core.v1.Service[] = [];
    public readonly brokers: pulumi.Output<number>;
    public readonly mode: pulumi.Output<KafkaMode>;
    public readonly clientServiceName: pulumi.Output<string>;
    /** ZooKeeper connect string (zookeeper mode), else undefined. */
    public readonly zookeeperConnect: pulumi.Output<string | undefined>;
    /** The brokers as a traffic peer, and the egress rule a client workload needs to reach them. */
    public readonly peer: Peer;
    public readonly clientEgress: TrafficRule;
    /** The flows of the cluster (for diagrams and tests). */
    public readonly flows: readonly Flow[];
    public readonly brokerWorkload: Workload;
    public readonly zookeeperWorkload?: Workload;

    constructor(name: string, args: KafkaClusterArgs | Checked<KafkaClusterArgs>, opts?: pulumi.ComponentResourceOptions) {
        // Checked once: where the config entered (a system's spec), or here for a cluster built directly.
        const spec: KafkaClusterSpec = isChecked(args) ? args : validateKafkaClusterArgs(`KafkaCluster(${name})`, name, args);
        super("platform:messaging:KafkaCluster", name, {}, opts);

        const ns = pulumi.output(args.namespace);
        const images = kafkaImages(spec.mode, spec.version);
        const brokerName = name;
        const zkName = `${name}-zookeeper`;
        const brokerId: AppIdentity = { name: brokerName, app: "kafka", component: "kafka", partOf: args.partOf, version: spec.version };
        const zkId: AppIdentity = { name: zkName, app: "zookeeper", component: "zookeeper", partOf: args.partOf, version: spec.version };
        const brokerPeer: Peer = { kind: "pods", namespace: args.namespace, selector: selectorLabels(brokerId) };
        const zkPeer: Peer = { kind: "pods", namespace: args.namespace, selector: selectorLabels(zkId) };
        const zk = spec.mode === "zookeeper" ? spec.zookeeper! : undefined;

        // Who talks to whom: the NetworkPolicies of both StatefulSets come from this plan.
        const brokersEp: Endpoint = { id: `${name}/kafka`, peer: brokerPeer };
        const zkEp: Endpoint = { id: `${name}/zookeeper`, peer: zkPeer };
        const tcp = (...ports: number[]): PortSpec[] => ports.map(port => ({ port, protocol: "TCP" }));
        const plan = new TrafficPlan();
        args.clients.forEach((peer, i) => plan.allow({ id: `${name}/client-${i}`, peer }, brokersEp, tcp(KAFKA_PORTS.client)));
        // The EXTERNAL listener: only the configured source ranges, only on its port.
        const ext = spec.external;
        ext?.sourceCidrs.forEach((cidr, i) => plan.allow({ id: `${name}/external-${i}`, peer: { kind: "cidr", cidr } }, brokersEp, tcp(ext.port)));
        // Replication (and, in KRaft, the controller quorum) between brokers.
        plan.allow(brokersEp, brokersEp, spec.mode === "kraft" ? tcp(KAFKA_PORTS.client, KAFKA_PORTS.controller) : tcp(KAFKA_PORTS.client));
        if (zk) {
            plan.allow(brokersEp, zkEp, tcp(ZOOKEEPER_PORTS.client));
            if (zk.replicas > 1) {
                plan.allow(zkEp, zkEp, tcp(ZOOKEEPER_PORTS.quorum, ZOOKEEPER_PORTS.election));
            }
        }
        this.flows = plan.flows;

        const childOpts: pulumi.ComponentResourceOptions = { parent: this };

        // ZooKeeper ensemble (zookeeper mode).
        let zookeeperConnect: pulumi.Output<string | undefined> = pulumi.output(undefined);
        if (zk) {
            const zkHosts = ns.apply(n => Array.from({ length: zk.replicas }, (_, i) => podHost(zkName, i, n)));
            zookeeperConnect = zkHosts.apply(hs => hs.map(h => `${h}:${ZOOKEEPER_PORTS.client}`).join(","));
            const zkResources = zk.resources ?? DEFAULT_ZOOKEEPER_RESOURCES;
            const zkEnv: pulumi.Input<EnvVar>[] = [
                env("ZOOKEEPER_CLIENT_PORT", String(ZOOKEEPER_PORTS.client)),
                env("ZOOKEEPER_TICK_TIME", "2000"),
                // Snapshots and transaction logs are purged daily, keeping 3: the claim is small (2Gi).
                env("ZOOKEEPER_AUTOPURGE_SNAP_RETAIN_COUNT", "3"),
                env("ZOOKEEPER_AUTOPURGE_PURGE_INTERVAL", "24"),
                env("KAFKA_HEAP_OPTS", heapOpts(zkResources.limits.memory)),
                env("LOG_DIR", "/var/log/kafka"),
            ];
            if (zk.replicas > 1) {
                zkEnv.push(
                    env("ZOOKEEPER_INIT_LIMIT", "10"),
                    env("ZOOKEEPER_SYNC_LIMIT", "5"),
                    env("ZOOKEEPER_SERVERS", zkHosts.apply(hs => hs.map(h => `${h}:${ZOOKEEPER_PORTS.quorum}:${ZOOKEEPER_PORTS.election}`).join(";"))),
                );
            }
            const zkContainer: ContainerSpec = {
                name: "zookeeper",
                image: images.zookeeper!,
                command: ["sh", "-c"],
                // myid is 1-based: pod zk-0 is server 1.
                args: [zk.replicas > 1
                    ? 'ORDINAL="${HOSTNAME##*-}"\nexport ZOOKEEPER_SERVER_ID="$((ORDINAL + 1))"\nexec /etc/confluent/docker/run'
                    : "exec /etc/confluent/docker/run"],
                ports: [
                    { name: "client", containerPort: ZOOKEEPER_PORTS.client },
                    { name: "quorum", containerPort: ZOOKEEPER_PORTS.quorum },
                    { name: "election", containerPort: ZOOKEEPER_PORTS.election },
                ],
                env: zkEnv,
                resources: zkResources,
                startupProbe: tcpProbe(ZOOKEEPER_PORTS.client, { initialDelaySeconds: 5, failureThreshold: 30 }),
                // Ready: the server answers `srvr` (whitelisted by default) with its mode, which it
                // does only while it serves (standalone, or in a quorum); alive: it holds its port.
                readinessProbe: execProbe(["bash", "-c", ZOOKEEPER_SERVING], { initialDelaySeconds: 5 }),
                livenessProbe: livenessTcp(ZOOKEEPER_PORTS.client, { initialDelaySeconds: 0 }),
                volumeMounts: [{ name: "data", mountPath: ZOOKEEPER_DATA_PATH }],
                // The image writes its generated zookeeper.properties and log4j config to /etc/kafka.
                writablePaths: ["/etc/kafka", "/var/log/kafka"],
            };
            this.zookeeperWorkload = new Workload(`${name}-zookeeper`, {
                namespace: args.namespace,
                identity: zkId,
                kind: "StatefulSet",
                // A quorum cannot form one pod at a time: members start together.
                podManagementPolicy: "Parallel",
                replicas: zk.replicas,
                uidException: KAFKA_UID_EXCEPTION,
                profile: DATA_STORE,
                containers: [zkContainer],
                // The image expects data/ and log/ under /var/lib/zookeeper; the claim is mounted there empty.
                initContainers: [{
                    name: "prepare-dirs",
                    image: images.zookeeper!,
                    command: ["sh", "-c", `mkdir -p ${ZOOKEEPER_DATA_PATH}/data ${ZOOKEEPER_DATA_PATH}/log`],
                    resources: INIT_RESOURCES,
                    volumeMounts: [{ name: "data", mountPath: ZOOKEEPER_DATA_PATH }],
                }],
                volumeClaims: [{ name: "data", size: zk.storage, storageClass: spec.storageClass }],
                servicePorts: [{ name: "client", port: ZOOKEEPER_PORTS.client }],
                traffic: plan.rulesFor(zkEp),
                protect: args.protect,
            }, childOpts);
        }

        // Brokers.
        const brokerResources = spec.resources ?? DEFAULT_BROKER_RESOURCES;
        const rf = spec.defaultReplicationFactor;
        const minIsr = spec.minInsyncReplicas;
        const brokerHosts = ns.apply(n => Array.from({ length: spec.brokers }, (_, i) => podHost(brokerName, i, n)));
        // EXTERNAL listener: every broker advertises its own configured address (picked by ordinal in broker-start.sh).
        const extProto = ext ? ",EXTERNAL:PLAINTEXT" : "";
        const voters = controllerVoterCount(spec.brokers);
        // scripts/broker-start.sh reads BROKER_* (never turned into properties by the images) and sets
        // the node/broker id, process roles and listeners of its ordinal before the image's entrypoint.
        const brokerEnv: pulumi.Input<EnvVar>[] = [
            podNameEnv,
            env("BROKER_MODE", spec.mode),
            env("BROKER_CLIENT_PORT", String(KAFKA_PORTS.client)),
            ...(spec.mode === "kraft" ? [
                env("BROKER_CONTROLLER_PORT", String(KAFKA_PORTS.controller)),
                env("BROKER_CONTROLLER_VOTERS", String(voters)),
            ] : []),
            ...(ext ? [env("BROKER_EXTERNAL_PORT", String(ext.port)), env("BROKER_EXTERNAL_ADDRESSES", ext.advertisedAddresses.join(" "))] : []),
            // $(POD_NAME) is expanded by the kubelet: every broker advertises its own stable DNS name.
            env("KAFKA_ADVERTISED_LISTENERS", pulumi.interpolate`PLAINTEXT://$(POD_NAME).${brokerName}-headless.${ns}.svc.cluster.local:${KAFKA_PORTS.client}`),
            env("KAFKA_INTER_BROKER_LISTENER_NAME", "PLAINTEXT"),
            env("KAFKA_LOG_DIRS", BROKER_LOG_DIRS),
            env("KAFKA_DEFAULT_REPLICATION_FACTOR", String(rf)),
            env("KAFKA_MIN_INSYNC_REPLICAS", String(minIsr)),
            env("KAFKA_AUTO_CREATE_TOPICS_ENABLE", String(spec.autoCreateTopics ?? false)),
            env("KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE", "false"),
            // Internal topics get the same durability as ours.
            env("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", String(rf)),
            env("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", String(rf)),
            env("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", String(minIsr)),
            env("KAFKA_HEAP_OPTS", heapOpts(brokerResources.limits.memory)),
        ];
        let writablePaths: string[];
        if (spec.mode === "kraft") {
            const clusterId = kraftClusterId(pulumi.getProject(), pulumi.getStack(), name);
            brokerEnv.push(
                env("CLUSTER_ID", clusterId),
                env("KAFKA_CONTROLLER_LISTENER_NAMES", "CONTROLLER"),
                env("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", `PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT${extProto}`),
                env("KAFKA_CONTROLLER_QUORUM_VOTERS", brokerHosts.apply(hs =>
                    hs.slice(0, voters).map((h, i) => `${i}@${h}:${KAFKA_PORTS.controller}`).join(","))),
                env("LOG_DIR", "/opt/kafka/logs"),
            );
            // The image renders server.properties into /opt/kafka/config at start.
            writablePaths = ["/opt/kafka/config", "/opt/kafka/logs"];
        } else {
            brokerEnv.push(
                env("KAFKA_ZOOKEEPER_CONNECT", zookeeperConnect.apply(c => c!)),
                env("KAFKA_LISTENERS", `PLAINTEXT://0.0.0.0:${KAFKA_PORTS.client}${ext ? `,EXTERNAL://0.0.0.0:${ext.port}` : ""}`),
                env("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", `PLAINTEXT:PLAINTEXT${extProto}`),
                env("LOG_DIR", "/var/log/kafka"),
            );
            // The image renders kafka.properties and log4j config into /etc/kafka at start.
            writablePaths = ["/etc/kafka", "/var/log/kafka"];
        }
        // Content-named: a changed script rolls the brokers.
        const brokerScripts = rollingConfigMap(`${name}-scripts`, {
            namespace: args.namespace,
            labels: standardLabels(brokerId),
            data: { "broker-start.sh": BROKER_START_SCRIPT },
        }, childOpts);
        const brokerPorts: ContainerPort[] = [{ name: "kafka", containerPort: KAFKA_PORTS.client }];
        if (spec.mode === "kraft") {
            brokerPorts.push({ name: "controller", containerPort: KAFKA_PORTS.controller });
        }
        if (ext) {
            brokerPorts.push({ name: "external", containerPort: ext.port });
        }
        this.brokerWorkload = new Workload(`${name}-broker`, {
            namespace: args.namespace,
            identity: brokerId,
            kind: "StatefulSet",
            podManagementPolicy: "Parallel",
            replicas: spec.brokers,
            uidException: KAFKA_UID_EXCEPTION,
            profile: DATA_STORE,
            containers: [{
                name: "kafka",
                image: images.broker,
                command: ["/bin/sh", `${BROKER_SCRIPT_DIR}/broker-start.sh`, BROKER_ENTRYPOINTS[spec.mode]],
                ports: brokerPorts,
                env: brokerEnv,
                resources: brokerResources,
                // Log recovery after an unclean stop can take minutes: the startup probe allows 10.
                startupProbe: tcpProbe(KAFKA_PORTS.client, { initialDelaySeconds: 10, failureThreshold: 60 }),
                readinessProbe: tcpProbe(KAFKA_PORTS.client, { initialDelaySeconds: 5 }),
                // Ready: the client listener accepts connections. Alive: the JVM (PID 1) exists; a
                // broker has no second port every member listens on (only KRaft voters open 9093),
                // and restarting a broker that is slow to accept is what readiness must not cause.
                livenessProbe: livenessExec(PID1_ALIVE, { initialDelaySeconds: 0 }),
                volumeMounts: [{ name: "data", mountPath: BROKER_DATA_PATH }, { name: "scripts", mountPath: BROKER_SCRIPT_DIR, readOnly: true }],
                writablePaths,
            }],
            volumes: [{ name: "scripts", configMap: { name: brokerScripts.metadata.name, defaultMode: 0o555 } }],
            volumeClaims: [{ name: "data", size: spec.brokerStorage, storageClass: spec.storageClass }],
            // Clients bootstrap on 9092; the controller port is reached by pod DNS name only.
            servicePorts: [{ name: "kafka", port: KAFKA_PORTS.client }],
            traffic: plan.rulesFor(brokersEp),
            // Controlled shutdown moves partition leadership away before the pod stops.
            terminationGracePeriodSeconds: 120,
            protect: args.protect,
        }, this.zookeeperWorkload ? { ...childOpts, dependsOn: [this.zookeeperWorkload] } : childOpts);

        // One Service per broker for the EXTERNAL listener: a client is sent to each broker's own address.
        if (ext) {
            for (let i = 0; i < spec.brokers; i++) {
                this.externalServices.push(new k8s.core.v1.Service(`${name}-external-${i}`, {
                    metadata: {
                        name: `${brokerName}-external-${i}`, namespace: args.namespace, annotations: OWNED_ANNOTATIONS,
                        labels: { ...selectorLabels(brokerId), "app.kubernetes.io/component": "kafka", "app.kubernetes.io/managed-by": "pulumi" },
                    },
                    spec: {
                        type: ext.serviceType,
                        // The StatefulSet controller labels each pod with its name: the Service reaches exactly broker i.
                        selector: { ...selectorLabels(brokerId), "statefulset.kubernetes.io/pod-name": `${brokerName}-${i}` },
                        ports: [{
                            name: "external", port: ext.port, targetPort: ext.port, protocol: "TCP",
                            ...(ext.nodePorts ? { nodePort: ext.nodePorts[i] } : {}),
                        }],
                        // Client addresses reach the pod unchanged, so the NetworkPolicy's source ranges apply.
                        externalTrafficPolicy: "Local",
                        ...(ext.serviceType === "LoadBalancer" ? { loadBalancerSourceRanges: ext.sourceCidrs } : {}),
                    },
                }, { parent: this, dependsOn: [this.brokerWorkload] }));
            }
        }
        this.externalBootstrapServerList = pulumi.output(ext?.advertisedAddresses);

        this.peer = this.brokerWorkload.peer;
        this.clientEgress = { peer: this.peer, ports: tcp(KAFKA_PORTS.client) };
        this.bootstrapServerList = brokerHosts.apply(hs => hs.map(h => `${h}:${KAFKA_PORTS.client}`));
        this.bootstrapServers = this.bootstrapServerList.apply(l => l.join(","));
        this.brokers = pulumi.output(spec.brokers);
        this.mode = pulumi.output(spec.mode);
        this.clientServiceName = this.brokerWorkload.serviceName.apply(s => s ?? brokerName);
        this.zookeeperConnect = zookeeperConnect;

        this.registerOutputs({
            bootstrapServers: this.bootstrapServers, brokers: this.brokers, mode: this.mode,
            clientServiceName: this.clientServiceName, zookeeperConnect: this.zookeeperConnect,
        });
    }
}
