/**
 * components/database/scripts/redis/cluster-slots.sh (sourced by cluster-create.sh and
 * cluster-shrink.sh): `redis-cli --cluster fix` runs only where a slot is open or uncovered, never
 * on the few seconds of "Nodes don't agree" after a slot move. Run with sh against a stand-in
 * `redis-cli` that answers `--cluster check` from a script of answers and records every call (the
 * real redis-cli runs the whole scripts in tests/runtime/redis.test.ts, where a disagreement is a
 * matter of timing).
 */
import { expect } from "chai";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const SCRIPT = path.join(__dirname, "..", "..", "components", "database", "scripts", "redis", "cluster-slots.sh");

const ANSWERS: Record<string, { out: string; status: number }> = {
    ok: { out: "[OK] All nodes agree about slots configuration.\n[OK] All 16384 slots covered.", status: 0 },
    disagree: { out: "[ERR] Nodes don't agree about configuration!\n[OK] All 16384 slots covered.", status: 1 },
    open: { out: "[OK] All nodes agree about slots configuration.\n[WARNING] Node 127.0.0.1:7001 has slots in migrating state 15495.\n[WARNING] The following slots are open: 15495.", status: 1 },
};

/**
 * Runs `repair_slots` with `checks` as the successive answers to `--cluster check` (the last one
 * repeats); returns the redis-cli calls in order and the function's output.
 */
function repair(checks: (keyof typeof ANSWERS)[], agreeSeconds = 30): { calls: string[]; out: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cluster-slots-"));
    try {
        checks.forEach((c, i) => {
            fs.writeFileSync(path.join(dir, `answer-${i}.out`), `${ANSWERS[c].out}\n`);
            fs.writeFileSync(path.join(dir, `answer-${i}.status`), String(ANSWERS[c].status));
        });
        fs.writeFileSync(path.join(dir, "redis-cli"), [
            "#!/bin/sh",
            `d='${dir}'`,
            'echo "$*" >> "$d/calls"',
            'case "$*" in',
            '  *"--cluster check"*)',
            '    n=$(cat "$d/n" 2>/dev/null || echo 0)',
            `    i=$n; [ "$i" -gt ${checks.length - 1} ] && i=${checks.length - 1}`,
            '    echo $((n + 1)) > "$d/n"',
            '    cat "$d/answer-$i.out"; exit "$(cat "$d/answer-$i.status")" ;;',
            '  *"--cluster fix"*) echo fixed; exit 0 ;;',
            "esac",
            "",
        ].join("\n"), { mode: 0o755 });
        const out = execFileSync("sh", ["-c", `. '${SCRIPT}'; repair_slots 127.0.0.1:7000 test`], {
            encoding: "utf8", env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, AGREE_SECONDS: String(agreeSeconds) },
        });
        const calls = fs.existsSync(path.join(dir, "calls")) ? fs.readFileSync(path.join(dir, "calls"), "utf8").trim().split("\n") : [];
        return { calls, out };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

describe("Redis Cluster scripts: repair_slots (cluster-slots.sh)", () => {
    it("does nothing on a healthy cluster", () => {
        expect(repair(["ok"]).calls).to.deep.equal(["--cluster check 127.0.0.1:7000"]);
    });

    it("waits while the nodes disagree and fixes nothing once they agree", () => {
        const r = repair(["disagree", "disagree", "ok"]);
        expect(r.calls).to.deep.equal(Array(3).fill("--cluster check 127.0.0.1:7000"));
        expect(r.out).to.equal("");
    });

    it("fixes an open slot, saying which", () => {
        const r = repair(["open"]);
        expect(r.calls).to.deep.equal(["--cluster check 127.0.0.1:7000", "--cluster fix 127.0.0.1:7000 --cluster-yes"]);
        expect(r.out).to.contain("test: fixing open slots ([WARNING] Node 127.0.0.1:7001 has slots in migrating state 15495.");
    });

    it("fixes a slot still open once the disagreement has passed", () => {
        const r = repair(["disagree", "open"]);
        expect(r.calls).to.deep.equal([
            "--cluster check 127.0.0.1:7000", "--cluster check 127.0.0.1:7000", "--cluster fix 127.0.0.1:7000 --cluster-yes",
        ]);
    });

    it("fixes after AGREE_SECONDS when the nodes never agree", () => {
        const r = repair(["disagree"], 2);
        expect(r.calls).to.deep.equal([
            ...Array(3).fill("--cluster check 127.0.0.1:7000"), "--cluster fix 127.0.0.1:7000 --cluster-yes",
        ]);
        expect(r.out).to.contain("test: fixing open slots ([ERR] Nodes don't agree about configuration!");
    });
});
