/**
 * The parameters of the requests about a document, checked before a handler reads them: a
 * hand-written client's mistake (no `textDocument`, a position that is no position) is answered
 * with InvalidParams (-32602), as JSON-RPC asks, instead of failing inside the handler.
 */
import type { Position, Range } from "vscode-languageserver/node";
import { ErrorCodes, ResponseError } from "./lsp.js";

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const isUinteger = (v: unknown): boolean => typeof v === "number" && Number.isInteger(v) && v >= 0;
const isPosition = (v: unknown): v is Position => isObject(v) && isUinteger(v.line) && isUinteger(v.character);
const isRange = (v: unknown): v is Range => isObject(v) && isPosition(v.start) && isPosition(v.end);

/**
 * Throws InvalidParams (-32602) when the parameters of `method` lack what it needs: a
 * `textDocument` with a string `uri`, and a `position` or `range` of unsigned integers when `needs`
 * says so. A hand-written client's mistake is then answered as one, instead of failing inside the
 * handler (an empty answer and a failure in the log).
 */
export function requireDocumentParams(method: string, params: unknown, needs: { position?: boolean; range?: boolean } = {}): void {
  const p = isObject(params) ? params : {};
  const missing =
    !isObject(p.textDocument) || typeof p.textDocument.uri !== "string"
      ? "textDocument.uri (a string)"
      : needs.position === true && !isPosition(p.position)
        ? "position ({ line, character }: unsigned integers)"
        : needs.range === true && !isRange(p.range)
          ? "range ({ start, end }: positions of unsigned integers)"
          : undefined;
  if (missing !== undefined) throw new ResponseError(ErrorCodes.InvalidParams, `${method}: the parameters need ${missing}`);
}

/** The text synchronisation notifications {@link textSyncProblem} checks. */
const TEXT_SYNC = new Set(["textDocument/didOpen", "textDocument/didChange", "textDocument/didClose", "textDocument/didSave"]);

/**
 * What a text synchronisation notification (`didOpen`, `didChange`, `didClose`, `didSave`) lacks for
 * the server to take it, or undefined when it is whole (or is another notification): a `textDocument`
 * with a string `uri`; for `didOpen` a string `text`; for `didChange` a list of changes, each a
 * string `text` with, when it has one, a `range` of unsigned integers. A notification cannot be
 * answered with an error: the lifecycle strategy drops such a one whole and logs what it lacks,
 * instead of the open documents taking it in part (a document whose text is a number, a change
 * applied up to the malformed one) and every later message about them failing.
 */
export function textSyncProblem(method: string, params: unknown): string | undefined {
  if (!TEXT_SYNC.has(method)) return undefined;
  const p = isObject(params) ? params : {};
  const doc = isObject(p.textDocument) ? p.textDocument : undefined;
  if (doc === undefined || typeof doc.uri !== "string") return "textDocument.uri (a string)";
  if (method === "textDocument/didOpen" && typeof doc.text !== "string") return "textDocument.text (a string)";
  if (method === "textDocument/didChange") {
    if (!Array.isArray(p.contentChanges)) return "contentChanges (a list)";
    for (const c of p.contentChanges as unknown[]) {
      if (!isObject(c) || typeof c.text !== "string") return "contentChanges[].text (a string)";
      if ("range" in c && c.range !== undefined && !isRange(c.range)) return "contentChanges[].range ({ start, end }: positions of unsigned integers)";
    }
  }
  return undefined;
}

const isTextEdit = (v: unknown): boolean => isObject(v) && isRange(v.range) && typeof v.newText === "string";

/**
 * What `v` lacks to be a `WorkspaceEdit` of text edits (the only edits the server makes: its
 * `applyEdit` command hands them back to the client), or undefined when it is one: `changes`, an
 * object of lists of text edits (`{ range, newText }`: a range of unsigned integers, a string), and/or
 * `documentChanges`, a list of text document edits (`{ textDocument: { uri, version }, edits }`).
 * File operations (create, rename, delete) are none of the server's.
 */
export function workspaceEditProblem(v: unknown): string | undefined {
  if (!isObject(v) || (v.changes === undefined && v.documentChanges === undefined)) return "an object with changes or documentChanges";
  if (v.changes !== undefined) {
    if (!isObject(v.changes)) return "changes: an object of URIs to lists of text edits";
    for (const edits of Object.values(v.changes)) if (!Array.isArray(edits) || !edits.every(isTextEdit)) return "changes: lists of text edits ({ range, newText }: a range of unsigned integers, a string)";
  }
  if (v.documentChanges !== undefined) {
    if (!Array.isArray(v.documentChanges)) return "documentChanges: a list of text document edits";
    for (const d of v.documentChanges as unknown[]) {
      const ok = isObject(d) && isObject(d.textDocument) && typeof d.textDocument.uri === "string" && (d.textDocument.version === null || isUinteger(d.textDocument.version)) && Array.isArray(d.edits) && d.edits.every(isTextEdit);
      if (!ok) return "documentChanges: text document edits ({ textDocument: { uri, version }, edits }); file operations are none of the server's";
    }
  }
  return undefined;
}
