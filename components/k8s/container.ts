/**
 * Secure container and pod defaults. Every workload of the platform is built through these
 * functions, so the pod-security rules the policy pack enforces are written here once.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { rejectUnknownKeys, requireObject, requirePinnedImage, requireQuantity, ValidationError } from "./validation";
import { parseQuantity } from "./quantity";
import { credentialVolumes, SecretFiles, secretFilesMount } from "./credentials";

import Input = k8s.types.input.core.v1;

export interface ResourceSpec {
    requests: { cpu: string; memory: string };
    limits: { cpu: string; memory: string };
}

export interface ContainerPort {
    name: string;
    containerPort: number;
    protocol?: "TCP" | "UDP";
}

export interface ContainerSpec {
    name: string;
    image: string;
    command?: string[];
    args?: pulumi.Input<string>[];
    ports?: ContainerPort[];
    env?: pulumi.Input<Input.EnvVar>[];
    envFrom?: pulumi.Input<Input.EnvFromSource>[];
    resources: ResourceSpec;
    /** Required for long-running containers; init containers have none. */
    livenessProbe?: Input.Probe;
    readinessProbe?: Input.Probe;
    startupProbe?: Input.Probe;
    volumeMounts?: Input.VolumeMount[];
    /** Paths that need writing under a read-only root filesystem: each gets an emptyDir. */
    writablePaths?: string[];
    /** Secrets mounted read-only as files (components/k8s/credentials.ts): credentials reach the process as files. */
    secretFiles?: SecretFiles[];
    workingDir?: string;
}

/** Validates requests/limits: exactly cpu and memory in both, quantities of their kind, and limit >= request. */
export function validateResources(key: string, r: ResourceSpec | undefined): ResourceSpec {
    if (!r || typeof r !== "object" || !r.requests || !r.limits) {
        throw new ValidationError(key, "resources need requests and limits for cpu and memory");
    }
    rejectUnknownKeys(key, r as unknown as Record<string, unknown>, ["requests", "limits"]);
    for (const side of ["requests", "limits"] as const) {
        rejectUnknownKeys(`${key}.${side}`, requireObject(`${key}.${side}`, r[side]), ["cpu", "memory"]);
    }
    for (const kind of ["cpu", "memory"] as const) {
        const req = requireQuantity(`${key}.requests.${kind}`, r.requests[kind], kind);
        const lim = requireQuantity(`${key}.limits.${kind}`, r.limits[kind], kind);
        if (parseQuantity(lim)! < parseQuantity(req)!) {
            throw new ValidationError(`${key}.limits.${kind}`,
                `${lim} is below the request ${req}; allowed: a limit greater than or equal to the request`);
        }
    }
    return r;
}

/** Volume name for a writable path: "/var/run/postgresql" -> "scratch-var-run-postgresql". */
export function scratchVolumeName(path: string): string {
    const slug = path.replace(/^\/+|\/+$/g, "").replace(/[^a-z0-9]+/gi, "-").toLowerCase();
    return `scratch-${slug}`.substring(0, 63).replace(/-+$/, "");
}

export const CONTAINER_SECURITY_CONTEXT: Input.SecurityContext = {
    runAsNonRoot: true,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    privileged: false,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
};

/** Pinned image, complete resources, and probes for every long-running container. */
export function validateContainer(spec: ContainerSpec, key: string, init = false): void {
    requirePinnedImage(`${key}.image`, spec.image);
    validateResources(`${key}.resources`, spec.resources);
    if (!init && (!spec.livenessProbe || !spec.readinessProbe)) {
        throw new ValidationError(key, "a long-running container needs a livenessProbe and a readinessProbe");
    }
}

export function secureContainer(spec: ContainerSpec, key: string, init = false): Input.Container {
    validateContainer(spec, key, init);
    const writable = ["/tmp", ...(spec.writablePaths ?? [])];
    const scratchMounts = [...new Set(writable)].map(p => ({ name: scratchVolumeName(p), mountPath: p }));
    return {
        name: spec.name,
        image: spec.image,
        imagePullPolicy: "IfNotPresent",
        command: spec.command,
        args: spec.args,
        ports: spec.ports?.map(p => ({ name: p.name, containerPort: p.containerPort, protocol: p.protocol ?? "TCP" })),
        env: spec.env,
        envFrom: spec.envFrom,
        resources: { requests: { ...spec.resources.requests }, limits: { ...spec.resources.limits } },
        livenessProbe: spec.livenessProbe,
        readinessProbe: spec.readinessProbe,
        startupProbe: spec.startupProbe,
        volumeMounts: [...(spec.volumeMounts ?? []), ...(spec.secretFiles ?? []).map(secretFilesMount), ...scratchMounts],
        workingDir: spec.workingDir,
        securityContext: CONTAINER_SECURITY_CONTEXT,
        terminationMessagePolicy: "FallbackToLogsOnError",
    };
}

/** The emptyDir volumes that back every container's writable paths (deduplicated per pod). */
export function scratchVolumes(specs: ContainerSpec[]): Input.Volume[] {
    const paths = new Set<string>(["/tmp"]);
    specs.forEach(s => (s.writablePaths ?? []).forEach(p => paths.add(p)));
    return [...paths].map(p => ({ name: scratchVolumeName(p), emptyDir: { sizeLimit: "256Mi" } }));
}

export function httpProbe(path: string, port: number | string, opts: Partial<Input.Probe> = {}): Input.Probe {
    return {
        httpGet: { path, port },
        initialDelaySeconds: 10,
        periodSeconds: 10,
        timeoutSeconds: 3,
        failureThreshold: 3,
        ...opts,
    };
}

export function tcpProbe(port: number | string, opts: Partial<Input.Probe> = {}): Input.Probe {
    return { tcpSocket: { port }, initialDelaySeconds: 15, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3, ...opts };
}

export function execProbe(command: string[], opts: Partial<Input.Probe> = {}): Input.Probe {
    return { exec: { command }, initialDelaySeconds: 15, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3, ...opts };
}

/**
 * The volumes a pod's container specs imply: the emptyDirs of their writable paths and the Secret
 * volumes of their credential files.
 */
export function containerVolumes(specs: ContainerSpec[]): Input.Volume[] {
    return [...scratchVolumes(specs), ...credentialVolumes(specs)];
}

/**
 * Env var read from a Secret key: only for images that cannot read the credential from a file
 * (docs/hardening.md, "Credentials"); everything else uses fileEnv and secretFiles (credentials.ts).
 */
export function secretEnv(name: string, secretName: pulumi.Input<string>, key: string): Input.EnvVar {
    return { name, valueFrom: { secretKeyRef: { name: secretName, key } } };
}
