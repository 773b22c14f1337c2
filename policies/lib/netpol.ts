// Reading NetworkPolicies into a small model shared by the network rules and the traffic analysis.
import { arr, get, isNetworkPolicy, isUnknown, K8sResource, num, obj, parseSelector, probe, Selector, str, unwrap } from "./k8s";

export interface PortSpec {
    protocol: string;
    /** Port number or name; undefined = every port of the protocol. */
    port?: number | string;
    /** Inclusive end of a numeric range. */
    endPort?: number;
}

export interface IpBlock {
    cidr: string;
    except: string[];
}

export interface Peer {
    podSelector?: Selector;
    namespaceSelector?: Selector;
    ipBlock?: IpBlock;
    /** Some part of the peer is unknown. */
    unknown: boolean;
}

export interface NpRule {
    /** undefined = the field is absent or empty: every peer. */
    peers?: Peer[];
    /** undefined = every port. */
    ports?: PortSpec[];
    unknown: boolean;
}

export interface ParsedPolicy {
    res: K8sResource;
    namespace: string;
    podSelector: Selector;
    ingressIsolated: boolean;
    egressIsolated: boolean;
    ingress: NpRule[];
    egress: NpRule[];
    /** policyTypes or the selector are unknown: the policy's effect cannot be computed. */
    unknown: boolean;
}

function parsePorts(v: unknown): { ports?: PortSpec[]; unknown: boolean } {
    if (isUnknown(v)) {
        return { unknown: true };
    }
    const list = arr(v);
    if (!list || list.length === 0) {
        return { unknown: false };
    }
    let unknown = false;
    const ports: PortSpec[] = [];
    for (const p of list) {
        if (!obj(p)) {
            unknown = true;
            continue;
        }
        const protocol = str(get(p, "protocol")) ?? "TCP";
        const portRaw = unwrap(get(p, "port"));
        if (isUnknown(portRaw) || isUnknown(get(p, "protocol"))) {
            unknown = true;
            continue;
        }
        const port = num(portRaw) ?? str(portRaw);
        const endPort = num(get(p, "endPort"));
        ports.push({ protocol, port, endPort: port !== undefined && typeof port === "number" ? endPort : undefined });
    }
    return { ports, unknown };
}

function parsePeers(v: unknown): { peers?: Peer[]; unknown: boolean } {
    if (isUnknown(v)) {
        return { unknown: true };
    }
    const list = arr(v);
    if (!list || list.length === 0) {
        return { unknown: false };
    }
    const peers: Peer[] = [];
    let unknown = false;
    for (const p of list) {
        const o = obj(p);
        if (!o) {
            unknown = true;
            continue;
        }
        const peer: Peer = { unknown: false };
        if (o.podSelector !== undefined && o.podSelector !== null) {
            peer.podSelector = parseSelector(o.podSelector);
            peer.unknown ||= peer.podSelector.unknown;
        }
        if (o.namespaceSelector !== undefined && o.namespaceSelector !== null) {
            peer.namespaceSelector = parseSelector(o.namespaceSelector);
            peer.unknown ||= peer.namespaceSelector.unknown;
        }
        if (o.ipBlock !== undefined && o.ipBlock !== null) {
            const cidr = str(get(o.ipBlock, "cidr"));
            if (!cidr) {
                peer.unknown = true;
            } else {
                const except = (arr(get(o.ipBlock, "except")) ?? []).map((x) => str(unwrap(x))).filter((x): x is string => !!x);
                peer.ipBlock = { cidr, except };
            }
        }
        unknown ||= peer.unknown;
        peers.push(peer);
    }
    return { peers, unknown };
}

function parseRules(v: unknown, peerField: "from" | "to"): { rules: NpRule[]; unknown: boolean } {
    if (isUnknown(v)) {
        return { rules: [], unknown: true };
    }
    const rules: NpRule[] = [];
    for (const r of arr(v) ?? []) {
        if (isUnknown(r)) {
            return { rules, unknown: true };
        }
        const peers = parsePeers(get(r, peerField));
        const ports = parsePorts(get(r, "ports"));
        rules.push({ peers: peers.peers, ports: ports.ports, unknown: peers.unknown || ports.unknown });
    }
    return { rules, unknown: false };
}

export function parseNetworkPolicy(res: K8sResource): ParsedPolicy {
    const spec = get(res.props, "spec");
    const podSelector = parseSelector(get(spec, "podSelector"));
    const ingress = parseRules(get(spec, "ingress"), "from");
    const egress = parseRules(get(spec, "egress"), "to");
    const typesP = probe(spec, "policyTypes");
    let ingressIsolated = true;
    let egressIsolated = false;
    let unknown = podSelector.unknown || typesP.state === "unknown";
    if (typesP.state === "known") {
        const types = (arr(typesP.value) ?? []).map((x) => str(unwrap(x)));
        if (types.some((t) => t === undefined)) {
            unknown = true;
        }
        ingressIsolated = types.includes("Ingress");
        egressIsolated = types.includes("Egress");
    } else {
        // Kubernetes default: Ingress always, Egress when egress rules are present.
        const egressP = probe(spec, "egress");
        egressIsolated = egressP.state === "known" || egressP.state === "unknown";
    }
    return {
        res,
        namespace: res.namespace,
        podSelector,
        ingressIsolated,
        egressIsolated,
        ingress: ingress.rules,
        egress: egress.rules,
        unknown: unknown || ingress.unknown || egress.unknown,
    };
}

export function networkPoliciesOf(resources: K8sResource[]): ParsedPolicy[] {
    return resources.filter((r) => isNetworkPolicy(r.type)).map(parseNetworkPolicy);
}
