import { expect } from "chai";
import { UNKNOWN } from "../lib/k8s";
import { credentialsAsFiles, fileVariantOf, FILE_VARIANTS, imageRepository } from "../credentials";
import { noLiteralSecretEnv } from "../podSecurity";
import { DELETE, mutate, POD_SPEC_PATH, workload, WORKLOAD_TYPES } from "./fixtures";
import { checkResource } from "./util";

const FILE = "/var/run/secrets/platform/db-credentials/password";

/** The valid fixture of this rule: a postgres container that reads its password from a mounted Secret file. */
function postgresWithFile(kind: string) {
    const spec = `props.${POD_SPEC_PATH[kind]}`;
    let w = workload(kind);
    w = mutate(w, `${spec}.containers.0.image`, "postgres:16.4");
    w = mutate(w, `${spec}.containers.0.env`, [{ name: "POSTGRES_DB", value: "app" }, { name: "POSTGRES_PASSWORD_FILE", value: FILE }]);
    w = mutate(w, `${spec}.containers.0.volumeMounts`, [{ name: "db-credentials", mountPath: "/var/run/secrets/platform/db-credentials", readOnly: true }]);
    w = mutate(w, `${spec}.volumes`, [{ name: "db-credentials", secret: { secretName: "db", defaultMode: 0o440 } }]);
    return w;
}

const fromSecret = (name: string, key = "password") => ({ name, valueFrom: { secretKeyRef: { name: "db", key } } });

describe("credentials-as-files", () => {
    for (const kind of Object.keys(WORKLOAD_TYPES)) {
        const c0 = `props.${POD_SPEC_PATH[kind]}.containers.0`;
        it(`${kind}: passes a postgres container reading POSTGRES_PASSWORD_FILE from a mounted Secret`, async () => {
            expect(await checkResource(credentialsAsFiles, postgresWithFile(kind))).to.deep.equal([]);
        });
        it(`${kind}: passes a secretKeyRef for an image with no documented file variant (the shared fixture)`, async () => {
            expect(await checkResource(credentialsAsFiles, workload(kind))).to.deep.equal([]);
        });
        it(`${kind}: reports POSTGRES_PASSWORD from a secretKeyRef on the postgres image`, async () => {
            const bad = mutate(postgresWithFile(kind), `${c0}.env.1`, fromSecret("POSTGRES_PASSWORD"));
            expect(await checkResource(credentialsAsFiles, bad)).to.deep.equal([
                `${kind} shop/api: container "api" gets POSTGRES_PASSWORD from a secretKeyRef, but postgres reads POSTGRES_PASSWORD_FILE: mount the Secret and pass the file's path`,
            ]);
        });
    }

    const d = postgresWithFile("Deployment");
    const c0 = "props.spec.template.spec.containers.0";
    const one = (image: string, env: unknown) => mutate(mutate(d, `${c0}.image`, image), `${c0}.env.1`, env);
    const cases: [string, string, string, string][] = [
        ["mysql:8.4.2", "MYSQL_ROOT_PASSWORD", "mysql", "MYSQL_ROOT_PASSWORD_FILE"],
        ["mongo:7.0.14", "MONGO_INITDB_ROOT_PASSWORD", "mongo", "MONGO_INITDB_ROOT_PASSWORD_FILE"],
        ["grafana/grafana:11.2.2", "GF_SECURITY_ADMIN_PASSWORD", "grafana/grafana", "GF_SECURITY_ADMIN_PASSWORD__FILE"],
        ["docker.elastic.co/elasticsearch/elasticsearch:8.15.0", "ELASTIC_PASSWORD", "elasticsearch/elasticsearch", "ELASTIC_PASSWORD_FILE"],
        ["docker.io/library/postgres:16.4", "POSTGRES_USER", "postgres", "POSTGRES_USER_FILE"],
    ];
    for (const [image, name, repo, variant] of cases) {
        it(`reports ${name} from a secretKeyRef on ${image} (${variant})`, async () => {
            expect(await checkResource(credentialsAsFiles, one(image, fromSecret(name)))).to.deep.equal([
                `Deployment shop/api: container "api" gets ${name} from a secretKeyRef, but ${repo} reads ${variant}: mount the Secret and pass the file's path`,
            ]);
        });
    }

    it("checks init containers too", async () => {
        const bad = mutate(mutate(d, "props.spec.template.spec.initContainers.0.image", "mysql:8.4.2"),
            "props.spec.template.spec.initContainers.0.env.1", fromSecret("MYSQL_PASSWORD"));
        expect(await checkResource(credentialsAsFiles, bad)).to.deep.equal([
            "Deployment shop/api: init container \"init\" gets MYSQL_PASSWORD from a secretKeyRef, but mysql reads MYSQL_PASSWORD_FILE: mount the Secret and pass the file's path",
        ]);
    });

    it("leaves an env var the image has no file variant of alone (REDIS_PASSWORD on redis_exporter)", async () => {
        expect(await checkResource(credentialsAsFiles, one("oliver006/redis_exporter:v1.62.0", fromSecret("REDIS_PASSWORD")))).to.deep.equal([]);
        expect(await checkResource(credentialsAsFiles, one("postgres:16.4", fromSecret("PGPASSWORD")))).to.deep.equal([]);
    });

    it("leaves plain values alone (POSTGRES_USER as a literal is another rule's business)", async () => {
        expect(await checkResource(credentialsAsFiles, one("postgres:16.4", { name: "POSTGRES_USER", value: "app" }))).to.deep.equal([]);
    });

    it("fileVariants is configurable: an image added, or the table emptied", async () => {
        const custom = one("registry.example/app:1.2.3", fromSecret("APP_TOKEN"));
        expect(await checkResource(credentialsAsFiles, custom)).to.deep.equal([]);
        expect(await checkResource(credentialsAsFiles, custom, { fileVariants: [{ image: "app", variables: ["APP_*"], suffix: "_PATH" }] })).to.deep.equal([
            "Deployment shop/api: container \"api\" gets APP_TOKEN from a secretKeyRef, but app reads APP_TOKEN_PATH: mount the Secret and pass the file's path",
        ]);
        expect(await checkResource(credentialsAsFiles, one("postgres:16.4", fromSecret("POSTGRES_PASSWORD")), { fileVariants: [] })).to.deep.equal([]);
    });

    it("never crashes on unknown values", async () => {
        expect(await checkResource(credentialsAsFiles, mutate(d, `${c0}.image`, UNKNOWN))).to.deep.equal([]);
        expect(await checkResource(credentialsAsFiles, mutate(d, `${c0}.env`, UNKNOWN))).to.deep.equal([]);
    });

    it("imageRepository drops registry, library/, tag and digest", () => {
        expect(imageRepository("postgres:16.4")).to.equal("postgres");
        expect(imageRepository("docker.io/library/postgres:16.4")).to.equal("postgres");
        expect(imageRepository("localhost:5000/team/app:1.0")).to.equal("team/app");
        expect(imageRepository("grafana/grafana@sha256:" + "a".repeat(64))).to.equal("grafana/grafana");
        expect(imageRepository("docker.elastic.co/elasticsearch/elasticsearch:8.15.0")).to.equal("elasticsearch/elasticsearch");
    });

    it("fileVariantOf: never proposes a variant of a variant, and matches whole repository names", () => {
        expect(fileVariantOf(FILE_VARIANTS, "grafana/grafana:11.2.2", "GF_SECURITY_ADMIN_PASSWORD__FILE")).to.equal(undefined);
        expect(fileVariantOf(FILE_VARIANTS, "postgres-exporter:1.0", "POSTGRES_PASSWORD")).to.equal(undefined);
        expect(fileVariantOf(FILE_VARIANTS, "bitnami/postgresql:16", "POSTGRES_PASSWORD")).to.equal(undefined);
    });
});

describe("no-literal-secret-env: Secret file paths", () => {
    const d = postgresWithFile("Deployment");
    const spec = "props.spec.template.spec";
    it("passes a *_FILE variable that points into a mounted Secret", async () => {
        expect(await checkResource(noLiteralSecretEnv, d)).to.deep.equal([]);
    });
    it("passes a file of a projected volume with a Secret source", async () => {
        const projected = mutate(d, `${spec}.volumes.0`, { name: "db-credentials", projected: { sources: [{ secret: { name: "db" } }] } });
        expect(await checkResource(noLiteralSecretEnv, projected)).to.deep.equal([]);
    });
    it("reports the same path when the volume is a ConfigMap (a secret in plain text)", async () => {
        const cm = mutate(d, `${spec}.volumes.0`, { name: "db-credentials", configMap: { name: "db" } });
        expect(await checkResource(noLiteralSecretEnv, cm)).to.deep.equal([
            'Deployment shop/api: container "api" sets env POSTGRES_PASSWORD_FILE to a literal secret-looking value; use a mounted Secret file (NAME_FILE) or valueFrom.secretKeyRef',
        ]);
    });
    it("reports a path of a Secret that this container does not mount", async () => {
        const unmounted = mutate(d, `${spec}.containers.0.volumeMounts`, DELETE);
        expect(await checkResource(noLiteralSecretEnv, unmounted)).to.have.length(1);
    });
});
