/**
 * How keyless listings (`list`, `members list`) report the environment files they could not read
 * while they show the others: each file's coded error as the CLI prints any error (what, where,
 * how to fix), a note naming the environments left out, and the exit status of the first error.
 * Pure: the commands write the text.
 */
import { relative } from "node:path";
import { escapeControlCharacters } from "@stellar-secrets/sops";
import { exitCodeFor } from "./errors.js";
import { formatError } from "./entry.js";
import { humanList } from "./format.js";
import type { UnreadableEnvironmentFile } from "./repository.js";

/**
 * The stderr text for `unreadable` (empty when there is none): each file's error as
 * `stellar-secrets: CODE: file:line:column: message` and its hint, control characters escaped,
 * then `note: ENV[, ENV]: <consequence>` (what the command did without those files). Never a
 * value: the errors of a keyless read hold none.
 */
export function unreadableReport(unreadable: readonly UnreadableEnvironmentFile[], consequence: string): string {
  if (unreadable.length === 0) return "";
  const errors = unreadable.map((u) => formatError(u.error, { escape: escapeControlCharacters }).text).join("");
  return `${errors}note: ${humanList(unreadable.map((u) => u.env.name))}: ${consequence}\n`;
}

/** `unreadable` for a `--json` document: environment, file (relative to `root`), code, message, hint (null when none). */
export function unreadableJson(unreadable: readonly UnreadableEnvironmentFile[], root: string): { environment: string; file: string; code: string; message: string; hint: string | null }[] {
  return unreadable.map((u) => ({ environment: u.env.name, file: relative(root, u.path), code: u.error.code, message: u.error.message, hint: u.error.hint ?? null }));
}

/** The exit status of a listing with `unreadable` files: 0 when none, else the first error's (MALFORMED_FILE: 13). */
export function unreadableStatus(unreadable: readonly UnreadableEnvironmentFile[]): number {
  return unreadable.length === 0 ? 0 : exitCodeFor(unreadable[0]!.error.code);
}
