/**
 * The backups setting every system shares (`<system>.backups` in the stack config, like
 * `databases.backups`): on/off, schedule, retention (dumps kept) and the backup claim's size.
 * Absent or `enabled: false`: no backups (dev); the prod stack turns them on.
 */
import { PodGroup } from "../k8s/capacity";
import { ResourceSpec } from "../k8s/container";
import { rejectUnknownKeys, requireBoolean, requireIntInRange, requireObject, requireQuantity } from "../k8s/validation";
import { requireCronSchedule } from "./cron";

export interface BackupPolicy {
    schedule: string;
    /** Dumps kept per database (the newest N); backup.sh removes older ones after each run. */
    retention: number;
    /** Size of each database's backup claim. */
    storageSize: string;
}

export const BACKUP_POLICY_KEYS = ["enabled", "schedule", "retention", "storageSize"] as const;
export const BACKUP_POLICY_DEFAULTS: BackupPolicy = { schedule: "0 2 * * *", retention: 7, storageSize: "20Gi" };
/** Retention bounds: at least one dump, at most a year of daily dumps. */
export const RETENTION_RANGE = [1, 366] as const;

/** Validates `<key>` (e.g. `k8s-platform:cstore.backups`); undefined when absent or disabled. */
export function parseBackupPolicy(key: string, raw: unknown): BackupPolicy | undefined {
    if (raw === undefined) {
        return undefined;
    }
    const b = requireObject(key, raw);
    rejectUnknownKeys(key, b, [...BACKUP_POLICY_KEYS]);
    if (b.enabled !== undefined && !requireBoolean(`${key}.enabled`, b.enabled)) {
        return undefined;
    }
    return {
        schedule: requireCronSchedule(`${key}.schedule`, b.schedule ?? BACKUP_POLICY_DEFAULTS.schedule),
        retention: requireIntInRange(`${key}.retention`, b.retention ?? BACKUP_POLICY_DEFAULTS.retention, RETENTION_RANGE[0], RETENTION_RANGE[1]),
        storageSize: requireQuantity(`${key}.storageSize`, b.storageSize ?? BACKUP_POLICY_DEFAULTS.storageSize, "storage"),
    };
}

/** Resources of a backup or restore pod (DatabaseBackup's default). */
export const BACKUP_RESOURCES: ResourceSpec = { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } };

/** What `count` backups add to a namespace's budget: a running backup pod and a claim each. */
export function backupLoad(policy: BackupPolicy | undefined, count: number): { pods: PodGroup[]; claims: string[] } {
    if (!policy || count === 0) {
        return { pods: [], claims: [] };
    }
    return { pods: [{ pods: count, resources: BACKUP_RESOURCES }], claims: Array.from({ length: count }, () => policy.storageSize) };
}
