/**
 * Files changed on disk (`workspace/didChangeWatchedFiles`, and the client's own
 * `stellarSecrets/filesChanged`): re-read them into the index, drop every indexed file under a
 * deleted folder, reload the project of a changed stellar.yaml, look at the secrets folder again
 * (`missing-secrets-dir`) when environment files or folders appear or disappear, read the files
 * config.exclude keeps out again (`unknown-reference`'s hint) when one changes. An open buffer
 * wins over the disk until it is closed. Changes of git's HEAD, branches and MERGE_HEAD (etc.) are watched too,
 * and passed on with the rest to whoever follows disk changes (what `git-reads.ts` reads from git).
 */
import { existsSync, readdirSync, statSync, type Dirent } from "node:fs";
import { basename, dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Disposable } from "vscode-languageserver/node";
import { DidChangeWatchedFilesNotification, FileChangeType, WatchKind } from "./lsp.js";
import { environmentOfFileName } from "@stellar-secrets/sops";
import type { ProjectModel } from "./model.js";
import { flushInSlices } from "./check-slices.js";
import { DiskWatch, gitChangeOf, gitDirsOf, gitStateFolders, projectFolders, type GitDirs } from "./disk-watch.js";
import { CHECK_SLICE_MS, type ProjectLoader } from "./projects.js";
import type { ServerState } from "./state.js";
import { isInside, isUnder, uriToPath } from "./uris.js";
import { GIT_WATCHERS, gitWatchPatterns } from "./git-reads.js";

/** The most project folders the server watches itself for a client without watchers (one inotify watch each on Linux, whose default limit per user is 8,192 on older kernels). */
export const MAX_WATCHED_FOLDERS = 2000;

/** `.gitattributes` in any folder, in any case (a case-insensitive checkout opens `.GitAttributes` as it). */
export const GITATTRIBUTES_GLOB = "**/.[gG][iI][tT][aA][tT][tT][rR][iI][bB][uU][tT][eE][sS]";

/** One changed file. */
export interface FileChange {
  path: string;
  deleted: boolean;
}

/** Re-reads changed files into the index. */
export class WatchedFiles {
  /** How long the re-check after files changed on disk runs before it lets waiting messages be handled (ms); {@link CHECK_SLICE_MS}, for tests (0: a pause after every piece). */
  checkSliceMs = CHECK_SLICE_MS;

  constructor(
    private readonly state: ServerState,
    private readonly projects: ProjectLoader,
    /** Called with every changed path (after the index took them in), e.g. to read a value history again. */
    private readonly diskChanged: (paths: string[]) => void = () => {},
  ) {}

  /**
   * Asks the client to watch the files the index reads, git's HEAD, branches and merge state, plus
   * deletions of anything (when it supports dynamic registration); settles when the client
   * answered, refused, or did not answer in time (`ServerState.clientAnswer`). Never throws.
   */
  async registerWatchers(): Promise<void> {
    if (!this.state.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration) {
      // the server depends on no watcher: it still takes the changes such a client reports, and reads a file when it is opened
      this.state.log(
        "the client cannot register file watchers (no workspace.didChangeWatchedFiles.dynamicRegistration): the server watches each project's folders itself (every folder of the project, not node_modules, up to 2,000 folders), and git's state (HEAD, the branches, a merge, rebase or git am in progress, a linked work tree's too); files changed on disk in other folders are seen when the client reports them with workspace/didChangeWatchedFiles, or when they are opened",
      );
      return;
    }
    const registered = this.state.connection.client.register(DidChangeWatchedFilesNotification.type, {
      // files we read, plus deletions of anything (a deleted folder arrives as the folder only; `.age`: inbox proposals), plus git's HEAD, branches and merge state
      // (and .gitattributes, which git-attributes reads, in any case: a case-insensitive checkout opens .GitAttributes as it)
      watchers: [{ globPattern: "**/*.{yaml,yml,json,age}" }, { globPattern: GITATTRIBUTES_GLOB }, { globPattern: "**/*", kind: WatchKind.Delete }, ...GIT_WATCHERS.map((globPattern) => ({ globPattern }))],
    });
    // refused or unanswered: no disk changes, but the index is still built
    await this.state.clientAnswer(registered, "registering the file watchers");
  }

  /** The folders above project roots and the git patterns watched now (sorted, joined), and their registration. */
  #aboveRootKey = "";
  #aboveRootRegistration: Promise<Disposable> | undefined;

  /**
   * Watches what lies outside the workspace folders, as relative patterns: the folders above the
   * roots of projects in a subfolder of their repository (each folder's own entries: its
   * `.gitattributes` and `.sops.yaml`, which the check reads), outside the workspace folder when
   * the editor opened the project's folder, where the watchers of {@link registerWatchers} do not
   * reach; and each project's git directories ({@link gitWatchPatterns}: a linked work tree's are
   * `<common>/worktrees/NAME` and the common `refs/heads`, a repository above the folder opened has
   * its `.git` above it). Registered again when the set changed (a project found, reloaded or
   * gone); needs the client's `relativePatternSupport` (VS Code has it), else the server takes the
   * changes such a client reports. Never throws.
   */
  async watchAboveRoots(): Promise<void> {
    const watch = this.state.capabilities.workspace?.didChangeWatchedFiles;
    if (!watch?.dynamicRegistration || !watch.relativePatternSupport) return;
    const folders = [...new Set(this.state.workspace.all().flatMap((m) => m.aboveRootFolders()))].sort();
    const patterns = new Map<string, { base: string; pattern: string }>();
    for (const m of this.state.workspace.all()) {
      const dirs = this.gitDirsOfModel(m);
      if (dirs === undefined) continue;
      // (a `.git` folder inside a workspace folder is under the globs of registerWatchers already)
      const globbed = (dir: string): boolean => basename(dir) === ".git" && this.state.folderPaths().some((f) => isInside(dir, f));
      for (const p of gitWatchPatterns(dirs)) if (!globbed(p.base)) patterns.set(`${p.base}\n${p.pattern}`, p);
    }
    const gitKeys = [...patterns.keys()].sort();
    const key = [...folders, ...gitKeys].join("\n");
    if (key === this.#aboveRootKey) return;
    this.#aboveRootKey = key;
    const previous = this.#aboveRootRegistration;
    this.#aboveRootRegistration = undefined;
    if (previous !== undefined) await this.state.clientAnswer(previous.then((d) => d.dispose()), "unregistering the watchers above project roots");
    if (folders.length === 0 && gitKeys.length === 0) return;
    const registered = this.state.connection.client.register(DidChangeWatchedFilesNotification.type, {
      watchers: [
        ...folders.map((folder) => ({ globPattern: { baseUri: pathToFileURL(folder).href, pattern: "*" } })),
        ...gitKeys.map((k) => patterns.get(k)!).map((p) => ({ globPattern: { baseUri: pathToFileURL(p.base).href, pattern: p.pattern } })),
      ],
    });
    this.#aboveRootRegistration = registered;
    await this.state.clientAnswer(registered, "registering the watchers above project roots");
  }

  /** Each model's git directories, found once per model (a project reloaded is a new model), or again after changes on disk ({@link gitDirsOfModel}). */
  private readonly gitDirs = new WeakMap<ProjectModel, GitDirs | null>();

  /** The git directories of a project's work tree ({@link gitDirsOf}), found once per model: this runs after every index change (each pause in typing), and they rarely change. `again`: found anew (after changes on disk). */
  private gitDirsOfModel(m: ProjectModel, again = false): GitDirs | undefined {
    let dirs = again ? undefined : this.gitDirs.get(m);
    if (dirs === undefined) {
      dirs = gitDirsOf(m.root) ?? null;
      this.gitDirs.set(m, dirs);
    }
    return dirs ?? undefined;
  }

  /** Each model's git state folders watched ({@link gitStateFolders}), found again only after changes on disk. */
  private readonly gitFolders = new WeakMap<ProjectModel, string[]>();

  /** The server's own watch of the disk, for a client that cannot register watchers ({@link watchDiskItself}). */
  private disk: DiskWatch | undefined;
  /** Each project's folders watched by {@link disk} (by root; {@link projectFolders}, then the folders seen created). */
  private readonly folders = new Map<string, Set<string>>();
  /** At most this many project folders are watched in all (one inotify watch each on Linux), each project's root whatever the count; logged once when reached. */
  maxFolders = MAX_WATCHED_FOLDERS;
  private foldersCut = false;

  /**
   * For a client that cannot register file watchers: watches every folder of each project (the
   * root, each folder under it the project's files can be in, the secrets folder; each without its
   * subfolders: node's `fs.watch`, one inotify watch a folder on Linux) and the state of its git
   * work tree ({@link gitStateFolders}: a linked work tree's own git directory and the common
   * branches too), and re-reads what changes there as if the client had reported it; a folder
   * created in a watched one is watched from then on and its files read. Call after the index is
   * built and whenever projects come or go: the folders watched follow the projects. Nothing for a
   * client that registers watchers. `afterDiskChanges`: the git state folders are found again and
   * each folder watched is checked to be the one watched (deleted and created again: watched anew);
   * otherwise (after an index change: each pause in typing) nothing is read from the disk for the
   * folders already watched.
   */
  watchDiskItself(afterDiskChanges = false): void {
    const client = this.state.capabilities.workspace?.didChangeWatchedFiles;
    if ((client?.dynamicRegistration && client.relativePatternSupport) || this.state.shuttingDown) return;
    // a client that registers the globs but no relative patterns: the globs reach the workspace
    // folders only, so the git directories outside them are watched here, and nothing else
    const gitOutsideOnly = client?.dynamicRegistration === true;
    if (gitOutsideOnly) return this.watchGitOutside(afterDiskChanges);
    this.disk ??= new DiskWatch(
      (changes) => void this.diskChangedItself(changes).catch((e: unknown) => this.state.logFailure("files changed on disk", e)),
      (line) => this.state.log(line),
    );
    const models = this.state.workspace.all();
    for (const root of [...this.folders.keys()]) if (!models.some((m) => m.root === root)) this.folders.delete(root);
    const want = new Set<string>();
    let count = 0;
    for (const m of models) {
      // (a client that reports changes itself: git's state only, which its watcher of the workspace does not see)
      let mine = this.clientReports ? new Set<string>() : this.folders.get(m.root);
      if (mine === undefined) {
        const { folders, truncated } = projectFolders(m.root, Math.max(1, this.maxFolders - count));
        if (truncated) this.folderLimitReached();
        mine = new Set(folders);
        this.folders.set(m.root, mine);
      }
      count += mine.size;
      for (const f of mine) want.add(f);
      const secretsDir = m.config?.secretsDir;
      if (secretsDir !== undefined && !this.clientReports) want.add(join(m.root, secretsDir));
      let git = afterDiskChanges ? undefined : this.gitFolders.get(m);
      if (git === undefined) {
        const dirs = this.gitDirsOfModel(m, afterDiskChanges);
        git = dirs === undefined ? [] : gitStateFolders(dirs);
        this.gitFolders.set(m, git);
      }
      for (const f of git) want.add(f);
    }
    for (const f of this.aboveRootOutside()) want.add(f);
    this.disk.watch(want, afterDiskChanges);
  }

  /** The folders above project roots outside every workspace folder that the server watches itself ({@link aboveRootOutside}). */
  private aboveOutside = new Set<string>();

  /**
   * The folders above the roots of projects in a subfolder of their repository (their
   * `.gitattributes` and `.sops.yaml`, which the check reads) that are outside every workspace
   * folder: a client's watchers never reach them, nor the server's own watch of the project folders,
   * so for a client without relative patterns the server watches them itself (noted in
   * {@link aboveOutside}: their changes are passed on whoever reports the rest).
   */
  private aboveRootOutside(): Set<string> {
    const folderPaths = this.state.folderPaths();
    const out = new Set<string>();
    for (const m of this.state.workspace.all()) for (const f of m.aboveRootFolders()) if (!folderPaths.some((w) => isInside(f, w))) out.add(f);
    this.aboveOutside = out;
    return out;
  }

  /** Logged once: the server watches git directories outside the workspace folders itself. */
  private gitOutsideLogged = false;

  /**
   * For a client that registers watchers (the globs of {@link registerWatchers}, which match only
   * inside the workspace folders) but not relative patterns (no `relativePatternSupport`, so
   * {@link watchAboveRoots} registers nothing): the git state folders ({@link gitStateFolders}) of
   * each project's git directories that the globs do not reach are watched with the server's own
   * {@link DiskWatch}: a linked work tree's own git directory (`<common>/worktrees/NAME`, never a
   * `.git` folder), and the common directory's branches and a repository's `.git` when outside
   * every workspace folder. Nothing else: the client reports the rest, and nothing is reported
   * twice. Before, a commit in such a linked work tree was never seen (the value history, the
   * committed versions).
   */
  private watchGitOutside(afterDiskChanges: boolean): void {
    const folderPaths = this.state.folderPaths();
    // (a `.git` folder inside a workspace folder: the globs `**/.git/HEAD` … match there)
    const globbed = (dir: string): boolean => basename(dir) === ".git" && folderPaths.some((f) => isInside(dir, f));
    const want = new Set<string>();
    for (const m of this.state.workspace.all()) {
      const dirs = this.gitDirsOfModel(m, afterDiskChanges);
      if (dirs === undefined) continue;
      let git = afterDiskChanges ? undefined : this.gitFolders.get(m);
      if (git === undefined) {
        git = gitStateFolders(dirs);
        this.gitFolders.set(m, git);
      }
      const heads = join(dirs.commonDir, "refs", "heads");
      const ownGlobbed = globbed(dirs.gitDir);
      const headsGlobbed = globbed(dirs.commonDir);
      for (const f of git) if (isUnder(f, heads) ? !headsGlobbed : !ownGlobbed) want.add(f);
    }
    for (const f of this.aboveRootOutside()) want.add(f);
    if (want.size === 0 && this.disk === undefined) return;
    this.disk ??= new DiskWatch(
      (changes) => void this.diskChangedItself(changes).catch((e: unknown) => this.state.logFailure("files changed on disk", e)),
      (line) => this.state.log(line),
    );
    if (want.size > 0 && !this.gitOutsideLogged) {
      this.gitOutsideLogged = true;
      this.state.log(
        "the client registers file watchers but not relative patterns (no workspace.didChangeWatchedFiles.relativePatternSupport): the server watches the git directories outside the workspace folders itself (a linked work tree's, a repository above the folder opened), for HEAD, the branches and a merge, rebase or git am in progress, and the folders above a project's root outside them (.gitattributes, .sops.yaml)",
      );
    }
    this.disk.watch(want, afterDiskChanges);
  }

  private folderLimitReached(): void {
    if (this.foldersCut) return;
    this.foldersCut = true;
    this.state.log(`the server watches at most ${this.maxFolders} project folders itself: files changed on disk in the other folders are seen when opened, or when the client reports them`);
  }

  /**
   * Changes the server's own watch saw: in a git directory only git's state ({@link gitChangeOf});
   * a folder created in a watched one is watched, and its files (and those of its subfolders) are
   * read as created; then the folders watched follow (`rebase-apply` appearing or going, a folder
   * deleted).
   */
  private async diskChangedItself(changes: FileChange[]): Promise<void> {
    const dirs: GitDirs[] = [];
    for (const m of this.state.workspace.all()) {
      const d = this.gitDirsOfModel(m, true);
      if (d !== undefined) dirs.push(d);
    }
    const kept: FileChange[] = [];
    let refresh = false;
    for (const c of changes) {
      const git = gitChangeOf(c.path, dirs);
      // (a client that registers watchers reports the rest itself: only git's state outside its globs, and the folders above
      // project roots outside the workspace folders, are watched here)
      const above = this.aboveOutside.has(dirname(c.path)) || this.aboveOutside.has(c.path);
      if (git === "other" || (git === undefined && !above && (this.clientReports || this.state.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration === true))) continue;
      if (git === "state") {
        kept.push(c);
        refresh = true;
        continue;
      }
      if (c.deleted) {
        for (const mine of this.folders.values()) {
          for (const f of [...mine]) if (isUnder(f, c.path)) mine.delete(f);
        }
        refresh = true;
        kept.push(c);
        continue;
      }
      let isDir = false;
      try {
        isDir = statSync(c.path).isDirectory();
      } catch {
        // gone meanwhile: its deletion follows
      }
      if (!isDir) {
        kept.push(c);
        continue;
      }
      // a folder created (a `git checkout` of a branch that has it, a folder moved in): its files are new to the index
      const model = this.state.workspace.all().filter((m) => isInside(c.path, m.root) && this.folders.has(m.root)).sort((a, b) => b.root.length - a.root.length)[0];
      const mine = model === undefined ? undefined : this.folders.get(model.root);
      if (mine === undefined || mine.has(c.path)) continue;
      let count = 0;
      for (const s of this.folders.values()) count += s.size;
      const { folders, truncated } = projectFolders(c.path, Math.max(0, this.maxFolders - count), model!.root);
      if (truncated) this.folderLimitReached();
      for (const f of folders) mine.add(f);
      // watched before they are listed: a file written in between is seen either way
      refresh = true;
      this.watchDiskItself(true);
      for (const f of folders) {
        let entries: Dirent[];
        try {
          entries = readdirSync(f, { withFileTypes: true });
        } catch {
          continue;
        }
        for (const e of entries) if (!e.isDirectory()) kept.push({ path: join(f, e.name), deleted: false });
      }
    }
    if (refresh) this.watchDiskItself(true);
    if (kept.length > 0) await this.filesChanged(kept);
  }

  /** True once the client reported files changed on disk (`workspace/didChangeWatchedFiles`) without having registered watchers: it watches them itself. */
  private clientReports = false;

  /**
   * A `workspace/didChangeWatchedFiles` came: a client that did not register watchers has a
   * watcher of its own, and the server's own watch of the project folders stops (two reads of each
   * change, one of them perhaps of a file half written, would only disagree). Git's state is still
   * watched: a client's watcher of the workspace seldom reports `.git` (and never a linked work
   * tree's git directories, outside the workspace), and a change there only makes the server read
   * git again.
   */
  private clientWatches(): void {
    if (this.clientReports) return;
    this.clientReports = true;
    // (a client that registered watchers: the server watches only git directories outside its globs, as before)
    if (this.disk === undefined || this.state.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration === true) return;
    this.folders.clear();
    this.watchDiskItself(true);
    this.state.log("the client reports files changed on disk itself (workspace/didChangeWatchedFiles): the server's own watch of the project folders stopped (git's state is still watched)");
  }

  /** Stops the server's own watch of the disk. */
  dispose(): void {
    this.disk?.dispose();
  }

  /** Registers `workspace/didChangeWatchedFiles`. */
  register(): void {
    const { state } = this;
    state.connection.onDidChangeWatchedFiles(
      state.guard("watched files", undefined, async (params) => {
        this.clientWatches();
        const paths = params.changes
          .map((c) => ({ path: uriToPath(c.uri), deleted: c.type === FileChangeType.Deleted }))
          .filter((c): c is FileChange => c.path !== undefined);
        await this.filesChanged(paths);
      }),
    );
  }

  /** Re-reads files from disk and reports what changed. */
  async filesChanged(changes: FileChange[]): Promise<void> {
    const { workspace } = this.state;
    const affected = new Set<string>();
    const roots = new Set<string>();
    const reload = new Set<string>();
    const staged = new Set<ProjectModel>();
    // A deleted (or moved-away) folder: every indexed file under it is gone too. Editors report the
    // folder itself, not each file inside it.
    const expanded: FileChange[] = [];
    for (const change of changes) {
      expanded.push(change);
      if (change.deleted && !existsSync(change.path)) {
        for (const m of workspace.all()) for (const p of m.indexedUnder(change.path)) expanded.push({ path: p, deleted: true });
      }
    }
    for (const { path, deleted } of expanded) {
      if (basename(path) === "stellar.yaml") {
        if (!workspace.isOpen(path)) reload.add(path);
        continue;
      }
      if (workspace.isOpen(path)) continue; // the buffer wins until it is closed
      const model = workspace.projectOf(path) ?? workspace.all().find((m) => m.owns(path));
      if (model === undefined) continue;
      const text = deleted ? undefined : await workspace.read(path);
      if (workspace.isOpen(path)) continue; // opened while the disk was read: the buffer wins
      // staged, and each project checked once below: a git checkout of another branch changes hundreds
      // of files at once, and a check per file (a deletion is read without a pause) held the thread for seconds
      model.stage(path, text);
      staged.add(model);
      roots.add(model.root);
    }
    // (a slice at a time: an environment file saved re-checks every config file of its project)
    for (const model of staged) for (const p of await flushInSlices(model, this.checkSliceMs)) affected.add(p);
    for (const c of reload) await this.projects.reloadProject(c);
    // an environment file (anywhere: one beside the secrets folder is a "did you mean") or anything
    // deleted (the secrets folder itself): what missing-secrets-dir says may have changed, as `check` would say it
    const survey = new Set<ProjectModel>();
    for (const { path, deleted } of changes) {
      if (!deleted && environmentOfFileName(basename(path)) === undefined) continue;
      for (const model of workspace.all()) if (!reload.has(model.configPath) && isUnder(path, model.root)) survey.add(model);
    }
    for (const model of survey) {
      const changed = model.resurveySecretsDir();
      if (changed.size === 0) continue;
      for (const p of changed) affected.add(p);
      roots.add(model.root);
    }
    // a file config.exclude keeps out (created, edited, deleted): what unknown-reference says of the names it defines, as `check` would say it
    for (const model of workspace.all()) {
      if (reload.has(model.configPath)) continue;
      const under = changes.map((c) => c.path).filter((p) => isUnder(p, model.root));
      if (under.length === 0) continue;
      const changed = model.excludedFilesChanged(under);
      if (changed.size === 0) continue;
      for (const p of changed) affected.add(p);
      roots.add(model.root);
    }
    // a .gitattributes or .sops.yaml in a folder above a project's root (a project in a subfolder of
    // its repository): what git-attributes and sops-config-drift say of it, as `check` would say it now
    for (const model of workspace.all()) {
      if (reload.has(model.configPath)) continue;
      const changed = model.aboveRootChanged(expanded.map((c) => c.path));
      if (changed.size === 0) continue;
      for (const p of changed) affected.add(p);
      roots.add(model.root);
    }
    if (affected.size > 0 || roots.size > 0) this.state.indexChanged(affected, [...roots]);
    this.diskChanged(expanded.map((c) => c.path));
  }
}
