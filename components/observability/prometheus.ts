/**
 * Prometheus (cstore.md "Prometheus", greenfield-cluster.md "Prometheus (Metrics)"): one replica,
 * scrape interval 15s, 30-day retention on a ReadWriteOnce volume (20Gi in prod), Kubernetes pod
 * discovery through a dedicated ServiceAccount bound to a read-only ClusterRole (get/list/watch on
 * nodes, services, endpoints, pods and ingresses, nothing else), alert rules from a ConfigMap.
 * Egress: the declared scrape targets, the OTel collector's exporter and the API server; ingress:
 * the declared clients (Grafana).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { rollingConfigMap } from "../k8s/config";
import { httpProbe, ResourceSpec } from "../k8s/container";
import { standardLabels } from "../k8s/labels";
import { OBSERVABILITY_STORE } from "../k8s/profile";
import { OWNED_ANNOTATIONS } from "../k8s/metadata";
import { PolicyRule, READ } from "../k8s/rbac";
import { Peer, PortSpec, TrafficRule } from "../k8s/traffic";
import {
    durationSeconds, imageTag, requireDuration, requireOneOf, ValidationError,
} from "../k8s/validation";
import { Workload } from "../k8s/workload";
import { ALERTMANAGER_PORT, AlertmanagerTarget } from "./alerting";
import { AlertRuleGroup, alertRulesFile, DEFAULT_ALERT_GROUPS } from "./alerts";
import { checksum, identity, rules, StorageArgs } from "./common";
import { toYaml, YamlValue } from "./yaml";
import { dataClaim } from "../k8s/claim";

export const PROMETHEUS_IMAGE = "prom/prometheus:v2.54.1";
export const PROMETHEUS_PORT = 9090;
export const PROMETHEUS_CONFIG_FILE = "prometheus.yaml";
export const ALERT_RULES_FILE = "alerts.rules.yaml";
const CONFIG_DIR = "/etc/prometheus/config";
const RULES_DIR = "/etc/prometheus/rules";
const DATA_DIR = "/prometheus";

/**
 * The discovery role, rule for rule: read nodes, services, endpoints, pods and ingresses, and `get`
 * on nodes/proxy (the kubelet's /metrics and /metrics/cadvisor through the API server), nothing else.
 */
export const PROMETHEUS_DISCOVERY_RULES: PolicyRule[] = [
    { apiGroups: [""], resources: ["nodes", "services", "endpoints", "pods"], verbs: READ },
    { apiGroups: ["networking.k8s.io"], resources: ["ingresses"], verbs: READ },
    { apiGroups: [""], resources: ["nodes/proxy"], verbs: ["get"] },
];

/** Where the pod's API token and CA are mounted (automountServiceAccountToken). */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
/** The in-cluster name of the API server, through which the kubelet endpoints are scraped. */
export const API_SERVER_ADDRESS = "kubernetes.default.svc:443";
/** Scrape jobs of the kubelet (through the API server's node proxy): job name -> kubelet path. */
export const KUBELET_JOBS = { kubelet: "/metrics", cadvisor: "/metrics/cadvisor" } as const;
/** Scrape job of kube-state-metrics. */
export const KUBE_STATE_METRICS_JOB = "kube-state-metrics";

export interface OtelScrapeTarget {
    /** The collector's pods (egress) and where they run. */
    peer: Peer;
    namespace: pulumi.Input<string>;
    /** app.kubernetes.io/instance of the collector pods. */
    instance: string;
    /** Its Prometheus exporter port (8889). */
    port: number;
}

export interface PrometheusArgs {
    namespace: pulumi.Input<string>;
    partOf?: string;
    image?: string;
    resources?: ResourceSpec;
    /** Default 15s (cstore.md). */
    scrapeInterval?: string;
    /** Rule evaluation interval; defaults to the scrape interval. */
    evaluationInterval?: string;
    /** TSDB retention, default 30d (cstore.md). */
    retention?: string;
    /** The data volume (ReadWriteOnce claim): 20Gi in prod. */
    storage: StorageArgs;
    /** Scrape targets: their pods and metrics ports (egress). */
    scrapeTargets?: TrafficRule[];
    /** The OTel collector: a dedicated job scrapes its exporter on every collector pod. */
    otelCollector?: OtelScrapeTarget;
    /** kube-state-metrics: its pods (egress) and host:port (a static target). */
    kubeStateMetrics?: { peer: Peer; target: pulumi.Input<string>; port: number };
    /** Scrape the kubelet's /metrics and /metrics/cadvisor of every node through the API server (default true). */
    kubeletMetrics?: boolean;
    /** Limit pod discovery to these namespaces (all when absent). */
    scrapeNamespaces?: string[];
    /** The Kubernetes API server that discovery talks to: address ranges and ports (default 443 and 6443). */
    apiServer: { cidrs: string[]; ports?: number[] };
    /** Who queries Prometheus (Grafana). */
    clients?: Peer[];
    alertGroups?: AlertRuleGroup[];
    /** Name of the ClusterRole (cluster-scoped, so unique per cluster); default `<namespace>-<name>-discovery`. */
    clusterRoleName?: string;
    /** Keep the data volume through `pulumi destroy`. */
    protect?: boolean;
    /** The stack's Alertmanager: alerts go to every replica of it. */
    alertmanager?: AlertmanagerTarget;
}

export interface PrometheusConfigOptions {
    scrapeInterval: string;
    evaluationInterval: string;
    port: number;
    scrapeNamespaces?: string[];
    otelCollector?: { namespace: string; instance: string; port: number };
    /** host:port of every Alertmanager replica (the `alerting` block). */
    alertmanagers?: string[];
    /** host:port of kube-state-metrics. */
    kubeStateMetrics?: string;
    kubeletMetrics?: boolean;
}

/** Kubernetes SD labels kept on every pod target. */
const POD_TARGET_LABELS: YamlValue[] = [
    { source_labels: ["__meta_kubernetes_namespace"], target_label: "namespace", action: "replace" },
    { source_labels: ["__meta_kubernetes_pod_name"], target_label: "pod", action: "replace" },
];

/** prometheus.yml (https://prometheus.io/docs/prometheus/latest/configuration/configuration/). */
export function prometheusConfig(o: PrometheusConfigOptions): { [k: string]: YamlValue | undefined } {
    const interval = durationSeconds(o.scrapeInterval)!;
    const scrapeConfigs: YamlValue[] = [
        { job_name: "prometheus", static_configs: [{ targets: [`localhost:${o.port}`] }] },
        {
            // Pods that ask for it: prometheus.io/scrape "true", prometheus.io/port (a declared container
            // port), optional prometheus.io/path and prometheus.io/scheme. The job is the pod's app.
            job_name: "kubernetes-pods",
            kubernetes_sd_configs: [{ role: "pod", namespaces: o.scrapeNamespaces ? { names: o.scrapeNamespaces } : undefined }],
            relabel_configs: [
                { source_labels: ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"], regex: "true", action: "keep" },
                { source_labels: ["__meta_kubernetes_pod_phase"], regex: "Pending|Succeeded|Failed", action: "drop" },
                // One target per pod: the container port the annotation names.
                { source_labels: ["__meta_kubernetes_pod_container_port_number"], target_label: "__meta_kubernetes_pod_annotation_prometheus_io_port", action: "keepequal" },
                { source_labels: ["__meta_kubernetes_pod_annotation_prometheus_io_path"], regex: "(.+)", target_label: "__metrics_path__", action: "replace" },
                { source_labels: ["__meta_kubernetes_pod_annotation_prometheus_io_scheme"], regex: "(https?)", target_label: "__scheme__", action: "replace" },
                { source_labels: ["__meta_kubernetes_pod_label_app_kubernetes_io_name"], regex: "(.+)", target_label: "job", action: "replace" },
                ...POD_TARGET_LABELS,
            ],
        },
    ];
    if (o.otelCollector) {
        const c = o.otelCollector;
        scrapeConfigs.push({
            // Every collector pod's exporter (a Service would hand each scrape to one replica only).
            job_name: "otel-collector",
            honor_labels: true,
            kubernetes_sd_configs: [{ role: "pod", namespaces: { names: [c.namespace] } }],
            relabel_configs: [
                { source_labels: ["__meta_kubernetes_pod_label_app_kubernetes_io_instance"], regex: c.instance, action: "keep" },
                { source_labels: ["__meta_kubernetes_pod_container_port_number"], regex: String(c.port), action: "keep" },
                ...POD_TARGET_LABELS,
            ],
        });
    }
    if (o.kubeStateMetrics) {
        // honor_labels: the series' namespace and pod are the objects', not the exporter's.
        scrapeConfigs.push({ job_name: KUBE_STATE_METRICS_JOB, honor_labels: true, static_configs: [{ targets: [o.kubeStateMetrics] }] });
    }
    if (o.kubeletMetrics) {
        scrapeConfigs.push(...Object.entries(KUBELET_JOBS).map(([job, kubeletPath]) => kubeletJob(job, kubeletPath, o.scrapeNamespaces)));
    }
    return {
        global: {
            scrape_interval: o.scrapeInterval,
            scrape_timeout: interval >= 10 ? "10s" : o.scrapeInterval,
            evaluation_interval: o.evaluationInterval,
        },
        rule_files: [`${RULES_DIR}/*.yaml`],
        // Each replica gets every alert (an HA Alertmanager deduplicates): no Service in between.
        alerting: o.alertmanagers?.length
            ? { alertmanagers: [{ api_version: "v2", timeout: "10s", static_configs: [{ targets: o.alertmanagers }] }] }
            : undefined,
        scrape_configs: scrapeConfigs,
    };
}

/**
 * A kubelet endpoint of every node, read through the API server's node proxy with Prometheus' own
 * token (RBAC: get nodes/proxy): no egress to the nodes, no DaemonSet, no host access. With
 * scrapeNamespaces, only those namespaces' series are kept (and the node's own, which carry none).
 */
export function kubeletJob(job: string, kubeletPath: string, namespaces?: string[]): YamlValue {
    return {
        job_name: job,
        scheme: "https",
        authorization: { credentials_file: `${SERVICE_ACCOUNT_DIR}/token` },
        tls_config: { ca_file: `${SERVICE_ACCOUNT_DIR}/ca.crt` },
        kubernetes_sd_configs: [{ role: "node" }],
        relabel_configs: [
            { target_label: "__address__", replacement: API_SERVER_ADDRESS, action: "replace" },
            { source_labels: ["__meta_kubernetes_node_name"], regex: "(.+)", target_label: "__metrics_path__", replacement: `/api/v1/nodes/$1/proxy${kubeletPath}`, action: "replace" },
            { source_labels: ["__meta_kubernetes_node_name"], target_label: "node", action: "replace" },
        ],
        metric_relabel_configs: namespaces
            ? [{ source_labels: ["namespace"], regex: `|${namespaces.map(n => n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")}`, action: "keep" }]
            : undefined,
    };
}

const ALERT_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function validateAlertGroups(key: string, groups: AlertRuleGroup[]): void {
    if (!Array.isArray(groups) || groups.length === 0) {
        throw new ValidationError(key, "allowed: a non-empty list of rule groups");
    }
    const names = new Set<string>();
    groups.forEach((g, i) => {
        const k = `${key}[${i}]`;
        if (typeof g.name !== "string" || g.name === "" || names.has(g.name)) {
            throw new ValidationError(`${k}.name`, `${JSON.stringify(g.name)} is not allowed; allowed: a unique, non-empty group name`);
        }
        names.add(g.name);
        if (g.interval !== undefined) {
            requireDuration(`${k}.interval`, g.interval, "1m", 1);
        }
        g.rules.forEach((r, j) => {
            const rk = `${k}.rules[${j}]`;
            if (typeof r.alert !== "string" || !ALERT_NAME.test(r.alert)) {
                throw new ValidationError(`${rk}.alert`, `${JSON.stringify(r.alert)} is not allowed; allowed: a name matching [A-Za-z_][A-Za-z0-9_]*`);
            }
            if (typeof r.expr !== "string" || r.expr.trim() === "") {
                throw new ValidationError(`${rk}.expr`, "allowed: a non-empty PromQL expression");
            }
            if (r.for !== undefined) {
                requireDuration(`${rk}.for`, r.for, "5m", 0.001);
            }
            requireOneOf(`${rk}.severity`, r.severity, ["critical", "warning", "info"]);
            if (!r.summary || !r.description) {
                throw new ValidationError(rk, "allowed: a rule with both a summary and a description annotation");
            }
            if (r.runbookUrl !== undefined && !/^https?:\/\/\S+$/.test(r.runbookUrl)) {
                throw new ValidationError(`${rk}.runbookUrl`, `${JSON.stringify(r.runbookUrl)} is not allowed; allowed: an http(s) URL (default: the alert's section of docs/runbooks.md)`);
            }
        });
    });
}

/** Requests and limits when the args give none. */
export const PROMETHEUS_RESOURCES: ResourceSpec = { requests: { cpu: "250m", memory: "1Gi" }, limits: { cpu: "1", memory: "2Gi" } };

export class Prometheus extends pulumi.ComponentResource {
    public readonly host: pulumi.Output<string>;
    /** http://<host>:9090: Grafana's datasource URL. */
    public readonly url: pulumi.Output<string>;
    public readonly port: number;
    public readonly serviceAccountName: pulumi.Output<string>;
    public readonly clusterRoleName: pulumi.Output<string>;
    public readonly configMapName: pulumi.Output<string>;
    public readonly rulesConfigMapName: pulumi.Output<string>;
    public readonly retention: pulumi.Output<string>;
    public readonly scrapeInterval: pulumi.Output<string>;
    public readonly peer: Peer;
    public readonly workload: Workload;

    constructor(name: string, args: PrometheusArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:observability:Prometheus", name, {}, opts);
        const image = args.image ?? PROMETHEUS_IMAGE;
        const id = identity(name, "prometheus", args.partOf, imageTag(image));
        const labels = standardLabels(id);
        const child = { parent: this };
        const scrapeInterval = args.scrapeInterval ?? "15s";
        const evaluationInterval = args.evaluationInterval ?? scrapeInterval;
        const retention = args.retention ?? "30d";
        const collector = args.otelCollector;

        const ksm = args.kubeStateMetrics;
        const configYaml = pulumi.all([collector?.namespace ?? "", ksm?.target ?? ""]).apply(([collectorNs, ksmTarget]) => toYaml(prometheusConfig({
            scrapeInterval, evaluationInterval, port: PROMETHEUS_PORT, scrapeNamespaces: args.scrapeNamespaces,
            otelCollector: collector ? { namespace: collectorNs, instance: collector.instance, port: collector.port } : undefined,
            alertmanagers: args.alertmanager?.targets,
            kubeStateMetrics: ksm ? ksmTarget : undefined,
            kubeletMetrics: args.kubeletMetrics ?? true,
        })));
        const rulesYaml = toYaml(alertRulesFile(args.alertGroups ?? DEFAULT_ALERT_GROUPS));
        const config = rollingConfigMap(`${name}-config`, { namespace: args.namespace, labels, data: { [PROMETHEUS_CONFIG_FILE]: configYaml } }, child);
        const rulesCm = rollingConfigMap(`${name}-rules`, { namespace: args.namespace, labels, data: { [ALERT_RULES_FILE]: rulesYaml } }, child);

        // A Deployment with a ReadWriteOnce volume: a standalone claim and the Recreate strategy.
        const pvc = dataClaim(`${name}-data`, {
            name: `${name}-data`, namespace: args.namespace, labels, accessMode: "ReadWriteOnce",
            storageClass: args.storage.storageClass, size: args.storage.size, protect: args.protect,
        }, child);

        const apiPorts: PortSpec[] = (args.apiServer.ports ?? [443, 6443]).map(port => ({ port }));
        const egress: TrafficRule[] = [
            ...args.apiServer.cidrs.map(cidr => ({ peer: { kind: "cidr" as const, cidr }, ports: apiPorts })),
            ...(args.scrapeTargets ?? []),
        ];
        if (collector) {
            egress.push({ peer: collector.peer, ports: [{ port: collector.port }] });
        }
        if (args.alertmanager) {
            egress.push({ peer: args.alertmanager.peer, ports: [{ port: ALERTMANAGER_PORT }] });
        }
        if (ksm) {
            egress.push({ peer: ksm.peer, ports: [{ port: ksm.port }] });
        }

        this.workload = new Workload(name, {
            namespace: args.namespace,
            identity: id,
            kind: "Deployment",
            replicas: 1,
            profile: OBSERVABILITY_STORE,
            containers: [{
                name: "prometheus",
                image,
                args: [
                    `--config.file=${CONFIG_DIR}/${PROMETHEUS_CONFIG_FILE}`,
                    `--storage.tsdb.path=${DATA_DIR}`,
                    `--storage.tsdb.retention.time=${retention}`,
                    `--web.listen-address=:${PROMETHEUS_PORT}`,
                ],
                ports: [{ name: "web", containerPort: PROMETHEUS_PORT }],
                resources: args.resources ?? PROMETHEUS_RESOURCES,
                livenessProbe: httpProbe("/-/healthy", PROMETHEUS_PORT, { initialDelaySeconds: 30 }),
                readinessProbe: httpProbe("/-/ready", PROMETHEUS_PORT, { initialDelaySeconds: 10 }),
                volumeMounts: [
                    { name: "config", mountPath: CONFIG_DIR, readOnly: true },
                    { name: "rules", mountPath: RULES_DIR, readOnly: true },
                    { name: "data", mountPath: DATA_DIR },
                ],
            }],
            volumes: [
                { name: "config", configMap: { name: config.metadata.name } },
                { name: "rules", configMap: { name: rulesCm.metadata.name } },
                { name: "data", persistentVolumeClaim: { claimName: pvc.metadata.name } },
            ],
            podAnnotations: {
                "checksum/config": configYaml.apply(checksum),
                "checksum/rules": checksum(rulesYaml),
            },
            servicePorts: [{ name: "web", port: PROMETHEUS_PORT }],
            traffic: { ingress: rules(args.clients, [{ port: PROMETHEUS_PORT }]), egress },
            recreate: true,
            // Discovery reads the API: the one workload of the stack that mounts a token.
            automountServiceAccountToken: true,
            terminationGracePeriodSeconds: 60,
            protect: args.protect,
        }, child);

        // Cluster-scoped: the default carries the namespace, so equal names in two namespaces never collide.
        const roleName = args.clusterRoleName ?? pulumi.interpolate`${args.namespace}-${name}-discovery`;
        const role = new k8s.rbac.v1.ClusterRole(`${name}-discovery`, {
            metadata: { name: roleName, labels, annotations: OWNED_ANNOTATIONS },
            rules: PROMETHEUS_DISCOVERY_RULES,
        }, child);
        new k8s.rbac.v1.ClusterRoleBinding(`${name}-discovery`, {
            metadata: { name: roleName, labels, annotations: OWNED_ANNOTATIONS },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role.metadata.name },
            subjects: [{ kind: "ServiceAccount", name: this.workload.serviceAccountName, namespace: args.namespace }],
        }, child);

        this.peer = this.workload.peer;
        this.port = PROMETHEUS_PORT;
        this.serviceAccountName = this.workload.serviceAccountName;
        this.clusterRoleName = role.metadata.name;
        this.configMapName = config.metadata.name;
        this.rulesConfigMapName = rulesCm.metadata.name;
        this.retention = pulumi.output(retention);
        this.scrapeInterval = pulumi.output(scrapeInterval);
        this.host = this.workload.host.apply(h => h ?? "");
        this.url = pulumi.interpolate`http://${this.host}:${PROMETHEUS_PORT}`;
        this.registerOutputs({
            host: this.host, url: this.url, serviceAccountName: this.serviceAccountName, clusterRoleName: this.clusterRoleName,
            configMapName: this.configMapName, rulesConfigMapName: this.rulesConfigMapName, retention: this.retention,
            scrapeInterval: this.scrapeInterval,
        });
    }
}
