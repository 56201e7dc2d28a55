/**
 * An unresolved merge conflict cannot be committed by accident (real git, the merge driver and the
 * pre-commit hook as `git setup` installs them): the driver records the names it could not merge
 * under the git directory, `git commit` is refused until `resolve` finishes each, `check` reports
 * them (`unresolved-merge`), and a merge that was aborted never blocks anyone.
 */
import { describe, expect, it, vi } from "vitest";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { editSecretsFile } from "../packages/sops/src/index.js";
import { createSandbox, tryGit, type Sandbox, sandboxesCleanedAfterEach } from "./helpers/cli.js";

vi.setConfig({ testTimeout: 180_000 });

const sandboxes = sandboxesCleanedAfterEach();

const PROD = "secrets/production.enc.yaml";

/**
 * Commits the work tree with `recipient`'s stanza label in the environment file mistyped (a key
 * whose checksum fails), past the hook: the merge driver cannot merge the recipients of such a
 * version as a set with another branch's (it would have to carry or wrap for a label that is no
 * key), so a merge of it with another member change stays a recipients conflict (MERGE_CONFLICT).
 */
function commitMislabelled(s: Sandbox, recipient: string, message: string): void {
  const wrong = `${recipient.slice(0, -1)}${recipient.endsWith("q") ? "p" : "q"}`;
  s.write(PROD, s.read(PROD).split(recipient).join(wrong));
  s.git(["add", "-A"]);
  s.git(["commit", "-q", "--no-verify", "-m", message]);
}

async function set(s: Sandbox, name: string, value: string): Promise<void> {
  const r = await s.run(["set", name, "--env", "production", "--from-stdin"], { input: value });
  expect(r.code, r.stderr).toBe(0);
}

/**
 * A repository with the merge driver and the pre-commit hook, where main and feature changed
 * stripe_api_key differently (and feature also added `featureAlso` when given), main checked out.
 */
async function conflicting(featureAlso?: string, names: readonly string[] = ["stripe_api_key"]): Promise<Sandbox> {
  const s = createSandbox();
  sandboxes.push(s);
  const alice = s.keygen("alice");
  s.env.SOPS_AGE_KEY_FILE = alice.file;
  expect((await s.run(["init", "--env", "production"])).code).toBe(0);
  for (const n of names) await set(s, n, "sk_live_BASE");
  const setup = await s.run(["git", "setup"]);
  expect(setup.code, setup.stdout + setup.stderr).toBe(0);
  s.commit("base");
  s.git(["checkout", "-q", "-b", "feature"]);
  for (const n of names) await set(s, n, "sk_live_FEATURE");
  if (featureAlso !== undefined) await set(s, featureAlso, "zd_FEATURE");
  s.commit("feature changes stripe");
  s.git(["checkout", "-q", "main"]);
  for (const n of names) await set(s, n, "sk_live_MAIN");
  s.commit("main changes stripe");
  return s;
}

async function unresolvedRules(s: Sandbox): Promise<{ code: number | null; found: { rule: string; secret?: string; file: string; line: number }[] }> {
  const check = await s.run(["check", "--json"]);
  const found = (JSON.parse(check.stdout).diagnostics as { rule: string; secret?: string; file: string; line: number }[]).filter((d) => d.rule === "unresolved-merge");
  return { code: check.code, found };
}

describe("unresolved merge conflicts", () => {
  it("refuses `git add && git commit` of a conflicted environment file until resolve finishes it; then the commit goes through", async () => {
    const s = await conflicting("zendesk_api_token");
    const merge = tryGit(s, ["merge", "--no-edit", "feature"]);
    expect(merge.ok).toBe(false);
    expect(merge.out).toContain("unresolved-merge");

    // check reports the name where it is, as an error
    const before = await unresolvedRules(s);
    expect(before.code).toBe(1);
    expect(before.found.map((d) => [d.secret, d.file])).toEqual([["stripe_api_key", PROD]]);

    // the accident: stage and commit as if nothing were left
    s.git(["add", PROD]);
    const refused = tryGit(s, ["commit", "--no-edit"]);
    expect(refused.ok).toBe(false);
    expect(refused.out).toContain("UNRESOLVED_MERGE");
    expect(refused.out).toContain(`${PROD}:`);
    expect(refused.out).toContain("stellar-secrets resolve stripe_api_key --env production --ours|--theirs|--from-stdin");
    expect(refused.out).toContain("--no-verify");
    expect(refused.out).not.toContain("sk_live_");
    expect(s.git(["rev-parse", "-q", "--verify", "MERGE_HEAD"]).trim()).toMatch(/^[0-9a-f]{40}$/);

    // the pre-commit command itself: the coded error's exit status
    const hook = await s.run(["pre-commit"]);
    expect(hook.code).toBe(1);
    expect(hook.stdout).toMatch(/^secrets\/production\.enc\.yaml:\d+:\d+: error unresolved-merge /m);

    const resolved = await s.run(["resolve", "stripe_api_key", "--env", "production", "--theirs"]);
    expect(resolved.code, resolved.stderr).toBe(0);
    expect((await unresolvedRules(s)).found).toEqual([]);
    s.git(["add", PROD]);
    const commit = tryGit(s, ["commit", "--no-edit"]);
    expect(commit.ok, commit.out).toBe(true);
    expect(s.git(["log", "-1", "--format=%P"]).trim().split(" ")).toHaveLength(2);
    const value = await s.run(["get", "stripe_api_key", "--env", "production"]);
    expect(value.stdout.trim()).toBe("sk_live_FEATURE");
    expect((await unresolvedRules(s)).code).toBe(0);
  });

  it("keeps refusing while some names are unresolved; --no-verify is the explicit escape; the record lives in the git directory only", async () => {
    const s = await conflicting(undefined, ["hubspot_api_token", "stripe_api_key"]);
    expect(tryGit(s, ["merge", "--no-edit", "feature"]).ok).toBe(false);
    expect((await unresolvedRules(s)).found.map((d) => d.secret)).toEqual(["hubspot_api_token", "stripe_api_key"]);
    const fromStdin = await s.run(["resolve", "stripe_api_key", "--env", "production", "--from-stdin"], { input: "sk_live_NEW\n" });
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    expect(fromStdin.stdout).toContain("still unresolved in secrets/production.enc.yaml: hubspot_api_token");
    expect((await unresolvedRules(s)).found.map((d) => d.secret)).toEqual(["hubspot_api_token"]);
    // nothing in the work tree: git status knows of no record
    expect(s.git(["status", "--porcelain", "--ignored"])).not.toContain("stellar-secrets");
    s.git(["add", PROD]);
    const refused = tryGit(s, ["commit", "--no-edit"]);
    expect(refused.ok).toBe(false);
    expect(refused.out).toContain("stellar-secrets resolve hubspot_api_token --env production");
    expect(refused.out).not.toContain("resolve stripe_api_key");
    // the user's explicit choice: commit our side of hubspot anyway
    const forced = tryGit(s, ["commit", "--no-edit", "--no-verify"]);
    expect(forced.ok, forced.out).toBe(true);
    // committed: the record no longer describes a conflict in progress
    expect((await unresolvedRules(s)).found).toEqual([]);
    expect((await s.run(["pre-commit"])).code).toBe(0);
  });

  it("never blocks after `git merge --abort`, though the driver had left the file byte for byte as ours", async () => {
    // only the conflicting name changed: the driver leaves our version exactly as it was
    const s = await conflicting();
    const ours = s.read(PROD);
    expect(tryGit(s, ["merge", "--no-edit", "feature"]).ok).toBe(false);
    expect(s.read(PROD)).toBe(ours);
    expect((await unresolvedRules(s)).found.map((d) => d.secret)).toEqual(["stripe_api_key"]);
    s.git(["add", PROD]);
    const refused = tryGit(s, ["commit", "--no-edit"]);
    expect(refused.ok).toBe(false);
    expect(refused.out).toContain("UNRESOLVED_MERGE");

    s.git(["merge", "--abort"]);
    expect(s.read(PROD)).toBe(ours);
    const after = await unresolvedRules(s);
    expect(after.found).toEqual([]);
    expect(after.code).toBe(0);
    await set(s, "hubspot_api_token", "hs_MAIN");
    s.git(["add", PROD]);
    const commit = tryGit(s, ["commit", "-m", "main adds hubspot"]);
    expect(commit.ok, commit.out).toBe(true);
  });

  it("drops the record when the file is checked out again (`git checkout -- FILE` after a conflicting merge that changed it)", async () => {
    const s = await conflicting("zendesk_api_token");
    expect(tryGit(s, ["merge", "--no-edit", "feature"]).ok).toBe(false);
    expect((await unresolvedRules(s)).found).toHaveLength(1);
    // keep our side whole on purpose: the file is now HEAD's, not what the driver wrote
    s.git(["checkout", "--ours", "--", PROD]);
    expect((await unresolvedRules(s)).found).toEqual([]);
    s.git(["add", PROD]);
    const commit = tryGit(s, ["commit", "--no-edit"]);
    expect(commit.ok, commit.out).toBe(true);
  });

  it("during a rebase: check reports the conflict while the replayed commit is the one that conflicted (the driver left our side byte for byte); resolve clears it; abort leaves nothing", async () => {
    const s = await conflicting();
    s.git(["checkout", "-q", "feature"]);
    const rebase = tryGit(s, ["rebase", "main"]);
    expect(rebase.ok).toBe(false);
    expect(rebase.out).toContain("stellar-secrets resolve stripe_api_key --env production");
    // the sides swap in a rebase: the driver says which one is the user's own value
    expect(rebase.out).toContain("this is a rebase: ours is the branch you rebase onto, theirs is your commit being replayed (--theirs keeps your value)");
    expect((await unresolvedRules(s)).found.map((d) => d.secret)).toEqual(["stripe_api_key"]);
    s.git(["rebase", "--abort"]);
    expect((await unresolvedRules(s)).found).toEqual([]);

    expect(tryGit(s, ["rebase", "main"]).ok).toBe(false);
    // during a rebase "theirs" is the commit being replayed: feature's value
    const r = await s.run(["resolve", "stripe_api_key", "--env", "production", "--theirs"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("REBASE_HEAD");
    expect((await unresolvedRules(s)).found).toEqual([]);
    s.git(["add", PROD]);
    const done = tryGit(s, ["-c", "core.editor=true", "rebase", "--continue"]);
    expect(done.ok, done.out).toBe(true);
    expect((await s.run(["get", "stripe_api_key", "--env", "production"])).stdout.trim()).toBe("sk_live_FEATURE");
  });

  it("a rebase that ends with the conflicted commit dropped as empty (git leaves REBASE_HEAD behind) blocks nothing afterwards", async () => {
    const s = await conflicting();
    s.git(["checkout", "-q", "feature"]);
    expect(tryGit(s, ["rebase", "main"]).ok).toBe(false);
    // the user keeps main's side as the driver left it: the replayed commit becomes empty and is dropped
    s.git(["add", PROD]);
    const done = tryGit(s, ["-c", "core.editor=true", "rebase", "--continue"]);
    expect(done.ok, done.out).toBe(true);
    expect(tryGit(s, ["rev-parse", "-q", "--verify", "REBASE_HEAD"]).ok).toBe(true); // what git 2.39 leaves
    expect((await unresolvedRules(s)).found).toEqual([]);
    await set(s, "zendesk_api_token", "zd_NEXT");
    s.git(["add", PROD]);
    const next = tryGit(s, ["commit", "-m", "next change"]);
    expect(next.ok, next.out).toBe(true);
  });

  it("both sides changed the recipients differently in a way that cannot be merged as a set (a `members add` on each, one of them committed with a label that is no key): nothing is merged, and the file is refused whole until one side is kept with `resolve --env ENV --ours|--theirs`", async () => {
    const s = createSandbox();
    sandboxes.push(s);
    const alice = s.keygen("alice");
    const bob = s.keygen("bob");
    const carol = s.keygen("carol");
    s.env.SOPS_AGE_KEY_FILE = alice.file;
    expect((await s.run(["init", "--env", "production"])).code).toBe(0);
    await set(s, "stripe_api_key", "sk_live_BASE");
    expect((await s.run(["git", "setup"])).code).toBe(0);
    s.commit("base");
    s.git(["checkout", "-q", "-b", "feature"]);
    const addCarol = await s.run(["members", "add", "carol", carol.recipient, "--env", "production"]);
    expect(addCarol.code, addCarol.stderr).toBe(0);
    commitMislabelled(s, carol.recipient, "feature adds carol");
    s.git(["checkout", "-q", "main"]);
    const addBob = await s.run(["members", "add", "bob", bob.recipient, "--env", "production"]);
    expect(addBob.code, addBob.stderr).toBe(0);
    s.commit("main adds bob");
    const ours = s.read(PROD);

    const merge = tryGit(s, ["merge", "--no-edit", "feature"]);
    expect(merge.ok).toBe(false);
    expect(merge.out).toContain("MERGE_CONFLICT");
    expect(merge.out).toContain("they cannot be merged as a set:");
    expect(merge.out).toContain("(added by their side) is not a valid age X25519 (age1…) or ssh-ed25519 public key");
    expect(merge.out).toContain(`${PROD} is recorded as not merged`);
    expect(s.read(PROD)).toBe(ours);

    // the accident: take the file as it is, commit (stellar.yaml and .sops.yaml were merged per member: carol and bob)
    s.git(["checkout", "--ours", "--", "."]);
    expect(s.read(PROD)).toBe(ours);
    const reported = await unresolvedRules(s);
    expect(reported.code).toBe(1);
    expect(reported.found.map((d) => [d.file, d.line, d.secret])).toEqual([[PROD, 1, undefined]]);
    s.git(["add", "-A"]);
    const refused = tryGit(s, ["commit", "--no-edit"]);
    expect(refused.ok).toBe(false);
    expect(refused.out).toContain("UNRESOLVED_MERGE");
    expect(refused.out).toMatch(/^secrets\/production\.enc\.yaml:1:1: error unresolved-merge /m);
    expect(refused.out).toContain("changed who can decrypt production differently");
    expect(refused.out).toContain("stellar-secrets resolve --env production --ours|--theirs");
    expect(refused.out).not.toContain("sk_live_");

    // resolving one name cannot finish a file of which nothing was merged: refused, the record kept
    const byName = await s.run(["resolve", "stripe_api_key", "--env", "production", "--ours"]);
    expect(byName.code).toBe(2);
    expect(byName.stderr).toContain("USAGE: resolve: the merge driver did not merge secrets/production.enc.yaml at all (MERGE_CONFLICT)");
    expect(byName.stderr).toContain("stellar-secrets resolve --env production --ours|--theirs");
    expect(s.read(PROD)).toBe(ours);
    expect((await unresolvedRules(s)).found.map((d) => [d.file, d.line])).toEqual([[PROD, 1]]);

    // keeping our side whole, on purpose
    const kept = await s.run(["resolve", "--env", "production", "--ours"]);
    expect(kept.code, kept.stderr).toBe(0);
    expect(kept.stdout).toContain(`resolved ${PROD} (the whole file) in production from ours (HEAD `);
    expect(s.read(PROD)).toBe(ours);
    expect((await unresolvedRules(s)).found).toEqual([]);
    // stellar.yaml (merged per member) lists carol too: the kept file is re-keyed for every member
    expect(s.read("stellar.yaml")).toContain(carol.recipient);
    const rotated = await s.run(["rotate-key", "--env", "production"]);
    expect(rotated.code, rotated.stderr).toBe(0);
    s.git(["add", "-A"]);
    const commit = tryGit(s, ["commit", "--no-edit"]);
    expect(commit.ok, commit.out).toBe(true);
  });

  it("a user without a key of the environment merges branches that both changed it: the file is refused whole, naming the members who can merge it; abort leaves nothing; --theirs keeps their side without a key", async () => {
    const s = await conflicting("zendesk_api_token");
    // both branches changed production; dave has no key of it
    const dave = s.keygen("dave");
    s.env.SOPS_AGE_KEY_FILE = dave.file;
    const ours = s.read(PROD);
    const merge = tryGit(s, ["merge", "--no-edit", "feature"]);
    expect(merge.ok).toBe(false);
    expect(merge.out).toContain("MERGE_NEEDS_KEY");
    expect(s.read(PROD)).toBe(ours);

    const reported = await unresolvedRules(s);
    expect(reported.code).toBe(1);
    expect(reported.found).toHaveLength(1);
    s.git(["add", PROD]);
    const refused = tryGit(s, ["commit", "--no-edit"]);
    expect(refused.ok).toBe(false);
    expect(refused.out).toContain("UNRESOLVED_MERGE");
    expect(refused.out).toContain("only a member of production (alice) can merge it");
    expect(refused.out).toContain("git merge --abort");

    s.git(["merge", "--abort"]);
    expect((await unresolvedRules(s)).found).toEqual([]);
    expect((await s.run(["pre-commit"])).code).toBe(0);

    // again, and keep their side whole (no key needed to take a committed version)
    expect(tryGit(s, ["merge", "--no-edit", "feature"]).ok).toBe(false);
    const theirs = s.git(["show", `MERGE_HEAD:${PROD}`]);
    const kept = await s.run(["resolve", "--env", "production", "--theirs"]);
    expect(kept.code, kept.stderr).toBe(0);
    expect(kept.stdout).toContain("from theirs (MERGE_HEAD ");
    expect(kept.stdout).toContain("MERGE_NEEDS_KEY");
    expect(s.read(PROD)).toBe(theirs);
    expect((await unresolvedRules(s)).found).toEqual([]);
    s.git(["add", PROD]);
    const commit = tryGit(s, ["commit", "--no-edit"]);
    expect(commit.ok, commit.out).toBe(true);
  });

  it("a member removed on main merges main into a branch of his: MERGE_NEEDS_KEY names who can open main's version, never him", async () => {
    const s = createSandbox();
    sandboxes.push(s);
    const alice = s.keygen("alice");
    const dave = s.keygen("dave");
    s.env.SOPS_AGE_KEY_FILE = alice.file;
    expect((await s.run(["init", "--env", "production", "--member", "alice"])).code).toBe(0);
    await set(s, "stripe_api_key", "sk_live_BASE");
    expect((await s.run(["members", "add", "dave", dave.recipient, "--env", "production"])).code).toBe(0);
    expect((await s.run(["git", "setup"])).code).toBe(0);
    s.commit("base, dave added");
    s.git(["checkout", "-q", "-b", "dave-feature"]);
    s.env.SOPS_AGE_KEY_FILE = dave.file;
    await set(s, "webhook_secret", "whsec_DAVE");
    s.commit("dave's webhook");
    s.git(["checkout", "-q", "main"]);
    s.env.SOPS_AGE_KEY_FILE = alice.file;
    const removed = await s.run(["members", "rm", "dave"]);
    expect(removed.code, removed.stderr).toBe(0);
    s.commit("dave leaves (rotated)");

    s.git(["checkout", "-q", "dave-feature"]);
    s.env.SOPS_AGE_KEY_FILE = dave.file;
    const merge = tryGit(s, ["merge", "--no-edit", "main"]);
    expect(merge.ok).toBe(false);
    expect(merge.out).toContain("MERGE_NEEDS_KEY");
    expect(merge.out).toContain(`alice (${alice.recipient})`);
    expect(merge.out).not.toContain(`dave (${dave.recipient})`);
    s.git(["add", PROD]);
    const refused = tryGit(s, ["commit", "--no-edit"]);
    expect(refused.ok).toBe(false);
    expect(refused.out).toContain("only a member of production (alice) can merge it");
  });

  it("a version that does not verify (edited by hand on their side): the file is refused whole until the merge is redone or a side is kept", async () => {
    const s = await conflicting();
    s.git(["checkout", "-q", "feature"]);
    // break feature's MAC by hand (a value line swapped for main's), committed past the hook
    const text = s.read(PROD).replace(/^stripe_api_key: .*$/m, (line) => line.replace(/data:[^,]+/, "data:AAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    s.write(PROD, text);
    s.git(["add", PROD]);
    s.git(["commit", "-q", "--no-verify", "-m", "feature edits by hand"]);
    s.git(["checkout", "-q", "main"]);
    const merge = tryGit(s, ["merge", "--no-edit", "feature"]);
    expect(merge.ok).toBe(false);
    expect(merge.out).toContain("MERGE_FAILED");
    s.git(["add", PROD]);
    const refused = tryGit(s, ["commit", "--no-edit"]);
    expect(refused.ok).toBe(false);
    expect(refused.out).toContain("UNRESOLVED_MERGE");
    expect(refused.out).toContain("git checkout -m -- secrets/production.enc.yaml");
    // run by hand in a subfolder: the hint names paths from there, as the rest of pre-commit's text
    const inSecrets = await s.run(["pre-commit"], { cwd: join(s.repo, "secrets") });
    expect(inSecrets.code).not.toBe(0);
    expect(inSecrets.stderr).toContain("production.enc.yaml: fix what merge-file reported, then redo the merge of the file with `git checkout -m -- production.enc.yaml`");
    expect(inSecrets.stderr).toContain("then `git add production.enc.yaml`");
    expect(inSecrets.stderr).not.toContain("secrets/production.enc.yaml");
    const kept = await s.run(["resolve", "--env", "production", "--ours"]);
    expect(kept.code, kept.stderr).toBe(0);
    s.git(["add", PROD]);
    expect(tryGit(s, ["commit", "--no-edit"]).ok).toBe(true);
  });

  it("during `git revert` (REVERT_HEAD): a whole file is refused until kept, and --theirs takes the reverted commit's parent", async () => {
    const s = createSandbox();
    sandboxes.push(s);
    s.env.SOPS_AGE_KEY_FILE = s.keygen("alice").file;
    const bob = s.keygen("bob");
    const carol = s.keygen("carol");
    expect((await s.run(["init", "--env", "production"])).code).toBe(0);
    await set(s, "stripe_api_key", "sk_live_BASE");
    expect((await s.run(["git", "setup"])).code).toBe(0);
    s.commit("base");
    const beforeBob = s.read(PROD);
    expect((await s.run(["members", "add", "bob", bob.recipient, "--env", "production"])).code).toBe(0);
    s.commit("adds bob");
    expect((await s.run(["members", "add", "carol", carol.recipient, "--env", "production"])).code).toBe(0);
    s.write("notes.txt", "carol joined\n");
    commitMislabelled(s, carol.recipient, "adds carol");
    const ours = s.read(PROD);
    const revert = tryGit(s, ["revert", "--no-edit", "HEAD~1"]);
    expect(revert.ok).toBe(false);
    expect(revert.out).toContain("MERGE_CONFLICT");
    s.git(["checkout", "--ours", "--", "stellar.yaml", ".sops.yaml"]);
    expect(s.read(PROD)).toBe(ours);
    expect((await unresolvedRules(s)).found.map((d) => [d.file, d.line])).toEqual([[PROD, 1]]);
    s.write("notes.txt", "carol joined; bob left\n");
    s.git(["add", "-A"]);
    const refused = tryGit(s, ["commit", "--no-edit"]);
    expect(refused.ok).toBe(false);
    expect(refused.out).toContain("UNRESOLVED_MERGE");
    const kept = await s.run(["resolve", "--env", "production", "--theirs"]);
    expect(kept.code, kept.stderr).toBe(0);
    expect(kept.stdout).toContain("REVERT_HEAD");
    expect(s.read(PROD)).toBe(beforeBob);
    expect((await unresolvedRules(s)).found).toEqual([]);
  });

  it("shows a conflicting name with control characters escaped in the driver's and resolve's messages, never raw", async () => {
    const s = createSandbox();
    sandboxes.push(s);
    const alice = s.keygen("alice");
    s.env.SOPS_AGE_KEY_FILE = alice.file;
    expect((await s.run(["init", "--env", "production"])).code).toBe(0);
    // the CLI refuses such names, but a member's sops can write them
    const evil = ["evil\u001b[2Jname", "other\u009bname"];
    const write = (value: string): Promise<unknown> =>
      editSecretsFile(join(s.repo, PROD), [alice.identity], (values) => {
        for (const n of evil) values.set(n, value);
      });
    await write("base");
    expect((await s.run(["git", "setup"])).code).toBe(0);
    const commit = (m: string): void => {
      s.git(["add", "-A"]);
      s.git(["commit", "-q", "--no-verify", "-m", m]); // the hook refuses such names (invalid-secret-name)
    };
    commit("base");
    s.git(["checkout", "-q", "-b", "feature"]);
    await write("feature");
    commit("feature");
    s.git(["checkout", "-q", "main"]);
    await write("main");
    commit("main");
    const merge = tryGit(s, ["merge", "--no-edit", "feature"]);
    expect(merge.ok).toBe(false);
    expect(merge.out).toContain("evil\\x1b[2Jname");
    expect(merge.out).not.toMatch(/[\u001b\u009b]/);
    const r = await s.run(["resolve", evil[0] as string, "--env", "production", "--theirs"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("other\\x9bname");
    expect(r.stdout + r.stderr).not.toMatch(/[\u001b\u009b]/);
  });

  it("a whole file left by `git cherry-pick -n` (no CHERRY_PICK_HEAD) is not enforced, and the driver says so instead of promising the hook refuses it", async () => {
    const s = createSandbox();
    sandboxes.push(s);
    s.env.SOPS_AGE_KEY_FILE = s.keygen("alice").file;
    const bob = s.keygen("bob");
    const carol = s.keygen("carol");
    expect((await s.run(["init", "--env", "production"])).code).toBe(0);
    await set(s, "stripe_api_key", "sk_live_BASE");
    expect((await s.run(["git", "setup"])).code).toBe(0);
    s.commit("base");
    s.git(["checkout", "-q", "-b", "feature"]);
    expect((await s.run(["members", "add", "carol", carol.recipient, "--env", "production"])).code).toBe(0);
    commitMislabelled(s, carol.recipient, "feature adds carol");
    s.git(["checkout", "-q", "main"]);
    expect((await s.run(["members", "add", "bob", bob.recipient, "--env", "production"])).code).toBe(0);
    s.commit("main adds bob");
    const pick = tryGit(s, ["cherry-pick", "-n", "feature"]);
    expect(pick.ok).toBe(false);
    expect(pick.out).toContain("MERGE_CONFLICT");
    expect(pick.out).toContain(`${PROD} is recorded as not merged`);
    // git keeps no CHERRY_PICK_HEAD here, so the record cannot tell this state from an abort: the driver says so
    expect(pick.out).toContain("cherry-pick -n");
    expect(pick.out).toContain("not enforced");
    s.git(["checkout", "--ours", "--", "."]);
    expect((await unresolvedRules(s)).found).toEqual([]);
  });

  it("resolve NAME when nothing of NAME is unresolved: refused outside a merge (never undoes an uncommitted change), a note during one", async () => {
    const s = await conflicting("zendesk_api_token");
    await set(s, "stripe_api_key", "sk_live_UNCOMMITTED");
    const edited = s.read(PROD);
    for (const side of ["--ours", "--from-stdin"]) {
      const outside = await s.run(["resolve", "stripe_api_key", "--env", "production", side], { input: "sk_live_STDIN" });
      expect(outside.code, outside.stderr).toBe(4);
      expect(outside.stderr).toContain("NOT_FOUND: nothing to resolve");
      expect(outside.stderr).toContain("stellar-secrets set stripe_api_key --env production");
      expect(s.read(PROD)).toBe(edited);
    }
    s.git(["checkout", "--", PROD]);
    expect(tryGit(s, ["merge", "--no-edit", "feature"]).ok).toBe(false);
    // zendesk_api_token was merged from feature by the driver: --ours still writes (a choice), but says it was no conflict
    const merged = await s.run(["resolve", "zendesk_api_token", "--env", "production", "--ours"]);
    expect(merged.code, merged.stderr).toBe(0);
    expect(merged.stderr).toContain("note: zendesk_api_token was not reported as changed on both sides in secrets/production.enc.yaml (unresolved there: stripe_api_key); it was removed all the same");
    const done = await s.run(["resolve", "stripe_api_key", "--env", "production", "--theirs"]);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stderr).toBe("");
    const again = await s.run(["resolve", "stripe_api_key", "--env", "production", "--theirs"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain("note: stripe_api_key was not reported as changed on both sides in secrets/production.enc.yaml (nothing is unresolved there); nothing changed");
    expect(merged.stdout + merged.stderr + again.stdout + again.stderr).not.toContain("sk_live_");
  });

  it("resolve without NAME takes --ours or --theirs only, and only during a merge (never undoes uncommitted changes)", async () => {
    const s = await conflicting();
    const r = await s.run(["resolve", "--env", "production", "--from-stdin"], { input: "x" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("USAGE");
    await set(s, "zendesk_api_token", "zd_UNCOMMITTED");
    const edited = s.read(PROD);
    const outside = await s.run(["resolve", "--env", "production", "--ours"]);
    expect(outside.code).toBe(4);
    expect(outside.stderr).toContain("NOT_FOUND");
    // the message is about the whole-file form, and does not send the user back to the same --ours
    expect(outside.stderr).not.toContain('no "theirs"');
    expect(outside.stderr).not.toContain("use --ours");
    expect(outside.stderr).toContain("git checkout HEAD -- secrets/production.enc.yaml");
    expect(s.read(PROD)).toBe(edited);
  });
});

describe("operations that keep no commit of their side: resolve --theirs reads it from the index's stage 3", () => {
  it("`git am -3` of a format-patch: the driver says it is `git am` (not a rebase), resolve --theirs takes the patch's value, and a stage 3 that is not the recorded side is refused", async () => {
    const s = await conflicting("zendesk_api_token");
    const patch = s.git(["format-patch", "-1", "--stdout", "feature"]);
    s.write("feature.patch", patch);
    const am = tryGit(s, ["am", "-3", "feature.patch"]);
    expect(am.ok).toBe(false);
    expect(am.out).toContain("stellar-secrets resolve stripe_api_key --env production");
    expect(am.out).toContain("this is `git am`: ours is your branch (HEAD), theirs is the patch being applied");
    expect(am.out).not.toContain("this is a rebase");
    expect(am.out).toContain("`git am --continue` runs the pre-applypatch hook");
    // the patch also added zendesk: the file differs from HEAD, so check reports the name
    expect((await unresolvedRules(s)).found.map((d) => d.secret)).toEqual(["stripe_api_key"]);

    // a record whose other side is not the index's stage 3 (another conflict's): no "theirs"
    const recordDir = join(s.repo, ".git", "stellar-secrets", "unresolved");
    const [recordFile] = readdirSync(recordDir);
    const recordText = readFileSync(join(recordDir, recordFile as string), "utf8");
    writeFileSync(join(recordDir, recordFile as string), recordText.replace(/"theirs": "[0-9a-f]{64}"/, `"theirs": "${"0".repeat(64)}"`));
    const wrong = await s.run(["resolve", "stripe_api_key", "--env", "production", "--theirs"]);
    expect(wrong.code).toBe(4);
    expect(wrong.stderr).toContain("NOT_FOUND");
    writeFileSync(join(recordDir, recordFile as string), recordText);

    const r = await s.run(["resolve", "stripe_api_key", "--env", "production", "--theirs"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("from theirs (the index's stage 3): changed");
    expect((await unresolvedRules(s)).found).toEqual([]);
    s.git(["add", PROD]);
    const done = tryGit(s, ["am", "--continue"]);
    expect(done.ok, done.out).toBe(true);
    expect((await s.run(["get", "stripe_api_key", "--env", "production"])).stdout.trim()).toBe("sk_live_FEATURE");
    expect((await s.run(["get", "zendesk_api_token", "--env", "production"])).stdout.trim()).toBe("zd_FEATURE");
  });

  it("`git am -3` where the driver left our side byte for byte and the patch also changes another file: `git add` and `git am --continue` are refused (the record names the am session's patch), resolve finishes it, `git am --skip` and `--abort` leave nothing that blocks", async () => {
    const s = await conflicting();
    // the patch also changes README.md: one commit that changes stripe_api_key (conflicting with main) and it
    s.git(["checkout", "-q", "feature"]);
    s.write("README.md", "feature notes\n");
    s.git(["add", "README.md"]);
    s.git(["commit", "-q", "--amend", "--no-edit", "--no-verify"]);
    s.write("feature.patch", s.git(["format-patch", "-1", "--stdout", "feature"]));
    s.git(["checkout", "-q", "main"]);
    const headFile = s.read(PROD);
    const am = tryGit(s, ["am", "-3", "feature.patch"]);
    expect(am.ok).toBe(false);
    expect(am.out).toContain("stellar-secrets resolve stripe_api_key --env production");
    // the driver kept our side: the file is HEAD's byte for byte
    expect(s.read(PROD)).toBe(headFile);
    expect((await unresolvedRules(s)).found.map((d) => d.secret)).toEqual(["stripe_api_key"]);

    // the accident: stage everything and continue, as git's own message says
    s.git(["add", PROD, "README.md"]);
    expect((await unresolvedRules(s)).found.map((d) => d.secret)).toEqual(["stripe_api_key"]);
    const cont = tryGit(s, ["am", "--continue"]);
    expect(cont.ok).toBe(false);
    expect(cont.out).toContain("UNRESOLVED_MERGE");
    expect(s.git(["log", "-1", "--format=%s"]).trim()).toBe("main changes stripe");

    // resolve finishes it: the patch's value, committed by git am --continue
    const r = await s.run(["resolve", "stripe_api_key", "--env", "production", "--ours"]);
    expect(r.code, r.stderr).toBe(0);
    s.git(["add", PROD]);
    const done = tryGit(s, ["am", "--continue"]);
    expect(done.ok, done.out).toBe(true);
    expect(s.git(["log", "-1", "--format=%s"]).trim()).toBe("feature changes stripe");
    expect((await unresolvedRules(s)).found).toEqual([]);

    // the same accident undone with --skip, and with --abort: nothing blocks afterwards
    for (const leave of [["am", "--skip"], ["am", "--abort"]]) {
      s.git(["reset", "-q", "--hard", "HEAD~1"]);
      expect(tryGit(s, ["am", "-3", "feature.patch"]).ok).toBe(false);
      s.git(["add", PROD, "README.md"]);
      expect((await unresolvedRules(s)).found.map((d) => d.secret)).toEqual(["stripe_api_key"]);
      s.git(leave);
      expect((await unresolvedRules(s)).found).toEqual([]);
      s.write("note.txt", leave.join(" "));
      s.git(["add", "note.txt"]);
      const commit = tryGit(s, ["commit", "-m", "after"]);
      expect(commit.ok, commit.out).toBe(true);
    }
  });

  it("`git am -3` of a patch whose file does not verify (edited by hand), which also changes another file: the whole file is refused by the pre-applypatch hook until a side is kept", async () => {
    const s = await conflicting();
    s.git(["checkout", "-q", "feature"]);
    const text = s.read(PROD).replace(/^stripe_api_key: .*$/m, (line) => line.replace(/data:[^,]+/, "data:AAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    s.write(PROD, text);
    s.write("README.md", "hand edit\n");
    s.git(["add", PROD, "README.md"]);
    s.git(["commit", "-q", "--no-verify", "-m", "feature edits by hand"]);
    s.write("feature.patch", s.git(["format-patch", "-1", "--stdout", "feature"]));
    s.git(["checkout", "-q", "main"]);
    const headFile = s.read(PROD);
    const am = tryGit(s, ["am", "-3", "feature.patch"]);
    expect(am.ok).toBe(false);
    expect(am.out).toContain("MERGE_FAILED");
    // before, the driver listed git am among nothing: the record now counts during it
    expect(am.out).toContain("`revert` or `git am -3`; after `git stash pop|apply`");
    expect(s.read(PROD)).toBe(headFile);
    s.git(["add", PROD, "README.md"]);
    const refused = tryGit(s, ["am", "--continue"]);
    expect(refused.ok).toBe(false);
    expect(refused.out).toContain("UNRESOLVED_MERGE");
    expect(s.git(["log", "-1", "--format=%s"]).trim()).toBe("main changes stripe");
    // the patch's side left the index with `git add`: --theirs says how to get it back, --ours keeps HEAD's
    const theirs = await s.run(["resolve", "--env", "production", "--theirs"]);
    expect(theirs.code).toBe(4);
    expect(theirs.stderr).toContain("`git am --abort`, `git am -3 PATCH`");
    const kept = await s.run(["resolve", "--env", "production", "--ours"]);
    expect(kept.code, kept.stderr).toBe(0);
    s.git(["add", PROD]);
    const done = tryGit(s, ["am", "--continue"]);
    expect(done.ok, done.out).toBe(true);
    expect(s.read("README.md")).toBe("hand edit\n");
  });

  it("`git stash pop` with a conflicting change: resolve NAME --theirs takes the stash's value; the whole-file form keeps the stash's file", async () => {
    const s = await conflicting();
    // a throwaway repository of the test (never this project's stash)
    await set(s, "stripe_api_key", "sk_live_STASHED");
    s.git(["stash", "-q"]);
    await set(s, "stripe_api_key", "sk_live_HEAD");
    s.commit("head changes stripe");
    const stashed = s.git(["show", `stash@{0}:${PROD}`]);
    expect(tryGit(s, ["stash", "pop"]).ok).toBe(false);
    const r = await s.run(["resolve", "stripe_api_key", "--env", "production", "--theirs"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("the index's stage 3");
    expect((await s.run(["get", "stripe_api_key", "--env", "production"])).stdout.trim()).toBe("sk_live_STASHED");

    s.git(["checkout", "-q", "-f", "HEAD"]);
    expect(tryGit(s, ["stash", "pop"]).ok).toBe(false);
    const whole = await s.run(["resolve", "--env", "production", "--theirs"]);
    expect(whole.code, whole.stderr).toBe(0);
    expect(whole.stdout).toContain("from theirs (the index's stage 3): replaced");
    expect(s.read(PROD)).toBe(stashed);
  });
});

describe("git rebase --rebase-merges", () => {
  it("`git rebase --rebase-merges` re-creating a merge that conflicted: the driver names the merge's sides (not a replayed commit's), and --theirs takes the merged branch's value", async () => {
    const s = createSandbox();
    sandboxes.push(s);
    s.env.SOPS_AGE_KEY_FILE = s.keygen("alice").file;
    expect((await s.run(["init", "--env", "production"])).code).toBe(0);
    await set(s, "stripe_api_key", "sk_live_BASE");
    expect((await s.run(["git", "setup"])).code).toBe(0);
    s.commit("base");
    s.git(["checkout", "-q", "-b", "topic"]);
    await set(s, "stripe_api_key", "sk_live_TOPIC");
    s.commit("topic changes stripe");
    s.git(["checkout", "-q", "-b", "feature", "main"]);
    await set(s, "stripe_api_key", "sk_live_FEATURE");
    s.commit("feature changes stripe");
    s.git(["checkout", "-q", "main"]);
    await set(s, "zendesk_api_token", "zd_MAIN");
    s.commit("main adds zendesk");
    // feature merged the topic branch, keeping the topic's value
    s.git(["checkout", "-q", "feature"]);
    expect(tryGit(s, ["merge", "topic"]).ok).toBe(false);
    expect((await s.run(["resolve", "stripe_api_key", "--env", "production", "--theirs"])).code).toBe(0);
    s.git(["add", PROD]);
    s.git(["commit", "-q", "--no-edit"]);
    const rebase = tryGit(s, ["rebase", "--rebase-merges", "main"]);
    expect(rebase.ok).toBe(false);
    expect(rebase.out).toContain("this is a merge that `git rebase --rebase-merges` re-creates: ours is the rebased branch (HEAD), theirs is the branch it merges");
    expect(rebase.out).not.toContain("theirs is your commit being replayed");
    const r = await s.run(["resolve", "stripe_api_key", "--env", "production", "--theirs"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("MERGE_HEAD");
    s.git(["add", PROD]);
    const done = tryGit(s, ["-c", "core.editor=true", "rebase", "--continue"]);
    expect(done.ok, done.out).toBe(true);
    expect((await s.run(["get", "stripe_api_key", "--env", "production"])).stdout.trim()).toBe("sk_live_TOPIC");
  });
});

describe("the CLI's own writes during an unresolved merge", () => {
  it("`set`, `rm`, `inbox apply` of another secret or `rotate-key` keeps the conflict refused (the record follows the write); `set` of the conflicting name finishes it", async () => {
    const s = await conflicting("zendesk_api_token");
    expect(tryGit(s, ["merge", "feature"]).ok).toBe(false);
    // before: the write made the record stale, and the commit kept our stripe_api_key silently
    await set(s, "hubspot_api_token", "hs_DURING_MERGE");
    const note = await s.run(["rm", "zendesk_api_token", "--env", "production", "--yes"]);
    expect(note.code, note.stderr).toBe(0);
    expect(note.stderr).toContain("is in an unresolved merge, still unresolved: stripe_api_key");
    s.git(["add", PROD]);
    const refused = tryGit(s, ["commit", "-q", "--no-edit"]);
    expect(refused.ok).toBe(false);
    expect(refused.out).toContain("UNRESOLVED_MERGE");
    expect((await unresolvedRules(s)).found.map((d) => d.secret)).toEqual(["stripe_api_key"]);
    // a rotation rewrites every line of the file: the conflict still holds after it
    const rotated = await s.run(["rotate-key", "--env", "production"]);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect((await unresolvedRules(s)).found.map((d) => d.secret)).toEqual(["stripe_api_key"]);
    // a proposal from a non-member, applied by a member during the merge: the same
    const outsider = s.keygen("outsider");
    const proposed = await s.run(["set", "openai_api_key", "--env", "production", "--from-stdin"], { input: "sk-proposed", env: { SOPS_AGE_KEY_FILE: outsider.file } });
    expect(proposed.code, proposed.stderr).toBe(0);
    const applied = await s.run(["inbox", "apply", "openai_api_key", "--env", "production"]);
    expect(applied.code, applied.stderr).toBe(0);
    expect((await unresolvedRules(s)).found.map((d) => d.secret)).toEqual(["stripe_api_key"]);
    const given = await s.run(["set", "stripe_api_key", "--env", "production", "--from-stdin"], { input: "sk_live_CHOSEN" });
    expect(given.code, given.stderr).toBe(0);
    expect(given.stderr).toContain("had an unresolved merge of stripe_api_key: this write gave it a value");
    expect((await unresolvedRules(s)).found).toEqual([]);
    s.git(["add", PROD]);
    const done = tryGit(s, ["commit", "-q", "--no-edit"]);
    expect(done.ok, done.out).toBe(true);
    expect((await s.run(["get", "hubspot_api_token", "--env", "production"])).stdout.trim()).toBe("hs_DURING_MERGE");
  });
});

describe("a merge driver that is killed part way", () => {
  it("leaves the file refused whole (MERGE_INTERRUPTED) instead of a conflict that `git add && git commit` drops unseen; `git checkout -m` redoes it", async () => {
    const s = createSandbox();
    sandboxes.push(s);
    s.env.SOPS_AGE_KEY_FILE = s.keygen("alice").file;
    expect((await s.run(["init", "--env", "production"])).code).toBe(0);
    await set(s, "stripe_api_key", "sk_live_BASE");
    expect((await s.run(["git", "setup"])).code).toBe(0);
    s.commit("base");
    s.git(["checkout", "-q", "-b", "feature"]);
    await set(s, "zendesk_api_token", "zd_FEATURE");
    s.commit("feature adds zendesk");
    s.git(["checkout", "-q", "main"]);
    await set(s, "hubspot_api_token", "hs_MAIN");
    s.commit("main adds hubspot");
    // TEST-ONLY preload: the driver is killed (SIGKILL, nothing to catch) as it is about to write the merged file
    const preload = join(s.dir, "kill-on-write.cjs");
    writeFileSync(
      preload,
      'const fsp = require("fs").promises;\nconst rename = fsp.rename;\nfsp.rename = async (from, to) => {\n  if (!String(to).includes("stellar-secrets/unresolved")) process.kill(process.pid, "SIGKILL");\n  return rename(from, to);\n};\n',
    );
    let merged = true;
    try {
      s.git(["merge", "feature"], { env: { NODE_OPTIONS: `--require ${preload}` } });
    } catch {
      merged = false;
    }
    expect(merged).toBe(false);
    expect(s.read(PROD)).toBe(s.git(["show", `HEAD:${PROD}`])); // git keeps our side as it was
    s.git(["add", PROD]);
    const refused = tryGit(s, ["commit", "-q", "--no-edit"]);
    expect(refused.ok).toBe(false);
    expect(refused.out).toContain("UNRESOLVED_MERGE");
    expect(refused.out).toContain("the merge driver stopped before it finished");
    expect(refused.out).toContain(`git checkout -m -- ${PROD}`);
    s.git(["checkout", "-m", "--", PROD]);
    s.git(["add", PROD]);
    const done = tryGit(s, ["commit", "-q", "--no-edit"]);
    expect(done.ok, done.out).toBe(true);
    expect((await s.run(["get", "zendesk_api_token", "--env", "production"])).stdout.trim()).toBe("zd_FEATURE");
    expect((await s.run(["get", "hubspot_api_token", "--env", "production"])).stdout.trim()).toBe("hs_MAIN");
  });
});

describe("a sparse checkout without the secrets folder", () => {
  it("the driver and resolve say `git add --sparse FILE` (git refuses a plain `git add` of a path outside the sparse patterns), and that finishes the merge", async () => {
    const s = await conflicting();
    s.write("app/README", "app\n");
    s.commit("app");
    s.git(["sparse-checkout", "set", "--no-cone", "/app/", "/*.yaml", "/.git*"]);
    const merge = tryGit(s, ["merge", "feature"]);
    expect(merge.ok).toBe(false);
    expect(merge.out).toContain(`then: git add --sparse ${PROD}`);
    const r = await s.run(["resolve", "stripe_api_key", "--env", "production", "--theirs"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`git add --sparse ${PROD}`);
    expect(tryGit(s, ["add", PROD]).ok).toBe(false); // what git does with the plain form
    s.git(["add", "--sparse", PROD]);
    const done = tryGit(s, ["commit", "-q", "--no-edit"]);
    expect(done.ok, done.out).toBe(true);
    expect((await s.run(["get", "stripe_api_key", "--env", "production"])).stdout.trim()).toBe("sk_live_FEATURE");
  });
});
