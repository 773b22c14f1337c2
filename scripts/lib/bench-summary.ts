/**
 * The benchmark's headline figures (docs/benchmarks.json) and the issue-15 targets they are read
 * against. Pure: scripts/bench.ts measures, this derives the ratios and formats them.
 */

/** One timed command: wall seconds and the peak RSS of its process tree. */
export interface Timed { seconds: number; peakMb: number }
/** A timed command that changed (up) or planned (preview) `resources` resources. */
export interface TimedCount extends Timed { resources: number }

export interface BenchMeasurements {
    /** local stack: up from an empty stack (with the pack). */
    up: Timed;
    /** kubectl apply --server-side + kubectl wait of the same rendered manifests (the floor). */
    kubectlApply: Timed;
    kubectlWait: Timed;
    /** local stack: a second up with nothing to change. */
    noopUp: Timed;
    /** local stack: preview of an empty stack with and without the policy pack. */
    preview: Timed;
    previewWithoutPack: Timed;
    /** RestApi xN (scripts/bench/restapis), keyed by N. */
    restApiUp: Record<number, TimedCount>;
    restApiPreview: Record<number, TimedCount>;
    /** When the run started. */
    measuredAt: Date;
}

/** docs/benchmarks.json: exactly these keys, all numbers. */
export interface BenchSummary {
    up_s: number;
    kubectl_floor_s: number;
    up_vs_kubectl_ratio: number;
    noop_up_s: number;
    preview_s: number;
    preview_without_pack_s: number;
    pack_share_of_preview: number;
    up_ms_per_resource_x1: number;
    up_ms_per_resource_x10: number;
    up_ms_per_resource_x50: number;
    preview_ms_per_resource_x50: number;
    /** epoch seconds */
    measured_at: number;
}

export const TARGETS = {
    upVsKubectl: 2,
    noopUpSeconds: 15,
    packShareOfPreview: 0.15,
    x50VsX10: 1.2,
};

const round = (n: number, digits: number) => Number(n.toFixed(digits));

function perResource(runs: Record<number, TimedCount>, n: number, what: string): number {
    const r = runs[n];
    if (!r) {
        throw new Error(`bench summary: no RestApi x${n} ${what} measured (BENCH_COUNTS must include 1, 10 and 50)`);
    }
    if (!(r.resources > 0)) {
        throw new Error(`bench summary: RestApi x${n} ${what} reported ${r.resources} resources`);
    }
    return 1000 * r.seconds / r.resources;
}

export function summarize(m: BenchMeasurements): BenchSummary {
    const floor = m.kubectlApply.seconds + m.kubectlWait.seconds;
    if (!(floor > 0) || !(m.preview.seconds > 0)) {
        throw new Error(`bench summary: kubectl floor (${floor} s) and preview (${m.preview.seconds} s) must be positive`);
    }
    return {
        up_s: round(m.up.seconds, 1),
        kubectl_floor_s: round(floor, 1),
        up_vs_kubectl_ratio: round(m.up.seconds / floor, 2),
        noop_up_s: round(m.noopUp.seconds, 1),
        preview_s: round(m.preview.seconds, 1),
        preview_without_pack_s: round(m.previewWithoutPack.seconds, 1),
        pack_share_of_preview: round((m.preview.seconds - m.previewWithoutPack.seconds) / m.preview.seconds, 3),
        up_ms_per_resource_x1: round(perResource(m.restApiUp, 1, "up"), 0),
        up_ms_per_resource_x10: round(perResource(m.restApiUp, 10, "up"), 0),
        up_ms_per_resource_x50: round(perResource(m.restApiUp, 50, "up"), 0),
        preview_ms_per_resource_x50: round(perResource(m.restApiPreview, 50, "preview"), 0),
        measured_at: Math.floor(m.measuredAt.getTime() / 1000),
    };
}

/** The ratios beside their targets, with the peak memory of the commands behind each. */
export function targetLines(s: BenchSummary, m: BenchMeasurements): string[] {
    const mb = (...t: Timed[]) => t.map(x => `${x.peakMb.toFixed(0)} MB`).join(" / ");
    const verdict = (ok: boolean) => (ok ? "met" : "NOT met");
    const x50VsX10 = s.up_ms_per_resource_x50 / s.up_ms_per_resource_x10;
    const pvX50 = m.restApiPreview[50];
    return [
        `| figure | measured | target | | peak RSS |`,
        `|---|---:|---:|---|---:|`,
        `| up / kubectl floor | ${s.up_vs_kubectl_ratio.toFixed(2)}x (${s.up_s} s / ${s.kubectl_floor_s} s) | <= ${TARGETS.upVsKubectl}x | ${verdict(s.up_vs_kubectl_ratio <= TARGETS.upVsKubectl)} | up ${mb(m.up)}, kubectl ${mb(m.kubectlApply)} |`,
        `| no-op up | ${s.noop_up_s} s | <= ${TARGETS.noopUpSeconds} s | ${verdict(s.noop_up_s <= TARGETS.noopUpSeconds)} | ${mb(m.noopUp)} |`,
        `| pack share of preview | ${(100 * s.pack_share_of_preview).toFixed(1)} % (${s.preview_s} s with, ${s.preview_without_pack_s} s without) | <= ${100 * TARGETS.packShareOfPreview} % | ${verdict(s.pack_share_of_preview <= TARGETS.packShareOfPreview)} | with ${mb(m.preview)}, without ${mb(m.previewWithoutPack)} |`,
        `| up ms/resource x1 / x10 / x50 | ${s.up_ms_per_resource_x1} / ${s.up_ms_per_resource_x10} / ${s.up_ms_per_resource_x50} (x50 = ${x50VsX10.toFixed(2)} * x10) | x50 <= ${TARGETS.x50VsX10} * x10 | ${verdict(x50VsX10 <= TARGETS.x50VsX10)} | ${mb(m.restApiUp[1], m.restApiUp[10], m.restApiUp[50])} |`,
        `| preview ms/resource x50 | ${s.preview_ms_per_resource_x50} | | | ${pvX50 ? mb(pvX50) : ""} |`,
    ];
}
