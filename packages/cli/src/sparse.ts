/**
 * Environment files that a sparse checkout (`git sparse-checkout set agents/`) leaves out of the
 * work tree. git still tracks them: the index holds each one with the skip-worktree bit, and a
 * commit keeps it as the index has it. To a command that reads the work tree such a file looks
 * absent, and before this module `set` then wrote a new file there holding only the value it set:
 * git (2.37 and later) takes a file that appears at a skipped path as a change, so `git commit -a`
 * dropped every other secret of the environment. `get` said "create it by setting a value",
 * `list` "No secrets yet" and `check` `missing-secrets-dir`. They now say the file is outside the
 * sparse checkout and how to bring it in.
 */
import { existsSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { findGitLocation } from "@stellar-secrets/git/merge-records";
import type { CommandContext } from "./command.js";
import { CliError } from "./errors.js";
import { skipWorktreePaths } from "./git.js";

/**
 * Which of the absolute paths `files` (environment files absent from the work tree, under `root`)
 * git's index holds as skipped by a sparse checkout, relative to `root` with `/`. git runs only in
 * a sparse checkout (the work tree's git directory has `info/sparse-checkout`; `git sparse-checkout
 * disable` leaves the file but clears the bits, which ls-files then reports as such).
 */
export async function outsideSparseCheckout(ctx: CommandContext, root: string, files: readonly string[]): Promise<string[]> {
  if (files.length === 0) return [];
  const location = findGitLocation(root, ctx.env);
  if (location === undefined || !existsSync(join(location.gitDir, "info", "sparse-checkout"))) return [];
  const rels = files.map((f) => relative(root, f).split(sep).join("/"));
  const skipped = await skipWorktreePaths(root, rels, ctx.env);
  return rels.filter((r) => skipped.has(r));
}

/** The folder to bring in for the skipped files `rels` (their common folder, `.` at the top). */
function folderOf(rels: readonly string[]): string {
  const dirs = rels.map((r) => (r.includes("/") ? r.slice(0, r.lastIndexOf("/")) : "."));
  return dirs.every((d) => d === dirs[0]) ? (dirs[0] ?? ".") : ".";
}

/** How to bring the skipped environment files `rels` into the work tree. */
export function sparseCheckoutHint(rels: readonly string[]): string {
  const dir = folderOf(rels);
  return `bring the folder into the work tree: \`git sparse-checkout add ${dir}\` in the project's folder (git takes the path from where it runs; in a non-cone sparse checkout, add a pattern that matches the folder), then run the command again; git keeps the files in its index meanwhile, and a file written at their place would replace the committed one`;
}

/** NOT_FOUND for environment files `rels` (relative to the project root) that the sparse checkout leaves out. */
export function outsideSparseCheckoutError(rels: readonly string[], what: string): CliError {
  const files = rels.join(", ");
  return new CliError("NOT_FOUND", `${files} ${rels.length === 1 ? "is" : "are"} outside this sparse checkout (git tracks ${rels.length === 1 ? "it" : "them"}, but the work tree does not have ${rels.length === 1 ? "it" : "them"}): ${what}`, {
    hint: sparseCheckoutHint(rels),
  });
}

/**
 * Refuses (`NOT_FOUND`, nothing written) when an environment file of `files` that the work tree
 * lacks is one a sparse checkout left out: `what` says what the command cannot do without it.
 * Read before any write, so `members rm` never changes stellar.yaml without re-keying the file.
 */
export async function refuseOutsideSparseCheckout(ctx: CommandContext, root: string, files: readonly { path: string; file: unknown }[], what: string): Promise<void> {
  const skipped = await outsideSparseCheckout(ctx, root, files.filter((x) => x.file === undefined).map((x) => x.path));
  if (skipped.length > 0) throw outsideSparseCheckoutError(skipped, what);
}
