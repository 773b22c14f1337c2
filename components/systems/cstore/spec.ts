/**
 * The CStore spec (cstore.md) with the design's numbers as defaults (prod sizes), and its
 * validation, shared by the stack config module and the CStore constructor. Everything a dev stack
 * shrinks (replicas, HPA bounds, volumes, resources, retention) is overridable.
 */
import { BackupPolicy, backupLoad, parseBackupPolicy } from "../../backup/policy";
import { Budget, budgetOf, requireLimitRangeFits, requireQuotaFits, withSurge } from "../../k8s/capacity";
import { ResourceSpec, validateResources } from "../../k8s/container";
import { LimitRangeSpec, QuotaSpec, validateLimitRange, validateQuota } from "../../k8s/namespace";
import {
    rejectUnknownKeys, requireBoolean, requireCidr, requireDnsLabel, requireDuration, requireIntInRange, requireNonEmptyString,
    requireObject, requireOneOf, requirePinnedImage, requirePlainEnv, requirePort, requireQuantity, ValidationError,
} from "../../k8s/validation";
import { DatabaseSpec, validateDatabaseSpec } from "../../database/spec";
import { ENGINES, REDIS_EVICTION_POLICIES } from "../../database/engines";
import { RateLimit, requireHostname, requireOrigins, requirePathPrefix, validateRateLimit } from "../../edge/validation";
import { CDN_IMAGE } from "../../edge/cdn";
import { GRAFANA_IMAGE } from "../../observability/grafana";
import { KUBE_STATE_METRICS_RESOURCES } from "../../observability/kubeStateMetrics";
import { PROMETHEUS_IMAGE } from "../../observability/prometheus";
import { REDIS_EXPORTER_IMAGE } from "../../observability/redisExporter";

// ---------------------------------------------------------------------------------------------
// The spec as a stack config holds it (every field optional except the API image and the CIDRs).

export interface StorageSpec {
    size?: string;
}

export interface CStoreApiSpec {
    /** The CStore API image (pinned tag). */
    image: string;
    /** HPA bounds: 3-10 by the design. */
    minReplicas?: number;
    maxReplicas?: number;
    /** HPA targets: 70% CPU, 80% memory. */
    targetCPUUtilizationPercentage?: number;
    targetMemoryUtilizationPercentage?: number;
    /** 200m-500m CPU, 256-512Mi memory. */
    resources?: ResourceSpec;
    /** HTTP and metrics port (3000). */
    port?: number;
    /** Liveness and readiness path (/api/health). */
    healthPath?: string;
    /** Path Prometheus scrapes on the port (/metrics). */
    metricsPath?: string;
    /** Where the API may reach HTTPS (443) outside the cluster: explicit CIDRs (0.0.0.0/0 is never allowed). */
    httpsEgressCidrs: string[];
    /** Extra plain env vars (no secrets: those come from the databases' Secrets). */
    env?: Record<string, string>;
    /** Rate limit of api.<domain> per client IP. */
    rateLimit?: RateLimit;
}

export interface CStoreMongoSpec {
    version?: string;
    /** 10Gi data + 1Gi config. */
    storage?: { size?: string; configSize?: string };
    /** 500m-1000m CPU, 512Mi-2Gi by the design; the prod pack caps limit/request at 2, so 1Gi-2Gi. */
    resources?: ResourceSpec;
    databaseName?: string;
}

export interface CStoreRedisSpec {
    version?: string;
    /** 5Gi. */
    storage?: StorageSpec;
    /** 100m-500m CPU, 256-512Mi. */
    resources?: ResourceSpec;
    /** AOF persistence (true). */
    appendOnly?: boolean;
    /** 512mb. */
    maxMemory?: string;
    /** allkeys-lru. */
    maxMemoryPolicy?: string;
}

export interface CStoreRedisExporterSpec {
    image?: string;
    /** 50m-100m CPU, 64-128Mi. */
    resources?: ResourceSpec;
}

export interface CStorePrometheusSpec {
    image?: string;
    /** 250m-1000m CPU, 512Mi-2Gi by the design; the prod pack caps limit/request at 2, so 1Gi-2Gi. */
    resources?: ResourceSpec;
    /** 20Gi. */
    storage?: StorageSpec;
    /** 30d. */
    retention?: string;
    /** 15s. */
    scrapeInterval?: string;
}

export interface CStoreGrafanaSpec {
    image?: string;
    /** 100m-500m CPU, 256-512Mi. */
    resources?: ResourceSpec;
    /** 5Gi. */
    storage?: StorageSpec;
    /** Path on monitoring.<domain> (/grafana). */
    path?: string;
    /** User of the ingress' basic auth (the password is generated). */
    basicAuthUser?: string;
    rateLimit?: RateLimit;
}

export interface CStoreCdnSpec {
    image?: string;
    /** 2. */
    replicas?: number;
    /** 100m-300m CPU, 128-256Mi. */
    resources?: ResourceSpec;
    /** Static assets claim, ReadWriteMany 10Gi. */
    storage?: StorageSpec;
    /** CORS origins of cdn.<domain> ("*" or https://host). */
    corsAllowOrigins?: string[];
    rateLimit?: RateLimit;
}

export interface CStoreSpec {
    /** Namespace of every CStore workload (default "cstore"). */
    namespace?: string;
    /** Base domain: api., cdn. and monitoring. of it (default cstore.example.com). */
    domain?: string;
    /** Namespace of the ingress controller: the only source of external traffic (default ingress-nginx). */
    ingressNamespace?: string;
    /** cert-manager ClusterIssuer of the three hosts (default letsencrypt-prod). */
    clusterIssuer?: string;
    ingressClassName?: string;
    /** Do not wait for a load balancer address on the Ingresses (kind, bare metal). */
    skipAwait?: boolean;
    /** Storage class of every claim (cluster default when absent). */
    storageClass?: string;
    quota?: QuotaSpec;
    limits?: LimitRangeSpec;
    /** The Kubernetes API server, for Prometheus' pod discovery. */
    apiServer: { cidrs: string[]; ports?: number[] };
    api: CStoreApiSpec;
    mongodb?: CStoreMongoSpec;
    redis?: CStoreRedisSpec;
    redisExporter?: CStoreRedisExporterSpec;
    prometheus?: CStorePrometheusSpec;
    grafana?: CStoreGrafanaSpec;
    cdn?: CStoreCdnSpec;
    /** Daily dumps of MongoDB (cstore.md "Backup Points": daily backups recommended) and RDB snapshots of Redis; off when absent. */
    backups?: { enabled?: boolean; schedule?: string; retention?: number; storageSize?: string };
}

// ---------------------------------------------------------------------------------------------
// The resolved spec: every default applied.

type Req<T> = { [K in keyof T]-?: Exclude<T[K], undefined> };

export interface ResolvedCStoreSpec {
    namespace: string;
    domain: string;
    ingressNamespace: string;
    clusterIssuer: string;
    ingressClassName?: string;
    skipAwait: boolean;
    storageClass?: string;
    quota: QuotaSpec;
    limits: LimitRangeSpec;
    apiServer: { cidrs: string[]; ports: number[] };
    api: Req<Omit<CStoreApiSpec, "rateLimit">> & { rateLimit?: RateLimit };
    mongodb: { version: string; storage: { size: string; configSize: string }; resources: ResourceSpec; databaseName: string };
    redis: { version: string; storage: { size: string }; resources: ResourceSpec; appendOnly: boolean; maxMemory: string; maxMemoryPolicy: string };
    redisExporter: Req<CStoreRedisExporterSpec>;
    prometheus: { image: string; resources: ResourceSpec; storage: { size: string }; retention: string; scrapeInterval: string };
    grafana: { image: string; resources: ResourceSpec; storage: { size: string }; path: string; basicAuthUser: string; rateLimit?: RateLimit };
    cdn: { image: string; replicas: number; resources: ResourceSpec; storage: { size: string }; corsAllowOrigins: string[]; rateLimit?: RateLimit };
    /** MongoDB dumps and Redis RDB snapshots; undefined: off. */
    backups?: BackupPolicy;
}

const res = (cpuReq: string, memReq: string, cpuLim: string, memLim: string): ResourceSpec =>
    ({ requests: { cpu: cpuReq, memory: memReq }, limits: { cpu: cpuLim, memory: memLim } });

/** The design's numbers (cstore.md), i.e. the prod sizes. */
export const CSTORE_DEFAULTS = {
    namespace: "cstore",
    domain: "cstore.example.com",
    ingressNamespace: "ingress-nginx",
    clusterIssuer: "letsencrypt-prod",
    apiServerPorts: [443, 6443],
    api: {
        minReplicas: 3,
        maxReplicas: 10,
        targetCPUUtilizationPercentage: 70,
        targetMemoryUtilizationPercentage: 80,
        resources: res("200m", "256Mi", "500m", "512Mi"),
        port: 3000,
        healthPath: "/api/health",
        metricsPath: "/metrics",
    },
    mongodb: {
        version: ENGINES.mongodb.defaultVersion,
        storage: { size: "10Gi", configSize: "1Gi" },
        // Design: 512Mi-2Gi. The prod pack allows a limit of at most 2x the request: 1Gi-2Gi.
        resources: res("500m", "1Gi", "1", "2Gi"),
        databaseName: "cstore",
    },
    redis: {
        version: ENGINES.redis.defaultVersion,
        storage: { size: "5Gi" },
        resources: res("100m", "256Mi", "500m", "512Mi"),
        appendOnly: true,
        maxMemory: "512mb",
        maxMemoryPolicy: "allkeys-lru",
    },
    redisExporter: { image: REDIS_EXPORTER_IMAGE, resources: res("50m", "64Mi", "100m", "128Mi") },
    prometheus: {
        image: PROMETHEUS_IMAGE,
        // Design: 512Mi-2Gi. The prod pack allows a limit of at most 2x the request: 1Gi-2Gi.
        resources: res("250m", "1Gi", "1", "2Gi"),
        storage: { size: "20Gi" },
        retention: "30d",
        scrapeInterval: "15s",
    },
    grafana: { image: GRAFANA_IMAGE, resources: res("100m", "256Mi", "500m", "512Mi"), storage: { size: "5Gi" }, path: "/grafana", basicAuthUser: "admin" },
    cdn: { image: CDN_IMAGE, replicas: 2, resources: res("100m", "128Mi", "300m", "256Mi"), storage: { size: "10Gi" }, corsAllowOrigins: ["*"] },
    /** Fits the prod sizes at the HPA maximum plus the rolling-update surge (see cstoreBudget). */
    quota: {
        requestsCpu: "6", requestsMemory: "10Gi", limitsCpu: "12", limitsMemory: "16Gi",
        requestsStorage: "60Gi", pods: 30, persistentVolumeClaims: 10,
    },
    limits: {
        defaultRequest: { cpu: "100m", memory: "128Mi" },
        default: { cpu: "500m", memory: "512Mi" },
        max: { cpu: "2", memory: "4Gi" },
    },
} as const;

// ---------------------------------------------------------------------------------------------
// Validation

const SPEC_KEYS = [
    "namespace", "domain", "ingressNamespace", "clusterIssuer", "ingressClassName", "skipAwait", "storageClass", "quota", "limits",
    "apiServer", "api", "mongodb", "redis", "redisExporter", "prometheus", "grafana", "cdn", "backups",
];
const API_KEYS = [
    "image", "minReplicas", "maxReplicas", "targetCPUUtilizationPercentage", "targetMemoryUtilizationPercentage", "resources", "port",
    "healthPath", "metricsPath", "httpsEgressCidrs", "env", "rateLimit",
];
/** The largest HPA the prod pack allows (hpa-bounds maxReplicasCap). */
export const MAX_API_REPLICAS = 20;
/** Env the API gets from the system itself: config may not override it. */
export const API_RESERVED_ENV = [
    "PORT", "MONGODB_HOST", "MONGODB_PORT", "MONGODB_DATABASE", "MONGODB_AUTH_SOURCE", "MONGODB_USERNAME", "MONGODB_PASSWORD",
    "REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD",
];

function optionalObject(key: string, raw: unknown, known: string[]): Record<string, unknown> {
    if (raw === undefined) {
        return {};
    }
    const o = requireObject(key, raw);
    rejectUnknownKeys(key, o, known);
    return o;
}

function storageOf(key: string, raw: unknown, known = ["size"]): Record<string, unknown> {
    const s = optionalObject(key, raw, known);
    for (const k of known) {
        if (s[k] !== undefined) {
            requireQuantity(`${key}.${k}`, s[k], "storage");
        }
    }
    return s;
}

function resourcesOf(key: string, raw: unknown, fallback: ResourceSpec): ResourceSpec {
    return raw === undefined ? fallback : validateResources(key, raw);
}

function imageOf(key: string, raw: unknown, fallback: string): string {
    return raw === undefined ? fallback : requirePinnedImage(key, raw);
}

function rateLimitOf(key: string, raw: unknown): RateLimit | undefined {
    return raw === undefined ? undefined : validateRateLimit(key, raw);
}

function cidrList(key: string, raw: unknown, what: string): string[] {
    if (!Array.isArray(raw) || raw.length === 0) {
        throw new ValidationError(key, `${JSON.stringify(raw)} is not allowed; allowed: a non-empty list of IPv4 CIDRs (${what}), e.g. ["203.0.113.0/24"]`);
    }
    return raw.map((c, i) => requireCidr(`${key}[${i}]`, c));
}

function envOf(key: string, raw: unknown): Record<string, string> {
    return raw === undefined ? {} : requirePlainEnv(key, raw, API_RESERVED_ENV);
}

function mongoDatabaseSpec(r: ResolvedCStoreSpec["mongodb"], storageClass: string | undefined): DatabaseSpec {
    return {
        type: "mongodb", version: r.version, replicas: 1,
        storage: { size: r.storage.size, configSize: r.storage.configSize, storageClass },
        resources: r.resources, databaseName: r.databaseName,
    };
}

function redisDatabaseSpec(r: ResolvedCStoreSpec["redis"], storageClass: string | undefined): DatabaseSpec {
    return {
        type: "redis", version: r.version, replicas: 1,
        storage: { size: r.storage.size, storageClass }, resources: r.resources,
        redis: { mode: "standalone", appendOnly: r.appendOnly, maxMemory: r.maxMemory, maxMemoryPolicy: r.maxMemoryPolicy },
    };
}

/** The Database specs of the two data stores (MongoDB StatefulSet, Redis single-replica StatefulSet). */
export function dataStoreSpecs(spec: ResolvedCStoreSpec): { mongodb: DatabaseSpec; redis: DatabaseSpec } {
    return { mongodb: mongoDatabaseSpec(spec.mongodb, spec.storageClass), redis: redisDatabaseSpec(spec.redis, spec.storageClass) };
}

/**
 * Validates a raw spec (from stack config or args), applies the design's defaults and returns it.
 * `key` prefixes every error, e.g. `k8s-platform:cstore.api.maxReplicas: 30 is not allowed; ...`.
 */
export function validateCStoreSpec(key: string, raw: unknown): ResolvedCStoreSpec {
    const s = requireObject(key, raw);
    rejectUnknownKeys(key, s, SPEC_KEYS);
    const D = CSTORE_DEFAULTS;

    const namespace = s.namespace === undefined ? D.namespace : requireDnsLabel(`${key}.namespace`, s.namespace, 63);
    const domain = s.domain === undefined ? D.domain : requireHostname(`${key}.domain`, s.domain);
    const ingressNamespace = s.ingressNamespace === undefined ? D.ingressNamespace : requireDnsLabel(`${key}.ingressNamespace`, s.ingressNamespace, 63);
    const clusterIssuer = s.clusterIssuer === undefined ? D.clusterIssuer : requireNonEmptyString(`${key}.clusterIssuer`, s.clusterIssuer);
    const ingressClassName = s.ingressClassName === undefined ? undefined : requireDnsLabel(`${key}.ingressClassName`, s.ingressClassName, 63);
    const skipAwait = s.skipAwait === undefined ? false : requireBoolean(`${key}.skipAwait`, s.skipAwait);
    const storageClass = s.storageClass === undefined ? undefined : requireDnsLabel(`${key}.storageClass`, s.storageClass, 253);
    const quota = s.quota === undefined ? { ...D.quota } : validateQuota(`${key}.quota`, s.quota);
    const limits = s.limits === undefined ? D.limits : validateLimitRange(`${key}.limits`, s.limits);

    const apiServerRaw = requireObject(`${key}.apiServer`, s.apiServer);
    rejectUnknownKeys(`${key}.apiServer`, apiServerRaw, ["cidrs", "ports"]);
    const apiServer = {
        cidrs: cidrList(`${key}.apiServer.cidrs`, apiServerRaw.cidrs, "the Kubernetes API server, for Prometheus' pod discovery"),
        ports: apiServerRaw.ports === undefined ? [...D.apiServerPorts]
            : (Array.isArray(apiServerRaw.ports) && apiServerRaw.ports.length > 0 ? apiServerRaw.ports : (() => {
                throw new ValidationError(`${key}.apiServer.ports`, `${JSON.stringify(apiServerRaw.ports)} is not allowed; allowed: a non-empty list of ports, e.g. [443, 6443]`);
            })()).map((p: unknown, i: number) => requirePort(`${key}.apiServer.ports[${i}]`, p)),
    };

    // API
    const a = requireObject(`${key}.api`, s.api);
    rejectUnknownKeys(`${key}.api`, a, API_KEYS);
    const ak = `${key}.api`;
    const minReplicas = a.minReplicas === undefined ? D.api.minReplicas : requireIntInRange(`${ak}.minReplicas`, a.minReplicas, 1, MAX_API_REPLICAS);
    const maxReplicas = a.maxReplicas === undefined ? Math.max(D.api.maxReplicas, minReplicas)
        : requireIntInRange(`${ak}.maxReplicas`, a.maxReplicas, 1, MAX_API_REPLICAS);
    if (minReplicas > maxReplicas) {
        throw new ValidationError(`${ak}.minReplicas`, `${minReplicas} is above maxReplicas ${maxReplicas}; allowed: minReplicas <= maxReplicas`);
    }
    const api: ResolvedCStoreSpec["api"] = {
        image: requirePinnedImage(`${ak}.image`, a.image),
        minReplicas,
        maxReplicas,
        targetCPUUtilizationPercentage: a.targetCPUUtilizationPercentage === undefined ? D.api.targetCPUUtilizationPercentage
            : requireIntInRange(`${ak}.targetCPUUtilizationPercentage`, a.targetCPUUtilizationPercentage, 1, 100),
        targetMemoryUtilizationPercentage: a.targetMemoryUtilizationPercentage === undefined ? D.api.targetMemoryUtilizationPercentage
            : requireIntInRange(`${ak}.targetMemoryUtilizationPercentage`, a.targetMemoryUtilizationPercentage, 1, 100),
        resources: resourcesOf(`${ak}.resources`, a.resources, D.api.resources),
        port: a.port === undefined ? D.api.port : requirePort(`${ak}.port`, a.port),
        healthPath: a.healthPath === undefined ? D.api.healthPath : requirePathPrefix(`${ak}.healthPath`, a.healthPath),
        metricsPath: a.metricsPath === undefined ? D.api.metricsPath : requirePathPrefix(`${ak}.metricsPath`, a.metricsPath),
        httpsEgressCidrs: cidrList(`${ak}.httpsEgressCidrs`, a.httpsEgressCidrs, "the external HTTPS services the API calls"),
        env: envOf(`${ak}.env`, a.env),
        rateLimit: rateLimitOf(`${ak}.rateLimit`, a.rateLimit),
    };

    // Data layer: the Database component's own rules, under this key.
    const m = optionalObject(`${key}.mongodb`, s.mongodb, ["version", "storage", "resources", "databaseName"]);
    const ms = storageOf(`${key}.mongodb.storage`, m.storage, ["size", "configSize"]);
    const mongodb: ResolvedCStoreSpec["mongodb"] = {
        version: (m.version as string | undefined) ?? D.mongodb.version,
        storage: { size: (ms.size as string | undefined) ?? D.mongodb.storage.size, configSize: (ms.configSize as string | undefined) ?? D.mongodb.storage.configSize },
        resources: resourcesOf(`${key}.mongodb.resources`, m.resources, D.mongodb.resources),
        databaseName: (m.databaseName as string | undefined) ?? D.mongodb.databaseName,
    };
    validateDatabaseSpec(`${key}.mongodb`, mongoDatabaseSpec(mongodb, storageClass));

    const r = optionalObject(`${key}.redis`, s.redis, ["version", "storage", "resources", "appendOnly", "maxMemory", "maxMemoryPolicy"]);
    const rs = storageOf(`${key}.redis.storage`, r.storage);
    const redis: ResolvedCStoreSpec["redis"] = {
        version: (r.version as string | undefined) ?? D.redis.version,
        storage: { size: (rs.size as string | undefined) ?? D.redis.storage.size },
        resources: resourcesOf(`${key}.redis.resources`, r.resources, D.redis.resources),
        appendOnly: r.appendOnly === undefined ? D.redis.appendOnly : requireBoolean(`${key}.redis.appendOnly`, r.appendOnly),
        maxMemory: D.redis.maxMemory,
        maxMemoryPolicy: r.maxMemoryPolicy === undefined ? D.redis.maxMemoryPolicy
            : requireOneOf(`${key}.redis.maxMemoryPolicy`, r.maxMemoryPolicy, REDIS_EVICTION_POLICIES),
    };
    if (r.maxMemory !== undefined) {
        if (typeof r.maxMemory !== "string" || !/^[0-9]+(b|kb|mb|gb)?$/i.test(r.maxMemory)) {
            throw new ValidationError(`${key}.redis.maxMemory`, `${JSON.stringify(r.maxMemory)} is not allowed; allowed: a Redis size such as 512mb`);
        }
        redis.maxMemory = r.maxMemory;
    }
    validateDatabaseSpec(`${key}.redis`, redisDatabaseSpec(redis, storageClass));

    // Monitoring and visualisation.
    const e = optionalObject(`${key}.redisExporter`, s.redisExporter, ["image", "resources"]);
    const redisExporter = {
        image: imageOf(`${key}.redisExporter.image`, e.image, D.redisExporter.image),
        resources: resourcesOf(`${key}.redisExporter.resources`, e.resources, D.redisExporter.resources),
    };
    const p = optionalObject(`${key}.prometheus`, s.prometheus, ["image", "resources", "storage", "retention", "scrapeInterval"]);
    const ps = storageOf(`${key}.prometheus.storage`, p.storage);
    const prometheus: ResolvedCStoreSpec["prometheus"] = {
        image: imageOf(`${key}.prometheus.image`, p.image, D.prometheus.image),
        resources: resourcesOf(`${key}.prometheus.resources`, p.resources, D.prometheus.resources),
        storage: { size: (ps.size as string | undefined) ?? D.prometheus.storage.size },
        retention: p.retention === undefined ? D.prometheus.retention : requireDuration(`${key}.prometheus.retention`, p.retention, "30d", 7200),
        scrapeInterval: p.scrapeInterval === undefined ? D.prometheus.scrapeInterval
            : requireDuration(`${key}.prometheus.scrapeInterval`, p.scrapeInterval, "15s", 1, 3600),
    };
    const g = optionalObject(`${key}.grafana`, s.grafana, ["image", "resources", "storage", "path", "basicAuthUser", "rateLimit"]);
    const gs = storageOf(`${key}.grafana.storage`, g.storage);
    if (g.path === "/") {
        throw new ValidationError(`${key}.grafana.path`, `"/" is not allowed; allowed: a sub-path of monitoring.<domain> such as /grafana`);
    }
    if (g.basicAuthUser !== undefined && (typeof g.basicAuthUser !== "string" || !/^[A-Za-z0-9._-]{1,64}$/.test(g.basicAuthUser))) {
        throw new ValidationError(`${key}.grafana.basicAuthUser`, `${JSON.stringify(g.basicAuthUser)} is not allowed; allowed: 1-64 letters, digits, '.', '_' or '-'`);
    }
    const grafana: ResolvedCStoreSpec["grafana"] = {
        image: imageOf(`${key}.grafana.image`, g.image, D.grafana.image),
        resources: resourcesOf(`${key}.grafana.resources`, g.resources, D.grafana.resources),
        storage: { size: (gs.size as string | undefined) ?? D.grafana.storage.size },
        path: g.path === undefined ? D.grafana.path : requirePathPrefix(`${key}.grafana.path`, g.path),
        basicAuthUser: (g.basicAuthUser) ?? D.grafana.basicAuthUser,
        rateLimit: rateLimitOf(`${key}.grafana.rateLimit`, g.rateLimit),
    };

    // CDN
    const c = optionalObject(`${key}.cdn`, s.cdn, ["image", "replicas", "resources", "storage", "corsAllowOrigins", "rateLimit"]);
    const cs = storageOf(`${key}.cdn.storage`, c.storage);
    const cdn: ResolvedCStoreSpec["cdn"] = {
        image: imageOf(`${key}.cdn.image`, c.image, D.cdn.image),
        replicas: c.replicas === undefined ? D.cdn.replicas : requireIntInRange(`${key}.cdn.replicas`, c.replicas, 1, 20),
        resources: resourcesOf(`${key}.cdn.resources`, c.resources, D.cdn.resources),
        storage: { size: (cs.size as string | undefined) ?? D.cdn.storage.size },
        corsAllowOrigins: c.corsAllowOrigins === undefined ? [...D.cdn.corsAllowOrigins] : requireOrigins(`${key}.cdn.corsAllowOrigins`, c.corsAllowOrigins),
        rateLimit: rateLimitOf(`${key}.cdn.rateLimit`, c.rateLimit),
    };

    const spec: ResolvedCStoreSpec = {
        namespace, domain, ingressNamespace, clusterIssuer, ingressClassName, skipAwait, storageClass, quota, limits, apiServer,
        api, mongodb, redis, redisExporter, prometheus, grafana, cdn,
        backups: parseBackupPolicy(`${key}.backups`, s.backups),
    };
    requireQuotaFits(`${key}.quota`, spec.quota, cstoreBudget(spec), "for the system at its peak (HPA maximum plus rolling-update surge)");
    requireLimitRangeFits(`${key}.limits.max`, spec.limits, cstoreContainers(key, spec));
    return spec;
}

// ---------------------------------------------------------------------------------------------
// Resource budget: what the system needs at its peak (HPA maximum + rolling-update surge).


/**
 * Peak pods per workload and the resulting sums: the API at maxReplicas plus 25% surge, the CDN and
 * the Redis exporter with surge, Prometheus and Grafana (Recreate) and the StatefulSets without.
 */
export function cstoreBudget(spec: ResolvedCStoreSpec): Budget {
    // A running backup pod per store (MongoDB, Redis; a restore Job is manual, never at the peak) and its claim.
    const backups = backupLoad(spec.backups, 2);
    return budgetOf([
        ...backups.pods,
        { pods: withSurge(spec.api.maxReplicas), resources: spec.api.resources },
        { pods: withSurge(spec.cdn.replicas), resources: spec.cdn.resources },
        { pods: withSurge(1), resources: spec.redisExporter.resources },
        { pods: withSurge(1), resources: KUBE_STATE_METRICS_RESOURCES },
        { pods: 1, resources: spec.prometheus.resources },
        { pods: 1, resources: spec.grafana.resources },
        { pods: 1, resources: spec.mongodb.resources },
        { pods: 1, resources: spec.redis.resources },
    ], [
        spec.mongodb.storage.size, spec.mongodb.storage.configSize, spec.redis.storage.size,
        spec.prometheus.storage.size, spec.grafana.storage.size, spec.cdn.storage.size, ...backups.claims,
    ]);
}

/** Each container by the config key that sizes it (kube-state-metrics has a fixed size, no key). */
function cstoreContainers(key: string, spec: ResolvedCStoreSpec): [string, ResourceSpec][] {
    return [
        [`${key}.api`, spec.api.resources], [`${key}.mongodb`, spec.mongodb.resources], [`${key}.redis`, spec.redis.resources],
        [`${key}.redisExporter`, spec.redisExporter.resources], [`${key} kube-state-metrics`, KUBE_STATE_METRICS_RESOURCES],
        [`${key}.prometheus`, spec.prometheus.resources], [`${key}.grafana`, spec.grafana.resources], [`${key}.cdn`, spec.cdn.resources],
    ];
}
