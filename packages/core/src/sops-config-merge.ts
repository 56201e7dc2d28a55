/**
 * A three-way merge of `.sops.yaml` per creation rule, for the merge driver. `stellar-secrets
 * members …` and `rotate-key` rewrite only the `age` value of the rule sops picks for an
 * environment, and the rules of environments with the same members are identical lines: git's
 * text merge then conflicts when two branches change the members of *different* environments
 * (its hunks of neighbouring or identical lines overlap), although each rule was changed on one
 * side only. Here the rules are aligned by position instead of by lines. Pure: text in, text out.
 */
import { parseSopsConfig, type ParsedSopsConfig } from "./sops-config.js";
import type { TextRange } from "./position.js";

/** The result of {@link mergeSopsConfigs}. */
export interface SopsConfigMerge {
  /** The merged text: our side's, with the `age` value of each rule in `fromTheirs` taken from theirs. */
  text: string;
  /** The rules (0-based positions in `creation_rules`) whose recipients were taken from their side. */
  fromTheirs: number[];
  /**
   * The rules whose recipients both sides changed, merged as a set (in when either side added it or
   * both kept it; out when either removed it), written in our rule's form. Absent when none.
   */
  combined?: number[];
}

/**
 * The recipients of a rule both sides changed, three-way as a set: a recipient either side added is
 * in, one either side removed is out; ours' order, then theirs' additions in theirs' order.
 */
function mergeRecipients(base: readonly string[], ours: readonly string[], theirs: readonly string[]): string[] {
  const [b, o, t] = [new Set(base), new Set(ours), new Set(theirs)];
  const keep = (k: string): boolean => (b.has(k) ? o.has(k) && t.has(k) : o.has(k) || t.has(k));
  return [...new Set([...ours, ...theirs])].filter(keep);
}

/**
 * `recipients` written in the form of `written`, our rule's `age` value (starting at `column` of
 * its line): a one-line comma-separated string (with or without a space after each comma), a flow
 * list, or a block list. Undefined for any other form (quoted, folded, a comment inside).
 */
function writeRecipients(written: string, column: string, recipients: readonly string[]): string | undefined {
  if (recipients.length === 0 || written.includes("#") || /['"]/.test(written)) return undefined;
  if (/^[^\s\[\]{}\n-][^\n\[\]{}]*$/.test(written)) return recipients.join(written.includes(", ") ? ", " : ",");
  if (/^\[[^\n\[\]{}]*\]$/.test(written)) return `[${recipients.join(", ")}]`;
  const lines = written.replace(/\n$/, "").split("\n");
  if (/^[ ]*$/.test(column) && lines.every((l, i) => new RegExp(`^${i === 0 ? "" : column}- [^\\s,]+$`).test(l))) {
    return recipients.map((k, i) => `${i === 0 ? "" : column}- ${k}`).join("\n") + (written.endsWith("\n") ? "\n" : "");
  }
  return undefined;
}

/** The `age` value ranges of every rule, in order, or undefined when a rule has none or uses `key_groups`, or the ranges are not in order (an alias). */
function ageSpans(config: ParsedSopsConfig): TextRange[] | undefined {
  const spans: TextRange[] = [];
  let end = 0;
  for (const rule of config.rules) {
    // (a rule without recipients, or with key_groups (Shamir), is left to git's text merge)
    if (rule.keyGroups || rule.age.length === 0 || rule.otherKeys.length > 0 || rule.range.start < end || rule.range.end <= rule.range.start) return undefined;
    spans.push(rule.range);
    end = rule.range.end;
  }
  return spans;
}

/**
 * `text` with each span replaced by one NUL and each line's indentation dropped: what must be the
 * same on every side. (An edit re-indents a file written in another layout, `init`'s before it
 * wrote 2 spaces; the rules' structure is compared as parsed, and the result is read back.)
 */
function skeleton(text: string, spans: readonly TextRange[]): string {
  let out = "";
  let at = 0;
  for (const s of spans) {
    out += `${text.slice(at, s.start)}\u0000`;
    at = s.end;
  }
  return (out + text.slice(at)).replace(/^[ \t]+/gm, "");
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const x = new Set(a);
  const y = new Set(b);
  return x.size === y.size && [...x].every((v) => y.has(v));
}

/**
 * Merges three versions of a `.sops.yaml` (`path` relative to the root, for messages) when they
 * differ only in the recipients (`age`) of their creation rules: each rule takes the side that
 * changed its recipients (as a set), or ours when both made the same change; a rule only one side
 * edited at all (say, only how its recipients are written) is that side's text. When one side is
 * the base, the result is the other side byte for byte. A rule both sides changed differently
 * gets the recipients merged as a set (added by either: in; removed by either: out), written in our
 * rule's form (`combined`). Undefined — and the caller falls back to git's text merge — when
 * anything else differs (a comment, a rule added, removed or moved, a `path_regex`), when a rule
 * uses `key_groups` or another key type, when a version cannot be read or uses an anchor, an alias
 * or a tag, or when both sides changed one rule's recipients differently and either side writes
 * them in a form other than a one-line string, a flow list or a plain block list, or the merged set is
 * empty.
 */
export function mergeSopsConfigs(base: string, ours: string, theirs: string, path: string): SopsConfigMerge | undefined {
  const configs = [parseSopsConfig(base, path), parseSopsConfig(ours, path), parseSopsConfig(theirs, path)] as const;
  // (an anchor, alias or tag: one edit can change another place, or readers disagree; git merges it as text)
  if (configs.some((c) => c.problem !== undefined || c.nonPlain !== undefined || c.rules.length === 0)) return undefined;
  const [b, o, t] = configs;
  if (b.rules.length !== o.rules.length || b.rules.length !== t.rules.length) return undefined;
  const [bs, os, ts] = [ageSpans(b), ageSpans(o), ageSpans(t)];
  if (bs === undefined || os === undefined || ts === undefined) return undefined;
  // one side changed nothing: the other side, byte for byte (as git's text merge gives it; the
  // skeleton below ignores indentation, which a merge from ours' text would then lose)
  if (theirs === base || theirs === ours) return { text: ours, fromTheirs: [] };
  if (ours === base) return { text: theirs, fromTheirs: t.rules.flatMap((r, i) => (sameSet(r.age, b.rules[i]!.age) ? [] : [i])) };
  const shape = skeleton(ours, os);
  if (skeleton(base, bs) !== shape || skeleton(theirs, ts) !== shape) return undefined;
  const fromTheirs: number[] = [];
  const combined = new Map<number, { text: string; age: string[] }>();
  for (let i = 0; i < o.rules.length; i++) {
    if (b.rules[i]!.pathRegex !== o.rules[i]!.pathRegex || t.rules[i]!.pathRegex !== o.rules[i]!.pathRegex) return undefined;
    const [xb, xo, xt] = [base.slice(bs[i]!.start, bs[i]!.end), ours.slice(os[i]!.start, os[i]!.end), theirs.slice(ts[i]!.start, ts[i]!.end)];
    if (xt === xb || xt === xo) continue; // theirs did not edit it, or made our edit: ours
    if (xo === xb) {
      fromTheirs.push(i); // only theirs edited it (its recipients, or only how they are written): theirs
      continue;
    }
    const [rb, ro, rt] = [b.rules[i]!.age, o.rules[i]!.age, t.rules[i]!.age];
    if (sameSet(rt, ro) || sameSet(rt, rb)) continue; // the same recipients, or theirs only rewrote them: ours
    if (sameSet(ro, rb)) {
      fromTheirs.push(i); // ours only rewrote them: theirs
      continue;
    }
    // both changed this rule's recipients differently (the rest of the file is the same on every
    // side): merged as a set, written in our rule's form; a form we cannot write is left to a person
    const age = mergeRecipients(rb, ro, rt);
    const start = os[i]!.start;
    const written = writeRecipients(xo, ours.slice(ours.lastIndexOf("\n", start - 1) + 1, start), age);
    // (either side in a form we cannot write: left to a person, whichever side is ours)
    const theirStart = ts[i]!.start;
    if (written === undefined || writeRecipients(xt, theirs.slice(theirs.lastIndexOf("\n", theirStart - 1) + 1, theirStart), age) === undefined) return undefined;
    combined.set(i, { text: written, age });
  }
  let text = ours;
  for (let i = o.rules.length - 1; i >= 0; i--) {
    const span = os[i]!;
    const replacement = fromTheirs.includes(i) ? theirs.slice(ts[i]!.start, ts[i]!.end) : combined.get(i)?.text;
    if (replacement !== undefined) text = text.slice(0, span.start) + replacement + text.slice(span.end);
  }
  // the result must read as the rules chosen, or nothing is merged
  const merged = parseSopsConfig(text, path);
  if (merged.problem !== undefined || merged.rules.length !== o.rules.length) return undefined;
  for (let i = 0; i < merged.rules.length; i++) {
    const want = fromTheirs.includes(i) ? t.rules[i]! : o.rules[i]!;
    const got = merged.rules[i]!;
    if (!sameSet(got.age, combined.get(i)?.age ?? want.age) || got.pathRegex !== want.pathRegex || got.keyGroups || got.otherKeys.length > 0) return undefined;
  }
  return combined.size > 0 ? { text, fromTheirs, combined: [...combined.keys()].sort((x, y) => x - y) } : { text, fromTheirs };
}

/**
 * Why a clean text merge of three `.sops.yaml` versions (git's `merge-file`, which the merge driver
 * falls back to where {@link mergeSopsConfigs} declines) must not be taken as it is, or undefined
 * when it may: git merges lines, and lines each side kept valid can combine into a file that
 * says something neither side said. Reported (as text, for a person):
 * - the merged text cannot be read (not YAML, a key twice, ...) although every version can: one
 *   side re-indented every line (a first member change re-indents a file in `init`'s old layout),
 *   the other added a rule in the old indentation;
 * - a `path_regex` has more rules in the merged text than in any version: both sides added a rule
 *   for the same files (with their own recipients), and sops would use only the first of them.
 * Pure; never throws.
 */
export function textMergedSopsConfigProblem(base: string, ours: string, theirs: string, merged: string, path: string): string | undefined {
  const versions = [parseSopsConfig(base, path), parseSopsConfig(ours, path), parseSopsConfig(theirs, path)];
  const result = parseSopsConfig(merged, path);
  if (result.problem !== undefined) {
    return versions.every((v) => v.problem === undefined) ? `the merged text cannot be read, although each side's can (${result.problem.message})` : undefined;
  }
  const counts = (rules: readonly { pathRegex: string | undefined }[]): Map<string, number> => {
    const out = new Map<string, number>();
    for (const r of rules) if (r.pathRegex !== undefined) out.set(r.pathRegex, (out.get(r.pathRegex) ?? 0) + 1);
    return out;
  };
  const before = versions.map((v) => counts(v.rules));
  for (const [regex, n] of counts(result.rules)) {
    if (n > 1 && before.every((c) => (c.get(regex) ?? 0) < n)) {
      return `both sides added a creation rule for path_regex ${JSON.stringify(regex)}: the merged text has ${n}, and sops uses only the first`;
    }
  }
  return undefined;
}
