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
import { DatabaseBackup } from "../../backup/backup";
import { Database } from "../../database/database";
import { ENGINES, SECRET_KEYS } from "../../database/engines";
import { grafanaBasicAuth, IngressRoutes } from "../../edge/ingress";
import { NamespaceBaseline } from "../../k8s/namespace";
import { TrafficPlan } from "../../k8s/traffic";
import { requireDnsLabel } from "../../k8s/validation";
import { Workload } from "../../k8s/workload";
import { MeshEdge } from "../../mesh/edge";
import { IstioTraffic, MeshPolicy } from "../../mesh/istio";
import { meshPodTemplates } from "../../mesh/sidecar";
import { KafkaCluster } from "../../messaging/kafka";
import { KafkaTopics } from "../../messaging/topics";
import { AlertmanagerTarget } from "../../observability/alerting";
import { ObservabilityStack } from "../../observability/stack";
import { SealedSecret, SealedSecretsController } from "../../secrets/sealed-secrets";
import { fastapiEnv, FastapiWiring, fastapiStableService, fastapiTraffic, fastapiWorkload } from "./fastapi";
import { planGreenfield } from "./plan";
import { BACKUP_STORES, BackupStore, DATA_STORES, DataStore, GREENFIELD_PART_OF, ResolvedGreenfield } from "./spec";

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
        const mesh = s.mesh;
        // With the mesh on, every pod of the system carries the istio-proxy size the capacity check counted,
        // and the backups' pods a native sidecar (their Jobs complete).
        super("platform:systems:GreenfieldCluster", name, {}, mesh
            ? { ...opts, transformations: [...(opts?.transformations ?? []), meshPodTemplates(mesh.sidecarResources)] } : opts);
        const child = { parent: this };

        const baseline = new NamespaceBaseline(`${name}-namespace`, p.baseline, child);
        const namespace = baseline.name;
        this.namespace = namespace;

        // Data layer: only FastAPI connects (and the Redis exporter, and each store's backup pods); members replicate among themselves.
        this.databases = {} as Record<DataStore, Database>;
        for (const d of DATA_STORES) {
            this.databases[d] = new Database(n[d], p.database(d, namespace), child);
        }
        const db = this.databases;

        // Messaging: brokers (and ZooKeeper), then test-topic through the explicit kafka provider.
        this.kafka = new KafkaCluster(n.kafka, p.kafka(namespace), child);
        const topics = p.kafkaTopics(this.kafka);
        this.topics = new KafkaTopics(n.topics, topics.args, topics.afterBrokers ? { ...child, dependsOn: [this.kafka] } : child);

        // Observability: FastAPI -> collector -> Jaeger / Prometheus; Prometheus scrapes FastAPI; Grafana reads both.
        // With the mesh on and Grafana external: its basic-auth Secret, which Grafana's sidecar mounts.
        const meshGrafanaAuth = p.mesh?.grafanaBasicAuthUser !== undefined
            ? grafanaBasicAuth(n.meshEdge, namespace, p.mesh.grafanaBasicAuthUser, GREENFIELD_PART_OF, child) : undefined;
        this.grafanaBasicAuthSecretName = meshGrafanaAuth?.secretName ?? pulumi.output(undefined);
        this.grafanaBasicAuthPassword = meshGrafanaAuth?.password ?? pulumi.output(undefined);
        this.observability = new ObservabilityStack(n.observability, { ...p.observability(namespace, {
            peer: db.redis.peer, host: db.redis.host, port: ENGINES.redis.clientPort, secretName: db.redis.secretName, passwordKey: SECRET_KEYS.password,
        }), alertmanager: args.alertmanager }, child);
        const obs = this.observability;

        // FastAPI and its flows; the backups' flows (greenfield-cluster.md "Backup Strategy") join the same plan.
        const wiring: FastapiWiring = {
            stores: db,
            kafka: { peer: this.kafka.peer, bootstrapServers: this.kafka.bootstrapServers, topic: this.topics.topicNames.apply(names => names[0]) },
            otlpGrpcEndpoint: obs.otlpGrpcEndpoint,
        };
        const traffic = fastapiTraffic(p, s, wiring);
        this.trafficPlan = traffic.plan;
        if (p.backup) {
            for (const d of BACKUP_STORES) {
                this.backups[d] = new DatabaseBackup(n.backups[d], p.backup(d, namespace, db[d], traffic.plan), child);
            }
        }
        this.fastapi = p.tracks.map(t => new Workload(p.trackName(t),
            fastapiWorkload(p, s, t, namespace, fastapiEnv(s, t, wiring), traffic.plan.rulesFor(traffic.endpoint)), child));
        const serviceName = p.tracks.length > 1
            ? new k8s.core.v1.Service(`${n.fastapi}-service`, fastapiStableService(p, s, namespace), child).metadata.name
            : this.fastapi[0].serviceName.apply(x => x ?? n.fastapi);
        this.fastapiServiceName = serviceName;
        this.fastapiUrl = pulumi.interpolate`http://${serviceName}.${namespace}.svc.cluster.local:${s.fastapi.port}`;
        this.fastapiReplicas = pulumi.output(Object.fromEntries(p.tracks.map(t => [p.trackName(t), Math.max(t.replicas, t.autoscaling?.minReplicas ?? 0)])));

        // Istio: STRICT mTLS in the namespace, sidecars reach istiod, the gateway routes to FastAPI by weight,
        // and the nginx path's rate limits and Grafana basic auth on the gateway's routes (sidecar EnvoyFilters).
        let istio: IstioTraffic | undefined;
        if (p.mesh) {
            new MeshPolicy(n.mtls, { ...p.mesh.policy, dependsOn: [baseline] }, child);
            new k8s.networking.v1.NetworkPolicy(n.sidecars, p.mesh.istiodEgress(namespace), child);
            istio = new IstioTraffic(n.ingress, p.mesh.traffic, { ...child, dependsOn: [...this.fastapi] });
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
