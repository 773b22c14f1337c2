/**
 * The start-of-run prerequisite check: the program (index.ts) asks the cluster (the provider's helm
 * template invoke of components/k8s/preflight, mocked in mocks.ts) and fails with one message naming
 * every missing prerequisite before a single resource registers.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parsePlatformConfig } from "../../config";
import { capabilitiesFrom, PREFLIGHT_CHART, requirePrerequisites } from "../../components/k8s/prerequisites";
import { prerequisiteNeeds } from "../../platform";
import { FULL_CLUSTER_APIS, mockCluster, recorded } from "./mocks";
import { deepClone, settle, stackConfig, stackSecrets, TEST_ALERTING_SECRETS } from "./helpers";

const SKIP_KEY = "k8s-platform:skipPrerequisites";
const without = (prefix: string) => FULL_CLUSTER_APIS.filter(a => !a.startsWith(prefix));

/** Runs index.ts on a stack config (changed by `change`) against a mock cluster serving `apis`. */
async function runProgram(stack: string, apis: string[], change: (c: Record<string, any>) => void = () => undefined):
    Promise<{ error?: string; registered: number }> {
    const before = pulumi.runtime.allConfig();
    const raw = deepClone(stackConfig(stack));
    change(raw);
    const cfg = Object.fromEntries(Object.entries(raw).map(([k, v]) => [`k8s-platform:${k}`, typeof v === "string" ? v : JSON.stringify(v)]));
    // The receivers' endpoints, as `pulumi config set --secret` stores them (prod requires them).
    const secrets = TEST_ALERTING_SECRETS[stack];
    if (secrets) {
        cfg["k8s-platform:alertingSecrets"] = JSON.stringify(secrets);
    }
    pulumi.runtime.setAllConfig(cfg, secrets ? ["k8s-platform:alertingSecrets"] : []);
    mockCluster.apiVersions = apis;
    await settle();
    const start = recorded.length;
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const program = require("../../index") as () => Promise<unknown>;
        await program();
        await settle();
        return { registered: recorded.length - start };
    } catch (e) {
        await settle();
        return { error: (e as Error).message, registered: recorded.length - start };
    } finally {
        pulumi.runtime.setAllConfig(before);
        mockCluster.apiVersions = [...FULL_CLUSTER_APIS];
    }
}

describe("cluster prerequisites (checked before anything registers)", () => {
    it("a cluster without cert-manager's CRDs: one error naming cert-manager, how to install it and the keys that need it; nothing registered", async () => {
        const r = await runProgram("prod", without("cert-manager.io"));
        expect(r.registered).to.equal(0);
        expect(r.error).to.equal(
            `${SKIP_KEY}: the cluster lacks a prerequisite of this stack, nothing was changed:\n` +
            "  - cert-manager (the cluster serves no cert-manager.io/v1/Certificate, cert-manager.io/v1/ClusterIssuer, cert-manager.io/v1/Issuer; " +
            "needed by k8s-platform:cstore.clusterIssuer, k8s-platform:greenfield.ingress, k8s-platform:outbox.ingress, " +
            "k8s-platform:databases.instances.search.elasticsearch.transportTls): install cert-manager with its CRDs (helm install cert-manager " +
            "jetstack/cert-manager -n cert-manager --create-namespace --set crds.enabled=true) and create the ClusterIssuers the stack names\n" +
            `allowed: install it first (README: Prerequisites), or list the name in ${SKIP_KEY} where the stack deliberately runs without it ` +
            "(cert-manager, istio, metrics-server)");
    });

    it("a cluster without cert-manager and Istio, with the mesh on: both in the one message", async () => {
        const r = await runProgram("prod", without("cert-manager.io").filter(a => !a.includes("istio.io")), c => {
            c.greenfield.mesh = {
                enabled: true, istioInstalled: true, gateway: { hosts: ["api.greenfield.example.com"], credentialName: "greenfield-tls" },
            };
            c.greenfield.fastapi.release = { strategy: "blue-green", activeColor: "blue" };
        });
        expect(r.registered).to.equal(0);
        expect(r.error!.split("\n")[0]).to.equal(`${SKIP_KEY}: the cluster lacks 2 prerequisites of this stack, nothing was changed:`);
        expect(r.error).to.contain("  - istio (the cluster serves no security.istio.io/v1/PeerAuthentication, networking.istio.io/v1/Gateway, " +
            "networking.istio.io/v1/VirtualService; needed by k8s-platform:greenfield.mesh): install Istio with its CRDs and the CNI plugin");
        // With the mesh on, greenfield's edge is the Istio gateway: cert-manager is needed by the others only.
        expect(r.error).to.contain("needed by k8s-platform:cstore.clusterIssuer, k8s-platform:outbox.ingress, k8s-platform:databases.");
    });

    it("the local stack skips cert-manager and metrics-server (its cluster runs neither) and runs on a cluster without them", async function () {
        this.timeout(300000);
        expect(parsePlatformConfig(stackConfig("local")).skipPrerequisites).to.deep.equal(["cert-manager", "metrics-server"]);
        const r = await runProgram("local", without("cert-manager.io").filter(a => !a.startsWith("metrics.k8s.io")));
        expect(r.error).to.equal(undefined);
        expect(r.registered).to.be.greaterThan(400);
    });

    it("a missing metrics-server is a warning, not an error (the HPAs stay at their minimum)", async () => {
        const cfg = parsePlatformConfig(stackConfig("prod"), stackSecrets("prod"));
        const warnings: string[] = [];
        const warn = pulumi.log.warn;
        pulumi.log.warn = (msg: string) => { warnings.push(msg); return Promise.resolve(); };
        try {
            await requirePrerequisites(prerequisiteNeeds(cfg), SKIP_KEY, () => Promise.resolve({ reachable: true, apiVersions: without("metrics.k8s.io") }));
        } finally {
            pulumi.log.warn = warn;
        }
        expect(warnings).to.have.length(1);
        expect(warnings[0]).to.match(/^missing prerequisite metrics-server \(the cluster serves no metrics\.k8s\.io\/v1beta1; needed by k8s-platform:restapi, k8s-platform:cstore\.api, k8s-platform:greenfield\.fastapi\.autoscaling\)/);
    });

    it("skips the check with a warning when the provider reaches no cluster (render mode, offline preview)", async () => {
        const cfg = parsePlatformConfig(stackConfig("prod"), stackSecrets("prod"));
        // What Helm reports without discovery: its built-in group/versions, no kinds.
        const offline = capabilitiesFrom([{ kind: "ConfigMap", metadata: { name: "cluster-capabilities" }, data: { apiVersions: JSON.stringify(["v1", "apps/v1", "networking.k8s.io/v1"]) } }]);
        expect(offline.reachable).to.equal(false);
        const caps = await requirePrerequisites(prerequisiteNeeds(cfg), SKIP_KEY, () => Promise.resolve(offline));
        expect(caps.reachable).to.equal(false);
    });

    it("lists what each stack needs, by config key", () => {
        const names = (stack: string) => prerequisiteNeeds(parsePlatformConfig(stackConfig(stack), stackSecrets(stack))).map(n => `${n.prerequisite.name}: ${n.neededBy.length}`);
        expect(names("prod")).to.deep.equal(["cert-manager: 4", "metrics-server: 3"]);
        expect(names("dev")).to.deep.equal(["cert-manager: 3", "metrics-server: 3"]);
        expect(names("local")).to.deep.equal([]);
    });

    it("refuses an unknown prerequisite name in skipPrerequisites at its key", () => {
        const raw = { ...deepClone(stackConfig("dev")), skipPrerequisites: ["cert-manger"] };
        expect(() => parsePlatformConfig(raw)).to.throw(`${SKIP_KEY}[0]: "cert-manger" is not allowed; allowed: cert-manager, istio, metrics-server`);
    });

    it("the preflight chart renders the ConfigMap the check reads, from Helm's capabilities", () => {
        const template = fs.readFileSync(path.join(PREFLIGHT_CHART, "templates", "capabilities.yaml"), "utf8");
        expect(template).to.contain("name: cluster-capabilities");
        expect(template).to.contain("apiVersions: {{ toJson .Capabilities.APIVersions | quote }}");
        expect(fs.readFileSync(path.join(PREFLIGHT_CHART, "Chart.yaml"), "utf8")).to.match(/^apiVersion: v2$/m);
    });
});
