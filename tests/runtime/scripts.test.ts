/** Every script that runs inside a pod (scripts directories under components) and the test stand-ins pass shellcheck. */
import { expect } from "chai";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.join(__dirname, "..", "..");

function shellScripts(dir: string): string[] {
    if (!fs.existsSync(dir)) {
        return [];
    }
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e => {
        const p = path.join(dir, e.name);
        return e.isDirectory() ? shellScripts(p) : e.name.endsWith(".sh") ? [p] : [];
    });
}

describe("runtime: pod scripts", () => {
    const scripts = [
        ...shellScripts(path.join(ROOT, "components")),
        ...shellScripts(path.join(ROOT, "tests", "runtime")),
        path.join(ROOT, "scripts", "runtime-deps.sh"),
    ];

    before(() => {
        console.log(`      ${execFileSync("shellcheck", ["--version"], { encoding: "utf8" }).split("\n")[1]}`);
    });

    it("finds the database scripts", () => {
        expect(scripts.map(s => path.relative(ROOT, s))).to.include("components/database/scripts/postgresql/clone-standby.sh");
    });

    for (const script of scripts) {
        it(`shellcheck: ${path.relative(ROOT, script)}`, () => {
            const r = spawnSync("shellcheck", ["--external-sources", script], { encoding: "utf8" });
            expect(r.stdout + r.stderr).to.equal("");
            expect(r.status).to.equal(0);
        });
    }
});
