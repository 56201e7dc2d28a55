/**
 * Registers the editor features of `features.ts` on the connection: completion, hover,
 * definition, references, document symbols, code actions, and the refused rename. Each handler
 * finds the open document and its project, then calls the pure feature function.
 */
import type { ApplyWorkspaceEditResult, ClientCapabilities, CodeAction, Command, Diagnostic as LspDiagnostic, DocumentSymbol, Location, Position, Range, ServerCapabilities, SymbolInformation, WorkspaceEdit } from "vscode-languageserver/node";
import { CompletionItemKind, ErrorCodes, LSPErrorCodes, ResponseError, SymbolKind } from "./lsp.js";
import { codeActions, completion, definition, documentSymbols, flatSymbols, hover, references, renameRefusal } from "./features.js";
import { forClient } from "./markup.js";
import type { ProjectModel } from "./model.js";
import { requireDocumentParams, workspaceEditProblem } from "./params.js";
import { ServerCommands } from "./protocol.js";
import { clampToLine, toLspDiagnostic } from "./ranges.js";
import { LineIndex } from "@stellar-secrets/core";
import type { ServerState } from "./state.js";
import { uriToPath } from "./uris.js";

/** The capabilities of the features registered here, for a client that supports every option ({@link featureCapabilities}). */
export const FEATURE_CAPABILITIES: ServerCapabilities = {
  completionProvider: { triggerCharacters: [":", " ", "[", ",", "-"], resolveProvider: false },
  hoverProvider: true,
  definitionProvider: true,
  referencesProvider: true,
  documentSymbolProvider: true,
  codeActionProvider: { codeActionKinds: ["quickfix"] },
  renameProvider: { prepareProvider: true },
};

/** True when the client takes `CodeAction` literals from `textDocument/codeAction` (else only `Command`s, LSP 3.17). */
function codeActionLiterals(client: ClientCapabilities): boolean {
  return client.textDocument?.codeAction?.codeActionLiteralSupport !== undefined;
}

/**
 * The capabilities of the features registered here as the `initialize` result tells them to
 * `client` (LSP 3.17): `CodeActionOptions` only to a client with `codeActionLiteralSupport`, and
 * `RenameOptions` only to one with `rename.prepareSupport` (else `true`); a client without code
 * action literals that can apply edits (`workspace.applyEdit`) is told the server's command that
 * applies a quick fix's edit ({@link ServerCommands}).
 */
export function featureCapabilities(client: ClientCapabilities): ServerCapabilities {
  const literals = codeActionLiterals(client);
  const out: ServerCapabilities = {
    ...FEATURE_CAPABILITIES,
    codeActionProvider: literals ? FEATURE_CAPABILITIES.codeActionProvider : true,
    renameProvider: client.textDocument?.rename?.prepareSupport === true ? FEATURE_CAPABILITIES.renameProvider : true,
  };
  if (!literals && client.workspace?.applyEdit === true) out.executeCommandProvider = { commands: [ServerCommands.applyEdit] };
  return out;
}

/** The kinds of the first version of the protocol: what a client that announces no value set supports (LSP 3.17). */
const FIRST_COMPLETION_KINDS = { max: CompletionItemKind.Reference, fallback: new Map<number, CompletionItemKind>([[CompletionItemKind.EnumMember, CompletionItemKind.Value]]) };
const FIRST_SYMBOL_KINDS = {
  max: SymbolKind.Array,
  fallback: new Map<number, SymbolKind>([
    [SymbolKind.Object, SymbolKind.Module],
    [SymbolKind.Key, SymbolKind.Property],
  ]),
};

/**
 * `kind` when the client supports it (its `valueSet`, else the first version's kinds, 1 to `max`),
 * else its fallback from the first version's kinds (undefined when it has none).
 */
export function supportedKind<K extends number>(kind: K, valueSet: readonly number[] | undefined, first: { max: number; fallback: Map<number, K> }): K | undefined {
  const supported = (k: number): boolean => (valueSet === undefined ? k >= 1 && k <= first.max : valueSet.includes(k));
  if (supported(kind)) return kind;
  return first.fallback.get(kind);
}

/** Document symbols (nested or flat) with kinds the client supports. */
function symbolsFor<S extends DocumentSymbol | SymbolInformation>(symbols: S[], valueSet: readonly number[] | undefined): S[] {
  return symbols.map((s) => {
    const kind = supportedKind(s.kind, valueSet, FIRST_SYMBOL_KINDS) ?? s.kind;
    const children = "children" in s && s.children !== undefined ? { children: symbolsFor(s.children, valueSet) } : {};
    return { ...s, kind, ...children };
  });
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * Code actions as `Command`s, for a client without `codeActionLiteralSupport`: an edit becomes the
 * server's `applyEdit` command (when the client can apply edits; else it is left out), a command
 * stays itself.
 */
export function asCommands(actions: CodeAction[], applyEdit: boolean): Command[] {
  const out: Command[] = [];
  for (const a of actions) {
    if (a.edit !== undefined) {
      if (applyEdit) out.push({ title: a.title, command: ServerCommands.applyEdit, arguments: [a.edit] });
    } else if (a.command !== undefined) out.push(a.command);
  }
  return out;
}

/** An open document of a project: its path, its text and the project's index. */
export interface OpenDocument {
  path: string;
  text: string;
  model: ProjectModel;
}

/** `position` in the open document as LSP reads it: past the end of its line, the line's end ({@link clampToLine}). */
function at(d: OpenDocument, position: Position): Position {
  return clampToLine(d.text, new LineIndex(d.text), position);
}

/** The open document at `uri` and its project; undefined when it is not open or belongs to no project. */
export function openDocument(state: ServerState, uri: string): OpenDocument | undefined {
  const path = state.pathOf(uri);
  if (path === undefined) return undefined;
  const model = state.workspace.projectOf(path);
  const doc = state.documents.get(uri);
  if (model === undefined || doc === undefined) return undefined;
  return { path, text: doc.getText(), model };
}

const sameRange = (a: Range, b: Range): boolean =>
  a.start.line === b.start.line && a.start.character === b.start.character && a.end.line === b.end.line && a.end.character === b.end.character;

/**
 * The diagnostics of a code action request with their `data` (the secret and the suggestion the
 * quick fixes need): a client without `publishDiagnostics.dataSupport` sends them back without it,
 * so it is taken again from the document's current diagnostic of the same rule at the same range.
 */
function withData(doc: OpenDocument, diagnostics: LspDiagnostic[]): LspDiagnostic[] {
  let current: LspDiagnostic[] | undefined;
  return diagnostics.map((d) => {
    if (d.data !== undefined && d.data !== null) return d;
    current ??= doc.model.diagnostics(doc.path).map((c) => toLspDiagnostic(c));
    const same = current.find((c) => c.code === d.code && sameRange(c.range, d.range));
    return same === undefined ? d : { ...d, data: same.data };
  });
}

/** Registers every editor feature. */
export function registerLanguageFeatures(state: ServerState): void {
  const { connection } = state;
  const docAt = (uri: string): OpenDocument | undefined => openDocument(state, uri);
  // a location in an open document under the URI the client opened it with (ServerState.uriOf)
  const asOpened = (locations: Location[]): Location[] =>
    locations.map((l) => {
      const path = uriToPath(l.uri);
      return path === undefined ? l : { ...l, uri: state.uriOf(path) };
    });
  connection.onCompletion(
    state.guard("completion", [], (params) => {
      requireDocumentParams("textDocument/completion", params, { position: true });
      const d = docAt(params.textDocument.uri);
      if (d === undefined) return [];
      const formats = state.capabilities.textDocument?.completion?.completionItem?.documentationFormat;
      const kinds = state.capabilities.textDocument?.completion?.completionItemKind?.valueSet;
      return completion(d.model, d.text, at(d, params.position), d.path).map((item) => {
        let out = item.documentation !== undefined && typeof item.documentation === "object" ? { ...item, documentation: forClient(item.documentation, formats) } : item;
        // a kind the client supports (LSP 3.17: without a value set, only the first version's)
        if (out.kind !== undefined && supportedKind(out.kind, kinds, FIRST_COMPLETION_KINDS) !== out.kind) {
          const { kind, ...rest } = out;
          const supported = supportedKind(kind, kinds, FIRST_COMPLETION_KINDS);
          out = supported === undefined ? rest : { ...rest, kind: supported };
        }
        // editor.action.triggerSuggest is VS Code's: another client would send it back as workspace/executeCommand
        if (out.command !== undefined && !state.clientCommands) {
          const { command: _command, ...rest } = out;
          return rest;
        }
        return out;
      });
    }),
  );
  connection.onHover(
    state.guard("hover", null, (params) => {
      requireDocumentParams("textDocument/hover", params, { position: true });
      const d = docAt(params.textDocument.uri);
      const h = d === undefined ? null : hover(d.model, d.path, at(d, params.position));
      const contents = h?.contents;
      // Markdown, or plain text for a client that renders nothing else (markup.ts)
      if (h === null || contents === undefined || typeof contents !== "object" || !("kind" in contents)) return h;
      return { ...h, contents: forClient(contents, state.capabilities.textDocument?.hover?.contentFormat) };
    }),
  );
  connection.onDefinition(
    state.guard("definition", [], (params) => {
      requireDocumentParams("textDocument/definition", params, { position: true });
      const d = docAt(params.textDocument.uri);
      return d === undefined ? [] : asOpened(definition(d.model, d.path, at(d, params.position)));
    }),
  );
  connection.onReferences(
    state.guard("references", [], (params) => {
      requireDocumentParams("textDocument/references", params, { position: true });
      const d = docAt(params.textDocument.uri);
      // (context is required, but a client that leaves it out means no declaration)
      return d === undefined ? [] : asOpened(references(d.model, d.path, at(d, params.position), (params.context as typeof params.context | undefined)?.includeDeclaration === true));
    }),
  );
  connection.onDocumentSymbol(
    state.guard("symbols", [], (params) => {
      requireDocumentParams("textDocument/documentSymbol", params);
      const d = docAt(params.textDocument.uri);
      if (d === undefined) return [];
      const symbols = documentSymbols(d.model, d.path);
      const capability = state.capabilities.textDocument?.documentSymbol;
      // kinds the client supports; a client without hierarchical symbols gets the flat list the specification gives it
      const kinds = capability?.symbolKind?.valueSet;
      return capability?.hierarchicalDocumentSymbolSupport === true ? symbolsFor(symbols, kinds) : symbolsFor(flatSymbols(symbols, params.textDocument.uri), kinds);
    }),
  );
  connection.onCodeAction(
    state.guard("code actions", [], (params) => {
      requireDocumentParams("textDocument/codeAction", params, { range: true });
      const d = docAt(params.textDocument.uri);
      if (d === undefined) return [];
      // (context is required, but a client that leaves it out, or its diagnostics, has none to fix)
      const context = (params.context as typeof params.context | undefined) ?? { diagnostics: [] };
      const diagnostics = Array.isArray(context.diagnostics) ? context.diagnostics : [];
      const actions = codeActions(d.model, params.textDocument.uri, withData(d, diagnostics), d.path, d.text);
      // actions that only run one of the extension's commands (a prompt, a secret value) are for the
      // client that has them (initializationOptions.clientCommands); another client would send them
      // back as workspace/executeCommand, which the server cannot run (it asks no one for a value)
      // only the kinds asked for (context.only: e.g. source.organizeImports on save): a Command has no kind a client could filter by
      const only = Array.isArray(context.only) ? context.only : undefined;
      const asked = only === undefined ? actions : actions.filter((a) => a.kind !== undefined && only.some((k) => k === "" || a.kind === k || a.kind!.startsWith(`${k}.`)));
      const offered = state.clientCommands ? asked : asked.filter((a) => a.edit !== undefined || a.command === undefined);
      // a client without code action literals takes Commands only: an edit is applied by the server's command
      return codeActionLiterals(state.capabilities) ? offered : asCommands(offered, state.capabilities.workspace?.applyEdit === true);
    }),
  );
  // the server's own commands (advertised only to a client that needs them: featureCapabilities)
  connection.onExecuteCommand(
    state.guard("execute command", null, async (params) => {
      const edit: unknown = params.arguments?.[0];
      if (params.command !== ServerCommands.applyEdit) throw new ResponseError(ErrorCodes.InvalidParams, `unknown command ${params.command}: the server runs only ${ServerCommands.applyEdit}`);
      const problem = workspaceEditProblem(edit);
      if (problem !== undefined) throw new ResponseError(ErrorCodes.InvalidParams, `${ServerCommands.applyEdit} takes one argument, the WorkspaceEdit to apply (${problem})`);
      let result: ApplyWorkspaceEditResult;
      try {
        result = await state.connection.workspace.applyEdit({ edit: edit as WorkspaceEdit });
      } catch (e) {
        // the client's own error to workspace/applyEdit (e.g. MethodNotFound: it applies no edits) is not the command's
        throw new ResponseError(LSPErrorCodes.RequestFailed, `${ServerCommands.applyEdit}: the client did not take workspace/applyEdit (${e instanceof Error ? e.message : String(e)})`);
      }
      if (!result.applied) state.log(`${ServerCommands.applyEdit}: the client did not apply the edit${result.failureReason === undefined ? "" : ` (${result.failureReason})`}`);
      return null;
    }),
  );
  const refuseRename = async (uri: string, position: Position): Promise<never> => {
    await state.ready;
    const d = docAt(uri);
    const reason = d === undefined ? undefined : renameRefusal(d.model, d.path, at(d, position));
    throw new ResponseError(ErrorCodes.InvalidRequest, reason ?? "Stellar Secrets does not rename here: names of secrets, connections, connectors and actions are referenced by name across files.");
  };
  connection.onPrepareRename((params) => {
    requireDocumentParams("textDocument/prepareRename", params, { position: true });
    return refuseRename(params.textDocument.uri, params.position);
  });
  connection.onRenameRequest((params) => {
    requireDocumentParams("textDocument/rename", params, { position: true });
    return refuseRename(params.textDocument.uri, params.position);
  });
}
