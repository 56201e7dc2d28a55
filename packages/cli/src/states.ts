/**
 * The states `review` and `pre-commit` read without keys: a commit or the index (through core's
 * readers over the {@link GitRepo} adapter: nothing is checked out or written to disk), the
 * working tree, or nothing (before the first commit).
 */
import { existsSync, lstatSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { emptyState, loadWorkspace, PROJECT_FILE, SOPS_CONFIG_FILE, readCommitState, readIndexState, stateOfIndex, type ReadStateOptions, type ReviewState } from "@stellar-secrets/core";
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

/**
 * The regular files `.gitattributes`, `.sops.yaml` and `stellar.yaml` of each folder above the project root
 * (`prefix`: the root below the top of the work tree, non-empty), at a commit, in the index, in
 * the working tree, or none (`undefined`: no state, `"empty"`): path relative to the top → text
 * (a file that is not valid UTF-8 left out). Throws what git throws.
 */
export async function aboveRootFiles(repo: GitRepo, prefix: string, at: string | undefined): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (at === undefined || at === "empty") return out;
  const parts = prefix.split("/");
  const paths = parts.flatMap((_, i) => [".gitattributes", SOPS_CONFIG_FILE, PROJECT_FILE].map((name) => [...parts.slice(0, i), name].join("/")));
  if (at === "working-tree") {
    for (const rel of paths) {
      try {
        if (lstatSync(join(repo.top, rel)).isFile()) out.set(rel, readFileSync(join(repo.top, rel), "utf8"));
      } catch {
        // absent
      }
    }
    return out;
  }
  // ls-tree (a commit) or ls-files --stage (the index), at the top: `MODE [TYPE] ID [STAGE]\tPATH`
  const listing = at === "index" ? await repo.run(["--literal-pathspecs", "ls-files", "-s", "-z", "--", ...paths]) : await repo.run(["--literal-pathspecs", "ls-tree", "-z", at, "--", ...paths]);
  const ids = new Map<string, string>();
  for (const entry of listing.split("\0")) {
    const tab = entry.indexOf("\t");
    const fields = entry.slice(0, tab).split(" ");
    const mode = fields[0] ?? "";
    const id = at === "index" ? fields[1] : fields[2];
    // regular files only: git reads no .gitattributes through a link (a .sops.yaml link is reported at the root's)
    if (tab < 0 || id === undefined || (mode !== "100644" && mode !== "100755")) continue;
    if (at === "index" && fields[2] !== "0" && fields[2] !== "2") continue;
    ids.set(entry.slice(tab + 1), id);
  }
  const texts = await repo.readBlobs([...new Set(ids.values())]);
  for (const [rel, id] of ids) {
    const text = texts.get(id);
    if (typeof text === "string") out.set(rel, text);
  }
  return out;
}
