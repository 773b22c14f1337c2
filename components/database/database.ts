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
import { Workload } from "../k8s/workload";
import { rollingConfigMap } from "../k8s/config";
import { componentConditions, Phase, WorkloadCondition, workloadPhase } from "../k8s/status";
import {
    CONFIG_DIR, DatabaseType, EngineContext, ENGINES, esCertificateDnsNames, esTlsSecretName, mongoMembers, REDIS_MASTER_NAME, REDIS_PORT,
    redisClusterShrink, SECRET_KEYS, SENTINEL_PORT,
} from "./engines";
import { CONFIG_VOLUME, databaseContext, needsKeyfile, planDatabasePod, sqliteDbPath } from "./pod";
import { DatabaseSpec, validateDatabaseArgs } from "./spec";
import { dataClaim } from "../k8s/claim";

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

/** The SQLite file sqld keeps its (default namespace's) database in, under --db-path. */
export const SQLD_DATA_FILE = "dbs/default/data";

export { CONFIG_VOLUME, sqliteDbPath };

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
        const replicas = spec.replicas ?? 1;
        const child = { parent: this };
        const partOf = args.partOf ?? "database-service";
        const labels = { ...standardLabels({ name, app: spec.type, component: "database", partOf }), ...(args.labels ?? {}) };
        this.type = spec.type;

        // Credentials: an existing Secret, or a generated password kept only in a Secret.
        let secretName: pulumi.Output<string>;
        let password: pulumi.Output<string> | undefined;
        if (spec.credentials?.existingSecret) {
            secretName = pulumi.output(spec.credentials.existingSecret);
        } else {
            const pw = new random.RandomPassword(`${name}-password`, { length: 32, special: false }, child);
            password = pw.result;
            const stringData: Record<string, pulumi.Input<string>> = {
                [SECRET_KEYS.username]: spec.credentials?.username ?? engine.defaultUser,
                [SECRET_KEYS.password]: pw.result,
            };
            if (needsKeyfile(spec)) {
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
        const ctx = databaseContext(name, args.namespace, spec, secretName);

        // Init scripts: the user's (replication needs none: its settings live in the config files).
        const scripts = args.initScripts ?? {};
        const initScripts = Object.keys(scripts).length === 0 ? undefined : new k8s.core.v1.ConfigMap(`${name}-init`, {
            metadata: { name: `${name}-init`, namespace: args.namespace, labels, annotations: OWNED_ANNOTATIONS },
            data: { ...scripts },
        }, child);
        // The engine's scripts and config files: content-named, so a change rolls the pods.
        const configFiles = engine.configFiles?.(ctx) ?? {};
        const configMap = Object.keys(configFiles).length === 0 ? undefined
            : rollingConfigMap(`${name}-config`, { namespace: args.namespace, labels, data: configFiles }, child);
        const workloadDeps: pulumi.Resource[] = [];
        if (ctx.esTransportTls) {
            workloadDeps.push(esTransportCertificate(name, ctx.headless, replicas, args.namespace, labels, child));
        }

        const identity = { name, app: spec.type, component: "database", partOf, version: ctx.version };
        const self: Peer = { kind: "pods", namespace: args.namespace, selector: selectorLabels(identity) };
        const extraIngress: TrafficRule[] = [];
        if (spec.type === "redis" && ctx.redisMode === "cluster") {
            // Scale-down: members leave the cluster (slots moved, forgotten) before their pods go.
            const shrink = redisClusterShrinkJob(ctx, engine.image(ctx.version), configMap!, self, partOf, child);
            workloadDeps.push(shrink.job);
            extraIngress.push({ peer: shrink.peer, ports: [{ port: engine.clientPort }] });
        }
        const isSqlite = spec.type === "sqlite";
        const sqliteClaim = !isSqlite ? undefined : dataClaim(`${name}-data`, {
            name: `${name}-data`, namespace: args.namespace, labels, accessMode: "ReadWriteOnce",
            storageClass: spec.storage.storageClass, size: spec.storage.size, protect: args.protect,
        }, child);

        const pod = planDatabasePod(spec, ctx, {
            secretName, initScripts: initScripts?.metadata.name, config: configMap?.metadata.name, sqliteClaim: sqliteClaim?.metadata.name,
        }, args.snapshotRepository);
        this.sentinel = pod.sentinel;
        this.clientPorts = pod.clientPorts;
        // Only the declared clients, on the client ports; members replicate among themselves on every engine port.
        const ingress: TrafficRule[] = [...(args.clients ?? []).map(peer => ({ peer, ports: pod.clientPorts }))];
        const egress: TrafficRule[] = [];
        if (replicas > 1) {
            ingress.push({ peer: self, ports: pod.memberPorts });
            egress.push({ peer: self, ports: pod.memberPorts });
        }
        ingress.push(...extraIngress);
        // One writable primary that never moves (no automatic promotion): the write Service targets
        // ordinal 0, the read Service spans every member.
        const fixedPrimary = replicas > 1 && ["postgresql", "mysql", "redis"].includes(spec.type) && !["cluster", "sentinel"].includes(ctx.redisMode);

        this.workload = new Workload(`${name}`, {
            namespace: args.namespace,
            identity,
            extraLabels: args.labels,
            kind: isSqlite ? "Deployment" : "StatefulSet",
            replicas,
            uidException: engine.uidException,
            profile: engine.profile,
            containers: pod.containers,
            initContainers: pod.initContainers,
            volumes: pod.volumes,
            volumeClaims: pod.claims,
            servicePorts: pod.servicePorts.map(p => ({ name: p.name, port: p.containerPort })),
            // Sentinel mode: the primary moves on failover, so no Service offers the data port (it
            // could route writes to a replica). The client Service is the sentinels' endpoint.
            clientServicePorts: pod.sentinel ? [{ name: "sentinel", port: SENTINEL_PORT }] : undefined,
            primaryOnlyService: fixedPrimary,
            readService: fixedPrimary,
            traffic: { ingress, egress },
            recreate: isSqlite,
            protect: args.protect,
        }, { parent: this, ...(workloadDeps.length > 0 ? { dependsOn: workloadDeps } : {}) });

        this.peer = this.workload.peer;
        this.host = this.workload.host.apply(h => h ?? "");
        this.readHost = this.workload.readHost.apply(h => h ?? "");
        const sentinel = pod.sentinel;
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
        this.version = pulumi.output(ctx.version);
        const replicaSet = spec.type === "mongodb" && replicas > 1 ? ctx.mongoReplicaSet : undefined;
        // A replica set's URL lists its members: the driver finds the primary among them.
        this.connectionUrl = pulumi.secret(pulumi.all([this.host, password ?? pulumi.output(undefined), pulumi.output(args.namespace)])
            .apply(([h, pw, ns]) => connectionUrl(spec.type, ctx.username, pw, replicaSet ? mongoMembers(ctx, ns).join(",") : h,
                sentinel ? SENTINEL_PORT : engine.clientPort, ctx.databaseName, replicaSet, sentinel)));

        this.registerOutputs({
            host: this.host, readHost: this.readHost, port: this.port,
            sentinelHost: this.sentinelHost, sentinelPort: this.sentinelPort, masterName: this.masterName, secretName: this.secretName, connectionUrl: this.connectionUrl,
            phase: this.phase, conditions: this.conditions, replicas: this.replicas, readyReplicas: this.readyReplicas, version: this.version,
        });
    }
}
