import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { PlatformOutputs } from "../../platform";
import { PATCH_FORCE_ANNOTATION } from "../../components/k8s/metadata";
import { byName, hpaOf, isSecret, ofType, podSpec, stackConfig, T, valueOf } from "./helpers";
import { DATA_STORE } from "../../components/k8s/profile";
import { containsSecret, RecordedResource } from "./mocks";
import { builtStack } from "./stack-resources";

const build = builtStack;

/** Every Kubernetes object but claims carries patchForce, so `pulumi up` takes back by-hand changes. */
function itForcesApplyOnEveryObjectButClaims(resources: () => RecordedResource[]): void {
    it("lets Pulumi take back by-hand changes on every object but claims (patchForce)", () => {
        // Claims are left out: their spec is immutable but for expansion, which must never be forced back.
        const k8sObjects = resources().filter(r => r.type.startsWith("kubernetes:") && r.inputs.metadata);
        const missing = k8sObjects.filter(r => r.type !== T.pvc && r.inputs.metadata.annotations?.[PATCH_FORCE_ANNOTATION] !== "true")
            .map(r => `${r.type} ${r.name}`);
        expect(missing).to.deep.equal([]);
        const forcedClaims = k8sObjects.filter(r => r.type === T.pvc && r.inputs.metadata.annotations?.[PATCH_FORCE_ANNOTATION] !== undefined);
        expect(forcedClaims.map(r => r.name)).to.deep.equal([]);
        expect(new Set(k8sObjects.map(r => r.type)).size).to.be.greaterThan(15);
    });
}

/** Standalone claims (k8s/claim.ts) of a stack: [k8sName, protected, retained on delete]. */
async function claimsKept(stack: string): Promise<[string, boolean, boolean][]> {
    const { registrations } = await build(stack);
    return registrations.filter(r => r.type === T.pvc).map((r): [string, boolean, boolean] => [r.k8sName!, r.protect, r.retainOnDelete]).sort();
}

describe("standalone claims and protectData", () => {
    it("prod (protectData on) protects every standalone claim and retains it on delete", async () => {
        const claims = await claimsKept("prod");
        // The Prometheus and Grafana volumes, the RestAPI repository, the CDN assets, SQLite, the backups' storage.
        expect(claims.map(([n]) => n)).to.include.members([
            "monitoring/orders-obs-prometheus-data", "restapi/orders-repository-data", "databases/edge-cache-data", "cstore/cstore-cdn-static-assets",
            "outbox/outbox-restdb-backup-storage",
        ]);
        expect(claims.length).to.be.greaterThan(10);
        expect(claims.filter(([, p, r]) => !p || !r)).to.deep.equal([]);
    });

    it("dev (protectData off) keeps none", async () => {
        const claims = await claimsKept("dev");
        expect(claims.length).to.be.greaterThan(3);
        expect(claims.filter(([, p, r]) => p || r)).to.deep.equal([]);
    });
});

describe("stacks", () => {
    describe("dev", () => {
        let res: RecordedResource[];
        let out: PlatformOutputs;
        before(async () => ({ res, out } = await build("dev")));

        it("creates one baseline per namespace", () => {
            const names = ["alerting", "cstore", "databases", "greenfield", "monitoring", "outbox", "restapi"];
            expect(ofType(res, T.namespace).map(n => n.inputs.metadata.name).sort()).to.deep.equal(names);
            expect(ofType(res, T.netpol).filter(n => n.inputs.metadata.name === "default-deny").map(n => n.inputs.metadata.namespace).sort())
                .to.deep.equal(names);
        });

        itForcesApplyOnEveryObjectButClaims(() => res);

        it("runs single replicas and small volumes", () => {
            const sts = byName(res, T.statefulSet, "orders-db").inputs.spec;
            expect(sts.replicas).to.equal(1);
            expect(sts.volumeClaimTemplates[0].spec.resources.requests.storage).to.equal("1Gi");
            // The parts' HPAs own the counts: no spec.replicas, HPA minimum 1 each.
            const parts = ofType(res, T.deployment).filter(d => d.inputs.metadata.namespace === "restapi");
            expect(parts.map(d => d.inputs.spec.replicas)).to.deep.equal([undefined, undefined, undefined, undefined]);
            expect(parts.map(d => hpaOf(res, d.inputs.metadata.name)!.inputs.spec.minReplicas)).to.deep.equal([1, 1, 1, 1]);
            expect(ofType(res, T.pdb).filter(p => p.inputs.metadata.namespace !== "monitoring")).to.have.length(0);
        });

        it("runs Elasticsearch without transport TLS and no cert-manager objects (the local cluster has no cert-manager)", () => {
            const env = podSpec(byName(res, T.statefulSet, "search")).containers[0].env.map((e: { name: string }) => e.name);
            expect(env.filter((n: string) => n.startsWith("xpack.security.transport."))).to.deep.equal([]);
            expect(ofType(res, T.certificate).filter(c => c.inputs.metadata.namespace === "databases")).to.deep.equal([]);
        });

        it("runs no blue/green in dev", () => {
            expect(ofType(res, T.deployment).filter(d => d.inputs.metadata.namespace === "restapi").map(d => d.inputs.metadata.name).sort())
                .to.deep.equal(["orders-controller", "orders-model", "orders-repository", "orders-view"]);
        });

        it("lets only the RestAPI repository reach the databases", () => {
            const np = byName(res, T.netpol, "orders-db").inputs.spec;
            expect(np.ingress.map((r: { from: { podSelector: { matchLabels: Record<string, string> } }[] }) => r.from[0].podSelector.matchLabels))
                .to.deep.equal([{ "app.kubernetes.io/instance": "orders-repository", "app.kubernetes.io/part-of": "restapi" }]);
            const repo = byName(res, T.netpol, "orders-repository").inputs.spec;
            // Its controller, the two databases, and the OpenTelemetry collector (OTLP gRPC + HTTP).
            expect(repo.egress.map((r: { ports: { port: number }[] }) => r.ports.map(p => p.port).join("+")).sort())
                .to.deep.equal(["27017", "3306", "4317+4318", "5432", "6379", "8080", "8081", "9200"]);
        });

        it("exports database endpoints with secret connection URLs", async () => {
            expect(await valueOf(out.databases!.instances["orders-db"].host)).to.equal("orders-db.databases.svc.cluster.local");
            expect(await valueOf(out.databases!.instances["orders-cache"].port)).to.equal(6379);
            expect(await isSecret(out.databases!.instances["orders-db"].connectionUrl)).to.equal(true);
            expect(await valueOf(out.restapi!.viewUrl)).to.equal("http://orders-view.restapi.svc.cluster.local:3000");
        });

        it("keeps every generated password inside Secrets only", () => {
            const leaks = res.filter(r => r.type !== T.secret && r.type !== T.password && containsSecret(r.raw));
            expect(leaks.map(r => `${r.type} ${r.name}`)).to.deep.equal([]);
        });
    });

    describe("prod", () => {
        let res: RecordedResource[];
        before(async () => ({ res } = await build("prod")));

        itForcesApplyOnEveryObjectButClaims(() => res);

        it("runs the HA numbers: 3 database members with PDBs", () => {
            expect(byName(res, T.statefulSet, "orders-db").inputs.spec.replicas).to.equal(3);
            expect(byName(res, T.statefulSet, "orders-cache").inputs.spec.replicas).to.equal(3);
            expect(byName(res, T.pdb, "orders-db").inputs.spec.minAvailable).to.equal(2);
        });

        it("runs blue and green with the design's HPA bounds", () => {
            expect(ofType(res, T.deployment).filter(d => d.inputs.metadata.namespace === "restapi")).to.have.length(8);
            const ctl = byName(res, T.hpa, "orders-controller-blue").inputs.spec;
            expect([ctl.minReplicas, ctl.maxReplicas]).to.deep.equal([2, 20]);
            expect(byName(res, T.pdb, "orders-controller-green").inputs.spec.minAvailable).to.equal(1);
        });

        it("runs Elasticsearch with transport TLS from the search CA", () => {
            const env = Object.fromEntries(podSpec(byName(res, T.statefulSet, "search")).containers[0].env
                .map((e: { name: string; value?: string }) => [e.name, e.value]));
            expect(env["xpack.security.transport.ssl.enabled"]).to.equal("true");
            expect(env["xpack.security.transport.ssl.certificate"]).to.equal("/usr/share/elasticsearch/config/certs/transport/tls.crt");
            const dnsNames: string[] = byName(res, T.certificate, "search-transport").inputs.spec.dnsNames;
            expect(dnsNames).to.include.members([0, 1, 2].map(i => `search-${i}.search-headless.databases.svc.cluster.local`));
        });

        it("uses the prod storage class and sizes", () => {
            const claim = byName(res, T.statefulSet, "orders-db").inputs.spec.volumeClaimTemplates[0].spec;
            expect(claim.storageClassName).to.equal("ssd");
            expect(claim.resources.requests.storage).to.equal("20Gi");
            expect(podSpec(byName(res, T.statefulSet, "orders-db")).containers[0].resources.limits)
                .to.deep.equal({ cpu: "2", memory: "4Gi", "ephemeral-storage": DATA_STORE.ephemeralStorage.limit });
        });

        it("creates both deployer identities", () => {
            expect(ofType(res, T.role).map(r => r.inputs.metadata.labels["platform.io/deployer"]).sort()).to.deep.equal(["database", "restapi"]);
        });
    });

    describe("the program (index.ts)", () => {
        it("loads the stack config and exports the outputs", async function () {
            // The one test that builds a stack of its own (through index.ts), on a loaded 2-core machine.
            this.timeout(120000);
            const before = pulumi.runtime.allConfig();
            const cfg: Record<string, string> = {};
            for (const [k, v] of Object.entries(stackConfig("dev"))) {
                cfg[`k8s-platform:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
            }
            pulumi.runtime.setAllConfig(cfg);
            try {
                // eslint-disable-next-line @typescript-eslint/no-require-imports
                const program = await (require("../../index") as () => Promise<Record<string, any>>)();
                expect(program.environment).to.equal("dev");
                expect(await valueOf(program.databases.instances["orders-db"].secretName)).to.equal("orders-db-credentials");
                expect(await valueOf(program.databases.namespace)).to.equal("databases");
            } finally {
                pulumi.runtime.setAllConfig(before);
            }
        });
    });
});
