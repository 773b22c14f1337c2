import { expect } from "chai";
import { Database, DatabaseArgs, DATABASE_DEPLOYER_RULES, phaseOf } from "../../components/database/database";
import { DATABASE_TYPES, DatabaseType } from "../../components/database/engines";
import { containsSecret, mockPassword } from "./mocks";
import { byName, capture, isSecret, ofType, podSpec, T, valueOf } from "./helpers";

const api = { kind: "pods" as const, namespace: "shop", selector: { "app.kubernetes.io/name": "api" } };

function args(type: DatabaseType, over: Partial<DatabaseArgs> = {}): DatabaseArgs {
    return { namespace: "data", type, storage: { size: "2Gi", storageClass: "fast" }, clients: [api], ...over };
}

/** Design facts from database-operator.md: image, ports, data path, workload kind. */
const DESIGN: Record<DatabaseType, { image: string; ports: number[]; dataPath: string; kind: string }> = {
    postgresql: { image: "postgres:16.4", ports: [5432], dataPath: "/var/lib/postgresql/data", kind: T.statefulSet },
    mysql: { image: "mysql:8.4.2", ports: [3306], dataPath: "/var/lib/mysql", kind: T.statefulSet },
    mongodb: { image: "mongo:7.0.14", ports: [27017], dataPath: "/data/db", kind: T.statefulSet },
    redis: { image: "redis:7.2.5", ports: [6379], dataPath: "/data", kind: T.statefulSet },
    elasticsearch: { image: "docker.elastic.co/elasticsearch/elasticsearch:8.15.0", ports: [9200, 9300], dataPath: "/usr/share/elasticsearch/data", kind: T.statefulSet },
    sqlite: { image: "nouchka/sqlite3:3.45.1", ports: [8080], dataPath: "/data", kind: T.deployment },
};

describe("Database", () => {
    for (const type of DATABASE_TYPES) {
        describe(type, () => {
            const d = DESIGN[type];
            it(`runs ${d.image} as a ${d.kind.split(":").pop()} with the data volume at ${d.dataPath}`, async () => {
                const res = await capture(() => new Database(`${type}-a`, args(type)));
                const w = ofType(res, d.kind);
                expect(w).to.have.length(1);
                const c = podSpec(w[0]).containers[0];
                expect(c.image).to.equal(d.image);
                expect(c.ports.map((p: { containerPort: number }) => p.containerPort)).to.deep.equal(d.ports);
                expect(c.volumeMounts.find((m: { name: string }) => m.name === "data").mountPath).to.equal(d.dataPath);
            });

            it("exposes the design's ports on a ClusterIP Service", async () => {
                const res = await capture(() => new Database(`${type}-b`, args(type)));
                const svc = byName(res, T.service, `${type}-b`).inputs.spec;
                expect(svc.type).to.equal("ClusterIP");
                expect(svc.ports.map((p: { port: number }) => p.port)).to.deep.equal(d.ports);
            });

            it("passes the password only through a secretKeyRef", async () => {
                const res = await capture(() => new Database(`${type}-c`, args(type)));
                const json = JSON.stringify(ofType(res, d.kind)[0].inputs);
                expect(json).not.to.contain(mockPassword(`${type}-c-password`));
                if (type !== "sqlite") {
                    const env = podSpec(ofType(res, d.kind)[0]).containers[0].env;
                    const refs = env.filter((e: { valueFrom?: { secretKeyRef?: { name: string } } }) => e.valueFrom?.secretKeyRef?.name === `${type}-c-credentials`);
                    expect(refs.length).to.be.greaterThan(0);
                }
            });

            it("lets in only the declared clients on the client port", async () => {
                const res = await capture(() => new Database(`${type}-d`, args(type)));
                const np = ofType(res, T.netpol)[0].inputs.spec;
                expect(np.ingress).to.have.length(1);
                expect(np.ingress[0].from[0].podSelector).to.deep.equal({ matchLabels: { "app.kubernetes.io/name": "api" } });
                expect(np.ingress[0].ports).to.deep.equal([{ port: d.ports[0], protocol: "TCP" }]);
                expect(np.egress).to.deep.equal([]);
            });
        });
    }

    it("generates the password with @pulumi/random into a Secret", async () => {
        const res = await capture(() => new Database("pg-secret", args("postgresql", { credentials: { username: "orders" } })));
        expect(ofType(res, T.password)[0].inputs.length).to.equal(32);
        const secret = byName(res, T.secret, "pg-secret-credentials");
        expect(secret.inputs.stringData).to.deep.equal({ username: "orders", password: mockPassword("pg-secret-password") });
        expect(containsSecret(secret.raw.stringData)).to.equal(true);
    });

    it("uses an existing Secret without generating one", async () => {
        const res = await capture(() => new Database("pg-existing", args("postgresql", { credentials: { existingSecret: "vault-pg" } })));
        expect(ofType(res, T.password)).to.have.length(0);
        expect(ofType(res, T.secret)).to.have.length(0);
        const env = podSpec(ofType(res, T.statefulSet)[0]).containers[0].env;
        expect(env.find((e: { name: string }) => e.name === "POSTGRES_PASSWORD").valueFrom.secretKeyRef).to.deep.equal({ name: "vault-pg", key: "password" });
    });

    it("sizes volume claims from storage size and class", async () => {
        const res = await capture(() => new Database("mongo-vol", args("mongodb", { storage: { size: "5Gi", configSize: "1Gi", storageClass: "fast" } })));
        const claims = ofType(res, T.statefulSet)[0].inputs.spec.volumeClaimTemplates;
        expect(claims.map((c: { metadata: { name: string }; spec: { resources: { requests: { storage: string } } } }) =>
            [c.metadata.name, c.spec.resources.requests.storage])).to.deep.equal([["data", "5Gi"], ["config", "1Gi"]]);
        expect(claims[0].spec.storageClassName).to.equal("fast");
    });

    it("outputs host, port, secret name and a secret connection URL", async () => {
        const db = new Database("pg-out", args("postgresql", { databaseName: "orders", credentials: { username: "svc" } }));
        expect(await valueOf(db.host)).to.equal("pg-out.data.svc.cluster.local");
        expect(await valueOf(db.port)).to.equal(5432);
        expect(await valueOf(db.secretName)).to.equal("pg-out-credentials");
        expect(await isSecret(db.connectionUrl)).to.equal(true);
        expect(await valueOf(db.connectionUrl)).to.equal(`postgresql://svc:${mockPassword("pg-out-password")}@pg-out.data.svc.cluster.local:5432/orders`);
    });

    it("reports phase Pending until the API server reports ready replicas", async () => {
        const db = new Database("pg-phase", args("postgresql"));
        expect(await valueOf(db.phase)).to.equal("Pending");
        expect(phaseOf(3, 1)).to.equal("Creating");
        expect(phaseOf(3, 3)).to.equal("Ready");
    });

    it("makes a 3-member MongoDB replica set with a key file copied by an init container", async () => {
        const res = await capture(() => new Database("mongo-rs", args("mongodb", { replicas: 3, mongodb: { replicaSetName: "rs-orders" } })));
        const spec = podSpec(ofType(res, T.statefulSet)[0]);
        expect(spec.containers[0].args).to.deep.equal(["--bind_ip_all", "--replSet", "rs-orders", "--keyFile", "/etc/mongodb-keyfile/keyfile"]);
        expect(spec.initContainers[0].name).to.equal("install-keyfile");
        expect(byName(res, T.secret, "mongo-rs-credentials").inputs.stringData["mongodb-keyfile"]).to.equal(mockPassword("mongo-rs-keyfile"));
    });

    it("lets replicated members talk to each other on every engine port", async () => {
        const res = await capture(() => new Database("es-ha", args("elasticsearch", { replicas: 3 })));
        const np = ofType(res, T.netpol)[0].inputs.spec;
        const self = { matchLabels: { "app.kubernetes.io/instance": "es-ha", "app.kubernetes.io/part-of": "database-service" } };
        expect(np.ingress[1].from[0].podSelector).to.deep.equal(self);
        expect(np.egress[0].ports.map((p: { port: number }) => p.port)).to.deep.equal([9200, 9300]);
        const env = podSpec(ofType(res, T.statefulSet)[0]).containers[0].env;
        expect(env.find((e: { name: string }) => e.name === "discovery.seed_hosts").value)
            .to.equal("es-ha-0.es-ha-headless,es-ha-1.es-ha-headless,es-ha-2.es-ha-headless");
    });

    it("points the write Service of replicated PostgreSQL at the primary (ordinal 0)", async () => {
        const res = await capture(() => new Database("pg-ha", args("postgresql", { replicas: 3 })));
        expect(byName(res, T.service, "pg-ha").inputs.spec.selector["statefulset.kubernetes.io/pod-name"]).to.equal("pg-ha-0");
    });

    it("adds a read Service over every member of replicated PostgreSQL", async () => {
        const db = new Database("pg-read", args("postgresql", { replicas: 3 }));
        expect(await valueOf(db.readHost)).to.equal("pg-read-read.data.svc.cluster.local");
    });

    it("gives the read Service every member's selector and the client port", async () => {
        const res = await capture(() => new Database("pg-read2", args("postgresql", { replicas: 2 })));
        const svc = byName(res, T.service, "pg-read2-read").inputs.spec;
        expect(svc.selector).to.deep.equal({ "app.kubernetes.io/instance": "pg-read2", "app.kubernetes.io/part-of": "database-service" });
        expect(svc.ports.map((p: { port: number }) => p.port)).to.deep.equal([5432]);
    });

    it("has no read Service for a single PostgreSQL", async () => {
        const res = await capture(() => new Database("pg-one", args("postgresql")));
        expect(ofType(res, T.service).map(s => s.inputs.metadata.name).sort()).to.deep.equal(["pg-one", "pg-one-headless"]);
    });

    it("clones standbys with the clone-standby.sh script of the config ConfigMap", async () => {
        const res = await capture(() => new Database("pg-clone", args("postgresql", { replicas: 3 })));
        const spec = podSpec(ofType(res, T.statefulSet)[0]);
        const init = spec.initContainers.find((c: { name: string }) => c.name === "clone-primary");
        expect(init.command).to.deep.equal(["/bin/sh", "/etc/database/clone-standby.sh"]);
        expect(init.env.find((e: { name: string }) => e.name === "PRIMARY_HOST").value).to.equal("pg-clone-0.pg-clone-headless");
        const cmName = spec.volumes.find((v: { name: string }) => v.name === "db-config").configMap.name;
        expect(byName(res, T.configMap, cmName).inputs.data["clone-standby.sh"]).to.contain("pg_basebackup");
    });

    it("reads pg_hba.conf (with the replication line) from the ConfigMap on every start, not only at initdb", async () => {
        const res = await capture(() => new Database("pg-hba", args("postgresql", { replicas: 1 })));
        const spec = podSpec(ofType(res, T.statefulSet)[0]);
        expect(spec.containers[0].args).to.include("hba_file=/etc/database/pg_hba.conf");
        const cmName = spec.volumes.find((v: { name: string }) => v.name === "db-config").configMap.name;
        expect(byName(res, T.configMap, cmName).inputs.data["pg_hba.conf"]).to.match(/^host\s+replication\s+all\s+all\s+scram-sha-256$/m);
    });

    it("runs synchronous replication when asked: a commit waits for any one standby", async () => {
        const res = await capture(() => new Database("pg-sync", args("postgresql", { replicas: 3, postgresql: { synchronous: true } })));
        const a = podSpec(ofType(res, T.statefulSet)[0]).containers[0].args;
        expect(a).to.include("synchronous_standby_names=ANY 1 (*)");
        expect(a).to.include("synchronous_commit=on");
    });

    it("runs asynchronous replication by default", async () => {
        const res = await capture(() => new Database("pg-async", args("postgresql", { replicas: 3 })));
        const a: string[] = podSpec(ofType(res, T.statefulSet)[0]).containers[0].args;
        expect(a.filter(x => x.startsWith("synchronous_standby_names"))).to.deep.equal([]);
    });

    it("refuses synchronous replication without a standby", () => {
        expect(() => new Database("pg-sync1", args("postgresql", { replicas: 1, postgresql: { synchronous: true } })))
            .to.throw("Database(pg-sync1).postgresql.synchronous: true is not allowed with 1 replica; allowed: false, or replicas >= 2 (a commit waits for a standby)");
    });

    it("configures Redis AOF, maxmemory and eviction, and replicas of ordinal 0", async () => {
        const res = await capture(() => new Database("cache", args("redis", {
            replicas: 3, redis: { mode: "replication", appendOnly: true, maxMemory: "512mb", maxMemoryPolicy: "allkeys-lru" },
        })));
        const script = podSpec(ofType(res, T.statefulSet)[0]).containers[0].args[0];
        expect(script).to.contain("--appendonly yes");
        expect(script).to.contain("--maxmemory 512mb");
        expect(script).to.contain("--maxmemory-policy allkeys-lru");
        expect(script).to.contain("--replicaof cache-0.cache-headless 6379");
    });

    it("runs a sentinel beside every Redis member in sentinel mode, watching ordinal 0 with a majority quorum", async () => {
        const res = await capture(() => new Database("sent", args("redis", { replicas: 3, redis: { mode: "sentinel" } })));
        const [redis, sentinel] = podSpec(ofType(res, T.statefulSet)[0]).containers;
        expect(redis.args[0]).to.contain("--replicaof sent-0.sent-headless 6379");
        expect(sentinel.name).to.equal("sentinel");
        expect(sentinel.args[0]).to.contain("sentinel monitor primary sent-0.sent-headless 6379 2");
        expect(sentinel.args[0]).to.contain("--port 26379");
        const svc = byName(res, T.service, "sent").inputs.spec;
        expect(svc.ports.map((p: { port: number }) => p.port)).to.deep.equal([6379, 26379]);
        expect(svc.selector["statefulset.kubernetes.io/pod-name"]).to.equal(undefined);
        const np = ofType(res, T.netpol)[0].inputs.spec;
        expect(np.ingress[0].ports.map((p: { port: number }) => p.port)).to.deep.equal([6379, 26379]);
    });

    it("refuses sentinel mode without a quorum of 3", () => {
        expect(() => new Database("sent2", args("redis", { replicas: 2, redis: { mode: "sentinel" } })))
            .to.throw("Database(sent2).replicas: 2 is not allowed with redis mode sentinel; allowed: 3 to 10 (a sentinel quorum)");
    });

    it("runs SQLite as one Deployment with a Recreate strategy on its own claim", async () => {
        const res = await capture(() => new Database("lite", args("sqlite")));
        const dep = ofType(res, T.deployment)[0].inputs.spec;
        expect(dep.replicas).to.equal(1);
        expect(dep.strategy).to.deep.equal({ type: "Recreate" });
        expect(byName(res, T.pvc, "lite-data").inputs.spec.resources.requests.storage).to.equal("2Gi");
    });

    it("protects the StatefulSet when asked to (prod)", () => {
        const db = new Database("pg-prot", args("postgresql", { protect: true }));
        const sts = db.workload.statefulSet!;
        expect((sts as any).__protect).to.equal(true);
    });

    it("refuses 11 replicas before registering anything", async () => {
        const res = await capture(() => {
            expect(() => new Database("too-many", args("postgresql", { replicas: 11 })))
                .to.throw("Database(too-many).replicas: 11 is not allowed; allowed: an integer from 1 to 10");
        });
        expect(res).to.have.length(0);
    });

    it("mirrors the design's operator RBAC verb for verb", () => {
        const byResource = Object.fromEntries(DATABASE_DEPLOYER_RULES.flatMap(r => r.resources.map(res => [res, r.verbs])));
        const crud = ["get", "list", "watch", "create", "update", "patch", "delete"];
        expect(byResource).to.deep.equal({
            databases: crud, "databases/status": ["get", "update", "patch"], "databases/finalizers": ["update"],
            statefulsets: crud, deployments: crud, services: crud, configmaps: crud, persistentvolumeclaims: crud,
            secrets: ["get", "list", "watch"],
        });
    });
});
