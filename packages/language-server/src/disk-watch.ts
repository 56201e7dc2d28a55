/**
 * The server's own watch of the disk, for a client that cannot register file watchers (no
 * `workspace.didChangeWatchedFiles.dynamicRegistration`: Helix, Zed, Sublime LSP, Kate, vim-lsp
 * and most hand-written clients). Without it, a secrets file changed outside the editor (the CLI's
 * `set`, `rotate-key`, `members add`, a `git pull`) was never seen: the diagnostics of the values
 * before the change stayed until the server was restarted or the file opened.
 *
 * It watches a few folders, each without its subfolders (node's `fs.watch`, one inotify watch a
 * folder on Linux): every project's root (its stellar.yaml, `.sops.yaml`, `.gitattributes`) and
 * its secrets folder (the environment files, the catalog, `.sops.yaml`). Changes that come together
 * are reported once, {@link DISK_WATCH_DELAY_MS} after the last (a CLI writes a file through a
 * temporary one and a rename). And git's state, as the watchers registered with other clients
 * follow it (`GIT_WATCHERS`): the `.git` folder of the work tree and its `refs/heads`, of which only
 * HEAD, the branches and MERGE_HEAD, REBASE_HEAD, CHERRY_PICK_HEAD and REVERT_HEAD are passed on
 * ({@link isGitStateChange}: `git status` rewrites the index every time), so the value history and
 * the committed versions are read again after a commit, a checkout or a merge. Other files changed
 * on disk outside the editor (a config file changed by `git checkout`) are seen when opened, or when
 * the client reports them.
 */
import { existsSync, statSync, watch, type FSWatcher } from "node:fs";
import { basename, dirname, join, sep } from "node:path";
import type { FileChange } from "./watched-files.js";

/** The pause after the last change in the watched folders before they are reported (ms). */
export const DISK_WATCH_DELAY_MS = 100;

/** The `.git` folder of the work tree `root` is in (a `.git` folder in it or above), or undefined: not in git, or a linked work tree or submodule (their `.git` is a file). */
export function gitFolderAbove(root: string): string | undefined {
  for (let dir = root; ; dir = dirname(dir)) {
    const git = join(dir, ".git");
    try {
      if (statSync(git).isDirectory()) return git;
      return undefined;
    } catch {
      // not here: the folder above
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** The entries of a `.git` folder whose change means HEAD or a branch moved, or a merge, rebase, cherry-pick or revert began or ended. */
const GIT_STATE_NAMES = new Set(["HEAD", "MERGE_HEAD", "REBASE_HEAD", "CHERRY_PICK_HEAD", "REVERT_HEAD"]);

/** True for a path in a `.git` folder that {@link GIT_STATE_NAMES} names or under its `refs/heads`; false for anything else in it (the index, locks, objects) and outside one. */
export function isGitStateChange(path: string): boolean {
  const marker = `${sep}.git${sep}`;
  const i = path.lastIndexOf(marker);
  if (i === -1) return false;
  const rest = path.slice(i + marker.length);
  return GIT_STATE_NAMES.has(rest) || rest === `refs${sep}heads` || rest.startsWith(`refs${sep}heads${sep}`);
}

/** True for a path in a `.git` folder. */
export function inGitFolder(path: string): boolean {
  return path.includes(`${sep}.git${sep}`) || basename(path) === ".git";
}

export class DiskWatch {
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly changed = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** Called with the files changed in the watched folders (deleted: no longer there). */
    private readonly onChanges: (changes: FileChange[]) => void,
    /** Says why a folder could not be watched (never a file's content). */
    private readonly log: (line: string) => void,
    private readonly delayMs = DISK_WATCH_DELAY_MS,
  ) {}

  /** The folders watched now. */
  get folders(): string[] {
    return [...this.watchers.keys()].sort();
  }

  /** Watches exactly `folders` (each without its subfolders): the new ones from now on, the others no more. A folder that is not there is skipped. */
  watch(folders: Iterable<string>): void {
    const want = new Set(folders);
    for (const [dir, w] of this.watchers) {
      if (want.has(dir)) continue;
      w.close();
      this.watchers.delete(dir);
    }
    for (const dir of want) {
      if (this.watchers.has(dir) || !existsSync(dir)) continue;
      try {
        const w = watch(dir, { persistent: false }, (_event, name) => this.noted(name === null || name === undefined ? dir : join(dir, name.toString())));
        // the folder removed or unreadable: no longer watched (watched again when asked for and there)
        w.on("error", () => {
          w.close();
          if (this.watchers.get(dir) === w) this.watchers.delete(dir);
          this.noted(dir);
        });
        this.watchers.set(dir, w);
      } catch (e) {
        this.log(`could not watch ${dir} for changes (${(e as NodeJS.ErrnoException).code ?? "error"}): files changed there outside the editor are seen when opened`);
      }
    }
  }

  private noted(path: string): void {
    this.changed.add(path);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.report(), this.delayMs);
    this.timer.unref?.();
  }

  private report(): void {
    const paths = [...this.changed];
    this.changed.clear();
    if (paths.length > 0) this.onChanges(paths.map((path) => ({ path, deleted: !existsSync(path) })));
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    this.changed.clear();
  }
}
