/**
 * sops key groups (Shamir, SOPS-FORMAT §5) in every reader: files built by the independent oracle
 * (`shamir_split.py` for the split, the `age` CLI for the wrapping, node:crypto for values and MAC).
 */
import { randomBytes } from "node:crypto";
import { parse as parseYaml } from "yaml";
import { describe, expect, it } from "vitest";
import { SopsError, decryptDocument, decryptSecrets, mergeSecrets, reencryptSecrets, rotateDataKey, updateKeys } from "./index.js";
import { combineShares } from "./shamir.js";
import { assertNoLeak, catchError, oracleDecrypt, oracleEncrypt, oracleMac, oracleSealKeyGroups, oracleShamirSplit, testKey, type OracleKeyGroupsOptions } from "../test-fixtures/support.js";

const alice = testKey("alice");
const bob = testKey("bob");
const carol = testKey("carol");
const PGP_FP = "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4";

/** A flat file `API_KEY`, `DB_PASSWORD` sealed with key groups; returns the text and what must never leak. */
function keyGroupsFile(o: Omit<OracleKeyGroupsOptions, "dataKey" | "macValues">): { text: string; dataKey: Buffer; secrets: string[] } {
  const dataKey = randomBytes(32);
  const values = ["sk-live-4f9a2c", "hunter2-db"];
  const body = `API_KEY: ${oracleEncrypt(dataKey, values[0]!, "API_KEY:")}\nDB_PASSWORD: ${oracleEncrypt(dataKey, values[1]!, "DB_PASSWORD:")}\n`;
  const text = oracleSealKeyGroups(body, { ...o, dataKey, macValues: values });
  return { text, dataKey, secrets: [...values, dataKey.toString("hex"), dataKey.toString("base64"), alice.identity, bob.identity, carol.identity] };
}

/** Both readers of a flat file: the values, or the error of each. */
async function readBoth(text: string, identities: string[]): Promise<{ flat: unknown; document: unknown }> {
  const flat = await decryptSecrets(text, identities).then((d) => Object.fromEntries(d.values), (e: unknown) => e);
  const document = await decryptDocument(text, identities).then((d) => d.tree, (e: unknown) => e);
  return { flat, document };
}

const VALUES = { API_KEY: "sk-live-4f9a2c", DB_PASSWORD: "hunter2-db" };
const lineOf = (text: string, prefix: string) => text.split("\n").findIndex((l) => l.startsWith(prefix)) + 1;

describe("combineShares (against the python oracle's split)", () => {
  it("gives the secret back from any threshold-sized subset, x = 1..n and random x", () => {
    for (const x of ["sequential", "random"] as const) {
      for (const [n, t] of [
        [2, 2],
        [3, 2],
        [3, 3],
        [5, 3],
      ] as const) {
        const secret = randomBytes(32);
        const shares = oracleShamirSplit(secret, n, t, x);
        expect(shares.every((s) => s.length === 33)).toBe(true);
        if (x === "sequential") expect(shares.map((s) => s[32])).toEqual(Array.from({ length: n }, (_, i) => i + 1));
        // every subset of size >= t
        for (let mask = 1; mask < 1 << n; mask++) {
          const subset = shares.filter((_, i) => mask & (1 << i));
          if (subset.length < t) continue;
          expect(Buffer.from(combineShares(subset)).equals(secret), `${x} n=${n} t=${t} mask=${mask}`).toBe(true);
        }
        // t-1 shares give something else (t >= 3 so that t-1 >= 2 shares can be combined)
        if (t >= 3) expect(Buffer.from(combineShares(shares.slice(0, t - 1))).equals(secret)).toBe(false);
      }
    }
  });

  it("refuses fewer than 2 shares, different lengths, x = 0 and duplicate x (MALFORMED_FILE), never showing share bytes", () => {
    const shares = oracleShamirSplit(randomBytes(32), 3, 2);
    const cases: Buffer[][] = [
      [shares[0]!],
      [shares[0]!, shares[1]!.subarray(1)],
      [shares[0]!, Buffer.concat([shares[1]!.subarray(0, 32), Buffer.from([0])])],
      [shares[0]!, Buffer.concat([shares[1]!.subarray(0, 32), Buffer.from([1])])],
    ];
    for (const c of cases) {
      let err: unknown;
      try {
        combineShares(c);
      } catch (e) {
        err = e;
      }
      expect((err as SopsError).code).toBe("MALFORMED_FILE");
      assertNoLeak(err, shares.map((s) => s.toString("hex").slice(0, 16)));
    }
  });
});

describe("key-groups files in the flat reader and the document reader", () => {
  it("decrypts 2 of 3 groups (threshold 2) with identities of two groups, both x conventions", async () => {
    for (const x of ["sequential", "random"] as const) {
      const { text } = keyGroupsFile({ groups: [{ age: [alice.recipient] }, { age: [bob.recipient] }, { age: [carol.recipient] }], threshold: 2, x });
      for (const ids of [[alice.identity, bob.identity], [bob.identity, carol.identity], [carol.identity, alice.identity], [alice.identity, bob.identity, carol.identity]]) {
        expect(await readBoth(text, ids)).toEqual({ flat: VALUES, document: VALUES });
      }
    }
  });

  it("one identity of a threshold-2 file: NO_MATCHING_IDENTITY naming the groups opened, the threshold and the other groups' recipients", async () => {
    const { text, secrets } = keyGroupsFile({ groups: [{ age: [alice.recipient] }, { age: [bob.recipient] }, { age: [carol.recipient] }], threshold: 2 });
    const { flat, document } = await readBoth(text, [alice.identity]);
    for (const err of [flat, document] as SopsError[]) {
      expect(err).toBeInstanceOf(SopsError);
      expect(err.code).toBe("NO_MATCHING_IDENTITY");
      expect(err.message).toContain("opens 1 of the file's 3 key groups (1)");
      expect(err.message).toContain("2 are needed (sops.shamir_threshold)");
      expect(err.message).toContain(`group 2 (${bob.recipient})`);
      expect(err.message).toContain(`group 3 (${carol.recipient})`);
      expect(err.line).toBe(lineOf(text, "    key_groups:"));
      assertNoLeak(err, secrets);
    }
  });

  it("skips a group whose only keys are pgp, and names it when too few groups open", async () => {
    const { text } = keyGroupsFile({ groups: [{ age: [alice.recipient] }, { age: [], pgp: [PGP_FP] }, { age: [bob.recipient] }], threshold: 2 });
    expect(await readBoth(text, [alice.identity, bob.identity])).toEqual({ flat: VALUES, document: VALUES });
    const err = (await catchError(() => decryptSecrets(text, [bob.identity]))) as SopsError;
    expect(err.code).toBe("NO_MATCHING_IDENTITY");
    expect(err.message).toContain(`group 2 (pgp ${PGP_FP}; no age key: stellar-secrets cannot open it)`);
  });

  it("an absent shamir_threshold: the shares of whatever groups open are combined, as sops does, and the MAC decides; a group of several recipients opens with any of them", async () => {
    // split 2 of 2 with no threshold written (sops writes the one it split with; only a hand edit removes it)
    const { text } = keyGroupsFile({ groups: [{ age: [carol.recipient, alice.recipient] }, { age: [bob.recipient] }] });
    expect(text).not.toContain("shamir_threshold");
    expect(await readBoth(text, [alice.identity, bob.identity])).toEqual({ flat: VALUES, document: VALUES });
    const { flat, document } = await readBoth(text, [alice.identity, carol.identity]);
    expect([(flat as SopsError).code, (document as SopsError).code]).toEqual(["NO_MATCHING_IDENTITY", "NO_MATCHING_IDENTITY"]);
    expect((flat as SopsError).message).toContain("open 1 of the file's 2 key groups (1), and at least 2 are needed (no sops.shamir_threshold is written");
    expect((flat as SopsError).keyGroups).toEqual({ opened: [1], groups: 2, threshold: 2, thresholdWritten: false });
  });

  it("an absent shamir_threshold on a 2-of-3 split: any two groups read it (sops reads it so), one is too few", async () => {
    const { text, secrets } = keyGroupsFile({ groups: [{ age: [alice.recipient] }, { age: [bob.recipient] }, { age: [carol.recipient] }], threshold: 2 });
    const bare = text.replace("    shamir_threshold: 2\n", "");
    expect(bare).not.toContain("shamir_threshold");
    for (const pair of [[alice, bob], [alice, carol], [bob, carol], [alice, bob, carol]]) {
      expect(await readBoth(bare, pair.map((k) => k.identity))).toEqual({ flat: VALUES, document: VALUES });
    }
    const one = (await catchError(() => decryptSecrets(bare, [carol.identity]))) as SopsError;
    expect(one.code).toBe("NO_MATCHING_IDENTITY");
    assertNoLeak(one, secrets);
  });

  it("an absent shamir_threshold on a 3-of-3 split: two groups' shares give a wrong key, refused as too few groups (the MAC tells), never a value; all three read it", async () => {
    const { text, secrets } = keyGroupsFile({ groups: [{ age: [alice.recipient] }, { age: [bob.recipient] }, { age: [carol.recipient] }], threshold: 3 });
    const bare = text.replace("    shamir_threshold: 3\n", "");
    const { flat, document } = await readBoth(bare, [alice.identity, bob.identity]);
    for (const err of [flat, document] as SopsError[]) {
      expect(err.code).toBe("NO_MATCHING_IDENTITY");
      expect(err.reason).toBe("too-few-key-groups");
      expect(err.message).toContain("open 2 of the file's 3 key groups (1, 2), whose shares do not give the data key (it does not open sops.mac): no sops.shamir_threshold is written");
      expect(err.keyGroups).toEqual({ opened: [1, 2], groups: 3, threshold: 3, thresholdWritten: false });
      assertNoLeak(err, secrets);
    }
    expect(await readBoth(bare, [alice.identity, bob.identity, carol.identity])).toEqual({ flat: VALUES, document: VALUES });
  });

  it("a shamir_threshold lowered below the split's (2 written on a 3-of-3 split): MAC_MISMATCH that says the threshold may have been lowered, never a value", async () => {
    const { text, secrets } = keyGroupsFile({ groups: [{ age: [alice.recipient] }, { age: [bob.recipient] }, { age: [carol.recipient] }], threshold: 3 });
    const lowered = text.replace("    shamir_threshold: 3\n", "    shamir_threshold: 2\n");
    const { flat, document } = await readBoth(lowered, [alice.identity, bob.identity]);
    for (const err of [flat, document] as SopsError[]) {
      expect(err.code).toBe("MAC_MISMATCH");
      expect(err.message).toContain("or sops.shamir_threshold (2) was lowered below what the split needs (it is not under the MAC: keys of more groups may open the file)");
      assertNoLeak(err, secrets);
    }
    expect(await readBoth(lowered, [alice.identity, bob.identity, carol.identity])).toEqual({ flat: VALUES, document: VALUES });
  });

  it("an absent shamir_threshold with every group opened and a changed share: MAC_MISMATCH (no group is missing to blame)", async () => {
    const { text } = keyGroupsFile({
      groups: [{ age: [alice.recipient] }, { age: [bob.recipient] }],
      mutateShares: (s) => {
        s[1]![5] ^= 0x40;
        return s;
      },
    });
    const { flat, document } = await readBoth(text, [alice.identity, bob.identity]);
    expect([(flat as SopsError).code, (document as SopsError).code]).toEqual(["MAC_MISMATCH", "MAC_MISMATCH"]);
  });

  it("reads a key_groups list of one group (each key wraps the whole data key, as sops reads it)", async () => {
    const { text } = keyGroupsFile({ groups: [{ age: [alice.recipient, bob.recipient] }] });
    expect(await readBoth(text, [bob.identity])).toEqual({ flat: VALUES, document: VALUES });
  });

  it("a changed share ends as MAC_MISMATCH, not a crash and not a value", async () => {
    const { text, secrets } = keyGroupsFile({
      groups: [{ age: [alice.recipient] }, { age: [bob.recipient] }],
      threshold: 2,
      mutateShares: (s) => {
        s[1]![5] ^= 0x40;
        return s;
      },
    });
    const { flat, document } = await readBoth(text, [alice.identity, bob.identity]);
    for (const err of [flat, document] as SopsError[]) {
      expect(err.code).toBe("MAC_MISMATCH");
      assertNoLeak(err, secrets);
    }
  });

  it("refuses malformed key groups with MALFORMED_FILE at the right line, in both readers", async () => {
    const groups3 = { groups: [{ age: [alice.recipient] }, { age: [bob.recipient] }, { age: [carol.recipient] }] };
    const ids = [alice.identity, bob.identity, carol.identity];
    const cases: { what: string; text: string; at: string }[] = [];
    const wrongLength = keyGroupsFile({ ...groups3, threshold: 2, mutateShares: (s) => [s[0]!, s[1]!.subarray(1), s[2]!] }).text;
    cases.push({ what: "a 32-byte share", text: wrongLength, at: "    key_groups:" });
    const duplicateX = keyGroupsFile({ ...groups3, threshold: 2, mutateShares: (s) => [s[0]!, Buffer.concat([s[1]!.subarray(0, 32), s[0]!.subarray(32)]), s[2]!] }).text;
    cases.push({ what: "duplicate x", text: duplicateX, at: "    key_groups:" });
    const zeroX = keyGroupsFile({ ...groups3, threshold: 3, mutateShares: (s) => [s[0]!, Buffer.concat([s[1]!.subarray(0, 32), Buffer.from([0])]), s[2]!] }).text;
    cases.push({ what: "x = 0", text: zeroX, at: "    key_groups:" });
    const base = keyGroupsFile({ ...groups3, threshold: 2 }).text;
    cases.push({ what: "threshold 4 of 3", text: base.replace("shamir_threshold: 2", "shamir_threshold: 4"), at: "    shamir_threshold:" });
    cases.push({ what: "threshold 1 of 3", text: base.replace("shamir_threshold: 2", "shamir_threshold: 1"), at: "    shamir_threshold:" });
    cases.push({ what: "threshold not a number", text: base.replace("shamir_threshold: 2", "shamir_threshold: two"), at: "    shamir_threshold:" });
    cases.push({ what: "threshold negative", text: base.replace("shamir_threshold: 2", "shamir_threshold: -1"), at: "    shamir_threshold:" });
    const sopsAt = base.indexOf("sops:\n");
    const lastmod = base.indexOf("    lastmodified:");
    cases.push({ what: "key_groups a string", text: `${base.slice(0, sopsAt)}sops:\n    key_groups: everyone\n${base.slice(lastmod)}`, at: "    key_groups:" });
    cases.push({ what: "a group that is a string", text: base.replace("    key_groups:\n", "    key_groups:\n        - just-a-string\n"), at: "    key_groups:" });
    cases.push({ what: "a group's age not a list", text: base.replace("    key_groups:\n", "    key_groups:\n        - age: age1xyz\n"), at: "    key_groups:" });
    const topLevel = keyGroupsFile({ ...groups3, threshold: 2, extraTopLevel: `    age:\n        - recipient: ${alice.recipient}\n          enc: |\n            x\n` }).text;
    cases.push({ what: "top-level age and key_groups", text: topLevel, at: "    key_groups:" });
    for (const c of cases) {
      const { flat, document } = await readBoth(c.text, ids);
      for (const err of [flat, document] as SopsError[]) {
        expect(err, c.what).toBeInstanceOf(SopsError);
        expect(err.code, c.what).toBe("MALFORMED_FILE");
        expect(err.line, c.what).toBe(lineOf(c.text, c.at));
      }
    }
  });
});

describe("writes of a key-groups file", () => {
  const sopsBlock = (text: string) => text.slice(text.indexOf("\nsops:\n") + 1);
  const withoutLmMac = (block: string) => block.replace(/^ {4}(lastmodified|mac): .*$/gm, "    $1: X");

  it("set/rm/rename (reencryptSecrets, no recipients) keep key_groups and shamir_threshold byte for byte; values, lastmodified and MAC are new and verify with the oracle", async () => {
    const { text, dataKey } = keyGroupsFile({ groups: [{ age: [alice.recipient] }, { age: [bob.recipient] }, { age: [carol.recipient] }], threshold: 2, x: "random" });
    const before = await decryptSecrets(text, [alice.identity, carol.identity]);
    const values = new Map(before.values);
    values.delete("DB_PASSWORD");
    values.set("NEW_TOKEN", "tok-123");
    const now = new Date("2026-12-04T10:00:00Z");
    const written = await reencryptSecrets(before, values, { now });
    // the sops block: the same bytes but for lastmodified and mac
    expect(withoutLmMac(sopsBlock(written))).toBe(withoutLmMac(sopsBlock(text)));
    expect(sopsBlock(written)).toContain('    lastmodified: "2026-12-04T10:00:00Z"\n');
    expect(sopsBlock(written)).not.toBe(sopsBlock(text));
    // an unchanged value keeps its ENC string
    const apiKey = /^API_KEY: (.*)$/m.exec(text)![1]!;
    expect(written).toContain(`API_KEY: ${apiKey}\n`);
    // the oracle: every value and the MAC open with the data key the python split was made from
    const mac = /^ {4}mac: (.*)$/m.exec(written)![1]!;
    expect(oracleDecrypt(dataKey, mac, "2026-12-04T10:00:00Z").plaintext).toBe(oracleMac(["sk-live-4f9a2c", "tok-123"]));
    expect(oracleDecrypt(dataKey, /^NEW_TOKEN: (.*)$/m.exec(written)![1]!, "NEW_TOKEN:").plaintext).toBe("tok-123");
    // and both readers open it with two groups' keys (any two)
    expect(await readBoth(written, [bob.identity, carol.identity])).toEqual({ flat: { API_KEY: "sk-live-4f9a2c", NEW_TOKEN: "tok-123" }, document: { API_KEY: "sk-live-4f9a2c", NEW_TOKEN: "tok-123" } });
  });

  it("refuses writes that need a new data key or other recipients (rotate, updatekeys, recipients) with UNSUPPORTED naming key groups", async () => {
    const { text } = keyGroupsFile({ groups: [{ age: [alice.recipient] }, { age: [bob.recipient] }], threshold: 2 });
    const before = await decryptSecrets(text, [alice.identity, bob.identity]);
    for (const write of [() => rotateDataKey(before), () => updateKeys(before, [alice.recipient, carol.recipient]), () => reencryptSecrets(before, before.values, { recipients: [alice.recipient] })]) {
      const err = (await catchError(write)) as SopsError;
      expect(err.code).toBe("UNSUPPORTED");
      expect(err.message).toContain("sops key groups");
    }
  });

  it("refuses to keep a sops block that is not last or has no single mac line (UNSUPPORTED), never re-lays it out", async () => {
    const { text } = keyGroupsFile({ groups: [{ age: [alice.recipient] }, { age: [bob.recipient] }], threshold: 2 });
    const block = sopsBlock(text);
    const moved = `${block}${text.slice(0, text.length - block.length)}`; // the sops block first
    const before = await decryptSecrets(moved, [alice.identity, bob.identity]);
    expect(before.file.keptMetadata).toBeUndefined();
    expect(((await catchError(() => reencryptSecrets(before, new Map([["X", "y"]])))) as SopsError).code).toBe("UNSUPPORTED");
  });

  it("a merge keeps ours' key_groups when every side has the same groups and data key; groups that differ are refused (UNSUPPORTED: a whole-file conflict)", async () => {
    const { text } = keyGroupsFile({ groups: [{ age: [alice.recipient] }, { age: [bob.recipient] }], threshold: 2 });
    const ids = [alice.identity, bob.identity];
    const base = await decryptSecrets(text, ids);
    const oursText = await reencryptSecrets(base, new Map([...base.values, ["OURS", "o"]]));
    const theirsText = await reencryptSecrets(base, new Map([...base.values, ["THEIRS", "t"]]));
    const side = async (t: string) => ({ text: t, secrets: await decryptSecrets(t, ids) });
    const merged = mergeSecrets({ base: await side(text), ours: await side(oursText), theirs: await side(theirsText) });
    expect(merged.conflicts).toEqual([]);
    expect(withoutLmMac(sopsBlock(merged.text))).toBe(withoutLmMac(sopsBlock(text)));
    expect(Object.fromEntries((await decryptSecrets(merged.text, ids)).values)).toEqual({ ...VALUES, OURS: "o", THEIRS: "t" });
    // their side's groups differ (a hand edit of shamir_threshold: same key, other metadata): not merged
    const otherGroups = theirsText.replace("    shamir_threshold: 2\n", "");
    const err = (await catchError(async () => mergeSecrets({ base: await side(text), ours: await side(oursText), theirs: await side(otherGroups) }))) as SopsError;
    expect(err.code).toBe("UNSUPPORTED");
  });

  it("refuses to keep a mac written over several lines (a folded scalar): replacing its first line would leave the old one as a continuation", async () => {
    const { text } = keyGroupsFile({ groups: [{ age: [alice.recipient] }, { age: [bob.recipient] }], threshold: 2 });
    const folded = text.replace(/^ {4}mac: (.*)$/m, "    mac: >-\n        $1");
    const before = await decryptSecrets(folded, [alice.identity, bob.identity]);
    expect(Object.fromEntries(before.values)).toEqual(VALUES);
    expect(((await catchError(() => reencryptSecrets(before, new Map([["X", "y"]])))) as SopsError).code).toBe("UNSUPPORTED");
  });
});

describe("error hygiene of key groups", () => {
  it("never shows a label that is no public key (a private key pasted as a label) in the too-few-groups error", async () => {
    const { text, secrets } = keyGroupsFile({ groups: [{ age: [alice.recipient] }, { age: [bob.recipient] }, { age: [carol.recipient] }], threshold: 2 });
    const pasted = text.replace(`recipient: ${carol.recipient}`, `recipient: ${carol.identity}`).replace(`recipient: ${bob.recipient}`, 'recipient: "age1x\\u001b[2J"');
    const err = (await catchError(() => decryptSecrets(pasted, [alice.identity]))) as SopsError;
    expect(err.code).toBe("NO_MATCHING_IDENTITY");
    expect(err.message).toContain("group 2 ((a label not shown)); group 3 ((a label not shown))");
    assertNoLeak(err, [...secrets, carol.identity.slice(16, 40)]);
    expect(err.message).not.toContain("\u001b");
  });
});

describe("many key groups", () => {
  /** `base` with `n` groups of one unopenable age entry each (a fake public-key label) put before its own groups. */
  const padded = (base: string, n: number) =>
    base.replace("    key_groups:\n", `    key_groups:\n${Array.from({ length: n }, (_, i) => `        - age:\n            - recipient: age1${"q".repeat(54)}${String(i).padStart(4, "0").replace(/\d/g, (d) => "acdefghjkl"[Number(d)]!)}\n              enc: x\n`).join("")}`);

  it("refuses more than 255 groups (a share's x is one byte: no split has more) with MALFORMED_FILE at key_groups, in both readers, before opening any", async () => {
    const { text } = keyGroupsFile({ groups: [{ age: [alice.recipient] }, { age: [bob.recipient] }], threshold: 2 });
    const tooMany = padded(text, 254);
    const { flat, document } = await readBoth(tooMany, [alice.identity, bob.identity]);
    for (const err of [flat, document] as SopsError[]) {
      expect(err).toBeInstanceOf(SopsError);
      expect(err.code).toBe("MALFORMED_FILE");
      expect(err.message).toContain("`key_groups` has 256 groups");
      expect(err.line).toBe(lineOf(tooMany, "    key_groups:"));
    }
  });

  it("the too-few-groups error of 255 groups describes 10 groups not opened and counts the rest", async () => {
    const { text, secrets } = keyGroupsFile({ groups: [{ age: [alice.recipient] }, { age: [bob.recipient] }], threshold: 2 });
    const many = padded(text, 253);
    const err = (await catchError(() => decryptSecrets(many, [alice.identity]))) as SopsError;
    expect(err.code).toBe("NO_MATCHING_IDENTITY");
    expect(err.message).toContain("opens 1 of the file's 255 key groups (254)");
    expect(err.message).toContain("group 10 (age1");
    expect(err.message).not.toContain("group 11 (");
    expect(err.message).toContain("; and 244 more groups (looked in:");
    expect(err.message.length).toBeLessThan(2000);
    assertNoLeak(err, secrets);
  });
});

describe("key groups in the JSON and dotenv stores", () => {
  it("reads the same key-groups metadata as JSON (both readers) and as dotenv (sops_key_groups__list_0__map_age__… and a weakly typed sops_shamir_threshold)", async () => {
    const { text } = keyGroupsFile({ groups: [{ age: [alice.recipient] }, { age: [bob.recipient] }, { age: [carol.recipient] }], threshold: 2, x: "random" });
    const doc = parseYaml(text) as Record<string, unknown> & { sops: Record<string, unknown> & { key_groups: { age: { recipient: string; enc: string }[] }[] } };
    const json = `${JSON.stringify(doc, null, "\t")}\n`;
    const ids = [alice.identity, carol.identity];
    expect(Object.fromEntries((await decryptSecrets(json, ids, { format: "json" })).values)).toEqual(VALUES);
    expect((await decryptDocument(json, ids, { format: "json" })).tree).toEqual(VALUES);
    const lines = [`API_KEY=${doc.API_KEY as string}`, `DB_PASSWORD=${doc.DB_PASSWORD as string}`];
    doc.sops.key_groups.forEach((g, i) =>
      g.age.forEach((a, j) => {
        lines.push(`sops_key_groups__list_${i}__map_age__list_${j}__map_recipient=${a.recipient}`);
        lines.push(`sops_key_groups__list_${i}__map_age__list_${j}__map_enc=${a.enc.replace(/\n/g, "\\n")}`);
      }),
    );
    lines.push(`sops_lastmodified=${doc.sops.lastmodified as string}`, `sops_mac=${doc.sops.mac as string}`, "sops_shamir_threshold=2", "sops_unencrypted_suffix=_unencrypted", "sops_version=3.10.2");
    const dotenv = `${lines.join("\n")}\n`;
    expect((await decryptDocument(dotenv, ids, { format: "dotenv" })).tree).toEqual(VALUES);
    expect(((await catchError(() => decryptDocument(dotenv, [bob.identity], { format: "dotenv" }))) as SopsError).code).toBe("NO_MATCHING_IDENTITY");
  });
});
