/**
 * PostgreSQL at runtime: the Database component's pods, run as local processes from the scripts,
 * config files, args and env it generates (scripts/postgresql/, the `-config` and `-init`
 * ConfigMaps, the StatefulSet's containers), on 127.0.0.1:25432+.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { Database, DatabaseArgs } from "../../components/database/database";
import { initScripts, OUTBOX_DATABASES, TABLES } from "../../components/systems/outbox/schema";
import { capture, ofType, podSpec, T } from "../unit/helpers";
import { RecordedResource } from "../unit/mocks";
import {
    chownTo, configMapsOf, eventually, LocalContainer, materialize, PG_BIN, Proc, run, start, stop, stopAll, tempDir,
    versionOf, waitForPort,
} from "./harness";

const USER = "postgres";
const CREDS = { username: "app", password: "runtime-test-password" };
const ENTRYPOINT = path.join(__dirname, "fixtures", "postgres-entrypoint.sh");
const BASE_PORT = 25432;

interface Rendered { res: RecordedResource[]; pod: any }

async function render(name: string, over: Partial<DatabaseArgs>): Promise<Rendered> {
    const res = await capture(() => new Database(name, {
        namespace: "data", type: "postgresql", storage: { size: "1Gi" }, databaseName: "app",
        credentials: { username: CREDS.username }, ...over,
    }));
    return { res, pod: podSpec(ofType(res, T.statefulSet)[0]) };
}

describe("runtime: PostgreSQL", function () {
    this.timeout(180000);
    let root = "";
    const procs: Record<string, Proc> = {};
    const ports: Record<string, number> = {};

    before(() => {
        root = tempDir(USER, "rt-pg");
        console.log(`      ${versionOf(path.join(PG_BIN, "postgres"))} (the images run postgres:16.4)`);
    });
    after(async () => {
        await stopAll();
        if (root) {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });

    /** The member's main container (scripts/postgresql/start.sh -> the entrypoint -> postgres). */
    function mainContainer(r: Rendered, member: string, port: number, db = "app"): LocalContainer {
        const dir = path.join(root, member);
        fs.mkdirSync(path.join(dir, "sock"), { recursive: true });
        fs.mkdirSync(path.join(dir, "tmp"), { recursive: true });
        chownTo(USER, dir);
        // The member's /tmp emptyDir (its pgpass file) is shared by its containers, as in the pod.
        const c = materialize(r.pod, "postgresql", {
            secrets: CREDS, podName: member, configMaps: configMapsOf(r.res), dir, user: USER,
            paths: { "/var/lib/postgresql/data": path.join(dir, "data"), "/tmp": path.join(dir, "tmp") },
            envOverride: {
                POSTGRES_ENTRYPOINT: ENTRYPOINT, PGPORT: String(port), SOCKET_DIR: path.join(dir, "sock"),
                INITDB_DIR: path.join(dir, "cm-init-scripts"), POSTGRES_DB: db,
            },
        });
        return c;
    }

    async function startMember(r: Rendered, member: string, port: number, db = "app"): Promise<void> {
        procs[member] = start(USER, mainContainer(r, member, port, db), root);
        ports[member] = port;
        await waitForPort(port, 90000, procs[member]);
        // The port opens before recovery ends ("the database system is starting up").
        await eventually(`${member} accepts connections`, () => psql(member, "SELECT 1", {}, db));
    }

    /** The clone-primary init container of a member, against the primary on 127.0.0.1. */
    async function cloneMember(r: Rendered, member: string, primaryPort: number): Promise<string> {
        const dir = path.join(root, member);
        fs.mkdirSync(path.join(dir, "tmp"), { recursive: true });
        chownTo(USER, dir);
        const c = materialize(r.pod, "clone-primary", {
            secrets: CREDS, podName: member, configMaps: configMapsOf(r.res), dir, user: USER,
            paths: { "/var/lib/postgresql/data": path.join(dir, "data"), "/tmp": path.join(dir, "tmp") },
            envOverride: { PRIMARY_HOST: "127.0.0.1", PGPORT: String(primaryPort) },
        });
        return run(USER, c, root);
    }

    /** psql over TCP with the generated user's password (what clients do). */
    function psql(member: string, sql: string, extra: Record<string, string> = {}, db = "app"): Promise<string> {
        return run(USER, {
            command: path.join(PG_BIN, "psql"),
            args: ["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", String(ports[member]), "-U", CREDS.username, "-d", db, "-c", sql],
            env: { PGPASSWORD: CREDS.password, ...extra },
        }, root).then(o => o.trim());
    }

    async function rowOn(member: string, id: string): Promise<string | undefined> {
        const out = await psql(member, `SELECT note FROM runtime_rows WHERE id = '${id}'`);
        return out === "" ? undefined : out;
    }

    describe("a primary created with 1 replica, scaled to 3 with synchronous replication", () => {
        let single: Rendered;
        let three: Rendered;

        before(async () => {
            single = await render("pg", { replicas: 1 });
            three = await render("pg", { replicas: 3, postgresql: { synchronous: true } });
        });

        it("initialises the primary from the 1-replica manifests and accepts a write", async () => {
            await startMember(single, "pg-0", BASE_PORT);
            await psql("pg-0", "CREATE TABLE runtime_rows (id text PRIMARY KEY, note text); INSERT INTO runtime_rows VALUES ('before-scale', 'one')");
            expect(await rowOn("pg-0", "before-scale")).to.equal("one");
        });

        it("restarts the primary with the 3-replica settings (synchronous_standby_names from the args)", async () => {
            await stop(procs["pg-0"]);
            await startMember(three, "pg-0", BASE_PORT);
            expect(await psql("pg-0", "SHOW synchronous_standby_names")).to.equal("ANY 1 (*)");
        });

        it("clones two standbys added by the scale-up, both streaming from the primary", async () => {
            for (const [i, member] of ["pg-1", "pg-2"].entries()) {
                const log = await cloneMember(three, member, BASE_PORT);
                expect(log).to.contain(`clone-standby: ${member} is a standby of 127.0.0.1`);
                await startMember(three, member, BASE_PORT + 1 + i);
            }
            const standbys = await eventually("two streaming standbys", async () => {
                const out = await psql("pg-0", "SELECT string_agg(application_name || ':' || state || ':' || sync_state, ',' ORDER BY application_name) FROM pg_stat_replication");
                return out === "pg-1:streaming:quorum,pg-2:streaming:quorum" ? out : undefined;
            });
            expect(standbys).to.equal("pg-1:streaming:quorum,pg-2:streaming:quorum");
        });

        it("has a row committed on the primary on both standbys (and the one written before the scale-up)", async () => {
            await psql("pg-0", "INSERT INTO runtime_rows VALUES ('after-scale', 'three')");
            for (const member of ["pg-1", "pg-2"]) {
                expect(await eventually(`after-scale on ${member}`, () => rowOn(member, "after-scale"))).to.equal("three");
                expect(await rowOn(member, "before-scale")).to.equal("one");
            }
        });

        it("keeps the password out of the standbys' data directories (the WAL receiver reads the pgpass file)", () => {
            for (const member of ["pg-1", "pg-2"]) {
                const auto = fs.readFileSync(path.join(root, member, "data", "pgdata", "postgresql.auto.conf"), "utf8");
                expect(auto, member).to.match(/primary_conninfo = '.*user=app/);
                expect(auto, member).not.to.contain(CREDS.password);
            }
        });

        it("keeps the standbys read-only", async () => {
            const err = await psql("pg-1", "INSERT INTO runtime_rows VALUES ('x', 'y')").then(() => "", (e: Error) => e.message);
            expect(err).to.contain("cannot execute INSERT in a read-only transaction");
        });

        it("re-running the clone step on an initialised standby changes nothing", async () => {
            const log = await cloneMember(three, "pg-1", BASE_PORT);
            expect(log).to.contain("is initialised, nothing to clone");
        });

        it("makes a commit wait while no standby is up, and return once one is back", async () => {
            await stop(procs["pg-1"]);
            await stop(procs["pg-2"]);
            const commit = start(USER, {
                command: path.join(PG_BIN, "psql"),
                args: ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", String(BASE_PORT), "-U", CREDS.username, "-d", "app",
                    "-c", "INSERT INTO runtime_rows VALUES ('sync', 'waited')"],
                env: { PGPASSWORD: CREDS.password },
            }, root);
            await new Promise(r => setTimeout(r, 4000));
            expect(commit.child.exitCode, `the commit returned with no standby up:\n${commit.output()}`).to.equal(null);
            const waiting = await psql("pg-0", "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'");
            expect(waiting).to.equal("1");
            const t0 = Date.now();
            await startMember(three, "pg-1", BASE_PORT + 1);
            const code = await commit.exited;
            console.log(`      commit returned ${Date.now() - t0} ms after pg-1 was started`);
            expect(code).to.equal(0);
            expect(await eventually("sync row on pg-1", () => rowOn("pg-1", "sync"))).to.equal("waited");
        });

        it("clones a standby added later (pg-3 of a 4-replica spec) with every row", async () => {
            const four = await render("pg", { replicas: 4, postgresql: { synchronous: true } });
            await cloneMember(four, "pg-3", BASE_PORT);
            await startMember(four, "pg-3", BASE_PORT + 3);
            expect(await eventually("sync row on pg-3", () => rowOn("pg-3", "sync"))).to.equal("waited");
            expect(await rowOn("pg-3", "before-scale")).to.equal("one");
        });
    });

    describe("backup and restore", () => {
        it("restores a dump written by the backup CronJob's own command into a fresh server with the same rows", async () => {
            const { DatabaseBackup } = await import("../../components/backup/backup");
            const src = await render("bk", { replicas: 1 });
            await startMember(src, "bk-0", BASE_PORT + 10);
            await psql("bk-0", "CREATE TABLE runtime_rows (id text PRIMARY KEY, note text); INSERT INTO runtime_rows SELECT 'r' || g, md5(g::text) FROM generate_series(1, 500) g");
            const backupRes = await capture(() => new DatabaseBackup("bk-backup", {
                namespace: "data", engine: "postgresql", host: "bk.data.svc.cluster.local", port: 5432, databaseName: "app",
                secretName: "bk-credentials", traffic: { ingress: [], egress: [{ peer: { kind: "pods", namespace: "data", selector: { a: "b" } }, ports: [{ port: 5432 }] }] },
                schedule: "0 2 * * *", retention: 2, storage: { size: "1Gi" },
            }));
            const cron = ofType(backupRes, T.cronJob)[0].inputs.spec.jobTemplate.spec.template.spec;
            expect(cron.containers[0].command).to.deep.equal(["/bin/sh", "/etc/backup/backup.sh"]);
            const backups = path.join(root, "backups");
            fs.mkdirSync(backups);
            chownTo(USER, backups);
            const scratch = path.join(root, "backup-tmp");
            fs.mkdirSync(scratch);
            chownTo(USER, scratch);
            const local = { secrets: CREDS, podName: "bk-backup-1", configMaps: configMapsOf(backupRes), dir: root, user: USER,
                paths: { "/backups": backups, "/tmp": scratch } };
            const job = materialize(cron, "backup", { ...local, envOverride: { DB_HOST: "127.0.0.1", DB_PORT: String(BASE_PORT + 10) } });
            // Three runs with retention 2: the oldest dump is removed.
            for (let i = 0; i < 3; i++) {
                await run(USER, job, root);
                await new Promise(r => setTimeout(r, 1100));
            }
            const dumps = fs.readdirSync(backups).sort();
            expect(dumps).to.have.length(2);
            expect(dumps[0]).to.match(/^app-\d{8}T\d{6}Z\.dump$/);

            // The restore script of the same ConfigMap, with the job's env, into a fresh server (newest dump).
            await startMember(src, "restore-0", BASE_PORT + 11);
            const restore = materialize(cron, "backup", { ...local, envOverride: { DB_HOST: "127.0.0.1", DB_PORT: String(BASE_PORT + 11) } });
            const log = await run(USER, { ...restore, args: [restore.args[0].replace(/backup\.sh$/, "restore.sh")] }, root);
            expect(log).to.contain(`restore: ${path.join(backups, dumps[1])} -> postgresql 127.0.0.1:${BASE_PORT + 11}/app`);
            const checksum = "SELECT count(*) || ':' || md5(string_agg(id || note, ',' ORDER BY id)) FROM runtime_rows";
            const restored = await psql("restore-0", checksum);
            expect(restored).to.equal(await psql("bk-0", checksum));
            expect(restored.startsWith("500:")).to.equal(true);
        });
    });

    describe("the outbox design's schemas", () => {
        OUTBOX_DATABASES.forEach((db, i) => {
            it(`initialises ${db} with the design's tables and columns`, async () => {
                const r = await render(`outbox-${db}`, { replicas: 1, initScripts: initScripts(db) });
                const member = `outbox-${db}-0`;
                await startMember(r, member, BASE_PORT + 20 + i, db);
                for (const table of TABLES[db]) {
                    const cols = await psql(member, `SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = '${table.name}'`, {}, db);
                    expect(cols, `${db}.${table.name}`).to.equal(table.columns.map(c => c.name).join(","));
                }
                await stop(procs[member]);
            });
        });
    });
});
