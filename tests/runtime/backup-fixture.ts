/**
 * What the backup runtime tests share: the DatabaseBackup component under test (captured under the
 * mocks) and the directories its pod would mount (the backup claim, its /tmp), owned by the
 * server's user.
 */
import { expect } from "chai";
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

/**
 * A SQL engine's dump backup under test, as the cases every such engine shares see it: the engine's
 * own parts (its user, dump extension, checksum query, client) and what its `before` and first
 * cases set (directories, jobs, ports, the dumps taken and the source's checksum at each).
 */
export interface DumpSuite {
    user: string;
    /** The dumps' extension: `app-<timestamp><ext>`. */
    ext: string;
    /** A query whose one-line answer changes with any row of `runtime_rows`. */
    checksum: string;
    sql(member: string, statements: string): Promise<string>;
    root: string;
    backups: string;
    jobs: ReturnType<typeof backupJobs>;
    ports: Record<string, number>;
    first: string;
    second: string;
    sourceAtSecond: string;
}

export const dumpsOf = (s: DumpSuite): string[] => fs.readdirSync(s.backups).filter(f => f.startsWith("app-")).sort();
/** Dump names have a one-second timestamp: the next dump waits for the next second. */
export const tick = (): Promise<void> => new Promise(r => setTimeout(r, 1100));
const backupJob = (s: DumpSuite, member: string) => s.jobs.backup(s.ports[member]);
const restoreJob = (s: DumpSuite, member: string, dump?: string) => s.jobs.restore(s.ports[member], dump);

/** After the suite's first dump (s.first, 500 rows in `src`): three more runs, two dumps kept. */
export function itEnforcesRetention(s: DumpSuite): void {
    it("enforces retention 2: a third run removes the oldest dump, and leaves other databases' dumps alone", async () => {
        const other = `other-20000101T000000Z${s.ext}`;
        fs.writeFileSync(path.join(s.backups, other), "another database's dump");
        chownTo(s.user, s.backups);
        await tick();
        await s.sql("src", "INSERT INTO runtime_rows VALUES ('r501', 'added after the first dump')");
        s.sourceAtSecond = await s.sql("src", s.checksum);
        await run(s.user, backupJob(s, "src"), s.root);
        s.second = dumpsOf(s)[1];
        await tick();
        await s.sql("src", "INSERT INTO runtime_rows VALUES ('r502', 'added after the second dump')");
        const log = await run(s.user, backupJob(s, "src"), s.root);
        const dumps = dumpsOf(s);
        expect(dumps).to.have.length(2);
        expect(dumps).not.to.include(s.first);
        expect(dumps[0]).to.equal(s.second);
        expect(log).to.contain(`removing old dump ${path.join(s.backups, s.first)}`);
        expect(fs.existsSync(path.join(s.backups, other))).to.equal(true);
    });
}

/** The older of the two kept dumps (501 rows; the newest has 502), selected by name, over a changed `src`. */
export function itRestoresTheNamedDump(s: DumpSuite): void {
    it("restores the dump DUMP names into a live database, replacing the dumped tables' rows", async () => {
        await s.sql("src", "DELETE FROM runtime_rows WHERE id <> 'r1'; INSERT INTO runtime_rows VALUES ('stray', 'written after the dump')");
        await run(s.user, restoreJob(s, "src", s.second), s.root);
        expect(await s.sql("src", s.checksum)).to.equal(s.sourceAtSecond);
        expect(await s.sql("src", "SELECT COUNT(*) FROM runtime_rows WHERE id = 'stray'")).to.equal("0");
        expect(s.sourceAtSecond.startsWith("501:")).to.equal(true);
    });
}

/** DUMP=list, a DUMP that names no dump, and no dump at all, against the `fresh` server. */
export function itListsAndRefusesMissingDumps(s: DumpSuite): void {
    it("lists the dumps there are with DUMP=list, restoring nothing", async () => {
        const out = await run(s.user, restoreJob(s, "fresh", "list"), s.root);
        expect(out).to.equal(`restore: dumps in ${s.backups}:\n${dumpsOf(s).map(d => `  ${d}\n`).join("")}`);
    });

    it("fails loudly, listing the dumps there are, when DUMP names a dump that does not exist", async () => {
        const before = await s.sql("fresh", s.checksum);
        const missing = `app-19990101T000000Z${s.ext}`;
        const out = await s.jobs.failing(restoreJob(s, "fresh", missing));
        expect(out).to.contain(`restore: FAILED: dump ${path.join(s.backups, missing)} does not exist`);
        expect(out).to.contain(`  ${dumpsOf(s)[1]}`);
        expect(await s.sql("fresh", s.checksum)).to.equal(before);
    });

    it("fails loudly when there is no dump of the database at all", async () => {
        const empty = path.join(s.root, "empty-backups");
        fs.mkdirSync(empty);
        chownTo(s.user, empty);
        const c = restoreJob(s, "fresh");
        const out = await s.jobs.failing({ ...c, env: { ...c.env, BACKUP_DIR: empty } });
        expect(out).to.contain(`restore: FAILED: no dump of app in ${empty}`);
    });
}
