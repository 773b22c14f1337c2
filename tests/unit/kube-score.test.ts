import { expect } from "chai";
import {
    criticalFindings, entriesYaml, Finding, IgnoreFile, loadIgnoreFile, parseIgnoreFile, stale, unlisted,
} from "../../scripts/lib/kube-score";

/** kube-score's JSON (format v2) of one Deployment: one critical container check, one skipped, one OK, one pod-level. */
const SAMPLE = JSON.stringify([{
    object_name: "Deployment/apps/v1/shop/api",
    type_meta: { kind: "Deployment", apiVersion: "apps/v1" },
    object_meta: { name: "api", namespace: "shop" },
    checks: [
        { check: { id: "container-image-pull-policy", comment: "" }, grade: 1, skipped: false,
            comments: [{ path: "api", summary: "ImagePullPolicy is not set to Always", description: "" }] },
        { check: { id: "container-memory-requests-equal-limits", comment: "" }, grade: 1, skipped: true,
            comments: [{ path: "", summary: "Skipped", description: "" }] },
        { check: { id: "label-values", comment: "" }, grade: 10, skipped: false, comments: null },
        { check: { id: "pod-probes-identical", comment: "" }, grade: 1, skipped: false,
            comments: [{ path: "", summary: "Container has the same readiness and liveness probe", description: "" }] },
    ],
}, {
    object_name: "ClusterRole/rbac.authorization.k8s.io/v1//reader",
    type_meta: { kind: "ClusterRole", apiVersion: "rbac.authorization.k8s.io/v1" },
    object_meta: { name: "reader" },
    checks: [{ check: { id: "some-check", comment: "a cluster-scoped finding" }, grade: 1, skipped: false, comments: [] }],
}]);

const REASON = "IfNotPresent on purpose: the image is pinned by tag and pulled without credentials.";

describe("kube-score comparison (scripts/lib/kube-score.ts)", () => {
    const findings = criticalFindings(SAMPLE, "dev");

    it("keeps only non-skipped CRITICAL findings, with object, check and container", () => {
        expect(findings).to.deep.equal([
            { stack: "dev", object: "Deployment/shop/api", check: "container-image-pull-policy", container: "api", summary: "ImagePullPolicy is not set to Always" },
            { stack: "dev", object: "Deployment/shop/api", check: "pod-probes-identical", container: undefined, summary: "Container has the same readiness and liveness probe" },
            { stack: "dev", object: "ClusterRole/reader", check: "some-check", container: undefined, summary: "a cluster-scoped finding" },
        ]);
    });

    it("reports a finding no entry lists, and none that an entry lists (object, check, containers)", () => {
        const ignore: IgnoreFile = {
            ignored: [{ object: "Deployment/shop/api", check: "container-image-pull-policy", containers: ["api"], reason: REASON }],
            pendingRemoval: [{ object: "Deployment/shop/api", check: "pod-probes-identical", reason: REASON }],
        };
        expect(unlisted(findings, ignore).map(f => f.check)).to.deep.equal(["some-check"]);
    });

    it("does not let an entry for one container cover another", () => {
        const other: Finding = { ...findings[0], container: "sidecar" };
        const ignore: IgnoreFile = { ignored: [{ object: "Deployment/shop/api", check: "container-image-pull-policy", containers: ["api"], reason: REASON }], pendingRemoval: [] };
        expect(unlisted([other], ignore)).to.deep.equal([other]);
    });

    it("names entries that match no finding any more (to prune)", () => {
        const gone = { object: "Deployment/shop/old", check: "pod-probes-identical", reason: REASON };
        expect(stale(findings, { ignored: [gone], pendingRemoval: [] })).to.deep.equal([gone]);
    });

    it("prints unlisted findings as entries whose reason is still to write (refused until written)", () => {
        const text = entriesYaml(findings.slice(0, 2));
        expect(text).to.contain("  - object: Deployment/shop/api\n    check: container-image-pull-policy\n    containers: [api]\n    reason: \"TODO why");
        expect(() => parseIgnoreFile(`ignored:\n${text}\n`)).to.throw(/ignored\[0\]\.reason: .* does not say why/);
    });

    describe("the ignore file", () => {
        it("the committed kube-score-ignore.yaml is valid: every entry names its object, check and reason", () => {
            const file = loadIgnoreFile();
            expect(file.ignored.length + file.pendingRemoval.length).to.be.greaterThan(0);
        });

        const entry = `  - object: Deployment/shop/api\n    check: container-image-pull-policy\n    reason: "${REASON}"\n`;
        const bad: [string, string, RegExp][] = [
            ["a missing reason", "ignored:\n  - object: Deployment/shop/api\n    check: x\n", /ignored\[0\]: reason is missing/],
            ["a reason that says nothing", "ignored:\n  - object: Deployment/shop/api\n    check: x\n    reason: accepted\n", /reason: "accepted" does not say why/],
            ["a missing check", "ignored:\n  - object: Deployment/shop/api\n    reason: \"" + REASON + "\"\n", /ignored\[0\]: check is missing/],
            ["an object that is not Kind/namespace/name", "ignored:\n  - object: api\n    check: x\n    reason: \"" + REASON + "\"\n", /object: "api" is not Kind\/namespace\/name/],
            ["an unknown key", `ignored:\n${entry}    note: x\n`, /unknown key "note"/],
            ["an unknown section", `accepted:\n${entry}`, /unknown section "accepted"; allowed: ignored, pendingRemoval/],
            ["the same object and check twice", `ignored:\n${entry}pendingRemoval:\n${entry}`, /pendingRemoval\[0\]: Deployment\/shop\/api container-image-pull-policy is listed twice/],
            ["an empty containers list", `ignored:\n${entry}    containers: []\n`, /containers: a non-empty list/],
        ];
        for (const [what, text, error] of bad) {
            it(`refuses ${what}`, () => {
                expect(() => parseIgnoreFile(text)).to.throw(error);
            });
        }
    });
});
