/**
 * `@stellar-secrets/git`: the one way Stellar Secrets runs git, shared by the CLI and the language
 * server. {@link GitRepo} implements core's `GitSource` over the `git` binary; failures are
 * {@link GitError}s with a stable code; {@link readValueHistory} is the git-backed history that
 * enables the `rotation-overdue` rule; {@link readCommittedVersions} gives `stale-mac` the committed
 * versions of the environment files.
 */
export { GitError, isGitError, type GitErrorCode } from "./errors.js";
export { CatFileSession, catFileBatch, catFileBatchOrMissing, findGitDir, gitConfigValue, gitEnv, GitRepo, MAX_OBJECT_BYTES, pseudoRefIn, readWorkingText, readBranches, refsInProgress, squashHeadIn, regularFilesOfTree, SHALLOW_HINT, shallowEdges, skipWorktreeEntries, skipWorktreePaths, strictText, trackedPaths, type BatchObject, type Branches, type BlobsRead, type PseudoRef } from "./repo.js";
export { parentsNotFetchedNote, readCommittedVersions, readValueHistory, shallowCutOf, shallowHistoryNote, startCommittedVersions, type CommittedVersionsReader } from "./history.js";
export { amPatchInProgress, findGitLocation, readUnresolvedMerge, readUnresolvedMerges, RECORDS_DIR, recordPath, removeUnresolvedMerge, sha256Text, topRelative, writeUnresolvedMerge, type GitLocation } from "./merge-records.js";
