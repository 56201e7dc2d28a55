/**
 * The outputs of `review`, one pure function per format from a {@link ReviewReport}: text (the
 * terminal), JSON (the report plus each environment's notes, so that every fact of the text is in
 * it), Markdown (a pull-request comment: summary first, then problems with file:line, the details
 * folded) and SARIF 2.1.0 (the checker's rule ids and driver, plus review rules for the problems
 * no checker rule names). None of them ever sees a value: the report holds none.
 */
import { findingWording, messageRewording, PROJECT_FILE, shellPathWord, SOPS_CONFIG_FILE, type FindingWording, type Severity } from "@stellar-secrets/core";
import { escapeControlCharacters } from "@stellar-secrets/sops";
import { humanList, plural, renderJson, shortRecipient } from "./format.js";
import { commentChangeText, secretCounts, type CommentChange, type CommitSignatureReview, type EnvironmentReview, type MemberRef, type RecipientRef, type ReferenceChange, type ReviewCause, type ReviewDiagnostic, type ReviewProblem, type ReviewReport } from "@stellar-secrets/core";
import { diagnosticResult, sarifLog, type ExtraRule, type SarifResultInput } from "./sarif.js";
import { cellCode, htmlText, markdownCode, markdownText } from "./markdown.js";

export { markdownCode, markdownText } from "./markdown.js";

/** The output formats of `review`. */
export const REVIEW_FORMATS = ["text", "json", "markdown", "sarif"] as const;
export type ReviewFormat = (typeof REVIEW_FORMATS)[number];

/** A fact about an environment that no other field states. */
export type ReviewNote =
  | {
      /** The data key was rotated, but recipients that lost access could read the values kept from before. */
      kind: "exposed-before-rotation";
      message: string;
      /** Who lost access (member names, else shortened keys). */
      who: string[];
      /** The values they could read (kept through the rotation). */
      secrets: string[];
    }
  | {
      /** The file changed but no value did: only metadata such as key wrapping or formatting. */
      kind: "metadata-only";
      message: string;
    }
  | {
      /** Comments the head's file has in clear text that the base's did not (not encrypted; no MAC covers a comment). */
      kind: "clear-comment";
      message: string;
      lines: number[];
    }
  | {
      /** Encrypted comments the change added, removed or changed, by place (their text is encrypted: not shown). */
      kind: "encrypted-comment";
      message: string;
      changes: CommentChange[];
    };

/** The notes of one environment (what the text output prints as `note:` and `(...)` lines). */
export function environmentNotes(e: EnvironmentReview): ReviewNote[] {
  const notes: ReviewNote[] = [];
  if (e.dataKeyRotated && !e.rotationUncertain && e.dataKeyRestoredFrom === undefined && e.recipients.lost.length > 0 && e.reencrypted.length > 0) {
    const who = e.recipients.lost.map((r) => r.member ?? shortRecipient(r.recipient));
    // a member whose key changed keeps access: what could read the values is their old key
    const oldKey = (r: RecipientRef): boolean => r.member !== undefined && e.members.keyChanged.some((m) => m.name === r.member && m.before === r.recipient);
    const readers = e.recipients.lost.map((r) => (oldKey(r) ? `${r.member}'s old key (${shortRecipient(r.recipient)})` : (r.member ?? shortRecipient(r.recipient))));
    const onlyOldKeys = e.recipients.lost.every(oldKey);
    notes.push({
      kind: "exposed-before-rotation",
      message:
        `the data key was rotated, but ${humanList(readers)} could read the ${plural(e.reencrypted.length, "value")} kept here before this change: ` +
        (onlyOldKeys ? `if ${readers.length === 1 ? "that key" : "those keys"} may be lost or leaked, change them` : "change those they must not know"),
      who,
      secrets: [...e.reencrypted],
    });
  }
  // only when no value was re-encrypted: a re-encrypted value may have changed
  // never while a stanza was wrapped anew: who can decrypt may have changed
  if (
    e.secrets.length === 0 &&
    e.reencrypted.length === 0 &&
    !e.dataKeyRotated &&
    e.fileChange === "modified" &&
    e.recipients.gained.length + e.recipients.lost.length + (e.exposedDuring?.length ?? 0) === 0 &&
    !e.problems.some((p) => p.kind === "rewrapped-without-rotation")
  ) {
    // a comment is data sops encrypts, not formatting: say so when that is what changed
    const commented = (e.comments?.length ?? 0) + (e.clearComments?.length ?? 0) > 0;
    notes.push({ kind: "metadata-only", message: commented ? "no value changed: only comments (below) and metadata" : "no value changed: only metadata such as key wrapping or formatting" });
  }
  const encryptedComments = e.comments ?? [];
  if (encryptedComments.length > 0) {
    const listed = encryptedComments.map(commentChangeText);
    notes.push({
      kind: "encrypted-comment",
      message: `${humanList(listed)} (${encryptedComments.length === 1 ? "its text is" : "their text is"} encrypted, and no MAC covers a comment: a member reads ${encryptedComments.length === 1 ? "it" : "them"} with \`sops -d\`)`,
      changes: encryptedComments.map((c) => ({ ...c })),
    });
  }
  const comments = e.clearComments ?? [];
  if (comments.length > 0) {
    notes.push({
      kind: "clear-comment",
      message: `${comments.length === 1 ? "a comment" : `${comments.length} comments`} in clear text at ${comments.length === 1 ? "line" : "lines"} ${humanList(comments.map(String))} (not encrypted, and no MAC covers ${comments.length === 1 ? "it" : "them"}): make sure ${comments.length === 1 ? "it holds" : "they hold"} no secret`,
      lines: [...comments],
    });
  }
  return notes;
}

/** The text lists every warning (or info) of a rule up to this many; beyond, the first {@link CHECKER_LINES_SHOWN} and a count. */
const CHECKER_LINES_PER_RULE = 5;
const CHECKER_LINES_SHOWN = 3;

/** At most this many names are listed in a line; beyond it, a count (the JSON lists every name). */
const NAMES_LISTED = 5;

/**
 * "3 values (a, b and c)", or only a count beyond {@link NAMES_LISTED} names: "all 23 kept values"
 * when `all` (every value the file kept, none changed beside them), else "23 values".
 */
function valuesText(names: readonly string[], all: boolean): string {
  if (names.length <= NAMES_LISTED) return `${plural(names.length, "value")} (${humanList([...names])})`;
  return all ? `all ${names.length} kept values` : plural(names.length, "value");
}

/** How the re-encryption of an environment is told (undefined when nothing was re-encrypted). */
function reencryptionText(e: EnvironmentReview): string | undefined {
  if (e.verified === true) {
    // --verify decrypted both versions: say what the key showed, never what a keyless guess said
    const key = e.dataKeyRotated ? "data key rotated (verified with your key)" : "data key not rotated (verified with your key)";
    if (e.reencrypted.length === 0) return e.dataKeyRotated && e.fileChange === "modified" ? `${key}: no value kept as it was` : undefined;
    return `${key}: ${valuesText(e.reencrypted, false)} re-encrypted with the same value`;
  }
  if (e.reencrypted.length === 0) return undefined;
  const how = e.dataKeyRestoredFrom !== undefined
    ? `data key of commit ${e.dataKeyRestoredFrom.slice(0, 10)} brought back (a key the base had retired: not a rotation, see the problems)`
    : e.rotationUncertain
    ? "data key rotated, or the one value changed and the key re-wrapped (cannot tell without a key)"
    : e.dataKeyRotated
      ? "data key rotated"
      : "every value re-encrypted under the same data key (e.g. a plain sops edit)";
  // keyless, the re-encrypted names are every value kept, but for one listed as changed (an empty one)
  return `${how}: ${valuesText(e.reencrypted, !e.secrets.some((s) => s.change === "changed"))} re-encrypted (values may or may not have changed)`;
}

/** The re-encryption of an environment in a few words, for an overview line (undefined when nothing was re-encrypted). */
function reencryptionBrief(e: EnvironmentReview): string | undefined {
  if (e.reencrypted.length === 0) return e.verified === true && e.dataKeyRotated && e.fileChange === "modified" ? "data key rotated (verified)" : undefined;
  const values = plural(e.reencrypted.length, "value");
  if (e.verified === true) return `${e.dataKeyRotated ? "data key rotated" : "data key not rotated"} (verified; ${values} re-encrypted with the same value)`;
  if (e.dataKeyRestoredFrom !== undefined) return `data key of commit ${e.dataKeyRestoredFrom.slice(0, 10)} brought back (${values} re-encrypted; not a rotation)`;
  if (e.rotationUncertain) return `data key rotated, or its one value changed (${values} re-encrypted; cannot tell without a key)`;
  return e.dataKeyRotated ? `data key rotated (${values} re-encrypted)` : `every value re-encrypted under the same data key (${values})`;
}

/**
 * Who gained or lost access to which environments, over the whole change, one clause per member
 * and kind ("dave gained access to staging and production; carol lost access to production"), in
 * the order the environments come. Undefined when no member's access changed or was requested.
 */
export function accessOverview(report: ReviewReport): string | undefined {
  const clauses = new Map<string, { text: (envs: string) => string; envs: string[] }>();
  const add = (key: string, text: (envs: string) => string, environment: string): void => {
    const clause = clauses.get(key) ?? { text, envs: [] };
    clause.envs.push(environment);
    clauses.set(key, clause);
  };
  for (const e of report.environments) {
    for (const m of e.members.gained) add(`+${m.name}`, (envs) => `${m.name} gained access to ${envs}`, e.environment);
    for (const m of e.members.lost) {
      if (e.recipients.lost.some((r) => r.recipient === m.recipient)) add(`-${m.name}`, (envs) => `${m.name} lost access to ${envs}`, e.environment);
      else add(`!${m.name}`, (envs) => `${m.name} was removed as a member of ${envs} in ${PROJECT_FILE}, but not from the recipients of ${envs.includes(" and ") ? "their files" : "its file"}`, e.environment);
    }
    for (const m of e.members.keyChanged) add(`~${m.name}`, (envs) => `${m.name}'s key changed in ${envs}`, e.environment);
    for (const m of e.members.requested ?? []) add(`?${m.name}`, (envs) => `${m.name} asks for access to ${envs} (a request: grants nothing until a member approves)`, e.environment);
    for (const x of e.exposedDuring ?? []) {
      const who = x.member ?? shortRecipient(x.recipient);
      add(`±${who}`, (envs) => (x.earlierPush === true ? `${who} had access to ${envs} in an earlier push of this change (a recipient in one of its commits, which the rewritten branch no longer holds)` : `${who} had access to ${envs} inside this change (a recipient in one of its commits, not at its end)`), e.environment);
    }
  }
  if (clauses.size === 0) return undefined;
  return [...clauses.values()].map((c) => c.text(humanList(c.envs))).join("; ");
}

/**
 * `review A...B` with several merge bases: which one is compared, and what another could hide
 * (the files that differ between them), as text; undefined with one merge base. `code` words a
 * commit or path for the format (as it is in text, a code span in Markdown).
 */
function mergeBasesNote(report: ReviewReport, code: (s: string) => string = (s) => s): { lead: string; rest: string } | undefined {
  const bases = report.mergeBases;
  if (bases === undefined || bases.length < 2) return undefined;
  const short = (c: string): string => code(c.slice(0, 10));
  const differ = report.mergeBasesDiffer ?? [];
  const lead = `${bases.length} merge bases`;
  const rest =
    ` (criss-cross merges): this review compares with ${short(bases[0] as string)} (git's pick), not with ${humanList(bases.slice(1).map(short))}. ` +
    (differ.length === 0
      ? "They hold the same files of this project, so the choice hides nothing."
      : `They differ in ${humanList([...differ.slice(0, 5).map(code), ...(differ.length > 5 ? [`${differ.length - 5} more`] : [])])}: ` +
        "a value set there on another base shows here as a change of this range, or a change there is hidden; " +
        `review against each base to see both (${bases
          .slice(1)
          .map((b) => code(`stellar-secrets review ${b}..${shellPathWord(report.head.label)}`))
          .join(", ")})`);
  return { lead, rest };
}

/**
 * With several merge bases: per other base and environment file that differs, what that base
 * brings, per secret (names only), one line each. `code` words a commit or path for the format,
 * `text` a name (as they are in text; a code span and escaped text in Markdown).
 */
function mergeBaseSecretLines(report: ReviewReport, code: (s: string) => string = (s) => s, text: (s: string) => string = (s) => s): string[] {
  const compared = report.mergeBases?.[0];
  if (compared === undefined || report.mergeBasesSecrets === undefined) return [];
  const short = (c: string): string => code(c.slice(0, 10));
  return report.mergeBasesSecrets.map((m) => {
    const lead = `${short(m.base)} against ${short(compared)}, ${text(m.environment)} (${code(m.file)}): `;
    if (m.secrets === undefined) return `${lead}a version is not a readable SOPS file, so its secrets cannot be compared`;
    const names = (change: string): string[] => (m.secrets ?? []).filter((x) => x.change === change).map((x) => text(x.name));
    const parts: string[] = [];
    const reencrypted = names("re-encrypted");
    if (reencrypted.length > 0) parts.push(`every value re-encrypted (${humanList(reencrypted)}): values cannot be compared without a key`);
    const changed = names("changed");
    if (changed.length > 0) parts.push(`another value of ${humanList(changed)}`);
    const added = names("added");
    if (added.length > 0) parts.push(`only ${short(m.base)} has ${humanList(added)}`);
    const removed = names("removed");
    if (removed.length > 0) parts.push(`only ${short(compared)} has ${humanList(removed)}`);
    return `${lead}${parts.length === 0 ? "the same secrets (only metadata differs)" : parts.join("; ")}`;
  });
}

function side(s: ReviewReport["base"]): string {
  return s.commit === null ? s.label : `${s.label} (${s.commit.slice(0, 10)})`;
}

function recipientText(r: RecipientRef): string {
  if (r.member !== undefined) return `${r.member} (${shortRecipient(r.recipient)})`;
  return r.formerMember === undefined ? `${r.recipient} (not a member)` : `${r.recipient} (not a member; ${r.formerMember}'s key in an earlier stellar.yaml)`;
}

/** The access lines of an environment; `w` words their stellar.yaml and a request's command (a nested project's, for the outer root). */
function accessLines(e: EnvironmentReview, w: FindingWording): string[] {
  const config = w.path(PROJECT_FILE);
  // a member added (removed) in stellar.yaml whose key the file gained (lost) as a recipient: one line
  const gainedBoth = new Set(e.members.gained.filter((m) => e.recipients.gained.some((r) => r.recipient === m.recipient)).map((m) => m.recipient));
  const lostBoth = new Set(e.members.lost.filter((m) => e.recipients.lost.some((r) => r.recipient === m.recipient)).map((m) => m.recipient));
  // a key change the file followed (new key a recipient, old key not): one line
  const followed = (m: { before: string; after: string }): boolean => e.recipients.gained.some((r) => r.recipient === m.after) && e.recipients.lost.some((r) => r.recipient === m.before);
  for (const m of e.members.keyChanged) {
    if (!followed(m)) continue;
    gainedBoth.add(m.after);
    lostBoth.add(m.before);
  }
  return [
    ...e.members.gained.map(
      (m) =>
        (gainedBoth.has(m.recipient)
          ? `access: ${m.name} gained access (member in ${config}, and the file is encrypted to their key ${shortRecipient(m.recipient)})`
          : `access: ${m.name} gained access (member in ${config}, ${shortRecipient(m.recipient)})`) + sameKeyNote(m, config),
    ),
    ...e.members.lost.map((m) =>
      lostBoth.has(m.recipient)
        ? `access: ${m.name} lost access (no longer a member in ${config}, nor a recipient of the file)`
        : // the file still lists their key (or never did): they did not lose what the file gives them
          `access: ${m.name} is no longer a member in ${config}, but the file's recipients did not change for them`,
    ),
    ...e.members.keyChanged.map(
      (m) => `access: ${m.name}'s key changed (${shortRecipient(m.before)} → ${shortRecipient(m.after)})${followed(m) ? ", and the file is encrypted to the new key, no longer to the old" : ""}`,
    ),
    ...(e.members.requested ?? []).map(
      (m) =>
        m.refused !== undefined
          ? `request: ${m.name} asks for access (${m.recipient}, pending in ${config}), ${m.refused})`
          : `request: ${m.name} asks for access (${m.recipient}, pending in ${config}; grants nothing until a member approves: ${w.command(`stellar-secrets members approve ${m.name} --env ${e.environment}`)})`,
    ),
    ...(e.exposedDuring ?? []).map(
      (x) =>
        `access: ${x.member === undefined ? x.recipient : `${x.member} (${shortRecipient(x.recipient)})`} was a recipient of the file ${x.earlierPush === true ? `in commit ${x.commit.slice(0, 10)} of an earlier push of this change (no longer in the range)` : `from commit ${x.commit.slice(0, 10)} of this change on`}, and is not in the base or the head: ` +
        `whoever it was for could read the ${valuesText(x.secrets, false)} it held then, and any value set while it was a recipient, from those commits once pushed; ` +
        `a rotation later in the change does not take that back, so change those they must not know`,
    ),
    ...e.recipients.gained.filter((r) => !gainedBoth.has(r.recipient)).map((r) => `recipients: + ${recipientText(r)} can now decrypt the file`),
    ...e.recipients.lost.filter((r) => !lostBoth.has(r.recipient)).map((r) => `recipients: - ${recipientText(r)} is no longer a recipient of the file`),
  ];
}

function fingerprints(s: EnvironmentReview["secrets"][number]): string {
  const prints = s.change === "changed" && s.before && s.after ? `${s.before} → ${s.after}` : s.after ? s.after : s.before ? `was ${s.before}` : "";
  // an older ciphertext back under its name: the value it had then (a restore, a revert, a rollback)
  return s.restoredFrom === undefined ? prints : `${prints} (its value at commit ${s.restoredFrom.slice(0, 10)} again)`;
}

/**
 * The problems as a reviewer reads them, in the report's order: a cause ({@link ReviewCause}) once,
 * at its first problem, with all of its problems; every other problem on its own.
 */
export function problemEntries(report: ReviewReport): ({ cause: ReviewCause; problems: ReviewProblem[] } | { cause?: undefined; problem: ReviewProblem })[] {
  const causes = new Map((report.causes ?? []).map((c) => [c.id, c]));
  const out: ({ cause: ReviewCause; problems: ReviewProblem[] } | { cause?: undefined; problem: ReviewProblem })[] = [];
  const seen = new Map<string, ReviewProblem[]>();
  for (const p of report.problems) {
    const cause = p.cause === undefined ? undefined : causes.get(p.cause);
    if (cause === undefined) {
      out.push({ problem: p });
      continue;
    }
    const group = seen.get(cause.id);
    if (group !== undefined) {
      group.push(p);
      continue;
    }
    const problems = [p];
    seen.set(cause.id, problems);
    out.push({ cause, problems });
  }
  return out;
}

/** "N problems", counting a cause once, and the findings when they are more: "1 problem (6 findings)". */
function problemCount(report: ReviewReport): string {
  const shown = problemEntries(report).length;
  return `${plural(shown, "problem")}${shown === report.problems.length ? "" : ` (${plural(report.problems.length, "finding")})`}`;
}

function summaryText(report: ReviewReport): string {
  const s = report.summary;
  // secrets (names), and values (one per environment) where they differ: one secret added to 3 environments is "1 secret added (3 values)"
  const names = secretCounts(report.environments);
  const counted = (values: number, secrets: number, what: string, noun: boolean): string =>
    `${noun ? plural(secrets, "secret") : secrets} ${what}${values === secrets ? "" : ` (${plural(values, "value")})`}`;
  const parts = [counted(s.added, names.secretsAdded, "added", true), counted(s.changed, names.secretsChanged, "changed", false), counted(s.removed, names.secretsRemoved, "removed", false)];
  if (s.reencrypted > 0) parts.push(`${plural(s.reencrypted, "environment")} re-encrypted`);
  if (s.accessChanges > 0) parts.push(plural(s.accessChanges, "access change"));
  const requests = report.environments.reduce((n, e) => n + (e.members.requested?.length ?? 0), 0);
  if (requests > 0) parts.push(plural(requests, "access request"));
  const warnings = report.warnings.length === 0 ? "" : `, ${plural(report.warnings.length, "warning")}`;
  return `${parts.join(", ")}; ${report.clean ? "no problems" : problemCount(report)}${warnings}.`;
}

/** How a commit's signature is told: "signed by bob", "not signed", … */
function signatureText(c: CommitSignatureReview): string {
  if (c.status === "good") return `signed by ${c.signer ?? "a member"}`;
  if (c.status === "unsigned") return "not signed";
  if (c.status === "bad") return "signature does not verify";
  return `signed by a key that is no member's${c.key === undefined ? "" : ` (${c.key})`}`;
}

/**
 * The lines of the signatures section: one per commit that changes an environment (✓ signed by
 * a member of each environment it changes; ✗ a problem, ⚠ a warning; - not signed, but only
 * environments nobody can sign for), and
 * the environments nobody can sign for (only that line when no commit changes another).
 * Empty when nothing was checked.
 */
function signatureLines(report: ReviewReport): string[] {
  const s = report.signatures;
  if (!s.checked || s.commits.length === 0) return [];
  const note = `(no member of ${humanList(s.unverifiable)} has an ssh-ed25519 key, so no change of ${s.unverifiable.length === 1 ? "it" : "them"} can be verified)`;
  // nothing anyone could have signed: one line, not one per commit
  if (s.commits.every((c) => c.environments.every((e) => s.unverifiable.includes(e)))) return [note];
  const lines = s.commits.map((c) => {
    const failed = c.unsignedFor.filter((e) => !s.unverifiable.includes(e));
    const finding = (p: ReviewProblem): boolean => p.kind === "unsigned-change" && p.commit === c.commit;
    const mark = c.unsignedFor.length === 0 ? "✓" : report.problems.some(finding) ? "✗" : report.warnings.some(finding) ? "⚠" : "-";
    const notMember = c.status === "good" && failed.length > 0 ? ` (not as a member of ${humanList(failed)})` : "";
    return `${mark} ${c.commit.slice(0, 10)} ${signatureText(c)}: changes ${humanList(c.environments)}${notMember}`;
  });
  if (s.unverifiable.length > 0) lines.push(note);
  return lines;
}

/**
 * The references a change adds (+) and removes (-), a reference moved from one secret to another
 * at the same place as one line (~ old → new), in the order the report gives; `rename`: whether
 * any moved (then a note says what the review cannot tell).
 */
function referenceLines(report: ReviewReport): { lines: { mark: "+" | "-" | "~"; at: string; names: string[]; what: string }[]; rename: boolean } {
  const refs = report.references ?? [];
  const samePlace = (a: ReferenceChange, b: ReferenceChange): boolean => a.kind === b.kind && a.owner === b.owner && a.field === b.field;
  const movedAway = refs.filter((r) => r.change === "removed" && refs.some((a) => a.change === "added" && a.replaces === r.secret && samePlace(a, r)));
  const lines = refs
    .filter((r) => !movedAway.includes(r))
    .map((r) => ({
      mark: r.replaces !== undefined ? ("~" as const) : r.change === "added" ? ("+" as const) : ("-" as const),
      at: `${r.file}:${r.line}`,
      names: r.replaces !== undefined ? [r.replaces, r.secret] : [r.secret],
      what: `${r.kind}${r.owner === undefined ? "" : ` ${r.owner}`}, ${r.field}`,
    }));
  return { lines, rename: lines.some((l) => l.mark === "~") };
}

/** The lines for {@link ReviewReport.configEdited}: a config file edited beside a value set anew. */
function editedLines(report: ReviewReport): string[] {
  return (report.configEdited ?? []).map(
    (c) => `${c.file} is edited too and uses ${humanList(c.secrets)}, set anew here: check that the new ${c.secrets.length === 1 ? "value fits" : "values fit"} the edited file`,
  );
}

const RENAME_NOTE =
  "~: a reference moved from one secret to another, as in a rename's steps (`stellar-secrets rename`); without a key the review cannot tell that the new secret holds the old values";

/** A cause in a few words, where one of its problems is listed (an environment): the whole cause is under Problems. */
function causeBrief(c: ReviewCause): string {
  return `${c.member}'s key still opens this file though ${c.member} was removed from ${PROJECT_FILE} by hand (one problem for ${plural(c.files.length, "file")}: see Problems)`;
}

/** Where a cause's problems are: `file:line` each, a file's lines together ("secrets/a.enc.yaml:3, .sops.yaml:3, 5, 7"). */
function causePlaces(problems: readonly ReviewProblem[]): string {
  const lines = new Map<string, string[]>();
  for (const p of problems) {
    if (p.file === undefined) continue;
    const at = lines.get(p.file) ?? [];
    if (p.line !== undefined) at.push(String(p.line));
    lines.set(p.file, at);
  }
  return [...lines].map(([file, at]) => (at.length === 0 ? file : `${file}:${at.join(", ")}`)).join("; ");
}

const where = (p: ReviewProblem): string | undefined => (p.file === undefined ? undefined : `${p.file}${p.line !== undefined ? `:${p.line}` : ""}`);

function renderEnvironment(e: EnvironmentReview, w: FindingWording, causes: readonly ReviewCause[] = []): string[] {
  const fileNote = { added: ", new file", removed: ", file deleted", modified: "", unchanged: "" }[e.fileChange];
  const out = [`${e.environment} (${e.file}${fileNote})`];
  const width = Math.max(0, ...e.secrets.map((s) => s.name.length));
  const mark = { added: "+", changed: "~", removed: "-" } as const;
  for (const s of e.secrets) {
    const prints = fingerprints(s);
    out.push(`  ${mark[s.change]} ${s.name.padEnd(width)}  ${s.change.padEnd(7)}${prints === "" ? "" : `  ${prints}`}`.trimEnd());
  }
  const reencryption = reencryptionText(e);
  if (reencryption !== undefined) out.push(`  * ${reencryption}`);
  for (const line of accessLines(e, w)) out.push(`  ${line}`);
  const notes = environmentNotes(e);
  for (const n of notes) if (n.kind === "exposed-before-rotation") out.push(`  note: ${n.message}`);
  if (e.encrypted === false) out.push("  ! the file is not a valid encrypted SOPS file");
  for (const n of notes) if (n.kind === "metadata-only") out.push(`  (${n.message})`);
  for (const n of notes) if (n.kind === "clear-comment") out.push(`  ! ${n.message}`);
  for (const n of notes) if (n.kind === "encrypted-comment") out.push(`  note: ${n.message}`);
  for (const p of e.problems) {
    const cause = p.cause === undefined ? undefined : causes.find((c) => c.id === p.cause);
    out.push(cause === undefined ? `  ✗ ${p.message}` : `  ✗ ${causeBrief(cause)}`);
  }
  return out;
}

const STATUS_TEXT = { added: "added", removed: "removed", changed: "changed", unchanged: "unchanged", "re-encrypted": "re-encrypted only (same value)" } as const;
const STATUS_MARK = { added: "+", removed: "-", changed: "~", unchanged: "=", "re-encrypted": "*" } as const;

/** The lines of a keyed verification (`--verify`): per environment, verified with each name's status, or why not. */
function verificationLines(report: ReviewReport): { head: string; names: { mark: string; name: string; status: string }[] }[] {
  return (report.verification ?? []).map((v) =>
    v.verified
      ? {
          head: `${v.environment} (${v.file}): verified, MAC checked; data key ${v.dataKeyRotated ? "rotated" : "not rotated"}`,
          names: v.secrets.map((s) => ({ mark: STATUS_MARK[s.status], name: s.name, status: STATUS_TEXT[s.status] })),
        }
      : { head: `${v.environment} (${v.file}): ${v.tampered ? "FAILED verification" : "not verified"}: ${v.reason}`, names: [] },
  );
}

/** One proposal of a review, in words (no value: the reviewer has none). */
function proposalLine(p: NonNullable<ReviewReport["proposals"]>[number]): string {
  const what = `${p.name ?? "?"} in ${p.environment ?? "?"}`;
  return p.change === "added"
    ? `+ proposal ${what} by ${p.proposer ?? "?"} (${p.proposedAt ?? "?"}), for a member to apply: \`${p.file}\``
    : `− proposal ${what} removed (applied or rejected): \`${p.file}\``;
}

/**
 * The terminal text of a review. `wording`: how the lines the renderer words itself name commands
 * (a nested project's, for the outer root: {@link findingWording}); default as they are.
 */
export function renderReviewText(report: ReviewReport, wording: FindingWording = findingWording(undefined)): string {
  const out = [`Review of ${side(report.base)} → ${side(report.head)} (${report.verification === undefined ? "no key used" : "verified with your key where it opens"})`];
  const bases = mergeBasesNote(report, (s) => (s.startsWith("stellar-secrets ") ? `\`${s}\`` : s));
  if (bases !== undefined) out.push(`Note: the range has ${bases.lead}${bases.rest}`, ...mergeBaseSecretLines(report).map((l) => `  ${l}`));
  out.push("");
  if (report.environments.length === 0) out.push("No change to any secrets file or member.", "");
  for (const e of report.environments) out.push(...renderEnvironment(e, wording, report.causes), "");
  const references = referenceLines(report);
  const edited = editedLines(report);
  if (references.lines.length + edited.length > 0) {
    out.push("References in config files:");
    const width = Math.max(0, ...references.lines.map((l) => l.at.length));
    for (const l of references.lines) out.push(`  ${l.mark} ${l.at.padEnd(width)}  ${l.names.join(" → ")} (${l.what})`);
    for (const l of edited) out.push(`  ! ${l}`);
    if (references.rename) out.push(`  (${RENAME_NOTE})`);
    out.push("");
  }
  if (report.verification !== undefined) {
    out.push("Verification (decrypted with your key; no value shown):");
    if (report.verification.length === 0) out.push("  no changed environment to verify");
    for (const v of verificationLines(report)) {
      out.push(`  ${v.head}`);
      const width = Math.max(0, ...v.names.map((n) => n.name.length));
      for (const n of v.names) out.push(`    ${n.mark} ${n.name.padEnd(width)}  ${n.status}`);
    }
    out.push("");
  }
  const proposals = report.proposals ?? [];
  if (proposals.length > 0) {
    out.push(`Proposals (${proposals.length}):`);
    for (const p of proposals) out.push(`  ${proposalLine(p)}`);
    out.push("");
  }
  if (report.diagnostics.length > 0) {
    out.push(`Checker (${report.head.label}):`);
    // beyond a few warnings (or infos) of one rule, a count: 100 added secrets are 100 unused-secret lines
    const shown = new Map<string, number>();
    const total = new Map<string, number>();
    const group = (d: ReviewDiagnostic): string => `${d.rule} ${d.severity}`;
    for (const d of report.diagnostics) total.set(group(d), (total.get(group(d)) ?? 0) + 1);
    for (const d of report.diagnostics) {
      const n = (shown.get(group(d)) ?? 0) + 1;
      shown.set(group(d), n);
      const many = d.severity !== "error" && (total.get(group(d)) ?? 0) > CHECKER_LINES_PER_RULE;
      if (many && n > CHECKER_LINES_SHOWN) {
        if (n === CHECKER_LINES_SHOWN + 1) {
          const more = (total.get(group(d)) ?? 0) - CHECKER_LINES_SHOWN;
          out.push(`  … and ${more} more ${d.rule} ${plural(more, d.severity).replace(/^\d+ /, "")} (every one in --json and in the --format markdown comment)`);
        }
        continue;
      }
      out.push(`  ${d.file}:${d.line}:${d.column}: ${d.severity} ${d.rule} ${d.message}${d.new ? "" : " (already in the base)"}`);
    }
    out.push("");
  }
  const signatures = signatureLines(report);
  if (signatures.length > 0) {
    out.push(`Signatures (judged against the members of ${report.base.label}${report.signatures.alsoMembersOf === undefined ? "" : ` who are still members at ${report.signatures.alsoMembersOf}`}):`);
    for (const line of signatures) out.push(`  ${line}`);
    out.push("");
  }
  if (report.problems.length > 0) {
    const entries = problemEntries(report);
    out.push(`Problems (${entries.length === report.problems.length ? entries.length : `${entries.length}, from ${report.problems.length} findings`}):`);
    for (const entry of entries) {
      if (entry.cause === undefined) {
        const p = entry.problem;
        out.push(`  ✗ ${where(p) === undefined ? "" : `${where(p)}: `}${p.message}`);
      } else {
        out.push(`  ✗ ${entry.cause.message}`);
        out.push(`      in ${causePlaces(entry.problems)}`);
      }
    }
    out.push("");
  }
  if (report.warnings.length > 0) {
    out.push(`Warnings (${report.warnings.length}):`);
    for (const p of report.warnings) out.push(`  ⚠ ${where(p) === undefined ? "" : `${where(p)}: `}${p.message}`);
    out.push("");
  }
  const access = accessOverview(report);
  if (access !== undefined) out.push(`Access: ${access}.`);
  out.push(`Summary: ${summaryText(report)}`);
  // names, labels and paths come from the change under review: their control characters are shown
  // escaped, so that none can move the cursor, erase a finding or start a fake line in a terminal
  return `${out.map((line) => escapeControlCharacters(line)).join("\n")}\n`;
}

/**
 * A project nested in the reviewed one (a folder with a stellar.yaml of its own, `path` relative
 * to the outer root): its own review, paths already relative to the outer root, or `removed` when
 * only the base has its stellar.yaml.
 */
export type NestedReview = { path: string; report: ReviewReport; removed?: undefined } | { path: string; removed: true; report?: undefined };

/**
 * A nested project's report with its paths relative to the outer root (`dir` put before each
 * file of an environment, a problem, a warning, a diagnostic, a verification and a proposal).
 * Messages are left as they are: the nested review words them for the outer root already
 * (`ReviewInputs.folder`, `findingWording`).
 */
export function withPathPrefix(report: ReviewReport, dir: string): ReviewReport {
  const at = findingWording(dir).path;
  const problem = (p: ReviewProblem): ReviewProblem => (p.file === undefined ? { ...p } : { ...p, file: at(p.file) });
  return {
    ...report,
    environments: report.environments.map((e) => ({ ...e, file: at(e.file), problems: e.problems.map(problem) })),
    diagnostics: report.diagnostics.map((d) => ({ ...d, file: at(d.file) })),
    problems: report.problems.map(problem),
    warnings: report.warnings.map(problem),
    ...(report.verification === undefined ? {} : { verification: report.verification.map((v) => ({ ...v, file: at(v.file) })) }),
    ...(report.proposals === undefined ? {} : { proposals: report.proposals.map((p) => ({ ...p, file: at(p.file) })) }),
    ...(report.references === undefined ? {} : { references: report.references.map((r) => ({ ...r, file: at(r.file) })) }),
    ...(report.configEdited === undefined ? {} : { configEdited: report.configEdited.map((c) => ({ ...c, file: at(c.file) })) }),
  };
}

/**
 * The report worded for a reader in another folder than the project root (`words`: core's
 * `readerWording`, as `check` words its text): every file field through `words.path`, and the
 * paths and commands of every message (problems, warnings, diagnostics, causes) reworded as
 * `check` rewords its messages. For the text output only: JSON, Markdown and SARIF keep the
 * root's paths. `nestedDirs`: folders of nested projects (root-relative) whose `(cd DIR && …)`
 * commands the messages hold, worded for the outer root; they are moved to the reader's folder
 * too. The report itself when `words` is the root's.
 */
export function withReaderPaths(report: ReviewReport, words: FindingWording, nestedDirs: readonly string[] = []): ReviewReport {
  if (words.folder === "") return report;
  const paths = new Set<string>([PROJECT_FILE, SOPS_CONFIG_FILE]);
  for (const e of report.environments) paths.add(e.file);
  for (const p of [...report.problems, ...report.warnings]) if (p.file !== undefined) paths.add(p.file);
  for (const d of report.diagnostics) paths.add(d.file);
  for (const c of report.causes ?? []) for (const f of c.files) paths.add(f);
  for (const r of report.references ?? []) paths.add(r.file);
  for (const c of report.configEdited ?? []) paths.add(c.file);
  const rewordPaths = messageRewording(words, paths);
  // a nested project's commands, worded for the outer root, run in its folder as seen from the reader's
  const moves = nestedDirs.map((dir) => [`(cd ${shellPathWord(dir)} && `, `(cd ${shellPathWord(words.path(dir))} && `] as const);
  const reword = (message: string, file?: string): string => moves.reduce((m, [from, to]) => m.split(from).join(to), rewordPaths(message, file));
  const at = words.path;
  const problem = (p: ReviewProblem): ReviewProblem => ({ ...p, ...(p.file === undefined ? {} : { file: at(p.file) }), message: reword(p.message, p.file) });
  return {
    ...report,
    environments: report.environments.map((e) => ({ ...e, file: at(e.file), problems: e.problems.map(problem) })),
    diagnostics: report.diagnostics.map((d) => ({ ...d, file: at(d.file), message: reword(d.message, d.file) })),
    problems: report.problems.map(problem),
    warnings: report.warnings.map(problem),
    ...(report.causes === undefined ? {} : { causes: report.causes.map((c) => ({ ...c, files: c.files.map(at), message: reword(c.message) })) }),
    ...(report.verification === undefined ? {} : { verification: report.verification.map((v) => ({ ...v, file: at(v.file) })) }),
    ...(report.proposals === undefined ? {} : { proposals: report.proposals.map((p) => ({ ...p, file: at(p.file) })) }),
    ...(report.references === undefined ? {} : { references: report.references.map((r) => ({ ...r, file: at(r.file) })) }),
    ...(report.configEdited === undefined ? {} : { configEdited: report.configEdited.map((c) => ({ ...c, file: at(c.file) })) }),
  };
}

/** How a nested project's section is headed: `teams/labs (a project of its own)`. */
export function nestedHeading(path: string): string {
  return `${path} (a project of its own)`;
}

const nestedClean = (n: NestedReview): boolean => n.report === undefined || n.report.clean;

/** A nested report the change does not touch: nothing to show but that (one line, not a whole empty review). */
function untouched(r: ReviewReport): boolean {
  return (
    r.clean &&
    r.environments.length === 0 &&
    r.diagnostics.length === 0 &&
    r.problems.length === 0 &&
    r.warnings.length === 0 &&
    (r.proposals ?? []).length === 0 &&
    (r.references ?? []).length === 0 &&
    (r.configEdited ?? []).length === 0 &&
    r.verification === undefined &&
    r.signatures.commits.length === 0
  );
}

const removedText = (n: NestedReview, head: string): string =>
  `removed in ${head}: ${n.path} has no stellar.yaml there (its files, where any remain, are now checked with the project around them)`;

/** The text of a review and of each nested project's (each under its heading); the outer report alone, byte for byte, without any. */
export function renderReviewsText(report: ReviewReport, nested: readonly NestedReview[] = [], reader?: (dir: string) => FindingWording): string {
  // worded for the reader's folder (paths relative to it, as check prints them), else for the root
  const outerWords = reader?.("") ?? findingWording(undefined);
  const dirs = nested.map((n) => n.path);
  let out = renderReviewText(withReaderPaths(report, outerWords), outerWords);
  if (nested.length === 0) return out;
  const shown = (dir: string): string => outerWords.path(dir);
  for (const n of nested) {
    if (n.report !== undefined && untouched(n.report)) {
      out += `\n${escapeControlCharacters(`${nestedHeading(shown(n.path))}: no change`)}\n`;
      continue;
    }
    out += `\n${escapeControlCharacters(nestedHeading(shown(n.path)))}\n`;
    out +=
      n.report === undefined
        ? `${escapeControlCharacters(removedText({ ...n, path: shown(n.path) }, report.head.label))}\n`
        : renderReviewText(withReaderPaths(n.report, outerWords, dirs), reader?.(n.path) ?? findingWording(n.path));
  }
  const bad = nested.filter((n) => !nestedClean(n)).map((n) => shown(n.path));
  if (!report.clean) bad.unshift("the root project");
  const line = `All projects: ${plural(nested.length + 1, "project")} reviewed (${humanList(["the root project", ...nested.map((n) => shown(n.path))])}); ${bad.length === 0 ? "no problems" : `problems in ${humanList(bad)}`}.`;
  return `${out}\n${escapeControlCharacters(line)}\n`;
}

/**
 * `--json` with nested projects: the outer report, its `clean` false when any nested report is not
 * clean, and `projects` (only when there is a nested project): each `{"path", ...its report}`, or
 * `{"path","removed":true,"clean":true}`.
 */
export function renderReviewsJson(report: ReviewReport, nested: readonly NestedReview[] = []): string {
  if (nested.length === 0) return renderReviewJson(report);
  const projects = nested.map((n) => (n.report === undefined ? { path: n.path, removed: true, clean: true } : { path: n.path, ...reviewJson(n.report) }));
  return renderJson({ ...reviewJson(report), clean: report.clean && nested.every(nestedClean), projects });
}

/** Markdown with nested projects: the verdict of the headline counts every project, then a section per nested project. */
export function renderReviewsMarkdown(report: ReviewReport, nested: readonly NestedReview[] = []): string {
  if (nested.length === 0) return renderReviewMarkdown(report);
  // a cause counts once, as in each report's own headline
  const problems = problemEntries(report).length + nested.reduce((n, x) => n + (x.report === undefined ? 0 : problemEntries(x.report).length), 0);
  const inNested = problems - problemEntries(report).length;
  const headline =
    problems === 0
      ? "### ✅ Stellar Secrets review: no problems"
      : `### ❌ Stellar Secrets review: ${plural(problems, "problem")}${inNested === 0 ? "" : ` (${inNested} in nested projects)`}`;
  const parts = [reviewMarkdown(report, { headline })];
  for (const n of nested) {
    const title = markdownText(nestedHeading(n.path));
    if (n.report === undefined) {
      parts.push(`### ${title}\n\n${markdownText(removedText(n, report.head.label))}\n`);
      continue;
    }
    if (untouched(n.report)) {
      parts.push(`### ✅ ${title}: no change\n`);
      continue;
    }
    const verdict = n.report.clean ? `### ✅ ${title}: no problems` : `### ❌ ${title}: ${problemCount(n.report)}`;
    parts.push(reviewMarkdown(n.report, { headline: verdict, marker: false, wording: findingWording(n.path) }));
  }
  return fitComment(parts.join("\n---\n\n"));
}

/** The report as `--json` prints it: every field of the report, and `notes` per environment. */
export function reviewJson(report: ReviewReport): ReviewReport & { environments: (EnvironmentReview & { notes: ReviewNote[] })[] } {
  return { ...report, environments: report.environments.map((e) => ({ ...e, notes: environmentNotes(e) })) };
}

/** `--json` output. */
export function renderReviewJson(report: ReviewReport): string {
  return renderJson(reviewJson(report));
}

// ---- Markdown -------------------------------------------------------------------------------

/** The first line of every Markdown review, so that a CI job can find (and edit) its own comment. */
export const MARKDOWN_MARKER = "<!-- stellar-secrets review -->";


/** A folded block; `summary` is plain text (escaped here). */
function details(summary: string, body: string[]): string[] {
  const lines = [...body];
  while (lines.at(-1) === "") lines.pop();
  return ["<details>", `<summary>${htmlText(summary)}</summary>`, "", ...lines, "", "</details>", ""];
}

/**
 * The longest comment GitHub takes (65,536 characters; counted here in UTF-8 bytes, never fewer).
 * A longer body is refused, and `gh pr comment --edit-last` then leaves the previous comment,
 * perhaps an earlier push's "no problems", standing.
 */
export const MARKDOWN_COMMENT_LIMIT = 65_536;

/**
 * `markdown` cut at a line so that it fits `limit` bytes with a notice of the cut: what comes first
 * (verdict, summary, problems) stays; a `<details>` fold left open is closed. Unchanged when it fits.
 */
export function fitComment(markdown: string, limit: number = MARKDOWN_COMMENT_LIMIT): string {
  if (Buffer.byteLength(markdown) <= limit) return markdown;
  // a very long line (a label of 100,000 characters) is shortened first, so that it cannot push the
  // lines after it (other problems) out of the comment
  const lines = markdown.replace(/\n$/, "").split("\n").map(shortLine);
  const kept: string[] = [];
  let open = false;
  let size = 0;
  // room for the closing of a fold and the notice (a few hundred bytes)
  const budget = limit - 512;
  for (const line of lines) {
    const n = Buffer.byteLength(line) + 1;
    if (size + n > budget) break;
    kept.push(line);
    size += n;
    if (line === "<details>") open = true;
    else if (line === "</details>") open = false;
  }
  const left = lines.slice(kept.length);
  const problems = left.filter((l) => l.startsWith("- ❌ ")).length;
  while (kept.at(-1) === "") kept.pop();
  const notice = `**✂️ This comment was cut to fit GitHub's comment limit (${MARKDOWN_COMMENT_LIMIT.toLocaleString("en-US")} characters): ${plural(left.length, "line")} left out${problems === 0 ? "" : `, ${plural(problems, "problem")} among them`}. Run \`stellar-secrets review\` on the same range (text or \`--json\`) for the whole review.**`;
  return `${[...kept, ...(open ? ["", "</details>"] : []), "", notice].join("\n")}\n`;
}

/** The longest line {@link fitComment} keeps whole (characters). */
const LONG_LINE = 2048;

/**
 * `line` cut to {@link LONG_LINE} characters with `… (cut)`, never inside an escape (`\\x`), an
 * entity (`&lt;`) or a surrogate pair; a code span it cuts open shows its backticks as text.
 */
function shortLine(line: string): string {
  if (line.length <= LONG_LINE) return line;
  let cut = line.slice(0, LONG_LINE);
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  cut = cut.replace(/&#?[A-Za-z0-9]*$/, "");
  // an odd run of trailing backslashes escaped what was cut away
  const slashes = /\\+$/.exec(cut)?.[0].length ?? 0;
  if (slashes % 2 === 1) cut = cut.slice(0, -1);
  return `${cut}… (cut)`;
}

const KIND_LABEL: Record<ReviewProblem["kind"], string> = {
  plaintext: "plaintext",
  "unrotated-removal": "unrotated removal",
  "non-member-recipient": "non-member recipient",
  "weakened-rule": "weakened rule",
  "checker-error": "checker error",
  "rewrapped-without-rotation": "re-wrapped without rotation",
  tampered: "tampered",
  "unsigned-change": "unsigned change",
  "credential-destination": "credential destination",
  "key-groups-change": "key groups changed",
  "look-alike-name": "look-alike name",
};

/**
 * A pull-request comment: a marker line, a headline with the verdict, the summary and the two
 * states, the problems (file:line, kind, message), then the changes per environment and the
 * checker diagnostics in collapsed `<details>` blocks.
 */
export function renderReviewMarkdown(report: ReviewReport, options: { headline?: string; marker?: boolean; wording?: FindingWording } = {}): string {
  return fitComment(reviewMarkdown(report, options));
}

/**
 * One environment's change in a few words, as Markdown: "1 changed (`stripe_api_key`); data key
 * rotated (23 values re-encrypted); dave gained access; 1 problem". Names are listed up to three.
 */
function environmentGlance(e: EnvironmentReview): string {
  const parts: string[] = [];
  if (e.fileChange === "added") parts.push("new file");
  if (e.fileChange === "removed") parts.push("file deleted");
  for (const change of ["added", "changed", "removed"] as const) {
    const names = e.secrets.filter((s) => s.change === change).map((s) => s.name);
    if (names.length === 0) continue;
    parts.push(`${names.length} ${change}${names.length <= 3 ? ` (${names.map((n) => markdownCode(n)).join(", ")})` : ""}`);
  }
  const words: string[] = [];
  const reencryption = reencryptionBrief(e);
  if (reencryption !== undefined) words.push(reencryption);
  for (const m of e.members.gained) words.push(`${m.name} gained access`);
  for (const m of e.members.lost) {
    words.push(e.recipients.lost.some((r) => r.recipient === m.recipient) ? `${m.name} lost access` : `${m.name} removed from ${PROJECT_FILE}, not from the file's recipients`);
  }
  for (const m of e.members.keyChanged) words.push(`${m.name}'s key changed`);
  for (const m of e.members.requested ?? []) words.push(`${m.name} asks for access`);
  for (const x of e.exposedDuring ?? []) words.push(`${x.member ?? shortRecipient(x.recipient)} had access ${x.earlierPush === true ? "in an earlier push of this change" : "inside this change"}`);
  const strangers = e.recipients.gained.filter((r) => r.member === undefined).length;
  if (strangers > 0) words.push(`${plural(strangers, "recipient")} that no member has`);
  for (const n of environmentNotes(e)) if (n.kind === "metadata-only") words.push("no value changed (metadata only)");
  for (const n of environmentNotes(e)) if (n.kind === "clear-comment") words.push(n.message.split(" (")[0] as string);
  for (const n of environmentNotes(e)) if (n.kind === "encrypted-comment") words.push(n.changes.length === 1 ? (commentChangeText(n.changes[0] as CommentChange).replace(/ \(.*\)$/, "")) : `${n.changes.length} encrypted comments changed`);
  if (e.encrypted === false) words.push("not a valid encrypted file");
  if (e.problems.length > 0) {
    const own = e.problems.filter((p) => p.cause === undefined).length;
    const shared = new Set(e.problems.flatMap((p) => (p.cause === undefined ? [] : [p.cause]))).size;
    // a problem whose cause spans other files counts once, and says so
    words.push(shared === 0 ? plural(e.problems.length, "problem") : `${plural(own + shared, "problem")} (${shared === 1 ? "one" : shared} shared with other files)`);
  }
  parts.push(...words.map((w) => markdownText(w)));
  return parts.length === 0 ? markdownText("no change to its values or members") : parts.join("; ");
}

/** {@link renderReviewMarkdown} whatever its length. */
function reviewMarkdown(report: ReviewReport, options: { headline?: string; marker?: boolean; wording?: FindingWording }): string {
  const out: string[] = options.marker === false ? [] : [MARKDOWN_MARKER];
  out.push(options.headline ?? (report.clean ? "### ✅ Stellar Secrets review: no problems" : `### ❌ Stellar Secrets review: ${problemCount(report)}`), "");
  out.push(`**Summary:** ${markdownText(summaryText(report))}`, "");
  // what changed where, and who can read what: visible, above the folded details
  const access = accessOverview(report);
  if (access !== undefined) out.push(`**Access:** ${markdownText(`${access}.`)}`, "");
  if (report.environments.length > 0) {
    for (const e of report.environments) out.push(`- **${markdownText(e.environment)}**: ${environmentGlance(e)}`);
    out.push("");
  }
  out.push(`${markdownCode(side(report.base))} → ${markdownCode(side(report.head))} · ${report.verification === undefined ? "read without any key" : "verified with a key where it opens"}; no value is shown.`, "");
  const bases = mergeBasesNote(report, markdownCode);
  if (bases !== undefined) out.push(`> **${bases.lead}**${bases.rest}`, ...mergeBaseSecretLines(report, markdownCode, markdownText).map((l) => `> - ${l}`), "");
  if (report.problems.length > 0) {
    out.push("#### Problems", "");
    for (const entry of problemEntries(report)) {
      if (entry.cause !== undefined) {
        // one cause, told once, with each place it is found
        out.push(`- ❌ (${markdownText(`${plural(entry.problems.length, "finding")}, one cause`)}) ${markdownText(entry.cause.message)}`);
        for (const p of entry.problems) {
          const at = where(p);
          out.push(`  - ${at === undefined ? "" : `${markdownCode(at)} `}(${KIND_LABEL[p.kind]})`);
        }
        continue;
      }
      const p = entry.problem;
      const at = where(p);
      out.push(`- ❌ ${at === undefined ? "" : `**${markdownCode(at)}** `}(${KIND_LABEL[p.kind]}) ${markdownText(p.message)}`);
    }
    out.push("");
  }
  if (report.warnings.length > 0) {
    out.push("#### Warnings", "");
    for (const p of report.warnings) {
      const at = where(p);
      out.push(`- ⚠️ ${at === undefined ? "" : `**${markdownCode(at)}** `}(${KIND_LABEL[p.kind]}) ${markdownText(p.message)}`);
    }
    out.push("");
  }
  if (report.environments.length === 0) {
    out.push("No change to any secrets file or member.", "");
  } else {
    const body: string[] = [];
    for (const e of report.environments) {
      const fileNote = { added: ", new file", removed: ", file deleted", modified: "", unchanged: "" }[e.fileChange];
      body.push(`**${markdownText(e.environment)}** (${markdownCode(e.file)}${fileNote})`, "");
      if (e.secrets.length > 0) {
        body.push("| | secret | change | fingerprint (sha-256 of the encrypted string) |", "| --- | --- | --- | --- |");
        const mark = { added: "+", changed: "~", removed: "−" } as const;
        for (const s of e.secrets) body.push(`| ${mark[s.change]} | ${cellCode(s.name)} | ${s.change} | ${fingerprints(s) === "" ? "" : cellCode(fingerprints(s))} |`);
        body.push("");
      }
      const lines = [
        ...(reencryptionText(e) === undefined ? [] : [reencryptionText(e) as string]),
        ...accessLines(e, options.wording ?? findingWording(undefined)),
        ...environmentNotes(e).map((n) => (n.kind === "exposed-before-rotation" ? `note: ${n.message}` : n.message)),
        ...(e.encrypted === false ? ["⚠️ the file is not a valid encrypted SOPS file"] : []),
      ];
      for (const l of lines) body.push(`- ${markdownText(l)}`);
      if (lines.length > 0) body.push("");
    }
    out.push(...details(`Changes by environment (${report.environments.length})`, body));
  }
  const references = referenceLines(report);
  const edited = editedLines(report);
  if (references.lines.length + edited.length > 0) {
    const body = references.lines.map((l) => `- ${l.mark} ${markdownCode(l.at)} ${l.names.map((n) => markdownCode(n)).join(" → ")} ${markdownText(`(${l.what})`)}`);
    for (const l of edited) body.push(`- ⚠️ ${markdownText(l)}`);
    if (references.rename) body.push("", markdownText(RENAME_NOTE));
    out.push(...details(`References in config files (${references.lines.length + edited.length})`, body));
  }
  if (report.verification !== undefined) {
    const body: string[] = [];
    for (const v of verificationLines(report)) {
      body.push(`- ${markdownText(v.head)}`);
      for (const n of v.names) body.push(`  - ${markdownCode(n.name)} ${markdownText(n.status)}`);
    }
    if (body.length === 0) body.push("No changed environment to verify.");
    out.push(...details(`Verification with a key (${report.verification.filter((v) => v.verified).length} of ${report.verification.length} environments verified)`, body));
  }
  const proposals = report.proposals ?? [];
  if (proposals.length > 0) {
    out.push(...details(`Proposals (${proposals.length})`, proposals.map((p) => `- ${markdownText(proposalLine(p))}`)));
  }
  if (report.diagnostics.length > 0) {
    const fresh = report.diagnostics.filter((d) => d.new).length;
    const body = report.diagnostics.map(
      (d) => `- ${markdownCode(`${d.file}:${d.line}:${d.column}`)} ${d.severity} ${markdownCode(d.rule)} ${markdownText(d.message)}${d.new ? "" : " _(already in the base)_"}`,
    );
    out.push(...details(`Checker diagnostics of ${report.head.label} (${report.diagnostics.length}, ${fresh} new)`, body));
  }
  const signatures = signatureLines(report);
  if (signatures.length > 0) {
    out.push(...details(`Signatures (${plural(report.signatures.commits.length, "commit")}, judged against the members of ${report.base.label}${report.signatures.alsoMembersOf === undefined ? "" : ` who are still members at ${report.signatures.alsoMembersOf}`})`, signatures.map((l) => `- ${markdownText(l)}`)));
  }
  return `${out.join("\n").replace(/\n+$/, "")}\n`;
}

// ---- SARIF ----------------------------------------------------------------------------------

const REVIEW_HELP = "https://stellar-secrets.dev/docs/cli#review";

/**
 * The review problems that no checker rule names, as SARIF rules (stable ids, the same as the
 * problem's `kind` in `--json`). Problems of kind `checker-error` keep their checker rule id.
 */
export const REVIEW_RULES: readonly ExtraRule[] = [
  { id: "plaintext", severity: "error", summary: "A change leaves a secrets file or value unencrypted.", helpUri: REVIEW_HELP },
  { id: "unrotated-removal", severity: "error", summary: "A recipient was removed from a secrets file but its data key was not rotated, or the change brings back a data key an earlier version had and the base no longer uses (a rotation undone), or a commit of the change wrapped the head's data key for a stanza the head no longer has (a member added, then reverted; an environment renamed with a stanza cut out).", helpUri: REVIEW_HELP },
  { id: "non-member-recipient", severity: "error", summary: "A key can decrypt an environment's file but is not a member of that environment.", helpUri: REVIEW_HELP },
  { id: "weakened-rule", severity: "error", summary: "A change lowers the severity of a checker rule in stellar.yaml, narrows the config files it checks (config.include, config.exclude), moves secrets_dir away from an environment file, replaces an environment file by a symbolic link, replaces it (or a folder above it) by a git submodule, or takes environment files off the merge driver in .gitattributes, or gives them an attribute that rewrites them on checkout (working-tree-encoding, filter), or leaves stellar.yaml, an environment file or a folder above it out of git archive (export-ignore), or raises or removes a secret's catalog rotate_every, or takes members out of the .sops.yaml creation rule plain sops uses for an environment file.", helpUri: REVIEW_HELP },
  {
    id: "rewrapped-without-rotation",
    severity: "error",
    summary: "An age stanza was wrapped anew, or added under a label that already had one, while the data key was not rotated: the label proves nothing, so someone else may be able to decrypt.",
    helpUri: REVIEW_HELP,
  },
  { id: "tampered", severity: "error", summary: "With --verify: the head version of a secrets file fails its MAC or a value's tag under the key.", helpUri: REVIEW_HELP },
  {
    id: "unsigned-change",
    severity: "error",
    summary: "A commit changes an environment's secrets file or members without the signature of one of its members (a warning where not every member can sign).",
    helpUri: REVIEW_HELP,
  },
  {
    id: "credential-destination",
    severity: "error",
    summary: "A config file now sends a secret to a host (the origin of a connection's base_url or an oauth2 connector's token_url) that the base never sent it to, while the base sent it elsewhere.",
    helpUri: REVIEW_HELP,
  },
  {
    id: "key-groups-change",
    severity: "error",
    summary: "A secrets file starts using sops key groups (Shamir secret sharing), or its groups, their age stanzas or its threshold change: who holds each share cannot be proved without keys.",
    helpUri: REVIEW_HELP,
  },
  {
    id: "look-alike-name",
    severity: "error",
    summary: "A member gains access under a name that reads as another member's (differs only by case, I/l/1, O/0, rn/m, vv/w or characters that draw nothing) with another key, or an environment is added under a name that reads as another environment's: the review's words would read as that member or environment.",
    helpUri: REVIEW_HELP,
  },
];

/** The diagnostic a problem was made from (a new checker error, or the file's own plaintext diagnostic). */
function diagnosticOf(p: ReviewProblem, diagnostics: readonly ReviewDiagnostic[]): ReviewDiagnostic | undefined {
  if (p.kind !== "checker-error" && p.kind !== "plaintext") return undefined;
  // a problem's message may add to the diagnostic's (why this change caused it: " (this change removes …)")
  const from = (d: ReviewDiagnostic): boolean => p.message === d.message || p.message === `${d.rule}: ${d.message}` || p.message.startsWith(`${d.rule}: ${d.message} (`);
  return diagnostics.find((d) => d.file === p.file && from(d) && (p.line === undefined || p.line === d.line));
}

/**
 * SARIF 2.1.0 for a review: one result per checker diagnostic listed (`baselineState` new or
 * unchanged; level error when it is a problem), one per problem that is not a diagnostic
 * (rule id = its kind, see {@link REVIEW_RULES}) and one per warning (level warning,
 * `properties.problem` false). Locations are relative to `root`.
 */
export function renderReviewSarif(report: ReviewReport, root: string, version: string, nested: readonly NestedReview[] = []): object {
  const results = [report, ...nested.flatMap((n) => (n.report === undefined ? [] : [n.report]))].flatMap(sarifResults);
  return sarifLog(results, { root, version, extraRules: REVIEW_RULES });
}

/** The SARIF results of one report (its paths as the report has them). */
function sarifResults(report: ReviewReport): SarifResultInput[] {
  const problemDiagnostics = new Set<ReviewDiagnostic>();
  const rest: ReviewProblem[] = [];
  for (const p of report.problems) {
    const d = diagnosticOf(p, report.diagnostics);
    if (d === undefined) rest.push(p);
    else problemDiagnostics.add(d);
  }
  // level error only for a problem, as text and JSON count them: a checker error that is no problem
  // (one a problem at the same place explains, e.g. recipient-drift beside rewrapped-without-rotation,
  // or one the base already had) is a note, its checker severity kept in properties.checkerSeverity
  const results: SarifResultInput[] = report.diagnostics.map((d) => {
    const problem = problemDiagnostics.has(d);
    const lowered = !problem && d.severity === "error";
    return {
      ...diagnosticResult(d),
      severity: problem ? ("error" as Severity) : lowered ? ("info" as Severity) : d.severity,
      baselineState: d.new ? "new" : "unchanged",
      properties: { problem, ...(lowered ? { checkerSeverity: d.severity } : {}), ...(d.secret === undefined ? {} : { secret: d.secret }) },
    };
  });
  for (const p of rest) {
    // an unmatched checker error keeps its rule id (its message starts with it)
    const rule = p.kind === "checker-error" ? /^([a-z0-9-]+): /.exec(p.message)?.[1] : p.kind;
    results.push({
      ruleId: rule ?? p.kind,
      severity: "error",
      message: p.message,
      ...(p.file === undefined ? {} : { file: p.file }),
      ...(p.line === undefined ? {} : { line: p.line }),
      baselineState: "new",
      properties: { problem: true, ...(p.environment === undefined ? {} : { environment: p.environment }), ...(p.commit === undefined ? {} : { commit: p.commit }) },
    });
  }
  for (const w of report.warnings) {
    results.push({
      ruleId: w.kind,
      severity: "warning",
      message: w.message,
      ...(w.file === undefined ? {} : { file: w.file }),
      ...(w.line === undefined ? {} : { line: w.line }),
      baselineState: "new",
      properties: { problem: false, ...(w.environment === undefined ? {} : { environment: w.environment }), ...(w.commit === undefined ? {} : { commit: w.commit }) },
    });
  }
  return results;
}

/**
 * What a gained member's key was before ({@link MemberRef.sameKeyAs}): another name's key, in the
 * same spelling or the other (an ssh-ed25519 key and its age1… form are one key).
 */
function sameKeyNote(m: MemberRef, config: string): string {
  const was = m.sameKeyAs;
  if (was === undefined) return "";
  const spelling =
    was.recipient === m.recipient
      ? `the same key as ${was.name}'s`
      : `the same key as ${was.name}'s ${shortRecipient(was.recipient)}, written in its ${m.recipient.startsWith("ssh-") ? "ssh-ed25519" : "age1…"} form`;
  return was.lostHere
    ? `: ${spelling}, so ${was.name}, removed from ${config} by this change, keeps access under the name ${m.name} (nothing was taken away)`
    : `: ${spelling}; ${was.name} left (a member in an earlier ${config}) and is back under another name; unless that is intended, revert it`;
}
