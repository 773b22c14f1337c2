// Usage: ts-node traffic/mermaid-cli.ts <resources.json> [<out.md>] [--stack <name>] [--config <policy-config.json>]
//
// Reads a JSON list of resources ({type, name, props}) - e.g. the resources of a stack captured under
// Pulumi mocks - runs the traffic analysis and writes the Markdown page with the Mermaid graph
// (stdout when no output file is given). Exits 0 even when flows fall outside the plan: the
// policy pack is what enforces; the page marks them.
import * as fs from "fs";
import { fromPlain, renderMarkdown, TrafficConfig, trafficReport } from "./index";

export function main(argv: string[]): number {
    const args = [...argv];
    let stack = "stack";
    let configFile: string | undefined;
    const positional: string[] = [];
    while (args.length) {
        const a = args.shift()!;
        if (a === "--stack") stack = args.shift() ?? stack;
        else if (a === "--config") configFile = args.shift();
        else positional.push(a);
    }
    if (positional.length < 1) {
        process.stderr.write("usage: mermaid-cli <resources.json> [<out.md>] [--stack <name>] [--config <policy-config.json>]\n");
        return 2;
    }
    type PlainList = Parameters<typeof fromPlain>[0];
    const input = JSON.parse(fs.readFileSync(positional[0], "utf8")) as PlainList | { resources: PlainList };
    const list = Array.isArray(input) ? input : input.resources;
    let config: Partial<TrafficConfig> = {};
    if (configFile) {
        const packConfig = JSON.parse(fs.readFileSync(configFile, "utf8")) as Record<string, unknown>;
        const entry = packConfig["traffic-plan"];
        if (entry && typeof entry === "object") {
            const { enforcementLevel: _ignored, ...rest } = entry as Record<string, unknown>;
            config = rest;
        }
    }
    const report = trafficReport(fromPlain(list), config);
    const md = renderMarkdown(report.graph, stack, report.violations);
    if (positional[1]) {
        fs.writeFileSync(positional[1], md);
        process.stderr.write(`wrote ${positional[1]}: ${report.graph.edges.length} flows, ${report.violations.length} outside the plan\n`);
    } else {
        process.stdout.write(md);
    }
    return 0;
}

if (require.main === module) {
    process.exitCode = main(process.argv.slice(2));
}
