/**
 * What the observability components share: their identities (app and component labels the policy
 * pack's traffic plan recognises), peers computed from names (so components can be wired before
 * they exist), and the validation of the formats the tools accept (Prometheus durations, CIDRs).
 */
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { ResourceSpec, validateResources } from "../k8s/container";
import { AppIdentity, selectorLabels } from "../k8s/labels";
import { Peer, PortSpec, TrafficRule } from "../k8s/traffic";
import { requireDistinctPorts, requireIntInRange, requireNonEmptyString, requirePinnedImage, requireQuantity, ValidationError } from "../k8s/validation";

/** The roles of the stack: app.kubernetes.io/name and app.kubernetes.io/component of each workload. */
export type ObservabilityApp = "otel-collector" | "jaeger" | "prometheus" | "grafana" | "redis-exporter";

/** System label when none is given. */
export const DEFAULT_PART_OF = "observability";

export function identity(name: string, app: ObservabilityApp, partOf: string | undefined, version: string): AppIdentity {
    return { name, app, component: app, partOf: partOf ?? DEFAULT_PART_OF, version };
}

/** The pods of an observability workload named `name`, as a traffic peer (known before it exists). */
export function observabilityPeer(name: string, namespace: pulumi.Input<string>, partOf?: string): Peer {
    return { kind: "pods", namespace, selector: selectorLabels({ name, component: "", partOf: partOf ?? DEFAULT_PART_OF }) };
}

export function rules(peers: Peer[] | undefined, ports: PortSpec[]): TrafficRule[] {
    return (peers ?? []).map(peer => ({ peer, ports }));
}

/** Tag of an image reference ("prom/prometheus:v2.54.1" -> "v2.54.1"), for the version label. */
export function imageTag(image: string): string {
    const last = image.substring(image.lastIndexOf("/") + 1);
    const at = last.indexOf("@");
    if (at >= 0) {
        return last.substring(at + 1).replace("sha256:", "").substring(0, 12);
    }
    return last.substring(last.indexOf(":") + 1);
}

/** Short content hash for a pod annotation, so a changed config rolls the pods. */
export function checksum(text: string): string {
    return crypto.createHash("sha256").update(text).digest("hex").substring(0, 16);
}

const DURATION = /^([0-9]+(ms|s|m|h|d|w|y))+$/;
const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };

/** Seconds of a Prometheus duration ("1h30m" -> 5400), or undefined when it is not one. */
export function durationSeconds(text: string): number | undefined {
    if (!DURATION.test(text)) {
        return undefined;
    }
    let total = 0;
    for (const m of text.matchAll(/([0-9]+)(ms|s|m|h|d|w|y)/g)) {
        total += Number(m[1]) * UNIT_SECONDS[m[2]];
    }
    return total;
}

/** A Prometheus duration such as 15s, 5m or 30d, between min and max seconds. */
export function requireDuration(key: string, value: unknown, example: string, minSeconds = 0.001, maxSeconds = 10 * 31536000): string {
    const seconds = typeof value === "string" ? durationSeconds(value) : undefined;
    if (seconds === undefined || seconds < minSeconds || seconds > maxSeconds) {
        throw new ValidationError(key,
            `${JSON.stringify(value)} is not allowed; allowed: a Prometheus duration such as ${example} ` +
            `(units ms, s, m, h, d, w, y) from ${minSeconds}s to ${maxSeconds}s`);
    }
    return value as string;
}

const IPV4_CIDR = /^(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}\/([0-9]|[12][0-9]|3[0-2])$/;

/** An IPv4 CIDR narrower than the whole Internet (0.0.0.0/0 is never a peer). */
export function requireCidr(key: string, value: unknown): string {
    if (typeof value !== "string" || !IPV4_CIDR.test(value) || value.endsWith("/0")) {
        throw new ValidationError(key, `${JSON.stringify(value)} is not allowed; allowed: an IPv4 CIDR such as 10.0.0.1/32 (not /0)`);
    }
    return value;
}

export function requirePort(key: string, value: unknown): number {
    return requireIntInRange(key, value, 1, 65535);
}

/** Image, resources and ports shared by every component's args. */
export function validateCommon(key: string, args: { image?: string; resources?: ResourceSpec }, ports: Record<string, number>): void {
    if (args.image !== undefined) {
        requirePinnedImage(`${key}.image`, args.image);
    }
    if (args.resources !== undefined) {
        validateResources(`${key}.resources`, args.resources);
    }
    requireDistinctPorts(`${key}.ports`, Object.entries(ports).map(([name, port]) => ({ name, port })));
}

export interface StorageArgs {
    size: string;
    storageClass?: pulumi.Input<string>;
}

export function validateStorage(key: string, s: StorageArgs | undefined): StorageArgs {
    if (!s || typeof s !== "object") {
        throw new ValidationError(key, `${JSON.stringify(s)} is not allowed; allowed: { size: e.g. 20Gi, storageClass?: string }`);
    }
    requireQuantity(`${key}.size`, s.size, "storage");
    if (s.storageClass !== undefined && typeof s.storageClass === "string") {
        requireNonEmptyString(`${key}.storageClass`, s.storageClass);
    }
    return s;
}

export function validatePeers(key: string, peers: unknown): void {
    if (peers !== undefined && !Array.isArray(peers)) {
        throw new ValidationError(key, `${JSON.stringify(peers)} is not allowed; allowed: a list of peers`);
    }
}
