/**
 * What the checker reads from git, read the same way by `stellar-secrets check` and the language
 * server, without keys: the value history that enables the `rotation-overdue` rule (as
 * `stale --no-decrypt` reads it, and only when the rule needs one), and the committed versions of
 * the environment files that `stale-mac` compares them with.
 */
import { readSecretsHistory, rotationTrackedFiles, valueHistoryOf, type ValueHistory, type WorkspaceIndex } from "@stellar-secrets/core";
import { GitRepo, readWorkingText } from "./repo.js";

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
 * what was read until then. Never throws; reads ciphertext only.
 */
export async function readCommittedVersions(root: string, env: NodeJS.ProcessEnv, paths: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (paths.length === 0) return out;
  try {
    // one git process for the repository, HEAD and the pseudo-refs (a command's start pays each process)
    const at = await GitRepo.openAtHead(root, env);
    if (at === undefined) return out;
    const add = (versions: Map<string, string | null>): void => {
      for (const [path, text] of versions) if (text !== null) out.set(path, [...(out.get(path) ?? []), text]);
    };
    add(await at.repo.showManyAtCommit(at.head, paths));
    for (const ref of at.pseudoRefs) add(await at.repo.showMany(ref, paths));
  } catch {
    // not a git repository (or git unusable): only the checks within each file run (with what was read)
  }
  return out;
}
