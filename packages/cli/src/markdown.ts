/**
 * Text from a pull request (or from an API's answer) in Markdown that GitHub renders: a review
 * comment (`review --format markdown`) or a job summary (`probe --format markdown`). Nothing in it
 * may become a link, an image, markup, a mention or an issue reference, or look like another name.
 */
import { escapeControlCharacters } from "@stellar-secrets/sops";

/**
 * Plain text for Markdown: characters that Markdown or HTML would read (emphasis, links, tables,
 * tags, entities) are escaped; a message's `code` spans stay code spans. A pull request's author
 * controls file and secret names, so nothing in them may become a link, an image or markup.
 */
export function markdownText(text: string): string {
  const one = escapeControlCharacters(text.replace(/\r?\n/g, " "));
  const parts = one.split("`");
  // an unbalanced backtick: everything is text
  if (parts.length % 2 === 0) return escapeMarkdown(one);
  return parts.map((part, i) => (i % 2 === 0 ? escapeMarkdown(part) : markdownCode(part))).join("");
}

/**
 * A zero-width space, as an entity: GitHub finds @mentions, #references (and `GH-1`) and e-mail
 * autolinks in the text it has rendered, where `\\@` is already `@`; only a character between `@` or
 * `#` and what follows keeps them from notifying someone or linking an issue.
 */
const BREAK = "&#8203;";

function escapeMarkdown(text: string): string {
  // `.` too: `www.example.com` is autolinked by GitHub, `www\.example\.com` is not
  return text.replace(/gh-(?=\d)|[\\`*_{}[\]()<>#+!|~&@=^$:.-]/gi, (c) =>
    c.length === 3 ? `${c.slice(0, 2)}\\-${BREAK}` : c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === "&" ? "&amp;" : c === "@" ? `@${BREAK}` : c === "#" ? `\\#${BREAK}` : `\\${c}`,
  );
}

/**
 * An inline code span holding `text` exactly (whatever backticks it has); its control characters,
 * line breaks too, shown as escapes (`\\n`): a name or path is never shown as another one.
 */
export function markdownCode(text: string): string {
  const one = escapeControlCharacters(text);
  if (one === "") return "";
  const longest = Math.max(0, ...(one.match(/`+/g) ?? []).map((m) => m.length));
  const fence = "`".repeat(longest + 1);
  const pad = one.startsWith("`") || one.endsWith("`") || (one.startsWith(" ") && one.endsWith(" ")) ? " " : "";
  return `${fence}${pad}${one}${pad}${fence}`;
}

/** Text inside an HTML element (`<summary>`), where Markdown escapes are not read: HTML entities only. */
export function htmlText(text: string): string {
  return escapeControlCharacters(text)
    .replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] as string)
    .replace(/gh-(?=\d)|[@#]/gi, (c) => `${c}${BREAK}`);
}

/** A code span in a table cell: a pipe would end the cell, even inside the span. */
export function cellCode(text: string): string {
  return markdownCode(text).replace(/\|/g, "\\|");
}
