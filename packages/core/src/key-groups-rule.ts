/**
 * An environment file's sops key groups (Shamir secret sharing) compared with the `.sops.yaml`
 * creation rule sops uses for it: the `recipient-drift` finding "the file's groups are not its
 * rule's". sops writes a file under a rule with key groups with exactly the rule's groups (each
 * group's keys, a `merge`d group's keys in the group itself, duplicates dropped) and the rule's
 * `shamir_threshold` (the number of groups when the rule has none); a rule with one group, or a
 * plain `age` list, makes a file with no `key_groups` at all. `sops updatekeys` compares the groups
 * one by one in order (group 1 with group 1, ...), and keeps the file's threshold. Pure, no key.
 */
import { canonicalAgeRecipient } from "@stellar-secrets/sops";
import type { TextRange } from "./position.js";
import type { ProjectConfig } from "./project.js";
import { shownLabel } from "./recipient-stanzas.js";
import type { EnvironmentFile } from "./secrets-dir.js";
import { matchSopsRule, parseSopsConfig, sameKeyAsWritten, type SopsCreationRule } from "./sops-config.js";

/** One finding: where in the environment file, how severe (by default), and the message. */
export interface KeyGroupsRuleProblem {
  range: TextRange;
  severity: "error" | "warning";
  message: string;
}

/** A rule's key type as the metadata names it (`azure_keyvault` in a rule is `azure_kv` in a file). */
const METADATA_TYPE: Readonly<Record<string, string>> = { azure_keyvault: "azure_kv", hc_vault_transit_uri: "hc_vault" };

/** A group's keys: age recipients as written (an all-capitals `AGE1…` lower-cased), other key types as `type` alone. */
interface Group {
  age: string[];
  others: string[];
}

function groupOf(age: readonly string[], others: readonly string[]): Group {
  return { age: [...new Set(age.map(sameKeyAsWritten))], others: [...new Set(others.map((t) => METADATA_TYPE[t] ?? t))].sort() };
}

function sameGroup(a: Group, b: Group): boolean {
  return a.age.length === b.age.length && a.age.every((k) => b.age.includes(k)) && a.others.join(",") === b.others.join(",");
}

/** The groups sops writes for `rule`: its `key_groups` (one group for a plain rule). */
function ruleGroups(rule: SopsCreationRule): Group[] {
  if (!rule.keyGroups) return [groupOf(rule.age, rule.otherKeys)];
  const otherTypes = new Set(rule.otherKeys);
  return (rule.groups ?? []).map((g) => groupOf(g.filter((k) => !otherTypes.has(k)), g.filter((k) => otherTypes.has(k))));
}

/**
 * For an environment file with readable key groups, one problem per `.sops.yaml` (path → text)
 * whose creation rule for the file asks for other groups or another threshold than the file has.
 * Groups listed in another order only are no finding (the same keys decrypt). A file without key
 * groups is not compared here (a plain file is compared with the members; a plain file under a rule
 * with key groups was made before the rule, and each member decrypts it alone).
 */
export function keyGroupsRuleProblems(project: Pick<ProjectConfig, "environments">, file: EnvironmentFile, configs: ReadonlyMap<string, string>): KeyGroupsRuleProblem[] {
  const kg = file.keyGroups;
  if (kg === undefined || kg.problem !== undefined || kg.groups.length === 0) return [];
  const range = kg.range ?? file.recipientsRange;
  if (range === undefined) return [];
  const env = file.environment;
  const fileGroups = kg.groups.map((g) => groupOf(g.stanzas.map((s) => s.recipient), g.others.map((o) => o.split(" ")[0] ?? o)));
  const fileN = fileGroups.length;
  const fileT = fileN === 1 ? 1 : (kg.threshold ?? 2);
  const fileWritten = fileN === 1 || kg.thresholdWritten === true;
  const members = project.environments.find((e) => e.name === env)?.members ?? [];
  const keyId = (r: string): string => canonicalAgeRecipient(r) ?? r;
  const who = (key: string): string => members.find((m) => keyId(m.recipient) === keyId(key))?.name ?? `${shownLabel(key)} (not a member of ${env})`;
  const keysText = (g: Group): string[] => [...g.age.map(who), ...g.others.map((t) => `${t} keys`)];
  const describe = (groups: Group[], t: number, written: boolean): string => {
    if (groups.length === 1) return `one group, any key of which decrypts it (${keysText(groups[0]!).join(", ") || "no keys"})`;
    const how = written ? `any ${t} of which decrypt it` : "at least 2 of which decrypt it (no shamir_threshold is written)";
    return `${groups.length} groups, ${how} (${groups.map((g, i) => `group ${i + 1}: ${keysText(g).join(", ") || "no keys"}`).join("; ")})`;
  };
  const out: KeyGroupsRuleProblem[] = [];
  for (const [path, text] of configs) {
    const config = parseSopsConfig(text, path);
    if (config.problem !== undefined) continue; // sops-config-drift says the file cannot be read
    const { rule } = matchSopsRule(config, file.path);
    if (rule === undefined || (rule.keyGroups && (rule.groups ?? []).length === 0)) continue;
    const wanted = ruleGroups(rule);
    const ruleN = wanted.length;
    const ruleT = ruleN === 1 ? 1 : (rule.shamirThreshold ?? ruleN);
    // the same groups (in any order) and threshold: the same keys decrypt it
    const unmatched = [...wanted];
    const sameGroups = fileN === ruleN && fileGroups.every((g) => {
      const i = unmatched.findIndex((w) => sameGroup(g, w));
      if (i === -1) return false;
      unmatched.splice(i, 1);
      return true;
    });
    if (sameGroups && (fileN === 1 || (fileWritten && fileT === ruleT))) continue;

    // group by group, as `sops updatekeys` compares them (a plain rule: one list, no split)
    const differences: string[] = [];
    if (!rule.keyGroups) differences.push(`the file splits the data key into ${fileN} groups, where the rule names one list`);
    for (let i = 0; rule.keyGroups && i < Math.max(fileN, ruleN); i++) {
      const f = fileGroups[i];
      const w = wanted[i];
      if (w === undefined) {
        differences.push(`the file's group ${i + 1} (${keysText(f!).join(", ") || "no keys"}) is none of the rule's`);
        continue;
      }
      if (f === undefined) {
        differences.push(`the rule's group ${i + 1} (${keysText(w).join(", ") || "no keys"}) is not in the file`);
        continue;
      }
      const extra = [...f.age.filter((k) => !w.age.includes(k)).map(who), ...f.others.filter((t) => !w.others.includes(t)).map((t) => `${t} keys`)];
      const lacking = [...w.age.filter((k) => !f.age.includes(k)).map(who), ...w.others.filter((t) => !f.others.includes(t)).map((t) => `${t} keys`)];
      if (extra.length > 0) differences.push(`the file's group ${i + 1} holds ${extra.join(", ")}, which the rule's does not`);
      if (lacking.length > 0) differences.push(`the rule's group ${i + 1} names ${lacking.join(", ")}, which the file's does not`);
    }
    const thresholdDiffers = ruleN > 1 && fileN > 1 && (!fileWritten || fileT !== ruleT);
    if (thresholdDiffers) {
      differences.push(fileWritten ? `the file needs ${fileT} groups together, the rule ${ruleT}` : `the file writes no shamir_threshold, where sops writes the rule's (${ruleT})`);
    }
    // who the file gives more than the rule does: a key in more of its groups (more shares), or fewer groups needed
    const count = (groups: Group[], k: string): number => groups.filter((g) => g.age.includes(k) || g.others.includes(k)).length;
    const fileKeys = [...new Set(fileGroups.flatMap((g) => [...g.age, ...g.others]))];
    const gains = fileKeys.filter((k) => count(fileGroups, k) > count(wanted, k));
    const outsiders = fileKeys.filter((k) => count(wanted, k) === 0);
    const weaker = fileN > 1 && ruleN > 1 && fileT < ruleT;
    const severity = gains.length > 0 || weaker ? "error" : "warning";
    const types = new Set([...fileGroups, ...wanted].flatMap((g) => g.others));
    const named = (k: string): string => (types.has(k) ? `${k} keys` : who(k));
    const line = config.lines.positionAt(rule.range.start).line;
    const where = `creation rule ${rule.index + 1} of ${path} (line ${line}), which sops uses for ${file.path}`;
    const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
    const target = dir === "" ? file.path : file.path.startsWith(`${dir}/`) ? file.path.slice(dir.length + 1) : file.path;
    const fixes = [
      `if the rule's ${rule.keyGroups ? "groups are" : "list is"} the one${rule.keyGroups ? "s" : ""} meant, \`sops updatekeys ${target}\`${dir === "" ? "" : ` (run in ${dir}/)`}, by someone whose keys open enough of the file's groups, gives the file the rule's ${rule.keyGroups ? "groups" : "list (no split)"}` +
        (thresholdDiffers ? ` (it keeps the file's shamir_threshold: it reads only the rule's groups)` : ""),
      `if the file's are, write them in the rule`,
      ...(outsiders.length > 0
        ? [`if a change put ${outsiders.map(named).join(", ")} in the file, revert it (\`git log -p -- ${file.path}\` shows it; never add them to the rule to silence this)`]
        : []),
    ];
    out.push({
      range,
      severity,
      message:
        `the ${env} file's sops.key_groups are not those of ${where}: the file has ${describe(fileGroups, fileT, fileWritten)}, ` +
        `the rule ${rule.keyGroups ? `has ${describe(wanted, ruleT, true)}` : `names one list of keys, any of which decrypts a file sops writes under it (${keysText(wanted[0]!).join(", ") || "no keys"})`}; ` +
        `${differences.join("; ")}` +
        (gains.length > 0
          ? gains.every((k) => outsiders.includes(k))
            ? `, so the file gives ${gains.map(named).join(", ")} a share, which the rule gives them nowhere`
            : `, so the file gives ${gains.map(named).join(", ")} more shares than the rule does`
          : weaker
            ? ", so fewer groups than the rule asks for decrypt it"
            : "") +
        `; ${fixes.join("; ")}`,
    });
  }
  return out;
}
