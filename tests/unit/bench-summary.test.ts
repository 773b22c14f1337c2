import { expect } from "chai";
import { BenchMeasurements, summarize, targetLines } from "../../scripts/lib/bench-summary";

function measurements(): BenchMeasurements {
    return {
        up: { seconds: 60, peakMb: 1200 },
        kubectlApply: { seconds: 10, peakMb: 70 },
        kubectlWait: { seconds: 15, peakMb: 0 },
        noopUp: { seconds: 20, peakMb: 1300 },
        preview: { seconds: 16, peakMb: 1100 },
        previewWithoutPack: { seconds: 12, peakMb: 800 },
        restApiUp: {
            1: { seconds: 3.3, peakMb: 500, resources: 33 },
            10: { seconds: 31.2, peakMb: 600, resources: 312 },
            50: { seconds: 186.24, peakMb: 1400, resources: 1552 },
        },
        restApiPreview: { 50: { seconds: 31.04, peakMb: 1200, resources: 1552 } },
        measuredAt: new Date("2026-12-01T22:00:00Z"),
    };
}

describe("bench summary (docs/benchmarks.json)", () => {
    it("has exactly the issue's keys, all numbers", () => {
        const s = summarize(measurements());
        expect(Object.keys(s).sort()).to.deep.equal([
            "kubectl_floor_s", "measured_at", "noop_up_s", "pack_share_of_preview", "preview_ms_per_resource_x50",
            "preview_s", "preview_without_pack_s", "up_ms_per_resource_x1", "up_ms_per_resource_x10",
            "up_ms_per_resource_x50", "up_s", "up_vs_kubectl_ratio",
        ]);
        for (const [k, v] of Object.entries(s)) {
            expect(v, k).to.be.a("number").and.satisfy(Number.isFinite);
        }
    });

    it("derives the ratios from the measured times", () => {
        const s = summarize(measurements());
        expect(s.kubectl_floor_s).to.equal(25);
        expect(s.up_vs_kubectl_ratio).to.equal(2.4);
        expect(s.pack_share_of_preview).to.equal(0.25);
        expect(s.up_ms_per_resource_x1).to.equal(100);
        expect(s.up_ms_per_resource_x10).to.equal(100);
        expect(s.up_ms_per_resource_x50).to.equal(120);
        expect(s.preview_ms_per_resource_x50).to.equal(20);
        expect(s.noop_up_s).to.equal(20);
        expect(s.measured_at).to.equal(Date.UTC(2026, 11, 1, 22) / 1000);
    });

    it("prints each ratio beside its target and the peak memory", () => {
        const m = measurements();
        const lines = targetLines(summarize(m), m).join("\n");
        expect(lines).to.match(/up \/ kubectl floor \| 2\.40x \(60 s \/ 25 s\) \| <= 2x \| NOT met \| up 1200 MB, kubectl 70 MB/);
        expect(lines).to.match(/no-op up \| 20 s \| <= 15 s \| NOT met \| 1300 MB/);
        expect(lines).to.match(/pack share of preview \| 25\.0 % .* \| <= 15 % \| NOT met/);
        expect(lines).to.match(/x50 = 1\.20 \* x10\) \| x50 <= 1\.2 \* x10 \| met \| 500 MB \/ 600 MB \/ 1400 MB/);
    });

    it("names the RestApi count it lacks", () => {
        const m = measurements();
        delete m.restApiUp[50];
        expect(() => summarize(m)).to.throw(/RestApi x50 up/);
    });
});
