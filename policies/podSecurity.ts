// Pod security rules, applied to the pod template of every workload kind.
import { arr, containersOf, describeContainer, get, isUnknown, isWorkloadType, K8sResource, Obj, podSpecOf, probe, str, Tri, unwrap } from "./lib/k8s";
import { resourceRule, stringList } from "./lib/policy";
import { isSecretFilePath } from "./credentials";
import type { ContainerRef } from "./lib/k8s";

/** A container's securityContext field, falling back to the pod's securityContext where Kubernetes does. */
function effective(pod: Obj, c: ContainerRef, field: string, podLevel: boolean): Tri<unknown> {
    const own = probe(c.spec, "securityContext", field);
    if (own.state !== "absent" || !podLevel) {
        return own;
    }
    return probe(pod, "securityContext", field);
}

/** Runs `fn` for each container (and init container) of the workload's pod spec. */
function eachContainer(res: K8sResource, fn: (pod: Obj, c: ContainerRef) => void, includeInit = true): void {
    const pod = podSpecOf(res.type, res.props);
    if (!pod) {
        return;
    }
    for (const c of containersOf(pod, includeInit)) {
        fn(pod, c);
    }
}

const base = { severity: "high" as const, tags: ["pod-security"], appliesTo: isWorkloadType };

export const podRunAsNonRoot = resourceRule({
    ...base,
    name: "pod-run-as-non-root",
    description: "Containers run as non-root: runAsNonRoot true (container or pod level) and never runAsUser 0.",
    remediationSteps: "Set securityContext.runAsNonRoot: true (and a non-zero runAsUser) on the pod or each container.",
    defaults: {},
    check: (res, _cfg, report) =>
        eachContainer(res, (pod, c) => {
            const nonRoot = effective(pod, c, "runAsNonRoot", true);
            if (nonRoot.state === "absent" || (nonRoot.state === "known" && nonRoot.value !== true)) {
                report(`${describeContainer(c)} does not set runAsNonRoot: true`);
            }
            const user = effective(pod, c, "runAsUser", true);
            if (user.state === "known" && user.value === 0) {
                report(`${describeContainer(c)} runs as user 0 (root)`);
            }
        }),
});

function requireBoolean(name: string, field: string, want: boolean, description: string, remediation: string) {
    return resourceRule({
        ...base,
        name,
        description,
        remediationSteps: remediation,
        defaults: {},
        check: (res, _cfg, report) =>
            eachContainer(res, (pod, c) => {
                const v = effective(pod, c, field, false);
                if (v.state === "absent" || (v.state === "known" && v.value !== want)) {
                    report(`${describeContainer(c)} does not set ${field}: ${want}`);
                }
            }),
    });
}

export const podReadOnlyRootFilesystem = requireBoolean(
    "pod-read-only-root-filesystem",
    "readOnlyRootFilesystem",
    true,
    "Containers have a read-only root filesystem.",
    "Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the process must write.",
);

export const podNoPrivilegeEscalation = requireBoolean(
    "pod-no-privilege-escalation",
    "allowPrivilegeEscalation",
    false,
    "Containers set allowPrivilegeEscalation: false.",
    "Set securityContext.allowPrivilegeEscalation: false on every container.",
);

export const podDropAllCapabilities = resourceRule({
    ...base,
    name: "pod-drop-all-capabilities",
    description: "Containers drop ALL Linux capabilities and add back only allow-listed ones.",
    remediationSteps: "Set securityContext.capabilities.drop: [ALL]; add back only capabilities listed in allowedCapabilities.",
    defaults: { allowedCapabilities: [] as string[] },
    schema: { allowedCapabilities: stringList },
    check: (res, cfg, report) =>
        eachContainer(res, (_pod, c) => {
            const drop = probe(c.spec, "securityContext", "capabilities", "drop");
            if (drop.state === "absent") {
                report(`${describeContainer(c)} does not drop ALL capabilities`);
            } else if (drop.state === "known") {
                const list = arr(drop.value) ?? [];
                if (!list.some((x) => isUnknown(unwrap(x))) && !list.some((x) => str(unwrap(x)) === "ALL")) {
                    report(`${describeContainer(c)} does not drop ALL capabilities`);
                }
            }
            for (const cap of arr(get(c.spec, "securityContext", "capabilities", "add")) ?? []) {
                const name = str(unwrap(cap));
                if (name && !cfg.allowedCapabilities.includes(name)) {
                    report(`${describeContainer(c)} adds capability ${name}`);
                }
            }
        }),
});

export const podNotPrivileged = resourceRule({
    ...base,
    severity: "critical",
    name: "pod-not-privileged",
    description: "No container runs privileged.",
    remediationSteps: "Remove securityContext.privileged (or set it to false).",
    defaults: {},
    check: (res, _cfg, report) =>
        eachContainer(res, (_pod, c) => {
            const v = probe(c.spec, "securityContext", "privileged");
            if (v.state === "known" && v.value === true) {
                report(`${describeContainer(c)} runs privileged`);
            }
        }),
});

export const podSeccompRuntimeDefault = resourceRule({
    ...base,
    severity: "medium",
    name: "pod-seccomp-runtime-default",
    description: "Containers run with the RuntimeDefault seccomp profile (pod or container level).",
    remediationSteps: "Set securityContext.seccompProfile.type: RuntimeDefault on the pod.",
    defaults: { allowedProfiles: ["RuntimeDefault"] as string[] },
    schema: { allowedProfiles: stringList },
    check: (res, cfg, report) =>
        eachContainer(res, (pod, c) => {
            let v = probe(c.spec, "securityContext", "seccompProfile", "type");
            if (v.state === "absent") {
                v = probe(pod, "securityContext", "seccompProfile", "type");
            }
            if (v.state === "absent") {
                report(`${describeContainer(c)} has no seccomp profile (expected ${cfg.allowedProfiles.join(" or ")})`);
            } else if (v.state === "known" && !cfg.allowedProfiles.includes(String(v.value))) {
                report(`${describeContainer(c)} uses seccomp profile ${String(v.value)} (expected ${cfg.allowedProfiles.join(" or ")})`);
            }
        }),
});

export const podNoHostAccess = resourceRule({
    ...base,
    severity: "critical",
    name: "pod-no-host-access",
    description: "Pods share no host namespace (hostNetwork, hostPID, hostIPC) and mount no hostPath volume.",
    remediationSteps: "Remove hostNetwork/hostPID/hostIPC and replace hostPath volumes by emptyDir, ConfigMap, Secret or PVC volumes.",
    defaults: {},
    check: (res, _cfg, report) => {
        const pod = podSpecOf(res.type, res.props);
        if (!pod) {
            return;
        }
        for (const f of ["hostNetwork", "hostPID", "hostIPC"]) {
            if (pod[f] === true) {
                report(`sets ${f}: true`);
            }
        }
        for (const v of arr(pod.volumes) ?? []) {
            const hp = probe(v, "hostPath");
            if (hp.state === "known") {
                report(`mounts hostPath volume "${str(get(v, "name")) ?? "?"}"`);
            }
        }
    },
});

/** Splits an image reference into its tag and digest. */
export function imageRef(image: string): { tag?: string; digest?: string } {
    const at = image.indexOf("@");
    const digest = at >= 0 ? image.slice(at + 1) : undefined;
    const rest = at >= 0 ? image.slice(0, at) : image;
    const lastSlash = rest.lastIndexOf("/");
    const colon = rest.lastIndexOf(":");
    const tag = colon > lastSlash ? rest.slice(colon + 1) : undefined;
    return { tag, digest };
}

export const imageTagPinned = resourceRule({
    ...base,
    name: "image-tag-pinned",
    description: "Container images are pinned: a tag other than latest (or a digest); never a missing tag.",
    remediationSteps: "Reference images as registry/name:<version> (or @sha256:<digest>), never :latest or without a tag.",
    defaults: { forbiddenTags: ["latest"] as string[], requireDigest: false },
    schema: { forbiddenTags: stringList, requireDigest: { type: "boolean" } },
    check: (res, cfg, report) =>
        eachContainer(res, (_pod, c) => {
            const p = probe(c.spec, "image");
            if (p.state === "unknown") {
                return;
            }
            const image = p.state === "known" ? str(p.value) : undefined;
            if (!image) {
                report(`${describeContainer(c)} has no image`);
                return;
            }
            const { tag, digest } = imageRef(image);
            if (digest) {
                return;
            }
            if (cfg.requireDigest) {
                report(`${describeContainer(c)} image ${image} is not pinned by digest`);
            } else if (!tag) {
                report(`${describeContainer(c)} image ${image} has no tag`);
            } else if (cfg.forbiddenTags.includes(tag)) {
                report(`${describeContainer(c)} image ${image} uses the "${tag}" tag`);
            }
        }),
});

export const podProbes = resourceRule({
    ...base,
    severity: "medium",
    name: "pod-probes",
    description: "Every (non-init) container has a liveness and a readiness probe; run-to-completion kinds can be exempted by config.",
    remediationSteps: "Add livenessProbe and readinessProbe (httpGet /health, tcpSocket or exec) to every container.",
    defaults: { exemptKinds: ["Job", "CronJob"] as string[] },
    schema: { exemptKinds: stringList },
    check: (res, cfg, report) => {
        if (cfg.exemptKinds.includes(res.kind)) {
            return;
        }
        eachContainer(
            res,
            (_pod, c) => {
                for (const probeName of ["livenessProbe", "readinessProbe"]) {
                    if (probe(c.spec, probeName).state === "absent") {
                        report(`${describeContainer(c)} has no ${probeName}`);
                    }
                }
            },
            false,
        );
    },
});

const SECRET_NAME = "(password|passwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?)";
const SECRET_VALUE = "(-----BEGIN [A-Z ]*PRIVATE KEY-----|^AKIA[0-9A-Z]{16}$|^gh[pousr]_[A-Za-z0-9]{30,}$|^xox[abprs]-|://[^/\\s:@]+:[^/\\s@]+@)";

export const noLiteralSecretEnv = resourceRule({
    ...base,
    name: "no-literal-secret-env",
    description: "No container env var carries a literal secret-looking value; secrets come through a mounted Secret file (NAME_FILE) or secretKeyRef.",
    remediationSteps: "Store the value in a Secret (sealed in git); mount it and pass the file's path (NAME_FILE), or reference it with env[].valueFrom.secretKeyRef.",
    defaults: { namePattern: SECRET_NAME, valuePattern: SECRET_VALUE, allowedNames: [] as string[] },
    schema: { namePattern: { type: "string" }, valuePattern: { type: "string" }, allowedNames: stringList },
    check: (res, cfg, report) => {
        const nameRe = new RegExp(cfg.namePattern, "i");
        const valueRe = new RegExp(cfg.valuePattern);
        eachContainer(res, (pod, c) => {
            for (const e of arr(c.spec.env) ?? []) {
                const name = str(get(e, "name"));
                const value = str(get(e, "value"));
                if (!name || !value || cfg.allowedNames.includes(name)) {
                    continue;
                }
                // The path of a file of a Secret mounted in this container is where the secret is, not the secret.
                if (isSecretFilePath(pod, c.spec, value)) {
                    continue;
                }
                if (nameRe.test(name) || valueRe.test(value)) {
                    report(`${describeContainer(c)} sets env ${name} to a literal secret-looking value; use a mounted Secret file (NAME_FILE) or valueFrom.secretKeyRef`);
                }
            }
        });
    },
});

export const podSecurityPolicies = {
    "pod-run-as-non-root": podRunAsNonRoot,
    "pod-read-only-root-filesystem": podReadOnlyRootFilesystem,
    "pod-no-privilege-escalation": podNoPrivilegeEscalation,
    "pod-drop-all-capabilities": podDropAllCapabilities,
    "pod-not-privileged": podNotPrivileged,
    "pod-seccomp-runtime-default": podSeccompRuntimeDefault,
    "pod-no-host-access": podNoHostAccess,
    "image-tag-pinned": imageTagPinned,
    "pod-probes": podProbes,
    "no-literal-secret-env": noLiteralSecretEnv,
};
