/**
 * Alert delivery: the stack's Alertmanager (one replica without clustering in dev, an HA cluster of
 * three in prod), its config from a Secret, every Prometheus sending to every replica, the flows
 * between them, and the rules every alert must follow (severity, summary, runbook_url).
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { alertmanagerConfig, AlertingSpec, validateAlertingSpec } from "../../components/observability/alerting";
import { containsSecret, RecordedResource } from "./mocks";
import { builtStack } from "./stack-resources";
import { byName, ofType, podSpec, T, TEST_ALERTING_SECRETS } from "./helpers";

const ROOT = path.join(__dirname, "..", "..");

function alertmanager(res: RecordedResource[]): RecordedResource {
    const sts = ofType(res, T.statefulSet).filter(r => r.inputs.metadata.name === "alertmanager");
    expect(sts, "the Alertmanager StatefulSet").to.have.lengthOf(1);
    return sts[0];
}

function container(r: RecordedResource): any {
    return podSpec(r).containers.find((c: { name: string }) => c.name === "alertmanager");
}

/** The prometheus.yaml of every Prometheus of the stack, parsed. */
function prometheusConfigs(res: RecordedResource[]): { name: string; doc: any }[] {
    return ofType(res, T.configMap)
        .filter(r => r.inputs.data?.["prometheus.yaml"] !== undefined)
        .map(r => ({ name: r.name, doc: yaml.load(r.inputs.data["prometheus.yaml"]) }));
}

/** Every alert rule of every rule file the stack's Prometheus servers load. */
function alertRules(res: RecordedResource[]): { alert: string; labels: Record<string, string>; annotations: Record<string, string> }[] {
    return ofType(res, T.configMap)
        .filter(r => r.inputs.data?.["alerts.rules.yaml"] !== undefined)
        .flatMap(r => (yaml.load(r.inputs.data["alerts.rules.yaml"]) as { groups: { rules: any[] }[] }).groups.flatMap(g => g.rules))
        .filter(r => r.alert);
}

function netpolOf(res: RecordedResource[], namespace: string, instance: string): any {
    const p = ofType(res, T.netpol).find(r => r.inputs.metadata.namespace === namespace
        && r.inputs.spec.podSelector.matchLabels?.["app.kubernetes.io/instance"] === instance);
    expect(p, `NetworkPolicy of ${namespace}/${instance}`).to.not.equal(undefined);
    return p!.inputs.spec;
}

describe("alerting", () => {
    describe("dev: one Alertmanager, no clustering", () => {
        let res: RecordedResource[];
        before(async () => ({ res } = await builtStack("dev")));

        it("runs one replica with clustering disabled (--cluster.listen-address empty, no peers)", () => {
            const sts = alertmanager(res);
            expect(sts.inputs.spec.replicas).to.equal(1);
            const args: string[] = container(sts).args;
            expect(args).to.include("--cluster.listen-address=");
            expect(args.filter(a => a.startsWith("--cluster.peer="))).to.deep.equal([]);
        });

        it("probes /-/ready for readiness and /-/healthy for liveness on 9093", () => {
            const c = container(alertmanager(res));
            expect(c.readinessProbe.httpGet).to.deep.equal({ path: "/-/ready", port: 9093 });
            expect(c.livenessProbe.httpGet).to.deep.equal({ path: "/-/healthy", port: 9093 });
        });

        it("routes to the in-namespace webhook receiver by default", () => {
            const secret = ofType(res, T.secret).find(r => r.name === "alertmanager-config");
            const doc = yaml.load((secret!.inputs.stringData as Record<string, string>)["alertmanager.yaml"]) as any;
            expect(doc.route.receiver).to.equal("dev-webhook");
            expect(doc.receivers).to.deep.equal([{
                name: "dev-webhook", webhook_configs: [{ url: "http://alert-webhook.alerting.svc.cluster.local:8080/alerts", send_resolved: true }],
            }]);
        });

        it("lets the Alertmanager reach the in-namespace webhook on its port", () => {
            const egress = netpolOf(res, "alerting", "alertmanager").egress;
            expect(egress).to.deep.include({
                to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "alerting" } }, podSelector: {} }],
                ports: [{ port: 8080, protocol: "TCP" }],
            });
        });

        it("points every Prometheus at the one replica", () => {
            const configs = prometheusConfigs(res);
            expect(configs.length).to.equal(4);
            for (const c of configs) {
                expect(c.doc.alerting, c.name).to.deep.equal({
                    alertmanagers: [{ api_version: "v2", timeout: "10s", static_configs: [{ targets: ["alertmanager-0.alertmanager-headless.alerting.svc.cluster.local:9093"] }] }],
                });
            }
        });
    });

    describe("prod: an HA cluster of three", () => {
        let res: RecordedResource[];
        before(async () => ({ res } = await builtStack("prod")));
        const hosts = [0, 1, 2].map(i => `alertmanager-${i}.alertmanager-headless.alerting.svc.cluster.local`);

        it("runs three replicas, each peering with every replica on 9094", () => {
            const sts = alertmanager(res);
            expect(sts.inputs.spec.replicas).to.equal(3);
            const args: string[] = container(sts).args;
            expect(args).to.include("--cluster.listen-address=0.0.0.0:9094");
            expect(args.filter(a => a.startsWith("--cluster.peer="))).to.deep.equal(hosts.map(h => `--cluster.peer=${h}:9094`));
        });

        it("resolves the peers through a headless Service carrying the cluster port on TCP and UDP", () => {
            const svc = byName(res, T.service, "alertmanager-headless").inputs.spec;
            expect(svc.clusterIP).to.equal("None");
            expect(svc.ports.filter((p: any) => p.port === 9094).map((p: any) => p.protocol).sort()).to.deep.equal(["TCP", "UDP"]);
        });

        it("keeps two replicas through a voluntary disruption (PodDisruptionBudget)", () => {
            const pdb = ofType(res, T.pdb).find(r => r.inputs.metadata.name === "alertmanager");
            expect(pdb?.inputs.spec.minAvailable).to.equal(2);
        });

        it("mounts its config from a Secret whose data is secret and holds the receivers' endpoints", () => {
            const sts = alertmanager(res);
            const vol = podSpec(sts).volumes.find((v: any) => v.name === "config");
            expect(vol.secret, "config volume from a Secret").to.not.equal(undefined);
            const secret = ofType(res, T.secret).find(r => r.name === "alertmanager-config")!;
            expect(containsSecret(secret.raw.stringData), "stringData sent as a secret").to.equal(true);
            const doc = yaml.load((secret.inputs.stringData as Record<string, string>)["alertmanager.yaml"]) as any;
            const pd = doc.receivers.find((r: any) => r.name === "pagerduty-oncall");
            expect(pd.pagerduty_configs[0].routing_key).to.equal(TEST_ALERTING_SECRETS.prod["pagerduty-oncall"]);
        });

        it("routes critical alerts to PagerDuty and warnings to Slack", () => {
            const secret = ofType(res, T.secret).find(r => r.name === "alertmanager-config")!;
            const doc = yaml.load((secret.inputs.stringData as Record<string, string>)["alertmanager.yaml"]) as any;
            expect(doc.route.routes).to.deep.equal([
                { receiver: "pagerduty-oncall", matchers: ['severity="critical"'] },
                { receiver: "slack-alerts", matchers: ['severity="warning"'] },
                { receiver: "slack-alerts", matchers: ['severity="info"'] },
            ]);
        });

        it("shows no endpoint in any input outside the Secret", () => {
            const endpoints = Object.values(TEST_ALERTING_SECRETS.prod);
            const leaks = res.filter(r => r.type !== T.secret).filter(r => endpoints.some(e => JSON.stringify(r.inputs).includes(e)));
            expect(leaks.map(r => `${r.type} ${r.name}`)).to.deep.equal([]);
        });

        it("points every Prometheus at all three replicas", () => {
            for (const c of prometheusConfigs(res)) {
                expect(c.doc.alerting.alertmanagers[0].static_configs[0].targets, c.name).to.deep.equal(hosts.map(h => `${h}:9093`));
            }
        });

        it("admits every Prometheus on 9093 and the peers on 9094 TCP and UDP", () => {
            const np = netpolOf(res, "alerting", "alertmanager");
            const from9093 = np.ingress.filter((r: any) => r.ports.some((p: any) => p.port === 9093)).map((r: any) => r.from[0].namespaceSelector.matchLabels["kubernetes.io/metadata.name"]);
            expect(from9093.sort()).to.deep.equal(["cstore", "greenfield", "monitoring", "outbox"]);
            const gossip = np.ingress.find((r: any) => r.ports.some((p: any) => p.port === 9094));
            expect(gossip.ports).to.deep.equal([{ port: 9094, protocol: "TCP" }, { port: 9094, protocol: "UDP" }]);
            expect(gossip.from[0].podSelector.matchLabels["app.kubernetes.io/instance"]).to.equal("alertmanager");
        });

        it("lets the Alertmanager out to its receivers on HTTPS only (the configured ranges)", () => {
            const egress = netpolOf(res, "alerting", "alertmanager").egress.filter((r: any) => r.to[0].ipBlock);
            expect(egress).to.deep.equal([{ to: [{ ipBlock: { cidr: "203.0.113.0/24" } }], ports: [{ port: 443, protocol: "TCP" }] }]);
        });

        it("lets each Prometheus out to the Alertmanager on 9093", () => {
            const prom = ofType(res, T.netpol).filter(r => r.inputs.metadata.name.endsWith("prometheus"));
            expect(prom.length).to.equal(4);
            for (const p of prom) {
                const rule = p.inputs.spec.egress.find((r: any) => r.to[0].podSelector?.matchLabels?.["app.kubernetes.io/instance"] === "alertmanager");
                expect(rule?.ports, p.inputs.metadata.name).to.deep.equal([{ port: 9093, protocol: "TCP" }]);
            }
        });
    });

    describe("every alert rule", () => {
        const runbooks = fs.readFileSync(path.join(ROOT, "docs", "runbooks.md"), "utf8");
        const anchors = new Set([...runbooks.matchAll(/^## (\S+)/gm)].map(m => m[1].toLowerCase()));

        for (const stack of ["dev", "prod"]) {
            it(`${stack}: has a severity label and summary and runbook_url annotations`, async () => {
                const rules = alertRules((await builtStack(stack)).res);
                expect(rules.length).to.be.greaterThan(0);
                for (const r of rules) {
                    expect(["critical", "warning", "info"], `${r.alert} severity`).to.include(r.labels?.severity);
                    expect(r.annotations?.summary, `${r.alert} summary`).to.be.a("string").and.not.equal("");
                    expect(r.annotations?.runbook_url, `${r.alert} runbook_url`).to.match(/^https:\/\/\S+$/);
                }
            });

            it(`${stack}: links a runbook section that docs/runbooks.md has`, async () => {
                for (const r of alertRules((await builtStack(stack)).res)) {
                    const anchor = r.annotations.runbook_url.split("#")[1];
                    expect(anchors.has(anchor), `docs/runbooks.md has no "## ${r.alert}" section`).to.equal(true);
                }
            });
        }
    });

    describe("alertmanager.yml", () => {
        const spec = (over: Partial<AlertingSpec> = {}): AlertingSpec => ({
            ...validateAlertingSpec("k8s-platform:alerting", {
                receivers: [{ name: "pager", type: "pagerduty" }, { name: "chat", type: "slack", channel: "#ops" }],
                route: { receiver: "chat", severity: { critical: "pager" } },
                egressCidrs: ["203.0.113.0/24"],
            }, { environment: "prod", storageClass: "ssd", secretNames: ["pager", "chat"], secretKey: "k8s-platform:alertingSecrets" }),
            ...over,
        });

        it("takes each endpoint from the secrets, by receiver name", () => {
            const doc = alertmanagerConfig(spec(), { pager: "key-1", chat: "https://hooks.example/x" }) as any;
            expect(doc.receivers[0].pagerduty_configs[0].routing_key).to.equal("key-1");
            expect(doc.receivers[1].slack_configs[0].api_url).to.equal("https://hooks.example/x");
            expect(doc.receivers[1].slack_configs[0].channel).to.equal("#ops");
        });

        it("groups by the configured labels with the defaults' intervals", () => {
            const doc = alertmanagerConfig(spec(), {}) as any;
            expect([doc.route.group_by, doc.route.group_wait, doc.route.group_interval, doc.route.repeat_interval])
                .to.deep.equal([["alertname", "namespace", "job"], "30s", "5m", "4h"]);
        });

        it("lets a firing critical alert inhibit the warning of the same name and namespace", () => {
            const doc = alertmanagerConfig(spec(), {}) as any;
            expect(doc.inhibit_rules).to.deep.equal([
                { source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: ["alertname", "namespace"] },
            ]);
        });
    });
});
