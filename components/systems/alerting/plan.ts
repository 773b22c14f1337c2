/**
 * The plan of the Alerting system: pure, from the resolved spec. The target the Prometheus servers
 * send to is known before anything exists, so the systems are wired first and the Alertmanager last.
 */
import * as pulumi from "@pulumi/pulumi";
import { TrafficRule } from "../../k8s/traffic";
import { alertmanagerTarget } from "../../observability/alertmanager";
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
