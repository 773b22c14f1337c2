// The traffic-plan stack policy and the helpers the CLI shares with it.
import { K8sResource, toK8sResource } from "../lib/k8s";
import { stackRule, stringList } from "../lib/policy";
import { analyzeTraffic, TrafficGraph } from "./analysis";
import { checkPlan, DEFAULT_PLAN, PlanRule, PlanViolation } from "./plan";

export * from "./analysis";
export * from "./plan";
export * from "./mermaid";

export interface TrafficConfig {
    /** Namespaces of the ingress controller(s): their pods count as "outside". */
    ingressNamespaces: string[];
    /** Namespaces that exist outside the stack and may be named by namespaceSelectors. */
    externalNamespaces: string[];
    /** Workloads without app.kubernetes.io/part-of whose flows are accepted ("ns/name" or "ns/*"). */
    allowedUnlabeled: string[];
    /** The plan; defaults to the designs' flows. */
    rules: PlanRule[];
    /** Rules added to `rules` (per stack). */
    extraRules: PlanRule[];
}

export const TRAFFIC_DEFAULTS: TrafficConfig = {
    ingressNamespaces: ["ingress-nginx"],
    externalNamespaces: ["kube-system"],
    allowedUnlabeled: [],
    rules: DEFAULT_PLAN,
    extraRules: [],
};

export interface TrafficReport {
    graph: TrafficGraph;
    violations: PlanViolation[];
}

export function trafficReport(resources: K8sResource[], config: Partial<TrafficConfig> = {}): TrafficReport {
    const cfg = { ...TRAFFIC_DEFAULTS, ...config };
    const graph = analyzeTraffic(resources, {
        extraNamespaces: [...cfg.ingressNamespaces, ...cfg.externalNamespaces],
    });
    const violations = checkPlan(graph, [...cfg.rules, ...cfg.extraRules], {
        ingressNamespaces: cfg.ingressNamespaces,
        allowedUnlabeled: cfg.allowedUnlabeled,
    });
    return { graph, violations };
}

/** Reads plain {type, name, props} records (e.g. from the CLI's JSON input). */
export function fromPlain(list: { type: string; name: string; props?: unknown; urn?: string }[]): K8sResource[] {
    return list.map((r) => toK8sResource(r.type, r.props ?? {}, r.name, r.urn ?? ""));
}

const matcherSchema = { type: "object" as const };
const ruleSchema = {
    type: "object" as const,
    properties: {
        description: { type: "string" as const },
        from: matcherSchema,
        to: matcherSchema,
        ports: { type: "array" as const, items: { type: "object" as const } },
    },
    required: ["from", "to"],
};

export const trafficPlan = stackRule<TrafficConfig>({
    name: "traffic-plan",
    description:
        "Every flow the stack's NetworkPolicies allow (source workload/outside -> target, port) is one the designs' traffic plan allows.",
    remediationSteps:
        "Narrow the NetworkPolicies (podSelector/namespaceSelector/ipBlock/ports) so the flow is no longer allowed, or, if the design changed, add the flow to the plan (traffic/plan.ts or the policy's extraRules config). Regenerate docs/traffic-<stack>.md to see the graph.",
    severity: "high",
    tags: ["network", "traffic"],
    defaults: TRAFFIC_DEFAULTS,
    schema: {
        ingressNamespaces: stringList,
        externalNamespaces: stringList,
        allowedUnlabeled: stringList,
        rules: { type: "array", items: ruleSchema },
        extraRules: { type: "array", items: ruleSchema },
    },
    check: (resources, cfg, report) => {
        const { violations } = trafficReport(resources, cfg);
        const urns = new Map(resources.map((r) => [r.id, r.urn]));
        for (const v of violations) {
            report(v.message, urns.get(v.edge.to) ?? urns.get(v.edge.from));
        }
    },
});

export const trafficPolicies = {
    "traffic-plan": trafficPlan,
};
