/**
 * A small variant of the local stack (only the RestAPI system, blue/green on, namespaces of its
 * own; Pulumi.local.yaml keeps blue/green off): an up interrupted by an API server restart, then
 * the blue/green switch, a refused switch and the rollback.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { merge } from "../../scripts/lib/local-stack";
import {
    alive, blueGreenConfig, CLUSTER_DIR, cluster, compareWithState, kubectl, kubectlJson, liveIn, pendingOperations, sleep, Stack,
    summary, tail, timed,
} from "./harness";
import { stacks } from "./setup";

const NAMESPACES = ["bg-restapi", "bg-monitoring"];
const PARTS = ["model", "view", "controller", "repository"];

describe("blue/green variant (RestAPI system only)", () => {
    const stack = new Stack("bluegreen", blueGreenConfig("blue"));
    stacks.push(stack);

    describe("API server restarted during an up", () => {
        it("the interrupted up, run again, converges with no duplicate and nothing lost", async () => {
            const { done } = stack.spawn("up");
            const t0 = Date.now();
            while (liveIn(NAMESPACES).length < 20 && Date.now() - t0 < 180000) {
                await sleep(500);
            }
            const pidFile = path.join(CLUSTER_DIR, "pids", "kube-apiserver.pid");
            const pid = Number(fs.readFileSync(pidFile, "utf8"));
            // A crash, not a graceful stop (SIGTERM drains watches for up to 60 s).
            process.kill(pid, "SIGKILL");
            while (alive(pid)) {
                await sleep(100);
            }
            console.log(`      kube-apiserver killed after ${((Date.now() - t0) / 1000).toFixed(1)}s`);
            await sleep(3000);
            const s = timed("cluster.sh start (API server restart)", cluster("start"));
            expect(s.status, s.output).to.equal(0);
            const first = await done;
            timed(`interrupted up (exit ${first.status})`, first);
            const again = timed("up after the restart", stack.run("up"));
            expect(again.status, tail(again.output, 40)).to.equal(0);
            expect(pendingOperations(stack)).to.equal(0);
            const c = compareWithState(stack, NAMESPACES);
            expect(c.missing, "tracked but missing").to.deep.equal([]);
            expect(c.extra, "live but untracked").to.deep.equal([]);
            expect(c.tracked).to.be.greaterThan(50);
        });
    });

    describe("blue/green switch", () => {
        const deployments = () => Object.fromEntries(kubectlJson("get", "deployments", "-n", "bg-restapi").items
            .map((d: any) => [d.metadata.name, { uid: d.metadata.uid, generation: d.metadata.generation }]));
        let before: Record<string, any> = {};

        it("both colours run, the stable Services select blue and the -preview Services green", () => {
            before = deployments();
            for (const p of PARTS) {
                expect(before[`shop-${p}-blue`], p).to.not.equal(undefined);
                expect(before[`shop-${p}-green`], p).to.not.equal(undefined);
                expect(kubectlJson("get", "service", `shop-${p}`, "-n", "bg-restapi").spec.selector["platform.io/color"]).to.equal("blue");
                expect(kubectlJson("get", "service", `shop-${p}-preview`, "-n", "bg-restapi").spec.selector["platform.io/color"]).to.equal("green");
            }
            // Cluster-scoped, so named with the namespace: no clash with the local stack's `orders` system.
            expect(kubectl("get", "clusterrole", "bg-monitoring-shop-obs-prometheus-discovery").status).to.equal(0);
        });

        it("switching activeEnvironment to green previews only Service updates", () => {
            stack.write(blueGreenConfig("green"));
            const r = timed("preview --diff (switch to green)", stack.run("preview", "--diff"));
            expect(r.status, tail(r.output, 40)).to.equal(0);
            const s = summary(r.output);
            expect({ ...s, same: undefined }).to.deep.equal({ update: 2 * PARTS.length, same: undefined });
            const changed = r.output.split("\n").filter(l => /^\s*(~|\+-|\+\+|\+|-)\s+kubernetes:/.test(l));
            expect(changed.length).to.be.greaterThan(0);
            expect(changed.filter(l => !/kubernetes:core\/v1:Service[: ]/.test(l)), "changes other than Services").to.deep.equal([]);
        });

        it("applied, the switch changes the Service selectors and leaves every Deployment as it was", () => {
            const r = timed("up (switch to green)", stack.run("up"));
            expect(r.status, tail(r.output, 40)).to.equal(0);
            for (const p of PARTS) {
                expect(kubectlJson("get", "service", `shop-${p}`, "-n", "bg-restapi").spec.selector["platform.io/color"]).to.equal("green");
                expect(kubectlJson("get", "service", `shop-${p}-preview`, "-n", "bg-restapi").spec.selector["platform.io/color"]).to.equal("blue");
            }
            expect(deployments()).to.deep.equal(before);
        });

        it("a switch back to blue together with a new blue image is refused by preview (release first), changing nothing", () => {
            const image: string = blueGreenConfig("blue")["k8s-platform:restapi"].image;
            const unreleased = image.replace(/:[^:]+$/, ":9.9.9");
            stack.write(merge(blueGreenConfig("blue"), { "k8s-platform:restapi": { blueGreen: { blueImage: unreleased } } }));
            const r = timed("preview (switch to an unreleased blue)", stack.run("preview"));
            expect(r.status, tail(r.output, 40)).to.not.equal(0);
            expect(r.output).to.contain("k8s-platform:restapi.blueGreen.activeEnvironment: switching from green to blue is refused: blue is not available");
            expect(r.output).to.contain(`Deployment shop-view-blue: runs ${image}, the config asks for ${unreleased}`);
            for (const p of PARTS) {
                expect(kubectlJson("get", "service", `shop-${p}`, "-n", "bg-restapi").spec.selector["platform.io/color"]).to.equal("green");
            }
            expect(deployments()).to.deep.equal(before);
        });

        it("the rollback to blue (its release unchanged) switches the selectors back and leaves every Deployment as it was", () => {
            stack.write(blueGreenConfig("blue"));
            const r = timed("up (rollback to blue)", stack.run("up"));
            expect(r.status, tail(r.output, 40)).to.equal(0);
            for (const p of PARTS) {
                expect(kubectlJson("get", "service", `shop-${p}`, "-n", "bg-restapi").spec.selector["platform.io/color"]).to.equal("blue");
                expect(kubectlJson("get", "service", `shop-${p}-preview`, "-n", "bg-restapi").spec.selector["platform.io/color"]).to.equal("green");
            }
            expect(deployments()).to.deep.equal(before);
        });
    });

    describe("destroy", () => {
        it("removes the variant's namespaces and objects", () => {
            const r = timed("destroy (variant)", stack.run("destroy"));
            expect(r.status, tail(r.output, 40)).to.equal(0);
            expect(liveIn(NAMESPACES)).to.deep.equal([]);
            expect(kubectl("get", "clusterrole", "bg-monitoring-shop-obs-prometheus-discovery").status).to.not.equal(0);
        });
    });
});
