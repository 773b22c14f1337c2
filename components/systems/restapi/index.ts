/**
 * RestApiSystem: the RestAPI operator system of restapi-operator.md. A RestApi (all four MVC+R
 * parts, HPAs, blue/green, deployer RBAC, network policies) and the design's observability stack:
 * Prometheus scrapes every part's /metrics, the parts send traces to the OpenTelemetry collector
 * -> Jaeger, Grafana shows both.
 */
import * as pulumi from "@pulumi/pulumi";
import { NamespaceBaseline } from "../../k8s/namespace";
import { Peer } from "../../k8s/traffic";
import { ObservabilityStack } from "../../observability/stack";
import { OTEL_PORTS } from "../../observability/otel";
import { RestApi, restApiPartPeer } from "../../restapi/restapi";
import { REST_PARTS, resolvePart } from "../../restapi/spec";
import { RESTAPI_PART_OF, RestApiSystemArgs } from "./spec";

export * from "./spec";

export class RestApiSystem extends pulumi.ComponentResource {
    public readonly restapi: RestApi;
    public readonly viewUrl: pulumi.Output<string>;
    public readonly activeEnvironment: pulumi.Output<string>;
    public readonly lastDeploymentTime: pulumi.Output<string>;
    public readonly replicas: pulumi.Output<number>;
    public readonly deployerServiceAccount?: pulumi.Output<string>;
    public readonly envSecretName: pulumi.Output<string | undefined>;
    public readonly grafanaUrl?: pulumi.Output<string>;
    public readonly grafanaAdminSecretName?: pulumi.Output<string>;
    public readonly prometheusUrl?: pulumi.Output<string>;
    public readonly jaegerQueryUrl?: pulumi.Output<string>;

    constructor(name: string, args: RestApiSystemArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:systems:RestApiSystem", name, {}, opts);
        const child = { parent: this };
        // The repository part keeps its data on a claim in this namespace.
        const ns = new NamespaceBaseline(args.namespace, {
            name: args.namespace, quota: args.quota, limits: args.limits, holdsProtectedData: args.protect,
        }, child).name;
        const ingress: Peer = { kind: "namespace", namespace: args.ingressNamespace };
        // The parts' pods as peers, known before the RestApi exists: the stack scrapes them.
        const parts = REST_PARTS.map(part => ({
            peer: restApiPartPeer(args.name, part, ns, RESTAPI_PART_OF), port: resolvePart(args.spec, part).port,
        }));

        let obs: ObservabilityStack | undefined;
        if (args.observability) {
            const o = args.observability;
            // Prometheus and Grafana keep their data on claims in this namespace.
            const monitoring = new NamespaceBaseline(o.namespace, {
                name: o.namespace, quota: args.quota, limits: args.limits, holdsProtectedData: args.protect,
            }, child).name;
            obs = new ObservabilityStack(`${args.name}-obs`, {
                namespace: monitoring,
                partOf: RESTAPI_PART_OF,
                ingressFrom: [ingress],
                apiServer: { cidrs: o.apiServerCidrs },
                telemetrySenders: parts.map(p => p.peer),
                scrapeTargets: parts.map(p => ({ peer: p.peer, ports: [{ port: p.port }] })),
                scrapeNamespaces: [args.namespace],
                prometheus: { storage: { size: o.prometheusStorage, storageClass: o.storageClass } },
                grafana: { storage: { size: o.grafanaStorage, storageClass: o.storageClass } },
                protect: args.protect,
            }, child);
        }

        this.restapi = new RestApi(args.name, {
            ...args.spec,
            namespace: ns,
            partOf: RESTAPI_PART_OF,
            externalAccess: [ingress],
            metricsScrapers: obs ? [obs.prometheusPeer] : [],
            telemetry: obs ? {
                peer: obs.collectorPeer, otlpEndpoint: obs.otlpGrpcEndpoint,
                ports: [{ port: OTEL_PORTS.otlpGrpc }, { port: OTEL_PORTS.otlpHttp }],
            } : undefined,
            backends: args.backends,
            secretEnvVars: args.secretEnvVars,
            protect: args.protect,
        }, child);

        this.viewUrl = this.restapi.viewUrl;
        this.activeEnvironment = this.restapi.activeEnvironment;
        this.lastDeploymentTime = this.restapi.lastDeploymentTime;
        this.replicas = this.restapi.replicas;
        this.deployerServiceAccount = this.restapi.deployerServiceAccount;
        this.envSecretName = this.restapi.secretName;
        this.grafanaUrl = obs?.grafanaUrl;
        this.grafanaAdminSecretName = obs?.grafanaAdminSecretName;
        this.prometheusUrl = obs?.prometheusUrl;
        this.jaegerQueryUrl = obs?.jaegerQueryUrl;
        this.registerOutputs({ viewUrl: this.viewUrl, activeEnvironment: this.activeEnvironment, grafanaUrl: this.grafanaUrl });
    }
}
