/** Observability (greenfield-cluster.md, cstore.md, outbox-events.md): the components and their generated configs. */
export * from "./alerting";
export * from "./alertmanager";
export * from "./alerts";
export * from "./common";
export * from "./dashboards";
export * from "./grafana";
export * from "./catalogue";
export * from "./jaeger";
export * from "./kubeStateMetrics";
export * from "./otel";
export * from "./prometheus";
export * from "./redisExporter";
export * from "./stack";
export { toYaml } from "./yaml";
