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
  let prev2 = new Array<number>(n + 1).fill(0);
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  let cur = new Array<number>(n + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    let rowMin = i;
    for (let j = 1; j <= n; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a.charCodeAt(i - 1) === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === b.charCodeAt(j - 1)) {
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

/**
 * The known name nearest to `name`: first one equal ignoring case, else the one with the
 * smallest edit distance if it is at most a third of the name's length (at least 1, at most 3);
 * ties go to the name that sorts first. `undefined` when nothing is close.
 */
export function nearestName(name: string, known: Iterable<string>): NearestName | undefined {
  const lower = name.toLowerCase();
  const limit = Math.min(3, Math.max(1, Math.floor(name.length / 3)));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of known) {
    if (candidate === name) continue;
    if (candidate.toLowerCase() === lower) return { name: candidate, caseOnly: true };
    const d = editDistance(lower, candidate.toLowerCase(), bestDistance);
    if (d < bestDistance || (d === bestDistance && best !== undefined && candidate < best)) {
      if (d <= limit) {
        best = candidate;
        bestDistance = d;
      }
    }
  }
  return best === undefined ? undefined : { name: best, caseOnly: false };
}
