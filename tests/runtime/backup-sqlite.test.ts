/**
 * SQLite backups at runtime, as the DatabaseService builds them for its sqld instance: the backup
 * CronJob's and the restore template's containers (backup.sh / restore.sh from their ConfigMap,
 * their env, the database's claim at /data) run as local processes with Debian's sqlite3. The
 * server is played by a sqlite3 shell holding the same file open in WAL mode and inserting rows
 * while the backups run (sqld keeps its database as an SQLite file in WAL mode,
 * <db-path>/dbs/default/data); sqld itself is not run here.
 */
import { expect } from "chai";
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DatabaseService, resolveDatabaseServiceSpec } from "../../components/systems/database-service";
import { byName, capture, T } from "../unit/helpers";
import { RecordedResource } from "../unit/mocks";
import { configMapsOf, materialize, MaterializedContainer, run, stopAll, tempDir, versionOf } from "./harness";
import { backupDirs, TEST_LIMITS, TEST_QUOTA } from "./backup-fixture";

const USER = os.userInfo().username;

describe("runtime: SQLite backup and restore (DatabaseService, sqlite3 .backup / .restore)", function () {
    this.timeout(120000);
    let root = "";
    let res: RecordedResource[];
    let backups = "";
    let scratch = "";
    let data = "";
    let file = "";
    let writer: ChildProcess | undefined;

    before(async () => {
        root = tempDir(USER, "rt-sqlite-backup");
        console.log(`      sqlite3 ${versionOf("sqlite3")}`);
        res = await capture(() => new DatabaseService("rtq", {
            spec: resolveDatabaseServiceSpec("rtq", {
                namespace: "data",
                instances: { edge: { type: "sqlite", storage: { size: "1Gi" } } },
                backups: { schedule: "0 2 * * *", retention: 2, storageSize: "1Gi" },
            }, { storageClass: "standard", quota: TEST_QUOTA, limits: TEST_LIMITS, quotaKey: "quota", limitsKey: "limits" }),
        }));
        ({ backups, scratch } = backupDirs(USER, root));
        data = path.join(root, "data");
        file = path.join(data, "app.db", "dbs", "default", "data");
        fs.mkdirSync(path.dirname(file), { recursive: true });
    });
    after(async () => {
        writer?.kill("SIGKILL");
        await stopAll();
        if (root) {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });

    const sql = (db: string, statement: string): string => execFileSync("sqlite3", [db, statement], { encoding: "utf8" }).trim();

    function job(cronJob: string, container: string, env: Record<string, string> = {}): MaterializedContainer {
        const pod = byName(res, T.cronJob, cronJob).inputs.spec.jobTemplate.spec.template.spec;
        return materialize(pod, container, {
            secrets: {}, podName: `${cronJob}-1`, configMaps: configMapsOf(res), dir: root, user: USER,
            paths: { "/backups": backups, "/tmp": scratch, "/data": data }, envOverride: env,
        });
    }
    const dumpsOf = () => fs.readdirSync(backups).filter(f => /^app-\d{8}T\d{6}Z\.db$/.test(f)).sort();

    it("copies the live database while a writer holds it in WAL mode: consistent copies, retention 2 of 3", async () => {
        sql(file, "PRAGMA journal_mode=WAL; CREATE TABLE items(id INTEGER PRIMARY KEY, v TEXT NOT NULL); "
            + "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) INSERT INTO items(v) SELECT 'item ' || i FROM n;");
        const c = job("edge-backup", "backup");
        expect(c.env.DB_FILE).to.equal(file);
        // The "server": one connection that keeps writing (a row every 5 ms).
        writer = spawn("sqlite3", [file], { stdio: ["pipe", "ignore", "inherit"] });
        writer.stdin!.write("PRAGMA busy_timeout=5000;\n");
        const timer = setInterval(() => writer!.stdin!.write("INSERT INTO items(v) VALUES ('live');\n"), 5);
        try {
            for (let i = 0; i < 3; i++) {
                const log = await run(USER, c, root);
                expect(log).to.match(/wrote .*\/app-\d{8}T\d{6}Z\.db/);
                await new Promise(r => setTimeout(r, 1100));
            }
        } finally {
            clearInterval(timer);
        }
        expect(dumpsOf()).to.have.length(2);
        for (const d of dumpsOf()) {
            const copy = path.join(backups, d);
            expect(sql(copy, "PRAGMA integrity_check;")).to.equal("ok");
            expect(Number(sql(copy, "SELECT count(*) FROM items;"))).to.be.greaterThan(1000);
        }
        const [older, newer] = dumpsOf().map(d => Number(sql(path.join(backups, d), "SELECT count(*) FROM items;")));
        expect(newer).to.be.greaterThan(older);
    });

    it("restores the newest copy over the database (server stopped): its rows exactly, later rows gone", async () => {
        writer!.stdin!.end();
        await new Promise(r => writer!.once("exit", r));
        sql(file, "INSERT INTO items(v) VALUES ('after the backup'); DELETE FROM items WHERE id <= 10;");
        const newest = path.join(backups, dumpsOf()[1]);
        const expected = sql(newest, "SELECT count(*), sum(id), max(id) FROM items;");
        const log = await run(USER, job("edge-backup-restore", "restore"), root);
        expect(log).to.contain(`restore: ${newest} -> sqlite ${file}`);
        expect(log).to.contain("restore: done");
        expect(sql(file, "SELECT count(*), sum(id), max(id) FROM items;")).to.equal(expected);
        expect(sql(file, "SELECT count(*) FROM items WHERE v = 'after the backup';")).to.equal("0");
        expect(sql(file, "PRAGMA integrity_check;")).to.equal("ok");
    });

    it("refuses a corrupted copy and a missing DUMP before touching the database", async () => {
        const before = sql(file, "SELECT count(*), sum(id) FROM items;");
        const bad = "app-20000101T000000Z.db";
        const good = fs.readFileSync(path.join(backups, dumpsOf()[1]));
        const corrupt = Buffer.from(good);
        corrupt.fill(0x41, 4096, Math.min(corrupt.length, 4096 * 3));
        fs.writeFileSync(path.join(backups, bad), corrupt);
        const failure = async (dump: string): Promise<string> => {
            try {
                await run(USER, job("edge-backup-restore", "restore", { DUMP: dump }), root);
            } catch (e) {
                return (e as Error).message;
            }
            throw new Error(`restore of ${dump} succeeded; expected a failure`);
        };
        expect(await failure(bad)).to.contain(`restore: FAILED: ${path.join(backups, bad)} is not an intact SQLite database`);
        expect(await failure("app-19990101T000000Z.db")).to.contain(`restore: FAILED: dump ${path.join(backups, "app-19990101T000000Z.db")} does not exist`);
        expect(sql(file, "SELECT count(*), sum(id) FROM items;")).to.equal(before);
        fs.rmSync(path.join(backups, bad));
    });
});
