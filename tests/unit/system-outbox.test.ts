/**
 * Outbox events (outbox-events.md) under mocks, for a dev-sized and a prod-sized (the design's HA
 * numbers) system: the design's numbers, schemas, event flow and alerts hold; the traffic graph the
 * policy pack computes is exactly the design's flows; outputs are wired; the pack finds nothing.
 */
import { expect } from "chai";
import * as yaml from "js-yaml";
import { OutboxEvents, OutboxEventsInput, OWNER_LABEL, validateOutboxEventsSpec } from "../../components/systems/outbox";
import { parseQuantity } from "../../components/k8s/quantity";
import { runAll } from "../../policies/testing/harness";
import { fromPlain, portLabel, trafficReport } from "../../policies/traffic";
import { PlanRule } from "../../policies/traffic/plan";
import { byName, capture, isSecret, ofType, podSpec, T, valueOf } from "./helpers";
import { containsSecret, mockPassword, RecordedResource } from "./mocks";
import { packConfig, toPlain } from "./stack-resources";

// ---------------------------------------------------------------------------------------------
// The design, as tables

const INSTANCE = "app.kubernetes.io/instance";
const TOPIC = "kafka:index/topic:Topic";
const KAFKA_PROVIDER = "pulumi:providers:kafka";

type Svc = "rest" | "grpc" | "worker";
/** Roles the pack's plan knows (OUTBOX_SERVICES), ports, and each service's database. */
const SERVICES: Record<Svc, { instance: string; role: string; db: string; metricsPort: number; servicePorts: number[] }> = {
    rest: { instance: "outbox-rest-service", role: "rest-service", db: "restdb", metricsPort: 8080, servicePorts: [8080] },
    // The design names no gRPC port: 50051.
    grpc: { instance: "outbox-grpc-service", role: "grpc-service", db: "grpcdb", metricsPort: 9090, servicePorts: [50051] },
    worker: { instance: "outbox-worker", role: "worker", db: "workerdb", metricsPort: 8000, servicePorts: [] },
};

/** "Kafka Topics" + "Event Processing Flow": who publishes, who consumes. */
const TOPICS: Record<string, { producers: Svc[]; consumers: Svc[] }> = {
    "resource.created": { producers: ["rest"], consumers: ["grpc", "worker"] },
    "resource.updated": { producers: ["rest"], consumers: ["grpc", "worker"] },
    "resource.deleted": { producers: ["rest"], consumers: ["grpc", "worker"] },
    "task.process": { producers: ["grpc"], consumers: ["grpc"] },
    "task.completed": { producers: ["grpc"], consumers: ["worker"] },
};

/** "Database Schemas", column lines exactly as the design writes them. */
const OUTBOX_EVENTS = [
    "id           VARCHAR(100) PRIMARY KEY",
    "aggregate_id VARCHAR(100) NOT NULL",
    "event_type   VARCHAR(100) NOT NULL",
    "payload      JSONB NOT NULL",
    "created_at   TIMESTAMP NOT NULL",
    "processed_at TIMESTAMP NULL",
];
const SCHEMAS: Record<string, Record<string, string[]>> = {
    restdb: {
        resources: [
            "id          VARCHAR(100) PRIMARY KEY",
            "name        VARCHAR(255) NOT NULL",
            "description TEXT",
            "status      VARCHAR(50) NOT NULL",
            "created_at  TIMESTAMP NOT NULL",
            "updated_at  TIMESTAMP NOT NULL",
        ],
        outbox_events: OUTBOX_EVENTS,
    },
    grpcdb: {
        tasks: [
            "id          VARCHAR(100) PRIMARY KEY",
            "resource_id VARCHAR(100) NOT NULL",
            "action      VARCHAR(100) NOT NULL",
            "status      VARCHAR(50) NOT NULL",
            "result      TEXT",
            "created_at  TIMESTAMP NOT NULL",
            "updated_at  TIMESTAMP NOT NULL",
        ],
        outbox_events: OUTBOX_EVENTS,
    },
    workerdb: {
        processed_events: [
            "id           UUID PRIMARY KEY",
            "event_type   VARCHAR(100) NOT NULL",
            "resource_id  VARCHAR(100)",
            "task_id      VARCHAR(100)",
            "action       VARCHAR(50)",
            "payload      JSONB NOT NULL",
            "processed_at TIMESTAMP NOT NULL",
        ],
    },
};

/** "Monitoring and Alerting": the six recommended alerts (error rate for HTTP and gRPC). */
const ALERTS: [string, string, string | undefined][] = [
    ["HighErrorRate", "> 0.05", "5m"],
    ["HighGrpcErrorRate", "> 0.05", "5m"],
    ["HighLatencyP95", "http_request_duration_seconds_bucket[5m]))) > 0.5", "5m"],
    ["KafkaConsumerLagHigh", "(kafka_consumergroup_lag) > 10000", "5m"],
    ["DatabaseConnectionsHigh", "> 0.8", "5m"],
    ["PodRestartingOften", "kube_pod_container_status_restarts_total[10m]) > 3", undefined],
    ["ThroughputDrop", "< 0.5 * sum by (job) (rate(http_requests_total[5m] offset 1h))", "10m"],
];
/** The platform's Kubernetes alerts (kube-state-metrics and the kubelet), loaded after the design's. */
const KUBERNETES_ALERT_NAMES = ["KubeDeploymentReplicasUnavailable", "KubeStatefulSetReplicasNotReady", "ContainerMemoryNearLimit", "PersistentVolumeFillingUp"];

// ---------------------------------------------------------------------------------------------
// Args: dev (small) and prod (the design's HA numbers)

const PROD: OutboxEventsInput = {
    namespace: "outbox",
    quota: { requestsCpu: "8", requestsMemory: "16Gi", limitsCpu: "32", limitsMemory: "32Gi", requestsStorage: "150Gi", pods: 40, persistentVolumeClaims: 16 },
    limits: { defaultRequest: { cpu: "100m", memory: "128Mi" }, default: { cpu: "500m", memory: "512Mi" }, max: { cpu: "4", memory: "8Gi" } },
    storageClass: "ssd",
    protectData: true,
    restService: { replicas: 3, pool: { minConnections: 20, maxConnections: 50 } },
    grpcService: { replicas: 3, pool: { minConnections: 20, maxConnections: 50 } },
    worker: { replicas: 3, pool: { minConnections: 20, maxConnections: 50 } },
    database: { replicas: 2, storage: { size: "10Gi" } },
    kafka: {
        cluster: { mode: "kraft", brokers: 3, brokerStorage: "10Gi", defaultReplicationFactor: 3, minInsyncReplicas: 2 },
        topics: { partitions: 3, replicationFactor: 3, minInsyncReplicas: 2 },
    },
    observability: { apiServerCidrs: ["10.0.0.1/32"], prometheus: { storage: { size: "20Gi" } }, otelCollector: { replicas: 2 } },
};

const small = { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "250m", memory: "128Mi" } };
const DEV: OutboxEventsInput = {
    namespace: "outbox-dev",
    quota: { requestsCpu: "4", requestsMemory: "6Gi", limitsCpu: "12", limitsMemory: "12Gi", requestsStorage: "20Gi", pods: 20, persistentVolumeClaims: 8 },
    limits: { defaultRequest: { cpu: "50m", memory: "64Mi" }, default: { cpu: "250m", memory: "256Mi" }, max: { cpu: "2", memory: "2Gi" } },
    protectData: false,
    restService: { replicas: 1, resources: small, pool: { minConnections: 2, maxConnections: 10 }, logLevel: "debug" },
    grpcService: { replicas: 1, resources: small, pool: { minConnections: 2, maxConnections: 10 }, logLevel: "debug" },
    worker: { replicas: 1, resources: small, pool: { minConnections: 2, maxConnections: 10 }, logLevel: "debug" },
    database: {
        replicas: 1, storage: { size: "1Gi" },
        resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
    },
    kafka: {
        cluster: {
            mode: "kraft", brokers: 1, brokerStorage: "2Gi", defaultReplicationFactor: 1, minInsyncReplicas: 1,
            resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
        },
        topics: { partitions: 1, replicationFactor: 1, minInsyncReplicas: 1 },
    },
    observability: {
        apiServerCidrs: ["172.18.0.2/32"],
        prometheus: { storage: { size: "2Gi" }, retention: "7d" },
        grafana: { storage: { size: "1Gi" } },
        otelCollector: { replicas: 1 },
    },
};

interface Sizes { replicas: number; dbReplicas: number; dbSize: string; brokers: number; brokerSize: string; partitions: number; rf: number; minIsr: number;
    pool: [number, number]; maxConnections: number; promSize: string; retention: string; otel: number; storageClass: string | undefined }
const SIZES: Record<"dev" | "prod", Sizes> = {
    // 3 pods x 50 connections + 10 reserved = 160 > postgres' default 100.
    prod: { replicas: 3, dbReplicas: 2, dbSize: "10Gi", brokers: 3, brokerSize: "10Gi", partitions: 3, rf: 3, minIsr: 2, pool: [20, 50], maxConnections: 160,
        promSize: "20Gi", retention: "30d", otel: 2, storageClass: "ssd" },
    dev: { replicas: 1, dbReplicas: 1, dbSize: "1Gi", brokers: 1, brokerSize: "2Gi", partitions: 1, rf: 1, minIsr: 1, pool: [2, 10], maxConnections: 100,
        promSize: "2Gi", retention: "7d", otel: 1, storageClass: undefined },
};

// ---------------------------------------------------------------------------------------------
// A stack that opens gRPC to the outside extends the plan in its pack config, like this.

const tcp = (...ports: number[]) => ports.map(port => ({ protocol: "TCP", port }));
const GRPC_EXTERNAL_RULE: PlanRule = {
    description: "outbox: clients -> gRPC service (ProcessTask, GetTaskStatus, ListTasks)",
    from: { outside: true }, to: { partOf: "outbox", role: "grpc-service" }, ports: tcp(50051),
};

function configWith(stack: string, extraRules: PlanRule[]) {
    const cfg = packConfig(stack);
    cfg["traffic-plan"] = { ...(cfg["traffic-plan"] as object), extraRules };
    return cfg;
}

async function violations(res: RecordedResource[], stack: string, extraRules: PlanRule[] = []): Promise<string[]> {
    return (await runAll(toPlain(res), configWith(stack, extraRules))).map(v => `${v.policy}: ${v.message}`);
}

function graphOf(res: RecordedResource[]): string[] {
    const report = trafficReport(fromPlain(toPlain(res)), { ingressNamespaces: ["ingress-nginx"] });
    return report.graph.edges.map(e => `${e.from} -> ${e.to} ${portLabel(e.ports)}`).sort();
}

/** The flows the design allows, written out from its sections. */
function designFlows(ns: string, o: { dbReplicated: boolean; apiCidr: string; grpcExternal?: boolean; grafanaFromIngress?: boolean }): string[] {
    const w = (n: string) => `${ns}/${n}`;
    const dns = "kube-system/k8s-app=kube-dns TCP/53, UDP/53";
    const workloads = ["outbox-rest-service", "outbox-grpc-service", "outbox-worker", "outbox-restdb", "outbox-grpcdb", "outbox-workerdb",
        "outbox-kafka", "outbox-kafka-exporter", "outbox-obs-otel-collector", "outbox-obs-jaeger", "outbox-obs-prometheus", "outbox-obs-grafana",
        "outbox-obs-kube-state-metrics"];
    const flows = [
        // Every workload resolves names.
        ...workloads.map(n => `${w(n)} -> ${dns}`),
        // 1. Client -> REST API (through the ingress controller).
        `ingress-nginx/* -> ${w("outbox-rest-service")} TCP/8080`,
        // 2-5, 7, 9: each service -> its own database only.
        `${w("outbox-rest-service")} -> ${w("outbox-restdb")} TCP/5432`,
        `${w("outbox-grpc-service")} -> ${w("outbox-grpcdb")} TCP/5432`,
        `${w("outbox-worker")} -> ${w("outbox-workerdb")} TCP/5432`,
        // 8, 10, 11: publish and consume.
        ...["outbox-rest-service", "outbox-grpc-service", "outbox-worker"].map(n => `${w(n)} -> ${w("outbox-kafka")} TCP/9092`),
        // KRaft brokers replicate and vote among themselves.
        `${w("outbox-kafka")} -> ${w("outbox-kafka")} TCP/9092, TCP/9093`,
        // OpenTelemetry: traces and metrics out of every service.
        ...["outbox-rest-service", "outbox-grpc-service", "outbox-worker"].map(n => `${w(n)} -> ${w("outbox-obs-otel-collector")} TCP/4317, TCP/4318`),
        `${w("outbox-obs-otel-collector")} -> ${w("outbox-obs-jaeger")} TCP/4317`,
        // OTEL -> Prometheus -> Grafana; Prometheus scrapes the services' /metrics and the consumer-lag exporter.
        `${w("outbox-obs-prometheus")} -> ${w("outbox-obs-otel-collector")} TCP/8889`,
        `${w("outbox-obs-prometheus")} -> ${w("outbox-rest-service")} TCP/8080`,
        `${w("outbox-obs-prometheus")} -> ${w("outbox-grpc-service")} TCP/9090`,
        `${w("outbox-obs-prometheus")} -> ${w("outbox-worker")} TCP/8000`,
        `${w("outbox-obs-prometheus")} -> ${w("outbox-kafka-exporter")} TCP/9308`,
        `${w("outbox-kafka-exporter")} -> ${w("outbox-kafka")} TCP/9092`,
        `${w("outbox-obs-prometheus")} -> ipBlock:${o.apiCidr} TCP/443, TCP/6443`,
        // kube-state-metrics (the pod-restart and Kubernetes alerts' data): scraped, lists and watches the API server.
        `${w("outbox-obs-prometheus")} -> ${w("outbox-obs-kube-state-metrics")} TCP/8080`,
        `${w("outbox-obs-kube-state-metrics")} -> ipBlock:${o.apiCidr} TCP/443, TCP/6443`,
        `${w("outbox-obs-grafana")} -> ${w("outbox-obs-prometheus")} TCP/9090`,
        `${w("outbox-obs-grafana")} -> ${w("outbox-obs-jaeger")} TCP/16686`,
    ];
    if (o.dbReplicated) {
        flows.push(...["outbox-restdb", "outbox-grpcdb", "outbox-workerdb"].map(n => `${w(n)} -> ${w(n)} TCP/5432`));
    }
    if (o.grpcExternal) {
        flows.push(`ingress-nginx/* -> ${w("outbox-grpc-service")} TCP/50051`);
    }
    if (o.grafanaFromIngress) {
        flows.push(`ingress-nginx/* -> ${w("outbox-obs-grafana")} TCP/3000`);
    }
    return flows.sort();
}

// ---------------------------------------------------------------------------------------------
// Helpers

function deployment(res: RecordedResource[], svc: Svc): RecordedResource {
    return byName(res, T.deployment, SERVICES[svc].instance);
}

function envOf(r: RecordedResource): Record<string, any> {
    return Object.fromEntries(podSpec(r).containers[0].env.map((e: { name: string }) => [e.name, e]));
}

function plainEnv(r: RecordedResource): Record<string, string> {
    return Object.fromEntries(podSpec(r).containers[0].env.filter((e: { value?: string }) => e.value !== undefined)
        .map((e: { name: string; value: string }) => [e.name, e.value]));
}

function schemaOf(sql: string): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const m of sql.matchAll(/CREATE TABLE IF NOT EXISTS (\w+) \(\n([\s\S]*?)\n\);/g)) {
        out[m[1]] = m[2].split(",\n").map(l => l.trim().replace(/\s+/g, " "));
    }
    return out;
}

const norm = (l: string) => l.replace(/\s+/g, " ");

/** An OutboxEvents from raw args, validated the way the config module does (errors keyed OutboxEvents(<name>)). */
function newOutbox(name: string, raw: OutboxEventsInput): OutboxEvents {
    return new OutboxEvents(name, { spec: validateOutboxEventsSpec(`OutboxEvents(${name})`, raw, name) });
}

async function build(args: OutboxEventsInput, name = "outbox"): Promise<{ res: RecordedResource[]; sys: OutboxEvents }> {
    let sys: OutboxEvents | undefined;
    const res = await capture(() => { sys = newOutbox(name, args); });
    return { res, sys: sys! };
}

// ---------------------------------------------------------------------------------------------

for (const stack of ["prod", "dev"] as const) {
    const args = stack === "prod" ? PROD : DEV;
    const size = SIZES[stack];
    const ns = args.namespace!;

    describe(`OutboxEvents (${stack})`, () => {
        let res: RecordedResource[];
        let sys: OutboxEvents;
        before(async () => ({ res, sys } = await build(args)));

        describe("design numbers", () => {
            for (const svc of ["rest", "grpc", "worker"] as Svc[]) {
                const d = SERVICES[svc];
                it(`runs the ${d.role} with ${size.replicas} replica(s), its ports, labels and probes`, () => {
                    const dep = deployment(res, svc);
                    expect(dep.inputs.spec.replicas).to.equal(size.replicas);
                    expect(dep.inputs.metadata.namespace).to.equal(ns);
                    const labels = dep.inputs.spec.template.metadata.labels;
                    expect(labels["app.kubernetes.io/part-of"]).to.equal("outbox");
                    expect(labels["app.kubernetes.io/component"]).to.equal(d.role);
                    expect(labels[INSTANCE]).to.equal(d.instance);
                    const c = podSpec(dep).containers[0];
                    expect(c.image).to.match(/:[0-9]+\.[0-9]+\.[0-9]+$/);
                    const ann = dep.inputs.spec.template.metadata.annotations;
                    expect(ann).to.deep.equal({ "prometheus.io/scrape": "true", "prometheus.io/port": String(d.metricsPort), "prometheus.io/path": "/metrics" });
                    expect(c.ports.map((p: { containerPort: number }) => p.containerPort)).to.include(d.metricsPort);
                    const svcs = ofType(res, T.service).filter(s => s.inputs.metadata.name === d.instance);
                    expect(svcs.flatMap(s => s.inputs.spec.ports.map((p: { port: number }) => p.port))).to.deep.equal(d.servicePorts);
                    expect(svcs.every(s => s.inputs.spec.type === "ClusterIP")).to.equal(true);
                    if (size.replicas > 1) {
                        expect(byName(res, T.pdb, d.instance).inputs.spec.minAvailable).to.equal(size.replicas - 1);
                    }
                });
            }

            it("serves REST on 8080 with /health probes and /metrics; gRPC on 50051 with reflection on", () => {
                const rest = podSpec(deployment(res, "rest")).containers[0];
                expect(rest.ports).to.deep.equal([{ name: "http", containerPort: 8080, protocol: "TCP" }]);
                expect(rest.livenessProbe.tcpSocket).to.deep.equal({ port: 8080 });
                expect(rest.readinessProbe.httpGet).to.deep.equal({ path: "/health", port: 8080 });
                const grpc = podSpec(deployment(res, "grpc")).containers[0];
                expect(grpc.ports.map((p: { containerPort: number }) => p.containerPort)).to.deep.equal([50051, 9090]);
                expect(grpc.readinessProbe.tcpSocket).to.deep.equal({ port: 50051 });
                expect(grpc.livenessProbe.tcpSocket).to.deep.equal({ port: 9090 });
                expect(plainEnv(deployment(res, "grpc"))).to.include({ GRPC_PORT: "50051", METRICS_PORT: "9090", GRPC_REFLECTION_ENABLED: "true" });
                expect(plainEnv(deployment(res, "rest"))).to.include({ HTTP_PORT: "8080" });
                expect(plainEnv(deployment(res, "worker"))).to.include({ METRICS_PORT: "8000" });
            });

            it(`runs three PostgreSQL databases (${size.dbReplicas} member(s), ${size.dbSize}), each named as the design names it`, () => {
                for (const db of ["restdb", "grpcdb", "workerdb"]) {
                    const sts = byName(res, T.statefulSet, `outbox-${db}`).inputs;
                    expect(sts.spec.replicas).to.equal(size.dbReplicas);
                    expect(sts.spec.template.metadata.labels["app.kubernetes.io/name"]).to.equal("postgresql");
                    expect(sts.spec.template.metadata.labels["app.kubernetes.io/part-of"]).to.equal("outbox");
                    const claim = sts.spec.volumeClaimTemplates[0].spec;
                    expect(claim.resources.requests.storage).to.equal(size.dbSize);
                    expect(claim.storageClassName).to.equal(size.storageClass);
                    const pg = sts.spec.template.spec.containers[0];
                    expect(pg.image).to.equal("postgres:16.4");
                    expect(pg.env.find((e: { name: string }) => e.name === "POSTGRES_DB").value).to.equal(db);
                }
            });

            it(`runs Kafka in KRaft mode with ${size.brokers} broker(s) of ${size.brokerSize}`, () => {
                const sts = byName(res, T.statefulSet, "outbox-kafka").inputs;
                expect(sts.spec.replicas).to.equal(size.brokers);
                expect(sts.spec.template.spec.containers[0].image).to.equal("apache/kafka:3.9.0");
                expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).to.equal(size.brokerSize);
                expect(sts.spec.template.metadata.labels["app.kubernetes.io/part-of"]).to.equal("outbox");
                expect(ofType(res, T.statefulSet).filter(s => s.inputs.metadata.name.includes("zookeeper"))).to.have.length(0);
            });

            it(`declares the five topics with ${size.partitions} partition(s), replication ${size.rf}, min ISR ${size.minIsr}`, () => {
                const topics = ofType(res, TOPIC);
                expect(topics.map(t => t.inputs.name).sort()).to.deep.equal(Object.keys(TOPICS).sort());
                for (const t of topics) {
                    expect([t.inputs.partitions, t.inputs.replicationFactor]).to.deep.equal([size.partitions, size.rf]);
                    expect(t.inputs.config["min.insync.replicas"]).to.equal(String(size.minIsr));
                }
                const provider = ofType(res, KAFKA_PROVIDER);
                expect(provider).to.have.length(1);
                expect(JSON.parse(provider[0].inputs.bootstrapServers)).to.deep.equal(
                    Array.from({ length: size.brokers }, (_, i) => `outbox-kafka-${i}.outbox-kafka-headless.${ns}.svc.cluster.local:9092`));
            });

            it(`keeps metrics ${size.retention} on ${size.promSize}, scraped every 15s, with ${size.otel} collector(s)`, () => {
                expect(byName(res, T.pvc, "outbox-obs-prometheus-data").inputs.spec.resources.requests.storage).to.equal(size.promSize);
                const prom = podSpec(byName(res, T.deployment, "outbox-obs-prometheus")).containers[0];
                expect(prom.args).to.include(`--storage.tsdb.retention.time=${size.retention}`);
                const cfg = yaml.load(byName(res, T.configMap, "outbox-obs-prometheus-config").inputs.data["prometheus.yaml"]) as any;
                expect(cfg.global.scrape_interval).to.equal("15s");
                const pods = cfg.scrape_configs.find((j: { job_name: string }) => j.job_name === "kubernetes-pods");
                expect(pods.kubernetes_sd_configs[0].namespaces.names).to.deep.equal([ns]);
                expect(byName(res, T.deployment, "outbox-obs-otel-collector").inputs.spec.replicas).to.equal(size.otel);
                expect(byName(res, T.deployment, "outbox-obs-grafana").inputs.spec.replicas).to.equal(1);
            });

            it("fits in its namespace: quota covers every pod (with rolling-update surge), the LimitRange every container", () => {
                const quota = args.quota;
                const max = args.limits.max;
                const q = (s: string) => parseQuantity(s)!;
                let pods = 0, reqCpu = 0, reqMem = 0, limCpu = 0, limMem = 0;
                for (const w of [...ofType(res, T.deployment), ...ofType(res, T.statefulSet)]) {
                    const spec = w.inputs.spec;
                    const surge = w.type === T.deployment && spec.strategy.type === "RollingUpdate" ? Math.ceil(spec.replicas * 0.25) : 0;
                    const n = spec.replicas + surge;
                    pods += n;
                    for (const c of spec.template.spec.containers) {
                        reqCpu += n * q(c.resources.requests.cpu); reqMem += n * q(c.resources.requests.memory);
                        limCpu += n * q(c.resources.limits.cpu); limMem += n * q(c.resources.limits.memory);
                        expect(q(c.resources.limits.cpu), `${w.name} cpu`).to.be.at.most(q(max.cpu));
                        expect(q(c.resources.limits.memory), `${w.name} memory`).to.be.at.most(q(max.memory));
                    }
                }
                expect(pods).to.be.at.most(quota.pods);
                expect(reqCpu).to.be.at.most(q(quota.requestsCpu));
                expect(reqMem).to.be.at.most(q(quota.requestsMemory));
                expect(limCpu).to.be.at.most(q(quota.limitsCpu));
                expect(limMem).to.be.at.most(q(quota.limitsMemory));
                const claims = [
                    ...ofType(res, T.statefulSet).flatMap(s => Array(s.inputs.spec.replicas).fill(s.inputs.spec.volumeClaimTemplates ?? []).flat()),
                    ...ofType(res, T.pvc).map(p => ({ spec: p.inputs.spec })),
                ];
                expect(claims.length).to.be.at.most(quota.persistentVolumeClaims);
                const storage = claims.reduce((sum: number, c: any) => sum + q(c.spec.resources.requests.storage), 0);
                expect(storage).to.be.at.most(q(quota.requestsStorage));
            });
        });

        describe("databases", () => {
            for (const [db, tables] of Object.entries(SCHEMAS)) {
                it(`initialises ${db} from a ConfigMap with exactly the design's tables and columns`, () => {
                    const cm = byName(res, T.configMap, `outbox-${db}-init`).inputs.data;
                    expect(schemaOf(cm["10-schema.sql"])).to.deep.equal(Object.fromEntries(Object.entries(tables).map(([t, cols]) => [t, cols.map(norm)])));
                    const sts = podSpec(byName(res, T.statefulSet, `outbox-${db}`));
                    const vol = sts.volumes.find((v: { name: string }) => v.name === "init-scripts");
                    expect(vol.configMap.name).to.equal(`outbox-${db}-init`);
                    expect(sts.containers[0].volumeMounts).to.deep.include({ name: "init-scripts", mountPath: "/docker-entrypoint-initdb.d", readOnly: true });
                });
            }

            it("indexes the outbox processor's poll (unprocessed events) with a partial index", () => {
                for (const db of ["restdb", "grpcdb"]) {
                    expect(byName(res, T.configMap, `outbox-${db}-init`).inputs.data["10-schema.sql"])
                        .to.include("ON outbox_events (created_at) WHERE processed_at IS NULL");
                }
                expect(byName(res, T.configMap, "outbox-workerdb-init").inputs.data["10-schema.sql"]).to.not.include("outbox_events");
            });

            it(`sizes max_connections for every pod's pool (${size.pool[1]} per pod): ${size.maxConnections}`, () => {
                for (const db of ["restdb", "grpcdb", "workerdb"]) {
                    expect(podSpec(byName(res, T.statefulSet, `outbox-${db}`)).containers[0].args)
                        .to.deep.equal(["postgres", "-c", "hba_file=/etc/database/pg_hba.conf", "-c", `max_connections=${size.maxConnections}`]);
                }
            });

            it("labels each database with its one owner (platform.io/owner), leaving the selector alone", () => {
                for (const svc of ["rest", "grpc", "worker"] as Svc[]) {
                    const sts = byName(res, T.statefulSet, `outbox-${SERVICES[svc].db}`).inputs;
                    expect(sts.spec.template.metadata.labels[OWNER_LABEL]).to.equal(SERVICES[svc].instance);
                    expect(sts.metadata.labels[OWNER_LABEL]).to.equal(SERVICES[svc].instance);
                    expect(sts.spec.selector.matchLabels).to.deep.equal({ [INSTANCE]: `outbox-${SERVICES[svc].db}`, "app.kubernetes.io/part-of": "outbox" });
                    expect(byName(res, T.secret, `outbox-${SERVICES[svc].db}-credentials`).inputs.metadata.labels[OWNER_LABEL]).to.equal(SERVICES[svc].instance);
                }
            });
        });

        describe("wiring", () => {
            for (const svc of ["rest", "grpc", "worker"] as Svc[]) {
                const d = SERVICES[svc];
                it(`gives the ${d.role} its own database through the database's Secret (secretKeyRef), host and pool`, () => {
                    const e = envOf(deployment(res, svc));
                    expect(e.DB_USER.valueFrom.secretKeyRef).to.deep.equal({ name: `outbox-${d.db}-credentials`, key: "username" });
                    expect(e.DB_PASSWORD.valueFrom.secretKeyRef).to.deep.equal({ name: `outbox-${d.db}-credentials`, key: "password" });
                    expect(e.DB_PASSWORD.value).to.equal(undefined);
                    expect(plainEnv(deployment(res, svc))).to.include({
                        DB_HOST: `outbox-${d.db}.${ns}.svc.cluster.local`, DB_PORT: "5432", DB_NAME: d.db,
                        DB_POOL_MIN_CONNS: String(size.pool[0]), DB_POOL_MAX_CONNS: String(size.pool[1]),
                    });
                });

                it(`wires the ${d.role} to Kafka as the design's event flow shows`, () => {
                    const e = plainEnv(deployment(res, svc));
                    expect(e.KAFKA_BOOTSTRAP_SERVERS).to.equal(
                        Array.from({ length: size.brokers }, (_, i) => `outbox-kafka-${i}.outbox-kafka-headless.${ns}.svc.cluster.local:9092`).join(","));
                    const produces = Object.keys(TOPICS).filter(t => TOPICS[t].producers.includes(svc));
                    const consumes = Object.keys(TOPICS).filter(t => TOPICS[t].consumers.includes(svc));
                    expect(e.KAFKA_PRODUCE_TOPICS?.split(",") ?? []).to.deep.equal(produces);
                    expect(e.KAFKA_CONSUME_TOPICS?.split(",") ?? []).to.deep.equal(consumes);
                    expect(e.KAFKA_CONSUMER_GROUP).to.equal(consumes.length ? d.instance : undefined);
                    expect(e.OTEL_EXPORTER_OTLP_ENDPOINT).to.equal(`http://outbox-obs-otel-collector.${ns}.svc.cluster.local:4317`);
                    expect(e.OTEL_SERVICE_NAME).to.equal(d.instance);
                });
            }

            it("gives every topic a producer and a consumer, and each consumer a group of its own", () => {
                const groups = new Set<string>();
                for (const topic of Object.keys(TOPICS)) {
                    const producers = (["rest", "grpc", "worker"] as Svc[]).filter(s => plainEnv(deployment(res, s)).KAFKA_PRODUCE_TOPICS?.split(",").includes(topic));
                    const consumers = (["rest", "grpc", "worker"] as Svc[]).filter(s => plainEnv(deployment(res, s)).KAFKA_CONSUME_TOPICS?.split(",").includes(topic));
                    expect([producers, consumers], topic).to.deep.equal([TOPICS[topic].producers, TOPICS[topic].consumers]);
                    consumers.forEach(s => groups.add(plainEnv(deployment(res, s)).KAFKA_CONSUMER_GROUP));
                }
                expect([...groups].sort()).to.deep.equal(["outbox-grpc-service", "outbox-worker"]);
            });

            it("keeps every generated password inside Secrets only", () => {
                const leaks = res.filter(r => r.type !== T.secret && r.type !== T.password && containsSecret(r.raw));
                expect(leaks.map(r => `${r.type} ${r.name}`)).to.deep.equal([]);
                const text = JSON.stringify(res.filter(r => r.type !== T.secret && r.type !== T.password).map(r => r.inputs));
                for (const db of ["restdb", "grpcdb", "workerdb"]) {
                    expect(text).to.not.include(mockPassword(`outbox-${db}-password`));
                }
                // No ConfigMap key names a password, and no ConfigMap text assigns one a literal value (the
                // scripts name the credentials Secret's files, e.g. POSTGRES_PASSWORD_FILE, never a value).
                for (const c of ofType(res, T.configMap)) {
                    const data: Record<string, string> = c.inputs.data ?? {};
                    expect(Object.keys(data).filter(k => /password/i.test(k)), c.name).to.deep.equal([]);
                    expect(Object.values(data).join("\n"), c.name).to.not.match(/password\s*[:=]\s*[^\s$"'{(]/i);
                }
            });

            it("exports endpoints, database secrets, topics and consumer groups", async () => {
                expect(await valueOf(sys.restUrl)).to.equal(`http://outbox-rest-service.${ns}.svc.cluster.local:8080`);
                expect(await valueOf(sys.grpcAddress)).to.equal(`outbox-grpc-service.${ns}.svc.cluster.local:50051`);
                expect(await valueOf(sys.databases.grpcdb.secretName)).to.equal("outbox-grpcdb-credentials");
                expect(await valueOf(sys.databases.workerdb.host)).to.equal(`outbox-workerdb.${ns}.svc.cluster.local`);
                expect(await isSecret(sys.databases.restdb.connectionUrl)).to.equal(true);
                expect(await valueOf(sys.topicNames)).to.deep.equal(Object.keys(TOPICS));
                expect(await valueOf(sys.consumerGroups)).to.deep.equal({ grpcService: "outbox-grpc-service", worker: "outbox-worker" });
                expect(await valueOf(sys.grafanaAdminSecretName)).to.equal("outbox-obs-grafana-admin");
                expect(await valueOf(sys.namespace)).to.equal(ns);
            });
        });

        describe("observability", () => {
            it("loads the design's six recommended alerts (HTTP and gRPC error rate) with their thresholds", () => {
                const rules = yaml.load(byName(res, T.configMap, "outbox-obs-prometheus-rules").inputs.data["alerts.rules.yaml"]) as any;
                const all = rules.groups.flatMap((g: { rules: unknown[] }) => g.rules);
                expect(rules.groups.map((g: { name: string }) => g.name)).to.deep.equal(["outbox-events", "kubernetes"]);
                expect(all.map((r: { alert: string }) => r.alert)).to.deep.equal([...ALERTS.map(a => a[0]), ...KUBERNETES_ALERT_NAMES]);
                for (const [name, threshold, duration] of ALERTS) {
                    const r = all.find((x: { alert: string }) => x.alert === name);
                    expect(r.expr, name).to.include(threshold);
                    expect(r.for, name).to.equal(duration);
                }
            });

            it("provisions the design's dashboards: latency p50/p95/p99, throughput, errors, consumer lag, pool, CPU/memory", () => {
                const dashboards = ofType(res, T.configMap).filter(c => c.inputs.metadata.labels?.["grafana.platform.io/dashboard"] === "true");
                expect(dashboards.map(d => d.name).sort()).to.deep.equal([
                    "outbox-obs-grafana-dashboard-platform-application", "outbox-obs-grafana-dashboard-platform-database",
                    "outbox-obs-grafana-dashboard-platform-kafka", "outbox-obs-grafana-dashboard-platform-resources",
                ]);
                const text = JSON.stringify(dashboards.map(d => d.inputs.data));
                for (const needle of ["histogram_quantile(0.5,", "histogram_quantile(0.95,", "histogram_quantile(0.99,", "rate(http_requests_total[5m])",
                    'status=~\\\\\\"5..\\\\\\"', "kafka_consumergroup_lag", "go_sql_open_connections", "container_cpu_usage_seconds_total", "container_memory_working_set_bytes"]) {
                    expect(text, needle).to.include(needle);
                }
            });

            it("exports consumer lag through a Kafka exporter that reaches the brokers", () => {
                const exp = byName(res, T.deployment, "outbox-kafka-exporter");
                const c = podSpec(exp).containers[0];
                expect(c.args.filter((a: string) => a.startsWith("--kafka.server="))).to.have.length(size.brokers);
                expect(exp.inputs.spec.template.metadata.annotations["prometheus.io/port"]).to.equal("9308");
            });
        });

        describe("network", () => {
            it("allows exactly the design's flows (the pack's traffic analysis)", () => {
                expect(graphOf(res)).to.deep.equal(designFlows(ns, { dbReplicated: size.dbReplicas > 1, apiCidr: args.observability.apiServerCidrs[0] }));
            });

            it(`finds zero policy-pack violations with the ${stack} pack config`, async () => {
                expect(await violations(res, stack)).to.deep.equal([]);
            });
        });
    });
}

describe("OutboxEvents variants", () => {
    it("opens gRPC (and Grafana) to the ingress controller when asked; gRPC then needs its plan rule", async () => {
        const { res } = await build({
            ...PROD,
            grpcService: { ...PROD.grpcService, external: true },
            observability: { ...PROD.observability, grafana: { fromIngress: true } },
        });
        expect(graphOf(res)).to.deep.equal(designFlows("outbox", { dbReplicated: true, apiCidr: "10.0.0.1/32", grpcExternal: true, grafanaFromIngress: true }));
        expect(await violations(res, "prod")).to.deep.equal([
            "traffic-plan: flow ingress-nginx/* -> outbox/outbox-grpc-service on TCP/50051 is not in the traffic plan",
        ]);
        expect(await violations(res, "prod", [GRPC_EXTERNAL_RULE])).to.deep.equal([]);
    });

    it("registers no kafka provider or topic in render mode, and still names the topics", async () => {
        const { res, sys } = await build({ ...DEV, kafka: { ...DEV.kafka, manageTopics: false } });
        expect(ofType(res, TOPIC)).to.have.length(0);
        expect(ofType(res, KAFKA_PROVIDER)).to.have.length(0);
        expect(await valueOf(sys.topicNames)).to.deep.equal(Object.keys(TOPICS));
    });

    it("manages topics through the given bootstrap servers, TLS and SASL (password kept secret)", async () => {
        const { res } = await build({
            ...DEV,
            kafka: {
                ...DEV.kafka,
                connection: { bootstrapServers: ["localhost:19092"], tls: { enabled: true, skipVerify: true }, sasl: { mechanism: "scram-sha512", username: "pulumi", password: "s3cret-pw" } },
            },
        });
        const p = ofType(res, KAFKA_PROVIDER)[0];
        expect(JSON.parse(p.inputs.bootstrapServers)).to.deep.equal(["localhost:19092"]);
        expect([p.inputs.tlsEnabled, p.inputs.saslMechanism, p.inputs.saslUsername]).to.deep.equal(["true", "scram-sha512", "pulumi"]);
        expect(containsSecret(p.raw.saslPassword)).to.equal(true);
    });

    it("scales with an HPA when asked, and sizes max_connections for its ceiling", async () => {
        const { res } = await build({ ...PROD, restService: { ...PROD.restService, autoscaling: { minReplicas: 3, maxReplicas: 6, targetCPUUtilizationPercentage: 70 } } });
        const hpa = byName(res, T.hpa, "outbox-rest-service").inputs.spec;
        expect([hpa.minReplicas, hpa.maxReplicas]).to.deep.equal([3, 6]);
        expect(podSpec(byName(res, T.statefulSet, "outbox-restdb")).containers[0].args).to.deep.equal(["postgres", "-c", "hba_file=/etc/database/pg_hba.conf", "-c", "max_connections=310"]);
        expect(podSpec(byName(res, T.statefulSet, "outbox-grpcdb")).containers[0].args).to.deep.equal(["postgres", "-c", "hba_file=/etc/database/pg_hba.conf", "-c", "max_connections=160"]);
    });

    it("fills in the design's numbers as defaults (prod)", () => {
        const s = validateOutboxEventsSpec("k8s-platform:outbox", { quota: PROD.quota, limits: PROD.limits, observability: { apiServerCidrs: ["10.0.0.1/32"] } });
        expect([s.restService.replicas, s.grpcService.replicas, s.worker.replicas]).to.deep.equal([3, 3, 3]);
        expect([s.restService.port, s.grpcService.port, s.grpcService.metricsPort, s.worker.metricsPort]).to.deep.equal([8080, 50051, 9090, 8000]);
        expect(s.restService.pool).to.deep.equal({ minConnections: 20, maxConnections: 50 });
        expect([s.grpcService.reflection, s.grpcService.external, s.observability.grafana.fromIngress]).to.deep.equal([true, false, false]);
        expect([s.kafka.cluster.mode, s.kafka.cluster.brokers, s.kafka.topics.partitions, s.kafka.topics.replicationFactor]).to.deep.equal(["kraft", 3, 3, 3]);
        expect([s.observability.prometheus.retention, s.observability.prometheus.scrapeInterval, s.observability.prometheus.storage.size]).to.deep.equal(["30d", "15s", "20Gi"]);
        expect([s.namespace, s.ingressNamespace, s.protectData, s.kafka.manageTopics]).to.deep.equal(["outbox", "ingress-nginx", true, true]);
    });
});

describe("OutboxEvents validation", () => {
    const K = "OutboxEvents(bad)";
    const cases: [string, Record<string, unknown>, string][] = [
        ["an unknown key (a typo)", { restservice: {} }, `${K}.restservice: unknown key; allowed keys: namespace, quota, limits,`],
        ["a missing quota", { quota: undefined }, `${K}.quota: missing; allowed: { requestsCpu,`],
        ["an unpinned image", { restService: { image: "ghcr.io/k8s-platform/outbox-rest-service:latest" } },
            `${K}.restService.image: "ghcr.io/k8s-platform/outbox-rest-service:latest" is not pinned`],
        ["zero replicas", { worker: { replicas: 0 } }, `${K}.worker.replicas: 0 is not allowed; allowed: an integer from 1 to 20`],
        ["a pool whose minimum is above its maximum", { grpcService: { pool: { minConnections: 60, maxConnections: 50 } } },
            `${K}.grpcService.pool.minConnections: 60 is above maxConnections 50; allowed: minConnections <= maxConnections`],
        ["a pool beyond 200 connections", { restService: { pool: { maxConnections: 500 } } },
            `${K}.restService.pool.maxConnections: 500 is not allowed; allowed: an integer from 1 to 200`],
        ["gRPC and metrics on one port", { grpcService: { metricsPort: 50051 } },
            `${K}.grpcService: port 50051 is used by both "port" and "metricsPort"; allowed: a distinct port per part`],
        ["one consumer group for both consumers", { worker: { consumerGroup: "bad-grpc-service" } },
            `${K}.worker.consumerGroup: "bad-grpc-service" is the gRPC service's group too; allowed: a group of its own`],
        ["an unknown log level", { restService: { logLevel: "trace" } }, `${K}.restService.logLevel: "trace" is not allowed; allowed: debug, info, warn, error`],
        ["an unpinned postgres", { database: { version: "latest" } }, `${K}.database.version: "latest" is not allowed; allowed: a pinned postgres version such as 16.4`],
        ["a database storage that is not a quantity", { database: { storage: { size: "lots" } } }, `${K}.database.storage.size: "lots" is not a storage quantity`],
        ["an unknown Kafka mode", { kafka: { cluster: { mode: "raft" } } }, `${K}.kafka.cluster.mode: "raft" is not allowed; allowed: zookeeper, kraft`],
        ["topics replicated more often than there are brokers",
            { kafka: { cluster: { brokers: 1, defaultReplicationFactor: 1, minInsyncReplicas: 1 } } },
            `${K}.kafka.topics.replicationFactor: 3 is not allowed; allowed: an integer from 1 to 1`],
        ["a topic min ISR above its replication", { kafka: { topics: { minInsyncReplicas: 4 } } },
            `${K}.kafka.topics.minInsyncReplicas: 4 is not allowed; allowed: an integer from 1 to 3`],
        ["a SASL section without a password", { kafka: { connection: { sasl: { mechanism: "plain", username: "u" } } } },
            `${K}.kafka.connection.sasl.password: missing or empty`],
        ["no API server range", { observability: { apiServerCidrs: [] } }, `${K}.observability.apiServerCidrs: [] is not allowed; allowed: a non-empty list of IPv4 CIDRs`],
        ["the whole Internet as the API server", { observability: { apiServerCidrs: ["0.0.0.0/0"] } },
            `${K}.observability.apiServerCidrs[0]: "0.0.0.0/0" is not allowed; allowed: an IPv4 CIDR such as 10.0.0.1/32 (not /0)`],
        ["a retention that is not a duration", { observability: { apiServerCidrs: ["10.0.0.1/32"], prometheus: { retention: "30 days" } } },
            `${K}.observability.prometheus.retention: "30 days" is not allowed; allowed: a Prometheus duration such as 30d`],
        ["a namespace that is not a DNS label", { namespace: "Outbox" }, `${K}.namespace: "Outbox" is not allowed; allowed: lowercase letters`],
        ["an unknown key in the quota", { quota: { ...PROD.quota, requestsGpu: "1" } }, `${K}.quota.requestsGpu: unknown key; allowed keys: requestsCpu`],
    ];
    for (const [what, over, message] of cases) {
        it(`refuses ${what} before registering anything`, async () => {
            const res = await capture(() => {
                expect(() => newOutbox("bad", { ...PROD, ...over })).to.throw(message);
            });
            expect(res).to.have.length(0);
        });
    }

    it("refuses a system name too long for its children's names", async () => {
        const res = await capture(() => {
            expect(() => newOutbox("outbox-events-system-x", PROD)).to.throw("OutboxEvents(outbox-events-system-x).name:");
        });
        expect(res).to.have.length(0);
    });

    it("names the config key in errors when the config module validates", () => {
        expect(() => validateOutboxEventsSpec("k8s-platform:outbox", { ...PROD, worker: { replicas: 99 } }))
            .to.throw("k8s-platform:outbox.worker.replicas: 99 is not allowed; allowed: an integer from 1 to 20");
    });
});
