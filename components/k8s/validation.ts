/**
 * Input validation shared by the stack config module and the component constructors, so a rule
 * (and its error text) is written once. Every error names the offending key and what is allowed.
 */
import { parseQuantity, QuantityKind } from "./quantity";

export class ValidationError extends Error {
    constructor(public readonly key: string, message: string) {
        super(`${key}: ${message}`);
        this.name = "ValidationError";
    }
}

function show(value: unknown): string {
    return value === undefined ? "undefined" : JSON.stringify(value);
}

export function requireIntInRange(key: string, value: unknown, min: number, max: number): number {
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
        throw new ValidationError(key, `${show(value)} is not allowed; allowed: an integer from ${min} to ${max}`);
    }
    return value;
}

export function requireOneOf<T extends string>(key: string, value: unknown, allowed: readonly T[]): T {
    if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
        throw new ValidationError(key, `${show(value)} is not allowed; allowed: ${allowed.join(", ")}`);
    }
    return value as T;
}

export function requireNonEmptyString(key: string, value: unknown): string {
    if (typeof value !== "string" || value.trim() === "") {
        throw new ValidationError(key, `${show(value)} is not allowed; allowed: a non-empty string`);
    }
    return value;
}

export function requireBoolean(key: string, value: unknown): boolean {
    if (typeof value !== "boolean") {
        throw new ValidationError(key, `${show(value)} is not allowed; allowed: true or false`);
    }
    return value;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A Kubernetes object name (RFC 1123 label), with room left for role suffixes. */
export function requireDnsLabel(key: string, value: unknown, maxLength = 40): string {
    if (typeof value !== "string" || !DNS_LABEL.test(value) || value.length > maxLength) {
        throw new ValidationError(key,
            `${show(value)} is not allowed; allowed: lowercase letters, digits and '-', ` +
            `starting and ending with a letter or digit, at most ${maxLength} characters`);
    }
    return value;
}

export function requireQuantity(key: string, value: unknown, kind: QuantityKind): string {
    const example = kind === "cpu" ? "250m or 1" : "512Mi or 10Gi";
    if (typeof value !== "string" && typeof value !== "number") {
        throw new ValidationError(key, `${show(value)} is not a ${kind} quantity; allowed: e.g. ${example}`);
    }
    const text = String(value);
    const parsed = parseQuantity(text);
    if (parsed === undefined || parsed <= 0) {
        throw new ValidationError(key, `${show(value)} is not a ${kind} quantity; allowed: e.g. ${example}`);
    }
    return text;
}

/** Images must name a version: a tag other than "latest", or a digest. */
export function requirePinnedImage(key: string, value: unknown): string {
    const image = requireNonEmptyString(key, value);
    if (image.includes("@sha256:")) {
        return image;
    }
    const lastSegment = image.substring(image.lastIndexOf("/") + 1);
    const colon = lastSegment.indexOf(":");
    const tag = colon < 0 ? "" : lastSegment.substring(colon + 1);
    if (tag === "" || tag === "latest") {
        throw new ValidationError(key,
            `${show(value)} is not pinned; allowed: an image with a version tag (not "latest") or a @sha256 digest`);
    }
    return image;
}

export interface NamedPort {
    name: string;
    port: number;
}

/** Ports must be valid and distinct within one pod or Service. */
export function requireDistinctPorts(key: string, ports: readonly NamedPort[]): void {
    const seen = new Map<number, string>();
    for (const p of ports) {
        requireIntInRange(`${key}.${p.name}`, p.port, 1, 65535);
        const other = seen.get(p.port);
        if (other !== undefined) {
            throw new ValidationError(key,
                `port ${p.port} is used by both "${other}" and "${p.name}"; allowed: a distinct port per part`);
        }
        seen.set(p.port, p.name);
    }
}

export function requireObject(key: string, value: unknown): Record<string, unknown> {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new ValidationError(key, `${show(value)} is not allowed; allowed: an object`);
    }
    return value as Record<string, unknown>;
}

/** Rejects keys the schema does not know, so a typo never silently falls back to a default. */
export function rejectUnknownKeys(key: string, value: Record<string, unknown>, known: readonly string[]): void {
    for (const k of Object.keys(value)) {
        if (!known.includes(k)) {
            throw new ValidationError(`${key}.${k}`, `unknown key; allowed keys: ${known.join(", ")}`);
        }
    }
}
