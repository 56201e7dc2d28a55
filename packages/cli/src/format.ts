/**
 * Output formatting shared by commands: aligned text tables and JSON documents. Pure functions
 * from data to text; commands write the result.
 */

import { escapeControlCharacters } from "@stellar-secrets/sops";
import { stringifyJson } from "./json-text.js";

export { stringifyJson };

/** Renders rows under `headers` as left-aligned columns separated by two spaces, no trailing spaces; control characters in cells are escaped. */
export function renderTable(headers: string[], rawRows: string[][]): string {
  // names and paths come from files anyone can edit: control characters are shown, never sent to the terminal
  const rows = rawRows.map((r) => r.map((c) => escapeControlCharacters(c)));
  // a loop, not Math.max(...rows): a spread of 100,000+ rows overflows the call stack
  const widths = headers.map((h, i) => rows.reduce((w, r) => Math.max(w, displayWidth(r[i] ?? "")), displayWidth(h)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + " ".repeat((widths[i] ?? 0) - displayWidth(c))))
      .join("  ")
      .replace(/\s+$/, "");
  return [line(headers), ...rows.map(line)].join("\n") + "\n";
}

/**
 * `lines` as terminal text, each ended by a newline, with every control character in them shown
 * escaped (a newline too): names, labels and paths come from files any change can edit, and must not
 * move the cursor, erase a line or start a fake one.
 */
export function terminalLines(lines: readonly string[]): string {
  return lines.map((line) => `${escapeControlCharacters(line)}\n`).join("");
}

/** A JSON document as the CLI prints it: two-space indent and a final newline. */
export function renderJson(value: unknown): string {
  return `${stringifyJson(value, 2)}\n`;
}

/** `a, b and c` */
export function humanList(items: string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** `1 secret` / `2 secrets` */
export function plural(count: number, word: string, pluralWord = `${word}s`): string {
  return `${count} ${count === 1 ? word : pluralWord}`;
}

/** A shortened age recipient for tables: `age1abcd…wxyz`. */
export function shortRecipient(recipient: string): string {
  // every ssh-ed25519 key starts with the same 36 characters: show the type and the end instead
  if (recipient.startsWith("ssh-")) return `${recipient.split(" ")[0]} …${recipient.slice(-8)}`;
  return recipient.length <= 20 ? recipient : `${recipient.slice(0, 10)}…${recipient.slice(-6)}`;
}

/**
 * The "WHO could read these values ... Rotate them now:" block for keys that lost access, with one
 * `set` command per secret and environment (empty when nothing was exposed). Starts with a blank line.
 */
export function rotateNowLines(who: string, exposed: readonly { environment: string; secrets: string[] }[]): string[] {
  const total = exposed.reduce((n, e) => n + e.secrets.length, 0);
  if (total === 0) return [];
  const lines = ["", `${who} could read these values (and keeps any copy, e.g. from git history). Rotate them now:`];
  const width = Math.max(...exposed.flatMap((e) => e.secrets.map((s) => s.length)));
  for (const e of exposed) {
    if (e.secrets.length === 0) continue;
    lines.push(`  ${e.environment}:`);
    for (const s of e.secrets) lines.push(`    ${s.padEnd(width)}  → new value at the provider, then: stellar-secrets set ${s} --env ${e.environment}`);
  }
  return lines;
}

function displayWidth(text: string): number {
  return [...text].length;
}
