// The seeded randomness of the fuzzes (scripts/fuzz.mjs, scripts/fuzz-config-merge.mjs) and of the
// randomised tests (test/cli-races.test.ts, test/sops-concurrency.test.ts): the same seed gives the
// same cases on every run and machine.

/** mulberry32: a small seeded PRNG (deterministic across runs and machines). */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `rand` (numbers in [0, 1) from {@link prng}), an integer below `n`, an element of a list, a coin with probability `p`. */
export function seeded(seed) {
  const rand = prng(seed);
  const int = (n) => Math.floor(rand() * n);
  return { rand, int, pick: (xs) => xs[int(xs.length)], chance: (p) => rand() < p };
}
