/**
 * Redis exporter (cstore.md "Redis Exporter": 1 replica, 50m-100m CPU, 64-128Mi, exposes :9121).
 * It reads the Redis password from the Redis Secret through a secretKeyRef (its password file is a
 * JSON map of Redis URI to password, not the Secret's plain value: docs/hardening.md), talks to Redis only,
 * and lets in only its scrapers; its pods carry the prometheus.io annotations that Prometheus'
 * pod discovery keeps.
 */
import * as pulumi from "@pulumi/pulumi";
import { httpProbe, ResourceSpec, secretEnv, livenessTcp } from "../k8s/container";
import { Peer } from "../k8s/traffic";
import { imageTag } from "../k8s/validation";
import { Workload } from "../k8s/workload";
import { identity, rules } from "./common";
import { scrapeAnnotations } from "../k8s/metadata";

export const REDIS_EXPORTER_IMAGE = "oliver006/redis_exporter:v1.62.0";
export const REDIS_EXPORTER_PORT = 9121;

export interface RedisTarget {
    /** The Redis pods (egress). */
    peer: Peer;
    /** Service host of Redis (Database.host). */
    host: pulumi.Input<string>;
    port?: number;
    /** The Secret holding the password (Database.secretName) and its key (default "password"). */
    secretName: pulumi.Input<string>;
    passwordKey?: string;
}

export interface RedisExporterArgs {
    namespace: pulumi.Input<string>;
    partOf?: string;
    image?: string;
    resources?: ResourceSpec;
    redis: RedisTarget;
    /** Who scrapes :9121 (Prometheus). */
    scrapers?: Peer[];
}

/** Requests and limits when the args give none. */
export const REDIS_EXPORTER_RESOURCES: ResourceSpec = { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "100m", memory: "128Mi" } };

export class RedisExporter extends pulumi.ComponentResource {
    public readonly host: pulumi.Output<string>;
    /** http://<host>:9121/metrics */
    public readonly metricsUrl: pulumi.Output<string>;
    public readonly port: number;
    public readonly peer: Peer;
    public readonly workload: Workload;

    constructor(name: string, args: RedisExporterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:observability:RedisExporter", name, {}, opts);
        const image = args.image ?? REDIS_EXPORTER_IMAGE;
        const redisPort = args.redis.port ?? 6379;

        this.workload = new Workload(name, {
            namespace: args.namespace,
            identity: identity(name, "redis-exporter", args.partOf, imageTag(image)),
            kind: "Deployment",
            replicas: 1,
            containers: [{
                name: "redis-exporter",
                image,
                env: [
                    { name: "REDIS_ADDR", value: pulumi.interpolate`redis://${args.redis.host}:${redisPort}` },
                    secretEnv("REDIS_PASSWORD", args.redis.secretName, args.redis.passwordKey ?? "password"),
                    { name: "REDIS_EXPORTER_WEB_LISTEN_ADDRESS", value: `:${REDIS_EXPORTER_PORT}` },
                ],
                ports: [{ name: "metrics", containerPort: REDIS_EXPORTER_PORT }],
                resources: args.resources ?? REDIS_EXPORTER_RESOURCES,
                livenessProbe: livenessTcp(REDIS_EXPORTER_PORT),
                readinessProbe: httpProbe("/health", REDIS_EXPORTER_PORT, { initialDelaySeconds: 5 }),
            }],
            podAnnotations: scrapeAnnotations(REDIS_EXPORTER_PORT),
            servicePorts: [{ name: "metrics", port: REDIS_EXPORTER_PORT }],
            traffic: {
                ingress: rules(args.scrapers, [{ port: REDIS_EXPORTER_PORT }]),
                egress: [{ peer: args.redis.peer, ports: [{ port: redisPort }] }],
            },
        }, { parent: this });

        this.peer = this.workload.peer;
        this.port = REDIS_EXPORTER_PORT;
        this.host = this.workload.host.apply(h => h ?? "");
        this.metricsUrl = pulumi.interpolate`http://${this.host}:${REDIS_EXPORTER_PORT}/metrics`;
        this.registerOutputs({ host: this.host, metricsUrl: this.metricsUrl });
    }
}
