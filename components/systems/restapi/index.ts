/**
 * RestApiSystem: the RestAPI operator system of restapi-operator.md. A RestApi (all four MVC+R
 * parts, HPAs, blue/green, deployer RBAC, network policies) and the design's observability stack:
 * Prometheus scrapes every part's /metrics, the parts send traces to the OpenTelemetry collector
 * -> Jaeger, Grafana shows both.
 */
import * as pulumi from "@pulumi/pulumi";
import { NamespaceBaseline } from "../../k8s/namespace";
import { Peer } from "../../k8s/traffic";
import { ObservabilityStack } from "../../observability/stack";
import { RestApi } from "../../restapi/restapi";
import { planRestApiSystem } from "./plan";
import { RestApiSystemArgs } from "./spec";

export * from "./spec";
export * from "./plan";

export class RestApiSystem extends pulumi.ComponentResource {
    public readonly restapi: RestApi;
    public readonly viewUrl: pulumi.Output<string>;
    public readonly activeEnvironment: pulumi.Output<string>;
    public readonly lastDeploymentTime: pulumi.Output<string>;
    public readonly replicas: pulumi.Output<number>;
    public readonly deployerServiceAccount?: pulumi.Output<string>;
    public readonly envSecretName: pulumi.Output<string | undefined>;
    public readonly grafanaUrl?: pulumi.Output<string>;
    public readonly grafanaAdminSecretName?: pulumi.Output<string>;
    public readonly prometheusUrl?: pulumi.Output<string>;
    public readonly jaegerQueryUrl?: pulumi.Output<string>;
    /** The observability stack's Prometheus pods (the Alertmanager's client); none without one. */
    public readonly prometheusPeer?: Peer;

    constructor(name: string, args: RestApiSystemArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:systems:RestApiSystem", name, {}, opts);
        const child = { parent: this };
        const plan = planRestApiSystem(args);
        const ns = new NamespaceBaseline(plan.baseline.name, plan.baseline, child).name;
        let obs: ObservabilityStack | undefined;
        if (plan.monitoringBaseline && plan.observability) {
            const monitoring = new NamespaceBaseline(plan.monitoringBaseline.name, plan.monitoringBaseline, child).name;
            obs = new ObservabilityStack(plan.obsName, { ...plan.observability(monitoring, ns), alertmanager: args.alertmanager }, child);
        }
        this.restapi = new RestApi(args.name, plan.restapi(ns, obs), child);

        this.viewUrl = this.restapi.viewUrl;
        this.activeEnvironment = this.restapi.activeEnvironment;
        this.lastDeploymentTime = this.restapi.lastDeploymentTime;
        this.replicas = this.restapi.replicas;
        this.deployerServiceAccount = this.restapi.deployerServiceAccount;
        this.envSecretName = this.restapi.secretName;
        this.grafanaUrl = obs?.grafanaUrl;
        this.grafanaAdminSecretName = obs?.grafanaAdminSecretName;
        this.prometheusUrl = obs?.prometheusUrl;
        this.jaegerQueryUrl = obs?.jaegerQueryUrl;
        this.prometheusPeer = obs?.prometheusPeer;
        this.registerOutputs({ viewUrl: this.viewUrl, activeEnvironment: this.activeEnvironment, grafanaUrl: this.grafanaUrl });
    }
}
