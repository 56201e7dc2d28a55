/**
 * Foreign sops files beyond the fixture set (MANIFEST.md "Gaps"), built by the independent oracle
 * from the spec: clear-text leaves under crypt rules resolved like yaml.v3 for the MAC (§9.1),
 * type:time (§2.3), encrypted_suffix / unencrypted_regex (§3), multi-document YAML (§1, §9.3),
 * JSON ints (3.13.2) and floats.
 */
import { describe, expect, it } from "vitest";
import { SopsError, decryptDocument, decryptSecrets } from "./index.js";
import { oracleEncrypt, oracleMac, oracleSealYaml, ageWrapSync, testKey } from "../test-fixtures/support.js";

const alice = testKey("alice");
const KEY = Buffer.alloc(32, 0x42);
const secretLine = `secret: ${oracleEncrypt(KEY, "s3cr3t", "secret:")}\n`;

async function macOf(text: string, format?: "yaml" | "json"): Promise<string> {
  return (await decryptDocument(text, [alice.identity], format ? { format } : {})).macHex;
}

describe("clear-text leaves are fed to the MAC as yaml.v3 (sops) resolves them (§9.1)", () => {
  // [YAML plain scalar, canonical MAC bytes per the spec's table]
  const cases: [string, string][] = [
    ["plain text", "plain text"],
    ["folded\n    plain line", "folded plain line"],
    ["'quoted 0777'", "quoted 0777"],
    ["42", "42"],
    ["-7", "-7"],
    ["+12", "12"],
    ["0x1F", "31"],
    ["0o17", "15"],
    ["0777", "511"],
    ["012", "10"],
    ["1_000", "1000"],
    ["08", "8"],
    ["1.0", "1"],
    ["1e3", "1000"],
    ["3.10", "3.1"],
    [".inf", "+Inf"],
    ["-.inf", "-Inf"],
    ["true", "True"],
    ["True", "True"],
    ["false", "False"],
    ["yes", "yes"],
    ["no", "no"],
    ["on", "on"],
    ["2024-01-01", "2024-01-01T00:00:00Z"],
    ["2006-01-02T15:04:05Z", "2006-01-02T15:04:05Z"],
    ["2024-1-2", "2024-01-02T00:00:00Z"],
    ["2001-12-14t21:59:43.10-05:00", "2001-12-14T21:59:43.1-05:00"],
    ["2001-12-14 21:59:43.10", "2001-12-14T21:59:43.1Z"],
    ["2006-01-02T15:04:05+00:00", "2006-01-02T15:04:05Z"],
    ["2024-13-01", "2024-13-01"],
    ["2024-01-01T00:00:00", "2024-01-01T00:00:00"],
    ["0b101", "5"],
    ["-0x1F", "-31"],
    ["-0", "0"],
    ["1_0.5", "10.5"],
    [".5", "0.5"],
    ["1.", "1"],
    ["1e400", "1e400"],
    ["99999999999999999999999", "100000000000000000000000"],
    ["0x", "0x"],
    ["Yes", "Yes"],
    ["NULLish", "NULLish"],
  ];
  for (const [scalar, bytes] of cases) {
    it(`${scalar} → ${JSON.stringify(bytes)}`, async () => {
      const body = `value: ${scalar}\n${secretLine}`;
      const text = oracleSealYaml(body, { dataKey: KEY, recipients: [alice.recipient], macValues: [bytes, "s3cr3t"], cryptRule: "encrypted_regex: ^secret$" });
      expect(await macOf(text)).toBe(oracleMac([bytes, "s3cr3t"]));
    });
  }

  it("null / ~ / empty are skipped", async () => {
    const body = `a: null\nb: ~\nc:\n${secretLine}`;
    const text = oracleSealYaml(body, { dataKey: KEY, recipients: [alice.recipient], macValues: ["s3cr3t"], cryptRule: "encrypted_regex: ^secret$" });
    expect(await macOf(text)).toBe(oracleMac(["s3cr3t"]));
  });

  it("a Kubernetes Secret with defaultMode: 0644 under encrypted_regex verifies", async () => {
    const body =
      "apiVersion: v1\nkind: Secret\nspec:\n    replicas: 3\n    defaultMode: 0644\n    port: 8080\nstringData:\n" +
      `    key: ${oracleEncrypt(KEY, "value", "stringData:key:")}\n`;
    const macValues = ["v1", "Secret", "3", "420", "8080", "value"];
    const text = oracleSealYaml(body, { dataKey: KEY, recipients: [alice.recipient], macValues, cryptRule: "encrypted_regex: ^(data|stringData)$" });
    expect(await macOf(text)).toBe(oracleMac(macValues));
  });
});

describe("crypt rules the fixtures do not cover (§3)", () => {
  it("encrypted_suffix: only keys (or ancestors) with the suffix are encrypted; the rest is clear but in the MAC", async () => {
    const body = `db_secret: ${oracleEncrypt(KEY, "pw", "db_secret:")}\nname: app\ngroup_secret:\n    inner: ${oracleEncrypt(KEY, "x", "group_secret:inner:")}\n`;
    const text = oracleSealYaml(body, { dataKey: KEY, recipients: [alice.recipient], macValues: ["pw", "app", "x"], cryptRule: "encrypted_suffix: _secret" });
    const d = await decryptDocument(text, [alice.identity]);
    expect(d.tree).toEqual({ db_secret: "pw", name: "app", group_secret: { inner: "x" } });
    expect(d.leaves.map((l) => l.encrypted)).toEqual([true, false, true]);
  });

  it("unencrypted_regex: matching keys stay clear (regex searches, unanchored)", async () => {
    const body = `public_url: https://x\nmy_public_note: hi\ntoken: ${oracleEncrypt(KEY, "t", "token:")}\n`;
    const text = oracleSealYaml(body, { dataKey: KEY, recipients: [alice.recipient], macValues: ["https://x", "hi", "t"], cryptRule: "unencrypted_regex: public" });
    const d = await decryptDocument(text, [alice.identity]);
    expect(d.tree).toEqual({ public_url: "https://x", my_public_note: "hi", token: "t" });
  });

  it("a clear number or boolean where the rule says encrypted is NOT_ENCRYPTED, as sops refuses it (\"Expected encrypted value as string\")", async () => {
    for (const [scalar, bytes] of [["8080", "8080"], ["true", "True"], ["1.5", "1.5"]] as const) {
      const body = `token: ${oracleEncrypt(KEY, "t", "token:")}\nport: ${scalar}\n`;
      const text = oracleSealYaml(body, { dataKey: KEY, recipients: [alice.recipient], macValues: ["t", bytes] });
      const err = await decryptDocument(text, [alice.identity]).then(() => undefined, (e: unknown) => e);
      expect((err as SopsError).code, scalar).toBe("NOT_ENCRYPTED");
      expect((err as SopsError).line, scalar).toBe(2);
    }
  });

  it("encrypted_regex in RE2 syntax JavaScript lacks ((?i), POSIX classes) selects the leaves sops selects", async () => {
    const body = `API_KEY: ${oracleEncrypt(KEY, "a", "API_KEY:")}\napi_x: ${oracleEncrypt(KEY, "b", "api_x:")}\nplain: c\n`;
    const text = oracleSealYaml(body, { dataKey: KEY, recipients: [alice.recipient], macValues: ["a", "b", "c"], cryptRule: "encrypted_regex: (?i)^api_" });
    const d = await decryptDocument(text, [alice.identity]);
    expect(d.tree).toEqual({ API_KEY: "a", api_x: "b", plain: "c" });
    expect(d.leaves.map((l) => l.encrypted)).toEqual([true, true, false]);
    // valid RE2 that is not translated is refused at the rule's line, never guessed
    const scoped = text.replace("encrypted_regex: (?i)^api_", "encrypted_regex: (?i:^api_)");
    const err = (await decryptDocument(scoped, [alice.identity]).then(() => undefined, (e: unknown) => e)) as SopsError;
    expect(err.code).toBe("UNSUPPORTED");
    expect(err.line).toBe(scoped.split("\n").findIndex((l) => l.startsWith("    encrypted_regex:")) + 1);
  });

  it("a plaintext value where the rule says encrypted is NOT_ENCRYPTED", async () => {
    const body = `db_secret: oops-plain\n`;
    const text = oracleSealYaml(body, { dataKey: KEY, recipients: [alice.recipient], macValues: ["oops-plain"], cryptRule: "encrypted_suffix: _secret" });
    const err = await decryptDocument(text, [alice.identity]).then(() => undefined, (e: unknown) => e);
    expect((err as SopsError).code).toBe("NOT_ENCRYPTED");
    expect((err as SopsError).message).not.toContain("oops-plain");
  });
});

describe("dotenv metadata is text (§10.2): sops decodes it weakly typed", () => {
  it("sops_mac_only_encrypted=true (a string in a dotenv file) is the boolean, as sops reads it", async () => {
    const lastmodified = "2026-01-02T03:04:05Z";
    const mac = oracleEncrypt(KEY, oracleMac(["s3cr3t"], true), lastmodified);
    const enc = ageWrapSync(KEY, alice.recipient).replace(/\n/g, "\\n");
    const text =
      `secret=${oracleEncrypt(KEY, "s3cr3t", "secret:")}\nplain_unencrypted=clear\n` +
      `sops_age__list_0__map_enc=${enc}\nsops_age__list_0__map_recipient=${alice.recipient}\n` +
      `sops_lastmodified=${lastmodified}\nsops_mac=${mac}\nsops_mac_only_encrypted=true\nsops_unencrypted_suffix=_unencrypted\nsops_version=3.9.0\n`;
    const d = await decryptDocument(text, [alice.identity], { format: "dotenv" });
    expect(d.metadata.mac_only_encrypted).toBe(true);
    expect(d.tree).toEqual({ secret: "s3cr3t", plain_unencrypted: "clear" });
    // a text that is not a boolean is refused, as sops refuses it
    const bad = text.replace("sops_mac_only_encrypted=true", "sops_mac_only_encrypted=maybe");
    const err = await decryptDocument(bad, [alice.identity], { format: "dotenv" }).then(() => undefined, (e: unknown) => e);
    expect((err as SopsError).code).toBe("MALFORMED_FILE");
  });
});

describe("comments sops encrypted (§9.4)", () => {
  // sops keeps a comment inside a list as a list element, encrypted as ENC[...,type:comment] under
  // the list's path, and reads it back as a comment: not a value, not in the MAC (sops <= 3.13.1
  // and 3.13.3+; 3.13.2 fed it to the MAC by mistake, getsops/sops#2243).
  it("a comment inside a list (an ENC[...,type:comment] element) is a comment, not a value, and not in the MAC", async () => {
    const body =
      `${"#"}${oracleEncrypt(KEY, " top", ":", "comment")}\n` +
      "list:\n" +
      `    - ${oracleEncrypt(KEY, " in list", "list:", "comment")}\n` +
      `    - ${oracleEncrypt(KEY, "x", "list:")}\n` +
      `    - ${oracleEncrypt(KEY, " after x", "list:", "comment")}\n` +
      `    - ${oracleEncrypt(KEY, "y", "list:")}\n` +
      `token: ${oracleEncrypt(KEY, "t", "token:")}\n`;
    const text = oracleSealYaml(body, { dataKey: KEY, recipients: [alice.recipient], macValues: ["x", "y", "t"] });
    const d = await decryptDocument(text, [alice.identity]);
    expect(d.tree).toEqual({ list: ["x", "y"], token: "t" });
    expect(d.leaves.map((l) => `${l.aad}${l.plaintext}`)).toEqual(["list:x", "list:y", "token:t"]);
    expect(d.comments.map((c) => [c.aad, c.text, c.encrypted])).toEqual([
      [":", " top", true],
      ["list:", " in list", true],
      ["list:", " after x", true],
    ]);
  });

  it("a mapping value of type comment is refused (TAMPERED, with its line)", async () => {
    const body = `a: ${oracleEncrypt(KEY, "x", "a:")}\nb: ${oracleEncrypt(KEY, " note", "b:", "comment")}\n`;
    const text = oracleSealYaml(body, { dataKey: KEY, recipients: [alice.recipient], macValues: ["x"] });
    const err = await decryptDocument(text, [alice.identity]).then(() => undefined, (e: unknown) => e);
    expect((err as SopsError).code).toBe("TAMPERED");
    expect((err as SopsError).line).toBe(2);
  });
});

describe("type:time, multi-document YAML, JSON numbers", () => {
  it("type:time values are canonicalised (zero fraction dropped, +00:00 → Z) for the MAC", async () => {
    const body = `t1: ${oracleEncrypt(KEY, "2024-01-01T00:00:00.000Z", "t1:", "time")}\nt2: ${oracleEncrypt(KEY, "2006-01-02T15:04:05.5+00:00", "t2:", "time")}\nt3: ${oracleEncrypt(KEY, "2006-01-02T15:04:05+07:06", "t3:", "time")}\n`;
    const canonical = ["2024-01-01T00:00:00Z", "2006-01-02T15:04:05.5Z", "2006-01-02T15:04:05+07:06"];
    const text = oracleSealYaml(body, { dataKey: KEY, recipients: [alice.recipient], macValues: canonical });
    const d = await decryptDocument(text, [alice.identity]);
    expect(d.macHex).toBe(oracleMac(canonical));
    expect(d.leaves.map((l) => [l.type, l.plaintext])).toEqual(canonical.map((c) => ["time", c]));
  });

  it("multi-document YAML: the MAC covers every document in order; metadata is in each", async () => {
    const doc1 = `a: ${oracleEncrypt(KEY, "one", "a:")}\n`;
    const doc2 = `b: ${oracleEncrypt(KEY, "two", "b:")}\n`;
    const sealed1 = oracleSealYaml(doc1, { dataKey: KEY, recipients: [alice.recipient], macValues: ["one", "two"] });
    const sopsBlock = sealed1.slice(sealed1.indexOf("sops:"));
    const text = `${sealed1}---\n${doc2}${sopsBlock}`;
    const d = await decryptDocument(text, [alice.identity]);
    expect(d.macHex).toBe(oracleMac(["one", "two"]));
    expect(d.leaves.map((l) => l.plaintext)).toEqual(["one", "two"]);
    // dropping the second document changes the MAC
    const err = await decryptDocument(sealed1, [alice.identity]).then(() => undefined, (e: unknown) => e);
    expect((err as SopsError).code).toBe("MAC_MISMATCH");
  });

  it("JSON: type:int (sops 3.13.2) and type:float (older) both verify and read back as numbers", async () => {
    const lm = "2026-01-01T00:00:00Z";
    const obj = {
      i: oracleEncrypt(KEY, "7", "i:", "int"),
      f: oracleEncrypt(KEY, "7", "f:", "float"),
      g: oracleEncrypt(KEY, "0.25", "g:", "float"),
      b: oracleEncrypt(KEY, "True", "b:", "bool"),
      sops: { age: [{ recipient: alice.recipient, enc: ageWrapSync(KEY, alice.recipient) }], lastmodified: lm, mac: oracleEncrypt(KEY, oracleMac(["7", "7", "0.25", "True"]), lm), unencrypted_suffix: "_unencrypted", version: "3.13.2" },
    };
    const d = await decryptDocument(JSON.stringify(obj, null, "\t"), [alice.identity], { format: "json" });
    expect(d.tree).toEqual({ i: 7, f: 7, g: 0.25, b: true });
  });

  it("type:float written as a hexadecimal float (0x1p-2, which Go's ParseFloat reads, so sops does) decrypts to its value, the MAC over 0.25", async () => {
    const lm = "2026-01-01T00:00:00Z";
    const obj = {
      h: oracleEncrypt(KEY, "0x1p-2", "h:", "float"),
      u: oracleEncrypt(KEY, "1_000.5", "u:", "float"),
      sops: { age: [{ recipient: alice.recipient, enc: ageWrapSync(KEY, alice.recipient) }], lastmodified: lm, mac: oracleEncrypt(KEY, oracleMac(["0.25", "1000.5"]), lm), unencrypted_suffix: "_unencrypted", version: "3.13.2" },
    };
    const d = await decryptDocument(JSON.stringify(obj, null, "\t"), [alice.identity], { format: "json" });
    expect(d.tree).toEqual({ h: 0.25, u: 1000.5 });
    // beyond float64's range sops fails (ErrRange): refused, never read as infinity
    const big = { ...obj, h: oracleEncrypt(KEY, "1e400", "h:", "float") };
    const err = await decryptDocument(JSON.stringify(big), [alice.identity], { format: "json" }).then(() => undefined, (e: unknown) => e);
    expect((err as SopsError).code).toBe("TAMPERED");
  });
});

describe("lone CR line breaks in a general document (YAML 1.2 §5.4, as sops' yaml.v3 reads them)", () => {
  const asCr = (t: string) => t.replace(/\n/g, "\r");
  const rule = "encrypted_suffix: _secret";
  // clear leaves whose MAC bytes depend on line breaks: a folded plain scalar and a literal block
  const body =
    "# a comment\n" +
    "app:\n    name: billing\n    summary: first\n        second\n    notes: |\n        line one\n        line two\n" +
    `    db_secret: ${oracleEncrypt(KEY, "pw", "app:db_secret:")}\n` +
    `list_secret:\n    - ${oracleEncrypt(KEY, "x", "list_secret:")}\n`;
  const macValues = ["billing", "first second", "line one\nline two\n", "pw", "x"];
  const lf = oracleSealYaml(body, { dataKey: KEY, recipients: [alice.recipient], macValues, cryptRule: rule });

  it("decrypts to the tree, leaves and MAC of the LF document, in one document and in several", async () => {
    const want = await decryptDocument(lf, [alice.identity]);
    expect(want.macHex).toBe(oracleMac(macValues));
    const cr = await decryptDocument(asCr(lf), [alice.identity]);
    expect(cr.tree).toEqual(want.tree);
    expect(cr.leaves).toEqual(want.leaves);
    expect(cr.macHex).toBe(want.macHex);
    // mixed: a CRLF, a LF and a lone-CR document
    const doc2 = `b: ${oracleEncrypt(KEY, "two", "b:")}\n`;
    const sealed = oracleSealYaml(`a: ${oracleEncrypt(KEY, "one", "a:")}\n`, { dataKey: KEY, recipients: [alice.recipient], macValues: ["one", "two", "two"] });
    const block = sealed.slice(sealed.indexOf("sops:"));
    const three = `${sealed.replace(/\n/g, "\r\n")}---\n${doc2}${block}---\r${asCr(doc2 + block)}`;
    expect((await decryptDocument(three, [alice.identity])).leaves.map((l) => l.plaintext)).toEqual(["one", "two", "two"]);
  });

  it("a changed or plaintext value is refused at the line a lone CR counts", async () => {
    const errorOf = (t: string) =>
      decryptDocument(t, [alice.identity]).then(
        () => undefined,
        (e: unknown) => ({ code: (e as SopsError).code, line: (e as SopsError).line }),
      );
    const lines = lf.split("\n");
    const dbLine = lines.findIndex((l) => l.startsWith("    db_secret:")) + 1;
    const moved = asCr(lf).replace(/(db_secret: )ENC\[[^\]]*\]/, `$1${oracleEncrypt(KEY, "pw", "app:other_secret:")}`);
    expect(await errorOf(moved)).toEqual({ code: "TAMPERED", line: dbLine });
    const plain = asCr(lf).replace(/(db_secret: )ENC\[[^\]]*\]/, "$1oops-plain");
    expect(await errorOf(plain)).toEqual({ code: "NOT_ENCRYPTED", line: dbLine });
    expect((await errorOf(asCr(lf).replace("billing", "billing2")))?.code).toBe("MAC_MISMATCH");
  });
});

describe("the flat reader applies the file's crypt rule as sops does (it verified the MAC over plaintexts the rule leaves in clear)", () => {
  const catchCode = async (p: Promise<unknown>): Promise<SopsError> => (await p.then(() => undefined, (e: unknown) => e)) as SopsError;
  const body = `token: ${oracleEncrypt(KEY, "t0k3n", "token:")}\nurl: ${oracleEncrypt(KEY, "https://x", "url:")}\n`;

  it("refuses a flat file whose rule was changed by hand so that sops reads its ENC[...] values as clear text (sops -d fails the MAC): NOT_ENCRYPTED, and the general reader says MAC_MISMATCH", async () => {
    // a real write (MAC over the plaintexts), then a keyless edit of the rule alone
    for (const cryptRule of ["encrypted_regex: ^nothing$", "unencrypted_regex: ^url$", "encrypted_suffix: _secret", "unencrypted_suffix: rl"]) {
      const text = oracleSealYaml(body, { dataKey: KEY, recipients: [alice.recipient], macValues: ["t0k3n", "https://x"], cryptRule });
      const flat = await catchCode(decryptSecrets(text, [alice.identity]));
      expect(flat.code, cryptRule).toBe("NOT_ENCRYPTED"); // was: the values, MAC verified
      expect(flat.message, cryptRule).toMatch(/^secret "(token|url)" is left unencrypted by the file's crypt rule \(sops\.\w+ ".*"\): sops reads its ENC\[\.\.\.\] text as a value in clear/);
      expect(flat.line, cryptRule).toBe(cryptRule.startsWith("unencrypted_regex") || cryptRule === "unencrypted_suffix: rl" ? 2 : 1);
      expect(flat.message).not.toContain("t0k3n");
      expect((await catchCode(decryptDocument(text, [alice.identity]))).code, cryptRule).toBe("MAC_MISMATCH");
    }
  });

  it("a file sops wrote with an ENC-looking text in clear under its rule (the MAC over that text) is the general reader's: the flat one refuses it rather than fail its MAC", async () => {
    const clear = oracleEncrypt(KEY, "not a secret", "note:");
    const text = oracleSealYaml(`token: ${oracleEncrypt(KEY, "t0k3n", "token:")}\nnote: ${clear}\n`, { dataKey: KEY, recipients: [alice.recipient], macValues: ["t0k3n", clear], cryptRule: "encrypted_regex: ^token$" });
    expect((await catchCode(decryptSecrets(text, [alice.identity]))).code).toBe("NOT_ENCRYPTED"); // was: MAC_MISMATCH
    const d = await decryptDocument(text, [alice.identity]);
    expect(d.tree).toEqual({ token: "t0k3n", note: clear });
    expect(d.leaves.map((l) => l.encrypted)).toEqual([true, false]);
  });

  it("the rules that leave every flat name encrypted still read on the line readers' path, and an untranslated RE2 rule is refused as the general reader refuses it", async () => {
    for (const cryptRule of ["unencrypted_suffix: _unencrypted", "encrypted_regex: ^(token|url)$", "unencrypted_regex: ^public_", "unencrypted_suffix: _clear"]) {
      const text = oracleSealYaml(body, { dataKey: KEY, recipients: [alice.recipient], macValues: ["t0k3n", "https://x"], cryptRule });
      expect([...(await decryptSecrets(text, [alice.identity])).values], cryptRule).toEqual([["token", "t0k3n"], ["url", "https://x"]]);
    }
    const text = oracleSealYaml(body, { dataKey: KEY, recipients: [alice.recipient], macValues: ["t0k3n", "https://x"], cryptRule: "encrypted_regex: (?i:^token)" });
    expect((await catchCode(decryptSecrets(text, [alice.identity]))).code).toBe("UNSUPPORTED"); // was: read, the rule ignored
    expect((await catchCode(decryptDocument(text, [alice.identity]))).code).toBe("UNSUPPORTED");
  });
});
