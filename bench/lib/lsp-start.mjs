#!/usr/bin/env node
// The language server's start, alone and repeated (docs/performance.md, "The language server's
// start"): on the checker bench's workspace (5,000 config files, generated once), each server given
// is started RUNS times, alternating (A, B, A, B …), and timed from the spawn to
//   - the answer to `initialize` (process start, loading the server);
//   - the answer to `stellarSecrets/projects` (the initial index: bench/lsp.mjs's "initial index");
//   - the first publishDiagnostics;
// with the server's CPU (user + system, from /proc) at its exit. Medians, and the best run. The
// diagnostics every run published (after the timed part) must be the same in every run of every
// server: their hash is compared, never printed.
//
// Warm or cold: a server keeps its config files' models between runs in an on-disk cache
// (packages/language-server/src/index-cache.ts; here in a temp folder of its own, XDG_CACHE_HOME,
// removed at the end). By default the counted runs are warm: the warm-up run wrote the cache, and
// each run starts from it. `--cold` sets STELLAR_SECRETS_NO_INDEX_CACHE=1: every run parses every file.
//
// Usage: node bench/lib/lsp-start.mjs [--runs 11] [--files 5000] [--cold] SERVER...
//   SERVER: a bin (…/bin/stellar-secrets-language-server.js, run as it is) or a server module
//   exporting `main` (e.g. a copy of an older dist/bundle/server.mjs, run through run-server.mjs).
//   Default: this checkout's bin. Node flags for every server: BENCH_SERVER_NODE_ARGS.
//   BENCH_SERVER_WRAPPER: a command every server runs under, e.g. "valgrind --tool=callgrind
//   --callgrind-out-file=/dev/null" (instruction counts, which the machine's load does not move:
//   callgrind prints each server's "Collected : N" at its exit, on this script's stderr; the server
//   then runs ~50x slower, so use few runs; the wall figures of such a run mean nothing).
// A server with a V8 code cache writes it during its first run: run once before comparing
// (the first run of each server is a warm-up and not counted).
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { median } from "./stats.mjs";
import { scriptArgs } from "../../scripts/script-args.mjs";
import { generateWorkspace } from "./workspace.mjs";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const require = createRequire(join(repo, "packages/language-server/package.json"));
const proto = require("vscode-languageserver-protocol/node");
const { values: opts, positionals: args } = scriptArgs(import.meta.url, {
  numbers: ["runs", "files"],
  positionals: true,
  options: { runs: { type: "string", default: "11" }, files: { type: "string", default: "5000" }, cold: { type: "boolean" } },
});
const cold = opts.cold === true;
const RUNS = Number(opts.runs);
const FILES = Number(opts.files);
const servers = args.length > 0 ? args.map((a) => resolve(a)) : [join(repo, "packages/language-server/bin/stellar-secrets-language-server.js")];
const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter((a) => a !== "");
const argvOf = (server) => [...nodeArgs, ...(server.endsWith(".mjs") ? [join(repo, "bench/lib/run-server.mjs"), server] : [server]), "--stdio"];
const wrapper = (process.env.BENCH_SERVER_WRAPPER ?? "").split(" ").filter((a) => a !== "");
const spawnServer = (server, env) =>
  wrapper.length === 0
    ? spawn(process.execPath, argvOf(server), { stdio: ["pipe", "pipe", "inherit"], env })
    : spawn(wrapper[0], [...wrapper.slice(1), process.execPath, ...argvOf(server)], { stdio: ["pipe", "pipe", "inherit"], env });
const cpuMs = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) * 10; // utime + stime, in ticks of 10 ms
};

const ws = await generateWorkspace({ files: FILES, secrets: 1000 });
// the servers' model caches: a folder of this run's own per server (never the user's cache folder).
// One folder for all would not do: the cache file is named after the project root, not the build,
// so two builds compared in turn would each find the other's cache ("another build") and run cold.
const cacheHomes = servers.map(() => mkdtempSync(join(tmpdir(), "bench-lsp-cache-")));
const serverEnv = (s) => ({ ...process.env, XDG_CACHE_HOME: cacheHomes[s], ...(cold ? { STELLAR_SECRETS_NO_INDEX_CACHE: "1" } : {}) });
// the server's log line after its load: "index cache: HITS of COUNT config models from FILE …"
const CACHE_LOG = /index cache: (\d+) of (\d+) config models/;

async function once(server, s) {
  const t0 = performance.now();
  const proc = spawnServer(server, serverEnv(s));
  const conn = proto.createProtocolConnection(new proto.StreamMessageReader(proc.stdout), new proto.StreamMessageWriter(proc.stdin));
  conn.onRequest(proto.RegistrationRequest.type, () => null);
  conn.onRequest(proto.ConfigurationRequest.type, (p) => p.items.map(() => ({})));
  let firstDiagnostics;
  // every file's last diagnostics, compared between runs and builds (their hash, never printed)
  const published = new Map();
  let lastPublished = 0;
  conn.onNotification(proto.PublishDiagnosticsNotification.type, (p) => {
    firstDiagnostics ??= performance.now() - t0;
    published.set(p.uri, p.diagnostics);
    lastPublished = performance.now();
  });
  let cacheHits = 0;
  conn.onNotification(proto.LogMessageNotification.type, (p) => {
    const m = CACHE_LOG.exec(p.message);
    if (m !== null) cacheHits = Number(m[1]);
  });
  conn.listen();
  await conn.sendRequest(proto.InitializeRequest.type, {
    processId: process.pid,
    rootUri: null,
    capabilities: { workspace: { configuration: true, didChangeWatchedFiles: { dynamicRegistration: true } } },
    workspaceFolders: [{ uri: pathToFileURL(ws.dir).href, name: "bench" }],
  });
  const initialize = performance.now() - t0;
  await conn.sendNotification(proto.InitializedNotification.type, {});
  const { projects } = await conn.sendRequest("stellarSecrets/projects", {});
  const index = performance.now() - t0;
  if (projects.length !== 1 || projects[0].secrets.length === 0) throw new Error("the bench workspace did not index");
  await new Promise((r) => setTimeout(r, 50)); // the diagnostics after the answer
  const cpu = cpuMs(proc.pid);
  // (not timed) the diagnostics of every file: the first check publishes them in one burst; wait
  // for it and for 300 ms without any more, at most 20 s
  // (under a wrapper such as valgrind, everything is ~50x slower)
  const slow = wrapper.length === 0 ? 1 : 20;
  const giveUp = performance.now() + 20_000 * slow;
  while (performance.now() < giveUp && (firstDiagnostics === undefined || performance.now() - lastPublished < 300 * slow)) await new Promise((r) => setTimeout(r, 50));
  const diagnostics = [...published].filter(([, d]) => d.length > 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const diagnosticsHash = createHash("sha256").update(JSON.stringify(diagnostics)).digest("hex");
  const diagnosticsCount = diagnostics.reduce((n, [, d]) => n + d.length, 0);
  await conn.sendRequest(proto.ShutdownRequest.type);
  const exited = new Promise((r) => proc.once("exit", r));
  await conn.sendNotification(proto.ExitNotification.type);
  await exited;
  conn.dispose();
  return { initialize, index, firstDiagnostics: firstDiagnostics ?? NaN, cpu, cacheHits, diagnosticsHash, diagnosticsCount };
}

const results = servers.map(() => []);
for (let s = 0; s < servers.length; s++) await once(servers[s], s); // warm-up: the page cache, and a code cache and (unless --cold) a model cache written
for (let i = 0; i < RUNS; i++) for (let s = 0; s < servers.length; s++) results[s].push(await once(servers[s], s));
console.log(
  `language server start on ${FILES} config files, ${RUNS} alternating runs, ${cold ? "cold (--cold: no model cache, every file parsed)" : "warm (the model cache the warm-up run wrote)"} (node ${process.version}, load average ${loadavg().map((x) => x.toFixed(1)).join(" ")}); medians:`,
);
servers.forEach((s, i) => {
  const r = results[i];
  const m = (k) => median(r.map((x) => x[k])).toFixed(0);
  console.log(`  ${s.slice(-70)}\n    initialize ${m("initialize")} ms, initial index ${m("index")} ms (best ${Math.min(...r.map((x) => x.index)).toFixed(0)}), first diagnostics ${m("firstDiagnostics")} ms, server CPU ${m("cpu")} ms, config models from the cache: ${m("cacheHits")} (median)`);
});
// a warm run that took no model from its cache measured a cold start: say so rather than mislabel it
const notWarm = cold ? 0 : results.flat().filter((x) => x.cacheHits === 0).length;
const hashes = new Set(results.flat().map((x) => x.diagnosticsHash));
const counts = [...new Set(results.flat().map((x) => x.diagnosticsCount))].join(" / ");
console.log(hashes.size === 1 ? `  diagnostics: identical in every run (${counts} published)` : `  WARNING: the diagnostics differ between runs (${hashes.size} different sets; ${counts} published)`);
if (notWarm > 0) console.log(`  WARNING: ${notWarm} of the warm runs took no config model from the cache (a server without a build tag, or its cache not written): they are cold starts`);
rmSync(ws.dir, { recursive: true, force: true });
for (const dir of cacheHomes) rmSync(dir, { recursive: true, force: true });
