/**
 * After an interrupted `up`: the pending creates that `recover` must import after the refresh
 * has cleared every pending create.
 *
 * A pending create is an object whose create was sent but never recorded. Cleared, it is created
 * again by the next `up`, which adopts an object that already exists only where it asks for the
 * same thing again:
 * - a Kubernetes object with a fixed name: the provider's server-side apply takes it over;
 * - a Kubernetes object the provider named (`pulumi.com/autonamed`, e.g. the Secrets of
 *   components/k8s/config.ts): the next `up` picks another random name and the first object
 *   would be left behind, untracked; so it is imported under its name;
 * - a Kafka topic: the provider's create fails on an existing topic ("Topic with this name
 *   already exists"); so it is imported, its ID being the topic's name.
 * (`pulumi refresh --import-pending-creates` only relabels the operation in this CLI version;
 * nothing reads the object, so `pulumi import` does it.)
 *
 *   pulumi stack export | node scripts/lib/pending-imports.ts   -> one `pulumi import --file` JSON a line
 */
import * as fs from "fs";

interface PendingOperation {
    type: string;
    resource: { urn: string; type: string; parent?: string; provider?: string; inputs?: Record<string, unknown> };
}

/** The body of a `pulumi import --file`: one resource, its parent and provider by URN. */
export interface ImportFile {
    nameTable: Record<string, string>;
    resources: Array<{ type: string; name: string; id: string; parent?: string; provider?: string }>;
}

const TOPIC = "kafka:index/topic:Topic";
const AUTONAMED = "pulumi.com/autonamed";

/** The ID to import a pending create under, or undefined where clearing it is enough. */
function importId(r: PendingOperation["resource"]): string | undefined {
    if (r.type === TOPIC) {
        const topic = r.inputs?.name;
        if (typeof topic !== "string" || topic === "") {
            throw new Error(`pending create ${r.urn} has no topic name in its inputs`);
        }
        return topic;
    }
    const metadata = r.inputs?.metadata as { name?: unknown; namespace?: unknown; annotations?: Record<string, unknown> } | undefined;
    if (r.type.startsWith("kubernetes:") && metadata?.annotations?.[AUTONAMED] === "true") {
        if (typeof metadata.name !== "string" || metadata.name === "") {
            throw new Error(`pending create ${r.urn} is auto-named but has no name in its inputs`);
        }
        return typeof metadata.namespace === "string" && metadata.namespace !== "" ? `${metadata.namespace}/${metadata.name}` : metadata.name;
    }
    return undefined;
}

/** One import file per pending create to import (each alone: an object that was never created fails alone). */
export function pendingImports(deployment: { pending_operations?: PendingOperation[] }): ImportFile[] {
    return (deployment.pending_operations ?? [])
        .filter(op => op.type === "creating")
        .flatMap(({ resource: r }) => {
            const id = importId(r);
            if (id === undefined) {
                return [];
            }
            const nameTable: Record<string, string> = {};
            if (r.parent) {
                nameTable.parent = r.parent;
            }
            if (r.provider) {
                // A provider reference is "URN::ID"; the name table takes the URN.
                nameTable.provider = r.provider.slice(0, r.provider.lastIndexOf("::"));
            }
            return [{
                nameTable,
                resources: [{
                    type: r.type,
                    name: r.urn.slice(r.urn.lastIndexOf("::") + 2),
                    id,
                    ...(r.parent ? { parent: "parent" } : {}),
                    ...(r.provider ? { provider: "provider" } : {}),
                }],
            }];
        });
}

if (require.main === module) {
    const state = JSON.parse(fs.readFileSync(0, "utf8")) as { deployment?: { pending_operations?: PendingOperation[] } };
    for (const file of pendingImports(state.deployment ?? {})) {
        process.stdout.write(`${JSON.stringify(file)}\n`);
    }
}
