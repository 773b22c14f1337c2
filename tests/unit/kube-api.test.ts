/**
 * The prerequisite check's Kubernetes API reader (components/k8s/kube-api.ts): the connection is
 * resolved from kubeconfigs as the kubernetes provider resolves it, and GETs go over HTTP to a local
 * server answering as the API server does (200 with the object, 404, 403 with a Status), which
 * checks the credential it receives.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { kubeApiReader, resolveConnection } from "../../components/k8s/kube-api";

const TOKEN = "test-token-0123";

function kubeconfig(server: string, user: Record<string, unknown>, context = "test"): string {
    return [
        "apiVersion: v1",
        "kind: Config",
        `current-context: ${context}`,
        "clusters:",
        `- name: c1`,
        `  cluster: {server: "${server}"}`,
        "contexts:",
        `- name: ${context}`,
        "  context: {cluster: c1, user: u1}",
        "users:",
        "- name: u1",
        `  user: ${JSON.stringify(user)}`,
        "",
    ].join("\n");
}

describe("the prerequisite check's Kubernetes API reader", () => {
    let server: http.Server;
    let url = "";
    let dir = "";
    const requests: { path: string; authorization?: string }[] = [];

    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "kube-api-"));
        server = http.createServer((req, res) => {
            requests.push({ path: req.url!, authorization: req.headers.authorization });
            const status = (code: number, message: string) => {
                res.writeHead(code, { "Content-Type": "application/json" });
                res.end(JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", message, code }));
            };
            if (req.headers.authorization !== `Bearer ${TOKEN}`) {
                return status(401, "Unauthorized");
            }
            if (req.url === "/apis/networking.k8s.io/v1/ingressclasses/nginx") {
                res.writeHead(200, { "Content-Type": "application/json" });
                return res.end(JSON.stringify({ kind: "IngressClass", metadata: { name: "nginx" } }));
            }
            if (req.url?.startsWith("/apis/cert-manager.io/")) {
                return status(403, 'clusterissuers.cert-manager.io "letsencrypt-prod" is forbidden: User "deployer" cannot get resource "clusterissuers"');
            }
            return status(404, "not found");
        });
        await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
        url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    });
    after(() => {
        server.close();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("kubernetes:kubeconfig given as contents, a bearer token: 200 is the object, 404 undefined, 403 an error with the server's message", async () => {
        const api = kubeApiReader(resolveConnection({ kubeconfig: kubeconfig(url, { token: TOKEN }) }, {}, dir));
        expect(api.target).to.equal(`${url} (context test)`);
        expect(await api.get("/apis/networking.k8s.io/v1/ingressclasses/nginx")).to.deep.equal({ kind: "IngressClass", metadata: { name: "nginx" } });
        expect(await api.get("/apis/networking.k8s.io/v1/ingressclasses/edge")).to.equal(undefined);
        let error = "";
        await api.get("/apis/cert-manager.io/v1/clusterissuers/letsencrypt-prod").catch((e: Error) => { error = e.message; });
        expect(error).to.equal('GET /apis/cert-manager.io/v1/clusterissuers/letsencrypt-prod: HTTP 403 (clusterissuers.cert-manager.io "letsencrypt-prod" ' +
            'is forbidden: User "deployer" cannot get resource "clusterissuers")');
        expect(requests.slice(-3).map(r => r.authorization)).to.deep.equal([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`, `Bearer ${TOKEN}`]);
    });

    it("a wrong credential is an error (401), not a missing object", async () => {
        const api = kubeApiReader(resolveConnection({ kubeconfig: kubeconfig(url, { token: "wrong" }) }, {}, dir));
        let error = "";
        await api.get("/apis/networking.k8s.io/v1/ingressclasses/edge").catch((e: Error) => { error = e.message; });
        expect(error).to.equal("GET /apis/networking.k8s.io/v1/ingressclasses/edge: HTTP 401 (Unauthorized)");
    });

    it("$KUBECONFIG: the first file that has the context (kubernetes:context), a token file relative to it", async () => {
        const other = path.join(dir, "other.yaml");
        fs.writeFileSync(other, kubeconfig("http://127.0.0.1:9", { token: "other" }, "elsewhere"));
        fs.mkdirSync(path.join(dir, "kc"));
        fs.writeFileSync(path.join(dir, "kc", "token"), `${TOKEN}\n`);
        const mine = path.join(dir, "kc", "config.yaml");
        fs.writeFileSync(mine, kubeconfig(url, { tokenFile: "token" }, "prod"));
        const conn = resolveConnection({ context: "prod" }, { KUBECONFIG: [path.join(dir, "absent.yaml"), other, mine].join(path.delimiter) }, dir);
        expect(conn.server).to.equal(url);
        expect(conn.token).to.equal(TOKEN);
        expect(await kubeApiReader(conn).get("/apis/networking.k8s.io/v1/ingressclasses/nginx")).to.not.equal(undefined);
    });

    it("an exec credential plugin: its token is used", async () => {
        const plugin = path.join(dir, "credential-plugin.sh");
        fs.writeFileSync(plugin, `#!/bin/sh\nprintf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}' "$PLUGIN_TOKEN"\n`, { mode: 0o755 });
        const user = { exec: { apiVersion: "client.authentication.k8s.io/v1", command: plugin, env: [{ name: "PLUGIN_TOKEN", value: TOKEN }] } };
        const conn = resolveConnection({ kubeconfig: kubeconfig(url, user) }, {}, dir);
        expect(conn.token).to.equal(TOKEN);
        expect(await kubeApiReader(conn).get("/apis/networking.k8s.io/v1/ingressclasses/nginx")).to.not.equal(undefined);
    });

    it("says why it cannot connect: an unsupported credential, no kubeconfig and not in a cluster, an unknown context", () => {
        expect(() => resolveConnection({ kubeconfig: kubeconfig(url, { "auth-provider": { name: "oidc" } }) }, {}, dir))
            .to.throw("kubernetes:kubeconfig: user u1 authenticates with an auth-provider, which this check does not support");
        const home = path.join(dir, "home");
        expect(() => resolveConnection({}, {}, home)).to.throw(`no kubeconfig (${path.join(home, ".kube", "config")}) and not inside a cluster`);
        expect(() => resolveConnection({ kubeconfig: kubeconfig(url, { token: TOKEN }), context: "staging" }, {}, dir))
            .to.throw('kubernetes:kubeconfig has no context "staging"');
    });

    it("an API server that does not answer: an error naming it, after the timeout", async () => {
        const silent = http.createServer(() => undefined);
        await new Promise<void>(resolve => silent.listen(0, "127.0.0.1", resolve));
        const address = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
        let error = "";
        await kubeApiReader({ server: address, description: address, insecure: false }, 300).get("/apis/networking.k8s.io/v1/ingressclasses/nginx")
            .catch((e: Error) => { error = e.message; });
        silent.closeAllConnections();
        silent.close();
        expect(error).to.equal(`GET /apis/networking.k8s.io/v1/ingressclasses/nginx: no answer from ${address} within 300 ms`);
    });
});
