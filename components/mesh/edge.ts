/**
 * The edge protections of the nginx Ingresses (components/edge/ingress.ts: per-host rate limit,
 * basic auth in front of Grafana) for endpoints served through the Istio ingress gateway instead.
 * Istio's own APIs have no rate limit and no basic auth (RequestAuthentication is JWT only), so
 * both are Envoy HTTP filters added by an EnvoyFilter to the destination's sidecar, on its inbound
 * listener, in the workload's own namespace (the gateway's namespace belongs to the Istio
 * installation):
 *
 * - `envoy.filters.http.local_ratelimit`: a token bucket of `rps` tokens per second holding
 *   `rps x burstMultiplier` (nginx's limit-rps and limit-burst-multiplier). Unlike nginx's, which
 *   counts per client IP per controller replica, Envoy's local limit counts every request the pod's
 *   sidecar receives: the endpoint's limit is `replicas x rps` in total. Excess requests get 429.
 *   nginx's per-client connection limit has no local Envoy equivalent and is not applied.
 * - `envoy.filters.http.basic_auth` (Envoy >= 1.30, Istio >= 1.22), after the rate limit as in nginx
 *   (limit_req runs before auth_basic): the same htpasswd `{SHA}` line as the nginx path, read from
 *   a file of a Secret the pod mounts into its sidecar (`sidecar.istio.io/userVolume` and
 *   `userVolumeMount`: basicAuthPodAnnotations), so the hash stays in a Secret.
 *
 * Probes are unaffected: Istio rewrites HTTP probes to the pilot-agent, which calls the app
 * directly, not through the inbound listener.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { RateLimit, validateRateLimit } from "../edge/validation";
import { Checked, isChecked, requireDnsLabel, requireIntInRange, ValidationError } from "../k8s/validation";
import { IstioPrerequisite, requireIstio } from "./istio";

/** EnvoyFilter exists in v1alpha3 only, whatever the version of the other Istio APIs. */
export const ENVOY_FILTER_API = "networking.istio.io/v1alpha3";
/** Where the basic-auth Secret is mounted in the sidecar (istio-proxy). */
export const BASIC_AUTH_MOUNT = "/etc/istio/edge-basic-auth";
/** The Secret key holding the htpasswd lines (the nginx path's key, ingress-nginx's auth-file). */
export const BASIC_AUTH_KEY = "auth";
const BASIC_AUTH_VOLUME = "edge-basic-auth";

export interface MeshRouteProtection {
    /** The route's role (fastapi, grafana): the child's name and the EnvoyFilter's. */
    role: string;
    namespace: pulumi.Input<string>;
    /** Labels of the destination's pods: the EnvoyFilter's workloadSelector. */
    selector: Record<string, string>;
    rateLimit: RateLimit;
    /** Basic auth from the htpasswd Secret the pods mount into their sidecar (basicAuthPodAnnotations). */
    basicAuth?: boolean;
}

export interface MeshEdgeArgs extends IstioPrerequisite {
    routes: MeshRouteProtection[];
}

/** The pod annotations that mount the basic-auth Secret into the sidecar at BASIC_AUTH_MOUNT. */
export function basicAuthPodAnnotations(secretName: string): Record<string, string> {
    return {
        "sidecar.istio.io/userVolume": JSON.stringify({ [BASIC_AUTH_VOLUME]: { secret: { secretName, items: [{ key: BASIC_AUTH_KEY, path: BASIC_AUTH_KEY }] } } }),
        "sidecar.istio.io/userVolumeMount": JSON.stringify({ [BASIC_AUTH_VOLUME]: { mountPath: BASIC_AUTH_MOUNT, readOnly: true } }),
    };
}

const INBOUND_HTTP = {
    context: "SIDECAR_INBOUND",
    listener: { filterChain: { filter: { name: "envoy.filters.network.http_connection_manager", subFilter: { name: "envoy.filters.http.router" } } } },
};

/** The EnvoyFilter patches of one route: the rate limit, then basic auth, both before the router. */
export function edgeFilterPatches(r: MeshRouteProtection): Record<string, unknown>[] {
    const always = { numerator: 100, denominator: "HUNDRED" };
    const patches: Record<string, unknown>[] = [{
        applyTo: "HTTP_FILTER",
        match: INBOUND_HTTP,
        patch: {
            operation: "INSERT_BEFORE",
            value: {
                name: "envoy.filters.http.local_ratelimit",
                typed_config: {
                    "@type": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
                    stat_prefix: `edge_${r.role}_rate_limit`,
                    token_bucket: { max_tokens: r.rateLimit.rps * (r.rateLimit.burstMultiplier ?? 5), tokens_per_fill: r.rateLimit.rps, fill_interval: "1s" },
                    filter_enabled: { runtime_key: "edge_rate_limit_enabled", default_value: always },
                    filter_enforced: { runtime_key: "edge_rate_limit_enforced", default_value: always },
                    response_headers_to_add: [{ append_action: "OVERWRITE_IF_EXISTS_OR_ADD", header: { key: "x-local-rate-limit", value: "true" } }],
                },
            },
        },
    }];
    if (r.basicAuth) {
        patches.push({
            applyTo: "HTTP_FILTER",
            match: INBOUND_HTTP,
            patch: {
                operation: "INSERT_BEFORE",
                value: {
                    name: "envoy.filters.http.basic_auth",
                    typed_config: {
                        "@type": "type.googleapis.com/envoy.extensions.filters.http.basic_auth.v3.BasicAuth",
                        users: { filename: `${BASIC_AUTH_MOUNT}/${BASIC_AUTH_KEY}` },
                    },
                },
            },
        });
    }
    return patches;
}

export function validateMeshEdge(key: string, a: MeshEdgeArgs): void {
    requireIstio(key, a);
    if (!Array.isArray(a.routes) || a.routes.length === 0) {
        throw new ValidationError(`${key}.routes`, "no route; allowed: at least one { role, namespace, selector, rateLimit }");
    }
    const roles = new Set<string>();
    a.routes.forEach((r, i) => {
        const k = `${key}.routes[${i}]`;
        requireDnsLabel(`${k}.role`, r.role, 30);
        if (roles.has(r.role)) {
            throw new ValidationError(`${k}.role`, `${r.role} is protected twice; allowed: one entry per route`);
        }
        roles.add(r.role);
        if (!r.selector || typeof r.selector !== "object" || Object.keys(r.selector).length === 0) {
            throw new ValidationError(`${k}.selector`, "empty: it would select every pod of the namespace; allowed: the destination's pod labels");
        }
        validateRateLimit(`${k}.rateLimit`, r.rateLimit);
        requireIntInRange(`${k}.rateLimit.rps`, r.rateLimit.rps, 1, 100000);
    });
}

export class MeshEdge extends pulumi.ComponentResource {
    /** role -> the EnvoyFilter's name. */
    public readonly filterNames: pulumi.Output<Record<string, string>>;

    /** Args a system's plan marked checked (its spec checked what they derive from) are not checked again. */
    constructor(name: string, args: MeshEdgeArgs | Checked<MeshEdgeArgs>, opts?: pulumi.ComponentResourceOptions) {
        if (!isChecked(args)) {
            const key = `MeshEdge(${name})`;
            requireDnsLabel(`${key}.name`, name, 40);
            validateMeshEdge(key, args);
        }
        super("platform:mesh:MeshEdge", name, {}, opts);
        const names: Record<string, string> = {};
        for (const r of args.routes) {
            names[r.role] = `${name}-${r.role}`;
            new k8s.apiextensions.CustomResource(`${name}-${r.role}-envoy-filter`, {
                apiVersion: ENVOY_FILTER_API,
                kind: "EnvoyFilter",
                metadata: { name: names[r.role], namespace: r.namespace, labels: { "app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/component": "edge" } },
                spec: { workloadSelector: { labels: r.selector }, configPatches: edgeFilterPatches(r) },
            }, { parent: this, dependsOn: args.dependsOn });
        }
        this.filterNames = pulumi.output(names);
        this.registerOutputs({ filterNames: this.filterNames });
    }
}
