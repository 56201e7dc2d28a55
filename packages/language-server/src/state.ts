/**
 * The language server's shared state: the LSP connection (injected, so tests pass an in-memory
 * one), the open documents, the {@link Workspace} index, what the client announced, and the
 * one "the index changed" event every concern reports to. Each concern (diagnostics, buffers,
 * watched files, settings, features, custom requests) is a module that receives this object.
 */
import type { CancellationToken, ClientCapabilities, Connection, Disposable, WorkspaceFolder } from "vscode-languageserver/node";
import { LSPErrorCodes, ResponseError, TextDocuments } from "./lsp.js";
import { TextDocument } from "vscode-languageserver-textdocument";
import { pathToUri, uriToPath } from "./uris.js";
import { pathUnderRoots, Workspace, type ModelFactory } from "./workspace.js";

/** Called after an index change: `paths` whose diagnostics may have changed, `roots` of the projects whose names or references may have changed. */
export type IndexChangeListener = (paths: Iterable<string>, roots: string[]) => void;

/** How long the server waits for the client's answer to one of its requests before it goes on without it (ServerState.clientAnswer). */
// long enough for a busy editor starting up (a configuration answer that comes later is still applied),
// short enough that a client that announced a capability and never answers does not hold the index forever
export const CLIENT_ANSWER_TIMEOUT_MS = 20_000;

/** The state every part of the server shares. */
export class ServerState {
  readonly documents = new TextDocuments(TextDocument);
  readonly workspace: Workspace;
  /** What the client announced in `initialize` (empty until then). */
  capabilities: ClientCapabilities = {};
  /** The workspace folders, as `initialize` and later folder changes gave them. */
  folders: WorkspaceFolder[] = [];
  /**
   * True when the client runs the Stellar Secrets commands itself (`initializationOptions.clientCommands`,
   * which the VS Code extension sends): only then do completions and code actions carry them.
   */
  clientCommands = false;
  /** True when the client asked for `stellarSecrets/indexChanged` (`initializationOptions.indexChanged`). */
  indexChangedNotifications = false;
  /** Settles when the initial index is built; handlers wait for it. */
  ready: Promise<void> = Promise.resolve();
  /**
   * Settles when the initial index's first check has run and its diagnostics were reported (after
   * {@link ready}): the diagnostic pulls wait for it, so the result ids they hand out are not
   * replaced a moment later by that report.
   */
  checked: Promise<void> = Promise.resolve();
  /**
   * Runs before a request about a document (`textDocument.uri` in its parameters) is answered,
   * once the index is ready: the buffers index a large buffer still waiting for a pause in typing,
   * and return the load of the document's project when one is under way (the request waits for it).
   */
  beforeRequest: (uri: string | undefined) => Promise<unknown> | undefined = () => undefined;
  private readonly listeners: IndexChangeListener[] = [];
  /** How long {@link clientAnswer} waits for the client's answer to a request of the server. */
  clientAnswerTimeoutMs = CLIENT_ANSWER_TIMEOUT_MS;
  /** The URI each open document was opened with, by path (a client may spell a file's URI otherwise than `pathToUri`). */
  private readonly openUris = new Map<string, string>();

  constructor(
    readonly connection: Connection,
    modelFactory: ModelFactory,
  ) {
    this.workspace = new Workspace(modelFactory);
  }

  /**
   * True when the client pulls diagnostics (`textDocument/diagnostic`) instead of receiving them:
   * when it announces pull diagnostics and can be asked to pull again
   * (`workspace.diagnostics.refreshSupport`). A file's diagnostics change when another file does
   * (an unknown secret becomes known, a secret becomes unused): a client that pulls only when its
   * own buffer changes would keep stale ones, and those that announce pulls without a refresh
   * (Neovim up to 0.11) never pull a workspace's other files either. Such clients get them pushed.
   */
  get pull(): boolean {
    return this.capabilities.textDocument?.diagnostic !== undefined && this.capabilities.workspace?.diagnostics?.refreshSupport === true;
  }

  /** The absolute paths of the `file:` workspace folders, in order. */
  folderPaths(): string[] {
    return this.folders.map((f) => uriToPath(f.uri)).filter((p): p is string => p !== undefined);
  }

  /**
   * The path of the file a document's URI names, as the server knows it: the URI's path, or the same
   * file under a workspace folder or a project's root when the URI reaches it another way (a symbolic
   * link, another case of a case-insensitive file system: `pathUnderRoots`); undefined for other
   * schemes. Every URI the client sends about a document goes through it.
   */
  pathOf(uri: string): string | undefined {
    const path = uriToPath(uri);
    return path === undefined ? undefined : pathUnderRoots(path, [...this.folderPaths(), ...this.workspace.all().map((m) => m.root)]);
  }

  /** Records the URI the client opened `path` with (undefined: the document was closed). */
  setOpenUri(path: string, uri: string | undefined): void {
    if (uri === undefined) this.openUris.delete(path);
    else this.openUris.set(path, uri);
  }

  /**
   * The URI to name `path` with to the client: the one its open document has (the client may match
   * URIs as strings, and clients percent-encode differently), else `pathToUri`'s.
   */
  uriOf(path: string): string {
    return this.openUris.get(path) ?? pathToUri(path);
  }

  /**
   * Waits for the client's answer to a request the server sent (`client/registerCapability`,
   * `workspace/configuration`) for at most {@link clientAnswerTimeoutMs}: undefined when the client
   * answered with an error (logged) or not in time (logged; the answer is ignored when it comes).
   * A client that refuses, or never answers, what it announced must not keep the index from being built.
   */
  async clientAnswer<T>(request: Promise<T>, what: string): Promise<T | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => {
        this.log(`${what}: no answer from the client after ${this.clientAnswerTimeoutMs} ms; going on without it`);
        resolve(undefined);
      }, this.clientAnswerTimeoutMs);
    });
    try {
      return await Promise.race([request, late]);
    } catch (e) {
      this.log(`${what}: the client answered with an error (${(e as Error).message}); going on without it`);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  /** True once the client sent `shutdown`: work under way stops at its next step, and none is started. */
  shuttingDown = false;
  private readonly shutdownListeners: (() => void)[] = [];

  /**
   * Adds a listener of `shutdown` (the connection has one handler of it: the server's, which calls
   * {@link shutdown}); listeners run in the order they were added.
   */
  onShutdown(listener: () => void): void {
    this.shutdownListeners.push(listener);
  }

  /** `shutdown` was received: notes it and tells every listener (each failure is logged, the others still run). */
  shutdown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const l of this.shutdownListeners) {
      try {
        l();
      } catch (e) {
        this.logFailure("shutdown", e);
      }
    }
  }

  /** Adds a listener of {@link indexChanged}; listeners run in the order they were added. */
  onIndexChanged(listener: IndexChangeListener): void {
    this.listeners.push(listener);
  }

  /** Reports an index change to every listener (diagnostics first, then the client notification). */
  indexChanged(paths: Iterable<string>, roots: string[]): void {
    const list = [...paths];
    for (const l of this.listeners) l(list, roots);
  }

  /** Logs to the client's output. */
  log(message: string): void {
    try {
      this.connection.console.log(`[stellar-secrets] ${message}`);
    } catch {
      // the connection is gone (the client ended it while work was still under way): no one to tell
    }
  }

  /** Logs a failure of `what` to the client's output (the server keeps answering). */
  logFailure(what: string, e: unknown): void {
    try {
      this.connection.console.error(`[stellar-secrets] ${what} failed: ${(e as Error).stack ?? String(e)}`);
    } catch {
      // the connection is gone: no one to tell
    }
  }

  /**
   * Waits for the initial index ({@link ready}); throws RequestCancelled (-32800) when `token` is
   * cancelled first. Once the index is ready it returns at once, cancelled or not (the request is
   * answered with its result, as it costs no more than the error).
   */
  private untilReady(what: string, token: CancellationToken | undefined): Promise<void> {
    return this.until(this.ready, "while the initial index was being built", what, token);
  }

  /**
   * Waits for the initial index's first check and its diagnostics ({@link checked}); throws
   * RequestCancelled (-32800) when `token` is cancelled first (a pull of a document's diagnostics,
   * in a workspace whose check takes seconds: the client cancels it when the document changes).
   */
  untilChecked(what: string, token: CancellationToken | undefined): Promise<void> {
    return this.until(this.checked, "while the workspace was being checked", what, token);
  }

  /** Waits for `done`, or throws RequestCancelled when `token` is cancelled first; once `done` has settled it returns at once, cancelled or not. */
  private async until(done: Promise<void>, during: string, what: string, token: CancellationToken | undefined): Promise<void> {
    if (token === undefined) return done;
    let listener: Disposable | undefined;
    const cancelled = new Promise<"cancelled">((resolve) => {
      // cancelled before its handler ran: vscode-jsonrpc then hands it a token whose event never fires
      // (the index, when it is ready already, still wins: its `then` comes before the next turn)
      if (token.isCancellationRequested) setImmediate(() => resolve("cancelled"));
      else listener = token.onCancellationRequested(() => resolve("cancelled"));
    });
    try {
      const first = await Promise.race([done.then(() => "ready" as const), cancelled]);
      if (first === "cancelled") throw new ResponseError(LSPErrorCodes.RequestCancelled, `${what}: cancelled by the client ${during}`);
    } finally {
      listener?.dispose();
    }
  }

  /**
   * Wraps a handler: waits for the initial index, and turns a failure into a log line and
   * `fallback` (a {@link ResponseError} is passed on to the client as it is).
   */
  guard<A extends unknown[], R>(name: string, fallback: R, fn: (...a: A) => R | Promise<R>): (...a: A) => Promise<R> {
    return async (...a: A): Promise<R> => {
      try {
        // edits are already in the index (staged); only the full check may be pending. A request the
        // client cancels while it waits for the initial index is answered at once (RequestCancelled):
        // a client typing while a large workspace loads cancels every stale completion and hover
        await this.untilReady(name, isCancellationToken(a[1]) ? a[1] : undefined);
        const uri = (a[0] as { textDocument?: { uri?: unknown } } | undefined)?.textDocument?.uri;
        // a large buffer waiting for a pause in typing: indexed now; a project loading for the document: waited for
        // (and every edit sent before it, not yet indexed: buffers.ts)
        const before = this.beforeRequest(typeof uri === "string" ? uri : undefined);
        if (before !== undefined) await before;
        return await fn(...a);
      } catch (e) {
        if (e instanceof ResponseError) throw e;
        this.logFailure(name, e);
        return fallback;
      }
    };
  }
}

/** True when `v` is a request's cancellation token (the second argument of a request handler). */
function isCancellationToken(v: unknown): v is CancellationToken {
  const t = v as CancellationToken | null | undefined;
  return t !== null && typeof t === "object" && typeof t.isCancellationRequested === "boolean" && typeof t.onCancellationRequested === "function";
}
