/**
 * Secret names as environment variable names, for `exec` and `export --format dotenv`: the name
 * upper-cased; names that are not valid variable names, and names that collide, are errors.
 */
import { describeStartupVariableName, isStartupVariable, secretVariableName, shellWord, startupVariableEffect } from "@stellar-secrets/core";
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
    const variable = secretVariableName(name);
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
 * is wrapped in a quote character it does not contain — `"` for values without `"`, a backslash,
 * a line break, `$` or a backtick (the common case), else `'`, else `"`, else a backtick; line
 * breaks stay literal inside the quotes. A file of such lines is often sourced by a shell
 * (`set -a; . ./.env`) or read by docker compose, which expand `$` and backticks inside `"`:
 * so a value holding `$` or a backtick is single-quoted whenever it has no `'`, and then a shell
 * reads it back exactly too and runs nothing. Only a value holding `'` as well as `$`, a backtick,
 * `"` or a backslash keeps a form a shell would expand (`"` or a backtick): dotenv still reads it
 * exactly, a shell does not (use {@link quoteShell} for a shell). Returns undefined when no form
 * reads back exactly: the value holds `"`, `'` and a backtick together, a carriage return (both
 * normalise it to a newline) or a NUL.
 */
export function quoteDotenv(value: string): string | undefined {
  if (/[\r\0]/.test(value)) return undefined;
  if (!/["\\\n$`]/.test(value)) return `"${value}"`;
  if (!value.includes("'")) return `'${value}'`;
  if (!/["\\\n]/.test(value)) return `"${value}"`;
  if (!value.includes("`")) return `\`${value}\``;
  return undefined;
}

/**
 * The value as one POSIX shell word that expands to exactly the value (sh, dash, bash, ksh,
 * zsh): core's {@link shellWord} with `quote: "always"` — wrapped in `'`, each `'` written
 * `'\''`, even a plain value. Nothing inside single quotes is expanded — no `$`, backtick,
 * backslash or history expansion — and line breaks, carriage returns and any Unicode stay as they
 * are. Returns undefined for a value holding a NUL, which no shell variable (and no environment
 * variable) can hold.
 */
export function quoteShell(value: string): string | undefined {
  if (value.includes("\0")) return undefined;
  return shellWord(value, { quote: "always" });
}

/** The startup variables (`NODE_OPTIONS`, `LD_*`, `PATH`, …) are core's, which `check` warns with (`invalid-secret-name`). */
export { isStartupVariable } from "@stellar-secrets/core";

/**
 * Throws `CliError("STARTUP_VARIABLE")` for the first secret of `variables` (secret name →
 * variable, from {@link variableNames}) whose variable {@link isStartupVariable}; `what` says what
 * did not happen ("nothing was run", "nothing was written"). Names only, never values.
 */
export function refuseStartupVariables(variables: ReadonlyMap<string, string>, what: string): void {
  for (const [name, variable] of variables) {
    if (isStartupVariable(variable)) {
      throw new CliError("STARTUP_VARIABLE", `secret "${name}" would set ${variable}, ${startupVariableEffect(variable)}; ${what}`, {
        hint: "leave it out with --only, or pass --allow-startup-variables if the value is meant to do that",
      });
    }
  }
}

/**
 * The note `set` prints on stderr (before it reads the value) when it creates secret `name` whose
 * variable is a startup variable: `check` warns about such a name (`invalid-secret-name`,
 * warning) and `exec`/`export` refuse it, but the value is still written (a reference and `get`
 * work). Core's {@link describeStartupVariableName} says which variable and how to rename;
 * undefined for any other name. Names only, never a value.
 */
export function startupVariableNote(name: string): string | undefined {
  const why = describeStartupVariableName(name);
  return why === undefined ? undefined : `note: ${why}; set writes the value all the same (\`check\` warns: invalid-secret-name)`;
}

/** The variable that holds an age private key itself (not a path to one), as sops reads it. */
export const AGE_KEY_VARIABLE = "SOPS_AGE_KEY";

/**
 * The environment of `exec`'s child: `base` plus each value under its variable
 * (`variables`, from {@link variableNames}), without `SOPS_AGE_KEY` unless `keepAgeKey`: that
 * variable is a private key (it opens every value of the environment, and later ones until a
 * rotation), which the command needs no more than any other program, and which a program's
 * crash report, debug page or `env` dump would show. Variables that name a key file stay (a
 * path reveals nothing). Throws `CliError("STARTUP_VARIABLE")` for a variable of
 * {@link isStartupVariable} unless `allowStartupVariables` (`--override` does not allow it),
 * `CliError("VARIABLE_COLLISION")` for a variable already set in
 * `base` unless `override`, and `CliError("UNREPRESENTABLE_VALUE")` for a value holding a NUL (an
 * environment variable cannot: node would refuse it with an error that quotes the value).
 * Messages name secrets and variables, never values. `base` is not changed.
 */
export function childEnvironment(
  base: Readonly<Record<string, string | undefined>>,
  values: ReadonlyMap<string, string>,
  variables: ReadonlyMap<string, string>,
  options: { override?: boolean; keepAgeKey?: boolean; allowStartupVariables?: boolean },
): Record<string, string | undefined> {
  if (options.allowStartupVariables !== true) refuseStartupVariables(variables, "nothing was run");
  const env: Record<string, string | undefined> = { ...base };
  if (options.keepAgeKey !== true) delete env[AGE_KEY_VARIABLE];
  for (const [name, variable] of variables) {
    const value = values.get(name) as string;
    if (value.includes("\0")) {
      throw new CliError("UNREPRESENTABLE_VALUE", `the value of "${name}" holds a NUL byte, which an environment variable cannot carry; nothing was run`, {
        hint: "fix the value (`stellar-secrets set`), or leave it out with --only",
      });
    }
    if (base[variable] !== undefined && options.override !== true) {
      throw new CliError("VARIABLE_COLLISION", `secret "${name}" would replace the variable ${variable}, which is already set`, {
        hint: "unset it first, leave the secret out with --only, or pass --override",
      });
    }
    env[variable] = value;
  }
  return env;
}
