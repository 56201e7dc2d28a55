/**
 * "Did you mean …?" for mistyped command and flag names: the nearest known word by edit
 * distance, counting a swap of two neighbouring letters as one edit (`lsit` → `list`).
 */

/** Edit distance with adjacent transpositions (optimal string alignment), case-insensitive. */
export function typoDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const rows: number[][] = Array.from({ length: x.length + 1 }, (_, i) => Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[x.length]![y.length]!;
}

/**
 * The known word nearest to `typed`, when it is close enough to be a typo: at most one edit for
 * words of up to 4 letters, two for longer ones; a known word that `typed` starts (`rot` →
 * `rotate-key`) otherwise. Ties go to the earlier word of `known`. Undefined when nothing is close.
 */
export function didYouMean(typed: string, known: readonly string[]): string | undefined {
  const limit = typed.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const word of known) {
    const d = typoDistance(typed, word);
    if (d < bestDistance) {
      best = word;
      bestDistance = d;
    }
  }
  if (best !== undefined || typed.length < 2) return best;
  return known.find((w) => w.toLowerCase().startsWith(typed.toLowerCase()));
}
