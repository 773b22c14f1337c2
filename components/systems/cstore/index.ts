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
import * as pulumi from "@pulumi/pulumi";
import { DatabaseBackup, planBackupFlow } from "../../backup/backup";
import { ENGINES } from "../../database/engines";
import { NamespaceBaseline } from "../../k8s/namespace";
import { TrafficPlan } from "../../k8s/traffic";
import { checked, requireDnsLabel } from "../../k8s/validation";
import { Workload } from "../../k8s/workload";
import { Database } from "../../database/database";
import { CdnNginx } from "../../edge/cdn";
import { IngressRoutes } from "../../edge/ingress";
import { Grafana } from "../../observability/grafana";
import { KubeStateMetrics } from "../../observability/kubeStateMetrics";
import { Prometheus } from "../../observability/prometheus";
import { AlertmanagerTarget } from "../../observability/alerting";
import { RedisExporter } from "../../observability/redisExporter";
import { CSTORE_PART_OF, planCStore } from "./plan";
import { ResolvedCStoreSpec } from "./spec";

export * from "./spec";
export * from "./plan";

export interface CStoreArgs {
    /** The resolved spec (validateCStoreSpec): every default applied, every value checked. */
    spec: ResolvedCStoreSpec;
    /** Keep data-bearing workloads and claims through `pulumi destroy` (prod). */
    protect?: boolean;
    /** The stack's Alertmanager: Prometheus sends its alerts there. */
    alertmanager?: AlertmanagerTarget;
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
    public readonly kubeStateMetrics: KubeStateMetrics;
    public readonly grafana: Grafana;
    public readonly cdn: CdnNginx;
    public readonly api: Workload;
    public readonly ingress: IngressRoutes;
    /** The backup flows (backup pods -> MongoDB, -> Redis), with `backups` on. */
    public readonly backupTraffic = new TrafficPlan();
    /** MongoDB's dump CronJob (and its restore template), with `backups` on. */
    public readonly mongodbBackup?: DatabaseBackup;
    /** Redis' RDB snapshot CronJob (and its restore template), with `backups` on. */
    public readonly redisBackup?: DatabaseBackup;

    constructor(name: string, args: CStoreArgs, opts?: pulumi.ComponentResourceOptions) {
        requireDnsLabel(`CStore(${name}).name`, name, 24);
        const spec = args.spec;
        const plan = planCStore(name, spec, args.protect);
        const n = plan.names;
        super("platform:systems:CStore", name, {}, opts);
        this.spec = spec;
        const child = { parent: this };
        const after = (stage: pulumi.Resource[]): pulumi.ComponentResourceOptions => ({ parent: this, dependsOn: stage });

        this.baseline = new NamespaceBaseline(n.namespace, plan.baseline, child);
        const ns = this.baseline.name;
        const peers = plan.peers(ns);

        // 1. Data layer: MongoDB, Redis.
        this.mongodb = new Database(n.mongodb, plan.mongodb(ns, peers), child);
        this.redis = new Database(n.redis, plan.redis(ns, peers), child);
        const dataStage = [this.mongodb, this.redis];
        if (spec.backups) {
            const b = spec.backups;
            const backup = (backupName: string, storeName: string, store: Database, engine: "mongodb" | "redis", databaseName: string) => {
                const port = ENGINES[engine].clientPort;
                const ep = planBackupFlow(this.backupTraffic, backupName, ns, CSTORE_PART_OF, { id: `${CSTORE_PART_OF}/${storeName}`, peer: store.peer }, [{ port }]);
                // The policy was checked once, as cstore.backups; the names are the system's own.
                return new DatabaseBackup(backupName, checked({
                    namespace: ns, engine, host: store.host, port, databaseName,
                    secretName: store.secretName, traffic: this.backupTraffic.rulesFor(ep),
                    schedule: b.schedule, retention: b.retention,
                    storage: { size: b.storageSize, storageClass: spec.storageClass },
                    partOf: CSTORE_PART_OF, protect: args.protect,
                }), after(dataStage));
            };
            this.mongodbBackup = backup(n.mongodbBackup, n.mongodb, this.mongodb, "mongodb", spec.mongodb.databaseName);
            this.redisBackup = backup(n.redisBackup, n.redis, this.redis, "redis", "redis");
        }
        const wiring = (db: Database) => ({ peer: db.peer, host: db.host, secretName: db.secretName });

        // 2. Monitoring: kube-state-metrics, Prometheus (scrapes the API, the exporters and the kubelet), the Redis exporter.
        this.kubeStateMetrics = new KubeStateMetrics(n.kubeStateMetrics, plan.kubeStateMetrics(ns, peers), after(dataStage));
        this.prometheus = new Prometheus(n.prometheus, { ...plan.prometheus(ns, peers, this.kubeStateMetrics.target), alertmanager: args.alertmanager }, after(dataStage));
        this.redisExporter = new RedisExporter(n.redisExporter, plan.redisExporter(ns, peers, wiring(this.redis)), after(dataStage));
        const monitoringStage = [this.prometheus, this.redisExporter, this.kubeStateMetrics];

        // 3. Visualisation: Grafana on Prometheus.
        this.grafana = new Grafana(n.grafana, plan.grafana(ns, peers, this.prometheus.url), after(monitoringStage));
        const visualisationStage = [this.grafana];

        // 4. CDN.
        this.cdn = new CdnNginx(n.cdn, plan.cdn(ns), after(visualisationStage));
        const cdnStage = [this.cdn];

        // 5. Application: the API with its HPA.
        this.api = new Workload(n.api, plan.api(ns, peers, { mongodb: wiring(this.mongodb), redis: wiring(this.redis) }), after(cdnStage));

        this.deploymentOrder = [
            { stage: "data", components: [n.mongodb, n.redis], resources: dataStage },
            { stage: "monitoring", components: [n.prometheus, n.redisExporter, n.kubeStateMetrics], resources: monitoringStage },
            { stage: "visualisation", components: [n.grafana], resources: visualisationStage },
            { stage: "cdn", components: [n.cdn], resources: cdnStage },
            { stage: "api", components: [n.api], resources: [this.api] },
        ];

        // The edge: api., cdn. and monitoring.<domain>/grafana with TLS, rate limits, CORS and basic auth.
        this.apiServiceName = this.api.serviceName.apply(s => s ?? "");
        this.ingress = new IngressRoutes(n.ingress, plan.ingress(ns, {
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
