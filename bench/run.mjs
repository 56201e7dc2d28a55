#!/usr/bin/env node
// `pnpm bench`: runs every bench/*.mjs except this file and helper modules that other benchmarks
// import (e.g. a workspace generator), one after another (never in parallel,
// so they do not disturb each other's timings), and fails if any of them fails.
// Each benchmark prints its own table and records its figures in docs/performance.md.
//
// Usage: node bench/run.mjs [NAME...]   (NAME: a benchmark without .mjs, e.g. `sops check`; `pnpm bench` installs and builds first)
import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { scriptArgs } from "../scripts/script-args.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const self = basename(fileURLToPath(import.meta.url));
const only = scriptArgs(import.meta.url, { positionals: true }).positionals; // optional: names to run, e.g. `node bench/run.mjs sops`

const all = readdirSync(here).filter((f) => f.endsWith(".mjs") && f !== self);
// Helper modules (e.g. a workspace generator) are imported by benchmarks, not run on their own.
const helpers = new Set(
  all.flatMap((f) =>
    [...readFileSync(join(here, f), "utf8").matchAll(/(?:from\s+|import\s*\(\s*)["']\.\/([^"'/]+\.mjs)["']/g)].map((m) => m[1]),
  ),
);
const benches = all
  .filter((f) => !helpers.has(f))
  .filter((f) => only.length === 0 || only.includes(f.replace(/\.mjs$/, "")))
  .sort();

if (benches.length === 0) {
  console.error(`bench: nothing to run in ${here}${only.length ? ` matching ${only.join(", ")}` : ""}`);
  process.exit(1);
}

const results = [];
for (const f of benches) {
  console.log(`\n=== bench/${f} ===`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [join(here, f)], { stdio: "inherit", cwd: join(here, "..") });
  const status = r.error ? `error: ${r.error.message}` : r.signal ? `killed by ${r.signal}` : r.status === 0 ? "ok" : `exit ${r.status}`;
  results.push({ bench: f, status, seconds: ((Date.now() - t0) / 1000).toFixed(1) });
}

console.log("\n=== summary ===");
for (const r of results) console.log(`${r.bench.padEnd(20)} ${r.status.padEnd(16)} ${r.seconds} s`);
process.exit(results.every((r) => r.status === "ok") ? 0 : 1);
