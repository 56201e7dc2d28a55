/**
 * Which checker diagnostics of a head state its base already had (for `review`'s `new` flag), the
 * way linters' baselines match: by the problem, not by the wording of its message. A message
 * carries context that changes without the problem changing (a "did you mean" that names a secret
 * added elsewhere, an excluded file that defines the name, a misspelled reference to an unused
 * secret, the line and column of another place, the list of declared environments), and lines
 * shift when lines are inserted above. So a head
 * diagnostic matches a base diagnostic of the same rule, file (across a rename) and secret when
 *
 * 1. the text at its range, the text of its line and its {@link problemStatement} are the same
 *    (the problem, moved up or down);
 * 2. else the text at its range and its problem statement are the same (its line was edited
 *    elsewhere: a comment added, another item of a flow list);
 * 3. else its whole message is the same (what review always matched: e.g. a value whose text
 *    changed under the same message, or a file whose text a side cannot give).
 *
 * Each base diagnostic matches at most one head diagnostic (the first unmatched one, in order, for
 * each pass), so a second copy of a problem is new. A problem whose name, text or statement
 * changed (another secret, another link target, another environment missing a value, another
 * recipient) matches nothing: it is new. Pure; the texts are only compared through hashes, so no
 * value of a file (a plaintext one included) is kept in a key.
 */
import { createHash } from "@stellar-secrets/sops";
import type { Diagnostic } from "../diagnostics.js";
import { LineIndex } from "../position.js";

/** One side of the comparison: its diagnostics and the text of its files (project-relative). */
export interface DiagnosticsSide {
  diagnostics: readonly Diagnostic[];
  /** The text of a file: undefined when absent, null when not valid UTF-8 (then only pass 3 can match). */
  readText(rel: string): string | null | undefined;
}

/**
 * Parenthesized asides that are context, not part of the problem: a "did you mean" (it names
 * whatever is nearest today), the list of declared environments, the other unresolved names of a
 * file. Every other aside carries a fact of the problem (a file, a member and their key, a field)
 * and counts, its numbers as `#` like the rest.
 */
const CONTEXT_ASIDE = /\s*\((?:did you mean\b|declared:|\d+ names of [^()]* are unresolved:)[^()]*\)/gi;

/**
 * The statement of the problem a checker message makes, without its context: the message up to
 * its first "; " (what follows is how to fix it, or a hint: a "did you mean", where an excluded
 * definition is, a reference that misspells an unused secret), without the asides that are
 * context ({@link CONTEXT_ASIDE}: a suggestion, the declared environments), with every number that
 * is not part of a word as `#` (a `file:line:column`, a line, a count of days) and white space
 * collapsed. Names stay (`stripe_key_2` and `lookup2` are kept), and so do the asides that name
 * one: `(actions/a.yaml:3:7)` is `(actions/a.yaml:#:#)`, so another file is another problem.
 */
export function problemStatement(message: string): string {
  const cut = message.indexOf("; ");
  const s = (cut === -1 ? message : message.slice(0, cut)).replace(CONTEXT_ASIDE, "");
  return s.replace(/(?<![\p{L}\p{N}_])\p{Nd}+/gu, "#").replace(/\s+/g, " ").trim();
}

/** What a diagnostic is matched on, computed once per diagnostic. */
interface Identity {
  /** Rule, file (the base's path for a renamed head file) and secret. */
  group: string;
  /** Hash of the text at the range (white space collapsed), undefined when the file's text is not known. */
  range: string | undefined;
  /** Hash of the text of its first line (trimmed, white space collapsed), undefined when not known. */
  line: string | undefined;
  statement: string;
  message: string;
}

const hash = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex").slice(0, 24);
const squeeze = (text: string): string => text.replace(/\s+/g, " ").trim();

function identities(side: DiagnosticsSide, pathOf: (d: Diagnostic) => string): Identity[] {
  const texts = new Map<string, { text: string; lines: LineIndex } | undefined>();
  const textOf = (file: string): { text: string; lines: LineIndex } | undefined => {
    if (texts.has(file)) return texts.get(file);
    const text = side.readText(file);
    const known = typeof text === "string" ? { text, lines: new LineIndex(text) } : undefined;
    texts.set(file, known);
    return known;
  };
  return side.diagnostics.map((d) => {
    const known = textOf(d.file);
    let range: string | undefined;
    let line: string | undefined;
    if (known !== undefined) {
      const start = known.lines.offsetAt(d.line, d.column);
      const end = Math.max(start, known.lines.offsetAt(d.endLine, d.endColumn));
      range = hash(squeeze(known.text.slice(start, end)));
      line = hash(squeeze(known.text.slice(known.lines.offsetAt(d.line, 1), known.lines.offsetAt(d.line + 1, 1))));
    }
    return { group: `${d.rule}\u0000${pathOf(d)}\u0000${d.secret ?? ""}`, range, line, statement: problemStatement(d.message), message: d.message };
  });
}

/** The keys of the three passes (undefined: the pass cannot match this diagnostic). */
const PASSES: readonly ((i: Identity) => string | undefined)[] = [
  (i) => (i.range === undefined || i.line === undefined ? undefined : `${i.group}\u0000${i.range}\u0000${i.line}\u0000${i.statement}`),
  (i) => (i.range === undefined ? undefined : `${i.group}\u0000${i.range}\u0000${i.statement}`),
  (i) => `${i.group}\u0000${i.message}`,
];

/**
 * For each of `head.diagnostics` (same order), true when `base` had that problem (see the module
 * comment for how they are matched). `renamed` maps a head path to the base path it was moved
 * from (git's rename detection). Never throws.
 */
export function matchBaseline(base: DiagnosticsSide, head: DiagnosticsSide, renamed: ReadonlyMap<string, string> = new Map()): boolean[] {
  const before = identities(base, (d) => d.file);
  const after = identities(head, (d) => renamed.get(d.file) ?? d.file);
  const baseUsed = new Array<boolean>(before.length).fill(false);
  const matched = new Array<boolean>(after.length).fill(false);
  for (const keyOf of PASSES) {
    // the unmatched base diagnostics of each key, in order
    const pool = new Map<string, { items: number[]; next: number }>();
    before.forEach((id, i) => {
      if (baseUsed[i]) return;
      const key = keyOf(id);
      if (key === undefined) return;
      const list = pool.get(key);
      if (list === undefined) pool.set(key, { items: [i], next: 0 });
      else list.items.push(i);
    });
    if (pool.size === 0) continue;
    after.forEach((id, i) => {
      if (matched[i]) return;
      const key = keyOf(id);
      const list = key === undefined ? undefined : pool.get(key);
      const at = list?.items[list.next];
      if (list === undefined || at === undefined) return;
      list.next++;
      baseUsed[at] = true;
      matched[i] = true;
    });
  }
  return matched;
}
