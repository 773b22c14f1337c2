import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { basicAuthPodAnnotations, CANARY_STEPS, IstioTraffic, IstioTrafficArgs, MeshEdge, MeshEdgeArgs, MeshPolicy, TrafficSplit } from "../../components/mesh";
import { NamespaceBaseline } from "../../components/k8s/namespace";
import { Workload } from "../../components/k8s/workload";
import { httpProbe, livenessTcp } from "../../components/k8s/container";
import { PackConfig } from "../../policies/policies";
import { PlainResource, runAll } from "../../policies/testing/harness";
import { capture, deepClone, valueOf, T } from "./helpers";


const stable = { host: "orders-view-blue.restapi.svc.cluster.local", port: 3000 };
const canary = { host: "orders-view-green.restapi.svc.cluster.local", port: 3000 };

function trafficArgs(split: TrafficSplit, over: Partial<IstioTrafficArgs> = {}): IstioTrafficArgs {
    return {
        istioInstalled: true,
        gateway: { namespace: "istio-system", hosts: ["api.greenfield.example.com"], credentialName: "api-greenfield-tls" },
        virtualServices: [{ name: "orders", namespace: "restapi", hosts: ["api.greenfield.example.com"], split }],
        ...over,
    };
}

const route = (res: { type: string; inputs: any }[]) =>
    res.filter(r => r.type === T.virtualService)[0].inputs.spec.http[0].route.map((r: { destination: { host: string }; weight: number }) => [r.destination.host, r.weight]);

describe("MeshPolicy", () => {
    it("enforces STRICT mutual TLS in every listed namespace", async () => {
        const res = await capture(() => new MeshPolicy("mtls", { istioInstalled: true, namespaces: ["restapi", "databases"] }));
        const pas = res.filter(r => r.type === T.peerAuthentication);
        expect(pas.map(p => [p.inputs.metadata.namespace, p.inputs.metadata.name, p.inputs.spec])).to.deep.equal([
            ["restapi", "default", { mtls: { mode: "STRICT" } }],
            ["databases", "default", { mtls: { mode: "STRICT" } }],
        ]);
        expect(pas[0].inputs.apiVersion).to.equal("security.istio.io/v1");
        expect(pas[0].inputs.kind).to.equal("PeerAuthentication");
    });

    it("uses v1beta1 for older Istio installations when asked", async () => {
        const res = await capture(() => new MeshPolicy("mtls-old", { istioInstalled: true, apiVersion: "v1beta1", namespaces: ["apps"] }));
        expect(res.filter(r => r.type === "kubernetes:security.istio.io/v1beta1:PeerAuthentication")).to.have.length(1);
    });

    it("refuses clearly when the mesh is on but Istio is not declared installed", async () => {
        const res = await capture(() => {
            expect(() => new MeshPolicy("no-istio", { istioInstalled: false, namespaces: ["apps"] }))
                .to.throw(/^MeshPolicy\(no-istio\)\.istioInstalled: false: the mesh is enabled but Istio is not declared installed; .*peerauthentications\.security\.istio\.io.*allowed: true$/);
        });
        expect(res).to.have.length(0);
    });

    it("refuses an unknown mode and duplicate namespaces", () => {
        expect(() => new MeshPolicy("m1", { istioInstalled: true, namespaces: ["a"], mode: "DISABLE" as never }))
            .to.throw("MeshPolicy(m1).mode: \"DISABLE\" is not allowed; allowed: STRICT, PERMISSIVE");
        expect(() => new MeshPolicy("m2", { istioInstalled: true, namespaces: ["a", "a"] }))
            .to.throw("MeshPolicy(m2).namespaces: a namespace is listed twice");
    });
});

describe("IstioTraffic", () => {
    it("opens the gateway on 80 (redirect) and 443 with the TLS credential", async () => {
        const res = await capture(() => new IstioTraffic("gw", trafficArgs({ strategy: "canary", stable, canary, canaryWeight: 0 })));
        const gw = res.filter(r => r.type === T.gateway)[0].inputs;
        expect(gw.metadata).to.include({ name: "gw", namespace: "istio-system" });
        expect(gw.spec.selector).to.deep.equal({ istio: "ingressgateway" });
        expect(gw.spec.servers).to.deep.equal([
            { port: { number: 80, name: "http", protocol: "HTTP" }, hosts: ["api.greenfield.example.com"], tls: { httpsRedirect: true } },
            { port: { number: 443, name: "https", protocol: "HTTPS" }, hosts: ["api.greenfield.example.com"], tls: { mode: "SIMPLE", credentialName: "api-greenfield-tls" } },
        ]);
        const vs = res.filter(r => r.type === T.virtualService)[0].inputs;
        expect(vs.spec.gateways).to.deep.equal(["istio-system/gw", "mesh"]);
        expect(vs.spec.hosts).to.deep.equal(["api.greenfield.example.com"]);
    });

    for (const step of CANARY_STEPS) {
        it(`sends ${step}% to the canary at step ${step}`, async () => {
            const res = await capture(() => new IstioTraffic(`canary-${step}`, trafficArgs({ strategy: "canary", stable, canary, canaryWeight: step })));
            expect(route(res)).to.deep.equal([[stable.host, 100 - step], [canary.host, step]]);
        });
    }

    it("switches blue/green with all-or-nothing weights", async () => {
        const blue = { host: "orders-view-blue", port: 3000 };
        const green = { host: "orders-view-green", port: 3000 };
        const toGreen = await capture(() => new IstioTraffic("bg-green", trafficArgs({ strategy: "blue-green", blue, green, active: "green" })));
        expect(route(toGreen)).to.deep.equal([["orders-view-blue", 0], ["orders-view-green", 100]]);
        const t = new IstioTraffic("bg-blue", trafficArgs({ strategy: "blue-green", blue, green, active: "blue" }));
        expect(await valueOf(t.weights)).to.deep.equal({ orders: { "orders-view-blue": 100, "orders-view-green": 0 } });
    });

    it("routes to DestinationRule subsets, with prefix, timeout and retries", async () => {
        const res = await capture(() => new IstioTraffic("subsets", trafficArgs({
            strategy: "canary", stable: { host: "orders", port: 80, subset: "v1" }, canary: { host: "orders", port: 80, subset: "v2" }, canaryWeight: 25,
        }, {
            gateway: undefined,
            virtualServices: [{
                name: "orders", namespace: "restapi", hosts: ["orders"], uriPrefix: "/api", timeout: "10s", retries: { attempts: 3, perTryTimeout: "2s" },
                split: { strategy: "canary", stable: { host: "orders", port: 80, subset: "v1" }, canary: { host: "orders", port: 80, subset: "v2" }, canaryWeight: 25 },
            }],
        })));
        const http = res.filter(r => r.type === T.virtualService)[0].inputs.spec.http[0];
        expect(http.match).to.deep.equal([{ uri: { prefix: "/api" } }]);
        expect(http.route).to.deep.equal([
            { destination: { host: "orders", port: { number: 80 }, subset: "v1" }, weight: 75 },
            { destination: { host: "orders", port: { number: 80 }, subset: "v2" }, weight: 25 },
        ]);
        expect(http.timeout).to.equal("10s");
        expect(http.retries).to.deep.equal({ attempts: 3, perTryTimeout: "2s" });
        expect(res.filter(r => r.type === T.virtualService)[0].inputs.spec.gateways).to.deep.equal(["mesh"]);
    });

    describe("refuses bad input before registering anything", () => {
        const cases: [string, () => IstioTrafficArgs, string][] = [
            ["a weight that is not a canary step", () => trafficArgs({ strategy: "canary", stable, canary, canaryWeight: 30 }),
                "IstioTraffic(bad).virtualServices[0].split.canaryWeight: 30 is not a canary step; allowed: 0, 5, 25, 50, 100"],
            ["an unknown active colour", () => trafficArgs({ strategy: "blue-green", blue: stable, green: canary, active: "red" as never }),
                "IstioTraffic(bad).virtualServices[0].split.active: \"red\" is not allowed; allowed: blue, green"],
            ["an unknown strategy", () => trafficArgs({ strategy: "shadow" } as never),
                "IstioTraffic(bad).virtualServices[0].split.strategy: \"shadow\" is not allowed; allowed: canary, blue-green"],
            ["a bad destination port", () => trafficArgs({ strategy: "canary", stable, canary: { host: "x", port: 0 }, canaryWeight: 5 }),
                "IstioTraffic(bad).virtualServices[0].split.canary.port: 0 is not allowed; allowed: an integer from 1 to 65535"],
            ["Istio not installed", () => ({ ...trafficArgs({ strategy: "canary", stable, canary, canaryWeight: 5 }), istioInstalled: false }),
                "IstioTraffic(bad).istioInstalled: false: the mesh is enabled but Istio is not declared installed"],
            ["a gateway without credential", () => trafficArgs({ strategy: "canary", stable, canary, canaryWeight: 5 }, { gateway: { namespace: "istio-system", hosts: ["a.example.com"], credentialName: "" } }),
                "IstioTraffic(bad).gateway.credentialName: \"\" is not allowed"],
        ];
        for (const [what, make, message] of cases) {
            it(what, async () => {
                const res = await capture(() => {
                    expect(() => new IstioTraffic("bad", make())).to.throw(message);
                });
                expect(res).to.have.length(0);
            });
        }
    });
});

describe("mesh resources and the policy pack", () => {
    it("are ignored by the pack: a meshed namespace still passes the prod pack with zero violations", async () => {
        const quota = { requestsCpu: "4", requestsMemory: "8Gi", limitsCpu: "8", limitsMemory: "16Gi", requestsStorage: "100Gi", pods: 50, persistentVolumeClaims: 20 };
        const limits = { defaultRequest: { cpu: "100m", memory: "128Mi" }, default: { cpu: "500m", memory: "512Mi" }, max: { cpu: "4", memory: "8Gi" } };
        const res = await capture(() => {
            new NamespaceBaseline("ns-greenfield", { name: "greenfield", quota, limits });
            new Workload("fastapi", {
                namespace: "greenfield", identity: { name: "fastapi", component: "fastapi", partOf: "greenfield" }, kind: "Deployment", replicas: 2,
                containers: [{
                    name: "app", image: "example/fastapi:1.0.0", ports: [{ name: "http", containerPort: 8000 }],
                    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
                    livenessProbe: livenessTcp(8000), readinessProbe: httpProbe("/health", 8000),
                }],
                servicePorts: [{ name: "http", port: 80, targetPort: 8000 }],
                traffic: { ingress: [{ peer: { kind: "namespace", namespace: "ingress-nginx" }, ports: [{ port: 8000 }] }], egress: [] },
            });
            new MeshPolicy("mesh", { istioInstalled: true, namespaces: ["greenfield"] });
            new IstioTraffic("mesh", trafficArgs({ strategy: "canary", stable: { host: "fastapi", port: 80 }, canary: { host: "fastapi-canary", port: 80 }, canaryWeight: 25 }));
        });
        expect(res.filter(r => r.type === T.peerAuthentication || r.type === T.virtualService || r.type === T.gateway)).to.have.length(3);
        const cfg = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "policies", "config.prod.json"), "utf8")) as PackConfig;
        const plain: PlainResource[] = res.filter(r => r.type.startsWith("kubernetes:")).map(r => ({ type: r.type, name: r.name, props: deepClone(r.inputs) }));
        const violations = await runAll(plain, cfg);
        expect(violations.map(v => `${v.policy}: ${v.message}`)).to.deep.equal([]);
    });
});

describe("MeshEdge (the nginx path's rate limit and basic auth on gateway routes)", () => {
    const route = { role: "api", namespace: "greenfield", selector: { "app.kubernetes.io/instance": "api" }, rateLimit: { rps: 7, burstMultiplier: 3 } };

    it("one EnvoyFilter per route on its pods' inbound sidecar: the token bucket from rps and burst, basic auth after it", async () => {
        const res = await capture(() => new MeshEdge("edge", { istioInstalled: true, routes: [route, { ...route, role: "ui", selector: { app: "ui" }, basicAuth: true }] }));
        const filters = res.filter(r => r.type === T.envoyFilter).map(r => r.inputs);
        expect(filters.map(f => [f.apiVersion, f.metadata.name, f.metadata.namespace, f.spec.workloadSelector.labels])).to.deep.equal([
            ["networking.istio.io/v1alpha3", "edge-api", "greenfield", { "app.kubernetes.io/instance": "api" }],
            ["networking.istio.io/v1alpha3", "edge-ui", "greenfield", { app: "ui" }],
        ]);
        const api = filters[0].spec.configPatches;
        expect(api).to.have.length(1);
        expect(api[0].match.listener.filterChain.filter).to.deep.equal({ name: "envoy.filters.network.http_connection_manager", subFilter: { name: "envoy.filters.http.router" } });
        expect(api[0].patch.value.typed_config.token_bucket).to.deep.equal({ max_tokens: 21, tokens_per_fill: 7, fill_interval: "1s" });
        expect(api[0].patch.value.typed_config.filter_enforced.default_value).to.deep.equal({ numerator: 100, denominator: "HUNDRED" });
        expect(filters[1].spec.configPatches.map((p: any) => p.patch.value.name)).to.deep.equal(["envoy.filters.http.local_ratelimit", "envoy.filters.http.basic_auth"]);
        expect(basicAuthPodAnnotations("s")["sidecar.istio.io/userVolume"]).to.equal('{"edge-basic-auth":{"secret":{"secretName":"s","items":[{"key":"auth","path":"auth"}]}}}');
    });

    const cases: [string, Partial<MeshEdgeArgs>, string | RegExp][] = [
        ["Istio not declared installed", { istioInstalled: false }, /^MeshEdge\(edge\)\.istioInstalled: false: the mesh is enabled but Istio is not declared installed/],
        ["no route", { routes: [] }, "MeshEdge(edge).routes: no route; allowed: at least one { role, namespace, selector, rateLimit }"],
        ["an empty selector", { routes: [{ ...route, selector: {} }] },
            "MeshEdge(edge).routes[0].selector: empty: it would select every pod of the namespace; allowed: the destination's pod labels"],
        ["a route twice", { routes: [route, route] }, "MeshEdge(edge).routes[1].role: api is protected twice; allowed: one entry per route"],
        ["a rate of 0", { routes: [{ ...route, rateLimit: { rps: 0 } }] }, /^MeshEdge\(edge\)\.routes\[0\]\.rateLimit\.rps: /],
    ];
    for (const [what, over, message] of cases) {
        it(`refuses ${what} before registering anything`, async () => {
            let error = "";
            const res = await capture(() => {
                try {
                    new MeshEdge("edge", { istioInstalled: true, routes: [route], ...over });
                } catch (e) {
                    error = (e as Error).message;
                }
            });
            expect(res).to.deep.equal([]);
            if (typeof message === "string") {
                expect(error).to.equal(message);
            } else {
                expect(error).to.match(message);
            }
        });
    }
});
