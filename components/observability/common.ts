/**
 * What the observability components share: their identities (app and component labels the policy
 * pack's traffic plan recognises), peers computed from names (so components can be wired before
 * they exist), and the validation of the formats the tools accept (Prometheus durations, CIDRs).
 */
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { AppIdentity, OBSERVABILITY_ROLES, PART_OF, selectorLabels } from "../k8s/labels";
import { Peer, PortSpec, TrafficRule } from "../k8s/traffic";

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

export interface StorageArgs {
    size: string;
    storageClass?: pulumi.Input<string>;
}

