/**
 * What an encrypted change does, told without keys (for `review`): per environment, the secrets
 * added, changed and removed (a value changed exactly when its ENC string changed, since values
 * are stored with stable ciphertext), a data-key rotation, the members and the age recipients
 * that gained or lost access, and the checker diagnostics the change introduces or that concern
 * the changed secrets. Pure: two {@link ReviewState}s in, a {@link ReviewReport} out. Never
 * reads, prints or fingerprints a plaintext value.
 *
 * This file puts the findings together in the order the report lists them; each kind is told in a
 * file of its own: one environment (environment.ts, with access.ts, key-groups-review.ts and
 * key-history.ts), the range's commits (range-findings.ts), stellar.yaml and the catalog
 * (config-findings.ts), secret names that read as others (secret-names.ts), programs members and CI run (program-findings.ts), what git holds in place
 * of a file (tree-findings.ts), the `.sops.yaml` files plain sops reads (sops-config-findings.ts),
 * `.gitattributes` (attribute-findings.ts), the checker's (checker-findings.ts) and the signatures
 * (signatures.ts). What every one of them reads is the review's context (context.ts).
 */
import { parseProjectConfig, PROJECT_FILE } from "../project.js";
import { diffProposals } from "../proposals.js";
import { SOPS_CONFIG_FILE } from "../sops-config.js";
import { attributeProblems } from "./attribute-findings.js";
import { checkerFindings } from "./checker-findings.js";
import { destinationProblems, lookAlikeEnvironmentProblems, weakenedConfigProblems } from "./config-findings.js";
import { reviewContext } from "./context.js";
import { reviewEnvironment } from "./environment.js";
import { devContainerFileProblems, editorSettingsProblems, gateProblems, hookScriptProblems } from "./program-findings.js";
import { rangeProblems } from "./range-findings.js";
import { diffReferences, type ReferenceChange } from "./references.js";
import { secretCounts, type EnvironmentReview, type ReviewCause, type ReviewInputs, type ReviewProblem, type ReviewReport } from "./report.js";
import { reviewSignatures } from "./signatures.js";
import { lookAlikeSecretProblems } from "./secret-names.js";
import { aboveRootLinkProblems, aboveRootProjectProblems, aboveRootSopsProblems, sopsConfigLinkProblems, sopsRuleGroupsProblems, sopsRuleMemberProblems } from "./sops-config-findings.js";
import type { ReviewState } from "./state.js";
import { defaultFolderProblems, environmentLinkProblems, foldedStandInProblems, pathCollisionProblems, submoduleProblems } from "./tree-findings.js";
import type { FindingWording } from "./wording.js";
import { counted, keysNamed, shortKey } from "./words.js";

/**
 * Compares `base` with `head`. `renamed` maps a head path to the base path it was moved from
 * (git's rename detection), so that a diagnostic of a moved file is not counted as new.
 * `inputs.signatures` adds the `unsigned-change` findings ({@link reviewSignatures}).
 */
export function buildReview(base: ReviewState, head: ReviewState, renamed: ReadonlyMap<string, string> = new Map(), inputs: ReviewInputs = {}): ReviewReport {
  const ctx = reviewContext(base, head, renamed, inputs);
  const { baseConfig, headConfig, w } = ctx;
  const names: string[] = [];
  const addName = (n: string): void => {
    if (!names.includes(n)) names.push(n);
  };
  for (const e of headConfig?.environments ?? []) addName(e.name);
  for (const e of baseConfig?.environments ?? []) addName(e.name);
  for (const n of [...(head.index?.environmentFiles.keys() ?? []), ...(base.index?.environmentFiles.keys() ?? [])].sort()) addName(n);

  const environments: EnvironmentReview[] = [];
  const problems: ReviewProblem[] = [];
  const changedNames = new Set<string>();
  const summary = { added: 0, changed: 0, removed: 0, secretsAdded: 0, secretsChanged: 0, secretsRemoved: 0, reencrypted: 0, accessChanges: 0, newErrors: 0, problems: 0, warnings: 0 };
  // the problems of a member removed from stellar.yaml by hand whose key still opens the file: one cause, told once
  const removedByHand = new Map<ReviewProblem, { member: string; recipient: string }>();

  // per environment, the safe fix when this change gave someone a way in (the checker's hints would say rotate-key)
  const introducedFix = new Map<string, string>();
  for (const environment of names) {
    const outcome = reviewEnvironment(ctx, environment);
    summary.added += outcome.counts.added;
    summary.changed += outcome.counts.changed;
    summary.removed += outcome.counts.removed;
    if (outcome.reencryptedAll) summary.reencrypted++;
    summary.accessChanges += outcome.accessChanges;
    for (const name of outcome.changedNames) changedNames.add(name);
    for (const [problem, who] of outcome.removedByHand) removedByHand.set(problem, who);
    if (outcome.introducedFix !== undefined) introducedFix.set(environment, outcome.introducedFix);
    if (outcome.review !== undefined) environments.push(outcome.review);
    problems.push(...outcome.problems);
  }

  // a value in clear text in a commit of the range (then encrypted or removed again): the merged
  // history holds it whatever the head says, and every clone of it
  problems.push(...rangeProblems(ctx));
  // a change may not weaken the rules that judge it: report it, and judge it by the base's severities
  const config = weakenedConfigProblems(ctx);
  problems.push(...config.problems, ...lookAlikeEnvironmentProblems(ctx));
  // a secret name that reads as another's: a problem of its environment's file, listed with it
  for (const p of lookAlikeSecretProblems(ctx)) {
    problems.push(p);
    environments.find((e) => e.environment === p.environment)?.problems.push(p);
  }
  // the workflow that gates pull requests, and the editor settings a repository commits
  problems.push(...gateProblems(ctx), ...editorSettingsProblems(ctx), ...hookScriptProblems(ctx), ...devContainerFileProblems(ctx));
  problems.push(...pathCollisionProblems(ctx), ...foldedStandInProblems(ctx), ...environmentLinkProblems(ctx));
  problems.push(...sopsConfigLinkProblems(ctx), ...sopsRuleGroupsProblems(ctx), ...sopsRuleMemberProblems(ctx), ...aboveRootSopsProblems(ctx));
  const outside = aboveRootLinkProblems(ctx);
  problems.push(...outside.problems, ...aboveRootProjectProblems(ctx), ...submoduleProblems(ctx));
  const attributes = attributeProblems(ctx);
  problems.push(...attributes.problems, ...defaultFolderProblems(ctx), ...destinationProblems(ctx));
  const checked = checkerFindings(ctx, { problems, environments, changedNames, introducedFix, widened: config.widened, outsideLinks: outside.outsideLinks });
  const { diagnostics } = checked;
  summary.newErrors += checked.newErrors;
  problems.push(...checked.problems);
  // commits that change an environment without a signature of one of its members (in the base)
  const target = inputs.target === undefined ? undefined : { label: inputs.target.label, commit: inputs.target.commit, config: typeof inputs.target.projectText === "string" ? parseProjectConfig(inputs.target.projectText, PROJECT_FILE).config : undefined };
  const signed = reviewSignatures(base, inputs.signatures, w, target);
  for (const p of signed.problems) {
    problems.push(p);
    environments.find((e) => e.environment === p.environment)?.problems.push(p);
  }
  summary.problems = problems.length;
  Object.assign(summary, secretCounts(environments));
  const causes = removedByHandCauses(problems, removedByHand, w);
  const warnings = [...attributes.warnings, ...signed.warnings];
  summary.warnings = warnings.length;
  const references = diffReferences(base.index?.allReferences() ?? [], head.index?.allReferences() ?? [], renamed);
  return {
    base: { label: base.label, commit: base.commit ?? null },
    head: { label: head.label, commit: head.commit ?? null },
    environments,
    diagnostics,
    problems,
    warnings,
    signatures: signed.signatures,
    summary,
    ...(causes.length === 0 ? {} : { causes }),
    clean: problems.length === 0,
    proposals: diffProposals(base.index?.proposalFiles, head.index?.proposalFiles),
    references,
    configEdited: editedConfigOf(base, head, renamed, environments, references),
  };
}

/**
 * Distinct secret names added, changed and removed over `environments` (a secret added to two
 * environments counts once), for {@link ReviewReport.summary}.
 */

/**
 * One cause per member removed from stellar.yaml by hand whose key still opens files
 * (`removedByHand`: their non-member-recipient problems), when it explains more than one problem:
 * those problems and the checker errors that name the same key and no other (`sops-config-drift` in
 * `.sops.yaml`, `recipient-drift`) get its id as their {@link ReviewProblem.cause}. A checker error that
 * names another key too (one this change added to the same creation rule) stays a problem of its own.
 */
function removedByHandCauses(problems: readonly ReviewProblem[], removedByHand: ReadonlyMap<ReviewProblem, { member: string; recipient: string }>, w: FindingWording): ReviewCause[] {
  const byKey = new Map<string, { member: string; recipient: string; problems: ReviewProblem[] }>();
  for (const [p, who] of removedByHand) {
    const entry = byKey.get(who.recipient) ?? { ...who, problems: [] };
    entry.problems.push(p);
    byKey.set(who.recipient, entry);
  }
  const causes: ReviewCause[] = [];
  for (const { member, recipient, problems: own } of byKey.values()) {
    // only a finding that names no key but theirs: one that also names another (a key this change added to the
    // same creation rule, a member the file is not encrypted for) is a problem of its own, never told under this cause
    const drift = problems.filter(
      (p) => p.kind === "checker-error" && p.cause === undefined && /^(sops-config-drift|recipient-drift): /.test(p.message) && keysNamed(p.message).every((k) => k === recipient) && keysNamed(p.message).length > 0,
    );
    const all = problems.filter((p) => own.includes(p) || drift.includes(p));
    if (all.length < 2) continue;
    const id = `member-removed-by-hand:${member}`;
    for (const p of all) p.cause = id;
    const environments = own.map((p) => p.environment as string);
    const envFiles = [...new Set(own.map((p) => p.file as string))];
    const files = [...new Set(all.map((p) => p.file).filter((f): f is string => f !== undefined))];
    const sopsRules = drift.filter((p) => p.message.startsWith("sops-config-drift: ")).length;
    const rotate = environments.map((e) => `\`${w.command(`stellar-secrets rotate-key --env ${e}`)}\``);
    causes.push({
      id,
      kind: "member-removed-by-hand",
      member,
      recipient,
      environments,
      files,
      problems: all.length,
      message:
        `${member} (${shortKey(recipient)}) was removed from ${w.path(PROJECT_FILE)} by editing it, but their key still opens ${counted(envFiles.length, "file")} (${envFiles.map((f) => w.path(f)).join(", ")})` +
        (sopsRules === 0 ? "" : ` and ${counted(sopsRules, "creation rule")} of ${w.path(SOPS_CONFIG_FILE)} still ${sopsRules === 1 ? "names" : "name"} it`) +
        `: ${counted(all.length, "problem")} with one cause; fix: put ${member} back in ${w.path(PROJECT_FILE)} and run \`${w.command(`stellar-secrets members rm ${member}`)}\` ` +
        `(it re-keys each file without them and rewrites ${w.path(SOPS_CONFIG_FILE)}), or have an existing member run ${rotate.join(", ")}; then change at their providers the values ${member} could read`,
    });
  }
  return causes;
}

/** {@link ReviewReport.configEdited}: the head's config files that differ from their base version and reference a secret set anew. */
function editedConfigOf(
  base: ReviewState,
  head: ReviewState,
  renamed: ReadonlyMap<string, string>,
  environments: readonly EnvironmentReview[],
  references: readonly ReferenceChange[],
): { file: string; secrets: string[] }[] {
  const setAnew = new Set(environments.flatMap((e) => e.secrets.filter((s) => s.change !== "removed").map((s) => s.name)));
  if (setAnew.size === 0 || head.index === undefined) return [];
  // a reference the change adds is listed as such already (a rename's moved one too)
  const listed = new Set(references.filter((r) => r.change === "added").map((r) => `${r.file}\u0000${r.secret}`));
  const byFile = new Map<string, Set<string>>();
  for (const r of head.index.allReferences()) {
    if (!setAnew.has(r.secret) || listed.has(`${r.file}\u0000${r.secret}`)) continue;
    const before = base.readText(renamed.get(r.file) ?? r.file);
    if (before === undefined || before === head.readText(r.file)) continue;
    const names = byFile.get(r.file) ?? new Set<string>();
    names.add(r.secret);
    byFile.set(r.file, names);
  }
  return [...byFile].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([file, names]) => ({ file, secrets: [...names].sort() }));
}
