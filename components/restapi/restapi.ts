/**
 * RestApi: the RestAPI operator of restapi-operator.md, Pulumi-native. One Deployment + Service
 * per MVC+R part (per colour when blue/green is on: each colour a complete environment whose parts
 * call only each other, stable Services on the active colour, `-preview` Services on the idle one),
 * an HPA per Deployment, env from a ConfigMap and a Secret, network policies that follow the
 * design's data flow, and the deployer RBAC. The switch between colours is gated in ./release.ts.
 * Outputs mirror the CRD status: activeEnvironment, lastDeploymentTime, replicas, readyReplicas.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { rollingConfigMap, rollingSecret } from "../k8s/config";
import { COLOR_LABEL, standardLabels } from "../k8s/labels";
import { CRUD, DeployerIdentity, PolicyRule, READ } from "../k8s/rbac";
import { combinedPhase, componentConditions, Phase, WorkloadCondition } from "../k8s/status";
import { Peer, PortSpec, TrafficPlan } from "../k8s/traffic";
import { Workload } from "../k8s/workload";
import {
    partIdentity, partService, PartsContext, partsTraffic, partWorkload, restApiPartPeer, restApiWorkloadName,
} from "./parts";
import { ReleaseRecord } from "./release";
import { Color, REPOSITORY_STORAGE_DEFAULT, REST_PARTS, RestApiSpec, RestPart, resolvePart } from "./spec";
import { dataClaim } from "../k8s/claim";

/** API group of the RestAPI CRD that the deployer role mirrors. */
export const RESTAPI_GROUP = "restapi-operator.io";

/** The operator's RBAC from restapi-operator.md: CRUD on its objects, secrets read-only. */
export const RESTAPI_DEPLOYER_RULES: PolicyRule[] = [
    { apiGroups: [RESTAPI_GROUP], resources: ["restapis"], verbs: CRUD },
    { apiGroups: ["apps"], resources: ["deployments"], verbs: CRUD },
    { apiGroups: [""], resources: ["services", "configmaps"], verbs: CRUD },
    { apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers"], verbs: CRUD },
    { apiGroups: [""], resources: ["secrets"], verbs: READ },
];

export interface Backend {
    /** What the repository talks to (a database's peer) and on which ports. */
    peer: Peer;
    ports: PortSpec[];
}

export interface RestApiArgs extends RestApiSpec {
    namespace: pulumi.Input<string>;
    /** Values that must stay secret (passwords, tokens): they go to a Secret, never a ConfigMap. */
    secretEnvVars?: Record<string, pulumi.Input<string>>;
    /** Keep the repository's claim through `pulumi destroy` (protected, retained on delete). */
    protect?: boolean;
    /** Who may call the view from outside the system (e.g. the ingress controller). */
    externalAccess?: Peer[];
    /** Who scrapes /metrics (e.g. Prometheus). */
    metricsScrapers?: Peer[];
    /** Data stores the repository may reach. */
    backends?: Backend[];
    /** Where every part sends OTLP traces and metrics (the OpenTelemetry collector). */
    telemetry?: { peer: Peer; otlpEndpoint: pulumi.Input<string>; ports: PortSpec[] };
    partOf?: string;
    /** Create the namespaced deployer identity from the design (default true). */
    deployer?: boolean;
}

export { restApiPartPeer };

export class RestApi extends pulumi.ComponentResource {
    public readonly activeEnvironment: pulumi.Output<Color>;
    public readonly lastDeploymentTime: pulumi.Output<string>;
    /** Desired replicas of the active environment, all parts. */
    public readonly replicas: pulumi.Output<number>;
    public readonly readyReplicas: pulumi.Output<number>;
    /** Pending/Creating/Ready/Failed from the active Deployments' status (Failed: a failure condition of any). */
    public readonly phase: pulumi.Output<Phase>;
    /** Ready (True/False, reason, message), then each active Deployment's own conditions. */
    public readonly conditions: pulumi.Output<WorkloadCondition[]>;
    /** Stable Service name per part. */
    public readonly serviceNames: Record<RestPart, pulumi.Output<string>>;
    /** In-cluster URL of the view, the only externally reachable part. */
    public readonly viewUrl: pulumi.Output<string>;
    /**
     * What is live, for the release gate of the next update (stack output `restapiRelease`): the
     * colour the stable Services select as the API server accepted them.
     */
    public readonly release: pulumi.Output<ReleaseRecord>;
    /** In-cluster URL of the idle colour's view (`<name>-view-preview`); undefined without blue/green. */
    public readonly previewUrl: pulumi.Output<string | undefined>;
    public readonly deployerServiceAccount?: pulumi.Output<string>;
    public readonly configMapName: pulumi.Output<string>;
    /** The Secret of secretEnvVars; undefined when there are none. */
    public readonly secretName: pulumi.Output<string | undefined>;
    /** Traffic plan of this RestAPI, for docs and tests. */
    public readonly trafficPlan: TrafficPlan;
    /** Pods of each part (both colours) as traffic peers. */
    public readonly peers: Record<RestPart, Peer>;

    constructor(name: string, args: RestApiArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:restapi:RestApi", name, {}, opts);
        // The spec was validated once, where it entered (the stack config, validateRestApiSpec).
        const spec: RestApiSpec = args;
        const partOf = args.partOf ?? "restapi";
        const child = { parent: this };
        const blueGreen = spec.blueGreen?.enabled ?? false;
        const active: Color = spec.blueGreen?.activeEnvironment ?? "blue";
        const colors: (Color | undefined)[] = blueGreen ? ["blue", "green"] : [undefined];
        const parts = REST_PARTS.map(p => resolvePart(spec, p));
        const c: PartsContext = { name, namespace: args.namespace, partOf, parts, colors };
        const commonLabels = standardLabels({ name, app: "restapi", component: "restapi", partOf });

        // Env: plain values in a ConfigMap, secret values in a Secret; parts find each other by Service name.
        const discovery: Record<string, string> = {};
        parts.forEach(p => { discovery[`${p.part.toUpperCase()}_URL`] = `http://${name}-${p.part}:${p.port}`; });
        const telemetryEnv: Record<string, pulumi.Input<string>> = args.telemetry
            ? { OTEL_EXPORTER_OTLP_ENDPOINT: args.telemetry.otlpEndpoint, OTEL_SERVICE_NAME: name } : {};
        // Auto-named: a changed value rolls the four parts instead of replacing them.
        const cm = rollingConfigMap(`${name}-env`, {
            namespace: args.namespace, labels: commonLabels, data: { ...discovery, ...telemetryEnv, ...(spec.envVars ?? {}) },
        }, child);
        // An empty Secret would read back without stringData and be replaced on every update.
        const secret = Object.keys(args.secretEnvVars ?? {}).length === 0 ? undefined
            : rollingSecret(`${name}-env`, { namespace: args.namespace, labels: commonLabels, data: args.secretEnvVars! }, child);
        this.configMapName = cm.metadata.name;
        this.secretName = secret ? secret.metadata.name : pulumi.output(undefined);

        this.peers = {} as Record<RestPart, Peer>;
        parts.forEach(p => { this.peers[p.part] = restApiPartPeer(name, p.part, args.namespace, partOf); });
        const plan = partsTraffic(c, args);
        this.trafficPlan = plan;

        const repoStorage = { ...REPOSITORY_STORAGE_DEFAULT, ...(spec.repository?.storage ?? {}) };
        const repoPvc = dataClaim(`${name}-repository-data`, {
            name: `${name}-repository-data`, namespace: args.namespace, labels: standardLabels(partIdentity(c, "repository")),
            accessMode: repoStorage.accessMode, storageClass: repoStorage.storageClass, size: repoStorage.size, protect: args.protect,
        }, child);

        const refs = { configMap: cm.metadata.name, secret: secret?.metadata.name, repositoryClaim: repoPvc.metadata.name };
        const workloads = parts.flatMap(p => colors.map(color => ({
            color, workload: new Workload(restApiWorkloadName(name, p.part, color), partWorkload(c, spec, p, color, refs, plan), child),
        })));

        // Stable Services select the active colour; preview Services the other one. Switching
        // colour changes only these selectors: no Deployment is replaced.
        const idle: Color = active === "blue" ? "green" : "blue";
        this.serviceNames = {} as Record<RestPart, pulumi.Output<string>>;
        const stableServices = parts.map(p => {
            const svc = new k8s.core.v1.Service(`${name}-${p.part}`, partService(c, p, `${name}-${p.part}`, blueGreen ? active : undefined), child);
            this.serviceNames[p.part] = svc.metadata.name;
            if (blueGreen) {
                new k8s.core.v1.Service(`${name}-${p.part}-preview`, partService(c, p, `${name}-${p.part}-preview`, idle), child);
            }
            return svc;
        });
        // Recorded from the Services' state: an update that failed before the selectors changed records nothing new.
        const viewIndex = parts.findIndex(p => p.part === "view");
        this.release = pulumi.all([pulumi.output(args.namespace), pulumi.all(stableServices.map(s => s.spec.selector))])
            .apply(([namespace, selectors]) => ({
                name, namespace, blueGreen,
                activeEnvironment: blueGreen ? (selectors[viewIndex]?.[COLOR_LABEL] as Color | undefined) ?? active : active,
            }));
        const viewPort = parts.find(p => p.part === "view")!.port;
        this.viewUrl = pulumi.interpolate`http://${this.serviceNames.view}.${args.namespace}.svc.cluster.local:${viewPort}`;
        this.previewUrl = blueGreen
            ? pulumi.interpolate`http://${name}-view-preview.${args.namespace}.svc.cluster.local:${viewPort}` : pulumi.output(undefined);

        if (args.deployer ?? true) {
            const deployer = new DeployerIdentity(`${name}-deployer`, {
                namespace: args.namespace, design: "restapi", rules: RESTAPI_DEPLOYER_RULES, partOf,
            }, child);
            this.deployerServiceAccount = deployer.serviceAccountName;
        }

        const activeWorkloads = workloads.filter(w => w.color === undefined || w.color === active).map(w => w.workload);
        this.activeEnvironment = pulumi.output(active);
        this.replicas = pulumi.all(activeWorkloads.map(w => w.replicas)).apply(rs => rs.reduce((a, b) => a + b, 0));
        this.readyReplicas = pulumi.all(activeWorkloads.map(w => w.readyReplicas)).apply(rs => rs.reduce<number>((a, b) => a + (b ?? 0), 0));
        const statuses = pulumi.all(activeWorkloads.map(w => w.status));
        this.phase = statuses.apply(combinedPhase);
        this.conditions = statuses.apply(st => componentConditions(st));
        // The newest rollout of the active Deployments, as the API server reports it.
        this.lastDeploymentTime = pulumi.all(activeWorkloads.map(w => w.deployment!.status)).apply(statuses => {
            const times = statuses.flatMap(s => (s?.conditions ?? [])
                .filter(c => c.type === "Progressing").map(c => c.lastUpdateTime ?? c.lastTransitionTime))
                .filter((t): t is string => !!t).sort();
            return times.length ? times[times.length - 1] : "pending";
        });

        this.registerOutputs({
            activeEnvironment: this.activeEnvironment,
            lastDeploymentTime: this.lastDeploymentTime,
            replicas: this.replicas,
            readyReplicas: this.readyReplicas,
            phase: this.phase,
            conditions: this.conditions,
            viewUrl: this.viewUrl,
            previewUrl: this.previewUrl,
            release: this.release,
        });
    }
}
