import { expect } from "chai";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { loadPlatformConfig, parsePlatformConfig } from "../../config";
import { deepClone, platformConfig, stackConfig, stackSecrets } from "./helpers";

/** Parses the dev stack with one change applied; returns the error message, or "" when valid. */
function errorWith(change: (cfg: Record<string, any>) => void): string {
    const cfg = deepClone(stackConfig("dev"));
    change(cfg);
    try {
        parsePlatformConfig(cfg);
        return "";
    } catch (e) {
        return (e as Error).message;
    }
}

describe("stack config", () => {
    it("accepts the dev stack file", () => {
        const cfg = parsePlatformConfig(stackConfig("dev"));
        expect(cfg.environment).to.equal("dev");
        expect(cfg.protectData).to.equal(false);
        expect(cfg.databases.instances.map(i => i.spec.type)).to.deep.equal(["postgresql", "redis", "mysql", "mongodb", "elasticsearch", "sqlite"]);
        expect(cfg.databases.instances.every(i => (i.spec.replicas ?? 1) === 1)).to.equal(true);
        expect(cfg.databases.backups).to.equal(undefined);
        expect(cfg.databases.instances[0].spec.storage.storageClass).to.equal("standard");
    });

    it("makes ConfigMaps and Secrets mutable for every stack (Pulumi.yaml), so drift repair replaces no workload", () => {
        const project = yaml.load(fs.readFileSync(path.join(__dirname, "..", "..", "Pulumi.yaml"), "utf8")) as { config: Record<string, any> };
        expect(project.config["kubernetes:enableConfigMapMutable"]).to.deep.equal({ value: true });
        expect(project.config["kubernetes:enableSecretMutable"]).to.deep.equal({ value: true });
    });

    it("accepts the prod stack file with data protection on", () => {
        const cfg = platformConfig("prod");
        expect(cfg.environment).to.equal("prod");
        expect(cfg.protectData).to.equal(true);
        expect(cfg.restapi.spec.blueGreen?.enabled).to.equal(true);
        expect(cfg.databases.instances.map(i => [i.spec.type, i.spec.replicas ?? 1])).to.deep.equal([
            ["postgresql", 3], ["redis", 3], ["mysql", 3], ["mongodb", 3], ["elasticsearch", 3], ["sqlite", 1],
        ]);
        expect(cfg.databases.backups).to.deep.equal({ schedule: "0 2 * * *", retention: 14, storageSize: "50Gi" });
    });

    it("accepts the local stack file, pointed at the local cluster's broker", () => {
        const cfg = parsePlatformConfig(stackConfig("local"));
        expect(cfg.environment).to.equal("local");
        expect(cfg.outbox?.kafka?.connection?.bootstrapServers).to.deep.equal(["127.0.0.1:9092"]);
    });

    it("leaves data unprotected unless the stack says so (Pulumi.yaml's default)", () => {
        const raw = stackConfig("prod");
        delete raw.protectData;
        expect(parsePlatformConfig(raw, stackSecrets("prod")).protectData).to.equal(false);
    });

    it("rejects database replicas 0 naming the key and the range", () => {
        expect(errorWith(c => { c.databases.instances["orders-db"].replicas = 0; }))
            .to.equal("k8s-platform:databases.instances.orders-db.replicas: 0 is not allowed; allowed: an integer from 1 to 10");
    });

    it("rejects database replicas 11", () => {
        expect(errorWith(c => { c.databases.instances["orders-db"].replicas = 11; }))
            .to.contain("orders-db.replicas: 11 is not allowed; allowed: an integer from 1 to 10");
    });

    it("rejects an unknown database type listing the engines", () => {
        expect(errorWith(c => { c.databases.instances["orders-db"].type = "oracle"; }))
            .to.equal('k8s-platform:databases.instances.orders-db.type: "oracle" is not allowed; ' +
                "allowed: postgresql, mysql, mongodb, redis, elasticsearch, sqlite");
    });

    it("rejects a storage size that is not a quantity", () => {
        expect(errorWith(c => { c.databases.instances["orders-db"].storage.size = "ten gigs"; }))
            .to.equal('k8s-platform:databases.instances.orders-db.storage.size: "ten gigs" is not a storage quantity; allowed: e.g. 512Mi or 10Gi');
    });

    it("rejects HPA min above max", () => {
        expect(errorWith(c => { c.restapi.controller.autoScaling = { minReplicas: 5, maxReplicas: 3 }; }))
            .to.equal("k8s-platform:restapi.controller.autoScaling.minReplicas: 5 is above maxReplicas 3; allowed: minReplicas <= maxReplicas");
    });

    it("rejects two RestAPI parts on one port", () => {
        expect(errorWith(c => { c.restapi.view = { port: 8080 }; }))
            .to.equal('k8s-platform:restapi.port: port 8080 is used by both "model" and "view"; allowed: a distinct port per part');
    });

    it("rejects an unknown top-level key", () => {
        expect(errorWith(c => { c.replicaCount = 3; })).to.match(/^k8s-platform:replicaCount: unknown key; allowed keys: environment, /);
    });

    it("rejects an unknown environment", () => {
        expect(errorWith(c => { c.environment = "staging"; }))
            .to.equal('k8s-platform:environment: "staging" is not allowed; allowed: dev, prod, local');
    });

    it("rejects an image tagged latest", () => {
        expect(errorWith(c => { c.restapi.image = "ghcr.io/k8s-platform/restapi-mvcr:latest"; }))
            .to.contain('k8s-platform:restapi.image: "ghcr.io/k8s-platform/restapi-mvcr:latest" is not pinned');
    });

    it("rejects an unknown blue/green colour", () => {
        expect(errorWith(c => { c.restapi.blueGreen = { enabled: true, activeEnvironment: "red" }; }))
            .to.equal('k8s-platform:restapi.blueGreen.activeEnvironment: "red" is not allowed; allowed: blue, green');
    });

    it("rejects a ReadWriteOnce repository volume shared by several pods", () => {
        expect(errorWith(c => { c.restapi.repository.storage.accessMode = "ReadWriteOnce"; }))
            .to.contain("k8s-platform:restapi.repository.storage.accessMode: ReadWriteOnce cannot serve 2 repository pods");
    });

    it("rejects a quota that is not a quantity", () => {
        expect(errorWith(c => { c.quota.limitsMemory = "lots"; }))
            .to.equal('k8s-platform:quota.limitsMemory: "lots" is not a memory quantity; allowed: e.g. 512Mi or 10Gi');
    });

    it("rejects a limit below its request", () => {
        expect(errorWith(c => {
            c.databases.instances["orders-db"].resources = { requests: { cpu: "2", memory: "1Gi" }, limits: { cpu: "1", memory: "1Gi" } };
        })).to.equal("k8s-platform:databases.instances.orders-db.resources.limits.cpu: 1 is below the request 2; " +
            "allowed: a limit greater than or equal to the request");
    });

    it("rejects redis replicas in standalone mode", () => {
        expect(errorWith(c => { c.databases.instances["orders-cache"].replicas = 3; }))
            .to.contain("orders-cache.replicas: 3 is not allowed with redis mode standalone");
    });

    it("rejects settings of another engine", () => {
        expect(errorWith(c => { c.databases.instances["orders-db"].redis = { mode: "standalone" }; }))
            .to.equal('k8s-platform:databases.instances.orders-db.redis: settings for redis on a postgresql database; allowed: only the "postgresql" section');
    });

    it("refuses a Kafka SASL password in plain stack config, pointing at the secret key", () => {
        expect(errorWith(c => { c.outbox.kafka.connection = { sasl: { mechanism: "scram-sha512", username: "svc", password: "hunter2" } }; }))
            .to.equal("k8s-platform:outbox.kafka.connection.sasl.password: a password in plain stack config is not allowed; " +
                "allowed: `pulumi config set --secret k8s-platform:kafkaSaslPassword`");
    });

    it("takes the Kafka SASL password from the secret key only, keeping it secret", async () => {
        const before = pulumi.runtime.allConfig();
        try {
            const outbox = stackConfig("dev").outbox as Record<string, any>;
            outbox.kafka.connection = { sasl: { mechanism: "scram-sha512", username: "svc" } };
            pulumi.runtime.setAllConfig({
                "k8s-platform:outbox": JSON.stringify(outbox),
                "k8s-platform:kafkaSaslPassword": "s3cr3t",
            }, ["k8s-platform:kafkaSaslPassword"]);
            const password = loadPlatformConfig().outbox!.kafka.connection.sasl!.password as pulumi.Output<string>;
            expect(await pulumi.isSecret(password)).to.equal(true);
            expect(await new Promise(r => password.apply(r))).to.equal("s3cr3t");
        } finally {
            pulumi.runtime.setAllConfig(before);
        }
    });

    it("takes the receivers' endpoints from k8s-platform:alertingSecrets only, keeping them secret", async () => {
        const before = pulumi.runtime.allConfig();
        try {
            pulumi.runtime.setAllConfig({
                "k8s-platform:environment": "prod",
                "k8s-platform:alerting": JSON.stringify({ receivers: [{ name: "pager", type: "pagerduty" }], egressCidrs: ["203.0.113.0/24"] }),
                "k8s-platform:alertingSecrets": JSON.stringify({ pager: "routing-key-123" }),
            });
            const key = loadPlatformConfig().alertingSecrets.pager;
            expect(await pulumi.isSecret(key)).to.equal(true);
            expect(await new Promise(r => key.apply(r))).to.equal("routing-key-123");
        } finally {
            pulumi.runtime.setAllConfig(before);
        }
    });

    it("reads the values from the Pulumi runtime config", () => {
        const before = pulumi.runtime.allConfig();
        try {
            pulumi.runtime.setAllConfig({
                "k8s-platform:environment": "prod",
                "k8s-platform:databases": JSON.stringify({ instances: { cache: { type: "redis", storage: { size: "1Gi" } } } }),
                "k8s-platform:alerting": JSON.stringify({ receivers: [{ name: "pager", type: "pagerduty" }], egressCidrs: ["203.0.113.0/24"] }),
                "k8s-platform:alertingSecrets": JSON.stringify({ pager: "routing-key" }),
                "kubernetes:namespace": "ignored",
            });
            const cfg = loadPlatformConfig();
            expect(cfg.environment).to.equal("prod");
            expect(cfg.alerting.replicas).to.equal(3);
            expect(cfg.restapi.enabled).to.equal(false);
            expect(cfg.databases.instances[0].spec.type).to.equal("redis");
        } finally {
            pulumi.runtime.setAllConfig(before);
        }
    });
});
