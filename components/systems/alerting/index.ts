/**
 * Alerting: the stack's Alertmanager in its own namespace (baseline: default deny, DNS, quota,
 * LimitRange), fed by every system's Prometheus and delivering to the receivers of
 * `k8s-platform:alerting` (resolved once: resolveAlertingSpec; the children's args: plan.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { LimitRangeSpec, NamespaceBaseline, QuotaSpec } from "../../k8s/namespace";
import { Peer } from "../../k8s/traffic";
import { Alertmanager } from "../../observability/alertmanager";
import { planAlerting } from "./plan";
import { ALERTMANAGER_NAME, AlertingSpec } from "./spec";

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
        const plan = planAlerting(args.spec, args, args.secrets, args.clients, args.protect);
        const child = { parent: this };
        this.namespace = new NamespaceBaseline(args.spec.namespace, plan.baseline, child).name;
        this.alertmanager = new Alertmanager(ALERTMANAGER_NAME, plan.alertmanager(this.namespace), child);
        this.alertmanagerUrl = this.alertmanager.url;
        this.configSecretName = this.alertmanager.configSecretName;
        this.registerOutputs({ namespace: this.namespace, alertmanagerUrl: this.alertmanagerUrl, configSecretName: this.configSecretName });
    }
}
