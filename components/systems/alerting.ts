/**
 * Alerting: the stack's Alertmanager in its own namespace (baseline: default deny, DNS, quota,
 * LimitRange), fed by every system's Prometheus and delivering to the receivers of
 * `k8s-platform:alerting`. The plan is pure: the target the Prometheus servers send to is known
 * from the spec before anything exists, so the systems are wired first and the Alertmanager last.
 */
import * as pulumi from "@pulumi/pulumi";
import { LimitRangeSpec, NamespaceBaseline, QuotaSpec } from "../k8s/namespace";
import { PART_OF } from "../k8s/labels";
import { Peer, TrafficRule } from "../k8s/traffic";
import { Alertmanager, alertmanagerTarget } from "../observability/alertmanager";
import { alertmanagerConfig, AlertmanagerTarget, AlertingSpec, inClusterTarget } from "../observability/alerting";
import { checksum, observabilityPeer } from "../observability/common";
import { toYaml } from "../observability/yaml";

export const ALERTING_PART_OF = PART_OF.alerting;
export const ALERTMANAGER_NAME = "alertmanager";

export interface AlertingArgs {
    spec: AlertingSpec;
    /** Receiver name -> endpoint (URL or routing key), each a secret Output. */
    secrets: Record<string, pulumi.Output<string>>;
    quota: QuotaSpec;
    limits: LimitRangeSpec;
    /** The Prometheus servers of the stack. */
    clients: Peer[];
    protect?: boolean;
}

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

export class Alerting extends pulumi.ComponentResource {
    public readonly namespace: pulumi.Output<string>;
    public readonly alertmanager: Alertmanager;
    public readonly alertmanagerUrl: pulumi.Output<string>;
    public readonly configSecretName: pulumi.Output<string>;

    constructor(name: string, args: AlertingArgs, opts?: pulumi.ComponentResourceOptions) {
        const spec = args.spec;
        // The routing without the endpoints: its hash rolls the pods when routes or receivers change.
        const placeholders = Object.fromEntries(Object.keys(args.secrets).map(k => [k, "<secret>"]));
        const configChecksum = checksum(toYaml(alertmanagerConfig(spec, placeholders)));
        const names = Object.keys(args.secrets).sort();
        const config = pulumi.secret(pulumi.all(names.map(n => args.secrets[n]))
            .apply(values => toYaml(alertmanagerConfig(spec, Object.fromEntries(names.map((n, i) => [n, values[i]]))))));

        super("platform:systems:Alerting", name, {}, opts);
        const child = { parent: this };
        const baseline = new NamespaceBaseline(spec.namespace, {
            name: spec.namespace, quota: args.quota, limits: args.limits, holdsProtectedData: args.protect,
        }, child);
        this.namespace = baseline.name;
        this.alertmanager = new Alertmanager(ALERTMANAGER_NAME, {
            namespace: this.namespace,
            namespaceName: spec.namespace,
            partOf: ALERTING_PART_OF,
            image: spec.image,
            resources: spec.resources,
            replicas: spec.replicas,
            storage: spec.storage,
            config,
            configChecksum,
            clients: args.clients,
            receiverEgress: receiverEgress(spec),
            protect: args.protect,
        }, child);
        this.alertmanagerUrl = this.alertmanager.url;
        this.configSecretName = this.alertmanager.configSecretName;
        this.registerOutputs({ namespace: this.namespace, alertmanagerUrl: this.alertmanagerUrl, configSecretName: this.configSecretName });
    }
}
