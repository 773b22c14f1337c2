/**
 * Configuration objects that pods consume (env, mounted files).
 *
 * Pulumi.yaml makes ConfigMaps and Secrets mutable (a by-hand edit is repaired in place), so a
 * change of data alone would never restart the pods that read it. So:
 * - a ConfigMap is named after its content (`<logical name>-<hash>`, as kustomize does): a change
 *   is a new object, created first; the pods referencing it roll onto the new name, then the old
 *   one goes. The name is deterministic, so a retried or re-rendered up produces the same object
 *   (an up killed mid-way leaves nothing the next up would not adopt), and rendered manifests are stable;
 * - a Secret is auto-named by the provider (random suffix) and updated in place: a hash of secret
 *   values in a name would fingerprint them, so pods see a changed secret value on their next start.
 *   (An up killed after creating one leaves it unrecorded under a random name: `npm run recover`
 *   imports it; scripts/lib/pending-imports.ts.)
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { OWNED_ANNOTATIONS } from "./metadata";

export interface RollingConfigArgs {
    namespace: pulumi.Input<string>;
    labels: Record<string, string>;
    data: Record<string, pulumi.Input<string>>;
}

/** `<name>-<first 10 hex of sha256 over the sorted key/value pairs>`. */
export function contentName(name: string, data: Record<string, string>): string {
    const canonical = JSON.stringify(Object.keys(data).sort().map(k => [k, data[k]]));
    return `${name}-${createHash("sha256").update(canonical).digest("hex").slice(0, 10)}`;
}

export function rollingConfigMap(name: string, args: RollingConfigArgs, opts: pulumi.CustomResourceOptions): k8s.core.v1.ConfigMap {
    const data = pulumi.output(args.data) as pulumi.Output<Record<string, string>>;
    return new k8s.core.v1.ConfigMap(name, {
        metadata: { name: data.apply(d => contentName(name, d)), namespace: args.namespace, labels: args.labels, annotations: OWNED_ANNOTATIONS },
        data: args.data,
    }, opts);
}

/** Secret values never reach state or outputs in plaintext: data and stringData are secret. */
export function rollingSecret(name: string, args: RollingConfigArgs, opts: pulumi.CustomResourceOptions): k8s.core.v1.Secret {
    return new k8s.core.v1.Secret(name, {
        metadata: { namespace: args.namespace, labels: args.labels, annotations: OWNED_ANNOTATIONS },
        type: "Opaque",
        stringData: pulumi.secret(args.data),
    }, { ...opts, additionalSecretOutputs: ["data", "stringData"] });
}
