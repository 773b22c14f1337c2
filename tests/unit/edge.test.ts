import { expect } from "chai";
import * as crypto from "crypto";
import { CdnNginx, CdnNginxArgs, htpasswdSha1, IngressRoutes, IngressRoutesArgs, SecureIngress } from "../../components/edge";
import { NamespaceBaseline } from "../../components/k8s/namespace";
import { packViolations } from "./stack-resources";
import { containsSecret, mockPassword } from "./mocks";
import { byName, capture, isSecret, ofType, podSpec, T, valueOf, withEphemeral } from "./helpers";
import { STATELESS } from "../../components/k8s/profile";

const N = "nginx.ingress.kubernetes.io";

// ---------------------------------------------------------------------------------------------
// A small nginx.conf parser (tokens -> directive tree), independent of the component's renderer.

interface Node { name: string; args: string[]; block?: Node[] }

function tokenize(text: string): string[] {
    const tokens: string[] = [];
    let i = 0;
    while (i < text.length) {
        const c = text[i];
        if (/\s/.test(c)) { i++; continue; }
        if (c === "#") { while (i < text.length && text[i] !== "\n") i++; continue; }
        if (c === "{" || c === "}" || c === ";") { tokens.push(c); i++; continue; }
        if (c === "\"" || c === "'") {
            let s = ""; i++;
            while (i < text.length && text[i] !== c) {
                if (text[i] === "\\" && i + 1 < text.length) {
                    const n = text[i + 1];
                    s += n === "n" ? "\n" : n === "t" ? "\t" : ["\"", "'", "\\"].includes(n) ? n : `\\${n}`;
                    i += 2;
                } else { s += text[i++]; }
            }
            if (text[i] !== c) throw new Error("unterminated string");
            i++;
            tokens.push(`\u0000${s}`); // marks a quoted token
            continue;
        }
        let s = "";
        while (i < text.length && !/[\s{};]/.test(text[i])) s += text[i++];
        tokens.push(s);
    }
    return tokens;
}

function parseNginx(text: string): Node[] {
    const tokens = tokenize(text);
    let pos = 0;
    const word = (t: string) => t.startsWith("\u0000") ? t.substring(1) : t;
    function parseBlock(top: boolean): Node[] {
        const out: Node[] = [];
        for (;;) {
            if (pos >= tokens.length) {
                if (!top) throw new Error("missing }");
                return out;
            }
            if (tokens[pos] === "}") {
                if (top) throw new Error("unexpected }");
                pos++;
                return out;
            }
            const name = word(tokens[pos++]);
            const args: string[] = [];
            while (pos < tokens.length && tokens[pos] !== ";" && tokens[pos] !== "{") {
                if (tokens[pos] === "}") throw new Error(`directive ${name} not terminated`);
                args.push(word(tokens[pos++]));
            }
            if (pos >= tokens.length) throw new Error(`directive ${name} not terminated`);
            if (tokens[pos++] === "{") {
                out.push({ name, args, block: parseBlock(false) });
            } else {
                out.push({ name, args });
            }
        }
    }
    return parseBlock(true);
}

const all = (nodes: Node[], name: string) => nodes.filter(n => n.name === name);
function one(nodes: Node[], name: string, ...args: string[]): Node {
    const found = all(nodes, name).filter(n => args.every((a, i) => n.args[i] === a));
    if (found.length !== 1) throw new Error(`expected one ${name} ${args.join(" ")}, found ${found.length}`);
    return found[0];
}
const headers = (loc: Node) => Object.fromEntries(all(loc.block!, "add_header").map(h => [h.args[0], h.args.slice(1)]));

// ---------------------------------------------------------------------------------------------

const QUOTA = { requestsCpu: "4", requestsMemory: "8Gi", limitsCpu: "8", limitsMemory: "16Gi", requestsStorage: "100Gi", pods: 50, persistentVolumeClaims: 20 };
const LIMITS = { defaultRequest: { cpu: "100m", memory: "128Mi" }, default: { cpu: "500m", memory: "512Mi" }, max: { cpu: "4", memory: "8Gi" } };


const routesArgs = (over: Partial<IngressRoutesArgs> = {}): IngressRoutesArgs => ({
    domain: "cstore.example.com",
    clusterIssuer: "letsencrypt-prod",
    api: { namespace: "cstore", serviceName: "cstore-api", servicePort: 80 },
    cdn: { namespace: "cstore", serviceName: "cdn", servicePort: 80, corsAllowOrigins: ["https://shop.example.com"] },
    grafana: { namespace: "monitoring", serviceName: "grafana", servicePort: 3000 },
    ...over,
});

const cdnArgs = (over: Partial<CdnNginxArgs> = {}): CdnNginxArgs => ({
    namespace: "cstore", corsAllowOrigins: ["https://shop.example.com", "https://www.example.com"], storage: { storageClass: "nfs" }, ...over,
});

describe("IngressRoutes", () => {
    it("creates one nginx-class Ingress per cstore.md host with a cert-manager certificate each", async () => {
        const res = await capture(() => new IngressRoutes("edge-a", routesArgs()));
        const ingresses = ofType(res, T.ingress);
        expect(ingresses.map(i => i.inputs.spec.rules[0].host).sort())
            .to.deep.equal(["api.cstore.example.com", "cdn.cstore.example.com", "monitoring.cstore.example.com"]);
        for (const i of ingresses) {
            const host = i.inputs.spec.rules[0].host;
            expect(i.inputs.spec.ingressClassName).to.equal("nginx");
            expect(i.inputs.metadata.annotations["cert-manager.io/cluster-issuer"]).to.equal("letsencrypt-prod");
            expect(i.inputs.metadata.annotations[`${N}/force-ssl-redirect`]).to.equal("true");
            expect(i.inputs.spec.tls).to.deep.equal([{ hosts: [host], secretName: `${host.replace(/\./g, "-")}-tls` }]);
            expect(i.inputs.metadata.annotations).not.to.have.property("pulumi.com/skipAwait");
        }
    });

    it("routes each host to its Service; Grafana under /grafana of the monitoring host", async () => {
        const res = await capture(() => new IngressRoutes("edge-b", routesArgs()));
        const api = byName(res, T.ingress, "edge-b-api").inputs;
        expect(api.metadata.namespace).to.equal("cstore");
        expect(api.spec.rules[0].http.paths).to.deep.equal([{ path: "/", pathType: "Prefix", backend: { service: { name: "cstore-api", port: { number: 80 } } } }]);
        const g = byName(res, T.ingress, "edge-b-grafana").inputs;
        expect(g.metadata.namespace).to.equal("monitoring");
        expect(g.spec.rules[0].http.paths).to.deep.equal([{ path: "/grafana", pathType: "Prefix", backend: { service: { name: "grafana", port: { number: 3000 } } } }]);
    });

    it("rate-limits every host per client IP", async () => {
        const res = await capture(() => new IngressRoutes("edge-c", routesArgs({ api: { namespace: "cstore", serviceName: "cstore-api", servicePort: 80, rateLimit: { rps: 30, burstMultiplier: 3, connections: 40 } } })));
        const ann = (n: string) => byName(res, T.ingress, n).inputs.metadata.annotations;
        expect([ann("edge-c-api")[`${N}/limit-rps`], ann("edge-c-api")[`${N}/limit-burst-multiplier`], ann("edge-c-api")[`${N}/limit-connections`]])
            .to.deep.equal(["30", "3", "40"]);
        expect(ann("edge-c-cdn")[`${N}/limit-rps`]).to.equal("100");
        expect(ann("edge-c-grafana")[`${N}/limit-rps`]).to.equal("10");
    });

    it("enables CORS on the CDN host only, for the allowed origins", async () => {
        const res = await capture(() => new IngressRoutes("edge-d", routesArgs()));
        const cdn = byName(res, T.ingress, "edge-d-cdn").inputs.metadata.annotations;
        expect(cdn[`${N}/enable-cors`]).to.equal("true");
        expect(cdn[`${N}/cors-allow-origin`]).to.equal("https://shop.example.com");
        expect(cdn[`${N}/cors-allow-methods`]).to.equal("GET, HEAD, OPTIONS");
        expect(cdn[`${N}/cors-allow-credentials`]).to.equal("false");
        for (const other of ["edge-d-api", "edge-d-grafana"]) {
            expect(byName(res, T.ingress, other).inputs.metadata.annotations).not.to.have.property(`${N}/enable-cors`);
        }
    });

    it("puts Grafana behind basic auth with an htpasswd Secret from a generated password", async () => {
        const res = await capture(() => new IngressRoutes("edge-e", routesArgs()));
        const g = byName(res, T.ingress, "edge-e-grafana").inputs.metadata.annotations;
        expect(g[`${N}/auth-type`]).to.equal("basic");
        expect(g[`${N}/auth-secret`]).to.equal("edge-e-grafana-basic-auth");
        expect(g[`${N}/auth-realm`]).to.equal("Grafana");
        expect(ofType(res, T.password)[0].inputs.length).to.equal(32);
        const secret = byName(res, T.secret, "edge-e-grafana-basic-auth");
        expect(secret.inputs.metadata.namespace).to.equal("monitoring");
        const pw = mockPassword("edge-e-grafana-password");
        const expected = `admin:{SHA}${crypto.createHash("sha1").update(pw).digest("base64")}\n`;
        expect(secret.inputs.stringData.auth).to.equal(expected);
        expect(containsSecret(secret.raw.stringData)).to.equal(true);
        expect(JSON.stringify(ofType(res, T.ingress).map(i => i.inputs))).not.to.contain(pw);
        for (const n of ["edge-e-api", "edge-e-cdn"]) {
            expect(byName(res, T.ingress, n).inputs.metadata.annotations).not.to.have.property(`${N}/auth-type`);
        }
    });

    it("writes htpasswd lines in nginx's {SHA} format", () => {
        // The Apache documentation's example: "password" -> {SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=
        expect(htpasswdSha1("admin", "password")).to.equal("admin:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=");
    });

    it("outputs hosts, URLs, TLS secret names and the Grafana password as a secret", async () => {
        const r = new IngressRoutes("edge-f", routesArgs({ domain: "shop.test" }));
        expect(await valueOf(r.urls)).to.deep.equal({
            api: "https://api.shop.test/", cdn: "https://cdn.shop.test/", grafana: "https://monitoring.shop.test/grafana",
        });
        expect((await valueOf(r.tlsSecretNames)).cdn).to.equal("cdn-shop-test-tls");
        expect(await valueOf(r.grafanaUsername)).to.equal("admin");
        expect(await isSecret(r.grafanaPassword)).to.equal(true);
        expect(await valueOf(r.grafanaPassword)).to.equal(mockPassword("edge-f-grafana-password"));
    });

    it("adds pulumi.com/skipAwait only when asked to", async () => {
        const res = await capture(() => new IngressRoutes("edge-g", routesArgs({ skipAwait: true })));
        for (const i of ofType(res, T.ingress)) {
            expect(i.inputs.metadata.annotations["pulumi.com/skipAwait"]).to.equal("true");
        }
    });

    it("takes host names from args", async () => {
        const res = await capture(() => new IngressRoutes("edge-h", routesArgs({
            api: { namespace: "cstore", serviceName: "cstore-api", servicePort: 80, host: "shop-api.example.org" },
            cdn: undefined, grafana: undefined,
        })));
        expect(ofType(res, T.ingress).map(i => i.inputs.spec.rules[0].host)).to.deep.equal(["shop-api.example.org"]);
    });

    describe("refuses bad input before registering anything", () => {
        const cases: [string, Partial<IngressRoutesArgs>, string][] = [
            ["a bad domain", { domain: "Not A Domain" }, "IngressRoutes(bad).domain: \"Not A Domain\" is not allowed; allowed: a lowercase DNS host name"],
            ["an origin with a path", { cdn: { namespace: "cstore", serviceName: "cdn", servicePort: 80, corsAllowOrigins: ["https://shop.example.com/app"] } },
                "IngressRoutes(bad).cdn.corsAllowOrigins[0]: \"https://shop.example.com/app\" is not allowed"],
            ["a zero rate", { rateLimit: { rps: 0 } }, "IngressRoutes(bad).rateLimit.rps: 0 is not allowed; allowed: an integer from 1 to 100000"],
            ["a grafana path with a trailing slash", { grafana: { namespace: "monitoring", serviceName: "grafana", servicePort: 3000, path: "/grafana/" } },
                "IngressRoutes(bad).grafana.path: \"/grafana/\" is not allowed"],
            ["no route", { api: undefined, cdn: undefined, grafana: undefined }, "IngressRoutes(bad): no route; allowed: at least one of api, cdn, grpc, grafana"],
        ];
        for (const [what, over, message] of cases) {
            it(what, async () => {
                const res = await capture(() => {
                    expect(() => new IngressRoutes("bad", routesArgs(over))).to.throw(message);
                });
                expect(res).to.have.length(0);
            });
        }

        it("a bad service port on a single SecureIngress", async () => {
            const res = await capture(() => {
                expect(() => new SecureIngress("bad-one", {
                    namespace: "x", host: "a.example.com", clusterIssuer: "ca", backends: [{ path: "/", serviceName: "s", servicePort: 70000 }],
                })).to.throw("SecureIngress(bad-one).backends[0].servicePort: 70000 is not allowed; allowed: an integer from 1 to 65535");
            });
            expect(res).to.have.length(0);
        });
    });
});

describe("CdnNginx", () => {
    it("runs 2 unprivileged nginx replicas with the design's resources on port 8080", async () => {
        const res = await capture(() => new CdnNginx("cdn-a", cdnArgs()));
        const dep = byName(res, T.deployment, "cdn-a").inputs;
        expect(dep.spec.replicas).to.equal(2);
        const pod = podSpec(ofType(res, T.deployment)[0]);
        const c = pod.containers[0];
        expect(c.image).to.match(/^nginxinc\/nginx-unprivileged:1\.27\.\d+/);
        expect(c.resources).to.deep.equal(withEphemeral({ requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "300m", memory: "256Mi" } }, STATELESS));
        expect(c.ports).to.deep.equal([{ name: "http", containerPort: 8080, protocol: "TCP" }]);
        expect(c.securityContext.readOnlyRootFilesystem).to.equal(true);
        // The unprivileged image runs under any UID: the platform's default high one.
        expect(pod.securityContext).to.include({ runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001 });
        expect(c.readinessProbe.httpGet).to.deep.equal({ path: "/healthz", port: 8080 });
        expect(c.livenessProbe.tcpSocket).to.deep.equal({ port: 8080 });
        expect(byName(res, T.service, "cdn-a").inputs.spec.ports).to.deep.equal([{ name: "http", port: 80, targetPort: 8080, protocol: "TCP" }]);
        expect(byName(res, T.pdb, "cdn-a").inputs.spec.minAvailable).to.equal(1);
    });

    it("serves the static-assets claim: ReadWriteMany 10Gi, mounted read-only", async () => {
        const res = await capture(() => new CdnNginx("cdn-b", cdnArgs()));
        const pvc = byName(res, T.pvc, "cdn-b-static-assets").inputs.spec;
        expect(pvc).to.deep.equal({ accessModes: ["ReadWriteMany"], storageClassName: "nfs", resources: { requests: { storage: "10Gi" } } });
        const pod = podSpec(ofType(res, T.deployment)[0]);
        expect(pod.volumes.find((v: { name: string }) => v.name === "static-assets").persistentVolumeClaim).to.deep.equal({ claimName: "cdn-b-static-assets", readOnly: true });
        const mount = pod.containers[0].volumeMounts.find((m: { name: string }) => m.name === "static-assets");
        expect(mount).to.deep.equal({ name: "static-assets", mountPath: "/usr/share/nginx/html", readOnly: true });
    });

    it("mounts nginx.conf from a ConfigMap and rolls pods when it changes", async () => {
        const res = await capture(() => new CdnNginx("cdn-c", cdnArgs()));
        const conf = byName(res, T.configMap, "cdn-c-config").inputs.data["nginx.conf"];
        const pod = podSpec(ofType(res, T.deployment)[0]);
        expect(pod.containers[0].volumeMounts[0]).to.deep.equal({ name: "nginx-conf", mountPath: "/etc/nginx/nginx.conf", subPath: "nginx.conf", readOnly: true });
        const ann = ofType(res, T.deployment)[0].inputs.spec.template.metadata.annotations;
        expect(ann["platform.io/config-sha256"]).to.equal(crypto.createHash("sha256").update(conf).digest("hex"));
    });

    describe("generated nginx.conf (parsed)", () => {
        let conf: Node[];
        let http: Node;
        let server: Node;
        before(async () => {
            const res = await capture(() => new CdnNginx("cdn-conf", cdnArgs()));
            conf = parseNginx(byName(res, T.configMap, "cdn-conf-config").inputs.data["nginx.conf"]);
            http = one(conf, "http");
            server = one(http.block!, "server");
        });

        it("runs unprivileged: pid and every temp path under /tmp, listening on 8080", () => {
            expect(one(conf, "pid").args).to.deep.equal(["/tmp/nginx.pid"]);
            for (const t of ["client_body_temp_path", "proxy_temp_path", "fastcgi_temp_path", "uwsgi_temp_path", "scgi_temp_path"]) {
                expect(one(http.block!, t).args[0]).to.match(/^\/tmp\//);
            }
            expect(one(server.block!, "listen").args).to.deep.equal(["8080"]);
            expect(one(server.block!, "root").args).to.deep.equal(["/usr/share/nginx/html"]);
            expect(all(conf, "daemon")).to.have.length(0); // given on the command line
        });

        it("compresses text assets with gzip", () => {
            expect(one(http.block!, "gzip").args).to.deep.equal(["on"]);
            expect(one(http.block!, "gzip_vary").args).to.deep.equal(["on"]);
            const types = one(http.block!, "gzip_types").args;
            expect(types).to.include.members(["text/css", "application/javascript", "application/json", "image/svg+xml"]);
            expect(types).not.to.include("text/html"); // always compressed; listing it makes nginx warn
        });

        it("caches fingerprinted assets for a year as immutable", () => {
            const loc = all(server.block!, "location").find(l => l.args[0] === "~*")!;
            const re = new RegExp(loc.args[1], "i");
            expect(re.test("/assets/app.3f9a1c2e.js")).to.equal(true);
            expect(re.test("/assets/app.3f9a1c2ed41b.CSS")).to.equal(true);
            expect(re.test("/assets/app.js")).to.equal(false);
            expect(re.test("/index.html")).to.equal(false);
            expect(headers(loc)["Cache-Control"]).to.deep.equal(["public, max-age=31536000, immutable", "always"]);
        });

        it("sends CDN-friendly cache headers for everything else", () => {
            const loc = one(server.block!, "location", "/");
            expect(headers(loc)["Cache-Control"]).to.deep.equal(["public, max-age=3600, s-maxage=86400, stale-while-revalidate=60", "always"]);
            expect(one(loc.block!, "try_files").args).to.deep.equal(["$uri", "$uri/", "=404"]);
        });

        it("answers CORS for the allowed origins only, preflights included", () => {
            const map = one(http.block!, "map");
            expect(map.args).to.deep.equal(["$http_origin", "$cors_allow_origin"]);
            expect(Object.fromEntries(map.block!.map(e => [e.name, e.args[0]]))).to.deep.equal({
                default: "", "https://shop.example.com": "$http_origin", "https://www.example.com": "$http_origin",
            });
            for (const loc of all(server.block!, "location").filter(l => l.args[0] !== "=")) {
                const h = headers(loc);
                expect(h["Access-Control-Allow-Origin"]).to.deep.equal(["$cors_allow_origin", "always"]);
                expect(h["Access-Control-Allow-Methods"]).to.deep.equal(["GET, HEAD, OPTIONS", "always"]);
                expect(h.Vary).to.deep.equal(["Origin", "always"]);
                const pre = one(loc.block!, "if");
                expect(pre.args).to.deep.equal(["($request_method", "=", "OPTIONS)"]);
                expect(one(pre.block!, "return").args).to.deep.equal(["204"]);
            }
        });

        it("has a health endpoint for the probes", () => {
            const loc = one(server.block!, "location", "=", "/healthz");
            expect(one(loc.block!, "return").args).to.deep.equal(["200", "ok\n"]);
        });
    });

    it("uses a wildcard origin without a map when CORS is open", async () => {
        const res = await capture(() => new CdnNginx("cdn-open", cdnArgs({ corsAllowOrigins: ["*"] })));
        const http = one(parseNginx(byName(res, T.configMap, "cdn-open-config").inputs.data["nginx.conf"]), "http");
        expect(all(http.block!, "map")).to.have.length(0);
        const loc = one(one(http.block!, "server").block!, "location", "/");
        expect(headers(loc)["Access-Control-Allow-Origin"]).to.deep.equal(["*", "always"]);
    });

    it("lets in only the ingress controller on 8080 and allows no egress", async () => {
        const res = await capture(() => new CdnNginx("cdn-d", cdnArgs({ ingressNamespace: "edge-system" })));
        const np = byName(res, T.netpol, "cdn-d").inputs.spec;
        expect(np.ingress).to.deep.equal([{
            from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "edge-system" } }, podSelector: {} }],
            ports: [{ port: 8080, protocol: "TCP" }],
        }]);
        expect(np.egress).to.deep.equal([]);
        expect(np.policyTypes).to.deep.equal(["Ingress", "Egress"]);
    });

    it("labels its pods as the cstore CDN for the traffic plan", async () => {
        const res = await capture(() => new CdnNginx("cdn-e", cdnArgs()));
        const labels = ofType(res, T.deployment)[0].inputs.spec.template.metadata.labels;
        expect(labels["app.kubernetes.io/name"]).to.equal("nginx-cdn");
        expect(labels["app.kubernetes.io/component"]).to.equal("cdn");
        expect(labels["app.kubernetes.io/part-of"]).to.equal("cstore");
    });

    it("refuses an unpinned image and an origin list mixing * with names, registering nothing", async () => {
        const res = await capture(() => {
            expect(() => new CdnNginx("cdn-bad", cdnArgs({ image: "nginx:latest" }))).to.throw("CdnNginx(cdn-bad).image: \"nginx:latest\" is not pinned");
            expect(() => new CdnNginx("cdn-bad", cdnArgs({ corsAllowOrigins: ["*", "https://a.example.com"] })))
                .to.throw("CdnNginx(cdn-bad).corsAllowOrigins: \"*\" together with named origins is not allowed");
            expect(() => new CdnNginx("cdn-bad", cdnArgs({ replicas: 0 }))).to.throw("CdnNginx(cdn-bad).replicas: 0 is not allowed; allowed: an integer from 1 to 20");
        });
        expect(res).to.have.length(0);
    });
});

describe("edge resources and the policy pack", () => {
    it("pass the prod pack with zero violations", async () => {
        const res = await capture(() => {
            new NamespaceBaseline("ns-cstore", { name: "cstore", quota: QUOTA, limits: LIMITS });
            new NamespaceBaseline("ns-monitoring", { name: "monitoring", quota: QUOTA, limits: LIMITS });
            const cdn = new CdnNginx("cdn", cdnArgs());
            new IngressRoutes("edge", routesArgs({ cdn: { namespace: "cstore", serviceName: cdn.serviceName, servicePort: 80, corsAllowOrigins: ["https://shop.example.com"] } }));
        });
        expect(await packViolations(res)).to.deep.equal([]);
    });
});
