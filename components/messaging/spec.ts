/**
 * The Kafka cluster and topic specs and their validation. The stack config module and the
 * constructors both call these functions, so each rule (and its error text) lives here once.
 */
import { PodGroup } from "../k8s/capacity";
import { ResourceSpec, validateResources } from "../k8s/container";
import {
    rejectUnknownKeys, requireBoolean, requireCidr, requireDnsLabel, requireIntInRange, requireNonEmptyString, requireObject, requireOneOf,
    requireQuantity, ValidationError,
} from "../k8s/validation";

export const KAFKA_MODES = ["zookeeper", "kraft"] as const;
export type KafkaMode = typeof KAFKA_MODES[number];

export const MIN_BROKERS = 1;
export const MAX_BROKERS = 9;
export const ZOOKEEPER_REPLICAS = [1, 3, 5] as const;

/** Examples used in error messages (and by the tests as known-good tags). */
export const EXAMPLE_VERSION: Record<KafkaMode, string> = { kraft: "4.0.0", zookeeper: "7.7.1" };

export const DEFAULT_BROKER_RESOURCES: ResourceSpec = { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "2", memory: "2Gi" } };
export const DEFAULT_ZOOKEEPER_RESOURCES: ResourceSpec = { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } };

export interface ZooKeeperSpec {
    /** 1, 3 or 5: an odd ensemble, so a majority survives one (or two) lost members. */
    replicas: number;
    /** Per-member claim, e.g. 2Gi (greenfield-cluster.md). */
    storage: string;
    resources?: ResourceSpec;
}

export interface KafkaClusterSpec {
    mode: KafkaMode;
    /** 1-9 brokers. */
    brokers: number;
    /** Per-broker claim, e.g. 10Gi (greenfield-cluster.md). */
    brokerStorage: string;
    /** Required in zookeeper mode, refused in kraft mode. */
    zookeeper?: ZooKeeperSpec;
    storageClass?: string;
    /**
     * Pinned image tag: apache/kafka:<version> in kraft mode (3.7.0 or later, the first official
     * image); confluentinc/cp-kafka and cp-zookeeper:<version> in zookeeper mode (Confluent 7.x:
     * 8.0 dropped ZooKeeper).
     */
    version: string;
    resources?: ResourceSpec;
    defaultReplicationFactor: number;
    minInsyncReplicas: number;
    /** auto.create.topics.enable; default false: topics are declared (KafkaTopics), never implied. */
    autoCreateTopics?: boolean;
    /** An EXTERNAL listener per broker, reachable from outside the cluster (see KafkaExternalSpec). */
    external?: KafkaExternalSpec;
}

/**
 * What a KafkaCluster runs, for the capacity checks (components/k8s/capacity): the brokers and the
 * ZooKeeper ensemble (StatefulSets: no surge) and a claim per member. Pure: the component's defaults.
 */
export function kafkaLoad(spec: Pick<KafkaClusterSpec, "brokers" | "brokerStorage" | "resources" | "zookeeper">): {
    pods: PodGroup[]; claims: string[]; containers: [string, ResourceSpec][];
} {
    const broker = spec.resources ?? DEFAULT_BROKER_RESOURCES;
    const zk = spec.zookeeper;
    const zkResources = zk?.resources ?? DEFAULT_ZOOKEEPER_RESOURCES;
    return {
        pods: [{ pods: spec.brokers, resources: broker }, ...(zk ? [{ pods: zk.replicas, resources: zkResources }] : [])],
        claims: [...Array<string>(spec.brokers).fill(spec.brokerStorage), ...(zk ? Array<string>(zk.replicas).fill(zk.storage) : [])],
        containers: [["kafka", broker], ...(zk ? [["zookeeper", zkResources] as [string, ResourceSpec]] : [])],
    };
}

export const EXTERNAL_SERVICE_TYPES = ["LoadBalancer", "NodePort"] as const;
export type ExternalServiceType = typeof EXTERNAL_SERVICE_TYPES[number];
/** The EXTERNAL listener's container port (and the LoadBalancer Services' port). */
export const DEFAULT_EXTERNAL_PORT = 9094;

/**
 * Access from outside the cluster (a CI runner creating topics): every broker also listens on an
 * EXTERNAL listener (PLAINTEXT, like the in-cluster one) behind a Service of its own, and advertises
 * its configured external address there, so a client that bootstraps from one address is sent to
 * the others' external addresses, never to in-cluster DNS names.
 */
export interface KafkaExternalSpec {
    /** LoadBalancer (default; DNS names pointing at the load balancers) or NodePort (node address + nodePorts[i]). */
    serviceType: ExternalServiceType;
    /** Listener port in the pods, and the LoadBalancer Services' port (default 9094). */
    port: number;
    /** NodePort: the node port of each broker's Service (30000-32767), required: the advertised addresses use them. */
    nodePorts?: number[];
    /** host:port per broker, in ordinal order: what broker i advertises on its EXTERNAL listener. */
    advertisedAddresses: string[];
    /** Who may connect (NetworkPolicy ipBlocks; loadBalancerSourceRanges for LoadBalancer). */
    sourceCidrs: string[];
}

/** How Pulumi's kafka provider reaches the brokers: their in-cluster names, or their external addresses. */
export const TOPIC_ACCESS = ["inCluster", "external"] as const;
export type TopicAccess = typeof TOPIC_ACCESS[number];

const CLUSTER_KEYS = [
    "mode", "brokers", "brokerStorage", "zookeeper", "storageClass", "version", "resources",
    "defaultReplicationFactor", "minInsyncReplicas", "autoCreateTopics", "external",
];

const ADDRESS = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*:([0-9]{1,5})$/;
const IPV4 = /^(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}$/;

/** Validates the `external` section of a Kafka cluster with `brokers` brokers; returns it with defaults. */
export function validateKafkaExternal(key: string, raw: unknown, brokers: number): KafkaExternalSpec {
    const o = requireObject(key, raw);
    rejectUnknownKeys(key, o, ["serviceType", "port", "nodePorts", "advertisedAddresses", "sourceCidrs"]);
    const serviceType = o.serviceType === undefined ? "LoadBalancer" : requireOneOf(`${key}.serviceType`, o.serviceType, EXTERNAL_SERVICE_TYPES);
    const port = requireIntInRange(`${key}.port`, o.port ?? DEFAULT_EXTERNAL_PORT, 1024, 65535);
    if ((KAFKA_INTERNAL_PORTS as readonly number[]).includes(port)) {
        throw new ValidationError(`${key}.port`, `${port} is a port of the in-cluster listeners; allowed: a port from 1024 to 65535 other than ${KAFKA_INTERNAL_PORTS.join(" and ")}`);
    }
    let nodePorts: number[] | undefined;
    if (serviceType === "NodePort") {
        if (!Array.isArray(o.nodePorts) || o.nodePorts.length !== brokers) {
            throw new ValidationError(`${key}.nodePorts`,
                `${show(o.nodePorts)} is not allowed; allowed: one node port (30000-32767) per broker, ${brokers} in all (the advertised addresses use them)`);
        }
        nodePorts = o.nodePorts.map((p, i) => requireIntInRange(`${key}.nodePorts[${i}]`, p, 30000, 32767));
        if (new Set(nodePorts).size !== nodePorts.length) {
            throw new ValidationError(`${key}.nodePorts`, `${show(nodePorts)} repeats a port; allowed: a distinct node port per broker`);
        }
    } else if (o.nodePorts !== undefined) {
        throw new ValidationError(`${key}.nodePorts`, "set with serviceType LoadBalancer; allowed: nodePorts only with serviceType NodePort");
    }
    if (!Array.isArray(o.advertisedAddresses) || o.advertisedAddresses.length !== brokers) {
        throw new ValidationError(`${key}.advertisedAddresses`,
            `${show(o.advertisedAddresses)} is not allowed; allowed: one host:port per broker, ${brokers} in all, in ordinal order (e.g. kafka-0.example.com:${port})`);
    }
    const seen = new Set<string>();
    const advertisedAddresses = (o.advertisedAddresses as unknown[]).map((raw, i) => {
        const k = `${key}.advertisedAddresses[${i}]`;
        const m = typeof raw === "string" ? ADDRESS.exec(raw) : null;
        if (!m || Number(m[5]) < 1 || Number(m[5]) > 65535) {
            throw new ValidationError(k, `${show(raw)} is not allowed; allowed: host:port with a lowercase DNS name or IPv4 address, e.g. kafka-${i}.example.com:${port}`);
        }
        const a = raw as string;
        const host = a.substring(0, a.lastIndexOf(":"));
        if (!IPV4.test(host) && (!host.includes(".") || host.endsWith(".svc.cluster.local") || host.endsWith(".svc"))) {
            throw new ValidationError(k, `${show(a)} is not an external address; allowed: a fully qualified name outside the cluster's DNS or an IPv4 address`);
        }
        const expected = serviceType === "NodePort" ? nodePorts![i] : port;
        if (Number(m[5]) !== expected) {
            throw new ValidationError(k, `${show(a)} does not use the ${serviceType === "NodePort" ? `node port of broker ${i}` : "listener port"}; allowed: port ${expected}`);
        }
        if (seen.has(a)) {
            throw new ValidationError(k, `${show(a)} is listed twice; allowed: a distinct address per broker`);
        }
        seen.add(a);
        return a;
    });
    if (!Array.isArray(o.sourceCidrs) || o.sourceCidrs.length === 0) {
        throw new ValidationError(`${key}.sourceCidrs`,
            `${show(o.sourceCidrs)} is not allowed; allowed: a non-empty list of IPv4 CIDRs that may connect (e.g. the CI runners' egress, 203.0.113.0/24)`);
    }
    const sourceCidrs = o.sourceCidrs.map((c, i) => requireCidr(`${key}.sourceCidrs[${i}]`, c));
    return { serviceType, port, nodePorts, advertisedAddresses, sourceCidrs };
}

/** Ports of the in-cluster listeners (client and KRaft controller). */
export const KAFKA_INTERNAL_PORTS = [9092, 9093] as const;

/**
 * The choice between the brokers' in-cluster names and their external addresses for the topic
 * provider. `bootstrapServers` (an explicit list: a broker outside the cluster) excludes `access`.
 */
export function requireTopicAccess(key: string, access: unknown, bootstrapServers: unknown, external: KafkaExternalSpec | undefined,
    externalKey: string): TopicAccess {
    if (access === undefined) {
        return "inCluster";
    }
    const a = requireOneOf(`${key}.access`, access, TOPIC_ACCESS);
    if (bootstrapServers !== undefined) {
        throw new ValidationError(`${key}.access`, `set together with ${key}.bootstrapServers; allowed: one of them (an explicit list, or the choice inCluster | external)`);
    }
    if (a === "external" && external === undefined) {
        throw new ValidationError(`${key}.access`,
            `"external" but the brokers have no external listener; allowed: inCluster, or external with ${externalKey} set (serviceType, advertisedAddresses, sourceCidrs)`);
    }
    return a;
}
const SEMVER = /^(\d+)\.(\d+)\.(\d+)(?:[-.][A-Za-z0-9.]+)?$/;

function show(v: unknown): string {
    return v === undefined ? "undefined" : JSON.stringify(v);
}

/** The image version of a mode: Confluent 7.x with ZooKeeper, apache/kafka 3.7.0 or later in KRaft. */
export function validateKafkaVersion(key: string, mode: KafkaMode, raw: unknown): string {
    const v = requireNonEmptyString(key, raw);
    const m = SEMVER.exec(v);
    if (!m) {
        throw new ValidationError(key, `${show(v)} is not pinned; allowed: a version tag such as ${EXAMPLE_VERSION[mode]} (never "latest")`);
    }
    const major = Number(m[1]);
    const minor = Number(m[2]);
    if (mode === "zookeeper" && major !== 7) {
        throw new ValidationError(key,
            `${show(v)} is not allowed in zookeeper mode; allowed: a Confluent Platform 7.x version such as ${EXAMPLE_VERSION.zookeeper} ` +
            "(confluentinc/cp-kafka 8.0 dropped ZooKeeper; use mode kraft)");
    }
    if (mode === "kraft" && (major < 3 || (major === 3 && minor < 7))) {
        throw new ValidationError(key,
            `${show(v)} is not allowed in kraft mode; allowed: an apache/kafka version from 3.7.0 on, such as ${EXAMPLE_VERSION.kraft}`);
    }
    return v;
}

/** Validates a raw cluster spec (from config or args) and returns it typed. `key` prefixes every error. */
export function validateKafkaClusterSpec(key: string, raw: unknown): KafkaClusterSpec {
    const spec = requireObject(key, raw);
    rejectUnknownKeys(key, spec, CLUSTER_KEYS);
    const mode = requireOneOf(`${key}.mode`, spec.mode, KAFKA_MODES);
    const brokers = requireIntInRange(`${key}.brokers`, spec.brokers, MIN_BROKERS, MAX_BROKERS);
    const brokerStorage = requireQuantity(`${key}.brokerStorage`, spec.brokerStorage, "storage");
    const version = validateKafkaVersion(`${key}.version`, mode, spec.version);
    // Built up as read: only the keys given, each typed.
    const out: Partial<KafkaClusterSpec> = { mode, brokers, brokerStorage };
    if (mode === "zookeeper") {
        if (spec.zookeeper === undefined) {
            throw new ValidationError(`${key}.zookeeper`,
                "missing in zookeeper mode; allowed: { replicas: 1, 3 or 5, storage: e.g. 2Gi }");
        }
        const zk = requireObject(`${key}.zookeeper`, spec.zookeeper);
        rejectUnknownKeys(`${key}.zookeeper`, zk, ["replicas", "storage", "resources"]);
        if (!(ZOOKEEPER_REPLICAS as readonly unknown[]).includes(zk.replicas)) {
            throw new ValidationError(`${key}.zookeeper.replicas`,
                `${show(zk.replicas)} is not allowed; allowed: ${ZOOKEEPER_REPLICAS.join(", ")} (an odd ensemble keeps a majority)`);
        }
        out.zookeeper = { replicas: zk.replicas as number, storage: requireQuantity(`${key}.zookeeper.storage`, zk.storage, "storage") };
        if (zk.resources !== undefined) {
            out.zookeeper.resources = validateResources(`${key}.zookeeper.resources`, zk.resources);
        }
    } else if (spec.zookeeper !== undefined) {
        throw new ValidationError(`${key}.zookeeper`,
            "ZooKeeper settings in kraft mode; allowed: no zookeeper section (KRaft runs its own controller quorum), or mode zookeeper");
    }
    if (spec.storageClass !== undefined) {
        out.storageClass = requireNonEmptyString(`${key}.storageClass`, spec.storageClass);
    }
    out.version = version;
    if (spec.resources !== undefined) {
        out.resources = validateResources(`${key}.resources`, spec.resources);
    }
    const rf = requireIntInRange(`${key}.defaultReplicationFactor`, spec.defaultReplicationFactor, 1, MAX_BROKERS);
    if (rf > brokers) {
        throw new ValidationError(`${key}.defaultReplicationFactor`,
            `${rf} is above brokers ${brokers}; allowed: minInsyncReplicas <= defaultReplicationFactor <= brokers`);
    }
    const minIsr = requireIntInRange(`${key}.minInsyncReplicas`, spec.minInsyncReplicas, 1, MAX_BROKERS);
    if (minIsr > rf) {
        throw new ValidationError(`${key}.minInsyncReplicas`,
            `${minIsr} is above defaultReplicationFactor ${rf}; allowed: minInsyncReplicas <= defaultReplicationFactor <= brokers`);
    }
    const typed: KafkaClusterSpec = { ...out, mode, brokers, brokerStorage, version, defaultReplicationFactor: rf, minInsyncReplicas: minIsr };
    if (spec.autoCreateTopics !== undefined) {
        typed.autoCreateTopics = requireBoolean(`${key}.autoCreateTopics`, spec.autoCreateTopics);
    }
    if (spec.external !== undefined) {
        typed.external = validateKafkaExternal(`${key}.external`, spec.external, brokers);
    }
    return typed;
}

// ---------------------------------------------------------------------------------------------
// Topics

/** The args of a KafkaCluster built directly: name, spec and system label, before anything registers. */
export function validateKafkaClusterArgs(key: string, name: string, args: KafkaClusterSpec & { partOf: string }): KafkaClusterSpec {
    requireDnsLabel(`${key}.name`, name, 40);
    const spec = validateKafkaClusterSpec(key, {
        mode: args.mode, brokers: args.brokers, brokerStorage: args.brokerStorage, zookeeper: args.zookeeper,
        storageClass: args.storageClass, version: args.version, resources: args.resources,
        defaultReplicationFactor: args.defaultReplicationFactor, minInsyncReplicas: args.minInsyncReplicas,
        autoCreateTopics: args.autoCreateTopics, external: args.external,
    });
    requireDnsLabel(`${key}.partOf`, args.partOf, 63);
    return spec;
}

export const CLEANUP_POLICIES = ["delete", "compact", "compact,delete"] as const;
export type CleanupPolicy = typeof CLEANUP_POLICIES[number];

export interface TopicConfig {
    /** Milliseconds; -1 keeps data forever. */
    "retention.ms"?: number;
    "cleanup.policy"?: CleanupPolicy;
    "min.insync.replicas"?: number;
}

export interface TopicSpec {
    name: string;
    partitions: number;
    replicationFactor: number;
    config?: TopicConfig;
}

export const TOPIC_CONFIG_KEYS = ["retention.ms", "cleanup.policy", "min.insync.replicas"] as const;
export const MAX_PARTITIONS = 1000;
/** Kafka's own rule (Topic.validate): 1-249 characters of [a-zA-Z0-9._-], not "." or "..". */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/**
 * Validates a list of topics against the number of brokers (and, when given, the cluster's default
 * min.insync.replicas, which applies to topics that set none); returns it typed.
 */
export function validateTopicSpecs(key: string, raw: unknown, brokers: number, clusterMinInsyncReplicas?: number): TopicSpec[] {
    if (!Array.isArray(raw)) {
        throw new ValidationError(key, `${show(raw)} is not allowed; allowed: a list of topics`);
    }
    // Kafka refuses topics whose names differ only by '.' versus '_' (their metric names collide).
    const seen = new Map<string, string>();
    raw.forEach((item, i) => {
        const k = `${key}[${i}]`;
        const t = requireObject(k, item);
        rejectUnknownKeys(k, t, ["name", "partitions", "replicationFactor", "config"]);
        const name = t.name;
        if (typeof name !== "string" || !TOPIC_NAME.test(name) || name === "." || name === ".." || name.startsWith("__")) {
            throw new ValidationError(`${k}.name`,
                `${show(name)} is not allowed; allowed: 1-249 characters of letters, digits, '.', '_' and '-', ` +
                "not \".\" or \"..\", not starting with \"__\" (Kafka's internal topics)");
        }
        const collision = seen.get(name.replace(/\./g, "_"));
        if (collision !== undefined) {
            throw new ValidationError(`${k}.name`, collision === name
                ? `${show(name)} is declared twice; allowed: unique topic names`
                : `${show(name)} collides with ${show(collision)} ('.' and '_' are the same in Kafka's metric names); allowed: unique topic names`);
        }
        seen.set(name.replace(/\./g, "_"), name);
        requireIntInRange(`${k}.partitions`, t.partitions, 1, MAX_PARTITIONS);
        const rf = requireIntInRange(`${k}.replicationFactor`, t.replicationFactor, 1, MAX_BROKERS);
        if (rf > brokers) {
            throw new ValidationError(`${k}.replicationFactor`,
                `${rf} is above brokers ${brokers}; allowed: an integer from 1 to ${brokers} (the number of brokers)`);
        }
        const ownMinIsr = (t.config as Record<string, unknown> | undefined)?.["min.insync.replicas"];
        if (ownMinIsr === undefined && clusterMinInsyncReplicas !== undefined && rf < clusterMinInsyncReplicas) {
            // acks=all producers would fail with NotEnoughReplicas on every write.
            throw new ValidationError(`${k}.replicationFactor`,
                `${rf} is below the cluster's min.insync.replicas ${clusterMinInsyncReplicas}; ` +
                `allowed: a replicationFactor from ${clusterMinInsyncReplicas} to ${brokers}, or the topic's own config.min.insync.replicas`);
        }
        if (t.config !== undefined) {
            const c = requireObject(`${k}.config`, t.config);
            rejectUnknownKeys(`${k}.config`, c, TOPIC_CONFIG_KEYS);
            const retention = c["retention.ms"];
            if (retention !== undefined && (typeof retention !== "number" || !Number.isSafeInteger(retention) || retention < -1)) {
                throw new ValidationError(`${k}.config.retention.ms`,
                    `${show(retention)} is not allowed; allowed: milliseconds as an integer >= 1, or -1 (keep forever)`);
            }
            if (retention === 0) {
                throw new ValidationError(`${k}.config.retention.ms`,
                    "0 is not allowed; allowed: milliseconds as an integer >= 1, or -1 (keep forever)");
            }
            if (c["cleanup.policy"] !== undefined) {
                requireOneOf(`${k}.config.cleanup.policy`, c["cleanup.policy"], CLEANUP_POLICIES);
            }
            const minIsr = c["min.insync.replicas"];
            if (minIsr !== undefined) {
                requireIntInRange(`${k}.config.min.insync.replicas`, minIsr, 1, MAX_BROKERS);
                if ((minIsr as number) > rf) {
                    throw new ValidationError(`${k}.config.min.insync.replicas`,
                        `${minIsr as number} is above replicationFactor ${rf}; allowed: an integer from 1 to ${rf} (the topic's replicationFactor)`);
                }
            }
        }
    });
    return raw as TopicSpec[];
}

/** Topic config as the kafka provider takes it: string values, only the keys set. */
export function topicConfig(c: TopicConfig | undefined): Record<string, string> | undefined {
    if (!c) {
        return undefined;
    }
    const out: Record<string, string> = {};
    for (const k of TOPIC_CONFIG_KEYS) {
        if (c[k] !== undefined) {
            out[k] = String(c[k]);
        }
    }
    return Object.keys(out).length ? out : undefined;
}

/** Seven days, Kafka's default retention, written out so the topics say what they keep. */
export const SEVEN_DAYS_MS = 7 * 24 * 60 * 60 * 1000;

/** greenfield-cluster.md event flow: test-topic with partitions 0, 1 and 2. */
export function greenfieldTopics(replicationFactor: number, minInsyncReplicas: number): TopicSpec[] {
    return [{
        name: "test-topic", partitions: 3, replicationFactor,
        config: { "retention.ms": SEVEN_DAYS_MS, "cleanup.policy": "delete", "min.insync.replicas": minInsyncReplicas },
    }];
}

/** outbox-events.md topics; partitioned for parallel consumers, keyed by resource ID. */
export const OUTBOX_TOPIC_NAMES = ["resource.created", "resource.updated", "resource.deleted", "task.process", "task.completed"] as const;

export function outboxTopics(replicationFactor: number, minInsyncReplicas: number, partitions = 3): TopicSpec[] {
    return OUTBOX_TOPIC_NAMES.map(name => ({
        name, partitions, replicationFactor,
        config: { "retention.ms": SEVEN_DAYS_MS, "cleanup.policy": "delete", "min.insync.replicas": minInsyncReplicas },
    }));
}

// ---------------------------------------------------------------------------------------------
// How Pulumi reaches the brokers to manage topics (the kafka provider's settings)

export const SASL_MECHANISMS = ["plain", "scram-sha256", "scram-sha512"] as const;
export type SaslMechanism = typeof SASL_MECHANISMS[number];

/** Values that may be Outputs (certificates, passwords) are checked only when they are plain. */
export interface KafkaConnectionSpec {
    /** Whether topics are managed at all; false in render mode, where no broker answers. */
    enabled?: boolean;
    bootstrapServers?: unknown;
    tls?: { enabled?: unknown; skipVerify?: unknown; caCert?: unknown; clientCert?: unknown; clientKey?: unknown };
    sasl?: { mechanism?: unknown; username?: unknown; password?: unknown };
    kafkaVersion?: unknown;
    timeoutSeconds?: unknown;
}

const HOST_PORT = /^[A-Za-z0-9.-]+:\d{1,5}$/;
const isPlain = (v: unknown): boolean => typeof v === "string" || typeof v === "number" || typeof v === "boolean";

/**
 * `ownCluster`: the system runs its own brokers, whose list is used when `bootstrapServers` is
 * absent (so only a given list is checked).
 */
export function validateKafkaConnection(key: string, c: KafkaConnectionSpec, opts: { ownCluster?: boolean } = {}): void {
    if (c.enabled !== undefined) {
        requireBoolean(`${key}.enabled`, c.enabled);
    }
    if (c.bootstrapServers === undefined && opts.ownCluster) {
        // The system's own brokers.
    } else if (Array.isArray(c.bootstrapServers)) {
        if (c.bootstrapServers.length === 0) {
            throw new ValidationError(`${key}.bootstrapServers`, "[] is not allowed; allowed: a non-empty list of host:port");
        }
        c.bootstrapServers.forEach((s, i) => {
            if (isPlain(s) && (typeof s !== "string" || !HOST_PORT.test(s))) {
                throw new ValidationError(`${key}.bootstrapServers[${i}]`, `${show(s)} is not allowed; allowed: host:port, e.g. kafka-0.kafka-headless.messaging.svc.cluster.local:9092`);
            }
        });
    } else if (c.bootstrapServers === undefined || isPlain(c.bootstrapServers)) {
        throw new ValidationError(`${key}.bootstrapServers`, `${show(c.bootstrapServers)} is not allowed; allowed: a non-empty list of host:port`);
    }
    if (c.tls !== undefined) {
        const t = requireObject(`${key}.tls`, c.tls);
        rejectUnknownKeys(`${key}.tls`, t, ["enabled", "skipVerify", "caCert", "clientCert", "clientKey"]);
        const enabled = requireBoolean(`${key}.tls.enabled`, t.enabled);
        if (t.skipVerify !== undefined) {
            requireBoolean(`${key}.tls.skipVerify`, t.skipVerify);
        }
        const certs = ["caCert", "clientCert", "clientKey"].filter(n => t[n] !== undefined);
        if (!enabled && (certs.length > 0 || t.skipVerify === true)) {
            throw new ValidationError(`${key}.tls`,
                `${[...certs, ...(t.skipVerify === true ? ["skipVerify"] : [])].join(", ")} set with TLS disabled; allowed: enabled true, or no certificates`);
        }
        if ((t.clientCert === undefined) !== (t.clientKey === undefined)) {
            throw new ValidationError(`${key}.tls`, "clientCert and clientKey come together; allowed: both or neither");
        }
    }
    if (c.sasl !== undefined) {
        const s = requireObject(`${key}.sasl`, c.sasl);
        rejectUnknownKeys(`${key}.sasl`, s, ["mechanism", "username", "password"]);
        requireOneOf(`${key}.sasl.mechanism`, s.mechanism, SASL_MECHANISMS);
        for (const f of ["username", "password"]) {
            if (s[f] === undefined || (isPlain(s[f]) && (typeof s[f] !== "string" || s[f].trim() === ""))) {
                // Never echo the value: it may be the password.
                throw new ValidationError(`${key}.sasl.${f}`, "missing or empty; allowed: a non-empty string (the password as a secret)");
            }
        }
    }
    if (c.kafkaVersion !== undefined && (typeof c.kafkaVersion !== "string" || !/^\d+\.\d+\.\d+$/.test(c.kafkaVersion))) {
        throw new ValidationError(`${key}.kafkaVersion`, `${show(c.kafkaVersion)} is not allowed; allowed: a protocol version as MAJOR.MINOR.PATCH, e.g. 3.9.0`);
    }
    if (c.timeoutSeconds !== undefined) {
        requireIntInRange(`${key}.timeoutSeconds`, c.timeoutSeconds, 1, 600);
    }
}
