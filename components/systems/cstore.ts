/**
 * CStore (cstore.md): the API (3-10 pods, HPA), MongoDB and Redis, Prometheus, the Redis exporter,
 * Grafana and the nginx CDN in one namespace, behind three TLS Ingresses (api., cdn. and
 * monitoring.<domain>/grafana) with rate limits, CORS on the CDN and basic auth on Grafana.
 *
 * Network policies follow the design's six rules: the API takes traffic from the ingress controller
 * (and Prometheus' scrapes) and reaches MongoDB, Redis, DNS and HTTPS; MongoDB takes the API only;
 * Redis the API and the exporter; Grafana the ingress controller and reaches Prometheus; Prometheus
 * takes Grafana and reaches its targets (API, exporter) and the API server; the CDN takes the
 * ingress controller only. Nothing but DNS leaves MongoDB, Redis or the CDN.
 *
 * The design's deployment order (data -> monitoring -> visualisation -> CDN -> API) is expressed
 * with dependsOn between the stages' component resources (`deploymentOrder`).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ContainerSpec, httpProbe, secretEnv, validateContainer } from "../k8s/container";
import { AppIdentity, PART_OF, selectorLabels } from "../k8s/labels";
import { NamespaceBaseline } from "../k8s/namespace";
import { Peer, TrafficRule } from "../k8s/traffic";
import { imageTag, requireDnsLabel } from "../k8s/validation";
import { AutoscalingSpec, validateAutoscaling, Workload } from "../k8s/workload";
import { Database } from "../database/database";
import { ENGINES, SECRET_KEYS } from "../database/engines";
import { CdnNginx, CdnNginxArgs, CDN_SERVICE_PORT, validateCdnNginx } from "../edge/cdn";
import { IngressRoutes, IngressRoutesArgs, validateIngressRoutes } from "../edge/ingress";
import { AlertRuleGroup } from "../observability/alerts";
import { observabilityPeer } from "../observability/common";
import { DASHBOARDS } from "../observability/dashboards";
import { Grafana, GrafanaArgs, GRAFANA_PORT, validateGrafanaArgs } from "../observability/grafana";
import { Prometheus, PrometheusArgs, PROMETHEUS_PORT, validatePrometheusArgs } from "../observability/prometheus";
import { RedisExporter, RedisExporterArgs, REDIS_EXPORTER_PORT, validateRedisExporterArgs } from "../observability/redisExporter";
import { CStoreSpec, dataStoreSpecs, MAX_API_REPLICAS, ResolvedCStoreSpec, validateCStoreSpec } from "./cstore-spec";

export * from "./cstore-spec";

/** app.kubernetes.io/part-of of every CStore workload: the traffic plan's cstore rules match on it. */
export const CSTORE_PART_OF = PART_OF.cstore;
/** The roles (app.kubernetes.io/name / component) the traffic plan's cstore rules recognise. */
export const CSTORE_API_APP = "cstore-api";
export const CSTORE_API_COMPONENT = "api";

/**
 * The API's HPA behaviour (cstore.md "Scaling Strategy"): scale up after 1 minute by 100% or 2 pods
 * per 30s, whichever is more; scale down by 50% per 60s after a 5-minute stabilisation window.
 */
export const API_HPA_BEHAVIOR: k8s.types.input.autoscaling.v2.HorizontalPodAutoscalerBehavior = {
    scaleUp: {
        stabilizationWindowSeconds: 60,
        selectPolicy: "Max",
        policies: [
            { type: "Percent", value: 100, periodSeconds: 30 },
            { type: "Pods", value: 2, periodSeconds: 30 },
        ],
    },
    scaleDown: {
        stabilizationWindowSeconds: 300,
        selectPolicy: "Max",
        policies: [{ type: "Percent", value: 50, periodSeconds: 60 }],
    },
};

/** Rolling updates of the API (cstore.md "Deployment Strategy"). */
export const API_ROLLING_UPDATE = { maxSurge: "25%", maxUnavailable: "25%" };
export const API_TERMINATION_GRACE_SECONDS = 30;

/** Grafana's pre-configured dashboards (cstore.md): Application, Redis, Performance. */
export const CSTORE_DASHBOARD_UIDS = ["platform-application", "platform-redis", "platform-resources"];

/** Alerts from the design's performance characteristics: p95 < 200ms, cache hit rate > 80%, Redis up. */
export const CSTORE_ALERTS: AlertRuleGroup = {
    name: "cstore",
    rules: [
        {
            alert: "CStoreApiHighLatency",
            expr: `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job="${CSTORE_API_APP}"}[5m]))) > 0.2`,
            for: "10m",
            severity: "warning",
            summary: "CStore API p95 latency above 200ms",
            description: "The 95th percentile of the API's response time is {{ $value | humanizeDuration }} (design target: below 200ms).",
        },
        {
            alert: "CStoreCacheHitRateLow",
            expr: "sum(rate(redis_keyspace_hits_total[5m])) / (sum(rate(redis_keyspace_hits_total[5m])) + sum(rate(redis_keyspace_misses_total[5m]))) < 0.8",
            for: "15m",
            severity: "warning",
            summary: "Redis cache hit rate below 80%",
            description: "The Redis cache hit rate is {{ $value | humanizePercentage }} (design target: above 80%).",
        },
        {
            alert: "CStoreRedisDown",
            expr: "redis_up == 0",
            for: "2m",
            severity: "critical",
            summary: "Redis is down",
            description: "The Redis exporter cannot reach Redis ({{ $labels.instance }}): the API runs without its cache.",
        },
    ],
};

export interface CStoreArgs extends CStoreSpec {
    /** Keep data-bearing workloads and claims through `pulumi destroy` (prod). */
    protect?: boolean;
}

export type DeploymentStageName = "data" | "monitoring" | "visualisation" | "cdn" | "api";

export interface DeploymentStage {
    stage: DeploymentStageName;
    /** Logical names of the stage's component resources. */
    components: string[];
    resources: pulumi.Resource[];
}

export class CStore extends pulumi.ComponentResource {
    /** The validated spec with the design's defaults applied. */
    public readonly spec: ResolvedCStoreSpec;
    /** cstore.md "Deployment Strategy": each stage dependsOn every resource of the stage before it. */
    public readonly deploymentOrder: DeploymentStage[];
    public readonly namespace: pulumi.Output<string>;
    public readonly hosts: pulumi.Output<Record<string, string>>;
    public readonly apiUrl: pulumi.Output<string>;
    public readonly cdnUrl: pulumi.Output<string>;
    public readonly grafanaUrl: pulumi.Output<string>;
    public readonly apiServiceName: pulumi.Output<string>;
    /** In-cluster DNS name of the API Service. */
    public readonly apiHost: pulumi.Output<string>;
    public readonly mongodbHost: pulumi.Output<string>;
    public readonly mongodbSecretName: pulumi.Output<string>;
    /** Secret output. */
    public readonly mongodbConnectionUrl: pulumi.Output<string>;
    public readonly redisHost: pulumi.Output<string>;
    public readonly redisSecretName: pulumi.Output<string>;
    public readonly prometheusUrl: pulumi.Output<string>;
    public readonly grafanaAdminSecretName: pulumi.Output<string>;
    public readonly grafanaBasicAuthSecretName: pulumi.Output<string>;
    public readonly grafanaBasicAuthUser: pulumi.Output<string>;
    /** Secret output. */
    public readonly grafanaBasicAuthPassword: pulumi.Output<string>;

    public readonly baseline: NamespaceBaseline;
    public readonly mongodb: Database;
    public readonly redis: Database;
    public readonly prometheus: Prometheus;
    public readonly redisExporter: RedisExporter;
    public readonly grafana: Grafana;
    public readonly cdn: CdnNginx;
    public readonly api: Workload;
    public readonly ingress: IngressRoutes;

    constructor(name: string, args: CStoreArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validate everything before registering anything: bad input never leaves a half-built system.
        const key = `CStore(${name})`;
        requireDnsLabel(`${key}.name`, name, 24);
        const { protect, ...raw } = args;
        const spec = validateCStoreSpec(key, raw);
        const n = {
            namespace: `${name}-namespace`, mongodb: `${name}-mongodb`, redis: `${name}-redis`, prometheus: `${name}-prometheus`,
            redisExporter: `${name}-redis-exporter`, grafana: `${name}-grafana`, cdn: `${name}-cdn`, api: `${name}-api`, ingress: `${name}-ingress`,
        };
        const partOf = CSTORE_PART_OF;
        const data = dataStoreSpecs(spec);
        const apiIdentity: AppIdentity = {
            name: n.api, app: CSTORE_API_APP, component: CSTORE_API_COMPONENT, partOf, version: imageTag(spec.api.image),
        };
        const autoscaling: AutoscalingSpec = {
            minReplicas: spec.api.minReplicas,
            maxReplicas: spec.api.maxReplicas,
            targetCPUUtilizationPercentage: spec.api.targetCPUUtilizationPercentage,
            targetMemoryUtilizationPercentage: spec.api.targetMemoryUtilizationPercentage,
            behavior: API_HPA_BEHAVIOR,
        };
        const hostOf = (sub: string) => `${sub}.${spec.domain}`;
        const grafanaRootUrl = `https://${hostOf("monitoring")}${spec.grafana.path}`;

        // Sibling outputs are not known yet: the children's args are checked with placeholders.
        const later = pulumi.output("");
        const placeholderPeer: Peer = { kind: "pods", namespace: spec.namespace, selector: {} };
        const build = {
            prometheus: (ns: pulumi.Input<string>, peers: Peers): PrometheusArgs => ({
                namespace: ns, partOf,
                image: spec.prometheus.image,
                resources: spec.prometheus.resources,
                storage: { size: spec.prometheus.storage.size, storageClass: spec.storageClass },
                retention: spec.prometheus.retention,
                scrapeInterval: spec.prometheus.scrapeInterval,
                scrapeTargets: [
                    { peer: peers.api, ports: [{ port: spec.api.port }] },
                    { peer: peers.redisExporter, ports: [{ port: REDIS_EXPORTER_PORT }] },
                ],
                scrapeNamespaces: [spec.namespace],
                apiServer: spec.apiServer,
                clients: [peers.grafana],
                alertGroups: [CSTORE_ALERTS],
                protect,
            }),
            redisExporter: (ns: pulumi.Input<string>, peers: Peers, redis: { peer: Peer; host: pulumi.Input<string>; secretName: pulumi.Input<string> }): RedisExporterArgs => ({
                namespace: ns, partOf,
                image: spec.redisExporter.image,
                resources: spec.redisExporter.resources,
                redis: { ...redis, port: ENGINES.redis.clientPort, passwordKey: SECRET_KEYS.password },
                scrapers: [peers.prometheus],
            }),
            grafana: (ns: pulumi.Input<string>, peers: Peers, prometheusUrl: pulumi.Input<string>): GrafanaArgs => ({
                namespace: ns, partOf,
                image: spec.grafana.image,
                resources: spec.grafana.resources,
                storage: { size: spec.grafana.storage.size, storageClass: spec.storageClass },
                prometheus: { peer: peers.prometheus, url: prometheusUrl, port: PROMETHEUS_PORT },
                ingressFrom: [peers.ingress],
                dashboards: DASHBOARDS.filter(d => CSTORE_DASHBOARD_UIDS.includes(d.uid)),
                rootUrl: grafanaRootUrl,
                protect,
            }),
            cdn: (ns: pulumi.Input<string>): CdnNginxArgs => ({
                namespace: ns, partOf,
                corsAllowOrigins: spec.cdn.corsAllowOrigins,
                ingressNamespace: spec.ingressNamespace,
                replicas: spec.cdn.replicas,
                image: spec.cdn.image,
                resources: spec.cdn.resources,
                storage: { size: spec.cdn.storage.size, storageClass: spec.storageClass },
                protect,
            }),
            ingress: (ns: pulumi.Input<string>, services: { api: pulumi.Input<string>; cdn: pulumi.Input<string>; grafana: pulumi.Input<string> }): IngressRoutesArgs => ({
                domain: spec.domain,
                clusterIssuer: spec.clusterIssuer,
                ingressClassName: spec.ingressClassName,
                skipAwait: spec.skipAwait,
                partOf,
                api: { namespace: ns, serviceName: services.api, servicePort: spec.api.port, rateLimit: spec.api.rateLimit },
                cdn: { namespace: ns, serviceName: services.cdn, servicePort: CDN_SERVICE_PORT, corsAllowOrigins: spec.cdn.corsAllowOrigins, rateLimit: spec.cdn.rateLimit },
                grafana: {
                    namespace: ns, serviceName: services.grafana, servicePort: GRAFANA_PORT, path: spec.grafana.path,
                    username: spec.grafana.basicAuthUser, rateLimit: spec.grafana.rateLimit,
                },
            }),
            apiContainer: (db: { mongodbHost: pulumi.Input<string>; mongodbSecret: pulumi.Input<string>; redisHost: pulumi.Input<string>; redisSecret: pulumi.Input<string> }): ContainerSpec => ({
                name: "api",
                image: spec.api.image,
                ports: [{ name: "http", containerPort: spec.api.port }],
                env: [
                    { name: "PORT", value: String(spec.api.port) },
                    { name: "MONGODB_HOST", value: db.mongodbHost },
                    { name: "MONGODB_PORT", value: String(ENGINES.mongodb.clientPort) },
                    { name: "MONGODB_DATABASE", value: spec.mongodb.databaseName },
                    { name: "MONGODB_AUTH_SOURCE", value: "admin" },
                    secretEnv("MONGODB_USERNAME", db.mongodbSecret, SECRET_KEYS.username),
                    secretEnv("MONGODB_PASSWORD", db.mongodbSecret, SECRET_KEYS.password),
                    { name: "REDIS_HOST", value: db.redisHost },
                    { name: "REDIS_PORT", value: String(ENGINES.redis.clientPort) },
                    secretEnv("REDIS_PASSWORD", db.redisSecret, SECRET_KEYS.password),
                    ...Object.keys(spec.api.env).sort().map(k => ({ name: k, value: spec.api.env[k] })),
                ],
                resources: spec.api.resources,
                livenessProbe: httpProbe(spec.api.healthPath, spec.api.port, { initialDelaySeconds: 30 }),
                readinessProbe: httpProbe(spec.api.healthPath, spec.api.port, { initialDelaySeconds: 10, periodSeconds: 5 }),
            }),
        };
        const placeholders: Peers = {
            api: placeholderPeer, redisExporter: placeholderPeer, prometheus: placeholderPeer, grafana: placeholderPeer,
            ingress: { kind: "namespace", namespace: spec.ingressNamespace },
        };
        validatePrometheusArgs(`Prometheus(${n.prometheus})`, build.prometheus(spec.namespace, placeholders));
        validateRedisExporterArgs(`RedisExporter(${n.redisExporter})`,
            build.redisExporter(spec.namespace, placeholders, { peer: placeholderPeer, host: later, secretName: later }));
        validateGrafanaArgs(`Grafana(${n.grafana})`, build.grafana(spec.namespace, placeholders, later));
        validateCdnNginx(`CdnNginx(${n.cdn})`, build.cdn(spec.namespace));
        validateIngressRoutes(`IngressRoutes(${n.ingress})`, build.ingress(spec.namespace, { api: later, cdn: later, grafana: later }));
        validateContainer(build.apiContainer({ mongodbHost: later, mongodbSecret: later, redisHost: later, redisSecret: later }), `Workload(${n.api}).containers[0]`);
        validateAutoscaling(`Workload(${n.api}).autoscaling`, autoscaling, MAX_API_REPLICAS);

        super("platform:systems:CStore", name, {}, opts);
        this.spec = spec;
        const child = { parent: this };
        const after = (stage: pulumi.Resource[]): pulumi.ComponentResourceOptions => ({ parent: this, dependsOn: stage });

        this.baseline = new NamespaceBaseline(n.namespace, {
            name: spec.namespace, quota: spec.quota, limits: spec.limits, labels: { "app.kubernetes.io/part-of": partOf },
            holdsProtectedData: args.protect,
        }, child);
        const ns = this.baseline.name;
        // Peers from names: known before the workloads exist, so each side's policy names the other.
        const peers: Peers = {
            api: { kind: "pods", namespace: ns, selector: selectorLabels(apiIdentity) },
            redisExporter: observabilityPeer(n.redisExporter, ns, partOf),
            prometheus: observabilityPeer(n.prometheus, ns, partOf),
            grafana: observabilityPeer(n.grafana, ns, partOf),
            ingress: { kind: "namespace", namespace: spec.ingressNamespace },
        };

        // 1. Data layer: MongoDB (API only), Redis (API and the exporter).
        this.mongodb = new Database(n.mongodb, { ...data.mongodb, namespace: ns, clients: [peers.api], partOf, protect }, child);
        this.redis = new Database(n.redis, { ...data.redis, namespace: ns, clients: [peers.api, peers.redisExporter], partOf, protect }, child);
        const dataStage = [this.mongodb, this.redis];

        // 2. Monitoring: Prometheus (scrapes the API and the exporter), the Redis exporter.
        this.prometheus = new Prometheus(n.prometheus, build.prometheus(ns, peers), after(dataStage));
        this.redisExporter = new RedisExporter(n.redisExporter, build.redisExporter(ns, peers, {
            peer: this.redis.peer, host: this.redis.host, secretName: this.redis.secretName,
        }), after(dataStage));
        const monitoringStage = [this.prometheus, this.redisExporter];

        // 3. Visualisation: Grafana on Prometheus.
        this.grafana = new Grafana(n.grafana, build.grafana(ns, peers, this.prometheus.url), after(monitoringStage));
        const visualisationStage = [this.grafana];

        // 4. CDN.
        this.cdn = new CdnNginx(n.cdn, build.cdn(ns), after(visualisationStage));
        const cdnStage = [this.cdn];

        // 5. Application: the API with its HPA.
        const apiIngress: TrafficRule[] = [
            { peer: peers.ingress, ports: [{ port: spec.api.port }] },
            // Prometheus scrapes the metrics on the same port (cstore.md "Metrics").
            { peer: peers.prometheus, ports: [{ port: spec.api.port }] },
        ];
        const apiEgress: TrafficRule[] = [
            { peer: this.mongodb.peer, ports: [{ port: ENGINES.mongodb.clientPort }] },
            { peer: this.redis.peer, ports: [{ port: ENGINES.redis.clientPort }] },
            ...spec.api.httpsEgressCidrs.map(cidr => ({ peer: { kind: "cidr" as const, cidr }, ports: [{ port: 443 }] })),
        ];
        this.api = new Workload(n.api, {
            namespace: ns,
            identity: apiIdentity,
            kind: "Deployment",
            replicas: spec.api.minReplicas,
            containers: [build.apiContainer({
                mongodbHost: this.mongodb.host, mongodbSecret: this.mongodb.secretName,
                redisHost: this.redis.host, redisSecret: this.redis.secretName,
            })],
            podAnnotations: {
                "prometheus.io/scrape": "true",
                "prometheus.io/port": String(spec.api.port),
                "prometheus.io/path": spec.api.metricsPath,
            },
            servicePorts: [{ name: "http", port: spec.api.port }],
            autoscaling,
            traffic: { ingress: apiIngress, egress: apiEgress },
            rollingUpdate: API_ROLLING_UPDATE,
            terminationGracePeriodSeconds: API_TERMINATION_GRACE_SECONDS,
        }, after(cdnStage));

        this.deploymentOrder = [
            { stage: "data", components: [n.mongodb, n.redis], resources: dataStage },
            { stage: "monitoring", components: [n.prometheus, n.redisExporter], resources: monitoringStage },
            { stage: "visualisation", components: [n.grafana], resources: visualisationStage },
            { stage: "cdn", components: [n.cdn], resources: cdnStage },
            { stage: "api", components: [n.api], resources: [this.api] },
        ];

        // The edge: api., cdn. and monitoring.<domain>/grafana with TLS, rate limits, CORS and basic auth.
        this.apiServiceName = this.api.serviceName.apply(s => s ?? "");
        this.ingress = new IngressRoutes(n.ingress, build.ingress(ns, {
            api: this.apiServiceName, cdn: this.cdn.serviceName, grafana: this.grafana.serviceName,
        }), child);

        this.namespace = ns;
        this.hosts = this.ingress.hosts;
        this.apiUrl = this.ingress.urls.apply(u => u.api);
        this.cdnUrl = this.ingress.urls.apply(u => u.cdn);
        this.grafanaUrl = this.ingress.urls.apply(u => u.grafana);
        this.apiHost = this.api.host.apply(h => h ?? "");
        this.mongodbHost = this.mongodb.host;
        this.mongodbSecretName = this.mongodb.secretName;
        this.mongodbConnectionUrl = this.mongodb.connectionUrl;
        this.redisHost = this.redis.host;
        this.redisSecretName = this.redis.secretName;
        this.prometheusUrl = this.prometheus.url;
        this.grafanaAdminSecretName = this.grafana.adminSecretName;
        this.grafanaBasicAuthSecretName = this.ingress.grafanaAuthSecretName.apply(s => s ?? "");
        this.grafanaBasicAuthUser = this.ingress.grafanaUsername.apply(u => u ?? "");
        this.grafanaBasicAuthPassword = pulumi.secret(this.ingress.grafanaPassword.apply(p => p ?? ""));
        this.registerOutputs({
            namespace: this.namespace, hosts: this.hosts, apiUrl: this.apiUrl, cdnUrl: this.cdnUrl, grafanaUrl: this.grafanaUrl,
            apiServiceName: this.apiServiceName, apiHost: this.apiHost, mongodbHost: this.mongodbHost,
            mongodbSecretName: this.mongodbSecretName, mongodbConnectionUrl: this.mongodbConnectionUrl, redisHost: this.redisHost,
            redisSecretName: this.redisSecretName, prometheusUrl: this.prometheusUrl, grafanaAdminSecretName: this.grafanaAdminSecretName,
            grafanaBasicAuthSecretName: this.grafanaBasicAuthSecretName, grafanaBasicAuthUser: this.grafanaBasicAuthUser,
            grafanaBasicAuthPassword: this.grafanaBasicAuthPassword,
        });
    }
}

interface Peers {
    api: Peer;
    redisExporter: Peer;
    prometheus: Peer;
    grafana: Peer;
    ingress: Peer;
}
