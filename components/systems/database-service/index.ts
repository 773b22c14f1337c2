/**
 * DatabaseService: the database operator system of database-operator.md. A namespace with its
 * baseline, the operator's RBAC as a deployer identity, one Database per instance (status per
 * database), and, where enabled, a backup CronJob (and its restore template) per database:
 * dumps of PostgreSQL, MySQL, MongoDB and Redis (standalone, or sentinel mode through the primary
 * the sentinels name), Elasticsearch snapshots into a repository on the backup claim, and SQLite
 * copies with SQLite's backup API. The spec was resolved
 * once (resolveDatabaseServiceSpec); the children's args come from the pure plan.
 */
import * as pulumi from "@pulumi/pulumi";
import { DatabaseBackup, planBackupFlow } from "../../backup/backup";
import { Database, DatabasePhase } from "../../database/database";
import { NamespaceBaseline } from "../../k8s/namespace";
import { DeployerIdentity } from "../../k8s/rbac";
import { Peer, TrafficPlan } from "../../k8s/traffic";
import { planDatabaseService } from "./plan";
import { DATABASE_SERVICE_PART_OF, DatabaseServiceSpec } from "./spec";

export * from "./spec";
export * from "./plan";

export interface DatabaseServiceArgs {
    /** Resolved by resolveDatabaseServiceSpec. */
    spec: DatabaseServiceSpec;
    /** Who may connect to every database (e.g. the RestAPI repository). */
    clients?: Peer[];
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

export class DatabaseService extends pulumi.ComponentResource {
    public readonly namespace: pulumi.Output<string>;
    public readonly deployerServiceAccount: pulumi.Output<string>;
    public readonly databases: Record<string, DatabaseStatus> = {};
    /** The database pods, by instance name, as traffic peers. */
    public readonly peers: Record<string, Peer> = {};
    /** The backup flows (backup pods -> the database they dump). */
    public readonly trafficPlan = new TrafficPlan();

    constructor(name: string, args: DatabaseServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:systems:DatabaseService", name, {}, opts);
        const child = { parent: this };
        const partOf = DATABASE_SERVICE_PART_OF;
        const plan = planDatabaseService(args.spec, args.clients ?? [], args.protect);
        const ns = new NamespaceBaseline(args.spec.namespace, plan.baseline, child).name;
        this.namespace = ns;
        this.deployerServiceAccount = new DeployerIdentity(`${name}-deployer`, plan.deployer(ns), child).serviceAccountName;

        for (const p of plan.instances) {
            const database = new Database(p.name, p.database(ns), child);
            this.peers[p.name] = database.peer;
            let backupSchedule: pulumi.Output<string> | undefined;
            if (p.backup) {
                const store = { id: `${partOf}/${p.name}`, peer: database.peer };
                const traffic = p.backup.connects
                    ? this.trafficPlan.rulesFor(planBackupFlow(this.trafficPlan, p.backup.name, ns, partOf, store, database.clientPorts))
                    : { ingress: [], egress: [] };
                backupSchedule = new DatabaseBackup(p.backup.name, p.backup.args(ns,
                    { host: database.host, secretName: database.secretName, selector: database.workload.selector }, traffic), child).schedule;
            }
            this.databases[p.name] = {
                type: database.type, host: database.host, port: database.port, secretName: database.secretName,
                connectionUrl: database.connectionUrl, phase: database.phase, replicas: database.replicas,
                readyReplicas: database.readyReplicas, backupSchedule,
            };
        }
        this.registerOutputs({ namespace: this.namespace, deployerServiceAccount: this.deployerServiceAccount });
    }
}
