/** Drives the real Pulumi CLI (built by scripts/toolchain.sh) through scripts/stack.sh. */
import { spawnSync } from "child_process";
import * as path from "path";
import { TEST_ALERTING_SECRETS } from "../unit/alerting-secrets";

export const ROOT = path.join(__dirname, "..", "..");

export interface RunResult {
    status: number;
    /** stdout followed by stderr */
    output: string;
    stdout: string;
    seconds: number;
}

export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): RunResult {
    const start = Date.now();
    const r = spawnSync(cmd, args, {
        cwd: opts.cwd ?? ROOT,
        env: { ...process.env, ...(opts.env ?? {}) },
        encoding: "utf8",
        maxBuffer: 256 * 1024 * 1024,
    });
    if (r.error) {
        throw new Error(`cannot run ${cmd}: ${r.error.message}`);
    }
    return { status: r.status ?? -1, output: `${r.stdout ?? ""}${r.stderr ?? ""}`, stdout: r.stdout ?? "", seconds: (Date.now() - start) / 1000 };
}

export function stack(cmd: string, name: string, ...extra: string[]): RunResult {
    // The receivers' endpoints the stack file declares (prod), as an operator sets them (README "Alerting").
    const secrets = TEST_ALERTING_SECRETS[name];
    return run(path.join(ROOT, "scripts", "stack.sh"), [cmd, name, ...extra],
        secrets ? { env: { K8S_PLATFORM_ALERTING_SECRETS: JSON.stringify(secrets) } } : {});
}

/** PATH and Pulumi environment for running the CLI directly (as scripts/stack.sh does). */
export function pulumiEnv(backendDir: string): NodeJS.ProcessEnv {
    const bin = run(path.join(ROOT, "scripts", "toolchain.sh"), ["--print-path"]);
    if (bin.status !== 0) {
        throw new Error(`toolchain unavailable:\n${bin.output}`);
    }
    return {
        // --print-path prints only the bin dir on stdout (progress goes to stderr).
        PATH: `${path.join(ROOT, "node_modules", ".bin")}:${bin.stdout.trim()}:${process.env.PATH ?? ""}`,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_NODEJS_TRANSPILE_ONLY: "true",
        PULUMI_BACKEND_URL: `file://${backendDir}`,
        PULUMI_CONFIG_PASSPHRASE: "engine-test",
    };
}
