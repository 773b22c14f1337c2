import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { gateColourSwitch, planColourSwitch, ReleaseRecord, SwitchPlan } from "../../components/restapi/release";
import { RestApi } from "../../components/restapi/restapi";
import { Color, REST_PARTS, RestApiSpec } from "../../components/restapi/spec";
import { capture, ofType, stackConfig, TEST_ALERTING_SECRETS, valueOf } from "./helpers";
import { mockLiveObjects, mockPreviousOutputs, mockReads, recorded } from "./mocks";

const KEY = "k8s-platform:restapi.blueGreen.activeEnvironment";
const BLUE_IMAGE = "ghcr.io/acme/shop:2.0.1";
const GREEN_IMAGE = "ghcr.io/acme/shop:2.1.0";

function spec(active: Color): RestApiSpec {
    return { image: BLUE_IMAGE, blueGreen: { enabled: true, activeEnvironment: active, blueImage: BLUE_IMAGE, greenImage: GREEN_IMAGE } };
}

/** The previous update recorded `active` as live for RestAPI `name` in namespace "shop". */
function previouslyLive(name: string, active: Color): void {
    const record: ReleaseRecord = { name, namespace: "shop", blueGreen: true, activeEnvironment: active };
    mockPreviousOutputs.restapiRelease = record;
}

/** A live Deployment as the API server reports it after a finished rollout, or while one is stuck. */
function liveDeployment(name: string, image: string, available: boolean): Record<string, unknown> {
    return {
        metadata: { name, namespace: "shop", generation: 3 },
        spec: { replicas: 2, template: { spec: { containers: [{ name: "app", image }] } } },
        status: available
            ? {
                observedGeneration: 3, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2,
                conditions: [{ type: "Available", status: "True", reason: "MinimumReplicasAvailable" }, { type: "Progressing", status: "True" }],
            }
            : {
                observedGeneration: 3, replicas: 2, updatedReplicas: 2, readyReplicas: 0, availableReplicas: 0,
                conditions: [{ type: "Available", status: "False", reason: "MinimumReplicasUnavailable" }, { type: "Progressing", status: "True" }],
            },
    };
}

/** Every part of `color` live for RestAPI `name`; `unavailable` parts have no ready pod. */
function colourLive(name: string, color: Color, image: string, unavailable: string[] = []): void {
    for (const part of REST_PARTS) {
        mockLiveObjects[`shop/${name}-${part}-${color}`] = liveDeployment(`${name}-${part}-${color}`, image, !unavailable.includes(part));
    }
}

/** The gate's error message, or "allowed" with the plan's kind. */
async function gate(name: string, active: Color): Promise<string> {
    mockReads.length = 0;
    try {
        const plan: SwitchPlan = await gateColourSwitch(KEY, name, "shop", spec(active));
        return `allowed: ${plan.kind}${plan.kind === "direct" ? ` (${plan.reason})` : ` ${plan.from} -> ${plan.to}`}`;
    } catch (e) {
        return (e as Error).message;
    }
}

describe("blue/green release gate", () => {
    afterEach(() => {
        Object.keys(mockPreviousOutputs).forEach(k => delete mockPreviousOutputs[k]);
        Object.keys(mockLiveObjects).forEach(k => delete mockLiveObjects[k]);
    });

    it("applies the configured colour directly on the first creation (nothing recorded, nothing live to read)", async () => {
        // No live object exists: a read would fail the program, so this also proves none is made.
        expect(await gate("rel1", "green")).to.equal("allowed: direct (first creation)");
        expect(mockReads).to.deep.equal(["pulumi:pulumi:StackReference organization/k8s-platform/dev"]);
    });

    it("allows a switch to a colour whose Deployments are all Available with the configured image", async () => {
        previouslyLive("rel2", "blue");
        colourLive("rel2", "green", GREEN_IMAGE);
        expect(await gate("rel2", "green")).to.equal("allowed: switch blue -> green");
        // The record, then the target colour's four Deployments, read live (nothing of blue is read).
        expect(mockReads).to.deep.equal(["pulumi:pulumi:StackReference organization/k8s-platform/dev",
            ...REST_PARTS.map(p => `kubernetes:apps/v1:Deployment shop/rel2-${p}-green`)]);
    });

    it("refuses a switch to a colour with an unavailable Deployment, naming the key, the colour and what is not available", async () => {
        previouslyLive("rel3", "blue");
        colourLive("rel3", "green", GREEN_IMAGE, ["controller"]);
        expect(await gate("rel3", "green")).to.equal(
            "k8s-platform:restapi.blueGreen.activeEnvironment: switching from blue to green is refused: green is not available " +
            "(Deployment rel3-controller-green: Available=False (MinimumReplicasUnavailable), 0/2 replicas available); " +
            "allowed: blue (the live colour), or green once an up with activeEnvironment blue has rolled out green and its Deployments are Available");
    });

    it("refuses a switch to a colour that has not rolled out the configured image yet (release first, then switch)", async () => {
        previouslyLive("rel4", "blue");
        colourLive("rel4", "green", "ghcr.io/acme/shop:2.0.9");
        const message = await gate("rel4", "green");
        expect(message).to.contain("Deployment rel4-model-green: runs ghcr.io/acme/shop:2.0.9, the config asks for ghcr.io/acme/shop:2.1.0");
        expect(message).to.match(/^k8s-platform:restapi\.blueGreen\.activeEnvironment: switching from blue to green is refused/);
    });

    it("refuses a switch to a colour scaled to zero (Available with nothing to serve)", async () => {
        previouslyLive("rel12", "blue");
        colourLive("rel12", "green", GREEN_IMAGE);
        mockLiveObjects["shop/rel12-model-green"] = {
            metadata: { name: "rel12-model-green", namespace: "shop", generation: 4 },
            spec: { replicas: 0, template: { spec: { containers: [{ name: "app", image: GREEN_IMAGE }] } } },
            status: { observedGeneration: 4, conditions: [{ type: "Available", status: "True", reason: "MinimumReplicasAvailable" }] },
        };
        expect(await gate("rel12", "green")).to.contain("(Deployment rel12-model-green: scaled to 0 replicas); allowed: blue");
    });

    it("allows switching back to the previous colour (the rollback) while it is still Available", async () => {
        // The switch to green went through; blue still runs the previous release.
        previouslyLive("rel5", "green");
        colourLive("rel5", "blue", BLUE_IMAGE);
        colourLive("rel5", "green", GREEN_IMAGE, ["view"]);
        expect(await gate("rel5", "blue")).to.equal("allowed: switch green -> blue");
    });

    it("allows going back to the live colour after a refused switch, without reading anything", async () => {
        previouslyLive("rel6", "blue");
        expect(await gate("rel6", "blue")).to.equal("allowed: direct (no switch)");
        expect(mockReads).to.deep.equal(["pulumi:pulumi:StackReference organization/k8s-platform/dev"]);
    });

    it("stops the program (index.ts) with the prod config before any resource registers", async function () {
        this.timeout(120000);
        // prod: orders in namespace restapi, blue live; the config switches to green, whose view is down.
        mockPreviousOutputs.restapiRelease = { name: "orders", namespace: "restapi", blueGreen: true, activeEnvironment: "blue" };
        for (const part of REST_PARTS) {
            mockLiveObjects[`restapi/orders-${part}-green`] = {
                ...liveDeployment(`orders-${part}-green`, "ghcr.io/k8s-platform/restapi-mvcr:1.5.0", part !== "view"),
                metadata: { name: `orders-${part}-green`, namespace: "restapi", generation: 3 },
            };
        }
        const before = pulumi.runtime.allConfig();
        const cfg: Record<string, string> = {};
        for (const [k, v] of Object.entries(stackConfig("prod"))) {
            const value = k === "restapi" ? { ...(v as object), blueGreen: { ...(v as { blueGreen: object }).blueGreen, activeEnvironment: "green" } } : v;
            cfg[`k8s-platform:${k}`] = typeof value === "string" ? value : JSON.stringify(value);
        }
        // The receivers' endpoints, as `pulumi config set --secret` would store them.
        cfg["k8s-platform:alertingSecrets"] = JSON.stringify(TEST_ALERTING_SECRETS.prod);
        pulumi.runtime.setAllConfig(cfg, ["k8s-platform:alertingSecrets"]);
        const start = recorded.length;
        try {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const program = require("../../index") as () => Promise<unknown>;
            let message = "allowed";
            await program().catch((e: Error) => { message = e.message; });
            expect(message).to.equal(
                "k8s-platform:restapi.blueGreen.activeEnvironment: switching from blue to green is refused: green is not available " +
                "(Deployment orders-view-green: Available=False (MinimumReplicasUnavailable), 0/2 replicas available); " +
                "allowed: blue (the live colour), or green once an up with activeEnvironment blue has rolled out green and its Deployments are Available");
            expect(recorded.length - start, "resources registered").to.equal(0);
        } finally {
            pulumi.runtime.setAllConfig(before);
        }
    });

    it("treats a record of another RestAPI (renamed) as a first creation", () => {
        const previous: ReleaseRecord = { name: "old", namespace: "shop", blueGreen: true, activeEnvironment: "blue" };
        expect(planColourSwitch("rel7", "shop", spec("green"), previous)).to.deep.equal({ kind: "direct", active: "green", reason: "first creation" });
    });

    it("lists the target colour's Deployments with the images the config asks for", () => {
        const previous: ReleaseRecord = { name: "rel8", namespace: "shop", blueGreen: true, activeEnvironment: "blue" };
        const plan = planColourSwitch("rel8", "shop", { ...spec("green"), view: { image: "ghcr.io/acme/shop-view:3.0.0" } }, previous);
        expect(plan.kind === "switch" ? plan.deployments : []).to.deep.equal([
            { part: "model", name: "rel8-model-green", image: GREEN_IMAGE },
            { part: "view", name: "rel8-view-green", image: "ghcr.io/acme/shop-view:3.0.0" },
            { part: "controller", name: "rel8-controller-green", image: GREEN_IMAGE },
            { part: "repository", name: "rel8-repository-green", image: GREEN_IMAGE },
        ]);
    });

    it("reads nothing when blue/green is off", async () => {
        mockReads.length = 0;
        expect(await gateColourSwitch(KEY, "rel9", "shop", { image: BLUE_IMAGE })).to.deep.equal({ kind: "direct", active: "blue", reason: "blue/green off" });
        expect(mockReads).to.deep.equal([]);
    });

    it("records the colour the stable Services select, for the next update's gate", async () => {
        const api = new RestApi("rel10", { namespace: "shop", ...spec("green") });
        expect(await valueOf(api.release)).to.deep.equal({ name: "rel10", namespace: "shop", blueGreen: true, activeEnvironment: "green" });
    });

    it("registers no managed resource while gating a switch (the reads manage nothing)", async () => {
        previouslyLive("rel11", "blue");
        colourLive("rel11", "green", GREEN_IMAGE);
        const res = await capture(() => { void gateColourSwitch(KEY, "rel11", "shop", spec("green")); });
        expect(mockReads.filter(r => r.includes("rel11"))).to.have.length(4);
        expect(ofType(res, "kubernetes:apps/v1:Deployment")).to.deep.equal([]);
    });
});
