/**
 * OpenTelemetry Collector (greenfield-cluster.md: Deployment, 2 replicas, load balanced): OTLP in
 * on 4317 (gRPC) and 4318 (HTTP); traces out to Jaeger over OTLP, metrics out as a Prometheus
 * exporter endpoint that Prometheus scrapes per pod. Its pipeline config is generated as an object
 * (otelCollectorConfig) and mounted from a ConfigMap; the health_check extension serves the probes.
 */
import * as pulumi from "@pulumi/pulumi";
import { rollingConfigMap } from "../k8s/config";
import { httpProbe, ResourceSpec, livenessTcp } from "../k8s/container";
import { standardLabels } from "../k8s/labels";
import { Peer } from "../k8s/traffic";
import { imageTag } from "../k8s/validation";
import { Workload } from "../k8s/workload";
import { checksum, identity, rules } from "./common";
import { toYaml, YamlValue } from "./yaml";

export const OTEL_COLLECTOR_IMAGE = "otel/opentelemetry-collector-contrib:0.111.0";
export interface OtelPorts {
    otlpGrpc: number;
    otlpHttp: number;
    prometheus: number;
    health: number;
}
export const OTEL_PORTS: Readonly<OtelPorts> = { otlpGrpc: 4317, otlpHttp: 4318, prometheus: 8889, health: 13133 };
export const OTEL_CONFIG_FILE = "otel-collector.yaml";
const CONFIG_DIR = "/etc/otelcol";

export interface OtelCollectorArgs {
    namespace: pulumi.Input<string>;
    partOf?: string;
    image?: string;
    /** 2 by the design (load balanced); at least 1. */
    replicas?: number;
    resources?: ResourceSpec;
    /** Where traces go: Jaeger's pods (the only egress besides DNS), Service host and OTLP gRPC port (default 4317). */
    jaeger: { peer: Peer; host: pulumi.Input<string>; otlpGrpcPort?: number };
    /** Ports: defaults OTLP 4317/4318, Prometheus exporter 8889, health 13133. */
    ports?: Partial<OtelPorts>;
    /** Namespace prefix of exported metrics (none by default, so application metric names stay as they are). */
    metricsNamespace?: string;
    /** Applications that send OTLP. */
    senders?: Peer[];
    /** Who scrapes the Prometheus exporter (Prometheus). */
    scrapers?: Peer[];
}

export interface OtelConfigOptions {
    jaegerEndpoint: string;
    ports: OtelPorts;
    metricsNamespace?: string;
    /** memory_limiter share of the container's memory limit. */
    memoryLimitPercentage?: number;
}

/** The collector's configuration: receivers, processors, exporters, extensions and pipelines. */
export function otelCollectorConfig(o: OtelConfigOptions): { [k: string]: YamlValue } {
    const processors = ["memory_limiter", "batch"];
    return {
        receivers: {
            otlp: {
                protocols: {
                    grpc: { endpoint: `0.0.0.0:${o.ports.otlpGrpc}` },
                    http: { endpoint: `0.0.0.0:${o.ports.otlpHttp}` },
                },
            },
        },
        processors: {
            memory_limiter: { check_interval: "1s", limit_percentage: o.memoryLimitPercentage ?? 80, spike_limit_percentage: 20 },
            batch: { timeout: "5s", send_batch_size: 8192 },
        },
        exporters: {
            "otlp/jaeger": { endpoint: o.jaegerEndpoint, tls: { insecure: true } },
            prometheus: {
                endpoint: `0.0.0.0:${o.ports.prometheus}`,
                namespace: o.metricsNamespace,
                resource_to_telemetry_conversion: { enabled: true },
                enable_open_metrics: true,
            },
        },
        extensions: {
            health_check: { endpoint: `0.0.0.0:${o.ports.health}`, path: "/" },
        },
        service: {
            extensions: ["health_check"],
            pipelines: {
                traces: { receivers: ["otlp"], processors, exporters: ["otlp/jaeger"] },
                metrics: { receivers: ["otlp"], processors, exporters: ["prometheus"] },
            },
        },
    };
}

/** Replicas when the args give none (greenfield-cluster.md: 2, load balanced). */
export const OTEL_COLLECTOR_REPLICAS = 2;
/** Requests and limits when the args give none. */
export const OTEL_COLLECTOR_RESOURCES: ResourceSpec = { requests: { cpu: "200m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } };

export class OtelCollector extends pulumi.ComponentResource {
    public readonly host: pulumi.Output<string>;
    /** OTLP endpoints applications export to (OTEL_EXPORTER_OTLP_ENDPOINT). */
    public readonly otlpGrpcEndpoint: pulumi.Output<string>;
    public readonly otlpHttpEndpoint: pulumi.Output<string>;
    /** Port of the Prometheus exporter on every collector pod. */
    public readonly prometheusPort: number;
    public readonly configMapName: pulumi.Output<string>;
    public readonly replicas: pulumi.Output<number>;
    public readonly peer: Peer;
    public readonly workload: Workload;

    constructor(name: string, args: OtelCollectorArgs, opts?: pulumi.ComponentResourceOptions) {
        const ports = { ...OTEL_PORTS, ...(args.ports ?? {}) };
        super("platform:observability:OtelCollector", name, {}, opts);
        const image = args.image ?? OTEL_COLLECTOR_IMAGE;
        const id = identity(name, "otel-collector", args.partOf, imageTag(image));
        const jaegerPort = args.jaeger.otlpGrpcPort ?? 4317;
        const configYaml = pulumi.output(args.jaeger.host).apply(host =>
            toYaml(otelCollectorConfig({ jaegerEndpoint: `${host}:${jaegerPort}`, ports, metricsNamespace: args.metricsNamespace })));

        const cm = rollingConfigMap(`${name}-config`, {
            namespace: args.namespace, labels: standardLabels(id), data: { [OTEL_CONFIG_FILE]: configYaml },
        }, { parent: this });
        this.configMapName = cm.metadata.name;

        const replicas = args.replicas ?? OTEL_COLLECTOR_REPLICAS;
        this.workload = new Workload(name, {
            namespace: args.namespace,
            identity: id,
            kind: "Deployment",
            replicas,
            containers: [{
                name: "otel-collector",
                image,
                args: [`--config=${CONFIG_DIR}/${OTEL_CONFIG_FILE}`],
                ports: [
                    { name: "otlp-grpc", containerPort: ports.otlpGrpc },
                    { name: "otlp-http", containerPort: ports.otlpHttp },
                    { name: "prometheus", containerPort: ports.prometheus },
                    { name: "health", containerPort: ports.health },
                ],
                resources: args.resources ?? OTEL_COLLECTOR_RESOURCES,
                livenessProbe: livenessTcp(ports.health),
                readinessProbe: httpProbe("/", ports.health, { initialDelaySeconds: 5 }),
                volumeMounts: [{ name: "config", mountPath: CONFIG_DIR, readOnly: true }],
            }],
            volumes: [{ name: "config", configMap: { name: cm.metadata.name } }],
            podAnnotations: { "checksum/config": configYaml.apply(checksum) },
            servicePorts: [
                { name: "otlp-grpc", port: ports.otlpGrpc },
                { name: "otlp-http", port: ports.otlpHttp },
            ],
            traffic: {
                ingress: [
                    ...rules(args.senders, [{ port: ports.otlpGrpc }, { port: ports.otlpHttp }]),
                    ...rules(args.scrapers, [{ port: ports.prometheus }]),
                ],
                egress: [{ peer: args.jaeger.peer, ports: [{ port: jaegerPort }] }],
            },
        }, { parent: this });

        this.peer = this.workload.peer;
        this.prometheusPort = ports.prometheus;
        this.replicas = pulumi.output(replicas);
        this.host = this.workload.host.apply(h => h ?? "");
        this.otlpGrpcEndpoint = pulumi.interpolate`http://${this.host}:${ports.otlpGrpc}`;
        this.otlpHttpEndpoint = pulumi.interpolate`http://${this.host}:${ports.otlpHttp}`;
        this.registerOutputs({
            host: this.host, otlpGrpcEndpoint: this.otlpGrpcEndpoint, otlpHttpEndpoint: this.otlpHttpEndpoint,
            configMapName: this.configMapName, replicas: this.replicas,
        });
    }
}
