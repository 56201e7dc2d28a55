/**
 * The write path (pure, text in → text out): files from encryptSecrets read back with our reader
 * and with an independent node:crypto oracle; metadata laid out as spec §8 / §12.8; stable
 * ciphertext for reencryptSecrets; updateKeys keeps values and MAC; rotateDataKey changes every value.
 */
import { createHash } from "node:crypto";
import { parseDocument, isMap, isScalar, Scalar, type Pair } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import {
  SopsError,
  decryptDocument,
  decryptSecrets,
  encryptSecrets,
  parseSecretsFile,
  reencryptSecrets,
  rotateDataKey,
  updateKeys,
  type DecryptedSecrets,
} from "./index.js";
import { oracleDecrypt, oracleEncrypt, oracleMac, oracleSealYaml, testKey } from "../test-fixtures/support.js";

const alice = testKey("alice");
const bob = testKey("bob");
const carol = testKey("carol");
const NOW = new Date("2026-05-06T07:08:09.123Z");

const VALUES = new Map<string, string>([
  ["DATABASE_URL", "postgres://u:p@h:5432/db?sslmode=require"],
  ["MULTI_LINE", "line one\nline two\n\ttabbed \\ backslash\n"],
  ["UNICODE", "héllo wörld — 日本語 🔑"],
  ["EMPTY", ""],
  ["LOOKS_LIKE_NUMBER", "0777"],
  ["LOOKS_LIKE_BOOL", "true"],
  ["YAML_SPECIAL", "- not: a list # nor a comment: 'q' \"dq\" {x} [y] &a *b !tag %"],
  ["LONG", "x".repeat(5000)],
  ["123", "integer-like name"],
  ["10", "sorts before 123 in a JS object"],
  ["true", "boolean-like name"],
  ["null", "null-like name"],
  ["1.5", "float-like name"],
  ["0x1F", "hex-like name"],
  ["yes", "yes-like name"],
  ["~", "tilde name"],
  ["with space", "space in name"],
  ["dotted.name-x", "punctuation in name"],
]);

let text = "";
let dec: DecryptedSecrets;

beforeAll(async () => {
  text = await encryptSecrets(VALUES, { recipients: [alice.recipient, bob.recipient], now: NOW });
  dec = await decryptSecrets(text, [alice.identity]);
});

function topLevelKeys(t: string): string[] {
  const doc = parseDocument(t, { uniqueKeys: true });
  if (!isMap(doc.contents)) throw new Error("root not a map");
  return doc.contents.items.map((p: Pair) => String((p.key as Scalar).value));
}
function rawLines(t: string): Map<string, string> {
  const doc = parseDocument(t);
  const out = new Map<string, string>();
  if (!isMap(doc.contents)) throw new Error("root not a map");
  for (const p of doc.contents.items) {
    const k = String((p.key as Scalar).value);
    if (k !== "sops" && isScalar(p.value)) out.set(k, String(p.value.value));
  }
  return out;
}
function sopsBlock(t: string): string {
  return t.slice(t.search(/^sops:$/m));
}

describe("encryptSecrets output", () => {
  it("round-trips every value, in Map order (integer-like names stay in place)", () => {
    expect([...dec.values]).toEqual([...VALUES]);
    expect(dec.file.entries.map((e) => e.name)).toEqual([...VALUES.keys()]);
    expect(topLevelKeys(text)).toEqual([...VALUES.keys(), "sops"]);
  });

  it("every value decrypts with an independent AES-GCM oracle: AAD 'name:', 32-byte IV, 16-byte tag, type:str, data = plaintext length", () => {
    for (const [name, raw] of rawLines(text)) {
      const plain = VALUES.get(name)!;
      if (plain === "") {
        expect(raw).toBe("");
        continue;
      }
      const m = /^ENC\[AES256_GCM,data:([A-Za-z0-9+/=]+),iv:([A-Za-z0-9+/=]+),tag:([A-Za-z0-9+/=]+),type:str\]$/.exec(raw);
      expect(m, name).not.toBeNull();
      expect(Buffer.from(m![1]!, "base64").length).toBe(Buffer.byteLength(plain));
      expect(Buffer.from(m![2]!, "base64").length).toBe(32);
      expect(Buffer.from(m![3]!, "base64").length).toBe(16);
      expect(oracleDecrypt(dec.dataKey, raw, `${name}:`).plaintext).toBe(plain);
    }
  });

  it("the empty value is written as \"\" and not encrypted", () => {
    expect(text).toMatch(/^EMPTY: (""|'')$/m);
  });

  it("the MAC is SHA-512 over the values in order (upper-case hex), encrypted with AAD = lastmodified", async () => {
    const want = createHash("sha512").update([...VALUES.values()].join("")).digest("hex").toUpperCase();
    expect((await decryptDocument(text, [alice.identity])).macHex).toBe(want);
    const mac = /^ {4}mac: (ENC\[.*\])$/m.exec(text)![1]!;
    expect(oracleDecrypt(dec.dataKey, mac, "2026-05-06T07:08:09Z")).toEqual({ plaintext: want, type: "str" });
  });

  it("integer-, float-, boolean- and null-like names are quoted so yaml.v3 reads strings", () => {
    for (const name of ["123", "10", "true", "null", "1.5", "0x1F", "~"]) {
      expect(text, name).toMatch(new RegExp(`^(["'])${name.replace(/[.*+?^${}()|[\]\\~]/g, "\\$&")}\\1: `, "m"));
    }
    // ordinary names are plain
    expect(text).toMatch(/^DATABASE_URL: ENC\[/m);
  });

  it("a name with a character yaml.v3 does not take raw in a quoted key (line breaks U+0085/U+2028/U+2029, DEL, C1, BOM) is escaped, so sops parses the file", async () => {
    const names = ["nel\u0085x", "ls\u2028x", "ps\u2029x", "del\u007fx", "c1\u0080\u009fx", "bom\ufeffx", "tab\tx", "ctl\u0001x", "astral\u{1d11e}x", "latin é ☃"];
    const t = await encryptSecrets(new Map(names.map((n) => [n, "v"])), { recipients: [alice.recipient], now: NOW });
    const keyLines = t.slice(0, t.indexOf("\nsops:")).split("\n");
    expect(keyLines).toHaveLength(names.length);
    // yaml.v3 reads as printable only: TAB, LF, 0x20-0x7E, U+0085 (a line break), U+00A0-U+D7FF, U+E000-U+FFFD but U+FEFF, U+10000 and up
    for (const line of keyLines) expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]/);
    expect([...(await decryptSecrets(t, [alice.identity])).values.keys()]).toEqual(names);
  });

  it("no line is folded (one line per value, however long)", () => {
    const lines = text.split("\n");
    expect(lines.filter((l) => l.startsWith("LONG: ENC[")).length).toBe(1);
    expect(lines.find((l) => l.startsWith("LONG: "))!.endsWith("type:str]")).toBe(true);
  });

  it("sops is the last key; metadata as sops 3.10.2 writes it (§8.2): fields, order, quoting, 4-space indent, enc literal block", () => {
    expect(topLevelKeys(text).at(-1)).toBe("sops");
    const block = sopsBlock(text);
    const keys = [...block.matchAll(/^ {4}([a-z_]+):/gm)].map((m) => m[1]);
    expect(keys).toEqual(["age", "lastmodified", "mac", "unencrypted_suffix", "version"]);
    expect(block).toMatch(/^ {4}lastmodified: "2026-05-06T07:08:09Z"$/m);
    expect(block).toMatch(/^ {4}version: 3\.10\.2$/m);
    expect(block).toMatch(/^ {4}unencrypted_suffix: _unencrypted$/m);
    expect(block).toMatch(/^ {4}mac: ENC\[AES256_GCM,data:[^\]]+,type:str\]$/m);
    expect(block).toMatch(/^ {8}- recipient: age1/m);
    expect(block).toMatch(/^ {10}enc: \|$/m);
    expect(text.endsWith("\n")).toBe(true);
    // no tabs, every indentation a multiple of 2, metadata under 4-space steps
    expect(text).not.toMatch(/\t/);
  });

  it("each enc is a canonical armored age file (64-column lines, END line and final newline), one per recipient", () => {
    const doc = parseDocument(text);
    const ages = (doc.toJS() as { sops: { age: { recipient: string; enc: string }[] } }).sops.age;
    expect(ages.map((a) => a.recipient)).toEqual([alice.recipient, bob.recipient]);
    for (const a of ages) {
      const lines = a.enc.split("\n");
      expect(lines[0]).toBe("-----BEGIN AGE ENCRYPTED FILE-----");
      expect(lines.at(-2)).toBe("-----END AGE ENCRYPTED FILE-----");
      expect(lines.at(-1)).toBe("");
      const body = lines.slice(1, -2);
      body.slice(0, -1).forEach((l) => expect(l.length).toBe(64));
      expect(body.at(-1)!.length).toBeLessThanOrEqual(64);
      const bin = Buffer.from(body.join(""), "base64");
      expect(bin.toString("latin1").startsWith("age-encryption.org/v1\n-> X25519 ")).toBe(true);
      // exactly one stanza per age file
      expect(bin.toString("latin1").split("\n-> ").length).toBe(2);
    }
  });

  it("metadata parses back: recipients, lastmodified, version", () => {
    const f = parseSecretsFile(text);
    expect(f.recipients).toEqual([alice.recipient, bob.recipient]);
    expect(f.metadata.lastmodified).toBe("2026-05-06T07:08:09Z");
    expect(f.metadata.version).toBe("3.10.2");
    expect(f.metadata.unencrypted_suffix).toBe("_unencrypted");
    expect(text.slice(f.metadataRange.start, f.metadataRange.start + 5)).toBe("sops:");
    for (const e of f.entries) {
      expect(text.slice(e.nameRange.start, e.nameRange.end).replace(/^["']|["']$/g, "")).toBe(e.name);
      expect(text.slice(e.valueRange.start, e.valueRange.end).replace(/^""$/, "")).toBe(e.raw);
    }
  });

  it("both recipients can decrypt; a third cannot", async () => {
    expect([...(await decryptSecrets(text, [bob.identity])).values]).toEqual([...VALUES]);
    const err = await decryptSecrets(text, [carol.identity]).then(() => undefined, (e: unknown) => e);
    expect((err as SopsError).code).toBe("NO_MATCHING_IDENTITY");
  });

  it("field order follows the version written (§8.2), or the version is refused", async () => {
    const layouts: Record<string, { keys: string[]; encFirst: boolean }> = {
      "3.7.1": { keys: ["kms", "gcp_kms", "azure_kv", "hc_vault", "age", "lastmodified", "mac", "pgp", "unencrypted_suffix", "version"], encFirst: false },
      "3.9.2": { keys: ["kms", "gcp_kms", "azure_kv", "hc_vault", "age", "lastmodified", "mac", "pgp", "unencrypted_suffix", "version"], encFirst: false },
      "3.10.2": { keys: ["age", "lastmodified", "mac", "unencrypted_suffix", "version"], encFirst: false },
      "3.12.2": { keys: ["age", "lastmodified", "mac", "unencrypted_suffix", "version"], encFirst: false },
      "3.13.2": { keys: ["age", "lastmodified", "mac", "unencrypted_suffix", "version"], encFirst: true },
    };
    for (const [version, want] of Object.entries(layouts)) {
      let t: string;
      try {
        t = await encryptSecrets(new Map([["A", "a"]]), { recipients: [alice.recipient], version });
      } catch (e) {
        expect(e, version).toBeInstanceOf(SopsError);
        expect((e as SopsError).code).toBe("UNSUPPORTED");
        continue;
      }
      const block = sopsBlock(t);
      expect([...block.matchAll(/^ {4}([a-z_]+):/gm)].map((m) => m[1]), version).toEqual(want.keys);
      expect(block).toMatch(new RegExp(`^ {4}version: ${version.replace(/\./g, "\\.")}$`, "m"));
      if (want.encFirst) expect(block, version).toMatch(/^ {8}- enc: \|\n[\s\S]*?^ {10}recipient: age1/m);
      else expect(block, version).toMatch(/^ {8}- recipient: age1\S+\n {10}enc: \|$/m);
      expect((await decryptSecrets(t, [alice.identity])).values.get("A")).toBe("a");
    }
  });

  it("a version that is not X.Y.Z semver ≥ 3.3.0 is never written", async () => {
    for (const version of ["3.10", "v3", "", "2.0.0", "banana"]) {
      const r = await encryptSecrets(new Map([["A", "a"]]), { recipients: [alice.recipient], version }).then(
        (t) => /^ {4}version: (.*)$/m.exec(t)![1]!,
        (e: unknown) => e,
      );
      if (typeof r === "string") {
        expect(r, version).toMatch(/^\d+\.\d+\.\d+$/);
        const [maj, min] = r.split(".").map(Number);
        expect(maj! > 3 || (maj === 3 && min! >= 3), version).toBe(true);
      } else expect(r).toBeInstanceOf(SopsError);
    }
  });

  it("a name ending in _unencrypted is refused, or written under a crypt rule that still encrypts it", async () => {
    const r = await encryptSecrets(new Map([["TOKEN_unencrypted", "must-stay-secret"]]), { recipients: [alice.recipient] }).then(
      (t) => t,
      (e: unknown) => e,
    );
    if (typeof r !== "string") {
      expect(r).toBeInstanceOf(SopsError);
      expect((r as Error).message).not.toContain("must-stay-secret");
      return;
    }
    expect(r).not.toContain("must-stay-secret");
    expect(r).not.toMatch(/^ {4}unencrypted_suffix: _unencrypted$/m);
  });

  it("refuses a secret named sops, no recipients, or a recipient that is not age1…", async () => {
    for (const [values, recipients] of [
      [new Map([["sops", "x"]]), [alice.recipient]],
      [new Map([["A", "x"]]), []],
      [new Map([["A", "x"]]), ["not-a-recipient"]],
      [new Map([["A", "x"]]), [alice.identity]],
    ] as [Map<string, string>, string[]][]) {
      const e = await encryptSecrets(values, { recipients }).then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(SopsError);
      expect((e as Error).message).not.toContain(alice.identity);
    }
  });
});

describe("reencryptSecrets: stable ciphertext", () => {
  it("changing one value keeps the data key, every other ENC string, and the stanzas byte-identical", async () => {
    const next = new Map(VALUES);
    next.set("UNICODE", "changed ✓");
    const later = new Date(NOW.getTime() + 61_000);
    const t2 = await reencryptSecrets(dec, next, { now: later });
    const d2 = await decryptSecrets(t2, [bob.identity]);
    expect([...d2.values]).toEqual([...next]);
    expect(Buffer.from(d2.dataKey).equals(Buffer.from(dec.dataKey))).toBe(true);
    const before = text.split("\n");
    const after = t2.split("\n");
    expect(after.length).toBe(before.length);
    const changed = after.map((l, i) => (l === before[i] ? null : l)).filter((l): l is string => l !== null);
    expect(changed.map((l) => l.split(":")[0]!.trim())).toEqual(["UNICODE", "lastmodified", "mac"]);
    expect(parseSecretsFile(t2).metadata.lastmodified).toBe("2026-05-06T07:09:10Z");
  });

  it("a write of the same values under the same key in the same second keeps the mac string, as sops's IV stash does (a merge result equal to one side is then not a pasted MAC)", async () => {
    const same = await reencryptSecrets(dec, new Map(VALUES), { now: new Date(NOW.getTime() + 400), recipients: [alice.recipient, bob.recipient, carol.recipient] });
    expect(parseSecretsFile(same).metadata.lastmodified).toBe(parseSecretsFile(text).metadata.lastmodified);
    expect(parseSecretsFile(same).metadata.mac).toBe(parseSecretsFile(text).metadata.mac);
    expect([...(await decryptSecrets(same, [carol.identity])).values]).toEqual([...VALUES]);
    const later = await reencryptSecrets(dec, new Map(VALUES), { now: new Date(NOW.getTime() + 1000) });
    expect(parseSecretsFile(later).metadata.mac).not.toBe(parseSecretsFile(text).metadata.mac);
    const changed = await reencryptSecrets(dec, new Map(VALUES).set("UNICODE", "changed"), { now: NOW });
    expect(parseSecretsFile(changed).metadata.mac).not.toBe(parseSecretsFile(text).metadata.mac);
    // the same values re-encrypted (other ENC strings) in the same second: a fresh mac string, never the one over other ciphertexts
    const stale = { ...dec, values: new Map([...dec.values].map(([k, v]) => [k, `${v}-old`])) };
    const reencrypted = await reencryptSecrets(stale, new Map(VALUES), { now: NOW });
    expect(parseSecretsFile(reencrypted).metadata.lastmodified).toBe(parseSecretsFile(text).metadata.lastmodified);
    expect(parseSecretsFile(reencrypted).metadata.mac).not.toBe(parseSecretsFile(text).metadata.mac);
  });

  it("adding a name appends it (Map order) and changes only mac/lastmodified otherwise; removing drops just that line", async () => {
    const next = new Map(VALUES);
    next.set("NEW_ONE", "brand new");
    const t2 = await reencryptSecrets(dec, next, { now: NOW });
    const body1 = text.slice(0, text.search(/^sops:/m));
    const body2 = t2.slice(0, t2.search(/^sops:/m));
    expect(body2.startsWith(body1)).toBe(true);
    expect(body2.slice(body1.length)).toMatch(/^NEW_ONE: ENC\[[^\n]+\]\n$/);
    const sops1 = sopsBlock(text).split("\n");
    const sops2 = sopsBlock(t2).split("\n");
    expect(sops2.filter((l, i) => l !== sops1[i]).map((l) => l.trim().split(":")[0])).toEqual(["mac"]);

    const fewer = new Map(VALUES);
    fewer.delete("LOOKS_LIKE_BOOL");
    const t3 = await reencryptSecrets(dec, fewer, { now: NOW });
    const lines1 = body1.split("\n").filter((l) => !l.startsWith("LOOKS_LIKE_BOOL:"));
    expect(t3.slice(0, t3.search(/^sops:/m)).split("\n")).toEqual(lines1);
    expect([...(await decryptSecrets(t3, [alice.identity])).values]).toEqual([...fewer]);
  });

  it("renaming a secret re-encrypts it under the new name (AAD), others untouched", async () => {
    const next = new Map([...VALUES].map(([k, v]) => [k === "DATABASE_URL" ? "DB_URL" : k, v] as [string, string]));
    const t2 = await reencryptSecrets(dec, next, { now: NOW });
    const d2 = await decryptSecrets(t2, [alice.identity]);
    expect(d2.values.get("DB_URL")).toBe(VALUES.get("DATABASE_URL"));
    expect(rawLines(t2).get("DB_URL")).not.toBe(rawLines(text).get("DATABASE_URL"));
  });

  it("with an added recipient, the existing stanzas are kept verbatim and the new one gets its own", async () => {
    const t2 = await reencryptSecrets(dec, dec.values, { recipients: [alice.recipient, bob.recipient, carol.recipient], now: NOW });
    const f1 = parseSecretsFile(text);
    const f2 = parseSecretsFile(t2);
    expect(f2.recipients).toEqual([alice.recipient, bob.recipient, carol.recipient]);
    expect(f2.metadata.age[0]!.enc).toBe(f1.metadata.age[0]!.enc);
    expect(f2.metadata.age[1]!.enc).toBe(f1.metadata.age[1]!.enc);
    expect([...(await decryptSecrets(t2, [carol.identity])).values]).toEqual([...VALUES]);
  });

  it("a value changed back and forth gets a fresh IV each time (no IV reuse for a different plaintext)", async () => {
    const a = new Map(VALUES);
    a.set("DATABASE_URL", "first");
    const t1 = await reencryptSecrets(dec, a, { now: NOW });
    const d1 = await decryptSecrets(t1, [alice.identity]);
    const b = new Map(a);
    b.set("DATABASE_URL", "second");
    const t2 = await reencryptSecrets(d1, b, { now: NOW });
    const iv = (t: string) => /^DATABASE_URL: ENC\[.*,iv:([^,]+),/m.exec(t)![1];
    expect(new Set([iv(text), iv(t1), iv(t2)]).size).toBe(3);
  });

  it("reuseFrom: a value set to what another version under the same data key holds keeps that version's ENC string (resolve --theirs of a merge), under another data key it is encrypted anew", async () => {
    // two branches from `dec`: theirs changed DATABASE_URL, ours changed it differently
    const theirsText = await reencryptSecrets(dec, new Map(VALUES).set("DATABASE_URL", "theirs"), { now: NOW });
    const theirs = await decryptSecrets(theirsText, [alice.identity]);
    const oursText = await reencryptSecrets(dec, new Map(VALUES).set("DATABASE_URL", "ours"), { now: NOW });
    const ours = await decryptSecrets(oursText, [alice.identity]);
    const taken = await reencryptSecrets(ours, new Map(VALUES).set("DATABASE_URL", "theirs"), { now: NOW, reuseFrom: [theirs] });
    expect(rawLines(taken).get("DATABASE_URL")).toBe(rawLines(theirsText).get("DATABASE_URL"));
    expect([...(await decryptSecrets(taken, [bob.identity])).values]).toEqual([...new Map(VALUES).set("DATABASE_URL", "theirs")]);
    // without reuseFrom: a fresh ENC string (what a reviewer would read as "changed")
    const fresh = await reencryptSecrets(ours, new Map(VALUES).set("DATABASE_URL", "theirs"), { now: NOW });
    expect(rawLines(fresh).get("DATABASE_URL")).not.toBe(rawLines(theirsText).get("DATABASE_URL"));
    // a version under another data key (rotated) is never copied from: its ciphertext would not open under ours
    const rotatedText = await encryptSecrets(new Map(VALUES).set("DATABASE_URL", "theirs"), { recipients: [alice.recipient], now: NOW });
    const rotated = await decryptSecrets(rotatedText, [alice.identity]);
    const other = await reencryptSecrets(ours, new Map(VALUES).set("DATABASE_URL", "theirs"), { now: NOW, reuseFrom: [rotated] });
    expect(rawLines(other).get("DATABASE_URL")).not.toBe(rawLines(rotatedText).get("DATABASE_URL"));
    expect((await decryptSecrets(other, [alice.identity])).values.get("DATABASE_URL")).toBe("theirs");
  });
});

describe("updateKeys and rotateDataKey", () => {
  it("updateKeys: same data key, every value line and the mac/lastmodified unchanged; stanzas for exactly the new recipients", async () => {
    const t2 = await updateKeys(dec, [bob.recipient, carol.recipient]);
    const body = (t: string) => t.slice(0, t.search(/^sops:/m));
    expect(body(t2)).toBe(body(text));
    const f2 = parseSecretsFile(t2);
    expect(f2.recipients).toEqual([bob.recipient, carol.recipient]);
    expect(f2.metadata.mac).toBe(dec.file.metadata.mac);
    expect(f2.metadata.lastmodified).toBe(dec.file.metadata.lastmodified);
    const d2 = await decryptSecrets(t2, [carol.identity]);
    expect(Buffer.from(d2.dataKey).equals(Buffer.from(dec.dataKey))).toBe(true);
    expect([...d2.values]).toEqual([...VALUES]);
    const err = await decryptSecrets(t2, [alice.identity]).then(() => undefined, (e: unknown) => e);
    expect((err as SopsError).code).toBe("NO_MATCHING_IDENTITY");
  });

  it("updateKeys keeps the stanza of a recipient who stays byte-for-byte (proof for a keyless review that the key did not change)", async () => {
    const t1 = await updateKeys(dec, [bob.recipient, carol.recipient]);
    const d1 = await decryptSecrets(t1, [bob.identity]);
    const t2 = await updateKeys(d1, [bob.recipient, alice.recipient]);
    const stanza = (t: string, r: string) => parseSecretsFile(t).metadata.age.find((x) => x.recipient === r)?.enc;
    expect(stanza(t2, bob.recipient)).toBe(stanza(t1, bob.recipient));
    expect(stanza(t2, carol.recipient)).toBeUndefined();
    expect((await decryptSecrets(t2, [alice.identity])).values.size).toBe(VALUES.size);
  });

  it("rotateDataKey: new data key, every ENC string changes, values and recipients kept", async () => {
    const t2 = await rotateDataKey(dec, { now: NOW });
    const d2 = await decryptSecrets(t2, [bob.identity]);
    expect([...d2.values]).toEqual([...VALUES]);
    expect(Buffer.from(d2.dataKey).equals(Buffer.from(dec.dataKey))).toBe(false);
    expect(d2.file.recipients).toEqual(dec.file.recipients);
    const r1 = rawLines(text);
    for (const [name, raw] of rawLines(t2)) if (VALUES.get(name) !== "") expect(raw, name).not.toBe(r1.get(name));
    // the old data key opens none of the new values
    for (const [name, raw] of rawLines(t2)) if (raw !== "") expect(() => oracleDecrypt(dec.dataKey, raw, `${name}:`)).toThrow();
  });

  it("rotateDataKey with new recipients drops the removed one", async () => {
    const t2 = await rotateDataKey(dec, { recipients: [carol.recipient] });
    expect(parseSecretsFile(t2).recipients).toEqual([carol.recipient]);
    const err = await decryptSecrets(t2, [alice.identity, bob.identity]).then(() => undefined, (e: unknown) => e);
    expect((err as SopsError).code).toBe("NO_MATCHING_IDENTITY");
  });
});

describe("values sops typed (int, float, bool, time) survive our rewrites (sops -d accepts the result)", () => {
  // What `sops encrypt` makes of `port: 8080`, `flag: true`, `ratio: 0.5`, `when: 2024-01-01T00:00:00Z`
  // (spec §2.3): the canonical bytes under their type tag, and those bytes in the MAC.
  const KEY = Buffer.alloc(32, 0x24);
  const typed: [string, string, string][] = [
    ["name", "x", "str"],
    ["port", "8080", "int"],
    ["flag", "True", "bool"],
    ["off", "False", "bool"],
    ["ratio", "0.5", "float"],
    ["when", "2024-01-01T00:00:00Z", "time"],
  ];
  const body = typed.map(([n, v, t]) => `${n}: ${oracleEncrypt(KEY, v, `${n}:`, t)}\n`).join("");
  const sopsMade = () => oracleSealYaml(body, { dataKey: KEY, recipients: [alice.recipient], macValues: typed.map(([, v]) => v) });
  const typeLines = (t: string) => parseSecretsFile(t).entries.map((e) => `${e.name}:${e.type ?? ""}`);

  it("reads them as sops -d prints them (bool in lower case)", async () => {
    const d = await decryptSecrets(sopsMade(), [alice.identity]);
    expect([...d.values]).toEqual([
      ["name", "x"],
      ["port", "8080"],
      ["flag", "true"],
      ["off", "false"],
      ["ratio", "0.5"],
      ["when", "2024-01-01T00:00:00Z"],
    ]);
  });

  it("reencryptSecrets (set another name) keeps each typed ENC string and writes a MAC over sops' canonical bytes (True, not true)", async () => {
    const before = sopsMade();
    const d = await decryptSecrets(before, [alice.identity]);
    const out = await reencryptSecrets(d, new Map([...d.values, ["added", "v"]]), { now: NOW });
    for (const [n] of typed) expect(parseSecretsFile(out).entries.find((e) => e.name === n)?.raw).toBe(parseSecretsFile(before).entries.find((e) => e.name === n)?.raw);
    const again = await decryptSecrets(out, [alice.identity]);
    expect(again.values.get("flag")).toBe("true");
    // the MAC sops computes: canonical bytes per type, in order
    const macHex = oracleDecrypt(KEY, again.file.metadata.mac, again.file.metadata.lastmodified).plaintext;
    expect(macHex).toBe(oracleMac([...typed.map(([, v]) => v), "v"]));
  });

  it("rotateDataKey keeps each value's type (sops -d still prints `port: 8080`, not `port: \"8080\"`)", async () => {
    const d = await decryptSecrets(sopsMade(), [alice.identity]);
    const out = await rotateDataKey(d, { now: NOW });
    expect(typeLines(out)).toEqual(typed.map(([n, , t]) => `${n}:${t}`));
    const again = await decryptSecrets(out, [alice.identity]);
    expect([...again.values]).toEqual([...d.values]);
    const macHex = oracleDecrypt(again.dataKey, again.file.metadata.mac, again.file.metadata.lastmodified).plaintext;
    expect(macHex).toBe(oracleMac(typed.map(([, v]) => v)));
  });

  it("a value set anew is a string, whatever it looks like (the name's old type is not kept)", async () => {
    const d = await decryptSecrets(sopsMade(), [alice.identity]);
    const out = await reencryptSecrets(d, new Map([...d.values, ["flag", "false"], ["port", "80"]]), { now: NOW });
    expect(typeLines(out)).toEqual(["name:str", "port:str", "flag:str", "off:bool", "ratio:float", "when:time"]);
    const again = await decryptSecrets(out, [alice.identity]);
    expect(again.values.get("flag")).toBe("false");
    expect(oracleDecrypt(KEY, again.file.metadata.mac, again.file.metadata.lastmodified).plaintext).toBe(oracleMac(["x", "80", "false", "False", "0.5", "2024-01-01T00:00:00Z"]));
  });
});
