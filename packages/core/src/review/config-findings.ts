/**
 * Changes to what judges a change, told as `weakened-rule` (a change may not lower the checks that
 * review it: report it, and judge it by the base's): a rule's severity lowered in stellar.yaml,
 * `secrets_dir` moved away from the environment files, a longer (or no) `rotate_every`, the config
 * files the checker reads narrowed, a nested project made; and `credential-destination`, a config
 * file sending a secret to a host the base never sent it to. Pure.
 */
import { normalizeSecretsDir } from "@stellar-secrets/sops";
import { environmentDeclarationSite, PROJECT_FILE } from "../project.js";
import { RULES } from "../rules.js";
import { textLines } from "../position.js";
import type { EnvironmentFile } from "../secrets-dir.js";
import type { IndexedCatalog, WorkspaceIndex } from "../workspace.js";
import { nameSkeleton } from "./access.js";
import type { ReviewContext } from "./context.js";
import { newDestinations, secretDestinations } from "./destinations.js";
import type { ReviewProblem } from "./report.js";
import { durationDays } from "./rotation.js";
import { EVERY_CONFIG_FILE, type ReviewState } from "./state.js";
import type { FindingWording } from "./wording.js";

/**
 * The `weakened-rule` findings of stellar.yaml and the catalog, when the base's project is usable,
 * and the head's workspace loaded again within the base's config scope when the change narrowed
 * it (`widened`: the checker judges the files the change hides all the same).
 */
export function weakenedConfigProblems(ctx: ReviewContext): { problems: ReviewProblem[]; widened: WorkspaceIndex | undefined } {
  const { base, head, baseConfig, headConfig, w } = ctx;
  const problems: ReviewProblem[] = [];
  // a change may not weaken the rules that judge it: report it, and judge it by the base's severities
  const baseUsable = base.index !== undefined && base.index.projectUsable && baseConfig !== undefined;
  if (baseUsable && headConfig !== undefined) {
    const rank = { off: 0, info: 1, warning: 2, error: 3 } as const;
    const configText = head.readText("stellar.yaml");
    const configLines = typeof configText === "string" ? textLines(configText).map((l) => l.text) : [];
    for (const rule of RULES) {
      const was = baseConfig.rules[rule.id] ?? rule.severity;
      const now = headConfig.rules[rule.id] ?? rule.severity;
      if (rank[now] >= rank[was]) continue;
      const at = configLines.findIndex((l) => new RegExp(`^\\s+["']?${rule.id}["']?\\s*:`).test(l));
      problems.push({
        kind: "weakened-rule",
        file: "stellar.yaml",
        ...(at === -1 ? {} : { line: at + 1 }),
        message: `${w.path(PROJECT_FILE)} weakens rule ${rule.id} from ${was} to ${now}: a change cannot lower the checks that review it; make that change on its own, reviewed separately`,
      });
    }
  }
  // moving secrets_dir away from the environment files stops reading them: what changes in them then
  // goes unreviewed (and comes back unreviewed when secrets_dir is moved back), a weakening too
  if (baseUsable && headConfig !== undefined && head.index !== undefined) {
    const from = normalizeSecretsDir(baseConfig.secretsDir);
    const to = normalizeSecretsDir(headConfig.secretsDir);
    if (from !== to) {
      const left = [...(base.index?.environmentFiles ?? new Map<string, EnvironmentFile>())]
        .filter(([environment]) => headConfig.environments.some((e) => e.name === environment) && head.index?.environmentFiles.get(environment) === undefined)
        .map(([, file]) => file.path)
        .sort();
      if (left.length > 0) {
        const configText = head.readText("stellar.yaml");
        const at = typeof configText === "string" ? textLines(configText).map((l) => l.text).findIndex((l) => /^["']?secrets_dir["']?\s*:/.test(l)) : -1;
        problems.push({
          kind: "weakened-rule",
          file: "stellar.yaml",
          ...(at === -1 ? {} : { line: at + 1 }),
          message:
            `${w.path(PROJECT_FILE)} moves secrets_dir from "${from}" to "${to}" but ${left.length === 1 ? "an environment file is" : `${left.length} environment files are`} not there (${left.map(w.path).join(", ")}): ` +
            `they are no longer read as environment files, so what changes in them is not reviewed; move the files with the setting (\`git mv ${w.shellPath(from)} ${w.shellPath(to)}\`), ` +
            `or make that change on its own, reviewed separately`,
        });
      }
    }
  }
  // a longer rotate_every in the catalog (or none) lets a value go unrotated longer before
  // rotation-overdue says so: a weakening a reviewer should see (a shorter one is not)
  if (baseUsable && head.index !== undefined) problems.push(...weakenedRotations(base.index?.catalog, head.index, w));
  // narrowing the config files the checker reads is a weakening too: the head's files are then
  // judged within the base's scope as well, so that what the change hides is still checked
  let widened: WorkspaceIndex | undefined;
  if (baseUsable && headConfig !== undefined && head.index !== undefined) {
    const dropped = baseConfig.include.filter((p) => !headConfig.include.includes(p));
    const excluded = headConfig.exclude.filter((p) => !baseConfig.exclude.includes(p));
    if (dropped.length + excluded.length > 0) {
      widened = head.loadWithin?.({ include: baseConfig.include, exclude: baseConfig.exclude });
      const hidden = widened === undefined ? [] : [...widened.configFiles.keys()].filter((f) => !head.index?.configFiles.has(f)).sort();
      const configText = head.readText("stellar.yaml");
      const configLines = typeof configText === "string" ? textLines(configText).map((l) => l.text) : [];
      const at = configLines.findIndex((l) => new RegExp(`^\\s+["']?${dropped.length > 0 ? "include" : "exclude"}["']?\\s*:`).test(l));
      const what = [
        ...dropped.map((p) => `config.include no longer has "${p}"`),
        ...excluded.map((p) => `config.exclude adds "${p}"`),
      ];
      const shown = hidden.slice(0, 10).map(w.path).join(", ") + (hidden.length > 10 ? `, and ${hidden.length - 10} more` : "");
      problems.push({
        kind: "weakened-rule",
        file: "stellar.yaml",
        ...(at === -1 ? {} : { line: at + 1 }),
        message:
          `${w.path(PROJECT_FILE)} narrows the config files the checker reads (${what.join("; ")}): ` +
          (hidden.length === 0 ? "it hides no config file now, but may hide files added later" : `it now hides ${hidden.length === 1 ? "1 config file" : `${hidden.length} config files`} from the checks (${shown}), judged here all the same`) +
          `; a change cannot lower the checks that review it; make that change on its own, reviewed separately`,
      });
    }
  }
  // a stellar.yaml new below the root makes its folder another project: the loader no longer reads
  // that folder's files for this one, so what they reference or hold in plain text goes unchecked here
  if (baseUsable && head.index !== undefined) problems.push(...newNestedProjects(base, head, w));
  return { problems, widened };
}

/** `credential-destination` for each secret a config file now sends to a host the base never sent it to. */
export function destinationProblems(ctx: ReviewContext): ReviewProblem[] {
  const { base, head, w } = ctx;
  const problems: ReviewProblem[] = [];
  // config files sending a secret to a host the base never sent it to (a connection's base_url, an
  // oauth2 token_url): no key and no value change needed, the next deploy or probe hands it over
  if (base.index !== undefined && head.index !== undefined) {
    // from every config file, whatever config.include/exclude say (an exclude that landed earlier
    // must not hide a later host change): the state's listing, else its workspace loaded again with that scope
    const texts = (state: ReviewState): [string, string][] =>
      [...(state.everyConfigFile ?? (state.loadWithin?.(EVERY_CONFIG_FILE) ?? state.index)?.configFiles.keys() ?? [])].flatMap((f) => {
        const text = state.readText(f);
        return typeof text === "string" ? [[f, text] as [string, string]] : [];
      });
    for (const d of newDestinations(secretDestinations(texts(base)), secretDestinations(texts(head)))) {
      problems.push({
        kind: "credential-destination",
        file: d.file,
        line: d.line,
        message:
          `${w.path(d.file)} (${d.via}) now sends ${d.accessToken === true ? `the access token ${d.secret} obtains` : d.secret} to ${d.origin}, where the base sent it only to ${d.before.join(", ")}: ` +
          `the next deploy (or \`stellar-secrets probe\`) hands the credential to whoever runs that host, with no key and no value changed; ` +
          `check that the host is the provider's, or revert the URL`,
      });
    }
  }
  return problems;
}

/**
 * `weakened-rule` for each folder the head's load skips as a project of its own
 * ({@link ReviewState.nestedProjects}) whose stellar.yaml the base did not have: an empty
 * stellar.yaml is enough to take a folder's files out of this project's checks. A nested project
 * the base had already is not reported. At the new stellar.yaml, line 1.
 */
function newNestedProjects(base: ReviewState, head: ReviewState, w: FindingWording): ReviewProblem[] {
  return (head.nestedProjects ?? [])
    .filter((dir) => base.readText(`${dir}/${PROJECT_FILE}`) === undefined)
    .map((dir) => {
      const file = `${dir}/${PROJECT_FILE}`;
      const [shown, folder] = [w.path(file), w.path(dir)];
      return {
        kind: "weakened-rule" as const,
        file,
        line: 1,
        message:
          `${shown} is new: it makes ${folder}/ a project of its own, so the folder's files are no longer checked against this project's secrets and rules ` +
          `(\`check\`, \`pre-commit\` and \`review\` judge them by ${shown} alone: its own rules, members and secrets); ` +
          `delete ${shown}, or, if ${folder}/ is meant to be a separate project, keep it on purpose: make that change on its own, reviewed separately`,
      };
    });
}

/**
 * `weakened-rule` for each secret whose catalog `rotate_every` the head raises (e.g. 30d → 365d),
 * makes unreadable as a period, or removes (the entry, the field or the whole catalog), while
 * an environment file of the head still has the secret. A lower period, and the entry of a
 * secret the head no longer has, are no weakening. Each at the head's catalog entry when it has one.
 */
function weakenedRotations(baseCatalog: IndexedCatalog | undefined, head: WorkspaceIndex, w: FindingWording): ReviewProblem[] {
  const out: ReviewProblem[] = [];
  if (baseCatalog === undefined) return out;
  const headCatalog = head.catalog;
  for (const [name, entry] of baseCatalog.entries) {
    const was = entry.rotate_every;
    const wasDays = was === undefined ? undefined : durationDays(was);
    if (was === undefined || wasDays === undefined) continue;
    if (head.secret(name) === undefined) continue; // the secret is gone: nothing left to rotate
    const now = headCatalog?.entries.get(name)?.rotate_every;
    const nowDays = now === undefined ? undefined : durationDays(now);
    if (nowDays !== undefined && nowDays <= wasDays) continue;
    const file = headCatalog?.path ?? baseCatalog.path;
    const key = headCatalog?.keyRanges.get(name);
    const change =
      now === undefined
        ? `removes the rotate_every of secret "${name}" (was ${was}): rotation-overdue no longer reports its value however old it gets`
        : nowDays === undefined
          ? `changes the rotate_every of secret "${name}" from ${was} to ${JSON.stringify(now.slice(0, 20))}, which is not a period: rotation-overdue no longer reports its value`
          : `raises the rotate_every of secret "${name}" from ${was} to ${now}: rotation-overdue reports its value only after ${nowDays} days instead of ${wasDays}`;
    out.push({
      kind: "weakened-rule",
      file,
      ...(key === undefined || headCatalog === undefined ? {} : { line: headCatalog.lines.positionAt(key.start).line }),
      message: `${w.path(file)} ${change}; a change cannot lower the checks that review it; make that change on its own, reviewed separately`,
    });
  }
  return out;
}

/**
 * `look-alike-name` for an environment the change adds to stellar.yaml whose name is not another
 * environment's (of the base or the head) but reads as it ({@link nameSkeleton}: `pr0duction` or
 * `producti0n` for `production`): the review's words, and a deploy told the name, read as that
 * environment's, while its members and values are the new one's.
 */
export function lookAlikeEnvironmentProblems(ctx: ReviewContext): ReviewProblem[] {
  const { baseConfig, headConfig, w } = ctx;
  if (headConfig === undefined) return [];
  const had = new Set((baseConfig?.environments ?? []).map((e) => e.name));
  const problems: ReviewProblem[] = [];
  for (const env of headConfig.environments) {
    if (had.has(env.name)) continue;
    const mine = nameSkeleton(env.name);
    const like = [...new Set([...had, ...headConfig.environments.map((e) => e.name)])].filter((n) => n !== env.name && nameSkeleton(n) === mine);
    if (like.length === 0) continue;
    const other = like[0]!;
    // where the parser found its key under `environments:` (a text search could stop at a member of that name)
    const site = environmentDeclarationSite(headConfig, env.name);
    problems.push({
      kind: "look-alike-name",
      file: PROJECT_FILE,
      ...(site === undefined ? {} : { line: site.line }),
      message:
        `${w.path(PROJECT_FILE)} adds environment ${JSON.stringify(env.name)}, whose name reads as ${JSON.stringify(other)}'s (${had.has(other) ? "an environment of the base" : "another environment this change adds"}): ` +
        `the review's words, and a deploy or CI told that name, read as ${JSON.stringify(other)} while its members and values are the new environment's; ` +
        `give it a name that cannot be mistaken for ${JSON.stringify(other)}'s, or revert the change to ${w.path(PROJECT_FILE)}`,
    });
  }
  return problems;
}
