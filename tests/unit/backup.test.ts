import { expect } from "chai";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BackupEngine, BACKUP_SCRIPTS, DatabaseBackup, DatabaseBackupArgs, requireCronSchedule } from "../../components/backup";
import { Database } from "../../components/database/database";
import { NamespaceBaseline } from "../../components/k8s/namespace";
import { Peer, WorkloadTraffic } from "../../components/k8s/traffic";
import { packViolations } from "./stack-resources";
import { containsSecret, mockPassword } from "./mocks";
import { byName, capture, ofType, T, valueOf, withEphemeral } from "./helpers";
import { BATCH } from "../../components/k8s/profile";

const dbPeer = { kind: "pods" as const, namespace: "databases", selector: { "app.kubernetes.io/instance": "orders-db", "app.kubernetes.io/part-of": "database-service" } };

const PORTS: Record<BackupEngine, number> = { postgresql: 5432, mysql: 3306, mongodb: 27017, redis: 6379, elasticsearch: 9200, sqlite: 8080 };

const toDb = (peer: Peer, port: number): WorkloadTraffic => ({ ingress: [], egress: [{ peer, ports: [{ port }] }] });

function args(engine: BackupEngine, over: Partial<DatabaseBackupArgs> = {}): DatabaseBackupArgs {
    return {
        namespace: "databases", engine, host: "orders-db.databases.svc.cluster.local", port: PORTS[engine], databaseName: "orders",
        secretName: "orders-db-credentials", traffic: toDb(dbPeer, PORTS[engine]), schedule: "0 2 * * *", retention: 7,
        storage: { size: "20Gi", storageClass: "fast" }, ...over,
    };
}

const jobPod = (res: { type: string; inputs: any }[]) => ofType(res as never, T.cronJob)[0].inputs.spec.jobTemplate.spec.template.spec;

describe("DatabaseBackup", () => {
    const TOOLS: Record<BackupEngine, [string, string]> = {
        postgresql: ["postgres:16.4", "pg_dump "], mysql: ["mysql:8.4.2", "mysqldump "], mongodb: ["mongo:7.0.14", "mongodump "],
        redis: ["redis:7.2.5", "redis-cli "], elasticsearch: ["", ""], sqlite: ["", ""],
    };
    for (const engine of ["postgresql", "mysql", "mongodb", "redis"] as const) {
        it(`dumps ${engine} with ${TOOLS[engine][1].trim()} from ${TOOLS[engine][0]}`, async () => {
            const res = await capture(() => new DatabaseBackup(`bk-${engine}`, args(engine)));
            const c = jobPod(res).containers[0];
            expect(c.image).to.equal(TOOLS[engine][0]);
            expect(c.command).to.deep.equal(["/bin/sh", "/etc/backup/backup.sh"]);
            expect(c.env.find((e: { name: string }) => e.name === "ENGINE").value).to.equal(engine);
            expect(BACKUP_SCRIPTS["backup.sh"]).to.contain(TOOLS[engine][1]);
        });

        it(`mounts ${engine}'s backup and restore scripts from a content-named ConfigMap`, async () => {
            const res = await capture(() => new DatabaseBackup(`bk-cm-${engine}`, args(engine)));
            const pod = jobPod(res);
            const vol = pod.volumes.find((v: { name: string }) => v.name === "scripts");
            expect(pod.containers[0].volumeMounts).to.deep.include({ name: "scripts", mountPath: "/etc/backup", readOnly: true });
            const cm = byName(res, T.configMap, vol.configMap.name);
            expect(cm.inputs.metadata.name).to.match(/^bk-cm-[a-z]+-scripts-[0-9a-f]{10}$/);
            expect(Object.keys(cm.inputs.data).sort()).to.deep.equal(["backup.sh", "redis-primary.sh", "restore.sh"]);
        });

        it(`reads ${engine} credentials as files of the database Secret, mounted read-only`, async () => {
            const res = await capture(() => new DatabaseBackup(`bk-cred-${engine}`, args(engine)));
            const pod = jobPod(res);
            const env = Object.fromEntries(pod.containers[0].env.map((e: { name: string }) => [e.name, e]));
            expect(env.DB_USER_FILE.value).to.equal("/var/run/secrets/platform/db-credentials/username");
            expect(env.DB_PASSWORD_FILE.value).to.equal("/var/run/secrets/platform/db-credentials/password");
            expect(JSON.stringify(pod.containers[0].env), "no env var from a secretKeyRef").not.to.contain("secretKeyRef");
            expect(pod.volumes.find((v: { name: string }) => v.name === "db-credentials").secret).to.deep.equal({
                secretName: "orders-db-credentials", defaultMode: 0o440,
                items: [{ key: "username", path: "username" }, { key: "password", path: "password" }],
            });
            expect(pod.containers[0].volumeMounts).to.deep.include({ name: "db-credentials", mountPath: "/var/run/secrets/platform/db-credentials", readOnly: true });
            expect([env.DB_HOST.value, env.DB_PORT.value, env.DB_NAME.value, env.KEEP.value])
                .to.deep.equal(["orders-db.databases.svc.cluster.local", String(PORTS[engine]), "orders", "7"]);
        });
    }

    it("schedules with concurrencyPolicy Forbid and history limits", async () => {
        const res = await capture(() => new DatabaseBackup("bk-sched", args("postgresql", {
            schedule: "30 3 * * 1-5", timeZone: "Europe/Berlin", successfulJobsHistoryLimit: 5, failedJobsHistoryLimit: 2,
        })));
        const spec = byName(res, T.cronJob, "bk-sched").inputs.spec;
        expect(spec.schedule).to.equal("30 3 * * 1-5");
        expect(spec.timeZone).to.equal("Europe/Berlin");
        expect(spec.concurrencyPolicy).to.equal("Forbid");
        expect(spec.successfulJobsHistoryLimit).to.equal(5);
        expect(spec.failedJobsHistoryLimit).to.equal(2);
        expect(spec.startingDeadlineSeconds).to.equal(600);
        expect(spec.jobTemplate.spec.backoffLimit).to.equal(2);
        expect(spec.jobTemplate.spec.activeDeadlineSeconds).to.equal(3600);
        expect(spec.jobTemplate.spec.template.spec.restartPolicy).to.equal("Never");
    });

    it("defaults the history limits to 3 successful and 1 failed", async () => {
        const res = await capture(() => new DatabaseBackup("bk-hist", args("mysql")));
        const spec = byName(res, T.cronJob, "bk-hist").inputs.spec;
        expect([spec.successfulJobsHistoryLimit, spec.failedJobsHistoryLimit]).to.deep.equal([3, 1]);
    });

    it("writes to its own backup claim", async () => {
        const res = await capture(() => new DatabaseBackup("bk-pvc", args("mongodb")));
        const pvc = byName(res, T.pvc, "bk-pvc-storage").inputs;
        expect(pvc.metadata.namespace).to.equal("databases");
        expect(pvc.spec).to.deep.equal({ accessModes: ["ReadWriteOnce"], storageClassName: "fast", resources: { requests: { storage: "20Gi" } } });
        const pod = jobPod(res);
        expect(pod.volumes[0]).to.deep.equal({ name: "backups", persistentVolumeClaim: { claimName: "bk-pvc-storage" } });
        expect(pod.containers[0].volumeMounts[0]).to.deep.equal({ name: "backups", mountPath: "/backups" });
    });

    it("runs with the secure pod defaults: non-root, read-only root with /tmp, resources, drop ALL, seccomp", async () => {
        const res = await capture(() => new DatabaseBackup("bk-sec", args("postgresql")));
        const pod = jobPod(res);
        expect(pod.securityContext).to.deep.equal({
            runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, fsGroupChangePolicy: "OnRootMismatch", seccompProfile: { type: "RuntimeDefault" },
        });
        const c = pod.containers[0];
        expect(c.securityContext).to.deep.equal({
            runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, privileged: false,
            capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" },
        });
        expect(c.resources).to.deep.equal(withEphemeral({ requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } }, BATCH));
        expect(pod.priorityClassName).to.equal("k8s-platform-dev-batch");
        expect(c.volumeMounts.find((m: { mountPath: string }) => m.mountPath === "/tmp")).to.deep.equal({ name: "scratch-tmp", mountPath: "/tmp" });
        expect(pod.volumes.find((v: { name: string }) => v.name === "scratch-tmp")).to.deep.equal({ name: "scratch-tmp", emptyDir: { sizeLimit: "256Mi" } });
        expect(pod.automountServiceAccountToken).to.equal(false);
        expect(pod.serviceAccountName).to.equal("bk-sec");
        expect(byName(res, T.serviceAccount, "bk-sec").inputs.automountServiceAccountToken).to.equal(false);
    });

    it("lets its pods reach the database port only, and nothing reach them", async () => {
        const res = await capture(() => new DatabaseBackup("bk-np", args("mysql")));
        const np = byName(res, T.netpol, "bk-np").inputs.spec;
        expect(np.podSelector).to.deep.equal({ matchLabels: { "app.kubernetes.io/instance": "bk-np", "app.kubernetes.io/part-of": "database-service" } });
        expect(np.policyTypes).to.deep.equal(["Ingress", "Egress"]);
        expect(np.ingress).to.deep.equal([]);
        expect(np.egress).to.deep.equal([{
            to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "databases" } }, podSelector: { matchLabels: dbPeer.selector } }],
            ports: [{ port: 3306, protocol: "TCP" }],
        }]);
        const labels = jobPod(res) && ofType(res, T.cronJob)[0].inputs.spec.jobTemplate.spec.template.metadata.labels;
        expect(labels["app.kubernetes.io/name"]).to.equal("backup");
        expect(labels["app.kubernetes.io/component"]).to.equal("backup");
    });

    it("outputs names, schedule and retention", async () => {
        const b = new DatabaseBackup("bk-out", args("postgresql"));
        expect(await valueOf(b.cronJobName)).to.equal("bk-out");
        expect(await valueOf(b.claimName)).to.equal("bk-out-storage");
        expect(await valueOf(b.schedule)).to.equal("0 2 * * *");
        expect(await valueOf(b.retention)).to.equal(7);
    });

    describe("the job script (run with /bin/sh against a stub dump tool)", () => {
        function run(engine: BackupEngine, keep: number, existing: string[]): string[] {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "backup-"));
            const bin = fs.mkdtempSync(path.join(os.tmpdir(), "bin-"));
            try {
                existing.forEach(f => fs.writeFileSync(path.join(dir, f), "old"));
                // Stub tools: write "dump" to the output file named by --file= / --result-file= / --archive=.
                const stub = "#!/bin/sh\nfor a in \"$@\"; do case \"$a\" in --file=*|--result-file=*|--archive=*) echo dump > \"${a#*=}\";; esac; done\n";
                for (const tool of ["pg_dump", "mysqldump", "mongodump"]) {
                    fs.writeFileSync(path.join(bin, tool), stub, { mode: 0o755 });
                }
                Object.entries(BACKUP_SCRIPTS).forEach(([file, content]) => fs.writeFileSync(path.join(bin, file), content));
                fs.writeFileSync(path.join(bin, "username"), "u");
                fs.writeFileSync(path.join(bin, "password"), "p");
                execFileSync("/bin/sh", [path.join(bin, "backup.sh")], {
                    env: {
                        PATH: `${bin}:${process.env.PATH}`, ENGINE: engine, BACKUP_DIR: dir, SCRATCH_DIR: bin,
                        DB_HOST: "h", DB_PORT: "1", DB_NAME: "orders", KEEP: String(keep),
                        DB_USER_FILE: path.join(bin, "username"), DB_PASSWORD_FILE: path.join(bin, "password"),
                    },
                    stdio: "pipe",
                });
                return fs.readdirSync(dir).sort();
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
                fs.rmSync(bin, { recursive: true, force: true });
            }
        }

        it("keeps the newest N dumps and deletes older ones", () => {
            const old = ["orders-20200101T020000Z.dump", "orders-20200102T020000Z.dump", "orders-20200103T020000Z.dump", "orders-20200104T020000Z.dump"];
            const left = run("postgresql", 3, [...old, "other-20200101T020000Z.dump", "orders-20200105T020000Z.dump.partial"]);
            expect(left).to.have.length(4);
            expect(left).to.include.members(["orders-20200103T020000Z.dump", "orders-20200104T020000Z.dump", "other-20200101T020000Z.dump"]);
            expect(left.filter(f => /^orders-\d{8}T\d{6}Z\.dump$/.test(f))).to.have.length(3);
            expect(left.some(f => f.endsWith(".partial"))).to.equal(false);
        });

        for (const [engine, ext] of [["mysql", "sql"], ["mongodb", "archive.gz"]] as const) {
            it(`names ${engine} dumps *.${ext} and applies retention 1`, () => {
                const left = run(engine, 1, [`orders-20200101T020000Z.${ext}`]);
                expect(left).to.have.length(1);
                expect(left[0]).to.match(new RegExp(`^orders-\\d{8}T\\d{6}Z\\.${ext.replace(".", "\\.")}$`));
                expect(left[0]).not.to.equal(`orders-20200101T020000Z.${ext}`);
            });
        }

        it("never puts the password on a command line", () => {
            for (const file of ["backup.sh", "restore.sh"]) {
                // Each tool invocation, continuation lines joined.
                const calls = BACKUP_SCRIPTS[file].replace(/\\\n\s*/g, " ").split("\n")
                    .filter(l => /^\s*([A-Z_]+="[^"]*"\s+)*(pg_dump|pg_restore|mysqldump|mysql|mongodump|mongorestore) /.test(l));
                expect(calls.length, file).to.equal(3);
                calls.forEach(l => expect(l, file).not.to.match(/PASSWORD/));
            }
        });
    });

    describe("cron schedules", () => {
        it("accepts the Kubernetes CronJob syntax", () => {
            for (const s of ["0 2 * * *", "*/15 * * * *", "0 0 1,15 * *", "30 3 * * MON-FRI", "0 4 ? JAN-MAR SUN", "5-55/10 0-23/2 * * 0,7", "@daily", "@hourly"]) {
                expect(requireCronSchedule("k", s)).to.equal(s);
            }
        });

        const bad: [string, string][] = [
            ["0 2 * *", "has 4 fields"],
            ["60 2 * * *", "\"60\" in the minute field (allowed 0-59)"],
            ["0 24 * * *", "\"24\" in the hour field"],
            ["0 2 0 * *", "\"0\" in the day of month field"],
            ["0 2 * 13 *", "\"13\" in the month field"],
            ["0 2 * * 8", "\"8\" in the day of week field"],
            ["0 2 * * FRI-MON", "range \"FRI-MON\" in the day of week field runs backwards"],
            ["*/0 * * * *", "step \"0\" in the minute field"],
            ["@often", "is not a schedule"],
            ["CRON_TZ=UTC 0 2 * * *", "sets a time zone in the schedule; allowed: the timeZone arg instead"],
        ];
        for (const [s, message] of bad) {
            it(`refuses "${s}"`, () => {
                expect(() => requireCronSchedule("DatabaseBackup(x).schedule", s)).to.throw(`DatabaseBackup(x).schedule: "${s}"`);
                expect(() => requireCronSchedule("DatabaseBackup(x).schedule", s)).to.throw(message);
            });
        }
    });

    describe("the restore template", () => {
        const restoreOf = (res: { type: string; inputs: any }[], name: string) => byName(res as never, T.cronJob, `${name}-restore`).inputs.spec;

        it("is a suspended CronJob named <name>-restore", async () => {
            const res = await capture(() => new DatabaseBackup("bk-rs", args("postgresql")));
            const spec = restoreOf(res, "bk-rs");
            expect(spec.suspend).to.equal(true);
            expect(spec.concurrencyPolicy).to.equal("Forbid");
        });

        it("runs restore.sh once (backoffLimit 0) in the backup's image", async () => {
            const res = await capture(() => new DatabaseBackup("bk-rs-cmd", args("mysql")));
            const spec = restoreOf(res, "bk-rs-cmd");
            const c = spec.jobTemplate.spec.template.spec.containers[0];
            expect(spec.jobTemplate.spec.backoffLimit).to.equal(0);
            expect(c.name).to.equal("restore");
            expect(c.image).to.equal("mysql:8.4.2");
            expect(c.command).to.deep.equal(["/bin/sh", "/etc/backup/restore.sh"]);
        });

        it("has DUMP (empty: the newest dump) next to the backup's env", async () => {
            const res = await capture(() => new DatabaseBackup("bk-rs-env", args("mongodb")));
            const restoreEnv = restoreOf(res, "bk-rs-env").jobTemplate.spec.template.spec.containers[0].env;
            const backupEnv = jobPod(res).containers[0].env;
            expect(restoreEnv.find((e: { name: string }) => e.name === "DUMP")).to.deep.equal({ name: "DUMP", value: "" });
            expect(restoreEnv.filter((e: { name: string }) => e.name !== "DUMP")).to.deep.equal(backupEnv);
        });

        it("mounts the same backup claim and scripts ConfigMap as the backup", async () => {
            const res = await capture(() => new DatabaseBackup("bk-rs-vol", args("postgresql")));
            const pod = restoreOf(res, "bk-rs-vol").jobTemplate.spec.template.spec;
            expect(pod.volumes).to.deep.equal(jobPod(res).volumes);
            expect(pod.volumes[0]).to.deep.equal({ name: "backups", persistentVolumeClaim: { claimName: "bk-rs-vol-storage" } });
        });

        it("labels its pods with the backup's selector, so the backup's NetworkPolicy and the database's client rule cover them", async () => {
            const res = await capture(() => new DatabaseBackup("bk-rs-lbl", args("postgresql")));
            const labels = restoreOf(res, "bk-rs-lbl").jobTemplate.spec.template.metadata.labels;
            const selector = byName(res, T.netpol, "bk-rs-lbl").inputs.spec.podSelector.matchLabels;
            for (const [k, v] of Object.entries(selector)) {
                expect(labels[k]).to.equal(v);
            }
            expect(labels["platform.io/backup-action"]).to.equal("restore");
            expect(ofType(res, T.cronJob)[0].inputs.spec.jobTemplate.spec.template.metadata.labels["platform.io/backup-action"]).to.equal("backup");
        });

        it("is output as restoreCronJobName", async () => {
            const b = new DatabaseBackup("bk-rs-out", args("postgresql"));
            expect(await valueOf(b.restoreCronJobName)).to.equal("bk-rs-out-restore");
        });

        it("refuses a name whose restore CronJob would pass 52 characters", async () => {
            const long = "b".repeat(45);
            const res = await capture(() => {
                expect(() => new DatabaseBackup(long, args("postgresql"))).to.throw(`DatabaseBackup(${long}).name`);
            });
            expect(res).to.have.length(0);
        });
    });

    describe("refuses bad input before registering anything", () => {
        const cases: [string, Partial<DatabaseBackupArgs>, string][] = [
            ["a bad schedule", { schedule: "every night" }, "DatabaseBackup(bad).schedule: \"every night\" has 2 fields"],
            ["retention 0", { retention: 0 }, "DatabaseBackup(bad).retention: 0 is not allowed; allowed: an integer from 1 to 366"],
            ["an engine without a backup", { engine: "cassandra" as never }, "DatabaseBackup(bad).engine: \"cassandra\" is not allowed; allowed: postgresql, mysql, mongodb, redis, elasticsearch, sqlite"],
            ["a sentinel master for postgresql", { sentinelMaster: "primary" }, "DatabaseBackup(bad).sentinelMaster: is set for postgresql; allowed: redis only"],
            ["a SQLite source for postgresql", { sqlite: { claimName: "c", mountPath: "/data", file: "f", serverSelector: {}, uidException: { uid: 666, reason: "owns the files" } } },
                "DatabaseBackup(bad).sqlite: is set for postgresql; allowed: sqlite only"],
            ["sqlite without its source", { engine: "sqlite", traffic: { ingress: [], egress: [] } }, "DatabaseBackup(bad).sqlite: missing"],
            ["sqlite with egress", { engine: "sqlite", traffic: toDb(dbPeer, 8080),
                sqlite: { claimName: "c", mountPath: "/data", file: "f", serverSelector: {}, uidException: { uid: 666, reason: "owns the files" } } },
            "DatabaseBackup(bad).traffic: allowed: no ingress and no egress"],
            ["a bad size", { storage: { size: "lots" } }, "DatabaseBackup(bad).storage.size: \"lots\" is not a storage quantity"],
            ["too many kept jobs", { successfulJobsHistoryLimit: 50 }, "DatabaseBackup(bad).successfulJobsHistoryLimit: 50 is not allowed; allowed: an integer from 0 to 10"],
            ["a bad time zone", { timeZone: "CET+1" }, "DatabaseBackup(bad).timeZone: \"CET+1\" is not allowed"],
            ["an unpinned image", { image: "postgres" }, "DatabaseBackup(bad).container.image: \"postgres\" is not pinned"],
            ["traffic with no egress", { traffic: { ingress: [], egress: [] } }, "DatabaseBackup(bad).traffic: allowed: the backup endpoint's rules from the traffic plan, egress to the database pods on port 5432"],
            ["egress to another port", { traffic: toDb(dbPeer, 3306) }, "DatabaseBackup(bad).traffic: allowed: the backup endpoint's rules from the traffic plan, egress to the database pods on port 5432"],
            ["traffic into the backup pods", { traffic: { ingress: [{ peer: dbPeer, ports: [{ port: 80 }] }], egress: toDb(dbPeer, 5432).egress } },
                "DatabaseBackup(bad).traffic.ingress: allowed: none"],
        ];
        for (const [what, over, message] of cases) {
            it(what, async () => {
                const res = await capture(() => {
                    expect(() => new DatabaseBackup("bad", args("postgresql", over))).to.throw(message);
                });
                expect(res).to.have.length(0);
            });
        }
    });
});

describe("backup resources and the policy pack", () => {
    it("pass the prod pack with zero violations next to the databases they dump", async () => {
        const quota = { requestsCpu: "8", requestsMemory: "16Gi", limitsCpu: "16", limitsMemory: "32Gi", requestsStorage: "200Gi", pods: 50, persistentVolumeClaims: 20 };
        const limits = { defaultRequest: { cpu: "100m", memory: "128Mi" }, default: { cpu: "500m", memory: "512Mi" }, max: { cpu: "4", memory: "8Gi" } };
        const res = await capture(() => {
            const ns = new NamespaceBaseline("ns-databases", { name: "databases", quota, limits });
            for (const engine of ["postgresql", "mysql", "mongodb", "redis"] as const) {
                const name = `${engine}-db`;
                const selector = { "app.kubernetes.io/instance": name, "app.kubernetes.io/part-of": "database-service" };
                const backup = new DatabaseBackup(`${name}-backup`, args(engine, {
                    namespace: ns.name, host: `${name}.databases.svc.cluster.local`, secretName: `${name}-credentials`,
                    traffic: toDb({ kind: "pods", namespace: "databases", selector }, PORTS[engine]),
                }));
                new Database(name, { namespace: "databases", type: engine, storage: { size: "5Gi" }, clients: [backup.peer],
                    resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } } });
            }
        });
        // A backup and a (suspended) restore CronJob per database.
        expect(ofType(res, T.cronJob).map(c => c.inputs.metadata.name).sort()).to.deep.equal([
            "mongodb-db-backup", "mongodb-db-backup-restore", "mysql-db-backup", "mysql-db-backup-restore",
            "postgresql-db-backup", "postgresql-db-backup-restore", "redis-db-backup", "redis-db-backup-restore",
        ]);
        expect(await packViolations(res)).to.deep.equal([]);
        // The database passwords stay in their Secrets: the CronJobs only reference them.
        for (const cj of ofType(res, T.cronJob)) {
            expect(JSON.stringify(cj.inputs)).not.to.match(/mockpw-/);
            expect(containsSecret(cj.raw)).to.equal(false);
        }
        expect(containsSecret(byName(res, T.secret, "postgresql-db-credentials").raw.stringData)).to.equal(true);
        expect(byName(res, T.secret, "postgresql-db-credentials").inputs.stringData.password).to.equal(mockPassword("postgresql-db-password"));
    });
});
