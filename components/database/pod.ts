/**
 * A Database's members, planned: the engine's context, its container with the engine's sidecars and
 * init containers, the volumes they mount, the ports members and clients use, and the claims.
 * Pure: the objects it refers to (the credentials Secret, the ConfigMaps, the SQLite claim) are
 * created by the Database and passed in by name.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ContainerPort, ContainerSpec } from "../k8s/container";
import { PortSpec } from "../k8s/traffic";
import { VolumeClaim } from "../k8s/workload";
import {
    CONFIG_DIR, credentialFiles, EngineContext, ENGINES, ES_CONFIG_VOLUME, ES_TLS_VOLUME, esSeedConfig, esTlsSecretName, memberHost, MYSQL_CONF_VOLUME,
    mysqlConfigure, mysqlReplica, mongoReplsetContainer, redisClusterCreate, redisSentinel, SECRET_KEYS, SENTINEL_PORT,
} from "./engines";
import { CONFIG_SIZE_DEFAULT, DatabaseSpec, defaultClusterReplicas } from "./spec";

/** Volume of the `<name>-config` ConfigMap (the engine's scripts and config files). */
export const CONFIG_VOLUME = "db-config";

/** SQLite: the path sqld is given as --db-path (a directory it creates on the claim). */
export function sqliteDbPath(spec: Pick<DatabaseSpec, "sqlite" | "databaseName">): string {
    return spec.sqlite?.filePath ?? `/data/${spec.databaseName ?? "app"}.db`;
}

/** What the engine's containers and scripts are built from: the spec with every default applied. */
export function databaseContext(name: string, namespace: pulumi.Input<string>, spec: DatabaseSpec, secretName: pulumi.Input<string>): EngineContext {
    const engine = ENGINES[spec.type];
    const replicas = spec.replicas ?? 1;
    return {
        name, namespace, version: spec.version ?? engine.defaultVersion, replicas, secretName,
        username: spec.credentials?.username ?? engine.defaultUser,
        databaseName: spec.databaseName ?? "app",
        headless: `${name}-headless`,
        mongoReplicaSet: spec.mongodb?.replicaSetName ?? "rs0",
        redisMode: spec.redis?.mode ?? "standalone",
        redisAppendOnly: spec.redis?.appendOnly ?? true,
        redisMaxMemory: spec.redis?.maxMemory,
        redisMaxMemoryPolicy: spec.redis?.maxMemoryPolicy,
        redisClusterReplicas: spec.redis?.clusterReplicas ?? defaultClusterReplicas(replicas),
        esClusterName: spec.elasticsearch?.clusterName ?? name,
        esNodeRoles: spec.elasticsearch?.nodeRoles ?? ["master", "data", "ingest"],
        esTransportTls: spec.type === "elasticsearch" && (spec.elasticsearch?.transportTls ?? false),
        sqliteFile: sqliteDbPath(spec),
        postgresMaxConnections: spec.postgresql?.maxConnections,
        postgresSynchronous: spec.postgresql?.synchronous ?? false,
        mysqlSemiSync: spec.mysql?.semiSync ?? false,
        resources: spec.resources ?? engine.defaultResources,
    };
}

/** MongoDB replica sets authenticate members with a key file, kept in the credentials Secret. */
export function needsKeyfile(spec: DatabaseSpec): boolean {
    return spec.type === "mongodb" && (spec.replicas ?? 1) > 1;
}

/**
 * PostgreSQL members other than ordinal 0 clone the primary on first start (scripts/postgresql/
 * clone-standby.sh); ordinal 0 and initialised members skip it.
 */
function postgresCloneStandby(ctx: EngineContext, image: string): ContainerSpec {
    return {
        name: "clone-primary",
        image,
        command: ["/bin/sh", `${CONFIG_DIR}/clone-standby.sh`],
        env: [
            ...(ENGINES.postgresql.container(ctx).env ?? []),
            { name: "PRIMARY_HOST", value: memberHost(ctx, 0) },
            { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
        ],
        // POSTGRES_USER_FILE and POSTGRES_PASSWORD_FILE (the server's env): the script writes a pgpass file.
        secretFiles: [credentialFiles(ctx)],
        resources: ctx.resources,
        volumeMounts: [
            { name: "data", mountPath: ENGINES.postgresql.dataPath },
            { name: CONFIG_VOLUME, mountPath: CONFIG_DIR, readOnly: true },
        ],
    };
}

/** mongod refuses a key file readable by others: copy it with mode 0400 into an emptyDir. */
function mongoKeyfileInit(image: string, resources: EngineContext["resources"]): ContainerSpec {
    return {
        name: "install-keyfile",
        image,
        command: ["sh", "-c", "cp /keyfile-src/keyfile /etc/mongodb-keyfile/keyfile && chmod 0400 /etc/mongodb-keyfile/keyfile"],
        env: [],
        resources,
        volumeMounts: [
            { name: "mongodb-keyfile-src", mountPath: "/keyfile-src", readOnly: true },
            { name: "mongodb-keyfile", mountPath: "/etc/mongodb-keyfile" },
        ],
    };
}

/** The objects the pod refers to by name, created by the Database. */
export interface PodRefs {
    secretName: pulumi.Input<string>;
    /** The `<name>-init` ConfigMap of the init scripts, when there are any. */
    initScripts?: pulumi.Input<string>;
    /** The content-named `<name>-config` ConfigMap of the engine's files, when it has any. */
    config?: pulumi.Input<string>;
    /** SQLite's standalone claim (a Deployment has no claim templates). */
    sqliteClaim?: pulumi.Input<string>;
}

export interface DatabasePod {
    /** The engine's container first, then its sidecars (Redis sentinel or cluster-create, MySQL replica, MongoDB replset). */
    containers: ContainerSpec[];
    initContainers: ContainerSpec[];
    volumes: k8s.types.input.core.v1.Volume[];
    /** Claim templates of the StatefulSet (none for SQLite's Deployment). */
    claims: VolumeClaim[];
    /** Every port a member serves (engine and sentinel), for the Services. */
    servicePorts: ContainerPort[];
    /** The ports members replicate on (every engine and sentinel port). */
    memberPorts: PortSpec[];
    /** The ports clients need: the client port; Redis sentinel: also the sentinels'. */
    clientPorts: PortSpec[];
    /** Redis in sentinel mode: clients ask the sentinels for the primary. */
    sentinel: boolean;
}

export function planDatabasePod(spec: DatabaseSpec, ctx: EngineContext, refs: PodRefs,
    snapshotRepository?: { claimName: pulumi.Input<string>; path: string }): DatabasePod {
    const engine = ENGINES[spec.type];
    const image = engine.image(ctx.version);
    const replicas = ctx.replicas;
    const volumes: k8s.types.input.core.v1.Volume[] = [];
    const engineContainer = engine.container(ctx);
    if (snapshotRepository) {
        // Elasticsearch registers filesystem repositories only under path.repo, on every node.
        volumes.push({ name: "snapshots", persistentVolumeClaim: { claimName: snapshotRepository.claimName } });
        engineContainer.env = [...(engineContainer.env ?? []), { name: "path.repo", value: snapshotRepository.path }];
    }
    const mounts: k8s.types.input.core.v1.VolumeMount[] = [...(engineContainer.volumeMounts ?? []), { name: "data", mountPath: engine.dataPath }];
    (engine.extraClaims ?? []).forEach(c => mounts.push({ name: c.name, mountPath: c.mountPath }));
    if (snapshotRepository) {
        mounts.push({ name: "snapshots", mountPath: snapshotRepository.path });
    }
    if (refs.initScripts !== undefined) {
        volumes.push({ name: "init-scripts", configMap: { name: refs.initScripts, defaultMode: 0o555 } });
        mounts.push({ name: "init-scripts", mountPath: engine.initScriptsPath!, readOnly: true });
    }
    if (refs.config !== undefined) {
        volumes.push({ name: CONFIG_VOLUME, configMap: { name: refs.config, defaultMode: 0o555 } });
        mounts.push({ name: CONFIG_VOLUME, mountPath: CONFIG_DIR, readOnly: true });
    }
    const initContainers: ContainerSpec[] = [];
    if (spec.type === "postgresql" && replicas > 1) {
        initContainers.push(postgresCloneStandby(ctx, image));
    }
    if (needsKeyfile(spec)) {
        volumes.push({ name: "mongodb-keyfile-src", secret: { secretName: refs.secretName, items: [{ key: SECRET_KEYS.keyfile, path: "keyfile" }], defaultMode: 0o400 } });
        volumes.push({ name: "mongodb-keyfile", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } });
        initContainers.push(mongoKeyfileInit(image, ctx.resources));
    }

    // Sidecars of the engine (Redis sentinel, Redis cluster-create) run scripts of the config ConfigMap.
    const configMount = { name: CONFIG_VOLUME, mountPath: CONFIG_DIR, readOnly: true };
    const sidecars: ContainerSpec[] = [];
    const sentinel = spec.type === "redis" && ctx.redisMode === "sentinel" ? redisSentinel(ctx, image) : undefined;
    if (sentinel) {
        sidecars.push({ ...sentinel, volumeMounts: [configMount] });
    }
    if (spec.type === "mysql" && replicas > 1) {
        volumes.push({ name: MYSQL_CONF_VOLUME, emptyDir: { sizeLimit: "1Mi" } });
        const configure = mysqlConfigure(ctx, image);
        initContainers.push({ ...configure, volumeMounts: [...(configure.volumeMounts ?? []), configMount] });
        sidecars.push({ ...mysqlReplica(ctx, image), volumeMounts: [configMount] });
    }
    if (ctx.esTransportTls) {
        volumes.push({ name: ES_TLS_VOLUME, secret: { secretName: esTlsSecretName(ctx.name), defaultMode: 0o440 } });
    }
    if (spec.type === "elasticsearch") {
        volumes.push({ name: ES_CONFIG_VOLUME, emptyDir: { sizeLimit: "64Mi" } });
        const seed = esSeedConfig(image);
        initContainers.push({ ...seed, volumeMounts: [...(seed.volumeMounts ?? []), configMount] });
    }
    if (spec.type === "mongodb" && replicas > 1) {
        sidecars.push({ ...mongoReplsetContainer(ctx, image), volumeMounts: [configMount] });
    }
    if (spec.type === "redis" && ctx.redisMode === "cluster") {
        sidecars.push({ ...redisClusterCreate(ctx, image), volumeMounts: [configMount] });
    }
    if (refs.sqliteClaim !== undefined) {
        volumes.push({ name: "data", persistentVolumeClaim: { claimName: refs.sqliteClaim } });
    }

    const enginePorts = [...engine.ports, ...(engine.extraPorts?.(ctx) ?? [])];
    const servicePorts = [...enginePorts, ...(sentinel?.ports ?? [])];
    const storageClass = spec.storage.storageClass;
    return {
        containers: [{ name: spec.type, image, ...engineContainer, ports: enginePorts, resources: ctx.resources, volumeMounts: mounts }, ...sidecars],
        initContainers,
        volumes,
        claims: spec.type === "sqlite" ? [] : [
            { name: "data", size: spec.storage.size, storageClass },
            ...(engine.extraClaims ?? []).map(c => ({ name: c.name, size: spec.storage.configSize ?? CONFIG_SIZE_DEFAULT, storageClass })),
        ],
        servicePorts,
        memberPorts: servicePorts.map(p => ({ port: p.containerPort })),
        clientPorts: [{ port: engine.clientPort }, ...(sentinel ? [{ port: SENTINEL_PORT }] : [])],
        sentinel: sentinel !== undefined,
    };
}
