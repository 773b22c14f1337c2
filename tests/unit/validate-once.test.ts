/**
 * Validate once, at the edge: each system's spec checks its children's args with the children's
 * own rules (config keys in the errors), its plan marks those args checked, and the components do
 * not check them again. A component built directly (no system in between) checks its own args.
 */
import { expect } from "chai";
import { Database } from "../../components/database/database";
import { IngressRoutes } from "../../components/edge/ingress";
import { checked, isChecked } from "../../components/k8s/validation";
import { validateMeshEdge } from "../../components/mesh/edge";
import { MeshPolicy, validateIstioTraffic, validateMeshPolicy } from "../../components/mesh/istio";
import { planCStore } from "../../components/systems/cstore/plan";
import { planDatabaseService } from "../../components/systems/database-service/plan";
import { planGreenfield } from "../../components/systems/greenfield/plan";
import { resolveGreenfieldSpec } from "../../components/systems/greenfield/spec";
import { planOutbox } from "../../components/systems/outbox/plan";
import { capture, platformConfig } from "./helpers";

describe("validate once: the systems hand their children checked args", () => {
    const cfg = platformConfig("prod");

    it("marks a copy of the args, never the object it was given, and not a copy of that copy", () => {
        const args = { replicas: 3 };
        const marked = checked(args);
        expect(isChecked(marked)).to.equal(true);
        expect(isChecked(args)).to.equal(false);
        expect(isChecked({ ...marked, replicas: 0 })).to.equal(false);
        expect(Object.keys(marked)).to.deep.equal(["replicas"]);
    });

    it("Greenfield: the data stores, the Kafka cluster and the edge", () => {
        const p = planGreenfield("greenfield", cfg.greenfield!);
        expect(isChecked(p.kafka("greenfield"))).to.equal(true);
        expect(p.edge === undefined || isChecked(p.edge("greenfield", { fastapi: "f", grafana: "g" }))).to.equal(true);
    });

    describe("Greenfield with the mesh on", () => {
        const mesh = { enabled: true, istioInstalled: true, gateway: { hosts: ["api.greenfield.example.com"], credentialName: "api-greenfield-tls" } };
        const planned = (release: Record<string, unknown>) => planGreenfield("greenfield", resolveGreenfieldSpec("greenfield", {
            apiServer: { cidrs: ["10.0.0.1/32"] }, mesh, fastapi: { image: "ghcr.io/k8s-platform/greenfield-fastapi:1.0.0", release },
            ingress: { domain: "example.com", clusterIssuer: "letsencrypt" },
        })).mesh!;

        for (const release of [
            { strategy: "blue-green", activeColor: "green", greenImage: "ghcr.io/k8s-platform/greenfield-fastapi:1.1.0" },
            { strategy: "canary", canaryImage: "ghcr.io/k8s-platform/greenfield-fastapi:1.1.0", canaryWeight: 25 },
        ]) {
            it(`${release.strategy}: the mesh policy, traffic and edge are checked, and pass the mesh components' own rules`, () => {
                const m = planned(release);
                expect([isChecked(m.policy), isChecked(m.traffic), isChecked(m.edge)]).to.deep.equal([true, true, true]);
                expect(validateMeshPolicy("p", m.policy)).to.equal("v1");
                expect(validateIstioTraffic("t", m.traffic)).to.equal("v1");
                expect(() => validateMeshEdge("e", m.edge)).not.to.throw();
                // Grafana's own host joins the gateway's.
                expect(m.traffic.gateway!.hosts).to.include("api.greenfield.example.com");
                expect(m.traffic.gateway!.hosts.length).to.equal(2);
            });
        }

        it("a MeshPolicy built directly still checks its args; one a plan marked is not checked again", async () => {
            const bad = { istioInstalled: true, namespaces: [] as string[] };
            const registered = await capture(() => {
                expect(() => new MeshPolicy("direct", bad)).to.throw("MeshPolicy(direct).namespaces: [] is not allowed");
            });
            expect(registered).to.have.length(0);
            // Marked checked, the same args register the component (no namespace: no PeerAuthentication).
            expect((await capture(() => new MeshPolicy("planned", checked(bad)))).map(r => r.type)).to.deep.equal(["platform:mesh:MeshPolicy"]);
        });
    });

    it("Outbox: each service's PostgreSQL, the Kafka cluster and the edge", () => {
        const p = planOutbox("outbox", cfg.outbox!);
        expect((["rest", "grpc", "worker"] as const).map(s => isChecked(p.database(s, "outbox")))).to.deep.equal([true, true, true]);
        expect(isChecked(p.kafka("outbox"))).to.equal(true);
        expect(isChecked(p.edge("outbox", { rest: "r", grpc: "g", grafana: "f" }))).to.equal(true);
    });

    it("CStore: MongoDB, Redis and the routes", () => {
        const p = planCStore("cstore", cfg.cstore!, true);
        const peers = p.peers("cstore");
        expect([isChecked(p.mongodb("cstore", peers)), isChecked(p.redis("cstore", peers))]).to.deep.equal([true, true]);
        expect(isChecked(p.ingress("cstore", { api: "a", cdn: "c", grafana: "g" }))).to.equal(true);
    });

    it("DatabaseService: every instance and every backup", () => {
        const p = planDatabaseService(cfg.databases, [], true);
        expect(p.instances.every(i => isChecked(i.database("databases")))).to.equal(true);
        const backups = p.instances.filter(i => i.backup).map(i => isChecked(i.backup!.args("databases", { host: "h", secretName: "s", selector: {} }, { ingress: [], egress: [] })));
        expect(backups).to.deep.equal(p.instances.filter(i => i.backup).map(() => true));
        expect(backups.length).to.be.greaterThan(0);
    });

    it("a component built directly still checks its own args before registering anything", async () => {
        const registered = await capture(() => {
            expect(() => new Database("direct", { namespace: "x", type: "postgresql", replicas: 0, storage: { size: "1Gi" } }))
                .to.throw("Database(direct).replicas: 0 is not allowed; allowed: an integer from 1 to 10");
            expect(() => new IngressRoutes("direct", { domain: "Example.COM", clusterIssuer: "ca", api: { namespace: "x", serviceName: "s", servicePort: 80 } }))
                .to.throw("IngressRoutes(direct).domain: \"Example.COM\" is not allowed");
        });
        expect(registered).to.have.length(0);
    });
});
