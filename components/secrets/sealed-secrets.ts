/**
 * Sealed Secrets (greenfield-cluster.md "Security Layer" / "Secrets Management"): the controller in
 * kube-system that decrypts SealedSecrets into Secrets, its CRD and RBAC, and a SealedSecret
 * component for values that must live in git (already encrypted with kubeseal).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { httpProbe, ResourceSpec, validateResources, livenessTcp } from "../k8s/container";
import { AppIdentity, standardLabels } from "../k8s/labels";
import { OWNED_ANNOTATIONS } from "../k8s/metadata";
import { PolicyRule } from "../k8s/rbac";
import { DNS_PEER, DNS_PORTS, Peer, TrafficRule } from "../k8s/traffic";
import { requireDnsLabel, requireIntInRange, requireOneOf, requirePinnedImage, ValidationError } from "../k8s/validation";
import { Workload } from "../k8s/workload";

export const SEALED_SECRETS_GROUP = "bitnami.com";
export const SEALED_SECRETS_VERSION = "v1alpha1";
export const SEALED_SECRETS_IMAGE = "docker.io/bitnami/sealed-secrets-controller:0.27.1";
export const SEALED_SECRETS_PORT = 8080;
export const SEALED_SECRETS_METRICS_PORT = 8081;
/**
 * Name of the controller's ClusterRole: the policy pack allow-lists it by this name
 * (rbac-cluster-role-allow-list, rbac-secrets-read-only, rbac-no-cluster-wide-write).
 */
export const UNSEALER_CLUSTER_ROLE = "secrets-unsealer";
/** kubeseal's default --controller-name: the Service it fetches the certificate from. */
export const CONTROLLER_NAME = "sealed-secrets-controller";

/** What the controller does with the API: read SealedSecrets, write their Secrets, report status and events. */
export const UNSEALER_RULES: PolicyRule[] = [
    { apiGroups: [SEALED_SECRETS_GROUP], resources: ["sealedsecrets"], verbs: ["get", "list", "watch"] },
    { apiGroups: [SEALED_SECRETS_GROUP], resources: ["sealedsecrets/status"], verbs: ["update"] },
    { apiGroups: [""], resources: ["secrets"], verbs: ["get", "list", "watch", "create", "update", "delete"] },
    { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
];

const RESOURCES: ResourceSpec = { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } };

/** CustomResourceDefinition of bitnami.com/v1alpha1 SealedSecret with a structural schema. */
export function sealedSecretCrdSpec(): k8s.types.input.apiextensions.v1.CustomResourceDefinitionSpec {
    const stringMap = { type: "object", additionalProperties: { type: "string" } };
    return {
        group: SEALED_SECRETS_GROUP,
        names: { kind: "SealedSecret", listKind: "SealedSecretList", plural: "sealedsecrets", singular: "sealedsecret" },
        scope: "Namespaced",
        versions: [{
            name: SEALED_SECRETS_VERSION,
            served: true,
            storage: true,
            subresources: { status: {} },
            additionalPrinterColumns: [
                { name: "Status", type: "string", jsonPath: ".status.conditions[0].message" },
                { name: "Synced", type: "string", jsonPath: ".status.conditions[0].status" },
                { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
            ],
            schema: {
                openAPIV3Schema: {
                    type: "object",
                    description: "SealedSecret is the K8s representation of a \"sealed Secret\": a Secret encrypted for the controller of one cluster.",
                    required: ["spec"],
                    properties: {
                        apiVersion: { type: "string" },
                        kind: { type: "string" },
                        metadata: { type: "object" },
                        spec: {
                            type: "object",
                            required: ["encryptedData"],
                            properties: {
                                encryptedData: stringMap,
                                // Deprecated single-blob form of older kubeseal versions.
                                data: { type: "string", format: "byte" },
                                template: {
                                    type: "object",
                                    description: "Template of the Secret the controller creates (metadata, type, immutable, plain data).",
                                    properties: {
                                        data: { ...stringMap, nullable: true },
                                        immutable: { type: "boolean" },
                                        metadata: { type: "object", nullable: true, x_kubernetes_preserve_unknown_fields: true },
                                        type: { type: "string" },
                                    },
                                },
                            },
                        },
                        status: { type: "object", x_kubernetes_preserve_unknown_fields: true },
                    },
                },
            },
        }],
    };
}

export interface SealedSecretsControllerArgs {
    /** Default kube-system (where kubeseal looks for the controller). */
    namespace?: string;
    /**
     * Addresses of the Kubernetes API server as the controller's pods see them after Service
     * translation (the control-plane endpoints), e.g. ["10.0.0.10/32"]. The controller talks to
     * the API, and kubeseal --fetch-cert reaches it through the API server's service proxy.
     */
    apiServerCidrs: string[];
    /** API server ports (default 443 and 6443). */
    apiServerPorts?: number[];
    image?: string;
    resources?: ResourceSpec;
    /** Prefix of the key Secrets (default "sealed-secrets-key"). */
    keyPrefix?: string;
    /** Who may scrape /metrics on 8081 (e.g. the Prometheus pods). */
    metricsScrapers?: Peer[];
    /** Also create the CRD (default true; set false when another release owns it). */
    createCrd?: boolean;
    partOf?: string;
}

const CIDR = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(3[0-2]|[12]?\d)$/;

export function validateSealedSecretsController(key: string, a: SealedSecretsControllerArgs): void {
    if (a.namespace !== undefined) {
        requireDnsLabel(`${key}.namespace`, a.namespace, 63);
    }
    if (!Array.isArray(a.apiServerCidrs) || a.apiServerCidrs.length === 0) {
        throw new ValidationError(`${key}.apiServerCidrs`, `${JSON.stringify(a.apiServerCidrs)} is not allowed; allowed: a non-empty list of IPv4 CIDRs of the API server, e.g. ["10.0.0.10/32"]`);
    }
    a.apiServerCidrs.forEach((c, i) => {
        if (typeof c !== "string" || !CIDR.test(c) || c.endsWith("/0")) {
            throw new ValidationError(`${key}.apiServerCidrs[${i}]`, `${JSON.stringify(c)} is not allowed; allowed: an IPv4 CIDR narrower than /0, e.g. 10.0.0.10/32`);
        }
    });
    (a.apiServerPorts ?? []).forEach((p, i) => requireIntInRange(`${key}.apiServerPorts[${i}]`, p, 1, 65535));
    if (a.image !== undefined) {
        requirePinnedImage(`${key}.image`, a.image);
    }
    if (a.resources !== undefined) {
        validateResources(`${key}.resources`, a.resources);
    }
    if (a.keyPrefix !== undefined) {
        requireDnsLabel(`${key}.keyPrefix`, a.keyPrefix, 40);
    }
}

/** The Sealed Secrets controller: CRD, ServiceAccount, ClusterRole(Binding), Deployment, Service, NetworkPolicy. */
export class SealedSecretsController extends pulumi.ComponentResource {
    public readonly namespace: pulumi.Output<string>;
    /** kubeseal --controller-name / --controller-namespace values. */
    public readonly controllerName: pulumi.Output<string>;
    public readonly serviceName: pulumi.Output<string>;
    public readonly clusterRoleName: pulumi.Output<string>;
    public readonly crdName: pulumi.Output<string | undefined>;
    public readonly serviceAccountName: pulumi.Output<string>;
    public readonly workload: Workload;
    /** The CRD (when created): SealedSecret resources should depend on it. */
    public readonly crd?: k8s.apiextensions.v1.CustomResourceDefinition;

    constructor(name: string, args: SealedSecretsControllerArgs, opts?: pulumi.ComponentResourceOptions) {
        const key = `SealedSecretsController(${name})`;
        requireDnsLabel(`${key}.name`, name, 40);
        validateSealedSecretsController(key, args);
        super("platform:secrets:SealedSecretsController", name, {}, opts);
        const child = { parent: this };
        const namespace = args.namespace ?? "kube-system";
        const identity: AppIdentity = { name: CONTROLLER_NAME, app: "sealed-secrets", component: "controller", partOf: args.partOf ?? "greenfield", version: "0.27.1" };
        const labels = standardLabels(identity);

        if (args.createCrd ?? true) {
            this.crd = new k8s.apiextensions.v1.CustomResourceDefinition(`${name}-crd`, {
                metadata: { name: `sealedsecrets.${SEALED_SECRETS_GROUP}`, labels, annotations: OWNED_ANNOTATIONS },
                spec: sealedSecretCrdSpec(),
            }, child);
        }

        const apiPorts = (args.apiServerPorts ?? [443, 6443]).map(port => ({ port }));
        const apiServer: TrafficRule[] = args.apiServerCidrs.map(cidr => ({ peer: { kind: "cidr", cidr }, ports: apiPorts }));
        const ingress: TrafficRule[] = [
            // kubeseal --fetch-cert and --validate go through the API server's service proxy.
            ...args.apiServerCidrs.map(cidr => ({ peer: { kind: "cidr" as const, cidr }, ports: [{ port: SEALED_SECRETS_PORT }] })),
            ...(args.metricsScrapers ?? []).map(peer => ({ peer, ports: [{ port: SEALED_SECRETS_METRICS_PORT }] })),
        ];
        this.workload = new Workload(`${name}-controller`, {
            namespace,
            identity,
            kind: "Deployment",
            replicas: 1,
            // The controller watches SealedSecrets and writes Secrets: it needs its API token.
            automountServiceAccountToken: true,
            containers: [{
                name: "controller",
                image: args.image ?? SEALED_SECRETS_IMAGE,
                command: ["controller"],
                args: [
                    "--update-status",
                    `--key-prefix=${args.keyPrefix ?? "sealed-secrets-key"}`,
                    `--listen-addr=:${SEALED_SECRETS_PORT}`,
                    `--listen-metrics-addr=:${SEALED_SECRETS_METRICS_PORT}`,
                ],
                ports: [{ name: "http", containerPort: SEALED_SECRETS_PORT }, { name: "metrics", containerPort: SEALED_SECRETS_METRICS_PORT }],
                resources: args.resources ?? RESOURCES,
                livenessProbe: livenessTcp("http"),
                readinessProbe: httpProbe("/healthz", "http", { initialDelaySeconds: 5 }),
            }],
            servicePorts: [{ name: "http", port: SEALED_SECRETS_PORT }],
            traffic: { ingress, egress: [...apiServer, { peer: DNS_PEER, ports: DNS_PORTS }] },
        }, child);

        const clusterRole = new k8s.rbac.v1.ClusterRole(`${name}-cluster-role`, {
            metadata: { name: UNSEALER_CLUSTER_ROLE, labels, annotations: OWNED_ANNOTATIONS },
            rules: UNSEALER_RULES,
        }, child);
        new k8s.rbac.v1.ClusterRoleBinding(`${name}-cluster-role-binding`, {
            metadata: { name: CONTROLLER_NAME, labels, annotations: OWNED_ANNOTATIONS },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole.metadata.name },
            subjects: [{ kind: "ServiceAccount", name: this.workload.serviceAccountName, namespace }],
        }, child);

        this.namespace = pulumi.output(namespace);
        this.controllerName = pulumi.output(CONTROLLER_NAME);
        this.serviceName = this.workload.serviceName.apply(s => s ?? "");
        this.serviceAccountName = this.workload.serviceAccountName;
        this.clusterRoleName = clusterRole.metadata.name;
        this.crdName = this.crd ? this.crd.metadata.name : pulumi.output(undefined);
        this.registerOutputs({
            namespace: this.namespace, controllerName: this.controllerName, serviceName: this.serviceName,
            clusterRoleName: this.clusterRoleName, crdName: this.crdName, serviceAccountName: this.serviceAccountName,
        });
    }
}

// ---------------------------------------------------------------------------------------------
// SealedSecret

export const SEALING_SCOPES = ["strict", "namespace-wide", "cluster-wide"] as const;
export type SealingScope = typeof SEALING_SCOPES[number];

/** RSA modulus sizes (bytes) of the controller's sealing keys: 2048, 3072 and 4096 bits. */
const RSA_SIZES = [256, 384, 512];
const AES_GCM_TAG = 16;

/**
 * Checks that a value is a kubeseal ciphertext, never plaintext: strict base64 of
 * [2-byte big-endian length L][L bytes of RSA-OAEP-encrypted session key][AES-GCM ciphertext + 16-byte tag],
 * with L an RSA modulus size.
 */
export function requireSealedValue(key: string, value: unknown): string {
    const reason = (() => {
        if (typeof value !== "string" || value.length === 0) {
            return "not a string";
        }
        if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(value)) {
            return "not base64";
        }
        const bytes = Buffer.from(value, "base64");
        if (bytes.length < 2 + RSA_SIZES[0] + AES_GCM_TAG) {
            return `${bytes.length} bytes is too short for a sealed value`;
        }
        const rsaLength = bytes.readUInt16BE(0);
        if (!RSA_SIZES.includes(rsaLength) || 2 + rsaLength + AES_GCM_TAG > bytes.length) {
            return "no RSA-encrypted session key header";
        }
        return undefined;
    })();
    if (reason !== undefined) {
        // Never echo the value: it may be a plaintext secret pasted by mistake.
        throw new ValidationError(key, `is not a sealed value (${reason}); allowed: base64 ciphertext produced by kubeseal (never plaintext)`);
    }
    return value as string;
}

export interface SealedSecretArgs {
    namespace: string;
    /** Name of the Secret the controller creates (default: the component name). Sealing binds to it in strict scope. */
    secretName?: string;
    /** key -> kubeseal ciphertext (base64). */
    encryptedData: Record<string, string>;
    /** Secret type (default Opaque). */
    type?: string;
    scope?: SealingScope;
    labels?: Record<string, string>;
    /** Resources to wait for, typically the controller's CRD. */
    dependsOn?: pulumi.Input<pulumi.Resource>[];
}

export function validateSealedSecret(key: string, a: SealedSecretArgs): void {
    requireDnsLabel(`${key}.namespace`, a.namespace, 63);
    if (a.secretName !== undefined) {
        requireDnsLabel(`${key}.secretName`, a.secretName, 253);
    }
    if (typeof a.encryptedData !== "object" || a.encryptedData === null || Object.keys(a.encryptedData).length === 0) {
        throw new ValidationError(`${key}.encryptedData`, "no data; allowed: a map of key -> kubeseal ciphertext");
    }
    for (const [k, v] of Object.entries(a.encryptedData)) {
        if (!/^[-._a-zA-Z0-9]+$/.test(k) || k.length > 253) {
            throw new ValidationError(`${key}.encryptedData`, `key ${JSON.stringify(k)} is not allowed; allowed: a Secret data key (letters, digits, '-', '_', '.')`);
        }
        requireSealedValue(`${key}.encryptedData.${k}`, v);
    }
    if (a.scope !== undefined) {
        requireOneOf(`${key}.scope`, a.scope, SEALING_SCOPES);
    }
    if (a.type !== undefined && (typeof a.type !== "string" || a.type.trim() === "")) {
        throw new ValidationError(`${key}.type`, `${JSON.stringify(a.type)} is not allowed; allowed: a Secret type such as Opaque`);
    }
}

/** A bitnami.com/v1alpha1 SealedSecret from already-encrypted data: safe to keep in git and in state. */
export class SealedSecret extends pulumi.ComponentResource {
    /** Name of the Secret the controller creates. */
    public readonly secretName: pulumi.Output<string>;
    public readonly namespace: pulumi.Output<string>;

    constructor(name: string, args: SealedSecretArgs, opts?: pulumi.ComponentResourceOptions) {
        const key = `SealedSecret(${name})`;
        requireDnsLabel(`${key}.name`, name, 253);
        validateSealedSecret(key, args);
        super("platform:secrets:SealedSecret", name, {}, opts);
        const secretName = args.secretName ?? name;
        const scope = args.scope ?? "strict";
        const annotations: Record<string, string> = {};
        if (scope === "namespace-wide") {
            annotations["sealedsecrets.bitnami.com/namespace-wide"] = "true";
        } else if (scope === "cluster-wide") {
            annotations["sealedsecrets.bitnami.com/cluster-wide"] = "true";
        }
        const labels = { "app.kubernetes.io/managed-by": "pulumi", ...(args.labels ?? {}) };
        new k8s.apiextensions.CustomResource(`${name}-sealed-secret`, {
            apiVersion: `${SEALED_SECRETS_GROUP}/${SEALED_SECRETS_VERSION}`,
            kind: "SealedSecret",
            metadata: { name: secretName, namespace: args.namespace, labels, annotations },
            spec: {
                encryptedData: args.encryptedData,
                template: {
                    metadata: { name: secretName, namespace: args.namespace, labels, annotations },
                    type: args.type ?? "Opaque",
                },
            },
        }, { parent: this, dependsOn: args.dependsOn });
        this.secretName = pulumi.output(secretName);
        this.namespace = pulumi.output(args.namespace);
        this.registerOutputs({ secretName: this.secretName, namespace: this.namespace });
    }
}
