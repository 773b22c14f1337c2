/**
 * The workload-wide hardening of the shared building blocks (docs/hardening.md): profiles
 * (ephemeral storage, scratch sizeLimit, priority tier, PDB unhealthy-pod policy), distinct probes,
 * high UIDs with explicit exceptions, topology spread, PriorityClasses, the write Service of a
 * fixed primary.
 */
import { expect } from "chai";
import { LIVENESS_TIMING, livenessTcp, startupProbe, tcpProbe } from "../../components/k8s/container";
import {
    BATCH, DATA_STORE, KUBE_SCORE_IGNORE_ANNOTATION, PRIORITY_VALUES, PriorityClasses, priorityClassName, SEARCH, STATELESS,
    UID_EXCEPTION_ANNOTATION,
} from "../../components/k8s/profile";
import { POD_NAME_LABEL, Workload, WorkloadArgs } from "../../components/k8s/workload";
import { capture, ofType, podSpec, T } from "./helpers";

const baseArgs = (over: Partial<WorkloadArgs> = {}): WorkloadArgs => ({
    namespace: "apps",
    identity: { name: "web", component: "frontend", partOf: "demo" },
    kind: "Deployment",
    replicas: 1,
    containers: [{
        name: "web",
        image: "nginx:1.27.2",
        ports: [{ name: "http", containerPort: 8080 }],
        resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
        livenessProbe: livenessTcp(8080),
        readinessProbe: { httpGet: { path: "/ready", port: 8080 } },
        writablePaths: ["/var/cache/nginx"],
    }],
    servicePorts: [{ name: "http", port: 80, targetPort: 8080 }],
    traffic: { ingress: [], egress: [] },
    ...over,
});

const workloadOf = async (over: Partial<WorkloadArgs>) => {
    const res = await capture(() => new Workload("w", baseArgs(over)));
    const w = [...ofType(res, T.deployment), ...ofType(res, T.statefulSet)][0];
    return { res, w, pod: podSpec(w) };
};

describe("hardening: ephemeral storage by profile", () => {
    for (const profile of [STATELESS, DATA_STORE, SEARCH]) {
        it(`gives every container the ${profile.name} profile's ephemeral-storage request and limit`, async () => {
            const { pod } = await workloadOf({ profile });
            expect(pod.containers[0].resources.requests["ephemeral-storage"]).to.equal(profile.ephemeralStorage.request);
            expect(pod.containers[0].resources.limits["ephemeral-storage"]).to.equal(profile.ephemeralStorage.limit);
        });

        it(`sizes every scratch emptyDir at the ${profile.name} profile's sizeLimit`, async () => {
            const { pod } = await workloadOf({ profile });
            expect(pod.volumes.map((v: { emptyDir: { sizeLimit: string } }) => v.emptyDir.sizeLimit))
                .to.deep.equal([profile.scratchSizeLimit, profile.scratchSizeLimit]);
        });
    }

    it("sizes the profiles: data stores and search above stateless services", () => {
        expect(DATA_STORE.ephemeralStorage.limit).to.equal("1Gi");
        expect(SEARCH.ephemeralStorage.limit).to.equal("2Gi");
        expect(STATELESS.ephemeralStorage.limit).to.equal("512Mi");
    });
});

describe("hardening: probes", () => {
    it("refuses a liveness probe that checks the same as the readiness probe", () => {
        const args = baseArgs();
        args.containers[0].livenessProbe = { httpGet: { path: "/ready", port: 8080 }, periodSeconds: 30 };
        expect(() => new Workload("same", args)).to.throw("Workload(same).containers[0].livenessProbe: checks the same as the readinessProbe");
    });

    it("refuses a liveness probe that gives up before the readiness probe", () => {
        const args = baseArgs();
        args.containers[0].livenessProbe = { tcpSocket: { port: 8080 }, periodSeconds: 5, failureThreshold: 1 };
        expect(() => new Workload("eager", args)).to.throw("Workload(eager).containers[0].livenessProbe: gives up after 5s, before the readinessProbe (30s)");
    });

    it("gives liveness probes a longer period and failure threshold than the probe defaults", () => {
        expect(livenessTcp(80)).to.deep.equal({ tcpSocket: { port: 80 }, initialDelaySeconds: 15, ...LIVENESS_TIMING });
        expect(LIVENESS_TIMING).to.include({ periodSeconds: 20, failureThreshold: 6 });
    });

    it("builds a startup probe with the readiness check and a 10-minute budget", () => {
        const p = startupProbe(tcpProbe(5432));
        expect(p.tcpSocket).to.deep.equal({ port: 5432 });
        expect(Number(p.periodSeconds) * Number(p.failureThreshold)).to.equal(600);
    });
});

describe("hardening: UIDs", () => {
    it("runs a pod as UID/GID/fsGroup 10001 by default", async () => {
        const { pod, w } = await workloadOf({});
        expect(pod.securityContext).to.include({ runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001 });
        expect(w.inputs.metadata.annotations).to.not.have.property(UID_EXCEPTION_ANNOTATION);
    });

    it("runs an explicit exception as the image's UID and writes the reason on the workload", async () => {
        const { pod, w } = await workloadOf({ uidException: { uid: 999, reason: "the data directory on the claim belongs to it" } });
        expect(pod.securityContext).to.include({ runAsUser: 999, runAsGroup: 999, fsGroup: 999 });
        expect(w.inputs.metadata.annotations[UID_EXCEPTION_ANNOTATION]).to.equal("uid 999: the data directory on the claim belongs to it");
        expect(w.inputs.metadata.annotations[KUBE_SCORE_IGNORE_ANNOTATION]).to.equal("container-security-context-user-group-id");
    });

    it("refuses a UID exception without a reason", () => {
        expect(() => new Workload("noreason", baseArgs({ uidException: { uid: 999, reason: "" } })))
            .to.throw("Workload(noreason).uidException.reason: missing");
    });

    it("refuses a UID exception with a high UID (no exception needed)", () => {
        expect(() => new Workload("high", baseArgs({ uidException: { uid: 20000, reason: "the data directory belongs to it" } })))
            .to.throw("Workload(high).uidException.uid");
    });
});

describe("hardening: PodDisruptionBudgets", () => {
    it("lets a stateless workload's unhealthy pods always be evicted", async () => {
        const { res } = await workloadOf({ replicas: 3 });
        expect(ofType(res, T.pdb)[0].inputs.spec.unhealthyPodEvictionPolicy).to.equal("AlwaysAllow");
    });

    it("evicts a data store's unhealthy pods only while the budget holds", async () => {
        const { res } = await workloadOf({ replicas: 3, kind: "StatefulSet", profile: DATA_STORE });
        expect(ofType(res, T.pdb)[0].inputs.spec.unhealthyPodEvictionPolicy).to.equal("IfHealthyBudget");
    });
});

describe("hardening: topology spread", () => {
    it("spreads a replicated workload per node (hard) and per zone (soft)", async () => {
        const { pod } = await workloadOf({ replicas: 3 });
        const selector = { "app.kubernetes.io/instance": "web", "app.kubernetes.io/part-of": "demo" };
        expect(pod.topologySpreadConstraints).to.deep.equal([
            { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "DoNotSchedule", nodeTaintsPolicy: "Honor", labelSelector: { matchLabels: selector } },
            { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: selector } },
        ]);
    });

    it("spreads a workload its HPA may scale beyond one pod", async () => {
        const { pod } = await workloadOf({ autoscaling: { minReplicas: 1, maxReplicas: 3, targetCPUUtilizationPercentage: 70 } });
        expect(pod.topologySpreadConstraints).to.have.length(2);
    });

    it("adds no spread constraint to a single pod", async () => {
        const { pod } = await workloadOf({});
        expect(pod.topologySpreadConstraints).to.equal(undefined);
    });
});

describe("hardening: priority classes", () => {
    it("names each tier's PriorityClass for the project and stack", () => {
        expect(priorityClassName("data-store")).to.equal("k8s-platform-dev-data-store");
    });

    it("ranks data stores above services above batch jobs", () => {
        expect(PRIORITY_VALUES["data-store"]).to.be.greaterThan(PRIORITY_VALUES.service);
        expect(PRIORITY_VALUES.service).to.be.greaterThan(PRIORITY_VALUES.batch);
    });

    it("creates one PriorityClass per tier, none of them the cluster default", async () => {
        const res = await capture(() => new PriorityClasses("pc"));
        const pcs = ofType(res, T.priorityClass).map(r => [r.inputs.metadata.name, r.inputs.value, r.inputs.globalDefault]);
        expect(pcs).to.deep.equal([
            ["k8s-platform-dev-data-store", 100000, false],
            ["k8s-platform-dev-service", 50000, false],
            ["k8s-platform-dev-batch", 10000, false],
        ]);
    });

    it("gives a pod its profile's priority class", async () => {
        expect((await workloadOf({})).pod.priorityClassName).to.equal("k8s-platform-dev-service");
        expect((await workloadOf({ profile: DATA_STORE, kind: "StatefulSet" })).pod.priorityClassName).to.equal("k8s-platform-dev-data-store");
        expect(BATCH.priorityTier).to.equal("batch");
    });
});

describe("hardening: the write Service of a fixed primary", () => {
    it("selects ordinal 0 by the controller's pod-name label and tells kube-score why", async () => {
        const { res } = await workloadOf({ kind: "StatefulSet", replicas: 3, primaryOnlyService: true, readService: true, profile: DATA_STORE });
        const write = ofType(res, T.service).find(s => s.inputs.metadata.name === "web")!;
        expect(write.inputs.spec.selector[POD_NAME_LABEL]).to.equal("web-0");
        expect(write.inputs.metadata.annotations[KUBE_SCORE_IGNORE_ANNOTATION]).to.equal("service-targets-pod");
        const read = ofType(res, T.service).find(s => s.inputs.metadata.name === "web-read")!;
        expect(read.inputs.spec.selector).to.not.have.property(POD_NAME_LABEL);
    });
});
