#!/usr/bin/env node
// The language server's cross-file update in process (docs/performance.md, "Language server,
// second round"): the server's project model (packages/language-server/dist/core-model.js of each
// checkout given) on the checker bench's workspace (5,000 config files, generated once), edited as
// bench/lsp.mjs's cross-file loop edits it: a connector's name gets an "x" and loses it again,
// each edit staged, its own file checked (quickCheck) and the cross-file check run (flush), the
// diagnostics of the files they report read. No protocol, no other process: the model's own time,
// per edit, p50 and p95 over EDITS edits. Each checkout runs RUNS times in a fresh process,
// alternating (A, B, A, B …); medians of the runs' p50 and p95.
//
// Usage: node bench/lib/lsp-cross-file.mjs [--runs 6] [--edits 200] [--files 5000] [CHECKOUT...]
//   CHECKOUT: a built checkout (`npx tsc -b`), e.g. a `git worktree` of an older commit.
//   Default: this checkout.
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { median } from "./stats.mjs";
import { scriptArgs } from "../../scripts/script-args.mjs";
import { generateWorkspace } from "./workspace.mjs";

const here = fileURLToPath(import.meta.url);

if (process.argv[2] === "--child") {
  // one run: node lsp-cross-file.mjs --child CHECKOUT WORKSPACE SAMPLE EDITS
  const [, , , checkout, dir, sample, editsText] = process.argv;
  const edits = Number(editsText);
  const { createCoreModel } = await import(pathToFileURL(join(checkout, "packages/language-server/dist/core-model.js")).href);
  const buffers = new Map();
  const source = { bufferOf: (p) => buffers.get(p), read: async (p) => readFileSync(p, "utf8") };
  const model = await createCoreModel(join(dir, "stellar.yaml"), source);
  model.files(); // the first check
  const text = readFileSync(sample, "utf8");
  const name = /^name: auth_\d+$/m.exec(text);
  if (name === null) throw new Error(`no connector name in ${sample}`);
  const at = text.indexOf(name[0]) + name[0].length;
  const times = [];
  for (let i = 0; i < edits; i++) {
    const next = i % 2 === 0 ? `${text.slice(0, at)}x${text.slice(at)}` : text;
    buffers.set(sample, next);
    const s = performance.now();
    model.stage(sample, next);
    for (const p of model.quickCheck(sample)) model.diagnostics(p);
    for (const p of model.flush()) model.diagnostics(p);
    times.push(performance.now() - s);
  }
  const sorted = times.sort((a, b) => a - b);
  const pct = (p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
  console.log(JSON.stringify({ p50: pct(50), p95: pct(95) }));
  process.exit(0);
}

const { values: opts, positionals: args } = scriptArgs(import.meta.url, {
  numbers: ["runs", "edits", "files"],
  positionals: true,
  options: { runs: { type: "string", default: "6" }, edits: { type: "string", default: "200" }, files: { type: "string", default: "5000" } },
});
const runs = Number(opts.runs);
const edits = Number(opts.edits);
const files = Number(opts.files);
const checkouts = (args.length > 0 ? args : [join(dirname(here), "..", "..")]).map((c) => resolve(c));
const ws = await generateWorkspace({ files, secrets: 1000 });
const results = new Map(checkouts.map((c) => [c, []]));
for (let r = 0; r < runs; r++) {
  for (const c of checkouts) {
    const run = spawnSync(process.execPath, [here, "--child", c, ws.dir, ws.sampleFile, String(edits)], { encoding: "utf8" });
    if (run.status !== 0) throw new Error(`${c}: ${run.stderr}`);
    results.get(c).push(JSON.parse(run.stdout.trim().split("\n").pop()));
  }
}
rmSync(ws.dir, { recursive: true, force: true });
const load = loadavg().map((l) => l.toFixed(1)).join(" ");
console.log(`cross-file update in process on ${files} config files, ${edits} edits per run, ${runs} alternating runs (node ${process.version}, load average ${load}); medians of the runs:`);
for (const [c, rs] of results) {
  console.log(`  ${c}\n    p50 ${median(rs.map((x) => x.p50)).toFixed(2)} ms, p95 ${median(rs.map((x) => x.p95)).toFixed(2)} ms`);
}
