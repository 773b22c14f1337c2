/**
 * Pulumi mocks for the unit tests, loaded by .mocharc.json before any test file, so the program is
 * always imported after the mocks are set. Every registered resource is recorded with its inputs.
 */
import * as pulumi from "@pulumi/pulumi";
import { clusterAccess } from "../../components/k8s/prerequisites";

export interface RecordedResource {
    type: string;
    name: string;
    /** Inputs as sent, secrets still wrapped in Pulumi's secret envelope. */
    raw: any;
    // Inputs as the engine would receive them (Outputs resolved).
    inputs: any;
}

export const recorded: RecordedResource[] = [];

/**
 * What the API server "reports" for a Deployment/StatefulSet of this Kubernetes name: its status
 * and metadata.generation, returned as the resource's state (nothing is reported otherwise).
 */
export const mockWorkloadStatus: Record<string, { generation: number; status: Record<string, unknown> }> = {};

/**
 * Live objects the API server holds, by "namespace/name": what a read (`k8s.apps.v1.Deployment.get`)
 * returns. Reading an object that is not here fails, as the engine fails a read of a missing object.
 */
export const mockLiveObjects: Record<string, Record<string, unknown>> = {};

/** Every read (StackReference or Resource.get) as "type id", in order. */
export const mockReads: string[] = [];

/** This stack's outputs as of its previous update: what a StackReference to the stack itself reads. */
export const mockPreviousOutputs: Record<string, unknown> = {};

/** One registration as the engine would name it: the full URN and, for Kubernetes objects, namespace/name. */
export interface Registration {
    urn: string;
    type: string;
    /** "namespace/name" (or "name" for cluster-scoped objects) of a Kubernetes object. */
    k8sName?: string;
    /** The resource options that keep data: protected in the stack, retained in the cluster on delete. */
    protect: boolean;
    retainOnDelete: boolean;
}

/** Every registration in order, with the URN the real engine would give it (see the monitor patch below). */
export const registrations: Registration[] = [];

const SECRET_SIG = pulumi.runtime.specialSigKey;

/** Replaces Pulumi secret envelopes by their values. */
export function unwrapSecrets(v: any): any {
    if (Array.isArray(v)) {
        return v.map(unwrapSecrets);
    }
    if (v && typeof v === "object") {
        if (v[SECRET_SIG] === pulumi.runtime.specialSecretSig) {
            return unwrapSecrets(v.value);
        }
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapSecrets(x)]));
    }
    return v;
}

/** True when the value is (or contains) a Pulumi secret envelope. */
export function containsSecret(v: any): boolean {
    return JSON.stringify(v ?? null).includes(SECRET_SIG);
}

/** Mock value of a generated password: recognisable, so tests can prove it never leaks. */
export const mockPassword = (name: string): string => `mockpw-${name}-0123456789`;

/**
 * The API discovery of the cluster the mocks pretend to reach (what the kubernetes provider's helm
 * template invoke reports as .Capabilities.APIVersions): built-in kinds plus cert-manager, Istio and
 * metrics-server. Tests replace the list to take a prerequisite away, and restore it.
 */
export const FULL_CLUSTER_APIS = [
    "v1", "v1/Namespace", "v1/Service", "apps/v1", "apps/v1/Deployment", "networking.k8s.io/v1", "networking.k8s.io/v1/Ingress",
    "networking.k8s.io/v1/IngressClass", "apiextensions.k8s.io/v1", "apiextensions.k8s.io/v1/CustomResourceDefinition",
    "cert-manager.io/v1", "cert-manager.io/v1/Certificate", "cert-manager.io/v1/ClusterIssuer", "cert-manager.io/v1/Issuer",
    "security.istio.io/v1", "security.istio.io/v1/PeerAuthentication", "networking.istio.io/v1", "networking.istio.io/v1/Gateway",
    "networking.istio.io/v1/VirtualService", "networking.istio.io/v1alpha3", "networking.istio.io/v1alpha3/EnvoyFilter", "metrics.k8s.io/v1beta1", "metrics.k8s.io/v1beta1/PodMetrics",
];
/** The objects every stack's Ingresses name (IngressClass nginx, the default; the ClusterIssuers of dev and prod), by API path. */
export const FULL_CLUSTER_OBJECTS: Record<string, unknown> = {
    "/apis/networking.k8s.io/v1/ingressclasses/nginx": {
        kind: "IngressClass", metadata: { name: "nginx", annotations: { "ingressclass.kubernetes.io/is-default-class": "true" } }, spec: { controller: "k8s.io/ingress-nginx" },
    },
    "/apis/cert-manager.io/v1/clusterissuers/letsencrypt-prod": {
        kind: "ClusterIssuer", metadata: { name: "letsencrypt-prod" }, status: { conditions: [{ type: "Ready", status: "True", reason: "ACMEAccountRegistered" }] },
    },
    "/apis/cert-manager.io/v1/clusterissuers/selfsigned": {
        kind: "ClusterIssuer", metadata: { name: "selfsigned" }, status: { conditions: [{ type: "Ready", status: "True", reason: "IsReady" }] },
    },
};
/**
 * The mock cluster the start-of-run check sees: the API discovery (the preflight chart's invoke) and
 * the objects its Kubernetes API reader GETs (collections are listed from the objects under them);
 * `reads` records every GET.
 */
export const mockCluster: { apiVersions: string[]; objects: Record<string, unknown>; reads: string[] } = {
    apiVersions: [...FULL_CLUSTER_APIS], objects: { ...FULL_CLUSTER_OBJECTS }, reads: [],
};
clusterAccess.reader = () => ({
    target: "the mock cluster",
    get(apiPath: string): Promise<unknown> {
        mockCluster.reads.push(apiPath);
        const found = mockCluster.objects[apiPath];
        if (found !== undefined) {
            return Promise.resolve(found);
        }
        // A collection (/apis/<group>/<version>/<resource>): the list of the objects under it, possibly empty.
        if (/^\/apis\/[^/]+\/[^/]+\/[a-z]+$/.test(apiPath)) {
            return Promise.resolve({ items: Object.entries(mockCluster.objects).filter(([p]) => p.startsWith(`${apiPath}/`)).map(([, o]) => o) });
        }
        return Promise.resolve(undefined);
    },
});

void pulumi.runtime.setMocks({
    newResource(args: pulumi.runtime.MockResourceArgs) {
        if (args.id) {
            mockReads.push(`${args.type} ${args.id}`);
        }
        if (args.type === "pulumi:pulumi:StackReference") {
            return { id: args.id ?? args.name, state: { name: args.inputs.name, outputs: { ...mockPreviousOutputs }, secretOutputNames: [] } };
        }
        if (args.id && args.type.startsWith("kubernetes:")) {
            // A read of a live object (Resource.get): the API server's copy, or the engine's "does not exist".
            const live = mockLiveObjects[args.id];
            if (!live) {
                throw new Error(`resource '${args.id}' does not exist`);
            }
            return { id: args.id, state: live };
        }
        recorded.push({ type: args.type, name: args.name, raw: args.inputs, inputs: unwrapSecrets(args.inputs) });
        const state = { ...args.inputs };
        if (args.type === "random:index/randomPassword:RandomPassword") {
            state.result = mockPassword(args.name);
        }
        const reported = mockWorkloadStatus[state.metadata?.name];
        if ((args.type === "kubernetes:apps/v1:StatefulSet" || args.type === "kubernetes:apps/v1:Deployment") && reported) {
            state.metadata = { ...state.metadata, generation: reported.generation };
            state.status = reported.status;
        }
        if (args.type.startsWith("kubernetes:") && state.metadata && !state.metadata.name) {
            state.metadata = { ...state.metadata, name: `${args.name}-generated` };
        }
        return { id: `${args.name}-id`, state };
    },
    call(args: pulumi.runtime.MockCallArgs) {
        if (args.token === "kubernetes:helm:template") {
            // The preflight chart (components/k8s/preflight) as Helm renders it against the mock cluster.
            return {
                result: [{
                    apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cluster-capabilities" },
                    data: { kubeVersion: "v1.33.13", apiVersions: JSON.stringify(mockCluster.apiVersions) },
                }],
            };
        }
        return args.inputs;
    },
}, "k8s-platform", "dev", false, "organization");

/**
 * The mock monitor names a child by its parent's last type only and leaves top-level resources
 * without the stack's root type; the engine qualifies a type by the parent's whole chain and parents
 * every top-level resource to `pulumi:pulumi:Stack`. The patch gives every resource its engine URN
 * (stack part "dev"; the URN snapshot puts in the stack it built) and records it.
 */
interface MonitorRequest {
    getParent(): string; getType(): string; getName(): string;
    /** registerResource only (readResource requests carry neither). */
    getProtect?(): boolean; getRetainondelete?(): boolean;
}
interface MonitorResponse { getUrn(): string; getObject?(): { toJavaScript(): any }; getProperties?(): { toJavaScript(): any } }
type MonitorCallback = (err: unknown, resp?: MonitorResponse) => void;
interface PatchedMonitor {
    newUrn(parent: string, type: string, name: string): string;
    registerResource(req: MonitorRequest, cb: MonitorCallback): Promise<void>;
    readResource(req: MonitorRequest, cb: MonitorCallback): Promise<void>;
}
const STACK_TYPE = "pulumi:pulumi:Stack";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const monitor = (require("@pulumi/pulumi/runtime/settings") as { getMonitor(): PatchedMonitor }).getMonitor();
monitor.newUrn = (parent: string, type: string, name: string): string => {
    const qualified = parent ? `${parent.split("::")[2]}$${type}` : type === STACK_TYPE ? type : `${STACK_TYPE}$${type}`;
    return `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${qualified}::${name}`;
};
for (const method of ["registerResource", "readResource"] as const) {
    const original = monitor[method].bind(monitor);
    monitor[method] = (req: MonitorRequest, cb: MonitorCallback) => original(req, (err, resp) => {
        if (!err && resp) {
            const state = (resp.getObject ?? resp.getProperties)!.call(resp).toJavaScript();
            const meta = req.getType().startsWith("kubernetes:") ? state?.metadata : undefined;
            const k8sName = typeof meta?.name === "string"
                ? (typeof meta.namespace === "string" ? `${meta.namespace}/${meta.name}` : meta.name) : undefined;
            registrations.push({
                urn: resp.getUrn(), type: req.getType(), k8sName,
                protect: req.getProtect?.() ?? false, retainOnDelete: req.getRetainondelete?.() ?? false,
            });
        }
        cb(err, resp);
    });
}
