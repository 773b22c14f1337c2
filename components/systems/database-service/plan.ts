/**
 * The plan of a DatabaseService: every child's args from the resolved spec alone. Pure: nothing is
 * registered and nothing is validated again (resolveDatabaseServiceSpec did, once). Values that
 * exist only once a sibling is registered (the namespace Output, a database's host and Secret) are
 * parameters.
 */
import * as pulumi from "@pulumi/pulumi";
import { backupPeer, DatabaseBackupArgs, ES_SNAPSHOT_DIR } from "../../backup/backup";
import { DATABASE_DEPLOYER_RULES, DatabaseArgs, SQLD_DATA_FILE, sqliteDbPath } from "../../database/database";
import { ENGINES, REDIS_MASTER_NAME, SENTINEL_PORT } from "../../database/engines";
import { NamespaceBaselineArgs } from "../../k8s/namespace";
import { Checked, checked } from "../../k8s/validation";
import { DeployerIdentityArgs } from "../../k8s/rbac";
import { Peer, WorkloadTraffic } from "../../k8s/traffic";
import { backupName, DATABASE_SERVICE_PART_OF, DatabaseServiceSpec, isDumpable } from "./spec";

export interface DatabaseInstancePlan {
    name: string;
    database(namespace: pulumi.Input<string>): Checked<DatabaseArgs>;
    /** Undefined when the instance gets no backup. */
    backup?: {
        name: string;
        /** Whether the backup's pods connect to the database (SQLite's read the file on the claim: no connection). */
        connects: boolean;
        /** Checked by resolveDatabaseServiceSpec (databases.backups, the instance's name length). */
        args(namespace: pulumi.Input<string>, store: BackupStore, traffic: WorkloadTraffic): Checked<DatabaseBackupArgs>;
    };
}

/** What a backup needs of its database once it exists. */
export interface BackupStore {
    host: pulumi.Input<string>;
    secretName: pulumi.Input<string>;
    /** The database pods' selector (SQLite: the backup runs beside the server, on its node). */
    selector: Record<string, string>;
}

export interface DatabaseServicePlan {
    /** The namespace, quota and LimitRange as the system's spec checked them. */
    baseline: Checked<NamespaceBaselineArgs>;
    deployer(namespace: pulumi.Input<string>): DeployerIdentityArgs;
    instances: DatabaseInstancePlan[];
}

/** `clients`: who may connect to every database (e.g. the RestAPI repository). */
export function planDatabaseService(spec: DatabaseServiceSpec, clients: Peer[], protect?: boolean): DatabaseServicePlan {
    const partOf = DATABASE_SERVICE_PART_OF;
    return {
        baseline: checked({ name: spec.namespace, quota: spec.quota, limits: spec.limits, holdsProtectedData: protect }),
        deployer: namespace => ({ namespace, design: "database", rules: DATABASE_DEPLOYER_RULES, partOf }),
        instances: spec.instances.map(({ name, spec: db }): DatabaseInstancePlan => {
            const policy = isDumpable(db) ? spec.backups : undefined;
            const bk = backupName(name);
            const engine = ENGINES[db.type];
            const isSqlite = db.type === "sqlite";
            const sentinel = db.type === "redis" && db.redis?.mode === "sentinel";
            // Elasticsearch writes snapshots into the backup claim, mounted on every node (path.repo).
            const snapshots = policy !== undefined && db.type === "elasticsearch";
            return {
                name,
                // Checked by resolveDatabaseServiceSpec with the Database's own rules (databases.instances.<name>).
                // The backup's pods are a client like any other; their peer is known before they exist.
                database: namespace => checked({
                    ...db, namespace, partOf, protect,
                    clients: [...clients, ...(policy && !isSqlite ? [backupPeer(bk, namespace, partOf)] : [])],
                    ...(snapshots ? { snapshotRepository: { claimName: `${bk}-storage`, path: ES_SNAPSHOT_DIR } } : {}),
                }),
                backup: policy && {
                    name: bk,
                    connects: !isSqlite,
                    args: (namespace, store, traffic) => checked({
                        namespace,
                        engine: db.type,
                        host: store.host,
                        // Redis sentinel mode: the sentinels' port (they name the primary) and the data port.
                        port: sentinel ? SENTINEL_PORT : engine.clientPort,
                        // Elasticsearch has no database: its snapshots are named after the instance.
                        databaseName: db.type === "redis" ? "redis" : db.type === "elasticsearch" ? name : db.databaseName ?? "app",
                        replicaSet: db.type === "mongodb" && (db.replicas ?? 1) > 1 ? db.mongodb?.replicaSetName ?? "rs0" : undefined,
                        sentinelMaster: sentinel ? REDIS_MASTER_NAME : undefined,
                        sqlite: isSqlite ? {
                            claimName: `${name}-data`,
                            mountPath: engine.dataPath,
                            file: `${sqliteDbPath(db).slice(engine.dataPath.length + 1)}/${SQLD_DATA_FILE}`,
                            serverSelector: store.selector,
                            uidException: engine.uidException,
                        } : undefined,
                        // Several Elasticsearch nodes write into one repository.
                        accessMode: snapshots && (db.replicas ?? 1) > 1 ? "ReadWriteMany" : undefined,
                        // The Jobs of Elasticsearch run its own image (curl, same version).
                        image: db.type === "elasticsearch" ? engine.image(db.version ?? engine.defaultVersion) : undefined,
                        secretName: store.secretName,
                        traffic,
                        schedule: policy.schedule,
                        retention: policy.retention,
                        storage: { size: policy.storageSize, storageClass: db.storage.storageClass ?? spec.storageClass },
                        partOf,
                        protect,
                    }),
                },
            };
        }),
    };
}
