/**
 * The plan of an OutboxEvents system (outbox-events.md): identities, peers and the args of the
 * namespace, the three databases, Kafka and the observability stack, computed from the validated
 * spec alone. Pure: nothing is registered and nothing is validated again here.
 */
import * as pulumi from "@pulumi/pulumi";
import { backupPeer, DatabaseBackupArgs, planBackupFlow } from "../../backup/backup";
import { BACKUP_RESOURCES, backupLoad } from "../../backup/policy";
import { databaseLoad } from "../../database/spec";
import { Checked, checked } from "../../k8s/validation";
import { budgetOf, requireLimitRangeFits, requireQuotaFits, withSurge } from "../../k8s/capacity";
import { ResourceSpec } from "../../k8s/container";
import { Database, DatabaseArgs } from "../../database/database";
import { IngressRoutesArgs } from "../../edge/ingress";
import { grafanaRootUrl } from "../../edge/spec";
import { GRAFANA_PORT } from "../../observability/grafana";
import { AppIdentity, LABELS, OWNER_LABEL, selectorLabels } from "../../k8s/labels";
import { NamespaceBaselineArgs } from "../../k8s/namespace";
import { Peer, TrafficPlan, TrafficRule } from "../../k8s/traffic";
import { KafkaCluster, KafkaClusterArgs } from "../../messaging/kafka";
import { kafkaLoad, OUTBOX_TOPIC_NAMES, outboxTopics } from "../../messaging/spec";
import { KafkaTopicsArgs } from "../../messaging/topics";
import { KUBERNETES_ALERTS, OUTBOX_ALERTS } from "../../observability/alerts";
import { Producer } from "../../observability/catalogue";
import { observabilityPeer } from "../../observability/common";
import { DASHBOARDS } from "../../observability/dashboards";
import { observabilityLoad, ObservabilityStackArgs } from "../../observability/stack";
import { initScripts, maxConnections, OutboxDatabase } from "./schema";
import { maxPods, OUTBOX_PART_OF, OUTBOX_ROLES, OutboxEventsSpec, outboxPostgres, PORTS, ServiceSpec } from "./spec";

export type OutboxTopic = typeof OUTBOX_TOPIC_NAMES[number];
export type OutboxService = "rest" | "grpc" | "worker";

/** Who publishes and who consumes which topic. */
export const EVENT_FLOW: Record<OutboxService, { produces: OutboxTopic[]; consumes: OutboxTopic[] }> = {
    rest: { produces: ["resource.created", "resource.updated", "resource.deleted"], consumes: [] },
    grpc: { produces: ["task.process", "task.completed"], consumes: ["resource.created", "resource.updated", "resource.deleted", "task.process"] },
    worker: { produces: [], consumes: ["resource.created", "resource.updated", "resource.deleted", "task.completed"] },
};

/** Each service's database (its `databaseName` too). */
export const DATABASE_OF: Record<OutboxService, OutboxDatabase> = { rest: "restdb", grpc: "grpcdb", worker: "workerdb" };

/** The design's dashboards: latency percentiles, throughput, errors, consumer lag, pool, CPU/memory. */
export const OUTBOX_DASHBOARD_UIDS = ["platform-application", "platform-kafka", "platform-database", "platform-resources"];

export const OUTBOX_SERVICES: readonly OutboxService[] = ["rest", "grpc", "worker"];

/** Each service's app.kubernetes.io/name, which is also its producer in the metric catalogue. */
export const OUTBOX_APPS: Record<OutboxService, Producer> = { rest: "rest-service", grpc: "grpc-service", worker: "python-worker" };

export interface OutboxPlan {
    ids: Record<OutboxService, AppIdentity>;
    exporterId: AppIdentity;
    obsName: string;
    services: Record<OutboxService, ServiceSpec>;
    /** The port Prometheus scrapes on each service. */
    metricsPort: Record<OutboxService, number>;
    /** The namespace, quota and LimitRange as the system's spec checked them. */
    baseline: Checked<NamespaceBaselineArgs>;
    peerOf: (id: AppIdentity, ns: pulumi.Input<string>) => Peer;
    prometheusPeer: (ns: pulumi.Input<string>) => Peer;
    collectorPeer: (ns: pulumi.Input<string>) => Peer;
    ingressController: Peer;
    /** Name of the backup (CronJob, restore template, claim) of a service's database. */
    backupName: (s: OutboxService) => string;
    /** One PostgreSQL per service; its only clients are its owner (and, with backups on, its backup and restore Jobs). */
    database: (s: OutboxService, ns: pulumi.Input<string>) => Checked<DatabaseArgs>;
    /** Brokers reachable by the three services (and the lag exporter) only. */
    kafka: (ns: pulumi.Input<string>) => Checked<KafkaClusterArgs>;
    /** The services export OTLP to the collector; Prometheus scrapes their metrics ports. */
    observability: (ns: pulumi.Input<string>) => ObservabilityStackArgs;
    /**
     * The ingress-nginx routes: the REST API always, gRPC (backend-protocol GRPC, TLS) with
     * grpcService.external, Grafana (basic auth) with observability.grafana.fromIngress: exactly the
     * endpoints the NetworkPolicies open to the ingress controller.
     */
    edge: (ns: pulumi.Input<string>, services: { rest: pulumi.Input<string>; grpc: pulumi.Input<string>; grafana: pulumi.Input<string> }) => Checked<IngressRoutesArgs>;
    /**
     * With backups on (outbox-events.md "Backup Strategy": daily full backups of each PostgreSQL), a
     * service database's pg_dump CronJob: its flow (backup pods -> PostgreSQL) joins `traffic`, and its
     * pods get exactly that rule. Checked once, as outbox.backups; the names are the system's own.
     */
    backup?: (s: OutboxService, ns: pulumi.Input<string>, store: Pick<Database, "peer" | "host" | "secretName">, traffic: TrafficPlan) => Checked<DatabaseBackupArgs>;
    /**
     * The topics through the explicit kafka provider: an explicit bootstrap list (a broker outside the
     * cluster), else the in-cluster or external listeners as outbox.kafka.connection.access says.
     * `afterBrokers`: topics on this cluster's brokers wait for them; a broker outside is not gated by
     * this cluster's pods.
     */
    kafkaTopics(brokers: Pick<KafkaCluster, "bootstrapServerList" | "externalBootstrapServerList">): { args: Checked<KafkaTopicsArgs>; afterBrokers: boolean };
}

/**
 * The namespace's quota must hold the whole system at its peak (each service at its HPA maximum
 * plus the default 25% rolling-update surge, the lag exporter, the three PostgreSQL, Kafka, the
 * observability stack, a running backup per database) and the LimitRange max must admit every
 * container. Errors name `key`'s quota and limits.max (the config keys).
 */
export function requireOutboxFits(key: string, spec: OutboxEventsSpec): void {
    const e = spec.observability.kafkaExporter;
    const o = spec.observability;
    // By their config keys.
    const services: [string, ServiceSpec][] = [["restService", spec.restService], ["grpcService", spec.grpcService], ["worker", spec.worker]];
    const postgres = databaseLoad(outboxPostgres(spec));
    const kafka = kafkaLoad(spec.kafka.cluster);
    const obs = observabilityLoad({
        prometheus: { resources: o.prometheus.resources, storage: o.prometheus.storage },
        grafana: { resources: o.grafana.resources, storage: o.grafana.storage },
        otelCollector: o.otelCollector,
    });
    const backups = backupLoad(spec.backups, OUTBOX_SERVICES.length);
    const databases = OUTBOX_SERVICES.map(() => postgres);
    requireQuotaFits(`${key}.quota`, spec.quota, budgetOf([
        ...services.map(([, sp]) => ({ pods: withSurge(maxPods(sp)), resources: sp.resources })),
        ...(e.enabled ? [{ pods: withSurge(1), resources: e.resources }] : []),
        ...databases.flatMap(d => d.pods), ...kafka.pods, ...obs.pods, ...backups.pods,
    ], [...databases.flatMap(d => d.claims), ...kafka.claims, ...obs.claims, ...backups.claims]),
    "for the system at its peak (each service at its HPA maximum plus rolling-update surge)");
    // Each container by the config key that sizes it.
    requireLimitRangeFits(`${key}.limits.max`, spec.limits, [
        ...services.map(([k, sp]): [string, ResourceSpec] => [`${key}.${k}`, sp.resources]),
        ...(e.enabled ? [[`${key}.observability.kafkaExporter`, e.resources] as [string, ResourceSpec]] : []),
        ...postgres.containers.map(([c, r], i): [string, ResourceSpec] => [i === 0 ? `${key}.database` : `${key}.database ${c}`, r]),
        ...kafka.containers.map(([c, r]): [string, ResourceSpec] => [c === "kafka" ? `${key}.kafka.cluster` : `${key}.kafka.cluster.${c}`, r]),
        ...obs.containers.map(([c, r]): [string, ResourceSpec] => [`${key}.observability ${c}`, r]),
        ...(backups.pods.length > 0 ? [[`${key}.backups`, BACKUP_RESOURCES] as [string, ResourceSpec]] : []),
    ]);
}

export function planOutbox(name: string, spec: OutboxEventsSpec): OutboxPlan {
    const ids: Record<OutboxService, AppIdentity> = {
        rest: { name: `${name}-rest-service`, app: OUTBOX_APPS.rest, component: OUTBOX_ROLES.rest, partOf: OUTBOX_PART_OF },
        grpc: { name: `${name}-grpc-service`, app: OUTBOX_APPS.grpc, component: OUTBOX_ROLES.grpc, partOf: OUTBOX_PART_OF },
        worker: { name: `${name}-worker`, app: OUTBOX_APPS.worker, component: OUTBOX_ROLES.worker, partOf: OUTBOX_PART_OF },
    };
    const exporterId: AppIdentity = { name: `${name}-kafka-exporter`, app: "kafka-exporter", component: "kafka-exporter", partOf: OUTBOX_PART_OF };
    const exporterEnabled = spec.observability.kafkaExporter.enabled;
    const obsName = `${name}-obs`;
    const services: Record<OutboxService, ServiceSpec> = { rest: spec.restService, grpc: spec.grpcService, worker: spec.worker };
    const metricsPort: Record<OutboxService, number> = {
        rest: spec.restService.port, grpc: spec.grpcService.metricsPort, worker: spec.worker.metricsPort,
    };
    const peerOf = (id: AppIdentity, ns: pulumi.Input<string>): Peer => ({ kind: "pods", namespace: ns, selector: selectorLabels(id) });
    const ingressController: Peer = { kind: "namespace", namespace: spec.ingressNamespace };
    const protect = spec.protectData;
    const o = spec.observability;
    const routes = spec.ingress.routes;
    const backupName = (s: OutboxService) => `${name}-${DATABASE_OF[s]}-backup`;
    return {
        ids, exporterId, obsName, services, metricsPort, peerOf, ingressController, backupName,
        baseline: checked({
            name: spec.namespace, quota: spec.quota, limits: spec.limits, labels: { [LABELS.partOf]: OUTBOX_PART_OF },
            holdsProtectedData: spec.protectData,
        }),
        prometheusPeer: ns => observabilityPeer(`${obsName}-prometheus`, ns, OUTBOX_PART_OF),
        collectorPeer: ns => observabilityPeer(`${obsName}-otel-collector`, ns, OUTBOX_PART_OF),
        database: (s, ns) => {
            const db = DATABASE_OF[s];
            // Checked by validateOutboxEventsSpec with the Database's own rules (outbox.database).
            return checked({
                ...outboxPostgres(spec),
                databaseName: db,
                namespace: ns,
                partOf: OUTBOX_PART_OF,
                clients: [peerOf(ids[s], ns), ...(spec.backups ? [backupPeer(backupName(s), ns, OUTBOX_PART_OF)] : [])],
                protect,
                initScripts: initScripts(db),
                postgresql: { maxConnections: maxConnections(maxPods(services[s]), services[s].pool.maxConnections) },
                // The one service that owns this database (the policy pack's traffic plan reads it).
                labels: { [OWNER_LABEL]: ids[s].name },
            });
        },
        // Checked by validateOutboxEventsSpec with the KafkaCluster's own rules (outbox.kafka.cluster).
        kafka: ns => checked({
            ...spec.kafka.cluster,
            storageClass: spec.kafka.cluster.storageClass ?? spec.storageClass,
            namespace: ns,
            partOf: OUTBOX_PART_OF,
            clients: [...OUTBOX_SERVICES.map(s => peerOf(ids[s], ns)), ...(exporterEnabled ? [peerOf(exporterId, ns)] : [])],
            protect,
        }),
        observability: ns => {
            const scrapeTargets: TrafficRule[] = OUTBOX_SERVICES.map(s => ({ peer: peerOf(ids[s], ns), ports: [{ port: metricsPort[s] }] }));
            if (exporterEnabled) {
                scrapeTargets.push({ peer: peerOf(exporterId, ns), ports: [{ port: PORTS.kafkaExporter }] });
            }
            return {
                namespace: ns,
                partOf: OUTBOX_PART_OF,
                ingressFrom: o.grafana.fromIngress ? [ingressController] : [],
                apiServer: { cidrs: o.apiServerCidrs },
                telemetrySenders: OUTBOX_SERVICES.map(s => peerOf(ids[s], ns)),
                scrapeTargets,
                scrapeNamespaces: [spec.namespace],
                prometheus: {
                    storage: { size: o.prometheus.storage.size, storageClass: o.prometheus.storage.storageClass ?? spec.storageClass },
                    retention: o.prometheus.retention,
                    scrapeInterval: o.prometheus.scrapeInterval,
                    resources: o.prometheus.resources,
                    alertGroups: [OUTBOX_ALERTS, KUBERNETES_ALERTS],
                    // Cluster-scoped: named after the namespace so two systems never collide.
                    clusterRoleName: `${spec.namespace}-prometheus-discovery`,
                },
                grafana: {
                    storage: { size: o.grafana.storage.size, storageClass: o.grafana.storage.storageClass ?? spec.storageClass },
                    resources: o.grafana.resources,
                    dashboards: DASHBOARDS.filter(d => OUTBOX_DASHBOARD_UIDS.includes(d.uid)),
                    // Served under its ingress path when it has one.
                    rootUrl: o.grafana.fromIngress ? grafanaRootUrl(routes.grafana) : undefined,
                },
                otelCollector: { replicas: o.otelCollector.replicas, resources: o.otelCollector.resources },
                // The three services' metrics (outbox-events.md "Prometheus Metrics") and the lag exporter's.
                producers: [...OUTBOX_SERVICES.map(s => OUTBOX_APPS[s]), ...(exporterEnabled ? ["kafka-exporter" as const] : [])],
                protect,
            };
        },
        backup: spec.backups && ((s, ns, store, traffic) => {
            const b = spec.backups!;
            const db = DATABASE_OF[s];
            const ep = planBackupFlow(traffic, backupName(s), ns, OUTBOX_PART_OF, { id: `${OUTBOX_PART_OF}/${name}-${db}`, peer: store.peer }, [{ port: 5432 }]);
            return checked({
                namespace: ns, engine: "postgresql", host: store.host, port: 5432, databaseName: db,
                secretName: store.secretName, traffic: traffic.rulesFor(ep),
                schedule: b.schedule, retention: b.retention,
                storage: { size: b.storageSize, storageClass: spec.database.storage.storageClass ?? spec.storageClass },
                partOf: OUTBOX_PART_OF, protect,
            });
        }),
        kafkaTopics: brokers => {
            const t = spec.kafka.topics;
            const conn = spec.kafka.connection;
            return {
                // Checked by validateOutboxEventsSpec (outbox.kafka.topics, outbox.kafka.connection, the cluster's size).
                args: checked({
                    enabled: spec.kafka.manageTopics,
                    bootstrapServers: conn.bootstrapServers
                        ?? (conn.access === "external" ? brokers.externalBootstrapServerList.apply(l => l!) : brokers.bootstrapServerList),
                    tls: conn.tls,
                    sasl: conn.sasl,
                    brokers: spec.kafka.cluster.brokers,
                    clusterMinInsyncReplicas: spec.kafka.cluster.minInsyncReplicas,
                    topics: outboxTopics(t.replicationFactor, t.minInsyncReplicas, t.partitions),
                    protect,
                }),
                afterBrokers: conn.bootstrapServers === undefined,
            };
        },
        // Checked by validateOutboxEventsSpec (outbox.ingress: resolveEdgeSpec).
        edge: (ns, services) => checked({
            domain: spec.ingress.domain, clusterIssuer: spec.ingress.clusterIssuer, ingressClassName: spec.ingress.ingressClassName,
            skipAwait: spec.ingress.skipAwait, partOf: OUTBOX_PART_OF,
            api: { namespace: ns, serviceName: services.rest, servicePort: spec.restService.port, host: routes.rest.host, rateLimit: routes.rest.rateLimit },
            grpc: spec.grpcService.external
                ? { namespace: ns, serviceName: services.grpc, servicePort: spec.grpcService.port, host: routes.grpc.host, rateLimit: routes.grpc.rateLimit }
                : undefined,
            grafana: o.grafana.fromIngress ? {
                namespace: ns, serviceName: services.grafana, servicePort: GRAFANA_PORT, host: routes.grafana.host, path: routes.grafana.path,
                username: routes.grafana.basicAuthUser, rateLimit: routes.grafana.rateLimit,
            } : undefined,
        }),
    };
}
