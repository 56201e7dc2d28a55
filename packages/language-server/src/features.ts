/**
 * The editor features over a {@link ProjectModel}: completion, hover, definition, references,
 * document symbols, code actions and the refused rename. Pure functions of (model, text,
 * position); `language-features.ts` registers them on the connection.
 */
import type { CodeAction, CompletionItem, Diagnostic as LspDiagnostic, DocumentSymbol, SymbolInformation, Hover, Location, Position, Range } from "vscode-languageserver/node";
import { CodeActionKind, CompletionItemKind, MarkupKind, SymbolKind } from "./lsp.js";
import { editDistance, LineIndex, validateSecretName } from "@stellar-secrets/core";
import { cursorContext } from "./cursor.js";
import type { Place, ProjectModel, Target } from "./model.js";
import { toLspRange, toOffset, type DiagnosticData } from "./ranges.js";
import { headerFields, kindFields, nestedFields } from "./schema-fields.js";
import { rotationHover } from "./rotation-hover.js";
import { markdownText } from "./markup.js";
import { pathToUri, toProjectPath } from "./uris.js";
import { planMoveToSecret } from "./move-to-secret.js";
import { Commands, type MoveToSecretArguments } from "./protocol.js";

function envSummary(model: ProjectModel, name: string): { set: string[]; missing: string[] } {
  const set = model.environmentsOf(name);
  const all = model.config?.environments.map((e) => e.name) ?? set;
  return { set: all.filter((e) => set.includes(e)), missing: all.filter((e) => !set.includes(e)) };
}

/** Completion items at `position` of a config file. */
export function completion(model: ProjectModel, text: string, position: Position, path?: string): CompletionItem[] {
  const lines = new LineIndex(text);
  const offset = toOffset(lines, position);
  const ctx = cursorContext(text, offset);
  const replace: Range = toLspRange(lines, ctx.word);
  const items: CompletionItem[] = [];
  const add = (label: string, kind: CompletionItemKind, detail?: string, doc?: string, insert?: string): void => {
    const item: CompletionItem = { label, kind, textEdit: { range: replace, newText: insert ?? label } };
    if (detail !== undefined) item.detail = detail;
    if (doc !== undefined) item.documentation = { kind: MarkupKind.Markdown, value: doc };
    items.push(item);
  };
  // secret, object, environment and kind names: core's completion (one implementation with the CLI)
  const core = model.complete(text, offset, path);
  if (core !== undefined) {
    const range = toLspRange(lines, core.context.range);
    const kind =
      core.context.type === "secret" ? CompletionItemKind.Variable : core.context.type === "object" ? CompletionItemKind.Reference : CompletionItemKind.EnumMember;
    return core.candidates.map((c) => {
      const item: CompletionItem = { label: c.label, kind, detail: c.detail, textEdit: { range, newText: c.label } };
      // (a secret with no value where this document is used comes after those with one: clients sort by sortText)
      if (c.missing !== undefined) item.sortText = `~${c.label}`;
      const refs = core.context.type === "secret" ? model.referenceCount(c.label) : undefined;
      const doc = [c.documentation, refs === undefined ? undefined : `${refs} reference${refs === 1 ? "" : "s"}`].filter((x) => x !== undefined).join("\n\n");
      if (doc !== "") item.documentation = { kind: MarkupKind.Markdown, value: doc };
      return item;
    });
  }
  const slot = ctx.slot;
  if (slot.type === "value") {
    // enum values of the field, from the kind's schema (`method: POST`, `type: api_key`)
    if (ctx.kind !== undefined) {
      const nested = slot.parent === undefined || slot.parent === "headers" ? [] : nestedFields(ctx.kind, slot.parent);
      const fields = slot.parent === "headers" ? headerFields(ctx.kind) : nested.length > 0 ? nested : kindFields(ctx.kind);
      const f = fields.find((x) => x.name === slot.key);
      for (const v of f?.values ?? []) add(v, CompletionItemKind.EnumMember, f?.description);
    }
    return items;
  }
  // key slot: fields of the kind (or of a header item)
  if (slot.type !== "key") return items;
  if (ctx.kind === undefined) {
    if (slot.indent === 0) add("kind", CompletionItemKind.Property, "the file's kind", undefined, "kind: ");
    return items;
  }
  const typeMatch = /^type:[ \t]*([A-Za-z0-9_]+)/m.exec(text);
  const fields =
    slot.parent === "headers"
      ? headerFields(ctx.kind)
      : slot.indent === 0
        ? kindFields(ctx.kind, ctx.kind === "auth_connector" ? typeMatch?.[1] : undefined)
        : slot.parent !== undefined
          ? nestedFields(ctx.kind, slot.parent, ctx.kind === "auth_connector" ? typeMatch?.[1] : undefined)
          : [];
  for (const f of fields) {
    if (ctx.siblingKeys.includes(f.name)) continue;
    const insert = f.secretRef ? `${f.name}: { secret: ` + "" : `${f.name}: `;
    const item: CompletionItem = {
      label: f.name,
      kind: CompletionItemKind.Property,
      detail: f.required ? "required" : "optional",
      textEdit: { range: replace, newText: f.secretRef ? `${f.name}: { secret: }` : insert },
      sortText: `${f.required ? "0" : "1"}${f.name}`,
    };
    if (f.secretRef) item.command = { title: "", command: "editor.action.triggerSuggest" };
    if (f.description !== undefined) item.documentation = { kind: MarkupKind.Markdown, value: f.description };
    items.push(item);
  }
  return items;
}

function secretHover(model: ProjectModel, name: string): string {
  const { set, missing } = envSummary(model, name);
  const refs = model.referencesTo(name);
  const entry = model.catalog(name);
  const out = [`**${name}** (secret)`];
  if (set.length === 0 && missing.length > 0) out.push(`No environment file has this name.`);
  else out.push(`Value set in: ${set.join(", ") || "none"}` + (missing.length > 0 ? `  \nMissing in: ${missing.join(", ")}` : ""));
  if (entry?.description) out.push(entry.description);
  if (entry?.owner) out.push(`Owner: ${entry.owner}`);
  if (entry?.rotate_every) out.push(rotationHover(model, name, entry.rotate_every));
  out.push(`${refs.length} reference${refs.length === 1 ? "" : "s"}`);
  return out.join("\n\n");
}

function targetRange(t: Target): Range {
  switch (t.type) {
    case "secret-reference":
      return t.reference.range;
    case "secret-key":
      return t.key.range;
    case "object-reference":
      return t.reference.range;
    case "object-definition":
      return t.definition.range;
    case "environment":
      return t.place.range;
  }
}

function targetAt(model: ProjectModel, path: string, p: Position): Target | undefined {
  return model.targetAt(path, p);
}

/** Hover on a reference, a key of an environment file, or an object name. Never shows a value. */
export function hover(model: ProjectModel, path: string, p: Position): Hover | null {
  const t = targetAt(model, path, p);
  if (t === undefined) return null;
  let value: string;
  if (t.type === "secret-reference") value = secretHover(model, t.reference.name);
  else if (t.type === "secret-key") value = secretHover(model, t.key.name);
  else if (t.type === "environment") {
    const env = model.config?.environments.find((e) => e.name === t.name);
    value = env ? `**${env.name}** (environment)\n\nMembers: ${env.members.map((m) => m.name).join(", ") || "none"}` : `**${t.name}**: not declared in stellar.yaml`;
  } else {
    const { kind, name } = t.type === "object-reference" ? t.reference : t.definition;
    const defs = model.objects(kind).filter((o) => o.name === name);
    const refs = model.objectReferences(kind, name);
    // not defined: as unknown-reference says, a file outside the project may define it
    const outside = defs.length === 0 ? model.excludedDefinitionNote(kind, name) : undefined;
    const where =
      defs.length > 0
        ? `Defined in ${defs.map((d) => toProjectPath(model.root, d.path)).join(", ")}`
        : outside !== undefined
          ? `Not defined in the project: ${markdownText(outside)}.`
          : "Not defined.";
    value = `**${name}** (${kind})\n\n${where}\n\n${refs.length} reference${refs.length === 1 ? "" : "s"}`;
  }
  return { contents: { kind: MarkupKind.Markdown, value }, range: targetRange(t) };
}

const loc = (path: string, range: Place["range"]): Location => ({ uri: pathToUri(path), range });

/** Definition: a secret's key in every environment file; an object's name where it is defined. */
export function definition(model: ProjectModel, path: string, p: Position): Location[] {
  const t = targetAt(model, path, p);
  if (t === undefined) return [];
  if (t.type === "secret-reference" || t.type === "secret-key") {
    const name = t.type === "secret-reference" ? t.reference.name : t.key.name;
    return model.keysOf(name).map((k) => loc(k.path, k.range));
  }
  if (t.type === "object-reference") return model.objects(t.reference.kind).filter((o) => o.name === t.reference.name).map((o) => loc(o.path, o.range));
  if (t.type === "object-definition") return [loc(t.definition.path, t.definition.range)];
  return [];
}

/** References: every use of the secret (plus its keys when `includeDeclaration`), or of an object. */
export function references(model: ProjectModel, path: string, p: Position, includeDeclaration: boolean): Location[] {
  const t = targetAt(model, path, p);
  if (t === undefined) return [];
  if (t.type === "secret-reference" || t.type === "secret-key") {
    const name = t.type === "secret-reference" ? t.reference.name : t.key.name;
    const out = model.referencesTo(name).map((r) => loc(r.path, r.range));
    if (includeDeclaration) out.push(...model.keysOf(name).map((k) => loc(k.path, k.range)));
    return out;
  }
  if (t.type === "object-reference" || t.type === "object-definition") {
    const { kind, name } = t.type === "object-reference" ? t.reference : t.definition;
    const out = model.objectReferences(kind, name).map((r) => loc(r.path, r.range));
    if (includeDeclaration) out.push(...model.objects(kind).filter((o) => o.name === name).map((o) => loc(o.path, o.range)));
    return out;
  }
  return [];
}

/**
 * Document symbols: each object (its YAML document's range, its name the selection range) with the
 * secret references of that document as children, wherever `name:` is written in it; the references
 * of a document without a name at the top level; each key of an environment file.
 */
export function documentSymbols(model: ProjectModel, path: string): DocumentSymbol[] {
  const { documents, keys } = model.symbols(path);
  const out: DocumentSymbol[] = [];
  const sym = (name: string, detail: string, kind: SymbolKind, range: Range): DocumentSymbol => ({ name, detail, kind, range, selectionRange: range, children: [] });
  for (const doc of documents) {
    const refs = doc.references.map((r) => sym(r.name, "secret", SymbolKind.Key, r.range));
    const d = doc.definition;
    if (d === undefined) out.push(...refs);
    // the range holds the selection range and every child (LSP 3.17): the document's, widened in case
    else out.push({ ...sym(d.name, d.kind, SymbolKind.Object, d.range), range: enclosing(doc.range, [d.range, ...refs.map((r) => r.range)]), children: refs });
  }
  for (const k of keys) out.push(sym(k.name, k.environment, SymbolKind.Key, k.range));
  return out;
}

const before = (a: Position, b: Position): boolean => a.line < b.line || (a.line === b.line && a.character < b.character);

/** The smallest range holding `range` and every one of `inner`. */
function enclosing(range: Range, inner: readonly Range[]): Range {
  let { start, end } = range;
  for (const r of inner) {
    if (before(r.start, start)) start = r.start;
    if (before(end, r.end)) end = r.end;
  }
  return { start, end };
}

/**
 * Document symbols as the flat `SymbolInformation` list of a client without
 * `hierarchicalDocumentSymbolSupport`: every symbol in document order (a parent before its
 * children), located in `uri`, with its parent's name as `containerName`.
 */
export function flatSymbols(symbols: readonly DocumentSymbol[], uri: string, containerName?: string): SymbolInformation[] {
  const out: SymbolInformation[] = [];
  for (const s of symbols) {
    // the name (where the cursor goes), not the whole document an object's range spans
    const info: SymbolInformation = { name: s.name, kind: s.kind, location: { uri, range: s.selectionRange } };
    if (containerName !== undefined) info.containerName = containerName;
    out.push(info, ...flatSymbols(s.children ?? [], uri, s.name));
  }
  return out;
}

/** Rules whose diagnostics carry a "did you mean" `suggestion` that replaces the diagnostic's text. */
const REPLACEABLE = new Set(["unknown-secret", "unknown-environment", "unknown-reference", "schema", "missing-secrets-dir"]);

const isEmptyRange = (r: Range): boolean => r.start.line === r.end.line && r.start.character === r.end.character;

/**
 * True when `d` is `unknown-environment` on an undeclared environment's file (shown over the file's
 * first line): its fix is the file's name (or a declaration in stellar.yaml), never an edit of its text.
 */
function isEnvironmentFileFinding(code: string, model: ProjectModel, range: Range, path: string | undefined, text: string | undefined): boolean {
  if (code !== "unknown-environment") return false;
  if (path !== undefined && model.fileExists(path)) return true;
  if (text === undefined) return false;
  // an environment file without valid metadata: the range is a line (`name: value`), never one name
  const lines = new LineIndex(text);
  return /[\s:]/.test(text.slice(toOffset(lines, range.start), toOffset(lines, range.end)));
}

/**
 * True when `range` of the document `text` is a YAML alias (`*h`): a use of an anchored mapping
 * reported where it is written. Replacing it with a name would write a plain value over the
 * mapping; the anchored mapping's own diagnostic carries the fix.
 */
function isAliasAt(text: string | undefined, range: Range): boolean {
  if (text === undefined) return false;
  const lines = new LineIndex(text);
  return text.charAt(toOffset(lines, range.start)) === "*";
}

/**
 * `replacement` quoted as the text at `range` is: a diagnostic's range covers a quoted scalar with
 * its quotes (`"secret": "stripe_kez"` in a JSON-style file), so a bare replacement would make a
 * `.json` file (or one a runtime reads with a JSON parser) no JSON. In the same quotes when the
 * range holds one quoted scalar on one line, else as it is (plain, a block scalar).
 */
function quotedAsWritten(text: string | undefined, range: Range, replacement: string): string {
  if (text === undefined || range.start.line !== range.end.line) return replacement;
  const lines = new LineIndex(text);
  const written = text.slice(toOffset(lines, range.start), toOffset(lines, range.end));
  const q = written.charAt(0);
  if (written.length < 2 || (q !== '"' && q !== "'") || !written.endsWith(q)) return replacement;
  return q === '"' ? JSON.stringify(replacement) : `'${replacement.replace(/'/g, "''")}'`;
}

/**
 * The environments a `missing-environment-value` diagnostic asks to fill: those where the
 * reference is used and the secret has no (or an empty) value, in declaration order.
 */
export function missingEnvironments(model: ProjectModel, path: string, d: LspDiagnostic, name: string): string[] {
  const t = model.targetAt(path, d.range.start);
  const set = new Set(model.environmentsOf(name));
  const used = t?.type === "secret-reference" && t.reference.name === name ? t.reference.environments : (model.config?.environments.map((e) => e.name) ?? []);
  return used.filter((e) => !set.has(e));
}

/**
 * Quick fixes for the diagnostics of a range (`path` is the document's absolute path):
 * - a "did you mean" suggestion (unknown secret, environment or reference, schema enum values and
 *   field names): *Replace with X*, preferred (not at a YAML alias `*h`: see {@link isAliasAt}); for
 *   an ambiguous typo one *Replace with X* per name as near (`alternatives`), none preferred;
 * - `unknown-secret`: *Add secret NAME*, after the replacement, and not at all when the name is
 *   one edit (or only case) away from an existing one, the suggestion or any secret (it would invite creating the typo);
 * - `unused-secret`: *Delete secret NAME*, when the finding offers removal (not when it points at a
 *   reference that misspells the name, or writes it in another case or as plain text);
 * - `missing-environment-value`: *Set a value for NAME*, with the environments to fill;
 * - `plaintext-credential` on a static header value or a connector field: *Move to a secret…*
 *   (the client reads the literal from its document and encrypts it; `text` is the document's),
 *   with the name the finding proposes (its `suggestion`) for the client to pre-fill.
 * Commands run in the client with arguments that never hold a value.
 */
export function codeActions(model: ProjectModel, uri: string, diagnostics: LspDiagnostic[], path?: string, text?: string): CodeAction[] {
  const out: CodeAction[] = [];
  for (const d of diagnostics) {
    if (d.source !== "stellar-secrets") continue;
    const data = (d.data ?? {}) as DiagnosticData;
    const code = typeof d.code === "string" ? d.code : undefined;
    if (code !== undefined && REPLACEABLE.has(code) && data.suggestion !== undefined && !isEmptyRange(d.range) && !isAliasAt(text, d.range) && !isEnvironmentFileFinding(code, model, d.range, path, text)) {
      // an ambiguous typo (names as near as each other): one Replace each, none preferred (an editor may apply a preferred fix unasked)
      const alternatives = Array.isArray(data.alternatives) ? data.alternatives.filter((a): a is string => typeof a === "string") : [];
      for (const replacement of [data.suggestion, ...alternatives]) {
        out.push({
          title: `Replace with ${replacement}`,
          kind: CodeActionKind.QuickFix,
          diagnostics: [d],
          isPreferred: alternatives.length === 0,
          edit: { changes: { [uri]: [{ range: d.range, newText: quotedAsWritten(text, d.range, replacement) }] } },
        });
      }
    }
    if (code === "unknown-secret" && data.secret !== undefined) {
      // (one edit from an existing name: a typo, also at an alias where no Replace is offered)
      // (or from any secret: a catalog entry next to the real one's entry has no suggestion, since renaming it would repeat that key)
      const near = (n: string): boolean => n.toLowerCase() === data.secret!.toLowerCase() || editDistance(data.secret!, n, 1) <= 1;
      const close = data.suggestion !== undefined ? near(data.suggestion) : model.secretNames().some(near);
      if (!close && validateSecretName(data.secret).ok) {
        out.push({
          title: `Add secret ${data.secret}`,
          kind: CodeActionKind.QuickFix,
          diagnostics: [d],
          command: { title: `Add secret ${data.secret}`, command: Commands.addSecret, arguments: [data.secret, model.root] },
        });
      }
    }
    // only when the finding offers removal: not when it says a reference misspells the name, or
    // writes it in another case or as plain text (deleting it would break what it says to correct)
    if (code === "unused-secret" && data.secret !== undefined && (typeof d.message === "string" ? d.message : d.message.value).includes("`stellar-secrets rm ")) {
      out.push({
        title: `Delete secret ${data.secret}`,
        kind: CodeActionKind.QuickFix,
        diagnostics: [d],
        command: { title: `Delete secret ${data.secret}`, command: Commands.deleteSecret, arguments: [data.secret, model.root] },
      });
    }
    if (code === "missing-environment-value" && data.secret !== undefined) {
      const envs = path === undefined ? [] : missingEnvironments(model, path, d, data.secret);
      const where = envs.length > 0 ? ` in ${envs.join(", ")}` : "";
      out.push({
        title: `Set a value for ${data.secret}${where}`,
        kind: CodeActionKind.QuickFix,
        diagnostics: [d],
        isPreferred: true,
        command: { title: `Set a value for ${data.secret}`, command: Commands.setValue, arguments: [data.secret, model.root, envs] },
      });
    }
    if (code === "plaintext-credential" && text !== undefined && planMoveToSecret(text, toOffset(new LineIndex(text), d.range.start)) !== undefined) {
      // the name the finding proposes is pre-filled in the client's name input
      const args: MoveToSecretArguments = { uri, range: d.range, root: model.root, ...(data.suggestion !== undefined ? { name: data.suggestion } : {}) };
      out.push({
        title: "Move to a secret…",
        kind: CodeActionKind.QuickFix,
        diagnostics: [d],
        isPreferred: true,
        command: { title: "Move to a secret…", command: Commands.moveToSecret, arguments: [args] },
      });
    }
  }
  return out;
}

/** Why a secret cannot be renamed, and what to do instead. */
export function renameRefusal(model: ProjectModel, path: string, p: Position): string | undefined {
  const t = targetAt(model, path, p);
  if (t === undefined || (t.type !== "secret-reference" && t.type !== "secret-key")) return undefined;
  const name = t.type === "secret-reference" ? t.reference.name : t.key.name;
  return (
    `Secret names are fixed once created, so "${name}" cannot be renamed (a rename would silently break every deployment that still reads the old name). ` +
    `Instead: 1) add the new secret with the same values (Stellar Secrets: Add Secret…), 2) change the references to the new name, 3) delete "${name}" once nothing references it.`
  );
}
