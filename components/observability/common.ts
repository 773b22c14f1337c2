/**
 * What the observability components share: their identities (app and component labels the policy
 * pack's traffic plan recognises), peers computed from names (so components can be wired before
 * they exist), and the validation of the formats the tools accept (Prometheus durations, CIDRs).
 */
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { ResourceSpec, validateResources } from "../k8s/container";
import { AppIdentity, OBSERVABILITY_ROLES, PART_OF, selectorLabels } from "../k8s/labels";
import { Peer, PortSpec, TrafficRule } from "../k8s/traffic";
import { requireDistinctPorts, requireNonEmptyString, requirePinnedImage, requireQuantity, ValidationError } from "../k8s/validation";

/** The roles of the stack: app.kubernetes.io/name and app.kubernetes.io/component of each workload. */
export type ObservabilityApp = typeof OBSERVABILITY_ROLES[keyof typeof OBSERVABILITY_ROLES];

/** System label when none is given. */
export const DEFAULT_PART_OF = PART_OF.observability;

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

/** Short content hash for a pod annotation, so a changed config rolls the pods. */
export function checksum(text: string): string {
    return crypto.createHash("sha256").update(text).digest("hex").substring(0, 16);
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
