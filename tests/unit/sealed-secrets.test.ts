import { expect } from "chai";
import * as crypto from "crypto";
import {
    requireSealedValue, SealedSecret, SealedSecretArgs, SealedSecretsController, SealedSecretsControllerArgs, UNSEALER_RULES,
} from "../../components/secrets";
import { packViolations } from "./stack-resources";
import { byName, capture, ofType, podSpec, T, valueOf } from "./helpers";


/** Seals a value the way kubeseal does (hybrid RSA-OAEP + AES-GCM), so tests use real-shaped ciphertext. */
function seal(plaintext: string, publicKey: crypto.KeyObject, label = ""): string {
    const sessionKey = crypto.randomBytes(32);
    const rsa = crypto.publicEncrypt({ key: publicKey, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256", oaepLabel: Buffer.from(label) }, sessionKey);
    const gcm = crypto.createCipheriv("aes-256-gcm", sessionKey, Buffer.alloc(12));
    const body = Buffer.concat([gcm.update(plaintext, "utf8"), gcm.final(), gcm.getAuthTag()]);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(rsa.length);
    return Buffer.concat([len, rsa, body]).toString("base64");
}

const { publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
const { publicKey: publicKey4096 } = crypto.generateKeyPairSync("rsa", { modulusLength: 4096 });

const controllerArgs = (over: Partial<SealedSecretsControllerArgs> = {}): SealedSecretsControllerArgs => ({ apiServerCidrs: ["10.0.0.10/32"], ...over });

describe("SealedSecretsController", () => {
    it("defines the bitnami.com/v1alpha1 SealedSecret T.crd with a schema", async () => {
        const res = await capture(() => new SealedSecretsController("ss-a", controllerArgs()));
        const crd = ofType(res, T.crd)[0].inputs;
        expect(crd.metadata.name).to.equal("sealedsecrets.bitnami.com");
        expect(crd.spec.group).to.equal("bitnami.com");
        expect(crd.spec.scope).to.equal("Namespaced");
        expect(crd.spec.names).to.deep.equal({ kind: "SealedSecret", listKind: "SealedSecretList", plural: "sealedsecrets", singular: "sealedsecret" });
        expect(crd.spec.versions).to.have.length(1);
        const v = crd.spec.versions[0];
        expect([v.name, v.served, v.storage]).to.deep.equal(["v1alpha1", true, true]);
        expect(v.subresources).to.deep.equal({ status: {} });
        const schema = v.schema.openAPIV3Schema;
        expect(schema.required).to.deep.equal(["spec"]);
        expect(schema.properties.spec.required).to.deep.equal(["encryptedData"]);
        expect(schema.properties.spec.properties.encryptedData).to.deep.equal({ type: "object", additionalProperties: { type: "string" } });
        expect(schema.properties.spec.properties.template.properties.type).to.deep.equal({ type: "string" });
    });

    it("runs the pinned controller in kube-system on 8080 with probes and its API token", async () => {
        const res = await capture(() => new SealedSecretsController("ss-b", controllerArgs()));
        const dep = byName(res, T.deployment, "sealed-secrets-controller").inputs;
        expect(dep.metadata.namespace).to.equal("kube-system");
        const pod = podSpec(ofType(res, T.deployment)[0]);
        const c = pod.containers[0];
        expect(c.image).to.equal("docker.io/bitnami/sealed-secrets-controller:0.27.1");
        expect(c.ports.map((p: { containerPort: number }) => p.containerPort)).to.deep.equal([8080, 8081]);
        expect(c.livenessProbe.tcpSocket).to.deep.equal({ port: "http" });
        expect(pod.securityContext).to.include({ runAsUser: 10001, runAsGroup: 10001 });
        expect(c.readinessProbe.httpGet).to.deep.equal({ path: "/healthz", port: "http" });
        expect(c.args).to.include.members(["--key-prefix=sealed-secrets-key", "--listen-addr=:8080"]);
        expect(c.securityContext.readOnlyRootFilesystem).to.equal(true);
        expect(pod.automountServiceAccountToken).to.equal(true);
        expect(byName(res, T.serviceAccount, "sealed-secrets-controller").inputs.automountServiceAccountToken).to.equal(true);
        expect(byName(res, T.service, "sealed-secrets-controller").inputs.spec.ports).to.deep.equal([{ name: "http", port: 8080, targetPort: 8080, protocol: "TCP" }]);
    });

    it("grants exactly the controller's verbs through the allow-listed ClusterRole", async () => {
        const res = await capture(() => new SealedSecretsController("ss-c", controllerArgs()));
        const role = ofType(res, T.clusterRole)[0].inputs;
        expect(role.metadata.name).to.equal("secrets-unsealer");
        expect(role.rules).to.deep.equal([
            { apiGroups: ["bitnami.com"], resources: ["sealedsecrets"], verbs: ["get", "list", "watch"] },
            { apiGroups: ["bitnami.com"], resources: ["sealedsecrets/status"], verbs: ["update"] },
            { apiGroups: [""], resources: ["secrets"], verbs: ["get", "list", "watch", "create", "update", "delete"] },
            { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
        ]);
        expect(role.rules).to.deep.equal(UNSEALER_RULES);
        const binding = ofType(res, T.clusterRoleBinding)[0].inputs;
        expect(binding.roleRef).to.deep.equal({ apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "secrets-unsealer" });
        expect(binding.subjects).to.deep.equal([{ kind: "ServiceAccount", name: "sealed-secrets-controller", namespace: "kube-system" }]);
    });

    it("talks only to the API server (and DNS), and is reached only from it", async () => {
        const res = await capture(() => new SealedSecretsController("ss-d", controllerArgs({ apiServerCidrs: ["10.0.0.10/32", "10.0.0.11/32"] })));
        const np = byName(res, T.netpol, "sealed-secrets-controller").inputs.spec;
        expect(np.ingress).to.deep.equal([
            { from: [{ ipBlock: { cidr: "10.0.0.10/32" } }], ports: [{ port: 8080, protocol: "TCP" }] },
            { from: [{ ipBlock: { cidr: "10.0.0.11/32" } }], ports: [{ port: 8080, protocol: "TCP" }] },
        ]);
        expect(np.egress.slice(0, 2)).to.deep.equal([
            { to: [{ ipBlock: { cidr: "10.0.0.10/32" } }], ports: [{ port: 443, protocol: "TCP" }, { port: 6443, protocol: "TCP" }] },
            { to: [{ ipBlock: { cidr: "10.0.0.11/32" } }], ports: [{ port: 443, protocol: "TCP" }, { port: 6443, protocol: "TCP" }] },
        ]);
        expect(np.egress[2].ports).to.deep.equal([{ port: 53, protocol: "UDP" }, { port: 53, protocol: "TCP" }]);
    });

    it("labels its pods sealed-secrets for the traffic plan and outputs kubeseal's names", async () => {
        const res = await capture(() => new SealedSecretsController("ss-e", controllerArgs()));
        expect(ofType(res, T.deployment)[0].inputs.spec.template.metadata.labels["app.kubernetes.io/name"]).to.equal("sealed-secrets");
        const c = new SealedSecretsController("ss-f", controllerArgs({ createCrd: false }));
        expect(await valueOf(c.controllerName)).to.equal("sealed-secrets-controller");
        expect(await valueOf(c.namespace)).to.equal("kube-system");
        expect(await valueOf(c.crdName)).to.equal(undefined);
    });

    it("refuses open or missing API server ranges and unpinned images before registering anything", async () => {
        const res = await capture(() => {
            expect(() => new SealedSecretsController("ss-bad", controllerArgs({ apiServerCidrs: ["0.0.0.0/0"] })))
                .to.throw("SealedSecretsController(ss-bad).apiServerCidrs[0]: \"0.0.0.0/0\" is not allowed; allowed: an IPv4 CIDR narrower than /0");
            expect(() => new SealedSecretsController("ss-bad", controllerArgs({ apiServerCidrs: [] })))
                .to.throw("SealedSecretsController(ss-bad).apiServerCidrs: [] is not allowed");
            expect(() => new SealedSecretsController("ss-bad", controllerArgs({ image: "bitnami/sealed-secrets-controller" })))
                .to.throw("SealedSecretsController(ss-bad).image: \"bitnami/sealed-secrets-controller\" is not pinned");
        });
        expect(res).to.have.length(0);
    });
});

describe("SealedSecret", () => {
    const data = { username: seal("orders", publicKey), password: seal("s3cr3t-value", publicKey4096) };
    const args = (over: Partial<SealedSecretArgs> = {}): SealedSecretArgs => ({ namespace: "databases", encryptedData: data, ...over });

    it("creates a bitnami.com/v1alpha1 SealedSecret whose template names the Secret", async () => {
        const res = await capture(() => new SealedSecret("orders-db-credentials", args()));
        const ss = ofType(res, T.sealedSecret)[0].inputs;
        expect(ss.apiVersion).to.equal("bitnami.com/v1alpha1");
        expect(ss.kind).to.equal("SealedSecret");
        expect(ss.metadata).to.include({ name: "orders-db-credentials", namespace: "databases" });
        expect(ss.spec.encryptedData).to.deep.equal(data);
        expect(ss.spec.template).to.deep.equal({
            metadata: { name: "orders-db-credentials", namespace: "databases", labels: { "app.kubernetes.io/managed-by": "pulumi" }, annotations: {} },
            type: "Opaque",
        });
    });

    it("marks namespace-wide and cluster-wide sealing scopes", async () => {
        const res = await capture(() => {
            new SealedSecret("nw", args({ scope: "namespace-wide" }));
            new SealedSecret("cw", args({ scope: "cluster-wide", secretName: "shared", type: "kubernetes.io/basic-auth" }));
        });
        const [nw, cw] = ofType(res, T.sealedSecret).map(r => r.inputs);
        expect(nw.metadata.annotations).to.deep.equal({ "sealedsecrets.bitnami.com/namespace-wide": "true" });
        expect(cw.metadata.annotations).to.deep.equal({ "sealedsecrets.bitnami.com/cluster-wide": "true" });
        expect(cw.metadata.name).to.equal("shared");
        expect(cw.spec.template.type).to.equal("kubernetes.io/basic-auth");
    });

    it("outputs the Secret name", async () => {
        const s = new SealedSecret("api-keys", args({ secretName: "api-keys-v2" }));
        expect(await valueOf(s.secretName)).to.equal("api-keys-v2");
    });

    describe("accepts only kubeseal ciphertext, never plaintext", () => {
        it("accepts ciphertext of 2048- and 4096-bit keys", () => {
            expect(requireSealedValue("k", data.username)).to.equal(data.username);
            expect(requireSealedValue("k", data.password)).to.equal(data.password);
        });

        const bad: [string, string, string][] = [
            ["a plaintext password", "hunter2-plain-password", "not base64"],
            ["base64 of plaintext", Buffer.from("my database password").toString("base64"), "bytes is too short"],
            ["a long base64 blob without the RSA header", Buffer.alloc(600, 7).toString("base64"), "no RSA-encrypted session key header"],
            ["url-safe or unpadded base64", seal("x", publicKey).replace(/=+$/, "").replace(/\+/g, "-"), "not base64"],
        ];
        for (const [what, value, reason] of bad) {
            it(`refuses ${what} without echoing it, registering nothing`, async () => {
                const res = await capture(() => {
                    let err: Error | undefined;
                    try {
                        new SealedSecret("leak", args({ encryptedData: { password: value } }));
                    } catch (e) {
                        err = e as Error;
                    }
                    expect(err?.message).to.contain(`SealedSecret(leak).encryptedData.password: is not a sealed value (`);
                    expect(err?.message).to.contain(reason);
                    expect(err?.message).to.contain("allowed: base64 ciphertext produced by kubeseal (never plaintext)");
                    expect(err?.message).not.to.contain(value);
                });
                expect(res).to.have.length(0);
            });
        }

        it("refuses empty data and bad keys", () => {
            expect(() => new SealedSecret("e1", args({ encryptedData: {} }))).to.throw("SealedSecret(e1).encryptedData: no data");
            expect(() => new SealedSecret("e2", args({ encryptedData: { "bad key": data.username } }))).to.throw("SealedSecret(e2).encryptedData: key \"bad key\" is not allowed");
            expect(() => new SealedSecret("e3", args({ scope: "global" as never }))).to.throw("SealedSecret(e3).scope: \"global\" is not allowed; allowed: strict, namespace-wide, cluster-wide");
        });
    });
});

describe("sealed-secrets resources and the policy pack", () => {
    it("pass the prod pack with zero violations (with the listed plan rules)", async () => {
        const quota = { requestsCpu: "4", requestsMemory: "8Gi", limitsCpu: "8", limitsMemory: "16Gi", requestsStorage: "100Gi", pods: 50, persistentVolumeClaims: 20 };
        const limits = { defaultRequest: { cpu: "100m", memory: "128Mi" }, default: { cpu: "500m", memory: "512Mi" }, max: { cpu: "4", memory: "8Gi" } };
        const { NamespaceBaseline } = await import("../../components/k8s/namespace");
        const res = await capture(() => {
            new NamespaceBaseline("ns-databases", { name: "databases", quota, limits });
            const c = new SealedSecretsController("sealed-secrets", controllerArgs());
            new SealedSecret("orders-db-credentials", { namespace: "databases", encryptedData: { password: seal("pw", publicKey) }, dependsOn: c.crd ? [c.crd] : [] });
        });
        expect(await packViolations(res)).to.deep.equal([]);
    });
});
