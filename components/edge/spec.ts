/**
 * The `ingress` section of a system's stack config (greenfield, outbox): which hosts the system's
 * user-facing endpoints get, the cert-manager ClusterIssuer of their certificates, the ingress
 * class, rate limits and Grafana's basic-auth user. Validated once here; errors name the key as the
 * user wrote it. The system maps its endpoints onto IngressRoutes' roles (api, grpc, grafana).
 */
import { rejectUnknownKeys, requireBoolean, requireDnsLabel, requireNonEmptyString, requireObject, ValidationError } from "../k8s/validation";
import { DEFAULT_RATE_LIMIT, defaultHost, RouteRole } from "./ingress";
import { RateLimit, requireHostname, requirePathPrefix, validateRateLimit } from "./validation";

export interface EdgeRouteSpec {
    host: string;
    rateLimit: RateLimit;
    /** Grafana only: path on its host (default /grafana) and the basic-auth user (default admin). */
    path?: string;
    basicAuthUser?: string;
}

export interface ResolvedEdgeSpec {
    domain: string;
    clusterIssuer: string;
    ingressClassName: string;
    skipAwait: boolean;
    /** Config name of an endpoint (fastapi, rest, grpc, grafana) -> its route. */
    routes: Record<string, EdgeRouteSpec>;
}

export interface EdgeEndpoint {
    /** The key under `ingress` (e.g. "fastapi"). */
    name: string;
    /** The IngressRoutes role it maps to (its default host prefix). */
    role: RouteRole;
}

export const EDGE_DEFAULTS = {
    clusterIssuer: "letsencrypt-prod",
    ingressClassName: "nginx",
    grafanaPath: "/grafana",
    grafanaUser: "admin",
    /** Per client IP, as CStore's hosts: the API 20 rps, Grafana 10 rps. */
    rateLimit: { api: DEFAULT_RATE_LIMIT, grpc: { rps: 50, burstMultiplier: 5, connections: 100 }, grafana: { rps: 10, burstMultiplier: 5, connections: 20 } } as Record<string, RateLimit>,
};

const USER = /^[A-Za-z0-9._-]{1,64}$/;

function rateLimitOf(key: string, raw: unknown, fallback: RateLimit): RateLimit {
    return raw === undefined ? fallback : validateRateLimit(key, raw);
}

/**
 * Validates `raw` (the system's `ingress` object, possibly absent) for the given endpoints and
 * returns it with every default applied: hosts `<role>.<domain>`, ClusterIssuer letsencrypt-prod,
 * class nginx, CStore's rate limits, Grafana under /grafana with basic auth.
 */
export function resolveEdgeSpec(key: string, raw: unknown, endpoints: EdgeEndpoint[], defaultDomain: string): ResolvedEdgeSpec {
    const o = raw === undefined ? {} : requireObject(key, raw);
    rejectUnknownKeys(key, o, ["domain", "clusterIssuer", "ingressClassName", "skipAwait", ...endpoints.map(e => e.name)]);
    const domain = requireHostname(`${key}.domain`, o.domain ?? defaultDomain);
    const routes: Record<string, EdgeRouteSpec> = {};
    const hosts = new Map<string, string>();
    for (const e of endpoints) {
        const k = `${key}.${e.name}`;
        const r = o[e.name] === undefined ? {} : requireObject(k, o[e.name]);
        const grafana = e.role === "grafana";
        rejectUnknownKeys(k, r, grafana ? ["host", "rateLimit", "path", "basicAuthUser"] : ["host", "rateLimit"]);
        const host = r.host === undefined ? defaultHost(e.role, domain) : requireHostname(`${k}.host`, r.host);
        const other = hosts.get(host);
        if (other !== undefined) {
            throw new ValidationError(`${k}.host`, `${JSON.stringify(host)} is already the host of ${key}.${other}; allowed: a host of its own`);
        }
        hosts.set(host, e.name);
        routes[e.name] = { host, rateLimit: rateLimitOf(`${k}.rateLimit`, r.rateLimit, EDGE_DEFAULTS.rateLimit[e.role] ?? DEFAULT_RATE_LIMIT) };
        if (grafana) {
            routes[e.name].path = requirePathPrefix(`${k}.path`, r.path ?? EDGE_DEFAULTS.grafanaPath);
            const user = r.basicAuthUser ?? EDGE_DEFAULTS.grafanaUser;
            if (typeof user !== "string" || !USER.test(user)) {
                throw new ValidationError(`${k}.basicAuthUser`, `${JSON.stringify(user)} is not allowed; allowed: 1-64 letters, digits, '.', '_' or '-'`);
            }
            routes[e.name].basicAuthUser = user;
        }
    }
    return {
        domain,
        clusterIssuer: requireNonEmptyString(`${key}.clusterIssuer`, o.clusterIssuer ?? EDGE_DEFAULTS.clusterIssuer),
        ingressClassName: requireDnsLabel(`${key}.ingressClassName`, o.ingressClassName ?? EDGE_DEFAULTS.ingressClassName, 63),
        skipAwait: o.skipAwait === undefined ? false : requireBoolean(`${key}.skipAwait`, o.skipAwait),
        routes,
    };
}

/** `https://<host><path>`: the external URL of Grafana behind its route (its root_url). */
export function grafanaRootUrl(route: EdgeRouteSpec): string {
    return `https://${route.host}${route.path === "/" || route.path === undefined ? "" : route.path}`;
}
