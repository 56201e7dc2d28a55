/**
 * The git-backed value history that enables the `rotation-overdue` rule, read the same way by
 * `stellar-secrets check` and the language server: without keys (as `stale --no-decrypt` reads
 * it), and only when the rule needs one.
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
