/**
 * The user-facing endpoints of Greenfield and Outbox: one TLS Ingress per host (cert-manager,
 * ingress-nginx rate limits, basic auth in front of Grafana, backend-protocol GRPC for gRPC), hosts
 * from the stack config, and NetworkPolicies that admit exactly the paths the Ingresses route.
 */
import { expect } from "chai";
import { parsePlatformConfig } from "../../config";
import { OutboxEvents } from "../../components/systems/outbox";
import { RecordedResource } from "./mocks";
import { byName, capture, deepClone, ofType, podSpec, stackConfig, stackSecrets, T } from "./helpers";
import { builtStack } from "./stack-resources";

const N = "nginx.ingress.kubernetes.io";
const NS_LABEL = "kubernetes.io/metadata.name";

function ingressesIn(res: RecordedResource[], ns: string): RecordedResource[] {
    return ofType(res, T.ingress).filter(i => i.inputs.metadata.namespace === ns);
}

/** host -> "path service:port" of every Ingress in the namespace. */
function routes(res: RecordedResource[], ns: string): Record<string, string[]> {
    return Object.fromEntries(ingressesIn(res, ns).map(i => {
        const rule = i.inputs.spec.rules[0];
        return [rule.host, rule.http.paths.map((p: any) => `${p.path} ${p.backend.service.name}:${p.backend.service.port.number}`)];
    }));
}

const matchesSelector = (selector: Record<string, string>, labels: Record<string, string>) =>
    Object.entries(selector).every(([k, v]) => labels[k] === v);

/** "service:targetPort" of every pod port a NetworkPolicy of the namespace opens to the ingress controller's namespace. */
function admittedFromIngress(res: RecordedResource[], ns: string): string[] {
    const out = new Set<string>();
    const services = ofType(res, T.service).filter(s => s.inputs.metadata.namespace === ns && s.inputs.spec.selector);
    for (const np of ofType(res, T.netpol).filter(p => p.inputs.metadata.namespace === ns)) {
        for (const rule of np.inputs.spec.ingress ?? []) {
            if (!(rule.from ?? []).some((f: any) => f.namespaceSelector?.matchLabels?.[NS_LABEL] === "ingress-nginx")) {
                continue;
            }
            for (const svc of services) {
                // The Service's pods are the policy's pods: it selects a subset of what the policy selects.
                if (!matchesSelector(np.inputs.spec.podSelector.matchLabels ?? {}, svc.inputs.spec.selector)) {
                    continue;
                }
                for (const p of rule.ports) {
                    const sp = svc.inputs.spec.ports.find((x: any) => (x.targetPort ?? x.port) === p.port);
                    if (sp) {
                        out.add(`${svc.inputs.metadata.name}:${sp.port}`);
                    }
                }
            }
        }
    }
    return [...out].sort();
}

function routedServicePorts(res: RecordedResource[], ns: string): string[] {
    return [...new Set(Object.values(routes(res, ns)).flat().map(r => r.split(" ")[1]))].sort();
}

describe("user-facing endpoints (greenfield, outbox)", () => {
    describe("prod", () => {
        let res: RecordedResource[];
        before(async () => { ({ res } = await builtStack("prod")); });

        it("routes FastAPI and Grafana (/grafana) of greenfield on the configured hosts", () => {
            expect(routes(res, "greenfield")).to.deep.equal({
                "api.greenfield.example.com": ["/ greenfield-fastapi:8000"],
                "monitoring.greenfield.example.com": ["/grafana greenfield-obs-grafana:3000"],
            });
        });

        it("routes the outbox REST API only (gRPC and Grafana stay closed by default)", () => {
            expect(routes(res, "outbox")).to.deep.equal({ "api.outbox.example.com": ["/ outbox-rest-service:8080"] });
        });

        it("gives every host TLS from the letsencrypt-prod ClusterIssuer with HTTPS forced, on the nginx class", () => {
            for (const ns of ["greenfield", "outbox"]) {
                for (const i of ingressesIn(res, ns)) {
                    const host = i.inputs.spec.rules[0].host;
                    expect(i.inputs.spec.ingressClassName).to.equal("nginx");
                    expect(i.inputs.spec.tls).to.deep.equal([{ hosts: [host], secretName: `${host.replace(/\./g, "-")}-tls` }]);
                    expect(i.inputs.metadata.annotations).to.include({
                        "cert-manager.io/cluster-issuer": "letsencrypt-prod", [`${N}/force-ssl-redirect`]: "true",
                    });
                    expect(i.inputs.metadata.annotations["pulumi.com/skipAwait"]).to.equal(undefined);
                }
            }
        });

        it("rate-limits per client IP as CStore does: the APIs 20 rps, Grafana 10 rps", () => {
            const limits = (name: string) => {
                const a = byName(res, T.ingress, name).inputs.metadata.annotations;
                return [a[`${N}/limit-rps`], a[`${N}/limit-burst-multiplier`], a[`${N}/limit-connections`]];
            };
            expect(limits("greenfield-edge-api")).to.deep.equal(["20", "5", "50"]);
            expect(limits("outbox-edge-api")).to.deep.equal(["20", "5", "50"]);
            expect(limits("greenfield-edge-grafana")).to.deep.equal(["10", "5", "20"]);
        });

        it("puts basic auth (a generated htpasswd Secret) in front of greenfield's Grafana, and serves Grafana under /grafana", () => {
            const a = byName(res, T.ingress, "greenfield-edge-grafana").inputs.metadata.annotations;
            expect(a).to.include({ [`${N}/auth-type`]: "basic", [`${N}/auth-secret`]: "greenfield-edge-grafana-basic-auth" });
            expect(byName(res, T.secret, "greenfield-edge-grafana-basic-auth").inputs.metadata.namespace).to.equal("greenfield");
            const env = Object.fromEntries(podSpec(byName(res, T.deployment, "greenfield-obs-grafana")).containers[0].env
                .filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
            expect([env.GF_SERVER_ROOT_URL, env.GF_SERVER_SERVE_FROM_SUB_PATH]).to.deep.equal(["https://monitoring.greenfield.example.com/grafana", "true"]);
        });
    });

    for (const stack of ["dev", "prod", "local"]) {
        it(`${stack}: NetworkPolicies admit from the ingress controller exactly the Service ports the Ingresses route`, async () => {
            const { res } = await builtStack(stack);
            for (const ns of ["greenfield", "outbox"]) {
                expect(routedServicePorts(res, ns), ns).to.have.length.greaterThan(0);
                expect(admittedFromIngress(res, ns), ns).to.deep.equal(routedServicePorts(res, ns));
            }
        });
    }

    it("dev: the selfsigned issuer, and no wait for a load balancer address", async () => {
        const { res } = await builtStack("dev");
        const a = byName(res, T.ingress, "outbox-edge-api").inputs.metadata.annotations;
        expect([a["cert-manager.io/cluster-issuer"], a["pulumi.com/skipAwait"]]).to.deep.equal(["selfsigned", "true"]);
        expect(byName(res, T.ingress, "greenfield-edge-api").inputs.spec.rules[0].host).to.equal("api.greenfield.dev.example.com");
    });

    describe("outbox with gRPC and Grafana opened", () => {
        let res: RecordedResource[];
        before(async () => {
            const raw = deepClone(stackConfig("prod"));
            const o = raw.outbox as Record<string, any>;
            raw.outbox = {
                ...o, namespace: "obx",
                grpcService: { ...o.grpcService, external: true },
                observability: { ...o.observability, grafana: { fromIngress: true } },
                ingress: { ...o.ingress, grpc: { host: "tasks.outbox.example.com" } },
            };
            delete raw.greenfield;
            delete raw.cstore;
            const cfg = parsePlatformConfig(raw, stackSecrets("prod"));
            res = await capture(() => new OutboxEvents("obx", { spec: cfg.outbox! }));
        });

        it("routes gRPC to the gRPC Service over HTTP/2 (backend-protocol GRPC) behind TLS", () => {
            const i = byName(res, T.ingress, "obx-edge-grpc").inputs;
            expect(routes(res, "obx")["tasks.outbox.example.com"]).to.deep.equal(["/ obx-grpc-service:50051"]);
            expect(i.metadata.annotations).to.include({ [`${N}/backend-protocol`]: "GRPC", [`${N}/ssl-redirect`]: "true" });
            expect(i.spec.tls).to.deep.equal([{ hosts: ["tasks.outbox.example.com"], secretName: "tasks-outbox-example-com-tls" }]);
        });

        it("routes Grafana under /grafana with basic auth, and the REST API without a protocol annotation", () => {
            expect(routes(res, "obx")["monitoring.outbox.example.com"]).to.deep.equal(["/grafana obx-obs-grafana:3000"]);
            expect(byName(res, T.ingress, "obx-edge-grafana").inputs.metadata.annotations[`${N}/auth-type`]).to.equal("basic");
            expect(byName(res, T.ingress, "obx-edge-api").inputs.metadata.annotations[`${N}/backend-protocol`]).to.equal(undefined);
        });

        it("admits from the ingress controller exactly the three routed Service ports", () => {
            expect(admittedFromIngress(res, "obx")).to.deep.equal(["obx-grpc-service:50051", "obx-obs-grafana:3000", "obx-rest-service:8080"]);
            expect(routedServicePorts(res, "obx")).to.deep.equal(admittedFromIngress(res, "obx"));
        });
    });

    describe("greenfield without Grafana's external access", () => {
        it("routes FastAPI only", async () => {
            const raw = deepClone(stackConfig("dev"));
            const g = raw.greenfield as Record<string, any>;
            raw.greenfield = { ...g, namespace: "gfx", observability: { ...g.observability, grafana: { ...g.observability.grafana, externalAccess: false } } };
            delete raw.outbox;
            delete raw.cstore;
            const cfg = parsePlatformConfig(raw);
            const { GreenfieldCluster } = await import("../../components/systems/greenfield");
            const res = await capture(() => new GreenfieldCluster("gfx", { spec: cfg.greenfield! }));
            expect(routes(res, "gfx")).to.deep.equal({ "api.greenfield.dev.example.com": ["/ gfx-fastapi:8000"] });
            expect(admittedFromIngress(res, "gfx")).to.deep.equal(["gfx-fastapi:8000"]);
        });
    });
});
