/**
 * DatabaseBackup (greenfield-cluster.md "Backup Strategy": regular pg_dump, mysqldump, mongodump):
 * a CronJob per database that dumps into a backup claim and keeps the newest N dumps, and a
 * suspended `<name>-restore` CronJob: the template of the restore Job an operator creates with
 * `kubectl create job --from=cronjob/<name>-restore` (newest dump, or the one named in DUMP).
 *
 * Besides the dump tools: Redis in sentinel mode (`sentinelMaster`: the sentinels are asked for the
 * current primary), Elasticsearch (snapshots into a filesystem repository on the backup claim,
 * which the nodes mount at ES_SNAPSHOT_DIR as their `path.repo`; the Jobs only call the API) and
 * SQLite (`sqlite`: the database's own claim mounted beside the server, `sqlite3 .backup`).
 *
 * The Workload building block runs Deployments and StatefulSets only, so the CronJobs are assembled
 * here from the same secure defaults (secureContainer, containerVolumes, the pod security context
 * Workload uses) and their NetworkPolicy from networkPolicySpec with the rules the system's traffic
 * plan gives the backup endpoint (backup pods -> the store's port, nothing in).
 * The database's credentials reach the scripts as files (components/k8s/credentials.ts), never as env.
 */
import * as fs from "fs";
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { BATCH, KUBE_SCORE_IGNORE_ANNOTATION, priorityClassName, UID_EXCEPTION_ANNOTATION, UidException } from "../k8s/profile";
import { ContainerSpec, containerVolumes, podSecurityContext, ResourceSpec, secureContainer, validateContainer, validateResources } from "../k8s/container";
import { fileEnv, secretFiles } from "../k8s/credentials";
import { AppIdentity, selectorLabels, standardLabels } from "../k8s/labels";
import { rollingConfigMap } from "../k8s/config";
import { OWNED_ANNOTATIONS } from "../k8s/metadata";
import { Endpoint, networkPolicySpec, Peer, PortSpec, TrafficPlan, WorkloadTraffic } from "../k8s/traffic";
import { Checked, isChecked, requireDnsLabel, requireIntInRange, requireNonEmptyString, requireOneOf, requireQuantity, ValidationError } from "../k8s/validation";
import { requireCronSchedule } from "./cron";
import { BACKUP_RESOURCES } from "./policy";
import { dataClaim } from "../k8s/claim";

export const BACKUP_ENGINES = ["postgresql", "mysql", "mongodb", "redis", "elasticsearch", "sqlite"] as const;
export type BackupEngine = typeof BACKUP_ENGINES[number];

/** Keys of the database Secret (as components/database writes it). */
export const CREDENTIAL_KEYS = { username: "username", password: "password" } as const;

/** Where dumps are written (the backup claim). */
export const BACKUP_DIR = "/backups";

interface EngineBackup {
    /** Same pinned images the Database component runs, so client and server versions match. */
    image: string;
    extension: string;
}

export const BACKUP_ENGINE_DEFS: Record<BackupEngine, EngineBackup> = {
    postgresql: { image: "postgres:16.4", extension: "dump" },
    mysql: { image: "mysql:8.4.2", extension: "sql" },
    mongodb: { image: "mongo:7.0.14", extension: "archive.gz" },
    // An RDB snapshot (redis-cli --rdb); the restore loads it into a pod-local redis-server of the same image.
    redis: { image: "redis:7.2.5", extension: "rdb" },
    // Snapshots are written by Elasticsearch itself; the Jobs need curl (the node image has it).
    elasticsearch: { image: "docker.elastic.co/elasticsearch/elasticsearch:8.15.0", extension: "snapshot" },
    // The sqlite3 shell (online backup API); the server image (sqld) has none.
    sqlite: { image: "keinos/sqlite3:3.46.1", extension: "db" },
};

/** Where every Elasticsearch node mounts the backup claim (its `path.repo`): the snapshot repository. */
export const ES_SNAPSHOT_DIR = "/usr/share/elasticsearch/snapshots";

/** Where the `<name>-scripts` ConfigMap (the engine's scripts of components/backup/scripts/) is mounted. */
export const BACKUP_SCRIPT_DIR = "/etc/backup";

const script = (file: string): string => fs.readFileSync(path.join(__dirname, "scripts", file), "utf8");

/** The dump engines' scripts of components/backup/scripts/, as the ConfigMap carries them. */
export const BACKUP_SCRIPTS: Readonly<Record<string, string>> = Object.freeze({
    "backup.sh": script("backup.sh"),
    "restore.sh": script("restore.sh"),
    "redis-primary.sh": script("redis-primary.sh"),
});

/** Elasticsearch's scripts (snapshot API calls), as the ConfigMap carries them. */
export const ES_BACKUP_SCRIPTS: Readonly<Record<string, string>> = Object.freeze({
    "es-snapshot.sh": script("es-snapshot.sh"),
    "es-restore.sh": script("es-restore.sh"),
    "es-api.sh": script("es-api.sh"),
});

/** The scripts an engine's backup and restore run: [backup, restore, the ConfigMap's files]. */
export function backupScripts(engine: BackupEngine): [string, string, Readonly<Record<string, string>>] {
    return engine === "elasticsearch" ? ["es-snapshot.sh", "es-restore.sh", ES_BACKUP_SCRIPTS] : ["backup.sh", "restore.sh", BACKUP_SCRIPTS];
}

/** SQLite: the database's claim, where the pods mount it, the file, and the server's pods (the claim is ReadWriteOnce). */
export interface SqliteSource {
    /** The database's data claim (mounted read-write: SQLite's locks and WAL index live beside the file). */
    claimName: pulumi.Input<string>;
    /** Where the server mounts it (the same path here). */
    mountPath: string;
    /** The SQLite file under mountPath. */
    file: string;
    /** Labels of the server's pod: backup pods run on its node (a ReadWriteOnce claim is attached to one node). */
    serverSelector: Record<string, string>;
    /** The server image's UID, which owns the files. */
    uidException: UidException;
}

export interface DatabaseBackupArgs {
    /** Namespace of the database: its Secret is mounted as files, and a Secret volume is namespace-local. */
    namespace: pulumi.Input<string>;
    engine: BackupEngine;
    /** Database host (Service DNS name), port and database name to dump. */
    host: pulumi.Input<string>;
    port: number;
    databaseName: string;
    /** MongoDB with more than one member: the replica set's name (dumps and restores go through the primary). */
    replicaSet?: string;
    /** Redis in sentinel mode: host and port are the sentinels', this the primary's name they monitor. */
    sentinelMaster?: string;
    /** SQLite: the database file on its own claim (no network: the traffic rules are empty). */
    sqlite?: SqliteSource;
    /** Access mode of the backup claim: ReadWriteMany when several pods mount it (a multi-node Elasticsearch repository). */
    accessMode?: "ReadWriteOnce" | "ReadWriteMany";
    /** Secret with keys "username" and "password" (the Database's, or a dedicated read-only backup user's). */
    secretName: pulumi.Input<string>;
    /**
     * The backup endpoint's rules from the system's traffic plan (backupTraffic / planBackupFlow):
     * egress to the database pods on its port, no ingress. The restore pods share them.
     */
    traffic: WorkloadTraffic;
    /** Cron schedule, e.g. "0 2 * * *" (daily at 02:00). */
    schedule: string;
    /** IANA time zone of the schedule (default: the controller's, usually UTC). */
    timeZone?: string;
    /** How many dumps to keep (the newest N). */
    retention: number;
    storage: { size: string; storageClass?: pulumi.Input<string> };
    successfulJobsHistoryLimit?: number;
    failedJobsHistoryLimit?: number;
    /** Seconds a run may take before it is killed (default 3600). */
    activeDeadlineSeconds?: number;
    backoffLimit?: number;
    /** Seconds after the scheduled time a missed run may still start (default 600). */
    startingDeadlineSeconds?: number;
    suspend?: boolean;
    image?: string;
    resources?: ResourceSpec;
    partOf?: string;
    /** Keep the backup claim through `pulumi destroy` (prod). */
    protect?: boolean;
}

const DEFAULT_RESOURCES: ResourceSpec = BACKUP_RESOURCES;

export function validateDatabaseBackup(key: string, a: DatabaseBackupArgs): void {
    requireOneOf(`${key}.engine`, a.engine, BACKUP_ENGINES);
    requireIntInRange(`${key}.port`, a.port, 1, 65535);
    if (typeof a.databaseName !== "string" || !/^[A-Za-z_][A-Za-z0-9_-]{0,62}$/.test(a.databaseName)) {
        throw new ValidationError(`${key}.databaseName`, `${JSON.stringify(a.databaseName)} is not allowed; allowed: letters, digits, '_' and '-', starting with a letter or '_'`);
    }
    if (a.replicaSet !== undefined) {
        if (a.engine !== "mongodb") {
            throw new ValidationError(`${key}.replicaSet`, `is set for ${a.engine}; allowed: mongodb only`);
        }
        requireDnsLabel(`${key}.replicaSet`, a.replicaSet, 63);
    }
    if (typeof a.host === "string") {
        requireNonEmptyString(`${key}.host`, a.host);
    }
    if (typeof a.secretName === "string") {
        requireDnsLabel(`${key}.secretName`, a.secretName, 253);
    }
    if (a.sentinelMaster !== undefined) {
        if (a.engine !== "redis") {
            throw new ValidationError(`${key}.sentinelMaster`, `is set for ${a.engine}; allowed: redis only`);
        }
        requireDnsLabel(`${key}.sentinelMaster`, a.sentinelMaster, 63);
    }
    if ((a.engine === "sqlite") !== (a.sqlite !== undefined)) {
        throw new ValidationError(`${key}.sqlite`, a.engine === "sqlite" ? "missing; allowed: the database's claim, mount path, file and server selector" : `is set for ${a.engine}; allowed: sqlite only`);
    }
    if (a.accessMode !== undefined) {
        requireOneOf(`${key}.accessMode`, a.accessMode, ["ReadWriteOnce", "ReadWriteMany"] as const);
    }
    const t = a.traffic;
    if (a.engine === "sqlite") {
        // The file is read on the claim: the pods talk to nobody.
        if (!t || !Array.isArray(t.ingress) || !Array.isArray(t.egress) || t.egress.length > 0 || t.ingress.length > 0) {
            throw new ValidationError(`${key}.traffic`, "allowed: no ingress and no egress (sqlite is backed up from its claim)");
        }
    } else if (!t || !Array.isArray(t.ingress) || !Array.isArray(t.egress) || t.egress.length === 0
        || t.egress.some(r => r.peer.kind !== "pods" || !r.ports.some(p => p.port === a.port))) {
        throw new ValidationError(`${key}.traffic`,
            `allowed: the backup endpoint's rules from the traffic plan, egress to the database pods on port ${a.port} (planBackupFlow)`);
    }
    if (t.ingress.length > 0) {
        throw new ValidationError(`${key}.traffic.ingress`, "allowed: none (nothing connects to backup or restore pods)");
    }
    requireCronSchedule(`${key}.schedule`, a.schedule);
    if (a.timeZone !== undefined && (typeof a.timeZone !== "string" || !/^(UTC|[A-Za-z_]+(\/[A-Za-z0-9_+-]+)+)$/.test(a.timeZone))) {
        throw new ValidationError(`${key}.timeZone`, `${JSON.stringify(a.timeZone)} is not allowed; allowed: an IANA time zone such as Etc/UTC or Europe/Berlin`);
    }
    requireIntInRange(`${key}.retention`, a.retention, 1, 366);
    requireQuantity(`${key}.storage.size`, a.storage?.size, "storage");
    if (a.successfulJobsHistoryLimit !== undefined) {
        requireIntInRange(`${key}.successfulJobsHistoryLimit`, a.successfulJobsHistoryLimit, 0, 10);
    }
    if (a.failedJobsHistoryLimit !== undefined) {
        requireIntInRange(`${key}.failedJobsHistoryLimit`, a.failedJobsHistoryLimit, 0, 10);
    }
    if (a.activeDeadlineSeconds !== undefined) {
        requireIntInRange(`${key}.activeDeadlineSeconds`, a.activeDeadlineSeconds, 60, 86400);
    }
    if (a.backoffLimit !== undefined) {
        requireIntInRange(`${key}.backoffLimit`, a.backoffLimit, 0, 10);
    }
    if (a.startingDeadlineSeconds !== undefined) {
        requireIntInRange(`${key}.startingDeadlineSeconds`, a.startingDeadlineSeconds, 10, 86400);
    }
    if (a.resources !== undefined) {
        validateResources(`${key}.resources`, a.resources);
    }
}

/** The identity of a backup's pods (the backup and the restore Jobs share it). */
export function backupIdentity(name: string, partOf = "database-service"): AppIdentity {
    return { name, app: "backup", component: "backup", partOf };
}

/** The backup pods as a traffic peer, known from the name before they exist (the database lists it as a client). */
export function backupPeer(name: string, namespace: pulumi.Input<string>, partOf = "database-service"): Peer {
    return { kind: "pods", namespace, selector: selectorLabels(backupIdentity(name, partOf)) };
}

/**
 * Declares the flow "backup pods -> the store's port" in a system's traffic plan; the returned
 * endpoint's rules (plan.rulesFor) are the DatabaseBackup's `traffic`.
 */
export function planBackupFlow(plan: TrafficPlan, name: string, namespace: pulumi.Input<string>, partOf: string,
    store: Endpoint, ports: PortSpec[]): Endpoint {
    const endpoint: Endpoint = { id: `${partOf}/${name}`, peer: backupPeer(name, namespace, partOf) };
    plan.allow(endpoint, store, ports);
    return endpoint;
}

/** Name of the suspended CronJob the restore Jobs are created from. */
export const restoreName = (name: string): string => `${name}-restore`;

/** Label telling backup pods from restore pods (both carry the backup's selector labels). */
export const BACKUP_ACTION_LABEL = "platform.io/backup-action";

export class DatabaseBackup extends pulumi.ComponentResource {
    public readonly cronJobName: pulumi.Output<string>;
    public readonly claimName: pulumi.Output<string>;
    public readonly schedule: pulumi.Output<string>;
    public readonly retention: pulumi.Output<number>;
    /** The suspended CronJob restore Jobs are created from (`kubectl create job --from=cronjob/<it>`). */
    public readonly restoreCronJobName: pulumi.Output<string>;
    /** The backup pods as a traffic peer: add it to the database's clients. */
    public readonly peer: Peer;

    constructor(name: string, args: DatabaseBackupArgs | Checked<DatabaseBackupArgs>, opts?: pulumi.ComponentResourceOptions) {
        const key = `DatabaseBackup(${name})`;
        // CronJob names are limited to 52 characters (the controller appends a timestamp to Job
        // names); the restore CronJob adds "-restore".
        // Checked once: where the config entered (a system's backup policy), or here for a backup built directly.
        if (!isChecked(args)) {
            requireDnsLabel(`${key}.name`, name, 44);
            validateDatabaseBackup(key, args);
        }
        const engine = BACKUP_ENGINE_DEFS[args.engine];
        const [backupScript, restoreScript, scriptFiles] = backupScripts(args.engine);
        const isEs = args.engine === "elasticsearch";
        const sqlite = args.sqlite;
        // SQLite has no credentials; everything else reads the database Secret's files.
        const credentials = sqlite ? undefined : secretFiles("db-credentials", args.secretName, [CREDENTIAL_KEYS.username, CREDENTIAL_KEYS.password]);
        const container: ContainerSpec = {
            name: "backup",
            image: args.image ?? engine.image,
            command: ["/bin/sh", `${BACKUP_SCRIPT_DIR}/${backupScript}`],
            env: [
                { name: "ENGINE", value: args.engine },
                // Elasticsearch writes its snapshots itself: the claim is the nodes' repository, not mounted here.
                ...(isEs
                    ? [{ name: "REPOSITORY", value: name }, { name: "SNAPSHOT_DIR", value: ES_SNAPSHOT_DIR }]
                    : [{ name: "BACKUP_DIR", value: BACKUP_DIR }]),
                { name: "SCRATCH_DIR", value: "/tmp" },
                ...(sqlite
                    ? [{ name: "DB_FILE", value: `${sqlite.mountPath}/${sqlite.file}` }]
                    : [{ name: "DB_HOST", value: args.host }, { name: "DB_PORT", value: String(args.port) }]),
                { name: "DB_NAME", value: args.databaseName },
                { name: "KEEP", value: String(args.retention) },
                ...(args.replicaSet !== undefined ? [{ name: "DB_REPLICA_SET", value: args.replicaSet }] : []),
                ...(args.sentinelMaster !== undefined ? [{ name: "DB_SENTINEL_MASTER", value: args.sentinelMaster }] : []),
                { name: "HOME", value: "/tmp" },
                ...(credentials ? [
                    fileEnv("DB_USER_FILE", credentials, CREDENTIAL_KEYS.username),
                    fileEnv("DB_PASSWORD_FILE", credentials, CREDENTIAL_KEYS.password),
                ] : []),
            ],
            secretFiles: credentials ? [credentials] : [],
            resources: args.resources ?? DEFAULT_RESOURCES,
            volumeMounts: [
                ...(isEs ? [] : [{ name: "backups", mountPath: BACKUP_DIR }]),
                ...(sqlite ? [{ name: "database", mountPath: sqlite.mountPath }] : []),
                { name: "scripts", mountPath: BACKUP_SCRIPT_DIR, readOnly: true },
            ],
        };
        // A run-to-completion container: pinned image and resources, no probes.
        validateContainer(container, `${key}.container`, true);
        const restoreContainer: ContainerSpec = {
            ...container,
            name: "restore",
            command: ["/bin/sh", `${BACKUP_SCRIPT_DIR}/${restoreScript}`],
            env: [...container.env!, { name: "DUMP", value: "" }],
        };
        validateContainer(restoreContainer, `${key}.restoreContainer`, true);
        super("platform:backup:DatabaseBackup", name, {}, opts);
        const child = { parent: this };

        const identity = backupIdentity(name, args.partOf);
        const labels = standardLabels(identity);
        const podLabels = { ...labels, "platform.io/backup-engine": args.engine };
        const jobPodLabels = (action: "backup" | "restore") => ({ ...podLabels, [BACKUP_ACTION_LABEL]: action });
        const selector = selectorLabels(identity);
        const metadata = { name, namespace: args.namespace, labels, annotations: OWNED_ANNOTATIONS };
        // SQLite's pods run as the server's UID (the files' owner), visible on the CronJobs as on a Workload.
        const cronMetadata = sqlite ? {
            ...metadata,
            annotations: {
                ...OWNED_ANNOTATIONS,
                [UID_EXCEPTION_ANNOTATION]: `uid ${sqlite.uidException.uid}: ${sqlite.uidException.reason}`,
                [KUBE_SCORE_IGNORE_ANNOTATION]: "container-security-context-user-group-id",
            },
        } : metadata;
        this.peer = { kind: "pods", namespace: args.namespace, selector };

        const sa = new k8s.core.v1.ServiceAccount(`${name}-sa`, { metadata, automountServiceAccountToken: false }, child);
        const pvc = dataClaim(`${name}-storage`, {
            name: `${name}-storage`, namespace: args.namespace, labels, accessMode: args.accessMode ?? "ReadWriteOnce",
            storageClass: args.storage.storageClass, size: args.storage.size, protect: args.protect,
        }, child);

        // Content-named: a changed script rolls into the next run.
        const scripts = rollingConfigMap(`${name}-scripts`, { namespace: args.namespace, labels, data: { ...scriptFiles } }, child);
        // SQLite: the backup runs on the server's node (the claim is attached there); a restore runs
        // while the server is stopped, so anywhere.
        const onServerNode = (action: "backup" | "restore"): k8s.types.input.core.v1.Affinity | undefined => sqlite && action === "backup" ? {
            podAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: sqlite.serverSelector }, topologyKey: "kubernetes.io/hostname" }],
            },
        } : undefined;
        const podSpec = (c: ContainerSpec, action: "backup" | "restore"): k8s.types.input.core.v1.PodSpec => ({
            serviceAccountName: sa.metadata.name,
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            restartPolicy: "Never",
            priorityClassName: priorityClassName(BATCH.priorityTier),
            // The dump tools need no account of the image: the default high UID; fsGroup makes the
            // backup claim (and dumps an earlier UID wrote) group-writable for it. SQLite: the
            // server's UID, which owns the database files.
            securityContext: podSecurityContext(key, sqlite?.uidException),
            affinity: onServerNode(action),
            containers: [secureContainer(c, `${key}.container`, true, BATCH)],
            volumes: [
                ...(isEs ? [] : [{ name: "backups", persistentVolumeClaim: { claimName: pvc.metadata.name } }]),
                ...(sqlite ? [{ name: "database", persistentVolumeClaim: { claimName: sqlite.claimName } }] : []),
                { name: "scripts", configMap: { name: scripts.metadata.name, defaultMode: 0o555 } },
                ...containerVolumes([c], BATCH),
            ],
        });
        const cronJob = new k8s.batch.v1.CronJob(`${name}-cronjob`, {
            metadata: cronMetadata,
            spec: {
                schedule: args.schedule,
                timeZone: args.timeZone,
                concurrencyPolicy: "Forbid",
                suspend: args.suspend ?? false,
                startingDeadlineSeconds: args.startingDeadlineSeconds ?? 600,
                successfulJobsHistoryLimit: args.successfulJobsHistoryLimit ?? 3,
                failedJobsHistoryLimit: args.failedJobsHistoryLimit ?? 1,
                jobTemplate: {
                    metadata: { labels },
                    spec: {
                        backoffLimit: args.backoffLimit ?? 2,
                        activeDeadlineSeconds: args.activeDeadlineSeconds ?? 3600,
                        template: { metadata: { labels: jobPodLabels("backup") }, spec: podSpec(container, "backup") },
                    },
                },
            },
        }, child);

        // The restore template: never scheduled (suspended); Jobs are created from it by hand.
        // Same image, credentials, claim and network access; restore.sh instead of backup.sh; a
        // single attempt, so a failed restore is reported, not retried over a half-restored database.
        const restoreCronJob = new k8s.batch.v1.CronJob(`${name}-restore-cronjob`, {
            metadata: { ...cronMetadata, name: restoreName(name) },
            spec: {
                schedule: args.schedule,
                timeZone: args.timeZone,
                concurrencyPolicy: "Forbid",
                suspend: true,
                // Never scheduled; set so a template resumed by mistake cannot start a run it missed long ago.
                startingDeadlineSeconds: args.startingDeadlineSeconds ?? 600,
                successfulJobsHistoryLimit: 1,
                failedJobsHistoryLimit: 1,
                jobTemplate: {
                    metadata: { labels },
                    spec: {
                        backoffLimit: 0,
                        activeDeadlineSeconds: args.activeDeadlineSeconds ?? 3600,
                        template: { metadata: { labels: jobPodLabels("restore") }, spec: podSpec(restoreContainer, "restore") },
                    },
                },
            },
        }, child);

        new k8s.networking.v1.NetworkPolicy(`${name}-netpol`, {
            metadata,
            spec: networkPolicySpec(selector, args.traffic),
        }, child);

        this.cronJobName = cronJob.metadata.name;
        this.claimName = pvc.metadata.name;
        this.schedule = pulumi.output(args.schedule);
        this.retention = pulumi.output(args.retention);
        this.restoreCronJobName = restoreCronJob.metadata.name;
        this.registerOutputs({
            cronJobName: this.cronJobName, claimName: this.claimName, schedule: this.schedule, retention: this.retention,
            restoreCronJobName: this.restoreCronJobName,
        });
    }
}
