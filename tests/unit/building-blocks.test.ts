import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { NamespaceBaseline } from "../../components/k8s/namespace";
import { contentName, rollingConfigMap, rollingSecret } from "../../components/k8s/config";
import { PATCH_FORCE_ANNOTATION } from "../../components/k8s/metadata";
import { Workload, WorkloadArgs, pdbMinAvailable } from "../../components/k8s/workload";
import { TrafficPlan } from "../../components/k8s/traffic";
import { parseQuantity } from "../../components/k8s/quantity";
import { requirePinnedImage } from "../../components/k8s/validation";
import { containsSecret } from "./mocks";
import { byName, capture, ofType, podSpec, T } from "./helpers";

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
        livenessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 20, failureThreshold: 6 },
        readinessProbe: { httpGet: { path: "/health", port: 8080 } },
        writablePaths: ["/var/cache/nginx"],
    }],
    servicePorts: [{ name: "http", port: 80, targetPort: 8080 }],
    traffic: { ingress: [], egress: [] },
    ...over,
});

describe("quantities and images", () => {
    it("parses binary and decimal suffixes", () => {
        expect(parseQuantity("10Gi")).to.equal(10 * 2 ** 30);
        expect(parseQuantity("250m")).to.equal(0.25);
        expect(parseQuantity("1.5")).to.equal(1.5);
        expect(parseQuantity("5G")).to.equal(5e9);
    });

    it("rejects text that is not a quantity", () => {
        expect(parseQuantity("10 GB")).to.equal(undefined);
        expect(parseQuantity("Gi")).to.equal(undefined);
    });

    it("accepts tags and digests, rejects latest and untagged images", () => {
        expect(requirePinnedImage("k", "registry:5000/team/app:1.2.3")).to.equal("registry:5000/team/app:1.2.3");
        const digest = `app@sha256:${"ab".repeat(32)}`;
        expect(requirePinnedImage("k", digest)).to.equal(digest);
        expect(() => requirePinnedImage("k", "registry:5000/team/app")).to.throw("k: \"registry:5000/team/app\" is not pinned");
        expect(() => requirePinnedImage("k", "app:latest")).to.throw("is not pinned");
    });
});

describe("Workload", () => {
    it("applies the secure container defaults", async () => {
        const res = await capture(() => new Workload("sec", baseArgs()));
        const c = podSpec(ofType(res, T.deployment)[0]).containers[0];
        expect(c.securityContext).to.deep.equal({
            runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, privileged: false,
            capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" },
        });
        expect(c.resources).to.deep.equal({
            requests: { cpu: "100m", memory: "64Mi", "ephemeral-storage": "64Mi" },
            limits: { cpu: "200m", memory: "128Mi", "ephemeral-storage": "512Mi" },
        });
        expect(c.volumeMounts.map((m: { mountPath: string }) => m.mountPath)).to.deep.equal(["/tmp", "/var/cache/nginx"]);
    });

    it("backs writable paths with emptyDirs and runs the pod as non-root without a token", async () => {
        const res = await capture(() => new Workload("pod", baseArgs()));
        const spec = podSpec(ofType(res, T.deployment)[0]);
        expect(spec.volumes.map((v: { name: string }) => v.name)).to.deep.equal(["scratch-tmp", "scratch-var-cache-nginx"]);
        expect(spec.automountServiceAccountToken).to.equal(false);
        expect(spec.securityContext.runAsNonRoot).to.equal(true);
        expect(spec.securityContext.seccompProfile).to.deep.equal({ type: "RuntimeDefault" });
        expect(spec.serviceAccountName).to.equal("web");
        expect(ofType(res, T.serviceAccount)[0].inputs.automountServiceAccountToken).to.equal(false);
    });

    it("labels pods with app.kubernetes.io/* and selects on name and part-of", async () => {
        const res = await capture(() => new Workload("lbl", baseArgs()));
        const d = ofType(res, T.deployment)[0].inputs;
        expect(d.spec.selector.matchLabels).to.deep.equal({ "app.kubernetes.io/instance": "web", "app.kubernetes.io/part-of": "demo" });
        expect(d.spec.template.metadata.labels).to.include({
            "app.kubernetes.io/component": "frontend", "app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/instance": "web",
        });
    });

    it("refuses a container without probes", () => {
        const args = baseArgs();
        delete args.containers[0].readinessProbe;
        expect(() => new Workload("noprobe", args)).to.throw("Workload(noprobe).containers[0]: a long-running container needs a livenessProbe and a readinessProbe");
    });

    it("refuses an image without a tag", () => {
        const args = baseArgs();
        args.containers[0].image = "nginx";
        expect(() => new Workload("untagged", args)).to.throw('Workload(untagged).containers[0].image: "nginx" is not pinned');
    });

    it("creates no PDB and no anti-affinity for a single replica", async () => {
        const res = await capture(() => new Workload("single", baseArgs()));
        expect(ofType(res, T.pdb)).to.have.length(0);
        expect(podSpec(ofType(res, T.deployment)[0]).affinity).to.equal(undefined);
    });

    it("creates a PDB tolerating one disruption and soft anti-affinity for 3 replicas", async () => {
        const res = await capture(() => new Workload("triple", baseArgs({ replicas: 3 })));
        expect(ofType(res, T.pdb)[0].inputs.spec.minAvailable).to.equal(2);
        const anti = podSpec(ofType(res, T.deployment)[0]).affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0];
        expect(anti.podAffinityTerm.topologyKey).to.equal("kubernetes.io/hostname");
    });

    it("keeps minAvailable below replicas and within the HPA floor", () => {
        expect(pdbMinAvailable(2)).to.equal(1);
        expect(pdbMinAvailable(5, 3)).to.equal(2);
    });

    it("creates an HPA with the metric targets and lets it own spec.replicas", async () => {
        const res = await capture(() => new Workload("hpa", baseArgs({
            replicas: 1, autoscaling: { minReplicas: 2, maxReplicas: 6, targetCPUUtilizationPercentage: 70, targetMemoryUtilizationPercentage: 80 },
        })));
        const hpa = ofType(res, T.hpa)[0].inputs.spec;
        expect(hpa.minReplicas).to.equal(2);
        expect(hpa.maxReplicas).to.equal(6);
        expect(hpa.scaleTargetRef).to.deep.equal({ apiVersion: "apps/v1", kind: "Deployment", name: "web" });
        expect(hpa.metrics.map((m: { resource: { name: string; target: { averageUtilization: number } } }) =>
            [m.resource.name, m.resource.target.averageUtilization])).to.deep.equal([["cpu", 70], ["memory", 80]]);
        expect(ofType(res, T.deployment)[0].inputs.spec).to.not.have.property("replicas");
    });

    it("reports the HPA minimum as the replicas output of an HPA-targeted Deployment without spec.replicas", async () => {
        let w: Workload | undefined;
        await capture(() => {
            w = new Workload("hpa-out", baseArgs({ replicas: 1, autoscaling: { minReplicas: 3, maxReplicas: 6, targetCPUUtilizationPercentage: 70 } }));
        });
        expect(await new Promise(resolve => w!.replicas.apply(resolve))).to.equal(3);
        expect((await new Promise<{ desired: number }>(resolve => w!.status.apply(resolve))).desired).to.equal(3);
    });

    it("keeps spec.replicas on a Deployment without an HPA", async () => {
        const res = await capture(() => new Workload("fixed", baseArgs({ replicas: 2 })));
        expect(ofType(res, T.deployment)[0].inputs.spec.replicas).to.equal(2);
    });

    it("generates its NetworkPolicy from the traffic plan", async () => {
        const web = { id: "web", peer: { kind: "pods" as const, namespace: "apps", selector: { "app.kubernetes.io/instance": "web", "app.kubernetes.io/part-of": "demo" } } };
        const api = { id: "api", peer: { kind: "pods" as const, namespace: "backend", selector: { "app.kubernetes.io/name": "api" } } };
        const lb = { id: "ingress", peer: { kind: "namespace" as const, namespace: "ingress-nginx" } };
        const plan = new TrafficPlan().allow(lb, web, [{ port: 8080 }]).allow(web, api, [{ port: 9000 }]);
        const res = await capture(() => new Workload("np", baseArgs({ traffic: plan.rulesFor(web) })));
        const spec = ofType(res, T.netpol)[0].inputs.spec;
        expect(spec.policyTypes).to.deep.equal(["Ingress", "Egress"]);
        expect(spec.ingress).to.deep.equal([{
            from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } }, podSelector: {} }],
            ports: [{ port: 8080, protocol: "TCP" }],
        }]);
        expect(spec.egress).to.deep.equal([{
            to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "backend" } }, podSelector: { matchLabels: { "app.kubernetes.io/name": "api" } } }],
            ports: [{ port: 9000, protocol: "TCP" }],
        }]);
    });

    it("gives a StatefulSet retained claims and a headless Service", async () => {
        const res = await capture(() => new Workload("sts", baseArgs({
            kind: "StatefulSet", replicas: 3, volumeClaims: [{ name: "data", size: "5Gi", storageClass: "ssd" }],
        })));
        const sts = ofType(res, T.statefulSet)[0].inputs.spec;
        expect(sts.persistentVolumeClaimRetentionPolicy).to.deep.equal({ whenDeleted: "Retain", whenScaled: "Retain" });
        expect(sts.volumeClaimTemplates[0].spec).to.deep.equal({ accessModes: ["ReadWriteOnce"], storageClassName: "ssd", resources: { requests: { storage: "5Gi" } } });
        expect(sts.serviceName).to.equal("web-headless");
        expect(byName(res, T.service, "web-headless").inputs.spec.clusterIP).to.equal("None");
    });

    it("forces server-side apply on every object it creates, but not inside pod or claim templates", async () => {
        const res = await capture(() => {
            new Workload("force-d", baseArgs({ replicas: 3, autoscaling: { minReplicas: 3, maxReplicas: 6, targetCPUUtilizationPercentage: 70 } }));
            new Workload("force-s", baseArgs({
                identity: { name: "db", component: "database", partOf: "demo" }, kind: "StatefulSet", volumeClaims: [{ name: "data", size: "1Gi" }],
            }));
        });
        expect(res.map(r => r.type.split(":")[2]).sort()).to.deep.equal([
            "Deployment", "HorizontalPodAutoscaler", "NetworkPolicy", "NetworkPolicy", "PodDisruptionBudget", "Service", "Service", "Service",
            "ServiceAccount", "ServiceAccount", "StatefulSet", "Workload", "Workload",
        ]);
        for (const r of res.filter(x => x.type.startsWith("kubernetes:"))) {
            expect(r.inputs.metadata.annotations, r.name).to.deep.equal({ [PATCH_FORCE_ANNOTATION]: "true" });
        }
        for (const r of [...ofType(res, T.deployment), ...ofType(res, T.statefulSet)]) {
            expect(r.inputs.spec.template.metadata.annotations, r.name).to.equal(undefined);
        }
        expect(ofType(res, T.statefulSet)[0].inputs.spec.volumeClaimTemplates[0].metadata.annotations).to.equal(undefined);
    });

    it("refuses claims on a Deployment", () => {
        expect(() => new Workload("badclaim", baseArgs({ volumeClaims: [{ name: "d", size: "1Gi" }] })))
            .to.throw("Workload(badclaim).volumeClaims: only a StatefulSet has volumeClaimTemplates");
    });
});

describe("NamespaceBaseline", () => {
    const quota = { requestsCpu: "2", requestsMemory: "4Gi", limitsCpu: "4", limitsMemory: "8Gi", requestsStorage: "50Gi", pods: 20, persistentVolumeClaims: 5 };
    const limits = { defaultRequest: { cpu: "100m", memory: "128Mi" }, default: { cpu: "500m", memory: "512Mi" }, max: { cpu: "2", memory: "4Gi" } };

    it("creates the namespace with the restricted Pod Security Standard", async () => {
        const res = await capture(() => new NamespaceBaseline("team-a", { name: "team-a", quota, limits }));
        expect(ofType(res, T.namespace)[0].inputs.metadata.labels["pod-security.kubernetes.io/enforce"]).to.equal("restricted");
    });

    it("denies all ingress and egress by default and allows DNS explicitly", async () => {
        const res = await capture(() => new NamespaceBaseline("team-b", { name: "team-b", quota, limits }));
        const deny = byName(res, T.netpol, "default-deny").inputs.spec;
        expect(deny).to.deep.equal({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
        const dns = byName(res, T.netpol, "allow-dns").inputs.spec;
        expect(dns.policyTypes).to.deep.equal(["Egress"]);
        expect(dns.egress[0].ports).to.deep.equal([{ port: 53, protocol: "UDP" }, { port: 53, protocol: "TCP" }]);
        expect(dns.egress[0].to[0].podSelector).to.deep.equal({ matchLabels: { "k8s-app": "kube-dns" } });
    });

    it("sizes the ResourceQuota and LimitRange from its args", async () => {
        const res = await capture(() => new NamespaceBaseline("team-c", { name: "team-c", quota, limits }));
        expect(ofType(res, T.quota)[0].inputs.spec.hard).to.deep.equal({
            "requests.cpu": "2", "requests.memory": "4Gi", "limits.cpu": "4", "limits.memory": "8Gi",
            "requests.storage": "50Gi", pods: "20", persistentvolumeclaims: "5",
        });
        expect(ofType(res, T.limitRange)[0].inputs.spec.limits[0].max).to.deep.equal({ cpu: "2", memory: "4Gi" });
    });

    it("rejects a namespace name that is not a DNS label", () => {
        expect(() => new NamespaceBaseline("bad", { name: "Team_A", quota, limits })).to.throw("NamespaceBaseline(bad).name: \"Team_A\" is not allowed");
    });
});

describe("rolling configuration objects", () => {
    it("names a ConfigMap after its content, so a change is a new object the pods roll onto", async () => {
        const res = await capture(() => {
            rollingConfigMap("app-env", { namespace: "apps", labels: { a: "b" }, data: { K: "v", A: "1" } }, {});
            rollingConfigMap("app-env2", { namespace: "apps", labels: {}, data: { A: "1", K: "v2" } }, {});
        });
        const cm = byName(res, T.configMap, "app-env");
        const changed = byName(res, T.configMap, "app-env2");
        expect(cm.inputs.metadata).to.deep.equal({
            name: contentName("app-env", { A: "1", K: "v" }), namespace: "apps", labels: { a: "b" }, annotations: { [PATCH_FORCE_ANNOTATION]: "true" },
        });
        expect(cm.inputs.metadata.name).to.match(/^app-env-[0-9a-f]{10}$/);
        expect(cm.inputs.data).to.deep.equal({ K: "v", A: "1" });
        expect(changed.inputs.metadata.name.slice(-10)).to.not.equal(cm.inputs.metadata.name.slice(-10));
    });

    it("derives the content name from the data alone (key order does not matter), and from every key and value", () => {
        expect(contentName("x", { a: "1", b: "2" })).to.equal(contentName("x", { b: "2", a: "1" }));
        expect(contentName("x", { a: "1", b: "2" })).to.not.equal(contentName("x", { a: "1", b: "3" }));
        expect(contentName("x", { a: "1", b: "2" })).to.not.equal(contentName("x", { a: "1", c: "2" }));
        expect(contentName("x", { a: "1" })).to.not.equal(contentName("x", { a: "1", b: "" }));
    });

    it("auto-names the Secret too and keeps its data secret in outputs", async () => {
        let created: k8s.core.v1.Secret | undefined;
        const res = await capture(() => { created = rollingSecret("app-env", { namespace: "apps", labels: {}, data: { TOKEN: "t0k3n" } }, {}); });
        const secret = ofType(res, T.secret)[0];
        expect(secret.inputs.metadata.name).to.equal(undefined);
        expect(secret.inputs).to.deep.include({ type: "Opaque", stringData: { TOKEN: "t0k3n" } });
        expect(containsSecret(secret.raw.stringData)).to.equal(true);
        expect(await pulumi.isSecret(created!.stringData)).to.equal(true);
    });
});
