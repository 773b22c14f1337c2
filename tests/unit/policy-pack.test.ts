/**
 * The whole program, dev and prod, under mocks, checked by the real policy pack: zero violations;
 * and deliberately broken variants of the same resources are rejected by the right policy.
 */
import { expect } from "chai";
import * as fs from "fs";
import { PlainResource, runAll, Violation } from "../../policies/testing/harness";
import { deepClone, T } from "./helpers";
import { packConfig, stackResources, STACKS, trafficDoc, trafficDocPath } from "./stack-resources";

const summary = (vs: Violation[]) => vs.map(v => `${v.policy}: ${v.message}`);

describe("policy pack on the program", function () {
    // Each test builds and checks the whole program (dev or prod): ~20 s on an idle machine, more under load.
    this.timeout(120000);
    for (const stack of STACKS) {
        it(`finds zero violations in the ${stack} stack`, async () => {
            const violations = await runAll(await stackResources(stack), packConfig(stack));
            expect(summary(violations)).to.deep.equal([]);
        });

        it(`has an up-to-date generated docs/traffic-${stack}.md (npm run docs:traffic)`, async () => {
            const doc = await trafficDoc(stack);
            if (process.env.TRAFFIC_DOCS_UPDATE === "1") {
                fs.writeFileSync(trafficDocPath(stack), doc);
            }
            expect(fs.readFileSync(trafficDocPath(stack), "utf8")).to.equal(doc);
        });
    }

    describe("broken variants of the prod stack", () => {
        let good: PlainResource[];
        before(async () => { good = await stackResources("prod"); });
        const policiesHit = async (resources: PlainResource[]) =>
            [...new Set((await runAll(resources, packConfig("prod"))).map(v => v.policy))].sort();

        it("rejects a wildcard Role", async () => {
            const broken = deepClone(good);
            broken.find(r => r.type === T.role)!.props.rules = [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }];
            expect(await policiesHit(broken)).to.include.members(["rbac-no-wildcards", "rbac-deployer-roles"]);
        });

        it("rejects a container without limits", async () => {
            const broken = deepClone(good);
            const dep = broken.find(r => r.type === T.deployment)!;
            delete (dep.props as any).spec.template.spec.containers[0].resources.limits;
            expect(await policiesHit(broken)).to.include("container-resources-required");
        });

        it("rejects a data store pod without ephemeral-storage limits or a priority class", async () => {
            const broken = deepClone(good);
            const sts = broken.find(r => r.type === T.statefulSet)!;
            const pod = (sts.props as any).spec.template.spec;
            delete pod.containers[0].resources.limits["ephemeral-storage"];
            delete pod.priorityClassName;
            expect(await policiesHit(broken)).to.include.members(["container-ephemeral-storage", "pod-priority-class"]);
        });

        it("rejects identical liveness and readiness probes", async () => {
            const broken = deepClone(good);
            const c = (broken.find(r => r.type === T.deployment)!.props as any).spec.template.spec.containers[0];
            c.livenessProbe = { ...c.readinessProbe, periodSeconds: 60 };
            expect(await policiesHit(broken)).to.include("pod-probes-distinct");
        });

        it("rejects a namespace without default-deny", async () => {
            const broken = deepClone(good).filter(r => !(r.type === T.netpol && (r.props.metadata as { name: string }).name === "default-deny"));
            expect(await policiesHit(broken)).to.include("network-default-deny");
        });

        it("rejects a flow outside the traffic plan", async () => {
            const broken = deepClone(good);
            // Open the database to the RestAPI view, which the design never lets talk to a database.
            const np = broken.find(r => r.type === T.netpol && (r.props.metadata as { name: string }).name === "orders-db")!;
            (np.props as any).spec.ingress.push({
                from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "restapi" } }, podSelector: { matchLabels: { "app.kubernetes.io/instance": "orders-view" } } }],
                ports: [{ port: 5432, protocol: "TCP" }],
            });
            const view = broken.find(r => r.type === T.netpol && (r.props.metadata as { name: string }).name === "orders-view-blue")!;
            (view.props as any).spec.egress.push({
                to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "databases" } }, podSelector: { matchLabels: { "app.kubernetes.io/instance": "orders-db" } } }],
                ports: [{ port: 5432, protocol: "TCP" }],
            });
            const violations = await runAll(broken, packConfig("prod"));
            expect(summary(violations).filter(s => s.startsWith("traffic-plan"))).to.deep.equal([
                "traffic-plan: flow restapi/orders-view-blue -> databases/orders-db on TCP/5432 is not in the traffic plan",
            ]);
        });
    });
});
