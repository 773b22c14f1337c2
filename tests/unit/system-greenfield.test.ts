/**
 * GreenfieldCluster (greenfield-cluster.md) under mocks, for a dev-sized and a prod-sized args
 * object: the HA table and sizes of the design, the FastAPI app's wiring (env from the databases'
 * outputs and Secrets, Kafka bootstrap and topic, OTLP endpoint, scrape annotations), the allowed
 * network flows computed by the policy pack's own analysis compared with EXACTLY the flows the
 * design draws, the mesh and Sealed Secrets when enabled, zero pack violations, and validation.
 */
import { expect } from "chai";
import * as crypto from "crypto";
import * as yaml from "js-yaml";
import { parseQuantity } from "../../components/k8s/quantity";
import {
    GreenfieldCluster, GreenfieldSpec, resolveGreenfieldSpec, validateGreenfieldSpec,
} from "../../components/systems/greenfield";
import { PackConfig } from "../../policies/policies";
import { runAll } from "../../policies/testing/harness";
import { fromPlain, portLabel, trafficReport } from "../../policies/traffic";
import { containsSecret, RecordedResource } from "./mocks";
import { byName, capture, deepClone, hpaOf, isSecret, ofType, podSpec, T, valueOf, withEphemeral } from "./helpers";
import { STATELESS } from "../../components/k8s/profile";
import { packConfig, packViolations, toPlain } from "./stack-resources";

const NS = "greenfield";
const IMAGE = "ghcr.io/k8s-platform/greenfield-fastapi:1.0.0";
const API = { cidrs: ["10.0.0.1/32"] };
const TOPIC = "kafka:index/topic:Topic";
const KAFKA_PROVIDER = "pulumi:providers:kafka";
const small = { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } };

/** prod: the design's HA numbers are the defaults; only what a prod stack sets itself. */
function prodArgs(over: Partial<GreenfieldSpec> = {}): GreenfieldSpec {
    return { namespace: NS, storageClass: "ssd", protectData: true, apiServer: API, fastapi: { image: IMAGE }, ...over };
}

/** dev: 1 replica where the design allows, small volumes, KRaft (no ZooKeeper). */
function devArgs(over: Partial<GreenfieldSpec> = {}): GreenfieldSpec {
    return {
        namespace: NS, storageClass: "standard", apiServer: API,
        quota: { requestsCpu: "4", requestsMemory: "8Gi", limitsCpu: "12", limitsMemory: "16Gi", requestsStorage: "20Gi", pods: 20, persistentVolumeClaims: 12 },
        fastapi: { image: IMAGE, replicas: 1, autoscaling: { minReplicas: 1, maxReplicas: 2 }, env: { LOG_LEVEL: "debug" } },
        redis: { replicas: 1, storage: "1Gi" },
        postgresql: { replicas: 1, storage: "1Gi", resources: small },
        mysql: { replicas: 1, storage: "1Gi", resources: small },
        mongodb: { replicas: 1, storage: "1Gi", configStorage: "256Mi", resources: small },
        kafka: { mode: "kraft", brokers: 1, storage: "2Gi", resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } } },
        observability: { otelCollector: { replicas: 1 }, prometheus: { storage: "2Gi", retention: "3d" }, grafana: { storage: "1Gi" } },
        ...over,
    };
}

const MESH = { enabled: true, istioInstalled: true, gateway: { hosts: ["api.greenfield.example.com"], credentialName: "api-greenfield-tls" } };

/** A value shaped like kubeseal's output: 2-byte RSA length, the RSA block, AES-GCM body and tag. */
function sealedShape(): string {
    const header = Buffer.alloc(2);
    header.writeUInt16BE(256);
    return Buffer.concat([header, crypto.randomBytes(256), crypto.randomBytes(48)]).toString("base64");
}

/** A GreenfieldCluster from raw args, resolved the way the config module does (errors keyed GreenfieldCluster(<name>)). */
function newGreenfield(name: string, raw: GreenfieldSpec): GreenfieldCluster {
    return new GreenfieldCluster(name, { spec: resolveGreenfieldSpec(`GreenfieldCluster(${name})`, raw) });
}

async function build(name: string, args: GreenfieldSpec): Promise<{ res: RecordedResource[]; gf: GreenfieldCluster }> {
    let gf!: GreenfieldCluster;
    const res = await capture(() => { gf = newGreenfield(name, args); });
    return { res, gf };
}

const workload = (res: RecordedResource[], name: string) => {
    const found = res.filter(r => (r.type === T.deployment || r.type === T.statefulSet) && r.inputs.metadata?.name === name);
    expect(found, name).to.have.length(1);
    return found[0];
};
const claims = (res: RecordedResource[], sts: string) =>
    Object.fromEntries(byName(res, T.statefulSet, sts).inputs.spec.volumeClaimTemplates.map((c: any) => [c.metadata.name, c.spec.resources.requests.storage]));
const envMap = (res: RecordedResource[], deployment: string): Record<string, any> =>
    Object.fromEntries(podSpec(byName(res, T.deployment, deployment)).containers[0].env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
const secretRef = (name: string, key: string) => ({ secretKeyRef: { name, key } });

// ---------------------------------------------------------------------------------------------
// The flows the design allows (request flow, observability flow, event flow, HA replication)

const DNS = "kube-system/k8s-app=kube-dns";
const DNS_PORTS = "TCP/53, UDP/53";

interface Variant {
    name: string;
    /** Source of external traffic: "ingress-nginx/*" or the Istio gateway's pods. */
    ingress: string;
    fastapi: string[];
    replicated: { redis: boolean; postgresql: boolean; mysql: boolean; mongodb: boolean; zookeeper?: boolean };
    kraft: boolean;
    mesh?: boolean;
    sealed?: boolean;
    grafanaExternal?: boolean;
}

function designFlows(v: Variant): string[] {
    const w = (x: string) => `${NS}/${v.name}-${x}`;
    const flows: string[] = [];
    const allow = (from: string, to: string, ports: string) => flows.push(`${from} -> ${to}: ${ports}`);
    // Replicated Redis (3 members) runs sentinels: clients ask them (26379), then talk to the primary (6379).
    const stores = { redis: v.replicated.redis ? "TCP/6379, TCP/26379" : "TCP/6379", postgresql: "TCP/5432", mysql: "TCP/3306", mongodb: "TCP/27017" } as const;
    const workloads = [
        ...v.fastapi.map(w), w("redis"), w("postgresql"), w("mysql"), w("mongodb"), w("kafka"),
        ...(v.kraft ? [] : [w("kafka-zookeeper")]),
        w("obs-otel-collector"), w("obs-jaeger"), w("obs-prometheus"), w("obs-grafana"), w("obs-kube-state-metrics"), w("obs-redis-exporter"),
    ];
    for (const f of v.fastapi.map(w)) {
        // Request flow: client -> (Istio) ingress gateway -> FastAPI -> Redis, PostgreSQL, MySQL, MongoDB, Kafka.
        allow(v.ingress, f, "TCP/8000");
        for (const [store, port] of Object.entries(stores)) {
            allow(f, w(store), port);
        }
        allow(f, w("kafka"), "TCP/9092");
        // Observability flow: SDK -> OTel collector (OTLP); Prometheus client -> Prometheus (scrape).
        allow(f, w("obs-otel-collector"), "TCP/4317, TCP/4318");
        allow(w("obs-prometheus"), f, "TCP/8000");
    }
    // OTel collector -> Jaeger (traces), -> Prometheus (metrics, scraped from its exporter).
    allow(w("obs-otel-collector"), w("obs-jaeger"), "TCP/4317");
    allow(w("obs-prometheus"), w("obs-otel-collector"), "TCP/8889");
    // Grafana queries Prometheus and Jaeger; Prometheus discovers targets through the API server.
    allow(w("obs-grafana"), w("obs-prometheus"), "TCP/9090");
    allow(w("obs-grafana"), w("obs-jaeger"), "TCP/16686");
    allow(w("obs-prometheus"), "ipBlock:10.0.0.1/32", "TCP/443, TCP/6443");
    // The metrics the dashboards and alerts query: kube-state-metrics (lists the API server) and the Redis exporter.
    allow(w("obs-prometheus"), w("obs-kube-state-metrics"), "TCP/8080");
    allow(w("obs-kube-state-metrics"), "ipBlock:10.0.0.1/32", "TCP/443, TCP/6443");
    allow(w("obs-prometheus"), w("obs-redis-exporter"), "TCP/9121");
    allow(w("obs-redis-exporter"), w("redis"), "TCP/6379");
    if (v.grafanaExternal ?? true) {
        allow(v.ingress, w("obs-grafana"), "TCP/3000");
    }
    // HA: members of each replicated store among themselves; Kafka brokers, ZooKeeper quorum.
    for (const [store, port] of Object.entries(stores)) {
        if (v.replicated[store as keyof typeof stores]) {
            allow(w(store), w(store), port);
        }
    }
    allow(w("kafka"), w("kafka"), v.kraft ? "TCP/9092, TCP/9093" : "TCP/9092");
    if (!v.kraft) {
        allow(w("kafka"), w("kafka-zookeeper"), "TCP/2181");
        if (v.replicated.zookeeper) {
            allow(w("kafka-zookeeper"), w("kafka-zookeeper"), "TCP/2888, TCP/3888");
        }
    }
    for (const x of workloads) {
        allow(x, DNS, DNS_PORTS);
        if (v.mesh) {
            allow(x, "istio-system/app=istiod", "TCP/15012");
        }
    }
    if (v.sealed) {
        const c = "kube-system/sealed-secrets-controller";
        allow("ipBlock:10.0.0.1/32", c, "TCP/8080");
        allow(c, "ipBlock:10.0.0.1/32", "TCP/443, TCP/6443");
        // Its DNS egress (kube-dns in its own namespace) is allowed by its policy, but the pack's
        // analysis shows no edge toward pods of a namespace that holds a workload of the stack.
    }
    return flows.sort();
}

/** The allowed-flow graph of the recorded resources, as the pack computes it. */
function graphFlows(res: RecordedResource[], config: Record<string, unknown> = {}): { flows: string[]; violations: string[] } {
    const report = trafficReport(fromPlain(toPlain(res)), config);
    return {
        flows: report.graph.edges.map(e => `${e.from} -> ${e.to}: ${portLabel(e.ports)}`).sort(),
        violations: report.violations.map(v => v.message),
    };
}

/** Pack config of a stack with the mesh on: the gateway's namespace is a source of external traffic; sidecars reach istiod. */
function meshPackConfig(stack: string): PackConfig {
    const cfg = deepClone(packConfig(stack));
    const tp = cfg["traffic-plan"] as Record<string, unknown>;
    tp.ingressNamespaces = [...(tp.ingressNamespaces as string[]), "istio-system"];
    tp.extraRules = [{
        description: "greenfield mesh: sidecars -> istiod (xDS and certificates)",
        from: { partOf: "greenfield" },
        to: { namespace: "istio-system", labels: { app: "istiod" } },
        ports: [{ protocol: "TCP", port: 15012 }],
    }];
    return cfg;
}

/** Sum of what the namespace's pods request at full scale (HPA max, plus rolling-update surge). */
function atFullScale(res: RecordedResource[]) {
    const total = { requestsCpu: 0, requestsMemory: 0, limitsCpu: 0, limitsMemory: 0, pods: 0, pvcs: 0, storage: 0 };
    for (const w of res.filter(r => (r.type === T.deployment || r.type === T.statefulSet) && r.inputs.metadata.namespace === NS)) {
        const hpa = hpaOf(res, w.inputs.metadata.name);
        let pods = hpa ? hpa.inputs.spec.maxReplicas : w.inputs.spec.replicas;
        const surge = w.inputs.spec.strategy?.rollingUpdate?.maxSurge;
        if (w.type === T.deployment && surge !== undefined) {
            pods += typeof surge === "number" ? surge : Math.ceil(parseFloat(surge) / 100 * pods);
        }
        const spec = podSpec(w);
        for (const kind of ["requests", "limits"] as const) {
            for (const res2 of ["cpu", "memory"] as const) {
                const sum = spec.containers.reduce((a: number, c: any) => a + parseQuantity(c.resources[kind][res2])!, 0);
                const init = Math.max(0, ...(spec.initContainers ?? []).map((c: any) => parseQuantity(c.resources[kind][res2])!));
                const field = `${kind}${res2 === "cpu" ? "Cpu" : "Memory"}` as keyof typeof total;
                total[field] += pods * Math.max(sum, init);
            }
        }
        total.pods += pods;
        for (const c of w.inputs.spec.volumeClaimTemplates ?? []) {
            total.pvcs += w.inputs.spec.replicas;
            total.storage += w.inputs.spec.replicas * parseQuantity(c.spec.resources.requests.storage)!;
        }
    }
    for (const pvc of ofType(res, T.pvc).filter(p => p.inputs.metadata.namespace === NS)) {
        total.pvcs += 1;
        total.storage += parseQuantity(pvc.inputs.spec.resources.requests.storage)!;
    }
    return total;
}

function expectFitsQuota(res: RecordedResource[]) {
    const quota = byName(res, T.quota, "compute-and-storage").inputs.spec.hard;
    const used = atFullScale(res);
    const q = (k: string) => parseQuantity(String(quota[k]))!;
    expect(used.requestsCpu, "requests.cpu").to.be.at.most(q("requests.cpu"));
    expect(used.requestsMemory, "requests.memory").to.be.at.most(q("requests.memory"));
    expect(used.limitsCpu, "limits.cpu").to.be.at.most(q("limits.cpu"));
    expect(used.limitsMemory, "limits.memory").to.be.at.most(q("limits.memory"));
    expect(used.storage, "requests.storage").to.be.at.most(q("requests.storage"));
    expect(used.pods, "pods").to.be.at.most(q("pods"));
    expect(used.pvcs, "persistentvolumeclaims").to.be.at.most(q("persistentvolumeclaims"));
}

// ---------------------------------------------------------------------------------------------

describe("GreenfieldCluster", () => {
    describe("prod (the design's HA table)", () => {
        let res: RecordedResource[];
        let gf: GreenfieldCluster;
        before(async () => { ({ res, gf } = await build("greenfield", prodArgs())); });

        // greenfield-cluster.md "Component HA Strategy", row by row, with the workload that implements it.
        const HA_TABLE: [string, string, string, number, [number, number]?][] = [
            ["FastAPI 2-3, load balanced", "greenfield-fastapi", T.deployment, 2, [2, 3]],
            ["Redis 1 master + 2 replicas", "greenfield-redis", T.statefulSet, 3],
            ["PostgreSQL 3", "greenfield-postgresql", T.statefulSet, 3],
            ["MySQL 3", "greenfield-mysql", T.statefulSet, 3],
            ["MongoDB 3 (replica set)", "greenfield-mongodb", T.statefulSet, 3],
            ["Kafka 3", "greenfield-kafka", T.statefulSet, 3],
            ["ZooKeeper 3 (quorum)", "greenfield-kafka-zookeeper", T.statefulSet, 3],
            ["OTel Collector 2", "greenfield-obs-otel-collector", T.deployment, 2],
            ["Jaeger all-in-one", "greenfield-obs-jaeger", T.deployment, 1],
            ["Prometheus 1", "greenfield-obs-prometheus", T.deployment, 1],
            ["Grafana 1", "greenfield-obs-grafana", T.deployment, 1],
            ["kube-state-metrics 1 (the Kubernetes alerts' and panels' data)", "greenfield-obs-kube-state-metrics", T.deployment, 1],
            ["Redis exporter 1 (the Redis dashboard's data)", "greenfield-obs-redis-exporter", T.deployment, 1],
        ];
        for (const [row, name, type, replicas, hpa] of HA_TABLE) {
            it(`HA table: ${row}`, () => {
                const w = workload(res, name);
                expect(w.type).to.equal(type);
                const h = hpaOf(res, name);
                // An HPA-targeted Deployment leaves the count to the HPA: its minimum is the row's replicas.
                expect(h && type === T.deployment ? h.inputs.spec.minReplicas : w.inputs.spec.replicas).to.equal(replicas);
                expect(h && type === T.deployment ? w.inputs.spec.replicas : "fixed").to.equal(h && type === T.deployment ? undefined : "fixed");
                expect(h ? [h.inputs.spec.minReplicas, h.inputs.spec.maxReplicas] : undefined).to.deep.equal(hpa);
                if (replicas > 1) {
                    // One voluntary disruption at a time, and replicas spread over nodes.
                    const pdb = ofType(res, T.pdb).find(p => p.inputs.metadata.name === name);
                    expect(pdb?.inputs.spec.minAvailable, `${name} PDB`).to.equal(replicas - 1);
                    expect(podSpec(w).affinity.podAntiAffinity).to.not.equal(undefined);
                }
            });
        }

        it("has no other workloads in the system", () => {
            const names = res.filter(r => r.type === T.deployment || r.type === T.statefulSet).map(r => r.inputs.metadata.name).sort();
            expect(names).to.deep.equal(HA_TABLE.map(r => r[1]).sort());
        });

        it("sizes the volumes as the design: Redis 1Gi, PostgreSQL/MySQL 5Gi, MongoDB 5Gi + 1Gi config, Kafka 10Gi, ZooKeeper 2Gi", () => {
            expect(claims(res, "greenfield-redis")).to.deep.equal({ data: "1Gi" });
            expect(claims(res, "greenfield-postgresql")).to.deep.equal({ data: "5Gi" });
            expect(claims(res, "greenfield-mysql")).to.deep.equal({ data: "5Gi" });
            expect(claims(res, "greenfield-mongodb")).to.deep.equal({ data: "5Gi", config: "1Gi" });
            expect(claims(res, "greenfield-kafka")).to.deep.equal({ data: "10Gi" });
            expect(claims(res, "greenfield-kafka-zookeeper")).to.deep.equal({ data: "2Gi" });
            for (const sts of ofType(res, T.statefulSet)) {
                for (const c of sts.inputs.spec.volumeClaimTemplates) {
                    expect(c.spec.storageClassName, sts.inputs.metadata.name).to.equal("ssd");
                }
            }
        });

        it("runs Redis 1+2 with sentinels (design: \"Failover\"), PostgreSQL/MySQL clients on the primary", () => {
            const redis = podSpec(byName(res, T.statefulSet, "greenfield-redis"));
            expect(redis.containers.map((c: any) => c.name)).to.deep.equal(["redis", "sentinel"]);
            expect(redis.containers[0].env.find((e: any) => e.name === "REDIS_MODE").value).to.equal("sentinel");
            for (const db of ["greenfield-postgresql", "greenfield-mysql"]) {
                expect(byName(res, T.service, db).inputs.spec.selector["statefulset.kubernetes.io/pod-name"]).to.equal(`${db}-0`);
            }
            const mongo = podSpec(byName(res, T.statefulSet, "greenfield-mongodb")).containers[0];
            expect(mongo.args).to.include.members(["--replSet", "rs0"]);
        });

        it("runs MySQL with semi-synchronous replication (design: \"MySQL | 3 | Synchronous replication\")", () => {
            const init = podSpec(byName(res, T.statefulSet, "greenfield-mysql")).initContainers.find((c: any) => c.name === "configure");
            expect(init.env.find((e: any) => e.name === "SEMI_SYNC").value).to.equal("yes");
        });

        it("points FastAPI at the Redis sentinels and names the primary", () => {
            const env = envMap(res, "greenfield-fastapi");
            expect([env.REDIS_HOST, env.REDIS_PORT, env.REDIS_SENTINEL_MASTER])
                .to.deep.equal([`greenfield-redis.${NS}.svc.cluster.local`, "26379", "primary"]);
        });

        it("runs PostgreSQL with synchronous replication (design: \"PostgreSQL | 3 | Synchronous replication\")", () => {
            const pg = podSpec(byName(res, T.statefulSet, "greenfield-postgresql")).containers[0];
            expect(pg.args).to.include("synchronous_standby_names=ANY 1 (*)");
        });

        it("keeps Prometheus' and Grafana's data on claims (design: EmptyDir, \"production should use persistent storage\")", () => {
            expect(ofType(res, T.pvc).map(p => p.inputs.metadata.name).sort()).to.deep.equal(["greenfield-obs-grafana-data", "greenfield-obs-prometheus-data"]);
            expect(ofType(res, T.pvc).map(p => p.inputs.spec.resources.requests.storage).sort()).to.deep.equal(["10Gi", "5Gi"]);
        });

        it("Kafka: 3 brokers replicate every partition 3 times; test-topic has 3 partitions, replication 3", () => {
            const env = Object.fromEntries(podSpec(byName(res, T.statefulSet, "greenfield-kafka")).containers[0].env.map((e: any) => [e.name, e.value]));
            expect(env).to.include({ KAFKA_DEFAULT_REPLICATION_FACTOR: "3", KAFKA_MIN_INSYNC_REPLICAS: "2", KAFKA_AUTO_CREATE_TOPICS_ENABLE: "false" });
            const topics = ofType(res, TOPIC);
            expect(topics.map(t => [t.inputs.name, t.inputs.partitions, t.inputs.replicationFactor])).to.deep.equal([["test-topic", 3, 3]]);
            expect(topics[0].inputs.config).to.include({ "min.insync.replicas": "2", "cleanup.policy": "delete" });
        });

        it("manages the topic through an explicit provider on the cluster's own brokers (PLAINTEXT, no SASL)", async () => {
            const provider = ofType(res, KAFKA_PROVIDER);
            expect(provider).to.have.length(1);
            const brokers = [0, 1, 2].map(i => `greenfield-kafka-${i}.greenfield-kafka-headless.${NS}.svc.cluster.local:9092`);
            // Provider inputs reach the engine as strings (JSON for lists).
            expect(JSON.parse(provider[0].inputs.bootstrapServers)).to.deep.equal(brokers);
            expect(provider[0].inputs.tlsEnabled).to.equal("false");
            expect(provider[0].inputs.saslUsername).to.equal(undefined);
            expect(provider[0].inputs.saslPassword).to.equal(undefined);
            expect(await valueOf(gf.kafkaBootstrapServers)).to.equal(brokers.join(","));
            expect(await valueOf(gf.kafkaTopicNames)).to.deep.equal(["test-topic"]);
        });

        it("FastAPI: 2-3 pods on CPU 70%, rolling update maxSurge 1 / maxUnavailable 0, health checks, metrics annotations", () => {
            const d = byName(res, T.deployment, "greenfield-fastapi").inputs;
            expect(d.spec.strategy).to.deep.equal({ type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
            const hpa = hpaOf(res, "greenfield-fastapi")!.inputs.spec;
            expect(hpa.metrics).to.deep.equal([{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } }]);
            const c = d.spec.template.spec.containers[0];
            expect(c.image).to.equal(IMAGE);
            expect(c.ports).to.deep.equal([{ name: "http", containerPort: 8000, protocol: "TCP" }]);
            expect(c.livenessProbe.httpGet).to.deep.equal({ path: "/health", port: 8000 });
            expect(c.livenessProbe).to.include({ periodSeconds: 20, failureThreshold: 6 });
            expect(c.readinessProbe.httpGet).to.deep.equal({ path: "/ready", port: 8000 });
            expect(c.resources).to.deep.equal(withEphemeral({ requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } }, STATELESS));
            expect(d.spec.template.metadata.annotations).to.deep.equal({
                "prometheus.io/scrape": "true", "prometheus.io/port": "8000", "prometheus.io/path": "/metrics",
            });
            expect(d.spec.template.metadata.labels).to.include({
                "app.kubernetes.io/name": "fastapi", "app.kubernetes.io/component": "fastapi", "app.kubernetes.io/part-of": "greenfield",
                "app.kubernetes.io/version": "1.0.0",
            });
            expect(byName(res, T.service, "greenfield-fastapi").inputs.spec.ports).to.deep.equal([{ name: "http", port: 8000, targetPort: 8000, protocol: "TCP" }]);
        });

        it("FastAPI env: every data store from its outputs, credentials only as secretKeyRefs to the databases' Secrets", () => {
            const env = envMap(res, "greenfield-fastapi");
            const host = (db: string) => `${db}.${NS}.svc.cluster.local`;
            expect(env).to.deep.include({
                REDIS_HOST: host("greenfield-redis"), REDIS_PORT: "26379", REDIS_SENTINEL_MASTER: "primary",
                REDIS_PASSWORD: secretRef("greenfield-redis-credentials", "password"),
                POSTGRES_HOST: host("greenfield-postgresql"), POSTGRES_PORT: "5432", POSTGRES_DB: "app",
                POSTGRES_USER: secretRef("greenfield-postgresql-credentials", "username"),
                POSTGRES_PASSWORD: secretRef("greenfield-postgresql-credentials", "password"),
                MYSQL_HOST: host("greenfield-mysql"), MYSQL_PORT: "3306", MYSQL_DATABASE: "app",
                MYSQL_USER: secretRef("greenfield-mysql-credentials", "username"),
                MYSQL_PASSWORD: secretRef("greenfield-mysql-credentials", "password"),
                MONGODB_HOST: host("greenfield-mongodb"), MONGODB_PORT: "27017", MONGODB_DATABASE: "app",
                MONGODB_REPLICA_SET: "rs0", MONGODB_AUTH_SOURCE: "admin",
                MONGODB_USERNAME: secretRef("greenfield-mongodb-credentials", "username"),
                MONGODB_PASSWORD: secretRef("greenfield-mongodb-credentials", "password"),
            });
            // The referenced Secrets are the databases' own, holding the generated passwords.
            for (const db of ["redis", "postgresql", "mysql", "mongodb"]) {
                const secret = byName(res, T.secret, `greenfield-${db}-credentials`);
                expect(secret.inputs.stringData.password).to.equal(`mockpw-greenfield-${db}-password-0123456789`);
                expect(containsSecret(secret.raw.stringData)).to.equal(true);
            }
            // No password reaches the Deployment as a value.
            const deployment = JSON.stringify(byName(res, T.deployment, "greenfield-fastapi").inputs);
            expect(deployment).to.not.match(/mockpw-/);
        });

        it("FastAPI env: Kafka bootstrap and topic, the OTLP exporter pointing at the collector", () => {
            const env = envMap(res, "greenfield-fastapi");
            expect(env.KAFKA_BOOTSTRAP_SERVERS).to.equal([0, 1, 2].map(i => `greenfield-kafka-${i}.greenfield-kafka-headless.${NS}.svc.cluster.local:9092`).join(","));
            expect(env.KAFKA_TOPIC).to.equal("test-topic");
            expect(env).to.include({
                OTEL_EXPORTER_OTLP_ENDPOINT: `http://greenfield-obs-otel-collector.${NS}.svc.cluster.local:4317`,
                OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
                OTEL_SERVICE_NAME: "fastapi",
                OTEL_TRACES_EXPORTER: "otlp",
                OTEL_METRICS_EXPORTER: "otlp",
                APP_PORT: "8000",
            });
            // The collector sends traces to Jaeger's OTLP port, Grafana reads Prometheus and Jaeger.
            const otel: any = yaml.load(byName(res, T.configMap, "greenfield-obs-otel-collector-config").inputs.data["otel-collector.yaml"]);
            expect(otel.exporters["otlp/jaeger"].endpoint).to.equal(`greenfield-obs-jaeger.${NS}.svc.cluster.local:4317`);
            const ds: any = yaml.load(byName(res, T.configMap, "greenfield-obs-grafana-provisioning").inputs.data["datasources.yaml"]);
            expect(ds.datasources.map((d: any) => [d.type, d.url])).to.deep.equal([
                ["prometheus", `http://greenfield-obs-prometheus.${NS}.svc.cluster.local:9090`],
                ["jaeger", `http://greenfield-obs-jaeger.${NS}.svc.cluster.local:16686`],
            ]);
            // Prometheus discovers the annotated pods of the system's namespace (FastAPI) and the collector's exporter.
            const prom: any = yaml.load(byName(res, T.configMap, "greenfield-obs-prometheus-config").inputs.data["prometheus.yaml"]);
            const jobs = Object.fromEntries(prom.scrape_configs.map((j: any) => [j.job_name, j]));
            expect(Object.keys(jobs)).to.deep.equal(["prometheus", "kubernetes-pods", "otel-collector", "kube-state-metrics", "kubelet", "cadvisor"]);
            expect(jobs["kubernetes-pods"].kubernetes_sd_configs).to.deep.equal([{ role: "pod", namespaces: { names: [NS] } }]);
            expect(jobs["otel-collector"].relabel_configs[0]).to.deep.equal({
                source_labels: ["__meta_kubernetes_pod_label_app_kubernetes_io_instance"], regex: "greenfield-obs-otel-collector", action: "keep",
            });
        });

        it("outputs: data store hosts, ports and Secrets; connection URLs only as a secret", async () => {
            const stores = await valueOf(gf.dataStores);
            expect(stores.postgresql).to.deep.equal({ host: `greenfield-postgresql.${NS}.svc.cluster.local`, port: 5432, secretName: "greenfield-postgresql-credentials" });
            // Sentinel mode: the sentinels' port.
            expect(stores.redis.port).to.equal(26379);
            expect(await isSecret(gf.connectionUrls)).to.equal(true);
            expect((await valueOf(gf.connectionUrls)).mongodb).to.match(/^mongodb:\/\/admin:mockpw-greenfield-mongodb-password-0123456789@.*replicaSet=rs0$/);
            expect((await valueOf(gf.connectionUrls)).mongodb).to.contain(`@greenfield-mongodb-0.greenfield-mongodb-headless.${NS}.svc.cluster.local:27017,greenfield-mongodb-1.`);
            expect(await valueOf(gf.fastapiUrl)).to.equal(`http://greenfield-fastapi.${NS}.svc.cluster.local:8000`);
            expect(await valueOf(gf.fastapiReplicas)).to.deep.equal({ "greenfield-fastapi": 2 });
            expect(await valueOf(gf.meshWeights)).to.equal(undefined);
        });

        it("allows exactly the design's flows (request, observability, event, replication), nothing else", () => {
            const { flows, violations } = graphFlows(res);
            expect(flows).to.deep.equal(designFlows({
                name: "greenfield", ingress: "ingress-nginx/*", fastapi: ["fastapi"], kraft: false,
                replicated: { redis: true, postgresql: true, mysql: true, mongodb: true, zookeeper: true },
            }));
            expect(violations).to.deep.equal([]);
        });

        it("creates its namespace with the baseline: restricted pods, default deny, quota and limits", () => {
            const ns = byName(res, T.namespace, NS).inputs.metadata.labels;
            expect(ns).to.include({ "pod-security.kubernetes.io/enforce": "restricted", "app.kubernetes.io/part-of": "greenfield" });
            expect(ns["istio-injection"]).to.equal(undefined);
            expect(byName(res, T.netpol, "default-deny").inputs.spec).to.deep.equal({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
        });

        it("fits its quota at full scale (HPA maxima and rolling-update surge)", () => expectFitsQuota(res));

        it("passes the policy pack (prod and dev configs)", async () => {
            expect(await packViolations(res, "prod")).to.deep.equal([]);
            expect(await packViolations(res, "dev")).to.deep.equal([]);
        });
    });

    describe("dev (1 replica where allowed, small volumes, KRaft)", () => {
        let res: RecordedResource[];
        let gf: GreenfieldCluster;
        before(async () => { ({ res, gf } = await build("greenfield", devArgs())); });

        it("leaves the pods without istio-proxy sizes with the mesh off (nothing injects one)", () => {
            const annotated = [T.deployment, T.statefulSet, T.job].flatMap(t => ofType(res, t))
                .filter(r => Object.keys(r.inputs.spec.template.metadata?.annotations ?? {}).some(k => k.startsWith("sidecar.istio.io/proxy")));
            expect(annotated.map(r => r.name)).to.deep.equal([]);
        });

        it("runs one replica of everything, FastAPI 1-2 on its HPA, no ZooKeeper", () => {
            // The HPA-targeted FastAPI Deployment has no spec.replicas: its HPA minimum counts.
            const replicas = Object.fromEntries(res.filter(r => r.type === T.deployment || r.type === T.statefulSet)
                .map(r => [r.inputs.metadata.name, r.inputs.spec.replicas ?? hpaOf(res, r.inputs.metadata.name)?.inputs.spec.minReplicas]));
            expect(replicas).to.deep.equal({
                "greenfield-fastapi": 1, "greenfield-redis": 1, "greenfield-postgresql": 1, "greenfield-mysql": 1, "greenfield-mongodb": 1,
                "greenfield-kafka": 1, "greenfield-obs-otel-collector": 1, "greenfield-obs-jaeger": 1, "greenfield-obs-prometheus": 1,
                "greenfield-obs-grafana": 1, "greenfield-obs-kube-state-metrics": 1, "greenfield-obs-redis-exporter": 1,
            });
            const hpa = hpaOf(res, "greenfield-fastapi")!.inputs.spec;
            expect([hpa.minReplicas, hpa.maxReplicas]).to.deep.equal([1, 2]);
            expect(ofType(res, T.pdb).map(p => p.inputs.metadata.name)).to.deep.equal([]);
            expect(byName(res, T.statefulSet, "greenfield-kafka").inputs.spec.template.spec.containers[0].image).to.equal("apache/kafka:4.0.0");
        });

        it("uses small volumes and standalone Redis, MongoDB without a replica set", () => {
            expect(claims(res, "greenfield-kafka")).to.deep.equal({ data: "2Gi" });
            expect(claims(res, "greenfield-mongodb")).to.deep.equal({ data: "1Gi", config: "256Mi" });
            expect(claims(res, "greenfield-postgresql")).to.deep.equal({ data: "1Gi" });
            expect(podSpec(byName(res, T.statefulSet, "greenfield-redis")).containers[0].env.find((e: any) => e.name === "REDIS_MODE").value).to.equal("standalone");
            expect(podSpec(byName(res, T.statefulSet, "greenfield-mongodb")).containers[0].args).to.deep.equal(["--bind_ip_all"]);
            expect(envMap(res, "greenfield-fastapi").MONGODB_REPLICA_SET).to.equal(undefined);
        });

        it("test-topic keeps 3 partitions with replication 1 on the single broker; extra env reaches the app", async () => {
            expect(ofType(res, TOPIC).map(t => [t.inputs.name, t.inputs.partitions, t.inputs.replicationFactor])).to.deep.equal([["test-topic", 3, 1]]);
            const env = envMap(res, "greenfield-fastapi");
            expect(env.KAFKA_BOOTSTRAP_SERVERS).to.equal(`greenfield-kafka-0.greenfield-kafka-headless.${NS}.svc.cluster.local:9092`);
            expect(env.LOG_LEVEL).to.equal("debug");
            expect(await valueOf(gf.kafkaTopicNames)).to.deep.equal(["test-topic"]);
        });

        it("allows exactly the design's flows with single replicas (no replication among members)", () => {
            const { flows, violations } = graphFlows(res);
            expect(flows).to.deep.equal(designFlows({
                name: "greenfield", ingress: "ingress-nginx/*", fastapi: ["fastapi"], kraft: true,
                replicated: { redis: false, postgresql: false, mysql: false, mongodb: false },
            }));
            expect(violations).to.deep.equal([]);
        });

        it("fits its quota at full scale", () => expectFitsQuota(res));

        it("passes the policy pack (dev and prod configs)", async () => {
            expect(await packViolations(res, "dev")).to.deep.equal([]);
            expect(await packViolations(res, "prod")).to.deep.equal([]);
        });
    });

    describe("render mode: topics off", () => {
        it("registers no kafka provider and no topic, yet the app still gets the topic name", async () => {
            const { res } = await build("gf-render", devArgs({ namespace: "gf-render", kafka: { mode: "kraft", brokers: 1, topics: { enabled: false } } }));
            expect(ofType(res, KAFKA_PROVIDER)).to.have.length(0);
            expect(ofType(res, TOPIC)).to.have.length(0);
            const env = Object.fromEntries(podSpec(byName(res, T.deployment, "gf-render-fastapi")).containers[0].env.map((e: any) => [e.name, e.value]));
            expect(env.KAFKA_TOPIC).to.equal("test-topic");
        });

        it("passes TLS and SASL settings to the provider, the password as a secret", async () => {
            const { res } = await build("gf-sasl", devArgs({
                namespace: "gf-sasl",
                kafka: {
                    mode: "kraft", brokers: 1,
                    topics: {
                        bootstrapServers: ["kafka.example.com:9093"], tls: { enabled: true },
                        sasl: { mechanism: "scram-sha512", username: "pulumi", password: "s3cret-value" },
                    },
                },
            }));
            const p = ofType(res, KAFKA_PROVIDER)[0];
            expect(p.inputs).to.include({ tlsEnabled: "true", saslMechanism: "scram-sha512", saslUsername: "pulumi", saslPassword: "s3cret-value" });
            expect(JSON.parse(p.inputs.bootstrapServers)).to.deep.equal(["kafka.example.com:9093"]);
            expect(containsSecret(p.raw.saslPassword)).to.equal(true);
        });
    });

    describe("mesh on (Istio: STRICT mTLS, gateway, blue/green)", () => {
        let res: RecordedResource[];
        let gf: GreenfieldCluster;
        before(async () => {
            ({ res, gf } = await build("gf", prodArgs({
                namespace: NS, mesh: MESH,
                fastapi: { image: IMAGE, release: { strategy: "blue-green", activeColor: "blue", greenImage: "ghcr.io/k8s-platform/greenfield-fastapi:1.1.0" } },
            })));
        });

        it("sizes the istio-proxy of every pod of the system (Deployments, StatefulSets, Jobs, CronJobs) at mesh.sidecarResources, the size the quota check counted", () => {
            const templates = [
                ...[T.deployment, T.statefulSet, T.job].flatMap(t => ofType(res, t)).map(r => [r.name, r.inputs.spec.template] as const),
                ...ofType(res, T.cronJob).map(r => [r.name, r.inputs.spec.jobTemplate.spec.template] as const),
            ];
            expect(templates.length).to.be.greaterThan(10);
            // MESH names no sidecarResources: the default, Istio's own proxy size.
            const sized = {
                "sidecar.istio.io/proxyCPU": "100m", "sidecar.istio.io/proxyMemory": "128Mi",
                "sidecar.istio.io/proxyCPULimit": "2", "sidecar.istio.io/proxyMemoryLimit": "1Gi",
            };
            for (const [name, t] of templates) {
                expect(t.metadata?.annotations ?? {}, name).to.include(sized);
            }
        });

        it("runs the proxy of the backups' pods (CronJobs) as a native sidecar, so their Jobs complete; long-running pods keep the classic one", async () => {
            const { res: withBackups } = await build("gfb", prodArgs({
                namespace: "gfb", mesh: MESH, backups: { schedule: "0 3 * * *", retention: 7, storageSize: "5Gi" },
                fastapi: { image: IMAGE, release: { strategy: "blue-green", activeColor: "blue", greenImage: "ghcr.io/k8s-platform/greenfield-fastapi:1.1.0" } },
                quota: { requestsCpu: "24", requestsMemory: "64Gi", limitsCpu: "64", limitsMemory: "128Gi", requestsStorage: "500Gi", pods: 80, persistentVolumeClaims: 40 },
            }));
            const native = (annotations: Record<string, string> | undefined) => annotations?.["sidecar.istio.io/nativeSidecar"];
            const cronJobs = ofType(withBackups, T.cronJob);
            expect(cronJobs.map(c => c.inputs.metadata.name).sort()).to.deep.equal([
                "gfb-mongodb-backup", "gfb-mongodb-backup-restore", "gfb-mysql-backup", "gfb-mysql-backup-restore", "gfb-postgresql-backup", "gfb-postgresql-backup-restore",
            ]);
            for (const c of cronJobs) {
                expect(native(c.inputs.spec.jobTemplate.spec.template.metadata.annotations), c.name).to.equal("true");
            }
            const longRunning = [T.deployment, T.statefulSet].flatMap(t => ofType(withBackups, t));
            expect(longRunning.filter(r => native(r.inputs.spec.template.metadata?.annotations) !== undefined).map(r => r.name)).to.deep.equal([]);
        });

        it("enforces STRICT mutual TLS in the namespace and injects sidecars", () => {
            const pa = ofType(res, T.peerAuthentication);
            expect(pa.map(p => [p.inputs.metadata.namespace, p.inputs.metadata.name, p.inputs.spec])).to.deep.equal([[NS, "default", { mtls: { mode: "STRICT" } }]]);
            expect(byName(res, T.namespace, NS).inputs.metadata.labels["istio-injection"]).to.equal("enabled");
        });

        it("runs both colours at the HA size (2-3 each) behind one stable Service", () => {
            for (const [color, image] of [["blue", IMAGE], ["green", "ghcr.io/k8s-platform/greenfield-fastapi:1.1.0"]]) {
                const d = byName(res, T.deployment, `gf-fastapi-${color}`).inputs;
                expect(d.spec).to.not.have.property("replicas");
                expect(d.spec.template.spec.containers[0].image).to.equal(image);
                expect(d.spec.selector.matchLabels["platform.io/color"]).to.equal(color);
                const hpa = hpaOf(res, `gf-fastapi-${color}`)!.inputs.spec;
                expect([hpa.minReplicas, hpa.maxReplicas]).to.deep.equal([2, 3]);
            }
            expect(byName(res, T.service, "gf-fastapi").inputs.spec.selector).to.deep.equal({
                "app.kubernetes.io/instance": "gf-fastapi", "app.kubernetes.io/part-of": "greenfield",
            });
        });

        it("routes the gateway's hosts and the in-mesh Service 100% to the active colour", async () => {
            const gw = ofType(res, T.gateway)[0].inputs;
            expect(gw.metadata).to.include({ name: "gf-ingress", namespace: "istio-system" });
            expect(gw.spec.servers.map((s: any) => s.port.number)).to.deep.equal([80, 443]);
            const vs = byName(res, T.virtualService, "gf-fastapi").inputs;
            expect(vs.spec.hosts).to.deep.equal(["api.greenfield.example.com", `gf-fastapi.${NS}.svc.cluster.local`]);
            expect(vs.spec.gateways).to.deep.equal(["istio-system/gf-ingress", "mesh"]);
            expect(vs.spec.http[0].route.map((r: any) => [r.destination.host, r.destination.port.number, r.weight])).to.deep.equal([
                [`gf-fastapi-blue.${NS}.svc.cluster.local`, 8000, 100],
                [`gf-fastapi-green.${NS}.svc.cluster.local`, 8000, 0],
            ]);
            expect(await valueOf(gf.meshWeights)).to.deep.equal({
                [`gf-fastapi-blue.${NS}.svc.cluster.local`]: 100, [`gf-fastapi-green.${NS}.svc.cluster.local`]: 0,
            });
        });

        it("serves Grafana (externalAccess) through the gateway on its own host, and no nginx Ingress", () => {
            const gw = ofType(res, T.gateway)[0].inputs;
            expect(gw.spec.servers[1].hosts).to.deep.equal(["api.greenfield.example.com", "monitoring.greenfield.example.com"]);
            const vs = byName(res, T.virtualService, "gf-obs-grafana").inputs.spec;
            expect([vs.hosts, vs.gateways]).to.deep.equal([["monitoring.greenfield.example.com"], ["istio-system/gf-ingress"]]);
            expect(vs.http[0].route.map((r: any) => [r.destination.host, r.destination.port.number, r.weight]))
                .to.deep.equal([[`gf-obs-grafana.${NS}.svc.cluster.local`, 3000, 100]]);
            expect(ofType(res, T.ingress)).to.deep.equal([]);
        });

        it("gives the gateway's routes the nginx path's protections: per-pod rate limits on FastAPI and Grafana, basic auth before Grafana", async () => {
            const filters = ofType(res, T.envoyFilter).map(f => f.inputs);
            expect(filters.map(f => `${f.metadata.namespace}/${f.metadata.name}`)).to.deep.equal([`${NS}/gf-mesh-edge-fastapi`, `${NS}/gf-mesh-edge-grafana`]);
            const byRole = (role: string) => filters.find(f => f.metadata.name === `gf-mesh-edge-${role}`)!.spec;
            // The selectors pick the routes' pods: both FastAPI colours, and Grafana.
            const podLabels = (deployment: string) => byName(res, T.deployment, deployment).inputs.spec.template.metadata.labels;
            for (const [role, deployments] of [["fastapi", ["gf-fastapi-blue", "gf-fastapi-green"]], ["grafana", ["gf-obs-grafana"]]] as const) {
                const selector = byRole(role).workloadSelector.labels;
                expect(Object.keys(selector)).to.have.length.greaterThan(0);
                for (const d of deployments) {
                    expect(podLabels(d), `${role} selects ${d}`).to.include(selector);
                }
            }
            expect(podLabels("gf-fastapi-blue")).to.not.include(byRole("grafana").workloadSelector.labels);
            // nginx's limit-rps and limit-burst-multiplier as Envoy's token bucket: FastAPI 20 rps x 5, Grafana 10 rps x 5.
            const filterNames = (role: string) => byRole(role).configPatches.map((p: any) => [p.applyTo, p.match.context, p.patch.operation, p.patch.value.name]);
            expect(filterNames("fastapi")).to.deep.equal([["HTTP_FILTER", "SIDECAR_INBOUND", "INSERT_BEFORE", "envoy.filters.http.local_ratelimit"]]);
            expect(filterNames("grafana")).to.deep.equal([
                ["HTTP_FILTER", "SIDECAR_INBOUND", "INSERT_BEFORE", "envoy.filters.http.local_ratelimit"],
                ["HTTP_FILTER", "SIDECAR_INBOUND", "INSERT_BEFORE", "envoy.filters.http.basic_auth"],
            ]);
            const bucket = (role: string) => byRole(role).configPatches[0].patch.value.typed_config.token_bucket;
            expect(bucket("fastapi")).to.deep.equal({ max_tokens: 100, tokens_per_fill: 20, fill_interval: "1s" });
            expect(bucket("grafana")).to.deep.equal({ max_tokens: 50, tokens_per_fill: 10, fill_interval: "1s" });
            // Basic auth reads the htpasswd file of the Secret Grafana's pod mounts into its sidecar.
            expect(byRole("grafana").configPatches[1].patch.value.typed_config.users).to.deep.equal({ filename: "/etc/istio/edge-basic-auth/auth" });
            const annotations = byName(res, T.deployment, "gf-obs-grafana").inputs.spec.template.metadata.annotations;
            expect(JSON.parse(annotations["sidecar.istio.io/userVolume"])).to.deep.equal({
                "edge-basic-auth": { secret: { secretName: "gf-mesh-edge-grafana-basic-auth", items: [{ key: "auth", path: "auth" }] } },
            });
            expect(JSON.parse(annotations["sidecar.istio.io/userVolumeMount"])).to.deep.equal({ "edge-basic-auth": { mountPath: "/etc/istio/edge-basic-auth", readOnly: true } });
            const secret = byName(res, T.secret, "gf-mesh-edge-grafana-basic-auth");
            expect(secret.inputs.metadata.namespace).to.equal(NS);
            const password = "mockpw-gf-mesh-edge-grafana-password-0123456789";
            expect(secret.inputs.stringData.auth).to.equal(`admin:{SHA}${crypto.createHash("sha1").update(password).digest("base64")}\n`);
            expect(containsSecret(secret.raw.stringData)).to.equal(true);
            expect(await valueOf(gf.grafanaBasicAuthSecretName)).to.equal("gf-mesh-edge-grafana-basic-auth");
            expect(await valueOf(gf.grafanaBasicAuthPassword)).to.equal(password);
        });

        it("lets every pod's sidecar reach istiod on 15012 only", () => {
            expect(byName(res, T.netpol, "allow-istiod").inputs.spec).to.deep.equal({
                podSelector: {},
                policyTypes: ["Egress"],
                ingress: [],
                egress: [{
                    to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "istio-system" } }, podSelector: { matchLabels: { app: "istiod" } } }],
                    ports: [{ port: 15012, protocol: "TCP" }],
                }],
            });
        });

        it("allows exactly the design's flows: external traffic only from the Istio ingress gateway", () => {
            const { flows } = graphFlows(res);
            expect(flows).to.deep.equal(designFlows({
                name: "gf", ingress: "istio-system/istio=ingressgateway", fastapi: ["fastapi-blue", "fastapi-green"], kraft: false, mesh: true,
                replicated: { redis: true, postgresql: true, mysql: true, mongodb: true, zookeeper: true },
            }));
        });

        it("passes the policy pack once the gateway's namespace counts as ingress and sidecars may reach istiod", async () => {
            for (const stack of ["prod", "dev"]) {
                const violations = (await runAll(toPlain(res), meshPackConfig(stack))).map(v => `${v.policy}: ${v.message}`);
                expect(violations, stack).to.deep.equal([]);
            }
            // Without that configuration the pack refuses the gateway's and the sidecars' flows.
            const plain = await packViolations(res, "prod");
            expect(plain.some(v => v.includes("istio-system/istio=ingressgateway -> greenfield/gf-fastapi-blue"))).to.equal(true);
            expect(plain.some(v => v.includes("istio-system/app=istiod"))).to.equal(true);
        });

        it("canary: 25% to the canary track (1 pod), 75% to the stable track", async () => {
            const { res: c } = await build("gfc", prodArgs({
                namespace: "gfc", mesh: MESH,
                fastapi: { image: IMAGE, release: { strategy: "canary", canaryImage: "ghcr.io/k8s-platform/greenfield-fastapi:1.1.0", canaryWeight: 25 } },
            }));
            const route = byName(c, T.virtualService, "gfc-fastapi").inputs.spec.http[0].route.map((r: any) => [r.destination.host, r.weight]);
            expect(route).to.deep.equal([["gfc-fastapi-stable.gfc.svc.cluster.local", 75], ["gfc-fastapi-canary.gfc.svc.cluster.local", 25]]);
            expect(byName(c, T.deployment, "gfc-fastapi-stable").inputs.spec).to.not.have.property("replicas");
            expect(hpaOf(c, "gfc-fastapi-stable")!.inputs.spec.minReplicas).to.equal(2);
            expect(byName(c, T.deployment, "gfc-fastapi-canary").inputs.spec.replicas).to.equal(1);
            expect(hpaOf(c, "gfc-fastapi-canary")).to.equal(undefined);
            expect(envMap(c, "gfc-fastapi-canary").OTEL_RESOURCE_ATTRIBUTES).to.equal("service.namespace=greenfield,service.version=1.1.0");
            expect((await runAll(toPlain(c), meshPackConfig("prod"))).map(v => v.message)).to.deep.equal([]);
        });
    });

    describe("Grafana without external access", () => {
        it("drops the ingress -> Grafana flow and keeps every other", async () => {
            const { res } = await build("gfg", devArgs({ namespace: NS, observability: { otelCollector: { replicas: 1 }, grafana: { externalAccess: false } } }));
            expect(graphFlows(res).flows).to.deep.equal(designFlows({
                name: "gfg", ingress: "ingress-nginx/*", fastapi: ["fastapi"], kraft: true, grafanaExternal: false,
                replicated: { redis: false, postgresql: false, mysql: false, mongodb: false },
            }));
        });
    });

    describe("Sealed Secrets on", () => {
        it("runs the controller in kube-system and seals the system's secrets in its namespace", async () => {
            const value = sealedShape();
            const { res, gf } = await build("gfs", prodArgs({
                namespace: "gfs",
                sealedSecrets: { enabled: true, secrets: { "fastapi-api-keys": { encryptedData: { "api-key": value } } } },
            }));
            const controller = byName(res, T.deployment, "sealed-secrets-controller").inputs;
            expect(controller.metadata.namespace).to.equal("kube-system");
            expect(controller.spec.template.metadata.labels["app.kubernetes.io/part-of"]).to.equal("greenfield");
            const sealed = ofType(res, T.sealedSecret);
            expect(sealed.map(s => [s.inputs.metadata.namespace, s.inputs.metadata.name, s.inputs.spec.encryptedData])).to.deep.equal([
                ["gfs", "fastapi-api-keys", { "api-key": value }],
            ]);
            expect(await valueOf(gf.sealedSecretNames)).to.deep.equal(["fastapi-api-keys"]);
            expect(await valueOf(gf.sealedSecretsController)).to.equal("sealed-secrets-controller");
            const { flows } = graphFlows(res);
            const controllerFlows = flows.filter(x => x.includes("sealed-secrets"));
            expect(controllerFlows).to.deep.equal(designFlows({
                name: "gfs", ingress: "ingress-nginx/*", fastapi: ["fastapi"], kraft: false, sealed: true,
                replicated: { redis: true, postgresql: true, mysql: true, mongodb: true, zookeeper: true },
            }).filter(x => x.includes("sealed-secrets")));
            expect(await packViolations(res, "prod")).to.deep.equal([]);
        });
    });

    describe("validation: errors name the key and the allowed values; nothing is registered", () => {
        const K = "GreenfieldCluster(gfv)";
        const cases: [string, (a: any) => void, string | RegExp][] = [
            ["unpinned FastAPI image", a => { a.fastapi.image = "ghcr.io/x/fastapi:latest"; },
                `${K}.fastapi.image: "ghcr.io/x/fastapi:latest" is not pinned; allowed: an image with a version tag (not "latest") or a @sha256 digest`],
            ["PostgreSQL above 10 replicas", a => { a.postgresql = { replicas: 11 }; },
                `${K}.postgresql.replicas: 11 is not allowed; allowed: an integer from 1 to 10`],
            ["replication above the brokers", a => { a.kafka = { brokers: 3, replicationFactor: 4 }; },
                `${K}.kafka.replicationFactor: 4 is above brokers 3; allowed: an integer from 1 to 3`],
            ["topic replication below min.insync.replicas", a => { a.kafka = { topics: { replicationFactor: 1 } }; },
                `${K}.kafka.topics.replicationFactor: 1 is below minInsyncReplicas 2; allowed: an integer from 2 to 3 (acks=all writes would fail)`],
            ["ZooKeeper section in KRaft mode", a => { a.kafka = { mode: "kraft", zookeeper: { replicas: 3 } }; },
                `${K}.kafka.zookeeper: ZooKeeper settings in kraft mode; allowed: no zookeeper section, or mode zookeeper`],
            ["even ZooKeeper ensemble", a => { a.kafka = { zookeeper: { replicas: 2 } }; },
                `${K}.kafka.zookeeper.replicas: 2 is not allowed; allowed: 1, 3, 5 (an odd ensemble keeps a majority)`],
            ["HPA floor above its ceiling", a => { a.fastapi.autoscaling = { minReplicas: 3, maxReplicas: 2 }; },
                `${K}.fastapi.autoscaling.minReplicas: 3 is above maxReplicas 2; allowed: minReplicas <= maxReplicas`],
            ["a password as plain env", a => { a.fastapi.env = { DB_PASSWORD: "hunter2" }; },
                `${K}.fastapi.env.DB_PASSWORD: looks like a secret; allowed: plain settings only (secrets reach pods from Secrets via secretKeyRef)`],
            ["blue/green without the mesh", a => { a.fastapi.release = { strategy: "blue-green" }; },
                `${K}.fastapi.release.strategy: blue-green is not allowed with the mesh off (the Istio VirtualService splits the traffic); allowed: rolling, or mesh.enabled true`],
            ["mesh on, Istio not declared installed", a => { a.mesh = { enabled: true, gateway: MESH.gateway }; a.fastapi.release = { strategy: "blue-green" }; },
                /^GreenfieldCluster\(gfv\)\.mesh\.istioInstalled: undefined: the mesh is enabled but Istio is not declared installed .*allowed: true$/],
            ["a canary weight that is not a step", a => { a.mesh = MESH; a.fastapi.release = { strategy: "canary", canaryImage: "x/y:2.0.0", canaryWeight: 10 }; },
                `${K}.fastapi.release.canaryWeight: 10 is not a canary step; allowed: 0, 5, 25, 50, 100 (the rollout goes 5 -> 25 -> 50 -> 100)`],
            ["a route timeout that is not a duration", a => { a.mesh = { ...MESH, timeout: "ten seconds" }; a.fastapi.release = { strategy: "blue-green" }; },
                `${K}.mesh.timeout: "ten seconds" is not allowed; allowed: a duration such as 500ms or 10s`],
            ["a rolling release inside the mesh", a => { a.mesh = MESH; },
                `${K}.fastapi.release.strategy: rolling is not allowed with the mesh on (the VirtualService routes by blue/green or canary weights); allowed: blue-green, canary`],
            ["the whole Internet as API server", a => { a.apiServer = { cidrs: ["0.0.0.0/0"] }; },
                `${K}.apiServer.cidrs[0]: "0.0.0.0/0" is not allowed; allowed: an IPv4 CIDR such as 10.0.0.1/32 (not /0)`],
            ["a typo in a key", a => { a.postgres = { replicas: 3 }; },
                /^GreenfieldCluster\(gfv\)\.postgres: unknown key; allowed keys: namespace, .*postgresql.*$/],
            ["plaintext where kubeseal output belongs", a => { a.sealedSecrets = { enabled: true, secrets: { s: { encryptedData: { k: "cGxhaW4=" } } } }; },
                /^GreenfieldCluster\(gfv\)\.sealedSecrets\.secrets\.s\.encryptedData\.k: is not a sealed value .*never plaintext\)$/],
            ["a quota too small to parse", a => { a.quota = { pods: 0 }; },
                `${K}.quota.pods: 0 is not allowed; allowed: an integer from 1 to 10000`],
            ["memory limit below the request", a => { a.mysql = { resources: { requests: { cpu: "1", memory: "2Gi" }, limits: { cpu: "1", memory: "1Gi" } } }; },
                `${K}.mysql.resources.limits.memory: 1Gi is below the request 2Gi; allowed: a limit greater than or equal to the request`],
        ];
        for (const [what, mutate, message] of cases) {
            it(what, async () => {
                const args = deepClone(prodArgs({ namespace: "gfv" }));
                mutate(args);
                const res = await capture(() => {
                    const f = () => newGreenfield("gfv", args);
                    if (typeof message === "string") {
                        expect(f).to.throw(message);
                    } else {
                        expect(f).to.throw(message);
                    }
                });
                expect(res).to.have.length(0);
            });
        }

        it("refuses a name that leaves no room for the children's names", async () => {
            const res = await capture(() => {
                expect(() => newGreenfield("a-very-long-greenfield-name", prodArgs())).to.throw(
                    "GreenfieldCluster(a-very-long-greenfield-name).name: \"a-very-long-greenfield-name\" is not allowed; allowed: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 20 characters");
            });
            expect(res).to.have.length(0);
        });

        it("validates for the stack config module (config keys in the errors, the spec returned as given) and resolves the design's defaults", () => {
            expect(() => validateGreenfieldSpec("k8s-platform:greenfield", { apiServer: API, fastapi: { image: IMAGE, port: 80 } }))
                .to.throw("k8s-platform:greenfield.fastapi.port: 80 is not allowed; allowed: 1024-65535 (the app runs as non-root)");
            const raw = { apiServer: API, fastapi: { image: IMAGE } };
            expect(validateGreenfieldSpec("k8s-platform:greenfield", raw)).to.equal(raw);
            const s = resolveGreenfieldSpec("k8s-platform:greenfield", raw);
            expect([s.fastapi.replicas, s.fastapi.autoscaling, s.redis.replicas, s.postgresql.replicas, s.mysql.replicas, s.mongodb.replicas])
                .to.deep.equal([2, { minReplicas: 2, maxReplicas: 3, targetCPUUtilizationPercentage: 70, targetMemoryUtilizationPercentage: undefined }, 3, 3, 3, 3]);
            expect([s.kafka.mode, s.kafka.brokers, s.kafka.replicationFactor, s.kafka.zookeeper?.replicas, s.kafka.topics.partitions, s.kafka.topics.replicationFactor])
                .to.deep.equal(["zookeeper", 3, 3, 3, 3, 3]);
            expect([s.observability.otelCollector.replicas, s.mesh, s.sealedSecrets]).to.deep.equal([2, undefined, undefined]);
        });
    });
});
