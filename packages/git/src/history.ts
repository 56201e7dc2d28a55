/**
 * What the checker reads from git, read the same way by `stellar-secrets check` and the language
 * server, without keys: the value history that enables the `rotation-overdue` rule (as
 * `stale --no-decrypt` reads it, and only when the rule needs one), and the committed versions of
 * the environment files that `stale-mac` compares them with.
 */
import { readSecretsHistory, rotationTrackedFiles, valueHistoryOf, type ValueHistory, type WorkspaceIndex } from "@stellar-secrets/core";
import { realpathSync } from "node:fs";
import { isAbsolute, relative, sep } from "node:path";
import { MAX_SECRETS_FILE_BYTES } from "@stellar-secrets/sops";
import { isGitError } from "./errors.js";
import { LooseRepository, type LooseObject } from "./loose.js";
import { CatFileSession, discoverWorkTree, findWorkTree, GitRepo, readWorkingText, refsInProgress, regularFilesOfTree, shallowEdges, strictText } from "./repo.js";

/**
 * Where the values of the secrets with a catalog `rotate_every` were last set, from the git
 * history of the project's repository (uncommitted changes in the working tree count as set now),
 * for `checkWorkspace(index, { history })`. Undefined (the rule stays off) when no secret has a
 * valid `rotate_every`, the rule is off or stellar.yaml is not usable (git is not run at all in
 * these cases: see core's `rotationTrackedFiles`), or when the project is not in a git repository
 * with commits, or git fails. Never throws; never reads a value.
 */
export async function readValueHistory(index: WorkspaceIndex, env: NodeJS.ProcessEnv): Promise<ValueHistory | undefined> {
  const files = rotationTrackedFiles(index);
  if (files.length === 0) return undefined;
  const root = index.project.root;
  // nothing git-like from the root up (and no GIT_DIR-like variable): git would only say so
  if (discoverWorkTree(root, env) === "none") return undefined;
  try {
    const git = await GitRepo.open(root, env);
    if (!(await git.hasHead())) return undefined;
    const history = await readSecretsHistory({ git, files, readWorkingText: (rel) => readWorkingText(root, rel) });
    return valueHistoryOf(history.events);
  } catch {
    return undefined; // not in a git repository, or git failed: the rule is off
  }
}

/**
 * The committed texts of environment files, for `stale-mac` (`checkWorkspace(index, { committed })`),
 * read the same way by `stellar-secrets check` and the language server: HEAD's version of each of
 * `paths` (relative to the project root `root`), followed by the version of each other side of a
 * merge, rebase or cherry-pick in progress (MERGE_HEAD, REBASE_HEAD, CHERRY_PICK_HEAD). A path
 * missing from a commit (or not valid UTF-8 there) gets no text from it. Empty when `paths` is empty
 * (git is not run), outside a git repository or before the first commit; when git fails part way,
 * what was read until then. Never throws; reads ciphertext only. No git process when the
 * objects are loose, else one in most repositories (see {@link startCommittedVersions}).
 */
export async function readCommittedVersions(root: string, env: NodeJS.ProcessEnv, paths: readonly string[]): Promise<Map<string, string[]>> {
  if (paths.length === 0) return new Map();
  return startCommittedVersions(root, env).read(paths);
}

/** {@link readCommittedVersions} started before its paths are known: see {@link startCommittedVersions}. */
export interface CommittedVersionsReader {
  /** The project root the git processes were started for. */
  readonly root: string;
  /** The committed versions of `paths` (relative to {@link root}), as {@link readCommittedVersions} gives them; ends the git processes. Call once (this or {@link readWithEarlier}). */
  read(paths: readonly string[]): Promise<Map<string, string[]>>;
  /**
   * {@link read}'s answer, plus `earlier`: the versions of `paths` in HEAD's parent commits (a merge
   * commit has two), for `stale-mac` only (`checkWorkspace(index, { earlier })`): a hand-merge or a
   * hand edit already committed keeps the `mac` of a parent's version over other values. Call once.
   */
  readWithEarlier(paths: readonly string[]): Promise<{ committed: Map<string, string[]>; earlier: Map<string, string[]>; parentsNotFetched?: string }>;
}

/** `head` when it is at the edge of a shallow clone ({@link shallowEdges}: nothing can be compared with its parents), else undefined. */
export function shallowEdgeAt(gitDir: string, head: string | undefined): string | undefined {
  return head !== undefined && shallowEdges(gitDir).includes(head) ? head : undefined;
}

/**
 * What a shallow clone whose history stops at the commit `cut` ({@link shallowCutOf}) hides from
 * `rotation-overdue`, and how to fix it: one sentence, without a prefix (`check` prints it as a
 * note, the language server logs it).
 */
export function shallowHistoryNote(cut: string): string {
  return `this is a shallow clone (its history stops at ${cut.slice(0, 12)}): rotation-overdue reads when each value was last set from git history, and a value set before the cut looks set at it, so an overdue value may not be reported; fetch the history (\`git fetch --unshallow\`; in CI, actions/checkout with fetch-depth: 0)`;
}

/**
 * What a shallow clone cut at HEAD (`head`, {@link CommittedVersionsReader.readWithEarlier}'s
 * `parentsNotFetched`) hides from `stale-mac`, and how to fix it: one sentence, without a prefix.
 */
export function parentsNotFetchedNote(head: string): string {
  return `HEAD (${head.slice(0, 12)}) is at the edge of a shallow clone: its parent commits were not fetched, so an environment file merged or edited by hand in HEAD's own commit (stale-mac) cannot be seen; fetch them (\`git fetch --deepen=1\`; in CI, actions/checkout with fetch-depth: 0)`;
}

/**
 * A commit at the edge of the shallow clone that holds the project root `root` (the history read
 * from git stops there: a value set before it looks set at it), else undefined (a full clone, no
 * git repository, or a git directory named by a GIT_DIR-like variable). No git process; never throws.
 */
export function shallowCutOf(root: string, env: NodeJS.ProcessEnv): string | undefined {
  try {
    const gitDir = findWorkTree(root, env)?.gitDir;
    return gitDir === undefined ? undefined : shallowEdges(gitDir)[0];
  } catch {
    return undefined;
  }
}

/**
 * Starts what {@link readCommittedVersions} runs for the project root `root` now, before its paths
 * are known (`check`'s start, while it reads the workspace). In the common case no git process
 * runs at all: HEAD, its commit and the pseudo-refs (MERGE_HEAD, REBASE_HEAD, CHERRY_PICK_HEAD)
 * are read from the work tree's git directory, and the folders and blobs from loose objects
 * (loose.ts); an object in a pack, or anything unusual, falls back to git. Git's way: one
 * `git cat-file --batch`, started now in `root`, that reads HEAD (and each pseudo-ref's commit),
 * the folders holding the paths at each commit (`<commit>:./<folder>`) and the regular files'
 * blobs, in rounds of one process; the pseudo-refs are read from the git directory when
 * {@link findWorkTree} finds it, else (a GIT_DIR-like variable, anything unusual) from
 * `git rev-parse`, a second process. `read` gives the same answers as {@link readCommittedVersions}
 * and never throws; with no paths it ends git. Outside every repository (nothing git-like from
 * `root` up, no GIT_DIR-like variable) git is not started: it would only say so.
 */
export function startCommittedVersions(root: string, env: NodeJS.ProcessEnv): CommittedVersionsReader {
  const found = discoverWorkTree(root, env);
  if (found === "none") {
    const nothing = async () => ({ committed: new Map<string, string[]>(), earlier: new Map<string, string[]>() });
    return { root, read: async () => new Map(), readWithEarlier: nothing };
  }
  const work = found;
  const loose = work === undefined ? undefined : looseStart(work.top, work.gitDir, root, env);
  if (loose !== undefined) {
    // HEAD and its commit read from the git directory: no git process, unless an object is packed
    const edge = shallowEdgeAt(work!.gitDir, loose.head);
    const both = async (paths: readonly string[], parents: boolean) => {
      const read = await (async () => {
        try {
          return looseVersions(loose, paths, parents);
        } catch {
          // an object that is not loose (or anything unexpected, AskGit): git answers
          return paths.length === 0 ? { committed: new Map(), earlier: new Map() } : startGit(root, env, work!.gitDir).readWithEarlier(paths, parents);
        }
      })();
      return parents && edge !== undefined && paths.length > 0 ? { ...read, parentsNotFetched: edge } : read;
    };
    return {
      root,
      read: async (paths) => (await both(paths, false)).committed,
      readWithEarlier: (paths) => both(paths, true),
    };
  }
  const git = startGit(root, env, work?.gitDir);
  return { root, read: async (paths) => (await git.readWithEarlier(paths, false)).committed, readWithEarlier: (paths) => git.readWithEarlier(paths, true) };
}

/** The parent commit ids a commit's text names (`parent <id>` lines of its header). */
function parentsIn(commit: Buffer): string[] {
  const header = commit.toString("latin1", 0, Math.min(commit.length, 4096)).split("\n\n", 1)[0] ?? "";
  return [...header.matchAll(/^parent ([0-9a-f]{40,64})$/gm)].map((m) => m[1] as string);
}

/** What the loose reading starts from: the repository, the project root's folder in the work tree, HEAD's commit and the pseudo-refs. */
interface LooseStart {
  repo: LooseRepository;
  prefix: string;
  head: string | undefined;
  pseudoRefs: string[];
  /** The commit a `git revert` in progress reverts (REVERT_HEAD): its first parent is the other side. */
  revertHead: string | undefined;
}

/** {@link LooseStart} when HEAD's commit is a loose object of a repository read directly (see loose.ts); undefined: start git. */
function looseStart(top: string, gitDir: string, root: string, env: NodeJS.ProcessEnv): LooseStart | undefined {
  const repo = LooseRepository.open(top, gitDir, env);
  if (repo === undefined) return undefined;
  try {
    const prefix = relative(realpathSync(top), realpathSync(root)).split(sep).join("/");
    if (prefix.startsWith("..") || isAbsolute(prefix)) return undefined;
    const head = repo.head();
    if (head !== undefined && repo.treeOf(head) === undefined) return undefined;
    return { repo, prefix, head, ...refsInProgress(gitDir) };
  } catch {
    return undefined;
  }
}

/** {@link readCommittedVersions} from loose objects (and HEAD's parents' versions when `parents`); throws {@link AskGit} when an object is not loose. */
function looseVersions(at: LooseStart, paths: readonly string[], parents: boolean): { committed: Map<string, string[]>; earlier: Map<string, string[]> } {
  const committed = new Map<string, string[]>();
  const earlier = new Map<string, string[]>();
  if (at.head === undefined || paths.length === 0) return { committed, earlier }; // before the first commit
  const add = (out: Map<string, string[]>, versions: Map<string, string | null>): void => {
    for (const [path, text] of versions) if (text !== null) out.set(path, [...(out.get(path) ?? []), text]);
  };
  for (const commit of [at.head, ...at.pseudoRefs]) {
    const tree = at.repo.treeOf(commit); // as `REF^{commit}`: a pseudo-ref that names no commit gives nothing
    if (tree !== undefined) add(committed, looseShowMany(at.repo, tree, at.prefix, paths));
  }
  // a revert merges the reverted commit's parent in: that version is the other side
  const reverted = at.revertHead === undefined ? undefined : parentsIn(at.repo.read(at.revertHead).content)[0];
  const revertTree = reverted === undefined ? undefined : at.repo.treeOf(reverted);
  if (revertTree !== undefined) add(committed, looseShowMany(at.repo, revertTree, at.prefix, paths));
  if (parents) {
    for (const parent of parentsIn(at.repo.read(at.head).content)) {
      const tree = at.repo.treeOf(parent);
      if (tree !== undefined) add(earlier, looseShowMany(at.repo, tree, at.prefix, paths));
    }
  }
  return { committed, earlier };
}

/** {@link showManyWith} over loose objects: the text of each of `paths` in the tree `tree` (null: not valid UTF-8). */
function looseShowMany(repo: LooseRepository, tree: string, prefix: string, paths: readonly string[]): Map<string, string | null> {
  const out = new Map<string, string | null>();
  const folders = new Map<string, Map<string, string> | undefined>();
  for (const p of paths) {
    if (!plainlyInside(p)) continue;
    const folder = p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : "";
    if (!folders.has(folder)) {
      const full = prefix === "" ? folder : folder === "" ? prefix : `${prefix}/${folder}`;
      const entries = repo.folder(tree, full);
      // git's canonical mode: any regular file is 100644 or 100755 (links and submodules are left out)
      folders.set(folder, entries === undefined ? undefined : new Map(entries.filter((e) => (e.mode & 0o170000) === 0o100000).map((e) => [e.name, e.id])));
    }
    const id = folders.get(folder)?.get(p.slice(p.lastIndexOf("/") + 1));
    if (id === undefined) continue;
    let blob: LooseObject;
    try {
      blob = repo.read(id, MAX_SECRETS_FILE_BYTES);
    } catch (error) {
      // larger than any environment file is read: refused before it is inflated, as strictText refuses it (null)
      if (isGitError(error) && error.code === "OBJECT_TOO_LARGE") {
        out.set(p, null);
        continue;
      }
      throw error;
    }
    if (blob.type === "blob") out.set(p, strictText(blob.content, id));
  }
  return out;
}

/** True for a path plainly inside the project folder (no empty, `.` or `..` part, not absolute). */
function plainlyInside(p: string): boolean {
  return p !== "" && !p.startsWith("/") && !p.split("/").some((part) => part === "" || part === "." || part === "..");
}

/** The git processes of {@link startCommittedVersions}; `gitDir` when known (the pseudo-refs are read there, else `git rev-parse` gives them). */
function startGit(
  root: string,
  env: NodeJS.ProcessEnv,
  gitDir: string | undefined,
): { readWithEarlier(paths: readonly string[], parents: boolean): Promise<{ committed: Map<string, string[]>; earlier: Map<string, string[]>; parentsNotFetched?: string }> } {
  const atHead =
    gitDir === undefined
      ? GitRepo.openAtHead(root, env).then(
          (at) => (at === undefined ? undefined : { base: at.repo.prefix === "" ? "" : `${at.repo.prefix}/`, pseudoRefs: at.pseudoRefs, revertHead: at.revertHead }),
          () => undefined,
        )
      : Promise.resolve({ base: "./", ...refsInProgress(gitDir) });
  let batch: CatFileSession | undefined;
  try {
    batch = new CatFileSession(root, env);
  } catch {
    // git cannot start: read() finds nothing
  }
  return {
    async readWithEarlier(paths, parents) {
      const committed = new Map<string, string[]>();
      const earlier = new Map<string, string[]>();
      let parentsNotFetched: string | undefined;
      try {
        const at = await atHead;
        if (at === undefined || batch === undefined || paths.length === 0) return { committed, earlier };
        // HEAD's commit, and each pseudo-ref's (as `rev-parse REF^{commit}`: one that names no commit gives nothing)
        const [head, ...others] = await batch.request(["HEAD^{commit}", ...at.pseudoRefs.map((ref) => `${ref}^{commit}`)]);
        if (head?.type !== "commit") return { committed, earlier }; // before the first commit
        const add = (out: Map<string, string[]>, versions: Map<string, string | null>): void => {
          for (const [path, text] of versions) if (text !== null) out.set(path, [...(out.get(path) ?? []), text]);
        };
        add(committed, await showManyWith(batch, at.base, head.id, paths));
        for (const [i, ref] of at.pseudoRefs.entries()) {
          if (others[i]?.type === "commit") add(committed, await showManyWith(batch, at.base, ref, paths));
        }
        // a revert merges the reverted commit's parent in: that version is the other side
        if (at.revertHead !== undefined) {
          const [reverted] = await batch.request([`${at.revertHead}^{commit}`]);
          const parent = reverted?.type === "commit" ? parentsIn(reverted.content)[0] : undefined;
          if (parent !== undefined) add(committed, await showManyWith(batch, at.base, parent, paths));
        }
        if (parents) for (const parent of parentsIn(head.content)) add(earlier, await showManyWith(batch, at.base, parent, paths));
        if (parents && gitDir !== undefined) parentsNotFetched = shallowEdgeAt(gitDir, head.id);
      } catch {
        // not a git repository (or git unusable): only the checks within each file run (with what was read)
      } finally {
        batch?.close();
      }
      return parentsNotFetched === undefined ? { committed, earlier } : { committed, earlier, parentsNotFetched };
    },
  };
}

/**
 * The text of each of `paths` (relative to the project root; `base` names the root's folder in
 * a `<commit>:<path>`: `./` relative to git's working folder, or the root's path in the work tree
 * with a final `/`, or "" at the top) at `commit`, through `batch`: the folders' trees in one round, the regular files' blobs in a
 * second (null: not valid UTF-8). The same answers as {@link GitRepo.showManyAtCommit}.
 */
async function showManyWith(batch: CatFileSession, base: string, commit: string, paths: readonly string[]): Promise<Map<string, string | null>> {
  // a path that is not plainly inside the project folder is in no commit (as ls-tree never listed it)
  const inside = paths.filter(plainlyInside);
  const folderOf = (p: string): string => (p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : "");
  const folders = [...new Set(inside.map(folderOf))];
  // `<commit>:` is the top tree, `<commit>:./` the tree of git's working folder (the project root)
  const trees = await batch.request(folders.map((f) => `${commit}:${f === "" ? base : `${base}${f}`}`));
  const idBytes = commit.length === 64 ? 32 : 20;
  const files = new Map<string, Map<string, string>>();
  folders.forEach((f, i) => {
    const tree = trees[i];
    if (tree?.type === "tree" && tree.tooLarge !== true) files.set(f, regularFilesOfTree(tree.content, idBytes, tree.id));
  });
  const ids = paths.map((p) => (inside.includes(p) ? files.get(folderOf(p))?.get(p.slice(p.lastIndexOf("/") + 1)) : undefined));
  const wanted = [...new Set(ids.filter((id): id is string => id !== undefined))];
  // a blob larger than any environment file is read is skipped as git writes it (null, as strictText says of it)
  const blobs = await batch.request(wanted, MAX_SECRETS_FILE_BYTES);
  const texts = new Map<string, string | null>();
  wanted.forEach((id, i) => {
    const blob = blobs[i];
    if (blob?.type === "blob") texts.set(id, blob.tooLarge === true ? null : strictText(blob.content, id));
  });
  const out = new Map<string, string | null>();
  paths.forEach((p, i) => {
    const id = ids[i];
    if (id !== undefined && texts.has(id)) out.set(p, texts.get(id) ?? null);
  });
  return out;
}
