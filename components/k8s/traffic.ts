/**
 * Traffic plans: "who may talk to whom on which port" as data. Components declare flows between
 * endpoints; each workload's NetworkPolicy is generated from the flows that touch it, so the
 * plan, the policies and the tests that check them cannot drift apart.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";

export type Protocol = "TCP" | "UDP";

export interface PortSpec {
    port: number;
    protocol?: Protocol;
}

/** Where traffic comes from or goes to. */
export type Peer =
    /** Pods selected by labels in one namespace. */
    | { kind: "pods"; namespace: pulumi.Input<string>; selector: Record<string, string> }
    /** Every pod of a namespace (e.g. the ingress controller's), optionally narrowed by labels. */
    | { kind: "namespace"; namespace: string; podSelector?: Record<string, string> }
    /** An address range outside the cluster. */
    | { kind: "cidr"; cidr: string; except?: string[] };

export interface Endpoint {
    /** Unique within a plan, e.g. "restapi/orders-view"; used to match flows, and in diagrams. */
    id: string;
    peer: Peer;
}

export interface Flow {
    from: Endpoint;
    to: Endpoint;
    ports: PortSpec[];
}

export interface TrafficRule {
    peer: Peer;
    ports: PortSpec[];
}

export interface WorkloadTraffic {
    ingress: TrafficRule[];
    egress: TrafficRule[];
}

export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

/** A plan: the flows of a system. Rules for an endpoint are the flows that start or end there. */
export class TrafficPlan {
    private readonly flowList: Flow[] = [];

    constructor(flows: Flow[] = []) {
        flows.forEach(f => this.allow(f.from, f.to, f.ports));
    }

    allow(from: Endpoint, to: Endpoint, ports: PortSpec[]): this {
        if (ports.length === 0) {
            throw new Error(`traffic plan: flow ${from.id} -> ${to.id} names no port; every flow needs at least one`);
        }
        this.flowList.push({ from, to, ports });
        return this;
    }

    get flows(): readonly Flow[] {
        return this.flowList;
    }

    rulesFor(endpoint: Endpoint): WorkloadTraffic {
        return {
            ingress: this.flowList.filter(f => f.to.id === endpoint.id).map(f => ({ peer: f.from.peer, ports: f.ports })),
            egress: this.flowList.filter(f => f.from.id === endpoint.id).map(f => ({ peer: f.to.peer, ports: f.ports })),
        };
    }
}

type NetworkPolicyPeer = k8s.types.input.networking.v1.NetworkPolicyPeer;

export function toPolicyPeer(peer: Peer): NetworkPolicyPeer {
    switch (peer.kind) {
        case "pods":
            return {
                namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: peer.namespace } },
                podSelector: { matchLabels: peer.selector },
            };
        case "namespace":
            return {
                namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: peer.namespace } },
                podSelector: peer.podSelector ? { matchLabels: peer.podSelector } : {},
            };
        case "cidr":
            return { ipBlock: { cidr: peer.cidr, except: peer.except } };
    }
}

function toPolicyPorts(ports: PortSpec[]): k8s.types.input.networking.v1.NetworkPolicyPort[] {
    return ports.map(p => ({ port: p.port, protocol: p.protocol ?? "TCP" }));
}

/**
 * The spec of a workload's NetworkPolicy: it always isolates both directions, so a workload with
 * no declared egress can reach nothing but DNS (allowed namespace-wide by the baseline).
 */
export function networkPolicySpec(podSelector: Record<string, string>, traffic: WorkloadTraffic):
    k8s.types.input.networking.v1.NetworkPolicySpec {
    return {
        podSelector: { matchLabels: podSelector },
        policyTypes: ["Ingress", "Egress"],
        ingress: traffic.ingress.map(r => ({ from: [toPolicyPeer(r.peer)], ports: toPolicyPorts(r.ports) })),
        egress: traffic.egress.map(r => ({ to: [toPolicyPeer(r.peer)], ports: toPolicyPorts(r.ports) })),
    };
}

/** DNS: kube-dns/CoreDNS in kube-system on 53/UDP and 53/TCP. */
export const DNS_PEER: Peer = { kind: "namespace", namespace: "kube-system", podSelector: { "k8s-app": "kube-dns" } };
export const DNS_PORTS: PortSpec[] = [{ port: 53, protocol: "UDP" }, { port: 53, protocol: "TCP" }];
