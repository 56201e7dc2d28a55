/**
 * Write-only proposals (issue 13, item 3) end to end: two people with separate HOMEs and keys and
 * their own clones of one git repository. A non-member proposes with the ordinary `set`, commits;
 * `check` shows the proposal; a member applies it and the value is readable by members; tampered,
 * truncated and stale proposals are refused with nothing applied.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it, vi } from "vitest";
import { createSandbox, HAS_AGE_CLI, REPO_ROOT, type AgeKey, type Sandbox, sandboxesCleanedAfterEach } from "./helpers/cli.js";

vi.setConfig({ testTimeout: 180_000 });

const sandboxes = sandboxesCleanedAfterEach();

const PROPOSED = "prod-value-FROM-BOB-42";

/** Alice's repository (she is the one member of development and production) and Bob's clone of it (no access). */
async function team(): Promise<{ alice: Sandbox; aliceKey: AgeKey; bob: Sandbox; bobKey: AgeKey }> {
  const alice = createSandbox({ user: "alice" });
  sandboxes.push(alice);
  const aliceKey = alice.keygen("alice");
  alice.env.SOPS_AGE_KEY_FILE = aliceKey.file;
  expect((await alice.run(["init", "--env", "development,production"])).code).toBe(0);
  const r = await alice.run(["set", "twilio_auth_token", "--env", "development,production", "--from-stdin"], { input: "tw-value" });
  expect(r.code, r.stderr).toBe(0);
  alice.commit("secrets");
  const bob = createSandbox({ user: "bob", gitInit: false });
  sandboxes.push(bob);
  execFileSync("git", ["clone", "-q", alice.repo, bob.repo], { env: bob.env });
  bob.git(["config", "user.name", "Bob Example"]);
  bob.git(["config", "user.email", "bob@example.test"]);
  const bobKey = bob.keygen("bob");
  bob.env.SOPS_AGE_KEY_FILE = bobKey.file;
  return { alice, aliceKey, bob, bobKey };
}

function inboxFiles(s: Sandbox, env: string): string[] {
  const dir = join(s.repo, "secrets", "inbox", env);
  return existsSync(dir) ? readdirSync(dir).map((f) => `secrets/inbox/${env}/${f}`) : [];
}

/** Bob proposes `value` for `name` in production, commits; Alice pulls. Returns the proposal's path. */
async function propose(alice: Sandbox, bob: Sandbox, name: string, value = PROPOSED): Promise<string> {
  const before = new Set(inboxFiles(bob, "production"));
  const r = await bob.run(["set", name, "--env", "production", "--from-stdin"], { input: value });
  expect(r.code, r.stderr).toBe(0);
  const file = inboxFiles(bob, "production").find((f) => !before.has(f))!;
  bob.commit(`propose ${name}`);
  alice.git(["pull", "-q", "--no-rebase", bob.repo, "main"]);
  return file;
}

/**
 * Runs the CLI from its `tsc -b` output alone (packages/cli/dist/main.js and the packages' dist/),
 * never a bundle, whatever the bin would choose: what a developer runs after `tsc -b` without
 * `node scripts/bundle.mjs`. Every dependency it loads must resolve from the package that imports it.
 */
function runTscOutput(s: Sandbox, args: string[], input?: string): { code: number | null; stdout: string; stderr: string } {
  const main = pathToFileURL(join(REPO_ROOT, "packages/cli/dist/main.js")).href;
  const script = `const { main } = await import(${JSON.stringify(main)}); main(process.argv.slice(1));`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script, ...args], { cwd: s.repo, env: s.env, input: input ?? "", encoding: "utf8", timeout: 45_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("write-only proposals", () => {
  it("run from the tsc output alone (no bundle): a proposal is written, applied by a member and read back", async () => {
    const { alice, bob } = await team();
    const proposed = runTscOutput(bob, ["set", "stripe_api_key", "--env", "production", "--from-stdin"], PROPOSED);
    expect(proposed.code, proposed.stderr).toBe(0);
    expect(proposed.stdout).toMatch(/^proposed stripe_api_key for production: secrets\/inbox\/production\/stripe_api_key\.[0-9a-f]{12}\.age/);
    bob.commit("propose stripe_api_key");
    alice.git(["pull", "-q", "--no-rebase", bob.repo, "main"]);
    const applied = runTscOutput(alice, ["inbox", "apply", "stripe_api_key", "--env", "production"]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout + applied.stderr).not.toContain(PROPOSED);
    expect(runTscOutput(alice, ["get", "stripe_api_key", "--env", "production"]).stdout).toBe(PROPOSED);
  });

  it("a non-member proposes with `set`; check shows it; a member applies it; members read the value", async () => {
    const { alice, aliceKey, bob, bobKey } = await team();
    const productionBefore = alice.read("secrets/production.enc.yaml");
    const twilioLine = /^twilio_auth_token: .*$/m.exec(productionBefore)![0];

    // Bob has a key, but not one of production's: set becomes a proposal, said before the value is read
    const r = await bob.run(["set", "stripe_api_key", "--env", "production", "--from-stdin"], { input: PROPOSED });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/You have no key for production: the value will become a proposal \(secrets\/inbox\/production\/stripe_api_key\.<id>\.age\), encrypted to its members only \(alice\)/);
    expect(r.stdout).toMatch(/^proposed stripe_api_key for production: secrets\/inbox\/production\/stripe_api_key\.[0-9a-f]{12}\.age/);
    expect(r.stdout + r.stderr).not.toContain(PROPOSED);
    const [file] = inboxFiles(bob, "production");
    const text = bob.read(file!);
    expect(text).not.toContain(PROPOSED);
    expect(text).toContain("name: stripe_api_key\n");
    expect(text).toContain("proposer: Bob Example <bob@example.test>\n");
    expect(text).toContain(`recipient: ${aliceKey.recipient}\n`);
    expect(bob.read("secrets/production.enc.yaml")).toBe(productionBefore);

    // the proposer cannot read it back, nor apply it
    const own = await bob.run(["inbox", "apply", "stripe_api_key", "--env", "production"]);
    expect(own.code).toBe(10);
    if (HAS_AGE_CLI) {
      const payload = join(bob.dir, "payload.age");
      writeFileSync(payload, text.slice(text.indexOf("-----BEGIN")));
      expect(() => execFileSync("age", ["-d", "-i", bobKey.file, payload], { stdio: "pipe" })).toThrow();
      // a member's key opens the payload with the age CLI itself
      expect(JSON.parse(execFileSync("age", ["-d", "-i", aliceKey.file, payload]).toString("utf8")).value).toBe(PROPOSED);
    }

    // check reports it (info: exit 0), keylessly
    const check = await bob.run(["check", "--json"], { env: { SOPS_AGE_KEY_FILE: undefined } });
    const pending = JSON.parse(check.stdout).diagnostics.filter((d: { rule: string }) => d.rule === "pending-proposal");
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({ severity: "info", file, line: 5, secret: "stripe_api_key" });
    // the pre-commit hook lets a proposal through (info), and refuses a broken one (error)
    bob.git(["add", "-A"]);
    expect((await bob.run(["pre-commit"])).code).toBe(0);
    bob.write("secrets/inbox/production/notes.txt", "not a proposal\n");
    bob.git(["add", "-A"]);
    expect((await bob.run(["pre-commit"])).code).toBe(1);
    bob.git(["rm", "-q", "--cached", "secrets/inbox/production/notes.txt"]);
    unlinkSync(join(bob.repo, "secrets/inbox/production/notes.txt"));
    bob.commit("propose stripe_api_key");

    // Alice pulls, lists and applies
    alice.git(["pull", "-q", "--no-rebase", bob.repo, "main"]);
    const list = JSON.parse((await alice.run(["inbox", "list", "--json"])).stdout);
    expect(list.proposals).toEqual([expect.objectContaining({ environment: "production", name: "stripe_api_key", proposer: "Bob Example <bob@example.test>", state: "pending", file })]);
    const review = await alice.run(["review", "HEAD~1", "HEAD", "--json"]);
    expect(JSON.parse(review.stdout).proposals).toEqual([expect.objectContaining({ environment: "production", name: "stripe_api_key", change: "added", file })]);
    const applied = await alice.run(["inbox", "apply", "stripe_api_key", "--env", "production"]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/^created stripe_api_key in production from proposal stripe_api_key\.[0-9a-f]{12}/);
    expect(applied.stdout + applied.stderr).not.toContain(PROPOSED);
    expect(existsSync(join(alice.repo, file!))).toBe(false);
    expect((await alice.run(["get", "stripe_api_key", "--env", "production"])).stdout).toBe(PROPOSED);
    // stable ciphertext: the other value keeps its exact ENC string
    expect(alice.read("secrets/production.enc.yaml")).toContain(twilioLine);
    const after = await alice.run(["check", "--json"]);
    expect(JSON.parse(after.stdout).diagnostics.filter((d: { rule: string }) => d.rule.endsWith("proposal"))).toEqual([]);
  });

  it("refuses a tampered or truncated proposal, applying nothing (exit 11, exit 13)", async () => {
    const { alice, bob } = await team();
    const file = await propose(alice, bob, "stripe_api_key");
    const good = alice.read(file);
    const production = alice.read("secrets/production.enc.yaml");
    const lines = good.split("\n");
    const i = lines.findIndex((l) => l.startsWith("-----END")) - 1; // the payload's last bytes (its tag)
    alice.write(file, lines.map((l, n) => (n === i ? (l[0] === "A" ? "B" : "A") + l.slice(1) : l)).join("\n"));
    const tampered = await alice.run(["inbox", "apply", "stripe_api_key", "--env", "production"]);
    expect(tampered.code).toBe(11);
    expect(tampered.stderr).toContain("TAMPERED");
    expect(tampered.stderr).toContain("nothing was applied");
    // the clear name changed to match a renamed file: the encrypted name differs
    const renamed = file.replace("stripe_api_key", "github_token");
    alice.write(renamed, good.replace(/stripe_api_key/g, "github_token"));
    unlinkSync(join(alice.repo, file));
    const swapped = await alice.run(["inbox", "apply", "--env", "production"]);
    expect(swapped.code).toBe(11);
    expect(swapped.stderr).toContain("its clear name differs from the encrypted one");
    // edited in place only: the file's name and its clear name disagree
    alice.write(file, good.replace("name: stripe_api_key\n", "name: github_token\n"));
    unlinkSync(join(alice.repo, renamed));
    const moved = await alice.run(["inbox", "apply", "--env", "production"]);
    expect(moved.code).toBe(13);
    alice.write(file, good.slice(0, good.indexOf("-----END")));
    const truncated = await alice.run(["inbox", "apply", "stripe_api_key", "--env", "production"]);
    expect(truncated.code).toBe(13);
    expect(truncated.stderr).toMatch(/stripe_api_key\.[0-9a-f]{12}\.age:\d+: .*truncated/);
    const check = JSON.parse((await alice.run(["check", "--json"])).stdout);
    expect(check.diagnostics.map((d: { rule: string }) => d.rule)).toContain("invalid-proposal");
    expect(alice.read("secrets/production.enc.yaml")).toBe(production);
    expect(existsSync(join(alice.repo, file))).toBe(true);
    const rejected = await alice.run(["inbox", "reject", "stripe_api_key", "--env", "production"]);
    expect(rejected.code, rejected.stderr).toBe(0);
    expect(inboxFiles(alice, "production")).toEqual([]);
  });

  it("reports a symbolic link in the inbox (list, check, pre-commit, review) and never follows it: apply refuses it (exit 13), reject removes the link only", async () => {
    const { alice, bob } = await team();
    const file = await propose(alice, bob, "stripe_api_key");
    const production = alice.read("secrets/production.enc.yaml");
    // the proposal moved out of the inbox, a link to it in its place
    alice.write("elsewhere/proposal.age", alice.read(file));
    unlinkSync(join(alice.repo, file));
    symlinkSync(join(alice.repo, "elsewhere", "proposal.age"), join(alice.repo, file));
    const list = await alice.run(["inbox", "list", "--json"]);
    expect(list.code, list.stderr).toBe(0);
    const rows = JSON.parse(list.stdout).proposals as { file: string; state: string; problem: string }[];
    expect(rows.map((r) => [r.file, r.state])).toEqual([[file, "invalid"]]);
    expect(rows[0]?.problem).toContain(`${file} is a symbolic link (to elsewhere/proposal.age), not a proposal`);
    const check = JSON.parse((await alice.run(["check", "--json"])).stdout) as { diagnostics: { rule: string; file: string; line: number }[] };
    expect(check.diagnostics.filter((d) => d.file === file).map((d) => [d.rule, d.line])).toEqual([["invalid-proposal", 1]]);
    const apply = await alice.run(["inbox", "apply", "stripe_api_key", "--env", "production"]);
    expect(apply.code).toBe(13);
    expect(apply.stderr).toContain("MALFORMED_FILE");
    expect(apply.stderr).toContain("symbolic link");
    expect(alice.read("secrets/production.enc.yaml")).toBe(production);
    // staged, git holds the link (its target path), not a proposal: the hook refuses it, review names it
    alice.git(["add", "-A"]);
    const hook = await alice.run(["pre-commit"]);
    expect(hook.code).toBe(1);
    expect(hook.stdout).toContain(`${file}:1:1: error invalid-proposal ${file} is a symbolic link (to ${join(alice.repo, "elsewhere", "proposal.age")})`);
    alice.git(["commit", "-q", "--no-verify", "-m", "a link in the inbox"]);
    const review = await alice.run(["review", "HEAD~1", "HEAD", "--json"]);
    const diagnostics = (JSON.parse(review.stdout) as { diagnostics: { rule: string; file: string; new: boolean }[] }).diagnostics;
    expect(diagnostics.filter((d) => d.file === file).map((d) => [d.rule, d.new])).toEqual([["invalid-proposal", true]]);
    const rejected = await alice.run(["inbox", "reject", "stripe_api_key", "--env", "production"]);
    expect(rejected.code, rejected.stderr).toBe(0);
    expect(inboxFiles(alice, "production")).toEqual([]);
    expect(existsSync(join(alice.repo, "elsewhere", "proposal.age"))).toBe(true);
  });

  it("warns about a proposal to a stale member set and refuses to apply it when a former member could read it (exit 20)", async () => {
    const { alice, bob } = await team();
    const carol = alice.keygen("carol");
    expect((await alice.run(["members", "add", "carol", carol.recipient, "--env", "production"])).code).toBe(0);
    alice.commit("carol joins production");
    bob.git(["pull", "-q", "--no-rebase", alice.repo, "main"]);
    const file = await propose(alice, bob, "stripe_api_key");
    expect(alice.read(file)).toContain(`recipient: ${carol.recipient}`);
    expect((await alice.run(["members", "rm", "carol", "--env", "production"])).code).toBe(0);
    const check = JSON.parse((await alice.run(["check", "--json"])).stdout);
    const stale = check.diagnostics.find((d: { rule: string }) => d.rule === "stale-proposal");
    expect(stale).toMatchObject({ severity: "warning", file });
    expect(stale.message).toContain(carol.recipient);
    const production = alice.read("secrets/production.enc.yaml");
    const r = await alice.run(["inbox", "apply", "--env", "production"]);
    expect(r.code).toBe(20);
    expect(r.stderr).toContain("STALE_PROPOSAL");
    expect(alice.read("secrets/production.enc.yaml")).toBe(production);
    expect(JSON.parse((await alice.run(["inbox", "list", "--json"])).stdout).proposals[0].state).toBe("stale");
  });

  it("--no-propose refuses as before; bad names and unknown environments are refused before any write", async () => {
    const { bob } = await team();
    const refused = await bob.run(["set", "stripe_api_key", "--env", "production", "--from-stdin", "--no-propose"], { input: PROPOSED });
    expect(refused.code).toBe(10);
    const badName = await bob.run(["set", "Stripe-Key", "--env", "production", "--from-stdin"], { input: PROPOSED });
    expect(badName.code).toBe(3);
    const unknownEnv = await bob.run(["set", "stripe_api_key", "--env", "staging", "--from-stdin"], { input: PROPOSED });
    expect(unknownEnv.code).toBe(4);
    // no key at all (no identity anywhere): still a proposal
    const noKey = await bob.run(["set", "stripe_api_key", "--env", "production", "--from-stdin", "--json"], { input: PROPOSED, env: { SOPS_AGE_KEY_FILE: undefined } });
    expect(noKey.code, noKey.stderr).toBe(0);
    expect(JSON.parse(noKey.stdout).environments).toEqual([{ environment: "production", action: "proposed", file: expect.stringMatching(/^secrets\/inbox\/production\/stripe_api_key\.[0-9a-f]{12}\.age$/) }]);
    expect(inboxFiles(bob, "production")).toHaveLength(1);
    const none = await bob.run(["inbox", "apply", "github_token", "--env", "production"]);
    expect(none.code).toBe(4);
    expect(none.stderr).toContain("NO_PROPOSAL");
    // a mistyped environment is not "no proposals": UNKNOWN_ENVIRONMENT, with the nearest name
    const typo = await bob.run(["inbox", "list", "--env", "prod"]);
    expect([typo.code, typo.stdout]).toEqual([4, ""]);
    expect(typo.stderr).toContain('UNKNOWN_ENVIRONMENT: environment "prod" is not declared');
    expect(typo.stderr).toContain('did you mean "production"?');
    const listed = await bob.run(["inbox", "list", "--env", "production", "--json"]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout).proposals).toHaveLength(1);
  });

  it("applying a proposal keeps a CRLF environment file CRLF (committed on Windows with core.autocrlf=false)", async () => {
    const { alice, bob } = await team();
    const path = "secrets/production.enc.yaml";
    alice.write(path, alice.read(path).replace(/\n/g, "\r\n"));
    alice.commit("production, as committed on Windows");
    await propose(alice, bob, "stripe_api_key");
    const applied = await alice.run(["inbox", "apply", "stripe_api_key", "--env", "production"]);
    expect(applied.code, applied.stderr).toBe(0);
    const text = alice.read(path);
    expect(text).toContain("\r\nstripe_api_key: ENC[");
    expect(text.replace(/\r\n/g, "")).not.toMatch(/[\r\n]/);
    expect((await alice.run(["get", "stripe_api_key", "--env", "production"])).stdout).toBe(PROPOSED);
  });
});
