/**
 * Root hooks of the end-to-end suite: a fresh, isolated cluster and broker before; every stack
 * destroyed, broker and cluster stopped (no process left) after.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { broker, cluster, E2E_DIR, leftoverProcesses, printTimings, run, ROOT, Stack, sleep, timed } from "./harness";

/** Stacks the tests created; the after hook destroys what is left of them. */
export const stacks: Stack[] = [];

export const mochaHooks = {
    beforeAll(this: Mocha.Context) {
        this.timeout(600000);
        // A clean slate: leftovers of an earlier run (only the e2e state dir is touched).
        run(path.join(ROOT, "scripts", "kafka-broker.sh"), ["reset"]);
        run(path.join(ROOT, "scripts", "cluster.sh"), ["stop", "--purge"]);
        fs.rmSync(E2E_DIR, { recursive: true, force: true });
        fs.mkdirSync(E2E_DIR, { recursive: true });
        const c = timed("cluster.sh start", cluster("start"));
        expect(c.status, c.output).to.equal(0);
        const b = timed("kafka-broker.sh start", broker("start"));
        expect(b.status, b.output).to.equal(0);
    },

    async afterAll(this: Mocha.Context) {
        this.timeout(900000);
        const problems: string[] = [];
        if (cluster("status").status === 0) {
            if (broker("status").status !== 0) {
                broker("start");
            }
            for (const s of stacks) {
                s.cancel(); // a lock left by a killed update would block the destroy
                const d = timed(`destroy (${s.id}, after hook)`, s.run("destroy"));
                if (d.status !== 0) {
                    problems.push(`destroy of ${s.id} failed:\n${d.output.slice(-2000)}`);
                }
            }
        }
        timed("kafka-broker.sh stop", broker("stop"));
        timed("cluster.sh stop", cluster("stop"));
        await sleep(1000);
        const left = leftoverProcesses();
        printTimings();
        if (left.length > 0) {
            problems.push(`processes left behind:\n${left.join("\n")}`);
        }
        if (problems.length > 0) {
            throw new Error(problems.join("\n\n"));
        }
    },
};
