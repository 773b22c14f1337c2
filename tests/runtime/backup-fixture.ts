/**
 * What the backup runtime tests share: the DatabaseBackup component under test (captured under the
 * mocks) and the directories its pod would mount (the backup claim, its /tmp), owned by the
 * server's user.
 */
import * as fs from "fs";
import * as path from "path";
import { BackupEngine, DatabaseBackup } from "../../components/backup/backup";
import { byName, capture, T } from "../unit/helpers";
import { RecordedResource } from "../unit/mocks";
import { chownTo, configMapsOf, LocalContainer, materialize, MaterializedContainer, run } from "./harness";

/** The backup of database `databaseName` at `<name>.data.svc.cluster.local:port`, retention 2. */
export function captureBackup(name: string, engine: BackupEngine, port: number, databaseName: string): Promise<RecordedResource[]> {
    return capture(() => new DatabaseBackup(`${name}-backup`, {
        namespace: "data", engine, host: `${name}.data.svc.cluster.local`, port, databaseName,
        secretName: `${name}-credentials`, schedule: "0 2 * * *", retention: 2, storage: { size: "1Gi" },
        traffic: { ingress: [], egress: [{ peer: { kind: "pods", namespace: "data", selector: { a: "b" } }, ports: [{ port }] }] },
    }));
}

/** Namespace budget and LimitRange of a DatabaseService built for a runtime test (one small database and its backup). */
export const TEST_QUOTA = { requestsCpu: "8", requestsMemory: "16Gi", limitsCpu: "16", limitsMemory: "32Gi", requestsStorage: "100Gi", pods: 40, persistentVolumeClaims: 20 };
export const TEST_LIMITS = { defaultRequest: { cpu: "100m", memory: "128Mi" }, default: { cpu: "500m", memory: "512Mi" }, max: { cpu: "4", memory: "8Gi" } };

/** The backup claim's and the pod's scratch directories under `root`, writable by `user`. */
export function backupDirs(user: string, root: string): { backups: string; scratch: string } {
    const dirs = { backups: path.join(root, "backups"), scratch: path.join(root, "backup-tmp") };
    for (const d of [dirs.backups, dirs.scratch]) {
        fs.mkdirSync(d);
        chownTo(user, d);
    }
    return dirs;
}

export interface BackupJobsOptions {
    /** The DatabaseBackup's name (its CronJob; the restore template is `<name>-restore`) and its capture. */
    name: string;
    res: RecordedResource[];
    user: string;
    root: string;
    /** The test's credentials, as the database Secret's keys. */
    secrets: Record<string, string>;
    backups: string;
    scratch: string;
    /** Env added to both containers (e.g. the Redis restore's scratch port). */
    env?: Record<string, string>;
}

/**
 * The containers of the component's two CronJobs as local commands against a local server on
 * 127.0.0.1:`port`: the backup, the restore (with DUMP when given), and a run expected to fail.
 */
export function backupJobs(o: BackupJobsOptions) {
    const job = (cronJobName: string, container: string, port: number, env: Record<string, string>): MaterializedContainer => {
        const pod = byName(o.res, T.cronJob, cronJobName).inputs.spec.jobTemplate.spec.template.spec;
        return materialize(pod, container, {
            secrets: o.secrets, podName: `${cronJobName}-1`, configMaps: configMapsOf(o.res), dir: o.root, user: o.user,
            paths: { "/backups": o.backups, "/tmp": o.scratch },
            envOverride: { DB_HOST: "127.0.0.1", DB_PORT: String(port), ...o.env, ...env },
        });
    };
    return {
        backup: (port: number) => job(o.name, "backup", port, {}),
        restore: (port: number, dump?: string) => job(`${o.name}-restore`, "restore", port, dump === undefined ? {} : { DUMP: dump }),
        /** Runs a Job's container expecting it to fail; returns its output. */
        async failing(c: LocalContainer): Promise<string> {
            try {
                await run(o.user, c, o.root);
            } catch (e) {
                return (e as Error).message;
            }
            throw new Error(`${c.args.join(" ")} succeeded; expected a failure`);
        },
    };
}
