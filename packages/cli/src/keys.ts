/**
 * The person running the CLI, as keys and git know them: their public keys (one per identity
 * found the way sops finds them, with where each was found), which environments each key can
 * actually open (by unwrapping the file's data key: a stanza's label proves nothing), and their
 * git name and email. Never prints or returns private key material outside {@link OwnKey.identity}.
 */
import { identityToRecipient, isSopsError, unwrapFileKey, type SecretsFile } from "@stellar-secrets/sops";
import { shellPathWord, type EnvironmentConfig, type ProjectConfig } from "@stellar-secrets/core";
import { statSync } from "node:fs";
import { isAbsolute } from "node:path";
import type { CommandContext } from "./command.js";
import { CliError } from "./errors.js";
import { gitConfigValue } from "./git.js";
import { identitiesFor } from "./repository.js";

/** One identity of the user, by its public key. */
export interface OwnKey {
  /** `age1…` or `ssh-ed25519 AAAA…` (normalised). */
  publicKey: string;
  type: "age" | "ssh-ed25519";
  /** Where it was found: `SOPS_AGE_KEY`, a key file path, `~/.ssh/id_ed25519`… */
  source: string;
  /** The private identity (for unwrapping only; never printed). */
  identity: string;
}

/**
 * A warning per key file of `keys` that other users may read or write (any group/other bit, as ssh
 * refuses a private key): a key file made with `age-keygen > FILE` or copied under the usual umask
 * is 0644. sops and age use it anyway, and so does this CLI; whoami says it, with the fix. The
 * sources are paths (`SOPS_AGE_KEY_FILE=PATH` for that variable); SOPS_AGE_KEY has no file. Never
 * key material. Nothing on Windows, whose modes mean nothing here.
 */
export function looseKeyFileProblems(keys: readonly OwnKey[], platform: NodeJS.Platform = process.platform): string[] {
  if (platform === "win32") return [];
  const out: string[] = [];
  for (const source of new Set(keys.map((k) => k.source))) {
    const path = source.replace(/^SOPS_AGE_(SSH_PRIVATE_)?KEY_FILE=/, "");
    if (!isAbsolute(path)) continue;
    const mode = statSync(path, { throwIfNoEntry: false })?.mode;
    if (mode === undefined || (mode & 0o077) === 0) continue;
    out.push(`${path} holds a private key and other users can read or change it (mode ${(mode & 0o777).toString(8).padStart(4, "0")}): \`chmod 600 ${shellPathWord(path)}\``);
  }
  return out;
}

/** Every usable identity of the user (age keys first, as sops orders them), plus the sources looked at and their problems. */
export async function ownKeys(ctx: CommandContext): Promise<{ keys: OwnKey[]; sources: string[]; problems: string[] }> {
  const found = identitiesFor(ctx);
  const keys: OwnKey[] = [];
  const problems = [...(found.problems ?? [])];
  for (const [i, identity] of found.identities.entries()) {
    const source = found.origins?.[i] ?? "";
    try {
      const publicKey = await identityToRecipient(identity);
      if (keys.some((k) => k.publicKey === publicKey)) continue;
      keys.push({ publicKey, type: publicKey.startsWith("ssh-") ? "ssh-ed25519" : "age", source, identity });
    } catch (error) {
      problems.push(`${source}: ${(error as Error).message}`);
    }
  }
  return { keys, sources: found.sources, problems };
}

/** True when `key` unwraps the data key of `file` (tried, not read from labels). */
export async function canUnwrap(file: SecretsFile, key: OwnKey): Promise<boolean> {
  try {
    const dataKey = await unwrapFileKey(file, [key.identity]);
    dataKey.fill(0);
    return true;
  } catch (error) {
    if (isSopsError(error)) return false;
    throw error;
  }
}

/** The member names `publicKey` has in `env` (normally one). */
export function memberNamesOf(env: EnvironmentConfig, publicKey: string): string[] {
  return env.members.filter((m) => m.recipient === publicKey).map((m) => m.name);
}

/**
 * The user's git name and email (`git config user.name` / `user.email` read from the project's
 * folder: the repository's config, else the user's, also where it is no repository yet; then
 * GIT_AUTHOR_*); empty when unknown.
 */
export async function gitIdentity(ctx: CommandContext, config: ProjectConfig | undefined): Promise<{ name: string; email: string }> {
  const read = (key: string): string => (config === undefined ? "" : (gitConfigValue(config.root, key, ctx.env) ?? ""));
  const name = read("user.name") || (ctx.env.GIT_AUTHOR_NAME ?? "");
  const email = read("user.email") || (ctx.env.GIT_AUTHOR_EMAIL ?? "");
  return { name, email };
}

/**
 * The member name a person would have by default: their git `user.name` when it is a valid member
 * name, else the local part of their git email when it is; undefined otherwise.
 */
export function defaultMemberName(git: { name: string; email: string }, pattern: RegExp): string | undefined {
  if (git.name !== "" && pattern.test(git.name)) return git.name;
  const local = git.email.split("@")[0] ?? "";
  if (local !== "" && pattern.test(local)) return local;
  return undefined;
}

/**
 * `INVALID_MEMBER` for a private key (`AGE-SECRET-KEY-1…`, a PEM or OpenSSH private key, a whole
 * key file) given where a public key belongs: not stored, not shown, and said to be exposed, with
 * how its owner gets a new one and which line to share instead. `what` names the argument.
 */
export function privateKeyGivenError(what: string): CliError {
  return new CliError("INVALID_MEMBER", `${what} is a private key (not shown, not stored), not a public key`, {
    hint: "a private key stays with its owner: one that was pasted or sent to you is exposed (shell history, chat), so its owner makes a new key (`stellar-secrets keygen`) and shares only the public key (`stellar-secrets whoami` prints it, or `age-keygen -y KEYFILE`, or the ~/.ssh/id_ed25519.pub line)",
  });
}

/**
 * `INVALID_MEMBER` for a private key given where a member name belongs (`members add
 * AGE-SECRET-KEY-1… KEY`, `init --member`, `request-access --name`: the two arguments swapped or
 * the wrong line pasted): said before anything is read or written, never shown, never stored in
 * stellar.yaml. `what` names the argument.
 */
export function privateKeyAsNameError(what: string): CliError {
  return new CliError("INVALID_MEMBER", `${what} is a private key (not shown, not stored), not a member name`, {
    hint: "a member name is a person's or machine's name (letters, digits, '.', '_', '@' and '-'); the private key is exposed (shell history, chat), so its owner makes a new key (`stellar-secrets keygen`) and shares only the public key (`stellar-secrets whoami` prints it)",
  });
}
