/**
 * Config files' models kept between runs (what `.tsbuildinfo` is to tsc, `--cache` to ESLint): an
 * editor's next start takes the model of a file whose text is unchanged from here instead of
 * parsing it again. Pure: the caller reads and writes the cache's text (the language server keeps
 * it in its own folder, never in the repository) and passes this to `loadWorkspace` as its
 * `configModels`.
 *
 * What a model depends on: {@link parseConfigFile}`(text, path)` is a function of the file's
 * text, its path relative to the project root, the code (the parser, the schemas, the
 * credential formats, the messages) and the runtime it runs on (node's URL parser and regular
 * expressions), and of nothing else: no setting of stellar.yaml, no other file, no environment
 * variable, no clock. So an entry is used only when its path is the file's, the
 * SHA-256 of the file's text is the one recorded, and the cache was written by the same build
 * (`build`, the bundle's build tag) on the same runtime (`runtime`, node's version: the parser
 * runs node's URL parser and regular expressions) for the same project root; anything cross-file (the index's
 * maps, the check, the diagnostics of other files) is computed as without a cache.
 *
 * What it holds: names (objects, secrets, links, environments, headers), ranges, the file's own
 * diagnostics (whose messages never hold a value) and the SHA-256 of the text; never a value.
 * The one piece of a model that is a value of the file, a plain string where a secret's name may
 * be meant (`PlainValue.text`: a static header's value, a connector's `username`), is not stored:
 * an entry records where it is written and the text is taken again from the file itself, which
 * has the hash recorded. A model that has a `plaintext-credential` diagnostic, or a plain string
 * where a secret is required (`token: …`), or a name, link target or diagnostic that looks like a
 * credential (a token pasted as a secret's name, `secret: sk_live_…`, which only the cross-file
 * check reports), is not cached at all (no hash of that file either): it is parsed at every start. Nor is
 * a model of a parse that ran out of stack (`ConfigFile.uncacheable`: no documents, though the same
 * text parses whole with more stack). A file that is not valid UTF-16 once read (a lone surrogate, which
 * UTF-8 cannot hash apart from U+FFFD) or over {@link MAX_CACHED_TEXT} characters is not cached.
 *
 * Trust: the cache's text is checked whole before any entry is used (its format, version, build,
 * root, entry count and the SHA-256 of its payload); each entry is then checked field by field
 * when it is used (ranges within the text, lines and columns on it, a reference's line and column
 * those of its range's start, known rule ids and kinds), and a single entry that fails makes every
 * later one unused. The SHA-256 guards against damage, not a forger: whoever can write the file can
 * make it say anything of that shape, so the server trusts only a file it may (index-cache.ts). A cache that fails
 * any check is treated as empty (and the next write replaces it).
 */
import { sha256Base64 } from "@stellar-secrets/sops";
import { addComments, configTextOf, type ConfigDocument, type ConfigFile, type EnvironmentMention, type ObjectLink, type PlainValue, type SecretReference } from "./config.js";
import { detectCredential, pastedCredential } from "./credentials.js";
import type { Diagnostic } from "./diagnostics.js";
import type { ConfigModelSource } from "./load.js";
import { LineIndex, type TextRange } from "./position.js";
import { isRuleId, type RuleId, type Severity } from "./rules.js";
import { CONFIG_KINDS, type ConfigKind } from "./schemas.js";

/** The cache format's name, in its header. */
export const MODEL_CACHE_FORMAT = "stellar-secrets-config-models";
/** The cache format's version: a cache of another version is not used. */
export const MODEL_CACHE_VERSION = 1;
/** Largest text, in UTF-16 code units, whose model is cached (a generated file of megabytes is parsed at every start). */
export const MAX_CACHED_TEXT = 1024 * 1024;
/** Largest cache text read, in characters: a larger one is not used. */
export const MAX_MODEL_CACHE_CHARS = 256 * 1024 * 1024;

/** Who may use a cache: the build of the code that wrote it and the project root (a realpath). */
export interface ModelCacheIdentity {
  /** The code's build tag (the bundle's last line, `// stellar-secrets build 0123abcd`): models made by other code are never used. */
  build: string;
  /** The project root as the caller names it (its realpath): a cache of another project is not used. */
  root: string;
  /**
   * The runtime's version (`process.version`): the parser also runs the runtime's own code (its
   * URL parser for `base_url` and `token_url`, its regular expressions), so an editor's Node and
   * another Node running the same bundle do not share models.
   */
  runtime: string;
}

/** What a cache did during one load (for the server's log and the bench). */
export interface ModelCacheStats {
  /** Entries the cache held when read. */
  entries: number;
  /** Models taken from the cache. */
  hits: number;
  /** Files parsed: no entry, a changed text, or not usable. */
  misses: number;
  /** Models recorded for the next write that were not taken from the cache (parsed by the load or later). */
  recorded: number;
  /** Why the cache's text was not used ("none" when there was none), undefined when it was. */
  ignored?: string;
}

/** What is recorded for a model the cache can write: its text's hash and where its plain values are written. */
interface ModelMeta {
  hash: string;
  /** Per plain value, in document order: 0 = the text at its range, 1 = that text without its quotes. */
  modes: number[];
}

type Encoded = unknown[];

const KINDS = new Set<string>(CONFIG_KINDS);
const SEVERITIES = new Set<string>(["error", "warning", "info"]);
const LINK_FIELDS = new Set<string>(["connection", "auth", "actions"]);
const FILE_KEYS = ["path", "lines", "documents", "diagnostics", "relevant"];
const DOCUMENT_KEYS = ["kind", "name", "nameRange", "range", "environments", "references", "links", "documentIndex", "file", "hasErrors"];
const REFERENCE_KEYS = ["secret", "file", "range", "line", "column", "kind", "owner", "field", "documentIndex"];
const LINK_KEYS = ["field", "targetKind", "target", "range"];
const RANGE_KEYS = ["start", "end"];
const DIAGNOSTIC_KEYS = ["rule", "severity", "file", "line", "column", "endLine", "endColumn", "message"];

/**
 * The models of one project's config files from an earlier run, and what this run parsed, for the
 * next. Pass it to `loadWorkspace` (`configModels`), tell it of every model parsed later
 * ({@link parsed}), and write {@link serialize}'s text when convenient.
 */
export class ConfigModelCache implements ConfigModelSource {
  readonly identity: ModelCacheIdentity;
  /** Entries read, by path; emptied as they are used, dropped by {@link endLoad}. */
  private entries: Map<string, Encoded> | undefined;
  /** What each model this cache can write was made from (a model replaced or removed is simply not written). */
  private readonly meta = new WeakMap<ConfigFile, ModelMeta>();
  /** The last text hashed, to hash it once when a miss is parsed. */
  private last: { text: string; hash: string } | undefined;
  readonly stats: ModelCacheStats;

  private constructor(identity: ModelCacheIdentity, entries: Map<string, Encoded> | undefined, ignored: string | undefined) {
    this.identity = identity;
    this.entries = entries;
    this.stats = { entries: entries?.size ?? 0, hits: 0, misses: 0, recorded: 0, ...(ignored === undefined ? {} : { ignored }) };
  }

  /** An empty cache (nothing to take; what is parsed is recorded for the next write). */
  static empty(identity: ModelCacheIdentity, ignored = "none"): ConfigModelCache {
    return new ConfigModelCache(identity, undefined, ignored);
  }

  /**
   * The cache in `text` (what {@link serialize} wrote), checked whole: its header (format,
   * version, build, root, entry count), the SHA-256 of its payload, and the shape of its list of
   * entries. Anything wrong gives an empty cache whose `stats.ignored` says why. Never throws.
   */
  static parse(text: string | undefined, identity: ModelCacheIdentity): ConfigModelCache {
    if (text === undefined) return ConfigModelCache.empty(identity, "none");
    const why = (reason: string): ConfigModelCache => ConfigModelCache.empty(identity, reason);
    if (text.length > MAX_MODEL_CACHE_CHARS) return why("too large");
    const nl = text.indexOf("\n");
    if (nl === -1 || nl > 4096) return why("corrupt");
    let header: unknown;
    let list: unknown;
    try {
      header = JSON.parse(text.slice(0, nl));
    } catch {
      return why("corrupt");
    }
    if (!isRecord(header) || header.format !== MODEL_CACHE_FORMAT) return why("corrupt");
    if (header.version !== MODEL_CACHE_VERSION) return why("another version");
    if (!sameKeys(header, ["format", "version", "build", "runtime", "root", "entries", "sha256"])) return why("corrupt");
    if (header.build !== identity.build) return why("another build");
    if (header.runtime !== identity.runtime) return why("another runtime");
    if (header.root !== identity.root) return why("another project");
    const payload = text.slice(nl + 1);
    if (typeof header.sha256 !== "string" || sha256Base64(payload) !== header.sha256) return why("corrupt");
    try {
      list = JSON.parse(payload);
    } catch {
      return why("corrupt");
    }
    if (!Array.isArray(list) || list.length !== header.entries) return why("corrupt");
    const entries = new Map<string, Encoded>();
    for (const item of list) {
      if (!Array.isArray(item) || item.length !== 2 || typeof item[0] !== "string" || !Array.isArray(item[1]) || entries.has(item[0])) return why("corrupt");
      entries.set(item[0], item[1] as Encoded);
    }
    return new ConfigModelCache(identity, entries, undefined);
  }

  /**
   * The model of `text` at `path` from the cache, equal field by field to what
   * `parseConfigFile(text, path)` returns, or undefined (no entry, another text, or an entry that
   * fails its checks: then no later entry is used either). Each entry is used once.
   */
  take(path: string, text: string): ConfigFile | undefined {
    const entry = this.entries?.get(path);
    if (entry === undefined) {
      this.stats.misses++;
      return undefined;
    }
    this.entries?.delete(path);
    const hash = cacheable(text) ? this.hashOf(text) : undefined;
    if (hash === undefined || entry[0] !== hash) {
      this.stats.misses++;
      return undefined;
    }
    let decoded: { model: ConfigFile; modes: number[] } | undefined;
    try {
      decoded = decodeEntry(entry, path, text);
    } catch {
      decoded = undefined;
    }
    if (decoded === undefined) {
      // a damaged entry: trust none of the rest
      this.entries = undefined;
      this.stats.ignored = "corrupt entry";
      this.stats.misses++;
      return undefined;
    }
    this.meta.set(decoded.model, { hash, modes: decoded.modes });
    this.stats.hits++;
    return decoded.model;
  }

  /**
   * Records a model just made by `parseConfigFile(text, path)` (by the loader or later, for a
   * changed file), so that a later {@link serialize} can write it. A model that must not be cached
   * (see the module's comment) is not recorded.
   */
  parsed(path: string, text: string, model: ConfigFile): void {
    if (!model.relevant || model.path !== path || model.uncacheable === true || !cacheable(text)) return;
    if (model.diagnostics.some((d) => d.rule === "plaintext-credential")) return;
    let modes: number[] = [];
    let source: string | undefined;
    for (const doc of model.documents) {
      for (const p of doc.plainValues ?? []) {
        if (p.secretOnly === true) return;
        source ??= configTextOf(text);
        const written = source.slice(p.range.start, p.range.end);
        if (written === p.text) modes.push(0);
        else if (written.length >= 2 && (written[0] === '"' || written[0] === "'") && written[written.length - 1] === written[0] && written.slice(1, -1) === p.text) modes.push(1);
        else return; // (an escape, a folded scalar, an alias: the text cannot be taken from the file as it is)
      }
    }
    if (modes.length === 0) modes = NO_MODES;
    if (storesCredential(model)) return;
    this.meta.set(model, { hash: this.hashOf(text), modes });
    this.stats.recorded++;
  }

  /**
   * The load is over: entries not taken (files gone, or not read) are dropped, so the cache holds
   * no second copy of the models. Returns how many were dropped.
   */
  endLoad(): number {
    const left = this.entries?.size ?? 0;
    this.entries = undefined;
    this.last = undefined;
    return left;
  }

  /**
   * The cache's text for `models` (the project's config files as they are now): an entry for each
   * one recorded by {@link take} or {@link parsed}, nothing for the others (so files that are gone
   * are dropped). A model whose shape this version does not know is left out, never written in part.
   */
  serialize(models: Iterable<ConfigFile>): string {
    const list: [string, Encoded][] = [];
    for (const model of models) {
      const meta = this.meta.get(model);
      if (meta === undefined) continue;
      const encoded = encodeModel(model, meta);
      if (encoded !== undefined) list.push([model.path, encoded]);
    }
    const payload = JSON.stringify(list);
    const { build, runtime, root } = this.identity;
    const header = { format: MODEL_CACHE_FORMAT, version: MODEL_CACHE_VERSION, build, runtime, root, entries: list.length, sha256: sha256Base64(payload) };
    return `${JSON.stringify(header)}\n${payload}`;
  }

  private hashOf(text: string): string {
    if (this.last?.text === text) return this.last.hash;
    const hash = sha256Base64(text);
    this.last = { text, hash };
    return hash;
  }
}

const NO_MODES: number[] = [];

/** True when a text's model may be cached: not too large, and its UTF-8 encoding (what is hashed) is one-to-one. */
function cacheable(text: string): boolean {
  return text.length <= MAX_CACHED_TEXT && (text as string & { isWellFormed(): boolean }).isWellFormed();
}

/**
 * True when a string an entry would store looks like a credential: a token pasted where a name
 * belongs (a secret's, an object's, an environment's, a header's, a link's target, an unknown
 * field's name quoted in a diagnostic). The parser reports none of these as `plaintext-credential`
 * (the checker judges a pasted secret name later, across files, and never repeats it), so the
 * model would carry it to disk: such a model is parsed at every start instead. A name that only
 * looks random costs a parse, never a wrong model.
 */
function storesCredential(model: ConfigFile): boolean {
  for (const doc of model.documents) {
    if (doc.name !== undefined && pastedCredential(doc.name) !== undefined) return true;
    for (const e of doc.environments ?? []) if (pastedCredential(e.name) !== undefined) return true;
    for (const r of doc.references) if (pastedCredential(r.secret) !== undefined || inText(r.field)) return true;
    for (const l of doc.links) if (pastedCredential(l.target) !== undefined) return true;
    for (const p of doc.plainValues ?? []) if ((p.header !== undefined && pastedCredential(p.header) !== undefined) || (p.field !== undefined && inText(p.field))) return true;
  }
  for (const d of model.diagnostics) {
    if (inText(d.message) || (d.secret !== undefined && pastedCredential(d.secret) !== undefined) || (d.suggestion !== undefined && pastedCredential(d.suggestion) !== undefined)) return true;
  }
  for (const u of model.syntaxError?.unreadNames ?? []) if (pastedCredential(u.name) !== undefined) return true;
  return false;
}

/** True when a text (a message, a field's label) holds a credential's format, or quotes a word that looks like one. */
function inText(text: string): boolean {
  if (detectCredential(text) !== undefined) return true;
  for (const word of text.split(/["\s]+/)) if (word.length >= 24 && pastedCredential(word) !== undefined) return true;
  return false;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function sameKeys(o: object, keys: readonly string[]): boolean {
  const own = Object.keys(o);
  if (own.length !== keys.length) return false;
  for (let i = 0; i < own.length; i++) if (own[i] !== keys[i]) return false;
  return true;
}

// ---- encoding (at write time: every field checked, so a model of a shape this code does not know is never written in part)

class Unknown extends Error {}

function need(ok: boolean): void {
  if (!ok) throw new Unknown();
}

function encodeModel(model: ConfigFile, meta: ModelMeta): Encoded | undefined {
  try {
    // (comments are not written: read back, they are found again in the text, as a parse finds them)
    const own = Object.keys(model);
    const keys = own.at(-1) === "comments" ? own.slice(0, -1) : own;
    const expected = keys.length === 5 ? FILE_KEYS : [...FILE_KEYS, "syntaxError"];
    need(keys.length === expected.length && keys.every((k, i) => k === expected[i]) && model.relevant === true && model.lines instanceof LineIndex);
    const path = model.path;
    let mode = 0;
    const documents = model.documents.map((d) => {
      const e = encodeDocument(d, path, meta.modes, mode);
      mode += d.plainValues?.length ?? 0;
      return e;
    });
    need(mode === meta.modes.length);
    const diagnostics = model.diagnostics.map((d) => encodeDiagnostic(d, path));
    let syntax: unknown = 0;
    if (model.syntaxError !== undefined) {
      const s = model.syntaxError;
      need(sameKeys(s, s.unreadNames === undefined ? ["line", "column"] : ["line", "column", "unreadNames"]));
      syntax = [s.line, s.column, s.unreadNames === undefined ? null : s.unreadNames.map((u) => (need(sameKeys(u, ["name", "line"])), [u.name, u.line]))];
    }
    return [meta.hash, diagnostics, documents, syntax];
  } catch (e) {
    if (e instanceof Unknown) return undefined;
    throw e;
  }
}

function encodeRange(r: TextRange): [number, number] {
  need(sameKeys(r, RANGE_KEYS));
  return [r.start, r.end];
}

function encodeDocument(d: ConfigDocument, path: string, modes: readonly number[], firstMode: number): Encoded {
  need(sameKeys(d, d.plainValues === undefined ? DOCUMENT_KEYS : [...DOCUMENT_KEYS, "plainValues"]) && d.file === path);
  const environments = d.environments === undefined ? null : d.environments.map((e) => (need(sameKeys(e, ["name", "range"])), [e.name, ...encodeRange(e.range)]));
  const references = d.references.map((r) => {
    need(sameKeys(r, REFERENCE_KEYS) && r.file === path && r.kind === d.kind && r.owner === d.name && r.documentIndex === d.documentIndex);
    return [r.secret, ...encodeRange(r.range), r.line, r.column, r.field];
  });
  const links = d.links.map((l) => (need(sameKeys(l, LINK_KEYS)), [l.field, l.targetKind, l.target, ...encodeRange(l.range)]));
  const plain =
    d.plainValues === undefined
      ? null
      : d.plainValues.map((p, i) => {
          const keys = ["text", "range", "kind", ...(p.header !== undefined ? ["header"] : []), ...(p.field !== undefined ? ["field"] : []), ...(p.secretOnly !== undefined ? ["secretOnly"] : [])];
          need(sameKeys(p, keys) && p.secretOnly === undefined && (p.kind === "header" || p.kind === "field"));
          return [modes[firstMode + i], ...encodeRange(p.range), p.kind, p.header ?? null, p.field ?? null];
        });
  return [d.kind, d.name ?? null, d.nameRange === undefined ? null : encodeRange(d.nameRange), encodeRange(d.range), environments, references, links, plain, d.documentIndex, d.hasErrors ? 1 : 0];
}

function encodeDiagnostic(d: Diagnostic, path: string): Encoded {
  const keys = [...DIAGNOSTIC_KEYS, ...(d.secret !== undefined ? ["secret"] : []), ...(d.suggestion !== undefined ? ["suggestion"] : [])];
  need(sameKeys(d, keys) && d.file === path);
  return [d.rule, d.severity, d.line, d.column, d.endLine, d.endColumn, d.message, d.secret ?? null, d.suggestion ?? null];
}

// ---- decoding (at use: every field checked against its type and the text's length)

class Bad extends Error {}

function check(ok: boolean): void {
  if (!ok) throw new Bad();
}

const isCount = (x: unknown): x is number => typeof x === "number" && Number.isInteger(x) && x >= 0;
const isPlace = (x: unknown): x is number => typeof x === "number" && Number.isInteger(x) && x >= 1;
const isString = (x: unknown): x is string => typeof x === "string";
const optString = (x: unknown): x is string | null => x === null || typeof x === "string";

function decodeEntry(entry: Encoded, path: string, original: string): { model: ConfigFile; modes: number[] } | undefined {
  try {
    return decodeChecked(entry, path, original);
  } catch (e) {
    if (e instanceof Bad) return undefined;
    throw e;
  }
}

/** True when 1-based `line` and `column` are a position of the text (a column may be one past its line's last character). */
function onText(lines: LineIndex, line: number, column: number): boolean {
  if (line > lines.lineCount) return false;
  const end = line < lines.lineCount ? (lines.lineStarts[line] as number) - 1 : lines.length;
  return (lines.lineStarts[line - 1] as number) + column - 1 <= end;
}

// Written for a cold start: plain loops and index reads (no array destructuring, which runs the
// iterator protocol, and no closures made per entry), since this runs once per file before the JIT
// has compiled anything.

/** The range at `a[at]`, `a[at + 1]`, within a text of `length`. */
function rangeAt(a: unknown[], at: number, length: number): TextRange {
  const start = a[at];
  const end = a[at + 1];
  check(isCount(start) && isCount(end) && (start as number) <= (end as number) && (end as number) <= length);
  return { start: start as number, end: end as number };
}

/** A `[start, end]` pair. */
function pairAt(x: unknown, length: number): TextRange {
  check(Array.isArray(x) && x.length === 2);
  return rangeAt(x as unknown[], 0, length);
}

function decodeChecked(entry: Encoded, path: string, original: string): { model: ConfigFile; modes: number[] } {
  check(entry.length === 4 && Array.isArray(entry[1]) && Array.isArray(entry[2]));
  const text = configTextOf(original);
  const length = text.length;
  const modes: number[] = [];
  const lines = new LineIndex(text);
  const encodedDocs = entry[2] as unknown[];
  const documents: ConfigDocument[] = new Array<ConfigDocument>(encodedDocs.length);
  for (let i = 0; i < encodedDocs.length; i++) documents[i] = decodeDocument(encodedDocs[i], path, text, lines, modes);
  const encodedDiags = entry[1] as unknown[];
  const diagnostics: Diagnostic[] = new Array<Diagnostic>(encodedDiags.length);
  for (let i = 0; i < encodedDiags.length; i++) diagnostics[i] = decodeDiagnostic(encodedDiags[i], path, lines);
  const model: ConfigFile = { path, lines, documents, diagnostics, relevant: true };
  const syntax = entry[3];
  if (syntax !== 0) {
    check(Array.isArray(syntax) && syntax.length === 3);
    const s = syntax as unknown[];
    const line = s[0];
    const column = s[1];
    const unread = s[2];
    check(isPlace(line) && isPlace(column) && onText(lines, line as number, column as number) && (unread === null || Array.isArray(unread)));
    if (unread === null) model.syntaxError = { line: line as number, column: column as number };
    else {
      const names: { name: string; line: number }[] = [];
      for (const u of unread as unknown[]) {
        check(Array.isArray(u) && u.length === 2 && isString((u as unknown[])[0]) && isPlace((u as unknown[])[1]) && ((u as unknown[])[1] as number) <= lines.lineCount);
        names.push({ name: (u as unknown[])[0] as string, line: (u as unknown[])[1] as number });
      }
      model.syntaxError = { line: line as number, column: column as number, unreadNames: names };
    }
  }
  if (text.includes("#")) addComments(model, text);
  return { model, modes };
}

function decodeDocument(x: unknown, path: string, text: string, lines: LineIndex, modes: number[]): ConfigDocument {
  check(Array.isArray(x) && x.length === 10);
  const d = x as unknown[];
  const length = text.length;
  const kind = d[0];
  const name = d[1];
  const envs = d[4];
  const refs = d[5];
  const links = d[6];
  const plain = d[7];
  const documentIndex = d[8];
  const hasErrors = d[9];
  check(isString(kind) && KINDS.has(kind) && optString(name) && isCount(documentIndex) && (hasErrors === 0 || hasErrors === 1));
  check(Array.isArray(refs) && Array.isArray(links) && (envs === null || Array.isArray(envs)) && (plain === null || Array.isArray(plain)));
  const owner = name === null ? undefined : (name as string);
  const k = kind as ConfigKind;
  const di = documentIndex as number;
  let environments: EnvironmentMention[] | undefined;
  if (envs !== null) {
    const list = envs as unknown[];
    environments = new Array<EnvironmentMention>(list.length);
    for (let i = 0; i < list.length; i++) {
      const e = list[i];
      check(Array.isArray(e) && e.length === 3 && isString((e as unknown[])[0]));
      environments[i] = { name: (e as unknown[])[0] as string, range: rangeAt(e as unknown[], 1, length) };
    }
  }
  const refList = refs as unknown[];
  const references = new Array<SecretReference>(refList.length);
  for (let i = 0; i < refList.length; i++) {
    const r = refList[i];
    check(Array.isArray(r) && r.length === 6);
    const a = r as unknown[];
    const secret = a[0];
    const line = a[3];
    const column = a[4];
    const field = a[5];
    check(isString(secret) && isPlace(line) && isPlace(column) && isString(field));
    const range = rangeAt(a, 1, length);
    // (the line and column are the range's start: a reference must be where its range is)
    const at = lines.positionAt(range.start);
    check(at.line === line && at.column === column);
    references[i] = { secret: secret as string, file: path, range, line: line as number, column: column as number, kind: k, owner, field: field as string, documentIndex: di };
  }
  const linkList = links as unknown[];
  const objectLinks = new Array<ObjectLink>(linkList.length);
  for (let i = 0; i < linkList.length; i++) {
    const l = linkList[i];
    check(Array.isArray(l) && l.length === 5);
    const a = l as unknown[];
    const field = a[0];
    const targetKind = a[1];
    const target = a[2];
    check(isString(field) && LINK_FIELDS.has(field) && isString(targetKind) && KINDS.has(targetKind) && isString(target));
    objectLinks[i] = { field: field as ObjectLink["field"], targetKind: targetKind as ConfigKind, target: target as string, range: rangeAt(a, 3, length) };
  }
  const doc: ConfigDocument = {
    kind: k,
    name: owner,
    nameRange: d[2] === null ? undefined : pairAt(d[2], length),
    range: pairAt(d[3], length),
    environments,
    references,
    links: objectLinks,
    documentIndex: di,
    file: path,
    hasErrors: hasErrors === 1,
  };
  if (plain !== null) {
    const list = plain as unknown[];
    const values = new Array<PlainValue>(list.length);
    for (let i = 0; i < list.length; i++) {
      const p = list[i];
      check(Array.isArray(p) && p.length === 6);
      const a = p as unknown[];
      const mode = a[0];
      const kind = a[3];
      const header = a[4];
      const field = a[5];
      check((mode === 0 || mode === 1) && (kind === "header" || kind === "field") && optString(header) && optString(field));
      const r = rangeAt(a, 1, length);
      check(mode === 0 || r.end - r.start >= 2);
      modes.push(mode as number);
      const value: PlainValue = { text: mode === 0 ? text.slice(r.start, r.end) : text.slice(r.start + 1, r.end - 1), range: r, kind: kind as PlainValue["kind"] };
      if (header !== null) value.header = header as string;
      if (field !== null) value.field = field as string;
      values[i] = value;
    }
    doc.plainValues = values;
  }
  return doc;
}

function decodeDiagnostic(x: unknown, path: string, lines: LineIndex): Diagnostic {
  check(Array.isArray(x) && x.length === 9);
  const a = x as unknown[];
  const rule = a[0];
  const severity = a[1];
  const line = a[2];
  const column = a[3];
  const endLine = a[4];
  const endColumn = a[5];
  const message = a[6];
  const secret = a[7];
  const suggestion = a[8];
  check(isString(rule) && isRuleId(rule) && rule !== "plaintext-credential" && isString(severity) && SEVERITIES.has(severity));
  check(isPlace(line) && isPlace(column) && isPlace(endLine) && isPlace(endColumn) && isString(message) && optString(secret) && optString(suggestion));
  // both ends on the text, the start not after the end
  check(onText(lines, line as number, column as number) && onText(lines, endLine as number, endColumn as number));
  check((line as number) < (endLine as number) || (line === endLine && (column as number) <= (endColumn as number)));
  const d: Diagnostic = { rule: rule as RuleId, severity: severity as Severity, file: path, line: line as number, column: column as number, endLine: endLine as number, endColumn: endColumn as number, message: message as string };
  if (secret !== null) d.secret = secret as string;
  if (suggestion !== null) d.suggestion = suggestion as string;
  return d;
}
