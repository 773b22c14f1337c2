/**
 * The Outbox events system's args (outbox-events.md) and their validation. The stack config module
 * (key `k8s-platform:outbox`) and the OutboxEvents constructor both call validateOutboxEventsSpec,
 * so the rules and their error texts live here once. Defaults are the prod (HA) numbers; a dev
 * stack shrinks replicas, sizes and Kafka through the same keys.
 */
import { BackupPolicy, parseBackupPolicy } from "../../backup/policy";
import { DatabaseSpec, validateDatabaseSpec } from "../../database/spec";
import { maxConnections } from "./schema";
import { ResourceSpec, validateResources } from "../../k8s/container";
import { LimitRangeSpec, QuotaSpec, validateLimitRange, validateQuota } from "../../k8s/namespace";
import {
    rejectUnknownKeys, requireBoolean, requireCidr, requireDistinctPorts, requireDnsLabel, requireDuration, requireIntInRange, requireNonEmptyString, requireObject, requireOneOf, requirePinnedImage, requireQuantity, ValidationError,
} from "../../k8s/validation";
import { validateAutoscaling } from "../../k8s/workload";
import {
    KafkaClusterSpec, KafkaConnectionSpec, outboxTopics, requireTopicAccess, TopicAccess, validateKafkaClusterSpec, validateKafkaConnection, validateTopicSpecs,
} from "../../messaging/spec";
import { KafkaSaslArgs, KafkaTlsArgs } from "../../messaging/topics";
import { OUTBOX_ROLES, PART_OF } from "../../k8s/labels";
import { resolveEdgeSpec, ResolvedEdgeSpec } from "../../edge/spec";

/** The user-facing endpoints under `ingress`: the REST API (api. host), gRPC (grpc.) and Grafana (monitoring.). */
export const OUTBOX_EDGE_ENDPOINTS = [{ name: "rest", role: "api" }, { name: "grpc", role: "grpc" }, { name: "grafana", role: "grafana" }] as const;
export const OUTBOX_DEFAULT_DOMAIN = "outbox.example.com";

/** System label (app.kubernetes.io/part-of) the policy pack's outbox rules match on. */
export const OUTBOX_PART_OF = PART_OF.outbox;
/** Roles (app.kubernetes.io/component) of the three services: OUTBOX_SERVICES of the pack's plan. */
export { OUTBOX_ROLES };

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = typeof LOG_LEVELS[number];

export interface AutoscalingSpec {
    minReplicas: number;
    maxReplicas: number;
    targetCPUUtilizationPercentage?: number;
    targetMemoryUtilizationPercentage?: number;
}

/** "Connection pooling (20-50 connections per service)": per pod, at least min idle, at most max open. */
export interface PoolSpec {
    minConnections: number;
    maxConnections: number;
}

export interface ServiceSpec {
    image: string;
    /** "replicas: 3 # Scale to 3 instances" in prod. */
    replicas: number;
    resources: ResourceSpec;
    autoscaling?: AutoscalingSpec;
    pool: PoolSpec;
    logLevel: LogLevel;
}

export interface RestServiceSpec extends ServiceSpec {
    /** HTTP: the API, /health and /metrics (8080). */
    port: number;
}

export interface GrpcServiceSpec extends ServiceSpec {
    /** The design names no port: 50051, gRPC's conventional one. */
    port: number;
    /** Prometheus metrics over HTTP (grpc_server_handled_total, ...). */
    metricsPort: number;
    /** "gRPC reflection for debugging". */
    reflection: boolean;
    /** Let the ingress controller reach ProcessTask/GetTaskStatus/ListTasks (needs a plan rule; see README of the system). */
    external: boolean;
    /** Kafka consumer group (resource.* and task.process). */
    consumerGroup: string;
}

export interface WorkerSpec extends ServiceSpec {
    /** Prometheus metrics (worker_messages_processed_total, ...). */
    metricsPort: number;
    /** Kafka consumer group (resource.* and task.completed). */
    consumerGroup: string;
}

export interface OutboxDatabaseSpec {
    /** postgres image tag. */
    version: string;
    /** 1 = single primary; more = primary + streaming replicas. */
    replicas: number;
    storage: { size: string; storageClass?: string };
    resources: ResourceSpec;
}

export interface TopicSettings {
    partitions: number;
    replicationFactor: number;
    minInsyncReplicas: number;
}

/** How Pulumi reaches the brokers to manage the topics. */
export interface KafkaConnectionArgs {
    /** inCluster (default): the brokers' in-cluster names; external: their advertised external addresses (cluster.external). */
    access?: TopicAccess;
    /** An explicit list (a broker outside the cluster); excludes `access`. */
    bootstrapServers?: string[];
    tls?: KafkaTlsArgs;
    sasl?: KafkaSaslArgs;
}

export interface OutboxKafkaSpec {
    cluster: KafkaClusterSpec;
    topics: TopicSettings;
    /** false in render mode: the topics are validated but no kafka provider or topic is registered. */
    manageTopics: boolean;
    connection: KafkaConnectionArgs;
}

export interface OutboxObservabilitySpec {
    /** Kubernetes API server addresses (Prometheus' pod discovery). */
    apiServerCidrs: string[];
    prometheus: { storage: { size: string; storageClass?: string }; retention: string; scrapeInterval: string; resources?: ResourceSpec };
    grafana: { storage: { size: string; storageClass?: string }; fromIngress: boolean; resources?: ResourceSpec };
    otelCollector: { replicas: number; resources?: ResourceSpec };
    /** kafka_exporter: kafka_consumergroup_lag, behind the consumer-lag dashboard and alert. */
    kafkaExporter: { enabled: boolean; image: string; resources: ResourceSpec };
}

export interface OutboxProcessorSpec {
    /** How often the outbox processor polls for unprocessed events. */
    pollIntervalMs: number;
    batchSize: number;
}

export interface OutboxEventsSpec {
    namespace: string;
    quota: QuotaSpec;
    limits: LimitRangeSpec;
    /** The ingress controller's namespace: the only outside source (the REST service, optionally gRPC and Grafana). */
    ingressNamespace: string;
    /** Class of every claim that names none. */
    storageClass?: string;
    /** Protect databases, brokers, topics and metrics volumes from `pulumi destroy`. */
    protectData: boolean;
    restService: RestServiceSpec;
    grpcService: GrpcServiceSpec;
    worker: WorkerSpec;
    /** One PostgreSQL per service: restdb, grpcdb, workerdb. */
    database: OutboxDatabaseSpec;
    /** Daily pg_dump of each database (outbox-events.md "Backup Strategy"); undefined: off. */
    backups?: BackupPolicy;
    kafka: OutboxKafkaSpec;
    observability: OutboxObservabilitySpec;
    outboxProcessor: OutboxProcessorSpec;
    /**
     * Hosts of the user-facing endpoints behind ingress-nginx (REST always; gRPC with
     * grpcService.external; Grafana with observability.grafana.fromIngress), cert-manager TLS, rate limits.
     */
    ingress: ResolvedEdgeSpec;
}

/** What config or a caller gives: everything except quota, limits and the API server is optional. */
export type OutboxEventsInput = Partial<Omit<OutboxEventsSpec, "restService" | "grpcService" | "worker" | "database" | "kafka" | "observability" | "outboxProcessor" | "ingress">> & {
    ingress?: Record<string, unknown>;
    quota: QuotaSpec;
    limits: LimitRangeSpec;
    restService?: Partial<RestServiceSpec>;
    grpcService?: Partial<GrpcServiceSpec>;
    worker?: Partial<WorkerSpec>;
    database?: Partial<OutboxDatabaseSpec>;
    kafka?: { cluster?: Partial<KafkaClusterSpec>; topics?: Partial<TopicSettings>; manageTopics?: boolean; connection?: KafkaConnectionArgs };
    observability: Partial<Omit<OutboxObservabilitySpec, "prometheus" | "grafana" | "otelCollector" | "kafkaExporter">> & {
        apiServerCidrs: string[];
        prometheus?: Partial<OutboxObservabilitySpec["prometheus"]>;
        grafana?: Partial<OutboxObservabilitySpec["grafana"]>;
        otelCollector?: Partial<OutboxObservabilitySpec["otelCollector"]>;
        kafkaExporter?: Partial<OutboxObservabilitySpec["kafkaExporter"]>;
    };
    outboxProcessor?: Partial<OutboxProcessorSpec>;
};

// ---------------------------------------------------------------------------------------------
// Defaults: the design's numbers (prod)

export const IMAGES = {
    rest: "ghcr.io/k8s-platform/outbox-rest-service:1.0.0",
    grpc: "ghcr.io/k8s-platform/outbox-grpc-service:1.0.0",
    worker: "ghcr.io/k8s-platform/outbox-python-worker:1.0.0",
    kafkaExporter: "danielqsj/kafka-exporter:v1.7.0",
} as const;

export const PORTS = { rest: 8080, grpc: 50051, grpcMetrics: 9090, workerMetrics: 8000, kafkaExporter: 9308 } as const;
/** The design's pool: 20-50 connections. */
export const DEFAULT_POOL: PoolSpec = { minConnections: 20, maxConnections: 50 };
export const MAX_POOL = 200;

const SERVICE_RESOURCES: ResourceSpec = { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } };
const DATABASE_RESOURCES: ResourceSpec = { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } };
const EXPORTER_RESOURCES: ResourceSpec = { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } };

export function defaultServices(): { restService: RestServiceSpec; grpcService: Omit<GrpcServiceSpec, "consumerGroup">; worker: Omit<WorkerSpec, "consumerGroup"> } {
    const common = { replicas: 3, resources: SERVICE_RESOURCES, pool: DEFAULT_POOL, logLevel: "info" as LogLevel };
    return {
        restService: { ...common, image: IMAGES.rest, port: PORTS.rest },
        grpcService: { ...common, image: IMAGES.grpc, port: PORTS.grpc, metricsPort: PORTS.grpcMetrics, reflection: true, external: false },
        worker: { ...common, image: IMAGES.worker, metricsPort: PORTS.workerMetrics },
    };
}

export const DEFAULT_DATABASE: OutboxDatabaseSpec = { version: "16.4", replicas: 2, storage: { size: "10Gi" }, resources: DATABASE_RESOURCES };
export const DEFAULT_KAFKA_CLUSTER: KafkaClusterSpec = {
    mode: "kraft", brokers: 3, brokerStorage: "10Gi", version: "3.9.0", defaultReplicationFactor: 3, minInsyncReplicas: 2,
};
export const DEFAULT_TOPICS: TopicSettings = { partitions: 3, replicationFactor: 3, minInsyncReplicas: 2 };

// ---------------------------------------------------------------------------------------------
// Validation

const TOP_KEYS = [
    "namespace", "quota", "limits", "ingressNamespace", "storageClass", "protectData", "restService", "grpcService", "worker",
    "database", "kafka", "observability", "outboxProcessor", "ingress", "backups",
];
const SERVICE_KEYS = ["image", "replicas", "resources", "autoscaling", "pool", "logLevel"];
const CONSUMER_GROUP = /^[A-Za-z0-9._-]{1,249}$/;

function consumerGroupOf(key: string, g: unknown): string {
    if (typeof g !== "string" || !CONSUMER_GROUP.test(g)) {
        throw new ValidationError(key, `${JSON.stringify(g)} is not allowed; allowed: 1-249 characters of letters, digits, '.', '_' and '-'`);
    }
    return g;
}

/** A service's common settings, read over its defaults, and the merged object for the caller's own keys. */
function validateService(key: string, raw: unknown, defaults: ServiceSpec, extraKeys: string[]): { service: ServiceSpec; given: Record<string, unknown> } {
    const given = raw === undefined ? {} : requireObject(key, raw);
    rejectUnknownKeys(key, given, [...SERVICE_KEYS, ...extraKeys]);
    const s: Record<string, unknown> = { ...defaults, ...given };
    const image = requirePinnedImage(`${key}.image`, s.image);
    const replicas = requireIntInRange(`${key}.replicas`, s.replicas, 1, 20);
    const resources = validateResources(`${key}.resources`, s.resources);
    let autoscaling: AutoscalingSpec | undefined;
    if (s.autoscaling !== undefined) {
        const a = requireObject(`${key}.autoscaling`, s.autoscaling);
        rejectUnknownKeys(`${key}.autoscaling`, a, ["minReplicas", "maxReplicas", "targetCPUUtilizationPercentage", "targetMemoryUtilizationPercentage"]);
        autoscaling = validateAutoscaling(`${key}.autoscaling`, a, 20);
    }
    const poolRaw = requireObject(`${key}.pool`, s.pool);
    rejectUnknownKeys(`${key}.pool`, poolRaw, ["minConnections", "maxConnections"]);
    const p = { ...DEFAULT_POOL, ...poolRaw };
    const pool: PoolSpec = {
        minConnections: requireIntInRange(`${key}.pool.minConnections`, p.minConnections, 0, MAX_POOL),
        maxConnections: requireIntInRange(`${key}.pool.maxConnections`, p.maxConnections, 1, MAX_POOL),
    };
    if (pool.minConnections > pool.maxConnections) {
        throw new ValidationError(`${key}.pool.minConnections`,
            `${pool.minConnections} is above maxConnections ${pool.maxConnections}; allowed: minConnections <= maxConnections`);
    }
    const logLevel = requireOneOf(`${key}.logLevel`, s.logLevel, LOG_LEVELS);
    return { service: { image, replicas, resources, ...(autoscaling ? { autoscaling } : {}), pool, logLevel }, given: s };
}

function validateStorage(key: string, raw: unknown, defaults: { size: string }): { size: string; storageClass?: string } {
    const s = { ...defaults, ...(raw === undefined ? {} : requireObject(key, raw)) } as Record<string, unknown>;
    rejectUnknownKeys(key, s, ["size", "storageClass"]);
    requireQuantity(`${key}.size`, s.size, "storage");
    if (s.storageClass !== undefined) {
        requireNonEmptyString(`${key}.storageClass`, s.storageClass);
    }
    return s as { size: string; storageClass?: string };
}

function optionalResources(key: string, r: unknown): void {
    if (r !== undefined) {
        validateResources(key, r);
    }
}

/** Most pods a service can run: the HPA ceiling, else its replicas. */
export function maxPods(s: ServiceSpec): number {
    return s.autoscaling ? Math.max(s.replicas, s.autoscaling.maxReplicas) : s.replicas;
}

/**
 * Validates the raw args (from config or a caller), fills in the defaults and returns the full spec.
 * `name` is the system's instance name (consumer groups default to `<name>-grpc-service` and
 * `<name>-worker`). `key` prefixes every error, e.g. "k8s-platform:outbox".
 */
export function validateOutboxEventsSpec(key: string, raw: unknown, name = "outbox"): OutboxEventsSpec {
    const r = requireObject(key, raw);
    rejectUnknownKeys(key, r, TOP_KEYS);
    const namespace = requireDnsLabel(`${key}.namespace`, r.namespace ?? "outbox", 63);
    if (r.quota === undefined) {
        throw new ValidationError(`${key}.quota`, "missing; allowed: { requestsCpu, requestsMemory, limitsCpu, limitsMemory, requestsStorage, pods, persistentVolumeClaims }");
    }
    const quota = validateQuota(`${key}.quota`, r.quota);
    if (r.limits === undefined) {
        throw new ValidationError(`${key}.limits`, "missing; allowed: { defaultRequest, default, max } each with cpu and memory");
    }
    const limits = validateLimitRange(`${key}.limits`, r.limits);
    const ingressNamespace = requireDnsLabel(`${key}.ingressNamespace`, r.ingressNamespace ?? "ingress-nginx", 63);
    if (r.storageClass !== undefined) {
        requireNonEmptyString(`${key}.storageClass`, r.storageClass);
    }
    const protectData = r.protectData === undefined ? true : requireBoolean(`${key}.protectData`, r.protectData);

    // The three services.
    const d = defaultServices();
    const restRead = validateService(`${key}.restService`, r.restService, d.restService, ["port"]);
    const rest: RestServiceSpec = { ...restRead.service, port: requireIntInRange(`${key}.restService.port`, restRead.given.port, 1024, 65535) };
    const grpcRead = validateService(`${key}.grpcService`, r.grpcService, d.grpcService, ["port", "metricsPort", "reflection", "external", "consumerGroup"]);
    const grpc: GrpcServiceSpec = {
        ...grpcRead.service,
        port: requireIntInRange(`${key}.grpcService.port`, grpcRead.given.port, 1024, 65535),
        metricsPort: requireIntInRange(`${key}.grpcService.metricsPort`, grpcRead.given.metricsPort, 1024, 65535),
        reflection: requireBoolean(`${key}.grpcService.reflection`, grpcRead.given.reflection),
        external: requireBoolean(`${key}.grpcService.external`, grpcRead.given.external),
        consumerGroup: consumerGroupOf(`${key}.grpcService.consumerGroup`, grpcRead.given.consumerGroup ?? `${name}-grpc-service`),
    };
    requireDistinctPorts(`${key}.grpcService`, [{ name: "port", port: grpc.port }, { name: "metricsPort", port: grpc.metricsPort }]);
    const workerRead = validateService(`${key}.worker`, r.worker, d.worker, ["metricsPort", "consumerGroup"]);
    const worker: WorkerSpec = {
        ...workerRead.service,
        metricsPort: requireIntInRange(`${key}.worker.metricsPort`, workerRead.given.metricsPort, 1024, 65535),
        consumerGroup: consumerGroupOf(`${key}.worker.consumerGroup`, workerRead.given.consumerGroup ?? `${name}-worker`),
    };
    if (grpc.consumerGroup === worker.consumerGroup) {
        // One group would split every event between the two services instead of giving each a copy.
        throw new ValidationError(`${key}.worker.consumerGroup`,
            `${JSON.stringify(worker.consumerGroup)} is the gRPC service's group too; allowed: a group of its own (each consumer gets every event)`);
    }

    // PostgreSQL (the same settings for restdb, grpcdb and workerdb).
    const dbRaw = r.database === undefined ? {} : requireObject(`${key}.database`, r.database);
    rejectUnknownKeys(`${key}.database`, dbRaw, ["version", "replicas", "storage", "resources"]);
    const database = { ...DEFAULT_DATABASE, ...dbRaw };
    const v = requireNonEmptyString(`${key}.database.version`, database.version);
    if (!/^[0-9]+(\.[0-9]+)*$/.test(v)) {
        throw new ValidationError(`${key}.database.version`, `${JSON.stringify(v)} is not allowed; allowed: a pinned postgres version such as ${DEFAULT_DATABASE.version}`);
    }
    requireIntInRange(`${key}.database.replicas`, database.replicas, 1, 10);
    database.storage = validateStorage(`${key}.database.storage`, dbRaw.storage, DEFAULT_DATABASE.storage);
    validateResources(`${key}.database.resources`, database.resources);

    // Kafka: the cluster, the topics and how Pulumi reaches the brokers.
    const kRaw = r.kafka === undefined ? {} : requireObject(`${key}.kafka`, r.kafka);
    rejectUnknownKeys(`${key}.kafka`, kRaw, ["cluster", "topics", "manageTopics", "connection"]);
    const clusterRaw = kRaw.cluster === undefined ? {} : requireObject(`${key}.kafka.cluster`, kRaw.cluster);
    const cluster = validateKafkaClusterSpec(`${key}.kafka.cluster`, { ...DEFAULT_KAFKA_CLUSTER, ...clusterRaw });
    const topicsRaw = kRaw.topics === undefined ? {} : requireObject(`${key}.kafka.topics`, kRaw.topics);
    rejectUnknownKeys(`${key}.kafka.topics`, topicsRaw, ["partitions", "replicationFactor", "minInsyncReplicas"]);
    const topics = { ...DEFAULT_TOPICS, ...topicsRaw };
    requireIntInRange(`${key}.kafka.topics.partitions`, topics.partitions, 1, 1000);
    requireIntInRange(`${key}.kafka.topics.replicationFactor`, topics.replicationFactor, 1, cluster.brokers);
    requireIntInRange(`${key}.kafka.topics.minInsyncReplicas`, topics.minInsyncReplicas, 1, topics.replicationFactor);
    validateTopicSpecs(`${key}.kafka.topics`, outboxTopics(topics.replicationFactor, topics.minInsyncReplicas, topics.partitions),
        cluster.brokers, cluster.minInsyncReplicas);
    const manageTopics = kRaw.manageTopics === undefined ? true : requireBoolean(`${key}.kafka.manageTopics`, kRaw.manageTopics);
    const connRaw = kRaw.connection === undefined ? {} : requireObject(`${key}.kafka.connection`, kRaw.connection);
    rejectUnknownKeys(`${key}.kafka.connection`, connRaw, ["access", "bootstrapServers", "tls", "sasl"]);
    connRaw.access = requireTopicAccess(`${key}.kafka.connection`, connRaw.access, connRaw.bootstrapServers, cluster.external, `${key}.kafka.cluster.external`);
    validateKafkaConnection(`${key}.kafka.connection`, {
        bootstrapServers: connRaw.bootstrapServers, tls: connRaw.tls, sasl: connRaw.sasl,
    } as KafkaConnectionSpec, { ownCluster: true });

    // Observability.
    const oRaw = requireObject(`${key}.observability`, r.observability);
    rejectUnknownKeys(`${key}.observability`, oRaw, ["apiServerCidrs", "prometheus", "grafana", "otelCollector", "kafkaExporter"]);
    if (!Array.isArray(oRaw.apiServerCidrs) || oRaw.apiServerCidrs.length === 0) {
        throw new ValidationError(`${key}.observability.apiServerCidrs`,
            `${JSON.stringify(oRaw.apiServerCidrs)} is not allowed; allowed: a non-empty list of IPv4 CIDRs of the API server, e.g. [10.0.0.1/32]`);
    }
    oRaw.apiServerCidrs.forEach((c, i) => requireCidr(`${key}.observability.apiServerCidrs[${i}]`, c));
    const promRaw = oRaw.prometheus === undefined ? {} : requireObject(`${key}.observability.prometheus`, oRaw.prometheus);
    rejectUnknownKeys(`${key}.observability.prometheus`, promRaw, ["storage", "retention", "scrapeInterval", "resources"]);
    const prometheus = {
        retention: "30d", scrapeInterval: "15s", ...promRaw,
        storage: validateStorage(`${key}.observability.prometheus.storage`, promRaw.storage, { size: "20Gi" }),
    } as OutboxObservabilitySpec["prometheus"];
    requireDuration(`${key}.observability.prometheus.retention`, prometheus.retention, "30d", 3600);
    requireDuration(`${key}.observability.prometheus.scrapeInterval`, prometheus.scrapeInterval, "15s", 1, 300);
    optionalResources(`${key}.observability.prometheus.resources`, prometheus.resources);
    const grafRaw = oRaw.grafana === undefined ? {} : requireObject(`${key}.observability.grafana`, oRaw.grafana);
    rejectUnknownKeys(`${key}.observability.grafana`, grafRaw, ["storage", "fromIngress", "resources"]);
    const grafana = {
        fromIngress: false, ...grafRaw,
        storage: validateStorage(`${key}.observability.grafana.storage`, grafRaw.storage, { size: "5Gi" }),
    } as OutboxObservabilitySpec["grafana"];
    requireBoolean(`${key}.observability.grafana.fromIngress`, grafana.fromIngress);
    optionalResources(`${key}.observability.grafana.resources`, grafana.resources);
    const otelRaw = oRaw.otelCollector === undefined ? {} : requireObject(`${key}.observability.otelCollector`, oRaw.otelCollector);
    rejectUnknownKeys(`${key}.observability.otelCollector`, otelRaw, ["replicas", "resources"]);
    const otelCollector = { replicas: 2, ...otelRaw } as OutboxObservabilitySpec["otelCollector"];
    requireIntInRange(`${key}.observability.otelCollector.replicas`, otelCollector.replicas, 1, 20);
    optionalResources(`${key}.observability.otelCollector.resources`, otelCollector.resources);
    const expRaw = oRaw.kafkaExporter === undefined ? {} : requireObject(`${key}.observability.kafkaExporter`, oRaw.kafkaExporter);
    rejectUnknownKeys(`${key}.observability.kafkaExporter`, expRaw, ["enabled", "image", "resources"]);
    const kafkaExporter = { enabled: true, image: IMAGES.kafkaExporter, resources: EXPORTER_RESOURCES, ...expRaw } as OutboxObservabilitySpec["kafkaExporter"];
    requireBoolean(`${key}.observability.kafkaExporter.enabled`, kafkaExporter.enabled);
    requirePinnedImage(`${key}.observability.kafkaExporter.image`, kafkaExporter.image);
    validateResources(`${key}.observability.kafkaExporter.resources`, kafkaExporter.resources);

    const pRaw = r.outboxProcessor === undefined ? {} : requireObject(`${key}.outboxProcessor`, r.outboxProcessor);
    rejectUnknownKeys(`${key}.outboxProcessor`, pRaw, ["pollIntervalMs", "batchSize"]);
    const outboxProcessor = { pollIntervalMs: 1000, batchSize: 100, ...pRaw };
    requireIntInRange(`${key}.outboxProcessor.pollIntervalMs`, outboxProcessor.pollIntervalMs, 100, 60000);
    requireIntInRange(`${key}.outboxProcessor.batchSize`, outboxProcessor.batchSize, 1, 10000);

    const resolved: OutboxEventsSpec = {
        namespace,
        quota,
        limits,
        ingressNamespace,
        storageClass: r.storageClass as string | undefined,
        protectData,
        restService: rest,
        grpcService: grpc,
        worker,
        database,
        backups: parseBackupPolicy(`${key}.backups`, r.backups),
        kafka: { cluster, topics, manageTopics, connection: connRaw },
        observability: { apiServerCidrs: oRaw.apiServerCidrs as string[], prometheus, grafana, otelCollector, kafkaExporter },
        outboxProcessor,
        ingress: resolveEdgeSpec(`${key}.ingress`, r.ingress, [...OUTBOX_EDGE_ENDPOINTS], OUTBOX_DEFAULT_DOMAIN),
    };
    // The Database's own rules, once, under this key (each service's pool sets its max_connections):
    // the components take the result unchecked.
    for (const svc of [resolved.restService, resolved.grpcService, resolved.worker]) {
        validateDatabaseSpec(`${key}.database`, { ...outboxPostgres(resolved), postgresql: { maxConnections: maxConnections(maxPods(svc), svc.pool.maxConnections) } });
    }
    return resolved;
}

/** The size of the PostgreSQL each service gets (the plan adds its name, clients and schema). */
export function outboxPostgres(spec: OutboxEventsSpec): DatabaseSpec {
    const d = spec.database;
    return {
        type: "postgresql",
        version: d.version,
        replicas: d.replicas,
        storage: { size: d.storage.size, storageClass: d.storage.storageClass ?? spec.storageClass },
        resources: d.resources,
    };
}
