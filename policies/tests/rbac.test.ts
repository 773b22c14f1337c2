import { expect } from "chai";
import { UNKNOWN } from "../lib/k8s";
import {
    rbacClusterRoleAllowList,
    rbacDeployerRoles,
    rbacNoClusterAdminBinding,
    rbacNoClusterWideWrite,
    rbacNoDefaultServiceAccount,
    rbacNoEscalationVerbs,
    rbacNoPodExec,
    rbacSecretsReadOnly,
    rbacNoWildcards,
    rbacTokenAutomount,
    CRUD_VERBS,
} from "../rbac";
import { binding, DELETE, mutate, POD_SPEC_PATH, role, serviceAccount, workload, WORKLOAD_TYPES } from "./fixtures";
import { checkResource, checkStack } from "./util";

const readPods = role("Role", "reader", [{ apiGroups: [""], resources: ["pods", "configmaps"], verbs: ["get", "list", "watch"] }]);

describe("rbac-no-wildcards", () => {
    it("passes a role with explicit rules", async () => {
        expect(await checkResource(rbacNoWildcards, readPods)).to.deep.equal([]);
    });
    for (const field of ["verbs", "resources", "apiGroups"]) {
        it(`reports '*' in ${field}`, async () => {
            const bad = mutate(readPods, `props.rules.0.${field}`, ["*"]);
            expect(await checkResource(rbacNoWildcards, bad)).to.deep.equal([`Role shop/reader: rule 0 uses a wildcard in ${field}`]);
        });
    }
    it("reports wildcards in ClusterRoles too", async () => {
        const bad = role("ClusterRole", "everything", [{ apiGroups: ["*"], resources: ["pods"], verbs: ["get"] }]);
        expect(await checkResource(rbacNoWildcards, bad)).to.deep.equal(["ClusterRole everything: rule 0 uses a wildcard in apiGroups"]);
    });
    it("does not crash on unknown rule values and still reports the known wildcard", async () => {
        const bad = role("Role", "r", [{ apiGroups: [UNKNOWN], resources: ["*"], verbs: UNKNOWN }]);
        expect(await checkResource(rbacNoWildcards, bad)).to.deep.equal(["Role shop/r: rule 0 uses a wildcard in resources"]);
    });
});

describe("rbac-no-cluster-admin-binding", () => {
    const ok = binding("RoleBinding", "rb", { kind: "Role", name: "reader" }, [{ kind: "ServiceAccount", name: "api" }]);
    it("passes a binding to a plain role", async () => {
        expect(await checkResource(rbacNoClusterAdminBinding, ok)).to.deep.equal([]);
    });
    it("reports a ClusterRoleBinding to cluster-admin", async () => {
        const bad = binding("ClusterRoleBinding", "crb", { kind: "ClusterRole", name: "cluster-admin" }, []);
        expect(await checkResource(rbacNoClusterAdminBinding, bad)).to.deep.equal(['ClusterRoleBinding crb: binds the forbidden role "cluster-admin"']);
    });
    it("reports a RoleBinding to cluster-admin", async () => {
        const bad = mutate(ok, "props.roleRef", { kind: "ClusterRole", name: "cluster-admin" });
        expect(await checkResource(rbacNoClusterAdminBinding, bad)).to.have.length(1);
    });
    it("forbiddenRoles is configurable both ways", async () => {
        const editBinding = mutate(ok, "props.roleRef", { kind: "ClusterRole", name: "edit" });
        expect(await checkResource(rbacNoClusterAdminBinding, editBinding)).to.deep.equal([]);
        expect(await checkResource(rbacNoClusterAdminBinding, editBinding, { forbiddenRoles: ["cluster-admin", "edit"] })).to.deep.equal([
            'RoleBinding shop/rb: binds the forbidden role "edit"',
        ]);
    });
});

describe("rbac-no-cluster-wide-write", () => {
    const writer = role("ClusterRole", "writer", [{ apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "update"] }]);
    const reader = role("ClusterRole", "prometheus-discovery", [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] }]);
    const crb = (name: string) => binding("ClusterRoleBinding", `crb-${name}`, { kind: "ClusterRole", name }, [{ kind: "ServiceAccount", name: "x", namespace: "shop" }]);
    it("passes a cluster-wide binding of a read-only ClusterRole", async () => {
        expect(await checkStack(rbacNoClusterWideWrite, [reader, crb("prometheus-discovery")])).to.deep.equal([]);
    });
    it("reports a cluster-wide binding of a ClusterRole with write verbs", async () => {
        expect(await checkStack(rbacNoClusterWideWrite, [writer, crb("writer")])).to.deep.equal([
            'ClusterRoleBinding crb-writer grants write access cluster-wide through ClusterRole "writer"',
        ]);
    });
    it("reports built-in write roles (edit)", async () => {
        expect(await checkStack(rbacNoClusterWideWrite, [crb("edit")])).to.have.length(1);
    });
    it("passes a namespaced RoleBinding of the same ClusterRole", async () => {
        const rb = binding("RoleBinding", "rb", { kind: "ClusterRole", name: "writer" }, []);
        expect(await checkStack(rbacNoClusterWideWrite, [writer, rb])).to.deep.equal([]);
    });
    it("allow-list is configurable both ways", async () => {
        expect(await checkStack(rbacNoClusterWideWrite, [writer, crb("writer")], { allowedClusterRoles: ["writer"] })).to.deep.equal([]);
        const sealed = role("ClusterRole", "secrets-unsealer", [{ apiGroups: [""], resources: ["secrets"], verbs: ["create", "update"] }]);
        expect(await checkStack(rbacNoClusterWideWrite, [sealed, crb("secrets-unsealer")])).to.deep.equal([]);
        expect(await checkStack(rbacNoClusterWideWrite, [sealed, crb("secrets-unsealer")], { allowedClusterRoles: [] })).to.have.length(1);
    });
});

describe("rbac-no-escalation-verbs", () => {
    it("passes plain verbs", async () => {
        expect(await checkResource(rbacNoEscalationVerbs, readPods)).to.deep.equal([]);
    });
    for (const verb of ["escalate", "bind", "impersonate"]) {
        it(`reports ${verb}`, async () => {
            const bad = mutate(readPods, "props.rules.0.verbs", ["get", verb]);
            expect(await checkResource(rbacNoEscalationVerbs, bad)).to.deep.equal([`Role shop/reader: rule 0 grants the "${verb}" verb`]);
        });
    }
});

describe("rbac-no-pod-exec", () => {
    it("passes pods without subresources", async () => {
        expect(await checkResource(rbacNoPodExec, readPods)).to.deep.equal([]);
    });
    for (const sub of ["pods/exec", "pods/attach"]) {
        it(`reports ${sub}`, async () => {
            const bad = mutate(readPods, "props.rules.0.resources", ["pods", sub]);
            expect(await checkResource(rbacNoPodExec, bad)).to.deep.equal([`Role shop/reader: rule 0 grants ${sub}`]);
        });
    }
});

describe("rbac-secrets-read-only", () => {
    const secretsReader = role("Role", "sr", [{ apiGroups: [""], resources: ["secrets"], verbs: ["get", "list", "watch"] }]);
    it("passes read-only access to secrets", async () => {
        expect(await checkResource(rbacSecretsReadOnly, secretsReader)).to.deep.equal([]);
    });
    for (const verb of ["create", "update", "patch", "delete"]) {
        it(`reports ${verb} on secrets`, async () => {
            const bad = mutate(secretsReader, "props.rules.0.verbs", ["get", verb]);
            expect(await checkResource(rbacSecretsReadOnly, bad)).to.deep.equal([`Role shop/sr: rule 0 grants ${verb} on secrets`]);
        });
    }
    it("reports writes through resources '*'", async () => {
        const bad = mutate(secretsReader, "props.rules.0", { apiGroups: [""], resources: ["*"], verbs: ["delete"] });
        expect(await checkResource(rbacSecretsReadOnly, bad)).to.have.length(1);
    });
    it("ignores secrets of other API groups", async () => {
        const other = mutate(secretsReader, "props.rules.0", { apiGroups: ["bitnami.com"], resources: ["secrets"], verbs: ["update"] });
        expect(await checkResource(rbacSecretsReadOnly, other)).to.deep.equal([]);
    });
    it("allow-list is configurable both ways", async () => {
        const bad = mutate(secretsReader, "props.rules.0.verbs", ["create"]);
        expect(await checkResource(rbacSecretsReadOnly, bad, { allowedRoles: ["shop/sr"] })).to.deep.equal([]);
        expect(await checkResource(rbacSecretsReadOnly, bad, { allowedRoles: ["other/sr"] })).to.have.length(1);
    });
});

describe("rbac-cluster-role-allow-list", () => {
    const prom = role("ClusterRole", "prometheus", [
        { apiGroups: [""], resources: ["nodes", "services", "endpoints", "pods"], verbs: ["get", "list", "watch"] },
        { apiGroups: ["networking.k8s.io"], resources: ["ingresses"], verbs: ["get", "list", "watch"] },
        { nonResourceURLs: ["/metrics"], verbs: ["get"] },
    ]);
    it("passes the Prometheus read-only discovery role under any name", async () => {
        expect(await checkResource(rbacClusterRoleAllowList, prom)).to.deep.equal([]);
    });
    it("passes allow-listed names", async () => {
        const sealed = role("ClusterRole", "secrets-unsealer", [{ apiGroups: [""], resources: ["secrets"], verbs: ["create"] }]);
        expect(await checkResource(rbacClusterRoleAllowList, sealed)).to.deep.equal([]);
    });
    it("reports a discovery role that also writes", async () => {
        const bad = mutate(prom, "props.rules.0.verbs", ["get", "list", "watch", "delete"]);
        expect(await checkResource(rbacClusterRoleAllowList, bad)).to.have.length(1);
    });
    it("reports a discovery role that reads secrets", async () => {
        const bad = mutate(prom, "props.rules.0.resources", ["secrets"]);
        expect((await checkResource(rbacClusterRoleAllowList, bad))[0]).to.match(/ClusterRole "prometheus" is not in the allow-list/);
    });
    it("config: allowReadOnlyDiscovery off and allowedClusterRoles on", async () => {
        expect(await checkResource(rbacClusterRoleAllowList, prom, { allowReadOnlyDiscovery: false })).to.have.length(1);
        expect(await checkResource(rbacClusterRoleAllowList, prom, { allowReadOnlyDiscovery: false, allowedClusterRoles: ["prometheus"] })).to.deep.equal([]);
    });
    it("ignores namespaced Roles", async () => {
        expect(await checkResource(rbacClusterRoleAllowList, readPods)).to.deep.equal([]);
    });
    const promRules = prom.props.rules as unknown[];
    it("passes a discovery role with get on nodes/proxy (the kubelet's metrics)", async () => {
        const kubelet = role("ClusterRole", "prometheus", [...promRules, { apiGroups: [""], resources: ["nodes/proxy"], verbs: ["get"] }]);
        expect(await checkResource(rbacClusterRoleAllowList, kubelet)).to.deep.equal([]);
    });
    it("reports nodes/proxy with a verb other than get (create: exec and port-forward through the kubelet)", async () => {
        const kubelet = role("ClusterRole", "prometheus", [...promRules, { apiGroups: [""], resources: ["nodes/proxy"], verbs: ["get", "create"] }]);
        expect(await checkResource(rbacClusterRoleAllowList, kubelet)).to.have.length(1);
    });
    const ksm = role("ClusterRole", "kube-state-metrics", [
        { apiGroups: [""], resources: ["pods", "nodes", "persistentvolumeclaims"], verbs: ["list", "watch"] },
        { apiGroups: ["apps"], resources: ["deployments", "statefulsets"], verbs: ["list", "watch"] },
    ]);
    it("passes kube-state-metrics' list/watch inventory role under any name", async () => {
        expect(await checkResource(rbacClusterRoleAllowList, ksm)).to.deep.equal([]);
    });
    it("reports an inventory role that lists secrets", async () => {
        const bad = mutate(ksm, "props.rules.0.resources", ["pods", "secrets"]);
        expect((await checkResource(rbacClusterRoleAllowList, bad))[0]).to.match(/ClusterRole "kube-state-metrics" is not in the allow-list/);
    });
    it("reports an inventory role with get (object contents beyond the lists)", async () => {
        const bad = mutate(ksm, "props.rules.1.verbs", ["get", "list", "watch"]);
        expect(await checkResource(rbacClusterRoleAllowList, bad)).to.have.length(1);
    });
});

describe("rbac-deployer-roles", () => {
    const deployerLabel = (d: string) => ({ labels: { "platform.io/deployer": d } });
    const restapi = role(
        "Role",
        "restapi-deployer",
        [
            { apiGroups: ["platform.io"], resources: ["restapis"], verbs: CRUD_VERBS },
            { apiGroups: ["apps"], resources: ["deployments"], verbs: CRUD_VERBS },
            { apiGroups: [""], resources: ["services", "configmaps"], verbs: CRUD_VERBS },
            { apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers"], verbs: CRUD_VERBS },
            { apiGroups: [""], resources: ["secrets"], verbs: ["get", "list", "watch"] },
        ],
        deployerLabel("restapi"),
    );
    const database = role(
        "Role",
        "database-deployer",
        [
            { apiGroups: ["database-operator.io"], resources: ["databases"], verbs: CRUD_VERBS },
            { apiGroups: ["database-operator.io"], resources: ["databases/status"], verbs: ["get", "update", "patch"] },
            { apiGroups: ["database-operator.io"], resources: ["databases/finalizers"], verbs: ["update"] },
            { apiGroups: ["apps"], resources: ["statefulsets", "deployments"], verbs: CRUD_VERBS },
            { apiGroups: [""], resources: ["services", "configmaps", "persistentvolumeclaims"], verbs: CRUD_VERBS },
            { apiGroups: [""], resources: ["secrets"], verbs: ["get", "list", "watch"] },
        ],
        deployerLabel("database"),
    );
    it("passes the restapi deployer role of the design", async () => {
        expect(await checkResource(rbacDeployerRoles, restapi)).to.deep.equal([]);
    });
    it("passes the database deployer role of the design", async () => {
        expect(await checkResource(rbacDeployerRoles, database)).to.deep.equal([]);
    });
    it("ignores roles without the deployer label", async () => {
        expect(await checkResource(rbacDeployerRoles, readPods)).to.deep.equal([]);
    });
    it("reports a verb more than the design (secrets update)", async () => {
        const bad = mutate(restapi, "props.rules.4.verbs", ["get", "list", "watch", "update"]);
        expect(await checkResource(rbacDeployerRoles, bad)).to.deep.equal([
            'Role shop/restapi-deployer: restapi deployer role grants "update" on secrets which the design does not list',
        ]);
    });
    it("reports a verb less than the design (no delete on deployments)", async () => {
        const bad = mutate(restapi, "props.rules.1.verbs", ["get", "list", "watch", "create", "update", "patch"]);
        expect(await checkResource(rbacDeployerRoles, bad)).to.deep.equal([
            "Role shop/restapi-deployer: restapi deployer role lacks delete on deployments which the design lists",
        ]);
    });
    it("reports a resource the design does not list (statefulsets for restapi)", async () => {
        const bad = mutate(restapi, "props.rules.1.resources", ["deployments", "statefulsets"]);
        expect(await checkResource(rbacDeployerRoles, bad)).to.have.length(CRUD_VERBS.length);
    });
    it("reports a missing finalizers rule for the database deployer", async () => {
        const bad = mutate(database, "props.rules.2", DELETE);
        expect(await checkResource(rbacDeployerRoles, bad)).to.deep.equal([
            "Role shop/database-deployer: database deployer role lacks update on databases/finalizers which the design lists",
        ]);
    });
    it("reports a wrong API group", async () => {
        const bad = mutate(database, "props.rules.3.apiGroups", ["extensions"]);
        expect((await checkResource(rbacDeployerRoles, bad)).some((m) => m.includes('in API group "extensions"'))).to.equal(true);
    });
    it("reports an unknown deployer label value", async () => {
        const bad = mutate(restapi, "props.metadata.labels", { "platform.io/deployer": "kafka" });
        expect(await checkResource(rbacDeployerRoles, bad)).to.deep.equal(['Role shop/restapi-deployer: unknown deployer "kafka" (expected one of restapi, database)']);
    });
    it("does not judge a role whose rules are unknown", async () => {
        expect(await checkResource(rbacDeployerRoles, mutate(restapi, "props.rules", UNKNOWN))).to.deep.equal([]);
    });
});

describe("rbac-no-default-service-account", () => {
    for (const kind of Object.keys(WORKLOAD_TYPES)) {
        const ok = workload(kind);
        const path = `props.${POD_SPEC_PATH[kind]}.serviceAccountName`;
        it(`${kind}: passes its own ServiceAccount`, async () => {
            expect(await checkResource(rbacNoDefaultServiceAccount, ok)).to.deep.equal([]);
        });
        it(`${kind}: reports a missing serviceAccountName`, async () => {
            expect(await checkResource(rbacNoDefaultServiceAccount, mutate(ok, path, DELETE))).to.deep.equal([
                `${kind} shop/api: runs under the default ServiceAccount; set serviceAccountName`,
            ]);
        });
        it(`${kind}: reports serviceAccountName "default"`, async () => {
            expect(await checkResource(rbacNoDefaultServiceAccount, mutate(ok, path, "default"))).to.have.length(1);
        });
    }
    it("stays quiet when the name is unknown during preview", async () => {
        expect(await checkResource(rbacNoDefaultServiceAccount, mutate(workload("Deployment"), "props.spec.template.spec.serviceAccountName", UNKNOWN))).to.deep.equal([]);
    });
});

describe("rbac-token-automount", () => {
    const bound = binding("RoleBinding", "api-rb", { kind: "Role", name: "reader" }, [{ kind: "ServiceAccount", name: "api" }]);
    it("passes an unbound ServiceAccount with automount off", async () => {
        expect(await checkStack(rbacTokenAutomount, [serviceAccount("shop", "web", false), workload("Deployment")])).to.deep.equal([]);
    });
    it("passes a bound ServiceAccount with automount on", async () => {
        expect(await checkStack(rbacTokenAutomount, [serviceAccount("shop", "api", true), bound])).to.deep.equal([]);
    });
    it("reports an unbound ServiceAccount that mounts its token (default)", async () => {
        expect(await checkStack(rbacTokenAutomount, [serviceAccount("shop", "web")])).to.deep.equal([
            "ServiceAccount shop/web mounts its API token but is bound to no Role; set automountServiceAccountToken: false",
        ]);
    });
    it("reports a pod forcing automount with an unbound ServiceAccount", async () => {
        const w = mutate(workload("Deployment"), "props.spec.template.spec.automountServiceAccountToken", true);
        expect(await checkStack(rbacTokenAutomount, [serviceAccount("shop", "api", false), w])).to.deep.equal([
            "Deployment shop/api forces automountServiceAccountToken: true but ServiceAccount shop/api is bound to no Role",
        ]);
    });
    it("subjects of a RoleBinding default to the binding's namespace", async () => {
        const elsewhere = binding("RoleBinding", "rb2", { kind: "Role", name: "reader" }, [{ kind: "ServiceAccount", name: "api" }], "other");
        expect(await checkStack(rbacTokenAutomount, [serviceAccount("shop", "api", true), elsewhere])).to.have.length(1);
    });
    it("skips a ServiceAccount whose automount is unknown", async () => {
        const sa = mutate(serviceAccount("shop", "web"), "props.automountServiceAccountToken", UNKNOWN);
        expect(await checkStack(rbacTokenAutomount, [sa])).to.deep.equal([]);
    });
});
