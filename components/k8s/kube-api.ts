/**
 * A read-only Kubernetes API client for the start-of-run prerequisite check: GETs of cluster-scoped
 * objects (an IngressClass, a cert-manager ClusterIssuer), which Helm's template mode cannot look
 * up and a Pulumi `.get` read reports only as the engine's "resource does not exist".
 *
 * It connects as the stack's kubernetes provider does (the default provider: this stack's
 * kubernetes:* config): `kubernetes:kubeconfig` (a path or the file's contents), else $KUBECONFIG
 * (the first file of the list that has the context), else ~/.kube/config, else the in-cluster
 * ServiceAccount (a runner inside the cluster, e.g. the Pulumi Kubernetes Operator); the context is
 * `kubernetes:context` or the file's current-context, the cluster `kubernetes:cluster` or the
 * context's. Credentials: client certificate and key (files or data), bearer token (or token file),
 * exec plugins (client.authentication.k8s.io ExecCredential: token or client certificate). Anything
 * else (auth-provider, username/password) is reported as not checkable, never guessed.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";

/** What the check needs of the API: a GET that tells "there" from "not there". */
export interface KubeApiReader {
    /** Where it connects (for messages), e.g. "https://10.0.0.1:6443 (context prod)". */
    readonly target: string;
    /** The object at `apiPath` (parsed JSON), or undefined when the API server answers 404. Throws on anything else. */
    get(apiPath: string): Promise<unknown>;
}

interface NamedEntry<T> { name: string; cluster?: T; context?: T; user?: T }
interface KubeconfigCluster {
    server?: string;
    "certificate-authority"?: string;
    "certificate-authority-data"?: string;
    "insecure-skip-tls-verify"?: boolean;
    "tls-server-name"?: string;
}
interface KubeconfigContext { cluster?: string; user?: string }
interface KubeconfigExec { command?: string; args?: string[]; env?: { name: string; value: string }[]; apiVersion?: string }
interface KubeconfigUser {
    "client-certificate"?: string;
    "client-certificate-data"?: string;
    "client-key"?: string;
    "client-key-data"?: string;
    token?: string;
    tokenFile?: string;
    exec?: KubeconfigExec;
    "auth-provider"?: unknown;
    username?: string;
}
interface Kubeconfig {
    "current-context"?: string;
    clusters?: NamedEntry<KubeconfigCluster>[];
    contexts?: NamedEntry<KubeconfigContext>[];
    users?: NamedEntry<KubeconfigUser>[];
}

/** The resolved connection: server, TLS material and the Authorization header. */
export interface KubeConnection {
    server: string;
    description: string;
    ca?: Buffer;
    cert?: Buffer;
    key?: Buffer;
    token?: string;
    insecure: boolean;
    serverName?: string;
}

const IN_CLUSTER_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** The provider's connection settings: kubernetes:kubeconfig / context / cluster (this stack's config). */
export interface ProviderSettings {
    kubeconfig?: string;
    context?: string;
    cluster?: string;
}

export function providerSettings(): ProviderSettings {
    const c = new pulumi.Config("kubernetes");
    return { kubeconfig: c.get("kubeconfig"), context: c.get("context"), cluster: c.get("cluster") };
}

/** A kubeconfig value that names a file is resolved against the kubeconfig's directory. */
function fileOrData(dir: string, file: string | undefined, data: string | undefined): Buffer | undefined {
    if (data) {
        return Buffer.from(data, "base64");
    }
    return file ? fs.readFileSync(path.isAbsolute(file) ? file : path.join(dir, file)) : undefined;
}

function parseKubeconfig(text: string, where: string): Kubeconfig {
    const doc = yaml.load(text) as Kubeconfig | undefined;
    if (!doc || typeof doc !== "object") {
        throw new Error(`${where} is not a kubeconfig`);
    }
    return doc;
}

/** Runs an exec credential plugin (as kubectl does) and returns its token or client certificate. */
function execCredential(exec: KubeconfigExec, server: string): { token?: string; cert?: Buffer; key?: Buffer } {
    if (!exec.command) {
        throw new Error("the user's exec plugin names no command");
    }
    const apiVersion = exec.apiVersion ?? "client.authentication.k8s.io/v1";
    const env: NodeJS.ProcessEnv = {
        ...process.env,
        ...Object.fromEntries((exec.env ?? []).map(e => [e.name, e.value])),
        KUBERNETES_EXEC_INFO: JSON.stringify({ apiVersion, kind: "ExecCredential", spec: { interactive: false, cluster: { server } } }),
    };
    const out = execFileSync(exec.command, exec.args ?? [], { env, encoding: "utf8", timeout: 60000, stdio: ["ignore", "pipe", "pipe"] });
    const status = (JSON.parse(out) as { status?: { token?: string; clientCertificateData?: string; clientKeyData?: string } }).status ?? {};
    if (status.token) {
        return { token: status.token };
    }
    if (status.clientCertificateData && status.clientKeyData) {
        return { cert: Buffer.from(status.clientCertificateData), key: Buffer.from(status.clientKeyData) };
    }
    throw new Error(`the exec plugin ${exec.command} returned neither a token nor a client certificate`);
}

/** The connection of one kubeconfig (its text, the directory relative paths are resolved against). */
export function connectionFromKubeconfig(text: string, dir: string, settings: ProviderSettings, where: string): KubeConnection | undefined {
    const kc = parseKubeconfig(text, where);
    const contextName = settings.context ?? kc["current-context"];
    const context = kc.contexts?.find(c => c.name === contextName)?.context;
    if (!context) {
        return undefined;
    }
    const clusterName = settings.cluster ?? context.cluster;
    const cluster = kc.clusters?.find(c => c.name === clusterName)?.cluster;
    if (!cluster?.server) {
        throw new Error(`${where}: context ${contextName} names cluster ${JSON.stringify(clusterName)}, which has no server`);
    }
    const user = kc.users?.find(u => u.name === context.user)?.user ?? {};
    const conn: KubeConnection = {
        server: cluster.server.replace(/\/+$/, ""),
        description: `${cluster.server} (context ${contextName})`,
        ca: fileOrData(dir, cluster["certificate-authority"], cluster["certificate-authority-data"]),
        insecure: cluster["insecure-skip-tls-verify"] === true,
        serverName: cluster["tls-server-name"],
    };
    if (user["client-certificate"] || user["client-certificate-data"]) {
        conn.cert = fileOrData(dir, user["client-certificate"], user["client-certificate-data"]);
        conn.key = fileOrData(dir, user["client-key"], user["client-key-data"]);
    } else if (user.token || user.tokenFile) {
        conn.token = user.token ?? fs.readFileSync(path.isAbsolute(user.tokenFile!) ? user.tokenFile! : path.join(dir, user.tokenFile!), "utf8").trim();
    } else if (user.exec) {
        Object.assign(conn, execCredential(user.exec, conn.server));
    } else if (user["auth-provider"] || user.username) {
        throw new Error(`${where}: user ${context.user} authenticates with ${user["auth-provider"] ? "an auth-provider" : "a username and password"}, which this check does not support`);
    }
    return conn;
}

/** Where the provider would connect: its kubeconfig setting, $KUBECONFIG, ~/.kube/config, or in-cluster. */
export function resolveConnection(settings: ProviderSettings, env: NodeJS.ProcessEnv = process.env, home: string = os.homedir()): KubeConnection {
    if (settings.kubeconfig) {
        const isFile = !settings.kubeconfig.includes("\n") && fs.existsSync(settings.kubeconfig);
        const text = isFile ? fs.readFileSync(settings.kubeconfig, "utf8") : settings.kubeconfig;
        const dir = isFile ? path.dirname(path.resolve(settings.kubeconfig)) : process.cwd();
        const conn = connectionFromKubeconfig(text, dir, settings, "kubernetes:kubeconfig");
        if (!conn) {
            throw new Error(`kubernetes:kubeconfig has no context ${JSON.stringify(settings.context ?? "(current-context)")}`);
        }
        return conn;
    }
    const files = env.KUBECONFIG ? env.KUBECONFIG.split(path.delimiter).filter(f => f) : [path.join(home, ".kube", "config")];
    for (const file of files.filter(f => fs.existsSync(f))) {
        const conn = connectionFromKubeconfig(fs.readFileSync(file, "utf8"), path.dirname(path.resolve(file)), settings, file);
        if (conn) {
            return conn;
        }
    }
    if (env.KUBERNETES_SERVICE_HOST && fs.existsSync(path.join(IN_CLUSTER_DIR, "token"))) {
        const host = env.KUBERNETES_SERVICE_HOST.includes(":") ? `[${env.KUBERNETES_SERVICE_HOST}]` : env.KUBERNETES_SERVICE_HOST;
        return {
            server: `https://${host}:${env.KUBERNETES_SERVICE_PORT ?? "443"}`,
            description: "the in-cluster API server (ServiceAccount)",
            token: fs.readFileSync(path.join(IN_CLUSTER_DIR, "token"), "utf8").trim(),
            ca: fs.readFileSync(path.join(IN_CLUSTER_DIR, "ca.crt")),
            insecure: false,
        };
    }
    throw new Error(`no kubeconfig (${files.join(", ")}) and not inside a cluster`);
}

/** A reader over one connection: plain GETs with a 15 s timeout. */
export function kubeApiReader(conn: KubeConnection, timeoutMs = 15000): KubeApiReader {
    const url = new URL(conn.server);
    const client = url.protocol === "https:" ? https : http;
    return {
        target: conn.description,
        get(apiPath: string): Promise<unknown> {
            return new Promise((resolve, reject) => {
                const req = client.request(new URL(`${url.pathname.replace(/\/$/, "")}${apiPath}`, url), {
                    method: "GET",
                    headers: { Accept: "application/json", ...(conn.token ? { Authorization: `Bearer ${conn.token}` } : {}) },
                    ca: conn.ca, cert: conn.cert, key: conn.key, rejectUnauthorized: !conn.insecure, servername: conn.serverName,
                    timeout: timeoutMs,
                }, res => {
                    let body = "";
                    res.setEncoding("utf8");
                    res.on("data", d => { body += d; });
                    res.on("end", () => {
                        if (res.statusCode === 404) {
                            resolve(undefined);
                        } else if (res.statusCode === 200) {
                            try {
                                resolve(JSON.parse(body));
                            } catch (e) {
                                reject(new Error(`GET ${apiPath}: the answer is not JSON (${(e as Error).message})`));
                            }
                        } else {
                            const message = (() => { try { return (JSON.parse(body) as { message?: string }).message; } catch { return undefined; } })();
                            reject(new Error(`GET ${apiPath}: HTTP ${res.statusCode}${message ? ` (${message})` : ""}`));
                        }
                    });
                });
                req.on("timeout", () => req.destroy(new Error(`GET ${apiPath}: no answer from ${conn.server} within ${timeoutMs} ms`)));
                req.on("error", reject);
                req.end();
            });
        },
    };
}

/** The reader the check uses: connected as the stack's kubernetes provider. */
export function providerKubeApiReader(): KubeApiReader {
    return kubeApiReader(resolveConnection(providerSettings()));
}
