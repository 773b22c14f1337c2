import { expect } from "chai";
import { T, UNKNOWN } from "../lib/k8s";
import {
    containerEphemeralStorage,
    hpaTargetNoReplicas,
    pdbUnhealthyPodEvictionPolicy,
    podHighUidGid,
    podPriorityClass,
    podProbesDistinct,
    topologySpreadReplicated,
    UID_EXCEPTION_ANNOTATION,
} from "../hardening";
import { deployment, DELETE, labels, mutate, res, workload } from "./fixtures";
import { checkResource, checkStack, describePodCases, PodCase } from "./util";


const c0 = "containers.0";
const es = "ephemeral-storage";
const both = (m: string) => [`container "api" ${m}`, `init container "init" ${m}`];
const cases: Record<string, PodCase> = {
    "container-ephemeral-storage": {
        policy: containerEphemeralStorage,
        breaks: [
            [`${c0}.resources.requests.${es}`, DELETE, `container "api" has no requests.${es}`],
            [`${c0}.resources.limits.${es}`, DELETE, `container "api" has no limits.${es}`],
            [`initContainers.0.resources.limits.${es}`, DELETE, `init container "init" has no limits.${es}`],
            [`${c0}.resources.limits.${es}`, "32Mi", `container "api" has an ${es} limit below its request`],
            ["volumes.0.emptyDir.sizeLimit", DELETE, 'emptyDir volume "tmp" has no sizeLimit'],
        ],
    },
    "pod-probes-distinct": {
        policy: podProbesDistinct,
        breaks: [
            [`${c0}.livenessProbe`, { httpGet: { path: "/health", port: 8080 }, periodSeconds: 20, failureThreshold: 6 }, 'container "api" has identical liveness and readiness probes'],
            [`${c0}.readinessProbe`, { tcpSocket: { port: 8080 } }, 'container "api" has identical liveness and readiness probes'],
        ],
    },
    "pod-high-uid-gid": {
        policy: podHighUidGid,
        breaks: [
            ["securityContext.runAsUser", 999, both("runs with runAsUser 999, below 10000")],
            ["securityContext.runAsGroup", 1000, both("runs with runAsGroup 1000, below 10000")],
            ["securityContext.runAsGroup", DELETE, both("sets no runAsGroup (expected >= 10000)")],
            [`${c0}.securityContext.runAsUser`, 101, 'container "api" runs with runAsUser 101, below 10000'],
            ["securityContext.fsGroup", 999, "fsGroup 999 is below 10000"],
            ["securityContext.fsGroup", DELETE, "sets no fsGroup (expected >= 10000)"],
        ],
    },
    "pod-priority-class": {
        policy: podPriorityClass,
        breaks: [
            ["priorityClassName", DELETE, "sets no priorityClassName"],
            ["priorityClassName", "", "sets no priorityClassName"],
            ["priorityClassName", "system-cluster-critical", "uses the system priority class system-cluster-critical"],
        ],
    },
};

describePodCases(cases, "hardened", (rule, kind) => rule === "pod-probes-distinct" && (kind === "Job" || kind === "CronJob"));

describe("hardening rules: exceptions, config and unknowns", () => {
    const d = workload("Deployment");
    const pod = "props.spec.template.spec";
    it("pod-high-uid-gid: a workload that documents its UID exception passes; an empty reason does not", async () => {
        const low = mutate(d, `${pod}.securityContext.runAsUser`, 999);
        // The annotation key has dots (mutate splits paths on them): set it directly.
        const withReason = JSON.parse(JSON.stringify(low));
        withReason.props.metadata.annotations = { [UID_EXCEPTION_ANNOTATION]: "uid 999: the data directory on the claim belongs to it" };
        expect(await checkResource(podHighUidGid, withReason)).to.deep.equal([]);
        const empty = JSON.parse(JSON.stringify(low));
        empty.props.metadata.annotations = { [UID_EXCEPTION_ANNOTATION]: " " };
        expect(await checkResource(podHighUidGid, empty)).to.have.length(2);
    });
    it("pod-high-uid-gid: minId configurable", async () => {
        expect(await checkResource(podHighUidGid, d, { minId: 20000 })).to.have.length(5);
    });
    it("pod-probes-distinct: timing alone does not make probes distinct; exemptKinds both ways", async () => {
        const same = mutate(d, `${pod}.containers.0.livenessProbe`, { httpGet: { path: "/health", port: 8080 }, periodSeconds: 60 });
        expect(await checkResource(podProbesDistinct, same)).to.have.length(1);
        expect(await checkResource(podProbesDistinct, same, { exemptKinds: ["Deployment"] })).to.deep.equal([]);
    });
    it("unknown values never crash and never report", async () => {
        expect(await checkResource(podProbesDistinct, mutate(d, `${pod}.containers.0.livenessProbe.tcpSocket.port`, UNKNOWN))).to.deep.equal([]);
        expect(await checkResource(containerEphemeralStorage, mutate(d, `${pod}.containers.0.resources.limits.${es}`, UNKNOWN))).to.deep.equal([]);
        expect(await checkResource(podHighUidGid, mutate(d, `${pod}.securityContext.runAsUser`, UNKNOWN))).to.deep.equal([]);
        expect(await checkResource(podPriorityClass, mutate(d, `${pod}.priorityClassName`, UNKNOWN))).to.deep.equal([]);
    });
});

const pdb = (extra: Record<string, unknown> = { unhealthyPodEvictionPolicy: "AlwaysAllow" }) =>
    res(T.PodDisruptionBudget, "shop-api-pdb", {
        metadata: { name: "api", namespace: "shop" },
        spec: { minAvailable: 1, selector: { matchLabels: { "app.kubernetes.io/instance": "api" } }, ...extra },
    });

describe("pdb-unhealthy-pod-eviction-policy", () => {
    it("passes AlwaysAllow and IfHealthyBudget", async () => {
        expect(await checkResource(pdbUnhealthyPodEvictionPolicy, pdb())).to.deep.equal([]);
        expect(await checkResource(pdbUnhealthyPodEvictionPolicy, pdb({ unhealthyPodEvictionPolicy: "IfHealthyBudget" }))).to.deep.equal([]);
    });
    it("reports a PDB without the field", async () => {
        expect(await checkResource(pdbUnhealthyPodEvictionPolicy, mutate(pdb(), "props.spec.unhealthyPodEvictionPolicy", DELETE))).to.deep.equal([
            "PodDisruptionBudget shop/api: sets no unhealthyPodEvictionPolicy (allowed: AlwaysAllow, IfHealthyBudget)",
        ]);
    });
    it("reports a value outside the allowed list (configurable)", async () => {
        expect(await checkResource(pdbUnhealthyPodEvictionPolicy, pdb({ unhealthyPodEvictionPolicy: "Sometimes" }))).to.have.length(1);
        expect(await checkResource(pdbUnhealthyPodEvictionPolicy, pdb({ unhealthyPodEvictionPolicy: "IfHealthyBudget" }), { allowed: ["AlwaysAllow"] })).to.have.length(1);
    });
});

const hpa = (name: string, maxReplicas = 3) =>
    res("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", `shop-${name}-hpa`, {
        metadata: { name, namespace: "shop" },
        spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name }, minReplicas: 1, maxReplicas },
    });

describe("topology-spread-replicated", () => {
    const replicated = deployment({ replicas: 3 });
    const tsc = "props.spec.template.spec.topologySpreadConstraints";
    it("passes a replicated workload with both constraints, and a single pod without any", async () => {
        expect(await checkStack(topologySpreadReplicated, [replicated])).to.deep.equal([]);
        expect(await checkStack(topologySpreadReplicated, [deployment()])).to.deep.equal([]);
    });
    it("reports a replicated workload without the hostname constraint", async () => {
        expect(await checkStack(topologySpreadReplicated, [mutate(replicated, `${tsc}.0`, DELETE)])).to.deep.equal([
            "Deployment shop/api runs up to 3 pods but has no topology spread constraint on kubernetes.io/hostname selecting them",
        ]);
    });
    it("reports a constraint whose selector misses the pods", async () => {
        expect(await checkStack(topologySpreadReplicated, [mutate(replicated, `${tsc}.1.labelSelector`, { matchLabels: { app: "other" } })])).to.deep.equal([
            "Deployment shop/api runs up to 3 pods but has no topology spread constraint on topology.kubernetes.io/zone selecting them",
        ]);
    });
    it("counts an HPA maximum above one as replicated", async () => {
        const single = mutate(deployment(), "props.spec.replicas", DELETE);
        expect(await checkStack(topologySpreadReplicated, [single, hpa("api")])).to.have.length(2);
        expect(await checkStack(topologySpreadReplicated, [single, hpa("api", 1)])).to.deep.equal([]);
    });
    it("covers StatefulSets", async () => {
        const sts = mutate(workload("StatefulSet", { replicas: 3 }), `${tsc}`, DELETE);
        expect(await checkStack(topologySpreadReplicated, [sts])).to.have.length(2);
    });
    it("skips a workload whose replica count is unknown", async () => {
        expect(await checkStack(topologySpreadReplicated, [mutate(mutate(replicated, `${tsc}`, DELETE), "props.spec.replicas", UNKNOWN)])).to.deep.equal([]);
    });
});

describe("hpa-target-no-replicas", () => {
    const scaled = mutate(deployment({ labels: labels("cstore", "api") }), "props.spec.replicas", DELETE);
    it("passes an HPA-targeted Deployment without spec.replicas, and a fixed one with it", async () => {
        expect(await checkStack(hpaTargetNoReplicas, [scaled, hpa("api")])).to.deep.equal([]);
        expect(await checkStack(hpaTargetNoReplicas, [deployment({ replicas: 2 })])).to.deep.equal([]);
    });
    it("reports spec.replicas on an HPA-targeted Deployment", async () => {
        expect(await checkStack(hpaTargetNoReplicas, [mutate(scaled, "props.spec.replicas", 2), hpa("api")])).to.deep.equal([
            "Deployment shop/api sets spec.replicas although HorizontalPodAutoscaler shop/api scales it",
        ]);
    });
    it("matches the HPA's target by namespace and name", async () => {
        const other = mutate(hpa("api"), "props.metadata.namespace", "elsewhere");
        expect(await checkStack(hpaTargetNoReplicas, [mutate(scaled, "props.spec.replicas", 2), other])).to.deep.equal([]);
    });
    // Against a live cluster the API server reports the defaulted count; managedFields says who set it.
    const applied = (fields: Record<string, unknown>) => mutate(mutate(scaled, "props.spec.replicas", 1), "props.metadata.managedFields", [
        { manager: "kube-controller-manager", operation: "Update", fieldsV1: { "f:spec": { "f:replicas": {} } } },
        { manager: "pulumi-kubernetes-4c8a1d2e", operation: "Apply", fieldsV1: { "f:spec": fields } },
    ]);
    it("passes a live Deployment whose replicas the server defaulted and the HPA set (Pulumi's field manager does not own it)", async () => {
        expect(await checkStack(hpaTargetNoReplicas, [applied({ "f:template": {} }), hpa("api")])).to.deep.equal([]);
    });
    it("reports a live Deployment whose spec.replicas Pulumi's field manager applied", async () => {
        expect(await checkStack(hpaTargetNoReplicas, [applied({ "f:replicas": {}, "f:template": {} }), hpa("api")])).to.deep.equal([
            "Deployment shop/api sets spec.replicas although HorizontalPodAutoscaler shop/api scales it",
        ]);
    });
});
