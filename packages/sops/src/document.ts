/**
 * General SOPS documents as sops writes them: nested YAML/JSON trees with lists, typed leaves,
 * comments, several YAML documents, dotenv and the binary store. Decryption always verifies the
 * MAC before returning. Used for files other tools wrote (the interop fixtures); the project's own
 * environment files go through the faster flat reader in `secrets-file.ts`.
 */
import { isAlias, isMap, isScalar, isSeq, parseAllDocuments, type Document, type Node, type Scalar } from "yaml";
import { unwrapDataKey } from "./age.js";
import { readKeyGroups, unwrapKeyGroupsKey } from "./key-groups.js";
import { SopsError } from "./errors.js";
import { toIdentities, type Identities } from "./identities.js";
import { MacBuilder, verifyMac } from "./mac.js";
import { unsupportedRuleError, metadataFromObject, sopsEncryptsPath } from "./metadata.js";
import { LineIndex, loneCrAsLf } from "./position.js";
import { assertNestingBound } from "./yaml-depth.js";
import { decodeUtf8, DEFAULT_MAX_BYTES, plainTag, requireVersion, taggedError } from "./secrets-file.js";
import type { DecryptedDocument, DocumentComment, DocumentLeaf, SopsMetadata } from "./types.js";
import { aadForPath, canonicalize, canonicalBool, canonicalInt, decryptValue, formatGoFloat, isEncValue, parseEnc, type SopsValueType } from "./values.js";

/** The stores sops knows, chosen by file suffix as sops does (spec §10.4). */
export type DocumentFormat = "yaml" | "json" | "dotenv" | "binary";

/** Options for {@link decryptDocument}. */
export interface DocumentOptions {
  path?: string;
  format?: DocumentFormat;
  maxBytes?: number;
}

/** The store for a path: `.yaml`/`.yml`, `.json`, `.env`, anything else binary. */
export function formatForPath(path: string): DocumentFormat {
  if (path.endsWith(".yaml") || path.endsWith(".yml")) return "yaml";
  if (path.endsWith(".json")) return "json";
  if (path.endsWith(".env")) return "dotenv";
  return "binary";
}

/** A parsed, still-encrypted tree node. */
type RawNode =
  | { kind: "map"; entries: { key: string; value: RawNode }[]; comments: string[] }
  | { kind: "list"; items: RawNode[]; comments: string[] }
  | { kind: "scalar"; value: string | number | boolean | null; source?: string; intLike?: boolean; offset?: number; plain?: boolean };

const MAX_NODES = 1_000_000;

/** Which leaves a file's crypt rule encrypts (spec §3): {@link sopsEncryptsPath}; a rule it cannot apply (comment-based, untranslated RE2) refused at its line. */
function cryptRule(meta: SopsMetadata, text: string, file?: string): (path: readonly string[]) => boolean {
  const unsupported = unsupportedRuleError(meta, { text, from: Math.max(0, text.search(/^["']?sops["']?[ \t]*:|^sops_/m)), file });
  if (unsupported !== undefined) throw unsupported;
  return (p) => sopsEncryptsPath(meta, p) === true;
}

/** The 1-based line of an offset, for a one-off error message. */
function lineOf(text: string, offset: number): number {
  return new LineIndex(text).positionAt(offset).line;
}

function commentLines(c: string | null | undefined): string[] {
  return c ? c.split("\n").filter((l) => l !== "") : [];
}

/** Converts a `yaml` AST node into a RawNode, expanding aliases with a node budget. */
function fromYaml(node: Node | null, doc: Document.Parsed, budget: { n: number; aliases: number }, text: string, file?: string): RawNode {
  if (++budget.n > MAX_NODES) throw new SopsError("MALFORMED_FILE", "the document expands to too many nodes (alias bomb?)", { file });
  if (node === null) return { kind: "scalar", value: null };
  if (isAlias(node)) {
    if (++budget.aliases > 100) throw new SopsError("MALFORMED_FILE", "too many YAML aliases (alias bomb?)", { file, line: lineOf(text, node.range?.[0] ?? 0) });
    return fromYaml(node.resolve(doc) ?? null, doc, budget, text, file);
  }
  if (isMap(node)) {
    const entries: { key: string; value: RawNode }[] = [];
    const comments = commentLines(node.commentBefore);
    for (const pair of node.items) {
      const k = pair.key;
      if (!isScalar(k) || k.value === null || typeof k.value === "object") {
        throw new SopsError("MALFORMED_FILE", "a mapping key is not a string", { file, line: lineOf(text, (k as Node | null)?.range?.[0] ?? 0) });
      }
      comments.push(...commentLines(k.commentBefore));
      const key = typeof k.value === "string" ? k.value : (k.source ?? String(k.value));
      entries.push({ key, value: fromYaml(pair.value as Node | null, doc, budget, text, file) });
      // a comment after a scalar value, on its line (`name: ENC[...] #ENC[...]`): sops reads it as a comment of this map
      if (isScalar(pair.value)) comments.push(...commentLines((pair.value as Scalar).comment));
    }
    return { kind: "map", entries, comments };
  }
  if (isSeq(node)) {
    const comments = commentLines(node.commentBefore);
    const items: RawNode[] = [];
    for (const item of node.items) {
      comments.push(...commentLines((item as Node | null)?.commentBefore));
      items.push(fromYaml(item as Node | null, doc, budget, text, file));
    }
    return { kind: "list", items, comments };
  }
  if (isScalar(node)) {
    const s = node as Scalar;
    const v = s.value;
    // a type tag on an encrypted string (`!!int ENC[...]`): sops cannot decode it, as in a flat file
    if (!plainTag(s.tag) && s.range != null && text.startsWith("ENC[", s.range[0])) throw taggedError("an encrypted value", s.tag!, file, new LineIndex(text).positionAt(s.range[0]));
    if (v instanceof Uint8Array) return { kind: "scalar", value: Buffer.from(v).toString("utf8") };
    if (v !== null && typeof v === "object") throw new SopsError("MALFORMED_FILE", "unsupported YAML value", { file });
    const intLike = typeof v === "number" && s.source !== undefined && /^[-+]?(0|[1-9][0-9_]*|0x[0-9a-fA-F_]+|0o[0-7_]+|0[0-7_]+)$/.test(s.source);
    return {
      kind: "scalar",
      value: v as string | number | boolean | null,
      ...(s.source !== undefined ? { source: s.source } : {}),
      intLike,
      ...(s.range ? { offset: s.range[0] } : {}),
      ...(s.type === "PLAIN" && s.tag === undefined ? { plain: true } : {}),
    };
  }
  throw new SopsError("MALFORMED_FILE", "unsupported YAML node", { file });
}

/**
 * An untagged plain YAML scalar resolved as yaml.v3 (sops' YAML library) resolves it (spec §9.1),
 * which differs from the `yaml` package's core schema: `0777` is octal 511, `1_000` is 1000,
 * `2024-01-01` is a timestamp. Only clear-text leaves need this (their MAC bytes and tree value).
 * @returns undefined for a plain string.
 * @throws SopsError UNSUPPORTED for an integer sops itself cannot handle (above int64).
 */
export function resolveYamlV3Plain(src: string, file?: string): { type: "int" | "float" | "bool" | "time" | "null" | "str"; text: string; value: unknown } | undefined {
  switch (src) {
    case "":
    case "~":
    case "null":
    case "Null":
    case "NULL":
      return { type: "null", text: "", value: null };
    case "true":
    case "True":
    case "TRUE":
      return { type: "bool", text: "True", value: true };
    case "false":
    case "False":
    case "FALSE":
      return { type: "bool", text: "False", value: false };
    case ".nan":
    case ".NaN":
    case ".NAN":
      return { type: "float", text: "NaN", value: Number.NaN };
    case ".inf":
    case ".Inf":
    case ".INF":
    case "+.inf":
    case "+.Inf":
    case "+.INF":
      return { type: "float", text: "+Inf", value: Infinity };
    case "-.inf":
    case "-.Inf":
    case "-.INF":
      return { type: "float", text: "-Inf", value: -Infinity };
  }
  const first = src.charCodeAt(0);
  if (src[0] === ".") {
    if (/^\.[0-9]+(?:[eE][-+]?[0-9]+)?$/.test(src)) return float(Number(src));
    return undefined;
  }
  const digit = first >= 48 && first <= 57;
  if (!digit && src[0] !== "+" && src[0] !== "-") return undefined;
  const time = yamlV3Timestamp(src);
  if (time !== undefined) return { type: "time", text: time, value: time };
  const plain = src.replace(/_/g, "");
  const n = goParseIntBase0(plain);
  if (n !== undefined) {
    if (n > 9223372036854775807n || n < -9223372036854775808n) {
      if (n > 0n && n <= 18446744073709551615n) {
        throw new SopsError("UNSUPPORTED", "a clear-text integer is above the int64 range, which sops cannot handle either", { file });
      }
    } else {
      return { type: "int", text: n.toString(), value: Number.isSafeInteger(Number(n)) ? Number(n) : n };
    }
  }
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/.test(plain)) return float(Number(plain));
  return undefined;

  function float(x: number) {
    // Go's ParseFloat fails on overflow (1e400), and the scalar then stays a string.
    return Number.isFinite(x) ? { type: "float" as const, text: formatGoFloat(x), value: x } : undefined;
  }
}

/** Go strconv.ParseInt(s, 0, 64) syntax (sign, then 0x/0b/0o/0 prefixes); range is checked by the caller. */
function goParseIntBase0(s: string): bigint | undefined {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (m === null) return undefined;
  const body = m[2]!;
  let n: bigint;
  if (/^0[xX]/.test(body)) n = BigInt(`0x${body.slice(2)}`);
  else if (/^0[bB]/.test(body)) n = BigInt(`0b${body.slice(2)}`);
  else if (/^0[oO]/.test(body)) n = BigInt(`0o${body.slice(2)}`);
  else if (body.length > 1 && body[0] === "0") n = BigInt(`0o${body.slice(1)}`);
  else n = BigInt(body);
  return m[1] === "-" ? -n : n;
}

/**
 * yaml.v3's timestamp resolution (layouts `2006-1-2T15:4:5.999999999Z07:00`, lower-case `t`,
 * `2006-1-2 15:4:5.999999999` in UTC, `2006-1-2`), returned as Go's MarshalText (RFC 3339, the
 * fraction only when non-zero, `Z` for a zero offset). Undefined when it is not a timestamp.
 */
function yamlV3Timestamp(s: string): string | undefined {
  const m =
    /^(\d{4})-(\d{1,2})-(\d{1,2})(?:(?:([Tt])|( ))(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})?)?$/.exec(s);
  if (m === null) return undefined;
  const [, y, mo, d, t, space, h, mi, se, frac, zone] = m;
  if (t !== undefined && zone === undefined) return undefined; // the T layouts need a zone
  if (space !== undefined && zone !== undefined) return undefined; // the space layout has none
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const daysIn = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysIn) return undefined;
  const hour = Number(h ?? 0);
  const min = Number(mi ?? 0);
  const sec = Number(se ?? 0);
  if (hour > 23 || min > 59 || sec > 59) return undefined;
  if (zone !== undefined && zone !== "Z" && (Number(zone.slice(1, 3)) > 23 || Number(zone.slice(4)) > 59)) return undefined;
  const p2 = (n: number) => String(n).padStart(2, "0");
  const f = (frac ?? "").replace(/0+$/, "");
  const z = zone === undefined || zone === "Z" || zone === "+00:00" || zone === "-00:00" ? "Z" : zone;
  return `${y}-${p2(month)}-${p2(day)}T${p2(hour)}:${p2(min)}:${p2(sec)}${f ? `.${f}` : ""}${z}`;
}

/** The canonical bytes of an unencrypted leaf, resolved as the store read it. */
function plainCanonical(node: Extract<RawNode, { kind: "scalar" }>): { type: string; text: string } {
  const v = node.value;
  if (typeof v === "boolean") return { type: "bool", text: canonicalBool(String(v)) ?? String(v) };
  if (typeof v === "number") {
    if (node.intLike && Number.isSafeInteger(v)) return { type: "int", text: canonicalInt(String(v)) ?? String(v) };
    return { type: "float", text: formatGoFloat(v) };
  }
  return { type: "str", text: String(v) };
}

function typedValue(text: string, type: SopsValueType): unknown {
  switch (type) {
    case "int": {
      const n = Number(text);
      return Number.isSafeInteger(n) ? n : BigInt(text);
    }
    case "float":
      return text === "+Inf" ? Infinity : text === "-Inf" ? -Infinity : Number(text);
    case "bool":
      return text === "True";
    default:
      return text;
  }
}

function setProp(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

interface WalkState {
  key: Uint8Array;
  encrypts: (path: readonly string[]) => boolean;
  mac: MacBuilder;
  macOnlyEncrypted: boolean;
  leaves: DocumentLeaf[];
  comments: DocumentComment[];
  file?: string | undefined;
  /** The store: clear-text YAML scalars are resolved as yaml.v3 does. */
  format?: DocumentFormat;
  /** The file text, to give errors a line number. */
  text?: string | undefined;
}

function walkComments(lines: string[], path: readonly string[], st: WalkState): void {
  for (const line of lines) {
    const text = line.trim();
    if (!isEncValue(text)) {
      st.comments.push({ aad: aadForPath(path), text: line, encrypted: false });
      continue;
    }
    try {
      const d = decryptValue(text, st.key, aadForPath(path));
      st.comments.push({ aad: aadForPath(path), text: d.plaintext.toString("utf8"), encrypted: true });
    } catch {
      st.comments.push({ aad: aadForPath(path), text: line, encrypted: false }); // sops keeps undecryptable comments
    }
  }
}

/**
 * A comment inside a list, as sops writes it: a list element `ENC[...,type:comment]` under the
 * list's path, which sops reads back as a comment (not a value, not in the MAC: sops <= 3.13.1
 * and 3.13.3+; 3.13.2 hashed it by mistake, getsops/sops#2243). Recorded in `st.comments`; true
 * when `item` was one. An element that does not decrypt is left to {@link walk} (TAMPERED), as
 * sops fails on it.
 */
function listComment(item: RawNode, path: readonly string[], st: WalkState): boolean {
  if (item.kind !== "scalar" || typeof item.value !== "string" || !st.encrypts(path) || !isEncValue(item.value) || parseEnc(item.value)?.type !== "comment") return false;
  const aad = aadForPath(path);
  let text: string;
  try {
    text = decryptValue(item.value, st.key, aad).plaintext.toString("utf8");
  } catch {
    return false;
  }
  st.comments.push({ aad, text, encrypted: true });
  return true;
}

function leafLine(node: { offset?: number }, st: WalkState): number | undefined {
  return node.offset !== undefined && st.text !== undefined ? lineOf(st.text, node.offset) : undefined;
}

function walk(node: RawNode, path: string[], st: WalkState): unknown {
  if (node.kind === "map") {
    walkComments(node.comments, path, st);
    const out: Record<string, unknown> = {};
    for (const { key, value } of node.entries) setProp(out, key, walk(value, [...path, key], st));
    return out;
  }
  if (node.kind === "list") {
    walkComments(node.comments, path, st);
    const out: unknown[] = [];
    for (const item of node.items) if (!listComment(item, path, st)) out.push(walk(item, path, st));
    return out;
  }
  if (node.value === null) return null;
  const aad = aadForPath(path);
  if (st.encrypts(path) && node.value !== "") {
    // sops fails on a number or boolean here too ("Expected encrypted value as string")
    if (typeof node.value !== "string" || !isEncValue(node.value)) {
      throw new SopsError("NOT_ENCRYPTED", `the value at ${path.join(".")} should be encrypted but is plaintext`, { file: st.file, line: leafLine(node, st) });
    }
    let d: { plaintext: Buffer; type: SopsValueType };
    let canonical: string;
    try {
      d = decryptValue(node.value, st.key, aad);
      canonical = canonicalize(d.plaintext.toString("utf8"), d.type);
    } catch (cause) {
      throw new SopsError("TAMPERED", `the value at ${path.join(".")} failed its authentication check`, { file: st.file, line: leafLine(node, st), cause });
    }
    if (d.type === "comment") {
      // sops writes a comment as a value only inside a list (see listComment)
      throw new SopsError("TAMPERED", `the value at ${path.join(".")} is marked as a comment`, { file: st.file, line: leafLine(node, st) });
    }
    st.mac.add(d.type === "str" || d.type === "bytes" ? d.plaintext : canonical);
    st.leaves.push({ path: [...path], aad, type: d.type, plaintext: canonical, encrypted: true, inMac: true });
    return typedValue(canonical, d.type);
  }
  // A clear-text leaf of a YAML file: resolve it as sops' yaml.v3 does, not as the `yaml` package did.
  const asV3 = st.format === "yaml" && node.plain === true && node.source !== undefined;
  const v3 = asV3 ? (resolveYamlV3Plain(node.source!, st.file) ?? { type: "str" as const, text: node.source!, value: node.source! }) : undefined;
  if (v3?.type === "null") return null;
  const { type, text } = v3 ?? plainCanonical(node);
  const inMac = !st.macOnlyEncrypted;
  if (inMac) st.mac.add(text);
  st.leaves.push({ path: [...path], aad, type, plaintext: text, encrypted: false, inMac });
  return v3 !== undefined ? v3.value : node.value;
}

/** dotenv (spec §10.2): KEY=VALUE lines, `#` comments, metadata flattened into `sops_*` keys. */
function parseDotenv(text: string): { tree: RawNode; meta: Record<string, unknown> } {
  const entries: { key: string; value: RawNode }[] = [];
  const comments: string[] = [];
  const meta: Record<string, unknown> = {};
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("#")) {
      comments.push(line.slice(1));
      continue;
    }
    const eq = line.indexOf("=");
    if (eq <= 0) throw new SopsError("MALFORMED_FILE", "a dotenv line has no KEY=VALUE form");
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1).replace(/\\n/g, "\n");
    if (key.startsWith("sops_")) unflatten(meta, key.slice(5), value);
    else entries.push({ key, value: { kind: "scalar", value } });
  }
  return { tree: { kind: "map", entries, comments }, meta };
}

function unflatten(target: Record<string, unknown>, flatKey: string, value: string): void {
  const parts = flatKey.split("__");
  let cur: Record<string, unknown> | unknown[] = target;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const last = i === parts.length - 1;
    const next = parts[i + 1];
    const key: string | number = i === 0 ? part : part.startsWith("list_") ? Number(part.slice(5)) : part.startsWith("map_") ? part.slice(4) : part;
    const child = last ? value : next?.startsWith("list_") ? [] : {};
    if (Array.isArray(cur)) {
      cur[key as number] ??= child;
      cur = cur[key as number] as Record<string, unknown> | unknown[];
    } else {
      if (!Object.prototype.hasOwnProperty.call(cur, key)) setProp(cur, String(key), child);
      cur = cur[String(key)] as Record<string, unknown> | unknown[];
    }
  }
}

/**
 * Decrypts a general SOPS document with a known data key, verifying every value and the MAC.
 * @throws SopsError MALFORMED_FILE, NOT_ENCRYPTED, TAMPERED, MAC_MISMATCH, UNSUPPORTED.
 */
export function decryptDocumentWithKey(text: string, dataKey: Uint8Array, options: DocumentOptions = {}): DecryptedDocument {
  const { format, roots, meta } = parseDocumentText(text, options);
  const st: WalkState = {
    key: dataKey,
    encrypts: format === "binary" ? () => true : cryptRule(meta, text, options.path),
    mac: new MacBuilder(meta.mac_only_encrypted === true),
    macOnlyEncrypted: meta.mac_only_encrypted === true,
    leaves: [],
    comments: [],
    file: options.path,
    format,
    text,
  };
  const trees = roots.map((r) => walk(r, [], st));
  const macHex = st.mac.digestHex();
  requireVersion(meta, options.path);
  verifyMac(meta.mac, macHex, dataKey, meta.lastmodified, options.path);
  return { format, tree: trees[0], trees, metadata: meta, macHex, dataKey, leaves: st.leaves, comments: st.comments };
}

/** Parses any store into raw trees plus validated metadata, without decrypting. */
export function parseDocumentText(text: string, options: DocumentOptions = {}): { format: DocumentFormat; roots: RawNode[]; meta: SopsMetadata } {
  const file = options.path;
  const max = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (text.length > max) throw new SopsError("FILE_TOO_LARGE", `the file is larger than ${max} bytes`, { file });
  const format = options.format ?? (file !== undefined ? formatForPath(file) : "yaml");
  if (format === "dotenv") {
    const { tree, meta } = parseDotenv(text);
    if (Object.keys(meta).length === 0) throw new SopsError("NOT_ENCRYPTED", "the file has no sops metadata", { file });
    return { format, roots: [tree], meta: metadataFromObject(meta, file) };
  }
  // YAML 1.2 (§5.4) and sops' yaml.v3 read a lone CR as a line break, the `yaml` package does not:
  // parse the same text with LF there (same length, so offsets and line numbers stay those of `text`).
  const src = loneCrAsLf(text);
  assertNestingBound(src, file);
  const docs = parseAllDocuments(src, { uniqueKeys: format === "yaml", prettyErrors: true, strict: true });
  if (!Array.isArray(docs) || docs.length === 0) throw new SopsError("NOT_ENCRYPTED", "the file is empty: it has no sops metadata", { file });
  const roots: RawNode[] = [];
  let metaNode: unknown;
  let metaLine = 1;
  const budget = { n: 0, aliases: 0 };
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      const e = doc.errors[0]!;
      throw new SopsError(e.code === "DUPLICATE_KEY" ? "DUPLICATE_KEY" : "MALFORMED_FILE", `not valid ${format.toUpperCase()}: ${e.message.split("\n")[0]}`, {
        file,
        line: e.linePos?.[0]?.line,
        column: e.linePos?.[0]?.col,
      });
    }
    const root = fromYaml(doc.contents as Node | null, doc, budget, text, file);
    if (root.kind === "scalar" && root.value === null) {
      roots.push({ kind: "map", entries: [], comments: [] });
      continue;
    }
    if (root.kind !== "map") throw new SopsError("MALFORMED_FILE", "each document must be a mapping", { file });
    root.comments.unshift(...commentLines(doc.commentBefore));
    root.comments.push(...commentLines(doc.comment));
    const idx = root.entries.findIndex((e) => e.key === "sops");
    if (idx !== -1) {
      const [m] = root.entries.splice(idx, 1);
      if (metaNode === undefined) {
        metaNode = toPlain(m!.value);
        // the line of the `sops:` key (an error in the block is reported there; it said line 1)
        const key = (format === "yaml" ? /^(?:sops|"sops"|'sops')[ \t]*:/m : /^[ \t]*"sops"[ \t]*:/m).exec(text);
        metaLine = key === null ? 1 : lineOf(text, key.index);
        // `version` as written: sops' yaml.v3 decodes the text of `3.10` into its string field, the number 3.1 is not what the file says
        const version = m!.value.kind === "map" ? m!.value.entries.find((e) => e.key === "version")?.value : undefined;
        if (version?.kind === "scalar" && typeof version.value === "number" && version.source !== undefined && typeof metaNode === "object" && metaNode !== null) {
          (metaNode as Record<string, unknown>).version = version.source;
        }
      }
    }
    roots.push(root);
  }
  if (metaNode === undefined) throw new SopsError("NOT_ENCRYPTED", "the file is not encrypted: it has no sops metadata", { file });
  const meta = metadataFromObject(metaNode, file, metaLine);
  if (format === "binary") {
    const data = roots[0]?.kind === "map" ? roots[0].entries.find((e) => e.key === "data") : undefined;
    if (data === undefined) throw new SopsError("MALFORMED_FILE", "a binary-store file needs a `data` key", { file });
  }
  return { format, roots, meta };
}

function toPlain(node: RawNode): unknown {
  if (node.kind === "map") {
    const o: Record<string, unknown> = {};
    for (const e of node.entries) setProp(o, e.key, toPlain(e.value));
    return o;
  }
  if (node.kind === "list") return node.items.map(toPlain);
  return node.value;
}

/**
 * Decrypts a general SOPS document (YAML with nesting/lists/types/comments, JSON, dotenv, binary),
 * unwrapping the data key with the identities and verifying the MAC.
 */
export async function decryptDocument(text: string, identities: Identities | readonly string[], options: DocumentOptions = {}): Promise<DecryptedDocument> {
  const { format, meta } = parseDocumentText(text, options);
  const ids = toIdentities(identities);
  const recipients = meta.age.map((s) => s.recipient);
  if (ids.identities.length === 0) {
    throw new SopsError("NO_IDENTITY", `no age identity found (looked in: ${ids.sources.join("; ")})`, { file: options.path, hint: `the file's recipients are: ${recipients.join(", ")}` });
  }
  const where = { text, file: options.path, from: Math.max(0, text.search(/^["']?sops["']?[ \t]*:|^sops_/m)), format };
  const groups = readKeyGroups(meta, where);
  if (groups !== undefined) return decryptDocumentWithKey(text, await unwrapKeyGroupsKey(groups, meta, ids, where), options);
  if (meta.age.length === 0) {
    const other = Object.keys(meta.other).filter((k) => meta.other[k] !== null && !(Array.isArray(meta.other[k]) && (meta.other[k] as unknown[]).length === 0));
    throw new SopsError("UNSUPPORTED", `the file has no top-level age recipients${other.length > 0 ? ` (it uses: ${other.join(", ")})` : ""}; only age recipients (top-level, or in sops.key_groups) are supported`, {
      file: options.path,
      hint: "decrypt it with sops and the original key, then re-create it with stellar-secrets",
    });
  }
  const key = await unwrapDataKey(meta.age, ids.identities);
  if (key === undefined) {
    throw new SopsError("NO_MATCHING_IDENTITY", `none of your age identities can decrypt this file; its recipients are: ${recipients.join(", ") || "(no age recipients)"} (looked in: ${ids.sources.join("; ")})`, { file: options.path });
  }
  return decryptDocumentWithKey(text, key, options);
}

/** Decodes bytes strictly before {@link decryptDocument}. */
export async function decryptDocumentBytes(bytes: Uint8Array, identities: Identities | readonly string[], options: DocumentOptions = {}): Promise<DecryptedDocument> {
  return decryptDocument(decodeUtf8(bytes, { path: options.path, maxBytes: options.maxBytes }), identities, options);
}
