/**
 * Can this person write an environment? Checked before a command asks for a value, so a missing
 * key is found before anything is typed. An existing file needs an age identity that unwraps its
 * data key (found the way sops finds one); a new file only needs recipients in stellar.yaml.
 * No vscode import (tested beside). Messages never hold key material or values; they may hold
 * the person's own public key (what a member needs to add them).
 */
import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { defaultKeyFilePath, findIdentities, identityToRecipient, isAgeIdentity, parseSecretsFile, SopsError, unwrapFileKey, type Identities } from "@stellar-secrets/sops";
import type { EnvironmentInfo } from "@stellar-secrets/language-server/protocol";

/** Whether an environment can be written, and if not, a short message and what to do. */
export type WriteAccess =
  | { ok: true }
  | {
      ok: false;
      /** `NO_IDENTITY`, `NO_MATCHING_IDENTITY`, `NO_RECIPIENTS`, or a sops error code for a file that cannot be read. */
      code: string;
      /** One short sentence for a notification. */
      message: string;
      /** What was checked and what to do, for the output channel (several lines). */
      detail: string;
    };

/** The person's public keys (age recipients of their age identities), to give to a member. */
export async function ownRecipients(ids: Identities): Promise<string[]> {
  const out: string[] = [];
  for (const id of ids.identities) if (isAgeIdentity(id)) out.push(await identityToRecipient(id));
  return out;
}

/** The age-keygen line that creates `file`, with its folder first where a shell can (age-keygen does not create it). */
function keygenCommand(file: string): string {
  if (process.platform === "win32") return `age-keygen -o ${file}`;
  // a path with a space or a quote pasted into a POSIX shell whole
  const word = (path: string): string => (/^[A-Za-z0-9_./~+-]+$/.test(path) ? path : `'${path.replace(/'/g, "'\\''")}'`);
  return `mkdir -p ${word(dirname(file))} && age-keygen -o ${word(file)}`;
}

function noKeyDetail(env: EnvironmentInfo, ids: Identities): string {
  return [
    `No age key found, so ${env.name} (${env.file}) cannot be written.`,
    `Looked in: ${ids.sources.join("; ")}.`,
    ...(ids.problems ?? []).map((p) => `Problem: ${p}`),
    `To fix: create a key with \`${keygenCommand(defaultKeyFilePath())}\` (it prints your public key; or \`stellar-secrets keygen\`),`,
    `then ask a member of ${env.name} to run \`stellar-secrets members add YOUR_NAME YOUR_PUBLIC_KEY --env ${env.name}\` and commit.`,
  ].join("\n");
}

/** Checks that `env` can be written with the identities found (`ids`, default: the sops sources). Never throws. */
export async function checkWriteAccess(env: EnvironmentInfo, ids: Identities = findIdentities()): Promise<WriteAccess> {
  if (!env.exists) {
    if (env.recipients.length > 0) return { ok: true };
    return {
      ok: false,
      code: "NO_RECIPIENTS",
      message: `${env.name} has no members in stellar.yaml.`,
      detail: `Environment "${env.name}" has no members in stellar.yaml, so nobody could decrypt ${env.file}.\nTo fix: add a member with \`stellar-secrets members add NAME PUBLIC_KEY --env ${env.name}\`.`,
    };
  }
  if (ids.identities.length === 0) return { ok: false, code: "NO_IDENTITY", message: `No age key found: you cannot write ${env.name}.`, detail: noKeyDetail(env, ids) };
  let text: string;
  try {
    text = await readFile(env.file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "IO_ERROR";
    return { ok: false, code, message: `Cannot read the ${env.name} file.`, detail: `Cannot read ${env.file} (${code}).` };
  }
  try {
    await unwrapFileKey(parseSecretsFile(text, { path: env.file }), ids, env.file);
    return { ok: true };
  } catch (e) {
    if (!(e instanceof SopsError)) return { ok: false, code: "IO_ERROR", message: `Cannot open the ${env.name} file.`, detail: `${env.file}: ${(e as Error).message}` };
    if (e.code === "NO_MATCHING_IDENTITY") {
      const mine = await ownRecipients(ids);
      return {
        ok: false,
        code: e.code,
        message: `Your age key cannot open ${env.name}: ask a member to add you.`,
        detail: [
          `None of your ${ids.identities.length} key(s) can open ${env.file} (looked in: ${ids.sources.join("; ")}).`,
          `Its members in stellar.yaml: ${env.recipients.length} key(s).`,
          `To fix: ask a member of ${env.name} to run \`stellar-secrets members add YOUR_NAME ${mine[0] ?? "YOUR_PUBLIC_KEY"} --env ${env.name}\` and commit, then pull.`,
        ].join("\n"),
      };
    }
    return { ok: false, code: e.code, message: `Cannot open the ${env.name} file (${e.code}).`, detail: `${env.file}: ${e.message}${e.hint ? `\n${e.hint}` : ""}` };
  }
}
