/**
 * Stack configuration: every key of the k8s-platform namespace is read and validated here, once,
 * before any resource is registered. An invalid value fails the program with the key's name and
 * the allowed values. Scalars have typed defaults in Pulumi.yaml; objects are documented in the
 * README and validated field by field by the same functions the components use.
 */
import * as pulumi from "@pulumi/pulumi";
import { LimitRangeSpec, QuotaSpec, validateLimitRange, validateQuota } from "../components/k8s/namespace";
import {
    editDistance, nearestName, rejectUnknownKeys, requireBoolean, requireCidrList, requireDnsLabel, requireNonEmptyString, requireObject, requireOneOf,
    requireQuantity, ValidationError,
} from "../components/k8s/validation";
import { DatabasePlatform, DatabaseServiceSpec, resolveDatabaseServiceSpec } from "../components/systems/database-service/spec";
import { RestApiIngress, RestApiObservability, validateRestApiIngress } from "../components/systems/restapi";
import { ResolvedCStoreSpec, validateCStoreSpec } from "../components/systems/cstore/spec";
import { OutboxEventsSpec, validateOutboxEventsSpec } from "../components/systems/outbox/spec";
import { requireOutboxFits } from "../components/systems/outbox/plan";
import { ResolvedGreenfield, resolveGreenfieldSpec } from "../components/systems/greenfield/spec";
import { requireGreenfieldFits } from "../components/systems/greenfield/plan";
import { REST_PARTS, resolvePart, RestApiSpec, validateRestApiSpec } from "../components/restapi/spec";
import { budgetOf, requireLimitRangeFits, requireQuotaFits } from "../components/k8s/capacity";
import { observabilityLoad } from "../components/observability/stack";
import { AlertingSpec, resolveAlertingSpec } from "../components/systems/alerting/spec";
import { PREREQUISITE_NAMES, PrerequisiteName } from "../components/k8s/prerequisites";

export const PROJECT = "k8s-platform";
export const ENVIRONMENTS = ["dev", "prod", "local"] as const;
export type Environment = typeof ENVIRONMENTS[number];

export interface RestApiConfig {
    enabled: boolean;
    namespace: string;
    name: string;
    spec: RestApiSpec;
    /** The design's Prometheus/Grafana/Jaeger/collector, in their own namespace. */
    observability?: RestApiObservability;
    /** Public HTTPS routes of the view and, with blue/green, of the preview. */
    ingress?: RestApiIngress;
}

/** k8s-platform:databases, resolved (the DatabaseService's spec); `enabled` false: no instances. */
export interface DatabasesConfig extends DatabaseServiceSpec {
    enabled: boolean;
}

export interface PlatformConfig {
    environment: Environment;
    /** Keep data-bearing workloads and claims through `pulumi destroy`. */
    protectData: boolean;
    storageClass: string;
    /** Namespace of the ingress controller: the only source of external traffic. */
    ingressNamespace: string;
    /** Addresses of the Kubernetes API server (egress for workloads that talk to it). */
    apiServerCidrs: string[];
    quota: QuotaSpec;
    limits: LimitRangeSpec;
    restapi: RestApiConfig;
    databases: DatabasesConfig;
    /** cstore.md, validated and resolved (defaults applied); absent when off. */
    cstore?: ResolvedCStoreSpec;
    /** greenfield-cluster.md, validated; absent when off. */
    greenfield?: ResolvedGreenfield;
    /** outbox-events.md, validated; absent when off. */
    outbox?: OutboxEventsSpec;
    /** Create Kafka topics through the kafka provider (false in render mode: no broker to talk to). */
    manageKafkaTopics: boolean;
    /** The stack's Alertmanager: receivers, route, size (dev/local defaults when absent; prod must set it). */
    alerting: AlertingSpec;
    /** Receiver endpoints from k8s-platform:alertingSecrets, each a secret Output. */
    alertingSecrets: Record<string, pulumi.Output<string>>;
    /** Prerequisites the start-of-run check leaves out (the stack deliberately runs without them). */
    skipPrerequisites: PrerequisiteName[];
}

/** Keys read only as secrets (config.requireSecret). */
export const SECRET_KEYS = ["kafkaSaslPassword", "alertingSecrets"] as const;

/** Every key the program reads; anything else under k8s-platform: is a typo. */
export const CONFIG_KEYS = [
    "environment", "protectData", "storageClass", "ingressNamespace", "apiServerCidrs",
    "quota", "limits", "restapi", "databases", "cstore", "outbox", "greenfield", "manageKafkaTopics", "kafkaSaslPassword",
    "alerting", "alertingSecrets", "skipPrerequisites",
] as const;

const DEFAULT_QUOTA: QuotaSpec = {
    requestsCpu: "4", requestsMemory: "8Gi", limitsCpu: "8", limitsMemory: "16Gi",
    requestsStorage: "100Gi", pods: 50, persistentVolumeClaims: 20,
};
const DEFAULT_LIMITS: LimitRangeSpec = {
    defaultRequest: { cpu: "100m", memory: "128Mi" },
    default: { cpu: "500m", memory: "512Mi" },
    max: { cpu: "4", memory: "8Gi" },
};

function k(name: string): string {
    return `${PROJECT}:${name}`;
}

function parseRestApi(raw: unknown, storageClass: string, apiServerCidrs: string[], quota: QuotaSpec, limits: LimitRangeSpec): RestApiConfig {
    const key = k("restapi");
    const o = requireObject(key, raw ?? { enabled: false });
    const { enabled, namespace, name, observability, ingress, ...spec } = o;
    const on = enabled === undefined ? true : requireBoolean(`${key}.enabled`, enabled);
    if (!on) {
        return { enabled: false, namespace: "restapi", name: "restapi", spec: { image: "unused:0" } };
    }
    let obs: RestApiObservability | undefined;
    const ob = requireObject(`${key}.observability`, observability ?? {});
    rejectUnknownKeys(`${key}.observability`, ob, ["enabled", "namespace", "prometheusStorage", "grafanaStorage"]);
    if (ob.enabled === undefined || requireBoolean(`${key}.observability.enabled`, ob.enabled)) {
        obs = {
            namespace: requireDnsLabel(`${key}.observability.namespace`, ob.namespace ?? "monitoring", 63),
            prometheusStorage: requireQuantity(`${key}.observability.prometheusStorage`, ob.prometheusStorage ?? "20Gi", "storage"),
            grafanaStorage: requireQuantity(`${key}.observability.grafanaStorage`, ob.grafanaStorage ?? "5Gi", "storage"),
            storageClass,
            apiServerCidrs,
        };
    }
    const validSpec = validateRestApiSpec(key, spec);
    // The RestAPI's namespace has the platform quota and LimitRange: every part at its replicas (both colours) must fit.
    const colours = validSpec.blueGreen?.enabled ? 2 : 1;
    const parts = REST_PARTS.map(p => resolvePart(validSpec, p));
    requireQuotaFits(k("quota"), quota, budgetOf(parts.map(p => ({ pods: p.replicas * colours, resources: p.resources })), []),
        `for the RestAPI's parts at their replicas (${key})`);
    requireLimitRangeFits(`${k("limits")}.max`, limits, parts.map(p => [`${key}.${p.part}`, p.resources]));
    if (obs) {
        // The monitoring namespace has the platform quota and LimitRange too: the observability stack must fit.
        const load = observabilityLoad({ prometheus: { storage: { size: obs.prometheusStorage } }, grafana: { storage: { size: obs.grafanaStorage } } });
        requireQuotaFits(k("quota"), quota, budgetOf(load.pods, load.claims),
            `for the RestAPI's observability stack (${key}.observability.namespace ${obs.namespace})`);
        requireLimitRangeFits(`${k("limits")}.max`, limits, load.containers.map(([n, r]) => [`${key}.observability ${n}`, r]));
    }
    return {
        enabled: true,
        namespace: requireDnsLabel(`${key}.namespace`, namespace ?? "restapi", 63),
        name: requireDnsLabel(`${key}.name`, name ?? "restapi", 24),
        spec: validSpec,
        observability: obs,
        ingress: ingress === undefined ? undefined : validateRestApiIngress(`${key}.ingress`, ingress, validSpec.blueGreen?.enabled ?? false),
    };
}

function parseDatabases(raw: unknown, platform: DatabasePlatform): DatabasesConfig {
    const key = k("databases");
    const { enabled, ...o } = requireObject(key, raw ?? { enabled: false });
    if (enabled !== undefined && !requireBoolean(`${key}.enabled`, enabled)) {
        return { enabled: false, namespace: "databases", instances: [], quota: platform.quota, limits: platform.limits, storageClass: platform.storageClass };
    }
    return { enabled: true, ...resolveDatabaseServiceSpec(key, o, platform) };
}

/**
 * A system's object: `enabled` (default true when the key is present) plus its spec, with the
 * platform-wide values (storage class, ingress namespace, API server) as defaults.
 */
function systemSpec(name: string, raw: unknown, platformDefaults: Record<string, unknown>): Record<string, unknown> | undefined {
    if (raw === undefined) {
        return undefined;
    }
    const { enabled, ...spec } = requireObject(k(name), raw);
    if (enabled !== undefined && !requireBoolean(`${k(name)}.enabled`, enabled)) {
        return undefined;
    }
    return { ...platformDefaults, ...spec };
}

/** Validates raw config values (key without the project prefix -> parsed JSON value). Pure: unit-testable. */
/** Values of the secret config keys (SECRET_KEYS), read as secrets by loadPlatformConfig. */
export interface PlatformSecrets {
    kafkaSaslPassword?: pulumi.Output<string>;
    /** k8s-platform:alertingSecrets: receiver name -> endpoint (URL or routing key), each a secret Output. */
    alertingSecrets?: Record<string, pulumi.Output<string>>;
}

export function parsePlatformConfig(raw: Record<string, unknown>, secrets: PlatformSecrets = {}): PlatformConfig {
    for (const name of Object.keys(raw)) {
        if (!(CONFIG_KEYS as readonly string[]).includes(name)) {
            const near = nearestName(name, CONFIG_KEYS);
            throw new ValidationError(k(name),
                `unknown key; allowed keys: ${CONFIG_KEYS.join(", ")}${near === undefined ? "" : ` (did you mean "${near}"?)`}`);
        }
    }
    const environment = requireOneOf(k("environment"), raw.environment ?? "dev", ENVIRONMENTS);
    const apiServerCidrs = requireCidrList(k("apiServerCidrs"), raw.apiServerCidrs ?? ["10.96.0.1/32"]);
    const ingressNamespace = requireDnsLabel(k("ingressNamespace"), raw.ingressNamespace ?? "ingress-nginx", 63);
    const storageClass = requireNonEmptyString(k("storageClass"), raw.storageClass ?? "standard");
    /** [config key, namespace] of every namespace a system creates, and the ingress controller's. */
    const namespaces: [string, string][] = [[k("ingressNamespace"), ingressNamespace]];
    const quota = validateQuota(k("quota"), { ...DEFAULT_QUOTA, ...(raw.quota === undefined ? {} : requireObject(k("quota"), raw.quota)) });
    const platformDefaults = { storageClass, ingressNamespace };
    const protectData = raw.protectData === undefined ? false : requireBoolean(k("protectData"), raw.protectData);
    const manageKafkaTopics = raw.manageKafkaTopics === undefined ? true : requireBoolean(k("manageKafkaTopics"), raw.manageKafkaTopics);
    const skipPrerequisites = parseSkipPrerequisites(raw.skipPrerequisites ?? []);
    const limits = validateLimitRange(k("limits"), { ...DEFAULT_LIMITS, ...(raw.limits === undefined ? {} : requireObject(k("limits"), raw.limits)) });
    const cfg: PlatformConfig = {
        environment,
        protectData,
        storageClass,
        ingressNamespace,
        apiServerCidrs,
        quota,
        limits,
        restapi: parseRestApi(raw.restapi, storageClass, apiServerCidrs, quota, limits),
        databases: parseDatabases(raw.databases, { storageClass, quota, limits, quotaKey: k("quota"), limitsKey: k("limits") }),
        cstore: validated(systemSpec("cstore", raw.cstore, { ...platformDefaults, apiServer: { cidrs: apiServerCidrs } }),
            spec => {
                const resolved = validateCStoreSpec(k("cstore"), spec);
                namespaces.push([`${k("cstore")}.namespace`, resolved.namespace]);
                return resolved;
            }),
        outbox: validated(systemSpec("outbox", raw.outbox, { ...platformDefaults, protectData }), spec => {
            const observability = { apiServerCidrs, ...requireObject(`${k("outbox")}.observability`, spec.observability ?? {}) };
            const kafka = requireObject(`${k("outbox")}.kafka`, spec.kafka ?? {});
            const conn = kafka.connection === undefined ? undefined : requireObject(`${k("outbox")}.kafka.connection`, kafka.connection);
            if (conn?.sasl !== undefined) {
                const sasl = requireObject(`${k("outbox")}.kafka.connection.sasl`, conn.sasl);
                if (sasl.password !== undefined) {
                    throw new ValidationError(`${k("outbox")}.kafka.connection.sasl.password`,
                        `a password in plain stack config is not allowed; allowed: \`pulumi config set --secret ${k("kafkaSaslPassword")}\``);
                }
                // The SASL password of the topic-management connection: a secret from `pulumi config set --secret`.
                if (secrets.kafkaSaslPassword === undefined) {
                    throw new ValidationError(k("kafkaSaslPassword"),
                        `missing while ${k("outbox")}.kafka.connection.sasl is set; allowed: \`pulumi config set --secret ${k("kafkaSaslPassword")}\``);
                }
                conn.sasl = { ...sasl, password: secrets.kafkaSaslPassword };
                kafka.connection = conn;
            }
            const input = {
                ...spec, observability,
                kafka: manageKafkaTopics ? kafka : { ...kafka, manageTopics: false },
            };
            const resolved = validateOutboxEventsSpec(k("outbox"), input);
            requireOutboxFits(k("outbox"), resolved);
            namespaces.push([`${k("outbox")}.namespace`, resolved.namespace]);
            return resolved;
        }),
        greenfield: validated(systemSpec("greenfield", raw.greenfield, { ...platformDefaults, protectData, apiServer: { cidrs: apiServerCidrs } }), spec => {
            const kafka = requireObject(`${k("greenfield")}.kafka`, spec.kafka ?? {});
            const topics = requireObject(`${k("greenfield")}.kafka.topics`, kafka.topics ?? {});
            const input = manageKafkaTopics ? spec : { ...spec, kafka: { ...kafka, topics: { ...topics, enabled: false } } };
            const resolved = resolveGreenfieldSpec(k("greenfield"), input);
            requireGreenfieldFits(k("greenfield"), resolved);
            namespaces.push([`${k("greenfield")}.namespace`, resolved.namespace]);
            return resolved;
        }),
        manageKafkaTopics,
        alerting: resolveAlertingSpec(k("alerting"), raw.alerting,
            { environment, storageClass, secretNames: Object.keys(secrets.alertingSecrets ?? {}), secretKey: k("alertingSecrets") },
            { quota, limits, quotaKey: k("quota"), limitsKey: k("limits") }),
        alertingSecrets: secrets.alertingSecrets ?? {},
        skipPrerequisites,
    };
    namespaces.push([`${k("alerting")}.namespace`, cfg.alerting.namespace]);
    if (cfg.restapi.enabled) {
        namespaces.push([`${k("restapi")}.namespace`, cfg.restapi.namespace]);
        if (cfg.restapi.observability) {
            namespaces.push([`${k("restapi")}.observability.namespace`, cfg.restapi.observability.namespace]);
        }
    }
    if (cfg.databases.enabled) {
        namespaces.push([`${k("databases")}.namespace`, cfg.databases.namespace]);
    }
    requireDistinctNamespaces(namespaces);
    return cfg;
}

function parseSkipPrerequisites(raw: unknown): PrerequisiteName[] {
    const key = k("skipPrerequisites");
    if (!Array.isArray(raw)) {
        throw new ValidationError(key, `${JSON.stringify(raw)} is not allowed; allowed: a list of ${PREREQUISITE_NAMES.join(", ")}`);
    }
    return raw.map((n, i) => requireOneOf(`${key}[${i}]`, n, PREREQUISITE_NAMES));
}

/**
 * Each system owns its namespace (the Namespace object and its baseline are registered once per
 * system), and none is the ingress controller's.
 */
function requireDistinctNamespaces(namespaces: [string, string][]): void {
    const owner = new Map<string, string>();
    for (const [key, ns] of namespaces) {
        const other = owner.get(ns);
        if (other !== undefined) {
            throw new ValidationError(key, `${JSON.stringify(ns)} is already the namespace of ${other}; allowed: a namespace no other system uses`);
        }
        owner.set(ns, key);
    }
}

/**
 * k8s-platform:alertingSecrets as `pulumi config set --secret` stores it: a JSON object of receiver
 * name -> non-empty string. The values are only checked here, then wrapped as secrets.
 */
export function parseAlertingSecrets(text: string | undefined): Record<string, pulumi.Output<string>> | undefined {
    if (text === undefined) {
        return undefined;
    }
    const key = k("alertingSecrets");
    const allowed = `allowed: a JSON object of receiver name -> URL or routing key (\`pulumi config set --secret ${key} '{"oncall": "https://..."}'\`)`;
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch {
        throw new ValidationError(key, `not JSON; ${allowed}`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        throw new ValidationError(key, `not an object; ${allowed}`);
    }
    return Object.fromEntries(Object.entries(parsed as Record<string, unknown>).map(([name, v]) => {
        if (typeof v !== "string" || v.trim() === "") {
            throw new ValidationError(`${key}.${name}`, `an empty or non-string value is not allowed; ${allowed}`);
        }
        return [name, pulumi.secret(v)];
    }));
}

function validated<T>(spec: Record<string, unknown> | undefined, check: (s: Record<string, unknown>) => T): T | undefined {
    return spec === undefined ? undefined : check(spec);
}

/**
 * Refuses config keys under a namespace one edit away from the project's (`k8s-platfrom:protectData`):
 * Pulumi passes every namespace to the program, and such a key would be ignored silently. `keys`
 * are the full keys, as pulumi.runtime.allConfig() gives them.
 */
export function checkConfigNamespaces(keys: string[]): void {
    for (const fullKey of keys) {
        const colon = fullKey.indexOf(":");
        const ns = colon < 0 ? "" : fullKey.substring(0, colon);
        if (ns !== PROJECT && editDistance(ns, PROJECT) === 1) {
            throw new ValidationError(fullKey,
                `unknown namespace ${JSON.stringify(ns)}; allowed: ${PROJECT}:${fullKey.substring(colon + 1)} (the project's namespace is ${PROJECT})`);
        }
    }
}

/** Reads the stack's k8s-platform:* config (objects arrive as JSON) and validates it. */
export function loadPlatformConfig(): PlatformConfig {
    const raw: Record<string, unknown> = {};
    const all = pulumi.runtime.allConfig();
    checkConfigNamespaces(Object.keys(all));
    const saslPassword = all[k("kafkaSaslPassword")];
    if (saslPassword !== undefined && saslPassword.trim() === "") {
        throw new ValidationError(k("kafkaSaslPassword"),
            `an empty secret is not allowed; allowed: a non-empty value (\`pulumi config set --secret ${k("kafkaSaslPassword")}\`)`);
    }
    for (const [fullKey, value] of Object.entries(all)) {
        const [ns, name] = fullKey.split(":");
        // Secrets are read below with requireSecret, so they never travel as plain values.
        if (ns !== PROJECT || (SECRET_KEYS as readonly string[]).includes(name)) {
            continue;
        }
        try {
            raw[name] = JSON.parse(value);
        } catch {
            raw[name] = value;
        }
    }
    return parsePlatformConfig(raw, {
        kafkaSaslPassword: new pulumi.Config(PROJECT).getSecret("kafkaSaslPassword"),
        alertingSecrets: parseAlertingSecrets(all[k("alertingSecrets")]),
    });
}
