/**
 * What a RestApiSystem takes (restapi-operator.md): the namespace and its guard rails, the RestAPI's
 * name and CRD spec, and its observability. The config module validates these values under their
 * config keys; validateRestApiSystemArgs is the same check for args built by hand.
 */
import * as pulumi from "@pulumi/pulumi";
import { PART_OF } from "../../k8s/labels";
import { LimitRangeSpec, QuotaSpec, validateLimitRange, validateQuota } from "../../k8s/namespace";
import { rejectUnknownKeys, requireBoolean, requireDnsLabel, requireNonEmptyString, requireObject, requireQuantity, ValidationError } from "../../k8s/validation";
import { requireHostname } from "../../edge/validation";
import { AlertmanagerTarget } from "../../observability/alerting";
import { Backend } from "../../restapi/restapi";
import { RestApiSpec, validateRestApiSpec } from "../../restapi/spec";

export const RESTAPI_PART_OF = PART_OF.restapi;

export interface RestApiObservability {
    namespace: string;
    prometheusStorage: string;
    grafanaStorage: string;
    storageClass?: string;
    /** Kubernetes API server addresses, for Prometheus' service discovery. */
    apiServerCidrs: string[];
}

/**
 * Public HTTPS routes through the ingress controller (ingress-nginx, certificates from cert-manager):
 * `host` to the view's stable Service and, with blue/green on, `previewHost` to the idle colour's
 * view (`<name>-view-preview`).
 */
export interface RestApiIngress {
    host: string;
    /** Defaults to "preview.<host>". */
    previewHost?: string;
    clusterIssuer: string;
    ingressClassName?: string;
    /** Where no load balancer ever reports an address (see SecureIngressArgs.skipAwait). */
    skipAwait?: boolean;
}

export const RESTAPI_INGRESS_KEYS = ["host", "previewHost", "clusterIssuer", "ingressClassName", "skipAwait"];

/** The preview host: the configured one, else "preview.<host>". */
export function previewHostOf(ingress: RestApiIngress): string {
    return ingress.previewHost ?? `preview.${ingress.host}`;
}

export function validateRestApiIngress(key: string, raw: unknown, blueGreen: boolean): RestApiIngress {
    const o = requireObject(key, raw);
    rejectUnknownKeys(key, o, RESTAPI_INGRESS_KEYS);
    const ingress: RestApiIngress = {
        host: requireHostname(`${key}.host`, o.host),
        clusterIssuer: requireNonEmptyString(`${key}.clusterIssuer`, o.clusterIssuer),
    };
    if (o.previewHost !== undefined) {
        if (!blueGreen) {
            throw new ValidationError(`${key}.previewHost`, "there is no idle colour to preview without blue/green; allowed: set blueGreen.enabled true, or leave previewHost out");
        }
        ingress.previewHost = requireHostname(`${key}.previewHost`, o.previewHost);
        if (ingress.previewHost === ingress.host) {
            throw new ValidationError(`${key}.previewHost`, `${ingress.previewHost} is the live host; allowed: another host name`);
        }
    }
    if (o.ingressClassName !== undefined) {
        ingress.ingressClassName = requireDnsLabel(`${key}.ingressClassName`, o.ingressClassName, 63);
    }
    if (o.skipAwait !== undefined) {
        ingress.skipAwait = requireBoolean(`${key}.skipAwait`, o.skipAwait);
    }
    return ingress;
}

export interface RestApiSystemArgs {
    namespace: string;
    quota: QuotaSpec;
    limits: LimitRangeSpec;
    /** The RestAPI instance: its name and the CRD spec. */
    name: string;
    spec: RestApiSpec;
    /** Namespace of the ingress controller, the only outside caller of the view. */
    ingressNamespace: string;
    /** Prometheus, Grafana, Jaeger and the collector; none when absent. */
    observability?: RestApiObservability;
    /** Public routes of the view (and of the preview); none when absent. */
    ingress?: RestApiIngress;
    secretEnvVars?: Record<string, pulumi.Input<string>>;
    backends?: Backend[];
    protect?: boolean;
    /** The stack's Alertmanager: the observability stack's Prometheus sends its alerts there. */
    alertmanager?: AlertmanagerTarget;
}

export function validateRestApiSystemArgs(key: string, args: RestApiSystemArgs): void {
    requireDnsLabel(`${key}.namespace`, args.namespace, 63);
    requireDnsLabel(`${key}.name`, args.name, 24);
    validateQuota(`${key}.quota`, args.quota);
    validateLimitRange(`${key}.limits`, args.limits);
    validateRestApiSpec(key, args.spec);
    if (args.ingress) {
        validateRestApiIngress(`${key}.ingress`, args.ingress, args.spec.blueGreen?.enabled ?? false);
    }
    if (args.observability) {
        requireDnsLabel(`${key}.observability.namespace`, args.observability.namespace, 63);
        requireQuantity(`${key}.observability.prometheusStorage`, args.observability.prometheusStorage, "storage");
        requireQuantity(`${key}.observability.grafanaStorage`, args.observability.grafanaStorage, "storage");
    }
}

