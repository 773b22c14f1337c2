/**
 * Alert rules recommended by outbox-events.md ("Monitoring and Alerting"), as a Prometheus rule
 * file generated from objects. Metric names are the ones the designs list (http_requests_total,
 * http_request_duration_seconds, grpc_server_handled_total, go_sql_open_connections); consumer lag
 * is kafka_exporter's kafka_consumergroup_lag, pod restarts kube-state-metrics'
 * kube_pod_container_status_restarts_total.
 */
import { YamlValue } from "./yaml";

export type Severity = "critical" | "warning" | "info";

export interface AlertRule {
    alert: string;
    expr: string;
    /** How long the condition must hold before the alert fires (Prometheus duration). */
    for?: string;
    severity: Severity;
    summary: string;
    description: string;
    /** Where the on-call engineer starts; default: the alert's section of docs/runbooks.md. */
    runbookUrl?: string;
}

export interface AlertRuleGroup {
    name: string;
    /** Evaluation interval of the group; the global one when absent. */
    interval?: string;
    rules: AlertRule[];
}

/** The design's six recommendations (error rate for both the REST and the gRPC service). */
export const OUTBOX_ALERTS: AlertRuleGroup = {
    name: "outbox-events",
    rules: [
        {
            alert: "HighErrorRate",
            expr: 'sum by (job) (rate(http_requests_total{status=~"5.."}[5m])) / sum by (job) (rate(http_requests_total[5m])) > 0.05',
            for: "5m",
            severity: "critical",
            summary: "HTTP error rate above 5% on {{ $labels.job }}",
            description: "{{ $value | humanizePercentage }} of the requests of {{ $labels.job }} failed with a 5xx status over the last 5 minutes (threshold 5% for 5m).",
        },
        {
            alert: "HighGrpcErrorRate",
            expr: 'sum by (job) (rate(grpc_server_handled_total{grpc_code!="OK"}[5m])) / sum by (job) (rate(grpc_server_handled_total[5m])) > 0.05',
            for: "5m",
            severity: "critical",
            summary: "gRPC error rate above 5% on {{ $labels.job }}",
            description: "{{ $value | humanizePercentage }} of the gRPC calls of {{ $labels.job }} ended with a code other than OK over the last 5 minutes (threshold 5% for 5m).",
        },
        {
            alert: "HighLatencyP95",
            expr: "histogram_quantile(0.95, sum by (job, le) (rate(http_request_duration_seconds_bucket[5m]))) > 0.5",
            for: "5m",
            severity: "warning",
            summary: "p95 latency above 500ms on {{ $labels.job }}",
            description: "The 95th percentile of the request duration of {{ $labels.job }} is {{ $value | humanizeDuration }} (threshold 500ms).",
        },
        {
            alert: "KafkaConsumerLagHigh",
            expr: "sum by (consumergroup, topic) (kafka_consumergroup_lag) > 10000",
            for: "5m",
            severity: "warning",
            summary: "Kafka consumer group {{ $labels.consumergroup }} lags on {{ $labels.topic }}",
            description: "Consumer group {{ $labels.consumergroup }} is {{ $value }} messages behind on topic {{ $labels.topic }} (threshold 10000).",
        },
        {
            alert: "DatabaseConnectionsHigh",
            // Pools without a limit report max 0: they are left out rather than dividing by zero.
            expr: "max by (job, instance) (go_sql_open_connections) / max by (job, instance) (go_sql_max_open_connections > 0) > 0.8",
            for: "5m",
            severity: "warning",
            summary: "Database connection pool of {{ $labels.instance }} above 80% of its maximum",
            description: "{{ $labels.instance }} ({{ $labels.job }}) uses {{ $value | humanizePercentage }} of its maximum open connections (threshold 80%).",
        },
        {
            alert: "PodRestartingOften",
            expr: "increase(kube_pod_container_status_restarts_total[10m]) > 3",
            severity: "warning",
            summary: "Pod {{ $labels.namespace }}/{{ $labels.pod }} restarts often",
            description: "Container {{ $labels.container }} of {{ $labels.namespace }}/{{ $labels.pod }} restarted {{ printf \"%.0f\" $value }} times in 10 minutes (threshold 3).",
        },
        {
            alert: "ThroughputDrop",
            expr: "sum by (job) (rate(http_requests_total[5m])) < 0.5 * sum by (job) (rate(http_requests_total[5m] offset 1h))",
            for: "10m",
            severity: "warning",
            summary: "Throughput of {{ $labels.job }} dropped by half",
            description: "{{ $labels.job }} serves less than 50% of the requests per second it served an hour ago.",
        },
    ],
};

/**
 * Every system's Kubernetes alerts, from kube-state-metrics and the kubelet (cAdvisor and volume
 * stats): workloads short of ready replicas, containers near their memory limit, claims filling up.
 */
export const KUBERNETES_ALERTS: AlertRuleGroup = {
    name: "kubernetes",
    rules: [
        {
            alert: "KubeDeploymentReplicasUnavailable",
            expr: "max by (namespace, deployment) (kube_deployment_status_replicas_unavailable) > 0",
            for: "15m",
            severity: "warning",
            summary: "Deployment {{ $labels.namespace }}/{{ $labels.deployment }} lacks available replicas",
            description: "{{ $value }} replica(s) of {{ $labels.namespace }}/{{ $labels.deployment }} have been unavailable for 15 minutes.",
        },
        {
            alert: "KubeStatefulSetReplicasNotReady",
            expr: "max by (namespace, statefulset) (kube_statefulset_replicas) - max by (namespace, statefulset) (kube_statefulset_status_replicas_ready) > 0",
            for: "15m",
            severity: "warning",
            summary: "StatefulSet {{ $labels.namespace }}/{{ $labels.statefulset }} lacks ready replicas",
            description: "{{ $value }} replica(s) of {{ $labels.namespace }}/{{ $labels.statefulset }} have not been ready for 15 minutes.",
        },
        {
            alert: "ContainerMemoryNearLimit",
            expr: 'max by (namespace, pod, container) (container_memory_working_set_bytes{container!=""}) / max by (namespace, pod, container) (kube_pod_container_resource_limits{resource="memory"} > 0) > 0.9',
            for: "10m",
            severity: "warning",
            summary: "Container {{ $labels.container }} of {{ $labels.namespace }}/{{ $labels.pod }} near its memory limit",
            description: "{{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.container }}) uses {{ $value | humanizePercentage }} of its memory limit (threshold 90%): it will be OOM-killed at 100%.",
        },
        {
            alert: "PersistentVolumeFillingUp",
            expr: "max by (namespace, persistentvolumeclaim) (kubelet_volume_stats_available_bytes / kubelet_volume_stats_capacity_bytes) < 0.1",
            for: "5m",
            severity: "critical",
            summary: "Volume of claim {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} almost full",
            description: "Only {{ $value | humanizePercentage }} of the volume of {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} is free (threshold 10%).",
        },
    ],
};

/** What a Prometheus loads when its args name no groups (a system narrows them by the catalogue). */
export const DEFAULT_ALERT_GROUPS: AlertRuleGroup[] = [KUBERNETES_ALERTS];

/** docs/runbooks.md of the project's repository: one section per alert, its anchor the alert's name in lowercase. */
export const RUNBOOK_BASE_URL = "https://github.com/k8s-platform/k8s-platform/blob/main/docs/runbooks.md";

export function runbookUrl(rule: Pick<AlertRule, "alert" | "runbookUrl">): string {
    return rule.runbookUrl ?? `${RUNBOOK_BASE_URL}#${rule.alert.toLowerCase()}`;
}

/**
 * The rule file (https://prometheus.io/docs/prometheus/latest/configuration/alerting_rules/). Every
 * alert carries a severity label (the Alertmanager routes on it) and summary, description and
 * runbook_url annotations (what the receivers show).
 */
export function alertRulesFile(groups: AlertRuleGroup[]): { [k: string]: YamlValue } {
    return {
        groups: groups.map(g => ({
            name: g.name,
            interval: g.interval,
            rules: g.rules.map(r => ({
                alert: r.alert,
                expr: r.expr,
                for: r.for,
                labels: { severity: r.severity },
                annotations: { summary: r.summary, description: r.description, runbook_url: runbookUrl(r) },
            })),
        })),
    };
}
