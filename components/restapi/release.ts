/**
 * The blue/green release gate (restapi-operator.md, BlueGreen Manager: traffic switching, promotion,
 * rollback). Switching the stable Services to a colour is allowed only when every Deployment of that
 * colour is Available and runs the configured image; otherwise the program stops with an error that
 * names the config key, before any resource registers (so `pulumi preview` fails and `pulumi up`
 * changes nothing).
 *
 * Which colour is live comes from the stack's own previous outputs (the `restapiRelease` output that
 * every `up` records); the target colour's Deployments are then read live from the API server. With
 * no record (first creation, or a RestAPI of another name/namespace) the configured colour applies
 * directly: there is nothing live to protect yet.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ValidationError } from "../k8s/validation";
import { Color, COLORS, partImage, REST_PARTS, RestApiSpec, RestPart } from "./spec";

/** What each `up` records about the RestAPI's release (the stack output `restapiRelease`). */
export interface ReleaseRecord {
    name: string;
    namespace: string;
    blueGreen: boolean;
    activeEnvironment: Color;
}

/** A Deployment of the target colour and the image the config asks it to run. */
export interface ColourDeployment {
    part: RestPart;
    /** Kubernetes name, `<name>-<part>-<colour>`. */
    name: string;
    image: string;
}

/** What the config asks for, given what was live. */
export type SwitchPlan =
    /** Nothing to check: blue/green off, first creation, or the live colour stays. */
    | { kind: "direct"; active: Color; reason: "blue/green off" | "first creation" | "no switch" }
    | { kind: "switch"; from: Color; to: Color; deployments: ColourDeployment[] };

/** A live Deployment as the API server reports it (the fields the gate reads). */
export interface LiveDeployment {
    name: string;
    generation?: number;
    observedGeneration?: number;
    /** spec.replicas (the HPA's count once it scaled). */
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    conditions: { type: string; status: string; reason?: string; message?: string }[];
    images: string[];
}

function isColor(v: unknown): v is Color {
    return typeof v === "string" && (COLORS as readonly string[]).includes(v);
}

/** The previous record from a stack output value; undefined when there is none or it is not one. */
export function parseReleaseRecord(v: unknown): ReleaseRecord | undefined {
    const r = v as Partial<ReleaseRecord> | undefined;
    if (!r || typeof r !== "object" || typeof r.name !== "string" || typeof r.namespace !== "string" || !isColor(r.activeEnvironment)) {
        return undefined;
    }
    return { name: r.name, namespace: r.namespace, blueGreen: r.blueGreen === true, activeEnvironment: r.activeEnvironment };
}

/** Pure: whether the config switches colours against what was live, and which Deployments must then serve. */
export function planColourSwitch(name: string, namespace: string, spec: RestApiSpec, previous?: ReleaseRecord): SwitchPlan {
    const to: Color = spec.blueGreen?.activeEnvironment ?? "blue";
    if (!spec.blueGreen?.enabled) {
        return { kind: "direct", active: to, reason: "blue/green off" };
    }
    if (!previous || !previous.blueGreen || previous.name !== name || previous.namespace !== namespace) {
        return { kind: "direct", active: to, reason: "first creation" };
    }
    if (previous.activeEnvironment === to) {
        return { kind: "direct", active: to, reason: "no switch" };
    }
    return {
        kind: "switch", from: previous.activeEnvironment, to,
        deployments: REST_PARTS.map(part => ({ part, name: `${name}-${part}-${to}`, image: partImage(spec, part, to) })),
    };
}

/** Why a Deployment cannot take traffic yet; undefined when it can. */
export function unavailability(want: ColourDeployment, live: LiveDeployment): string | undefined {
    const problems: string[] = [];
    const available = live.conditions.find(c => c.type === "Available");
    if (!available) {
        problems.push("no Available condition reported yet");
    } else if (available.status !== "True") {
        problems.push(`Available=${available.status}${available.reason ? ` (${available.reason})` : ""}`);
    }
    if (live.generation !== undefined && (live.observedGeneration ?? 0) < live.generation) {
        problems.push(`generation ${live.generation} not yet observed (observed ${live.observedGeneration ?? "none"})`);
    }
    const wanted = live.replicas ?? 1;
    if (wanted < 1) {
        // Available=True with nothing to serve: a Deployment scaled to zero takes no traffic.
        problems.push("scaled to 0 replicas");
    }
    if ((live.updatedReplicas ?? 0) < wanted) {
        problems.push(`${live.updatedReplicas ?? 0}/${wanted} replicas updated`);
    }
    if ((live.availableReplicas ?? 0) < wanted) {
        problems.push(`${live.availableReplicas ?? 0}/${wanted} replicas available`);
    }
    if (!live.images.includes(want.image)) {
        problems.push(`runs ${live.images.join(", ") || "no image"}, the config asks for ${want.image}`);
    }
    return problems.length ? `Deployment ${want.name}: ${problems.join(", ")}` : undefined;
}

/** Refuses a switch to a colour whose Deployments do not all serve, naming the key, the colour and what is not available. */
export function checkColourSwitch(key: string, plan: SwitchPlan, live: LiveDeployment[]): void {
    if (plan.kind !== "switch") {
        return;
    }
    const problems = plan.deployments.map(want => {
        const found = live.find(l => l.name === want.name);
        return found ? unavailability(want, found) : `Deployment ${want.name}: not found`;
    }).filter((p): p is string => p !== undefined);
    if (problems.length) {
        throw new ValidationError(key,
            `switching from ${plan.from} to ${plan.to} is refused: ${plan.to} is not available (${problems.join("; ")}); ` +
            `allowed: ${plan.from} (the live colour), or ${plan.to} once an up with activeEnvironment ${plan.from} has rolled out ${plan.to} and its Deployments are Available`);
    }
}

/** The value of an Output, awaited (read resources resolve in preview too). */
function valueOf<T>(o: pulumi.Output<T>): Promise<T> {
    return new Promise(resolve => { o.apply(v => { resolve(v); return v; }); });
}

/**
 * Reads the target colour's Deployments from the API server (read-only `get`s registered at the
 * top level, `<deployment>-live`; they manage nothing). Only called for a switch, when the record
 * says the Deployments exist.
 */
export async function readLiveDeployments(namespace: string, deployments: ColourDeployment[], opts?: pulumi.CustomResourceOptions): Promise<LiveDeployment[]> {
    return Promise.all(deployments.map(async d => {
        const read = k8s.apps.v1.Deployment.get(`${d.name}-live`, `${namespace}/${d.name}`, opts);
        const s = await valueOf(pulumi.all([read.metadata, read.spec, read.status])
            .apply(([metadata, spec, status]) => ({ metadata, spec, status })));
        return {
            name: d.name,
            generation: s.metadata?.generation,
            observedGeneration: s.status?.observedGeneration,
            replicas: s.spec?.replicas,
            updatedReplicas: s.status?.updatedReplicas,
            availableReplicas: s.status?.availableReplicas,
            conditions: s.status?.conditions ?? [],
            images: (s.spec?.template?.spec?.containers ?? []).map(c => c.image ?? ""),
        };
    }));
}

/** This stack's own outputs as of its last update (an empty record on the first one). */
export async function previousStackOutput(output: string): Promise<unknown> {
    const self = new pulumi.StackReference("previous-release", {
        name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`,
    });
    const details = await self.getOutputDetails(output);
    return details.value ?? details.secretValue;
}

/**
 * The gate, run before any resource registers: reads what was live (only with blue/green on) and,
 * for a switch, the target colour's Deployments; throws the config error when they do not serve.
 */
export async function gateColourSwitch(key: string, name: string, namespace: string, spec: RestApiSpec): Promise<SwitchPlan> {
    if (!spec.blueGreen?.enabled) {
        return planColourSwitch(name, namespace, spec);
    }
    const plan = planColourSwitch(name, namespace, spec, parseReleaseRecord(await previousStackOutput("restapiRelease")));
    if (plan.kind === "switch") {
        checkColourSwitch(key, plan, await readLiveDeployments(namespace, plan.deployments));
    }
    return plan;
}
