/**
 * Pulumi mocks for the unit tests, loaded by .mocharc.json before any test file, so the program is
 * always imported after the mocks are set. Every registered resource is recorded with its inputs.
 */
import * as pulumi from "@pulumi/pulumi";

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

void pulumi.runtime.setMocks({
    newResource(args: pulumi.runtime.MockResourceArgs) {
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
        return args.inputs;
    },
}, "k8s-platform", "dev", false);
