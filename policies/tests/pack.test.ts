import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { allPolicies, PackConfig, policyNames } from "../policies";
import { CRUD_VERBS } from "../rbac";
import { binding, DELETE, deployment, labels, mutate, namespaceBundle, netpol, res, role, serviceAccount } from "./fixtures";
import { PlainResource, runAll } from "../testing/harness";

const readConfig = (name: string): PackConfig => JSON.parse(fs.readFileSync(path.join(__dirname, "..", name), "utf8"));

const sel = (name: string) => ({ matchLabels: { "app.kubernetes.io/name": name } });

/** A small but complete stack that follows every rule. */
function validStack(): PlainResource[] {
    // Scaled by its HPA: no spec.replicas of its own.
    const view = mutate(deployment({ ns: "api", name: "view", labels: labels("restapi", "view"), replicas: 2 }), "props.spec.replicas", DELETE);
    const model = deployment({ ns: "api", name: "model", labels: labels("restapi", "model") });
    return [
        ...namespaceBundle("api"),
        view,
        model,
        serviceAccount("api", "view", false),
        serviceAccount("api", "model", false),
        serviceAccount("api", "deployer", true),
        netpol("api", "view", {
            podSelector: sel("view"),
            policyTypes: ["Ingress", "Egress"],
            ingress: [{ from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } } }], ports: [{ port: 8080 }] }],
            egress: [{ to: [{ podSelector: sel("model") }], ports: [{ port: 8080 }] }],
        }),
        netpol("api", "model", {
            podSelector: sel("model"),
            policyTypes: ["Ingress", "Egress"],
            ingress: [{ from: [{ podSelector: sel("view") }], ports: [{ port: 8080 }] }],
        }),
        res("kubernetes:policy/v1:PodDisruptionBudget", "view-pdb", { metadata: { name: "view", namespace: "api" }, spec: { maxUnavailable: 1, selector: sel("view"), unhealthyPodEvictionPolicy: "AlwaysAllow" } }),
        res("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "view-hpa", {
            metadata: { name: "view", namespace: "api" },
            spec: { scaleTargetRef: { kind: "Deployment", name: "view" }, minReplicas: 2, maxReplicas: 5, metrics: [{ type: "Resource" }] },
        }),
        res("kubernetes:core/v1:Service", "view-svc", { metadata: { name: "view", namespace: "api" }, spec: { ports: [{ port: 80, targetPort: 8080 }], selector: sel("view") } }),
        role(
            "Role",
            "restapi-deployer",
            [
                { apiGroups: ["platform.io"], resources: ["restapis"], verbs: CRUD_VERBS },
                { apiGroups: ["apps"], resources: ["deployments"], verbs: CRUD_VERBS },
                { apiGroups: [""], resources: ["services", "configmaps"], verbs: CRUD_VERBS },
                { apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers"], verbs: CRUD_VERBS },
                { apiGroups: [""], resources: ["secrets"], verbs: ["get", "list", "watch"] },
            ],
            { namespace: "api", labels: { "platform.io/deployer": "restapi" } },
        ),
        binding("RoleBinding", "deployer-rb", { kind: "Role", name: "restapi-deployer" }, [{ kind: "ServiceAccount", name: "deployer" }], "api"),
        role("ClusterRole", "prometheus-discovery", [{ apiGroups: [""], resources: ["nodes", "services", "endpoints", "pods"], verbs: ["get", "list", "watch"] }]),
    ];
}

describe("the policy pack", () => {
    it("every policy has a kebab-case unique name, a description, remediation steps and a severity", () => {
        const policies = allPolicies();
        expect(policies.length).to.equal(policyNames.length);
        expect(new Set(policies.map((p) => p.name)).size).to.equal(policies.length);
        for (const p of policies) {
            expect(p.name).to.match(/^[a-z0-9]+(-[a-z0-9]+)*$/);
            expect(p.description.length, p.name).to.be.greaterThan(10);
            expect(p.remediationSteps?.length ?? 0, p.name).to.be.greaterThan(10);
            expect(p.severity, p.name).to.be.oneOf(["low", "medium", "high", "critical"]);
            expect(p.enforcementLevel, p.name).to.equal("mandatory");
            for (const [key, schema] of Object.entries(p.configSchema?.properties ?? {})) {
                expect(schema, `${p.name}.${key}`).to.have.property("default");
            }
        }
    });
    it("the issue's areas are all covered", () => {
        for (const name of [
            "rbac-no-wildcards",
            "rbac-deployer-roles",
            "container-resources-required",
            "hpa-bounds",
            "pdb-for-replicated-workloads",
            "network-default-deny",
            "network-dns-egress",
            "pod-run-as-non-root",
            "image-tag-pinned",
            "traffic-plan",
            "container-ephemeral-storage",
            "pod-probes-distinct",
            "pod-high-uid-gid",
            "pdb-unhealthy-pod-eviction-policy",
            "topology-spread-replicated",
            "pod-priority-class",
            "hpa-target-no-replicas",
        ]) {
            expect(policyNames).to.include(name);
        }
    });
    for (const file of ["config.dev.json", "config.prod.json"]) {
        it(`${file} names only known policies and valid levels`, () => {
            const cfg = readConfig(file);
            for (const [name, entry] of Object.entries(cfg)) {
                if (name !== "all") expect(policyNames, file).to.include(name);
                const level = typeof entry === "string" ? entry : entry.enforcementLevel;
                expect(level, `${file} ${name}`).to.be.oneOf(["advisory", "mandatory", "disabled", "remediate"]);
            }
        });
    }
    it("prod makes every policy mandatory; dev relaxes some to advisory", () => {
        const prod = allPolicies(readConfig("config.prod.json"));
        expect(prod.every((p) => p.enforcementLevel === "mandatory")).to.equal(true);
        const dev = allPolicies(readConfig("config.dev.json"));
        const devLevel = (n: string) => dev.find((p) => p.name === n)?.enforcementLevel;
        expect(devLevel("pod-probes")).to.equal("advisory");
        expect(devLevel("rbac-no-wildcards")).to.equal("mandatory");
        expect(devLevel("pod-not-privileged")).to.equal("mandatory");
    });
    it("the valid stack passes every policy (dev and prod config)", async () => {
        expect(await runAll(validStack(), readConfig("config.prod.json"))).to.deep.equal([]);
        expect(await runAll(validStack(), readConfig("config.dev.json"))).to.deep.equal([]);
    });
    it("a broken variant is rejected, each break by its rule", async () => {
        const stack = validStack();
        const broken = stack
            .filter((r) => r.name !== "api-default-deny")
            .map((r) => (r.name === "api-model" ? mutate(r, "props.spec.template.spec.containers.0.resources", {}) : r));
        broken.push(role("Role", "everything", [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }], { namespace: "api" }));
        broken.push(
            netpol("api", "model-extra", {
                podSelector: sel("model"),
                policyTypes: ["Ingress"],
                ingress: [{ from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } } }], ports: [{ port: 8080 }] }],
            }),
        );
        const violations = await runAll(broken, readConfig("config.prod.json"));
        const by = (policy: string) => violations.filter((v) => v.policy === policy).map((v) => v.message);
        expect(by("rbac-no-wildcards")).to.deep.equal([
            "Role api/everything: rule 0 uses a wildcard in verbs",
            "Role api/everything: rule 0 uses a wildcard in resources",
            "Role api/everything: rule 0 uses a wildcard in apiGroups",
        ]);
        expect(by("container-resources-required")).to.deep.equal(['Deployment api/model: container "model" has no requests.cpu, requests.memory, limits.cpu, limits.memory']);
        expect(by("network-default-deny")).to.deep.equal(["namespace api has workloads but no default-deny NetworkPolicy for ingress and egress"]);
        expect(by("traffic-plan")).to.include("flow ingress-nginx/* -> api/model on TCP/8080 is not in the traffic plan");
        expect(violations.every((v) => v.enforcementLevel === "mandatory")).to.equal(true);
    });
    it("a disabled policy does not run", async () => {
        const broken = validStack().filter((r) => r.name !== "api-default-deny");
        const v = await runAll(broken, { "network-default-deny": "disabled", "traffic-plan": "disabled" });
        expect(v.map((x) => x.policy)).to.not.include("network-default-deny");
    });
});
