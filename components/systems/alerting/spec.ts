/**
 * The spec of the Alerting system, resolved once from `k8s-platform:alerting`: the Alertmanager's
 * receivers, route and size (components/observability/alerting.ts), and its namespace's fit in the
 * platform's quota and LimitRange, checked before anything is registered.
 */
import { budgetOf, requireLimitRangeFits, requireQuotaFits } from "../../k8s/capacity";
import { LimitRangeSpec, QuotaSpec } from "../../k8s/namespace";
import { PART_OF } from "../../k8s/labels";
import { AlertingContext, AlertingSpec, validateAlertingSpec } from "../../observability/alerting";

export const ALERTING_PART_OF = PART_OF.alerting;
export const ALERTMANAGER_NAME = "alertmanager";

export type { AlertingSpec };

/** The platform-wide values the Alertmanager's namespace takes, with the config keys they come from. */
export interface AlertingPlatform {
    quota: QuotaSpec;
    limits: LimitRangeSpec;
    quotaKey: string;
    limitsKey: string;
}

/** Resolves `key` (absent: the dev defaults; prod must set it); the namespace must hold the Alertmanager's replicas and claims. */
export function resolveAlertingSpec(key: string, raw: unknown, ctx: AlertingContext, platform: AlertingPlatform): AlertingSpec {
    const spec = validateAlertingSpec(key, raw, ctx);
    requireQuotaFits(platform.quotaKey, platform.quota,
        budgetOf([{ pods: spec.replicas, resources: spec.resources }], Array<string>(spec.replicas).fill(spec.storage.size)),
        `for the Alertmanager (${key}.namespace ${spec.namespace})`);
    requireLimitRangeFits(`${platform.limitsKey}.max`, platform.limits, [[`${key}.resources`, spec.resources]]);
    return spec;
}
