/**
 * The one way Stellar Secrets runs git (the CLI and the language server alike): `execFile`/`spawn`
 * of the `git` binary with a prompt-free environment, errors as {@link GitError} (`GIT_ERROR`,
 * `NOT_FOUND`, `SHALLOW_CLONE`). {@link GitRepo} implements core's {@link GitSource}, through which
 * core's review and history read commits; nothing else spawns git.
 */
import type { ChildProcess } from "node:child_process";
// fs.promises (node:fs/promises) is read on first use: `check` starts without loading it
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import type { GitSource } from "@stellar-secrets/core";
import { decodeUtf8, MAX_SECRETS_FILE_BYTES } from "@stellar-secrets/sops";
import { GitError } from "./errors.js";

/** How to fix a shallow clone, in a message. */
export const SHALLOW_HINT =
  "fetch the history: `git fetch --unshallow` (or `git fetch --deepen=N`, and `git fetch origin BRANCH` for a base branch that is missing); in GitHub Actions, check out with `actions/checkout` and `fetch-depth: 0`";

/** A git repository around a project root. */
/** One tree's or the index's entries by kind (paths relative to the project root). */
interface Listing {
  files: Map<string, string>;
  links: Map<string, string>;
  submodules: Map<string, string>;
}

export class GitRepo implements GitSource {
  private constructor(
    /** The work tree's top folder. */
    readonly top: string,
    /** The project root relative to `top` ("" when they are the same), `/`-separated. */
    readonly prefix: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /**
   * Opens the repository that holds `root`. Throws `GitError("GIT_ERROR")` when there is none,
   * saying `why` git is needed (e.g. "review compares git commits").
   */
  static async open(root: string, env: NodeJS.ProcessEnv, why = "review compares git commits"): Promise<GitRepo> {
    let top: string;
    try {
      top = (await git(root, env, ["rev-parse", "--show-toplevel"])).trim();
    } catch (error) {
      if (gitMissing(error) && existsSync(root)) {
        // no git to ask: `root` may well be a repository, and `git init` would not run either
        throw new GitError("GIT_ERROR", `git is not installed (no \`git\` on PATH), and ${why}`, {
          hint: "install git (e.g. `apt-get install git`, `brew install git`) or put it on PATH, then run the command again",
          cause: error,
        });
      }
      throw new GitError("GIT_ERROR", `${root} is not inside a git repository; ${why}`, {
        hint: "run `git init` and commit the secrets files",
        cause: error,
      });
    }
    const prefix = relative(realpathSync(top), realpathSync(root)).split(sep).join("/");
    return new GitRepo(top, prefix, env);
  }

  /**
   * Opens the repository around `root` and reads HEAD's commit id and the commit ids named by
   * MERGE_HEAD, REBASE_HEAD and CHERRY_PICK_HEAD, with one git process (what `check` needs at each
   * start). Undefined outside a git repository, before the first commit, or when git fails.
   */
  static async openAtHead(root: string, env: NodeJS.ProcessEnv): Promise<{ repo: GitRepo; head: string; pseudoRefs: string[]; revertHead?: string } | undefined> {
    let lines: string[];
    try {
      const out = await git(root, env, ["rev-parse", "--show-toplevel", "--absolute-git-dir", "--verify", "HEAD"]);
      lines = out.split("\n").filter((l) => l !== "");
    } catch {
      return undefined;
    }
    const [top, gitDir, head] = lines;
    if (top === undefined || gitDir === undefined || head === undefined || !/^[0-9a-f]{40,64}$/.test(head) || lines.length !== 3) return undefined;
    const { pseudoRefs, revertHead } = refsInProgress(gitDir);
    const prefix = relative(realpathSync(top), realpathSync(root)).split(sep).join("/");
    return { repo: new GitRepo(top, prefix, env), head, pseudoRefs, ...(revertHead === undefined ? {} : { revertHead }) };
  }

  /** Runs git at the top of the work tree, returning stdout. */
  run(args: string[]): Promise<string> {
    return git(this.top, this.env, args);
  }

  /**
   * The text of the blob `id` as `git cat-file blob` writes it, a chunk at a time (UTF-8; a broken
   * sequence as U+FFFD), never held whole: for reading a file too large to read at once. Stopping
   * early ends the git process. Throws `GitError("GIT_ERROR")` when git fails.
   */
  async *blobText(id: string): AsyncGenerator<string> {
    if (!/^[0-9a-f]{40,64}$/.test(id)) throw new GitError("GIT_ERROR", `not a git object id: ${id.slice(0, 80)}`);
    const child = childProcess().spawn("git", ["cat-file", "blob", id], { cwd: this.top, env: gitEnv(this.env), stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(0, 2000)));
    const closed = new Promise<number | null>((resolve) => {
      child.once("error", () => resolve(-1));
      child.once("close", (code) => resolve(code));
    });
    const decoder = new TextDecoder("utf-8");
    let done = false;
    try {
      for await (const chunk of child.stdout! as AsyncIterable<Buffer>) yield decoder.decode(chunk, { stream: true });
      const tail = decoder.decode();
      if (tail !== "") yield tail;
      done = true;
    } finally {
      if (!done) child.kill();
    }
    const code = await closed;
    if (code !== 0) throw new GitError("GIT_ERROR", `git cat-file blob ${id} failed (${code}): ${stderr.split("\n")[0] ?? ""}`);
  }

  /** A `git cat-file --batch` at the top of the work tree, for rounds of reads (close it when done). */
  catFile(): CatFileSession {
    return new CatFileSession(this.top, this.env);
  }

  /** True when the repository has at least one commit. */
  async hasHead(): Promise<boolean> {
    return this.run(["rev-parse", "--verify", "-q", "HEAD"]).then(
      (s) => s.trim() !== "",
      () => false,
    );
  }

  /** True when the repository is a shallow clone (part of its history was not fetched). */
  async isShallow(): Promise<boolean> {
    return this.run(["rev-parse", "--is-shallow-repository"]).then(
      (s) => s.trim() === "true",
      () => false,
    );
  }

  /**
   * The commits at the edge of a shallow clone (its `shallow` file: git did not fetch their
   * parents) that the history of `tip` reaches and the history of `not` does not (every one
   * `tip` reaches when `not` is undefined), newest first; `[]` in a full clone. A review must not
   * read such a history as whole: the commits beyond the edge, and what they changed, are absent.
   * Throws what git throws.
   */
  async shallowEdge(tip: string, not?: string): Promise<string[]> {
    // the git directory found as git finds it (no process); else (a GIT_DIR-like variable) asked of git
    const gitDir = findGitDir(this.top, this.env);
    const edge = new Set(gitDir === undefined ? shallowFileEdges(await this.gitPath("shallow")) : shallowEdges(gitDir));
    if (edge.size === 0) return [];
    const out = await this.run(["rev-list", tip, ...(not === undefined ? [] : [`^${not}`]), "--"]);
    return out.split("\n").filter((id) => edge.has(id));
  }

  /**
   * The full commit id of `ref`. Throws `GitError("NOT_FOUND")` naming it when it is not a commit,
   * or `GitError("SHALLOW_CLONE")` when it is not one of a shallow clone (it may not have been fetched).
   */
  async resolve(ref: string): Promise<string> {
    try {
      const id = (await this.run(["rev-parse", "--verify", "-q", "--end-of-options", `${ref}^{commit}`])).trim();
      if (/^[0-9a-f]{40,64}$/.test(id)) return id;
    } catch {
      // reported below
    }
    if (await this.isShallow()) {
      throw new GitError("SHALLOW_CLONE", `"${ref}" is not a commit of ${this.top}, a shallow clone: it may be in the history git did not fetch`, { hint: SHALLOW_HINT });
    }
    throw new GitError("NOT_FOUND", `"${ref}" is not a commit of ${this.top}`, {
      hint: "name a branch, tag or commit (`git log --oneline` lists them), e.g. `stellar-secrets review main`",
    });
  }

  /**
   * The best common ancestor of two commits (for `A...B`). Throws `GitError("SHALLOW_CLONE")` when
   * there is none in a shallow clone (it was not fetched), else `GitError("NOT_FOUND")`.
   */
  async mergeBase(a: string, b: string): Promise<string> {
    try {
      return (await this.run(["merge-base", a, b])).trim();
    } catch (error) {
      if (await this.isShallow()) {
        throw new GitError("SHALLOW_CLONE", `${a.slice(0, 12)} and ${b.slice(0, 12)} have no common ancestor in this shallow clone: git did not fetch the history that joins them`, {
          hint: SHALLOW_HINT,
          cause: error,
        });
      }
      throw new GitError("NOT_FOUND", `${a.slice(0, 12)} and ${b.slice(0, 12)} have no common ancestor`, {
        hint: "compare them directly with `stellar-secrets review A..B`",
        cause: error,
      });
    }
  }

  /**
   * The regular files of the project folder at `commit`: path relative to the project root → blob
   * id. Throws `GitError("CORRUPT_OBJECT")` when a tree lists one name twice (git fsck's duplicateEntries).
   */
  async filesAt(commit: string): Promise<Map<string, string>> {
    return (await this.listing(commit)).files;
  }

  /**
   * The regular files of the project folder in the index (what `git commit` would commit):
   * path relative to the project root → blob id. Of a path with a merge conflict, "ours" (stage 2).
   */
  async filesInIndex(): Promise<Map<string, string>> {
    return (await this.listing(undefined)).files;
  }

  /**
   * The symbolic links of the project folder at `commit` (the index when undefined): path
   * relative to the project root → blob id (the blob holds where the link points). From the same
   * listing as {@link filesAt} / {@link filesInIndex} (one git process for both).
   */
  async linksAt(commit: string | undefined): Promise<Map<string, string>> {
    return (await this.listing(commit)).links;
  }

  /**
   * The submodules (gitlinks, mode 160000) of the project folder at `commit` (the index when
   * undefined): path relative to the project root → the commit id it records. Same listing as
   * {@link filesAt}.
   */
  async submodulesAt(commit: string | undefined): Promise<Map<string, string>> {
    return (await this.listing(commit)).submodules;
  }

  private readonly listings = new Map<string, Promise<Listing>>();

  /**
   * One listing of a commit's tree (`ls-tree`) or of the index (`ls-files -s`). A commit id's is
   * kept (a commit never changes); the index's or a ref's only while it is being read, so that
   * files and links asked for together share one git process and a later call sees a new state.
   */
  private listing(commit: string | undefined): Promise<Listing> {
    const key = commit ?? "\0index";
    let pending = this.listings.get(key);
    if (pending === undefined) {
      pending = this.readListing(commit);
      this.listings.set(key, pending);
      const fixed = commit !== undefined && /^[0-9a-f]{40,64}$/.test(commit);
      // a failed read is never kept: the next call runs git again
      pending.then(
        () => (fixed ? undefined : this.listings.delete(key)),
        () => this.listings.delete(key),
      );
    }
    return pending;
  }

  private async readListing(commit: string | undefined): Promise<Listing> {
    const files = new Map<string, string>();
    const links = new Map<string, string>();
    const submodules = new Map<string, string>();
    const listing = await this.run(commit === undefined ? ["ls-files", "-s", "-z", "--full-name"] : ["ls-tree", "-r", "-z", "--full-tree", commit]);
    const prefix = this.prefix === "" ? "" : `${this.prefix}/`;
    for (const record of listing.split("\0")) {
      const tab = record.indexOf("\t");
      if (tab === -1) continue;
      const fields = record.slice(0, tab).split(" ");
      // ls-tree: mode type id; ls-files -s: mode id stage (of a conflicted path, "ours": stage 2)
      const [mode, id] = commit === undefined ? [fields[0], fields[1]] : fields[1] === "blob" || fields[1] === "commit" ? [fields[0], fields[2]] : [undefined, undefined];
      if (commit === undefined && fields[2] !== "0" && fields[2] !== "2") continue;
      const path = record.slice(tab + 1);
      if (id === undefined || !path.startsWith(prefix)) continue;
      const rel = path.slice(prefix.length);
      // a tree with two entries of one name: git fsck's duplicateEntries (never pick one of them)
      if (commit !== undefined && (files.has(rel) || links.has(rel) || submodules.has(rel))) {
        throw new GitError("CORRUPT_OBJECT", `a git tree of ${commit} holds two entries named ${JSON.stringify(path)}`, {
          hint: "run `git fsck --full` (duplicateEntries); rewrite the commit that holds this tree so that the folder lists each name once",
        });
      }
      // symbolic links (120000) and submodules (160000) are listed apart, never read as files
      if (mode === "100644" || mode === "100755") files.set(rel, id);
      else if (mode === "120000") links.set(rel, id);
      else if (mode === "160000") submodules.set(rel, id);
    }
    return { files, links, submodules };
  }

  /**
   * Every best common ancestor of two commits (`git merge-base --all`): one in most histories, two
   * or more after criss-cross merges (each branch merged the other), where `git merge-base` (and
   * {@link mergeBase}) picks one of them. Throws as {@link mergeBase} does when there is none.
   */
  async mergeBases(a: string, b: string): Promise<string[]> {
    const chosen = await this.mergeBase(a, b);
    const all = (await this.run(["merge-base", "--all", a, b])).split("\n").map((l) => l.trim()).filter((l) => l !== "");
    return [chosen, ...all.filter((c) => c !== chosen)];
  }

  /**
   * The files (relative to the project root, only those inside it, sorted) whose content differs
   * between two commits.
   */
  async changedFiles(a: string, b: string): Promise<string[]> {
    const fields = (await this.run(["diff", "--no-ext-diff", "--no-textconv", "--no-renames", "--name-only", "-z", a, b, "--"])).split("\0");
    const prefix = this.prefix === "" ? "" : `${this.prefix}/`;
    return fields.filter((f) => f !== "" && f.startsWith(prefix)).map((f) => f.slice(prefix.length)).sort();
  }

  /**
   * The files git's rename detection finds moved from `base` to `head` (the working tree when
   * undefined): new path → old path, relative to the project root (only paths inside it).
   */
  async renames(base: string, head: string | undefined): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const args = ["diff", "--no-ext-diff", "--no-textconv", "-M", "--name-status", "-z", base, ...(head === undefined ? [] : [head]), "--"];
    const fields = (await this.run(args)).split("\0");
    const prefix = this.prefix === "" ? "" : `${this.prefix}/`;
    for (let i = 0; i < fields.length; ) {
      const status = fields[i] ?? "";
      if (status.startsWith("R") || status.startsWith("C")) {
        const from = fields[i + 1] ?? "";
        const to = fields[i + 2] ?? "";
        if (status.startsWith("R") && from.startsWith(prefix) && to.startsWith(prefix)) out.set(to.slice(prefix.length), from.slice(prefix.length));
        i += 3;
      } else {
        i += status === "" ? 1 : 2;
      }
    }
    return out;
  }

  /** The text of blobs by id (null: not valid UTF-8). */
  readBlobs(ids: readonly string[]): Promise<Map<string, string | null>> {
    return catFileBatch(this.top, ids, this.env);
  }

  /** {@link readBlobs} that names the blobs git cannot give (a partial clone that cannot fetch them) instead of failing: {@link catFileBatchOrMissing}. */
  readBlobsOrMissing(ids: readonly string[]): Promise<BlobsRead> {
    return catFileBatchOrMissing(this.top, ids, this.env);
  }

  /**
   * The output of `git log ARGS` at the top of the work tree, never with signatures: a
   * `log.showSignature` setting (a signer's global config, or a downloaded folder's own
   * `.git/config`) would run `gpg.program` for each signed commit and mix its report into the
   * output. Throws `GitError("GIT_ERROR")` when git fails.
   */
  log(args: readonly string[]): Promise<string> {
    return this.run(["log", "--no-show-signature", ...args]);
  }
  /**
   * The text of `path` (relative to the project root) at `ref` (`git show REF:PATH`): undefined
   * when the ref or the file does not exist there, null when it is not valid UTF-8 or too large.
   */
  async show(ref: string, path: string): Promise<string | null | undefined> {
    const full = this.prefix === "" ? path : `${this.prefix}/${path}`;
    let id: string;
    try {
      id = (await this.run(["rev-parse", "--verify", "-q", "--end-of-options", `${ref}:${full}`])).trim();
    } catch {
      return undefined;
    }
    if (id === "") return undefined;
    return (await this.readBlobs([id])).get(id);
  }

  /** The text of each path (relative to the project root) at `ref`, for the paths that exist there (null: not UTF-8). */
  async showMany(ref: string, paths: readonly string[]): Promise<Map<string, string | null>> {
    let commit: string;
    try {
      commit = (await this.run(["rev-parse", "--verify", "-q", "--end-of-options", `${ref}^{commit}`])).trim();
    } catch {
      return new Map();
    }
    return this.showManyAtCommit(commit, paths);
  }

  /** {@link showMany} at a full commit id (no lookup of the ref). */
  async showManyAtCommit(commit: string, paths: readonly string[]): Promise<Map<string, string | null>> {
    const out = new Map<string, string | null>();
    const files = await this.filesAt(commit);
    const ids = paths.map((p) => files.get(p));
    const blobs = await this.readBlobs(ids.filter((id): id is string => id !== undefined));
    paths.forEach((p, i) => {
      const id = ids[i];
      if (id !== undefined && blobs.has(id)) out.set(p, blobs.get(id) ?? null);
    });
    return out;
  }


  /** The commit ids a pseudo-ref such as MERGE_HEAD names (one per line: an octopus merge has several); empty when absent. */
  async pseudoRef(name: PseudoRef): Promise<string[]> {
    return pseudoRefIn((await this.run(["rev-parse", "--absolute-git-dir"])).trim(), name);
  }

  /** The commit a `git merge --squash` in progress merges (see {@link squashHeadIn}), or undefined. */
  async squashHead(): Promise<string | undefined> {
    return squashHeadIn((await this.run(["rev-parse", "--absolute-git-dir"])).trim());
  }

  /** A path inside the git directory (`git rev-parse --git-path`, e.g. `hooks/pre-commit`), absolute. */
  async gitPath(name: string): Promise<string> {
    const path = (await this.run(["rev-parse", "--git-path", name])).trim();
    return isAbsolute(path) ? path : join(this.top, path);
  }

  /** A repository-local config value, or undefined when unset. */
  async configGet(key: string): Promise<string | undefined> {
    try {
      const out = await this.run(["config", "--local", "--get", key]);
      return out.endsWith("\n") ? out.slice(0, -1) : out;
    } catch {
      return undefined;
    }
  }

  /** Sets a repository-local config value. */
  async configSet(key: string, value: string): Promise<void> {
    await this.run(["config", "--local", key, value]);
  }

}

/** The branch checked out and the repository's default branch, as {@link readBranches} finds them. */
export interface Branches {
  /** The branch HEAD names (`feature/x`), undefined when HEAD is detached, the branch has no commit yet, or outside git. */
  current: string | undefined;
  /** The default branch: the one `origin/HEAD` names, else `main`, else `master` when it exists; undefined when none is known. */
  default: string | undefined;
}

/**
 * The branch checked out at `dir` and the repository's default branch, with one git process
 * (`git for-each-ref` over the local branches and `origin/HEAD`). Never throws: outside git, or
 * when git fails, both are undefined.
 */
export async function readBranches(dir: string, env: NodeJS.ProcessEnv): Promise<Branches> {
  let out: string;
  try {
    out = await git(dir, env, ["for-each-ref", "--format=%(HEAD)%(refname)%00%(symref)", "refs/heads/", "refs/remotes/origin/HEAD"]);
  } catch {
    return { current: undefined, default: undefined };
  }
  let current: string | undefined;
  let remoteDefault: string | undefined;
  const local = new Set<string>();
  for (const line of out.split("\n")) {
    const [marked = "", symref = ""] = line.split("\0");
    const ref = marked.replace(/^[* ]/, "");
    if (ref.startsWith("refs/heads/")) {
      const name = ref.slice("refs/heads/".length);
      local.add(name);
      if (marked.startsWith("*")) current = name;
    } else if (ref === "refs/remotes/origin/HEAD" && symref.startsWith("refs/remotes/origin/")) {
      remoteDefault = symref.slice("refs/remotes/origin/".length);
    }
  }
  return { current, default: remoteDefault ?? (local.has("main") ? "main" : local.has("master") ? "master" : undefined) };
}

/** True when `error` (a {@link GitError} of {@link git}, or its cause) is the `git` binary not found: spawning it failed with ENOENT. */
function gitMissing(error: unknown): boolean {
  const cause = (error instanceof GitError ? error.cause : error) as NodeJS.ErrnoException & { path?: unknown; syscall?: unknown };
  return cause?.code === "ENOENT" && (cause.syscall === "spawn git" || cause.path === "git");
}

function git(cwd: string, env: NodeJS.ProcessEnv, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    childProcess().execFile("git", args, { cwd, env: gitEnv(env), maxBuffer: 512 * 1024 * 1024, encoding: "utf8" }, (error, stdout, stderr) => {
      if (error) {
        reject(new GitError("GIT_ERROR", `git ${args[0]} failed: ${(stderr || error.message).split("\n")[0]}`, { cause: error }));
        return;
      }
      resolve(stdout);
    });
  });
}

/** Strict UTF-8 text of a file version (as the sops reader decodes it), or null when it is not valid UTF-8 or too large. */
export function strictText(bytes: Uint8Array, where: string): string | null {
  try {
    return decodeUtf8(bytes, { path: where });
  } catch {
    return null;
  }
}

/**
 * The working-tree text of a file (`rel` relative to `root`): undefined when it cannot be read
 * (absent), null when it is not valid UTF-8.
 */
export function readWorkingText(root: string, rel: string): string | null | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(join(root, rel));
  } catch {
    return undefined;
  }
  return strictText(bytes, rel);
}

/**
 * Reads blobs by id with one `git cat-file --batch`; missing ones are left out, and a blob that
 * is not valid UTF-8 maps to null (reported by the caller, never decoded with replacements). A
 * blob larger than a secrets or config file is read (`MAX_SECRETS_FILE_BYTES`) maps to null as
 * {@link strictText} maps it, and is skipped as git writes it, never held in memory.
 */
export async function catFileBatch(cwd: string, ids: readonly string[], env: NodeJS.ProcessEnv): Promise<Map<string, string | null>> {
  const result = new Map<string, string | null>();
  if (ids.length === 0) return result;
  const session = new CatFileSession(cwd, env);
  try {
    for (const answer of await session.request(ids, MAX_SECRETS_FILE_BYTES)) {
      if (answer !== undefined) result.set(answer.id, answer.tooLarge === true ? null : strictText(answer.content, answer.id));
    }
  } finally {
    session.close();
  }
  return result;
}

/** What {@link catFileBatchOrMissing} read. */
export interface BlobsRead {
  /** The text of each blob read (null: not valid UTF-8, or larger than a secrets file). */
  texts: Map<string, string | null>;
  /**
   * The blobs git could not give, in the order asked: absent from the repository, or (a partial
   * clone, `--filter=blob:none`) not fetched and not fetchable now, with git's reason.
   */
  missing: { id: string; reason: string }[];
}

/**
 * {@link catFileBatch} that goes on past a blob git cannot give. In a partial clone `git cat-file
 * --batch` fetches a missing blob from the promisor remote, and ends (status 128) when it cannot
 * (offline, the remote gone): the blobs answered before it are kept, the one it stopped at is
 * `missing` (with git's last `fatal:` line), and a new process reads the rest. At most one process
 * per missing blob. Throws `GitError("GIT_ERROR")` only when git cannot be run at all.
 */
export async function catFileBatchOrMissing(cwd: string, ids: readonly string[], env: NodeJS.ProcessEnv): Promise<BlobsRead> {
  const texts = new Map<string, string | null>();
  const missing: { id: string; reason: string }[] = [];
  let rest = [...new Set(ids)];
  while (rest.length > 0) {
    const session = new CatFileSession(cwd, env);
    const asked = rest.map((id) => session.request([id], MAX_SECRETS_FILE_BYTES).then(([answer]) => answer));
    session.close();
    const settled = await Promise.allSettled(asked);
    let stoppedAt = -1;
    let reason = "";
    settled.forEach((answer, i) => {
      const id = rest[i] as string;
      if (answer.status === "rejected") {
        if (stoppedAt === -1) {
          stoppedAt = i;
          reason = answer.reason instanceof Error ? answer.reason.message : String(answer.reason);
        }
        return;
      }
      const a = answer.value;
      if (a === undefined) missing.push({ id, reason: "git has no such object" });
      else texts.set(a.id, a.tooLarge === true ? null : strictText(a.content, a.id));
    });
    if (stoppedAt === -1) break;
    if (/^cannot run git/.test(reason)) throw new GitError("GIT_ERROR", reason);
    missing.push({ id: rest[stoppedAt] as string, reason });
    rest = rest.slice(stoppedAt + 1);
  }
  return { texts, missing };
}

/** Environment variables that change where git finds its repository (then only git can say). */
const DISCOVERY_VARIABLES = ["GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM", "GIT_NAMESPACE"];

/**
 * The commits at the edge of a shallow clone (its `shallow` file: git did not fetch their parents),
 * read from the git directory `gitDir` (a linked worktree's `commondir` leads to the shared one);
 * `[]` in a full clone. No git process; never throws.
 */
export function shallowEdges(gitDir: string): string[] {
  let common = gitDir;
  try {
    common = resolve(gitDir, readFileSync(join(gitDir, "commondir"), "utf8").trim());
  } catch {
    // not a linked worktree
  }
  return shallowFileEdges(join(common, "shallow"));
}

/** The commit ids a `shallow` file lists; `[]` when it is absent or unreadable. */
function shallowFileEdges(file: string): string[] {
  try {
    return readFileSync(file, "utf8").split("\n").map((l) => l.trim()).filter((l) => /^[0-9a-f]{40,64}$/.test(l));
  } catch {
    return []; // no shallow file: a full clone
  }
}

/**
 * The git directory of the work tree that holds `start` (where that work tree's HEAD and
 * MERGE_HEAD live), found without running git: the nearest `.git` at or above `start`, a folder
 * with HEAD, or a file `gitdir: PATH` (a linked work tree, a submodule) naming a folder with HEAD.
 * Undefined whenever git's own answer could differ, so that the caller asks git instead: a
 * variable that changes discovery (GIT_DIR, GIT_WORK_TREE, GIT_CEILING_DIRECTORIES, ...) is set,
 * a folder on the way looks like a bare repository, the `.git` found is unusual, or none is found.
 */
export function findGitDir(start: string, env: NodeJS.ProcessEnv): string | undefined {
  return findWorkTree(start, env)?.gitDir;
}

/** {@link findGitDir}, with the top folder of the work tree (the folder holding `.git`). */
export function findWorkTree(start: string, env: NodeJS.ProcessEnv): { top: string; gitDir: string } | undefined {
  const found = discoverWorkTree(start, env);
  return found === "none" ? undefined : found;
}

/**
 * {@link findWorkTree}, telling apart what it leaves to git (undefined) from `"none"`: no variable
 * changes discovery, and no folder from `start` up to the file system's root holds a `.git` or looks
 * like a bare repository, so git would say "not a git repository" too (and need not be started).
 * The walk goes up `start`'s real path (symbolic links resolved), as git's from its physical
 * working folder does: a project reached through a link into a repository is in that repository,
 * and `top` is a real path.
 */
export function discoverWorkTree(start: string, env: NodeJS.ProcessEnv): { top: string; gitDir: string } | "none" | undefined {
  if (DISCOVERY_VARIABLES.some((v) => env[v] !== undefined)) return undefined;
  const isFile = (p: string): boolean => statSync(p, { throwIfNoEntry: false })?.isFile() === true;
  const isDir = (p: string): boolean => statSync(p, { throwIfNoEntry: false })?.isDirectory() === true;
  try {
    // git walks up from its physical working folder: a link into a repository is inside it
    let dir = realpathSync(resolve(start));
    for (;;) {
      const dotGit = join(dir, ".git");
      const st = statSync(dotGit, { throwIfNoEntry: false });
      if (st?.isDirectory() === true) {
        const ok = isFile(join(dotGit, "HEAD")) && (isDir(join(dotGit, "objects")) || isFile(join(dotGit, "commondir"))) && isDir(join(dotGit, "refs"));
        return ok ? { top: dir, gitDir: dotGit } : undefined;
      }
      if (st?.isFile() === true) {
        const m = /^gitdir: (.+)$/.exec(readFileSync(dotGit, "utf8").replace(/\r?\n$/, ""));
        if (m === null) return undefined;
        const gitDir = resolve(dir, m[1]!);
        return isFile(join(gitDir, "HEAD")) ? { top: dir, gitDir } : undefined;
      }
      if (st !== undefined) return undefined;
      // git takes a folder with HEAD, objects and refs for a bare repository: leave that to git
      if (isFile(join(dir, "HEAD")) && isDir(join(dir, "objects")) && isDir(join(dir, "refs"))) return undefined;
      const parent = dirname(dir);
      if (parent === dir) return "none";
      dir = parent;
    }
  } catch {
    return undefined;
  }
}

/**
 * The largest git object read whole when the caller names no smaller limit (commits and trees: a
 * tree of 100,000 entries takes about 5 MB): 64 MiB. Larger ones are refused (loose objects,
 * `OBJECT_TOO_LARGE`) or answered as too large ({@link CatFileSession.request}), never held in memory.
 */
export const MAX_OBJECT_BYTES = 64 * 1024 * 1024;

/**
 * One answer of `git cat-file --batch`: the object's type and bytes; undefined when it is missing
 * (or ambiguous). `tooLarge`: the object holds more bytes than were asked for (`size` of them);
 * `content` is then empty (git's bytes were skipped as they came).
 */
export type BatchObject = { id: string; type: string; content: Buffer; size?: number; tooLarge?: true } | undefined;

const NO_BYTES = Buffer.alloc(0);

/**
 * One `git cat-file --batch` process asked several rounds of questions: {@link request} writes
 * object names (`<commit>:<path>`, ids, `<rev>^{commit}`) and resolves with their answers in the
 * same order, so that an answer (a tree) can decide the next question (its blobs) without
 * another process. An object larger than the round's `maxBytes` is answered `tooLarge`, its
 * bytes skipped as they arrive. Rounds run one after the other. {@link close} ends the process (call it once
 * done, also after an error). A process that fails rejects the rounds not yet answered with
 * `GitError("GIT_ERROR")`.
 */
export class CatFileSession {
  private readonly child: ChildProcess;
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private readonly waiting: { resolve: (o: BatchObject) => void; reject: (e: Error) => void; maxBytes: number }[] = [];
  /** Bytes of a too-large object still to come, dropped as they arrive. */
  private skipping = 0;
  /** Bytes the next answer needs buffered (its header read, its bytes on their way): no work until then. */
  private needed = 0;
  private failure: Error | undefined;
  private stderr = "";

  /** Starts `git cat-file --batch` in `cwd` (inside the repository) now; questions can follow at once or later. */
  constructor(cwd: string, env: NodeJS.ProcessEnv) {
    this.child = childProcess().spawn("git", ["cat-file", "--batch"], { cwd, env: gitEnv(env), stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdout!.on("data", (c: Buffer) => {
      if (this.skipping > 0) {
        const n = Math.min(this.skipping, c.length);
        this.skipping -= n;
        if (n === c.length) return;
        c = c.subarray(n);
      }
      this.chunks.push(c);
      this.buffered += c.length;
      if (this.buffered >= this.needed) this.drain();
    });
    this.child.stderr!.on("data", (c: Buffer) => (this.stderr += c.toString()));
    // a write after git exited (not a repository) fails with EPIPE: reported by "close" below
    this.child.stdin!.on("error", () => {});
    this.child.once("error", (error) => this.fail(new GitError("GIT_ERROR", `cannot run git cat-file: ${error.message}`, { cause: error })));
    this.child.once("close", (code) => {
      // git's first line, and its last fatal one when another (a partial clone: "could not fetch OBJECT from promisor remote")
      const lines = this.stderr.split("\n").filter((l) => l.trim() !== "");
      const last = [...lines].reverse().find((l) => l.startsWith("fatal:"));
      const said = lines[0] === undefined ? "" : last === undefined || last === lines[0] ? lines[0] : `${lines[0]} … ${last}`;
      this.fail(new GitError("GIT_ERROR", `git cat-file ended (${code}): ${said}`));
    });
  }

  /** The objects named by `names` (none may contain a line break), in order; those over `maxBytes` (default {@link MAX_OBJECT_BYTES}) as `tooLarge`. */
  request(names: readonly string[], maxBytes: number = MAX_OBJECT_BYTES): Promise<BatchObject[]> {
    if (names.length === 0) return Promise.resolve([]);
    if (names.some((n) => n.includes("\n") || n.includes("\r"))) return Promise.reject(new GitError("GIT_ERROR", "an object name holds a line break"));
    const answers = names.map(
      () =>
        new Promise<BatchObject>((resolve, reject) => {
          if (this.failure !== undefined) reject(this.failure);
          else this.waiting.push({ resolve, reject, maxBytes });
        }),
    );
    if (this.failure === undefined) this.child.stdin!.write(`${names.join("\n")}\n`);
    return Promise.all(answers);
  }

  /** Ends the process (its stdin); answers already asked for still arrive. */
  close(): void {
    this.child.stdin!.end();
  }

  private fail(error: Error): void {
    this.drain();
    this.failure ??= error;
    for (const w of this.waiting.splice(0)) w.reject(this.failure);
  }

  /** Answers the waiting questions whose whole answer has arrived. */
  private drain(): void {
    while (this.waiting.length > 0 && this.buffered > 0) {
      let buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
      this.chunks.length = 0;
      this.chunks.push(buf);
      const nl = buf.indexOf(0x0a);
      if (nl === -1) return;
      const header = buf.subarray(0, nl).toString("utf8").split(" ");
      let answer: BatchObject;
      let used: number;
      if (header.length === 3 && /^\d+$/.test(header[2]!)) {
        const size = Number(header[2]);
        if (size > this.waiting[0]!.maxBytes) {
          // too large: answered now, its bytes (and the line break after them) dropped as they come
          answer = { id: header[0]!, type: header[1]!, content: NO_BYTES, size, tooLarge: true };
          const have = buf.length - (nl + 1);
          used = Math.min(buf.length, nl + 1 + size + 1);
          this.skipping = size + 1 - Math.min(have, size + 1);
        } else {
          if (buf.length < nl + 1 + size + 1) {
            this.needed = nl + 1 + size + 1; // the rest is still on its way
            return;
          }
          answer = { id: header[0]!, type: header[1]!, content: Buffer.from(buf.subarray(nl + 1, nl + 1 + size)), size };
          used = nl + 1 + size + 1;
        }
      } else {
        answer = undefined; // "<name> missing", "<name> ambiguous"
        used = nl + 1;
      }
      buf = buf.subarray(used);
      this.chunks[0] = buf;
      this.buffered = buf.length;
      this.needed = 0;
      this.waiting.shift()!.resolve(answer);
    }
  }
}

/** One entry of a raw tree object: its mode (a number), name and object id (hex). */
export interface TreeEntry {
  mode: number;
  name: string;
  id: string;
}

/**
 * The entries of a raw tree object (`<octal mode> <name>\0<id bytes>` each); `idBytes` is 20
 * (SHA-1) or 32 (SHA-256). Stops at a truncated entry. Throws `GitError("CORRUPT_OBJECT")`
 * naming the tree (`id`, when given) and the name when two entries have the same name (whatever
 * their modes): git and `git fsck` (duplicateEntries) take such a tree for corrupt, and picking
 * one of them would read a version git never shows.
 */
export function treeEntries(tree: Buffer, idBytes: number, id?: string): TreeEntry[] {
  const out: TreeEntry[] = [];
  let names: Set<string> | undefined;
  let pos = 0;
  while (pos < tree.length) {
    const space = tree.indexOf(0x20, pos);
    const nul = space === -1 ? -1 : tree.indexOf(0x00, space + 1);
    if (space === -1 || nul === -1 || nul + 1 + idBytes > tree.length) break;
    const name = tree.subarray(space + 1, nul).toString("utf8");
    // two names that are not UTF-8 may decode alike: those compare by their bytes
    const key = name.includes("\uFFFD") ? `\0${tree.subarray(space + 1, nul).toString("latin1")}` : name;
    names ??= new Set();
    if (names.has(key)) {
      throw new GitError("CORRUPT_OBJECT", `the git tree ${id ?? "(unnamed)"} holds two entries named ${JSON.stringify(name)}`, {
        hint: "run `git fsck --full` (duplicateEntries); rewrite the commit that holds this tree so that the folder lists each name once",
      });
    }
    names.add(key);
    out.push({
      mode: parseInt(tree.subarray(pos, space).toString("latin1"), 8),
      name,
      id: tree.subarray(nul + 1, nul + 1 + idBytes).toString("hex"),
    });
    pos = nul + 1 + idBytes;
  }
  return out;
}

/**
 * The regular files (modes 100644 and 100755, as `git ls-tree` shows them) among the entries of
 * a raw tree object: entry name → blob id (hex). Symbolic links, submodules and folders are left
 * out, as {@link GitRepo.filesAt} leaves them out. `idBytes` is 20 (SHA-1) or 32 (SHA-256).
 * Throws `GitError("CORRUPT_OBJECT")` on a tree with two entries of one name (see {@link treeEntries}).
 */
export function regularFilesOfTree(tree: Buffer, idBytes: number, id?: string): Map<string, string> {
  const out = new Map<string, string>();
  // git's canonical mode: any regular file is 100644 or 100755 (what ls-tree prints)
  for (const e of treeEntries(tree, idBytes, id)) if ((e.mode & 0o170000) === 0o100000) out.set(e.name, e.id);
  return out;
}

/** node:child_process, loaded when git first runs: `check` reading loose objects never loads it. */
function childProcess(): typeof import("node:child_process") {
  return process.getBuiltinModule("node:child_process");
}

/**
 * `git config --get KEY` as git reads it from `cwd`: in a repository its config, the user's and the
 * system's; outside one the user's and the system's. Undefined when unset, empty, or git fails.
 */
export function gitConfigValue(cwd: string, key: string, env: NodeJS.ProcessEnv): string | undefined {
  try {
    return childProcess().execFileSync("git", ["config", "--get", key], { cwd, env: gitEnv(env), encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 10_000 }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Which of `paths` (relative to `root`, each taken literally) git tracks in its index: one `git
 * ls-files` for them all. Undefined when git cannot say (not a repository, no git). Loads
 * node:child_process only when called.
 */
export function trackedPaths(root: string, paths: readonly string[], env: NodeJS.ProcessEnv): Promise<Set<string> | undefined> {
  return new Promise((resolveTracked) => {
    childProcess().execFile("git", ["ls-files", "-z", "--", ...paths.map((p) => `:(literal)${p}`)], { cwd: root, env: gitEnv(env), encoding: "utf8", maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => {
      resolveTracked(error ? undefined : new Set(stdout.split("\0").filter((p) => p !== "")));
    });
  });
}

/**
 * Which of `paths` (relative to `root`, each taken literally) git's index holds with the
 * skip-worktree bit: files a sparse checkout leaves out of the work tree (`git ls-files -t` tags
 * them `S`), which git still tracks and commits as they are in the index. One `git ls-files` for
 * them all; empty when git cannot say. Loads node:child_process only when called.
 */
export function skipWorktreePaths(root: string, paths: readonly string[], env: NodeJS.ProcessEnv): Promise<Set<string>> {
  if (paths.length === 0) return Promise.resolve(new Set());
  return new Promise((resolveSkipped) => {
    childProcess().execFile("git", ["ls-files", "-t", "-z", "--", ...paths.map((p) => `:(literal)${p}`)], { cwd: root, env: gitEnv(env), encoding: "utf8", maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => {
      resolveSkipped(error ? new Set() : skipWorktreeEntries(stdout));
    });
  });
}

/** The paths a `git ls-files -t -z` output tags `S` (skip-worktree). */
export function skipWorktreeEntries(output: string): Set<string> {
  return new Set(output.split("\0").filter((e) => e.startsWith("S ")).map((e) => e.slice(2)));
}

/** `env` as git gets it: defined variables only, and never a terminal prompt. */
export function gitEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  out.GIT_TERMINAL_PROMPT = "0";
  return out;
}

/** The pseudo-refs that name the other side of an operation in progress. */
export type PseudoRef = "MERGE_HEAD" | "REBASE_HEAD" | "CHERRY_PICK_HEAD" | "REVERT_HEAD";

/**
 * The commit ids the pseudo-ref `name` of the git directory `gitDir` names while its operation is
 * in progress (one per line: an octopus merge's MERGE_HEAD has several); empty when absent. git
 * can leave REBASE_HEAD behind once a rebase has ended (a conflicted commit dropped as empty): it
 * counts only while a rebase's folder (`rebase-merge`, `rebase-apply`) exists. The one place that
 * decides it, for `check`, the editor, pre-commit and `resolve`.
 */
export function pseudoRefIn(gitDir: string, name: PseudoRef): string[] {
  if (name === "REBASE_HEAD" && !existsSync(join(gitDir, "rebase-merge")) && !existsSync(join(gitDir, "rebase-apply"))) return [];
  try {
    return readFileSync(join(gitDir, name), "utf8").split("\n").map((l) => l.trim()).filter((l) => /^[0-9a-f]{40,64}$/.test(l));
  } catch {
    return []; // absent: no such operation in progress
  }
}

/**
 * The commit a `git merge --squash` in progress merges, or undefined. git writes no MERGE_HEAD for a
 * squash, only SQUASH_MSG, which lists the squashed commits newest first under
 * "Squashed commit of the following:" (the first is the tip that was merged); `git commit` and
 * `git reset` remove it. Not read while MERGE_HEAD exists (a real merge names its own side).
 */
export function squashHeadIn(gitDir: string): string | undefined {
  if (pseudoRefIn(gitDir, "MERGE_HEAD").length > 0) return undefined;
  let text: string;
  try {
    text = readFileSync(join(gitDir, "SQUASH_MSG"), "utf8").slice(0, 4096);
  } catch {
    return undefined; // no squash in progress
  }
  return /^Squashed commit of the following:\r?\n\r?\ncommit ([0-9a-f]{40,64})\r?$/m.exec(text)?.[1];
}

/**
 * What the git directory `gitDir` says is in progress: the commits MERGE_HEAD, REBASE_HEAD and
 * CHERRY_PICK_HEAD name (see {@link pseudoRefIn}) and the one a `git merge --squash` merges
 * ({@link squashHeadIn}), and the commit a `git revert` stopped on a conflict reverts
 * (REVERT_HEAD: its first parent is the other side).
 */
export function refsInProgress(gitDir: string): { pseudoRefs: string[]; revertHead: string | undefined } {
  const pseudoRefs = (["MERGE_HEAD", "REBASE_HEAD", "CHERRY_PICK_HEAD"] as const).flatMap((name) => pseudoRefIn(gitDir, name));
  const squash = squashHeadIn(gitDir);
  if (squash !== undefined) pseudoRefs.push(squash);
  return { pseudoRefs, revertHead: pseudoRefIn(gitDir, "REVERT_HEAD")[0] };
}
