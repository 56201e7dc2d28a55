/**
 * The checker's findings at the head, as a review reports them: judged by the base's rules (a change
 * may not weaken them) and against every committed version the review knows (`stale-mac`); new ones
 * (the base did not have the problem) and those about a secret the change touched, worded for the
 * reader, with their fix made safe where the change gave someone a way in. Pure.
 */
import { checkWorkspace } from "../check.js";
import type { Diagnostic } from "../diagnostics.js";
import type { WorkspaceIndex } from "../workspace.js";
import { matchBaseline } from "./baseline.js";
import { ruleMemberProblems } from "./sops-config-findings.js";
import type { ReviewContext } from "./context.js";
import type { EnvironmentReview, ReviewDiagnostic, ReviewProblem } from "./report.js";
import type { ReviewState } from "./state.js";
import { keysNamed, listed } from "./words.js";

/** What the review found before the checker's findings, which they are told against. */
export interface EarlierFindings {
  /** Every problem so far (a checker error that repeats one is left out). */
  problems: readonly ReviewProblem[];
  environments: readonly EnvironmentReview[];
  /** The secrets the change added, changed or removed: their diagnostics are reported even when not new. */
  changedNames: ReadonlySet<string>;
  /** Per environment the change gave someone a way in, the safe fix ({@link withSafeFix}). */
  introducedFix: ReadonlyMap<string, string>;
  /** The head loaded within the base's config scope, when the change narrowed it. */
  widened: WorkspaceIndex | undefined;
  /** The `.sops.yaml` links above the root out of the repository already reported. */
  outsideLinks: ReadonlySet<string>;
}

/**
 * The head's checker diagnostics (`diagnostics`, each `new` or not), the `checker-error` and
 * `plaintext` problems among the new errors (`problems`), and how many new errors there are.
 */
export function checkerFindings(ctx: ReviewContext, earlier: EarlierFindings): { diagnostics: ReviewDiagnostic[]; problems: ReviewProblem[]; newErrors: number } {
  const { base, head, renamed, inputs, baseConfig, headConfig, reword, whoWasEarlier } = ctx;
  const { problems, environments, changedNames, introducedFix, widened, outsideLinks } = earlier;
  const baseUsable = base.index !== undefined && base.index.projectUsable && baseConfig !== undefined;
  const newProblems: ReviewProblem[] = [];
  let newErrors = 0;
  // stale-mac: the head's environment files against the base's version (under its old name when moved) and the other committed versions given
  // the base's file of the same environment too, wherever it was: git's rename detection is a
  // heuristic (a limit, a similarity threshold), a moved secrets folder must not depend on it
  const headEnvironmentOf = new Map([...(head.index?.environmentFiles.values() ?? [])].map((f) => [f.path, f.environment] as const));
  const baseFileOf = (rel: string): string | undefined => {
    const environment = headEnvironmentOf.get(rel);
    const path = environment === undefined ? undefined : base.index?.environmentFiles.get(environment)?.path;
    return path === undefined || path === rel || path === renamed.get(rel) ? undefined : path;
  };
  const readers = [
    (rel: string) => base.readText(renamed.get(rel) ?? rel),
    (rel: string) => {
      const path = baseFileOf(rel);
      return path === undefined ? undefined : base.readText(path);
    },
    ...(inputs.committedAlso ?? []),
  ];
  // and the earlier versions of the base's history: a `mac` and `lastmodified` pasted from any of them
  // over other values (an entry deleted, two values swapped) is a hand edit as much as the base's
  const history = (rel: string): string[] =>
    [...new Set([rel, renamed.get(rel), baseFileOf(rel)])].flatMap((p) => (p === undefined ? [] : (inputs.earlierVersions?.get(p) ?? []).map((v) => v.text)));
  const committed = (rel: string): string[] | undefined => {
    const texts = [...new Set([...readers.map((read) => read(rel)).filter((t): t is string => typeof t === "string"), ...history(rel)])];
    return texts.length === 0 ? undefined : texts;
  };
  const headDiagnostics = baseUsable
    ? widened !== undefined
      ? checkWorkspace(widened, { rules: baseConfig.rules, committed })
      : head.checkWith(baseConfig.rules, { committed })
    : head.index === undefined
      ? head.diagnostics
      : head.checkWith(head.index.project.rules, { committed });
  // the checker's recipient-drift on a file already reported as a non-member or a re-wrap is the same finding
  const nonMemberFiles = new Set(problems.filter((p) => p.kind === "non-member-recipient" || p.kind === "rewrapped-without-rotation").map((p) => p.file));

  // a key the head's checker calls "not a member of any environment" that a member of the base had: say whose it was
  const formerMembers = new Map<string, string>();
  for (const e of baseConfig?.environments ?? []) {
    for (const m of e.members) if (!(headConfig?.environments ?? []).some((h) => h.members.some((x) => x.recipient === m.recipient))) formerMembers.set(m.recipient, m.name);
  }
  const namedFormerMembers = (message: string): string => {
    let out = message;
    for (const [key, name] of formerMembers) out = out.split(`${key} (not a member of any environment)`).join(`${key} (${name}'s key: a member in the base, in no environment now)`);
    // a key removed before the base: the name an earlier stellar.yaml gave it
    for (const [, key] of out.matchAll(/(age1[0-9a-z]+|ssh-ed25519 [A-Za-z0-9+/=]+) \(not a member of any environment\)/g)) {
      const name = key === undefined ? undefined : whoWasEarlier(key);
      if (name !== undefined) out = out.split(`${key} (not a member of any environment)`).join(`${key} (${name}'s key in an earlier stellar.yaml, in no environment now)`);
    }
    return out;
  };
  // checker diagnostics at head: new ones (the base did not have the problem: matchBaseline), and those about a changed secret or file
  const fixed = headDiagnostics.map((found) => withSafeFix(found, introducedFix));
  const inBase = matchBaseline(base, { diagnostics: fixed, readText: (rel) => head.readText(rel) }, renamed);
  const diagnostics: ReviewDiagnostic[] = [];
  const seenProblems = new Set(problems.filter((p) => p.kind === "plaintext").map((p) => `${p.file}\u0000${p.message}`));
  for (const [i, found] of fixed.entries()) {
    const d = addedToSopsRule(found, base);
    // the base's checker reads no committed version, so it has no stale-mac: a file this change left
    // byte for byte as the base had it was just as stale there (a hand merge on main is not a branch's)
    const unchangedStale = d.rule === "stale-mac" && typeof head.readText(d.file) === "string" && head.readText(d.file) === base.readText(renamed.get(d.file) ?? d.file);
    const isNew = inBase[i] !== true && !unchangedStale;
    if (!isNew && !(d.secret !== undefined && changedNames.has(d.secret))) continue;
    // the checker's one-state reading of .gitattributes, at a line this review already reports as the change that made it
    if (d.rule === "git-attributes" && problems.some((p) => p.kind === "weakened-rule" && p.file === d.file && p.line === d.line)) continue;
    // worded for the reader once its fix is settled (rewordMessage leaves the fix, worded at the source, as it is)
    const message = namedFormerMembers(reword(d.message, d.file));
    diagnostics.push({ ...d, message, new: isNew });
    if (!isNew || d.severity !== "error") continue;
    newErrors++;
    if (seenProblems.has(`${d.file}\u0000${message}`)) continue;
    if (d.rule === "recipient-drift" && nonMemberFiles.has(d.file)) continue; // already a non-member-recipient problem
    // the working tree's checker refusing a .sops.yaml link out of the repository (sopsLinkOutside) that this review names as weakened-rule
    if (d.rule === "sops-config-drift" && d.line === 1 && outsideLinks.has(d.file)) continue;
    // the checker's reading of the key groups, at the line this review reports as key-groups-change
    if (d.rule === "recipient-drift" && problems.some((p) => p.kind === "key-groups-change" && p.file === d.file && p.line === d.line)) continue;
    // the checker's reading of a .sops.yaml rule whose key groups this review reports as changed (at the same rule)
    // (not one that says the change took members out of the rule: a key the rule now names is another finding)
    if (d.rule === "sops-config-drift" && problems.some((p) => (p.kind === "key-groups-change" || p.kind === "weakened-rule") && !ruleMemberProblems.has(p) && p.file === d.file && p.line === d.line)) continue;
    // a reference left behind by a removal in this change: its checker fix ("create it with set") is not what the reviewer asks for
    const removedFrom = d.secret === undefined || !REFERENCE_RULES.has(d.rule) ? [] : environments.filter((e) => e.secrets.some((s) => s.name === d.secret && s.change === "removed")).map((e) => e.environment);
    const because = removedFrom.length === 0 ? "" : ` (this change removes ${d.secret} from ${listed(removedFrom)}: keep it there, or remove this reference in the same change)`;
    newProblems.push({ kind: PLAINTEXT_RULES.has(d.rule) ? "plaintext" : "checker-error", file: d.file, line: d.line, message: `${d.rule}: ${message}${because}` });
  }
  return { diagnostics, problems: newProblems, newErrors };
}

/** Checker rules whose error is a value in plain text: reported as `plaintext`. */
const PLAINTEXT_RULES = new Set(["unencrypted-secrets-file", "plaintext-credential"]);

/** Checker rules about a reference whose secret has no value where it is used. */
const REFERENCE_RULES: ReadonlySet<string> = new Set(["unknown-secret", "missing-environment-value"]);

/** The generic hint of `sops-config-drift` for keys a creation rule names that are no members (sops-config.ts). */
const SOPS_RULE_EXTRA_HINT = /; if a change added them there, revert it \(never make them members to silence this\); otherwise \(e\.g\. they were removed as members\), (.*)$/s;

/**
 * A `sops-config-drift` error about keys a `.sops.yaml` creation rule names that are no members,
 * worded for a review, which knows the base: the keys the base's version of that file did not name
 * were added by this change, and it says so ("this change added them there: revert that") instead of
 * the checker's "if a change added them there". Any other diagnostic, or one whose keys the base's
 * file named too (a member removed, the rule left behind), is returned as it is.
 */
function addedToSopsRule<D extends Diagnostic>(d: D, base: ReviewState): D {
  if (d.rule !== "sops-config-drift" || d.severity !== "error") return d;
  const hint = SOPS_RULE_EXTRA_HINT.exec(d.message);
  if (hint === null) return d;
  const baseText = base.readText(d.file);
  const named = keysNamed(d.message.slice(0, hint.index));
  const added = named.filter((k) => typeof baseText !== "string" || !baseText.includes(k));
  if (added.length === 0) return d;
  const head = d.message.slice(0, hint.index);
  const revert = `revert that in ${d.file} (never make them members to silence this)`;
  const message =
    added.length === named.length
      ? `${head}; this change added them there: ${revert}`
      : `${head}; this change added ${added.join(", ")} there: ${revert}; for the others (e.g. they were removed as members), ${hint[1]}`;
  return { ...d, message };
}

/**
 * A checker diagnostic whose fix would wrap a data key (`rotate-key --env ENV`, `members add`) in an
 * environment this change gave someone a way in: its fix is replaced by `fixes`' (revert, or an
 * existing member rotates on a branch without what the change added), so no hint completes the change.
 */
function withSafeFix<D extends Diagnostic>(d: D, fixes: ReadonlyMap<string, string>): D {
  for (const [environment, fix] of fixes) {
    if (!d.message.includes(`rotate-key --env ${environment}\``) && !/`stellar-secrets members add /.test(d.message)) continue;
    if (!d.message.includes(environment)) continue;
    const cut = d.message.indexOf("; ");
    const diagnosis = cut === -1 ? d.message : d.message.slice(0, cut);
    return { ...d, message: `${diagnosis}; this change gave someone a way into ${environment}, so do not re-key it on this change: ${fix}` };
  }
  return d;
}
