import { encryptSecrets, parseSecretsFile } from "@stellar-secrets/sops";
import { describe, expect, it } from "vitest";
import { LineIndex } from "./position.js";
import { checkOtherSecretsFile, parseEnvironmentBytes, parseEnvironmentFile, secretsFileOf } from "./secrets-dir.js";

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

describe("secretsFileOf", () => {
  it("keeps the sops reader's parse of the text beside the model, as parseSecretsFile gives it; none for a text it refuses", async () => {
    const text = await encryptSecrets(new Map([["stripe_api_key", "fake-1"], ["empty_one", ""]]), { recipients: [ALICE] });
    const f = parseEnvironmentFile(text, "secrets/development.enc.yaml", "development");
    expect(secretsFileOf(f)).toEqual(parseSecretsFile(text));
    expect(secretsFileOf(parseEnvironmentFile(text.replace(/^empty_one: .*$/m, "empty_one: fake-clear"), "secrets/development.enc.yaml", "development"))).toBeUndefined();
    expect(secretsFileOf(parseEnvironmentFile("a: [\n", "secrets/staging.enc.yaml", "staging"))).toBeUndefined();
    // a copy of the model is plain data: it has none, and whoever reads it parses the text
    expect(secretsFileOf({ ...f })).toBeUndefined();
  });
});

describe("SOPS metadata (SOPS-FORMAT §8.1, §8.4)", () => {
  const PATH = "secrets/staging.enc.yaml";
  const at = (text: string): string[] =>
    parseEnvironmentFile(text, PATH, "staging").diagnostics.map((d) => `${d.rule} ${d.line}:${d.column} ${text.slice(new LineIndex(text).offsetAt(d.line, d.column), new LineIndex(text).offsetAt(d.endLine, d.endColumn))}`);

  it("reports a missing or empty mac at the sops key or the mac key, saying how to fix it", async () => {
    const text = await encryptSecrets(new Map([["a_key", "fake-1"]]), { recipients: [ALICE] });
    const sopsLine = text.split("\n").indexOf("sops:") + 1;
    const macLine = text.split("\n").findIndex((l) => l.startsWith("    mac:")) + 1;
    expect(at(text)).toEqual([]);
    expect(at(text.replace(/^ {4}mac: .*\n/m, ""))).toEqual([`unencrypted-secrets-file ${sopsLine}:1 sops`]);
    expect(at(text.replace(/^ {4}mac: .*$/m, '    mac: ""'))).toEqual([`unencrypted-secrets-file ${macLine}:5 mac`]);
    const d = parseEnvironmentFile(text.replace(/^ {4}mac: .*\n/m, ""), PATH, "staging").diagnostics[0];
    expect(d?.message).toBe(
      "secrets/staging.enc.yaml: sops.mac is missing, so by SOPS's rules the file is not encrypted and its values cannot be verified; restore the file from git (`git checkout -- secrets/staging.enc.yaml`)",
    );
  });

  it("reports a missing, empty or non-X.Y.Z version, and accepts a leading v", async () => {
    const text = await encryptSecrets(new Map([["a_key", "fake-1"]]), { recipients: [ALICE] });
    const sopsLine = text.split("\n").indexOf("sops:") + 1;
    const versionLine = text.split("\n").findIndex((l) => l.startsWith("    version:")) + 1;
    const withVersion = (v: string): string => text.replace(/^ {4}version: .*$/m, `    version: ${v}`);
    expect(at(text.replace(/^ {4}version: .*\n/m, ""))).toEqual([`unencrypted-secrets-file ${sopsLine}:1 sops`]);
    for (const v of ['""', "3.10", "banana", "3.10.2junk"]) expect(at(withVersion(v)), v).toEqual([`unencrypted-secrets-file ${versionLine}:5 version`]);
    expect(at(withVersion("v3.10.2"))).toEqual([]);
    // a comment after the version on its line is no part of it (YAML; sops reads 3.10.2)
    expect(at(withVersion("3.10.2 # pinned for the CI image"))).toEqual([]);
    expect(at(withVersion('"3.10.2"  # pinned'))).toEqual([]);
    expect(at(withVersion("3.10 # pinned"))).toEqual([`unencrypted-secrets-file ${versionLine}:5 version`]);
    expect(parseEnvironmentFile(withVersion("3.10"), PATH, "staging").diagnostics[0]?.message).toContain('sops.version "3.10" is not a version X.Y.Z');
    // also when the file has plaintext too (the metadata is then read by the fallback)
    const both = withVersion('""').replace(/^a_key: .*$/m, "a_key: fake-clear");
    expect(at(both)).toEqual(["unencrypted-secrets-file 1:8 fake-clear", `unencrypted-secrets-file ${versionLine}:5 version`]);
  });
});

describe("sops.lastmodified as sops 3.13+ reads it (SOPS-FORMAT §8.4)", () => {
  const PATH = "secrets/staging.enc.yaml";
  const at = (text: string): string[] =>
    parseEnvironmentFile(text, PATH, "staging").diagnostics.map((d) => `${d.rule} ${d.line}:${d.column} ${text.slice(new LineIndex(text).offsetAt(d.line, d.column), new LineIndex(text).offsetAt(d.endLine, d.endColumn))}`);

  it("reports an unquoted lastmodified (yaml.v3 reads a timestamp, sops 3.13+ refuses the file) at its key; quoted forms pass", async () => {
    const text = await encryptSecrets(new Map([["a_key", "fake-1"]]), { recipients: [ALICE], now: new Date("2026-01-02T03:04:05Z") });
    const line = text.split("\n").findIndex((l) => l.startsWith("    lastmodified:")) + 1;
    const withLastModified = (v: string): string => text.replace(/^ {4}lastmodified: .*$/m, `    lastmodified: ${v}`);
    expect(at(text)).toEqual([]);
    expect(at(withLastModified("'2026-01-02T03:04:05Z'"))).toEqual([]);
    for (const v of ["2026-01-02T03:04:05Z", "2026-01-02T03:04:05Z # edited", "2026-01-02T03:04:05.5+02:00"]) {
      expect(at(withLastModified(v)), v).toEqual([`unencrypted-secrets-file ${line}:5 lastmodified`]);
    }
    expect(parseEnvironmentFile(withLastModified("2026-01-02T03:04:05Z"), PATH, "staging").diagnostics[0]?.message).toBe(
      "secrets/staging.enc.yaml: sops.lastmodified is not quoted, so sops 3.13 and later read it as a timestamp and refuse to decrypt the file; " +
        'quote it (`lastmodified: "2026-01-02T03:04:05Z"`, as sops and stellar-secrets write it) or restore the file from git (`git checkout -- secrets/staging.enc.yaml`)',
    );
  });

  // found by the keyless fuzz (pnpm fuzz): the MAC's associated data is lastmodified, which sops parses as RFC 3339
  it("reports a lastmodified that is no RFC 3339 time (sops cannot read the metadata, the MAC cannot be opened) at its key", async () => {
    const text = await encryptSecrets(new Map([["a_key", "fake-1"]]), { recipients: [ALICE], now: new Date("2026-01-02T03:04:05Z") });
    const line = text.split("\n").findIndex((l) => l.startsWith("    lastmodified:")) + 1;
    const withLastModified = (v: string): string => text.replace(/^ {4}lastmodified: .*$/m, `    lastmodified: ${v}`);
    for (const v of ['"2026-01-02T0304:05Z"', '"02T03:04:05Z"', '"2026-01-02 03:04:05"', '""', '"yesterday"', '"2026-13-02T03:04:05Z"', '"2026-02-30T03:04:05Z"', '"2026-01-02T25:04:05Z"', '"2019-05-28t15:17:03z"', '"2026-01-02T03:04:05z"']) {
      expect(at(withLastModified(v)), v).toEqual([`unencrypted-secrets-file ${line}:5 lastmodified`]);
    }
    expect(parseEnvironmentFile(withLastModified('"yesterday"'), PATH, "staging").diagnostics[0]?.message).toMatch(/^secrets\/staging\.enc\.yaml: sops\.lastmodified "yesterday" is not an RFC 3339 time/);
    // another spelling of the same time is what sops reads too
    expect(at(withLastModified('"2026-01-02T03:04:05.5+00:00"'))).toEqual([]);
  });
});

describe("crypt rules in RE2 syntax (as sops matches them)", () => {
  const PATH = "secrets/staging.enc.yaml";
  const rules = (text: string) => parseEnvironmentFile(text, PATH, "staging").diagnostics.map((d) => `${d.rule} ${d.line}`);

  it("an encrypted_regex JavaScript cannot compile as written ((?i), [[:upper:]]) is matched as RE2 does: no false report", async () => {
    const text = await encryptSecrets(new Map([["stripe_api_key", "fake-1"], ["hubspot_token", "fake-2"]]), { recipients: [ALICE] });
    const line = text.split("\n").findIndex((l) => l.startsWith("    unencrypted_suffix:")) + 1;
    const withRule = (r: string) => text.replace("unencrypted_suffix: _unencrypted", `encrypted_regex: '${r}'`);
    expect(rules(withRule("(?i)^(STRIPE|HUBSPOT)_"))).toEqual([]);
    expect(rules(withRule("^[[:lower:]]+_"))).toEqual([]);
    // RE2 matches no name: sops reads both values as clear text
    expect(rules(withRule("(?i)^github_"))).toEqual([`unencrypted-secrets-file ${line}`]);
    // valid RE2 not translated: reported, never guessed
    const d = parseEnvironmentFile(withRule("(?i:stripe)"), PATH, "staging").diagnostics;
    expect(d.map((x) => `${x.rule} ${x.line}`)).toEqual([`unencrypted-secrets-file ${line}`]);
    expect(d[0]?.message).toContain("RE2");
  });
});

describe("lone CR line breaks (as YAML and sops read them)", () => {
  const PATH = "secrets/staging.enc.yaml";
  const asCr = (t: string) => t.replace(/\n/g, "\r");

  it("a lone-CR file gives the names, ranges, recipients and (no) diagnostics of the LF file", async () => {
    const text = await encryptSecrets(new Map([["a_key", "fake-1"], ["empty_one", ""]]), { recipients: [ALICE] });
    const lf = parseEnvironmentFile(text, PATH, "staging");
    const cr = parseEnvironmentFile(asCr(text), PATH, "staging");
    expect(cr.diagnostics).toEqual([]);
    expect(cr.entries).toEqual(lf.entries);
    expect(cr.recipients).toEqual([ALICE]);
    expect(cr.recipientsRange).toEqual(lf.recipientsRange);
    expect(cr.stanzas).toEqual(lf.stanzas);
    expect(checkOtherSecretsFile(asCr(text), "secrets/old.yaml")).toEqual([]);
  });

  it("reports a bad version and a plaintext value at the lines a lone CR counts", async () => {
    const text = await encryptSecrets(new Map([["a_key", "fake-1"], ["b_key", "fake-2"]]), { recipients: [ALICE] });
    const versionLine = text.split("\n").findIndex((l) => l.startsWith("    version:")) + 1;
    const diags = (t: string) => parseEnvironmentFile(t, PATH, "staging").diagnostics.map((d) => [d.rule, d.line, d.column, d.endLine, d.endColumn]);
    const badVersion = text.replace(/^ {4}version: .*$/m, "    version: 3.10");
    expect(diags(asCr(badVersion))).toEqual(diags(badVersion));
    expect(diags(asCr(badVersion))).toEqual([["unencrypted-secrets-file", versionLine, 5, versionLine, 12]]);
    const plain = text.replace(/^b_key: ENC\[.*$/m, "b_key: fake-clear");
    expect(diags(asCr(plain))).toEqual(diags(plain));
    expect(diags(asCr(plain))).toEqual([["unencrypted-secrets-file", 2, 8, 2, 18]]);
  });
});

describe("nested values", () => {
  it("reports a crypt rule under which sops reads an encrypted value as clear text (sops then fails the MAC), at the rule", async () => {
    const text = await encryptSecrets(new Map([["stripe_api_key", "fake-1"], ["hubspot_token", "fake-2"], ["empty_one", ""]]), { recipients: [ALICE] });
    const lineOf = (t: string, key: string) => t.split("\n").findIndex((l) => l.startsWith(`    ${key}:`)) + 1;
    const regex = text.replace("    unencrypted_suffix: _unencrypted", "    encrypted_regex: ^nothing$");
    const f = parseEnvironmentFile(regex, "secrets/production.enc.yaml", "production");
    expect(f.diagnostics.map((d) => [d.rule, d.severity, d.line])).toEqual([["unencrypted-secrets-file", "error", lineOf(regex, "encrypted_regex")]]);
    expect(f.diagnostics[0]!.message).toMatch(/sops\.encrypted_regex .*2 encrypted values \(stripe_api_key, hubspot_token\)/);
    const suffix = text.replace("    unencrypted_suffix: _unencrypted", "    unencrypted_suffix: _key");
    const g = parseEnvironmentFile(suffix, "secrets/production.enc.yaml", "production");
    expect(g.diagnostics.map((d) => [d.rule, d.line])).toEqual([["unencrypted-secrets-file", lineOf(suffix, "unencrypted_suffix")]]);
    expect(g.diagnostics[0]!.message).toContain("1 encrypted value (stripe_api_key)");
    const comment = text.replace("    unencrypted_suffix: _unencrypted", "    encrypted_comment_regex: sops");
    expect(parseEnvironmentFile(comment, "secrets/production.enc.yaml", "production").diagnostics.map((d) => d.rule)).toEqual(["unencrypted-secrets-file"]);
    // a rule that keeps every value encrypted is what sops reads too
    for (const ok of ["    encrypted_regex: .", "    unencrypted_regex: ^zzz$", "    encrypted_suffix: _key\n", ""]) {
      const variant = text.replace("    unencrypted_suffix: _unencrypted\n", ok === "" ? "" : `${ok.replace(/\n$/, "")}\n`);
      const d = parseEnvironmentFile(variant, "secrets/production.enc.yaml", "production").diagnostics;
      expect([ok, d.length]).toEqual([ok, ok.includes("_key") ? 1 : 0]);
    }
  });

  it("reports a well-known credential format in a comment of the file (a plain comment stays in clear) as plaintext-credential", async () => {
    const token = ["sk", "live", "51HqLyjWDarjtT1zdp7dcXYZabc123456"].join("_");
    const text = await encryptSecrets(new Map([["stripe_api_key", "fake-1"]]), { recipients: [ALICE] });
    const f = parseEnvironmentFile(`# backup: ${token}\n${text}`, "secrets/production.enc.yaml", "production");
    expect(f.diagnostics.map((d) => [d.rule, d.severity, d.line, d.column])).toEqual([["plaintext-credential", "error", 1, 1]]);
    expect(JSON.stringify(f.diagnostics)).not.toContain(token);
    expect(parseEnvironmentFile(`# rotated yearly\n${text}`, "secrets/production.enc.yaml", "production").diagnostics).toEqual([]);
  });

  it("reports a nested value as such, without plaintext advice when every leaf is encrypted", async () => {
    const text = await encryptSecrets(new Map([["a_key", "fake-1"], ["b_key", "fake-2"]]), { recipients: [ALICE] });
    const nested = text.replace(/^b_key: (.*)$/m, "b:\n    key: $1");
    const f = parseEnvironmentFile(nested, "secrets/staging.enc.yaml", "staging");
    expect(f.diagnostics.map((d) => [d.rule, d.line, d.column, d.secret])).toEqual([["schema", 2, 1, "b"]]);
    expect(f.diagnostics[0]?.message).toBe(
      'secret "b" has a nested value (a map); an environment file maps each name to one string: store each part under its own name with `stellar-secrets set NAME --env staging`, then remove "b" with `stellar-secrets rm b`',
    );
    expect(f.entries.map((e) => [e.name, e.encrypted])).toEqual([["a_key", true], ["b", true]]);
    const plain = parseEnvironmentFile(text.replace(/^b_key: (.*)$/m, "b:\n    key: fake-clear"), "secrets/staging.enc.yaml", "staging");
    expect(plain.diagnostics.map((d) => [d.rule, d.line])).toEqual([["schema", 2], ["unencrypted-secrets-file", 3]]);
    expect(JSON.stringify(plain.diagnostics)).not.toContain("fake-clear");
  });
});

describe("a name without a value (null)", () => {
  it("is a schema error at the name, with no plaintext or rotation advice: sops writes `name: null` for an entry left empty, and it holds no credential", async () => {
    const text = await encryptSecrets(new Map([["a_key", "fake-1"], ["b_key", "fake-2"]]), { recipients: [ALICE] });
    for (const spelling of ["b_key: null", "b_key:", "b_key: ~"]) {
      const f = parseEnvironmentFile(text.replace(/^b_key: .*$/m, spelling), "secrets/production.enc.yaml", "production");
      expect([spelling, f.diagnostics.map((d) => [d.rule, d.severity, d.line, d.column, d.secret])]).toEqual([spelling, [["schema", "error", 2, 1, "b_key"]]]);
      expect(f.diagnostics[0]!.message).toBe(
        'secret "b_key" has no value (null: sops writes one for an entry left empty), and stellar-secrets reads a string for each name: give it a value with `stellar-secrets set b_key --env production`, or remove the line; nothing else in the file can be read until then',
      );
      expect(f.entries.map((e) => [e.name, e.empty, e.encrypted])).toEqual([["a_key", false, true], ["b_key", true, false]]);
      expect(f.recipients).toEqual([ALICE]);
    }
  });
});

describe("parseEnvironmentBytes", () => {
  it("reports bytes that are not UTF-8 at line 1 and leaves the names unknown", async () => {
    const text = await encryptSecrets(new Map([["a_key", "fake-1"]]), { recipients: [ALICE] });
    const good = parseEnvironmentBytes(Buffer.from(text), "secrets/staging.enc.yaml", "staging");
    expect(good).toEqual(parseEnvironmentFile(text, "secrets/staging.enc.yaml", "staging"));
    const bad = parseEnvironmentBytes(Buffer.concat([Buffer.from(text), Buffer.from([0xc3, 0x28, 0xff])]), "secrets/staging.enc.yaml", "staging");
    expect(bad.readable).toBe(false);
    expect(bad.diagnostics.map((d) => [d.rule, d.line, d.column])).toEqual([["unencrypted-secrets-file", 1, 1]]);
    expect(bad.diagnostics[0]?.message).toBe(
      "secrets/staging.enc.yaml is not valid UTF-8 text (sops cannot read it), so it was not read: its encryption and names are not checked, and no missing-environment-value is reported for staging; restore it from git (`git checkout -- secrets/staging.enc.yaml`)",
    );
  });

  it("writes the path in its git command as one shell word: a secrets_dir with $(…) or a space is quoted, never run when pasted", () => {
    const bad = parseEnvironmentBytes(Buffer.from([0xc3, 0x28]), "$(touch x) dir/staging.enc.yaml", "staging");
    expect(bad.diagnostics[0]?.message).toContain("restore it from git (`git checkout -- '$(touch x) dir/staging.enc.yaml'`)");
  });
});

describe("checkOtherSecretsFile", () => {
  it("accepts SOPS files and flags anything else", async () => {
    const enc = await encryptSecrets(new Map([["a_key", "fake-1"]]), { recipients: [ALICE] });
    expect(checkOtherSecretsFile(enc, "secrets/old.yaml")).toEqual([]);
    expect(checkOtherSecretsFile("notes", "secrets/notes.txt").map((d) => [d.rule, d.line, d.column])).toEqual([["unencrypted-secrets-file", 1, 1]]);
  });

  it("an export or decrypted copy committed in plaintext beside the environment files (production.env, production.yaml) says it holds values in plaintext and the fix, never a value (checker session 6, planted)", () => {
    // TEST-ONLY fake values
    const dotenv = "# exported 2026-12-05\nSTRIPE_API_KEY=sk_test_fake_value_0001\nexport ZENDESK_API_TOKEN='fake-zendesk-0002'\nEMPTY=\n";
    const [d] = checkOtherSecretsFile(dotenv, "secrets/production.env");
    expect([d?.rule, d?.line, d?.column]).toEqual(["unencrypted-secrets-file", 1, 1]);
    expect(d?.message).toBe(
      "secrets/production.env is not a SOPS-encrypted file; the secrets folder holds only encrypted environment files (<env>.enc.yaml) and catalog.yaml. It holds 2 values in plaintext (line 2: STRIPE_API_KEY, line 3: ZENDESK_API_TOKEN), an exported or decrypted copy of secrets?: whoever can read the repository reads them. Remove it (`git rm --cached secrets/production.env`, and from git history if it was committed), rotate each value at its provider, and keep the values only in the encrypted environment files (`stellar-secrets set NAME --env production`); a deploy reads them with `stellar-secrets exec`, or `export` to a file outside the repository",
    );
    expect(d?.message).not.toContain("fake");
    const yaml = checkOtherSecretsFile("stripe_api_key: sk_test_fake_value_0003\nzendesk_api_token: ENC[AES256_GCM,data:AAAA,iv:BBBB,tag:CCCC,type:str]\n", "secrets/staging.yaml")[0]?.message;
    expect(yaml).toContain("It holds 1 value in plaintext (line 1: stripe_api_key)");
    expect(yaml).toContain("--env staging");
    // a README or notes beside them: only "not encrypted", as before
    expect(checkOtherSecretsFile("Owner: platform team\n", "secrets/README.md")[0]?.message).toBe(
      "secrets/README.md is not a SOPS-encrypted file; the secrets folder holds only encrypted environment files (<env>.enc.yaml) and catalog.yaml",
    );
  });
});

describe("environment-file-copy (checker session 7, item 2)", () => {
  it("flags an encrypted copy left by git mergetool, patch or an editor, which every command ignores, with the fix; a file of another name is left alone", async () => {
    const enc = await encryptSecrets(new Map([["a_key", "fake-1"]]), { recipients: [ALICE] });
    const found = (path: string) => checkOtherSecretsFile(enc, path).map((d) => [d.rule, d.line, d.column]);
    for (const path of [
      "secrets/production.enc.yaml.orig",
      "secrets/production.enc_BACKUP_4242.yaml",
      "secrets/production.enc_LOCAL_4242.yaml",
      "secrets/production.enc_REMOTE_4242.yaml",
      "secrets/production.enc_BASE_4242.yaml",
      "secrets/production.enc.yaml.BACKUP.4242.yaml",
      "secrets/production.enc.yaml.rej",
      "secrets/production.enc.yaml~",
      "secrets/production.enc.yaml.bak",
    ]) {
      expect(found(path), path).toEqual([["environment-file-copy", 1, 1]]);
    }
    // before: an encrypted file of any other name was accepted without a word
    expect(found("secrets/old.yaml")).toEqual([]);
    expect(found("secrets/production-2024.enc.yaml.tar")).toEqual([]);
    const [d] = checkOtherSecretsFile(enc, "secrets/production.enc.yaml.orig");
    expect(d?.message).toBe(
      "secrets/production.enc.yaml.orig is a leftover of production's environment file secrets/production.enc.yaml (git mergetool's backup of it (mergetool.keepBackup), or patch's): no command reads it, `rotate-key` and member changes do not re-key it (whoever could read production when it was made still can), and `git add -A` commits it. Delete it (`rm secrets/production.enc.yaml.orig`, and `git rm --cached secrets/production.enc.yaml.orig` if it was committed); `stellar-secrets git setup` sets mergetool.keepBackup=false, so git mergetool leaves no such copy",
    );
    // rejected hunks are no SOPS file: one finding, this one, not also "not a SOPS-encrypted file"
    expect(checkOtherSecretsFile("--- a\n+++ b\n@@ -1 +1 @@\n-  a_key: ENC[AES256_GCM,data:AAAA,iv:BBBB,tag:CCCC,type:str]\n", "secrets/staging.enc.yaml.rej").map((d) => d.rule)).toEqual(["environment-file-copy"]);
    // an editor's backup has no mergetool advice
    expect(checkOtherSecretsFile(enc, "secrets/staging.enc.yaml~")[0]?.message).not.toContain("mergetool");
  });

  it("a decrypted copy (values in plaintext) is unencrypted-secrets-file, saying so, never a value", () => {
    // TEST-ONLY fake value
    const [d, ...rest] = checkOtherSecretsFile("stripe_api_key: sk_test_fake_value_0004\n", "secrets/production.enc.yaml.orig");
    expect(rest).toEqual([]);
    expect(d?.rule).toBe("unencrypted-secrets-file");
    expect(d?.message).toContain("It holds 1 value in plaintext (line 1: stripe_api_key)");
    expect(d?.message).toContain("--env production");
    expect(d?.message).not.toContain("fake");
  });
});

describe("unencrypted-secrets-file fix for a name set refuses", () => {
  it("names a valid name to set instead of one ending in _unencrypted (which `set` refuses)", async () => {
    const text = await encryptSecrets(new Map([["stripe_api_key", "fake-1"]]), { recipients: [ALICE] });
    const f = parseEnvironmentFile(`leak_unencrypted: plain-fake\n${text}`, "secrets/staging.enc.yaml", "staging");
    const plain = f.diagnostics.filter((d) => d.rule === "unencrypted-secrets-file");
    expect(plain).toHaveLength(1);
    expect(plain[0]!.message).not.toContain("stellar-secrets set leak_unencrypted");
    expect(plain[0]!.message).toContain("stellar-secrets set leak --env staging");
    expect(plain[0]!.message).not.toContain("plain-fake");
  });
  it("keeps the name when it is valid", async () => {
    const text = await encryptSecrets(new Map([["stripe_api_key", "fake-1"]]), { recipients: [ALICE] });
    const f = parseEnvironmentFile(`hubspot_api_token: plain-fake\n${text}`, "secrets/staging.enc.yaml", "staging");
    expect(f.diagnostics.find((d) => d.rule === "unencrypted-secrets-file")?.message).toContain("stellar-secrets set hubspot_api_token --env staging");
  });
});
