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
import { SecureIngress } from "../../edge/ingress";
import { ReleaseRecord } from "../../restapi/release";
import { RestApi } from "../../restapi/restapi";
import { planRestApiSystem } from "./plan";
import { RestApiSystemArgs } from "./spec";

export * from "./spec";
export * from "./plan";

export class RestApiSystem extends pulumi.ComponentResource {
    public readonly restapi: RestApi;
    public readonly viewUrl: pulumi.Output<string>;
    /** The idle colour's view (blue/green), for previewing a release; undefined without blue/green. */
    public readonly previewUrl: pulumi.Output<string | undefined>;
    /** https://<host>/ of the view; undefined without ingress. */
    public readonly publicUrl: pulumi.Output<string | undefined>;
    /** https://<previewHost>/ of the idle colour's view; undefined without ingress or blue/green. */
    public readonly publicPreviewUrl: pulumi.Output<string | undefined>;
    /** What is live, for the next update's release gate. */
    public readonly release: pulumi.Output<ReleaseRecord>;
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
        // The Services they route to belong to the RestApi: route once those are registered.
        const routes = plan.ingresses(ns).map(r => ({ role: r.role, ingress: new SecureIngress(r.name, r.args, { parent: this, dependsOn: [this.restapi] }) }));
        const urlOf = (role: "view" | "preview") => routes.find(r => r.role === role)?.ingress.url ?? pulumi.output(undefined);
        this.publicUrl = urlOf("view");
        this.publicPreviewUrl = urlOf("preview");

        this.viewUrl = this.restapi.viewUrl;
        this.previewUrl = this.restapi.previewUrl;
        this.release = this.restapi.release;
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
        this.registerOutputs({ viewUrl: this.viewUrl, previewUrl: this.previewUrl, activeEnvironment: this.activeEnvironment, grafanaUrl: this.grafanaUrl });
    }
}
