/**
 * The metric catalogue (components/observability/catalogue.ts) and what it guarantees: every metric
 * an alert rule or a dashboard panel of a system queries is produced by something that system
 * deploys. Metric names are read from the generated rule files and dashboard JSON of every stack
 * with the Prometheus project's PromQL grammar (@prometheus-io/lezer-promql); the producers from the
 * workloads each system runs (app.kubernetes.io/name) and the scrape jobs of its Prometheus.
 */
import { expect } from "chai";
import * as yaml from "js-yaml";
import { parser as promql } from "@prometheus-io/lezer-promql";
import {
    CATALOGUE, DASHBOARDS, KUBERNETES_ALERTS, KubeStateMetrics, KUBE_STATE_METRICS_KINDS, metricNames, OUTBOX_ALERTS,
    producedMetrics, Producer, selectAlertGroups, selectDashboards,
} from "../../components/observability";
import { CSTORE_ALERTS } from "../../components/systems/cstore/plan";
import { RecordedResource } from "./mocks";
import { byName, capture, ofType, podSpec, T } from "./helpers";
import { ALL_STACKS, builtStack } from "./stack-resources";

const PART_OF = "app.kubernetes.io/part-of";
const NAME = "app.kubernetes.io/name";

/** Metric names of an expression according to the official grammar: the Identifier of every VectorSelector. */
function parsedMetricNames(expr: string): string[] {
    const names: string[] = [];
    promql.parse(expr).iterate({
        enter: n => {
            if (n.name === "Identifier" && n.node.parent?.name === "VectorSelector") {
                const name = expr.slice(n.from, n.to);
                if (!names.includes(name)) {
                    names.push(name);
                }
            }
        },
    });
    return names;
}

const ALL_EXPRS: string[] = [
    ...[OUTBOX_ALERTS, CSTORE_ALERTS, KUBERNETES_ALERTS].flatMap(g => g.rules.map(r => r.expr)),
    ...DASHBOARDS.flatMap(d => d.panels.flatMap(p => p.targets.map(t => t.expr))),
];

/** What one system's Prometheus and Grafana query, and what the system runs. */
interface SystemMetrics {
    partOf: string;
    /** "<where>: <expr>" of every rule and dashboard target. */
    queries: { where: string; expr: string }[];
    producers: Producer[];
}

const isProducer = (x: string): x is Producer => Object.prototype.hasOwnProperty.call(CATALOGUE, x);

/** Per system (app.kubernetes.io/part-of) of a built stack: its rule and dashboard queries and its producers. */
function systemsOf(res: RecordedResource[]): SystemMetrics[] {
    const configMaps = ofType(res, T.configMap);
    const systems = new Map<string, SystemMetrics>();
    const system = (partOf: string) => {
        if (!systems.has(partOf)) {
            systems.set(partOf, { partOf, queries: [], producers: [] });
        }
        return systems.get(partOf)!;
    };
    for (const cm of configMaps) {
        const partOf = cm.inputs.metadata.labels?.[PART_OF];
        const data: Record<string, string> = cm.inputs.data ?? {};
        for (const [key, text] of Object.entries(data)) {
            if (key === "alerts.rules.yaml") {
                for (const g of (yaml.load(text) as { groups: { name: string; rules: { alert: string; expr: string }[] }[] }).groups) {
                    system(partOf).queries.push(...g.rules.map(r => ({ where: `${g.name}/${r.alert}`, expr: r.expr })));
                }
            } else if (key === "prometheus.yaml") {
                const jobs = (yaml.load(text) as { scrape_configs: { job_name: string }[] }).scrape_configs.map(j => j.job_name);
                // The kubelet runs on every node: its scrape jobs are its producers. Every other producer must run as a workload.
                system(partOf).producers.push(...jobs.filter((j): j is Producer => j === "kubelet" || j === "cadvisor"));
            } else if (cm.inputs.metadata.labels?.["grafana.platform.io/dashboard"] === "true" && key.endsWith(".json")) {
                const d = JSON.parse(text) as { uid: string; panels: { title: string; targets: { expr: string }[] }[] };
                for (const p of d.panels) {
                    system(partOf).queries.push(...p.targets.map(t => ({ where: `${d.uid}/${p.title}`, expr: t.expr })));
                }
            }
        }
    }
    for (const w of [...ofType(res, T.deployment), ...ofType(res, T.statefulSet)]) {
        const labels = w.inputs.spec.template.metadata.labels ?? {};
        const app = labels[NAME];
        if (systems.has(labels[PART_OF]) && isProducer(app)) {
            system(labels[PART_OF]).producers.push(app);
        }
    }
    return [...systems.values()].filter(s => s.queries.length > 0);
}

/** "<where>: <metric>" of every query metric no producer of the system exports. */
function unproduced(s: SystemMetrics): string[] {
    const produced = producedMetrics(s.producers);
    return s.queries.flatMap(q => parsedMetricNames(q.expr).filter(m => !produced.has(m)).map(m => `${q.where}: ${m}`));
}

describe("metric catalogue", () => {
    describe("metricNames", () => {
        it("finds the same metric names as the PromQL grammar in every rule and dashboard expression", () => {
            for (const expr of ALL_EXPRS) {
                expect(metricNames(expr), expr).to.deep.equal(parsedMetricNames(expr));
            }
        });

        it("skips functions, aggregations, grouping labels, label values, durations, offsets and keywords", () => {
            const expr = 'sum by (job, le) (rate(a_total{x="b_total", y=~"c|d"}[5m] offset 1h)) / on (job) group_left (le) max(b > bool 0) unless c_total';
            expect(metricNames(expr)).to.deep.equal(["a_total", "b", "c_total"]);
            expect(metricNames(expr)).to.deep.equal(parsedMetricNames(expr));
        });
    });

    describe("selection", () => {
        it("loads an alert group only when every rule's metrics are produced", () => {
            const groups = selectAlertGroups([OUTBOX_ALERTS, KUBERNETES_ALERTS], ["prometheus", "kube-state-metrics", "kubelet", "cadvisor", "rest-service"]);
            expect(groups.map(g => g.name)).to.deep.equal(["kubernetes"]);
        });

        it("keeps the dashboard targets whose metrics are produced and drops empty panels and dashboards", () => {
            const ds = selectDashboards(DASHBOARDS, ["prometheus", "fastapi"]);
            expect(ds.map(d => d.uid)).to.deep.equal(["platform-application"]);
            const titles = ds[0].panels.map(p => p.title);
            expect(titles).to.not.include("gRPC latency p50 / p95 / p99");
            const rate = ds[0].panels.find(p => p.title === "Request rate (throughput)")!;
            expect(rate.targets.map(t => t.legendFormat)).to.deep.equal(["{{job}} HTTP"]);
        });

        it("lists histograms with their _bucket, _sum and _count series", () => {
            const produced = producedMetrics(["fastapi"]);
            expect([...produced].sort()).to.deep.equal([
                "http_request_duration_seconds_bucket", "http_request_duration_seconds_count", "http_request_duration_seconds_sum", "http_requests_total",
            ]);
        });
    });

    describe("KubeStateMetrics", () => {
        it("lists and watches exactly the kinds it exports, nothing else, bound to its own ServiceAccount", async () => {
            const res = await capture(() => new KubeStateMetrics("ksm", { namespace: "mon", namespaces: ["apps"], apiServer: { cidrs: ["10.0.0.1/32"] } }));
            const role = byName(res, T.clusterRole, "mon-ksm").inputs;
            expect(role.rules).to.deep.equal([
                { apiGroups: [""], resources: ["pods", "nodes", "persistentvolumeclaims"], verbs: ["list", "watch"] },
                { apiGroups: ["apps"], resources: ["deployments", "statefulsets"], verbs: ["list", "watch"] },
                { apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers"], verbs: ["list", "watch"] },
            ]);
            const binding = byName(res, T.clusterRoleBinding, "mon-ksm").inputs;
            expect(binding.roleRef.name).to.equal("mon-ksm");
            expect(binding.subjects).to.deep.equal([{ kind: "ServiceAccount", name: "ksm", namespace: "mon" }]);
            const spec = podSpec(byName(res, T.deployment, "ksm"));
            expect(spec.automountServiceAccountToken).to.equal(true);
            expect(spec.containers[0].args).to.deep.equal([
                "--port=8080", "--telemetry-port=8081", `--resources=${KUBE_STATE_METRICS_KINDS.map(k => k.resource).join(",")}`, "--namespaces=apps",
            ]);
        });

        it("reaches the API server only and takes its scrapers only, on 8080", async () => {
            const prom = { kind: "pods" as const, namespace: "mon", selector: { "app.kubernetes.io/instance": "prom" } };
            const res = await capture(() => new KubeStateMetrics("ksm-np", { namespace: "mon", apiServer: { cidrs: ["10.0.0.1/32"] }, scrapers: [prom] }));
            const np = ofType(res, T.netpol)[0].inputs.spec;
            expect(np.egress).to.deep.equal([{ to: [{ ipBlock: { cidr: "10.0.0.1/32" } }], ports: [{ port: 443, protocol: "TCP" }, { port: 6443, protocol: "TCP" }] }]);
            expect(np.ingress).to.deep.equal([{
                from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "mon" } }, podSelector: { matchLabels: prom.selector } }],
                ports: [{ port: 8080, protocol: "TCP" }],
            }]);
            expect(podSpec(byName(res, T.deployment, "ksm-np")).containers[0].args).to.not.include.members(["--namespaces="]);
        });
    });

    for (const stack of ALL_STACKS) {
        describe(`${stack}: every system queries only metrics it produces`, () => {
            let systems: SystemMetrics[] = [];
            let res: RecordedResource[] = [];
            before(async function () {
                // The first test file to ask builds the whole stack under the mocks (shared with the others).
                this.timeout(120000);
                res = (await builtStack(stack)).res;
                systems = systemsOf(res);
            });

            it("finds the rule and dashboard queries of every system with a Prometheus", () => {
                expect(systems.map(s => s.partOf).sort()).to.deep.equal(["cstore", "greenfield", "outbox", "restapi"]);
                for (const s of systems) {
                    expect(s.producers, s.partOf).to.include.members(["prometheus", "kube-state-metrics", "kubelet", "cadvisor"]);
                }
            });

            it("loads per system the alert groups and dashboards its producers feed, and only those", () => {
                const loaded: Record<string, { groups: string[]; dashboards: string[] }> = {};
                for (const cm of ofType(res, T.configMap)) {
                    const partOf = cm.inputs.metadata.labels?.[PART_OF];
                    const entry = loaded[partOf] ??= { groups: [], dashboards: [] };
                    for (const [key, text] of Object.entries<string>(cm.inputs.data ?? {})) {
                        if (key === "alerts.rules.yaml") {
                            entry.groups.push(...(yaml.load(text) as { groups: { name: string }[] }).groups.map(g => g.name));
                        } else if (cm.inputs.metadata.labels?.["grafana.platform.io/dashboard"] === "true") {
                            entry.dashboards.push((JSON.parse(text) as { uid: string }).uid);
                        }
                    }
                }
                const of = (partOf: string) => ({ groups: loaded[partOf].groups, dashboards: [...loaded[partOf].dashboards].sort() });
                expect(of("cstore")).to.deep.equal({ groups: ["cstore", "kubernetes"], dashboards: ["platform-application", "platform-redis", "platform-resources"] });
                expect(of("outbox")).to.deep.equal({
                    groups: ["outbox-events", "kubernetes"], dashboards: ["platform-application", "platform-database", "platform-kafka", "platform-resources"],
                });
                // FastAPI's HTTP metrics and the Redis exporter: no Kafka lag, no SQL pool, no gRPC in greenfield.
                expect(of("greenfield")).to.deep.equal({ groups: ["kubernetes"], dashboards: ["platform-application", "platform-redis", "platform-resources"] });
                // The RestAPI design names no metric of its parts: the platform's own only.
                expect(of("restapi")).to.deep.equal({ groups: ["kubernetes"], dashboards: ["platform-resources"] });
            });

            it("has a producer for every metric of every alert rule and dashboard panel", () => {
                for (const s of systems) {
                    expect(unproduced(s), s.partOf).to.deep.equal([]);
                }
            });

            it("fails when an exporter is removed: CStore without its Redis exporter, every system without kube-state-metrics", () => {
                const without = (app: string) => systemsOf(res.filter(r => r.type !== T.deployment || r.inputs.spec.template.metadata.labels?.[NAME] !== app));
                const cstore = without("redis-exporter").find(s => s.partOf === "cstore")!;
                expect(unproduced(cstore)).to.include.members(["cstore/CStoreRedisDown: redis_up", "platform-redis/Connected clients: redis_connected_clients"]);
                for (const s of without("kube-state-metrics")) {
                    expect(unproduced(s).some(m => m.endsWith(": kube_deployment_status_replicas_unavailable")), s.partOf).to.equal(true);
                }
            });
        });
    }
});
