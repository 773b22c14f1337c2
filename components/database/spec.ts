/**
 * The Database spec (the CRD's spec, database-operator.md) and its validation. The stack config
 * module and the Database constructor both call validateDatabaseSpec, so the rules live here once.
 */
import { PodGroup } from "../k8s/capacity";
import { ResourceSpec, validateResources } from "../k8s/container";
import {
    rejectUnknownKeys, requireBoolean, requireDnsLabel, requireIntInRange, requireNonEmptyString, requireObject, requireOneOf,
    requireQuantity, ValidationError,
} from "../k8s/validation";
import { DATABASE_TYPES, DatabaseType, ENGINES, REDIS_EVICTION_POLICIES, REDIS_MODES, RedisMode, SIDECAR_RESOURCES } from "./engines";

export const MIN_REPLICAS = 1;

/** Redis Cluster needs 3 masters; with 6 members or more each master gets a replica by default. */
export const REDIS_CLUSTER_MIN_MASTERS = 3;
export function defaultClusterReplicas(replicas: number): number {
    return replicas >= 2 * REDIS_CLUSTER_MIN_MASTERS ? 1 : 0;
}
export const MAX_REPLICAS = 10;
/** Size of MongoDB's config volume when storage.configSize is not given. */
export const CONFIG_SIZE_DEFAULT = "1Gi";

export interface DatabaseSpec {
    type: DatabaseType;
    /** Engine version = image tag (e.g. 16.4, 7.0.14, 7.2.5). Defaults per engine. */
    version?: string;
    /** 1-10. SQLite is always 1. */
    replicas?: number;
    storage: {
        size: string;
        storageClass?: string;
        /** MongoDB's config volume (/data/configdb). */
        configSize?: string;
    };
    resources?: ResourceSpec;
    credentials?: {
        /** An existing Secret with keys "username" and "password"; otherwise one is generated. */
        existingSecret?: string;
        username?: string;
    };
    databaseName?: string;
    mongodb?: { replicaSetName?: string };
    redis?: {
        mode?: RedisMode; appendOnly?: boolean; maxMemory?: string; maxMemoryPolicy?: string;
        /** Cluster mode: replicas of every master (default 1 from 6 members on, else 0); at least 3 masters. */
        clusterReplicas?: number;
    };
    elasticsearch?: {
        clusterName?: string; nodeRoles?: string[];
        /**
         * TLS between the nodes (and on HTTP) from a per-database CA that cert-manager issues: a
         * selfSigned Issuer signs the CA Certificate, a CA Issuer signs the nodes' Certificate.
         * Needs cert-manager in the cluster.
         */
        transportTls?: boolean;
    };
    sqlite?: { filePath?: string };
    postgresql?: {
        maxConnections?: number;
        /** Synchronous replication: a commit returns once one standby has it (needs replicas >= 2). */
        synchronous?: boolean;
    };
    mysql?: {
        /** Semi-synchronous replication: a commit returns once one replica has received it (needs replicas >= 2). */
        semiSync?: boolean;
    };
}

const SPEC_KEYS = ["type", "version", "replicas", "storage", "resources", "credentials", "databaseName", "mongodb", "redis", "elasticsearch", "sqlite", "postgresql", "mysql"];
const ENGINE_SECTIONS: Record<string, DatabaseType> = {
    mongodb: "mongodb", redis: "redis", elasticsearch: "elasticsearch", sqlite: "sqlite", postgresql: "postgresql", mysql: "mysql",
};
const ES_ROLES = ["master", "data", "ingest", "ml", "remote_cluster_client", "transform"];
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Validates a raw spec (from config or args) and returns it typed. `key` prefixes every error. */
export function validateDatabaseSpec(key: string, raw: unknown): DatabaseSpec {
    const spec = requireObject(key, raw);
    rejectUnknownKeys(key, spec, SPEC_KEYS);
    const type = requireOneOf(`${key}.type`, spec.type, DATABASE_TYPES);
    const engine = ENGINES[type];
    // Built up as read: only the keys given (a default stays the engine's), each typed.
    const out: DatabaseSpec = { type, storage: { size: "" } };
    if (spec.version !== undefined) {
        const v = requireNonEmptyString(`${key}.version`, spec.version);
        if (!VERSION.test(v) || v === "latest") {
            throw new ValidationError(`${key}.version`, `${JSON.stringify(v)} is not allowed; allowed: a pinned version tag such as ${engine.defaultVersion}`);
        }
        out.version = v;
    }
    const replicas = requireIntInRange(`${key}.replicas`, spec.replicas ?? 1, MIN_REPLICAS, MAX_REPLICAS);
    if (spec.replicas !== undefined) {
        out.replicas = replicas;
    }
    if (type === "sqlite" && replicas !== 1) {
        throw new ValidationError(`${key}.replicas`, `${replicas} is not allowed for sqlite; allowed: 1 (a single-writer file database)`);
    }
    const storage = requireObject(`${key}.storage`, spec.storage);
    rejectUnknownKeys(`${key}.storage`, storage, ["size", "storageClass", "configSize"]);
    out.storage.size = requireQuantity(`${key}.storage.size`, storage.size, "storage");
    if (storage.storageClass !== undefined) {
        out.storage.storageClass = requireNonEmptyString(`${key}.storage.storageClass`, storage.storageClass);
    }
    if (storage.configSize !== undefined) {
        if (type !== "mongodb") {
            throw new ValidationError(`${key}.storage.configSize`, `only mongodb has a config volume; allowed for type ${type}: no configSize`);
        }
        out.storage.configSize = requireQuantity(`${key}.storage.configSize`, storage.configSize, "storage");
    }
    if (spec.resources !== undefined) {
        out.resources = validateResources(`${key}.resources`, spec.resources);
    }
    if (spec.credentials !== undefined) {
        const c = requireObject(`${key}.credentials`, spec.credentials);
        rejectUnknownKeys(`${key}.credentials`, c, ["existingSecret", "username"]);
        out.credentials = {};
        if (c.existingSecret !== undefined) {
            out.credentials.existingSecret = requireDnsLabel(`${key}.credentials.existingSecret`, c.existingSecret, 253);
        }
        if (c.username !== undefined) {
            out.credentials.username = requireNonEmptyString(`${key}.credentials.username`, c.username);
        }
    }
    if (spec.databaseName !== undefined && (typeof spec.databaseName !== "string" || !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(spec.databaseName))) {
        throw new ValidationError(`${key}.databaseName`, `${JSON.stringify(spec.databaseName)} is not allowed; allowed: letters, digits and '_', starting with a letter or '_'`);
    }
    if (spec.databaseName !== undefined) {
        out.databaseName = spec.databaseName;
    }
    for (const [section, owner] of Object.entries(ENGINE_SECTIONS)) {
        if (spec[section] !== undefined && owner !== type) {
            throw new ValidationError(`${key}.${section}`, `settings for ${owner} on a ${type} database; allowed: only the "${type}" section`);
        }
    }
    if (type === "redis" && spec.redis !== undefined) {
        const r = requireObject(`${key}.redis`, spec.redis);
        rejectUnknownKeys(`${key}.redis`, r, ["mode", "appendOnly", "maxMemory", "maxMemoryPolicy", "clusterReplicas"]);
        const mode = r.mode === undefined ? "standalone" : requireOneOf(`${key}.redis.mode`, r.mode, REDIS_MODES);
        out.redis = r.mode === undefined ? {} : { mode };
        if (r.appendOnly !== undefined) {
            out.redis.appendOnly = requireBoolean(`${key}.redis.appendOnly`, r.appendOnly);
        }
        if (mode === "standalone" && replicas !== 1) {
            throw new ValidationError(`${key}.replicas`, `${replicas} is not allowed with redis mode standalone; allowed: 1, or mode replication/sentinel/cluster`);
        }
        if (mode === "sentinel" && replicas < 3) {
            throw new ValidationError(`${key}.replicas`, `${replicas} is not allowed with redis mode sentinel; allowed: 3 to ${MAX_REPLICAS} (a sentinel quorum)`);
        }
        if (mode === "cluster" && replicas < 3) {
            throw new ValidationError(`${key}.replicas`, `${replicas} is not allowed with redis mode cluster; allowed: 3 to ${MAX_REPLICAS}`);
        }
        if (r.clusterReplicas !== undefined) {
            if (mode !== "cluster") {
                throw new ValidationError(`${key}.redis.clusterReplicas`, `only cluster mode has replicas per master; allowed with mode ${mode}: no clusterReplicas`);
            }
            const perMaster = requireIntInRange(`${key}.redis.clusterReplicas`, r.clusterReplicas, 0, 3);
            out.redis.clusterReplicas = perMaster;
            if (Math.floor(replicas / (1 + perMaster)) < REDIS_CLUSTER_MIN_MASTERS) {
                throw new ValidationError(`${key}.redis.clusterReplicas`,
                    `${perMaster} is not allowed with ${replicas} replicas (${Math.floor(replicas / (1 + perMaster))} masters); allowed: at most ${Math.floor(replicas / REDIS_CLUSTER_MIN_MASTERS) - 1} (a cluster needs ${REDIS_CLUSTER_MIN_MASTERS} masters)`);
            }
        }
        if (r.maxMemory !== undefined && (typeof r.maxMemory !== "string" || !/^[0-9]+(b|kb|mb|gb)?$/i.test(r.maxMemory))) {
            throw new ValidationError(`${key}.redis.maxMemory`, `${JSON.stringify(r.maxMemory)} is not allowed; allowed: a Redis size such as 512mb`);
        }
        if (r.maxMemory !== undefined) {
            out.redis.maxMemory = r.maxMemory;
        }
        if (r.maxMemoryPolicy !== undefined) {
            out.redis.maxMemoryPolicy = requireOneOf(`${key}.redis.maxMemoryPolicy`, r.maxMemoryPolicy, REDIS_EVICTION_POLICIES);
        }
    } else if (type === "redis" && replicas !== 1) {
        throw new ValidationError(`${key}.replicas`, `${replicas} is not allowed with redis mode standalone; allowed: 1, or mode replication/sentinel/cluster`);
    }
    if (type === "elasticsearch" && spec.elasticsearch !== undefined) {
        const e = requireObject(`${key}.elasticsearch`, spec.elasticsearch);
        rejectUnknownKeys(`${key}.elasticsearch`, e, ["clusterName", "nodeRoles", "transportTls"]);
        out.elasticsearch = {};
        if (e.transportTls !== undefined) {
            out.elasticsearch.transportTls = requireBoolean(`${key}.elasticsearch.transportTls`, e.transportTls);
        }
        if (e.clusterName !== undefined) {
            out.elasticsearch.clusterName = requireNonEmptyString(`${key}.elasticsearch.clusterName`, e.clusterName);
        }
        if (e.nodeRoles !== undefined) {
            if (!Array.isArray(e.nodeRoles) || e.nodeRoles.length === 0) {
                throw new ValidationError(`${key}.elasticsearch.nodeRoles`, `allowed: a non-empty list of ${ES_ROLES.join(", ")}`);
            }
            out.elasticsearch.nodeRoles = e.nodeRoles.map((r, i) => requireOneOf(`${key}.elasticsearch.nodeRoles[${i}]`, r, ES_ROLES));
        }
    }
    if (type === "mongodb" && spec.mongodb !== undefined) {
        const m = requireObject(`${key}.mongodb`, spec.mongodb);
        rejectUnknownKeys(`${key}.mongodb`, m, ["replicaSetName"]);
        out.mongodb = m.replicaSetName === undefined ? {} : { replicaSetName: requireDnsLabel(`${key}.mongodb.replicaSetName`, m.replicaSetName, 63) };
    }
    if (type === "postgresql" && spec.postgresql !== undefined) {
        const pg = requireObject(`${key}.postgresql`, spec.postgresql);
        rejectUnknownKeys(`${key}.postgresql`, pg, ["maxConnections", "synchronous"]);
        out.postgresql = {};
        if (pg.maxConnections !== undefined) {
            out.postgresql.maxConnections = requireIntInRange(`${key}.postgresql.maxConnections`, pg.maxConnections, 10, 10000);
        }
        if (pg.synchronous !== undefined) {
            out.postgresql.synchronous = requireBoolean(`${key}.postgresql.synchronous`, pg.synchronous);
            if (out.postgresql.synchronous && replicas < 2) {
                throw new ValidationError(`${key}.postgresql.synchronous`,
                    `true is not allowed with ${replicas} replica; allowed: false, or replicas >= 2 (a commit waits for a standby)`);
            }
        }
    }
    if (type === "mysql" && spec.mysql !== undefined) {
        const my = requireObject(`${key}.mysql`, spec.mysql);
        rejectUnknownKeys(`${key}.mysql`, my, ["semiSync"]);
        out.mysql = {};
        if (my.semiSync !== undefined) {
            out.mysql.semiSync = requireBoolean(`${key}.mysql.semiSync`, my.semiSync);
            if (out.mysql.semiSync && replicas < 2) {
                throw new ValidationError(`${key}.mysql.semiSync`,
                    `true is not allowed with ${replicas} replica; allowed: false, or replicas >= 2 (a commit waits for a replica)`);
            }
        }
    }
    if (type === "sqlite" && spec.sqlite !== undefined) {
        const s = requireObject(`${key}.sqlite`, spec.sqlite);
        rejectUnknownKeys(`${key}.sqlite`, s, ["filePath"]);
        const p = requireNonEmptyString(`${key}.sqlite.filePath`, s.filePath);
        if (!p.startsWith("/data/")) {
            throw new ValidationError(`${key}.sqlite.filePath`, `${JSON.stringify(p)} is not allowed; allowed: a file under /data/ (the persistent volume)`);
        }
        out.sqlite = { filePath: p };
    }
    return out;
}

/** The args of a Database built directly: its name and spec, before anything registers. */
export function validateDatabaseArgs(key: string, name: string, args: DatabaseSpec): DatabaseSpec {
    requireDnsLabel(`${key}.name`, name, 40);
    return validateDatabaseSpec(key, {
        type: args.type, version: args.version, replicas: args.replicas, storage: args.storage, resources: args.resources,
        credentials: args.credentials, databaseName: args.databaseName, mongodb: args.mongodb, redis: args.redis,
        elasticsearch: args.elasticsearch, sqlite: args.sqlite, postgresql: args.postgresql, mysql: args.mysql,
    });
}

/**
 * What a Database runs, for the capacity checks (components/k8s/capacity): its members (a
 * StatefulSet: no surge; SQLite's single Deployment replaces its pod), each with the engine's
 * sidecars, and their claims; `containers` names every container kind for the LimitRange check.
 * Pure: the same defaults and sidecars as the Database component.
 */
export function databaseLoad(spec: DatabaseSpec): { pods: PodGroup[]; claims: string[]; containers: [string, ResourceSpec][] } {
    const engine = ENGINES[spec.type];
    const replicas = spec.replicas ?? 1;
    const resources = spec.resources ?? engine.defaultResources;
    const mode = spec.redis?.mode ?? "standalone";
    const sidecars: [string, ResourceSpec][] = [
        ...(spec.type === "redis" && mode === "sentinel" ? [["sentinel", SIDECAR_RESOURCES.sentinel] as [string, ResourceSpec]] : []),
        ...(spec.type === "redis" && mode === "cluster" ? [["cluster-create", SIDECAR_RESOURCES.clusterCreate] as [string, ResourceSpec]] : []),
        ...(spec.type === "mysql" && replicas > 1 ? [["replica", SIDECAR_RESOURCES.mysqlReplica] as [string, ResourceSpec]] : []),
        ...(spec.type === "mongodb" && replicas > 1 ? [["replset", SIDECAR_RESOURCES.replset] as [string, ResourceSpec]] : []),
    ];
    const perMember = spec.type === "sqlite" ? [spec.storage.size]
        : [spec.storage.size, ...(engine.extraClaims ?? []).map(() => spec.storage.configSize ?? CONFIG_SIZE_DEFAULT)];
    return {
        pods: [{ pods: replicas, resources, sidecars: sidecars.map(([, r]) => r) }],
        claims: Array.from({ length: replicas }, () => perMember).flat(),
        containers: [[spec.type, resources], ...sidecars],
    };
}
