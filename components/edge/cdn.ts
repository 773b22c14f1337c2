/**
 * CdnNginx: cstore.md's "Nginx CDN" (2 replicas, 100m-300m CPU, 128-256Mi, gzip, CDN cache headers,
 * CORS, immutable caching of hashed assets) serving the static-assets claim (ReadWriteMany 10Gi).
 * nginx runs unprivileged (nginxinc/nginx-unprivileged, UID 101, port 8080) with a read-only root
 * filesystem; its nginx.conf is generated and mounted from a ConfigMap.
 */
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { rollingConfigMap } from "../k8s/config";
import { httpProbe, ResourceSpec, validateResources, livenessTcp } from "../k8s/container";
import { AppIdentity, standardLabels } from "../k8s/labels";
import { Peer } from "../k8s/traffic";
import { requireDnsLabel, requireIntInRange, requirePinnedImage, requireQuantity } from "../k8s/validation";
import { Workload } from "../k8s/workload";
import { CDN_DEFAULTS, cdnNginxConfig, renderNginx } from "./nginx-conf";
import { requireOrigins } from "./validation";
import { dataClaim } from "../k8s/claim";

export const CDN_IMAGE = "nginxinc/nginx-unprivileged:1.27.2-alpine";
export const CDN_PORT = 8080;
export const CDN_SERVICE_PORT = 80;
export const CDN_RESOURCES: ResourceSpec = { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "300m", memory: "256Mi" } };

export interface CdnNginxArgs {
    namespace: pulumi.Input<string>;
    /** Origins allowed to fetch assets cross-origin ("*" or https://host[:port]). */
    corsAllowOrigins: string[];
    /** Namespace of the ingress controller: the only source of traffic (default "ingress-nginx"). */
    ingressNamespace?: string;
    /** Narrows the ingress peer to the controller's pods. */
    ingressPodSelector?: Record<string, string>;
    replicas?: number;
    image?: string;
    resources?: ResourceSpec;
    /** Static assets claim (ReadWriteMany); size defaults to 10Gi. */
    storage?: { size?: string; storageClass?: pulumi.Input<string>; existingClaim?: string };
    cache?: { maxAgeSeconds?: number; sharedMaxAgeSeconds?: number; immutableMaxAgeSeconds?: number };
    partOf?: string;
    /** Keep the assets claim through `pulumi destroy`. */
    protect?: boolean;
}

export function validateCdnNginx(key: string, a: CdnNginxArgs): void {
    requireOrigins(`${key}.corsAllowOrigins`, a.corsAllowOrigins);
    if (a.ingressNamespace !== undefined) {
        requireDnsLabel(`${key}.ingressNamespace`, a.ingressNamespace, 63);
    }
    if (a.replicas !== undefined) {
        requireIntInRange(`${key}.replicas`, a.replicas, 1, 20);
    }
    if (a.image !== undefined) {
        requirePinnedImage(`${key}.image`, a.image);
    }
    if (a.resources !== undefined) {
        validateResources(`${key}.resources`, a.resources);
    }
    if (a.storage?.size !== undefined) {
        requireQuantity(`${key}.storage.size`, a.storage.size, "storage");
    }
    if (a.storage?.existingClaim !== undefined) {
        requireDnsLabel(`${key}.storage.existingClaim`, a.storage.existingClaim, 253);
    }
    const c = a.cache ?? {};
    for (const k of ["maxAgeSeconds", "sharedMaxAgeSeconds", "immutableMaxAgeSeconds"] as const) {
        if (c[k] !== undefined) {
            requireIntInRange(`${key}.cache.${k}`, c[k], 0, 31536000);
        }
    }
}

export class CdnNginx extends pulumi.ComponentResource {
    public readonly serviceName: pulumi.Output<string>;
    /** In-cluster DNS name of the Service (port 80). */
    public readonly host: pulumi.Output<string>;
    public readonly port: pulumi.Output<number>;
    public readonly configMapName: pulumi.Output<string>;
    public readonly claimName: pulumi.Output<string>;
    /** The generated nginx.conf. */
    public readonly nginxConf: string;
    public readonly replicas: pulumi.Output<number>;
    public readonly peer: Peer;
    public readonly workload: Workload;

    constructor(name: string, args: CdnNginxArgs, opts?: pulumi.ComponentResourceOptions) {
        const key = `CdnNginx(${name})`;
        requireDnsLabel(`${key}.name`, name, 40);
        validateCdnNginx(key, args);
        super("platform:edge:CdnNginx", name, {}, opts);
        const child = { parent: this };
        const identity: AppIdentity = { name, app: "nginx-cdn", component: "cdn", partOf: args.partOf ?? "cstore", version: "1.27.2" };
        const labels = standardLabels(identity);

        this.nginxConf = renderNginx(cdnNginxConfig({
            ...CDN_DEFAULTS,
            port: CDN_PORT,
            corsAllowOrigins: args.corsAllowOrigins,
            maxAgeSeconds: args.cache?.maxAgeSeconds ?? CDN_DEFAULTS.maxAgeSeconds,
            sharedMaxAgeSeconds: args.cache?.sharedMaxAgeSeconds ?? CDN_DEFAULTS.sharedMaxAgeSeconds,
            immutableMaxAgeSeconds: args.cache?.immutableMaxAgeSeconds ?? CDN_DEFAULTS.immutableMaxAgeSeconds,
        }));
        const cm = rollingConfigMap(`${name}-config`, { namespace: args.namespace, labels, data: { "nginx.conf": this.nginxConf } }, child);

        let claimName: pulumi.Output<string>;
        if (args.storage?.existingClaim) {
            claimName = pulumi.output(args.storage.existingClaim);
        } else {
            const pvc = dataClaim(`${name}-assets`, {
                name: `${name}-static-assets`, namespace: args.namespace, labels, accessMode: "ReadWriteMany",
                storageClass: args.storage?.storageClass, size: args.storage?.size ?? "10Gi", protect: args.protect,
            }, child);
            claimName = pvc.metadata.name;
        }

        const ingressPeer: Peer = { kind: "namespace", namespace: args.ingressNamespace ?? "ingress-nginx", podSelector: args.ingressPodSelector };
        this.workload = new Workload(name, {
            namespace: args.namespace,
            identity,
            kind: "Deployment",
            replicas: args.replicas ?? 2,
            containers: [{
                name: "nginx",
                image: args.image ?? CDN_IMAGE,
                // Skip the image's entrypoint scripts: they rewrite files under /etc/nginx.
                command: ["nginx", "-g", "daemon off;"],
                ports: [{ name: "http", containerPort: CDN_PORT }],
                resources: args.resources ?? CDN_RESOURCES,
                livenessProbe: livenessTcp(CDN_PORT, { initialDelaySeconds: 5 }),
                readinessProbe: httpProbe("/healthz", CDN_PORT, { initialDelaySeconds: 2, periodSeconds: 5 }),
                volumeMounts: [
                    { name: "nginx-conf", mountPath: "/etc/nginx/nginx.conf", subPath: "nginx.conf", readOnly: true },
                    { name: "static-assets", mountPath: CDN_DEFAULTS.root, readOnly: true },
                ],
            }],
            volumes: [
                { name: "nginx-conf", configMap: { name: cm.metadata.name } },
                { name: "static-assets", persistentVolumeClaim: { claimName, readOnly: true } },
            ],
            // A subPath mount never sees ConfigMap updates: roll the pods when nginx.conf changes.
            podAnnotations: { "platform.io/config-sha256": crypto.createHash("sha256").update(this.nginxConf).digest("hex") },
            servicePorts: [{ name: "http", port: CDN_SERVICE_PORT, targetPort: CDN_PORT }],
            traffic: { ingress: [{ peer: ingressPeer, ports: [{ port: CDN_PORT }] }], egress: [] },
        }, child);

        this.peer = this.workload.peer;
        this.serviceName = this.workload.serviceName.apply(s => s ?? "");
        this.host = this.workload.host.apply(h => h ?? "");
        this.port = pulumi.output(CDN_SERVICE_PORT);
        this.configMapName = cm.metadata.name;
        this.claimName = claimName;
        this.replicas = this.workload.replicas;
        this.registerOutputs({
            serviceName: this.serviceName, host: this.host, port: this.port, configMapName: this.configMapName,
            claimName: this.claimName, replicas: this.replicas,
        });
    }
}
