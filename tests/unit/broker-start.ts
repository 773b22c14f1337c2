/**
 * Runs a KafkaCluster broker container's command as the pod would, from the captured resources:
 * the ConfigMap mounted at the script's directory is written to a temp dir, the kubelet's
 * $(POD_NAME) expansion is applied to the env, and the image's entrypoint (the command's last
 * argument) is replaced by `env`, which prints the environment the entrypoint would start with.
 */
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RecordedResource } from "./mocks";
import { byName, podSpec, T } from "./helpers";

/** The broker container of StatefulSet `sts` and the data of the ConfigMap each of its mounts shows. */
export function brokerContainer(res: RecordedResource[], sts: string): { container: any; mounted: Record<string, Record<string, string>> } {
    const spec = podSpec(byName(res, T.statefulSet, sts));
    const container = spec.containers[0];
    const mounted: Record<string, Record<string, string>> = {};
    for (const m of container.volumeMounts ?? []) {
        const vol = (spec.volumes ?? []).find((v: { name: string }) => v.name === m.name);
        if (vol?.configMap) {
            mounted[m.mountPath] = byName(res, T.configMap, vol.configMap.name).inputs.data;
        }
    }
    return { container, mounted };
}

/** The environment the image's entrypoint sees in pod `pod` (`<sts>-<ordinal>`). */
export function entrypointEnv(res: RecordedResource[], sts: string, pod: string): Record<string, string> {
    const { container, mounted } = brokerContainer(res, sts);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "broker-start-"));
    try {
        const argv: string[] = [...container.command, ...(container.args ?? [])];
        for (const [mountPath, data] of Object.entries(mounted)) {
            const local = path.join(dir, mountPath.replace(/\//g, "_"));
            fs.mkdirSync(local);
            for (const [file, content] of Object.entries(data)) {
                fs.writeFileSync(path.join(local, file), content, { mode: 0o555 });
            }
            argv.forEach((a, i) => { argv[i] = a.startsWith(`${mountPath}/`) ? local + a.slice(mountPath.length) : a; });
        }
        argv[argv.length - 1] = "env";
        const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", POD_NAME: pod };
        for (const e of container.env as { name: string; value?: string }[]) {
            if (e.value !== undefined) {
                env[e.name] = e.value.replace("$(POD_NAME)", pod);
            }
        }
        const r = spawnSync(argv[0], argv.slice(1), { encoding: "utf8", env });
        expect(r.status, r.stderr).to.equal(0);
        return Object.fromEntries(r.stdout.trim().split("\n").map(l => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
