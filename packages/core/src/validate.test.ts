import { describe, expect, it } from "vitest";
import { parseConfigFile } from "./config.js";

/** `line:column message` of each diagnostic of a config file, with both parsers (the fast reader and `yaml`). */
function diagnostics(text: string): string[] {
  const fast = parseConfigFile(text, "c/x.yaml").diagnostics.map((d) => `${d.line}:${d.column} ${d.rule} ${d.message}`);
  const full = parseConfigFile(text, "c/x.yaml", { fast: false }).diagnostics.map((d) => `${d.line}:${d.column} ${d.rule} ${d.message}`);
  expect(full).toEqual(fast);
  return fast;
}

describe("schema diagnostics in words", () => {
  it("says what a valid header name is instead of showing the pattern", () => {
    const text = "kind: api_connection\nname: x\nbase_url: https://a.example\nheaders:\n  - { name: 'X Api Key', type: static, value: json }\n";
    expect(diagnostics(text)).toEqual([
      "5:13 schema \"headers.0.name\" is not a valid HTTP header name: letters, digits and !#$%&'*+.^_`|~- only",
    ]);
  });
});
