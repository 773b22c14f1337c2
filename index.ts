/**
 * k8s-platform: read and validate the stack config (nothing is registered if it is invalid), check
 * that the cluster has what the config needs (cert-manager, Istio, metrics-server: one error naming
 * everything missing, before anything registers), build the systems it enables, export their
 * endpoints and secret names.
 */
import { loadPlatformConfig } from "./config";
import { requirePrerequisites } from "./components/k8s/prerequisites";
import { createPlatform, prerequisiteNeeds } from "./platform";

export = async () => {
    const config = loadPlatformConfig();
    await requirePrerequisites(prerequisiteNeeds(config), "k8s-platform:skipPrerequisites");
    const platform = createPlatform(config);
    return {
        environment: config.environment,
        restapi: platform.restapi,
        databases: platform.databases,
        cstore: platform.cstore,
        outbox: platform.outbox,
        greenfield: platform.greenfield,
    };
};
