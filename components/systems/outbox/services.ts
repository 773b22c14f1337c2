/**
 * The Outbox system's workloads, planned: the three services (REST, gRPC, worker) with their
 * environment, probes, Services and flows, and the Kafka lag exporter. Pure: nothing is registered
 * here; the siblings' outputs (databases, brokers, the collector's endpoint) are parameters.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Database } from "../../database/database";
import { SECRET_KEYS } from "../../database/engines";
import { ContainerSpec, httpProbe, livenessTcp, secretEnv, tcpProbe } from "../../k8s/container";
import { scrapeAnnotations } from "../../k8s/metadata";
import { Peer, TrafficRule } from "../../k8s/traffic";
import { imageTag } from "../../k8s/validation";
import { WorkloadArgs } from "../../k8s/workload";
import { KafkaCluster } from "../../messaging/kafka";
import { OTEL_PORTS } from "../../observability/otel";
import { DATABASE_OF, EVENT_FLOW, OutboxPlan, OutboxService } from "./plan";
import { OUTBOX_PART_OF, OutboxEventsSpec, PORTS } from "./spec";

import EnvVar = k8s.types.input.core.v1.EnvVar;

/** What the services are wired to: the siblings' outputs. */
export interface ServiceWiring {
    namespace: pulumi.Input<string>;
    /** Each service's own database. */
    database: (s: OutboxService) => Pick<Database, "peer" | "host" | "secretName">;
    kafka: Pick<KafkaCluster, "bootstrapServers" | "clientEgress">;
    otlpGrpcEndpoint: pulumi.Input<string>;
    prometheus: Peer;
    collector: Peer;
}

const env = (name: string, value: pulumi.Input<string>): EnvVar => ({ name, value });

/** The environment every service shares: identity, logging, OTLP, its database (credentials as secretKeyRefs), Kafka. */
function commonEnv(p: OutboxPlan, spec: OutboxEventsSpec, s: OutboxService, w: ServiceWiring): pulumi.Input<EnvVar>[] {
    const db = w.database(s);
    const sp = p.services[s];
    const flow = EVENT_FLOW[s];
    const name = p.ids[s].name;
    return [
        env("SERVICE_NAME", name),
        env("LOG_LEVEL", sp.logLevel),
        env("LOG_FORMAT", "json"),
        env("OTEL_SERVICE_NAME", name),
        env("OTEL_EXPORTER_OTLP_ENDPOINT", w.otlpGrpcEndpoint),
        env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        env("OTEL_RESOURCE_ATTRIBUTES", `service.namespace=${OUTBOX_PART_OF},k8s.namespace.name=${spec.namespace}`),
        env("DB_HOST", db.host),
        env("DB_PORT", "5432"),
        env("DB_NAME", DATABASE_OF[s]),
        secretEnv("DB_USER", db.secretName, SECRET_KEYS.username),
        secretEnv("DB_PASSWORD", db.secretName, SECRET_KEYS.password),
        // The Database serves no TLS yet (see the system's notes).
        env("DB_SSLMODE", "disable"),
        env("DB_POOL_MIN_CONNS", String(sp.pool.minConnections)),
        env("DB_POOL_MAX_CONNS", String(sp.pool.maxConnections)),
        env("KAFKA_BOOTSTRAP_SERVERS", w.kafka.bootstrapServers),
        env("KAFKA_CLIENT_ID", name),
        env("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT"),
        ...(flow.produces.length ? [
            env("KAFKA_PRODUCE_TOPICS", flow.produces.join(",")),
            env("OUTBOX_POLL_INTERVAL_MS", String(spec.outboxProcessor.pollIntervalMs)),
            env("OUTBOX_BATCH_SIZE", String(spec.outboxProcessor.batchSize)),
        ] : []),
        ...(flow.consumes.length ? [
            env("KAFKA_CONSUME_TOPICS", flow.consumes.join(",")),
            env("KAFKA_CONSUMER_GROUP", s === "grpc" ? spec.grpcService.consumerGroup : spec.worker.consumerGroup),
        ] : []),
    ];
}

/** What differs between the services: ports, probes, their own env, Service ports and who may call them. */
interface ServiceShape {
    container: Omit<ContainerSpec, "name" | "image" | "resources" | "env">;
    env: EnvVar[];
    servicePorts: { name: string; port: number }[];
    ingress: TrafficRule[];
}

function shapeOf(p: OutboxPlan, spec: OutboxEventsSpec, s: OutboxService): ServiceShape {
    switch (s) {
        case "rest": {
            const r = spec.restService;
            return {
                container: {
                    ports: [{ name: "http", containerPort: r.port }],
                    livenessProbe: livenessTcp(r.port),
                    readinessProbe: httpProbe("/health", r.port, { initialDelaySeconds: 5 }),
                },
                env: [env("HTTP_PORT", String(r.port))],
                servicePorts: [{ name: "http", port: r.port }],
                ingress: [{ peer: p.ingressController, ports: [{ port: r.port }] }],
            };
        }
        case "grpc": {
            const g = spec.grpcService;
            return {
                container: {
                    ports: [{ name: "grpc", containerPort: g.port }, { name: "metrics", containerPort: g.metricsPort }],
                    // The design names no health service: readiness is the gRPC listener accepting
                    // connections, liveness the process answering on its metrics port.
                    livenessProbe: livenessTcp(g.metricsPort),
                    readinessProbe: tcpProbe(g.port, { initialDelaySeconds: 5 }),
                },
                env: [
                    env("GRPC_PORT", String(g.port)),
                    env("METRICS_PORT", String(g.metricsPort)),
                    env("GRPC_REFLECTION_ENABLED", String(g.reflection)),
                ],
                servicePorts: [{ name: "grpc", port: g.port }],
                ingress: g.external ? [{ peer: p.ingressController, ports: [{ port: g.port }] }] : [],
            };
        }
        case "worker": {
            const w = spec.worker;
            // Nobody calls the worker: no Service, only Prometheus reaches its metrics port.
            return {
                container: {
                    ports: [{ name: "metrics", containerPort: w.metricsPort }],
                    livenessProbe: livenessTcp(w.metricsPort),
                    readinessProbe: httpProbe("/metrics", w.metricsPort, { initialDelaySeconds: 5 }),
                },
                env: [env("METRICS_PORT", String(w.metricsPort))],
                servicePorts: [],
                ingress: [],
            };
        }
    }
}

/**
 * A service's Deployment: in from its callers and Prometheus, out to its own database, the brokers
 * and the collector; graceful shutdown lets in-flight requests finish and the outbox batch commit.
 */
export function serviceWorkload(p: OutboxPlan, spec: OutboxEventsSpec, s: OutboxService, w: ServiceWiring): WorkloadArgs {
    const sp = p.services[s];
    const shape = shapeOf(p, spec, s);
    const egress: TrafficRule[] = [
        { peer: w.database(s).peer, ports: [{ port: 5432 }] },
        w.kafka.clientEgress,
        { peer: w.collector, ports: [{ port: OTEL_PORTS.otlpGrpc }, { port: OTEL_PORTS.otlpHttp }] },
    ];
    return {
        namespace: w.namespace,
        identity: { ...p.ids[s], version: imageTag(sp.image) },
        kind: "Deployment",
        replicas: sp.replicas,
        containers: [{ name: p.ids[s].app!, image: sp.image, resources: sp.resources, env: [...commonEnv(p, spec, s, w), ...shape.env], ...shape.container }],
        autoscaling: sp.autoscaling,
        podAnnotations: scrapeAnnotations(p.metricsPort[s]),
        servicePorts: shape.servicePorts,
        traffic: { ingress: [...shape.ingress, { peer: w.prometheus, ports: [{ port: p.metricsPort[s] }] }], egress },
        terminationGracePeriodSeconds: 30,
    };
}

/** The Kafka lag exporter: one pod reading every broker, scraped by Prometheus. */
export function kafkaExporterWorkload(p: OutboxPlan, spec: OutboxEventsSpec, w: Pick<ServiceWiring, "namespace" | "prometheus"> & {
    kafka: Pick<KafkaCluster, "bootstrapServerList" | "clientEgress">;
}): WorkloadArgs {
    const e = spec.observability.kafkaExporter;
    return {
        namespace: w.namespace,
        identity: { ...p.exporterId, version: imageTag(e.image) },
        kind: "Deployment",
        replicas: 1,
        containers: [{
            name: "kafka-exporter",
            image: e.image,
            args: [
                ...Array.from({ length: spec.kafka.cluster.brokers }, (_, i) => w.kafka.bootstrapServerList.apply(l => `--kafka.server=${l[i]}`)),
                `--web.listen-address=:${PORTS.kafkaExporter}`,
                "--web.telemetry-path=/metrics",
            ],
            ports: [{ name: "metrics", containerPort: PORTS.kafkaExporter }],
            resources: e.resources,
            livenessProbe: livenessTcp(PORTS.kafkaExporter),
            // Its landing page: served once the exporter is up (/metrics would query Kafka).
            readinessProbe: httpProbe("/", PORTS.kafkaExporter, { initialDelaySeconds: 5 }),
        }],
        podAnnotations: scrapeAnnotations(PORTS.kafkaExporter),
        traffic: {
            ingress: [{ peer: w.prometheus, ports: [{ port: PORTS.kafkaExporter }] }],
            egress: [w.kafka.clientEgress],
        },
    };
}
