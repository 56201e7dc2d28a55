import { describe, expect, it } from "vitest";
import { GlobFilter, globToRegExp } from "./globs.js";

describe("globToRegExp", () => {
  it.each([
    ["**/*.yaml", "a.yaml", true],
    ["**/*.yaml", "agents/support/actions/x.yaml", true],
    ["**/*.yaml", "agents/x.yml", false],
    ["*.yaml", "agents/x.yaml", false],
    ["*.yaml", "x.yaml", true],
    ["node_modules/**", "node_modules", true],
    ["node_modules/**", "node_modules/a/b.yaml", true],
    ["node_modules/**", "src/node_modules/a.yaml", false],
    ["**/node_modules/**", "src/node_modules/a.yaml", true],
    ["agents/*/actions/*.{yaml,yml}", "agents/support/actions/t.yml", true],
    ["agents/*/actions/*.{yaml,yml}", "agents/support/extra/actions/t.yml", false],
    ["file?.yaml", "file1.yaml", true],
    ["[!a]*.yaml", "b.yaml", true],
    ["[!a]*.yaml", "a.yaml", false],
    ["a.b+c.yaml", "a.b+c.yaml", true],
    ["a.b+c.yaml", "aXb+c.yaml", false],
  ])("%s against %s → %s", (glob, path, expected) => {
    expect(globToRegExp(glob).test(path)).toBe(expected);
  });

  it("filters with includes and excludes", () => {
    const f = new GlobFilter(["**/*.yaml"], ["vendor/**"]);
    expect(f.matches("agents/a.yaml")).toBe(true);
    expect(f.matches("vendor/a.yaml")).toBe(false);
    expect(f.excludesDirectory("vendor")).toBe(true);
    expect(f.excludesDirectory("agents")).toBe(false);
  });

  it("knows which directories can hold included files", () => {
    const f = new GlobFilter(["agents/**/*.yaml", "connectors/*.yaml"], []);
    expect(f.mayContain("agents")).toBe(true);
    expect(f.mayContain("agents/support/actions")).toBe(true);
    expect(f.mayContain("connectors")).toBe(true);
    expect(f.mayContain("test")).toBe(false);
    expect(f.mayContain("test/fixtures")).toBe(false);
    expect(new GlobFilter(["**/*.yaml"], []).mayContain("anything")).toBe(true);
  });
});
