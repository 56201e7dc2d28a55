/**
 * Flat secrets files (`secrets/<env>.enc.yaml`): a map name → encrypted string plus the `sops`
 * block. Parsing (no keys needed), verified decryption, and writing with stable ciphertext.
 */
import { randomBytes } from "./lazy-crypto.js";
import { isMap, isScalar, isSeq, isAlias, parseAllDocuments, parseDocument, type Document, type Pair } from "yaml";
import { unwrapDataKey, wrapDataKey } from "./age.js";
import { SopsError } from "./errors.js";
import { readKeyGroups, unwrapKeyGroupsKey } from "./key-groups.js";
import { toIdentities, type Identities } from "./identities.js";
import { normalizeRecipient } from "./ssh.js";
import { MacBuilder, encryptMac, verifyMac } from "./mac.js";
import { MAX_SECRETS_FILE_BYTES } from "./layout.js";
import { LineIndex, lineBreakOf, loneCrAsLf, withLineBreak, type LineBreak, type Position } from "./position.js";
import { assertNestingBound, findExcessiveNesting } from "./yaml-depth.js";
import {
  WRITTEN_SOPS_VERSION,
  unsupportedRuleError,
  compareVersions,
  hasOtherMasterKeys,
  metadataFromObject,
  renderMetadataYaml,
  rewriteKeptMetadata,
  sopsEncryptsPath,
  yamlDoubleQuoted,
  type WrittenMetadata,
} from "./metadata.js";
import type { AgeStanza, DecryptedSecrets, EncryptOptions, FlatComments, SecretEntry, SecretsFile, SopsMetadata } from "./types.js";
import { carriedComments, commentsToWrite, findFlatComments, renderEntryWithComments, type CarriedComments } from "./comments.js";
import { canonicalize, decryptValue, encryptValue, formatLastModified, isEncValue, parseEnc, type SopsValueType } from "./values.js";

/** Files larger than this are refused before parsing: the layout's {@link MAX_SECRETS_FILE_BYTES}. */
export const DEFAULT_MAX_BYTES = MAX_SECRETS_FILE_BYTES;

/** Options for the parsers. */
export interface ParseOptions {
  /** The file's path, used in error messages and to pick the format (`.json` → JSON). */
  path?: string;
  format?: "yaml" | "json";
  /** Size limit in bytes (default {@link DEFAULT_MAX_BYTES}). */
  maxBytes?: number;
}

/** 1-based line and column of an offset, for a one-off error message (loops build one {@link LineIndex}). */
function lineColumn(text: string, offset: number): Position {
  return new LineIndex(text).positionAt(offset);
}

function formatOf(options: ParseOptions): "yaml" | "json" {
  return options.format ?? (options.path?.endsWith(".json") ? "json" : "yaml");
}

// ---------------------------------------------------------------------------------------------
// Parsing

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const YAML_RESERVED = /^(?:true|false|null|y|n|yes|no|on|off|~)$/i;
const FAST_VALUE = `(ENC\\[AES256_GCM,data:[A-Za-z0-9+/=]+,iv:[A-Za-z0-9+/=]+,tag:[A-Za-z0-9+/=]+,type:([a-z]+)\\]|"")`;
/**
 * One entry line, matched in place (sticky, no slice per line): a plain key (group 1), a
 * double-quoted key without escapes (group 2) or a single-quoted key (group 3, `''` standing for
 * `'`), then the value (group 4) and its type (group 5), then the end of the line: LF, CRLF (the
 * `\r` is part of the line break, not of the value) or the end of the text. Quoted keys hold
 * printable ASCII only: anything else (escapes, tabs, non-ASCII, any other CR) goes to the full parser.
 */
const FAST_LINE = new RegExp(`(?:([A-Za-z_][A-Za-z0-9_]*)|"([\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]*)"|'((?:[\\x20-\\x26\\x28-\\x7e]|'')*)'): ${FAST_VALUE}(?=\\r?\\n|$)`, "y");

/**
 * The fast path for the layout this package writes (one `name: ENC[...]` per line, then `sops:`
 * last), with LF or CRLF line ends (mixed too: a line ends at `\n`, and a `\r` just before it
 * belongs to the line break). Returns undefined for anything else, a lone CR included, which then
 * goes through the full YAML parser (or the lone-CR path).
 */
function parseFlatFast(text: string, file?: string): { entries: SecretEntry[]; sopsOffset: number } | undefined {
  const entries: SecretEntry[] = [];
  const seen = new Set<string>();
  let pos = 0;
  while (pos < text.length) {
    if (text.startsWith("sops:", pos) && (pos + 5 === text.length || text.charCodeAt(pos + 5) === 10 || (text.charCodeAt(pos + 5) === 13 && text.charCodeAt(pos + 6) === 10))) {
      // Everything after must be the indented metadata block (blank lines, LF or CRLF, allowed).
      for (let p = text.indexOf("\n", pos + 5) + 1; p > 0 && p < text.length; ) {
        let e = text.indexOf("\n", p);
        if (e === -1) e = text.length;
        if (e > p && text.charCodeAt(p) !== 32 && !(e === p + 1 && e < text.length && text.charCodeAt(p) === 13)) return undefined;
        p = e + 1;
      }
      return { entries, sopsOffset: pos };
    }
    FAST_LINE.lastIndex = pos;
    const m = FAST_LINE.exec(text);
    if (m === null) return undefined;
    const end = pos + m[0].length;
    let name: string;
    if (m[1] !== undefined) {
      if (YAML_RESERVED.test(m[1])) return undefined;
      name = m[1];
    } else if (m[2] !== undefined) {
      name = m[2];
    } else {
      name = m[3]!.replace(/''/g, "'");
    }
    // `"sops":` is the metadata key however it is spelled; `""` is a name the general parser judges.
    if (name === "sops" || name === "") return undefined;
    const keyLength = m[0].length - m[4]!.length - 2;
    if (seen.has(name)) {
      throw new SopsError("DUPLICATE_KEY", `secret "${name}" appears twice`, {
        file,
        ...lineColumn(text, pos),
        hint: "remove one of the two entries (restore the file from git if unsure)",
      });
    }
    seen.add(name);
    const raw = m[4] === '""' ? "" : m[4]!;
    const valueStart = pos + keyLength + 2;
    entries.push({
      name,
      raw,
      encrypted: raw !== "",
      ...(raw !== "" ? { type: m[5] as SopsValueType } : {}),
      nameRange: { start: pos, end: pos + keyLength },
      valueRange: { start: valueStart, end },
    });
    // past the line break: `\n`, or the `\r\n` the match's lookahead saw
    pos = text.charCodeAt(end) === 13 ? end + 2 : end + 1;
  }
  return undefined; // no sops block: let the full parser report it
}

// Each line of the block as split at `\n`: a `\r` at its end is the CR of a CRLF (a lone CR on the
// last line is refused before these run); any other CR fails them (`.` and `\S` match no CR).
const SOPS_RECIPIENT_LINE = /^ {8}- recipient: (age1[02-9ac-hj-np-z]+|ssh-ed25519 [A-Za-z0-9+/=]+)\r?$/;
const SOPS_ENC_LINE = /^ {10}enc: \|\r?$/;
const SOPS_ENC_BODY = /^ {12}(\S(?:.*\S)?)\r?$/;
const SOPS_FIELDS = /^ {4}(lastmodified: "([0-9A-Za-z:.+-]+)"|mac: (ENC\[AES256_GCM,data:[A-Za-z0-9+/=]+,iv:[A-Za-z0-9+/=]+,tag:[A-Za-z0-9+/=]+,type:str\])|unencrypted_suffix: (_unencrypted)|version: (\d+\.\d+\.\d+))\r?$/;

/**
 * The `sops:` block exactly as this package (and sops 3.10–3.12) writes it, read without `yaml`:
 * `age` entries (`recipient` then `enc: |` with its 12-space literal lines), then `lastmodified`
 * (double-quoted), `mac`, `unencrypted_suffix: _unencrypted` and `version`, each once, in that
 * order, with LF or CRLF line ends. Returns the plain object `yaml` would give, or undefined for
 * any other spelling (then `yaml` reads it). `reader.test.ts` checks both readers give the same metadata.
 */
function parseSopsBlockFast(text: string, sopsOffset: number): Record<string, unknown> | undefined {
  const lines = text.slice(sopsOffset).split("\n");
  const last = lines[lines.length - 1]!;
  if (last === "") lines.pop();
  else if (last.endsWith("\r")) return undefined; // a lone CR at the end: the lone-CR path reads it
  if ((lines[0] !== "sops:" && lines[0] !== "sops:\r") || (lines[1] !== "    age:" && lines[1] !== "    age:\r")) return undefined;
  const age: { recipient: string; enc: string }[] = [];
  let i = 2;
  for (;;) {
    const r = SOPS_RECIPIENT_LINE.exec(lines[i] ?? "");
    if (r === null) break;
    if (!SOPS_ENC_LINE.test(lines[i + 1] ?? "")) return undefined;
    i += 2;
    let enc = "";
    for (let m = SOPS_ENC_BODY.exec(lines[i] ?? ""); m !== null; m = SOPS_ENC_BODY.exec(lines[i] ?? "")) {
      enc += `${m[1]}\n`;
      i++;
    }
    if (enc === "") return undefined;
    age.push({ recipient: r[1]!, enc });
  }
  if (age.length === 0) return undefined;
  const out: Record<string, unknown> = { age };
  const order = ["lastmodified", "mac", "unencrypted_suffix", "version"];
  for (const key of order) {
    const m = SOPS_FIELDS.exec(lines[i++] ?? "");
    if (m === null || !m[1]!.startsWith(`${key}:`)) return undefined;
    out[key] = m[2] ?? m[3] ?? m[4] ?? m[5];
  }
  return i === lines.length ? out : undefined;
}

/**
 * A line git writes around a conflict when it merges a file as text (`<<<<<<< `, `=======`,
 * `>>>>>>> `, diff3's `||||||| `): tests one line (its text without the line break). The one
 * definition: the reader's `conflict-markers` error and core's `stale-mac` rule both use it.
 */
export const CONFLICT_MARKER_LINE = /^(?:<{7}|={7}|>{7}|\|{7})(?:[ \t]|\r?$)/;
const CONFLICT_MARKER = new RegExp(CONFLICT_MARKER_LINE.source, "m");

/**
 * A file git merged as text and left with conflict markers: git's line merge cannot merge an
 * environment file (the MAC covers every value), so no one can decrypt it; say so, and how to
 * redo the merge per secret name, rather than report a YAML syntax error.
 */
function conflictMarkersError(text: string, file?: string): SopsError | undefined {
  const m = CONFLICT_MARKER.exec(text);
  if (m === null) return undefined;
  const where = file ?? "FILE";
  return new SopsError("MALFORMED_FILE", `git conflict markers (\`${m[0].trimEnd()}\`): git merged the file as text, which no one can decrypt`, {
    reason: "conflict-markers",
    file,
    ...lineColumn(text, m.index),
    hint:
      `redo the merge per secret name: \`stellar-secrets git setup\` (once per clone: the merge driver), then, while the merge is in progress, ` +
      `\`git checkout -m -- ${where}\` and \`stellar-secrets resolve\` each name it reports; otherwise restore the file (\`git checkout -- ${where}\`)`,
  });
}

function yamlError(doc: Document.Parsed, text: string, file?: string): never {
  const markers = conflictMarkersError(text, file);
  if (markers !== undefined) throw markers;
  const err = doc.errors[0]!;
  const lc = err.linePos?.[0];
  const where = lc !== undefined ? { line: lc.line, column: lc.col } : lineColumn(text, err.pos[0]);
  if (err.code === "DUPLICATE_KEY") {
    throw new SopsError("DUPLICATE_KEY", "a key appears twice in the same mapping", {
      file,
      ...where,
      hint: "remove one of the two entries",
    });
  }
  const first = err.message.split("\n")[0] ?? "syntax error";
  throw new SopsError("MALFORMED_FILE", `not valid ${"YAML"}: ${first.replace(/ at line \d+, column \d+:?$/, "")}`, {
    file,
    ...where,
    hint: "fix the syntax, or restore the file from git",
  });
}

function metadataFromNode(doc: Document.Parsed, pair: Pair, text: string, file?: string): SopsMetadata {
  let value: unknown;
  try {
    value = (pair.value as { toJS?: (d: Document.Parsed, o: object) => unknown })?.toJS?.(doc, { maxAliasCount: 0 });
  } catch (cause) {
    throw new SopsError("MALFORMED_FILE", "the sops metadata uses YAML aliases", { file, cause });
  }
  // Keep `version` as written: `3.10` must not become the number 3.1 in messages or checks.
  if (isMap(pair.value)) {
    const v = pair.value.items.find((p) => isScalar(p.key) && p.key.value === "version")?.value;
    if (isScalar(v) && typeof v.value === "number" && v.source !== undefined && value !== null && typeof value === "object") {
      (value as Record<string, unknown>).version = v.source;
    }
  }
  const start = (pair.key as { range?: [number, number, number] }).range?.[0] ?? 0;
  return metadataFromObject(value, file, lineColumn(text, start).line);
}

/**
 * `: the file's sops.encrypted_regex "…" leaves it unencrypted` when the file's own crypt rule
 * (SOPS-FORMAT §3) is why sops left `name` in clear (a sops file with `encrypted_regex`, a name
 * ending in `_unencrypted`), else "". Only the rule is shown, never the value.
 */
function clearRuleNote(doc: Document.Parsed, items: readonly Pair[], text: string, name: string, file?: string): string {
  const pair = items.find((p) => isScalar(p.key) && p.key.value === "sops");
  if (pair === undefined) return "";
  let meta: SopsMetadata;
  try {
    meta = metadataFromNode(doc, pair, text, file);
  } catch {
    return "";
  }
  if (sopsEncryptsPath(meta, [name]) !== false) return "";
  const rules = ["encrypted_suffix", "encrypted_regex", "unencrypted_regex", "unencrypted_suffix"] as const;
  const rule = rules.find((k) => meta[k] !== undefined) ?? "unencrypted_suffix";
  return `: the file's sops.${rule} ${JSON.stringify((meta[rule] ?? "_unencrypted").slice(0, 60))} leaves it unencrypted`;
}

/** The full-parser path: any valid YAML or JSON layout. */
function parseFlatGeneral(text: string, format: "yaml" | "json", file?: string): SecretsFile {
  assertNestingBound(text, file);
  const docs = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: true, strict: true, keepSourceTokens: false });
  const list = Array.isArray(docs) ? docs : [];
  if (!Array.isArray(docs)) {
    throw new SopsError("NOT_ENCRYPTED", "the file is empty: it has no sops metadata", { file, hint: "create it with `stellar-secrets init`" });
  }
  for (const d of list) if (d.errors.length > 0) yamlError(d, text, file);
  if (list.length > 1) {
    throw new SopsError("MALFORMED_FILE", "a secrets file must hold a single YAML document", { file, ...lineColumn(text, list[1]!.range[0]) });
  }
  const doc = list[0];
  if (doc === undefined || doc.contents === null) {
    throw new SopsError("NOT_ENCRYPTED", "the file is empty: it has no sops metadata", { file, hint: "create it with `stellar-secrets init`" });
  }
  const root = doc.contents;
  if (!isMap(root)) {
    throw new SopsError("MALFORMED_FILE", "the file is not a mapping of secret names to values", { file, ...lineColumn(text, root.range?.[0] ?? 0) });
  }
  const entries: SecretEntry[] = [];
  let metadata: SopsMetadata | undefined;
  let metadataRange = { start: 0, end: 0 };
  const lines = new LineIndex(text);
  for (const pair of root.items) {
    const key = pair.key;
    const keyStart = (key as { range?: [number, number, number] } | null)?.range?.[0] ?? 0;
    const at = lines.positionAt(keyStart);
    if (!isScalar(key) || (typeof key.value !== "string" && typeof key.value !== "number")) {
      throw new SopsError("MALFORMED_FILE", "a key is not a plain name", { file, ...at });
    }
    const name = typeof key.value === "string" ? key.value : (key.source ?? String(key.value));
    if (!plainTag(key.tag)) throw taggedError(`the key "${name}"`, key.tag!, file, at);
    if (name === "sops") {
      metadata = metadataFromNode(doc, pair, text, file);
      metadataRange = { start: keyStart, end: (pair.value as { range?: [number, number, number] } | null)?.range?.[2] ?? text.length };
      continue;
    }
    const value = pair.value;
    if (isAlias(value)) throw new SopsError("MALFORMED_FILE", `secret "${name}" uses a YAML alias; values must be written out`, { file, ...at });
    if ((isScalar(value) || isMap(value) || isSeq(value)) && !plainTag(value.tag)) throw taggedError(`secret "${name}"'s value`, value.tag!, file, lines.positionAt(value.range?.[0] ?? keyStart));
    if (isMap(value) || isSeq(value)) {
      throw new SopsError("MALFORMED_FILE", `secret "${name}" has a nested value; a secrets file maps each name to one string`, { file, ...at, reason: "nested-value" });
    }
    if (!isScalar(value) || value.value === null) {
      throw new SopsError("MALFORMED_FILE", `secret "${name}" has no value`, { file, ...at, hint: "set it with `stellar-secrets set`", ...(isScalar(value) ? { reason: "null-value" as const } : {}) });
    }
    const raw = value.value;
    if (typeof raw !== "string" || (raw !== "" && !isEncValue(raw))) {
      throw new SopsError("NOT_ENCRYPTED", `secret "${name}" has a plaintext value instead of ENC[...]${clearRuleNote(doc, root.items, text, name, file)}`, {
        file,
        reason: "plaintext-value",
        ...at,
        hint: "never commit plaintext: remove the value from the file and git history, rotate the credential, then set it with `stellar-secrets set`",
      });
    }
    const r = value.range ?? [0, 0, 0];
    entries.push({
      name,
      raw,
      encrypted: raw !== "",
      ...(raw !== "" ? { type: parseEnc(raw)!.type } : {}),
      nameRange: { start: keyStart, end: (key.range ?? [keyStart, keyStart])[1] },
      valueRange: { start: r[0], end: r[1] },
    });
  }
  if (metadata === undefined) {
    throw new SopsError("NOT_ENCRYPTED", "the file is not encrypted: it has no sops metadata", {
      file,
      hint: "secrets files must be written by `stellar-secrets set` or sops; if plaintext was committed, rotate those credentials",
    });
  }
  const comments = format === "yaml" ? findFlatComments(text, entries, metadataRange.start) : undefined;
  return { format, entries, metadata, recipients: metadata.age.map((s) => normalizeRecipient(s.recipient)), metadataRange, ...(comments ? { comments } : {}) };
}

/** No tag, or one that means what no tag means here (`!!str`, the non-specific `!`). */
export function plainTag(tag: string | undefined): boolean {
  return tag === undefined || tag === "tag:yaml.org,2002:str" || tag === "!";
}

/**
 * A YAML tag on a secret's name or value (`name: !!int ENC[...]`). Neither sops nor this package
 * writes one. sops decodes the whole file into Go values first, and `!!int`, `!!bool`, `!!float`,
 * `!!null` or `!!timestamp` on an `ENC[...]` string cannot be decoded, so it refuses the file;
 * `!!binary` turns the value into bytes; another reader may fail on a tag it does not know. Reading
 * past the tag, as the value it tags, would certify a file the team's sops cannot open.
 */
export function taggedError(what: string, tag: string, file: string | undefined, at: Position): SopsError {
  const written = tag.startsWith("tag:yaml.org,2002:") ? `!!${tag.slice("tag:yaml.org,2002:".length)}` : tag;
  const why = /^!!(int|bool|float|null|timestamp)$/.test(written)
    ? `sops refuses the file (it cannot decode a string as ${written})`
    : "no SOPS writer puts one there, and readers differ on what it means";
  return new SopsError("MALFORMED_FILE", `${what} has a YAML tag (${written}): ${why}`, {
    file,
    ...at,
    hint: `remove "${written} " from that line (or restore the file from git); values are written as plain ENC[...] strings`,
  });
}

/**
 * Parses a flat secrets file without decrypting (names and recipients are in clear).
 * @throws SopsError MALFORMED_FILE, DUPLICATE_KEY, NOT_ENCRYPTED, FILE_TOO_LARGE.
 */
export function parseSecretsFile(text: string, options: ParseOptions = {}): SecretsFile {
  const file = options.path;
  const max = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (text.length > max || Buffer.byteLength(text, "utf8") > max) {
    throw new SopsError("FILE_TOO_LARGE", `the file is larger than ${max} bytes`, { file, hint: "a secrets file holds one string per name; split or clean it" });
  }
  return withLineBreakOf(withKeptMetadata(parseSecretsText(text, formatOf(options), file), text), text);
}

/**
 * `parsed` with {@link SecretsFile.lineBreak} when `text` is written with CRLF ({@link lineBreakOf}).
 * A lone-CR file is written back with LF: git reads it as one line either way (keeping it would
 * save no line of `git diff`), and readers such as sops-age read no lone CR.
 */
function withLineBreakOf(parsed: SecretsFile, text: string): SecretsFile {
  return lineBreakOf(text) === "\r\n" ? { ...parsed, lineBreak: "\r\n" } : parsed;
}

/**
 * `parsed` with {@link SecretsFile.keptMetadata} when its metadata uses `key_groups` and its
 * `sops:` block is the end of the YAML text (only blank space after it).
 */
function withKeptMetadata(parsed: SecretsFile, text: string): SecretsFile {
  const groups = parsed.metadata.other.key_groups;
  if (parsed.format !== "yaml" || !Array.isArray(groups) || groups.length === 0) return parsed;
  const { start, end } = parsed.metadataRange;
  if (text.slice(end).trim() !== "") return parsed;
  return { ...parsed, keptMetadata: text.slice(start) };
}

/**
 * A lone CR (`\r` not followed by `\n`) anywhere in `text`. Asked only off the fast path: the fast
 * readers accept no CR but that of a CRLF, so an LF or CRLF file they read is never scanned for one.
 */
const LONE_CR = /\r(?!\n)/;

/** {@link parseSecretsFile} after the size check. */
function parseSecretsText(text: string, format: "yaml" | "json", file?: string): SecretsFile {
  if (format === "yaml") {
    const fast = parseFlatFast(text, file);
    if (fast !== undefined) {
      const plain = parseSopsBlockFast(text, fast.sopsOffset);
      if (plain !== undefined) {
        let metadata: SopsMetadata;
        try {
          metadata = metadataFromObject(plain, file);
        } catch {
          metadata = metadataFromObject(plain, file, lineColumn(text, fast.sopsOffset).line); // throws again, with the line
        }
        return {
          format,
          entries: fast.entries,
          metadata,
          recipients: metadata.age.map((s) => normalizeRecipient(s.recipient)),
          metadataRange: { start: fast.sopsOffset, end: text.length },
        };
      }
      // A lone CR in the block: read the whole text with LF there (below), as yaml.v3 reads it.
      if (LONE_CR.test(text)) return parseSecretsText(loneCrAsLf(text), format, file);
      assertNestingBound(text.slice(fast.sopsOffset), file, lineColumn(text, fast.sopsOffset).line - 1);
      const doc = parseDocument(text.slice(fast.sopsOffset), { uniqueKeys: true, prettyErrors: true, strict: true });
      if (doc.errors.length > 0) {
        const d = doc.errors[0]!;
        const at = lineColumn(text, fast.sopsOffset + d.pos[0]);
        throw new SopsError(d.code === "DUPLICATE_KEY" ? "DUPLICATE_KEY" : "MALFORMED_FILE", `invalid sops metadata: ${d.message.split("\n")[0]}`, { file, ...at });
      }
      const root = doc.contents;
      const pair = isMap(root) ? root.items[0] : undefined;
      if (pair === undefined || !isMap(root) || root.items.length !== 1) return parseFlatGeneral(text, format, file);
      const lineOffset = lineColumn(text, fast.sopsOffset).line - 1;
      let metadata: SopsMetadata;
      try {
        metadata = metadataFromNode(doc, pair, text.slice(fast.sopsOffset), file);
      } catch (e) {
        if (e instanceof SopsError && e.line !== undefined) {
          throw new SopsError(e.code, e.message.replace(/^[^:]*:\d+: /, ""), { file, line: e.line + lineOffset, hint: e.hint, reason: e.reason });
        }
        throw e;
      }
      return {
        format,
        entries: fast.entries,
        metadata,
        recipients: metadata.age.map((s) => normalizeRecipient(s.recipient)),
        metadataRange: { start: fast.sopsOffset, end: text.length },
      };
    }
  }
  // YAML 1.2 (§5.4) and sops' yaml.v3 read a lone CR as a line break; neither the fast reader nor
  // the `yaml` package does. Such a text is read as the same text with LF there: the same length,
  // so every range is an offset into `text`, and every line number is the one LineIndex counts in
  // `text` (CR, LF and CRLF each one break). Values, MAC and tamper checks are unchanged by it.
  if (LONE_CR.test(text)) return parseSecretsText(loneCrAsLf(text), format, file);
  return parseFlatGeneral(text, format, file);
}

/**
 * Parses bytes: checks the size and that they are valid UTF-8 first.
 * @throws SopsError FILE_TOO_LARGE, INVALID_UTF8, and everything {@link parseSecretsFile} throws.
 */
export function parseSecretsBytes(bytes: Uint8Array, options: ParseOptions = {}): SecretsFile {
  return parseSecretsFile(decodeUtf8(bytes, options), options);
}

/** Strict UTF-8 decoding with the size check. @throws SopsError FILE_TOO_LARGE, INVALID_UTF8. */
export function decodeUtf8(bytes: Uint8Array, options: ParseOptions = {}): string {
  const max = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (bytes.length > max) {
    throw new SopsError("FILE_TOO_LARGE", `the file is larger than ${max} bytes`, { file: options.path, hint: "a secrets file holds one string per name" });
  }
  try {
    const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
    return text;
  } catch (cause) {
    throw new SopsError("INVALID_UTF8", "the file is not valid UTF-8", { file: options.path, cause, hint: "restore the file from git" });
  }
}

/** True when the text looks like a SOPS file (a `sops` block with `mac` and `version`). Never throws. */
export function isSopsEncrypted(text: string): boolean {
  try {
    const f = parseSecretsFile(text);
    return f.metadata.mac !== "" && f.metadata.version !== "";
  } catch {
    try {
      const src = loneCrAsLf(text);
      if (findExcessiveNesting(src) !== undefined) return false;
      const doc = parseDocument(src);
      const sops = (doc.toJS({ maxAliasCount: 0 }) as Record<string, unknown> | null)?.sops as Record<string, unknown> | undefined;
      return typeof sops?.mac === "string" && sops.mac !== "" && sops.version !== undefined && sops.version !== "";
    } catch {
      return false;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Decrypting

function noIdentity(file: SecretsFile, ids: Identities, path?: string): SopsError {
  return new SopsError("NO_IDENTITY", `no age identity found to decrypt the file (looked in: ${ids.sources.join("; ")})`, {
    file: path,
    hint: `set SOPS_AGE_KEY_FILE to your age key file, or put it in the sops default key file; this file's recipients are: ${file.recipients.join(", ") || "(none)"}`,
  });
}

/**
 * Decrypts every value with a known data key and verifies the MAC. The values map is returned
 * only when every tag and the MAC check out.
 */
/**
 * Plaintexts already verified, per data key, name and exact ENC string: versions of one file that
 * share a data key (the base, ours and theirs of a merge) share almost every ENC string, and a
 * (key, name, ENC string) whose AES-GCM tag verified once always decrypts to the same bytes.
 * Keep it in memory only, for one operation.
 */
export class DecryptCache {
  private readonly byKey = new Map<string, Map<string, { name: string; value: { plaintext: Buffer; type: SopsValueType } }>>();
  private readonly keysByStanza = new Map<string, Uint8Array>();
  /**
   * The data key of a file one of whose age stanzas is byte-identical to a stanza already
   * unwrapped (the same wrapped key: the same data key), so versions that share the key unwrap it
   * once. The MAC check that follows still proves the key right.
   */
  knownKey(stanzas: readonly AgeStanza[]): Uint8Array | undefined {
    for (const s of stanzas) {
      const k = this.keysByStanza.get(s.enc.trim());
      if (k !== undefined) return k;
    }
    return undefined;
  }
  /** Remembers the data key unwrapped from `stanzas`. */
  rememberKey(stanzas: readonly AgeStanza[], dataKey: Uint8Array): void {
    for (const s of stanzas) this.keysByStanza.set(s.enc.trim(), dataKey);
  }
  private lastKey: Uint8Array | undefined;
  private lastCopy: Buffer | undefined;
  private lastMap: Map<string, { name: string; value: { plaintext: Buffer; type: SopsValueType } }> | undefined;
  private forKey(dataKey: Uint8Array): Map<string, { name: string; value: { plaintext: Buffer; type: SopsValueType } }> {
    // the same key object for every value of a file: look it up once
    if (dataKey === this.lastKey && this.lastMap !== undefined && this.lastCopy!.equals(dataKey)) return this.lastMap;
    this.lastKey = dataKey;
    this.lastCopy = Buffer.from(dataKey);
    this.lastMap = this.forKeyBytes(dataKey);
    return this.lastMap;
  }
  private forKeyBytes(dataKey: Uint8Array): Map<string, { name: string; value: { plaintext: Buffer; type: SopsValueType } }> {
    const id = Buffer.from(dataKey).toString("base64");
    let m = this.byKey.get(id);
    if (m === undefined) this.byKey.set(id, (m = new Map()));
    return m;
  }
  private parsed: { text: string; options: string; file: SecretsFile } | undefined;
  /**
   * {@link parseSecretsFile} of `text`, or the file parsed from the same text with the same
   * options by the last call (a command that reads a file's names, then decrypts it, parses once).
   * @throws as parseSecretsFile (errors are never kept).
   */
  parse(text: string, options: ParseOptions = {}): SecretsFile {
    const key = JSON.stringify([options.path, options.format, options.maxBytes]);
    const p = this.parsed;
    if (p !== undefined && p.options === key && p.text === text) return p.file;
    const file = parseSecretsFile(text, options);
    this.parsed = { text, options: key, file };
    return file;
  }
  private verified: { text: string; result: DecryptedSecrets } | undefined;
  /**
   * The result of the last {@link decryptSecrets} through this cache, when `text` is exactly the
   * text it verified (a file read again unchanged, e.g. under the lock after `set`'s first check):
   * the same parse, values and MAC check, so none of it runs again. A fresh values map each time.
   */
  verifiedResult(text: string): DecryptedSecrets | undefined {
    const v = this.verified;
    return v !== undefined && v.text === text ? { ...v.result, values: new Map(v.result.values) } : undefined;
  }
  /** Remembers `result`, verified from `text` (the last one only). */
  rememberVerified(text: string, result: DecryptedSecrets): void {
    this.verified = { text, result: { ...result, values: new Map(result.values) } };
  }
  /**
   * Zeroes every data key and plaintext this cache holds and forgets them: call it once the
   * operation is over (the results it gave share these buffers: they read as zeros after it).
   */
  wipe(): void {
    for (const k of this.keysByStanza.values()) k.fill(0);
    for (const m of this.byKey.values()) for (const { value } of m.values()) value.plaintext.fill(0);
    if (this.verified !== undefined) this.verified.result.dataKey.fill(0);
    this.lastCopy?.fill(0);
    this.keysByStanza.clear();
    this.byKey.clear();
    this.lastKey = this.lastCopy = this.lastMap = undefined;
    this.parsed = this.verified = undefined;
  }
  /** Decrypts (and verifies the tag of) one value, or returns the verified result of an earlier call. */
  decrypt(raw: string, dataKey: Uint8Array, name: string): { plaintext: Buffer; type: SopsValueType } {
    // keyed by the ENC string (a slice of the file's text: no new string per value), checked
    // against the name it verified under (the name is in the tag's AAD)
    const m = this.forKey(dataKey);
    const hit = m.get(raw);
    if (hit !== undefined && hit.name === name) return hit.value;
    const value = decryptValue(raw, dataKey, `${name}:`);
    if (hit === undefined) m.set(raw, { name, value });
    return value;
  }
}

export function decryptSecretsWithKey(file: SecretsFile, dataKey: Uint8Array, text?: string, path?: string, cache?: DecryptCache): DecryptedSecrets {
  const meta = file.metadata;
  // A rule this package cannot apply as sops does (comment-based, untranslated RE2) is refused, as
  // the general reader refuses it. Every value of a flat file is ENC[...] (else the parser refused
  // it), but the file's rule says whether sops reads it as ciphertext: a name the rule leaves in
  // clear holds its ENC[...] text as a value in clear, and sops feeds that text to the MAC. Such a
  // file is refused here (NOT_ENCRYPTED, before anything is decrypted): verifying the MAC over its
  // plaintext instead accepted a file sops refuses (a crypt rule changed by hand: `sops -d` fails
  // its MAC) and refused one sops reads. The general reader (`decryptDocument`) reads it as sops does.
  const unsupported = unsupportedRuleError(meta, { text, from: file.metadataRange.start, file: path });
  if (unsupported !== undefined) throw unsupported;
  const defaultRule = meta.encrypted_suffix === undefined && meta.encrypted_regex === undefined && meta.unencrypted_regex === undefined;
  const suffix = meta.unencrypted_suffix ?? "_unencrypted";
  for (const e of file.entries) {
    if (e.raw === "" || (defaultRule ? !e.name.endsWith(suffix) : sopsEncryptsPath(meta, [e.name]) !== false)) continue;
    throw new SopsError("NOT_ENCRYPTED", `secret "${e.name}" is left unencrypted by the file's crypt rule${clearRuleText(meta)}: sops reads its ENC[...] text as a value in clear, not as ciphertext`, {
      file: path,
      ...(text !== undefined ? lineColumn(text, e.nameRange.start) : {}),
      hint: "the rule was changed by hand (sops checks the MAC over that text, and fails), or sops stored this text in clear: restore the file from git (`git checkout -- FILE`); stellar-secrets writes unencrypted_suffix: _unencrypted",
    });
  }
  const mac = new MacBuilder(meta.mac_only_encrypted === true);
  const values = new Map<string, string>();
  for (const e of file.entries) {
    if (e.raw === "") {
      values.set(e.name, "");
      continue;
    }
    let plaintext: Buffer;
    let canonical: string;
    try {
      const d = cache !== undefined ? cache.decrypt(e.raw, dataKey, e.name) : decryptValue(e.raw, dataKey, `${e.name}:`);
      plaintext = d.plaintext;
      canonical = d.type === "str" || d.type === "bytes" ? "" : canonicalize(plaintext.toString("utf8"), d.type);
      if (d.type === "comment") throw new SopsError("TAMPERED", "a value is marked as a comment");
    } catch (cause) {
      const c = cause as SopsError;
      throw new SopsError(c.code === "MALFORMED_FILE" ? "MALFORMED_FILE" : "TAMPERED", `secret "${e.name}": ${c.message}`, {
        file: path,
        ...(text !== undefined ? lineColumn(text, e.nameRange.start) : {}),
        hint: "the value was changed or moved outside sops/stellar-secrets: restore the file from git (`git checkout -- FILE`)",
        cause,
      });
    }
    if (canonical === "") {
      mac.add(plaintext);
      values.set(e.name, plaintext.toString("utf8"));
    } else {
      mac.add(canonical);
      // Booleans as `sops -d` prints them (`true`); the MAC form `True` is only for the hash.
      values.set(e.name, canonical === "True" || canonical === "False" ? canonical.toLowerCase() : canonical);
    }
  }
  requireVersion(meta, path);
  verifyMac(meta.mac, mac.digestHex(), dataKey, meta.lastmodified, path);
  return { file, values, dataKey };
}

/** ` (sops.encrypted_regex "…")`: the file's crypt rule as it names it, shortened (never a value). */
function clearRuleText(meta: SopsMetadata): string {
  const rules = ["encrypted_suffix", "encrypted_regex", "unencrypted_regex", "unencrypted_suffix"] as const;
  const rule = rules.find((k) => meta[k] !== undefined) ?? "unencrypted_suffix";
  return ` (sops.${rule} ${JSON.stringify((meta[rule] ?? "_unencrypted").slice(0, 60))})`;
}

/**
 * sops refuses to decrypt a file without a semver `version` (spec §8.1), so we do too: such a file
 * was not written by sops or was edited by hand.
 * @throws SopsError MALFORMED_FILE
 */
export function requireVersion(meta: SopsMetadata, path?: string): void {
  if (meta.version === "") {
    throw new SopsError("MALFORMED_FILE", "sops.version is missing; sops refuses to decrypt such a file", {
      file: path,
      hint: "restore the file from git (`git checkout -- FILE`); a file written by sops or stellar-secrets always has it",
    });
  }
}

/** Unwraps the data key of a parsed file. @throws SopsError NO_IDENTITY, NO_MATCHING_IDENTITY, UNSUPPORTED. */
export async function unwrapFileKey(file: SecretsFile, identities: Identities | readonly string[], path?: string, text?: string): Promise<Uint8Array> {
  const ids = toIdentities(identities);
  if (ids.identities.length === 0) throw noIdentity(file, ids, path);
  const where = { text, from: file.metadataRange.start, file: path, format: file.format };
  const groups = readKeyGroups(file.metadata, where);
  if (groups !== undefined) return unwrapKeyGroupsKey(groups, file.metadata, ids, where);
  if (file.metadata.age.length === 0) {
    throw new SopsError("UNSUPPORTED", "the file has no age recipients (only pgp/kms/other master keys)", {
      file: path,
      hint: "decrypt it with sops and the original key, then re-create it with stellar-secrets",
    });
  }
  const key = await unwrapDataKey(file.metadata.age, ids.identities);
  if (key === undefined) {
    throw new SopsError(
      "NO_MATCHING_IDENTITY",
      `none of your ${ids.identities.length} age identit${ids.identities.length === 1 ? "y" : "ies"} can decrypt this file; its recipients are: ${file.recipients.join(", ")} (looked in: ${ids.sources.join("; ")})`,
      { file: path, hint: "ask a member of this environment to add your public key (`stellar-secrets members add`), or point SOPS_AGE_KEY_FILE at the right key" },
    );
  }
  return key;
}

/**
 * Decrypts a flat secrets file: unwraps the data key, decrypts every value, verifies the MAC.
 * With `options.cache` (one operation's {@link DecryptCache}): a text identical to the last one
 * it verified gives that result again; otherwise a known data key and verified values are reused,
 * and the MAC is verified over every value.
 * @throws SopsError with any code of the parsers, plus NO_IDENTITY, NO_MATCHING_IDENTITY, TAMPERED, MAC_MISMATCH.
 */
export async function decryptSecrets(text: string, identities: Identities | readonly string[], options: ParseOptions & { cache?: DecryptCache } = {}): Promise<DecryptedSecrets> {
  const cache = options.cache;
  const known = cache?.verifiedResult(text);
  if (known !== undefined) return known;
  const file = cache !== undefined ? cache.parse(text, options) : parseSecretsFile(text, options);
  let key = cache?.knownKey(file.metadata.age);
  if (key === undefined) {
    key = await unwrapFileKey(file, identities, options.path, text);
    cache?.rememberKey(file.metadata.age, key);
  }
  const result = decryptSecretsWithKey(file, key, text, options.path, cache);
  cache?.rememberVerified(text, result);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Writing

/** A key as YAML text that yaml.v3 and `yaml` both read back as the same string. */
export function renderKey(name: string): string {
  return PLAIN_KEY.test(name) && !YAML_RESERVED.test(name) ? name : yamlDoubleQuoted(name);
}

function checkName(name: string): void {
  if (name === "sops") {
    throw new SopsError("INVALID_NAME", 'a secret cannot be named "sops": that key holds the SOPS metadata');
  }
  if (name === "") throw new SopsError("INVALID_NAME", "a secret name cannot be empty");
  if (name.endsWith("_unencrypted")) {
    throw new SopsError("INVALID_NAME", `"${name}" ends in _unencrypted, which sops would store in clear text`);
  }
}

/**
 * The file: entries with their comments, then the metadata (`meta` rendered, or a block already
 * laid out, written as it is), each line ended with `lineBreak`.
 */
function render(entries: readonly { name: string; raw: string }[], meta: WrittenMetadata | string, comments?: FlatComments, lineBreak: LineBreak = "\n"): string {
  let out = (comments?.header ?? []).map((c) => `#${c}\n`).join("");
  for (const e of entries) out += renderEntryWithComments(`${renderKey(e.name)}: ${e.raw === "" ? '""' : e.raw}`, e.name, comments);
  out += (comments?.footer ?? []).map((c) => `#${c}\n`).join("");
  return typeof meta === "string" ? withLineBreak(out, lineBreak) + meta : withLineBreak(out + renderMetadataYaml(meta), lineBreak);
}

function uniqueRecipients(recipients: readonly string[]): string[] {
  const out = [...new Set(recipients.map(normalizeRecipient))];
  if (out.length === 0) {
    throw new SopsError("NO_RECIPIENTS", "a secrets file needs at least one age recipient", { hint: "add a member to the environment first" });
  }
  return out;
}

async function wrapAll(dataKey: Uint8Array, recipients: readonly string[]): Promise<AgeStanza[]> {
  return Promise.all(recipients.map(async (recipient) => ({ recipient, enc: await wrapDataKey(dataKey, recipient) })));
}

/** The version to write: `requested`, else the file's own when newer than ours, else ours. */
export function writtenVersion(previous: string | undefined, requested: string | undefined): string {
  if (requested !== undefined) return requested;
  if (previous !== undefined && compareVersions(previous, WRITTEN_SOPS_VERSION) > 0) return previous.replace(/^v/, "");
  return WRITTEN_SOPS_VERSION;
}

/**
 * The type a value keeps when it is written again: the ENC type of `name` in one of `versions`
 * where it has exactly this (decrypted, as returned) value, else `str`. sops types `port: 8080`
 * `int` and `flag: true` `bool` (SOPS-FORMAT §2.3); an unchanged value keeps that type through a
 * rotation or a merge, so `sops -d` prints it as before. A value set anew is a string.
 */
function keptType(versions: readonly DecryptedSecrets[], name: string, value: string): SopsValueType {
  for (const v of versions) {
    if (v.values.get(name) !== value) continue;
    const type = v.file.entries.find((e) => e.name === name)?.type;
    if (type === "int" || type === "float" || type === "bool" || type === "time") return type;
  }
  return "str";
}

/**
 * Encrypts every value (or copies the ENC string `reuse` gives) and computes the MAC. The MAC is
 * fed the bytes sops feeds it for each leaf's type: a decrypted `bool` reads as `true` but its
 * MAC bytes are `True` (spec §4.1), so a typed value is hashed through {@link canonicalize}.
 */
function encryptAll(
  values: ReadonlyMap<string, string>,
  dataKey: Uint8Array,
  reuse?: (name: string, value: string) => string | undefined,
  typeOf?: (name: string, value: string) => SopsValueType,
): { entries: { name: string; raw: string }[]; macHex: string } {
  const mac = new MacBuilder(false);
  const entries: { name: string; raw: string }[] = [];
  for (const [name, value] of values) {
    checkName(name);
    if (typeof value !== "string") throw new SopsError("MALFORMED_FILE", `secret "${name}" is not a string`);
    if (value === "") {
      entries.push({ name, raw: "" });
      continue;
    }
    const kept = reuse?.(name, value);
    const type = kept !== undefined ? (parseEnc(kept)?.type as SopsValueType | undefined) ?? "str" : (typeOf?.(name, value) ?? "str");
    const bytes = Buffer.from(type === "str" || type === "bytes" ? value : canonicalize(value, type), "utf8");
    mac.add(bytes);
    entries.push({ name, raw: kept ?? encryptValue(bytes, dataKey, `${name}:`, type) });
  }
  return { entries, macHex: mac.digestHex() };
}

/** Writes a new file from scratch (a new data key). Names are written in the Map's order. */
export async function encryptSecrets(values: ReadonlyMap<string, string>, options: EncryptOptions): Promise<string> {
  return (await encryptWithNewKey(values, options)).text;
}

/**
 * {@link encryptSecrets}, also returning the new data key (for verification before writing).
 * `comments` (a version's, see `carriedComments`) are written too, encrypted ones anew under the new key.
 */
export async function encryptWithNewKey(
  values: ReadonlyMap<string, string>,
  options: EncryptOptions,
  typesFrom: readonly DecryptedSecrets[] = [],
  comments?: CarriedComments,
): Promise<{ text: string; dataKey: Uint8Array }> {
  const recipients = uniqueRecipients(options.recipients);
  const dataKey = randomBytes(32);
  const { entries, macHex } = encryptAll(values, dataKey, undefined, (name, value) => keptType(typesFrom, name, value));
  const lastmodified = formatLastModified(options.now ?? new Date());
  const text = render(
    entries,
    {
      age: await wrapAll(dataKey, recipients),
      lastmodified,
      mac: encryptMac(macHex, dataKey, lastmodified),
      version: options.version ?? WRITTEN_SOPS_VERSION,
    },
    commentsToWrite(comments, dataKey, new Set(values.keys())),
    options.lineBreak,
  );
  return { text, dataKey };
}

/**
 * Refuses to rewrite files with non-age master keys, or JSON files: every caller writes a new data
 * key or new age stanzas. A key-groups file (sops Shamir) gets its own message: only writes that
 * keep its data key and groups (`set`, `rm`, `rename`: {@link reencryptSecrets}) are done.
 * @throws SopsError UNSUPPORTED
 */
export function refuseForeignKeys(previous: DecryptedSecrets): void {
  const groups = previous.file.metadata.other.key_groups;
  if (Array.isArray(groups) && groups.length > 0) {
    throw new SopsError("UNSUPPORTED", `the file uses sops key groups (Shamir secret sharing, ${groups.length} groups): stellar-secrets keeps their data key when it sets, removes or renames a value, but does not split a new data key or change who is in a group`, {
      hint: "change recipients or rotate with sops itself (`sops updatekeys FILE` after editing key_groups in .sops.yaml, `sops rotate -i FILE`), or re-create the file with one group of age recipients (`sops decrypt FILE`, then `stellar-secrets set` each value into a new file)",
    });
  }
  if (hasOtherMasterKeys(previous.file.metadata)) {
    throw new SopsError("UNSUPPORTED", "the file also has pgp/kms/key-group master keys, which stellar-secrets cannot re-wrap", {
      hint: "edit it with sops, or re-create it with age recipients only",
    });
  }
  if (previous.file.format !== "yaml") throw new SopsError("UNSUPPORTED", "only YAML secrets files are written");
}

/** Options of {@link reencryptSecrets}. */
export interface ReencryptOptions extends Partial<EncryptOptions> {
  /**
   * Other verified versions of the file whose exact ENC string is copied for a name set to the
   * plaintext it holds there (after `previous`, which always counts). Only versions under
   * `previous`'s data key are used (another key's ciphertext would not open): e.g. `resolve
   * --theirs` takes their side's value with their side's ciphertext, so the merge shows no change
   * of it against their side.
   */
  reuseFrom?: readonly DecryptedSecrets[];
}

/**
 * Re-encrypts after changes with stable ciphertext: same data key; the exact ENC string of every
 * value whose name and plaintext did not change (or that one of `options.reuseFrom` holds under
 * the same data key); new `lastmodified` and MAC. Stanzas of recipients that stay are kept
 * verbatim; new recipients get a new stanza; removed ones are dropped.
 */
export async function reencryptSecrets(previous: DecryptedSecrets, values: ReadonlyMap<string, string>, options: ReencryptOptions = {}): Promise<string> {
  const kept = keptKeyGroups(previous, options.recipients);
  if (kept !== undefined) {
    return encryptWithKey(values, {
      dataKey: previous.dataKey,
      age: [],
      keptMetadata: kept,
      reuseFrom: [previous, ...(options.reuseFrom ?? [])],
      version: previous.file.metadata.version,
      comments: carriedComments(previous),
      ...(options.now ? { now: options.now } : {}),
    });
  }
  refuseForeignKeys(previous);
  const age = options.recipients === undefined ? previous.file.metadata.age : await stanzasFor(previous, options.recipients);
  return encryptWithKey(values, {
    dataKey: previous.dataKey,
    age,
    reuseFrom: [previous, ...(options.reuseFrom ?? [])],
    version: writtenVersion(previous.file.metadata.version, options.version),
    comments: carriedComments(previous),
    lineBreak: options.lineBreak ?? previous.file.lineBreak ?? "\n",
    ...(options.now ? { now: options.now } : {}),
  });
}

/**
 * The `sops:` block to keep for a write of a key-groups file (sops Shamir) under its own data key
 * and groups, or undefined for a file without key groups. Only a write that names no recipients
 * (or none beyond the file's top-level ones, which a key-groups file has not) keeps it.
 * @throws SopsError UNSUPPORTED ({@link refuseForeignKeys}) when recipients would change, or when
 * the block is not last in the file or is laid out so that `lastmodified` and `mac` cannot be
 * replaced in place.
 */
function keptKeyGroups(previous: DecryptedSecrets, recipients: readonly string[] | undefined): string | undefined {
  const groups = previous.file.metadata.other.key_groups;
  if (!Array.isArray(groups) || groups.length === 0) return undefined;
  if (previous.file.format !== "yaml") throw new SopsError("UNSUPPORTED", "only YAML secrets files are written");
  if (recipients !== undefined && recipients.length > 0) refuseForeignKeys(previous);
  const block = previous.file.keptMetadata;
  if (block === undefined || rewriteKeptMetadata(block, previous.file.metadata.lastmodified, previous.file.metadata.mac) === undefined) {
    throw new SopsError("UNSUPPORTED", "the file uses sops key groups and its sops block is not laid out as sops writes it (last in the file, one `lastmodified:` and one `mac:` line): stellar-secrets keeps such a block only in place", {
      hint: "edit it with sops (`sops set FILE '[\"NAME\"]' '\"VALUE\"'`), or let sops write it once (`sops updatekeys FILE`)",
    });
  }
  return block;
}

/** What {@link encryptWithKey} writes with. */
export interface KeyedWrite {
  /** The data key every new value is encrypted with, and the MAC. */
  dataKey: Uint8Array;
  /** The age stanzas, written verbatim (they must wrap `dataKey`). */
  age: AgeStanza[];
  /**
   * A key-groups file's `sops:` block as read ({@link SecretsFile.keptMetadata}), written in place
   * of a rendered one with only `lastmodified` and `mac` replaced (`age` is then unused).
   */
  keptMetadata?: string;
  /**
   * Verified versions whose exact ENC string is copied for a name whose plaintext is the same
   * (stable ciphertext). Only versions encrypted with `dataKey` are used; the first match wins.
   * A value encrypted anew with the same plaintext as in any of them, under any key (a merge across
   * a rotation), keeps the type it has there (`int`, `float`, `bool`, `time`: see {@link keptType}).
   */
  reuseFrom: readonly DecryptedSecrets[];
  version: string;
  now?: Date;
  /** Comments to write (a version's, or a merge of versions'); encrypted ones not under `dataKey` are encrypted anew. */
  comments?: CarriedComments;
  /**
   * The line break every line is written with (default `\n`; the rewritten file's own, {@link
   * SecretsFile.lineBreak}). With `keptMetadata`, the kept block's first line break is used
   * instead: the block stays byte for byte, and the file then has one kind of line break.
   */
  lineBreak?: LineBreak;
}

/**
 * Renders `values` under a known data key and stanzas, copying the ENC string of every value
 * that one of `reuseFrom` (same data key) holds with the same name and plaintext; only the other
 * values get a fresh random IV. New `lastmodified` and MAC. The writer behind
 * {@link reencryptSecrets} and the three-way merge (`merge.ts`).
 */
export function encryptWithKey(values: ReadonlyMap<string, string>, write: KeyedWrite): string {
  const sources = write.reuseFrom
    .filter((v) => sameBytes(v.dataKey, write.dataKey))
    .map((v) => ({ values: v.values, raw: new Map(v.file.entries.map((e) => [e.name, e.raw])) }));
  const { entries, macHex } = encryptAll(
    values,
    write.dataKey,
    (name, value) => {
      for (const s of sources) {
        const raw = s.raw.get(name);
        if (s.values.get(name) === value && raw?.startsWith("ENC[")) return raw;
      }
      return undefined;
    },
    (name, value) => keptType(write.reuseFrom, name, value),
  );
  const lastmodified = formatLastModified(write.now ?? new Date());
  const mac = keptMac(write.reuseFrom, write.dataKey, entries, macHex, lastmodified) ?? encryptMac(macHex, write.dataKey, lastmodified);
  const kept = write.keptMetadata === undefined ? undefined : rewriteKeptMetadata(write.keptMetadata, lastmodified, mac);
  if (write.keptMetadata !== undefined && kept === undefined) throw new SopsError("UNSUPPORTED", "the file's sops block cannot be kept in place (no single `lastmodified:` and `mac:` line)");
  const comments = commentsToWrite(write.comments, write.dataKey, new Set(values.keys()));
  if (kept === undefined) return render(entries, { age: write.age, lastmodified, mac, version: write.version }, comments, write.lineBreak);
  // a block kept with CRLF line breaks (a Windows checkout): the entries and comments take them too,
  // or the file would mix LF and CRLF; the block itself stays as it was (only its lines are CRLF)
  return render(entries, kept, comments, lineBreakOf(kept));
}

/**
 * The `mac` string of a version under `dataKey` whose entries (every name and ENC string),
 * `lastmodified` and MAC are the ones being written: sops's IV stash (SOPS-FORMAT §2.5) gives the
 * same plaintext under the same AAD the same IV, so a write of the same values in the same second
 * writes that version's exact string. With a fresh IV it would read, keylessly, as a MAC pasted
 * over unchanged values (`stale-mac`). Entries that differ in any ENC string always get a fresh
 * MAC string (the same one over other ciphertexts would read as values changed by hand).
 */
function keptMac(versions: readonly DecryptedSecrets[], dataKey: Uint8Array, entries: readonly { name: string; raw: string }[], macHex: string, lastmodified: string): string | undefined {
  for (const v of versions) {
    const meta = v.file.metadata;
    if (meta.lastmodified !== lastmodified || !sameBytes(v.dataKey, dataKey)) continue;
    const had = v.file.entries;
    if (had.length !== entries.length || had.some((e, i) => e.name !== entries[i]!.name || e.raw !== entries[i]!.raw)) continue;
    try {
      if (decryptValue(meta.mac, dataKey, lastmodified).plaintext.toString("utf8") === macHex) return meta.mac;
    } catch {
      // not this version's: a fresh IV
    }
  }
  return undefined;
}

/** Byte equality of two keys (not secret-dependent timing-sensitive: both are the caller's own keys). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/**
 * The stanzas for `recipients` under the same data key: recipients that stay keep their stanza
 * byte-for-byte (a smaller diff, and proof for a keyless review that the data key did not change);
 * only new recipients get the data key wrapped for them.
 */
export async function stanzasFor(previous: DecryptedSecrets, recipients: readonly string[]): Promise<AgeStanza[]> {
  const kept = new Map(previous.file.metadata.age.map((s) => [normalizeRecipient(s.recipient), s] as const));
  const wanted = uniqueRecipients(recipients);
  const fresh = await wrapAll(previous.dataKey, wanted.filter((r) => !kept.has(r)));
  const byRecipient = new Map(fresh.map((s) => [s.recipient, s] as const));
  return wanted.map((r) => kept.get(r) ?? byRecipient.get(r)!);
}

/**
 * updatekeys: same data key, values, MAC and `lastmodified`; stanzas for exactly `recipients`
 * (recipients that stay keep theirs byte-for-byte, new ones are wrapped). A removed recipient who
 * kept the data key can still decrypt: rotate ({@link rotateDataKey}) after removing anyone.
 */
export async function updateKeys(previous: DecryptedSecrets, recipients: readonly string[]): Promise<string> {
  refuseForeignKeys(previous);
  const meta = previous.file.metadata;
  return render(
    previous.file.entries,
    {
      age: await stanzasFor(previous, recipients),
      lastmodified: meta.lastmodified,
      mac: meta.mac,
      version: writtenVersion(meta.version, undefined),
    },
    previous.file.comments,
    previous.file.lineBreak,
  );
}

/** rotate: a new data key, every value re-encrypted, recipients default to the current ones. */
export async function rotateDataKey(previous: DecryptedSecrets, options: Partial<EncryptOptions> = {}): Promise<string> {
  return (await rotateWithNewKey(previous, options)).text;
}

/** {@link rotateDataKey}, also returning the new data key. */
export async function rotateWithNewKey(previous: DecryptedSecrets, options: Partial<EncryptOptions> = {}): Promise<{ text: string; dataKey: Uint8Array }> {
  refuseForeignKeys(previous);
  return encryptWithNewKey(
    previous.values,
    {
      recipients: options.recipients ?? previous.file.recipients,
      ...(options.now ? { now: options.now } : {}),
      version: writtenVersion(previous.file.metadata.version, options.version),
      lineBreak: options.lineBreak ?? previous.file.lineBreak ?? "\n",
    },
    [previous],
    carriedComments(previous),
  );
}
