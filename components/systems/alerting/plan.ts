/**
 * The plan of the Alerting system: pure, from the resolved spec. The target the Prometheus servers
 * send to is known before anything exists, so the systems are wired first and the Alertmanager last.
 */
import * as pulumi from "@pulumi/pulumi";
import { LimitRangeSpec, NamespaceBaselineArgs, QuotaSpec } from "../../k8s/namespace";
import { Peer, TrafficRule } from "../../k8s/traffic";
import { Checked, checked } from "../../k8s/validation";
import { AlertmanagerArgs, alertmanagerTarget } from "../../observability/alertmanager";
import { alertmanagerConfig, AlertmanagerTarget, AlertingSpec, inClusterTarget } from "../../observability/alerting";
import { checksum, observabilityPeer } from "../../observability/common";
import { toYaml } from "../../observability/yaml";
import { ALERTING_PART_OF, ALERTMANAGER_NAME } from "./spec";

/** Where every Prometheus of the stack sends its alerts (pure: from the spec alone). */
export function alertingTarget(spec: AlertingSpec): AlertmanagerTarget {
    return alertmanagerTarget(ALERTMANAGER_NAME, spec.namespace, spec.replicas, observabilityPeer(ALERTMANAGER_NAME, spec.namespace, ALERTING_PART_OF));
}

/** The Alertmanager's egress to its receivers: HTTPS to the configured ranges, each in-cluster webhook on its port. */
export function receiverEgress(spec: AlertingSpec): TrafficRule[] {
    const https: TrafficRule[] = spec.egressCidrs.map(cidr => ({ peer: { kind: "cidr", cidr }, ports: [{ port: 443 }] }));
    const webhooks: TrafficRule[] = spec.receivers.flatMap(r => {
        const t = r.url === undefined ? undefined : inClusterTarget(r.url);
        return t ? [{ peer: { kind: "namespace" as const, namespace: t.namespace }, ports: [{ port: t.port }] }] : [];
    });
    return [...https, ...webhooks];
}

/**
 * alertmanager.yml with the receivers' endpoints (a secret Output), and the hash of the routing
 * without them: a change of routes or receivers rolls the pods, the endpoints stay out of the pod spec.
 */
export function alertmanagerConfigOf(spec: AlertingSpec, secrets: Record<string, pulumi.Output<string>>): { config: pulumi.Output<string>; configChecksum: string } {
    const placeholders = Object.fromEntries(Object.keys(secrets).map(k => [k, "<secret>"]));
    const names = Object.keys(secrets).sort();
    return {
        configChecksum: checksum(toYaml(alertmanagerConfig(spec, placeholders))),
        config: pulumi.secret(pulumi.all(names.map(n => secrets[n]))
            .apply(values => toYaml(alertmanagerConfig(spec, Object.fromEntries(names.map((n, i) => [n, values[i]])))))),
    };
}

export interface AlertingPlan {
    baseline: Checked<NamespaceBaselineArgs>;
    alertmanager(namespace: pulumi.Input<string>): AlertmanagerArgs;
}

/** Every child's args, from the resolved spec (and the platform's quota and limits it was checked against). */
export function planAlerting(spec: AlertingSpec, platform: { quota: QuotaSpec; limits: LimitRangeSpec }, secrets: Record<string, pulumi.Output<string>>,
    clients: Peer[], protect?: boolean): AlertingPlan {
    const config = alertmanagerConfigOf(spec, secrets);
    const egress = receiverEgress(spec);
    return {
        baseline: checked({ name: spec.namespace, quota: platform.quota, limits: platform.limits, holdsProtectedData: protect }),
        alertmanager: namespace => ({
            namespace, namespaceName: spec.namespace, partOf: ALERTING_PART_OF,
            image: spec.image, resources: spec.resources, replicas: spec.replicas, storage: spec.storage,
            ...config, clients, receiverEgress: egress, protect,
        }),
    };
}
