/**
 * Working in branches (issue 10) on real git repositories: `git setup` configures the merge
 * driver, and git merge / rebase / cherry-pick of environment files go through `merge-file`.
 * sops-age is the independent reader of the results; the project's reader verifies the MAC.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { decryptSops } from "sops-age";
import { describe, expect, it, vi } from "vitest";
import { decryptSecrets, reencryptSecrets } from "../packages/sops/src/index.js";
import { createSandbox, tryGit, unwrapWith, type AgeKey, type Sandbox, sandboxesCleanedAfterEach } from "./helpers/cli.js";

vi.setConfig({ testTimeout: 180_000 });

const sandboxes = sandboxesCleanedAfterEach();

const PROD = "secrets/production.enc.yaml";

/** alice's repository with production (alice, bob), the merge driver set up, one commit on main. */
async function project(): Promise<{ s: Sandbox; alice: AgeKey; bob: AgeKey }> {
  const s = createSandbox();
  sandboxes.push(s);
  const alice = s.keygen("alice");
  const bob = s.keygen("bob");
  s.env.SOPS_AGE_KEY_FILE = alice.file;
  expect((await s.run(["init", "--env", "production"])).code).toBe(0);
  expect((await s.run(["members", "add", "bob", bob.recipient, "--env", "production"])).code).toBe(0);
  await set(s, "stripe_api_key", "sk_live_BASE");
  await set(s, "hubspot_api_token", "hs_BASE");
  const setup = await s.run(["git", "setup", "--no-hook"]);
  expect(setup.code, setup.stderr).toBe(0);
  s.commit("base");
  return { s, alice, bob };
}

async function set(s: Sandbox, name: string, value: string, env = "production"): Promise<void> {
  const r = await s.run(["set", name, "--env", env, "--from-stdin"], { input: value });
  expect(r.code, r.stderr).toBe(0);
}

/** Values of the production file as our own verifying reader and as sops-age read them, with `key`. */
async function readBoth(s: Sandbox, key: AgeKey): Promise<Record<string, string>> {
  const text = s.read(PROD);
  const ours = Object.fromEntries((await decryptSecrets(text, [key.identity])).values);
  const independent = (await decryptSops(text, { secretKey: key.identity, fileType: "yaml" })) as Record<string, unknown>;
  const { sops: _meta, ...values } = independent;
  expect(values).toEqual(ours);
  return ours;
}

/** The stored line of `name` in an environment file's text (its exact ENC string). */
function entryLine(text: string, name: string): string | undefined {
  return text.split("\n").find((l) => l.startsWith(`${name}:`));
}

describe("git setup", () => {
  it("writes .gitattributes and repo-local config idempotently; --check reports and exits 1 when something is missing", async () => {
    const s = createSandbox();
    sandboxes.push(s);
    const alice = s.keygen("alice");
    s.env.SOPS_AGE_KEY_FILE = alice.file;
    expect((await s.run(["init", "--env", "production", "--secrets-dir", "vault"])).code).toBe(0);
    const before = await s.run(["git", "setup", "--check", "--json"]);
    expect(before.code).toBe(1);
    expect(JSON.parse(before.stdout).items.map((i: { state: string }) => i.state)).toEqual(["missing", "missing", "missing", "missing", "missing", "missing", "missing", "missing", "missing"]);
    const first = await s.run(["git", "setup"]);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const attributes = s.read(".gitattributes");
    expect(attributes).toBe("vault/*.enc.yaml diff=stellar merge=stellar\n.sops.yaml merge=stellar\nstellar.yaml merge=stellar\n");
    expect((await s.run(["git", "setup"])).code).toBe(0);
    expect(s.read(".gitattributes")).toBe(attributes);
    const driver = s.git(["config", "--local", "merge.stellar.driver"]).trim();
    expect(driver).toMatch(/stellar-secrets\.js merge-file %O %A %B %P$/);
    expect(s.git(["config", "--local", "diff.stellar.textconv"]).trim()).toMatch(/stellar-secrets\.js textconv$/);
    const hook = s.read(".git/hooks/pre-commit");
    expect(hook).toMatch(/stellar-secrets\.js pre-commit "\$@"\n$/);
    expect(s.read(".git/hooks/pre-merge-commit")).toMatch(/\nSTELLAR_SECRETS_HOOK=pre-merge-commit\nexport STELLAR_SECRETS_HOOK\n.*\nstellar_secrets .*stellar-secrets\.js pre-commit "\$@"\n$/);
    const check = await s.run(["git", "setup", "--check", "--json"]);
    expect(check.code).toBe(0);
    expect(JSON.parse(check.stdout).complete).toBe(true);
    // the driver works from any folder of the repository: git check-attr sees it from a subfolder
    expect(s.git(["-C", "vault", "check-attr", "merge", "production.enc.yaml"])).toContain("merge: stellar");
  });

  it("never replaces a pre-commit hook it did not write (exit 1, hook unchanged); --no-hook skips it", async () => {
    const s = createSandbox();
    sandboxes.push(s);
    s.env.SOPS_AGE_KEY_FILE = s.keygen("alice").file;
    expect((await s.run(["init", "--env", "production"])).code).toBe(0);
    const foreign = "#!/bin/sh\necho mine\n";
    writeFileSync(join(s.repo, ".git/hooks/pre-commit"), foreign);
    chmodSync(join(s.repo, ".git/hooks/pre-commit"), 0o755);
    const r = await s.run(["git", "setup"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("refused");
    expect(r.stdout).toContain("pre-commit || exit 1");
    expect(s.read(".git/hooks/pre-commit")).toBe(foreign);
    expect((await s.run(["git", "setup", "--no-hook"])).code).toBe(0);
    expect((await s.run(["git", "setup", "--check", "--no-hook"])).code).toBe(0);
  });
});

describe("git setup in a linked work tree", () => {
  it("writes the hooks into an absolute core.hooksPath inside the main work tree (this repository's own folder, not another repository's)", async () => {
    const s = createSandbox();
    sandboxes.push(s);
    s.env.SOPS_AGE_KEY_FILE = s.keygen("alice").file;
    expect((await s.run(["init", "--env", "production"])).code).toBe(0);
    s.commit("base");
    const linked = join(s.dir, "linked");
    s.git(["worktree", "add", "-q", "-b", "side", linked]);
    const hooks = join(s.repo, ".githooks");
    s.git(["config", "core.hooksPath", hooks]);
    const r = await s.run(["git", "setup", "--json"], { cwd: linked });
    expect(r.code, r.stdout).toBe(0);
    expect(readFileSync(join(hooks, "pre-commit"), "utf8")).toContain("stellar-secrets pre-commit hook");
    // a folder outside both work trees is still refused
    s.git(["config", "core.hooksPath", join(s.home, "elsewhere")]);
    const outside = await s.run(["git", "setup", "--json"], { cwd: linked });
    expect(outside.code).toBe(1);
    expect((JSON.parse(outside.stdout).items as { id: string; state: string }[]).find((i) => i.id === "pre-commit-hook")?.state).toBe("refused");
  });
});

describe("core.hooksPath set globally after git setup (husky-style)", () => {
  it("--check reports the hooks missing, says why (git runs the global folder's hooks, not the ones setup wrote) and a plaintext commit goes through: what CI's check catches instead", async () => {
    const s = createSandbox();
    sandboxes.push(s);
    s.env.SOPS_AGE_KEY_FILE = s.keygen("alice").file;
    expect((await s.run(["init", "--env", "production"])).code).toBe(0);
    expect((await s.run(["git", "setup"])).code).toBe(0);
    s.commit("base");
    const shared = join(s.home, "githooks");
    s.git(["config", "--global", "core.hooksPath", shared]);
    const check = await s.run(["git", "setup", "--check", "--json"]);
    expect(check.code).toBe(1);
    const hook = (JSON.parse(check.stdout).items as { id: string; state: string; reason?: string }[]).find((i) => i.id === "pre-commit-hook");
    expect(hook?.state).toBe("missing");
    expect(hook?.reason).toContain("does not run while core.hooksPath points elsewhere");
    // the hook setup wrote is there and never runs: git commits a plaintext value
    s.write("secrets/staging.enc.yaml", "stripe_api_key: sk_live_PLAINTEXT_TEST_ONLY\n");
    expect(tryGit(s, ["add", "-A"]).ok).toBe(true);
    expect(tryGit(s, ["commit", "-q", "-m", "plaintext"]).ok).toBe(true);
    // what catches it then: check (CI runs it on every push)
    const ci = await s.run(["check"]);
    expect(ci.code).toBe(1);
    expect(ci.stdout).toContain("unencrypted-secrets-file");
  });
});

describe("git mergetool after a conflict the driver reported", () => {
  it("leaves no FILE.orig copy of the environment file (setup sets mergetool.keepBackup=false locally); a tool that takes $REMOTE keeps their whole file", async () => {
    const { s, alice } = await project();
    expect(s.git(["config", "--local", "mergetool.keepBackup"]).trim()).toBe("false");
    s.git(["checkout", "-q", "-b", "feature"]);
    await set(s, "stripe_api_key", "sk_live_FEATURE");
    s.commit("feature changes stripe");
    const feature = s.read(PROD);
    s.git(["checkout", "-q", "main"]);
    await set(s, "stripe_api_key", "sk_live_MAIN");
    s.commit("main changes stripe");
    expect(tryGit(s, ["merge", "--no-edit", "feature"]).ok).toBe(false);
    // a non-interactive tool: their version (what a person picking "remote" in a GUI tool does)
    s.git(["config", "mergetool.take-remote.cmd", 'cat "$REMOTE" > "$MERGED"']);
    s.git(["config", "mergetool.take-remote.trustExitCode", "true"]);
    const tool = tryGit(s, ["mergetool", "--tool=take-remote", "--no-prompt"]);
    expect(tool.ok, tool.out).toBe(true);
    expect(s.read(PROD)).toBe(feature);
    // before: secrets/production.enc.yaml.orig, an encrypted copy no check reads, committed by `git add -A`
    expect(readdirSync(join(s.repo, "secrets")).filter((f) => f.startsWith("production")).sort()).toEqual(["production.enc.yaml"]);
    expect((await readBoth(s, alice)).stripe_api_key).toBe("sk_live_FEATURE");
    expect((await s.run(["git", "setup", "--check", "--json", "--no-hook"])).code).toBe(0);
    // a clone set up before the item existed: --check names it
    s.git(["config", "--local", "--unset", "mergetool.keepBackup"]);
    const check = await s.run(["git", "setup", "--check", "--json", "--no-hook"]);
    expect(check.code).toBe(1);
    expect((JSON.parse(check.stdout).items as { id: string; state: string }[]).filter((i) => i.state === "missing").map((i) => i.id)).toEqual(["mergetool-backup"]);
  });
});

describe("a shallow clone (CI's default checkout)", () => {
  it("merging a branch whose merge base was not fetched (git merge --allow-unrelated-histories): the driver says it merged without a base, that a one-sided change is a conflict and a removed name comes back; a full clone says nothing of it", async () => {
    const { s } = await project();
    s.git(["checkout", "-q", "-b", "feature"]);
    await set(s, "zendesk_api_token", "zd_FEATURE");
    s.commit("feature adds zendesk");
    s.git(["checkout", "-q", "main"]);
    expect((await s.run(["rm", "hubspot_api_token", "--env", "production", "--yes"])).code).toBe(0);
    s.commit("main removes hubspot");
    const clone = join(s.dir, "shallow");
    s.git(["clone", "-q", "--depth", "1", "--no-single-branch", `file://${s.repo}`, clone]);
    const inClone = (args: string[]): { ok: boolean; out: string } => {
      const r = spawnSync("git", args, { cwd: clone, env: s.env, encoding: "utf8" });
      return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
    };
    expect((await s.run(["git", "setup", "--no-hook"], { cwd: clone })).code).toBe(0);
    // git itself refuses first: the merge base is not in the clone
    expect(inClone(["merge", "--no-edit", "origin/feature"]).out).toContain("refusing to merge unrelated histories");
    const forced = inClone(["merge", "--no-edit", "--allow-unrelated-histories", "origin/feature"]);
    // (a clean merge to git: nothing else would have said anything)
    expect(forced.ok, forced.out).toBe(true);
    expect(forced.out).toContain("this is a shallow clone and git merged without a merge base");
    expect(forced.out).toContain("a name one side removed comes back from the other");
    expect(forced.out).toContain("`git fetch --unshallow`");
    // what it warns of: hubspot (removed on main) is back from feature's side
    expect(readFileSync(join(clone, PROD), "utf8")).toMatch(/^hubspot_api_token:/m);
    // the full history: the removal holds, and no such note
    const full = tryGit(s, ["merge", "--no-edit", "feature"]);
    expect(full.ok, full.out).toBe(true);
    expect(full.out).not.toContain("shallow");
    expect(s.read(PROD)).not.toMatch(/^hubspot_api_token:/m);
  });
});

describe("git setup with a shared hooks folder", () => {
  it("never writes its hooks into a core.hooksPath outside the repository (the global config's): they would refuse commits in every other repository", async () => {
    const s = createSandbox();
    sandboxes.push(s);
    s.env.SOPS_AGE_KEY_FILE = s.keygen("alice").file;
    expect((await s.run(["init", "--env", "production"])).code).toBe(0);
    const shared = join(s.home, "githooks");
    s.git(["config", "--global", "core.hooksPath", shared]);
    const r = await s.run(["git", "setup", "--json"]);
    expect(r.code).toBe(1);
    const items = JSON.parse(r.stdout).items as { id: string; state: string; reason?: string }[];
    expect(items.filter((i) => i.id.endsWith("-hook")).map((i) => i.state)).toEqual(["refused", "refused", "refused"]);
    expect(items.find((i) => i.id === "pre-commit-hook")?.reason).toContain("outside this repository");
    expect(existsSync(join(shared, "pre-commit"))).toBe(false);
    expect(existsSync(join(shared, "pre-merge-commit"))).toBe(false);
    // --check says the same: setup cannot write them, so "run git setup" alone would not help
    const check = await s.run(["git", "setup", "--check", "--json"]);
    expect(check.code).toBe(1);
    const checked = JSON.parse(check.stdout).items as { id: string; state: string; reason?: string }[];
    expect(checked.filter((i) => i.id.endsWith("-hook")).map((i) => [i.state, /outside this repository \(core\.hooksPath/.test(i.reason ?? "")])).toEqual([
      ["missing", true],
      ["missing", true],
      ["missing", true],
    ]);
    expect(checked.find((i) => i.id === "attributes")?.reason).toBeUndefined();
    expect((await s.run(["git", "setup", "--check"])).stderr).toContain("setup cannot write what a reason is given for");
    // the way out it names: this repository's own hooks folder
    s.git(["config", "--local", "core.hooksPath", ".git/hooks"]);
    expect((await s.run(["git", "setup"])).code).toBe(0);
    expect(s.read(".git/hooks/pre-commit")).toContain("pre-commit");
  });
});

describe("git merge through the driver", () => {
  it("merges additions on two branches with no conflict; the result decrypts with every member's key (sops-age agrees) and keeps untouched ciphertext", async () => {
    const { s, alice, bob } = await project();
    s.git(["checkout", "-q", "-b", "feature"]);
    await set(s, "zendesk_api_token", "zd_FEATURE");
    s.commit("feature adds zendesk");
    s.git(["checkout", "-q", "main"]);
    await set(s, "twilio_auth_token", "tw_MAIN");
    s.commit("main adds twilio");
    const mainText = s.read(PROD);
    const merge = tryGit(s, ["merge", "--no-edit", "feature"]);
    expect(merge.ok, merge.out).toBe(true);
    const expected = { stripe_api_key: "sk_live_BASE", hubspot_api_token: "hs_BASE", twilio_auth_token: "tw_MAIN", zendesk_api_token: "zd_FEATURE" };
    expect(await readBoth(s, alice)).toEqual(expected);
    expect(await readBoth(s, bob)).toEqual(expected);
    const line = (text: string, name: string) => text.split("\n").find((l) => l.startsWith(`${name}:`));
    expect(line(s.read(PROD), "stripe_api_key")).toBe(line(mainText, "stripe_api_key"));
    expect(s.read(PROD)).not.toContain(["<<<", "<<<<"].join(""));
    const check = await s.run(["check", "--json"]);
    expect(JSON.parse(check.stdout).diagnostics.filter((d: { rule: string }) => d.rule === "stale-mac")).toEqual([]);
  });

  it("reports the same name changed on both sides (exit of git: conflict), leaves a valid file, and resolve --theirs finishes it", async () => {
    const { s, alice } = await project();
    s.git(["checkout", "-q", "-b", "feature"]);
    await set(s, "stripe_api_key", "sk_live_FEATURE");
    await set(s, "zendesk_api_token", "zd_FEATURE");
    s.commit("feature changes stripe");
    s.git(["checkout", "-q", "main"]);
    await set(s, "stripe_api_key", "sk_live_MAIN");
    s.commit("main changes stripe");
    const merge = tryGit(s, ["merge", "--no-edit", "feature"]);
    expect(merge.ok).toBe(false);
    expect(merge.out).toContain("stellar-secrets resolve stripe_api_key --env production --ours|--theirs|--from-stdin");
    expect(merge.out).not.toContain("sk_live_");
    // a valid file: ours' value for the conflicting name, theirs' addition merged
    expect(await readBoth(s, alice)).toMatchObject({ stripe_api_key: "sk_live_MAIN", zendesk_api_token: "zd_FEATURE" });
    const fresh = await s.run(["resolve", "stripe_api_key", "--env", "production", "--from-stdin"], { input: "sk_live_NEW\n" });
    expect(fresh.code, fresh.stderr).toBe(0);
    expect((await readBoth(s, alice)).stripe_api_key).toBe("sk_live_NEW");
    const ours = await s.run(["resolve", "stripe_api_key", "--env", "production", "--ours"]);
    expect(ours.code, ours.stderr).toBe(0);
    expect((await readBoth(s, alice)).stripe_api_key).toBe("sk_live_MAIN");
    // the chosen side's exact ciphertext (same data key): the merge shows no change of the name against that side
    expect(entryLine(s.read(PROD), "stripe_api_key")).toBe(entryLine(s.git(["show", `HEAD:${PROD}`]), "stripe_api_key"));
    expect((await s.run(["resolve", "stripe_api_key", "--env", "production", "--ours", "--theirs"])).code).toBe(2);
    const r = await s.run(["resolve", "stripe_api_key", "--env", "production", "--theirs"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("MERGE_HEAD");
    expect(r.stdout + fresh.stdout + ours.stdout).not.toContain("sk_live_");
    expect((await readBoth(s, alice)).stripe_api_key).toBe("sk_live_FEATURE");
    expect(entryLine(s.read(PROD), "stripe_api_key")).toBe(entryLine(s.git(["show", `feature:${PROD}`]), "stripe_api_key"));
    expect((await readBoth(s, alice)).zendesk_api_token).toBe("zd_FEATURE");
    s.commit("merge feature (by hand)");
    expect(s.git(["rev-list", "--parents", "-n", "1", "HEAD"]).trim().split(" ")).toHaveLength(3);
    expect(s.git(["log", "-1", "--format=%P"]).trim().split(" ")).toHaveLength(2);
  });

  it("resolve writes a side's text byte for byte when the resolved file is that side in meaning (no new lastmodified): git log -- FILE then follows that side alone, whatever the second", async () => {
    const { s, alice } = await project();
    s.git(["checkout", "-q", "-b", "feature"]);
    await set(s, "stripe_api_key", "sk_live_FEATURE");
    // feature's version written in another second than resolve's (2025): a re-encryption would differ from it
    const feature = await decryptSecrets(s.read(PROD), [alice.identity]);
    s.write(PROD, await reencryptSecrets(feature, feature.values, { now: new Date("2025-01-02T03:04:05Z") }));
    const featureText = s.read(PROD);
    expect(featureText).toContain('lastmodified: "2025-01-02T03:04:05Z"');
    s.commit("feature changes stripe");
    s.git(["checkout", "-q", "main"]);
    await set(s, "stripe_api_key", "sk_live_MAIN");
    s.commit("main changes stripe");
    expect(tryGit(s, ["merge", "--no-edit", "feature"]).ok).toBe(false);
    // the merge driver left ours' value: not yet either side's text
    expect(s.read(PROD)).not.toBe(featureText);
    const r = await s.run(["resolve", "stripe_api_key", "--env", "production", "--theirs"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("resolved stripe_api_key in production from theirs");
    expect(s.read(PROD)).toBe(featureText);
    expect((await readBoth(s, alice)).stripe_api_key).toBe("sk_live_FEATURE");
    s.commit("merge feature");
    expect(s.git(["log", "--format=%s", "--", PROD]).trim().split("\n")).toEqual(["feature changes stripe", "base"]);
    // resolving back to ours: HEAD's text byte for byte again (the file is unchanged against HEAD)
    s.git(["reset", "-q", "--hard", "HEAD^"]);
    expect(tryGit(s, ["merge", "--no-edit", "feature"]).ok).toBe(false);
    const ours = await s.run(["resolve", "stripe_api_key", "--env", "production", "--theirs"]);
    expect(ours.code, ours.stderr).toBe(0);
    const back = await s.run(["resolve", "stripe_api_key", "--env", "production", "--ours"]);
    expect(back.code, back.stderr).toBe(0);
    expect(s.read(PROD)).toBe(s.git(["show", `HEAD:${PROD}`]));
    // a result that is neither side is written anew
    const fresh = await s.run(["resolve", "stripe_api_key", "--env", "production", "--from-stdin"], { input: "sk_live_NEW" });
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(s.read(PROD)).not.toBe(s.git(["show", `HEAD:${PROD}`]));
    expect(s.read(PROD)).not.toBe(featureText);
    expect((await readBoth(s, alice)).stripe_api_key).toBe("sk_live_NEW");
  });

  it("merges a branch made before `members rm bob` on main: bob's key cannot read the result (our reader and the age CLI)", async () => {
    const { s, alice, bob } = await project();
    s.git(["checkout", "-q", "-b", "feature"]);
    await set(s, "zendesk_api_token", "zd_FEATURE");
    s.commit("feature adds zendesk");
    s.git(["checkout", "-q", "main"]);
    const rm = await s.run(["members", "rm", "bob"]);
    expect(rm.code, rm.stderr).toBe(0);
    s.commit("remove bob");
    const merge = tryGit(s, ["merge", "--no-edit", "feature"]);
    expect(merge.ok, merge.out).toBe(true);
    expect(await readBoth(s, alice)).toMatchObject({ zendesk_api_token: "zd_FEATURE" });
    await expect(decryptSecrets(s.read(PROD), [bob.identity])).rejects.toMatchObject({ code: "NO_MATCHING_IDENTITY" });
    expect(unwrapWith(s, "production", bob)).toBeUndefined();
    expect(unwrapWith(s, "production", alice)).toBeDefined();
  });

  it("rebases a branch made before rotate-key onto main cleanly, re-encrypting its change under the new key", async () => {
    const { s, alice, bob } = await project();
    s.git(["checkout", "-q", "-b", "feature"]);
    await set(s, "zendesk_api_token", "zd_FEATURE");
    s.commit("feature adds zendesk");
    s.git(["checkout", "-q", "main"]);
    expect((await s.run(["rotate-key", "--env", "production"])).code).toBe(0);
    s.commit("rotate");
    const rotated = s.read(PROD);
    s.git(["checkout", "-q", "feature"]);
    const rebase = tryGit(s, ["rebase", "main"]);
    expect(rebase.ok, rebase.out).toBe(true);
    expect(await readBoth(s, bob)).toMatchObject({ zendesk_api_token: "zd_FEATURE", stripe_api_key: "sk_live_BASE" });
    const stanzaBlock = (t: string) => t.slice(t.indexOf("sops:"), t.indexOf("lastmodified:"));
    expect(stanzaBlock(s.read(PROD))).toBe(stanzaBlock(rotated));
    expect(await readBoth(s, alice)).toHaveProperty("hubspot_api_token", "hs_BASE");
  });

  it("cherry-picks a change across a rotation", async () => {
    const { s, alice } = await project();
    s.git(["checkout", "-q", "-b", "feature"]);
    await set(s, "zendesk_api_token", "zd_FEATURE");
    const pick = s.commit("feature adds zendesk");
    s.git(["checkout", "-q", "main"]);
    expect((await s.run(["rotate-key", "--env", "production"])).code).toBe(0);
    s.commit("rotate");
    const r = tryGit(s, ["cherry-pick", pick]);
    expect(r.ok, r.out).toBe(true);
    expect(await readBoth(s, alice)).toMatchObject({ zendesk_api_token: "zd_FEATURE" });
  });

  it("a set commit from a branch that rotated, taken by cherry-pick, cherry-pick -n and apply --3way of its format-patch: the value lands under the target's own data key (no ciphertext of the branch's key, no mixed file)", async () => {
    const { s, alice, bob } = await project();
    s.git(["checkout", "-q", "-b", "rotated"]);
    expect((await s.run(["rotate-key", "--env", "production"])).code).toBe(0);
    s.commit("rotate on the branch");
    await set(s, "stripe_api_key", "sk_live_ROTATED");
    const pick = s.commit("set on the rotated branch");
    const branchFile = s.read(PROD);
    s.git(["checkout", "-q", "main"]);
    await set(s, "hubspot_api_token", "hs_MAIN");
    const main = s.commit("main");
    const stanzas = (t: string) => t.slice(t.indexOf("sops:"), t.indexOf("lastmodified:"));
    const mainStanzas = stanzas(s.read(PROD));
    const patch = s.git(["format-patch", "-1", "--stdout", pick]);
    const ways: [string, () => { ok: boolean; out: string }][] = [
      ["cherry-pick", () => tryGit(s, ["cherry-pick", pick])],
      ["cherry-pick -n", () => tryGit(s, ["cherry-pick", "-n", pick])],
      [
        "apply --3way",
        () => {
          s.write("pick.patch", patch);
          const r = tryGit(s, ["apply", "--3way", "pick.patch"]);
          s.git(["rm", "-q", "--cached", "--ignore-unmatch", "pick.patch"]);
          return r;
        },
      ],
    ];
    for (const [way, run] of ways) {
      const r = run();
      expect(r.ok, `${way}: ${r.out}`).toBe(true);
      const text = s.read(PROD);
      expect(stanzas(text), way).toBe(mainStanzas);
      expect(stanzas(text), way).not.toBe(stanzas(branchFile));
      expect(await readBoth(s, bob), way).toMatchObject({ stripe_api_key: "sk_live_ROTATED", hubspot_api_token: "hs_MAIN" });
      expect(await readBoth(s, alice), way).toHaveProperty("stripe_api_key", "sk_live_ROTATED");
      s.git(["reset", "-q", "--hard", main]);
    }
  });

  it("without a key of the environment: a clean refusal naming the members, the file left as ours", async () => {
    const { s } = await project();
    s.git(["checkout", "-q", "-b", "feature"]);
    await set(s, "zendesk_api_token", "zd_FEATURE");
    s.commit("feature");
    s.git(["checkout", "-q", "main"]);
    await set(s, "twilio_auth_token", "tw_MAIN");
    s.commit("main");
    const ours = s.read(PROD);
    const carol = s.keygen("carol");
    let out = "";
    try {
      s.git(["merge", "--no-edit", "feature"], { env: { SOPS_AGE_KEY_FILE: carol.file } });
    } catch (e) {
      out = String((e as { stderr?: string }).stderr ?? "") + String((e as { stdout?: string }).stdout ?? "");
    }
    expect(out).toContain("MERGE_NEEDS_KEY");
    expect(out).toContain("alice (age1");
    expect(s.read(PROD)).toBe(ours);
  });

  it("an octopus merge of two branches that both changed the file is refused by git, and check flags what it leaves", async () => {
    const { s } = await project();
    for (const b of ["one", "two"]) {
      s.git(["checkout", "-q", "-b", b, "main"]);
      await set(s, `${b}_api_token`, `${b}_VALUE`);
      s.commit(b);
    }
    s.git(["checkout", "-q", "main"]);
    // git's octopus strategy never runs merge drivers: it merges the file as text and stops
    const r = tryGit(s, ["merge", "--no-edit", "one", "two"]);
    expect(r.ok).toBe(false);
    const check = await s.run(["check", "--json"]);
    expect(check.code).toBe(1);
    const stale = JSON.parse(check.stdout).diagnostics.filter((d: { rule: string }) => d.rule === "stale-mac");
    expect(stale).toMatchObject([{ file: PROD, column: 1 }]);
    expect(s.read(PROD).split("\n")[stale[0].line - 1]).toMatch(/^<{7} /);
    expect(stale[0].message).toContain("git checkout -m --");
    const resolve = await s.run(["resolve", "one_api_token", "--env", "production", "--theirs"]);
    expect(resolve.code).toBe(14);
    expect(resolve.stderr).toContain("octopus");
    const ours = await s.run(["resolve", "one_api_token", "--env", "production", "--ours"]);
    expect(ours.code).toBe(13);
    expect(ours.stderr).toContain(`git checkout -m -- ${PROD}`);
  });
});

describe("merge-file run directly (as git runs it)", () => {
  it("refuses a version that does not verify (MERGE_FAILED, exit 1) and leaves OURS as it was; merges a file added on both sides (empty BASE)", async () => {
    const { s, alice } = await project();
    const head = s.read(PROD);
    await set(s, "zendesk_api_token", "zd_ONE");
    const good = s.read(PROD);
    const added = good.split("\n").find((l) => l.startsWith("zendesk_api_token:"))!;
    s.write("O", head);
    s.write("A", good);
    s.write("B", head.replace("sops:\n", `${added}\nsops:\n`)); // hand-merged: the MAC no longer matches
    const r = await s.run(["merge-file", "O", "A", "B", PROD]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("MERGE_FAILED");
    expect(r.stderr).toContain("MAC_MISMATCH");
    expect(r.stderr).toContain("their version does not verify");
    expect(r.stderr).toContain("fix their commit first");
    expect(r.stderr).not.toMatch(/the (their|our) /);
    expect(s.read("A")).toBe(good);

    // both sides created the file: git passes an empty BASE
    s.write("O", "");
    s.write("A", good);
    s.write("B", head);
    const both = await s.run(["merge-file", "O", "A", "B", PROD]);
    expect(both.code, both.stderr).toBe(0); // the same additions on both sides, plus one only ours made
    expect(both.stderr).not.toContain("zd_ONE");
    expect(Object.keys(Object.fromEntries((await decryptSecrets(s.read("A"), [alice.identity])).values)).sort()).toEqual([
      "hubspot_api_token",
      "stripe_api_key",
      "zendesk_api_token",
    ]);
  });
});

describe(".sops.yaml on two branches", () => {
  it("members of different environments changed on two branches: .sops.yaml merges per creation rule (git's text merge conflicts), and check has no drift", async () => {
    const s = createSandbox();
    sandboxes.push(s);
    const alice = s.keygen("alice");
    const [dave, erin] = [s.keygen("dave"), s.keygen("erin")];
    s.env.SOPS_AGE_KEY_FILE = alice.file;
    expect((await s.run(["init", "--env", "development,staging,production"])).code).toBe(0);
    expect((await s.run(["git", "setup", "--no-hook"])).code).toBe(0);
    // the layout `init` wrote before this session (4 spaces): each side's first edit re-indents every line
    s.write(".sops.yaml", s.read(".sops.yaml").replace(/^  - /gm, "    - ").replace(/^    age/gm, "      age"));
    s.commit("base");
    s.git(["checkout", "-q", "-b", "dev-access"]);
    expect((await s.run(["members", "add", "dave", dave.recipient, "--env", "development"])).code).toBe(0);
    s.commit("dave on development");
    s.git(["checkout", "-q", "main"]);
    expect((await s.run(["members", "add", "erin", erin.recipient, "--env", "production"])).code).toBe(0);
    s.commit("erin on production");
    // git's own text merge of these .sops.yaml versions conflicts
    const base = s.git(["merge-base", "main", "dev-access"]).trim();
    for (const [name, rev] of [["b", base], ["o", "main"], ["t", "dev-access"]]) writeFileSync(join(s.repo, `.git/${name}.sops`), s.git(["show", `${rev}:.sops.yaml`]));
    expect(tryGit(s, ["merge-file", "-p", ".git/o.sops", ".git/b.sops", ".git/t.sops"]).ok).toBe(false);
    const merge = tryGit(s, ["merge", "-q", "--no-edit", "dev-access"]);
    expect(merge.ok, merge.out).toBe(true);
    const sops = s.read(".sops.yaml");
    expect(sops).toContain(dave.recipient);
    expect(sops).toContain(erin.recipient);
    expect(sops).not.toContain("<<<<<<<");
    const check = await s.run(["check", "--json"]);
    expect(JSON.parse(check.stdout).diagnostics.filter((d: { rule: string }) => d.rule === "sops-config-drift")).toEqual([]);
  });
});

describe("two members added to one environment on two branches", () => {
  it("stellar.yaml, .sops.yaml and the environment file merge clean (per member, per recipient, recipients as a set under the kept data key); both get the value (the whole team case: cli-merge-members.test.ts)", async () => {
    const s = createSandbox();
    sandboxes.push(s);
    const alice = s.keygen("alice");
    const [carol, dave] = [s.keygen("carol"), s.keygen("dave")];
    s.env.SOPS_AGE_KEY_FILE = alice.file;
    expect((await s.run(["init", "--env", "production"])).code).toBe(0);
    await set(s, "stripe_api_key", "sk_live_BASE");
    expect((await s.run(["git", "setup", "--no-hook"])).code).toBe(0);
    s.commit("base");
    s.git(["checkout", "-q", "-b", "carol-access"]);
    expect((await s.run(["members", "add", "carol", carol.recipient, "--env", "production"])).code).toBe(0);
    s.commit("carol on production");
    s.git(["checkout", "-q", "main"]);
    expect((await s.run(["members", "add", "dave", dave.recipient, "--env", "production"])).code).toBe(0);
    s.commit("dave on production");
    const merge = tryGit(s, ["merge", "-q", "--no-edit", "carol-access"]);
    expect(merge.ok, merge.out).toBe(true);
    expect(s.git(["diff", "--name-only", "--diff-filter=U"]).trim()).toBe("");
    const project = s.read("stellar.yaml");
    for (const k of [alice, carol, dave]) expect(project).toContain(k.recipient);
    expect(project).not.toContain("<<<<<<<");
    const sops = s.read(".sops.yaml");
    expect(sops).toContain(`${alice.recipient},${dave.recipient},${carol.recipient}`);
    for (const who of [alice, carol, dave]) {
      const got = await s.run(["get", "stripe_api_key", "--env", "production"], { env: { ...s.env, SOPS_AGE_KEY_FILE: who.file } });
      expect(got.code, got.stderr).toBe(0);
      expect(got.stdout.trim()).toBe("sk_live_BASE");
    }
  });
});

describe(".sops.yaml: a clean text merge that says what neither side said", () => {
  // found by scripts/fuzz-config-merge.mjs: git merges lines, and lines each side kept valid made invalid YAML
  it("is a conflict (exit 1), left as git merged it, with how to finish", async () => {
    const s = createSandbox({ gitInit: false });
    sandboxes.push(s);
    const [a, b, c] = ["a", "b", "c"].map((x) => `age1${x.repeat(58)}`);
    const base = `creation_rules:\n    - path_regex: a$\n      age: ${a}\n# end of rules\n`;
    s.write("base.sops", base);
    s.write("ours.sops", `${base}    - path_regex: b$\n      age: ${b}\n`); // a rule added in the old layout
    s.write("theirs.sops", `creation_rules:\n  - path_regex: a$\n    age: ${a},${c}\n# end of rules\n`); // a member change re-indented every line
    const r = await s.run(["merge-file", "base.sops", "ours.sops", "theirs.sops", ".sops.yaml"]);
    expect(r.code, r.stderr).toBe(1);
    expect(s.read("ours.sops")).toBe(`creation_rules:\n  - path_regex: a$\n    age: ${a},${c}\n# end of rules\n    - path_regex: b$\n      age: ${b}\n`);
    expect(r.stderr).toContain("git's text merge of it came out clean, but the merged text cannot be read");
    expect(r.stderr).toContain("git checkout --ours -- FILE");
  });
});

describe("a branch's .gitattributes sends another file to the driver", () => {
  it("rebasing onto it (its attributes apply): a file that is no environment file is merged as text, as git would, and never recorded as a secrets merge", async () => {
    const { s } = await project();
    s.write("app.conf", "a = 1\nb = 2\nc = 3\n");
    s.commit("app.conf");
    s.git(["checkout", "-q", "-b", "upstream"]);
    s.write(".gitattributes", `${s.read(".gitattributes")}app.conf merge=stellar diff=stellar\n`);
    s.write("app.conf", "a = 1\nb = 2\nc = 33\n");
    s.commit("upstream sends app.conf to the driver");
    s.git(["checkout", "-q", "-b", "mine", "upstream~1"]);
    s.write("app.conf", "a = 11\nb = 2\nc = 3\n");
    s.commit("mine");
    const clean = tryGit(s, ["rebase", "upstream"]);
    expect(clean.ok, clean.out).toBe(true);
    expect(s.read("app.conf")).toBe("a = 11\nb = 2\nc = 33\n");
    // a text conflict ends as git's own: markers in the file, nothing recorded for `resolve`
    s.write("app.conf", "a = 111\nb = 2\nc = 33\n");
    s.commit("mine again");
    s.git(["checkout", "-q", "-b", "later", "upstream"]);
    s.write("app.conf", "a = 2\nb = 2\nc = 33\n");
    s.commit("upstream again");
    s.git(["checkout", "-q", "mine"]);
    const conflict = tryGit(s, ["rebase", "later"]);
    expect(conflict.ok).toBe(false);
    expect(s.read("app.conf")).toMatch(/^<{7} ours\n/);
    expect(existsSync(join(s.repo, ".git/stellar-secrets/unresolved"))).toBe(false);
    expect(conflict.out).toContain("app.conf is not an environment file");
    expect(conflict.out).not.toContain("MERGE_FAILED");
  });
});

describe("stale-mac in check", () => {
  it("flags a hand-merged file (both value lines kept, one mac) that no one can decrypt", async () => {
    const { s, alice } = await project();
    const head = s.read(PROD);
    await set(s, "zendesk_api_token", "zd_ONE");
    const added = s.read(PROD).split("\n").find((l) => l.startsWith("zendesk_api_token:"))!;
    // the "obvious" resolution: keep the new value line, keep HEAD's mac and lastmodified
    writeFileSync(join(s.repo, PROD), head.replace("sops:\n", `${added}\nsops:\n`));
    await expect(decryptSecrets(s.read(PROD), [alice.identity])).rejects.toMatchObject({ code: "MAC_MISMATCH" });
    const check = await s.run(["check", "--json"]);
    expect(check.code).toBe(1);
    const stale = JSON.parse(check.stdout).diagnostics.filter((d: { rule: string }) => d.rule === "stale-mac");
    expect(stale).toHaveLength(1);
    expect(stale[0]).toMatchObject({ file: PROD, severity: "error" });
    expect(existsSync(join(s.repo, PROD))).toBe(true);
    expect(readFileSync(join(s.repo, PROD), "utf8")).not.toBe(head);
  });

  it("review catches a hand-merged merge commit against the parent whose mac it kept (stale-mac, exit 1)", async () => {
    const { s } = await project();
    const fork = s.git(["rev-parse", "HEAD"]).trim();
    // no merge driver: git conflicts on the file, as without `git setup`
    s.git(["config", "--local", "--remove-section", "merge.stellar"]);
    s.git(["checkout", "-q", "-b", "feature"]);
    await set(s, "zendesk_api_token", "zd_ONE");
    s.commit("feature: zendesk");
    const theirs = s.read(PROD);
    s.git(["checkout", "-q", "main"]);
    await set(s, "slack_bot_token", "xoxb_TWO");
    s.commit("main: slack");
    const ours = s.read(PROD);
    const merged = tryGit(s, ["merge", "-q", "--no-edit", "feature"]);
    expect(merged.ok, merged.out).toBe(false);
    expect(s.git(["status", "--porcelain"]), merged.out).toContain("UU");
    // the "obvious" resolution: ours plus their new value line, ours' mac
    const added = theirs.split("\n").find((l) => l.startsWith("zendesk_api_token:"))!;
    writeFileSync(join(s.repo, PROD), ours.replace("sops:\n", `${added}\nsops:\n`));
    s.commit("merge feature (by hand)");
    expect(s.git(["rev-list", "--parents", "-n", "1", "HEAD"]).trim().split(" ")).toHaveLength(3);
    // against the fork point alone the mac differs (main changed it): only the merge parents show the hand merge
    const r = await s.run(["review", `${fork}..HEAD`, "--json"]);
    expect(r.code, r.stdout).toBe(1);
    const stale = JSON.parse(r.stdout).diagnostics.filter((d: { rule: string }) => d.rule === "stale-mac");
    expect(stale).toHaveLength(1);
    expect(stale[0]).toMatchObject({ file: PROD, severity: "error", new: true });
    // check in CI sees the committed hand-merge too (the merge commit's parents), from loose objects and from packs
    for (const packed of [false, true]) {
      if (packed) s.git(["gc", "-q"]);
      const check = await s.run(["check", "--json"]);
      expect(check.code, check.stdout + check.stderr).toBe(1);
      expect(JSON.parse(check.stdout).diagnostics.filter((d: { rule: string }) => d.rule === "stale-mac").map((d: { file: string }) => d.file)).toEqual([PROD]);
    }
    // a shallow clone cut at the merge (CI's default depth) has no parents to compare with: check cannot see it, and says so
    for (const depth of [1, 2]) {
      const clone = join(s.dir, `depth-${depth}`);
      s.git(["clone", "-q", "--depth", String(depth), `file://${s.repo}`, clone]);
      const shallow = await s.run(["check", "--json"], { cwd: clone });
      const stale = JSON.parse(shallow.stdout).diagnostics.filter((d: { rule: string }) => d.rule === "stale-mac");
      if (depth === 1) {
        expect([shallow.code, stale]).toEqual([0, []]);
        expect(shallow.stderr).toMatch(/note: HEAD \(\w+\) is at the edge of a shallow clone: its parent commits were not fetched, so .*stale-mac.* cannot be seen/);
      } else {
        expect([shallow.code, stale.length], shallow.stderr).toEqual([1, 1]);
        expect(shallow.stderr).not.toContain("shallow clone");
      }
    }
  });
});
