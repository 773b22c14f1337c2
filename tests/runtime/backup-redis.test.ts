/**
 * Redis backups and restores at runtime: the DatabaseBackup component's backup CronJob
 * (redis-cli --rdb) and its restore template (the RDB loaded by a pod-local redis-server, the
 * target flushed and every key MIGRATEd to it), run as local processes with the scripts and env
 * they carry, against Redis servers started from the Database component's own pods, on
 * 127.0.0.1:26490+ (the restore's local server on 26499).
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { Database } from "../../components/database/database";
import { capture, ofType, podSpec, T } from "../unit/helpers";
import { RecordedResource } from "../unit/mocks";
import {
    chownTo, configMapsOf, LocalContainer, materialize, Proc, run, start, stopAll, tempDir, versionOf, waitForPort,
} from "./harness";
import { backupDirs, backupJobs, captureBackup } from "./backup-fixture";

const USER = "redis";
const CREDS = { username: "default", password: "runtime-test-redis-backup" };
const BASE = 26490;
const SCRATCH_PORT = 26499;

describe("runtime: Redis backup and restore (DatabaseBackup, RDB)", function () {
    this.timeout(120000);
    let root = "";
    let db: { res: RecordedResource[]; pod: any };
    let backupRes: RecordedResource[];
    const procs: Record<string, Proc> = {};
    const ports: Record<string, number> = {};
    let backups = "";
    let scratch = "";
    let jobs: ReturnType<typeof backupJobs>;

    before(async () => {
        root = tempDir(USER, "rt-redis-backup");
        console.log(`      ${versionOf("redis-server")}, ${versionOf("redis-cli")}`);
        const res = await capture(() => new Database("rbk", { namespace: "data", type: "redis", storage: { size: "1Gi" }, redis: { mode: "standalone", appendOnly: true } }));
        db = { res, pod: podSpec(ofType(res, T.statefulSet)[0]) };
        backupRes = await captureBackup("rbk", "redis", 6379, "redis");
        ({ backups, scratch } = backupDirs(USER, root));
        jobs = backupJobs({ name: "rbk-backup", res: backupRes, user: USER, root, secrets: CREDS, backups, scratch, env: { REDIS_SCRATCH_PORT: String(SCRATCH_PORT) } });
    });
    after(async () => {
        await stopAll();
        if (root) {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });

    async function startRedis(member: string, port: number): Promise<void> {
        const dir = path.join(root, member);
        for (const sub of ["data", "run"]) {
            fs.mkdirSync(path.join(dir, sub), { recursive: true });
        }
        chownTo(USER, dir);
        const c = materialize(db.pod, "redis", {
            secrets: CREDS, podName: member, configMaps: configMapsOf(db.res), dir, user: USER,
            paths: { "/data": path.join(dir, "data"), "/run/redis": path.join(dir, "run") },
            envOverride: { ANNOUNCE_HOST: "127.0.0.1", REDIS_PORT: String(port), PRIMARY_HOST: "127.0.0.1", PRIMARY_PORT: String(port), MEMBERS: `127.0.0.1:${port}` },
        });
        procs[member] = start(USER, c, root);
        ports[member] = port;
        await waitForPort(port, 30000, procs[member]);
    }

    function cli(member: string, ...args: string[]): Promise<string> {
        return run(USER, { command: "redis-cli", args: ["-h", "127.0.0.1", "-p", String(ports[member]), "--raw", ...args], env: { REDISCLI_AUTH: CREDS.password } }, root)
            .then(o => o.trim());
    }

    const restoreJob = (member: string, dump?: string) => jobs.restore(ports[member], dump);
    const failing = (c: LocalContainer) => jobs.failing(c);

    const BULK = Array.from({ length: 250 }, (_, i) => `bulk:${i}`);

    /** Every key with its type, value and whether it expires: what a restore must reproduce. */
    async function keyspace(member: string): Promise<string> {
        const all = (await cli(member, "--scan")).split("\n").filter(k => k !== "");
        const keys = all.filter(k => !k.startsWith("bulk:")).sort();
        // The 250 bulk strings in one MGET (more keys than one SCAN batch of the restore's script).
        const bulk = `${all.length - keys.length} bulk: ${await cli(member, "mget", ...BULK).then(v => v.split("\n").join(","))}`;
        const out: string[] = [];
        for (const k of keys) {
            const type = await cli(member, "type", k);
            const value = type === "string" ? await cli(member, "get", k)
                : type === "list" ? await cli(member, "lrange", k, "0", "-1")
                    : type === "hash" ? (await cli(member, "hgetall", k)).split("\n").join(",")
                        : await cli(member, "smembers", k).then(v => v.split("\n").sort().join(","));
            const ttl = Number(await cli(member, "ttl", k));
            out.push(`${k}|${type}|${value.split("\n").join(",")}|${ttl > 0 ? "expires" : ttl}`);
        }
        return [...out, bulk].join("\n");
    }

    const dumpsOf = () => fs.readdirSync(backups).filter(f => f.startsWith("redis-")).sort();
    let source = "";

    it("snapshots the keyspace with the backup CronJob's command (redis-cli --rdb), keeping 2 of 3 runs", async () => {
        await startRedis("src", BASE);
        await cli("src", "set", "session:1 with space", "alice");
        await cli("src", "rpush", "cart:1", "apple", "pear", "plum");
        await cli("src", "hset", "product:9", "name", "lamp", "price", "12");
        await cli("src", "sadd", "tags", "red", "blue");
        await cli("src", "set", "ttl-key", "soon", "EX", "3600");
        await cli("src", "mset", ...BULK.flatMap((k, i) => [k, `v${i}`]));
        source = await keyspace("src");
        for (let i = 0; i < 3; i++) {
            const log = await run(USER, jobs.backup(ports.src), root);
            expect(log).to.match(/wrote .*\/redis-\d{8}T\d{6}Z\.rdb/);
            await new Promise(r => setTimeout(r, 1100));
        }
        expect(dumpsOf()).to.have.length(2);
    });

    it("restores the newest snapshot into a fresh server: every key, type, value and TTL, nothing else", async () => {
        await startRedis("fresh", BASE + 1);
        await cli("fresh", "set", "stale", "not in the dump");
        const log = await run(USER, restoreJob("fresh"), root);
        expect(log).to.contain(`restore: ${path.join(backups, dumpsOf()[1])} -> redis 127.0.0.1:${BASE + 1}/redis`);
        expect(log).to.contain("restore: 255 keys loaded from the dump");
        expect(log).to.contain("restore: done");
        expect(await keyspace("fresh")).to.equal(source);
        expect(await cli("fresh", "exists", "stale")).to.equal("0");
    });

    it("leaves the dump unchanged (the local server never writes it)", async () => {
        const file = path.join(backups, dumpsOf()[1]);
        const before = fs.readFileSync(file);
        await run(USER, restoreJob("fresh"), root);
        expect(fs.readFileSync(file).equals(before)).to.equal(true);
    });

    it("refuses a corrupted snapshot before touching the database", async () => {
        const bad = "redis-20000101T000000Z.rdb";
        const good = fs.readFileSync(path.join(backups, dumpsOf()[1]));
        const corrupt = Buffer.from(good);
        corrupt.fill(0x41, Math.floor(corrupt.length / 3), Math.floor(corrupt.length / 2));
        fs.writeFileSync(path.join(backups, bad), corrupt);
        chownTo(USER, backups);
        const out = await failing(restoreJob("fresh", bad));
        expect(out).to.contain(`restore: FAILED: ${path.join(backups, bad)} is not a valid RDB file; the database was not changed`);
        expect(await keyspace("fresh")).to.equal(source);
        fs.rmSync(path.join(backups, bad));
    });

    it("fails loudly when DUMP names a snapshot that does not exist", async () => {
        const out = await failing(restoreJob("fresh", "redis-19990101T000000Z.rdb"));
        expect(out).to.contain(`restore: FAILED: dump ${path.join(backups, "redis-19990101T000000Z.rdb")} does not exist`);
    });
});
