/** The secrets catalog (`<secrets_dir>/catalog.yaml`): description, owner and rotation policy per name. */
import { isMap, isScalar, parseDocument, Scalar, YAMLMap, type Node } from "yaml";
import { compareDiagnostics, diagnosticAt, type Diagnostic } from "./diagnostics.js";
import { credentialLines } from "./credentials.js";
import { LineIndex, loneCrAsLf, type TextRange } from "./position.js";
import { FAST_MAX_DEPTH, parseSimpleYaml, type SimpleDocument } from "./fast-yaml.js";
import { editableDocument, renderEditedDocument } from "./project.js";
import { schemaDiagnostics, validatorFor } from "./validate.js";
import { findPair, keyString, nodeRange } from "./yaml-nodes.js";
import { nestingDiagnostic } from "./yaml-limits.js";
import { isExhaustion } from "./out-of-stack.js";

/**
 * Thrown to the reader's catch when the YAML parser reports that it ran out of stack (it catches
 * the RangeError itself): made once, at load, so that throwing it allocates nothing; this module's
 * own (see out-of-stack.ts).
 */
const STACK_EXHAUSTED = new RangeError("Maximum call stack size exceeded (reported by the YAML parser)");

/** What the catalog says about one secret. */
export interface CatalogEntry {
  description?: string;
  owner?: string;
  /** Rotation policy such as `90d` (d days, w weeks, m months of 30 days, y years of 365 days). */
  rotate_every?: string;
}

/** A parsed catalog. */
export interface ParsedCatalog {
  entries: Map<string, CatalogEntry>;
  diagnostics: Diagnostic[];
  /** Range of each entry's key, for diagnostics and go-to-definition. */
  keyRanges: Map<string, TextRange>;
  /** The text's line index. */
  lines: LineIndex;
  /**
   * True when the parse ran out of stack (a caller that had used most of it): then the catalog is
   * read as empty with one "nested too deeply" `schema` error, though the same text reads whole
   * with more stack, so such a result must not be cached.
   */
  uncacheable?: true;
}

/**
 * Parses the catalog. `path` is the name diagnostics carry (pass it relative to the repository
 * root). An empty file is an empty catalog; schema problems are `schema` diagnostics.
 */
export function parseCatalog(original: string, path: string): ParsedCatalog {
  const text = loneCrAsLf(original); // a lone CR ends a line, as in YAML (same offsets)
  const lines = new LineIndex(text);
  try {
    return parseCatalogChecked(text, path, lines);
  } catch (e) {
    // Out of stack: the model below, built with no call at all, as parseConfigFile's (config.ts)
    if (e !== STACK_EXHAUSTED && !(e instanceof RangeError && typeof e.message === "string" && e.message.includes("call stack"))) throw e;
    return {
      entries: new Map(),
      diagnostics: [{ rule: "schema", severity: "error", file: path, line: 1, column: 1, endLine: 1, endColumn: 1, message: "cannot parse: nested too deeply; the file was not read: flatten it" }],
      keyRanges: new Map(),
      lines,
      uncacheable: true,
    };
  }
}

function parseCatalogChecked(text: string, path: string, lines: LineIndex): ParsedCatalog {
  const parsed = parseCatalogText(text, path, lines);
  // the catalog never holds a credential: any line that does (a comment, a description) is committed in clear
  const found = credentialLines(text);
  if (found.length === 0) return parsed;
  for (const f of found) {
    parsed.diagnostics.push(
      diagnosticAt("plaintext-credential", "error", path, parsed.lines, f.range, `${path} holds what looks like ${f.what} in plain text; remove it (and rotate it at its provider, since git history keeps it), or store it as a secret (stellar-secrets set NAME)`),
    );
  }
  parsed.diagnostics.sort(compareDiagnostics);
  return parsed;
}

function parseCatalogText(text: string, path: string, lines: LineIndex): ParsedCatalog {
  const entries = new Map<string, CatalogEntry>();
  const keyRanges = new Map<string, TextRange>();
  const diagnostics: Diagnostic[] = [];
  // the fast reader first, within FAST_MAX_DEPTH levels: a text it reads needs no nesting scan (see parseConfigFile)
  const shallow = parseSimpleYaml(text, FAST_MAX_DEPTH);
  if (shallow !== undefined && shallow.length === 1) {
    const only = shallow[0] as SimpleDocument;
    return finishCatalog(only.contents, only.value, path, lines, diagnostics);
  }
  const tooDeep = nestingDiagnostic(text, path, lines);
  if (tooDeep !== undefined) return { entries, diagnostics: [tooDeep], keyRanges, lines };
  const simple = shallow ?? parseSimpleYaml(text);
  if (simple !== undefined && simple.length === 1) {
    const only = simple[0] as SimpleDocument;
    return finishCatalog(only.contents, only.value, path, lines, diagnostics);
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  if (doc.errors.some(isExhaustion) || doc.warnings.some(isExhaustion)) throw STACK_EXHAUSTED;
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      diagnostics.push(diagnosticAt("schema", "error", path, lines, { start: e.pos[0], end: e.pos[1] }, `YAML syntax error: ${e.message.split("\n")[0]}`));
    }
    return { entries, diagnostics, keyRanges, lines };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    diagnostics.push(diagnosticAt("schema", "error", path, lines, { start: 0, end: 0 }, `cannot read the catalog: ${(e as Error).message}`));
    return { entries, diagnostics, keyRanges, lines };
  }
  return finishCatalog(doc.contents as Node | null, value, path, lines, diagnostics);
}

function finishCatalog(root: Node | null, value: unknown, path: string, lines: LineIndex, diagnostics: Diagnostic[]): ParsedCatalog {
  const entries = new Map<string, CatalogEntry>();
  const keyRanges = new Map<string, TextRange>();
  diagnostics.push(...schemaDiagnostics(validatorFor("catalog.schema.json"), value, root, path, lines, "error", { start: 0, end: 0 }));
  const secrets = isMap(root) ? findPair(root, "secrets")?.value : undefined;
  if (isMap(secrets)) {
    for (const pair of secrets.items) {
      const name = keyString(pair);
      if (name === undefined) continue;
      const entry: CatalogEntry = {};
      if (isMap(pair.value)) {
        for (const field of ["description", "owner", "rotate_every"] as const) {
          const v = findPair(pair.value, field)?.value;
          if (isScalar(v) && typeof v.value === "string") entry[field] = v.value;
        }
      }
      entries.set(name, entry);
      const r = nodeRange(pair.key as Node);
      if (r !== undefined) keyRanges.set(name, r);
    }
  }
  diagnostics.sort(compareDiagnostics);
  return { entries, diagnostics, keyRanges, lines };
}

/** The number of days of a rotation period (`90d`, `12w`, `6m` = 180, `1y` = 365), or undefined when malformed. */
export function parseRotationPeriod(period: string): number | undefined {
  const m = /^([1-9][0-9]*)([dwmy])$/.exec(period);
  if (m === null) return undefined;
  const n = Number(m[1]);
  const unit = m[2] as "d" | "w" | "m" | "y";
  return n * { d: 1, w: 7, m: 30, y: 365 }[unit];
}

function catalogMap(text: string): { doc: ReturnType<typeof editableDocument>; secrets: YAMLMap } {
  const doc = editableDocument(text, "catalog.yaml");
  const root = doc.contents as YAMLMap;
  let pair = findPair(root, "secrets");
  if (pair === undefined) {
    root.add(doc.createPair("secrets", new YAMLMap()));
    pair = findPair(root, "secrets");
  }
  if (pair === undefined) throw new Error("unreachable");
  if (!isMap(pair.value)) pair.value = new YAMLMap();
  const secrets = pair.value as YAMLMap;
  secrets.flow = false;
  return { doc, secrets };
}

/**
 * Sets fields of one catalog entry, keeping comments and other entries; creates the entry (and
 * the file's `secrets:` mapping) when missing. A field given as `undefined` is removed.
 * @throws CoreError INVALID_CONFIG when the text is not valid YAML or not a mapping.
 */
export function setCatalogEntry(text: string, name: string, patch: Partial<CatalogEntry>): string {
  const { doc, secrets } = catalogMap(text);
  let pair = findPair(secrets, name);
  if (pair === undefined) {
    secrets.add(doc.createPair(name, new YAMLMap()));
    pair = findPair(secrets, name);
  }
  if (pair === undefined) throw new Error("unreachable");
  if (!isMap(pair.value)) pair.value = new YAMLMap();
  const entry = pair.value as YAMLMap;
  for (const [field, value] of Object.entries(patch) as [keyof CatalogEntry, string | undefined][]) {
    const existing = findPair(entry, field);
    if (value === undefined) {
      if (existing !== undefined) entry.items = entry.items.filter((p) => p !== existing);
    } else if (existing !== undefined && isScalar(existing.value)) {
      existing.value.value = value;
    } else if (existing !== undefined) {
      existing.value = new Scalar(value);
    } else {
      entry.add(doc.createPair(field, value));
    }
  }
  entry.flow = entry.items.length === 0;
  return renderEditedDocument(doc, text);
}

/**
 * Removes one entry from the catalog text, keeping comments and other entries (no change when absent).
 * @throws CoreError INVALID_CONFIG when the text is not valid YAML or not a mapping.
 */
export function removeCatalogEntry(text: string, name: string): string {
  const { doc, secrets } = catalogMap(text);
  const pair = findPair(secrets, name);
  if (pair === undefined) return text;
  secrets.items = secrets.items.filter((p) => p !== pair);
  secrets.flow = secrets.items.length === 0;
  return renderEditedDocument(doc, text);
}
