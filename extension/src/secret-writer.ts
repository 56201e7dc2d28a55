/**
 * The one place in the extension that turns plaintext into ciphertext: it writes values typed
 * into a password box straight into the environment's encrypted file, in this process, through
 * `@stellar-secrets/sops` (lock, decrypt + MAC check, stable re-encryption, atomic rename).
 * The value never reaches a file in clear, an argv, a log, or the language server's channel.
 */
import { createSecretsFile, editSecretsFile, findIdentities, SopsError } from "@stellar-secrets/sops";
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
