/**
 * Spec §15 test vectors (cipher vector, derived vectors, MACs) and the reader rules of §2–§4
 * (types, canonical MAC bytes, list/comment AAD, lastmodified normalisation, mac_only_encrypted),
 * checked through whole files built by an independent oracle (node:crypto + the `age` CLI), and at
 * the value layer when the package exports it.
 */
import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import * as sops from "./index.js";
import { SopsError, decryptDocument, decryptSecrets, encryptSecrets } from "./index.js";
import { ageWrapSync, oracleDecrypt, oracleEncrypt, oracleMac, oracleSealYaml, testKey } from "../test-fixtures/support.js";

const KEY_F = Buffer.alloc(32, 0x66);
const IV_SEQ = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
const IV_SEQ_B64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const SOPS_VECTOR = "ENC[AES256_GCM,data:oYyi,iv:MyIDYbT718JRr11QtBkcj3Dwm4k1aCGZBVeZf0EyV8o=,tag:t5z2Z023Up0kxwCgw1gNxg==,type:str]";

/** §15 derived vectors: [plaintext, aad, type, data, tag]. */
const DERIVED: [string, string, string, string, string][] = [
  ["foo", "bar:", "str", "3bMF", "1xzewusSh6hzs55BJEAuSA=="],
  ["42", "n:", "int", "j+4=", "f8SM+YtDwN6gCPsHo0hZ5g=="],
  ["3.14", "pi:", "float", "iPJbvQ==", "5syQp3wnwK/ufic0xbZo4Q=="],
  ["True", "flag:", "bool", "764f7A==", "UNbp3Ro3RMrkcdOJSiFVGQ=="],
  ["line one\nline two\n", "multi:", "str", "17UE7HT6NsAVYS53OltIJEu0", "0AyviSsV9Hx9AVxceiTNdw=="],
  ["e1", "a_list:", "str", "3u0=", "19pIcbxEIQ0wOTqlMVu2lQ=="],
  [" a comment", ":", "comment", "m71K6jv4NcBxeQ==", "rQpJ9IOEC90+qBO4dERKkg=="],
  ["value", "stringData:key:", "str", "zb0G/DE=", "w/vWcgTPrU9YAWji97SMYg=="],
];
const enc = (d: string, t: string, type: string) => `ENC[AES256_GCM,data:${d},iv:${IV_SEQ_B64},tag:${t},type:${type}]`;

const MAC_EMPTY = "CF83E1357EEFB8BDF1542850D66D8007D620E4050B5715DC83F4A921D36CE9CE47D0D13C5D85F2B0FF8318D2877EEC2F63B931BD47417A81A538327AF927DA3E";
const MAC_VALUE = "EC2C83EDECB60304D154EBDB85BDFAF61A92BD142E71C4F7B25A15B9CB5F3C0AE301CFB3569CF240E4470031385348BC296D8D99D09E06B26F09591A97527296";
const MAC_VALUE_ONLY_ENC = "06CBD6BE5FE9C54B4D61D094FF23CDEC9FF317FD84AC1BEC6B49A34994B9C055CDDC92B9BAFE8188407CFB213C7FB04C26720CA2A6776255BC5AB5288CBADB9F";

const alice = testKey("alice");

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(SopsError);
    return (e as SopsError).code;
  }
}

describe("the oracle reproduces the spec §15 vectors (self-check of the test's own crypto)", () => {
  it("cipher vector and every derived vector", () => {
    expect(oracleEncrypt(KEY_F, "foo", "bar:", "str", Buffer.from("MyIDYbT718JRr11QtBkcj3Dwm4k1aCGZBVeZf0EyV8o=", "base64"))).toBe(SOPS_VECTOR);
    for (const [pt, aad, type, data, tag] of DERIVED) expect(oracleEncrypt(KEY_F, pt, aad, type, IV_SEQ)).toBe(enc(data, tag, type));
    expect(() => oracleDecrypt(KEY_F, SOPS_VECTOR, "")).toThrow();
  });
  it("MAC vectors", () => {
    expect(oracleMac([])).toBe(MAC_EMPTY);
    expect(oracleMac(["value"])).toBe(MAC_VALUE);
    expect(oracleMac(["value"], true)).toBe(MAC_VALUE_ONLY_ENC);
  });
});

describe("spec §15 vectors through whole files", () => {
  it("the sops cipher vector decrypts to foo under key bar, with data key 32×0x66", async () => {
    const text = oracleSealYaml(`bar: ${SOPS_VECTOR}\n`, { dataKey: KEY_F, recipients: [alice.recipient], macValues: ["foo"] });
    const s = await decryptSecrets(text, [alice.identity]);
    expect([...s.values]).toEqual([["bar", "foo"]]);
    expect(Buffer.from(s.dataKey).equals(KEY_F)).toBe(true);
    const d = await decryptDocument(text, [alice.identity]);
    expect(d.macHex).toBe(createHash("sha512").update("foo").digest("hex").toUpperCase());
    expect(d.leaves).toEqual([{ path: ["bar"], aad: "bar:", type: "str", plaintext: "foo", encrypted: true, inMac: true }]);
  });

  it("the flat vectors (str, int, float, bool, multi-line) with CRLF line ends: the same values and MAC as with LF", async () => {
    const flat = DERIVED.filter(([, aad, type]) => /^[a-z]+:$/.test(aad) && type !== "comment" && aad !== "a_list:");
    const body = flat.map(([, aad, type, data, tag]) => `${aad} ${enc(data, tag, type)}\n`).join("");
    const lf = oracleSealYaml(body, { dataKey: KEY_F, recipients: [alice.recipient], macValues: flat.map(([pt]) => pt) });
    const crlf = lf.replace(/\n/g, "\r\n");
    const a = await decryptSecrets(lf, [alice.identity]);
    const b = await decryptSecrets(crlf, [alice.identity]);
    expect([...b.values]).toEqual([...a.values]);
    expect([...b.values]).toEqual([["bar", "foo"], ["n", "42"], ["pi", "3.14"], ["flag", "true"], ["multi", "line one\nline two\n"]]);
    expect(b.file.metadata).toEqual(a.file.metadata);
    // the cipher vector under another name in the CRLF file: TAMPERED, at its line
    const renamed = crlf.replace(/^n: /m, "m: ");
    expect(await codeOf(decryptSecrets(renamed, [alice.identity]))).toBe("TAMPERED");
  });

  it("the cipher vector under another key name is TAMPERED (AAD binds the path)", async () => {
    const text = oracleSealYaml(`baz: ${SOPS_VECTOR}\n`, { dataKey: KEY_F, recipients: [alice.recipient], macValues: ["foo"] });
    expect(await codeOf(decryptSecrets(text, [alice.identity]))).toBe("TAMPERED");
    expect(await codeOf(decryptDocument(text, [alice.identity]))).toBe("TAMPERED");
  });

  it("the derived vectors: types, multi-line string, list AAD, root comment AAD ':', nested path AAD", async () => {
    const v = Object.fromEntries(DERIVED.map(([pt, aad, type, data, tag]) => [aad, enc(data, tag, type)]));
    const body = [
      `#${v[":"]}`,
      `bar: ${v["bar:"]}`,
      `n: ${v["n:"]}`,
      `pi: ${v["pi:"]}`,
      `flag: ${v["flag:"]}`,
      `multi: ${v["multi:"]}`,
      `a_list:`,
      `    - ${v["a_list:"]}`,
      `stringData:`,
      `    key: ${v["stringData:key:"]}`,
      ``,
    ].join("\n");
    const macValues = ["foo", "42", "3.14", "True", "line one\nline two\n", "e1", "value"];
    const text = oracleSealYaml(body, { dataKey: KEY_F, recipients: [alice.recipient], macValues });
    const d = await decryptDocument(text, [alice.identity], { format: "yaml" });
    expect(Buffer.from(d.dataKey).equals(KEY_F)).toBe(true);
    expect(d.macHex).toBe(oracleMac(macValues));
    expect(d.tree).toEqual({ bar: "foo", n: 42, pi: 3.14, flag: true, multi: "line one\nline two\n", a_list: ["e1"], stringData: { key: "value" } });
    expect(d.leaves.filter((l) => l.type !== "comment")).toEqual([
      { path: ["bar"], aad: "bar:", type: "str", plaintext: "foo", encrypted: true, inMac: true },
      { path: ["n"], aad: "n:", type: "int", plaintext: "42", encrypted: true, inMac: true },
      { path: ["pi"], aad: "pi:", type: "float", plaintext: "3.14", encrypted: true, inMac: true },
      { path: ["flag"], aad: "flag:", type: "bool", plaintext: "True", encrypted: true, inMac: true },
      { path: ["multi"], aad: "multi:", type: "str", plaintext: "line one\nline two\n", encrypted: true, inMac: true },
      { path: ["a_list"], aad: "a_list:", type: "str", plaintext: "e1", encrypted: true, inMac: true },
      { path: ["stringData", "key"], aad: "stringData:key:", type: "str", plaintext: "value", encrypted: true, inMac: true },
    ]);
    // Comments are never leaves of the MAC walk; where the reader reports them, the root comment
    // decrypted with AAD ":".
    for (const c of d.leaves.filter((l) => l.type === "comment")) expect(c).toMatchObject({ aad: ":", plaintext: " a comment", inMac: false });
    const reported = (d as { comments?: { aad: string; text: string; encrypted: boolean }[] }).comments;
    if (reported !== undefined) expect(reported).toContainEqual({ aad: ":", text: " a comment", encrypted: true });
  });

  it("a tampered comment is not fatal and never enters the MAC (spec §9.4)", async () => {
    const c = enc("m71K6jv4NcBxeQ==", "rQpJ9IOEC90+qBO4dERKkg==", "comment").replace("m71K", "A71K");
    const text = oracleSealYaml(`#${c}\nbar: ${SOPS_VECTOR}\n`, { dataKey: KEY_F, recipients: [alice.recipient], macValues: ["foo"] });
    const d = await decryptDocument(text, [alice.identity]);
    expect(d.macHex).toBe(oracleMac(["foo"]));
    const reported = (d as { comments?: { encrypted: boolean }[] }).comments;
    if (reported !== undefined) expect(reported.every((c) => !c.encrypted)).toBe(true);
  });

  it("MAC of an empty tree is SHA512('') — via the writer and via an oracle file", async () => {
    const ours = await encryptSecrets(new Map(), { recipients: [alice.recipient] });
    expect((await decryptDocument(ours, [alice.identity])).macHex).toBe(MAC_EMPTY);
    const oracle = oracleSealYaml("", { dataKey: KEY_F, recipients: [alice.recipient], macValues: [] });
    expect((await decryptDocument(oracle, [alice.identity])).macHex).toBe(MAC_EMPTY);
    expect((await decryptSecrets(oracle, [alice.identity])).values.size).toBe(0);
  });

  it("MAC is over values only: 'value' under any key gives the §15 MAC", async () => {
    for (const name of ["key", "data", "another_name"]) {
      const text = oracleSealYaml(`${name}: ${oracleEncrypt(KEY_F, "value", `${name}:`)}\n`, { dataKey: KEY_F, recipients: [alice.recipient], macValues: ["value"] });
      expect((await decryptDocument(text, [alice.identity])).macHex).toBe(MAC_VALUE);
    }
  });

  it("mac_only_encrypted: SHA256('sops') prefix and unencrypted leaves left out (§4.1)", async () => {
    const body = `key: ${oracleEncrypt(KEY_F, "value", "key:")}\nplain_unencrypted: visible\n`;
    const text = oracleSealYaml(body, { dataKey: KEY_F, recipients: [alice.recipient], macValues: ["value"], macOnlyEncrypted: true });
    const d = await decryptDocument(text, [alice.identity]);
    expect(d.macHex).toBe(MAC_VALUE_ONLY_ENC);
    expect(d.leaves).toContainEqual(expect.objectContaining({ path: ["plain_unencrypted"], plaintext: "visible", encrypted: false, inMac: false }));
  });

  it("without mac_only_encrypted, unencrypted (_unencrypted suffix) leaves are in the MAC", async () => {
    const body = `key: ${oracleEncrypt(KEY_F, "value", "key:")}\nplain_unencrypted: visible\n`;
    const text = oracleSealYaml(body, { dataKey: KEY_F, recipients: [alice.recipient], macValues: ["value", "visible"] });
    const d = await decryptDocument(text, [alice.identity]);
    expect(d.macHex).toBe(oracleMac(["value", "visible"]));
    // and changing the clear value is caught by the MAC
    expect(await codeOf(decryptDocument(text.replace("plain_unencrypted: visible", "plain_unencrypted: changed"), [alice.identity]))).toBe("MAC_MISMATCH");
  });

  it("re-canonicalises decrypted int/float/bool before hashing (§4.1): +07→7, 1e21→1000000000000000000000, true→True, 1.0→1", async () => {
    const body = [
      `i: ${oracleEncrypt(KEY_F, "+07", "i:", "int")}`,
      `f: ${oracleEncrypt(KEY_F, "1e21", "f:", "float")}`,
      `g: ${oracleEncrypt(KEY_F, "1.0", "g:", "float")}`,
      `h: ${oracleEncrypt(KEY_F, "1e-7", "h:", "float")}`,
      `b: ${oracleEncrypt(KEY_F, "true", "b:", "bool")}`,
      "",
    ].join("\n");
    const canonical = ["7", "1000000000000000000000", "1", "0.0000001", "True"];
    const text = oracleSealYaml(body, { dataKey: KEY_F, recipients: [alice.recipient], macValues: canonical });
    const d = await decryptDocument(text, [alice.identity]);
    expect(d.macHex).toBe(oracleMac(canonical));
  });

  it("empty strings are passed through unencrypted and add nothing to the MAC", async () => {
    const text = oracleSealYaml(`a: ""\nb: ${oracleEncrypt(KEY_F, "x", "b:")}\n`, { dataKey: KEY_F, recipients: [alice.recipient], macValues: ["x"] });
    const s = await decryptSecrets(text, [alice.identity]);
    expect([...s.values]).toEqual([["a", ""], ["b", "x"]]);
  });

  it("accepts a 12-byte IV (sops reads any IV length, §2.1)", async () => {
    const iv12 = Buffer.alloc(12, 7);
    const text = oracleSealYaml(`k: ${oracleEncrypt(KEY_F, "short iv", "k:", "str", iv12)}\n`, { dataKey: KEY_F, recipients: [alice.recipient], macValues: ["short iv"] });
    expect((await decryptSecrets(text, [alice.identity])).values.get("k")).toBe("short iv");
  });

  it("lastmodified is normalised like sops before use as MAC AAD (§4.3): fraction dropped, +00:00 → Z, other offsets kept", async () => {
    const cases: [string, string][] = [
      ["2024-01-01T10:00:00.5Z", "2024-01-01T10:00:00Z"],
      ["2024-01-01T10:00:00+00:00", "2024-01-01T10:00:00Z"],
      ["2024-01-01T10:00:00-04:00", "2024-01-01T10:00:00-04:00"],
    ];
    for (const [lastmodified, macAad] of cases) {
      const text = oracleSealYaml(`k: ${oracleEncrypt(KEY_F, "v", "k:")}\n`, { dataKey: KEY_F, recipients: [alice.recipient], macValues: ["v"], lastmodified, macAad });
      expect((await decryptSecrets(text, [alice.identity])).values.get("k")).toBe("v");
    }
  });

  it("a MAC encrypted under a different lastmodified is MAC_MISMATCH", async () => {
    const text = oracleSealYaml(`k: ${oracleEncrypt(KEY_F, "v", "k:")}\n`, {
      dataKey: KEY_F, recipients: [alice.recipient], macValues: ["v"], lastmodified: "2024-01-01T10:00:00Z", macAad: "2024-01-01T10:00:01Z",
    });
    expect(await codeOf(decryptSecrets(text, [alice.identity]))).toBe("MAC_MISMATCH");
  });

  it("a comment-regex crypt rule is refused at the rule's line, saying what to do, by both readers", async () => {
    const body = `k: ${oracleEncrypt(KEY_F, "v", "k:")}\n`;
    for (const rule of ["encrypted_comment_regex: ^sops:enc", "unencrypted_comment_regex: plain"]) {
      const rx = oracleSealYaml(body, { dataKey: KEY_F, recipients: [alice.recipient], macValues: ["v"], cryptRule: rule });
      const line = rx.split("\n").findIndex((l) => l === `    ${rule}`) + 1;
      for (const read of [decryptDocument(rx, [alice.identity]), decryptSecrets(rx, [alice.identity])]) {
        const err = (await read.then(() => undefined, (e: unknown) => e)) as SopsError;
        expect(err.code, rule).toBe("UNSUPPORTED");
        expect(err.line, rule).toBe(line);
        expect(err.message).toContain(`sops.${rule.split(":")[0]}`);
        expect(err.hint).toMatch(/sops decrypt/);
      }
    }
  });

  it("refuses comment-regex crypt rules with UNSUPPORTED rather than guessing; key groups whose shares are not a split of the data key end as MAC_MISMATCH", async () => {
    const body = `k: ${oracleEncrypt(KEY_F, "v", "k:")}\n`;
    const rx = oracleSealYaml(body, { dataKey: KEY_F, recipients: [alice.recipient], macValues: ["v"], cryptRule: "encrypted_comment_regex: ^sops:enc" });
    expect(await codeOf(decryptDocument(rx, [alice.identity]))).toBe("UNSUPPORTED");
    // Two key groups, each with an age stanza wrapping a random 33-byte "share" (not a split of KEY_F), no top-level age list.
    const stanza = (share: Buffer) =>
      `            - recipient: ${alice.recipient}\n              enc: |\n${ageWrapSync(share, alice.recipient).trimEnd().split("\n").map((l) => `                ${l}`).join("\n")}\n`;
    const lm = "2026-01-02T03:04:05Z";
    const groups =
      `${body}sops:\n    shamir_threshold: 2\n    key_groups:\n        - age:\n${stanza(Buffer.concat([randomBytes(32), Buffer.from([1])]))}` +
      `        - age:\n${stanza(Buffer.concat([randomBytes(32), Buffer.from([2])]))}` +
      `    lastmodified: "${lm}"\n    mac: ${oracleEncrypt(KEY_F, oracleMac(["v"]), lm)}\n    unencrypted_suffix: _unencrypted\n    version: 3.10.2\n`;
    expect(await codeOf(decryptDocument(groups, [alice.identity]))).toBe("MAC_MISMATCH");
    expect(((await decryptDocument(groups, [alice.identity]).then(() => undefined, (e: unknown) => e)) as SopsError).line).toBe(groups.split("\n").indexOf("    key_groups:") + 1);
    expect(await codeOf(decryptSecrets(groups, [alice.identity]))).toBe("MAC_MISMATCH");
    const err = (await decryptSecrets(groups, [alice.identity]).then(() => undefined, (e: unknown) => e)) as SopsError;
    expect(err.line).toBe(groups.split("\n").indexOf("    key_groups:") + 1);
  });
});

type ValueLayer = {
  encryptValue: (pt: Uint8Array, key: Uint8Array, aad: string, type: string, iv?: Uint8Array) => string;
  decryptValue: (enc: string, key: Uint8Array, aad: string) => { plaintext: Uint8Array; type: string };
  computeMac: (values: Iterable<string>, macOnlyEncrypted?: boolean) => string;
};
const layer = sops as unknown as Partial<ValueLayer>;
const hasValueLayer = typeof layer.encryptValue === "function" && typeof layer.decryptValue === "function" && typeof layer.computeMac === "function";

describe.runIf(hasValueLayer)("spec §15 vectors at the value layer (exported encryptValue/decryptValue/computeMac)", () => {
  const L = layer as ValueLayer;
  it("encryptValue reproduces the sops cipher vector and the derived vectors", () => {
    expect(L.encryptValue(Buffer.from("foo"), KEY_F, "bar:", "str", Buffer.from("MyIDYbT718JRr11QtBkcj3Dwm4k1aCGZBVeZf0EyV8o=", "base64"))).toBe(SOPS_VECTOR);
    for (const [pt, aad, type, data, tag] of DERIVED) expect(L.encryptValue(Buffer.from(pt), KEY_F, aad, type, IV_SEQ)).toBe(enc(data, tag, type));
  });
  it("decryptValue opens every vector and refuses the wrong AAD with TAMPERED", () => {
    expect(Buffer.from(L.decryptValue(SOPS_VECTOR, KEY_F, "bar:").plaintext).toString()).toBe("foo");
    for (const [pt, aad, type, data, tag] of DERIVED) {
      const r = L.decryptValue(enc(data, tag, type), KEY_F, aad);
      expect([Buffer.from(r.plaintext).toString(), r.type]).toEqual([pt, type]);
    }
    for (const aad of ["", "baz:", "bar"]) {
      let err: unknown;
      try {
        L.decryptValue(SOPS_VECTOR, KEY_F, aad);
      } catch (e) {
        err = e;
      }
      expect((err as SopsError | undefined)?.code).toBe("TAMPERED");
    }
  });
  it("computeMac gives the §15 MACs", () => {
    expect(L.computeMac([])).toBe(MAC_EMPTY);
    expect(L.computeMac(["value"])).toBe(MAC_VALUE);
    expect(L.computeMac(["value"], true)).toBe(MAC_VALUE_ONLY_ENC);
    expect(L.computeMac(["this is a secret", "string", "7", "3.14", "True", "this is a secret", "one", "two", "three"]).slice(0, 16)).toBe("3B83FDE1D6E139C4");
  });
});
