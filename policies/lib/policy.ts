// Small factories that turn a rule description into @pulumi/policy policies.
import {
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import * as fs from "fs";
import { K8sResource, toK8sResource } from "./k8s";

/**
 * PACK_TIMING_FILE=<path>: each policy's own time (calls and milliseconds, resource and stack
 * policies apart) is written there as JSON, for docs/benchmarks.md's breakdown. Unset (always, in
 * normal runs) nothing is measured. Rewritten at most once a second and after each stack policy:
 * the engine stops the pack's process without a clean exit.
 */
const timingFile = process.env.PACK_TIMING_FILE;
const timings = new Map<string, { kind: "resource" | "stack"; calls: number; ms: number }>();
let flushTimer: NodeJS.Timeout | undefined;
function flushTimings(): void {
    flushTimer = undefined;
    fs.writeFileSync(timingFile!, JSON.stringify(Object.fromEntries(timings), null, 1));
}
function timed<A extends unknown[]>(kind: "resource" | "stack", name: string, fn: (...a: A) => void): (...a: A) => void {
    if (!timingFile) {
        return fn;
    }
    return (...a: A) => {
        const t0 = process.hrtime.bigint();
        try {
            fn(...a);
        } finally {
            const t = timings.get(name) ?? { kind, calls: 0, ms: 0 };
            t.calls += 1;
            t.ms += Number(process.hrtime.bigint() - t0) / 1e6;
            timings.set(name, t);
            if (kind === "stack") {
                flushTimings();
            } else {
                flushTimer ??= setTimeout(flushTimings, 1000);
            }
        }
    };
}

/** A policy factory: enforcement level and config overrides in, policy out. */
export type PolicyFactory<C extends object = object> = (
    enforcementLevel?: EnforcementLevel,
    config?: Partial<C>,
) => ResourceValidationPolicy | StackValidationPolicy;

interface RuleBase<C extends object> {
    name: string;
    description: string;
    remediationSteps: string;
    severity: Severity;
    /** Default enforcement level when the factory is called without one. */
    enforcementLevel?: EnforcementLevel;
    tags?: string[];
    /** Default configuration; also published as the schema's defaults. */
    defaults: C;
    /** JSON schema of each config property (the default is filled in from `defaults`). */
    schema?: PolicyConfigSchema["properties"];
}

export interface ResourceRule<C extends object> extends RuleBase<C> {
    /** Which resource types the rule looks at. */
    appliesTo: (type: string) => boolean;
    check: (res: K8sResource, config: C, report: (message: string) => void) => void;
}

export interface StackRule<C extends object> extends RuleBase<C> {
    check: (resources: K8sResource[], config: C, report: (message: string, urn?: string) => void) => void;
}

function schemaOf<C extends object>(rule: RuleBase<C>): PolicyConfigSchema | undefined {
    if (!rule.schema) {
        return undefined;
    }
    const properties: PolicyConfigSchema["properties"] = {};
    for (const [key, s] of Object.entries(rule.schema)) {
        const def = (rule.defaults as Record<string, unknown>)[key];
        properties[key] = def === undefined ? s : ({ ...s, default: def });
    }
    return { properties };
}

function configFrom<C extends object>(defaults: C, overrides: Partial<C> | undefined, fromEngine: object): C {
    const merged: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
    for (const src of [overrides ?? {}, fromEngine ?? {}]) {
        for (const [k, v] of Object.entries(src)) {
            if (v !== undefined && k !== "enforcementLevel") {
                merged[k] = v;
            }
        }
    }
    return merged as C;
}

export function resourceRule<C extends object>(rule: ResourceRule<C>): PolicyFactory<C> {
    return (enforcementLevel, overrides) => {
        const policy: ResourceValidationPolicy = {
            name: rule.name,
            description: rule.description,
            remediationSteps: rule.remediationSteps,
            severity: rule.severity,
            tags: rule.tags,
            enforcementLevel: enforcementLevel ?? rule.enforcementLevel ?? "mandatory",
            configSchema: schemaOf(rule),
            validateResource: timed("resource", rule.name, (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
                if (!rule.appliesTo(args.type)) {
                    return;
                }
                const config = configFrom(rule.defaults, overrides, args.getConfig<object>());
                const res = toK8sResource(args.type, args.props, args.name, args.urn);
                rule.check(res, config, (message) => reportViolation(`${res.kind} ${res.id}: ${message}`));
            }),
        };
        return policy;
    };
}

export function stackRule<C extends object>(rule: StackRule<C>): PolicyFactory<C> {
    return (enforcementLevel, overrides) => {
        const policy: StackValidationPolicy = {
            name: rule.name,
            description: rule.description,
            remediationSteps: rule.remediationSteps,
            severity: rule.severity,
            tags: rule.tags,
            enforcementLevel: enforcementLevel ?? rule.enforcementLevel ?? "mandatory",
            configSchema: schemaOf(rule),
            validateStack: timed("stack", rule.name, (args: StackValidationArgs, reportViolation: ReportViolation) => {
                const config = configFrom(rule.defaults, overrides, args.getConfig<object>());
                const resources = args.resources
                    .filter((r) => r.type.startsWith("kubernetes:"))
                    .map((r) => toK8sResource(r.type, r.props, r.name, r.urn));
                rule.check(resources, config, reportViolation);
            }),
        };
        return policy;
    };
}

/** Matches a resource against an allow-list of "name", "namespace/name" or "namespace/*" entries. */
export function inAllowList(res: { name: string; namespace: string; resourceName?: string }, list: string[] | undefined): boolean {
    for (const entry of list ?? []) {
        if (entry.includes("/")) {
            const [ns, n] = entry.split("/", 2);
            if (ns === res.namespace && (n === "*" || n === res.name)) {
                return true;
            }
        } else if (entry === res.name || entry === res.resourceName) {
            return true;
        }
    }
    return false;
}

export const stringList = { type: "array", items: { type: "string" } } as const;
