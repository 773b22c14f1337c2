/**
 * Alert delivery: the stack's `k8s-platform:alerting` section (receivers, route, the Alertmanager's
 * size), validated here, and the alertmanager.yml it becomes. Receiver endpoints that carry
 * credentials (Slack webhook URLs, PagerDuty routing keys, webhook URLs with tokens) come from the
 * secret config key `k8s-platform:alertingSecrets` (a JSON object: receiver name -> URL or key);
 * the generated file holds them, so it is only ever a secret Output and a Kubernetes Secret.
 */
import { ResourceSpec, validateResources } from "../k8s/container";
import {
    rejectUnknownKeys, requireBoolean, requireCidrList, requireDnsLabel, requireDuration, requireIntInRange, requireNonEmptyString,
    requireObject, requireOneOf, requirePinnedImage, requireQuantity, ValidationError,
} from "../k8s/validation";
import { Peer } from "../k8s/traffic";
import { Severity } from "./alerts";
import { YamlValue } from "./yaml";

export const ALERTMANAGER_IMAGE = "prom/alertmanager:v0.27.0";
export const ALERTMANAGER_PORT = 9093;
/** Gossip between the replicas of an HA Alertmanager (TCP and UDP). */
export const ALERTMANAGER_CLUSTER_PORT = 9094;
export const RECEIVER_TYPES = ["webhook", "slack", "pagerduty"] as const;
export type ReceiverType = typeof RECEIVER_TYPES[number];
export const SEVERITIES: readonly Severity[] = ["critical", "warning", "info"];

/** Requests and limits when the config gives none (a few hundred alerts need little). */
export const ALERTMANAGER_RESOURCES: ResourceSpec = { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "200m", memory: "256Mi" } };
export const ALERTMANAGER_STORAGE_DEFAULT = "1Gi";

export interface ReceiverSpec {
    name: string;
    type: ReceiverType;
    /** webhook only: a plain in-cluster URL (http://<service>.<namespace>.svc...); otherwise the endpoint is a secret. */
    url?: string;
    /** slack only: the channel (the webhook's default when absent). */
    channel?: string;
    sendResolved: boolean;
}

/** An in-cluster webhook target parsed from a plain URL: the egress the Alertmanager needs. */
export interface InClusterTarget {
    namespace: string;
    port: number;
}

export interface RouteSpec {
    /** Receiver of everything no severity route takes. */
    receiver: string;
    groupBy: string[];
    groupWait: string;
    groupInterval: string;
    repeatInterval: string;
    /** severity label value -> receiver. */
    severity: Partial<Record<Severity, string>>;
}

export interface AlertingSpec {
    namespace: string;
    replicas: number;
    image: string;
    resources: ResourceSpec;
    storage: { size: string; storageClass: string };
    receivers: ReceiverSpec[];
    route: RouteSpec;
    /** HTTPS (443) egress for receivers outside the cluster. */
    egressCidrs: string[];
}

const KEYS = ["namespace", "replicas", "image", "resources", "storage", "receivers", "route", "egressCidrs"] as const;
const RECEIVER_KEYS = ["name", "type", "url", "channel", "sendResolved"] as const;
const ROUTE_KEYS = ["receiver", "groupBy", "groupWait", "groupInterval", "repeatInterval", "severity"] as const;
const IN_CLUSTER_URL = /^http:\/\/[a-z0-9]([-a-z0-9]*[a-z0-9])?\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc(\.cluster\.local)?:([0-9]{1,5})(\/[^\s]*)?$/;
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The in-cluster target of a plain webhook URL, or undefined when it is not one. */
export function inClusterTarget(url: string): InClusterTarget | undefined {
    const m = IN_CLUSTER_URL.exec(url);
    if (!m) {
        return undefined;
    }
    const port = Number(m[5]);
    return port >= 1 && port <= 65535 ? { namespace: m[2], port } : undefined;
}

/** Port of the default dev/local webhook receiver (a Service `alert-webhook` in the alerting namespace). */
export const DEV_WEBHOOK_PORT = 8080;

/**
 * dev and local without an `alerting` section: one webhook receiver to an in-namespace address
 * (`alert-webhook.<namespace>.svc.cluster.local:8080`, which the developer runs; README "Alerting").
 */
function devDefaults(namespace: string): Record<string, unknown> {
    return {
        receivers: [{ name: "dev-webhook", type: "webhook", url: `http://alert-webhook.${namespace}.svc.cluster.local:${DEV_WEBHOOK_PORT}/alerts` }],
        route: { receiver: "dev-webhook" },
    };
}

export interface AlertingContext {
    environment: string;
    storageClass: string;
    /** Names in `k8s-platform:alertingSecrets` (receiver name -> URL or routing key). */
    secretNames: string[];
    /** The full key of the secret, for the messages. */
    secretKey: string;
}

/** Validates `k8s-platform:alerting` (absent: the dev defaults; prod must configure it). */
export function validateAlertingSpec(key: string, raw: unknown, ctx: AlertingContext): AlertingSpec {
    const prod = ctx.environment === "prod";
    if (raw === undefined && prod) {
        throw new ValidationError(key, "missing in prod; allowed: an object with receivers (slack, pagerduty or webhook, their endpoints in " +
            `\`pulumi config set --secret ${ctx.secretKey}\`) and a route`);
    }
    const o = requireObject(key, raw ?? {});
    rejectUnknownKeys(key, o, KEYS);
    const namespace = requireDnsLabel(`${key}.namespace`, o.namespace ?? "alerting", 63);
    const withDefaults = o.receivers === undefined && o.route === undefined && !prod ? { ...o, ...devDefaults(namespace) } : o;
    const replicas = requireIntInRange(`${key}.replicas`, o.replicas ?? (prod ? 3 : 1), 1, 5);
    if (prod && replicas < 3) {
        throw new ValidationError(`${key}.replicas`, `${replicas} is not allowed in prod; allowed: 3 to 5 (an HA cluster survives the loss of a replica)`);
    }
    const storage = requireObject(`${key}.storage`, o.storage ?? {});
    rejectUnknownKeys(`${key}.storage`, storage, ["size", "storageClass"]);
    const receivers = validateReceivers(`${key}.receivers`, withDefaults.receivers, ctx);
    const route = validateRoute(`${key}.route`, withDefaults.route, receivers.map(r => r.name));
    const names = new Set(receivers.map(r => r.name));
    for (const s of ctx.secretNames) {
        if (!names.has(s)) {
            throw new ValidationError(`${ctx.secretKey}.${s}`, `no receiver is named ${JSON.stringify(s)}; allowed: ${[...names].join(", ")}`);
        }
    }
    const external = receivers.some(r => r.url === undefined);
    const egressCidrs = o.egressCidrs === undefined ? [] : requireCidrList(`${key}.egressCidrs`, o.egressCidrs);
    if (external && egressCidrs.length === 0) {
        throw new ValidationError(`${key}.egressCidrs`,
            "missing while a receiver is outside the cluster; allowed: the receivers' address ranges, e.g. [\"203.0.113.0/24\"] (HTTPS, port 443)");
    }
    return {
        namespace,
        replicas,
        image: requirePinnedImage(`${key}.image`, o.image ?? ALERTMANAGER_IMAGE),
        resources: o.resources === undefined ? ALERTMANAGER_RESOURCES : validateResources(`${key}.resources`, o.resources),
        storage: {
            size: requireQuantity(`${key}.storage.size`, storage.size ?? ALERTMANAGER_STORAGE_DEFAULT, "storage"),
            storageClass: storage.storageClass === undefined ? ctx.storageClass : requireNonEmptyString(`${key}.storage.storageClass`, storage.storageClass),
        },
        receivers,
        route,
        egressCidrs,
    };
}

function validateReceivers(key: string, raw: unknown, ctx: AlertingContext): ReceiverSpec[] {
    if (!Array.isArray(raw) || raw.length === 0) {
        throw new ValidationError(key, "allowed: a non-empty list of receivers {name, type: webhook|slack|pagerduty}");
    }
    const prod = ctx.environment === "prod";
    const seen = new Set<string>();
    return raw.map((item, i) => {
        const k = `${key}[${i}]`;
        const r = requireObject(k, item);
        rejectUnknownKeys(k, r, RECEIVER_KEYS);
        const name = requireDnsLabel(`${k}.name`, r.name, 63);
        if (seen.has(name)) {
            throw new ValidationError(`${k}.name`, `${JSON.stringify(name)} is already a receiver; allowed: a unique name`);
        }
        seen.add(name);
        const type = requireOneOf(`${k}.type`, r.type, RECEIVER_TYPES);
        const secret = ctx.secretNames.includes(name);
        let url: string | undefined;
        if (r.url !== undefined) {
            if (type !== "webhook") {
                throw new ValidationError(`${k}.url`, `not allowed for a ${type} receiver; allowed: its endpoint in \`pulumi config set --secret ${ctx.secretKey}\``);
            }
            url = requireNonEmptyString(`${k}.url`, r.url);
            if (!inClusterTarget(url)) {
                throw new ValidationError(`${k}.url`, `${JSON.stringify(url)} is not allowed in plain config (it may carry a token); allowed: ` +
                    `an in-cluster http://<service>.<namespace>.svc.cluster.local:<port>/ URL, or the URL in \`pulumi config set --secret ${ctx.secretKey}\``);
            }
            if (prod) {
                throw new ValidationError(`${k}.url`, `an in-cluster webhook is not a delivered alert in prod; allowed: a slack, pagerduty or webhook receiver ` +
                    `whose endpoint is in \`pulumi config set --secret ${ctx.secretKey}\``);
            }
            if (secret) {
                throw new ValidationError(`${k}.url`, `set both here and in ${ctx.secretKey}; allowed: one of them`);
            }
        } else if (!secret) {
            throw new ValidationError(`${ctx.secretKey}.${name}`,
                `missing: receiver ${name} (${type}) has no endpoint; allowed: \`pulumi config set --secret ${ctx.secretKey} '{"${name}": "<${type === "pagerduty" ? "routing key" : "URL"}>"}'\``);
        }
        if (r.channel !== undefined && type !== "slack") {
            throw new ValidationError(`${k}.channel`, `not allowed for a ${type} receiver; allowed: slack receivers only`);
        }
        return {
            name, type, url,
            channel: r.channel === undefined ? undefined : requireNonEmptyString(`${k}.channel`, r.channel),
            sendResolved: r.sendResolved === undefined ? true : requireBoolean(`${k}.sendResolved`, r.sendResolved),
        };
    });
}

function validateRoute(key: string, raw: unknown, receivers: string[]): RouteSpec {
    const o = requireObject(key, raw ?? {});
    rejectUnknownKeys(key, o, ROUTE_KEYS);
    const receiver = (k: string, v: unknown): string => requireOneOf(k, v, receivers);
    const groupBy = o.groupBy ?? ["alertname", "namespace", "job"];
    if (!Array.isArray(groupBy) || groupBy.length === 0 || groupBy.some(l => typeof l !== "string" || !LABEL_NAME.test(l))) {
        throw new ValidationError(`${key}.groupBy`, `${JSON.stringify(groupBy)} is not allowed; allowed: a non-empty list of label names such as ["alertname", "namespace"]`);
    }
    const severity = requireObject(`${key}.severity`, o.severity ?? {});
    rejectUnknownKeys(`${key}.severity`, severity, SEVERITIES);
    return {
        receiver: receiver(`${key}.receiver`, o.receiver ?? receivers[0]),
        groupBy: groupBy as string[],
        groupWait: requireDuration(`${key}.groupWait`, o.groupWait ?? "30s", "30s", 1, 3600),
        groupInterval: requireDuration(`${key}.groupInterval`, o.groupInterval ?? "5m", "5m", 1, 86400),
        repeatInterval: requireDuration(`${key}.repeatInterval`, o.repeatInterval ?? "4h", "4h", 60, 7 * 86400),
        severity: Object.fromEntries(Object.entries(severity).map(([s, r]) => [s, receiver(`${key}.severity.${s}`, r)])),
    };
}

/**
 * alertmanager.yml (https://prometheus.io/docs/alerting/latest/configuration/). `secrets` holds the
 * endpoints (receiver name -> URL or routing key): call it inside an apply of a secret Output only.
 */
export function alertmanagerConfig(spec: Pick<AlertingSpec, "receivers" | "route">, secrets: Record<string, string>): { [k: string]: YamlValue } {
    const endpoint = (r: ReceiverSpec): string => r.url ?? secrets[r.name] ?? "";
    const r = spec.route;
    return {
        route: {
            receiver: r.receiver,
            group_by: r.groupBy,
            group_wait: r.groupWait,
            group_interval: r.groupInterval,
            repeat_interval: r.repeatInterval,
            routes: SEVERITIES.filter(s => r.severity[s] !== undefined)
                .map(s => ({ receiver: r.severity[s]!, matchers: [`severity="${s}"`] })),
        },
        // A firing critical alert silences the warning of the same name and place.
        inhibit_rules: [{ source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: ["alertname", "namespace"] }],
        receivers: spec.receivers.map(rc => {
            switch (rc.type) {
                case "webhook":
                    return { name: rc.name, webhook_configs: [{ url: endpoint(rc), send_resolved: rc.sendResolved }] };
                case "slack":
                    return {
                        name: rc.name,
                        slack_configs: [{
                            api_url: endpoint(rc), channel: rc.channel, send_resolved: rc.sendResolved,
                            title: '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.severity }})',
                            text: "{{ range .Alerts }}{{ .Annotations.summary }}\nRunbook: {{ .Annotations.runbook_url }}\n{{ end }}",
                        }],
                    };
                case "pagerduty":
                    return {
                        name: rc.name,
                        pagerduty_configs: [{
                            routing_key: endpoint(rc), send_resolved: rc.sendResolved,
                            description: "{{ .CommonLabels.alertname }}: {{ .CommonAnnotations.summary }}",
                            links: [{ href: "{{ .CommonAnnotations.runbook_url }}", text: "Runbook" }],
                        }],
                    };
            }
        }),
    };
}

/** Where a Prometheus sends its alerts: every Alertmanager replica by its stable pod DNS name. */
export interface AlertmanagerTarget {
    /** The Alertmanager pods (Prometheus' egress). */
    peer: Peer;
    /** host:port of each replica. */
    targets: string[];
}

/** Stable DNS names of the replicas of StatefulSet `name` behind its `<name>-headless` Service. */
export function alertmanagerPodHosts(name: string, namespace: string, replicas: number): string[] {
    return Array.from({ length: replicas }, (_, i) => `${name}-${i}.${name}-headless.${namespace}.svc.cluster.local`);
}
