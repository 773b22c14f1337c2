/**
 * What a RestApiSystem takes (restapi-operator.md): the namespace and its guard rails, the RestAPI's
 * name and CRD spec, and its observability. The config module validates these values under their
 * config keys; validateRestApiSystemArgs is the same check for args built by hand.
 */
import * as pulumi from "@pulumi/pulumi";
import { PART_OF } from "../../k8s/labels";
import { LimitRangeSpec, QuotaSpec, validateLimitRange, validateQuota } from "../../k8s/namespace";
import { requireDnsLabel, requireQuantity } from "../../k8s/validation";
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
    if (args.observability) {
        requireDnsLabel(`${key}.observability.namespace`, args.observability.namespace, 63);
        requireQuantity(`${key}.observability.prometheusStorage`, args.observability.prometheusStorage, "storage");
        requireQuantity(`${key}.observability.grafanaStorage`, args.observability.grafanaStorage, "storage");
    }
}

