/**
 * Alerting: the stack's Alertmanager in its own namespace (baseline: default deny, DNS, quota,
 * LimitRange), fed by every system's Prometheus and delivering to the receivers of
 * `k8s-platform:alerting` (resolved once: resolveAlertingSpec; the children's args: plan.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { LimitRangeSpec, NamespaceBaseline, QuotaSpec } from "../../k8s/namespace";
import { Peer } from "../../k8s/traffic";
import { Alertmanager } from "../../observability/alertmanager";
import { alertmanagerConfigOf, receiverEgress } from "./plan";
import { ALERTING_PART_OF, ALERTMANAGER_NAME, AlertingSpec } from "./spec";

export * from "./spec";
export * from "./plan";

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

export class Alerting extends pulumi.ComponentResource {
    public readonly namespace: pulumi.Output<string>;
    public readonly alertmanager: Alertmanager;
    public readonly alertmanagerUrl: pulumi.Output<string>;
    public readonly configSecretName: pulumi.Output<string>;

    constructor(name: string, args: AlertingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:systems:Alerting", name, {}, opts);
        const spec = args.spec;
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
            ...alertmanagerConfigOf(spec, args.secrets),
            clients: args.clients,
            receiverEgress: receiverEgress(spec),
            protect: args.protect,
        }, child);
        this.alertmanagerUrl = this.alertmanager.url;
        this.configSecretName = this.alertmanager.configSecretName;
        this.registerOutputs({ namespace: this.namespace, alertmanagerUrl: this.alertmanagerUrl, configSecretName: this.configSecretName });
    }
}
