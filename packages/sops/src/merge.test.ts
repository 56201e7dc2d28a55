import { createHash, generateKeyPairSync } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import {
  decryptSecrets,
  encryptSecrets,
  generateIdentity,
  unwrapDataKey,
  wrapDataKey,
  decryptSecretsWithKey,
  mergeSecrets,
  mergeSecretsGuarded,
  parseSecretsFile,
  reencryptSecrets,
  rotateDataKey,
  updateKeys,
  type DecryptedSecrets,
  type MergeSide,
} from "./index.js";
import { encryptWithNewKey } from "./secrets-file.js";
import { bech32Decode, bech32Encode } from "./age-native.js";
import { edwardsToMontgomery } from "./ssh.js";
import { oracleEncrypt, oracleSealYaml, testKey } from "../test-fixtures/support.js";

const alice = testKey("alice");
const bob = testKey("bob");
const carol = testKey("carol");
const all = [alice.identity, bob.identity, carol.identity];

async function side(text: string, ids: string[] = all): Promise<MergeSide> {
  return { text, secrets: await decryptSecrets(text, ids) };
}

/** A new version of `from` with `change` applied (stable ciphertext, same key). */
async function edit(from: MergeSide, change: (m: Map<string, string>) => void): Promise<MergeSide> {
  const values = new Map(from.secrets.values);
  change(values);
  return side(await reencryptSecrets(from.secrets, values));
}

/** The armored stanza labelled `recipient` in `text`. */
function stanzaOf(text: string, recipient: string): string {
  return (parseSecretsFile(text).metadata.age.find((a) => a.recipient.trim() === recipient)?.enc ?? "").trim().split("\n")[1] ?? "";
}

function raws(text: string): Map<string, string> {
  return new Map(parseSecretsFile(text).entries.map((e) => [e.name, e.raw]));
}

let base: MergeSide;
beforeAll(async () => {
  base = await side(
    await encryptSecrets(
      new Map([
        ["db_url", "postgres://base"],
        ["api_key", "k-base"],
        ["empty_one", ""],
      ]),
      { recipients: [alice.recipient, bob.recipient] },
    ),
  );
});

describe("mergeSecrets per name", () => {
  it("takes disjoint additions from both sides, keeps every untouched ENC string, and verifies", async () => {
    const ours = await edit(base, (m) => m.set("ours_new", "o-1"));
    const theirs = await edit(base, (m) => m.set("theirs_new", "t-1"));
    const r = mergeSecrets({ base, ours, theirs });
    expect(r.conflicts).toEqual([]);
    expect(r.recipientsConflict).toBe(false);
    expect(r.keyFrom).toBe("ours");
    expect(r.reencrypted).toEqual([]);
    const merged = await decryptSecrets(r.text, [bob.identity]);
    expect([...merged.values]).toEqual([
      ["db_url", "postgres://base"],
      ["api_key", "k-base"],
      ["empty_one", ""],
      ["ours_new", "o-1"],
      ["theirs_new", "t-1"],
    ]);
    const out = raws(r.text);
    const o = raws(ours.text);
    const t = raws(theirs.text);
    expect(out.get("db_url")).toBe(o.get("db_url"));
    expect(out.get("ours_new")).toBe(o.get("ours_new"));
    expect(out.get("theirs_new")).toBe(t.get("theirs_new"));
    const meta = parseSecretsFile(r.text).metadata;
    expect(meta.mac).not.toBe(parseSecretsFile(ours.text).metadata.mac);
    expect(meta.age).toEqual(parseSecretsFile(ours.text).metadata.age);
  });

  it("takes a change or a removal made on one side only, and the same change on both sides once", async () => {
    const ours = await edit(base, (m) => {
      m.set("api_key", "k-new");
      m.delete("empty_one");
    });
    const theirs = await edit(base, (m) => {
      m.delete("db_url");
      m.set("api_key", "k-new");
    });
    const r = mergeSecrets({ base, ours, theirs });
    expect(r.conflicts).toEqual([]);
    expect([...(await decryptSecrets(r.text, [alice.identity])).values]).toEqual([["api_key", "k-new"]]);
    expect(raws(r.text).get("api_key")).toBe(raws(ours.text).get("api_key"));
  });

  it("returns ours' text byte for byte when theirs changed nothing new", async () => {
    const ours = await edit(base, (m) => m.set("x", "1"));
    const r = mergeSecrets({ base, ours, theirs: base });
    expect(r.text).toBe(ours.text);
    const same = mergeSecrets({ base, ours: base, theirs: ours });
    expect(same.text).toBe(ours.text);
  });

  it("names the rename on the side that removed a name the other side changed (planted-history: a rotation lost in a rename)", async () => {
    // ours: db_url renamed to database_url (same value); theirs: db_url rotated
    const ours = await edit(base, (m) => {
      m.set("database_url", "postgres://base");
      m.delete("db_url");
    });
    const theirs = await edit(base, (m) => m.set("db_url", "postgres://rotated"));
    expect(mergeSecrets({ base, ours, theirs }).conflicts).toEqual([{ name: "db_url", ours: "removed", theirs: "changed", renamedTo: ["database_url"] }]);
    // the sides swapped: theirs renamed
    expect(mergeSecrets({ base, ours: theirs, theirs: ours }).conflicts).toEqual([{ name: "db_url", ours: "changed", theirs: "removed", renamedTo: ["database_url"] }]);
    // a new name holding another value is no rename
    const other = await edit(base, (m) => {
      m.set("database_url", "postgres://elsewhere");
      m.delete("db_url");
    });
    expect(mergeSecrets({ base, ours: other, theirs }).conflicts).toEqual([{ name: "db_url", ours: "removed", theirs: "changed" }]);
  });

  it("reports different changes to one name as conflicts and keeps ours' state for them", async () => {
    const ours = await edit(base, (m) => {
      m.set("api_key", "k-ours");
      m.delete("db_url");
      m.set("both_added", "o");
      m.set("fine", "o-fine");
    });
    const theirs = await edit(base, (m) => {
      m.set("api_key", "k-theirs");
      m.set("db_url", "postgres://theirs");
      m.set("both_added", "t");
    });
    const r = mergeSecrets({ base, ours, theirs });
    expect(r.conflicts).toEqual([
      { name: "api_key", ours: "changed", theirs: "changed" },
      { name: "both_added", ours: "added", theirs: "added" },
      { name: "db_url", ours: "removed", theirs: "changed" },
    ]);
    const merged = await decryptSecrets(r.text, [alice.identity]);
    expect(merged.values.get("api_key")).toBe("k-ours");
    expect(merged.values.has("db_url")).toBe(false);
    expect(merged.values.get("both_added")).toBe("o");
    expect(r.text).not.toMatch(/<<<<<<<|=======|>>>>>>>/);
  });

  it("for git's virtual merge base (criss-cross): gives each conflicting name conflictValue, so the outer merge reports it instead of taking one side silently", async () => {
    // two merge bases: each changed api_key; the criss-cross merges each kept their own value
    const base1 = await edit(base, (m) => m.set("api_key", "k-1"));
    const base2 = await edit(base, (m) => {
      m.set("api_key", "k-2");
      m.delete("db_url");
      m.set("other", "x");
    });
    const sentinel = "virtual-base-conflict-7f3a";
    const virtual = mergeSecrets({ base, ours: base1, theirs: base2, conflictValue: sentinel });
    expect(virtual.conflicts).toEqual([{ name: "api_key", ours: "changed", theirs: "changed" }]);
    const v = await decryptSecrets(virtual.text, [alice.identity]);
    expect(Object.fromEntries(v.values)).toEqual({ api_key: sentinel, empty_one: "", other: "x" });
    // the outer merge: ours kept k-1, theirs kept k-2; both took base2's other changes
    const ours = await edit(base1, (m) => {
      m.delete("db_url");
      m.set("other", "x");
    });
    const theirs = await edit(base2, (m) => m.set("theirs_later", "t"));
    const outer = mergeSecrets({ base: await side(virtual.text), ours, theirs });
    expect(outer.conflicts).toEqual([{ name: "api_key", ours: "changed", theirs: "changed" }]);
    const o = await decryptSecrets(outer.text, [alice.identity]);
    expect(o.values.get("api_key")).toBe("k-1");
    expect(o.values.get("theirs_later")).toBe("t");
    expect(o.values.has("db_url")).toBe(false);
    // without conflictValue the virtual base holds ours' k-1, and the outer merge takes k-2 silently
    const plain = mergeSecrets({ base: await side(mergeSecrets({ base, ours: base1, theirs: base2 }).text), ours, theirs });
    expect(plain.conflicts).toEqual([]);
  });

  it("with baseUnknown (a virtual merge base that could not be made): a name only one side holds is a conflict, not taken silently", async () => {
    // both lineages hold the same values; ours removed db_url (a leaked token), theirs added new_one
    const ours = await edit(base, (m) => m.delete("db_url"));
    const theirs = await edit(base, (m) => m.set("new_one", "n"));
    // as an added-on-both-sides file (no base): ours' removal is undone without a word
    expect(mergeSecrets({ base: undefined, ours, theirs }).conflicts).toEqual([]);
    const r = mergeSecrets({ base: undefined, baseUnknown: true, ours, theirs });
    expect(r.conflicts).toEqual([
      { name: "db_url", ours: "removed", theirs: "added" },
      { name: "new_one", ours: "removed", theirs: "added" },
    ]);
    // ours' state is kept for each: db_url stays removed until resolve says otherwise
    const merged = await decryptSecrets(r.text, [alice.identity]);
    expect(merged.values.has("db_url")).toBe(false);
    expect(merged.values.has("new_one")).toBe(false);
    // names both sides hold alike are merged as before; different values are a conflict as before
    expect(merged.values.get("api_key")).toBe((await decryptSecrets(base.text, [alice.identity])).values.get("api_key"));
    const both = mergeSecrets({ base: undefined, baseUnknown: true, ours: await edit(base, (m) => m.set("api_key", "o")), theirs: await edit(base, (m) => m.set("api_key", "t")) });
    expect(both.conflicts).toEqual([{ name: "api_key", ours: "added", theirs: "added" }]);
  });

  it("keeps the plain comment lines at the top of ours", async () => {
    const ours = await edit(base, (m) => m.set("a", "1"));
    const theirs = await edit(base, (m) => m.set("b", "2"));
    const header = "# production secrets: ask #payments before changing\n";
    const r = mergeSecrets({ base, ours: { ...ours, text: header + ours.text }, theirs });
    expect(r.text.startsWith(header)).toBe(true);
    expect([...(await decryptSecrets(r.text, [alice.identity])).values.keys()]).toEqual(["db_url", "api_key", "empty_one", "a", "b"]);
  });

  it("merges CRLF versions into a CRLF file and lone-CR ones into an LF file, their comment header too", async () => {
    const ours = await edit(base, (m) => m.set("a", "1"));
    const theirs = await edit(base, (m) => m.set("b", "2"));
    const header = "# production secrets\n# ask #payments before changing\n";
    for (const brk of ["\r", "\r\n"]) {
      const asBrk = (t: string) => t.replace(/\n/g, brk);
      const r = mergeSecrets({
        base: await side(asBrk(base.text)),
        ours: await side(asBrk(header + ours.text)),
        theirs: await side(asBrk(theirs.text)),
      });
      expect(r.conflicts).toEqual([]);
      const written = brk === "\r\n" ? "\r\n" : "\n";
      expect(r.text.startsWith(header.replace(/\n/g, written))).toBe(true);
      expect(r.text.replace(new RegExp(written, "g"), "")).not.toMatch(/[\r\n]/);
      expect([...(await decryptSecrets(r.text, [alice.identity])).values.keys()]).toEqual(["db_url", "api_key", "empty_one", "a", "b"]);
    }
  });

  it("handles a file added on both sides (no base) with the same recipients", async () => {
    const ours = await side(await encryptSecrets(new Map([["a", "1"]]), { recipients: [alice.recipient] }));
    const theirs = await side(await encryptSecrets(new Map([["b", "2"]]), { recipients: [alice.recipient] }));
    const r = mergeSecrets({ base: undefined, ours, theirs });
    expect(r.conflicts).toEqual([]);
    expect(r.reencrypted).toEqual(["b"]);
    expect([...(await decryptSecrets(r.text, [alice.identity])).values]).toEqual([
      ["a", "1"],
      ["b", "2"],
    ]);
  });
});

describe("mergeSecrets across a rotation", () => {
  let rotatedWithoutBob: MergeSide;
  beforeAll(async () => {
    rotatedWithoutBob = await side(await rotateDataKey(base.secrets, { recipients: [alice.recipient] }));
  });

  it("uses the rotated side's key and stanzas and re-encrypts the other side's changes (a removed member cannot read the result)", async () => {
    const branch = await edit(base, (m) => {
      m.set("branch_secret", "b-1");
      m.set("api_key", "k-branch");
    });
    for (const [ours, theirs, keyFrom] of [
      [rotatedWithoutBob, branch, "ours"],
      [branch, rotatedWithoutBob, "theirs"],
    ] as const) {
      const r = mergeSecrets({ base, ours, theirs });
      expect(r.keyFrom).toBe(keyFrom);
      expect(r.conflicts).toEqual([]);
      expect(r.reencrypted.sort()).toEqual(["api_key", "branch_secret"]);
      expect(parseSecretsFile(r.text).metadata.age).toEqual(parseSecretsFile(rotatedWithoutBob.text).metadata.age);
      await expect(decryptSecrets(r.text, [bob.identity])).rejects.toMatchObject({ code: "NO_MATCHING_IDENTITY" });
      const merged = await decryptSecrets(r.text, [alice.identity]);
      expect(merged.values.get("branch_secret")).toBe("b-1");
      expect(merged.values.get("api_key")).toBe("k-branch");
      // unchanged values keep the rotated side's exact ENC string
      expect(raws(r.text).get("db_url")).toBe(raws(rotatedWithoutBob.text).get("db_url"));
    }
  });

  it("a value sops typed on the other side (sops set port 8080: type:int) keeps its type when re-encrypted under the rotated key, and the MAC holds", async () => {
    const KEY = Buffer.alloc(32, 0x31);
    const sopsBase = oracleSealYaml(`db_url: ${oracleEncrypt(KEY, "postgres://x", "db_url:")}\n`, { dataKey: KEY, recipients: [alice.recipient], macValues: ["postgres://x"] });
    const sopsSet = oracleSealYaml(`db_url: ${oracleEncrypt(KEY, "postgres://x", "db_url:")}\nport: ${oracleEncrypt(KEY, "8080", "port:", "int")}\nflag: ${oracleEncrypt(KEY, "True", "flag:", "bool")}\n`, {
      dataKey: KEY,
      recipients: [alice.recipient],
      macValues: ["postgres://x", "8080", "True"],
    });
    const b = await side(sopsBase);
    const rotated = await side(await rotateDataKey(b.secrets));
    const r = mergeSecrets({ base: b, ours: rotated, theirs: await side(sopsSet) });
    expect(r.keyFrom).toBe("ours");
    expect(r.reencrypted.sort()).toEqual(["flag", "port"]);
    expect(parseSecretsFile(r.text).entries.map((e) => `${e.name}:${e.type}`)).toEqual(["db_url:str", "port:int", "flag:bool"]);
    const merged = await decryptSecrets(r.text, [alice.identity]);
    expect([...merged.values]).toEqual([["db_url", "postgres://x"], ["port", "8080"], ["flag", "true"]]);
  });

  it("returns the rotated text byte for byte when the other side changed nothing", async () => {
    const r = mergeSecrets({ base, ours: base, theirs: rotatedWithoutBob });
    expect(r.text).toBe(rotatedWithoutBob.text);
  });

  it("takes a members-add (same key, new stanza) from the side that made it", async () => {
    const added = await side(await updateKeys(base.secrets, [alice.recipient, bob.recipient, carol.recipient]));
    const other = await edit(base, (m) => m.set("n", "v"));
    const r = mergeSecrets({ base, ours: other, theirs: added });
    expect(r.keyFrom).toBe("theirs");
    expect(r.reencrypted).toEqual([]);
    expect(raws(r.text).get("n")).toBe(raws(other.text).get("n"));
    expect((await decryptSecrets(r.text, [carol.identity])).values.get("n")).toBe("v");
  });

  it("is a recipients conflict, leaving ours untouched, when both sides changed the recipients differently", async () => {
    const addedCarol = await side(await updateKeys(base.secrets, [alice.recipient, bob.recipient, carol.recipient]));
    const branch = await edit(addedCarol, (m) => m.set("n", "v"));
    const r = mergeSecrets({ base, ours: rotatedWithoutBob, theirs: branch });
    expect(r.recipientsConflict).toBe(true);
    expect(r.text).toBe(rotatedWithoutBob.text);
  });

  it("merges two rotations to the same recipients under ours' key", async () => {
    const a = await edit(await side(await rotateDataKey(base.secrets)), (m) => m.set("a", "1"));
    const b = await edit(await side(await rotateDataKey(base.secrets)), (m) => m.set("b", "2"));
    const r = mergeSecrets({ base, ours: a, theirs: b });
    expect(r.keyFrom).toBe("ours");
    expect(r.reencrypted).toEqual(["b"]);
    expect((await decryptSecrets(r.text, [bob.identity])).values.get("b")).toBe("2");
  });
});

describe("mergeSecretsGuarded: a merge never puts our values under a key their side's writer chose", () => {
  it("keeps the sops type of a value our side holds (type:int, type:bool) under the new data key, and the MAC holds", async () => {
    const KEY = Buffer.alloc(32, 0x32);
    const sopsBase = oracleSealYaml(`db_url: ${oracleEncrypt(KEY, "postgres://x", "db_url:")}\n`, { dataKey: KEY, recipients: [alice.recipient, bob.recipient], macValues: ["postgres://x"] });
    const sopsOurs = oracleSealYaml(`db_url: ${oracleEncrypt(KEY, "postgres://x", "db_url:")}\nport: ${oracleEncrypt(KEY, "8080", "port:", "int")}\nflag: ${oracleEncrypt(KEY, "True", "flag:", "bool")}\n`, {
      dataKey: KEY,
      recipients: [alice.recipient, bob.recipient],
      macValues: ["postgres://x", "8080", "True"],
    });
    const b = await side(sopsBase);
    const theirs = await side(await rotateDataKey(b.secrets));
    const r = await mergeSecretsGuarded({ base: b, ours: await side(sopsOurs), theirs });
    expect(r.freshKey).toBe(true);
    expect(parseSecretsFile(r.text).entries.map((e) => `${e.name}:${e.type}`)).toEqual(["db_url:str", "port:int", "flag:bool"]);
    const merged = await decryptSecrets(r.text, [alice.identity]);
    expect([...merged.values]).toEqual([["db_url", "postgres://x"], ["port", "8080"], ["flag", "true"]]);
  });

  it("with isMember: a file written afresh by a keyless writer that adds their own key is a recipients conflict when our values would go under a new key wrapped for it (not our side's values for a non-member)", async () => {
    const outsider = await generateIdentity();
    const forged = await encryptWithNewKey(new Map([["db_url", "postgres://base"], ["api_key", "k-base"], ["empty_one", ""]]), { recipients: [alice.recipient, bob.recipient, outsider.recipient] });
    const theirs = await side(forged.text);
    const ours = await edit(base, (m) => m.set("ours_secret", "o-secret"));
    const members = new Set([alice.recipient, bob.recipient]);
    const r = await mergeSecretsGuarded({ base, ours, theirs, isMember: (x) => members.has(x) });
    expect(r).toMatchObject({ recipientsConflict: true, text: ours.text, freshKey: false });
    expect(r.recipientsConflictReason).toContain("(added by their side, which rotated the data key) is no member of the environment");
    await expect(decryptSecrets(r.text, [outsider.identity])).rejects.toMatchObject({ code: "NO_MATCHING_IDENTITY" });
    // a member their side added is wrapped for as before
    members.add(outsider.recipient);
    const ok = await mergeSecretsGuarded({ base, ours, theirs, isMember: (x) => members.has(x) });
    expect(ok.freshKey).toBe(true);
    expect((await decryptSecrets(ok.text, [outsider.identity])).values.get("ours_secret")).toBe("o-secret");
  });

  it("makes a new data key when both sides rotated apart (same recipients): neither side's key is kept, since either may be one the other retired", async () => {
    const a = await edit(await side(await rotateDataKey(base.secrets)), (m) => m.set("a", "1"));
    const b = await edit(await side(await rotateDataKey(base.secrets)), (m) => m.set("b", "2"));
    const r = await mergeSecretsGuarded({ base, ours: a, theirs: b });
    expect(r).toMatchObject({ freshKey: true, keyFrom: "ours", conflicts: [], recipientsConflict: false });
    for (const k of [a.secrets.dataKey, b.secrets.dataKey, base.secrets.dataKey]) expect(() => decryptSecretsWithKey(parseSecretsFile(r.text), k)).toThrow();
    for (const who of [alice, bob, carol]) {
      const merged = await decryptSecrets(r.text, [who.identity]).catch(() => undefined);
      if (merged === undefined) continue; // (not a recipient of the base)
      expect([merged.values.get("a"), merged.values.get("b")]).toEqual(["1", "2"]);
    }
    expect(new Set(parseSecretsFile(r.text).recipients)).toEqual(new Set(parseSecretsFile(a.text).recipients));
    // one side rotated, the other did not: that side's key, as before; both took the same rotation: kept
    expect((await mergeSecretsGuarded({ base, ours: a, theirs: await edit(base, (m) => m.set("c", "3")) })).freshKey).toBe(false);
    expect((await mergeSecretsGuarded({ base, ours: a, theirs: await edit(a, (m) => m.set("c", "3")) })).freshKey).toBe(false);
  });

  it("makes a new data key when a side took a recipient out without a rotation (sops updatekeys, a git revert of members add): the one taken out held the key the result would keep", async () => {
    const removed = await side(await updateKeys(base.secrets, [alice.recipient]), [alice.identity]);
    expect(Buffer.from(removed.secrets.dataKey).equals(Buffer.from(base.secrets.dataKey))).toBe(true);
    const changed = await edit(base, (m) => m.set("api_key", "k-ours"));
    for (const [ours, theirs] of [
      [changed, removed],
      [removed, changed],
    ] as const) {
      const r = await mergeSecretsGuarded({ base, ours, theirs });
      expect(r).toMatchObject({ freshKey: true, conflicts: [], recipientsConflict: false });
      expect(() => decryptSecretsWithKey(parseSecretsFile(r.text), base.secrets.dataKey)).toThrow();
      expect(parseSecretsFile(r.text).recipients).toEqual([alice.recipient]);
      await expect(decryptSecrets(r.text, [bob.identity])).rejects.toMatchObject({ code: "NO_MATCHING_IDENTITY" });
      expect((await decryptSecrets(r.text, [alice.identity])).values.get("api_key")).toBe("k-ours");
    }
    // a recipient added without a rotation takes nothing from anyone: the key is kept
    const added = await side(await updateKeys(base.secrets, [alice.recipient, bob.recipient, carol.recipient]));
    expect((await mergeSecretsGuarded({ base, ours: changed, theirs: added })).freshKey).toBe(false);
  });

  it("encrypts our side's changes under a new data key when their side holds a file written afresh (keyless, to the members' public keys) under a key its writer knows", async () => {
    // their side: every value replaced under a data key the writer made, wrapped to the real members only (valid MAC)
    const forged = await encryptWithNewKey(new Map([["db_url", "postgres://evil"], ["api_key", "k-base"], ["empty_one", ""]]), { recipients: [alice.recipient, bob.recipient] });
    const theirs = await side(forged.text);
    const ours = await edit(base, (m) => m.set("ours_secret", "o-secret"));
    const plain = mergeSecrets({ base, ours, theirs });
    // (what the plain merge does: our new value under the writer's key)
    expect(plain.keyFrom).toBe("theirs");
    expect(decryptSecretsWithKey(parseSecretsFile(plain.text), forged.dataKey).values.get("ours_secret")).toBe("o-secret");
    const r = await mergeSecretsGuarded({ base, ours, theirs });
    expect(r.freshKey).toBe(true);
    expect(r.keyFrom).toBe("theirs");
    expect(r.conflicts).toEqual([]);
    expect(() => decryptSecretsWithKey(parseSecretsFile(r.text), forged.dataKey)).toThrow();
    for (const who of [alice, bob]) {
      const merged = await decryptSecrets(r.text, [who.identity]);
      expect(merged.values.get("ours_secret")).toBe("o-secret");
      expect(merged.values.get("db_url")).toBe("postgres://evil");
      expect(Buffer.from(merged.dataKey).equals(Buffer.from(r.dataKey))).toBe(true);
    }
    expect(parseSecretsFile(r.text).recipients.sort()).toEqual([alice.recipient, bob.recipient].sort());
    expect(r.reencrypted.sort()).toEqual(["api_key", "db_url", "ours_secret"]);
  });

  it("wraps the new data key to the labelled members' keys, never their side's stanzas: a stanza labelled as a member but wrapped to an outsider gives nothing", async () => {
    const forged = await encryptWithNewKey(new Map([["db_url", "postgres://base"], ["api_key", "k-base"], ["empty_one", ""]]), { recipients: [alice.recipient, carol.recipient] });
    const text = forged.text.split(carol.recipient).join(bob.recipient); // carol's stanza, labelled bob
    const theirs = await side(text, [alice.identity]);
    const ours = await edit(base, (m) => m.set("ours_secret", "o-secret"));
    expect(mergeSecrets({ base, ours, theirs }).text).toContain(stanzaOf(text, bob.recipient));
    const r = await mergeSecretsGuarded({ base, ours, theirs });
    expect(r.freshKey).toBe(true);
    await expect(decryptSecrets(r.text, [carol.identity])).rejects.toMatchObject({ code: "NO_MATCHING_IDENTITY" });
    expect((await decryptSecrets(r.text, [bob.identity])).values.get("ours_secret")).toBe("o-secret");
    // a label that is no key cannot get the new data key: refused, nothing shown of it
    const junk = forged.text.split(carol.recipient).join("not-a-key \u001b[31m");
    await expect(mergeSecretsGuarded({ base, ours, theirs: await side(junk, [alice.identity]) })).rejects.toMatchObject({ code: "MALFORMED_FILE", message: expect.not.stringContaining("not-a-key") });
  });

  it("keeps the rotated side's recipients (a removed member stays out) and changes nothing when their key needs no value of ours", async () => {
    const rotatedWithoutBob = await side(await rotateDataKey(base.secrets, { recipients: [alice.recipient] }));
    const branch = await edit(base, (m) => m.set("branch_secret", "b-1"));
    const r = await mergeSecretsGuarded({ base, ours: branch, theirs: rotatedWithoutBob });
    expect(r.freshKey).toBe(true);
    await expect(decryptSecrets(r.text, [bob.identity])).rejects.toMatchObject({ code: "NO_MATCHING_IDENTITY" });
    expect((await decryptSecrets(r.text, [alice.identity])).values.get("branch_secret")).toBe("b-1");
    // ours rotated: theirs' changes go under ours' key, as before
    const mine = await mergeSecretsGuarded({ base, ours: rotatedWithoutBob, theirs: branch });
    expect(mine.freshKey).toBe(false);
    expect(parseSecretsFile(mine.text).metadata.age).toEqual(parseSecretsFile(rotatedWithoutBob.text).metadata.age);
    // nothing of ours to carry: their text as it is
    const same = await mergeSecretsGuarded({ base, ours: base, theirs: rotatedWithoutBob });
    expect(same.freshKey).toBe(false);
    expect(same.text).toBe(rotatedWithoutBob.text);
    // a members add on their side keeps the base's data key: no new key
    const added = await side(await updateKeys(base.secrets, [alice.recipient, bob.recipient, carol.recipient]));
    const kept = await mergeSecretsGuarded({ base, ours: branch, theirs: added });
    expect(kept.freshKey).toBe(false);
    expect(kept.keyFrom).toBe("theirs");
  });
});

describe("mergeSecretsGuarded: both sides changed the recipients differently, merged as a set", () => {
  /** A version of `from` for exactly `recipients` (same data key: `members add|rm` without rotate-key), with `change` applied. */
  async function rekeyed(from: MergeSide, recipients: string[], change: (m: Map<string, string>) => void = () => {}): Promise<MergeSide> {
    const keyed = await side(await updateKeys(from.secrets, recipients));
    return edit(keyed, change);
  }
  const stanzas = (text: string): Map<string, string> => new Map(parseSecretsFile(text).metadata.age.map((a) => [a.recipient.trim(), a.enc]));
  const key = (b: Uint8Array): string => Buffer.from(b).toString("hex");

  it("add/add: keeps the base's data key and its stanzas byte for byte, carries each added member's stanza from the side that added it (a keyless review sees no stanza wrapped anew), merges the names and keeps their ENC strings", async () => {
    const dave = await generateIdentity();
    const ours = await rekeyed(base, [alice.recipient, bob.recipient, carol.recipient], (m) => m.set("ours_new", "o-1"));
    const theirs = await rekeyed(base, [alice.recipient, bob.recipient, dave.recipient], (m) => m.set("theirs_new", "t-1"));
    expect(mergeSecrets({ base, ours, theirs }).recipientsConflict).toBe(true); // the sync merge cannot wrap: unchanged
    const r = await mergeSecretsGuarded({ base, ours, theirs });
    expect(r.recipientsConflict).toBe(false);
    expect(r.conflicts).toEqual([]);
    expect(r.freshKey).toBe(false);
    expect(r.recipientsMerged).toEqual({
      recipients: [alice.recipient, bob.recipient, carol.recipient, dave.recipient],
      added: [
        { recipient: carol.recipient, by: "ours" },
        { recipient: dave.recipient, by: "theirs" },
      ],
      removed: [],
      rotated: [],
      dataKey: "kept",
    });
    expect(key(r.dataKey)).toBe(key(base.secrets.dataKey));
    const got = stanzas(r.text);
    expect([...got.keys()]).toEqual([alice.recipient, bob.recipient, carol.recipient, dave.recipient]);
    for (const who of [alice, bob]) expect(got.get(who.recipient)).toBe(stanzas(base.text).get(who.recipient));
    expect(got.get(carol.recipient)).toBe(stanzas(ours.text).get(carol.recipient));
    expect(got.get(dave.recipient)).toBe(stanzas(theirs.text).get(dave.recipient));
    // each added stanza, alone, opens to the data key with the added identity
    expect(key((await unwrapDataKey([{ recipient: carol.recipient, enc: got.get(carol.recipient)! }], [carol.identity]))!)).toBe(key(base.secrets.dataKey));
    expect(key((await unwrapDataKey([{ recipient: dave.recipient, enc: got.get(dave.recipient)! }], [dave.identity]))!)).toBe(key(base.secrets.dataKey));
    for (const id of [alice.identity, bob.identity, carol.identity, dave.identity]) {
      expect([...(await decryptSecrets(r.text, [id])).values]).toEqual([
        ["db_url", "postgres://base"],
        ["api_key", "k-base"],
        ["empty_one", ""],
        ["ours_new", "o-1"],
        ["theirs_new", "t-1"],
      ]);
    }
    expect(raws(r.text).get("db_url")).toBe(raws(base.text).get("db_url"));
    expect(raws(r.text).get("ours_new")).toBe(raws(ours.text).get("ours_new"));
    expect(raws(r.text).get("theirs_new")).toBe(raws(theirs.text).get("theirs_new"));
    expect(r.reencrypted).toEqual([]);
  });

  it("a stanza a side labelled as its new member but wrapped for someone else: under the kept key that someone holds it already (the adding side's commit gave it); once anyone is removed or a side rotated, the new key gives them nothing", async () => {
    const dave = await generateIdentity();
    const mallory = await generateIdentity();
    const ours = await rekeyed(base, [alice.recipient, bob.recipient, carol.recipient]);
    // their side: the data key wrapped for mallory, labelled dave (labels prove nothing)
    const theirs = await side((await updateKeys(base.secrets, [alice.recipient, bob.recipient, mallory.recipient])).split(mallory.recipient).join(dave.recipient));
    const kept = await mergeSecretsGuarded({ base, ours, theirs });
    expect(kept.recipientsMerged?.dataKey).toBe("kept");
    // nothing new: the key mallory opens is the one their side's commit already wrapped for mallory
    expect(key((await decryptSecrets(theirs.text, [mallory.identity])).dataKey)).toBe(key(kept.dataKey));
    const withoutBob = await rekeyed(base, [alice.recipient, carol.recipient]);
    const r = await mergeSecretsGuarded({ base, ours: withoutBob, theirs });
    expect(r.recipientsMerged?.dataKey).toBe("new");
    await expect(decryptSecrets(r.text, [mallory.identity])).rejects.toMatchObject({ code: "NO_MATCHING_IDENTITY" });
    expect((await decryptSecrets(r.text, [dave.identity])).values.get("api_key")).toBe("k-base");
  });

  it("a member removed on one side and another added on the other: a new data key for every remaining and added member; the removed one opens no stanza", async () => {
    const dave = await generateIdentity();
    const withoutBob = await rekeyed(base, [alice.recipient], (m) => m.set("ours_new", "o-1")); // members rm, no rotate-key
    const withDave = await rekeyed(base, [alice.recipient, bob.recipient, dave.recipient], (m) => m.set("theirs_new", "t-1"));
    for (const [ours, theirs, removedBy, addedBy] of [
      [withoutBob, withDave, "ours", "theirs"],
      [withDave, withoutBob, "theirs", "ours"],
    ] as const) {
      const r = await mergeSecretsGuarded({ base, ours, theirs });
      expect(r.recipientsConflict).toBe(false);
      expect(r.freshKey).toBe(true);
      expect(r.recipientsMerged).toMatchObject({ removed: [{ recipient: bob.recipient, by: removedBy }], added: [{ recipient: dave.recipient, by: addedBy }], rotated: [], dataKey: "new" });
      expect(parseSecretsFile(r.text).recipients).toEqual([alice.recipient, dave.recipient]);
      for (const k of [base.secrets.dataKey, ours.secrets.dataKey, theirs.secrets.dataKey]) expect(key(r.dataKey)).not.toBe(key(k));
      await expect(decryptSecrets(r.text, [bob.identity])).rejects.toMatchObject({ code: "NO_MATCHING_IDENTITY" });
      for (const stanza of parseSecretsFile(r.text).metadata.age) expect(await unwrapDataKey([stanza], [bob.identity])).toBeUndefined();
      for (const id of [alice.identity, dave.identity]) {
        const v = await decryptSecrets(r.text, [id]);
        expect(key(v.dataKey)).toBe(key(r.dataKey));
        expect(v.values.get("ours_new")).toBe("o-1");
        expect(v.values.get("theirs_new")).toBe("t-1");
      }
      expect(r.reencrypted.sort()).toEqual(["api_key", "db_url", "ours_new", "theirs_new"]);
    }
  });

  it("a rotation on one side and a member added on the other: a new data key (neither the base's nor the rotated side's) for every member", async () => {
    const rotated = await edit(await side(await rotateDataKey(base.secrets)), (m) => m.set("ours_new", "o-1"));
    const withCarol = await rekeyed(base, [alice.recipient, bob.recipient, carol.recipient], (m) => m.set("theirs_new", "t-1"));
    const r = await mergeSecretsGuarded({ base, ours: withCarol, theirs: rotated });
    expect(r.recipientsMerged).toMatchObject({ added: [{ recipient: carol.recipient, by: "ours" }], removed: [], rotated: ["theirs"], dataKey: "new" });
    expect(r.freshKey).toBe(true);
    for (const k of [base.secrets.dataKey, rotated.secrets.dataKey]) expect(key(r.dataKey)).not.toBe(key(k));
    expect(() => decryptSecretsWithKey(parseSecretsFile(r.text), rotated.secrets.dataKey)).toThrow();
    for (const who of [alice, bob, carol]) {
      const v = await decryptSecrets(r.text, [who.identity]);
      expect([v.values.get("ours_new"), v.values.get("theirs_new")]).toEqual(["o-1", "t-1"]);
    }
  });

  it("reports a name both sides changed differently exactly as before (our value kept), and keeps the comments", async () => {
    const dave = await generateIdentity();
    const header = "# production secrets: ask #payments before changing\n";
    const o = await rekeyed(base, [alice.recipient, bob.recipient, carol.recipient], (m) => m.set("api_key", "k-ours"));
    const ours = await side(header + o.text);
    const theirs = await rekeyed(base, [alice.recipient, bob.recipient, dave.recipient], (m) => m.set("api_key", "k-theirs"));
    const r = await mergeSecretsGuarded({ base, ours, theirs });
    expect(r.conflicts).toEqual([{ name: "api_key", ours: "changed", theirs: "changed" }]);
    expect(r.recipientsMerged?.dataKey).toBe("kept");
    expect(r.text.startsWith(header)).toBe(true);
    expect((await decryptSecrets(r.text, [dave.identity])).values.get("api_key")).toBe("k-ours");
    // under a new key too
    const removed = await rekeyed(base, [alice.recipient, carol.recipient], (m) => m.set("api_key", "k-ours"));
    const n = await mergeSecretsGuarded({ base, ours: await side(header + removed.text), theirs });
    expect(n.recipientsMerged?.dataKey).toBe("new");
    expect(n.conflicts).toEqual([{ name: "api_key", ours: "changed", theirs: "changed" }]);
    expect(n.text.startsWith(header)).toBe(true);
  });

  it("under the kept key a member both sides keep gets our side's stanza, not the base's: a cherry-picked commit's parent (any text that decrypts for the merger) with a junk stanza under bob's label locks bob out of nothing", async () => {
    // the parent of the commit being cherry-picked: the base with bob's stanza replaced by one wrapping a random key (keyless)
    const indent = (enc: string): string => enc.trim().split("\n").map((l) => `            ${l}`).join("\n");
    const bobEnc = parseSecretsFile(base.text).metadata.age.find((a) => a.recipient.trim() === bob.recipient)!.enc;
    const junk = await wrapDataKey(new Uint8Array(32).fill(7), bob.recipient);
    expect(base.text).toContain(indent(bobEnc));
    const parent = await side(base.text.replace(indent(bobEnc), indent(junk)), [alice.identity]);
    expect(key(parent.secrets.dataKey)).toBe(key(base.secrets.dataKey));
    const dave = await generateIdentity();
    const ours = await rekeyed(base, [alice.recipient, bob.recipient, carol.recipient]); // HEAD: carol added, bob's real stanza
    const picked = await side(await updateKeys(parent.secrets, [alice.recipient, bob.recipient, dave.recipient]), [alice.identity]);
    const r = await mergeSecretsGuarded({ base: parent, ours, theirs: picked });
    expect(r.recipientsMerged?.dataKey).toBe("kept");
    expect(stanzas(r.text).get(bob.recipient)).toBe(stanzas(ours.text).get(bob.recipient));
    expect((await decryptSecrets(r.text, [bob.identity])).values.get("api_key")).toBe("k-base");
  });

  it("with isMember (the driver's stellar.yaml members): a new data key is wrapped for no added recipient that is not a member (a recipients conflict); the kept key carries and asks nothing", async () => {
    const outsider = await generateIdentity();
    const withoutBob = await rekeyed(base, [alice.recipient]);
    const withOutsider = await rekeyed(base, [alice.recipient, bob.recipient, outsider.recipient]);
    const withCarol = await rekeyed(base, [alice.recipient, bob.recipient, carol.recipient]);
    const members = new Set([alice.recipient, bob.recipient, carol.recipient]);
    const isMember = (r: string): boolean => members.has(r);
    const refused = await mergeSecretsGuarded({ base, ours: withoutBob, theirs: withOutsider, isMember });
    expect(refused).toMatchObject({ recipientsConflict: true, text: withoutBob.text });
    expect(refused.recipientsConflictReason).toContain("(added by their side) is no member of the environment");
    await expect(decryptSecrets(refused.text, [outsider.identity])).rejects.toMatchObject({ code: "NO_MATCHING_IDENTITY" });
    // without the predicate (no stellar.yaml known): as before
    expect((await mergeSecretsGuarded({ base, ours: withoutBob, theirs: withOutsider })).recipientsMerged?.dataKey).toBe("new");
    // a member added while someone is removed: merged under a new key
    expect((await mergeSecretsGuarded({ base, ours: withoutBob, theirs: withCarol, isMember })).recipientsMerged).toMatchObject({ dataKey: "new", added: [{ recipient: carol.recipient, by: "theirs" }] });
    // under the kept key the outsider's stanza is carried (what its writer gave, nothing wrapped): not asked
    const kept = await mergeSecretsGuarded({ base, ours: withCarol, theirs: withOutsider, isMember });
    expect(kept.recipientsMerged?.dataKey).toBe("kept");
  });

  it("for git's virtual merge base (conflictValue) the recipients are merged as a set whatever isMember says: the driver can read only the tips' stellar.yaml, not the merge bases', and the virtual base is never committed", async () => {
    // two merge bases: one removed bob and rotated, the other added carol; both tips removed carol since
    const withoutBob = await side(await updateKeys(base.secrets, [alice.recipient]), [alice.identity]);
    const rotatedWithoutBob = await side(await rotateDataKey(withoutBob.secrets), [alice.identity]);
    const withCarol = await rekeyed(base, [alice.recipient, bob.recipient, carol.recipient], (m) => m.set("api_key", "k-2"));
    const tips = new Set([alice.recipient]);
    const isMember = (r: string): boolean => tips.has(r);
    const virtual = await mergeSecretsGuarded({ base, ours: rotatedWithoutBob, theirs: withCarol, conflictValue: "virtual-zz", isMember });
    expect(virtual.recipientsConflict).toBe(false);
    expect(virtual.recipientsMerged).toMatchObject({ removed: [{ recipient: bob.recipient, by: "ours" }], added: [{ recipient: carol.recipient, by: "theirs" }], dataKey: "new" });
    expect((await decryptSecrets(virtual.text, [alice.identity])).values.get("api_key")).toBe("k-2");
    // a committed merge of the same versions still refuses to wrap a new key for carol
    expect((await mergeSecretsGuarded({ base, ours: rotatedWithoutBob, theirs: withCarol, isMember })).recipientsConflict).toBe(true);
  });

  it("a key one side removed, added back by the other under another spelling (the age1… form of an ssh-ed25519 key, as ssh-to-age makes; an X25519 key with its ignored top bit set) is a recipients conflict, not a new stanza for the removed member", async () => {
    // mallory's ssh key (made here: TEST-ONLY), and the same key as an age X25519 recipient and identity
    const { publicKey, privateKey } = generateKeyPairSync("ed25519");
    const ed = Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url");
    const seed = Buffer.from(privateKey.export({ format: "jwk" }).d!, "base64url");
    const wire = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
    const mallorySsh = `ssh-ed25519 ${Buffer.concat([wire(Buffer.from("ssh-ed25519")), wire(ed)]).toString("base64")}`;
    const malloryAge = bech32Encode("age", edwardsToMontgomery(ed)!);
    const malloryAgeIdentity = bech32Encode("age-secret-key-", createHash("sha512").update(seed).digest().subarray(0, 32)).toUpperCase();
    // (the age1… form is no other person: mallory's own ssh key opens what is wrapped to it, with age itself)
    const probe = await encryptSecrets(new Map([["x", "1"]]), { recipients: [malloryAge] });
    expect((await decryptSecrets(probe, [malloryAgeIdentity])).values.get("x")).toBe("1");

    const withMallory = await side(await updateKeys(base.secrets, [alice.recipient, bob.recipient, mallorySsh]));
    const dave = await generateIdentity();
    // main: mallory offboarded (members rm + rotate-key); her branch, from before: "mallory-ci" with the age1… form
    const offboarded = await side(await rotateDataKey(withMallory.secrets, { recipients: [alice.recipient, bob.recipient] }));
    const respelled = await side(await updateKeys(withMallory.secrets, [alice.recipient, bob.recipient, mallorySsh, malloryAge]));
    for (const [ours, theirs] of [
      [offboarded, respelled],
      [respelled, offboarded],
    ] as const) {
      const r = await mergeSecretsGuarded({ base: withMallory, ours, theirs });
      expect(r.recipientsConflict, "the removed key is back under another spelling").toBe(true);
      expect(r.text).toBe(ours.text);
      expect(r.recipientsConflictReason).toContain("the same key as");
      expect(r.recipientsConflictReason).toContain("removed");
    }
    // the X25519 key with bit 255 set (X25519 ignores it: the same key to whoever holds the private one)
    const raw = bech32Decode(dave.recipient)!.bytes;
    raw[31] = raw[31]! | 0x80;
    const daveHigh = bech32Encode("age", raw);
    expect(daveHigh).not.toBe(dave.recipient);
    const withDave = await side(await updateKeys(base.secrets, [alice.recipient, bob.recipient, dave.recipient]));
    const daveOut = await side(await rotateDataKey(withDave.secrets, { recipients: [alice.recipient, bob.recipient] }));
    const daveBack = await side(await updateKeys(withDave.secrets, [alice.recipient, bob.recipient, dave.recipient, carol.recipient]).then((t) => t.split(carol.recipient).join(daveHigh)));
    const high = await mergeSecretsGuarded({ base: withDave, ours: daveOut, theirs: daveBack });
    expect(high.recipientsConflict).toBe(true);
    expect(high.recipientsConflictReason).toContain("the same key as");
    // one side writing a member's key another way while nobody removes it stays a set merge (the key was never removed)
    const ageOnly = await side(await updateKeys(withMallory.secrets, [alice.recipient, bob.recipient, malloryAge]));
    const plusDave = await side(await updateKeys(withMallory.secrets, [alice.recipient, bob.recipient, mallorySsh, dave.recipient]));
    const switched = await mergeSecretsGuarded({ base: withMallory, ours: plusDave, theirs: ageOnly });
    expect(switched.recipientsConflict).toBe(false);
    expect(switched.recipientsMerged).toMatchObject({ removed: [{ recipient: mallorySsh, by: "theirs" }], dataKey: "new" });
    expect(parseSecretsFile(switched.text).recipients).toEqual([alice.recipient, bob.recipient, dave.recipient, malloryAge]);
  });

  it("stays a recipients conflict (ours untouched, a reason) without a base, or for a recipient that is no key, never showing a label that is not a public key", async () => {
    const a = await side(await encryptSecrets(new Map([["a", "1"]]), { recipients: [alice.recipient] }));
    const b = await side(await encryptSecrets(new Map([["b", "2"]]), { recipients: [alice.recipient, bob.recipient] }));
    const nobase = await mergeSecretsGuarded({ base: undefined, ours: a, theirs: b });
    expect(nobase).toMatchObject({ recipientsConflict: true, text: a.text, recipientsConflictReason: expect.stringContaining("no common base") });
    const ours = await rekeyed(base, [alice.recipient, bob.recipient, carol.recipient]);
    const mistyped = `${carol.recipient.slice(0, -1)}${carol.recipient.endsWith("q") ? "p" : "q"}`;
    const dave = await generateIdentity();
    const withDave = await updateKeys(base.secrets, [alice.recipient, bob.recipient, dave.recipient]);
    const bad = await mergeSecretsGuarded({ base, ours, theirs: await side(withDave.split(dave.recipient).join(mistyped)) });
    expect(bad).toMatchObject({ recipientsConflict: true, text: ours.text, recipientsConflictReason: expect.stringContaining("(added by their side) is not a valid age X25519") });
    expect(bad.recipientsMerged).toBeUndefined();
    // a point of small order (age1qqqq…: the all-zero key) decodes, but no one holds it and nothing can be wrapped for it
    const noOnes = "age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq5cu47z";
    const small = await mergeSecretsGuarded({ base, ours, theirs: await side(withDave.split(dave.recipient).join(noOnes)) });
    expect(small).toMatchObject({ recipientsConflict: true, text: ours.text, recipientsConflictReason: expect.stringContaining(`"${noOnes}" (added by their side) is not a valid age X25519`) });
    const secret = "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ";
    const pasted = await mergeSecretsGuarded({ base, ours, theirs: await side(withDave.split(dave.recipient).join(secret)) });
    expect(pasted.recipientsConflict).toBe(true);
    expect(pasted.recipientsConflictReason).toContain("a recipient (text not shown)");
    expect(pasted.recipientsConflictReason).not.toContain("AGE-SECRET");
  });
});

describe("mergeSecrets refuses what it cannot write", () => {
  it("refuses JSON files", async () => {
    const s: DecryptedSecrets = { ...base.secrets, file: { ...base.secrets.file, format: "json" } };
    expect(() => mergeSecrets({ base, ours: { text: base.text, secrets: s }, theirs: base })).toThrow(expect.objectContaining({ code: "UNSUPPORTED" }));
  });
});

describe("DecryptCache (the merge driver decrypts each shared ENC string once)", () => {
  it("gives the same values, and still refuses an ENC string moved to another name", async () => {
    const { DecryptCache } = await import("./index.js");
    const cache = new DecryptCache();
    const first = await decryptSecrets(base.text, all, { cache });
    expect([...(await decryptSecrets(base.text, all, { cache })).values]).toEqual([...first.values]);
    const lines = base.text.split("\n");
    const moved = [lines[0], `api_key: ${lines[0]!.slice(lines[0]!.indexOf(": ") + 2)}`, ...lines.slice(2)].join("\n");
    await expect(decryptSecrets(moved, all, { cache })).rejects.toMatchObject({ code: "TAMPERED" });
  });

  it("parses a text once per options, and gives each call of a verified text its own values map", async () => {
    const { DecryptCache, parseSecretsFile } = await import("./index.js");
    const cache = new DecryptCache();
    const parsed = cache.parse(base.text, { path: "a.enc.yaml" });
    expect(cache.parse(base.text, { path: "a.enc.yaml" })).toBe(parsed);
    expect(cache.parse(base.text, { path: "b.enc.yaml" })).not.toBe(parsed);
    expect(cache.parse(base.text, { path: "a.enc.yaml" })).toEqual(parseSecretsFile(base.text, { path: "a.enc.yaml" }));
    const first = await decryptSecrets(base.text, all, { cache });
    first.values.clear();
    expect((await decryptSecrets(base.text, all, { cache })).values).toEqual(base.secrets.values);
  });

  it("lets a member added on one side open the other side's version under the same data key", async () => {
    const { DecryptCache } = await import("./index.js");
    const withCarol = await updateKeys(base.secrets, [alice.recipient, bob.recipient, carol.recipient]);
    await expect(decryptSecrets(base.text, [carol.identity])).rejects.toMatchObject({ code: "NO_MATCHING_IDENTITY" });
    const cache = new DecryptCache();
    await decryptSecrets(withCarol, [carol.identity], { cache });
    expect((await decryptSecrets(base.text, [carol.identity], { cache })).values).toEqual(base.secrets.values);
  });

  it("reuses a data key only for a byte-identical stanza, and the values still have to verify under it", async () => {
    const { DecryptCache } = await import("./index.js");
    const cache = new DecryptCache();
    await decryptSecrets(base.text, all, { cache });
    const rotated = await rotateDataKey(base.secrets);
    const stanzas = (t: string) => t.slice(t.indexOf("sops:"), t.indexOf("    lastmodified:"));
    // a rotated file whose stanzas were replaced by the base's: the base key is found, and refused by the tags
    const forged = rotated.replace(stanzas(rotated), stanzas(base.text));
    await expect(decryptSecrets(forged, all, { cache })).rejects.toMatchObject({ code: "TAMPERED" });
    expect((await decryptSecrets(rotated, all, { cache })).values).toEqual(base.secrets.values);
  });
});
