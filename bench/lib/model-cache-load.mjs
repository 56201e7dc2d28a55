#!/usr/bin/env node
// The loader cold, with and without the language server's cache of config models
// (docs/performance.md, "The language server's initial index from a model cache (eighth round)"):
// on the checker bench's workspace (5,000 config files, generated once), each run is a fresh `node`
// that times one `loadWorkspace` then one `checkWorkspace` (with a CrossFileCache, as the server),
// in three ways, alternating:
//   cold    no cache (what a server with the cache off does);
//   record  no cache yet, but every parsed model recorded for a write (a first start with the cache on);
//           the write itself (ConfigModelCache.serialize, off the server's critical path) is timed apart;
//   warm    the cache file read and checked (`read`), then the load taking unchanged files' models from it.
// The check's diagnostics of every run must be the same (their JSON's hash is compared, never printed).
//
// Usage: node bench/lib/model-cache-load.mjs [--runs 9] [--files 5000]
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { median } from "./stats.mjs";
import { scriptArgs } from "../../scripts/script-args.mjs";
import { generateWorkspace } from "./workspace.mjs";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const { values: opts } = scriptArgs(import.meta.url, { numbers: ["runs", "files"], options: { runs: { type: "string", default: "9" }, files: { type: "string", default: "5000" } } });
const RUNS = Number(opts.runs);
const FILES = Number(opts.files);
const core = pathToFileURL(join(repo, "packages/core/dist/index.js")).href;

const CHILD = `
const core = await import(process.argv[1]);
const [root, cacheFile, mode] = process.argv.slice(2);
const { readFileSync, writeFileSync } = await import("node:fs");
const identity = { build: "bench000", runtime: process.version, root };
const t0 = performance.now();
const cache = mode === "warm" ? core.ConfigModelCache.parse(readFileSync(cacheFile, "utf8"), identity) : mode === "record" ? core.ConfigModelCache.empty(identity) : undefined;
const t1 = performance.now();
const { index } = core.loadWorkspace(root, cache === undefined ? {} : { configModels: cache });
cache?.endLoad();
const t2 = performance.now();
const all = core.checkWorkspace(index, { crossFileCache: new core.CrossFileCache() });
const t3 = performance.now();
let write = 0;
if (mode === "record") {
  const s = performance.now();
  writeFileSync(cacheFile, cache.serialize(index.configFiles.values()));
  write = performance.now() - s;
}
const { createHash } = await import("node:crypto");
console.log(JSON.stringify({ read: t1 - t0, load: t2 - t1, total: t2 - t0, check: t3 - t2, write, hits: cache?.stats.hits ?? 0, hash: createHash("sha256").update(JSON.stringify(all)).digest("hex") }));
`;

const ws = await generateWorkspace({ files: FILES, secrets: 1000 });
const scratch = mkdtempSync(join(tmpdir(), "bench-model-cache-"));
const cacheFile = join(scratch, "models.json");
const once = (mode) => JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", CHILD, core, ws.dir, cacheFile, mode], { encoding: "utf8" }));
once("record"); // the page cache, and the cache file the warm runs read
const modes = ["cold", "record", "warm"];
const results = Object.fromEntries(modes.map((m) => [m, []]));
for (let i = 0; i < RUNS; i++) for (const m of modes) results[m].push(once(m));
rmSync(ws.dir, { recursive: true, force: true });
rmSync(scratch, { recursive: true, force: true });

console.log(`loadWorkspace + checkWorkspace on ${FILES} config files, fresh processes, ${RUNS} alternating runs (node ${process.version}, load average ${loadavg().map((x) => x.toFixed(1)).join(" ")}); medians (best):`);
const f = (r, k) => `${median(r.map((x) => x[k])).toFixed(1)} (${Math.min(...r.map((x) => x[k])).toFixed(1)}) ms`;
for (const m of modes) {
  const r = results[m];
  console.log(`  ${m.padEnd(6)}  read ${f(r, "read")}, load ${f(r, "load")}, read + load ${f(r, "total")}, check ${f(r, "check")}${m === "record" ? `, the write ${f(r, "write")}` : ""}; ${r[0].hits} models from the cache`);
}
const hashes = new Set(modes.flatMap((m) => results[m].map((x) => x.hash)));
console.log(hashes.size === 1 ? "  diagnostics: identical in every run" : `  diagnostics DIFFER between runs (${hashes.size} different results)`);
if (hashes.size !== 1) process.exitCode = 1;
