// Credentials as files: a container whose image reads a credential from a file gets it as a file of
// a mounted Secret, not as an env var (env vars reach every child process, /proc/<pid>/environ,
// crash reports and debug endpoints).
import { arr, containersOf, describeContainer, get, isWorkloadType, Obj, podSpecOf, str, unwrap } from "./lib/k8s";
import { resourceRule } from "./lib/policy";

/** One image's documented file variants: env var NAME can be given as NAME<suffix> = path of a file. */
export interface FileVariant {
    /** Image repository without registry defaults, tag or digest, e.g. "postgres", "grafana/grafana". */
    image: string;
    /** Env var names (exact, or a prefix ending in "*") that the image also reads from NAME<suffix>. */
    variables: string[];
    suffix: string;
}

/**
 * What the images document (each verified against the image's own entrypoint or docs):
 * postgres and mysql and mongo (docker-library entrypoints, file_env), grafana (any setting as
 * GF_<SECTION>_<KEY>__FILE), elasticsearch (ELASTIC_PASSWORD_FILE, KEYSTORE_PASSWORD_FILE).
 */
export const FILE_VARIANTS: FileVariant[] = [
    { image: "postgres", variables: ["POSTGRES_PASSWORD", "POSTGRES_USER", "POSTGRES_DB", "POSTGRES_INITDB_ARGS"], suffix: "_FILE" },
    { image: "mysql", variables: ["MYSQL_ROOT_PASSWORD", "MYSQL_PASSWORD", "MYSQL_USER", "MYSQL_DATABASE", "MYSQL_ROOT_HOST"], suffix: "_FILE" },
    { image: "mongo", variables: ["MONGO_INITDB_ROOT_USERNAME", "MONGO_INITDB_ROOT_PASSWORD"], suffix: "_FILE" },
    { image: "grafana/grafana", variables: ["GF_*"], suffix: "__FILE" },
    { image: "elasticsearch/elasticsearch", variables: ["ELASTIC_PASSWORD", "KEYSTORE_PASSWORD"], suffix: "_FILE" },
];

/** The repository of an image reference: registry host, "library/", tag and digest removed. */
export function imageRepository(image: string): string {
    let rest = image.split("@")[0];
    const lastSlash = rest.lastIndexOf("/");
    const colon = rest.lastIndexOf(":");
    if (colon > lastSlash) {
        rest = rest.slice(0, colon);
    }
    const parts = rest.split("/");
    // A first component with a dot or a port, or "localhost", is a registry host.
    if (parts.length > 1 && (/[.:]/.test(parts[0]) || parts[0] === "localhost")) {
        parts.shift();
    }
    if (parts.length > 1 && parts[0] === "library") {
        parts.shift();
    }
    return parts.join("/");
}

/** The file variant of `name` for `image`, e.g. ("postgres:16.4", "POSTGRES_PASSWORD") -> "POSTGRES_PASSWORD_FILE". */
export function fileVariantOf(variants: FileVariant[], image: string, name: string): string | undefined {
    const repo = imageRepository(image);
    for (const v of variants) {
        // "elasticsearch/elasticsearch" matches docker.elastic.co/elasticsearch/elasticsearch.
        if (repo !== v.image && !repo.endsWith(`/${v.image}`)) {
            continue;
        }
        const known = v.variables.some(p => (p.endsWith("*") ? name.startsWith(p.slice(0, -1)) : name === p));
        if (known && !name.endsWith(v.suffix)) {
            return `${name}${v.suffix}`;
        }
    }
    return undefined;
}

/** Mount paths of the container's Secret volumes (secret, or projected with a secret source). */
export function secretMountPaths(pod: Obj, container: Obj): string[] {
    const secretVolumes = new Set<string>();
    for (const v of arr(pod.volumes) ?? []) {
        const name = str(get(v, "name"));
        const projectedSecret = (arr(get(v, "projected", "sources")) ?? []).some(s => get(s, "secret") !== undefined);
        if (name && (get(v, "secret") !== undefined || projectedSecret)) {
            secretVolumes.add(name);
        }
    }
    return (arr(container.volumeMounts) ?? [])
        .filter(m => secretVolumes.has(str(get(m, "name")) ?? ""))
        .map(m => str(get(m, "mountPath")) ?? "")
        .filter(p => p !== "");
}

/** True when `value` is a file under one of the container's Secret mounts. */
export function isSecretFilePath(pod: Obj, container: Obj, value: string): boolean {
    return secretMountPaths(pod, container).some(p => value.startsWith(`${p.replace(/\/+$/, "")}/`));
}

export const credentialsAsFiles = resourceRule({
    severity: "medium",
    tags: ["pod-security", "secrets"],
    appliesTo: isWorkloadType,
    name: "credentials-as-files",
    description: "A container whose image reads a setting from a file (e.g. POSTGRES_PASSWORD_FILE) gets its Secret as a mounted file, not as an env var from secretKeyRef.",
    remediationSteps: "Mount the Secret read-only (a secret volume, defaultMode 0440 with the pod's fsGroup) and set the file variant to the file's path, e.g. POSTGRES_PASSWORD_FILE=/var/run/secrets/platform/db-credentials/password, instead of valueFrom.secretKeyRef.",
    defaults: { fileVariants: FILE_VARIANTS },
    schema: {
        fileVariants: {
            type: "array",
            items: {
                type: "object",
                properties: { image: { type: "string" }, variables: { type: "array", items: { type: "string" } }, suffix: { type: "string" } },
                required: ["image", "variables", "suffix"],
            },
        },
    },
    check: (res, cfg, report) => {
        const pod = podSpecOf(res.type, res.props);
        for (const c of containersOf(pod)) {
            const image = str(unwrap(c.spec.image));
            if (!image) {
                continue;
            }
            for (const e of arr(c.spec.env) ?? []) {
                const name = str(get(e, "name"));
                if (!name || get(e, "valueFrom", "secretKeyRef") === undefined) {
                    continue;
                }
                const variant = fileVariantOf(cfg.fileVariants, image, name);
                if (variant) {
                    report(`${describeContainer(c)} gets ${name} from a secretKeyRef, but ${imageRepository(image)} reads ${variant}: mount the Secret and pass the file's path`);
                }
            }
        }
    },
});

export const credentialPolicies = {
    "credentials-as-files": credentialsAsFiles,
};
