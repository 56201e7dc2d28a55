/**
 * Finding and (re)loading projects: every stellar.yaml of the workspace folders (or each
 * folder's `configPath`), one project again when its stellar.yaml changes, all of them when the
 * workspace folders change. The folders are those `initialize` names ({@link initialFolders}:
 * `workspaceFolders`, else `rootUri`, else `rootPath`); a file opened outside every folder (no
 * root at all: single-file mode) brings in the project of the nearest stellar.yaml above it, and
 * so does a file still open when its folder is removed.
 */
import { existsSync } from "node:fs";
import { basename, dirname, isAbsolute } from "node:path";
import type { InitializeParams, WorkspaceFolder, WorkspaceFoldersChangeEvent } from "vscode-languageserver/node";
import { DidChangeWorkspaceFoldersNotification } from "./lsp.js";
import type { SettingsStore } from "./settings.js";
import type { ServerState } from "./state.js";
import { isUnder, pathToUri, uriToPath } from "./uris.js";
import { findConfigAbove } from "./workspace.js";

/**
 * The workspace folders of an `initialize` request: `workspaceFolders` when it names any, else
 * `rootUri`, else the deprecated `rootPath` (an absolute path; some clients send only it), else
 * none (single-file mode: projects come with the files opened, {@link ProjectLoader.loadForFile}).
 */
export function initialFolders(params: Pick<InitializeParams, "workspaceFolders" | "rootUri" | "rootPath">): WorkspaceFolder[] {
  // (the types are the specification's; a hand-written client may send anything: what is not of them is not there)
  const folders: unknown = params.workspaceFolders;
  if (Array.isArray(folders)) {
    const valid = folders.filter((f: unknown): f is WorkspaceFolder => f !== null && typeof f === "object" && typeof (f as WorkspaceFolder).uri === "string");
    if (valid.length > 0) return valid.map((f) => ({ uri: f.uri, name: typeof f.name === "string" ? f.name : f.uri }));
  }
  const rootUri: unknown = params.rootUri;
  const rootPath: unknown = params.rootPath;
  const root = typeof rootUri === "string" && rootUri !== "" ? rootUri : typeof rootPath === "string" && isAbsolute(rootPath) ? pathToUri(rootPath) : undefined;
  if (root === undefined) return [];
  const path = uriToPath(root);
  return [{ uri: root, name: path === undefined ? root : basename(path) || path }];
}

/**
 * How long the check after the projects were (re)loaded runs before it lets the messages that came
 * meanwhile be handled (ms; between two projects, and between two pieces of one project's check:
 * a config file's share of the index, a config file's cross-file diagnostics). With `/` or the
 * home folder as the workspace folder (a hundred projects and more) it held the thread for seconds,
 * and every request, `shutdown` included, waited for it.
 */
export const CHECK_SLICE_MS = 20;

/** Two turns of the event loop (see ProjectLoader.checkAndPublish). */
function twoTurns(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));
}

/** Loads the projects of the workspace into the state's index. */
export class ProjectLoader {
  /** The stellar.yaml of each project loaded for a file opened outside every workspace folder. */
  private readonly outside = new Set<string>();
  /** Loads under way for files outside every folder, by stellar.yaml (two files opened at once load it once). */
  private readonly loading = new Map<string, Promise<void>>();

  constructor(
    private readonly state: ServerState,
    private readonly settings: SettingsStore,
    /** Reports every file and project as changed (the diagnostics publisher's `publishAll`). */
    private readonly everythingChanged: () => void,
  ) {}

  /**
   * Settles once every file and project has been reported as changed after the last {@link loadAll}
   * (its check run and its diagnostics sent).
   */
  published: Promise<void> = Promise.resolve();

  /**
   * Indexes every project of the workspace folders again; resolves once the index is built. The
   * check of every file and everything reported as changed (diagnostics, `indexChanged`) follow on
   * the next turn of the event loop ({@link published}): requests waiting for the index are answered
   * first, and a request that needs diagnostics before then runs the check itself.
   */
  loadAll(): Promise<void> {
    // one at a time, in the order asked: two loads at once (folders added and removed in quick
    // succession) interleave their awaits, and the older one, ending last, could bring back a project
    // of a folder the newer one had dropped
    const run = this.loads.then(() => this.loadAllNow());
    this.loads = run.catch(() => {});
    return run;
  }

  /** The {@link loadAll}s asked for, one after the other. */
  private loads: Promise<void> = Promise.resolve();

  private async loadAllNow(): Promise<void> {
    const { state } = this;
    const folders = state.folderPaths();
    const list = folders.map((p) => ({ path: p, configPath: this.settings.configPathOf(p) }));
    // a file still open outside every folder (its folder was removed): a file opened outside every
    // folder from now on, whose project stays loaded (loadForFile), not one that loses its features
    for (const path of state.workspace.openPaths()) {
      if (folders.some((fp) => isUnder(path, fp))) continue;
      const config = basename(path) === "stellar.yaml" ? path : findConfigAbove(dirname(path));
      if (config !== undefined) this.outside.add(config);
    }
    const t0 = Date.now();
    // stops at `shutdown`: a workspace of many projects (a client started in / or the home folder)
    // is no longer indexed to its end before the answer goes out
    const failures = await state.workspace.loadFolders(list, [...this.outside], { stop: () => state.shuttingDown });
    for (const f of failures) state.logFailure(`loading the project of ${f.configPath} (the other projects are loaded)`, f.error);
    if (state.shuttingDown) {
      state.log(`the index stopped at shutdown (${state.workspace.all().length} project(s) indexed, in ${Date.now() - t0} ms)`);
      return;
    }
    state.log(`indexed ${state.workspace.all().length} project(s) in ${Date.now() - t0} ms`);
    this.published = this.checkAndPublish(++this.generation);
  }

  /** Counts the {@link loadAll}s: the check of an older one stops when a newer one is under way. */
  private generation = 0;

  /**
   * The check after {@link loadAll}: each project's first check, a project at a time, then every file
   * and project reported as changed (diagnostics, `indexChanged`) at once. Between projects, and
   * between two pieces of a project's check, once {@link CHECK_SLICE_MS} have gone by, it lets the messages that came meanwhile be handled (two
   * turns of the event loop: the first lets the pipe be read, the second the messages read be
   * dispatched, each one `setImmediate` of the connection), so that a workspace of a hundred projects
   * (a client started in `/` or the home folder) answers requests, and `shutdown`, while it is
   * checked. It stops at `shutdown` (nothing is published then), and when a newer load started (it
   * then settles with the newer one's check).
   */
  private async checkAndPublish(generation: number): Promise<void> {
    const { state } = this;
    const stale = (): boolean => state.shuttingDown || generation !== this.generation;
    await twoTurns();
    let sliceStart = Date.now();
    for (const model of state.workspace.all()) {
      if (stale()) break;
      if (Date.now() - sliceStart >= this.checkSliceMs) {
        await twoTurns();
        sliceStart = Date.now();
        if (stale()) break;
      }
      // a project replaced meanwhile (its stellar.yaml changed) is checked when its own change is reported
      if (state.workspace.get(model.root) !== model) continue;
      try {
        // the project's first check, a piece at a time (the index's maps and each config file's
        // cross-file diagnostics, core's crossFileCheckSteps; the rest of the check at once), with
        // the same pauses as between projects: a project of thousands of config files held the
        // thread for most of a second, `shutdown` and hovers waiting. Steps stopped by an edit of
        // the project between two pieces start again (none once a request needing diagnostics
        // checked it at once)
        let steps = model.firstCheckSteps?.();
        while (steps !== undefined) {
          if (steps.next().done === true) {
            steps = model.firstCheckSteps?.();
            continue;
          }
          if (Date.now() - sliceStart < this.checkSliceMs) continue;
          await twoTurns();
          sliceStart = Date.now();
          if (stale()) {
            steps.return?.();
            break;
          }
        }
        if (stale()) break;
        // (a model without steps is checked at once)
        model.diagnostics(model.configPath);
      } catch (e) {
        state.logFailure(`checking the project of ${model.configPath}`, e);
      }
    }
    if (state.shuttingDown) return;
    if (generation !== this.generation) return this.published;
    try {
      this.everythingChanged();
    } catch (e) {
      state.logFailure("check", e);
    }
  }

  /** How long the check after a load runs before it lets waiting messages be handled (ms); {@link CHECK_SLICE_MS}, for tests. */
  checkSliceMs = CHECK_SLICE_MS;

  /** Reloads the project of one stellar.yaml (known, or new inside a workspace folder; forgotten when deleted). */
  async reloadProject(configPath: string): Promise<void> {
    const { workspace } = this.state;
    const root = dirname(configPath);
    const known = workspace.get(root);
    const inFolder = this.state.folderPaths().some((fp) => isUnder(root, fp)) || this.outside.has(configPath);
    if (known === undefined && !inFolder) return;
    const before = known === undefined ? new Set<string>() : new Set(known.files());
    if (!existsSync(configPath) && !workspace.isOpen(configPath)) {
      workspace.unload(root);
    } else {
      // a project loaded is only replaced: one dropped while it loaded (its folder removed, and the
      // load of the folders that followed ran meanwhile) is not brought back; a new one is kept only
      // if its folder is still a workspace folder (before, the reload put the removed folder's project
      // back, and published its diagnostics after they had been cleared; projects.test.ts)
      await workspace.load(configPath, known !== undefined);
      const stillIn = this.state.folderPaths().some((fp) => isUnder(root, fp)) || this.outside.has(configPath);
      if (known === undefined && !stillIn) workspace.unload(root);
    }
    const after = workspace.get(root);
    const paths = new Set<string>([...before, ...(after === undefined ? [] : after.files()), configPath]);
    const roots = [root];
    // A project that appeared or went inside another one: the outer project reads that folder's files
    // as its own again, or stops reading them (its walk skips a folder with a stellar.yaml of its own)
    if ((known === undefined) !== (after === undefined)) {
      for (const outer of workspace.all()) {
        if (outer.root === root || !isUnder(root, outer.root)) continue;
        for (const p of outer.files()) paths.add(p);
        const reloaded = await workspace.load(outer.configPath);
        for (const p of reloaded.files()) paths.add(p);
        roots.push(outer.root);
      }
    }
    this.state.indexChanged(paths, roots);
  }

  /**
   * A file opened outside every workspace folder (with no root at all, every file): loads the
   * project of the nearest stellar.yaml in its folder or above (once; it stays loaded, as a folder
   * would), then reports it as changed. Nothing for a file inside a folder (the folder's projects
   * were found when it was loaded), for a file a project already owns, or without a stellar.yaml
   * above it. Returns true when it loaded a project.
   */
  async loadForFile(path: string): Promise<boolean> {
    const { state } = this;
    if (state.folderPaths().some((fp) => isUnder(path, fp))) return false;
    if (basename(path) !== "stellar.yaml" && state.workspace.projectOf(path) !== undefined) return false;
    const config = basename(path) === "stellar.yaml" ? path : findConfigAbove(dirname(path));
    if (config === undefined) return false;
    const pending = this.loading.get(config);
    if (pending !== undefined) {
      await pending;
      return false;
    }
    if (state.workspace.get(dirname(config)) !== undefined) return false; // loaded already (e.g. above a folder)
    this.outside.add(config);
    const load = this.reloadProject(config).finally(() => this.loading.delete(config));
    this.loading.set(config, load);
    await load;
    return true;
  }

  /**
   * Follows `workspace/didChangeWorkspaceFolders` (also from a client that did not announce
   * `workspace.workspaceFolders`: the server's capabilities say it takes them). Call
   * it first thing on `initialized`, before anything is awaited: a change the client sends at once
   * (before it answered the server's own requests) would otherwise reach no listener and be lost.
   * The folders change at once (an initial index not yet built reads them); the projects are found
   * again once the index that is being built is ready.
   */
  watchFolders(): void {
    const { state } = this;
    const changed = async (e: WorkspaceFoldersChangeEvent): Promise<void> => {
      try {
        // by path: a client may spell a folder's URI otherwise when it removes it (a trailing slash, percent-encoding)
        const key = (f: WorkspaceFolder): string => uriToPath(f.uri) ?? f.uri;
        const removed = new Set(e.removed.map(key));
        const kept = state.folders.filter((f) => !removed.has(key(f)));
        const added = e.added.filter((f) => !kept.some((g) => key(g) === key(f)));
        state.folders = [...kept, ...added];
        await state.ready;
        await this.settings.fetch();
        await this.loadAll();
      } catch (err) {
        state.logFailure("workspace folders change", err);
      }
    };
    // vscode-languageserver listens only when the client announced `workspace.workspaceFolders`; a
    // client that sends the change without having announced it (the server says it takes them) is
    // followed too, not ignored
    if (state.capabilities.workspace?.workspaceFolders) state.connection.workspace.onDidChangeWorkspaceFolders(changed);
    else
      state.connection.onNotification(DidChangeWorkspaceFoldersNotification.type, (params) => {
        const e = (params as { event?: unknown } | null)?.event as Partial<WorkspaceFoldersChangeEvent> | undefined;
        const folders = (v: unknown): WorkspaceFolder[] => (Array.isArray(v) ? v.filter((f): f is WorkspaceFolder => f !== null && typeof f === "object" && typeof (f as WorkspaceFolder).uri === "string") : []);
        return changed({ added: folders(e?.added), removed: folders(e?.removed) });
      });
  }
}
