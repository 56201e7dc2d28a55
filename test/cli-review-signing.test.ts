/**
 * `review` verifies the signatures of the commits of a range that change an environment, as a
 * process on a real repository with real git ssh signing and real ssh-keygen keys (TEST-ONLY,
 * made per run): a member's signed change is clean; an unsigned change of an environment whose
 * members all have ssh keys fails (unsigned-change, exit 1); where some members cannot sign it
 * is a warning (exit 0); a key that a commit adds as a member (in the head) signs nothing; a
 * commit that changes only config files is not checked. What each finding says is tested in
 * memory in packages/core/src/review/signatures.test.ts.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { createSandbox, type Sandbox, HAS_SSH_KEYGEN, sandboxesCleanedAfterEach } from "./helpers/cli.js";

vi.setConfig({ testTimeout: 180_000 });

const sandboxes = sandboxesCleanedAfterEach();

interface SshKey {
  file: string;
  pub: string;
}

function sshKey(s: Sandbox, name: string): SshKey {
  const dir = join(s.dir, "ssh");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `${name}@test-only`, "-f", file], { stdio: "ignore" });
  return { file, pub: readFileSync(`${file}.pub`, "utf8").trim() };
}

/** `git add -A && git commit`, signed with `key` when given; the new commit id. */
function commit(s: Sandbox, message: string, key?: SshKey): string {
  s.git(["add", "-A"]);
  const sign = key === undefined ? [] : ["-c", "gpg.format=ssh", "-c", `user.signingkey=${key.file}`];
  s.git([...sign, "commit", "-q", ...(key === undefined ? [] : ["-S"]), "-m", message]);
  return s.git(["rev-parse", "HEAD"]).trim();
}

interface Finding {
  kind: string;
  environment?: string;
  file?: string;
  commit?: string;
  message: string;
}
interface Report {
  problems: Finding[];
  warnings: Finding[];
  signatures: { checked: boolean; commits: { commit: string; status: string; signer?: string; environments: string[]; unsignedFor: string[] }[]; unverifiable: string[] };
  summary: Record<string, number>;
  clean: boolean;
}

describe.skipIf(!HAS_SSH_KEYGEN)("review: signatures of the commits that change an environment", () => {
  it("checks them against the base's members: signed clean, unsigned an error or a warning, a self-added key no signer, config files unchecked", async () => {
    const s = createSandbox();
    sandboxes.push(s);
    const alice = s.keygen("alice");
    const bob = sshKey(s, "bob");
    const carol = sshKey(s, "carol");
    const mallory = sshKey(s, "mallory");
    s.env.SOPS_AGE_KEY_FILE = alice.file;
    s.env.SOPS_AGE_SSH_PRIVATE_KEY_FILE = bob.file;
    const ok = async (args: string[], input?: string): Promise<void> => {
      const r = await s.run(args, input === undefined ? {} : { input });
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
    };
    // production: bob and carol (ssh: every member can sign); staging: alice (age) and bob (ssh)
    await ok(["init", "--env", "production,staging"]);
    await ok(["members", "add", "bob", bob.pub, "--env", "production,staging"]);
    await ok(["members", "add", "carol", carol.pub, "--env", "production"]);
    await ok(["members", "rm", "alice", "--env", "production"]);
    await ok(["set", "stripe_api_key", "--env", "production", "--from-stdin"], "sk_live_prod_1");
    await ok(["set", "stripe_api_key", "--env", "staging", "--from-stdin"], "sk_test_stag_1");
    s.write("connectors/stripe.yaml", "kind: auth_connector\nname: stripe\ntype: bearer_token\ntoken: { secret: stripe_api_key }\n");
    const base = commit(s, "base");
    // a signing user's log.showSignature must not change what review reads from git log
    s.git(["config", "log.showSignature", "true"]);

    const review = async (range: string, format = "json"): Promise<{ code: number; report: Report; stdout: string }> => {
      const r = await s.run(["review", range, "--format", format], { env: { SOPS_AGE_KEY_FILE: undefined, SOPS_AGE_SSH_PRIVATE_KEY_FILE: undefined } });
      expect(r.stdout).not.toContain("sk_live_prod");
      expect(r.stdout).not.toContain("PRIVATE KEY");
      return { code: r.code, report: (format === "json" ? JSON.parse(r.stdout) : undefined) as Report, stdout: r.stdout };
    };

    // bob signs a change of production; then a change of config files only, unsigned
    await ok(["set", "stripe_api_key", "--env", "production", "--from-stdin"], "sk_live_prod_2");
    const signed = commit(s, "bob rotates stripe", bob);
    s.write("connectors/stripe.yaml", "kind: auth_connector\nname: stripe\ntype: bearer_token\ntoken: { secret: stripe_api_key }\n# config only\n");
    const configOnly = commit(s, "config only");
    const clean = await review(`${base}..${configOnly}`);
    expect(clean.code, JSON.stringify(clean.report.problems)).toBe(0);
    expect(clean.report.signatures.commits).toEqual([{ commit: signed, status: "good", signer: "bob", key: expect.stringMatching(/^SHA256:/), environments: ["production"], unsignedFor: [] }]);
    expect(clean.report.problems).toEqual([]);
    expect(clean.report.warnings).toEqual([]);

    // an unsigned change of production, whose members all have ssh keys: an error
    await ok(["set", "stripe_api_key", "--env", "production", "--from-stdin"], "sk_live_prod_3");
    const unsigned = commit(s, "unsigned production change");
    const failed = await review(`${configOnly}..${unsigned}`);
    expect(failed.code).toBe(1);
    expect(failed.report.problems.map((p) => [p.kind, p.environment, p.file, p.commit])).toEqual([["unsigned-change", "production", "secrets/production.enc.yaml", unsigned]]);
    expect(failed.report.signatures.commits.map((c) => [c.commit, c.status, c.unsignedFor])).toEqual([[unsigned, "unsigned", ["production"]]]);
    const text = await review(`${configOnly}..${unsigned}`, "text");
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`✗ ${unsigned.slice(0, 10)} not signed: changes production`);
    expect(text.stdout).toContain("git commit --amend --no-edit -S");

    // an unsigned change of staging, where alice (age) cannot sign: a warning, exit 0 (also in SARIF)
    await ok(["set", "stripe_api_key", "--env", "staging", "--from-stdin"], "sk_test_stag_2");
    const stagingChange = commit(s, "unsigned staging change");
    const warned = await review(`${unsigned}..${stagingChange}`);
    expect(warned.code).toBe(0);
    expect(warned.report.problems).toEqual([]);
    expect(warned.report.warnings.map((w) => [w.kind, w.environment, w.commit])).toEqual([["unsigned-change", "staging", stagingChange]]);
    const sarif = JSON.parse((await review(`${unsigned}..${stagingChange}`, "sarif")).stdout) as { runs: { results: { ruleId: string; level: string }[] }[] };
    expect(sarif.runs[0]?.results.map((r) => [r.ruleId, r.level])).toEqual([["unsigned-change", "warning"]]);

    // mallory adds herself to production and signs with the key she added: the base does not know it
    await ok(["members", "add", "mallory", mallory.pub, "--env", "production"]);
    const selfAdded = commit(s, "mallory joins production", mallory);
    expect(s.git(["show", `${selfAdded}:stellar.yaml`])).toContain("mallory");
    const refused = await review(`${stagingChange}..${selfAdded}`);
    expect(refused.code).toBe(1);
    expect(refused.report.signatures.commits.map((c) => [c.commit, c.status, c.environments, c.unsignedFor])).toEqual([[selfAdded, "unknown-signer", ["production"], ["production"]]]);
    expect(refused.report.problems.map((p) => [p.kind, p.environment, p.commit])).toEqual([["unsigned-change", "production", selfAdded]]);

    // the working tree has no commits to verify
    const tree = await s.run(["review", "--json"], { env: { SOPS_AGE_KEY_FILE: undefined } });
    expect((JSON.parse(tree.stdout) as Report).signatures).toEqual({ checked: false, commits: [], unverifiable: [] });
  });

  it("flags an unsigned merge that brings back an environment file from a commit of the base's own history", async () => {
    const s = createSandbox();
    sandboxes.push(s);
    const alice = s.keygen("alice");
    const bob = sshKey(s, "bob");
    s.env.SOPS_AGE_KEY_FILE = alice.file;
    s.env.SOPS_AGE_SSH_PRIVATE_KEY_FILE = bob.file;
    const ok = async (args: string[], input?: string): Promise<void> => {
      const r = await s.run(args, input === undefined ? {} : { input });
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
    };
    await ok(["init", "--env", "production"]);
    await ok(["members", "add", "bob", bob.pub, "--env", "production"]);
    await ok(["members", "rm", "alice", "--env", "production"]);
    await ok(["set", "stripe_api_key", "--env", "production", "--from-stdin"], "sk_live_prod_old");
    const old = commit(s, "the old value", bob);
    await ok(["set", "stripe_api_key", "--env", "production", "--from-stdin"], "sk_live_prod_new");
    const main = commit(s, "bob changes the value", bob);
    // no key, no signature: a merge commit made by hand whose second parent is the old commit, with its file
    s.git(["checkout", "-q", old, "--", "secrets/production.enc.yaml"]);
    s.git(["add", "-A"]);
    const tree = s.git(["write-tree"]).trim();
    const merge = s.git(["commit-tree", tree, "-p", main, "-p", old, "-m", "merge"]).trim();
    s.git(["reset", "-q", "--hard", merge]);
    const r = await s.run(["review", `${main}..${merge}`, "--json"], { env: { SOPS_AGE_KEY_FILE: undefined, SOPS_AGE_SSH_PRIVATE_KEY_FILE: undefined } });
    expect(r.stdout).not.toContain("sk_live_prod");
    const report = JSON.parse(r.stdout) as Report;
    expect(r.code, JSON.stringify(report.problems)).toBe(1);
    expect(report.problems.map((p) => [p.kind, p.environment, p.commit])).toEqual([["unsigned-change", "production", merge]]);
    // a merge that brings what the base already has is no change
    s.git(["reset", "-q", "--hard", main]);
    const same = s.git(["commit-tree", s.git(["write-tree"]).trim(), "-p", main, "-p", old, "-m", "merge keeping main"]).trim();
    const clean = await s.run(["review", `${main}..${same}`, "--json"], { env: { SOPS_AGE_KEY_FILE: undefined, SOPS_AGE_SSH_PRIVATE_KEY_FILE: undefined } });
    expect(clean.code, clean.stdout).toBe(0);
  });

  it("BASE...HEAD: a branch forked before carol's removal, signed by carol, is unsigned-change (she is no member at main's tip); the same change signed by bob is clean", async () => {
    const s = createSandbox();
    sandboxes.push(s);
    const bob = sshKey(s, "bob");
    const carol = sshKey(s, "carol");
    const alice = s.keygen("alice");
    s.env.SOPS_AGE_KEY_FILE = alice.file;
    s.env.SOPS_AGE_SSH_PRIVATE_KEY_FILE = bob.file;
    const ok = async (args: string[], input?: string, env?: Record<string, string | undefined>): Promise<void> => {
      const r = await s.run(args, { ...(input === undefined ? {} : { input }), ...(env === undefined ? {} : { env }) });
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
    };
    await ok(["init", "--env", "production"]);
    await ok(["members", "add", "bob", bob.pub, "--env", "production"]);
    await ok(["members", "add", "carol", carol.pub, "--env", "production"]);
    await ok(["members", "rm", "alice", "--env", "production"]);
    await ok(["set", "stripe_api_key", "--env", "production", "--from-stdin"], "sk_live_prod_1");
    commit(s, "base", bob);
    s.git(["branch", "-M", "main"]);
    // carol's branch, cut while she is a member: a value of her choosing, signed by her
    s.git(["checkout", "-q", "-b", "carol-branch"]);
    await ok(["set", "stripe_api_key", "--env", "production", "--from-stdin"], "sk_live_carols", { SOPS_AGE_SSH_PRIVATE_KEY_FILE: carol.file });
    const carols = commit(s, "update stripe key", carol);
    // main removes carol (rotating the data key)
    s.git(["checkout", "-q", "main"]);
    await ok(["members", "rm", "carol", "--env", "production"]);
    commit(s, "carol out", bob);
    const r = await s.run(["review", "main...carol-branch", "--json"], { env: { SOPS_AGE_KEY_FILE: undefined, SOPS_AGE_SSH_PRIVATE_KEY_FILE: undefined } });
    expect(r.code, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.problems.map((p) => [p.kind, p.environment, p.commit])).toEqual([["unsigned-change", "production", carols]]);
    expect(report.problems[0]!.message).toContain("is signed by carol, a member of production at the merge base");
    expect(report.problems[0]!.message).toContain("but main (");
    const text = await s.run(["review", "main...carol-branch"], { env: { SOPS_AGE_KEY_FILE: undefined, SOPS_AGE_SSH_PRIVATE_KEY_FILE: undefined } });
    expect(text.stdout).toContain("Signatures (judged against the members of merge-base of main and carol-branch who are still members at main):");
    // against the merge base itself (BASE..HEAD), carol was a member: signed by a member
    const mergeBase = s.git(["merge-base", "main", "carol-branch"]).trim();
    const plain = await s.run(["review", `${mergeBase}..carol-branch`, "--json"], { env: { SOPS_AGE_KEY_FILE: undefined, SOPS_AGE_SSH_PRIVATE_KEY_FILE: undefined } });
    expect((JSON.parse(plain.stdout) as Report).problems).toEqual([]);
    // bob's branch from the same commit: still a member at main's tip
    s.git(["checkout", "-q", "-b", "bob-branch", mergeBase]);
    await ok(["set", "stripe_api_key", "--env", "production", "--from-stdin"], "sk_live_bobs");
    commit(s, "update stripe key", bob);
    const byBob = await s.run(["review", "main...bob-branch", "--json"], { env: { SOPS_AGE_KEY_FILE: undefined, SOPS_AGE_SSH_PRIVATE_KEY_FILE: undefined } });
    expect((JSON.parse(byBob.stdout) as Report).problems, byBob.stderr).toEqual([]);
  });
});
