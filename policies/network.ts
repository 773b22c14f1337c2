// Network rules: default deny, coverage of workloads, no allow-all, controlled egress, DNS, exposure.
import { isKind, isNetworkPolicy, isWorkloadType, K8sResource, podLabelsOf, probe, selectorIsEmpty, selectorMatches, str } from "./lib/k8s";
import { networkPoliciesOf, parseNetworkPolicy, ParsedPolicy, Peer } from "./lib/netpol";
import { inAllowList, resourceRule, stackRule, stringList } from "./lib/policy";

export interface Workload {
    res: K8sResource;
    labels: Record<string, string>;
}

export function workloadsOf(resources: K8sResource[]): Workload[] {
    return resources.filter((r) => isWorkloadType(r.type)).map((res) => ({ res, labels: podLabelsOf(res.type, res.props) }));
}

function workloadNamespaces(workloads: Workload[], exempt: string[]): Map<string, Workload[]> {
    const byNs = new Map<string, Workload[]>();
    for (const w of workloads) {
        if (exempt.includes(w.res.namespace)) {
            continue;
        }
        byNs.set(w.res.namespace, [...(byNs.get(w.res.namespace) ?? []), w]);
    }
    return byNs;
}

export function isDefaultDeny(p: ParsedPolicy): boolean {
    return !p.unknown && selectorIsEmpty(p.podSelector) && p.ingressIsolated && p.egressIsolated && p.ingress.length === 0 && p.egress.length === 0;
}

const exemptSchema = { exemptNamespaces: stringList };
const EXEMPT = ["kube-system", "kube-public", "kube-node-lease"];

// ---------------------------------------------------------------------------------------------

export const networkDefaultDeny = stackRule({
    name: "network-default-deny",
    description: "Every namespace with workloads has a default-deny NetworkPolicy (podSelector {}, policyTypes Ingress and Egress, no rules).",
    remediationSteps: "Add a NetworkPolicy `default-deny` with podSelector {}, policyTypes [Ingress, Egress] and no ingress/egress rules to the namespace.",
    severity: "high",
    tags: ["network"],
    defaults: { exemptNamespaces: EXEMPT },
    schema: exemptSchema,
    check: (resources, cfg, report) => {
        const policies = networkPoliciesOf(resources);
        for (const [ns] of workloadNamespaces(workloadsOf(resources), cfg.exemptNamespaces)) {
            const nsPolicies = policies.filter((p) => p.namespace === ns);
            if (nsPolicies.some((p) => p.unknown)) {
                continue; // cannot tell during preview
            }
            if (!nsPolicies.some(isDefaultDeny)) {
                report(`namespace ${ns} has workloads but no default-deny NetworkPolicy for ingress and egress`);
            }
        }
    },
});

export const networkWorkloadSelected = stackRule({
    name: "network-workload-selected",
    description: "Every workload is selected by at least one NetworkPolicy of its own (a non-empty podSelector), not only by namespace-wide ones.",
    remediationSteps: "Add a NetworkPolicy whose podSelector matches the workload's pod labels and allows exactly its flows.",
    severity: "medium",
    tags: ["network"],
    defaults: { exemptNamespaces: EXEMPT, countNamespaceWidePolicies: false },
    schema: { ...exemptSchema, countNamespaceWidePolicies: { type: "boolean" } },
    check: (resources, cfg, report) => {
        const policies = networkPoliciesOf(resources);
        for (const w of workloadsOf(resources)) {
            if (cfg.exemptNamespaces.includes(w.res.namespace)) {
                continue;
            }
            const nsPolicies = policies.filter((p) => p.namespace === w.res.namespace);
            if (nsPolicies.some((p) => p.podSelector.unknown)) {
                continue;
            }
            const selected = nsPolicies.some(
                (p) => (cfg.countNamespaceWidePolicies || !selectorIsEmpty(p.podSelector)) && selectorMatches(p.podSelector, w.labels),
            );
            if (!selected) {
                report(`${w.res.kind} ${w.res.id} is selected by no NetworkPolicy of its own`, w.res.urn);
            }
        }
    },
});

export const networkPolicySelectsPods = stackRule({
    name: "network-policy-selects-pods",
    description: "No NetworkPolicy with a podSelector selects nothing: a policy matching no workload of its namespace is dead or mistyped.",
    remediationSteps: "Fix the podSelector labels to match the workload's pod template labels, or delete the policy.",
    severity: "low",
    tags: ["network"],
    defaults: {},
    check: (resources, _cfg, report) => {
        const workloads = workloadsOf(resources);
        for (const p of networkPoliciesOf(resources)) {
            if (p.podSelector.unknown || selectorIsEmpty(p.podSelector)) {
                continue;
            }
            const any = workloads.some((w) => w.res.namespace === p.namespace && selectorMatches(p.podSelector, w.labels));
            if (!any) {
                report(`NetworkPolicy ${p.res.id} selects no workload of namespace ${p.namespace}`, p.res.urn);
            }
        }
    },
});

function allowsEverything(peer: Peer): boolean {
    if (peer.unknown || peer.ipBlock) {
        return false;
    }
    const nsAll = peer.namespaceSelector !== undefined && selectorIsEmpty(peer.namespaceSelector);
    const podAll = peer.podSelector === undefined || selectorIsEmpty(peer.podSelector);
    return (peer.namespaceSelector === undefined && peer.podSelector === undefined) || (nsAll && podAll);
}

export const networkNoAllowAll = resourceRule({
    name: "network-no-allow-all",
    description: "NetworkPolicy rules name their peers: no ingress rule without `from`, no egress rule without `to`, no peer matching every pod of every namespace.",
    remediationSteps: "Give each rule explicit peers (podSelector / namespaceSelector / ipBlock) for the flows the workload needs.",
    severity: "high",
    tags: ["network"],
    defaults: {},
    appliesTo: isNetworkPolicy,
    check: (res, _cfg, report) => {
        const p = parseNetworkPolicy(res);
        const sides: ["ingress" | "egress", string][] = [
            ["ingress", "sources"],
            ["egress", "destinations"],
        ];
        for (const [side, what] of sides) {
            p[side].forEach((rule, i) => {
                if (rule.unknown && !rule.peers) {
                    return;
                }
                if (!rule.peers) {
                    report(`${side} rule ${i} has no ${side === "ingress" ? "from" : "to"}: it allows all ${what}`);
                } else if (rule.peers.some(allowsEverything)) {
                    report(`${side} rule ${i} has a peer that matches every pod in every namespace`);
                }
            });
        }
    },
});

function isOpenCidr(cidr: string): boolean {
    return /\/0$/.test(cidr.trim());
}

export const networkNoOpenEgress = resourceRule({
    name: "network-no-open-egress",
    description: "No egress to 0.0.0.0/0 (or ::/0) unless the NetworkPolicy is allow-listed.",
    remediationSteps: "Restrict the ipBlock to the CIDRs the workload needs, or add the policy (name or namespace/name) to allowedPolicies.",
    severity: "high",
    tags: ["network"],
    defaults: { allowedPolicies: [] as string[] },
    schema: { allowedPolicies: stringList },
    appliesTo: isNetworkPolicy,
    check: (res, cfg, report) => {
        if (inAllowList(res, cfg.allowedPolicies)) {
            return;
        }
        parseNetworkPolicy(res).egress.forEach((rule, i) => {
            for (const peer of rule.peers ?? []) {
                if (peer.ipBlock && isOpenCidr(peer.ipBlock.cidr)) {
                    report(`egress rule ${i} allows ${peer.ipBlock.cidr}`);
                }
            }
        });
    },
});

/** True when the rule allows egress to the cluster DNS on the given protocol, port 53. */
export function allowsDns(rule: ParsedPolicy["egress"][number], protocol: string, dnsNamespace: string, dnsLabels: Record<string, string>): boolean {
    const portOk = !rule.ports || rule.ports.some((p) => p.protocol === protocol && (p.port === undefined || p.port === 53 || (typeof p.port === "number" && p.endPort !== undefined && p.port <= 53 && 53 <= p.endPort)));
    if (!portOk || !rule.peers) {
        return false;
    }
    const nsLabels = { "kubernetes.io/metadata.name": dnsNamespace };
    return rule.peers.some(
        (peer) =>
            !peer.unknown &&
            !peer.ipBlock &&
            peer.namespaceSelector !== undefined &&
            selectorMatches(peer.namespaceSelector, nsLabels) &&
            !selectorIsEmpty(peer.namespaceSelector) &&
            (peer.podSelector === undefined || selectorMatches(peer.podSelector, dnsLabels)),
    );
}

export const networkDnsEgress = stackRule({
    name: "network-dns-egress",
    description: "Every workload's DNS egress is explicit: a NetworkPolicy selecting it allows UDP and TCP 53 to kube-dns in kube-system.",
    remediationSteps:
        "Add the namespace's DNS egress policy: podSelector {}, egress to namespaceSelector kubernetes.io/metadata.name=kube-system + podSelector k8s-app=kube-dns on ports 53/UDP and 53/TCP.",
    severity: "medium",
    tags: ["network"],
    defaults: {
        exemptNamespaces: EXEMPT,
        dnsNamespace: "kube-system",
        dnsPodLabels: { "k8s-app": "kube-dns" },
        protocols: ["UDP", "TCP"] as string[],
    },
    schema: {
        ...exemptSchema,
        dnsNamespace: { type: "string" },
        dnsPodLabels: { type: "object", additionalProperties: { type: "string" } },
        protocols: stringList,
    },
    check: (resources, cfg, report) => {
        const policies = networkPoliciesOf(resources);
        for (const [ns, workloads] of workloadNamespaces(workloadsOf(resources), cfg.exemptNamespaces)) {
            const nsPolicies = policies.filter((p) => p.namespace === ns);
            if (nsPolicies.some((p) => p.unknown)) {
                continue;
            }
            for (const w of workloads) {
                const selecting = nsPolicies.filter((p) => p.egressIsolated && selectorMatches(p.podSelector, w.labels));
                const missing = cfg.protocols.filter(
                    (proto) => !selecting.some((p) => p.egress.some((r) => allowsDns(r, proto, cfg.dnsNamespace, cfg.dnsPodLabels))),
                );
                if (missing.length > 0) {
                    report(`${w.res.kind} ${w.res.id} has no explicit DNS egress on ${missing.map((m) => `${m}/53`).join(", ")}`, w.res.urn);
                }
            }
        }
    },
});

export const serviceExposure = resourceRule({
    name: "service-exposure",
    description: "Only allow-listed Services (the ingress gateway) are of type LoadBalancer or NodePort.",
    remediationSteps: "Use type ClusterIP and route through the ingress controller, or add the Service (name or namespace/name) to allowedServices.",
    severity: "high",
    tags: ["network"],
    defaults: { allowedServices: ["ingress-nginx/ingress-nginx-controller", "istio-ingressgateway"] as string[] },
    schema: { allowedServices: stringList },
    appliesTo: (type) => isKind(type, "", "Service"),
    check: (res, cfg, report) => {
        const t = probe(res.props, "spec", "type");
        const type = t.state === "known" ? str(t.value) : undefined;
        if ((type === "LoadBalancer" || type === "NodePort") && !inAllowList(res, cfg.allowedServices)) {
            report(`is of type ${type} but not in the allow-list`);
        }
    },
});

export const networkPolicies = {
    "network-default-deny": networkDefaultDeny,
    "network-workload-selected": networkWorkloadSelected,
    "network-policy-selects-pods": networkPolicySelectsPods,
    "network-no-allow-all": networkNoAllowAll,
    "network-no-open-egress": networkNoOpenEgress,
    "network-dns-egress": networkDnsEgress,
    "service-exposure": serviceExposure,
};
