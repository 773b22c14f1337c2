/**
 * Replication mechanisms of the engines whose servers cannot run here (MongoDB, MySQL): the
 * generated containers and env, and the scripts' logic executed in Node or sh with the env the
 * StatefulSet gives them. PostgreSQL and Redis run for real in tests/runtime/.
 */
import { expect } from "chai";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Database, DatabaseArgs } from "../../components/database/database";
import { DatabaseType, MONGO_MEMBER_READY } from "../../components/database/engines";
import { byName, capture, ofType, podSpec, T, valueOf } from "./helpers";
import { mockPassword, RecordedResource } from "./mocks";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const replset = require(path.join(__dirname, "..", "..", "components", "database", "scripts", "mongodb", "replset.js")) as {
    plan(status: { initiated: boolean; primary?: boolean; members?: { _id: number; host: string; priority: number }[] }, ordinal: number, wanted: string[]):
        { action: string; members?: { _id: number; host: string; priority: number }[] };
};

function args(type: DatabaseType, over: Partial<DatabaseArgs> = {}): DatabaseArgs {
    return { namespace: "data", type, storage: { size: "2Gi" }, ...over };
}

function container(res: RecordedResource[], name: string): any {
    const spec = podSpec(ofType(res, T.statefulSet)[0]);
    return [...(spec.initContainers ?? []), ...spec.containers].find((c: { name: string }) => c.name === name);
}

function envOf(c: { env: { name: string; value?: string; valueFrom?: unknown }[] }): Record<string, any> {
    return Object.fromEntries(c.env.map(e => [e.name, e.value ?? e.valueFrom]));
}

const hosts = ["m-0.h:27017", "m-1.h:27017", "m-2.h:27017"];

/** Temp dirs the script tests create, removed after this file. */
const tempDirs: string[] = [];
function tempDir(prefix: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    tempDirs.push(dir);
    return dir;
}
after(() => tempDirs.forEach(d => fs.rmSync(d, { recursive: true, force: true })));

describe("Database replication: MongoDB replica set", () => {
    it("runs the replset step beside every member of a replica set", async () => {
        const res = await capture(() => new Database("mrs", args("mongodb", { replicas: 3 })));
        const c = container(res, "replset");
        expect(c.command).to.deep.equal(["/bin/sh", "/etc/database/replset.sh"]);
        const env = envOf(c);
        expect(env.REPLICA_SET).to.equal("rs0");
        expect(env.MEMBERS.split(",")).to.deep.equal([0, 1, 2].map(i => `mrs-${i}.mrs-headless.$(POD_NAMESPACE).svc.cluster.local:27017`));
    });

    it("has no replset step on a single member", async () => {
        const res = await capture(() => new Database("mone", args("mongodb")));
        expect(container(res, "replset")).to.equal(undefined);
    });

    it("is ready only as PRIMARY or SECONDARY", async () => {
        const res = await capture(() => new Database("mrdy", args("mongodb", { replicas: 3 })));
        expect(container(res, "mongodb").readinessProbe.exec.command).to.deep.equal(["mongosh", "--quiet", "--eval", MONGO_MEMBER_READY]);
        expect(MONGO_MEMBER_READY).to.contain("h.isWritablePrimary || h.secondary");
    });

    it("lists every member and the replica set in the connection URL", async () => {
        const db = new Database("murl", args("mongodb", { replicas: 3, mongodb: { replicaSetName: "rs-a" } }));
        const members = [0, 1, 2].map(i => `murl-${i}.murl-headless.data.svc.cluster.local:27017`).join(",");
        expect(await valueOf(db.connectionUrl)).to.equal(`mongodb://admin:${mockPassword("murl-password")}@${members}/app?authSource=admin&replicaSet=rs-a`);
    });

    it("initiates once, on ordinal 0, with every member (ordinal 0 preferred as primary)", () => {
        expect(replset.plan({ initiated: false }, 0, hosts)).to.deep.equal({
            action: "initiate",
            members: [{ _id: 0, host: hosts[0], priority: 2 }, { _id: 1, host: hosts[1], priority: 1 }, { _id: 2, host: hosts[2], priority: 1 }],
        });
    });

    it("does not initiate from another ordinal", () => {
        expect(replset.plan({ initiated: false }, 1, hosts)).to.deep.equal({ action: "none" });
    });

    it("does nothing on a restart or re-run when the members match (idempotent)", () => {
        const members = hosts.map((host, i) => ({ _id: i, host, priority: i === 0 ? 2 : 1 }));
        expect(replset.plan({ initiated: true, primary: true, members: [...members].reverse() }, 0, hosts)).to.deep.equal({ action: "none" });
    });

    it("reconfigures from the primary when replicas grow, keeping the existing _ids", () => {
        const members = hosts.slice(0, 2).map((host, i) => ({ _id: i, host, priority: i === 0 ? 2 : 1 }));
        expect(replset.plan({ initiated: true, primary: true, members }, 1, hosts)).to.deep.equal({
            action: "reconfig",
            members: [{ _id: 0, host: hosts[0], priority: 2 }, { _id: 1, host: hosts[1], priority: 1 }, { _id: 2, host: hosts[2], priority: 1 }],
        });
    });

    it("reconfigures from the primary when replicas shrink", () => {
        const members = hosts.map((host, i) => ({ _id: i, host, priority: i === 0 ? 2 : 1 }));
        expect(replset.plan({ initiated: true, primary: true, members }, 0, hosts.slice(0, 2)).members!.map(m => m.host)).to.deep.equal(hosts.slice(0, 2));
    });

    it("leaves reconfiguration to the primary (a secondary does nothing)", () => {
        const members = hosts.slice(0, 2).map((host, i) => ({ _id: i, host, priority: 1 }));
        expect(replset.plan({ initiated: true, primary: false, members }, 2, hosts)).to.deep.equal({ action: "none" });
    });
});

/** Runs a script of the `<name>-config` ConfigMap with sh, with the env given and a PATH dir first. */
function runScript(res: RecordedResource[], file: string, env: Record<string, string>, binDir?: string): { out: string; dir: string } {
    const cm = ofType(res, T.configMap).find(c => /-config-[0-9a-f]{10}$/.test(c.inputs.metadata.name))!;
    const dir = tempDir("db-script-");
    fs.writeFileSync(path.join(dir, file), cm.inputs.data[file]);
    const out = execFileSync("sh", [path.join(dir, file)], {
        encoding: "utf8",
        env: { PATH: `${binDir ? `${binDir}:` : ""}${process.env.PATH}`, ...env },
    });
    return { out, dir };
}

/** A file holding `password`, as the credentials Secret's volume does. */
function passwordFile(password: string): string {
    const file = path.join(tempDir("db-secret-"), "password");
    fs.writeFileSync(file, password, { mode: 0o440 });
    return file;
}

/** A stand-in `mysql`/`mysqladmin` on PATH: records every statement, answers the status queries from files. */
function fakeMysql(state: { configured: string; clone: string }): string {
    const bin = tempDir("fake-mysql-");
    fs.writeFileSync(path.join(bin, "mysqladmin"), "#!/bin/sh\necho 'mysqld is alive'\n", { mode: 0o755 });
    fs.writeFileSync(path.join(bin, "mysql"), [
        "#!/bin/sh",
        `log="${bin}/statements.log"`,
        'case "$*" in',
        `  *replication_connection_configuration*) echo "${state.configured}"; exit 0 ;;`,
        `  *clone_status*) echo "${state.clone}"; exit 0 ;;`,
        "esac",
        'cat >> "$log"',
        "",
    ].join("\n"), { mode: 0o755 });
    return bin;
}

describe("Database replication: MySQL (GTID)", () => {
    let res: RecordedResource[];
    before(async () => {
        res = await capture(() => new Database("my", args("mysql", { replicas: 3 })));
    });

    it("gives every member a unique server-id, GTIDs, the binary log and the clone plugin", () => {
        const ids = [0, 1, 2].map(i => {
            const conf = tempDir("my-conf-");
            runScript(res, "configure.sh", { POD_NAME: `my-${i}`, HEADLESS: "my-headless", MYSQL_CONF_DIR: conf });
            const cnf = fs.readFileSync(path.join(conf, "replication.cnf"), "utf8");
            expect(cnf).to.match(/^gtid_mode = ON$/m);
            expect(cnf).to.match(/^enforce_gtid_consistency = ON$/m);
            expect(cnf).to.match(/^log_bin = binlog$/m);
            expect(cnf).to.match(/^plugin-load-add = mysql_clone\.so$/m);
            expect(cnf).to.contain(`report_host = my-${i}.my-headless`);
            return /^server-id = (\d+)$/m.exec(cnf)![1];
        });
        expect(ids).to.deep.equal(["100", "101", "102"]);
    });

    it("mounts the written settings where the image's my.cnf includes them", () => {
        const spec = podSpec(ofType(res, T.statefulSet)[0]);
        expect(spec.initContainers.map((c: { name: string }) => c.name)).to.include("configure");
        expect(container(res, "mysql").volumeMounts).to.deep.include({ name: "mysql-conf", mountPath: "/etc/mysql/conf.d", readOnly: true });
        expect(spec.volumes.find((v: { name: string }) => v.name === "mysql-conf").emptyDir).to.deep.equal({ sizeLimit: "1Mi" });
    });

    it("seeds a new replica by cloning the primary", () => {
        const bin = fakeMysql({ configured: "0", clone: "" });
        runScript(res, "replica.sh", { POD_NAME: "my-2", PRIMARY_HOST: "my-0.my-headless", MYSQL_ROOT_PASSWORD_FILE: passwordFile("pw"), ONCE: "1" }, bin);
        const log = fs.readFileSync(path.join(bin, "statements.log"), "utf8");
        expect(log).to.contain("SET GLOBAL clone_valid_donor_list = 'my-0.my-headless:3306';");
        expect(log).to.contain("CLONE INSTANCE FROM 'root'@'my-0.my-headless':3306 IDENTIFIED BY 'pw';");
        expect(log).not.to.contain("CHANGE REPLICATION SOURCE");
    });

    it("starts GTID replication from the primary on a cloned replica and makes it read-only", () => {
        const bin = fakeMysql({ configured: "0", clone: "Completed" });
        runScript(res, "replica.sh", { POD_NAME: "my-1", PRIMARY_HOST: "my-0.my-headless", MYSQL_ROOT_PASSWORD_FILE: passwordFile("pw"), ONCE: "1" }, bin);
        const log = fs.readFileSync(path.join(bin, "statements.log"), "utf8");
        expect(log).to.contain("CHANGE REPLICATION SOURCE TO SOURCE_HOST = 'my-0.my-headless'");
        expect(log).to.contain("SOURCE_AUTO_POSITION = 1");
        expect(log).to.contain("START REPLICA;");
        expect(log).to.contain("SET PERSIST super_read_only = ON;");
    });

    it("changes nothing on a replica that already replicates (idempotent)", () => {
        const bin = fakeMysql({ configured: "1", clone: "Completed" });
        runScript(res, "replica.sh", { POD_NAME: "my-1", PRIMARY_HOST: "my-0.my-headless", MYSQL_ROOT_PASSWORD_FILE: passwordFile("pw"), ONCE: "1" }, bin);
        expect(fs.existsSync(path.join(bin, "statements.log"))).to.equal(false);
    });

    it("leaves the primary (ordinal 0) alone", () => {
        const bin = fakeMysql({ configured: "0", clone: "" });
        runScript(res, "replica.sh", { POD_NAME: "my-0", PRIMARY_HOST: "my-0.my-headless", MYSQL_ROOT_PASSWORD_FILE: passwordFile("pw"), ONCE: "1" }, bin);
        expect(fs.existsSync(path.join(bin, "statements.log"))).to.equal(false);
    });

    it("has a write Service on ordinal 0 and a read Service over every member", () => {
        expect(byName(res, T.service, "my").inputs.spec.selector["statefulset.kubernetes.io/pod-name"]).to.equal("my-0");
        expect(byName(res, T.service, "my-read").inputs.spec.selector).to.deep.equal({ "app.kubernetes.io/instance": "my", "app.kubernetes.io/part-of": "database-service" });
    });

    it("adds semi-synchronous replication when asked (greenfield: 'Synchronous replication')", async () => {
        const semi = await capture(() => new Database("mys", args("mysql", { replicas: 3, mysql: { semiSync: true } })));
        const conf = tempDir("my-conf-");
        runScript(semi, "configure.sh", { POD_NAME: "mys-0", HEADLESS: "mys-headless", MYSQL_CONF_DIR: conf, SEMI_SYNC: envOf(container(semi, "configure")).SEMI_SYNC });
        const cnf = fs.readFileSync(path.join(conf, "replication.cnf"), "utf8");
        expect(cnf).to.match(/^rpl_semi_sync_source_enabled = ON$/m);
        expect(cnf).to.match(/^rpl_semi_sync_replica_enabled = ON$/m);
        expect(cnf).to.match(/^plugin-load-add = semisync_source\.so$/m);
    });

    it("replicates asynchronously by default", () => {
        const conf = tempDir("my-conf-");
        runScript(res, "configure.sh", { POD_NAME: "my-1", HEADLESS: "my-headless", MYSQL_CONF_DIR: conf, SEMI_SYNC: envOf(container(res, "configure")).SEMI_SYNC });
        expect(fs.readFileSync(path.join(conf, "replication.cnf"), "utf8")).not.to.contain("semi_sync");
    });

    it("refuses semi-synchronous replication without a replica", () => {
        expect(() => new Database("mys1", args("mysql", { mysql: { semiSync: true } })))
            .to.throw("Database(mys1).mysql.semiSync: true is not allowed with 1 replica; allowed: false, or replicas >= 2 (a commit waits for a replica)");
    });

    it("runs a single MySQL without replication steps", async () => {
        const one = await capture(() => new Database("my1", args("mysql")));
        expect(podSpec(ofType(one, T.statefulSet)[0]).initContainers ?? []).to.deep.equal([]);
        expect(ofType(one, T.configMap)).to.have.length(0);
    });
});

describe("Database: Elasticsearch under the secure defaults", () => {
    let res: RecordedResource[];
    before(async () => {
        res = await capture(() => new Database("es", args("elasticsearch", { replicas: 3 })));
    });

    it("mounts an emptyDir over the config dir, seeded from the image by an init step", () => {
        const spec = podSpec(ofType(res, T.statefulSet)[0]);
        const seed = container(res, "seed-config");
        expect(seed.command).to.deep.equal(["/bin/sh", "/etc/database/seed-config.sh"]);
        expect(seed.volumeMounts).to.deep.include({ name: "es-config", mountPath: "/config-seed" });
        expect(container(res, "elasticsearch").volumeMounts).to.deep.include({ name: "es-config", mountPath: "/usr/share/elasticsearch/config" });
        expect(spec.volumes.find((v: { name: string }) => v.name === "es-config").emptyDir).to.deep.equal({ sizeLimit: "64Mi" });
    });

    it("keeps the root filesystem read-only, with only the config dir, logs and /tmp writable", () => {
        const c = container(res, "elasticsearch");
        expect(c.securityContext.readOnlyRootFilesystem).to.equal(true);
        expect(c.volumeMounts.map((m: { mountPath: string }) => m.mountPath).sort()).to.deep.equal([
            "/etc/database", "/tmp", "/usr/share/elasticsearch/config", "/usr/share/elasticsearch/data", "/usr/share/elasticsearch/logs",
            "/var/run/secrets/platform/db-credentials",
        ]);
    });

    it("has no cluster.initial_master_nodes in the pod spec (the start script decides)", () => {
        const env = envOf(container(res, "elasticsearch"));
        expect(env["cluster.initial_master_nodes"]).to.equal(undefined);
        expect(env.INITIAL_MASTER_NODES).to.equal("es-0,es-1,es-2");
    });

    /** Runs start.sh with a stand-in entrypoint that prints the bootstrap setting it received. */
    function startWith(dataHasState: boolean): string {
        const dir = tempDir("es-start-");
        if (dataHasState) {
            fs.mkdirSync(path.join(dir, "_state"));
        }
        const entry = path.join(dir, "entrypoint.sh");
        fs.writeFileSync(entry, "#!/bin/sh\nprintenv cluster.initial_master_nodes || echo none\n", { mode: 0o755 });
        // Nothing answers on 127.0.0.1:9200 here: no running member.
        return runScript(res, "start.sh", { ES_DATA_DIR: dir, INITIAL_MASTER_NODES: "es-0,es-1,es-2", SEED_HOSTS: "127.0.0.1", ES_ENTRYPOINT: entry }).out;
    }

    it("bootstraps with cluster.initial_master_nodes on first formation", () => {
        expect(startWith(false)).to.contain("es-0,es-1,es-2\n");
    });

    it("starts without bootstrap settings once the node has cluster state", () => {
        expect(startWith(true).trim().split("\n").pop()).to.equal("none");
    });
});

describe("Database: Elasticsearch transport TLS (cert-manager)", () => {
    let res: RecordedResource[];
    before(async () => {
        res = await capture(() => new Database("est", args("elasticsearch", { replicas: 3, elasticsearch: { transportTls: true } })));
    });

    function settings(r: RecordedResource[]): Record<string, any> {
        return envOf(container(r, "elasticsearch"));
    }

    it("enables transport TLS with certificate verification", () => {
        const env = settings(res);
        expect(env["xpack.security.transport.ssl.enabled"]).to.equal("true");
        expect(env["xpack.security.transport.ssl.verification_mode"]).to.equal("certificate");
        expect(env["xpack.security.transport.ssl.client_authentication"]).to.equal("required");
    });

    it("points the transport key, certificate and CA at the files of the mounted Secret", () => {
        const env = settings(res);
        expect(env["xpack.security.transport.ssl.key"]).to.equal("/usr/share/elasticsearch/config/certs/transport/tls.key");
        expect(env["xpack.security.transport.ssl.certificate"]).to.equal("/usr/share/elasticsearch/config/certs/transport/tls.crt");
        expect(env["xpack.security.transport.ssl.certificate_authorities"]).to.equal("/usr/share/elasticsearch/config/certs/transport/ca.crt");
    });

    it("keeps HTTPS with the same certificate (explicit TLS settings turn the auto-configuration off)", () => {
        const env = settings(res);
        expect(env["xpack.security.enabled"]).to.equal("true");
        expect(env["xpack.security.http.ssl.enabled"]).to.equal("true");
        expect(env["xpack.security.http.ssl.certificate"]).to.equal("/usr/share/elasticsearch/config/certs/transport/tls.crt");
    });

    it("mounts the nodes' certificate Secret read-only at the directory the settings name", () => {
        const spec = podSpec(ofType(res, T.statefulSet)[0]);
        const volume = spec.volumes.find((v: { name: string }) => v.name === "es-transport-tls");
        expect(volume.secret).to.deep.equal({ secretName: "est-transport-tls", defaultMode: 0o440 });
        expect(container(res, "elasticsearch").volumeMounts).to.deep.include(
            { name: "es-transport-tls", mountPath: "/usr/share/elasticsearch/config/certs/transport", readOnly: true });
    });

    it("issues the nodes' certificate into that Secret from the database's own CA", () => {
        const cert = byName(res, T.certificate, "est-transport");
        expect(cert.inputs.spec.secretName).to.equal("est-transport-tls");
        expect(cert.inputs.spec.issuerRef).to.deep.equal({ name: "est-ca", kind: "Issuer", group: "cert-manager.io" });
        expect(cert.inputs.spec.usages).to.include.members(["server auth", "client auth"]);
    });

    it("chains a selfSigned Issuer, a CA Certificate and a CA Issuer", () => {
        expect(byName(res, T.issuer, "est-selfsigned").inputs.spec).to.deep.equal({ selfSigned: {} });
        const ca = byName(res, T.certificate, "est-ca").inputs.spec;
        expect(ca.isCA).to.equal(true);
        expect(ca.secretName).to.equal("est-ca");
        expect(ca.issuerRef.name).to.equal("est-selfsigned");
        expect(byName(res, T.issuer, "est-ca").inputs.spec).to.deep.equal({ ca: { secretName: "est-ca" } });
    });

    for (const replicas of [1, 2, 3, 5, 10]) {
        it(`covers every member's headless name with ${replicas} replica(s)`, async () => {
            const r = await capture(() => new Database(`esn${replicas}`, args("elasticsearch", { replicas, elasticsearch: { transportTls: true } })));
            const dnsNames: string[] = byName(r, T.certificate, `esn${replicas}-transport`).inputs.spec.dnsNames;
            const members = Array.from({ length: replicas }, (_, i) => `esn${replicas}-${i}.esn${replicas}-headless`);
            expect(dnsNames).to.include.members(members);
            expect(dnsNames).to.include.members(members.map(m => `${m}.data.svc.cluster.local`));
            expect(dnsNames).to.include(`*.esn${replicas}-headless.data.svc.cluster.local`);
            expect(dnsNames).to.not.include(`esn${replicas}-${replicas}.esn${replicas}-headless`);
        });
    }

    it("has no TLS settings, Secret volume or cert-manager objects when off", async () => {
        const off = await capture(() => new Database("esoff", args("elasticsearch", { replicas: 3 })));
        expect(Object.keys(settings(off)).filter(k => k.startsWith("xpack."))).to.deep.equal([]);
        expect(podSpec(ofType(off, T.statefulSet)[0]).volumes.map((v: { name: string }) => v.name)).to.not.include("es-transport-tls");
        expect([...ofType(off, T.certificate), ...ofType(off, T.issuer)]).to.deep.equal([]);
    });

    it("rejects a transportTls that is not a boolean", () => {
        expect(() => new Database("esbad", args("elasticsearch", { elasticsearch: { transportTls: "yes" as unknown as boolean } })))
            .to.throw(/elasticsearch\.transportTls/);
    });
});
