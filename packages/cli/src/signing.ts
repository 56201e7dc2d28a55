/**
 * Signed provenance (issue 11): members whose key is an SSH ed25519 key sign their commits with
 * it (git's `gpg.format=ssh`), and a review checks each commit's signature against the members of
 * the environment it touches. Three building blocks:
 *
 * - {@link allowedSigners}: the text of an OpenSSH allowed-signers file from stellar.yaml
 *   (principal = member name), pure;
 * - {@link verifyCommits}: git's own verification of commits against that text;
 * - {@link configureSigning}: the repository-local git settings that make a member sign.
 *
 * Git runs only through {@link GitRepo}. Nothing here reads or writes a private key: the temp
 * allowed-signers file holds public keys only and is removed afterwards.
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { canSign, type ProjectConfig, type SignatureStatus } from "@stellar-secrets/core";
import { isOpenSshPrivateKey, isSopsError, looksLikeSshPublicKey, parseOpenSshPrivateKey, parseSshEd25519PublicKey } from "@stellar-secrets/sops";
import { CliError } from "./errors.js";
import { windowsPathHint } from "./path-hints.js";
import type { GitRepo } from "./git.js";

/**
 * {@link canSign}: true for a member key that can sign commits (an `ssh-ed25519 …` key);
 * {@link allMembersCanSign}: true when every member of an environment (at least one) can sign.
 * Both live in core (the review judges signatures there) and are re-exported here.
 */
export { allMembersCanSign, canSign } from "@stellar-secrets/core";

/**
 * The text of an OpenSSH allowed-signers file (ssh-keygen(1) "ALLOWED SIGNERS") for the members of
 * `config` with an ssh-ed25519 key: one `NAME namespaces="git" ssh-ed25519 AAAA…` line per member,
 * sorted by name, so git reports the member name as the signer (`%GS`). `environments` limits it
 * to the members of those environments (default: every environment). Members with age keys are
 * left out (they cannot sign). Build it from the stellar.yaml of the review's base, never of the
 * head: a change must not be able to add the key that signs it.
 * Member names are `[A-Za-z0-9][A-Za-z0-9._@-]*` (schema), so they need no quoting.
 */
export function allowedSigners(config: Pick<ProjectConfig, "environments">, environments?: readonly string[]): string {
  const lines = new Map<string, string>();
  for (const env of config.environments) {
    if (environments !== undefined && !environments.includes(env.name)) continue;
    for (const m of env.members) {
      if (!canSign(m.recipient) || !/^[A-Za-z0-9][A-Za-z0-9._@-]*$/.test(m.name)) continue;
      const key = m.recipient.split(/\s+/).slice(0, 2).join(" ");
      lines.set(`${m.name}\u0000${key}`, `${m.name} namespaces="git" ${key}`);
    }
  }
  const sorted = [...lines.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, line]) => line);
  return sorted.length === 0 ? "" : `${sorted.join("\n")}\n`;
}

/** The verdict on one commit's signature (core's type: good, unsigned, bad, unknown-signer). */
export type { SignatureStatus } from "@stellar-secrets/core";

/** One commit's signature, as git verified it. */
export interface CommitSignature {
  commit: string;
  status: SignatureStatus;
  /** The member name (allowed-signers principal), only when `status` is "good". */
  signer?: string;
  /** The signing key's fingerprint (`SHA256:…`) when git reports one. */
  key?: string;
  /** git's `%G?` letter (G, B, U, X, Y, R, E, N), for reports that want git's exact view. */
  gitStatus: string;
}

const BATCH = 200;

/**
 * Verifies the signatures of `commits` with git itself (`git log --no-walk --format=%G?…` with
 * `gpg.format=ssh` and `gpg.ssh.allowedSignersFile` pointing at a temp file holding
 * `allowedSignersText`, public keys only, removed afterwards). Returns one result per commit, in
 * the order given (duplicates kept). `G` → good (signer = member name); `N` → unsigned; `B` → bad;
 * every other letter (`U`: valid but not an allowed signer; `E`: cannot be checked, e.g. a GPG
 * signature; `X`/`Y`/`R`) → unknown-signer.
 * @throws CliError GIT_ERROR when git fails (e.g. an unknown commit).
 */
export async function verifyCommits(repo: GitRepo, commits: readonly string[], allowedSignersText: string): Promise<CommitSignature[]> {
  if (commits.length === 0) return [];
  for (const c of commits) {
    if (!/^[0-9a-fA-F]{4,64}$/.test(c)) throw new CliError("GIT_ERROR", `"${c.slice(0, 80)}" is not a commit id`, { hint: "pass full commit ids (git rev-list)" });
  }
  const dir = await mkdtemp(join(tmpdir(), "stellar-signers-"));
  const file = join(dir, "allowed_signers");
  try {
    await writeFile(file, allowedSignersText, { mode: 0o600 });
    const byCommit = new Map<string, Omit<CommitSignature, "commit">>();
    const unique = [...new Set(commits)];
    for (let i = 0; i < unique.length; i += BATCH) {
      const out = await repo.run([
        "-c",
        "gpg.format=ssh",
        "-c",
        `gpg.ssh.allowedSignersFile=${file}`,
        "log",
        "--no-walk=unsorted",
        "--no-show-signature", // a user's log.showSignature would mix ssh-keygen's text into the output
        "--format=%H%x1f%G?%x1f%GS%x1f%GK%x1e",
        ...unique.slice(i, i + BATCH),
        "--",
      ]);
      for (const record of out.split("\x1e")) {
        const [hash, letter, signer, key] = record.replace(/^\n/, "").split("\x1f");
        if (hash === undefined || hash === "" || letter === undefined) continue;
        byCommit.set(hash, verdict(letter, signer ?? "", key ?? ""));
      }
    }
    return commits.map((c) => {
      const full = byCommit.has(c) ? c : [...byCommit.keys()].find((h) => h.startsWith(c.toLowerCase()));
      const v = full === undefined ? undefined : byCommit.get(full);
      if (v === undefined) throw new CliError("GIT_ERROR", `git did not report on commit ${c.slice(0, 12)}`);
      return { commit: full as string, ...v };
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function verdict(letter: string, signer: string, key: string): Omit<CommitSignature, "commit"> {
  const base = { gitStatus: letter, ...(key !== "" ? { key } : {}) };
  if (letter === "G") return { status: "good", ...(signer !== "" ? { signer } : {}), ...base };
  if (letter === "N") return { status: "unsigned", gitStatus: letter };
  if (letter === "B") return { status: "bad", ...base };
  return { status: "unknown-signer", ...base };
}

/** What {@link configureSigning} set. */
export interface SigningSetup {
  /** The value given to `user.signingkey`: a key file path, or `key::ssh-ed25519 AAAA…` (then the private key must be in ssh-agent). */
  signingKey: string;
  /** The public key that will sign, `ssh-ed25519 AAAA…` (compare it with the member's key). */
  publicKey: string;
}

/**
 * What git will be told to sign with, read from `publicKeyOrPath` without writing anything: a key
 * file (the `.pub` file, or the private key file whose public half is read from its `.pub`
 * neighbour or from it, in memory: nothing of it is kept), or a public key line
 * `ssh-ed25519 AAAA…` (then `signingKey` is `key::…` and git signs through ssh-agent). Relative
 * paths are resolved from `cwd` (default: the process's).
 * @throws CliError INVALID_MEMBER when the key is not an ssh-ed25519 key (or the file cannot be read as one).
 */
export function readSigningKey(publicKeyOrPath: string, options: { cwd?: string } = {}): SigningSetup {
  let signingKey: string;
  let publicKey: string;
  if (looksLikeSshPublicKey(publicKeyOrPath)) {
    publicKey = publicSsh(publicKeyOrPath, "the key given");
    signingKey = `key::${publicKey}`;
  } else {
    const path = resolve(options.cwd ?? process.cwd(), publicKeyOrPath);
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      throw new CliError("INVALID_MEMBER", `cannot read the signing key ${path}: ${(error as NodeJS.ErrnoException).code ?? "error"}`, {
        hint: windowsPathHint(publicKeyOrPath) ?? "pass the path of your ~/.ssh/id_ed25519.pub (or its public key line)",
        cause: error,
      });
    }
    if (isOpenSshPrivateKey(text)) {
      const pub = `${path}.pub`;
      if (existsSync(pub)) {
        publicKey = publicSsh(readFileSync(pub, "utf8"), pub);
      } else {
        try {
          publicKey = parseOpenSshPrivateKey(text, path).publicKey.normalized;
        } catch (error) {
          throw new CliError("INVALID_MEMBER", `${path} cannot sign: ${isSopsError(error) ? error.message : "not an OpenSSH ed25519 key"}`, {
            hint: "use an ed25519 key (`ssh-keygen -t ed25519`); a passphrase-protected key works too when you pass its .pub file",
            cause: error,
          });
        }
      }
    } else {
      publicKey = publicSsh(text, path);
    }
    signingKey = path;
  }
  return { signingKey, publicKey };
}

/**
 * Makes the repository sign every commit with an SSH ed25519 key, in its own config only
 * (`git config --local`): `gpg.format=ssh`, `user.signingkey`, `commit.gpgsign=true`.
 * `publicKeyOrPath` is read by {@link readSigningKey} (nothing of a private key is stored or
 * printed; a public key line is stored as `key::…`, for ssh-agent).
 * @throws CliError INVALID_MEMBER when the key is not an ssh-ed25519 key (or the file cannot be
 * read as one); GIT_ERROR when git fails.
 */
export async function configureSigning(repo: GitRepo, publicKeyOrPath: string, options: { cwd?: string } = {}): Promise<SigningSetup> {
  const { signingKey, publicKey } = readSigningKey(publicKeyOrPath, options);
  await repo.run(["config", "--local", "gpg.format", "ssh"]);
  await repo.run(["config", "--local", "user.signingkey", signingKey]);
  await repo.run(["config", "--local", "commit.gpgsign", "true"]);
  return { signingKey, publicKey };
}

function publicSsh(text: string, where: string): string {
  try {
    return parseSshEd25519PublicKey(text).normalized;
  } catch (error) {
    throw new CliError("INVALID_MEMBER", `${where} is not an ssh-ed25519 public key: only ed25519 SSH keys can sign for a member`, {
      hint: "make one with `ssh-keygen -t ed25519` and add it as your member key (`stellar-secrets members add NAME \"$(cat ~/.ssh/id_ed25519.pub)\" --env ENV`)",
      cause: error,
    });
  }
}
