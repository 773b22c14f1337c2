/**
 * The label vocabulary the components write and the pack reads: label keys, each system's
 * app.kubernetes.io/part-of value and the roles (app.kubernetes.io/component or name) the traffic
 * plan matches. One module, imported by both sides (the pack stays self-contained: this file
 * imports nothing), so a renamed role cannot silently fall out of the plan.
 */

/** The app.kubernetes.io/* recommended labels. */
export const LABELS = {
    name: "app.kubernetes.io/name",
    instance: "app.kubernetes.io/instance",
    component: "app.kubernetes.io/component",
    partOf: "app.kubernetes.io/part-of",
    version: "app.kubernetes.io/version",
    managedBy: "app.kubernetes.io/managed-by",
} as const;

/** Label of a database naming the one service that owns it (outbox: each service its own database). */
export const OWNER_LABEL = "platform.io/owner";

/** app.kubernetes.io/part-of of each system. */
export const PART_OF = {
    restapi: "restapi",
    databaseService: "database-service",
    greenfield: "greenfield",
    cstore: "cstore",
    outbox: "outbox",
    /** Observability components of no system. */
    observability: "observability",
    /** The stack's Alertmanager, which every system's Prometheus sends to. */
    alerting: "alerting",
} as const;

/** Roles of the observability components (app.kubernetes.io/name and component). */
export const OBSERVABILITY_ROLES = {
    otelCollector: "otel-collector",
    jaeger: "jaeger",
    prometheus: "prometheus",
    grafana: "grafana",
    redisExporter: "redis-exporter",
    alertmanager: "alertmanager",
    kubeStateMetrics: "kube-state-metrics",
} as const;

/** Roles of the outbox services. */
export const OUTBOX_ROLES = { rest: "rest-service", grpc: "grpc-service", worker: "worker" } as const;
