/**
 * Backups of every stateful store, as the stacks build them: prod dumps every PostgreSQL, MySQL and
 * MongoDB of every system, CStore's Redis and the DatabaseService's sentinel-mode Redis, snapshots
 * its Elasticsearch and copies its SQLite (DatabaseService, GreenfieldCluster, CStore, OutboxEvents)
 * with a restore template beside each; dev has none. Retention comes from each system's `backups` key.
 */
import { expect } from "chai";
import { parsePlatformConfig } from "../../config";
import { deepClone, stackConfig, stackSecrets } from "./helpers";
import { RecordedResource } from "./mocks";
import { builtStack } from "./stack-resources";

const CRONJOB = "kubernetes:batch/v1:CronJob";
const NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy";

/** Every backup of prod: CronJob name -> [namespace, engine, database, retention]. */
const PROD_BACKUPS: Record<string, [string, string, string, string]> = {
    "orders-db-backup": ["databases", "postgresql", "orders", "14"],
    "orders-mysql-backup": ["databases", "mysql", "orders", "14"],
    "catalog-mongo-backup": ["databases", "mongodb", "catalog", "14"],
    "orders-cache-backup": ["databases", "redis", "redis", "14"],
    "search-backup": ["databases", "elasticsearch", "search", "14"],
    "edge-cache-backup": ["databases", "sqlite", "app", "14"],
    "greenfield-postgresql-backup": ["greenfield", "postgresql", "app", "14"],
    "greenfield-mysql-backup": ["greenfield", "mysql", "app", "14"],
    "greenfield-mongodb-backup": ["greenfield", "mongodb", "app", "14"],
    "cstore-mongodb-backup": ["cstore", "mongodb", "cstore", "14"],
    "cstore-redis-backup": ["cstore", "redis", "redis", "14"],
    "outbox-restdb-backup": ["outbox", "postgresql", "restdb", "14"],
    "outbox-grpcdb-backup": ["outbox", "postgresql", "grpcdb", "14"],
    "outbox-workerdb-backup": ["outbox", "postgresql", "workerdb", "14"],
};

const envOf = (cj: RecordedResource): Record<string, string> => Object.fromEntries(
    cj.inputs.spec.jobTemplate.spec.template.spec.containers[0].env.filter((e: { value?: string }) => e.value !== undefined)
        .map((e: { name: string; value: string }) => [e.name, e.value]));

describe("backups of every stateful store", () => {
    let prod: RecordedResource[];
    let dev: RecordedResource[];
    before(async () => {
        prod = (await builtStack("prod")).res;
        dev = (await builtStack("dev")).res;
    });
    const cronJobs = (res: RecordedResource[]) => res.filter(r => r.type === CRONJOB);
    const named = (res: RecordedResource[], name: string) => {
        const found = res.filter(r => r.type === CRONJOB && r.inputs.metadata.name === name);
        expect(found, name).to.have.length(1);
        return found[0];
    };

    it("prod backs up every store of every system: PostgreSQL, MySQL, MongoDB, Redis, Elasticsearch, SQLite", () => {
        const backups = cronJobs(prod).filter(c => !c.inputs.spec.suspend);
        const seen = Object.fromEntries(backups.map(c => {
            const env = envOf(c);
            return [c.inputs.metadata.name, [c.inputs.metadata.namespace, env.ENGINE, env.DB_NAME, env.KEEP]];
        }));
        expect(seen).to.deep.equal(PROD_BACKUPS);
    });

    it("prod has a suspended restore template beside every backup, running restore.sh (Elasticsearch: es-restore.sh)", () => {
        for (const name of Object.keys(PROD_BACKUPS)) {
            const r = named(prod, `${name}-restore`);
            expect(r.inputs.spec.suspend).to.equal(true);
            const script = PROD_BACKUPS[name][1] === "elasticsearch" ? "es-restore.sh" : "restore.sh";
            expect(r.inputs.spec.jobTemplate.spec.template.spec.containers[0].command).to.deep.equal(["/bin/sh", `/etc/backup/${script}`]);
            expect(envOf(r).DB_NAME).to.equal(PROD_BACKUPS[name][2]);
        }
    });

    it("dev runs no backup and no restore template (backups are off)", () => {
        expect(cronJobs(dev).map(c => c.inputs.metadata.name).filter(n => n.includes("backup"))).to.deep.equal([]);
    });

    it("dumps MongoDB replica sets through the primary (DB_REPLICA_SET), a single member directly", () => {
        expect(envOf(named(prod, "greenfield-mongodb-backup")).DB_REPLICA_SET).to.equal("rs0");
        expect(envOf(named(prod, "catalog-mongo-backup")).DB_REPLICA_SET).to.equal("rs-catalog");
        expect(envOf(named(prod, "cstore-mongodb-backup"))).not.to.have.property("DB_REPLICA_SET");
    });

    it("gives each outbox backup egress to its own database only, on 5432", () => {
        for (const db of ["restdb", "grpcdb", "workerdb"]) {
            const np = prod.find(r => r.type === NETPOL && r.inputs.metadata.name === `outbox-${db}-backup`)!.inputs.spec;
            expect(np.ingress).to.deep.equal([]);
            expect(np.egress).to.have.length(1);
            expect(np.egress[0].ports).to.deep.equal([{ port: 5432, protocol: "TCP" }]);
            expect(np.egress[0].to[0].podSelector.matchLabels["app.kubernetes.io/instance"]).to.equal(`outbox-${db}`);
        }
    });

    it("lets the backup pods into the store they dump: the store's NetworkPolicy admits them on its port", () => {
        const storePolicy = prod.find(r => r.type === NETPOL && r.inputs.metadata.name === "cstore-mongodb"
            && r.inputs.metadata.namespace === "cstore")!.inputs.spec;
        const fromBackup = storePolicy.ingress.filter((rule: any) =>
            rule.from.some((p: any) => p.podSelector?.matchLabels?.["app.kubernetes.io/instance"] === "cstore-mongodb-backup"));
        expect(fromBackup).to.have.length(1);
        expect(fromBackup[0].ports).to.deep.equal([{ port: 27017, protocol: "TCP" }]);
    });
});

describe("backups config", () => {
    const prodWith = (system: string, backups: unknown) => {
        const cfg = deepClone(stackConfig("prod"));
        (cfg[system] as Record<string, unknown>).backups = backups;
        return () => parsePlatformConfig(cfg, stackSecrets("prod"));
    };
    for (const system of ["greenfield", "cstore", "outbox"]) {
        it(`names k8s-platform:${system}.backups.retention when it is 0`, () => {
            expect(prodWith(system, { retention: 0 })).to.throw(`k8s-platform:${system}.backups.retention: 0 is not allowed; allowed: an integer from 1 to 366`);
        });
        it(`names k8s-platform:${system}.backups.schedule when it is not a cron schedule`, () => {
            expect(prodWith(system, { schedule: "nightly" })).to.throw(`k8s-platform:${system}.backups.schedule: "nightly" has 1 fields`);
        });
        it(`rejects an unknown key under k8s-platform:${system}.backups`, () => {
            expect(prodWith(system, { keep: 3 })).to.throw(`k8s-platform:${system}.backups`);
        });
        it(`turns ${system}'s backups off with enabled: false`, () => {
            const cfg = prodWith(system, { enabled: false, retention: 3 })();
            expect((cfg as any)[system].backups).to.equal(undefined);
        });
    }
});
