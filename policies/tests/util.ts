import { StackValidationPolicy } from "@pulumi/policy";
import { expect } from "chai";
import { PolicyFactory } from "../lib/policy";
import { PlainResource, runResourcePolicy, runStackPolicy } from "../testing/harness";
import { DELETE, mutate, POD_SPEC_PATH, workload, WORKLOAD_TYPES } from "./fixtures";

/** Violations of a resource policy built from `factory` (default level and config) on one resource. */
export function checkResource(factory: PolicyFactory<any>, r: PlainResource, config?: object): Promise<string[]> {
    return runResourcePolicy(factory(), r.type, r.props, { name: r.name, config });
}

export function checkStack(factory: PolicyFactory<any>, resources: PlainResource[], config?: object): Promise<string[]> {
    return runStackPolicy(factory() as StackValidationPolicy, resources, config);
}

/** A pod-spec rule's test case: the rule and the fixture's breaks (path inside the pod spec, value, message(s)). */
export interface PodCase {
    policy: PolicyFactory<any>;
    breaks: [string, unknown, string | string[]][];
}

/**
 * For every workload kind and every case: the valid fixture passes, and each break (one field
 * changed) is reported with its message, except where `exempt(rule, kind)` says the kind is exempt.
 */
export function describePodCases(cases: Record<string, PodCase>, fixture: string, exempt: (rule: string, kind: string) => boolean = () => false): void {
    for (const [name, c] of Object.entries(cases)) {
        describe(name, () => {
            for (const kind of Object.keys(WORKLOAD_TYPES)) {
                const ok = workload(kind);
                const exempted = exempt(name, kind);
                it(`${kind}: passes the ${fixture} fixture`, async () => {
                    expect(await checkResource(c.policy, ok)).to.deep.equal([]);
                });
                for (const [path, value, message] of c.breaks) {
                    const label = value === DELETE ? "removed" : JSON.stringify(value);
                    it(`${kind}: ${exempted ? "exempts" : "reports"} ${path} = ${label}`, async () => {
                        const bad = mutate(ok, `props.${POD_SPEC_PATH[kind]}.${path}`, value);
                        const expected = (Array.isArray(message) ? message : [message]).map((m) => `${kind} shop/api: ${m}`);
                        expect(await checkResource(c.policy, bad)).to.deep.equal(exempted ? [] : expected);
                    });
                }
            }
        });
    }
}
