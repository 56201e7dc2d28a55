import { encryptSecrets } from "@stellar-secrets/sops";
import { describe, expect, it } from "vitest";
import { checkOtherSecretsFile, parseEnvironmentFile } from "./secrets-dir.js";

// public half of test/fixtures/keys/alice.txt (TEST-ONLY)
const ALICE = "age1r7t4nna8sqyctkujc4lwpun9ged8qz0a4vt2esnxcg8cq7cm84kqdr8nx2";

describe("parseEnvironmentFile", () => {
  it("reads names, ranges and recipients without a key", async () => {
    const text = await encryptSecrets(new Map([["stripe_api_key", "fake-1"], ["empty_one", ""]]), { recipients: [ALICE] });
    const f = parseEnvironmentFile(text, "secrets/development.enc.yaml", "development");
    expect(f.diagnostics).toEqual([]);
    expect(f.recipients).toEqual([ALICE]);
    expect(f.entries.map((e) => [e.name, e.empty, e.encrypted, text.slice(e.range.start, e.range.end)])).toEqual([
      ["stripe_api_key", false, true, "stripe_api_key"],
      ["empty_one", true, false, "empty_one"],
    ]);
    expect(text.slice(f.recipientsRange!.start, f.recipientsRange!.end)).toBe("age");
  });

  it("flags each plaintext value at the value, without showing it, and keeps the names", async () => {
    const enc = await encryptSecrets(new Map([["a_key", "fake-1"], ["b_key", "fake-2"]]), { recipients: [ALICE] });
    const text = enc.replace(/^b_key: ENC\[.*$/m, "b_key: fake-clear");
    const f = parseEnvironmentFile(text, "secrets/production.enc.yaml", "production");
    expect(f.entries.map((e) => e.name)).toEqual(["a_key", "b_key"]);
    expect(f.diagnostics.map((d) => [d.rule, d.line, d.column, d.secret])).toEqual([["unencrypted-secrets-file", 2, 8, "b_key"]]);
    expect(JSON.stringify(f.diagnostics)).not.toContain("fake-clear");
    expect(f.recipients).toEqual([ALICE]);
  });

  it("flags a file without SOPS metadata and an unreadable one", () => {
    const plain = parseEnvironmentFile("x_key: value\n", "secrets/staging.enc.yaml", "staging");
    expect(plain.diagnostics.map((d) => [d.rule, d.line])).toEqual([
      ["unencrypted-secrets-file", 1],
      ["unencrypted-secrets-file", 1],
    ]);
    expect(plain.readable).toBe(true);
    const broken = parseEnvironmentFile("a: [\n", "secrets/staging.enc.yaml", "staging");
    expect(broken.readable).toBe(false);
    expect(broken.diagnostics.map((d) => d.rule)).toEqual(["unencrypted-secrets-file"]);
  });
});

describe("checkOtherSecretsFile", () => {
  it("accepts SOPS files and flags anything else", async () => {
    const enc = await encryptSecrets(new Map([["a_key", "fake-1"]]), { recipients: [ALICE] });
    expect(checkOtherSecretsFile(enc, "secrets/old.yaml")).toEqual([]);
    expect(checkOtherSecretsFile("notes", "secrets/notes.txt").map((d) => [d.rule, d.line, d.column])).toEqual([["unencrypted-secrets-file", 1, 1]]);
  });
});
