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
 * Groups listed in another order only are no finding (the same keys decrypt). A file with one list
 * of age recipients (no key groups: its keys are compared with the members elsewhere) under a rule
 * with several groups is a warning ({@link oneListProblems}).
 */
export function keyGroupsRuleProblems(project: Pick<ProjectConfig, "environments">, file: EnvironmentFile, configs: ReadonlyMap<string, string>): KeyGroupsRuleProblem[] {
  const kg = file.keyGroups;
  if (kg === undefined) return oneListProblems(project, file, configs);
  if (kg.problem !== undefined || kg.groups.length === 0) return [];
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

/**
 * A file with one list of age recipients (each decrypts it alone, as stellar.yaml's members do)
 * under a creation rule that splits the data key into several key groups: a warning per such rule.
 * It is no leak (the file's keys are judged against the members by recipient-drift), but the file
 * and the rule disagree, and sops settles it the rule's way: `sops updatekeys` compares the file's
 * one group with the rule's groups one by one (getsops/sops `DiffKeyGroups`), finds keys to move,
 * and re-splits the data key into the rule's groups with the file's threshold, which a one-list
 * file does not have (0), so that every group is needed (`UpdateMasterKeysWithKeyServices`: 0 is
 * the number of groups); the rule's own shamir_threshold is not read. After that the members who
 * hold no key in every group no longer decrypt it alone, and stellar-secrets' writes that need a
 * new data key refuse the file. A rule with one group (or a plain list) makes a one-list file: no
 * finding here.
 */
function oneListProblems(project: Pick<ProjectConfig, "environments">, file: EnvironmentFile, configs: ReadonlyMap<string, string>): KeyGroupsRuleProblem[] {
  const range = file.recipientsRange;
  if (file.recipients === undefined || range === undefined || (file.otherMasterKeys ?? []).length > 0) return [];
  const env = file.environment;
  const members = project.environments.find((e) => e.name === env)?.members ?? [];
  const keyId = (r: string): string => canonicalAgeRecipient(r) ?? r;
  const who = (key: string): string => members.find((m) => keyId(m.recipient) === keyId(key))?.name ?? `${shownLabel(key)} (not a member of ${env})`;
  const out: KeyGroupsRuleProblem[] = [];
  for (const [path, text] of configs) {
    const config = parseSopsConfig(text, path);
    if (config.problem !== undefined) continue;
    const { rule } = matchSopsRule(config, file.path);
    if (rule === undefined || !rule.keyGroups) continue;
    const wanted = ruleGroups(rule);
    const n = wanted.length;
    if (n < 2) continue;
    const t = rule.shamirThreshold ?? n;
    const keysText = (g: Group): string => [...g.age.map(who), ...g.others.map((k) => `${k} keys`)].join(", ") || "no keys";
    // after updatekeys every group is needed: a member decrypts alone only with a key in each
    const notAlone = members.filter((m) => !wanted.every((g) => g.age.some((k) => keyId(k) === keyId(m.recipient)))).map((m) => m.name);
    const line = config.lines.positionAt(rule.range.start).line;
    const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
    const target = dir === "" ? file.path : file.path.startsWith(`${dir}/`) ? file.path.slice(dir.length + 1) : file.path;
    out.push({
      range,
      severity: "warning",
      message:
        `the ${env} file has one list of age recipients, any of which decrypts it alone (${[...new Set(file.recipients)].map(who).join(", ") || "no keys"}), ` +
        `but creation rule ${rule.index + 1} of ${path} (line ${line}), which sops uses for ${file.path}, splits the data key into ${n} key groups, any ${t} of which decrypt ` +
        `(${wanted.map((g, i) => `group ${i + 1}: ${keysText(g)}`).join("; ")}): ` +
        `\`sops updatekeys ${target}\`${dir === "" ? "" : ` (run in ${dir}/)`} re-splits the file into the rule's groups with all ${n} needed ` +
        `(it keeps the file's shamir_threshold, which a one-list file does not have${t === n ? "" : `, and does not read the rule's ${t}`})` +
        (notAlone.length > 0 ? `, after which ${notAlone.join(", ")} no longer decrypt${notAlone.length === 1 ? "s" : ""} it alone` : "") +
        `, and stellar-secrets refuses the writes that need a new data key (members add and rm, rotate-key); a file sops creates under the rule is split too. ` +
        `If the split is not meant, write the rule as one list of the members' keys (\`age: KEY1,KEY2\`, as \`stellar-secrets init\` writes it); ` +
        `if it is, stellar-secrets does not manage key groups: manage the file with sops`,
    });
  }
  return out;
}
