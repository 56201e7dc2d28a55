import { describe, expect, it } from "vitest";
import { decryptDocument, decryptSecrets, encryptSecrets, generateIdentity, parseSecretsFile, SopsError } from "./index.js";

async function sample(): Promise<{ text: string; identity: string }> {
  const { identity, recipient } = await generateIdentity();
  const text = await encryptSecrets(new Map([["stripe_api_key", "sk_test_version_case"]]), { recipients: [recipient] });
  return { text, identity };
}

async function codeOf(p: Promise<unknown>): Promise<SopsError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(SopsError);
    return e as SopsError;
  }
  throw new Error("expected a SopsError");
}

describe("sops.version", () => {
  it("refuses to decrypt a file whose version line was deleted (sops would too)", async () => {
    const { text, identity } = await sample();
    const noVersion = text.replace(/^ {4}version: .*\n/m, "");
    expect(noVersion).not.toContain("version:");
    const e = await codeOf(decryptSecrets(noVersion, [identity]));
    expect(e.code).toBe("MALFORMED_FILE");
    expect(e.message).toContain("sops.version is missing");
    expect(e.message).not.toContain("sk_test_version_case");
    const d = await codeOf(decryptDocument(noVersion, [identity], { path: "x.yaml" }));
    expect(d.code).toBe("MALFORMED_FILE");
  });

  it("quotes a non-semver version as written (3.10, not 3.1)", async () => {
    const { text } = await sample();
    const bad = text.replace(/^( {4}version: ).*$/m, "$13.10");
    let error: unknown;
    try {
      parseSecretsFile(bad);
    } catch (e) {
      error = e;
    }
    expect((error as SopsError).code).toBe("MALFORMED_FILE");
    expect((error as SopsError).message).toContain('"3.10"');
  });

  it("quotes it as written in the general reader too (YAML and JSON), as yaml.v3 gives sops the text", async () => {
    const { text, identity } = await sample();
    const yaml = await codeOf(decryptDocument(text.replace(/^( {4}version: ).*$/m, "$13.10"), [identity], { path: "x.yaml" }));
    expect([yaml.code, yaml.reason]).toEqual(["MALFORMED_FILE", "invalid-version"]);
    expect(yaml.message).toContain('`version` "3.10" is not a semantic version');
    const json = JSON.stringify({ a: "ENC[AES256_GCM,data:AAAA,iv:AAAAAAAAAAAAAAAAAAAAAA==,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]", sops: { age: [], lastmodified: "2026-01-01T00:00:00Z", mac: "", version: "X" } }).replace('"X"', "3.10");
    const e = await codeOf(decryptDocument(json, [identity], { path: "x.json" }));
    expect(e.message).toContain('"3.10"');
    // a version that is text already is shown as it is
    const quoted = await codeOf(decryptDocument(text.replace(/^( {4}version: ).*$/m, '$1"3.10"'), [identity], { path: "x.yaml" }));
    expect(quoted.message).toContain('"3.10"');
  });
});

describe("editSecretsFile", () => {
  it("leaves the file byte-identical when the change changes nothing", async () => {
    const { mkdtempSync, readFileSync, writeFileSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { editSecretsFile } = await import("./index.js");
    const dir = mkdtempSync(join(tmpdir(), "sops-noop-"));
    try {
      const { text, identity } = await sample();
      const path = join(dir, "development.enc.yaml");
      writeFileSync(path, text);
      await editSecretsFile(path, [identity], (values) => {
        values.set("stripe_api_key", "sk_test_version_case");
      });
      expect(readFileSync(path, "utf8")).toBe(text);
      await editSecretsFile(path, [identity], (values) => {
        values.set("stripe_api_key", "sk_test_changed");
      });
      expect(readFileSync(path, "utf8")).not.toBe(text);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
