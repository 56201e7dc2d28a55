/**
 * The git-backed value history of each project, for `rotation-overdue` (the same history
 * `stellar-secrets check` reads, through `@stellar-secrets/git`). It is read only for a project
 * whose catalog has a `rotate_every` and that is in a git repository with commits; read in the
 * background (never while a keystroke waits) once the project is loaded, again when what it
 * depends on changes (a `rotate_every` or an environment file appears or goes), when an
 * environment file changes on disk, and when git's HEAD or a branch moves (commit, checkout,
 * pull); then the project is re-checked and its diagnostics republished.
 */
import { dirname, sep } from "node:path";
import type { ProjectModel } from "./model.js";
import type { ServerState } from "./state.js";
import { isInside } from "./uris.js";

/** Pause after the last trigger before the history is read (a checkout changes many files at once). */
export const HISTORY_DELAY_MS = 150;

/** The watchers (client-side globs) whose changes mean HEAD or a branch moved. */
export const GIT_WATCHERS = ["**/.git/HEAD", "**/.git/refs/heads/**"] as const;

/** Reads and refreshes the value history of every project. */
export class ValueHistories {
  /** The {@link ProjectModel.historyKey} each model's history was (or is being) read for. */
  private readonly keys = new WeakMap<ProjectModel, string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Per root: bumped by each read, so a slower earlier read never overwrites a later one. */
  private readonly generations = new Map<string, number>();
  private disposed = false;

  constructor(private readonly state: ServerState) {}

  /**
   * After an index change (a state listener): reads the history of a project whose needs changed,
   * including a project just (re)loaded whose catalog has a `rotate_every`. Cheap otherwise.
   */
  indexChanged(roots: readonly string[]): void {
    for (const root of roots) {
      const model = this.state.workspace.get(root);
      if (model === undefined) continue;
      const key = model.historyKey();
      // a new model starts without a history, as if read for "" (nothing needed)
      const previous = this.keys.get(model) ?? "";
      this.keys.set(model, key);
      if (key !== previous) this.schedule(root);
    }
  }

  /**
   * Files changed on disk: git's HEAD or a branch (every project that needs a history and is
   * inside that work tree), or an environment file (its project): read those histories again.
   */
  diskChanged(paths: readonly string[]): void {
    for (const model of this.state.workspace.all()) {
      if (model.historyKey() === "") continue;
      const concerned = paths.some((p) => {
        const git = gitDirOf(p);
        if (git !== undefined) return isInside(model.root, dirname(git));
        return isInside(p, model.root) && model.owns(p) && p.endsWith(".enc.yaml");
      });
      if (concerned) this.schedule(model.root);
    }
  }

  /** Cancels the pending reads (a read in flight is dropped when it ends). */
  dispose(): void {
    this.disposed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private schedule(root: string): void {
    if (this.disposed) return;
    clearTimeout(this.timers.get(root));
    this.timers.set(
      root,
      setTimeout(() => {
        this.timers.delete(root);
        void this.read(root).catch((e: unknown) => this.state.logFailure("value history", e));
      }, HISTORY_DELAY_MS),
    );
  }

  private async read(root: string): Promise<void> {
    const generation = (this.generations.get(root) ?? 0) + 1;
    this.generations.set(root, generation);
    const model = this.state.workspace.get(root);
    if (model === undefined) return;
    const history = model.historyKey() === "" ? undefined : await model.readHistory();
    // superseded by a later read, the project reloaded (its new model reads its own), or the server gone
    if (this.disposed || this.generations.get(root) !== generation || this.state.workspace.get(root) !== model) return;
    const changed = model.setHistory(history);
    if (changed.size > 0) this.state.indexChanged(changed, []);
  }
}

/** The `.git` folder a path is in (absolute), if it is in one. */
function gitDirOf(path: string): string | undefined {
  const marker = `${sep}.git${sep}`;
  const i = path.lastIndexOf(marker);
  return i === -1 ? undefined : path.slice(0, i + marker.length - 1);
}
