/**
 * The plan of a DatabaseService: every child's args from the resolved spec alone. Pure: nothing is
 * registered and nothing is validated again (resolveDatabaseServiceSpec did, once). Values that
 * exist only once a sibling is registered (the namespace Output, a database's host and Secret) are
 * parameters.
 */
import * as pulumi from "@pulumi/pulumi";
import { BackupEngine, backupPeer, DatabaseBackupArgs } from "../../backup/backup";
import { DATABASE_DEPLOYER_RULES, DatabaseArgs } from "../../database/database";
import { ENGINES } from "../../database/engines";
import { NamespaceBaselineArgs } from "../../k8s/namespace";
import { Checked, checked } from "../../k8s/validation";
import { DeployerIdentityArgs } from "../../k8s/rbac";
import { Peer, WorkloadTraffic } from "../../k8s/traffic";
import { backupName, DATABASE_SERVICE_PART_OF, DatabaseServiceSpec, isDumpable } from "./spec";

export interface DatabaseInstancePlan {
    name: string;
    /** Checked by resolveDatabaseServiceSpec with the Database's own rules (databases.instances.<name>). */
    database(namespace: pulumi.Input<string>): Checked<DatabaseArgs>;
    /** The instance's client port (its backup's egress). */
    port: number;
    /** Undefined when the instance gets no backup. */
    backup?: {
        name: string;
        /** Checked by resolveDatabaseServiceSpec (databases.backups, the instance's name length). */
        args(namespace: pulumi.Input<string>, store: { host: pulumi.Input<string>; secretName: pulumi.Input<string> }, traffic: WorkloadTraffic): Checked<DatabaseBackupArgs>;
    };
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
            const port = ENGINES[db.type].clientPort;
            return {
                name,
                port,
                // The backup's pods are a client like any other; their peer is known before they exist.
                database: namespace => checked({ ...db, namespace, partOf, clients: [...clients, ...(policy ? [backupPeer(bk, namespace, partOf)] : [])], protect }),
                backup: policy && {
                    name: bk,
                    args: (namespace, store, traffic) => checked({
                        namespace,
                        engine: db.type as BackupEngine,
                        host: store.host,
                        port,
                        databaseName: db.type === "redis" ? "redis" : db.databaseName ?? "app",
                        replicaSet: db.type === "mongodb" && (db.replicas ?? 1) > 1 ? db.mongodb?.replicaSetName ?? "rs0" : undefined,
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
