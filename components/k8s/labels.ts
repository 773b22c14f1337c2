/**
 * The app.kubernetes.io/* recommended labels, and the selector subset that must never change. The
 * vocabulary (label keys, systems' part-of values, roles) is the policy pack's own, shared with it.
 */
import { LABELS } from "../../policies/lib/labels";

export { LABELS, OBSERVABILITY_ROLES, OUTBOX_ROLES, OWNER_LABEL, PART_OF } from "../../policies/lib/labels";

/** Blue/green colour of a pod; the stable Service selects on it. */
export const COLOR_LABEL = "platform.io/color";

export interface AppIdentity {
    /** Unique workload name in its namespace: the object name and app.kubernetes.io/instance. */
    name: string;
    /** The application (app.kubernetes.io/name), e.g. "postgresql" or "restapi"; defaults to name. */
    app?: string;
    /** Role inside the system (model, database, prometheus, ...). */
    component: string;
    /** The system the workload belongs to (restapi, database-service, greenfield, cstore, outbox). */
    partOf: string;
    version?: string;
}

/** Labels a Deployment/StatefulSet selects on: immutable after creation, so version is not part of them. */
export function selectorLabels(id: AppIdentity): Record<string, string> {
    return { [LABELS.instance]: id.name, [LABELS.partOf]: id.partOf };
}

export function standardLabels(id: AppIdentity): Record<string, string> {
    const labels: Record<string, string> = {
        ...selectorLabels(id),
        [LABELS.name]: id.app ?? id.name,
        [LABELS.component]: id.component,
        [LABELS.managedBy]: "pulumi",
    };
    if (id.version) {
        labels[LABELS.version] = id.version.replace(/[^A-Za-z0-9._-]/g, "_").substring(0, 63);
    }
    return labels;
}
