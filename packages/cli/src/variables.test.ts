import { describe, expect, it } from "vitest";
import type { CliError } from "./errors.js";
import { escapeDotenv, selectValues, variableNames } from "./variables.js";

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
});

describe("escapeDotenv", () => {
  it("escapes quotes, backslashes, $, backticks and control characters", () => {
    expect(escapeDotenv('a"b\\c$d`e\nf\rg\th')).toBe('a\\"b\\\\c\\$d\\`e\\nf\\rg\\th');
  });
});
