/**
 * The engine pieces scripts/toolchain.sh installs are the upstream builds: the plugin cache lists
 * them at the versions the npm SDKs ask for, the language host reports the CLI's version, and each
 * provider serves its full upstream schema (not a subset of the resources this project uses).
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { pulumiEnv, run } from "./engine";

interface PluginInfo { name: string; kind: string; version: string }
interface Schema { name: string; version?: string; resources: Record<string, unknown> }

describe("toolchain: the upstream engine pieces", function () {
    this.timeout(5 * 60 * 1000);
    let backend = "";
    let env: NodeJS.ProcessEnv = {};
    const pulumi = (...args: string[]) => run("pulumi", args, { env });
    const schema = (plugin: string): Schema => {
        const r = pulumi("package", "get-schema", plugin);
        expect(r.status, r.output.slice(-2000)).to.equal(0);
        return JSON.parse(r.stdout) as Schema;
    };

    before(() => {
        backend = fs.mkdtempSync(path.join(os.tmpdir(), "k8s-platform-toolchain-"));
        env = pulumiEnv(backend);
    });
    after(() => fs.rmSync(backend, { recursive: true, force: true }));

    it("pulumi plugin ls lists kubernetes 4.32.0, random 4.21.1 and kafka 3.13.2", () => {
        const r = pulumi("plugin", "ls", "--json");
        expect(r.status, r.output).to.equal(0);
        const plugins = (JSON.parse(r.stdout) as PluginInfo[]).map(p => `${p.kind}/${p.name}@${p.version}`);
        expect(plugins).to.include.members([
            "resource/kubernetes@4.32.0",
            "resource/random@4.21.1",
            "resource/kafka@3.13.2",
        ]);
    });

    it("pulumi about reports the upstream Node language host of the CLI's release, running Node 22", () => {
        const r = pulumi("about", "--json");
        expect(r.status, r.output.slice(-2000)).to.equal(0);
        const about = JSON.parse(r.stdout) as {
            plugins: PluginInfo[];
            cliAbout: { version: string };
            runtime: { language: string; version: string };
            dependencies: { name: string; version: string }[];
        };
        expect(about.cliAbout.version).to.equal("3.259.0");
        expect(about.plugins.map(p => `${p.kind}/${p.name}@${p.version}`)).to.include("language/nodejs@3.259.0");
        // Runtime and dependencies come from the host's About/GetProgramDependencies calls.
        expect(about.runtime.language).to.equal("nodejs");
        expect(about.runtime.version).to.match(/^v22\./);
        expect(about.dependencies).to.deep.include({ name: "@pulumi/pulumi", version: "3.259.0" });
    });

    it("the random provider serves every upstream resource (not only RandomPassword/RandomString)", () => {
        const s = schema("random");
        expect(s.name).to.equal("random");
        expect(Object.keys(s.resources)).to.include.members([
            "random:index/randomBytes:RandomBytes",
            "random:index/randomId:RandomId",
            "random:index/randomInteger:RandomInteger",
            "random:index/randomPassword:RandomPassword",
            "random:index/randomPet:RandomPet",
            "random:index/randomShuffle:RandomShuffle",
            "random:index/randomString:RandomString",
            "random:index/randomUuid:RandomUuid",
        ]);
    });

    it("the kafka provider serves topics, ACLs, quotas and SCRAM users", () => {
        const s = schema("kafka");
        expect(s.name).to.equal("kafka");
        expect(Object.keys(s.resources)).to.include.members([
            "kafka:index/topic:Topic",
            "kafka:index/acl:Acl",
            "kafka:index/quota:Quota",
            "kafka:index/userScramCredential:UserScramCredential",
        ]);
    });
});
