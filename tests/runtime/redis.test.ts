/**
 * Redis at runtime: the Database component's pods (server, sentinel) run as local processes from
 * the scripts, env and config the component generates (scripts/redis/, the `-config` ConfigMap,
 * the StatefulSet's containers), on 127.0.0.1:26400+. Each member's stable DNS name
 * (ANNOUNCE_HOST, PRIMARY_HOST, MEMBERS, SENTINELS) becomes 127.0.0.1 with its own port.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { Database, DatabaseArgs } from "../../components/database/database";
import { capture, ofType, podSpec, T } from "../unit/helpers";
import { RecordedResource } from "../unit/mocks";
import {
    chownTo, configMapsOf, eventually, killGroup, LocalContainer, materialize, Proc, run, start, stop, stopAll, tempDir, versionOf, waitForPort,
} from "./harness";

const USER = "redis";
const CREDS = { username: "default", password: "runtime-test-redis" };
const REDIS_BASE = 26400;
const SENTINEL_BASE = 26410;
const CLUSTER_BASE = 22440;

interface Rendered { res: RecordedResource[]; pod: any }

async function render(name: string, over: Partial<DatabaseArgs>): Promise<Rendered> {
    const res = await capture(() => new Database(name, { namespace: "data", type: "redis", storage: { size: "1Gi" }, ...over }));
    return { res, pod: podSpec(ofType(res, T.statefulSet)[0]) };
}

describe("runtime: Redis", function () {
    this.timeout(180000);
    let root = "";
    const procs: Record<string, Proc> = {};

    before(() => {
        root = tempDir(USER, "rt-redis");
        console.log(`      ${versionOf("redis-server")} (the images run redis:7.2.5)`);
    });
    after(async () => {
        await stopAll();
        if (root) {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });

    function container(r: Rendered, name: string, member: string, ordinal: number, members: number, base = REDIS_BASE): LocalContainer {
        const dir = path.join(root, member);
        for (const sub of ["data", "run", "sentinel"]) {
            fs.mkdirSync(path.join(dir, sub), { recursive: true });
        }
        chownTo(USER, dir);
        const ports = Array.from({ length: members }, (_, i) => i);
        return materialize(r.pod, name, {
            secrets: CREDS, podName: member, configMaps: configMapsOf(r.res), dir, user: USER,
            paths: { "/data": path.join(dir, "data"), "/run/redis": path.join(dir, "run"), "/run/sentinel": path.join(dir, "sentinel") },
            envOverride: {
                ANNOUNCE_HOST: "127.0.0.1",
                REDIS_PORT: String(base + ordinal),
                PRIMARY_HOST: "127.0.0.1",
                PRIMARY_PORT: String(base),
                MEMBERS: ports.map(i => `127.0.0.1:${base + i}`).join(" "),
                ...(name === "sentinel" || r.pod.containers.some((c: { name: string }) => c.name === "sentinel") ? {
                    SENTINELS: ports.map(i => `127.0.0.1:${SENTINEL_BASE + i}`).join(" "),
                    SENTINEL_PORT: String(SENTINEL_BASE + ordinal),
                } : {}),
            },
        });
    }

    async function startRedis(r: Rendered, member: string, ordinal: number, members: number, base = REDIS_BASE): Promise<void> {
        procs[member] = start(USER, container(r, "redis", member, ordinal, members, base), root);
        await waitForPort(base + ordinal, 30000, procs[member]);
    }

    async function startSentinel(r: Rendered, member: string, ordinal: number, members: number): Promise<void> {
        procs[`${member}-sentinel`] = start(USER, container(r, "sentinel", member, ordinal, members), root);
        await waitForPort(SENTINEL_BASE + ordinal, 30000, procs[`${member}-sentinel`]);
    }

    function cli(port: number, ...args: string[]): Promise<string> {
        return run(USER, { command: "redis-cli", args: ["-h", "127.0.0.1", "-p", String(port), "--raw", ...args], env: { REDISCLI_AUTH: CREDS.password } }, root)
            .then(o => o.trim());
    }

    async function primaryPer(sentinelPort: number): Promise<string> {
        return (await cli(sentinelPort, "sentinel", "get-master-addr-by-name", "primary")).split("\n").join(":");
    }

    describe("sentinel mode: a primary, two replicas and three sentinels", () => {
        let r: Rendered;
        before(async () => {
            r = await render("rd", { replicas: 3, redis: { mode: "sentinel", appendOnly: true } });
        });

        it("starts ordinal 0 as the primary and the others as its replicas", async () => {
            for (let i = 0; i < 3; i++) {
                await startRedis(r, `rd-${i}`, i, 3);
            }
            expect(await cli(REDIS_BASE, "role").then(o => o.split("\n")[0])).to.equal("master");
            const replicas = await eventually("two connected replicas", async () => {
                const info = await cli(REDIS_BASE, "info", "replication");
                return /connected_slaves:2/.test(info) ? info : undefined;
            });
            expect(replicas).to.contain("connected_slaves:2");
        });

        it("reads on a replica a write made on the primary", async () => {
            await cli(REDIS_BASE, "set", "order:1", "paid");
            expect(await eventually("order:1 on rd-1", async () => (await cli(REDIS_BASE + 1, "get", "order:1")) || undefined)).to.equal("paid");
        });

        it("refuses a write on a replica (READONLY)", async () => {
            const err = await cli(REDIS_BASE + 2, "set", "x", "y");
            expect(err).to.contain("READONLY");
        });

        it("runs three sentinels that agree on the primary and see each other", async () => {
            for (let i = 0; i < 3; i++) {
                await startSentinel(r, `rd-${i}`, i, 3);
            }
            for (let i = 0; i < 3; i++) {
                expect(await primaryPer(SENTINEL_BASE + i)).to.equal(`127.0.0.1:${REDIS_BASE}`);
            }
            await eventually("every sentinel knows the two others", async () => {
                for (let i = 0; i < 3; i++) {
                    const out = await cli(SENTINEL_BASE + i, "sentinel", "master", "primary");
                    if (!/num-other-sentinels\n2(\n|$)/.test(out)) {
                        return undefined;
                    }
                }
                return true;
            });
        });

        it("promotes a replica when the primary is killed, and every sentinel names the new primary", async () => {
            killGroup(procs["rd-0"].child, "SIGKILL");
            await procs["rd-0"].exited;
            const t0 = Date.now();
            const promoted = await eventually("a new primary", async () => {
                const p = await primaryPer(SENTINEL_BASE);
                return p !== `127.0.0.1:${REDIS_BASE}` ? p : undefined;
            }, 90000);
            console.log(`      sentinel named ${promoted} after ${Date.now() - t0} ms`);
            for (let i = 1; i < 3; i++) {
                expect(await eventually(`sentinel ${i} agrees`, async () => (await primaryPer(SENTINEL_BASE + i)) === promoted ? promoted : undefined)).to.equal(promoted);
            }
            const port = Number(promoted.split(":")[1]);
            expect((await eventually("promoted role", async () => {
                const role = (await cli(port, "role")).split("\n")[0];
                return role === "master" ? role : undefined;
            }))).to.equal("master");
            expect(await cli(port, "get", "order:1")).to.equal("paid");
        });

        it("restarts the old primary as a replica of the new one (start-redis.sh asks the sentinels)", async () => {
            const promoted = await primaryPer(SENTINEL_BASE);
            await startRedis(r, "rd-0", 0, 3);
            expect(procs["rd-0"].output()).to.contain(`sentinel 127.0.0.1:${SENTINEL_BASE} names ${promoted.replace(":", ":")} as the primary`);
            const port = Number(promoted.split(":")[1]);
            await cli(port, "set", "order:2", "shipped");
            expect(await eventually("order:2 on rd-0", async () => (await cli(REDIS_BASE, "get", "order:2")) || undefined)).to.equal("shipped");
            expect((await cli(REDIS_BASE, "role")).split("\n")[0]).to.equal("slave");
        });
    });

    describe("sentinel mode scaled to 4 members on a later up", () => {
        it("starts the new member as a replica of the current primary, and its sentinel monitors that primary", async () => {
            const four = await render("rd", { replicas: 4, redis: { mode: "sentinel", appendOnly: true } });
            const primary = await primaryPer(SENTINEL_BASE);
            await startRedis(four, "rd-3", 3, 4);
            expect(procs["rd-3"].output()).to.contain(`names ${primary} as the primary`);
            await cli(Number(primary.split(":")[1]), "set", "order:3", "new-member");
            expect(await eventually("order:3 on rd-3", async () => (await cli(REDIS_BASE + 3, "get", "order:3")) || undefined)).to.equal("new-member");
            await startSentinel(four, "rd-3", 3, 4);
            expect(await primaryPer(SENTINEL_BASE + 3)).to.equal(primary);
            expect(procs["rd-3-sentinel"].output()).to.contain(`monitoring primary at ${primary}, quorum 3`);
        });
    });

    describe("replication mode", () => {
        it("keeps ordinal 0 the primary and makes the others replicas", async () => {
            const r = await render("rp", { replicas: 2, redis: { mode: "replication" } });
            await startRedis(r, "rp-0", 0, 2, REDIS_BASE + 20);
            await startRedis(r, "rp-1", 1, 2, REDIS_BASE + 20);
            await cli(REDIS_BASE + 20, "set", "k", "v");
            expect(await eventually("k on rp-1", async () => (await cli(REDIS_BASE + 21, "get", "k")) || undefined)).to.equal("v");
            await stop(procs["rp-0"]);
            await stop(procs["rp-1"]);
        });
    });

    describe("cluster mode", () => {
        // Cluster members also listen on port + 10000 (the cluster bus): keep those below the kernel's
        // ephemeral range (32768+), where an outgoing connection of any process can hold the port.
        const base = CLUSTER_BASE;
        let six: Rendered;

        function clusterInfo(port: number): Promise<Record<string, string>> {
            return cli(port, "cluster", "info").then(o => Object.fromEntries(o.split("\n").map(l => l.trim().split(":"))));
        }

        async function roles(port: number): Promise<{ masters: number; replicas: number; withSlots: number }> {
            const nodes = (await cli(port, "cluster", "nodes")).split("\n").filter(l => l.trim() !== "");
            return {
                masters: nodes.filter(l => l.split(" ")[2].includes("master")).length,
                replicas: nodes.filter(l => l.split(" ")[2].includes("slave")).length,
                withSlots: nodes.filter(l => l.split(" ").length > 8).length,
            };
        }

        /** Starts the cluster-create step for 8 members; waits for 4 masters with slots and 4 replicas (the step's output in the error). */
        async function createStepFormsEight(eight: Rendered): Promise<void> {
            const create = container(eight, "cluster-create", "rc-0", 0, 8, base);
            procs["rc-create"] = start(USER, { ...create, env: { ...create.env, CHECK_INTERVAL: "1" } }, root);
            const r = await eventually("4 masters with slots and 4 replicas", async () => {
                const now = await roles(base);
                return now.masters === 4 && now.replicas === 4 && now.withSlots === 4 ? now : undefined;
            }, 120000).catch(async (e: Error) => {
                throw new Error(`${e.message}\ncluster nodes:\n${await cli(base, "cluster", "nodes")}\ncluster-create output:\n${procs["rc-create"].output()}`);
            });
            expect(r).to.deep.equal({ masters: 4, replicas: 4, withSlots: 4 });
        }

        it("forms a cluster of 6 members, 3 masters with a replica each, with the cluster-create step", async () => {
            six = await render("rc", { replicas: 6, redis: { mode: "cluster" } });
            for (let i = 0; i < 6; i++) {
                await startRedis(six, `rc-${i}`, i, 6, base);
            }
            const create = container(six, "cluster-create", "rc-0", 0, 6, base);
            procs["rc-create"] = start(USER, { ...create, env: { ...create.env, CHECK_INTERVAL: "1" } }, root);
            await eventually("cluster_state ok", async () => (await clusterInfo(base)).cluster_state === "ok" ? true : undefined, 90000);
            // The replicas attach right after the slots are assigned.
            const r = await eventually("3 masters with slots and 3 replicas", async () => {
                const now = await roles(base);
                return now.replicas === 3 ? now : undefined;
            });
            expect(r).to.deep.equal({ masters: 3, replicas: 3, withSlots: 3 });
        });

        it("stores and reads keys across the masters (redirects followed)", async () => {
            for (const k of ["a", "b", "c", "d", "e", "f"]) {
                await run(USER, { command: "redis-cli", args: ["-c", "-h", "127.0.0.1", "-p", String(base), "set", k, `v-${k}`], env: { REDISCLI_AUTH: CREDS.password } }, root);
            }
            const out = await run(USER, { command: "redis-cli", args: ["-c", "-h", "127.0.0.1", "-p", String(base + 3), "--raw", "get", "f"], env: { REDISCLI_AUTH: CREDS.password } }, root);
            expect(out.trim()).to.equal("v-f");
        });

        it("changes nothing when the step runs again on a formed cluster", async () => {
            await stop(procs["rc-create"]);
            const create = container(six, "cluster-create", "rc-0", 0, 6, base);
            procs["rc-create"] = start(USER, { ...create, env: { ...create.env, CHECK_INTERVAL: "1" } }, root);
            await new Promise(res => setTimeout(res, 3000));
            expect(procs["rc-create"].output()).not.to.contain("forming a cluster");
            expect(procs["rc-create"].output()).not.to.contain("adding");
            expect(await roles(base)).to.deep.equal({ masters: 3, replicas: 3, withSlots: 3 });
        });

        it("adds the members of a scale-up to 8: one master (slots rebalanced onto it) and one replica", async () => {
            await stop(procs["rc-create"]);
            const eight = await render("rc", { replicas: 8, redis: { mode: "cluster" } });
            for (let i = 6; i < 8; i++) {
                await startRedis(eight, `rc-${i}`, i, 8, base);
            }
            await createStepFormsEight(eight);
            expect((await clusterInfo(base)).cluster_state).to.equal("ok");
            // The rebalance moves slots one at a time: done when the step says so.
            await eventually("slots rebalanced", () => Promise.resolve(procs["rc-create"].output().includes("cluster-create: slots rebalanced") ? true : undefined), 120000);
            const slots = (await cli(base, "cluster", "nodes")).split("\n").filter(l => l.includes("master"))
                .map(l => l.trim().split(" ").slice(8).reduce((n, range) => { const [a, b] = range.split("-").map(Number); return n + (b === undefined ? 1 : b - a + 1); }, 0));
            expect(slots.sort((a, b) => a - b)).to.deep.equal([4096, 4096, 4096, 4096]);
        });

        /** Waits until no slot is migrating: the scale-up's rebalance may still be moving slots. */
        async function noOpenSlots(): Promise<void> {
            let check = "";
            await eventually("no open slots", async () => {
                check = await run(USER, { command: "redis-cli", args: ["--cluster", "check", `127.0.0.1:${base}`], env: { REDISCLI_AUTH: CREDS.password } }, root)
                    .catch((e: Error) => e.message);
                return check.includes("[OK] All 16384 slots covered.") && !check.includes("[WARNING]") ? true : undefined;
            }, 60000).catch((e: Error) => { throw new Error(`${e.message}; the last check:\n${check}\ncluster-create:\n${procs["rc-create"].output().slice(-3000)}`); });
        }

        it("makes a member that joined as an empty master beyond the wanted count a replica (a lost add-node --cluster-slave)", async () => {
            // Stopping the step mid-rebalance would leave a slot open: let it finish first.
            await noOpenSlots();
            await stop(procs["rc-create"]);
            // rc-7 as redis-cli leaves it when CLUSTER REPLICATE loses the gossip race: in the
            // cluster, a master without slots (reset, forgotten by the others, met again).
            const port7 = base + 7;
            const oldId = await cli(port7, "cluster", "myid");
            await cli(port7, "cluster", "reset", "hard");
            for (let i = 0; i < 7; i++) {
                await cli(base + i, "cluster", "forget", oldId);
            }
            await cli(port7, "cluster", "meet", "127.0.0.1", String(base));
            await eventually("rc-7 known as a master without slots", async () => {
                const now = await roles(base);
                return now.masters === 5 && now.replicas === 3 ? now : undefined;
            }, 30000);
            const eight = await render("rc", { replicas: 8, redis: { mode: "cluster" } });
            const create = container(eight, "cluster-create", "rc-0", 0, 8, base);
            procs["rc-create"] = start(USER, { ...create, env: { ...create.env, CHECK_INTERVAL: "1" } }, root);
            const r = await eventually("4 masters with slots and 4 replicas", async () => {
                const now = await roles(base);
                return now.masters === 4 && now.replicas === 4 && now.withSlots === 4 ? now : undefined;
            }, 60000);
            expect(r).to.deep.equal({ masters: 4, replicas: 4, withSlots: 4 });
            expect(procs["rc-create"].output()).to.contain(`cluster-create: 127.0.0.1:${port7} is an empty master beyond 4; making it a replica of`);
        });

        /** The cluster-shrink Job's container for a member count, as a local process (MEMBERS: that many ports). */
        async function shrinkJob(members: number): Promise<LocalContainer> {
            const r = await render("rc", { replicas: members, redis: { mode: "cluster" } });
            const job = ofType(r.res, T.job)[0];
            const dir = fs.mkdtempSync(path.join(root, "shrink-"));
            chownTo(USER, dir);
            return materialize(job.inputs.spec.template.spec, "cluster-shrink", {
                secrets: CREDS, podName: "rc-cluster-shrink", configMaps: configMapsOf(r.res), dir, user: USER,
                envOverride: { MEMBERS: Array.from({ length: members }, (_, i) => `127.0.0.1:${base + i}`).join(" "), WAIT_SECONDS: "60" },
            });
        }

        it("removes the members of a scale-down to 6 with the cluster-shrink Job: slots drained, nodes forgotten", async () => {
            await noOpenSlots();
            await stop(procs["rc-create"]);
            const out = await run(USER, await shrinkJob(6), root, 180000);
            expect(out).to.contain("cluster-shrink: draining");
            const r = await eventually("3 masters with slots and 3 replicas", async () => {
                const now = await roles(base);
                return now.masters + now.replicas === 6 ? now : undefined;
            }, 60000);
            expect(r).to.deep.equal({ masters: 3, replicas: 3, withSlots: 3 });
        });

        it("leaves the remaining members healthy: every slot covered, only 6 nodes known to each", async () => {
            for (let i = 0; i < 6; i++) {
                const info = await clusterInfo(base + i);
                expect([info.cluster_state, info.cluster_slots_ok, info.cluster_known_nodes]).to.deep.equal(["ok", "16384", "6"]);
            }
        });

        it("keeps every key through the scale-down (moved with the slots)", async () => {
            for (const k of ["a", "b", "c", "d", "e", "f"]) {
                const v = await run(USER, { command: "redis-cli", args: ["-c", "-h", "127.0.0.1", "-p", String(base + 1), "--raw", "get", k], env: { REDISCLI_AUTH: CREDS.password } }, root);
                expect(v.trim(), v.trim() === `v-${k}` ? "" : await whereIs(k)).to.equal(`v-${k}`);
            }
        });

        /** For a failure message: the key's slot, each member's view of it and whether the member holds the key. */
        async function whereIs(k: string): Promise<string> {
            const slot = (await cli(base, "cluster", "keyslot", k)).trim();
            const lines = [`key ${k}: slot ${slot}`];
            for (let i = 0; i < 8; i++) {
                const view = await cli(base + i, "cluster", "nodes").catch((e: Error) => `(${e.message})`);
                const keys = await cli(base + i, "cluster", "countkeysinslot", slot).catch((e: Error) => `(${e.message})`);
                lines.push(`rc-${i}: ${keys.trim()} keys in the slot; its view:\n${view.trim()}`);
            }
            return `${lines.join("\n")}\ncluster-create:\n${procs["rc-create"]?.output().slice(-2000) ?? ""}`;
        }

        it("changes nothing when the Job runs again with the same members", async () => {
            const out = await run(USER, await shrinkJob(6), root, 60000);
            expect(out).to.contain("every node is a member, nothing to do");
            await stop(procs["rc-6"]);
            await stop(procs["rc-7"]);
        });

        it("scales down to 3 members (3 masters, no replicas): every slot on the 3, every key kept", async () => {
            await run(USER, await shrinkJob(3), root, 180000);
            expect(await roles(base)).to.deep.equal({ masters: 3, replicas: 0, withSlots: 3 });
            const info = await clusterInfo(base);
            expect([info.cluster_state, info.cluster_slots_ok, info.cluster_known_nodes]).to.deep.equal(["ok", "16384", "3"]);
            const v = await run(USER, { command: "redis-cli", args: ["-c", "-h", "127.0.0.1", "-p", String(base + 2), "--raw", "get", "e"], env: { REDISCLI_AUTH: CREDS.password } }, root);
            expect(v.trim()).to.equal("v-e");
            for (let i = 3; i < 6; i++) {
                await stop(procs[`rc-${i}`]);
            }
        });

        it("scales up again after a step cut off mid scale-up: the first empty master gets slots, one beyond the wanted 4 becomes a replica", async () => {
            const eight = await render("rc", { replicas: 8, redis: { mode: "cluster" } });
            for (let i = 3; i < 8; i++) {
                fs.rmSync(path.join(root, `rc-${i}`), { recursive: true, force: true });
                await startRedis(eight, `rc-${i}`, i, 8, base);
            }
            // What a step stopped after `add-node` leaves: rc-3 and rc-4 in the cluster as masters
            // without slots (rc-4's replica attach lost), rc-5..7 not yet added.
            for (const i of [3, 4]) {
                await cli(base + i, "cluster", "meet", "127.0.0.1", String(base));
            }
            await eventually("rc-3 and rc-4 known as masters without slots", async () => {
                const now = await roles(base);
                return now.masters === 5 && now.withSlots === 3 ? now : undefined;
            }, 30000);
            await createStepFormsEight(eight);
            await eventually("slots rebalanced", () => Promise.resolve(procs["rc-create"].output().includes("cluster-create: slots rebalanced") ? true : undefined), 120000);
            const out = procs["rc-create"].output();
            expect(out).to.contain(`cluster-create: 127.0.0.1:${base + 4} is an empty master beyond 4; making it a replica of`);
            expect(out).not.to.contain(`127.0.0.1:${base + 3} is an empty master`);
            // rc-3 holds slots: it was kept as the fourth master.
            const rc3 = (await cli(base + 3, "cluster", "nodes")).split("\n").find(l => l.includes("myself"))!;
            expect(rc3.split(" ")[2]).to.contain("master");
            expect(rc3.trim().split(" ").length).to.be.greaterThan(8);
            expect((await clusterInfo(base)).cluster_state).to.equal("ok");
        });
    });

    describe("append-only file", () => {
        it("keeps a write across a kill and a restart (AOF)", async () => {
            const r = await render("aof", { replicas: 1, redis: { appendOnly: true } });
            await startRedis(r, "aof-0", 0, 1, REDIS_BASE + 30);
            await cli(REDIS_BASE + 30, "set", "durable", "yes");
            // appendfsync everysec: the write is on disk within a second.
            await new Promise(res => setTimeout(res, 1500));
            killGroup(procs["aof-0"].child, "SIGKILL");
            await procs["aof-0"].exited;
            await startRedis(r, "aof-0", 0, 1, REDIS_BASE + 30);
            expect(await eventually("durable after restart", async () => (await cli(REDIS_BASE + 30, "get", "durable")) || undefined)).to.equal("yes");
        });
    });
});
