/**
 * The flat reader on layouts other than the one this package writes: CRLF and lone-CR line endings, comments,
 * other indentation, JSON env files, the 3.13 metadata layout; plus metadata tampering that only
 * the MAC's AAD can catch (lastmodified).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { decryptSops } from "sops-age";
import { LineIndex, SopsError, decryptSecrets, encryptSecrets, isSopsEncrypted, parseSecretsFile, reencryptSecrets, rotateDataKey, updateKeys, type SecretsFile } from "./index.js";
import { oracleEncrypt, oracleMac, oracleSealYaml, ageWrapSync, SAMPLE_VALUES as VALUES, testKey } from "../test-fixtures/support.js";

const alice = testKey("alice");
let text = "";

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(SopsError);
    return (e as SopsError).code;
  }
}

beforeAll(async () => {
  text = await encryptSecrets(VALUES, { recipients: [alice.recipient], now: new Date("2026-02-03T04:05:06Z") });
});

describe("flat reader: layouts that sops or an editor may produce", () => {
  it("CRLF line endings (a Windows checkout) still decrypt and verify", async () => {
    const crlf = text.replace(/\n/g, "\r\n");
    expect([...(await decryptSecrets(crlf, [alice.identity])).values]).toEqual([...VALUES]);
  });

  it("comment lines and blank lines are ignored", async () => {
    const commented = `# managed by stellar-secrets\n\n${text.replace(/^D: /m, "# the last one\nD: ")}`;
    expect([...(await decryptSecrets(commented, [alice.identity])).values]).toEqual([...VALUES]);
  });

  it("2-space indentation of the sops block (re-indented by a person) still verifies", async () => {
    const to: Record<number, number> = { 4: 2, 8: 4, 10: 6, 12: 8 };
    const reindented = text.replace(/^( +)/gm, (s) => " ".repeat(to[s.length] ?? s.length));
    expect(reindented).not.toBe(text);
    expect([...(await decryptSecrets(reindented, [alice.identity])).values]).toEqual([...VALUES]);
  });

  it("quoted names and single-quoted values are read as the same strings", async () => {
    const quoted = text.replace(/^A: (.*)$/m, "'A': '$1'").replace(/^D: (.*)$/m, '"D": "$1"');
    expect([...(await decryptSecrets(quoted, [alice.identity])).values]).toEqual([...VALUES]);
  });

  it("the sops 3.13 layout (alphabetical, enc before recipient) is read", async () => {
    const key = Buffer.alloc(32, 5);
    const lm = "2026-01-01T00:00:00Z";
    const enc = ageWrapSync(key, alice.recipient).trimEnd().split("\n").map((l) => `            ${l}`).join("\n");
    const t =
      `X: ${oracleEncrypt(key, "x-value", "X:")}\n` +
      `sops:\n    age:\n        - enc: |\n${enc}\n          recipient: ${alice.recipient}\n` +
      `    lastmodified: "${lm}"\n    mac: ${oracleEncrypt(key, oracleMac(["x-value"]), lm)}\n    unencrypted_suffix: _unencrypted\n    version: 3.13.2\n`;
    const d = await decryptSecrets(t, [alice.identity]);
    expect(d.values.get("X")).toBe("x-value");
    expect(d.file.recipients).toEqual([alice.recipient]);
  });

  it("a flat JSON env file (as sops writes it: tab indent, sops last) is read with path *.json", async () => {
    const key = Buffer.alloc(32, 6);
    const lm = "2026-01-01T00:00:00Z";
    const obj = {
      API_KEY: oracleEncrypt(key, "json-secret", "API_KEY:"),
      EMPTY: "",
      sops: { age: [{ recipient: alice.recipient, enc: ageWrapSync(key, alice.recipient) }], lastmodified: lm, mac: oracleEncrypt(key, oracleMac(["json-secret"]), lm), unencrypted_suffix: "_unencrypted", version: "3.10.2" },
    };
    const json = `${JSON.stringify(obj, null, "\t")}\n`;
    const d = await decryptSecrets(json, [alice.identity], { path: "secrets/dev.enc.json" });
    expect([...d.values]).toEqual([["API_KEY", "json-secret"], ["EMPTY", ""]]);
    // lone CRs between the tokens are JSON whitespace, as for Go's encoding/json
    expect([...(await decryptSecrets(json.replace(/\n/g, "\r"), [alice.identity], { path: "secrets/dev.enc.json" })).values]).toEqual([...d.values]);
    expect(parseSecretsFile(json, { path: "x.json" }).format).toBe("json");
    // a duplicate key in JSON is refused too
    const dup = json.replace('"EMPTY": ""', `"EMPTY": "",\n\t"API_KEY": ${JSON.stringify(obj.API_KEY)}`);
    expect(await code(decryptSecrets(dup, [alice.identity], { path: "x.enc.json" }))).toBe("DUPLICATE_KEY");
  });

  it("a foreign flat file with a clear _unencrypted value is refused rather than mis-verified", async () => {
    const key = Buffer.alloc(32, 8);
    const body = `A: ${oracleEncrypt(key, "a", "A:")}\nNOTE_unencrypted: visible\n`;
    const t = oracleSealYaml(body, { dataKey: key, recipients: [alice.recipient], macValues: ["a", "visible"] });
    const r = await decryptSecrets(t, [alice.identity]).then(
      (d) => d,
      (e: unknown) => e,
    );
    if (r instanceof SopsError) expect(["NOT_ENCRYPTED", "UNSUPPORTED"]).toContain(r.code);
    else expect([...(r as { values: Map<string, string> }).values]).toEqual([["A", "a"], ["NOTE_unencrypted", "visible"]]);
  });
});

describe("metadata tampering caught through the MAC's AAD", () => {
  it("lastmodified changed → MAC_MISMATCH", async () => {
    const t = text.replace('lastmodified: "2026-02-03T04:05:06Z"', 'lastmodified: "2026-02-03T04:05:07Z"');
    expect(t).not.toBe(text);
    expect(await code(decryptSecrets(t, [alice.identity]))).toBe("MAC_MISMATCH");
  });

  it("lastmodified that is not a time → MALFORMED_FILE", async () => {
    const t = text.replace('lastmodified: "2026-02-03T04:05:06Z"', 'lastmodified: "yesterday"');
    expect(await code(decryptSecrets(t, [alice.identity]))).toBe("MALFORMED_FILE");
  });

  it("the mac of another file (same data key, other values) → MAC_MISMATCH", async () => {
    const d = await decryptSecrets(text, [alice.identity]);
    const { reencryptSecrets } = await import("./index.js");
    const other = await reencryptSecrets(d, new Map([...VALUES, ["E", "echo"]]), { now: new Date("2026-02-03T04:05:06Z") });
    const otherMac = /^ {4}mac: .*$/m.exec(other)![0];
    const t = text.replace(/^ {4}mac: .*$/m, otherMac);
    expect(await code(decryptSecrets(t, [alice.identity]))).toBe("MAC_MISMATCH");
    // and the other file with its own mac but one line dropped (rollback of an added secret)
    expect(await code(decryptSecrets(other.replace(/^E: .*\n/m, ""), [alice.identity]))).toBe("MAC_MISMATCH");
  });
});

describe("error reasons", () => {
  const reasonOf = (t: string): [string, string | undefined, number | undefined] => {
    try {
      parseSecretsFile(t);
    } catch (e) {
      expect(e).toBeInstanceOf(SopsError);
      return [(e as SopsError).code, (e as SopsError).reason, (e as SopsError).line];
    }
    throw new Error("expected a SopsError");
  };

  it("a value the file's crypt rule leaves in clear (a sops file with encrypted_regex, or a name ending in _unencrypted) says which rule", () => {
    const messageOf = (t: string): string => {
      try {
        parseSecretsFile(t);
      } catch (e) {
        expect((e as SopsError).code).toBe("NOT_ENCRYPTED");
        expect((e as SopsError).reason).toBe("plaintext-value");
        return (e as SopsError).message;
      }
      throw new Error("expected a SopsError");
    };
    const [first, ...rest] = text.split("\n");
    const regex = [first, "kind: Secret", ...rest].join("\n").replace("unencrypted_suffix: _unencrypted", "encrypted_regex: ^[A-D]$");
    expect(messageOf(regex)).toBe('secret "kind" has a plaintext value instead of ENC[...]: the file\'s sops.encrypted_regex "^[A-D]$" leaves it unencrypted');
    expect(messageOf([first, "debug_unencrypted: x", ...rest].join("\n"))).toBe(
      'secret "debug_unencrypted" has a plaintext value instead of ENC[...]: the file\'s sops.unencrypted_suffix "_unencrypted" leaves it unencrypted',
    );
    expect(messageOf([first, "plain: hello", ...rest].join("\n"))).toBe('secret "plain" has a plaintext value instead of ENC[...]');
  });

  it("names a plaintext value, a nested value and a bad sops.version, on both reader paths", () => {
    const [first, ...rest] = text.split("\n");
    expect(reasonOf([first, "plain: hello", ...rest].join("\n"))).toEqual(["NOT_ENCRYPTED", "plaintext-value", 2]);
    expect(reasonOf([first, "nested:", "    a: b", ...rest].join("\n"))).toEqual(["MALFORMED_FILE", "nested-value", 2]);
    const badVersion = text.replace(/version: .*/, "version: banana");
    expect(reasonOf(badVersion)[0]).toBe("MALFORMED_FILE");
    expect(reasonOf(badVersion)[1]).toBe("invalid-version"); // fast path: re-thrown with the whole file's line
    expect(reasonOf(`# a comment takes the full parser\n${badVersion}`)[1]).toBe("invalid-version");
    // sops parses the version as semver after a leading `v` (blang/semver): trailing text is refused, a pre-release is not
    for (const v of ["3.10.2junk", "3.13.2.1", "3.10.2 extra"]) expect(reasonOf(text.replace(/version: .*/, `version: ${v}`))[1], v).toBe("invalid-version");
    for (const v of ["v3.10.2", "3.13.0-rc.1", "3.10.2+build.5"]) expect(() => parseSecretsFile(text.replace(/version: .*/, `version: ${v}`)), v).not.toThrow();
  });

  it("names git conflict markers (a file git merged as text) at the first marker line, with how to redo the merge", () => {
    const [first, second, ...rest] = text.split("\n");
    const conflicted = [first, "<<<<<<< HEAD", second, "=======", second, ">>>>>>> feature", ...rest].join("\n");
    expect(reasonOf(conflicted)).toEqual(["MALFORMED_FILE", "conflict-markers", 2]);
    expect(reasonOf(conflicted.replace(/\n/g, "\r\n"))).toEqual(["MALFORMED_FILE", "conflict-markers", 2]);
    let hint: string | undefined;
    try {
      parseSecretsFile(conflicted, { path: "secrets/dev.enc.yaml" });
    } catch (e) {
      hint = (e as SopsError).hint;
    }
    expect(hint).toContain("stellar-secrets git setup");
    expect(hint).toContain("git checkout -m -- secrets/dev.enc.yaml");
    // a value that merely starts with a marker-like run inside a line is no marker
    expect(reasonOf([first, "x: <<<<<<< y", ...rest].join("\n"))[1]).not.toBe("conflict-markers");
  });

  it("leaves the reason unset where the code says it all", () => {
    expect(reasonOf("a: 1\na: 2\n")[1]).toBeUndefined();
  });
});

describe("fast reader: quoted keys read as the full parser reads them", () => {
  /** The same file through the full YAML parser: a leading comment line takes it off the fast path. */
  const viaGeneral = (t: string) => {
    const shift = "# full parser\n".length;
    const f = parseSecretsFile(`# full parser\n${t}`);
    return f.entries.map((e) => ({ ...e, nameRange: { start: e.nameRange.start - shift, end: e.nameRange.end - shift }, valueRange: { start: e.valueRange.start - shift, end: e.valueRange.end - shift } }));
  };

  it("double- and single-quoted names (with '' and YAML words) give the same entries, ranges and values", async () => {
    const quoted = text
      .replace(/^A: /m, '"A": ')
      .replace(/^B: /m, "'B': ")
      .replace(/^C: /m, `"it's true": `)
      .replace(/^D: /m, "'it''s # not a comment': ");
    expect(parseSecretsFile(quoted).entries).toEqual(viaGeneral(quoted));
    expect(parseSecretsFile(quoted).entries.map((e) => e.name)).toEqual(["A", "B", "it's true", "it's # not a comment"]);
    // the names are in each value's AAD: quoting them keeps the file verifying, renaming does not
    const same = text.replace(/^A: /m, '"A": ').replace(/^B: /m, "'B': ").replace(/^D: /m, "'D': ");
    expect(parseSecretsFile(same).entries).toEqual(viaGeneral(same));
    const d = await decryptSecrets(same, [alice.identity]);
    expect([...d.values]).toEqual([...VALUES]);
    expect(d.values.get("B")).toBe("line1\nline2");
  });

  it("a quoted name equal to a plain one is a DUPLICATE_KEY on the fast path too", () => {
    const dup = text.replace(/^D: /m, '"A": ');
    expect(() => parseSecretsFile(dup)).toThrowError(expect.objectContaining({ code: "DUPLICATE_KEY", line: 4 }));
  });

  it("escapes, a quoted sops key and an empty name leave the fast path and are judged by the full parser", () => {
    const escaped = text.replace(/^A: /m, '"\\x41": ');
    expect(parseSecretsFile(escaped).entries[0]!.name).toBe("A");
    const sopsKey = text.replace(/^A: .*\n/m, '"sops": ENC[AES256_GCM,data:AA==,iv:AA==,tag:AA==,type:str]\n');
    expect(() => parseSecretsFile(sopsKey)).toThrowError(expect.objectContaining({ code: "DUPLICATE_KEY" }));
  });
});

describe("fast reader: the sops block without yaml", () => {
  /** The same file with the block read by yaml: an indented comment at its end is outside the fast reader. */
  const viaYaml = (t: string) => parseSecretsFile(`${t}    # read by yaml\n`);

  it("gives the metadata yaml gives, for one and several recipients (age and ssh-ed25519)", async () => {
    const { generateIdentity } = await import("./index.js");
    const other = await generateIdentity();
    const ssh = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKRtWlTZ4ZKm4ch5Ml5X9C4GLzcMijyvWSzqS5lzHJcd";
    for (const recipients of [[alice.recipient], [alice.recipient, other.recipient, ssh]]) {
      const t = await encryptSecrets(VALUES, { recipients, now: new Date("2026-02-03T04:05:06Z") });
      const fast = parseSecretsFile(t);
      expect(fast.metadata).toEqual(viaYaml(t).metadata);
      expect(fast.metadata.age.map((a) => a.recipient)).toEqual(recipients);
      expect(fast.metadata.age[0]!.enc.endsWith("-----END AGE ENCRYPTED FILE-----\n")).toBe(true);
      expect(fast.metadataRange).toEqual({ start: viaYaml(t).metadataRange.start, end: t.length });
    }
  });

  it("other spellings of the block go to yaml and still verify, and errors keep their line", async () => {
    const spelled = text.replace(/^ {4}unencrypted_suffix: _unencrypted$/m, '    unencrypted_suffix: "_unencrypted"');
    expect(spelled).not.toBe(text);
    expect([...(await decryptSecrets(spelled, [alice.identity])).values]).toEqual([...VALUES]);
    const badVersion = text.replace(/version: .*/, "version: banana");
    expect(() => parseSecretsFile(badVersion)).toThrowError(expect.objectContaining({ code: "MALFORMED_FILE" }));
    const noMac = text.replace(/^ {4}mac: .*\n/m, "");
    expect(() => parseSecretsFile(noMac)).not.toThrow(); // yaml path: mac is optional in the metadata
    const sopsLine = text.split("\n").indexOf("sops:") + 1;
    const noTime = text.replace(/^ {4}lastmodified: .*\n/m, "");
    expect(() => parseSecretsFile(noTime)).toThrowError(expect.objectContaining({ code: "MALFORMED_FILE", line: sopsLine }));
  });
});

describe("lone CR line breaks (YAML 1.2 §5.4: CR, LF and CRLF each end a line, as sops' yaml.v3 reads them)", () => {
  const asCr = (t: string) => t.replace(/\n/g, "\r");
  /** Line breaks cycling LF, CR, CRLF: a file with all three. */
  const mixed = (t: string) => {
    let i = 0;
    return t.replace(/\n/g, () => ["\n", "\r", "\r\n"][i++ % 3]!);
  };
  const errorOf = (f: () => unknown): { code: string; line: number | undefined; column: number | undefined } => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(SopsError);
      return { code: (e as SopsError).code, line: (e as SopsError).line, column: (e as SopsError).column };
    }
    throw new Error("expected a SopsError");
  };
  const asyncErrorOf = async (p: Promise<unknown>) => {
    const e = await p.then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(SopsError);
    return { code: (e as SopsError).code, line: (e as SopsError).line };
  };

  it("a lone-CR file parses to the same entries, ranges and metadata as the LF file (same length: same offsets)", () => {
    const lf = parseSecretsFile(text);
    expect(parseSecretsFile(asCr(text))).toEqual(lf);
    // with CRLFs among them the offsets move: compare what was read
    const m = parseSecretsFile(mixed(text));
    expect(m.entries.map((e) => [e.name, e.raw])).toEqual(lf.entries.map((e) => [e.name, e.raw]));
    expect(m.metadata).toEqual(lf.metadata);
    expect(isSopsEncrypted(asCr(text))).toBe(true);
    expect(isSopsEncrypted(mixed(text))).toBe(true);
  });

  it("decrypts and verifies with lone CRs everywhere, only in the sops block, only in the entries, and mixed", async () => {
    const sops = text.indexOf("sops:");
    const variants = {
      everywhere: asCr(text),
      block: text.slice(0, sops) + asCr(text.slice(sops)),
      "block after its first line": text.slice(0, sops + 6) + asCr(text.slice(sops + 6)),
      entries: asCr(text.slice(0, sops)) + text.slice(sops),
      mixed: mixed(text),
      "comment header": `# managed by stellar-secrets\r\r${asCr(text)}`,
    };
    for (const [what, t] of Object.entries(variants)) {
      expect(t, what).not.toBe(text);
      const d = await decryptSecrets(t, [alice.identity]);
      expect([...d.values], what).toEqual([...VALUES]);
    }
  });

  it("a changed, moved or dropped value in a lone-CR file is still refused, at the line CR counts", async () => {
    const cr = asCr(text);
    const lines = text.split("\n");
    const lineOf = (name: string) => lines.findIndex((l) => l.startsWith(`${name}: `)) + 1;
    // the ENC string of A under the name D: its tag's AAD names A
    const aValue = /^A: (.*)$/m.exec(text)![1]!;
    const moved = cr.replace(/\rD: [^\r]*/, `\rD: ${aValue}`);
    expect(await asyncErrorOf(decryptSecrets(moved, [alice.identity]))).toEqual({ code: "TAMPERED", line: lineOf("D") });
    // one character of A's ciphertext changed
    const data = /data:([A-Za-z0-9+/=]+)/.exec(aValue)![1]!;
    const flipped = cr.replace(data, (data[0] === "A" ? "B" : "A") + data.slice(1));
    expect(await asyncErrorOf(decryptSecrets(flipped, [alice.identity]))).toEqual({ code: "TAMPERED", line: lineOf("A") });
    // a value dropped: every tag verifies, the MAC does not
    expect((await asyncErrorOf(decryptSecrets(cr.replace(/D: [^\r]*\r/, ""), [alice.identity]))).code).toBe("MAC_MISMATCH");
    // lastmodified changed: caught by the MAC's AAD
    expect((await asyncErrorOf(decryptSecrets(cr.replace("04:05:06Z", "04:05:07Z"), [alice.identity]))).code).toBe("MAC_MISMATCH");
  });

  it("error positions count a lone CR as a line break on every reader path", () => {
    const lines = text.split("\n");
    const cr = (ls: readonly string[]) => ls.join("\r");
    // fast reader: the same name twice (line 4)
    const dup = [...lines];
    dup[3] = dup[3]!.replace(/^D: /, "A: ");
    expect(errorOf(() => parseSecretsFile(cr(dup)))).toMatchObject({ code: "DUPLICATE_KEY", line: 4 });
    // full parser: a plaintext value (line 2) and a nested value (line 3), after a comment line
    expect(errorOf(() => parseSecretsFile(cr(["# c", lines[0]!, "plain: hello", ...lines.slice(1)])))).toMatchObject({ code: "NOT_ENCRYPTED", line: 3 });
    expect(errorOf(() => parseSecretsFile(cr([lines[0]!, "nested:", "    a: b", ...lines.slice(1)])))).toMatchObject({ code: "MALFORMED_FILE", line: 2 });
    // a YAML syntax error: the line and column of the LF file
    const broken = [...lines];
    broken[1] = "B: [unclosed";
    const lf = errorOf(() => parseSecretsFile(broken.join("\n")));
    expect(errorOf(() => parseSecretsFile(cr(broken)))).toEqual(lf);
    // metadata: lastmodified missing is reported at the sops: line, on the yaml-on-the-block path and the general path
    const sopsLine = lines.indexOf("sops:") + 1;
    const noTime = lines.filter((l) => !l.startsWith("    lastmodified:"));
    expect(errorOf(() => parseSecretsFile(noTime.join("\n")))).toMatchObject({ code: "MALFORMED_FILE", line: sopsLine });
    expect(errorOf(() => parseSecretsFile(cr(noTime)))).toMatchObject({ code: "MALFORMED_FILE", line: sopsLine });
    expect(errorOf(() => parseSecretsFile(`${noTime.slice(0, sopsLine).join("\n")}\n${cr(noTime.slice(sopsLine))}`))).toMatchObject({
      code: "MALFORMED_FILE",
      line: sopsLine,
    });
  });

  it("writes to a lone-CR file (set, rm, updatekeys, rotate) are LF files (git sees one line either way; sops-age reads no lone CR), that sops-age and our reader read", async () => {
    const previous = await decryptSecrets(asCr(text), [alice.identity]);
    const changed = new Map(VALUES);
    changed.set("E", "echo");
    changed.delete("A");
    const { generateIdentity } = await import("./index.js");
    const bob = await generateIdentity();
    const written = [
      await reencryptSecrets(previous, changed),
      await updateKeys(previous, [alice.recipient, bob.recipient]),
      await rotateDataKey(previous),
    ];
    const expected = [changed, VALUES, VALUES];
    for (const [i, w] of written.entries()) {
      expect(w.includes("\r")).toBe(false);
      expect([...(await decryptSecrets(w, [alice.identity])).values]).toEqual([...expected[i]!]);
      const second = (await decryptSops(w, { secretKey: alice.identity, fileType: "yaml" })) as Record<string, unknown>;
      expect(Object.keys(second).filter((k) => k !== "sops")).toEqual([...expected[i]!.keys()]);
      expect(second.E ?? second.A).toBe(expected[i]!.get("E") ?? "alpha");
    }
    // stable ciphertext: unchanged values keep their exact ENC strings across the CR → LF write
    expect(written[0]).toContain(/^B: (.*)$/m.exec(text)![1]);
  });
});

describe("CRLF line ends on the line readers (a Windows checkout with core.autocrlf=true)", () => {
  const crlf = (t: string) => t.replace(/\n/g, "\r\n");
  /** The same text through the full YAML parser (a leading comment line takes it off the fast path), ranges shifted back. */
  const viaGeneral = (t: string): SecretsFile => {
    const head = "# full parser\r\n";
    const { comments, lineBreak, ...f } = parseSecretsFile(`${head}${t}`);
    expect(comments?.header).toEqual([" full parser"]); // the line that takes it off the fast path is the file's one comment
    expect(lineBreak).toBe("\r\n");
    const back = (r: { start: number; end: number }) => ({ start: r.start - head.length, end: r.end - head.length });
    // the file's own line break is its first line's (not the added head's)
    return { ...f, ...(/^[^\n]*\r\n/.test(t) ? { lineBreak: "\r\n" as const } : {}), entries: f.entries.map((e) => ({ ...e, nameRange: back(e.nameRange), valueRange: back(e.valueRange) })), metadataRange: back(f.metadataRange) };
  };
  /** Every range of a file as 1-based line/column pairs: CRLF and LF files of the same lines give the same. */
  const positions = (t: string, f: SecretsFile) => {
    const ix = new LineIndex(t);
    return {
      entries: f.entries.map((e) => [e.name, ix.rangeToPositions(e.nameRange), ix.rangeToPositions(e.valueRange)]),
      metadataStart: ix.positionAt(f.metadataRange.start),
    };
  };
  const errorOf = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(SopsError);
      return { code: (e as SopsError).code, reason: (e as SopsError).reason, line: (e as SopsError).line, column: (e as SopsError).column };
    }
    throw new Error("expected a SopsError");
  };

  it("gives the entries, ranges and metadata the full parser gives for the same CRLF text, and the LF file's lines and columns", () => {
    const t = crlf(text);
    const fast = parseSecretsFile(t);
    expect(fast).toEqual(viaGeneral(t));
    expect(fast.metadataRange).toEqual({ start: t.indexOf("sops:"), end: t.length });
    const lf = parseSecretsFile(text);
    expect({ ...fast, entries: fast.entries.map((e) => [e.name, e.raw, e.type]) }).toEqual({ ...lf, entries: lf.entries.map((e) => [e.name, e.raw, e.type]), metadataRange: fast.metadataRange, lineBreak: "\r\n" });
    expect(positions(t, fast)).toEqual(positions(text, lf));
    // a value's range ends before the CR: the range is the ENC string itself
    for (const e of fast.entries) expect(t.slice(e.valueRange.start, e.valueRange.end)).toBe(e.raw === "" ? '""' : e.raw);
  });

  it("quoted names, several recipients (age and ssh-ed25519), mixed LF/CRLF and no final line break read as the full parser reads them", async () => {
    const { generateIdentity } = await import("./index.js");
    const other = await generateIdentity();
    const ssh = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKRtWlTZ4ZKm4ch5Ml5X9C4GLzcMijyvWSzqS5lzHJcd";
    const several = await encryptSecrets(VALUES, { recipients: [alice.recipient, other.recipient, ssh], now: new Date("2026-02-03T04:05:06Z") });
    const mixed = (first: number) => {
      let i = first;
      return text.replace(/\n/g, () => (i++ % 2 === 0 ? "\r\n" : "\n"));
    };
    const variants = {
      quoted: crlf(text).replace(/^A: /m, '"A": ').replace(/^B: /m, "'B': ").replace(/^D: /m, "'it''s # not a comment': "),
      several: crlf(several),
      "mixed, CRLF first": mixed(0),
      "mixed, LF first": mixed(1),
      "no final line break": crlf(text).slice(0, -2),
    };
    for (const [what, t] of Object.entries(variants)) {
      expect(parseSecretsFile(t), what).toEqual(viaGeneral(t));
    }
    expect(parseSecretsFile(variants.several).metadata).toEqual(parseSecretsFile(several).metadata);
    expect([...(await decryptSecrets(variants["mixed, LF first"], [alice.identity])).values]).toEqual([...VALUES]);
  });

  it("refuses what the LF file's fast path refuses, with the same code, reason, line and column", async () => {
    const lines = text.split("\n");
    const sopsLine = lines.indexOf("sops:") + 1;
    const dup = [...lines];
    dup[3] = dup[3]!.replace(/^D: /, "A: ");
    const cases: Record<string, string[]> = {
      "duplicate name": dup,
      "duplicate name, quoted": lines.map((l, n) => (n === 3 ? l.replace(/^D: /, '"A": ') : l)),
      "plaintext value": [lines[0]!, "plain: hello", ...lines.slice(1)],
      "nested value": [lines[0]!, "nested:", "    a: b", ...lines.slice(1)],
      "bad sops.version": lines.map((l) => l.replace(/^ {4}version: .*/, "    version: banana")),
      "lastmodified missing": lines.filter((l) => !l.startsWith("    lastmodified:")),
      "a key after the sops block": [...lines.slice(0, -1), "LATE: x", ""],
      "no sops block": lines.slice(0, sopsLine - 1),
    };
    for (const [what, ls] of Object.entries(cases)) {
      const lf = errorOf(() => parseSecretsFile(ls.join("\n")));
      expect(errorOf(() => parseSecretsFile(ls.join("\r\n"))), what).toEqual(lf);
    }
    expect(errorOf(() => parseSecretsFile(dup.join("\r\n")))).toMatchObject({ code: "DUPLICATE_KEY", line: 4 });
    expect(errorOf(() => parseSecretsFile(cases["lastmodified missing"]!.join("\r\n")))).toMatchObject({ code: "MALFORMED_FILE", line: sopsLine });
  });

  it("a changed, moved or dropped value, or changed metadata, in a CRLF file is refused as in the LF file", async () => {
    const asyncErrorOf = async (t: string) => {
      const e = await decryptSecrets(t, [alice.identity]).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(SopsError);
      return { code: (e as SopsError).code, line: (e as SopsError).line };
    };
    const aValue = /^A: (.*)$/m.exec(text)![1]!;
    const data = /data:([A-Za-z0-9+/=]+)/.exec(aValue)![1]!;
    const edits: Record<string, (t: string) => string> = {
      moved: (t) => t.replace(/^D: .*$/m, `D: ${aValue}`),
      flipped: (t) => t.replace(data, (data[0] === "A" ? "B" : "A") + data.slice(1)),
      dropped: (t) => t.replace(/^D: .*\n/m, ""),
      "lastmodified changed": (t) => t.replace("04:05:06Z", "04:05:07Z"),
      "mac of nothing": (t) => t.replace(/^( {4}mac: ).*$/m, '$1""'),
    };
    for (const [what, edit] of Object.entries(edits)) {
      const lf = edit(text);
      expect(lf, what).not.toBe(text);
      expect(await asyncErrorOf(crlf(lf)), what).toEqual(await asyncErrorOf(lf));
    }
  });

  it("writes to a CRLF file are CRLF files with the same ENC strings for unchanged values", async () => {
    const previous = await decryptSecrets(crlf(text), [alice.identity]);
    const changed = new Map(VALUES);
    changed.set("E", "echo");
    const written = await reencryptSecrets(previous, changed);
    expect(written.includes("\r\n")).toBe(true);
    expect(written.replace(/\r\n/g, "")).not.toMatch(/[\r\n]/);
    expect(written).toContain(/^B: (.*)$/m.exec(text)![1]);
    expect([...(await decryptSecrets(written, [alice.identity])).values]).toEqual([...changed]);
  });
});
