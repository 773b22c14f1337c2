/**
 * The real engine: `pulumi preview` of both stacks with the policy pack, a broken program the pack
 * rejects, and `pulumi up` in render mode whose manifests are parsed, counted and scored by
 * kube-score (every CRITICAL finding must be listed in kube-score-ignore.yaml).
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { pulumiEnv, ROOT, run, stack } from "./engine";
import { describeFinding, loadIgnoreFile, scoreManifests, unlisted } from "../../scripts/lib/kube-score";

interface Manifest { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; data?: Record<string, string> }

function manifests(dir: string): Manifest[] {
    const out: Manifest[] = [];
    const walk = (d: string) => fs.readdirSync(d, { withFileTypes: true }).forEach(e => {
        const p = path.join(d, e.name);
        if (e.isDirectory()) {
            walk(p);
        } else if (p.endsWith(".yaml")) {
            yaml.loadAll(fs.readFileSync(p, "utf8")).filter(Boolean).forEach(doc => out.push(doc as Manifest));
        }
    });
    walk(dir);
    return out;
}

const count = (ms: Manifest[], kind: string) => ms.filter(m => m.kind === kind).length;

describe("engine: pulumi with the policy pack", function () {
    this.timeout(15 * 60 * 1000);

    for (const name of ["dev", "prod"]) {
        it(`previews the ${name} stack with zero mandatory violations`, () => {
            const r = stack("preview", name);
            console.log(`      preview ${name}: ${r.seconds.toFixed(1)}s`);
            expect(r.output).not.to.match(/mandatory/i);
            expect(r.status, r.output.slice(-4000)).to.equal(0);
            expect(r.output).to.match(/Policies:|k8s-platform@v/);
        });
    }

    it("fails a program with a wildcard Role, naming rbac-no-wildcards", () => {
        const dir = path.join(ROOT, "tests", "engine", "fixtures", "wildcard-role");
        const backend = fs.mkdtempSync(path.join(os.tmpdir(), "k8s-platform-engine-"));
        const env = pulumiEnv(backend);
        const init = run("pulumi", ["stack", "init", "test", "--non-interactive"], { cwd: dir, env });
        expect(init.status, init.output).to.equal(0);
        try {
            const r = run("pulumi", ["preview", "--stack", "test", "--non-interactive", "--policy-pack", path.join(ROOT, "policies")], { cwd: dir, env });
            expect(r.status, r.output.slice(-3000)).to.not.equal(0);
            expect(r.output).to.contain("rbac-no-wildcards");
            expect(r.output).to.match(/mandatory/);
        } finally {
            fs.rmSync(path.join(dir, "Pulumi.test.yaml"), { force: true });
            fs.rmSync(backend, { recursive: true, force: true });
        }
    });

    // Needs the local broker of scripts/kafka-broker.sh (start it first); skipped otherwise.
    describe("kafka provider against a real broker", function () {
        const dir = path.join(ROOT, "tests", "engine", "fixtures", "kafka-topic");
        const broker = (...args: string[]) => run(path.join(ROOT, "scripts", "kafka-broker.sh"), args);
        const topic = `engine-test-${process.pid}`;
        let backend = "";
        let env: NodeJS.ProcessEnv = {};
        const pulumi = (...args: string[]) => run("pulumi", [...args, "--stack", "kafka", "--non-interactive"], { cwd: dir, env });
        const setConfig = (key: string, value: string) => expect(pulumi("config", "set", key, value).status).to.equal(0);
        const up = (...extra: string[]) => {
            const r = pulumi("up", "--yes", ...extra);
            expect(r.status, r.output.slice(-3000)).to.equal(0);
            return r.output;
        };
        const describeTopic = () => broker("topics", "--describe", "--topic", topic).stdout.split("\n")[0];

        before(function () {
            if (broker("status").status !== 0) {
                this.skip();
            }
            backend = fs.mkdtempSync(path.join(os.tmpdir(), "k8s-platform-kafka-"));
            env = pulumiEnv(backend);
            const init = run("pulumi", ["stack", "init", "kafka", "--non-interactive"], { cwd: dir, env });
            expect(init.status, init.output).to.equal(0);
            setConfig("topicName", topic);
        });
        after(() => {
            if (backend !== "") {
                pulumi("destroy", "--yes");
                fs.rmSync(path.join(dir, "Pulumi.kafka.yaml"), { force: true });
                fs.rmSync(backend, { recursive: true, force: true });
            }
        });

        it("creates the topic with its partitions and config", () => {
            up();
            expect(describeTopic()).to.match(/PartitionCount: 3\s+ReplicationFactor: 1\s+Configs: cleanup.policy=delete,retention.ms=3600000/);
        });

        it("updates partitions up and config in place", () => {
            setConfig("partitions", "5");
            setConfig("retentionMs", "7200000");
            const out = up();
            expect(out).to.match(/kafka:index:Topic demo updated/);
            expect(out).not.to.match(/replaced/);
            expect(describeTopic()).to.match(/PartitionCount: 5\s.*retention.ms=7200000/);
        });

        it("detects drift on refresh and repairs it", () => {
            const alter = broker("configs", "--alter", "--entity-type", "topics", "--entity-name", topic, "--add-config", "retention.ms=1000");
            expect(alter.status, alter.output).to.equal(0);
            const preview = pulumi("preview", "--refresh", "--diff");
            expect(preview.status, preview.output.slice(-3000)).to.equal(0);
            expect(preview.output).to.match(/retention.ms\s*:\s*"1000" => "7200000"/);
            up("--refresh");
            expect(describeTopic()).to.match(/retention.ms=7200000/);
        });

        it("replaces the topic when partitions go down", () => {
            setConfig("partitions", "2");
            expect(up()).to.match(/kafka:index:Topic demo replaced/);
            expect(describeTopic()).to.match(/PartitionCount: 2\s/);
        });

        it("previews without a broker and fails clearly when it cannot reach one", () => {
            setConfig("bootstrap", "127.0.0.1:1");
            setConfig("partitions", "4");
            try {
                const preview = pulumi("preview");
                expect(preview.status, preview.output.slice(-3000)).to.equal(0);
                const r = pulumi("up", "--yes");
                expect(r.status).to.not.equal(0);
                // The upstream provider (sarama) names the address it dialled and why it failed.
                expect(r.output).to.match(/kafka: client has run out of available brokers to talk to: dial tcp 127\.0\.0\.1:1: connect: connection refused/);
            } finally {
                // Point the provider back at the broker so that the topic can be destroyed.
                expect(pulumi("config", "rm", "bootstrap").status).to.equal(0);
            }
            // A failed Terraform-bridged update records the planned inputs (4 partitions, and the
            // provider's unreachable address) although the broker never saw them: a refresh with the
            // program's provider configuration (--run-program) reads the 2 live partitions again.
            const refresh = pulumi("refresh", "--yes", "--run-program");
            expect(refresh.status, refresh.output.slice(-3000)).to.equal(0);
            up();
            expect(describeTopic()).to.match(/PartitionCount: 4\s/);
        });

        it("deletes the topic on destroy", () => {
            const r = pulumi("destroy", "--yes");
            expect(r.status, r.output.slice(-3000)).to.equal(0);
            expect(broker("topics", "--list").stdout.split("\n")).not.to.include(topic);
        });
    });

    describe("render mode", () => {
        const rendered: Record<string, Manifest[]> = {};
        before(() => {
            for (const name of ["dev", "prod"]) {
                const r = stack("render", name);
                console.log(`      render ${name}: ${r.seconds.toFixed(1)}s`);
                expect(r.status, r.output.slice(-4000)).to.equal(0);
                rendered[name] = manifests(path.join(ROOT, "rendered", name));
            }
        });

        // Expectations follow Pulumi.dev.yaml / Pulumi.prod.yaml: seven namespaces (one per system plus
        // the shared databases, monitoring and alerting ones), the RestApi's four tiers, one StatefulSet per
        // database and per Kafka broker set; prod adds blue/green, ZooKeeper, backups and PDBs.
        const NAMESPACES = ["alerting", "cstore", "databases", "greenfield", "monitoring", "outbox", "restapi"];
        const TIERS = ["controller", "model", "repository", "view"];
        const names = (ms: Manifest[], kind: string) =>
            ms.filter(m => m.kind === kind).map(m => `${m.metadata.namespace ? `${m.metadata.namespace}/` : ""}${m.metadata.name}`).sort();

        it("writes dev manifests that parse as YAML, with the expected kinds and counts", () => {
            const ms = rendered.dev;
            expect(names(ms, "Namespace")).to.deep.equal(NAMESPACES);
            expect(names(ms, "NetworkPolicy").filter(n => n.endsWith("/default-deny")))
                .to.deep.equal(NAMESPACES.map(ns => `${ns}/default-deny`));
            // No blue/green in dev: one Deployment and one HPA per RestApi tier.
            expect(names(ms, "Deployment").filter(n => n.startsWith("restapi/")))
                .to.deep.equal(TIERS.map(t => `restapi/orders-${t}`));
            // 32: every system's workloads, plus kube-state-metrics beside each of the four Prometheus
            // servers and the Redis exporters of CStore and greenfield.
            expect(names(ms, "Deployment").filter(n => n.endsWith("kube-state-metrics"))).to.deep.equal([
                "cstore/cstore-kube-state-metrics", "greenfield/greenfield-obs-kube-state-metrics",
                "monitoring/orders-obs-kube-state-metrics", "outbox/outbox-obs-kube-state-metrics",
            ]);
            expect(count(ms, "Deployment")).to.equal(32);
            expect(count(ms, "StatefulSet")).to.equal(17);
            expect(count(ms, "HorizontalPodAutoscaler")).to.equal(6);
            expect(names(ms, "Role")).to.deep.equal(["databases/database-service-deployer", "restapi/orders-deployer"]);
            expect(count(ms, "CronJob"), "backups are prod-only").to.equal(0);
        });

        it("writes prod manifests with blue/green, backups and the HA PDBs", () => {
            const ms = rendered.prod;
            expect(names(ms, "Namespace")).to.deep.equal(NAMESPACES);
            expect(names(ms, "Deployment").filter(n => n.startsWith("restapi/")))
                .to.deep.equal(TIERS.flatMap(t => [`restapi/orders-${t}-blue`, `restapi/orders-${t}-green`]));
            expect(count(ms, "Deployment")).to.equal(count(rendered.dev, "Deployment") + TIERS.length);
            expect(names(ms, "StatefulSet")).to.include("greenfield/greenfield-kafka-zookeeper");
            expect(count(ms, "StatefulSet")).to.equal(18);
            // Every store with backups on: its dump CronJob and the suspended restore template beside it.
            const backups = [
                "cstore/cstore-mongodb-backup", "cstore/cstore-redis-backup", "databases/catalog-mongo-backup",
                "databases/edge-cache-backup", "databases/orders-cache-backup", "databases/orders-db-backup",
                "databases/orders-mysql-backup", "databases/search-backup", "greenfield/greenfield-mongodb-backup",
                "greenfield/greenfield-mysql-backup", "greenfield/greenfield-postgresql-backup", "outbox/outbox-grpcdb-backup",
                "outbox/outbox-restdb-backup", "outbox/outbox-workerdb-backup",
            ];
            expect(names(ms, "CronJob")).to.deep.equal(backups.flatMap(b => [b, `${b}-restore`]).sort());
            expect(count(ms, "PodDisruptionBudget")).to.be.greaterThan(count(rendered.dev, "PodDisruptionBudget") + 20);
        });

        describe("kube-score", () => {
            let kubeScore = "";
            before(() => {
                // Built from the Go module proxy on first use, cached outside the work tree.
                const r = run(path.join(ROOT, "scripts", "kube-score.sh"), ["--print-path"]);
                expect(r.status, r.output.slice(-3000)).to.equal(0);
                kubeScore = r.stdout.trim();
            });
            for (const name of ["dev", "prod"]) {
                it(`finds no CRITICAL finding in the ${name} manifests that kube-score-ignore.yaml does not list`, () => {
                    const findings = scoreManifests(kubeScore, path.join(ROOT, "rendered", name), name);
                    console.log(`      kube-score ${name}: ${findings.length} CRITICAL findings`);
                    const missing = unlisted(findings, loadIgnoreFile()).map(describeFinding);
                    expect(missing, "fix them, or list them with a reason (scripts/kube-score.sh --update prints entries)").to.deep.equal([]);
                });
            }
        });

        it("fills database credentials with passwords from the random provider", () => {
            for (const name of ["dev", "prod"]) {
                const secret = rendered[name].find(m => m.kind === "Secret" && m.metadata.name === "orders-cache-credentials");
                expect(secret, `${name}: orders-cache-credentials`).to.not.equal(undefined);
                const password = Buffer.from(secret?.data?.password ?? "", "base64").toString("utf8");
                // RandomPassword { length: 32, special: false } (components/database/database.ts).
                expect(password, name).to.match(/^[A-Za-z0-9]{32}$/);
            }
        });
    });
});
