/**
 * KafkaTopics: topics as real Kafka resources (@pulumi/kafka), created through an explicit kafka
 * Provider whose connection (bootstrap servers, TLS, SASL) comes from the args, never from ambient
 * `kafka:*` config. Partitions, replication factor and per-topic config are validated against the
 * cluster before anything is registered.
 */
import * as kafka from "@pulumi/kafka";
import * as pulumi from "@pulumi/pulumi";
import { Checked, isChecked, requireIntInRange } from "../k8s/validation";
import { MAX_BROKERS, MIN_BROKERS, SaslMechanism, TopicSpec, topicConfig, validateKafkaConnection, validateTopicSpecs } from "./spec";

export interface KafkaTlsArgs {
    /** The kafka provider defaults TLS to on; here it is always set explicitly. */
    enabled: boolean;
    /** Only for insecure development brokers. */
    skipVerify?: boolean;
    caCert?: pulumi.Input<string>;
    clientCert?: pulumi.Input<string>;
    /** Kept secret in state. */
    clientKey?: pulumi.Input<string>;
}

export interface KafkaSaslArgs {
    mechanism: SaslMechanism;
    username: pulumi.Input<string>;
    /** Kept secret in state, whether or not it arrives as a secret. */
    password: pulumi.Input<string>;
}

export interface KafkaTopicsArgs {
    /** false: validate only, register no provider and no topic (render mode: no broker answers). Default true. */
    enabled?: boolean;
    bootstrapServers: pulumi.Input<string[]>;
    /** Default: TLS off (in-cluster PLAINTEXT listener). */
    tls?: KafkaTlsArgs;
    sasl?: KafkaSaslArgs;
    /** Brokers in the cluster: the upper bound of every replication factor. */
    brokers: number;
    /** The cluster's min.insync.replicas: topics without their own must be replicated at least this often. */
    clusterMinInsyncReplicas?: number;
    topics: TopicSpec[];
    /** Protocol version the provider speaks (MAJOR.MINOR.PATCH); the provider's default otherwise. */
    kafkaVersion?: string;
    /** Provider timeout in seconds. */
    timeoutSeconds?: number;
    /** Protect the topics (and their data) from `pulumi destroy`. */
    protect?: boolean;
}

/** The args of KafkaTopics declared directly: the connection, the cluster's size and every topic, before anything registers. */
function validateKafkaTopicsArgs(key: string, args: KafkaTopicsArgs): TopicSpec[] {
    validateKafkaConnection(key, {
        enabled: args.enabled, bootstrapServers: args.bootstrapServers, tls: args.tls, sasl: args.sasl,
        kafkaVersion: args.kafkaVersion, timeoutSeconds: args.timeoutSeconds,
    });
    requireIntInRange(`${key}.brokers`, args.brokers, MIN_BROKERS, MAX_BROKERS);
    if (args.clusterMinInsyncReplicas !== undefined) {
        requireIntInRange(`${key}.clusterMinInsyncReplicas`, args.clusterMinInsyncReplicas, 1, args.brokers);
    }
    return validateTopicSpecs(`${key}.topics`, args.topics, args.brokers, args.clusterMinInsyncReplicas);
}

export class KafkaTopics extends pulumi.ComponentResource {
    /** The declared topic names (also when disabled: they are what the cluster is meant to have). */
    public readonly topicNames: pulumi.Output<string[]>;
    public readonly provider?: kafka.Provider;
    public readonly topics: Record<string, kafka.Topic> = {};

    constructor(name: string, args: KafkaTopicsArgs | Checked<KafkaTopicsArgs>, opts?: pulumi.ComponentResourceOptions) {
        // Checked once: where the config entered (a system's topics and connection), or here for topics declared directly.
        const topics = isChecked(args) ? args.topics : validateKafkaTopicsArgs(`KafkaTopics(${name})`, args);
        super("platform:messaging:KafkaTopics", name, {}, opts);

        this.topicNames = pulumi.output(topics.map(t => t.name));
        if (args.enabled ?? true) {
            const tls = args.tls;
            const sasl = args.sasl;
            this.provider = new kafka.Provider(`${name}-provider`, {
                bootstrapServers: args.bootstrapServers,
                tlsEnabled: tls?.enabled ?? false,
                skipTlsVerify: tls?.skipVerify ?? false,
                caCert: tls?.caCert,
                clientCert: tls?.clientCert,
                clientKey: tls?.clientKey === undefined ? undefined : pulumi.secret(tls.clientKey),
                saslMechanism: sasl?.mechanism,
                saslUsername: sasl?.username,
                saslPassword: sasl === undefined ? undefined : pulumi.secret(sasl.password),
                kafkaVersion: args.kafkaVersion,
                timeout: args.timeoutSeconds,
            }, { parent: this });
            for (const t of topics) {
                this.topics[t.name] = new kafka.Topic(`${name}-${t.name}`, {
                    // Set explicitly: without it Pulumi would auto-name the topic with a random suffix.
                    name: t.name,
                    partitions: t.partitions,
                    replicationFactor: t.replicationFactor,
                    config: topicConfig(t.config),
                }, { parent: this, provider: this.provider, protect: args.protect });
            }
        }
        this.registerOutputs({ topicNames: this.topicNames });
    }
}
