/**
 * Secure container and pod defaults. Every workload of the platform is built through these
 * functions, so the pod-security rules the policy pack enforces are written here once.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { rejectUnknownKeys, requireIntInRange, requireObject, requirePinnedImage, requireQuantity, ValidationError } from "./validation";
import { parseQuantity } from "./quantity";
import { DEFAULT_UID, MIN_HIGH_ID, STATELESS, UidException, WorkloadProfile } from "./profile";
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

/**
 * Reads requests/limits (config or args): exactly cpu and memory in both, quantities of their kind,
 * and limit >= request. Returns them typed, as read.
 */
export function validateResources(key: string, raw: unknown): ResourceSpec {
    const o = typeof raw === "object" && raw !== null ? raw as Record<string, unknown> : {};
    if (!o.requests || !o.limits) {
        throw new ValidationError(key, "resources need requests and limits for cpu and memory");
    }
    rejectUnknownKeys(key, o, ["requests", "limits"]);
    const side = (s: "requests" | "limits") => {
        const v = requireObject(`${key}.${s}`, o[s]);
        rejectUnknownKeys(`${key}.${s}`, v, ["cpu", "memory"]);
        return v;
    };
    const [requests, limits] = [side("requests"), side("limits")];
    const read = (kind: "cpu" | "memory"): [string, string] => {
        const req = requireQuantity(`${key}.requests.${kind}`, requests[kind], kind);
        const lim = requireQuantity(`${key}.limits.${kind}`, limits[kind], kind);
        if (parseQuantity(lim)! < parseQuantity(req)!) {
            throw new ValidationError(`${key}.limits.${kind}`,
                `${lim} is below the request ${req}; allowed: a limit greater than or equal to the request`);
        }
        return [req, lim];
    };
    const [cpu, memory] = [read("cpu"), read("memory")];
    return { requests: { cpu: cpu[0], memory: memory[0] }, limits: { cpu: cpu[1], memory: memory[1] } };
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

/** The action of a probe (httpGet, tcpSocket, exec, grpc), without its timing: what it checks. */
export function probeHandler(p: Input.Probe): string {
    const { httpGet, tcpSocket, exec, grpc } = p as Record<string, unknown>;
    return JSON.stringify({ httpGet, tcpSocket, exec, grpc });
}

/**
 * The pod security context of every pod of the platform: non-root, UID/GID/fsGroup DEFAULT_UID
 * (>= 10000), unless the workload declares a UidException (the image's own UID, with the reason).
 */
export function podSecurityContext(key: string, exception?: UidException): Input.PodSecurityContext {
    if (exception) {
        requireIntInRange(`${key}.uidException.uid`, exception.uid, 1, MIN_HIGH_ID - 1);
        if (typeof exception.reason !== "string" || exception.reason.trim().length < 10) {
            throw new ValidationError(`${key}.uidException.reason`, "missing; allowed: why the image needs its own UID (it lands in the manifest and docs/hardening.md)");
        }
    }
    const id = exception?.uid ?? DEFAULT_UID;
    return {
        runAsNonRoot: true,
        runAsUser: id,
        runAsGroup: id,
        fsGroup: id,
        fsGroupChangePolicy: "OnRootMismatch",
        seccompProfile: { type: "RuntimeDefault" },
    };
}

/**
 * Pinned image, complete resources, and probes for every long-running container: readiness checks
 * that the container serves, liveness only that the process is alive. They must check different
 * things (a liveness probe that fails with readiness restarts a container that is merely busy or
 * waiting for a dependency), and liveness is the more patient of the two.
 */
export function validateContainer(spec: ContainerSpec, key: string, init = false): void {
    requirePinnedImage(`${key}.image`, spec.image);
    validateResources(`${key}.resources`, spec.resources);
    if (init) {
        return;
    }
    const { livenessProbe: live, readinessProbe: ready } = spec;
    if (!live || !ready) {
        throw new ValidationError(key, "a long-running container needs a livenessProbe and a readinessProbe");
    }
    if (probeHandler(live) === probeHandler(ready)) {
        throw new ValidationError(`${key}.livenessProbe`,
            "checks the same as the readinessProbe; allowed: a liveness check of the process only (livenessTcp/livenessExec), distinct from readiness");
    }
    const budget = (p: Input.Probe) => Number(p.periodSeconds ?? 10) * Number(p.failureThreshold ?? 3);
    if (budget(live) < budget(ready)) {
        throw new ValidationError(`${key}.livenessProbe`,
            `gives up after ${budget(live)}s, before the readinessProbe (${budget(ready)}s); allowed: periodSeconds x failureThreshold at least the readiness one`);
    }
}

/** Requests and limits as the pod gets them: the validated cpu/memory plus the profile's ephemeral storage. */
export function containerResources(r: ResourceSpec, profile: WorkloadProfile = STATELESS): Input.ResourceRequirements {
    return {
        requests: { ...r.requests, "ephemeral-storage": profile.ephemeralStorage.request },
        limits: { ...r.limits, "ephemeral-storage": profile.ephemeralStorage.limit },
    };
}

export function secureContainer(spec: ContainerSpec, key: string, init = false, profile: WorkloadProfile = STATELESS): Input.Container {
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
        resources: containerResources(spec.resources, profile),
        livenessProbe: spec.livenessProbe,
        readinessProbe: spec.readinessProbe,
        startupProbe: spec.startupProbe,
        volumeMounts: [...(spec.volumeMounts ?? []), ...(spec.secretFiles ?? []).map(secretFilesMount), ...scratchMounts],
        workingDir: spec.workingDir,
        securityContext: CONTAINER_SECURITY_CONTEXT,
        terminationMessagePolicy: "FallbackToLogsOnError",
    };
}

/** The emptyDir volumes that back every container's writable paths (deduplicated per pod), each with the profile's sizeLimit. */
export function scratchVolumes(specs: ContainerSpec[], profile: WorkloadProfile = STATELESS): Input.Volume[] {
    const paths = new Set<string>(["/tmp"]);
    specs.forEach(s => (s.writablePaths ?? []).forEach(p => paths.add(p)));
    return [...paths].map(p => ({ name: scratchVolumeName(p), emptyDir: { sizeLimit: profile.scratchSizeLimit } }));
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

/** Liveness timing: checked half as often as readiness and given twice its failures before a restart. */
export const LIVENESS_TIMING: Readonly<Partial<Input.Probe>> = Object.freeze({ periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 6 });

/** Liveness of a server process: its port accepts connections (says nothing about whether it can serve). */
export function livenessTcp(port: number | string, opts: Partial<Input.Probe> = {}): Input.Probe {
    return { tcpSocket: { port }, initialDelaySeconds: 15, ...LIVENESS_TIMING, ...opts };
}

/** Liveness of a process without a port (sidecar loops): the command runs in the container and succeeds. */
export function livenessExec(command: string[], opts: Partial<Input.Probe> = {}): Input.Probe {
    return { exec: { command }, initialDelaySeconds: 15, ...LIVENESS_TIMING, ...opts };
}

/** Liveness of a script running as PID 1 (a sidecar's loop): the process still exists. */
export const PID1_ALIVE = ["sh", "-c", "kill -0 1"];

/**
 * Startup probe of a slow starter (database recovery, JVM start, cluster join): liveness and
 * readiness wait until it succeeds, for up to periodSeconds x failureThreshold (default 10 x 60 s).
 */
export function startupProbe(readiness: Input.Probe, opts: Partial<Input.Probe> = {}): Input.Probe {
    const { httpGet, tcpSocket, exec, grpc } = readiness;
    return { httpGet, tcpSocket, exec, grpc, initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 60, ...opts };
}

/**
 * The volumes a pod's container specs imply: the emptyDirs of their writable paths and the Secret
 * volumes of their credential files.
 */
export function containerVolumes(specs: ContainerSpec[], profile: WorkloadProfile = STATELESS): Input.Volume[] {
    return [...scratchVolumes(specs, profile), ...credentialVolumes(specs)];
}

/**
 * Env var read from a Secret key: only for images that cannot read the credential from a file
 * (docs/hardening.md, "Credentials"); everything else uses fileEnv and secretFiles (credentials.ts).
 */
export function secretEnv(name: string, secretName: pulumi.Input<string>, key: string): Input.EnvVar {
    return { name, valueFrom: { secretKeyRef: { name: secretName, key } } };
}
