/**
 * The RestAPI spec (restapi-operator.md CRD spec) with the design's per-part defaults, and its
 * validation, run once where the spec enters (the stack config); the RestApi constructor takes the
 * validated spec and does not check it again.
 */
import { ResourceSpec, validateResources } from "../k8s/container";
import {
    rejectUnknownKeys, requireBoolean, requireDistinctPorts, requireIntInRange, requireObject, requireOneOf, requirePinnedImage,
    requireNonEmptyString, requirePlainEnv, requireQuantity, ValidationError,
} from "../k8s/validation";
import { validateAutoscaling } from "../k8s/workload";

export const REST_PARTS = ["model", "view", "controller", "repository"] as const;
export type RestPart = typeof REST_PARTS[number];
export const COLORS = ["blue", "green"] as const;
export type Color = typeof COLORS[number];
export const ACCESS_MODES = ["ReadWriteOnce", "ReadWriteMany"] as const;

export interface AutoScalingSpec {
    enabled?: boolean;
    minReplicas?: number;
    maxReplicas?: number;
    targetCPUUtilizationPercentage?: number;
    targetMemoryUtilizationPercentage?: number;
}

export interface ComponentSpec {
    image?: string;
    replicas?: number;
    port?: number;
    resources?: ResourceSpec;
    autoScaling?: AutoScalingSpec;
    envVars?: Record<string, string>;
    /** Repository only: its persistent volume. */
    storage?: { size?: string; storageClass?: string; accessMode?: typeof ACCESS_MODES[number] };
}

export interface HealthCheckSpec {
    path?: string;
    initialDelaySeconds?: number;
    periodSeconds?: number;
    timeoutSeconds?: number;
    failureThreshold?: number;
}

export interface BlueGreenSpec {
    enabled?: boolean;
    activeEnvironment?: Color;
    /** Image of each colour; defaults to the RestAPI image. */
    blueImage?: string;
    greenImage?: string;
}

export interface RestApiSpec {
    image: string;
    replicas?: number;
    envVars?: Record<string, string>;
    model?: ComponentSpec;
    view?: ComponentSpec;
    controller?: ComponentSpec;
    repository?: ComponentSpec;
    autoScaling?: { enabled?: boolean };
    healthCheck?: HealthCheckSpec;
    blueGreen?: BlueGreenSpec;
}

export interface PartDefaults {
    port: number;
    autoScaling: Required<Pick<AutoScalingSpec, "minReplicas" | "maxReplicas" | "targetCPUUtilizationPercentage">>;
    resources: ResourceSpec;
}

/** Ports, HPA bounds and resource profiles from restapi-operator.md. */
export const PART_DEFAULTS: Record<RestPart, PartDefaults> = {
    // CPU-intensive: higher CPU limits.
    model: {
        port: 8080,
        autoScaling: { minReplicas: 1, maxReplicas: 10, targetCPUUtilizationPercentage: 70 },
        resources: { requests: { cpu: "500m", memory: "256Mi" }, limits: { cpu: "2", memory: "512Mi" } },
    },
    // Memory-intensive: higher memory limits.
    view: {
        port: 3000,
        autoScaling: { minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 80 },
        resources: { requests: { cpu: "200m", memory: "512Mi" }, limits: { cpu: "500m", memory: "1Gi" } },
    },
    // Balanced CPU/memory.
    controller: {
        port: 8081,
        autoScaling: { minReplicas: 2, maxReplicas: 20, targetCPUUtilizationPercentage: 60 },
        resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
    },
    // I/O-intensive, with persistent storage.
    repository: {
        port: 8082,
        autoScaling: { minReplicas: 1, maxReplicas: 8, targetCPUUtilizationPercentage: 75 },
        resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
    },
};

export const REPOSITORY_STORAGE_DEFAULT = { size: "5Gi", accessMode: "ReadWriteMany" as const };
export interface ResolvedPart {
    part: RestPart;
    port: number;
    replicas: number;
    resources: ResourceSpec;
    autoscaling?: { minReplicas: number; maxReplicas: number; targetCPUUtilizationPercentage?: number; targetMemoryUtilizationPercentage?: number };
    image?: string;
    envVars: Record<string, string>;
}

/** The effective settings of one part: design defaults, then the RestAPI's, then the part's own. */
export function resolvePart(spec: RestApiSpec, part: RestPart): ResolvedPart {
    const d = PART_DEFAULTS[part];
    const c = spec[part] ?? {};
    const hpaOn = (spec.autoScaling?.enabled ?? true) && (c.autoScaling?.enabled ?? true);
    // `replicas` (the part's, else the RestAPI's) is the HPA's minimum when autoscaling is on,
    // unless the part names its own autoScaling.minReplicas (validateRestApiSpec refuses a conflict).
    const wanted = c.replicas ?? spec.replicas;
    const autoscaling = hpaOn ? {
        minReplicas: c.autoScaling?.minReplicas ?? wanted ?? d.autoScaling.minReplicas,
        maxReplicas: c.autoScaling?.maxReplicas ?? d.autoScaling.maxReplicas,
        targetCPUUtilizationPercentage: c.autoScaling?.targetCPUUtilizationPercentage ?? d.autoScaling.targetCPUUtilizationPercentage,
        targetMemoryUtilizationPercentage: c.autoScaling?.targetMemoryUtilizationPercentage,
    } : undefined;
    const replicas = c.replicas ?? autoscaling?.minReplicas ?? spec.replicas ?? 1;
    return {
        part,
        port: c.port ?? d.port,
        replicas: autoscaling ? Math.max(replicas, autoscaling.minReplicas) : replicas,
        resources: c.resources ?? d.resources,
        autoscaling,
        image: c.image,
        envVars: c.envVars ?? {},
    };
}

/** The image a part runs in a colour: the part's own, else the colour's, else the RestAPI's. */
export function partImage(spec: RestApiSpec, part: RestPart, color?: Color): string {
    const colourImage = color === "blue" ? spec.blueGreen?.blueImage : color === "green" ? spec.blueGreen?.greenImage : undefined;
    return spec[part]?.image ?? colourImage ?? spec.image;
}

const SPEC_KEYS = ["image", "replicas", "envVars", ...REST_PARTS, "autoScaling", "healthCheck", "blueGreen"];
const PART_KEYS = ["image", "replicas", "port", "resources", "autoScaling", "envVars", "storage"];

/** A part's own settings (model, view, controller, repository), typed as read. */
function readPart(pk: string, part: RestPart, raw: unknown): ComponentSpec {
    const c = requireObject(pk, raw);
    rejectUnknownKeys(pk, c, PART_KEYS);
    const out: ComponentSpec = {};
    if (c.image !== undefined) {
        out.image = requirePinnedImage(`${pk}.image`, c.image);
    }
    if (c.replicas !== undefined) {
        out.replicas = requireIntInRange(`${pk}.replicas`, c.replicas, 1, 100);
    }
    if (c.port !== undefined) {
        out.port = requireIntInRange(`${pk}.port`, c.port, 1024, 65535);
    }
    if (c.resources !== undefined) {
        out.resources = validateResources(`${pk}.resources`, c.resources);
    }
    if (c.envVars !== undefined) {
        out.envVars = requirePlainEnv(`${pk}.envVars`, c.envVars);
    }
    if (c.autoScaling !== undefined) {
        const a = requireObject(`${pk}.autoScaling`, c.autoScaling);
        rejectUnknownKeys(`${pk}.autoScaling`, a, ["enabled", "minReplicas", "maxReplicas", "targetCPUUtilizationPercentage", "targetMemoryUtilizationPercentage"]);
        // Each number in its range here; min <= max and a metric target on the resolved part (validateAutoscaling).
        out.autoScaling = a.enabled === undefined ? {} : { enabled: requireBoolean(`${pk}.autoScaling.enabled`, a.enabled) };
        for (const k of ["minReplicas", "maxReplicas", "targetCPUUtilizationPercentage", "targetMemoryUtilizationPercentage"] as const) {
            if (a[k] !== undefined) {
                out.autoScaling[k] = requireIntInRange(`${pk}.autoScaling.${k}`, a[k], 1, 100);
            }
        }
    }
    if (c.storage !== undefined) {
        if (part !== "repository") {
            throw new ValidationError(`${pk}.storage`, "only the repository has persistent storage; allowed: repository.storage");
        }
        const st = requireObject(`${pk}.storage`, c.storage);
        rejectUnknownKeys(`${pk}.storage`, st, ["size", "storageClass", "accessMode"]);
        out.storage = {
            ...(st.size === undefined ? {} : { size: requireQuantity(`${pk}.storage.size`, st.size, "storage") }),
            ...(st.storageClass === undefined ? {} : { storageClass: requireNonEmptyString(`${pk}.storage.storageClass`, st.storageClass) }),
            ...(st.accessMode === undefined ? {} : { accessMode: requireOneOf(`${pk}.storage.accessMode`, st.accessMode, ACCESS_MODES) }),
        };
    }
    return out;
}

export function validateRestApiSpec(key: string, raw: unknown): RestApiSpec {
    const spec = requireObject(key, raw);
    rejectUnknownKeys(key, spec, SPEC_KEYS);
    // Built up as read: only the keys given, each typed.
    const typed: RestApiSpec = { image: requirePinnedImage(`${key}.image`, spec.image) };
    if (spec.replicas !== undefined) {
        typed.replicas = requireIntInRange(`${key}.replicas`, spec.replicas, 1, 100);
    }
    if (spec.envVars !== undefined) {
        typed.envVars = requirePlainEnv(`${key}.envVars`, spec.envVars);
    }
    if (spec.autoScaling !== undefined) {
        const a = requireObject(`${key}.autoScaling`, spec.autoScaling);
        rejectUnknownKeys(`${key}.autoScaling`, a, ["enabled"]);
        typed.autoScaling = a.enabled === undefined ? {} : { enabled: requireBoolean(`${key}.autoScaling.enabled`, a.enabled) };
    }
    for (const part of REST_PARTS) {
        if (spec[part] !== undefined) {
            typed[part] = readPart(`${key}.${part}`, part, spec[part]);
        }
    }
    const resolved = REST_PARTS.map(p => resolvePart(typed, p));
    resolved.forEach(r => {
        const part = typed[r.part] ?? {};
        const wanted = part.replicas ?? typed.replicas;
        const wantedKey = part.replicas !== undefined ? `${key}.${r.part}.replicas` : `${key}.replicas`;
        if (r.autoscaling && wanted !== undefined) {
            // replicas is the HPA's minimum: say why when it cannot be.
            if (part.autoScaling?.minReplicas !== undefined && part.autoScaling.minReplicas !== wanted) {
                throw new ValidationError(wantedKey,
                    `${wanted} disagrees with ${r.part}.autoScaling.minReplicas ${part.autoScaling.minReplicas} (replicas is the HPA's minimum); allowed: ${part.autoScaling.minReplicas}, or leave one of them out`);
            }
            if (wanted > r.autoscaling.maxReplicas) {
                throw new ValidationError(wantedKey,
                    `${wanted} is above ${r.part}'s autoScaling.maxReplicas ${r.autoscaling.maxReplicas} (replicas is the HPA's minimum); allowed: 1 to ${r.autoscaling.maxReplicas}, or raise ${r.part}.autoScaling.maxReplicas`);
            }
        }
        if (r.autoscaling) {
            validateAutoscaling(`${key}.${r.part}.autoScaling`, r.autoscaling);
        }
    });
    requireDistinctPorts(`${key}.port`, resolved.map(r => ({ name: r.part, port: r.port })));
    if (spec.healthCheck !== undefined) {
        const h = requireObject(`${key}.healthCheck`, spec.healthCheck);
        rejectUnknownKeys(`${key}.healthCheck`, h, ["path", "initialDelaySeconds", "periodSeconds", "timeoutSeconds", "failureThreshold"]);
        if (h.path !== undefined && (typeof h.path !== "string" || !h.path.startsWith("/"))) {
            throw new ValidationError(`${key}.healthCheck.path`, `${JSON.stringify(h.path)} is not allowed; allowed: an HTTP path starting with "/"`);
        }
        typed.healthCheck = h.path === undefined ? {} : { path: h.path };
        for (const k of ["initialDelaySeconds", "periodSeconds", "timeoutSeconds", "failureThreshold"] as const) {
            if (h[k] !== undefined) {
                typed.healthCheck[k] = requireIntInRange(`${key}.healthCheck.${k}`, h[k], k === "initialDelaySeconds" ? 0 : 1, 3600);
            }
        }
    }
    if (spec.blueGreen !== undefined) {
        const b = requireObject(`${key}.blueGreen`, spec.blueGreen);
        rejectUnknownKeys(`${key}.blueGreen`, b, ["enabled", "activeEnvironment", "blueImage", "greenImage"]);
        typed.blueGreen = {
            ...(b.enabled === undefined ? {} : { enabled: requireBoolean(`${key}.blueGreen.enabled`, b.enabled) }),
            ...(b.activeEnvironment === undefined ? {} : { activeEnvironment: requireOneOf(`${key}.blueGreen.activeEnvironment`, b.activeEnvironment, COLORS) }),
            ...(b.blueImage === undefined ? {} : { blueImage: requirePinnedImage(`${key}.blueGreen.blueImage`, b.blueImage) }),
            ...(b.greenImage === undefined ? {} : { greenImage: requirePinnedImage(`${key}.blueGreen.greenImage`, b.greenImage) }),
        };
    }
    // A ReadWriteOnce volume cannot be shared by several repository pods (replicas, HPA or two colours).
    const repo = resolved.find(r => r.part === "repository")!;
    const repoMax = Math.max(repo.replicas, repo.autoscaling?.maxReplicas ?? 0) * (typed.blueGreen?.enabled ? 2 : 1);
    const mode = typed.repository?.storage?.accessMode ?? REPOSITORY_STORAGE_DEFAULT.accessMode;
    if (mode === "ReadWriteOnce" && repoMax > 1) {
        throw new ValidationError(`${key}.repository.storage.accessMode`,
            `ReadWriteOnce cannot serve ${repoMax} repository pods; allowed: ReadWriteMany, or a single repository pod (replicas 1, autoScaling off, blueGreen off)`);
    }
    return typed;
}
