/**
 * The Stellar Secrets language server: wires the {@link Workspace} and the editor features to an
 * LSP connection. Publishes diagnostics to clients without pull support and answers
 * `textDocument/diagnostic` and `workspace/diagnostic` for clients with it.
 */
import {
  DidChangeWatchedFilesNotification,
  DocumentDiagnosticReportKind,
  ErrorCodes,
  FileChangeType,
  ResponseError,
  TextDocumentSyncKind,
  TextDocuments,
  WatchKind,
  type ClientCapabilities,
  type Connection,
  type Diagnostic as LspDiagnostic,
  type InitializeResult,
  type WorkspaceDocumentDiagnosticReport,
  type WorkspaceFolder,
} from "vscode-languageserver/node";
import { TextDocument } from "vscode-languageserver-textdocument";
import { catalogPath, LineIndex, removeCatalogEntry, secretsFilePath, validateSecretName, type Diagnostic } from "@stellar-secrets/core";
import { existsSync } from "node:fs";
import { basename, dirname } from "node:path";
import { codeActions, completion, definition, documentSymbols, hover, references, renameRefusal } from "./features.js";
import type { ProjectModel } from "./model.js";
import { toLspDiagnostic, toLspPosition, type EditorSeverity } from "./ranges.js";
import {
  CatalogRemovalRequest,
  FilesChangedNotification,
  IndexChangedNotification,
  ProjectsRequest,
  UsageRequest,
  ValidateNameRequest,
  type ProjectInfo,
} from "./protocol.js";
import { isUnder, pathToUri, toProjectPath, uriToPath } from "./uris.js";
import { MAX_FILE_BYTES, Workspace, type ModelFactory } from "./workspace.js";

/** Editor settings (`stellarSecrets.*`). */
export interface Settings {
  configPath: string;
  rules: Record<string, EditorSeverity | "off">;
}

const DEFAULT_SETTINGS: Settings = { configPath: "", rules: {} };
const EDITOR_SEVERITIES = new Set<string>(["error", "warning", "info", "hint"]);
/** Pause after the last edit before the full (cross-file) check. */
const FULL_CHECK_DELAY_MS = 20;

/** Options of {@link startServer}. */
export interface ServerOptions {
  /** Builds a project's index; defaults to core's. */
  modelFactory: ModelFactory;
}

/** Starts serving on `connection` (already created for stdio, IPC or a socket). */
export function startServer(connection: Connection, options: ServerOptions): void {
  const documents = new TextDocuments(TextDocument);
  const workspace = new Workspace(options.modelFactory);
  let capabilities: ClientCapabilities = {};
  let folders: WorkspaceFolder[] = [];
  let pull = false;
  let settings = new Map<string, Settings>(); // by folder path ("" = global)
  let ready: Promise<void> = Promise.resolve();
  /** Result ids of the diagnostics last sent, by path (pull mode) / paths last published (push mode). */
  const versions = new Map<string, number>();
  const published = new Set<string>();
  let changeCounter = 0;
  let waiters: (() => void)[] = [];

  const log = (msg: string): void => connection.console.log(`[stellar-secrets] ${msg}`);
  /** Projects with staged (not yet checked) edits: edits that arrive together are checked once. */
  const pending = new Set<ProjectModel>();
  const flushPending = (): void => {
    clearTimeout(fullCheckTimer);
    const models = [...pending];
    pending.clear();
    for (const m of models) {
      try {
        changed(m.flush(), [m.root]);
      } catch (e) {
        connection.console.error(`[stellar-secrets] check failed: ${(e as Error).stack ?? String(e)}`);
      }
    }
  };
  let fullCheckTimer: NodeJS.Timeout | undefined;
  /** The full check (cross-file effects) runs once typing pauses for FULL_CHECK_DELAY_MS. */
  const schedule = (model: ProjectModel): void => {
    pending.add(model);
    clearTimeout(fullCheckTimer);
    fullCheckTimer = setTimeout(flushPending, FULL_CHECK_DELAY_MS);
  };
  const safe = <A extends unknown[], R>(name: string, fallback: R, fn: (...a: A) => R | Promise<R>) =>
    async (...a: A): Promise<R> => {
      try {
        await ready; // edits are already in the index (staged); only the full check may be pending
        return await fn(...a);
      } catch (e) {
        if (e instanceof ResponseError) throw e;
        connection.console.error(`[stellar-secrets] ${name} failed: ${(e as Error).stack ?? String(e)}`);
        return fallback;
      }
    };

  function settingsFor(path: string): Settings {
    let best: Settings | undefined;
    let bestLen = -1;
    for (const f of folders) {
      const fp = uriToPath(f.uri);
      if (fp !== undefined && isUnder(path, fp) && fp.length > bestLen) {
        best = settings.get(fp);
        bestLen = fp.length;
      }
    }
    return best ?? settings.get("") ?? DEFAULT_SETTINGS;
  }

  function lspDiagnostics(model: ProjectModel, path: string): LspDiagnostic[] {
    const overrides = settingsFor(path).rules;
    const out: LspDiagnostic[] = [];
    for (const d of model.diagnostics(path) as Diagnostic[]) {
      const o = overrides[d.rule];
      if (o === "off") continue;
      out.push(toLspDiagnostic(d, o !== undefined && EDITOR_SEVERITIES.has(o) ? o : d.severity));
    }
    return out;
  }

  function diagnosticsOf(path: string): LspDiagnostic[] {
    const model = workspace.projectOf(path);
    return model === undefined ? [] : lspDiagnostics(model, path);
  }

  /** After an index change: publish (push mode) or ask the client to pull again. */
  function changed(paths: Iterable<string>, roots: string[]): void {
    changeCounter++;
    for (const p of paths) versions.set(p, changeCounter);
    if (pull) {
      const w = waiters;
      waiters = [];
      for (const resolve of w) resolve();
      if (capabilities.workspace?.diagnostics?.refreshSupport) void connection.languages.diagnostics.refresh();
    } else {
      for (const p of paths) publish(p);
    }
    if (roots.length > 0) void connection.sendNotification(IndexChangedNotification, { roots });
  }

  function publish(path: string): void {
    const diagnostics = diagnosticsOf(path);
    if (diagnostics.length === 0 && !published.has(path)) return;
    if (diagnostics.length === 0) published.delete(path);
    else published.add(path);
    void connection.sendDiagnostics({ uri: pathToUri(path), diagnostics });
  }

  function publishAll(): void {
    const seen = new Set<string>();
    for (const m of workspace.all()) for (const p of m.files()) seen.add(p);
    for (const p of published) seen.add(p);
    changed(seen, workspace.all().map((m) => m.root));
  }

  async function loadAll(): Promise<void> {
    const list = folders
      .map((f) => uriToPath(f.uri))
      .filter((p): p is string => p !== undefined)
      .map((p) => ({ path: p, configPath: (settings.get(p) ?? settings.get(""))?.configPath || undefined }));
    const t0 = Date.now();
    await workspace.loadFolders(list);
    log(`indexed ${workspace.all().length} project(s) in ${Date.now() - t0} ms`);
    publishAll();
  }

  const configTimers = new Map<string, NodeJS.Timeout>();

  /** Reloads the project of one stellar.yaml (known, or new inside a workspace folder). */
  async function reloadProject(configPath: string): Promise<void> {
    const root = dirname(configPath);
    const known = workspace.get(root);
    const inFolder = folders.some((f) => {
      const fp = uriToPath(f.uri);
      return fp !== undefined && isUnder(root, fp);
    });
    if (known === undefined && !inFolder) return;
    const before = known === undefined ? new Set<string>() : new Set(known.files());
    if (!existsSync(configPath) && !workspace.isOpen(configPath)) {
      workspace.unload(root);
    } else {
      await workspace.load(configPath);
    }
    const after = workspace.get(root);
    const paths = new Set<string>([...before, ...(after === undefined ? [] : after.files()), configPath]);
    changed(paths, [root]);
  }

  async function fetchSettings(): Promise<void> {
    const next = new Map<string, Settings>();
    if (capabilities.workspace?.configuration) {
      const items = [{ section: "stellarSecrets" }, ...folders.map((f) => ({ scopeUri: f.uri, section: "stellarSecrets" }))];
      try {
        const values = (await connection.workspace.getConfiguration(items)) as (Partial<Settings> | null)[];
        next.set("", { ...DEFAULT_SETTINGS, ...(values[0] ?? {}) });
        folders.forEach((f, i) => {
          const p = uriToPath(f.uri);
          if (p !== undefined) next.set(p, { ...DEFAULT_SETTINGS, ...(values[i + 1] ?? {}) });
        });
      } catch {
        /* a client that announces configuration but fails: keep the defaults */
      }
    }
    if (!next.has("")) next.set("", settings.get("") ?? DEFAULT_SETTINGS);
    settings = next;
  }

  /** Re-reads files from disk (watched-file events, the client's filesChanged). */
  async function filesChanged(paths: { path: string; deleted: boolean }[]): Promise<void> {
    const affected = new Set<string>();
    const roots = new Set<string>();
    const reload = new Set<string>();
    // A deleted (or moved-away) folder: every indexed file under it is gone too. Editors report the
    // folder itself, not each file inside it.
    const expanded: { path: string; deleted: boolean }[] = [];
    for (const change of paths) {
      expanded.push(change);
      if (change.deleted && !existsSync(change.path)) {
        for (const m of workspace.all()) for (const p of m.indexedUnder(change.path)) expanded.push({ path: p, deleted: true });
      }
    }
    paths = expanded;
    for (const { path, deleted } of paths) {
      if (basename(path) === "stellar.yaml") {
        if (!workspace.isOpen(path)) reload.add(path);
        continue;
      }
      if (workspace.isOpen(path)) continue; // the buffer wins until it is closed
      const model = workspace.projectOf(path) ?? workspace.all().find((m) => m.owns(path));
      if (model === undefined) continue;
      const text = deleted ? undefined : await workspace.read(path);
      for (const p of model.update(path, text)) affected.add(p);
      roots.add(model.root);
    }
    for (const c of reload) await reloadProject(c);
    if (affected.size > 0 || roots.size > 0) changed(affected, [...roots]);
  }

  connection.onInitialize((params): InitializeResult => {
    capabilities = params.capabilities ?? {};
    pull = capabilities.textDocument?.diagnostic !== undefined;
    folders = params.workspaceFolders ?? (params.rootUri ? [{ uri: params.rootUri, name: "root" }] : []);
    const init = (params.initializationOptions ?? {}) as Partial<Settings>;
    settings.set("", { ...DEFAULT_SETTINGS, ...init });
    const result: InitializeResult = {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: false },
        completionProvider: { triggerCharacters: [":", " ", "[", ",", "-"], resolveProvider: false },
        hoverProvider: true,
        definitionProvider: true,
        referencesProvider: true,
        documentSymbolProvider: true,
        codeActionProvider: { codeActionKinds: ["quickfix"] },
        renameProvider: { prepareProvider: true },
        workspace: { workspaceFolders: { supported: true, changeNotifications: true } },
      },
      serverInfo: { name: "stellar-secrets-language-server", version: "0.1.0" },
    };
    if (pull) result.capabilities.diagnosticProvider = { identifier: "stellar-secrets", interFileDependencies: true, workspaceDiagnostics: true };
    return result;
  });

  connection.onInitialized(() => {
    ready = (async () => {
      if (capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration) {
        await connection.client.register(DidChangeWatchedFilesNotification.type, {
          // files we read, plus deletions of anything (a deleted folder arrives as the folder only)
          watchers: [{ globPattern: "**/*.{yaml,yml,json}" }, { globPattern: "**/*", kind: WatchKind.Delete }],
        });
      }
      if (capabilities.workspace?.workspaceFolders) {
        connection.workspace.onDidChangeWorkspaceFolders(async (e) => {
          const removed = new Set(e.removed.map((f) => f.uri));
          folders = [...folders.filter((f) => !removed.has(f.uri)), ...e.added];
          await fetchSettings();
          await loadAll();
        });
      }
      await fetchSettings();
      await loadAll();
    })().catch((e: unknown) => connection.console.error(`[stellar-secrets] initial index failed: ${(e as Error).stack ?? String(e)}`));
  });

  connection.onDidChangeConfiguration(
    safe("configuration", undefined, async () => {
      const before = JSON.stringify([...settings.entries()].map(([k, v]) => [k, v.configPath]));
      await fetchSettings();
      const after = JSON.stringify([...settings.entries()].map(([k, v]) => [k, v.configPath]));
      if (before !== after) await loadAll();
      else publishAll();
    }),
  );

  connection.onDidChangeWatchedFiles(
    safe("watched files", undefined, async (params) => {
      const paths = params.changes
        .map((c) => ({ path: uriToPath(c.uri), deleted: c.type === FileChangeType.Deleted }))
        .filter((c): c is { path: string; deleted: boolean } => c.path !== undefined);
      await filesChanged(paths);
    }),
  );
  connection.onNotification(
    FilesChangedNotification,
    safe("filesChanged", undefined, async (params) => filesChanged(params.paths.map((p) => ({ path: p, deleted: false })))),
  );

  function onBuffer(doc: TextDocument, closed: boolean): void {
    const path = uriToPath(doc.uri);
    if (path === undefined) return;
    if (closed) workspace.dropBuffer(path);
    else workspace.setBuffer(path, doc.getText());
    if (basename(path) === "stellar.yaml") {
      // typing in stellar.yaml reloads that project only, once the typing pauses
      clearTimeout(configTimers.get(path));
      configTimers.set(
        path,
        setTimeout(() => {
          configTimers.delete(path);
          void ready.then(() => reloadProject(path)).catch((e: unknown) => connection.console.error(`[stellar-secrets] reload failed: ${(e as Error).stack ?? String(e)}`));
        }, 200),
      );
      return;
    }
    void ready.then(async () => {
      const model = workspace.projectOf(path);
      if (model === undefined) {
        if (!pull && !closed) publish(path);
        return;
      }
      const text = closed ? await workspace.read(path) : doc.getText();
      const t = text !== undefined && text.length > MAX_FILE_BYTES ? undefined : text;
      model.stage(path, t);
      // the edited file's own diagnostics at once (core's per-file check), the rest after the full check
      changed(model.quickCheck(path), []);
      schedule(model);
    }).catch((e: unknown) => connection.console.error(`[stellar-secrets] update failed: ${(e as Error).stack ?? String(e)}`));
  }
  documents.onDidOpen((e) => onBuffer(e.document, false));
  documents.onDidChangeContent((e) => onBuffer(e.document, false));
  documents.onDidClose((e) => onBuffer(e.document, true));

  // pull diagnostics
  connection.languages.diagnostics.on(
    safe("diagnostic", { kind: DocumentDiagnosticReportKind.Full, items: [] }, async (params) => {
      const path = uriToPath(params.textDocument.uri);
      if (path === undefined) return { kind: DocumentDiagnosticReportKind.Full, items: [] };
      const id = String(versions.get(path) ?? 0);
      if (params.previousResultId === id) return { kind: DocumentDiagnosticReportKind.Unchanged, resultId: id };
      return { kind: DocumentDiagnosticReportKind.Full, resultId: id, items: diagnosticsOf(path) };
    }),
  );
  connection.languages.diagnostics.onWorkspace(
    safe("workspace diagnostic", { items: [] }, async (params, token) => {
      const previous = new Map(params.previousResultIds.map((r) => [uriToPath(r.uri) ?? r.uri, r.value]));
      const collect = (): WorkspaceDocumentDiagnosticReport[] => {
        const items: WorkspaceDocumentDiagnosticReport[] = [];
        const paths = new Set<string>();
        for (const m of workspace.all()) for (const p of m.files()) paths.add(p);
        for (const p of previous.keys()) paths.add(p);
        for (const p of paths) {
          if (workspace.isOpen(p)) continue; // open documents are pulled one by one
          const id = String(versions.get(p) ?? 0);
          if (previous.get(p) === id) continue;
          const diags = diagnosticsOf(p);
          if (diags.length === 0 && !previous.has(p)) continue;
          items.push({ kind: DocumentDiagnosticReportKind.Full, uri: pathToUri(p), version: null, resultId: id, items: diags });
        }
        return items;
      };
      let items = collect();
      // Long poll: hold the request until something changes (the client re-sends it at once otherwise).
      while (items.length === 0 && !token.isCancellationRequested) {
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          token.onCancellationRequested(() => resolve());
        });
        items = collect();
      }
      return { items };
    }),
  );

  const docAt = (uri: string): { path: string; text: string; model: ProjectModel } | undefined => {
    const path = uriToPath(uri);
    if (path === undefined) return undefined;
    const model = workspace.projectOf(path);
    const doc = documents.get(uri);
    if (model === undefined || doc === undefined) return undefined;
    return { path, text: doc.getText(), model };
  };

  connection.onCompletion(
    safe("completion", [], (params) => {
      const d = docAt(params.textDocument.uri);
      return d === undefined ? [] : completion(d.model, d.text, params.position);
    }),
  );
  connection.onHover(
    safe("hover", null, (params) => {
      const d = docAt(params.textDocument.uri);
      return d === undefined ? null : hover(d.model, d.path, params.position);
    }),
  );
  connection.onDefinition(
    safe("definition", [], (params) => {
      const d = docAt(params.textDocument.uri);
      return d === undefined ? [] : definition(d.model, d.path, params.position);
    }),
  );
  connection.onReferences(
    safe("references", [], (params) => {
      const d = docAt(params.textDocument.uri);
      return d === undefined ? [] : references(d.model, d.path, params.position, params.context.includeDeclaration);
    }),
  );
  connection.onDocumentSymbol(
    safe("symbols", [], (params) => {
      const d = docAt(params.textDocument.uri);
      return d === undefined ? [] : documentSymbols(d.model, d.path);
    }),
  );
  connection.onCodeAction(
    safe("code actions", [], (params) => {
      const d = docAt(params.textDocument.uri);
      return d === undefined ? [] : codeActions(d.model, params.textDocument.uri, params.context.diagnostics);
    }),
  );
  const refuseRename = async (uri: string, position: { line: number; character: number }): Promise<never> => {
    await ready;
    const d = docAt(uri);
    const reason = d === undefined ? undefined : renameRefusal(d.model, d.path, position);
    throw new ResponseError(ErrorCodes.InvalidRequest, reason ?? "Stellar Secrets does not rename here: names of secrets, connections, connectors and actions are referenced by name across files.");
  };
  connection.onPrepareRename((params) => refuseRename(params.textDocument.uri, params.position));
  connection.onRenameRequest((params) => refuseRename(params.textDocument.uri, params.position));

  // custom requests (no values, ever)
  connection.onRequest(
    ProjectsRequest,
    safe("projects", { projects: [] }, () => ({ projects: workspace.all().map(projectInfo) })),
  );
  connection.onRequest(
    UsageRequest,
    safe("usage", { references: [] }, (params) => {
      const model = workspace.get(params.root);
      if (model === undefined) return { references: [] };
      return {
        references: model.referencesTo(params.name).map((r) => ({
          uri: pathToUri(r.path),
          range: r.range,
          file: toProjectPath(model.root, r.path),
          line: r.range.start.line + 1,
          owner: `${r.ownerKind} ${r.ownerName ?? ""}`.trim(),
        })),
      };
    }),
  );
  connection.onRequest(
    CatalogRemovalRequest,
    safe("catalogRemoval", {}, async (params) => {
      const model = workspace.get(params.root);
      if (model?.config === undefined) return {};
      const path = catalogPath(model.config);
      const text = await workspace.read(path);
      if (text === undefined) return {};
      const next = removeCatalogEntry(text, params.name);
      if (next === text) return {};
      const end = toLspPosition(new LineIndex(text), text.length);
      return { edit: { changes: { [pathToUri(path)]: [{ range: { start: { line: 0, character: 0 }, end }, newText: next }] } } };
    }),
  );
  connection.onRequest(
    ValidateNameRequest,
    safe("validateName", {}, (params) => {
      const v = validateSecretName(params.name);
      if (!v.ok) return { message: `${v.message} [${v.rule}]` };
      const model = workspace.get(params.root);
      if (params.existing === "refuse" && model?.secretNames().includes(params.name)) {
        return { message: `"${params.name}" already exists (set its value with Set Secret Value…)` };
      }
      return {};
    }),
  );

  function projectInfo(model: ProjectModel): ProjectInfo {
    const config = model.config;
    const envs = config?.environments ?? [];
    return {
      root: model.root,
      configPath: config?.configPath ?? `${model.root}/stellar.yaml`,
      valid: config !== undefined,
      environments: envs.map((e) => {
        const file = secretsFilePath(config!, e.name);
        return { name: e.name, file, exists: model.fileExists(file), recipients: e.members.map((m) => m.recipient) };
      }),
      secrets: model.secretNames().map((name) => {
        const entry = model.catalog(name);
        const s: ProjectInfo["secrets"][number] = { name, environments: model.environmentsOf(name), references: model.referenceCount(name) };
        if (entry?.description) s.description = entry.description;
        if (entry?.owner) s.owner = entry.owner;
        return s;
      }),
    };
  }

  documents.listen(connection);
  connection.listen();
}
