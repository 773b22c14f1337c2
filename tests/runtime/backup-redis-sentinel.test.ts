/**
 * Backups of a Redis in sentinel mode at runtime, as the DatabaseService builds them: its Database
 * (3 members, a sentinel beside each) and its backup CronJob and restore template, run as local
 * processes with the scripts and env they carry, on 127.0.0.1:26520+ (members), 26530+ (sentinels),
 * 26539 (the restore's local server). The Jobs are given the sentinels' endpoint only (DB_HOST and
 * DB_PORT as generated: the client Service on 26379, here the first sentinel) and find the primary
 * by asking it, before and after a failover.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { DatabaseService, resolveDatabaseServiceSpec } from "../../components/systems/database-service";
import { byName, capture, podSpec, T } from "../unit/helpers";
import { RecordedResource } from "../unit/mocks";
import {
    chownTo, configMapsOf, eventually, killGroup, LocalContainer, materialize, MaterializedContainer, Proc, run, start, stopAll, tempDir, versionOf, waitForPort,
} from "./harness";
import { backupDirs, TEST_LIMITS, TEST_QUOTA } from "./backup-fixture";

const USER = "redis";
const CREDS = { username: "default", password: "runtime-test-redis-sentinel-backup" };
const REDIS_BASE = 26520;
const SENTINEL_BASE = 26530;
const SCRATCH_PORT = 26539;

describe("runtime: Redis sentinel-mode backup and restore (DatabaseService, RDB through the primary the sentinels name)", function () {
    this.timeout(180000);
    let root = "";
    let res: RecordedResource[];
    const procs: Record<string, Proc> = {};
    let backups = "";
    let scratch = "";

    before(async () => {
        root = tempDir(USER, "rt-redis-sentinel-backup");
        console.log(`      ${versionOf("redis-server")}, ${versionOf("redis-sentinel")}`);
        res = await capture(() => new DatabaseService("rts", {
            spec: resolveDatabaseServiceSpec("rts", {
                namespace: "data",
                instances: { rsb: { type: "redis", replicas: 3, storage: { size: "1Gi" }, redis: { mode: "sentinel", appendOnly: true } } },
                backups: { schedule: "0 2 * * *", retention: 2, storageSize: "1Gi" },
            }, { storageClass: "standard", quota: TEST_QUOTA, limits: TEST_LIMITS, quotaKey: "quota", limitsKey: "limits" }),
        }));
        ({ backups, scratch } = backupDirs(USER, root));
    });
    after(async () => {
        await stopAll();
        if (root) {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });

    /** A member's container (redis or sentinel) with every member's DNS name as 127.0.0.1 and its own port. */
    function member(name: string, ordinal: number): LocalContainer {
        const dir = path.join(root, `rsb-${ordinal}`);
        for (const sub of ["data", "run", "sentinel"]) {
            fs.mkdirSync(path.join(dir, sub), { recursive: true });
        }
        chownTo(USER, dir);
        const all = [0, 1, 2];
        return materialize(podSpec(byName(res, T.statefulSet, "rsb")), name, {
            secrets: CREDS, podName: `rsb-${ordinal}`, configMaps: configMapsOf(res), dir, user: USER,
            paths: { "/data": path.join(dir, "data"), "/run/redis": path.join(dir, "run"), "/run/sentinel": path.join(dir, "sentinel") },
            envOverride: {
                ANNOUNCE_HOST: "127.0.0.1", REDIS_PORT: String(REDIS_BASE + ordinal), PRIMARY_HOST: "127.0.0.1", PRIMARY_PORT: String(REDIS_BASE),
                MEMBERS: all.map(i => `127.0.0.1:${REDIS_BASE + i}`).join(" "),
                SENTINELS: all.map(i => `127.0.0.1:${SENTINEL_BASE + i}`).join(" "), SENTINEL_PORT: String(SENTINEL_BASE + ordinal),
            },
        });
    }

    function cli(port: number, ...args: string[]): Promise<string> {
        return run(USER, { command: "redis-cli", args: ["-h", "127.0.0.1", "-p", String(port), "--raw", ...args], env: { REDISCLI_AUTH: CREDS.password } }, root)
            .then(o => o.trim());
    }
    const primary = async (): Promise<number> => Number((await cli(SENTINEL_BASE, "sentinel", "get-master-addr-by-name", "primary")).split("\n")[1]);

    /** The CronJob's container; its DB_HOST/DB_PORT (the sentinels' Service on 26379) become the first sentinel. */
    function job(cronJob: string, container: string, env: Record<string, string> = {}): MaterializedContainer {
        const pod = byName(res, T.cronJob, cronJob).inputs.spec.jobTemplate.spec.template.spec;
        const c = materialize(pod, container, {
            secrets: CREDS, podName: `${cronJob}-1`, configMaps: configMapsOf(res), dir: root, user: USER,
            paths: { "/backups": backups, "/tmp": scratch },
            envOverride: { REDIS_SCRATCH_PORT: String(SCRATCH_PORT) },
        });
        expect([c.env.DB_HOST, c.env.DB_PORT, c.env.DB_SENTINEL_MASTER]).to.deep.equal(["rsb.data.svc.cluster.local", "26379", "primary"]);
        return { ...c, env: { ...c.env, DB_HOST: "127.0.0.1", DB_PORT: String(SENTINEL_BASE), ...env } };
    }

    async function keyspace(port: number): Promise<string> {
        const keys = (await cli(port, "--scan")).split("\n").filter(k => k !== "").sort();
        const out: string[] = [];
        for (const k of keys) {
            const type = await cli(port, "type", k);
            const value = type === "string" ? await cli(port, "get", k) : type === "hash" ? await cli(port, "hgetall", k) : await cli(port, "lrange", k, "0", "-1");
            out.push(`${k}|${type}|${value.split("\n").join(",")}|${Number(await cli(port, "ttl", k)) > 0 ? "expires" : "-1"}`);
        }
        return out.join("\n");
    }
    const dumpsOf = () => fs.readdirSync(backups).filter(f => f.startsWith("redis-")).sort();
    let source = "";

    it("starts the Database's members and sentinels; the backup asks a sentinel and snapshots the primary it names", async () => {
        for (const i of [0, 1, 2]) {
            procs[`rsb-${i}`] = start(USER, member("redis", i), root);
            await waitForPort(REDIS_BASE + i, 30000, procs[`rsb-${i}`]);
        }
        for (const i of [0, 1, 2]) {
            procs[`rsb-${i}-sentinel`] = start(USER, member("sentinel", i), root);
            await waitForPort(SENTINEL_BASE + i, 30000, procs[`rsb-${i}-sentinel`]);
        }
        await eventually("two connected replicas", async () => /connected_slaves:2/.test(await cli(REDIS_BASE, "info", "replication")) ? true : undefined);
        await cli(REDIS_BASE, "set", "order:1", "paid");
        await cli(REDIS_BASE, "hset", "cart:7", "apple", "2", "pear", "1");
        await cli(REDIS_BASE, "rpush", "events", "a", "b", "c");
        await cli(REDIS_BASE, "set", "session:9", "bob", "EX", "3600");
        source = await keyspace(REDIS_BASE);
        const log = await run(USER, job("rsb-backup", "backup"), root);
        expect(log).to.contain(`backup: sentinel 127.0.0.1:${SENTINEL_BASE} names 127.0.0.1:${REDIS_BASE} the primary of primary`);
        expect(log).to.match(/wrote .*\/redis-\d{8}T\d{6}Z\.rdb/);
        expect(dumpsOf()).to.have.length(1);
    });

    let promoted = 0;
    it("restores into the primary the sentinels name after a failover; the replica follows, a later key is gone", async () => {
        killGroup(procs["rsb-0"].child, "SIGKILL");
        await procs["rsb-0"].exited;
        promoted = await eventually("a new primary", async () => {
            const p = await primary();
            return p !== REDIS_BASE && (await cli(p, "role")).split("\n")[0] === "master" ? p : undefined;
        }, 90000);
        await cli(promoted, "set", "after-backup", "must go");
        await cli(promoted, "del", "order:1");
        const log = await run(USER, job("rsb-backup-restore", "restore"), root);
        expect(log).to.contain(`restore: sentinel 127.0.0.1:${SENTINEL_BASE} names 127.0.0.1:${promoted} the primary of primary`);
        expect(log).to.contain(`-> redis 127.0.0.1:${promoted}/redis`);
        expect(log).to.contain("restore: 4 keys loaded from the dump");
        expect(await keyspace(promoted)).to.equal(source);
        const replica = [REDIS_BASE + 1, REDIS_BASE + 2].find(p => p !== promoted)!;
        expect(await eventually("the replica has the restored keyspace", async () => (await keyspace(replica)) === source ? true : undefined)).to.equal(true);
    });

    it("backs up the new primary on the next run (the sentinels are asked each time), keeping 2", async () => {
        await new Promise(r => setTimeout(r, 1100));
        const log = await run(USER, job("rsb-backup", "backup"), root);
        expect(log).to.contain(`names 127.0.0.1:${promoted} the primary of primary`);
        await new Promise(r => setTimeout(r, 1100));
        await run(USER, job("rsb-backup", "backup"), root);
        expect(dumpsOf()).to.have.length(2);
    });

    it("fails, changing nothing, when no sentinel answers", async () => {
        await cli(promoted, "set", "kept", "yes");
        const before = await keyspace(promoted);
        let out = "";
        try {
            await run(USER, job("rsb-backup-restore", "restore", { DB_PORT: String(SCRATCH_PORT - 1) }), root);
        } catch (e) {
            out = (e as Error).message;
        }
        expect(out).to.contain(`restore: FAILED: the sentinels at 127.0.0.1:${SCRATCH_PORT - 1} name no primary for primary`);
        expect(await keyspace(promoted)).to.equal(before);
    });
});
