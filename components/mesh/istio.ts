/**
 * Istio service mesh (greenfield-cluster.md "Service Mesh", "Blue-Green" and "Canary Deployment"):
 * STRICT mTLS per namespace, an ingress Gateway on 80/443 and VirtualServices with weight-based
 * splitting for blue/green switches and canary steps 5 -> 25 -> 50 -> 100.
 *
 * Prerequisite: these are custom resources of an existing Istio installation (istiod and the
 * ingress gateway, with the security.istio.io and networking.istio.io CRDs). The components refuse
 * to register anything unless the stack declares `istioInstalled: true`.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Checked, isChecked, requireDnsLabel, requireIntInRange, requireNonEmptyString, requireOneOf, ValidationError } from "../k8s/validation";

/** Canary steps of greenfield-cluster.md; 0 = canary deployed but not yet receiving traffic. */
export const CANARY_STEPS = [5, 25, 50, 100] as const;
export const CANARY_WEIGHTS = [0, ...CANARY_STEPS] as const;
export const MTLS_MODES = ["STRICT", "PERMISSIVE"] as const;
export type MtlsMode = typeof MTLS_MODES[number];
/** Istio API versions: v1 since Istio 1.22; v1beta1 for older installations. */
export const ISTIO_API_VERSIONS = ["v1", "v1beta1"] as const;
export type IstioApiVersion = typeof ISTIO_API_VERSIONS[number];

export const ISTIO_CRDS = [
    "peerauthentications.security.istio.io",
    "gateways.networking.istio.io",
    "virtualservices.networking.istio.io",
    "envoyfilters.networking.istio.io",
];

export interface IstioPrerequisite {
    /**
     * Declares that Istio (istiod, the ingress gateway and its CRDs) is installed in the cluster,
     * e.g. `istioctl install --set profile=default` or the istio/base + istio/istiod + istio/gateway
     * Helm charts. The mesh components refuse to run without it.
     */
    istioInstalled: boolean;
    /** API version of the Istio CRDs (default v1, Istio >= 1.22). */
    apiVersion?: IstioApiVersion;
    /** Resources the Istio custom resources must wait for (e.g. a Helm release that installs Istio). */
    dependsOn?: pulumi.Input<pulumi.Resource>[];
}

export function requireIstio(key: string, p: IstioPrerequisite): IstioApiVersion {
    if (p.istioInstalled !== true) {
        throw new ValidationError(`${key}.istioInstalled`,
            `${JSON.stringify(p.istioInstalled)}: the mesh is enabled but Istio is not declared installed; its custom resources ` +
            `need the CRDs ${ISTIO_CRDS.join(", ")}. Install Istio first (istioctl install, or the istio/base and istio/istiod ` +
            "Helm charts), then set istioInstalled: true; allowed: true");
    }
    return p.apiVersion === undefined ? "v1" : requireOneOf(`${key}.apiVersion`, p.apiVersion, ISTIO_API_VERSIONS);
}

// ---------------------------------------------------------------------------------------------
// MeshPolicy: PeerAuthentication per namespace

export interface MeshPolicyArgs extends IstioPrerequisite {
    /** Namespaces whose workloads accept only mutual TLS. */
    namespaces: string[];
    /** Default STRICT; PERMISSIVE only while migrating workloads into the mesh. */
    mode?: MtlsMode;
}

export function validateMeshPolicy(key: string, a: MeshPolicyArgs): IstioApiVersion {
    const v = requireIstio(key, a);
    if (!Array.isArray(a.namespaces) || a.namespaces.length === 0) {
        throw new ValidationError(`${key}.namespaces`, `${JSON.stringify(a.namespaces)} is not allowed; allowed: a non-empty list of namespace names`);
    }
    a.namespaces.forEach((n, i) => requireDnsLabel(`${key}.namespaces[${i}]`, n, 63));
    if (new Set(a.namespaces).size !== a.namespaces.length) {
        throw new ValidationError(`${key}.namespaces`, "a namespace is listed twice; allowed: distinct namespaces");
    }
    if (a.mode !== undefined) {
        requireOneOf(`${key}.mode`, a.mode, MTLS_MODES);
    }
    return v;
}

export class MeshPolicy extends pulumi.ComponentResource {
    /** namespace -> mTLS mode. */
    public readonly modes: pulumi.Output<Record<string, MtlsMode>>;

    /** Args a system's plan marked checked (its spec checked what they derive from) are not checked again. */
    constructor(name: string, args: MeshPolicyArgs | Checked<MeshPolicyArgs>, opts?: pulumi.ComponentResourceOptions) {
        const version = isChecked(args) ? args.apiVersion ?? "v1" : validateMeshPolicy(`MeshPolicy(${name})`, args);
        super("platform:mesh:MeshPolicy", name, {}, opts);
        const mode = args.mode ?? "STRICT";
        for (const ns of args.namespaces) {
            // A policy named "default" without selector is the namespace-wide policy.
            new k8s.apiextensions.CustomResource(`${name}-${ns}-peer-authentication`, {
                apiVersion: `security.istio.io/${version}`,
                kind: "PeerAuthentication",
                metadata: { name: "default", namespace: ns, labels: { "app.kubernetes.io/managed-by": "pulumi" } },
                spec: { mtls: { mode } },
            }, { parent: this, dependsOn: args.dependsOn });
        }
        this.modes = pulumi.output(Object.fromEntries(args.namespaces.map(ns => [ns, mode])));
        this.registerOutputs({ modes: this.modes });
    }
}

// ---------------------------------------------------------------------------------------------
// IstioTraffic: Gateway + VirtualServices with weighted routes

export interface MeshDestination {
    /** Service host, e.g. "orders-view-blue" or "orders-view-blue.restapi.svc.cluster.local". */
    host: string;
    port: number;
    /** A DestinationRule subset (optional). */
    subset?: string;
}

export type TrafficSplit =
    /** Canary: canaryWeight percent to the canary, the rest to stable. */
    | { strategy: "canary"; stable: MeshDestination; canary: MeshDestination; canaryWeight: number }
    /** Blue/green: all traffic to the active colour (the other keeps weight 0 for a quick switch back). */
    | { strategy: "blue-green"; blue: MeshDestination; green: MeshDestination; active: "blue" | "green" }
    /** One destination takes all traffic (an endpoint without releases, e.g. Grafana behind the gateway). */
    | { strategy: "single"; destination: MeshDestination };

export interface GatewaySpec {
    /** Namespace of the ingress gateway (where credentialName's Secret lives), usually istio-system. */
    namespace: string;
    hosts: string[];
    /** TLS Secret (in the gateway's namespace) with the certificate for the hosts. */
    credentialName: string;
    /** Pods of the ingress gateway (default { istio: "ingressgateway" }). */
    selector?: Record<string, string>;
    /** Redirect port 80 to HTTPS (default true). */
    httpsRedirect?: boolean;
}

export interface VirtualServiceSpec {
    name: string;
    namespace: string;
    /** Hosts the route answers for: external host names (through the gateway) and/or in-mesh Service names. */
    hosts: string[];
    /** Also route in-mesh (sidecar) traffic, not only the gateway's (default true). */
    meshTraffic?: boolean;
    /** Only requests under this URI prefix (default: all). */
    uriPrefix?: string;
    split: TrafficSplit;
    /** Per-request timeout, e.g. "10s". */
    timeout?: string;
    retries?: { attempts: number; perTryTimeout: string };
}

export interface IstioTrafficArgs extends IstioPrerequisite {
    gateway?: GatewaySpec;
    virtualServices: VirtualServiceSpec[];
}

const DURATION = /^[0-9]+(ms|s|m|h)$/;
const HOST = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function validateDestination(key: string, d: MeshDestination): void {
    if (typeof d?.host !== "string" || !HOST.test(d.host) || d.host.startsWith("*")) {
        throw new ValidationError(`${key}.host`, `${JSON.stringify(d?.host)} is not allowed; allowed: a Service name or FQDN`);
    }
    requireIntInRange(`${key}.port`, d.port, 1, 65535);
    if (d.subset !== undefined) {
        requireDnsLabel(`${key}.subset`, d.subset, 63);
    }
}

/** Weights of a split: [first destination, second destination], summing to 100. */
export function splitWeights(key: string, s: TrafficSplit): { destination: MeshDestination; weight: number }[] {
    if (s.strategy === "canary") {
        if (!(CANARY_WEIGHTS as readonly number[]).includes(s.canaryWeight)) {
            throw new ValidationError(`${key}.canaryWeight`,
                `${JSON.stringify(s.canaryWeight)} is not a canary step; allowed: ${CANARY_WEIGHTS.join(", ")} (the rollout goes 5 -> 25 -> 50 -> 100)`);
        }
        return [{ destination: s.stable, weight: 100 - s.canaryWeight }, { destination: s.canary, weight: s.canaryWeight }];
    }
    if (s.strategy === "single") {
        return [{ destination: s.destination, weight: 100 }];
    }
    if (s.strategy === "blue-green") {
        const active = requireOneOf(`${key}.active`, s.active, ["blue", "green"] as const);
        return [{ destination: s.blue, weight: active === "blue" ? 100 : 0 }, { destination: s.green, weight: active === "green" ? 100 : 0 }];
    }
    throw new ValidationError(`${key}.strategy`, `${JSON.stringify((s as { strategy: unknown }).strategy)} is not allowed; allowed: canary, blue-green, single`);
}

export function validateIstioTraffic(key: string, a: IstioTrafficArgs): IstioApiVersion {
    const v = requireIstio(key, a);
    if (a.gateway) {
        const g = a.gateway;
        requireDnsLabel(`${key}.gateway.namespace`, g.namespace, 63);
        requireDnsLabel(`${key}.gateway.credentialName`, g.credentialName, 253);
        if (!Array.isArray(g.hosts) || g.hosts.length === 0) {
            throw new ValidationError(`${key}.gateway.hosts`, "no host; allowed: a non-empty list of host names");
        }
        g.hosts.forEach((h, i) => {
            if (typeof h !== "string" || !HOST.test(h)) {
                throw new ValidationError(`${key}.gateway.hosts[${i}]`, `${JSON.stringify(h)} is not allowed; allowed: a DNS host name, optionally with a leading *.`);
            }
        });
    }
    if (!Array.isArray(a.virtualServices)) {
        throw new ValidationError(`${key}.virtualServices`, "allowed: a list of VirtualService specs");
    }
    const names = new Set<string>();
    a.virtualServices.forEach((vs, i) => {
        const k = `${key}.virtualServices[${i}]`;
        requireDnsLabel(`${k}.name`, vs.name, 63);
        requireDnsLabel(`${k}.namespace`, vs.namespace, 63);
        if (names.has(`${vs.namespace}/${vs.name}`)) {
            throw new ValidationError(`${k}.name`, `${vs.namespace}/${vs.name} is defined twice; allowed: distinct names`);
        }
        names.add(`${vs.namespace}/${vs.name}`);
        if (!Array.isArray(vs.hosts) || vs.hosts.length === 0) {
            throw new ValidationError(`${k}.hosts`, "no host; allowed: a non-empty list of host names");
        }
        vs.hosts.forEach((h, j) => {
            if (typeof h !== "string" || !HOST.test(h)) {
                throw new ValidationError(`${k}.hosts[${j}]`, `${JSON.stringify(h)} is not allowed; allowed: a DNS host name`);
            }
        });
        if (vs.uriPrefix !== undefined && (typeof vs.uriPrefix !== "string" || !vs.uriPrefix.startsWith("/"))) {
            throw new ValidationError(`${k}.uriPrefix`, `${JSON.stringify(vs.uriPrefix)} is not allowed; allowed: a path starting with /`);
        }
        if (vs.meshTraffic === false && !a.gateway) {
            throw new ValidationError(`${k}.meshTraffic`, "false without a gateway routes nothing; allowed: true, or declare a gateway");
        }
        const weights = splitWeights(`${k}.split`, vs.split);
        const roles = vs.split.strategy === "canary" ? ["stable", "canary"] : vs.split.strategy === "single" ? ["destination"] : ["blue", "green"];
        weights.forEach((w, j) => validateDestination(`${k}.split.${roles[j]}`, w.destination));
        if (vs.timeout !== undefined && (typeof vs.timeout !== "string" || !DURATION.test(vs.timeout))) {
            throw new ValidationError(`${k}.timeout`, `${JSON.stringify(vs.timeout)} is not allowed; allowed: a duration such as 500ms or 10s`);
        }
        if (vs.retries !== undefined) {
            requireIntInRange(`${k}.retries.attempts`, vs.retries.attempts, 0, 10);
            requireNonEmptyString(`${k}.retries.perTryTimeout`, vs.retries.perTryTimeout);
            if (!DURATION.test(vs.retries.perTryTimeout)) {
                throw new ValidationError(`${k}.retries.perTryTimeout`, `${JSON.stringify(vs.retries.perTryTimeout)} is not allowed; allowed: a duration such as 2s`);
            }
        }
    });
    return v;
}

export class IstioTraffic extends pulumi.ComponentResource {
    /** "<namespace>/<name>" of the Gateway, as VirtualServices reference it. */
    public readonly gatewayRef: pulumi.Output<string | undefined>;
    /** VirtualService name -> destination host -> weight. */
    public readonly weights: pulumi.Output<Record<string, Record<string, number>>>;

    /** Args a system's plan marked checked (its spec checked what they derive from) are not checked again. */
    constructor(name: string, args: IstioTrafficArgs | Checked<IstioTrafficArgs>, opts?: pulumi.ComponentResourceOptions) {
        const key = `IstioTraffic(${name})`;
        let version: IstioApiVersion;
        if (isChecked(args)) {
            version = args.apiVersion ?? "v1";
        } else {
            requireDnsLabel(`${key}.name`, name, 40);
            version = validateIstioTraffic(key, args);
        }
        super("platform:mesh:IstioTraffic", name, {}, opts);
        const childOpts: pulumi.CustomResourceOptions = { parent: this, dependsOn: args.dependsOn };
        const labels = { "app.kubernetes.io/managed-by": "pulumi" };

        let gatewayRef: string | undefined;
        let gateway: k8s.apiextensions.CustomResource | undefined;
        if (args.gateway) {
            const g = args.gateway;
            gateway = new k8s.apiextensions.CustomResource(`${name}-gateway`, {
                apiVersion: `networking.istio.io/${version}`,
                kind: "Gateway",
                metadata: { name, namespace: g.namespace, labels },
                spec: {
                    selector: g.selector ?? { istio: "ingressgateway" },
                    servers: [
                        {
                            port: { number: 80, name: "http", protocol: "HTTP" },
                            hosts: g.hosts,
                            tls: { httpsRedirect: g.httpsRedirect ?? true },
                        },
                        {
                            port: { number: 443, name: "https", protocol: "HTTPS" },
                            hosts: g.hosts,
                            tls: { mode: "SIMPLE", credentialName: g.credentialName },
                        },
                    ],
                },
            }, childOpts);
            gatewayRef = `${g.namespace}/${name}`;
        }

        const weights: Record<string, Record<string, number>> = {};
        for (const vs of args.virtualServices) {
            const split = splitWeights(vs.name, vs.split);
            weights[vs.name] = Object.fromEntries(split.map(s => [s.destination.subset ? `${s.destination.host}/${s.destination.subset}` : s.destination.host, s.weight]));
            const gateways = [...(gatewayRef ? [gatewayRef] : []), ...(vs.meshTraffic === false ? [] : ["mesh"])];
            new k8s.apiextensions.CustomResource(`${name}-${vs.name}-virtual-service`, {
                apiVersion: `networking.istio.io/${version}`,
                kind: "VirtualService",
                metadata: { name: vs.name, namespace: vs.namespace, labels },
                spec: {
                    hosts: vs.hosts,
                    gateways,
                    http: [{
                        name: vs.split.strategy,
                        match: vs.uriPrefix ? [{ uri: { prefix: vs.uriPrefix } }] : undefined,
                        route: split.map(s => ({
                            destination: { host: s.destination.host, port: { number: s.destination.port }, subset: s.destination.subset },
                            weight: s.weight,
                        })),
                        timeout: vs.timeout,
                        retries: vs.retries,
                    }],
                },
            }, { ...childOpts, dependsOn: gateway ? [gateway, ...(args.dependsOn ?? [])] : args.dependsOn });
        }
        this.gatewayRef = pulumi.output(gatewayRef);
        this.weights = pulumi.output(weights);
        this.registerOutputs({ gatewayRef: this.gatewayRef, weights: this.weights });
    }
}
