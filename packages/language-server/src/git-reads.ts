/**
 * What the checker needs from git, read in the background for each project (never while a
 * keystroke waits): the value history of `rotation-overdue` (`value-history.ts`) and the committed
 * versions of the environment files for `stale-mac` (`committed-versions.ts`), each through
 * `@stellar-secrets/git`, as `stellar-secrets check` reads them. A {@link GitRead} says what one
 * read needs (its key), how to read it and where the result goes; {@link BackgroundGitReads}
 * decides when: once the project is loaded, again when the key changes, when git's HEAD, a
 * branch or a merge/rebase/cherry-pick in progress changes (commit, checkout, pull, merge), and
 * (when the read follows them) when an environment file changes on disk; then the project is
 * re-checked and its diagnostics republished.
 */
import { gitChangeOf, gitDirsOf, type GitDirs } from "./disk-watch.js";
import type { ProjectModel } from "./model.js";
import type { ServerState } from "./state.js";
import { isInside } from "./uris.js";

/** Pause after the last trigger before git is read (a checkout changes many files at once). */
export const GIT_READ_DELAY_MS = 150;

/**
 * The watchers (client-side globs) whose changes mean HEAD or a branch moved, or a merge, rebase
 * cherry-pick or revert started (their end arrives through the watcher of deletions), or a `git am`
 * session began or moved to another patch (`rebase-apply` appearing, its `next` rewritten by `git
 * am --skip` or `--continue`; `--abort` deletes the folder). The merge driver's records
 * (`stellar-secrets/unresolved/NAME.json`) are under the watcher of every `.json` file. A work tree's git
 * directories outside the workspace folder (a linked work tree's, a repository above the folder
 * opened) are watched as relative patterns ({@link gitWatchPatterns}).
 */
export const GIT_WATCHERS = ["**/.git/HEAD", "**/.git/refs/heads/**", "**/.git/MERGE_HEAD", "**/.git/REBASE_HEAD", "**/.git/CHERRY_PICK_HEAD", "**/.git/REVERT_HEAD", "**/.git/rebase-apply", "**/.git/rebase-apply/next"] as const;

/**
 * The same as relative patterns (folder, glob under it) for one work tree's git directories: its
 * own (HEAD, the merge state, `git am`'s progress, the merge driver's records) and the common
 * one's branches. For a client with `relativePatternSupport`: a linked work tree's git directory is
 * `<common>/worktrees/NAME`, outside any workspace folder, where the glob of `.git/HEAD` never matches.
 */
export function gitWatchPatterns(dirs: GitDirs): { base: string; pattern: string }[] {
  return [
    { base: dirs.gitDir, pattern: "{HEAD,MERGE_HEAD,REBASE_HEAD,CHERRY_PICK_HEAD,REVERT_HEAD,rebase-apply,rebase-apply/next,stellar-secrets/unresolved/*.json}" },
    { base: dirs.commonDir, pattern: "refs/heads/**" },
  ];
}

/** One thing the checker reads from git for a project. */
export interface GitRead<T> {
  /** What it is, for the log when a read fails (e.g. "value history"). */
  readonly what: string;
  /** What the read depends on in the index; "" when nothing is needed (git is not run). Cheap. */
  key(model: ProjectModel): string;
  /** Reads it (runs git). Never throws. */
  read(model: ProjectModel): Promise<T | undefined>;
  /** Hands the result to the model (undefined: nothing needed) and re-checks; returns the paths whose diagnostics changed. */
  set(model: ProjectModel, value: T | undefined): Set<string>;
  /** Whether it depends on the environment files on disk too (the history counts uncommitted values as set now). */
  readonly followsEnvironmentFiles: boolean;
  /**
   * What the read could not see, and how to fix it (a shallow clone: `stellar-secrets check` prints
   * the same note), or undefined. Logged once per project, again only after a read without it.
   */
  note?(model: ProjectModel, value: T): string | undefined;
}

/** Reads one {@link GitRead} for every project, in the background, and reads it again when it may have changed. */
export class BackgroundGitReads<T> {
  /** The key each model's value was (or is being) read for. */
  private readonly keys = new WeakMap<ProjectModel, string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Per root: bumped by each read, so a slower earlier read never overwrites a later one. */
  private readonly generations = new Map<string, number>();
  /** The roots whose note ({@link GitRead.note}) was logged. */
  private readonly noted = new Set<string>();
  private disposed = false;

  constructor(
    private readonly state: ServerState,
    private readonly reading: GitRead<T>,
  ) {}

  /**
   * After an index change (a state listener): reads again for a project whose key changed,
   * including a project just (re)loaded that needs a read. Cheap otherwise.
   */
  indexChanged(roots: readonly string[]): void {
    for (const root of roots) {
      const model = this.state.workspace.get(root);
      if (model === undefined) continue;
      const key = this.reading.key(model);
      // a new model starts without a value, as if read for "" (nothing needed)
      const previous = this.keys.get(model) ?? "";
      this.keys.set(model, key);
      if (key !== previous) this.schedule(root);
    }
  }

  /**
   * Files changed on disk: git's state in the git directories of a project's work tree (its own,
   * or the common one's branches for a linked work tree: every project that needs a read and is in
   * that work tree; {@link gitChangeOf}), or an
   * environment file (its project, when the read follows them): read again.
   */
  diskChanged(paths: readonly string[]): void {
    for (const model of this.state.workspace.all()) {
      if (this.reading.key(model) === "") continue;
      // (found again each time: a `git init` or `git worktree` since)
      const dirs = gitDirsOf(model.root);
      const concerned = paths.some((p) => {
        // (HEAD, a branch, the merge state, git am's progress, a record: not the index or a lock
        // file deleted, which the watcher of deletions reports at every `git status`)
        if (dirs !== undefined && gitChangeOf(p, [dirs]) === "state") return true;
        return this.reading.followsEnvironmentFiles && isInside(p, model.root) && model.owns(p) && p.endsWith(".enc.yaml");
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
        void this.read(root).catch((e: unknown) => this.state.logFailure(this.reading.what, e));
      }, GIT_READ_DELAY_MS),
    );
  }

  private async read(root: string): Promise<void> {
    const generation = (this.generations.get(root) ?? 0) + 1;
    this.generations.set(root, generation);
    const model = this.state.workspace.get(root);
    if (model === undefined) return;
    const value = this.reading.key(model) === "" ? undefined : await this.reading.read(model);
    // superseded by a later read, the project reloaded (its new model reads its own), or the server gone
    if (this.disposed || this.generations.get(root) !== generation || this.state.workspace.get(root) !== model) return;
    const changed = this.reading.set(model, value);
    const note = value === undefined ? undefined : this.reading.note?.(model, value);
    if (note === undefined) this.noted.delete(root);
    else if (!this.noted.has(root)) {
      this.noted.add(root);
      this.state.log(`${root}: note: ${note}`);
    }
    if (changed.size > 0) this.state.indexChanged(changed, []);
  }
}
