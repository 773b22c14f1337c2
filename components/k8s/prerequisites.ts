/**
 * Cluster prerequisites: what a stack needs installed before its resources can work (cert-manager's
 * CRDs for TLS, Istio's for the mesh, metrics-server for HPAs). Checked once at the start of every
 * `pulumi preview` / `pulumi up`, before any resource registers: a missing one fails the program with
 * ONE message naming each missing piece, the config keys that need it and how to install it, instead
 * of custom resources failing ("no matches for kind") and Ingresses timing out one by one.
 *
 * How the program sees the cluster: the kubernetes provider's `kubernetes:helm:template` invoke
 * renders a tiny local chart (./preflight) with Helm's .Capabilities filled from the cluster's API
 * discovery (the provider's own connection: kubernetes:kubeconfig/context). The rendered ConfigMap
 * carries every group/version and group/version/kind the cluster serves. Without a reachable cluster
 * (render mode, an offline preview) Helm falls back to its built-in group/versions only, without
 * kinds: the check then cannot tell and is skipped with a warning.
 *
 * Objects rather than APIs (the IngressClass the stack's Ingresses name, the cert-manager
 * ClusterIssuers they reference) are read from the API server by a plain GET over the provider's
 * own connection (./kube-api.ts): Helm's `lookup` is off in template mode, and a Pulumi `.get` read
 * of a missing object fails the whole run with only the engine's "resource does not exist". A
 * missing object joins the same one error; an object that cannot be read (no credentials, RBAC) is
 * a warning, never a guess.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { KubeApiReader, providerKubeApiReader } from "./kube-api";
import { ValidationError } from "./validation";

export const PREREQUISITE_NAMES = ["cert-manager", "istio", "metrics-server", "ingress-class"] as const;
export type PrerequisiteName = typeof PREREQUISITE_NAMES[number];

export interface Prerequisite {
    name: PrerequisiteName;
    /** group/version/Kind (or group/version) entries the cluster's discovery must list. */
    apis: string[];
    /** How to install it. */
    install: string;
    /** false: only a warning (the stack still works, degraded). */
    required: boolean;
}

export interface PrerequisiteNeed {
    prerequisite: Prerequisite;
    /** Config keys (as the user writes them) that make the stack need it. */
    neededBy: string[];
}

export const CERT_MANAGER: Prerequisite = {
    name: "cert-manager",
    apis: ["cert-manager.io/v1/Certificate", "cert-manager.io/v1/ClusterIssuer", "cert-manager.io/v1/Issuer"],
    install: "install cert-manager with its CRDs (helm install cert-manager jetstack/cert-manager -n cert-manager --create-namespace " +
        "--set crds.enabled=true) and create the ClusterIssuers the stack names",
    required: true,
};

export function istioPrerequisite(apiVersion: string): Prerequisite {
    return {
        name: "istio",
        // EnvoyFilter (the gateway routes' rate limits and basic auth) exists in v1alpha3 only.
        apis: [`security.istio.io/${apiVersion}/PeerAuthentication`, `networking.istio.io/${apiVersion}/Gateway`, `networking.istio.io/${apiVersion}/VirtualService`,
            "networking.istio.io/v1alpha3/EnvoyFilter"],
        install: "install Istio with its CRDs and the CNI plugin (istioctl install --set profile=default --set components.cni.enabled=true, " +
            "or the istio/base, istio/istiod, istio/cni and istio/gateway Helm charts)",
        required: true,
    };
}

export const METRICS_SERVER: Prerequisite = {
    name: "metrics-server",
    apis: ["metrics.k8s.io/v1beta1"],
    install: "install metrics-server (kubectl apply -f https://github.com/kubernetes-sigs/metrics-server/releases/latest/download/components.yaml); " +
        "without it the HorizontalPodAutoscalers keep every workload at its minimum",
    required: false,
};

export interface ClusterCapabilities {
    /** False when the provider had no cluster to ask (render mode, an offline preview). */
    reachable: boolean;
    kubeVersion?: string;
    apiVersions: string[];
}

/** The entries of a prerequisite the cluster does not serve. */
export function missingApis(p: Prerequisite, caps: ClusterCapabilities): string[] {
    const served = new Set(caps.apiVersions);
    return p.apis.filter(a => !served.has(a));
}

/**
 * The one error for everything missing (undefined when nothing required is missing), and the
 * warnings for what is missing but optional. `objectLines`: the missing objects (missingObjects).
 */
export function prerequisiteReport(needs: PrerequisiteNeed[], caps: ClusterCapabilities, skipKey: string, objectLines: string[] = []):
    { error?: ValidationError; warnings: string[] } {
    const lines: string[] = [];
    const warnings: string[] = [];
    for (const n of needs) {
        const missing = missingApis(n.prerequisite, caps);
        if (missing.length === 0) {
            continue;
        }
        const line = `${n.prerequisite.name} (the cluster serves no ${missing.join(", ")}; needed by ${n.neededBy.join(", ")}): ${n.prerequisite.install}`;
        if (n.prerequisite.required) {
            lines.push(line);
        } else {
            warnings.push(`missing prerequisite ${line}`);
        }
    }
    lines.push(...objectLines);
    if (lines.length === 0) {
        return { warnings };
    }
    return {
        warnings,
        error: new ValidationError(skipKey,
            `the cluster lacks ${lines.length === 1 ? "a prerequisite" : `${lines.length} prerequisites`} of this stack, nothing was changed:\n` +
            `${lines.map(l => `  - ${l}`).join("\n")}\n` +
            `allowed: install or create ${lines.length === 1 ? "it" : "them"} first (README: Prerequisites), or list the name in ${skipKey} ` +
            `where the stack deliberately runs without it (${PREREQUISITE_NAMES.join(", ")})`),
    };
}

/** The chart whose rendering reports the cluster's API discovery. */
export const PREFLIGHT_CHART = path.join(__dirname, "preflight");

interface RenderedObject { kind?: string; metadata?: { name?: string }; data?: Record<string, string> }

/** Parses the rendered preflight chart. Reachable = discovery listed kinds ("v1/Namespace"), not only Helm's defaults. */
export function capabilitiesFrom(objects: RenderedObject[]): ClusterCapabilities {
    const cm = objects.find(o => o.kind === "ConfigMap" && o.metadata?.name === "cluster-capabilities");
    if (!cm?.data?.apiVersions) {
        throw new Error("preflight: the rendered chart has no cluster-capabilities ConfigMap");
    }
    const apiVersions = JSON.parse(cm.data.apiVersions) as string[];
    return { reachable: apiVersions.includes("v1/Namespace"), kubeVersion: cm.data.kubeVersion, apiVersions };
}

/** Asks the stack's kubernetes provider (the default one: the stack's kubernetes:* config) what the cluster serves. */
export async function clusterCapabilities(): Promise<ClusterCapabilities> {
    const jsonOpts = JSON.stringify({ path: PREFLIGHT_CHART, namespace: "default", release_name: "k8s-platform-preflight" });
    const r = await pulumi.runtime.invoke("kubernetes:helm:template", { jsonOpts }) as { result?: RenderedObject[] };
    return capabilitiesFrom(r.result ?? []);
}

// ---------------------------------------------------------------------------------------------
// Objects: the IngressClass and ClusterIssuers the stack's Ingresses name

export const OBJECT_KINDS = ["IngressClass", "ClusterIssuer"] as const;
export type ObjectKind = typeof OBJECT_KINDS[number];

export interface ObjectNeed {
    kind: ObjectKind;
    /** The object's name; undefined for an IngressClass: Ingresses without ingressClassName, served by the cluster's default class. */
    name?: string;
    /** Config keys (as the user writes them) that name it. */
    neededBy: string[];
}

/** The skipPrerequisites name that leaves an object out: ClusterIssuers go with cert-manager. */
export const OBJECT_PREREQUISITE: Record<ObjectKind, PrerequisiteName> = { IngressClass: "ingress-class", ClusterIssuer: "cert-manager" };
/** The API an object is served by: not read when the cluster does not serve it (the API line says so already). */
const OBJECT_API: Record<ObjectKind, { gvk: string; path: string }> = {
    IngressClass: { gvk: "networking.k8s.io/v1/IngressClass", path: "/apis/networking.k8s.io/v1/ingressclasses" },
    ClusterIssuer: { gvk: "cert-manager.io/v1/ClusterIssuer", path: "/apis/cert-manager.io/v1/clusterissuers" },
};
export const DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class";

interface ApiObject { metadata?: { name?: string; annotations?: Record<string, string> }; status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] } }

function objectLine(n: ObjectNeed, ingressNamespace: string): string {
    const by = `needed by ${n.neededBy.join(", ")}`;
    if (n.kind === "ClusterIssuer") {
        return `ClusterIssuer "${n.name}" (the cluster has no cert-manager ClusterIssuer of that name; ${by}): create it (a cert-manager.io/v1 ` +
            `ClusterIssuer named ${n.name}, e.g. ACME with an HTTP-01 solver through the ingress class; kubectl get clusterissuers lists those ` +
            "there are), or set those keys to an issuer the cluster has";
    }
    const install = `install the ingress controller (helm install ingress-nginx ingress-nginx/ingress-nginx -n ${ingressNamespace} --create-namespace: ` +
        "it creates IngressClass nginx)";
    if (n.name === undefined) {
        return `a default IngressClass (the cluster has no IngressClass annotated ${DEFAULT_CLASS_ANNOTATION}=true, and Ingresses without ` +
            `ingressClassName are served by none; ${by}): ${install} and mark its class default (kubectl annotate ingressclass nginx ` +
            `${DEFAULT_CLASS_ANNOTATION}=true), or set those keys to a class the cluster has`;
    }
    return `IngressClass "${n.name}" (the cluster has no IngressClass of that name; ${by}): ${install}, or set those keys to a class the ` +
        "cluster has (kubectl get ingressclass)";
}

/**
 * Reads each needed object: the lines of those missing (for the one error) and warnings for those
 * that could not be read, or exist but are not Ready (a ClusterIssuer).
 */
export async function missingObjects(objects: ObjectNeed[], caps: ClusterCapabilities, reader: () => KubeApiReader, ingressNamespace: string):
    Promise<{ lines: string[]; warnings: string[] }> {
    const lines: string[] = [];
    const warnings: string[] = [];
    const served = new Set(caps.apiVersions);
    const wanted = objects.filter(o => served.has(OBJECT_API[o.kind].gvk));
    if (wanted.length === 0) {
        return { lines, warnings };
    }
    let api: KubeApiReader;
    try {
        api = reader();
    } catch (e) {
        warnings.push(`prerequisite objects not checked (${wanted.map(describe).join(", ")} assumed to exist): ${(e as Error).message}`);
        return { lines, warnings };
    }
    for (const o of wanted) {
        try {
            if (o.kind === "IngressClass" && o.name === undefined) {
                const list = await api.get(OBJECT_API.IngressClass.path) as { items?: ApiObject[] } | undefined;
                if (!(list?.items ?? []).some(c => c.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] === "true")) {
                    lines.push(objectLine(o, ingressNamespace));
                }
                continue;
            }
            const obj = await api.get(`${OBJECT_API[o.kind].path}/${encodeURIComponent(o.name!)}`) as ApiObject | undefined;
            if (obj === undefined) {
                lines.push(objectLine(o, ingressNamespace));
            } else if (o.kind === "ClusterIssuer") {
                const ready = obj.status?.conditions?.find(c => c.type === "Ready");
                if (ready?.status !== "True") {
                    warnings.push(`ClusterIssuer "${o.name}" exists but is not Ready (${ready ? `${ready.reason ?? ready.status}: ${ready.message ?? ""}` : "no Ready condition"}); ` +
                        `certificates for ${o.neededBy.join(", ")} will not be issued until it is`);
                }
            }
        } catch (e) {
            warnings.push(`${describe(o)} not checked on ${api.target}: ${(e as Error).message}`);
        }
    }
    return { lines, warnings };
}

function describe(o: ObjectNeed): string {
    return o.name === undefined ? `the default ${o.kind}` : `${o.kind} "${o.name}"`;
}

/** How the check reaches the cluster: replaced at the boundary by the unit tests' mock cluster. */
export const clusterAccess: { capabilities: () => Promise<ClusterCapabilities>; reader: () => KubeApiReader } = {
    capabilities: clusterCapabilities,
    reader: providerKubeApiReader,
};

export interface ObjectChecks {
    objects: ObjectNeed[];
    /** Namespace of the ingress controller (k8s-platform:ingressNamespace), for the install hint. */
    ingressNamespace: string;
    reader?: () => KubeApiReader;
}

/**
 * Checks the needs against the cluster before anything registers: throws the one error, logs the
 * warnings; skips (with a warning) when the provider reaches no cluster.
 */
export async function requirePrerequisites(needs: PrerequisiteNeed[], skipKey: string,
    capabilities: () => Promise<ClusterCapabilities> = () => clusterAccess.capabilities(), checks?: ObjectChecks): Promise<ClusterCapabilities> {
    const objects = checks?.objects ?? [];
    if (needs.length === 0 && objects.length === 0) {
        return { reachable: false, apiVersions: [] };
    }
    const caps = await capabilities();
    if (!caps.reachable) {
        const names = [...needs.map(n => n.prerequisite.name), ...objects.map(describe)];
        await pulumi.log.warn(`prerequisites not checked: the kubernetes provider reaches no cluster (${names.join(", ")} assumed installed)`);
        return caps;
    }
    const found = await missingObjects(objects, caps, checks?.reader ?? (() => clusterAccess.reader()), checks?.ingressNamespace ?? "ingress-nginx");
    for (const w of found.warnings) {
        await pulumi.log.warn(w);
    }
    const { error, warnings } = prerequisiteReport(needs, caps, skipKey, found.lines);
    for (const w of warnings) {
        await pulumi.log.warn(w);
    }
    if (error) {
        throw error;
    }
    return caps;
}
