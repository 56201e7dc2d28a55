import { describe, expect, it } from "vitest";
import type { CliError } from "./errors.js";
import { quoteDotenv, selectValues, variableNames } from "./variables.js";

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return (e as CliError).code;
  }
  return undefined;
};

describe("variableNames", () => {
  it("upper-cases names", () => {
    expect([...variableNames(["stripe_api_key", "a1"])]).toEqual([
      ["stripe_api_key", "STRIPE_API_KEY"],
      ["a1", "A1"],
    ]);
  });
  it("refuses invalid variable names and collisions", () => {
    expect(code(() => variableNames(["my-key"]))).toBe("INVALID_VARIABLE_NAME");
    expect(code(() => variableNames(["1key"]))).toBe("INVALID_VARIABLE_NAME");
    expect(code(() => variableNames(["api_key", "API_KEY"]))).toBe("VARIABLE_COLLISION");
  });
});

describe("selectValues", () => {
  const values = new Map([["b", "2"], ["a", "1"]]);
  it("sorts by name and restricts to --only", () => {
    expect([...selectValues(values, [], "dev").keys()]).toEqual(["a", "b"]);
    expect([...selectValues(values, ["b"], "dev")]).toEqual([["b", "2"]]);
    expect(code(() => selectValues(values, ["c"], "dev"))).toBe("UNKNOWN_SECRET");
  });
  it("suggests the nearest name of the environment for a mistyped --only name", () => {
    const named = new Map([["stripe_api_key", "v"]]);
    try {
      selectValues(named, ["strip_api_key"], "dev");
      expect.unreachable();
    } catch (e) {
      expect((e as CliError).hint).toBe('did you mean "stripe_api_key"?');
    }
  });
});

describe("quoteDotenv", () => {
  it("wraps a value in a quote character it does not contain, escaping nothing", () => {
    expect(quoteDotenv("plain $HOME `x` it's")).toBe('"plain $HOME `x` it\'s"');
    expect(quoteDotenv('a "b" \\n\nline2')).toBe(`'a "b" \\n\nline2'`);
    expect(quoteDotenv(`it's "q"`)).toBe('`it\'s "q"`');
    expect(quoteDotenv("")).toBe('""');
  });
  it("refuses what neither dotenv nor node --env-file can read back", () => {
    expect(quoteDotenv(`'"\``)).toBeUndefined();
    expect(quoteDotenv("a\r\nb")).toBeUndefined();
    expect(quoteDotenv("a\0b")).toBeUndefined();
  });
});
