/**
 * A standalone PersistentVolumeClaim (a Deployment's volume, a backup's storage): the one place
 * where a claim is kept through `pulumi destroy` when its data is protected (the claim is protected
 * in the stack and retained in the cluster when its resource is deleted).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

export interface DataClaimArgs {
    /** The claim's Kubernetes name. */
    name: string;
    namespace: pulumi.Input<string>;
    labels: Record<string, string>;
    accessMode: string;
    storageClass?: pulumi.Input<string>;
    size: pulumi.Input<string>;
    /** Keep the claim (and its data) through `pulumi destroy`. */
    protect?: boolean;
}

export function dataClaim(resourceName: string, a: DataClaimArgs, opts: pulumi.CustomResourceOptions): k8s.core.v1.PersistentVolumeClaim {
    return new k8s.core.v1.PersistentVolumeClaim(resourceName, {
        metadata: { name: a.name, namespace: a.namespace, labels: a.labels },
        spec: {
            accessModes: [a.accessMode],
            storageClassName: a.storageClass,
            resources: { requests: { storage: a.size } },
        },
    }, { ...opts, protect: a.protect, retainOnDelete: a.protect });
}
