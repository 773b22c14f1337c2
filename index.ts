/**
 * k8s-platform: read and validate the stack config (nothing is registered if it is invalid),
 * build the systems it enables, export their endpoints and secret names.
 */
import { loadPlatformConfig } from "./config";
import { createPlatform } from "./platform";

const config = loadPlatformConfig();
const platform = createPlatform(config);

export const environment = config.environment;
export const restapi = platform.restapi;
export const databases = platform.databases;
export const cstore = platform.cstore;
export const outbox = platform.outbox;
export const greenfield = platform.greenfield;
export const alerting = platform.alerting;
