/**
 * Finding and (re)loading projects: every stellar.yaml of the workspace folders (or each
 * folder's `configPath`), one project again when its stellar.yaml changes, all of them when the
 * workspace folders change.
 */
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import type { SettingsStore } from "./settings.js";
import type { ServerState } from "./state.js";
import { isUnder } from "./uris.js";

/** Loads the projects of the workspace into the state's index. */
export class ProjectLoader {
  constructor(
    private readonly state: ServerState,
    private readonly settings: SettingsStore,
    /** Reports every file and project as changed (the diagnostics publisher's `publishAll`). */
    private readonly everythingChanged: () => void,
  ) {}

  /** Indexes every project of the workspace folders again, then reports everything as changed. */
  async loadAll(): Promise<void> {
    const { state } = this;
    const list = state.folderPaths().map((p) => ({ path: p, configPath: this.settings.configPathOf(p) }));
    const t0 = Date.now();
    await state.workspace.loadFolders(list);
    state.log(`indexed ${state.workspace.all().length} project(s) in ${Date.now() - t0} ms`);
    this.everythingChanged();
  }

  /** Reloads the project of one stellar.yaml (known, or new inside a workspace folder; forgotten when deleted). */
  async reloadProject(configPath: string): Promise<void> {
    const { workspace } = this.state;
    const root = dirname(configPath);
    const known = workspace.get(root);
    const inFolder = this.state.folderPaths().some((fp) => isUnder(root, fp));
    if (known === undefined && !inFolder) return;
    const before = known === undefined ? new Set<string>() : new Set(known.files());
    if (!existsSync(configPath) && !workspace.isOpen(configPath)) {
      workspace.unload(root);
    } else {
      await workspace.load(configPath);
    }
    const after = workspace.get(root);
    const paths = new Set<string>([...before, ...(after === undefined ? [] : after.files()), configPath]);
    this.state.indexChanged(paths, [root]);
  }

  /** Follows `workspace/didChangeWorkspaceFolders` (when the client supports workspace folders). */
  watchFolders(): void {
    const { state } = this;
    if (!state.capabilities.workspace?.workspaceFolders) return;
    state.connection.workspace.onDidChangeWorkspaceFolders(async (e) => {
      const removed = new Set(e.removed.map((f) => f.uri));
      state.folders = [...state.folders.filter((f) => !removed.has(f.uri)), ...e.added];
      await this.settings.fetch();
      await this.loadAll();
    });
  }
}
