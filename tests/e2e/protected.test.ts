/**
 * Prod-like data protection (protectData: true, as Pulumi.prod.yaml sets it) on the real cluster:
 * `pulumi destroy` refuses while data is protected; after a deliberate `pulumi state unprotect` it
 * removes the stack but leaves the data-holding namespace and its claims (retainOnDelete).
 */
import { expect } from "chai";
import { kubectl, kubectlJson, protectedConfig, Stack, tail, timed } from "./harness";
import { stacks } from "./setup";

const NS = "pd-databases";
const CLAIM = "data-orders-db-0";

describe("prod-like data protection (database service, protectData on)", () => {
    const stack = new Stack("protected", protectedConfig());
    stacks.push(stack);
    let claimUid = "";

    after(() => {
        // Whatever failed: leave nothing protected for the suite's final destroy, and delete the
        // retained namespace (the stack no longer owns it).
        stack.pulumi("state", "unprotect", "--all", "--yes");
        stack.run("destroy");
        kubectl("delete", "namespace", NS, "--wait=true", "--timeout=120s");
    });

    it("pulumi up creates the database with a Bound claim", () => {
        const r = timed("up (protected)", stack.run("up"));
        expect(r.status, tail(r.output, 40)).to.equal(0);
        const pvc = kubectlJson("get", "pvc", CLAIM, "-n", NS);
        expect(pvc.status.phase).to.equal("Bound");
        claimUid = pvc.metadata.uid;
    });

    it("pulumi destroy refuses, naming the protected resources, and deletes no data", () => {
        const r = timed("destroy (protected)", stack.run("destroy"));
        expect(r.status).to.not.equal(0);
        expect(r.output).to.match(/protected/i);
        expect(r.output).to.match(/orders-db/);
        expect(kubectlJson("get", "statefulset", "orders-db", "-n", NS).metadata.name).to.equal("orders-db");
        const pvc = kubectlJson("get", "pvc", CLAIM, "-n", NS);
        expect({ uid: pvc.metadata.uid, phase: pvc.status.phase }).to.deep.equal({ uid: claimUid, phase: "Bound" });
    });

    it("after `pulumi state unprotect --all`, destroy succeeds and the namespace and claim stay (same UID, Bound)", () => {
        const u = stack.pulumi("state", "unprotect", "--all", "--yes");
        expect(u.status, u.output).to.equal(0);
        const r = timed("destroy (unprotected)", stack.run("destroy"));
        expect(r.status, tail(r.output, 40)).to.equal(0);
        expect(stack.stateObjects()).to.deep.equal([]);
        expect(kubectlJson("get", "namespace", NS).status.phase).to.equal("Active");
        const pvc = kubectlJson("get", "pvc", CLAIM, "-n", NS);
        expect({ uid: pvc.metadata.uid, phase: pvc.status.phase }).to.deep.equal({ uid: claimUid, phase: "Bound" });
        // The workloads are gone: only the data is left behind.
        expect(kubectl("get", "statefulset", "orders-db", "-n", NS).status).to.not.equal(0);
    });
});
