/**
 * Tampering and bad input (issue 2 item 5): each case is refused with its named SopsError code, and
 * no error text (message, stack, hint, cause chain) ever contains a plaintext value or key material.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  SopsError,
  decryptDocument,
  decryptSecrets,
  encryptSecrets,
  isSopsEncrypted,
  parseSecretsBytes,
  parseSecretsFile,
  readSecretsFile,
  type DecryptedSecrets,
} from "./index.js";
import { assertNoLeak, catchError, oracleEncrypt, oracleSealYaml, tempDir, testKey } from "../test-fixtures/support.js";

const alice = testKey("alice");
const bob = testKey("bob");

/** Distinctive plaintexts, so a leak is detectable anywhere in an error. */
const SECRETS = new Map<string, string>([
  ["DATABASE_URL", "postgres://app:pw-Zq81-leakcheck@db.internal:5432/app"],
  ["API_KEY", "sk-live-7f3a9c2e-leakcheck-000111"],
  ["WEBHOOK_SECRET", "whsec-LEAKCHECK-9911"],
  ["SHORT", "xyz-leakcheck"],
]);

let text = "";
let good: DecryptedSecrets;
let keyMaterial: string[] = [];

function allSecrets(): string[] {
  return [...SECRETS.values(), alice.identity, bob.identity, ...keyMaterial];
}

async function refused(p: Promise<unknown> | (() => unknown), code: string, extraSecrets: string[] = []): Promise<SopsError> {
  let err: unknown;
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    err = e;
  }
  expect(err, `expected a SopsError ${code}`).toBeInstanceOf(SopsError);
  expect((err as SopsError).code).toBe(code);
  assertNoLeak(err, [...allSecrets(), ...extraSecrets]);
  return err as SopsError;
}

function lineOf(t: string, prefix: string): number {
  return t.split("\n").findIndex((l) => l.startsWith(prefix)) + 1;
}

/** Replaces the value of top-level `name:` with `value` (raw text). */
function setRaw(t: string, name: string, value: string): string {
  return t.replace(new RegExp(`^${name}: .*$`, "m"), () => `${name}: ${value}`);
}
function rawOf(t: string, name: string): string {
  const m = new RegExp(`^${name}: (.*)$`, "m").exec(t);
  if (!m) throw new Error(`no ${name}`);
  return m[1]!;
}
/** Changes one character of field `field` (data|iv|tag) of an ENC string. */
function flip(encValue: string, field: "data" | "iv" | "tag", offset = 0): string {
  const i = encValue.indexOf(`${field}:`) + field.length + 1 + offset;
  const c = encValue[i]!;
  return encValue.slice(0, i) + (c === "A" ? "B" : "A") + encValue.slice(i + 1);
}

beforeAll(async () => {
  text = await encryptSecrets(SECRETS, { recipients: [alice.recipient], now: new Date("2026-03-04T05:06:07Z") });
  good = await decryptSecrets(text, [alice.identity]);
  keyMaterial = [Buffer.from(good.dataKey).toString("hex"), Buffer.from(good.dataKey).toString("base64")];
});

describe("the untampered file", () => {
  it("decrypts (baseline for every case below)", () => {
    expect([...good.values]).toEqual([...SECRETS]);
  });
});

describe("tampering is refused", () => {
  it("one changed character in the data, iv or tag of ANY ENC value → TAMPERED", async () => {
    for (const name of SECRETS.keys()) {
      for (const field of ["data", "iv", "tag"] as const) {
        for (const offset of [0, 5]) {
          const bad = setRaw(text, name, flip(rawOf(text, name), field, offset));
          expect(bad).not.toBe(text);
          const err = await refused(decryptSecrets(bad, [alice.identity]), "TAMPERED");
          expect(err.message).toContain(name); // says which secret failed
        }
      }
    }
  });

  it("one changed character in mac → MAC_MISMATCH", async () => {
    const mac = /^ {4}mac: (.*)$/m.exec(text)![1]!;
    for (const field of ["data", "iv", "tag"] as const) {
      await refused(decryptSecrets(text.replace(mac, flip(mac, field)), [alice.identity]), "MAC_MISMATCH");
    }
  });

  it("mac deleted, or empty → MAC_MISMATCH", async () => {
    await refused(decryptSecrets(text.replace(/^ {4}mac: .*\n/m, ""), [alice.identity]), "MAC_MISMATCH");
    await refused(decryptSecrets(text.replace(/^( {4}mac: ).*$/m, '$1""'), [alice.identity]), "MAC_MISMATCH");
  });

  it("an ENC value replaced by plaintext → NOT_ENCRYPTED (plaintext not echoed)", async () => {
    const planted = "hunter2-planted-plaintext";
    const bad = setRaw(text, "API_KEY", planted);
    await refused(decryptSecrets(bad, [alice.identity]), "NOT_ENCRYPTED", [planted]);
    await refused(() => parseSecretsFile(bad), "NOT_ENCRYPTED", [planted]);
    const err = await refused(decryptDocument(bad, [alice.identity]), "NOT_ENCRYPTED", [planted]);
    expect(err.line).toBe(lineOf(bad, "API_KEY:"));
  });

  it("a key deleted → MAC_MISMATCH", async () => {
    const bad = text.replace(/^WEBHOOK_SECRET: .*\n/m, "");
    await refused(decryptSecrets(bad, [alice.identity]), "MAC_MISMATCH");
    await refused(decryptDocument(bad, [alice.identity]), "MAC_MISMATCH");
  });

  it("two flat values swapped between keys → TAMPERED", async () => {
    const a = rawOf(text, "API_KEY");
    const b = rawOf(text, "WEBHOOK_SECRET");
    const bad = setRaw(setRaw(text, "API_KEY", b), "WEBHOOK_SECRET", a);
    await refused(decryptSecrets(bad, [alice.identity]), "TAMPERED");
  });

  it("two whole lines swapped (names move with values) → MAC_MISMATCH (order is in the MAC)", async () => {
    const l1 = `API_KEY: ${rawOf(text, "API_KEY")}`;
    const l2 = `WEBHOOK_SECRET: ${rawOf(text, "WEBHOOK_SECRET")}`;
    const bad = text.replace(l1, "\u0000").replace(l2, l1).replace("\u0000", l2);
    await refused(decryptSecrets(bad, [alice.identity]), "MAC_MISMATCH");
  });

  it("two list items swapped in a general document → MAC_MISMATCH (same AAD, order in the MAC)", async () => {
    const key = Buffer.alloc(32, 9);
    const items = ["first-item-leakcheck", "second-item-leakcheck", "third-item-leakcheck"];
    const encs = items.map((i) => oracleEncrypt(key, i, "hosts:"));
    const body = `hosts:\n${encs.map((e) => `    - ${e}`).join("\n")}\nname: ${oracleEncrypt(key, "n", "name:")}\n`;
    const doc = oracleSealYaml(body, { dataKey: key, recipients: [alice.recipient], macValues: [...items, "n"] });
    const ok = await decryptDocument(doc, [alice.identity]);
    expect(ok.tree).toEqual({ hosts: items, name: "n" });
    const swapped = doc.replace(encs[0]!, "\u0000").replace(encs[2]!, encs[0]!).replace("\u0000", encs[2]!);
    await refused(decryptDocument(swapped, [alice.identity]), "MAC_MISMATCH", [...items, key.toString("hex")]);
    // an item moved into another list → TAMPERED
    const moved = `${body}other:\n    - ${encs[1]}\n`;
    const doc2 = oracleSealYaml(moved, { dataKey: key, recipients: [alice.recipient], macValues: [...items, "n", items[1]!] });
    await refused(decryptDocument(doc2, [alice.identity]), "TAMPERED", [...items]);
  });

  it("a value moved to another key (renamed, or copied over a different key) → TAMPERED", async () => {
    const renamed = text.replace(/^API_KEY:/m, "API_TOKEN:");
    await refused(decryptSecrets(renamed, [alice.identity]), "TAMPERED");
    const copied = setRaw(text, "SHORT", rawOf(text, "API_KEY"));
    await refused(decryptSecrets(copied, [alice.identity]), "TAMPERED");
  });

  it("the wrong key → NO_MATCHING_IDENTITY naming the file's recipients and where keys were looked for", async () => {
    const err = await refused(
      decryptSecrets(text, { identities: [bob.identity], sources: ["SOPS_AGE_KEY_FILE (/home/test/bob-keys.txt)"] }, { path: "secrets/prod.enc.yaml" }),
      "NO_MATCHING_IDENTITY",
    );
    expect(err.message).toContain(alice.recipient);
    expect(err.message).toContain("/home/test/bob-keys.txt");
    expect(err.message).toContain("secrets/prod.enc.yaml");
    expect(err.message).not.toContain(bob.identity);
  });

  it("no key at all → NO_IDENTITY", async () => {
    await refused(decryptSecrets(text, []), "NO_IDENTITY");
    const err = await refused(decryptSecrets(text, { identities: [], sources: ["SOPS_AGE_KEY (unset)", "/home/test/.config/sops/age/keys.txt (missing)"] }), "NO_IDENTITY");
    expect(err.message + (err.hint ?? "")).toContain("/home/test/.config/sops/age/keys.txt");
  });

  it("an enc stanza that is not valid age armor, with no other stanza → refused, no leak", async () => {
    const bad = text.replace(/-----BEGIN AGE ENCRYPTED FILE-----\n(\s+)[A-Za-z0-9+/]/, (m) => m.slice(0, -1) + (m.endsWith("A") ? "B" : "A"));
    expect(bad).not.toBe(text);
    const err = await decryptSecrets(bad, [alice.identity]).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(SopsError);
    expect(["NO_MATCHING_IDENTITY", "MALFORMED_FILE"]).toContain((err as SopsError).code);
    assertNoLeak(err, allSecrets());
  });
});

describe("the same tampering in a CRLF file (a Windows checkout, read by the line readers)", () => {
  it("is refused with the code, line and message of the LF file, leaking nothing", async () => {
    const crlf = (t: string) => t.replace(/\n/g, "\r\n");
    const mac = /^ {4}mac: (.*)$/m.exec(text)![1]!;
    const edits: Record<string, string> = {
      "data changed": setRaw(text, "API_KEY", flip(rawOf(text, "API_KEY"), "data", 3)),
      "tag changed": setRaw(text, "SHORT", flip(rawOf(text, "SHORT"), "tag")),
      "mac changed": text.replace(mac, flip(mac, "iv")),
      "mac deleted": text.replace(/^ {4}mac: .*\n/m, ""),
      "key deleted": text.replace(/^WEBHOOK_SECRET: .*\n/m, ""),
      "values swapped": setRaw(setRaw(text, "API_KEY", rawOf(text, "WEBHOOK_SECRET")), "WEBHOOK_SECRET", rawOf(text, "API_KEY")),
      renamed: text.replace(/^API_KEY:/m, "API_TOKEN:"),
      "plaintext planted": setRaw(text, "API_KEY", "hunter2-planted-plaintext"),
      "duplicate key": text.replace(/^(SHORT: .*)$/m, `$1\nAPI_KEY: ${rawOf(text, "API_KEY")}`),
      "duplicate in the sops block": text.replace(/^( {4}version: .*)$/m, "$1\n    version: 3.10.2"),
    };
    for (const [what, lf] of Object.entries(edits)) {
      expect(lf, what).not.toBe(text);
      const a = await catchError(() => decryptSecrets(lf, [alice.identity], { path: "secrets/prod.enc.yaml" }));
      const b = await catchError(() => decryptSecrets(crlf(lf), [alice.identity], { path: "secrets/prod.enc.yaml" }));
      expect(b, what).toBeInstanceOf(SopsError);
      const summary = (e: unknown) => ({ code: (e as SopsError).code, line: (e as SopsError).line, column: (e as SopsError).column, message: (e as SopsError).message });
      expect(summary(b), what).toEqual(summary(a));
      assertNoLeak(b, [...allSecrets(), "hunter2-planted-plaintext"]);
    }
  });
});

describe("bad input is refused", () => {
  it("malformed YAML → MALFORMED_FILE with the line", async () => {
    const lines = text.split("\n");
    lines.splice(1, 0, 'BROKEN: "unterminated');
    const bad = lines.join("\n");
    const e1 = await refused(() => parseSecretsFile(bad, { path: "secrets/x.enc.yaml" }), "MALFORMED_FILE");
    expect(e1.line).toBeGreaterThanOrEqual(2);
    expect(e1.file).toBe("secrets/x.enc.yaml");
    expect(e1.message).toContain("secrets/x.enc.yaml:");
    const e2 = await refused(decryptSecrets(bad, [alice.identity], { path: "secrets/x.enc.yaml" }), "MALFORMED_FILE");
    expect(e2.line).toBe(e1.line);
    // a line that is not `key: value`, and a tab used as indentation, both on line 3
    for (const junk of ["this line has no colon", "\tINDENTED: with a tab"]) {
      const lines3 = text.split("\n");
      lines3.splice(2, 0, junk);
      const e3 = await refused(() => parseSecretsFile(lines3.join("\n"), { path: "p.enc.yaml" }), "MALFORMED_FILE");
      expect(e3.line).toBe(3);
      expect(e3.message).toContain("p.enc.yaml:3");
    }
  });

  it("a root that is not a mapping, and a nested value in an env file → MALFORMED_FILE", async () => {
    await refused(() => parseSecretsFile("- a\n- b\n"), "MALFORMED_FILE");
    const nested = text.replace(/^SHORT: .*$/m, "SHORT:\n    inner: x");
    const e = await refused(() => parseSecretsFile(nested), "MALFORMED_FILE");
    expect(e.line).toBe(lineOf(nested, "SHORT:"));
  });

  it("a YAML tag on a value or a name (`SHORT: !!int ENC[...]`, which sops cannot decode; `!!binary`; a local tag) → MALFORMED_FILE at its line, on every reader", async () => {
    for (const tag of ["!!int", "!!bool", "!!float", "!!null", "!!binary", "!custom", "!<tag:example.com,2000:x>"]) {
      const tagged = text.replace(/^SHORT: /m, `SHORT: ${tag} `);
      const e = await refused(() => parseSecretsFile(tagged, { path: "p.enc.yaml" }), "MALFORMED_FILE");
      expect(e.line, tag).toBe(lineOf(tagged, "SHORT:"));
      expect(e.message, tag).toContain(`secret "SHORT"'s value has a YAML tag (${tag.startsWith("!<") ? "tag:example.com,2000:x" : tag})`);
      expect(e.hint, tag).toContain("values are written as plain ENC[...] strings");
      await refused(decryptSecrets(tagged, [alice.identity]), "MALFORMED_FILE");
      await refused(decryptDocument(tagged, [alice.identity]), "MALFORMED_FILE");
    }
    expect((await refused(() => parseSecretsFile(text.replace(/^SHORT: /m, "SHORT: !!int ")), "MALFORMED_FILE")).message).toContain("sops refuses the file (it cannot decode a string as !!int)");
    // a tag on the name
    await refused(() => parseSecretsFile(text.replace(/^SHORT: /m, "!!int SHORT: ")), "MALFORMED_FILE");
    // `!!str` (and the non-specific `!`) mean what no tag means: read as before
    for (const same of ["!!str", "!"]) {
      const plain = await decryptSecrets(text.replace(/^SHORT: /m, `SHORT: ${same} `).replace(/^API_KEY: /m, `!!str API_KEY: `), [alice.identity]);
      expect(plain.values.get("SHORT"), same).toBe(SECRETS.get("SHORT"));
    }
  });

  it("a bad ENC grammar → MALFORMED_FILE (or NOT_ENCRYPTED), never a crash", async () => {
    const bad = setRaw(text, "SHORT", "ENC[AES256_GCM,data:abc]");
    const err = await decryptSecrets(bad, [alice.identity]).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(SopsError);
    expect(["MALFORMED_FILE", "NOT_ENCRYPTED"]).toContain((err as SopsError).code);
  });

  it("duplicate keys → DUPLICATE_KEY at the second occurrence", async () => {
    const dup = text.replace(/^(SHORT: .*)$/m, `$1\nAPI_KEY: ${rawOf(text, "API_KEY")}`);
    const second = dup.split("\n").findIndex((l, i) => l.startsWith("API_KEY:") && i + 1 !== lineOf(dup, "API_KEY:")) + 1;
    const e = await refused(() => parseSecretsFile(dup), "DUPLICATE_KEY");
    expect(e.line).toBe(second);
    await refused(decryptSecrets(dup, [alice.identity]), "DUPLICATE_KEY");
    await refused(decryptDocument(dup, [alice.identity]), "DUPLICATE_KEY");
    // duplicates inside the sops block too
    const dupMeta = text.replace(/^( {4}version: .*)$/m, "$1\n    version: 3.10.2");
    await refused(() => parseSecretsFile(dupMeta), "DUPLICATE_KEY");
  });

  it("an alias bomb → MALFORMED_FILE, quickly", { timeout: 10_000 }, async () => {
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 10; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(", ")}]`);
    const bomb = `${levels.join("\n")}\n${text.slice(text.indexOf("sops:"))}`;
    await refused(() => parseSecretsFile(bomb), "MALFORMED_FILE");
    await refused(decryptDocument(bomb, [alice.identity]), "MALFORMED_FILE");
    await refused(decryptSecrets(bomb, [alice.identity]), "MALFORMED_FILE");
  });

  it("a 20 MB file → FILE_TOO_LARGE, quickly and without reading it all into a parser", { timeout: 10_000 }, async () => {
    const line = `PAD: ${"A".repeat(1000)}\n`;
    const big = text + line.repeat(Math.ceil((20 * 1024 * 1024) / line.length));
    expect(big.length).toBeGreaterThan(20 * 1024 * 1024);
    await refused(() => parseSecretsFile(big), "FILE_TOO_LARGE");
    await refused(() => parseSecretsBytes(Buffer.from(big)), "FILE_TOO_LARGE");
    await refused(decryptSecrets(big, [alice.identity]), "FILE_TOO_LARGE");
    await refused(decryptDocument(big, [alice.identity]), "FILE_TOO_LARGE");
    const { dir, cleanup } = tempDir();
    try {
      writeFileSync(join(dir, "big.enc.yaml"), big);
      await refused(readSecretsFile(join(dir, "big.enc.yaml")), "FILE_TOO_LARGE");
    } finally {
      cleanup();
    }
  });

  it("invalid UTF-8 bytes → INVALID_UTF8 via parseSecretsBytes and readSecretsFile", async () => {
    const bytes = Buffer.concat([Buffer.from("SHORT2: "), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from("\n"), Buffer.from(text)]);
    await refused(() => parseSecretsBytes(bytes, { path: "bad.enc.yaml" }), "INVALID_UTF8");
    // an overlong encoding and a lone surrogate encoded in UTF-8 are invalid too
    await refused(() => parseSecretsBytes(Buffer.concat([Buffer.from([0xc0, 0xaf]), Buffer.from(text)])), "INVALID_UTF8");
    await refused(() => parseSecretsBytes(Buffer.concat([Buffer.from([0xed, 0xa0, 0x80]), Buffer.from(text)])), "INVALID_UTF8");
    const { dir, cleanup } = tempDir();
    try {
      writeFileSync(join(dir, "bad.enc.yaml"), bytes);
      const e = await refused(readSecretsFile(join(dir, "bad.enc.yaml")), "INVALID_UTF8");
      expect(e.message).toContain("bad.enc.yaml");
    } finally {
      cleanup();
    }
    // and valid bytes go through
    expect(parseSecretsBytes(Buffer.from(text)).entries.map((e) => e.name)).toEqual([...SECRETS.keys()]);
  });

  it("a secrets file that is not encrypted at all → NOT_ENCRYPTED", async () => {
    const plain = "API_KEY: plain-leakcheck-value\nOTHER: x\n";
    expect(isSopsEncrypted(plain)).toBe(false);
    await refused(() => parseSecretsFile(plain), "NOT_ENCRYPTED", ["plain-leakcheck-value"]);
    await refused(decryptSecrets(plain, [alice.identity]), "NOT_ENCRYPTED", ["plain-leakcheck-value"]);
    await refused(decryptDocument(plain, [alice.identity]), "NOT_ENCRYPTED", ["plain-leakcheck-value"]);
    const { dir, cleanup } = tempDir();
    try {
      mkdirSync(join(dir, "s"));
      writeFileSync(join(dir, "s", "dev.enc.yaml"), plain);
      await refused(readSecretsFile(join(dir, "s", "dev.enc.yaml")), "NOT_ENCRYPTED", ["plain-leakcheck-value"]);
    } finally {
      cleanup();
    }
    // a sops block without mac/version is not "encrypted" either
    expect(isSopsEncrypted("a: b\nsops:\n    age: []\n")).toBe(false);
    expect(isSopsEncrypted(text)).toBe(true);
  });

  it("a bad version in metadata (not semver) → MALFORMED_FILE; a missing lastmodified → MALFORMED_FILE", async () => {
    await refused(decryptSecrets(text.replace(/^( {4}version: ).*$/m, "$13.10"), [alice.identity]), "MALFORMED_FILE");
    await refused(decryptSecrets(text.replace(/^ {4}lastmodified: .*\n/m, ""), [alice.identity]), "MALFORMED_FILE");
  });
});

describe("names such as __proto__ and constructor", () => {
  afterAll(() => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("round-trip as ordinary names through encryptSecrets/decryptSecrets/decryptDocument, with no prototype pollution", async () => {
    const values = new Map([
      ["__proto__", "proto-value"],
      ["constructor", "ctor-value"],
      ["prototype", "p"],
      ["toString", "ts"],
      ["hasOwnProperty", "hop"],
      ["polluted", "own"],
    ]);
    const t = await encryptSecrets(values, { recipients: [alice.recipient] });
    const s = await decryptSecrets(t, [alice.identity]);
    expect([...s.values]).toEqual([...values]);
    expect(parseSecretsFile(t).entries.map((e) => e.name)).toEqual([...values.keys()]);
    const d = await decryptDocument(t, [alice.identity]);
    const tree = d.tree as Record<string, unknown>;
    expect(Object.prototype.hasOwnProperty.call(tree, "__proto__")).toBe(true);
    expect(Object.getOwnPropertyDescriptor(tree, "__proto__")?.value).toBe("proto-value");
    expect(Object.getOwnPropertyDescriptor(tree, "constructor")?.value).toBe("ctor-value");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(tree) === Object.prototype || Object.getPrototypeOf(tree) === null).toBe(true);
  });

  it("a general document with a nested __proto__ mapping does not pollute Object.prototype", async () => {
    const key = Buffer.alloc(32, 3);
    const body = `__proto__:\n    polluted: ${oracleEncrypt(key, "yes", "__proto__:polluted:")}\nconstructor:\n    prototype:\n        polluted: ${oracleEncrypt(key, "yes2", "constructor:prototype:polluted:")}\n`;
    const doc = oracleSealYaml(body, { dataKey: key, recipients: [alice.recipient], macValues: ["yes", "yes2"] });
    const d = await decryptDocument(doc, [alice.identity]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
    const tree = d.tree as Record<string, Record<string, unknown>>;
    expect(Object.getOwnPropertyDescriptor(tree, "__proto__")?.value).toEqual({ polluted: "yes" });
    expect(d.leaves.map((l) => l.aad)).toEqual(["__proto__:polluted:", "constructor:prototype:polluted:"]);
  });
});
