/**
 * The spec of a DatabaseService (database-operator.md), resolved once from `k8s-platform:databases`:
 * its namespace (with the platform's quota and LimitRange), one Database spec per instance and the
 * backup policy. Everything is checked here, capacity included, before anything is registered.
 */
import { BACKUP_ENGINES } from "../../backup/backup";
import { BackupPolicy, backupLoad, parseBackupPolicy } from "../../backup/policy";
import { BACKUP_RESOURCES } from "../../backup/policy";
import { databaseLoad, DatabaseSpec, validateDatabaseSpec } from "../../database/spec";
import { budgetOf, requireLimitRangeFits, requireQuotaFits } from "../../k8s/capacity";
import { ResourceSpec } from "../../k8s/container";
import { LimitRangeSpec, QuotaSpec } from "../../k8s/namespace";
import { rejectUnknownKeys, requireDnsLabel, requireObject, ValidationError } from "../../k8s/validation";

export const DATABASE_SERVICE_PART_OF = "database-service";

export type { BackupPolicy };

export interface DatabaseServiceSpec {
    namespace: string;
    /** The platform's quota and LimitRange, which the namespace gets. */
    quota: QuotaSpec;
    limits: LimitRangeSpec;
    /** Each instance's spec, its storage class defaulted to the platform's. */
    instances: { name: string; spec: DatabaseSpec }[];
    /** Backups of every instance that isDumpable (off in dev, on in prod). */
    backups?: BackupPolicy;
    storageClass: string;
}

/** The platform-wide values the databases' namespace takes, with the config keys they come from. */
export interface DatabasePlatform {
    storageClass: string;
    quota: QuotaSpec;
    limits: LimitRangeSpec;
    quotaKey: string;
    limitsKey: string;
}

export const DATABASE_SERVICE_KEYS = ["namespace", "instances", "backups"] as const;

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

/** Resolves `key` (e.g. `k8s-platform:databases`, without `enabled`); every error names the key as written. */
export function resolveDatabaseServiceSpec(key: string, raw: Record<string, unknown>, platform: DatabasePlatform): DatabaseServiceSpec {
    rejectUnknownKeys(key, raw, [...DATABASE_SERVICE_KEYS]);
    const backups = parseBackupPolicy(`${key}.backups`, raw.backups);
    const instances = Object.entries(requireObject(`${key}.instances`, raw.instances ?? {})).map(([name, value]) => {
        requireDnsLabel(`${key}.instances.${name}`, name, 40);
        const typed = validateDatabaseSpec(`${key}.instances.${name}`, value);
        return { name, spec: { ...typed, storage: { ...typed.storage, storageClass: typed.storage.storageClass ?? platform.storageClass } } };
    });
    if (backups) {
        for (const { name, spec } of instances) {
            if (isDumpable(spec) && backupName(name).length > 44) {
                throw new ValidationError(`${key}.instances.${name}`,
                    `is too long for its backup CronJobs (${backupName(name)}-restore must fit 52 characters); allowed: at most 37 characters with backups on`);
            }
        }
    }
    const spec: DatabaseServiceSpec = {
        namespace: requireDnsLabel(`${key}.namespace`, raw.namespace ?? "databases", 63),
        quota: platform.quota, limits: platform.limits, instances, backups, storageClass: platform.storageClass,
    };
    requireDatabasesFit(key, spec, platform);
    return spec;
}

/**
 * The namespace's quota must hold every member (with its sidecars), every claim and a running
 * backup per dumpable instance; the LimitRange max must admit every container.
 */
function requireDatabasesFit(key: string, spec: DatabaseServiceSpec, platform: DatabasePlatform): void {
    const loads = spec.instances.map(({ name, spec: db }) => ({ name, load: databaseLoad(db) }));
    const backups = backupLoad(spec.backups, spec.instances.filter(i => isDumpable(i.spec)).length);
    requireQuotaFits(platform.quotaKey, spec.quota,
        budgetOf([...loads.flatMap(l => l.load.pods), ...backups.pods], [...loads.flatMap(l => l.load.claims), ...backups.claims]),
        `for the databases at their replicas (${key}.namespace ${spec.namespace})`);
    const containers: [string, ResourceSpec][] = loads.flatMap(({ name, load }) =>
        load.containers.map(([c, r], i): [string, ResourceSpec] => [i === 0 ? `${key}.instances.${name}` : `${key}.instances.${name} ${c}`, r]));
    if (backups.pods.length > 0) {
        containers.push([`${key}.backups`, BACKUP_RESOURCES]);
    }
    requireLimitRangeFits(`${platform.limitsKey}.max`, spec.limits, containers);
}
