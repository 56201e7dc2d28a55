/**
 * Keyed verification (`review --verify`) on real encrypted files made in memory: each name's
 * status told exactly, a real rotation told from a re-wrap, and the problems a verification adds.
 * Keys are made in memory for the test only.
 */
import { describe, expect, it } from "vitest";
import { decryptSecrets, encryptSecrets, generateIdentity, reencryptSecrets, rotateDataKey, wrapDataKey } from "@stellar-secrets/sops";
import { buildReview } from "./model.js";
import { stateFromFiles } from "./state.js";
import { retiredKeyProvenWith } from "./retired-key.js";
import { compareDecrypted, rewrapsOpenedWith, withVerification, type DecryptedVersion } from "./verify.js";
import { armorEncode, encryptAge, X25519Recipient } from "../../../sops/src/age-native.js";
import { rewrapsOf, stanzasOf } from "./data-key.js";
import { oracleEncrypt, oracleSealKeyGroups } from "../../../sops/test-fixtures/support.js";
import { findingWording } from "./wording.js";

const PROD = "secrets/production.enc.yaml";

async function version(text: string, identity: string): Promise<DecryptedVersion> {
  const d = await decryptSecrets(text, [identity]);
  return { values: d.values, stored: new Map(d.file.entries.map((e) => [e.name, e.raw])), dataKey: d.dataKey, stanzas: d.file.metadata.age };
}

async function setup(): Promise<{ alice: { identity: string; recipient: string }; base: string }> {
  const alice = await generateIdentity();
  const values = new Map([
    ["hubspot_api_token", "h1"],
    ["slack_bot_token", "k1"],
    ["stripe_api_key", "s1"],
  ]);
  return { alice, base: await encryptSecrets(values, { recipients: [alice.recipient] }) };
}

/** `text` with its age stanzas (from the first to the end of the first envelope) replaced by one for `recipient`, wrapping `dataKey` anew. */
async function withStanzaWrappedAnew(text: string, dataKey: Uint8Array, recipient: string): Promise<string> {
  const start = text.indexOf("        - recipient:");
  const end = text.indexOf("-----END AGE ENCRYPTED FILE-----\n") + "-----END AGE ENCRYPTED FILE-----\n".length;
  const wrapped = (await wrapDataKey(dataKey, recipient)).trimEnd().split("\n").map((l) => `            ${l}`).join("\n");
  return `${text.slice(0, start)}        - recipient: ${recipient}\n          enc: |\n${wrapped}\n${text.slice(end)}`;
}

describe("compareDecrypted", () => {
  it("tells changed, unchanged, added and removed names of a set", async () => {
    const { alice, base } = await setup();
    const prev = await decryptSecrets(base, [alice.identity]);
    const next = new Map([...prev.values, ["hubspot_api_token", "h2"], ["zendesk", "z1"]]);
    next.delete("slack_bot_token");
    const head = await reencryptSecrets(prev, next);
    const v = compareDecrypted("production", PROD, await version(base, alice.identity), await version(head, alice.identity));
    expect(v).toMatchObject({ verified: true, dataKeyRotated: false, rewraps: [] });
    expect(v.verified && v.secrets).toEqual([
      { name: "hubspot_api_token", status: "changed" },
      { name: "slack_bot_token", status: "removed" },
      { name: "stripe_api_key", status: "unchanged" },
      { name: "zendesk", status: "added" },
    ]);
  });

  it("tells a rotation (values re-encrypted only) from a whole file replaced with chosen values", async () => {
    const { alice, base } = await setup();
    const prev = await decryptSecrets(base, [alice.identity]);
    const rotated = compareDecrypted("production", PROD, await version(base, alice.identity), await version(await rotateDataKey(prev), alice.identity));
    expect(rotated.verified && rotated.dataKeyRotated).toBe(true);
    expect(rotated.verified && rotated.secrets.map((s) => s.status)).toEqual(["re-encrypted", "re-encrypted", "re-encrypted"]);

    // anyone with the public keys can write a whole new file: keyless it looks like a rotation
    const replaced = await encryptSecrets(new Map([...prev.values].map(([n]) => [n, `chosen-${n}`])), { recipients: [alice.recipient] });
    const v = compareDecrypted("production", PROD, await version(base, alice.identity), await version(replaced, alice.identity));
    expect(v.verified && v.secrets.map((s) => s.status)).toEqual(["changed", "changed", "changed"]);
    expect(JSON.stringify(v)).not.toContain("chosen-");
    expect(JSON.stringify(v)).not.toContain("s1");
  });
});

describe("withVerification", () => {
  const config = (recipient: string): string => `version: 1\nenvironments:\n  production:\n    members:\n      alice: ${recipient}\n`;

  it("proves with the key a re-wrap the keyless review could not: one value changed and the stanza wrapped anew", async () => {
    const alice = await generateIdentity();
    const mallory = await generateIdentity();
    const base = await encryptSecrets(new Map([["stripe_api_key", "s1"]]), { recipients: [alice.recipient] });
    const prev = await decryptSecrets(base, [alice.identity]);
    // the one value changed (same data key), and alice's stanza replaced by one for mallory and alice
    const changed = await reencryptSecrets(prev, new Map([["stripe_api_key", "s2"]]));
    const start = changed.indexOf("        - recipient:");
    const end = changed.indexOf("-----END AGE ENCRYPTED FILE-----\n") + "-----END AGE ENCRYPTED FILE-----\n".length;
    const stanza = (r: string, enc: string): string => `        - recipient: ${r}\n          enc: |\n${enc.trimEnd().split("\n").map((l) => `            ${l}`).join("\n")}\n`;
    const head =
      changed.slice(0, start) +
      stanza(alice.recipient, await wrapDataKey(prev.dataKey, alice.recipient)) +
      stanza(alice.recipient, await wrapDataKey(prev.dataKey, mallory.recipient)) +
      changed.slice(end);
    const files = (text: string) => new Map([["stellar.yaml", config(alice.recipient)], [PROD, text]]);
    const report = buildReview(stateFromFiles("a", undefined, "/r", files(base)), stateFromFiles("b", undefined, "/r", files(head)));
    // keyless: the one value changed and every stanza is new, so a rotation cannot be ruled out
    expect(report.environments[0]).toMatchObject({ dataKeyRotated: true, rotationUncertain: true });
    expect(report.problems.map((p) => p.kind)).not.toContain("rewrapped-without-rotation");

    const v = compareDecrypted("production", PROD, await version(base, alice.identity), await version(head, alice.identity));
    expect(v).toMatchObject({ verified: true, dataKeyRotated: false, rewraps: [{ recipient: alice.recipient, how: "replaced" }] });
    const verified = withVerification(report, [v]);
    expect(verified.problems.map((p) => p.kind)).toContain("rewrapped-without-rotation");
    expect(verified.environments[0]?.problems.map((p) => p.kind)).toContain("rewrapped-without-rotation");
    expect(verified.clean).toBe(false);
    expect(verified.summary.problems).toBe(verified.problems.length);
    expect(verified.verification).toEqual([v]);
  });

  it("makes a head that fails its MAC a problem, and a missing key only a note", async () => {
    const { alice, base } = await setup();
    const files = new Map([["stellar.yaml", config(alice.recipient)], [PROD, base]]);
    const report = buildReview(stateFromFiles("a", undefined, "/r", new Map()), stateFromFiles("b", undefined, "/r", files));
    const tampered = withVerification(report, [{ environment: "production", file: PROD, verified: false, reason: "the head version: MAC_MISMATCH", code: "MAC_MISMATCH", tampered: true }]);
    expect(tampered.problems.map((p) => `${p.kind} ${p.file}`)).toEqual(["tampered secrets/production.enc.yaml"]);
    expect(tampered.clean).toBe(false);
    expect(tampered.problems[0]?.message).toContain(`revert the change to ${PROD}`);
    // a nested project's (read at the outer root): the message names the file below its folder, the field stays
    const nested = withVerification(report, [{ environment: "production", file: PROD, verified: false, reason: "the head version: MAC_MISMATCH", code: "MAC_MISMATCH", tampered: true }], findingWording("teams/labs"));
    expect(nested.problems[0]?.file).toBe(PROD);
    expect(nested.problems[0]?.message).toMatch(/^teams\/labs\/secrets\/production\.enc\.yaml does not verify .*revert the change to teams\/labs\/secrets\/production\.enc\.yaml,/);
    const noKey = withVerification(report, [{ environment: "production", file: PROD, verified: false, reason: "none of your keys opens the head version", code: "NO_MATCHING_IDENTITY", tampered: false }]);
    expect(noKey.problems).toEqual(report.problems);
    expect(noKey.clean).toBe(report.clean);
  });

  it("brings the keyless rotation guess in line with the key: dataKeyRotated, re-encrypted names that changed, the summary", async () => {
    const alice = await generateIdentity();
    const base = await encryptSecrets(new Map([["stripe_api_key", "s1"]]), { recipients: [alice.recipient] });
    const prev = await decryptSecrets(base, [alice.identity]);
    // the one value changed under the same data key, its stanza wrapped anew: keyless, "maybe a rotation"
    const changed = await reencryptSecrets(prev, new Map([["stripe_api_key", "s2"]]));
    const head = await withStanzaWrappedAnew(changed, prev.dataKey, alice.recipient);
    const files = (text: string) => new Map([["stellar.yaml", config(alice.recipient)], [PROD, text]]);
    const report = buildReview(stateFromFiles("a", undefined, "/r", files(base)), stateFromFiles("b", undefined, "/r", files(head)));
    expect(report.environments[0]).toMatchObject({ dataKeyRotated: true, rotationUncertain: true, reencrypted: ["stripe_api_key"], secrets: [] });
    expect(report.summary).toMatchObject({ changed: 0, reencrypted: 1 });

    const v = compareDecrypted("production", PROD, await version(base, alice.identity), await version(head, alice.identity));
    const verified = withVerification(report, [v]);
    expect(verified.environments[0]).toMatchObject({
      dataKeyRotated: false,
      rotationUncertain: false,
      verified: true,
      reencrypted: [],
      secrets: [{ name: "stripe_api_key", change: "changed" }],
    });
    expect(verified.summary).toMatchObject({ changed: 1, reencrypted: 0 });
    // the keyless report is not changed in place
    expect(report.environments[0]?.dataKeyRotated).toBe(true);
  });

  it("drops an unrotated removal that only a missing key left uncertain when the key shows the rotation, and proves one it shows was not made", async () => {
    const alice = await generateIdentity();
    const bob = await generateIdentity();
    const both = `version: 1\nenvironments:\n  production:\n    members:\n      alice: ${alice.recipient}\n      bob: ${bob.recipient}\n`;
    const files = (project: string, text: string) => new Map([["stellar.yaml", project], [PROD, text]]);
    const base = await encryptSecrets(new Map([["stripe_api_key", "s1"]]), { recipients: [alice.recipient, bob.recipient] });
    const prev = await decryptSecrets(base, [alice.identity]);
    // `members rm bob` with one value: a real rotation, which keyless cannot tell from a changed value
    const rotated = await rotateDataKey(prev, { recipients: [alice.recipient] });
    const report = buildReview(stateFromFiles("a", undefined, "/r", files(both, base)), stateFromFiles("b", undefined, "/r", files(config(alice.recipient), rotated)));
    expect(report.problems.map((p) => p.kind)).toEqual(["unrotated-removal"]);
    const v = compareDecrypted("production", PROD, await version(base, alice.identity), await version(rotated, alice.identity));
    const verified = withVerification(report, [v]);
    expect(verified.problems).toEqual([]);
    expect(verified.environments[0]?.problems).toEqual([]);
    expect(verified.clean).toBe(true);
    expect(verified.environments[0]).toMatchObject({ dataKeyRotated: true, rotationUncertain: false, reencrypted: ["stripe_api_key"] });

    // bob's stanza dropped, every value re-encrypted and alice's stanza wrapped anew under the same data key: keyless, a rotation
    const two = await encryptSecrets(new Map([["stripe_api_key", "s1"], ["hubspot_api_token", "h1"]]), { recipients: [alice.recipient, bob.recipient] });
    const prev2 = await decryptSecrets(two, [alice.identity]);
    const detour = await decryptSecrets(await reencryptSecrets(prev2, new Map([["stripe_api_key", "x"], ["hubspot_api_token", "y"]])), [alice.identity]);
    const back = await reencryptSecrets(detour, new Map([["stripe_api_key", "s1"], ["hubspot_api_token", "h1"]]), { recipients: [alice.recipient] });
    const forged = await withStanzaWrappedAnew(back, prev2.dataKey, alice.recipient);
    const keyless = buildReview(stateFromFiles("a", undefined, "/r", files(both, two)), stateFromFiles("b", undefined, "/r", files(config(alice.recipient), forged)));
    expect(keyless.environments[0]).toMatchObject({ dataKeyRotated: true, rotationUncertain: false });
    expect(keyless.problems.map((p) => p.kind)).not.toContain("unrotated-removal");
    const v2 = compareDecrypted("production", PROD, await version(two, alice.identity), await version(forged, alice.identity));
    const checked = withVerification(keyless, [v2]);
    expect(checked.problems.map((p) => p.kind).sort()).toEqual(["rewrapped-without-rotation", "unrotated-removal"]);
    expect(checked.problems.find((p) => p.kind === "unrotated-removal")?.message).toContain("bob was removed from production but the data key was not rotated (verified with your key)");
    expect(checked.environments[0]).toMatchObject({ dataKeyRotated: false, reencrypted: ["hubspot_api_token", "stripe_api_key"] });

    // one value, bob's stanza dropped, the value set anew and alice's stanza wrapped anew under the
    // same data key: keyless, "cannot be told"; the key proves it was not rotated, and the finding says so
    const prev3 = await decryptSecrets(base, [alice.identity]);
    const detour3 = await decryptSecrets(await reencryptSecrets(prev3, new Map([["stripe_api_key", "x"]])), [alice.identity]);
    const again = await reencryptSecrets(detour3, new Map([["stripe_api_key", "s1"]]), { recipients: [alice.recipient] });
    const lookalike = await withStanzaWrappedAnew(again, prev3.dataKey, alice.recipient);
    const unsure = buildReview(stateFromFiles("a", undefined, "/r", files(both, base)), stateFromFiles("b", undefined, "/r", files(config(alice.recipient), lookalike)));
    expect(unsure.environments[0]).toMatchObject({ dataKeyRotated: true, rotationUncertain: true });
    expect(unsure.problems.map((p) => p.kind)).toEqual(["unrotated-removal"]);
    expect(unsure.problems[0]?.message).toContain("cannot be told from a changed value without a key");
    const v3 = compareDecrypted("production", PROD, await version(base, alice.identity), await version(lookalike, alice.identity));
    const proven = withVerification(unsure, [v3]);
    expect(proven.problems.filter((p) => p.kind === "unrotated-removal").map((p) => p.message)).toEqual([
      expect.stringContaining("bob was removed from production but the data key was not rotated (verified with your key)"),
    ]);
    expect(JSON.stringify(proven.problems)).not.toContain("cannot be told");
    expect(proven.clean).toBe(false);
  });
});

describe("withVerification: a sops key-groups file", () => {
  const config = (members: Record<string, string>): string =>
    `version: 1\nenvironments:\n  production:\n    members:\n${Object.entries(members).map(([n, r]) => `      ${n}: ${r}\n`).join("")}`;
  /** A decrypted version with every stanza, the key groups' ones with their group (as `review --verify` reads them). */
  async function grouped(text: string, identities: string[]): Promise<DecryptedVersion> {
    const d = await decryptSecrets(text, identities);
    return { values: d.values, stored: new Map(d.file.entries.map((e) => [e.name, e.raw])), dataKey: d.dataKey, stanzas: stanzasOf(d.file) };
  }

  it("proves a group's stanza wrapped anew under the same data key (carol's label on mallory's key): rewrapped-without-rotation naming the group", async () => {
    const [alice, bob, carol, mallory] = [await generateIdentity(), await generateIdentity(), await generateIdentity(), await generateIdentity()];
    const key = new Uint8Array(32).fill(9); // test-only data key
    const body = () => `stripe_api_key: ${oracleEncrypt(key, "s1", "stripe_api_key:")}\n`;
    const base = oracleSealKeyGroups(body(), { dataKey: key, groups: [{ age: [alice.recipient] }, { age: [bob.recipient] }, { age: [carol.recipient] }], threshold: 2, macValues: ["s1"] });
    // the same data key split anew (every value re-encrypted, so keyless it may be a rotation), group 3 wrapped for mallory under carol's label
    const head = oracleSealKeyGroups(body(), { dataKey: key, groups: [{ age: [alice.recipient] }, { age: [bob.recipient] }, { age: [mallory.recipient] }], threshold: 2, macValues: ["s1"], lastmodified: "2026-01-03T00:00:00Z" })
      .replace(`recipient: ${mallory.recipient}`, `recipient: ${carol.recipient}`);
    const members = config({ alice: alice.recipient, bob: bob.recipient, carol: carol.recipient });
    const files = (text: string) => new Map([["stellar.yaml", members], [PROD, text]]);
    const report = buildReview(stateFromFiles("a", undefined, "/r", files(base)), stateFromFiles("b", undefined, "/r", files(head)));
    expect(report.problems.map((p) => p.kind)).toEqual(["key-groups-change"]);

    const keys = [alice.identity, bob.identity];
    const v = compareDecrypted("production", PROD, await grouped(base, keys), await grouped(head, keys));
    expect(v).toMatchObject({ verified: true, dataKeyRotated: false });
    // every group's stanza is a new wrapping of a new share of the same data key: carol's label in group 3 among them
    expect(v.verified && v.rewraps.map((r) => [r.recipient, r.group, r.how])).toEqual([
      [alice.recipient, 1, "replaced"],
      [bob.recipient, 2, "replaced"],
      [carol.recipient, 3, "replaced"],
    ]);
    const verified = withVerification(report, [v]);
    const rewrapped = verified.problems.filter((p) => p.kind === "rewrapped-without-rotation");
    expect(rewrapped).toHaveLength(3);
    expect(rewrapped[2]!.message).toContain(`the age stanza labelled ${carol.recipient} in key group 3 of ${PROD} was wrapped anew, but the data key was not rotated (verified with your key)`);
    expect(rewrapped[2]!.message).toContain("may now hold group 3's share of the data key");
    expect(rewrapped[2]!.message).not.toContain("rotate-key");
    expect(verified.clean).toBe(false);

    // a group's stanzas kept byte for byte (a value set under the same data key): no re-wrap
    const groupsBlock = base.slice(base.indexOf("    key_groups:\n"), base.indexOf("    lastmodified:"));
    const set = oracleSealKeyGroups(body(), { dataKey: key, groups: [{ age: [alice.recipient] }], threshold: 2, macValues: ["s1"], lastmodified: "2026-01-04T00:00:00Z" });
    const kept = set.slice(0, set.indexOf("    key_groups:\n")) + groupsBlock + set.slice(set.indexOf("    lastmodified:"));
    const same = compareDecrypted("production", PROD, await grouped(base, keys), await grouped(kept, keys));
    expect(same).toMatchObject({ verified: true, dataKeyRotated: false, rewraps: [] });
  });

  it("compares a label's stanzas within one key group: the same label in two groups is no duplicate, a second stanza in one group is", () => {
    const s = (recipient: string, enc: string, group?: number) => ({ recipient, enc, ...(group === undefined ? {} : { group }) });
    expect(rewrapsOf([], [s("age1a", "A", 1), s("age1a", "B", 2)])).toEqual([]);
    expect(rewrapsOf([s("age1a", "A", 1)], [s("age1a", "A", 1), s("age1a", "B", 2)])).toEqual([]);
    expect(rewrapsOf([s("age1a", "A", 1)], [s("age1a", "A", 1), s("age1a", "B", 1)])).toEqual([{ recipient: "age1a", how: "added", enc: "B", group: 1 }]);
    // a top-level stanza and a group's under one label are not compared
    expect(rewrapsOf([s("age1a", "A")], [s("age1a", "B", 1)])).toEqual([]);
    expect(rewrapsOf([s("age1a", "A", 1), s("age1a", "C", 2)], [s("age1a", "A", 1), s("age1a", "D", 2)])).toEqual([{ recipient: "age1a", how: "replaced", enc: "D", group: 2 }]);
  });
});

describe("a retired data key brought back", () => {
  const config = (recipient: string): string => `version: 1\nenvironments:\n  production:\n    members:\n      alice: ${recipient}\n`;

  it("keeps the keyless finding when the key shows a rotation, and proves with the key one written fresh under the old data key", async () => {
    const alice = await generateIdentity();
    const bob = await generateIdentity();
    const both = `version: 1\nenvironments:\n  production:\n    members:\n      alice: ${alice.recipient}\n      bob: ${bob.recipient}\n`;
    const files = (project: string, text: string) => new Map([["stellar.yaml", project], [PROD, text]]);
    const v1 = await encryptSecrets(new Map([["stripe_api_key", "s1"]]), { recipients: [alice.recipient, bob.recipient] });
    const old = await decryptSecrets(v1, [alice.identity]);
    // `members rm bob`: a new data key for alice only (the base)
    const v2 = await rotateDataKey(old, { recipients: [alice.recipient] });
    const earlierVersions = new Map([[PROD, [{ commit: "c1".repeat(20), text: v1 }]]]);
    const alone = config(alice.recipient);

    // bob's stanza cut out of v1: keyless, the review names v1's commit; the key shows a rotation, which must not drop it
    const cut = v1.replace(new RegExp(` {8}- recipient: ${bob.recipient}\\n {10}enc: \\|\\n(?: {12}.*\\n)+`), "");
    const keyless = buildReview(stateFromFiles("a", undefined, "/r", files(alone, v2)), stateFromFiles("b", undefined, "/r", files(alone, cut)), new Map(), { earlierVersions });
    expect(keyless.problems).toMatchObject([{ kind: "unrotated-removal", commit: "c1".repeat(20) }]);
    const v = compareDecrypted("production", PROD, await version(v2, alice.identity), await version(cut, alice.identity));
    expect(v).toMatchObject({ verified: true, dataKeyRotated: true });
    expect(withVerification(keyless, [v]).problems.map((p) => p.kind)).toEqual(["unrotated-removal"]);

    // bob, who knows v1's data key, writes a new file under it (fresh values, MAC and stanza for alice): keyless, a rotation
    const detour = await decryptSecrets(await reencryptSecrets(old, new Map([["stripe_api_key", "bob's"]]), { recipients: [alice.recipient] }), [alice.identity]);
    const written = await reencryptSecrets(detour, new Map([["stripe_api_key", "s2"]]));
    const fresh = await withStanzaWrappedAnew(written, old.dataKey, alice.recipient);
    const blind = buildReview(stateFromFiles("a", undefined, "/r", files(alone, v2)), stateFromFiles("b", undefined, "/r", files(alone, fresh)), new Map(), { earlierVersions });
    expect(blind.problems).toEqual([]);
    const after = await version(fresh, alice.identity);
    const retired = await retiredKeyProvenWith(after.dataKey, (await version(v2, alice.identity)).dataKey, earlierVersions.get(PROD)!, [alice.identity]);
    expect(retired).toBe("c1".repeat(20));
    const proven = withVerification(blind, [{ ...compareDecrypted("production", PROD, await version(v2, alice.identity), after), retiredKeyOf: retired }]);
    expect(proven.problems).toMatchObject([{ kind: "unrotated-removal", environment: "production", commit: "c1".repeat(20) }]);
    expect(proven.problems[0]!.message).toContain("verified with your key");
    expect(proven.clean).toBe(false);
    // a real rotation's key is no earlier version's
    const rotated = await version(await rotateDataKey(await decryptSecrets(v2, [alice.identity])), alice.identity);
    expect(await retiredKeyProvenWith(rotated.dataKey, (await version(v2, alice.identity)).dataKey, earlierVersions.get(PROD)!, [alice.identity])).toBeUndefined();
  });
});

describe("withVerification: which of the reviewer's keys opens a stanza wrapped anew", () => {
  const config = (members: Record<string, string>): string => `version: 1\nenvironments:\n  production:\n    members:\n${Object.entries(members).map(([n, r]) => `      ${n}: ${r}\n`).join("")}`;
  const stanza = (r: string, enc: string): string => `        - recipient: ${r}\n          enc: |\n${enc.trimEnd().split("\n").map((l) => `            ${l}`).join("\n")}\n`;
  /** `text` with its age list replaced by `stanzas` (label, armored envelope). */
  const withStanzas = (text: string, stanzas: [string, string][]): string => {
    const start = text.indexOf("        - recipient:");
    const end = text.lastIndexOf("-----END AGE ENCRYPTED FILE-----\n") + "-----END AGE ENCRYPTED FILE-----\n".length;
    return text.slice(0, start) + stanzas.map(([r, e]) => stanza(r, e)).join("") + text.slice(end);
  };

  it("a stanza wrapped anew for the reviewer's own key alone is no problem; one none of their keys opens, one for them under bob's label, and one for them and another are each said as such", async () => {
    const alice = await generateIdentity();
    const bob = await generateIdentity();
    const mallory = await generateIdentity();
    const members = { alice: alice.recipient, bob: bob.recipient };
    const base = await encryptSecrets(new Map([["stripe_api_key", "s1"], ["slack_bot_token", "k1"]]), { recipients: [alice.recipient, bob.recipient] });
    const prev = await decryptSecrets(base, [alice.identity]);
    // every value encrypted anew under the same data key (keyless: a rotation), and every stanza wrapped anew
    const stale = { ...prev, values: new Map([...prev.values].map(([k, v]) => [k, `${v}-old`])) };
    const same = await reencryptSecrets(stale, prev.values);
    const files = (text: string) => new Map([["stellar.yaml", config(members)], [PROD, text]]);
    const review = async (head: string) => {
      const report = buildReview(stateFromFiles("a", undefined, "/r", files(base)), stateFromFiles("b", undefined, "/r", files(head)));
      const v = compareDecrypted("production", PROD, await version(base, alice.identity), await version(head, alice.identity));
      if (!v.verified) throw new Error("not verified");
      const opened = { ...v, rewraps: await rewrapsOpenedWith(v.rewraps, [alice.identity]) };
      return { report, v: opened, verified: withVerification(report, [opened]) };
    };
    const rewrapped = (p: { kind: string }) => p.kind === "rewrapped-without-rotation";

    // alice's stanza for alice alone (as sops updatekeys writes it), bob's for mallory under bob's label
    const a = await review(withStanzas(same, [[alice.recipient, await wrapDataKey(prev.dataKey, alice.recipient)], [bob.recipient, await wrapDataKey(prev.dataKey, mallory.recipient)]]));
    expect(a.report.problems.filter(rewrapped)).toEqual([]);
    expect(a.v.rewraps.map((r) => [r.recipient, r.openedWith])).toEqual([[alice.recipient, alice.recipient], [bob.recipient, undefined]]);
    expect(a.verified.problems.filter(rewrapped).map((p) => p.message.slice(0, p.message.indexOf(" in ")))).toEqual([`the age stanza labelled ${bob.recipient}`]);
    expect(a.verified.problems.find(rewrapped)!.message).toContain("(verified with your key): none of your keys opens it, and the label proves nothing, so someone else may now be able to decrypt every value of production");

    // bob's label on a stanza for alice alone: no one gained, but the label lies
    const b = await review(withStanzas(same, [[alice.recipient, await wrapDataKey(prev.dataKey, alice.recipient)], [bob.recipient, await wrapDataKey(prev.dataKey, alice.recipient)]]));
    const wrong = b.verified.problems.filter(rewrapped);
    expect(wrong).toHaveLength(1);
    expect(wrong[0]!.message).toContain(`it opens with your key ${alice.recipient.slice(0, 10)}…${alice.recipient.slice(-6)}, not with the key it is labelled with: it was wrapped for you under another label, so whoever holds the key it is labelled with may no longer open it`);
    expect(wrong[0]!.message).not.toContain("someone else");

    // alice's label on one envelope for alice and mallory: the other stanza may be anyone's
    const both = armorEncode(await encryptAge(prev.dataKey, [new X25519Recipient(alice.recipient), new X25519Recipient(mallory.recipient)]));
    const c = await review(withStanzas(same, [[alice.recipient, both], [bob.recipient, await wrapDataKey(prev.dataKey, bob.recipient)]]));
    const shared = c.verified.problems.filter(rewrapped);
    expect(shared.map((p) => p.message.slice(0, p.message.indexOf(" in ")))).toEqual([`the age stanza labelled ${alice.recipient}`, `the age stanza labelled ${bob.recipient}`]);
    expect(shared[0]!.message).toContain("it opens with your key, which is its label's, and its envelope holds 2 recipient stanzas, so whoever the other one is wrapped for may now be able to decrypt every value of production");
    expect(c.verified.clean).toBe(false);
  });

  it("a keyless finding of the reviewer's own stanza wrapped anew is dropped once the key shows it is theirs alone; another label's stays", async () => {
    const alice = await generateIdentity();
    const bob = await generateIdentity();
    const members = { alice: alice.recipient, bob: bob.recipient };
    const base = await encryptSecrets(new Map([["stripe_api_key", "s1"]]), { recipients: [alice.recipient, bob.recipient] });
    const prev = await decryptSecrets(base, [alice.identity]);
    const text = (await decryptSecrets(base, [alice.identity])).file.metadata.age;
    // the value kept byte for byte (keyless proof of the same data key), alice's stanza wrapped anew for her alone
    const head = withStanzas(base, [[alice.recipient, await wrapDataKey(prev.dataKey, alice.recipient)], [bob.recipient, text[1]!.enc]]);
    const files = (t: string) => new Map([["stellar.yaml", config(members)], [PROD, t]]);
    const report = buildReview(stateFromFiles("a", undefined, "/r", files(base)), stateFromFiles("b", undefined, "/r", files(head)));
    expect(report.problems.map((p) => p.kind)).toEqual(["rewrapped-without-rotation"]);
    const v = compareDecrypted("production", PROD, await version(base, alice.identity), await version(head, alice.identity));
    if (!v.verified) throw new Error("not verified");
    const verified = withVerification(report, [{ ...v, rewraps: await rewrapsOpenedWith(v.rewraps, [alice.identity]) }]);
    expect(verified.problems).toEqual([]);
    expect(verified.environments[0]?.problems).toEqual([]);
    expect(verified.clean).toBe(true);
    // bob reviewing: his key does not open alice's stanza, so the keyless finding stays, worded with what his key shows
    const byBob = compareDecrypted("production", PROD, await version(base, bob.identity), await version(head, bob.identity));
    if (!byBob.verified) throw new Error("not verified");
    const bobs = withVerification(report, [{ ...byBob, rewraps: await rewrapsOpenedWith(byBob.rewraps, [bob.identity]) }]);
    expect(bobs.problems.map((p) => [p.kind, p.line])).toEqual([["rewrapped-without-rotation", report.problems[0]!.line]]);
    expect(bobs.problems[0]!.message).toContain("none of your keys opens it");
  });
});

describe("withVerification: values a commit of the change exposed to a key that is no member at the head", () => {
  it("drops the keyless unrotated-removal when every value the change set differs from that version's, and states it as proven for one that is the same", async () => {
    const alice = await generateIdentity();
    const bob = await generateIdentity();
    const config = `version: 1\nenvironments:\n  production:\n    members:\n      alice: ${alice.recipient}\n`;
    const base = await encryptSecrets(new Map([["stripe_api_key", "s1"]]), { recipients: [alice.recipient] });
    // commit c1 (bob still a recipient on that branch) adds openai_api_key; the head is under a new data key for alice
    const withBob = await encryptSecrets(new Map([["stripe_api_key", "s1"], ["openai_api_key", "o1"]]), { recipients: [alice.recipient, bob.recipient] });
    const head = await rotateDataKey(await decryptSecrets(withBob, [alice.identity]), { recipients: [alice.recipient] });
    const c1 = "c1".repeat(20);
    const files = (text: string) => new Map([["stellar.yaml", config], [PROD, text]]);
    const report = buildReview(stateFromFiles("a", undefined, "/r", files(base)), stateFromFiles("b", undefined, "/r", files(head)), new Map(), { rangeVersions: [{ commit: c1, path: PROD, text: withBob }] });
    expect(report.problems.map((p) => [p.kind, p.commit])).toEqual([["unrotated-removal", c1]]);
    const v = compareDecrypted("production", PROD, await version(base, alice.identity), await version(head, alice.identity));
    if (!v.verified) throw new Error("not verified");
    // openai_api_key differs from c1's (set anew): nothing left
    const cleared = withVerification(report, [{ ...v, exposed: [{ commit: c1, recipient: bob.recipient, compared: ["openai_api_key", "stripe_api_key"], same: ["stripe_api_key"] }] }]);
    expect(cleared.problems).toEqual([]);
    expect(cleared.environments[0]?.problems).toEqual([]);
    expect(cleared.clean).toBe(true);
    // the same value: proven
    const proven = withVerification(report, [{ ...v, exposed: [{ commit: c1, recipient: bob.recipient, compared: ["openai_api_key", "stripe_api_key"], same: ["openai_api_key", "stripe_api_key"] }] }]);
    expect(proven.problems.map((p) => [p.kind, p.commit])).toEqual([["unrotated-removal", c1]]);
    expect(proven.problems[0]!.message).toContain("and the head's openai_api_key is the value that version held (verified with your key)");
    expect(proven.problems[0]!.message).not.toContain("stripe_api_key");
    // a key that opened no version of c1 (no exposed entry): the keyless finding stays
    expect(withVerification(report, [v]).problems).toEqual(report.problems);
  });
});
