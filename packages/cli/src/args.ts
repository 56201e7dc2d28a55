/**
 * Argument parsing for sub-commands, over `node:util` `parseArgs` (strict): unknown flags, missing
 * flag values and surplus positionals are usage errors (`USAGE`, exit status 2); a mistyped flag
 * names the nearest one ("did you mean --env?") unless the command hides what was typed.
 */
import { parseArgs } from "node:util";
import { durationDays } from "@stellar-secrets/core";
import { didYouMean } from "./suggest.js";
import { CliError } from "./errors.js";

/** One flag, as `node:util` `parseArgs` takes it. */
export interface FlagSpec {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
}

/** The flags a command accepts, by long name. */
export type FlagSpecs = Record<string, FlagSpec>;

/** The parsed value of each flag: string(s) or boolean, `undefined` when absent. */
export type FlagValues<S extends FlagSpecs> = {
  [K in keyof S]?: S[K]["type"] extends "boolean"
    ? S[K]["multiple"] extends true
      ? boolean[]
      : boolean
    : S[K]["multiple"] extends true
      ? string[]
      : string;
};

/**
 * The flags that take a comma-separated list of names, where leaving the flag out means "all"
 * (`rm --env`, `members rm --env`, `exec --only`): given empty, they are refused rather than read as absent.
 */
const LIST_FLAGS = ["env", "only", "machine"] as const;

/** What {@link parseCommandArgs} returns. */
export interface ParsedArgs<S extends FlagSpecs> {
  flags: FlagValues<S>;
  positionals: string[];
}

/**
 * Parses `argv` against `flags`, allowing between `min` and `max` positionals.
 * `command` names the command in error messages; with `hideExtra` (the reason, e.g. values are
 * never taken from arguments) surplus positionals are counted but never echoed. Throws `CliError("USAGE")`.
 */
export function parseCommandArgs<S extends FlagSpecs>(
  command: string,
  argv: string[],
  flags: S,
  positionals: { min: number; max: number; names?: string; hideExtra?: string } = { min: 0, max: 0 },
): ParsedArgs<S> {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options: flags, strict: true, allowPositionals: true }) as typeof parsed;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const unknown = /^Unknown option '([^']*)'/.exec(message)?.[1];
    if (positionals.hideExtra !== undefined && unknown !== undefined) {
      // Any unknown "-x"/"--x" may be a value that starts with "-" (`--Tr0ub4dor-x` looks like a
      // flag name): never echo it; name the options that do exist instead.
      const known = Object.keys(flags).map((f) => `--${f}`).join(", ");
      throw new CliError("USAGE", `${command}: an unknown option (not shown: ${positionals.hideExtra})`, {
        hint: `the options of ${command} are: ${known}; run \`stellar-secrets ${command} --help\``,
      });
    }
    const ambiguous = /^Option '(-[^' ]+)' argument is ambiguous/.exec(message)?.[1];
    if (ambiguous !== undefined) throw dashValueError(command, argv, flags, ambiguous, positionals.hideExtra);
    const missingValue = /^Option '(?:-\w, )?(--[^' ]+) <value>' argument missing/.exec(message)?.[1];
    if (missingValue !== undefined) {
      throw new CliError("USAGE", `${command}: ${missingValue} needs a value`, {
        hint: `write ${missingValue} VALUE; run \`stellar-secrets ${command} --help\` for the options`,
      });
    }
    const near = unknown?.startsWith("--") ? didYouMean(unknown.slice(2), Object.keys(flags)) : undefined;
    throw new CliError("USAGE", `${command}: ${firstLine(message)}${near ? `; did you mean --${near}?` : ""}`, {
      hint: `run \`stellar-secrets ${command} --help\` for the options`,
    });
  }
  for (const flag of LIST_FLAGS) {
    const value = parsed.values[flag] as string | string[] | undefined;
    if (Object.hasOwn(flags, flag) && value !== undefined && splitList(value).length === 0) {
      // `--env "$ENV"` with ENV unset: read as no --env at all, rm and members rm would act on every
      // environment and exec --only on every secret
      throw new CliError("USAGE", `${command}: --${flag} is empty`, {
        hint: `give --${flag} one or more names, comma-separated; an empty value is often a shell variable that is not set (--${flag} "$VAR")`,
      });
    }
  }
  const count = parsed.positionals.length;
  if (count < positionals.min) {
    // "NAME and AGE_PUBLIC_KEY" with NAME given: only what is missing is named
    const words = positionals.names !== undefined && /^[A-Z_]+( and [A-Z_]+)+$/.test(positionals.names) ? positionals.names.split(" and ") : undefined;
    const missing = words !== undefined && words.length === positionals.min ? words.slice(count).join(" and ") : (positionals.names ?? "argument");
    throw new CliError("USAGE", `${command}: missing ${missing}`, {
      hint: `run \`stellar-secrets ${command} --help\` for the usage`,
    });
  }
  if (count > positionals.max) {
    const extra = parsed.positionals.slice(positionals.max);
    if (positionals.hideExtra !== undefined) {
      // the extra words may be a value typed in the wrong place: never echo them
      throw new CliError("USAGE", `${command}: ${extra.length > 1 ? `${extra.length} unexpected extra arguments` : "an unexpected extra argument"} (not shown: ${positionals.hideExtra})`, {
        hint: `run \`stellar-secrets ${command} --help\` for the usage`,
      });
    }
    throw new CliError("USAGE", `${command}: unexpected argument${extra.length > 1 ? "s" : ""} ${extra.map((a) => JSON.stringify(a)).join(" ")}`, {
      hint: `run \`stellar-secrets ${command} --help\` for the usage`,
    });
  }
  return { flags: parsed.values as FlagValues<S>, positionals: parsed.positionals };
}

/**
 * The `USAGE` error for a flag whose value starts with "-" (`--max-warnings -1`, `--description
 * "-- old key"`): node's parser reads such a word as the next option, and its own message ("argument
 * is ambiguous") says neither which word nor how to pass it. This one names the flag and the fix,
 * `--flag=VALUE`; the word itself only when the command may echo what was typed (`hideExtra` unset).
 */
function dashValueError(command: string, argv: readonly string[], flags: FlagSpecs, typed: string, hideExtra: string | undefined): CliError {
  const long = typed.startsWith("--") ? typed.slice(2) : Object.entries(flags).find(([, spec]) => spec.short === typed.slice(1))?.[0];
  const flag = long === undefined ? typed : `--${long}`;
  const value = argv[argv.indexOf(typed) + 1];
  const shown = hideExtra === undefined && value !== undefined && !/[\s'"\\$`]/.test(value) && value.length <= 40 ? value : undefined;
  return new CliError("USAGE", `${command}: the value of ${flag} starts with "-"${shown === undefined ? "" : ` (${shown})`}, so it reads as another option`, {
    hint: `if that is the value, join it to the option with "=": ${flag}=${shown ?? "-…"}; else give ${flag} its value; run \`stellar-secrets ${command} --help\` for the options`,
  });
}

/**
 * Splits comma-separated lists given once or many times (`--env a,b --env c`) into unique,
 * non-empty items in order.
 */
export function splitList(values: string | string[] | undefined): string[] {
  if (values === undefined) return [];
  const out: string[] = [];
  for (const value of Array.isArray(values) ? values : [values]) {
    for (const item of value.split(",")) {
      const trimmed = item.trim();
      if (trimmed !== "" && !out.includes(trimmed)) out.push(trimmed);
    }
  }
  return out;
}

/**
 * Parses a duration such as `90d`, `12w`, `6m` (30 days) or `1y` (365 days) into days.
 * Throws `CliError("USAGE")` naming `flag` when the text is not a duration.
 */
export function parseDurationDays(text: string, flag: string): number {
  const days = durationDays(text);
  if (days === undefined) {
    throw new CliError("USAGE", `${flag}: "${text}" is not a duration`, {
      hint: "write a number followed by d (days), w (weeks), m (months of 30 days) or y (years of 365 days), e.g. 90d",
    });
  }
  return days;
}

/** Splits `argv` at the first `--`: options before it, the rest (e.g. a command to run) after it. */
export function splitAtDoubleDash(argv: string[]): { before: string[]; after: string[] | undefined } {
  const index = argv.indexOf("--");
  if (index === -1) return { before: argv, after: undefined };
  return { before: argv.slice(0, index), after: argv.slice(index + 1) };
}

function firstLine(text: string): string {
  const line = text.split("\n")[0] ?? text;
  // node's messages end with a hint to use "--" for positionals starting with "-"; keep it short.
  return line.replace(/\. To specify a positional argument.*$/, "").trim();
}
