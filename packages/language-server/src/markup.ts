/**
 * Hover and completion documentation in a format the client renders. The features write
 * Markdown (`features.ts`: `**name**`, hard line breaks); a client that announces only plain text
 * (`hover.contentFormat`, `completionItem.documentationFormat` without `markdown`, e.g. Emacs
 * eglot without markdown-mode) gets the same text without the Markdown syntax it would show raw.
 */
import { MarkupKind, type MarkupContent } from "vscode-languageserver/node";

/** The plain text of the server's Markdown: bold markers and the spaces of hard line breaks removed. */
export function markdownToPlainText(markdown: string): string {
  return markdown.replace(/\*\*([^*\n]+)\*\*/g, "$1").replace(/ {2,}\n/g, "\n");
}

/**
 * `content` as the client can show it: unchanged when the client accepts Markdown or says nothing
 * (`formats` undefined or empty: the specification's default leaves the choice to the server),
 * else plain text.
 */
export function forClient(content: MarkupContent, formats: readonly string[] | undefined): MarkupContent {
  if (content.kind !== MarkupKind.Markdown || formats === undefined || formats.length === 0 || formats.includes(MarkupKind.Markdown)) return content;
  return { kind: MarkupKind.PlainText, value: markdownToPlainText(content.value) };
}
