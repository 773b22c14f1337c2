/**
 * Observability (greenfield-cluster.md, cstore.md, outbox-events.md): the OTel collector, Jaeger,
 * Prometheus, Grafana and the Redis exporter under mocks. Generated configs are read back as YAML
 * (js-yaml) and JSON and checked as data; every alert and dashboard expression is parsed by the
 * Prometheus project's own PromQL grammar (@prometheus-io/lezer-promql); the whole stack passes the
 * policy pack with the prod config.
 */
import { expect } from "chai";
import * as yaml from "js-yaml";
import { parser as promql } from "@prometheus-io/lezer-promql";
import type { SyntaxNode } from "@lezer/common";
import { Database } from "../../components/database/database";
import { NamespaceBaseline } from "../../components/k8s/namespace";
import { Peer } from "../../components/k8s/traffic";
import { durationSeconds } from "../../components/k8s/validation";
import { Workload } from "../../components/k8s/workload";
import {
    alertRulesFile, DASHBOARDS, dashboardJson, DEFAULT_ALERT_GROUPS, Grafana, GrafanaArgs, Jaeger, JaegerArgs,
    ObservabilityStack, ObservabilityStackArgs, observabilityPeer, OtelCollector, OtelCollectorArgs, Prometheus, PrometheusArgs,
    PROMETHEUS_DATASOURCE_UID, JAEGER_DATASOURCE_UID, OUTBOX_ALERTS, RedisExporter, RedisExporterArgs, toYaml, validateAlertGroups,
} from "../../components/observability";
import { CSTORE_ALERTS } from "../../components/systems/cstore/plan";
import { packViolations } from "./stack-resources";
import { containsSecret, mockPassword } from "./mocks";
import { byName, capture, isSecret, ofType, platformConfig, podSpec, T, valueOf, withEphemeral } from "./helpers";
import { STATELESS } from "../../components/k8s/profile";

const PART_OF = "app.kubernetes.io/part-of";
const INSTANCE = "app.kubernetes.io/instance";

// ---------------------------------------------------------------------------------------------
// Helpers

/** Syntax errors of a PromQL expression according to the official Lezer grammar ([] = valid). */
function promqlErrors(expr: string): string[] {
    const errors: string[] = [];
    promql.parse(expr).iterate({
        enter: n => {
            if (n.type.isError) {
                errors.push(`syntax error at ${n.from}: ${JSON.stringify(expr.slice(Math.max(0, n.from - 10), n.to + 10))}`);
            }
        },
    });
    return errors;
}

/** The top-level comparison of an alert expression: operator node name and right-hand side text. */
function comparison(expr: string): { op: string; rhs: string; lhs: string } {
    const top = promql.parse(expr).topNode.firstChild!;
    expect(top.name, expr).to.equal("BinaryExpr");
    const lhs: SyntaxNode = top.firstChild!;
    const op = lhs.nextSibling!;
    const rhs = op.nextSibling!;
    return { op: op.name, lhs: expr.slice(lhs.from, lhs.to), rhs: expr.slice(rhs.from, rhs.to) };
}

function envOf(container: any, name: string): any {
    const e = container.env.find((x: { name: string }) => x.name === name);
    expect(e, `env ${name}`).to.not.equal(undefined);
    return e;
}

const ns = "monitoring";
const peerOf = (name: string, namespace = ns, partOf = "observability"): Peer => observabilityPeer(name, namespace, partOf);
const ingressNginx: Peer = { kind: "namespace", namespace: "ingress-nginx" };
const apiServer = { cidrs: ["10.0.0.1/32"] };

function jaegerArgs(over: Partial<JaegerArgs> = {}): JaegerArgs {
    return { namespace: ns, otlpClients: [peerOf("otel")], queryClients: [peerOf("grafana")], ...over };
}
function otelArgs(over: Partial<OtelCollectorArgs> = {}): OtelCollectorArgs {
    return {
        namespace: ns, jaeger: { peer: peerOf("jaeger"), host: "jaeger.monitoring.svc.cluster.local" },
        senders: [{ kind: "namespace", namespace: "apps" }], scrapers: [peerOf("prometheus")], ...over,
    };
}
function prometheusArgs(over: Partial<PrometheusArgs> = {}): PrometheusArgs {
    return {
        namespace: ns, storage: { size: "20Gi", storageClass: "fast" }, apiServer, clients: [peerOf("grafana")],
        scrapeTargets: [{ peer: { kind: "namespace", namespace: "apps" }, ports: [{ port: 8080 }] }],
        otelCollector: { peer: peerOf("otel"), namespace: ns, instance: "otel", port: 8889 },
        ...over,
    };
}
function grafanaArgs(over: Partial<GrafanaArgs> = {}): GrafanaArgs {
    return {
        namespace: ns,
        prometheus: { peer: peerOf("prometheus"), url: "http://prometheus.monitoring.svc.cluster.local:9090", port: 9090 },
        jaeger: { peer: peerOf("jaeger"), url: "http://jaeger.monitoring.svc.cluster.local:16686", port: 16686 },
        ingressFrom: [ingressNginx],
        ...over,
    };
}
function redisExporterArgs(over: Partial<RedisExporterArgs> = {}): RedisExporterArgs {
    return {
        namespace: ns,
        redis: { peer: { kind: "pods", namespace: "cstore", selector: { [INSTANCE]: "cache" } }, host: "cache.cstore.svc.cluster.local", secretName: "cache-credentials" },
        scrapers: [peerOf("prometheus")],
        ...over,
    };
}

const selectorOf = (p: Peer) => (p.kind === "pods" ? { matchLabels: p.selector } : undefined);

// ---------------------------------------------------------------------------------------------

describe("observability", () => {
    describe("toYaml", () => {
        it("round-trips through a YAML reader, quoting every string", () => {
            const value = { a: 1, on: "yes", list: [{ x: "1.0", y: [true, null] }, "0755"], empty: {}, none: [], nested: { "prometheus.io/scrape": "true" } };
            const text = toYaml(value);
            expect(yaml.load(text)).to.deep.equal(value);
        });
    });

    describe("OtelCollector", () => {
        it("runs 2 replicas with OTLP 4317/4318, the Prometheus exporter on 8889 and health on 13133", async () => {
            const res = await capture(() => new OtelCollector("otel", otelArgs()));
            const dep = byName(res, T.deployment, "otel");
            expect(dep.inputs.spec.replicas).to.equal(2);
            const c = podSpec(dep).containers[0];
            expect(c.image).to.equal("otel/opentelemetry-collector-contrib:0.111.0");
            expect(c.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort])).to.deep.equal([
                ["otlp-grpc", 4317], ["otlp-http", 4318], ["prometheus", 8889], ["health", 13133],
            ]);
            expect(c.livenessProbe.tcpSocket).to.deep.equal({ port: 13133 });
            expect(c.readinessProbe.httpGet).to.deep.equal({ path: "/", port: 13133 });
            expect(byName(res, T.service, "otel").inputs.spec.ports.map((p: { port: number }) => p.port)).to.deep.equal([4317, 4318]);
            expect(ofType(res, T.pdb)[0].inputs.spec.minAvailable).to.equal(1);
        });

        it("generates its pipeline config as YAML in a ConfigMap: OTLP in, traces to Jaeger, metrics to Prometheus", async () => {
            const res = await capture(() => new OtelCollector("otel-cfg", otelArgs()));
            const cm = byName(res, T.configMap, "otel-cfg-config");
            const cfg = yaml.load(cm.inputs.data["otel-collector.yaml"]) as any;
            expect(cfg.receivers.otlp.protocols).to.deep.equal({ grpc: { endpoint: "0.0.0.0:4317" }, http: { endpoint: "0.0.0.0:4318" } });
            expect(cfg.exporters["otlp/jaeger"]).to.deep.equal({ endpoint: "jaeger.monitoring.svc.cluster.local:4317", tls: { insecure: true } });
            expect(cfg.exporters.prometheus.endpoint).to.equal("0.0.0.0:8889");
            expect(cfg.extensions.health_check.endpoint).to.equal("0.0.0.0:13133");
            expect(cfg.service.extensions).to.deep.equal(["health_check"]);
            expect(cfg.service.pipelines).to.deep.equal({
                traces: { receivers: ["otlp"], processors: ["memory_limiter", "batch"], exporters: ["otlp/jaeger"] },
                metrics: { receivers: ["otlp"], processors: ["memory_limiter", "batch"], exporters: ["prometheus"] },
            });
            // Every component a pipeline names is defined.
            for (const p of Object.values<{ receivers: string[]; processors: string[]; exporters: string[] }>(cfg.service.pipelines)) {
                p.receivers.forEach(r => expect(cfg.receivers).to.have.property(r));
                p.processors.forEach(r => expect(cfg.processors).to.have.property(r));
                p.exporters.forEach(r => expect(cfg.exporters).to.have.property(r));
            }
            const spec = podSpec(byName(res, T.deployment, "otel-cfg"));
            expect(spec.containers[0].args).to.deep.equal(["--config=/etc/otelcol/otel-collector.yaml"]);
            expect(spec.volumes.find((v: { name: string }) => v.name === "config").configMap.name).to.equal(byName(res, T.configMap, "otel-cfg-config").inputs.metadata.name);
        });

        it("lets in the senders on OTLP and Prometheus on the exporter, and reaches only Jaeger", async () => {
            const res = await capture(() => new OtelCollector("otel-np", otelArgs()));
            const np = ofType(res, T.netpol)[0].inputs.spec;
            expect(np.ingress.map((r: any) => r.ports.map((p: { port: number }) => p.port))).to.deep.equal([[4317, 4318], [8889]]);
            expect(np.ingress[1].from[0].podSelector).to.deep.equal(selectorOf(peerOf("prometheus")));
            expect(np.egress).to.have.length(1);
            expect(np.egress[0].to[0].podSelector).to.deep.equal(selectorOf(peerOf("jaeger")));
            expect(np.egress[0].ports).to.deep.equal([{ port: 4317, protocol: "TCP" }]);
        });

        it("outputs the OTLP endpoints applications export to", async () => {
            const c = new OtelCollector("otel-out", otelArgs());
            expect(await valueOf(c.otlpGrpcEndpoint)).to.equal("http://otel-out.monitoring.svc.cluster.local:4317");
            expect(await valueOf(c.otlpHttpEndpoint)).to.equal("http://otel-out.monitoring.svc.cluster.local:4318");
            expect(await valueOf(c.replicas)).to.equal(2);
        });
    });

    describe("Jaeger", () => {
        it("runs all-in-one with in-memory storage, query UI 16686 and OTLP 4317/4318", async () => {
            const res = await capture(() => new Jaeger("jaeger", jaegerArgs()));
            const dep = byName(res, T.deployment, "jaeger");
            expect(dep.inputs.spec.replicas).to.equal(1);
            expect(dep.inputs.spec.strategy).to.deep.equal({ type: "Recreate" });
            const c = podSpec(dep).containers[0];
            expect(c.image).to.equal("jaegertracing/all-in-one:1.62.0");
            expect(envOf(c, "SPAN_STORAGE_TYPE").value).to.equal("memory");
            expect(envOf(c, "COLLECTOR_OTLP_ENABLED").value).to.equal("true");
            expect(byName(res, T.service, "jaeger").inputs.spec.ports.map((p: { name: string; port: number }) => [p.name, p.port]))
                .to.deep.equal([["query", 16686], ["otlp-grpc", 4317], ["otlp-http", 4318]]);
            const np = ofType(res, T.netpol)[0].inputs.spec;
            expect(np.ingress.map((r: any) => [r.from[0].podSelector.matchLabels[INSTANCE], r.ports.map((p: { port: number }) => p.port)]))
                .to.deep.equal([["otel", [4317, 4318]], ["grafana", [16686]]]);
            expect(np.egress).to.deep.equal([]);
        });

        it("outputs the query URL and the OTLP endpoint", async () => {
            const j = new Jaeger("jaeger-out", jaegerArgs());
            expect(await valueOf(j.queryUrl)).to.equal("http://jaeger-out.monitoring.svc.cluster.local:16686");
            expect(await valueOf(j.otlpGrpcEndpoint)).to.equal("jaeger-out.monitoring.svc.cluster.local:4317");
        });
    });

    describe("Prometheus", () => {
        it("keeps 30 days on a 20Gi ReadWriteOnce claim, with the Recreate strategy", async () => {
            const res = await capture(() => new Prometheus("prometheus", prometheusArgs()));
            const pvc = byName(res, T.pvc, "prometheus-data").inputs.spec;
            expect(pvc).to.deep.equal({ accessModes: ["ReadWriteOnce"], storageClassName: "fast", resources: { requests: { storage: "20Gi" } } });
            const dep = byName(res, T.deployment, "prometheus");
            expect(dep.inputs.spec.replicas).to.equal(1);
            expect(dep.inputs.spec.strategy).to.deep.equal({ type: "Recreate" });
            const c = podSpec(dep).containers[0];
            expect(c.image).to.equal("prom/prometheus:v2.54.1");
            expect(c.args).to.include("--storage.tsdb.retention.time=30d");
            expect(c.args).to.include("--storage.tsdb.path=/prometheus");
            expect(c.volumeMounts.find((m: { name: string }) => m.name === "data").mountPath).to.equal("/prometheus");
            expect(podSpec(dep).volumes.find((v: { name: string }) => v.name === "data").persistentVolumeClaim.claimName).to.equal("prometheus-data");
            expect(c.ports).to.deep.equal([{ name: "web", containerPort: 9090, protocol: "TCP" }]);
            expect(c.livenessProbe.httpGet.path).to.equal("/-/healthy");
            expect(c.readinessProbe.httpGet.path).to.equal("/-/ready");
        });

        it("sizes the volume and retention from args", async () => {
            const res = await capture(() => new Prometheus("prom-small", prometheusArgs({ storage: { size: "5Gi" }, retention: "7d" })));
            expect(byName(res, T.pvc, "prom-small-data").inputs.spec.resources.requests.storage).to.equal("5Gi");
            expect(podSpec(byName(res, T.deployment, "prom-small")).containers[0].args).to.include("--storage.tsdb.retention.time=7d");
        });

        it("scrapes every 15s, discovers annotated pods through Kubernetes and every OTel collector pod", async () => {
            const res = await capture(() => new Prometheus("prom-cfg", prometheusArgs()));
            const cfg = yaml.load(byName(res, T.configMap, "prom-cfg-config").inputs.data["prometheus.yaml"]) as any;
            expect(cfg.global).to.deep.equal({ scrape_interval: "15s", scrape_timeout: "10s", evaluation_interval: "15s" });
            expect(cfg.rule_files).to.deep.equal(["/etc/prometheus/rules/*.yaml"]);
            const jobs = Object.fromEntries(cfg.scrape_configs.map((j: { job_name: string }) => [j.job_name, j]));
            expect(Object.keys(jobs)).to.deep.equal(["prometheus", "kubernetes-pods", "otel-collector", "kubelet", "cadvisor"]);
            const pods = jobs["kubernetes-pods"];
            expect(pods.kubernetes_sd_configs).to.deep.equal([{ role: "pod" }]);
            expect(pods.relabel_configs[0]).to.deep.equal({
                source_labels: ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"], regex: "true", action: "keep",
            });
            const byTarget = Object.fromEntries(pods.relabel_configs.filter((r: any) => r.target_label).map((r: any) => [r.target_label, r]));
            expect(byTarget.__metrics_path__.source_labels).to.deep.equal(["__meta_kubernetes_pod_annotation_prometheus_io_path"]);
            expect(byTarget.__meta_kubernetes_pod_annotation_prometheus_io_port.action).to.equal("keepequal");
            const otel = jobs["otel-collector"];
            expect(otel.kubernetes_sd_configs).to.deep.equal([{ role: "pod", namespaces: { names: ["monitoring"] } }]);
            expect(otel.relabel_configs.slice(0, 2)).to.deep.equal([
                { source_labels: ["__meta_kubernetes_pod_label_app_kubernetes_io_instance"], regex: "otel", action: "keep" },
                { source_labels: ["__meta_kubernetes_pod_container_port_number"], regex: "8889", action: "keep" },
            ]);
            const dep = byName(res, T.deployment, "prom-cfg");
            expect(podSpec(dep).containers[0].args).to.include("--config.file=/etc/prometheus/config/prometheus.yaml");
            expect(dep.inputs.spec.template.metadata.annotations["checksum/config"]).to.match(/^[0-9a-f]{16}$/);
        });

        it("scrapes the kubelet's /metrics and /metrics/cadvisor of every node through the API server's node proxy with its token", async () => {
            const res = await capture(() => new Prometheus("prom-kubelet", prometheusArgs({ scrapeNamespaces: ["apps", "data"] })));
            const cfg = yaml.load(byName(res, T.configMap, "prom-kubelet-config").inputs.data["prometheus.yaml"]) as any;
            const jobs = Object.fromEntries(cfg.scrape_configs.map((j: { job_name: string }) => [j.job_name, j]));
            for (const [job, kubeletPath] of [["kubelet", "/metrics"], ["cadvisor", "/metrics/cadvisor"]]) {
                const j = jobs[job];
                expect(j.scheme, job).to.equal("https");
                expect(j.authorization).to.deep.equal({ credentials_file: "/var/run/secrets/kubernetes.io/serviceaccount/token" });
                expect(j.tls_config).to.deep.equal({ ca_file: "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt" });
                expect(j.kubernetes_sd_configs).to.deep.equal([{ role: "node" }]);
                expect(j.relabel_configs.slice(0, 2)).to.deep.equal([
                    { target_label: "__address__", replacement: "kubernetes.default.svc:443", action: "replace" },
                    { source_labels: ["__meta_kubernetes_node_name"], regex: "(.+)", target_label: "__metrics_path__", replacement: `/api/v1/nodes/$1/proxy${kubeletPath}`, action: "replace" },
                ]);
                // Only the system's namespaces' series, and the node's own (no namespace label).
                expect(j.metric_relabel_configs).to.deep.equal([{ source_labels: ["namespace"], regex: "|apps|data", action: "keep" }]);
            }
        });

        it("scrapes kube-state-metrics as a static target with its own labels when given, and reaches it on 8080 only", async () => {
            const ksm = { peer: peerOf("ksm"), target: "ksm.monitoring.svc.cluster.local:8080", port: 8080 };
            const res = await capture(() => new Prometheus("prom-ksm", prometheusArgs({ kubeStateMetrics: ksm })));
            const cfg = yaml.load(byName(res, T.configMap, "prom-ksm-config").inputs.data["prometheus.yaml"]) as any;
            expect(cfg.scrape_configs.find((j: { job_name: string }) => j.job_name === "kube-state-metrics")).to.deep.equal({
                job_name: "kube-state-metrics", honor_labels: true, static_configs: [{ targets: ["ksm.monitoring.svc.cluster.local:8080"] }],
            });
            const egress = ofType(res, T.netpol)[0].inputs.spec.egress;
            expect(egress).to.deep.include({
                to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } }, podSelector: { matchLabels: ksm.peer.kind === "pods" ? ksm.peer.selector : {} } }],
                ports: [{ port: 8080, protocol: "TCP" }],
            });
        });

        it("leaves the kubelet out when kubeletMetrics is false", async () => {
            const res = await capture(() => new Prometheus("prom-nokubelet", prometheusArgs({ kubeletMetrics: false })));
            const cfg = yaml.load(byName(res, T.configMap, "prom-nokubelet-config").inputs.data["prometheus.yaml"]) as any;
            expect(cfg.scrape_configs.map((j: { job_name: string }) => j.job_name)).to.deep.equal(["prometheus", "kubernetes-pods", "otel-collector"]);
        });

        it("uses a dedicated ServiceAccount with its token, bound to the read-only discovery ClusterRole", async () => {
            const res = await capture(() => new Prometheus("prom-rbac", prometheusArgs()));
            const sa = byName(res, T.serviceAccount, "prom-rbac");
            expect(sa.inputs.automountServiceAccountToken).to.equal(true);
            const spec = podSpec(byName(res, T.deployment, "prom-rbac"));
            expect(spec.serviceAccountName).to.equal("prom-rbac");
            expect(spec.automountServiceAccountToken).to.equal(true);
            const role = byName(res, T.clusterRole, "monitoring-prom-rbac-discovery");
            expect(role.inputs.rules).to.deep.equal([
                { apiGroups: [""], resources: ["nodes", "services", "endpoints", "pods"], verbs: ["get", "list", "watch"] },
                { apiGroups: ["networking.k8s.io"], resources: ["ingresses"], verbs: ["get", "list", "watch"] },
                { apiGroups: [""], resources: ["nodes/proxy"], verbs: ["get"] },
            ]);
            const binding = byName(res, T.clusterRoleBinding, "monitoring-prom-rbac-discovery").inputs;
            expect(binding.roleRef).to.deep.equal({ apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "monitoring-prom-rbac-discovery" });
            expect(binding.subjects).to.deep.equal([{ kind: "ServiceAccount", name: "prom-rbac", namespace: "monitoring" }]);
        });

        it("lets in Grafana only, and reaches its targets, the collector's exporter and the API server", async () => {
            const res = await capture(() => new Prometheus("prom-np", prometheusArgs()));
            const np = ofType(res, T.netpol)[0].inputs.spec;
            expect(np.ingress).to.deep.equal([{ from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } }, podSelector: selectorOf(peerOf("grafana")) }], ports: [{ port: 9090, protocol: "TCP" }] }]);
            expect(np.egress).to.deep.equal([
                { to: [{ ipBlock: { cidr: "10.0.0.1/32" } }], ports: [{ port: 443, protocol: "TCP" }, { port: 6443, protocol: "TCP" }] },
                { to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "apps" } }, podSelector: {} }], ports: [{ port: 8080, protocol: "TCP" }] },
                { to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } }, podSelector: selectorOf(peerOf("otel")) }], ports: [{ port: 8889, protocol: "TCP" }] },
            ]);
        });

        it("loads the alert rules from a ConfigMap", async () => {
            const res = await capture(() => new Prometheus("prom-rules", prometheusArgs()));
            const file = yaml.load(byName(res, T.configMap, "prom-rules-rules").inputs.data["alerts.rules.yaml"]) as any;
            expect(file).to.deep.equal(JSON.parse(JSON.stringify(alertRulesFile(DEFAULT_ALERT_GROUPS))));
            const spec = podSpec(byName(res, T.deployment, "prom-rules"));
            expect(spec.containers[0].volumeMounts.find((m: { name: string }) => m.name === "rules").mountPath).to.equal("/etc/prometheus/rules");
            expect(spec.volumes.find((v: { name: string }) => v.name === "rules").configMap.name).to.equal(byName(res, T.configMap, "prom-rules-rules").inputs.metadata.name);
        });

        it("puts the namespace into its cluster-scoped RBAC names (stacks in other namespaces may reuse the name)", async () => {
            const res = await capture(() => {
                new Prometheus("prom-twin", prometheusArgs());
                new Prometheus("prom-twin-b", prometheusArgs({ namespace: "monitoring-b" }));
            });
            expect(ofType(res, T.clusterRole).map(r => r.inputs.metadata.name)).to.deep.equal(["monitoring-prom-twin-discovery", "monitoring-b-prom-twin-b-discovery"]);
            expect(ofType(res, T.clusterRoleBinding).map(r => r.inputs.metadata.name)).to.deep.equal(["monitoring-prom-twin-discovery", "monitoring-b-prom-twin-b-discovery"]);
        });

        it("outputs its URL, retention and scrape interval", async () => {
            const p = new Prometheus("prom-out", prometheusArgs());
            expect(await valueOf(p.url)).to.equal("http://prom-out.monitoring.svc.cluster.local:9090");
            expect(await valueOf(p.retention)).to.equal("30d");
            expect(await valueOf(p.scrapeInterval)).to.equal("15s");
            expect(await valueOf(p.clusterRoleName)).to.equal("monitoring-prom-out-discovery");
        });
    });

    describe("alert rules (outbox-events.md)", () => {
        const file = alertRulesFile([OUTBOX_ALERTS]) as any;
        const rulesByName: Record<string, any> = Object.fromEntries(file.groups[0].rules.map((r: { alert: string }) => [r.alert, r]));

        it("has the design's six alerts (error rate for HTTP and gRPC), each with severity, summary and description", () => {
            expect(Object.keys(rulesByName)).to.deep.equal([
                "HighErrorRate", "HighGrpcErrorRate", "HighLatencyP95", "KafkaConsumerLagHigh", "DatabaseConnectionsHigh", "PodRestartingOften", "ThroughputDrop",
            ]);
            for (const r of Object.values(rulesByName)) {
                expect(["critical", "warning"]).to.include(r.labels.severity);
                expect(r.annotations.summary).to.be.a("string").and.not.equal("");
                expect(r.annotations.description).to.be.a("string").and.not.equal("");
            }
        });

        it("parses every expression with the Prometheus PromQL grammar", () => {
            for (const r of Object.values(rulesByName)) {
                expect(promqlErrors(r.expr), r.alert).to.deep.equal([]);
            }
            // The checker itself rejects broken PromQL.
            expect(promqlErrors("sum(rate(http_requests_total[5m]) >")).to.not.deep.equal([]);
            expect(promqlErrors("rate(http_requests_total[5m)")).to.not.deep.equal([]);
        });

        it("uses the design's thresholds and durations", () => {
            const t = (name: string) => comparison(rulesByName[name].expr);
            expect(t("HighErrorRate")).to.include({ op: "Gtr", rhs: "0.05" });
            expect(rulesByName.HighErrorRate.for).to.equal("5m");
            expect(t("HighErrorRate").lhs).to.contain('http_requests_total{status=~"5.."}[5m]');
            expect(t("HighGrpcErrorRate")).to.include({ op: "Gtr", rhs: "0.05" });
            expect(t("HighLatencyP95")).to.include({ op: "Gtr", rhs: "0.5" });
            expect(t("HighLatencyP95").lhs).to.match(/^histogram_quantile\(0\.95, .*http_request_duration_seconds_bucket/);
            expect(t("KafkaConsumerLagHigh")).to.include({ op: "Gtr", rhs: "10000" });
            expect(t("DatabaseConnectionsHigh")).to.include({ op: "Gtr", rhs: "0.8" });
            expect(t("DatabaseConnectionsHigh").lhs).to.contain("go_sql_open_connections");
            expect(t("PodRestartingOften")).to.deep.equal({ op: "Gtr", lhs: "increase(kube_pod_container_status_restarts_total[10m])", rhs: "3" });
            expect(t("ThroughputDrop")).to.include({ op: "Lss" });
            expect(t("ThroughputDrop").rhs).to.match(/^0\.5 \* .*offset 1h/);
        });

        it("reads back from YAML as Prometheus expects (groups -> rules with alert, expr, for, labels, annotations)", () => {
            const back = yaml.load(toYaml(file)) as any;
            expect(back.groups[0].name).to.equal("outbox-events");
            expect(back.groups[0].rules[0]).to.have.all.keys("alert", "expr", "for", "labels", "annotations");
            expect(back.groups[0].rules.find((r: { alert: string }) => r.alert === "PodRestartingOften")).to.not.have.property("for");
            for (const r of back.groups[0].rules) {
                if (r.for) {
                    expect(durationSeconds(r.for)).to.be.greaterThan(0);
                }
            }
        });
    });

    describe("Grafana", () => {
        it("provisions the Prometheus and Jaeger datasources as YAML", async () => {
            const res = await capture(() => new Grafana("grafana", grafanaArgs()));
            const cm = byName(res, T.configMap, "grafana-provisioning").inputs.data;
            const ds = yaml.load(cm["datasources.yaml"]) as any;
            expect(ds.apiVersion).to.equal(1);
            expect(ds.datasources.map((d: any) => [d.name, d.type, d.uid, d.access, d.url, d.isDefault])).to.deep.equal([
                ["Prometheus", "prometheus", PROMETHEUS_DATASOURCE_UID, "proxy", "http://prometheus.monitoring.svc.cluster.local:9090", true],
                ["Jaeger", "jaeger", JAEGER_DATASOURCE_UID, "proxy", "http://jaeger.monitoring.svc.cluster.local:16686", false],
            ]);
            expect(ds.datasources[0].jsonData.timeInterval).to.equal("15s");
            const mounts = podSpec(byName(res, T.deployment, "grafana")).containers[0].volumeMounts;
            expect(mounts.find((m: { subPath?: string }) => m.subPath === "datasources.yaml").mountPath).to.equal("/etc/grafana/provisioning/datasources/datasources.yaml");
        });

        it("provisions the dashboards from ConfigMaps through a file provider", async () => {
            const res = await capture(() => new Grafana("graf-dash", grafanaArgs()));
            const providers = yaml.load(byName(res, T.configMap, "graf-dash-provisioning").inputs.data["dashboards.yaml"]) as any;
            expect(providers.apiVersion).to.equal(1);
            expect(providers.providers).to.have.length(1);
            const p = providers.providers[0];
            expect(p).to.include({ type: "file", orgId: 1, disableDeletion: true, allowUiUpdates: false });
            const spec = podSpec(byName(res, T.deployment, "graf-dash"));
            const c = spec.containers[0];
            expect(c.volumeMounts.find((m: { name: string }) => m.name === "dashboards").mountPath).to.equal(p.options.path);
            expect(c.volumeMounts.find((m: { subPath?: string }) => m.subPath === "dashboards.yaml").mountPath).to.equal("/etc/grafana/provisioning/dashboards/dashboards.yaml");
            const projected = spec.volumes.find((v: { name: string }) => v.name === "dashboards").projected.sources.map((s: any) => s.configMap.name);
            expect(projected).to.deep.equal(DASHBOARDS.map(d => byName(res, T.configMap, `graf-dash-dashboard-${d.uid}`).inputs.metadata.name));
            for (const d of DASHBOARDS) {
                const json = JSON.parse(byName(res, T.configMap, `graf-dash-dashboard-${d.uid}`).inputs.data[`${d.uid}.json`]);
                expect(json.uid).to.equal(d.uid);
                expect(json.title).to.equal(d.title);
            }
        });

        it("generates the admin password with @pulumi/random into a Secret, passed as a file of it (GF_*__FILE)", async () => {
            const res = await capture(() => new Grafana("graf-pw", grafanaArgs()));
            expect(ofType(res, T.password)[0].inputs).to.include({ length: 32, special: false });
            const secret = byName(res, T.secret, "graf-pw-admin");
            expect(secret.inputs.stringData).to.deep.equal({ "admin-user": "admin", "admin-password": mockPassword("graf-pw-admin-password") });
            expect(containsSecret(secret.raw.stringData)).to.equal(true);
            const dep = byName(res, T.deployment, "graf-pw");
            const c = podSpec(dep).containers[0];
            expect(envOf(c, "GF_SECURITY_ADMIN_PASSWORD__FILE").value).to.equal("/var/run/secrets/platform/admin/admin-password");
            expect(envOf(c, "GF_SECURITY_ADMIN_USER__FILE").value).to.equal("/var/run/secrets/platform/admin/admin-user");
            expect(c.env.map((e: { name: string }) => e.name)).to.not.include("GF_SECURITY_ADMIN_PASSWORD");
            expect(podSpec(dep).volumes.find((v: { name: string }) => v.name === "admin").secret).to.deep.equal({
                secretName: "graf-pw-admin", defaultMode: 0o440,
                items: [{ key: "admin-user", path: "admin-user" }, { key: "admin-password", path: "admin-password" }],
            });
            expect(c.volumeMounts).to.deep.include({ name: "admin", mountPath: "/var/run/secrets/platform/admin", readOnly: true });
            const everythingButTheSecret = res.filter(r => r.type !== T.secret && r.type !== T.password);
            expect(JSON.stringify(everythingButTheSecret.map(r => r.inputs))).to.not.contain(mockPassword("graf-pw-admin-password"));
        });

        it("outputs the admin secret name and the admin password as a secret", async () => {
            const g = new Grafana("graf-out", grafanaArgs());
            expect(await valueOf(g.adminSecretName)).to.equal("graf-out-admin");
            expect(await isSecret(g.adminPassword)).to.equal(true);
            expect(await valueOf(g.adminPassword)).to.equal(mockPassword("graf-out-admin-password"));
            expect(await valueOf(g.url)).to.equal("http://graf-out.monitoring.svc.cluster.local:3000");
            expect(await valueOf(g.dashboardUids)).to.deep.equal(DASHBOARDS.map(d => d.uid));
        });

        it("serves port 3000 from a 5Gi volume; in from the ingress controller, out to Prometheus and Jaeger only", async () => {
            const res = await capture(() => new Grafana("graf-np", grafanaArgs()));
            expect(byName(res, T.pvc, "graf-np-data").inputs.spec).to.deep.equal({ accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "5Gi" } } });
            const dep = byName(res, T.deployment, "graf-np");
            expect(dep.inputs.spec.strategy).to.deep.equal({ type: "Recreate" });
            expect(podSpec(dep).containers[0].ports).to.deep.equal([{ name: "http", containerPort: 3000, protocol: "TCP" }]);
            expect(podSpec(dep).containers[0].readinessProbe.httpGet).to.deep.equal({ path: "/api/health", port: 3000 });
            expect(byName(res, T.service, "graf-np").inputs.spec.ports[0].port).to.equal(3000);
            const np = ofType(res, T.netpol)[0].inputs.spec;
            expect(np.ingress).to.deep.equal([{ from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } }, podSelector: {} }], ports: [{ port: 3000, protocol: "TCP" }] }]);
            expect(np.egress.map((r: any) => [r.to[0].podSelector.matchLabels[INSTANCE], r.ports[0].port])).to.deep.equal([["prometheus", 9090], ["jaeger", 16686]]);
        });

        it("serves from a sub path when the root URL has one (monitoring.<domain>/grafana)", async () => {
            const res = await capture(() => new Grafana("graf-sub", grafanaArgs({ rootUrl: "https://monitoring.cstore.example.com/grafana" })));
            const c = podSpec(byName(res, T.deployment, "graf-sub")).containers[0];
            expect(envOf(c, "GF_SERVER_ROOT_URL").value).to.equal("https://monitoring.cstore.example.com/grafana");
            expect(envOf(c, "GF_SERVER_SERVE_FROM_SUB_PATH").value).to.equal("true");
            expect(c.readinessProbe.httpGet.path).to.equal("/grafana/api/health");
        });
    });

    describe("dashboards", () => {
        const all = DASHBOARDS.map(dashboardJson).map(d => JSON.parse(JSON.stringify(d)));

        it("are dashboard JSON Grafana accepts: uid, title, schemaVersion, panels with gridPos and targets", () => {
            const uids = all.map(d => d.uid);
            expect(new Set(uids).size).to.equal(uids.length);
            for (const d of all) {
                expect(d).to.include.keys("uid", "title", "schemaVersion", "panels", "time", "tags");
                expect(d.schemaVersion).to.be.a("number").and.at.least(36);
                expect(d.panels.length).to.be.greaterThan(0);
                const ids = d.panels.map((p: { id: number }) => p.id);
                expect(new Set(ids).size, d.uid).to.equal(ids.length);
                for (const p of d.panels) {
                    expect(p.type).to.equal("timeseries");
                    expect(p.gridPos.x + p.gridPos.w, `${d.uid}/${p.title}`).to.be.at.most(24);
                    expect(p.datasource).to.deep.equal({ type: "prometheus", uid: PROMETHEUS_DATASOURCE_UID });
                    expect(p.targets.length).to.be.greaterThan(0);
                    p.targets.forEach((t: { refId: string; expr: string }, i: number) => {
                        expect(t.refId).to.equal(String.fromCharCode(65 + i));
                        expect(promqlErrors(t.expr), `${d.uid}/${p.title}/${t.refId}`).to.deep.equal([]);
                    });
                }
            }
        });

        it("show the designs' key metrics: p50/p95/p99, request and error rate, consumer lag, connection pool, CPU/memory, Redis", () => {
            const exprs = all.flatMap(d => d.panels.flatMap((p: any) => p.targets.map((t: { expr: string }) => t.expr))) as string[];
            const has = (re: RegExp) => expect(exprs.some(e => re.test(e)), String(re)).to.equal(true);
            for (const q of ["0.5", "0.95", "0.99"]) {
                has(new RegExp(`^histogram_quantile\\(${q.replace(".", "\\.")}, sum by \\(job, le\\) \\(rate\\(http_request_duration_seconds_bucket\\[5m\\]\\)\\)\\)$`));
            }
            has(/rate\(http_requests_total\[5m\]\)/);
            has(/http_requests_total\{status=~"5\.\."\}/);
            has(/kafka_consumergroup_lag/);
            has(/go_sql_open_connections/);
            has(/container_cpu_usage_seconds_total/);
            has(/container_memory_working_set_bytes/);
            has(/container_fs_reads_bytes_total/);
            has(/container_network_receive_bytes_total/);
            has(/redis_connected_clients/);
            const units = Object.fromEntries(all.flatMap(d => d.panels.map((p: any) => [p.title, p.fieldConfig.defaults.unit])));
            expect(units["HTTP latency p50 / p95 / p99"]).to.equal("s");
            expect(units["Error rate"]).to.equal("percentunit");
        });
    });

    describe("RedisExporter", () => {
        it("exports on 9121 with the password from the Redis Secret, and talks to Redis only", async () => {
            const res = await capture(() => new RedisExporter("redis-exporter", redisExporterArgs()));
            const dep = byName(res, T.deployment, "redis-exporter");
            const c = podSpec(dep).containers[0];
            expect(c.image).to.equal("oliver006/redis_exporter:v1.62.0");
            expect(c.ports).to.deep.equal([{ name: "metrics", containerPort: 9121, protocol: "TCP" }]);
            expect(envOf(c, "REDIS_ADDR").value).to.equal("redis://cache.cstore.svc.cluster.local:6379");
            expect(envOf(c, "REDIS_PASSWORD").valueFrom.secretKeyRef).to.deep.equal({ name: "cache-credentials", key: "password" });
            expect(c.resources).to.deep.equal(withEphemeral({ requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "100m", memory: "128Mi" } }, STATELESS));
            expect(dep.inputs.spec.template.metadata.annotations).to.deep.equal({ "prometheus.io/scrape": "true", "prometheus.io/port": "9121", "prometheus.io/path": "/metrics" });
            const np = ofType(res, T.netpol)[0].inputs.spec;
            expect(np.egress).to.deep.equal([{ to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "cstore" } }, podSelector: { matchLabels: { [INSTANCE]: "cache" } } }], ports: [{ port: 6379, protocol: "TCP" }] }]);
            expect(np.ingress.map((r: any) => r.ports)).to.deep.equal([[{ port: 9121, protocol: "TCP" }]]);
        });
    });

    describe("labels", () => {
        it("names each workload's app and component for the traffic plan", async () => {
            const res = await capture(() => new ObservabilityStack("obs", stackArgs("monitoring-l")));
            const labels = Object.fromEntries(ofType(res, T.deployment).map(d => [d.inputs.metadata.name, d.inputs.spec.template.metadata.labels]));
            const expected: Record<string, string> = {
                "obs-jaeger": "jaeger", "obs-otel-collector": "otel-collector", "obs-redis-exporter": "redis-exporter",
                "obs-prometheus": "prometheus", "obs-grafana": "grafana", "obs-kube-state-metrics": "kube-state-metrics",
            };
            expect(Object.keys(labels).sort()).to.deep.equal(Object.keys(expected).sort());
            for (const [name, app] of Object.entries(expected)) {
                expect(labels[name]["app.kubernetes.io/name"], name).to.equal(app);
                expect(labels[name]["app.kubernetes.io/component"], name).to.equal(app);
                expect(labels[name][PART_OF], name).to.equal("observability");
            }
        });
    });

    // The components take validated args: bad stack config is refused at its config key
    // (config-rejections.test.ts). Alert groups are code, not config: they are checked as data.
    describe("alert groups", () => {
        it("accepts the built-in groups (the default, CStore's and OutboxEvents')", () => {
            for (const groups of [DEFAULT_ALERT_GROUPS, [CSTORE_ALERTS], [OUTBOX_ALERTS]]) {
                expect(() => validateAlertGroups("alertGroups", groups)).not.to.throw();
            }
        });

        it("refuses an alert with an unknown severity", () => {
            const groups = [{ name: "g", rules: [{ alert: "A", expr: "up == 0", severity: "page" as never, summary: "s", description: "d" }] }];
            expect(() => validateAlertGroups("alertGroups", groups)).to.throw(Error).with.property("message",
                'alertGroups[0].rules[0].severity: "page" is not allowed; allowed: critical, warning, info');
        });
    });

    describe("ObservabilityStack", () => {
        it("wires the five workloads through their outputs", async () => {
            const s = new ObservabilityStack("wired", stackArgs("monitoring-w"));
            expect(await valueOf(s.prometheusUrl)).to.equal("http://wired-prometheus.monitoring-w.svc.cluster.local:9090");
            expect(await valueOf(s.jaegerQueryUrl)).to.equal("http://wired-jaeger.monitoring-w.svc.cluster.local:16686");
            expect(await valueOf(s.otlpGrpcEndpoint)).to.equal("http://wired-otel-collector.monitoring-w.svc.cluster.local:4317");
            expect(await valueOf(s.grafanaAdminSecretName)).to.equal("wired-grafana-admin");
            expect(await isSecret(s.grafanaAdminPassword)).to.equal(true);
        });

        it("points the collector at Jaeger and Grafana at Prometheus and Jaeger by their Service hosts", async () => {
            const res = await capture(() => new ObservabilityStack("hosts", stackArgs("monitoring-h")));
            const otel = yaml.load(byName(res, T.configMap, "hosts-otel-collector-config").inputs.data["otel-collector.yaml"]) as any;
            expect(otel.exporters["otlp/jaeger"].endpoint).to.equal("hosts-jaeger.monitoring-h.svc.cluster.local:4317");
            const ds = yaml.load(byName(res, T.configMap, "hosts-grafana-provisioning").inputs.data["datasources.yaml"]) as any;
            expect(ds.datasources.map((d: { url: string }) => d.url)).to.deep.equal([
                "http://hosts-prometheus.monitoring-h.svc.cluster.local:9090", "http://hosts-jaeger.monitoring-h.svc.cluster.local:16686",
            ]);
            const prom = yaml.load(byName(res, T.configMap, "hosts-prometheus-config").inputs.data["prometheus.yaml"]) as any;
            const otelJob = prom.scrape_configs.find((j: { job_name: string }) => j.job_name === "otel-collector");
            expect(otelJob.kubernetes_sd_configs[0].namespaces.names).to.deep.equal(["monitoring-h"]);
            expect(otelJob.relabel_configs[0].regex).to.equal("hosts-otel-collector");
        });
    });

    describe("policy pack", () => {
        it("finds zero violations in the stack with the prod pack config (plus the observability plan rules)", async () => {
            const platform = platformConfig("prod");
            const res = await capture(() => {
                const baseline = (name: string) => new NamespaceBaseline(`pp-${name}`, { name, quota: platform.quota, limits: platform.limits }).name;
                const monitoring = baseline("monitoring");
                const cstore = baseline("cstore");
                const apps = baseline("apps");
                const collector = observabilityPeer("obs-otel-collector", "monitoring");
                const prometheus = observabilityPeer("obs-prometheus", "monitoring");
                // An outbox service: exports OTLP to the collector, is scraped by Prometheus.
                const app = new Workload("rest-service", {
                    namespace: apps,
                    identity: { name: "rest-service", component: "rest-service", partOf: "outbox", version: "1.0.0" },
                    kind: "Deployment",
                    replicas: 2,
                    containers: [{
                        name: "app", image: "example/rest-service:1.0.0",
                        ports: [{ name: "http", containerPort: 8080 }],
                        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
                        livenessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 20, failureThreshold: 6 },
                        readinessProbe: { httpGet: { path: "/health", port: 8080 } },
                    }],
                    podAnnotations: { "prometheus.io/scrape": "true", "prometheus.io/port": "8080" },
                    servicePorts: [{ name: "http", port: 8080 }],
                    traffic: {
                        ingress: [{ peer: prometheus, ports: [{ port: 8080 }] }],
                        egress: [{ peer: collector, ports: [{ port: 4317 }, { port: 4318 }] }],
                    },
                });
                const redis = new Database("cache", {
                    namespace: cstore, type: "redis", storage: { size: "5Gi" }, partOf: "cstore",
                    clients: [observabilityPeer("obs-redis-exporter", "monitoring")],
                });
                new ObservabilityStack("obs", {
                    ...stackArgs("monitoring"),
                    namespace: monitoring,
                    telemetrySenders: [app.peer],
                    scrapeTargets: [{ peer: app.peer, ports: [{ port: 8080 }] }],
                    redis: { peer: redis.peer, host: redis.host, secretName: redis.secretName },
                    protect: true,
                });
            });
            // Prometheus' discovery role and kube-state-metrics' inventory role.
            expect(ofType(res, T.clusterRole).map(r => r.inputs.metadata.name).sort()).to.deep.equal(["monitoring-obs-kube-state-metrics", "monitoring-obs-prometheus-discovery"]);
            expect(await packViolations(res)).to.deep.equal([]);
        });
    });
});

function stackArgs(namespace: string): ObservabilityStackArgs {
    return {
        namespace,
        ingressFrom: [{ kind: "namespace", namespace: "ingress-nginx" }],
        apiServer: { cidrs: ["10.0.0.1/32"] },
        prometheus: { storage: { size: "20Gi" } },
        redis: { peer: { kind: "pods", namespace: "cstore", selector: { [INSTANCE]: "cache" } }, host: "cache.cstore.svc.cluster.local", secretName: "cache-credentials" },
    };
}
