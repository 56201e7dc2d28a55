/**
 * The CLI's git adapter is `@stellar-secrets/git` (shared with the language server): this module
 * only re-exports it, so commands keep importing `./git.js`. Its errors are `GitError`s with the
 * codes `GIT_ERROR`, `NOT_FOUND`, `SHALLOW_CLONE`, `CORRUPT_OBJECT` and `OBJECT_TOO_LARGE`, which `errors.ts` maps to exit statuses.
 */
export { catFileBatch, findGitDir, GitError, gitConfigValue, gitEnv, GitRepo, isGitError, readBranches, readCommittedVersions, readUnresolvedMerges, readValueHistory, parentsNotFetchedNote, readWorkingText, shallowCutOf, shallowHistoryNote, startCommittedVersions, SHALLOW_HINT, skipWorktreePaths, strictText, trackedPaths, type Branches, type CommittedVersionsReader, type GitErrorCode } from "@stellar-secrets/git";
