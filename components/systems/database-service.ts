/**
 * DatabaseService: the database operator system of database-operator.md. A namespace with its
 * baseline, the operator's RBAC as a deployer identity, one Database per instance (status per
 * database), and, where enabled, a backup CronJob (and its restore template) per database:
 * dumps of PostgreSQL, MySQL, MongoDB and Redis (standalone, or sentinel mode through the primary
 * the sentinels name), Elasticsearch snapshots into a repository on the backup claim, and SQLite
 * copies with SQLite's backup API.
 */
import * as pulumi from "@pulumi/pulumi";
import { BACKUP_ENGINES, backupPeer, DatabaseBackup, ES_SNAPSHOT_DIR, planBackupFlow, SqliteSource } from "../backup/backup";
import { Database, DATABASE_DEPLOYER_RULES, DatabasePhase, SQLD_DATA_FILE, sqliteDbPath } from "../database/database";
import { DatabaseSpec, validateDatabaseSpec } from "../database/spec";
import { BackupPolicy, validateBackupPolicy } from "../backup/policy";
import { requireDnsLabel, ValidationError } from "../k8s/validation";
import { LimitRangeSpec, NamespaceBaseline, QuotaSpec, validateLimitRange, validateQuota } from "../k8s/namespace";
import { DeployerIdentity } from "../k8s/rbac";
import { Peer, TrafficPlan } from "../k8s/traffic";
import { ENGINES, REDIS_MASTER_NAME, SENTINEL_PORT } from "../database/engines";

export const DATABASE_SERVICE_PART_OF = "database-service";

export type { BackupPolicy };

export interface DatabaseServiceArgs {
    namespace: string;
    quota: QuotaSpec;
    limits: LimitRangeSpec;
    instances: { name: string; spec: DatabaseSpec }[];
    /** Who may connect to every database (e.g. the RestAPI repository). */
    clients?: Peer[];
    /** Backups of every instance that isDumpable (off in dev, on in prod). */
    backups?: BackupPolicy;
    storageClass?: string;
    protect?: boolean;
}

export interface DatabaseStatus {
    type: string;
    host: pulumi.Output<string>;
    port: pulumi.Output<number>;
    secretName: pulumi.Output<string>;
    connectionUrl: pulumi.Output<string>;
    phase: pulumi.Output<DatabasePhase>;
    replicas: pulumi.Output<number>;
    readyReplicas: pulumi.Output<number>;
    backupSchedule?: pulumi.Output<string>;
}

/** Checks everything before anything is registered. */
export function validateDatabaseServiceArgs(key: string, args: DatabaseServiceArgs): void {
    requireDnsLabel(`${key}.namespace`, args.namespace, 63);
    validateQuota(`${key}.quota`, args.quota);
    validateLimitRange(`${key}.limits`, args.limits);
    const seen = new Set<string>();
    for (const { name, spec } of args.instances) {
        requireDnsLabel(`${key}.instances.${name}`, name, 40);
        if (seen.has(name)) {
            throw new ValidationError(`${key}.instances.${name}`, "declared twice; allowed: unique instance names");
        }
        seen.add(name);
        validateDatabaseSpec(`${key}.instances.${name}`, spec);
    }
    if (args.backups) {
        for (const { name, spec } of args.instances) {
            if (isDumpable(spec) && backupName(name).length > 44) {
                throw new ValidationError(`${key}.instances.${name}`,
                    `is too long for its backup CronJobs (${backupName(name)}-restore must fit 52 characters); allowed: at most 37 characters with backups on`);
            }
        }
        validateBackupPolicy(`${key}.backups`, args.backups);
    }
}

/**
 * Whether an instance gets a backup: PostgreSQL, MySQL, MongoDB, Elasticsearch, SQLite, and Redis
 * standalone (one member) or in sentinel mode (the sentinels name the primary to dump and restore).
 * Not Redis replication with replicas (no sentinel says which member to restore into) nor cluster
 * mode (the keyspace is split over the masters).
 */
export function isDumpable(spec: DatabaseSpec): boolean {
    if (spec.type === "redis") {
        const mode = spec.redis?.mode ?? "standalone";
        return mode === "sentinel" || (mode === "standalone" && (spec.replicas ?? 1) === 1);
    }
    return (BACKUP_ENGINES as readonly string[]).includes(spec.type);
}

/** Name of the backup CronJob of a database. */
export const backupName = (db: string): string => `${db}-backup`;

export class DatabaseService extends pulumi.ComponentResource {
    public readonly namespace: pulumi.Output<string>;
    public readonly deployerServiceAccount: pulumi.Output<string>;
    public readonly databases: Record<string, DatabaseStatus> = {};
    /** The database pods, by instance name, as traffic peers. */
    public readonly peers: Record<string, Peer> = {};
    /** The backup flows (backup pods -> the database they dump). */
    public readonly trafficPlan = new TrafficPlan();

    constructor(name: string, args: DatabaseServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        validateDatabaseServiceArgs(`DatabaseService(${name})`, args);
        super("platform:systems:DatabaseService", name, {}, opts);
        const child = { parent: this };
        const baseline = new NamespaceBaseline(args.namespace, {
            name: args.namespace, quota: args.quota, limits: args.limits, holdsProtectedData: args.protect,
        }, child);
        const ns = baseline.name;
        this.namespace = ns;

        const deployer = new DeployerIdentity(`${name}-deployer`, {
            namespace: ns, design: "database", rules: DATABASE_DEPLOYER_RULES, partOf: DATABASE_SERVICE_PART_OF,
        }, child);
        this.deployerServiceAccount = deployer.serviceAccountName;

        for (const { name: db, spec } of args.instances) {
            const dumpable = isDumpable(spec) && args.backups !== undefined;
            const isSqlite = spec.type === "sqlite";
            // The backup's pods are a client like any other; their peer is known before they exist.
            // SQLite's read the file on the claim: no connection.
            const bkPeer = backupPeer(backupName(db), ns, DATABASE_SERVICE_PART_OF);
            const sentinel = spec.type === "redis" && spec.redis?.mode === "sentinel";
            // Elasticsearch writes snapshots into the backup claim, mounted on every node (path.repo).
            const snapshots = dumpable && spec.type === "elasticsearch";
            const database = new Database(db, {
                ...spec,
                namespace: ns,
                partOf: DATABASE_SERVICE_PART_OF,
                clients: [...(args.clients ?? []), ...(dumpable && !isSqlite ? [bkPeer] : [])],
                protect: args.protect,
                ...(snapshots ? { snapshotRepository: { claimName: `${backupName(db)}-storage`, path: ES_SNAPSHOT_DIR } } : {}),
            }, child);
            this.peers[db] = database.peer;
            let backupSchedule: pulumi.Output<string> | undefined;
            if (dumpable && args.backups) {
                const engine = ENGINES[spec.type];
                // Redis sentinel mode: the sentinels' port (they name the primary) and the data port.
                const port = sentinel ? SENTINEL_PORT : engine.clientPort;
                const store = { id: `${DATABASE_SERVICE_PART_OF}/${db}`, peer: database.peer };
                const traffic = isSqlite ? { ingress: [], egress: [] } : this.trafficPlan.rulesFor(
                    planBackupFlow(this.trafficPlan, backupName(db), ns, DATABASE_SERVICE_PART_OF, store, database.clientPorts));
                const sqlite: SqliteSource | undefined = isSqlite ? {
                    claimName: `${db}-data`,
                    mountPath: engine.dataPath,
                    file: `${sqliteDbPath(spec).slice(engine.dataPath.length + 1)}/${SQLD_DATA_FILE}`,
                    serverSelector: database.workload.selector,
                    uidException: engine.uidException,
                } : undefined;
                const backup = new DatabaseBackup(backupName(db), {
                    namespace: ns,
                    engine: spec.type,
                    host: database.host,
                    port,
                    // Elasticsearch has no database: its snapshots are named after the instance.
                    databaseName: spec.type === "redis" ? "redis" : spec.type === "elasticsearch" ? db : spec.databaseName ?? "app",
                    replicaSet: spec.type === "mongodb" && (spec.replicas ?? 1) > 1 ? spec.mongodb?.replicaSetName ?? "rs0" : undefined,
                    sentinelMaster: sentinel ? REDIS_MASTER_NAME : undefined,
                    sqlite,
                    // Several Elasticsearch nodes write into one repository.
                    accessMode: snapshots && (spec.replicas ?? 1) > 1 ? "ReadWriteMany" : undefined,
                    // The Jobs of Elasticsearch run its own image (curl, same version).
                    image: spec.type === "elasticsearch" ? engine.image(spec.version ?? engine.defaultVersion) : undefined,
                    secretName: database.secretName,
                    traffic,
                    schedule: args.backups.schedule,
                    retention: args.backups.retention,
                    storage: { size: args.backups.storageSize, storageClass: spec.storage.storageClass ?? args.storageClass },
                    partOf: DATABASE_SERVICE_PART_OF,
                    protect: args.protect,
                }, child);
                backupSchedule = backup.schedule;
            }
            this.databases[db] = {
                type: spec.type, host: database.host, port: database.port, secretName: database.secretName,
                connectionUrl: database.connectionUrl, phase: database.phase, replicas: database.replicas,
                readyReplicas: database.readyReplicas, backupSchedule,
            };
        }
        this.registerOutputs({ namespace: this.namespace, deployerServiceAccount: this.deployerServiceAccount });
    }
}
