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
import { addComments, addSecretMentions, configTextOf, type ConfigDocument, type ConfigFile, type EnvironmentMention, type ObjectLink, type PlainValue, type SecretReference } from "./config.js";
import { detectCredential, pastedCredential } from "./credentials.js";
import type { Diagnostic } from "./diagnostics.js";
import type { ConfigModelSource } from "./load.js";
import { LineIndex, type TextRange } from "./position.js";
import { isRuleId, type RuleId, type Severity } from "./rules.js";
import { CONFIG_KINDS, type ConfigKind } from "./schemas.js";

/** The cache format's name, in its header. */
export const MODEL_CACHE_FORMAT = "stellar-secrets-config-models";
/**
 * The cache format's version: a cache of another version is not used. 2: the payload is one flat
 * list of integers and a table of strings ({@link flattenEntries}), where 1 was nested lists.
 */
export const MODEL_CACHE_VERSION = 2;
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
  /** Entries read: where each path's entry starts in `payload.ints`; emptied as they are used, dropped by {@link endLoad}. */
  private entries: Map<string, number> | undefined;
  /** The payload read (its integers and strings), dropped by {@link endLoad}. */
  private payload: FlatPayload | undefined;
  /** What each model this cache can write was made from (a model replaced or removed is simply not written). */
  private readonly meta = new WeakMap<ConfigFile, ModelMeta>();
  /** The last text hashed, to hash it once when a miss is parsed. */
  private last: { text: string; hash: string } | undefined;
  readonly stats: ModelCacheStats;

  private constructor(identity: ModelCacheIdentity, entries: Map<string, number> | undefined, payload: FlatPayload | undefined, ignored: string | undefined) {
    this.identity = identity;
    this.entries = entries;
    this.payload = payload;
    this.stats = { entries: entries?.size ?? 0, hits: 0, misses: 0, recorded: 0, ...(ignored === undefined ? {} : { ignored }) };
  }

  /** An empty cache (nothing to take; what is parsed is recorded for the next write). */
  static empty(identity: ModelCacheIdentity, ignored = "none"): ConfigModelCache {
    return new ConfigModelCache(identity, undefined, undefined, ignored);
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
    // [strings, integers]: each entry is its path (a string), the number of integers of its body, the body
    if (!Array.isArray(list) || list.length !== 2 || !Array.isArray(list[0]) || !Array.isArray(list[1])) return why("corrupt");
    const flat: FlatPayload = { strings: list[0] as unknown[], ints: list[1] as unknown[] };
    const entries = new Map<string, number>();
    const ints = flat.ints;
    for (let at = 0; at < ints.length; ) {
      const path = stringOf(flat, ints[at]);
      const n = ints[at + 1];
      if (path === undefined || !isCount(n) || at + 2 + n > ints.length || entries.has(path)) return why("corrupt");
      entries.set(path, at + 2);
      at += 2 + n;
    }
    if (entries.size !== header.entries) return why("corrupt");
    return new ConfigModelCache(identity, entries, flat, undefined);
  }

  /**
   * The model of `text` at `path` from the cache, equal field by field to what
   * `parseConfigFile(text, path)` returns, or undefined (no entry, another text, or an entry that
   * fails its checks: then no later entry is used either). Each entry is used once.
   */
  take(path: string, text: string): ConfigFile | undefined {
    const start = this.entries?.get(path);
    const payload = this.payload;
    if (start === undefined || payload === undefined) {
      this.stats.misses++;
      return undefined;
    }
    this.entries?.delete(path);
    const hash = cacheable(text) ? this.hashOf(text) : undefined;
    // (the body's first integers: a list of 4, then the text's hash)
    if (hash === undefined || stringOf(payload, payload.ints[start + 1]) !== hash) {
      this.stats.misses++;
      return undefined;
    }
    let decoded: { model: ConfigFile; modes: number[] } | undefined;
    try {
      decoded = decodeEntry(new Reader(payload, start, start + (payload.ints[start - 1] as number)), path, text);
    } catch {
      decoded = undefined;
    }
    if (decoded === undefined) {
      // a damaged entry: trust none of the rest
      this.entries = undefined;
      this.payload = undefined;
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
    this.payload = undefined;
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
    const payload = flattenEntries(list);
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
    // (comments and secret mentions are not written: read back, they are found again in the text, as a parse finds them)
    let keys = Object.keys(model);
    if (keys.at(-1) === "secretMentions") keys = keys.slice(0, -1);
    if (keys.at(-1) === "comments") keys = keys.slice(0, -1);
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

// ---- the payload's flat form (version 2)
//
// Version 1 wrote the entries as nested JSON lists: `JSON.parse` of ~1.6 MB made ~200,000 small
// lists and a string per name written (the same secret names, environments and fields again in
// every file), most of it garbage once decoded. Version 2 writes the same nested entries as one
// list of integers and a table of strings, each string once: `JSON.parse` makes two lists, and
// the models read share their strings. Each integer says what it is: n >= 0 is the number n, -1
// null, -2 - 2k the k-th string of the table, -3 - 2n a list of the n values that follow. An entry
// is its path (a string), the number of integers of its body, then its body (the nested entry);
// the decoder reads a body in place, checking each integer's kind, as version 1 checked each
// list's shape (docs/performance.md, sixteenth round).

/** A cache's payload: its table of strings and its integers (both unchecked until read). */
interface FlatPayload {
  strings: unknown[];
  ints: unknown[];
}

/** The string the integer `x` names in the payload's table, or undefined when it names none. */
function stringOf(p: FlatPayload, x: unknown): string | undefined {
  if (typeof x !== "number" || x > -2 || x % 2 !== 0) return undefined;
  const s = p.strings[(-2 - x) / 2];
  return typeof s === "string" ? s : undefined;
}

/**
 * The payload text of `[path, entry]` pairs (entries as {@link encodeModel} makes them: lists of
 * integers >= 0, strings, null and lists): `[strings, integers]`, each string once. An entry holding
 * anything else is left out. Exported for the tests, with {@link unflattenEntries}.
 */
export function flattenEntries(list: readonly (readonly [string, unknown])[]): string {
  const out: Flattening = { strings: [], ids: new Map(), ints: [] };
  const ints = out.ints;
  for (const [path, entry] of list) {
    const mark = ints.length;
    ints.push(stringId(out, path), 0);
    if (put(out, entry)) ints[mark + 1] = ints.length - mark - 2;
    else ints.length = mark;
  }
  return JSON.stringify([out.strings, ints]);
}

/** What {@link flattenEntries} has written so far. */
interface Flattening {
  strings: string[];
  ids: Map<string, number>;
  ints: number[];
}

/** The integer that names string `x` (added to the table on its first use). */
function stringId(out: Flattening, x: string): number {
  let k = out.ids.get(x);
  if (k === undefined) {
    k = out.strings.length;
    out.strings.push(x);
    out.ids.set(x, k);
  }
  return -2 - 2 * k;
}

/** Writes `v`; false when it holds anything but integers >= 0, strings, null and lists. */
function put(out: Flattening, v: unknown): boolean {
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v) || v < 0) return false;
    out.ints.push(v);
  } else if (typeof v === "string") out.ints.push(stringId(out, v));
  else if (v === null) out.ints.push(-1);
  else if (Array.isArray(v)) {
    out.ints.push(-3 - 2 * v.length);
    for (let i = 0; i < v.length; i++) if (!put(out, v[i])) return false;
  } else return false;
  return true;
}

/** The `[path, entry]` pairs of a payload text that {@link flattenEntries} wrote (for the tests: what an entry holds, to change it). */
export function unflattenEntries(payload: string): [string, unknown[]][] {
  const [strings, ints] = JSON.parse(payload) as [string[], number[]];
  let at = 0;
  const value = (): unknown => {
    const x = ints[at++] as number;
    if (x >= 0) return x;
    if (x === -1) return null;
    if (x % 2 === 0) return strings[(-2 - x) / 2];
    const n = (-3 - x) / 2;
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) out.push(value());
    return out;
  };
  const list: [string, unknown[]][] = [];
  while (at < ints.length) {
    const path = strings[(-2 - (ints[at] as number)) / 2] as string;
    at += 2;
    list.push([path, value() as unknown[]]);
  }
  return list;
}

// ---- decoding (at use: every integer checked against its kind, every field against its type and the text's length)

class Bad extends Error {}

function check(ok: boolean): void {
  if (!ok) throw new Bad();
}

const isCount = (x: unknown): x is number => typeof x === "number" && Number.isInteger(x) && x >= 0;

/** A cursor over one entry's body in the payload: `at` up to `end` (exclusive). */
class Reader {
  at: number;
  constructor(
    readonly p: FlatPayload,
    at: number,
    readonly end: number,
  ) {
    this.at = at;
  }
}

// Written for a cold start: plain functions over the cursor and index reads (no closures made per
// entry, no iterator protocol), since this runs once per file before the JIT has compiled anything.

function next(r: Reader): unknown {
  check(r.at < r.end);
  return r.p.ints[r.at++];
}

/** A number >= 0. */
function num(r: Reader): number {
  const x = next(r);
  check(isCount(x));
  return x as number;
}

/** A number >= 1 (a line or a column). */
function place(r: Reader): number {
  const x = num(r);
  check(x >= 1);
  return x;
}

function str(r: Reader): string {
  const s = stringOf(r.p, next(r));
  check(s !== undefined);
  return s as string;
}

function optStr(r: Reader): string | null {
  const x = next(r);
  if (x === -1) return null;
  const s = stringOf(r.p, x);
  check(s !== undefined);
  return s as string;
}

/** A list's length (each of its values takes at least one integer, so it fits in what is left). */
function list(r: Reader): number {
  const x = next(r);
  check(typeof x === "number" && x <= -3 && x % 2 === -1);
  const n = (-3 - (x as number)) / 2;
  check(n <= r.end - r.at);
  return n;
}

/** A list of exactly `n` values. */
function tuple(r: Reader, n: number): void {
  check(list(r) === n);
}

/** A list's length, or -1 for null. */
function optList(r: Reader): number {
  check(r.at < r.end);
  if (r.p.ints[r.at] === -1) {
    r.at++;
    return -1;
  }
  return list(r);
}

/** A `[start, end]` within a text of `length` (the two numbers, without their list). */
function rangeIn(r: Reader, length: number): TextRange {
  const start = num(r);
  const end = num(r);
  check(start <= end && end <= length);
  return { start, end };
}

/** A `[start, end]` list. */
function pairIn(r: Reader, length: number): TextRange {
  tuple(r, 2);
  return rangeIn(r, length);
}

function decodeEntry(r: Reader, path: string, original: string): { model: ConfigFile; modes: number[] } | undefined {
  try {
    return decodeChecked(r, path, original);
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

/** `[hash, diagnostics, documents, syntax error or 0]` (encodeModel's entry). */
function decodeChecked(r: Reader, path: string, original: string): { model: ConfigFile; modes: number[] } {
  tuple(r, 4);
  str(r); // the text's hash (take compared it)
  const text = configTextOf(original);
  const modes: number[] = [];
  const lines = new LineIndex(text);
  const diagnosticCount = list(r);
  const diagnostics: Diagnostic[] = new Array<Diagnostic>(diagnosticCount);
  for (let i = 0; i < diagnosticCount; i++) diagnostics[i] = decodeDiagnostic(r, path, lines);
  const documentCount = list(r);
  const documents: ConfigDocument[] = new Array<ConfigDocument>(documentCount);
  for (let i = 0; i < documentCount; i++) documents[i] = decodeDocument(r, path, text, lines, modes);
  const model: ConfigFile = { path, lines, documents, diagnostics, relevant: true };
  check(r.at < r.end);
  if (r.p.ints[r.at] === 0) r.at++;
  else {
    tuple(r, 3);
    const line = place(r);
    const column = place(r);
    check(onText(lines, line, column));
    const unread = optList(r);
    if (unread === -1) model.syntaxError = { line, column };
    else {
      const names: { name: string; line: number }[] = [];
      for (let i = 0; i < unread; i++) {
        tuple(r, 2);
        const name = str(r);
        const at = place(r);
        check(at <= lines.lineCount);
        names.push({ name, line: at });
      }
      model.syntaxError = { line, column, unreadNames: names };
    }
  }
  // the body read to its last integer: nothing more, nothing less
  check(r.at === r.end);
  if (text.includes("#")) addComments(model, text);
  addSecretMentions(model, text);
  return { model, modes };
}

/** `[kind, name, nameRange, range, environments, references, links, plain values, documentIndex, hasErrors]`. */
function decodeDocument(r: Reader, path: string, text: string, lines: LineIndex, modes: number[]): ConfigDocument {
  tuple(r, 10);
  const length = text.length;
  const kind = str(r);
  check(KINDS.has(kind));
  const k = kind as ConfigKind;
  const name = optStr(r);
  const owner = name === null ? undefined : name;
  let nameRange: TextRange | undefined;
  check(r.at < r.end);
  if (r.p.ints[r.at] === -1) r.at++;
  else nameRange = pairIn(r, length);
  const range = pairIn(r, length);
  let environments: EnvironmentMention[] | undefined;
  const envCount = optList(r);
  if (envCount !== -1) {
    environments = new Array<EnvironmentMention>(envCount);
    for (let i = 0; i < envCount; i++) {
      tuple(r, 3);
      const envName = str(r);
      environments[i] = { name: envName, range: rangeIn(r, length) };
    }
  }
  const refCount = list(r);
  const refs: { secret: string; range: TextRange; line: number; column: number; field: string }[] = new Array(refCount);
  for (let i = 0; i < refCount; i++) {
    tuple(r, 6);
    const secret = str(r);
    const refRange = rangeIn(r, length);
    const line = place(r);
    const column = place(r);
    const field = str(r);
    // (the line and column are the range's start: a reference must be where its range is)
    const at = lines.positionAt(refRange.start);
    check(at.line === line && at.column === column);
    refs[i] = { secret, range: refRange, line, column, field };
  }
  const linkCount = list(r);
  const objectLinks = new Array<ObjectLink>(linkCount);
  for (let i = 0; i < linkCount; i++) {
    tuple(r, 5);
    const field = str(r);
    const targetKind = str(r);
    const target = str(r);
    check(LINK_FIELDS.has(field) && KINDS.has(targetKind));
    objectLinks[i] = { field: field as ObjectLink["field"], targetKind: targetKind as ConfigKind, target, range: rangeIn(r, length) };
  }
  const plainCount = optList(r);
  let values: PlainValue[] | undefined;
  if (plainCount !== -1) {
    values = new Array<PlainValue>(plainCount);
    for (let i = 0; i < plainCount; i++) {
      tuple(r, 6);
      const mode = num(r);
      const pr = rangeIn(r, length);
      const pkind = str(r);
      const header = optStr(r);
      const field = optStr(r);
      check((mode === 0 || mode === 1) && (pkind === "header" || pkind === "field"));
      check(mode === 0 || pr.end - pr.start >= 2);
      modes.push(mode);
      const value: PlainValue = { text: mode === 0 ? text.slice(pr.start, pr.end) : text.slice(pr.start + 1, pr.end - 1), range: pr, kind: pkind as PlainValue["kind"] };
      if (header !== null) value.header = header;
      if (field !== null) value.field = field;
      values[i] = value;
    }
  }
  const documentIndex = num(r);
  const hasErrors = num(r);
  check(hasErrors === 0 || hasErrors === 1);
  const references = new Array<SecretReference>(refCount);
  for (let i = 0; i < refCount; i++) {
    const x = refs[i] as (typeof refs)[number];
    references[i] = { secret: x.secret, file: path, range: x.range, line: x.line, column: x.column, kind: k, owner, field: x.field, documentIndex };
  }
  const doc: ConfigDocument = {
    kind: k,
    name: owner,
    nameRange,
    range,
    environments,
    references,
    links: objectLinks,
    documentIndex,
    file: path,
    hasErrors: hasErrors === 1,
  };
  if (values !== undefined) doc.plainValues = values;
  return doc;
}

/** `[rule, severity, line, column, endLine, endColumn, message, secret, suggestion]`. */
function decodeDiagnostic(r: Reader, path: string, lines: LineIndex): Diagnostic {
  tuple(r, 9);
  const rule = str(r);
  const severity = str(r);
  check(isRuleId(rule) && rule !== "plaintext-credential" && SEVERITIES.has(severity));
  const line = place(r);
  const column = place(r);
  const endLine = place(r);
  const endColumn = place(r);
  const message = str(r);
  const secret = optStr(r);
  const suggestion = optStr(r);
  // both ends on the text, the start not after the end
  check(onText(lines, line, column) && onText(lines, endLine, endColumn));
  check(line < endLine || (line === endLine && column <= endColumn));
  const d: Diagnostic = { rule: rule as RuleId, severity: severity as Severity, file: path, line, column, endLine, endColumn, message };
  if (secret !== null) d.secret = secret;
  if (suggestion !== null) d.suggestion = suggestion;
  return d;
}
