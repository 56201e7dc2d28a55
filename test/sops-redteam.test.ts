/**
 * Red-team findings on the file format's edges (merge driver, resolve, join, resolver), each
 * end to end through the built CLI: what an attacker who controls a branch, a join request or a
 * file being read could make our commands do, and that they now refuse it with a code.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { createResolver } from "../packages/resolver/src/index.js";
import { encryptSecrets } from "../packages/sops/src/index.js";
import { oracleEncrypt, oracleSealYaml, tempDir, testKey } from "../packages/sops/test-fixtures/support.js";
import { createSandbox, sandboxesCleanedAfterEach } from "./helpers/cli.js";

vi.setConfig({ testTimeout: 120_000 });

const sandboxes = sandboxesCleanedAfterEach();

/** The all-zero X25519 key: a point of small order, which no age-keygen makes and no one holds. */
const NO_ONES_KEY = "age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq5cu47z";

describe("a join request for a key that is a point of small order", () => {
  it("members add refuses it (INVALID_MEMBER, exit 19); a request for it in stellar.yaml is check's schema error, so members approve stops at it (INVALID_CONFIG, exit 17, at the key) before writing anything; it was an internal error (exit 70, an OpenSSL message)", async () => {
    const s = createSandbox();
    sandboxes.push(s);
    expect((await s.run(["init", "--env", "production"])).code).toBe(0);
    expect((await s.run(["set", "stripe_api_key", "--env", "production", "--from-stdin"], { input: "sk_test_redteam" })).code).toBe(0);
    const added = await s.run(["members", "add", "mallory", NO_ONES_KEY, "--env", "production"]);
    expect(added.code, added.stderr).toBe(19);
    expect(added.stderr).toContain("INVALID_MEMBER");
    expect(added.stderr).not.toContain("ERR_OSSL");
    s.write("stellar.yaml", `${s.read("stellar.yaml")}    pending:\n      mallory:\n        key: ${NO_ONES_KEY}\n        requested: 2026-12-03T09:00:00Z\n`);
    const before = { config: s.read("stellar.yaml"), file: s.read("secrets/production.enc.yaml"), sops: s.read(".sops.yaml") };
    const approved = await s.run(["members", "approve", "mallory", "--env", "production"]);
    expect(approved.code, approved.stderr).toBe(17);
    expect(approved.stderr).toMatch(/INVALID_CONFIG: .*stellar\.yaml has 1 problem:\n {2}.*stellar\.yaml:\d+:14: "environments\.production\.pending\.mallory\.key" is no one's age public key: it is a point of small order/);
    expect(approved.stderr).not.toContain("ERR_OSSL");
    expect({ config: s.read("stellar.yaml"), file: s.read("secrets/production.enc.yaml"), sops: s.read(".sops.yaml") }).toEqual(before);
    const check = await s.run(["check", "--json"]);
    expect(check.code, check.stderr).toBe(1);
    expect(check.stdout).toContain("is no one's age public key");
  });

  it("members approve refuses a request for an ssh-ed25519 key that is no curve point as INVALID_MEMBER, as members add does (it was MALFORMED_FILE, exit 13, as if the secrets file were broken)", async () => {
    const s = createSandbox();
    sandboxes.push(s);
    expect((await s.run(["init", "--env", "production"])).code).toBe(0);
    const notAPoint = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    s.write("stellar.yaml", `${s.read("stellar.yaml")}    pending:\n      mallory:\n        key: ${notAPoint}\n        requested: 2026-12-03T09:00:00Z\n`);
    const before = s.read("stellar.yaml");
    const approved = await s.run(["members", "approve", "mallory", "--env", "production"]);
    expect(approved.code, approved.stderr).toBe(19);
    expect(approved.stderr).toContain("INVALID_MEMBER: mallory's request for production asks for a key no one can be given access with: this is not a valid ssh-ed25519 public key");
    expect(s.read("stellar.yaml")).toBe(before);
  });
});

describe("the resolver's errors quote text from the file (a recipient label, a name) without its control characters", () => {
  it("a label holding a newline and terminal escapes cannot forge a deploy log line or drive the terminal through error.message or hint (NO_MATCHING_IDENTITY, NO_IDENTITY, TAMPERED)", async () => {
    const alice = testKey("alice");
    const bob = testKey("bob");
    const text = await encryptSecrets(new Map([["stripe_api_key", "sk_test_redteam_label"]]), { recipients: [alice.recipient] });
    // keyless edits: the label is free text outside the MAC; a quoted name holds any character
    const forged = "\\e]0;pwned\\a\\n2026-12-04T15:00:00Z INFO deploy ok: all secrets verified\\r";
    const labelled = text.replace(`recipient: ${alice.recipient}`, `recipient: "${alice.recipient}${forged}"`);
    const renamed = labelled.replace(/^stripe_api_key:/m, '"stripe\\e[2J_api_key":');
    const { dir, cleanup } = tempDir("redteam-label-");
    try {
      mkdirSync(join(dir, "secrets"));
      const file = join(dir, "secrets/production.enc.yaml");
      const errorOf = async (content: string, identities?: string): Promise<{ code: string; message: string; hint?: string }> => {
        writeFileSync(file, content);
        try {
          await createResolver({ environment: "production", root: dir, ...(identities === undefined ? {} : { identities }), env: {} });
        } catch (error) {
          return error as { code: string; message: string; hint?: string };
        }
        throw new Error("not refused");
      };
      for (const [content, identities, code] of [
        [labelled, bob.identity, "NO_MATCHING_IDENTITY"],
        [labelled, undefined, "NO_IDENTITY"],
        [renamed, alice.identity, "TAMPERED"],
      ] as const) {
        const error = await errorOf(content, identities);
        expect(error.code).toBe(code);
        for (const text of [error.message, error.hint ?? ""]) expect(text, code).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
        expect(error.message, code).toContain(code === "TAMPERED" ? "stripe\\x1b[2J_api_key" : "\\x1b]0;pwned\\x07\\n2026-12-04T15:00:00Z INFO deploy ok");
      }
    } finally {
      cleanup();
    }
  });
});

describe("stated limits (by design of the format; docs/threat-model.md)", () => {
  it("a nested value moved to a top-level name with `:` keeps its tag and the MAC (same associated data): the resolver then serves it under that name, as sops reads it", async () => {
    const alice = testKey("alice");
    const dataKey = randomBytes(32);
    const nested = oracleEncrypt(dataKey, "nested-redteam-value", "db:password:");
    const text = oracleSealYaml(`token: ${oracleEncrypt(dataKey, "t0k3n", "token:")}\ndb:\n    password: ${nested}\n`, { dataKey, recipients: [alice.recipient], macValues: ["t0k3n", "nested-redteam-value"] });
    const { dir, cleanup } = tempDir("redteam-colon-");
    try {
      mkdirSync(join(dir, "secrets"));
      const file = join(dir, "secrets/production.enc.yaml");
      writeFileSync(file, text);
      const before = await createResolver({ environment: "production", root: dir, identities: alice.identity, env: {} });
      expect(() => before.get("db:password")).toThrow(expect.objectContaining({ code: "UNKNOWN_SECRET" }));
      // a keyless edit: the same ENC string under a top-level name
      writeFileSync(file, text.replace(`db:\n    password: ${nested}\n`, `"db:password": ${nested}\n`));
      const after = await createResolver({ environment: "production", root: dir, identities: alice.identity, env: {} });
      expect(after.get("db:password")).toBe("nested-redteam-value");
      before.close();
      after.close();
    } finally {
      cleanup();
    }
  });
});
