/**
 * The plan of a RestApiSystem (restapi-operator.md): the args of the namespaces, the observability
 * stack and the RestApi, computed from the validated args alone. Pure: nothing is registered and
 * nothing is validated again here. The namespace Output and the observability stack's peers and
 * endpoint exist only once those children are registered, so they are parameters.
 */
import * as pulumi from "@pulumi/pulumi";
import { NamespaceBaselineArgs } from "../../k8s/namespace";
import { Peer } from "../../k8s/traffic";
import { OTEL_PORTS } from "../../observability/otel";
import { ObservabilityStackArgs } from "../../observability/stack";
import { SecureIngressArgs } from "../../edge/ingress";
import { Checked, checked } from "../../k8s/validation";
import { RestApiArgs, restApiPartPeer } from "../../restapi/restapi";
import { REST_PARTS, resolvePart } from "../../restapi/spec";
import { previewHostOf, RESTAPI_PART_OF, RestApiSystemArgs } from "./spec";

/** What the RestApi needs from the observability stack once it is registered. */
export interface RestApiTelemetry {
    prometheusPeer: Peer;
    collectorPeer: Peer;
    otlpGrpcEndpoint: pulumi.Input<string>;
}

export interface RestApiSystemPlan {
    /** The RestAPI's namespace; the repository part keeps its data on a claim in it. */
    /** The namespace, quota and LimitRange as the system's spec checked them. */
    baseline: Checked<NamespaceBaselineArgs>;
    /** The monitoring namespace (Prometheus and Grafana keep their data on claims in it); none without observability. */
    monitoringBaseline?: Checked<NamespaceBaselineArgs>;
    obsName: string;
    observability?: (monitoringNs: pulumi.Input<string>, ns: pulumi.Input<string>) => ObservabilityStackArgs;
    restapi: (ns: pulumi.Input<string>, telemetry?: RestApiTelemetry) => RestApiArgs;
    /** Public routes: `<name>-view` (live) and, with blue/green, `<name>-preview` (the idle colour); none without ingress. */
    ingresses: (ns: pulumi.Input<string>) => { name: string; role: "view" | "preview"; args: Checked<SecureIngressArgs> }[];
}

export function planRestApiSystem(args: RestApiSystemArgs): RestApiSystemPlan {
    const ingress: Peer = { kind: "namespace", namespace: args.ingressNamespace };
    // The parts' pods as peers, known before the RestApi exists: the stack scrapes them.
    const parts = (ns: pulumi.Input<string>) => REST_PARTS.map(part => ({
        peer: restApiPartPeer(args.name, part, ns, RESTAPI_PART_OF), port: resolvePart(args.spec, part).port,
    }));
    const o = args.observability;
    const viewPort = resolvePart(args.spec, "view").port;
    // Checked by validateRestApiIngress (restapi.ingress: hosts, issuer, class); the one backend is the view's port.
    const route = (ns: pulumi.Input<string>, host: string, serviceName: string): Checked<SecureIngressArgs> => checked({
        namespace: ns, host, clusterIssuer: args.ingress!.clusterIssuer, ingressClassName: args.ingress!.ingressClassName,
        skipAwait: args.ingress!.skipAwait, partOf: RESTAPI_PART_OF,
        backends: [{ path: "/", serviceName, servicePort: viewPort }],
    });
    return {
        baseline: checked({ name: args.namespace, quota: args.quota, limits: args.limits, holdsProtectedData: args.protect }),
        monitoringBaseline: o ? checked({ name: o.namespace, quota: args.quota, limits: args.limits, holdsProtectedData: args.protect }) : undefined,
        obsName: `${args.name}-obs`,
        observability: o ? (monitoringNs, ns) => ({
            namespace: monitoringNs,
            partOf: RESTAPI_PART_OF,
            ingressFrom: [ingress],
            apiServer: { cidrs: o.apiServerCidrs },
            telemetrySenders: parts(ns).map(p => p.peer),
            scrapeTargets: parts(ns).map(p => ({ peer: p.peer, ports: [{ port: p.port }] })),
            scrapeNamespaces: [args.namespace],
            prometheus: { storage: { size: o.prometheusStorage, storageClass: o.storageClass } },
            grafana: { storage: { size: o.grafanaStorage, storageClass: o.storageClass } },
            protect: args.protect,
        }) : undefined,
        restapi: (ns, telemetry) => ({
            ...args.spec,
            namespace: ns,
            partOf: RESTAPI_PART_OF,
            externalAccess: [ingress],
            metricsScrapers: telemetry ? [telemetry.prometheusPeer] : [],
            telemetry: telemetry ? {
                peer: telemetry.collectorPeer, otlpEndpoint: telemetry.otlpGrpcEndpoint,
                ports: [{ port: OTEL_PORTS.otlpGrpc }, { port: OTEL_PORTS.otlpHttp }],
            } : undefined,
            backends: args.backends,
            secretEnvVars: args.secretEnvVars,
            protect: args.protect,
        }),
        ingresses: ns => !args.ingress ? [] : [
            { name: `${args.name}-view`, role: "view" as const, args: route(ns, args.ingress.host, `${args.name}-view`) },
            ...(args.spec.blueGreen?.enabled
                ? [{ name: `${args.name}-preview`, role: "preview" as const, args: route(ns, previewHostOf(args.ingress), `${args.name}-view-preview`) }]
                : []),
        ],
    };
}
