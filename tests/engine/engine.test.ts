/**
 * The real engine: `pulumi preview` of both stacks with the policy pack, a broken program the pack
 * rejects, and `pulumi up` in render mode whose manifests are parsed and counted.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { pulumiEnv, ROOT, run, stack } from "./engine";

interface Manifest { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }

function manifests(dir: string): Manifest[] {
    const out: Manifest[] = [];
    const walk = (d: string) => fs.readdirSync(d, { withFileTypes: true }).forEach(e => {
        const p = path.join(d, e.name);
        if (e.isDirectory()) {
            walk(p);
        } else if (p.endsWith(".yaml")) {
            yaml.loadAll(fs.readFileSync(p, "utf8")).filter(Boolean).forEach(doc => out.push(doc as Manifest));
        }
    });
    walk(dir);
    return out;
}

const count = (ms: Manifest[], kind: string) => ms.filter(m => m.kind === kind).length;

describe("engine: pulumi with the policy pack", function () {
    this.timeout(15 * 60 * 1000);

    for (const name of ["dev", "prod"]) {
        it(`previews the ${name} stack with zero mandatory violations`, () => {
            const r = stack("preview", name);
            console.log(`      preview ${name}: ${r.seconds.toFixed(1)}s`);
            expect(r.output).not.to.match(/mandatory/i);
            expect(r.status, r.output.slice(-4000)).to.equal(0);
            expect(r.output).to.match(/Policies:|k8s-platform@v/);
        });
    }

    it("fails a program with a wildcard Role, naming rbac-no-wildcards", () => {
        const dir = path.join(ROOT, "tests", "engine", "fixtures", "wildcard-role");
        const backend = fs.mkdtempSync(path.join(os.tmpdir(), "k8s-platform-engine-"));
        const env = pulumiEnv(backend);
        expect(run("pulumi", ["stack", "init", "test", "--non-interactive"], { cwd: dir, env }).status).to.equal(0);
        try {
            const r = run("pulumi", ["preview", "--stack", "test", "--non-interactive", "--policy-pack", path.join(ROOT, "policies")], { cwd: dir, env });
            expect(r.status, r.output.slice(-3000)).to.not.equal(0);
            expect(r.output).to.contain("rbac-no-wildcards");
            expect(r.output).to.match(/mandatory/);
        } finally {
            fs.rmSync(path.join(dir, "Pulumi.test.yaml"), { force: true });
            fs.rmSync(backend, { recursive: true, force: true });
        }
    });

    describe("render mode", () => {
        const rendered: Record<string, Manifest[]> = {};
        before(() => {
            for (const name of ["dev", "prod"]) {
                const r = stack("render", name);
                console.log(`      render ${name}: ${r.seconds.toFixed(1)}s`);
                expect(r.status, r.output.slice(-4000)).to.equal(0);
                rendered[name] = manifests(path.join(ROOT, "rendered", name));
            }
        });

        it("writes dev manifests that parse as YAML, with the expected kinds and counts", () => {
            const ms = rendered.dev;
            expect(count(ms, "Namespace")).to.equal(2);
            expect(count(ms, "Deployment")).to.equal(4);
            expect(count(ms, "StatefulSet")).to.equal(2);
            expect(count(ms, "HorizontalPodAutoscaler")).to.equal(4);
            expect(count(ms, "Role")).to.equal(2);
            expect(ms.filter(m => m.kind === "NetworkPolicy" && m.metadata.name === "default-deny")).to.have.length(2);
        });

        it("writes prod manifests with blue/green and the HA PDBs", () => {
            const ms = rendered.prod;
            expect(count(ms, "Deployment")).to.equal(8);
            expect(count(ms, "StatefulSet")).to.equal(2);
            expect(count(ms, "PodDisruptionBudget")).to.be.greaterThan(2);
        });
    });
});
