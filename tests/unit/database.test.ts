import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { Database, DatabaseArgs, DATABASE_DEPLOYER_RULES } from "../../components/database/database";
import { DATABASE_TYPES, DatabaseType } from "../../components/database/engines";
import { validateDatabaseSpec } from "../../components/database/spec";
import { containsSecret, mockPassword, mockWorkloadStatus, RecordedResource } from "./mocks";
import { byName, capture, isSecret, ofType, podSpec, T, valueOf } from "./helpers";

/** A container's env: plain values, or the valueFrom reference. */
function envOf(c: { env: { name: string; value?: string; valueFrom?: unknown }[] }): Record<string, any> {
    return Object.fromEntries(c.env.map(e => [e.name, e.value ?? e.valueFrom]));
}

/** Data of the `<name>-config-<hash>` ConfigMap of a capture (the engine's scripts). */
function configData(res: RecordedResource[]): Record<string, string> {
    const cms = ofType(res, T.configMap).filter(c => /-config-[0-9a-f]{10}$/.test(c.inputs.metadata.name));
    expect(cms).to.have.length(1);
    return cms[0].inputs.data;
}

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
    sqlite: { image: "ghcr.io/tursodatabase/libsql-server:libsql-server-v0.24.32", ports: [8080], dataPath: "/data", kind: T.deployment },
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

            it("passes the credentials only as files of the credentials Secret, mounted read-only (mode 0440)", async () => {
                const res = await capture(() => new Database(`${type}-c`, args(type)));
                const json = JSON.stringify(ofType(res, d.kind)[0].inputs);
                expect(json).not.to.contain(mockPassword(`${type}-c-password`));
                const spec = podSpec(ofType(res, d.kind)[0]);
                expect(json, "no env var from a secretKeyRef").not.to.contain("secretKeyRef");
                if (type !== "sqlite") {
                    expect(spec.volumes.find((v: { name: string }) => v.name === "db-credentials").secret).to.deep.equal({
                        secretName: `${type}-c-credentials`, defaultMode: 0o440,
                        items: [{ key: "username", path: "username" }, { key: "password", path: "password" }],
                    });
                    const c = spec.containers[0];
                    expect(c.volumeMounts).to.deep.include({ name: "db-credentials", mountPath: "/var/run/secrets/platform/db-credentials", readOnly: true });
                    expect(Object.values(envOf(c))).to.include("/var/run/secrets/platform/db-credentials/password");
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

    it("mounts the credentials volume in every container (sidecars, init containers, jobs) that names one of its files", async () => {
        const variants: [DatabaseType, Partial<DatabaseArgs>][] = [
            ["postgresql", { replicas: 3 }], ["mysql", { replicas: 3 }], ["mongodb", { replicas: 3 }],
            ["redis", { replicas: 3, redis: { mode: "sentinel" } }], ["redis", { replicas: 6, redis: { mode: "cluster" } }], ["elasticsearch", { replicas: 3 }],
        ];
        const checked: string[] = [];
        for (const [i, [type, over]] of variants.entries()) {
            const res = await capture(() => new Database(`files-${i}`, args(type, over)));
            const pods = [...ofType(res, T.statefulSet), ...ofType(res, T.job)].map(r => r.inputs.spec.template.spec);
            for (const pod of pods) {
                for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
                    const paths = c.env.map((e: { value?: string }) => e.value ?? "").filter((v: string) => v.startsWith("/var/run/secrets/platform/db-credentials/"));
                    if (paths.length > 0) {
                        expect(c.volumeMounts, `${type} ${c.name}`).to.deep.include({ name: "db-credentials", mountPath: "/var/run/secrets/platform/db-credentials", readOnly: true });
                        expect(pod.volumes.filter((v: { name: string }) => v.name === "db-credentials"), `${type} ${c.name}`).to.have.length(1);
                        checked.push(`${type}/${c.name}`);
                    }
                }
            }
        }
        expect(checked).to.include.members(["postgresql/clone-primary", "mysql/replica", "mongodb/replset", "redis/sentinel", "redis/cluster-create", "redis/cluster-shrink", "elasticsearch/elasticsearch"]);
    });

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
        const spec = podSpec(ofType(res, T.statefulSet)[0]);
        expect(spec.volumes.find((v: { name: string }) => v.name === "db-credentials").secret.secretName).to.equal("vault-pg");
        expect(envOf(spec.containers[0]).POSTGRES_PASSWORD_FILE).to.equal("/var/run/secrets/platform/db-credentials/password");
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

    it("reports phase Pending and Ready=False while the API server reported no status", async () => {
        const db = new Database("pg-phase", args("postgresql"));
        expect(await valueOf(db.phase)).to.equal("Pending");
        expect((await valueOf(db.conditions))[0]).to.deep.include({ type: "Ready", status: "False", reason: "NoStatusReported" });
    });

    it("reports phase Creating while fewer replicas are ready than desired", async () => {
        mockWorkloadStatus["pg-creating"] = { generation: 1, status: { observedGeneration: 1, replicas: 3, readyReplicas: 1, updatedReplicas: 3 } };
        const db = new Database("pg-creating", args("postgresql", { replicas: 3 }));
        expect(await valueOf(db.phase)).to.equal("Creating");
        expect((await valueOf(db.conditions))[0]).to.deep.equal({ type: "Ready", status: "False", reason: "ReplicasNotReady", message: "StatefulSet pg-creating: 1/3 ready" });
    });

    it("reports phase Ready once every desired replica is updated and ready", async () => {
        mockWorkloadStatus["pg-ready"] = { generation: 2, status: { observedGeneration: 2, replicas: 3, readyReplicas: 3, updatedReplicas: 3 } };
        const db = new Database("pg-ready", args("postgresql", { replicas: 3 }));
        expect(await valueOf(db.phase)).to.equal("Ready");
        expect((await valueOf(db.conditions))[0]).to.deep.include({ type: "Ready", status: "True", reason: "AllReplicasReady" });
    });

    it("reports phase Creating while the controller has not observed the latest spec", async () => {
        mockWorkloadStatus["pg-stale"] = { generation: 3, status: { observedGeneration: 2, replicas: 3, readyReplicas: 3, updatedReplicas: 3 } };
        const db = new Database("pg-stale", args("postgresql", { replicas: 3 }));
        expect(await valueOf(db.phase)).to.equal("Creating");
    });

    it("reports phase Failed from a Deployment's failure condition, with its reason", async () => {
        mockWorkloadStatus["lite-failed"] = {
            generation: 1,
            status: {
                observedGeneration: 1, replicas: 1, readyReplicas: 0, updatedReplicas: 1,
                conditions: [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded", message: "ReplicaSet \"lite-failed-1\" has timed out progressing." }],
            },
        };
        const db = new Database("lite-failed", args("sqlite"));
        expect(await valueOf(db.phase)).to.equal("Failed");
        const conditions = await valueOf(db.conditions);
        expect(conditions[0]).to.deep.equal({ type: "Ready", status: "False", reason: "ProgressDeadlineExceeded", message: "ReplicaSet \"lite-failed-1\" has timed out progressing." });
        expect(conditions[1].type).to.equal("lite-failed/Progressing");
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

    it("refuses init scripts for an engine that runs none, before registering anything", async () => {
        const res = await capture(() => {
            expect(() => new Database("cache-init", args("redis", { initScripts: { "01.sql": "select 1" } })))
                .to.throw("Database(cache-init).initScripts: redis runs no init scripts; allowed for: postgresql, mysql, mongodb");
        });
        expect(res).to.have.length(0);
    });

    it("refuses a snapshot repository on an engine other than Elasticsearch, before registering anything", async () => {
        const res = await capture(() => {
            expect(() => new Database("pg-snap", args("postgresql", { snapshotRepository: { claimName: "snaps", path: "/snapshots" } })))
                .to.throw("Database(pg-snap).snapshotRepository: is set for postgresql; allowed: elasticsearch only");
        });
        expect(res).to.have.length(0);
    });

    it("refuses a Redis appendOnly that is not a boolean (\"yes\" would have been read as true)", () => {
        expect(() => new Database("aof", args("redis", { redis: { appendOnly: "yes" } } as unknown as Partial<DatabaseArgs>)))
            .to.throw('Database(aof).redis.appendOnly: "yes" is not allowed; allowed: true or false');
    });

    it("returns the spec as read, typed: the keys given and no others", () => {
        const spec = validateDatabaseSpec("db", { type: "redis", storage: { size: "1Gi" }, resources: {
            requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "200m", memory: "256Mi" } }, redis: { mode: "standalone", maxMemory: "64mb" } });
        expect(spec).to.deep.equal({ type: "redis", storage: { size: "1Gi" }, resources: {
            requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "200m", memory: "256Mi" } }, redis: { mode: "standalone", maxMemory: "64mb" } });
    });

    it("configures Redis AOF, maxmemory and eviction through the start script's environment", async () => {
        const res = await capture(() => new Database("cache", args("redis", {
            replicas: 3, redis: { mode: "replication", appendOnly: true, maxMemory: "512mb", maxMemoryPolicy: "allkeys-lru" },
        })));
        const c = podSpec(ofType(res, T.statefulSet)[0]).containers[0];
        expect(c.command).to.deep.equal(["/bin/sh", "/etc/database/start-redis.sh"]);
        const env = envOf(c);
        expect([env.REDIS_APPENDONLY, env.REDIS_MAXMEMORY, env.REDIS_MAXMEMORY_POLICY]).to.deep.equal(["yes", "512mb", "allkeys-lru"]);
    });

    it("makes ordinal 0 the primary of Redis replication and the others its replicas", async () => {
        const res = await capture(() => new Database("cache2", args("redis", { replicas: 3, redis: { mode: "replication" } })));
        const env = envOf(podSpec(ofType(res, T.statefulSet)[0]).containers[0]);
        expect([env.REDIS_MODE, env.PRIMARY_HOST, env.PRIMARY_PORT]).to.deep.equal(["replication", "cache2-0.cache2-headless", "6379"]);
        expect(configData(res)["start-redis.sh"]).to.contain('if [ "${ordinal}" != "0" ]; then replica_of="${current_host} ${current_port}"; fi');
    });

    it("gives Redis replication a write Service on ordinal 0 and a read Service over every member", async () => {
        const res = await capture(() => new Database("cache3", args("redis", { replicas: 3, redis: { mode: "replication" } })));
        expect(byName(res, T.service, "cache3").inputs.spec.selector["statefulset.kubernetes.io/pod-name"]).to.equal("cache3-0");
        expect(byName(res, T.service, "cache3-read").inputs.spec.selector["statefulset.kubernetes.io/pod-name"]).to.equal(undefined);
    });

    it("never puts the password on a Redis command line, in its ConfigMap or in a container's environment", async () => {
        const res = await capture(() => new Database("cache4", args("redis", { replicas: 3, redis: { mode: "sentinel" } })));
        const spec = podSpec(ofType(res, T.statefulSet)[0]);
        for (const c of spec.containers) {
            expect(envOf(c).REDIS_PASSWORD_FILE).to.equal("/var/run/secrets/platform/db-credentials/password");
            expect(envOf(c).REDISCLI_AUTH, "the password is not in the container's environment").to.equal(undefined);
            expect(JSON.stringify([c.command, c.args])).not.to.contain(mockPassword("cache4-password"));
        }
        expect(JSON.stringify(configData(res))).not.to.contain(mockPassword("cache4-password"));
    });

    it("runs a sentinel beside every Redis member in sentinel mode, with a majority quorum", async () => {
        const res = await capture(() => new Database("sent", args("redis", { replicas: 3, redis: { mode: "sentinel" } })));
        const [, sentinel] = podSpec(ofType(res, T.statefulSet)[0]).containers;
        expect(sentinel.name).to.equal("sentinel");
        expect(sentinel.command).to.deep.equal(["/bin/sh", "/etc/database/sentinel.sh"]);
        const env = envOf(sentinel);
        expect([env.QUORUM, env.MASTER_NAME, env.SENTINEL_PORT]).to.deep.equal(["2", "primary", "26379"]);
        expect(env.SENTINELS).to.equal("sent-0.sent-headless:26379 sent-1.sent-headless:26379 sent-2.sent-headless:26379");
    });

    it("offers only the sentinels on the client Service of sentinel mode (no Service routes writes to a replica)", async () => {
        const res = await capture(() => new Database("sent2s", args("redis", { replicas: 3, redis: { mode: "sentinel" } })));
        const svc = byName(res, T.service, "sent2s").inputs.spec;
        expect(svc.ports.map((p: { port: number }) => p.port)).to.deep.equal([26379]);
        expect(ofType(res, T.service).map(s => s.inputs.metadata.name).sort()).to.deep.equal(["sent2s", "sent2s-headless"]);
    });

    it("lets clients reach the sentinels and the members in sentinel mode", async () => {
        const res = await capture(() => new Database("sent3", args("redis", { replicas: 3, redis: { mode: "sentinel" } })));
        const np = ofType(res, T.netpol)[0].inputs.spec;
        expect(np.ingress[0].ports.map((p: { port: number }) => p.port)).to.deep.equal([6379, 26379]);
    });

    it("outputs the sentinel endpoint and the primary's name in sentinel mode", async () => {
        const db = new Database("sent4", args("redis", { replicas: 3, redis: { mode: "sentinel" } }));
        expect(await valueOf(db.sentinelHost)).to.equal("sent4.data.svc.cluster.local");
        expect(await valueOf(db.sentinelPort)).to.equal(26379);
        expect(await valueOf(db.masterName)).to.equal("primary");
        expect(await valueOf(db.connectionUrl)).to.equal(`redis+sentinel://:${mockPassword("sent4-password")}@sent4.data.svc.cluster.local:26379/primary/0`);
    });

    it("has no sentinel outputs outside sentinel mode", async () => {
        const db = new Database("cache5", args("redis", { replicas: 2, redis: { mode: "replication" } }));
        expect(await valueOf(db.sentinelHost)).to.equal(undefined);
        expect(await valueOf(db.masterName)).to.equal(undefined);
    });

    it("opens Redis Cluster's bus port 16379 in the container and between members", async () => {
        const res = await capture(() => new Database("rc", args("redis", { replicas: 6, redis: { mode: "cluster" } })));
        const c = podSpec(ofType(res, T.statefulSet)[0]).containers[0];
        expect(c.ports.map((p: { containerPort: number }) => p.containerPort)).to.deep.equal([6379, 16379]);
        const np = byName(res, T.netpol, "rc").inputs.spec;
        expect(np.ingress[1].ports.map((p: { port: number }) => p.port)).to.deep.equal([6379, 16379]);
        expect(np.egress[0].ports.map((p: { port: number }) => p.port)).to.deep.equal([6379, 16379]);
    });

    it("runs the cluster-create step beside Redis Cluster members, with 1 replica per master from 6 members", async () => {
        const res = await capture(() => new Database("rc2", args("redis", { replicas: 6, redis: { mode: "cluster" } })));
        const create = podSpec(ofType(res, T.statefulSet)[0]).containers.find((c: { name: string }) => c.name === "cluster-create");
        expect(create.command).to.deep.equal(["/bin/sh", "/etc/database/cluster-create.sh"]);
        expect(envOf(create).CLUSTER_REPLICAS).to.equal("1");
        expect(configData(res)["cluster-create.sh"]).to.contain("redis-cli --cluster create ${MEMBERS}");
    });

    describe("Redis Cluster scale-down (the cluster-shrink Job)", () => {
        let res: RecordedResource[];
        const deps = new Map<string, string[]>();
        const deleteFirst = new Map<string, boolean | undefined>();
        before(async () => {
            const names = new Map<pulumi.Resource, string>();
            const raw = new Map<string, pulumi.Input<pulumi.Resource>[]>();
            res = await capture(() => new Database("rs", args("redis", { replicas: 3, redis: { mode: "cluster" } }), {
                transformations: [a => {
                    names.set(a.resource, a.name);
                    deleteFirst.set(a.name, (a.opts as pulumi.CustomResourceOptions).deleteBeforeReplace);
                    if (Array.isArray(a.opts.dependsOn)) {
                        raw.set(a.name, a.opts.dependsOn);
                    }
                    return undefined;
                }],
            }));
            raw.forEach((d, n) => deps.set(n, d.map(r => names.get(r as pulumi.Resource)!)));
        });

        function shrinkContainer(): any {
            return byName(res, T.job, "rs-cluster-shrink-to-3").inputs.spec.template.spec.containers[0];
        }

        it("runs cluster-shrink.sh in a Job named after the member count", () => {
            expect(shrinkContainer().command).to.deep.equal(["/bin/sh", "/etc/database/cluster-shrink.sh"]);
        });

        it("gives the Job the new member list (the members to keep)", () => {
            expect(envOf(shrinkContainer()).MEMBERS).to.equal("rs-0.rs-headless:6379 rs-1.rs-headless:6379 rs-2.rs-headless:6379");
        });

        it("makes the members' StatefulSet wait for the Job (members leave before their pods go)", () => {
            expect(deps.get("rs")).to.deep.equal(["rs-cluster-shrink"]);
        });

        it("replaces the Job (delete first) when it changes, so each change of the members runs it", () => {
            expect(byName(res, T.job, "rs-cluster-shrink-to-3").name).to.equal("rs-cluster-shrink");
            expect(deleteFirst.get("rs-cluster-shrink")).to.equal(true);
        });

        it("drains removed masters with weight 0 and deletes removed nodes with del-node (CLUSTER FORGET everywhere)", () => {
            const script = configData(res)["cluster-shrink.sh"];
            expect(script).to.contain("redis-cli --cluster rebalance \"${entry}\" --cluster-weight ${weights}");
            expect(script).to.contain("weights=\"${weights} ${id}=0\"");
            expect(script).to.contain("redis-cli --cluster del-node \"${entry}\" \"${id}\"");
            expect(script).to.contain("cluster forget \"${id}\"");
        });

        it("lets the Job reach the members' client port and nothing else", () => {
            const np = byName(res, T.netpol, "rs-cluster-shrink").inputs.spec;
            expect(np.ingress).to.deep.equal([]);
            expect(np.egress).to.have.length(1);
            expect(np.egress[0].ports).to.deep.equal([{ port: 6379, protocol: "TCP" }]);
            expect(np.egress[0].to[0].podSelector.matchLabels["app.kubernetes.io/instance"]).to.equal("rs");
        });

        it("lets the Job's pods into the members on the client port", () => {
            const np = byName(res, T.netpol, "rs").inputs.spec;
            const fromJob = np.ingress.filter((r: any) => r.from[0].podSelector?.matchLabels["app.kubernetes.io/instance"] === "rs-cluster-shrink");
            expect(fromJob.map((r: any) => r.ports)).to.deep.equal([[{ port: 6379, protocol: "TCP" }]]);
        });

        it("has no shrink Job outside cluster mode", async () => {
            const other = await capture(() => new Database("rsent", args("redis", { replicas: 3, redis: { mode: "sentinel" } })));
            expect(ofType(other, T.job)).to.deep.equal([]);
        });
    });

    it("refuses a Redis Cluster layout with fewer than 3 masters", () => {
        expect(() => new Database("rc3", args("redis", { replicas: 4, redis: { mode: "cluster", clusterReplicas: 1 } })))
            .to.throw("Database(rc3).redis.clusterReplicas: 1 is not allowed with 4 replicas (2 masters); allowed: at most 0 (a cluster needs 3 masters)");
    });

    it("refuses sentinel mode without a quorum of 3", () => {
        expect(() => new Database("sent2", args("redis", { replicas: 2, redis: { mode: "sentinel" } })))
            .to.throw("Database(sent2).replicas: 2 is not allowed with redis mode sentinel; allowed: 3 to 10 (a sentinel quorum)");
    });

    it("serves SQLite over HTTP on the design's port 8080 with sqld, the database on the claim", async () => {
        const res = await capture(() => new Database("lite-http", args("sqlite", { sqlite: { filePath: "/data/orders.db" } })));
        const c = podSpec(ofType(res, T.deployment)[0]).containers[0];
        expect(c.command).to.deep.equal(["/bin/sqld"]);
        expect(c.args).to.deep.equal(["--http-listen-addr", "0.0.0.0:8080", "--db-path", "/data/orders.db"]);
        expect(c.readinessProbe.httpGet).to.deep.equal({ path: "/health", port: 8080 });
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
