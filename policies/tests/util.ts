import { StackValidationPolicy } from "@pulumi/policy";
import { PolicyFactory } from "../lib/policy";
import { PlainResource, runResourcePolicy, runStackPolicy } from "../testing/harness";

/** Violations of a resource policy built from `factory` (default level and config) on one resource. */
export function checkResource(factory: PolicyFactory<any>, r: PlainResource, config?: object): Promise<string[]> {
    return runResourcePolicy(factory(), r.type, r.props, { name: r.name, config });
}

export function checkStack(factory: PolicyFactory<any>, resources: PlainResource[], config?: object): Promise<string[]> {
    return runStackPolicy(factory() as StackValidationPolicy, resources, config);
}
