import { expect } from "chai";
import { T, UNKNOWN } from "../lib/k8s";
import { networkDefaultDeny, networkDnsEgress, networkNoAllowAll, networkNoOpenEgress, networkPolicySelectsPods, networkWorkloadSelected, serviceExposure } from "../network";
import { defaultDeny, deployment, DELETE, dnsEgress, mutate, namespaceBundle, netpol, res } from "./fixtures";
import { checkResource, checkStack } from "./util";

const apiPolicy = netpol("shop", "api", {
    podSelector: { matchLabels: { "app.kubernetes.io/name": "api" } },
    policyTypes: ["Ingress", "Egress"],
    ingress: [{ from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } } }], ports: [{ port: 8080 }] }],
    egress: [{ to: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "mongodb" } } }], ports: [{ port: 27017 }] }],
});
const stack = [...namespaceBundle("shop"), deployment(), apiPolicy];

describe("network-default-deny", () => {
    it("passes a namespace with the default-deny policy", async () => {
        expect(await checkStack(networkDefaultDeny, stack)).to.deep.equal([]);
    });
    it("reports a namespace without it", async () => {
        expect(await checkStack(networkDefaultDeny, stack.filter((r) => r.name !== "shop-default-deny"))).to.deep.equal([
            "namespace shop has workloads but no default-deny NetworkPolicy for ingress and egress",
        ]);
    });
    it("reports a default-deny that only covers ingress", async () => {
        const ingressOnly = mutate(defaultDeny("shop"), "props.spec.policyTypes", ["Ingress"]);
        expect(await checkStack(networkDefaultDeny, [...stack.filter((r) => r.name !== "shop-default-deny"), ingressOnly])).to.have.length(1);
    });
    it("reports a 'default-deny' that selects only some pods", async () => {
        const partial = mutate(defaultDeny("shop"), "props.spec.podSelector", { matchLabels: { a: "b" } });
        expect(await checkStack(networkDefaultDeny, [...stack.filter((r) => r.name !== "shop-default-deny"), partial])).to.have.length(1);
    });
    it("ignores namespaces without workloads; exemptNamespaces both ways", async () => {
        expect(await checkStack(networkDefaultDeny, namespaceBundle("empty").slice(0, 1))).to.deep.equal([]);
        expect(await checkStack(networkDefaultDeny, [deployment()], { exemptNamespaces: ["shop"] })).to.deep.equal([]);
        expect(await checkStack(networkDefaultDeny, [deployment({ ns: "kube-system" })], { exemptNamespaces: [] })).to.have.length(1);
    });
});

describe("network-workload-selected", () => {
    it("passes a workload with its own policy", async () => {
        expect(await checkStack(networkWorkloadSelected, stack)).to.deep.equal([]);
    });
    it("reports a workload only covered by namespace-wide policies", async () => {
        expect(await checkStack(networkWorkloadSelected, stack.filter((r) => r !== apiPolicy))).to.deep.equal([
            "Deployment shop/api is selected by no NetworkPolicy of its own",
        ]);
    });
    it("countNamespaceWidePolicies is configurable", async () => {
        expect(await checkStack(networkWorkloadSelected, stack.filter((r) => r !== apiPolicy), { countNamespaceWidePolicies: true })).to.deep.equal([]);
    });
    it("a policy of another namespace does not count", async () => {
        const other = mutate(apiPolicy, "props.metadata.namespace", "other");
        expect(await checkStack(networkWorkloadSelected, [deployment(), other])).to.have.length(1);
    });
});

describe("network-policy-selects-pods", () => {
    it("passes a policy that selects a workload", async () => {
        expect(await checkStack(networkPolicySelectsPods, stack)).to.deep.equal([]);
    });
    it("reports a policy that selects nothing (typo in labels)", async () => {
        const typo = mutate(apiPolicy, "props.spec.podSelector.matchLabels", { "app.kubernetes.io/name": "apl" });
        expect(await checkStack(networkPolicySelectsPods, [deployment(), typo])).to.deep.equal(["NetworkPolicy shop/api selects no workload of namespace shop"]);
    });
    it("matchExpressions are honoured", async () => {
        const expr = mutate(apiPolicy, "props.spec.podSelector", { matchExpressions: [{ key: "app.kubernetes.io/name", operator: "In", values: ["api", "web"] }] });
        expect(await checkStack(networkPolicySelectsPods, [deployment(), expr])).to.deep.equal([]);
        const notIn = mutate(expr, "props.spec.podSelector.matchExpressions.0.operator", "NotIn");
        expect(await checkStack(networkPolicySelectsPods, [deployment(), notIn])).to.have.length(1);
    });
});

describe("network-no-allow-all", () => {
    it("passes rules with explicit peers", async () => {
        expect(await checkResource(networkNoAllowAll, apiPolicy)).to.deep.equal([]);
        expect(await checkResource(networkNoAllowAll, dnsEgress("shop"))).to.deep.equal([]);
    });
    it("reports an ingress rule without from", async () => {
        expect(await checkResource(networkNoAllowAll, mutate(apiPolicy, "props.spec.ingress.0.from", DELETE))).to.deep.equal([
            "NetworkPolicy shop/api: ingress rule 0 has no from: it allows all sources",
        ]);
    });
    it("reports an egress rule with an empty to", async () => {
        expect(await checkResource(networkNoAllowAll, mutate(apiPolicy, "props.spec.egress.0.to", []))).to.deep.equal([
            "NetworkPolicy shop/api: egress rule 0 has no to: it allows all destinations",
        ]);
    });
    it("reports a peer matching every pod of every namespace", async () => {
        expect(await checkResource(networkNoAllowAll, mutate(apiPolicy, "props.spec.ingress.0.from.0", { namespaceSelector: {} }))).to.deep.equal([
            "NetworkPolicy shop/api: ingress rule 0 has a peer that matches every pod in every namespace",
        ]);
    });
    it("does not report an unknown peer list", async () => {
        expect(await checkResource(networkNoAllowAll, mutate(apiPolicy, "props.spec.ingress.0.from", UNKNOWN))).to.deep.equal([]);
    });
});

describe("network-no-open-egress", () => {
    const open = mutate(apiPolicy, "props.spec.egress.1", { to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ port: 443 }] });
    it("passes egress to named pods", async () => {
        expect(await checkResource(networkNoOpenEgress, apiPolicy)).to.deep.equal([]);
    });
    it("reports 0.0.0.0/0 egress", async () => {
        expect(await checkResource(networkNoOpenEgress, open)).to.deep.equal(["NetworkPolicy shop/api: egress rule 1 allows 0.0.0.0/0"]);
    });
    it("reports ::/0 egress", async () => {
        expect(await checkResource(networkNoOpenEgress, mutate(open, "props.spec.egress.1.to.0.ipBlock.cidr", "::/0"))).to.have.length(1);
    });
    it("passes a narrower CIDR", async () => {
        expect(await checkResource(networkNoOpenEgress, mutate(open, "props.spec.egress.1.to.0.ipBlock.cidr", "10.0.0.0/8"))).to.deep.equal([]);
    });
    it("allowedPolicies is configurable both ways", async () => {
        expect(await checkResource(networkNoOpenEgress, open, { allowedPolicies: ["shop/api"] })).to.deep.equal([]);
        expect(await checkResource(networkNoOpenEgress, open, { allowedPolicies: ["other/api"] })).to.have.length(1);
    });
});

describe("network-dns-egress", () => {
    it("passes a namespace with the DNS egress policy", async () => {
        expect(await checkStack(networkDnsEgress, stack)).to.deep.equal([]);
    });
    it("reports a workload without DNS egress", async () => {
        expect(await checkStack(networkDnsEgress, stack.filter((r) => r.name !== "shop-allow-dns"))).to.deep.equal([
            "Deployment shop/api has no explicit DNS egress on UDP/53, TCP/53",
        ]);
    });
    it("reports a missing TCP port", async () => {
        const udpOnly = mutate(dnsEgress("shop"), "props.spec.egress.0.ports", [{ protocol: "UDP", port: 53 }]);
        expect(await checkStack(networkDnsEgress, [...stack.filter((r) => r.name !== "shop-allow-dns"), udpOnly])).to.deep.equal([
            "Deployment shop/api has no explicit DNS egress on TCP/53",
        ]);
        expect(await checkStack(networkDnsEgress, [...stack.filter((r) => r.name !== "shop-allow-dns"), udpOnly], { protocols: ["UDP"] })).to.deep.equal([]);
    });
    it("reports DNS egress to the wrong namespace", async () => {
        const wrong = mutate(dnsEgress("shop"), "props.spec.egress.0.to.0.namespaceSelector.matchLabels", { "kubernetes.io/metadata.name": "default" });
        expect(await checkStack(networkDnsEgress, [...stack.filter((r) => r.name !== "shop-allow-dns"), wrong])).to.have.length(1);
    });
});

describe("service-exposure", () => {
    const svc = res(T.Service, "svc", { metadata: { name: "api", namespace: "shop" }, spec: { type: "ClusterIP", ports: [{ port: 80 }] } });
    it("passes ClusterIP services", async () => {
        expect(await checkResource(serviceExposure, svc)).to.deep.equal([]);
        expect(await checkResource(serviceExposure, mutate(svc, "props.spec.type", DELETE))).to.deep.equal([]);
    });
    for (const type of ["LoadBalancer", "NodePort"]) {
        it(`reports type ${type}`, async () => {
            expect(await checkResource(serviceExposure, mutate(svc, "props.spec.type", type))).to.deep.equal([`Service shop/api: is of type ${type} but not in the allow-list`]);
        });
    }
    it("allows the ingress gateway; allow-list configurable both ways", async () => {
        const gw = mutate(mutate(svc, "props.metadata", { name: "ingress-nginx-controller", namespace: "ingress-nginx" }), "props.spec.type", "LoadBalancer");
        expect(await checkResource(serviceExposure, gw)).to.deep.equal([]);
        expect(await checkResource(serviceExposure, gw, { allowedServices: [] })).to.have.length(1);
        expect(await checkResource(serviceExposure, mutate(svc, "props.spec.type", "NodePort"), { allowedServices: ["shop/api"] })).to.deep.equal([]);
    });
});
