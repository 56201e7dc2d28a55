/**
 * The merge driver's record of an environment file's unresolved names follows the CLI's own writes
 * of that file (`set`, `rm`, `edit`). A record counts only while the file hashes to what the driver
 * (or the last `resolve`) left, so that `git checkout -- FILE` or an abort makes it stale. A `set` of
 * another secret during a conflicted merge is a write of that kind too: the record went stale, and
 * `git add && git commit` then committed our side of each conflicting name, silently dropping their
 * side's change. Now, when the record described the file just before such a write, it is rewritten
 * for the file the write left: the names the write gave a value (or removed) are finished, the others
 * stay unresolved, and the write says so on stderr.
 */
import { readFile } from "node:fs/promises";
import { relative } from "node:path";
import { escapeControlCharacters } from "@stellar-secrets/sops";
import { findGitLocation, readUnresolvedMerge, removeUnresolvedMerge, sha256Text, topRelative, writeUnresolvedMerge } from "@stellar-secrets/git/merge-records";
import { unresolvedMergeApplies } from "@stellar-secrets/core";
import type { CommandContext } from "./command.js";
import { readCommittedVersions } from "./git.js";

/**
 * Runs `write`, a write of the environment file `path` (absolute) of the project at `root`; when the
 * merge driver's record of the file counted just before (it described the file, and the operation
 * that conflicted is still in progress, as `check` and the pre-commit hook judge it), the record is carried over to the
 * file `write` left: `touched` (called after the write) names the secrets it set or removed, which
 * are no longer unresolved. A record that did not describe the file is left as it is (stale).
 * Never fails the write for the record's sake: a record that cannot be written is said on stderr.
 */
export async function followMergeRecord<T>(ctx: CommandContext, root: string, path: string, write: () => Promise<T>, touched: () => readonly string[]): Promise<T> {
  const location = findGitLocation(root, ctx.env);
  const recordAs = location === undefined ? undefined : topRelative(location, root, relative(root, path).split("\\").join("/"));
  const record = location === undefined || recordAs === undefined ? undefined : await readUnresolvedMerge(location.gitDir, recordAs);
  const before = record === undefined ? undefined : await readFile(path, "utf8").catch(() => undefined);
  // only a record that counts (as check and the hook judge it: not after an abort, nor once committed)
  const rel = relative(root, path).split("\\").join("/");
  const counts =
    record !== undefined && before !== undefined && sha256Text(before) === record.file && unresolvedMergeApplies(record, before, (await readCommittedVersions(root, ctx.env, [rel])).get(rel) ?? []);
  const result = await write();
  if (location === undefined || record === undefined || before === undefined || !counts) return result;
  const after = await readFile(path, "utf8").catch(() => undefined);
  if (after === undefined || after === before) return result;
  const file = relative(ctx.cwd, path) || path;
  const done = new Set(touched());
  const finished = record.names.filter((n) => done.has(n));
  const left = record.names.filter((n) => !done.has(n));
  if (record.whole === undefined && left.length === 0) {
    removeUnresolvedMerge(location.gitDir, record.path);
    ctx.stderr.write(escapeControlCharacters(`note: ${file} had an unresolved merge of ${finished.join(", ")}: this write gave ${finished.length === 1 ? "it" : "each"} a value, so nothing is unresolved there now`) + "\n");
    return result;
  }
  try {
    await writeUnresolvedMerge(location.gitDir, { ...record, names: left, file: sha256Text(after) });
  } catch (error) {
    ctx.stderr.write(`note: could not update the merge driver's record of ${file} (${(error as NodeJS.ErrnoException).code ?? "error"}): the pre-commit hook may no longer refuse it; finish the merge with \`stellar-secrets resolve\` before committing\n`);
    return result;
  }
  const what = record.whole !== undefined ? `the merge driver could not merge it at all (${record.whole.code})` : `still unresolved: ${left.join(", ")}${finished.length > 0 ? ` (${finished.join(", ")} now finished by this write)` : ""}`;
  ctx.stderr.write(
    escapeControlCharacters(`note: ${file} is in an unresolved merge, ${what}: the pre-commit hook keeps refusing it until \`stellar-secrets resolve\` finishes it (\`stellar-secrets check\` lists what is left)`) + "\n",
  );
  return result;
}
