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
