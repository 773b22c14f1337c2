/**
 * Elasticsearch backups: no Elasticsearch runs here (no Debian package), so the mechanism is checked
 * as far as it can be without one: the CronJob's and the restore template's own containers (script
 * from their ConfigMap, env as generated) run in sh against a stand-in curl that records every
 * request and answers as Elasticsearch's snapshot API does. The requests (repository registration,
 * snapshot, retention, restore) are what the tests assert; a request removed or changed fails them.
 */
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DatabaseBackup } from "../../components/backup";
import { RecordedResource } from "./mocks";
import { byName, capture, T } from "./helpers";

const PASSWORD = "es-test-password-1234";

/** A stand-in curl: logs method, URL and body as JSON lines, answers from $STUB_ANSWERS (first match). */
const STUB_CURL = `#!/usr/bin/env node
const fs = require("fs");
const a = process.argv.slice(2);
let method = "GET", data, url, netrc;
for (let i = 0; i < a.length; i++) {
    if (a[i] === "--request") method = a[++i];
    else if (a[i] === "--data") data = a[++i];
    else if (a[i] === "--netrc-file") netrc = fs.readFileSync(a[++i], "utf8");
    else if (a[i] === "--header" || a[i] === "--write-out") i++;
    else if (!a[i].startsWith("--")) url = a[i];
}
fs.appendFileSync(process.env.STUB_LOG, JSON.stringify({ method, url, data, argv: a, netrc }) + "\\n");
const p = url.replace(/^https?:\\/\\/[^/]+/, "");
const answer = JSON.parse(fs.readFileSync(process.env.STUB_ANSWERS, "utf8")).find(x => x.method === method && p.startsWith(x.path));
process.stdout.write((answer ? answer.body : "{}") + "\\n" + (answer ? answer.code : 200));
`;

interface Answer { method: string; path: string; code: number; body: string }
interface Call { method: string; url: string; data?: string; argv: string[]; netrc: string }

describe("Elasticsearch backup and restore (the Jobs' scripts against a stand-in of the snapshot API)", () => {
    let res: RecordedResource[];
    before(async () => {
        res = await capture(() => new DatabaseBackup("search-backup", {
            namespace: "databases", engine: "elasticsearch", host: "search.databases.svc.cluster.local", port: 9200, databaseName: "search",
            secretName: "search-credentials", schedule: "0 2 * * *", retention: 2, storage: { size: "50Gi" }, accessMode: "ReadWriteMany",
            image: "docker.elastic.co/elasticsearch/elasticsearch:8.15.0",
            traffic: { ingress: [], egress: [{ peer: { kind: "pods", namespace: "databases", selector: { a: "b" } }, ports: [{ port: 9200 }] }] },
        }));
    });

    /** Runs the container of CronJob `cronJob` as its pod would: its ConfigMap's scripts, its env, the Secret's files. */
    function runJob(cronJob: string, answers: Answer[], extraEnv: Record<string, string> = {}): { status: number | null; out: string; calls: Call[] } {
        const pod = byName(res, T.cronJob, cronJob).inputs.spec.jobTemplate.spec.template.spec;
        const c = pod.containers[0];
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "es-backup-"));
        try {
            const scripts = byName(res, T.configMap, pod.volumes.find((v: { name: string }) => v.name === "scripts").configMap.name).inputs.data;
            fs.mkdirSync(path.join(dir, "scripts"));
            Object.entries(scripts).forEach(([f, content]) => fs.writeFileSync(path.join(dir, "scripts", f), content as string));
            fs.mkdirSync(path.join(dir, "bin"));
            fs.writeFileSync(path.join(dir, "bin", "curl"), STUB_CURL, { mode: 0o755 });
            fs.mkdirSync(path.join(dir, "secret"));
            fs.writeFileSync(path.join(dir, "secret", "username"), "elastic");
            fs.writeFileSync(path.join(dir, "secret", "password"), PASSWORD);
            fs.mkdirSync(path.join(dir, "tmp"));
            fs.writeFileSync(path.join(dir, "answers.json"), JSON.stringify(answers));
            const env: Record<string, string> = {};
            for (const e of c.env as { name: string; value?: string }[]) {
                if (e.value !== undefined) {
                    env[e.name] = e.value.replace(/^\/var\/run\/secrets\/platform\/db-credentials/, path.join(dir, "secret")).replace(/^\/tmp$/, path.join(dir, "tmp"));
                }
            }
            const argv = (c.command as string[]).map(a => a.replace(/^\/etc\/backup/, path.join(dir, "scripts")));
            const r = spawnSync(argv[0], argv.slice(1), {
                encoding: "utf8",
                env: { ...env, ...extraEnv, PATH: `${path.join(dir, "bin")}:${process.env.PATH}`, STUB_LOG: path.join(dir, "calls"), STUB_ANSWERS: path.join(dir, "answers.json") },
            });
            const log = fs.existsSync(path.join(dir, "calls")) ? fs.readFileSync(path.join(dir, "calls"), "utf8").trim().split("\n").map(l => JSON.parse(l) as Call) : [];
            return { status: r.status, out: r.stdout + r.stderr, calls: log };
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    }
    const BASE = "https://search.databases.svc.cluster.local:9200";
    const requests = (calls: Call[]) => calls.map(c => `${c.method} ${c.url.replace(BASE, "")}${c.data ? ` ${c.data}` : ""}`);
    const REGISTER = `PUT /_snapshot/search-backup {"type":"fs","settings":{"location":"/usr/share/elasticsearch/snapshots"}}`;
    const CAT = "GET /_cat/snapshots/search-backup?h=id&s=start_epoch";

    it("registers the repository on the shared claim, snapshots every index and keeps the newest 2 of this database", () => {
        const r = runJob("search-backup", [
            { method: "PUT", path: "/_snapshot/search-backup/", code: 200, body: '{"snapshot":{"snapshot":"x","state":"SUCCESS","shards":{"total":2,"failed":0}}}' },
            { method: "PUT", path: "/_snapshot/search-backup", code: 200, body: '{"acknowledged":true}' },
            { method: "GET", path: "/_cat/snapshots/", code: 200, body: "search-20200101t020000z\nother-20200101t020000z\nsearch-20200102t020000z\nsearch-20200103t020000z" },
            { method: "DELETE", path: "/_snapshot/search-backup/", code: 200, body: '{"acknowledged":true}' },
        ]);
        expect(r.status, r.out).to.equal(0);
        const reqs = requests(r.calls);
        expect(reqs[0]).to.equal(REGISTER);
        expect(reqs[1]).to.match(/^PUT \/_snapshot\/search-backup\/search-\d{8}t\d{6}z\?wait_for_completion=true \{"indices":"\*","include_global_state":true\}$/);
        expect(reqs.slice(2)).to.deep.equal([CAT, "DELETE /_snapshot/search-backup/search-20200101t020000z"]);
        // The password is in the netrc file curl reads, never on its command line; TLS to the node.
        expect(r.calls.every(c => c.netrc.includes(`login elastic password ${PASSWORD}`) && !c.argv.join(" ").includes(PASSWORD))).to.equal(true);
        expect(r.calls.every(c => c.url.startsWith(BASE))).to.equal(true);
    });

    it("fails when the snapshot's state is not SUCCESS, and then deletes nothing", () => {
        const r = runJob("search-backup", [
            { method: "PUT", path: "/_snapshot/search-backup/", code: 200, body: '{"snapshot":{"snapshot":"x","state":"PARTIAL"}}' },
            { method: "PUT", path: "/_snapshot/search-backup", code: 200, body: '{"acknowledged":true}' },
        ]);
        expect(r.status).to.equal(1);
        expect(r.out).to.match(/backup: FAILED: snapshot search-\d{8}t\d{6}z did not succeed/);
        expect(r.calls.map(c => c.method)).to.deep.equal(["PUT", "PUT"]);
    });

    it("fails on an HTTP error, naming the request (e.g. the repository refused: path.repo missing)", () => {
        const r = runJob("search-backup", [{ method: "PUT", path: "/_snapshot/search-backup", code: 500, body: '{"error":"repository_exception"}' }]);
        expect(r.status).to.equal(1);
        expect(r.out).to.contain("backup: FAILED: PUT /_snapshot/search-backup: HTTP 500");
    });

    const restoreAnswers = (state: string): Answer[] => [
        { method: "PUT", path: "/_snapshot/search-backup", code: 200, body: '{"acknowledged":true}' },
        { method: "GET", path: "/_cat/snapshots/", code: 200, body: "search-20200101t020000z\nsearch-20200102t020000z" },
        { method: "GET", path: "/_snapshot/search-backup/", code: 200, body: `{"snapshots":[{"indices":["orders",".security-7","products"],"state":"${state}"}]}` },
        { method: "DELETE", path: "/", code: 200, body: '{"acknowledged":true}' },
        { method: "POST", path: "/_snapshot/search-backup/", code: 200, body: '{"snapshot":{"snapshot":"x","indices":["orders","products"],"shards":{"total":2,"failed":0,"successful":2}}}' },
    ];

    it("restores the newest snapshot: its indices deleted by name, then restored without the global state", () => {
        const r = runJob("search-backup-restore", restoreAnswers("SUCCESS"));
        expect(r.status, r.out).to.equal(0);
        expect(requests(r.calls)).to.deep.equal([
            REGISTER, CAT,
            "GET /_snapshot/search-backup/search-20200102t020000z?filter_path=snapshots.state,snapshots.indices",
            "DELETE /orders?ignore_unavailable=true",
            "DELETE /products?ignore_unavailable=true",
            'POST /_snapshot/search-backup/search-20200102t020000z/_restore?wait_for_completion=true {"indices":"orders,products","include_global_state":false}',
        ]);
        expect(r.out).to.contain("restore: done");
    });

    it("restores the snapshot named in DUMP", () => {
        const r = runJob("search-backup-restore", restoreAnswers("SUCCESS"), { DUMP: "search-20200101t020000z" });
        expect(r.status, r.out).to.equal(0);
        expect(requests(r.calls).pop()).to.match(/^POST \/_snapshot\/search-backup\/search-20200101t020000z\/_restore/);
    });

    it("lists the snapshots with DUMP=list and changes nothing", () => {
        const r = runJob("search-backup-restore", restoreAnswers("SUCCESS"), { DUMP: "list" });
        expect(r.status, r.out).to.equal(0);
        expect(r.out).to.contain("search-20200101t020000z\nsearch-20200102t020000z");
        expect(r.calls.filter(c => c.method === "DELETE" || c.method === "POST")).to.deep.equal([]);
    });

    it("refuses a missing snapshot and an incomplete one before any index is deleted", () => {
        const missing = runJob("search-backup-restore", restoreAnswers("SUCCESS"), { DUMP: "search-19990101t000000z" });
        expect(missing.status).to.equal(1);
        expect(missing.out).to.contain("restore: FAILED: snapshot search-19990101t000000z does not exist in search-backup");
        const partial = runJob("search-backup-restore", restoreAnswers("PARTIAL"));
        expect(partial.status).to.equal(1);
        expect(partial.out).to.contain("restore: FAILED: snapshot search-20200102t020000z is not complete");
        expect([...missing.calls, ...partial.calls].filter(c => c.method === "DELETE" || c.method === "POST")).to.deep.equal([]);
    });

    it("fails when a shard was not restored", () => {
        const answers = restoreAnswers("SUCCESS");
        answers[4] = { ...answers[4], body: '{"snapshot":{"shards":{"total":2,"failed":1,"successful":1}}}' };
        const r = runJob("search-backup-restore", answers);
        expect(r.status).to.equal(1);
        expect(r.out).to.contain("restore: FAILED: not every shard was restored");
    });
});
