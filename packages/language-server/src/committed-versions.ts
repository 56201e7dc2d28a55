/**
 * The committed versions of each project's environment files, for `stale-mac` (the same versions
 * `stellar-secrets check` compares with, through `@stellar-secrets/git`): HEAD's, plus the other
 * side of a merge, rebase or cherry-pick in progress, and HEAD's parents' (a hand edit already
 * committed). Read for every project with environment
 * files (outside a git repository with commits there are none, and only the checks within each
 * file run), in the background by {@link BackgroundGitReads} (never while a keystroke waits):
 * once the project is loaded, again when an environment file appears or goes, and when git's
 * HEAD, a branch, or MERGE_HEAD/REBASE_HEAD/CHERRY_PICK_HEAD changes. Edits (on disk or in an
 * open buffer) are re-checked against the versions already read, without git.
 */
import { parentsNotFetchedNote } from "@stellar-secrets/git";
import { BackgroundGitReads, type GitRead } from "./git-reads.js";
import type { CommittedTexts } from "./model.js";
import type { ServerState } from "./state.js";

/** The committed versions as a {@link GitRead}: keyed by {@link ProjectModel.committedKey}; edits do not change them. */
export const COMMITTED_VERSIONS: GitRead<CommittedTexts> = {
  what: "committed versions",
  key: (model) => model.committedKey(),
  read: (model) => model.readCommitted(),
  set: (model, committed) => model.setCommitted(committed),
  followsEnvironmentFiles: false,
  // HEAD at the edge of a shallow clone: its parents' versions are absent (as `check` notes it)
  note: (_model, committed) => (committed.parentsNotFetched === undefined ? undefined : parentsNotFetchedNote(committed.parentsNotFetched)),
};

/** Reads and refreshes the committed versions of every project's environment files. */
export class CommittedVersions extends BackgroundGitReads<CommittedTexts> {
  constructor(state: ServerState) {
    super(state, COMMITTED_VERSIONS);
  }
}
