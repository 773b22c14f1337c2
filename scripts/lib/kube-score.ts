/**
 * kube-score (github.com/zegl/kube-score, built by scripts/kube-score.sh) on the rendered
 * manifests of a stack, compared with kube-score-ignore.yaml: every CRITICAL finding must be
 * listed there, by object, check and reason. Shared by scripts/kube-score.sh (the CLI below) and
 * the engine test (tests/engine/engine.test.ts).
 *
 * The ignore file has two lists: `ignored` (findings kept on purpose, each with its reason) and
 * `pendingRemoval` (findings that work in progress removes; they are pruned once it is merged).
 * Both count the same when comparing.
 */
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-explicit-any -- kube-score's JSON and the YAML file are untyped */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";

export const ROOT = path.join(__dirname, "..", "..");
export const IGNORE_FILE = path.join(ROOT, "kube-score-ignore.yaml");
/** The Kubernetes version the checks assume (the local control plane runs 1.33). */
export const KUBERNETES_VERSION = "v1.33";
/** kube-score's grade of a CRITICAL finding (scorecard.GradeCritical). */
const GRADE_CRITICAL = 1;

/** One CRITICAL finding: the object (Kind/namespace/name), the check id, the container if any. */
export interface Finding {
    stack: string;
    object: string;
    check: string;
    /** The container the finding is about; undefined for pod- or object-level checks. */
    container?: string;
    summary: string;
}

export interface IgnoreEntry {
    object: string;
    check: string;
    /** Only these containers of the object; every container when absent. */
    containers?: string[];
    reason: string;
}

export interface IgnoreFile {
    ignored: IgnoreEntry[];
    pendingRemoval: IgnoreEntry[];
}

export const SECTIONS = ["ignored", "pendingRemoval"] as const;
const ENTRY_KEYS = ["object", "check", "containers", "reason"];
/** A reason says why: more than a few words. */
const MIN_REASON_LENGTH = 40;

function objectName(kind: string, namespace: string | undefined, name: string): string {
    return namespace ? `${kind}/${namespace}/${name}` : `${kind}/${name}`;
}

/** The CRITICAL findings in kube-score's JSON output (format v2). */
export function criticalFindings(json: string, stack: string): Finding[] {
    const out: Finding[] = [];
    for (const obj of JSON.parse(json) as any[]) {
        const object = objectName(obj.type_meta?.kind, obj.object_meta?.namespace, obj.object_meta?.name);
        for (const c of obj.checks ?? []) {
            if (c.skipped || c.grade !== GRADE_CRITICAL) {
                continue;
            }
            const comments: any[] = c.comments?.length ? c.comments : [{ path: "", summary: c.check?.comment ?? "" }];
            for (const comment of comments) {
                out.push({ stack, object, check: c.check.id, container: comment.path || undefined, summary: comment.summary });
            }
        }
    }
    return out;
}

function yamlFiles(dir: string): string[] {
    const out: string[] = [];
    const walk = (d: string) => fs.readdirSync(d, { withFileTypes: true }).forEach(e => {
        const p = path.join(d, e.name);
        if (e.isDirectory()) {
            walk(p);
        } else if (e.name.endsWith(".yaml")) {
            out.push(p);
        }
    });
    walk(dir);
    return out.sort();
}

/** Runs kube-score on every manifest under `dir` (rendered/<stack>/). */
export function scoreManifests(binary: string, dir: string, stack: string): Finding[] {
    const files = yamlFiles(dir);
    if (files.length === 0) {
        throw new Error(`no manifests under ${dir}: render the stack first (scripts/stack.sh render ${stack})`);
    }
    const r = spawnSync(binary, ["score", "--output-format", "json", "--kubernetes-version", KUBERNETES_VERSION, ...files],
        { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
    if (r.error) {
        throw new Error(`cannot run ${binary}: ${r.error.message}`);
    }
    // Exit 1 means "critical findings"; anything else (or no JSON) is a failure of kube-score itself.
    if ((r.status !== 0 && r.status !== 1) || !r.stdout.trim().startsWith("[")) {
        throw new Error(`kube-score exited ${r.status}:\n${r.stderr.slice(-3000)}`);
    }
    return criticalFindings(r.stdout, stack);
}

/** Parses and validates the ignore file: every entry names its object and check and says why. */
export function parseIgnoreFile(text: string, file = "kube-score-ignore.yaml"): IgnoreFile {
    const doc = (yaml.load(text) ?? {}) as Record<string, unknown>;
    for (const key of Object.keys(doc)) {
        if (!(SECTIONS as readonly string[]).includes(key)) {
            throw new Error(`${file}: unknown section "${key}"; allowed: ${SECTIONS.join(", ")}`);
        }
    }
    const seen = new Set<string>();
    const section = (name: typeof SECTIONS[number]): IgnoreEntry[] => {
        const list = doc[name] ?? [];
        if (!Array.isArray(list)) {
            throw new Error(`${file}: ${name} must be a list of entries`);
        }
        return list.map((e: any, i: number) => {
            const where = `${file}: ${name}[${i}]`;
            if (!e || typeof e !== "object") {
                throw new Error(`${where}: not an entry; allowed: object, check, containers (optional), reason`);
            }
            for (const k of Object.keys(e)) {
                if (!ENTRY_KEYS.includes(k)) {
                    throw new Error(`${where}: unknown key "${k}"; allowed: ${ENTRY_KEYS.join(", ")}`);
                }
            }
            for (const k of ["object", "check", "reason"]) {
                if (typeof e[k] !== "string" || e[k].trim() === "") {
                    throw new Error(`${where}: ${k} is missing; every entry names the object (Kind/namespace/name), the check id and the reason`);
                }
            }
            if (!/^[A-Za-z]+\/([a-z0-9-.]+\/)?[a-z0-9-.]+$/.test(e.object)) {
                throw new Error(`${where}.object: "${e.object}" is not Kind/namespace/name (or Kind/name)`);
            }
            if (e.reason.trim().length < MIN_REASON_LENGTH || /\bTODO\b/.test(e.reason)) {
                throw new Error(`${where}.reason: "${e.reason}" does not say why; allowed: a reason of ${MIN_REASON_LENGTH}+ characters, no TODO`);
            }
            if (e.containers !== undefined && (!Array.isArray(e.containers) || e.containers.length === 0
                || e.containers.some((c: unknown) => typeof c !== "string" || c === ""))) {
                throw new Error(`${where}.containers: a non-empty list of container names, or leave it out for every container`);
            }
            const id = `${e.object} ${e.check}`;
            if (seen.has(id)) {
                throw new Error(`${where}: ${id} is listed twice`);
            }
            seen.add(id);
            return { object: e.object, check: e.check, containers: e.containers, reason: e.reason.trim() };
        });
    };
    return { ignored: section("ignored"), pendingRemoval: section("pendingRemoval") };
}

export function loadIgnoreFile(file = IGNORE_FILE): IgnoreFile {
    return parseIgnoreFile(fs.readFileSync(file, "utf8"), path.relative(ROOT, file));
}

function matches(e: IgnoreEntry, f: Finding): boolean {
    return e.object === f.object && e.check === f.check
        && (e.containers === undefined || (f.container !== undefined && e.containers.includes(f.container)));
}

const allEntries = (ignore: IgnoreFile) => [...ignore.ignored, ...ignore.pendingRemoval];

/** Findings no entry lists. */
export function unlisted(findings: Finding[], ignore: IgnoreFile): Finding[] {
    const entries = allEntries(ignore);
    return findings.filter(f => !entries.some(e => matches(e, f)));
}

/** Entries that list no finding of the given stacks' findings (the finding is gone: prune it). */
export function stale(findings: Finding[], ignore: IgnoreFile): IgnoreEntry[] {
    return allEntries(ignore).filter(e => !findings.some(f => matches(e, f)));
}

export function describeFinding(f: Finding): string {
    return `${f.stack}: ${f.object} ${f.check}${f.container ? ` (${f.container})` : ""}: ${f.summary}`;
}

/** Unlisted findings as ignore-file entries (one per object and check), reasons left to write. */
export function entriesYaml(findings: Finding[]): string {
    const groups = new Map<string, Finding[]>();
    for (const f of findings) {
        const id = `${f.object} ${f.check}`;
        groups.set(id, [...(groups.get(id) ?? []), f]);
    }
    const lines: string[] = [];
    for (const group of [...groups.values()].sort((a, b) => `${a[0].object} ${a[0].check}`.localeCompare(`${b[0].object} ${b[0].check}`))) {
        const containers = [...new Set(group.map(f => f.container).filter((c): c is string => !!c))].sort();
        const summaries = [...new Set(group.map(f => f.summary))].join("; ");
        const stacks = [...new Set(group.map(f => f.stack))].join(", ");
        lines.push(`  - object: ${group[0].object}`, `    check: ${group[0].check}`);
        if (containers.length > 0 && group.every(f => f.container)) {
            lines.push(`    containers: [${containers.join(", ")}]`);
        }
        lines.push(`    reason: "TODO why (${stacks}: ${summaries.replace(/"/g, "'")})"`);
    }
    return lines.join("\n");
}

/** CLI of scripts/kube-score.sh: `check|update <kube-score binary> <stack>...`. */
function main(argv: string[]): number {
    const [mode, binary, ...stacks] = argv;
    if (!["check", "update"].includes(mode) || !binary || stacks.length === 0) {
        console.error("usage: kube-score.ts check|update <kube-score binary> <stack>...");
        return 2;
    }
    const ignore = loadIgnoreFile();
    const findings = stacks.flatMap(stack => scoreManifests(binary, path.join(ROOT, "rendered", stack), stack));
    for (const stack of stacks) {
        const counts = new Map<string, number>();
        findings.filter(f => f.stack === stack).forEach(f => counts.set(f.check, (counts.get(f.check) ?? 0) + 1));
        console.log(`${stack}: ${findings.filter(f => f.stack === stack).length} CRITICAL findings`
            + [...counts.entries()].sort().map(([c, n]) => `\n  ${c}: ${n}`).join(""));
    }
    const missing = unlisted(findings, ignore);
    const gone = stale(findings, ignore);
    if (gone.length > 0) {
        console.log(`\n${gone.length} entries of kube-score-ignore.yaml match no finding of ${stacks.join(", ")} (prune them):`);
        gone.forEach(e => console.log(`  ${e.object} ${e.check}`));
    }
    if (mode === "update") {
        console.log(missing.length === 0 ? "\nno unlisted finding"
            : `\n${missing.length} unlisted findings; entries to add (write each reason):\n${entriesYaml(missing)}`);
        return 0;
    }
    if (missing.length > 0) {
        console.log(`\n${missing.length} CRITICAL findings are not listed in kube-score-ignore.yaml:`);
        missing.forEach(f => console.log(`  ${describeFinding(f)}`));
        console.log("fix them, or list them with a reason (scripts/kube-score.sh --update prints the entries)");
        return 1;
    }
    console.log(`\nevery CRITICAL finding is listed in kube-score-ignore.yaml`);
    return 0;
}

if (require.main === module) {
    process.exit(main(process.argv.slice(2)));
}
