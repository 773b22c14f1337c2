/** Test helpers: read Outputs, wait for registrations, find recorded resources. */
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { parsePlatformConfig, PlatformConfig, PlatformSecrets } from "../../config";
import { recorded, RecordedResource } from "./mocks";
import { TEST_ALERTING_SECRETS } from "./alerting-secrets";

export { TEST_ALERTING_SECRETS };

export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise(resolve => output.apply(v => { resolve(v); return v; }));
}

export async function isSecret<T>(output: pulumi.Output<T>): Promise<boolean> {
    return pulumi.isSecret(output);
}

/** Waits until no new resource has been registered for a few turns of the event loop. */
export async function settle(): Promise<void> {
    let last = -1;
    let stable = 0;
    while (stable < 5) {
        await new Promise(r => setTimeout(r, 2));
        if (recorded.length === last) {
            stable++;
        } else {
            stable = 0;
            last = recorded.length;
        }
    }
}

/** Runs `build` and returns exactly the resources it registered. */
export async function capture(build: () => void): Promise<RecordedResource[]> {
    await settle();
    const start = recorded.length;
    build();
    await settle();
    return recorded.slice(start);
}

export const T = {
    deployment: "kubernetes:apps/v1:Deployment",
    statefulSet: "kubernetes:apps/v1:StatefulSet",
    service: "kubernetes:core/v1:Service",
    serviceAccount: "kubernetes:core/v1:ServiceAccount",
    secret: "kubernetes:core/v1:Secret",
    configMap: "kubernetes:core/v1:ConfigMap",
    pvc: "kubernetes:core/v1:PersistentVolumeClaim",
    namespace: "kubernetes:core/v1:Namespace",
    quota: "kubernetes:core/v1:ResourceQuota",
    limitRange: "kubernetes:core/v1:LimitRange",
    pdb: "kubernetes:policy/v1:PodDisruptionBudget",
    hpa: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    netpol: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    role: "kubernetes:rbac.authorization.k8s.io/v1:Role",
    roleBinding: "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    password: "random:index/randomPassword:RandomPassword",
    cronJob: "kubernetes:batch/v1:CronJob",
    job: "kubernetes:batch/v1:Job",
    ingress: "kubernetes:networking.k8s.io/v1:Ingress",
    priorityClass: "kubernetes:scheduling.k8s.io/v1:PriorityClass",
    peerAuthentication: "kubernetes:security.istio.io/v1:PeerAuthentication",
    gateway: "kubernetes:networking.istio.io/v1:Gateway",
    virtualService: "kubernetes:networking.istio.io/v1:VirtualService",
    envoyFilter: "kubernetes:networking.istio.io/v1alpha3:EnvoyFilter",
    clusterRole: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
    clusterRoleBinding: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
    crd: "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition",
    sealedSecret: "kubernetes:bitnami.com/v1alpha1:SealedSecret",
    certificate: "kubernetes:cert-manager.io/v1:Certificate",
    issuer: "kubernetes:cert-manager.io/v1:Issuer",
} as const;

export function ofType(list: RecordedResource[], type: string): RecordedResource[] {
    return list.filter(r => r.type === type);
}

/** The one resource of a type with this Kubernetes name (metadata.name) or, for generated names, this logical name. */
export function byName(list: RecordedResource[], type: string, name: string): RecordedResource {
    const found = list.filter(r => r.type === type && (r.inputs.metadata?.name === name || r.name === name));
    if (found.length !== 1) {
        const names = ofType(list, type).map(r => r.inputs.metadata?.name ?? r.name).join(", ");
        throw new Error(`expected one ${type} named ${name}, found ${found.length} (have: ${names})`);
    }
    return found[0];
}

/** Reads Pulumi.<stack>.yaml and returns its k8s-platform:* values keyed without the prefix. */
export function stackConfig(stack: string): Record<string, unknown> {
    const file = path.join(__dirname, "..", "..", `Pulumi.${stack}.yaml`);
    const doc = yaml.load(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> };
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(doc.config)) {
        if (k.startsWith("k8s-platform:")) {
            out[k.substring("k8s-platform:".length)] = v;
        }
    }
    return out;
}


/** The secrets a stack's program gets in tests (each value a secret Output, as the config loader makes them). */
export function stackSecrets(stack: string): PlatformSecrets {
    const s = TEST_ALERTING_SECRETS[stack];
    return s ? { alertingSecrets: Object.fromEntries(Object.entries(s).map(([k, v]) => [k, pulumi.secret(v)])) } : {};
}

/** A stack file's config, parsed with the stack's test secrets. */
export function platformConfig(stack: string): PlatformConfig {
    return parsePlatformConfig(stackConfig(stack), stackSecrets(stack));
}

/** Pod template spec of a Deployment or StatefulSet. */
export function podSpec(r: RecordedResource): any {
    return r.inputs.spec.template.spec;
}

export function deepClone<T>(v: T): T {
    return JSON.parse(JSON.stringify(v));
}

/** A cpu/memory resource spec as a container of `profile` gets it: plus the profile's ephemeral storage. */
export function withEphemeral(r: { requests: Record<string, string>; limits: Record<string, string> },
    profile: { ephemeralStorage: { request: string; limit: string } }) {
    return {
        requests: { ...r.requests, "ephemeral-storage": profile.ephemeralStorage.request },
        limits: { ...r.limits, "ephemeral-storage": profile.ephemeralStorage.limit },
    };
}

/** The HPA that scales the Deployment/StatefulSet `name` (namespace-blind: names are unique in the tests). */
export function hpaOf(list: RecordedResource[], name: string): RecordedResource | undefined {
    return list.find(r => r.type === T.hpa && r.inputs.spec.scaleTargetRef.name === name);
}
