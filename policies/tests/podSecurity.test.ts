import { expect } from "chai";
import { UNKNOWN } from "../lib/k8s";
import {
    imageRef,
    imageTagPinned,
    noLiteralSecretEnv,
    podDropAllCapabilities,
    podNoHostAccess,
    podNoPrivilegeEscalation,
    podNotPrivileged,
    podProbes,
    podReadOnlyRootFilesystem,
    podRunAsNonRoot,
    podSeccompRuntimeDefault,
} from "../podSecurity";
import { DELETE, mutate, workload } from "./fixtures";
import { checkResource, describePodCases, PodCase } from "./util";


const c0 = "containers.0";
/** A pod-level setting applies to the container and the init container alike. */
const both = (m: string) => [`container "api" ${m}`, `init container "init" ${m}`];
const cases: Record<string, PodCase> = {
    "pod-run-as-non-root": {
        policy: podRunAsNonRoot,
        breaks: [
            ["securityContext.runAsNonRoot", false, both("does not set runAsNonRoot: true")],
            [`${c0}.securityContext.runAsNonRoot`, false, 'container "api" does not set runAsNonRoot: true'],
            ["securityContext.runAsUser", 0, both("runs as user 0 (root)")],
        ],
    },
    "pod-read-only-root-filesystem": {
        policy: podReadOnlyRootFilesystem,
        breaks: [
            [`${c0}.securityContext.readOnlyRootFilesystem`, false, 'container "api" does not set readOnlyRootFilesystem: true'],
            [`${c0}.securityContext.readOnlyRootFilesystem`, DELETE, 'container "api" does not set readOnlyRootFilesystem: true'],
            ["initContainers.0.securityContext.readOnlyRootFilesystem", DELETE, 'init container "init" does not set readOnlyRootFilesystem: true'],
        ],
    },
    "pod-no-privilege-escalation": {
        policy: podNoPrivilegeEscalation,
        breaks: [
            [`${c0}.securityContext.allowPrivilegeEscalation`, true, 'container "api" does not set allowPrivilegeEscalation: false'],
            [`${c0}.securityContext.allowPrivilegeEscalation`, DELETE, 'container "api" does not set allowPrivilegeEscalation: false'],
        ],
    },
    "pod-drop-all-capabilities": {
        policy: podDropAllCapabilities,
        breaks: [
            [`${c0}.securityContext.capabilities.drop`, ["NET_RAW"], 'container "api" does not drop ALL capabilities'],
            [`${c0}.securityContext.capabilities`, DELETE, 'container "api" does not drop ALL capabilities'],
            [`${c0}.securityContext.capabilities.add`, ["SYS_ADMIN"], 'container "api" adds capability SYS_ADMIN'],
        ],
    },
    "pod-not-privileged": {
        policy: podNotPrivileged,
        breaks: [[`${c0}.securityContext.privileged`, true, 'container "api" runs privileged']],
    },
    "pod-seccomp-runtime-default": {
        policy: podSeccompRuntimeDefault,
        breaks: [
            ["securityContext.seccompProfile", DELETE, both("has no seccomp profile (expected RuntimeDefault)")],
            ["securityContext.seccompProfile.type", "Unconfined", both("uses seccomp profile Unconfined (expected RuntimeDefault)")],
            [`${c0}.securityContext.seccompProfile`, { type: "Unconfined" }, 'container "api" uses seccomp profile Unconfined (expected RuntimeDefault)'],
        ],
    },
    "pod-no-host-access": {
        policy: podNoHostAccess,
        breaks: [
            ["hostNetwork", true, "sets hostNetwork: true"],
            ["hostPID", true, "sets hostPID: true"],
            ["hostIPC", true, "sets hostIPC: true"],
            ["volumes", [{ name: "docker", hostPath: { path: "/var/run/docker.sock" } }], 'mounts hostPath volume "docker"'],
        ],
    },
    "image-tag-pinned": {
        policy: imageTagPinned,
        breaks: [
            [`${c0}.image`, "registry.example/app:latest", 'container "api" image registry.example/app:latest uses the "latest" tag'],
            [`${c0}.image`, "registry.example:5000/app", 'container "api" image registry.example:5000/app has no tag'],
            [`${c0}.image`, DELETE, 'container "api" has no image'],
        ],
    },
    "pod-probes": {
        policy: podProbes,
        breaks: [
            [`${c0}.livenessProbe`, DELETE, 'container "api" has no livenessProbe'],
            [`${c0}.readinessProbe`, DELETE, 'container "api" has no readinessProbe'],
        ],
    },
    "no-literal-secret-env": {
        policy: noLiteralSecretEnv,
        breaks: [
            [`${c0}.env.1`, { name: "DB_PASSWORD", value: "hunter2" }, 'container "api" sets env DB_PASSWORD to a literal secret-looking value; use a mounted Secret file (NAME_FILE) or valueFrom.secretKeyRef'],
            [`${c0}.env.1`, { name: "DATABASE_URL", value: "postgres://app:s3cret@db:5432/app" }, 'container "api" sets env DATABASE_URL to a literal secret-looking value; use a mounted Secret file (NAME_FILE) or valueFrom.secretKeyRef'],
            [`${c0}.env.1`, { name: "API_KEY", value: "abc" }, 'container "api" sets env API_KEY to a literal secret-looking value; use a mounted Secret file (NAME_FILE) or valueFrom.secretKeyRef'],
        ],
    },
};

describePodCases(cases, "secure", (rule, kind) => rule === "pod-probes" && (kind === "Job" || kind === "CronJob"));

describe("pod security: config and unknowns", () => {
    const d = workload("Deployment");
    const sc = "props.spec.template.spec.containers.0.securityContext";
    it("pod-drop-all-capabilities: allowedCapabilities both ways", async () => {
        const bad = mutate(d, `${sc}.capabilities.add`, ["NET_BIND_SERVICE"]);
        expect(await checkResource(podDropAllCapabilities, bad)).to.have.length(1);
        expect(await checkResource(podDropAllCapabilities, bad, { allowedCapabilities: ["NET_BIND_SERVICE"] })).to.deep.equal([]);
    });
    it("pod-seccomp-runtime-default: allowedProfiles both ways", async () => {
        const local = mutate(d, "props.spec.template.spec.securityContext.seccompProfile", { type: "Localhost", localhostProfile: "x.json" });
        expect(await checkResource(podSeccompRuntimeDefault, local)).to.have.length(2);
        expect(await checkResource(podSeccompRuntimeDefault, local, { allowedProfiles: ["RuntimeDefault", "Localhost"] })).to.deep.equal([]);
    });
    it("image-tag-pinned: digests pass; requireDigest and forbiddenTags configurable", async () => {
        const digest = mutate(d, "props.spec.template.spec.containers.0.image", "registry.example/app@sha256:" + "a".repeat(64));
        expect(await checkResource(imageTagPinned, digest)).to.deep.equal([]);
        expect(await checkResource(imageTagPinned, d, { requireDigest: true })).to.have.length(2);
        expect(await checkResource(imageTagPinned, d, { forbiddenTags: ["1.2.3"] })).to.have.length(2);
        expect(imageRef("localhost:5000/a/b:1.0")).to.deep.equal({ tag: "1.0", digest: undefined });
    });
    it("pod-probes: exemptKinds both ways", async () => {
        const job = mutate(workload("Job"), "props.spec.template.spec.containers.0.livenessProbe", DELETE);
        expect(await checkResource(podProbes, job, { exemptKinds: [] })).to.deep.equal(['Job shop/api: container "api" has no livenessProbe']);
        const dep = mutate(d, "props.spec.template.spec.containers.0.livenessProbe", DELETE);
        expect(await checkResource(podProbes, dep, { exemptKinds: ["Deployment"] })).to.deep.equal([]);
    });
    it("no-literal-secret-env: allowedNames and namePattern", async () => {
        const bad = mutate(d, "props.spec.template.spec.containers.0.env.1", { name: "TOKEN_TTL", value: "3600" });
        expect(await checkResource(noLiteralSecretEnv, bad)).to.have.length(1);
        expect(await checkResource(noLiteralSecretEnv, bad, { allowedNames: ["TOKEN_TTL"] })).to.deep.equal([]);
        expect(await checkResource(noLiteralSecretEnv, mutate(d, "props.spec.template.spec.containers.0.env.0", { name: "MY_PIN", value: "1234" }), { namePattern: "pin" })).to.have.length(1);
    });
    it("unknown values never crash and never hide a knowable violation", async () => {
        let w = mutate(d, `${sc}.readOnlyRootFilesystem`, UNKNOWN);
        w = mutate(w, "props.spec.template.spec.initContainers.0.securityContext.readOnlyRootFilesystem", false);
        expect(await checkResource(podReadOnlyRootFilesystem, w)).to.deep.equal(['Deployment shop/api: init container "init" does not set readOnlyRootFilesystem: true']);
        expect(await checkResource(imageTagPinned, mutate(d, "props.spec.template.spec.containers.0.image", UNKNOWN))).to.deep.equal([]);
        expect(await checkResource(podRunAsNonRoot, mutate(d, "props.spec.template.spec.containers", UNKNOWN))).to.deep.equal([]);
        expect(await checkResource(podNoHostAccess, mutate(mutate(d, "props.spec.template.spec.hostNetwork", UNKNOWN), "props.spec.template.spec.hostPID", true))).to.deep.equal([
            "Deployment shop/api: sets hostPID: true",
        ]);
        const env = mutate(d, "props.spec.template.spec.containers.0.env", [{ name: "A", value: UNKNOWN }, { name: "SECRET_KEY", value: "x" }]);
        expect(await checkResource(noLiteralSecretEnv, env)).to.have.length(1);
    });
});
