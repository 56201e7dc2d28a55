// The one command-line parser of the repository's own scripts and benchmarks (scripts/*.mjs,
// bench/**/*.mjs): node's `util.parseArgs`, strict, plus `--help`. A script's usage is written once,
// in its header comment; `--help` (or `-h`) prints that comment and exits 0. An unknown flag, a
// flag without its value, a stray argument or a value that is not a whole number where one is due
// is refused before any work starts: what is wrong and how to see the usage, on stderr, exit
// status 2. (Before, `node scripts/fuzz-team.mjs --help` ended in a stack trace, and a typo such
// as `node bench/check.mjs --no-wrte` started a ten-minute benchmark that then wrote the docs.)
import { readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * The header comment of a script's text (after a `#!` line): a leading `/** … *\/` block or the
 * leading run of `//` lines, without the comment markers, ending in a newline.
 */
export function headerComment(text) {
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  if (lines[0]?.startsWith("#!")) lines.shift();
  const out = [];
  if (lines[0]?.trimStart().startsWith("/**")) {
    for (const line of lines) {
      const end = line.includes("*/");
      const body = line.replace(/^\s*\/\*\*\s?/, "").replace(/\s*\*\/.*$/, "").replace(/^\s*\*( |$)/, "");
      if (!(end && body.trim() === "") && !(out.length === 0 && body.trim() === "")) out.push(body);
      if (end) break;
    }
  } else {
    for (const line of lines) {
      if (!line.startsWith("//")) break;
      out.push(line.replace(/^\/\/ ?/, ""));
    }
  }
  while (out.length > 0 && out[out.length - 1].trim() === "") out.pop();
  return `${out.join("\n")}\n`;
}

/**
 * Parses `process.argv` for the script at `scriptUrl` (its `import.meta.url`). `options` are
 * `util.parseArgs` options; `numbers` names the options whose value must be a whole number;
 * `positionals: true` accepts arguments that are not flags. A first `--` (as some package
 * managers pass it through) is dropped. Returns `{ values, positionals }`; on `--help` prints the
 * header comment and exits 0; on a mistake prints it and exits 2 (never throws).
 */
export function scriptArgs(scriptUrl, { options = {}, numbers = [], positionals = false } = {}) {
  const file = fileURLToPath(scriptUrl);
  const name = relative(repoRoot, file);
  let argv = process.argv.slice(2);
  if (argv[0] === "--") argv = argv.slice(1);
  const end = argv.indexOf("--");
  const flags = end === -1 ? argv : argv.slice(0, end);
  if (flags.includes("--help") || flags.includes("-h")) {
    process.stdout.write(headerComment(readFileSync(file, "utf8")));
    process.exit(0);
  }
  const refuse = (what) => {
    process.stderr.write(`${name}: ${what}\n(\`node ${name} --help\` prints its usage)\n`);
    process.exit(2);
  };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: positionals, strict: true });
  } catch (error) {
    // node's messages name the argument ("Unknown option '--no-wrte'"); drop its advice on `--`,
    // which speaks of parseArgs' own API, not of this script
    refuse(String(error.message).replace(/\. To specify a positional argument starting with a '-'.*$/s, "").replace(/\.$/, ""));
  }
  for (const key of numbers) {
    const value = parsed.values[key];
    if (value !== undefined && !/^\d+$/.test(value)) refuse(`--${key} takes a whole number, not ${JSON.stringify(value)}`);
  }
  return parsed;
}
