/**
 * Secret names as environment variable names, for `exec` and `export --format dotenv`: the name
 * upper-cased; names that are not valid variable names, and names that collide, are errors.
 */
import { CliError } from "./errors.js";
import { unknownSecretHint } from "./suggest.js";

/** What a portable environment variable name matches (POSIX: letters, digits, `_`, no leading digit). */
export const VARIABLE_NAME = /^[A-Z_][A-Z0-9_]*$/;

/**
 * Maps each secret name to its variable name (upper-cased), in the given order.
 * Throws `CliError("INVALID_VARIABLE_NAME")` or `CliError("VARIABLE_COLLISION")` (two secrets
 * giving one variable); the messages name the secrets, never values.
 */
export function variableNames(names: Iterable<string>): Map<string, string> {
  const out = new Map<string, string>();
  const owner = new Map<string, string>();
  for (const name of names) {
    const variable = name.toUpperCase();
    if (!VARIABLE_NAME.test(variable)) {
      throw new CliError("INVALID_VARIABLE_NAME", `secret "${name}" does not make a valid environment variable name ("${variable}")`, {
        hint: "variable names are letters, digits and _, not starting with a digit; leave it out with --only",
      });
    }
    const previous = owner.get(variable);
    if (previous !== undefined) {
      throw new CliError("VARIABLE_COLLISION", `secrets "${previous}" and "${name}" both become the variable ${variable}`, {
        hint: "leave one out with --only",
      });
    }
    owner.set(variable, name);
    out.set(name, variable);
  }
  return out;
}

/**
 * The entries of `values` restricted to `only` (all when empty), in name order.
 * Throws `CliError("UNKNOWN_SECRET")` for a name in `only` that has no value in `env`.
 */
export function selectValues(values: ReadonlyMap<string, string>, only: string[], env: string): Map<string, string> {
  for (const name of only) {
    if (!values.has(name)) {
      throw new CliError("UNKNOWN_SECRET", `--only: secret "${name}" has no value in ${env}`, {
        hint: unknownSecretHint(name, [], values.keys()),
      });
    }
  }
  const names = (only.length > 0 ? only : [...values.keys()]).slice().sort();
  return new Map(names.map((n) => [n, values.get(n) as string]));
}

/**
 * The quoted form of `value` for a dotenv line that the `dotenv` package and `node --env-file`
 * both read back exactly. Neither unescapes `\"`, `\\` or `\$`, so nothing is escaped: the value
 * is wrapped in a quote character it does not contain — `"` for values without `"`, a backslash
 * or a line break (the common case), else `'`, else a backtick; line breaks stay literal inside
 * the quotes. Returns undefined when no form reads back exactly: the value holds `"`, `'` and a
 * backtick together, a carriage return (both normalise it to a newline) or a NUL.
 */
export function quoteDotenv(value: string): string | undefined {
  if (/[\r\0]/.test(value)) return undefined;
  if (!/["\\\n]/.test(value)) return `"${value}"`;
  if (!value.includes("'")) return `'${value}'`;
  if (!value.includes("`")) return `\`${value}\``;
  return undefined;
}
