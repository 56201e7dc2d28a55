/**
 * Unresolved merge conflicts of environment files (rule `unresolved-merge`). When the merge driver
 * (`stellar-secrets merge-file`) finds secrets changed differently on both sides, the file it
 * leaves is a valid SOPS file holding our side's value of each: committing it as it is would drop
 * their side's change without a trace. The driver therefore records, where git does not commit
 * (under the git directory), the conflicting names with the SHA-256 of the file it left and of
 * their side's version; `resolve` removes a name (and records the file it wrote). This module
 * decides, purely from texts, whether such a record still holds, and reports its names.
 *
 * A record counts only while it describes the file: the file's text must hash to the recorded
 * `file`, and either differ from every committed version (HEAD and the other side of an operation
 * in progress) or the operation in progress must still be the one that conflicted (a committed
 * version hashes to the recorded `theirs`). So a merge aborted (`git merge --abort`), a file
 * checked out again, any other write to the file, or a commit of the file (it is then HEAD's
 * version) makes the record stale, and a stale record never blocks anyone.
 */
import { createHash } from "@stellar-secrets/sops"; // node:crypto's, loaded on first use
import { diagnosticAt, type Diagnostic } from "./diagnostics.js";
import type { Severity } from "./rules.js";
import type { EnvironmentFile } from "./secrets-dir.js";
import { findingWording, type FindingWording } from "./review/wording.js";

/**
 * Why the merge driver could not merge a file at all (a whole-file record): `recipients` both sides
 * changed who can decrypt differently in a way it cannot merge as a set (no base version, a
 * recipient that is no valid key); `needs-key` none of the merging user's keys opens a version;
 * `failed` any other failure (a version that does not verify, a merged result that did not verify,
 * a version that could not be read or written). In each case the driver left OURS as it was.
 */
export type UnresolvedMergeReason = "recipients" | "needs-key" | "failed";

/** What a whole-file record adds: why nothing was merged, and who can finish it. */
export interface UnresolvedWholeFile {
  reason: UnresolvedMergeReason;
  /** The error code merge-file exited with (MERGE_CONFLICT, MERGE_NEEDS_KEY, MERGE_FAILED, …). */
  code: string;
  /** The environment's members by name (stellar.yaml at the time of the merge), for `needs-key`; may be empty. */
  members: string[];
}

/** The record format version ({@link UnresolvedMergeRecord.version}). */
export const UNRESOLVED_MERGE_RECORD_VERSION = 1;

/** What the merge driver leaves, per environment file, for the names it could not merge. Holds no value. */
export interface UnresolvedMergeRecord {
  /** Always {@link UNRESOLVED_MERGE_RECORD_VERSION}. */
  version: 1;
  /** The environment file, relative to the top of the git work tree, `/`-separated (git's %P). */
  path: string;
  /** The environment (from the file name). */
  environment: string;
  /** The names still unresolved, sorted (empty in a whole-file record). */
  names: string[];
  /** Set when nothing of the file was merged (the whole file is unresolved; `names` is then empty). */
  whole?: UnresolvedWholeFile;
  /** SHA-256 (hex) of the file as the driver (or the last `resolve`) left it. */
  file: string;
  /** SHA-256 (hex) of their side's version (git's %B), which names the operation in progress. */
  theirs: string;
  /** When the conflict was recorded (ISO 8601). */
  recordedAt: string;
  /**
   * Set by the driver during `git am -3`, which keeps no commit of the patch's side (no
   * MERGE_HEAD, REBASE_HEAD or CHERRY_PICK_HEAD names `theirs`): SHA-256 (hex) of the am session's
   * current patch (its number in `rebase-apply/next` and that patch's file), which names the
   * operation in progress instead.
   */
  am?: string;
  /**
   * Never stored: set by the git package's readers when the `git am` session in progress is still
   * at the patch {@link am} names (`git am --skip`, `--abort` or `--continue` past it end that).
   */
  amInProgress?: boolean;
}

/**
 * SHA-256 (hex) of a text's UTF-8 bytes with CRLF line ends read as LF, as records hold them: the
 * driver writes LF, and git checks the file out with CRLF under `core.autocrlf=true` or an
 * `eol=crlf` attribute (the same file to git, which stores it with LF); any other difference
 * changes the hash.
 */
export function textHash(text: string): string {
  return createHash("sha256").update(text.includes("\r\n") ? text.replace(/\r\n/g, "\n") : text, "utf8").digest("hex");
}

/**
 * Parses a record's JSON text. Undefined when it is not a record of this version (a record that
 * cannot be read never blocks anyone).
 */
export function parseUnresolvedMergeRecord(text: string): UnresolvedMergeRecord | undefined {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof data !== "object" || data === null) return undefined;
  const r = data as Record<string, unknown>;
  const hex = (v: unknown): v is string => typeof v === "string" && /^[0-9a-f]{64}$/.test(v);
  if (r.version !== UNRESOLVED_MERGE_RECORD_VERSION || typeof r.path !== "string" || r.path === "" || typeof r.environment !== "string") return undefined;
  if (!Array.isArray(r.names) || !r.names.every((n) => typeof n === "string") || !hex(r.file) || !hex(r.theirs)) return undefined;
  let whole: UnresolvedWholeFile | undefined;
  if (r.whole !== undefined) {
    const w = r.whole as Record<string, unknown> | null;
    if (typeof w !== "object" || w === null || !REASONS.includes(w.reason as UnresolvedMergeReason) || typeof w.code !== "string") return undefined;
    const members = Array.isArray(w.members) ? w.members.filter((m): m is string => typeof m === "string") : [];
    whole = { reason: w.reason as UnresolvedMergeReason, code: w.code, members };
  }
  return {
    version: 1,
    path: r.path,
    environment: r.environment,
    names: [...(r.names as string[])].sort(),
    file: r.file,
    theirs: r.theirs,
    recordedAt: typeof r.recordedAt === "string" ? r.recordedAt : "",
    ...(whole === undefined ? {} : { whole }),
    ...(hex(r.am) ? { am: r.am } : {}),
  };
}

const REASONS: readonly UnresolvedMergeReason[] = ["recipients", "needs-key", "failed"];

/**
 * True when `record` still describes `text`, the file's current (working or staged) content:
 * it hashes to the recorded file, and either differs from every committed version (`committed`:
 * HEAD's version and the other side of a merge, rebase or cherry-pick in progress) or one of them
 * is the recorded `theirs` (the conflicting operation is still in progress), or the record is of a
 * `git am -3` session still at the patch that conflicted ({@link UnresolvedMergeRecord.amInProgress}:
 * git am keeps no commit of the patch's side). False for a record without names, unless it is a
 * whole-file record.
 */
export function unresolvedMergeApplies(record: UnresolvedMergeRecord, text: string, committed: readonly string[]): boolean {
  if (record.names.length === 0 && record.whole === undefined) return false;
  const hash = textHash(text);
  if (hash !== record.file) return false;
  const versions = committed.map(textHash);
  return !versions.includes(hash) || versions.includes(record.theirs) || (record.am !== undefined && record.amInProgress === true);
}

/** The commands that finish the names of a record (for messages). */
export function resolveCommands(names: readonly string[], environment: string): string[] {
  return names.map((n) => `stellar-secrets resolve ${n} --env ${environment} --ours|--theirs|--from-stdin`);
}

/** What was not merged in a whole-file record, in words (for messages). */
export function wholeFileProblem(whole: UnresolvedWholeFile, environment: string): string {
  switch (whole.reason) {
    case "recipients":
      return `both sides changed who can decrypt ${environment} differently (recipients or data key) in a way the merge driver cannot merge as a set (the file created on both sides, or a recipient that is no valid key), so nothing of it was merged`;
    case "needs-key":
      return `the merge needed a key of ${environment} that the user who merged does not have, so nothing of it was merged`;
    default:
      if (whole.code === "MERGE_INTERRUPTED") return "the merge driver stopped before it finished (killed, or it crashed), so nothing of it was merged";
      return `the merge driver could not merge it (${whole.code}), so nothing of it was merged`;
  }
}

/**
 * How to finish a whole-file record (for messages): redo the merge with a key, or keep one side
 * whole with `resolve --env ENV --ours|--theirs`; for `needs-key`, who has a key. `path` is the
 * environment file relative to the project root; `wording` (default: the project root's own)
 * words its paths and stellar-secrets commands for a reader in another folder, as
 * {@link readerWording} words `check`'s and `pre-commit`'s text.
 */
export function wholeFileFinish(whole: UnresolvedWholeFile, environment: string, path: string, wording: FindingWording = findingWording(undefined)): string {
  const shown = wording.path(path);
  const word = wording.shellPath(path);
  const command = (line: string): string => `\`${wording.command(line)}\``;
  const keepSide = `keep one side whole with ${command(`stellar-secrets resolve --env ${environment} --ours|--theirs`)} (the other side's changes to ${shown} are then lost), then \`git add ${word}\``;
  switch (whole.reason) {
    case "recipients":
      return (
        `${keepSide}; then redo the other side's member change (${command("stellar-secrets members add|rm")}, ${command(`stellar-secrets rotate-key --env ${environment}`)}) ` +
        `and its secret changes (${command("stellar-secrets set")})`
      );
    case "needs-key": {
      const who = whole.members.length > 0 ? `a member of ${environment} (${whole.members.join(", ")})` : `a member of ${environment} (see stellar.yaml)`;
      return `only ${who} can merge it: abort (\`git merge --abort\`, \`git rebase --abort\` or \`git cherry-pick --abort\`) and ask them to do this merge; or ${keepSide}`;
    }
    default:
      if (whole.code === "MERGE_INTERRUPTED") return `redo the merge of the file with \`git checkout -m -- ${word}\` (it runs the merge driver again); or ${keepSide}`;
      return `fix what merge-file reported, then redo the merge of the file with \`git checkout -m -- ${word}\`; or ${keepSide}`;
  }
}

/**
 * `unresolved-merge` diagnostics for one environment file: one per name of `record` that still
 * holds (see {@link unresolvedMergeApplies}), at the name's key (or the file's start when our side
 * has no such name), saying how to finish. Empty without a record, without the file's text, or
 * when the record is stale.
 */
export function checkUnresolvedMerge(
  file: Pick<EnvironmentFile, "path" | "environment" | "lines" | "entries" | "text">,
  record: UnresolvedMergeRecord | undefined,
  committed: readonly string[],
  severity: Severity = "error",
): Diagnostic[] {
  if (record === undefined || file.text === undefined || !unresolvedMergeApplies(record, file.text, committed)) return [];
  const environment = file.environment;
  if (record.whole !== undefined) {
    return [
      diagnosticAt(
        "unresolved-merge",
        severity,
        file.path,
        file.lines,
        { start: 0, end: 0 },
        `${file.path} was not merged: ${wholeFileProblem(record.whole, environment)}; it holds our side as it was, and committing it as it is would drop every change of the other side; ` +
          `${wholeFileFinish(record.whole, environment, file.path)}`,
      ),
    ];
  }
  return record.names.map((name) => {
    const entry = file.entries.find((e) => e.name === name);
    const others = record.names.length > 1 ? ` (${record.names.length} names of ${file.path} are unresolved: ${record.names.join(", ")})` : "";
    return diagnosticAt(
      "unresolved-merge",
      severity,
      file.path,
      file.lines,
      entry?.range ?? { start: 0, end: 0 },
      `secret "${name}" was changed differently on both sides of a merge and is not resolved yet: ${file.path} holds our side's ${entry === undefined ? "state (no such secret)" : "value"}, and committing it as it is would drop their side's change${others}; ` +
        `finish with \`stellar-secrets resolve ${name} --env ${environment} --ours|--theirs|--from-stdin\`, then \`git add ${file.path}\``,
      { secret: name },
    );
  });
}
