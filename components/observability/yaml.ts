/**
 * A small YAML emitter for the generated configuration files (Prometheus, alert rules, OTel
 * collector, Grafana provisioning). The configs are built as plain objects and serialised here, so
 * no template text can drift from the data. Strings are always emitted double-quoted (JSON escapes
 * are valid YAML escapes), so no value is ever re-typed by a YAML reader ("on", "1.0", "0755").
 * The program reads YAML at run time only to load kubeconfigs (components/k8s/kube-api.ts, js-yaml);
 * it writes none with a library. Tests read the output back with js-yaml.
 */

export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue | undefined };

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_./-]*$/;
const RESERVED = /^(true|false|yes|no|on|off|null|y|n|~)$/i;

function key(k: string): string {
    return PLAIN_KEY.test(k) && !RESERVED.test(k) ? k : JSON.stringify(k);
}

function scalar(v: string | number | boolean | null): string {
    if (v === null) {
        return "null";
    }
    if (typeof v === "number") {
        if (!Number.isFinite(v)) {
            throw new Error(`yaml: cannot emit the number ${v}`);
        }
        return String(v);
    }
    if (typeof v === "boolean") {
        return v ? "true" : "false";
    }
    return JSON.stringify(v);
}

function isEmptyCollection(v: YamlValue): boolean {
    return typeof v === "object" && v !== null && (Array.isArray(v) ? v.length === 0 : Object.values(v).every(x => x === undefined));
}

function emit(v: YamlValue, indent: string, out: string[]): void {
    if (Array.isArray(v)) {
        for (const item of v) {
            if (typeof item === "object" && item !== null && !isEmptyCollection(item)) {
                const nested: string[] = [];
                emit(item, `${indent}  `, nested);
                // "- " takes the place of the first line's indentation.
                out.push(`${indent}- ${nested[0].substring(indent.length + 2)}`, ...nested.slice(1));
            } else {
                out.push(`${indent}- ${inline(item)}`);
            }
        }
        return;
    }
    if (typeof v === "object" && v !== null) {
        for (const [k, x] of Object.entries(v)) {
            if (x === undefined) {
                continue;
            }
            if (typeof x === "object" && x !== null && !isEmptyCollection(x)) {
                out.push(`${indent}${key(k)}:`);
                emit(x, Array.isArray(x) ? indent : `${indent}  `, out);
            } else {
                out.push(`${indent}${key(k)}: ${inline(x)}`);
            }
        }
        return;
    }
    out.push(`${indent}${scalar(v)}`);
}

function inline(v: YamlValue): string {
    if (Array.isArray(v)) {
        return "[]";
    }
    if (typeof v === "object" && v !== null) {
        return "{}";
    }
    return scalar(v);
}

/** Serialises a plain object to block-style YAML (a document ending in a newline). */
export function toYaml(value: YamlValue): string {
    if (typeof value !== "object" || value === null || isEmptyCollection(value)) {
        return `${inline(value)}\n`;
    }
    const out: string[] = [];
    emit(value, "", out);
    return `${out.join("\n")}\n`;
}
