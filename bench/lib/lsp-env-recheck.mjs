#!/usr/bin/env node
// The language server's re-check after an edit of an environment file, in process
// (docs/performance.md, "The re-check after an environment file's edit in pieces"): the server's
// project model (packages/language-server/dist/core-model.js of this checkout) on the checker
// bench's workspace (5,000 config files, generated into a temp folder), checked once; then EDITS
// edits of secrets/staging.enc.yaml (a value line dropped, then put back), each staged and
// re-checked through `flushSteps()` as the server runs it. Per edit: the number of pieces, the three
// largest (ms), the rest after the last piece (one call) and the whole, wall time. No protocol.
//
// Usage: node bench/lib/lsp-env-recheck.mjs [--edits 6] [--files 5000]
import { readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { scriptArgs } from "../../scripts/script-args.mjs";
import { generateWorkspace } from "./workspace.mjs";

const { values: opts } = scriptArgs(import.meta.url, {
  numbers: ["edits", "files"],
  options: { edits: { type: "string", default: "6" }, files: { type: "string", default: "5000" } },
});
const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const { createCoreModel } = await import(pathToFileURL(join(repo, "packages/language-server/dist/core-model.js")).href);
const ws = await generateWorkspace({ files: Number(opts.files) });
try {
  const buffers = new Map();
  const source = { bufferOf: (p) => buffers.get(p), read: async (p) => readFileSync(p, "utf8") };
  const model = await createCoreModel(join(ws.dir, "stellar.yaml"), source);
  model.files(); // the first check
  const env = join(ws.dir, "secrets", "staging.enc.yaml");
  const text = readFileSync(env, "utf8");
  for (let i = 0; i < Number(opts.edits); i++) {
    const next = i % 2 === 0 ? text.replace(/^(\s*)vendor1_api_token: .*\n/m, "") : text;
    buffers.set(env, next);
    model.stage(env, next);
    model.quickCheck(env);
    const steps = model.flushSteps();
    const pieces = [];
    let t = performance.now();
    let r = steps.next();
    while (r.done !== true) {
      const n = performance.now();
      pieces.push(n - t);
      t = n;
      r = steps.next();
    }
    const rest = performance.now() - t;
    const total = pieces.reduce((a, b) => a + b, 0) + rest;
    pieces.sort((a, b) => b - a);
    console.log(
      `edit ${i}: ${pieces.length} pieces, largest ${pieces.slice(0, 3).map((x) => x.toFixed(1)).join(", ")} ms; the rest (one call) ${rest.toFixed(1)} ms; whole ${total.toFixed(0)} ms; ${r.value?.size ?? "stopped:"} files changed`,
    );
  }
} finally {
  rmSync(ws.dir, { recursive: true, force: true });
}
