import { PolicyPack } from "@pulumi/policy";
import { allPolicies } from "./policies";

new PolicyPack("k8s-platform", {
    description: "k8s-platform guard rails: RBAC, resource limits, availability, network policies, pod security, workload hardening and the traffic plan.",
    policies: allPolicies(),
});
