import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encryptSecrets, generateIdentity } from "@stellar-secrets/sops";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ResolverError } from "./errors.js";
import { createResolver } from "./resolver.js";

let dir: string;
let identity: string;
let vault: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "resolver-layout-"));
  const key = await generateIdentity(); // TEST-ONLY key, generated per run
  identity = key.identity;
  vault = await encryptSecrets(new Map([["stripe_api_key", "sk_test_from_vault"]]), { recipients: [key.recipient] });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A repository under the temp folder with the given stellar.yaml (or none) and files. */
function repo(name: string, project: string | undefined, files: Record<string, string>): string {
  const root = join(dir, name);
  mkdirSync(root, { recursive: true });
  if (project !== undefined) writeFileSync(join(root, "stellar.yaml"), project);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

async function failure(fn: () => Promise<unknown>): Promise<ResolverError> {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ResolverError);
    return e as ResolverError;
  }
  throw new Error("expected a ResolverError");
}

describe("createResolver finds the secrets folder the way stellar.yaml says", () => {
  it("reads <secrets_dir>/<environment>.enc.yaml when stellar.yaml names a secrets_dir", async () => {
    const root = repo("custom", "version: 1\nsecrets_dir: ./config/vault/\nenvironments:\n  production: {}\n", {
      "config/vault/production.enc.yaml": vault,
      "secrets/production.enc.yaml": "not the file the resolver must read\n",
    });
    const r = await createResolver({ environment: "production", root, identities: identity, env: {} });
    expect(r.file).toBe(join(root, "config", "vault", "production.enc.yaml"));
    expect(r.get("stripe_api_key")).toBe("sk_test_from_vault");
  });

  it("reads secrets/ when secrets_dir is written secrets/., ./secrets or secrets// (one folder, as check and review read it)", async () => {
    for (const [i, written] of ["secrets/.", "./secrets", "secrets//"].entries()) {
      const root = repo(`dotted-${i}`, `version: 1\nsecrets_dir: "${written}"\nenvironments:\n  production: {}\n`, { "secrets/production.enc.yaml": vault });
      const r = await createResolver({ environment: "production", root, identities: identity, env: {} });
      expect(r.file, written).toBe(join(root, "secrets", "production.enc.yaml"));
      expect(r.get("stripe_api_key")).toBe("sk_test_from_vault");
    }
  });

  it("uses secrets/ when there is no stellar.yaml or it names no secrets_dir", async () => {
    const bare = repo("bare", undefined, { "secrets/production.enc.yaml": vault });
    expect((await createResolver({ environment: "production", root: bare, identities: identity, env: {} })).file).toBe(join(bare, "secrets", "production.enc.yaml"));
    const plain = repo("plain", "version: 1\n", { "secrets/production.enc.yaml": vault });
    expect((await createResolver({ environment: "production", root: plain, identities: identity, env: {} })).file).toBe(join(plain, "secrets", "production.enc.yaml"));
  });

  it("lists the environments of the configured folder when the environment has no file", async () => {
    const root = repo("listing", "version: 1\nsecrets_dir: vault\n", { "vault/staging.enc.yaml": vault, "vault/catalog.yaml": "{}\n", "secrets/production.enc.yaml": vault });
    const e = await failure(() => createResolver({ environment: "production", root, identities: identity, env: {} }));
    expect(e.code).toBe("UNKNOWN_ENVIRONMENT");
    expect(e.environments).toEqual(["staging"]);
    expect(e.file).toBe(join(root, "vault", "production.enc.yaml"));
  });

  it("refuses a secrets_dir that leaves the repository, and a stellar.yaml that is not YAML (INVALID_CONFIG with its line)", async () => {
    const outside = repo("outside", "version: 1\nsecrets_dir: ../elsewhere\n", {});
    const e = await failure(() => createResolver({ environment: "production", root: outside, identities: identity, env: {} }));
    expect([e.code, e.file, e.line]).toEqual(["INVALID_CONFIG", join(outside, "stellar.yaml"), 2]);
    const broken = repo("broken", "version: 1\nsecrets_dir: [vault\n", { "secrets/production.enc.yaml": vault });
    const b = await failure(() => createResolver({ environment: "production", root: broken, identities: identity, env: {} }));
    expect([b.code, b.file]).toEqual(["INVALID_CONFIG", join(broken, "stellar.yaml")]);
  });

  it("takes only <environment>.enc.yaml, the suffix the checker knows", async () => {
    const root = repo("json", undefined, { "secrets/production.enc.json": vault });
    const e = await failure(() => createResolver({ environment: "production", root, identities: identity, env: {} }));
    expect(e.code).toBe("UNKNOWN_ENVIRONMENT");
    expect(e.environments).toEqual([]);
  });
});

describe("an environment file with lone-CR line breaks (YAML and sops read CR as a line break)", () => {
  const asCr = (t: string) => t.replace(/\n/g, "\r");

  it("is served, its names explain a missing value in another environment, and a reload to the LF file changes no value", async () => {
    const key = await generateIdentity(); // TEST-ONLY key, generated per run
    const production = await encryptSecrets(new Map([["stripe_api_key", "sk_test_cr"], ["webhook_secret", "whsec_cr"]]), { recipients: [key.recipient] });
    const staging = await encryptSecrets(new Map([["stripe_api_key", "sk_test_staging"], ["staging_only", "x"]]), { recipients: [key.recipient] });
    const root = repo("lone-cr", undefined, { "secrets/production.enc.yaml": asCr(production), "secrets/staging.enc.yaml": asCr(staging) });
    const file = join(root, "secrets", "production.enc.yaml");
    const r = await createResolver({ environment: "production", files: { production: file, staging: join(root, "secrets", "staging.enc.yaml") }, identities: key.identity, env: {} });
    expect(r.get("stripe_api_key")).toBe("sk_test_cr");
    expect(r.get("webhook_secret")).toBe("whsec_cr");
    const missing = await failure(async () => r.get("staging_only"));
    expect([missing.code, missing.environments]).toEqual(["MISSING_ENVIRONMENT_VALUE", ["staging"]]);
    writeFileSync(file, production);
    const reloaded = await r.reload();
    expect(reloaded).toMatchObject({ ok: true, unchanged: false, added: [], removed: [], changed: [] });
  });

  it("refuses a lone-CR file whose value was moved to another name (TAMPERED), keeping nothing from it", async () => {
    const key = await generateIdentity(); // TEST-ONLY key, generated per run
    const text = asCr(await encryptSecrets(new Map([["a_key", "alpha"], ["b_key", "beta"]]), { recipients: [key.recipient] }));
    const aValue = /a_key: (ENC\[[^\]]*\])/.exec(text)![1]!;
    const moved = text.replace(/b_key: ENC\[[^\]]*\]/, `b_key: ${aValue}`);
    const root = repo("lone-cr-tampered", undefined, { "secrets/production.enc.yaml": moved });
    const e = await failure(() => createResolver({ environment: "production", root, identities: key.identity, env: {} }));
    expect(e.code).toBe("TAMPERED");
  });
});

describe("createResolver checks its options before it reads anything", () => {
  it("refuses an audit sink that is not a function (a logger object passed by mistake) with INVALID_CONFIG, not a TypeError", async () => {
    const wrong = [{ write: () => undefined }, [() => undefined, "log"], 42];
    for (const audit of wrong) {
      const e = await createResolver({ environment: "staging", files: { staging: "/nonexistent/staging.enc.yaml" }, audit: audit as never }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ResolverError);
      expect((e as ResolverError).code).toBe("INVALID_CONFIG");
      expect((e as ResolverError).hint).toContain("audit");
    }
    const sink = await createResolver({ environment: "staging", files: { staging: "/nonexistent/staging.enc.yaml" }, onSinkError: "warn" as never }).catch((x: unknown) => x);
    expect((sink as ResolverError).code).toBe("INVALID_CONFIG");
  });
});
