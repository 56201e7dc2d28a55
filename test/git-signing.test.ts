/**
 * The signing part of `git setup --signing` (runSigningSetup, called in-process until `git setup`
 * registers it) on a real repository with real ssh-keygen keys (TEST-ONLY, made per run): it
 * finds the user's member key in ~/.ssh (or --key), configures repository-local ssh signing, and
 * plain `git commit` then signs as that member; a key that is no member's, no key, or a key that
 * cannot sign are refused with their codes.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { describe, expect, it, vi } from "vitest";
import type { CommandContext } from "../packages/cli/src/command.js";
import { runSigningSetup } from "../packages/cli/src/commands/git-signing.js";
import { GitRepo } from "../packages/cli/src/git.js";
import { allowedSigners, verifyCommits } from "../packages/cli/src/signing.js";
import { createSandbox, HAS_SSH_KEYGEN, type Sandbox, sandboxesCleanedAfterEach } from "./helpers/cli.js";

vi.setConfig({ testTimeout: 120_000 });

const sandboxes = sandboxesCleanedAfterEach();

/** A TEST-ONLY ed25519 key pair at `dir/name` (and `.pub`); its public line. */
function sshKey(dir: string, name: string, type = "ed25519"): { file: string; pub: string } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-t", type, "-N", "", "-C", `${name}@test-only`, "-f", file], { stdio: "ignore" });
  return { file, pub: readFileSync(`${file}.pub`, "utf8").trim() };
}

function context(s: Sandbox): { ctx: CommandContext; out: () => string } {
  let text = "";
  const stdout = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return { ctx: { cwd: s.repo, env: { ...s.env, HOME: s.home }, stdin: new PassThrough(), stdout, stderr: new PassThrough() }, out: () => text };
}

async function project(): Promise<{ s: Sandbox; bob: { file: string; pub: string }; eve: { file: string; pub: string } }> {
  const s = createSandbox();
  sandboxes.push(s);
  const alice = s.keygen("alice");
  s.env.SOPS_AGE_KEY_FILE = alice.file;
  const ssh = join(s.home, ".ssh");
  const eve = sshKey(ssh, "id_ed25519"); // the default key, but no member's
  const bob = sshKey(ssh, "work"); // bob's member key
  expect((await s.run(["init", "--env", "production,staging"])).code).toBe(0);
  const add = await s.run(["members", "add", "bob", bob.pub, "--env", "production"]);
  expect(add.code, add.stderr).toBe(0);
  s.commit("base");
  return { s, bob, eve };
}

describe.skipIf(!HAS_SSH_KEYGEN)("git setup --signing (ssh-keygen: Debian package openssh-client)", () => {
  it("the CLI: --check reports signing missing, --signing sets it up with the member key, --check then passes; --key needs --signing", async () => {
    const { s, bob } = await project();
    const before = await s.run(["git", "setup", "--check", "--no-hook", "--signing", "--json"]);
    expect(before.code).toBe(1);
    expect(JSON.parse(before.stdout).items.find((i: { id: string }) => i.id === "signing")).toMatchObject({ state: "missing" });
    const setup = await s.run(["git", "setup", "--no-hook", "--signing", "--key", `${bob.file}.pub`]);
    expect(setup.code, setup.stderr).toBe(0);
    expect(setup.stdout).toContain("signed with the member key of bob (production)");
    expect(s.git(["config", "--local", "user.signingkey"]).trim()).toBe(`${bob.file}.pub`);
    const after = await s.run(["git", "setup", "--check", "--no-hook", "--signing"]);
    expect(after.code, after.stdout).toBe(0);
    expect((await s.run(["git", "setup", "--key", `${bob.file}.pub`])).code).toBe(2);
    s.write("note.txt", "signed\n");
    const c = s.commit("signed by configuration");
    const signers = allowedSigners({ environments: [{ name: "production", members: [{ name: "bob", recipient: bob.pub.split(" ").slice(0, 2).join(" ") }] }] });
    expect((await verifyCommits(await GitRepo.open(s.repo, s.env), [c], signers))[0]).toMatchObject({ status: "good", signer: "bob" });
  });

  it("finds the ~/.ssh key that is a member, configures this repository only, and plain `git commit` then signs as that member", async () => {
    const { s, bob } = await project();
    const { ctx, out } = context(s);
    expect(await runSigningSetup([], ctx)).toBe(0);
    expect(out()).toContain("signed with the member key of bob (production)");
    expect(out()).toContain(`user.signingkey  ${bob.file}.pub`);
    expect(s.git(["config", "--local", "gpg.format"]).trim()).toBe("ssh");
    expect(s.git(["config", "--local", "user.signingkey"]).trim()).toBe(`${bob.file}.pub`);
    expect(s.git(["config", "--local", "commit.gpgsign"]).trim()).toBe("true");
    expect(out()).not.toContain("PRIVATE KEY");

    s.write("note.txt", "signed\n");
    const c = s.commit("signed by configuration");
    const signers = allowedSigners({ environments: [{ name: "production", members: [{ name: "bob", recipient: bob.pub.split(" ").slice(0, 2).join(" ") }] }] });
    expect((await verifyCommits(await GitRepo.open(s.repo, s.env), [c], signers))[0]).toMatchObject({ status: "good", signer: "bob" });
  });

  it("takes --key (and prints --json); refuses a key that is no member's, no key at all, and a key that cannot sign", async () => {
    const { s, bob, eve } = await project();
    const { ctx, out } = context(s);
    expect(await runSigningSetup(["--key", bob.file, "--json"], ctx)).toBe(0);
    expect(JSON.parse(out())).toEqual({
      member: "bob",
      environments: ["production"],
      signingKey: bob.file,
      publicKey: bob.pub.split(" ").slice(0, 2).join(" "),
      repository: expect.any(String),
      settings: { "gpg.format": "ssh", "user.signingkey": bob.file, "commit.gpgsign": "true" },
    });

    await expect(runSigningSetup(["--key", `${eve.file}.pub`], ctx)).rejects.toMatchObject({ code: "UNKNOWN_MEMBER" });
    const rsa = sshKey(join(s.dir, "other"), "rsa", "rsa");
    await expect(runSigningSetup(["--key", `${rsa.file}.pub`], ctx)).rejects.toMatchObject({ code: "INVALID_MEMBER" });
    const empty = { ...ctx, env: { ...ctx.env, HOME: join(s.dir, "nohome") } };
    await expect(runSigningSetup([], empty)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(runSigningSetup(["--bogus"], ctx)).rejects.toMatchObject({ code: "USAGE" });
    // the refusals changed nothing
    expect(s.git(["config", "--local", "user.signingkey"]).trim()).toBe(bob.file);
  });
});
