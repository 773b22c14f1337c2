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
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ValidationError } from "./validation";

export const PREREQUISITE_NAMES = ["cert-manager", "istio", "metrics-server"] as const;
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
        apis: [`security.istio.io/${apiVersion}/PeerAuthentication`, `networking.istio.io/${apiVersion}/Gateway`, `networking.istio.io/${apiVersion}/VirtualService`],
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
 * warnings for what is missing but optional.
 */
export function prerequisiteReport(needs: PrerequisiteNeed[], caps: ClusterCapabilities, skipKey: string):
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
    if (lines.length === 0) {
        return { warnings };
    }
    return {
        warnings,
        error: new ValidationError(skipKey,
            `the cluster lacks ${lines.length === 1 ? "a prerequisite" : `${lines.length} prerequisites`} of this stack, nothing was changed:\n` +
            `${lines.map(l => `  - ${l}`).join("\n")}\n` +
            `allowed: install ${lines.length === 1 ? "it" : "them"} first (README: Prerequisites), or list the name in ${skipKey} ` +
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

/**
 * Checks the needs against the cluster before anything registers: throws the one error, logs the
 * warnings; skips (with a warning) when the provider reaches no cluster.
 */
export async function requirePrerequisites(needs: PrerequisiteNeed[], skipKey: string,
    capabilities: () => Promise<ClusterCapabilities> = clusterCapabilities): Promise<ClusterCapabilities> {
    if (needs.length === 0) {
        return { reachable: false, apiVersions: [] };
    }
    const caps = await capabilities();
    if (!caps.reachable) {
        await pulumi.log.warn(`prerequisites not checked: the kubernetes provider reaches no cluster (${needs.map(n => n.prerequisite.name).join(", ")} assumed installed)`);
        return caps;
    }
    const { error, warnings } = prerequisiteReport(needs, caps, skipKey);
    for (const w of warnings) {
        await pulumi.log.warn(w);
    }
    if (error) {
        throw error;
    }
    return caps;
}
