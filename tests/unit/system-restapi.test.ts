import { expect } from "chai";
import { planRestApiSystem, RestApiSystem, RestApiSystemArgs, validateRestApiSystemArgs } from "../../components/systems/restapi";
import { PART_DEFAULTS, REST_PARTS } from "../../components/restapi/spec";
import { byName, capture, ofType, T, valueOf } from "./helpers";
import { RecordedResource } from "./mocks";
import { packViolations, toPlain } from "./stack-resources";

const quota = { requestsCpu: "8", requestsMemory: "16Gi", limitsCpu: "32", limitsMemory: "64Gi", requestsStorage: "100Gi", pods: 80, persistentVolumeClaims: 20 };
const limits = { defaultRequest: { cpu: "100m", memory: "128Mi" }, default: { cpu: "500m", memory: "512Mi" }, max: { cpu: "4", memory: "8Gi" } };

function args(over: Partial<RestApiSystemArgs> = {}): RestApiSystemArgs {
    return {
        namespace: "shop", quota, limits, name: "shop", ingressNamespace: "ingress-nginx",
        spec: { image: "ghcr.io/acme/shop:2.0.1", blueGreen: { enabled: true, activeEnvironment: "blue" } },
        observability: { namespace: "shop-monitoring", prometheusStorage: "20Gi", grafanaStorage: "5Gi", apiServerCidrs: ["10.96.0.1/32"] },
        ...over,
    };
}

/** Allowed flows, as "from -> to: ports", computed by the policy pack's own analysis. */
async function flows(res: RecordedResource[]): Promise<string[]> {
    const traffic = await import("../../policies/traffic");
    const report = traffic.trafficReport(traffic.fromPlain(toPlain(res)), { ingressNamespaces: ["ingress-nginx"] });
    return report.graph.edges
        .filter(e => !e.to.startsWith("kube-system/"))
        .map(e => `${e.from} -> ${e.to}: ${traffic.portLabel(e.ports).replace(/, /g, ",")}`).sort();
}

describe("RestApiSystem (restapi-operator.md)", () => {
    let res: RecordedResource[];
    let system: RestApiSystem;
    before(async () => { res = await capture(() => { system = new RestApiSystem("restapi", args()); }); });

    it("runs all four parts in both colours with an HPA each", () => {
        expect(ofType(res, T.deployment).filter(d => d.inputs.metadata.namespace === "shop")).to.have.length(8);
        expect(ofType(res, T.hpa).filter(h => h.inputs.metadata.namespace === "shop")).to.have.length(8);
    });

    it("points every part at the collector for traces", () => {
        const env = byName(res, T.configMap, "shop-env").inputs.data;
        expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).to.equal("http://shop-obs-otel-collector.shop-monitoring.svc.cluster.local:4317");
    });

    it("allows exactly the design's flows: view from outside, MVC+R among the parts of one colour, scrapes and traces", async () => {
        const colour = (part: string) => ["blue", "green"].map(c => `shop/shop-${part}-${c}`);
        const expected: string[] = [];
        const add = (from: string[], to: string[], ports: string) => from.forEach(f => to.forEach(t => expected.push(`${f} -> ${t}: ${ports}`)));
        // Between parts only within a colour: blue never calls green, green never calls blue.
        const sameColour = (from: string, to: string, ports: string) => ["blue", "green"]
            .forEach(c => expected.push(`shop/shop-${from}-${c} -> shop/shop-${to}-${c}: ${ports}`));
        const port = (p: keyof typeof PART_DEFAULTS) => `TCP/${PART_DEFAULTS[p].port}`;
        add(["ingress-nginx/*"], colour("view"), port("view"));
        sameColour("view", "model", port("model"));
        sameColour("model", "controller", port("controller"));
        sameColour("controller", "model", port("model"));
        sameColour("controller", "repository", port("repository"));
        sameColour("repository", "controller", port("controller"));
        sameColour("controller", "view", port("view"));
        REST_PARTS.forEach(p => add(["shop-monitoring/shop-obs-prometheus"], colour(p), port(p)));
        REST_PARTS.forEach(p => add(colour(p), ["shop-monitoring/shop-obs-otel-collector"], "TCP/4317,TCP/4318"));
        const actual = (await flows(res)).filter(f => f.includes("shop/shop-"));
        expect(actual).to.deep.equal(expected.sort());
    });

    it("exposes Grafana to the ingress controller and keeps its password in a Secret", async () => {
        expect(await valueOf(system.grafanaAdminSecretName!)).to.equal("shop-obs-grafana-admin");
        expect((await flows(res)).filter(f => f.startsWith("ingress-nginx/*"))).to.deep.equal([
            "ingress-nginx/* -> shop-monitoring/shop-obs-grafana: TCP/3000",
            "ingress-nginx/* -> shop/shop-view-blue: TCP/3000",
            "ingress-nginx/* -> shop/shop-view-green: TCP/3000",
        ]);
    });

    it("passes the prod policy pack", async () => {
        expect(await packViolations(res, "prod")).to.deep.equal([]);
    });

    describe("public routes (restapi.ingress)", () => {
        let routed: RecordedResource[];
        let withRoutes: RestApiSystem;
        before(async () => {
            routed = await capture(() => {
                withRoutes = new RestApiSystem("routed", args({
                    name: "web", namespace: "web", observability: undefined, ingress: { host: "shop.example.com", clusterIssuer: "letsencrypt" },
                }));
            });
        });
        const rule = (r: RecordedResource) => {
            const rule0 = r.inputs.spec.rules[0];
            return { host: rule0.host, service: rule0.http.paths[0].backend.service, tls: r.inputs.spec.tls[0].hosts };
        };

        it("routes the host to the view's stable Service", () => {
            expect(rule(byName(routed, T.ingress, "web-view"))).to.deep.equal({
                host: "shop.example.com", service: { name: "web-view", port: { number: 3000 } }, tls: ["shop.example.com"],
            });
        });

        it("routes preview.<host> to the idle colour's view (the -preview Service)", async () => {
            expect(rule(byName(routed, T.ingress, "web-preview"))).to.deep.equal({
                host: "preview.shop.example.com", service: { name: "web-view-preview", port: { number: 3000 } }, tls: ["preview.shop.example.com"],
            });
            expect(await valueOf(withRoutes.publicPreviewUrl)).to.equal("https://preview.shop.example.com/");
        });

        it("has no preview route without blue/green", async () => {
            const single = await capture(() => new RestApiSystem("single", args({
                name: "one", namespace: "one", observability: undefined, spec: { image: "ghcr.io/acme/shop:2.0.1" },
                ingress: { host: "one.example.com", clusterIssuer: "letsencrypt" },
            })));
            expect(ofType(single, T.ingress).map(i => i.inputs.metadata.name)).to.deep.equal(["one-view"]);
        });
    });

    it("runs without observability when none is configured", async () => {
        const bare = await capture(() => new RestApiSystem("bare", args({ name: "bare", namespace: "bare", observability: undefined })));
        expect(ofType(bare, T.deployment).map(d => d.inputs.metadata.namespace)).to.deep.equal(Array(8).fill("bare"));
        expect(byName(bare, T.configMap, "bare-env").inputs.data.OTEL_EXPORTER_OTLP_ENDPOINT).to.equal(undefined);
    });

    it("refuses a storage size that is not a quantity (the check of args built by hand, before any constructor)", () => {
        expect(() => validateRestApiSystemArgs("RestApiSystem(bad)", args({ observability: { ...args().observability!, prometheusStorage: "lots" } })))
            .to.throw('RestApiSystem(bad).observability.prometheusStorage: "lots" is not a storage quantity');
    });

    it("plans the children from the args alone, registering nothing", async () => {
        const planned = await capture(() => {
            const plan = planRestApiSystem(args());
            expect(plan.monitoringBaseline).to.deep.equal({ name: "shop-monitoring", quota, limits, holdsProtectedData: undefined });
            expect(plan.obsName).to.equal("shop-obs");
            expect(plan.observability!("shop-monitoring", "shop").scrapeNamespaces).to.deep.equal(["shop"]);
        });
        expect(planned).to.deep.equal([]);
    });
});
