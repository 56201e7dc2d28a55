/**
 * The git a review or a history needs, as a small interface that the caller implements (the CLI
 * runs the `git` binary; tests pass an in-memory fake). Core never runs a process itself.
 */

/**
 * Read-only access to one git repository around a project. Paths are `/`-separated; unless said
 * otherwise they are relative to the project root (the folder of stellar.yaml), which may be a
 * subfolder of the work tree ({@link GitSource.prefix}). Every method may throw the adapter's own
 * coded errors (e.g. the CLI's `GIT_ERROR`, `NOT_FOUND`); core passes them on unchanged.
 */
export interface GitSource {
  /** The project root relative to the top of the work tree ("" when they are the same). */
  readonly prefix: string;
  /** True when the repository has at least one commit. */
  hasHead(): Promise<boolean>;
  /** The full commit id of a commit-ish. Throws (the adapter's "not found") when it names no commit. */
  resolve(ref: string): Promise<string>;
  /** The best common ancestor of two commits (for `A...B`). Throws when there is none. */
  mergeBase(a: string, b: string): Promise<string>;
  /** The regular files of the project folder at a commit-ish: path → blob id (symbolic links and submodules left out). */
  filesAt(commit: string): Promise<Map<string, string>>;
  /** Files moved from `base` to `head` (the working tree when undefined) by git's rename detection: new path → old path. */
  renames(base: string, head: string | undefined): Promise<Map<string, string>>;
  /** The text of blobs by id; null for a blob that is not valid UTF-8; ids that do not exist are left out. */
  readBlobs(ids: readonly string[]): Promise<Map<string, string | null>>;
  /** The regular files of the project folder in the index (staged; of a conflicted path, "ours"): path → blob id. Optional: only `pre-commit` needs it. */
  filesInIndex?(): Promise<Map<string, string>>;
  /**
   * The symbolic links of the project folder at a commit-ish, or in the index when `commit` is
   * undefined: path → blob id (the blob holds where the link points). Optional: without it links
   * are not seen at all (the checker reports one in the inbox as `invalid-proposal`).
   */
  linksAt?(commit: string | undefined): Promise<Map<string, string>>;
  /** The output of `git log ARGS` run at the top of the work tree (paths in it are relative to the top), without signatures (`--no-show-signature`: a `log.showSignature` setting would run `gpg.program` and mix its report into the output). */
  log(args: readonly string[]): Promise<string>;
}

/**
 * The view of `git` from a folder below its project root (`dir`: relative, `/`-separated, no
 * trailing slash), e.g. a nested project (a folder with a stellar.yaml of its own) read through the
 * outer project's repository: its listings (files, links, the index, renames) hold only the paths
 * inside `dir`, relative to it, and its {@link GitSource.prefix} is `dir` below the outer one. Blobs,
 * commits and `log` are the repository's. Has `filesInIndex` and `linksAt` exactly when `git` has.
 * Throws what `git` throws.
 */
export function folderSource(git: GitSource & Required<Pick<GitSource, "filesInIndex">>, dir: string): GitSource & Required<Pick<GitSource, "filesInIndex">>;
export function folderSource(git: GitSource, dir: string): GitSource;
export function folderSource(git: GitSource, dir: string): GitSource {
  const below = `${dir}/`;
  const inside = (listing: ReadonlyMap<string, string>): Map<string, string> => {
    const out = new Map<string, string>();
    for (const [path, value] of listing) if (path.startsWith(below)) out.set(path.slice(below.length), value);
    return out;
  };
  const { filesInIndex, linksAt } = git;
  return {
    prefix: git.prefix === "" ? dir : `${git.prefix}/${dir}`,
    hasHead: () => git.hasHead(),
    resolve: (ref) => git.resolve(ref),
    mergeBase: (a, b) => git.mergeBase(a, b),
    filesAt: async (commit) => inside(await git.filesAt(commit)),
    renames: async (base, head) => {
      const out = new Map<string, string>();
      for (const [to, from] of await git.renames(base, head)) {
        if (to.startsWith(below) && from.startsWith(below)) out.set(to.slice(below.length), from.slice(below.length));
      }
      return out;
    },
    readBlobs: (ids) => git.readBlobs(ids),
    ...(filesInIndex === undefined ? {} : { filesInIndex: async () => inside(await filesInIndex.call(git)) }),
    ...(linksAt === undefined ? {} : { linksAt: async (commit: string | undefined) => inside(await linksAt.call(git, commit)) }),
    log: (args) => git.log(args),
  };
}
