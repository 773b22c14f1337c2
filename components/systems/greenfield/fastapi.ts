/**
 * Greenfield's FastAPI app, planned: its flows (in from the ingress and Prometheus, out to every data
 * store, Kafka and the collector), its environment (addresses from the siblings' outputs,
 * credentials only as secretKeyRefs to the databases' Secrets) and each track's Workload args.
 * Pure: nothing is registered here; the siblings' outputs are parameters.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Database } from "../../database/database";
import { REDIS_MASTER_NAME, SECRET_KEYS } from "../../database/engines";
import { secretEnv } from "../../k8s/container";
import { selectorLabels, standardLabels } from "../../k8s/labels";
import { OWNED_ANNOTATIONS, scrapeAnnotations } from "../../k8s/metadata";
import { Endpoint, Peer, TrafficPlan, WorkloadTraffic } from "../../k8s/traffic";
import { imageTag } from "../../k8s/validation";
import { WorkloadArgs } from "../../k8s/workload";
import { KAFKA_PORTS } from "../../messaging/kafka";
import { OTEL_PORTS } from "../../observability/otel";
import { GreenfieldPlan, Track } from "./plan";
import { DATA_STORES, DataStore, DEFAULTS, GREENFIELD_PART_OF, ResolvedGreenfield } from "./spec";

import EnvVar = k8s.types.input.core.v1.EnvVar;

/** A data store as FastAPI reaches it (a Database's outputs). */
export type StoreWiring = Pick<Database, "peer" | "clientPorts" | "host" | "port" | "secretName" | "sentinel">;

/** What FastAPI is wired to: the siblings' outputs. */
export interface FastapiWiring {
    stores: Record<DataStore, StoreWiring>;
    kafka: { peer: Peer; bootstrapServers: pulumi.Input<string>; topic: pulumi.Input<string> };
    otlpGrpcEndpoint: pulumi.Input<string>;
}

/** FastAPI's flows: in from the ingress and Prometheus, out to every data store, Kafka and the collector. */
export function fastapiTraffic(p: GreenfieldPlan, s: ResolvedGreenfield, w: Pick<FastapiWiring, "stores" | "kafka">): { plan: TrafficPlan; endpoint: Endpoint } {
    const n = p.names;
    const partOf = GREENFIELD_PART_OF;
    const port = [{ port: s.fastapi.port }];
    const endpoint: Endpoint = { id: `${partOf}/${n.fastapi}`, peer: p.peers.fastapi };
    const plan = new TrafficPlan();
    plan.allow({ id: "ingress", peer: p.peers.external }, endpoint, port);
    plan.allow({ id: `${partOf}/${n.prometheus}`, peer: p.peers.prometheus }, endpoint, port);
    for (const d of DATA_STORES) {
        plan.allow(endpoint, { id: `${partOf}/${n[d]}`, peer: w.stores[d].peer }, w.stores[d].clientPorts);
    }
    plan.allow(endpoint, { id: `${partOf}/${n.kafka}`, peer: w.kafka.peer }, [{ port: KAFKA_PORTS.client }]);
    plan.allow(endpoint, { id: `${partOf}/${n.collector}`, peer: p.peers.collector }, [{ port: OTEL_PORTS.otlpGrpc }, { port: OTEL_PORTS.otlpHttp }]);
    return { plan, endpoint };
}

/** A track's environment: addresses from the outputs, credentials only as secretKeyRefs. */
export function fastapiEnv(s: ResolvedGreenfield, t: Track, w: FastapiWiring): pulumi.Input<EnvVar>[] {
    const f = s.fastapi;
    const db = w.stores;
    const portOf = (d: DataStore) => pulumi.output(db[d].port).apply(String);
    return [
        { name: "APP_PORT", value: String(f.port) },
        { name: "OTEL_SERVICE_NAME", value: "fastapi" },
        { name: "OTEL_RESOURCE_ATTRIBUTES", value: `service.namespace=${GREENFIELD_PART_OF},service.version=${imageTag(t.image)}` },
        { name: "OTEL_EXPORTER_OTLP_ENDPOINT", value: w.otlpGrpcEndpoint },
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
        { name: "KAFKA_BOOTSTRAP_SERVERS", value: w.kafka.bootstrapServers },
        { name: "KAFKA_TOPIC", value: w.kafka.topic },
        ...Object.entries(f.env).map(([envName, value]) => ({ name: envName, value })),
    ];
}

/** A track's Deployment: its image and size, Prometheus' scrape annotations, zero-downtime rollouts. */
export function fastapiWorkload(p: GreenfieldPlan, s: ResolvedGreenfield, t: Track, namespace: pulumi.Input<string>,
    env: pulumi.Input<EnvVar>[], traffic: WorkloadTraffic): WorkloadArgs {
    const f = s.fastapi;
    return {
        namespace,
        identity: { ...p.fastapiId, version: imageTag(t.image) },
        kind: "Deployment",
        replicas: t.replicas,
        selectorExtra: t.label ? { [t.label.key]: t.label.value } : undefined,
        containers: [{ ...p.fastapiContainer(t.image), env }],
        podAnnotations: scrapeAnnotations(f.port, f.metricsPath),
        servicePorts: [{ name: "http", port: f.port }],
        autoscaling: t.autoscaling,
        // Zero-downtime rollouts: one extra pod at a time, never one fewer.
        rollingUpdate: DEFAULTS.fastapi.rollingUpdate,
        traffic,
    };
}

/** With two tracks, one Service selects both: the stable in-cluster address the VirtualService splits. */
export function fastapiStableService(p: GreenfieldPlan, s: ResolvedGreenfield, namespace: pulumi.Input<string>): k8s.core.v1.ServiceArgs {
    const port = s.fastapi.port;
    return {
        metadata: { name: p.names.fastapi, namespace, labels: standardLabels(p.fastapiId), annotations: OWNED_ANNOTATIONS },
        spec: {
            type: "ClusterIP",
            selector: selectorLabels(p.fastapiId),
            ports: [{ name: "http", port, targetPort: port, protocol: "TCP" }],
        },
    };
}
