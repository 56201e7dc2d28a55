/**
 * Where the merge driver's records of unresolved names live, and reading and writing them: one
 * JSON file per environment file under `<git dir>/stellar-secrets/unresolved/` — in the git
 * directory, so git never commits them, and per work tree (a linked worktree has its own git
 * directory, `.git/worktrees/NAME`), so a merge in one worktree never blocks another. The format
 * and when a record counts are core's (`UnresolvedMergeRecord`, `unresolvedMergeApplies`).
 *
 * The git directory is found without running git (`GIT_DIR`, else the `.git` folder or
 * `gitdir:` file above): `check` and the merge driver pay nothing for it. This module loads core
 * only to parse records (dynamically): the merge driver imports it as
 * `@stellar-secrets/git/merge-records` and never loads core to write one.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { parseUnresolvedMergeRecord, type UnresolvedMergeRecord } from "@stellar-secrets/core";
import { createHash, writeFileAtomic } from "@stellar-secrets/sops";

/** The folder of the records, under the git directory. */
export const RECORDS_DIR = join("stellar-secrets", "unresolved");

/** A work tree's top folder and its own git directory. */
export interface GitLocation {
  top: string;
  gitDir: string;
}

/**
 * The git work tree around `start` and its git directory, found on disk: `GIT_DIR` (with
 * `GIT_WORK_TREE`, else the top found above `start`) when it names a folder, else the nearest
 * `.git` above `start` — a folder, or a file `gitdir: PATH` (a linked worktree or a submodule) —
 * walking up `start`'s real path, as git does (a project reached through a symbolic link). Undefined outside a git work tree. Never throws.
 */
export function findGitLocation(start: string, env: NodeJS.ProcessEnv): GitLocation | undefined {
  let top: string | undefined;
  let gitDir: string | undefined;
  // git walks up from its physical working folder: a link into a repository is inside it
  let real = resolve(start);
  try {
    real = realpathSync(real);
  } catch {
    // absent: walk the path as given
  }
  for (let dir = real; ; dir = dirname(dir)) {
    const dotGit = join(dir, ".git");
    try {
      const st = statSync(dotGit);
      top = dir;
      if (st.isDirectory()) gitDir = dotGit;
      else {
        const m = /^gitdir:\s*(.+?)\s*$/m.exec(readFileSync(dotGit, "utf8"));
        if (m?.[1] !== undefined) gitDir = isAbsolute(m[1]) ? m[1] : resolve(dir, m[1]);
      }
      break;
    } catch {
      // not here: look above
    }
    if (dirname(dir) === dir) break;
  }
  if (env.GIT_DIR) {
    // git runs hooks and drivers at the top of the work tree: a relative GIT_DIR is relative to it
    const given = resolve(top ?? start, env.GIT_DIR);
    try {
      if (statSync(given).isDirectory()) {
        gitDir = given;
        if (env.GIT_WORK_TREE) top = resolve(top ?? start, env.GIT_WORK_TREE);
      }
    } catch {
      // not a git directory: the one found on disk stands
    }
  }
  return top === undefined || gitDir === undefined ? undefined : { top, gitDir };
}

/**
 * SHA-256 (hex) of a text's UTF-8 bytes with CRLF line ends read as LF (a file git checked out with
 * CRLF is the file the driver wrote): the same as core's `textHash` (merge-file does not load core).
 */
export function sha256Text(text: string): string {
  return createHash("sha256").update(text.includes("\r\n") ? text.replace(/\r\n/g, "\n") : text, "utf8").digest("hex");
}

/** The record file of an environment file (`path` relative to the work tree's top, `/`-separated). */
export function recordPath(gitDir: string, path: string): string {
  return join(gitDir, RECORDS_DIR, `${sha256Text(path).slice(0, 24)}.json`);
}

/**
 * The patch a `git am` session in the git directory `gitDir` is applying (`rebase-apply/applying`
 * is there), as SHA-256 (hex) of its number (`rebase-apply/next`) and its file
 * (`rebase-apply/0001`, ...); undefined when no `git am` is in progress (a rebase keeps
 * `rebase-apply/` too, without `applying`) or its state cannot be read. git am keeps no commit of
 * the patch's side, so this is what names the operation of a record the driver wrote during
 * `git am -3` ({@link UnresolvedMergeRecord.am}). Never throws.
 */
export function amPatchInProgress(gitDir: string): string | undefined {
  const dir = join(gitDir, "rebase-apply");
  try {
    if (!existsSync(join(dir, "applying"))) return undefined;
    const next = readFileSync(join(dir, "next"), "utf8").trim();
    if (!/^[1-9][0-9]{0,8}$/.test(next)) return undefined;
    const patch = readFileSync(join(dir, next.padStart(4, "0")));
    return createHash("sha256").update(`git am patch ${next}\n`, "utf8").update(patch).digest("hex");
  } catch {
    return undefined;
  }
}

/** `record` as read from `gitDir`: {@link UnresolvedMergeRecord.amInProgress} set when its `git am` session is still at its patch. */
function withAmState(gitDir: string, record: UnresolvedMergeRecord): UnresolvedMergeRecord {
  const { amInProgress: _never, ...stored } = record;
  return stored.am !== undefined && amPatchInProgress(gitDir) === stored.am ? { ...stored, amInProgress: true } : stored;
}

/** Writes (replaces) the record of `record.path` (without what only readers set). Throws on a write failure. */
export async function writeUnresolvedMerge(gitDir: string, record: UnresolvedMergeRecord): Promise<void> {
  const { amInProgress: _read, ...stored } = record;
  mkdirSync(join(gitDir, RECORDS_DIR), { recursive: true });
  await writeFileAtomic(recordPath(gitDir, record.path), `${JSON.stringify(stored, null, 2)}\n`);
}

/** Removes the record of `path` (relative to the top), if any. Never throws. */
export function removeUnresolvedMerge(gitDir: string, path: string): void {
  try {
    rmSync(recordPath(gitDir, path), { force: true });
  } catch {
    // nothing to remove, or the folder is not writable: a record that no longer matches never counts
  }
}

/** The record of one environment file (`path` relative to the top), parsed by core; undefined when none or unreadable. */
export async function readUnresolvedMerge(gitDir: string, path: string): Promise<UnresolvedMergeRecord | undefined> {
  let text: string;
  try {
    text = readFileSync(recordPath(gitDir, path), "utf8");
  } catch {
    return undefined;
  }
  const record = parseUnresolvedMergeRecord(text);
  return record?.path === path ? withAmState(gitDir, record) : undefined;
}

/** A path relative to the project root → relative to the work tree's top (`/`-separated), or undefined outside it. */
export function topRelative(location: GitLocation, root: string, rel: string): string | undefined {
  let prefix: string;
  try {
    prefix = relative(realpathSync(location.top), realpathSync(root)).split(sep).join("/");
  } catch {
    return undefined;
  }
  if (prefix.startsWith("..")) return undefined;
  return prefix === "" ? rel : `${prefix}/${rel}`;
}

/**
 * Every record of the work tree around the project `root`, keyed by path relative to `root`
 * (what the checker's `unresolvedMerges` option takes). Empty outside git or without records
 * (no file is read then). Never throws.
 */
export async function readUnresolvedMerges(root: string, env: NodeJS.ProcessEnv): Promise<Map<string, UnresolvedMergeRecord>> {
  const out = new Map<string, UnresolvedMergeRecord>();
  const location = findGitLocation(root, env);
  if (location === undefined) return out;
  const dir = join(location.gitDir, RECORDS_DIR);
  if (!existsSync(dir)) return out;
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".json"));
  } catch {
    return out;
  }
  if (files.length === 0) return out;
  const prefix = topRelative(location, root, "");
  if (prefix === undefined) return out;
  for (const f of files) {
    let record: UnresolvedMergeRecord | undefined;
    try {
      record = parseUnresolvedMergeRecord(readFileSync(join(dir, f), "utf8"));
    } catch {
      continue;
    }
    if (record === undefined) continue;
    const base = prefix === "" ? "" : prefix.endsWith("/") ? prefix : `${prefix}/`;
    if (base !== "" && !record.path.startsWith(base)) continue;
    out.set(record.path.slice(base.length), withAmState(location.gitDir, record));
  }
  return out;
}
