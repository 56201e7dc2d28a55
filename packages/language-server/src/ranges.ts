/**
 * The one owner of LSP positions and ranges in the server. Offsets ↔ lines are core's
 * {@link LineIndex} (1-based lines and columns, UTF-16); this module only shifts them to LSP's
 * 0-based lines and characters (also UTF-16), and converts core diagnostics to LSP diagnostics.
 * Nothing else in the server computes a line or a column.
 */
import type { Diagnostic as LspDiagnostic, Position, Range } from "vscode-languageserver/node";
import { DiagnosticSeverity } from "./lsp.js";
import type { Diagnostic, LineIndex, TextRange } from "@stellar-secrets/core";

/** The LSP position of a 0-based offset (clamped to the text). */
export function toLspPosition(lines: LineIndex, offset: number): Position {
  const p = lines.positionAt(offset);
  return { line: p.line - 1, character: p.column - 1 };
}

/** The 1-based line of an LSP position, for display (`file:line`). */
export function displayLine(position: Position): number {
  return position.line + 1;
}

/** The LSP range of an offset range; an inverted range collapses to its start. */
export function toLspRange(lines: LineIndex, range: TextRange): Range {
  return { start: toLspPosition(lines, range.start), end: toLspPosition(lines, Math.max(range.start, range.end)) };
}

/** The 0-based offset of an LSP position (clamped to the text, and to the end of its line). */
export function toOffset(lines: LineIndex, position: Position): number {
  return lines.offsetAt(position.line + 1, position.character + 1);
}

/** The LSP range of a core diagnostic (1-based, end-exclusive lines and columns). */
export function diagnosticRange(d: Pick<Diagnostic, "line" | "column" | "endLine" | "endColumn">): Range {
  return {
    start: { line: Math.max(0, d.line - 1), character: Math.max(0, d.column - 1) },
    end: { line: Math.max(0, d.endLine - 1), character: Math.max(0, d.endColumn - 1) },
  };
}

/** A severity after the editor's per-rule override: core's three levels plus `hint`. */
export type EditorSeverity = "error" | "warning" | "info" | "hint";

const SEVERITY: Record<EditorSeverity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  info: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

/** Data attached to every diagnostic the server publishes (read back by code actions). */
export interface DiagnosticData {
  secret?: string;
  suggestion?: string;
  /** Other replacements as near as `suggestion` (core's `alternatives`: an ambiguous typo). */
  alternatives?: string[];
}

/** Converts one core diagnostic; `severity` is the effective one after overrides. */
export function toLspDiagnostic(d: Diagnostic, severity: EditorSeverity = d.severity): LspDiagnostic {
  const data: DiagnosticData = {};
  if (d.secret !== undefined) data.secret = d.secret;
  if (d.suggestion !== undefined) data.suggestion = d.suggestion;
  if (d.alternatives !== undefined) data.alternatives = [...d.alternatives];
  return {
    range: diagnosticRange(d),
    severity: SEVERITY[severity],
    code: d.rule,
    source: "stellar-secrets",
    message: d.message,
    data,
  };
}

/**
 * `position` as LSP 3.17 reads it in `text`: a `character` past the end of its line is the line's
 * end (Position: "defaults back to the line length"), the line's break (`\r\n`, `\n`, a lone `\r`)
 * not counted. {@link toOffset} alone clamps to the offset of the `\n`, which on a CRLF line is
 * after its `\r`: a request past the end of such a line (an editor's cursor in virtual space, a
 * client that counts in another unit) then found nothing where the same request on an LF line did.
 * A line past the text's last is left as it is ({@link toOffset} clamps it to the text's end).
 */
export function clampToLine(text: string, lines: LineIndex, position: Position): Position {
  const { line, character } = position;
  if (line < 0 || line >= lines.lineCount) return position;
  const start = lines.lineStarts[line] as number;
  let end = line + 1 < lines.lineCount ? (lines.lineStarts[line + 1] as number) : text.length;
  if (end > start && text.charCodeAt(end - 1) === 10) end--;
  if (end > start && text.charCodeAt(end - 1) === 13) end--;
  return character > end - start ? { line, character: end - start } : position;
}
