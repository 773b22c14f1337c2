/**
 * Credentials as files: the one way a credential reaches a container whose image (or whose script
 * of ours) can read it from a file. The Secret is mounted read-only, each key a file, and the
 * container gets the file's path (`POSTGRES_PASSWORD_FILE=/var/run/secrets/platform/<volume>/password`),
 * never the value: environment variables are copied into every child process, readable in
 * /proc/<pid>/environ, printed by crash handlers and debug endpoints; a file is read where needed.
 *
 * Mode 0440: the kubelet writes Secret files owned by root and, with a pod fsGroup, group-owned by
 * it; the pod's processes run as a non-root user with the fsGroup as a supplementary group, so
 * group-read is what they need (0400 would be widened to 0440 by the kubelet anyway). Every pod of
 * the platform sets fsGroup (Workload, the Redis Cluster shrink Job, the backup CronJob).
 * docs/hardening.md ("Credentials") lists which containers read files and which still need env.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import Input = k8s.types.input.core.v1;

/** Where credential volumes are mounted: one directory per volume. */
export const CREDENTIALS_ROOT = "/var/run/secrets/platform";
/** owner root, group the pod's fsGroup: read-only for the pod's processes, nothing for others. */
export const CREDENTIAL_FILE_MODE = 0o440;

/** A Secret projected as files: which keys, under which volume name, mounted where. */
export interface SecretFiles {
    /** Volume name, unique within the pod; also the directory under CREDENTIALS_ROOT. */
    volume: string;
    secretName: pulumi.Input<string>;
    /** The Secret keys that become files (file name = key). */
    keys: string[];
    mountPath: string;
}

/** The keys of `secretName` as files under CREDENTIALS_ROOT/<volume>/. */
export function secretFiles(volume: string, secretName: pulumi.Input<string>, keys: string[]): SecretFiles {
    if (keys.length === 0) {
        throw new Error(`secretFiles(${volume}): no keys; allowed: one or more Secret keys`);
    }
    return { volume, secretName, keys: [...new Set(keys)], mountPath: `${CREDENTIALS_ROOT}/${volume}` };
}

/** Path of one key's file. */
export function secretFilePath(files: SecretFiles, key: string): string {
    if (!files.keys.includes(key)) {
        throw new Error(`secretFiles(${files.volume}): key "${key}" is not projected; allowed: ${files.keys.join(", ")}`);
    }
    return `${files.mountPath}/${key}`;
}

/** An env var that carries the path of a credential file, e.g. POSTGRES_PASSWORD_FILE. */
export function fileEnv(name: string, files: SecretFiles, key: string): Input.EnvVar {
    return { name, value: secretFilePath(files, key) };
}

export function secretFilesMount(files: SecretFiles): Input.VolumeMount {
    return { name: files.volume, mountPath: files.mountPath, readOnly: true };
}

export function secretFilesVolume(files: SecretFiles): Input.Volume {
    return {
        name: files.volume,
        secret: {
            secretName: files.secretName,
            items: files.keys.map(key => ({ key, path: key })),
            defaultMode: CREDENTIAL_FILE_MODE,
        },
    };
}

/**
 * The Secret volumes the containers of one pod need, one per volume name. Two containers may share
 * a volume only when they project the same Secret: a name bound to two Secrets is refused.
 */
export function credentialVolumes(specs: { secretFiles?: SecretFiles[] }[]): Input.Volume[] {
    const byName = new Map<string, SecretFiles>();
    for (const files of specs.flatMap(s => s.secretFiles ?? [])) {
        const seen = byName.get(files.volume);
        if (!seen) {
            byName.set(files.volume, { ...files, keys: [...files.keys] });
        } else if (seen.secretName !== files.secretName) {
            throw new Error(`credential volume "${files.volume}" names two Secrets; allowed: one Secret per volume name`);
        } else {
            seen.keys = [...new Set([...seen.keys, ...files.keys])];
        }
    }
    return [...byName.values()].map(secretFilesVolume);
}
