/**
 * Registers the editor features of `features.ts` on the connection: completion, hover,
 * definition, references, document symbols, code actions, and the refused rename. Each handler
 * finds the open document and its project, then calls the pure feature function.
 */
import { ErrorCodes, ResponseError, type Diagnostic as LspDiagnostic, type Location, type Position, type Range, type ServerCapabilities } from "vscode-languageserver/node";
import { codeActions, completion, definition, documentSymbols, flatSymbols, hover, references, renameRefusal } from "./features.js";
import { forClient } from "./markup.js";
import type { ProjectModel } from "./model.js";
import { toLspDiagnostic } from "./ranges.js";
import type { ServerState } from "./state.js";
import { uriToPath } from "./uris.js";

/** The capabilities of the features registered here (for the `initialize` result). */
export const FEATURE_CAPABILITIES: ServerCapabilities = {
  completionProvider: { triggerCharacters: [":", " ", "[", ",", "-"], resolveProvider: false },
  hoverProvider: true,
  definitionProvider: true,
  referencesProvider: true,
  documentSymbolProvider: true,
  codeActionProvider: { codeActionKinds: ["quickfix"] },
  renameProvider: { prepareProvider: true },
};

/** An open document of a project: its path, its text and the project's index. */
export interface OpenDocument {
  path: string;
  text: string;
  model: ProjectModel;
}

/** The open document at `uri` and its project; undefined when it is not open or belongs to no project. */
export function openDocument(state: ServerState, uri: string): OpenDocument | undefined {
  const path = uriToPath(uri);
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
      const d = docAt(params.textDocument.uri);
      if (d === undefined) return [];
      const formats = state.capabilities.textDocument?.completion?.completionItem?.documentationFormat;
      return completion(d.model, d.text, params.position).map((item) => {
        const out = item.documentation !== undefined && typeof item.documentation === "object" ? { ...item, documentation: forClient(item.documentation, formats) } : item;
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
      const d = docAt(params.textDocument.uri);
      const h = d === undefined ? null : hover(d.model, d.path, params.position);
      const contents = h?.contents;
      // Markdown, or plain text for a client that renders nothing else (markup.ts)
      if (h === null || contents === undefined || typeof contents !== "object" || !("kind" in contents)) return h;
      return { ...h, contents: forClient(contents, state.capabilities.textDocument?.hover?.contentFormat) };
    }),
  );
  connection.onDefinition(
    state.guard("definition", [], (params) => {
      const d = docAt(params.textDocument.uri);
      return d === undefined ? [] : asOpened(definition(d.model, d.path, params.position));
    }),
  );
  connection.onReferences(
    state.guard("references", [], (params) => {
      const d = docAt(params.textDocument.uri);
      return d === undefined ? [] : asOpened(references(d.model, d.path, params.position, params.context.includeDeclaration));
    }),
  );
  connection.onDocumentSymbol(
    state.guard("symbols", [], (params) => {
      const d = docAt(params.textDocument.uri);
      if (d === undefined) return [];
      const symbols = documentSymbols(d.model, d.path);
      // a client without hierarchical symbols gets the flat list the specification gives it
      return state.capabilities.textDocument?.documentSymbol?.hierarchicalDocumentSymbolSupport === true ? symbols : flatSymbols(symbols, params.textDocument.uri);
    }),
  );
  connection.onCodeAction(
    state.guard("code actions", [], (params) => {
      const d = docAt(params.textDocument.uri);
      if (d === undefined) return [];
      const actions = codeActions(d.model, params.textDocument.uri, withData(d, params.context.diagnostics), d.path, d.text);
      // actions that only run one of the extension's commands (a prompt, a secret value) are for the
      // client that has them (initializationOptions.clientCommands); another client would send them
      // back as workspace/executeCommand, which the server cannot run (it asks no one for a value)
      return state.clientCommands ? actions : actions.filter((a) => a.edit !== undefined || a.command === undefined);
    }),
  );
  const refuseRename = async (uri: string, position: Position): Promise<never> => {
    await state.ready;
    const d = docAt(uri);
    const reason = d === undefined ? undefined : renameRefusal(d.model, d.path, position);
    throw new ResponseError(ErrorCodes.InvalidRequest, reason ?? "Stellar Secrets does not rename here: names of secrets, connections, connectors and actions are referenced by name across files.");
  };
  connection.onPrepareRename((params) => refuseRename(params.textDocument.uri, params.position));
  connection.onRenameRequest((params) => refuseRename(params.textDocument.uri, params.position));
}
