/**
 * What the backup runtime tests share: the DatabaseBackup component under test (captured under the
 * mocks) and the directories its pod would mount (the backup claim, its /tmp), owned by the
 * server's user.
 */
import * as fs from "fs";
import * as path from "path";
import { BackupEngine, DatabaseBackup } from "../../components/backup/backup";
import { capture } from "../unit/helpers";
import { RecordedResource } from "../unit/mocks";
import { chownTo } from "./harness";

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
