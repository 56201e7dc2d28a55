/**
 * The server's own watch of the disk, for a client that cannot register file watchers (no
 * `workspace.didChangeWatchedFiles.dynamicRegistration`: Helix, Zed, Sublime LSP, Kate, vim-lsp
 * and most hand-written clients). Without it, a secrets file changed outside the editor (the CLI's
 * `set`, `rotate-key`, `members add`, a `git pull`) was never seen: the diagnostics of the values
 * before the change stayed until the server was restarted or the file opened.
 *
 * It watches folders, each without its subfolders (node's `fs.watch`, one inotify watch a folder on
 * Linux; node 20's `recursive` opens one per file too): every folder of each project
 * ({@link projectFolders}) and its secrets folder. Changes that come together are reported once,
 * {@link DISK_WATCH_DELAY_MS} after the last (a CLI writes a file through a temporary one and a
 * rename). And git's state, as the watchers registered with other clients follow it: the git
 * directories of the work tree ({@link gitDirsOf}: a linked work tree's own and the common one),
 * of which only HEAD, the branches, the merge state, `git am`'s progress and the merge driver's
 * records are passed on ({@link gitChangeOf}: `git status` rewrites the index every time), so the
 * value history, the committed versions and the records are read again after a commit, a
 * checkout, a merge or a step of `git am`.
 */
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync, watch, type Dirent, type FSWatcher } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import type { FileChange } from "./watched-files.js";

/** The pause after the last change in the watched folders before they are reported (ms). */
export const DISK_WATCH_DELAY_MS = 100;

/**
 * The git directories of a work tree: its own (`gitDir`: HEAD, MERGE_HEAD, `rebase-apply/`, the
 * merge driver's records) and the common one (`commonDir`: the branches). The same folder for a
 * work tree whose `.git` is a folder; for a linked work tree (`git worktree add`, its `.git` a file
 * `gitdir: <common>/worktrees/NAME`) its own is that folder, and the common one is what its
 * `commondir` file names.
 */
export interface GitDirs {
  gitDir: string;
  commonDir: string;
}

/** The first bytes of a small file (a `.git` file, `commondir`), or undefined when it is no regular file or cannot be read. A hostile folder's `.git` may be huge or a FIFO: never more than 4 KiB is read, and only from a regular file. */
function readSmallFile(path: string): string | undefined {
  let fd: number | undefined;
  try {
    if (!statSync(path).isFile()) return undefined;
    fd = openSync(path, "r");
    const buf = Buffer.alloc(4096);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.toString("utf8", 0, n);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * The git directories of the work tree `root` is in (the nearest `.git` in it or above: a folder,
 * or a file `gitdir: PATH` as a linked work tree or a submodule has), found on disk without running
 * git; undefined outside git or when a `.git` file names nothing.
 */
export function gitDirsOf(root: string): GitDirs | undefined {
  for (let dir = root; ; dir = dirname(dir)) {
    const dotGit = join(dir, ".git");
    let isDir: boolean | undefined;
    try {
      isDir = statSync(dotGit).isDirectory();
    } catch {
      // not here: the folder above
    }
    if (isDir === true) return { gitDir: dotGit, commonDir: dotGit };
    if (isDir === false) {
      const m = /^gitdir:[ \t]*(.+?)[ \t]*$/m.exec(readSmallFile(dotGit) ?? "");
      if (m?.[1] === undefined) return undefined;
      const gitDir = resolve(dir, m[1]);
      const common = readSmallFile(join(gitDir, "commondir"))?.trim();
      return { gitDir, commonDir: common === undefined || common === "" ? gitDir : resolve(gitDir, common) };
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * The entries of a work tree's own git directory whose change means HEAD moved, a merge, rebase,
 * cherry-pick, revert or `git am` began, went on or ended (`rebase-apply` and its `next`: `git am
 * --skip`, `--continue` or `--abort` past the patch a merge record names), or the merge driver's
 * records changed (`stellar-secrets/unresolved`).
 */
const GIT_STATE_NAMES = new Set(["HEAD", "MERGE_HEAD", "REBASE_HEAD", "CHERRY_PICK_HEAD", "REVERT_HEAD", "rebase-apply", "rebase-apply/next", "stellar-secrets", "stellar-secrets/unresolved"]);

/** `path` relative to `dir`, `/`-separated, or undefined when it is not inside it. */
function inside(path: string, dir: string): string | undefined {
  const r = relative(dir, path);
  if (r.startsWith("..") || isAbsolute(r)) return undefined;
  return sep === "/" ? r : r.split(sep).join("/");
}

/**
 * What a changed `path` is to git, given the git directories of the projects' work trees: "state"
 * for HEAD, a branch (the common directory's `refs/heads`), the merge state and `git am`'s progress
 * ({@link GIT_STATE_NAMES}) and the merge driver's records; "other" for anything else in a git
 * directory (the index `git status` rewrites, locks, objects) or in a `.git` folder of no project;
 * undefined outside every git directory.
 */
export function gitChangeOf(path: string, dirs: Iterable<GitDirs>): "state" | "other" | undefined {
  let found = false;
  for (const { gitDir, commonDir } of dirs) {
    const own = inside(path, gitDir);
    if (own !== undefined) {
      found = true;
      if (GIT_STATE_NAMES.has(own) || (own.startsWith("stellar-secrets/unresolved/") && own.endsWith(".json"))) return "state";
    }
    const common = inside(path, commonDir);
    if (common !== undefined) {
      found = true;
      if (common === "refs/heads" || common.startsWith("refs/heads/")) return "state";
    }
  }
  return found || inGitFolder(path) ? "other" : undefined;
}

/**
 * The folders to watch (each without its subfolders) to see every change {@link gitChangeOf} calls
 * "state": the own git directory, the common `refs/heads` and its subfolders (a branch
 * `feature/x`), and `rebase-apply`, `stellar-secrets` and `stellar-secrets/unresolved` while they
 * exist (their appearing is seen in the folder above, after which they are watched).
 */
export function gitStateFolders(dirs: GitDirs): string[] {
  const out = [dirs.gitDir, join(dirs.gitDir, "rebase-apply"), join(dirs.gitDir, "stellar-secrets"), join(dirs.gitDir, "stellar-secrets", "unresolved")];
  const heads = join(dirs.commonDir, "refs", "heads");
  const walk = (dir: string, depth: number): void => {
    out.push(dir);
    if (depth >= 8) return;
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) walk(join(dir, e.name), depth + 1);
  };
  walk(heads, 0);
  return out.filter((d) => existsSync(d));
}

/**
 * A project's folders the server watches for a client without watchers: `root` and every folder
 * under it that the project's files can be in (not `.git`, `node_modules`, a folder reached through
 * a symbolic link, or a folder with a `stellar.yaml` of its own: another project, watched as one),
 * breadth first, at most `limit`. `truncated` when more were left out. `projectRoot`: the
 * project's root when `root` is a folder below it (created since it was walked).
 */
export function projectFolders(root: string, limit: number, projectRoot = root): { folders: string[]; truncated: boolean } {
  const folders: string[] = [];
  const name = basename(root);
  if (root !== projectRoot && (name === ".git" || name === "node_modules")) return { folders, truncated: false };
  const queue = [root];
  for (let i = 0; i < queue.length; i++) {
    const dir = queue[i] as string;
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    if (dir !== projectRoot && entries.some((e) => e.name === "stellar.yaml" && !e.isDirectory())) continue;
    if (folders.length >= limit) return { folders, truncated: true };
    folders.push(dir);
    for (const e of entries) if (e.isDirectory() && e.name !== ".git" && e.name !== "node_modules") queue.push(join(dir, e.name));
  }
  return { folders, truncated: false };
}

/** True for a path in a `.git` folder. */
export function inGitFolder(path: string): boolean {
  return path.includes(`${sep}.git${sep}`) || basename(path) === ".git";
}

export class DiskWatch {
  private readonly watchers = new Map<string, FSWatcher>();
  /** Each folder's identity (inode, birth time) when its watch began. */
  private readonly inodes = new Map<string, string>();
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

  /** Watches exactly `folders` (each without its subfolders): the new ones from now on, the others no more, and (`recheck`) one deleted and created again anew (another inode and birth time). A folder that is not there is skipped. */
  watch(folders: Iterable<string>, recheck = true): void {
    const want = new Set(folders);
    for (const [dir, w] of this.watchers) {
      if (want.has(dir)) continue;
      w.close();
      this.watchers.delete(dir);
      this.inodes.delete(dir);
    }
    for (const dir of want) {
      // (not asked to look again: a folder watched stays watched until its watch sees it go)
      if (!recheck && this.watchers.has(dir)) continue;
      let ino: string | undefined;
      try {
        const st = statSync(dir);
        // (the inode alone is no identity: a folder created again at once often gets the inode of the one deleted; where
        // the file system keeps no birth time, the watch seeing its own folder go is what tells)
        ino = `${st.ino}:${st.birthtimeMs}`;
      } catch {
        // not there (now): a watch of it follows a deleted folder
        this.watchers.get(dir)?.close();
        this.watchers.delete(dir);
        this.inodes.delete(dir);
        continue;
      }
      const had = this.watchers.get(dir);
      if (had !== undefined) {
        // the folder deleted and created again (a secrets folder removed and restored): the old watch
        // follows the deleted folder, and sees nothing of the new one
        if (this.inodes.get(dir) === ino) continue;
        had.close();
        this.watchers.delete(dir);
      }
      this.inodes.set(dir, ino);
      try {
        // the folder removed or unreadable: no longer watched (watched again when asked for and there)
        const gone = (): void => {
          w.close();
          if (this.watchers.get(dir) === w) {
            this.watchers.delete(dir);
            this.inodes.delete(dir);
          }
          this.noted(dir);
        };
        const w = watch(dir, { persistent: false }, (_event, name) => {
          // (inotify says the watched folder itself went with a "rename" of its own name: the watch
          // follows nothing any more, and a folder created in its place must be watched anew)
          if (name !== null && name !== undefined && name.toString() === basename(dir) && !existsSync(dir)) return gone();
          this.noted(name === null || name === undefined ? dir : join(dir, name.toString()));
        });
        w.on("error", gone);
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
