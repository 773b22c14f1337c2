import { expect } from "chai";
import { pendingImports } from "../../scripts/lib/pending-imports";

const PARENT = "urn:pulumi:local::k8s-platform::platform:systems:OutboxEvents$platform:messaging:KafkaTopics::outbox-topics";
const PROVIDER = "urn:pulumi:local::k8s-platform::platform:systems:OutboxEvents$platform:messaging:KafkaTopics$pulumi:providers:kafka::outbox-topics-provider";
const TOPIC_URN = "urn:pulumi:local::k8s-platform::platform:systems:OutboxEvents$platform:messaging:KafkaTopics$kafka:index/topic:Topic::outbox-topics-task.completed";
const topicCreate = {
    type: "creating",
    resource: {
        urn: TOPIC_URN, type: "kafka:index/topic:Topic", parent: PARENT,
        provider: `${PROVIDER}::6f1c2b9e-1d1a-4a55-9d1e-0c2f3a4b5c6d`, inputs: { name: "task.completed" },
    },
};
const secretCreate = {
    type: "creating",
    resource: {
        urn: "urn:pulumi:local::k8s-platform::platform:observability:Alertmanager$kubernetes:core/v1:Secret::alerting-alertmanager-config",
        type: "kubernetes:core/v1:Secret",
        inputs: { metadata: { name: "alerting-alertmanager-config-7d248699", namespace: "alerting", annotations: { "pulumi.com/autonamed": "true" } } },
    },
};
const serviceCreate = { type: "creating", resource: { urn: "urn:pulumi:local::k8s-platform::kubernetes:core/v1:Service::orders-db", type: "kubernetes:core/v1:Service", inputs: { metadata: { name: "orders-db", namespace: "databases" } } } };

describe("scripts/lib/pending-imports (what `recover` imports after an interrupted up)", () => {
    it("imports a pending Kafka topic create by the topic's name, under its logical name", () => {
        const [file] = pendingImports({ pending_operations: [topicCreate] });
        expect(file.resources).to.deep.equal([{ type: "kafka:index/topic:Topic", name: "outbox-topics-task.completed", id: "task.completed", parent: "parent", provider: "provider" }]);
    });

    it("names the parent by URN and the provider by the URN of its reference (without the ID)", () => {
        expect(pendingImports({ pending_operations: [topicCreate] })[0].nameTable).to.deep.equal({ parent: PARENT, provider: PROVIDER });
    });

    it("writes one import file per topic, so a topic the broker never got fails alone", () => {
        const other = { ...topicCreate, resource: { ...topicCreate.resource, urn: TOPIC_URN.replace("task.completed", "task.process"), inputs: { name: "task.process" } } };
        expect(pendingImports({ pending_operations: [topicCreate, other] }).map(f => f.resources.map(r => r.id))).to.deep.equal([["task.completed"], ["task.process"]]);
    });

    it("leaves pending creates of fixed-name Kubernetes objects to be cleared (server-side apply adopts them)", () => {
        expect(pendingImports({ pending_operations: [serviceCreate] })).to.deep.equal([]);
    });

    it("imports a pending create of an object the provider named, as namespace/name (the next up would pick another name)", () => {
        const [file] = pendingImports({ pending_operations: [secretCreate] });
        expect(file.resources).to.deep.equal([{ type: "kubernetes:core/v1:Secret", name: "alerting-alertmanager-config", id: "alerting/alerting-alertmanager-config-7d248699" }]);
    });

    it("imports an auto-named cluster-scoped object by its name alone", () => {
        const clusterScoped = { type: "creating", resource: { ...secretCreate.resource, type: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", inputs: { metadata: { name: "reader-1a2b3c4d", annotations: { "pulumi.com/autonamed": "true" } } } } };
        expect(pendingImports({ pending_operations: [clusterScoped] })[0].resources[0].id).to.equal("reader-1a2b3c4d");
    });

    it("imports only creates: a pending update or delete of a topic is already in state", () => {
        expect(pendingImports({ pending_operations: [{ ...topicCreate, type: "updating" }, { ...topicCreate, type: "deleting" }] })).to.deep.equal([]);
    });

    it("has nothing to import without pending operations", () => {
        expect(pendingImports({})).to.deep.equal([]);
    });

    it("refuses an auto-named pending create without a name rather than importing a wrong ID", () => {
        const nameless = { ...secretCreate, resource: { ...secretCreate.resource, inputs: { metadata: { annotations: { "pulumi.com/autonamed": "true" } } } } };
        expect(() => pendingImports({ pending_operations: [nameless] })).to.throw(/alerting-alertmanager-config is auto-named but has no name/);
    });

    it("refuses a pending topic create without a name rather than importing a wrong ID", () => {
        const nameless = { ...topicCreate, resource: { ...topicCreate.resource, inputs: {} } };
        expect(() => pendingImports({ pending_operations: [nameless] })).to.throw(/outbox-topics-task\.completed has no topic name/);
    });
});
