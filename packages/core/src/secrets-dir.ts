/**
 * Files of the secrets folder, read without keys: an environment file's names (with their
 * ranges), whether each value is encrypted, and the file's age recipients, through
 * `@stellar-secrets/sops`'s `parseSecretsFile`. Broken files still give their names (read with
 * a plain YAML fallback) plus `unencrypted-secrets-file` diagnostics.
 */
import { isSopsEncrypted, isSopsError, parseSecretsFile, type SecretsFile } from "@stellar-secrets/sops";
import { isMap, isScalar, parseDocument } from "yaml";
import { compareDiagnostics, diagnosticAt, type Diagnostic } from "./diagnostics.js";
import { LineIndex, type TextRange } from "./position.js";
import { keyString, nodeRange } from "./yaml-nodes.js";

/** One name defined in one environment file. */
export interface SecretDefinition {
  name: string;
  environment: string;
  /** The environment file, relative to the repository root. */
  file: string;
  /** Range of the key. */
  range: TextRange;
  /** Range of the stored value. */
  valueRange: TextRange;
  /** True when the value is "" (stored, but no value). */
  empty: boolean;
  /** True when the value is an ENC[...] string. */
  encrypted: boolean;
}

/** A parsed environment file (`<secrets_dir>/<env>.enc.yaml`). */
export interface EnvironmentFile {
  environment: string;
  /** Relative to the repository root. */
  path: string;
  lines: LineIndex;
  /** False when the file could not be read even with the fallback: its names are unknown. */
  readable: boolean;
  /** Names in file order. */
  entries: SecretDefinition[];
  /** The age recipients of the sops metadata (labels, not proof: see SOPS-FORMAT §4.5), undefined without valid metadata. */
  recipients: string[] | undefined;
  /** Where to report recipient problems (the `age:` key of the metadata, else the `sops:` key). */
  recipientsRange: TextRange | undefined;
  /** `unencrypted-secrets-file` (and `schema` for duplicate keys) at default severity. */
  diagnostics: Diagnostic[];
}

const ENC = /^ENC\[AES256_GCM,data:[A-Za-z0-9+/=]*,iv:[A-Za-z0-9+/=]+,tag:[A-Za-z0-9+/=]+,type:[a-z]+\]$/;

/**
 * Parses one environment file. `path` is relative to the repository root. Never throws:
 * a file without valid SOPS metadata, or with a plaintext value, gives `unencrypted-secrets-file`
 * diagnostics (never showing the value) and its names from a plain YAML read when possible.
 */
export function parseEnvironmentFile(text: string, path: string, environment: string): EnvironmentFile {
  const lines = new LineIndex(text);
  const result: EnvironmentFile = {
    environment,
    path,
    lines,
    readable: true,
    entries: [],
    recipients: undefined,
    recipientsRange: undefined,
    diagnostics: [],
  };
  let parsed: SecretsFile | undefined;
  try {
    parsed = parseSecretsFile(text);
  } catch (e) {
    if (!isSopsError(e)) throw e;
    const at = e.line !== undefined ? lines.offsetAt(e.line, e.column ?? 1) : 0;
    const lineEnd = e.line !== undefined ? lines.offsetAt(e.line + 1, 1) : 0;
    const rule = e.code === "DUPLICATE_KEY" ? "schema" : "unencrypted-secrets-file";
    // plaintext values are reported one by one by the fallback below
    const plaintextValue = e.code === "NOT_ENCRYPTED" && /plaintext value/.test(e.message);
    if (!plaintextValue) {
      const what = e.code === "NOT_ENCRYPTED" ? "is not encrypted" : "has no valid SOPS metadata";
      result.diagnostics.push(
        diagnosticAt(rule, "error", path, lines, { start: at, end: Math.max(at, lineEnd - 1) }, `${path} ${what}: ${e.message.replace(/^.*?:\d+(:\d+)?: /, "")}${e.hint ? ` (${e.hint})` : ""}`),
      );
    }
    fallback(text, result);
    result.diagnostics.sort(compareDiagnostics);
    return result;
  }
  for (const entry of parsed.entries) {
    result.entries.push({
      name: entry.name,
      environment,
      file: path,
      range: entry.nameRange,
      valueRange: entry.valueRange,
      empty: entry.raw === "",
      encrypted: entry.encrypted,
    });
  }
  result.recipients = parsed.recipients;
  result.recipientsRange = recipientsRangeOf(text, parsed.metadataRange.start);
  return result;
}

function recipientsRangeOf(text: string, sopsStart: number): TextRange {
  const re = /^[ \t]+age:/gm;
  re.lastIndex = sopsStart;
  const m = re.exec(text);
  if (m !== null) {
    const start = m.index + m[0].indexOf("age");
    return { start, end: start + 3 };
  }
  return { start: sopsStart, end: sopsStart + 4 };
}

/** Reads names and the metadata's presence with a plain YAML parse, flagging plaintext values. */
function fallback(text: string, result: EnvironmentFile): void {
  const { path, lines, environment } = result;
  let doc;
  try {
    doc = parseDocument(text, { uniqueKeys: false, prettyErrors: false });
  } catch {
    result.readable = false;
    return;
  }
  const root = doc.contents;
  if (doc.errors.length > 0 || !isMap(root)) {
    result.readable = text.trim() === "";
    return;
  }
  let hasMetadata = false;
  for (const pair of root.items) {
    const name = keyString(pair);
    const keyRange = nodeRange(pair.key as never);
    if (name === undefined || keyRange === undefined) continue;
    if (name === "sops") {
      hasMetadata = true;
      result.recipientsRange = recipientsRangeOf(text, keyRange.start);
      const value = pair.value;
      if (isMap(value)) {
        const age = value.items.find((p) => keyString(p) === "age")?.value;
        const js = (age as { toJSON?: () => unknown } | undefined)?.toJSON?.();
        if (Array.isArray(js)) {
          result.recipients = js
            .map((s) => (s !== null && typeof s === "object" ? (s as Record<string, unknown>).recipient : undefined))
            .filter((r): r is string => typeof r === "string")
            .map((r) => r.trim());
        }
      }
      continue;
    }
    const value = pair.value;
    const valueRange = nodeRange(value as never) ?? keyRange;
    const raw = isScalar(value) && typeof value.value === "string" ? value.value : undefined;
    const encrypted = raw !== undefined && ENC.test(raw);
    const empty = raw === "";
    result.entries.push({ name, environment, file: path, range: keyRange, valueRange, empty, encrypted });
    if (!encrypted && !empty) {
      result.diagnostics.push(
        diagnosticAt(
          "unencrypted-secrets-file",
          "error",
          path,
          lines,
          valueRange,
          `secret "${name}" has a plaintext value instead of ENC[...]; remove it from the file and from git history, rotate the credential, then set it with \`stellar-secrets set ${name} --env ${environment}\``,
          { secret: name },
        ),
      );
    }
  }
  if (!hasMetadata && !result.diagnostics.some((d) => d.line === 1 && d.column === 1)) {
    result.diagnostics.push(diagnosticAt("unencrypted-secrets-file", "error", path, lines, { start: 0, end: 0 }, `${path} has no SOPS metadata: it is not encrypted`));
  }
}

/**
 * Checks a file of the secrets folder that is neither an environment file nor the catalog
 * (`unencrypted-secrets-file` unless it is a valid SOPS file). `path` is relative to the root.
 */
export function checkOtherSecretsFile(text: string, path: string): Diagnostic[] {
  if (isSopsEncrypted(text)) return [];
  const lines = new LineIndex(text);
  return [
    diagnosticAt(
      "unencrypted-secrets-file",
      "error",
      path,
      lines,
      { start: 0, end: 0 },
      `${path} is not a SOPS-encrypted file; the secrets folder holds only encrypted environment files (<env>.enc.yaml) and catalog.yaml`,
    ),
  ];
}
