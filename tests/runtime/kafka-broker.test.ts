/**
 * The KafkaCluster brokers' start script at runtime: the broker container of a one-broker KRaft
 * cluster (captured under the mocks) run as a local process, its script from its ConfigMap and its
 * environment as the pod has it, with the apache/kafka image's entrypoint played by Kafka's own
 * kafka.docker.KafkaDockerWrapper (tests/runtime/fixtures/kafka-image-run.sh) on the Apache Kafka
 * jars of scripts/kafka-broker.sh. The script sets node.id and the process roles and listeners; the
 * wrapper formats storage with the pod's CLUSTER_ID; the broker then serves on 127.0.0.1:29092
 * (controller 29093).
 *
 * What differs from the pod: the client and controller ports (29092/29093, so a local broker on
 * 9092 does not collide), the in-cluster DNS name in the voters and advertised listener
 * (127.0.0.1), the heap (-Xmx512m instead of half the 2Gi limit) and the jars' version (3.9.1,
 * scripts/kafka-broker.sh; the outbox stacks run apache/kafka 3.9.0 and 4.0.0 images).
 */
import { expect } from "chai";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { KafkaCluster, BROKER_ENTRYPOINTS } from "../../components/messaging/kafka";
import { byName, capture, podSpec, T } from "../unit/helpers";
import { RecordedResource } from "../unit/mocks";
import { configMapsOf, materialize, Proc, start, stopAll, tempDir, waitForPort } from "./harness";

const ROOT = path.join(__dirname, "..", "..");
const USER = os.userInfo().username;
const PORT = 29092;
const CONTROLLER_PORT = 29093;
const NS = "rt";
const HOST = `rtk-0.rtk-headless.${NS}.svc.cluster.local`;

describe("runtime: Kafka broker start script (KafkaCluster, KRaft)", function () {
    this.timeout(240000);
    let root = "";
    let libs = "";
    let res: RecordedResource[];
    let podEnv: Record<string, string>;
    let broker: Proc;
    const dataDir = () => path.join(root, "data");

    /** A Kafka tool on the jars, as the test's user; stdout. */
    const tool = (main: string, ...args: string[]): string => execFileSync("java", [
        "-Xmx256m", `-Dlog4j.configuration=file:${path.join(root, "image", "defaults", "tools-log4j.properties")}`,
        "-cp", `${libs}/*`, main, ...args,
    ], { encoding: "utf8", timeout: 120000 });

    before(async () => {
        libs = execFileSync(path.join(ROOT, "scripts", "kafka-broker.sh"), ["libs"], { encoding: "utf8" }).trim();
        const java = spawnSync("java", ["-version"], { encoding: "utf8" }).stderr.split("\n")[0];
        console.log(`      Apache Kafka jars: ${fs.readdirSync(libs).filter(f => /^kafka_2\.13-.*\.jar$/.test(f)).join(", ")}; ${java}`);
        root = tempDir(USER, "rt-kafka");
        res = await capture(() => new KafkaCluster("rtk", {
            namespace: NS, mode: "kraft", brokers: 1, brokerStorage: "1Gi", version: "3.9.0",
            defaultReplicationFactor: 1, minInsyncReplicas: 1, clients: [], partOf: "outbox",
        }));
        podEnv = Object.fromEntries(podSpec(byName(res, T.statefulSet, "rtk")).containers[0].env
            .filter((e: { value?: string }) => e.value !== undefined).map((e: { name: string; value: string }) => [e.name, e.value]));
        // The image's directories: its defaults (log4j for the broker and the tools; the broker's
        // properties come from the env), what an operator mounts (nothing), the rendered config.
        const image = path.join(root, "image");
        for (const d of ["defaults", "mounted", "config", "logs"]) {
            fs.mkdirSync(path.join(image, d), { recursive: true });
        }
        const log4j = "log4j.rootLogger=INFO, stdout\nlog4j.appender.stdout=org.apache.log4j.ConsoleAppender\n"
            + "log4j.appender.stdout.layout=org.apache.log4j.PatternLayout\nlog4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n\n";
        fs.writeFileSync(path.join(image, "defaults", "log4j.properties"), log4j);
        fs.writeFileSync(path.join(image, "defaults", "tools-log4j.properties"), log4j.replace("INFO", "WARN"));
        fs.writeFileSync(path.join(image, "defaults", "server.properties"), "# the pod's KAFKA_* variables are the broker's settings\n");
        fs.mkdirSync(dataDir());
    });
    after(async () => {
        await stopAll();
        if (root) {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });

    it("formats the claim's log dir with the pod's cluster id and starts a KRaft broker that serves", async () => {
        const spec = podSpec(byName(res, T.statefulSet, "rtk"));
        const c = materialize(spec, "kafka", {
            secrets: {}, podName: "rtk-0", configMaps: configMapsOf(res), dir: root, user: USER,
            paths: { "/var/lib/kafka/data": dataDir(), "/opt/kafka/logs": path.join(root, "image", "logs") },
            envOverride: {
                BROKER_CLIENT_PORT: String(PORT),
                BROKER_CONTROLLER_PORT: String(CONTROLLER_PORT),
                KAFKA_CONTROLLER_QUORUM_VOTERS: podEnv.KAFKA_CONTROLLER_QUORUM_VOTERS.replace(`${HOST}:9093`, `127.0.0.1:${CONTROLLER_PORT}`),
                KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${PORT}`,
                KAFKA_HEAP_OPTS: "-Xms512m -Xmx512m",
                KAFKA_LIBS: libs,
                KAFKA_IMAGE_DIR: path.join(root, "image"),
            },
        });
        // The pod's command: sh, the script from the ConfigMap, the image's entrypoint.
        expect(c.command).to.equal("/bin/sh");
        expect(fs.readFileSync(c.args[0], "utf8")).to.equal(fs.readFileSync(path.join(ROOT, "components", "messaging", "scripts", "broker-start.sh"), "utf8"));
        expect(c.args.slice(1)).to.deep.equal([BROKER_ENTRYPOINTS.kraft]);
        expect(podEnv.KAFKA_CONTROLLER_QUORUM_VOTERS).to.equal(`0@${HOST}:9093`);
        expect(c.env.KAFKA_LOG_DIRS).to.equal(path.join(dataDir(), "logs"));

        broker = start(USER, { ...c, args: [c.args[0], path.join(ROOT, "tests", "runtime", "fixtures", "kafka-image-run.sh")] }, root);
        await waitForPort(PORT, 180000, broker);
        await waitForPort(CONTROLLER_PORT, 10000, broker);
        expect(broker.output()).to.contain("broker-start: rtk-0: kraft broker 0 (broker,controller)");

        // Storage was formatted for this node and this cluster (the pod's CLUSTER_ID).
        const meta = fs.readFileSync(path.join(dataDir(), "logs", "meta.properties"), "utf8");
        expect(meta).to.match(/^node\.id=0$/m);
        expect(meta).to.match(new RegExp(`^cluster\\.id=${podEnv.CLUSTER_ID}$`, "m"));
        // The broker's settings are the pod's: what the script set and what the env carries.
        const props = fs.readFileSync(path.join(root, "image", "config", "server.properties"), "utf8");
        expect(props).to.match(/^process\.roles=broker,controller$/m);
        expect(props).to.match(new RegExp(`^listeners=PLAINTEXT://:${PORT},CONTROLLER://:${CONTROLLER_PORT}$`, "m"));
        expect(props).to.match(/^auto\.create\.topics\.enable=false$/m);
        expect(props).not.to.match(/^broker\./m);

        // It serves: a topic is created and listed, and the quorum has this node as its leader.
        tool("org.apache.kafka.tools.TopicCommand", "--bootstrap-server", `127.0.0.1:${PORT}`, "--create", "--topic", "rt-events", "--partitions", "1", "--replication-factor", "1");
        expect(tool("org.apache.kafka.tools.TopicCommand", "--bootstrap-server", `127.0.0.1:${PORT}`, "--list").split("\n")).to.include("rt-events");
        expect(tool("org.apache.kafka.tools.MetadataQuorumCommand", "--bootstrap-server", `127.0.0.1:${PORT}`, "describe", "--status")).to.match(/LeaderId:\s+0/);
    });
});
