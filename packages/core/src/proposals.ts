/**
 * The inbox of write-only proposals (`<secrets_dir>/inbox/<env>/<name>.<id>.age`) as the checker
 * sees it, without a key: each file parsed into its clear fields (packages/sops owns the format),
 * and the rules over them: `pending-proposal` (info: waiting for a member), `stale-proposal`
 * (warning: encrypted to other keys than the environment's members now), `invalid-proposal`
 * (error: not a proposal, a clear field that disagrees with the file's place, or an age header that
 * contradicts the listed recipients), plus `unknown-environment` and `invalid-secret-name` for a
 * proposal to an undeclared environment or under a bad name.
 */
import { isSopsError, normalizeRecipient, parseProposal, proposalEnvelopeProblem, proposalOfPath, type ParsedProposal, type ProposalFields } from "@stellar-secrets/sops";
import { diagnosticAt, type Diagnostic } from "./diagnostics.js";
import { nearestName, validateSecretName } from "./names.js";
import { LineIndex, type TextRange } from "./position.js";
import type { ProjectConfig } from "./project.js";
import type { RuleId, Severity } from "./rules.js";

/** One file of the inbox, read without a key. */
export interface ProposalFile {
  /** Relative to the repository root. */
  path: string;
  lines: LineIndex;
  /** The environment its folder names (`inbox/<env>/`), when it lies at a proposal's place. */
  environment: string | undefined;
  /** The clear fields, when the file is a well-formed proposal at its place; else undefined. */
  proposal: (ProposalFields & { fieldLines: ParsedProposal["fieldLines"]; ranges: { environment: TextRange; name: TextRange; recipients: TextRange } }) | undefined;
  /** Problems found at parse time (`invalid-proposal`, `invalid-secret-name`), at default severity. */
  diagnostics: Diagnostic[];
}

/** The value of a `field: value` line. */
function valueRange(text: string, lines: LineIndex, line: number): TextRange {
  const r = lineRange(lines, line);
  const at = text.slice(r.start, r.end).indexOf(": ");
  return at === -1 ? r : { start: r.start + at + 2, end: r.end };
}

function lineRange(lines: LineIndex, line: number): TextRange {
  const start = lines.offsetAt(line, 1);
  const next = lines.offsetAt(line + 1, 1);
  return { start, end: Math.max(start, next > start ? next - 1 : start) };
}

/**
 * A symbolic link in the inbox (`path` relative to the root, `inSecretsDir` relative to the
 * secrets folder (`inbox/...`); `target` where it points, as
 * shown — relative to the root, "outside the repository", or undefined when it points nowhere):
 * never read as a proposal, reported as `invalid-proposal` on the link. A proposal is a regular
 * file committed as itself: git stores a link as the path it points to, so what the link shows
 * here is not what anyone else receives (and in a commit it is no proposal at all).
 */
export function linkedProposalFile(path: string, inSecretsDir: string, target: string | undefined): ProposalFile {
  const lines = new LineIndex("");
  const place = proposalOfPath(inSecretsDir);
  const fix =
    place?.name !== undefined && place.environment !== undefined
      ? `remove the link (\`git rm ${path}\`) and propose the value again with \`stellar-secrets set ${place.name} --env ${place.environment}\``
      : `remove the link (\`git rm ${path}\`)`;
  return {
    path,
    lines,
    environment: place?.environment,
    proposal: undefined,
    diagnostics: [
      diagnosticAt(
        "invalid-proposal",
        "error",
        path,
        lines,
        { start: 0, end: 0 },
        `${path} is a symbolic link (${target === undefined ? "pointing nowhere" : `to ${target}`}), not a proposal: the inbox holds only regular files written by \`stellar-secrets set\`, and git would commit the link, not a proposal; it was not read; ${fix}`,
      ),
    ],
  };
}

/**
 * Parses one inbox file. `path` is relative to the root, `inSecretsDir` relative to the secrets
 * folder (`inbox/...`). Never throws: a file that is not a proposal at a proposal's place gives an
 * `invalid-proposal` diagnostic saying what is wrong and how to fix it.
 */
export function parseProposalFile(text: string, path: string, inSecretsDir: string): ProposalFile {
  const lines = new LineIndex(text);
  const place = proposalOfPath(inSecretsDir);
  const result: ProposalFile = { path, lines, environment: place?.environment, proposal: undefined, diagnostics: [] };
  const invalid = (line: number, message: string): ProposalFile => {
    result.diagnostics.push(diagnosticAt("invalid-proposal", "error", path, lines, lineRange(lines, line), message));
    return result;
  };
  if (place === undefined || place.environment === undefined || place.name === undefined) {
    return invalid(1, `${path} is not at a proposal's place: the inbox holds only inbox/<env>/<name>.<id>.age files written by \`stellar-secrets set\`; move or remove it`);
  }
  let parsed;
  try {
    parsed = parseProposal(text, path);
  } catch (e) {
    if (!isSopsError(e)) throw e;
    const what = e.message.startsWith(`${path}:`) ? e.message.slice(e.message.indexOf(": ", path.length) + 2) : e.message;
    return invalid(e.line ?? 1, `${path} is not a valid proposal: ${what}; ask the proposer to propose again, and remove this file with \`stellar-secrets inbox reject ${place.name} --env ${place.environment}\``);
  }
  const reject = `stellar-secrets inbox reject ${place.name} --env ${place.environment}`;
  if (parsed.environment !== place.environment) {
    return invalid(parsed.fieldLines.environment, `the proposal says environment "${parsed.environment}" but lies in the inbox of ${place.environment}: it was moved or edited; remove it with \`${reject}\``);
  }
  if (parsed.name !== place.name) {
    return invalid(parsed.fieldLines.name, `the proposal says name "${parsed.name}" but its file is named for "${place.name}": it was renamed or edited; remove it with \`${reject}\``);
  }
  const envelope = proposalEnvelopeProblem(parsed);
  if (envelope !== undefined) return invalid(parsed.fieldLines.payload, `the proposal's age file does not match its recipient list: ${envelope}; remove it with \`${reject}\``);
  const valid = validateSecretName(parsed.name);
  if (!valid.ok) {
    result.diagnostics.push(
      diagnosticAt("invalid-secret-name", "error", path, lines, valueRange(text, lines, parsed.fieldLines.name), `the proposal's name: ${valid.message}; it cannot be applied, remove it with \`${reject}\``, {
        secret: parsed.name,
        ...(valid.suggestion !== undefined ? { suggestion: valid.suggestion } : {}),
      }),
    );
  }
  const { armored: _armored, envelope: _envelope, ...fields } = parsed;
  result.proposal = {
    ...fields,
    ranges: {
      environment: valueRange(text, lines, parsed.fieldLines.environment),
      name: valueRange(text, lines, parsed.fieldLines.name),
      recipients: lineRange(lines, parsed.fieldLines.recipients),
    },
  };
  return result;
}

/** What the checker needs to know of an environment file to word a pending proposal. */
export interface ProposalContext {
  project: ProjectConfig;
  /** The names an environment's file has now (undefined when unknown). */
  namesOf: (environment: string) => readonly string[] | undefined;
}

/**
 * How a proposal's recipients differ from its environment's members now: keys it is encrypted to
 * that are not members (`extra`: they can read the proposed value) and members it is not encrypted
 * to (`missing`). Both empty when the proposal is current.
 */
export function proposalRecipientDrift(project: ProjectConfig, proposal: Pick<ProposalFields, "environment" | "recipients">): { extra: string[]; missing: { name: string; recipient: string }[] } | undefined {
  const env = project.environments.find((e) => e.name === proposal.environment);
  if (env === undefined) return undefined;
  const members = new Set(env.members.map((m) => normalizeRecipient(m.recipient)));
  const listed = new Set(proposal.recipients.map(normalizeRecipient));
  return {
    extra: [...listed].filter((r) => !members.has(r)),
    missing: env.members.filter((m) => !listed.has(normalizeRecipient(m.recipient))).map((m) => ({ name: m.name, recipient: m.recipient })),
  };
}

/** The rule diagnostics of the inbox files (severities from `sev`). */
export function checkProposals(files: Iterable<ProposalFile>, ctx: ProposalContext, sev: (rule: RuleId) => Severity): Diagnostic[] {
  const out: Diagnostic[] = [];
  const declared = ctx.project.environments.map((e) => e.name);
  for (const file of files) {
    out.push(...file.diagnostics.map((d) => (d.severity === sev(d.rule) ? d : { ...d, severity: sev(d.rule) })));
    const p = file.proposal;
    if (p === undefined) continue;
    if (!declared.includes(p.environment)) {
      const near = nearestName(p.environment, declared);
      out.push(
        diagnosticAt(
          "unknown-environment",
          sev("unknown-environment"),
          file.path,
          file.lines,
          p.ranges.environment,
          `a proposal for environment "${p.environment}", which stellar.yaml does not declare${near ? ` (did you mean "${near.name}"?)` : ""}; it cannot be applied: remove it with \`stellar-secrets inbox reject ${p.name} --env ${p.environment}\``,
          near ? { suggestion: near.name } : undefined,
        ),
      );
      continue;
    }
    if (file.diagnostics.length > 0) continue;
    const names = ctx.namesOf(p.environment);
    const what = names === undefined ? "" : names.includes(p.name) ? " (replaces its current value)" : " (a new secret)";
    out.push(
      diagnosticAt(
        "pending-proposal",
        sev("pending-proposal"),
        file.path,
        file.lines,
        p.ranges.name,
        `${p.proposer} proposes a value for "${p.name}" in ${p.environment}${what}, ${p.proposedAt}; a member of ${p.environment} applies it with \`stellar-secrets inbox apply ${p.name} --env ${p.environment}\` or rejects it with \`stellar-secrets inbox reject ${p.name} --env ${p.environment}\``,
        { secret: p.name },
      ),
    );
    const drift = proposalRecipientDrift(ctx.project, p);
    if (drift !== undefined && (drift.extra.length > 0 || drift.missing.length > 0)) {
      const parts: string[] = [];
      if (drift.extra.length > 0) parts.push(`is encrypted to ${drift.extra.join(", ")}, not a member of ${p.environment} now (who can read the proposed value; apply refuses it)`);
      if (drift.missing.length > 0) parts.push(`is not encrypted to ${drift.missing.map((m) => `${m.name} (${m.recipient})`).join(", ")}, a member now`);
      out.push(
        diagnosticAt(
          "stale-proposal",
          sev("stale-proposal"),
          file.path,
          file.lines,
          p.ranges.recipients,
          `the proposal for "${p.name}" ${parts.join(", and ")}: the members of ${p.environment} changed since it was written (the recipient lines are a claim, checked against the age header on apply); ask the proposer to propose again and reject this one with \`stellar-secrets inbox reject ${p.name} --env ${p.environment}\``,
        ),
      );
    }
  }
  return out;
}

/** A proposal that a change added or removed (for `review`). */
export interface ProposalReview {
  environment: string | undefined;
  name: string | undefined;
  /** `added`: the change proposes it; `removed`: applied or rejected (without a key the two look alike). */
  change: "added" | "removed";
  proposer: string | undefined;
  proposedAt: string | undefined;
  /** The recipient lines (a claim; `check` compares them with the members). */
  recipients: string[];
  /** Relative to the project root. */
  file: string;
}

/** The inbox files added and removed between two states, by path (sorted by path). */
export function diffProposals(before: ReadonlyMap<string, ProposalFile> | undefined, after: ReadonlyMap<string, ProposalFile> | undefined): ProposalReview[] {
  const out: ProposalReview[] = [];
  const entry = (f: ProposalFile, change: ProposalReview["change"]): ProposalReview => ({
    environment: f.proposal?.environment ?? f.environment,
    name: f.proposal?.name,
    change,
    proposer: f.proposal?.proposer,
    proposedAt: f.proposal?.proposedAt,
    recipients: f.proposal?.recipients ?? [],
    file: f.path,
  });
  for (const [path, f] of after ?? []) if (!before?.has(path)) out.push(entry(f, "added"));
  for (const [path, f] of before ?? []) if (!after?.has(path)) out.push(entry(f, "removed"));
  return out.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}
