// The whole policy set, configurable the way `pulumi preview --policy-pack-config` configures it.
import { EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { availabilityPolicies } from "./availability";
import { hardeningPolicies } from "./hardening";
import { credentialPolicies } from "./credentials";
import { PolicyFactory } from "./lib/policy";
import { networkPolicies } from "./network";
import { podSecurityPolicies } from "./podSecurity";
import { rbacPolicies } from "./rbac";
import { resourcePolicies } from "./resources";
import { trafficPolicies } from "./traffic";

export type { PolicyFactory } from "./lib/policy";

/** Policy name -> factory(enforcementLevel, config). Each factory has its own config type. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const policyFactories: Record<string, PolicyFactory<any>> = {
    ...rbacPolicies,
    ...resourcePolicies,
    ...availabilityPolicies,
    ...networkPolicies,
    ...podSecurityPolicies,
    ...credentialPolicies,
    ...trafficPolicies,
    ...hardeningPolicies,
};

export const policyNames = Object.keys(policyFactories);

/** The format of policies/config.*.json: "all" and/or per-policy levels and config. */
export type PackConfig = Record<string, EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>)>;

/**
 * Builds every policy. With a pack config, levels and config values are baked into the policies
 * (the engine applies the same file itself when the pack runs under `pulumi preview`).
 */
export function allPolicies(config: PackConfig = {}): (ResourceValidationPolicy | StackValidationPolicy)[] {
    const all = typeof config.all === "string" ? config.all : (config.all as { enforcementLevel?: EnforcementLevel } | undefined)?.enforcementLevel;
    return Object.entries(policyFactories).map(([name, factory]) => {
        const entry = config[name];
        let level: EnforcementLevel | undefined = all;
        let overrides: Record<string, unknown> = {};
        if (typeof entry === "string") {
            level = entry;
        } else if (entry && typeof entry === "object") {
            const { enforcementLevel, ...rest } = entry;
            level = enforcementLevel ?? level;
            overrides = rest;
        }
        return factory(level, overrides);
    });
}
