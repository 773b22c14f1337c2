/**
 * Per-engine facts from database-operator.md (image, ports, data path) plus what it takes to run
 * each engine under the platform's pod security: a non-root UID, writable paths, probes and how
 * the credentials reach the process: as files of the credentials Secret (components/k8s/
 * credentials.ts) that the image's entrypoint (`*_FILE`) or our scripts read, never as env values.
 */
import * as fs from "fs";
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ContainerPort, ContainerSpec, ResourceSpec, execProbe, httpProbe, livenessExec, livenessTcp, PID1_ALIVE, startupProbe, tcpProbe } from "../k8s/container";
import { DATA_STORE, SEARCH, UidException, WorkloadProfile } from "../k8s/profile";
import { fileEnv, SecretFiles, secretFilePath, secretFiles } from "../k8s/credentials";

import EnvVar = k8s.types.input.core.v1.EnvVar;

export const DATABASE_TYPES = ["postgresql", "mysql", "mongodb", "redis", "elasticsearch", "sqlite"] as const;
export type DatabaseType = typeof DATABASE_TYPES[number];

export const REDIS_MODES = ["standalone", "replication", "sentinel", "cluster"] as const;
export type RedisMode = typeof REDIS_MODES[number];

export const REDIS_EVICTION_POLICIES = [
    "noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
] as const;

/** Keys of the credentials Secret. */
export const SECRET_KEYS = { username: "username", password: "password", keyfile: "mongodb-keyfile" } as const;

/** Resources of the engines' sidecars (one beside every member that runs them). */
export const SIDECAR_RESOURCES = {
    replset: { requests: { cpu: "10m", memory: "128Mi" }, limits: { cpu: "200m", memory: "256Mi" } },
    mysqlReplica: { requests: { cpu: "10m", memory: "64Mi" }, limits: { cpu: "100m", memory: "128Mi" } },
    sentinel: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
    clusterCreate: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
} as const satisfies Record<string, ResourceSpec>;

export interface EngineContext {
    name: string;
    namespace: pulumi.Input<string>;
    version: string;
    replicas: number;
    secretName: pulumi.Input<string>;
    username: string;
    databaseName: string;
    /** Headless Service name: pods are <name>-<ordinal>.<headless>. */
    headless: string;
    mongoReplicaSet: string;
    redisMode: RedisMode;
    redisAppendOnly: boolean;
    redisMaxMemory?: string;
    redisMaxMemoryPolicy?: string;
    /** Cluster mode: replicas of every master. */
    redisClusterReplicas: number;
    esClusterName: string;
    esNodeRoles: string[];
    /** Elasticsearch: TLS between the nodes (and on HTTP) from the `<name>-transport-tls` Secret. */
    esTransportTls: boolean;
    sqliteFile: string;
    /** PostgreSQL max_connections, passed on the command line so a change applies on restart. */
    postgresMaxConnections?: number;
    /** PostgreSQL: a commit waits until one standby has it (replicas > 1 only). */
    postgresSynchronous: boolean;
    /** MySQL: semi-synchronous replication (replicas > 1 only). */
    mysqlSemiSync: boolean;
    resources: ResourceSpec;
}

export const SENTINEL_PORT = 26379;

/** Volume of the credentials Secret's files (username, password) in every container that needs them. */
export const CREDENTIALS_VOLUME = "db-credentials";

/** The credentials Secret as files: CREDENTIALS_ROOT/db-credentials/{username,password}. */
export function credentialFiles(ctx: Pick<EngineContext, "secretName">): SecretFiles {
    return secretFiles(CREDENTIALS_VOLUME, ctx.secretName, [SECRET_KEYS.username, SECRET_KEYS.password]);
}

/** Path of the password (or username) file, for probes and scripts. */
export function credentialPath(ctx: Pick<EngineContext, "secretName">, key: "username" | "password"): string {
    return secretFilePath(credentialFiles(ctx), SECRET_KEYS[key]);
}

/**
 * Where the engine's own scripts and config files (components/database/scripts/<engine>/, loaded
 * into the `<name>-config` ConfigMap) are mounted in every container of the pod.
 */
export const CONFIG_DIR = "/etc/database";

/** A file of components/database/scripts/<engine>/, as the ConfigMap carries it. */
export function engineFile(engine: DatabaseType, file: string): string {
    return fs.readFileSync(path.join(__dirname, "scripts", engine, file), "utf8");
}

/** Host name of a member: <name>-<ordinal>.<headless>. Ordinal 0 starts as the primary. */
export function memberHost(ctx: EngineContext, ordinal: number): string {
    return `${ctx.name}-${ordinal}.${ctx.headless}`;
}

/** The pgpass file of every PostgreSQL container, in the pod's /tmp emptyDir (start.sh and clone-standby.sh write it). */
export const POSTGRES_PGPASS_FILE = "/tmp/pgpass";

/** PostgreSQL quorum commit: any one standby confirms (any name, so members can come and go). */
export const POSTGRES_SYNC_STANDBYS = "ANY 1 (*)";

/** The server settings of every PostgreSQL member, passed as `-c` flags (a change applies on restart). */
export function postgresSettings(ctx: EngineContext): string[] {
    return [
        `hba_file=${CONFIG_DIR}/pg_hba.conf`,
        ...(ctx.postgresMaxConnections ? [`max_connections=${ctx.postgresMaxConnections}`] : []),
        ...(ctx.postgresSynchronous && ctx.replicas > 1
            ? ["synchronous_commit=on", `synchronous_standby_names=${POSTGRES_SYNC_STANDBYS}`] : []),
    ];
}

/** Readiness of a MongoDB replica-set member: exit 0 only as PRIMARY or SECONDARY (hello needs no auth). */
export const MONGO_MEMBER_READY = "const h = db.hello(); if (!(h.isWritablePrimary || h.secondary)) { quit(1); }";

/** The replica set's members as clients and members address them (FQDN: clients may be in other namespaces). */
export function mongoMembers(ctx: EngineContext, namespace: string): string[] {
    return Array.from({ length: ctx.replicas }, (_, i) => `${memberHost(ctx, i)}.${namespace}.svc.cluster.local:27017`);
}

/** Beside every replica-set member: scripts/mongodb/replset.sh (initiate once, reconfigure on member changes). */
export function mongoReplsetContainer(ctx: EngineContext, image: string): ContainerSpec {
    return {
        name: "replset",
        image,
        command: ["/bin/sh", `${CONFIG_DIR}/replset.sh`],
        env: [
            { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
            { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
            { name: "MEMBERS", value: mongoMembers(ctx, "$(POD_NAMESPACE)").join(",") },
            { name: "REPLICA_SET", value: ctx.mongoReplicaSet },
            { name: "CONFIG_DIR", value: CONFIG_DIR },
            { name: "HOME", value: "/tmp" },
            fileEnv("MONGO_INITDB_ROOT_USERNAME_FILE", credentialFiles(ctx), SECRET_KEYS.username),
            fileEnv("MONGO_INITDB_ROOT_PASSWORD_FILE", credentialFiles(ctx), SECRET_KEYS.password),
        ],
        secretFiles: [credentialFiles(ctx)],
        resources: SIDECAR_RESOURCES.replset,
        livenessProbe: livenessExec(PID1_ALIVE),
        readinessProbe: execProbe(["sh", "-c", "test -d /tmp"], { initialDelaySeconds: 5 }),
    };
}

/** MySQL reads every *.cnf of this dir (the image's my.cnf includes it): an emptyDir written by configure.sh. */
export const MYSQL_CONF_DIR = "/etc/mysql/conf.d";
export const MYSQL_CONF_VOLUME = "mysql-conf";

/** Init container of every replicated MySQL member: scripts/mysql/configure.sh (server-id, GTID, binlog, clone plugin). */
export function mysqlConfigure(ctx: EngineContext, image: string): ContainerSpec {
    return {
        name: "configure",
        image,
        command: ["/bin/sh", `${CONFIG_DIR}/configure.sh`],
        env: [
            { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
            { name: "HEADLESS", value: ctx.headless },
            { name: "MYSQL_CONF_DIR", value: MYSQL_CONF_DIR },
            { name: "SEMI_SYNC", value: ctx.mysqlSemiSync ? "yes" : "no" },
        ],
        resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
        volumeMounts: [{ name: MYSQL_CONF_VOLUME, mountPath: MYSQL_CONF_DIR }],
    };
}

/** Beside every replicated MySQL member: scripts/mysql/replica.sh (clone from the primary, GTID replication, read-only). */
export function mysqlReplica(ctx: EngineContext, image: string): ContainerSpec {
    return {
        name: "replica",
        image,
        command: ["/bin/sh", `${CONFIG_DIR}/replica.sh`],
        env: [
            { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
            { name: "PRIMARY_HOST", value: memberHost(ctx, 0) },
            fileEnv("MYSQL_ROOT_PASSWORD_FILE", credentialFiles(ctx), SECRET_KEYS.password),
        ],
        secretFiles: [credentialFiles(ctx)],
        resources: SIDECAR_RESOURCES.mysqlReplica,
        livenessProbe: livenessExec(PID1_ALIVE),
        readinessProbe: execProbe(["sh", "-c", "test -d /tmp"], { initialDelaySeconds: 5 }),
    };
}

export const ES_CONFIG_DIR = "/usr/share/elasticsearch/config";
export const ES_CONFIG_VOLUME = "es-config";
/** The nodes' certificate (cert-manager's tls.crt, tls.key, ca.crt): inside the config dir, where Elasticsearch may read files. */
export const ES_TLS_DIR = `${ES_CONFIG_DIR}/certs/transport`;
export const ES_TLS_VOLUME = "es-transport-tls";

/** Name of the Secret cert-manager writes the nodes' certificate into. */
export function esTlsSecretName(name: string): string {
    return `${name}-transport-tls`;
}

/**
 * The DNS names of the nodes' certificate: every member's headless-service name (short, namespaced,
 * FQDN), the headless wildcard (members a later scale-up adds) and the client Service.
 */
export function esCertificateDnsNames(name: string, headless: string, replicas: number, namespace: string): string[] {
    const suffixes = ["", `.${namespace}.svc`, `.${namespace}.svc.cluster.local`];
    const members = Array.from({ length: replicas }, (_, i) => `${name}-${i}.${headless}`);
    return [
        ...members.flatMap(m => suffixes.map(s => `${m}${s}`)),
        ...suffixes.map(s => `*.${headless}${s}`),
        ...suffixes.map(s => `${name}${s}`),
    ];
}

/**
 * Elasticsearch settings (environment variables the image's entrypoint passes as -E) of TLS
 * between the nodes and on HTTP, from the PEM files cert-manager writes. Setting them explicitly
 * turns off the entrypoint's security auto-configuration, so HTTP TLS is set here too (clients
 * keep https). verification_mode certificate: the peer's certificate must chain to the CA; host
 * names are not checked because nodes connect to each other's published IP addresses.
 */
export function esTransportTlsSettings(): Record<string, string> {
    const files = {
        key: `${ES_TLS_DIR}/tls.key`,
        certificate: `${ES_TLS_DIR}/tls.crt`,
        certificate_authorities: `${ES_TLS_DIR}/ca.crt`,
    };
    return {
        "xpack.security.enabled": "true",
        "xpack.security.transport.ssl.enabled": "true",
        "xpack.security.transport.ssl.verification_mode": "certificate",
        "xpack.security.transport.ssl.client_authentication": "required",
        "xpack.security.transport.ssl.key": files.key,
        "xpack.security.transport.ssl.certificate": files.certificate,
        "xpack.security.transport.ssl.certificate_authorities": files.certificate_authorities,
        "xpack.security.http.ssl.enabled": "true",
        "xpack.security.http.ssl.key": files.key,
        "xpack.security.http.ssl.certificate": files.certificate,
        "xpack.security.http.ssl.certificate_authorities": files.certificate_authorities,
    };
}

/** Init container of every Elasticsearch member: copies the image's config dir into the es-config emptyDir. */
export function esSeedConfig(image: string): ContainerSpec {
    return {
        name: "seed-config",
        image,
        command: ["/bin/sh", `${CONFIG_DIR}/seed-config.sh`],
        env: [{ name: "ES_CONFIG_SEED", value: "/config-seed" }],
        resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
        volumeMounts: [{ name: ES_CONFIG_VOLUME, mountPath: "/config-seed" }],
    };
}

/** Sentinel's name of the monitored primary (clients ask sentinels for it). */
export const REDIS_MASTER_NAME = "primary";
export const REDIS_PORT = 6379;
/** Redis Cluster's bus: the client port + 10000. */
export const REDIS_BUS_PORT = REDIS_PORT + 10000;
/** Writable dir of the generated redis.conf (an emptyDir). */
const REDIS_RUN_DIR = "/run/redis";
const SENTINEL_DIR = "/run/sentinel";

/** Sentinel quorum: a majority of the members. */
export function sentinelQuorum(replicas: number): number {
    return Math.floor(replicas / 2) + 1;
}

/** Environment of every Redis container (server, sentinel, cluster-create): scripts/redis/ read it. */
export function redisEnv(ctx: EngineContext): EnvVar[] {
    const members = Array.from({ length: ctx.replicas }, (_, i) => memberHost(ctx, i));
    return [
        { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
        { name: "REDIS_MODE", value: ctx.redisMode },
        { name: "REDIS_PORT", value: String(REDIS_PORT) },
        { name: "REDIS_DATA_DIR", value: "/data" },
        { name: "REDIS_RUN_DIR", value: REDIS_RUN_DIR },
        { name: "ANNOUNCE_HOST", value: `$(POD_NAME).${ctx.headless}` },
        { name: "PRIMARY_HOST", value: memberHost(ctx, 0) },
        { name: "PRIMARY_PORT", value: String(REDIS_PORT) },
        { name: "MEMBERS", value: members.map(m => `${m}:${REDIS_PORT}`).join(" ") },
        { name: "SENTINELS", value: ctx.redisMode === "sentinel" ? members.map(m => `${m}:${SENTINEL_PORT}`).join(" ") : "" },
        { name: "MASTER_NAME", value: REDIS_MASTER_NAME },
        { name: "REDIS_APPENDONLY", value: ctx.redisAppendOnly ? "yes" : "no" },
        ...(ctx.redisMaxMemory ? [{ name: "REDIS_MAXMEMORY", value: ctx.redisMaxMemory }] : []),
        ...(ctx.redisMaxMemoryPolicy ? [{ name: "REDIS_MAXMEMORY_POLICY", value: ctx.redisMaxMemoryPolicy }] : []),
        ...(ctx.redisMode === "cluster" ? [{ name: "CLUSTER_REPLICAS", value: String(ctx.redisClusterReplicas) }] : []),
        // The scripts read the file into the config files and into redis-cli's REDISCLI_AUTH of
        // their own calls: never onto a command line, never into the container's environment.
        fileEnv("REDIS_PASSWORD_FILE", credentialFiles(ctx), SECRET_KEYS.password),
    ];
}

/** A probe's redis-cli with the password from the file (redis-cli reads REDISCLI_AUTH). */
export function redisCliProbe(ctx: Pick<EngineContext, "secretName">, args: string): string[] {
    return ["sh", "-c", `REDISCLI_AUTH="$(cat ${credentialPath(ctx, "password")})" redis-cli ${args} | grep -q PONG`];
}

/**
 * Sentinel mode: replication plus a sentinel beside every member (scripts/redis/sentinel.sh). The
 * sentinels promote a replica when the primary fails; clients ask them for the current primary.
 */
export function redisSentinel(ctx: EngineContext, image: string): ContainerSpec {
    return {
        name: "sentinel",
        image,
        command: ["/bin/sh", `${CONFIG_DIR}/sentinel.sh`],
        ports: [{ name: "sentinel", containerPort: SENTINEL_PORT }],
        env: [
            ...redisEnv(ctx),
            { name: "SENTINEL_PORT", value: String(SENTINEL_PORT) },
            { name: "SENTINEL_DIR", value: SENTINEL_DIR },
            { name: "QUORUM", value: String(sentinelQuorum(ctx.replicas)) },
            { name: "DOWN_AFTER_MS", value: "5000" },
            { name: "FAILOVER_TIMEOUT_MS", value: "60000" },
        ],
        resources: SIDECAR_RESOURCES.sentinel,
        writablePaths: [SENTINEL_DIR],
        secretFiles: [credentialFiles(ctx)],
        livenessProbe: livenessTcp(SENTINEL_PORT),
        readinessProbe: execProbe(redisCliProbe(ctx, `-p ${SENTINEL_PORT} ping`), { initialDelaySeconds: 5 }),
    };
}

/**
 * Cluster mode: every pod runs scripts/redis/cluster-create.sh beside the server; on ordinal 0 it
 * forms the cluster once all members answer (CLUSTER_REPLICAS replicas per master) and adds members
 * that a later scale-up brings; on the other ordinals it only waits.
 */
export function redisClusterCreate(ctx: EngineContext, image: string): ContainerSpec {
    return {
        name: "cluster-create",
        image,
        command: ["/bin/sh", `${CONFIG_DIR}/cluster-create.sh`],
        env: redisEnv(ctx),
        resources: SIDECAR_RESOURCES.clusterCreate,
        writablePaths: [REDIS_RUN_DIR],
        secretFiles: [credentialFiles(ctx)],
        livenessProbe: livenessExec(PID1_ALIVE),
        readinessProbe: execProbe(["sh", "-c", `test -d ${REDIS_RUN_DIR}`], { initialDelaySeconds: 5 }),
    };
}

/**
 * Cluster mode: the container of the `<name>-cluster-shrink` Job that runs before the StatefulSet
 * changes (scripts/redis/cluster-shrink.sh): nodes outside MEMBERS (the new member list) have
 * their slots moved away and are forgotten by the others before their pods are deleted.
 */
export function redisClusterShrink(ctx: EngineContext, image: string): ContainerSpec {
    return {
        name: "cluster-shrink",
        image,
        command: ["/bin/sh", `${CONFIG_DIR}/cluster-shrink.sh`],
        env: [
            { name: "MEMBERS", value: redisEnv(ctx).find(e => e.name === "MEMBERS")!.value as string },
            { name: "WAIT_SECONDS", value: "300" },
            fileEnv("REDIS_PASSWORD_FILE", credentialFiles(ctx), SECRET_KEYS.password),
        ],
        secretFiles: [credentialFiles(ctx)],
        resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "200m", memory: "64Mi" } },
    };
}

export interface EngineDef {
    image(version: string): string;
    ports: ContainerPort[];
    /** The port clients use; the Service's first port. */
    clientPort: number;
    dataPath: string;
    /** Every engine keeps its image's UID: the data on its claims belongs to it (docs/hardening.md). */
    uidException: UidException;
    /** DATA_STORE, or SEARCH for Elasticsearch. */
    profile: WorkloadProfile;
    urlScheme: string;
    defaultUser: string;
    defaultVersion: string;
    defaultResources: ResourceSpec;
    /** Extra per-replica claims besides "data", e.g. MongoDB's config volume. */
    extraClaims?: { name: string; mountPath: string }[];
    /** Where init scripts (ConfigMap) are mounted, for engines whose image runs them on first start. */
    initScriptsPath?: string;
    /** Ports besides `ports` that depend on the spec (Redis Cluster's bus). */
    extraPorts?(ctx: EngineContext): ContainerPort[];
    /** The engine's scripts and config files (file name -> content), mounted at CONFIG_DIR. */
    configFiles?(ctx: EngineContext): Record<string, string>;
    container(ctx: EngineContext): Omit<ContainerSpec, "name" | "image" | "resources">;
}

// Memory limit at most twice the request: the scheduler's promise stays close to real use.
const small: ResourceSpec = { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } };


export const ENGINES: Record<DatabaseType, EngineDef> = {
    postgresql: {
        image: v => `postgres:${v}`,
        ports: [{ name: "postgres", containerPort: 5432 }],
        clientPort: 5432,
        dataPath: "/var/lib/postgresql/data",
        uidException: { uid: 999, reason: "the postgres image's postgres user owns PGDATA on the claim (mode 0700); postgres refuses a data directory another UID owns" },
        profile: DATA_STORE,
        urlScheme: "postgresql",
        defaultUser: "app",
        defaultVersion: "16.4",
        defaultResources: small,
        initScriptsPath: "/docker-entrypoint-initdb.d",
        configFiles: () => ({
            "pg_hba.conf": engineFile("postgresql", "pg_hba.conf"),
            "start.sh": engineFile("postgresql", "start.sh"),
            "clone-standby.sh": engineFile("postgresql", "clone-standby.sh"),
        }),
        container: ctx => ({
            command: ["/bin/sh", `${CONFIG_DIR}/start.sh`],
            args: ["postgres", ...postgresSettings(ctx).flatMap(setting => ["-c", setting])],
            env: [
                { name: "POSTGRES_DB", value: ctx.databaseName },
                // The image's entrypoint reads both files (its file_env); pg_isready needs no password.
                fileEnv("POSTGRES_USER_FILE", credentialFiles(ctx), SECRET_KEYS.username),
                fileEnv("POSTGRES_PASSWORD_FILE", credentialFiles(ctx), SECRET_KEYS.password),
                { name: "PGDATA", value: "/var/lib/postgresql/data/pgdata" },
                // A standby's WAL receiver (libpq) reads the password from here: scripts/postgresql/start.sh writes it.
                { name: "PGPASSFILE", value: POSTGRES_PGPASS_FILE },
            ],
            secretFiles: [credentialFiles(ctx)],
            writablePaths: ["/var/run/postgresql"],
            // First start (initdb), crash recovery and a standby's base backup can take minutes.
            startupProbe: startupProbe(tcpProbe(5432)),
            readinessProbe: execProbe(["sh", "-c", 'pg_isready -U "$(cat "$POSTGRES_USER_FILE")" -d "$POSTGRES_DB" -h 127.0.0.1'], { initialDelaySeconds: 5 }),
            livenessProbe: livenessTcp(5432, { initialDelaySeconds: 0 }),
        }),
    },
    mysql: {
        image: v => `mysql:${v}`,
        ports: [{ name: "mysql", containerPort: 3306 }],
        clientPort: 3306,
        dataPath: "/var/lib/mysql",
        uidException: { uid: 999, reason: "the mysql image's mysql user owns the data directory on the claim (InnoDB files mode 0640); another UID cannot open existing data" },
        profile: DATA_STORE,
        urlScheme: "mysql",
        defaultUser: "app",
        defaultVersion: "8.4.2",
        defaultResources: small,
        initScriptsPath: "/docker-entrypoint-initdb.d",
        configFiles: (ctx): Record<string, string> => ctx.replicas > 1
            ? { "configure.sh": engineFile("mysql", "configure.sh"), "replica.sh": engineFile("mysql", "replica.sh") } : {},
        container: ctx => ({
            volumeMounts: ctx.replicas > 1 ? [{ name: MYSQL_CONF_VOLUME, mountPath: MYSQL_CONF_DIR, readOnly: true }] : [],
            env: [
                { name: "MYSQL_DATABASE", value: ctx.databaseName },
                // The image's entrypoint reads the files (its file_env).
                fileEnv("MYSQL_USER_FILE", credentialFiles(ctx), SECRET_KEYS.username),
                fileEnv("MYSQL_PASSWORD_FILE", credentialFiles(ctx), SECRET_KEYS.password),
                fileEnv("MYSQL_ROOT_PASSWORD_FILE", credentialFiles(ctx), SECRET_KEYS.password),
            ],
            secretFiles: [credentialFiles(ctx)],
            writablePaths: ["/var/run/mysqld"],
            // The entrypoint's first start (initialize, temporary server, init scripts) and InnoDB recovery are slow.
            startupProbe: startupProbe(tcpProbe(3306)),
            livenessProbe: livenessTcp(3306, { initialDelaySeconds: 0 }),
            readinessProbe: execProbe(["sh", "-c", 'MYSQL_PWD="$(cat "$MYSQL_PASSWORD_FILE")" mysqladmin ping -h 127.0.0.1 -u "$(cat "$MYSQL_USER_FILE")"'], { initialDelaySeconds: 10 }),
        }),
    },
    mongodb: {
        image: v => `mongo:${v}`,
        ports: [{ name: "mongodb", containerPort: 27017 }],
        clientPort: 27017,
        dataPath: "/data/db",
        uidException: { uid: 999, reason: "the mongo image's mongodb user owns /data/db and /data/configdb on the claims (WiredTiger files mode 0600)" },
        profile: DATA_STORE,
        urlScheme: "mongodb",
        defaultUser: "admin",
        defaultVersion: "7.0.14",
        defaultResources: small,
        extraClaims: [{ name: "config", mountPath: "/data/configdb" }],
        initScriptsPath: "/docker-entrypoint-initdb.d",
        configFiles: (ctx): Record<string, string> => ctx.replicas > 1
            ? { "replset.js": engineFile("mongodb", "replset.js"), "replset.sh": engineFile("mongodb", "replset.sh") } : {},
        container: ctx => ({
            args: ctx.replicas > 1
                ? ["--bind_ip_all", "--replSet", ctx.mongoReplicaSet, "--keyFile", "/etc/mongodb-keyfile/keyfile"]
                : ["--bind_ip_all"],
            env: [
                { name: "MONGO_INITDB_DATABASE", value: ctx.databaseName },
                // The image's entrypoint reads the files (its file_env).
                fileEnv("MONGO_INITDB_ROOT_USERNAME_FILE", credentialFiles(ctx), SECRET_KEYS.username),
                fileEnv("MONGO_INITDB_ROOT_PASSWORD_FILE", credentialFiles(ctx), SECRET_KEYS.password),
            ],
            secretFiles: [credentialFiles(ctx)],
            volumeMounts: ctx.replicas > 1 ? [{ name: "mongodb-keyfile", mountPath: "/etc/mongodb-keyfile", readOnly: true }] : [],
            // First start runs the init scripts on a temporary server; a member's initial sync is slow.
            startupProbe: startupProbe(tcpProbe(27017)),
            livenessProbe: livenessTcp(27017, { initialDelaySeconds: 0 }),
            // A replica-set member is ready as PRIMARY or SECONDARY only (not STARTUP, RECOVERING, or uninitiated).
            readinessProbe: ctx.replicas > 1
                ? execProbe(["mongosh", "--quiet", "--eval", MONGO_MEMBER_READY], { initialDelaySeconds: 10 })
                : execProbe(["mongosh", "--quiet", "--eval", "db.adminCommand('ping').ok"], { initialDelaySeconds: 10 }),
        }),
    },
    redis: {
        image: v => `redis:${v}`,
        ports: [{ name: "redis", containerPort: 6379 }],
        clientPort: 6379,
        dataPath: "/data",
        uidException: { uid: 999, reason: "the redis image's redis user owns the RDB/AOF files on the claim; another UID could not rewrite them" },
        profile: DATA_STORE,
        urlScheme: "redis",
        defaultUser: "default",
        defaultVersion: "7.2.5",
        defaultResources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
        extraPorts: ctx => ctx.redisMode === "cluster" ? [{ name: "cluster-bus", containerPort: REDIS_BUS_PORT }] : [],
        configFiles: ctx => ({
            "start-redis.sh": engineFile("redis", "start-redis.sh"),
            ...(ctx.redisMode === "sentinel" ? { "sentinel.sh": engineFile("redis", "sentinel.sh") } : {}),
            ...(ctx.redisMode === "cluster" ? {
                "cluster-create.sh": engineFile("redis", "cluster-create.sh"),
                "cluster-shrink.sh": engineFile("redis", "cluster-shrink.sh"),
                "cluster-slots.sh": engineFile("redis", "cluster-slots.sh"),
            } : {}),
        }),
        container: ctx => ({
            command: ["/bin/sh", `${CONFIG_DIR}/start-redis.sh`],
            env: redisEnv(ctx),
            secretFiles: [credentialFiles(ctx)],
            writablePaths: [REDIS_RUN_DIR],
            // Loading a large RDB/AOF at start keeps the port closed.
            startupProbe: startupProbe(tcpProbe(REDIS_PORT)),
            livenessProbe: livenessTcp(REDIS_PORT, { initialDelaySeconds: 0 }),
            readinessProbe: execProbe(redisCliProbe(ctx, "-h 127.0.0.1 ping"), { initialDelaySeconds: 5 }),
        }),
    },
    elasticsearch: {
        image: v => `docker.elastic.co/elasticsearch/elasticsearch:${v}`,
        ports: [{ name: "http", containerPort: 9200 }, { name: "transport", containerPort: 9300 }],
        clientPort: 9200,
        dataPath: "/usr/share/elasticsearch/data",
        uidException: { uid: 1000, reason: "the image runs Elasticsearch as uid 1000 (another UID needs group 0, i.e. runAsGroup 0) and the data directory on the claim belongs to it" },
        profile: SEARCH,
        urlScheme: "https",
        defaultUser: "elastic",
        defaultVersion: "8.15.0",
        defaultResources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { cpu: "2", memory: "2Gi" } },
        configFiles: (ctx): Record<string, string> => ({
            "seed-config.sh": engineFile("elasticsearch", "seed-config.sh"),
            ...(ctx.replicas > 1 ? { "start.sh": engineFile("elasticsearch", "start.sh") } : {}),
        }),
        container: ctx => {
            const env: EnvVar[] = [
                { name: "cluster.name", value: ctx.esClusterName },
                { name: "node.name", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                { name: "node.roles", value: ctx.esNodeRoles.join(",") },
                { name: "ES_JAVA_OPTS", value: "-Xms1g -Xmx1g" },
                // The image's entrypoint reads the bootstrap password from the file.
                fileEnv("ELASTIC_PASSWORD_FILE", credentialFiles(ctx), SECRET_KEYS.password),
            ];
            if (ctx.esTransportTls) {
                env.push(...Object.entries(esTransportTlsSettings()).map(([name, value]) => ({ name, value })));
            }
            if (ctx.replicas === 1) {
                env.push({ name: "discovery.type", value: "single-node" });
            } else {
                const members = Array.from({ length: ctx.replicas }, (_, i) => `${ctx.name}-${i}`);
                env.push({ name: "discovery.seed_hosts", value: members.map(m => `${m}.${ctx.headless}`).join(",") });
                // Bootstrap only on first formation: scripts/elasticsearch/start.sh decides.
                env.push({ name: "INITIAL_MASTER_NODES", value: members.join(",") });
                env.push({ name: "SEED_HOSTS", value: members.map(m => `${m}.${ctx.headless}`).join(",") });
                env.push({ name: "ES_DATA_DIR", value: "/usr/share/elasticsearch/data" });
            }
            return {
                ...(ctx.replicas > 1 ? { command: ["/bin/sh", `${CONFIG_DIR}/start.sh`] } : {}),
                env,
                secretFiles: [credentialFiles(ctx)],
                // The config dir is an emptyDir seeded by scripts/elasticsearch/seed-config.sh (the
                // entrypoint writes the keystore there); logs are the only other writable path.
                volumeMounts: [
                    { name: ES_CONFIG_VOLUME, mountPath: ES_CONFIG_DIR },
                    ...(ctx.esTransportTls ? [{ name: ES_TLS_VOLUME, mountPath: ES_TLS_DIR, readOnly: true }] : []),
                ],
                writablePaths: ["/usr/share/elasticsearch/logs"],
                // JVM start, keystore setup and cluster formation: up to 10 minutes before 9200 opens.
                startupProbe: startupProbe(tcpProbe(9200)),
                livenessProbe: livenessTcp(9300, { initialDelaySeconds: 0 }),
                readinessProbe: tcpProbe(9200, { initialDelaySeconds: 10 }),
            };
        },
    },
    sqlite: {
        // nouchka/sqlite3's entrypoint is the sqlite3 CLI: nothing listens on 8080. sqld (libSQL
        // server, Turso's SQLite fork) serves a SQLite database over HTTP on 8080 (its default port)
        // from one writer; images are published per release as libsql-server-v<version>.
        image: v => `ghcr.io/tursodatabase/libsql-server:libsql-server-v${v}`,
        ports: [{ name: "http", containerPort: 8080 }],
        clientPort: 8080,
        dataPath: "/data",
        uidException: { uid: 666, reason: "the libsql-server image's sqld user owns the database files on the claim" },
        profile: DATA_STORE,
        urlScheme: "http",
        defaultUser: "app",
        defaultVersion: "0.24.32",
        defaultResources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "250m", memory: "256Mi" } },
        container: ctx => ({
            command: ["/bin/sqld"],
            args: ["--http-listen-addr", "0.0.0.0:8080", "--db-path", ctx.sqliteFile],
            env: [],
            livenessProbe: livenessTcp(8080),
            readinessProbe: httpProbe("/health", 8080, { initialDelaySeconds: 5 }),
        }),
    },
};
