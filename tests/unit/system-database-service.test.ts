import { expect } from "chai";
import { DatabaseService } from "../../components/systems/database-service";
import { byName, capture, ofType, platformConfig, T, valueOf } from "./helpers";
import { RecordedResource } from "./mocks";


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

        it("backs up postgresql, mysql and mongodb daily with the configured retention", () => {
            const jobs = ofType(res, T.cronJob).filter(c => !c.inputs.spec.suspend)
                .map(c => [c.inputs.metadata.name, c.inputs.spec.schedule, c.inputs.spec.concurrencyPolicy]).sort();
            expect(jobs).to.deep.equal([
                ["catalog-mongo-backup", "0 2 * * *", "Forbid"],
                ["orders-db-backup", "0 2 * * *", "Forbid"],
                ["orders-mysql-backup", "0 2 * * *", "Forbid"],
            ]);
        });

        it("keeps a suspended restore template beside each backup, and none for the sentinel-mode Redis", () => {
            const templates = ofType(res, T.cronJob).filter(c => c.inputs.spec.suspend === true).map(c => c.inputs.metadata.name).sort();
            expect(templates).to.deep.equal(["catalog-mongo-backup-restore", "orders-db-backup-restore", "orders-mysql-backup-restore"]);
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
