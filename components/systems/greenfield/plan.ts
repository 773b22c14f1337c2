/**
 * The plan of a GreenfieldCluster (greenfield-cluster.md): every child's args, computed from the
 * resolved spec alone. Pure: nothing is registered here, nothing is validated again (the spec was,
 * once, by resolveGreenfieldSpec). Values that exist only once a sibling is registered (the
 * namespace Output, the brokers' addresses, the databases' hosts and Secrets) are parameters.
 */
import * as pulumi from "@pulumi/pulumi";
import { ContainerSpec, httpProbe, LIVENESS_TIMING, ResourceSpec } from "../../k8s/container";
import { AppIdentity, COLOR_LABEL, selectorLabels } from "../../k8s/labels";
import { NamespaceBaselineArgs } from "../../k8s/namespace";
import { networkPolicySpec, Peer, TrafficPlan } from "../../k8s/traffic";
import { AutoscalingSpec } from "../../k8s/workload";
import { IngressRoutesArgs } from "../../edge/ingress";
import { grafanaRootUrl } from "../../edge/spec";
import { basicAuthPodAnnotations, MeshEdgeArgs } from "../../mesh/edge";
import { IstioTrafficArgs, MeshPolicyArgs, TrafficSplit, VirtualServiceSpec } from "../../mesh/istio";
import { GRAFANA_PORT } from "../../observability/grafana";
import { observabilityPeer } from "../../observability/common";
import { RedisTarget } from "../../observability/redisExporter";
import { SealedSecretArgs, SealedSecretsControllerArgs } from "../../secrets/sealed-secrets";
import { backupPeer, DatabaseBackupArgs, planBackupFlow } from "../../backup/backup";
import { Database, DatabaseArgs } from "../../database/database";
import { ENGINES } from "../../database/engines";
import { KafkaCluster, KafkaClusterArgs } from "../../messaging/kafka";
import { KafkaTopicsArgs } from "../../messaging/topics";
import * as k8s from "@pulumi/kubernetes";
import {
    BACKUP_STORES, BackupStore, DATA_STORES, DataStore, FASTAPI_ROLLING_UPDATE, GREENFIELD_PART_OF, greenfieldDatabases, greenfieldKafkaCluster, greenfieldTopicSpecs,
    ResolvedGreenfield,
} from "./spec";
import { databaseLoad, DatabaseSpec } from "../../database/spec";
import { Checked, checked } from "../../k8s/validation";
import { backupLoad, BACKUP_RESOURCES } from "../../backup/policy";
import { budgetOf, PodGroup, requireLimitRangeFits, requireQuotaFits } from "../../k8s/capacity";
import { kafkaLoad, TopicSpec } from "../../messaging/spec";
import { observabilityLoad, ObservabilityStackArgs } from "../../observability/stack";

/** Label of the canary track (stable / canary) when the release strategy is canary. */
export const TRACK_LABEL = "platform.io/track";
/** istiod's xDS and CA port: every sidecar of the mesh talks to it. */
export const ISTIOD_XDS_PORT = 15012;

function isBackupStore(d: DataStore): d is BackupStore {
    return (BACKUP_STORES as readonly string[]).includes(d);
}

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
        redisExporter: `${name}-obs-redis-exporter`,
        mtls: `${name}-mtls`,
        ingress: `${name}-ingress`,
        meshEdge: `${name}-mesh-edge`,
        sidecars: `${name}-istio-sidecars`,
        sealedSecrets: `${name}-sealed-secrets`,
        backups: { postgresql: `${name}-postgresql-backup`, mysql: `${name}-mysql-backup`, mongodb: `${name}-mongodb-backup` },
    };
}

/** The FastAPI pods (every track) as a traffic peer. */
export function fastapiIdentity(name: string): AppIdentity {
    return { name: `${name}-fastapi`, app: "fastapi", component: "fastapi", partOf: GREENFIELD_PART_OF };
}

export interface Track {
    /** Workload (Pulumi) name suffix and selector label, undefined for the single rolling Deployment. */
    label?: { key: string; value: string };
    image: string;
    replicas: number;
    autoscaling?: AutoscalingSpec;
}

export function tracksOf(s: ResolvedGreenfield): Track[] {
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

/** The peers of the system's own pods, from names (known before anything exists). */
export interface GreenfieldPeers {
    fastapi: Peer;
    /** The only outside source: the Istio ingress gateway with the mesh on, else the ingress controller. */
    external: Peer;
    prometheus: Peer;
    collector: Peer;
    /** The Redis exporter (the Redis dashboard's data): Redis' second client. */
    redisExporter: Peer;
}

export interface GreenfieldPlan {
    names: ReturnType<typeof greenfieldNames>;
    fastapiId: AppIdentity;
    peers: GreenfieldPeers;
    /** The namespace, quota and LimitRange as the system's spec checked them. */
    baseline: Checked<NamespaceBaselineArgs>;
    databases: Record<DataStore, DatabaseSpec>;
    /** Checked by resolveGreenfieldSpec with the KafkaCluster's own rules (greenfield.kafka). */
    kafka(namespace: pulumi.Input<string>): Checked<KafkaClusterArgs>;
    topics: TopicSpec[];
    observability(namespace: pulumi.Input<string>, redis: RedisTarget): ObservabilityStackArgs;
    tracks: Track[];
    trackName: (t: Track) => string;
    /** The FastAPI container of a track, without its env (wired from the siblings' outputs). */
    fastapiContainer: (image: string) => ContainerSpec;
    /**
     * With the mesh on: mTLS, the gateway's routes, and the edge protections of the nginx path on
     * the gateway's routes (rate limits; basic auth in front of Grafana, from the Secret
     * `<meshEdge>-grafana-basic-auth` the Grafana pods mount into their sidecar).
     */
    mesh?: {
        policy: Checked<MeshPolicyArgs>; traffic: Checked<IstioTrafficArgs>; edge: Checked<MeshEdgeArgs>; grafanaBasicAuthUser?: string;
        /** Every pod's sidecar reaches istiod (xDS and certificates). */
        istiodEgress(namespace: pulumi.Input<string>): k8s.networking.v1.NetworkPolicyArgs;
    };
    /**
     * The ingress-nginx routes (mesh off): FastAPI on its host, Grafana (externalAccess) on its own,
     * TLS from cert-manager, rate limits, basic auth in front of Grafana. Undefined with the mesh on:
     * the Istio gateway serves both.
     */
    edge?: (namespace: pulumi.Input<string>, services: { fastapi: pulumi.Input<string>; grafana: pulumi.Input<string> }) => Checked<IngressRoutesArgs>;
    sealedSecrets?: { controller: SealedSecretsControllerArgs; secrets: [string, SealedSecretArgs][] };
    /** A data store's Database: FastAPI, the Redis exporter (Redis) and, with backups on, its backup pods connect. */
    database(d: DataStore, namespace: pulumi.Input<string>): Checked<DatabaseArgs>;
    /**
     * With backups on, a store's dump CronJob: its flow (backup pods -> the store's port) joins `traffic`,
     * and its pods get exactly that rule. Checked once, as greenfield.backups; the names are the system's own.
     */
    backup?: (d: BackupStore, namespace: pulumi.Input<string>, store: Pick<Database, "peer" | "host" | "secretName">, traffic: TrafficPlan) => Checked<DatabaseBackupArgs>;
    /**
     * test-topic through the explicit kafka provider: an explicit bootstrap list (a broker outside the
     * cluster), else the in-cluster or external listeners as greenfield.kafka.topics.access says.
     * `afterBrokers`: topics that live on this cluster's brokers wait for them; a broker outside is not
     * gated by this cluster's pods (no design orders them: docs/benchmarks.md "Breakdown").
     */
    kafkaTopics(brokers: Pick<KafkaCluster, "bootstrapServerList" | "externalBootstrapServerList">): { args: Checked<KafkaTopicsArgs>; afterBrokers: boolean };
}

export function planGreenfield(name: string, s: ResolvedGreenfield): GreenfieldPlan {
    const n = greenfieldNames(name);
    const ns = s.namespace;
    const partOf = GREENFIELD_PART_OF;
    const f = s.fastapi;
    const mesh = s.mesh;
    const fastapiId = fastapiIdentity(name);
    const peers: GreenfieldPeers = {
        fastapi: { kind: "pods", namespace: ns, selector: selectorLabels(fastapiId) },
        external: mesh
            ? { kind: "namespace", namespace: mesh.gateway.namespace, podSelector: mesh.gateway.selector }
            : { kind: "namespace", namespace: s.ingressNamespace },
        prometheus: observabilityPeer(n.prometheus, ns, partOf),
        collector: observabilityPeer(n.collector, ns, partOf),
        redisExporter: observabilityPeer(n.redisExporter, ns, partOf),
    };
    const databases = greenfieldDatabases(s);
    const o = s.observability;
    const tracks = tracksOf(s);
    const trackName = (t: Track) => (t.label ? `${n.fastapi}-${t.label.value}` : n.fastapi);
    const fqdn = (service: string) => `${service}.${ns}.svc.cluster.local`;
    const grafanaRoute = o.grafana.externalAccess ? s.ingress.routes.grafana : undefined;
    let meshPlan: GreenfieldPlan["mesh"];
    if (mesh) {
        const dest = (t: Track) => ({ host: fqdn(trackName(t)), port: f.port });
        const split: TrafficSplit = f.release.strategy === "canary"
            ? { strategy: "canary", stable: dest(tracks[0]), canary: dest(tracks[1]), canaryWeight: f.release.canaryWeight }
            : { strategy: "blue-green", blue: dest(tracks[0]), green: dest(tracks[1]), active: f.release.activeColor };
        // Grafana's host joins the gateway's when it has its own.
        const gatewayHosts = grafanaRoute && !mesh.gateway.hosts.includes(grafanaRoute.host) ? [...mesh.gateway.hosts, grafanaRoute.host] : mesh.gateway.hosts;
        // Checked by resolveGreenfieldSpec (greenfield.mesh, greenfield.ingress); tests/unit/validate-once.test.ts
        // holds them to the mesh components' own rules.
        meshPlan = {
            policy: checked({ istioInstalled: true, apiVersion: mesh.apiVersion, namespaces: [ns], mode: mesh.mtlsMode }),
            traffic: checked({
                istioInstalled: true, apiVersion: mesh.apiVersion,
                gateway: { namespace: mesh.gateway.namespace, hosts: gatewayHosts, credentialName: mesh.gateway.credentialName, selector: mesh.gateway.selector },
                virtualServices: [{
                    name: n.fastapi, namespace: ns,
                    // External hosts through the gateway, and the stable in-cluster Service through the sidecars.
                    hosts: [...mesh.gateway.hosts, fqdn(n.fastapi)],
                    split, timeout: mesh.timeout, retries: mesh.retries,
                }, ...(grafanaRoute ? [grafanaVirtualService(n.grafana, ns, grafanaRoute.host, fqdn(n.grafana))] : [])],
            }),
            // The nginx path's rate limits on both routes, and its basic auth in front of Grafana.
            edge: checked({
                istioInstalled: true, apiVersion: mesh.apiVersion,
                routes: [
                    { role: "fastapi", namespace: ns, selector: selectorLabels(fastapiId), rateLimit: s.ingress.routes.fastapi.rateLimit },
                    ...(grafanaRoute ? [{
                        role: "grafana", namespace: ns, selector: selectorLabels({ name: n.grafana, component: "", partOf }), rateLimit: grafanaRoute.rateLimit, basicAuth: true,
                    }] : []),
                ],
            }),
            grafanaBasicAuthUser: grafanaRoute?.basicAuthUser,
            istiodEgress: namespace => ({
                metadata: { name: "allow-istiod", namespace, labels: { "app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": partOf } },
                spec: {
                    ...networkPolicySpec({}, {
                        ingress: [],
                        egress: [{ peer: { kind: "namespace", namespace: mesh.istiodNamespace, podSelector: mesh.istiodSelector }, ports: [{ port: ISTIOD_XDS_PORT }] }],
                    }),
                    podSelector: {},
                    policyTypes: ["Egress"],
                },
            }),
        };
    }
    const r = s.ingress.routes;
    const ss = s.sealedSecrets;
    const topicSpecs = greenfieldTopicSpecs(s);
    return {
        names: n,
        fastapiId,
        peers,
        baseline: checked({
            name: ns, quota: s.quota, limits: s.limits,
            labels: { "app.kubernetes.io/part-of": partOf, ...(mesh ? { "istio-injection": "enabled" } : {}) },
            holdsProtectedData: s.protectData,
        }),
        databases,
        kafka: namespace => checked({ ...greenfieldKafkaCluster(s), namespace, clients: [peers.fastapi], partOf, protect: s.protectData }),
        topics: topicSpecs,
        // FastAPI -> collector -> Jaeger / Prometheus; Prometheus scrapes FastAPI; Grafana reads both.
        // FastAPI's HTTP metrics (the design's Key Metrics) and the Redis exporter's select the dashboards and alerts.
        observability: (namespace, redis) => ({
            namespace, partOf,
            ingressFrom: o.grafana.externalAccess ? [peers.external] : [],
            apiServer: s.apiServer,
            telemetrySenders: [peers.fastapi],
            scrapeTargets: [{ peer: peers.fastapi, ports: [{ port: f.port }] }],
            scrapeNamespaces: [ns],
            ...observabilityTunables(s),
            grafana: {
                ...observabilityTunables(s).grafana,
                // Served from its external URL (links, redirects): the ingress path, or the gateway host's root.
                rootUrl: grafanaRoute && (mesh ? `https://${grafanaRoute.host}` : grafanaRootUrl(grafanaRoute)),
                // Behind the Istio gateway: the sidecar reads the basic-auth htpasswd from this Secret.
                podAnnotations: grafanaRoute && mesh ? basicAuthPodAnnotations(`${n.meshEdge}-grafana-basic-auth`) : undefined,
            },
            redis,
            producers: ["fastapi"],
            protect: s.protectData,
        }),
        tracks,
        trackName,
        fastapiContainer: image => ({
            name: "fastapi", image, resources: f.resources, ports: [{ name: "http", containerPort: f.port }],
            livenessProbe: httpProbe(f.livenessPath, f.port, LIVENESS_TIMING), readinessProbe: httpProbe(f.readinessPath, f.port, { initialDelaySeconds: 5 }),
        }),
        mesh: meshPlan,
        // Checked by resolveGreenfieldSpec (greenfield.ingress: resolveEdgeSpec).
        edge: mesh ? undefined : (namespace, services) => checked({
            domain: s.ingress.domain, clusterIssuer: s.ingress.clusterIssuer, ingressClassName: s.ingress.ingressClassName,
            skipAwait: s.ingress.skipAwait, partOf,
            api: { namespace, serviceName: services.fastapi, servicePort: f.port, host: r.fastapi.host, rateLimit: r.fastapi.rateLimit },
            grafana: grafanaRoute && {
                namespace, serviceName: services.grafana, servicePort: GRAFANA_PORT, host: grafanaRoute.host, path: grafanaRoute.path,
                username: grafanaRoute.basicAuthUser, rateLimit: grafanaRoute.rateLimit,
            },
        }),
        database: (d, namespace) => checked({
            ...databases[d], namespace, partOf, protect: s.protectData,
            clients: [peers.fastapi, ...(d === "redis" ? [peers.redisExporter] : []), ...(s.backups && isBackupStore(d) ? [backupPeer(n.backups[d], namespace, partOf)] : [])],
        }),
        backup: s.backups && ((d, namespace, store, traffic) => {
            const b = s.backups!;
            const port = ENGINES[d].clientPort;
            const ep = planBackupFlow(traffic, n.backups[d], namespace, partOf, { id: `${partOf}/${n[d]}`, peer: store.peer }, [{ port }]);
            return checked({
                namespace, engine: d, host: store.host, port, databaseName: s[d].databaseName,
                replicaSet: d === "mongodb" && s.mongodb.replicas > 1 ? s.mongodb.replicaSetName : undefined,
                secretName: store.secretName, traffic: traffic.rulesFor(ep),
                schedule: b.schedule, retention: b.retention,
                storage: { size: b.storageSize, storageClass: s.storageClass },
                partOf, protect: s.protectData,
            });
        }),
        kafkaTopics: brokers => {
            const k = s.kafka.topics;
            return {
                // Checked by resolveGreenfieldSpec (greenfield.kafka.topics and its connection, the cluster's size).
                args: checked({
                    enabled: k.enabled,
                    bootstrapServers: k.bootstrapServers
                        ?? (k.access === "external" ? brokers.externalBootstrapServerList.apply(l => l!) : brokers.bootstrapServerList),
                    tls: k.tls, sasl: k.sasl, kafkaVersion: k.kafkaVersion, timeoutSeconds: k.timeoutSeconds,
                    brokers: s.kafka.brokers, clusterMinInsyncReplicas: s.kafka.minInsyncReplicas, topics: topicSpecs, protect: s.protectData,
                }),
                afterBrokers: k.bootstrapServers === undefined,
            };
        },
        sealedSecrets: ss && {
            controller: { namespace: ss.namespace, apiServerCidrs: s.apiServer.cidrs, apiServerPorts: s.apiServer.ports, image: ss.image, partOf },
            secrets: Object.entries(ss.secrets).map(([secretName, sec]): [string, SealedSecretArgs] => [secretName, {
                namespace: ns, secretName, encryptedData: sec.encryptedData, type: sec.type, scope: sec.scope,
                labels: { "app.kubernetes.io/part-of": partOf },
            }]),
        },
    };
}


/** The observability stack's sizes (what its namespace must hold), from the resolved spec. */
function observabilityTunables(s: ResolvedGreenfield) {
    const o = s.observability;
    return {
        prometheus: {
            image: o.prometheus.image, resources: o.prometheus.resources, retention: o.prometheus.retention,
            scrapeInterval: o.prometheus.scrapeInterval, storage: { size: o.prometheus.storage, storageClass: s.storageClass },
        },
        grafana: { image: o.grafana.image, resources: o.grafana.resources, storage: { size: o.grafana.storage, storageClass: s.storageClass } },
        otelCollector: o.otelCollector,
        jaeger: o.jaeger,
    };
}

/**
 * The namespace's quota must hold the whole system at its peak (every FastAPI track at its HPA
 * maximum plus the rolling update's surge of 1, the data stores with their sidecars, Kafka and
 * ZooKeeper, the observability stack, a running backup per dumpable store) and the LimitRange max
 * must admit every container. Errors name `key`'s quota and limits.max (the config keys).
 */
export function requireGreenfieldFits(key: string, s: ResolvedGreenfield): void {
    const stores = DATA_STORES.map(d => ({ d, load: databaseLoad(greenfieldDatabases(s)[d]) }));
    const kafka = kafkaLoad(greenfieldKafkaCluster(s));
    const obs = observabilityLoad({ ...observabilityTunables(s), redis: {} });
    const backups = backupLoad(s.backups, BACKUP_STORES.length);
    const fastapi = tracksOf(s).map(t => ({
        pods: Math.max(t.replicas, t.autoscaling?.maxReplicas ?? 0) + FASTAPI_ROLLING_UPDATE.maxSurge, resources: s.fastapi.resources,
    }));
    // With the mesh on, Istio injects an istio-proxy into every pod of the namespace.
    const proxy = s.mesh?.sidecarResources;
    const groups: PodGroup[] = [...fastapi, ...stores.flatMap(x => x.load.pods), ...kafka.pods, ...obs.pods, ...backups.pods]
        .map((g: PodGroup): PodGroup => (proxy ? { ...g, sidecars: [...(g.sidecars ?? []), proxy] } : g));
    requireQuotaFits(`${key}.quota`, s.quota, budgetOf(
        groups, [...stores.flatMap(x => x.load.claims), ...kafka.claims, ...obs.claims, ...backups.claims],
    ), `for the system at its peak (FastAPI at its HPA maximum plus rolling-update surge${proxy ? ", an istio-proxy in every pod" : ""})`);
    // Each container by the config key that sizes it.
    requireLimitRangeFits(`${key}.limits.max`, s.limits, [
        [`${key}.fastapi`, s.fastapi.resources],
        ...stores.flatMap(({ d, load }) => load.containers.map(([c, r], i): [string, ResourceSpec] => [i === 0 ? `${key}.${d}` : `${key}.${d} ${c}`, r])),
        ...kafka.containers.map(([c, r]): [string, ResourceSpec] => [c === "kafka" ? `${key}.kafka` : `${key}.kafka.${c}`, r]),
        ...obs.containers.map(([c, r]): [string, ResourceSpec] => [`${key}.observability ${c}`, r]),
        ...(backups.pods.length > 0 ? [[`${key}.backups`, BACKUP_RESOURCES] as [string, ResourceSpec]] : []),
        ...(proxy ? [[`${key}.mesh.sidecarResources`, proxy] as [string, ResourceSpec]] : []),
    ]);
}

/** Grafana through the Istio gateway (mesh on, externalAccess): its host, all traffic to its Service. */
export function grafanaVirtualService(name: string, namespace: string, host: string, serviceHost: string): VirtualServiceSpec {
    return {
        name, namespace, hosts: [host], meshTraffic: false,
        split: { strategy: "single", destination: { host: serviceHost, port: GRAFANA_PORT } },
    };
}
