/**
 * How Pulumi's kafka provider reaches the brokers: their in-cluster names (a runner inside the
 * cluster) or an EXTERNAL listener per broker (a Service each, advertised.listeners per pod).
 */
import { expect } from "chai";
import { selectorLabels } from "../../components/k8s/labels";
import { Peer } from "../../components/k8s/traffic";
import { KafkaCluster, KafkaClusterArgs } from "../../components/messaging/kafka";
import { GreenfieldCluster } from "../../components/systems/greenfield";
import { parsePlatformConfig } from "../../config";
import { createPlatform } from "../../platform";
import { RecordedResource } from "./mocks";
import { entrypointEnv } from "./broker-start";
import { byName, capture, deepClone, ofType, podSpec, stackConfig, stackSecrets, T } from "./helpers";

const KAFKA_PROVIDER = "pulumi:providers:kafka";
const NS = "messaging";
const client: Peer = { kind: "pods", namespace: "apps", selector: selectorLabels({ name: "rest-service", app: "rest-service", component: "rest-service", partOf: "outbox" }) };
const ADDRESSES = ["kafka-0.ci.example.com:9094", "kafka-1.ci.example.com:9094", "kafka-2.ci.example.com:9094"];

function kraft(over: Partial<KafkaClusterArgs> = {}): KafkaClusterArgs {
    return {
        namespace: NS, mode: "kraft", brokers: 3, brokerStorage: "10Gi", version: "4.0.0",
        defaultReplicationFactor: 3, minInsyncReplicas: 2, clients: [client], partOf: "outbox", ...over,
    };
}

const envOf = (res: RecordedResource[], sts: string): Record<string, string> =>
    Object.fromEntries(podSpec(byName(res, T.statefulSet, sts)).containers[0].env.map((e: any) => [e.name, e.value]));

/** The listeners pod `pod` starts with: its start script run in sh, the image's entrypoint replaced by `env`. */
function startScriptListeners(res: RecordedResource[], sts: string, pod: string): string[] {
    const env = entrypointEnv(res, sts, pod);
    return [env.KAFKA_LISTENERS, env.KAFKA_ADVERTISED_LISTENERS];
}

describe("Kafka access from outside the cluster", () => {
    describe("KRaft brokers with an EXTERNAL listener behind LoadBalancers", () => {
        let res: RecordedResource[];
        before(async () => {
            res = await capture(() => new KafkaCluster("events", kraft({
                external: { serviceType: "LoadBalancer", port: 9094, advertisedAddresses: ADDRESSES, sourceCidrs: ["203.0.113.0/24"] },
            })));
        });

        it("gives each broker its own Service selecting exactly its pod, open only to the source ranges", () => {
            const svcs = [0, 1, 2].map(i => byName(res, T.service, `events-external-${i}`).inputs.spec);
            expect(svcs.map(s => [s.type, s.selector["statefulset.kubernetes.io/pod-name"], s.ports[0].port, s.ports[0].targetPort]))
                .to.deep.equal([0, 1, 2].map(i => ["LoadBalancer", `events-${i}`, 9094, 9094]));
            expect(svcs[0].loadBalancerSourceRanges).to.deep.equal(["203.0.113.0/24"]);
            expect(svcs[0].externalTrafficPolicy).to.equal("Local");
        });

        it("advertises each pod's own external address next to its in-cluster name (the start script run in sh)", () => {
            expect(startScriptListeners(res, "events", "events-2")).to.deep.equal([
                "PLAINTEXT://:9092,CONTROLLER://:9093,EXTERNAL://:9094",
                `PLAINTEXT://events-2.events-headless.${NS}.svc.cluster.local:9092,EXTERNAL://kafka-2.ci.example.com:9094`,
            ]);
            expect(startScriptListeners(res, "events", "events-0")[1]).to.match(/,EXTERNAL:\/\/kafka-0\.ci\.example\.com:9094$/);
            expect(envOf(res, "events").KAFKA_LISTENER_SECURITY_PROTOCOL_MAP).to.equal("PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,EXTERNAL:PLAINTEXT");
            expect(envOf(res, "events").KAFKA_INTER_BROKER_LISTENER_NAME).to.equal("PLAINTEXT");
        });

        it("admits the source ranges on the external port only (NetworkPolicy from the traffic plan)", () => {
            const rules = byName(res, T.netpol, "events").inputs.spec.ingress;
            const external = rules.filter((r: any) => r.from[0].ipBlock);
            expect(external.map((r: any) => [r.from[0].ipBlock.cidr, r.ports])).to.deep.equal([["203.0.113.0/24", [{ port: 9094, protocol: "TCP" }]]]);
        });
    });

    it("ZooKeeper-mode brokers behind NodePorts advertise node addresses on their node ports", async () => {
        const nodeAddrs = ["10.0.0.11:30091", "10.0.0.12:30092", "10.0.0.13:30093"];
        const res = await capture(() => new KafkaCluster("zk", {
            ...kraft(), mode: "zookeeper", version: "7.7.1", zookeeper: { replicas: 3, storage: "2Gi" },
            external: { serviceType: "NodePort", port: 9094, nodePorts: [30091, 30092, 30093], advertisedAddresses: nodeAddrs, sourceCidrs: ["10.0.0.0/16"] },
        }));
        expect(ofType(res, T.service).filter(s => s.inputs.metadata.name.startsWith("zk-external-"))
            .map(s => [s.inputs.spec.type, s.inputs.spec.ports[0].nodePort])).to.deep.equal([["NodePort", 30091], ["NodePort", 30092], ["NodePort", 30093]]);
        expect(startScriptListeners(res, "zk", "zk-1")).to.deep.equal([
            "PLAINTEXT://0.0.0.0:9092,EXTERNAL://0.0.0.0:9094",
            `PLAINTEXT://zk-1.zk-headless.${NS}.svc.cluster.local:9092,EXTERNAL://10.0.0.12:30092`,
        ]);
    });

    it("without `external`, the brokers have no EXTERNAL listener and no per-broker Service", async () => {
        const res = await capture(() => new KafkaCluster("plain", kraft()));
        expect(envOf(res, "plain").KAFKA_LISTENER_SECURITY_PROTOCOL_MAP).to.equal("PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        expect(ofType(res, T.service).map(s => s.inputs.metadata.name).filter(n => n.includes("external"))).to.deep.equal([]);
    });

    describe("the topic provider's bootstrap servers follow the stack's choice", () => {
        const gfConfig = (topics: Record<string, unknown>, external?: Record<string, unknown>) => {
            const raw = deepClone(stackConfig("prod"));
            const g = raw.greenfield as Record<string, any>;
            raw.greenfield = { ...g, namespace: `gfk${external ? "e" : "i"}`, kafka: { ...g.kafka, topics: { ...g.kafka.topics, ...topics }, ...(external ? { external } : {}) } };
            delete raw.outbox;
            delete raw.cstore;
            return parsePlatformConfig(raw, stackSecrets("prod")).greenfield!;
        };
        const providerServers = (res: RecordedResource[]) => JSON.parse(ofType(res, KAFKA_PROVIDER)[0].inputs.bootstrapServers);

        it("inCluster: the brokers' pod DNS names", async () => {
            const res = await capture(() => new GreenfieldCluster("gfki", { spec: gfConfig({ access: "inCluster" }) }));
            expect(providerServers(res)).to.deep.equal([0, 1, 2].map(i => `gfki-kafka-${i}.gfki-kafka-headless.gfki.svc.cluster.local:9092`));
        });

        it("external: the brokers' advertised external addresses", async () => {
            const res = await capture(() => new GreenfieldCluster("gfke", { spec: gfConfig({ access: "external" },
                { advertisedAddresses: ADDRESSES, sourceCidrs: ["203.0.113.0/24"] }) }));
            expect(providerServers(res)).to.deep.equal(ADDRESSES);
            expect(ofType(res, T.service).filter(s => s.inputs.spec.type === "LoadBalancer")).to.have.length(3);
        });
    });

    it("prod states its choice: in-cluster bootstrap for both systems, no external listener", () => {
        const raw = stackConfig("prod") as Record<string, any>;
        // Written out in Pulumi.prod.yaml, not left to the default.
        expect([raw.greenfield.kafka.topics.access, raw.outbox.kafka.connection.access]).to.deep.equal(["inCluster", "inCluster"]);
        const cfg = parsePlatformConfig(raw, stackSecrets("prod"));
        expect([cfg.greenfield!.kafka.topics.access, cfg.outbox!.kafka.connection.access]).to.deep.equal(["inCluster", "inCluster"]);
        expect([cfg.greenfield!.kafka.external, cfg.outbox!.kafka.cluster.external]).to.deep.equal([undefined, undefined]);
    });

    describe("config errors name the key", () => {
        const refused = (change: (c: Record<string, any>) => void): string => {
            const raw = deepClone(stackConfig("dev"));
            change(raw);
            try {
                createPlatform(parsePlatformConfig(raw));
            } catch (e) {
                return (e as Error).message;
            }
            return "accepted";
        };

        it("refuses access external without an external listener", () => {
            expect(refused(c => { c.outbox.kafka.connection = { access: "external" }; })).to.equal(
                "k8s-platform:outbox.kafka.connection.access: \"external\" but the brokers have no external listener; allowed: inCluster, " +
                "or external with k8s-platform:outbox.kafka.cluster.external set (serviceType, advertisedAddresses, sourceCidrs)");
        });

        it("refuses an access choice other than inCluster or external", () => {
            expect(refused(c => { c.greenfield.kafka.topics = { access: "public" }; })).to.match(
                /^k8s-platform:greenfield\.kafka\.topics\.access: "public" is not allowed; allowed: inCluster, external/);
        });

        it("refuses an advertised address list that does not name every broker", () => {
            expect(refused(c => { c.outbox.kafka.cluster.external = { advertisedAddresses: ["kafka-0.example.com:9094", "kafka-1.example.com:9094"], sourceCidrs: ["203.0.113.0/24"] }; }))
                .to.match(/^k8s-platform:outbox\.kafka\.cluster\.external\.advertisedAddresses: .* allowed: one host:port per broker, 1 in all/);
        });

        it("refuses an in-cluster name as an external address", () => {
            expect(refused(c => {
                c.greenfield.kafka.external = { advertisedAddresses: ["greenfield-kafka-0.greenfield-kafka-headless.greenfield.svc.cluster.local:9094"], sourceCidrs: ["203.0.113.0/24"] };
            })).to.match(/^k8s-platform:greenfield\.kafka\.external\.advertisedAddresses\[0\]: .* is not an external address/);
        });

        it("refuses a NodePort address on another port than the broker's node port", () => {
            expect(refused(c => {
                c.greenfield.kafka.external = { serviceType: "NodePort", nodePorts: [30092], advertisedAddresses: ["10.0.0.11:9094"], sourceCidrs: ["10.0.0.0/16"] };
            })).to.equal("k8s-platform:greenfield.kafka.external.advertisedAddresses[0]: \"10.0.0.11:9094\" does not use the node port of broker 0; allowed: port 30092");
        });

        it("refuses an external listener open to the whole Internet", () => {
            expect(refused(c => { c.outbox.kafka.cluster.external = { advertisedAddresses: ["kafka-0.example.com:9094"], sourceCidrs: ["0.0.0.0/0"] }; }))
                .to.match(/^k8s-platform:outbox\.kafka\.cluster\.external\.sourceCidrs\[0\]: "0\.0\.0\.0\/0" is not allowed/);
        });
    });
});
