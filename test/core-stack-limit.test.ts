/**
 * parseConfigFile near the stack limit in a process whose V8 discards code that has not run lately
 * (`--stress-flush-code`: bytecode flushing at every collection, what a long-running language
 * server sees after hours): once a parse has started (past its first statement), running out of
 * stack anywhere in it gives the uncacheable "nested too deeply" model, never a throw, because
 * the catch that makes that model calls nothing that V8 would have to compile again near the limit.
 * A child process, since the V8 flags are the process's.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

const core = pathToFileURL(join(fileURLToPath(new URL("..", import.meta.url)), "packages/core/dist/index.js")).href;

// Recurses to the limit, then parses once per frame on the way back (as test-support/stack-limit.ts),
// keeping each thrown error as it is (nothing may run in the catch, near the limit), and prints the
// frames of each error's stack down to parseConfigFile, and how many models were starved.
const SCRIPT = `
const { parseConfigFile } = await import(${JSON.stringify(core)});
const path = "agents/deep.yaml";
let nested = "";
for (let i = 0; i < 30; i++) nested += "  ".repeat(i + 1) + "k" + i + ":\\n";
const texts = [
  "kind: agent\\nname: deep\\nmetadata:\\n" + nested + "  ".repeat(31) + "leaf: x\\n",
  "kind: agent\\nname: deep\\nactions: " + "[".repeat(60) + "x" + "]".repeat(60) + "\\n",
];
const report = [];
for (const text of texts) {
  parseConfigFile(text, path);
  for (let i = 0; i < 12; i++) globalThis.gc();
  const errors = [];
  let starved = 0;
  let done = false;
  const dive = () => {
    try { dive(); } catch {}
    if (done) return;
    let model;
    try { model = parseConfigFile(text, path); } catch (e) { errors.push(e); return; }
    if (model.uncacheable === true) starved++;
    done = model.documents.length > 0;
  };
  dive();
  const frames = errors.map((e) => String(e.stack).split("\\n").slice(1).map((l) => l.trim().replace(/^at /, "").replace(/ \\(.*$/, "")));
  report.push({ starved, frames: frames.map((f) => f.slice(0, Math.max(0, f.indexOf("parseConfigFile")) + 1)) });
}
console.log(JSON.stringify(report));
`;

function nearLimit(flags: string[]): { starved: number; frames: string[][] }[] {
  const r = spawnSync(process.execPath, [...flags, "--expose-gc", "--input-type=module", "-e", SCRIPT], { encoding: "utf8", timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

/** The errors thrown from inside a parse: parseConfigBody on the stack, below anything but its first statement (its LineIndex). */
const fromInside = (frames: string[]): boolean => {
  const at = frames.indexOf("parseConfigBody");
  return at > 0 && frames[at - 1] !== "new LineIndex";
};

describe("parseConfigFile near the stack limit", () => {
  for (const [label, flags] of [
    ["with V8 discarding code not run lately (--stress-flush-code)", ["--stress-flush-code"]],
    ["with V8's defaults", []],
  ] as const) {
    it(`never throws once the parse has started, ${label}`, () => {
      for (const { starved, frames } of nearLimit([...flags])) {
        expect(starved, "some parses ran out of stack").toBeGreaterThan(0);
        expect(frames.filter(fromInside)).toEqual([]);
      }
    });
  }
});

// The readers of stellar.yaml, the catalog and .sops.yaml, the same way: each case is [its public
// function, a text it reads whole with stack to spare]. Each is run 50 times first: V8 compiles a
// regular expression to machine code once it has run, and compiling it near the limit aborts the
// process (V8's "RegExpCompiler Allocation failed", not an exception any reader could catch), so
// that happens here with stack to spare, as in any process that has read a file before.
const READERS_SCRIPT = `
const core = await import(${JSON.stringify(core)});
let nested = "";
for (let i = 0; i < 30; i++) nested += "  ".repeat(i + 1) + "k" + i + ":\\n";
nested += "  ".repeat(31) + "leaf: x\\n";
const flow = "[".repeat(60) + "x" + "]".repeat(60);
const key = "age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq";
const cases = [
  ["parseProjectConfig", () => core.parseProjectConfig("version: 1\\nenvironments:\\n  production: {}\\nx:\\n" + nested, "/r/stellar.yaml")],
  ["parseProjectConfig", () => core.parseProjectConfig("version: 1\\nx: " + flow + "\\n", "/r/stellar.yaml")],
  ["parseCatalog", () => core.parseCatalog("secrets:\\n  s:\\n    description: d\\nx:\\n" + nested, "secrets/catalog.yaml")],
  ["parseSopsConfig", () => core.parseSopsConfig("creation_rules:\\n  - path_regex: x\\n    age: " + key + "\\nx:\\n" + nested, ".sops.yaml")],
  ["parseSopsConfig", () => core.parseSopsConfig("creation_rules:\\n  - path_regex: x\\n    age: " + key + "\\nx: " + flow + "\\n", ".sops.yaml")],
];
const report = [];
for (const [name, read] of cases) {
  const whole = read();
  for (let i = 0; i < 50; i++) read();
  for (let i = 0; i < 12; i++) globalThis.gc();
  const errors = [];
  const starved = [];
  let done = false;
  const dive = () => {
    try { dive(); } catch {}
    if (done) return;
    let result;
    try { result = read(); } catch (e) { errors.push(e); return; }
    if (result.uncacheable === true) starved.push(result);
    else done = true;
  };
  dive();
  const frames = errors.map((e) => String(e.stack).split("\\n").slice(1).map((l) => l.trim().replace(/^at /, "").replace(/ \\(.*$/, "")));
  const shape = (r) => JSON.stringify([r.config, r.entries?.size, r.rules, r.problem?.message, r.diagnostics?.map((d) => [d.rule, d.line, d.message])]);
  report.push({ name, wholeFine: whole.uncacheable === undefined, starved: starved.length, shapes: [...new Set(starved.map(shape))], frames: frames.map((f) => f.slice(0, Math.max(0, f.indexOf(name)) + 1)) });
}
console.log(JSON.stringify(report));
`;

function readersNearLimit(flags: string[]): { name: string; wholeFine: boolean; starved: number; shapes: string[]; frames: string[][] }[] {
  const r = spawnSync(process.execPath, [...flags, "--expose-gc", "--input-type=module", "-e", READERS_SCRIPT], { encoding: "utf8", timeout: 60_000 });
  expect(r.status, r.stderr.slice(0, 2000)).toBe(0);
  return JSON.parse(r.stdout);
}

/** An error thrown from inside a reader: the reader on the stack, below anything but its first statements (the text's line breaks, its LineIndex, the file name). */
const insideReader = (name: string) => (frames: string[]): boolean => {
  const at = frames.indexOf(name);
  return at > 0 && !["loneCrAsLf", "new LineIndex", "basename", "String.replace"].includes(frames[at - 1] as string);
};

describe("the stellar.yaml, catalog and .sops.yaml readers near the stack limit (a caller that used most of it)", () => {
  for (const [label, flags] of [
    ["with V8 discarding code not run lately (--stress-flush-code)", ["--stress-flush-code"]],
    ["with V8's defaults", []],
  ] as const) {
    it(`never throw once the parse has started: one uncacheable "nested too deeply" result, ${label}`, () => {
      const report = readersNearLimit([...flags]);
      expect(report.map((r) => r.name)).toEqual(["parseProjectConfig", "parseProjectConfig", "parseCatalog", "parseSopsConfig", "parseSopsConfig"]);
      // (one text of a reader may read whole with no more stack than its first statements need)
      for (const name of new Set(report.map((r) => r.name))) {
        expect(report.filter((r) => r.name === name).reduce((n, r) => n + r.starved, 0), `${name}: some reads ran out of stack`).toBeGreaterThan(0);
      }
      for (const { name, wholeFine, starved, shapes, frames } of report) {
        expect(wholeFine, name).toBe(true);
        expect(frames.filter(insideReader(name)), name).toEqual([]);
        if (starved === 0) continue;
        const message = "cannot parse: nested too deeply; the file was not read: flatten it";
        const expected = {
          parseProjectConfig: [undefined, undefined, undefined, undefined, [["schema", 1, message]]],
          parseCatalog: [undefined, 0, undefined, undefined, [["schema", 1, message]]],
          parseSopsConfig: [undefined, undefined, [], `.sops.yaml: ${message}`, undefined],
        }[name];
        expect(shapes, name).toEqual([JSON.stringify(expected)]);
      }
    });
  }
});
