/**
 * Database: the database operator of database-operator.md, Pulumi-native. Its args mirror the
 * Database CRD spec; its outputs mirror the CRD status (phase, replicas, readyReplicas) plus what
 * clients need (host, port, secret name, connection URL as a secret).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { ContainerSpec, containerVolumes, podSecurityContext, secureContainer } from "../k8s/container";
import { BATCH, priorityClassName } from "../k8s/profile";
import { selectorLabels, standardLabels } from "../k8s/labels";
import { OWNED_ANNOTATIONS } from "../k8s/metadata";
import { CRUD, PolicyRule, READ } from "../k8s/rbac";
import { networkPolicySpec, Peer, PortSpec, TrafficRule } from "../k8s/traffic";
import { Checked, isChecked, ValidationError } from "../k8s/validation";
import { VolumeClaim, Workload } from "../k8s/workload";
import { rollingConfigMap } from "../k8s/config";
import { componentConditions, Phase, WorkloadCondition, workloadPhase } from "../k8s/status";
import {
    CONFIG_DIR, credentialFiles, DatabaseType, EngineContext, ENGINES, ES_CONFIG_VOLUME, ES_TLS_VOLUME, esCertificateDnsNames, esSeedConfig, esTlsSecretName, memberHost, mongoMembers, MYSQL_CONF_VOLUME, mysqlConfigure, mysqlReplica, mongoReplsetContainer, REDIS_MASTER_NAME, REDIS_PORT, redisClusterCreate, redisClusterShrink, redisSentinel,
    SECRET_KEYS, SENTINEL_PORT,
} from "./engines";
import { CONFIG_SIZE_DEFAULT, DatabaseSpec, defaultClusterReplicas, validateDatabaseArgs } from "./spec";

/** API group of the Database CRD that the deployer role mirrors. */
export const DATABASE_GROUP = "database-operator.io";

/** The operator's RBAC from database-operator.md, verb for verb; secrets are read-only. */
export const DATABASE_DEPLOYER_RULES: PolicyRule[] = [
    { apiGroups: [DATABASE_GROUP], resources: ["databases"], verbs: CRUD },
    { apiGroups: [DATABASE_GROUP], resources: ["databases/status"], verbs: ["get", "update", "patch"] },
    { apiGroups: [DATABASE_GROUP], resources: ["databases/finalizers"], verbs: ["update"] },
    { apiGroups: ["apps"], resources: ["statefulsets", "deployments"], verbs: CRUD },
    { apiGroups: [""], resources: ["services", "configmaps", "persistentvolumeclaims"], verbs: CRUD },
    { apiGroups: [""], resources: ["secrets"], verbs: READ },
];

export type DatabasePhase = Phase;

/** SQLite: the path sqld is given as --db-path (a directory it creates on the claim). */
export function sqliteDbPath(spec: Pick<DatabaseSpec, "sqlite" | "databaseName">): string {
    return spec.sqlite?.filePath ?? `/data/${spec.databaseName ?? "app"}.db`;
}

/** The SQLite file sqld keeps its (default namespace's) database in, under --db-path. */
export const SQLD_DATA_FILE = "dbs/default/data";

/** Volume of the `<name>-config` ConfigMap (the engine's scripts and config files). */
export const CONFIG_VOLUME = "db-config";

export interface DatabaseArgs extends DatabaseSpec {
    namespace: pulumi.Input<string>;
    /** Who may connect (on the client port). Nobody else can. */
    clients?: Peer[];
    /** System label (app.kubernetes.io/part-of). */
    partOf?: string;
    /** Keep data through `pulumi destroy`: protect the workload, retain standalone claims. */
    protect?: boolean;
    /** SQL/JS files run once on first start (postgresql, mysql, mongodb), file name -> content. */
    initScripts?: Record<string, string>;
    /** Extra labels on every object and pod (not the selector), e.g. platform.io/owner. */
    labels?: Record<string, string>;
    /**
     * Elasticsearch: the snapshot repository every node mounts (the backup claim, ReadWriteMany with
     * more than one node) at `path`, which becomes the nodes' `path.repo` (DatabaseBackup's ES_SNAPSHOT_DIR).
     */
    snapshotRepository?: { claimName: pulumi.Input<string>; path: string };
}

function connectionUrl(type: DatabaseType, user: string, password: string | undefined, host: string, port: number,
    db: string, replicaSet?: string, sentinel = false): string {
    const scheme = ENGINES[type].urlScheme;
    const u = encodeURIComponent(user);
    const auth = password === undefined ? "" : type === "redis" ? `:${encodeURIComponent(password)}@` : `${u}:${encodeURIComponent(password)}@`;
    switch (type) {
        case "postgresql":
        case "mysql":
            return `${scheme}://${auth}${host}:${port}/${db}`;
        case "mongodb":
            // A replica set: `host` is already the member list (host:port,...).
            return replicaSet
                ? `${scheme}://${auth}${host}/${db}?authSource=admin&replicaSet=${replicaSet}`
                : `${scheme}://${auth}${host}:${port}/${db}?authSource=admin`;
        case "redis":
            // Sentinel mode: the sentinels' endpoint and the primary's name (redis+sentinel://host:port/name/db).
            return sentinel ? `redis+sentinel://${auth}${host}:${port}/${REDIS_MASTER_NAME}/0` : `${scheme}://${auth}${host}:${port}/0`;
        case "elasticsearch":
            return `${scheme}://${auth}${host}:${port}`;
        case "sqlite":
            return `${scheme}://${host}:${port}`;
    }
}

/**
 * PostgreSQL members other than ordinal 0 clone the primary on first start (scripts/postgresql/
 * clone-standby.sh); ordinal 0 and initialised members skip it.
 */
function postgresCloneStandby(ctx: EngineContext, image: string, resources: EngineContext["resources"]): ContainerSpec {
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
        resources,
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

export const CERT_MANAGER_API = "cert-manager.io/v1";

/**
 * The nodes' certificate of an Elasticsearch cluster with transport TLS, from a CA of its own:
 * a selfSigned Issuer signs the CA Certificate (`<name>-ca`), a CA Issuer (`<name>-ca`) signs
 * the nodes' Certificate, which cert-manager writes (and renews) into `<name>-transport-tls`
 * (tls.crt, tls.key, ca.crt). Returns the nodes' Certificate.
 */
function esTransportCertificate(name: string, headless: string, replicas: number, namespace: pulumi.Input<string>,
    labels: Record<string, string>, opts: pulumi.CustomResourceOptions): k8s.apiextensions.CustomResource {
    const metadata = (objectName: string) => ({ name: objectName, namespace, labels, annotations: OWNED_ANNOTATIONS });
    const issuerRef = (issuer: string) => ({ name: issuer, kind: "Issuer", group: "cert-manager.io" });
    const selfSigned = new k8s.apiextensions.CustomResource(`${name}-selfsigned-issuer`, {
        apiVersion: CERT_MANAGER_API, kind: "Issuer", metadata: metadata(`${name}-selfsigned`),
        spec: { selfSigned: {} },
    }, opts);
    const ca = new k8s.apiextensions.CustomResource(`${name}-ca-certificate`, {
        apiVersion: CERT_MANAGER_API, kind: "Certificate", metadata: metadata(`${name}-ca`),
        spec: {
            isCA: true, commonName: `${name}-ca`, secretName: `${name}-ca`, duration: "87600h",
            privateKey: { algorithm: "ECDSA", size: 256 },
            issuerRef: issuerRef(`${name}-selfsigned`),
        },
    }, { ...opts, dependsOn: [selfSigned] });
    const caIssuer = new k8s.apiextensions.CustomResource(`${name}-ca-issuer`, {
        apiVersion: CERT_MANAGER_API, kind: "Issuer", metadata: metadata(`${name}-ca`),
        spec: { ca: { secretName: `${name}-ca` } },
    }, { ...opts, dependsOn: [ca] });
    return new k8s.apiextensions.CustomResource(`${name}-transport-certificate`, {
        apiVersion: CERT_MANAGER_API, kind: "Certificate", metadata: metadata(`${name}-transport`),
        spec: {
            secretName: esTlsSecretName(name),
            commonName: name,
            dnsNames: pulumi.output(namespace).apply(ns => esCertificateDnsNames(name, headless, replicas, ns)),
            duration: "2160h", renewBefore: "360h",
            privateKey: { algorithm: "RSA", size: 2048, encoding: "PKCS8", rotationPolicy: "Always" },
            usages: ["server auth", "client auth", "digital signature", "key encipherment"],
            issuerRef: issuerRef(`${name}-ca`),
        },
    }, { ...opts, dependsOn: [caIssuer] });
}

/**
 * Redis Cluster: the `<name>-cluster-shrink` Job (scripts/redis/cluster-shrink.sh), run before
 * the StatefulSet changes (the StatefulSet depends on it). Named after the member count and
 * replaced when it or the scripts change, so it runs on every `up` that changes the members; a
 * failure stops the `up` before any member is removed. Egress: the members' client port only.
 */
function redisClusterShrinkJob(ctx: EngineContext, image: string, configMap: k8s.core.v1.ConfigMap, members: Peer,
    partOf: string, opts: pulumi.CustomResourceOptions): { job: k8s.batch.v1.Job; peer: Peer } {
    const key = `Database(${ctx.name}).clusterShrink`;
    const jobName = `${ctx.name}-cluster-shrink`;
    const identity = { name: jobName, app: "redis", component: "cluster-maintenance", partOf };
    const labels = standardLabels(identity);
    const selector = selectorLabels(identity);
    const metadata = { name: jobName, namespace: ctx.namespace, labels, annotations: OWNED_ANNOTATIONS };
    const sa = new k8s.core.v1.ServiceAccount(`${jobName}-sa`, { metadata, automountServiceAccountToken: false }, opts);
    const container: ContainerSpec = { ...redisClusterShrink(ctx, image), volumeMounts: [{ name: CONFIG_VOLUME, mountPath: CONFIG_DIR, readOnly: true }] };
    const job = new k8s.batch.v1.Job(jobName, {
        metadata: { ...metadata, name: `${jobName}-to-${ctx.replicas}` },
        spec: {
            backoffLimit: 2,
            activeDeadlineSeconds: 900,
            template: {
                metadata: { labels },
                spec: {
                    serviceAccountName: sa.metadata.name,
                    automountServiceAccountToken: false,
                    enableServiceLinks: false,
                    restartPolicy: "Never",
                    priorityClassName: priorityClassName(BATCH.priorityTier),
                    // No data of its own: the default high UID (redis-cli needs no account).
                    securityContext: podSecurityContext(key),
                    containers: [secureContainer(container, `${key}.container`, true, BATCH)],
                    volumes: [{ name: CONFIG_VOLUME, configMap: { name: configMap.metadata.name, defaultMode: 0o555 } }, ...containerVolumes([container], BATCH)],
                },
            },
        },
    }, { ...opts, deleteBeforeReplace: true });
    new k8s.networking.v1.NetworkPolicy(`${jobName}-netpol`, {
        metadata,
        spec: networkPolicySpec(selector, { ingress: [], egress: [{ peer: members, ports: [{ port: REDIS_PORT }] }] }),
    }, opts);
    return { job, peer: { kind: "pods", namespace: ctx.namespace, selector } };
}

/** The args of a Database built directly (no system's plan checked them), checked before anything registers. */
function validateDirectArgs(key: string, name: string, args: DatabaseArgs): DatabaseSpec {
    const spec = validateDatabaseArgs(key, name, args);
    if (args.snapshotRepository !== undefined) {
        if (spec.type !== "elasticsearch") {
            throw new ValidationError(`${key}.snapshotRepository`, `is set for ${spec.type}; allowed: elasticsearch only`);
        }
        if (!/^\/[A-Za-z0-9._/-]+$/.test(args.snapshotRepository.path)) {
            throw new ValidationError(`${key}.snapshotRepository.path`, `${JSON.stringify(args.snapshotRepository.path)} is not allowed; allowed: an absolute path`);
        }
    }
    if (Object.keys(args.initScripts ?? {}).length > 0 && !ENGINES[spec.type].initScriptsPath) {
        throw new ValidationError(`${key}.initScripts`, `${spec.type} runs no init scripts; allowed for: postgresql, mysql, mongodb`);
    }
    return spec;
}

export class Database extends pulumi.ComponentResource {
    public readonly type: DatabaseType;
    public readonly host: pulumi.Output<string>;
    /** Redis in sentinel mode: clients ask the sentinels for the primary. */
    public readonly sentinel: boolean;
    /** The ports clients need (the client port; Redis sentinel: also the sentinels'). */
    public readonly clientPorts: PortSpec[];
    /** Redis sentinel mode: the sentinels' endpoint (the client Service), their port and the primary's name. */
    public readonly sentinelHost: pulumi.Output<string | undefined>;
    public readonly sentinelPort: pulumi.Output<number | undefined>;
    public readonly masterName: pulumi.Output<string | undefined>;
    /** Read-only endpoint over every member (replicated postgresql, mysql, redis replication); "" otherwise. */
    public readonly readHost: pulumi.Output<string>;
    public readonly port: pulumi.Output<number>;
    public readonly secretName: pulumi.Output<string>;
    /** Full connection URL including the password: a secret output. */
    public readonly connectionUrl: pulumi.Output<string>;
    public readonly phase: pulumi.Output<DatabasePhase>;
    /** CRD-style conditions: Ready (True/False, reason, message), then the workload's own. */
    public readonly conditions: pulumi.Output<WorkloadCondition[]>;
    public readonly replicas: pulumi.Output<number>;
    public readonly readyReplicas: pulumi.Output<number>;
    public readonly version: pulumi.Output<string>;
    /** The database pods as a traffic peer. */
    public readonly peer: Peer;
    public readonly workload: Workload;

    constructor(name: string, args: DatabaseArgs | Checked<DatabaseArgs>, opts?: pulumi.ComponentResourceOptions) {
        // Checked once: where the config entered (a system's spec), or here for a Database built directly.
        const spec: DatabaseSpec = isChecked(args) ? args : validateDirectArgs(`Database(${name})`, name, args);
        super("platform:database:Database", name, {}, opts);
        const engine = ENGINES[spec.type];
        const version = spec.version ?? engine.defaultVersion;
        const replicas = spec.replicas ?? 1;
        const image = engine.image(version);
        const resources = spec.resources ?? engine.defaultResources;
        const username = spec.credentials?.username ?? engine.defaultUser;
        const databaseName = spec.databaseName ?? "app";
        const child = { parent: this };
        const labels = { ...standardLabels({ name, app: spec.type, component: "database", partOf: args.partOf ?? "database-service" }), ...(args.labels ?? {}) };
        this.type = spec.type;

        // Credentials: an existing Secret, or a generated password kept only in a Secret.
        let secretName: pulumi.Output<string>;
        let password: pulumi.Output<string> | undefined;
        const needsKeyfile = spec.type === "mongodb" && replicas > 1;
        if (spec.credentials?.existingSecret) {
            secretName = pulumi.output(spec.credentials.existingSecret);
        } else {
            const pw = new random.RandomPassword(`${name}-password`, { length: 32, special: false }, child);
            password = pw.result;
            const stringData: Record<string, pulumi.Input<string>> = {
                [SECRET_KEYS.username]: username,
                [SECRET_KEYS.password]: pw.result,
            };
            if (needsKeyfile) {
                stringData[SECRET_KEYS.keyfile] = new random.RandomPassword(`${name}-keyfile`, { length: 756, special: false }, child).result;
            }
            const secret = new k8s.core.v1.Secret(`${name}-credentials`, {
                metadata: { name: `${name}-credentials`, namespace: args.namespace, labels, annotations: OWNED_ANNOTATIONS },
                type: "Opaque",
                stringData,
            }, { ...child, additionalSecretOutputs: ["data", "stringData"] });
            secretName = secret.metadata.name;
        }
        this.secretName = secretName;

        const headless = `${name}-headless`;
        const ctx: EngineContext = {
            name, namespace: args.namespace, version, replicas, secretName, username, databaseName, headless,
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
            resources,
        };

        // Init scripts: the user's (replication needs none: its settings live in the config files).
        const scripts: Record<string, string> = { ...(args.initScripts ?? {}) };
        const volumes: k8s.types.input.core.v1.Volume[] = [];
        const engineContainer = engine.container(ctx);
        if (args.snapshotRepository) {
            // Elasticsearch registers filesystem repositories only under path.repo, on every node.
            volumes.push({ name: "snapshots", persistentVolumeClaim: { claimName: args.snapshotRepository.claimName } });
            engineContainer.env = [...(engineContainer.env ?? []), { name: "path.repo", value: args.snapshotRepository.path }];
        }
        const mounts: k8s.types.input.core.v1.VolumeMount[] = [...(engineContainer.volumeMounts ?? []), { name: "data", mountPath: engine.dataPath }];
        (engine.extraClaims ?? []).forEach(c => mounts.push({ name: c.name, mountPath: c.mountPath }));
        if (args.snapshotRepository) {
            mounts.push({ name: "snapshots", mountPath: args.snapshotRepository.path });
        }
        if (Object.keys(scripts).length > 0) {
            const cm = new k8s.core.v1.ConfigMap(`${name}-init`, {
                metadata: { name: `${name}-init`, namespace: args.namespace, labels, annotations: OWNED_ANNOTATIONS },
                data: scripts,
            }, child);
            volumes.push({ name: "init-scripts", configMap: { name: cm.metadata.name, defaultMode: 0o555 } });
            mounts.push({ name: "init-scripts", mountPath: engine.initScriptsPath!, readOnly: true });
        }
        // The engine's scripts and config files: content-named, so a change rolls the pods.
        const configFiles = engine.configFiles?.(ctx) ?? {};
        let configMap: k8s.core.v1.ConfigMap | undefined;
        if (Object.keys(configFiles).length > 0) {
            const cm = rollingConfigMap(`${name}-config`, { namespace: args.namespace, labels, data: configFiles }, child);
            configMap = cm;
            volumes.push({ name: CONFIG_VOLUME, configMap: { name: cm.metadata.name, defaultMode: 0o555 } });
            mounts.push({ name: CONFIG_VOLUME, mountPath: CONFIG_DIR, readOnly: true });
        }
        const initContainers: ContainerSpec[] = [];
        if (spec.type === "postgresql" && replicas > 1) {
            initContainers.push(postgresCloneStandby(ctx, image, resources));
        }
        if (needsKeyfile) {
            volumes.push({ name: "mongodb-keyfile-src", secret: { secretName, items: [{ key: SECRET_KEYS.keyfile, path: "keyfile" }], defaultMode: 0o400 } });
            volumes.push({ name: "mongodb-keyfile", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } });
            initContainers.push(mongoKeyfileInit(image, resources));
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
        const workloadDeps: pulumi.Resource[] = [];
        if (ctx.esTransportTls) {
            workloadDeps.push(esTransportCertificate(name, headless, replicas, args.namespace, labels, child));
            volumes.push({ name: ES_TLS_VOLUME, secret: { secretName: esTlsSecretName(name), defaultMode: 0o440 } });
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
        const enginePorts = [...engine.ports, ...(engine.extraPorts?.(ctx) ?? [])];
        const allPorts = [...enginePorts, ...(sentinel?.ports ?? [])];
        const ports: PortSpec[] = allPorts.map(p => ({ port: p.containerPort }));
        // Sentinel-aware clients ask a sentinel for the current primary, then connect to that member.
        const clientPorts: PortSpec[] = [{ port: engine.clientPort }, ...(sentinel ? [{ port: SENTINEL_PORT }] : [])];
        this.sentinel = !!sentinel;
        this.clientPorts = clientPorts;
        const identity = { name, app: spec.type, component: "database", partOf: args.partOf ?? "database-service", version };
        const self: Peer = { kind: "pods", namespace: args.namespace, selector: selectorLabels(identity) };
        const ingress: TrafficRule[] = (args.clients ?? []).map(peer => ({ peer, ports: clientPorts }));
        const egress: TrafficRule[] = [];
        if (replicas > 1) {
            // Members replicate among themselves on every engine port.
            ingress.push({ peer: self, ports });
            egress.push({ peer: self, ports });
        }

        if (spec.type === "redis" && ctx.redisMode === "cluster") {
            // Scale-down: members leave the cluster (slots moved, forgotten) before their pods go.
            const shrink = redisClusterShrinkJob(ctx, image, configMap!, self, args.partOf ?? "database-service", child);
            workloadDeps.push(shrink.job);
            ingress.push({ peer: shrink.peer, ports: [{ port: engine.clientPort }] });
        }

        const isSqlite = spec.type === "sqlite";
        const storageClass = spec.storage.storageClass;
        const claims: VolumeClaim[] = isSqlite ? [] : [
            { name: "data", size: spec.storage.size, storageClass },
            ...(engine.extraClaims ?? []).map(c => ({ name: c.name, size: spec.storage.configSize ?? CONFIG_SIZE_DEFAULT, storageClass })),
        ];
        if (isSqlite) {
            const pvc = new k8s.core.v1.PersistentVolumeClaim(`${name}-data`, {
                metadata: { name: `${name}-data`, namespace: args.namespace, labels },
                spec: {
                    accessModes: ["ReadWriteOnce"],
                    storageClassName: storageClass,
                    resources: { requests: { storage: spec.storage.size } },
                },
            }, { ...child, protect: args.protect, retainOnDelete: args.protect });
            volumes.push({ name: "data", persistentVolumeClaim: { claimName: pvc.metadata.name } });
        }

        this.workload = new Workload(`${name}`, {
            namespace: args.namespace,
            identity,
            extraLabels: args.labels,
            kind: isSqlite ? "Deployment" : "StatefulSet",
            replicas,
            uidException: engine.uidException,
            profile: engine.profile,
            containers: [{
                name: spec.type,
                image,
                ...engineContainer,
                ports: enginePorts,
                resources,
                volumeMounts: mounts,
            }, ...sidecars],
            initContainers,
            volumes,
            volumeClaims: claims,
            servicePorts: allPorts.map(p => ({ name: p.name, port: p.containerPort })),
            // Sentinel mode: the primary moves on failover, so no Service offers the data port (it
            // could route writes to a replica). The client Service is the sentinels' endpoint.
            clientServicePorts: sentinel ? [{ name: "sentinel", port: SENTINEL_PORT }] : undefined,
            // One writable primary that never moves (no automatic promotion): the write Service
            // targets ordinal 0, the read Service spans every member.
            primaryOnlyService: replicas > 1 && ["postgresql", "mysql", "redis"].includes(spec.type) && !["cluster", "sentinel"].includes(ctx.redisMode),
            readService: replicas > 1 && ["postgresql", "mysql", "redis"].includes(spec.type) && !["cluster", "sentinel"].includes(ctx.redisMode),
            traffic: { ingress, egress },
            recreate: isSqlite,
            protect: args.protect,
        }, { parent: this, ...(workloadDeps.length > 0 ? { dependsOn: workloadDeps } : {}) });

        this.peer = this.workload.peer;
        this.host = this.workload.host.apply(h => h ?? "");
        this.readHost = this.workload.readHost.apply(h => h ?? "");
        this.port = pulumi.output(sentinel ? SENTINEL_PORT : engine.clientPort);
        this.sentinelHost = sentinel ? this.host : pulumi.output(undefined);
        this.sentinelPort = pulumi.output(sentinel ? SENTINEL_PORT : undefined);
        this.masterName = pulumi.output(sentinel ? REDIS_MASTER_NAME : undefined);
        this.replicas = pulumi.output(replicas);
        this.readyReplicas = this.workload.readyReplicas.apply(r => r ?? 0);
        // From the StatefulSet/Deployment status the API server reported; with readiness probes that
        // mean "serving its role" (a MongoDB member is ready only as PRIMARY or SECONDARY).
        this.phase = this.workload.status.apply(st => workloadPhase(st));
        this.conditions = this.workload.status.apply(st => componentConditions([st]));
        this.version = pulumi.output(version);
        const replicaSet = spec.type === "mongodb" && replicas > 1 ? ctx.mongoReplicaSet : undefined;
        // A replica set's URL lists its members: the driver finds the primary among them.
        this.connectionUrl = pulumi.secret(pulumi.all([this.host, password ?? pulumi.output(undefined), pulumi.output(args.namespace)])
            .apply(([h, pw, ns]) => connectionUrl(spec.type, username, pw, replicaSet ? mongoMembers(ctx, ns).join(",") : h,
                sentinel ? SENTINEL_PORT : engine.clientPort, databaseName, replicaSet, !!sentinel)));

        this.registerOutputs({
            host: this.host, readHost: this.readHost, port: this.port,
            sentinelHost: this.sentinelHost, sentinelPort: this.sentinelPort, masterName: this.masterName, secretName: this.secretName, connectionUrl: this.connectionUrl,
            phase: this.phase, conditions: this.conditions, replicas: this.replicas, readyReplicas: this.readyReplicas, version: this.version,
        });
    }
}
