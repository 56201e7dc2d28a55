/**
 * Changes of the `key_groups` of a `.sops.yaml` creation rule (sops Shamir secret sharing), as
 * review reports them. The checker's `sops-config-drift` reads a rule's recipients as one set (every
 * group's `age` together), so a change that keeps the set but not the groups was invisible: a
 * `shamir_threshold` lowered, a key_groups rule turned into one flat `age:` list, a member's key
 * copied into a second group. Each is what the plain sops CLI then does with every file it creates
 * or updates (`sops updatekeys`) under the rule: fewer (or other) keys together decrypt it. Pure:
 * two versions of one `.sops.yaml` in, findings out.
 */
import { environmentFileName, normalizeRecipient, normalizeSecretsDir } from "@stellar-secrets/sops";
import type { ProjectConfig } from "../project.js";
import { matchSopsRule, parseSopsConfig, sameKeyAsWritten, type SopsCreationRule } from "../sops-config.js";

/** One rule change for one environment file: `weaker` when fewer groups of keys are needed together. */
export interface SopsRuleGroupsChange {
  environment: string;
  /** The `.sops.yaml`, relative to the project root. */
  file: string;
  /** 1-based line of the head rule's `key_groups` (or `age`) key. */
  line: number | undefined;
  weaker: boolean;
  /** What the rule was and is, in words (`3 key groups, any 2 of which decrypt (…)`). */
  before: string;
  after: string;
}

/** How a rule splits a new file's data key: its groups (a flat rule: one group) and how many are needed. */
function shapeOf(rule: SopsCreationRule | undefined): { groups: string[][]; needed: number; flat: boolean } | undefined {
  if (rule === undefined) return undefined;
  if (!rule.keyGroups) return { groups: [[...rule.age, ...rule.otherKeys]], needed: 1, flat: true };
  const groups = (rule.groups ?? []).filter((g) => g.length > 0);
  // sops splits for every group when the rule writes no threshold (or 0); one group is no split
  const needed = groups.length <= 1 ? 1 : Math.min(rule.shamirThreshold ?? groups.length, groups.length);
  return { groups, needed, flat: false };
}

function sameShape(a: ReturnType<typeof shapeOf>, b: ReturnType<typeof shapeOf>): boolean {
  const key = (s: ReturnType<typeof shapeOf>) => (s === undefined ? "" : JSON.stringify([s.needed, s.groups.map((g) => [...new Set(g.map(normalizeRecipient))].sort()).sort()]));
  return key(a) === key(b);
}

/**
 * For every environment of `project`, the creation rule sops picks for its file in the base's and
 * the head's `.sops.yaml` at `path` (relative to the project root); a change is reported when either
 * side's rule has key groups and the groups or the number needed differ (a rule added or removed
 * for the file is not: sops-config-drift judges the recipients). `name` gives a key's member name.
 */
export function sopsRuleGroupsChanges(
  path: string,
  baseText: string,
  headText: string,
  project: Pick<ProjectConfig, "environments" | "secretsDir">,
  name: (recipient: string) => string | undefined,
): SopsRuleGroupsChange[] {
  const base = parseSopsConfig(baseText, path);
  const head = parseSopsConfig(headText, path);
  if (base.problem !== undefined || head.problem !== undefined) return [];
  const dir = normalizeSecretsDir(project.secretsDir);
  const out: SopsRuleGroupsChange[] = [];
  const keyText = (k: string) => name(k) ?? (/^age1[0-9a-z]{20,}$/.test(k) ? `${k.slice(0, 10)}…${k.slice(-6)} (no member)` : /^[a-z_]{1,20}$/.test(k) ? `a ${k} key (no member)` : "(a key not shown, no member)");
  const describe = (s: NonNullable<ReturnType<typeof shapeOf>>): string => {
    if (s.flat) return `one list of keys, any one of which decrypts (${s.groups[0]!.map(keyText).join(", ") || "no keys"})`;
    const groups = s.groups.map((g, i) => `group ${i + 1}: ${g.map(keyText).join(", ")}`).join("; ");
    return s.groups.length === 1 ? `one key group, any key of which decrypts (${groups})` : `${s.groups.length} key groups, any ${s.needed} of which decrypt together (${groups})`;
  };
  for (const environment of project.environments) {
    const file = `${dir}/${environmentFileName(environment.name)}`;
    const was = matchSopsRule(base, file).rule;
    const now = matchSopsRule(head, file).rule;
    if (was === undefined || now === undefined || (!was.keyGroups && !now.keyGroups)) continue;
    const before = shapeOf(was)!;
    const after = shapeOf(now)!;
    if (sameShape(before, after)) continue;
    // fewer groups needed, or a key now in as many groups as are needed (alone, it decrypts what it did not)
    const aloneAfter = (k: string) => after.groups.filter((g) => g.some((x) => normalizeRecipient(x) === k)).length >= after.needed;
    const aloneBefore = (k: string) => before.groups.filter((g) => g.some((x) => normalizeRecipient(x) === k)).length >= before.needed;
    const keys = [...new Set(after.groups.flat().map(normalizeRecipient))];
    const weaker = after.needed < before.needed || keys.some((k) => aloneAfter(k) && !aloneBefore(k));
    out.push({ environment: environment.name, file: path, line: head.lines.positionAt(now.range.start).line, weaker, before: describe(before), after: describe(after) });
  }
  return out;
}

/** Members of one environment that a `.sops.yaml` change takes out of the rule sops uses for its file. */
export interface SopsRuleMembersDropped {
  environment: string;
  /** The environment file, relative to the project root. */
  file: string;
  /** The members (head's stellar.yaml) the base's rule named and the head's does not. */
  dropped: { name: string; recipient: string }[];
  /** The head's rule sops uses for the file (1-based index and line), or undefined when none matches it. */
  rule: { index: number; line: number } | undefined;
  /** 1-based line of the base's rule. */
  baseRule: number;
  /** 1-based line to report at: the head's rule, else its `creation_rules` key (else 1). */
  line: number;
}

/** Every age key a rule names (its groups' too), as sops reads them; an entry of keys joined by spaces is each of them. */
function ruleKeys(rule: SopsCreationRule): Set<string> {
  const all = [...rule.age, ...(rule.groups ?? []).flat()];
  return new Set(all.flatMap((k) => (/\s/.test(k) && k.split(/\s+/).every((w) => w === "" || /^age1/i.test(w)) ? k.split(/\s+/).filter((w) => w !== "") : [k])).map((k) => normalizeRecipient(sameKeyAsWritten(k))));
}

/**
 * For every environment of `project` (the head's), the members the creation rule sops picks for its
 * file in `baseText` named and the one it picks in `headText` does not name, or no rule of
 * `headText` matching the file at all: plain sops then writes that file (`sops updatekeys`, a file
 * created anew) without them, or refuses to. A member the base's rule did not name either is not
 * counted (the checker's warning says it, and it is no change); a rule sops may use whose
 * `path_regex` cannot be read is skipped (the checker reports it).
 */
export function sopsRuleMembersDropped(
  path: string,
  baseText: string,
  basePath: string,
  headText: string,
  project: Pick<ProjectConfig, "environments" | "secretsDir">,
): SopsRuleMembersDropped[] {
  const base = parseSopsConfig(baseText, basePath);
  const head = parseSopsConfig(headText, path);
  if (base.problem !== undefined || head.problem !== undefined) return [];
  const dir = normalizeSecretsDir(project.secretsDir);
  const out: SopsRuleMembersDropped[] = [];
  for (const environment of project.environments) {
    const file = `${dir}/${environmentFileName(environment.name)}`;
    const was = matchSopsRule(base, file);
    const now = matchSopsRule(head, file);
    if (was.rule === undefined || was.undetermined !== undefined || now.undetermined !== undefined) continue;
    const before = ruleKeys(was.rule);
    const after = now.rule === undefined ? new Set<string>() : ruleKeys(now.rule);
    const key = (m: { recipient: string }): string => normalizeRecipient(sameKeyAsWritten(m.recipient));
    const dropped = environment.members.filter((m) => before.has(key(m)) && !after.has(key(m))).map((m) => ({ name: m.name, recipient: m.recipient }));
    if (dropped.length === 0) continue;
    out.push({
      environment: environment.name,
      file,
      dropped,
      rule: now.rule === undefined ? undefined : { index: now.rule.index + 1, line: head.lines.positionAt(now.rule.range.start).line },
      baseRule: base.lines.positionAt(was.rule.range.start).line,
      line: head.lines.positionAt((now.rule?.range ?? head.rulesKeyRange ?? { start: 0 }).start).line,
    });
  }
  return out;
}
