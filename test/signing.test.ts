/**
 * Commit signatures against the members of stellar.yaml (issue 11), with real git and real
 * ssh-keygen keys (TEST-ONLY, made per run): verifyCommits sees good, unsigned, bad and
 * non-member signatures as git does; configureSigning makes plain `git commit` sign with the
 * member's key.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { GitRepo } from "../packages/cli/src/git.js";
import { allowedSigners, configureSigning, verifyCommits } from "../packages/cli/src/signing.js";
import { createSandbox, type Sandbox, HAS_SSH_KEYGEN, sandboxesCleanedAfterEach } from "./helpers/cli.js";

vi.setConfig({ testTimeout: 120_000 });

const sandboxes = sandboxesCleanedAfterEach();

function sshKey(s: Sandbox, name: string): { file: string; pub: string } {
  const dir = join(s.dir, "ssh");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `${name}@test-only`, "-f", file], { stdio: "ignore" });
  return { file, pub: readFileSync(`${file}.pub`, "utf8").trim() };
}

/** A commit of one changed file; signed with `key` (a key file) when given. */
function commit(s: Sandbox, message: string, key?: string): string {
  s.write("secrets/production.enc.yaml", `# ${message}\n`);
  s.git(["add", "-A"]);
  const sign = key === undefined ? [] : ["-c", "gpg.format=ssh", "-c", `user.signingkey=${key}`];
  s.git([...sign, "commit", "-q", ...(key === undefined ? [] : ["-S"]), "-m", message]);
  return s.git(["rev-parse", "HEAD"]).trim();
}

describe.skipIf(!HAS_SSH_KEYGEN)("verifyCommits", () => {
  it("reports good (with the member name), unsigned, a non-member's signature and a changed signed commit", async () => {
    const s = createSandbox();
    sandboxes.push(s);
    const bob = sshKey(s, "bob");
    const eve = sshKey(s, "eve");
    const signers = allowedSigners({
      environments: [{ name: "production", members: [{ name: "bob", recipient: bob.pub.split(" ").slice(0, 2).join(" ") }] }],
    });
    const good = commit(s, "bob signs", bob.file);
    const unsigned = commit(s, "nobody signs");
    const stranger = commit(s, "eve signs", eve.file);
    // a signed commit whose message was changed afterwards, signature kept: git must call it bad
    const signed = commit(s, "bob signs again", `${bob.file}.pub`);
    const raw = s.git(["cat-file", "commit", signed]).replace("bob signs again", "bob signs (forged)");
    const forged = execFileSync("git", ["hash-object", "-t", "commit", "-w", "--stdin"], { cwd: s.repo, env: s.env, input: raw, encoding: "utf8" }).trim();

    const tmp = mkdtempSync(join(s.dir, "tmp-"));
    const before = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    let result;
    try {
      result = await verifyCommits(await GitRepo.open(s.repo, s.env), [good, unsigned, stranger, forged, good], signers);
    } finally {
      if (before === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = before;
    }
    expect(readdirSync(tmp)).toEqual([]); // the allowed-signers file is gone
    expect(result.map((r) => [r.commit, r.status, r.signer])).toEqual([
      [good, "good", "bob"],
      [unsigned, "unsigned", undefined],
      [stranger, "unknown-signer", undefined],
      [forged, "bad", undefined],
      [good, "good", "bob"],
    ]);
    expect(result[0]?.key).toMatch(/^SHA256:/);
    expect(result.map((r) => r.gitStatus)).toEqual(["G", "N", "U", "B", "G"]);
  });

  it("with no ssh members, every signature is by an unknown signer; an unknown commit is GIT_ERROR", async () => {
    const s = createSandbox();
    sandboxes.push(s);
    const bob = sshKey(s, "bob");
    const c = commit(s, "bob signs", bob.file);
    const repo = await GitRepo.open(s.repo, s.env);
    expect((await verifyCommits(repo, [c], ""))[0]?.status).toBe("unknown-signer");
    await expect(verifyCommits(repo, ["0123456789abcdef0123456789abcdef01234567"], "")).rejects.toMatchObject({ code: "GIT_ERROR" });
    expect(await verifyCommits(repo, [], "")).toEqual([]);
  });
});

describe.skipIf(!HAS_SSH_KEYGEN)("configureSigning", () => {
  it("sets gpg.format, user.signingkey and commit.gpgsign in the repository only; plain `git commit` then signs as the member", async () => {
    const s = createSandbox();
    sandboxes.push(s);
    const bob = sshKey(s, "bob");
    commit(s, "first");
    const repo = await GitRepo.open(s.repo, s.env);
    const setup = await configureSigning(repo, `${bob.file}.pub`);
    expect(setup).toEqual({ signingKey: `${bob.file}.pub`, publicKey: bob.pub.split(" ").slice(0, 2).join(" ") });
    expect(s.git(["config", "--local", "gpg.format"]).trim()).toBe("ssh");
    expect(s.git(["config", "--local", "commit.gpgsign"]).trim()).toBe("true");
    expect(s.git(["config", "--local", "user.signingkey"]).trim()).toBe(`${bob.file}.pub`);
    expect(() => s.git(["config", "--global", "gpg.format"])).toThrow(); // nothing global
    const c = commit(s, "signed by configuration");
    const signers = allowedSigners({ environments: [{ name: "production", members: [{ name: "bob", recipient: setup.publicKey }] }] });
    expect((await verifyCommits(repo, [c], signers))[0]).toMatchObject({ status: "good", signer: "bob" });
  });

  it("takes the private key path (reading only its public half) or a public key line (key::, for ssh-agent); refuses non-ed25519 keys", async () => {
    const s = createSandbox();
    sandboxes.push(s);
    const bob = sshKey(s, "bob");
    const repo = await GitRepo.open(s.repo, s.env);
    const normalized = bob.pub.split(" ").slice(0, 2).join(" ");
    expect(await configureSigning(repo, bob.file)).toEqual({ signingKey: bob.file, publicKey: normalized });
    expect(await configureSigning(repo, bob.pub)).toEqual({ signingKey: `key::${normalized}`, publicKey: normalized });
    expect(s.git(["config", "--local", "user.signingkey"]).trim()).toBe(`key::${normalized}`);
    await expect(configureSigning(repo, "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC me@host")).rejects.toMatchObject({ code: "INVALID_MEMBER" });
    await expect(configureSigning(repo, join(s.dir, "missing.pub"))).rejects.toMatchObject({ code: "INVALID_MEMBER" });
  });
});
