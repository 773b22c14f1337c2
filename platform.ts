/**
 * Composition: the systems the stack config turns on, wired through their outputs. index.ts only
 * loads the config, calls this and exports what it returns.
 */
import * as pulumi from "@pulumi/pulumi";
import { PlatformConfig } from "./config";
import { ENGINES } from "./components/database/engines";
import { ReleaseRecord } from "./components/restapi/release";
import { PriorityClasses } from "./components/k8s/profile";
import { restApiPartPeer } from "./components/restapi/restapi";
import { CStore } from "./components/systems/cstore";
import { DatabaseService, DatabaseStatus } from "./components/systems/database-service";
import { OutboxEvents } from "./components/systems/outbox";
import { GreenfieldCluster } from "./components/systems/greenfield";
import { RESTAPI_PART_OF, RestApiSystem } from "./components/systems/restapi";
import { Alerting, alertingTarget } from "./components/systems/alerting";
import { Peer } from "./components/k8s/traffic";
import {
    CERT_MANAGER, istioPrerequisite, METRICS_SERVER, OBJECT_PREREQUISITE, ObjectKind, ObjectNeed, Prerequisite, PrerequisiteNeed,
} from "./components/k8s/prerequisites";

/**
 * What the enabled systems need installed in the cluster, with the config keys that need it (less
 * `skipPrerequisites`). Pure: the start-of-run check (components/k8s/prerequisites.ts) compares it
 * with the cluster.
 */
export function prerequisiteNeeds(cfg: PlatformConfig): PrerequisiteNeed[] {
    const needs = new Map<string, PrerequisiteNeed>();
    const need = (p: Prerequisite, key: string) => {
        if (!needs.has(p.name)) {
            needs.set(p.name, { prerequisite: p, neededBy: [] });
        }
        needs.get(p.name)!.neededBy.push(`k8s-platform:${key}`);
    };
    // TLS of every Ingress host (cert-manager's ingress-shim) and the certificates the program declares.
    if (cfg.cstore) {
        need(CERT_MANAGER, "cstore.clusterIssuer");
    }
    if (cfg.greenfield && !cfg.greenfield.mesh) {
        need(CERT_MANAGER, "greenfield.ingress");
    }
    if (cfg.outbox) {
        need(CERT_MANAGER, "outbox.ingress");
    }
    if (cfg.restapi.enabled && cfg.restapi.ingress) {
        need(CERT_MANAGER, "restapi.ingress");
    }
    for (const { name, spec } of cfg.databases.instances) {
        if (spec.elasticsearch?.transportTls) {
            need(CERT_MANAGER, `databases.instances.${name}.elasticsearch.transportTls`);
        }
    }
    if (cfg.greenfield?.mesh) {
        need(istioPrerequisite(cfg.greenfield.mesh.apiVersion), "greenfield.mesh");
    }
    // HorizontalPodAutoscalers read CPU and memory from the metrics API.
    if (cfg.restapi.enabled) {
        need(METRICS_SERVER, "restapi");
    }
    if (cfg.cstore) {
        need(METRICS_SERVER, "cstore.api");
    }
    if (cfg.greenfield?.fastapi.autoscaling) {
        need(METRICS_SERVER, "greenfield.fastapi.autoscaling");
    }
    return [...needs.values()].filter(n => !cfg.skipPrerequisites.includes(n.prerequisite.name));
}

/**
 * The objects the enabled systems' Ingresses name, with the config keys that name them (less
 * `skipPrerequisites`): each IngressClass (undefined: the cluster's default class) and each
 * cert-manager ClusterIssuer. Pure, like prerequisiteNeeds.
 */
export function objectNeeds(cfg: PlatformConfig): ObjectNeed[] {
    const needs = new Map<string, ObjectNeed>();
    const need = (kind: ObjectKind, name: string | undefined, key: string) => {
        const id = `${kind}/${name ?? ""}`;
        if (!needs.has(id)) {
            needs.set(id, { kind, name, neededBy: [] });
        }
        needs.get(id)!.neededBy.push(`k8s-platform:${key}`);
    };
    if (cfg.cstore) {
        need("IngressClass", cfg.cstore.ingressClassName, "cstore.ingressClassName");
        need("ClusterIssuer", cfg.cstore.clusterIssuer, "cstore.clusterIssuer");
    }
    if (cfg.greenfield && !cfg.greenfield.mesh) {
        need("IngressClass", cfg.greenfield.ingress.ingressClassName, "greenfield.ingress.ingressClassName");
        need("ClusterIssuer", cfg.greenfield.ingress.clusterIssuer, "greenfield.ingress.clusterIssuer");
    }
    if (cfg.outbox) {
        need("IngressClass", cfg.outbox.ingress.ingressClassName, "outbox.ingress.ingressClassName");
        need("ClusterIssuer", cfg.outbox.ingress.clusterIssuer, "outbox.ingress.clusterIssuer");
    }
    if (cfg.restapi.enabled && cfg.restapi.ingress) {
        need("IngressClass", cfg.restapi.ingress.ingressClassName, "restapi.ingress.ingressClassName");
        need("ClusterIssuer", cfg.restapi.ingress.clusterIssuer, "restapi.ingress.clusterIssuer");
    }
    return [...needs.values()].filter(n => !cfg.skipPrerequisites.includes(OBJECT_PREREQUISITE[n.kind]));
}

export interface PlatformOutputs {
    restapi?: {
        viewUrl: pulumi.Output<string>;
        /** The idle colour's view (blue/green on). */
        previewUrl: pulumi.Output<string | undefined>;
        /** https://<host>/ and https://<previewHost>/ when `restapi.ingress` is set. */
        publicUrl: pulumi.Output<string | undefined>;
        publicPreviewUrl: pulumi.Output<string | undefined>;
        activeEnvironment: pulumi.Output<string>;
        lastDeploymentTime: pulumi.Output<string>;
        replicas: pulumi.Output<number>;
        deployerServiceAccount?: pulumi.Output<string>;
        envSecretName: pulumi.Output<string | undefined>;
        grafanaUrl?: pulumi.Output<string>;
        grafanaAdminSecretName?: pulumi.Output<string>;
        prometheusUrl?: pulumi.Output<string>;
        jaegerQueryUrl?: pulumi.Output<string>;
    };
    /** What is live after this update, read back by the next one's release gate (components/restapi/release.ts). */
    restapiRelease?: pulumi.Output<ReleaseRecord>;
    cstore?: {
        apiUrl: pulumi.Output<string>;
        cdnUrl: pulumi.Output<string>;
        grafanaUrl: pulumi.Output<string>;
        mongodbSecretName: pulumi.Output<string>;
        redisSecretName: pulumi.Output<string>;
        grafanaAdminSecretName: pulumi.Output<string>;
        grafanaBasicAuthSecretName: pulumi.Output<string>;
    };
    greenfield?: {
        fastapiUrl: pulumi.Output<string>;
        kafkaBootstrapServers: pulumi.Output<string>;
        kafkaTopicNames: pulumi.Output<string[]>;
        grafanaUrl: pulumi.Output<string>;
        grafanaAdminSecretName: pulumi.Output<string>;
        /** https URLs through the ingress (or the Istio gateway). */
        fastapiExternalUrl: pulumi.Output<string>;
        grafanaExternalUrl: pulumi.Output<string | undefined>;
        dataStoreSecretNames: pulumi.Output<Record<string, string>>;
    };
    outbox?: {
        restUrl: pulumi.Output<string>;
        grpcAddress: pulumi.Output<string>;
        kafkaBootstrapServers: pulumi.Output<string>;
        topicNames: pulumi.Output<string[]>;
        databaseSecretNames: Record<string, pulumi.Output<string>>;
        grafanaUrl: pulumi.Output<string>;
        grafanaAdminSecretName: pulumi.Output<string>;
        /** https URLs through the ingress: api (REST), grpc and grafana when opened. */
        externalUrls: pulumi.Output<Record<string, string>>;
    };
    databases?: {
        namespace: pulumi.Output<string>;
        deployerServiceAccount: pulumi.Output<string>;
        instances: Record<string, DatabaseStatus>;
    };
    alerting: {
        namespace: pulumi.Output<string>;
        alertmanagerUrl: pulumi.Output<string>;
        configSecretName: pulumi.Output<string>;
    };
}

export function createPlatform(cfg: PlatformConfig): PlatformOutputs {
    const outputs = {} as PlatformOutputs;
    // Every system's Prometheus sends its alerts to the stack's Alertmanager (created last, once
    // every Prometheus it takes alerts from is known).
    const alertmanager = alertingTarget(cfg.alerting);
    const prometheusPeers: Peer[] = [];

    // The stack's PriorityClasses (cluster-scoped, named for the project and stack): every pod of
    // every system names one by its tier (components/k8s/profile.ts). They depend on nothing, so
    // they are among the first objects created; a pod admitted before would be retried by its
    // controller.
    new PriorityClasses("priority-classes");

    // Databases first: the RestAPI repository is their client, and its peer is known up front.
    let dbs: DatabaseService | undefined;
    if (cfg.databases.enabled) {
        dbs = new DatabaseService("database-service", {
            spec: cfg.databases,
            clients: cfg.restapi.enabled
                ? [restApiPartPeer(cfg.restapi.name, "repository", cfg.restapi.namespace, RESTAPI_PART_OF)] : [],
            protect: cfg.protectData,
        });
        outputs.databases = { namespace: dbs.namespace, deployerServiceAccount: dbs.deployerServiceAccount, instances: dbs.databases };
    }

    if (cfg.restapi.enabled) {
        const system = new RestApiSystem("restapi-system", {
            namespace: cfg.restapi.namespace,
            quota: cfg.quota,
            limits: cfg.limits,
            name: cfg.restapi.name,
            spec: cfg.restapi.spec,
            ingressNamespace: cfg.ingressNamespace,
            observability: cfg.restapi.observability,
            ingress: cfg.restapi.ingress,
            backends: cfg.databases.instances.map(({ name, spec }) => ({
                peer: dbs!.peers[name], ports: [{ port: ENGINES[spec.type].clientPort }],
            })),
            protect: cfg.protectData,
            alertmanager,
        });
        if (system.prometheusPeer) {
            prometheusPeers.push(system.prometheusPeer);
        }
        outputs.restapi = {
            viewUrl: system.viewUrl,
            previewUrl: system.previewUrl,
            publicUrl: system.publicUrl,
            publicPreviewUrl: system.publicPreviewUrl,
            activeEnvironment: system.activeEnvironment,
            lastDeploymentTime: system.lastDeploymentTime,
            replicas: system.replicas,
            deployerServiceAccount: system.deployerServiceAccount,
            envSecretName: system.envSecretName,
            grafanaUrl: system.grafanaUrl,
            grafanaAdminSecretName: system.grafanaAdminSecretName,
            prometheusUrl: system.prometheusUrl,
            jaegerQueryUrl: system.jaegerQueryUrl,
        };
        outputs.restapiRelease = system.release;
    }
    if (cfg.cstore) {
        const cstore = new CStore("cstore", { spec: cfg.cstore, protect: cfg.protectData, alertmanager });
        prometheusPeers.push(cstore.prometheus.peer);
        outputs.cstore = {
            apiUrl: cstore.apiUrl, cdnUrl: cstore.cdnUrl, grafanaUrl: cstore.grafanaUrl,
            mongodbSecretName: cstore.mongodbSecretName, redisSecretName: cstore.redisSecretName,
            grafanaAdminSecretName: cstore.grafanaAdminSecretName, grafanaBasicAuthSecretName: cstore.grafanaBasicAuthSecretName,
        };
    }
    if (cfg.outbox) {
        const outbox = new OutboxEvents("outbox", { spec: cfg.outbox, alertmanager });
        prometheusPeers.push(outbox.prometheusPeer);
        outputs.outbox = {
            restUrl: outbox.restUrl, grpcAddress: outbox.grpcAddress, kafkaBootstrapServers: outbox.kafkaBootstrapServers,
            topicNames: outbox.topicNames, grafanaUrl: outbox.grafanaUrl, grafanaAdminSecretName: outbox.grafanaAdminSecretName,
            externalUrls: outbox.externalUrls,
            databaseSecretNames: Object.fromEntries(Object.entries(outbox.databases).map(([db, o]) => [db, o.secretName])),
        };
    }
    if (cfg.greenfield) {
        const gf = new GreenfieldCluster("greenfield", { spec: cfg.greenfield, alertmanager });
        prometheusPeers.push(gf.observability.prometheusPeer);
        outputs.greenfield = {
            fastapiUrl: gf.fastapiUrl, kafkaBootstrapServers: gf.kafkaBootstrapServers, kafkaTopicNames: gf.kafkaTopicNames,
            grafanaUrl: gf.grafanaUrl, grafanaAdminSecretName: gf.grafanaAdminSecretName,
            fastapiExternalUrl: gf.fastapiExternalUrl, grafanaExternalUrl: gf.grafanaExternalUrl,
            dataStoreSecretNames: gf.dataStores.apply(ds => Object.fromEntries(Object.entries(ds).map(([k, d]) => [k, d.secretName]))),
        };
    }
    const alerting = new Alerting("alerting", {
        spec: cfg.alerting,
        secrets: cfg.alertingSecrets,
        quota: cfg.quota,
        limits: cfg.limits,
        clients: prometheusPeers,
        protect: cfg.protectData,
    });
    outputs.alerting = {
        namespace: alerting.namespace, alertmanagerUrl: alerting.alertmanagerUrl, configSecretName: alerting.configSecretName,
    };
    return outputs;
}
