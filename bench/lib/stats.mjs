// Small helpers shared by the benchmarks: the median of samples, a millisecond figure, the wall
// time of one async call. (Command-line options: scripts/script-args.mjs.)

/** The median of `xs` (numbers). */
export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** `x` milliseconds as text, one decimal. */
export const ms = (x) => `${x.toFixed(1)} ms`;

/** Wall time of `await fn()`, in milliseconds. */
export async function time(fn) {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}
