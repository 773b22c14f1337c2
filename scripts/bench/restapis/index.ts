/**
 * Benchmark only (scripts/bench.ts): `bench:count` RestApi components (the real component, the
 * local stack's dev-sized spec, blue/green off) in one namespace, for preview/up time per resource.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PriorityClasses } from "../../../components/k8s/profile";
import { RestApi } from "../../../components/restapi/restapi";
import { validateRestApiSpec } from "../../../components/restapi/spec";

const config = new pulumi.Config("bench");
const count = config.requireNumber("count");
const namespace = config.get("namespace") ?? "bench-restapis";

const ns = new k8s.core.v1.Namespace(namespace, { metadata: { name: namespace } });
const spec = validateRestApiSpec("bench", {
    image: "ghcr.io/k8s-platform/restapi-mvcr:1.4.2",
    envVars: { LOG_LEVEL: "debug" },
    controller: { autoScaling: { minReplicas: 1, maxReplicas: 3 } },
    model: { autoScaling: { maxReplicas: 3 } },
    view: { autoScaling: { maxReplicas: 2 } },
    repository: { autoScaling: { maxReplicas: 2 }, storage: { size: "1Gi" } },
    blueGreen: { enabled: false },
});
// The pods name the stack's PriorityClasses (components/k8s/profile.ts), as every stack creates them;
// without them the API server refuses every pod and the Deployments never become available.
const priorityClasses = new PriorityClasses("priority-classes");
for (let i = 0; i < count; i++) {
    new RestApi(`api${i}`, { ...spec, namespace: ns.metadata.name }, { dependsOn: [ns, priorityClasses] });
}
export const instances = count;
