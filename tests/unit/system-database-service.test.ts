import { expect } from "chai";
import { DatabaseService } from "../../components/systems/database-service";
import { byName, capture, ofType, platformConfig, podSpec, T, valueOf } from "./helpers";
import { RecordedResource } from "./mocks";
import { parseQuantity } from "../../components/k8s/quantity";


function build(stack: string): Promise<{ res: RecordedResource[]; svc: DatabaseService }> {
    const cfg = platformConfig(stack);
    let svc: DatabaseService | undefined;
    return capture(() => {
        svc = new DatabaseService("dbs", { spec: cfg.databases, protect: cfg.protectData });
    }).then(res => ({ res, svc: svc! }));
}

const replicasByDb = (res: RecordedResource[]) => Object.fromEntries([...ofType(res, T.statefulSet), ...ofType(res, T.deployment)]
    .map(w => [w.inputs.metadata.name, w.inputs.spec.replicas]));

describe("DatabaseService (database-operator.md)", () => {
    describe("dev", () => {
        let res: RecordedResource[];
        let svc: DatabaseService;
        before(async () => ({ res, svc } = await build("dev")));

        it("runs one database of each engine at minimum size", () => {
            expect(replicasByDb(res)).to.deep.equal({
                "orders-db": 1, "orders-cache": 1, "orders-mysql": 1, "catalog-mongo": 1, search: 1, "edge-cache": 1,
            });
        });

        it("schedules no backups", () => {
            expect(ofType(res, T.cronJob)).to.have.length(0);
        });

        it("reports a status per database", async () => {
            expect(Object.keys(svc.databases).sort()).to.deep.equal(["catalog-mongo", "edge-cache", "orders-cache", "orders-db", "orders-mysql", "search"]);
            expect(await valueOf(svc.databases.search.phase)).to.equal("Pending");
            expect(await valueOf(svc.databases["edge-cache"].port)).to.equal(8080);
        });
    });

    describe("prod", () => {
        let res: RecordedResource[];
        before(async () => ({ res } = await build("prod")));

        it("runs the HA sizes: 3 members per replicated engine, SQLite alone", () => {
            expect(replicasByDb(res)).to.deep.equal({
                "orders-db": 3, "orders-cache": 3, "orders-mysql": 3, "catalog-mongo": 3, search: 3, "edge-cache": 1,
            });
        });

        const ALL_BACKUPS = ["catalog-mongo-backup", "edge-cache-backup", "orders-cache-backup", "orders-db-backup", "orders-mysql-backup", "search-backup"];

        it("backs up every instance daily with the configured retention: the dumps, sentinel-mode Redis, Elasticsearch, SQLite", () => {
            const jobs = ofType(res, T.cronJob).filter(c => !c.inputs.spec.suspend)
                .map(c => [c.inputs.metadata.name, c.inputs.spec.schedule, c.inputs.spec.concurrencyPolicy]).sort();
            expect(jobs).to.deep.equal(ALL_BACKUPS.map(n => [n, "0 2 * * *", "Forbid"]));
            const keep = ofType(res, T.cronJob).filter(c => !c.inputs.spec.suspend).map(c =>
                c.inputs.spec.jobTemplate.spec.template.spec.containers[0].env.find((e: { name: string }) => e.name === "KEEP").value);
            expect(keep).to.deep.equal(ALL_BACKUPS.map(() => "14"));
        });

        it("keeps a suspended restore template beside each backup", () => {
            const templates = ofType(res, T.cronJob).filter(c => c.inputs.spec.suspend === true).map(c => c.inputs.metadata.name).sort();
            expect(templates).to.deep.equal(ALL_BACKUPS.map(n => `${n}-restore`));
        });

        const cronEnv = (name: string): Record<string, string> => Object.fromEntries(byName(res, T.cronJob, name).inputs.spec.jobTemplate.spec.template.spec
            .containers[0].env.filter((e: { value?: string }) => e.value !== undefined).map((e: { name: string; value: string }) => [e.name, e.value]));

        it("dumps the sentinel-mode Redis through the primary its sentinels name, reaching sentinels and members", () => {
            const env = cronEnv("orders-cache-backup");
            expect([env.ENGINE, env.DB_HOST, env.DB_PORT, env.DB_SENTINEL_MASTER]).to.deep.equal(
                ["redis", "orders-cache.databases.svc.cluster.local", "26379", "primary"]);
            expect(cronEnv("orders-cache-backup-restore").DB_SENTINEL_MASTER).to.equal("primary");
            const np = byName(res, T.netpol, "orders-cache-backup").inputs.spec;
            expect(np.egress.map((r: { ports: unknown }) => r.ports)).to.deep.equal([[{ port: 6379, protocol: "TCP" }, { port: 26379, protocol: "TCP" }]]);
            const fromBackup = byName(res, T.netpol, "orders-cache").inputs.spec.ingress.find((r: { from: { podSelector: { matchLabels: Record<string, string> } }[] }) =>
                r.from[0].podSelector.matchLabels["app.kubernetes.io/instance"] === "orders-cache-backup");
            expect(fromBackup.ports).to.deep.equal([{ port: 6379, protocol: "TCP" }, { port: 26379, protocol: "TCP" }]);
        });

        it("snapshots Elasticsearch into a ReadWriteMany repository claim every node mounts as its path.repo", () => {
            const env = cronEnv("search-backup");
            expect([env.ENGINE, env.REPOSITORY, env.SNAPSHOT_DIR, env.DB_PORT, env.DB_NAME]).to.deep.equal(["elasticsearch", "search-backup", "/usr/share/elasticsearch/snapshots", "9200", "search"]);
            const pod = byName(res, T.cronJob, "search-backup").inputs.spec.jobTemplate.spec.template.spec;
            expect(pod.containers[0].image).to.equal("docker.elastic.co/elasticsearch/elasticsearch:8.15.0");
            expect(pod.containers[0].command).to.deep.equal(["/bin/sh", "/etc/backup/es-snapshot.sh"]);
            expect(pod.volumes.map((v: { name: string }) => v.name)).not.to.include("backups");
            const claim = byName(res, T.pvc, "search-backup-storage").inputs.spec;
            expect(claim.accessModes).to.deep.equal(["ReadWriteMany"]);
            const es = podSpec(byName(res, T.statefulSet, "search"));
            expect(es.volumes).to.deep.include({ name: "snapshots", persistentVolumeClaim: { claimName: "search-backup-storage" } });
            expect(es.containers[0].volumeMounts).to.deep.include({ name: "snapshots", mountPath: "/usr/share/elasticsearch/snapshots" });
            expect(es.containers[0].env).to.deep.include({ name: "path.repo", value: "/usr/share/elasticsearch/snapshots" });
        });

        it("fits every claim, the backups' included, in the namespace quota (storage and count)", () => {
            const claims = [
                ...ofType(res, T.pvc).map(p => p.inputs.spec.resources.requests.storage as string),
                ...ofType(res, T.statefulSet).flatMap(sts => (sts.inputs.spec.volumeClaimTemplates ?? []).flatMap((t: any) =>
                    Array.from({ length: sts.inputs.spec.replicas }, () => t.spec.resources.requests.storage as string))),
            ];
            const quota = ofType(res, T.quota)[0].inputs.spec.hard;
            const total = claims.reduce((t, c) => t + parseQuantity(c)!, 0);
            expect(total, `${total / 2 ** 30}Gi of claims`).to.be.at.most(parseQuantity(quota["requests.storage"])!);
            expect(claims.length).to.be.at.most(Number(quota.persistentvolumeclaims));
        });

        it("copies SQLite from its own claim on the server's node, as the server's UID, with no network", () => {
            const pod = byName(res, T.cronJob, "edge-cache-backup").inputs.spec.jobTemplate.spec.template.spec;
            expect(cronEnv("edge-cache-backup")).to.include({ ENGINE: "sqlite", DB_FILE: "/data/app.db/dbs/default/data", BACKUP_DIR: "/backups" });
            expect(pod.volumes).to.deep.include({ name: "database", persistentVolumeClaim: { claimName: "edge-cache-data" } });
            expect(pod.containers[0].volumeMounts).to.deep.include({ name: "database", mountPath: "/data" });
            expect(pod.securityContext.runAsUser).to.equal(666);
            const affinity = pod.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0];
            expect(affinity.topologyKey).to.equal("kubernetes.io/hostname");
            expect(affinity.labelSelector.matchLabels["app.kubernetes.io/instance"]).to.equal("edge-cache");
            // The restore runs with the server stopped: anywhere.
            expect(byName(res, T.cronJob, "edge-cache-backup-restore").inputs.spec.jobTemplate.spec.template.spec.affinity).to.equal(undefined);
            expect(byName(res, T.netpol, "edge-cache-backup").inputs.spec.egress).to.deep.equal([]);
            expect(byName(res, T.cronJob, "edge-cache-backup").inputs.metadata.annotations["platform.io/uid-exception"]).to.match(/^uid 666: /);
        });

        it("lets each backup reach its database on the client port", () => {
            const ingress = byName(res, T.netpol, "orders-mysql").inputs.spec.ingress;
            const fromBackup = ingress.find((r: { from: { podSelector: { matchLabels: Record<string, string> } }[] }) =>
                r.from[0].podSelector.matchLabels["app.kubernetes.io/instance"] === "orders-mysql-backup");
            expect(fromBackup.ports).to.deep.equal([{ port: 3306, protocol: "TCP" }]);
        });

        it("grants the deployer exactly the database operator's rules", () => {
            const role = ofType(res, T.role)[0].inputs;
            expect(role.metadata.labels["platform.io/deployer"]).to.equal("database");
            expect(role.rules.find((r: { resources: string[] }) => r.resources.includes("secrets")).verbs).to.deep.equal(["get", "list", "watch"]);
        });
    });
});
