/**
 * Stack configuration: every key of the k8s-platform namespace is read and validated here, once,
 * before any resource is registered. An invalid value fails the program with the key's name and
 * the allowed values. Scalars have typed defaults in Pulumi.yaml; objects are documented in the
 * README and validated field by field by the same functions the components use.
 */
import * as pulumi from "@pulumi/pulumi";
import { DatabaseSpec, validateDatabaseSpec } from "../components/database/spec";
import { LimitRangeSpec, QuotaSpec, validateLimitRange, validateQuota } from "../components/k8s/namespace";
import {
    rejectUnknownKeys, requireBoolean, requireDnsLabel, requireNonEmptyString, requireObject, requireOneOf,
    ValidationError,
} from "../components/k8s/validation";
import { RestApiSpec, validateRestApiSpec } from "../components/restapi/spec";

export const PROJECT = "k8s-platform";
export const ENVIRONMENTS = ["dev", "prod", "local"] as const;
export type Environment = typeof ENVIRONMENTS[number];

export interface RestApiConfig {
    enabled: boolean;
    namespace: string;
    name: string;
    spec: RestApiSpec;
}

export interface DatabasesConfig {
    enabled: boolean;
    namespace: string;
    instances: { name: string; spec: DatabaseSpec }[];
}

export interface PlatformConfig {
    environment: Environment;
    /** Keep data-bearing workloads and claims through `pulumi destroy`. */
    protectData: boolean;
    storageClass: string;
    /** Namespace of the ingress controller: the only source of external traffic. */
    ingressNamespace: string;
    /** Namespace whose Prometheus may scrape workloads. */
    monitoringNamespace: string;
    quota: QuotaSpec;
    limits: LimitRangeSpec;
    restapi: RestApiConfig;
    databases: DatabasesConfig;
}

/** Every key the program reads; anything else under k8s-platform: is a typo. */
export const CONFIG_KEYS = [
    "environment", "protectData", "storageClass", "ingressNamespace", "monitoringNamespace",
    "quota", "limits", "restapi", "databases",
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

function parseRestApi(raw: unknown): RestApiConfig {
    const key = k("restapi");
    const o = requireObject(key, raw ?? { enabled: false });
    const { enabled, namespace, name, ...spec } = o;
    const on = enabled === undefined ? true : requireBoolean(`${key}.enabled`, enabled);
    if (!on) {
        return { enabled: false, namespace: "restapi", name: "restapi", spec: { image: "unused:0" } };
    }
    return {
        enabled: true,
        namespace: requireDnsLabel(`${key}.namespace`, namespace ?? "restapi", 63),
        name: requireDnsLabel(`${key}.name`, name ?? "restapi", 30),
        spec: validateRestApiSpec(key, spec),
    };
}

function parseDatabases(raw: unknown, storageClass: string): DatabasesConfig {
    const key = k("databases");
    const o = requireObject(key, raw ?? { enabled: false });
    rejectUnknownKeys(key, o, ["enabled", "namespace", "instances"]);
    const on = o.enabled === undefined ? true : requireBoolean(`${key}.enabled`, o.enabled);
    if (!on) {
        return { enabled: false, namespace: "databases", instances: [] };
    }
    const instances = requireObject(`${key}.instances`, o.instances ?? {});
    return {
        enabled: true,
        namespace: requireDnsLabel(`${key}.namespace`, o.namespace ?? "databases", 63),
        instances: Object.entries(instances).map(([name, spec]) => {
            requireDnsLabel(`${key}.instances.${name}`, name, 40);
            const typed = validateDatabaseSpec(`${key}.instances.${name}`, spec);
            return { name, spec: { ...typed, storage: { ...typed.storage, storageClass: typed.storage.storageClass ?? storageClass } } };
        }),
    };
}

/** Validates raw config values (key without the project prefix -> parsed JSON value). Pure: unit-testable. */
export function parsePlatformConfig(raw: Record<string, unknown>): PlatformConfig {
    for (const name of Object.keys(raw)) {
        if (!(CONFIG_KEYS as readonly string[]).includes(name)) {
            throw new ValidationError(k(name), `unknown key; allowed keys: ${CONFIG_KEYS.join(", ")}`);
        }
    }
    const environment = requireOneOf(k("environment"), raw.environment ?? "dev", ENVIRONMENTS);
    const storageClass = requireNonEmptyString(k("storageClass"), raw.storageClass ?? "standard");
    const rawQuota = raw.quota === undefined ? {} : requireObject(k("quota"), raw.quota);
    rejectUnknownKeys(k("quota"), rawQuota, Object.keys(DEFAULT_QUOTA));
    const quota: QuotaSpec = { ...DEFAULT_QUOTA, ...(rawQuota as Partial<QuotaSpec>) };
    validateQuota(k("quota"), quota);
    const limits = (raw.limits === undefined ? DEFAULT_LIMITS : requireObject(k("limits"), raw.limits)) as unknown as LimitRangeSpec;
    validateLimitRange(k("limits"), limits);
    return {
        environment,
        protectData: raw.protectData === undefined ? environment === "prod" : requireBoolean(k("protectData"), raw.protectData),
        storageClass,
        ingressNamespace: requireDnsLabel(k("ingressNamespace"), raw.ingressNamespace ?? "ingress-nginx", 63),
        monitoringNamespace: requireDnsLabel(k("monitoringNamespace"), raw.monitoringNamespace ?? "monitoring", 63),
        quota,
        limits,
        restapi: parseRestApi(raw.restapi),
        databases: parseDatabases(raw.databases, storageClass),
    };
}

/** Reads the stack's k8s-platform:* config (objects arrive as JSON) and validates it. */
export function loadPlatformConfig(): PlatformConfig {
    const raw: Record<string, unknown> = {};
    const all = pulumi.runtime.allConfig();
    for (const [fullKey, value] of Object.entries(all)) {
        const [ns, name] = fullKey.split(":");
        if (ns !== PROJECT) {
            continue;
        }
        try {
            raw[name] = JSON.parse(value);
        } catch {
            raw[name] = value;
        }
    }
    return parsePlatformConfig(raw);
}
