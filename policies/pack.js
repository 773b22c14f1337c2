// The pack's entry when the engine runs it (`--policy-pack policies`). Plain CommonJS on purpose: it
// runs before any TypeScript can be loaded. Two costs of the CrossGuard host, measured in
// docs/benchmarks.md ("Breakdown"), are taken out here; the policies themselves are index.ts.
"use strict";

// 1. The host registers ts-node with full type checking of every file on every run.
//    scripts/ts-cache.js takes over the .ts extension first: the pack's sources are transpiled once
//    per content and cached, as the program's are. Types are checked by `npm run typecheck`
//    (policies: tsc --noEmit) and CI.
require("../scripts/ts-cache-register.js");

// 2. @pulumi/policy's server deserializes a resource's properties again for every policy: once per
//    resource policy for each resource (Analyze), the whole stack once per stack policy
//    (AnalyzeStack). The result is a function of the request's protobuf Struct alone, and the
//    policies only read it (lib/k8s.ts reads through the unknown-checking proxy the server still
//    puts around it per policy), so it is computed once per Struct. Remediate's secret-preserving
//    variant (second argument true) is left as it is.
const deserialize = require("@pulumi/policy/deserialize");
const deserializeOnce = deserialize.deserializeProperties;
const deserialized = new WeakMap();
deserialize.deserializeProperties = function deserializeProperties(struct, proxySecrets) {
    if (proxySecrets || struct === null || typeof struct !== "object") {
        return deserializeOnce(struct, proxySecrets);
    }
    let props = deserialized.get(struct);
    if (props === undefined) {
        props = deserializeOnce(struct, false);
        deserialized.set(struct, props);
    }
    return props;
};

require("./index.ts");
