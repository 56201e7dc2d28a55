/**
 * The server's on-disk cache of config files' models between runs (core's `ConfigModelCache`):
 * where it lives, whether it is on, reading it (strictly: owner, mode, size) and writing it
 * (atomically, soon after the first answers, and at exit when anything changed since).
 *
 * It lives outside the repository, in the folder the client gives (`initializationOptions.indexCacheDir`:
 * the VS Code extension passes its storage folder), else `$XDG_CACHE_HOME/stellar-secrets`,
 * `~/.cache/stellar-secrets` (`%LOCALAPPDATA%\stellar-secrets` on Windows); one file per project,
 * named after the SHA-256 of the project root's realpath. A folder inside the repository (a client's
 * or `XDG_CACHE_HOME` pointing there) is never used: a cache committed there would arrive in every
 * clone as the user's own file and be trusted; nor is a cache read from a folder that is a symbolic
 * link, another user's, or writable by others (where none is written either). Off with the `stellarSecrets.indexCache`
 * setting set to false, with `STELLAR_SECRETS_NO_INDEX_CACHE=1`, and when the code has no build tag
 * (the tsc output a development checkout runs: only a bundle says which code made a model).
 */
import { closeSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, realpathSync, renameSync, rmSync, writeFileSync, constants } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, isAbsolute, join, sep, win32 } from "node:path";
import { ConfigModelCache, MAX_MODEL_CACHE_CHARS, type ConfigFile } from "@stellar-secrets/core";
import { createHash } from "@stellar-secrets/sops";

/** The environment variable that turns the cache off (for tests and benchmarks that need a cold start). */
export const NO_INDEX_CACHE_ENV = "STELLAR_SECRETS_NO_INDEX_CACHE";
/** How long after the first check a project's cache is written (the first answers and diagnostics go out first). */
export const FIRST_WRITE_DELAY_MS = 1000;

/** A project's cache for one load, and what to do once it is over. */
export interface ProjectIndexCache {
  /** Pass to `loadWorkspace` as `configModels`, and tell it of every model parsed later (`parsed`). */
  readonly models: ConfigModelCache;
  /** The load is over (`count` config models): drops what it did not use. */
  loaded(count: number): void;
  /** A config file of the project changed: the cache is written after the next check. */
  touch(): void;
  /** A check ran: when something changed since the last write (or the load read anything new), the cache is written after a pause, from `current()`'s models then. */
  checked(current: () => Iterable<ConfigFile>): void;
}

/** Options of {@link IndexCache}. */
export interface IndexCacheOptions {
  /** The code's build tag (the bundle's last line); undefined: the cache is off. */
  build: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Where the cache files go when the client gives no folder (default: the user's cache folder). */
  defaultDir?: string | undefined;
  log?: (message: string) => void;
}

/** The server's caches of models, one file per project root. */
export class IndexCache {
  /** The folder the client gave (`initializationOptions.indexCacheDir`), when it gave one. */
  clientDir: string | undefined;
  /** The `stellarSecrets.indexCache` setting of the folder holding a project root (set by the server). */
  enabledFor: (root: string) => boolean = () => true;
  private readonly pending = new Map<string, { timer: NodeJS.Timeout | undefined; write: () => void }>();
  private exitHooked = false;
  private readonly saidOff = new Set<string>();
  private readonly log: (message: string) => void;

  constructor(private readonly options: IndexCacheOptions) {
    this.log = options.log ?? (() => undefined);
  }

  /** Why the cache is off for every project, or undefined when it is not. */
  offReason(): string | undefined {
    if (this.options.build === undefined) return "this build has no build tag";
    if ((this.options.env ?? process.env)[NO_INDEX_CACHE_ENV] === "1") return `${NO_INDEX_CACHE_ENV}=1`;
    return undefined;
  }

  /** The folder of the cache files. */
  dir(): string | undefined {
    if (this.clientDir !== undefined && isAbsolute(this.clientDir)) return this.clientDir;
    return this.options.defaultDir ?? defaultCacheDir(this.options.env ?? process.env);
  }

  /**
   * The cache of the project at `root` for one load (read from its file, checked; an empty one
   * when there is none or it is not usable), or undefined when the cache is off. Never throws.
   */
  open(root: string): ProjectIndexCache | undefined {
    const off = this.offReason() ?? (this.enabledFor(root) ? undefined : "the stellarSecrets.indexCache setting is false");
    if (off !== undefined) {
      // said once per reason: why a start parses every file
      if (!this.saidOff.has(off)) this.log(`index cache: off (${off})`);
      this.saidOff.add(off);
      return undefined;
    }
    const dir = this.dir();
    if (dir === undefined) return undefined;
    let real: string;
    try {
      real = realpathSync(root);
    } catch {
      return undefined;
    }
    // a cache folder inside the repository: its files are the repository's (a clone makes them the
    // user's own, 0644), so a cache committed there would be trusted: never read nor written
    const inside = folderInRepository(dir, real);
    if (inside !== undefined) {
      const why = `the cache folder ${dir} is inside the repository ${inside}`;
      if (!this.saidOff.has(why)) this.log(`index cache: off (${why}; give the server a folder outside it)`);
      this.saidOff.add(why);
      return undefined;
    }
    const file = join(dir, cacheFileName(real));
    const identity = { build: this.options.build as string, runtime: process.version, root: real };
    const folder = unsafeFolder(dir);
    const read = folder === undefined ? readCacheFile(file) : { why: folder };
    const models = read.text === undefined ? ConfigModelCache.empty(identity, read.why) : ConfigModelCache.parse(read.text, identity);
    let dirty = models.stats.ignored !== undefined;
    return {
      models,
      loaded: (count) => {
        const left = models.endLoad();
        dirty ||= left > 0 || models.stats.recorded > 0;
        const s = models.stats;
        this.log(`index cache: ${s.hits} of ${count} config models from ${file}${s.ignored !== undefined ? ` (${s.ignored === "none" ? "no cache yet" : `not used: ${s.ignored}`})` : ""}`);
      },
      touch: () => {
        dirty = true;
      },
      checked: (current) => {
        if (!dirty) return;
        dirty = false;
        this.schedule(file, dir, () => models.serialize(current()));
      },
    };
  }

  /**
   * Writes the cache of `file` soon after the first answers, and what changed later at exit only:
   * a write serializes every model synchronously (~0.6 s of the server's event loop for 50,000
   * files), which must not follow each pause in typing. A server killed before its exit loses
   * only that: the files changed since simply miss at the next start.
   */
  private schedule(file: string, dir: string, serialize: () => string): void {
    const before = this.pending.get(file);
    if (before?.timer !== undefined) clearTimeout(before.timer);
    const write = (): void => {
      this.pending.delete(file);
      writeCacheFile(dir, file, serialize, this.log);
    };
    const timer = this.written.has(file) ? undefined : setTimeout(write, FIRST_WRITE_DELAY_MS);
    timer?.unref();
    this.pending.set(file, { timer, write });
    this.written.add(file);
    if (!this.exitHooked) {
      this.exitHooked = true;
      process.once("exit", () => this.flush());
    }
  }
  private readonly written = new Set<string>();

  /** Writes every pending cache now (at exit, and for tests). */
  flush(): void {
    for (const { timer, write } of [...this.pending.values()]) {
      if (timer !== undefined) clearTimeout(timer);
      write();
    }
  }

  /** Cancels the pending writes (the server is disposed). */
  dispose(): void {
    for (const { timer } of this.pending.values()) if (timer !== undefined) clearTimeout(timer);
    this.pending.clear();
  }
}

/** The user's cache folder for Stellar Secrets: `%LOCALAPPDATA%\stellar-secrets`, `$XDG_CACHE_HOME/stellar-secrets` or `~/.cache/stellar-secrets`; undefined when none is known. */
export function defaultCacheDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string | undefined {
  if (platform === "win32") {
    const local = env["LOCALAPPDATA"];
    return local !== undefined && win32.isAbsolute(local) ? win32.join(local, "stellar-secrets") : undefined;
  }
  const xdg = env["XDG_CACHE_HOME"];
  if (xdg !== undefined && isAbsolute(xdg)) return join(xdg, "stellar-secrets");
  let home: string;
  try {
    home = env["HOME"] ?? homedir();
  } catch {
    return undefined;
  }
  return isAbsolute(home) ? join(home, ".cache", "stellar-secrets") : undefined;
}

/** The cache file's name for a project root's realpath. */
export function cacheFileName(realRoot: string): string {
  return `models-${createHash("sha256").update(realRoot).digest("hex").slice(0, 32)}.json`;
}

/** The largest cache file read, in bytes. */
const MAX_CACHE_BYTES = MAX_MODEL_CACHE_CHARS;

/**
 * The text of a cache file, or why it is not read: missing ("none"), not a regular file, owned by
 * another user, writable by others, too large, unreadable. A symbolic link is not followed, and a
 * FIFO is not waited on.
 */
export function readCacheFile(file: string): { text: string; why?: undefined } | { text?: undefined; why: string } {
  let fd: number;
  try {
    // non-blocking: a FIFO at the path would otherwise hold the server's start until some writer opened it
    fd = openSync(file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    return { why: (e as NodeJS.ErrnoException).code === "ENOENT" ? "none" : `cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})` };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { why: "not a regular file" };
    const why = unsafeOwnership(st);
    if (why !== undefined) return { why };
    if (st.size > MAX_CACHE_BYTES) return { why: "too large" };
    const bytes = Buffer.allocUnsafe(st.size);
    let at = 0;
    while (at < bytes.length) {
      const n = readSync(fd, bytes, at, bytes.length - at, at);
      if (n === 0) break;
      at += n;
    }
    if (at !== bytes.length) return { why: "truncated" };
    return { text: bytes.toString("utf8") };
  } catch (e) {
    return { why: `cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})` };
  } finally {
    closeSync(fd);
  }
}

/**
 * The repository (the nearest folder at or above `realRoot` that holds `.git`, else `realRoot`)
 * when the cache folder `dir` is inside it, or undefined. `dir` is compared by its real path (of
 * its nearest existing ancestor when it does not exist yet).
 */
export function folderInRepository(dir: string, realRoot: string): string | undefined {
  let repository = realRoot;
  for (let at = realRoot; ; at = dirname(at)) {
    if (lstatSync(join(at, ".git"), { throwIfNoEntry: false }) !== undefined) {
      repository = at;
      break;
    }
    if (dirname(at) === at) break;
  }
  const real = realPathSoFar(dir);
  const prefix = repository.endsWith(sep) ? repository : repository + sep;
  return real === repository || real.startsWith(prefix) ? repository : undefined;
}

/** The real path of `path`, or of its nearest existing ancestor joined with the rest. */
function realPathSoFar(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    const parent = dirname(path);
    return parent === path ? path : join(realPathSoFar(parent), basename(path));
  }
}

/** Why the cache folder must not be read from (a symbolic link, not a folder, another owner, writable by others), or undefined (also when it does not exist yet). */
function unsafeFolder(dir: string): string | undefined {
  let st;
  try {
    st = lstatSync(dir);
  } catch {
    return undefined;
  }
  if (!st.isDirectory()) return `its folder ${dir} is not a folder (a symbolic link?)`;
  const why = unsafeOwnership(st);
  return why === undefined ? undefined : `its folder ${dir} is ${why}`;
}

/**
 * Removes the temp files of `file` (`<name>.<pid>.<16 hex digits>.tmp`) whose writer no longer
 * runs: a server killed while writing leaves one, as large as the cache, that nothing would remove.
 * Another server's write in progress (its process runs) is left alone.
 */
function removeStaleTemps(dir: string, file: string): void {
  const prefix = `${basename(file)}.`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)\.[0-9a-f]{16}\.tmp$/.exec(name.slice(prefix.length));
    if (m === null) continue;
    const pid = Number(m[1]);
    if (pid !== process.pid && isRunning(pid)) continue;
    try {
      rmSync(join(dir, name), { force: true });
    } catch {
      // (the next write tries again)
    }
  }
}

/** True when a process of id `pid` runs (signal 0: nothing is sent). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Why a file or folder of the cache must not be trusted (another owner, writable by group or others), or undefined. */
function unsafeOwnership(st: { uid: number; mode: number }): string | undefined {
  if (process.platform === "win32" || process.getuid === undefined) return undefined;
  if (st.uid !== process.getuid()) return "owned by another user";
  if ((st.mode & 0o022) !== 0) return "writable by other users";
  return undefined;
}

/**
 * Writes a cache file atomically: the folder created 0700 when missing (and not used when another
 * user owns it or others may write to it), the text through a temp file of a random name (0600,
 * created exclusively) renamed over the file; temp files of writers that no longer run are then
 * removed. A failure is logged and changes nothing.
 */
export function writeCacheFile(dir: string, file: string, serialize: () => string, log: (message: string) => void = () => undefined): void {
  let tmp: string | undefined;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const why = unsafeOwnership(lstatSync(dir));
    if (why !== undefined || !lstatSync(dir).isDirectory()) {
      log(`index cache: not written: ${dir} is ${why ?? "not a folder"}`);
      return;
    }
    const text = serialize();
    tmp = `${file}.${process.pid}.${process.getBuiltinModule("node:crypto").randomBytes(8).toString("hex")}.tmp`;
    writeFileSync(tmp, text, { mode: 0o600, flag: "wx" });
    renameSync(tmp, file);
    tmp = undefined;
    removeStaleTemps(dir, file);
  } catch (e) {
    log(`index cache: not written to ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  } finally {
    if (tmp !== undefined) rmSync(tmp, { force: true });
  }
}
