/**
 * Every writer keeps the line breaks of the file it rewrites (a Windows checkout with
 * `core.autocrlf=false` keeps CRLF files as committed): set and rm (reencryptSecrets), members add
 * and rm (updateKeys, reencryptSecrets with recipients), rotate (rotateDataKey), and the merge
 * driver's results (mergeSecrets, mergeSecretsGuarded: kept key, new key, recipients merged as a
 * set), which take ours' line breaks. One kind per file, the first line break's; the MAC verifies
 * (our reader, and the independent oracle).
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  decryptDocument,
  decryptSecrets,
  encryptSecrets,
  lineBreakOf,
  mergeSecrets,
  mergeSecretsGuarded,
  parseSecretsFile,
  reencryptSecrets,
  rotateDataKey,
  updateKeys,
  withLineBreak,
  type LineBreak,
  type MergeSide,
} from "./index.js";
import { oracleDecrypt, oracleMac, testKey } from "../test-fixtures/support.js";

const alice = testKey("alice");
const bob = testKey("bob");
const carol = testKey("carol");
const all = [alice.identity, bob.identity, carol.identity];

/** The kinds of line break in `text`. */
function breaksIn(text: string): string[] {
  return [...new Set(text.match(/\r\n|\r|\n/g) ?? [])].sort();
}

async function side(text: string): Promise<MergeSide> {
  return { text, secrets: await decryptSecrets(text, all) };
}

/** The file's MAC, opened with the independent oracle, against the oracle's MAC of `values`. */
async function oracleMacHolds(text: string, values: readonly string[]): Promise<boolean> {
  const { dataKey } = await decryptSecrets(text, all);
  const meta = parseSecretsFile(text).metadata;
  return oracleDecrypt(dataKey, meta.mac, meta.lastmodified).plaintext === oracleMac(values);
}

let lf = "";
beforeAll(async () => {
  const written = await encryptSecrets(
    new Map([
      ["db_url", "postgres://base"],
      ["api_key", "k-base"],
    ]),
    { recipients: [alice.recipient, bob.recipient] },
  );
  // with comments (header, above an entry, inline, footer), as sops keeps them
  lf = `# production: ask #payments first\n${written.replace(/^api_key: (.*)$/m, "# the live key\napi_key: $1 # rotated monthly").replace(/^sops:$/m, "# end\nsops:")}`;
});

describe("lineBreakOf", () => {
  it("is the first line break's kind, or LF for a text without one", () => {
    expect(lineBreakOf("a: 1\nb: 2\r\n")).toBe("\n");
    expect(lineBreakOf("a: 1\r\nb: 2\n")).toBe("\r\n");
    expect(lineBreakOf("a: 1\rb: 2\r\n")).toBe("\r");
    expect(lineBreakOf("a: 1")).toBe("\n");
    expect(lineBreakOf("")).toBe("\n");
    expect(lineBreakOf("\r")).toBe("\r");
    expect(withLineBreak("a\nb\n", "\r\n")).toBe("a\r\nb\r\n");
  });
  it("is what parseSecretsFile records for a CRLF file (absent for LF and lone CR, written with LF)", () => {
    expect(parseSecretsFile(lf).lineBreak).toBeUndefined();
    expect(parseSecretsFile(lf.replace(/\n/g, "\r\n")).lineBreak).toBe("\r\n");
    expect(parseSecretsFile(lf.replace(/\n/g, "\r")).lineBreak).toBeUndefined();
  });
});

describe.each([
  ["a CRLF file's", "\r\n", "\r\n"],
  ["an LF file's", "\n", "\n"],
  // git reads a lone-CR file as one line whatever it holds, and sops-age reads no lone CR
  ["a lone-CR file as LF, not", "\r", "\n"],
] as const)("writers keep %s line breaks", (_, read: LineBreak, brk: LineBreak) => {
  const as = (t: string) => withLineBreak(t, read);

  it("set, rm, members add and rm, rotate: every line ends with the file's break; the values, comments and MAC are those of an LF write", async () => {
    const previous = await decryptSecrets(as(lf), all);
    const changed = new Map(previous.values);
    changed.set("new_token", "tok-1");
    changed.delete("db_url");
    const written = {
      set: await reencryptSecrets(previous, changed),
      recipients: await reencryptSecrets(previous, changed, { recipients: [alice.recipient, carol.recipient] }),
      updateKeys: await updateKeys(previous, [alice.recipient, bob.recipient, carol.recipient]),
      rotate: await rotateDataKey(previous, { recipients: [alice.recipient] }),
    };
    for (const [what, text] of Object.entries(written)) {
      expect(breaksIn(text), what).toEqual([brk]);
      const expected = what === "set" || what === "recipients" ? changed : previous.values;
      const read = await decryptSecrets(text, [alice.identity]);
      expect([...read.values], what).toEqual([...expected]);
      expect((await decryptDocument(text, [alice.identity])).tree, what).toEqual(Object.fromEntries(expected));
      expect(await oracleMacHolds(text, [...expected.values()]), what).toBe(true);
      expect(text.startsWith(`# production: ask #payments first${brk}`), what).toBe(true);
      expect(text, what).toContain(`# end${brk}sops:${brk}`);
    }
    expect(written.set).toContain(`# the live key${brk}api_key: `);
    expect(written.set).toContain(` # rotated monthly${brk}`);
    // stable ciphertext: the kept value's ENC string is the file's
    expect(written.set).toContain(/^api_key: (ENC\[[^\]]*\])/m.exec(lf)![1]);
  });

  it("the merge driver's results take ours' line breaks: kept key, new key (their side rotated), recipients merged as a set", async () => {
    const base = await side(as(lf));
    const edit = async (from: MergeSide, change: (m: Map<string, string>) => void, recipients?: string[]) => {
      const values = new Map(from.secrets.values);
      change(values);
      return side(await reencryptSecrets(from.secrets, values, recipients ? { recipients } : {}));
    };
    const ours = await edit(base, (m) => m.set("a", "1"));
    const theirs = await edit(base, (m) => m.set("b", "2"));
    // their side as git hands it with LF: ours decides
    const theirsLf = await side(theirs.text.replace(/\r\n?/g, "\n"));
    const kept = mergeSecrets({ base, ours, theirs: theirsLf });
    expect(kept.conflicts).toEqual([]);
    expect(kept.text).not.toBe(ours.text);
    expect(breaksIn(kept.text)).toEqual([brk]);
    const merged = (await decryptSecrets(kept.text, all)).values;
    expect(Object.fromEntries(merged)).toEqual({ ...Object.fromEntries(base.secrets.values), a: "1", b: "2" });
    expect(await oracleMacHolds(kept.text, [...merged.values()])).toBe(true);

    const rotated = await side(await rotateDataKey(theirs.secrets));
    const fresh = await mergeSecretsGuarded({ base, ours, theirs: rotated });
    expect(fresh.freshKey).toBe(true);
    expect(breaksIn(fresh.text)).toEqual([brk]);
    expect(Object.fromEntries((await decryptSecrets(fresh.text, all)).values)).toEqual({ ...Object.fromEntries(base.secrets.values), a: "1", b: "2" });

    const withCarol = await edit(base, () => {}, [alice.recipient, bob.recipient, carol.recipient]);
    const withoutBob = await edit(base, (m) => m.set("b", "2"), [alice.recipient]);
    const union = await mergeSecretsGuarded({ base, ours: withCarol, theirs: withoutBob, isMember: () => true });
    expect(union.recipientsConflict).toBe(false);
    expect(breaksIn(union.text)).toEqual([brk]);
    expect((await decryptSecrets(union.text, all)).values.get("b")).toBe("2");
  });
});

describe("a file mixing line breaks", () => {
  it("is written with its first line break throughout", async () => {
    let i = 0;
    const mixed = lf.replace(/\n/g, () => (i++ % 2 === 0 ? "\r\n" : "\n"));
    const previous = await decryptSecrets(mixed, all);
    const values = new Map(previous.values);
    values.set("c", "3");
    expect(breaksIn(await reencryptSecrets(previous, values))).toEqual(["\r\n"]);
    i = 1;
    const lfFirst = lf.replace(/\n/g, () => (i++ % 2 === 0 ? "\r\n" : "\n"));
    expect(breaksIn(await reencryptSecrets(await decryptSecrets(lfFirst, all), values))).toEqual(["\n"]);
  });
});
