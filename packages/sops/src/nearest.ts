/** The closest known name to a name that was not found. */
export interface NearestName {
  name: string;
  /** True when the two names are equal ignoring case (names are case-sensitive). */
  caseOnly: boolean;
}

/**
 * Edit distance with adjacent transpositions (optimal string alignment), so that a swapped pair
 * of letters (`stripe_api_kye`) counts as one edit. Stops early and returns `limit + 1` once
 * every path exceeds `limit`.
 */
export function editDistance(a: string, b: string, limit = Number.POSITIVE_INFINITY): number {
  if (a === b) return 0;
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  const n = b.length;
  if (rows[0]!.length < n + 1) rows = [new Int32Array(n + 1), new Int32Array(n + 1), new Int32Array(n + 1)];
  // three reused rows: no allocation per call (the checker compares a name with every known name)
  let [prev2, prev, cur] = rows as [Int32Array, Int32Array, Int32Array];
  for (let j = 0; j <= n; j++) {
    prev[j] = j;
    prev2[j] = 0;
  }
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    let rowMin = i;
    const ai = a.charCodeAt(i - 1);
    const aPrev = i > 1 ? a.charCodeAt(i - 2) : -1;
    for (let j = 1; j <= n; j++) {
      const bj = b.charCodeAt(j - 1);
      const cost = ai === bj ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && ai === b.charCodeAt(j - 2) && aPrev === bj) {
        d = Math.min(d, prev2[j - 2]! + 1);
      }
      cur[j] = d;
      if (d < rowMin) rowMin = d;
    }
    if (rowMin > limit) return limit + 1;
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[n]!;
}
let rows: Int32Array[] = [new Int32Array(64), new Int32Array(64), new Int32Array(64)];

/** How often each character occurs in `text`, by its code modulo 128 (merged buckets only lower {@link charDifference}). */
function charCounts(text: string): Int32Array {
  const counts = new Int32Array(128);
  for (let i = 0; i < text.length; i++) counts[text.charCodeAt(i) & 127]!++;
  return counts;
}

/**
 * A lower bound of {@link editDistance} between the text `counts` was made of (`length`
 * characters) and `other`: the larger number of characters either has that the other lacks. An
 * insertion, deletion or substitution changes each number by at most one, a transposition by
 * none. `counts` is left as it was.
 */
function charDifference(counts: Int32Array, length: number, other: string): number {
  let unmatched = 0; // characters of `other` the first text does not have
  for (let i = 0; i < other.length; i++) if (--counts[other.charCodeAt(i) & 127]! < 0) unmatched++;
  for (let i = 0; i < other.length; i++) counts[other.charCodeAt(i) & 127]!++;
  return Math.max(unmatched, length - (other.length - unmatched));
}

/** How {@link nearestName} judges a typo. */
export interface NearestNameOptions {
  /**
   * Git's and cargo's judgement of a typo, for the names a person types (`set`, `get` and the
   * CLI's other hints): within a third of the name's length (at least 1, not 2), never as many
   * edits as the shorter name has characters, never by rewriting a whole word of the name (the
   * parts between `_`, `-`, `.` and `/`: `c_key` is not a typo of `a_key`, `api_key` is one of
   * `apy_key`), and of equally close names a swap of two neighbouring characters first.
   */
  strict?: boolean;
}

/**
 * The one "did you mean" of the repository (the checker, the CLI and the resolver all use it):
 * the known name nearest to `name`. First a name equal ignoring case (`caseOnly: true`; names are
 * case-sensitive), else the closest by {@link editDistance} within a third of the name's length
 * (at least 2), ties going to the name that sorts first; else, for names of three characters or
 * more, the shortest known name that starts with it (an abbreviation: `prod` for `production`).
 * Never `name` itself; `undefined` when nothing is close. `options.strict`: see
 * {@link NearestNameOptions} (the CLI's suggestions for typed names).
 */
export function nearestName(name: string, known: Iterable<string>, options?: NearestNameOptions): NearestName | undefined {
  const strict = options?.strict === true;
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestSwap = false; // strict: whether the best so far is one swap of neighbouring characters away
  let bestDistance = strict ? Math.max(1, Math.floor(name.length / 3)) : Math.max(2, Math.floor(name.length / 3));
  const candidates = Array.isArray(known) ? (known as readonly string[]) : [...known];
  const counts = charCounts(lower);
  for (const c of candidates) {
    if (c === name) continue;
    const cLower = c.toLowerCase();
    if (cLower === lower) return { name: c, caseOnly: true };
    const swap = strict && isSwap(lower, cLower);
    // a candidate that sorts after the best so far only wins by being strictly closer: a lower limit stops it sooner
    // (strict: a swap wins a tie against what is not one, whatever the order)
    const tieWins = best === undefined || (strict && swap !== bestSwap ? swap : c < best);
    if (!tieWins && bestDistance <= 1) continue; // nothing is closer than 1 but a case-only match, checked above
    const limit = tieWins ? bestDistance : bestDistance - 1;
    // the characters the two names do not share bound the distance from below: most names are skipped without the full one
    if (Math.abs(cLower.length - lower.length) > limit || charDifference(counts, lower.length, cLower) > limit) continue;
    const d = editDistance(lower, cLower, limit);
    if (d < bestDistance || (d === bestDistance && tieWins)) {
      if (strict && (d >= Math.min(lower.length, cLower.length) || rewritesAWord(lower, cLower))) continue;
      best = c;
      bestDistance = d;
      bestSwap = swap;
    }
  }
  if (best === undefined && name.length >= 3) {
    for (const c of candidates) {
      if (c !== name && c.toLowerCase().startsWith(lower) && (best === undefined || c.length < best.length || (c.length === best.length && c < best))) best = c;
    }
  }
  return best === undefined ? undefined : { name: best, caseOnly: false };
}

/**
 * The names of `known` (other than `except`) exactly `distance` edits from `name`, ignoring case
 * ({@link editDistance}), in their order: the others as near as {@link nearestName}'s answer (an
 * ambiguous typo). Most names are ruled out by length and by the characters they do not share,
 * without the full distance, as in {@link nearestName}.
 */
export function namesAtDistance(name: string, known: readonly string[], distance: number, except: ReadonlySet<string>): string[] {
  const lower = name.toLowerCase();
  const counts = charCounts(lower);
  const out: string[] = [];
  for (const c of known) {
    if (except.has(c)) continue;
    const cLower = c.toLowerCase();
    if (Math.abs(cLower.length - lower.length) > distance || charDifference(counts, lower.length, cLower) > distance) continue;
    if (editDistance(lower, cLower, distance) === distance) out.push(c);
  }
  return out;
}

/** True when `b` is `a` with two neighbouring (different) characters swapped. */
function isSwap(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let i = 0;
  while (i < a.length && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i + 1 >= a.length || a.charCodeAt(i) !== b.charCodeAt(i + 1) || a.charCodeAt(i + 1) !== b.charCodeAt(i)) return false;
  return a.slice(i + 2) === b.slice(i + 2);
}

/** The characters that part the words of a name. */
const WORD_BREAK = /[_\-./]/;

/**
 * True when `a` and `b` have as many words (see {@link NearestNameOptions}) and some word of one
 * differs from the other's by as many edits as the shorter of the two has characters: a word
 * replaced, not mistyped (`c_key` and `a_key`).
 */
function rewritesAWord(a: string, b: string): boolean {
  const wa = a.split(WORD_BREAK);
  const wb = b.split(WORD_BREAK);
  if (wa.length !== wb.length) return false;
  for (let i = 0; i < wa.length; i++) {
    const x = wa[i]!;
    const y = wb[i]!;
    if (x !== y && editDistance(x, y) >= Math.min(x.length, y.length)) return true;
  }
  return false;
}

// eslint-disable-next-line no-control-regex, no-misleading-character-class
const INVISIBLE =
  /[\u0000-\u001f\u007f-\u009f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufeff\uffa0\ufff9-\ufffb\u{e0000}-\u{e007f}]/gu;

/**
 * `text` with every control character (C0 except line feed when `keepNewlines`, DEL, C1, and the
 * Unicode bidirectional controls, line/paragraph separators and invisible format characters such as
 * the zero-width space) written
 * as a visible escape (`\x1b`, `\u0085`), so a name or path from a file or an argument cannot
 * move the cursor, recolour or rewrite a terminal when it appears in a message.
 */
export function escapeControlCharacters(text: string, options: { keepNewlines?: boolean } = {}): string {
  // C0, DEL, C1; the Unicode bidirectional controls (marks, embeddings, overrides, isolates) and
  // line/paragraph separators, which reorder or break what a terminal or a web page shows; and the
  // invisible format characters (zero-width space and joiners, word joiner and invisible operators,
  // byte order mark, soft hyphen, grapheme joiner, Hangul fillers, Mongolian selectors, interlinear
  // annotations, tag characters), with which two different names look the same
  return text.replace(INVISIBLE, (c) => {
    if (c === "\n" && options.keepNewlines === true) return c;
    const code = c.codePointAt(0) as number;
    if (code > 0xffff) return `\\u{${code.toString(16)}}`;
    if (c === "\n") return "\\n";
    if (c === "\r") return "\\r";
    if (c === "\t") return "\\t";
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}
