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
