/**
 * The server's view of the workspace: one {@link ProjectModel} per stellar.yaml (multi-root:
 * every workspace folder, and every stellar.yaml inside it), the editor buffers that override
 * the disk, and the mapping from a file to the project that owns it. No LSP types here.
 */
import { readFile, stat } from "node:fs/promises";
import { MAX_CONFIG_FILE_BYTES } from "@stellar-secrets/sops";
import { existsSync, readdirSync, realpathSync, type Dirent } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import type { IndexCache } from "./index-cache.js";
import type { ProjectModel } from "./model.js";
import { isInside, isUnder } from "./uris.js";

/** Where the index reads text: the editor buffer of a file when it is open, else the disk. */
export interface TextSource {
  /** The open buffer of `path`, if any. */
  bufferOf(path: string): string | undefined;
  read(path: string): Promise<string | undefined>;
  /**
   * The listing of folder `path` that finding the projects just read (once: it is forgotten when
   * taken, and when the load that followed it ends), so that the loader does not list it again.
   */
  takeListing?(path: string): Dirent[] | undefined;
  /** The on-disk cache of config files' models between runs, when the server keeps one (index-cache.ts). */
  readonly indexCache?: IndexCache | undefined;
  /**
   * Asked between two pieces of a project's load (a folder entry read): undefined to go on at once,
   * or a promise to wait for (the messages that came meanwhile are handled) that resolves to true
   * when the load is to stop (`shutdown`): the model factory then throws {@link LoadStopped}.
   */
  pause?(): Promise<boolean> | undefined;
}

/** Thrown by a model factory whose load was stopped ({@link TextSource.pause}): no model, and no failure to report. */
export class LoadStopped extends Error {
  constructor(configPath: string) {
    super(`the load of ${configPath} was stopped`);
    this.name = "LoadStopped";
  }
}

/** Two turns of the event loop: the first lets the client's pipe be read, the second the messages read be dispatched. */
function twoTurns(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));
}

/** Builds the model of the project whose stellar.yaml is `configPath`. */
export type ModelFactory = (configPath: string, source: TextSource) => Promise<ProjectModel>;

/**
 * Config files bigger than this are not analysed (diagnostics: none; the server keeps answering):
 * the checker's one limit for config files (`MAX_CONFIG_FILE_BYTES` of the layout module), so the
 * editor and `check` read the same files.
 */
export const MAX_FILE_BYTES = MAX_CONFIG_FILE_BYTES;

const SKIP_DIRS = new Set(["node_modules", ".git", ".hg", ".svn", "dist", ".test-artifacts"]);

/**
 * How long the walk of {@link findConfigFiles} lists folders before it lets the messages that came
 * meanwhile be handled (ms): a client whose workspace folder is the user's home or the file system's
 * root (Helix, vim-lsp or Kate started outside a project take the current folder) made the server
 * walk for seconds without answering anything, `shutdown` included.
 */
export const WALK_SLICE_MS = 20;

/**
 * Every stellar.yaml under `dir` (not inside node_modules/.git), at most `depth` levels down.
 * The folders are listed synchronously: the initial index that follows blocks anyway, and one
 * round trip through the thread pool per folder only made the first answer later; a long walk
 * still lets other messages through every {@link WALK_SLICE_MS}.
 */
export async function findConfigFiles(dir: string, depth = 6, listings?: Map<string, Dirent[]>, sliceMs = WALK_SLICE_MS, stop?: () => boolean): Promise<string[]> {
  const found: string[] = [];
  let sliceStart = Date.now();
  let stopped = false;
  async function walk(d: string, level: number): Promise<void> {
    if (stopped) return;
    if (Date.now() - sliceStart >= sliceMs) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      sliceStart = Date.now();
      // (`shutdown` came meanwhile: the folders not listed yet are left)
      if (stop?.() === true) stopped = true;
      if (stopped) return;
    }
    let entries: Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    listings?.set(d, entries);
    for (const e of entries) {
      if (e.isFile() && e.name === "stellar.yaml") found.push(join(d, e.name));
    }
    if (level >= depth) return;
    for (const e of entries) {
      if (e.isDirectory() && !SKIP_DIRS.has(e.name) && !e.name.startsWith(".")) await walk(join(d, e.name), level + 1);
    }
  }
  await walk(dir, 0);
  // a stellar.yaml above the folder (the folder is a sub-directory of a secrets repository)
  const above = findConfigAbove(dirname(dir));
  if (above !== undefined) found.push(above);
  return found.sort();
}

/** The nearest stellar.yaml in `dir` or a folder above it, up to the file system's root; undefined when there is none. */
export function findConfigAbove(dir: string): string | undefined {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, "stellar.yaml"))) return join(d, "stellar.yaml");
    if (dirname(d) === d) return undefined;
  }
}

/** The real path of `path` (symbolic links resolved, in the file system's own case), or undefined when it does not exist. */
function realPath(path: string): string | undefined {
  try {
    return realpathSync.native(path);
  } catch {
    return undefined;
  }
}

/**
 * `path` as the server names it: itself when it is under one of `roots` (workspace folders, project
 * roots) or reaches none of them; else the same place under the root it reaches another way (a
 * symbolic link on the way, or another case of a case-insensitive file system: macOS, Windows), so
 * that a document opened that way is the project's file, not the file of a second copy of the project.
 * The nearest existing folder of `path` (a file not yet saved may not exist) and each root are
 * compared by their real paths (`realpathSync.native`).
 */
export function pathUnderRoots(path: string, roots: readonly string[]): string {
  if (roots.length === 0 || roots.some((r) => isUnder(path, r))) return path;
  let existing = path;
  const rest: string[] = [];
  let real = realPath(existing);
  while (real === undefined) {
    const parent = dirname(existing);
    if (parent === existing) return path;
    rest.unshift(basename(existing));
    existing = parent;
    real = realPath(existing);
  }
  for (const root of roots) {
    const realRoot = realPath(root);
    if (realRoot === undefined || !isUnder(real, realRoot)) continue;
    const rel = relative(realRoot, real);
    return join(root, ...(rel === "" ? [] : rel.split(/[\\/]/)), ...rest);
  }
  return path;
}

/** Options of {@link Workspace.loadFolders}. */
export interface LoadFoldersOptions {
  /**
   * Asked between two pieces of the work (folders listed, projects loaded): true stops it there
   * (`shutdown` came). The projects loaded so far stay; none is forgotten for not being found.
   */
  stop?: () => boolean;
  /** How long the work runs before it lets the messages that came meanwhile be handled (ms); default {@link WALK_SLICE_MS}. */
  sliceMs?: number;
}

/** The projects of a workspace and the open buffers. */
export class Workspace implements TextSource {
  private readonly projects = new Map<string, ProjectModel>(); // by root
  private readonly buffers = new Map<string, string>();
  /** The on-disk cache of config files' models (set by the server when it keeps one). */
  indexCache: IndexCache | undefined;

  constructor(private readonly factory: ModelFactory) {}

  /** Every project, ordered by root. */
  all(): ProjectModel[] {
    return [...this.projects.values()].sort((a, b) => (a.root < b.root ? -1 : 1));
  }

  /** The project with this root. */
  get(root: string): ProjectModel | undefined {
    return this.projects.get(root);
  }

  bufferOf(path: string): string | undefined {
    return this.buffers.get(path);
  }

  /** Text of `path`: the open buffer, else the disk (undefined when missing, binary or too large). */
  async read(path: string): Promise<string | undefined> {
    const b = this.buffers.get(path);
    if (b !== undefined) return b;
    try {
      const st = await stat(path);
      if (!st.isFile() || st.size > MAX_FILE_BYTES) return undefined;
      const bytes = await readFile(path);
      if (bytes.includes(0)) return undefined; // binary
      return bytes.toString("utf8");
    } catch {
      return undefined;
    }
  }

  /**
   * Loads (or reloads) the project of one stellar.yaml. `replaceOnly`: the model is kept only when
   * the project is still loaded once it is built (a reload: a project dropped meanwhile, its folder
   * removed while it loaded, is not brought back); the model is returned either way.
   */
  async load(configPath: string, replaceOnly = false): Promise<ProjectModel> {
    const model = await this.factory(resolve(configPath), this);
    if (!replaceOnly || this.projects.has(model.root)) this.projects.set(model.root, model);
    return model;
  }

  /** Forgets a project (its stellar.yaml was deleted or its folder removed). */
  unload(root: string): void {
    this.projects.delete(root);
  }

  /**
   * Loads every project found in `folders` (and `configPath` overrides, per folder), plus the
   * stellar.yaml files of `extraConfigs` that still exist (projects of files opened outside every
   * folder); forgets every other project. Returns the projects that could not be loaded, with why
   * (each is skipped; the others are loaded).
   */
  async loadFolders(folders: { path: string; configPath?: string | undefined }[], extraConfigs: readonly string[] = [], options: LoadFoldersOptions = {}): Promise<{ configPath: string; error: unknown }[]> {
    const { stop, sliceMs = WALK_SLICE_MS } = options;
    const configs = new Set<string>();
    for (const c of extraConfigs) if (existsSync(c)) configs.add(resolve(c));
    for (const f of folders) {
      if (f.configPath) {
        const p = isAbsolute(f.configPath) ? f.configPath : join(f.path, f.configPath);
        if (existsSync(p)) configs.add(resolve(p));
      } else {
        for (const c of await findConfigFiles(f.path, undefined, this.listings, sliceMs, stop)) configs.add(c);
      }
      // stopped (`shutdown`): the projects found so far are not all of them, and none is forgotten for it
      if (stop?.() === true) {
        this.listings.clear();
        return [];
      }
    }
    for (const [root, m] of [...this.projects]) if (!configs.has(m.configPath)) this.projects.delete(root);
    // one project that cannot be loaded (its stellar.yaml deleted or made unreadable since it was
    // found) is reported, and the others are still loaded: it no longer ends the whole index
    const failures: { configPath: string; error: unknown }[] = [];
    // the loads pause every sliceMs, between two projects and inside one ({@link pause}): a load
    // resolves in a microtask, and one project's load is synchronous, so without a turn of the event
    // loop a workspace of many projects, or of one of thousands of files, was loaded without reading
    // a message (`shutdown` waited for all of it)
    this.pausing = { stop, sliceMs, sliceStart: Date.now() };
    try {
      for (const c of [...configs].sort()) {
        const pause = this.pause();
        if ((pause !== undefined && (await pause)) || stop?.() === true) break;
        try {
          await this.load(c);
        } catch (error) {
          if (error instanceof LoadStopped) break;
          failures.push({ configPath: c, error });
        }
      }
      return failures;
    } finally {
      this.pausing = undefined;
      this.listings.clear(); // only the loads that follow the listing at once may use it
    }
  }

  /** While {@link loadFolders} loads: when it last let messages through, how often it does, and whether to stop. */
  private pausing: { stop: (() => boolean) | undefined; sliceMs: number; sliceStart: number } | undefined;

  pause(): Promise<boolean> | undefined {
    const p = this.pausing;
    if (p === undefined || Date.now() - p.sliceStart < p.sliceMs) return undefined;
    return twoTurns().then(() => {
      p.sliceStart = Date.now();
      return p.stop?.() === true;
    });
  }

  /** Folder listings read while finding the projects, for the loads that follow ({@link takeListing}). */
  private readonly listings = new Map<string, Dirent[]>();

  takeListing(path: string): Dirent[] | undefined {
    const l = this.listings.get(path);
    if (l !== undefined) this.listings.delete(path);
    return l;
  }

  /** The innermost project that owns `path`. */
  projectOf(path: string): ProjectModel | undefined {
    let best: ProjectModel | undefined;
    for (const p of this.projects.values()) {
      if (isInside(path, p.root) && p.owns(path) && (best === undefined || p.root.length > best.root.length)) best = p;
    }
    return best;
  }

  /** Records an open/changed buffer. */
  setBuffer(path: string, text: string): void {
    this.buffers.set(path, text);
  }

  /** Forgets a closed buffer. */
  dropBuffer(path: string): void {
    this.buffers.delete(path);
  }

  /** The paths of the files open in the editor. */
  openPaths(): string[] {
    return [...this.buffers.keys()];
  }

  /** True when the file is open in the editor (its buffer wins over the disk). */
  isOpen(path: string): boolean {
    return this.buffers.has(path);
  }

  /** The stellar.yaml files of the loaded projects. */
  configPaths(): string[] {
    return [...this.projects.values()].map((m) => m.configPath);
  }
}
