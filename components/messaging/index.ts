/** Messaging (greenfield-cluster.md, outbox-events.md): a Kafka cluster and its topics. */
export * from "./spec";
export * from "./kafka";
export * from "./topics";
