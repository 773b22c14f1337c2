/**
 * MySQL backups and restores at runtime: the DatabaseBackup component's backup CronJob (mysqldump)
 * and its restore template (mysql < dump), run as local processes with the scripts and env they
 * carry, against real MariaDB servers (Debian's mariadb-server; its mysqldump and mysql clients are
 * the commands the scripts call), on 127.0.0.1:27490+.
 *
 * The servers are plain mariadbd processes, not the Database component's mysql:8 pods (their
 * entrypoint is the image's): each gets database `app` and user `app` with ALL on `app`.*, the
 * account and grant the image's entrypoint gives MYSQL_USER, so the scripts run with the
 * privileges they have in the cluster. Where MariaDB's clients differ from mysql:8.4's: README,
 * Backups.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { RecordedResource } from "../unit/mocks";
import {
    chownTo, eventually, LocalContainer, run, start, stopAll, tempDir, versionOf, waitForPort,
} from "./harness";
import {
    backupDirs, backupJobs, captureBackup, DumpSuite, dumpsOf as dumpsIn, itEnforcesRetention, itListsAndRefusesMissingDumps, itRestoresTheNamedDump,
} from "./backup-fixture";

const USER = "mysql";
const CREDS = { username: "app", password: "runtime-test-mysql-backup" };
const BASE = 27490;
const CHECKSUM = "SELECT CONCAT(COUNT(*), ':', MD5(GROUP_CONCAT(id, note ORDER BY id SEPARATOR ','))) FROM runtime_rows";
const MARIADBD = process.env.MARIADBD ?? "/usr/sbin/mariadbd";

describe("runtime: MySQL backup and restore (DatabaseBackup, mysqldump)", function () {
    this.timeout(180000);
    let root = "";
    let backupRes: RecordedResource[];
    const ports: Record<string, number> = {};
    let backups = "";
    let scratch = "";
    let jobs: ReturnType<typeof backupJobs>;
    const suite: DumpSuite = {
        user: USER, ext: ".sql", checksum: CHECKSUM, sql: (member, statements) => sql(member, statements),
        root: "", backups: "", jobs: undefined as never, ports, first: "", second: "", sourceAtSecond: "",
    };

    before(async () => {
        root = tempDir(USER, "rt-mysql-backup");
        console.log(`      ${versionOf(MARIADBD)}, ${versionOf("mysqldump")}, ${versionOf("mysql")}`);
        backupRes = await captureBackup("mbk", "mysql", 3306, "app");
        ({ backups, scratch } = backupDirs(USER, root));
        jobs = backupJobs({ name: "mbk-backup", res: backupRes, user: USER, root, secrets: CREDS, backups, scratch });
        Object.assign(suite, { root, backups, jobs });
    });
    after(async () => {
        await stopAll();
        if (root) {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });

    /** A fresh server: an empty data directory, database `app`, user `app` (as the image's MYSQL_USER). */
    async function startServer(member: string, port: number): Promise<void> {
        const dir = path.join(root, member);
        fs.mkdirSync(dir);
        const init = path.join(dir, "init.sql");
        fs.writeFileSync(init, [
            "DROP USER IF EXISTS ''@'localhost';",
            "CREATE DATABASE IF NOT EXISTS app;",
            `CREATE USER IF NOT EXISTS '${CREDS.username}'@'%' IDENTIFIED BY '${CREDS.password}';`,
            `GRANT ALL ON app.* TO '${CREDS.username}'@'%';`,
        ].join("\n"));
        chownTo(USER, dir);
        await run(USER, {
            command: "mariadb-install-db",
            args: ["--no-defaults", `--datadir=${path.join(dir, "data")}`, "--skip-test-db"],
            env: {},
        }, root);
        const server = start(USER, {
            command: MARIADBD,
            args: [
                "--no-defaults", `--datadir=${path.join(dir, "data")}`, `--socket=${path.join(dir, "mysqld.sock")}`,
                `--pid-file=${path.join(dir, "mysqld.pid")}`, "--bind-address=127.0.0.1", `--port=${port}`, "--skip-name-resolve",
                `--init-file=${init}`, "--innodb-buffer-pool-size=32M", "--skip-log-bin",
            ],
            env: {},
        }, root);
        ports[member] = port;
        await waitForPort(port, 60000, server);
        await eventually(`${member} accepts ${CREDS.username}`, () => sql(member, "SELECT 1"));
    }

    function sql(member: string, statements: string): Promise<string> {
        return run(USER, {
            command: "mysql",
            args: ["--no-defaults", "-h", "127.0.0.1", "-P", String(ports[member]), "-u", CREDS.username, "--batch", "--skip-column-names", "app", "-e", statements],
            env: { MYSQL_PWD: CREDS.password },
        }, root).then(o => o.trim());
    }

    const backupJob = (member: string) => jobs.backup(ports[member]);
    const restoreJob = (member: string, dump?: string) => jobs.restore(ports[member], dump);
    const failing = (c: LocalContainer) => jobs.failing(c);

    const dumpsOf = () => dumpsIn(suite);

    it("dumps with the backup CronJob's command: one timestamped, complete dump per run (tables, trigger, routine)", async () => {
        await startServer("src", BASE);
        await sql("src", [
            "CREATE TABLE runtime_rows (id VARCHAR(16) PRIMARY KEY, note VARCHAR(64)) ENGINE=InnoDB",
            "CREATE TABLE audit (id VARCHAR(16))",
            "CREATE TRIGGER runtime_rows_audit AFTER INSERT ON runtime_rows FOR EACH ROW INSERT INTO audit VALUES (NEW.id)",
            "CREATE FUNCTION row_total() RETURNS INT READS SQL DATA RETURN (SELECT COUNT(*) FROM runtime_rows)",
            "INSERT INTO runtime_rows SELECT CONCAT('r', seq), MD5(seq) FROM seq_1_to_500",
        ].join(";\n"));
        const log = await run(USER, backupJob("src"), root);
        const dumps = dumpsOf();
        expect(dumps).to.have.length(1);
        expect(dumps[0]).to.match(/^app-\d{8}T\d{6}Z\.sql$/);
        expect(log).to.contain(`wrote ${path.join(backups, dumps[0])}`);
        const text = fs.readFileSync(path.join(backups, dumps[0]), "utf8");
        expect(text.trimEnd().split("\n").pop()).to.match(/^-- Dump completed on /);
        expect(text).to.contain("CREATE TABLE `runtime_rows`");
        expect(text).to.match(/TRIGGER `?runtime_rows_audit`?/);
        expect(text).to.match(/FUNCTION `?row_total`?/);
        // The credential went through the option file in the pod's /tmp, never a command line.
        expect(fs.readFileSync(path.join(scratch, "backup.cnf"), "utf8")).to.equal(`[client]\npassword="${CREDS.password}"\n`);
        expect((fs.statSync(path.join(scratch, "backup.cnf")).mode & 0o777).toString(8)).to.equal("600");
        suite.first = dumps[0];
    });

    itEnforcesRetention(suite);

    it("restores the newest dump (DUMP empty) into a fresh server: same rows, trigger and routine", async () => {
        await startServer("fresh", BASE + 1);
        const newest = dumpsOf()[1];
        const log = await run(USER, restoreJob("fresh"), root);
        expect(log).to.contain(`restore: ${path.join(backups, newest)} -> mysql 127.0.0.1:${BASE + 1}/app`);
        expect(log).to.contain("restore: done");
        const restored = await sql("fresh", CHECKSUM);
        expect(restored).to.equal(await sql("src", CHECKSUM));
        expect(restored.startsWith("502:")).to.equal(true);
        expect(await sql("fresh", "SELECT row_total()")).to.equal("502");
        expect(await sql("fresh", "SELECT COUNT(*) FROM audit")).to.equal("502");
        // The restored trigger fires.
        await sql("fresh", "INSERT INTO runtime_rows VALUES ('r503', 'after the restore')");
        expect(await sql("fresh", "SELECT COUNT(*) FROM audit WHERE id = 'r503'")).to.equal("1");
    });

    itRestoresTheNamedDump(suite);
    itListsAndRefusesMissingDumps(suite);

    it("refuses a truncated dump (no \"-- Dump completed\" trailer) before touching the database", async () => {
        await sql("fresh", "CREATE TABLE survivor (id INT); INSERT INTO survivor VALUES (42); DELETE FROM runtime_rows WHERE id = 'r2'");
        const before = await sql("fresh", CHECKSUM);
        const newest = fs.readFileSync(path.join(backups, dumpsOf()[1]));
        // Cut after the first table's DROP/CREATE statements: loaded, it would drop and empty runtime_rows.
        const cutAt = newest.indexOf("INSERT INTO `runtime_rows`");
        expect(cutAt).to.be.greaterThan(0);
        const cut = "app-20000101T000001Z.sql";
        fs.writeFileSync(path.join(backups, cut), newest.subarray(0, cutAt + 200));
        chownTo(USER, backups);
        const out = await failing(restoreJob("fresh", cut));
        expect(out).to.contain(`restore: FAILED: ${path.join(backups, cut)} is not a complete mysqldump (no "-- Dump completed" trailer); the database was not changed`);
        expect(out).not.to.contain("restore: done");
        expect(await sql("fresh", CHECKSUM)).to.equal(before);
        expect(await sql("fresh", "SELECT id FROM survivor")).to.equal("42");
        fs.rmSync(path.join(backups, cut));
    });
});
