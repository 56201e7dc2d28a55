/**
 * The repository's own scripts and benchmarks (every `#!` file in scripts/, bench/ and bench/lib/)
 * answer `--help` with their header comment and refuse a flag they do not know before doing any
 * work (scripts/script-args.mjs): a typo must not start a benchmark with the defaults, and `--help`
 * must not end in a stack trace.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain ES module of the repository's scripts, without types
import { headerComment } from "../scripts/script-args.mjs";
import { REPO_ROOT } from "./helpers/cli.js";

/** The runnable scripts (a `#!` first line), by path relative to the repository. */
const entries = ["scripts", "bench", "bench/lib"].flatMap((dir) =>
  readdirSync(join(REPO_ROOT, dir))
    .filter((f) => f.endsWith(".mjs") && readFileSync(join(REPO_ROOT, dir, f), "utf8").startsWith("#!"))
    .map((f) => `${dir}/${f}`),
);

const run = (script: string, ...args: string[]) =>
  spawnSync(process.execPath, [join(REPO_ROOT, script), ...args], { cwd: REPO_ROOT, encoding: "utf8", timeout: 30_000 });

describe("headerComment", () => {
  it("reads a /** */ block after the #! line, without its markers", () => {
    expect(headerComment("#!/usr/bin/env node\n/**\n * Does a thing.\n *\n * Usage: node x.mjs [--a]\n */\nimport x from 'y';\n")).toBe("Does a thing.\n\nUsage: node x.mjs [--a]\n");
  });
  it("reads a run of // lines, CRLF or LF, up to the first line of code", () => {
    expect(headerComment("#!/usr/bin/env node\r\n// One.\r\n//\r\n// Usage: node y.mjs\r\nconst a = 1; // not this\r\n")).toBe("One.\n\nUsage: node y.mjs\n");
  });
});

describe("every script and benchmark", () => {
  it("is found (the list the tests below run over)", () => {
    expect(entries).toEqual(expect.arrayContaining(["scripts/fuzz-team.mjs", "scripts/pack-all.mjs", "bench/check.mjs", "bench/run.mjs"]));
  });

  it.each(entries)("%s: --help prints its usage and exits 0", (script) => {
    const r = run(script, "--help");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Usage: node /m);
    expect(r.stdout).toContain(script);
    expect(r.stderr).toBe("");
  });

  it.each(entries)("%s: an unknown flag is refused with exit 2 before any work", (script) => {
    const r = run(script, "--no-such-flag");
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(`${script}: Unknown option '--no-such-flag'\n(\`node ${script} --help\` prints its usage)\n`);
  });
});

describe("values", () => {
  it("refuse a count that is not a whole number, and a flag without its value", () => {
    const steps = run("scripts/fuzz-team.mjs", "--steps", "ten");
    expect([steps.status, steps.stderr.split("\n")[0]]).toEqual([2, 'scripts/fuzz-team.mjs: --steps takes a whole number, not "ten"']);
    const out = run("scripts/pack-all.mjs", "--out");
    expect([out.status, out.stderr.split("\n")[0]]).toEqual([2, "scripts/pack-all.mjs: Option '--out <value>' argument missing"]);
    const extra = run("scripts/demo.mjs", "now");
    expect([extra.status, extra.stderr.split("\n")[0]]).toEqual([2, "scripts/demo.mjs: Unexpected argument 'now'. This command does not take positional arguments"]);
  });
});
