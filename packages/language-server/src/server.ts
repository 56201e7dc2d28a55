/**
 * The Stellar Secrets language server: wires the concerns to one LSP connection. Each lives in
 * its own module over the shared {@link ServerState}: `diagnostics.ts` (push and pull),
 * `buffers.ts` (open documents), `watched-files.ts` (disk changes), `projects.ts` (finding and
 * reloading projects), `settings.ts`, `language-features.ts` (completion, hover, navigation,
 * code actions, rename refusal), `requests.ts` (the custom requests of `protocol.ts`),
 * `value-history.ts` (the git history `rotation-overdue` needs) and `committed-versions.ts` (the
 * committed environment files `stale-mac` compares with), both read in the background (`git-reads.ts`).
 */
import { VERSION } from "@stellar-secrets/core";
import type { Connection, InitializeResult } from "vscode-languageserver/node";
import { PositionEncodingKind, TextDocumentSyncKind } from "./lsp.js";
import { Buffers } from "./buffers.js";
import { CommittedVersions } from "./committed-versions.js";
import { DiagnosticsPublisher, WORKSPACE_PULL_WAIT_MS, type PUBLISH_SLICE_MS } from "./diagnostics.js";
import { IndexCache } from "./index-cache.js";
import { keepLastGood } from "./last-good.js";
import { registerLifecycle } from "./lifecycle.js";
import { featureCapabilities, registerLanguageFeatures } from "./language-features.js";
import { initialFolders, ProjectLoader, type CHECK_SLICE_MS } from "./projects.js";
import { notifyIndexChanged, registerCustomRequests } from "./requests.js";
import { registerSettings, SettingsStore } from "./settings.js";
import { CLIENT_ANSWER_TIMEOUT_MS, ServerState } from "./state.js";
import { ValueHistories } from "./value-history.js";
import { WatchedFiles } from "./watched-files.js";
import type { ModelFactory } from "./workspace.js";

export type { Settings } from "./settings.js";
export { CLIENT_ANSWER_TIMEOUT_MS } from "./state.js";
export { WORKSPACE_PULL_WAIT_MS } from "./diagnostics.js";

/** Options of {@link startServer}. */
export interface ServerOptions {
  /** Builds a project's index; defaults to core's. */
  modelFactory: ModelFactory;
  /** Called once the initial index is built (or failed), after `initialized` (or the first request or didOpen of a client that did not send it: `lifecycle.ts`): the bin then keeps its V8 code cache. */
  afterInitialIndex?: () => void;
  /**
   * The code's build tag (the bundle's last line, `// stellar-secrets build 0123abcd`): with one,
   * the server keeps config files' models between runs in an on-disk cache (index-cache.ts); without
   * one (the tsc output, tests) it parses every file at every start.
   */
  buildTag?: string | undefined;
  /** The cache's folder when the client gives none (default: the user's cache folder, index-cache.ts); for tests. */
  indexCacheDir?: string | undefined;
  /** How long to wait for the client's answer to one of the server's requests before going on without it; default {@link CLIENT_ANSWER_TIMEOUT_MS}. */
  clientAnswerTimeoutMs?: number | undefined;
  /** How long a client that pulls diagnostics has to send `workspace/diagnostic` before the diagnostics of the files it has not pulled are pushed; default {@link WORKSPACE_PULL_WAIT_MS}. */
  workspacePullWaitMs?: number | undefined;
  /**
   * How long the check after a load, and the sending of many files' diagnostics, run before they let
   * the messages that came meanwhile be handled (ms); default {@link CHECK_SLICE_MS} and
   * {@link PUBLISH_SLICE_MS}. For tests (0: one project, one file, at a time).
   */
  sliceMs?: number | undefined;
}

/** A server whose handlers are registered on a connection. */
export interface Server {
  readonly state: ServerState;
  /** Cancels the server's timers (debounced checks, reloads and history reads); the connection is the caller's. */
  dispose(): void;
}

/**
 * Registers every handler on `connection` (already created for stdio, IPC, a socket or in-memory
 * streams) without listening yet. Create the connection with `{ messageStrategy: lifecycleStrategy() }`
 * (`lifecycle.ts`, as `main.ts` does): the lifecycle errors the specification asks for (a request
 * before `initialize`, a second `initialize`, a request after `shutdown`) come from it.
 */
export function createServer(connection: Connection, options: ServerOptions): Server {
  // a broken stellar.yaml keeps the project's last good index (last-good.ts)
  const state = new ServerState(connection, keepLastGood(options.modelFactory));
  if (options.clientAnswerTimeoutMs !== undefined) state.clientAnswerTimeoutMs = options.clientAnswerTimeoutMs;
  const settings = new SettingsStore(state);
  const indexCache = new IndexCache({ build: options.buildTag, defaultDir: options.indexCacheDir, log: (m) => state.log(m) });
  indexCache.enabledFor = (root) => settings.for(root).indexCache;
  state.workspace.indexCache = indexCache;
  const diagnostics = new DiagnosticsPublisher(state, settings);
  // After every index change: the diagnostics first, then stellarSecrets/indexChanged.
  state.onIndexChanged((paths) => diagnostics.changed(paths));
  state.onIndexChanged((_paths, roots) => notifyIndexChanged(state, roots));
  // A project (re)loaded or whose rotate_every changed: read its git history in the background.
  const histories = new ValueHistories(state);
  state.onIndexChanged((_paths, roots) => histories.indexChanged(roots));
  // A project (re)loaded or whose environment files appeared or went: read their committed versions.
  const committed = new CommittedVersions(state);
  state.onIndexChanged((_paths, roots) => committed.indexChanged(roots));
  const projects = new ProjectLoader(state, settings, () => diagnostics.publishAll());
  if (options.sliceMs !== undefined) projects.checkSliceMs = diagnostics.sliceMs = options.sliceMs;
  const watchedFiles = new WatchedFiles(state, projects, (paths) => {
    histories.diskChanged(paths);
    committed.diskChanged(paths);
  });
  const buffers = new Buffers(state, diagnostics, projects);
  if (options.sliceMs !== undefined) watchedFiles.checkSliceMs = buffers.checkSliceMs = options.sliceMs;
  // a project found, reloaded or gone: the folders above the roots of projects in a subfolder of their repository are watched
  state.onIndexChanged((_paths, roots) => {
    if (roots.length > 0) void watchedFiles.watchAboveRoots();
    // (a client without file watchers: the folders the server watches itself follow the projects)
    if (roots.length > 0) watchedFiles.watchDiskItself();
  });

  connection.onInitialize((params): InitializeResult => {
    state.capabilities = params.capabilities ?? {};
    state.folders = initialFolders(params);
    settings.initialize(params.initializationOptions);
    const client = params.initializationOptions as { clientCommands?: unknown; indexChanged?: unknown; indexCacheDir?: unknown } | null | undefined;
    state.clientCommands = client?.clientCommands === true;
    // the folder the client keeps its own data in (VS Code: the extension's storage folder)
    indexCache.clientDir = typeof client?.indexCacheDir === "string" && client.indexCacheDir !== "" ? client.indexCacheDir : undefined;
    state.indexChangedNotifications = client?.indexChanged === true;
    const result: InitializeResult = {
      capabilities: {
        // every position and range counts UTF-16 code units (ranges.ts), whatever the client offers: said, not left implicit
        positionEncoding: PositionEncodingKind.UTF16,
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: false },
        ...featureCapabilities(state.capabilities),
        workspace: { workspaceFolders: { supported: true, changeNotifications: true } },
      },
      serverInfo: { name: "stellar-secrets-language-server", version: VERSION },
    };
    if (state.pull) result.capabilities.diagnosticProvider = { identifier: "stellar-secrets", interFileDependencies: true, workspaceDiagnostics: true };
    return result;
  });

  // the start-up, once: on `initialized`, or on the first request or didOpen of a client that did
  // not send it (the lifecycle strategy hands on an `initialized` for it, and drops a late one)
  connection.onInitialized(() => {
    // first, before anything is awaited: a folder change sent right after `initialized` is not lost
    projects.watchFolders();
    state.ready = (async () => {
      // both questions to the client at once (one round trip before the index, not two); the
      // watchers are still registered before anything is read; neither throws, and neither waits
      // for a client that does not answer for longer than clientAnswerTimeoutMs
      const registered = watchedFiles.registerWatchers();
      const fetched = settings.fetch();
      await registered;
      await fetched;
      await projects.loadAll();
      watchedFiles.watchDiskItself();
    })().catch((e: unknown) => state.logFailure("initial index", e));
    // the first check and its diagnostics follow the index (ProjectLoader.published)
    state.checked = state.ready.then(() => projects.published);
    // a client that pulls diagnostics and sends no workspace/diagnostic: the files it does not pull get them pushed
    void state.checked.then(() => diagnostics.watchWorkspacePull(options.workspacePullWaitMs ?? WORKSPACE_PULL_WAIT_MS));
    const after = options.afterInitialIndex;
    // after the first check and its diagnostics (the bin's code cache then holds the checker's code too)
    if (after !== undefined) void state.checked.then(() => after());
  });

  // `shutdown`: the work under way stops (the check after an index, between two projects), the
  // timers of debounced checks and background git reads are cancelled; the answer goes out at once
  connection.onShutdown(() => {
    state.shutdown();
    buffers.dispose();
    histories.dispose();
    committed.dispose();
    watchedFiles.dispose();
  });
  registerLifecycle(connection);
  registerSettings(state, settings, { reload: () => projects.loadAll(), republish: () => diagnostics.publishAll() });
  watchedFiles.register();
  registerCustomRequests(state, { filesChanged: (changes) => watchedFiles.filesChanged(changes) });
  buffers.register();
  diagnostics.register();
  registerLanguageFeatures(state);
  return {
    state,
    dispose: () => {
      buffers.dispose();
      histories.dispose();
      committed.dispose();
      diagnostics.dispose();
      indexCache.dispose();
    },
  };
}

/** Starts serving on `connection` (already created for stdio, IPC or a socket); returns the server (its `state.shutdown()` stops the work under way). */
export function startServer(connection: Connection, options: ServerOptions): Server {
  const server = createServer(connection, options);
  server.state.documents.listen(connection);
  connection.listen();
  return server;
}
