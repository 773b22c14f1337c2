/**
 * The edge of cstore.md's "Ingress Layer": one networking.k8s.io/v1 Ingress per host for the
 * ingress-nginx controller, TLS certificates issued by cert-manager, per-client rate limiting,
 * CORS on the CDN host and HTTP basic auth in front of Grafana.
 */
import * as crypto from "crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { Checked, checked, isChecked, requireBoolean, requireDnsLabel, requireIntInRange, requireNonEmptyString, requireOneOf, ValidationError } from "../k8s/validation";
import { RateLimit, requireHostname, requireOrigins, requirePathPrefix, validateRateLimit } from "./validation";
import { OWNED_ANNOTATIONS } from "../k8s/metadata";

/** ingress-nginx annotation prefix. */
export const NGINX = "nginx.ingress.kubernetes.io";
export const CLUSTER_ISSUER_ANNOTATION = "cert-manager.io/cluster-issuer";
/** Tells the Pulumi Kubernetes provider not to wait for a load balancer address on the Ingress. */
export const SKIP_AWAIT_ANNOTATION = "pulumi.com/skipAwait";

export interface IngressBackend {
    /** URL path prefix routed to the Service ("/" for the whole host). */
    path: string;
    serviceName: pulumi.Input<string>;
    /** Service port number or name. */
    servicePort: number | string;
}

export interface CorsSpec {
    /** "*" or a list of origins (https://host[:port]). */
    allowOrigins: string[];
    allowMethods?: string[];
    allowHeaders?: string[];
    maxAgeSeconds?: number;
    allowCredentials?: boolean;
}

export interface BasicAuthRef {
    /** Secret (same namespace as the Ingress) with key "auth" holding htpasswd lines. */
    secretName: pulumi.Input<string>;
    realm?: string;
}

export interface SecureIngressArgs {
    namespace: pulumi.Input<string>;
    host: string;
    backends: IngressBackend[];
    /** cert-manager ClusterIssuer that issues the host's certificate. */
    clusterIssuer: string;
    /** Secret cert-manager writes the certificate to; defaults to "<host with dots as dashes>-tls". */
    tlsSecretName?: string;
    ingressClassName?: string;
    rateLimit?: RateLimit;
    cors?: CorsSpec;
    basicAuth?: BasicAuthRef;
    /** Set only where no load balancer ever reports an address (kind, bare metal without MetalLB). */
    skipAwait?: boolean;
    /** System label (app.kubernetes.io/part-of). */
    partOf?: string;
    /**
     * Protocol nginx speaks to the backends: HTTP (default) or GRPC (HTTP/2 to the Service; clients
     * reach nginx over TLS, which every SecureIngress has: nginx serves gRPC only over HTTPS).
     */
    backendProtocol?: BackendProtocol;
}

export const BACKEND_PROTOCOLS = ["HTTP", "GRPC"] as const;
export type BackendProtocol = typeof BACKEND_PROTOCOLS[number];

export const DEFAULT_CORS_METHODS = ["GET", "HEAD", "OPTIONS"];
export const DEFAULT_CORS_HEADERS = ["Accept", "Accept-Encoding", "Content-Type", "Origin", "Range"];

/** "api.cstore.example.com" -> "api-cstore-example-com-tls" (a valid Secret name). */
export function tlsSecretNameFor(host: string): string {
    return `${host.replace(/\./g, "-")}-tls`.substring(0, 253);
}

/**
 * One htpasswd line in the {SHA} format nginx's auth_basic accepts: user:{SHA}base64(sha1(password)).
 * Unsalted, so only fit for long random passwords like the generated one.
 */
export function htpasswdSha1(user: string, password: string): string {
    return `${user}:{SHA}${crypto.createHash("sha1").update(password, "utf8").digest("base64")}`;
}

export function validateSecureIngress(key: string, a: SecureIngressArgs): void {
    requireHostname(`${key}.host`, a.host);
    requireNonEmptyString(`${key}.clusterIssuer`, a.clusterIssuer);
    if (a.tlsSecretName !== undefined) {
        requireDnsLabel(`${key}.tlsSecretName`, a.tlsSecretName, 253);
    }
    if (a.ingressClassName !== undefined) {
        requireDnsLabel(`${key}.ingressClassName`, a.ingressClassName, 63);
    }
    if (!Array.isArray(a.backends) || a.backends.length === 0) {
        throw new ValidationError(`${key}.backends`, "no backend; allowed: at least one { path, serviceName, servicePort }");
    }
    const paths = new Set<string>();
    a.backends.forEach((b, i) => {
        const p = requirePathPrefix(`${key}.backends[${i}].path`, b.path);
        if (paths.has(p)) {
            throw new ValidationError(`${key}.backends[${i}].path`, `${p} is routed twice; allowed: one backend per path`);
        }
        paths.add(p);
        if (typeof b.servicePort === "number") {
            requireIntInRange(`${key}.backends[${i}].servicePort`, b.servicePort, 1, 65535);
        } else {
            requireDnsLabel(`${key}.backends[${i}].servicePort`, b.servicePort, 15);
        }
    });
    if (a.rateLimit !== undefined) {
        validateRateLimit(`${key}.rateLimit`, a.rateLimit);
    }
    if (a.cors !== undefined) {
        requireOrigins(`${key}.cors.allowOrigins`, a.cors.allowOrigins);
        a.cors.allowMethods?.forEach((m, i) => {
            if (!/^[A-Z]+$/.test(m)) {
                throw new ValidationError(`${key}.cors.allowMethods[${i}]`, `${JSON.stringify(m)} is not allowed; allowed: an upper-case HTTP method`);
            }
        });
        a.cors.allowHeaders?.forEach((h, i) => {
            if (!/^[A-Za-z0-9-]+$/.test(h)) {
                throw new ValidationError(`${key}.cors.allowHeaders[${i}]`, `${JSON.stringify(h)} is not allowed; allowed: an HTTP header name`);
            }
        });
        if (a.cors.maxAgeSeconds !== undefined) {
            requireIntInRange(`${key}.cors.maxAgeSeconds`, a.cors.maxAgeSeconds, 0, 86400);
        }
        if (a.cors.allowCredentials && a.cors.allowOrigins.includes("*")) {
            throw new ValidationError(`${key}.cors.allowCredentials`, `true with origin "*" is not allowed; allowed: named origins when credentials are allowed`);
        }
    }
    if (a.skipAwait !== undefined) {
        requireBoolean(`${key}.skipAwait`, a.skipAwait);
    }
    if (a.backendProtocol !== undefined) {
        requireOneOf(`${key}.backendProtocol`, a.backendProtocol, BACKEND_PROTOCOLS);
    }
}

/** The ingress-nginx / cert-manager annotations of one host. */
export function ingressAnnotations(a: SecureIngressArgs): pulumi.Input<Record<string, pulumi.Input<string>>> {
    const ann: Record<string, pulumi.Input<string>> = {
        ...OWNED_ANNOTATIONS,
        [CLUSTER_ISSUER_ANNOTATION]: a.clusterIssuer,
        [`${NGINX}/ssl-redirect`]: "true",
        [`${NGINX}/force-ssl-redirect`]: "true",
    };
    if (a.rateLimit) {
        ann[`${NGINX}/limit-rps`] = String(a.rateLimit.rps);
        ann[`${NGINX}/limit-burst-multiplier`] = String(a.rateLimit.burstMultiplier ?? 5);
        if (a.rateLimit.connections !== undefined) {
            ann[`${NGINX}/limit-connections`] = String(a.rateLimit.connections);
        }
    }
    if (a.cors) {
        ann[`${NGINX}/enable-cors`] = "true";
        ann[`${NGINX}/cors-allow-origin`] = a.cors.allowOrigins.join(", ");
        ann[`${NGINX}/cors-allow-methods`] = (a.cors.allowMethods ?? DEFAULT_CORS_METHODS).join(", ");
        ann[`${NGINX}/cors-allow-headers`] = (a.cors.allowHeaders ?? DEFAULT_CORS_HEADERS).join(", ");
        ann[`${NGINX}/cors-max-age`] = String(a.cors.maxAgeSeconds ?? 86400);
        ann[`${NGINX}/cors-allow-credentials`] = String(a.cors.allowCredentials ?? false);
    }
    if (a.basicAuth) {
        ann[`${NGINX}/auth-type`] = "basic";
        ann[`${NGINX}/auth-secret`] = a.basicAuth.secretName;
        ann[`${NGINX}/auth-secret-type`] = "auth-file";
        ann[`${NGINX}/auth-realm`] = a.basicAuth.realm ?? "Authentication Required";
    }
    if (a.backendProtocol === "GRPC") {
        ann[`${NGINX}/backend-protocol`] = "GRPC";
    }
    if (a.skipAwait) {
        ann[SKIP_AWAIT_ANNOTATION] = "true";
    }
    return ann;
}

/** One host: an nginx-class Ingress with TLS from cert-manager. */
export class SecureIngress extends pulumi.ComponentResource {
    public readonly host: pulumi.Output<string>;
    public readonly url: pulumi.Output<string>;
    public readonly tlsSecretName: pulumi.Output<string>;
    public readonly ingressName: pulumi.Output<string>;
    public readonly ingress: k8s.networking.v1.Ingress;

    constructor(name: string, args: SecureIngressArgs | Checked<SecureIngressArgs>, opts?: pulumi.ComponentResourceOptions) {
        // Checked once: where the config entered (a system's spec, IngressRoutes), or here for an Ingress built directly.
        if (!isChecked(args)) {
            const key = `SecureIngress(${name})`;
            requireDnsLabel(`${key}.name`, name, 63);
            validateSecureIngress(key, args);
        }
        super("platform:edge:SecureIngress", name, {}, opts);

        const tlsSecretName = args.tlsSecretName ?? tlsSecretNameFor(args.host);
        const labels = {
            "app.kubernetes.io/name": "ingress",
            "app.kubernetes.io/instance": name,
            "app.kubernetes.io/component": "edge",
            "app.kubernetes.io/part-of": args.partOf ?? "cstore",
            "app.kubernetes.io/managed-by": "pulumi",
        };
        this.ingress = new k8s.networking.v1.Ingress(`${name}-ingress`, {
            metadata: { name, namespace: args.namespace, labels, annotations: ingressAnnotations(args) },
            spec: {
                ingressClassName: args.ingressClassName ?? "nginx",
                tls: [{ hosts: [args.host], secretName: tlsSecretName }],
                rules: [{
                    host: args.host,
                    http: {
                        paths: args.backends.map(b => ({
                            path: b.path,
                            pathType: "Prefix",
                            backend: {
                                service: {
                                    name: b.serviceName,
                                    port: typeof b.servicePort === "number" ? { number: b.servicePort } : { name: b.servicePort },
                                },
                            },
                        })),
                    },
                }],
            },
        }, { parent: this });

        this.host = pulumi.output(args.host);
        const firstPath = args.backends[0].path;
        this.url = pulumi.output(`https://${args.host}${firstPath === "/" ? "/" : firstPath}`);
        this.tlsSecretName = pulumi.output(tlsSecretName);
        this.ingressName = this.ingress.metadata.name;
        this.registerOutputs({ host: this.host, url: this.url, tlsSecretName: this.tlsSecretName, ingressName: this.ingressName });
    }
}

export interface RouteTarget {
    namespace: pulumi.Input<string>;
    serviceName: pulumi.Input<string>;
    servicePort: number | string;
    /** Overrides the default host ("<role>.<domain>"). */
    host?: string;
    rateLimit?: RateLimit;
}

/** The hosts IngressRoutes serves: api.<domain>, cdn.<domain>, grpc.<domain> and monitoring.<domain>/grafana. */
export const ROUTE_ROLES = ["api", "cdn", "grpc", "grafana"] as const;
export type RouteRole = typeof ROUTE_ROLES[number];

/** Host of a role under a domain unless the route names its own: api., cdn., grpc. and monitoring. (Grafana). */
export function defaultHost(role: RouteRole, domain: string): string {
    return `${role === "grafana" ? "monitoring" : role}.${domain}`;
}

export interface IngressRoutesArgs {
    /** Base domain, e.g. "cstore.example.com": hosts default to api., cdn., grpc. and monitoring. of it. */
    domain: string;
    clusterIssuer: string;
    ingressClassName?: string;
    /** Rate limit of every host that sets none itself. */
    rateLimit?: RateLimit;
    /** See SecureIngressArgs.skipAwait (default false). */
    skipAwait?: boolean;
    partOf?: string;
    api?: RouteTarget;
    cdn?: RouteTarget & { corsAllowOrigins: string[] };
    /** A gRPC service: nginx speaks HTTP/2 (backend-protocol GRPC) to it, clients reach grpc.<domain>:443 over TLS. */
    grpc?: RouteTarget;
    grafana?: RouteTarget & {
        /** Path on the monitoring host (default "/grafana"; Grafana must serve from this sub-path). */
        path?: string;
        /** Basic-auth user name (default "admin"); the password is generated. */
        username?: string;
    };
}

export const DEFAULT_RATE_LIMIT: RateLimit = { rps: 20, burstMultiplier: 5, connections: 50 };

export function validateIngressRoutes(key: string, a: IngressRoutesArgs): void {
    requireHostname(`${key}.domain`, a.domain);
    requireNonEmptyString(`${key}.clusterIssuer`, a.clusterIssuer);
    if (a.rateLimit !== undefined) {
        validateRateLimit(`${key}.rateLimit`, a.rateLimit);
    }
    if (a.skipAwait !== undefined) {
        requireBoolean(`${key}.skipAwait`, a.skipAwait);
    }
    if (!a.api && !a.cdn && !a.grpc && !a.grafana) {
        throw new ValidationError(key, "no route; allowed: at least one of api, cdn, grpc, grafana");
    }
    const hosts = new Map<string, string>();
    for (const role of ROUTE_ROLES) {
        const t = a[role];
        if (!t) {
            continue;
        }
        if (t.host !== undefined) {
            requireHostname(`${key}.${role}.host`, t.host);
        }
        if (t.rateLimit !== undefined) {
            validateRateLimit(`${key}.${role}.rateLimit`, t.rateLimit);
        }
        // One Ingress (and one certificate) per host: two routes on one host would fight over its TLS Secret.
        const host = t.host ?? defaultHost(role, a.domain);
        const other = hosts.get(host);
        if (other !== undefined) {
            throw new ValidationError(`${key}.${role}.host`, `${JSON.stringify(host)} is already the host of ${other}; allowed: a host of its own`);
        }
        hosts.set(host, role);
    }
    if (a.cdn) {
        requireOrigins(`${key}.cdn.corsAllowOrigins`, a.cdn.corsAllowOrigins);
    }
    if (a.grafana?.path !== undefined) {
        requirePathPrefix(`${key}.grafana.path`, a.grafana.path);
    }
    if (a.grafana?.username !== undefined && (typeof a.grafana.username !== "string" || !/^[A-Za-z0-9._-]{1,64}$/.test(a.grafana.username))) {
        throw new ValidationError(`${key}.grafana.username`, `${JSON.stringify(a.grafana.username)} is not allowed; allowed: 1-64 letters, digits, '.', '_' or '-'`);
    }
}

/**
 * cstore.md's Ingress layer: api.<domain>, cdn.<domain> (CORS) and monitoring.<domain>/grafana
 * (basic auth from a generated password), each with its own certificate and rate limit; other
 * systems use the same routes (greenfield: api + Grafana; outbox: api (REST), grpc + Grafana).
 */
/**
 * Grafana's basic-auth credential: a generated password and the Secret `<prefix>-grafana-basic-auth`
 * holding its htpasswd line under the key "auth" (ingress-nginx's auth-file; the Istio path mounts
 * the same file into Grafana's sidecar, components/mesh/edge.ts). `opts` carries the parent.
 */
export function grafanaBasicAuth(prefix: string, namespace: pulumi.Input<string>, username: string, partOf: string, opts: pulumi.CustomResourceOptions):
    { secretName: pulumi.Output<string>; password: pulumi.Output<string> } {
    const pw = new random.RandomPassword(`${prefix}-grafana-password`, { length: 32, special: false }, opts);
    const secret = new k8s.core.v1.Secret(`${prefix}-grafana-basic-auth`, {
        metadata: {
            name: `${prefix}-grafana-basic-auth`,
            namespace,
            annotations: OWNED_ANNOTATIONS,
            labels: { "app.kubernetes.io/part-of": partOf, "app.kubernetes.io/component": "edge", "app.kubernetes.io/managed-by": "pulumi" },
        },
        type: "Opaque",
        stringData: { auth: pulumi.secret(pw.result.apply(p => `${htpasswdSha1(username, p)}\n`)) },
    }, { ...opts, additionalSecretOutputs: ["data", "stringData"] });
    return { secretName: secret.metadata.name, password: pulumi.secret(pw.result) };
}

export class IngressRoutes extends pulumi.ComponentResource {
    /** role -> host name. */
    public readonly hosts: pulumi.Output<Record<string, string>>;
    /** role -> https URL. */
    public readonly urls: pulumi.Output<Record<string, string>>;
    /** role -> TLS Secret name cert-manager fills. */
    public readonly tlsSecretNames: pulumi.Output<Record<string, string>>;
    public readonly grafanaAuthSecretName: pulumi.Output<string | undefined>;
    public readonly grafanaUsername: pulumi.Output<string | undefined>;
    /** Plaintext basic-auth password for Grafana: a secret output. */
    public readonly grafanaPassword: pulumi.Output<string | undefined>;
    public readonly routes: Record<string, SecureIngress> = {};

    constructor(name: string, args: IngressRoutesArgs | Checked<IngressRoutesArgs>, opts?: pulumi.ComponentResourceOptions) {
        const key = `IngressRoutes(${name})`;
        // Checked once: where the config entered (a system's spec), or here for routes built directly.
        const direct = !isChecked(args);
        if (direct) {
            requireDnsLabel(`${key}.name`, name, 40);
            validateIngressRoutes(key, args);
        }
        const hostOf = (role: RouteRole, t: RouteTarget) => t.host ?? defaultHost(role, args.domain);
        // Validate every host's Ingress before registering anything.
        const common = {
            clusterIssuer: args.clusterIssuer, ingressClassName: args.ingressClassName, skipAwait: args.skipAwait ?? false,
            partOf: args.partOf ?? "cstore",
        };
        const plans: { role: RouteRole; args: SecureIngressArgs }[] = [];
        if (args.api) {
            plans.push({ role: "api", args: {
                ...common, namespace: args.api.namespace, host: hostOf("api", args.api),
                backends: [{ path: "/", serviceName: args.api.serviceName, servicePort: args.api.servicePort }],
                rateLimit: args.api.rateLimit ?? args.rateLimit ?? DEFAULT_RATE_LIMIT,
            } });
        }
        if (args.cdn) {
            plans.push({ role: "cdn", args: {
                ...common, namespace: args.cdn.namespace, host: hostOf("cdn", args.cdn),
                backends: [{ path: "/", serviceName: args.cdn.serviceName, servicePort: args.cdn.servicePort }],
                rateLimit: args.cdn.rateLimit ?? args.rateLimit ?? { rps: 100, burstMultiplier: 5, connections: 200 },
                cors: { allowOrigins: args.cdn.corsAllowOrigins },
            } });
        }
        if (args.grpc) {
            plans.push({ role: "grpc", args: {
                ...common, namespace: args.grpc.namespace, host: hostOf("grpc", args.grpc),
                backends: [{ path: "/", serviceName: args.grpc.serviceName, servicePort: args.grpc.servicePort }],
                rateLimit: args.grpc.rateLimit ?? args.rateLimit ?? DEFAULT_RATE_LIMIT,
                backendProtocol: "GRPC",
            } });
        }
        if (args.grafana) {
            plans.push({ role: "grafana", args: {
                ...common, namespace: args.grafana.namespace, host: hostOf("grafana", args.grafana),
                backends: [{ path: args.grafana.path ?? "/grafana", serviceName: args.grafana.serviceName, servicePort: args.grafana.servicePort }],
                rateLimit: args.grafana.rateLimit ?? args.rateLimit ?? { rps: 10, burstMultiplier: 5, connections: 20 },
                basicAuth: { secretName: `${name}-grafana-basic-auth`, realm: "Grafana" },
            } });
        }
        if (direct) {
            plans.forEach(p => validateSecureIngress(`${key}.${p.role}`, p.args));
        }
        super("platform:edge:IngressRoutes", name, {}, opts);
        const child = { parent: this };

        let authSecretName: pulumi.Output<string> | undefined;
        let password: pulumi.Output<string> | undefined;
        const username = args.grafana?.username ?? "admin";
        if (args.grafana) {
            ({ secretName: authSecretName, password } = grafanaBasicAuth(name, args.grafana.namespace, username, common.partOf, child));
        }

        for (const p of plans) {
            const a = p.role === "grafana" && authSecretName
                ? { ...p.args, basicAuth: { secretName: authSecretName, realm: "Grafana" } } : p.args;
            // Checked above (or where the config entered): each host's Ingress is not checked again.
            this.routes[p.role] = new SecureIngress(`${name}-${p.role}`, checked(a), child);
        }
        this.hosts = pulumi.output(Object.fromEntries(plans.map(p => [p.role, p.args.host])));
        this.urls = pulumi.all(Object.fromEntries(Object.entries(this.routes).map(([r, i]) => [r, i.url])));
        this.tlsSecretNames = pulumi.all(Object.fromEntries(Object.entries(this.routes).map(([r, i]) => [r, i.tlsSecretName])));
        this.grafanaAuthSecretName = authSecretName ?? pulumi.output(undefined);
        this.grafanaUsername = pulumi.output(args.grafana ? username : undefined);
        this.grafanaPassword = password ?? pulumi.output(undefined);
        this.registerOutputs({
            hosts: this.hosts, urls: this.urls, tlsSecretNames: this.tlsSecretNames,
            grafanaAuthSecretName: this.grafanaAuthSecretName, grafanaUsername: this.grafanaUsername, grafanaPassword: this.grafanaPassword,
        });
    }
}
