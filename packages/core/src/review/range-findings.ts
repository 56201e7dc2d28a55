/**
 * What the commits inside a change wrote and a later commit took out again: a value or a
 * well-known credential in clear text (`plaintext`). The merged history holds them whatever the
 * head says, and every clone of it. Pure.
 */
import { environmentOfFileName } from "@stellar-secrets/sops";
import { commentCredentials, credentialAsName, credentialLines } from "../credentials.js";
import { GlobFilter } from "../globs.js";
import { textLines } from "../position.js";
import { PROJECT_FILE } from "../project.js";
import { parseEnvironmentFile } from "../secrets-dir.js";
import type { ReviewContext } from "./context.js";
import type { ReviewProblem } from "./report.js";
import type { PathVersion } from "./retired-key.js";
import type { ReviewState } from "./state.js";
import type { FindingWording } from "./wording.js";
import { listed } from "./words.js";

/** The `plaintext` findings of the range's commits: environment files' values, and credentials in any YAML file of the project. */
export function rangeProblems(ctx: ReviewContext): ReviewProblem[] {
  const { base, head, inputs, w, envRange, envEarlierPush, inSecretsDir } = ctx;
  const values = new Set<string>();
  const credentials = new Set<string>();
  const yaml = (versions: readonly PathVersion[]): PathVersion[] => versions.filter((v) => !v.path.endsWith(".enc.yaml") || inSecretsDir(v.path));
  return [
    ...clearValuesInRange(base, head, envRange, w, values),
    ...credentialsInRange(base, head, yaml(inputs.rangeVersions ?? []), w, credentials),
    // an earlier push of the change (--previous-head) that the range no longer holds: pushed is pushed
    ...clearValuesInRange(base, head, envEarlierPush, w, values, true),
    ...credentialsInRange(base, head, yaml(inputs.earlierPushVersions ?? []), w, credentials, true),
  ];
}

/** How a problem names a commit of an earlier push (`--previous-head`) that the range no longer holds, and what to do about what it held in clear text (`what`: it, them). */
function earlierPushWords(commit: string, what: string): { at: string; fix: string } {
  return {
    at: `at commit ${commit.slice(0, 10)} of an earlier push of this change (given with --previous-head; the range no longer holds it: the branch was rewritten)`,
    fix: `it was pushed, and a force-push does not take it back (the remote keeps the commit, and clones and forks that fetched it have it); treat ${what} as leaked and change ${what} at the provider`,
  };
}

/**
 * `plaintext` problems for the values that a version of an environment file written by a commit of
 * the range holds in clear text, when neither the base's nor the head's file of that path holds the
 * same name with the same text (those the base had are not this change's; the head's are reported
 * with the head). One per version, naming the names, never a value. `reported` is shared with the
 * other calls of one review (a value is reported once); `earlierPush`: the versions are an earlier
 * push's (`--previous-head`), worded so.
 */
function clearValuesInRange(base: ReviewState, head: ReviewState, versions: readonly PathVersion[], w: FindingWording, reported = new Set<string>(), earlierPush = false): ReviewProblem[] {
  const out: ReviewProblem[] = [];
  const clearOf = (text: string, path: string): Map<string, string> => {
    const environment = environmentOfFileName(path.slice(path.lastIndexOf("/") + 1)) ?? "";
    const file = parseEnvironmentFile(text, path, environment);
    return new Map(file.entries.filter((e) => !e.encrypted && !e.empty).map((e) => [e.name, text.slice(e.valueRange.start, e.valueRange.end)]));
  };
  for (const v of versions) {
    const environment = environmentOfFileName(v.path.slice(v.path.lastIndexOf("/") + 1));
    if (environment === undefined) continue;
    const clear = clearOf(v.text, v.path);
    if (clear.size === 0) continue;
    const known = new Set<string>();
    for (const state of [base, head]) {
      const text = state.readText(v.path);
      if (typeof text === "string") for (const [name, raw] of clearOf(text, v.path)) known.add(`${name}\u0000${raw}`);
    }
    const names = [...clear].filter(([name, raw]) => !known.has(`${name}\u0000${raw}`) && !reported.has(`${v.path}\u0000${name}\u0000${raw}`)).map(([name]) => name);
    if (names.length === 0) continue;
    for (const [name, raw] of clear) reported.add(`${v.path}\u0000${name}\u0000${raw}`);
    out.push({
      kind: "plaintext",
      environment,
      file: v.path,
      commit: v.commit,
      message: earlierPush
        ? `${w.path(v.path)} ${earlierPushWords(v.commit, "").at} holds ${names.length === 1 ? `the value of ${names[0]}` : `the values of ${listed(names)}`} in clear text: ` +
          earlierPushWords(v.commit, names.length === 1 ? "it" : "them").fix
        : `${w.path(v.path)} at commit ${v.commit.slice(0, 10)} of this change holds ${names.length === 1 ? `the value of ${names[0]}` : `the values of ${listed(names)}`} in clear text ` +
          `(encrypted or removed again later): the commit is in this branch's history, and merging it puts the value in every clone; treat ${names.length === 1 ? "it" : "them"} as leaked and change ` +
          `${names.length === 1 ? "it" : "them"} at the provider, and drop that commit from the branch (\`git rebase -i\`, or squash) before it is merged`,
    });
  }
  return out;
}

/**
 * `plaintext` problems for the well-known credential formats (`plaintext-credential`'s) in the
 * versions of the project's YAML files that the commits of the range wrote and a later one took out
 * again: in stellar.yaml and the catalog every line, in an environment file its comments and the
 * names that look like credentials ({@link credentialNameKeys}; a value in clear is
 * {@link clearValuesInRange}'s), in a config file the checker reads (the base's or the
 * head's `config.include`/`exclude`) every line. A line the base's or the head's file of that path
 * holds is not reported here (the head's own are the checker's). One per version, never a value.
 */
function credentialsInRange(base: ReviewState, head: ReviewState, versions: readonly PathVersion[], w: FindingWording, reported = new Set<string>(), earlierPush = false): ReviewProblem[] {
  const configs = [head.index?.project, base.index?.project].flatMap((c) => (c === undefined ? [] : [new GlobFilter(c.include, c.exclude)]));
  const catalogs = new Set([head.index?.catalog?.path, base.index?.catalog?.path].filter((p): p is string => p !== undefined));
  const found = (text: string, path: string): { line: number; text: string; what: string }[] => {
    const hits = path.endsWith(".enc.yaml")
      ? [...commentCredentials(text), ...credentialNameKeys(text, path)]
      : path === PROJECT_FILE || catalogs.has(path) || configs.some((f) => f.matches(path))
        ? credentialLines(text)
        : [];
    if (hits.length === 0) return [];
    const lines = textLines(text);
    return hits.map((h) => {
      const at = lines.findIndex((l) => l.start <= h.range.start && h.range.start <= l.start + l.text.length);
      return { line: at + 1, text: text.slice(h.range.start, h.range.end).trim(), what: h.what };
    });
  };
  const out: ReviewProblem[] = [];
  for (const v of versions) {
    const hits = found(v.text, v.path);
    if (hits.length === 0) continue;
    const known = new Set<string>();
    for (const state of [base, head]) {
      const text = state.readText(v.path);
      if (typeof text === "string") for (const h of found(text, v.path)) known.add(h.text);
    }
    const fresh = hits.filter((h) => !known.has(h.text) && !reported.has(`${v.path}\u0000${h.text}`));
    if (fresh.length === 0) continue;
    for (const h of hits) reported.add(`${v.path}\u0000${h.text}`);
    const first = fresh[0] as { line: number; what: string };
    out.push({
      kind: "plaintext",
      file: v.path,
      line: first.line,
      commit: v.commit,
      message: earlierPush
        ? `${w.path(v.path)}:${first.line} ${earlierPushWords(v.commit, "").at} holds ${first.what}${fresh.length > 1 ? ` (and ${fresh.length - 1} more line${fresh.length === 2 ? "" : "s"} with a credential)` : ""} in clear text: ` +
          earlierPushWords(v.commit, "it").fix
        : `${w.path(v.path)}:${first.line} at commit ${v.commit.slice(0, 10)} of this change holds ${first.what}${fresh.length > 1 ? ` (and ${fresh.length - 1} more line${fresh.length === 2 ? "" : "s"} with a credential)` : ""} in clear text, ` +
          `taken out again later: the commit is in this branch's history, and merging it puts the credential in every clone; treat it as leaked and change it at the provider, ` +
          `and drop that commit from the branch (\`git rebase -i\`, or squash) before it is merged`,
    });
  }
  return out;
}

/**
 * The keys of a version of an environment file that look like credentials ({@link credentialAsName}:
 * names are not encrypted), as {@link commentCredentials} gives its hits: the key's range and what
 * it looks like, never the name.
 */
function credentialNameKeys(text: string, path: string): { range: { start: number; end: number }; what: string }[] {
  return credentialNameEntries(text, path).map((e) => ({ range: e.range, what: `${e.looks} as a secret's name` }));
}

/** The entries of a version of an environment file (`path` `<env>.enc.yaml`) whose names look like credentials, with what each looks like ({@link credentialAsName}). */
function credentialNameEntries(text: string, path: string): { name: string; range: { start: number; end: number }; looks: string }[] {
  const environment = environmentOfFileName(path.slice(path.lastIndexOf("/") + 1));
  if (environment === undefined) return [];
  const out: { name: string; range: { start: number; end: number }; looks: string }[] = [];
  for (const e of parseEnvironmentFile(text, path, environment).entries) {
    const looks = credentialAsName(e.name);
    if (looks !== undefined) out.push({ name: e.name, range: e.range, looks });
  }
  return out;
}

/**
 * The secret names that look like credentials ({@link credentialAsName}) in the environment files
 * of `states` (a review's base and head) and in the versions of environment files (`*.enc.yaml`)
 * that the range's commits wrote (`versions`): the names `review` never prints, in any format
 * ({@link hideCredentialNamesIn} over the finished report, once `withVerification`, which matches
 * secrets by name, is done). Empty for a repository without one.
 */
export function credentialNamesOf(states: readonly ReviewState[], versions: readonly PathVersion[] = []): Set<string> {
  const out = new Set<string>();
  for (const s of states) for (const name of s.index?.credentialNames() ?? []) out.add(name);
  for (const v of versions) if (v.path.endsWith(".enc.yaml")) for (const e of credentialNameEntries(v.text, v.path)) out.add(e.name);
  return out;
}
