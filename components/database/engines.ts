/**
 * Per-engine facts from database-operator.md (image, ports, data path) plus what it takes to run
 * each engine under the platform's pod security: a non-root UID, writable paths, probes and how
 * the password reaches the process (always a secretKeyRef).
 */
import * as fs from "fs";
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ContainerPort, ContainerSpec, ResourceSpec, execProbe, secretEnv, tcpProbe } from "../k8s/container";

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
    esClusterName: string;
    esNodeRoles: string[];
    sqliteFile: string;
    /** PostgreSQL max_connections, passed on the command line so a change applies on restart. */
    postgresMaxConnections?: number;
    /** PostgreSQL: a commit waits until one standby has it (replicas > 1 only). */
    postgresSynchronous: boolean;
    resources: ResourceSpec;
}

export const SENTINEL_PORT = 26379;

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

/**
 * Sentinel mode: replication plus a sentinel beside every member, watching ordinal 0 and
 * promoting a replica when it fails. Sentinel rewrites its config file, so it lives in an emptyDir.
 */
export function redisSentinel(ctx: EngineContext, image: string): ContainerSpec {
    const quorum = Math.floor(ctx.replicas / 2) + 1;
    const conf = [
        `sentinel monitor primary ${ctx.name}-0.${ctx.headless} 6379 ${quorum}`,
        "sentinel auth-pass primary $REDIS_PASSWORD",
        "sentinel down-after-milliseconds primary 5000",
        "sentinel failover-timeout primary 60000",
        "sentinel resolve-hostnames yes",
        "sentinel announce-hostnames yes",
    ].join("\n");
    return {
        name: "sentinel",
        image,
        command: ["sh", "-c"],
        args: [`printf "${conf}\\n" > /sentinel/sentinel.conf && exec redis-sentinel /sentinel/sentinel.conf --port ${SENTINEL_PORT}`],
        ports: [{ name: "sentinel", containerPort: SENTINEL_PORT }],
        env: [secretEnv("REDIS_PASSWORD", ctx.secretName, SECRET_KEYS.password)],
        resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
        writablePaths: ["/sentinel"],
        livenessProbe: tcpProbe(SENTINEL_PORT),
        readinessProbe: execProbe(["sh", "-c", `redis-cli -p ${SENTINEL_PORT} ping | grep -q PONG`], { initialDelaySeconds: 5 }),
    };
}

export interface EngineDef {
    image(version: string): string;
    ports: ContainerPort[];
    /** The port clients use; the Service's first port. */
    clientPort: number;
    dataPath: string;
    runAsUser: number;
    urlScheme: string;
    defaultUser: string;
    defaultVersion: string;
    defaultResources: ResourceSpec;
    /** Extra per-replica claims besides "data", e.g. MongoDB's config volume. */
    extraClaims?: { name: string; mountPath: string }[];
    /** Where init scripts (ConfigMap) are mounted, for engines whose image runs them on first start. */
    initScriptsPath?: string;
    /** The engine's scripts and config files (file name -> content), mounted at CONFIG_DIR. */
    configFiles?(ctx: EngineContext): Record<string, string>;
    container(ctx: EngineContext): Omit<ContainerSpec, "name" | "image" | "resources">;
}

// Memory limit at most twice the request: the scheduler's promise stays close to real use.
const small: ResourceSpec = { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } };

const ordinalScript = 'ORDINAL="${HOSTNAME##*-}"';

export const ENGINES: Record<DatabaseType, EngineDef> = {
    postgresql: {
        image: v => `postgres:${v}`,
        ports: [{ name: "postgres", containerPort: 5432 }],
        clientPort: 5432,
        dataPath: "/var/lib/postgresql/data",
        runAsUser: 999,
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
                secretEnv("POSTGRES_USER", ctx.secretName, SECRET_KEYS.username),
                secretEnv("POSTGRES_PASSWORD", ctx.secretName, SECRET_KEYS.password),
                { name: "PGDATA", value: "/var/lib/postgresql/data/pgdata" },
            ],
            writablePaths: ["/var/run/postgresql"],
            livenessProbe: execProbe(["sh", "-c", 'pg_isready -U "$POSTGRES_USER" -d "$POSTGRES_DB" -h 127.0.0.1']),
            readinessProbe: execProbe(["sh", "-c", 'pg_isready -U "$POSTGRES_USER" -d "$POSTGRES_DB" -h 127.0.0.1'], { initialDelaySeconds: 5 }),
        }),
    },
    mysql: {
        image: v => `mysql:${v}`,
        ports: [{ name: "mysql", containerPort: 3306 }],
        clientPort: 3306,
        dataPath: "/var/lib/mysql",
        runAsUser: 999,
        urlScheme: "mysql",
        defaultUser: "app",
        defaultVersion: "8.4.2",
        defaultResources: small,
        initScriptsPath: "/docker-entrypoint-initdb.d",
        container: ctx => ({
            env: [
                { name: "MYSQL_DATABASE", value: ctx.databaseName },
                secretEnv("MYSQL_USER", ctx.secretName, SECRET_KEYS.username),
                secretEnv("MYSQL_PASSWORD", ctx.secretName, SECRET_KEYS.password),
                secretEnv("MYSQL_ROOT_PASSWORD", ctx.secretName, SECRET_KEYS.password),
            ],
            writablePaths: ["/var/run/mysqld"],
            livenessProbe: tcpProbe(3306, { initialDelaySeconds: 30 }),
            readinessProbe: execProbe(["sh", "-c", 'MYSQL_PWD="$MYSQL_PASSWORD" mysqladmin ping -h 127.0.0.1 -u "$MYSQL_USER"'], { initialDelaySeconds: 10 }),
        }),
    },
    mongodb: {
        image: v => `mongo:${v}`,
        ports: [{ name: "mongodb", containerPort: 27017 }],
        clientPort: 27017,
        dataPath: "/data/db",
        runAsUser: 999,
        urlScheme: "mongodb",
        defaultUser: "admin",
        defaultVersion: "7.0.14",
        defaultResources: small,
        extraClaims: [{ name: "config", mountPath: "/data/configdb" }],
        initScriptsPath: "/docker-entrypoint-initdb.d",
        container: ctx => ({
            args: ctx.replicas > 1
                ? ["--bind_ip_all", "--replSet", ctx.mongoReplicaSet, "--keyFile", "/etc/mongodb-keyfile/keyfile"]
                : ["--bind_ip_all"],
            env: [
                { name: "MONGO_INITDB_DATABASE", value: ctx.databaseName },
                secretEnv("MONGO_INITDB_ROOT_USERNAME", ctx.secretName, SECRET_KEYS.username),
                secretEnv("MONGO_INITDB_ROOT_PASSWORD", ctx.secretName, SECRET_KEYS.password),
            ],
            volumeMounts: ctx.replicas > 1 ? [{ name: "mongodb-keyfile", mountPath: "/etc/mongodb-keyfile", readOnly: true }] : [],
            livenessProbe: execProbe(["mongosh", "--quiet", "--eval", "db.adminCommand('ping').ok"], { initialDelaySeconds: 30 }),
            readinessProbe: execProbe(["mongosh", "--quiet", "--eval", "db.adminCommand('ping').ok"], { initialDelaySeconds: 10 }),
        }),
    },
    redis: {
        image: v => `redis:${v}`,
        ports: [{ name: "redis", containerPort: 6379 }],
        clientPort: 6379,
        dataPath: "/data",
        runAsUser: 999,
        urlScheme: "redis",
        defaultUser: "default",
        defaultVersion: "7.2.5",
        defaultResources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
        container: ctx => {
            const flags = [
                "--requirepass \"$REDIS_PASSWORD\"", "--masterauth \"$REDIS_PASSWORD\"",
                `--appendonly ${ctx.redisAppendOnly ? "yes" : "no"}`,
                ...(ctx.redisMaxMemory ? [`--maxmemory ${ctx.redisMaxMemory}`] : []),
                ...(ctx.redisMaxMemoryPolicy ? [`--maxmemory-policy ${ctx.redisMaxMemoryPolicy}`] : []),
                ...(ctx.redisMode === "cluster" ? ["--cluster-enabled yes", "--cluster-config-file /data/nodes.conf"] : []),
            ].join(" ");
            // Replication: ordinal 0 is the master, every other pod replicates from it.
            const replicaOf = ctx.redisMode === "replication" || ctx.redisMode === "sentinel"
                ? `if [ "$ORDINAL" != "0" ]; then EXTRA="--replicaof ${ctx.name}-0.${ctx.headless} 6379"; fi; ` : "";
            return {
                command: ["sh", "-c"],
                args: [`${ordinalScript}; EXTRA=""; ${replicaOf}exec redis-server ${flags} $EXTRA`],
                env: [secretEnv("REDIS_PASSWORD", ctx.secretName, SECRET_KEYS.password)],
                livenessProbe: tcpProbe(6379),
                readinessProbe: execProbe(["sh", "-c", 'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli -h 127.0.0.1 ping | grep -q PONG'], { initialDelaySeconds: 5 }),
            };
        },
    },
    elasticsearch: {
        image: v => `docker.elastic.co/elasticsearch/elasticsearch:${v}`,
        ports: [{ name: "http", containerPort: 9200 }, { name: "transport", containerPort: 9300 }],
        clientPort: 9200,
        dataPath: "/usr/share/elasticsearch/data",
        runAsUser: 1000,
        urlScheme: "https",
        defaultUser: "elastic",
        defaultVersion: "8.15.0",
        defaultResources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { cpu: "2", memory: "2Gi" } },
        container: ctx => {
            const env: EnvVar[] = [
                { name: "cluster.name", value: ctx.esClusterName },
                { name: "node.name", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                { name: "node.roles", value: ctx.esNodeRoles.join(",") },
                { name: "ES_JAVA_OPTS", value: "-Xms1g -Xmx1g" },
                secretEnv("ELASTIC_PASSWORD", ctx.secretName, SECRET_KEYS.password),
            ];
            if (ctx.replicas === 1) {
                env.push({ name: "discovery.type", value: "single-node" });
            } else {
                const members = Array.from({ length: ctx.replicas }, (_, i) => `${ctx.name}-${i}`);
                env.push({ name: "discovery.seed_hosts", value: members.map(m => `${m}.${ctx.headless}`).join(",") });
                env.push({ name: "cluster.initial_master_nodes", value: members.join(",") });
            }
            return {
                env,
                writablePaths: ["/usr/share/elasticsearch/logs", "/usr/share/elasticsearch/config/jvm.options.d"],
                livenessProbe: tcpProbe(9300, { initialDelaySeconds: 60 }),
                readinessProbe: tcpProbe(9200, { initialDelaySeconds: 30 }),
            };
        },
    },
    sqlite: {
        image: v => `nouchka/sqlite3:${v}`,
        ports: [{ name: "http", containerPort: 8080 }],
        clientPort: 8080,
        dataPath: "/data",
        runAsUser: 1000,
        urlScheme: "http",
        defaultUser: "app",
        defaultVersion: "3.45.1",
        defaultResources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "250m", memory: "256Mi" } },
        container: ctx => ({
            env: [{ name: "SQLITE_DATABASE", value: ctx.sqliteFile }],
            livenessProbe: tcpProbe(8080),
            readinessProbe: tcpProbe(8080, { initialDelaySeconds: 5 }),
        }),
    },
};
