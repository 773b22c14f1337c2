// Allowed-flow analysis: which endpoint may reach which workload on which port, given the
// NetworkPolicies, workloads and namespaces of a stack.
//
// Semantics followed (Kubernetes NetworkPolicy):
// - a pod is isolated for ingress (egress) when some policy of its namespace selects it and lists
//   Ingress (Egress) in policyTypes (Ingress by default; Egress by default when egress rules exist);
// - a non-isolated direction allows everything; an isolated one allows the union of the rules of
//   the policies selecting the pod (a rule without peers matches every peer, without ports every port);
// - a peer with only podSelector means pods of the policy's namespace; with namespaceSelector the pods
//   (all, or those matching podSelector) of the matching namespaces; ipBlock means addresses outside;
// - a flow between two workloads needs BOTH the source's egress and the target's ingress.
import { arr, describeSelector, get, isKind, K8sResource, labelsOf, num, podSpecOf, selectorIsEmpty, selectorMatches, str } from "../lib/k8s";
import { networkPoliciesOf, ParsedPolicy, Peer, PortSpec } from "../lib/netpol";
import { workloadsOf } from "../network";

export type EndpointKind = "workload" | "namespace" | "ipBlock" | "external";

export interface Endpoint {
    /** "<namespace>/<name>" for workloads; "<namespace>/<selector>" for pods outside the stack; "ipBlock:<cidr>"; "external". */
    id: string;
    kind: EndpointKind;
    namespace?: string;
    name?: string;
    /** Pod labels (workloads) or the labels a peer selects (namespace endpoints). */
    labels: Record<string, string>;
}

/** undefined ports = every port. */
export interface Edge {
    from: string;
    to: string;
    ports?: PortSpec[];
}

export interface TrafficGraph {
    endpoints: Endpoint[];
    edges: Edge[];
    /** NetworkPolicies left out because part of them is unknown (preview). */
    skippedPolicies: string[];
}

export interface AnalysisOptions {
    /** Namespaces that exist outside the stack (e.g. ingress-nginx, kube-system). */
    extraNamespaces?: string[];
}

export const EXTERNAL: Endpoint = { id: "external", kind: "external", labels: {} };

const ALL_PROTOCOLS = ["TCP", "UDP", "SCTP"];

// ---------------------------------------------------------------------------------------------
// Port sets

/** undefined = all ports. */
type PortSet = PortSpec[] | undefined;

function union(a: PortSet, b: PortSet): PortSet {
    if (a === undefined || b === undefined) {
        return undefined;
    }
    const out = [...a];
    for (const p of b) {
        if (!out.some((q) => q.protocol === p.protocol && q.port === p.port && q.endPort === p.endPort)) {
            out.push(p);
        }
    }
    return out;
}

function range(p: PortSpec): [number, number] | undefined {
    if (p.port === undefined) {
        return [1, 65535];
    }
    if (typeof p.port === "number") {
        return [p.port, p.endPort ?? p.port];
    }
    return undefined;
}

function intersectOne(a: PortSpec, b: PortSpec): PortSpec | undefined {
    if (a.protocol !== b.protocol) {
        return undefined;
    }
    if (a.port === undefined) return b;
    if (b.port === undefined) return a;
    if (typeof a.port === "string" || typeof b.port === "string") {
        return a.port === b.port ? a : undefined;
    }
    const ra = range(a)!;
    const rb = range(b)!;
    const lo = Math.max(ra[0], rb[0]);
    const hi = Math.min(ra[1], rb[1]);
    if (lo > hi) {
        return undefined;
    }
    return hi > lo ? { protocol: a.protocol, port: lo, endPort: hi } : { protocol: a.protocol, port: lo };
}

function intersect(a: PortSet, b: PortSet): PortSet | null {
    if (a === undefined) return b;
    if (b === undefined) return a;
    const out: PortSpec[] = [];
    for (const x of a) {
        for (const y of b) {
            const z = intersectOne(x, y);
            if (z && !out.some((q) => q.protocol === z.protocol && q.port === z.port && q.endPort === z.endPort)) {
                out.push(z);
            }
        }
    }
    return out.length ? out : null;
}

/** Resolves named ports against the container ports of the target workload. */
function resolveNamed(ports: PortSet, target: K8sResource | undefined): PortSet {
    if (!ports || !target) {
        return ports;
    }
    const named = new Map<string, { port: number; protocol: string }>();
    const spec = podSpecOf(target.type, target.props);
    for (const c of [...(arr(spec?.containers) ?? []), ...(arr(spec?.initContainers) ?? [])]) {
        for (const p of arr(get(c, "ports")) ?? []) {
            const name = str(get(p, "name"));
            const port = num(get(p, "containerPort"));
            if (name && port !== undefined) {
                named.set(name, { port, protocol: str(get(p, "protocol")) ?? "TCP" });
            }
        }
    }
    return ports.map((p) => {
        if (typeof p.port === "string" && named.has(p.port)) {
            const n = named.get(p.port)!;
            return { protocol: p.protocol, port: n.port };
        }
        return p;
    });
}

export function sortPorts(ports: PortSpec[]): PortSpec[] {
    return [...ports].sort((a, b) =>
        a.protocol !== b.protocol ? a.protocol.localeCompare(b.protocol) : String(a.port ?? "").localeCompare(String(b.port ?? ""), undefined, { numeric: true }),
    );
}

export function portLabel(ports: PortSpec[] | undefined): string {
    if (!ports) {
        return "any";
    }
    return sortPorts(ports)
        .map((p) => (p.port === undefined ? `${p.protocol}/any` : `${p.protocol}/${p.port}${p.endPort ? `-${p.endPort}` : ""}`))
        .join(", ");
}

// ---------------------------------------------------------------------------------------------
// The analysis

interface WorkloadEp {
    ep: Endpoint;
    res: K8sResource;
}

export function analyzeTraffic(resources: K8sResource[], options: AnalysisOptions = {}): TrafficGraph {
    const workloads: WorkloadEp[] = workloadsOf(resources).map((w) => ({
        res: w.res,
        ep: {
            id: w.res.id,
            kind: "workload",
            namespace: w.res.namespace,
            name: w.res.name,
            // Pod labels win; the workload's own labels fill in what the template lacks.
            labels: { ...w.res.labels, ...w.labels },
        },
    }));
    const podLabels = new Map(workloadsOf(resources).map((w) => [w.res.id, w.labels]));

    // Namespaces and their labels.
    const nsLabels = new Map<string, Record<string, string>>();
    const addNs = (name: string, labels: Record<string, string> = {}) =>
        nsLabels.set(name, { ...(nsLabels.get(name) ?? {}), ...labels, "kubernetes.io/metadata.name": name });
    for (const r of resources) {
        if (isKind(r.type, "", "Namespace")) {
            addNs(r.name, labelsOf(get(r.props, "metadata", "labels")));
        }
    }
    for (const w of workloads) addNs(w.res.namespace);
    for (const n of options.extraNamespaces ?? []) addNs(n);
    const nsWithWorkloads = new Set(workloads.map((w) => w.res.namespace));

    const allPolicies = networkPoliciesOf(resources);
    const skippedPolicies = allPolicies.filter((p) => p.unknown).map((p) => p.res.id);
    const policies = allPolicies.filter((p) => !p.unknown);

    const endpoints = new Map<string, Endpoint>();
    for (const w of workloads) endpoints.set(w.ep.id, w.ep);
    const edges = new Map<string, Edge>();
    const addEdge = (from: Endpoint, to: Endpoint, ports: PortSet) => {
        endpoints.set(from.id, endpoints.get(from.id) ?? from);
        endpoints.set(to.id, endpoints.get(to.id) ?? to);
        const key = `${from.id}\u0000${to.id}`;
        const prev = edges.get(key);
        edges.set(key, { from: from.id, to: to.id, ports: prev ? union(prev.ports, ports) : ports });
    };

    const selecting = (w: WorkloadEp, dir: "ingress" | "egress") =>
        policies.filter(
            (p) =>
                p.namespace === w.res.namespace &&
                (dir === "ingress" ? p.ingressIsolated : p.egressIsolated) &&
                selectorMatches(p.podSelector, podLabels.get(w.res.id) ?? {}),
        );

    /** Does the peer (of a policy in namespace `policyNs`) match workload `w`? */
    const peerMatchesWorkload = (peer: Peer, policyNs: string, w: WorkloadEp): boolean => {
        if (peer.ipBlock) {
            return false;
        }
        const labels = podLabels.get(w.res.id) ?? {};
        const nsOk = peer.namespaceSelector
            ? selectorMatches(peer.namespaceSelector, nsLabels.get(w.res.namespace) ?? {})
            : w.res.namespace === policyNs;
        const podOk = peer.podSelector ? selectorMatches(peer.podSelector, labels) : true;
        return nsOk && podOk;
    };

    /** Endpoints outside the stack's workloads that a peer designates. */
    const peerOutsideEndpoints = (peer: Peer, policyNs: string): Endpoint[] => {
        if (peer.ipBlock) {
            const ex = peer.ipBlock.except.length ? ` except ${peer.ipBlock.except.join(",")}` : "";
            return [{ id: `ipBlock:${peer.ipBlock.cidr}${ex}`, kind: "ipBlock", labels: {} }];
        }
        const podPart = peer.podSelector && !selectorIsEmpty(peer.podSelector) ? describeSelector(peer.podSelector) : "*";
        const podSel = peer.podSelector ? { ...peer.podSelector.matchLabels } : {};
        if (!peer.namespaceSelector) {
            return nsWithWorkloads.has(policyNs) ? [] : [{ id: `${policyNs}/${podPart}`, kind: "namespace", namespace: policyNs, labels: podSel }];
        }
        const matches = [...nsLabels.entries()].filter(([, l]) => selectorMatches(peer.namespaceSelector!, l)).map(([n]) => n);
        if (matches.length === 0) {
            // A namespace outside the stack named by its kubernetes.io/metadata.name label.
            const sel = peer.namespaceSelector;
            const named = sel.matchLabels["kubernetes.io/metadata.name"];
            if (named && Object.keys(sel.matchLabels).length === 1 && sel.requirements.length === 0 && !sel.unknown) {
                return [{ id: `${named}/${podPart}`, kind: "namespace", namespace: named, labels: podSel }];
            }
            return [{ id: `namespaces(${describeSelector(peer.namespaceSelector)})/${podPart}`, kind: "namespace", labels: podSel }];
        }
        return matches
            .filter((n) => !nsWithWorkloads.has(n))
            .map((n) => ({ id: `${n}/${podPart}`, kind: "namespace" as const, namespace: n, labels: podSel }));
    };

    /** Ports the policies allow toward/from a workload peer; null = not allowed. */
    const allowedFor = (pols: ParsedPolicy[], dir: "ingress" | "egress", other: WorkloadEp): PortSet | null => {
        if (pols.length === 0) {
            return undefined;
        }
        let acc: PortSet | null = null;
        for (const p of pols) {
            for (const rule of p[dir]) {
                const match = !rule.peers || rule.peers.some((peer) => peerMatchesWorkload(peer, p.namespace, other));
                if (match) {
                    acc = acc === null ? rule.ports : union(acc, rule.ports);
                }
            }
        }
        return acc;
    };

    // Workload -> workload.
    for (const src of workloads) {
        const egressPols = selecting(src, "egress");
        for (const dst of workloads) {
            const ingressPols = selecting(dst, "ingress");
            const eg = allowedFor(egressPols, "egress", dst);
            if (eg === null) continue;
            const ing = allowedFor(ingressPols, "ingress", src);
            if (ing === null) continue;
            const both = intersect(resolveNamed(eg, dst.res), resolveNamed(ing, dst.res));
            if (both === null) continue;
            addEdge(src.ep, dst.ep, both);
        }
    }

    // Outside -> workload (only the target's ingress can be seen).
    for (const dst of workloads) {
        const pols = selecting(dst, "ingress");
        if (pols.length === 0) {
            addEdge(EXTERNAL, dst.ep, undefined);
            continue;
        }
        for (const p of pols) {
            for (const rule of p.ingress) {
                const ports = resolveNamed(rule.ports, dst.res);
                if (!rule.peers) {
                    addEdge(EXTERNAL, dst.ep, ports);
                    continue;
                }
                for (const peer of rule.peers) {
                    for (const ep of peerOutsideEndpoints(peer, p.namespace)) addEdge(ep, dst.ep, ports);
                }
            }
        }
    }

    // Workload -> outside (only the source's egress can be seen).
    for (const src of workloads) {
        const pols = selecting(src, "egress");
        if (pols.length === 0) {
            addEdge(src.ep, EXTERNAL, undefined);
            continue;
        }
        for (const p of pols) {
            for (const rule of p.egress) {
                if (!rule.peers) {
                    addEdge(src.ep, EXTERNAL, rule.ports);
                    continue;
                }
                for (const peer of rule.peers) {
                    for (const ep of peerOutsideEndpoints(peer, p.namespace)) addEdge(src.ep, ep, rule.ports);
                }
            }
        }
    }

    const edgeList = [...edges.values()].map((e) => (e.ports ? { ...e, ports: sortPorts(e.ports) } : e));
    edgeList.sort((a, b) => (a.from === b.from ? a.to.localeCompare(b.to) : a.from.localeCompare(b.from)));
    return {
        endpoints: [...endpoints.values()].sort((a, b) => a.id.localeCompare(b.id)),
        edges: edgeList,
        skippedPolicies,
    };
}

export { ALL_PROTOCOLS };
