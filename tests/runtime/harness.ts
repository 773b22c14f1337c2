/**
 * Runtime test harness: runs the real server binaries as local processes (no containers) with the
 * scripts, config files, args and environment the components generate. A container of a rendered
 * pod (captured under the Pulumi mocks) is turned into a local command: every mounted ConfigMap
 * is written to a temp dir and its mount path rewritten to that dir, every mounted Secret likewise
 * (its files hold the test's credentials, with the volume's mode), secretKeyRef env gets the
 * test's credentials, downward-API env the member's pod name. Processes run as a non-root user
 * and are stopped at the end of each test file, also when a test failed.
 */
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { RecordedResource } from "../unit/mocks";

export const PG_BIN = process.env.PG_BIN ?? "/usr/lib/postgresql/15/bin";

/** The first line of `<binary> --version`, printed by each test file. */
export function versionOf(binary: string): string {
    return execFileSync(binary, ["--version"], { encoding: "utf8" }).split("\n")[0];
}

/**
 * Runs as `user` when the tests run as root (servers refuse root); as the current user otherwise.
 * setpriv execs the command itself (runuser would fork and wait), so the pid we signal is the server's.
 */
export function asUser(user: string, command: string, args: string[]): [string, string[]] {
    return process.getuid && process.getuid() === 0
        ? ["setpriv", [`--reuid=${user}`, `--regid=${user}`, "--init-groups", "--", command, ...args]]
        : [command, args];
}

/** A temp dir owned by `user`. */
export function tempDir(user: string, prefix: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
    fs.chmodSync(dir, 0o755);
    if (process.getuid && process.getuid() === 0) {
        execFileSync("chown", ["-R", `${user}:`, dir]);
    }
    return dir;
}

export function chownTo(user: string, target: string): void {
    if (process.getuid && process.getuid() === 0) {
        execFileSync("chown", ["-R", `${user}:`, target]);
    }
}

export interface LocalContainer {
    command: string;
    args: string[];
    env: Record<string, string>;
}

/** A materialized container: also where each of its mount paths landed locally (longest first). */
export interface MaterializedContainer extends LocalContainer {
    mounts: [string, string][];
}

export interface Materialize {
    /** Values of Secret keys (secretKeyRef env vars and the files of Secret volumes), by Secret key. */
    secrets: Record<string, string>;
    /** Value of fieldRef metadata.name. */
    podName: string;
    /** ConfigMaps by Kubernetes name (as the pod's volumes reference them). */
    configMaps: Record<string, Record<string, string>>;
    /** Where to write mounted ConfigMaps (one sub-dir per volume). */
    dir: string;
    user: string;
    /** Other path rewrites (mount path -> local dir), e.g. the data volume. */
    paths?: Record<string, string>;
    /** Env values to replace (e.g. a member's DNS name -> 127.0.0.1) and env to add. */
    envOverride?: Record<string, string>;
}

/**
 * Rewrites whole paths only: a mount path at the start of a word (or after '=' or a quote),
 * followed by '/', a space, a quote, ';' or ',' (nginx and YAML syntax) or the end. One pass, so a rewritten path is not rewritten again.
 */
export function rewrite(value: string, paths: [string, string][]): string {
    if (paths.length === 0) {
        return value;
    }
    const to = new Map(paths);
    const alternatives = paths.map(([from]) => from.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|");
    return value.replace(new RegExp(`(^|[\\s="'])(${alternatives})(?=$|[\\s/"';,])`, "g"), (_m, pre: string, from: string) => `${pre}${to.get(from)}`);
}

/** Kubernetes' dependent env: $(NAME) is replaced by an earlier variable of the container. */
function expandRefs(env: Record<string, string>): void {
    for (const [k, v] of Object.entries(env)) {
        env[k] = v.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string) => env[name] ?? m);
    }
}

/** A container of a recorded Deployment/StatefulSet/CronJob pod spec as a local command. */
export function materialize(podSpec: any, containerName: string, m: Materialize): MaterializedContainer {
    const all = [...(podSpec.initContainers ?? []), ...podSpec.containers];
    const c = all.find((x: { name: string }) => x.name === containerName);
    if (!c) {
        throw new Error(`no container ${containerName} (have: ${all.map((x: { name: string }) => x.name).join(", ")})`);
    }
    const paths: [string, string][] = Object.entries(m.paths ?? {});
    for (const mount of c.volumeMounts ?? []) {
        const vol = (podSpec.volumes ?? []).find((v: { name: string }) => v.name === mount.name);
        if (vol?.configMap) {
            const data = m.configMaps[vol.configMap.name];
            if (!data) {
                throw new Error(`ConfigMap ${vol.configMap.name} was not captured`);
            }
            const local = path.join(m.dir, `cm-${mount.name}`);
            fs.mkdirSync(local, { recursive: true });
            for (const [file, content] of Object.entries(data)) {
                fs.writeFileSync(path.join(local, file), content, { mode: vol.configMap.defaultMode ?? 0o644 });
            }
            chownTo(m.user, local);
            // A subPath mount puts one file of the ConfigMap at the mount path.
            paths.push([mount.mountPath, mount.subPath ? path.join(local, mount.subPath) : local]);
        } else if (vol?.secret) {
            const local = path.join(m.dir, `secret-${mount.name}`);
            fs.mkdirSync(local, { recursive: true });
            const items: { key: string; path: string }[] = vol.secret.items ?? Object.keys(m.secrets).map(key => ({ key, path: key }));
            for (const item of items) {
                const v = m.secrets[item.key];
                if (v === undefined) {
                    throw new Error(`no test value for secret key ${item.key}`);
                }
                fs.writeFileSync(path.join(local, item.path), v, { mode: vol.secret.defaultMode ?? 0o644 });
            }
            chownTo(m.user, local);
            paths.push([mount.mountPath, local]);
        }
    }
    paths.sort((a, b) => b[0].length - a[0].length);
    const env: Record<string, string> = {};
    for (const e of c.env ?? []) {
        if (e.value !== undefined) {
            env[e.name] = rewrite(e.value, paths);
        } else if (e.valueFrom?.secretKeyRef) {
            const v = m.secrets[e.valueFrom.secretKeyRef.key];
            if (v === undefined) {
                throw new Error(`no test value for secret key ${e.valueFrom.secretKeyRef.key}`);
            }
            env[e.name] = v;
        } else if (e.valueFrom?.fieldRef?.fieldPath === "metadata.name") {
            env[e.name] = m.podName;
        }
    }
    expandRefs(env);
    Object.assign(env, m.envOverride ?? {});
    const argv = [...(c.command ?? []), ...(c.args ?? [])].map((a: string) => rewrite(a, paths));
    return { command: argv[0], args: argv.slice(1), env, mounts: paths };
}

/** Every process a test file started; stopAll() ends them (after each file, also on failure). */
const running = new Set<ChildProcess>();

export interface Proc {
    child: ChildProcess;
    output: () => string;
    exited: Promise<number | null>;
}

/** Starts a long-running process as `user`, output kept for failure messages. */
export function start(user: string, c: LocalContainer, cwd: string): Proc {
    const [cmd, args] = asUser(user, c.command, c.args);
    // Its own process group: stopping it also stops what a script started (sleep, redis-cli).
    const child = spawn(cmd, args, { cwd, env: { PATH: `${PG_BIN}:${process.env.PATH}`, ...c.env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let out = "";
    child.stdout.on("data", d => { out += d; });
    child.stderr.on("data", d => { out += d; });
    running.add(child);
    // "exit" can come before the last output is read: wait for both pipes to close too (bounded,
    // since a daemon the process left behind may hold them open).
    const drained = Promise.all([child.stdout, child.stderr].map(s => new Promise<void>(resolve => s.once("close", () => resolve()))));
    const exited = new Promise<number | null>(resolve => child.on("exit", code => {
        running.delete(child);
        const grace = new Promise<void>(r => setTimeout(r, 2000).unref());
        void Promise.race([drained, grace]).then(() => resolve(code));
    }));
    return { child, output: () => out, exited };
}

/** Runs a command to completion as `user`; rejects with its output on a non-zero exit. */
export async function run(user: string, c: LocalContainer, cwd: string, timeoutMs = 120000): Promise<string> {
    const p = start(user, c, cwd);
    const timer = setTimeout(() => killGroup(p.child, "SIGKILL"), timeoutMs);
    const code = await p.exited;
    clearTimeout(timer);
    if (code !== 0) {
        throw new Error(`${c.command} ${c.args.join(" ")} exited ${code}:\n${p.output()}`);
    }
    return p.output();
}

/** Stops a process: SIGINT (postgres: fast shutdown; redis: save and exit), SIGKILL after 20 s. */
export async function stop(p: Proc, signal: NodeJS.Signals = "SIGINT"): Promise<void> {
    if (p.child.exitCode !== null || p.child.signalCode !== null) {
        return;
    }
    const timer = setTimeout(() => killGroup(p.child, "SIGKILL"), 20000);
    killGroup(p.child, signal);
    await p.exited;
    clearTimeout(timer);
}

/** Signals the process group a started process leads (see start()). */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
    try {
        process.kill(-child.pid!, signal);
    } catch {
        child.kill(signal);
    }
}

export async function stopAll(): Promise<void> {
    await Promise.all([...running].map(child => {
        const exited = new Promise<void>(resolve => child.once("exit", () => resolve()));
        killGroup(child, "SIGKILL");
        return exited;
    }));
}

/** Resolves when something accepts connections on 127.0.0.1:port. */
export async function waitForPort(port: number, timeoutMs = 60000, proc?: Proc): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const ok = await new Promise<boolean>(resolve => {
            const s = net.connect(port, "127.0.0.1");
            s.once("connect", () => { s.destroy(); resolve(true); });
            s.once("error", () => resolve(false));
        });
        if (ok) {
            // Something else may hold the port (an orphan of an earlier run, a parallel test):
            // then the process just started fails to bind and exits. Never test against a stranger.
            if (proc) {
                await new Promise(r => setTimeout(r, 300));
                if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
                    throw new Error(`127.0.0.1:${port} answers, but the process started for it exited ${proc.child.exitCode ?? proc.child.signalCode} (port held by another process?):\n${proc.output()}`);
                }
            }
            return;
        }
        if (proc && proc.child.exitCode !== null) {
            throw new Error(`process exited ${proc.child.exitCode} before listening on ${port}:\n${proc.output()}`);
        }
        if (Date.now() > deadline) {
            throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms${proc ? `:\n${proc.output()}` : ""}`);
        }
        await new Promise(r => setTimeout(r, 200));
    }
}

/** Retries `check` until it returns a value that is not undefined, or fails with the last error. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
        try {
            const v = await check();
            if (v !== undefined) {
                return v;
            }
        } catch (e) {
            last = e;
        }
        if (Date.now() > deadline) {
            throw new Error(`${what}: not true after ${timeoutMs} ms${last ? ` (last error: ${last instanceof Error ? last.message : JSON.stringify(last)})` : ""}`);
        }
        await new Promise(r => setTimeout(r, 300));
    }
}

/** ConfigMaps of a capture, by Kubernetes name. */
export function configMapsOf(res: RecordedResource[]): Record<string, Record<string, string>> {
    return Object.fromEntries(res.filter(r => r.type === "kubernetes:core/v1:ConfigMap").map(r => [r.inputs.metadata.name, r.inputs.data]));
}
