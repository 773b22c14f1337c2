/**
 * Jaeger all-in-one (greenfield-cluster.md "Jaeger (Distributed Tracing)"): collector, in-memory
 * storage and query UI in one pod. In-memory storage lives in one process, so it runs exactly one
 * replica; the OTel collector sends it traces over OTLP, Grafana reads them from the query port.
 */
import * as pulumi from "@pulumi/pulumi";
import { httpProbe, ResourceSpec, livenessTcp } from "../k8s/container";
import { Peer } from "../k8s/traffic";
import { imageTag } from "../k8s/validation";
import { Workload } from "../k8s/workload";
import { identity, rules } from "./common";

export const JAEGER_IMAGE = "jaegertracing/all-in-one:1.62.0";
export const JAEGER_PORTS = { query: 16686, otlpGrpc: 4317, otlpHttp: 4318, admin: 14269 } as const;

export interface JaegerArgs {
    namespace: pulumi.Input<string>;
    partOf?: string;
    image?: string;
    resources?: ResourceSpec;
    /** Traces kept in memory before the oldest are dropped. */
    maxTraces?: number;
    /** Who sends traces over OTLP (the OTel collector). */
    otlpClients?: Peer[];
    /** Who reads traces from the query API/UI (Grafana). */
    queryClients?: Peer[];
}

/** Requests and limits when the args give none. */
export const JAEGER_RESOURCES: ResourceSpec = { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } };

export class Jaeger extends pulumi.ComponentResource {
    /** In-cluster DNS name of the Service. */
    public readonly host: pulumi.Output<string>;
    /** Query API/UI, the URL Grafana's datasource uses. */
    public readonly queryUrl: pulumi.Output<string>;
    /** OTLP gRPC endpoint (host:4317) for exporters. */
    public readonly otlpGrpcEndpoint: pulumi.Output<string>;
    public readonly otlpHttpEndpoint: pulumi.Output<string>;
    public readonly peer: Peer;
    public readonly workload: Workload;

    constructor(name: string, args: JaegerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:observability:Jaeger", name, {}, opts);
        const image = args.image ?? JAEGER_IMAGE;
        const p = JAEGER_PORTS;

        this.workload = new Workload(name, {
            namespace: args.namespace,
            identity: identity(name, "jaeger", args.partOf, imageTag(image)),
            kind: "Deployment",
            replicas: 1,
            containers: [{
                name: "jaeger",
                image,
                env: [
                    { name: "SPAN_STORAGE_TYPE", value: "memory" },
                    { name: "MEMORY_MAX_TRACES", value: String(args.maxTraces ?? 50000) },
                    { name: "COLLECTOR_OTLP_ENABLED", value: "true" },
                    { name: "COLLECTOR_OTLP_GRPC_HOST_PORT", value: `:${p.otlpGrpc}` },
                    { name: "COLLECTOR_OTLP_HTTP_HOST_PORT", value: `:${p.otlpHttp}` },
                ],
                ports: [
                    { name: "query", containerPort: p.query },
                    { name: "otlp-grpc", containerPort: p.otlpGrpc },
                    { name: "otlp-http", containerPort: p.otlpHttp },
                    { name: "admin", containerPort: p.admin },
                ],
                resources: args.resources ?? JAEGER_RESOURCES,
                // The admin port answers 204 once every part of all-in-one is up.
                livenessProbe: livenessTcp(p.admin),
                readinessProbe: httpProbe("/", p.admin, { initialDelaySeconds: 5 }),
            }],
            servicePorts: [
                { name: "query", port: p.query },
                { name: "otlp-grpc", port: p.otlpGrpc },
                { name: "otlp-http", port: p.otlpHttp },
            ],
            traffic: {
                ingress: [
                    ...rules(args.otlpClients, [{ port: p.otlpGrpc }, { port: p.otlpHttp }]),
                    ...rules(args.queryClients, [{ port: p.query }]),
                ],
                egress: [],
            },
            // One in-memory process: never two pods at once.
            recreate: true,
        }, { parent: this });

        this.peer = this.workload.peer;
        this.host = this.workload.host.apply(h => h ?? "");
        this.queryUrl = pulumi.interpolate`http://${this.host}:${p.query}`;
        this.otlpGrpcEndpoint = pulumi.interpolate`${this.host}:${p.otlpGrpc}`;
        this.otlpHttpEndpoint = pulumi.interpolate`http://${this.host}:${p.otlpHttp}`;
        this.registerOutputs({ host: this.host, queryUrl: this.queryUrl, otlpGrpcEndpoint: this.otlpGrpcEndpoint });
    }
}
