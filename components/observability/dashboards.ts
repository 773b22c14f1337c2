/**
 * Grafana dashboards for the designs' key metrics (outbox-events.md "Grafana Dashboards",
 * greenfield-cluster.md "Key Metrics", cstore.md "Application, Redis, Performance"): latency
 * p50/p95/p99, request and error rate, Kafka consumer lag, database connection pool, CPU/memory and
 * Redis. Each is dashboard JSON as Grafana's file provisioning reads it (uid, title, schemaVersion,
 * panels with gridPos and targets), bound to the provisioned Prometheus datasource by uid.
 */

export const PROMETHEUS_DATASOURCE_UID = "prometheus";
export const JAEGER_DATASOURCE_UID = "jaeger";
/** Dashboard JSON schema version written (Grafana 11 reads it as is). */
export const SCHEMA_VERSION = 39;

export interface PanelTarget {
    expr: string;
    legendFormat: string;
}

export interface PanelSpec {
    title: string;
    unit: string;
    targets: PanelTarget[];
    /** Width in grid columns (24 per row); default 12. */
    width?: number;
}

export interface DashboardSpec {
    uid: string;
    title: string;
    tags: string[];
    panels: PanelSpec[];
}

export interface DashboardJson {
    uid: string;
    title: string;
    tags: string[];
    timezone: string;
    schemaVersion: number;
    version: number;
    editable: boolean;
    refresh: string;
    time: { from: string; to: string };
    templating: { list: unknown[] };
    annotations: { list: unknown[] };
    panels: {
        id: number;
        type: string;
        title: string;
        datasource: { type: string; uid: string };
        gridPos: { x: number; y: number; w: number; h: number };
        fieldConfig: { defaults: { unit: string }; overrides: unknown[] };
        options: Record<string, unknown>;
        targets: { refId: string; expr: string; legendFormat: string; datasource: { type: string; uid: string } }[];
    }[];
}

const ds = { type: "prometheus", uid: PROMETHEUS_DATASOURCE_UID };
const PANEL_HEIGHT = 8;

/** Lays the panels out left to right, top to bottom, and gives every target a refId. */
export function dashboardJson(spec: DashboardSpec): DashboardJson {
    let x = 0;
    let y = 0;
    const panels = spec.panels.map((p, i) => {
        const w = p.width ?? 12;
        if (x + w > 24) {
            x = 0;
            y += PANEL_HEIGHT;
        }
        const gridPos = { x, y, w, h: PANEL_HEIGHT };
        x += w;
        return {
            id: i + 1,
            type: "timeseries",
            title: p.title,
            datasource: ds,
            gridPos,
            fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
            options: { legend: { displayMode: "list", placement: "bottom" }, tooltip: { mode: "multi" } },
            targets: p.targets.map((t, j) => ({ refId: String.fromCharCode(65 + j), expr: t.expr, legendFormat: t.legendFormat, datasource: ds })),
        };
    });
    return {
        uid: spec.uid,
        title: spec.title,
        tags: spec.tags,
        timezone: "browser",
        schemaVersion: SCHEMA_VERSION,
        version: 1,
        editable: false,
        refresh: "30s",
        time: { from: "now-6h", to: "now" },
        templating: { list: [] },
        annotations: { list: [] },
        panels,
    };
}

const quantile = (q: number, metric: string) =>
    `histogram_quantile(${q}, sum by (job, le) (rate(${metric}_bucket[5m])))`;

export const DASHBOARDS: DashboardSpec[] = [
    {
        uid: "platform-application",
        title: "Application: latency, requests and errors",
        tags: ["platform", "application"],
        panels: [
            {
                title: "HTTP latency p50 / p95 / p99",
                unit: "s",
                width: 24,
                targets: [
                    { expr: quantile(0.5, "http_request_duration_seconds"), legendFormat: "{{job}} p50" },
                    { expr: quantile(0.95, "http_request_duration_seconds"), legendFormat: "{{job}} p95" },
                    { expr: quantile(0.99, "http_request_duration_seconds"), legendFormat: "{{job}} p99" },
                ],
            },
            {
                title: "Request rate (throughput)",
                unit: "reqps",
                targets: [
                    { expr: "sum by (job) (rate(http_requests_total[5m]))", legendFormat: "{{job}} HTTP" },
                    { expr: "sum by (job) (rate(grpc_server_handled_total[5m]))", legendFormat: "{{job}} gRPC" },
                ],
            },
            {
                title: "Error rate",
                unit: "percentunit",
                targets: [
                    { expr: 'sum by (job) (rate(http_requests_total{status=~"5.."}[5m])) / sum by (job) (rate(http_requests_total[5m]))', legendFormat: "{{job}} HTTP 5xx" },
                    { expr: 'sum by (job) (rate(grpc_server_handled_total{grpc_code!="OK"}[5m])) / sum by (job) (rate(grpc_server_handled_total[5m]))', legendFormat: "{{job}} gRPC errors" },
                ],
            },
            {
                title: "gRPC latency p50 / p95 / p99",
                unit: "s",
                width: 24,
                targets: [
                    { expr: quantile(0.5, "grpc_server_handling_seconds"), legendFormat: "{{job}} p50" },
                    { expr: quantile(0.95, "grpc_server_handling_seconds"), legendFormat: "{{job}} p95" },
                    { expr: quantile(0.99, "grpc_server_handling_seconds"), legendFormat: "{{job}} p99" },
                ],
            },
        ],
    },
    {
        uid: "platform-kafka",
        title: "Kafka: consumer lag and processing",
        tags: ["platform", "kafka"],
        panels: [
            { title: "Consumer lag by group and topic", unit: "short", width: 24, targets: [{ expr: "sum by (consumergroup, topic) (kafka_consumergroup_lag)", legendFormat: "{{consumergroup}} / {{topic}}" }] },
            { title: "Messages consumed", unit: "short", targets: [{ expr: "sum by (job) (rate(kafka_consumer_messages_consumed[5m]))", legendFormat: "{{job}}" }] },
            { title: "Worker messages processed", unit: "short", targets: [{ expr: "sum by (job) (rate(worker_messages_processed_total[5m]))", legendFormat: "{{job}}" }] },
            {
                title: "Worker processing duration p95",
                unit: "s",
                width: 24,
                targets: [{ expr: quantile(0.95, "worker_processing_duration_seconds"), legendFormat: "{{job}} p95" }],
            },
        ],
    },
    {
        uid: "platform-database",
        title: "Database connection pool",
        tags: ["platform", "database"],
        panels: [
            {
                title: "Open / in use / idle connections",
                unit: "short",
                targets: [
                    { expr: "sum by (job) (go_sql_open_connections)", legendFormat: "{{job}} open" },
                    { expr: "sum by (job) (go_sql_in_use_connections)", legendFormat: "{{job}} in use" },
                    { expr: "sum by (job) (go_sql_idle_connections)", legendFormat: "{{job}} idle" },
                ],
            },
            {
                title: "Pool usage (open / max)",
                unit: "percentunit",
                targets: [{ expr: "max by (job, instance) (go_sql_open_connections) / max by (job, instance) (go_sql_max_open_connections > 0)", legendFormat: "{{instance}}" }],
            },
            { title: "Waits for a connection", unit: "short", targets: [{ expr: "sum by (job) (rate(go_sql_wait_count_total[5m]))", legendFormat: "{{job}}" }] },
            { title: "Worker database operations", unit: "ops", targets: [{ expr: "sum by (job) (rate(worker_db_operations_total[5m]))", legendFormat: "{{job}}" }] },
        ],
    },
    {
        uid: "platform-resources",
        title: "Performance: CPU, memory, disk and network",
        tags: ["platform", "performance"],
        // cAdvisor (the kubelet's /metrics/cadvisor) per container, kube-state-metrics for the limits.
        panels: [
            { title: "CPU (cores) per pod", unit: "short", targets: [{ expr: 'sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{container!=""}[5m]))', legendFormat: "{{namespace}}/{{pod}}" }] },
            { title: "Working-set memory per pod", unit: "bytes", targets: [{ expr: 'sum by (namespace, pod) (container_memory_working_set_bytes{container!=""})', legendFormat: "{{namespace}}/{{pod}}" }] },
            {
                title: "Memory used / limit",
                unit: "percentunit",
                targets: [{
                    expr: 'max by (namespace, pod, container) (container_memory_working_set_bytes{container!=""}) / max by (namespace, pod, container) (kube_pod_container_resource_limits{resource="memory"} > 0)',
                    legendFormat: "{{namespace}}/{{pod}} {{container}}",
                }],
            },
            { title: "Pod restarts (1h)", unit: "short", targets: [{ expr: "sum by (namespace, pod) (increase(kube_pod_container_status_restarts_total[1h]))", legendFormat: "{{namespace}}/{{pod}}" }] },
            {
                title: "Disk I/O per pod",
                unit: "Bps",
                targets: [
                    { expr: 'sum by (namespace, pod) (rate(container_fs_reads_bytes_total{container!=""}[5m]))', legendFormat: "{{namespace}}/{{pod}} read" },
                    { expr: 'sum by (namespace, pod) (rate(container_fs_writes_bytes_total{container!=""}[5m]))', legendFormat: "{{namespace}}/{{pod}} write" },
                ],
            },
            {
                title: "Network throughput per pod",
                unit: "Bps",
                targets: [
                    { expr: "sum by (namespace, pod) (rate(container_network_receive_bytes_total[5m]))", legendFormat: "{{namespace}}/{{pod}} in" },
                    { expr: "sum by (namespace, pod) (rate(container_network_transmit_bytes_total[5m]))", legendFormat: "{{namespace}}/{{pod}} out" },
                ],
            },
            {
                title: "Volume usage per claim",
                unit: "percentunit",
                targets: [{ expr: "max by (namespace, persistentvolumeclaim) (kubelet_volume_stats_used_bytes / kubelet_volume_stats_capacity_bytes)", legendFormat: "{{namespace}}/{{persistentvolumeclaim}}" }],
            },
            { title: "Node CPU (cores used / cores)", unit: "percentunit", targets: [{ expr: 'sum by (node) (rate(container_cpu_usage_seconds_total{id="/"}[5m])) / sum by (node) (machine_cpu_cores)', legendFormat: "{{node}}" }] },
        ],
    },
    {
        uid: "platform-redis",
        title: "Redis",
        tags: ["platform", "redis"],
        panels: [
            { title: "Up", unit: "short", targets: [{ expr: "redis_up", legendFormat: "{{instance}}" }] },
            { title: "Connected clients", unit: "short", targets: [{ expr: "redis_connected_clients", legendFormat: "{{instance}}" }] },
            {
                title: "Memory used / max",
                unit: "bytes",
                targets: [
                    { expr: "redis_memory_used_bytes", legendFormat: "{{instance}} used" },
                    { expr: "redis_memory_max_bytes", legendFormat: "{{instance}} max" },
                ],
            },
            {
                title: "Cache hit rate",
                unit: "percentunit",
                targets: [{ expr: "rate(redis_keyspace_hits_total[5m]) / (rate(redis_keyspace_hits_total[5m]) + rate(redis_keyspace_misses_total[5m]))", legendFormat: "{{instance}}" }],
            },
        ],
    },
];
