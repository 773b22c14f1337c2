/**
 * The metric catalogue: which producer (an exporter, a kubelet endpoint Prometheus scrapes, or an
 * application whose design lists its metrics) exports which metric names, as a typed table; and the
 * selection of alert rule groups and dashboard queries by it. A system loads an alert group only
 * when something it deploys produces every metric the group's rules query (a group is the unit its
 * promtool tests cover), and a dashboard target only when its metrics are produced (a panel without
 * targets, a dashboard without panels, is left out): no alert or panel waits for data that never comes.
 *
 * Metric names are read from the PromQL expressions by `metricNames`, a small lexer of the parts of
 * PromQL the rules and panels use; the unit tests check it against the Prometheus project's own
 * grammar (@prometheus-io/lezer-promql) on every expression.
 */
import { AlertRuleGroup } from "./alerts";
import { DashboardSpec } from "./dashboards";

export type MetricType = "counter" | "gauge" | "histogram";

export interface MetricDef {
    name: string;
    type: MetricType;
}

/**
 * Producers, named as the workloads that run them are (app.kubernetes.io/name) or, for the kubelet,
 * as the Prometheus scrape job that reads it.
 */
export type Producer =
    | "prometheus" | "kube-state-metrics" | "kubelet" | "cadvisor" | "redis-exporter" | "kafka-exporter"
    | "fastapi" | "cstore-api" | "rest-service" | "grpc-service" | "python-worker";

export interface ProducerEntry {
    /** Where the names come from (the exporter's documentation, or the design that lists them). */
    source: string;
    metrics: MetricDef[];
}

const counter = (name: string): MetricDef => ({ name, type: "counter" });
const gauge = (name: string): MetricDef => ({ name, type: "gauge" });
const histogram = (name: string): MetricDef => ({ name, type: "histogram" });

const HTTP_SERVER: MetricDef[] = [counter("http_requests_total"), histogram("http_request_duration_seconds")];
const GO_SQL_POOL: MetricDef[] = [
    gauge("go_sql_open_connections"), gauge("go_sql_max_open_connections"), gauge("go_sql_in_use_connections"),
    gauge("go_sql_idle_connections"), counter("go_sql_wait_count_total"),
];

export const CATALOGUE: Record<Producer, ProducerEntry> = {
    prometheus: {
        source: "Prometheus' own /metrics (job prometheus)",
        metrics: [gauge("up"), gauge("prometheus_tsdb_head_series"), counter("prometheus_rule_evaluation_failures_total")],
    },
    "kube-state-metrics": {
        source: "kube-state-metrics v2 docs/metrics (the resources it is started with)",
        metrics: [
            counter("kube_pod_container_status_restarts_total"), gauge("kube_pod_container_resource_limits"),
            gauge("kube_pod_container_resource_requests"), gauge("kube_pod_status_phase"), gauge("kube_pod_status_ready"),
            gauge("kube_deployment_spec_replicas"), gauge("kube_deployment_status_replicas_available"),
            gauge("kube_deployment_status_replicas_unavailable"), gauge("kube_statefulset_replicas"),
            gauge("kube_statefulset_status_replicas_ready"), gauge("kube_persistentvolumeclaim_status_phase"),
            gauge("kube_horizontalpodautoscaler_status_current_replicas"), gauge("kube_horizontalpodautoscaler_spec_max_replicas"),
            gauge("kube_node_status_allocatable"), gauge("kube_node_status_condition"),
        ],
    },
    kubelet: {
        source: "the kubelet's /metrics (through the API server's node proxy)",
        metrics: [gauge("kubelet_volume_stats_used_bytes"), gauge("kubelet_volume_stats_capacity_bytes"), gauge("kubelet_volume_stats_available_bytes")],
    },
    cadvisor: {
        source: "the kubelet's /metrics/cadvisor (through the API server's node proxy): containers and the node (id=\"/\")",
        metrics: [
            counter("container_cpu_usage_seconds_total"), gauge("container_memory_working_set_bytes"),
            counter("container_fs_reads_bytes_total"), counter("container_fs_writes_bytes_total"),
            counter("container_network_receive_bytes_total"), counter("container_network_transmit_bytes_total"),
            gauge("machine_cpu_cores"), gauge("machine_memory_bytes"),
        ],
    },
    "redis-exporter": {
        source: "oliver006/redis_exporter",
        metrics: [
            gauge("redis_up"), gauge("redis_connected_clients"), gauge("redis_memory_used_bytes"), gauge("redis_memory_max_bytes"),
            counter("redis_keyspace_hits_total"), counter("redis_keyspace_misses_total"),
        ],
    },
    "kafka-exporter": {
        source: "danielqsj/kafka_exporter",
        metrics: [gauge("kafka_consumergroup_lag"), gauge("kafka_brokers"), gauge("kafka_topic_partition_current_offset")],
    },
    fastapi: { source: "greenfield-cluster.md Key Metrics (request rate, error rate, p50/p95/p99)", metrics: HTTP_SERVER },
    "cstore-api": { source: "cstore.md (p95 response time, request and error rate)", metrics: HTTP_SERVER },
    "rest-service": { source: "outbox-events.md Prometheus Metrics: REST Service", metrics: [...HTTP_SERVER, ...GO_SQL_POOL] },
    "grpc-service": {
        source: "outbox-events.md Prometheus Metrics: gRPC Service",
        metrics: [counter("grpc_server_handled_total"), histogram("grpc_server_handling_seconds"), counter("kafka_consumer_messages_consumed"), ...GO_SQL_POOL],
    },
    "python-worker": {
        source: "outbox-events.md Prometheus Metrics: Python Worker",
        metrics: [counter("worker_messages_processed_total"), histogram("worker_processing_duration_seconds"), counter("worker_db_operations_total")],
    },
};

/** The producers every ObservabilityStack (and CStore's Prometheus) deploys or scrapes. */
export const PLATFORM_PRODUCERS: readonly Producer[] = ["prometheus", "kube-state-metrics", "kubelet", "cadvisor"];

/** The series names a metric exposes (a histogram: _bucket, _sum, _count). */
export function seriesNames(m: MetricDef): string[] {
    return m.type === "histogram" ? [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`] : [m.name];
}

/** Every series name the producers export. */
export function producedMetrics(producers: readonly Producer[]): Set<string> {
    return new Set(producers.flatMap(p => CATALOGUE[p].metrics.flatMap(seriesNames)));
}

const KEYWORDS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "and", "or", "unless", "atan2", "inf", "nan"]);
/** Aggregation operators: followed by their arguments or by a `by`/`without` clause. */
const AGGREGATIONS = new Set(["sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio"]);
/** Keywords followed by a parenthesised list of label names. */
const LABEL_LIST_KEYWORDS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right"]);

/** The metric names a PromQL expression selects (in order of appearance, without repeats). */
export function metricNames(expr: string): string[] {
    const out: string[] = [];
    let i = 0;
    const skipString = (quote: string) => {
        i++;
        while (i < expr.length && expr[i] !== quote) {
            i += expr[i] === "\\" && quote !== "`" ? 2 : 1;
        }
        i++;
    };
    const skipUntil = (close: string) => {
        while (i < expr.length && expr[i] !== close) {
            if (expr[i] === "\"" || expr[i] === "'" || expr[i] === "`") {
                skipString(expr[i]);
            } else {
                i++;
            }
        }
        i++;
    };
    while (i < expr.length) {
        const c = expr[i];
        if (c === "\"" || c === "'" || c === "`") {
            skipString(c);
        } else if (c === "{") {
            skipUntil("}");
        } else if (c === "[") {
            skipUntil("]");
        } else if (c === "#") {
            skipUntil("\n");
        } else if (/[0-9.]/.test(c)) {
            // Numbers and durations (0.95, 1e3, 5m, 0x1f): never a metric name.
            while (i < expr.length && /[0-9a-zA-Z_.]/.test(expr[i])) {
                i++;
            }
        } else if (/[a-zA-Z_:]/.test(c)) {
            const start = i;
            while (i < expr.length && /[a-zA-Z0-9_:]/.test(expr[i])) {
                i++;
            }
            const word = expr.slice(start, i);
            let j = i;
            while (j < expr.length && /\s/.test(expr[j])) {
                j++;
            }
            const lower = word.toLowerCase();
            if (LABEL_LIST_KEYWORDS.has(lower)) {
                if (expr[j] === "(") {
                    i = j + 1;
                    skipUntil(")");
                }
            } else if (KEYWORDS.has(lower) || expr[j] === "(" || (AGGREGATIONS.has(lower) && /^(by|without)\b/i.test(expr.slice(j)))) {
                // A keyword, a function or an aggregation (sum, rate, histogram_quantile, ...).
            } else if (!out.includes(word)) {
                out.push(word);
            }
        } else {
            i++;
        }
    }
    return out;
}

/** The metrics an expression queries that none of the producers exports. */
export function missingMetrics(expr: string, produced: Set<string>): string[] {
    return metricNames(expr).filter(m => !produced.has(m));
}

/** The alert groups every rule of which queries produced metrics only. */
export function selectAlertGroups(groups: readonly AlertRuleGroup[], producers: readonly Producer[]): AlertRuleGroup[] {
    const produced = producedMetrics(producers);
    return groups.filter(g => g.rules.every(r => missingMetrics(r.expr, produced).length === 0));
}

/** The dashboards cut down to the targets whose metrics are produced; empty panels and dashboards left out. */
export function selectDashboards(dashboards: readonly DashboardSpec[], producers: readonly Producer[]): DashboardSpec[] {
    const produced = producedMetrics(producers);
    return dashboards
        .map(d => ({
            ...d,
            panels: d.panels
                .map(p => ({ ...p, targets: p.targets.filter(t => missingMetrics(t.expr, produced).length === 0) }))
                .filter(p => p.targets.length > 0),
        }))
        .filter(d => d.panels.length > 0);
}
