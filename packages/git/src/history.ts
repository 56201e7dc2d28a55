/**
 * What the checker reads from git, read the same way by `stellar-secrets check` and the language
 * server, without keys: the value history that enables the `rotation-overdue` rule (as
 * `stale --no-decrypt` reads it, and only when the rule needs one), and the committed versions of
 * the environment files that `stale-mac` compares them with.
 */
import { readSecretsHistory, rotationTrackedFiles, valueHistoryOf, type ValueHistory, type WorkspaceIndex } from "@stellar-secrets/core";
import { CatFileSession, GitRepo, readWorkingText, regularFilesOfTree, strictText } from "./repo.js";

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
 * what was read until then. Never throws; reads ciphertext only. Two git processes (see
 * {@link startCommittedVersions}).
 */
export async function readCommittedVersions(root: string, env: NodeJS.ProcessEnv, paths: readonly string[]): Promise<Map<string, string[]>> {
  if (paths.length === 0) return new Map();
  return startCommittedVersions(root, env).read(paths);
}

/** {@link readCommittedVersions} started before its paths are known: see {@link startCommittedVersions}. */
export interface CommittedVersionsReader {
  /** The project root the git processes were started for. */
  readonly root: string;
  /** The committed versions of `paths` (relative to {@link root}), as {@link readCommittedVersions} gives them; ends the git processes. Call once. */
  read(paths: readonly string[]): Promise<Map<string, string[]>>;
}

/**
 * Starts what {@link readCommittedVersions} runs for the project root `root` now, before its paths
 * are known, so that git starts while the caller reads the workspace (`check`'s start): one
 * `git rev-parse` (the top folder, HEAD and the pseudo-refs' files) and one `git cat-file --batch`
 * that then reads the folders holding the paths at each commit and the regular files' blobs
 * (two rounds of one process, where `ls-tree` and `cat-file` were two processes). `read` gives
 * the same answers as {@link readCommittedVersions} and never throws; with no paths it ends git.
 */
export function startCommittedVersions(root: string, env: NodeJS.ProcessEnv): CommittedVersionsReader {
  const atHead = GitRepo.openAtHead(root, env).catch(() => undefined);
  let batch: CatFileSession | undefined;
  try {
    batch = new CatFileSession(root, env);
  } catch {
    // git cannot start: read() finds nothing
  }
  return {
    root,
    async read(paths) {
      const out = new Map<string, string[]>();
      try {
        const at = await atHead;
        if (at === undefined || batch === undefined || paths.length === 0) return out;
        const add = (versions: Map<string, string | null>): void => {
          for (const [path, text] of versions) if (text !== null) out.set(path, [...(out.get(path) ?? []), text]);
        };
        add(await showManyWith(batch, at.repo.prefix, at.head, paths));
        for (const ref of at.pseudoRefs) {
          // as `rev-parse REF^{commit}`: a pseudo-ref that names no commit gives nothing
          const [commit] = await batch.request([`${ref}^{commit}`]);
          if (commit?.type === "commit") add(await showManyWith(batch, at.repo.prefix, ref, paths));
        }
      } catch {
        // not a git repository (or git unusable): only the checks within each file run (with what was read)
      } finally {
        batch?.close();
      }
      return out;
    },
  };
}

/**
 * The text of each of `paths` (relative to the project root, at `prefix` in the work tree) at
 * `commit`, through `batch`: the folders' trees in one round, the regular files' blobs in a
 * second (null: not valid UTF-8). The same answers as {@link GitRepo.showManyAtCommit}.
 */
async function showManyWith(batch: CatFileSession, prefix: string, commit: string, paths: readonly string[]): Promise<Map<string, string | null>> {
  const full = (p: string): string => (prefix === "" ? p : `${prefix}/${p}`);
  const folderOf = (p: string): string => {
    const f = full(p);
    return f.includes("/") ? f.slice(0, f.lastIndexOf("/")) : "";
  };
  const folders = [...new Set(paths.map(folderOf))];
  const trees = await batch.request(folders.map((f) => `${commit}:${f}`));
  const idBytes = commit.length === 64 ? 32 : 20;
  const files = new Map<string, Map<string, string>>();
  folders.forEach((f, i) => {
    const tree = trees[i];
    if (tree?.type === "tree") files.set(f, regularFilesOfTree(tree.content, idBytes));
  });
  const ids = paths.map((p) => files.get(folderOf(p))?.get(full(p).slice(full(p).lastIndexOf("/") + 1)));
  const wanted = [...new Set(ids.filter((id): id is string => id !== undefined))];
  const blobs = await batch.request(wanted);
  const texts = new Map<string, string | null>();
  wanted.forEach((id, i) => {
    const blob = blobs[i];
    if (blob?.type === "blob") texts.set(id, strictText(blob.content, id));
  });
  const out = new Map<string, string | null>();
  paths.forEach((p, i) => {
    const id = ids[i];
    if (id !== undefined && texts.has(id)) out.set(p, texts.get(id) ?? null);
  });
  return out;
}
