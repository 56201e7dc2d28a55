/**
 * The one place in the extension that turns plaintext into ciphertext: it writes values typed
 * into a password box straight into the environment's encrypted file, in this process, through
 * `@stellar-secrets/sops` (lock, decrypt + MAC check, stable re-encryption, atomic rename).
 * The value never reaches a file in clear, an argv, a log, or the language server's channel.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { userInfo } from "node:os";
import { dirname, join } from "node:path";
import {
  createProposal,
  createSecretsFile,
  editSecretsFile,
  findIdentities,
  INBOX_DIR,
  newProposalId,
  proposalFileName,
  readSecretsFile,
  SopsError,
  unwrapFileKey,
  writeFileAtomic,
} from "@stellar-secrets/sops";
import { credentialNameProblem } from "@stellar-secrets/language-server/names";
import type { EnvironmentInfo } from "@stellar-secrets/language-server/protocol";

/** What to do with one name in one environment file: a new value, or `undefined` to remove it. */
export type SecretChange = { name: string; value: string | undefined };

/** A failed write, with a message safe to show (never a value). */
export class SecretWriteError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SecretWriteError";
    this.code = code;
  }
}

/**
 * Applies `changes` to the environment's file: edits it when it exists (needs an age identity
 * that can open it, found the way sops finds one), creates it for the configured recipients when
 * it does not (needs no identity). Throws {@link SecretWriteError}.
 */
export async function applyChanges(env: EnvironmentInfo, changes: readonly SecretChange[]): Promise<void> {
  // as `stellar-secrets set` refuses it, whatever led here (a name box checks it too, but Set Secret
  // Value and Move to a secret also take an existing name): no value is stored under a credential
  // (removing such a name is allowed: that is how it goes)
  for (const c of changes) if (c.value !== undefined) refuseCredentialName(env, c.name);
  try {
    if (!env.exists) {
      const values = new Map<string, string>();
      for (const c of changes) if (c.value !== undefined) values.set(c.name, c.value);
      if (values.size === 0) return;
      if (env.recipients.length === 0) {
        throw new SecretWriteError(
          "NO_RECIPIENTS",
          `Environment "${env.name}" has no members in stellar.yaml, so nobody could decrypt ${env.file}. Add a member first.`,
        );
      }
      await createSecretsFile(env.file, env.recipients, values);
      return;
    }
    await editSecretsFile(env.file, findIdentities(), (values) => {
      for (const c of changes) {
        if (c.value === undefined) values.delete(c.name);
        else values.set(c.name, c.value);
      }
    });
  } catch (e) {
    if (e instanceof SecretWriteError) throw e;
    if (e instanceof SopsError) {
      throw new SecretWriteError(e.code, `${env.name}: ${e.message}${e.hint ? ` (${e.hint})` : ""}`, { cause: e });
    }
    throw new SecretWriteError("IO_ERROR", `${env.name}: could not write ${env.file}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * True when one of the user's identities (found as sops finds them) opens the environment's file,
 * or when there is no file yet (creating one needs no key). False when the file exists and no key
 * of the user's opens it: the user is not a member, and a value can only be proposed.
 */
export async function canWrite(env: EnvironmentInfo): Promise<boolean> {
  if (!env.exists) return true;
  try {
    const key = await unwrapFileKey(await readSecretsFile(env.file), findIdentities(), env.file);
    key.fill(0);
    return true;
  } catch (e) {
    if (e instanceof SopsError && (e.code === "NO_IDENTITY" || e.code === "NO_MATCHING_IDENTITY")) return false;
    return true; // another problem is reported by the write itself
  }
}

/** Where a proposal for `env` goes, relative to the environment file: `<secrets_dir>/inbox/<env>/`. */
export function proposalFolder(env: EnvironmentInfo): string {
  return join(dirname(env.file), INBOX_DIR, env.name);
}

/**
 * Writes a write-only proposal of `value` for `name` in `env` (the same file `stellar-secrets set`
 * writes without a key): encrypted to the environment's members only; the writer cannot read it
 * back. Returns its absolute path. Throws {@link SecretWriteError}.
 */
export async function writeProposal(env: EnvironmentInfo, name: string, value: string): Promise<string> {
  refuseCredentialName(env, name);
  if (env.recipients.length === 0) {
    throw new SecretWriteError("NO_RECIPIENTS", `Environment "${env.name}" has no members in stellar.yaml: nobody could read a proposal.`);
  }
  try {
    const text = await createProposal({ environment: env.name, name, proposer: proposer(dirname(env.file)), proposedAt: new Date(), recipients: env.recipients, value });
    const folder = proposalFolder(env);
    mkdirSync(folder, { recursive: true });
    const path = join(folder, proposalFileName(name, newProposalId()));
    await writeFileAtomic(path, text);
    return path;
  } catch (e) {
    if (e instanceof SopsError) throw new SecretWriteError(e.code, `${env.name}: ${e.message}`, { cause: e });
    throw new SecretWriteError("IO_ERROR", `${env.name}: could not write the proposal: ${(e as Error).message}`, { cause: e });
  }
}

/** git's `user.name <user.email>` in `cwd`, else the OS user name (a claim, as a commit author is). */
function proposer(cwd: string): string {
  const git = (key: string): string | undefined => {
    try {
      return execFileSync("git", ["config", "--get", key], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() || undefined;
    } catch {
      return undefined;
    }
  };
  const name = git("user.name");
  const email = git("user.email");
  if (name !== undefined || email !== undefined) return [name, email === undefined ? undefined : `<${email}>`].filter((x) => x !== undefined).join(" ");
  return userInfo().username;
}

/** Throws INVALID_SECRET_NAME when `name` looks like a credential (`credentialNameProblem`; the message never repeats it). */
function refuseCredentialName(env: EnvironmentInfo, name: string): void {
  const problem = credentialNameProblem(name);
  if (problem !== undefined) throw new SecretWriteError("INVALID_SECRET_NAME", `${env.name}: nothing written: ${problem}`);
}
