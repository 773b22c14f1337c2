/**
 * ObservabilityStack: the five observability workloads of greenfield-cluster.md and cstore.md in
 * one namespace, wired to each other through peers computed from their names: applications ->
 * OTel collector -> Jaeger (traces) and -> Prometheus (scraped exporter); Prometheus -> its targets,
 * the collector, the Redis exporter, kube-state-metrics and the API server (discovery, and the
 * kubelet's metrics through its node proxy); Grafana -> Prometheus and Jaeger; the ingress
 * controller -> Grafana. Prometheus loads the alert groups, and Grafana the dashboard queries, whose
 * metrics something the stack scrapes produces (catalogue.ts): the stack's own exporters and the
 * system's declared `producers`.
 */
import * as pulumi from "@pulumi/pulumi";
import { PodGroup, withSurge } from "../k8s/capacity";
import { ResourceSpec } from "../k8s/container";
import { Peer, TrafficRule } from "../k8s/traffic";
import { requireDnsLabel } from "../k8s/validation";
import { AlertmanagerTarget } from "./alerting";
import { AlertRuleGroup, DEFAULT_ALERT_GROUPS } from "./alerts";
import { PLATFORM_PRODUCERS, Producer, selectAlertGroups, selectDashboards } from "./catalogue";
import { DEFAULT_PART_OF, observabilityPeer, StorageArgs } from "./common";
import { DASHBOARDS, DashboardSpec } from "./dashboards";
import { Grafana, GrafanaArgs, GRAFANA_RESOURCES, GRAFANA_STORAGE_DEFAULT } from "./grafana";
import { KubeStateMetrics, KubeStateMetricsArgs, KUBE_STATE_METRICS_PORT, KUBE_STATE_METRICS_RESOURCES } from "./kubeStateMetrics";
import { Jaeger, JaegerArgs, JAEGER_PORTS, JAEGER_RESOURCES } from "./jaeger";
import { OTEL_COLLECTOR_REPLICAS, OTEL_COLLECTOR_RESOURCES, OTEL_PORTS, OtelCollector, OtelCollectorArgs } from "./otel";
import { Prometheus, PrometheusArgs, PROMETHEUS_PORT, PROMETHEUS_RESOURCES } from "./prometheus";
import { RedisExporter, RedisExporterArgs, RedisTarget, REDIS_EXPORTER_PORT, REDIS_EXPORTER_RESOURCES } from "./redisExporter";

interface Tunables {
    image?: string;
    resources?: ResourceSpec;
}

export interface ObservabilityStackArgs {
    namespace: pulumi.Input<string>;
    partOf?: string;
    /** The ingress controller's pods: Grafana's only source. */
    ingressFrom: Peer[];
    /** The Kubernetes API server, for Prometheus' discovery. */
    apiServer: { cidrs: string[]; ports?: number[] };
    /** Applications that export OTLP to the collector. */
    telemetrySenders?: Peer[];
    /** Application metrics endpoints Prometheus scrapes (pods + ports). */
    scrapeTargets?: TrafficRule[];
    scrapeNamespaces?: string[];
    prometheus: Tunables & { storage: StorageArgs; retention?: string; scrapeInterval?: string; alertGroups?: AlertRuleGroup[]; clusterRoleName?: string };
    grafana?: Tunables & { storage?: StorageArgs; rootUrl?: string; dashboards?: DashboardSpec[]; adminUser?: string; podAnnotations?: Record<string, string> };
    otelCollector?: Tunables & { replicas?: number };
    jaeger?: Tunables & { maxTraces?: number };
    /** Export this Redis' metrics (cstore.md). */
    redis?: RedisTarget & Tunables;
    /** The stack's Alertmanager, which Prometheus sends its alerts to. */
    alertmanager?: AlertmanagerTarget;
    /** What the system's own workloads export to this Prometheus (its applications, its exporters). */
    producers?: Producer[];
    kubeStateMetrics?: Tunables & { clusterRoleName?: string };
    protect?: boolean;
}

export class ObservabilityStack extends pulumi.ComponentResource {
    public readonly prometheus: Prometheus;
    public readonly grafana: Grafana;
    public readonly jaeger: Jaeger;
    public readonly otelCollector: OtelCollector;
    public readonly redisExporter?: RedisExporter;
    public readonly kubeStateMetrics: KubeStateMetrics;
    /** Everything that exports to this Prometheus (catalogue.ts): what selected the alerts and dashboards. */
    public readonly producers: Producer[];
    public readonly prometheusUrl: pulumi.Output<string>;
    public readonly grafanaUrl: pulumi.Output<string>;
    public readonly grafanaServiceName: pulumi.Output<string>;
    public readonly grafanaAdminSecretName: pulumi.Output<string>;
    /** Secret output. */
    public readonly grafanaAdminPassword: pulumi.Output<string>;
    public readonly jaegerQueryUrl: pulumi.Output<string>;
    /** Where applications send OTLP (OTEL_EXPORTER_OTLP_ENDPOINT). */
    public readonly otlpGrpcEndpoint: pulumi.Output<string>;
    public readonly otlpHttpEndpoint: pulumi.Output<string>;
    /** Peers other components allow: Prometheus scrapes them, they send OTLP to the collector. */
    public readonly prometheusPeer: Peer;
    public readonly collectorPeer: Peer;

    constructor(name: string, args: ObservabilityStackArgs, opts?: pulumi.ComponentResourceOptions) {
        requireDnsLabel(`ObservabilityStack(${name}).name`, name, 24);
        const ns = args.namespace;
        const partOf = args.partOf ?? DEFAULT_PART_OF;
        const n = {
            prometheus: `${name}-prometheus`, grafana: `${name}-grafana`, jaeger: `${name}-jaeger`,
            collector: `${name}-otel-collector`, redisExporter: `${name}-redis-exporter`, ksm: `${name}-kube-state-metrics`,
        };
        const peer = {
            prometheus: observabilityPeer(n.prometheus, ns, partOf),
            grafana: observabilityPeer(n.grafana, ns, partOf),
            jaeger: observabilityPeer(n.jaeger, ns, partOf),
            collector: observabilityPeer(n.collector, ns, partOf),
            redisExporter: observabilityPeer(n.redisExporter, ns, partOf),
            ksm: observabilityPeer(n.ksm, ns, partOf),
        };
        const producers: Producer[] = [...PLATFORM_PRODUCERS, ...(args.redis ? ["redis-exporter" as const] : []), ...(args.producers ?? [])];
        const alertGroups = selectAlertGroups(args.prometheus.alertGroups ?? DEFAULT_ALERT_GROUPS, producers);
        const dashboards = selectDashboards(args.grafana?.dashboards ?? DASHBOARDS, producers);
        const scrapeTargets: TrafficRule[] = [...(args.scrapeTargets ?? [])];
        if (args.redis) {
            scrapeTargets.push({ peer: peer.redisExporter, ports: [{ port: REDIS_EXPORTER_PORT }] });
        }
        const jaegerArgs: JaegerArgs = { namespace: ns, partOf, ...args.jaeger, otlpClients: [peer.collector], queryClients: [peer.grafana] };
        const collectorArgs = (jaegerHost: pulumi.Input<string>): OtelCollectorArgs => ({
            namespace: ns, partOf, ...args.otelCollector,
            jaeger: { peer: peer.jaeger, host: jaegerHost, otlpGrpcPort: JAEGER_PORTS.otlpGrpc },
            senders: args.telemetrySenders,
            scrapers: [peer.prometheus],
        });
        const redisArgs = (): RedisExporterArgs | undefined => {
            if (!args.redis) {
                return undefined;
            }
            const { image, resources, ...redis } = args.redis;
            return { namespace: ns, partOf, image, resources, redis, scrapers: [peer.prometheus] };
        };
        const ksmArgs: KubeStateMetricsArgs = {
            namespace: ns, partOf, ...args.kubeStateMetrics,
            namespaces: args.scrapeNamespaces, apiServer: args.apiServer, scrapers: [peer.prometheus],
        };
        const prometheusArgs = (ksmTarget: pulumi.Input<string>): PrometheusArgs => ({
            namespace: ns, partOf, ...args.prometheus,
            alertGroups,
            kubeStateMetrics: { peer: peer.ksm, target: ksmTarget, port: KUBE_STATE_METRICS_PORT },
            apiServer: args.apiServer,
            scrapeTargets,
            scrapeNamespaces: args.scrapeNamespaces,
            otelCollector: { peer: peer.collector, namespace: ns, instance: n.collector, port: OTEL_PORTS.prometheus },
            clients: [peer.grafana],
            alertmanager: args.alertmanager,
            protect: args.protect,
        });
        const grafanaArgs = (prometheusUrl: pulumi.Input<string>, jaegerUrl: pulumi.Input<string>): GrafanaArgs => ({
            namespace: ns, partOf, ...args.grafana,
            dashboards,
            prometheus: { peer: peer.prometheus, url: prometheusUrl, port: PROMETHEUS_PORT },
            jaeger: { peer: peer.jaeger, url: jaegerUrl, port: JAEGER_PORTS.query },
            ingressFrom: args.ingressFrom,
            protect: args.protect,
        });
        const redisExporterArgs = redisArgs();

        super("platform:observability:ObservabilityStack", name, {}, opts);
        const child = { parent: this };
        this.jaeger = new Jaeger(n.jaeger, jaegerArgs, child);
        this.otelCollector = new OtelCollector(n.collector, collectorArgs(this.jaeger.host), child);
        if (redisExporterArgs) {
            this.redisExporter = new RedisExporter(n.redisExporter, redisExporterArgs, child);
        }
        this.kubeStateMetrics = new KubeStateMetrics(n.ksm, ksmArgs, child);
        this.prometheus = new Prometheus(n.prometheus, prometheusArgs(this.kubeStateMetrics.target), child);
        this.grafana = new Grafana(n.grafana, grafanaArgs(this.prometheus.url, this.jaeger.queryUrl), child);

        this.prometheusUrl = this.prometheus.url;
        this.grafanaUrl = this.grafana.url;
        this.grafanaServiceName = this.grafana.serviceName;
        this.grafanaAdminSecretName = this.grafana.adminSecretName;
        this.grafanaAdminPassword = this.grafana.adminPassword;
        this.jaegerQueryUrl = this.jaeger.queryUrl;
        this.otlpGrpcEndpoint = this.otelCollector.otlpGrpcEndpoint;
        this.otlpHttpEndpoint = this.otelCollector.otlpHttpEndpoint;
        this.prometheusPeer = peer.prometheus;
        this.collectorPeer = peer.collector;
        this.producers = producers;
        this.registerOutputs({
            prometheusUrl: this.prometheusUrl, grafanaUrl: this.grafanaUrl, grafanaServiceName: this.grafanaServiceName,
            grafanaAdminSecretName: this.grafanaAdminSecretName, grafanaAdminPassword: this.grafanaAdminPassword,
            jaegerQueryUrl: this.jaegerQueryUrl, otlpGrpcEndpoint: this.otlpGrpcEndpoint, otlpHttpEndpoint: this.otlpHttpEndpoint,
        });
    }
}

/** The tunables of an ObservabilityStack that decide what its namespace must hold. */
export type ObservabilityLoadArgs = Pick<ObservabilityStackArgs, "prometheus" | "grafana" | "otelCollector" | "jaeger" | "kubeStateMetrics"> & {
    /** With a Redis exporter: its sizes. */
    redis?: Tunables;
};

/**
 * What an ObservabilityStack runs at its peak, for the capacity checks (components/k8s/capacity):
 * Prometheus, Grafana and Jaeger one pod each (Recreate), the collector, the Redis exporter and
 * kube-state-metrics with rolling-update surge; the claims of Prometheus and Grafana. Pure: the same defaults as the children.
 */
export function observabilityLoad(a: ObservabilityLoadArgs): { pods: PodGroup[]; claims: string[]; containers: [string, ResourceSpec][] } {
    const containers: [string, ResourceSpec][] = [
        ["prometheus", a.prometheus.resources ?? PROMETHEUS_RESOURCES],
        ["grafana", a.grafana?.resources ?? GRAFANA_RESOURCES],
        ["jaeger", a.jaeger?.resources ?? JAEGER_RESOURCES],
        ["otelCollector", a.otelCollector?.resources ?? OTEL_COLLECTOR_RESOURCES],
        ...(a.redis ? [["redisExporter", a.redis.resources ?? REDIS_EXPORTER_RESOURCES] as [string, ResourceSpec]] : []),
        ["kubeStateMetrics", a.kubeStateMetrics?.resources ?? KUBE_STATE_METRICS_RESOURCES],
    ];
    const pods: PodGroup[] = containers.map(([name, resources]) => ({
        resources,
        pods: name === "otelCollector" ? withSurge(a.otelCollector?.replicas ?? OTEL_COLLECTOR_REPLICAS) : name === "redisExporter" || name === "kubeStateMetrics" ? withSurge(1) : 1,
    }));
    return { pods, claims: [a.prometheus.storage.size, a.grafana?.storage?.size ?? GRAFANA_STORAGE_DEFAULT], containers };
}
