/**
 * Agent config files (`kind: auth_connector | api_connection | action | agent`): parsing one
 * file's text into a model with exact ranges (secret references, links between objects,
 * environments) plus the diagnostics that need only that file (`schema`, `plaintext-credential`).
 * Files of other tools (no `kind`, or a kind that is not ours) are ignored.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, parseAllDocuments, visit, type Alias, type Document, type Node, type Pair, type Scalar, type YAMLMap } from "yaml";
import { commentCredentials, commentsIn, detectCredential, type ConfigComment } from "./credentials.js";
import { compareDiagnostics, diagnosticAt, type Diagnostic } from "./diagnostics.js";
import { editDistance, secretNameFromContext } from "./names.js";
import { LineIndex, lineEndAt, lineStartAt, loneCrAsLf, type TextRange } from "./position.js";
import { CONFIG_KINDS, type ConfigKind } from "./schemas.js";
import { schemaDiagnostics, validatorFor } from "./validate.js";
import { FAST_MAX_DEPTH, parseSimpleYaml, type SimpleDocument } from "./fast-yaml.js";
import { credentialQueryParam, credentialQueryParamAt, insecureReason, MAX_PROBE_TIMEOUT_MS, parseProbeTimeout } from "./probe.js";
import { keyString, nodeRange } from "./yaml-nodes.js";
import { nestingDiagnostic } from "./yaml-limits.js";

/** A reference to a secret by name, from a structured field of a config document. */
export interface SecretReference {
  /** The secret name as written. */
  secret: string;
  /** The file, relative to the repository root. */
  file: string;
  /** Range of the name's scalar (quotes included when quoted). */
  range: TextRange;
  /** 1-based line and column of the name. */
  line: number;
  column: number;
  /** Kind of the document holding the reference. */
  kind: ConfigKind;
  /** Name of that document's object (undefined when the document has no valid name). */
  owner: string | undefined;
  /** Which field: `api_key`, `token`, `password`, `headers[0] Authorization`, ... */
  field: string;
  /** Index of the document in its file. */
  documentIndex: number;
  /** When written as a YAML alias (`secret: *key`): the anchor's name and the 1-based line of the node it stands for. */
  alias?: { anchor: string; line: number };
}

/** A link from one object to another by name. */
export interface ObjectLink {
  /** The field: an action's `connection`, a connection's `auth`, an agent's `actions` entry. */
  field: "connection" | "auth" | "actions";
  /** The kind the name must resolve to. */
  targetKind: ConfigKind;
  target: string;
  range: TextRange;
}

/**
 * A plain string where a secret's name is a likely mistake: a static header's `value`, or an auth
 * connector's field written as a plain string (`username`, `client_id`, or a credential field). The checker compares it with the secret names
 * (a header that sends the text `stripe_api_key`, or `${stripe_api_key}`, sends no secret).
 */
export interface PlainValue {
  /** The value as written (never shown in a message unless it is a secret's name). */
  text: string;
  /** Range of the value's scalar (or of the alias that brought it). */
  range: TextRange;
  /** A static header's name, when `kind` is "header". */
  header?: string;
  /** The connector field (`username`, `client_id`, or `token`…), when `kind` is "field". */
  field?: string;
  /** A field that takes only `{ secret: NAME }` (`token`, `password`…), or a `type: secret` header's `value`: its plain value is already a `schema` error. */
  secretOnly?: true;
  /**
   * "header": a static header's `value`; "field": a connector field; "url": an action's `path`, a
   * connection's `base_url` or a connector's `token_url`, where only an interpolated name
   * (`?token={{ secrets.NAME }}`) counts (the field takes no reference, and a secret is sent only
   * in a header).
   */
  kind: "header" | "field" | "url";
  /** Offset in the file of the value's first character, when the scalar is written as it reads (plain, or quoted without escapes): a diagnostic can then cover part of it. */
  textStart?: number;
}

/** An environment name written in a document's `environments`. */
export interface EnvironmentMention {
  name: string;
  range: TextRange;
}

/** One config document (one `---` section of a file) of one of our kinds. */
export interface ConfigDocument {
  kind: ConfigKind;
  /** The object's name, when it is a string. */
  name: string | undefined;
  nameRange: TextRange | undefined;
  /** Range of the whole document's contents. */
  range: TextRange;
  /** Declared `environments` (actions, agents), undefined when absent (meaning every environment). */
  environments: EnvironmentMention[] | undefined;
  references: SecretReference[];
  links: ObjectLink[];
  /** Plain strings that may be a secret's name written without `{ secret: }` (only when there are some). */
  plainValues?: PlainValue[];
  documentIndex: number;
  /** The file, relative to the repository root. */
  file: string;
  /** True when the document has YAML errors: it is indexed as far as it parsed, but not checked against other files. */
  hasErrors: boolean;
}

/** A parsed config file. */
export interface ConfigFile {
  /** Path relative to the repository root, `/`-separated. */
  path: string;
  lines: LineIndex;
  /** Documents of our kinds, in file order (documents of other tools are left out). */
  documents: ConfigDocument[];
  /** Diagnostics from this file alone (`schema`, `plaintext-credential`) at default severity. */
  diagnostics: Diagnostic[];
  /** True when the file holds at least one document of our kinds (or looks like it but does not parse). */
  relevant: boolean;
  /**
   * A file of ours with YAML syntax errors: where the first is, and the `name:` lines of objects
   * the parser did not read (an unclosed quote swallows the documents after it), so that a link
   * to one can say where it probably is.
   */
  syntaxError?: { line: number; column: number; unreadNames?: { name: string; line: number }[] };
  /**
   * True when the parse ran out of stack (a file nested deeply, parsed with the stack already
   * deep): the model has no documents and one `schema` error, and is not a function of the text
   * alone (the same text parses whole with more stack), so it must not be cached or reused for
   * the text (the model cache records no such model). Absent otherwise.
   */
  uncacheable?: true;
  /**
   * The YAML comments of a file of ours, when it has any (bounded: `commentsIn`): for
   * `unused-secret`, which says when a comment is the only place that names a secret.
   */
  comments?: ConfigComment[];
  /**
   * Where the text of a file of ours writes `secret: NAME` outside a comment, for a NAME that no
   * reference of the file reads (bounded: {@link addSecretMentions}), when it does: for
   * `unused-secret`, which names such a place when no reference reads the secret (a `{ secret: NAME }` in a document without `kind`, in a field of
   * its own, in an anchored mapping merged with `<<`). Found in the text, as the comments are.
   */
  secretMentions?: SecretMention[];
  /**
   * True for the model of a file that was not read at all ({@link unreadableConfigFile}: a link
   * out of the repository, too large, not UTF-8): it may define objects and reference secrets that
   * no one knows of, so an `unused-secret` or `unknown-reference` says so rather than "remove it".
   * Absent otherwise (such a model is never cached).
   */
  unread?: true;
}

const KIND_SET = new Set<string>(CONFIG_KINDS);
/**
 * A reference of ours in a text, at the top level: a connector's secret field given
 * `{ secret: … }` (flow, or block on the next line), or a header of `type: secret`. With a
 * top-level `name:` ({@link TOP_LEVEL_NAME}), a text without "kind" is parsed to see whether it is
 * an object of ours that lost its `kind` line ({@link kindlessObject}'s `strong`).
 */
const KINDLESS_OURS = /^["']?(?:api_key|token|password|client_secret)["']?[ \t]*:[ \t]*(?:\{[ \t]*["']?secret["']?[ \t]*:|(?:#[^\n]*)?\n[ \t]+["']?secret["']?[ \t]*:)|(?:^|[\s{,])["']?type["']?[ \t]*:[ \t]*["']?secret\b/m;
const TOP_LEVEL_NAME = /^["']?name["']?[ \t]*:/m;
const LOOKS_OURS = /kind["']?\s*:\s*["']?(?:auth_connector|api_connection|action|agent)\b/;

/** Fields of an auth connector that take `{ secret: NAME }` (or a plain string for the `plain` ones). */
const CONNECTOR_FIELDS: readonly { field: string; plain: boolean }[] = [
  { field: "api_key", plain: false },
  { field: "token", plain: false },
  { field: "password", plain: false },
  { field: "client_secret", plain: false },
  { field: "username", plain: true },
  { field: "client_id", plain: true },
];

/**
 * Fields whose plain string values are scanned for well-known credential formats. None of them can
 * hold a `{ secret: NAME }` reference (the schema takes a string), so a credential found there is
 * worded with {@link PROSE_CREDENTIAL_FIX}.
 */
const PROSE_FIELDS = new Set(["description", "instructions", "base_url", "path", "token_url", "header_name"]);

/**
 * How many characters come before a scalar's value in the file when the value is written as it
 * reads (0 plain, 1 quoted without escapes); undefined when not (an alias, an escape, a block).
 */
function asWritten(value: Scalar, written: unknown): number | undefined {
  if (value !== written || typeof value.value !== "string") return undefined;
  const v = value.value;
  if (value.type === "PLAIN") return 0;
  if ((value.type === "QUOTE_DOUBLE" && !/["\\]/.test(v)) || (value.type === "QUOTE_SINGLE" && !v.includes("'"))) return 1;
  return undefined;
}

/** The {@link PROSE_FIELDS} that hold a URL or a path: a query string there may carry a credential (`?api_key=…`), or a secret's name interpolated. */
const URL_FIELDS = new Set(["base_url", "path", "token_url"]);

/**
 * What to do with a credential in a field of {@link PROSE_FIELDS}: the field cannot reference a
 * secret, so the fix is to take it out (and rotate it) and, where something needs it, keep it as a
 * secret referenced from a field that takes one.
 */
const PROSE_CREDENTIAL_FIX =
  "this field cannot hold a { secret: NAME } reference: remove the credential from it and rotate it at its provider (git history keeps it); " +
  "if something needs it, store it as a secret (stellar-secrets set NAME) and reference it from a field that takes one (a connection's headers or its auth connector)";

/**
 * What to do with a credential in a header's `prefix`: the prefix is sent in clear before the
 * header's secret, and cannot reference one itself.
 */
/** HTTP authentication schemes (lower case) that a header's `prefix` names, which take a space before the credential. */
const AUTH_SCHEMES = new Set(["bearer", "basic", "token", "bot", "digest", "apikey", "api-key", "ssws", "dpop", "negotiate", "hmac", "sso-key", "oauth", "zoho-oauthtoken"]);

const PREFIX_CREDENTIAL_FIX =
  "a prefix cannot hold a { secret: NAME } reference: remove the credential from it and rotate it at its provider (git history keeps it); " +
  "if the header needs it, make it part of the header's secret value (stellar-secrets set NAME) and keep only the scheme (e.g. \"Bearer \") in the prefix";

/**
 * Parses a config file. `path` is relative to the repository root (it is what diagnostics and
  * references carry). Offsets and positions are of `text` without a leading byte order mark.
  * Never throws: YAML errors in a file that looks like ours are `schema` diagnostics; a file of
  * another tool gives an empty, irrelevant model. A lone `\r` ends a line, as in YAML ({@link loneCrAsLf}).
  */
export function parseConfigFile(original: string, path: string, options?: ParseConfigOptions): ConfigFile {
  const text = configTextOf(original);
  const file = parseConfigBody(text, path, options);
  if (file.relevant && text.includes("#")) {
    const found = commentCredentialDiagnostics(file, text);
    if (found.length > 0) {
      file.diagnostics.push(...found);
      file.diagnostics.sort(compareDiagnostics);
    }
    addComments(file, text);
  }
  if (file.relevant) addSecretMentions(file, text);
  return file;
}

/** Where a config file's text writes `secret: NAME` (see {@link ConfigFile.secretMentions}). */
export interface SecretMention {
  /** The name as written (quotes removed). */
  name: string;
  /** 1-based line. */
  line: number;
}

/** {@link addSecretMentions} keeps at most this many per file. */
const MAX_SECRET_MENTIONS = 500;
/**
 * `secret: NAME`, `"secret": "NAME"`, in flow or block style, from its key's first character
 * (a quote or the `s`): tried only where the text has the word (sticky), since a search with this
 * pattern from every position of every config file cost `check` about 4 % of its instructions.
 */
const SECRET_MENTION_AT = /["']?secret["']?[ \t]*:[ \t]*(?:"([^"\n]*)"|'([^'\n]*)'|([^\s,}\]#"'][^\s,}\]#]*))/y;
/** What may come before a mention's key: the start of the text, a space or line break, `{` or `,`. */
const MENTION_BOUNDARY = /[\s{,]/;

/**
 * Sets `file.secretMentions` from `text` (the text {@link configTextOf} gives) when it writes any:
 * the one place they come from, for a parse and for a model read back from the cache.
 */
export function addSecretMentions(file: ConfigFile, text: string): void {
  let out: SecretMention[] | undefined;
  let read: ReadReferences | undefined; // built at the first hit: most files have one or two
  let end = 0; // where the last mention ends: its value holds no other
  for (let at = text.indexOf("secret"); at !== -1; at = text.indexOf("secret", at + 6)) {
    // the key starts at a quote before the word, or at the word
    const quote = at > 0 && (text.charCodeAt(at - 1) === 34 || text.charCodeAt(at - 1) === 39);
    const start = quote ? at - 1 : at;
    if (start > 0 && (start - 1 < end || !MENTION_BOUNDARY.test(text[start - 1]!))) continue;
    read ??= readReferences(file);
    // the key of a reference the parse read (almost every hit): nothing to record, no pattern tried
    const readEnd = read.ends.get(valueStartAfterKey(text, at + 6));
    if (readEnd !== undefined) {
      end = readEnd;
      continue;
    }
    SECRET_MENTION_AT.lastIndex = start;
    const m = SECRET_MENTION_AT.exec(text);
    if (m === null) continue;
    end = start + m[0].length;
    if (/(?:^|\s)#/.test(text.slice(lineStartAt(text, at), at))) continue; // in a comment: commentedOut's
    const name = m[1] ?? m[2] ?? m[3] ?? "";
    // a name the file reads a reference to is used, so never `unused-secret`'s: left out, and a file
    // whose every mention is read (almost every file) gets no property (a model of another shape made
    // every later read of the models slower: `check` of 5,000 files cost 2-4 % more instructions)
    if (read.names.has(name)) continue;
    (out ??= []).push({ name, line: file.lines.positionAt(at).line });
    if (out.length >= MAX_SECRET_MENTIONS) break;
  }
  if (out !== undefined) file.secretMentions = out;
}

/** The references a file's parse read: where each name starts (to where it ends), and the names. */
interface ReadReferences {
  ends: Map<number, number>;
  names: Set<string>;
}

/** {@link ReadReferences} of `file`, built once per scan (a lookup per hit, not a pass over every reference: a file of thousands of references would be quadratic). */
function readReferences(file: ConfigFile): ReadReferences {
  const ends = new Map<number, number>();
  const names = new Set<string>();
  for (const doc of file.documents) {
    for (const ref of doc.references) {
      ends.set(ref.range.start, ref.range.end);
      names.add(ref.secret);
    }
  }
  return { ends, names };
}

/**
 * Where the value after a key ending at `from` (just after the word `secret`) starts: past a
 * closing quote, spaces, tabs and exactly one `:`, at most 16 characters on; -1 otherwise (no
 * reference starts there).
 */
function valueStartAfterKey(text: string, from: number): number {
  let colons = 0;
  let i = from;
  const c0 = text.charCodeAt(i);
  if (c0 === 34 || c0 === 39) i++;
  for (; i <= from + 16 && i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 58) colons++;
    else if (c !== 32 && c !== 9) break;
  }
  return colons === 1 && i <= from + 16 ? i : -1;
}

/**
 * Sets `file.comments` from `text` (the text {@link configTextOf} gives) when it has any: the one
 * place a model's comments come from, for a parse and for a model read back from the cache.
 */
export function addComments(file: ConfigFile, text: string): void {
  const comments = commentsIn(text, file.lines);
  if (comments.length > 0) file.comments = comments;
}

/**
 * The text {@link parseConfigFile} reads from a file's text: without a leading byte order mark,
 * each lone `\r` as `\n` ({@link loneCrAsLf}, same length). A model's offsets, ranges and
 * {@link LineIndex} are of this text.
 */
export function configTextOf(original: string): string {
  // A UTF-8 byte order mark is no character of the text an editor shows (nor of the buffer it
  // sends the language server): positions count from after it, so that columns on the first line
  // are the editor's, from disk and from a buffer alike.
  return loneCrAsLf(original.charCodeAt(0) === 0xfeff ? original.slice(1) : original);
}

/** `plaintext-credential` for well-known credential formats in the file's comments ({@link commentCredentials}). */
function commentCredentialDiagnostics(file: ConfigFile, text: string): Diagnostic[] {
  return commentCredentials(text).map((f) =>
    diagnosticAt(
      "plaintext-credential",
      "error",
      file.path,
      file.lines,
      f.range,
      `a comment holds what looks like ${f.what} in plain text: comments are committed like values; remove it (and rotate it at its provider, since git history keeps it), or store it as a secret (stellar-secrets set NAME)`,
    ),
  );
}

function parseConfigBody(text: string, path: string, options?: ParseConfigOptions): ConfigFile {
  const lines = new LineIndex(text);
  const file: ConfigFile = { path, lines, documents: [], diagnostics: [], relevant: false };
  // (a text without "kind" is another tool's, unless it writes a reference of ours at a connector's
  // field or a secret header beside a top-level name: an object of ours that lost its kind line)
  if (!text.includes("kind") && !(text.includes("secret") && KINDLESS_OURS.test(text) && TOP_LEVEL_NAME.test(text))) return file;
  // whether the file looks like ours, decided before anything recurses: the catch below must not
  // run a regular expression (see there)
  const looksOurs = LOOKS_OURS.test(text);
  // The fast reader first, bounded to FAST_MAX_DEPTH levels: a text it reads nests no deeper
  // than that, so the nesting scan (which can count only as deep as the collections the fast
  // reader builds, for the layouts it accepts) would find nothing over MAX_YAML_DEPTH, and its
  // separate pass over the text is skipped. Anything else is scanned first, as before.
  // Every reader below recurses once or more per level (the fast reader, the nesting scan, the
  // parser, the walks over a tree): with the stack nearly used up by the caller, any of them can
  // run out of it, and each gives the same model then.
  try {
    const simple = options?.fast === false ? undefined : parseSimpleYaml(text, FAST_MAX_DEPTH);
    if (simple !== undefined) return fromSimple(file, simple);
    const tooDeep = nestingDiagnostic(text, path, lines);
    if (tooDeep !== undefined) {
      // never parsed: the parser and every walk over its tree recurse once per level
      if (looksOurs) {
        file.relevant = true;
        file.diagnostics.push(tooDeep);
      }
      return file;
    }
    return parseConfigText(file, text, looksOurs);
  } catch (e) {
    // Out of stack: the model below, built here with no call at all. This runs with the stack
    // nearly used up when the caller recursed deeply, and V8 compiles a function (or a regular
    // expression) only with stack to spare: a helper called from here would have to be compiled
    // now whenever V8 has discarded its code since (it flushes the bytecode of functions that have
    // not run for a while, as in a long-running language server), and would throw again. This
    // function's own code is there while it runs; `instanceof` and `String.prototype.includes`
    // are built in.
    if (e !== STACK_EXHAUSTED && !(e instanceof RangeError && typeof e.message === "string" && e.message.includes("call stack"))) throw e;
    return {
      path,
      lines,
      documents: [],
      diagnostics: looksOurs
        ? [{ rule: "schema", severity: "error", file: path, line: 1, column: 1, endLine: 1, endColumn: 1, message: "cannot parse: nested too deeply; the file was not read: flatten it" }]
        : [],
      relevant: looksOurs,
      uncacheable: true,
    };
  }
}

/**
 * Thrown to {@link parseConfigBody}'s catch when the YAML parser reports that it ran out of stack
 * (it catches the RangeError itself): made once, at load, so that throwing it allocates nothing.
 */
const STACK_EXHAUSTED = new RangeError("Maximum call stack size exceeded (reported by the YAML parser)");

/** True for a YAML parser error that is the parser running out of stack (it catches the RangeError itself), not a mistake in the text. */
function isExhaustion(e: { code: string; message: string }): boolean {
  return e.code === "RESOURCE_EXHAUSTION" || /maximum call stack/i.test(e.message);
}

function fromSimple(file: ConfigFile, simple: SimpleDocument[]): ConfigFile {
  const kindless: KindlessDiagnostic[] = [];
  simple.forEach((d, documentIndex) => {
    addDocument(file, d.contents, false, () => d.value, (node) => (node as Node | null) ?? undefined, documentIndex, undefined, kindless);
  });
  addKindless(file, kindless);
  file.diagnostics.sort(compareDiagnostics);
  return compact(file);
}

function parseConfigText(file: ConfigFile, text: string, looksOurs: boolean): ConfigFile {
  const { path, lines } = file;
  let docs: Document.Parsed[];
  try {
    const parsed = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: false });
    docs = Array.isArray(parsed) ? parsed : [];
  } catch (e) {
    if (e instanceof RangeError && typeof e.message === "string" && e.message.includes("call stack")) throw e; // out of stack: parseConfigBody's model
    if (looksOurs) {
      file.relevant = true;
      file.diagnostics.push(diagnosticAt("schema", "error", path, lines, { start: 0, end: 0 }, `cannot parse: ${(e as Error).message}`));
    }
    return file;
  }
  if (docs.some((doc) => doc.errors.some(isExhaustion) || doc.warnings.some(isExhaustion))) throw STACK_EXHAUSTED;
  const syntax: Diagnostic[] = [];
  // The parser often reports one mistake twice from the same place (e.g. "Implicit keys need to
  // be on a single line" and "Nested mappings are not allowed in compact mappings"): keep the first.
  const errorStarts = new Set<number>();
  const kindless: KindlessDiagnostic[] = [];
  docs.forEach((doc, documentIndex) => {
    for (const e of doc.errors) {
      if (errorStarts.has(e.pos[0])) continue;
      errorStarts.add(e.pos[0]);
      // an unclosed quote: the parser reports it where the text ends; the mistake is where the quote opens
      const open = e.code === "MISSING_CHAR" && /quote/.test(e.message) ? unclosedQuoteAt(doc, e.pos[0]) : undefined;
      if (open !== undefined) {
        const endLine = lines.positionAt(e.pos[0]).line;
        syntax.push(
          diagnosticAt(
            "schema",
            "error",
            path,
            lines,
            { start: open, end: lineEndAt(text, open) },
            `YAML syntax error: ${firstLine(e.message).replace(/ at line \d+, column \d+:?$/, "")}: the value quoted here is never closed, so everything after it (to line ${endLine}) is read as its text; close the quote`,
          ),
        );
        continue;
      }
      // a line indented more than the `key: value` line before it (`  password: …` under
      // `username: bot`): the parser reports "nested mappings" at the value above; the mistake is
      // the indentation of the line below, said there with the fix
      const deeper = e.code === "BLOCK_AS_IMPLICIT_KEY" ? overIndentedLine(text, e.pos[0], lines) : undefined;
      if (deeper !== undefined) {
        syntax.push(
          diagnosticAt(
            "schema",
            "error",
            path,
            lines,
            deeper.range,
            `YAML syntax error: this line is indented more than line ${deeper.aboveLine} ("${deeper.aboveKey}: …"), whose value is already written, so YAML cannot read "${deeper.key}" as a field of its own (nor of "${deeper.aboveKey}"); ${deeper.aboveIndent === 0 ? `start "${deeper.key}:" at the left margin, as "${deeper.aboveKey}:"` : `indent "${deeper.key}:" as "${deeper.aboveKey}:" (${deeper.aboveIndent} space${deeper.aboveIndent === 1 ? "" : "s"})`}`,
          ),
        );
        continue;
      }
      // a duplicate key: the parser marks its first character; the diagnostic covers the whole key
      const end = e.code === "DUPLICATE_KEY" ? (keyEndAt(doc, e.pos[0]) ?? e.pos[1]) : e.pos[1];
      // a tab where YAML takes only spaces (pasted, or an editor set to insert tabs): say the fix
      const tab = e.code === "TAB_AS_INDENT" ? ": indent with spaces (YAML reads no tab as indentation; an editor set to insert spaces keeps them out)" : "";
      syntax.push(diagnosticAt("schema", "error", path, lines, { start: e.pos[0], end }, `YAML syntax error: ${firstLine(e.message)}${tab}`));
    }
    addDocument(file, doc.contents, doc.errors.length > 0, () => doc.toJS({ maxAliasCount: 100 }), (node) => deref(doc, node), documentIndex, text, kindless);
  });
  addKindless(file, kindless);
  if (syntax.length > 0 && (file.relevant || looksOurs)) {
    file.relevant = true;
    file.diagnostics.push(...syntax);
    // objects the parser never reached (swallowed by an unclosed quote, or past the error): by their `name:` lines
    const parsed = new Set(file.documents.map((d) => d.name));
    const unread: { name: string; line: number }[] = [];
    for (const m of text.matchAll(/^name:[ \t]*["']?([A-Za-z][A-Za-z0-9_.-]*)["']?[ \t]*(?:#.*)?$/gm)) {
      if (!parsed.has(m[1])) unread.push({ name: m[1]!, line: lines.positionAt(m.index).line });
    }
    const first = syntax.reduce((a, b) => (b.line < a.line || (b.line === a.line && b.column < a.column) ? b : a));
    file.syntaxError = { line: first.line, column: first.column, ...(unread.length > 0 ? { unreadNames: unread } : {}) };
  }
  file.diagnostics.sort(compareDiagnostics);
  return compact(file);
}

/**
 * The file's lists at their exact sizes. An array that grows by `push` from empty keeps room for
 * 17 elements (about 150 bytes); a model keeps several per file for as long as the index lives,
 * and a workspace of 50,000 files then carries tens of megabytes of empty room that every
 * garbage collection copies. Nothing else holds these arrays yet.
 */
function compact(file: ConfigFile): ConfigFile {
  file.documents = file.documents.slice();
  for (const doc of file.documents) {
    doc.references = doc.references.slice();
    doc.links = doc.links.slice();
    if (doc.environments !== undefined) doc.environments = doc.environments.slice();
  }
  return file;
}

/** The aliases of a document whose anchor is not set before them in that document, in order. */
function unresolvedAliases(root: Node): Alias[] {
  const anchors = new Set<string>();
  const out: Alias[] = [];
  visit(root, (_key, node) => {
    if (isAlias(node)) {
      if (!anchors.has(node.source)) out.push(node);
      return;
    }
    const anchor = (node as { anchor?: unknown }).anchor;
    if (typeof anchor === "string") anchors.add(anchor);
  });
  return out;
}

/** The 1-based line where `&anchor` is set outside `range` (another document of the file), if any. */
function anchorLineElsewhere(text: string, anchor: string, range: TextRange): number | undefined {
  const re = new RegExp(`&${anchor.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?=[\\s,\\]}]|$)`, "g");
  for (const m of text.matchAll(re)) {
    if (m.index < range.start || m.index >= range.end) return new LineIndex(text).positionAt(m.index).line;
  }
  return undefined;
}

/** Options of {@link parseConfigFile}. */
export interface ParseConfigOptions {
  /** false: always use the full `yaml` parser, never the fast reader of simple files (for tests). */
  fast?: boolean;
}

/**
 * The kind of ours that an unknown `kind` names by a word of it, as a person shortens or
 * rephrases it: every word of it is a word of that kind (`connection`, `Connector`, `auth`,
 * `api`), or, written in our style (lower case, words joined by `_` or `-`), it ends in that
 * kind's last word (`http_connection`, `oauth-connector`). Undefined otherwise: other tools'
 * kinds (`Deployment`, Strimzi's `KafkaConnector`) are theirs.
 */
function kindByWord(kind: string): ConfigKind | undefined {
  const words = kind
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toLowerCase()
    .split(/[_\-\s]+/)
    .filter((w) => w !== "");
  if (words.length === 0) return undefined;
  const ourStyle = /^[a-z][a-z0-9]*(?:[_-][a-z0-9]+)+$/.test(kind);
  return CONFIG_KINDS.find((k) => {
    const own = k.split("_");
    return words.every((w) => own.includes(w)) || (ourStyle && own.length > 1 && words[words.length - 1] === own[own.length - 1]);
  });
}

/**
 * The kind-less objects' errors ({@link kindlessObject}) of a file: every one when the file has a
 * document of ours, else only those whose references are ours beyond doubt (a single-document
 * file that lost its `kind` line), which make the file one of ours.
 */
function addKindless(file: ConfigFile, kindless: KindlessDiagnostic[]): void {
  if (kindless.length === 0) return;
  const shown = file.relevant ? kindless : kindless.filter((d) => d.strong);
  if (shown.length === 0) return;
  file.relevant = true;
  for (const { strong: _, ...d } of shown) file.diagnostics.push(d);
}

/** A {@link kindlessObject} error, `strong` when the object writes a reference of ours (`{ secret: NAME }` at a connector's field, a header of `type: secret`). */
type KindlessDiagnostic = Diagnostic & { strong: boolean };

/**
 * For a "nested mappings are not allowed in compact mappings" error at `at` (the value of a
 * `key: value` line): the next line, when it is a `key:` line indented more than that one (the
 * mistake), with its key's range; undefined otherwise.
 */
function overIndentedLine(text: string, at: number, lines: LineIndex): { range: TextRange; key: string; aboveLine: number; aboveKey: string; aboveIndent: number } | undefined {
  const start = lineStartAt(text, at);
  const end = text.indexOf("\n", at);
  if (end === -1) return undefined;
  const above = /^([ \t]*)(?:- )?["']?([^\s"':#][^"':#]*?)["']?[ \t]*:[ \t]+\S/.exec(text.slice(start, end));
  const nextEnd = text.indexOf("\n", end + 1);
  const next = text.slice(end + 1, nextEnd === -1 ? text.length : nextEnd);
  const below = /^([ \t]*)["']?([^\s"':#-][^"':#]*?)["']?[ \t]*:(?:[ \t]|$)/.exec(next);
  if (above === null || below === null || below[1]!.length <= above[1]!.length || below[1]!.includes("\t")) return undefined;
  const keyStart = end + 1 + below[1]!.length;
  return {
    range: { start: keyStart, end: keyStart + below[0].trimEnd().length - below[1]!.length },
    key: below[2]!,
    aboveLine: lines.positionAt(start).line,
    aboveKey: above[2]!,
    aboveIndent: above[1]!.length,
  };
}

/** Adds one document to the file's model when it is of our kinds (with its schema diagnostics). */
function addDocument(
  file: ConfigFile,
  root: unknown,
  hasErrors: boolean,
  toValue: () => unknown,
  resolve: (node: unknown) => Node | undefined,
  documentIndex: number,
  text?: string,
  kindless?: KindlessDiagnostic[],
): void {
  const { path, lines } = file;
  if (!isMap(root)) return;
  const kindPair = root.items.find((p) => keyString(p) === "kind");
  if (kindPair === undefined && kindless !== undefined) {
    // an object of ours whose `kind` line was left out (reported once the file has a document of ours)
    const d = kindlessObject(root, path, lines);
    if (d !== undefined) kindless.push(d);
    return;
  }
  const kindNode = kindPair?.value;
  if (!isScalar(kindNode) || typeof kindNode.value !== "string") return;
  const kindValue = kindNode.value;
  if (!KIND_SET.has(kindValue)) {
    // A Kubernetes-style manifest (`apiVersion` beside `kind`: Elastic's `kind: Agent`, a custom
    // resource's `kind: Action`) is another tool's file, never a mistyped kind of ours.
    if (root.items.some((p) => keyString(p) === "apiVersion")) return;
    const near = (kindValue.length >= 4 ? CONFIG_KINDS.find((k) => editDistance(k, kindValue.toLowerCase(), 2) <= 2) : undefined) ?? kindByWord(kindValue);
    if (near !== undefined) {
      file.relevant = true;
      file.diagnostics.push(
        diagnosticAt("schema", "error", path, lines, nodeRange(kindNode) ?? { start: 0, end: 0 }, `unknown kind "${kindValue}"; did you mean "${near}"?`, {
          suggestion: near,
        }),
      );
    }
    return;
  }
  file.relevant = true;
  const model = extractDocument(resolve, root, kindValue as ConfigKind, documentIndex, file, hasErrors, text);
  file.documents.push(model);
  const before = file.diagnostics.length;
  try {
    schemaOfDocument(file, root, hasErrors, toValue, model, kindValue, text);
  } finally {
    credentialsElsewhere(file, root, before);
  }
}

/** The connector types (an auth connector's `type`), for {@link kindlessObject}. */
const CONNECTOR_TYPES = new Set(["api_key", "bearer_token", "basic", "oauth2_client_credentials"]);

/**
 * A `schema` error for a document without `kind` that has a `name` and the fields of one of our
 * kinds (an auth connector's `type: bearer_token` or secret fields, a connection's `base_url`, an
 * action's `method`/`path`, an agent's `actions`/`instructions`): a document without one of our
 * kinds is read as another tool's and nothing in it is checked or deployed, so such an object
 * would be missing without a word. Reported at its first key; undefined for any other document.
 */
function kindlessObject(root: YAMLMap, path: string, lines: LineIndex): KindlessDiagnostic | undefined {
  const has = (key: string): boolean => root.items.some((p) => keyString(p) === key);
  const name = root.items.find((p) => keyString(p) === "name")?.value;
  if (!isScalar(name) || typeof name.value !== "string") return undefined;
  const type = root.items.find((p) => keyString(p) === "type")?.value;
  const kind: ConfigKind | undefined =
    (isScalar(type) && typeof type.value === "string" && CONNECTOR_TYPES.has(type.value)) || CONNECTOR_FIELDS.some((f) => !f.plain && has(f.field))
      ? "auth_connector"
      : has("base_url")
        ? "api_connection"
        : has("method") || has("path")
          ? "action"
          : has("actions") || has("instructions")
            ? "agent"
            : undefined;
  if (kind === undefined) return undefined;
  const first = root.items[0]?.key;
  const range = nodeRange(first as never) ?? nodeRange(name) ?? { start: 0, end: 0 };
  const words: Record<ConfigKind, string> = { auth_connector: "an auth connector's", api_connection: "an API connection's", action: "an action's", agent: "an agent's" };
  // `{ secret: NAME }` at a connector's secret field, or a header `{ type: secret, secret: NAME }`: ours beyond doubt
  const reference = (node: unknown): boolean => isMap(node) && node.items.length === 1 && keyString(node.items[0] as Pair) === "secret" && isScalar((node.items[0] as Pair).value) && typeof ((node.items[0] as Pair).value as Scalar).value === "string";
  const headers = root.items.find((p) => keyString(p) === "headers")?.value;
  const strong =
    CONNECTOR_FIELDS.some((f) => !f.plain && reference(root.items.find((p) => keyString(p) === f.field)?.value)) ||
    (isSeq(headers) &&
      headers.items.some((h) => {
        if (!isMap(h)) return false;
        const type = h.items.find((p) => keyString(p) === "type")?.value;
        const secret = h.items.find((p) => keyString(p) === "secret")?.value;
        return isScalar(type) && type.value === "secret" && isScalar(secret) && typeof secret.value === "string";
      }));
  const d = diagnosticAt(
    "schema",
    "error",
    path,
    lines,
    range,
    `this document has no "kind", so it is not read: a document without one of the kinds is taken for another tool's, and "${name.value}" is neither checked nor deployed; its fields are ${words[kind]}: add "kind: ${kind}"`,
  );
  return { ...d, strong };
}

/**
 * `plaintext-credential` for a well-known credential format (formats only) in a scalar of the
 * document that no field check reads: an object's `name`, a link (`connection`, `auth`, an
 * `actions` entry), an `environments` entry, a header's `name` or `type`, a mapping key. A config
 * file is committed in clear, and other findings there would quote it (an unknown field, an
 * unknown action): the messages of the document's diagnostics made from `from` on never show the
 * text (the checker leaves out a `schema`, `unknown-reference` or `unknown-environment` finding
 * at the same place, SAME_FINDING, and hides such a name elsewhere). A `secret:` value is left to
 * the checker (a credential where a secret's name goes), and a place a field check reported
 * already is not reported again.
 */
function credentialsElsewhere(file: ConfigFile, root: YAMLMap, from: number): void {
  const found: { range: TextRange; value: string; what: string; field: string }[] = [];
  // (the field's words are made only for a credential found: this runs on every pair of every file)
  const look = (node: unknown, pair: Pair, where: "key" | "entry" | "value"): void => {
    if (!isScalar(node) || typeof node.value !== "string" || node.value.length < 8) return;
    const what = detectCredential(node.value);
    const r = nodeRange(node);
    if (what === undefined || r === undefined) return;
    const field = where === "key" ? "a key" : `${where === "entry" ? "an entry" : "the value"} of "${keyString(pair) ?? "?"}"`;
    found.push({ range: r, value: node.value, what, field });
  };
  // every pair of the document, in `visit`'s order (a key before its value, collections inside
  // keys too), by a plain walk: yaml's `visit` freezes a path array per collection, and this runs on
  // every document of every file
  const pair = (p: Pair): void => {
    look(p.key, p, "key");
    if (keyString(p) !== "secret") {
      if (isSeq(p.value)) for (const item of p.value.items) look(item, p, "entry");
      else look(p.value, p, "value");
    }
    walk(p.key);
    walk(p.value);
  };
  const walk = (node: unknown): void => {
    if (isPair(node)) pair(node);
    else if (isMap(node) || isSeq(node)) for (const item of node.items) walk(item);
  };
  walk(root);
  if (found.length === 0) return;
  const overlaps = (a: TextRange, d: Diagnostic): boolean => {
    const start = file.lines.offsetAt(d.line, d.column);
    const end = file.lines.offsetAt(d.endLine, d.endColumn);
    return start < a.end && a.start < end;
  };
  const reported = file.diagnostics.filter((d) => d.rule === "plaintext-credential");
  const fresh = found.filter((f) => !reported.some((d) => overlaps(f.range, d)));
  // (a schema finding at such a place is left out by the checker, SAME_FINDING, unless this rule is
  // set lower; its message, and any other of the document, never shows the text)
  const kept = file.diagnostics.slice(0, from);
  for (const d of file.diagnostics.slice(from)) {
    let message = d.message;
    for (const f of found) message = message.split(f.value).join("(a credential, not shown)");
    kept.push(message === d.message ? d : { ...d, message });
  }
  for (const f of fresh) {
    kept.push(
      diagnosticAt(
        "plaintext-credential",
        "error",
        file.path,
        file.lines,
        f.range,
        `${f.field} holds what looks like ${f.what} in plain text: a config file is committed in clear, and this field cannot hold a { secret: NAME } reference; remove it and rotate it at its provider (git history keeps it)`,
      ),
    );
  }
  file.diagnostics = kept;
}

/** The schema diagnostics of one document of ours ({@link addDocument}). */
function schemaOfDocument(file: ConfigFile, root: YAMLMap, hasErrors: boolean, toValue: () => unknown, model: ConfigDocument, kindValue: string, text: string | undefined): void {
  const { path, lines } = file;
  if (hasErrors) return;
  let value: unknown;
  try {
    value = toValue();
  } catch (e) {
    // an alias whose anchor this document does not set (anchors do not cross `---`): at each such alias
    const unresolved = text === undefined ? [] : unresolvedAliases(root);
    if (unresolved.length > 0 && text !== undefined) {
      for (const alias of unresolved) {
        const elsewhere = anchorLineElsewhere(text, alias.source, model.range);
        file.diagnostics.push(
          diagnosticAt(
            "schema",
            "error",
            path,
            lines,
            nodeRange(alias) ?? model.range,
            `the alias *${alias.source} has no anchor &${alias.source} in this document${
              elsewhere === undefined ? "" : ` (it is set at line ${elsewhere}, in another document of this file)`
            }: anchors do not cross "---", so this document cannot be read; write the value out here, or set the anchor in this document`,
          ),
        );
      }
      return;
    }
    file.diagnostics.push(diagnosticAt("schema", "error", path, lines, model.range, `cannot read the document: ${(e as Error).message}`));
    return;
  }
  const schema = schemaDiagnostics(validatorFor(`${kindValue}.schema.json`), value, root, path, lines, "error", model.range);
  // an `environments` entry that is no environment name (`Staging`) is never declared either: the
  // checker's unknown-environment reports it at the same place with the nearest declared name, so
  // the schema's "not a valid environment name" would say it twice
  const envRanges = new Set((model.environments ?? []).map((e) => `${e.range.start}:${e.range.end}`));
  for (const d of schema) {
    if (envRanges.size > 0 && d.message.startsWith('"environments.') && d.message.includes("is not a valid environment name") && envRanges.has(`${lines.offsetAt(d.line, d.column)}:${lines.offsetAt(d.endLine, d.endColumn)}`)) continue;
    file.diagnostics.push(d);
  }
}

/**
 * A value over several lines (an `instructions: |` block) narrowed to its first line that holds a
 * credential format, without the indentation, so the diagnostic points at the token among tens of
 * lines of prose; the whole range when no single line does (or the text is not at hand).
 */
function narrowToLine(range: TextRange, text: string | undefined, lines: LineIndex): TextRange {
  if (text === undefined) return range;
  const first = lines.positionAt(range.start).line;
  const last = lines.positionAt(Math.max(range.start, range.end - 1)).line;
  if (first === last) return range;
  for (let line = first; line <= last; line++) {
    const start = Math.max(range.start, lines.offsetAt(line, 1));
    const end = Math.min(range.end, lineEndAt(text, start));
    const lineText = text.slice(start, end);
    if (detectCredential(lineText) === undefined) continue;
    const lead = lineText.length - lineText.trimStart().length;
    return { start: start + lead, end: start + lineText.trimEnd().length };
  }
  return range;
}

/** The offset of the opening quote of the quoted scalar of `doc` that runs to `end` (the parser's "Missing closing quote"), or undefined. */
function unclosedQuoteAt(doc: Document.Parsed, end: number): number | undefined {
  let found: number | undefined;
  visit(doc, {
    Scalar(_key, node) {
      if ((node.type === "QUOTE_DOUBLE" || node.type === "QUOTE_SINGLE") && node.range && node.range[0] < end && node.range[1] >= end) found = node.range[0];
    },
  });
  return found;
}

/** The end offset of the mapping key of `doc` that starts at `start`, or undefined. */
function keyEndAt(doc: Document.Parsed, start: number): number | undefined {
  let end: number | undefined;
  visit(doc, {
    Pair(_, pair) {
      const r = (pair.key as Node | null)?.range;
      if (r !== undefined && r !== null && r[0] === start) {
        end = r[1];
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return end;
}

function firstLine(s: string): string {
  const i = s.indexOf("\n");
  return (i === -1 ? s : s.slice(0, i)).trim();
}

function deref(doc: Document.Parsed, node: unknown): Node | undefined {
  if (isAlias(node)) {
    try {
      return (node.resolve(doc) as Node | undefined) ?? undefined;
    } catch {
      return undefined;
    }
  }
  return (node as Node | null) ?? undefined;
}

function pairOf(map: YAMLMap, key: string): Pair | undefined {
  for (const p of map.items) if (keyString(p) === key) return p;
  return undefined;
}

/** Where a plain credential sits, for the fix `plaintext-credential` proposes: a static header (its name) or a connector field. */
interface CredentialMove {
  /** What the proposed secret name is made of: the document's name, then the header's or field's. */
  parts: (string | undefined)[];
  /** The header's name; null for a static header without one (its missing name is a `schema` error of its own). */
  header?: string | null;
  field?: string;
}

/** The YAML to write where the credential was: the header as a secret header (with the auth scheme as its prefix), or the field as a reference. */
function credentialReference(secretName: string, move: CredentialMove, scheme: string | undefined): string {
  if (move.header !== undefined) {
    const headerName = move.header === null ? "HEADER" : /^[A-Za-z0-9_-]+$/.test(move.header) ? move.header : JSON.stringify(move.header);
    return `{ name: ${headerName}, type: secret, secret: ${secretName}${scheme === undefined ? "" : `, prefix: "${scheme} "`} }`;
  }
  return `${move.field ?? "secret"}: { secret: ${secretName} }`;
}

function extractDocument(
  resolve: (node: unknown) => Node | undefined,
  root: YAMLMap,
  kind: ConfigKind,
  documentIndex: number,
  file: ConfigFile,
  hasErrors: boolean,
  text?: string,
): ConfigDocument {
  const { path, lines } = file;
  const range = nodeRange(root) ?? { start: 0, end: 0 };
  const nameNode = resolve(pairOf(root, "name")?.value);
  const name = isScalar(nameNode) && typeof nameNode.value === "string" ? nameNode.value : undefined;
  const model: ConfigDocument = {
    kind,
    name,
    nameRange: name !== undefined ? nodeRange(nameNode) : undefined,
    range,
    environments: undefined,
    references: [],
    links: [],
    documentIndex,
    file: path,
    hasErrors,
  };
  const addRef = (node: Node | undefined, written: Node | undefined, field: string): void => {
    if (!isScalar(node) || typeof node.value !== "string" || node.value === "") return;
    const at = written ?? node;
    let r = nodeRange(at);
    if (r === undefined) return;
    // a block scalar's range runs to the start of the line after it: end it after the name's last character
    if (text !== undefined && isScalar(at) && (at.type === "BLOCK_LITERAL" || at.type === "BLOCK_FOLDED")) {
      r = { start: r.start, end: r.start + text.slice(r.start, r.end).trimEnd().length };
    }
    const p = lines.positionAt(r.start);
    const anchored = isAlias(at) ? nodeRange(node) : undefined;
    const alias = anchored !== undefined && isAlias(at) ? { anchor: String(at.source), line: lines.positionAt(anchored.start).line } : undefined;
    model.references.push({ secret: node.value, file: path, range: r, line: p.line, column: p.column, kind, owner: name, field, documentIndex, ...(alias !== undefined ? { alias } : {}) });
  };
  // A reference inside a mapping reached through an alias (`password: *sid`) is reported at the
  // alias, where this use is written: the anchored mapping's own use is reported there already.
  const secretOf = (value: unknown, field: string): void => {
    const v = resolve(value);
    if (isMap(v)) {
      const sp = pairOf(v, "secret");
      if (sp !== undefined) addRef(resolve(sp.value), isAlias(value) ? value : (sp.value as Node), field);
    }
  };
  // `move`: where the credential sits in a field that can take a reference (a static header's
  // value, a connector field): the parts a secret name is made of, and the text to write instead
  // `fix`: what to do, for a field that cannot take a reference (PROSE_CREDENTIAL_FIX, PREFIX_CREDENTIAL_FIX)
  const credentialCheck = (node: unknown, what: string, entropy: boolean, at?: Node, move?: CredentialMove, fix?: string): void => {
    const v = resolve(node);
    if (!isScalar(v) || typeof v.value !== "string") return;
    const found = detectCredential(v.value, { entropy });
    if (found === undefined) return;
    // (no name proposed for a header without a name: NAME, and the header's name to give first)
    const secretName = move === undefined || move.header === null ? undefined : secretNameFromContext(move.parts);
    const where = narrowToLine(nodeRange(at ?? (node as Node)) ?? range, at === undefined ? text : undefined, lines);
    if (move === undefined) {
      const todo = fix ?? "store it as a secret (stellar-secrets set NAME) and reference it with { secret: NAME }";
      file.diagnostics.push(diagnosticAt("plaintext-credential", "error", path, lines, where, `${what} holds what looks like ${found} in plain text; ${todo}`));
      return;
    }
    const written = secretName ?? "NAME";
    // an HTTP auth scheme before the credential ("Bearer sk_…") becomes the header's prefix (only the scheme is shown)
    const scheme = move.header === undefined ? undefined : /^(Bearer|Basic|Token|Bot)\s+\S/i.exec(v.value)?.[1];
    file.diagnostics.push(
      diagnosticAt(
        "plaintext-credential",
        "error",
        path,
        lines,
        where,
        `${what} holds what looks like ${found} in plain text; store it as a secret, \`stellar-secrets set ${written} --env ENV\`${scheme === undefined ? "" : ` (the value after "${scheme} ")`}, ` +
          `and ${move.header === null ? "once the header has its name, " : ""}write \`${credentialReference(written, move, scheme)}\` in its place`,
        secretName === undefined ? undefined : { suggestion: secretName },
      ),
    );
  };
  // A probe sends the connection's credentials: its path holds none, its timeout is bounded, and
  // it goes only over https (or http to loopback), as `stellar-secrets probe` will insist.
  const probeChecks = (probe: YAMLMap): void => {
    const schemaAt = (node: unknown, message: string): void => {
      file.diagnostics.push(diagnosticAt("schema", "error", path, lines, nodeRange(node as Node) ?? range, message));
    };
    const pathPair = pairOf(probe, "path");
    const pathNode = resolve(pathPair?.value);
    if (pathPair !== undefined && isScalar(pathNode) && typeof pathNode.value === "string") {
      credentialCheck(pathPair.value, `the probe "path"`, true);
      const param = credentialQueryParam(pathNode.value);
      if (param !== undefined) {
        file.diagnostics.push(
          diagnosticAt(
            "plaintext-credential",
            "error",
            path,
            lines,
            nodeRange(pathPair.value as Node) ?? range,
            `the probe "path" carries a credential in its query (${param}=…); credentials go in headers: reference a secret in the connection's headers or its auth connector`,
          ),
        );
      }
    }
    const timeoutPair = pairOf(probe, "timeout");
    const timeoutNode = resolve(timeoutPair?.value);
    if (isScalar(timeoutNode) && typeof timeoutNode.value === "string") {
      const ms = parseProbeTimeout(timeoutNode.value);
      if (ms !== undefined && ms > MAX_PROBE_TIMEOUT_MS) schemaAt(timeoutPair?.value, `the probe "timeout" is over ${MAX_PROBE_TIMEOUT_MS / 1000}s; use at most 60s`);
    }
    if (kind === "api_connection") {
      const basePair = pairOf(root, "base_url");
      const baseNode = resolve(basePair?.value);
      if (isScalar(baseNode) && typeof baseNode.value === "string" && /^https?:\/\//.test(baseNode.value) && isAbsoluteUrl(baseNode.value)) {
        const reason = insecureReason(new URL(baseNode.value));
        if (reason !== undefined) schemaAt(basePair?.value, `"base_url" of a connection with a probe must be https: ${reason}`);
      }
    }
  };
  for (const pair of root.items) {
    const key = keyString(pair);
    if (key === undefined) continue;
    const value = resolve(pair.value);
    if (key === "environments" && isSeq(value)) {
      model.environments = [];
      for (const item of value.items) {
        const n = resolve(item);
        const r = nodeRange(item as Node);
        if (isScalar(n) && typeof n.value === "string" && r !== undefined) model.environments.push({ name: n.value, range: r });
      }
    } else if (key === "headers" && isSeq(value) && (kind === "action" || kind === "api_connection")) {
      // The resolver refuses a header name listed twice in one list, in any case.
      const seenNames = new Map<string, number>();
      value.items.forEach((item, i) => {
        const h = resolve(item);
        if (!isMap(h)) return;
        // a header written as an alias (`- *auth_header`): what it holds is reported at the alias
        const via = isAlias(item) ? (item as Node) : undefined;
        const namePair = pairOf(h, "name");
        const hn = resolve(namePair?.value);
        const headerName = isScalar(hn) && typeof hn.value === "string" ? hn.value : undefined;
        const nameRange = nodeRange(via ?? (namePair?.value as Node | undefined));
        if (headerName !== undefined && nameRange !== undefined) {
          const lower = headerName.toLowerCase();
          const first = seenNames.get(lower);
          if (first === undefined) {
            seenNames.set(lower, nameRange.start);
          } else {
            file.diagnostics.push(
              diagnosticAt(
                "schema",
                "error",
                path,
                lines,
                nameRange,
                `header "${headerName}" appears twice in this list (also at line ${lines.positionAt(first).line}; header names are case-insensitive); keep one entry`,
              ),
            );
          }
        }
        const label = `headers[${i}]${headerName !== undefined ? ` ${headerName}` : ""}`;
        const sp = pairOf(h, "secret");
        if (sp !== undefined) addRef(resolve(sp.value), via ?? (sp.value as Node), label);
        const vp = pairOf(h, "value");
        if (vp !== undefined) {
          credentialCheck(vp.value, `static header${headerName !== undefined ? ` "${headerName}"` : ""}`, true, via, { parts: [name, headerName], header: headerName ?? null });
          const v = resolve(vp.value);
          const r = nodeRange(via ?? (vp.value as Node));
          if (isScalar(v) && typeof v.value === "string" && r !== undefined) {
            // (a `type: secret` header with `value:` is its own schema error: only unused-secret points here)
            const tn = resolve(pairOf(h, "type")?.value);
            const secretType = isScalar(tn) && tn.value === "secret";
            (model.plainValues ??= []).push({ text: v.value, range: r, kind: "header", ...(headerName !== undefined ? { header: headerName } : {}), ...(secretType ? { secretOnly: true as const } : {}) });
          }
        }
        const pp = pairOf(h, "prefix");
        if (pp !== undefined) {
          credentialCheck(pp.value, `the prefix of header${headerName !== undefined ? ` "${headerName}"` : ""}`, true, via, undefined, PREFIX_CREDENTIAL_FIX);
          // `prefix: Bearer ` (YAML drops the space at the end of an unquoted value) or `"Bearer"`: sent glued to the secret
          const pv = resolve(pp.value);
          const pr = nodeRange(via ?? (pp.value as Node));
          if (isScalar(pv) && typeof pv.value === "string" && pr !== undefined && AUTH_SCHEMES.has(pv.value.toLowerCase())) {
            file.diagnostics.push(
              diagnosticAt(
                "schema",
                "error",
                path,
                lines,
                pr,
                `prefix "${pv.value}" has no space after it, so the header is sent as "${pv.value}" glued to the secret ("${pv.value}abc…"), which no server reads as the ${pv.value} scheme: write \`prefix: "${pv.value} "\`, in quotes (YAML drops the spaces at the end of an unquoted value)`,
              ),
            );
          }
        }
      });
    } else if (key === "connection" && kind === "action") {
      addLink(model, value, "connection", "api_connection");
    } else if (key === "auth" && kind === "api_connection") {
      addLink(model, value, "auth", "auth_connector");
    } else if (key === "actions" && kind === "agent" && isSeq(value)) {
      for (const item of value.items) addLink(model, resolve(item), "actions", "action", item as Node);
    } else if (kind === "auth_connector" && CONNECTOR_FIELDS.some((f) => f.field === key)) {
      const plain = CONNECTOR_FIELDS.find((f) => f.field === key)?.plain ?? false;
      if (isMap(value)) secretOf(pair.value, key);
      else credentialCheck(pair.value, `field "${key}"`, !plain, undefined, { parts: [name, key], field: key });
      const r = nodeRange(pair.value as Node);
      if (isScalar(value) && typeof value.value === "string" && r !== undefined) {
        (model.plainValues ??= []).push({ text: value.value, range: r, kind: "field", field: key, ...(plain ? {} : { secretOnly: true }) });
      }
      if (key === "username" && isScalar(value) && typeof value.value === "string" && value.value.includes(":")) {
        file.diagnostics.push(
          diagnosticAt("schema", "error", path, lines, nodeRange(pair.value as Node) ?? range, "the basic-auth username contains ':', which HTTP Basic (RFC 7617) does not allow in a user-id"),
        );
      }
    } else if (key === "probe" && isMap(value) && (kind === "api_connection" || kind === "auth_connector")) {
      probeChecks(value);
    } else if (PROSE_FIELDS.has(key)) {
      const before = file.diagnostics.length;
      credentialCheck(pair.value, `field "${key}"`, false, undefined, undefined, PROSE_CREDENTIAL_FIX);
      if (URL_FIELDS.has(key) && isScalar(value) && typeof value.value === "string") {
        const r = nodeRange(pair.value as Node);
        // a secret's name interpolated into it sends that text (the checker knows the names)
        if (r !== undefined && value.value.includes("{")) {
          const lead = asWritten(value, pair.value);
          (model.plainValues ??= []).push({ text: value.value, range: r, kind: "url", field: key, ...(lead !== undefined ? { textStart: r.start + lead } : {}) });
        }
        // a credential in its query string: in plain text here and in every server's access log
        const found = file.diagnostics.length === before ? credentialQueryParamAt(value.value) : undefined;
        // (a value that looks like a credential: a query's key=name or token=abc is a parameter, not one)
        const credential = found !== undefined && /^(?=.*[0-9])[^\s]{12,}$/.test(value.value.slice(found.start, found.end));
        if (found !== undefined && credential) {
          const param = found.name;
          const whole = nodeRange(pair.value as Node) ?? range;
          // the value only, when the scalar itself (not an alias) is written as it reads: plain, or quoted without escapes
          const lead = asWritten(value, pair.value);
          const where = lead === undefined ? whole : { start: whole.start + lead + found.start, end: whole.start + lead + found.end };
          file.diagnostics.push(
            diagnosticAt(
              "plaintext-credential",
              "error",
              path,
              lines,
              where,
              `field "${key}" carries a credential in its query string (${param}=…) in plain text, where every server's access log keeps it too; a credential is sent in a header: store it as a secret (stellar-secrets set NAME) and reference it from a header, { name: …, type: secret, secret: NAME } on ${kind === "action" ? "the action or its connection" : kind === "api_connection" ? "the connection" : "a connection using this connector"} (if the API takes it only in the query, it cannot be kept secret here); remove it from "${key}" and rotate it at its provider (git history keeps it)`,
            ),
          );
        }
      }
      if (key === "token_url" && kind === "auth_connector" && isScalar(value) && typeof value.value === "string" && /^https?:\/\//.test(value.value) && !isAbsoluteUrl(value.value)) {
        file.diagnostics.push(
          diagnosticAt(
            "schema",
            "error",
            path,
            lines,
            nodeRange(pair.value as Node) ?? range,
            `"token_url" is not an absolute http(s) URL, such as https://auth.example.com/oauth/token`,
          ),
        );
      }
    }
  }
  return model;
}

function addLink(model: ConfigDocument, node: Node | undefined, field: ObjectLink["field"], targetKind: ConfigKind, written?: Node): void {
  if (!isScalar(node) || typeof node.value !== "string" || node.value === "") return;
  const range = nodeRange(written ?? node);
  if (range === undefined) return;
  model.links.push({ field, targetKind, target: node.value, range });
}

/** True when `text` parses as an absolute URL (the resolver parses `token_url` with `new URL`). */
function isAbsoluteUrl(text: string): boolean {
  try {
    new URL(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * The model of a config file that could not be read (too large, not UTF-8, a parser failure):
 * no documents, one `schema` error at its start saying why, so the file is reported like any
 * other problem (JSON, SARIF, exit status, the editor) while the rest of the project is checked.
 */
export function unreadableConfigFile(path: string, text: string, why: string): ConfigFile {
  const lines = new LineIndex(text);
  const end = Math.min(lineEndAt(text, 0), 200);
  return { path, lines, documents: [], diagnostics: [diagnosticAt("schema", "error", path, lines, { start: 0, end }, `${path} ${why}`)], relevant: true, unread: true };
}
