/**
 * Test support (not part of the package build): the server's handlers on an in-memory
 * connection (two `PassThrough` streams, no child process), a client on the other end, and a
 * small secrets repository in a temp folder with TEST-ONLY age keys generated at test time.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PassThrough } from "node:stream";
import { pathToFileURL } from "node:url";
import { encryptSecrets, generateIdentity } from "@stellar-secrets/sops";
import { afterAll } from "vitest";
import {
  ApplyWorkspaceEditRequest,
  ConfigurationRequest,
  createConnection,
  createProtocolConnection,
  DiagnosticRefreshRequest,
  DidChangeTextDocumentNotification,
  DidCloseTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ErrorCodes,
  InitializedNotification,
  InitializeRequest,
  PublishDiagnosticsNotification,
  RegistrationRequest,
  ResponseError,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  type ApplyWorkspaceEditParams,
  type ClientCapabilities,
  type InitializeParams,
  type Diagnostic,
  type Message,
  type MessageWriter,
  type ProtocolConnection,
  type Registration,
  type ServerCapabilities,
} from "vscode-languageserver/node";
import { createCoreModel } from "../core-model.js";
import { lifecycleStrategy } from "../lifecycle.js";
import { createServer, type Server } from "../server.js";
import type { ServerState } from "../state.js";
import type { ModelFactory } from "../workspace.js";

/** Options of {@link startInMemory}. */
export interface InMemoryOptions {
  folders: string[];
  /** Announce pull diagnostics. */
  pull?: boolean;
  /** Announce dynamic registration of file watchers (default true). */
  watch?: boolean;
  /** What `workspace/configuration` answers for every item. */
  settings?: Record<string, unknown>;
  initializationOptions?: Record<string, unknown>;
  modelFactory?: ModelFactory;
  /** The client's capabilities (default: configuration, workspace folders, watchers, diagnostic refresh, code action literals: as VS Code announces them). */
  capabilities?: ClientCapabilities;
  /** How the client answers the server's `client/registerCapability` and `workspace/configuration`: as asked (default), with an error, or never. */
  clientAnswers?: "answer" | "refuse" | "never" | "late";
  /** With `clientAnswers: "late"`: how long the client waits before it answers (ms). */
  lateAnswerMs?: number;
  /** The server's {@link ServerOptions.clientAnswerTimeoutMs}. */
  clientAnswerTimeoutMs?: number;
  /**
   * The server's {@link ServerOptions.workspacePullWaitMs}; with `startInMemory`, default: longer than
   * any test (the pull tests of other concerns send no `workspace/diagnostic` and expect nothing pushed).
   */
  workspacePullWaitMs?: number;
  /** Replaces fields of the `initialize` parameters (e.g. `rootUri`, `rootPath`, `workspaceFolders`). */
  initializeParams?: Partial<InitializeParams>;
  /** The server's {@link ServerOptions.buildTag} (default none: no on-disk model cache). */
  buildTag?: string;
  /** The server's {@link ServerOptions.indexCacheDir}. */
  indexCacheDir?: string;
  /** The server's {@link ServerOptions.sliceMs}. */
  sliceMs?: number;
}

/** A server and its client, connected in memory. */
export class InMemoryServer {
  readonly published = new Map<string, Diagnostic[]>();
  /** Every publishDiagnostics received, in order (its URI and how many diagnostics it had). */
  readonly publishedLog: { uri: string; count: number }[] = [];
  readonly notifications: { method: string; params: unknown }[] = [];
  readonly registrations: Registration[] = [];
  /** The method of every request the server sent to the client, in order. */
  readonly requests: string[] = [];
  readonly logs: string[] = [];
  /** The edits the server asked the client to apply (`workspace/applyEdit`), in order; each is applied (answered `applied: true`). */
  readonly appliedEdits: ApplyWorkspaceEditParams[] = [];
  refreshes = 0;
  capabilities: ServerCapabilities = {};
  private versions = new Map<string, number>();

  readonly state: ServerState;

  constructor(
    readonly client: ProtocolConnection,
    private readonly server: Server,
    private readonly streams: PassThrough[],
  ) {
    this.state = server.state;
  }

  /** Waits until `fn` returns a truthy value (polling), or fails after `ms`. */
  async waitFor<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 10_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; server log:\n${this.logs.join("\n")}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Waits for published diagnostics of `uri` matching `pred`. */
  waitForDiagnostics(uri: string, pred: (d: Diagnostic[]) => boolean): Promise<Diagnostic[]> {
    return this.waitFor(() => {
      const d = this.published.get(uri);
      return d !== undefined && pred(d) ? d : undefined;
    }, `diagnostics of ${uri}`);
  }

  async open(uri: string, text: string): Promise<void> {
    this.versions.set(uri, 1);
    await this.client.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: "yaml", version: 1, text } });
  }

  async change(uri: string, text: string): Promise<void> {
    const v = (this.versions.get(uri) ?? 0) + 1;
    this.versions.set(uri, v);
    await this.client.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: v }, contentChanges: [{ text }] });
  }

  async close(uri: string): Promise<void> {
    await this.client.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } });
  }

  /** Shuts the server down (no `exit`: that would end the test process), lets answers in flight arrive, then disposes both ends. */
  async dispose(): Promise<void> {
    await this.client.sendRequest(ShutdownRequest.type).catch(() => {}); // a test may have shut it down already
    await new Promise((r) => setTimeout(r, 20));
    this.server.dispose();
    this.client.dispose();
    this.state.connection.dispose();
    for (const s of this.streams) s.destroy();
  }
}

/**
 * The server's end of the in-memory pipe: a message the server still sends while a test tears the
 * pipe down (a late diagnostic, a log line) is dropped, as bytes written to a closed socket would be,
 * instead of failing: vscode-jsonrpc logs a failed write through the same, already disposed,
 * connection, which then throws from a promise no one awaits (an unhandled rejection in the run).
 */
class ClosableWriter implements MessageWriter {
  constructor(private readonly inner: StreamMessageWriter) {}
  get onError(): MessageWriter["onError"] {
    return this.inner.onError;
  }
  get onClose(): MessageWriter["onClose"] {
    return this.inner.onClose;
  }
  async write(msg: Message): Promise<void> {
    try {
      await this.inner.write(msg);
    } catch {
      // the test ended the pipe: nothing reads it any more
    }
  }
  end(): void {
    this.inner.end();
  }
  dispose(): void {
    this.inner.dispose();
  }
}

/** Registers the server on an in-memory connection (with the lifecycle strategy, as `main.ts` creates it) and a client on the other end; nothing is sent yet. */
export function connectInMemory(
  options: Pick<InMemoryOptions, "settings" | "modelFactory" | "clientAnswers" | "clientAnswerTimeoutMs" | "lateAnswerMs" | "workspacePullWaitMs" | "buildTag" | "indexCacheDir" | "sliceMs"> = {},
): InMemoryServer {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const connection = createConnection(new StreamMessageReader(toServer), new ClosableWriter(new StreamMessageWriter(toClient)), { messageStrategy: lifecycleStrategy() });
  const created = createServer(connection, {
    modelFactory: options.modelFactory ?? createCoreModel,
    clientAnswerTimeoutMs: options.clientAnswerTimeoutMs,
    workspacePullWaitMs: options.workspacePullWaitMs,
    buildTag: options.buildTag,
    indexCacheDir: options.indexCacheDir,
    sliceMs: options.sliceMs,
  });
  const { state } = created;
  state.documents.listen(connection);
  connection.listen();
  const client = createProtocolConnection(new StreamMessageReader(toClient), new StreamMessageWriter(toServer));
  const server = new InMemoryServer(client, created, [toServer, toClient]);
  client.onNotification(PublishDiagnosticsNotification.type, (p) => {
    server.published.set(p.uri, p.diagnostics);
    server.publishedLog.push({ uri: p.uri, count: p.diagnostics.length });
  });
  client.onUnhandledNotification(({ method, params }) => {
    if (method === "window/logMessage") server.logs.push((params as { message: string }).message);
    else server.notifications.push({ method, params });
  });
  // a client that refuses or never answers (the answer never comes: a promise that never settles)
  const answer = <T>(value: () => T): T | Promise<T> =>
    options.clientAnswers === "refuse"
      ? Promise.reject(new ResponseError(ErrorCodes.MethodNotFound, "refused by the test client"))
      : options.clientAnswers === "never"
        ? new Promise<T>(() => {})
        : options.clientAnswers === "late"
          ? new Promise<T>((resolve) => setTimeout(() => resolve(value()), options.lateAnswerMs ?? 200))
          : value();
  client.onRequest(ConfigurationRequest.type, (p) => {
    server.requests.push(ConfigurationRequest.method);
    return answer(() => p.items.map(() => options.settings ?? {}));
  });
  client.onRequest(RegistrationRequest.type, (p) => {
    server.requests.push(RegistrationRequest.method);
    return answer(() => {
      server.registrations.push(...p.registrations);
    });
  });
  client.onRequest(DiagnosticRefreshRequest.type, () => {
    server.requests.push(DiagnosticRefreshRequest.method);
    server.refreshes++;
  });
  client.onRequest(ApplyWorkspaceEditRequest.type, (p) => {
    server.requests.push(ApplyWorkspaceEditRequest.method);
    server.appliedEdits.push(p);
    return { applied: true };
  });
  client.onRequest((method) => {
    server.requests.push(method);
    return null;
  });
  client.listen();
  return server;
}

/** Registers the server on an in-memory connection, runs initialize/initialized and waits for the initial index. */
export async function startInMemory(options: InMemoryOptions): Promise<InMemoryServer> {
  const server = connectInMemory({ ...options, workspacePullWaitMs: options.workspacePullWaitMs ?? 600_000 });
  const { client, state } = server;
  const capabilities: ClientCapabilities = options.capabilities ?? {
    workspace: {
      configuration: true,
      workspaceFolders: true,
      didChangeWatchedFiles: { dynamicRegistration: options.watch ?? true },
      diagnostics: { refreshSupport: true },
    },
    textDocument: { codeAction: { codeActionLiteralSupport: { codeActionKind: { valueSet: ["quickfix"] } } } },
  };
  if (options.pull) (capabilities.textDocument ??= {}).diagnostic = { dynamicRegistration: false };
  const init = await client.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri: null,
    capabilities,
    // as the VS Code extension sends it, unless a test says otherwise
    initializationOptions: options.initializationOptions ?? { clientCommands: true, indexChanged: true },
    workspaceFolders: options.folders.map((f, i) => ({ uri: pathToFileURL(f).href, name: `folder${i}` })),
    ...options.initializeParams,
  });
  server.capabilities = init.capabilities;
  await client.sendNotification(InitializedNotification.type, {});
  await server.waitFor(() => server.logs.some((l) => l.includes("indexed")), "the initial index");
  await state.ready;
  return server;
}

/** A temp secrets repository. */
export interface TempProject {
  dir: string;
  /** TEST-ONLY age identity of the member `alice` (every environment), made at test time. */
  identity: string;
  path(rel: string): string;
  uri(rel: string): string;
  read(rel: string): string;
  write(rel: string, text: string): void;
  remove(): void;
}

/** Folders made by {@link makeTempProject} and not yet removed. */
const liveProjects = new Set<string>();
// The net under `project.remove()`: a test that never reached it (a server's `dispose` that threw
// first, a timeout) leaves its folder to this hook, which runs after the importing test file
// (each test file evaluates this module afresh).
afterAll(() => {
  for (const dir of liveProjects) rmSync(dir, { recursive: true, force: true });
  liveProjects.clear();
});

/**
 * Creates a secrets repository: stellar.yaml with `environments`, one SOPS file per environment (values encrypted to a TEST-ONLY key made now), and `files`.
 * The caller removes it (`remove()`); one it did not is removed after the test file's tests.
 */
export async function makeTempProject(secrets: Record<string, Record<string, string>>, files: Record<string, string> = {}): Promise<TempProject> {
  const dir = mkdtempSync(join(tmpdir(), "stellar-ls-unit-"));
  liveProjects.add(dir);
  const key = await generateIdentity(); // TEST-ONLY
  const lines = ["version: 1", "environments:"];
  for (const e of Object.keys(secrets)) lines.push(`  ${e}:`, "    members:", `      alice: ${key.recipient}`);
  const write = (rel: string, text: string): void => {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  };
  write("stellar.yaml", lines.join("\n") + "\n");
  for (const [e, values] of Object.entries(secrets)) write(`secrets/${e}.enc.yaml`, await encryptSecrets(new Map(Object.entries(values)), { recipients: [key.recipient] }));
  for (const [rel, text] of Object.entries(files)) write(rel, text);
  return {
    dir,
    identity: key.identity,
    path: (rel) => join(dir, rel),
    uri: (rel) => pathToFileURL(join(dir, rel)).href,
    read: (rel) => readFileSync(join(dir, rel), "utf8"),
    write,
    remove: () => {
      rmSync(dir, { recursive: true, force: true });
      liveProjects.delete(dir);
    },
  };
}

/** The LSP range of the first occurrence of `needle` in `text` (after `after`, when given), counted independently of the server. */
export function rangeOf(text: string, needle: string, after?: string): { start: { line: number; character: number }; end: { line: number; character: number } } {
  const from = after === undefined ? 0 : text.indexOf(after);
  const i = text.indexOf(needle, from);
  if (from === -1 || i === -1) throw new Error(`"${needle}" not in the text`);
  const at = (o: number) => {
    const before = text.slice(0, o);
    return { line: before.split("\n").length - 1, character: o - (before.lastIndexOf("\n") + 1) };
  };
  return { start: at(i), end: at(i + needle.length) };
}

export { commitAll } from "./git.js";
