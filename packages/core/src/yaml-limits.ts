/**
 * The bound on YAML nesting as a checker diagnostic: every core parser (config files,
 * stellar.yaml, the catalog, `.sops.yaml`) asks {@link nestingDiagnostic} before it parses, so a
 * file nested thousands of levels deep is one `schema` error on that file instead of a stack
 * overflow that stops the whole check (or the language server).
 */
import { excessiveNestingMessage, findExcessiveNesting, MAX_YAML_DEPTH } from "@stellar-secrets/sops";
import { diagnosticAt, type Diagnostic } from "./diagnostics.js";
import { lineEndAt, type LineIndex } from "./position.js";
import type { Severity } from "./rules.js";

export { MAX_YAML_DEPTH } from "@stellar-secrets/sops";

/**
 * A `schema` diagnostic on the line where `text` first nests deeper than {@link MAX_YAML_DEPTH}
 * levels, or undefined when it does not. Never throws.
 */
export function nestingDiagnostic(text: string, file: string, lines: LineIndex, severity: Severity = "error"): Diagnostic | undefined {
  const found = findExcessiveNesting(text, MAX_YAML_DEPTH);
  if (found === undefined) return undefined;
  return diagnosticAt("schema", severity, file, lines, { start: found.offset, end: Math.min(lineEndAt(text, found.offset), found.offset + 200) }, excessiveNestingMessage(found));
}
