/**
 * Backups and restores at runtime: the DatabaseBackup component's backup CronJob and its suspended
 * restore CronJob (the template of the restore Jobs), run as local processes with the scripts and
 * env they carry, against real PostgreSQL servers started from the Database component's own pods
 * (as in postgresql.test.ts), on 127.0.0.1:25490+. What a restore Job created with
 * `kubectl create job --from=cronjob/<name>-restore` runs is exactly the restore container here.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { Database } from "../../components/database/database";
import { capture, ofType, podSpec, T } from "../unit/helpers";
import { RecordedResource } from "../unit/mocks";
import {
    chownTo, configMapsOf, eventually, LocalContainer, materialize, PG_BIN, Proc, run, start, stopAll, tempDir, versionOf, waitForPort,
} from "./harness";
import {
    backupDirs, backupJobs, captureBackup, DumpSuite, dumpsOf as dumpsIn, itEnforcesRetention, itListsAndRefusesMissingDumps, itRestoresTheNamedDump,
} from "./backup-fixture";

const USER = "postgres";
const CREDS = { username: "app", password: "runtime-test-password" };
const ENTRYPOINT = path.join(__dirname, "fixtures", "postgres-entrypoint.sh");
const PG_PORT = 25490;
const CHECKSUM = "SELECT count(*) || ':' || md5(string_agg(id || note, ',' ORDER BY id)) FROM runtime_rows";

describe("runtime: PostgreSQL backup and restore (DatabaseBackup)", function () {
    this.timeout(180000);
    let root = "";
    let db: { res: RecordedResource[]; pod: any };
    let backupRes: RecordedResource[];
    const procs: Record<string, Proc> = {};
    const ports: Record<string, number> = {};
    let backups = "";
    let scratch = "";
    let jobs: ReturnType<typeof backupJobs>;
    const suite: DumpSuite = {
        user: USER, ext: ".dump", checksum: CHECKSUM, sql: (member, statements) => psql(member, statements),
        root: "", backups: "", jobs: undefined as never, ports, first: "", second: "", sourceAtSecond: "",
    };

    before(async () => {
        root = tempDir(USER, "rt-backup");
        console.log(`      ${versionOf(path.join(PG_BIN, "pg_dump"))}, ${versionOf(path.join(PG_BIN, "pg_restore"))}`);
        const res = await capture(() => new Database("bkrt", {
            namespace: "data", type: "postgresql", storage: { size: "1Gi" }, databaseName: "app", credentials: { username: CREDS.username }, replicas: 1,
        }));
        db = { res, pod: podSpec(ofType(res, T.statefulSet)[0]) };
        backupRes = await captureBackup("bkrt", "postgresql", 5432, "app");
        ({ backups, scratch } = backupDirs(USER, root));
        jobs = backupJobs({ name: "bkrt-backup", res: backupRes, user: USER, root, secrets: CREDS, backups, scratch });
        Object.assign(suite, { root, backups, jobs });
    });
    after(async () => {
        await stopAll();
        if (root) {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });

    async function startServer(member: string, port: number): Promise<void> {
        const dir = path.join(root, member);
        fs.mkdirSync(path.join(dir, "sock"), { recursive: true });
        chownTo(USER, dir);
        const c = materialize(db.pod, "postgresql", {
            secrets: CREDS, podName: member, configMaps: configMapsOf(db.res), dir, user: USER,
            paths: { "/var/lib/postgresql/data": path.join(dir, "data") },
            envOverride: {
                POSTGRES_ENTRYPOINT: ENTRYPOINT, PGPORT: String(port), SOCKET_DIR: path.join(dir, "sock"),
                INITDB_DIR: path.join(dir, "cm-init-scripts"), POSTGRES_DB: "app",
            },
        });
        procs[member] = start(USER, c, root);
        ports[member] = port;
        await waitForPort(port, 90000, procs[member]);
        await eventually(`${member} accepts connections`, () => psql(member, "SELECT 1"));
    }

    function psql(member: string, sql: string): Promise<string> {
        return run(USER, {
            command: path.join(PG_BIN, "psql"),
            args: ["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", String(ports[member]), "-U", CREDS.username, "-d", "app", "-c", sql],
            env: { PGPASSWORD: CREDS.password },
        }, root).then(o => o.trim());
    }

    const backupJob = (member: string) => jobs.backup(ports[member]);
    const restoreJob = (member: string, dump?: string) => jobs.restore(ports[member], dump);
    const failing = (c: LocalContainer) => jobs.failing(c);

    const dumpsOf = () => dumpsIn(suite);

    it("dumps with the backup CronJob's command: one timestamped dump per run", async () => {
        await startServer("src", PG_PORT);
        await psql("src", "CREATE TABLE runtime_rows (id text PRIMARY KEY, note text); INSERT INTO runtime_rows SELECT 'r' || g, md5(g::text) FROM generate_series(1, 500) g");
        const log = await run(USER, backupJob("src"), root);
        const dumps = dumpsOf();
        expect(dumps).to.have.length(1);
        expect(dumps[0]).to.match(/^app-\d{8}T\d{6}Z\.dump$/);
        expect(log).to.contain(`wrote ${path.join(backups, dumps[0])}`);
        suite.first = dumps[0];
    });

    itEnforcesRetention(suite);

    it("restores the newest dump (DUMP empty) into a fresh server with the same rows", async () => {
        await startServer("fresh", PG_PORT + 1);
        const newest = dumpsOf()[1];
        const log = await run(USER, restoreJob("fresh"), root);
        expect(log).to.contain(`restore: ${path.join(backups, newest)} -> postgresql 127.0.0.1:${PG_PORT + 1}/app`);
        expect(log).to.contain("restore: done");
        const restored = await psql("fresh", CHECKSUM);
        expect(restored).to.equal(await psql("src", CHECKSUM));
        expect(restored.startsWith("502:")).to.equal(true);
    });

    itRestoresTheNamedDump(suite);
    itListsAndRefusesMissingDumps(suite);

    it("refuses a corrupted dump before touching the database", async () => {
        await psql("fresh", "CREATE TABLE survivor (id int); INSERT INTO survivor VALUES (42)");
        const before = await psql("fresh", CHECKSUM);
        const bad = "app-20000101T000000Z.dump";
        fs.writeFileSync(path.join(backups, bad), "this is not a pg_dump archive\n".repeat(100));
        chownTo(USER, backups);
        const out = await failing(restoreJob("fresh", bad));
        expect(out).to.contain(`restore: FAILED: ${path.join(backups, bad)} is not a readable pg_dump archive; the database was not changed`);
        expect(await psql("fresh", CHECKSUM)).to.equal(before);
        expect(await psql("fresh", "SELECT id FROM survivor")).to.equal("42");
        fs.rmSync(path.join(backups, bad));
    });

    it("fails on a truncated dump and leaves the database as it was (one transaction)", async () => {
        const before = await psql("fresh", CHECKSUM);
        await psql("fresh", "INSERT INTO runtime_rows VALUES ('only-here', 'not in any dump')");
        const changed = await psql("fresh", CHECKSUM);
        expect(changed).not.to.equal(before);
        const newest = fs.readFileSync(path.join(backups, dumpsOf()[1]));
        const cut = "app-20000101T000001Z.dump";
        fs.writeFileSync(path.join(backups, cut), newest.subarray(0, Math.floor(newest.length * 0.8)));
        chownTo(USER, backups);
        const out = await failing(restoreJob("fresh", cut));
        expect(out).to.match(/exited [1-9]/);
        expect(out).to.contain("pg_restore: error:");
        expect(out).not.to.contain("restore: done");
        expect(await psql("fresh", CHECKSUM)).to.equal(changed);
        fs.rmSync(path.join(backups, cut));
    });
});
