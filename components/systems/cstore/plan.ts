/**
 * The plan of a CStore (cstore.md): what each child gets, computed from the resolved spec alone. Pure:
 * no resource is created here. Values that only exist once a sibling is registered (its host, Secret
 * or Service name, Prometheus' URL) are parameters of the builders, so the constructor passes the
 * siblings' outputs and nothing is ever built with a placeholder.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { backupPeer } from "../../backup/backup";
import { ContainerSpec, httpProbe, secretEnv, livenessTcp } from "../../k8s/container";
import { AppIdentity, PART_OF, selectorLabels } from "../../k8s/labels";
import { NamespaceBaselineArgs } from "../../k8s/namespace";
import { Peer, TrafficRule } from "../../k8s/traffic";
import { Checked, checked, imageTag } from "../../k8s/validation";
import { AutoscalingSpec, WorkloadArgs } from "../../k8s/workload";
import { DatabaseArgs } from "../../database/database";
import { ENGINES, SECRET_KEYS } from "../../database/engines";
import { CdnNginxArgs, CDN_SERVICE_PORT } from "../../edge/cdn";
import { IngressRoutesArgs } from "../../edge/ingress";
import { AlertRuleGroup, KUBERNETES_ALERTS } from "../../observability/alerts";
import { PLATFORM_PRODUCERS, Producer, selectAlertGroups, selectDashboards } from "../../observability/catalogue";
import { observabilityPeer } from "../../observability/common";
import { DASHBOARDS } from "../../observability/dashboards";
import { GrafanaArgs, GRAFANA_PORT } from "../../observability/grafana";
import { KubeStateMetricsArgs, KUBE_STATE_METRICS_PORT } from "../../observability/kubeStateMetrics";
import { PrometheusArgs, PROMETHEUS_PORT } from "../../observability/prometheus";
import { RedisExporterArgs, REDIS_EXPORTER_PORT } from "../../observability/redisExporter";
import { dataStoreSpecs, ResolvedCStoreSpec } from "./spec";
import { scrapeAnnotations } from "../../k8s/metadata";

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

/** What exports to CStore's Prometheus (catalogue.ts): the platform's exporters, the Redis exporter and the API. */
export const CSTORE_PRODUCERS: readonly Producer[] = [...PLATFORM_PRODUCERS, "redis-exporter", CSTORE_API_APP];

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

/** The pods of each part as traffic peers, known from names before the workloads exist. */
export interface CStorePeers {
    api: Peer;
    redisExporter: Peer;
    kubeStateMetrics: Peer;
    prometheus: Peer;
    grafana: Peer;
    ingress: Peer;
}

/** What the API and the exporter need of a data store once it exists. */
export interface DataStoreWiring {
    peer: Peer;
    host: pulumi.Input<string>;
    secretName: pulumi.Input<string>;
}

/** The children of a CStore named `name`, as functions of the namespace and the siblings they are wired to. */
export interface CStorePlan {
    names: {
        namespace: string; mongodb: string; redis: string; prometheus: string; redisExporter: string; kubeStateMetrics: string;
        grafana: string; cdn: string; api: string; ingress: string; mongodbBackup: string; redisBackup: string;
    };
    /** The namespace, quota and LimitRange as the system's spec checked them. */
    baseline: Checked<NamespaceBaselineArgs>;
    peers(ns: pulumi.Input<string>): CStorePeers;
    /** Checked by resolveCStoreSpec with the Database's own rules (cstore.mongodb, cstore.redis). */
    mongodb(ns: pulumi.Input<string>, peers: CStorePeers): Checked<DatabaseArgs>;
    redis(ns: pulumi.Input<string>, peers: CStorePeers): Checked<DatabaseArgs>;
    kubeStateMetrics(ns: pulumi.Input<string>, peers: CStorePeers): KubeStateMetricsArgs;
    prometheus(ns: pulumi.Input<string>, peers: CStorePeers, kubeStateMetricsTarget: pulumi.Input<string>): PrometheusArgs;
    redisExporter(ns: pulumi.Input<string>, peers: CStorePeers, redis: DataStoreWiring): RedisExporterArgs;
    grafana(ns: pulumi.Input<string>, peers: CStorePeers, prometheusUrl: pulumi.Input<string>): GrafanaArgs;
    cdn(ns: pulumi.Input<string>): CdnNginxArgs;
    api(ns: pulumi.Input<string>, peers: CStorePeers, data: { mongodb: DataStoreWiring; redis: DataStoreWiring }): WorkloadArgs;
    ingress(ns: pulumi.Input<string>, services: { api: pulumi.Input<string>; cdn: pulumi.Input<string>; grafana: pulumi.Input<string> }): Checked<IngressRoutesArgs>;
}

export function planCStore(name: string, spec: ResolvedCStoreSpec, protect?: boolean): CStorePlan {
    const names = {
        namespace: `${name}-namespace`, mongodb: `${name}-mongodb`, redis: `${name}-redis`, prometheus: `${name}-prometheus`,
        redisExporter: `${name}-redis-exporter`, kubeStateMetrics: `${name}-kube-state-metrics`, grafana: `${name}-grafana`, cdn: `${name}-cdn`, api: `${name}-api`, ingress: `${name}-ingress`,
        mongodbBackup: `${name}-mongodb-backup`, redisBackup: `${name}-redis-backup`,
    };
    const partOf = CSTORE_PART_OF;
    const data = dataStoreSpecs(spec);
    const apiIdentity: AppIdentity = {
        name: names.api, app: CSTORE_API_APP, component: CSTORE_API_COMPONENT, partOf, version: imageTag(spec.api.image),
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
    const apiContainer = (db: { mongodb: DataStoreWiring; redis: DataStoreWiring }): ContainerSpec => ({
        name: "api",
        image: spec.api.image,
        ports: [{ name: "http", containerPort: spec.api.port }],
        env: [
            { name: "PORT", value: String(spec.api.port) },
            { name: "MONGODB_HOST", value: db.mongodb.host },
            { name: "MONGODB_PORT", value: String(ENGINES.mongodb.clientPort) },
            { name: "MONGODB_DATABASE", value: spec.mongodb.databaseName },
            { name: "MONGODB_AUTH_SOURCE", value: "admin" },
            secretEnv("MONGODB_USERNAME", db.mongodb.secretName, SECRET_KEYS.username),
            secretEnv("MONGODB_PASSWORD", db.mongodb.secretName, SECRET_KEYS.password),
            { name: "REDIS_HOST", value: db.redis.host },
            { name: "REDIS_PORT", value: String(ENGINES.redis.clientPort) },
            secretEnv("REDIS_PASSWORD", db.redis.secretName, SECRET_KEYS.password),
            ...Object.keys(spec.api.env).sort().map(k => ({ name: k, value: spec.api.env[k] })),
        ],
        resources: spec.api.resources,
        livenessProbe: livenessTcp(spec.api.port, { initialDelaySeconds: 30 }),
        readinessProbe: httpProbe(spec.api.healthPath, spec.api.port, { initialDelaySeconds: 10, periodSeconds: 5 }),
    });
    return {
        names,
        baseline: checked({
            name: spec.namespace, quota: spec.quota, limits: spec.limits, labels: { "app.kubernetes.io/part-of": partOf },
            holdsProtectedData: protect,
        }),
        peers: ns => ({
            api: { kind: "pods", namespace: ns, selector: selectorLabels(apiIdentity) },
            redisExporter: observabilityPeer(names.redisExporter, ns, partOf),
            kubeStateMetrics: observabilityPeer(names.kubeStateMetrics, ns, partOf),
            prometheus: observabilityPeer(names.prometheus, ns, partOf),
            grafana: observabilityPeer(names.grafana, ns, partOf),
            ingress: { kind: "namespace", namespace: spec.ingressNamespace },
        }),
        // MongoDB serves the API only (and, with backups on, its backup and restore Jobs); Redis the API and the exporter.
        mongodb: (ns, peers) => checked({
            ...data.mongodb, namespace: ns, partOf, protect,
            clients: [peers.api, ...(spec.backups ? [backupPeer(names.mongodbBackup, ns, partOf)] : [])],
        }),
        redis: (ns, peers) => checked({
            ...data.redis, namespace: ns, partOf, protect,
            clients: [peers.api, peers.redisExporter, ...(spec.backups ? [backupPeer(names.redisBackup, ns, partOf)] : [])],
        }),
        kubeStateMetrics: (ns, peers) => ({
            namespace: ns, partOf, namespaces: [spec.namespace], apiServer: spec.apiServer, scrapers: [peers.prometheus],
        }),
        prometheus: (ns, peers, kubeStateMetricsTarget) => ({
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
            kubeStateMetrics: { peer: peers.kubeStateMetrics, target: kubeStateMetricsTarget, port: KUBE_STATE_METRICS_PORT },
            scrapeNamespaces: [spec.namespace],
            apiServer: spec.apiServer,
            clients: [peers.grafana],
            alertGroups: selectAlertGroups([CSTORE_ALERTS, KUBERNETES_ALERTS], CSTORE_PRODUCERS),
            protect,
        }),
        redisExporter: (ns, peers, redis) => ({
            namespace: ns, partOf,
            image: spec.redisExporter.image,
            resources: spec.redisExporter.resources,
            redis: { ...redis, port: ENGINES.redis.clientPort, passwordKey: SECRET_KEYS.password },
            scrapers: [peers.prometheus],
        }),
        grafana: (ns, peers, prometheusUrl) => ({
            namespace: ns, partOf,
            image: spec.grafana.image,
            resources: spec.grafana.resources,
            storage: { size: spec.grafana.storage.size, storageClass: spec.storageClass },
            prometheus: { peer: peers.prometheus, url: prometheusUrl, port: PROMETHEUS_PORT },
            ingressFrom: [peers.ingress],
            dashboards: selectDashboards(DASHBOARDS.filter(d => CSTORE_DASHBOARD_UIDS.includes(d.uid)), CSTORE_PRODUCERS),
            rootUrl: grafanaRootUrl,
            protect,
        }),
        cdn: ns => ({
            namespace: ns, partOf,
            corsAllowOrigins: spec.cdn.corsAllowOrigins,
            ingressNamespace: spec.ingressNamespace,
            replicas: spec.cdn.replicas,
            image: spec.cdn.image,
            resources: spec.cdn.resources,
            storage: { size: spec.cdn.storage.size, storageClass: spec.storageClass },
            protect,
        }),
        api: (ns, peers, db) => {
            const ingress: TrafficRule[] = [
                { peer: peers.ingress, ports: [{ port: spec.api.port }] },
                // Prometheus scrapes the metrics on the same port (cstore.md "Metrics").
                { peer: peers.prometheus, ports: [{ port: spec.api.port }] },
            ];
            const egress: TrafficRule[] = [
                { peer: db.mongodb.peer, ports: [{ port: ENGINES.mongodb.clientPort }] },
                { peer: db.redis.peer, ports: [{ port: ENGINES.redis.clientPort }] },
                ...spec.api.httpsEgressCidrs.map(cidr => ({ peer: { kind: "cidr" as const, cidr }, ports: [{ port: 443 }] })),
            ];
            return {
                namespace: ns,
                identity: apiIdentity,
                kind: "Deployment",
                replicas: spec.api.minReplicas,
                containers: [apiContainer(db)],
                podAnnotations: scrapeAnnotations(spec.api.port, spec.api.metricsPath),
                servicePorts: [{ name: "http", port: spec.api.port }],
                autoscaling,
                traffic: { ingress, egress },
                rollingUpdate: API_ROLLING_UPDATE,
                terminationGracePeriodSeconds: API_TERMINATION_GRACE_SECONDS,
            };
        },
        // Checked by validateCStoreSpec (domain, issuer, class, rate limits, CORS, Grafana path and user).
        ingress: (ns, services) => checked({
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
    };
}
