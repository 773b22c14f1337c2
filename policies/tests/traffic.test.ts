import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { toK8sResource } from "../lib/k8s";
import { analyzeTraffic, checkPlan, DEFAULT_PLAN, renderMarkdown, renderMermaid, trafficPlan, trafficReport, PlanRule } from "../traffic";
import { main as cli } from "../traffic/mermaid-cli";
import { deployment, labels, mutate, namespaceBundle, netpol, workload } from "./fixtures";
import { PlainResource } from "../testing/harness";
import { checkStack } from "./util";

const k8s = (list: PlainResource[]) => list.map((r) => toK8sResource(r.type, r.props, r.name));
const edges = (list: PlainResource[]) => analyzeTraffic(k8s(list), { extraNamespaces: ["ingress-nginx", "kube-system"] }).edges.map((e) => `${e.from} -> ${e.to} ${e.ports ? e.ports.map((p) => `${p.protocol}/${p.port}`).join(",") : "any"}`);

const sel = (name: string) => ({ matchLabels: { "app.kubernetes.io/name": name } });
const fromIngress = { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } } };

// restapi in namespace "api": view <- ingress; view -> model:8080
const view = deployment({ ns: "api", name: "view", labels: labels("restapi", "view") });
const model = deployment({ ns: "api", name: "model", labels: labels("restapi", "model") });
const viewPolicy = netpol("api", "view", {
    podSelector: sel("view"),
    policyTypes: ["Ingress", "Egress"],
    ingress: [{ from: [fromIngress], ports: [{ protocol: "TCP", port: 3000 }] }],
    egress: [{ to: [{ podSelector: sel("model") }], ports: [{ protocol: "TCP", port: 8080 }] }],
});
const modelPolicy = netpol("api", "model", {
    podSelector: sel("model"),
    policyTypes: ["Ingress", "Egress"],
    ingress: [{ from: [{ podSelector: sel("view") }], ports: [{ protocol: "TCP", port: 8080 }] }],
});
const base = [...namespaceBundle("api"), view, model, viewPolicy, modelPolicy];

describe("traffic analysis", () => {
    it("a flow needs the source's egress and the target's ingress", () => {
        expect(edges(base)).to.deep.equal([
            "api/model -> kube-system/k8s-app=kube-dns TCP/53,UDP/53",
            "api/view -> api/model TCP/8080",
            "api/view -> kube-system/k8s-app=kube-dns TCP/53,UDP/53",
            "ingress-nginx/* -> api/view TCP/3000",
        ]);
    });
    it("egress-side block: the target's ingress alone does not make a flow", () => {
        const noEgress = mutate(viewPolicy, "props.spec.egress", []);
        expect(edges([...base.filter((r) => r !== viewPolicy), noEgress])).to.not.include("api/view -> api/model TCP/8080");
    });
    it("ingress-side block: the source's egress alone does not make a flow", () => {
        const noIngress = mutate(modelPolicy, "props.spec.ingress", []);
        expect(edges([...base.filter((r) => r !== modelPolicy), noIngress])).to.not.include("api/view -> api/model TCP/8080");
    });
    it("ports are intersected between both sides", () => {
        const wider = mutate(viewPolicy, "props.spec.egress.0.ports", [{ protocol: "TCP", port: 8000, endPort: 9000 }]);
        expect(edges([...base.filter((r) => r !== viewPolicy), wider])).to.include("api/view -> api/model TCP/8080");
    });
    it("named ports resolve against the target's container ports", () => {
        const named = mutate(modelPolicy, "props.spec.ingress.0.ports", [{ port: "http" }]);
        expect(edges([...base.filter((r) => r !== modelPolicy), named])).to.include("api/view -> api/model TCP/8080");
    });
    it("without default deny every workload is reachable from outside on any port", () => {
        const open = base.filter((r) => !["api-default-deny", "api-allow-dns"].includes(r.name) && r !== modelPolicy && r !== viewPolicy);
        expect(edges(open)).to.include("external -> api/model any");
        expect(edges(open)).to.include("api/view -> api/model any");
    });
    it("namespaceSelector peers match workloads of the labelled namespaces only", () => {
        const web = deployment({ ns: "web", name: "view", labels: labels("restapi", "view") });
        const team = mutate(namespaceBundle("web")[0], "props.metadata.labels", { team: "front" });
        const webEgress = netpol("web", "out", { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "api" } } }] }] });
        const allowTeam = mutate(modelPolicy, "props.spec.ingress.0.from", [{ namespaceSelector: { matchLabels: { team: "front" } }, podSelector: sel("view") }]);
        const list = [...base.filter((r) => r !== modelPolicy), allowTeam, team, web, webEgress];
        expect(edges(list)).to.include("web/view -> api/model TCP/8080");
        expect(edges(list)).to.not.include("api/view -> api/model TCP/8080");
        const otherTeam = mutate(team, "props.metadata.labels", { team: "back" });
        expect(edges([...list.filter((r) => r !== team), otherTeam])).to.not.include("web/view -> api/model TCP/8080");
    });
    it("ipBlock peers become endpoints outside the cluster", () => {
        const https = mutate(viewPolicy, "props.spec.egress.1", { to: [{ ipBlock: { cidr: "10.0.0.0/8", except: ["10.1.0.0/16"] } }], ports: [{ port: 443 }] });
        expect(edges([...base.filter((r) => r !== viewPolicy), https])).to.include("api/view -> ipBlock:10.0.0.0/8 except 10.1.0.0/16 TCP/443");
    });
    it("a NetworkPolicy with unknown values is reported as skipped, not crashed on", () => {
        const unknown = mutate(modelPolicy, "props.spec.podSelector", "04da6b54-80e4-46f7-96ec-b56ff0331ba9");
        const g = analyzeTraffic(k8s([...base.filter((r) => r !== modelPolicy), unknown]));
        expect(g.skippedPolicies).to.deep.equal(["api/model"]);
    });
});

describe("traffic-plan", () => {
    it("passes the flows of the designs", async () => {
        expect(await checkStack(trafficPlan, base)).to.deep.equal([]);
    });
    it("reports a flow from outside to a component other than the view", async () => {
        const exposed = mutate(modelPolicy, "props.spec.ingress.1", { from: [fromIngress], ports: [{ port: 8080 }] });
        expect(await checkStack(trafficPlan, [...base.filter((r) => r !== modelPolicy), exposed])).to.deep.equal([
            "flow ingress-nginx/* -> api/model on TCP/8080 is not in the traffic plan",
        ]);
    });
    it("reports only the ports outside the plan", async () => {
        const cstore = [
            ...namespaceBundle("cs"),
            deployment({ ns: "cs", name: "redis-exporter", labels: labels("cstore", "redis-exporter") }),
            deployment({ ns: "cs", name: "redis", labels: labels("cstore", "redis") }),
            netpol("cs", "exporter", { podSelector: sel("redis-exporter"), policyTypes: ["Egress"], egress: [{ to: [{ podSelector: sel("redis") }], ports: [{ port: 6379 }, { port: 6380 }] }] }),
            netpol("cs", "redis", { podSelector: sel("redis"), policyTypes: ["Ingress"], ingress: [{ from: [{ podSelector: sel("redis-exporter") }] }] }),
        ];
        expect(await checkStack(trafficPlan, cstore)).to.deep.equal(["flow cs/redis-exporter -> cs/redis on TCP/6380 is not in the traffic plan"]);
    });
    it("MongoDB only from the CStore API", async () => {
        const mk = (from: string) => [
            ...namespaceBundle("cs"),
            deployment({ ns: "cs", name: from, labels: labels("cstore", from) }),
            deployment({ ns: "cs", name: "mongodb", labels: labels("cstore", "mongodb") }),
            netpol("cs", "client", { podSelector: sel(from), policyTypes: ["Egress"], egress: [{ to: [{ podSelector: sel("mongodb") }], ports: [{ port: 27017 }] }] }),
            netpol("cs", "mongodb", { podSelector: sel("mongodb"), policyTypes: ["Ingress"], ingress: [{ from: [{ podSelector: sel(from) }], ports: [{ port: 27017 }] }] }),
        ];
        expect(await checkStack(trafficPlan, mk("api"))).to.deep.equal([]);
        expect(await checkStack(trafficPlan, mk("grafana"))).to.deep.equal(["flow cs/grafana -> cs/mongodb on TCP/27017 is not in the traffic plan"]);
    });
    it("each outbox service reaches only its own database (platform.io/owner)", async () => {
        const svc = (name: string, component: string, owner?: string) =>
            deployment({ ns: "ob", name, labels: { ...labels("outbox", component, name), ...(owner ? { "platform.io/owner": owner } : {}) } });
        const list = [
            ...namespaceBundle("ob"),
            svc("rest-service", "rest-service"),
            svc("restdb", "database", "rest-service"),
            svc("grpcdb", "database", "grpc-service"),
            netpol("ob", "rest", { podSelector: sel("rest-service"), policyTypes: ["Egress"], egress: [{ to: [{ podSelector: { matchLabels: { "app.kubernetes.io/component": "database" } } }], ports: [{ port: 5432 }] }] }),
            netpol("ob", "dbs", { podSelector: { matchLabels: { "app.kubernetes.io/component": "database" } }, policyTypes: ["Ingress"], ingress: [{ from: [{ podSelector: sel("rest-service") }], ports: [{ port: 5432 }] }] }),
        ];
        expect(await checkStack(trafficPlan, list)).to.deep.equal(["flow ob/rest-service -> ob/grpcdb on TCP/5432 is not in the traffic plan"]);
    });
    it("reports flows of workloads without part-of unless allow-listed", async () => {
        const stray = deployment({ ns: "api", name: "debug", labels: { "app.kubernetes.io/name": "debug" } });
        const strayPolicy = netpol("api", "debug", { podSelector: sel("debug"), policyTypes: ["Egress"], egress: [{ to: [{ podSelector: sel("model") }], ports: [{ port: 8080 }] }] });
        const modelOpen = mutate(modelPolicy, "props.spec.ingress.0.from.1", { podSelector: sel("debug") });
        const list = [...base.filter((r) => r !== modelPolicy), modelOpen, stray, strayPolicy];
        expect(await checkStack(trafficPlan, list)).to.deep.equal(["flow api/debug -> api/model on TCP/8080 is not in the traffic plan"]);
        expect(await checkStack(trafficPlan, list, { allowedUnlabeled: ["api/debug"] })).to.deep.equal([]);
        expect(await checkStack(trafficPlan, list, { allowedUnlabeled: ["api/*"] })).to.deep.equal([]);
        expect(await checkStack(trafficPlan, list, { allowedUnlabeled: ["other/*"] })).to.have.length(1);
    });
    it("extraRules extend the plan; ingressNamespaces is configurable", async () => {
        const exposed = mutate(modelPolicy, "props.spec.ingress.1", { from: [fromIngress], ports: [{ port: 8080 }] });
        const list = [...base.filter((r) => r !== modelPolicy), exposed];
        const extra: PlanRule[] = [{ description: "test", from: { outside: true }, to: { role: "model" }, ports: [{ port: 8080 }] }];
        expect(await checkStack(trafficPlan, list, { extraRules: extra })).to.deep.equal([]);
        // with no ingress namespace configured, ingress-nginx is an unknown namespace, not "outside"
        expect(await checkStack(trafficPlan, base, { ingressNamespaces: [] })).to.deep.equal([
            "flow ingress-nginx/* -> api/view on TCP/3000 is not in the traffic plan",
        ]);
    });
    it("a missing default-deny shows up as flows outside the plan", async () => {
        const msgs = await checkStack(trafficPlan, base.filter((r) => r.name !== "api-default-deny" && r !== modelPolicy));
        expect(msgs).to.include("flow external -> api/model on any is not in the traffic plan");
    });
    it("Alertmanager: Prometheus in on 9093, its own peers on 9094, HTTPS out; nothing else", () => {
        const am = (id: string, instance: string) => ({
            id, kind: "workload" as const, namespace: "alerting", name: id.split("/")[1],
            labels: { ...labels("alerting", "alertmanager"), "app.kubernetes.io/instance": instance },
        });
        const graph = {
            endpoints: [
                { id: "m/p", kind: "workload" as const, namespace: "m", name: "p", labels: labels("restapi", "prometheus") },
                am("alerting/alertmanager", "alertmanager"),
                am("alerting/other", "other"),
                { id: "ipBlock:203.0.113.0/24", kind: "ipBlock" as const, labels: {} },
            ],
            edges: [
                { from: "m/p", to: "alerting/alertmanager", ports: [{ protocol: "TCP", port: 9093 }] },
                { from: "alerting/alertmanager", to: "alerting/alertmanager", ports: [{ protocol: "TCP", port: 9094 }, { protocol: "UDP", port: 9094 }] },
                { from: "alerting/alertmanager", to: "ipBlock:203.0.113.0/24", ports: [{ protocol: "TCP", port: 443 }] },
                { from: "alerting/alertmanager", to: "ipBlock:203.0.113.0/24", ports: [{ protocol: "TCP", port: 80 }] },
                { from: "alerting/alertmanager", to: "alerting/other", ports: [{ protocol: "TCP", port: 9094 }] },
            ],
            skippedPolicies: [],
        };
        expect(checkPlan(graph, DEFAULT_PLAN, { ingressNamespaces: ["ingress-nginx"], allowedUnlabeled: [] }).map((v) => v.message)).to.deep.equal([
            "flow alerting/alertmanager -> ipBlock:203.0.113.0/24 on TCP/80 is not in the traffic plan",
            "flow alerting/alertmanager -> alerting/other on TCP/9094 is not in the traffic plan",
        ]);
    });
    it("checkPlan works on a hand-made graph", () => {
        const graph = {
            endpoints: [
                { id: "a/x", kind: "workload" as const, namespace: "a", name: "x", labels: labels("greenfield", "fastapi") },
                { id: "a/k", kind: "workload" as const, namespace: "a", name: "k", labels: labels("greenfield", "kafka") },
                { id: "a/z", kind: "workload" as const, namespace: "a", name: "z", labels: labels("greenfield", "zookeeper") },
            ],
            edges: [
                { from: "a/x", to: "a/k", ports: [{ protocol: "TCP", port: 9092 }] },
                { from: "a/k", to: "a/z", ports: [{ protocol: "TCP", port: 2181 }] },
                { from: "a/x", to: "a/z", ports: [{ protocol: "TCP", port: 2181 }] },
            ],
            skippedPolicies: [],
        };
        expect(checkPlan(graph, DEFAULT_PLAN, { ingressNamespaces: ["ingress-nginx"], allowedUnlabeled: [] }).map((v) => v.message)).to.deep.equal([
            "flow a/x -> a/z on TCP/2181 is not in the traffic plan",
        ]);
    });
});

describe("traffic Mermaid output", () => {
    it("renders namespaces as subgraphs and flows as labelled edges", () => {
        const { graph } = trafficReport(k8s(base));
        expect(renderMermaid(graph)).to.equal(
            [
                "flowchart LR",
                '    subgraph n_ns_api["namespace api"]',
                '        n_api_model["model"]',
                '        n_api_view["view"]',
                "    end",
                '    n_ingress_nginx__[/"ingress-nginx/*"/]',
                '    n_kube_system_k8s_app_kube_dns[/"kube-system/k8s-app=kube-dns"/]',
                '    n_api_model -->|"TCP/53, UDP/53"| n_kube_system_k8s_app_kube_dns',
                '    n_api_view -->|"TCP/8080"| n_api_model',
                '    n_api_view -->|"TCP/53, UDP/53"| n_kube_system_k8s_app_kube_dns',
                '    n_ingress_nginx__ -->|"TCP/3000"| n_api_view',
                "",
            ].join("\n"),
        );
    });
    it("marks flows outside the plan in the Markdown page", () => {
        const exposed = mutate(modelPolicy, "props.spec.ingress.1", { from: [fromIngress], ports: [{ port: 8080 }] });
        const { graph, violations } = trafficReport(k8s([...base.filter((r) => r !== modelPolicy), exposed]));
        const md = renderMarkdown(graph, "dev", violations);
        expect(md).to.contain("# Allowed traffic: dev");
        expect(md).to.contain("```mermaid\nflowchart LR");
        expect(md).to.contain('n_ingress_nginx__ -. "TCP/8080 (not in plan)" .-> n_api_model');
        expect(md).to.contain("| ingress-nginx/* | api/model | TCP/8080 | no (TCP/8080) |");
        expect(md).to.contain("| api/view | api/model | TCP/8080 | yes |");
    });
    it("the CLI reads {type, name, props} JSON and writes the Markdown", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "traffic-"));
        const input = path.join(dir, "resources.json");
        const out = path.join(dir, "traffic-dev.md");
        fs.writeFileSync(input, JSON.stringify(base));
        const write = process.stderr.write.bind(process.stderr);
        process.stderr.write = (() => true);
        try {
            expect(cli([input, out, "--stack", "dev"])).to.equal(0);
        } finally {
            process.stderr.write = write;
        }
        const md = fs.readFileSync(out, "utf8");
        expect(md).to.contain("# Allowed traffic: dev");
        expect(md).to.contain('n_api_view -->|"TCP/8080"| n_api_model');
        fs.rmSync(dir, { recursive: true, force: true });
    });
    it("works for every workload kind", () => {
        const job = workload("Job", { ns: "api", name: "migrate", labels: labels("restapi", "migrate") });
        const { graph } = trafficReport(k8s([...base, job]));
        expect(graph.endpoints.map((e) => e.id)).to.include("api/migrate");
    });
});
