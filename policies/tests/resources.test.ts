import { expect } from "chai";
import { T, UNKNOWN } from "../lib/k8s";
import { containerLimitsAboveRequests, containerMemoryRatio, containerResourcesRequired, hpaBounds, namespaceQuotaAndLimits, statefulSetStorageRequests } from "../resources";
import { pdbForReplicatedWorkloads } from "../availability";
import { deployment, DELETE, mutate, namespaceBundle, POD_SPEC_PATH, res, workload, WORKLOAD_TYPES } from "./fixtures";
import { checkResource, checkStack } from "./util";

describe("container-resources-required", () => {
    for (const kind of Object.keys(WORKLOAD_TYPES)) {
        const ok = workload(kind);
        const c0 = `props.${POD_SPEC_PATH[kind]}.containers.0.resources`;
        const i0 = `props.${POD_SPEC_PATH[kind]}.initContainers.0.resources`;
        it(`${kind}: passes containers with requests and limits`, async () => {
            expect(await checkResource(containerResourcesRequired, ok)).to.deep.equal([]);
        });
        for (const field of ["requests.cpu", "requests.memory", "limits.cpu", "limits.memory"]) {
            it(`${kind}: reports a container without ${field}`, async () => {
                expect(await checkResource(containerResourcesRequired, mutate(ok, `${c0}.${field}`, DELETE))).to.deep.equal([
                    `${kind} shop/api: container "api" has no ${field}`,
                ]);
            });
        }
        it(`${kind}: reports an init container without limits`, async () => {
            expect(await checkResource(containerResourcesRequired, mutate(ok, `${i0}.limits`, DELETE))).to.deep.equal([
                `${kind} shop/api: init container "init" has no limits.cpu, limits.memory`,
            ]);
        });
    }
    it("treats unknown quantities as set (no false alarm) but still reports missing ones", async () => {
        let w = mutate(deployment(), "props.spec.template.spec.containers.0.resources.limits.cpu", UNKNOWN);
        w = mutate(w, "props.spec.template.spec.containers.0.resources.requests.memory", DELETE);
        expect(await checkResource(containerResourcesRequired, w)).to.deep.equal(['Deployment shop/api: container "api" has no requests.memory']);
    });
    it("ignores non-workload resources", async () => {
        expect(await checkResource(containerResourcesRequired, res(T.Service, "s", { metadata: { name: "s" } }))).to.deep.equal([]);
    });
});

describe("container-limits-above-requests", () => {
    const path = "props.spec.template.spec.containers.0.resources";
    it("passes limit >= request", async () => {
        expect(await checkResource(containerLimitsAboveRequests, deployment())).to.deep.equal([]);
    });
    it("reports a cpu limit below the request", async () => {
        expect(await checkResource(containerLimitsAboveRequests, mutate(deployment(), `${path}.limits.cpu`, "50m"))).to.deep.equal([
            'Deployment shop/api: container "api" has a cpu limit below its request',
        ]);
    });
    it("reports a memory limit below the request (mixed units)", async () => {
        expect(await checkResource(containerLimitsAboveRequests, mutate(deployment(), `${path}.limits.memory`, "100M"))).to.deep.equal([
            'Deployment shop/api: container "api" has a memory limit below its request',
        ]);
    });
    it("accepts equal values written differently (0.5 == 500m)", async () => {
        let w = mutate(deployment(), `${path}.requests.cpu`, "0.5");
        w = mutate(w, `${path}.limits.cpu`, "500m");
        expect(await checkResource(containerLimitsAboveRequests, w)).to.deep.equal([]);
    });
});

describe("container-memory-ratio", () => {
    const path = "props.spec.template.spec.containers.0.resources.limits.memory";
    it("passes a ratio of 2 (default bound)", async () => {
        expect(await checkResource(containerMemoryRatio, deployment())).to.deep.equal([]);
    });
    it("reports a ratio above the bound", async () => {
        expect(await checkResource(containerMemoryRatio, mutate(deployment(), path, "1Gi"))).to.deep.equal([
            'Deployment shop/api: container "api" has a memory limit/request ratio of 8, above 2',
        ]);
    });
    it("threshold is configurable both ways", async () => {
        expect(await checkResource(containerMemoryRatio, mutate(deployment(), path, "1Gi"), { maxMemoryLimitRequestRatio: 8 })).to.deep.equal([]);
        expect(await checkResource(containerMemoryRatio, deployment(), { maxMemoryLimitRequestRatio: 1.5 })).to.deep.equal([
            'Deployment shop/api: container "api" has a memory limit/request ratio of 2, above 1.5',
            'Deployment shop/api: init container "init" has a memory limit/request ratio of 2, above 1.5',
        ]);
    });
});

describe("hpa-bounds", () => {
    const hpa = res("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "hpa", {
        metadata: { name: "api", namespace: "shop" },
        spec: {
            scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "api" },
            minReplicas: 2,
            maxReplicas: 10,
            metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } }],
        },
    });
    const msg = (m: string) => `HorizontalPodAutoscaler shop/api: ${m}`;
    it("passes sane bounds with a metric", async () => {
        expect(await checkResource(hpaBounds, hpa)).to.deep.equal([]);
    });
    it("reports minReplicas 0", async () => {
        expect(await checkResource(hpaBounds, mutate(hpa, "props.spec.minReplicas", 0))).to.deep.equal([msg("minReplicas is 0, below 1")]);
    });
    it("reports min > max", async () => {
        expect(await checkResource(hpaBounds, mutate(hpa, "props.spec.minReplicas", 12))).to.deep.equal([msg("minReplicas 12 is above maxReplicas 10")]);
    });
    it("reports max above the cap, configurable both ways", async () => {
        const big = mutate(hpa, "props.spec.maxReplicas", 50);
        expect(await checkResource(hpaBounds, big)).to.deep.equal([msg("maxReplicas 50 is above the cap of 20")]);
        expect(await checkResource(hpaBounds, big, { maxReplicasCap: 50 })).to.deep.equal([]);
        expect(await checkResource(hpaBounds, hpa, { maxReplicasCap: 5 })).to.deep.equal([msg("maxReplicas 10 is above the cap of 5")]);
    });
    it("reports no metric", async () => {
        expect(await checkResource(hpaBounds, mutate(hpa, "props.spec.metrics", []))).to.deep.equal([msg("has no metric target")]);
    });
    it("accepts the autoscaling/v1 CPU target as a metric", async () => {
        let v1 = mutate(hpa, "type", "kubernetes:autoscaling/v1:HorizontalPodAutoscaler");
        v1 = mutate(v1, "props.spec.metrics", DELETE);
        v1 = mutate(v1, "props.spec.targetCPUUtilizationPercentage", 70);
        expect(await checkResource(hpaBounds, v1)).to.deep.equal([]);
    });
    it("skips unknown bounds but checks the rest", async () => {
        let h = mutate(hpa, "props.spec.minReplicas", UNKNOWN);
        h = mutate(h, "props.spec.maxReplicas", 99);
        expect(await checkResource(hpaBounds, h)).to.deep.equal([msg("maxReplicas 99 is above the cap of 20")]);
    });
});

describe("statefulset-storage-requests", () => {
    const sts = workload("StatefulSet");
    it("passes claims with a storage request", async () => {
        expect(await checkResource(statefulSetStorageRequests, sts)).to.deep.equal([]);
    });
    it("reports a claim without a storage request", async () => {
        expect(await checkResource(statefulSetStorageRequests, mutate(sts, "props.spec.volumeClaimTemplates.0.spec.resources", DELETE))).to.deep.equal([
            'StatefulSet shop/api: volumeClaimTemplate "data" requests no storage',
        ]);
    });
    it("reports a zero storage request", async () => {
        expect(await checkResource(statefulSetStorageRequests, mutate(sts, "props.spec.volumeClaimTemplates.0.spec.resources.requests.storage", "0"))).to.have.length(1);
    });
});

describe("namespace-quota-and-limits", () => {
    const stack = [...namespaceBundle("shop"), deployment()];
    it("passes a namespace with quota and limit range", async () => {
        expect(await checkStack(namespaceQuotaAndLimits, stack)).to.deep.equal([]);
    });
    it("reports a missing ResourceQuota", async () => {
        expect(await checkStack(namespaceQuotaAndLimits, stack.filter((r) => r.type !== T.ResourceQuota))).to.deep.equal(["namespace shop has no ResourceQuota"]);
    });
    it("reports a missing LimitRange", async () => {
        expect(await checkStack(namespaceQuotaAndLimits, stack.filter((r) => r.type !== T.LimitRange))).to.deep.equal(["namespace shop has no LimitRange"]);
    });
    it("covers namespaces only used by workloads", async () => {
        expect(await checkStack(namespaceQuotaAndLimits, [...stack, deployment({ ns: "extra" })])).to.deep.equal([
            "namespace extra has no ResourceQuota",
            "namespace extra has no LimitRange",
        ]);
    });
    it("exemptNamespaces is configurable both ways", async () => {
        expect(await checkStack(namespaceQuotaAndLimits, [deployment({ ns: "kube-system" })])).to.deep.equal([]);
        expect(await checkStack(namespaceQuotaAndLimits, [deployment({ ns: "extra" })], { exemptNamespaces: ["extra"] })).to.deep.equal([]);
        expect(await checkStack(namespaceQuotaAndLimits, [deployment({ ns: "kube-system" })], { exemptNamespaces: [] })).to.have.length(2);
    });
});

describe("pdb-for-replicated-workloads", () => {
    const w = deployment({ replicas: 3 });
    const pdb = res("kubernetes:policy/v1:PodDisruptionBudget", "pdb", {
        metadata: { name: "api", namespace: "shop" },
        spec: { minAvailable: 2, selector: { matchLabels: { "app.kubernetes.io/name": "api" } } },
    });
    const hpa = res("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "hpa", {
        metadata: { name: "api", namespace: "shop" },
        spec: { scaleTargetRef: { kind: "Deployment", name: "api" }, minReplicas: 2, maxReplicas: 6, metrics: [{}] },
    });
    it("passes a replicated workload with a sane PDB", async () => {
        expect(await checkStack(pdbForReplicatedWorkloads, [w, pdb])).to.deep.equal([]);
    });
    it("passes a single-replica workload without PDB", async () => {
        expect(await checkStack(pdbForReplicatedWorkloads, [deployment({ replicas: 1 })])).to.deep.equal([]);
    });
    it("reports a replicated workload without PDB", async () => {
        expect(await checkStack(pdbForReplicatedWorkloads, [w])).to.deep.equal(["Deployment shop/api has 3 replicas but no PodDisruptionBudget selects its pods"]);
    });
    it("reports a PDB whose selector misses the pods", async () => {
        expect(await checkStack(pdbForReplicatedWorkloads, [w, mutate(pdb, "props.spec.selector.matchLabels", { "app.kubernetes.io/name": "web" })])).to.have.length(1);
    });
    it("reports minAvailable equal to the replica count", async () => {
        expect(await checkStack(pdbForReplicatedWorkloads, [w, mutate(pdb, "props.spec.minAvailable", 3)])).to.deep.equal([
            "PodDisruptionBudget shop/api: minAvailable 3 is not below the 3 replicas of Deployment shop/api",
        ]);
    });
    it("reports minAvailable 100%", async () => {
        expect(await checkStack(pdbForReplicatedWorkloads, [w, mutate(pdb, "props.spec.minAvailable", "100%")])).to.have.length(1);
    });
    it("reports minAvailable above the HPA minimum", async () => {
        expect(await checkStack(pdbForReplicatedWorkloads, [w, hpa, mutate(pdb, "props.spec.minAvailable", 3)])).to.include(
            "PodDisruptionBudget shop/api: minAvailable 3 is above the HPA minimum 2 of Deployment shop/api",
        );
    });
    it("counts the HPA minimum as replicas when spec.replicas is absent", async () => {
        const noReplicas = mutate(w, "props.spec.replicas", DELETE);
        expect(await checkStack(pdbForReplicatedWorkloads, [noReplicas, hpa])).to.have.length(1);
        expect(await checkStack(pdbForReplicatedWorkloads, [noReplicas, hpa, mutate(pdb, "props.spec.minAvailable", 1)])).to.deep.equal([]);
    });
    it("reports maxUnavailable 0", async () => {
        const p = mutate(mutate(pdb, "props.spec.minAvailable", DELETE), "props.spec.maxUnavailable", 0);
        expect(await checkStack(pdbForReplicatedWorkloads, [w, p])).to.deep.equal([
            "PodDisruptionBudget shop/api: maxUnavailable 0 blocks every voluntary eviction of Deployment shop/api",
        ]);
    });
    it("covers StatefulSets; exemptWorkloads config both ways", async () => {
        const sts = workload("StatefulSet", { replicas: 3 });
        expect(await checkStack(pdbForReplicatedWorkloads, [sts])).to.have.length(1);
        expect(await checkStack(pdbForReplicatedWorkloads, [sts], { exemptWorkloads: ["shop/api"] })).to.deep.equal([]);
    });
    it("skips a workload whose replica count is unknown", async () => {
        expect(await checkStack(pdbForReplicatedWorkloads, [mutate(w, "props.spec.replicas", UNKNOWN)])).to.deep.equal([]);
    });
});
