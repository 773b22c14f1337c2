/**
 * Input validation shared by the stack config module and the component constructors, so a rule
 * (and its error text) is written once. Every error names the offending key and what is allowed.
 */
import { parseQuantity, QuantityKind, quantitySuffix } from "./quantity";

export class ValidationError extends Error {
    constructor(public readonly key: string, message: string) {
        super(`${key}: ${message}`);
        this.name = "ValidationError";
    }
}

const CHECKED = Symbol("platform.checked");

/**
 * A component's args built by a system from a spec that the system resolved, with the component's
 * own validator and the config keys, where the config entered (validate once, at the edge). A
 * component constructed directly, by a program of its own, checks its args itself.
 */
export type Checked<T extends object> = T & { readonly [CHECKED]: true };

/**
 * Marks a copy of `args` as checked at the config edge (see Checked); only a system's plan says so.
 * The mark is not enumerable: a copy that a caller spreads and changes is checked again.
 */
export function checked<T extends object>(args: T): Checked<T> {
    return Object.defineProperty({ ...args }, CHECKED, { value: true, enumerable: false }) as Checked<T>;
}

/** Whether `args` were checked where the config entered, so the component does not check them again. */
export function isChecked<T extends object>(args: T): args is Checked<T> {
    return (args as Partial<Record<typeof CHECKED, boolean>>)[CHECKED] === true;
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

const MEBIBYTE = 1024 * 1024;
const QUANTITY_EXAMPLE: Record<QuantityKind, string> = { cpu: "250m or 1", memory: "512Mi or 10Gi", storage: "512Mi or 10Gi" };

/** Why a parseable quantity is still wrong for its kind (CPU in cores or millicores; bytes never in milli). */
function quantityKindProblem(text: string, kind: QuantityKind): string | undefined {
    const suffix = quantitySuffix(text);
    if (kind === "cpu" && suffix !== "" && suffix !== "m") {
        return ` (${suffix} is a unit of bytes, not of CPU)`;
    }
    if (kind !== "cpu" && suffix === "m") {
        return ` ("m" is milli: ${text} is a thousandth of ${text.slice(0, -1)} bytes; write Mi for mebibytes)`;
    }
    // No pod or volume lives in less than a mebibyte: such a size is a unit left out ("2" for 2Gi).
    if (kind !== "cpu" && parseQuantity(text)! < MEBIBYTE) {
        return ` (${text} is ${parseQuantity(text)} bytes, less than 1Mi: a unit left out?)`;
    }
    return undefined;
}

/** A Kubernetes quantity of its kind: CPU in cores or millicores, memory and storage in bytes (no milli). */
export function requireQuantity(key: string, value: unknown, kind: QuantityKind): string {
    const allowed = `allowed: e.g. ${QUANTITY_EXAMPLE[kind]}`;
    if (typeof value !== "string" && typeof value !== "number") {
        throw new ValidationError(key, `${show(value)} is not a ${kind} quantity; ${allowed}`);
    }
    const text = String(value);
    const parsed = parseQuantity(text);
    if (parsed === undefined || parsed <= 0) {
        throw new ValidationError(key, `${show(value)} is not a ${kind} quantity; ${allowed}`);
    }
    const problem = quantityKindProblem(text, kind);
    if (problem !== undefined) {
        throw new ValidationError(key, `${show(value)} is not a ${kind} quantity${problem}; ${allowed}`);
    }
    return text;
}

/** An image reference split by the reference grammar (distribution/reference), or undefined when it is none. */
export interface ImageReference {
    /** [registry/]repository */
    name: string;
    tag?: string;
    digest?: string;
}

const DOMAIN = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}$/;

export function parseImageReference(image: string): ImageReference | undefined {
    const at = image.indexOf("@");
    const digest = at < 0 ? undefined : image.substring(at + 1);
    const rest = at < 0 ? image : image.substring(0, at);
    const slash = rest.lastIndexOf("/");
    const colon = rest.lastIndexOf(":");
    const tag = colon > slash ? rest.substring(colon + 1) : undefined;
    const name = colon > slash ? rest.substring(0, colon) : rest;
    const parts = name.split("/");
    // The first part is a registry when it looks like a host (a dot, a port, or localhost).
    const hasDomain = parts.length > 1 && (/[.:]/.test(parts[0]) || parts[0] === "localhost");
    const valid = name.length > 0 && name.length <= 255
        && (!hasDomain || DOMAIN.test(parts[0]))
        && parts.slice(hasDomain ? 1 : 0).every(p => PATH_COMPONENT.test(p))
        && (tag === undefined || TAG.test(tag))
        && (digest === undefined || DIGEST.test(digest));
    return valid ? { name, tag, digest } : undefined;
}

/** The version of an image for the version label: the first 12 hex digits of its digest, else its tag. */
export function imageTag(image: string): string {
    const ref = parseImageReference(image);
    const digest = ref?.digest;
    return digest !== undefined ? digest.substring(digest.indexOf(":") + 1).substring(0, 12) : ref?.tag ?? "";
}

/** A valid image reference that names a version: a tag other than "latest", or a digest. */
export function requirePinnedImage(key: string, value: unknown): string {
    const image = requireNonEmptyString(key, value);
    const ref = parseImageReference(image);
    if (ref === undefined) {
        throw new ValidationError(key,
            `${show(value)} is not an image reference; allowed: [registry/]repository[:tag][@sha256:digest] with the repository ` +
            "in lowercase letters, digits and separators (., _, __, -), e.g. ghcr.io/org/app:1.2.3");
    }
    if (ref.digest === undefined && (ref.tag === undefined || ref.tag === "latest")) {
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

/**
 * Edit distance with adjacent transpositions (optimal string alignment): "platfrom" is one edit
 * from "platform".
 */
export function editDistance(a: string, b: string): number {
    const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
    for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) {
            const cost = a[i - 1] === b[j - 1] ? 0 : 1;
            d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
                d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
            }
        }
    }
    return d[a.length][b.length];
}

/**
 * The known name a misspelt one most likely meant: the same name in other case, or one at most 2
 * edits away when both are long enough for that to be a typo ("replica" -> "replicas", not "gpu" -> "cpu").
 */
export function nearestName(name: string, known: readonly string[]): string | undefined {
    let best: { name: string; distance: number } | undefined;
    for (const k of known) {
        const distance = editDistance(name.toLowerCase(), k.toLowerCase());
        const typo = distance === 0 || (distance <= 2 && distance * 4 <= Math.min(name.length, k.length));
        if (typo && (best === undefined || distance < best.distance)) {
            best = { name: k, distance };
        }
    }
    return best?.name;
}

/** Rejects keys the schema does not know, so a typo never silently falls back to a default. */
export function rejectUnknownKeys(key: string, value: Record<string, unknown>, known: readonly string[]): void {
    for (const k of Object.keys(value)) {
        if (!known.includes(k)) {
            const near = nearestName(k, known);
            throw new ValidationError(`${key}.${k}`,
                `unknown key; allowed keys: ${known.join(", ")}${near === undefined ? "" : ` (did you mean "${near}"?)`}`);
        }
    }
}

const IPV4_CIDR = /^(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}\/([0-9]|[12][0-9]|3[0-2])$/;

/** An IPv4 CIDR narrower than the whole Internet (0.0.0.0/0 is never a peer). */
export function requireCidr(key: string, value: unknown): string {
    if (typeof value !== "string" || !IPV4_CIDR.test(value) || value.endsWith("/0")) {
        throw new ValidationError(key, `${show(value)} is not allowed; allowed: an IPv4 CIDR such as 10.0.0.1/32 (not /0)`);
    }
    return value;
}

/** A non-empty list of IPv4 CIDRs. */
export function requireCidrList(key: string, value: unknown): string[] {
    if (!Array.isArray(value) || value.length === 0) {
        throw new ValidationError(key, `${show(value)} is not allowed; allowed: a non-empty list of IPv4 CIDRs such as ["10.96.0.1/32"]`);
    }
    return value.map((c, i) => requireCidr(`${key}[${i}]`, c));
}

export function requirePort(key: string, value: unknown): number {
    return requireIntInRange(key, value, 1, 65535);
}

const DURATION = /^([0-9]+(ms|s|m|h|d|w|y))+$/;
const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };

/** Seconds of a Prometheus duration ("1h30m" -> 5400), or undefined when it is not one. */
export function durationSeconds(text: string): number | undefined {
    if (!DURATION.test(text)) {
        return undefined;
    }
    let total = 0;
    for (const m of text.matchAll(/([0-9]+)(ms|s|m|h|d|w|y)/g)) {
        total += Number(m[1]) * UNIT_SECONDS[m[2]];
    }
    return total;
}

/** A Prometheus duration such as 15s, 5m or 30d, between min and max seconds. */
export function requireDuration(key: string, value: unknown, example: string, minSeconds = 0.001, maxSeconds = 10 * 31536000): string {
    const seconds = typeof value === "string" ? durationSeconds(value) : undefined;
    if (seconds === undefined || seconds < minSeconds || seconds > maxSeconds) {
        throw new ValidationError(key,
            `${show(value)} is not allowed; allowed: a Prometheus duration such as ${example} ` +
            `(units ms, s, m, h, d, w, y) from ${minSeconds}s to ${maxSeconds}s`);
    }
    return value as string;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Env names that look like secrets (the same pattern as the pack's no-literal-secret-env policy). */
export const SECRET_ENV_NAME = /(password|passwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?)/i;

/**
 * Plain env settings: valid names, string values, nothing that looks like a secret (secrets reach
 * pods from Secrets via secretKeyRef) and none of the names the system sets itself.
 */
export function requirePlainEnv(key: string, value: unknown, reserved: readonly string[] = []): Record<string, string> {
    const env = requireObject(key, value);
    for (const [name, v] of Object.entries(env)) {
        if (!ENV_NAME.test(name)) {
            throw new ValidationError(`${key}.${name}`, "is not an env var name; allowed: letters, digits and '_', not starting with a digit");
        }
        if (reserved.includes(name)) {
            throw new ValidationError(`${key}.${name}`, `is set by the system; allowed: any name except ${reserved.join(", ")}`);
        }
        if (SECRET_ENV_NAME.test(name)) {
            // Never echo the value: it may be the secret.
            throw new ValidationError(`${key}.${name}`, "looks like a secret; allowed: plain settings only (secrets reach pods from Secrets via secretKeyRef)");
        }
        if (typeof v !== "string") {
            throw new ValidationError(`${key}.${name}`, `${show(v)} is not allowed; allowed: a string (quote numbers and booleans)`);
        }
    }
    return env as Record<string, string>;
}
