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
import { capabilitiesFrom, ObjectNeed, PREFLIGHT_CHART, requirePrerequisites } from "../../components/k8s/prerequisites";
import { KubeApiReader } from "../../components/k8s/kube-api";
import { objectNeeds, prerequisiteNeeds } from "../../platform";
import { FULL_CLUSTER_APIS, FULL_CLUSTER_OBJECTS, mockCluster, recorded } from "./mocks";
import { deepClone, settle, stackConfig, stackSecrets, TEST_ALERTING_SECRETS } from "./helpers";

const SKIP_KEY = "k8s-platform:skipPrerequisites";
const without = (prefix: string) => FULL_CLUSTER_APIS.filter(a => !a.startsWith(prefix));
const NAMES = "(cert-manager, istio, metrics-server, ingress-class)";

/** Runs index.ts on a stack config (changed by `change`) against a mock cluster serving `apis` and holding `objects`. */
async function runProgram(stack: string, apis: string[], change: (c: Record<string, any>) => void = () => undefined,
    objects: Record<string, unknown> = FULL_CLUSTER_OBJECTS): Promise<{ error?: string; registered: number; reads: string[] }> {
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
    mockCluster.objects = { ...objects };
    mockCluster.reads = [];
    await settle();
    const start = recorded.length;
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const program = require("../../index") as () => Promise<unknown>;
        await program();
        await settle();
        return { registered: recorded.length - start, reads: [...mockCluster.reads] };
    } catch (e) {
        await settle();
        return { error: (e as Error).message, registered: recorded.length - start, reads: [...mockCluster.reads] };
    } finally {
        pulumi.runtime.setAllConfig(before);
        mockCluster.apiVersions = [...FULL_CLUSTER_APIS];
        mockCluster.objects = { ...FULL_CLUSTER_OBJECTS };
    }
}

/** requirePrerequisites on object needs alone, against the mock cluster holding `objects` (or another reader): its error and warnings. */
async function checkObjects(objects: ObjectNeed[], held: Record<string, unknown>, reader?: () => KubeApiReader):
    Promise<{ error?: string; warnings: string[] }> {
    const warnings: string[] = [];
    const warn = pulumi.log.warn;
    pulumi.log.warn = (msg: string) => { warnings.push(msg); return Promise.resolve(); };
    mockCluster.objects = { ...held };
    mockCluster.reads = [];
    try {
        await requirePrerequisites([], SKIP_KEY, () => Promise.resolve({ reachable: true, apiVersions: FULL_CLUSTER_APIS }), { objects, ingressNamespace: "ingress-nginx", reader });
        return { warnings };
    } catch (e) {
        return { error: (e as Error).message, warnings };
    } finally {
        pulumi.log.warn = warn;
        mockCluster.objects = { ...FULL_CLUSTER_OBJECTS };
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
            `allowed: install or create it first (README: Prerequisites), or list the name in ${SKIP_KEY} where the stack deliberately runs without it ` +
            `${NAMES}`);
        // Without cert-manager's API there is no ClusterIssuer to read: only the IngressClasses were read.
        expect(r.reads).to.deep.equal(["/apis/networking.k8s.io/v1/ingressclasses", "/apis/networking.k8s.io/v1/ingressclasses/nginx"]);
    });

    it("a cluster without cert-manager and Istio, with the mesh on: both in the one message", async () => {
        const r = await runProgram("prod", without("cert-manager.io").filter(a => !a.includes("istio.io")), c => {
            c.greenfield.mesh = {
                enabled: true, istioInstalled: true, gateway: { hosts: ["api.greenfield.example.com"], credentialName: "greenfield-tls" },
                // Small proxies, so prod's quota holds a sidecar in every pod.
                sidecarResources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
            };
            c.greenfield.fastapi.release = { strategy: "blue-green", activeColor: "blue" };
        });
        expect(r.registered).to.equal(0);
        expect(r.error!.split("\n")[0]).to.equal(`${SKIP_KEY}: the cluster lacks 2 prerequisites of this stack, nothing was changed:`);
        expect(r.error).to.contain("  - istio (the cluster serves no security.istio.io/v1/PeerAuthentication, networking.istio.io/v1/Gateway, " +
            "networking.istio.io/v1/VirtualService, networking.istio.io/v1alpha3/EnvoyFilter; needed by k8s-platform:greenfield.mesh): install Istio with its CRDs and the CNI plugin");
        // With the mesh on, greenfield's edge is the Istio gateway: cert-manager is needed by the others only.
        expect(r.error).to.contain("needed by k8s-platform:cstore.clusterIssuer, k8s-platform:outbox.ingress, k8s-platform:databases.");
    });

    it("the local stack skips cert-manager, metrics-server and the ingress class (its cluster runs none) and runs on a cluster without them", async function () {
        this.timeout(300000);
        expect(parsePlatformConfig(stackConfig("local")).skipPrerequisites).to.deep.equal(["cert-manager", "metrics-server", "ingress-class"]);
        const r = await runProgram("local", without("cert-manager.io").filter(a => !a.startsWith("metrics.k8s.io")), undefined, {});
        expect(r.error).to.equal(undefined);
        expect(r.registered).to.be.greaterThan(400);
        expect(r.reads).to.deep.equal([]);
    });

    it("a cluster without the IngressClass and the ClusterIssuer the stack names: one error naming both, the keys and what to create; nothing registered", async () => {
        const objects = { ...FULL_CLUSTER_OBJECTS };
        delete objects["/apis/networking.k8s.io/v1/ingressclasses/nginx"];
        delete objects["/apis/cert-manager.io/v1/clusterissuers/letsencrypt-prod"];
        const r = await runProgram("prod", FULL_CLUSTER_APIS, undefined, objects);
        expect(r.registered).to.equal(0);
        expect(r.error).to.equal(
            `${SKIP_KEY}: the cluster lacks 3 prerequisites of this stack, nothing was changed:\n` +
            "  - a default IngressClass (the cluster has no IngressClass annotated ingressclass.kubernetes.io/is-default-class=true, and Ingresses " +
            "without ingressClassName are served by none; needed by k8s-platform:cstore.ingressClassName): install the ingress controller (helm install " +
            "ingress-nginx ingress-nginx/ingress-nginx -n ingress-nginx --create-namespace: it creates IngressClass nginx) and mark its class default " +
            "(kubectl annotate ingressclass nginx ingressclass.kubernetes.io/is-default-class=true), or set those keys to a class the cluster has\n" +
            "  - ClusterIssuer \"letsencrypt-prod\" (the cluster has no cert-manager ClusterIssuer of that name; needed by k8s-platform:cstore.clusterIssuer, " +
            "k8s-platform:greenfield.ingress.clusterIssuer, k8s-platform:outbox.ingress.clusterIssuer): create it (a cert-manager.io/v1 ClusterIssuer named " +
            "letsencrypt-prod, e.g. ACME with an HTTP-01 solver through the ingress class; kubectl get clusterissuers lists those there are), or set those " +
            "keys to an issuer the cluster has\n" +
            "  - IngressClass \"nginx\" (the cluster has no IngressClass of that name; needed by k8s-platform:greenfield.ingress.ingressClassName, " +
            "k8s-platform:outbox.ingress.ingressClassName): install the ingress controller (helm install ingress-nginx ingress-nginx/ingress-nginx -n " +
            "ingress-nginx --create-namespace: it creates IngressClass nginx), or set those keys to a class the cluster has (kubectl get ingressclass)\n" +
            `allowed: install or create them first (README: Prerequisites), or list the name in ${SKIP_KEY} where the stack deliberately runs without it ${NAMES}`);
    });

    it("a class and an issuer of the config's own names: those are the objects read, and a cluster holding them passes", async () => {
        const raw = deepClone(stackConfig("dev")) as Record<string, any>;
        raw.cstore = { ...raw.cstore, ingressClassName: "edge", clusterIssuer: "internal-ca" };
        const needs = objectNeeds(parsePlatformConfig(raw));
        expect(needs.map(n => `${n.kind} ${n.name}: ${n.neededBy.join(" ")}`)).to.deep.equal([
            "IngressClass edge: k8s-platform:cstore.ingressClassName",
            "ClusterIssuer internal-ca: k8s-platform:cstore.clusterIssuer",
            "IngressClass nginx: k8s-platform:greenfield.ingress.ingressClassName k8s-platform:outbox.ingress.ingressClassName",
            "ClusterIssuer selfsigned: k8s-platform:greenfield.ingress.clusterIssuer k8s-platform:outbox.ingress.clusterIssuer",
        ]);
        const objects: Record<string, unknown> = {
            ...FULL_CLUSTER_OBJECTS,
            "/apis/networking.k8s.io/v1/ingressclasses/edge": { metadata: { name: "edge" } },
            "/apis/cert-manager.io/v1/clusterissuers/internal-ca": { metadata: { name: "internal-ca" }, status: { conditions: [{ type: "Ready", status: "True" }] } },
        };
        const check = (o: Record<string, unknown>) => checkObjects(needs, o);
        expect((await check(objects)).error).to.equal(undefined);
        expect(mockCluster.reads).to.deep.equal([
            "/apis/networking.k8s.io/v1/ingressclasses/edge", "/apis/cert-manager.io/v1/clusterissuers/internal-ca",
            "/apis/networking.k8s.io/v1/ingressclasses/nginx", "/apis/cert-manager.io/v1/clusterissuers/selfsigned",
        ]);
        const missing = { ...objects };
        delete missing["/apis/cert-manager.io/v1/clusterissuers/internal-ca"];
        const r = await check(missing);
        expect(r.error).to.match(/^k8s-platform:skipPrerequisites: the cluster lacks a prerequisite of this stack, nothing was changed:\n {2}- ClusterIssuer "internal-ca" \(the cluster has no cert-manager ClusterIssuer of that name; needed by k8s-platform:cstore\.clusterIssuer\): create it/);
    });

    it("an issuer that exists but is not Ready, and objects that cannot be read: warnings, not errors", async () => {
        const needs: ObjectNeed[] = [{ kind: "ClusterIssuer", name: "letsencrypt-prod", neededBy: ["k8s-platform:cstore.clusterIssuer"] }];
        const notReady = {
            "/apis/cert-manager.io/v1/clusterissuers/letsencrypt-prod": {
                metadata: { name: "letsencrypt-prod" }, status: { conditions: [{ type: "Ready", status: "False", reason: "ErrRegisterACMEAccount", message: "DNS lookup failed" }] },
            },
        };
        const r = await checkObjects(needs, notReady);
        expect(r.error).to.equal(undefined);
        expect(r.warnings).to.deep.equal(["ClusterIssuer \"letsencrypt-prod\" exists but is not Ready (ErrRegisterACMEAccount: DNS lookup failed); " +
            "certificates for k8s-platform:cstore.clusterIssuer will not be issued until it is"]);
        const forbidden = await checkObjects(needs, {}, () => { throw new Error("no kubeconfig (/root/.kube/config) and not inside a cluster"); });
        expect(forbidden.error).to.equal(undefined);
        expect(forbidden.warnings).to.deep.equal([
            "prerequisite objects not checked (ClusterIssuer \"letsencrypt-prod\" assumed to exist): no kubeconfig (/root/.kube/config) and not inside a cluster",
        ]);
        const failing = await checkObjects(needs, {}, () => ({ target: "https://10.0.0.1:6443 (context prod)", get: () => Promise.reject(new Error("GET /apis/cert-manager.io/v1/clusterissuers/letsencrypt-prod: HTTP 403 (forbidden)")) }));
        expect(failing.warnings).to.deep.equal([
            "ClusterIssuer \"letsencrypt-prod\" not checked on https://10.0.0.1:6443 (context prod): GET /apis/cert-manager.io/v1/clusterissuers/letsencrypt-prod: HTTP 403 (forbidden)",
        ]);
    });

    it("skipPrerequisites leaves the objects out: ingress-class the IngressClasses, cert-manager the ClusterIssuers", () => {
        const kinds = (skip: string[]) => objectNeeds(parsePlatformConfig({ ...deepClone(stackConfig("prod")), skipPrerequisites: skip }, stackSecrets("prod"))).map(n => n.kind);
        expect(kinds([])).to.deep.equal(["IngressClass", "ClusterIssuer", "IngressClass"]);
        expect(kinds(["ingress-class"])).to.deep.equal(["ClusterIssuer"]);
        expect(kinds(["cert-manager"])).to.deep.equal(["IngressClass", "IngressClass"]);
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
        expect(() => parsePlatformConfig(raw)).to.throw(`${SKIP_KEY}[0]: "cert-manger" is not allowed; allowed: cert-manager, istio, metrics-server, ingress-class`);
    });

    it("the preflight chart renders the ConfigMap the check reads, from Helm's capabilities", () => {
        const template = fs.readFileSync(path.join(PREFLIGHT_CHART, "templates", "capabilities.yaml"), "utf8");
        expect(template).to.contain("name: cluster-capabilities");
        expect(template).to.contain("apiVersions: {{ toJson .Capabilities.APIVersions | quote }}");
        expect(fs.readFileSync(path.join(PREFLIGHT_CHART, "Chart.yaml"), "utf8")).to.match(/^apiVersion: v2$/m);
    });
});
