/**
 * The git-backed value history of each project, for `rotation-overdue` (the same history
 * `stellar-secrets check` reads, through `@stellar-secrets/git`). It is read only for a project
 * whose catalog has a `rotate_every` and that is in a git repository with commits; read in the
 * background by {@link BackgroundGitReads} (never while a keystroke waits) once the project is
 * loaded, again when what it depends on changes (a `rotate_every` or an environment file appears
 * or goes), when an environment file changes on disk, and when git's HEAD or a branch moves
 * (commit, checkout, pull); then the project is re-checked and its diagnostics republished.
 */
import type { ValueHistory } from "@stellar-secrets/core";
import { shallowHistoryNote } from "@stellar-secrets/git";
import { BackgroundGitReads, GIT_READ_DELAY_MS, type GitRead } from "./git-reads.js";
import type { ServerState } from "./state.js";

export { GIT_WATCHERS } from "./git-reads.js";

/** Pause after the last trigger before the history is read (a checkout changes many files at once). */
export const HISTORY_DELAY_MS = GIT_READ_DELAY_MS;

/** The value history as a {@link GitRead}: keyed by {@link ProjectModel.historyKey}; uncommitted values on disk count as set now. */
export const VALUE_HISTORY: GitRead<ValueHistory> = {
  what: "value history",
  key: (model) => model.historyKey(),
  read: (model) => model.readHistory(),
  set: (model, history) => model.setHistory(history),
  followsEnvironmentFiles: true,
  // a shallow clone: a value set before the cut looks set at it (as `check` notes it)
  note: (model) => {
    const cut = model.shallowCut();
    return cut === undefined ? undefined : shallowHistoryNote(cut);
  },
};

/** Reads and refreshes the value history of every project. */
export class ValueHistories extends BackgroundGitReads<ValueHistory> {
  constructor(state: ServerState) {
    super(state, VALUE_HISTORY);
  }
}
