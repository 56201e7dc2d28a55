/**
 * The one owner of conversions between core's positions (1-based lines and columns, UTF-16) and
 * LSP positions (0-based lines and characters, UTF-16), and of core diagnostics → LSP diagnostics.
 */
import { DiagnosticSeverity, type Diagnostic as LspDiagnostic, type Position, type Range } from "vscode-languageserver/node";
import type { Diagnostic } from "@stellar-secrets/core";

/** The LSP range of a core diagnostic. */
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
}

/** Converts one core diagnostic; `severity` is the effective one after overrides. */
export function toLspDiagnostic(d: Diagnostic, severity: EditorSeverity = d.severity): LspDiagnostic {
  const data: DiagnosticData = {};
  if (d.secret !== undefined) data.secret = d.secret;
  if (d.suggestion !== undefined) data.suggestion = d.suggestion;
  return {
    range: diagnosticRange(d),
    severity: SEVERITY[severity],
    code: d.rule,
    source: "stellar-secrets",
    message: d.message,
    data,
  };
}

/** Line starts of a text, for offset ↔ LSP position conversion of server-side parses. */
export class LspLineMap {
  private readonly starts: number[];
  constructor(private readonly text: string) {
    const s = [0];
    for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) s.push(i + 1);
    this.starts = s;
  }
  /** 0-based position of a 0-based UTF-16 offset (clamped). */
  positionAt(offset: number): Position {
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] as number) <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: o - (this.starts[lo] as number) };
  }
  /** 0-based offset of an LSP position (clamped to its line). */
  offsetAt(p: Position): number {
    if (p.line < 0) return 0;
    if (p.line >= this.starts.length) return this.text.length;
    const start = this.starts[p.line] as number;
    const end = p.line + 1 < this.starts.length ? (this.starts[p.line + 1] as number) - 1 : this.text.length;
    return Math.min(start + Math.max(0, p.character), end);
  }
  /** LSP range of an offset range. */
  range(start: number, end: number): Range {
    return { start: this.positionAt(start), end: this.positionAt(end) };
  }
}

/** True when `p` is inside `r` (ends inclusive, so a cursor right after a name still hits it). */
export function rangeContains(r: Range, p: Position): boolean {
  if (p.line < r.start.line || p.line > r.end.line) return false;
  if (p.line === r.start.line && p.character < r.start.character) return false;
  if (p.line === r.end.line && p.character > r.end.character) return false;
  return true;
}
