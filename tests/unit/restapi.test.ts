import { expect } from "chai";
import { contentName } from "../../components/k8s/config";
import { STATELESS } from "../../components/k8s/profile";
import { RestApi, RestApiArgs, RESTAPI_DEPLOYER_RULES } from "../../components/restapi/restapi";
import { PART_DEFAULTS, REST_PARTS, RestPart, validateRestApiSpec } from "../../components/restapi/spec";
import { containsSecret, mockWorkloadStatus } from "./mocks";
import { byName, capture, isSecret, ofType, podSpec, T, valueOf } from "./helpers";
import { RecordedResource } from "./mocks";

const ingress = { kind: "namespace" as const, namespace: "ingress-nginx" };
const prometheus = { kind: "namespace" as const, namespace: "monitoring", podSelector: { "app.kubernetes.io/name": "prometheus" } };

function args(over: Partial<RestApiArgs> = {}): RestApiArgs {
    return {
        namespace: "shop", image: "ghcr.io/acme/shop:2.0.1", externalAccess: [ingress], metricsScrapers: [prometheus],
        envVars: { LOG_LEVEL: "info" }, secretEnvVars: { API_TOKEN: "s3cr3t-token" }, ...over,
    };
}

const deploymentOf = (res: RecordedResource[], name: string) => byName(res, T.deployment, name);
const policyOf = (res: RecordedResource[], name: string) => byName(res, T.netpol, name).inputs.spec;
/** Names of the parts a NetworkPolicy rule list admits (by app.kubernetes.io/instance) or namespaces. */
const peersOf = (rules: any[], dir: "from" | "to") => rules.map(r => {
    const p = r[dir][0];
    return p.podSelector?.matchLabels?.["app.kubernetes.io/instance"] ?? p.namespaceSelector.matchLabels["kubernetes.io/metadata.name"];
}).sort();

describe("RestApi", () => {
    it("creates one Deployment and one Service per MVC+R part on the design's ports", async () => {
        const res = await capture(() => new RestApi("shop", args()));
        expect(ofType(res, T.deployment).map(d => d.inputs.metadata.name).sort())
            .to.deep.equal(["shop-controller", "shop-model", "shop-repository", "shop-view"]);
        const ports = Object.fromEntries(REST_PARTS.map(p => [p, byName(res, T.service, `shop-${p}`).inputs.spec.ports[0].port]));
        expect(ports).to.deep.equal({ model: 8080, view: 3000, controller: 8081, repository: 8082 });
    });

    it("makes the RestAPI's replicas every part's HPA minimum when autoscaling is on", async () => {
        const res = await capture(() => new RestApi("rmin", args({ replicas: 3 })));
        const mins = Object.fromEntries(ofType(res, T.hpa).map(h => [h.inputs.metadata.name.replace("rmin-", ""), h.inputs.spec.minReplicas]));
        expect(mins).to.deep.equal({ model: 3, view: 3, controller: 3, repository: 3 });
    });

    it("leaves each Deployment's count to its HPA (no spec.replicas) and reports the HPA minimums", async () => {
        let api: RestApi | undefined;
        const res = await capture(() => { api = new RestApi("rmin2", args({ replicas: 3 })); });
        expect(deploymentOf(res, "rmin2-view").inputs.spec).to.not.have.property("replicas");
        expect(await valueOf(api!.replicas)).to.equal(12);
    });

    it("lets a part's own replicas set its HPA minimum", async () => {
        const res = await capture(() => new RestApi("rmin3", args({ replicas: 2, view: { replicas: 4 } })));
        expect(byName(res, T.hpa, "rmin3-view").inputs.spec.minReplicas).to.equal(4);
        expect(byName(res, T.hpa, "rmin3-model").inputs.spec.minReplicas).to.equal(2);
    });

    // The spec is validated once, at the config edge (the component takes it as resolved).
    it("refuses replicas above a part's HPA maximum, naming the config key and the bound", () => {
        expect(() => validateRestApiSpec("k8s-platform:restapi", { image: "ghcr.io/acme/shop:2.0.1", replicas: 6 }))
            .to.throw("k8s-platform:restapi.replicas: 6 is above view's autoScaling.maxReplicas 5 (replicas is the HPA's minimum); allowed: 1 to 5, or raise view.autoScaling.maxReplicas");
    });

    it("refuses replicas that disagree with an explicit HPA minimum", () => {
        expect(() => validateRestApiSpec("k8s-platform:restapi", { image: "ghcr.io/acme/shop:2.0.1", model: { replicas: 2, autoScaling: { minReplicas: 3 } } }))
            .to.throw("k8s-platform:restapi.model.replicas: 2 disagrees with model.autoScaling.minReplicas 3 (replicas is the HPA's minimum); allowed: 3, or leave one of them out");
    });

    it("refuses a part's port that is not a port number (it becomes the containerPort and Service port)", () => {
        expect(() => validateRestApiSpec("k8s-platform:restapi", { image: "ghcr.io/acme/shop:2.0.1", model: { port: "8080" } }))
            .to.throw('k8s-platform:restapi.model.port: "8080" is not allowed; allowed: an integer from 1024 to 65535');
    });

    it("refuses a part's autoScaling.enabled that is not a boolean", () => {
        expect(() => validateRestApiSpec("k8s-platform:restapi", { image: "ghcr.io/acme/shop:2.0.1", view: { autoScaling: { enabled: "no" } } }))
            .to.throw('k8s-platform:restapi.view.autoScaling.enabled: "no" is not allowed; allowed: true or false');
    });

    it("returns the spec as read, typed: the keys given and no others", () => {
        const raw = { image: "ghcr.io/acme/shop:2.0.1", replicas: 2, repository: { storage: { size: "5Gi", accessMode: "ReadWriteMany" } }, blueGreen: { enabled: false } };
        expect(validateRestApiSpec("k8s-platform:restapi", raw)).to.deep.equal(raw);
    });

    it("reports phase Pending while the API server reported no Deployment status", async () => {
        const api = new RestApi("rphase", args());
        expect(await valueOf(api.phase)).to.equal("Pending");
    });

    it("reports phase Creating until every active part is ready, naming the parts that are not", async () => {
        for (const [part, ready] of [["model", 1], ["view", 1], ["controller", 1], ["repository", 1]] as const) {
            mockWorkloadStatus[`rcre-${part}`] = { generation: 1, status: { observedGeneration: 1, replicas: 2, readyReplicas: ready, updatedReplicas: 2 } };
        }
        const api = new RestApi("rcre", args({ replicas: 2 }));
        expect(await valueOf(api.phase)).to.equal("Creating");
        expect((await valueOf(api.conditions))[0].message).to.equal(
            "Deployment rcre-model: 1/2 ready; Deployment rcre-view: 1/2 ready; Deployment rcre-controller: 1/2 ready; Deployment rcre-repository: 1/2 ready");
    });

    it("reports phase Ready when every active part is ready", async () => {
        for (const part of ["model", "view", "controller", "repository"]) {
            mockWorkloadStatus[`rrdy-${part}`] = { generation: 1, status: { observedGeneration: 1, replicas: 2, readyReplicas: 2, updatedReplicas: 2 } };
        }
        const api = new RestApi("rrdy", args({ replicas: 2 }));
        expect(await valueOf(api.phase)).to.equal("Ready");
    });

    it("gives every part an HPA with the design's default bounds and CPU target", async () => {
        const res = await capture(() => new RestApi("hpa", args()));
        const bounds = Object.fromEntries(ofType(res, T.hpa).map(h => [h.inputs.metadata.name.replace("hpa-", ""),
            [h.inputs.spec.minReplicas, h.inputs.spec.maxReplicas, h.inputs.spec.metrics[0].resource.target.averageUtilization]]));
        expect(bounds).to.deep.equal({ model: [1, 10, 70], view: [1, 5, 80], controller: [2, 20, 60], repository: [1, 8, 75] });
    });

    it("lets a part override its HPA bounds", async () => {
        const res = await capture(() => new RestApi("ovr", args({ model: { autoScaling: { minReplicas: 3, maxReplicas: 4 } } })));
        const hpa = byName(res, T.hpa, "ovr-model").inputs.spec;
        expect([hpa.minReplicas, hpa.maxReplicas]).to.deep.equal([3, 4]);
        expect(deploymentOf(res, "ovr-model").inputs.spec).to.not.have.property("replicas");
    });

    it("sizes resources by profile: model CPU-heavy, view memory-heavy", async () => {
        const res = await capture(() => new RestApi("prof", args()));
        const limits = (p: RestPart) => podSpec(deploymentOf(res, `prof-${p}`)).containers[0].resources.limits;
        expect(limits("model")).to.deep.equal({ ...PART_DEFAULTS.model.resources.limits, "ephemeral-storage": STATELESS.ephemeralStorage.limit });
        expect(limits("model").cpu).to.equal("2");
        expect(limits("view").memory).to.equal("1Gi");
    });

    it("probes /health and annotates /metrics for scraping on each part's port", async () => {
        const res = await capture(() => new RestApi("probe", args()));
        for (const p of REST_PARTS) {
            const d = deploymentOf(res, `probe-${p}`).inputs.spec.template;
            const c = d.spec.containers[0];
            expect(c.livenessProbe.tcpSocket).to.deep.equal({ port: PART_DEFAULTS[p].port });
            expect(c.livenessProbe).to.include({ periodSeconds: 20, failureThreshold: 6 });
            expect(c.readinessProbe.httpGet).to.deep.equal({ path: "/health", port: PART_DEFAULTS[p].port });
            expect(d.metadata.annotations).to.deep.equal({
                "prometheus.io/scrape": "true", "prometheus.io/port": String(PART_DEFAULTS[p].port), "prometheus.io/path": "/metrics",
            });
        }
    });

    it("takes env from a ConfigMap and secret values from a Secret", async () => {
        const res = await capture(() => new RestApi("env", args()));
        const cm = byName(res, T.configMap, "env-env").inputs.data;
        expect(cm.LOG_LEVEL).to.equal("info");
        expect(cm.MODEL_URL).to.equal("http://env-model:8080");
        expect(JSON.stringify(cm)).not.to.contain("s3cr3t-token");
        const secret = byName(res, T.secret, "env-env");
        expect(secret.inputs.stringData).to.deep.equal({ API_TOKEN: "s3cr3t-token" });
        expect(containsSecret(secret.raw.stringData)).to.equal(true);
        expect(podSpec(deploymentOf(res, "env-view")).containers[0].envFrom)
            .to.deep.equal([{ configMapRef: { name: contentName("env-env", cm) } }, { secretRef: { name: "env-env-generated" } }]);
    });

    it("creates no env Secret (and no secretRef) when there are no secret values", async () => {
        const res = await capture(() => new RestApi("nosec", args({ secretEnvVars: undefined })));
        expect(ofType(res, T.secret)).to.have.length(0);
        expect(podSpec(deploymentOf(res, "nosec-view")).containers[0].envFrom).to.deep.equal([{ configMapRef: { name: byName(res, T.configMap, "nosec-env").inputs.metadata.name } }]);
    });

    it("mounts the repository's persistent volume", async () => {
        const res = await capture(() => new RestApi("repo", args({ repository: { storage: { size: "3Gi" } } })));
        const pvc = byName(res, T.pvc, "repo-repository-data").inputs.spec;
        expect(pvc.resources.requests.storage).to.equal("3Gi");
        expect(pvc.accessModes).to.deep.equal(["ReadWriteMany"]);
        expect(podSpec(deploymentOf(res, "repo-repository")).volumes[0]).to.deep.equal({ name: "data", persistentVolumeClaim: { claimName: "repo-repository-data" } });
    });

    describe("network policies", () => {
        let res: RecordedResource[];
        before(async () => {
            res = await capture(() => new RestApi("net", args({
                backends: [{ peer: { kind: "pods", namespace: "data", selector: { "app.kubernetes.io/instance": "orders-db" } }, ports: [{ port: 5432 }] }],
            })));
        });

        it("admits outside traffic (the ingress controller) to the view only", () => {
            for (const p of REST_PARTS) {
                const fromIngress = policyOf(res, `net-${p}`).ingress.filter((r: { from: { namespaceSelector: { matchLabels: Record<string, string> } }[] }) =>
                    r.from[0].namespaceSelector.matchLabels["kubernetes.io/metadata.name"] === "ingress-nginx");
                expect(fromIngress.length, p).to.equal(p === "view" ? 1 : 0);
            }
        });

        it("follows the design's service communication between parts", () => {
            const ingressFrom = (p: RestPart) => peersOf(policyOf(res, `net-${p}`).ingress, "from").filter(n => n.startsWith("net-"));
            expect(ingressFrom("model")).to.deep.equal(["net-controller", "net-view"]);
            expect(ingressFrom("controller")).to.deep.equal(["net-model", "net-repository"]);
            expect(ingressFrom("repository")).to.deep.equal(["net-controller"]);
            expect(ingressFrom("view")).to.deep.equal(["net-controller"]);
        });

        it("lets only the repository reach the database", () => {
            for (const p of REST_PARTS) {
                const egress = peersOf(policyOf(res, `net-${p}`).egress, "to");
                expect(egress.includes("orders-db"), p).to.equal(p === "repository");
            }
        });

        it("lets Prometheus scrape every part on its port", () => {
            for (const p of REST_PARTS) {
                const rule = policyOf(res, `net-${p}`).ingress.find((r: { from: { podSelector: { matchLabels?: Record<string, string> } }[] }) =>
                    r.from[0].podSelector.matchLabels?.["app.kubernetes.io/name"] === "prometheus");
                expect(rule.ports).to.deep.equal([{ port: PART_DEFAULTS[p].port, protocol: "TCP" }]);
            }
        });
    });

    it("grants the deployer exactly the design's verbs, secrets read-only", async () => {
        const res = await capture(() => new RestApi("rbac", args()));
        const role = byName(res, T.role, "rbac-deployer").inputs;
        expect(role.metadata.labels["platform.io/deployer"]).to.equal("restapi");
        expect(role.rules).to.deep.equal(RESTAPI_DEPLOYER_RULES);
        const secrets = role.rules.find((r: { resources: string[] }) => r.resources.includes("secrets"));
        expect(secrets.verbs).to.deep.equal(["get", "list", "watch"]);
        const binding = byName(res, T.roleBinding, "rbac-deployer").inputs;
        expect(binding.subjects).to.deep.equal([{ kind: "ServiceAccount", name: "rbac-deployer", namespace: "shop" }]);
    });

    describe("blue/green", () => {
        const bg = (active: "blue" | "green") => args({
            blueGreen: { enabled: true, activeEnvironment: active, blueImage: "ghcr.io/acme/shop:2.0.1", greenImage: "ghcr.io/acme/shop:2.1.0" },
        });

        it("keeps both environments with their own images", async () => {
            const res = await capture(() => new RestApi("bg1", bg("blue")));
            expect(ofType(res, T.deployment)).to.have.length(8);
            expect(podSpec(deploymentOf(res, "bg1-view-green")).containers[0].image).to.equal("ghcr.io/acme/shop:2.1.0");
            expect(podSpec(deploymentOf(res, "bg1-view-blue")).containers[0].image).to.equal("ghcr.io/acme/shop:2.0.1");
        });

        it("points the stable Service at the active colour and the preview Service at the other", async () => {
            const res = await capture(() => new RestApi("bg2", bg("green")));
            expect(byName(res, T.service, "bg2-view").inputs.spec.selector["platform.io/color"]).to.equal("green");
            expect(byName(res, T.service, "bg2-view-preview").inputs.spec.selector["platform.io/color"]).to.equal("blue");
        });

        it("switches traffic by changing only Service selectors: Deployments keep names and specs", async () => {
            const blue = await capture(() => new RestApi("bg3", bg("blue")));
            const green = await capture(() => new RestApi("bg3", bg("green")));
            const deployments = (r: RecordedResource[]) => ofType(r, T.deployment).map(d => ({ urnName: d.name, inputs: d.inputs }));
            expect(deployments(green)).to.deep.equal(deployments(blue));
            const selectors = (r: RecordedResource[]) => ofType(r, T.service).map(s => s.inputs.spec.selector["platform.io/color"]);
            expect(selectors(blue)).to.not.deep.equal(selectors(green));
        });

        it("points each colour's parts at the same colour's Services", async () => {
            const res = await capture(() => new RestApi("bg5", bg("blue")));
            const env = (d: string) => Object.fromEntries(podSpec(deploymentOf(res, d)).containers[0].env
                .filter((e: { name: string }) => e.name.endsWith("_URL")).map((e: { name: string; value: string }) => [e.name, e.value]));
            expect(env("bg5-view-green")).to.deep.equal({
                MODEL_URL: "http://bg5-model-green:8080", VIEW_URL: "http://bg5-view-green:3000",
                CONTROLLER_URL: "http://bg5-controller-green:8081", REPOSITORY_URL: "http://bg5-repository-green:8082",
            });
            expect(env("bg5-controller-blue").REPOSITORY_URL).to.equal("http://bg5-repository-blue:8082");
        });

        it("gives every part a Service per colour that selects only that colour", async () => {
            const res = await capture(() => new RestApi("bg6", bg("blue")));
            for (const p of REST_PARTS) {
                for (const c of ["blue", "green"]) {
                    const svc = byName(res, T.service, `bg6-${p}-${c}`).inputs.spec;
                    expect(svc.selector, `${p}-${c}`).to.deep.equal({
                        "app.kubernetes.io/instance": `bg6-${p}`, "app.kubernetes.io/part-of": "restapi", "platform.io/color": c,
                    });
                    expect(svc.ports[0].port).to.equal(PART_DEFAULTS[p].port);
                }
            }
        });

        it("admits calls between parts of the same colour only", async () => {
            const res = await capture(() => new RestApi("bg7", bg("blue")));
            const callers = (d: string) => policyOf(res, d).ingress
                .map((r: { from: { podSelector: { matchLabels?: Record<string, string> } }[] }) => r.from[0].podSelector.matchLabels ?? {})
                .filter((l: Record<string, string>) => l["app.kubernetes.io/instance"]?.startsWith("bg7-"))
                .map((l: Record<string, string>) => `${l["app.kubernetes.io/instance"]}-${l["platform.io/color"]}`).sort();
            expect(callers("bg7-model-green")).to.deep.equal(["bg7-controller-green", "bg7-view-green"]);
            expect(callers("bg7-repository-blue")).to.deep.equal(["bg7-controller-blue"]);
        });

        it("reports the preview URL of the idle colour's view", async () => {
            const api = new RestApi("bg8", bg("blue"));
            expect(await valueOf(api.previewUrl)).to.equal("http://bg8-view-preview.shop.svc.cluster.local:3000");
            expect(await valueOf(new RestApi("nobg8", args()).previewUrl)).to.equal(undefined);
        });

        it("reports the active environment and its replica count", async () => {
            const api = new RestApi("bg4", bg("green"));
            expect(await valueOf(api.activeEnvironment)).to.equal("green");
            // HPA minimums of the design: model 1 + view 1 + controller 2 + repository 1.
            expect(await valueOf(api.replicas)).to.equal(5);
            expect(await valueOf(api.lastDeploymentTime)).to.equal("pending");
        });
    });

    it("keeps the view URL plain and the env Secret's values secret", async () => {
        const api = new RestApi("out", args());
        expect(await valueOf(api.viewUrl)).to.equal("http://out-view.shop.svc.cluster.local:3000");
        expect(await isSecret(api.viewUrl)).to.equal(false);
    });
});
