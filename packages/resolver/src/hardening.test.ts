/**
 * Issue 12 in the resolver: access events say `ok` only for values actually handed out, and
 * symbolic links that leave the root are refused unless `allowOutsideLinks`.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encryptSecrets, generateIdentity } from "@stellar-secrets/sops";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AccessEvent } from "./access-log.js";
import { createResolver } from "./resolver.js";

let dir: string;
let identity: string;
let recipient: string;
let text: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "resolver-hardening-"));
  const key = await generateIdentity(); // TEST-ONLY key, generated per run
  identity = key.identity;
  recipient = key.recipient;
  text = await encryptSecrets(new Map([["stripe_api_key", "sk_test_value"], ["hubspot_token", "hs_test_value"]]), { recipients: [key.recipient] });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function repo(name: string): string {
  const root = join(dir, name);
  mkdirSync(join(root, "secrets"), { recursive: true });
  writeFileSync(join(root, "secrets/production.enc.yaml"), text);
  return root;
}

describe("audit outcome", () => {
  it("a header set that fails as a whole logs the values it read with the failure's code, not ok", async () => {
    const events: AccessEvent[] = [];
    const r = await createResolver({ environment: "production", root: repo("audit"), identities: identity, env: {}, audit: (e) => events.push(e) });
    expect(() =>
      r.resolveHeaders([
        { name: "Authorization", type: "secret", secret: "stripe_api_key" },
        { name: "X-Other", type: "secret", secret: "missing_one" },
      ]),
    ).toThrow(expect.objectContaining({ code: "UNKNOWN_SECRET" }));
    expect(events.map((e) => [e.secret, e.outcome])).toEqual([
      ["missing_one", "UNKNOWN_SECRET"],
      ["stripe_api_key", "UNKNOWN_SECRET"],
    ]);
    events.length = 0;
    r.resolveHeaders([{ name: "Authorization", type: "secret", secret: "stripe_api_key" }]);
    expect(events.map((e) => [e.secret, e.outcome])).toEqual([["stripe_api_key", "ok"]]);
    expect(r.names()).toEqual(["stripe_api_key", "hubspot_token"]);
  });
});

describe("symbolic links leaving the root", () => {
  it("an environment file or secrets folder linked outside is OUTSIDE_REPOSITORY unless allowed", async () => {
    const outside = repo("outside");
    const linkedFile = join(dir, "linked-file");
    mkdirSync(join(linkedFile, "secrets"), { recursive: true });
    symlinkSync(join(outside, "secrets/production.enc.yaml"), join(linkedFile, "secrets/production.enc.yaml"));
    const linkedDir = join(dir, "linked-dir");
    mkdirSync(linkedDir);
    symlinkSync(join(outside, "secrets"), join(linkedDir, "secrets"));
    for (const root of [linkedFile, linkedDir]) {
      await expect(createResolver({ environment: "production", root, identities: identity, env: {} })).rejects.toMatchObject({ code: "OUTSIDE_REPOSITORY" });
      const allowed = await createResolver({ environment: "production", root, identities: identity, env: {}, allowOutsideLinks: true });
      expect(allowed.get("stripe_api_key")).toBe("sk_test_value");
    }
    // a link that stays inside (to a file that is no other environment's file) is followed
    const inside = repo("inside");
    mkdirSync(join(inside, "vault"));
    writeFileSync(join(inside, "vault/staging-secrets.yaml"), text);
    symlinkSync(join("..", "vault/staging-secrets.yaml"), join(inside, "secrets/staging.enc.yaml"));
    expect((await createResolver({ environment: "staging", root: inside, identities: identity, env: {} })).get("hubspot_token")).toBe("hs_test_value");
  });
});

describe("an environment's file linked to another environment's file", () => {
  it("is OTHER_ENVIRONMENT_FILE naming both environments, with or without root, never read; the other environment still loads", async () => {
    const root = repo("other-env");
    rmSync(join(root, "secrets/production.enc.yaml"));
    writeFileSync(join(root, "secrets/development.enc.yaml"), text);
    symlinkSync("development.enc.yaml", join(root, "secrets/production.enc.yaml"));
    const file = join(root, "secrets/production.enc.yaml");
    const refused = createResolver({ environment: "production", root, identities: identity, env: {} });
    await expect(refused).rejects.toMatchObject({ code: "OTHER_ENVIRONMENT_FILE", environment: "production", file });
    const error = await refused.catch((e: Error) => e);
    expect(error.message).toContain('symbolic link to development.enc.yaml, the file of environment "development"');
    expect(error.message).not.toContain("sk_test_value");
    // allowOutsideLinks does not change it: the link stays inside the root
    await expect(createResolver({ environment: "production", root, identities: identity, env: {}, allowOutsideLinks: true })).rejects.toMatchObject({ code: "OTHER_ENVIRONMENT_FILE" });
    // the files option reads through the same reader
    await expect(createResolver({ environment: "production", files: { production: file }, identities: identity, env: {} })).rejects.toMatchObject({ code: "OTHER_ENVIRONMENT_FILE" });
    expect((await createResolver({ environment: "development", root, identities: identity, env: {} })).get("stripe_api_key")).toBe("sk_test_value");
  });

  it("a reload after the file became such a link fails with OTHER_ENVIRONMENT_FILE and keeps the last good values", async () => {
    const root = repo("other-env-reload");
    writeFileSync(join(root, "secrets/development.enc.yaml"), await encryptSecrets(new Map([["stripe_api_key", "sk_dev_value"]]), { recipients: [recipient] }));
    const r = await createResolver({ environment: "production", root, identities: identity, env: {} });
    rmSync(join(root, "secrets/production.enc.yaml"));
    symlinkSync("development.enc.yaml", join(root, "secrets/production.enc.yaml"));
    const result = await r.reload();
    expect(result).toMatchObject({ ok: false, error: { code: "OTHER_ENVIRONMENT_FILE" } });
    expect(r.get("stripe_api_key")).toBe("sk_test_value");
  });
});

describe("stellar.yaml that is not UTF-8", () => {
  it("is INVALID_CONFIG with its line, never read leniently", async () => {
    const root = repo("latin1");
    writeFileSync(join(root, "stellar.yaml"), Buffer.from("version: 1\n# caf\xe9\nsecrets_dir: secrets\n", "latin1"));
    await expect(createResolver({ environment: "production", root, identities: identity, env: {} })).rejects.toMatchObject({ code: "INVALID_CONFIG", line: 2 });
  });
});
