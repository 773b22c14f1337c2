/**
 * NamespaceBaseline: the namespace every system lives in, with its guard rails: default-deny
 * NetworkPolicy in both directions, explicit DNS egress, a ResourceQuota and a LimitRange, and the
 * "restricted" Pod Security Standard enforced by the API server itself.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { DNS_PEER, DNS_PORTS, networkPolicySpec } from "./traffic";
import { OWNED_ANNOTATIONS } from "./metadata";
import { Checked, isChecked, rejectUnknownKeys, requireDnsLabel, requireIntInRange, requireObject, requireQuantity, ValidationError } from "./validation";
import { parseQuantity } from "./quantity";

export interface QuotaSpec {
    requestsCpu: string;
    requestsMemory: string;
    limitsCpu: string;
    limitsMemory: string;
    requestsStorage: string;
    pods: number;
    persistentVolumeClaims: number;
}

export interface LimitRangeSpec {
    defaultRequest: { cpu: string; memory: string };
    default: { cpu: string; memory: string };
    max: { cpu: string; memory: string };
}

export interface NamespaceBaselineArgs {
    /** The namespace name (kept as given: network policies select on it). */
    name: string;
    quota: QuotaSpec;
    limits: LimitRangeSpec;
    labels?: Record<string, string>;
    /**
     * The namespace holds data (claims): `pulumi destroy` leaves it, and with it the claims, in the
     * cluster. Deleting a namespace deletes every claim in it, whatever the claims' own options say.
     */
    holdsProtectedData?: boolean;
}

const QUOTA_KEYS = ["requestsCpu", "requestsMemory", "limitsCpu", "limitsMemory", "requestsStorage", "pods", "persistentVolumeClaims"] as const;

/** Reads a ResourceQuota (config or args): every key, each a quantity of its kind or a count. Returns it typed. */
export function validateQuota(key: string, raw: unknown): QuotaSpec {
    const q = requireObject(key, raw);
    rejectUnknownKeys(key, q, QUOTA_KEYS);
    return {
        requestsCpu: requireQuantity(`${key}.requestsCpu`, q.requestsCpu, "cpu"),
        limitsCpu: requireQuantity(`${key}.limitsCpu`, q.limitsCpu, "cpu"),
        requestsMemory: requireQuantity(`${key}.requestsMemory`, q.requestsMemory, "memory"),
        limitsMemory: requireQuantity(`${key}.limitsMemory`, q.limitsMemory, "memory"),
        requestsStorage: requireQuantity(`${key}.requestsStorage`, q.requestsStorage, "storage"),
        pods: requireIntInRange(`${key}.pods`, q.pods, 1, 10000),
        persistentVolumeClaims: requireIntInRange(`${key}.persistentVolumeClaims`, q.persistentVolumeClaims, 0, 10000),
    };
}

const LIMIT_RANGE_KEYS = ["defaultRequest", "default", "max"] as const;

/** A LimitRange: cpu and memory under each of defaultRequest <= default <= max. */
export function validateLimitRange(key: string, raw: unknown): LimitRangeSpec {
    const o = requireObject(key, raw);
    rejectUnknownKeys(key, o, LIMIT_RANGE_KEYS);
    const level = (name: typeof LIMIT_RANGE_KEYS[number]) => {
        const v = requireObject(`${key}.${name}`, o[name]);
        rejectUnknownKeys(`${key}.${name}`, v, ["cpu", "memory"]);
        return { cpu: requireQuantity(`${key}.${name}.cpu`, v.cpu, "cpu"), memory: requireQuantity(`${key}.${name}.memory`, v.memory, "memory") };
    };
    const l: LimitRangeSpec = { defaultRequest: level("defaultRequest"), default: level("default"), max: level("max") };
    for (const [lower, upper] of [["defaultRequest", "default"], ["default", "max"]] as const) {
        for (const kind of ["cpu", "memory"] as const) {
            if (parseQuantity(l[upper][kind])! < parseQuantity(l[lower][kind])!) {
                throw new ValidationError(`${key}.${upper}.${kind}`,
                    `${l[upper][kind]} is below ${lower}.${kind} ${l[lower][kind]}; allowed: defaultRequest <= default <= max`);
            }
        }
    }
    return l;
}

export class NamespaceBaseline extends pulumi.ComponentResource {
    /** The namespace name as an Output, so dependents wait for the namespace to exist. */
    public readonly name: pulumi.Output<string>;

    constructor(name: string, args: NamespaceBaselineArgs | Checked<NamespaceBaselineArgs>, opts?: pulumi.ComponentResourceOptions) {
        // Checked once: where the config entered (a system's namespace, quota and limits), or here for a baseline built directly.
        if (!isChecked(args)) {
            const key = `NamespaceBaseline(${name})`;
            requireDnsLabel(`${key}.name`, args.name, 63);
            validateQuota(`${key}.quota`, args.quota);
            validateLimitRange(`${key}.limits`, args.limits);
        }
        super("platform:k8s:NamespaceBaseline", name, {}, opts);

        const labels = { "app.kubernetes.io/managed-by": "pulumi", ...(args.labels ?? {}) };
        const ns = new k8s.core.v1.Namespace(`${name}-namespace`, {
            metadata: {
                annotations: OWNED_ANNOTATIONS,
                name: args.name,
                labels: {
                    ...labels,
                    "pod-security.kubernetes.io/enforce": "restricted",
                    "pod-security.kubernetes.io/enforce-version": "latest",
                    "pod-security.kubernetes.io/warn": "restricted",
                },
            },
        }, { parent: this, retainOnDelete: args.holdsProtectedData });
        this.name = ns.metadata.name;
        const metadata = (n: string) => ({ name: n, namespace: this.name, labels, annotations: OWNED_ANNOTATIONS });
        const child = { parent: this };

        new k8s.networking.v1.NetworkPolicy(`${name}-default-deny`, {
            metadata: metadata("default-deny"),
            spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
        }, child);

        new k8s.networking.v1.NetworkPolicy(`${name}-allow-dns`, {
            metadata: metadata("allow-dns"),
            spec: { ...networkPolicySpec({}, { ingress: [], egress: [{ peer: DNS_PEER, ports: DNS_PORTS }] }), podSelector: {}, policyTypes: ["Egress"] },
        }, child);

        const q = args.quota;
        new k8s.core.v1.ResourceQuota(`${name}-quota`, {
            metadata: metadata("compute-and-storage"),
            spec: {
                hard: {
                    "requests.cpu": q.requestsCpu,
                    "requests.memory": q.requestsMemory,
                    "limits.cpu": q.limitsCpu,
                    "limits.memory": q.limitsMemory,
                    "requests.storage": q.requestsStorage,
                    pods: String(q.pods),
                    persistentvolumeclaims: String(q.persistentVolumeClaims),
                },
            },
        }, child);

        new k8s.core.v1.LimitRange(`${name}-limits`, {
            metadata: metadata("container-defaults"),
            spec: {
                limits: [{
                    type: "Container",
                    defaultRequest: args.limits.defaultRequest,
                    default: args.limits.default,
                    max: args.limits.max,
                }],
            },
        }, child);

        this.registerOutputs({ name: this.name });
    }
}
