// The traffic plan: the flows the designs allow, as data, and the check of a graph against it.
import { PortSpec } from "../lib/netpol";
import { Edge, Endpoint, portLabel, TrafficGraph } from "./analysis";
import { LABELS, OBSERVABILITY_ROLES as OBS, OUTBOX_ROLES, OWNER_LABEL, PART_OF as SYSTEM } from "../lib/labels";

export const PART_OF = LABELS.partOf;
export const COMPONENT = LABELS.component;
export const NAME = LABELS.name;
export const INSTANCE = LABELS.instance;
export const OWNER = OWNER_LABEL;

/**
 * Selects endpoints of the traffic graph. Every field given must hold (AND); a list means any of its values.
 * - outside: the ingress-controller namespaces, ipBlocks and "external" (everything not a workload of the stack
 *   except namespaces such as kube-system);
 * - anyWorkload: any workload of the stack;
 * - partOf / role: workload labels app.kubernetes.io/part-of and app.kubernetes.io/component-or-name;
 * - notRole: excludes workloads with one of these roles;
 * - namespace: the endpoint's namespace (workloads or pods outside the stack);
 * - labels: exact label values (workload pod labels, or the labels a peer selects outside the stack);
 * - sameAs (target side only): label keys whose values must equal the source's;
 * - ownedBySource (target side only): the target's platform.io/owner label equals the source's
 *   app.kubernetes.io/instance (how a database names the one service that owns it).
 */
export interface Matcher {
    outside?: boolean;
    anyWorkload?: boolean;
    partOf?: string | string[];
    role?: string | string[];
    notRole?: string[];
    namespace?: string | string[];
    labels?: Record<string, string>;
    sameAs?: string[];
    ownedBySource?: boolean;
}

export interface PlanPort {
    protocol?: string;
    port: number | string;
}

export interface PlanRule {
    description: string;
    from: Matcher;
    to: Matcher;
    /** Absent: any port. */
    ports?: PlanPort[];
}

const list = (v: string | string[] | undefined): string[] | undefined => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);

export function roleOf(ep: Endpoint): string[] {
    return [ep.labels[COMPONENT], ep.labels[NAME]].filter((x): x is string => !!x);
}

export function matches(m: Matcher, ep: Endpoint, ingressNamespaces: string[], source?: Endpoint): boolean {
    const isOutside = ep.kind === "external" || ep.kind === "ipBlock" || (ep.kind === "namespace" && !!ep.namespace && ingressNamespaces.includes(ep.namespace));
    if (m.outside !== undefined && m.outside !== isOutside) return false;
    if (m.anyWorkload && ep.kind !== "workload") return false;
    const partOf = list(m.partOf);
    if (partOf && (ep.kind !== "workload" || !partOf.includes(ep.labels[PART_OF]))) return false;
    const role = list(m.role);
    // Workloads, and pods outside the stack selected by their role labels (e.g. another namespace's Prometheus).
    if (role && !roleOf(ep).some((r) => role.includes(r))) return false;
    if (m.notRole && roleOf(ep).some((r) => m.notRole!.includes(r))) return false;
    const ns = list(m.namespace);
    if (ns && (!ep.namespace || !ns.includes(ep.namespace))) return false;
    for (const [k, v] of Object.entries(m.labels ?? {})) {
        if (ep.labels[k] !== v) return false;
    }
    if (m.sameAs && source) {
        for (const k of m.sameAs) {
            if (ep.labels[k] !== source.labels[k]) return false;
        }
    }
    if (m.ownedBySource && (!source || !source.labels[INSTANCE] || ep.labels[OWNER] !== source.labels[INSTANCE])) return false;
    const constrained =
        m.outside !== undefined || m.anyWorkload || partOf || role || ns || m.labels || m.notRole || m.sameAs || m.ownedBySource;
    return !!constrained;
}

function covers(rulePorts: PlanPort[] | undefined, p: PortSpec): boolean {
    if (!rulePorts) return true;
    if (p.port === undefined) return false;
    return rulePorts.some((rp) => {
        if ((rp.protocol ?? "TCP") !== p.protocol) return false;
        if (typeof rp.port === "string" || typeof p.port === "string") return rp.port === p.port && p.endPort === undefined;
        return p.port === rp.port && (p.endPort === undefined || p.endPort === rp.port);
    });
}

export interface PlanViolation {
    edge: Edge;
    /** The ports of the edge no rule allows (undefined = "any port"). */
    ports: PortSpec[] | undefined;
    message: string;
}

export interface PlanCheckOptions {
    ingressNamespaces: string[];
    /** Workloads without the part-of label whose flows are accepted ("ns/name" or "ns/*"). */
    allowedUnlabeled: string[];
}

function allowListed(ep: Endpoint | undefined, entries: string[]): boolean {
    if (!ep || ep.kind !== "workload" || ep.labels[PART_OF]) return false;
    return entries.some((e) => e === ep.id || (e.endsWith("/*") && ep.namespace === e.slice(0, -2)));
}

/** Compares every edge of the graph with the plan; returns the flows it does not allow. */
export function checkPlan(graph: TrafficGraph, rules: PlanRule[], opts: PlanCheckOptions): PlanViolation[] {
    const byId = new Map(graph.endpoints.map((e) => [e.id, e]));
    const out: PlanViolation[] = [];
    for (const edge of graph.edges) {
        const from = byId.get(edge.from);
        const to = byId.get(edge.to);
        if (!from || !to) continue;
        if (allowListed(from, opts.allowedUnlabeled) || allowListed(to, opts.allowedUnlabeled)) continue;
        const applicable = rules.filter(
            (r) => matches(r.from, from, opts.ingressNamespaces) && matches(r.to, to, opts.ingressNamespaces, from),
        );
        let uncovered: PortSpec[] | undefined;
        if (edge.ports === undefined) {
            if (applicable.some((r) => !r.ports)) continue;
            uncovered = undefined;
        } else {
            uncovered = edge.ports.filter((p) => !applicable.some((r) => covers(r.ports, p)));
            if (uncovered.length === 0) continue;
        }
        out.push({
            edge,
            ports: uncovered,
            message: `flow ${edge.from} -> ${edge.to} on ${portLabel(uncovered)} is not in the traffic plan`,
        });
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// The designs' plan

const tcp = (...ports: number[]): PlanPort[] => ports.map((port) => ({ protocol: "TCP", port }));
const DATASTORES = ["mongodb", "redis", "postgres", "postgresql", "mysql", "elasticsearch", "database"];
const OPERATORS = ["operator", "controller-manager", "restapi-operator", "database-operator"];
const OUTBOX_SERVICES = [OUTBOX_ROLES.rest, OUTBOX_ROLES.grpc, OUTBOX_ROLES.worker, "python-worker"];

/**
 * Flows allowed by the designs (restapi-operator.md, database-operator.md, greenfield-cluster.md, cstore.md,
 * outbox-events.md). Workloads are recognised by app.kubernetes.io/part-of (system) and
 * app.kubernetes.io/component or app.kubernetes.io/name (role).
 */
export const DEFAULT_PLAN: PlanRule[] = [
    // Platform conventions.
    {
        description: "every workload resolves names through kube-dns",
        from: { anyWorkload: true },
        to: { namespace: "kube-system", labels: { "k8s-app": "kube-dns" } },
        ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }],
    },
    // restapi-operator.md: External <-> View Component Only; service communication diagram.
    { description: "restapi: from outside only the view", from: { outside: true }, to: { partOf: SYSTEM.restapi, role: "view" } },
    { description: "restapi: view -> model", from: { partOf: SYSTEM.restapi, role: "view" }, to: { partOf: SYSTEM.restapi, role: "model" } },
    { description: "restapi: model <-> controller", from: { partOf: SYSTEM.restapi, role: "model" }, to: { partOf: SYSTEM.restapi, role: "controller" } },
    { description: "restapi: controller <-> model", from: { partOf: SYSTEM.restapi, role: "controller" }, to: { partOf: SYSTEM.restapi, role: "model" } },
    { description: "restapi: controller <-> repository", from: { partOf: SYSTEM.restapi, role: "controller" }, to: { partOf: SYSTEM.restapi, role: "repository" } },
    { description: "restapi: repository <-> controller", from: { partOf: SYSTEM.restapi, role: "repository" }, to: { partOf: SYSTEM.restapi, role: "controller" } },
    { description: "restapi: controller -> view (response formatting)", from: { partOf: SYSTEM.restapi, role: "controller" }, to: { partOf: SYSTEM.restapi, role: "view" } },
    { description: "restapi: repository -> its databases", from: { partOf: SYSTEM.restapi, role: "repository" }, to: { partOf: SYSTEM.databaseService, notRole: OPERATORS } },
    // Operators (restapi-operator.md: Operator <-> API Server; database-operator.md) reach the API server only.
    { description: "operators -> Kubernetes API server", from: { partOf: [SYSTEM.restapi, SYSTEM.databaseService], role: OPERATORS }, to: { outside: true }, ports: tcp(443, 6443) },
    // cstore.md network policies.
    { description: "cstore: from the ingress controller to the API, Grafana and the CDN", from: { outside: true }, to: { partOf: SYSTEM.cstore, role: ["api", "cstore-api", "grafana", "cdn", "nginx-cdn"] } },
    { description: "cstore: API -> MongoDB (only the API)", from: { partOf: SYSTEM.cstore, role: ["api", "cstore-api"] }, to: { partOf: SYSTEM.cstore, role: "mongodb" }, ports: tcp(27017) },
    { description: "cstore: API -> Redis", from: { partOf: SYSTEM.cstore, role: ["api", "cstore-api"] }, to: { partOf: SYSTEM.cstore, role: "redis" }, ports: tcp(6379) },
    { description: "cstore: Redis exporter -> Redis", from: { partOf: SYSTEM.cstore, role: OBS.redisExporter }, to: { partOf: SYSTEM.cstore, role: "redis" }, ports: tcp(6379) },
    { description: "cstore: API -> HTTPS outside", from: { partOf: SYSTEM.cstore, role: ["api", "cstore-api"] }, to: { outside: true }, ports: tcp(443) },
    // greenfield-cluster.md request and event flows.
    { description: "greenfield: from the ingress gateway to FastAPI", from: { outside: true }, to: { partOf: SYSTEM.greenfield, role: "fastapi" } },
    {
        description: "greenfield: FastAPI -> Redis, PostgreSQL, MySQL, MongoDB, Kafka",
        from: { partOf: SYSTEM.greenfield, role: "fastapi" },
        to: { partOf: SYSTEM.greenfield, role: ["redis", "postgres", "postgresql", "mysql", "mongodb", "kafka"] },
    },
    { description: "Kafka -> ZooKeeper", from: { role: "kafka" }, to: { role: "zookeeper", sameAs: [PART_OF] } },
    { description: "ZooKeeper -> Kafka", from: { role: "zookeeper" }, to: { role: "kafka", sameAs: [PART_OF] } },
    { description: "Kafka brokers replicate among themselves", from: { role: "kafka" }, to: { role: "kafka", sameAs: [PART_OF] } },
    { description: "ZooKeeper quorum", from: { role: "zookeeper" }, to: { role: "zookeeper", sameAs: [PART_OF] } },
    {
        description: "data stores replicate among their own replicas",
        from: { role: ["postgres", "postgresql", "mysql", "mongodb", "redis", "elasticsearch"] },
        to: { sameAs: [PART_OF, INSTANCE], anyWorkload: true },
    },
    // outbox-events.md: each service only to its own database and Kafka.
    { description: "outbox: clients -> REST service", from: { outside: true }, to: { partOf: SYSTEM.outbox, role: OUTBOX_ROLES.rest } },
    {
        description: "outbox: each service -> its own database (the database's platform.io/owner names the service)",
        from: { partOf: SYSTEM.outbox, role: OUTBOX_SERVICES },
        to: { partOf: SYSTEM.outbox, role: ["postgres", "postgresql", "database"], ownedBySource: true },
    },
    { description: "outbox: Kafka exporter -> Kafka (consumer lag)", from: { partOf: SYSTEM.outbox, role: "kafka-exporter" }, to: { partOf: SYSTEM.outbox, role: "kafka" }, ports: tcp(9092) },
    { description: "outbox: services -> Kafka", from: { partOf: SYSTEM.outbox, role: OUTBOX_SERVICES }, to: { partOf: SYSTEM.outbox, role: "kafka" } },
    // Observability (greenfield-cluster.md observability flow; cstore.md monitoring flow).
    { description: "apps -> OpenTelemetry collector", from: { anyWorkload: true }, to: { role: [OBS.otelCollector, "opentelemetry-collector"] }, ports: tcp(4317, 4318) },
    { description: "OTel collector -> Jaeger", from: { role: [OBS.otelCollector, "opentelemetry-collector"] }, to: { role: OBS.jaeger } },
    { description: "OTel collector -> Prometheus", from: { role: [OBS.otelCollector, "opentelemetry-collector"] }, to: { role: OBS.prometheus } },
    { description: "Prometheus scrapes its targets (never the data stores directly)", from: { role: OBS.prometheus }, to: { anyWorkload: true, notRole: DATASTORES } },
    { description: "Grafana -> Prometheus", from: { role: OBS.grafana }, to: { role: OBS.prometheus } },
    { description: "Prometheus -> Kubernetes API server (service discovery, the kubelet's metrics through the node proxy)", from: { role: OBS.prometheus }, to: { outside: true }, ports: tcp(443, 6443) },
    { description: "kube-state-metrics -> Kubernetes API server (list/watch)", from: { role: OBS.kubeStateMetrics }, to: { outside: true }, ports: tcp(443, 6443) },
    { description: "from the ingress controller to Grafana", from: { outside: true }, to: { role: OBS.grafana }, ports: tcp(3000) },
    { description: "sealed-secrets controller -> Kubernetes API server", from: { role: "sealed-secrets" }, to: { outside: true }, ports: tcp(443, 6443) },
    {
        description: "Kubernetes API server (service proxy for kubeseal --fetch-cert) -> sealed-secrets controller",
        from: { outside: true }, to: { role: "sealed-secrets" }, ports: tcp(8080),
    },
    {
        description: "backups (and restores) -> the data store they dump (same system): its client port; Redis in sentinel mode also the sentinels' (they name the primary), Elasticsearch its HTTP API (snapshots)",
        from: { role: "backup" }, to: { role: ["postgres", "postgresql", "mysql", "mongodb", "redis", "elasticsearch"], sameAs: [PART_OF] }, ports: tcp(5432, 3306, 27017, 6379, 26379, 9200),
    },
    { description: "Redis exporter -> the Redis it exports", from: { role: OBS.redisExporter }, to: { role: "redis" }, ports: tcp(6379) },
    { description: "Grafana -> Jaeger", from: { role: OBS.grafana }, to: { role: OBS.jaeger } },
    // Alert delivery (the stack's Alertmanager, issue #13).
    { description: "Prometheus -> Alertmanager (alerts)", from: { role: OBS.prometheus }, to: { role: OBS.alertmanager }, ports: tcp(9093) },
    {
        description: "Alertmanager peers gossip (HA cluster)",
        from: { role: OBS.alertmanager }, to: { role: OBS.alertmanager, sameAs: [PART_OF, INSTANCE] },
        ports: [{ protocol: "TCP", port: 9094 }, { protocol: "UDP", port: 9094 }],
    },
    { description: "Alertmanager -> its receivers (HTTPS outside)", from: { role: OBS.alertmanager }, to: { outside: true }, ports: tcp(443) },
];
