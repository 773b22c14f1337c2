/**
 * The URN-set guard: the whole program under the mocks must register exactly the URNs (and the
 * Kubernetes namespace/name) of the checked-in snapshot, so a refactor never moves anything in a
 * live stack. `npm run urns:update` rewrites the snapshots (only for a deliberate change: a moved
 * URN needs a Pulumi alias).
 */
import { expect } from "chai";
import * as fs from "fs";
import { ALL_STACKS, urnLines, urnSnapshotPath } from "./stack-resources";

const UPDATE = process.env.URNS_UPDATE === "1";

/** Lines only in `actual` ("+ ") and only in `expected` ("- "), as a multiset difference. */
export function urnDiff(expected: string[], actual: string[]): string[] {
    const count = new Map<string, number>();
    for (const l of expected) {
        count.set(l, (count.get(l) ?? 0) + 1);
    }
    const added: string[] = [];
    for (const l of actual) {
        const n = count.get(l) ?? 0;
        if (n > 0) {
            count.set(l, n - 1);
        } else {
            added.push(`+ ${l}`);
        }
    }
    const removed = [...count.entries()].flatMap(([l, n]) => Array<string>(n).fill(`- ${l}`));
    return [...added, ...removed.sort()];
}

describe("URN set", () => {
    it("reports added and removed lines", () => {
        expect(urnDiff(["a", "b", "b"], ["b", "c"])).to.deep.equal(["+ c", "- a", "- b"]);
    });

    for (const stack of ALL_STACKS) {
        it(`registers exactly the URNs of tests/unit/urns/${stack}.txt`, async function () {
            // Builds the whole stack when no earlier test has (run alone, on a loaded machine).
            this.timeout(120000);
            const actual = await urnLines(stack);
            const file = urnSnapshotPath(stack);
            if (UPDATE) {
                fs.writeFileSync(file, `${actual.join("\n")}\n`);
            }
            const expected = fs.readFileSync(file, "utf8").split("\n").filter(l => l !== "");
            const diff = urnDiff(expected, actual);
            expect(diff, `URN set of ${stack} changed (npm run urns:update after adding aliases):\n${diff.join("\n")}\n`)
                .to.deep.equal([]);
        });
    }
});
