#!/usr/bin/env node
// The language server with a workspace folder of many projects (a client started in `/` or the home
// folder: Helix, vim-lsp, Kate take the current folder): 120 copies of the checker's planted fixtures
// (test/fixtures/checker/planted, planted-clinic, planted-freight; 2,440 files with diagnostics) in
// a temp folder. Two runs per round, each a fresh server (no model cache):
//   - ping: from the log line "indexed N project(s)" on, a hover every 25 ms until the diagnostics
//     have been quiet for 500 ms: the longest a hover waited (the server busy checking and sending
//     the diagnostics), and when the last file's diagnostics came;
//   - shutdown: `shutdown` sent 30 ms after that log line: how long its answer took.
// Usage: node bench/lsp-many-projects.mjs [--rounds 3] [--server FILE]
//   --server FILE: run this server module (one exporting `main`, e.g. a copy of an older
//   dist/bundle/server.mjs) instead of the package's bin, to compare two builds.
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { scriptArgs } from "../scripts/script-args.mjs";

const { values: opts } = scriptArgs(import.meta.url, { numbers: ["rounds"], options: { rounds: { type: "string" }, server: { type: "string" } } });
const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const proto = createRequire(join(repo, "packages/language-server/package.json"))("vscode-languageserver-protocol/node");
const rounds = Number(opts.rounds ?? 3);
const serverArgs = opts.server === undefined ? [join(repo, "packages/language-server/bin/stellar-secrets-language-server.js"), "--stdio"] : [join(repo, "bench/lib/run-server.mjs"), opts.server, "--stdio"];

const folder = mkdtempSync(join(tmpdir(), "stellar-bench-many-"));
for (let i = 0; i < 40; i++) for (const p of ["planted", "planted-clinic", "planted-freight"]) cpSync(join(repo, "test/fixtures/checker", p), join(folder, `${p}-${i}`), { recursive: true });

async function run(mode) {
  const proc = spawn(process.execPath, serverArgs, { stdio: ["pipe", "pipe", "inherit"], env: { ...process.env, STELLAR_SECRETS_NO_INDEX_CACHE: "1" } });
  const conn = proto.createProtocolConnection(new proto.StreamMessageReader(proc.stdout), new proto.StreamMessageWriter(proc.stdin));
  let indexedAt;
  let lastPub;
  let pubs = 0;
  conn.onNotification("window/logMessage", (p) => {
    if (/indexed \d+ project/.test(p.message)) indexedAt = Date.now();
  });
  conn.onNotification(proto.PublishDiagnosticsNotification.type, () => {
    pubs++;
    lastPub = Date.now();
  });
  conn.onRequest(proto.ConfigurationRequest.type, (p) => p.items.map(() => ({})));
  conn.listen();
  await conn.sendRequest(proto.InitializeRequest.type, { processId: process.pid, rootUri: null, capabilities: { workspace: { configuration: true } }, workspaceFolders: [{ uri: pathToFileURL(folder).href, name: "many" }] });
  await conn.sendNotification(proto.InitializedNotification.type, {});
  while (indexedAt === undefined) await new Promise((r) => setTimeout(r, 2));
  const out = {};
  if (mode === "ping") {
    const hover = { textDocument: { uri: pathToFileURL(join(folder, "none.yaml")).href }, position: { line: 0, character: 0 } };
    let max = 0;
    while (lastPub === undefined || Date.now() - lastPub < 500) {
      const h0 = Date.now();
      await conn.sendRequest(proto.HoverRequest.type, hover);
      max = Math.max(max, Date.now() - h0);
      await new Promise((r) => setTimeout(r, 25));
    }
    Object.assign(out, { longestHoverMs: max, lastDiagnosticsMs: lastPub - indexedAt, files: pubs });
  } else {
    await new Promise((r) => setTimeout(r, 30));
    const s0 = Date.now();
    await conn.sendRequest(proto.ShutdownRequest.type);
    out.shutdownMs = Date.now() - s0;
  }
  const exited = new Promise((r) => proc.once("exit", r));
  await conn.sendNotification(proto.ExitNotification.type);
  await exited;
  conn.dispose();
  return out;
}

try {
  console.log(`# ${opts.server ?? "the package's bin"}; load ${loadavg()[0].toFixed(1)}`);
  for (let r = 0; r < rounds; r++) console.log(JSON.stringify({ round: r + 1, ...(await run("ping")), ...(await run("shutdown")) }));
} finally {
  rmSync(folder, { recursive: true, force: true });
}
