/**
 * Composition: the systems the stack config turns on, wired through their outputs. index.ts only
 * loads the config, calls this and exports what it returns.
 */
import * as pulumi from "@pulumi/pulumi";
import { PlatformConfig } from "../config";
import { ENGINES } from "./database/engines";
import { restApiPartPeer } from "./restapi/restapi";
import { DatabaseService, DatabaseStatus } from "./systems/database-service";
import { RESTAPI_PART_OF, RestApiSystem } from "./systems/restapi-system";

export interface PlatformOutputs {
    restapi?: {
        viewUrl: pulumi.Output<string>;
        activeEnvironment: pulumi.Output<string>;
        lastDeploymentTime: pulumi.Output<string>;
        replicas: pulumi.Output<number>;
        deployerServiceAccount?: pulumi.Output<string>;
        envSecretName: pulumi.Output<string>;
        grafanaUrl?: pulumi.Output<string>;
        grafanaAdminSecretName?: pulumi.Output<string>;
        prometheusUrl?: pulumi.Output<string>;
        jaegerQueryUrl?: pulumi.Output<string>;
    };
    databases?: {
        namespace: pulumi.Output<string>;
        deployerServiceAccount: pulumi.Output<string>;
        instances: Record<string, DatabaseStatus>;
    };
}

export function createPlatform(cfg: PlatformConfig): PlatformOutputs {
    const outputs: PlatformOutputs = {};

    // Databases first: the RestAPI repository is their client, and its peer is known up front.
    let dbs: DatabaseService | undefined;
    if (cfg.databases.enabled) {
        dbs = new DatabaseService("database-service", {
            namespace: cfg.databases.namespace,
            quota: cfg.quota,
            limits: cfg.limits,
            instances: cfg.databases.instances,
            clients: cfg.restapi.enabled
                ? [restApiPartPeer(cfg.restapi.name, "repository", cfg.restapi.namespace, RESTAPI_PART_OF)] : [],
            backups: cfg.databases.backups,
            storageClass: cfg.storageClass,
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
            backends: cfg.databases.instances.map(({ name, spec }) => ({
                peer: dbs!.peers[name], ports: [{ port: ENGINES[spec.type].clientPort }],
            })),
            protect: cfg.protectData,
        });
        outputs.restapi = {
            viewUrl: system.viewUrl,
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
    }
    return outputs;
}
