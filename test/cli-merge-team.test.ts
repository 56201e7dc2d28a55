/**
 * Findings of the team simulation (scripts/fuzz-team.mjs, docs/fuzz.md "A team in git"), each
 * minimised to a small history on a real git repository with the real CLI.
 */
import { describe, expect, it, vi } from "vitest";
import { decryptSecrets } from "../packages/sops/src/index.js";
import { createSandbox, sandboxesCleanedAfterEach, tryGit, type Sandbox } from "./helpers/cli.js";

vi.setConfig({ testTimeout: 180_000 });

const sandboxes = sandboxesCleanedAfterEach();
const PROD = "secrets/production.enc.yaml";

async function ok(s: Sandbox, args: string[], input?: string): Promise<void> {
  const r = await s.run(args, input === undefined ? {} : { input });
  expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
}

/** The armored age stanza labelled `recipient` in an environment file's text. */
/** production with alice (the acting member) and bob, foo and bar set, the merge driver set up; nothing committed. */
async function aliceAndBob(s: Sandbox): Promise<{ alice: ReturnType<Sandbox["keygen"]>; bob: ReturnType<Sandbox["keygen"]> }> {
  const alice = s.keygen("alice");
  const bob = s.keygen("bob");
  s.env.SOPS_AGE_KEY_FILE = alice.file;
  await ok(s, ["init", "--env", "production"]);
  await ok(s, ["members", "add", "bob", bob.recipient, "--env", "production"]);
  await ok(s, ["set", "foo", "--env", "production", "--from-stdin"], "foo-0");
  await ok(s, ["set", "bar", "--env", "production", "--from-stdin"], "bar-0");
  await ok(s, ["git", "setup", "--no-hook"]);
  return { alice, bob };
}

function stanzaOf(text: string, recipient: string): string {
  const at = text.indexOf(`- recipient: ${recipient}\n`);
  expect(at).toBeGreaterThanOrEqual(0);
  return text.slice(at, text.indexOf("-----END AGE ENCRYPTED FILE-----", at));
}

describe("criss-cross merges and data-key rotation (team simulation)", () => {
  it("a rotate-key on one branch after a criss-cross is not undone when that branch is merged into one that still uses the old data key", async () => {
    const s = createSandbox();
    sandboxes.push(s);
    const { alice, bob } = await aliceAndBob(s);
    s.commit("base", { date: "2026-01-01T10:00:00Z" });
    s.git(["branch", "a"]);
    s.git(["branch", "b"]);
    // b sets a value (the older of the two merge bases), a rotates the data key (K_A)
    s.git(["checkout", "-q", "b"]);
    await ok(s, ["set", "foo", "--env", "production", "--from-stdin"], "foo-b");
    const b1 = s.commit("b: set foo", { date: "2026-01-01T11:00:00Z" });
    s.git(["checkout", "-q", "a"]);
    await ok(s, ["rotate-key", "--env", "production"]);
    const a1 = s.commit("a: rotate-key", { date: "2026-01-01T12:00:00Z" });
    // criss-cross: each branch merges the other's commit
    s.git(["merge", "-q", "--no-edit", b1]);
    s.git(["checkout", "-q", "b"]);
    s.git(["merge", "-q", "--no-edit", a1]);
    // b rotates again (say after a leak of a's data key) and changes bar; a changes bar too, under K_A
    await ok(s, ["rotate-key", "--env", "production"]);
    await ok(s, ["set", "bar", "--env", "production", "--from-stdin"], "bar-b");
    s.commit("b: rotate-key, set bar");
    s.git(["checkout", "-q", "a"]);
    await ok(s, ["set", "bar", "--env", "production", "--from-stdin"], "bar-a");
    s.commit("a: set bar");
    const ours = s.read(PROD);
    expect(s.git(["merge-base", "--all", "a", "b"]).trim().split("\n")).toHaveLength(2);
    const merge = await s.run(["git", "setup", "--check", "--no-hook"]); // the virtual-base driver is configured
    expect(merge.code).toBe(0);
    try {
      s.git(["merge", "--no-edit", "b"]);
    } catch {
      // bar changed on both sides: a conflict, finished below
    }
    await ok(s, ["resolve", "bar", "--env", "production", "--theirs"]);
    const merged = s.read(PROD);
    // the result is not under a's data key any more: b's rotation holds
    expect(stanzaOf(merged, alice.recipient)).not.toBe(stanzaOf(ours, alice.recipient));
    expect(stanzaOf(merged, bob.recipient)).not.toBe(stanzaOf(ours, bob.recipient));
    const values = Object.fromEntries((await decryptSecrets(merged, [bob.identity])).values);
    expect(values).toEqual({ foo: "foo-b", bar: "bar-b" });
  });

  it("a criss-cross whose merge bases added a member both tips removed since still has a virtual base: the secret one branch removed is removed, no whole-file conflict (seed 12)", async () => {
    const s = createSandbox();
    sandboxes.push(s);
    const { alice, bob } = await aliceAndBob(s);
    const carol = s.keygen("carol");
    const dave = s.keygen("dave");
    s.commit("base");
    s.git(["branch", "a"]);
    s.git(["branch", "b"]);
    // the two merge bases to be: a adds carol (same data key), b removes bob (a new data key)
    s.git(["checkout", "-q", "a"]);
    await ok(s, ["members", "add", "carol", carol.recipient, "--env", "production"]);
    const a1 = s.commit("a: members add carol");
    s.git(["checkout", "-q", "b"]);
    await ok(s, ["members", "rm", "bob", "--env", "production"]);
    const b1 = s.commit("b: members rm bob");
    // criss-cross
    s.git(["merge", "-q", "--no-edit", a1]);
    s.git(["checkout", "-q", "a"]);
    s.git(["merge", "-q", "--no-edit", b1]);
    // carol leaves on both branches; a removes foo (a leaked token), b adds dave
    await ok(s, ["members", "rm", "carol", "--env", "production"]);
    await ok(s, ["rm", "foo", "--env", "production", "--yes", "--force"]);
    s.commit("a: members rm carol, rm foo");
    s.git(["checkout", "-q", "b"]);
    await ok(s, ["members", "rm", "carol", "--env", "production"]);
    await ok(s, ["members", "add", "dave", dave.recipient, "--env", "production"]);
    s.commit("b: members rm carol, members add dave");
    s.git(["checkout", "-q", "a"]);
    expect(s.git(["merge-base", "--all", "a", "b"]).trim().split("\n").sort()).toEqual([a1, b1].sort());
    // the merge bases' recipients merge as a set (carol in: no tip's stellar.yaml lists her, and the
    // virtual base is never committed); before, the virtual base could not be made, the outer merge
    // had no base, and the two tips' different recipients were a whole-file conflict
    const merge = tryGit(s, ["merge", "--no-edit", "b"]);
    expect(merge.out).not.toContain("could not be merged");
    expect(merge.ok, merge.out).toBe(true);
    expect(s.git(["diff", "--name-only", "--diff-filter=U"]).trim()).toBe("");
    const merged = s.read(PROD);
    for (const who of [alice, dave]) expect(Object.fromEntries((await decryptSecrets(merged, [who.identity])).values)).toEqual({ bar: "bar-0" });
    for (const who of [bob, carol]) await expect(decryptSecrets(merged, [who.identity])).rejects.toMatchObject({ code: "NO_MATCHING_IDENTITY" });
    expect((await s.run(["check"])).code).toBe(0);
  });

  it("a git revert of members add, after a later change to the file, takes a new data key: the member taken out no longer holds the result's", async () => {
    const s = createSandbox();
    sandboxes.push(s);
    const alice = s.keygen("alice");
    const eve = s.keygen("eve");
    s.env.SOPS_AGE_KEY_FILE = alice.file;
    await ok(s, ["init", "--env", "production"]);
    await ok(s, ["set", "foo", "--env", "production", "--from-stdin"], "foo-0");
    await ok(s, ["git", "setup", "--no-hook"]);
    s.commit("base");
    await ok(s, ["members", "add", "eve", eve.recipient, "--env", "production"]);
    const added = s.commit("members add eve");
    await ok(s, ["set", "bar", "--env", "production", "--from-stdin"], "bar-1");
    const tip = s.commit("set bar");
    const before = s.read(PROD);
    // the driver merges the revert (the file changed since the commit reverted)
    s.git(["revert", "--no-edit", added]);
    const reverted = s.read(PROD);
    expect(reverted).not.toContain(eve.recipient);
    // eve held the data key of every version up to here; the revert's result is not under it
    expect(stanzaOf(reverted, alice.recipient)).not.toBe(stanzaOf(before, alice.recipient));
    await expect(decryptSecrets(reverted, [eve.identity])).rejects.toMatchObject({ code: "NO_MATCHING_IDENTITY" });
    expect(Object.fromEntries((await decryptSecrets(reverted, [alice.identity])).values)).toEqual({ foo: "foo-0", bar: "bar-1" });
    // and review of the revert reports no unrotated removal
    const review = await s.run(["review", `${tip}...HEAD`, "--json"]);
    expect(review.code, review.stdout).toBe(0);
    expect(JSON.parse(review.stdout).problems).toEqual([]);
  });
  it("a git revert of members rm, after the member was added back, does not bring back the data key the removal retired (seed 24)", async () => {
    const s = createSandbox();
    sandboxes.push(s);
    const alice = s.keygen("alice");
    const carol = s.keygen("carol");
    const dave = s.keygen("dave");
    s.env.SOPS_AGE_KEY_FILE = alice.file;
    await ok(s, ["init", "--env", "production"]);
    await ok(s, ["set", "foo", "--env", "production", "--from-stdin"], "foo-0");
    await ok(s, ["git", "setup", "--no-hook"]);
    await ok(s, ["members", "add", "carol", carol.recipient, "--env", "production"]);
    await ok(s, ["members", "add", "dave", dave.recipient, "--env", "production"]);
    s.commit("carol and dave");
    const beforeRemoval = s.read(PROD);
    // dave leaves (the data key rotates), then carol (it rotates again: the key of the reverted
    // commit's parent is retired)
    await ok(s, ["members", "rm", "dave", "--env", "production"]);
    s.commit("members rm dave");
    // (a second later: the driver tells the reverted commit's parent by its earlier lastmodified, in whole seconds)
    await new Promise((done) => setTimeout(done, 1100));
    await ok(s, ["members", "rm", "carol", "--env", "production"]);
    const removed = s.commit("members rm carol");
    // carol is added back under the current key
    await ok(s, ["members", "add", "carol", carol.recipient, "--env", "production"]);
    const tip = s.commit("members add carol");
    // reverting the removal of carol: the driver merges (the file changed since); both sides have
    // carol, their side (the reverted commit's parent) a data key the removal retired
    s.git(["revert", "--no-edit", removed]);
    const reverted = s.read(PROD);
    expect(stanzaOf(reverted, alice.recipient)).not.toBe(stanzaOf(s.git(["show", `${removed}^:${PROD}`]), alice.recipient));
    expect(stanzaOf(reverted, alice.recipient)).not.toBe(stanzaOf(beforeRemoval, alice.recipient));
    expect(Object.fromEntries((await decryptSecrets(reverted, [carol.identity])).values)).toEqual({ foo: "foo-0" });
    const review = await s.run(["review", `${tip}...HEAD`, "--json"]);
    expect(review.code, review.stdout).toBe(0);
    expect(JSON.parse(review.stdout).problems).toEqual([]);
  });
});
