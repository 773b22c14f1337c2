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
import { Database } from "../database/database";
import { DatabaseSpec, validateDatabaseSpec } from "../database/spec";
import { ENGINES, SECRET_KEYS } from "../database/engines";
import { ContainerSpec, httpProbe, secretEnv, validateContainer } from "../k8s/container";
import { AppIdentity, COLOR_LABEL, selectorLabels, standardLabels } from "../k8s/labels";
import { OWNED_ANNOTATIONS } from "../k8s/metadata";
import { NamespaceBaseline } from "../k8s/namespace";
import { Endpoint, networkPolicySpec, Peer, TrafficPlan } from "../k8s/traffic";
import { imageTag, requireDnsLabel } from "../k8s/validation";
import { AutoscalingSpec, Workload } from "../k8s/workload";
import { IstioTraffic, IstioTrafficArgs, MeshPolicy, MeshPolicyArgs, TrafficSplit, validateIstioTraffic, validateMeshPolicy } from "../mesh/istio";
import { KAFKA_PORTS, KafkaCluster, KafkaClusterArgs } from "../messaging/kafka";
import { greenfieldTopics, TopicSpec, validateKafkaClusterSpec, validateTopicSpecs } from "../messaging/spec";
import { KafkaTopics, KafkaTopicsArgs } from "../messaging/topics";
import { observabilityPeer } from "../observability/common";
import { validateGrafanaArgs } from "../observability/grafana";
import { validateJaegerArgs } from "../observability/jaeger";
import { OTEL_PORTS, validateOtelCollectorArgs } from "../observability/otel";
import { PROMETHEUS_PORT, validatePrometheusArgs } from "../observability/prometheus";
import { ObservabilityStack, ObservabilityStackArgs } from "../observability/stack";
import {
    SealedSecret, SealedSecretArgs, SealedSecretsController, SealedSecretsControllerArgs, validateSealedSecret,
    validateSealedSecretsController,
} from "../secrets/sealed-secrets";
import { DATA_STORES, DataStore, DEFAULTS, GREENFIELD_PART_OF, GreenfieldSpec, resolveGreenfieldSpec, ResolvedGreenfield } from "./greenfield-spec";

import EnvVar = k8s.types.input.core.v1.EnvVar;

export * from "./greenfield-spec";

/** Label of the canary track (stable / canary) when the release strategy is canary. */
export const TRACK_LABEL = "platform.io/track";
/** istiod's xDS and CA port: every sidecar of the mesh talks to it. */
export const ISTIOD_XDS_PORT = 15012;

export type GreenfieldClusterArgs = GreenfieldSpec;

/** Names of the children, from the system's name (known before anything exists). */
export function greenfieldNames(name: string) {
    return {
        fastapi: `${name}-fastapi`,
        redis: `${name}-redis`,
        postgresql: `${name}-postgresql`,
        mysql: `${name}-mysql`,
        mongodb: `${name}-mongodb`,
        kafka: `${name}-kafka`,
        topics: `${name}-topics`,
        observability: `${name}-obs`,
        prometheus: `${name}-obs-prometheus`,
        grafana: `${name}-obs-grafana`,
        jaeger: `${name}-obs-jaeger`,
        collector: `${name}-obs-otel-collector`,
        mtls: `${name}-mtls`,
        ingress: `${name}-ingress`,
        sidecars: `${name}-istio-sidecars`,
        sealedSecrets: `${name}-sealed-secrets`,
    };
}

/** The FastAPI pods (every track) as a traffic peer. */
export function fastapiIdentity(name: string): AppIdentity {
    return { name: `${name}-fastapi`, app: "fastapi", component: "fastapi", partOf: GREENFIELD_PART_OF };
}

interface Track {
    /** Workload (Pulumi) name suffix and selector label, undefined for the single rolling Deployment. */
    label?: { key: string; value: string };
    image: string;
    replicas: number;
    autoscaling?: AutoscalingSpec;
}

function tracksOf(s: ResolvedGreenfield): Track[] {
    const f = s.fastapi;
    const full = { replicas: f.replicas, autoscaling: f.autoscaling };
    switch (f.release.strategy) {
        case "rolling":
            return [{ image: f.image, ...full }];
        case "blue-green":
            // Both colours run at full size: switching is a weight change, switching back the rollback.
            return [
                { label: { key: COLOR_LABEL, value: "blue" }, image: f.release.blueImage, ...full },
                { label: { key: COLOR_LABEL, value: "green" }, image: f.release.greenImage, ...full },
            ];
        case "canary":
            return [
                { label: { key: TRACK_LABEL, value: "stable" }, image: f.image, ...full },
                { label: { key: TRACK_LABEL, value: "canary" }, image: f.release.canaryImage!, replicas: f.release.canaryReplicas },
            ];
    }
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

    constructor(name: string, args: GreenfieldClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validate everything, children's args included, before registering anything.
        const key = `GreenfieldCluster(${name})`;
        requireDnsLabel(`${key}.name`, name, 20);
        const s = resolveGreenfieldSpec(key, args);
        const n = greenfieldNames(name);
        const ns = s.namespace;
        const partOf = GREENFIELD_PART_OF;
        const f = s.fastapi;
        const mesh = s.mesh;

        const fastapiId = fastapiIdentity(name);
        const fastapiPeer: Peer = { kind: "pods", namespace: ns, selector: selectorLabels(fastapiId) };
        const externalPeer: Peer = mesh
            ? { kind: "namespace", namespace: mesh.gateway.namespace, podSelector: mesh.gateway.selector }
            : { kind: "namespace", namespace: s.ingressNamespace };
        const prometheusPeer = observabilityPeer(n.prometheus, ns, partOf);
        const collectorPeer = observabilityPeer(n.collector, ns, partOf);

        const dbSpecs: Record<DataStore, DatabaseSpec> = {
            redis: {
                type: "redis", version: s.redis.version, replicas: s.redis.replicas, resources: s.redis.resources,
                storage: { size: s.redis.storage, storageClass: s.storageClass },
                // 1 master + 2 replicas: ordinal 0 is the master, the others replicate from it.
                redis: {
                    mode: s.redis.replicas > 1 ? "replication" : "standalone", appendOnly: true,
                    maxMemory: s.redis.maxMemory, maxMemoryPolicy: s.redis.maxMemoryPolicy,
                },
            },
            postgresql: {
                type: "postgresql", version: s.postgresql.version, replicas: s.postgresql.replicas, resources: s.postgresql.resources,
                storage: { size: s.postgresql.storage, storageClass: s.storageClass }, databaseName: s.postgresql.databaseName,
            },
            mysql: {
                type: "mysql", version: s.mysql.version, replicas: s.mysql.replicas, resources: s.mysql.resources,
                storage: { size: s.mysql.storage, storageClass: s.storageClass }, databaseName: s.mysql.databaseName,
            },
            mongodb: {
                type: "mongodb", version: s.mongodb.version, replicas: s.mongodb.replicas, resources: s.mongodb.resources,
                storage: { size: s.mongodb.storage, configSize: s.mongodb.configStorage, storageClass: s.storageClass },
                databaseName: s.mongodb.databaseName, mongodb: { replicaSetName: s.mongodb.replicaSetName },
            },
        };
        DATA_STORES.forEach(d => validateDatabaseSpec(`${key}.${d}`, dbSpecs[d]));

        const k = s.kafka;
        const kafkaArgs = (namespace: pulumi.Input<string>): KafkaClusterArgs => ({
            namespace, mode: k.mode, brokers: k.brokers, brokerStorage: k.storage, version: k.version, resources: k.resources,
            zookeeper: k.zookeeper, storageClass: s.storageClass, defaultReplicationFactor: k.replicationFactor,
            minInsyncReplicas: k.minInsyncReplicas, autoCreateTopics: false, clients: [fastapiPeer], partOf, protect: s.protectData,
        });
        const { namespace: _n, clients: _c, partOf: _p, protect: _pr, ...kafkaSpec } = kafkaArgs(ns);
        validateKafkaClusterSpec(`${key}.kafka`, kafkaSpec);
        const topicSpecs: TopicSpec[] = greenfieldTopics(k.topics.replicationFactor, k.minInsyncReplicas)
            .map(t => ({ ...t, partitions: k.topics.partitions }));
        validateTopicSpecs(`${key}.kafka.topics`, topicSpecs, k.brokers, k.minInsyncReplicas);

        const o = s.observability;
        const later = "placeholder.invalid";
        validateJaegerArgs(`${key}.observability.jaeger`, { namespace: ns, ...o.jaeger });
        validateOtelCollectorArgs(`${key}.observability.otelCollector`, {
            namespace: ns, ...o.otelCollector, jaeger: { peer: observabilityPeer(n.jaeger, ns, partOf), host: later },
        });
        validatePrometheusArgs(`${key}.observability.prometheus`, {
            namespace: ns, ...o.prometheus, storage: { size: o.prometheus.storage, storageClass: s.storageClass }, apiServer: s.apiServer,
        });
        validateGrafanaArgs(`${key}.observability.grafana`, {
            namespace: ns, ...o.grafana, storage: { size: o.grafana.storage, storageClass: s.storageClass },
            prometheus: { peer: prometheusPeer, url: "http://placeholder:9090", port: PROMETHEUS_PORT }, ingressFrom: [],
        });

        // FastAPI: one Deployment (rolling), or two tracks split by the mesh.
        const tracks = tracksOf(s);
        const trackName = (t: Track) => (t.label ? `${n.fastapi}-${t.label.value}` : n.fastapi);
        const probeContainer = (image: string): ContainerSpec => ({
            name: "fastapi", image, resources: f.resources, ports: [{ name: "http", containerPort: f.port }],
            livenessProbe: httpProbe(f.livenessPath, f.port), readinessProbe: httpProbe(f.readinessPath, f.port, { initialDelaySeconds: 5 }),
        });
        tracks.forEach(t => validateContainer(probeContainer(t.image), `${key}.fastapi(${trackName(t)})`));

        const fqdn = (service: string) => `${service}.${ns}.svc.cluster.local`;
        let meshArgs: MeshPolicyArgs | undefined;
        let istioArgs: IstioTrafficArgs | undefined;
        if (mesh) {
            meshArgs = { istioInstalled: true, apiVersion: mesh.apiVersion, namespaces: [ns], mode: mesh.mtlsMode };
            const dest = (t: Track) => ({ host: fqdn(trackName(t)), port: f.port });
            const split: TrafficSplit = f.release.strategy === "canary"
                ? { strategy: "canary", stable: dest(tracks[0]), canary: dest(tracks[1]), canaryWeight: f.release.canaryWeight }
                : { strategy: "blue-green", blue: dest(tracks[0]), green: dest(tracks[1]), active: f.release.activeColor };
            istioArgs = {
                istioInstalled: true, apiVersion: mesh.apiVersion,
                gateway: { namespace: mesh.gateway.namespace, hosts: mesh.gateway.hosts, credentialName: mesh.gateway.credentialName, selector: mesh.gateway.selector },
                virtualServices: [{
                    name: n.fastapi, namespace: ns,
                    // External hosts through the gateway, and the stable in-cluster Service through the sidecars.
                    hosts: [...mesh.gateway.hosts, fqdn(n.fastapi)],
                    split, timeout: mesh.timeout, retries: mesh.retries,
                }],
            };
            validateMeshPolicy(`${key}.mesh`, meshArgs);
            validateIstioTraffic(`${key}.mesh`, istioArgs);
        }

        let sealedArgs: SealedSecretsControllerArgs | undefined;
        const sealedSecretArgs: [string, SealedSecretArgs][] = [];
        if (s.sealedSecrets) {
            const ss = s.sealedSecrets;
            sealedArgs = { namespace: ss.namespace, apiServerCidrs: s.apiServer.cidrs, apiServerPorts: s.apiServer.ports, image: ss.image, partOf };
            validateSealedSecretsController(`${key}.sealedSecrets`, sealedArgs);
            for (const [secretName, sec] of Object.entries(ss.secrets)) {
                const a: SealedSecretArgs = {
                    namespace: ns, secretName, encryptedData: sec.encryptedData, type: sec.type, scope: sec.scope,
                    labels: { "app.kubernetes.io/part-of": partOf },
                };
                validateSealedSecret(`${key}.sealedSecrets.secrets.${secretName}`, a);
                sealedSecretArgs.push([secretName, a]);
            }
        }

        super("platform:systems:GreenfieldCluster", name, {}, opts);
        const child = { parent: this };

        const baseline = new NamespaceBaseline(`${name}-namespace`, {
            name: ns, quota: s.quota, limits: s.limits,
            labels: { "app.kubernetes.io/part-of": partOf, ...(mesh ? { "istio-injection": "enabled" } : {}) },
            holdsProtectedData: s.protectData,
        }, child);
        const namespace = baseline.name;
        this.namespace = namespace;

        // Data layer: only FastAPI connects; members replicate among themselves.
        this.databases = {} as Record<DataStore, Database>;
        for (const d of DATA_STORES) {
            this.databases[d] = new Database(n[d], {
                ...dbSpecs[d], namespace, clients: [fastapiPeer], partOf, protect: s.protectData,
            }, child);
        }
        const db = this.databases;

        // Messaging: brokers (and ZooKeeper), then test-topic through the explicit kafka provider.
        this.kafka = new KafkaCluster(n.kafka, kafkaArgs(namespace), child);
        const topicArgs: KafkaTopicsArgs = {
            enabled: k.topics.enabled,
            bootstrapServers: k.topics.bootstrapServers ?? this.kafka.bootstrapServerList,
            tls: k.topics.tls, sasl: k.topics.sasl, kafkaVersion: k.topics.kafkaVersion, timeoutSeconds: k.topics.timeoutSeconds,
            brokers: k.brokers, clusterMinInsyncReplicas: k.minInsyncReplicas, topics: topicSpecs, protect: s.protectData,
        };
        this.topics = new KafkaTopics(n.topics, topicArgs, { ...child, dependsOn: [this.kafka] });

        // Observability: FastAPI -> collector -> Jaeger / Prometheus; Prometheus scrapes FastAPI; Grafana reads both.
        const obsArgs: ObservabilityStackArgs = {
            namespace, partOf,
            ingressFrom: o.grafana.externalAccess ? [externalPeer] : [],
            apiServer: s.apiServer,
            telemetrySenders: [fastapiPeer],
            scrapeTargets: [{ peer: fastapiPeer, ports: [{ port: f.port }] }],
            scrapeNamespaces: [ns],
            prometheus: {
                image: o.prometheus.image, resources: o.prometheus.resources, retention: o.prometheus.retention,
                scrapeInterval: o.prometheus.scrapeInterval, storage: { size: o.prometheus.storage, storageClass: s.storageClass },
            },
            grafana: { image: o.grafana.image, resources: o.grafana.resources, storage: { size: o.grafana.storage, storageClass: s.storageClass } },
            otelCollector: o.otelCollector,
            jaeger: o.jaeger,
            protect: s.protectData,
        };
        this.observability = new ObservabilityStack(n.observability, obsArgs, child);
        const obs = this.observability;

        // FastAPI's flows: in from the ingress and Prometheus, out to every data store, Kafka and the collector.
        const fastapiEp: Endpoint = { id: `${partOf}/${n.fastapi}`, peer: fastapiPeer };
        const plan = new TrafficPlan();
        plan.allow({ id: "ingress", peer: externalPeer }, fastapiEp, [{ port: f.port }]);
        plan.allow({ id: `${partOf}/${n.prometheus}`, peer: prometheusPeer }, fastapiEp, [{ port: f.port }]);
        for (const d of DATA_STORES) {
            plan.allow(fastapiEp, { id: `${partOf}/${n[d]}`, peer: db[d].peer }, [{ port: ENGINES[d].clientPort }]);
        }
        plan.allow(fastapiEp, { id: `${partOf}/${n.kafka}`, peer: this.kafka.peer }, [{ port: KAFKA_PORTS.client }]);
        plan.allow(fastapiEp, { id: `${partOf}/${n.collector}`, peer: collectorPeer }, [{ port: OTEL_PORTS.otlpGrpc }, { port: OTEL_PORTS.otlpHttp }]);
        this.trafficPlan = plan;

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
        }, { ...child, dependsOn: [this.topics] }));

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
        if (mesh && meshArgs && istioArgs) {
            new MeshPolicy(n.mtls, { ...meshArgs, dependsOn: [baseline] }, child);
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
            istio = new IstioTraffic(n.ingress, istioArgs, { ...child, dependsOn: [...this.fastapi] });
        }
        this.meshWeights = istio ? istio.weights.apply(w => w[n.fastapi]) : pulumi.output(undefined);
        this.gatewayRef = istio ? istio.gatewayRef : pulumi.output(undefined);

        // Sealed Secrets: the controller (kube-system) and the system's sealed values.
        let controller: SealedSecretsController | undefined;
        const sealed: SealedSecret[] = [];
        if (sealedArgs) {
            controller = new SealedSecretsController(n.sealedSecrets, sealedArgs, child);
            for (const [secretName, a] of sealedSecretArgs) {
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
            sealedSecretNames: this.sealedSecretNames,
        });
    }
}
