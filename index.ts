/**
 * k8s-platform: read and validate the stack config (nothing is registered if it is invalid), check
 * that the cluster has what the config needs (cert-manager, Istio, metrics-server, the IngressClass
 * and ClusterIssuers the Ingresses name: one error naming everything missing, before anything registers), check a blue/green switch against what is live
 * (components/restapi/release.ts: refused before anything registers), build the systems the config
 * enables, export their endpoints and secret names.
 */
import { requirePrerequisites } from "./components/k8s/prerequisites";
import { gateColourSwitch } from "./components/restapi/release";
import { loadPlatformConfig, PROJECT } from "./config";
import { createPlatform, objectNeeds, prerequisiteNeeds } from "./platform";

export = async () => {
    const config = loadPlatformConfig();
    await requirePrerequisites(prerequisiteNeeds(config), `${PROJECT}:skipPrerequisites`, undefined,
        { objects: objectNeeds(config), ingressNamespace: config.ingressNamespace });
    if (config.restapi.enabled) {
        await gateColourSwitch(`${PROJECT}:restapi.blueGreen.activeEnvironment`, config.restapi.name, config.restapi.namespace, config.restapi.spec);
    }
    const platform = createPlatform(config);
    return {
        environment: config.environment,
        restapi: platform.restapi,
        restapiRelease: platform.restapiRelease,
        databases: platform.databases,
        cstore: platform.cstore,
        outbox: platform.outbox,
        greenfield: platform.greenfield,
        alerting: platform.alerting,
    };
};
