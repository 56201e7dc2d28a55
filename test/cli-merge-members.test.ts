/**
 * The everyday team case on real git with the drivers `git setup` installs: two branches each give
 * one more person access to production (`request-access` + `members approve` on one, `members add`
 * on the other). `stellar.yaml`, `.sops.yaml` and the environment file all merge cleanly, the
 * environment file's recipients as a set (docs/branches.md), and every member can read it; a member
 * one branch removed cannot.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it, vi } from "vitest";
import { randomBytes } from "node:crypto";
import { encryptSecrets, parseSecretsFile, wrapDataKey } from "../packages/sops/src/index.js";
import { createSandbox, type AgeKey, type Sandbox, sandboxesCleanedAfterEach } from "./helpers/cli.js";

vi.setConfig({ testTimeout: 180_000 });

const sandboxes = sandboxesCleanedAfterEach();

const PROD = "secrets/production.enc.yaml";

/** Runs the CLI as `who` (their key file, their user name). */
function as(s: Sandbox, who: { name: string; key: AgeKey }) {
  return (args: string[], input?: string) => s.run(args, { env: { SOPS_AGE_KEY_FILE: who.key.file, USER: who.name }, ...(input !== undefined ? { input } : {}) });
}

/** `git ARGS` in the repository: its exit status and everything it (and the merge driver) printed. */
function git(s: Sandbox, args: string[]): { code: number | null; out: string } {
  const r = spawnSync("git", args, { cwd: s.repo, env: s.env, encoding: "utf8" });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

async function ok(p: Promise<{ code: number | null; stdout: string; stderr: string }>): Promise<string> {
  const r = await p;
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return r.stdout + r.stderr;
}

/** `check` passes with nothing but the secrets being unused (no config file references them here). */
async function clean(run: ReturnType<typeof as>): Promise<void> {
  const r = await run(["check", "--json"]);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  const rules = new Set((JSON.parse(r.stdout).diagnostics as { rule: string }[]).map((d) => d.rule));
  expect([...rules]).toEqual(["unused-secret"]);
}

/**
 * The base every test starts from: alice inits production (with `stripe_api_key` unless `secret` is
 * false), adds bob, runs `git setup` and commits; the hooks run as alice.
 */
async function aliceAndBob(secret = true): Promise<{ s: Sandbox; alice: { name: string; key: AgeKey }; bob: { name: string; key: AgeKey }; a: ReturnType<typeof as> }> {
  const s = createSandbox();
  sandboxes.push(s);
  const alice = { name: "alice", key: s.keygen("alice") };
  const bob = { name: "bob", key: s.keygen("bob") };
  s.env.SOPS_AGE_KEY_FILE = alice.key.file; // the hooks run as alice
  const a = as(s, alice);
  await ok(a(["init", "--env", "production"]));
  if (secret) await ok(a(["set", "stripe_api_key", "--env", "production", "--from-stdin"], "sk_live_BASE"));
  await ok(a(["members", "add", "bob", bob.key.recipient, "--env", "production"]));
  await ok(a(["git", "setup"]));
  s.commit("base: alice and bob");
  return { s, alice, bob, a };
}

describe("two branches that each add someone to production", () => {
  it("merge cleanly (stellar.yaml, .sops.yaml and the environment file); every member, old and new, reads it; a member removed on one branch cannot", async () => {
    const { s, alice, bob, a } = await aliceAndBob();
    const dave = { name: "dave", key: s.keygen("dave") };
    const erin = { name: "erin", key: s.keygen("erin") };

    // branch A: dave asks for access, alice approves, and adds a secret
    s.git(["checkout", "-q", "-b", "access/dave"]);
    await ok(as(s, dave)(["request-access", "--env", "production", "--name", "dave"]));
    s.commit("access: dave requests production");
    await ok(a(["members", "approve", "dave", "--env", "production", "--key", dave.key.recipient]));
    await ok(a(["set", "zendesk_token", "--env", "production", "--from-stdin"], "zd_A"));
    s.commit("access: alice approves dave");
    // branch B: alice adds erin and sets another secret
    s.git(["checkout", "-q", "-b", "access/erin", "main"]);
    await ok(a(["members", "add", "erin", erin.key.recipient, "--env", "production"]));
    await ok(a(["set", "twilio_token", "--env", "production", "--from-stdin"], "tw_B"));
    s.commit("access: erin");
    // A is merged first (a fast-forward), then B brings main in
    s.git(["checkout", "-q", "main"]);
    s.git(["merge", "-q", "--ff-only", "access/dave"]);
    s.git(["checkout", "-q", "access/erin"]);
    const before = parseSecretsFile(s.read(PROD)).metadata.age;

    const merge = git(s, ["merge", "--no-edit", "main"]);
    expect(merge.code, merge.out).toBe(0);
    expect(merge.out).not.toContain("CONFLICT");
    expect(merge.out).toContain(`${PROD}: merged recipients: +erin (ours), +dave (theirs); data key kept`);
    expect(s.git(["status", "--porcelain"])).toBe("");
    expect(s.git(["rev-list", "--parents", "-n", "1", "HEAD"]).trim().split(" ")).toHaveLength(3);
    // the base's stanzas (alice, bob: our side's, unchanged since the base) kept byte for byte; the three files agree on the members
    const after = parseSecretsFile(s.read(PROD)).metadata.age;
    expect(after.slice(0, 2)).toEqual(before.slice(0, 2));
    expect(after.map((x) => x.recipient)).toEqual([alice.key.recipient, bob.key.recipient, erin.key.recipient, dave.key.recipient]);
    for (const f of ["stellar.yaml", ".sops.yaml"]) for (const who of [alice, bob, dave, erin]) expect(s.read(f), `${f} ${who.name}`).toContain(who.key.recipient);
    expect(s.read("stellar.yaml")).not.toMatch(/pending/);

    await clean(a);
    const review = await a(["review", "main..HEAD"]);
    expect(review.code, review.stdout + review.stderr).toBe(0);
    expect(review.stdout).toContain("erin");
    expect(review.stdout).not.toContain("sk_live_");
    for (const who of [alice, bob, dave, erin]) {
      const get = as(s, who);
      expect((await get(["get", "stripe_api_key", "--env", "production"])).stdout.trim(), who.name).toBe("sk_live_BASE");
      expect((await get(["get", "zendesk_token", "--env", "production"])).stdout.trim(), who.name).toBe("zd_A");
      expect((await get(["get", "twilio_token", "--env", "production"])).stdout.trim(), who.name).toBe("tw_B");
    }

    // the variant: one branch removes bob (members rm rotates the data key), the other adds frank
    const frank = { name: "frank", key: s.keygen("frank") };
    s.git(["checkout", "-q", "-b", "access/frank"]);
    await ok(a(["members", "add", "frank", frank.key.recipient, "--env", "production"]));
    s.commit("access: frank");
    s.git(["checkout", "-q", "-b", "offboard/bob", "access/erin~0"]);
    await ok(a(["members", "rm", "bob", "--env", "production"]));
    s.commit("offboard: bob");
    s.git(["checkout", "-q", "access/frank"]);
    const removal = git(s, ["merge", "--no-edit", "offboard/bob"]);
    expect(removal.code, removal.out).toBe(0);
    expect(removal.out).not.toContain("CONFLICT");
    expect(removal.out).toContain(`${PROD}: merged recipients: +frank (ours), -bob (theirs); new data key`);
    expect(parseSecretsFile(s.read(PROD)).recipients.sort()).toEqual([alice.key.recipient, dave.key.recipient, erin.key.recipient, frank.key.recipient].sort());
    await clean(a);
    const rotated = await a(["review", "access/erin..HEAD"]);
    expect(rotated.code, rotated.stdout + rotated.stderr).toBe(0);
    const denied = await as(s, bob)(["get", "stripe_api_key", "--env", "production"]);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain("NO_MATCHING_IDENTITY");
    expect(denied.stdout).not.toContain("sk_live_");
    for (const who of [alice, dave, erin, frank]) expect((await as(s, who)(["get", "twilio_token", "--env", "production"])).stdout.trim(), who.name).toBe("tw_B");

    // the other way round: frank is a member only in their side's stellar.yaml (the merged commit, which
    // git names during `git merge`), and the new data key is wrapped for him
    s.git(["checkout", "-q", "offboard/bob"]);
    const other = git(s, ["merge", "--no-edit", "access/frank^1"]);
    expect(other.code, other.out).toBe(0);
    expect(other.out).toContain(`${PROD}: merged recipients: +frank (theirs), -bob (ours); new data key`);
    expect((await as(s, frank)(["get", "twilio_token", "--env", "production"])).stdout.trim()).toBe("tw_B");
  });

  it("never wraps a new data key for a recipient no stellar.yaml makes a member: a keyless branch's label for an outsider, cherry-picked (no hook runs) after main removed someone, is a recipients conflict, not access", async () => {
    const { s, alice, bob, a } = await aliceAndBob();
    const outsider = s.keygen("outsider");

    // a teammate with push access and public keys only: a stanza labelled with their own key, wrapping
    // a random key (they cannot know the data key), in the environment file alone; their hook skipped
    s.git(["checkout", "-q", "-b", "outsider/label"]);
    const text = s.read(PROD);
    const junk = (await wrapDataKey(randomBytes(32), outsider.recipient)).trim().split("\n").map((l) => `            ${l}`).join("\n");
    s.write(PROD, text.replace("    lastmodified:", `        - recipient: ${outsider.recipient}\n          enc: |\n${junk}\n    lastmodified:`));
    expect(parseSecretsFile(s.read(PROD)).recipients).toContain(outsider.recipient);
    s.git(["commit", "-q", "--no-verify", "-am", "production: one more stanza"]);
    // fast-forwarded as it is, that label would give nothing (the stanza is no key of the file)
    // main: bob offboarded (members rm rotates the data key)
    s.git(["checkout", "-q", "main"]);
    await ok(a(["members", "rm", "bob", "--env", "production"]));
    s.commit("offboard: bob");

    const pick = git(s, ["cherry-pick", "outsider/label"]);
    expect(pick.code, pick.out).not.toBe(0);
    expect(pick.out).toContain("MERGE_CONFLICT");
    expect(pick.out).toContain("is no member of the environment in our side's or their side's stellar.yaml");
    const got = await s.run(["get", "stripe_api_key", "--env", "production"], { env: { SOPS_AGE_KEY_FILE: outsider.file } });
    expect(got.code).not.toBe(0);
    expect(got.stdout).not.toContain("sk_live_");
    expect(s.git(["cherry-pick", "--abort"])).toBe("");

    // the same writer, the file written afresh under a key of their own for alice and themselves
    // (public keys only), cherry-picked after main changed a value: main's value must not go to them
    s.git(["checkout", "-q", "-b", "outsider/afresh", "main"]);
    s.write(PROD, await encryptSecrets(new Map([["stripe_api_key", "sk_live_FORGED"]]), { recipients: [alice.key.recipient, outsider.recipient] }));
    s.git(["commit", "-q", "--no-verify", "-am", "production: rewritten"]);
    s.git(["checkout", "-q", "main"]);
    await ok(a(["set", "zendesk_token", "--env", "production", "--from-stdin"], "zd_MAIN"));
    s.commit("main: a new secret");
    const afresh = git(s, ["cherry-pick", "outsider/afresh"]);
    expect(afresh.code, afresh.out).not.toBe(0);
    expect(afresh.out).toContain("their side changed who can decrypt production (recipients and data key)");
    expect(afresh.out).toContain("is no member of the environment");
    const read = await s.run(["get", "zendesk_token", "--env", "production"], { env: { SOPS_AGE_KEY_FILE: outsider.file } });
    expect(read.code).not.toBe(0);
    expect(read.stdout).not.toContain("zd_MAIN");
  });

  it("names an added key by its side's stellar.yaml, and says so when our side gives that name another key (a branch that calls an outsider's key \"bob\")", async () => {
    const { s, alice, bob: bobMember, a } = await aliceAndBob(false);
    const bob = bobMember.key;
    const carol = s.keygen("carol");
    const outsider = s.keygen("outsider");
    s.git(["checkout", "-q", "-b", "spoof"]);
    await ok(a(["members", "add", "temp", outsider.recipient, "--env", "production"]));
    // stellar.yaml of the branch: the outsider's key under bob's name
    s.write("stellar.yaml", s.read("stellar.yaml").replace(`      temp: ${outsider.recipient}\n`, "").replace(`bob: ${bob.recipient}`, `bob: ${outsider.recipient}`));
    s.git(["commit", "-q", "--no-verify", "-am", "production: bob's new key"]);
    s.git(["checkout", "-q", "main"]);
    await ok(a(["members", "add", "carol", carol.recipient, "--env", "production"]));
    s.commit("carol");
    const merge = git(s, ["merge", "--no-edit", "spoof"]);
    expect(merge.out).toContain("merged recipients: +carol (ours), +bob [not the key our side's stellar.yaml gives bob] (theirs); data key kept");
    // and the pre-merge-commit hook stops the commit: bob's real key is in the file, no member's in stellar.yaml
    expect(merge.code, merge.out).not.toBe(0);
    expect(merge.out).toContain("recipient-drift");
  });
});
