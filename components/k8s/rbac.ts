/**
 * Deployer identities: the operators' RBAC from the designs, as a namespaced ServiceAccount +
 * Role + RoleBinding that CI can use. The rules are data so tests and the policy pack can compare
 * them with the designs verb for verb.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { OWNED_ANNOTATIONS } from "./metadata";

export const CRUD = ["get", "list", "watch", "create", "update", "patch", "delete"];
export const READ = ["get", "list", "watch"];

/** Label that marks a Role as a deployer role; the policy pack checks its rules against the design. */
export const DEPLOYER_LABEL = "platform.io/deployer";

export interface PolicyRule {
    apiGroups: string[];
    resources: string[];
    verbs: string[];
}

export interface DeployerIdentityArgs {
    namespace: pulumi.Input<string>;
    /** Which design the role mirrors: "restapi" or "database". */
    design: string;
    rules: PolicyRule[];
    partOf: string;
}

export class DeployerIdentity extends pulumi.ComponentResource {
    public readonly serviceAccountName: pulumi.Output<string>;
    public readonly roleName: pulumi.Output<string>;

    constructor(name: string, args: DeployerIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:k8s:DeployerIdentity", name, {}, opts);
        const labels = {
            "app.kubernetes.io/name": "deployer",
            "app.kubernetes.io/instance": name,
            "app.kubernetes.io/component": "deployer",
            "app.kubernetes.io/part-of": args.partOf,
            "app.kubernetes.io/managed-by": "pulumi",
            [DEPLOYER_LABEL]: args.design,
        };
        const metadata = { name, namespace: args.namespace, labels, annotations: OWNED_ANNOTATIONS };
        const child = { parent: this };
        // The deployer authenticates with a projected or requested token, never an automounted one.
        const sa = new k8s.core.v1.ServiceAccount(`${name}-sa`, { metadata, automountServiceAccountToken: false }, child);
        const role = new k8s.rbac.v1.Role(`${name}-role`, { metadata, rules: args.rules }, child);
        new k8s.rbac.v1.RoleBinding(`${name}-binding`, {
            metadata,
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
            subjects: [{ kind: "ServiceAccount", name: sa.metadata.name, namespace: args.namespace }],
        }, child);
        this.serviceAccountName = sa.metadata.name;
        this.roleName = role.metadata.name;
        this.registerOutputs({ serviceAccountName: this.serviceAccountName, roleName: this.roleName });
    }
}
