// Fixture builders: valid resources, and a helper to change exactly one field of a copy.
import { T } from "../lib/k8s";
import { PlainResource } from "../testing/harness";

export const DELETE = Symbol("delete");

/** A deep copy of `value` with the field at `path` ("a.b.0.c") set to `v` (or removed with DELETE). */
export function mutate<X>(value: X, path: string, v: unknown): X {
    const copy = JSON.parse(JSON.stringify(value));
    const keys = path.split(".");
    let cur = copy;
    for (const k of keys.slice(0, -1)) {
        if (cur[k] === undefined) cur[k] = /^\d+$/.test(k) ? [] : {};
        cur = cur[k];
    }
    const last = keys[keys.length - 1];
    if (v === DELETE) {
        if (Array.isArray(cur)) cur.splice(Number(last), 1);
        else delete cur[last];
    } else {
        cur[last] = v;
    }
    return copy;
}

export const clone = <X>(x: X): X => JSON.parse(JSON.stringify(x));

export function labels(partOf: string, component: string, name = component) {
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/instance": name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": partOf,
    };
}

export function container(name = "app", image = "registry.example/app:1.2.3") {
    return {
        name,
        image,
        ports: [{ name: "http", containerPort: 8080 }],
        resources: {
            requests: { cpu: "100m", memory: "128Mi", "ephemeral-storage": "64Mi" },
            limits: { cpu: "500m", memory: "256Mi", "ephemeral-storage": "512Mi" },
        },
        securityContext: {
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"] },
        },
        livenessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 20, failureThreshold: 6 },
        readinessProbe: { httpGet: { path: "/health", port: 8080 } },
        env: [{ name: "LOG_LEVEL", value: "info" }, { name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "db", key: "password" } } }],
    };
}

export function podSpec(name = "app") {
    return {
        serviceAccountName: name,
        automountServiceAccountToken: false,
        priorityClassName: "platform-service",
        securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: "RuntimeDefault" } },
        volumes: [{ name: "tmp", emptyDir: { sizeLimit: "256Mi" } }],
        containers: [container(name)],
        initContainers: [{ ...container("init"), livenessProbe: undefined, readinessProbe: undefined }],
    };
}

/** Where the pod spec sits inside each workload kind. */
export const POD_SPEC_PATH: Record<string, string> = {
    Deployment: "spec.template.spec",
    StatefulSet: "spec.template.spec",
    DaemonSet: "spec.template.spec",
    Job: "spec.template.spec",
    CronJob: "spec.jobTemplate.spec.template.spec",
    Pod: "spec",
};

export const WORKLOAD_TYPES: Record<string, string> = {
    Deployment: T.Deployment,
    StatefulSet: T.StatefulSet,
    DaemonSet: T.DaemonSet,
    Job: T.Job,
    CronJob: T.CronJob,
    Pod: T.Pod,
};

export interface WorkloadOptions {
    ns?: string;
    name?: string;
    labels?: Record<string, string>;
    replicas?: number;
}

export function workload(kind: string, opts: WorkloadOptions = {}): PlainResource {
    const ns = opts.ns ?? "shop";
    const name = opts.name ?? "api";
    const podLabels = opts.labels ?? labels("cstore", name);
    const spec = JSON.parse(JSON.stringify(podSpec(name)));
    const metadata = { name, namespace: ns, labels: podLabels };
    if ((opts.replicas ?? 1) > 1) {
        spec.topologySpreadConstraints = ["kubernetes.io/hostname", "topology.kubernetes.io/zone"].map((topologyKey, i) => ({
            maxSkew: 1, topologyKey, whenUnsatisfiable: i === 0 ? "DoNotSchedule" : "ScheduleAnyway", labelSelector: { matchLabels: podLabels },
        }));
    }
    const template = { metadata: { labels: podLabels }, spec };
    let props: Record<string, unknown>;
    switch (kind) {
        case "Pod":
            props = { metadata, spec };
            break;
        case "CronJob":
            props = { metadata, spec: { schedule: "0 * * * *", jobTemplate: { spec: { template } } } };
            break;
        case "Job":
            props = { metadata, spec: { template } };
            break;
        case "DaemonSet":
            props = { metadata, spec: { selector: { matchLabels: podLabels }, template } };
            break;
        case "StatefulSet":
            props = {
                metadata,
                spec: {
                    replicas: opts.replicas ?? 1,
                    serviceName: name,
                    selector: { matchLabels: podLabels },
                    template,
                    volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } }],
                },
            };
            break;
        default:
            props = { metadata, spec: { replicas: opts.replicas ?? 1, selector: { matchLabels: podLabels }, template } };
    }
    return { type: WORKLOAD_TYPES[kind], name: `${ns}-${name}`, props };
}

export const deployment = (opts: WorkloadOptions = {}) => workload("Deployment", opts);

export function res(type: string, name: string, props: Record<string, unknown>): PlainResource {
    return { type, name, props };
}

export function namespace(ns: string, extraLabels: Record<string, string> = {}): PlainResource {
    return res(T.Namespace, ns, { metadata: { name: ns, labels: extraLabels } });
}

export function defaultDeny(ns: string): PlainResource {
    return res(T.NetworkPolicy, `${ns}-default-deny`, {
        metadata: { name: "default-deny", namespace: ns },
        spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    });
}

export function dnsEgress(ns: string): PlainResource {
    return res(T.NetworkPolicy, `${ns}-allow-dns`, {
        metadata: { name: "allow-dns", namespace: ns },
        spec: {
            podSelector: {},
            policyTypes: ["Egress"],
            egress: [
                {
                    to: [
                        {
                            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
                            podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
                        },
                    ],
                    ports: [
                        { protocol: "UDP", port: 53 },
                        { protocol: "TCP", port: 53 },
                    ],
                },
            ],
        },
    });
}

export function netpol(ns: string, name: string, spec: Record<string, unknown>): PlainResource {
    return res(T.NetworkPolicy, `${ns}-${name}`, { metadata: { name, namespace: ns }, spec });
}

/** Namespace + quota + limit range + default-deny + DNS egress: the platform's namespace conventions. */
export function namespaceBundle(ns: string): PlainResource[] {
    return [
        namespace(ns),
        res(T.ResourceQuota, `${ns}-quota`, { metadata: { name: "quota", namespace: ns }, spec: { hard: { "requests.cpu": "4" } } }),
        res(T.LimitRange, `${ns}-limits`, { metadata: { name: "limits", namespace: ns }, spec: { limits: [{ type: "Container" }] } }),
        defaultDeny(ns),
        dnsEgress(ns),
    ];
}

export function role(kind: "Role" | "ClusterRole", name: string, rules: unknown[], extra: Record<string, unknown> = {}): PlainResource {
    const metadata: Record<string, unknown> = { name, ...extra };
    if (kind === "Role") metadata.namespace = metadata.namespace ?? "shop";
    return res(kind === "Role" ? T.Role : T.ClusterRole, name, { metadata, rules });
}

export function binding(kind: "RoleBinding" | "ClusterRoleBinding", name: string, roleRef: { kind: string; name: string }, subjects: unknown[], ns = "shop"): PlainResource {
    const metadata: Record<string, unknown> = { name };
    if (kind === "RoleBinding") metadata.namespace = ns;
    return res(kind === "RoleBinding" ? T.RoleBinding : T.ClusterRoleBinding, name, {
        metadata,
        roleRef: { apiGroup: "rbac.authorization.k8s.io", ...roleRef },
        subjects,
    });
}

export function serviceAccount(ns: string, name: string, automount?: boolean): PlainResource {
    const props: Record<string, unknown> = { metadata: { name, namespace: ns } };
    if (automount !== undefined) props.automountServiceAccountToken = automount;
    return res(T.ServiceAccount, `${ns}-${name}-sa`, props);
}
