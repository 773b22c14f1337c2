// Runs policies the way the policy engine does, without the engine: args objects shaped like
// @pulumi/policy's, props wrapped in its unknown-checking proxy. Used by the pack's tests and by the
// program's tests (its resources under Pulumi mocks); not part of the pack: the pack never imports it.
import {
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
    EnforcementLevel,
} from "@pulumi/policy";
import { allPolicies, PackConfig } from "../policies";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const proxy = require("@pulumi/policy/proxy") as { unknownCheckingProxy: <T>(v: T) => T; UnknownValueError: new (...a: unknown[]) => Error };

export interface PlainResource {
    type: string;
    name: string;
    props: Record<string, unknown>;
    urn?: string;
}

export interface Violation {
    policy: string;
    enforcementLevel: EnforcementLevel;
    message: string;
    urn?: string;
}

class NotApplicable extends Error {}

const noopOpts = {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
};

function urnOf(r: PlainResource): string {
    return r.urn ?? `urn:pulumi:test::k8s-platform::${r.type}::${r.name}`;
}

function configOnly(config: object | undefined): object {
    const { enforcementLevel: _level, ...rest } = (config ?? {}) as Record<string, unknown>;
    return rest;
}

/** Runs one resource policy on one resource; returns the violation messages. */
export async function runResourcePolicy(
    policy: ResourceValidationPolicy,
    type: string,
    props: Record<string, unknown>,
    options: { name?: string; config?: object } = {},
): Promise<string[]> {
    const messages: string[] = [];
    const name = options.name ?? "test";
    const args: ResourceValidationArgs = {
        type,
        props: proxy.unknownCheckingProxy(props),
        urn: urnOf({ type, name, props }),
        name,
        opts: noopOpts,
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => configOnly(options.config) as T,
        notApplicable: (reason?: string) => {
            throw new NotApplicable(reason);
        },
    };
    const validations = policy.validateResource === undefined ? [] : Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
    for (const v of validations) {
        try {
            await v(args, (message) => messages.push(message));
        } catch (e) {
            if (!(e instanceof NotApplicable)) throw e;
        }
    }
    return messages;
}

function toPolicyResources(resources: PlainResource[]): PolicyResource[] {
    return resources.map((r) => ({
        type: r.type,
        props: proxy.unknownCheckingProxy(r.props),
        urn: urnOf(r),
        name: r.name,
        opts: noopOpts,
        dependencies: [],
        propertyDependencies: {},
        isType: () => false,
        asType: () => undefined,
    }));
}

/** Runs one stack policy on a list of resources; returns the violation messages. */
export async function runStackPolicy(policy: StackValidationPolicy, resources: PlainResource[], config?: object): Promise<string[]> {
    return (await runStackPolicyWithUrns(policy, resources, config)).map((v) => v.message);
}

export async function runStackPolicyWithUrns(
    policy: StackValidationPolicy,
    resources: PlainResource[],
    config?: object,
): Promise<{ message: string; urn?: string }[]> {
    const out: { message: string; urn?: string }[] = [];
    const args: StackValidationArgs = {
        resources: toPolicyResources(resources),
        stackTags: new Map(),
        getConfig: <T extends object>() => configOnly(config) as T,
        notApplicable: (reason?: string) => {
            throw new NotApplicable(reason);
        },
    };
    try {
        await policy.validateStack(args, (message, urn) => out.push({ message, urn }));
    } catch (e) {
        if (!(e instanceof NotApplicable)) throw e;
    }
    return out;
}

/**
 * Runs the whole pack (allPolicies(config)) on a stack's resources: every resource policy on each
 * resource, every stack policy on the list. Disabled policies are skipped.
 */
export async function runAll(resources: PlainResource[], config: PackConfig = {}): Promise<Violation[]> {
    const out: Violation[] = [];
    for (const policy of allPolicies(config)) {
        const level = policy.enforcementLevel ?? "advisory";
        if (level === "disabled") continue;
        if ("validateStack" in policy) {
            for (const v of await runStackPolicyWithUrns(policy, resources)) {
                out.push({ policy: policy.name, enforcementLevel: level, message: v.message, urn: v.urn });
            }
        } else {
            for (const r of resources) {
                for (const message of await runResourcePolicy(policy, r.type, r.props, { name: r.name })) {
                    out.push({ policy: policy.name, enforcementLevel: level, message, urn: urnOf(r) });
                }
            }
        }
    }
    return out;
}
