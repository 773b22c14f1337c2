/**
 * Edge-specific input checks (host names, CORS origins, URL paths, rate limits). Kept here rather
 * than in components/k8s/validation.ts, which this module does not own; errors follow the same
 * convention: they name the key and what is allowed.
 */
import { rejectUnknownKeys, requireIntInRange, requireObject, ValidationError } from "../k8s/validation";

const HOST_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A fully qualified DNS host name: lowercase labels separated by dots, at least two labels. */
export function requireHostname(key: string, value: unknown): string {
    const ok = typeof value === "string" && value.length <= 253 && value.split(".").length >= 2
        && value.split(".").every(l => l.length <= 63 && HOST_LABEL.test(l));
    if (!ok) {
        throw new ValidationError(key, `${JSON.stringify(value)} is not allowed; allowed: a lowercase DNS host name such as api.cstore.example.com`);
    }
    return value;
}

/** A CORS origin: "*" or scheme://host[:port] with scheme http or https and no path. */
export function requireOrigin(key: string, value: unknown): string {
    if (value === "*") {
        return value;
    }
    const m = typeof value === "string" ? /^(https?):\/\/([^/:]+)(:[0-9]{1,5})?$/.exec(value) : null;
    if (!m || !m[2].split(".").every(l => HOST_LABEL.test(l))) {
        throw new ValidationError(key, `${JSON.stringify(value)} is not allowed; allowed: "*" or an origin such as https://shop.example.com (scheme, host, optional port, no path)`);
    }
    return value as string;
}

export function requireOrigins(key: string, value: unknown): string[] {
    if (!Array.isArray(value) || value.length === 0) {
        throw new ValidationError(key, `${JSON.stringify(value)} is not allowed; allowed: a non-empty list of origins ("*" or https://host[:port])`);
    }
    value.forEach((o, i) => requireOrigin(`${key}[${i}]`, o));
    if (value.includes("*") && value.length > 1) {
        throw new ValidationError(key, `"*" together with named origins is not allowed; allowed: ["*"] alone, or a list of origins`);
    }
    return value as string[];
}

/** An absolute URL path prefix without a trailing slash (except "/"), e.g. "/grafana". */
export function requirePathPrefix(key: string, value: unknown): string {
    if (typeof value !== "string" || !/^\/([A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*)?$/.test(value)) {
        throw new ValidationError(key, `${JSON.stringify(value)} is not allowed; allowed: "/" or an absolute path without a trailing slash, e.g. /grafana`);
    }
    return value;
}

export interface RateLimit {
    /** Requests per second accepted from one client IP (nginx.ingress.kubernetes.io/limit-rps). */
    rps: number;
    /** Burst = rps x multiplier (limit-burst-multiplier; ingress-nginx's default is 5). */
    burstMultiplier?: number;
    /** Concurrent connections from one client IP (limit-connections). */
    connections?: number;
}

/** Reads a rate limit (config or args): rps, with burstMultiplier and connections optional. */
export function validateRateLimit(key: string, raw: unknown): RateLimit {
    const r = requireObject(key, raw);
    rejectUnknownKeys(key, r, ["rps", "burstMultiplier", "connections"]);
    return {
        rps: requireIntInRange(`${key}.rps`, r.rps, 1, 100000),
        ...(r.burstMultiplier === undefined ? {} : { burstMultiplier: requireIntInRange(`${key}.burstMultiplier`, r.burstMultiplier, 1, 100) }),
        ...(r.connections === undefined ? {} : { connections: requireIntInRange(`${key}.connections`, r.connections, 1, 100000) }),
    };
}
