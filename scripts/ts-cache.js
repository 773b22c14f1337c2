// Loads .ts modules by TypeScript's own transpileModule (no type check: `npm run typecheck` and CI
// do that), keeping each output in .state/ts-cache/ under a hash of the source, the tsconfig.json
// governing it and the TypeScript version. An unchanged file is never transpiled twice, and when
// nothing changed TypeScript is not even loaded. Used by the Pulumi program (Pulumi.yaml:
// typescript: false, nodeargs --require scripts/ts-cache-register.js) and the policy pack
// (policies/pack.js): measured in
// docs/benchmarks.md ("Breakdown"), the per-run transpile of the program was 3-10 s and the
// pack's host type-checks the whole pack on every run.
//
// Plain CommonJS on purpose: it must run before any TypeScript can be loaded.
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const Module = require("module");
const path = require("path");

const ROOT = path.join(__dirname, "..");
const DEFAULT_CACHE_DIR = path.join(ROOT, ".state", "ts-cache");
// Bump when the way outputs are produced changes.
const FORMAT = "1";

/** Per tsconfig.json: its text, its compiler options (parsed on the first miss) and TypeScript. */
const projects = new Map();

function projectOf(file) {
    let dir = path.dirname(file);
    for (;;) {
        const config = path.join(dir, "tsconfig.json");
        if (projects.has(config)) {
            return projects.get(config);
        }
        if (fs.existsSync(config)) {
            const tsPackage = require.resolve("typescript/package.json", { paths: [dir] });
            const project = {
                config,
                tsPackage,
                key: `${FORMAT}\0${fs.readFileSync(config, "utf8")}\0${JSON.parse(fs.readFileSync(tsPackage, "utf8")).version}`,
                ts: undefined,
                options: undefined,
            };
            projects.set(config, project);
            return project;
        }
        const up = path.dirname(dir);
        if (up === dir) {
            throw new Error(`ts-cache: no tsconfig.json above ${file}`);
        }
        dir = up;
    }
}

function compilerOptions(project) {
    if (!project.options) {
        project.ts = require(path.dirname(project.tsPackage));
        const ts = project.ts;
        const read = ts.readConfigFile(project.config, ts.sys.readFile);
        if (read.error) {
            throw new Error(`ts-cache: ${ts.flattenDiagnosticMessageText(read.error.messageText, "\n")}`);
        }
        const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, path.dirname(project.config));
        project.options = {
            ...parsed.options,
            module: ts.ModuleKind.CommonJS,
            sourceMap: false,
            inlineSourceMap: true,
            inlineSources: false,
            declaration: false,
            noEmit: false,
        };
    }
    return project.options;
}

/** The JavaScript of one .ts file: from the cache when this content was transpiled before. */
function transpile(file, source, cacheDir = DEFAULT_CACHE_DIR) {
    const project = projectOf(file);
    const hash = crypto.createHash("sha256").update(project.key).update("\0").update(file).update("\0").update(source).digest("hex");
    const cached = path.join(cacheDir, `${hash}.js`);
    try {
        return fs.readFileSync(cached, "utf8");
    } catch {
        // a miss: transpile below
    }
    const options = compilerOptions(project);
    const out = project.ts.transpileModule(source, { compilerOptions: options, fileName: file, reportDiagnostics: true });
    const errors = (out.diagnostics || []).filter(d => d.category === project.ts.DiagnosticCategory.Error);
    if (errors.length > 0) {
        throw new Error(`ts-cache: ${file}: ${errors.map(d => project.ts.flattenDiagnosticMessageText(d.messageText, "\n")).join("; ")}`);
    }
    fs.mkdirSync(cacheDir, { recursive: true });
    // Written under a temporary name, then renamed: concurrent runs never read half a file.
    const tmp = `${cached}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, out.outputText);
    fs.renameSync(tmp, cached);
    return out.outputText;
}

/** Loads every .ts module required from now on through transpile(). */
function register() {
    if (Module._extensions[".ts"] && Module._extensions[".ts"].k8sPlatformTsCache) {
        return;
    }
    const load = function (module, filename) {
        module._compile(transpile(filename, fs.readFileSync(filename, "utf8")), filename);
    };
    load.k8sPlatformTsCache = true;
    Module._extensions[".ts"] = load;
    // Stack traces point into the .ts sources (the outputs carry inline source maps).
    process.setSourceMapsEnabled(true);
}

module.exports = { register, transpile, DEFAULT_CACHE_DIR };
