import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { selectorLabels } from "../../components/k8s/labels";
import { NamespaceBaseline } from "../../components/k8s/namespace";
import { Peer } from "../../components/k8s/traffic";
import { Workload } from "../../components/k8s/workload";
import {
    controllerVoterCount, KafkaCluster, KafkaClusterArgs, kraftClusterId,
} from "../../components/messaging/kafka";
import { greenfieldTopics, OUTBOX_TOPIC_NAMES, outboxTopics, SEVEN_DAYS_MS } from "../../components/messaging/spec";
import { KafkaTopics, KafkaTopicsArgs } from "../../components/messaging/topics";
import { packViolations } from "./stack-resources";
import { containsSecret, RecordedResource } from "./mocks";
import { byName, capture, ofType, podSpec, T, valueOf, withEphemeral } from "./helpers";
import { brokerContainer, entrypointEnv } from "./broker-start";
import { livenessTcp } from "../../components/k8s/container";
import { DATA_STORE, UID_EXCEPTION_ANNOTATION } from "../../components/k8s/profile";

const KAFKA_PROVIDER = "pulumi:providers:kafka";
/** The start script as the repository holds it (what the ConfigMap must carry). */
const BROKER_START_SCRIPT_FILE = fs.readFileSync(path.join(__dirname, "..", "..", "components", "messaging", "scripts", "broker-start.sh"), "utf8");
const TOPIC = "kafka:index/topic:Topic";
const NS = "messaging";
const svcHost = (sts: string, i: number) => `${sts}-${i}.${sts}-headless.${NS}.svc.cluster.local`;

/** The FastAPI app of greenfield-cluster.md (the design's Kafka producer) as the client. */
const fastapi = { name: "fastapi", app: "fastapi", component: "fastapi", partOf: "greenfield" };
const fastapiPeer: Peer = { kind: "pods", namespace: "apps", selector: selectorLabels(fastapi) };
/** outbox-events.md's REST service (publishes resource.*). */
const restService = { name: "rest-service", app: "rest-service", component: "rest-service", partOf: "outbox" };
const restPeer: Peer = { kind: "pods", namespace: "apps", selector: selectorLabels(restService) };

/** greenfield-cluster.md: 3 brokers with 10Gi each + 3 ZooKeeper with 2Gi each. */
function greenfield(over: Partial<KafkaClusterArgs> = {}): KafkaClusterArgs {
    return {
        namespace: NS, mode: "zookeeper", brokers: 3, brokerStorage: "10Gi", zookeeper: { replicas: 3, storage: "2Gi" },
        storageClass: "fast", version: "7.7.1", defaultReplicationFactor: 3, minInsyncReplicas: 2,
        clients: [fastapiPeer], partOf: "greenfield", ...over,
    };
}

function kraft(over: Partial<KafkaClusterArgs> = {}): KafkaClusterArgs {
    return {
        namespace: NS, mode: "kraft", brokers: 3, brokerStorage: "10Gi", version: "4.0.0",
        defaultReplicationFactor: 3, minInsyncReplicas: 2, clients: [restPeer], partOf: "outbox", ...over,
    };
}

type Env = { name: string; value?: string; valueFrom?: unknown };
const envOf = (container: { env: Env[] }): Record<string, string | undefined> =>
    Object.fromEntries(container.env.map(e => [e.name, e.value]));
const ports = (list: { port?: number; containerPort?: number }[]) => list.map(p => p.port ?? p.containerPort);
const container = (res: RecordedResource[], sts: string) => podSpec(byName(res, T.statefulSet, sts)).containers[0];

const selector = (instance: string, partOf: string) => ({ "app.kubernetes.io/instance": instance, "app.kubernetes.io/part-of": partOf });
const podPeer = (ns: string, instance: string, partOf: string) => ({
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } },
    podSelector: { matchLabels: selector(instance, partOf) },
});
const tcp = (...ps: number[]) => ps.map(port => ({ port, protocol: "TCP" }));

describe("KafkaCluster", () => {
    describe("greenfield layout (zookeeper mode: 3 brokers x 10Gi + 3 ZooKeeper x 2Gi)", () => {
        let res: RecordedResource[];
        let cluster: KafkaCluster;
        before(async () => { res = await capture(() => { cluster = new KafkaCluster("kafka", greenfield()); }); });

        it("runs pinned Confluent 7.x images as two StatefulSets of 3 started in parallel", () => {
            const kafka = byName(res, T.statefulSet, "kafka").inputs.spec;
            const zk = byName(res, T.statefulSet, "kafka-zookeeper").inputs.spec;
            expect(kafka.template.spec.containers[0].image).to.equal("confluentinc/cp-kafka:7.7.1");
            expect(zk.template.spec.containers[0].image).to.equal("confluentinc/cp-zookeeper:7.7.1");
            expect([kafka.replicas, zk.replicas]).to.deep.equal([3, 3]);
            expect([kafka.podManagementPolicy, zk.podManagementPolicy]).to.deep.equal(["Parallel", "Parallel"]);
            expect([kafka.serviceName, zk.serviceName]).to.deep.equal(["kafka-headless", "kafka-zookeeper-headless"]);
            expect(ofType(res, T.statefulSet)).to.have.length(2);
            expect(ofType(res, T.deployment)).to.have.length(0);
        });

        it("claims 10Gi per broker and 2Gi per ZooKeeper member of the storage class, retained", () => {
            for (const [sts, size, mount] of [["kafka", "10Gi", "/var/lib/kafka/data"], ["kafka-zookeeper", "2Gi", "/var/lib/zookeeper"]]) {
                const spec = byName(res, T.statefulSet, sts).inputs.spec;
                expect(spec.volumeClaimTemplates).to.have.length(1);
                const claim = spec.volumeClaimTemplates[0];
                expect([claim.metadata.name, claim.spec.resources.requests.storage, claim.spec.storageClassName, claim.spec.accessModes])
                    .to.deep.equal(["data", size, "fast", ["ReadWriteOnce"]]);
                expect(spec.persistentVolumeClaimRetentionPolicy).to.deep.equal({ whenDeleted: "Retain", whenScaled: "Retain" });
                expect(spec.template.spec.containers[0].volumeMounts.find((m: { name: string }) => m.name === "data").mountPath).to.equal(mount);
            }
        });

        it("configures the brokers: replication factor 3, min.insync.replicas 2, no auto-created topics, ZooKeeper ensemble", () => {
            const c = container(res, "kafka");
            const env = envOf(c);
            expect(env).to.include({
                KAFKA_DEFAULT_REPLICATION_FACTOR: "3",
                KAFKA_MIN_INSYNC_REPLICAS: "2",
                KAFKA_AUTO_CREATE_TOPICS_ENABLE: "false",
                KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE: "false",
                KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: "3",
                KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: "3",
                KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: "2",
                KAFKA_LISTENERS: "PLAINTEXT://0.0.0.0:9092",
                KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: "PLAINTEXT:PLAINTEXT",
                KAFKA_INTER_BROKER_LISTENER_NAME: "PLAINTEXT",
                KAFKA_LOG_DIRS: "/var/lib/kafka/data/logs",
                KAFKA_HEAP_OPTS: "-Xms1024m -Xmx1024m",
                KAFKA_ZOOKEEPER_CONNECT: [0, 1, 2].map(i => `${svcHost("kafka-zookeeper", i)}:2181`).join(","),
                // Each broker advertises its own pod DNS name; the kubelet expands $(POD_NAME).
                KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://$(POD_NAME).kafka-headless.${NS}.svc.cluster.local:9092`,
            });
            expect(c.env[0]).to.deep.equal({ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } });
            expect(c.env.findIndex((e: Env) => e.name === "POD_NAME")).to.be.below(c.env.findIndex((e: Env) => e.name === "KAFKA_ADVERTISED_LISTENERS"));
            // scripts/broker-start.sh from the ConfigMap, then the Confluent image's entrypoint; broker.id = ordinal.
            expect(c.command).to.deep.equal(["/bin/sh", "/etc/broker-start/broker-start.sh", "/etc/confluent/docker/run"]);
            expect(c.args).to.equal(undefined);
            expect(brokerContainer(res, "kafka").mounted["/etc/broker-start"]).to.deep.equal({ "broker-start.sh": BROKER_START_SCRIPT_FILE });
            expect(entrypointEnv(res, "kafka", "kafka-2")).to.include({ KAFKA_BROKER_ID: "2", KAFKA_LISTENERS: "PLAINTEXT://0.0.0.0:9092" });
            expect(ports(c.ports)).to.deep.equal([9092]);
            expect(c.readinessProbe.tcpSocket).to.deep.equal({ port: 9092 });
            expect(podSpec(byName(res, T.statefulSet, "kafka")).terminationGracePeriodSeconds).to.equal(120);
        });

        it("configures a 3-member ZooKeeper ensemble on 2181/2888/3888 with 1-based server ids", () => {
            const c = container(res, "kafka-zookeeper");
            expect(envOf(c)).to.include({
                ZOOKEEPER_CLIENT_PORT: "2181",
                ZOOKEEPER_TICK_TIME: "2000",
                ZOOKEEPER_INIT_LIMIT: "10",
                ZOOKEEPER_SYNC_LIMIT: "5",
                ZOOKEEPER_AUTOPURGE_SNAP_RETAIN_COUNT: "3",
                ZOOKEEPER_AUTOPURGE_PURGE_INTERVAL: "24",
                KAFKA_HEAP_OPTS: "-Xms512m -Xmx512m",
                ZOOKEEPER_SERVERS: [0, 1, 2].map(i => `${svcHost("kafka-zookeeper", i)}:2888:3888`).join(";"),
            });
            expect(c.args[0]).to.contain('export ZOOKEEPER_SERVER_ID="$((ORDINAL + 1))"');
            expect(ports(c.ports)).to.deep.equal([2181, 2888, 3888]);
            const init = podSpec(byName(res, T.statefulSet, "kafka-zookeeper")).initContainers[0];
            expect(init.command).to.deep.equal(["sh", "-c", "mkdir -p /var/lib/zookeeper/data /var/lib/zookeeper/log"]);
        });

        it("runs every pod as the images' appuser (1000, an explicit UID exception) with a read-only root and writable config/log dirs", () => {
            for (const sts of ["kafka", "kafka-zookeeper"]) {
                const spec = podSpec(byName(res, T.statefulSet, sts));
                expect(spec.securityContext).to.include({ runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, runAsNonRoot: true });
                expect(byName(res, T.statefulSet, sts).inputs.metadata.annotations[UID_EXCEPTION_ANNOTATION]).to.match(/^uid 1000: the image's appuser owns/);
                expect(spec.containers[0].securityContext.readOnlyRootFilesystem).to.equal(true);
                const mounts = spec.containers[0].volumeMounts.map((m: { mountPath: string }) => m.mountPath);
                expect(mounts).to.include.members(["/tmp", "/etc/kafka", "/var/log/kafka"]);
            }
        });

        it("has a headless Service for pod DNS and a client Service per StatefulSet, on the client port only", () => {
            expect(byName(res, T.service, "kafka-headless").inputs.spec).to.include({ clusterIP: "None", publishNotReadyAddresses: true });
            expect(ports(byName(res, T.service, "kafka-headless").inputs.spec.ports)).to.deep.equal([9092]);
            expect(byName(res, T.service, "kafka").inputs.spec.type).to.equal("ClusterIP");
            expect(ports(byName(res, T.service, "kafka").inputs.spec.ports)).to.deep.equal([9092]);
            expect(ports(byName(res, T.service, "kafka-zookeeper").inputs.spec.ports)).to.deep.equal([2181]);
            expect(ports(byName(res, T.service, "kafka-zookeeper-headless").inputs.spec.ports)).to.deep.equal([2181]);
        });

        it("keeps 2 of 3 brokers and a ZooKeeper majority through voluntary disruptions, spread over nodes", () => {
            // A broker that is not Ready may be recovering its logs: evicted only while the budget holds.
            expect(byName(res, T.pdb, "kafka").inputs.spec).to.deep.equal({
                minAvailable: 2, selector: { matchLabels: selector("kafka", "greenfield") }, unhealthyPodEvictionPolicy: "IfHealthyBudget",
            });
            expect(byName(res, T.pdb, "kafka-zookeeper").inputs.spec.minAvailable).to.equal(2);
            const anti = podSpec(byName(res, T.statefulSet, "kafka")).affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0];
            expect(anti.podAffinityTerm).to.deep.equal({ topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: selector("kafka", "greenfield") } });
        });

        it("labels the pods so the traffic plan recognises kafka and zookeeper", () => {
            const kafkaLabels = byName(res, T.statefulSet, "kafka").inputs.spec.template.metadata.labels;
            const zkLabels = byName(res, T.statefulSet, "kafka-zookeeper").inputs.spec.template.metadata.labels;
            expect(kafkaLabels).to.include({ "app.kubernetes.io/name": "kafka", "app.kubernetes.io/component": "kafka", "app.kubernetes.io/part-of": "greenfield" });
            expect(zkLabels).to.include({ "app.kubernetes.io/name": "zookeeper", "app.kubernetes.io/component": "zookeeper", "app.kubernetes.io/part-of": "greenfield" });
        });

        it("lets clients reach the brokers on 9092, brokers replicate on 9092 and reach ZooKeeper on 2181", () => {
            const np = byName(res, T.netpol, "kafka").inputs.spec;
            expect(np.policyTypes).to.deep.equal(["Ingress", "Egress"]);
            expect(np.ingress).to.deep.equal([
                { from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "apps" } }, podSelector: { matchLabels: selector("fastapi", "greenfield") } }], ports: tcp(9092) },
                { from: [podPeer(NS, "kafka", "greenfield")], ports: tcp(9092) },
            ]);
            expect(np.egress).to.deep.equal([
                { to: [podPeer(NS, "kafka", "greenfield")], ports: tcp(9092) },
                { to: [podPeer(NS, "kafka-zookeeper", "greenfield")], ports: tcp(2181) },
            ]);
        });

        it("lets only brokers reach ZooKeeper on 2181 and the members form their quorum on 2888/3888", () => {
            const np = byName(res, T.netpol, "kafka-zookeeper").inputs.spec;
            expect(np.ingress).to.deep.equal([
                { from: [podPeer(NS, "kafka", "greenfield")], ports: tcp(2181) },
                { from: [podPeer(NS, "kafka-zookeeper", "greenfield")], ports: tcp(2888, 3888) },
            ]);
            expect(np.egress).to.deep.equal([{ to: [podPeer(NS, "kafka-zookeeper", "greenfield")], ports: tcp(2888, 3888) }]);
        });

        it("outputs the bootstrap servers, broker count, mode and client Service", async () => {
            expect(await valueOf(cluster.bootstrapServers)).to.equal([0, 1, 2].map(i => `${svcHost("kafka", i)}:9092`).join(","));
            expect(await valueOf(cluster.bootstrapServerList)).to.have.length(3);
            expect(await valueOf(cluster.brokers)).to.equal(3);
            expect(await valueOf(cluster.mode)).to.equal("zookeeper");
            expect(await valueOf(cluster.clientServiceName)).to.equal("kafka");
            expect(await valueOf(cluster.zookeeperConnect)).to.equal([0, 1, 2].map(i => `${svcHost("kafka-zookeeper", i)}:2181`).join(","));
            expect(cluster.clientEgress).to.deep.equal({ peer: cluster.peer, ports: [{ port: 9092, protocol: "TCP" }] });
        });
    });

    describe("KRaft layout (no ZooKeeper)", () => {
        let res: RecordedResource[];
        let cluster: KafkaCluster;
        before(async () => { res = await capture(() => { cluster = new KafkaCluster("events", kraft()); }); });

        it("runs apache/kafka with no ZooKeeper at all", () => {
            expect(ofType(res, T.statefulSet)).to.have.length(1);
            const c = container(res, "events");
            expect(c.image).to.equal("apache/kafka:4.0.0");
            expect(ports(c.ports)).to.deep.equal([9092, 9093]);
            // The start script (one file for both modes) is the only thing that names ZooKeeper.
            expect(res.filter(r => JSON.stringify(r.inputs).includes("zookeeper")).map(r => r.name)).to.deep.equal(["events-scripts"]);
        });

        it("forms a controller quorum of the 3 brokers on 9093 and derives node.id from the ordinal", () => {
            const c = container(res, "events");
            const env = envOf(c);
            expect(env).to.include({
                KAFKA_CONTROLLER_QUORUM_VOTERS: [0, 1, 2].map(i => `${i}@${svcHost("events", i)}:9093`).join(","),
                KAFKA_CONTROLLER_LISTENER_NAMES: "CONTROLLER",
                KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                KAFKA_INTER_BROKER_LISTENER_NAME: "PLAINTEXT",
                KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://$(POD_NAME).events-headless.${NS}.svc.cluster.local:9092`,
                KAFKA_DEFAULT_REPLICATION_FACTOR: "3",
                KAFKA_MIN_INSYNC_REPLICAS: "2",
                KAFKA_AUTO_CREATE_TOPICS_ENABLE: "false",
                KAFKA_LOG_DIRS: "/var/lib/kafka/data/logs",
                CLUSTER_ID: kraftClusterId(pulumi.getProject(), pulumi.getStack(), "events"),
            });
            expect(env.CLUSTER_ID).to.match(/^[A-Za-z0-9_-]{22}$/);
            expect(env).not.to.have.property("KAFKA_ZOOKEEPER_CONNECT");
            // scripts/broker-start.sh, mounted from the content-named ConfigMap, execs the image's entrypoint.
            expect(c.command).to.deep.equal(["/bin/sh", "/etc/broker-start/broker-start.sh", "/etc/kafka/docker/run"]);
            const { mounted } = brokerContainer(res, "events");
            expect(mounted["/etc/broker-start"]).to.deep.equal({ "broker-start.sh": BROKER_START_SCRIPT_FILE });
            const scriptsVolume = podSpec(byName(res, T.statefulSet, "events")).volumes.find((v: { name: string }) => v.name === "scripts");
            expect(scriptsVolume.configMap.defaultMode).to.equal(0o555);
            expect(byName(res, T.configMap, scriptsVolume.configMap.name).name).to.equal("events-scripts");
            expect(env).to.include({ BROKER_MODE: "kraft", BROKER_CLIENT_PORT: "9092", BROKER_CONTROLLER_PORT: "9093", BROKER_CONTROLLER_VOTERS: "3" });
            // Run in sh as each pod would: the first 3 ordinals are voters (9093 too), node.id = ordinal.
            const started = (pod: string) => {
                const e = entrypointEnv(res, "events", pod);
                return [e.KAFKA_NODE_ID, e.KAFKA_PROCESS_ROLES, e.KAFKA_LISTENERS];
            };
            expect(started("events-0")).to.deep.equal(["0", "broker,controller", "PLAINTEXT://:9092,CONTROLLER://:9093"]);
            expect(started("events-2")).to.deep.equal(["2", "broker,controller", "PLAINTEXT://:9092,CONTROLLER://:9093"]);
            const mounts = c.volumeMounts.map((m: { mountPath: string }) => m.mountPath);
            expect(mounts).to.include.members(["/var/lib/kafka/data", "/opt/kafka/config", "/opt/kafka/logs", "/tmp"]);
        });

        it("claims 10Gi per broker and keeps 2 of 3 brokers up", () => {
            const sts = byName(res, T.statefulSet, "events").inputs.spec;
            expect(sts.volumeClaimTemplates[0].spec.resources.requests.storage).to.equal("10Gi");
            expect(sts.volumeClaimTemplates[0].spec.storageClassName).to.equal(undefined);
            expect(byName(res, T.pdb, "events").inputs.spec.minAvailable).to.equal(2);
        });

        it("opens the controller port between brokers only; clients get 9092", () => {
            const np = byName(res, T.netpol, "events").inputs.spec;
            expect(np.ingress).to.deep.equal([
                { from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "apps" } }, podSelector: { matchLabels: selector("rest-service", "outbox") } }], ports: tcp(9092) },
                { from: [podPeer(NS, "events", "outbox")], ports: tcp(9092, 9093) },
            ]);
            expect(np.egress).to.deep.equal([{ to: [podPeer(NS, "events", "outbox")], ports: tcp(9092, 9093) }]);
            // The Services carry the client port only; the controller port is reached by pod DNS name.
            expect(ports(byName(res, T.service, "events").inputs.spec.ports)).to.deep.equal([9092]);
            expect(ports(byName(res, T.service, "events-headless").inputs.spec.ports)).to.deep.equal([9092]);
        });

        it("outputs mode kraft and the bootstrap servers", async () => {
            expect(await valueOf(cluster.mode)).to.equal("kraft");
            expect(await valueOf(cluster.bootstrapServers)).to.equal([0, 1, 2].map(i => `${svcHost("events", i)}:9092`).join(","));
            expect(await valueOf(cluster.zookeeperConnect)).to.equal(undefined);
        });

        it("uses an odd quorum of the first brokers: 1-2 -> 1, 3-4 -> 3, 5-9 -> 5 voters", async () => {
            expect([1, 2, 3, 4, 5, 6, 9].map(controllerVoterCount)).to.deep.equal([1, 1, 3, 3, 5, 5, 5]);
            const big = await capture(() => new KafkaCluster("big", kraft({ brokers: 7 })));
            const voters = envOf(container(big, "big")).KAFKA_CONTROLLER_QUORUM_VOTERS!.split(",");
            expect(voters).to.deep.equal([0, 1, 2, 3, 4].map(i => `${i}@${svcHost("big", i)}:9093`));
            // The start script makes ordinals 0-4 voters and 5-6 brokers only (no controller listener).
            const roles = (pod: string) => {
                const e = entrypointEnv(big, "big", pod);
                return [e.KAFKA_NODE_ID, e.KAFKA_PROCESS_ROLES, e.KAFKA_LISTENERS];
            };
            expect(roles("big-4")).to.deep.equal(["4", "broker,controller", "PLAINTEXT://:9092,CONTROLLER://:9093"]);
            expect(roles("big-5")).to.deep.equal(["5", "broker", "PLAINTEXT://:9092"]);
            expect(byName(big, T.pdb, "big").inputs.spec.minAvailable).to.equal(6);
        });

        it("runs a single dev broker without a PDB or anti-affinity", async () => {
            const one = await capture(() => new KafkaCluster("dev", kraft({ brokers: 1, defaultReplicationFactor: 1, minInsyncReplicas: 1 })));
            expect(ofType(one, T.pdb)).to.have.length(0);
            expect(podSpec(byName(one, T.statefulSet, "dev")).affinity).to.equal(undefined);
            expect(envOf(container(one, "dev")).KAFKA_CONTROLLER_QUORUM_VOTERS).to.equal(`0@${svcHost("dev", 0)}:9093`);
        });
    });

    it("runs a single ZooKeeper without quorum settings, quorum traffic or a PDB", async () => {
        const res = await capture(() => new KafkaCluster("small", greenfield({
            brokers: 1, zookeeper: { replicas: 1, storage: "2Gi" }, defaultReplicationFactor: 1, minInsyncReplicas: 1,
        })));
        const zk = container(res, "small-zookeeper");
        expect(envOf(zk)).not.to.have.property("ZOOKEEPER_SERVERS");
        expect(zk.args[0]).to.equal("exec /etc/confluent/docker/run");
        expect(ofType(res, T.pdb)).to.have.length(0);
        const np = byName(res, T.netpol, "small-zookeeper").inputs.spec;
        expect(np.ingress).to.deep.equal([{ from: [podPeer(NS, "small", "greenfield")], ports: tcp(2181) }]);
        expect(np.egress).to.deep.equal([]);
        expect(envOf(container(res, "small")).KAFKA_ZOOKEEPER_CONNECT).to.equal(`${svcHost("small-zookeeper", 0)}:2181`);
    });

    it("sizes the JVM heap at half the memory limit", async () => {
        const res = await capture(() => new KafkaCluster("sized", kraft({
            resources: { requests: { cpu: "1", memory: "2Gi" }, limits: { cpu: "2", memory: "4Gi" } },
        })));
        const c = container(res, "sized");
        expect(c.resources).to.deep.equal(withEphemeral({ requests: { cpu: "1", memory: "2Gi" }, limits: { cpu: "2", memory: "4Gi" } }, DATA_STORE));
        expect(envOf(c).KAFKA_HEAP_OPTS).to.equal("-Xms2048m -Xmx2048m");
    });

    it("protects both StatefulSets when asked to (prod)", () => {
        const c = new KafkaCluster("prot", greenfield({ protect: true }));
        expect((c.brokerWorkload.statefulSet as any).__protect).to.equal(true);
        expect((c.zookeeperWorkload!.statefulSet as any).__protect).to.equal(true);
    });

    describe("validation (nothing registered on bad input)", () => {
        const cases: [string, string, Partial<KafkaClusterArgs>, string][] = [
            ["an unknown mode", "zookeeper", { mode: "standalone" as never }, 'KafkaCluster(bad).mode: "standalone" is not allowed; allowed: zookeeper, kraft'],
            ["10 brokers", "zookeeper", { brokers: 10 }, "KafkaCluster(bad).brokers: 10 is not allowed; allowed: an integer from 1 to 9"],
            ["0 brokers", "kraft", { brokers: 0 }, "KafkaCluster(bad).brokers: 0 is not allowed; allowed: an integer from 1 to 9"],
            ["a broker storage that is not a quantity", "zookeeper", { brokerStorage: "10GB" },
                'KafkaCluster(bad).brokerStorage: "10GB" is not a storage quantity; allowed: e.g. 512Mi or 10Gi'],
            ["an unpinned version", "kraft", { version: "latest" },
                'KafkaCluster(bad).version: "latest" is not pinned; allowed: a version tag such as 4.0.0 (never "latest")'],
            ["Confluent 8 in zookeeper mode", "zookeeper", { version: "8.0.0" },
                'KafkaCluster(bad).version: "8.0.0" is not allowed in zookeeper mode; allowed: a Confluent Platform 7.x version such as 7.7.1 (confluentinc/cp-kafka 8.0 dropped ZooKeeper; use mode kraft)'],
            ["a Kafka without an official image in kraft mode", "kraft", { version: "3.6.2" },
                'KafkaCluster(bad).version: "3.6.2" is not allowed in kraft mode; allowed: an apache/kafka version from 3.7.0 on, such as 4.0.0'],
            ["zookeeper mode without an ensemble", "zookeeper", { zookeeper: undefined },
                "KafkaCluster(bad).zookeeper: missing in zookeeper mode; allowed: { replicas: 1, 3 or 5, storage: e.g. 2Gi }"],
            ["an ensemble in kraft mode", "kraft", { zookeeper: { replicas: 3, storage: "2Gi" } },
                "KafkaCluster(bad).zookeeper: ZooKeeper settings in kraft mode; allowed: no zookeeper section (KRaft runs its own controller quorum), or mode zookeeper"],
            ["an even ensemble", "zookeeper", { zookeeper: { replicas: 4, storage: "2Gi" } },
                "KafkaCluster(bad).zookeeper.replicas: 4 is not allowed; allowed: 1, 3, 5 (an odd ensemble keeps a majority)"],
            ["a ZooKeeper storage that is not a quantity", "zookeeper", { zookeeper: { replicas: 3, storage: "2 GiB" } },
                'KafkaCluster(bad).zookeeper.storage: "2 GiB" is not a storage quantity; allowed: e.g. 512Mi or 10Gi'],
            ["a misspelt ensemble key", "zookeeper", { zookeeper: { replica: 3, storage: "2Gi" } as never },
                "KafkaCluster(bad).zookeeper.replica: unknown key; allowed keys: replicas, storage, resources"],
            ["a replication factor above the brokers", "zookeeper", { defaultReplicationFactor: 4 },
                "KafkaCluster(bad).defaultReplicationFactor: 4 is above brokers 3; allowed: minInsyncReplicas <= defaultReplicationFactor <= brokers"],
            ["min.insync.replicas above the replication factor", "kraft", { defaultReplicationFactor: 2, minInsyncReplicas: 3 },
                "KafkaCluster(bad).minInsyncReplicas: 3 is above defaultReplicationFactor 2; allowed: minInsyncReplicas <= defaultReplicationFactor <= brokers"],
            ["min.insync.replicas 0", "kraft", { minInsyncReplicas: 0 },
                "KafkaCluster(bad).minInsyncReplicas: 0 is not allowed; allowed: an integer from 1 to 9"],
            ["a memory limit below its request", "kraft", { resources: { requests: { cpu: "1", memory: "2Gi" }, limits: { cpu: "2", memory: "1Gi" } } },
                "KafkaCluster(bad).resources.limits.memory: 1Gi is below the request 2Gi; allowed: a limit greater than or equal to the request"],
            ["an empty storage class", "kraft", { storageClass: "" }, 'KafkaCluster(bad).storageClass: "" is not allowed; allowed: a non-empty string'],
            ["a non-boolean autoCreateTopics", "kraft", { autoCreateTopics: "no" as never },
                'KafkaCluster(bad).autoCreateTopics: "no" is not allowed; allowed: true or false'],
            ["a part-of that is not a label value", "kraft", { partOf: "Green Field" },
                'KafkaCluster(bad).partOf: "Green Field" is not allowed; allowed: lowercase letters, digits and \'-\', starting and ending with a letter or digit, at most 63 characters'],
        ];
        for (const [what, mode, over, message] of cases) {
            it(`refuses ${what}`, async () => {
                const base = mode === "zookeeper" ? greenfield(over) : kraft(over);
                const res = await capture(() => {
                    expect(() => new KafkaCluster("bad", base)).to.throw(message);
                });
                expect(res).to.have.length(0);
            });
        }

        it("refuses a name that is not a DNS label", () => {
            expect(() => new KafkaCluster("Kafka_1", kraft())).to.throw("KafkaCluster(Kafka_1).name: \"Kafka_1\" is not allowed;");
        });
    });
});

describe("KafkaTopics", () => {
    const bootstrap = [0, 1, 2].map(i => `${svcHost("kafka", i)}:9092`);
    function args(over: Partial<KafkaTopicsArgs> = {}): KafkaTopicsArgs {
        return {
            bootstrapServers: bootstrap, brokers: 3,
            sasl: { mechanism: "scram-sha512", username: "pulumi", password: "s3cr3t-from-config" },
            topics: [...greenfieldTopics(3, 2), ...outboxTopics(3, 2)], ...over,
        };
    }

    describe("the design's topics", () => {
        let res: RecordedResource[];
        let topics: KafkaTopics;
        before(async () => { res = await capture(() => { topics = new KafkaTopics("events", args()); }); });

        it("creates test-topic with 3 partitions (greenfield-cluster.md), replicated 3 times", () => {
            const t = ofType(res, TOPIC).find(r => r.inputs.name === "test-topic")!;
            expect(t.name).to.equal("events-test-topic");
            expect(t.inputs).to.deep.equal({
                name: "test-topic", partitions: 3, replicationFactor: 3,
                config: { "retention.ms": String(SEVEN_DAYS_MS), "cleanup.policy": "delete", "min.insync.replicas": "2" },
            });
        });

        it("creates the outbox topics resource.created/updated/deleted and task.process/completed", () => {
            const outbox = ofType(res, TOPIC).filter(r => r.inputs.name !== "test-topic");
            expect(outbox.map(r => r.inputs.name)).to.deep.equal(["resource.created", "resource.updated", "resource.deleted", "task.process", "task.completed"]);
            for (const t of outbox) {
                expect([t.inputs.partitions, t.inputs.replicationFactor]).to.deep.equal([3, 3]);
                expect(t.inputs.config).to.deep.equal({ "retention.ms": "604800000", "cleanup.policy": "delete", "min.insync.replicas": "2" });
            }
        });

        it("creates every topic through its own explicit kafka Provider", () => {
            expect(ofType(res, KAFKA_PROVIDER)).to.have.length(1);
            for (const name of ["test-topic", ...OUTBOX_TOPIC_NAMES]) {
                expect((topics.topics[name] as any).__prov).to.equal(topics.provider);
            }
        });

        it("sets the provider from the args: bootstrap servers, TLS explicitly off, SASL with a secret password", () => {
            const p = ofType(res, KAFKA_PROVIDER)[0];
            expect(p.name).to.equal("events-provider");
            // Provider inputs reach the engine as strings (non-string values JSON-encoded).
            expect(JSON.parse(p.inputs.bootstrapServers)).to.deep.equal(bootstrap);
            expect(p.inputs).to.include({ tlsEnabled: "false", skipTlsVerify: "false", saslMechanism: "scram-sha512", saslUsername: "pulumi" });
            expect(p.inputs.saslPassword).to.equal("s3cr3t-from-config");
            expect(containsSecret(p.raw.saslPassword)).to.equal(true);
            expect(containsSecret(p.raw.saslUsername)).to.equal(false);
            // The password is nowhere else in the component's resources.
            expect(res.filter(r => r !== p && JSON.stringify(r.inputs).includes("s3cr3t-from-config"))).to.deep.equal([]);
        });

        it("outputs the topic names", async () => {
            expect(await valueOf(topics.topicNames)).to.deep.equal(["test-topic", ...OUTBOX_TOPIC_NAMES]);
        });
    });
});

describe("KafkaTopics connection and switches", () => {
    const base = (over: Partial<KafkaTopicsArgs> = {}): KafkaTopicsArgs => ({
        bootstrapServers: ["kafka-0.kafka-headless.messaging.svc.cluster.local:9092"], brokers: 1,
        topics: [{ name: "orders", partitions: 6, replicationFactor: 1 }], ...over,
    });

    it("sets tlsEnabled false explicitly without TLS or SASL args (the provider's own default is true)", async () => {
        const res = await capture(() => new KafkaTopics("plain", base()));
        const p = ofType(res, KAFKA_PROVIDER)[0];
        expect(p.inputs).to.include({ tlsEnabled: "false", skipTlsVerify: "false" });
        // No SASL: no credentials (the mechanism shows the provider's inert default).
        expect([p.inputs.saslUsername, p.inputs.saslPassword]).to.deep.equal([undefined, undefined]);
        expect(ofType(res, TOPIC)[0].inputs).to.deep.equal({ name: "orders", partitions: 6, replicationFactor: 1 });
    });

    it("passes TLS certificates and keeps the client key secret", async () => {
        const res = await capture(() => new KafkaTopics("mtls", base({
            tls: { enabled: true, caCert: "-----BEGIN CERTIFICATE-----ca", clientCert: "-----BEGIN CERTIFICATE-----me", clientKey: "-----BEGIN PRIVATE KEY-----k" },
            sasl: { mechanism: "scram-sha256", username: "svc", password: pulumi.secret("already-secret") },
        })));
        const p = ofType(res, KAFKA_PROVIDER)[0];
        expect(p.inputs).to.include({ tlsEnabled: "true", caCert: "-----BEGIN CERTIFICATE-----ca", saslMechanism: "scram-sha256", saslPassword: "already-secret" });
        expect(containsSecret(p.raw.clientKey)).to.equal(true);
        expect(containsSecret(p.raw.saslPassword)).to.equal(true);
    });

    it("takes the bootstrap servers from a KafkaCluster output", async () => {
        let cluster: KafkaCluster;
        const res = await capture(() => {
            cluster = new KafkaCluster("wired", kraft());
            new KafkaTopics("wired-topics", base({ bootstrapServers: cluster.bootstrapServerList, brokers: 3 }));
        });
        expect(JSON.parse(ofType(res, KAFKA_PROVIDER)[0].inputs.bootstrapServers)).to.deep.equal([0, 1, 2].map(i => `${svcHost("wired", i)}:9092`));
    });

    it("with enabled: false (render mode, no broker) validates but registers no provider and no topic", async () => {
        let topics: KafkaTopics;
        const res = await capture(() => { topics = new KafkaTopics("render", base({ enabled: false })); });
        expect(res.map(r => r.type)).to.deep.equal(["platform:messaging:KafkaTopics"]);
        expect(await valueOf(topics!.topicNames)).to.deep.equal(["orders"]);
        expect(() => new KafkaTopics("render-bad", base({ enabled: false, topics: [{ name: "x", partitions: 1, replicationFactor: 2 }] })))
            .to.throw("KafkaTopics(render-bad).topics[0].replicationFactor: 2 is above brokers 1");
    });

    it("accepts a topic below the cluster's min.insync.replicas when it sets its own", async () => {
        const res = await capture(() => new KafkaTopics("own-isr", base({
            brokers: 3, clusterMinInsyncReplicas: 2,
            topics: [{ name: "audit", partitions: 1, replicationFactor: 1, config: { "min.insync.replicas": 1, "cleanup.policy": "compact,delete", "retention.ms": -1 } }],
        })));
        expect(ofType(res, TOPIC)[0].inputs.config).to.deep.equal({ "retention.ms": "-1", "cleanup.policy": "compact,delete", "min.insync.replicas": "1" });
    });

    it("protects the topics when asked to", () => {
        const t = new KafkaTopics("kept", base({ protect: true }));
        expect((t.topics.orders as any).__protect).to.equal(true);
    });

    describe("validation (nothing registered on bad input)", () => {
        const topic = (over: object) => ({ topics: [{ name: "orders", partitions: 3, replicationFactor: 3, ...over }], brokers: 3 });
        const cases: [string, Partial<KafkaTopicsArgs>, string][] = [
            ["a replication factor above the brokers", topic({ replicationFactor: 4 }),
                "KafkaTopics(bad).topics[0].replicationFactor: 4 is above brokers 3; allowed: an integer from 1 to 3 (the number of brokers)"],
            ["0 partitions", topic({ partitions: 0 }), "KafkaTopics(bad).topics[0].partitions: 0 is not allowed; allowed: an integer from 1 to 1000"],
            ["min.insync.replicas above the replication factor", topic({ replicationFactor: 2, config: { "min.insync.replicas": 3 } }),
                "KafkaTopics(bad).topics[0].config.min.insync.replicas: 3 is above replicationFactor 2; allowed: an integer from 1 to 2 (the topic's replicationFactor)"],
            ["an unknown cleanup policy", topic({ config: { "cleanup.policy": "archive" } }),
                'KafkaTopics(bad).topics[0].config.cleanup.policy: "archive" is not allowed; allowed: delete, compact, compact,delete'],
            ["a retention that is not milliseconds", topic({ config: { "retention.ms": "7d" } }),
                'KafkaTopics(bad).topics[0].config.retention.ms: "7d" is not allowed; allowed: milliseconds as an integer >= 1, or -1 (keep forever)'],
            ["a retention of 0", topic({ config: { "retention.ms": 0 } }),
                "KafkaTopics(bad).topics[0].config.retention.ms: 0 is not allowed; allowed: milliseconds as an integer >= 1, or -1 (keep forever)"],
            ["a config key the component does not manage", topic({ config: { "segment.ms": 1 } }),
                "KafkaTopics(bad).topics[0].config.segment.ms: unknown key; allowed keys: retention.ms, cleanup.policy, min.insync.replicas"],
            ["an invalid topic name", topic({ name: "orders created!" }),
                'KafkaTopics(bad).topics[0].name: "orders created!" is not allowed; allowed: 1-249 characters of letters, digits, \'.\', \'_\' and \'-\', not "." or "..", not starting with "__" (Kafka\'s internal topics)'],
            ["an internal topic name", topic({ name: "__consumer_offsets" }), 'KafkaTopics(bad).topics[0].name: "__consumer_offsets" is not allowed'],
            ["a topic name of 250 characters", topic({ name: "t".repeat(250) }), "KafkaTopics(bad).topics[0].name:"],
            ["a duplicate topic", { brokers: 3, topics: [{ name: "a.b", partitions: 1, replicationFactor: 1 }, { name: "a.b", partitions: 1, replicationFactor: 1 }] },
                'KafkaTopics(bad).topics[1].name: "a.b" is declared twice; allowed: unique topic names'],
            ["topics that collide in metric names", { brokers: 3, topics: [{ name: "a.b", partitions: 1, replicationFactor: 1 }, { name: "a_b", partitions: 1, replicationFactor: 1 }] },
                'KafkaTopics(bad).topics[1].name: "a_b" collides with "a.b" (\'.\' and \'_\' are the same in Kafka\'s metric names); allowed: unique topic names'],
            ["10 brokers", { brokers: 10 }, "KafkaTopics(bad).brokers: 10 is not allowed; allowed: an integer from 1 to 9"],
            ["a topic replicated less than the cluster's min.insync.replicas", { ...topic({ replicationFactor: 1 }), clusterMinInsyncReplicas: 2 },
                "KafkaTopics(bad).topics[0].replicationFactor: 1 is below the cluster's min.insync.replicas 2; allowed: a replicationFactor from 2 to 3, or the topic's own config.min.insync.replicas"],
            ["a cluster min.insync.replicas above the brokers", { clusterMinInsyncReplicas: 4 },
                "KafkaTopics(bad).clusterMinInsyncReplicas: 4 is not allowed; allowed: an integer from 1 to 3"],
            ["no bootstrap servers", { bootstrapServers: [] }, "KafkaTopics(bad).bootstrapServers: [] is not allowed; allowed: a non-empty list of host:port"],
            ["a bootstrap server without a port", { bootstrapServers: ["kafka"] },
                'KafkaTopics(bad).bootstrapServers[0]: "kafka" is not allowed; allowed: host:port, e.g. kafka-0.kafka-headless.messaging.svc.cluster.local:9092'],
            ["bootstrap servers as one string", { bootstrapServers: "kafka:9092" as never },
                'KafkaTopics(bad).bootstrapServers: "kafka:9092" is not allowed; allowed: a non-empty list of host:port'],
            ["an unknown SASL mechanism", { sasl: { mechanism: "gssapi" as never, username: "u", password: "p" } },
                'KafkaTopics(bad).sasl.mechanism: "gssapi" is not allowed; allowed: plain, scram-sha256, scram-sha512'],
            ["an empty SASL password", { sasl: { mechanism: "plain", username: "u", password: "" } },
                "KafkaTopics(bad).sasl.password: missing or empty; allowed: a non-empty string (the password as a secret)"],
            ["a SASL section without a username", { sasl: { mechanism: "plain", password: "p" } as never },
                "KafkaTopics(bad).sasl.username: missing or empty; allowed: a non-empty string (the password as a secret)"],
            ["certificates with TLS disabled", { tls: { enabled: false, caCert: "-----BEGIN CERTIFICATE-----" } },
                "KafkaTopics(bad).tls: caCert set with TLS disabled; allowed: enabled true, or no certificates"],
            ["a TLS section without enabled", { tls: {} as never }, "KafkaTopics(bad).tls.enabled: undefined is not allowed; allowed: true or false"],
            ["a client certificate without its key", { tls: { enabled: true, clientCert: "c" } },
                "KafkaTopics(bad).tls: clientCert and clientKey come together; allowed: both or neither"],
            ["a non-boolean enabled", { enabled: "no" as never }, 'KafkaTopics(bad).enabled: "no" is not allowed; allowed: true or false'],
            ["a protocol version that is not MAJOR.MINOR.PATCH", { kafkaVersion: "3.9" },
                'KafkaTopics(bad).kafkaVersion: "3.9" is not allowed; allowed: a protocol version as MAJOR.MINOR.PATCH, e.g. 3.9.0'],
        ];
        for (const [what, over, message] of cases) {
            it(`refuses ${what}`, async () => {
                const a = { bootstrapServers: ["kafka:9092"], brokers: 3, topics: [{ name: "orders", partitions: 3, replicationFactor: 3 }], ...over };
                const res = await capture(() => {
                    expect(() => new KafkaTopics("bad", a)).to.throw(message);
                });
                expect(res).to.have.length(0);
            });
        }

        it("never echoes a SASL password in an error", () => {
            expect(() => new KafkaTopics("bad", base({ sasl: { mechanism: "plain", username: "u", password: "  \t " } })))
                .to.throw(Error).with.property("message", "KafkaTopics(bad).sasl.password: missing or empty; allowed: a non-empty string (the password as a secret)");
        });
    });
});

describe("messaging resources under the policy pack (prod config)", () => {
    const quota = {
        requestsCpu: "8", requestsMemory: "16Gi", limitsCpu: "16", limitsMemory: "32Gi",
        requestsStorage: "100Gi", pods: 50, persistentVolumeClaims: 20,
    };
    const limits = {
        defaultRequest: { cpu: "100m", memory: "128Mi" }, default: { cpu: "500m", memory: "512Mi" }, max: { cpu: "4", memory: "8Gi" },
    };

    /** A Kafka client app with egress to the brokers (the other half of the client flow). */
    function clientApp(id: typeof fastapi, cluster: KafkaCluster): Workload {
        return new Workload(`${id.name}-app`, {
            namespace: "apps", identity: { ...id, version: "1.0.0" }, kind: "Deployment", replicas: 2,
            containers: [{
                name: "app", image: `example/${id.name}:1.0.0`, ports: [{ name: "http", containerPort: 8000 }],
                resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
                livenessProbe: livenessTcp(8000), readinessProbe: { httpGet: { path: "/ready", port: 8000 } },
            }],
            servicePorts: [{ name: "http", port: 8000 }],
            traffic: { ingress: [], egress: [cluster.clientEgress] },
        });
    }

    async function violations(build: () => void): Promise<string[]> {
        const res = await capture(() => {
            new NamespaceBaseline("ns-messaging", { name: NS, quota, limits });
            new NamespaceBaseline("ns-apps", { name: "apps", quota, limits });
            build();
        });
        return packViolations(res);
    }

    it("finds zero violations in the greenfield layout with its FastAPI producer", async () => {
        expect(await violations(() => clientApp(fastapi, new KafkaCluster("kafka", greenfield({ protect: true }))))).to.deep.equal([]);
    });

    it("finds zero violations in the KRaft layout with the outbox REST service", async () => {
        expect(await violations(() => clientApp(restService, new KafkaCluster("events", kraft())))).to.deep.equal([]);
    });

    it("flags a client outside the plan (a restapi view talking to the greenfield brokers)", async () => {
        const view = { name: "orders-view", app: "restapi", component: "view", partOf: "restapi" };
        const found = await violations(() => {
            const cluster = new KafkaCluster("kafka", greenfield({ clients: [fastapiPeer, { kind: "pods", namespace: "apps", selector: selectorLabels(view) }] }));
            clientApp(fastapi, cluster);
            clientApp(view, cluster);
        });
        expect(found).to.deep.equal(["traffic-plan: flow apps/orders-view -> messaging/kafka on TCP/9092 is not in the traffic plan"]);
    });
});
