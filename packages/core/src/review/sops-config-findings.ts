/**
 * The `.sops.yaml` files plain sops reads, changed by a change: one made a symbolic link, a
 * creation rule whose key groups change, one above the project root (its errors, a link out of the
 * repository), and a `stellar.yaml` new above the root that makes a project containing this one.
 * stellar-secrets writes none of these but the project's own `.sops.yaml`, and plain sops encrypts
 * for whoever they name. Pure.
 */
import { normalizeRecipient, normalizeSecretsDir } from "@stellar-secrets/sops";
import { posix } from "node:path";
import type { Diagnostic } from "../diagnostics.js";
import { PROJECT_FILE } from "../project.js";
import { checkSopsConfigs, SOPS_CONFIG_FILE, sopsConfigCandidates } from "../sops-config.js";
import type { ReviewContext } from "./context.js";
import { pathOpenedAs } from "./paths.js";
import { listed } from "./words.js";
import type { ReviewProblem } from "./report.js";
import { sopsRuleGroupsChanges, sopsRuleMembersDropped } from "./sops-rules.js";

/** A `.sops.yaml` replaced by a symbolic link. */
export function sopsConfigLinkProblems(ctx: ReviewContext): ReviewProblem[] {
  const { base, inputs, headConfig, w } = ctx;
  const problems: ReviewProblem[] = [];
  // a `.sops.yaml` replaced by a symbolic link: git stores the link, so no state (and no
  // sops-config-drift) has that file, while the plain sops CLI of every checkout reads the link's
  // target and encrypts new files for whoever its creation rules name, unchecked
  if (headConfig !== undefined && inputs.headLinks !== undefined && inputs.headLinks.size > 0) {
    for (const rel of sopsConfigCandidates(headConfig.secretsDir)) {
      const target = inputs.headLinks.get(rel);
      if (target === undefined) continue;
      const baseRev = base.commit === undefined ? "BASE" : base.commit.slice(0, 10);
      const fix =
        base.readText(rel) === undefined || base.readText(rel) === null
          ? `remove the link (\`git rm ${w.shellPath(rel)}\`): the next \`${w.command("stellar-secrets members add")}\` or \`members rm\` writes ${w.path(SOPS_CONFIG_FILE)} anew from ${w.path(PROJECT_FILE)}`
          : `remove the link and restore the file (\`git rm ${w.shellPath(rel)} && git checkout ${baseRev} -- ${w.shellPath(rel)}\`), never a link`;
      problems.push({
        kind: "weakened-rule",
        file: rel,
        message:
          `${w.path(rel)} is a symbolic link to ${target}: check and this review read no ${w.path(SOPS_CONFIG_FILE)} there (git stores the link, not a file), ` +
          `but the plain sops CLI of a checkout reads the file it points to and encrypts the secrets files for whoever its creation rules name, recipients no check has compared with ${w.path(PROJECT_FILE)}'s members; ` +
          fix,
      });
    }
  }
  return problems;
}

/** A `.sops.yaml` creation rule whose key groups change: `weakened-rule` when fewer keys decrypt, else `key-groups-change`. */
export function sopsRuleGroupsProblems(ctx: ReviewContext): ReviewProblem[] {
  const { base, head, headConfig, w } = ctx;
  const problems: ReviewProblem[] = [];
  // a .sops.yaml creation rule whose key groups change (a threshold lowered, groups made one flat list, a
  // key copied into another group): the checker reads a rule's keys as one set, so only the groups show it
  if (headConfig !== undefined) {
    const memberName = (recipient: string): string | undefined =>
      headConfig.environments.flatMap((e) => e.members).find((m) => normalizeRecipient(m.recipient) === normalizeRecipient(recipient))?.name;
    for (const rel of sopsConfigCandidates(headConfig.secretsDir)) {
      const was = base.readText(rel);
      const now = head.readText(rel);
      if (typeof was !== "string" || typeof now !== "string" || was === now) continue;
      for (const c of sopsRuleGroupsChanges(rel, was, now, headConfig, memberName)) {
        const baseRev = base.commit === undefined ? "BASE" : base.commit.slice(0, 10);
        problems.push({
          kind: c.weaker ? "weakened-rule" : "key-groups-change",
          environment: c.environment,
          file: rel,
          line: c.line,
          message:
            `${w.path(rel)}: the creation rule the plain sops CLI uses for the ${c.environment} file changes its key groups (Shamir secret sharing), for every file sops creates or updates (\`sops updatekeys\`) under it, ` +
            `from ${c.before} to ${c.after}${c.weaker ? ": fewer keys together decrypt such a file now" : ""}; a keyless review cannot tell whether the team agreed to this: ` +
            `revert the change to ${w.path(rel)} (\`git checkout ${baseRev} -- ${w.shellPath(rel)}\`), or make sure it is meant before merging`,
        });
      }
    }
  }
  return problems;
}

/** The problems {@link sopsRuleMemberProblems} made: the checker's sops-config-drift at the same rule is another finding, never folded into them. */
export const ruleMemberProblems = new WeakSet<ReviewProblem>();

/**
 * A `.sops.yaml` change that takes members out of the creation rule the plain sops CLI uses for an
 * environment's file (`weakened-rule`): the rule no longer names them, another rule now comes first
 * (a catch-all), or no rule matches the file any more. The checker calls such a rule a warning (a
 * state may be between two steps); a change that makes it is one the team would only notice when
 * `sops updatekeys` drops the members' stanzas, or refuses the file. Compared with the `.sops.yaml`
 * plain sops found in the base from the same folder (the same file, or one above it for a new one).
 */
export function sopsRuleMemberProblems(ctx: ReviewContext): ReviewProblem[] {
  const { base, head, headConfig, w } = ctx;
  const problems: ReviewProblem[] = [];
  if (headConfig === undefined) return problems;
  const candidates = sopsConfigCandidates(headConfig.secretsDir);
  for (const [i, rel] of candidates.entries()) {
    const now = head.readText(rel);
    if (typeof now !== "string") continue;
    // what plain sops run from this file's folder found in the base: this file, else the nearest one above it
    let basePath: string | undefined;
    let was: string | undefined;
    for (let j = i; j >= 0 && was === undefined; j--) {
      const text = base.readText(candidates[j]!);
      if (typeof text === "string") [basePath, was] = [candidates[j]!, text];
    }
    if (was === undefined || basePath === undefined || (basePath === rel && was === now)) continue;
    const baseRev = base.commit === undefined ? "BASE" : base.commit.slice(0, 10);
    for (const c of sopsRuleMembersDropped(rel, was, basePath, now, headConfig)) {
      const who = c.dropped.map((m) => `${m.name} (${m.recipient})`);
      const what =
        c.rule === undefined
          ? `no creation rule of ${w.path(rel)} matches ${w.path(c.file)} any more, while the base's${basePath === rel ? "" : ` ${w.path(basePath)}`} rule ${c.baseRule === 0 ? "" : `(line ${c.baseRule}) `}named ${listed(who)}: the plain sops CLI refuses to update or create that file ("no matching creation rules found"), and \`${w.command("stellar-secrets rotate-key")}\` cannot put the rule back in step`
          : `creation rule ${c.rule.index} of ${w.path(rel)}, which the plain sops CLI now uses for ${w.path(c.file)}, does not name ${listed(who)}, ${c.dropped.length === 1 ? "a member" : "members"} of ${c.environment} whom the base's${basePath === rel ? "" : ` ${w.path(basePath)}`} rule named: the next \`sops updatekeys\` of that file (or a file sops creates there) is encrypted without them, so ${c.dropped.length === 1 ? "that member" : "those members"} can no longer decrypt it`;
      const fix = basePath === rel ? `revert the change to ${w.path(rel)} (\`git checkout ${baseRev} -- ${w.shellPath(rel)}\`)` : `remove ${w.path(rel)} (\`git rm ${w.shellPath(rel)}\`), or make its rule for ${w.path(c.file)} name ${c.environment}'s members`;
      const problem: ReviewProblem = {
        kind: "weakened-rule",
        environment: c.environment,
        file: rel,
        line: c.line,
        message: `${w.path(rel)}: ${what}; stellar.yaml still has ${c.dropped.length === 1 ? "that member" : "them"} in ${c.environment}, so this takes access away at the next write by plain sops, which check only warns about (sops-config-drift) and which no later review sees as a change: ${fix}`,
      };
      ruleMemberProblems.add(problem);
      problems.push(problem);
    }
  }
  return problems;
}

/** A `.sops.yaml` above the project root with new errors (`non-member-recipient`). */
export function aboveRootSopsProblems(ctx: ReviewContext): ReviewProblem[] {
  const { inputs, headConfig, w } = ctx;
  const problems: ReviewProblem[] = [];
  // a .sops.yaml in a folder above the project root (a project in a subfolder of its repository):
  // plain sops run from that folder (`sops updatekeys infra/secrets/production.enc.yaml` at the top)
  // finds it first and encrypts the project's files for whoever its creation rules name; neither
  // check nor stellar-secrets reads or writes it (a nested project's are its enclosing project's)
  if (headConfig !== undefined && inputs.aboveRoot !== undefined && inputs.aboveRoot.prefix !== "" && inputs.folder === undefined) {
    const { prefix } = inputs.aboveRoot;
    const errorsOf = (texts: ReadonlyMap<string, string>): Diagnostic[] => {
      // each folder's file sops opens as .sops.yaml (a case variant too: a case-insensitive checkout opens it by the name)
      const configs = new Map([...texts].filter(([rel]) => pathOpenedAs(texts.keys(), `${rel.slice(0, rel.lastIndexOf("/") + 1)}${SOPS_CONFIG_FILE}`) === rel));
      if (configs.size === 0) return [];
      return checkSopsConfigs({ environments: headConfig.environments, secretsDir: `${prefix}/${normalizeSecretsDir(headConfig.secretsDir)}` }, configs).filter((d) => d.severity === "error");
    };
    const before = new Set(errorsOf(inputs.aboveRoot.base).map((d) => `${d.file}\n${d.message}`));
    for (const d of errorsOf(inputs.aboveRoot.head)) {
      if (before.has(`${d.file}\n${d.message}`)) continue;
      const file = posix.relative(prefix, d.file);
      problems.push({
        kind: "non-member-recipient",
        file,
        line: d.line,
        message:
          `${w.path(file)} is above the project root, and plain sops run from ${posix.dirname(d.file) === "." ? "the top of the work tree" : `${posix.dirname(d.file)} (from the top of the work tree)`} (or a folder below it without a ${w.path(SOPS_CONFIG_FILE)} of its own) uses it for the project's files (paths from the top of the work tree): ${d.message}; ` +
          `stellar-secrets neither reads nor writes that file: revert the change to it, or delete it`,
      });
    }
  }
  return problems;
}

/** A `.sops.yaml` above the root made a symbolic link out of the repository (`outsideLinks`: their project-relative paths). */
export function aboveRootLinkProblems(ctx: ReviewContext): { problems: ReviewProblem[]; outsideLinks: Set<string> } {
  const { inputs, headConfig, w } = ctx;
  const problems: ReviewProblem[] = [];
  // a .sops.yaml above the root made a symbolic link out of the repository: each clone's plain sops
  // reads a file of its own there, which no review sees (check and the pre-commit hook refuse it)
  const outsideLinks = new Set<string>();
  if (headConfig !== undefined && inputs.aboveRoot !== undefined && inputs.aboveRoot.prefix !== "" && inputs.folder === undefined) {
    const { prefix, baseOutside, headOutside } = inputs.aboveRoot;
    for (const [rel, target] of headOutside ?? []) {
      if (baseOutside?.get(rel) === target) continue;
      const file = posix.relative(prefix, rel);
      outsideLinks.add(file);
      problems.push({
        kind: "weakened-rule",
        file,
        message:
          `${w.path(file)} is above the project root and a symbolic link to ${target}, outside the repository: plain sops run there follows it to a file git does not hold (each clone its own, which this review cannot read) and encrypts the project's files for whoever it names; ` +
          `check and the pre-commit hook refuse it: replace the link with the file itself, or delete it`,
      });
    }
  }
  return { problems, outsideLinks };
}

/** A `stellar.yaml` new in a folder above the project root. */
export function aboveRootProjectProblems(ctx: ReviewContext): ReviewProblem[] {
  const { inputs, headConfig, w } = ctx;
  const problems: ReviewProblem[] = [];
  // a stellar.yaml new in a folder above the project root: stellar-secrets run from there (or from
  // anywhere outside this project's folder) finds it first and takes this folder as part of that
  // project (its members, secrets_dir and rules; its secrets_dir may name this project's files),
  // and this review, of this project, reads none of it
  if (inputs.aboveRoot !== undefined && inputs.aboveRoot.prefix !== "" && inputs.folder === undefined && headConfig !== undefined) {
    const { prefix } = inputs.aboveRoot;
    for (const [rel] of inputs.aboveRoot.head) {
      if (!(rel === PROJECT_FILE || rel.endsWith(`/${PROJECT_FILE}`)) || inputs.aboveRoot.base.has(rel)) continue;
      const file = posix.relative(prefix, rel);
      problems.push({
        kind: "weakened-rule",
        file,
        line: 1,
        message:
          `${w.path(file)} is new above the project root: it makes ${posix.dirname(rel) === "." ? "the top of the repository" : `${posix.dirname(rel)}/`} a project that contains this one, so \`stellar-secrets\` run there (or anywhere outside this project's folder) ` +
          `reads its members, secrets_dir and rules instead of ${w.path(PROJECT_FILE)}'s, and encrypts for its members whatever files its secrets_dir names, while this review reads none of it; ` +
          `delete ${w.path(file)}, or, if that project is meant to be, make that change on its own, reviewed separately`,
      });
    }
  }
  return problems;
}
