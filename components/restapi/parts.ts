/**
 * A RestApi's parts, planned: the design's flows between them (per colour with blue/green), each
 * part's Deployment in each colour, and the stable and preview Services. Pure: nothing is
 * registered here; the objects the parts refer to (env ConfigMap and Secret, the repository's
 * claim) are passed in by name.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { httpProbe, livenessTcp } from "../k8s/container";
import { AppIdentity, COLOR_LABEL, selectorLabels, standardLabels } from "../k8s/labels";
import { OWNED_ANNOTATIONS, scrapeAnnotations } from "../k8s/metadata";
import { Endpoint, Peer, PortSpec, TrafficPlan } from "../k8s/traffic";
import { WorkloadArgs } from "../k8s/workload";
import { Color, partImage, ResolvedPart, RestApiSpec, RestPart } from "./spec";

/** Request flow and service communication of restapi-operator.md, as (from, to) pairs. */
const INTERNAL_FLOWS: [RestPart, RestPart][] = [
    ["view", "model"],
    ["model", "controller"],
    ["controller", "model"],
    ["controller", "repository"],
    ["repository", "controller"],
    ["controller", "view"],
];

/** The pods of one part (both colours, or one when `color` is given) as a traffic peer; known before the RestApi exists. */
export function restApiPartPeer(name: string, part: RestPart, namespace: pulumi.Input<string>, partOf = "restapi", color?: Color): Peer {
    const selector = selectorLabels({ name: `${name}-${part}`, app: "restapi", component: part, partOf });
    return { kind: "pods", namespace, selector: color ? { ...selector, [COLOR_LABEL]: color } : selector };
}

/** Kubernetes name of a part's Deployment (and of its own Service) in a colour, or without blue/green. */
export function restApiWorkloadName(name: string, part: RestPart, color?: Color): string {
    return color ? `${name}-${part}-${color}` : `${name}-${part}`;
}

/** Who else the parts meet: callers of the view, scrapers, the repository's backends, the collector. */
export interface PartsNeighbours {
    externalAccess?: Peer[];
    metricsScrapers?: Peer[];
    backends?: { peer: Peer; ports: PortSpec[] }[];
    telemetry?: { peer: Peer; ports: PortSpec[] };
}

/** One RestApi's parts: its name, namespace, system and resolved parts; the colours it runs. */
export interface PartsContext {
    name: string;
    namespace: pulumi.Input<string>;
    partOf: string;
    parts: ResolvedPart[];
    /** ["blue", "green"] with blue/green on, else [undefined]. */
    colors: (Color | undefined)[];
}

export function partIdentity(c: PartsContext, part: RestPart): AppIdentity {
    return { name: `${c.name}-${part}`, app: "restapi", component: part, partOf: c.partOf };
}

/** A part in a colour as a traffic endpoint. */
export function partEndpoint(c: PartsContext, part: RestPart, color?: Color): Endpoint {
    return { id: `${c.partOf}/${restApiWorkloadName(c.name, part, color)}`, peer: restApiPartPeer(c.name, part, c.namespace, c.partOf, color) };
}

/**
 * The design's flows between parts, callers of the view, scrapers, backends. With blue/green every
 * colour is a complete environment: its parts talk only to the same colour's parts, so the idle
 * colour can be previewed without touching the live one.
 */
export function partsTraffic(c: PartsContext, n: PartsNeighbours): TrafficPlan {
    const port = (part: RestPart) => [{ port: c.parts.find(p => p.part === part)!.port }];
    const plan = new TrafficPlan();
    for (const color of c.colors) {
        const endpoint = (part: RestPart) => partEndpoint(c, part, color);
        INTERNAL_FLOWS.forEach(([from, to]) => plan.allow(endpoint(from), endpoint(to), port(to)));
        // Outside callers reach the active colour through the stable view Service, the idle one through the preview Service.
        (n.externalAccess ?? []).forEach((peer, i) => plan.allow({ id: `external-${i}`, peer }, endpoint("view"), port("view")));
        (n.metricsScrapers ?? []).forEach((peer, i) =>
            c.parts.forEach(p => plan.allow({ id: `scraper-${i}`, peer }, endpoint(p.part), port(p.part))));
        (n.backends ?? []).forEach((b, i) => plan.allow(endpoint("repository"), { id: `backend-${i}`, peer: b.peer }, b.ports));
        if (n.telemetry) {
            const collector = { id: "otel-collector", peer: n.telemetry.peer };
            c.parts.forEach(p => plan.allow(endpoint(p.part), collector, n.telemetry!.ports));
        }
    }
    return plan;
}

/** The objects every part's pods refer to, by name. */
export interface PartRefs {
    configMap: pulumi.Input<string>;
    secret?: pulumi.Input<string>;
    repositoryClaim: pulumi.Input<string>;
}

/**
 * A part's Deployment in a colour: env from the ConfigMap and Secret (a colour's parts find each
 * other through the colour's own Services), readiness on the health path, liveness on the port and
 * twice as patient, Prometheus' scrape annotations, the repository's claim, its HPA.
 */
export function partWorkload(c: PartsContext, spec: RestApiSpec, p: ResolvedPart, color: Color | undefined,
    refs: PartRefs, traffic: TrafficPlan): WorkloadArgs {
    const health = spec.healthCheck ?? {};
    const probeOpts = {
        initialDelaySeconds: health.initialDelaySeconds ?? 10,
        periodSeconds: health.periodSeconds ?? 10,
        timeoutSeconds: health.timeoutSeconds ?? 3,
        failureThreshold: health.failureThreshold ?? 3,
    };
    // These values override the ConfigMap's stable URLs, which lead to the active colour.
    const colourDiscovery = (colour: Color) => c.parts.map(q => ({
        name: `${q.part.toUpperCase()}_URL`, value: `http://${restApiWorkloadName(c.name, q.part, colour)}:${q.port}`,
    }));
    const image = partImage(spec, p.part, color);
    const isRepo = p.part === "repository";
    return {
        namespace: c.namespace,
        identity: { ...partIdentity(c, p.part), version: image.substring(image.lastIndexOf(":") + 1) },
        kind: "Deployment",
        replicas: p.replicas,
        selectorExtra: color ? { [COLOR_LABEL]: color } : undefined,
        containers: [{
            name: p.part,
            image,
            ports: [{ name: "http", containerPort: p.port }],
            env: [
                { name: "COMPONENT", value: p.part },
                { name: "PORT", value: String(p.port) },
                ...(color ? [{ name: "ENVIRONMENT_COLOR", value: color }, ...colourDiscovery(color)] : []),
                ...Object.entries(p.envVars).map(([k, v]) => ({ name: k, value: v })),
            ],
            envFrom: [
                { configMapRef: { name: refs.configMap } },
                ...(refs.secret ? [{ secretRef: { name: refs.secret } }] : []),
            ],
            resources: p.resources,
            // Liveness: the process holds its port; at least twice as patient as readiness.
            livenessProbe: livenessTcp(p.port, {
                initialDelaySeconds: probeOpts.initialDelaySeconds,
                periodSeconds: Math.max(20, probeOpts.periodSeconds),
                timeoutSeconds: probeOpts.timeoutSeconds,
                failureThreshold: Math.max(6, 2 * probeOpts.failureThreshold),
            }),
            readinessProbe: httpProbe(health.path ?? "/health", p.port, { ...probeOpts, initialDelaySeconds: Math.min(5, probeOpts.initialDelaySeconds) }),
            volumeMounts: isRepo ? [{ name: "data", mountPath: "/data" }] : [],
        }],
        volumes: isRepo ? [{ name: "data", persistentVolumeClaim: { claimName: refs.repositoryClaim } }] : [],
        podAnnotations: scrapeAnnotations(p.port),
        autoscaling: p.autoscaling,
        traffic: traffic.rulesFor(partEndpoint(c, p.part, color)),
        // Each colour's own Service: how the colour's parts call each other.
        servicePorts: color ? [{ name: "http", port: p.port }] : undefined,
        rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
    };
}

/**
 * A part's Service: the stable one (`<name>-<part>`) selects the active colour, the preview one
 * (`-preview`) the other; without blue/green, the part's pods.
 */
export function partService(c: PartsContext, p: ResolvedPart, serviceName: string, color: Color | undefined): k8s.core.v1.ServiceArgs {
    const base = selectorLabels(partIdentity(c, p.part));
    return {
        metadata: { name: serviceName, namespace: c.namespace, labels: standardLabels(partIdentity(c, p.part)), annotations: OWNED_ANNOTATIONS },
        spec: {
            type: "ClusterIP",
            selector: color ? { ...base, [COLOR_LABEL]: color } : base,
            ports: [{ name: "http", port: p.port, targetPort: p.port, protocol: "TCP" }],
        },
    };
}
