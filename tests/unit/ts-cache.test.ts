import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

// Plain CommonJS (it runs before TypeScript can load): typed here by what the test uses.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const tsCache = require("../../scripts/ts-cache.js") as { transpile(file: string, source: string, cacheDir?: string): string };

describe("scripts/ts-cache.js (the program's and the pack's .ts loader)", () => {
    let cacheDir: string;
    const file = path.join(__dirname, "..", "..", "components", "ts-cache-probe.ts");
    const source = "export = (n: number): number => n * 2;\nexport const unused: string[] = [];\n";
    beforeEach(() => { cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "ts-cache-test-")); });
    afterEach(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

    it("emits CommonJS that runs, with an inline source map, and keeps it in the cache", () => {
        const js = tsCache.transpile(file, source, cacheDir);
        expect(js).to.contain("module.exports");
        expect(js).not.to.match(/: number/);
        expect(js).to.match(/sourceMappingURL=data:application\/json;base64,/);
        expect(fs.readdirSync(cacheDir)).to.have.length(1);
        const out = path.join(cacheDir, "probe.js");
        fs.writeFileSync(out, js);
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        expect((require(out) as (n: number) => number)(21)).to.equal(42);
    });

    it("reads an unchanged file from the cache and transpiles a changed one anew", () => {
        tsCache.transpile(file, source, cacheDir);
        const [entry] = fs.readdirSync(cacheDir);
        // Marked: a second transpile of the same content must return the cached text itself.
        fs.writeFileSync(path.join(cacheDir, entry), "/* from the cache */");
        expect(tsCache.transpile(file, source, cacheDir)).to.equal("/* from the cache */");
        const changed = tsCache.transpile(file, source.replace("n * 2", "n * 3"), cacheDir);
        expect(changed).to.contain("n * 3");
        expect(fs.readdirSync(cacheDir)).to.have.length(2);
    });

    it("names the file when it is not valid TypeScript", () => {
        expect(() => tsCache.transpile(file, "export const = ;", cacheDir)).to.throw(/ts-cache: .*ts-cache-probe\.ts: .+/);
    });
});
