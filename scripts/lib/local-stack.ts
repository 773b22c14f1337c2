/**
 * The local cluster (scripts/cluster.sh), Kafka broker (scripts/kafka-broker.sh) and `local`
 * stack variants, isolated on their own ports and state dirs (E2E_STATE_DIR, default .state/e2e):
 * a Pulumi file backend of their own and config written as full files (STACK_CONFIG_FILE), so the
 * committed Pulumi.local.yaml and a developer's running `local` stack are never touched.
 * Shared by the end-to-end tests (tests/e2e/harness.ts) and the benchmarks (scripts/bench.ts).
 */
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-call -- kubectl JSON, `pulumi stack export` and stack config YAML are untyped */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";

export const ROOT = path.join(__dirname, "..", "..");
export const E2E_DIR = path.resolve(ROOT, process.env.E2E_STATE_DIR ?? path.join(".state", "e2e"));
export const CLUSTER_DIR = path.join(E2E_DIR, "cluster");
export const KUBECONFIG = path.join(CLUSTER_DIR, "kubeconfig");
export const KAFKA_PORT = process.env.E2E_KAFKA_PORT ?? "19092";
export const BOOTSTRAP = `127.0.0.1:${KAFKA_PORT}`;
export const LOG_DIR = path.join(E2E_DIR, "logs");

/**
 * `pulumi --parallel` of the commands that do not go through scripts/stack.sh (whose default,
 * STACK_PARALLEL or 64, this is: the reason is there and in docs/benchmarks.md).
 */
export const PARALLEL = process.env.STACK_PARALLEL ?? "64";

/** Environment of the isolated cluster and broker (ports differ from the developer defaults). */
export const CLUSTER_ENV: NodeJS.ProcessEnv = {
    K8S_PLATFORM_CLUSTER_DIR: CLUSTER_DIR,
    CLUSTER_API_PORT: process.env.E2E_API_PORT ?? "16443",
    CLUSTER_ETCD_PORT: "23791",
    CLUSTER_ETCD_PEER_PORT: "23801",
    CLUSTER_KCM_PORT: "10357",
    CLUSTER_SCHED_PORT: "10359",
    CLUSTER_KWOK_PORT: "10347",
    KAFKA_STATE_DIR: path.join(E2E_DIR, "kafka"),
    KAFKA_PORT,
    KAFKA_CONTROLLER_PORT: String(Number(KAFKA_PORT) + 1),
};

export interface RunResult {
    status: number;
    output: string;
    stdout: string;
    stderr: string;
    seconds: number;
}

export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, input?: string): RunResult {
    const start = Date.now();
    const r = spawnSync(cmd, args, {
        cwd: ROOT,
        env: { ...process.env, ...CLUSTER_ENV, ...env },
        encoding: "utf8",
        input,
        maxBuffer: 512 * 1024 * 1024,
    });
    if (r.error) {
        throw new Error(`cannot run ${cmd}: ${r.error.message}`);
    }
    return {
        status: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "",
        output: `${r.stdout ?? ""}${r.stderr ?? ""}`, seconds: (Date.now() - start) / 1000,
    };
}

export function mustRun(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): RunResult {
    const r = run(cmd, args, env);
    if (r.status !== 0) {
        throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}:\n${tail(r.output, 60)}`);
    }
    return r;
}

export function tail(text: string, lines: number): string {
    return text.split("\n").slice(-lines).join("\n");
}

// ---------------------------------------------------------------- cluster and broker

export function cluster(cmd: "start" | "stop" | "status"): RunResult {
    return run(path.join(ROOT, "scripts", "cluster.sh"), [cmd]);
}
export function broker(cmd: "start" | "stop" | "status"): RunResult {
    return run(path.join(ROOT, "scripts", "kafka-broker.sh"), [cmd]);
}
/** Kafka's admin tools against the e2e broker: `topics ...` or `configs ...`. */
export function kafkaTool(tool: "topics" | "configs", ...args: string[]): RunResult {
    return run(path.join(ROOT, "scripts", "kafka-broker.sh"), [tool, ...args]);
}

// ---------------------------------------------------------------- kubectl

export function kubectl(...args: string[]): RunResult {
    return run("kubectl", ["--kubeconfig", KUBECONFIG, ...args]);
}
export function kubectlJson<T = any>(...args: string[]): T {
    const r = kubectl(...args, "-o", "json");
    if (r.status !== 0) {
        throw new Error(`kubectl ${args.join(" ")}: ${r.output}`);
    }
    return JSON.parse(r.stdout) as T;
}

// ---------------------------------------------------------------- stacks

/** A deep copy of `base` with `patch` merged in (objects merged key by key; null deletes a key). */
export function merge(base: any, patch: any): any {
    if (patch === null || typeof patch !== "object" || Array.isArray(patch) || base === null || typeof base !== "object" || Array.isArray(base)) {
        return structuredClone(patch);
    }
    const out: any = structuredClone(base);
    for (const [k, v] of Object.entries(patch)) {
        if (v === null) {
            delete out[k];
        } else {
            out[k] = k in out ? merge(out[k], v) : structuredClone(v);
        }
    }
    return out;
}

/** The committed local stack's config, pointed at the e2e cluster and broker. */
export function localConfig(): Record<string, any> {
    const doc = yaml.load(fs.readFileSync(path.join(ROOT, "Pulumi.local.yaml"), "utf8")) as { config: Record<string, any> };
    return merge(doc.config, {
        "kubernetes:kubeconfig": KUBECONFIG,
        "k8s-platform:outbox": { kafka: { connection: { bootstrapServers: [BOOTSTRAP] } } },
        "k8s-platform:greenfield": { kafka: { topics: { bootstrapServers: [BOOTSTRAP] } } },
    });
}

/**
 * One Pulumi stack named `local` (so the pack reads policies/config.local.json) in a backend and
 * state dir of its own, with its config written to a file of its own.
 */
export class Stack {
    readonly dir: string;
    readonly configFile: string;
    config: Record<string, any>;

    constructor(readonly id: string, config: Record<string, any>) {
        this.dir = path.join(E2E_DIR, "stacks", id);
        this.configFile = path.join(this.dir, "Pulumi.local.yaml");
        this.config = config;
        fs.mkdirSync(path.join(this.dir, "backend"), { recursive: true });
        this.write(config);
    }

    /** Replace the config (e.g. with merge(stack.config, {...})). */
    write(config: Record<string, any>): void {
        this.config = config;
        fs.mkdirSync(path.join(this.dir, "backend"), { recursive: true });
        fs.writeFileSync(this.configFile, yaml.dump({ config }, { lineWidth: 200 }));
    }

    env(): NodeJS.ProcessEnv {
        return {
            STACK_CONFIG_FILE: this.configFile,
            STACK_STATE_DIR: this.dir,
            PULUMI_BACKEND_URL: `file://${path.join(this.dir, "backend")}`,
            PULUMI_CONFIG_PASSPHRASE: "k8s-platform-e2e",
        };
    }

    /** scripts/stack.sh CMD local ARGS; the output is also kept in .state/e2e/logs/. */
    run(cmd: "preview" | "up" | "destroy" | "refresh" | "recover", ...args: string[]): RunResult {
        this.write(this.config);
        const r = run(path.join(ROOT, "scripts", "stack.sh"), [cmd, "local", ...args], this.env());
        this.log(cmd, r.output);
        return r;
    }

    /** The same, in the background (for killing it or restarting the API server under it). */
    spawn(cmd: "up" | "destroy", ...args: string[]): { child: ChildProcess; done: Promise<RunResult> } {
        this.write(this.config);
        const start = Date.now();
        const child = spawn(path.join(ROOT, "scripts", "stack.sh"), [cmd, "local", ...args], {
            cwd: ROOT, env: { ...process.env, ...CLUSTER_ENV, ...this.env() }, detached: true,
        });
        let out = "";
        child.stdout.on("data", d => { out += d; });
        child.stderr.on("data", d => { out += d; });
        const done = new Promise<RunResult>(resolve => child.on("close", code => {
            this.log(`${cmd}-bg`, out);
            resolve({ status: code ?? -1, output: out, stdout: out, stderr: "", seconds: (Date.now() - start) / 1000 });
        }));
        return { child, done };
    }

    /** `pulumi cancel` alone: releases the lock a killed update left (the file backend keeps it). */
    cancel(): RunResult {
        const r = run(path.join(this.toolchain(), "pulumi"), ["cancel", "--yes", "--stack", "local", "--non-interactive"], { ...this.env(), PULUMI_SKIP_UPDATE_CHECK: "true" });
        this.log("cancel", r.output);
        return r;
    }

    /** Any pulumi command on this stack (its backend and passphrase), e.g. `state unprotect`. */
    pulumi(...args: string[]): RunResult {
        const r = run(path.join(this.toolchain(), "pulumi"), [...args, "--stack", "local", "--non-interactive"], { ...this.env(), PULUMI_SKIP_UPDATE_CHECK: "true" });
        this.log(args[0], r.output);
        return r;
    }

    /** The Kubernetes objects in the stack's state: kind/namespace/name. */
    stateObjects(): Array<{ kind: string; namespace: string; name: string }> {
        const r = mustRun(path.join(this.toolchain(), "pulumi"), ["stack", "export", "--stack", "local"], { ...this.env(), PULUMI_SKIP_UPDATE_CHECK: "true" });
        const dep = JSON.parse(r.stdout).deployment;
        return ((dep.resources ?? []) as any[])
            // External (read-only `get`s, e.g. the blue/green gate's `-live` reads) manage nothing.
            .filter(res => res.type.startsWith("kubernetes:") && !res.type.startsWith("pulumi:providers") && !res.external && res.outputs?.metadata)
            .map(res => ({ kind: res.outputs.kind, namespace: res.outputs.metadata.namespace ?? "", name: res.outputs.metadata.name }));
    }

    private toolchain(): string {
        return mustRun(path.join(ROOT, "scripts", "toolchain.sh"), ["--print-path"]).stdout.trim();
    }

    private log(cmd: string, output: string): void {
        fs.mkdirSync(LOG_DIR, { recursive: true });
        fs.writeFileSync(path.join(LOG_DIR, `${this.id}-${cmd}-${Date.now()}.log`), output);
    }
}

/** Counts of a `pulumi up/preview` summary: {create: n, update: n, replace: n, delete: n, same: n}. */
export function summary(output: string): Record<string, number> {
    const out: Record<string, number> = {};
    const block = output.split(/\nResources:\n/).pop() ?? "";
    for (const m of block.matchAll(/(?:^|\s|\.)\s*(?:[+~\-]+)?\s*(\d+) (to create|created|to update|updated|to replace|replaced|to delete|deleted|unchanged)/gm)) {
        const word = m[2].replace(/^to /, "");
        const k = ({ created: "create", updated: "update", replaced: "replace", deleted: "delete", unchanged: "same" } as Record<string, string>)[word] ?? word.replace("unchanged", "same");
        out[k] = Number(m[1]);
    }
    return out;
}

/** All pids below `pid` (children, grandchildren, ...), from /proc. */
export function descendants(pid: number): number[] {
    const children = new Map<number, number[]>();
    for (const line of run("ps", ["-eo", "pid=,ppid="]).stdout.trim().split("\n")) {
        const [p, pp] = line.trim().split(/\s+/).map(Number);
        children.set(pp, [...(children.get(pp) ?? []), p]);
    }
    const out: number[] = [];
    const walk = (p: number) => (children.get(p) ?? []).forEach(c => { out.push(c); walk(c); });
    walk(pid);
    return out;
}

/** Running (a zombie waiting to be reaped counts as gone). */
export function alive(pid: number): boolean {
    try {
        return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
    } catch {
        return false;
    }
}

export const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));
