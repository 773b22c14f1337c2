/**
 * Configuration objects that pods consume (env, mounted files).
 *
 * They are auto-named (`<logical name>-<suffix>`): the provider replaces a ConfigMap or Secret whose
 * data changes, and with a generated name the replacement is created first, the pods that reference
 * it roll onto the new name, and only then is the old object deleted. A fixed name would force
 * delete-before-replace: a window without the object, and every workload referencing it replaced.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

export interface RollingConfigArgs {
    namespace: pulumi.Input<string>;
    labels: Record<string, string>;
    data: Record<string, pulumi.Input<string>>;
}

export function rollingConfigMap(name: string, args: RollingConfigArgs, opts: pulumi.CustomResourceOptions): k8s.core.v1.ConfigMap {
    return new k8s.core.v1.ConfigMap(name, {
        metadata: { namespace: args.namespace, labels: args.labels },
        data: args.data,
    }, opts);
}

/** Secret values never reach state or outputs in plaintext: data and stringData are secret outputs. */
export function rollingSecret(name: string, args: RollingConfigArgs, opts: pulumi.CustomResourceOptions): k8s.core.v1.Secret {
    return new k8s.core.v1.Secret(name, {
        metadata: { namespace: args.namespace, labels: args.labels },
        type: "Opaque",
        stringData: pulumi.secret(args.data),
    }, { ...opts, additionalSecretOutputs: ["data", "stringData"] });
}
