/**
 * The Greenfield cluster's args (greenfield-cluster.md) as a stack config would hold them, their
 * defaults (the design's HA table: prod) and their validation. The stack config module resolves the
 * spec once (resolveGreenfieldSpec) and the GreenfieldCluster takes the result, so every rule and
 * error text lives here once; errors name the key and the allowed values.
 */
import { BackupPolicy, parseBackupPolicy } from "../../backup/policy";
import { ResourceSpec, validateResources } from "../../k8s/container";
import { LimitRangeSpec, QuotaSpec, validateLimitRange, validateQuota } from "../../k8s/namespace";
import {
    rejectUnknownKeys, requireBoolean, requireCidr, requireDnsLabel, requireDuration, requireIntInRange, requireNonEmptyString,
    requireObject, requireOneOf, requirePinnedImage, requirePlainEnv, requirePort, requireQuantity, ValidationError,
} from "../../k8s/validation";
import { validateAutoscaling } from "../../k8s/workload";
import { REDIS_EVICTION_POLICIES } from "../../database/engines";
import { DatabaseSpec, validateDatabaseSpec } from "../../database/spec";
import {
    EXAMPLE_VERSION, KAFKA_MODES, KafkaClusterSpec, KafkaExternalSpec, KafkaMode, MAX_BROKERS, requireTopicAccess, TopicAccess,
    greenfieldTopics, TopicSpec, validateKafkaClusterSpec, validateKafkaConnection, validateKafkaExternal, validateKafkaVersion, validateTopicSpecs,
    ZOOKEEPER_REPLICAS,
} from "../../messaging/spec";
import { CANARY_WEIGHTS, ISTIO_API_VERSIONS, IstioApiVersion, MTLS_MODES, MtlsMode } from "../../mesh/istio";
import { requireHostname } from "../../edge/validation";
import { resolveEdgeSpec, ResolvedEdgeSpec } from "../../edge/spec";
import { requireSealedValue, SEALING_SCOPES, SealingScope } from "../../secrets/sealed-secrets";
import { PART_OF } from "../../k8s/labels";

/** app.kubernetes.io/part-of of every workload of the system (the pack's plan rules match on it). */
export const GREENFIELD_PART_OF = PART_OF.greenfield;

export const RELEASE_STRATEGIES = ["rolling", "blue-green", "canary"] as const;
export type ReleaseStrategy = typeof RELEASE_STRATEGIES[number];
/** FastAPI's rolling update (the design): MaxSurge 1, MaxUnavailable 0. */
export const FASTAPI_ROLLING_UPDATE = { maxSurge: 1, maxUnavailable: 0 };

export const DATA_STORES = ["redis", "postgresql", "mysql", "mongodb"] as const;
export type DataStore = typeof DATA_STORES[number];

// ---------------------------------------------------------------------------------------------
// The spec (what Pulumi.<stack>.yaml holds under k8s-platform:greenfield, less `enabled`)

export interface AutoscalingInput {
    enabled?: boolean;
    minReplicas?: number;
    maxReplicas?: number;
    targetCPUUtilizationPercentage?: number;
    targetMemoryUtilizationPercentage?: number;
}

export interface ReleaseInput {
    /** rolling (default): one Deployment; blue-green / canary: two tracks split by the Istio VirtualService (mesh on). */
    strategy?: ReleaseStrategy;
    /** blue-green: the colour that receives 100% of the traffic. */
    activeColor?: "blue" | "green";
    blueImage?: string;
    greenImage?: string;
    /** canary: image of the canary track (required). */
    canaryImage?: string;
    /** canary: percent of the traffic to the canary, one of the design's steps 0, 5, 25, 50, 100. */
    canaryWeight?: number;
    /** canary: replicas of the canary track (default 1). */
    canaryReplicas?: number;
}

export interface FastApiInput {
    image: string;
    port?: number;
    replicas?: number;
    autoscaling?: AutoscalingInput;
    resources?: ResourceSpec;
    livenessPath?: string;
    readinessPath?: string;
    metricsPath?: string;
    /** Extra plain env (no secrets: those come from Secrets only). */
    env?: Record<string, string>;
    release?: ReleaseInput;
}

export interface DataStoreInput {
    version?: string;
    replicas?: number;
    storage?: string;
    resources?: ResourceSpec;
    databaseName?: string;
}

export interface RedisInput extends Omit<DataStoreInput, "databaseName"> {
    maxMemory?: string;
    maxMemoryPolicy?: string;
}

export interface MongoInput extends DataStoreInput {
    configStorage?: string;
    replicaSetName?: string;
}

export interface KafkaTopicsInput {
    /** false: no kafka provider, no topics (render mode, where no broker answers). Default true. */
    enabled?: boolean;
    /** inCluster (default): the brokers' in-cluster names; external: their advertised external addresses (kafka.external). */
    access?: TopicAccess;
    /** Where Pulumi reaches the brokers; default the cluster's own bootstrap list. */
    bootstrapServers?: string[];
    tls?: { enabled: boolean; skipVerify?: boolean; caCert?: string; clientCert?: string; clientKey?: string };
    sasl?: { mechanism: "plain" | "scram-sha256" | "scram-sha512"; username: string; password: string };
    kafkaVersion?: string;
    timeoutSeconds?: number;
    /** test-topic partitions (design: 3). */
    partitions?: number;
    /** test-topic replication factor; default the cluster's replicationFactor (design: 3). */
    replicationFactor?: number;
}

export interface KafkaInput {
    mode?: KafkaMode;
    brokers?: number;
    storage?: string;
    version?: string;
    resources?: ResourceSpec;
    replicationFactor?: number;
    minInsyncReplicas?: number;
    zookeeper?: { replicas?: number; storage?: string; resources?: ResourceSpec };
    topics?: KafkaTopicsInput;
    external?: Partial<KafkaExternalSpec>;
}

interface Tunable {
    image?: string;
    resources?: ResourceSpec;
}

export interface ObservabilityInput {
    otelCollector?: Tunable & { replicas?: number };
    jaeger?: Tunable & { maxTraces?: number };
    prometheus?: Tunable & { storage?: string; retention?: string; scrapeInterval?: string };
    grafana?: Tunable & { storage?: string; externalAccess?: boolean };
}

export interface MeshInput {
    enabled?: boolean;
    /** Istio (istiod, ingress gateway, CRDs) is installed in the cluster. Required when enabled. */
    istioInstalled?: boolean;
    apiVersion?: IstioApiVersion;
    mtlsMode?: MtlsMode;
    gateway?: {
        namespace?: string;
        hosts: string[];
        credentialName: string;
        selector?: Record<string, string>;
    };
    /** Labels of istiod's pods (sidecars fetch config and certificates from them on 15012). */
    istiodSelector?: Record<string, string>;
    istiodNamespace?: string;
    timeout?: string;
    retries?: { attempts: number; perTryTimeout: string };
    /**
     * The size of the istio-proxy injected into every pod of the system (default Istio's own
     * `values.global.proxy.resources`: requests 100m / 128Mi, limits 2 / 1Gi). Set on each pod
     * template as Istio's sidecar.istio.io/proxy* annotations (components/mesh/sidecar.ts), and
     * counted with every pod against the quota and the LimitRange max.
     */
    sidecarResources?: ResourceSpec;
}

export interface SealedSecretInput {
    encryptedData: Record<string, string>;
    type?: string;
    scope?: SealingScope;
}

export interface SealedSecretsInput {
    enabled?: boolean;
    /** Namespace of the controller (default kube-system, where kubeseal looks). */
    namespace?: string;
    image?: string;
    /** SealedSecrets created in the system's namespace: Secret name -> kubeseal ciphertexts. */
    secrets?: Record<string, SealedSecretInput>;
}

export interface GreenfieldSpec {
    namespace?: string;
    storageClass?: string;
    protectData?: boolean;
    /** Namespace of the ingress controller: the source of external traffic when the mesh is off. */
    ingressNamespace?: string;
    quota?: QuotaSpec;
    limits?: LimitRangeSpec;
    /** The Kubernetes API server (Prometheus discovery, the Sealed Secrets controller). */
    apiServer: { cidrs: string[]; ports?: number[] };
    fastapi: FastApiInput;
    redis?: RedisInput;
    postgresql?: DataStoreInput;
    mysql?: DataStoreInput;
    mongodb?: MongoInput;
    kafka?: KafkaInput;
    observability?: ObservabilityInput;
    mesh?: MeshInput;
    sealedSecrets?: SealedSecretsInput;
    /**
     * Hosts of the user-facing endpoints (FastAPI on api.<domain>, Grafana on monitoring.<domain>/grafana
     * when observability.grafana.externalAccess), TLS from cert-manager, rate limits, Grafana's basic auth.
     * With the mesh on, FastAPI is served by the Istio gateway (mesh.gateway.hosts) instead.
     */
    ingress?: Record<string, unknown>;
    /** Dumps of PostgreSQL, MySQL and MongoDB (greenfield-cluster.md "Backup Strategy"); off when absent. */
    backups?: { enabled?: boolean; schedule?: string; retention?: number; storageSize?: string };
}

// ---------------------------------------------------------------------------------------------
// Defaults: greenfield-cluster.md, the HA table in force (prod)

/** Requests and limits with a memory limit at most 2x the request (the prod pack's ratio). */
export const DEFAULT_RESOURCES = {
    fastapi: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
    redis: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
    sql: { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "1", memory: "2Gi" } },
} satisfies Record<string, ResourceSpec>;

export const DEFAULTS = {
    namespace: "greenfield",
    ingressNamespace: "ingress-nginx",
    fastapi: {
        port: 8000, replicas: 2, livenessPath: "/health", readinessPath: "/ready", metricsPath: "/metrics",
        // HA table: "FastAPI 2-3, load balanced".
        autoscaling: { minReplicas: 2, maxReplicas: 3, targetCPUUtilizationPercentage: 70 },
        // Rolling update: MaxSurge 1, MaxUnavailable 0 (zero-downtime deployments).
        rollingUpdate: FASTAPI_ROLLING_UPDATE,
        canaryReplicas: 1,
    },
    redis: { version: "7.2.5", replicas: 3, storage: "1Gi" },
    postgresql: { version: "16.4", replicas: 3, storage: "5Gi", databaseName: "app" },
    mysql: { version: "8.4.2", replicas: 3, storage: "5Gi", databaseName: "app" },
    mongodb: { version: "7.0.14", replicas: 3, storage: "5Gi", configStorage: "1Gi", databaseName: "app", replicaSetName: "rs0" },
    kafka: {
        mode: "zookeeper" as KafkaMode, brokers: 3, storage: "10Gi", replicationFactor: 3, minInsyncReplicas: 2,
        zookeeper: { replicas: 3, storage: "2Gi" },
        topic: { name: "test-topic", partitions: 3 },
    },
    observability: {
        otelReplicas: 2, prometheusStorage: "10Gi", grafanaStorage: "5Gi",
    },
    mesh: {
        gatewayNamespace: "istio-system", gatewaySelector: { istio: "ingressgateway" },
        istiodNamespace: "istio-system", istiodSelector: { app: "istiod" },
        // Istio's default injected proxy (values.global.proxy.resources).
        sidecarResources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "2", memory: "1Gi" } },
    },
    sealedSecretsNamespace: "kube-system",
    quota: {
        requestsCpu: "14", requestsMemory: "28Gi", limitsCpu: "40", limitsMemory: "56Gi",
        requestsStorage: "150Gi", pods: 50, persistentVolumeClaims: 30,
    },
    limits: {
        defaultRequest: { cpu: "100m", memory: "128Mi" },
        default: { cpu: "500m", memory: "512Mi" },
        max: { cpu: "4", memory: "8Gi" },
    },
};

// ---------------------------------------------------------------------------------------------
// The resolved spec: every default applied

export interface ResolvedDataStore {
    version: string;
    replicas: number;
    storage: string;
    resources: ResourceSpec;
    databaseName: string;
}

export interface ResolvedRelease {
    strategy: ReleaseStrategy;
    activeColor: "blue" | "green";
    blueImage: string;
    greenImage: string;
    canaryImage?: string;
    canaryWeight: number;
    canaryReplicas: number;
}

export interface ResolvedGreenfield {
    namespace: string;
    storageClass?: string;
    protectData: boolean;
    ingressNamespace: string;
    quota: QuotaSpec;
    limits: LimitRangeSpec;
    apiServer: { cidrs: string[]; ports?: number[] };
    fastapi: {
        image: string; port: number; replicas: number; resources: ResourceSpec;
        autoscaling?: { minReplicas: number; maxReplicas: number; targetCPUUtilizationPercentage?: number; targetMemoryUtilizationPercentage?: number };
        livenessPath: string; readinessPath: string; metricsPath: string; env: Record<string, string>;
        release: ResolvedRelease;
    };
    redis: Omit<ResolvedDataStore, "databaseName"> & { maxMemory?: string; maxMemoryPolicy?: string };
    postgresql: ResolvedDataStore;
    mysql: ResolvedDataStore;
    mongodb: ResolvedDataStore & { configStorage: string; replicaSetName: string };
    kafka: {
        mode: KafkaMode; brokers: number; storage: string; version: string; resources?: ResourceSpec;
        replicationFactor: number; minInsyncReplicas: number;
        zookeeper?: { replicas: number; storage: string; resources?: ResourceSpec };
        /** The brokers' EXTERNAL listener (a Service per broker), for clients outside the cluster. */
        external?: KafkaExternalSpec;
        topics: Omit<KafkaTopicsInput, "partitions" | "replicationFactor" | "enabled" | "access"> & {
            enabled: boolean; partitions: number; replicationFactor: number; access: TopicAccess;
        };
    };
    observability: {
        otelCollector: Tunable & { replicas: number };
        jaeger: Tunable & { maxTraces?: number };
        prometheus: Tunable & { storage: string; retention?: string; scrapeInterval?: string };
        grafana: Tunable & { storage: string; externalAccess: boolean };
    };
    mesh?: {
        apiVersion: IstioApiVersion; mtlsMode: MtlsMode;
        gateway: { namespace: string; hosts: string[]; credentialName: string; selector: Record<string, string> };
        istiodNamespace: string; istiodSelector: Record<string, string>;
        timeout?: string; retries?: { attempts: number; perTryTimeout: string };
        sidecarResources: ResourceSpec;
    };
    sealedSecrets?: { namespace: string; image?: string; secrets: Record<string, SealedSecretInput> };
    ingress: ResolvedEdgeSpec;
    /** Backups of the dumpable stores (BACKUP_STORES); undefined: off. */
    backups?: BackupPolicy;
}

/** The user-facing endpoints under `ingress`: FastAPI (the api. host) and Grafana. */
export const GREENFIELD_EDGE_ENDPOINTS = [{ name: "fastapi", role: "api" }, { name: "grafana", role: "grafana" }] as const;
export const GREENFIELD_DEFAULT_DOMAIN = "greenfield.example.com";

/**
 * The stores with dumps (greenfield-cluster.md "Backup Strategy": pg_dump, mysqldump, mongodump).
 * Redis (cache and sessions) is not in the design's list, so it has no backup.
 */
export const BACKUP_STORES = ["postgresql", "mysql", "mongodb"] as const;
export type BackupStore = typeof BACKUP_STORES[number];

// ---------------------------------------------------------------------------------------------
// Validation

const show = (v: unknown): string => (v === undefined ? "undefined" : JSON.stringify(v));
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const HTTP_PATH = /^\/[A-Za-z0-9._~/-]*$/;
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

function optionalObject(key: string, v: unknown): Record<string, unknown> {
    return v === undefined ? {} : requireObject(key, v);
}

function requireVersion(key: string, v: unknown, example: string): string {
    const s = requireNonEmptyString(key, v);
    if (!VERSION.test(s) || s === "latest") {
        throw new ValidationError(key, `${show(v)} is not allowed; allowed: a pinned version tag such as ${example}`);
    }
    return s;
}

function optionalResources(key: string, v: unknown): ResourceSpec | undefined {
    return v === undefined ? undefined : validateResources(key, v);
}

function requirePath(key: string, v: unknown): string {
    if (typeof v !== "string" || !HTTP_PATH.test(v)) {
        throw new ValidationError(key, `${show(v)} is not allowed; allowed: an HTTP path starting with /, e.g. /health`);
    }
    return v;
}

function requireLabels(key: string, v: unknown): Record<string, string> {
    const o = requireObject(key, v);
    if (Object.keys(o).length === 0) {
        throw new ValidationError(key, "{} is not allowed; allowed: at least one label, e.g. { istio: ingressgateway }");
    }
    for (const [k, val] of Object.entries(o)) {
        if (typeof val !== "string" || !LABEL_VALUE.test(val) || val.length > 63) {
            throw new ValidationError(`${key}.${k}`, `${show(val)} is not allowed; allowed: a label value (letters, digits, '-', '_', '.')`);
        }
    }
    return o as Record<string, string>;
}

function replicasOf(key: string, v: unknown, dflt: number, max = 10): number {
    return requireIntInRange(key, v ?? dflt, 1, max);
}

function dataStore(key: string, raw: unknown, d: { version: string; replicas: number; storage: string; databaseName?: string },
    extraKeys: string[] = []): ResolvedDataStore & Record<string, unknown> {
    const o = optionalObject(key, raw);
    rejectUnknownKeys(key, o, ["version", "replicas", "storage", "resources", ...(d.databaseName ? ["databaseName"] : []), ...extraKeys]);
    const databaseName = o.databaseName ?? d.databaseName ?? "app";
    if (typeof databaseName !== "string" || !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(databaseName)) {
        throw new ValidationError(`${key}.databaseName`, `${show(databaseName)} is not allowed; allowed: letters, digits and '_', starting with a letter or '_'`);
    }
    return {
        ...o,
        version: requireVersion(`${key}.version`, o.version ?? d.version, d.version),
        replicas: replicasOf(`${key}.replicas`, o.replicas, d.replicas),
        storage: requireQuantity(`${key}.storage`, o.storage ?? d.storage, "storage"),
        resources: optionalResources(`${key}.resources`, o.resources) ?? (DEFAULT_RESOURCES.sql),
        databaseName,
    };
}

function validateFastApi(key: string, raw: unknown, meshOn: boolean): ResolvedGreenfield["fastapi"] {
    const o = requireObject(key, raw);
    rejectUnknownKeys(key, o, ["image", "port", "replicas", "autoscaling", "resources", "livenessPath", "readinessPath", "metricsPath", "env", "release"]);
    const d = DEFAULTS.fastapi;
    const image = requirePinnedImage(`${key}.image`, o.image);
    const port = requirePort(`${key}.port`, o.port ?? d.port);
    if (port < 1024) {
        throw new ValidationError(`${key}.port`, `${port} is not allowed; allowed: 1024-65535 (the app runs as non-root)`);
    }
    const replicas = replicasOf(`${key}.replicas`, o.replicas, d.replicas, 20);
    const a = optionalObject(`${key}.autoscaling`, o.autoscaling);
    rejectUnknownKeys(`${key}.autoscaling`, a, ["enabled", "minReplicas", "maxReplicas", "targetCPUUtilizationPercentage", "targetMemoryUtilizationPercentage"]);
    const hpaOn = a.enabled === undefined ? true : requireBoolean(`${key}.autoscaling.enabled`, a.enabled);
    let autoscaling: ResolvedGreenfield["fastapi"]["autoscaling"];
    if (hpaOn) {
        const memoryOnly = a.targetMemoryUtilizationPercentage !== undefined && a.targetCPUUtilizationPercentage === undefined;
        autoscaling = {
            minReplicas: (a.minReplicas ?? Math.min(d.autoscaling.minReplicas, replicas)) as number,
            maxReplicas: (a.maxReplicas ?? Math.max(d.autoscaling.maxReplicas, replicas)) as number,
            targetCPUUtilizationPercentage: memoryOnly ? undefined : (a.targetCPUUtilizationPercentage ?? d.autoscaling.targetCPUUtilizationPercentage) as number,
            targetMemoryUtilizationPercentage: a.targetMemoryUtilizationPercentage as number | undefined,
        };
        validateAutoscaling(`${key}.autoscaling`, autoscaling, 20);
    }
    const env = o.env === undefined ? {} : requirePlainEnv(`${key}.env`, o.env);
    const r = optionalObject(`${key}.release`, o.release);
    rejectUnknownKeys(`${key}.release`, r, ["strategy", "activeColor", "blueImage", "greenImage", "canaryImage", "canaryWeight", "canaryReplicas"]);
    const strategy = requireOneOf(`${key}.release.strategy`, r.strategy ?? "rolling", RELEASE_STRATEGIES);
    if (strategy !== "rolling" && !meshOn) {
        throw new ValidationError(`${key}.release.strategy`,
            `${strategy} is not allowed with the mesh off (the Istio VirtualService splits the traffic); allowed: rolling, or mesh.enabled true`);
    }
    if (strategy === "rolling" && meshOn) {
        throw new ValidationError(`${key}.release.strategy`,
            "rolling is not allowed with the mesh on (the VirtualService routes by blue/green or canary weights); allowed: blue-green, canary");
    }
    const colorKeys = ["activeColor", "blueImage", "greenImage"].filter(k => r[k] !== undefined);
    const canaryKeys = ["canaryImage", "canaryWeight", "canaryReplicas"].filter(k => r[k] !== undefined);
    if (strategy !== "blue-green" && colorKeys.length > 0) {
        throw new ValidationError(`${key}.release.${colorKeys[0]}`, `set with strategy ${strategy}; allowed: only with strategy blue-green`);
    }
    if (strategy !== "canary" && canaryKeys.length > 0) {
        throw new ValidationError(`${key}.release.${canaryKeys[0]}`, `set with strategy ${strategy}; allowed: only with strategy canary`);
    }
    const canaryWeight = r.canaryWeight ?? 0;
    if (!(CANARY_WEIGHTS as readonly unknown[]).includes(canaryWeight)) {
        throw new ValidationError(`${key}.release.canaryWeight`,
            `${show(canaryWeight)} is not a canary step; allowed: ${CANARY_WEIGHTS.join(", ")} (the rollout goes 5 -> 25 -> 50 -> 100)`);
    }
    if (strategy === "canary" && r.canaryImage === undefined) {
        throw new ValidationError(`${key}.release.canaryImage`, "missing with strategy canary; allowed: the pinned image of the new version");
    }
    const release: ResolvedRelease = {
        strategy,
        activeColor: requireOneOf(`${key}.release.activeColor`, r.activeColor ?? "blue", ["blue", "green"] as const),
        blueImage: requirePinnedImage(`${key}.release.blueImage`, r.blueImage ?? image),
        greenImage: requirePinnedImage(`${key}.release.greenImage`, r.greenImage ?? image),
        canaryImage: r.canaryImage === undefined ? undefined : requirePinnedImage(`${key}.release.canaryImage`, r.canaryImage),
        canaryWeight: canaryWeight as number,
        canaryReplicas: replicasOf(`${key}.release.canaryReplicas`, r.canaryReplicas, d.canaryReplicas, 20),
    };
    const livenessPath = requirePath(`${key}.livenessPath`, o.livenessPath ?? d.livenessPath);
    const readinessPath = requirePath(`${key}.readinessPath`, o.readinessPath ?? d.readinessPath);
    if (livenessPath === readinessPath) {
        // A liveness check that fails with readiness restarts a pod that is only busy or waiting.
        throw new ValidationError(`${key}.livenessPath`,
            `"${livenessPath}" is also the readinessPath; allowed: a path that only checks the process is alive, other than readinessPath`);
    }
    return {
        image, port, replicas, autoscaling, release,
        resources: optionalResources(`${key}.resources`, o.resources) ?? DEFAULT_RESOURCES.fastapi,
        livenessPath,
        readinessPath,
        metricsPath: requirePath(`${key}.metricsPath`, o.metricsPath ?? d.metricsPath),
        env,
    };
}

function validateKafka(key: string, raw: unknown): ResolvedGreenfield["kafka"] {
    const o = optionalObject(key, raw);
    rejectUnknownKeys(key, o, ["mode", "brokers", "storage", "version", "resources", "replicationFactor", "minInsyncReplicas", "zookeeper", "topics", "external"]);
    const d = DEFAULTS.kafka;
    const mode = requireOneOf(`${key}.mode`, o.mode ?? d.mode, KAFKA_MODES);
    const brokers = requireIntInRange(`${key}.brokers`, o.brokers ?? d.brokers, 1, MAX_BROKERS);
    // Defaults follow the brokers: 3 brokers replicate 3 times (design), one broker once.
    const rf = requireIntInRange(`${key}.replicationFactor`, o.replicationFactor ?? Math.min(d.replicationFactor, brokers), 1, MAX_BROKERS);
    if (rf > brokers) {
        throw new ValidationError(`${key}.replicationFactor`, `${rf} is above brokers ${brokers}; allowed: an integer from 1 to ${brokers}`);
    }
    const minIsr = requireIntInRange(`${key}.minInsyncReplicas`, o.minInsyncReplicas ?? Math.min(d.minInsyncReplicas, rf), 1, MAX_BROKERS);
    if (minIsr > rf) {
        throw new ValidationError(`${key}.minInsyncReplicas`, `${minIsr} is above replicationFactor ${rf}; allowed: an integer from 1 to ${rf}`);
    }
    let zookeeper: ResolvedGreenfield["kafka"]["zookeeper"];
    if (mode === "zookeeper") {
        const z = optionalObject(`${key}.zookeeper`, o.zookeeper);
        rejectUnknownKeys(`${key}.zookeeper`, z, ["replicas", "storage", "resources"]);
        const zr = z.replicas ?? (brokers >= 3 ? d.zookeeper.replicas : 1);
        if (!(ZOOKEEPER_REPLICAS as readonly unknown[]).includes(zr)) {
            throw new ValidationError(`${key}.zookeeper.replicas`, `${show(zr)} is not allowed; allowed: ${ZOOKEEPER_REPLICAS.join(", ")} (an odd ensemble keeps a majority)`);
        }
        zookeeper = {
            replicas: zr as number,
            storage: requireQuantity(`${key}.zookeeper.storage`, z.storage ?? d.zookeeper.storage, "storage"),
            resources: optionalResources(`${key}.zookeeper.resources`, z.resources),
        };
    } else if (o.zookeeper !== undefined) {
        throw new ValidationError(`${key}.zookeeper`, "ZooKeeper settings in kraft mode; allowed: no zookeeper section, or mode zookeeper");
    }
    const t = optionalObject(`${key}.topics`, o.topics);
    rejectUnknownKeys(`${key}.topics`, t, ["enabled", "access", "bootstrapServers", "tls", "sasl", "kafkaVersion", "timeoutSeconds", "partitions", "replicationFactor"]);
    const enabled = t.enabled === undefined ? true : requireBoolean(`${key}.topics.enabled`, t.enabled);
    const external = o.external === undefined ? undefined : validateKafkaExternal(`${key}.external`, o.external, brokers);
    const access = requireTopicAccess(`${key}.topics`, t.access, t.bootstrapServers, external, `${key}.external`);
    validateKafkaConnection(`${key}.topics`, {
        enabled, bootstrapServers: t.bootstrapServers, tls: t.tls as never, sasl: t.sasl as never,
        kafkaVersion: t.kafkaVersion, timeoutSeconds: t.timeoutSeconds,
    }, { ownCluster: true });
    const topicRf = requireIntInRange(`${key}.topics.replicationFactor`, t.replicationFactor ?? rf, 1, brokers);
    if (topicRf < minIsr) {
        throw new ValidationError(`${key}.topics.replicationFactor`,
            `${topicRf} is below minInsyncReplicas ${minIsr}; allowed: an integer from ${minIsr} to ${brokers} (acks=all writes would fail)`);
    }
    return {
        mode, brokers, replicationFactor: rf, minInsyncReplicas: minIsr, zookeeper, external,
        storage: requireQuantity(`${key}.storage`, o.storage ?? d.storage, "storage"),
        version: validateKafkaVersion(`${key}.version`, mode, o.version ?? EXAMPLE_VERSION[mode]),
        resources: optionalResources(`${key}.resources`, o.resources),
        topics: {
            ...(t as Omit<KafkaTopicsInput, "partitions" | "replicationFactor" | "enabled">),
            enabled, access,
            partitions: requireIntInRange(`${key}.topics.partitions`, t.partitions ?? d.topic.partitions, 1, 1000),
            replicationFactor: topicRf,
        },
    };
}

function tunable(key: string, o: Record<string, unknown>): Tunable {
    return {
        image: o.image === undefined ? undefined : requirePinnedImage(`${key}.image`, o.image),
        resources: optionalResources(`${key}.resources`, o.resources),
    };
}

function validateObservability(key: string, raw: unknown): ResolvedGreenfield["observability"] {
    const o = optionalObject(key, raw);
    rejectUnknownKeys(key, o, ["otelCollector", "jaeger", "prometheus", "grafana"]);
    const d = DEFAULTS.observability;
    const otel = optionalObject(`${key}.otelCollector`, o.otelCollector);
    rejectUnknownKeys(`${key}.otelCollector`, otel, ["image", "resources", "replicas"]);
    const jaeger = optionalObject(`${key}.jaeger`, o.jaeger);
    rejectUnknownKeys(`${key}.jaeger`, jaeger, ["image", "resources", "maxTraces"]);
    const prom = optionalObject(`${key}.prometheus`, o.prometheus);
    rejectUnknownKeys(`${key}.prometheus`, prom, ["image", "resources", "storage", "retention", "scrapeInterval"]);
    const grafana = optionalObject(`${key}.grafana`, o.grafana);
    rejectUnknownKeys(`${key}.grafana`, grafana, ["image", "resources", "storage", "externalAccess"]);
    return {
        otelCollector: { ...tunable(`${key}.otelCollector`, otel), replicas: replicasOf(`${key}.otelCollector.replicas`, otel.replicas, d.otelReplicas, 20) },
        jaeger: {
            ...tunable(`${key}.jaeger`, jaeger),
            maxTraces: jaeger.maxTraces === undefined ? undefined : requireIntInRange(`${key}.jaeger.maxTraces`, jaeger.maxTraces, 1000, 10_000_000),
        },
        prometheus: {
            ...tunable(`${key}.prometheus`, prom),
            storage: requireQuantity(`${key}.prometheus.storage`, prom.storage ?? d.prometheusStorage, "storage"),
            retention: prom.retention === undefined ? undefined : requireDuration(`${key}.prometheus.retention`, prom.retention, "15d", 7200),
            scrapeInterval: prom.scrapeInterval === undefined ? undefined : requireDuration(`${key}.prometheus.scrapeInterval`, prom.scrapeInterval, "15s", 1, 3600),
        },
        grafana: {
            ...tunable(`${key}.grafana`, grafana),
            storage: requireQuantity(`${key}.grafana.storage`, grafana.storage ?? d.grafanaStorage, "storage"),
            externalAccess: grafana.externalAccess === undefined ? true : requireBoolean(`${key}.grafana.externalAccess`, grafana.externalAccess),
        },
    };
}

function validateMesh(key: string, raw: unknown): ResolvedGreenfield["mesh"] {
    const o = optionalObject(key, raw);
    rejectUnknownKeys(key, o, ["enabled", "istioInstalled", "apiVersion", "mtlsMode", "gateway", "istiodSelector", "istiodNamespace", "timeout", "retries", "sidecarResources"]);
    const on = o.enabled === undefined ? false : requireBoolean(`${key}.enabled`, o.enabled);
    if (!on) {
        const extra = Object.keys(o).filter(k => k !== "enabled");
        if (extra.length > 0) {
            throw new ValidationError(`${key}.${extra[0]}`, "set with the mesh off; allowed: mesh settings only with enabled true");
        }
        return undefined;
    }
    if (o.istioInstalled !== true) {
        throw new ValidationError(`${key}.istioInstalled`,
            `${show(o.istioInstalled)}: the mesh is enabled but Istio is not declared installed (istiod, the ingress gateway and the ` +
            "security.istio.io / networking.istio.io CRDs); install Istio first, then set istioInstalled: true; allowed: true");
    }
    const g = requireObject(`${key}.gateway`, o.gateway);
    rejectUnknownKeys(`${key}.gateway`, g, ["namespace", "hosts", "credentialName", "selector"]);
    if (!Array.isArray(g.hosts) || g.hosts.length === 0) {
        throw new ValidationError(`${key}.gateway.hosts`, `${show(g.hosts)} is not allowed; allowed: a non-empty list of host names such as api.greenfield.example.com`);
    }
    g.hosts.forEach((h, i) => requireHostname(`${key}.gateway.hosts[${i}]`, h));
    const d = DEFAULTS.mesh;
    const duration = (k: string, v: unknown): string => {
        if (typeof v !== "string" || !/^[0-9]+(ms|s|m|h)$/.test(v)) {
            throw new ValidationError(k, `${show(v)} is not allowed; allowed: a duration such as 500ms or 10s`);
        }
        return v;
    };
    if (o.timeout !== undefined) {
        duration(`${key}.timeout`, o.timeout);
    }
    if (o.retries !== undefined) {
        const r = requireObject(`${key}.retries`, o.retries);
        rejectUnknownKeys(`${key}.retries`, r, ["attempts", "perTryTimeout"]);
        requireIntInRange(`${key}.retries.attempts`, r.attempts, 0, 10);
        duration(`${key}.retries.perTryTimeout`, r.perTryTimeout);
    }
    return {
        apiVersion: o.apiVersion === undefined ? "v1" : requireOneOf(`${key}.apiVersion`, o.apiVersion, ISTIO_API_VERSIONS),
        mtlsMode: o.mtlsMode === undefined ? "STRICT" : requireOneOf(`${key}.mtlsMode`, o.mtlsMode, MTLS_MODES),
        gateway: {
            namespace: requireDnsLabel(`${key}.gateway.namespace`, g.namespace ?? d.gatewayNamespace, 63),
            hosts: g.hosts as string[],
            credentialName: requireDnsLabel(`${key}.gateway.credentialName`, g.credentialName, 253),
            selector: g.selector === undefined ? d.gatewaySelector : requireLabels(`${key}.gateway.selector`, g.selector),
        },
        istiodNamespace: requireDnsLabel(`${key}.istiodNamespace`, o.istiodNamespace ?? d.istiodNamespace, 63),
        istiodSelector: o.istiodSelector === undefined ? d.istiodSelector : requireLabels(`${key}.istiodSelector`, o.istiodSelector),
        timeout: o.timeout as string | undefined,
        retries: o.retries as { attempts: number; perTryTimeout: string } | undefined,
        sidecarResources: o.sidecarResources === undefined ? d.sidecarResources : validateResources(`${key}.sidecarResources`, o.sidecarResources),
    };
}

function validateSealedSecrets(key: string, raw: unknown): ResolvedGreenfield["sealedSecrets"] {
    const o = optionalObject(key, raw);
    rejectUnknownKeys(key, o, ["enabled", "namespace", "image", "secrets"]);
    const on = o.enabled === undefined ? false : requireBoolean(`${key}.enabled`, o.enabled);
    if (!on) {
        const extra = Object.keys(o).filter(k => k !== "enabled");
        if (extra.length > 0) {
            throw new ValidationError(`${key}.${extra[0]}`, "set with Sealed Secrets off; allowed: these settings only with enabled true");
        }
        return undefined;
    }
    const secrets = optionalObject(`${key}.secrets`, o.secrets);
    for (const [name, s] of Object.entries(secrets)) {
        const k = `${key}.secrets.${name}`;
        requireDnsLabel(k, name, 253);
        const so = requireObject(k, s);
        rejectUnknownKeys(k, so, ["encryptedData", "type", "scope"]);
        const data = requireObject(`${k}.encryptedData`, so.encryptedData);
        if (Object.keys(data).length === 0) {
            throw new ValidationError(`${k}.encryptedData`, "no data; allowed: a map of key -> kubeseal ciphertext");
        }
        Object.entries(data).forEach(([dk, v]) => requireSealedValue(`${k}.encryptedData.${dk}`, v));
        if (so.scope !== undefined) {
            requireOneOf(`${k}.scope`, so.scope, SEALING_SCOPES);
        }
    }
    return {
        namespace: requireDnsLabel(`${key}.namespace`, o.namespace ?? DEFAULTS.sealedSecretsNamespace, 63),
        image: o.image === undefined ? undefined : requirePinnedImage(`${key}.image`, o.image),
        secrets: secrets as Record<string, SealedSecretInput>,
    };
}

/**
 * Validates a raw Greenfield spec (stack config or args) and returns it typed, as given: what the
 * stack config module keeps and hands to GreenfieldCluster. `key` prefixes every error.
 */
export function validateGreenfieldSpec(key: string, raw: unknown): GreenfieldSpec {
    resolveGreenfieldSpec(key, raw);
    return raw as GreenfieldSpec;
}

/** Validates a raw Greenfield spec and returns it with every default applied (what the component builds from). */
export function resolveGreenfieldSpec(key: string, raw: unknown): ResolvedGreenfield {
    const o = requireObject(key, raw);
    rejectUnknownKeys(key, o, [
        "namespace", "storageClass", "protectData", "ingressNamespace", "quota", "limits", "apiServer",
        "fastapi", "redis", "postgresql", "mysql", "mongodb", "kafka", "observability", "mesh", "sealedSecrets", "ingress", "backups",
    ]);
    const quota = validateQuota(`${key}.quota`, { ...DEFAULTS.quota, ...optionalObject(`${key}.quota`, o.quota) });
    const limits = validateLimitRange(`${key}.limits`, o.limits ?? DEFAULTS.limits);

    const api = requireObject(`${key}.apiServer`, o.apiServer);
    rejectUnknownKeys(`${key}.apiServer`, api, ["cidrs", "ports"]);
    if (!Array.isArray(api.cidrs) || api.cidrs.length === 0) {
        throw new ValidationError(`${key}.apiServer.cidrs`, `${show(api.cidrs)} is not allowed; allowed: the API server's address ranges, e.g. ["10.0.0.1/32"]`);
    }
    api.cidrs.forEach((c, i) => requireCidr(`${key}.apiServer.cidrs[${i}]`, c));
    if (api.ports !== undefined) {
        if (!Array.isArray(api.ports) || api.ports.length === 0) {
            throw new ValidationError(`${key}.apiServer.ports`, `${show(api.ports)} is not allowed; allowed: a non-empty list of ports (default 443 and 6443)`);
        }
        api.ports.forEach((p, i) => requirePort(`${key}.apiServer.ports[${i}]`, p));
    }

    const mesh = validateMesh(`${key}.mesh`, o.mesh);
    const redisRaw = optionalObject(`${key}.redis`, o.redis);
    const redis = dataStore(`${key}.redis`, redisRaw, DEFAULTS.redis, ["maxMemory", "maxMemoryPolicy"]);
    if (redisRaw.maxMemory !== undefined && (typeof redisRaw.maxMemory !== "string" || !/^[0-9]+(b|kb|mb|gb)?$/i.test(redisRaw.maxMemory))) {
        throw new ValidationError(`${key}.redis.maxMemory`, `${show(redisRaw.maxMemory)} is not allowed; allowed: a Redis size such as 512mb`);
    }
    if (redisRaw.maxMemoryPolicy !== undefined) {
        requireOneOf(`${key}.redis.maxMemoryPolicy`, redisRaw.maxMemoryPolicy, REDIS_EVICTION_POLICIES);
    }
    const mongoRaw = optionalObject(`${key}.mongodb`, o.mongodb);
    const mongodb = dataStore(`${key}.mongodb`, mongoRaw, DEFAULTS.mongodb, ["configStorage", "replicaSetName"]);

    const resolved: ResolvedGreenfield = {
        namespace: requireDnsLabel(`${key}.namespace`, o.namespace ?? DEFAULTS.namespace, 63),
        storageClass: o.storageClass === undefined ? undefined : requireNonEmptyString(`${key}.storageClass`, o.storageClass),
        protectData: o.protectData === undefined ? false : requireBoolean(`${key}.protectData`, o.protectData),
        ingressNamespace: requireDnsLabel(`${key}.ingressNamespace`, o.ingressNamespace ?? DEFAULTS.ingressNamespace, 63),
        quota, limits,
        apiServer: { cidrs: api.cidrs as string[], ports: api.ports as number[] | undefined },
        fastapi: validateFastApi(`${key}.fastapi`, o.fastapi, mesh !== undefined),
        redis: {
            version: redis.version, replicas: redis.replicas, storage: redis.storage,
            resources: (redisRaw.resources === undefined ? DEFAULT_RESOURCES.redis : redis.resources),
            maxMemory: redisRaw.maxMemory, maxMemoryPolicy: redisRaw.maxMemoryPolicy as string | undefined,
        },
        postgresql: dataStore(`${key}.postgresql`, o.postgresql, DEFAULTS.postgresql),
        mysql: dataStore(`${key}.mysql`, o.mysql, DEFAULTS.mysql),
        mongodb: {
            version: mongodb.version, replicas: mongodb.replicas, storage: mongodb.storage, resources: mongodb.resources,
            databaseName: mongodb.databaseName,
            configStorage: requireQuantity(`${key}.mongodb.configStorage`, mongoRaw.configStorage ?? DEFAULTS.mongodb.configStorage, "storage"),
            replicaSetName: requireDnsLabel(`${key}.mongodb.replicaSetName`, mongoRaw.replicaSetName ?? DEFAULTS.mongodb.replicaSetName, 63),
        },
        kafka: validateKafka(`${key}.kafka`, o.kafka),
        observability: validateObservability(`${key}.observability`, o.observability),
        mesh,
        sealedSecrets: validateSealedSecrets(`${key}.sealedSecrets`, o.sealedSecrets),
        ingress: resolveEdgeSpec(`${key}.ingress`, o.ingress, [...GREENFIELD_EDGE_ENDPOINTS], GREENFIELD_DEFAULT_DOMAIN),
        backups: parseBackupPolicy(`${key}.backups`, o.backups),
    };
    // The children's own rules, once, under this key: the components take the result unchecked.
    const databases = greenfieldDatabases(resolved);
    DATA_STORES.forEach(d => validateDatabaseSpec(`${key}.${d}`, databases[d]));
    validateKafkaClusterSpec(`${key}.kafka`, greenfieldKafkaCluster(resolved));
    validateTopicSpecs(`${key}.kafka.topics`, greenfieldTopicSpecs(resolved), resolved.kafka.brokers, resolved.kafka.minInsyncReplicas);
    return resolved;
}

/** The four data stores as Database specs (the design's HA table), from the resolved spec alone. */
export function greenfieldDatabases(s: ResolvedGreenfield): Record<DataStore, DatabaseSpec> {
    return {
        redis: {
            type: "redis", version: s.redis.version, replicas: s.redis.replicas, resources: s.redis.resources,
            storage: { size: s.redis.storage, storageClass: s.storageClass },
            // The design's HA table: "Redis | 1 Master + 2 Replicas | Failover". With 3 members or
            // more, sentinels fail over; 2 members replicate without failover (no sentinel quorum).
            redis: {
                mode: s.redis.replicas >= 3 ? "sentinel" : s.redis.replicas > 1 ? "replication" : "standalone", appendOnly: true,
                maxMemory: s.redis.maxMemory, maxMemoryPolicy: s.redis.maxMemoryPolicy,
            },
        },
        postgresql: {
            type: "postgresql", version: s.postgresql.version, replicas: s.postgresql.replicas, resources: s.postgresql.resources,
            storage: { size: s.postgresql.storage, storageClass: s.storageClass }, databaseName: s.postgresql.databaseName,
            // The design's HA table: "PostgreSQL | 3 | Synchronous replication".
            ...(s.postgresql.replicas > 1 ? { postgresql: { synchronous: true } } : {}),
        },
        mysql: {
            type: "mysql", version: s.mysql.version, replicas: s.mysql.replicas, resources: s.mysql.resources,
            storage: { size: s.mysql.storage, storageClass: s.storageClass }, databaseName: s.mysql.databaseName,
            // The design's HA table: "MySQL | 3 | Synchronous replication" (semi-synchronous).
            ...(s.mysql.replicas > 1 ? { mysql: { semiSync: true } } : {}),
        },
        mongodb: {
            type: "mongodb", version: s.mongodb.version, replicas: s.mongodb.replicas, resources: s.mongodb.resources,
            storage: { size: s.mongodb.storage, configSize: s.mongodb.configStorage, storageClass: s.storageClass },
            databaseName: s.mongodb.databaseName, mongodb: { replicaSetName: s.mongodb.replicaSetName },
        },
    };
}

/** The brokers (and ZooKeeper) as a KafkaCluster spec, from the resolved spec alone. */
export function greenfieldKafkaCluster(s: ResolvedGreenfield): KafkaClusterSpec {
    const k = s.kafka;
    return {
        mode: k.mode, brokers: k.brokers, brokerStorage: k.storage, version: k.version, resources: k.resources,
        zookeeper: k.zookeeper, storageClass: s.storageClass, defaultReplicationFactor: k.replicationFactor, external: k.external,
        minInsyncReplicas: k.minInsyncReplicas, autoCreateTopics: false,
    };
}

/** The design's test-topic, with the configured partitions and replication. */
export function greenfieldTopicSpecs(s: ResolvedGreenfield): TopicSpec[] {
    return greenfieldTopics(s.kafka.topics.replicationFactor, s.kafka.minInsyncReplicas).map(t => ({ ...t, partitions: s.kafka.topics.partitions }));
}
