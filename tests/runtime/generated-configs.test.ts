/**
 * Real consumers read the configs the stacks generate: every Prometheus of dev and prod is checked
 * by `promtool check config` (which also parses the rule files it loads), every alert rule group by
 * `promtool test rules` with the tests in fixtures/promtool/<group>.test.yml (one per alert: just past
 * its threshold it fires after its `for`, not before; just short of it, never), and the CDN's
 * nginx.conf by `nginx -t` and then by a real nginx serving files on the port its probes use; the
 * Alertmanager's alertmanager.yml (from its Secret) by `amtool check-config`, and its routes by
 * `amtool config routes test` (a critical alert reaches the pager); every OpenTelemetry Collector's
 * config by the collector's own `validate --config`.
 * Tools (scripts/runtime-deps.sh): promtool built from the Prometheus Go module at the images' version
 * (Debian's lacks the Kubernetes service discovery), Debian's nginx-light, amtool from Debian's
 * prometheus-alertmanager (0.25; the image runs 0.27, whose config format is the same for the fields generated),
 * and otelcol-validate built from tools/otelcol-validate (the collector library at the image's 0.111.0,
 * with the components the generated config uses).
 */
import { expect } from "chai";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { createPlatform } from "../../platform";
import { SERVICE_ACCOUNT_DIR } from "../../components/observability/prometheus";
import { capture, platformConfig, podSpec, T } from "../unit/helpers";
import { RecordedResource } from "../unit/mocks";
import { chownTo, configMapsOf, MaterializedContainer, materialize, rewrite, run, start, stopAll, tempDir, waitForPort } from "./harness";

const FIXTURES = path.join(__dirname, "fixtures", "promtool");
const STACKS = ["dev", "prod"];
const ROOT = path.join(__dirname, "..", "..");
const OTEL_REPOSITORY = "otel/opentelemetry-collector-contrib";

interface Pod { stack: string; workload: string; spec: any; res: RecordedResource[] }

/** Every Deployment/StatefulSet pod of the stack whose container runs `image` (repository match). */
function podsRunning(stack: string, res: RecordedResource[], repository: string): Pod[] {
    return res.filter(r => r.type === T.deployment || r.type === T.statefulSet)
        .filter(r => podSpec(r).containers.some((c: { image: string }) => c.image.split(":")[0] === repository))
        .map(r => ({ stack, workload: `${r.inputs.metadata.namespace}/${r.inputs.metadata.name}`, spec: podSpec(r), res }));
}

function containerOf(pod: Pod, repository: string): string {
    return pod.spec.containers.find((c: { image: string }) => c.image.split(":")[0] === repository).name;
}

let PROMTOOL = "promtool";

function tool(cmd: string, args: string[]): { status: number; output: string } {
    const r = spawnSync(cmd, args, { encoding: "utf8" });
    return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

describe("runtime: generated configs read by the real tools", function () {
    this.timeout(300000);
    const stacks: Record<string, RecordedResource[]> = {};
    let root = "";

    before(async () => {
        for (const s of STACKS) {
            stacks[s] = await capture(() => createPlatform(platformConfig(s)));
        }
        root = tempDir("www-data", "rt-configs");
        PROMTOOL = execFileSync(path.join(ROOT, "scripts", "runtime-deps.sh"), ["--promtool-path"], { encoding: "utf8" }).trim();
        console.log(`      ${execFileSync(PROMTOOL, ["--version"], { encoding: "utf8" }).split("\n")[0]} (the images run prom/prometheus:v2.54.1)`);
        console.log(`      ${tool("nginx", ["-v"]).output.trim()} (the CDN image runs nginx 1.27.2)`);
    });
    after(async () => {
        await stopAll();
        if (root) {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });

    /** The Prometheus container of a pod as local files: config and rules where its mounts put them. */
    function prometheus(pod: Pod): { config: string; ruleFiles: string[]; local: MaterializedContainer } {
        const dir = fs.mkdtempSync(path.join(root, "prometheus-"));
        // The kubelet projects the ServiceAccount token and the cluster CA into pods that automount them;
        // the kubelet scrape jobs name those files, and promtool checks that they exist.
        const paths: Record<string, string> = {};
        if (pod.spec.automountServiceAccountToken) {
            const sa = path.join(dir, "serviceaccount");
            fs.mkdirSync(sa);
            fs.writeFileSync(path.join(sa, "token"), "test-token\n");
            fs.writeFileSync(path.join(sa, "ca.crt"), "");
            paths[SERVICE_ACCOUNT_DIR] = sa;
        }
        const local = materialize(pod.spec, containerOf(pod, "prom/prometheus"), {
            secrets: {}, podName: "prometheus-0", configMaps: configMapsOf(pod.res), dir, user: "www-data", paths,
        });
        // No command: the image's entrypoint (prometheus) gets the args, the first of them in `command`.
        const arg = [local.command, ...local.args].find(a => a.startsWith("--config.file="));
        expect(arg, `${pod.workload}: --config.file`).to.not.equal(undefined);
        const config = arg!.slice("--config.file=".length);
        // rule_files name paths inside the pod: point them at the local copies of those mounts.
        fs.writeFileSync(config, rewrite(fs.readFileSync(config, "utf8"), local.mounts));
        const doc = yaml.load(fs.readFileSync(config, "utf8")) as { rule_files?: string[] };
        const ruleFiles = (doc.rule_files ?? []).flatMap(glob => {
            const d = path.dirname(glob);
            const re = new RegExp(`^${path.basename(glob).replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);
            return fs.existsSync(d) ? fs.readdirSync(d).filter(f => re.test(f)).map(f => path.join(d, f)) : [];
        });
        return { config, ruleFiles, local };
    }

    /** The Alertmanager of a stack: its config file as the pod reads it (from its Secret), written to a local file. */
    function alertmanagerConfigFile(stack: string): string {
        const pods = podsRunning(stack, stacks[stack], "prom/alertmanager");
        expect(pods, `${stack}: Alertmanager workloads`).to.have.lengthOf(1);
        const c = pods[0].spec.containers.find((x: { name: string }) => x.name === containerOf(pods[0], "prom/alertmanager"));
        const arg = (c.args as string[]).find(a => a.startsWith("--config.file="));
        expect(arg, "--config.file").to.not.equal(undefined);
        const secret = stacks[stack].find(r => r.type === T.secret && r.name === "alertmanager-config");
        const text = secret?.inputs.stringData?.[path.basename(arg!.slice("--config.file=".length))];
        expect(text, `${stack}: the config file's key in the Alertmanager's Secret`).to.be.a("string");
        const file = path.join(fs.mkdtempSync(path.join(root, "alertmanager-")), "alertmanager.yaml");
        fs.writeFileSync(file, text);
        return file;
    }

    /** The receivers an alert with these labels reaches (amtool config routes test: stdout; a warning goes to stderr). */
    function routesTo(file: string, labels: Record<string, string>): { status: number; output: string } {
        const r = spawnSync("amtool", ["config", "routes", "test", `--config.file=${file}`, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)],
            { encoding: "utf8" });
        return { status: r.status ?? -1, output: r.stdout };
    }

    for (const stack of STACKS) {
        it(`${stack}: amtool check-config accepts the Alertmanager's config`, () => {
            const r = tool("amtool", ["check-config", alertmanagerConfigFile(stack)]);
            expect(r.status, r.output).to.equal(0);
            expect(r.output).to.contain("SUCCESS");
        });
    }

    it("prod: amtool routes a critical alert to PagerDuty and a warning to Slack", () => {
        const file = alertmanagerConfigFile("prod");
        const critical = routesTo(file, { alertname: "HighErrorRate", severity: "critical", namespace: "outbox" });
        expect(critical.status, critical.output).to.equal(0);
        expect(critical.output.trim()).to.equal("pagerduty-oncall");
        const warning = routesTo(file, { alertname: "HighLatencyP95", severity: "warning", namespace: "outbox" });
        expect(warning.output.trim()).to.equal("slack-alerts");
    });

    it("dev: amtool routes a critical alert to the in-namespace webhook", () => {
        const r = routesTo(alertmanagerConfigFile("dev"), { alertname: "HighErrorRate", severity: "critical" });
        expect(r.status, r.output).to.equal(0);
        expect(r.output.trim()).to.equal("dev-webhook");
    });

    for (const stack of STACKS) {
        it(`${stack}: promtool check config accepts every Prometheus config and the rules it loads`, () => {
            const pods = podsRunning(stack, stacks[stack], "prom/prometheus");
            expect(pods.length, "Prometheus workloads").to.be.greaterThan(0);
            for (const pod of pods) {
                const p = prometheus(pod);
                expect(p.ruleFiles.length, `${pod.workload}: rule files`).to.be.greaterThan(0);
                const rules = p.ruleFiles.flatMap(f => (yaml.load(fs.readFileSync(f, "utf8")) as { groups: { rules: unknown[] }[] }).groups)
                    .reduce((n, g) => n + g.rules.length, 0);
                const r = tool(PROMTOOL, ["check", "config", p.config]);
                expect(r.status, `${pod.workload}:\n${r.output}`).to.equal(0);
                expect(r.output, pod.workload).to.contain(`SUCCESS: ${rules} rules found`);
            }
        });

        it(`${stack}: every alert of every rule group passes its promtool unit tests`, () => {
            for (const pod of podsRunning(stack, stacks[stack], "prom/prometheus")) {
                const p = prometheus(pod);
                for (const file of p.ruleFiles) {
                    const groups = (yaml.load(fs.readFileSync(file, "utf8")) as { groups: { name: string; rules: { alert?: string }[] }[] }).groups;
                    for (const g of groups) {
                        const fixture = path.join(FIXTURES, `${g.name}.test.yml`);
                        expect(fs.existsSync(fixture), `${pod.workload}: no promtool tests for rule group ${g.name} (${fixture})`).to.equal(true);
                        const tests = yaml.load(fs.readFileSync(fixture, "utf8")) as { tests: { alert_rule_test?: { alertname: string }[] }[] };
                        const tested = new Set(tests.tests.flatMap(t => (t.alert_rule_test ?? []).map(a => a.alertname)));
                        for (const rule of g.rules.filter(x => x.alert)) {
                            expect(tested.has(rule.alert!), `${g.name}: alert ${rule.alert} has no promtool test`).to.equal(true);
                        }
                        const testFile = path.join(path.dirname(file), `${g.name}.test.yml`);
                        fs.writeFileSync(testFile, yaml.dump({ rule_files: [file], ...(tests as object) }));
                        const r = tool(PROMTOOL, ["test", "rules", testFile]);
                        expect(r.status, `${pod.workload} ${g.name}:\n${r.output}`).to.equal(0);
                        expect(r.output).to.contain("SUCCESS");
                    }
                }
            }
        });
    }

    describe("the OpenTelemetry Collector's configs, read by otelcol validate", () => {
        let otelcol = "";

        before(() => {
            otelcol = execFileSync(path.join(ROOT, "scripts", "runtime-deps.sh"), ["--otelcol-path"], { encoding: "utf8" }).trim();
            console.log(`      ${execFileSync(otelcol, ["--version"], { encoding: "utf8" }).trim()} (the pods run ${OTEL_REPOSITORY}:0.111.0)`);
        });

        /** The collector's config file as the pod reads it (its ConfigMap mount, written locally): the path its --config names. */
        function collectorConfig(pod: Pod): string {
            const dir = fs.mkdtempSync(path.join(root, "otelcol-"));
            const local = materialize(pod.spec, containerOf(pod, OTEL_REPOSITORY), {
                secrets: {}, podName: "otel-collector-0", configMaps: configMapsOf(pod.res), dir, user: "www-data",
            });
            const arg = [local.command, ...local.args].find(a => a.startsWith("--config="));
            expect(arg, `${pod.workload}: --config`).to.not.equal(undefined);
            const file = arg!.slice("--config=".length);
            expect(fs.existsSync(file), `${pod.workload}: ${file} from the mounted ConfigMap`).to.equal(true);
            return file;
        }

        function validate(file: string): { status: number; output: string } {
            return tool(otelcol, ["validate", `--config=${file}`]);
        }

        for (const stack of STACKS) {
            it(`${stack}: every collector's config passes the collector's validate`, () => {
                const pods = podsRunning(stack, stacks[stack], OTEL_REPOSITORY);
                expect(pods.length, `${stack}: OpenTelemetry Collector workloads`).to.be.greaterThan(0);
                for (const pod of pods) {
                    const file = collectorConfig(pod);
                    const doc = yaml.load(fs.readFileSync(file, "utf8")) as { service: { pipelines: Record<string, unknown> } };
                    expect(Object.keys(doc.service.pipelines), pod.workload).to.have.members(["traces", "metrics"]);
                    const r = validate(file);
                    expect(r.status, `${pod.workload}:\n${r.output}`).to.equal(0);
                }
            });
        }

        it("rejects a config whose pipeline names an exporter that is not configured", () => {
            const pod = podsRunning("dev", stacks.dev, OTEL_REPOSITORY)[0];
            const doc = yaml.load(fs.readFileSync(collectorConfig(pod), "utf8")) as {
                exporters: Record<string, unknown>; service: { pipelines: { traces: { exporters: string[] } } };
            };
            expect(doc.exporters).to.not.have.property("otlp/zipkin");
            doc.service.pipelines.traces.exporters = ["otlp/zipkin"];
            const file = path.join(fs.mkdtempSync(path.join(root, "otelcol-broken-")), "otel-collector.yaml");
            fs.writeFileSync(file, yaml.dump(doc));
            const r = validate(file);
            expect(r.status, r.output).to.not.equal(0);
            expect(r.output).to.contain("service::pipelines::traces: references exporter \"otlp/zipkin\" which is not configured");
        });
    });

    describe("the CDN's nginx.conf, served by a real nginx (prod)", () => {
        let base = "";
        let origin = "";
        let wildcard = false;
        let probe: { path: string; port: number } = { path: "", port: 0 };

        before(async () => {
            const pods = podsRunning("prod", stacks.prod, "nginxinc/nginx-unprivileged");
            expect(pods, "CDN workloads").to.have.lengthOf(1);
            const pod = pods[0];
            const name = containerOf(pod, "nginxinc/nginx-unprivileged");
            const c = pod.spec.containers.find((x: { name: string }) => x.name === name);
            probe = { path: c.readinessProbe.httpGet.path, port: c.readinessProbe.httpGet.port };
            const dir = fs.mkdtempSync(path.join(root, "cdn-"));
            const html = path.join(dir, "html");
            fs.mkdirSync(html);
            fs.writeFileSync(path.join(html, "index.html"), "<h1>cstore</h1>\n");
            fs.writeFileSync(path.join(html, "app.0123abcd.js"), "console.log(1);\n");
            // The assets volume gets the files above, each emptyDir (/tmp, caches) a fresh dir.
            const paths: Record<string, string> = {};
            for (const m of c.volumeMounts as { name: string; mountPath: string }[]) {
                const vol = (pod.spec.volumes as { name: string; emptyDir?: object; persistentVolumeClaim?: object }[]).find(v => v.name === m.name);
                if (vol?.persistentVolumeClaim) {
                    paths[m.mountPath] = html;
                } else if (vol?.emptyDir) {
                    paths[m.mountPath] = fs.mkdtempSync(path.join(dir, "empty-"));
                }
            }
            expect(Object.values(paths), "the static assets claim").to.include(html);
            const local = materialize(pod.spec, name, {
                secrets: {}, podName: "cdn-0", configMaps: configMapsOf(pod.res), dir, user: "www-data", paths,
            });
            const conf = local.mounts.find(([from]) => from === "/etc/nginx/nginx.conf")?.[1];
            expect(conf, "nginx.conf mount").to.not.equal(undefined);
            // The pod logs to /dev/stdout and /dev/stderr (pipes there); the test's stdio are sockets, which
            // nginx cannot open by path, so the logs go to files here. Nothing else of the config changes.
            const logs = (text: string) => text.replace(/\/dev\/stderr(?=[\s;])/g, path.join(dir, "error.log")).replace(/\/dev\/stdout(?=[\s;])/g, path.join(dir, "access.log"));
            fs.writeFileSync(conf!, logs(rewrite(fs.readFileSync(conf!, "utf8"), local.mounts)));
            chownTo("www-data", dir);
            // Either "*" or a map of the configured origins (cstore.cdn.corsAllowOrigins).
            const text = fs.readFileSync(conf!, "utf8");
            wildcard = /add_header Access-Control-Allow-Origin \*/.test(text);
            origin = wildcard ? "https://shop.example.com"
                : /map \$http_origin \$cors_allow_origin \{[^}]*?\n\s*(https:\/\/\S+) \$http_origin;/.exec(text)?.[1] ?? "";
            expect(origin, "an allowed CORS origin").to.match(/^https:\/\//);

            await run("www-data", { command: "nginx", args: ["-t", "-c", conf!], env: {} }, dir);
            const proc = start("www-data", { command: "nginx", args: ["-c", conf!, "-g", "daemon off;"], env: {} }, dir);
            await waitForPort(probe.port, 20000, proc);
            base = `http://127.0.0.1:${probe.port}`;
        });

        it("answers its readiness probe's path on the probed port", async () => {
            const r = await fetch(`${base}${probe.path}`);
            expect(r.status).to.equal(200);
        });

        it("serves a content-hashed asset as immutable for a year", async () => {
            const r = await fetch(`${base}/app.0123abcd.js`);
            expect(r.status).to.equal(200);
            expect(r.headers.get("cache-control")).to.equal("public, max-age=31536000, immutable");
            expect(await r.text()).to.equal("console.log(1);\n");
        });

        it("serves other files with the shorter CDN cache policy", async () => {
            const r = await fetch(`${base}/index.html`);
            expect(r.status).to.equal(200);
            expect(r.headers.get("cache-control")).to.equal("public, max-age=3600, s-maxage=86400, stale-while-revalidate=60");
            expect(await r.text()).to.equal("<h1>cstore</h1>\n");
        });

        it("allows CORS for the configured origins only (or any, when configured \"*\")", async () => {
            const ok = await fetch(`${base}/index.html`, { headers: { Origin: origin } });
            expect(ok.headers.get("access-control-allow-origin")).to.equal(wildcard ? "*" : origin);
            const other = await fetch(`${base}/index.html`, { headers: { Origin: "https://elsewhere.example.net" } });
            expect(other.headers.get("access-control-allow-origin")).to.equal(wildcard ? "*" : null);
        });

        it("answers a preflight with 204 and the allowed methods", async () => {
            const r = await fetch(`${base}/app.0123abcd.js`, { method: "OPTIONS", headers: { Origin: origin, "Access-Control-Request-Method": "GET" } });
            expect(r.status).to.equal(204);
            expect(r.headers.get("access-control-allow-methods")).to.equal("GET, HEAD, OPTIONS");
        });
    });
});
