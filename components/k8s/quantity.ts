/** Kubernetes resource quantities (https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/). */

export type QuantityKind = "cpu" | "memory" | "storage";

const SUFFIX: Record<string, number> = {
    "": 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
    Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

const QUANTITY = /^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;

/** Returns the value in base units (cores or bytes), or undefined when the text is not a quantity. */
export function parseQuantity(text: string): number | undefined {
    const match = QUANTITY.exec(text.trim());
    if (!match) {
        return undefined;
    }
    return Number(match[1]) * SUFFIX[match[2] ?? ""];
}

/** The unit suffix of a quantity ("" for none), to tell units of cores from units of bytes. */
export function quantitySuffix(text: string): string {
    return QUANTITY.exec(text.trim())?.[2] ?? "";
}
