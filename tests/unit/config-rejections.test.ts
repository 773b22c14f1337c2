/**
 * Bad input as a new user would write it: each class is refused while the config is read, before
 * the first resource registers, with the config key as written and the allowed values.
 */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { loadPlatformConfig, parsePlatformConfig } from "../../config";
import { createPlatform } from "../../platform";
import { capture, deepClone, stackConfig } from "./helpers";

interface Rejection {
    message: string;
    registered: number;
}

/** Runs the whole program on the dev stack with one change: the error, and how many resources registered. */
async function rejection(change: (cfg: Record<string, any>) => void): Promise<Rejection> {
    const cfg = deepClone(stackConfig("dev"));
    change(cfg);
    let message = "";
    const res = await capture(() => {
        try {
            createPlatform(parsePlatformConfig(cfg));
        } catch (e) {
            message = (e as Error).message;
        }
    });
    return { message, registered: res.length };
}

/** The same through loadPlatformConfig, from full Pulumi config keys (all namespaces, as the engine passes them). */
async function loadRejection(extra: Record<string, string>): Promise<Rejection> {
    const before = pulumi.runtime.allConfig();
    const all: Record<string, string> = {};
    for (const [k, v] of Object.entries(stackConfig("dev"))) {
        all[`k8s-platform:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
    }
    pulumi.runtime.setAllConfig({ ...all, ...extra });
    let message = "";
    try {
        const res = await capture(() => {
            try {
                createPlatform(loadPlatformConfig());
            } catch (e) {
                message = (e as Error).message;
            }
        });
        return { message, registered: res.length };
    } finally {
        pulumi.runtime.setAllConfig(before);
    }
}

const refused = (message: string): Rejection => ({ message, registered: 0 });

describe("bad input is refused before any resource registers, naming the config key", () => {
    it("refuses a size without its unit (2 bytes where 2Gi was meant)", async () => {
        expect(await rejection(c => { c.restapi.observability.prometheusStorage = 2; })).to.deep.equal(refused(
            "k8s-platform:restapi.observability.prometheusStorage: 2 is not a storage quantity (2 is 2 bytes, less than 1Mi: a unit left out?); " +
            "allowed: e.g. 512Mi or 10Gi"));
    });

    it("refuses a memory quantity in millibytes", async () => {
        expect(await rejection(c => { c.cstore.redis.resources.requests.memory = "128m"; })).to.deep.equal(refused(
            "k8s-platform:cstore.redis.resources.requests.memory: \"128m\" is not a memory quantity (\"m\" is milli: 128m is a thousandth " +
            "of 128 bytes; write Mi for mebibytes); allowed: e.g. 512Mi or 10Gi"));
    });

    it("refuses a CPU quantity with a memory unit", async () => {
        expect(await rejection(c => {
            c.restapi.model = { resources: { requests: { cpu: "1Gi", memory: "256Mi" }, limits: { cpu: "2", memory: "512Mi" } } };
        })).to.deep.equal(refused(
            "k8s-platform:restapi.model.resources.requests.cpu: \"1Gi\" is not a cpu quantity (Gi is a unit of bytes, not of CPU); allowed: e.g. 250m or 1"));
    });

    it("refuses an image reference with an uppercase repository", async () => {
        expect(await rejection(c => { c.restapi.image = "ghcr.io/K8s-Platform/restapi-mvcr:1.4.2"; })).to.deep.equal(refused(
            "k8s-platform:restapi.image: \"ghcr.io/K8s-Platform/restapi-mvcr:1.4.2\" is not an image reference; allowed: " +
            "[registry/]repository[:tag][@sha256:digest] with the repository in lowercase letters, digits and separators (., _, __, -), " +
            "e.g. ghcr.io/org/app:1.2.3"));
    });

    it("refuses a RestAPI ingress host that is not a host name at its config key", async () => {
        expect(await rejection(c => { c.restapi.ingress = { host: "https://shop.example.com", clusterIssuer: "letsencrypt" }; })).to.deep.equal(refused(
            "k8s-platform:restapi.ingress.host: \"https://shop.example.com\" is not allowed; allowed: a lowercase DNS host name such as api.cstore.example.com"));
    });

    it("refuses a RestAPI preview host without blue/green (no idle colour to preview)", async () => {
        expect(await rejection(c => { c.restapi.ingress = { host: "shop.example.com", previewHost: "next.shop.example.com", clusterIssuer: "letsencrypt" }; })).to.deep.equal(refused(
            "k8s-platform:restapi.ingress.previewHost: there is no idle colour to preview without blue/green; allowed: set blueGreen.enabled true, or leave previewHost out"));
    });

    it("refuses a latest RestAPI image at its config key (the RestApi constructor does not check it again)", async () => {
        expect(await rejection(c => { c.restapi.image = "ghcr.io/acme/shop:latest"; })).to.deep.equal(refused(
            "k8s-platform:restapi.image: \"ghcr.io/acme/shop:latest\" is not pinned; allowed: an image with a version tag (not \"latest\") or a @sha256 digest"));
    });

    it("refuses a Prometheus retention that is not a duration at its config key (the component does not check it again)", async () => {
        expect(await rejection(c => { c.cstore.prometheus.retention = "30 days"; })).to.deep.equal(refused(
            "k8s-platform:cstore.prometheus.retention: \"30 days\" is not allowed; allowed: a Prometheus duration such as 30d " +
            "(units ms, s, m, h, d, w, y) from 7200s to 315360000s"));
    });

    it("refuses a Grafana volume size that is not a quantity at its config key", async () => {
        expect(await rejection(c => { c.cstore.grafana.storage.size = "five"; })).to.deep.equal(refused(
            "k8s-platform:cstore.grafana.storage.size: \"five\" is not a storage quantity; allowed: e.g. 512Mi or 10Gi"));
    });

    it("refuses an unpinned Jaeger image at its config key", async () => {
        expect(await rejection(c => { c.greenfield.observability.jaeger = { image: "jaegertracing/all-in-one" }; })).to.deep.equal(refused(
            "k8s-platform:greenfield.observability.jaeger.image: \"jaegertracing/all-in-one\" is not pinned; " +
            "allowed: an image with a version tag (not \"latest\") or a @sha256 digest"));
    });

    it("refuses a FastAPI liveness path equal to its readiness path at its config key", async () => {
        expect(await rejection(c => { c.greenfield.fastapi.livenessPath = "/ready"; })).to.deep.equal(refused(
            "k8s-platform:greenfield.fastapi.livenessPath: \"/ready\" is also the readinessPath; " +
            "allowed: a path that only checks the process is alive, other than readinessPath"));
    });

    it("refuses zero OTel collector replicas at its config key", async () => {
        expect(await rejection(c => { c.outbox.observability.otelCollector.replicas = 0; })).to.deep.equal(refused(
            "k8s-platform:outbox.observability.otelCollector.replicas: 0 is not allowed; allowed: an integer from 1 to 20"));
    });

    it("refuses a Kafka SASL section without the secret password key, naming that key", async () => {
        expect(await rejection(c => { c.outbox.kafka.connection = { sasl: { mechanism: "scram-sha512", username: "svc" } }; })).to.deep.equal(refused(
            "k8s-platform:kafkaSaslPassword: missing while k8s-platform:outbox.kafka.connection.sasl is set; " +
            "allowed: `pulumi config set --secret k8s-platform:kafkaSaslPassword`"));
    });

    it("refuses a malformed Greenfield topics bootstrap server at its config key (no stand-in list is checked instead)", async () => {
        expect(await rejection(c => { c.greenfield.kafka.topics = { bootstrapServers: ["kafka"] }; })).to.deep.equal(refused(
            "k8s-platform:greenfield.kafka.topics.bootstrapServers[0]: \"kafka\" is not allowed; " +
            "allowed: host:port, e.g. kafka-0.kafka-headless.messaging.svc.cluster.local:9092"));
    });

    it("refuses an ingress host that is not a DNS name at its config key", async () => {
        expect(await rejection(c => { c.greenfield.ingress.fastapi = { host: "API.example.com" }; })).to.deep.equal(refused(
            "k8s-platform:greenfield.ingress.fastapi.host: \"API.example.com\" is not allowed; allowed: a lowercase DNS host name such as api.cstore.example.com"));
    });

    it("refuses two endpoints on one ingress host, naming both keys", async () => {
        expect(await rejection(c => { c.outbox.ingress.grafana = { host: "api.outbox.dev.example.com" }; })).to.deep.equal(refused(
            "k8s-platform:outbox.ingress.grafana.host: \"api.outbox.dev.example.com\" is already the host of k8s-platform:outbox.ingress.rest; " +
            "allowed: a host of its own"));
    });

    it("refuses an unknown endpoint under a system's ingress, listing the allowed keys", async () => {
        const { message, registered } = await rejection(c => { c.outbox.ingress.worker = { host: "worker.example.com" }; });
        expect(registered).to.equal(0);
        expect(message).to.match(/^k8s-platform:outbox\.ingress\.worker: unknown key; allowed keys: domain, clusterIssuer, ingressClassName, skipAwait, rest, grpc, grafana/);
    });

    it("refuses an empty secret value", async () => {
        expect(await loadRejection({ "k8s-platform:kafkaSaslPassword": "" })).to.deep.equal(refused(
            "k8s-platform:kafkaSaslPassword: an empty secret is not allowed; allowed: a non-empty value " +
            "(`pulumi config set --secret k8s-platform:kafkaSaslPassword`)"));
    });

    it("refuses an unknown key inside limits, listing the allowed keys", async () => {
        expect(await rejection(c => { c.limits = { max: { cpu: "4", memory: "8Gi", gpu: "1" } }; })).to.deep.equal(refused(
            "k8s-platform:limits.max.gpu: unknown key; allowed keys: cpu, memory"));
    });

    it("suggests the near-miss name of an unknown key", async () => {
        expect(await rejection(c => { c.limits = { maximum: { cpu: "4", memory: "8Gi" } }; })).to.deep.equal(refused(
            "k8s-platform:limits.maximum: unknown key; allowed keys: defaultRequest, default, max"));
        expect(await rejection(c => { c.protectdata = true; })).to.deep.equal(refused(
            "k8s-platform:protectdata: unknown key; allowed keys: environment, protectData, storageClass, ingressNamespace, apiServerCidrs, " +
            "quota, limits, restapi, databases, cstore, outbox, greenfield, manageKafkaTopics, kafkaSaslPassword, alerting, alertingSecrets, skipPrerequisites (did you mean \"protectData\"?)"));
    });

    it("refuses an unknown key inside a resource map (a gpu limit)", async () => {
        expect(await rejection(c => { c.outbox.restService.resources.limits.gpu = "1"; })).to.deep.equal(refused(
            "k8s-platform:outbox.restService.resources.limits.gpu: unknown key; allowed keys: cpu, memory"));
    });

    it("refuses two systems configured into the same namespace", async () => {
        expect(await rejection(c => { c.outbox.namespace = "cstore"; })).to.deep.equal(refused(
            "k8s-platform:outbox.namespace: \"cstore\" is already the namespace of k8s-platform:cstore.namespace; allowed: a namespace no other system uses"));
    });

    it("refuses a system in the ingress controller's namespace", async () => {
        expect(await rejection(c => { c.greenfield.namespace = "ingress-nginx"; })).to.deep.equal(refused(
            "k8s-platform:greenfield.namespace: \"ingress-nginx\" is already the namespace of k8s-platform:ingressNamespace; " +
            "allowed: a namespace no other system uses"));
    });

    it("refuses a namespace quota below the sum of its workloads' requests", async () => {
        expect(await rejection(c => { c.quota.requestsCpu = "1"; })).to.deep.equal(refused(
            "k8s-platform:quota.requestsCpu: \"1\" is too small for the RestAPI's parts at their replicas (k8s-platform:restapi); allowed: at least 1200m"));
    });

    it("refuses a LimitRange max below a workload's limit", async () => {
        expect(await rejection(c => { c.limits = { max: { cpu: "1", memory: "8Gi" } }; })).to.deep.equal(refused(
            "k8s-platform:limits.max.cpu: \"1\" is below the k8s-platform:restapi.model limit 2; allowed: at least the largest container limit"));
    });

    it("refuses a platform quota that cannot hold the RestAPI's monitoring namespace (its claims)", async () => {
        expect(await rejection(c => { c.restapi.observability = { ...(c.restapi.observability ?? {}), prometheusStorage: "500Gi" }; })).to.deep.equal(refused(
            "k8s-platform:quota.requestsStorage: \"20Gi\" is too small for the RestAPI's observability stack " +
            "(k8s-platform:restapi.observability.namespace monitoring); allowed: at least 513024Mi"));
    });

    it("refuses a LimitRange max below a container of the RestAPI's monitoring namespace", async () => {
        expect(await rejection(c => { c.limits = { ...c.limits, max: { cpu: "4", memory: "1536Mi" } }; })).to.deep.equal(refused(
            "k8s-platform:limits.max.memory: \"1536Mi\" is below the k8s-platform:restapi.observability prometheus limit 2Gi; " +
            "allowed: at least the largest container limit"));
    });

    describe("capacity of every system's namespace, checked before any resource registers", () => {
        it("refuses a Greenfield quota below its workloads' requests at their peak", async () => {
            expect(await rejection(c => { c.greenfield.quota = { ...c.greenfield.quota, requestsCpu: "2" }; })).to.deep.equal(refused(
                "k8s-platform:greenfield.quota.requestsCpu: \"2\" is too small for the system at its peak (FastAPI at its HPA maximum plus " +
                "rolling-update surge); allowed: at least 2450m"));
        });

        it("refuses a Greenfield LimitRange max below a workload's limit", async () => {
            expect(await rejection(c => {
                c.greenfield.limits = { defaultRequest: { cpu: "100m", memory: "128Mi" }, default: { cpu: "500m", memory: "512Mi" }, max: { cpu: "4", memory: "2Gi" } };
                c.greenfield.kafka.resources = { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "1", memory: "3Gi" } };
            })).to.deep.equal(refused(
                "k8s-platform:greenfield.limits.max.memory: \"2Gi\" is below the k8s-platform:greenfield.kafka limit 3Gi; " +
                "allowed: at least the largest container limit"));
        });

        describe("Greenfield with the mesh on: an istio-proxy in every pod", () => {
            const gfMesh = (c: Record<string, any>, sidecarResources?: unknown) => {
                c.greenfield.mesh = {
                    enabled: true, istioInstalled: true, gateway: { hosts: ["api.greenfield.dev.example.com"], credentialName: "api-tls" },
                    ...(sidecarResources ? { sidecarResources } : {}),
                };
                c.greenfield.fastapi.release = { strategy: "blue-green" };
            };
            const sidecar = (cpu: string) => ({ requests: { cpu, memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } });
            const ample = { requestsCpu: "100", requestsMemory: "100Gi", limitsCpu: "200", limitsMemory: "200Gi", requestsStorage: "100Gi", pods: 100, persistentVolumeClaims: 30 };
            const atLeast = (r: Rejection) => /allowed: at least ([0-9]+)m?$/.exec(r.message)![1];

            it("refuses dev's Greenfield quota once the sidecars are counted", async () => {
                expect(await rejection(c => gfMesh(c))).to.deep.equal(refused(
                    "k8s-platform:greenfield.quota.requestsCpu: \"4\" is too small for the system at its peak (FastAPI at its HPA maximum " +
                    "plus rolling-update surge, an istio-proxy in every pod); allowed: at least 5200m"));
            });

            it("adds the sidecar's request once per pod", async () => {
                const pods = Number(atLeast(await rejection(c => { gfMesh(c); c.greenfield.quota = { ...ample, pods: 1 }; })));
                const at100 = Number(atLeast(await rejection(c => { gfMesh(c, sidecar("100m")); c.greenfield.quota.requestsCpu = "1"; })));
                const at200 = Number(atLeast(await rejection(c => { gfMesh(c, sidecar("200m")); c.greenfield.quota.requestsCpu = "1"; })));
                expect(pods).to.be.greaterThan(10);
                expect(at200 - at100).to.equal(pods * 100);
            });

            it("refuses a LimitRange max below the sidecar's limit (Istio's default 2 CPUs), naming mesh.sidecarResources", async () => {
                expect(await rejection(c => {
                    gfMesh(c);
                    c.greenfield.quota = ample;
                    c.greenfield.limits = { defaultRequest: { cpu: "100m", memory: "128Mi" }, default: { cpu: "500m", memory: "512Mi" }, max: { cpu: "1", memory: "4Gi" } };
                })).to.deep.equal(refused(
                    "k8s-platform:greenfield.limits.max.cpu: \"1\" is below the k8s-platform:greenfield.mesh.sidecarResources limit 2; " +
                    "allowed: at least the largest container limit"));
            });

            it("accepts the same system with a quota that holds it", async () => {
                expect((await rejection(c => { gfMesh(c); c.greenfield.quota = ample; })).message).to.equal("");
            });
        });

        it("refuses a CStore LimitRange max below a workload's limit, naming the key that sizes it", async () => {
            expect(await rejection(c => {
                c.cstore.limits = { defaultRequest: { cpu: "50m", memory: "64Mi" }, default: { cpu: "250m", memory: "256Mi" }, max: { cpu: "2", memory: "768Mi" } };
            })).to.deep.equal(refused(
                "k8s-platform:cstore.limits.max.memory: \"768Mi\" is below the k8s-platform:cstore.mongodb limit 1Gi; " +
                "allowed: at least the largest container limit"));
        });

        it("refuses an Outbox quota with fewer pods than its services at their HPA maximum", async () => {
            expect(await rejection(c => { c.outbox.restService.autoscaling = { minReplicas: 1, maxReplicas: 10, targetCPUUtilizationPercentage: 70 }; }))
                .to.deep.equal(refused(
                    "k8s-platform:outbox.quota.pods: 20 is too small for the system at its peak (each service at its HPA maximum plus " +
                    "rolling-update surge); allowed: at least 30"));
        });

        it("refuses an Outbox LimitRange max below a workload's limit", async () => {
            expect(await rejection(c => { c.outbox.kafka.cluster.resources.limits.memory = "3Gi"; })).to.deep.equal(refused(
                "k8s-platform:outbox.limits.max.memory: \"2Gi\" is below the k8s-platform:outbox.kafka.cluster limit 3Gi; " +
                "allowed: at least the largest container limit"));
        });

        it("refuses a platform quota that cannot hold the databases' claims", async () => {
            expect(await rejection(c => { c.databases.instances["orders-db"].storage.size = "500Gi"; })).to.deep.equal(refused(
                "k8s-platform:quota.requestsStorage: \"20Gi\" is too small for the databases at their replicas " +
                "(k8s-platform:databases.namespace databases); allowed: at least 517632Mi"));
        });

        it("refuses a LimitRange max below a database member's limit", async () => {
            expect(await rejection(c => {
                c.databases.instances["orders-db"].resources = { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "6", memory: "2Gi" } };
            })).to.deep.equal(refused(
                "k8s-platform:limits.max.cpu: \"4\" is below the k8s-platform:databases.instances.orders-db limit 6; " +
                "allowed: at least the largest container limit"));
        });
    });

    it("refuses a Kafka version of the wrong mode up front, under the config key", async () => {
        expect(await rejection(c => { c.greenfield.kafka.version = "3.6.0"; })).to.deep.equal(refused(
            "k8s-platform:greenfield.kafka.version: \"3.6.0\" is not allowed in kraft mode; allowed: an apache/kafka version from 3.7.0 on, such as 4.0.0"));
    });

    it("refuses an API server CIDR of the whole Internet up front, under the config key", async () => {
        expect(await rejection(c => { c.apiServerCidrs = ["0.0.0.0/0"]; })).to.deep.equal(refused(
            "k8s-platform:apiServerCidrs[0]: \"0.0.0.0/0\" is not allowed; allowed: an IPv4 CIDR such as 10.0.0.1/32 (not /0)"));
    });

    it("refuses a key under a namespace one edit away from the project's", async () => {
        expect(await loadRejection({ "k8s-platfrom:protectData": "true" })).to.deep.equal(refused(
            "k8s-platfrom:protectData: unknown namespace \"k8s-platfrom\"; allowed: k8s-platform:protectData (the project's namespace is k8s-platform)"));
    });

    it("leaves other namespaces alone (the providers' own keys)", async function () {
        // A valid config builds the whole program.
        this.timeout(120000);
        expect(await loadRejection({ "kubernetes:context": "kind", "k8s-platform:kafkaSaslPassword": "s3cret" }))
            .to.have.property("message", "");
    });
    describe("k8s-platform:alerting", () => {
        const hook = { name: "hook", type: "webhook", url: "http://sink.alerting.svc.cluster.local:8080/" };

        it("refuses an unknown key, naming it and the allowed ones", async () => {
            expect(await rejection(c => { c.alerting = { reciever: [] }; })).to.deep.equal(refused(
                "k8s-platform:alerting.reciever: unknown key; allowed keys: namespace, replicas, image, resources, storage, receivers, route, " +
                "egressCidrs (did you mean \"receivers\"?)"));
        });

        it("refuses an unknown key of a receiver", async () => {
            expect(await rejection(c => { c.alerting = { receivers: [{ ...hook, token: "a" }] }; })).to.deep.equal(refused(
                "k8s-platform:alerting.receivers[0].token: unknown key; allowed keys: name, type, url, channel, sendResolved"));
        });

        it("refuses a receiver type it cannot deliver to", async () => {
            expect(await rejection(c => { c.alerting = { receivers: [{ name: "mail", type: "email" }] }; })).to.deep.equal(refused(
                "k8s-platform:alerting.receivers[0].type: \"email\" is not allowed; allowed: webhook, slack, pagerduty"));
        });

        it("refuses a Slack receiver without its secret endpoint, naming the secret key", async () => {
            expect(await rejection(c => { c.alerting = { receivers: [{ name: "chat", type: "slack" }], egressCidrs: ["203.0.113.0/24"] }; })).to.deep.equal(refused(
                "k8s-platform:alertingSecrets.chat: missing: receiver chat (slack) has no endpoint; " +
                "allowed: `pulumi config set --secret k8s-platform:alertingSecrets '{\"chat\": \"<URL>\"}'`"));
        });

        it("refuses an outside webhook URL in plain config (it may carry a token)", async () => {
            expect(await rejection(c => { c.alerting = { receivers: [{ name: "hook", type: "webhook", url: "https://hooks.example.com/T0/abc" }] }; }))
                .to.deep.equal(refused(
                    "k8s-platform:alerting.receivers[0].url: \"https://hooks.example.com/T0/abc\" is not allowed in plain config (it may carry a token); " +
                    "allowed: an in-cluster http://<service>.<namespace>.svc.cluster.local:<port>/ URL, or the URL in " +
                    "`pulumi config set --secret k8s-platform:alertingSecrets`"));
        });

        it("refuses a prod stack without alerting (a null receiver delivers nothing)", async () => {
            expect(await rejection(c => { c.environment = "prod"; })).to.deep.equal(refused(
                "k8s-platform:alerting: missing in prod; allowed: an object with receivers (slack, pagerduty or webhook, their endpoints in " +
                "`pulumi config set --secret k8s-platform:alertingSecrets`) and a route"));
        });

        it("refuses a single Alertmanager in prod", async () => {
            expect(await rejection(c => { c.environment = "prod"; c.alerting = { replicas: 1, receivers: [hook] }; })).to.deep.equal(refused(
                "k8s-platform:alerting.replicas: 1 is not allowed in prod; allowed: 3 to 5 (an HA cluster survives the loss of a replica)"));
        });

        it("refuses a severity route to a receiver that does not exist", async () => {
            expect(await rejection(c => { c.alerting = { receivers: [hook], route: { severity: { critical: "pager" } } }; })).to.deep.equal(refused(
                "k8s-platform:alerting.route.severity.critical: \"pager\" is not allowed; allowed: hook"));
        });

        it("refuses a severity the rules never set", async () => {
            expect(await rejection(c => { c.alerting = { receivers: [hook], route: { severity: { fatal: "hook" } } }; })).to.deep.equal(refused(
                "k8s-platform:alerting.route.severity.fatal: unknown key; allowed keys: critical, warning, info"));
        });

        it("refuses secrets that are not a JSON object", async () => {
            expect(await loadRejection({ "k8s-platform:alertingSecrets": "hooks.slack.com/x" })).to.deep.equal(refused(
                "k8s-platform:alertingSecrets: not JSON; allowed: a JSON object of receiver name -> URL or routing key " +
                "(`pulumi config set --secret k8s-platform:alertingSecrets '{\"oncall\": \"https://...\"}'`)"));
        });

        it("refuses an empty secret value for a receiver", async () => {
            expect(await loadRejection({ "k8s-platform:alertingSecrets": JSON.stringify({ "dev-webhook": " " }) })).to.deep.equal(refused(
                "k8s-platform:alertingSecrets.dev-webhook: an empty or non-string value is not allowed; allowed: a JSON object of receiver name -> " +
                "URL or routing key (`pulumi config set --secret k8s-platform:alertingSecrets '{\"oncall\": \"https://...\"}'`)"));
        });

        it("refuses a secret for a receiver that does not exist", async () => {
            expect(await loadRejection({ "k8s-platform:alertingSecrets": JSON.stringify({ oncall: "https://hooks.example.com/x" }) })).to.deep.equal(refused(
                "k8s-platform:alertingSecrets.oncall: no receiver is named \"oncall\"; allowed: dev-webhook"));
        });
    });
});
