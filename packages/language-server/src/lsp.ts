/**
 * The values the server takes from `vscode-languageserver/node`, imported here once. That package
 * is CommonJS: the bundle (scripts/bundle.mjs) wraps each ES-module import of it in esbuild's
 * interop helper, which copies every one of its ~320 exports into a new object of getters, once
 * per importing module. Twelve modules imported it, so every start made twelve such copies
 * (docs/performance.md, sixteenth round). Types are still imported from the package itself
 * (`import type`, erased). Keep `client-process-arg.ts` evaluated before this module (main.ts).
 */
export {
  AbstractMessageReader,
  AbstractMessageWriter,
  CodeActionKind,
  CompletionItemKind,
  createConnection,
  DiagnosticSeverity,
  DidChangeWatchedFilesNotification,
  DidChangeWorkspaceFoldersNotification,
  DidOpenTextDocumentNotification,
  DocumentDiagnosticReportKind,
  ErrorCodes,
  ExitNotification,
  FileChangeType,
  InitializedNotification,
  InitializeRequest,
  LSPErrorCodes,
  MarkupKind,
  PositionEncodingKind,
  ProposedFeatures,
  ResponseError,
  ShutdownRequest,
  SymbolKind,
  TextDocuments,
  TextDocumentSyncKind,
  WatchKind,
} from "vscode-languageserver/node";
