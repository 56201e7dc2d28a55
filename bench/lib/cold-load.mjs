#!/usr/bin/env node
// The loader and the first check, cold, in process (docs/performance.md, "The language server's
// start (initial index, third round)"): on the checker bench's workspace (5,000 config files,
// generated once), each build of core given is run in a fresh `node` RUNS times, alternating
// (A, B, A, B …); each run times one `loadWorkspace` then one `checkWorkspace` (with a
// CrossFileCache, as the language server checks) before anything is warm. Medians and bests; the
// diagnostics of every build must be the same (their JSON is compared, never printed).
//
// Usage: node bench/lib/cold-load.mjs [--runs 15] [--files 5000] [CORE...]
//   CORE: core's dist/index.js of a build (default: this checkout's). An older build's `dist`,
//   copied inside packages/core/ (e.g. packages/core/.old-dist) so that its imports resolve.
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { median } from "./stats.mjs";
import { scriptArgs } from "../../scripts/script-args.mjs";
import { generateWorkspace } from "./workspace.mjs";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const { values: opts, positionals: args } = scriptArgs(import.meta.url, { numbers: ["runs", "files"], positionals: true, options: { runs: { type: "string", default: "15" }, files: { type: "string", default: "5000" } } });
const RUNS = Number(opts.runs);
const FILES = Number(opts.files);
const cores = args.length > 0 ? args.map((a) => resolve(a)) : [join(repo, "packages/core/dist/index.js")];

// one run: a fresh process, nothing compiled yet
const CHILD = `
const core = await import(process.argv[1]);
const t0 = performance.now();
const { index } = core.loadWorkspace(process.argv[2], {});
const t1 = performance.now();
const all = core.checkWorkspace(index, { crossFileCache: new core.CrossFileCache() });
const t2 = performance.now();
const { createHash } = await import("node:crypto");
console.log(JSON.stringify({ load: t1 - t0, check: t2 - t1, diagnostics: all.length, hash: createHash("sha256").update(JSON.stringify(all)).digest("hex") }));
`;

const ws = await generateWorkspace({ files: FILES, secrets: 1000 });
const once = (core) => JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", CHILD, pathToFileURL(core).href, ws.dir], { encoding: "utf8" }));
const results = cores.map(() => []);
for (const core of cores) once(core); // warm the page cache, not the process
for (let i = 0; i < RUNS; i++) cores.forEach((core, j) => results[j].push(once(core)));
rmSync(ws.dir, { recursive: true, force: true });

console.log(`cold loadWorkspace + checkWorkspace on ${FILES} config files, ${RUNS} alternating runs (node ${process.version}, load average ${loadavg().map((x) => x.toFixed(1)).join(" ")}):`);
cores.forEach((core, j) => {
  const r = results[j];
  const f = (k) => `median ${median(r.map((x) => x[k])).toFixed(1)} ms, best ${Math.min(...r.map((x) => x[k])).toFixed(1)} ms`;
  console.log(`  ${core.slice(-60)}\n    load ${f("load")}; check ${f("check")}; ${r[0].diagnostics} diagnostics`);
});
const hashes = new Set(results.flatMap((r) => r.map((x) => x.hash)));
console.log(hashes.size === 1 ? "  diagnostics: identical in every run" : `  diagnostics DIFFER between runs or builds (${hashes.size} different results)`);
if (hashes.size !== 1) process.exitCode = 1;
