/** The checker's output: one problem at one range of one file. */
import type { LineIndex, TextRange } from "./position.js";
import type { RuleId, Severity } from "./rules.js";

/**
 * One problem. `file` is relative to the repository root with `/` separators; lines and
 * columns are 1-based (columns in UTF-16 code units); the end is exclusive.
 * Messages never contain a secret value.
 */
export interface Diagnostic {
  rule: RuleId;
  severity: Severity;
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  message: string;
  /** The secret name concerned, when there is one. */
  secret?: string;
  /** A replacement that would fix the problem (a nearest secret name, a corrected name...). */
  suggestion?: string;
  /**
   * Other replacements as near as `suggestion` (an ambiguous typo: `dhl_ap_key` is one edit from
   * `dhl_api_key` and from `dhl_app_key`), in the order the message names them; absent when
   * `suggestion` is the only one.
   */
  alternatives?: string[];
}

/** Builds a diagnostic from an offset range, converting it with the file's {@link LineIndex}. */
export function diagnosticAt(
  rule: RuleId,
  severity: Severity,
  file: string,
  lines: LineIndex,
  range: TextRange,
  message: string,
  extra?: { secret?: string; suggestion?: string; alternatives?: string[] },
): Diagnostic {
  const start = lines.positionAt(range.start);
  const end = lines.positionAt(Math.max(range.start, range.end));
  const d: Diagnostic = {
    rule,
    severity,
    file,
    line: start.line,
    column: start.column,
    endLine: end.line,
    endColumn: end.column,
    message,
  };
  if (extra?.secret !== undefined) d.secret = extra.secret;
  if (extra?.suggestion !== undefined) d.suggestion = extra.suggestion;
  if (extra?.alternatives !== undefined && extra.alternatives.length > 0) d.alternatives = extra.alternatives;
  return d;
}

/** Orders diagnostics by file, then position, then rule id (a stable order for output and tests). */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.line - b.line || a.column - b.column || (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0) || (a.message < b.message ? -1 : a.message > b.message ? 1 : 0);
}

/** Counts of errors, warnings and infos. */
export function summarize(diagnostics: readonly Diagnostic[]): { errors: number; warnings: number; infos: number } {
  let errors = 0;
  let warnings = 0;
  let infos = 0;
  for (const d of diagnostics) {
    if (d.severity === "error") errors++;
    else if (d.severity === "warning") warnings++;
    else infos++;
  }
  return { errors, warnings, infos };
}
