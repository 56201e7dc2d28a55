/**
 * What git's merge machinery does with environment files beyond a plain merge (docs/branches.md,
 * "What git does with our files"), on real git where git itself is the point: a criss-cross merge
 * (two merge bases: git merges them first, into a virtual base, with `merge.stellar.recursive`),
 * and a clone that checks files out with CRLF (`core.autocrlf=true`).
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { decryptSecrets } from "../packages/sops/src/index.js";
import { createSandbox, tryGit, type AgeKey, type Sandbox, sandboxesCleanedAfterEach } from "./helpers/cli.js";

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

/** alice's repository with production, the merge driver set up (no hooks), one commit on main. */
async function project(): Promise<{ s: Sandbox; alice: AgeKey }> {
  const s = createSandbox();
  sandboxes.push(s);
  const alice = s.keygen("alice");
  s.env.SOPS_AGE_KEY_FILE = alice.file;
  expect((await s.run(["init", "--env", "production"])).code).toBe(0);
  await set(s, "stripe_api_key", "sk_BASE");
  const setup = await s.run(["git", "setup", "--no-hook"]);
  expect(setup.code, setup.stderr).toBe(0);
  s.commit("base");
  return { s, alice };
}

async function set(s: Sandbox, name: string, value: string): Promise<void> {
  const r = await s.run(["set", name, "--env", "production", "--from-stdin"], { input: value });
  expect(r.code, r.stderr).toBe(0);
}

async function values(s: Sandbox, key: AgeKey): Promise<Record<string, string>> {
  return Object.fromEntries((await decryptSecrets(s.read(PROD), [key.identity])).values);
}

async function resolve(s: Sandbox, name: string, side: "--ours" | "--theirs"): Promise<string> {
  const r = await s.run(["resolve", name, "--env", "production", side]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout + r.stderr;
}

describe("git's merge machinery and environment files", () => {
  it("a criss-cross merge whose two merge bases set one secret differently stops on it (the virtual base holds neither value), instead of taking one side silently", async () => {
    const { s, alice } = await project();
    expect(s.git(["config", "--local", "merge.stellar.recursive"]).trim()).toBe("stellar-virtual-base");
    s.git(["checkout", "-q", "-b", "a"]);
    await set(s, "stripe_api_key", "sk_A");
    s.commit("a: stripe A");
    s.git(["checkout", "-q", "-b", "b", "main"]);
    await set(s, "stripe_api_key", "sk_B");
    s.commit("b: stripe B");
    // the criss-cross: each branch merges the other's first commit and keeps its own value
    s.git(["checkout", "-q", "a"]);
    expect(tryGit(s, ["merge", "-q", "--no-edit", "b"]).ok).toBe(false);
    await resolve(s, "stripe_api_key", "--ours");
    s.commit("a merges b, keeps A");
    s.git(["checkout", "-q", "b"]);
    expect(tryGit(s, ["merge", "-q", "--no-edit", "a~1"]).ok).toBe(false);
    await resolve(s, "stripe_api_key", "--ours");
    s.commit("b merges a, keeps B");
    s.git(["checkout", "-q", "a"]);
    await set(s, "zendesk_token", "zd_A");
    s.commit("a: zendesk");
    s.git(["checkout", "-q", "b"]);
    await set(s, "twilio_token", "tw_B");
    s.commit("b: twilio");
    expect(s.git(["merge-base", "--all", "a", "b"]).trim().split("\n")).toHaveLength(2);

    const merge = tryGit(s, ["merge", "--no-edit", "a"]);
    expect(merge.ok, merge.out).toBe(false);
    expect(merge.out).toContain("CONFLICT (content): Merge conflict in secrets/production.enc.yaml");
    // the inner merge of the bases reports nothing; the outer one names the secret
    expect(merge.out.match(/changed differently on both sides/g)).toHaveLength(1);
    expect(merge.out).toContain("stripe_api_key  (ours: changed, theirs: changed)");
    expect(await values(s, alice)).toEqual({ stripe_api_key: "sk_B", zendesk_token: "zd_A", twilio_token: "tw_B" });
    const check = await s.run(["check"]);
    expect(check.code).not.toBe(0);
    expect(check.stdout + check.stderr).toContain("error unresolved-merge");
    await resolve(s, "stripe_api_key", "--theirs");
    expect(await values(s, alice)).toEqual({ stripe_api_key: "sk_A", zendesk_token: "zd_A", twilio_token: "tw_B" });
    s.commit("merge a");
    expect((await s.run(["check"])).code).toBe(0);
  });

  it("a criss-cross merge whose merge bases cannot be merged (members changed differently, one with a label that is no key) reports a secret one side removed since, instead of bringing it back", async () => {
    const { s, alice } = await project();
    await set(s, "legacy_token", "lt_LEAKED");
    const bob = s.keygen("bob");
    const carol = s.keygen("carol");
    expect((await s.run(["members", "add", "bob", bob.recipient, "--env", "production"])).code).toBe(0);
    s.commit("bob joins");
    s.git(["checkout", "-q", "-b", "a"]);
    expect((await s.run(["members", "add", "carol", carol.recipient, "--env", "production"])).code).toBe(0);
    commitMislabelled(s, carol.recipient, "a: carol joins");
    s.git(["checkout", "-q", "-b", "b", "main"]);
    expect((await s.run(["members", "rm", "bob", "--env", "production"])).code).toBe(0);
    s.commit("b: bob leaves");
    // the criss-cross: each merge keeps its own file, then settles the members (carol in, bob out) with rotate-key
    const settle = async (message: string): Promise<void> => {
      s.git(["checkout", "-q", "--ours", "--", PROD, ".sops.yaml"]);
      writeFileSync(join(s.repo, "stellar.yaml"), `version: 1\nsecrets_dir: secrets\nenvironments:\n  production:\n    members:\n      alice: ${alice.recipient}\n      carol: ${carol.recipient}\n`);
      const r = await s.run(["rotate-key", "--env", "production"]);
      expect(r.code, r.stderr).toBe(0);
      s.commit(message);
    };
    s.git(["checkout", "-q", "a"]);
    expect(tryGit(s, ["merge", "-q", "--no-edit", "b"]).ok).toBe(false);
    await settle("a merges b");
    s.git(["checkout", "-q", "b"]);
    expect(tryGit(s, ["merge", "-q", "--no-edit", "a~1"]).ok).toBe(false);
    await settle("b merges a");
    // after the criss-cross: a removes the leaked token, b sets another secret
    s.git(["checkout", "-q", "a"]);
    expect((await s.run(["rm", "legacy_token", "--env", "production", "--yes"])).code).toBe(0);
    s.commit("a: remove the leaked token");
    s.git(["checkout", "-q", "b"]);
    await set(s, "twilio_token", "tw_B");
    s.commit("b: twilio");
    s.git(["checkout", "-q", "a"]);
    expect(s.git(["merge-base", "--all", "a", "b"]).trim().split("\n")).toHaveLength(2);

    const merge = tryGit(s, ["merge", "--no-edit", "b"]);
    expect(merge.ok, merge.out).toBe(false);
    expect(merge.out).toContain("the two merge bases of this criss-cross merge could not be merged (MERGE_CONFLICT)");
    expect(merge.out).toContain("legacy_token  (ours: removed, theirs: added)");
    // ours' state: the token stays removed until resolve says otherwise
    expect(await values(s, alice)).not.toHaveProperty("legacy_token");
    const check = await s.run(["check"]);
    expect(check.stdout + check.stderr).toContain("error unresolved-merge");
    await resolve(s, "legacy_token", "--ours");
    await resolve(s, "twilio_token", "--theirs");
    expect(await values(s, alice)).toEqual({ stripe_api_key: "sk_BASE", twilio_token: "tw_B" });
  });

  it("git merge --squash (no MERGE_HEAD): a conflicting secret is recorded, and resolve --theirs takes the squashed tip's value", async () => {
    const { s, alice } = await project();
    s.git(["checkout", "-q", "-b", "feature"]);
    await set(s, "stripe_api_key", "sk_FEATURE");
    await set(s, "zendesk_token", "zd_FEATURE");
    s.commit("feature");
    s.git(["checkout", "-q", "main"]);
    await set(s, "stripe_api_key", "sk_MAIN");
    s.commit("main");
    expect(tryGit(s, ["merge", "--squash", "feature"]).ok).toBe(false);
    const check = await s.run(["check"]);
    expect(check.stdout + check.stderr).toContain("error unresolved-merge");
    expect(await resolve(s, "stripe_api_key", "--theirs")).toContain("from theirs (SQUASH_MSG");
    expect(await values(s, alice)).toEqual({ stripe_api_key: "sk_FEATURE", zendesk_token: "zd_FEATURE" });
    expect((await s.run(["check"])).code).toBe(0);
  });

  it("a SQUASH_MSG left from an abandoned git merge --squash is not the other side of a later conflict (git stash pop): resolve --theirs takes the stash's side from the index, never the squashed branch's", async () => {
    const { s, alice } = await project();
    // a change stashed for later
    await set(s, "stripe_api_key", "sk_LOCAL");
    s.git(["stash", "-q"]);
    await set(s, "stripe_api_key", "sk_OTHER");
    s.commit("other");
    s.git(["checkout", "-q", "-b", "feature"]);
    await set(s, "stripe_api_key", "sk_FEATURE");
    s.commit("feature");
    s.git(["checkout", "-q", "main"]);
    // a squash begun and abandoned by restoring the files: git leaves SQUASH_MSG behind (stash pop keeps it)
    s.git(["merge", "--squash", "feature"]);
    s.git(["restore", "--staged", "--worktree", "."]);
    expect(tryGit(s, ["stash", "pop"]).ok).toBe(false);
    expect(await values(s, alice)).toEqual({ stripe_api_key: "sk_OTHER" });
    // (before the index's stage 3 was read, --theirs refused here: there was no other side to take)
    const r = await s.run(["resolve", "stripe_api_key", "--env", "production", "--theirs"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("from theirs (the index's stage 3)");
    expect(await values(s, alice)).toEqual({ stripe_api_key: "sk_LOCAL" });
    // the whole file too: the stash's version, not the squashed branch's
    const whole = await s.run(["resolve", "--env", "production", "--theirs"]);
    expect(whole.code, whole.stdout + whole.stderr).toBe(0);
    expect(whole.stdout).toContain("the index's stage 3");
    expect(s.read(PROD)).toBe(s.git(["show", `stash@{0}:${PROD}`]));
    expect(await values(s, alice)).toEqual({ stripe_api_key: "sk_LOCAL" });
  });

  it("on a clone with core.autocrlf=true (the merged file checked out with CRLF), an unresolved secret is still reported and resolved", async () => {
    const { s, alice } = await project();
    s.git(["config", "core.autocrlf", "true"]);
    s.git(["checkout", "-q", "-b", "feature"]);
    await set(s, "stripe_api_key", "sk_FEATURE");
    s.commit("feature");
    s.git(["checkout", "-q", "main"]);
    await set(s, "stripe_api_key", "sk_MAIN");
    s.commit("main");
    // as a clone made with autocrlf has it: git writes the merged file with CRLF when ours was checked out so
    rmSync(join(s.repo, PROD));
    s.git(["checkout", "--", PROD]);
    expect(tryGit(s, ["merge", "-q", "--no-edit", "feature"]).ok).toBe(false);
    expect(s.read(PROD)).toContain("\r\n");
    const check = await s.run(["check"]);
    expect(check.code).not.toBe(0);
    expect(check.stdout + check.stderr).toContain("error unresolved-merge");
    const resolved = await resolve(s, "stripe_api_key", "--theirs");
    expect(resolved).not.toContain("was not reported");
    expect(await values(s, alice)).toEqual({ stripe_api_key: "sk_FEATURE" });
    expect((await s.run(["check"])).code).toBe(0);
  });
});
