import { describe, expect, it } from "vitest";
import { parseCommandArgs, parseDurationDays, splitAtDoubleDash, splitList } from "./args.js";
import { CliError } from "./errors.js";

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return (e as CliError).code;
  }
  return undefined;
};

describe("parseCommandArgs", () => {
  const flags = { env: { type: "string", multiple: true }, yes: { type: "boolean" } } as const;
  it("parses flags and positionals", () => {
    const r = parseCommandArgs("rm", ["name", "--env", "a,b", "--env", "c", "--yes"], flags, { min: 1, max: 1 });
    expect(r.positionals).toEqual(["name"]);
    expect(r.flags.yes).toBe(true);
    expect(splitList(r.flags.env)).toEqual(["a", "b", "c"]);
  });
  it("makes unknown flags, missing values, missing and surplus positionals usage errors", () => {
    expect(code(() => parseCommandArgs("rm", ["--nope"], flags, { min: 0, max: 1 }))).toBe("USAGE");
    expect(code(() => parseCommandArgs("rm", ["--env"], flags, { min: 0, max: 1 }))).toBe("USAGE");
    expect(code(() => parseCommandArgs("rm", ["--yes=1"], flags, { min: 0, max: 1 }))).toBe("USAGE");
    expect(code(() => parseCommandArgs("rm", [], flags, { min: 1, max: 1 }))).toBe("USAGE");
    expect(code(() => parseCommandArgs("rm", ["a", "b"], flags, { min: 1, max: 1 }))).toBe("USAGE");
  });
  it("says which flag's value starts with '-' and how to pass it (node's parser said only 'argument is ambiguous')", () => {
    const error = (argv: string[], hideExtra?: string): CliError => {
      try {
        parseCommandArgs("check", argv, { "max-warnings": { type: "string" }, env: { type: "string", short: "e" } }, { min: 0, max: 1, ...(hideExtra === undefined ? {} : { hideExtra }) });
      } catch (e) {
        return e as CliError;
      }
      throw new Error("no error");
    };
    const negative = error(["--max-warnings", "-1"]);
    expect([negative.code, negative.message]).toEqual(["USAGE", 'check: the value of --max-warnings starts with "-" (-1), so it reads as another option']);
    expect(negative.hint).toBe('if that is the value, join it to the option with "=": --max-warnings=-1; else give --max-warnings its value; run `stellar-secrets check --help` for the options');
    // a short option is named by its long name
    expect(error(["-e", "-x"]).message).toBe('check: the value of --env starts with "-" (-x), so it reads as another option');
    // a command that never echoes what was typed (set: a value may be typed in the wrong place) names only the flag
    const hidden = error(["--env", "-sk_live_123"], "values are never taken from arguments");
    expect(hidden.message).toBe('check: the value of --env starts with "-", so it reads as another option');
    expect(`${hidden.message} ${hidden.hint}`).not.toContain("sk_live");
    expect(hidden.hint).toContain("--env=-…");
    // a value with spaces or quotes is not repeated either
    expect(error(["--max-warnings", "-- old key"]).message).toBe('check: the value of --max-warnings starts with "-", so it reads as another option');
  });
  it("refuses an empty --env, --only or --machine (an unset variable) instead of reading it as absent, which means 'all'", () => {
    for (const argv of [["--env", ""], ["--env=", "--env", " , "], ["--only", ""]]) {
      try {
        parseCommandArgs("rm", ["name", ...argv], { ...flags, only: { type: "string" } }, { min: 1, max: 1 });
      } catch (e) {
        const flag = argv[0]!.replace(/=$/, "");
        expect([(e as CliError).code, (e as CliError).message], argv.join(" ")).toEqual(["USAGE", `rm: ${flag} is empty`]);
        expect((e as CliError).hint).toBe(`give ${flag} one or more names, comma-separated; an empty value is often a shell variable that is not set (${flag} "$VAR")`);
        continue;
      }
      throw new Error(`no error for ${argv.join(" ")}`);
    }
    // one name among empty ones is a list
    expect(splitList(parseCommandArgs("rm", ["name", "--env", ",production"], flags, { min: 1, max: 1 }).flags.env)).toEqual(["production"]);
  });
  it("says a flag needs a value in plain words", () => {
    try {
      parseCommandArgs("get", ["x", "--env"], flags, { min: 1, max: 1 });
    } catch (e) {
      expect([(e as CliError).message, (e as CliError).hint]).toEqual(["get: --env needs a value", "write --env VALUE; run `stellar-secrets get --help` for the options"]);
      return;
    }
    throw new Error("no error");
  });
  it("names only the positionals that are missing (members add NAME given, its key not)", () => {
    const message = (argv: string[]) => {
      try {
        parseCommandArgs("members add", argv, flags, { min: 2, max: 2, names: "NAME and AGE_PUBLIC_KEY" });
      } catch (e) {
        return (e as Error).message;
      }
      return undefined;
    };
    expect(message([])).toBe("members add: missing NAME and AGE_PUBLIC_KEY");
    expect(message(["bob"])).toBe("members add: missing AGE_PUBLIC_KEY");
    expect(message(["bob", "age1x"])).toBeUndefined();
  });
});

describe("splitList", () => {
  it("drops blanks and duplicates, keeping order", () => {
    expect(splitList(["b, a,,b", "c"])).toEqual(["b", "a", "c"]);
    expect(splitList(undefined)).toEqual([]);
  });
});

describe("parseDurationDays", () => {
  it("reads d, w, m (30 days) and y (365 days)", () => {
    expect([parseDurationDays("90d", "f"), parseDurationDays("2w", "f"), parseDurationDays("6m", "f"), parseDurationDays("1y", "f")]).toEqual([90, 14, 180, 365]);
    expect(code(() => parseDurationDays("90", "f"))).toBe("USAGE");
    expect(code(() => parseDurationDays("-1d", "f"))).toBe("USAGE");
  });
});

describe("splitAtDoubleDash", () => {
  it("splits at the first --", () => {
    expect(splitAtDoubleDash(["--env", "x", "--", "cmd", "--", "--help"])).toEqual({ before: ["--env", "x"], after: ["cmd", "--", "--help"] });
    expect(splitAtDoubleDash(["a"])).toEqual({ before: ["a"], after: undefined });
  });

  it("with hideExtra, never echoes surplus positionals or an option that is not a flag name", () => {
    const message = (args: string[]): string => {
      try {
        parseCommandArgs("set", args, { env: { type: "string" } }, { min: 1, max: 1, hideExtra: "values are never taken from arguments" });
      } catch (e) {
        return (e as CliError).message;
      }
      return "";
    };
    expect(message(["name", "s3cr3t-VALUE"])).toBe("set: an unexpected extra argument (not shown: values are never taken from arguments)");
    expect(message(["name", "--s3cr3t+VALUE/x="])).toBe("set: an unknown option (not shown: values are never taken from arguments)");
    // a value that looks like a flag name is not echoed either (QA: `--Tr0ub4dor-x`, `-hunter2`)
    for (const v of ["--Tr0ub4dor-x", "--hunter2pass", "-hunter2"]) {
      expect(message(["name", v])).toBe("set: an unknown option (not shown: values are never taken from arguments)");
    }
  });

  it("names the existing options in the hint instead of the unknown one", () => {
    try {
      parseCommandArgs("set", ["name", "--Tr0ub4dor-x"], { env: { type: "string" }, "from-stdin": { type: "boolean" } }, { min: 1, max: 1, hideExtra: "values are never taken from arguments" });
    } catch (e) {
      expect((e as CliError).hint).toBe("the options of set are: --env, --from-stdin; run `stellar-secrets set --help`");
      expect(JSON.stringify(e)).not.toContain("Tr0ub4dor");
      return;
    }
    throw new Error("expected a USAGE error");
  });
});
