/**
 * Hover and completion documentation in a format the client renders. The features write
 * Markdown (`features.ts`: `**name**`, hard line breaks); a client that announces only plain text
 * (`hover.contentFormat`, `completionItem.documentationFormat` without `markdown`, e.g. Emacs
 * eglot without markdown-mode) gets the same text without the Markdown syntax it would show raw.
 */
import type { MarkupContent } from "vscode-languageserver/node";
import { MarkupKind } from "./lsp.js";

/** The plain text of the server's Markdown: bold markers, the spaces of hard line breaks and the escapes of {@link markdownText} removed. */
export function markdownToPlainText(markdown: string): string {
  return markdown
    .replace(/\*\*([^*\n]+)\*\*/g, "$1")
    .replace(/ {2,}\n/g, "\n")
    .replace(/\\([\\`*_[\]<>])/g, "$1");
}

/**
 * Text for the server's Markdown as it is: a glob such as `drafts/**`, or a message of core's, shows
 * its characters instead of starting bold or code (backslash escapes, which
 * {@link markdownToPlainText} removes).
 */
export function markdownText(text: string): string {
  return text.replace(/[\\`*_[\]<>]/g, "\\$&");
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
