/**
 * The program's layers, read from its own imports: config flows down from index.ts to the
 * Kubernetes building blocks and never calls back up. Each module may import only modules of a
 * lower layer or of its own area; a new import that runs back up fails here with the file and the
 * import named.
 *
 *   6 index.ts                      the Pulumi program
 *   5 platform.ts                   composition root: the systems the config enables
 *   4 config/                       reads and validates the stack config into resolved specs
 *   3 components/systems/<name>/    one system: spec, plan, component (no system imports another)
 *   2 components/<area>/            components (database, edge, mesh, ...); mesh may use edge
 *   1 components/k8s/               shared building blocks
 *   0 policies/lib/labels.ts        label and role strings shared with the policy pack
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

const ROOT = path.resolve(__dirname, "../..");

interface Layer { name: string; level: number }

/** The layer of a repository path, or undefined for files outside the program (tests, scripts, the pack). */
function layerOf(rel: string): Layer | undefined {
    const parts = rel.split("/");
    if (rel === "index.ts") {
        return { name: "index.ts", level: 6 };
    }
    if (rel === "platform.ts") {
        return { name: "platform.ts", level: 5 };
    }
    if (parts[0] === "config") {
        return { name: "config", level: 4 };
    }
    if (parts[0] === "components" && parts[1] === "systems") {
        return { name: `components/systems/${parts[2]}`, level: 3 };
    }
    if (parts[0] === "components" && parts[1] === "k8s") {
        return { name: "components/k8s", level: 1 };
    }
    if (parts[0] === "components") {
        return { name: `components/${parts[1]}`, level: 2 };
    }
    if (rel === "policies/lib/labels.ts") {
        return { name: "policies/lib/labels.ts", level: 0 };
    }
    return undefined;
}

/** Imports within a layer that the design allows between different areas. */
const SAME_LEVEL_ALLOWED = new Set(["components/mesh -> components/edge"]);

function programFiles(dir: string): string[] {
    return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap(e => {
        const rel = dir === "." ? e.name : `${dir}/${e.name}`;
        if (e.isDirectory()) {
            return e.name === "node_modules" || e.name === "scripts" ? [] : programFiles(rel);
        }
        return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [rel] : [];
    });
}

/** Relative imports of a file (static imports and re-exports), as repository paths. */
function importsOf(rel: string): string[] {
    const info = ts.preProcessFile(fs.readFileSync(path.join(ROOT, rel), "utf8"), true, false);
    return info.importedFiles.map(f => f.fileName).filter(f => f.startsWith(".")).map(f => {
        const target = path.normalize(path.join(path.dirname(rel), f));
        return fs.existsSync(path.join(ROOT, `${target}.ts`)) ? `${target}.ts` : `${target}/index.ts`;
    });
}

/** Every import that breaks the layering, as "file -> import (why)". */
function layerViolations(imports: [string, string][]): string[] {
    const out: string[] = [];
    for (const [file, target] of imports) {
        const from = layerOf(file)!;
        const to = layerOf(target);
        if (to === undefined) {
            out.push(`${file} -> ${target} (outside the program's layers)`);
        } else if (to.level > from.level) {
            out.push(`${file} -> ${target} (layer ${from.level} ${from.name} imports layer ${to.level} ${to.name})`);
        } else if (to.level === from.level && to.name !== from.name && !SAME_LEVEL_ALLOWED.has(`${from.name} -> ${to.name}`)) {
            out.push(`${file} -> ${target} (${from.name} imports its sibling ${to.name})`);
        }
    }
    return out;
}

describe("layers (imports run down only)", () => {
    const files = [...programFiles("components"), ...programFiles("config"), "platform.ts", "index.ts"];
    const imports = files.flatMap(f => importsOf(f).map((t): [string, string] => [f, t]));

    it("reads every module of the program and its imports", () => {
        expect(files).to.include.members(["index.ts", "platform.ts", "config/index.ts", "components/systems/greenfield/plan.ts", "components/k8s/workload.ts"]);
        expect(files.filter(f => layerOf(f) === undefined)).to.deep.equal([]);
        expect(imports).to.deep.include.members([
            ["platform.ts", "components/systems/greenfield/index.ts"], ["components/k8s/labels.ts", "policies/lib/labels.ts"],
            ["components/mesh/edge.ts", "components/edge/validation.ts"],
        ]);
        expect(imports.filter(([, t]) => !fs.existsSync(path.join(ROOT, t)))).to.deep.equal([]);
    });

    it("has no import from a lower layer to a higher one, nor between two systems or two areas", () => {
        expect(layerViolations(imports)).to.deep.equal([]);
    });

    it("names the file and the layers of an import that runs back up", () => {
        expect(layerViolations([["components/k8s/labels.ts", "config/index.ts"]])).to.deep.equal([
            "components/k8s/labels.ts -> config/index.ts (layer 1 components/k8s imports layer 4 config)",
        ]);
    });

    it("refuses an import between two systems, and one into the policy pack beyond its shared labels", () => {
        expect(layerViolations([
            ["components/systems/outbox/plan.ts", "components/systems/cstore/spec.ts"],
            ["components/k8s/traffic.ts", "policies/traffic/index.ts"],
        ])).to.deep.equal([
            "components/systems/outbox/plan.ts -> components/systems/cstore/spec.ts (components/systems/outbox imports its sibling components/systems/cstore)",
            "components/k8s/traffic.ts -> policies/traffic/index.ts (outside the program's layers)",
        ]);
    });
});
