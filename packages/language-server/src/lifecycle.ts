/**
 * The LSP lifecycle as the specification (3.17, "Server lifecycle") asks of the server, whatever
 * the client: a request before `initialize` is answered with `ServerNotInitialized` (-32002) and a
 * notification before it is dropped (except `exit`); `initialize` is answered once, a second one
 * is an `InvalidRequest` (-32600); after `shutdown` every request (a second `shutdown` too) is an
 * `InvalidRequest`. `vscode-languageserver` passes all of them to the handlers as they come. An
 * `initialize` without `capabilities` counts as one announcing none.
 *
 * A text synchronisation notification without what the open documents need (`params.ts`'s
 * `textSyncProblem`: a `didOpen` whose text is no string, a `didChange` with a range that is no
 * range) cannot be answered with an error: it is dropped whole and logged, instead of being taken in part.
 *
 * A client that never sends `initialized` (or sends it late: old and minimal clients send requests
 * right after the `initialize` answer) still gets its index: the first request after `initialize`
 * (any but `shutdown`), or the first `textDocument/didOpen` or `workspace/didChangeWorkspaceFolders`, is preceded by the `initialized` the
 * client has not sent, handed on to the handlers once; the client's own `initialized`, when it
 * comes after that, is dropped, so the start-up (settings, watchers, the initial index) runs once.
 * A client that sends `initialized` first, as the protocol asks, sees no difference.
 *
 * It is a message strategy of the JSON-RPC connection ({@link lifecycleStrategy}, given to
 * `createConnection` by `main.ts`), so it sees every message before any handler does; a request it
 * refuses is handed on under {@link LIFECYCLE_ERROR_METHOD}, whose handler ({@link registerLifecycle},
 * registered by `createServer`) answers it with the error under the request's own id.
 */
import type { Connection, Message, MessageStrategy, NotificationMessage, RequestMessage } from "vscode-languageserver/node";
import { DidChangeWorkspaceFoldersNotification, DidOpenTextDocumentNotification, ErrorCodes, ExitNotification, InitializedNotification, InitializeRequest, ResponseError, ShutdownRequest } from "./lsp.js";
import { textSyncProblem } from "./params.js";
import { isProcessId } from "./parent-process.js";

/** The internal method a refused request is handed on under (never sent by a client that follows the protocol). */
export const LIFECYCLE_ERROR_METHOD = "$/stellarSecrets/lifecycleError";

/** The internal notification a malformed text synchronisation notification is handed on as, to be logged ({@link registerLifecycle}). */
export const MALFORMED_NOTIFICATION_METHOD = "$/stellarSecrets/malformedNotification";

/** The notifications that, sent before `initialized`, start the server as `initialized` would. */
const STARTING_NOTIFICATIONS: ReadonlySet<string> = new Set([DidOpenTextDocumentNotification.method, DidChangeWorkspaceFoldersNotification.method]);

/** The parameters of a refused request: the error to answer with. */
interface LifecycleError {
  code: number;
  message: string;
}

function isRequest(m: Message): m is RequestMessage {
  const r = m as RequestMessage;
  return typeof r.method === "string" && (typeof r.id === "number" || typeof r.id === "string");
}

function isNotification(m: Message): m is NotificationMessage {
  const n = m as RequestMessage;
  return typeof n.method === "string" && n.id === undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * The parameters of `initialize` as the handlers can take them: a client that sends none, or no
 * `capabilities` (required, but a hand-written client forgets them), is a client that announces
 * nothing, instead of an initialize that fails inside `vscode-languageserver`.
 */
function initializeParams(params: unknown): Record<string, unknown> {
  const p = isObject(params) ? params : { processId: null, rootUri: null };
  return isObject(p.capabilities) ? p : { ...p, capabilities: {} };
}

/** Options of {@link lifecycleStrategy}. */
export interface LifecycleOptions {
  /**
   * Given: a numeric `processId` of `initialize` is taken out of it (the handlers, and
   * `vscode-languageserver`'s own watch of it, see `null`) and, when it names a process (a positive
   * integer), passed here before the request is handed on; `main.ts` watches the client's process
   * itself (`parent-process.ts`: EPERM is a live process, which the library's watch takes for a
   * dead one). Not given: `processId` is handed on as it came.
   */
  onClientProcessId?: (pid: number) => void;
}

/** The lifecycle's message strategy, and what it saw. */
export interface LifecycleStrategy extends MessageStrategy {
  /** True once `shutdown` was received (the exit status is then 0 when the client's process dies). */
  readonly shutdownReceived: boolean;
}

/**
 * A message strategy that enforces the lifecycle (see the module comment). One per connection: it
 * keeps that connection's state (initialize received, started, shut down).
 */
export function lifecycleStrategy(options: LifecycleOptions = {}): LifecycleStrategy {
  let initialized = false; // `initialize` received
  let started = false; // `initialized` handed on (the client's, or the one a request came without)
  let shutDown = false;
  const refuse = (request: RequestMessage, error: LifecycleError): RequestMessage => ({ jsonrpc: request.jsonrpc, id: request.id, method: LIFECYCLE_ERROR_METHOD, params: error });
  // hands on the `initialized` a client has not sent (before the message that needs it)
  const start = (message: Message, next: (message: Message) => void): void => {
    started = true;
    const notification: NotificationMessage = { jsonrpc: message.jsonrpc, method: InitializedNotification.method, params: {} };
    next(notification);
  };
  return {
    get shutdownReceived(): boolean {
      return shutDown;
    },
    handleMessage(message: Message, next: (message: Message) => void): void {
      if (isRequest(message)) {
        if (shutDown) {
          return next(refuse(message, { code: ErrorCodes.InvalidRequest, message: `${message.method} after shutdown: the server is shutting down; send exit` }));
        }
        if (message.method === InitializeRequest.method) {
          if (initialized) return next(refuse(message, { code: ErrorCodes.InvalidRequest, message: "initialize was already received: it may be sent only once" }));
          initialized = true;
          let params = initializeParams(message.params);
          if (options.onClientProcessId !== undefined && typeof params.processId === "number") {
            // 0, a negative number or a fraction names no one process: not watched at all
            if (isProcessId(params.processId)) options.onClientProcessId(params.processId);
            params = { ...params, processId: null };
          }
          const request: RequestMessage = { ...message, params };
          return next(request);
        }
        if (!initialized) {
          return next(refuse(message, { code: ErrorCodes.ServerNotInitialized, message: `${message.method} before initialize: send initialize first` }));
        }
        if (message.method === ShutdownRequest.method) shutDown = true;
        // a request before `initialized`: the start-up first (its handler runs synchronously and
        // sets what the request's handler then waits for), then the request
        else if (!started) start(message, next);
        return next(message);
      }
      // before initialize, notifications are dropped, except exit
      if (isNotification(message) && !initialized && message.method !== ExitNotification.method) return;
      if (isNotification(message) && message.method === InitializedNotification.method) {
        if (started) return; // started already, by a request or didOpen that came before it
        started = true;
        return next(message);
      }
      // a didOpen, didChange, didClose or didSave without what the open documents need: dropped whole, and logged
      const problem = isNotification(message) ? textSyncProblem(message.method, message.params) : undefined;
      if (problem !== undefined) {
        const note: NotificationMessage = { jsonrpc: message.jsonrpc, method: MALFORMED_NOTIFICATION_METHOD, params: { method: (message as NotificationMessage).method, problem } };
        return next(note);
      }
      // a didChange without a version (or null; a hand-written client's): taken, as the server uses no
      // version; before, vscode-languageserver's documents threw on it, the change was lost, and the
      // client's next incremental change landed on a text without it
      if (isNotification(message) && message.method === "textDocument/didChange") {
        const doc = (message.params as { textDocument: { version?: unknown } }).textDocument;
        if (doc.version === undefined || doc.version === null) return next({ ...message, params: { ...(message.params as object), textDocument: { ...doc, version: 0 } } } as NotificationMessage);
      }
      // a didOpen or a workspace folder change before `initialized`: the start-up first (its listener of
      // folder changes is set up by it; other notifications do not need the index)
      if (!started && !shutDown && isNotification(message) && STARTING_NOTIFICATIONS.has(message.method)) start(message, next);
      return next(message);
    },
  };
}

/** Registers the handler that answers the requests {@link lifecycleStrategy} refused with their error, and the one that logs the notifications it dropped. */
export function registerLifecycle(connection: Connection): void {
  connection.onNotification(MALFORMED_NOTIFICATION_METHOD, (params: unknown) => {
    const p = params as { method?: unknown; problem?: unknown } | null;
    if (p === null || typeof p !== "object" || typeof p.method !== "string" || typeof p.problem !== "string") return;
    try {
      connection.console.error(`[stellar-secrets] ${p.method} without ${p.problem}: ignored (the open documents are as they were)`);
    } catch {
      // the connection is gone
    }
  });
  connection.onRequest(LIFECYCLE_ERROR_METHOD, (params: unknown) => {
    const e = params as Partial<LifecycleError> | null;
    if (e !== null && typeof e === "object" && typeof e.code === "number" && typeof e.message === "string") throw new ResponseError(e.code, e.message);
    throw new ResponseError(ErrorCodes.MethodNotFound, `Unhandled method ${LIFECYCLE_ERROR_METHOD}`);
  });
}
