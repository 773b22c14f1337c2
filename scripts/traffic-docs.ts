/**
 * Writes docs/traffic-<stack>.md for every stack: the allowed-flow graph computed by the policy
 * pack's traffic analysis from the NetworkPolicies the program generates (under Pulumi mocks).
 * Run: npm run docs:traffic. A unit test fails when the committed pages are out of date.
 */
import "../tests/unit/mocks";
import * as fs from "fs";
import { STACKS, trafficDoc, trafficDocPath } from "../tests/unit/stack-resources";

async function main(): Promise<void> {
    for (const stack of STACKS) {
        fs.writeFileSync(trafficDocPath(stack), await trafficDoc(stack));
        console.log(`wrote ${trafficDocPath(stack)}`);
    }
}

main().catch(e => { console.error(e); process.exitCode = 1; });
