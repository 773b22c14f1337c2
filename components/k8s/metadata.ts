/**
 * Annotations every object the platform manages carries.
 *
 * Pulumi owns the fields it declares. The kubernetes provider applies server-side; a field someone
 * changed by hand (kubectl scale, edit, patch) belongs to another field manager, and without force
 * the next `pulumi up` fails on the conflict instead of repairing the drift. With
 * `pulumi.com/patchForce` it takes the field back. Fields Pulumi does not declare stay with their
 * owners, and replica counts an HPA owns are left out of the apply (ignoreChanges).
 */
export const PATCH_FORCE_ANNOTATION = "pulumi.com/patchForce";

export const OWNED_ANNOTATIONS: Readonly<Record<string, string>> = Object.freeze({ [PATCH_FORCE_ANNOTATION]: "true" });

/**
 * Pod annotations the Prometheus "kubernetes-pods" job keeps (components/observability/prometheus.ts):
 * scrape this pod on `port` at `path`.
 */
export function scrapeAnnotations(port: number, path = "/metrics"): Record<string, string> {
    return { "prometheus.io/scrape": "true", "prometheus.io/port": String(port), "prometheus.io/path": path };
}
