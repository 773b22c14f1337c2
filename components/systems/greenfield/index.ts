/**
 * GreenfieldCluster: the system of greenfield-cluster.md in one namespace. Data layer (Redis master
 * + replicas, PostgreSQL, MySQL, MongoDB replica set), messaging (Kafka + ZooKeeper or KRaft, with
 * test-topic), observability (OTel collector -> Jaeger / Prometheus, Grafana), the FastAPI app
 * wired to all of them through their outputs, and, when the stack enables them, Istio (STRICT mTLS,
 * ingress gateway, blue/green or canary weights) and Sealed Secrets.
 *
 * Flows (the request, observability and event flows of the design, nothing else):
 *   ingress (Istio gateway, or the ingress controller with the mesh off) -> FastAPI
 *   FastAPI -> Redis, PostgreSQL, MySQL, MongoDB, Kafka; FastAPI -> OTel collector (OTLP)
 *   OTel collector -> Jaeger; Prometheus -> OTel collector's exporter and FastAPI's /metrics
 *   Grafana -> Prometheus, Jaeger; ingress -> Grafana (optional); data stores and Kafka/ZooKeeper
 *   among their own members; Prometheus and the Sealed Secrets controller -> the API server.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { backupPeer, DatabaseBackup, planBackupFlow } from "../../backup/backup";
import { Database } from "../../database/database";
import { grafanaBasicAuth, IngressRoutes } from "../../edge/ingress";
import { MeshEdge } from "../../mesh/edge";
import { sidecarSizing } from "../../mesh/sidecar";
import { ENGINES, REDIS_MASTER_NAME, SECRET_KEYS } from "../../database/engines";
import { secretEnv } from "../../k8s/container";
import { selectorLabels, standardLabels } from "../../k8s/labels";
import { OWNED_ANNOTATIONS } from "../../k8s/metadata";
import { NamespaceBaseline } from "../../k8s/namespace";
import { Endpoint, networkPolicySpec, Peer, TrafficPlan } from "../../k8s/traffic";
import { checked, imageTag, requireDnsLabel } from "../../k8s/validation";
import { Workload } from "../../k8s/workload";
import { IstioTraffic, MeshPolicy } from "../../mesh/istio";
import { KAFKA_PORTS, KafkaCluster } from "../../messaging/kafka";
import { KafkaTopics, KafkaTopicsArgs } from "../../messaging/topics";
import { OTEL_PORTS } from "../../observability/otel";
import { ObservabilityStack } from "../../observability/stack";
import { AlertmanagerTarget } from "../../observability/alerting";
import { SealedSecret, SealedSecretsController } from "../../secrets/sealed-secrets";
import { ISTIOD_XDS_PORT, planGreenfield, Track } from "./plan";
import { BACKUP_STORES, BackupStore, DATA_STORES, DataStore, DEFAULTS, GREENFIELD_PART_OF, ResolvedGreenfield } from "./spec";

import EnvVar = k8s.types.input.core.v1.EnvVar;

export * from "./spec";
export * from "./plan";

export interface GreenfieldClusterArgs {
    /** The resolved spec (resolveGreenfieldSpec): every default applied, every value checked. */
    spec: ResolvedGreenfield;
    /** The stack's Alertmanager: Prometheus sends its alerts there. */
    alertmanager?: AlertmanagerTarget;
}

export interface DataStoreOutputs {
    host: string;
    port: number;
    secretName: string;
}

export class GreenfieldCluster extends pulumi.ComponentResource {
    public readonly namespace: pulumi.Output<string>;
    /** In-cluster URL of the FastAPI app (the Service that selects every track). */
    public readonly fastapiUrl: pulumi.Output<string>;
    public readonly fastapiServiceName: pulumi.Output<string>;
    /** Replicas of the FastAPI tracks (HPA floor), by Deployment name. */
    public readonly fastapiReplicas: pulumi.Output<Record<string, number>>;
    /** host, port and credentials Secret of each data store. */
    public readonly dataStores: pulumi.Output<Record<DataStore, DataStoreOutputs>>;
    /** Connection URLs with the passwords: a secret output. */
    public readonly connectionUrls: pulumi.Output<Record<DataStore, string>>;
    public readonly kafkaBootstrapServers: pulumi.Output<string>;
    public readonly kafkaTopicNames: pulumi.Output<string[]>;
    public readonly otlpGrpcEndpoint: pulumi.Output<string>;
    public readonly prometheusUrl: pulumi.Output<string>;
    public readonly grafanaUrl: pulumi.Output<string>;
    public readonly grafanaAdminSecretName: pulumi.Output<string>;
    public readonly jaegerQueryUrl: pulumi.Output<string>;
    /** VirtualService weights (destination host -> percent) with the mesh on. */
    public readonly meshWeights: pulumi.Output<Record<string, number> | undefined>;
    public readonly gatewayRef: pulumi.Output<string | undefined>;
    public readonly sealedSecretsController: pulumi.Output<string | undefined>;
    public readonly sealedSecretNames: pulumi.Output<string[]>;
    /** The FastAPI traffic plan (for docs and tests). */
    public readonly trafficPlan: TrafficPlan;
    public readonly databases: Record<DataStore, Database>;
    public readonly kafka: KafkaCluster;
    public readonly topics: KafkaTopics;
    public readonly observability: ObservabilityStack;
    public readonly fastapi: Workload[];
    /** The ingress-nginx routes (mesh off). */
    public readonly edge?: IngressRoutes;
    /** The gateway routes' rate limits and Grafana basic auth (mesh on). */
    public readonly meshEdge?: MeshEdge;
    /** Grafana's basic-auth Secret and password (mesh on; the nginx path's are `edge`'s). */
    public readonly grafanaBasicAuthSecretName: pulumi.Output<string | undefined>;
    public readonly grafanaBasicAuthPassword: pulumi.Output<string | undefined>;
    /** External https URL of FastAPI (its ingress host, or the gateway's first host with the mesh on). */
    public readonly fastapiExternalUrl: pulumi.Output<string>;
    /** External https URL of Grafana, undefined without externalAccess. */
    public readonly grafanaExternalUrl: pulumi.Output<string | undefined>;
    /** The dump CronJobs (and their restore templates), with `backups` on. */
    public readonly backups: Partial<Record<BackupStore, DatabaseBackup>> = {};

    constructor(name: string, args: GreenfieldClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        requireDnsLabel(`GreenfieldCluster(${name}).name`, name, 20);
        const s = args.spec;
        const p = planGreenfield(name, s);
        const n = p.names;
        const partOf = GREENFIELD_PART_OF;
        const f = s.fastapi;
        const k = s.kafka;
        const mesh = s.mesh;
        const fastapiId = p.fastapiId;
        const { fastapi: fastapiPeer, external: externalPeer, prometheus: prometheusPeer, collector: collectorPeer } = p.peers;
        const tracks = p.tracks;
        const trackName = p.trackName;
        const probeContainer = p.fastapiContainer;

        // With the mesh on, every pod of the system carries the istio-proxy size the capacity check counted.
        super("platform:systems:GreenfieldCluster", name, {}, mesh
            ? { ...opts, transformations: [...(opts?.transformations ?? []), sidecarSizing(mesh.sidecarResources)] } : opts);
        const child = { parent: this };

        const baseline = new NamespaceBaseline(`${name}-namespace`, p.baseline, child);
        const namespace = baseline.name;
        this.namespace = namespace;

        // Data layer: only FastAPI connects (and, with backups on, the store's backup and restore Jobs);
        // members replicate among themselves.
        const backupPeers: Partial<Record<DataStore, Peer>> = {};
        if (s.backups) {
            for (const d of BACKUP_STORES) {
                backupPeers[d] = backupPeer(n.backups[d], namespace, partOf);
            }
        }
        this.databases = {} as Record<DataStore, Database>;
        for (const d of DATA_STORES) {
            const bp = backupPeers[d];
            // Checked by resolveGreenfieldSpec with the Database's own rules (greenfield.<store>).
            this.databases[d] = new Database(n[d], checked({
                ...p.databases[d], namespace, clients: [fastapiPeer, ...(d === "redis" ? [p.peers.redisExporter] : []), ...(bp ? [bp] : [])], partOf, protect: s.protectData,
            }), child);
        }
        const db = this.databases;

        // Messaging: brokers (and ZooKeeper), then test-topic through the explicit kafka provider.
        this.kafka = new KafkaCluster(n.kafka, p.kafka(namespace), child);
        // Checked by resolveGreenfieldSpec (greenfield.kafka.topics and its connection, the cluster's size).
        const topicArgs: KafkaTopicsArgs = {
            enabled: k.topics.enabled,
            // An explicit list (a broker outside the cluster), else the choice: in-cluster names or external addresses.
            bootstrapServers: k.topics.bootstrapServers
                ?? (k.topics.access === "external" ? this.kafka.externalBootstrapServerList.apply(l => l!) : this.kafka.bootstrapServerList),
            tls: k.topics.tls, sasl: k.topics.sasl, kafkaVersion: k.topics.kafkaVersion, timeoutSeconds: k.topics.timeoutSeconds,
            brokers: k.brokers, clusterMinInsyncReplicas: k.minInsyncReplicas, topics: p.topics, protect: s.protectData,
        };
        // Topics are created through the brokers: after the in-cluster ones are ready when the topics live
        // there; an explicit bootstrap list is a broker outside the cluster, which this cluster's pods do
        // not gate (no design orders them: docs/benchmarks.md "Breakdown", dependsOn chains).
        this.topics = new KafkaTopics(n.topics, checked(topicArgs), k.topics.bootstrapServers ? child : { ...child, dependsOn: [this.kafka] });

        // Observability: FastAPI -> collector -> Jaeger / Prometheus; Prometheus scrapes FastAPI; Grafana reads both.
        // With the mesh on and Grafana external: its basic-auth Secret, which Grafana's sidecar mounts.
        const meshGrafanaAuth = p.mesh?.grafanaBasicAuthUser !== undefined
            ? grafanaBasicAuth(n.meshEdge, namespace, p.mesh.grafanaBasicAuthUser, partOf, child) : undefined;
        this.grafanaBasicAuthSecretName = meshGrafanaAuth?.secretName ?? pulumi.output(undefined);
        this.grafanaBasicAuthPassword = meshGrafanaAuth?.password ?? pulumi.output(undefined);
        this.observability = new ObservabilityStack(n.observability, { ...p.observability(namespace, {
            peer: db.redis.peer, host: db.redis.host, port: ENGINES.redis.clientPort, secretName: db.redis.secretName, passwordKey: SECRET_KEYS.password,
        }), alertmanager: args.alertmanager }, child);
        const obs = this.observability;

        // FastAPI's flows: in from the ingress and Prometheus, out to every data store, Kafka and the collector.
        const fastapiEp: Endpoint = { id: `${partOf}/${n.fastapi}`, peer: fastapiPeer };
        const plan = new TrafficPlan();
        plan.allow({ id: "ingress", peer: externalPeer }, fastapiEp, [{ port: f.port }]);
        plan.allow({ id: `${partOf}/${n.prometheus}`, peer: prometheusPeer }, fastapiEp, [{ port: f.port }]);
        for (const d of DATA_STORES) {
            plan.allow(fastapiEp, { id: `${partOf}/${n[d]}`, peer: db[d].peer }, db[d].clientPorts);
        }
        plan.allow(fastapiEp, { id: `${partOf}/${n.kafka}`, peer: this.kafka.peer }, [{ port: KAFKA_PORTS.client }]);
        plan.allow(fastapiEp, { id: `${partOf}/${n.collector}`, peer: collectorPeer }, [{ port: OTEL_PORTS.otlpGrpc }, { port: OTEL_PORTS.otlpHttp }]);
        this.trafficPlan = plan;

        // Backups (greenfield-cluster.md "Backup Strategy"): a dump CronJob per SQL/document store,
        // its pods reaching only that store, as the plan says.
        if (s.backups) {
            for (const d of BACKUP_STORES) {
                const port = ENGINES[d].clientPort;
                const ep = planBackupFlow(plan, n.backups[d], namespace, partOf, { id: `${partOf}/${n[d]}`, peer: db[d].peer }, [{ port }]);
                // The policy was checked once, as greenfield.backups; the names are the system's own.
                this.backups[d] = new DatabaseBackup(n.backups[d], checked({
                    namespace, engine: d, host: db[d].host, port, databaseName: s[d].databaseName,
                    replicaSet: d === "mongodb" && s.mongodb.replicas > 1 ? s.mongodb.replicaSetName : undefined,
                    secretName: db[d].secretName, traffic: plan.rulesFor(ep),
                    schedule: s.backups.schedule, retention: s.backups.retention,
                    storage: { size: s.backups.storageSize, storageClass: s.storageClass },
                    partOf, protect: s.protectData,
                }), child);
            }
        }

        // Env: addresses from the outputs, credentials only as secretKeyRefs to the databases' Secrets.
        const portOf = (d: DataStore) => db[d].port.apply(String);
        const env = (t: Track): pulumi.Input<EnvVar>[] => [
            { name: "APP_PORT", value: String(f.port) },
            { name: "OTEL_SERVICE_NAME", value: "fastapi" },
            { name: "OTEL_RESOURCE_ATTRIBUTES", value: `service.namespace=${partOf},service.version=${imageTag(t.image)}` },
            { name: "OTEL_EXPORTER_OTLP_ENDPOINT", value: obs.otlpGrpcEndpoint },
            { name: "OTEL_EXPORTER_OTLP_PROTOCOL", value: "grpc" },
            { name: "OTEL_TRACES_EXPORTER", value: "otlp" },
            { name: "OTEL_METRICS_EXPORTER", value: "otlp" },
            { name: "PROMETHEUS_METRICS_PATH", value: f.metricsPath },
            { name: "REDIS_HOST", value: db.redis.host },
            { name: "REDIS_PORT", value: portOf("redis") },
            // Sentinel mode: REDIS_HOST:REDIS_PORT are the sentinels; they name the primary REDIS_SENTINEL_MASTER.
            ...(db.redis.sentinel ? [{ name: "REDIS_SENTINEL_MASTER", value: REDIS_MASTER_NAME }] : []),
            secretEnv("REDIS_PASSWORD", db.redis.secretName, SECRET_KEYS.password),
            { name: "POSTGRES_HOST", value: db.postgresql.host },
            { name: "POSTGRES_PORT", value: portOf("postgresql") },
            { name: "POSTGRES_DB", value: s.postgresql.databaseName },
            secretEnv("POSTGRES_USER", db.postgresql.secretName, SECRET_KEYS.username),
            secretEnv("POSTGRES_PASSWORD", db.postgresql.secretName, SECRET_KEYS.password),
            { name: "MYSQL_HOST", value: db.mysql.host },
            { name: "MYSQL_PORT", value: portOf("mysql") },
            { name: "MYSQL_DATABASE", value: s.mysql.databaseName },
            secretEnv("MYSQL_USER", db.mysql.secretName, SECRET_KEYS.username),
            secretEnv("MYSQL_PASSWORD", db.mysql.secretName, SECRET_KEYS.password),
            { name: "MONGODB_HOST", value: db.mongodb.host },
            { name: "MONGODB_PORT", value: portOf("mongodb") },
            { name: "MONGODB_DATABASE", value: s.mongodb.databaseName },
            { name: "MONGODB_AUTH_SOURCE", value: "admin" },
            ...(s.mongodb.replicas > 1 ? [{ name: "MONGODB_REPLICA_SET", value: s.mongodb.replicaSetName }] : []),
            secretEnv("MONGODB_USERNAME", db.mongodb.secretName, SECRET_KEYS.username),
            secretEnv("MONGODB_PASSWORD", db.mongodb.secretName, SECRET_KEYS.password),
            { name: "KAFKA_BOOTSTRAP_SERVERS", value: this.kafka.bootstrapServers },
            { name: "KAFKA_TOPIC", value: this.topics.topicNames.apply(names => names[0]) },
            ...Object.entries(f.env).map(([envName, value]) => ({ name: envName, value })),
        ];

        this.fastapi = tracks.map(t => new Workload(trackName(t), {
            namespace,
            identity: { ...fastapiId, version: imageTag(t.image) },
            kind: "Deployment",
            replicas: t.replicas,
            selectorExtra: t.label ? { [t.label.key]: t.label.value } : undefined,
            containers: [{ ...probeContainer(t.image), env: env(t) }],
            podAnnotations: {
                "prometheus.io/scrape": "true",
                "prometheus.io/port": String(f.port),
                "prometheus.io/path": f.metricsPath,
            },
            servicePorts: [{ name: "http", port: f.port }],
            autoscaling: t.autoscaling,
            // Zero-downtime rollouts: one extra pod at a time, never one fewer.
            rollingUpdate: DEFAULTS.fastapi.rollingUpdate,
            traffic: plan.rulesFor(fastapiEp),
        }, child));

        // With two tracks, one Service selects both: the stable in-cluster address the VirtualService splits.
        let serviceName: pulumi.Output<string>;
        if (tracks.length > 1) {
            const stable = new k8s.core.v1.Service(`${n.fastapi}-service`, {
                metadata: { name: n.fastapi, namespace, labels: standardLabels(fastapiId), annotations: OWNED_ANNOTATIONS },
                spec: {
                    type: "ClusterIP",
                    selector: selectorLabels(fastapiId),
                    ports: [{ name: "http", port: f.port, targetPort: f.port, protocol: "TCP" }],
                },
            }, child);
            serviceName = stable.metadata.name;
        } else {
            serviceName = this.fastapi[0].serviceName.apply(x => x ?? n.fastapi);
        }
        this.fastapiServiceName = serviceName;
        this.fastapiUrl = pulumi.interpolate`http://${serviceName}.${namespace}.svc.cluster.local:${f.port}`;
        this.fastapiReplicas = pulumi.output(Object.fromEntries(tracks.map(t => [trackName(t), Math.max(t.replicas, t.autoscaling?.minReplicas ?? 0)])));

        // Istio: STRICT mTLS in the namespace, sidecars reach istiod, the gateway routes to FastAPI by weight.
        let istio: IstioTraffic | undefined;
        if (mesh && p.mesh) {
            new MeshPolicy(n.mtls, { ...p.mesh.policy, dependsOn: [baseline] }, child);
            new k8s.networking.v1.NetworkPolicy(n.sidecars, {
                metadata: { name: "allow-istiod", namespace, labels: { "app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": partOf } },
                spec: {
                    ...networkPolicySpec({}, {
                        ingress: [],
                        egress: [{ peer: { kind: "namespace", namespace: mesh.istiodNamespace, podSelector: mesh.istiodSelector }, ports: [{ port: ISTIOD_XDS_PORT }] }],
                    }),
                    podSelector: {},
                    policyTypes: ["Egress"],
                },
            }, child);
            istio = new IstioTraffic(n.ingress, p.mesh.traffic, { ...child, dependsOn: [...this.fastapi] });
            // The nginx path's rate limits and Grafana basic auth, on the gateway's routes (sidecar EnvoyFilters).
            this.meshEdge = new MeshEdge(n.meshEdge, p.mesh.edge, child);
        }
        // The edge (mesh off): FastAPI and Grafana behind ingress-nginx with cert-manager TLS, rate limits, basic auth.
        if (p.edge) {
            this.edge = new IngressRoutes(`${name}-edge`, p.edge(namespace, { fastapi: serviceName, grafana: obs.grafanaServiceName }), child);
        }
        const gfRoute = s.observability.grafana.externalAccess ? s.ingress.routes.grafana : undefined;
        this.fastapiExternalUrl = this.edge ? this.edge.urls.apply(u => u.api) : pulumi.output(`https://${mesh!.gateway.hosts[0]}/`);
        this.grafanaExternalUrl = this.edge
            ? this.edge.urls.apply(u => u.grafana)
            : pulumi.output(gfRoute ? `https://${gfRoute.host}/` : undefined);

        this.meshWeights = istio ? istio.weights.apply(w => w[n.fastapi]) : pulumi.output(undefined);
        this.gatewayRef = istio ? istio.gatewayRef : pulumi.output(undefined);

        // Sealed Secrets: the controller (kube-system) and the system's sealed values.
        let controller: SealedSecretsController | undefined;
        const sealed: SealedSecret[] = [];
        if (p.sealedSecrets) {
            controller = new SealedSecretsController(n.sealedSecrets, p.sealedSecrets.controller, child);
            for (const [secretName, a] of p.sealedSecrets.secrets) {
                sealed.push(new SealedSecret(`${name}-sealed-${secretName}`, {
                    ...a, dependsOn: [baseline, ...(controller.crd ? [controller.crd] : [])],
                }, child));
            }
        }
        this.sealedSecretsController = controller ? controller.controllerName : pulumi.output(undefined);
        this.sealedSecretNames = pulumi.all(sealed.map(x => x.secretName));

        this.dataStores = pulumi.all(DATA_STORES.map(d => pulumi.all([db[d].host, db[d].port, db[d].secretName])))
            .apply(list => Object.fromEntries(list.map(([host, port, secretName], i) => [DATA_STORES[i], { host, port, secretName }])) as Record<DataStore, DataStoreOutputs>);
        this.connectionUrls = pulumi.secret(pulumi.all(DATA_STORES.map(d => db[d].connectionUrl))
            .apply(urls => Object.fromEntries(urls.map((u, i) => [DATA_STORES[i], u])) as Record<DataStore, string>));
        this.kafkaBootstrapServers = this.kafka.bootstrapServers;
        this.kafkaTopicNames = this.topics.topicNames;
        this.otlpGrpcEndpoint = obs.otlpGrpcEndpoint;
        this.prometheusUrl = obs.prometheusUrl;
        this.grafanaUrl = obs.grafanaUrl;
        this.grafanaAdminSecretName = obs.grafanaAdminSecretName;
        this.jaegerQueryUrl = obs.jaegerQueryUrl;

        this.registerOutputs({
            namespace: this.namespace, fastapiUrl: this.fastapiUrl, fastapiServiceName: this.fastapiServiceName,
            fastapiReplicas: this.fastapiReplicas, dataStores: this.dataStores, connectionUrls: this.connectionUrls,
            kafkaBootstrapServers: this.kafkaBootstrapServers, kafkaTopicNames: this.kafkaTopicNames,
            otlpGrpcEndpoint: this.otlpGrpcEndpoint, prometheusUrl: this.prometheusUrl, grafanaUrl: this.grafanaUrl,
            grafanaAdminSecretName: this.grafanaAdminSecretName, jaegerQueryUrl: this.jaegerQueryUrl,
            meshWeights: this.meshWeights, gatewayRef: this.gatewayRef, sealedSecretsController: this.sealedSecretsController,
            sealedSecretNames: this.sealedSecretNames, fastapiExternalUrl: this.fastapiExternalUrl, grafanaExternalUrl: this.grafanaExternalUrl,
        });
    }
}
