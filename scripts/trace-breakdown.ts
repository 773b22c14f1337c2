/**
 * Where one `pulumi up` spends its time, from the engine's own trace:
 *
 *   scripts/stack.sh up local --otel-traces file:///tmp/up.json
 *   npx ts-node --transpile-only scripts/trace-breakdown.ts /tmp/up.json
 *
 * (`--tracing file:` writes the same spans in AppDash's binary format, read by `pulumi view-trace`;
 * the OpenTelemetry file is JSON, one OTLP export batch per line.) Prints each plan (preview, then
 * update): the policy pack's start, the program's run and module load, the per-resource engine RPCs
 * (Check, Diff, Analyze, Remediate, Create) and checkpoint writes, and the update's provider Create
 * calls by Kubernetes kind (the kind and name are read from the provider's own span).
 */
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call -- OTLP JSON is untyped */
import * as fs from "fs";

export interface Span { service: string; name: string; start: number; end: number; attrs: Record<string, string> }

/** The spans of an OTLP JSON file (one export batch per line), times in seconds. */
export function readSpans(text: string): Span[] {
    const spans: Span[] = [];
    for (const line of text.split("\n")) {
        if (!line.trim()) {
            continue;
        }
        const batch = JSON.parse(line);
        for (const rs of batch.resourceSpans ?? []) {
            const service = (rs.resource?.attributes ?? []).find((a: any) => a.key === "service.name")?.value?.stringValue ?? "?";
            for (const ss of rs.scopeSpans ?? []) {
                for (const s of ss.spans ?? []) {
                    const attrs: Record<string, string> = {};
                    for (const a of s.attributes ?? []) {
                        attrs[a.key] = String(Object.values(a.value ?? {})[0]);
                    }
                    spans.push({ service, name: s.name, start: Number(s.startTimeUnixNano) / 1e9, end: Number(s.endTimeUnixNano) / 1e9, attrs });
                }
            }
        }
    }
    return spans;
}

const dur = (s: Span) => s.end - s.start;
const fmt = (n: number, d = 1) => n.toFixed(d);

/** Kind and namespace/name of a provider Create span (from the response the provider logs in it). */
export function createdObject(s: Span): { kind: string; id: string } {
    const msg = s.attrs.Msg ?? "";
    const field = (key: string) => new RegExp(`key:\\\\"${key}\\\\"\\s+value:\\{string_value:\\\\"([^\\\\"]+)\\\\"`).exec(msg)?.[1];
    const ns = field("namespace");
    return { kind: field("kind") ?? "(not Kubernetes)", id: `${ns ? `${ns}/` : ""}${field("name") ?? "?"}` };
}

export function breakdown(spans: Span[]): string[] {
    const out: string[] = [];
    const t0 = Math.min(...spans.map(s => s.start));
    const cli = (name: string) => spans.filter(s => s.service === "pulumi-cli" && s.name === name);
    const plans = cli("pulumi-plan").sort((a, b) => a.start - b.start);
    out.push(`trace: ${fmt(Math.max(...spans.map(s => s.end)) - t0)} s, ${spans.length} spans, ${plans.length} plan(s)`);
    const rpcs = ["pulumirpc.Analyzer/GetPluginInfo", "run-program", "pulumirpc.ResourceProvider/Check", "pulumirpc.ResourceProvider/Diff",
        "pulumirpc.Analyzer/Remediate", "pulumirpc.Analyzer/Analyze", "pulumirpc.Analyzer/AnalyzeStack", "pulumirpc.ResourceProvider/Create",
        "gocloud.dev/blob.NewWriter", "gocloud.dev/blob.Copy"];
    plans.forEach((p, i) => {
        const what = plans.length > 1 && i === 0 ? "preview" : "update";
        out.push(`${what}: starts +${fmt(p.start - t0)} s, ${fmt(dur(p))} s`);
        const load = spans.filter(s => s.service === "pulumi-sdk-nodejs" && s.name === "language-runtime.runProgram" && s.start >= p.start && s.start <= p.end);
        load.forEach(s => out.push(`  program modules loaded (language-runtime.runProgram): ${fmt(dur(s))} s`));
        for (const name of rpcs) {
            const ss = cli(name).filter(s => s.start >= p.start && s.start <= p.end);
            if (ss.length > 0) {
                const sum = ss.reduce((a, s) => a + dur(s), 0);
                out.push(`  ${name}: n=${ss.length} sum ${fmt(sum)} s, mean ${fmt(1000 * sum / ss.length, 1)} ms, max ${fmt(Math.max(...ss.map(dur)), 2)} s`);
            }
        }
    });
    const update = plans[plans.length - 1];
    const creates = spans.filter(s => s.service === "pulumi-resource-provider" && s.name === "/pulumirpc.ResourceProvider/Create" && update && s.start >= update.start);
    if (creates.length > 0) {
        const first = Math.min(...creates.map(s => s.start));
        out.push(`update: provider Create by kind (times from the first Create, +${fmt(first - t0)} s)`);
        out.push("| kind | n | sum s | mean s | max s | first start | last end |", "|---|---:|---:|---:|---:|---:|---:|");
        const byKind = new Map<string, Span[]>();
        creates.forEach(s => byKind.set(createdObject(s).kind, [...(byKind.get(createdObject(s).kind) ?? []), s]));
        for (const [kind, ss] of [...byKind].sort((a, b) => b[1].reduce((x, s) => x + dur(s), 0) - a[1].reduce((x, s) => x + dur(s), 0))) {
            const sum = ss.reduce((a, s) => a + dur(s), 0);
            out.push(`| ${kind} | ${ss.length} | ${fmt(sum)} | ${fmt(sum / ss.length, 2)} | ${fmt(Math.max(...ss.map(dur)), 2)} | ${fmt(Math.min(...ss.map(s => s.start)) - first)} | ${fmt(Math.max(...ss.map(s => s.end)) - first)} |`);
        }
    }
    return out;
}

if (require.main === module) {
    const file = process.argv[2];
    if (!file) {
        console.error("usage: scripts/trace-breakdown.ts <otel-traces.json> [namespace ...]  (namespaces: list their objects' create times)");
        process.exit(2);
    }
    const spans = readSpans(fs.readFileSync(file, "utf8"));
    console.log(breakdown(spans).join("\n"));
    const plans = spans.filter(s => s.service === "pulumi-cli" && s.name === "pulumi-plan").sort((a, b) => a.start - b.start);
    const update = plans[plans.length - 1];
    for (const ns of process.argv.slice(3)) {
        const creates = spans.filter(s => s.service === "pulumi-resource-provider" && s.name === "/pulumirpc.ResourceProvider/Create" && s.start >= update.start);
        const first = Math.min(...creates.map(s => s.start));
        console.log(`\n${ns}: Create of its Services, Deployments, StatefulSets, Jobs and claims (s from the first Create)`);
        creates.map(s => ({ s, o: createdObject(s) }))
            .filter(({ o }) => o.id.startsWith(`${ns}/`) && ["Service", "Deployment", "StatefulSet", "Job", "PersistentVolumeClaim"].includes(o.kind))
            .sort((a, b) => a.s.start - b.s.start)
            .forEach(({ s, o }) => console.log(`  ${fmt(s.start - first)} - ${fmt(s.end - first)}  ${o.kind} ${o.id}`));
    }
}
