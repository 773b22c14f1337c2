/**
 * Composition: the systems the stack config turns on, wired through their outputs. index.ts only
 * loads the config, calls this and exports what it returns.
 */
import * as pulumi from "@pulumi/pulumi";
import { PlatformConfig } from "../config";
import { Database, DATABASE_DEPLOYER_RULES } from "./database/database";
import { DeployerIdentity } from "./k8s/rbac";
import { NamespaceBaseline } from "./k8s/namespace";
import { Peer } from "./k8s/traffic";
import { ENGINES } from "./database/engines";
import { RestApi, restApiPartPeer } from "./restapi/restapi";

export interface DatabaseOutputs {
    type: string;
    host: pulumi.Output<string>;
    port: pulumi.Output<number>;
    secretName: pulumi.Output<string>;
    connectionUrl: pulumi.Output<string>;
    phase: pulumi.Output<string>;
    replicas: pulumi.Output<number>;
}

export interface PlatformOutputs {
    namespaces: pulumi.Output<string>[];
    restapi?: {
        viewUrl: pulumi.Output<string>;
        activeEnvironment: pulumi.Output<string>;
        lastDeploymentTime: pulumi.Output<string>;
        replicas: pulumi.Output<number>;
        deployerServiceAccount?: pulumi.Output<string>;
        secretName: pulumi.Output<string>;
    };
    databases: Record<string, DatabaseOutputs>;
    databaseDeployerServiceAccount?: pulumi.Output<string>;
}

export function createPlatform(cfg: PlatformConfig): PlatformOutputs {
    const baselines = new Map<string, NamespaceBaseline>();
    const namespace = (name: string): pulumi.Output<string> => {
        if (!baselines.has(name)) {
            baselines.set(name, new NamespaceBaseline(name, { name, quota: cfg.quota, limits: cfg.limits }));
        }
        return baselines.get(name)!.name;
    };
    const ingressController: Peer = { kind: "namespace", namespace: cfg.ingressNamespace };
    const prometheus: Peer = { kind: "namespace", namespace: cfg.monitoringNamespace, podSelector: { "app.kubernetes.io/name": "prometheus" } };
    const outputs: PlatformOutputs = { namespaces: [], databases: {} };

    // Databases first: the RestAPI repository is their only client, and its peer is known up front.
    const dbs: Database[] = [];
    if (cfg.databases.enabled) {
        const ns = namespace(cfg.databases.namespace);
        const clients = cfg.restapi.enabled
            ? [restApiPartPeer(cfg.restapi.name, "repository", cfg.restapi.namespace)] : [];
        const deployer = new DeployerIdentity(`${cfg.databases.namespace}-deployer`, {
            namespace: ns, design: "database", rules: DATABASE_DEPLOYER_RULES, partOf: "database-service",
        });
        outputs.databaseDeployerServiceAccount = deployer.serviceAccountName;
        for (const { name, spec } of cfg.databases.instances) {
            const db = new Database(name, { ...spec, namespace: ns, clients, protect: cfg.protectData });
            dbs.push(db);
            outputs.databases[name] = {
                type: spec.type, host: db.host, port: db.port, secretName: db.secretName,
                connectionUrl: db.connectionUrl, phase: db.phase, replicas: db.replicas,
            };
        }
    }

    if (cfg.restapi.enabled) {
        const restapi = new RestApi(cfg.restapi.name, {
            ...cfg.restapi.spec,
            namespace: namespace(cfg.restapi.namespace),
            externalAccess: [ingressController],
            metricsScrapers: [prometheus],
            backends: dbs.map(db => ({ peer: db.peer, ports: [{ port: ENGINES[db.type].clientPort }] })),
        });
        outputs.restapi = {
            viewUrl: restapi.viewUrl,
            activeEnvironment: restapi.activeEnvironment,
            lastDeploymentTime: restapi.lastDeploymentTime,
            replicas: restapi.replicas,
            deployerServiceAccount: restapi.deployerServiceAccount,
            secretName: restapi.secretName,
        };
    }
    outputs.namespaces = [...baselines.values()].map(b => b.name);
    return outputs;
}
