import { describe, expect, it } from "vitest";
import { GlobFilter, globToRegExp, UnionFilter } from "./globs.js";

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

describe("UnionFilter", () => {
  it("selects what any filter selects, keeps each filter's own folder exclusions, and skips a folder only when all would", () => {
    const narrow = new GlobFilter(["agents/**/*.yaml"], []);
    const wide = new GlobFilter(["**/*.yaml"], ["build"]);
    const u = new UnionFilter([narrow, wide]);
    expect(u.matches("connectors/stripe.yaml")).toBe(true);
    expect(u.matches("agents/a.yaml")).toBe(true);
    expect(u.matches("notes.txt")).toBe(false);
    // "build" is a folder the wide filter excludes: its files are not selected through it
    expect(u.matches("build/x.yaml")).toBe(false);
    expect(u.excludesDirectory("build")).toBe(true);
    expect(u.mayContain("connectors")).toBe(true);
    expect(new UnionFilter([narrow]).mayContain("connectors")).toBe(false);
  });
});
