// Small helpers shared by the benchmarks: the median of samples, a millisecond figure, the wall
// time of one async call, and a numeric command-line option.

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

/** The number after `--name` in `args` (removed from it, so what is left are positionals), else `dflt`. */
export function numberOption(args, name, dflt) {
  const i = args.indexOf(name);
  if (i === -1) return dflt;
  const v = Number(args[i + 1]);
  args.splice(i, 2);
  return v;
}
