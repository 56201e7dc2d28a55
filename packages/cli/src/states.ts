/**
 * The states `review` and `pre-commit` read without keys: a commit or the index (through core's
 * readers over the {@link GitRepo} adapter: nothing is checked out or written to disk), the
 * working tree, or nothing (before the first commit).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { emptyState, loadWorkspace, PROJECT_FILE, readCommitState, readIndexState, stateOfIndex, type ReadStateOptions, type ReviewState } from "@stellar-secrets/core";
import type { GitRepo } from "./git.js";
import { readWorkingText } from "./git.js";

/** A revision: a commit-ish, the index (what is staged), the working tree, or nothing. */
export type Revision = { kind: "commit"; ref: string } | { kind: "index" } | { kind: "working-tree" } | { kind: "empty" };

/** Reads one state (`root`: the absolute project root; `options.alsoRead`: further config scopes to read, e.g. the base's). */
export async function readState(repo: GitRepo, root: string, revision: Revision, label: string, options: ReadStateOptions = {}): Promise<ReviewState> {
  if (revision.kind === "empty") return emptyState(label);
  if (revision.kind === "commit") return readCommitState(repo, root, revision.ref, label, options);
  if (revision.kind === "index") return readIndexState(repo, root, label, options);
  const loaded = existsSync(join(root, PROJECT_FILE)) ? loadWorkspace(root) : undefined;
  return stateOfIndex(label, undefined, loaded?.index, (rel) => readWorkingText(root, rel), (scope) => loadWorkspace(root, { alsoInclude: [scope] }).index, loaded?.skipped);
}
