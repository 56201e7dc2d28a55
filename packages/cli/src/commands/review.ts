/**
 * `stellar-secrets review [BASE [HEAD]] [--json]`: explains an encrypted change without any key —
 * secrets added, changed, removed or re-encrypted per environment, who gained or lost access,
 * removals that did not rotate the data key, plaintext, and the references the change breaks.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  buildReview,
  emptyState,
  findProjectRoot,
  loadWorkspace,
  PROJECT_FILE,
  readCommitState,
  stateOfIndex,
  type EnvironmentReview,
  type RecipientRef,
  type ReviewReport,
  type ReviewState,
} from "@stellar-secrets/core";
import { parseCommandArgs } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { CliError } from "../errors.js";
import { humanList, plural, renderJson, shortRecipient } from "../format.js";
import { GitRepo, readWorkingText } from "../git.js";

/** A revision a review compares: a commit-ish, the working tree, or nothing. */
type Revision = { kind: "commit"; ref: string } | { kind: "working-tree" } | { kind: "empty" };

/** Reads one side of a review (`root`: the absolute project root). */
async function readState(repo: GitRepo, root: string, revision: Revision, label: string): Promise<ReviewState> {
  if (revision.kind === "empty") return emptyState(label);
  if (revision.kind === "commit") return readCommitState(repo, root, revision.ref, label);
  const index = existsSync(join(root, PROJECT_FILE)) ? loadWorkspace(root).index : undefined;
  return stateOfIndex(label, undefined, index, (rel) => readWorkingText(root, rel));
}

const help = `Usage: stellar-secrets review [BASE [HEAD] | BASE..HEAD | BASE...HEAD] [--json]

Explains an encrypted change without any key, from names, ciphertext changes, recipient lists
and references alone: per environment, the secrets added, changed (their encrypted string
differs) and removed; a data-key rotation (every value re-encrypted) as one line, "re-encrypted
(values may or may not have changed)"; the members (stellar.yaml) and the age recipients of the
file that gained or lost access, named where a key is known; a removal that did not rotate the
data key; a secrets file or value that is no longer encrypted; and the checker diagnostics of
the new state that are new or concern a changed secret (e.g. a removed secret still referenced).
Never reads a key and never prints a value.

What is compared (as with \`git diff\`):
  review               HEAD against the working tree (before the first commit: everything)
  review BASE          BASE against the working tree
  review BASE HEAD     two commits (also BASE..HEAD)
  review BASE...HEAD   what HEAD changed since it forked from BASE (a pull request:
                       \`stellar-secrets review origin/main...HEAD\`)

Options:
  --json   print {"base","head","environments":[{"environment","file","fileChange",
           "secrets":[{"name","change","before"?,"after"?}],"dataKeyRotated",
           "rotationUncertain","reencrypted","members","recipients","encrypted","problems"}],
           "diagnostics","problems","summary","clean"} (docs/cli.md describes every field)

Exit status: 0 the change is clean; 1 it has problems (a new checker error, judged by the base's
rule severities; a plaintext file or value; a member removed without a data-key rotation; a
recipient of a file who is not a member of its environment; a rule that stellar.yaml weakens); 2 usage; 4 BASE or HEAD is not a commit;
5 no stellar.yaml; 22 not in a git repository.
`;

const flags = { json: { type: "boolean" } } as const;

/** How the positionals name the two sides. */
export function parseRange(positionals: string[]): { base: string | undefined; head: string | undefined; symmetric: boolean } {
  if (positionals.length === 2) return { base: positionals[0], head: positionals[1], symmetric: false };
  const [arg] = positionals;
  if (arg === undefined) return { base: undefined, head: undefined, symmetric: false };
  for (const sep of ["...", ".."]) {
    const at = arg.indexOf(sep);
    if (at === -1) continue;
    const a = arg.slice(0, at) || "HEAD";
    const b = arg.slice(at + sep.length) || "HEAD";
    return { base: a, head: b, symmetric: sep === "..." };
  }
  return { base: arg, head: undefined, symmetric: false };
}

async function run(argv: string[], ctx: CommandContext): Promise<number> {
  const { flags: f, positionals } = parseCommandArgs("review", argv, flags, { min: 0, max: 2, names: "BASE" });
  if (positionals.length === 2 && positionals.some((p) => p.includes(".."))) {
    throw new CliError("USAGE", "review: give either BASE HEAD or BASE..HEAD, not both", { hint: "e.g. `stellar-secrets review main feature` or `stellar-secrets review main..feature`" });
  }
  const root = findProjectRoot(ctx.cwd);
  if (root === undefined) {
    throw new CliError("NO_PROJECT", `no ${PROJECT_FILE} in ${ctx.cwd} or any parent directory`, {
      hint: "run `stellar-secrets review` inside a Stellar Secrets repository",
    });
  }
  const repo = await GitRepo.open(root, ctx.env);
  const range = parseRange(positionals);
  let baseRev: Revision;
  let baseLabel: string;
  let headRev: Revision;
  let headLabel: string;
  if (range.head === undefined) {
    headRev = { kind: "working-tree" };
    headLabel = "working tree";
  } else {
    headRev = { kind: "commit", ref: range.head };
    headLabel = range.head;
  }
  if (range.base === undefined) {
    const hasHead = await repo.hasHead();
    baseRev = hasHead ? { kind: "commit", ref: "HEAD" } : { kind: "empty" };
    baseLabel = hasHead ? "HEAD" : "nothing (no commit yet)";
  } else if (range.symmetric) {
    const a = await repo.resolve(range.base);
    const b = await repo.resolve(range.head as string);
    baseRev = { kind: "commit", ref: await repo.mergeBase(a, b) };
    baseLabel = `merge-base of ${range.base} and ${range.head}`;
  } else {
    baseRev = { kind: "commit", ref: range.base };
    baseLabel = range.base;
  }
  const base = await readState(repo, root, baseRev, baseLabel);
  const head = await readState(repo, root, headRev, headLabel);
  if (head.index === undefined) {
    throw new CliError("NO_PROJECT", `${headLabel} has no ${PROJECT_FILE}`, { hint: "review a state of the repository that is a Stellar Secrets project" });
  }
  // a moved file keeps its diagnostics: match them through git's rename detection
  const renamed = base.commit === undefined ? new Map<string, string>() : await repo.renames(base.commit, head.commit);
  const report = buildReview(base, head, renamed);
  ctx.stdout.write(f.json ? renderJson(report) : renderText(report));
  return report.clean ? 0 : 1;
}

function side(s: ReviewReport["base"]): string {
  return s.commit === null ? s.label : `${s.label} (${s.commit.slice(0, 10)})`;
}

function recipientText(r: RecipientRef): string {
  return r.member === undefined ? `${r.recipient} (not a member)` : `${r.member} (${shortRecipient(r.recipient)})`;
}

function renderEnvironment(e: EnvironmentReview): string[] {
  const fileNote = { added: ", new file", removed: ", file deleted", modified: "", unchanged: "" }[e.fileChange];
  const out = [`${e.environment} (${e.file}${fileNote})`];
  const width = Math.max(0, ...e.secrets.map((s) => s.name.length));
  const mark = { added: "+", changed: "~", removed: "-" } as const;
  for (const s of e.secrets) {
    const prints = s.change === "changed" && s.before && s.after ? `  ${s.before} → ${s.after}` : s.after ? `  ${s.after}` : s.before ? `  was ${s.before}` : "";
    out.push(`  ${mark[s.change]} ${s.name.padEnd(width)}  ${s.change.padEnd(7)}${prints}`.trimEnd());
  }
  if (e.reencrypted.length > 0) {
    const how = e.rotationUncertain
      ? "data key rotated, or the one value changed and the key re-wrapped (cannot tell without a key)"
      : e.dataKeyRotated
        ? "data key rotated"
        : "every value re-encrypted under the same data key (e.g. a plain sops edit)";
    out.push(`  * ${how}: ${plural(e.reencrypted.length, "value")} (${humanList(e.reencrypted)}) re-encrypted (values may or may not have changed)`);
  }
  for (const m of e.members.gained) out.push(`  access: ${m.name} gained access (member in stellar.yaml, ${shortRecipient(m.recipient)})`);
  for (const m of e.members.lost) out.push(`  access: ${m.name} lost access (no longer a member in stellar.yaml)`);
  for (const m of e.members.keyChanged) out.push(`  access: ${m.name}'s key changed (${shortRecipient(m.before)} → ${shortRecipient(m.after)})`);
  for (const r of e.recipients.gained) out.push(`  recipients: + ${recipientText(r)} can now decrypt the file`);
  for (const r of e.recipients.lost) out.push(`  recipients: - ${recipientText(r)} is no longer a recipient of the file`);
  if (e.dataKeyRotated && !e.rotationUncertain && e.recipients.lost.length > 0 && e.reencrypted.length > 0) {
    const who = humanList(e.recipients.lost.map((r) => r.member ?? shortRecipient(r.recipient)));
    out.push(`  note: the data key was rotated, but ${who} could read the ${plural(e.reencrypted.length, "value")} kept here before this change: change those they must not know`);
  }
  if (e.encrypted === false) out.push("  ! the file is not a valid encrypted SOPS file");
  // only when no value was re-encrypted: a re-encrypted value may have changed
  if (e.secrets.length === 0 && e.reencrypted.length === 0 && !e.dataKeyRotated && e.fileChange === "modified" && e.recipients.gained.length + e.recipients.lost.length === 0) {
    out.push("  (no value changed: only metadata such as key wrapping or formatting)");
  }
  for (const p of e.problems) out.push(`  ✗ ${p.message}`);
  return out;
}

/** The text `review` prints for a report (without --json). */
export function renderText(report: ReviewReport): string {
  const out = [`Review of ${side(report.base)} → ${side(report.head)} (no key used)`, ""];
  if (report.environments.length === 0) out.push("No change to any secrets file or member.", "");
  for (const e of report.environments) out.push(...renderEnvironment(e), "");
  if (report.diagnostics.length > 0) {
    out.push(`Checker (${report.head.label}):`);
    for (const d of report.diagnostics) {
      out.push(`  ${d.file}:${d.line}:${d.column}: ${d.severity} ${d.rule} ${d.message}${d.new ? "" : " (already in the base)"}`);
    }
    out.push("");
  }
  if (report.problems.length > 0) {
    out.push(`Problems (${report.problems.length}):`);
    for (const p of report.problems) out.push(`  ✗ ${p.file !== undefined ? `${p.file}${p.line !== undefined ? `:${p.line}` : ""}: ` : ""}${p.message}`);
    out.push("");
  }
  const s = report.summary;
  const parts = [`${s.added} added`, `${s.changed} changed`, `${s.removed} removed`];
  if (s.reencrypted > 0) parts.push(`${plural(s.reencrypted, "environment")} re-encrypted`);
  if (s.accessChanges > 0) parts.push(plural(s.accessChanges, "access change"));
  out.push(`Summary: ${parts.join(", ")}; ${report.clean ? "no problems" : plural(s.problems, "problem")}.`);
  return `${out.join("\n")}\n`;
}

const command: Command = { summary: "explain an encrypted change (secrets, access, references) without any key", help, run };
export default command;
