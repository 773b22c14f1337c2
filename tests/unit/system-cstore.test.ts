/**
 * CStore (cstore.md) under mocks, dev- and prod-sized: the design's numbers (table-driven), the
 * traffic graph the policy pack's analysis computes from the generated NetworkPolicies (exactly the
 * design's flows, nothing else), the deployment order (dependsOn between the stages), the wiring of
 * outputs (the API's env refers to the databases' Secrets), zero pack violations and validation.
 */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import {
    CStore, cstoreBudget, CSTORE_DEFAULTS, CStoreSpec, validateCStoreSpec,
} from "../../components/systems/cstore";
import { parseQuantity } from "../../components/k8s/quantity";
import { fromPlain, trafficReport, TrafficConfig } from "../../policies/traffic";
import { packConfig, packViolations, toPlain } from "./stack-resources";
import { mockPassword, RecordedResource } from "./mocks";
import { byName, capture, hpaOf, isSecret, ofType, podSpec, T, valueOf, withEphemeral } from "./helpers";
import { DATA_STORE, OBSERVABILITY_STORE, STATELESS, WorkloadProfile } from "../../components/k8s/profile";

const NGINX = "nginx.ingress.kubernetes.io";

const IMAGE = "ghcr.io/k8s-platform/cstore-api:2.3.1";
const API_SERVER = "10.96.0.1/32";
const HTTPS_OUT = "203.0.113.0/24";

/** What a stack config holds under k8s-platform:cstore, plus the platform's protectData. */
type RawCStore = CStoreSpec & { protect?: boolean };

/** A CStore from raw args, validated the way the config module does (errors keyed CStore(<name>)). */
function newCStore(name: string, raw: RawCStore, opts?: pulumi.ComponentResourceOptions): CStore {
    const { protect, ...spec } = raw;
    return new CStore(name, { spec: validateCStoreSpec(`CStore(${name})`, spec), protect }, opts);
}

const res = (cpuReq: string, memReq: string, cpuLim: string, memLim: string) =>
    ({ requests: { cpu: cpuReq, memory: memReq }, limits: { cpu: cpuLim, memory: memLim } });
/** What a container of `profile` gets: the cpu/memory plus the profile's ephemeral storage. */
const podRes = (cpuReq: string, memReq: string, cpuLim: string, memLim: string, profile: WorkloadProfile = STATELESS) =>
    withEphemeral(res(cpuReq, memReq, cpuLim, memLim), profile);

/** prod: the design's HA numbers are the defaults; only what has no default is given. */
function prodArgs(): RawCStore {
    return {
        storageClass: "ssd",
        apiServer: { cidrs: [API_SERVER] },
        api: { image: IMAGE, httpsEgressCidrs: [HTTPS_OUT] },
        protect: true,
    };
}

/** dev: small and cheap, within the prod pack's limit/request ratio as well. */
function devArgs(): RawCStore {
    return {
        namespace: "cstore-dev",
        domain: "cstore.dev.example.com",
        clusterIssuer: "selfsigned",
        skipAwait: true,
        storageClass: "standard",
        quota: { requestsCpu: "2", requestsMemory: "4Gi", limitsCpu: "6", limitsMemory: "8Gi", requestsStorage: "10Gi", pods: 15, persistentVolumeClaims: 6 },
        apiServer: { cidrs: [API_SERVER] },
        api: { image: IMAGE, minReplicas: 1, maxReplicas: 3, httpsEgressCidrs: [HTTPS_OUT], env: { LOG_LEVEL: "debug" } },
        mongodb: { storage: { size: "1Gi", configSize: "256Mi" }, resources: res("100m", "512Mi", "500m", "1Gi") },
        redis: { storage: { size: "1Gi" }, maxMemory: "128mb", resources: res("50m", "128Mi", "250m", "256Mi") },
        prometheus: { storage: { size: "2Gi" }, retention: "3d", resources: res("100m", "512Mi", "500m", "1Gi") },
        grafana: { storage: { size: "1Gi" } },
        cdn: { replicas: 1, storage: { size: "1Gi" } },
    };
}

interface Size {
    label: "prod" | "dev";
    name: string;
    namespace: string;
    domain: string;
    args: () => RawCStore;
    /** Replicas of each workload (Kubernetes name suffix -> replicas). */
    replicas: Record<string, number>;
    hpa: [number, number];
    storage: Record<string, string>;
}

const SIZES: Size[] = [
    {
        label: "prod", name: "cs", namespace: "cstore", domain: "cstore.example.com", args: prodArgs,
        replicas: { api: 3, mongodb: 1, redis: 1, "redis-exporter": 1, "kube-state-metrics": 1, prometheus: 1, grafana: 1, cdn: 2 },
        hpa: [3, 10],
        storage: { "mongodb/data": "10Gi", "mongodb/config": "1Gi", "redis/data": "5Gi", prometheus: "20Gi", grafana: "5Gi", cdn: "10Gi" },
    },
    {
        label: "dev", name: "csdev", namespace: "cstore-dev", domain: "cstore.dev.example.com", args: devArgs,
        replicas: { api: 1, mongodb: 1, redis: 1, "redis-exporter": 1, "kube-state-metrics": 1, prometheus: 1, grafana: 1, cdn: 1 },
        hpa: [1, 3],
        storage: { "mongodb/data": "1Gi", "mongodb/config": "256Mi", "redis/data": "1Gi", prometheus: "2Gi", grafana: "1Gi", cdn: "1Gi" },
    },
];

/** cstore.md "Component Details", prod sizes: workload -> kind, CPU and memory request/limit. */
const DESIGN_RESOURCES: [string, string, string, string, string, string, WorkloadProfile][] = [
    // role,           kind,          cpu req, cpu lim, mem req, mem lim, profile (ephemeral storage)
    ["api", T.deployment, "200m", "500m", "256Mi", "512Mi", STATELESS],
    ["grafana", T.deployment, "100m", "500m", "256Mi", "512Mi", OBSERVABILITY_STORE],
    // Design 512Mi-2Gi; the prod pack caps limit/request at 2x, hence a 1Gi request.
    ["prometheus", T.deployment, "250m", "1", "1Gi", "2Gi", OBSERVABILITY_STORE],
    ["redis-exporter", T.deployment, "50m", "100m", "64Mi", "128Mi", STATELESS],
    ["cdn", T.deployment, "100m", "300m", "128Mi", "256Mi", STATELESS],
    // Design 512Mi-2Gi; same 2x cap.
    ["mongodb", T.statefulSet, "500m", "1", "1Gi", "2Gi", DATA_STORE],
    ["redis", T.statefulSet, "100m", "500m", "256Mi", "512Mi", DATA_STORE],
];

function workload(list: RecordedResource[], name: string): RecordedResource {
    const found = list.filter(r => (r.type === T.deployment || r.type === T.statefulSet) && r.inputs.metadata?.name === name);
    expect(found, `workload ${name}`).to.have.length(1);
    return found[0];
}

function envOf(container: any, name: string): any {
    const e = (container.env ?? []).find((x: { name: string }) => x.name === name);
    expect(e, `env ${name}`).to.not.equal(undefined);
    return e;
}

function trafficConfig(stack: string): Partial<TrafficConfig> {
    const entry = packConfig(stack)["traffic-plan"] as Record<string, unknown>;
    const { enforcementLevel: _level, ...config } = entry;
    return config;
}

/** "from -> to: ports" of every edge, ports as the analysis labels them. */
function edgesOf(list: RecordedResource[], stack: string): { edges: string[]; violations: string[] } {
    const report = trafficReport(fromPlain(toPlain(list)), trafficConfig(stack));
    const label = (ports?: { protocol: string; port?: number | string }[]) =>
        ports ? ports.map(p => `${p.protocol}/${p.port}`).join(",") : "any";
    return {
        edges: report.graph.edges.map(e => `${e.from} -> ${e.to}: ${label(e.ports)}`).sort(),
        violations: report.violations.map(v => v.message),
    };
}

/**
 * The design's flows (cstore.md "Network Policies" and "Monitoring Flow"), by role. `out:` names an
 * endpoint outside the stack's workloads.
 */
const DESIGN_FLOWS: [string, string, string][] = [
    // 1. API: in from the ingress controller (and Prometheus' scrapes on the metrics port); out to MongoDB, Redis, HTTPS.
    ["out:ingress", "api", "TCP/3000"],
    ["prometheus", "api", "TCP/3000"],
    ["api", "mongodb", "TCP/27017"],
    ["api", "redis", "TCP/6379"],
    ["api", "out:https", "TCP/443"],
    // 2. MongoDB: in from the API only (above); out DNS only.
    // 3. Redis: in from the API (above) and the exporter.
    ["redis-exporter", "redis", "TCP/6379"],
    // 4. Grafana: in from the ingress controller; out to Prometheus.
    ["out:ingress", "grafana", "TCP/3000"],
    ["grafana", "prometheus", "TCP/9090"],
    // 5. Prometheus: in from Grafana (above); out to its targets and the API server (discovery).
    ["prometheus", "redis-exporter", "TCP/9121"],
    ["prometheus", "out:apiserver", "TCP/443,TCP/6443"],
    // kube-state-metrics (the Kubernetes alerts' and panels' data): scraped by Prometheus, lists and watches the API server.
    ["prometheus", "kube-state-metrics", "TCP/8080"],
    ["kube-state-metrics", "out:apiserver", "TCP/443,TCP/6443"],
    // 6. CDN: in from the ingress controller; out DNS only.
    ["out:ingress", "cdn", "TCP/8080"],
    // DNS for every workload.
    ...["api", "mongodb", "redis", "redis-exporter", "prometheus", "grafana", "cdn", "kube-state-metrics"]
        .map((w): [string, string, string] => [w, "out:dns", "TCP/53,UDP/53"]),
];

function expectedEdges(size: Size): string[] {
    const id = (ep: string) => {
        switch (ep) {
            case "out:ingress": return "ingress-nginx/*";
            case "out:dns": return "kube-system/k8s-app=kube-dns";
            case "out:https": return `ipBlock:${HTTPS_OUT}`;
            case "out:apiserver": return `ipBlock:${API_SERVER}`;
            default: return `${size.namespace}/${size.name}-${ep}`;
        }
    };
    return DESIGN_FLOWS.map(([from, to, ports]) => `${id(from)} -> ${id(to)}: ${ports}`).sort();
}

for (const size of SIZES) {
    describe(`CStore (${size.label})`, () => {
        let list: RecordedResource[];
        let cstore: CStore;
        const k8sName = (role: string) => `${size.name}-${role}`;

        before(async () => {
            list = await capture(() => { cstore = newCStore(size.name, size.args()); });
        });

        it("runs every workload of the design with its replicas, in its namespace, labelled part-of cstore", () => {
            for (const [role, replicas] of Object.entries(size.replicas)) {
                const w = workload(list, k8sName(role));
                const hpa = hpaOf(list, k8sName(role));
                if (hpa && w.type === T.deployment) {
                    // The HPA owns the count: its minimum, no spec.replicas.
                    expect(w.inputs.spec, role).to.not.have.property("replicas");
                    expect(hpa.inputs.spec.minReplicas, role).to.equal(replicas);
                } else {
                    expect(w.inputs.spec.replicas, role).to.equal(replicas);
                }
                expect(w.inputs.metadata.namespace, role).to.equal(size.namespace);
                expect(w.inputs.spec.template.metadata.labels["app.kubernetes.io/part-of"], role).to.equal("cstore");
            }
            expect(workload(list, k8sName("mongodb")).type).to.equal(T.statefulSet);
            expect(ofType(list, T.deployment).length + ofType(list, T.statefulSet).length).to.equal(8);
        });

        it("labels the roles the traffic plan's cstore rules recognise", () => {
            const roles = (role: string) => {
                const l = workload(list, k8sName(role)).inputs.spec.template.metadata.labels;
                return [l["app.kubernetes.io/component"], l["app.kubernetes.io/name"]];
            };
            expect(roles("api")).to.deep.equal(["api", "cstore-api"]);
            expect(roles("mongodb")).to.include("mongodb");
            expect(roles("redis")).to.include("redis");
            expect(roles("redis-exporter")).to.include("redis-exporter");
            expect(roles("prometheus")).to.include("prometheus");
            expect(roles("grafana")).to.include("grafana");
            expect(roles("cdn")).to.deep.equal(["cdn", "nginx-cdn"]);
        });

        it("gives the API its HPA: the design's bounds and targets, scale-up 100% or 2 pods per 30s after 1 minute, scale-down 50% per 60s after 5 minutes", () => {
            const hpas = ofType(list, T.hpa);
            expect(hpas).to.have.length(1);
            const spec = hpas[0].inputs.spec;
            expect(spec.scaleTargetRef).to.deep.equal({ apiVersion: "apps/v1", kind: "Deployment", name: k8sName("api") });
            expect([spec.minReplicas, spec.maxReplicas]).to.deep.equal(size.hpa);
            expect(spec.metrics).to.deep.equal([
                { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } },
                { type: "Resource", resource: { name: "memory", target: { type: "Utilization", averageUtilization: 80 } } },
            ]);
            expect(spec.behavior).to.deep.equal({
                scaleUp: {
                    stabilizationWindowSeconds: 60,
                    selectPolicy: "Max",
                    policies: [{ type: "Percent", value: 100, periodSeconds: 30 }, { type: "Pods", value: 2, periodSeconds: 30 }],
                },
                scaleDown: {
                    stabilizationWindowSeconds: 300,
                    selectPolicy: "Max",
                    policies: [{ type: "Percent", value: 50, periodSeconds: 60 }],
                },
            });
        });

        it("serves the API on 3000 with /api/health probes, scrape annotations, rolling updates 25%/25% and a 30s grace period", () => {
            const dep = workload(list, k8sName("api"));
            expect(dep.inputs.spec.strategy).to.deep.equal({ type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } });
            const pod = podSpec(dep);
            expect(pod.terminationGracePeriodSeconds).to.equal(30);
            const c = pod.containers[0];
            expect(c.image).to.equal(IMAGE);
            expect(c.ports).to.deep.equal([{ name: "http", containerPort: 3000, protocol: "TCP" }]);
            expect(c.livenessProbe.tcpSocket).to.deep.equal({ port: 3000 });
            expect(c.readinessProbe.httpGet).to.deep.equal({ path: "/api/health", port: 3000 });
            expect(dep.inputs.spec.template.metadata.annotations).to.deep.equal({
                "prometheus.io/scrape": "true", "prometheus.io/port": "3000", "prometheus.io/path": "/metrics",
            });
            expect(byName(list, T.service, k8sName("api")).inputs.spec.ports).to.deep.equal([{ name: "http", port: 3000, targetPort: 3000, protocol: "TCP" }]);
            expect(ofType(list, T.pdb).map(p => [p.inputs.metadata.name, p.inputs.spec.minAvailable]))
                .to.deep.include.members(size.hpa[0] > 1 ? [[k8sName("api"), size.hpa[0] - 1]] : []);
        });

        it("claims the design's volumes: MongoDB 10Gi + 1Gi, Redis 5Gi, Prometheus 20Gi, Grafana 5Gi (ReadWriteOnce), static assets 10Gi (ReadWriteMany)", () => {
            const templates = (role: string) => Object.fromEntries(workload(list, k8sName(role)).inputs.spec.volumeClaimTemplates
                .map((t: any) => [`${role}/${t.metadata.name}`, [t.spec.resources.requests.storage, t.spec.accessModes]]));
            const pvc = (role: string, claim: string) => {
                const p = byName(list, T.pvc, `${k8sName(role)}-${claim}`).inputs.spec;
                return [p.resources.requests.storage, p.accessModes];
            };
            const actual = {
                ...templates("mongodb"),
                ...templates("redis"),
                prometheus: pvc("prometheus", "data"),
                grafana: pvc("grafana", "data"),
                cdn: pvc("cdn", "static-assets"),
            };
            const expected = Object.fromEntries(Object.entries(size.storage)
                .map(([k, v]) => [k, [v, k === "cdn" ? ["ReadWriteMany"] : ["ReadWriteOnce"]]]));
            expect(actual).to.deep.equal(expected);
            expect(ofType(list, T.pvc)).to.have.length(3);
            const sc = size.label === "prod" ? "ssd" : "standard";
            ofType(list, T.pvc).forEach(p => expect(p.inputs.spec.storageClassName).to.equal(sc));
            if (size.label === "prod") {
                // cstore.md "Total Storage: 51Gi".
                const total = Object.values(size.storage).reduce((t, s) => t + parseQuantity(s)!, 0);
                expect(total).to.equal(parseQuantity("51Gi"));
            }
        });

        it("configures Redis with AOF, maxmemory and allkeys-lru, and MongoDB as a single-member StatefulSet", () => {
            const redis = podSpec(workload(list, k8sName("redis"))).containers[0];
            expect(envOf(redis, "REDIS_APPENDONLY").value).to.equal("yes");
            expect(envOf(redis, "REDIS_MAXMEMORY").value).to.equal(size.label === "prod" ? "512mb" : "128mb");
            expect(envOf(redis, "REDIS_MAXMEMORY_POLICY").value).to.equal("allkeys-lru");
            expect(redis.ports).to.deep.equal([{ name: "redis", containerPort: 6379, protocol: "TCP" }]);
            const mongo = workload(list, k8sName("mongodb"));
            expect(mongo.inputs.spec.replicas).to.equal(1);
            expect(podSpec(mongo).containers[0].ports).to.deep.equal([{ name: "mongodb", containerPort: 27017, protocol: "TCP" }]);
        });

        it("runs Prometheus with 15s scrapes, the retention, Kubernetes pod discovery and a read-only ClusterRole", () => {
            const c = podSpec(workload(list, k8sName("prometheus"))).containers[0];
            expect(c.args).to.include(`--storage.tsdb.retention.time=${size.label === "prod" ? "30d" : "3d"}`);
            const cfg = yaml.load(byName(list, T.configMap, `${k8sName("prometheus")}-config`).inputs.data["prometheus.yaml"]) as any;
            expect(cfg.global.scrape_interval).to.equal("15s");
            const pods = cfg.scrape_configs.find((j: { job_name: string }) => j.job_name === "kubernetes-pods");
            expect(pods.kubernetes_sd_configs).to.deep.equal([{ role: "pod", namespaces: { names: [size.namespace] } }]);
            // Prometheus' discovery role (and kube-state-metrics' list/watch role, tested with the component).
            const roles = ofType(list, T.clusterRole).filter(r => r.name.endsWith("-discovery"));
            expect(roles).to.have.length(1);
            expect(roles[0].inputs.rules).to.deep.equal([
                { apiGroups: [""], resources: ["nodes", "services", "endpoints", "pods"], verbs: ["get", "list", "watch"] },
                { apiGroups: ["networking.k8s.io"], resources: ["ingresses"], verbs: ["get", "list", "watch"] },
                { apiGroups: [""], resources: ["nodes/proxy"], verbs: ["get"] },
            ]);
            const binding = ofType(list, T.clusterRoleBinding).find(b => b.name.endsWith("-discovery"))!.inputs;
            expect(binding.subjects).to.deep.equal([{ kind: "ServiceAccount", name: k8sName("prometheus"), namespace: size.namespace }]);
            const rules = yaml.load(byName(list, T.configMap, `${k8sName("prometheus")}-rules`).inputs.data["alerts.rules.yaml"]) as any;
            expect(rules.groups.map((g: { name: string }) => g.name)).to.deep.equal(["cstore", "kubernetes"]);
            const jobs = cfg.scrape_configs.map((j: { job_name: string }) => j.job_name);
            expect(jobs).to.include.members(["kube-state-metrics", "kubelet", "cadvisor"]);
        });

        it("exports Redis metrics on 9121 and provisions Grafana's Application, Redis and Performance dashboards under /grafana", () => {
            const exporter = workload(list, k8sName("redis-exporter"));
            expect(podSpec(exporter).containers[0].ports).to.deep.equal([{ name: "metrics", containerPort: 9121, protocol: "TCP" }]);
            expect(exporter.inputs.spec.template.metadata.annotations["prometheus.io/port"]).to.equal("9121");
            const dashboards = ofType(list, T.configMap).filter(c => c.inputs.metadata.labels["grafana.platform.io/dashboard"] === "true")
                .map(c => Object.keys(c.inputs.data)[0]).sort();
            expect(dashboards).to.deep.equal(["platform-application.json", "platform-redis.json", "platform-resources.json"]);
            const g = podSpec(workload(list, k8sName("grafana"))).containers[0];
            expect(envOf(g, "GF_SERVER_ROOT_URL").value).to.equal(`https://monitoring.${size.domain}/grafana`);
            expect(g.readinessProbe.httpGet.path).to.equal("/grafana/api/health");
        });

        it("has the design's CPU and memory for every workload", function () {
            if (size.label !== "prod") {
                // dev shrinks MongoDB, Redis and Prometheus; the rest keeps the design's numbers.
                const mongo = podSpec(workload(list, k8sName("mongodb"))).containers[0].resources;
                expect(mongo).to.deep.equal(podRes("100m", "512Mi", "500m", "1Gi", DATA_STORE));
                const api = podSpec(workload(list, k8sName("api"))).containers[0].resources;
                expect(api).to.deep.equal(podRes("200m", "256Mi", "500m", "512Mi"));
                return;
            }
            for (const [role, kind, cpuReq, cpuLim, memReq, memLim, profile] of DESIGN_RESOURCES) {
                const w = workload(list, k8sName(role));
                expect(w.type, role).to.equal(kind);
                expect(podSpec(w).containers[0].resources, role).to.deep.equal(podRes(cpuReq, memReq, cpuLim, memLim, profile));
            }
        });

        it("allows exactly the design's flows: the pack's analysis of the generated policies equals the design's list", () => {
            for (const stack of ["prod", "dev"]) {
                const { edges, violations } = edgesOf(list, stack);
                expect(edges).to.deep.equal(expectedEdges(size));
                expect(violations, stack).to.deep.equal([]);
            }
        });

        it("wires the API to the databases' Secrets and Services, never to a copy of a password", async () => {
            const api = podSpec(workload(list, k8sName("api"))).containers[0];
            const mongoSecret = `${k8sName("mongodb")}-credentials`;
            const redisSecret = `${k8sName("redis")}-credentials`;
            expect(envOf(api, "MONGODB_USERNAME").valueFrom).to.deep.equal({ secretKeyRef: { name: mongoSecret, key: "username" } });
            expect(envOf(api, "MONGODB_PASSWORD").valueFrom).to.deep.equal({ secretKeyRef: { name: mongoSecret, key: "password" } });
            expect(envOf(api, "REDIS_PASSWORD").valueFrom).to.deep.equal({ secretKeyRef: { name: redisSecret, key: "password" } });
            expect(envOf(api, "MONGODB_HOST").value).to.equal(`${k8sName("mongodb")}.${size.namespace}.svc.cluster.local`);
            expect(envOf(api, "MONGODB_PORT").value).to.equal("27017");
            expect(envOf(api, "REDIS_HOST").value).to.equal(`${k8sName("redis")}.${size.namespace}.svc.cluster.local`);
            expect(envOf(api, "REDIS_PORT").value).to.equal("6379");
            // The Secrets referred to exist and hold the generated passwords.
            expect(byName(list, T.secret, mongoSecret).inputs.stringData.password).to.equal(mockPassword(`${k8sName("mongodb")}-password`));
            expect(byName(list, T.secret, redisSecret).inputs.stringData.password).to.equal(mockPassword(`${k8sName("redis")}-password`));
            // The exporter reads the same Redis Secret.
            const exporter = podSpec(workload(list, k8sName("redis-exporter"))).containers[0];
            expect(envOf(exporter, "REDIS_PASSWORD").valueFrom).to.deep.equal({ secretKeyRef: { name: redisSecret, key: "password" } });
            expect(envOf(exporter, "REDIS_ADDR").value).to.equal(`redis://${k8sName("redis")}.${size.namespace}.svc.cluster.local:6379`);
            // No workload carries a password.
            for (const w of [...ofType(list, T.deployment), ...ofType(list, T.statefulSet)]) {
                expect(JSON.stringify(w.inputs), w.inputs.metadata.name).to.not.contain("mockpw-");
            }
            // Grafana queries this Prometheus.
            const ds = yaml.load(byName(list, T.configMap, `${k8sName("grafana")}-provisioning`).inputs.data["datasources.yaml"]) as any;
            expect(ds.datasources.map((d: { url: string }) => d.url)).to.deep.equal([`http://${k8sName("prometheus")}.${size.namespace}.svc.cluster.local:9090`]);
            expect(await valueOf(cstore.prometheusUrl)).to.equal(`http://${k8sName("prometheus")}.${size.namespace}.svc.cluster.local:9090`);
            expect(await valueOf(cstore.mongodbSecretName)).to.equal(mongoSecret);
            expect(await valueOf(cstore.redisSecretName)).to.equal(redisSecret);
            expect(await isSecret(cstore.mongodbConnectionUrl)).to.equal(true);
            expect(await isSecret(cstore.grafanaBasicAuthPassword)).to.equal(true);
        });

        it("routes api., cdn. and monitoring./grafana through TLS Ingresses with rate limits, CORS on the CDN and basic auth on Grafana", async () => {
            const ingresses = ofType(list, T.ingress);
            expect(ingresses).to.have.length(3);
            const byHost = Object.fromEntries(ingresses.map(i => [i.inputs.spec.rules[0].host, i.inputs]));
            const route = (host: string) => {
                const ing = byHost[host];
                expect(ing, host).to.not.equal(undefined);
                const p = ing.spec.rules[0].http.paths[0];
                return { ann: ing.metadata.annotations, tls: ing.spec.tls, path: p.path, backend: p.backend.service };
            };
            const api = route(`api.${size.domain}`);
            const cdn = route(`cdn.${size.domain}`);
            const grafana = route(`monitoring.${size.domain}`);
            expect([api.path, api.backend]).to.deep.equal(["/", { name: k8sName("api"), port: { number: 3000 } }]);
            expect([cdn.path, cdn.backend]).to.deep.equal(["/", { name: k8sName("cdn"), port: { number: 80 } }]);
            expect([grafana.path, grafana.backend]).to.deep.equal(["/grafana", { name: k8sName("grafana"), port: { number: 3000 } }]);
            const issuer = size.label === "prod" ? "letsencrypt-prod" : "selfsigned";
            for (const [host, r] of [[`api.${size.domain}`, api], [`cdn.${size.domain}`, cdn], [`monitoring.${size.domain}`, grafana]] as const) {
                expect(r.ann["cert-manager.io/cluster-issuer"], host).to.equal(issuer);
                expect(r.tls, host).to.deep.equal([{ hosts: [host], secretName: `${host.replace(/\./g, "-")}-tls` }]);
                expect(Number(r.ann[`${NGINX}/limit-rps`]), host).to.be.greaterThan(0);
                expect(r.ann[`${NGINX}/force-ssl-redirect`], host).to.equal("true");
            }
            expect(cdn.ann[`${NGINX}/enable-cors`]).to.equal("true");
            expect(api.ann[`${NGINX}/enable-cors`]).to.equal(undefined);
            expect(grafana.ann[`${NGINX}/auth-type`]).to.equal("basic");
            expect(grafana.ann[`${NGINX}/auth-secret`]).to.equal(`${size.name}-ingress-grafana-basic-auth`);
            expect(api.ann[`${NGINX}/auth-type`]).to.equal(undefined);
            expect(await valueOf(cstore.apiUrl)).to.equal(`https://api.${size.domain}/`);
            expect(await valueOf(cstore.cdnUrl)).to.equal(`https://cdn.${size.domain}/`);
            expect(await valueOf(cstore.grafanaUrl)).to.equal(`https://monitoring.${size.domain}/grafana`);
        });

        it("creates its own namespace baseline (default-deny, DNS, quota, LimitRange)", () => {
            expect(byName(list, T.namespace, size.namespace).inputs.metadata.labels["pod-security.kubernetes.io/enforce"]).to.equal("restricted");
            expect(byName(list, T.netpol, "default-deny").inputs.metadata.namespace).to.equal(size.namespace);
            const quota = ofType(list, T.quota)[0].inputs.spec.hard;
            expect(quota["requests.storage"]).to.equal(size.label === "prod" ? "60Gi" : "10Gi");
            expect(ofType(list, T.limitRange)).to.have.length(1);
        });

        for (const stack of ["prod", "dev"]) {
            it(`passes the ${stack} policy pack with zero violations`, async () => {
                expect(await packViolations(list, stack)).to.deep.equal([]);
            });
        }
    });
}

describe("CStore deployment order", () => {
    it("makes each stage depend on the one before: data -> monitoring -> visualisation -> CDN -> API", async () => {
        const names = new Map<pulumi.Resource, string>();
        const deps = new Map<string, string[]>();
        let cstore: CStore | undefined;
        await capture(() => {
            cstore = newCStore("order", { ...prodArgs(), namespace: "cstore-order" }, {
                transformations: [a => {
                    names.set(a.resource, a.name);
                    const d = a.opts.dependsOn;
                    if (d) {
                        deps.set(a.name, d as pulumi.Resource[] as never);
                    }
                    return undefined;
                }],
            });
        });
        const depNames = Object.fromEntries([...deps.entries()].map(([n, d]) =>
            [n, (d as unknown as pulumi.Resource[]).map(r => names.get(r)).sort()]));
        expect(depNames).to.deep.equal({
            "order-prometheus": ["order-mongodb", "order-redis"],
            "order-redis-exporter": ["order-mongodb", "order-redis"],
            "order-kube-state-metrics": ["order-mongodb", "order-redis"],
            "order-grafana": ["order-kube-state-metrics", "order-prometheus", "order-redis-exporter"],
            "order-cdn": ["order-grafana"],
            "order-api": ["order-cdn"],
        });
        expect(cstore!.deploymentOrder.map(s => [s.stage, s.components])).to.deep.equal([
            ["data", ["order-mongodb", "order-redis"]],
            ["monitoring", ["order-prometheus", "order-redis-exporter", "order-kube-state-metrics"]],
            ["visualisation", ["order-grafana"]],
            ["cdn", ["order-cdn"]],
            ["api", ["order-api"]],
        ]);
        // deploymentOrder lists the very resources the dependsOn options name.
        cstore!.deploymentOrder.forEach(s => s.resources.forEach((r, i) => expect(names.get(r)).to.equal(s.components[i])));
    });
});

describe("CStore spec", () => {
    it("defaults to the design's numbers", () => {
        const spec = validateCStoreSpec("k8s-platform:cstore", { apiServer: { cidrs: [API_SERVER] }, api: { image: IMAGE, httpsEgressCidrs: [HTTPS_OUT] } });
        expect(spec.domain).to.equal("cstore.example.com");
        expect(spec.namespace).to.equal("cstore");
        expect([spec.api.minReplicas, spec.api.maxReplicas, spec.api.targetCPUUtilizationPercentage, spec.api.targetMemoryUtilizationPercentage])
            .to.deep.equal([3, 10, 70, 80]);
        expect([spec.api.port, spec.api.healthPath, spec.api.metricsPath]).to.deep.equal([3000, "/api/health", "/metrics"]);
        expect([spec.redis.appendOnly, spec.redis.maxMemory, spec.redis.maxMemoryPolicy]).to.deep.equal([true, "512mb", "allkeys-lru"]);
        expect([spec.prometheus.retention, spec.prometheus.scrapeInterval, spec.prometheus.storage.size]).to.deep.equal(["30d", "15s", "20Gi"]);
        expect([spec.mongodb.storage.size, spec.mongodb.storage.configSize, spec.redis.storage.size, spec.grafana.storage.size, spec.cdn.storage.size])
            .to.deep.equal(["10Gi", "1Gi", "5Gi", "5Gi", "10Gi"]);
        expect(spec.cdn.replicas).to.equal(2);
        expect(spec.quota).to.deep.equal(CSTORE_DEFAULTS.quota);
    });

    it("budgets the prod system at its peak (10 API pods + 25% surge) inside the default quota", () => {
        const spec = validateCStoreSpec("k", { apiServer: { cidrs: [API_SERVER] }, api: { image: IMAGE, httpsEgressCidrs: [HTTPS_OUT] } });
        const b = cstoreBudget(spec);
        // API 13, CDN 3, Redis exporter 2, kube-state-metrics 2 (with surge), Prometheus, Grafana, MongoDB, Redis.
        expect(b.pods).to.equal(13 + 3 + 2 + 2 + 4);
        expect(b.persistentVolumeClaims).to.equal(6);
        expect(b.requestsStorage).to.equal(parseQuantity("51Gi"));
        expect(Math.round(b.requestsCpu * 1000)).to.equal(3950 + 100);
        expect(b.requestsMemory).to.equal(parseQuantity("6656Mi"));
        expect(Math.round(b.limitsCpu * 1000)).to.equal(10600 + 400);
        expect(b.limitsMemory).to.equal(parseQuantity("13312Mi"));
    });

    const base = (): any => ({ apiServer: { cidrs: [API_SERVER] }, api: { image: IMAGE, httpsEgressCidrs: [HTTPS_OUT] } });
    const cases: [string, (s: any) => void, string][] = [
        ["an HPA above the pack's cap", s => { s.api.maxReplicas = 30; }, "CStore(bad).api.maxReplicas: 30 is not allowed; allowed: an integer from 1 to 20"],
        ["min above max", s => { s.api.minReplicas = 5; s.api.maxReplicas = 4; }, "CStore(bad).api.minReplicas: 5 is above maxReplicas 4"],
        ["an unpinned API image", s => { s.api.image = "cstore-api:latest"; }, "CStore(bad).api.image: \"cstore-api:latest\" is not pinned"],
        ["no HTTPS egress CIDRs", s => { delete s.api.httpsEgressCidrs; }, "CStore(bad).api.httpsEgressCidrs: undefined is not allowed; allowed: a non-empty list of IPv4 CIDRs"],
        ["HTTPS egress to the whole Internet", s => { s.api.httpsEgressCidrs = ["0.0.0.0/0"]; }, "CStore(bad).api.httpsEgressCidrs[0]: \"0.0.0.0/0\" is not allowed; allowed: an IPv4 CIDR"],
        ["no API server CIDRs", s => { s.apiServer = { cidrs: [] }; }, "CStore(bad).apiServer.cidrs: [] is not allowed"],
        ["an unknown key", s => { s.replicas = 3; }, "CStore(bad).replicas: unknown key; allowed keys: namespace, domain"],
        ["an unknown API key", s => { s.api.replica = 3; }, "CStore(bad).api.replica: unknown key; allowed keys: image, minReplicas"],
        ["a secret-looking env var", s => { s.api.env = { DB_PASSWORD: "x" }; }, "CStore(bad).api.env.DB_PASSWORD: looks like a secret"],
        ["overriding the wired env", s => { s.api.env = { MONGODB_HOST: "elsewhere" }; }, "CStore(bad).api.env.MONGODB_HOST: is set by the system"],
        ["a bad eviction policy", s => { s.redis = { maxMemoryPolicy: "lru" }; }, "CStore(bad).redis.maxMemoryPolicy: \"lru\" is not allowed; allowed: noeviction, allkeys-lru"],
        ["a bad Redis maxmemory", s => { s.redis = { maxMemory: "512Mi" }; }, "CStore(bad).redis.maxMemory: \"512Mi\" is not allowed; allowed: a Redis size such as 512mb"],
        ["a bad MongoDB size", s => { s.mongodb = { storage: { size: "ten" } }; }, "CStore(bad).mongodb.storage.size: \"ten\" is not a storage quantity"],
        ["a pinned-version violation", s => { s.mongodb = { version: "latest" }; }, "CStore(bad).mongodb.version: \"latest\" is not allowed"],
        ["a bad retention", s => { s.prometheus = { retention: "30 days" }; }, "CStore(bad).prometheus.retention: \"30 days\" is not allowed; allowed: a Prometheus duration"],
        ["Grafana at the root", s => { s.grafana = { path: "/" }; }, "CStore(bad).grafana.path: \"/\" is not allowed"],
        ["a bad domain", s => { s.domain = "CStore"; }, "CStore(bad).domain: \"CStore\" is not allowed; allowed: a lowercase DNS host name"],
        ["CORS * with names", s => { s.cdn = { corsAllowOrigins: ["*", "https://a.example.com"] }; }, "CStore(bad).cdn.corsAllowOrigins: \"*\" together with named origins is not allowed"],
        ["zero CDN replicas", s => { s.cdn = { replicas: 0 }; }, "CStore(bad).cdn.replicas: 0 is not allowed; allowed: an integer from 1 to 20"],
        ["limits below requests", s => { s.grafana = { resources: res("500m", "512Mi", "100m", "512Mi") }; }, "CStore(bad).grafana.resources.limits.cpu: 100m is below the request 500m"],
        ["a quota too small for the peak", s => { s.quota = { ...CSTORE_DEFAULTS.quota, requestsCpu: "2" }; }, "CStore(bad).quota.requestsCpu: \"2\" is too small for the system at its peak (HPA maximum plus rolling-update surge); allowed: at least 4050m"],
        ["a quota without room for the claims", s => { s.quota = { ...CSTORE_DEFAULTS.quota, persistentVolumeClaims: 5 }; }, "CStore(bad).quota.persistentVolumeClaims: 5 is too small"],
        ["a LimitRange max below a container limit", s => { s.limits = { ...CSTORE_DEFAULTS.limits, max: { cpu: "2", memory: "1Gi" } }; }, "CStore(bad).limits.max.memory: \"1Gi\" is below the CStore(bad).mongodb limit 2Gi"],
    ];
    for (const [what, mutate, message] of cases) {
        it(`refuses ${what}, registering nothing`, async () => {
            const spec = base();
            mutate(spec);
            const list = await capture(() => {
                expect(() => newCStore("bad", spec)).to.throw(message);
            });
            expect(list).to.have.length(0);
        });
    }

    it("refuses a name too long for its children, registering nothing", async () => {
        const list = await capture(() => {
            expect(() => newCStore("a-very-long-cstore-system-name", base())).to.throw("CStore(a-very-long-cstore-system-name).name");
        });
        expect(list).to.have.length(0);
    });

    it("names the config key in errors for the lead's config module", () => {
        expect(() => validateCStoreSpec("k8s-platform:cstore", { ...base(), api: { image: IMAGE, httpsEgressCidrs: [HTTPS_OUT], maxReplicas: 21 } }))
            .to.throw("k8s-platform:cstore.api.maxReplicas: 21 is not allowed; allowed: an integer from 1 to 20");
    });
});

