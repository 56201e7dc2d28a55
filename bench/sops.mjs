#!/usr/bin/env node
// Benchmark of @stellar-secrets/sops (issue 2 item 7). Run after the build: `node bench/sops.mjs`
// (or `pnpm bench`). Not a test: it asserts nothing about time, it measures and records.
//
// 1. Generates a 1,000-secret environment file with a fresh test key (in a temp dir).
// 2. Median of N runs of decrypt + verify with our reader, and of sops-age `decryptSops` on the
//    same text, interleaved in the same process; prints the ratio (target: ours ≥ 3× faster).
// 3. Cold: a fresh `node` process that imports the library and decrypts once (CLI / resolver cost).
// 4. Median of N rewrites after one change: `reencryptSecrets` (pure) and `editSecretsFile`
//    (lock + read + decrypt/verify + re-encrypt + verify + atomic write with fsync).
// 5. Prints a table and writes it, with how to reproduce, into docs/performance.md section "sops".
//
// Usage: node bench/sops.mjs [--no-write]   (--no-write: print only; BENCH_RUNS=N, default 30)
import { cpus, tmpdir } from "node:os";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { performance } from "node:perf_hooks";
import { scriptArgs } from "../scripts/script-args.mjs";
import { median, ms, time } from "./lib/stats.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "packages/sops/dist/index.js");
if (!existsSync(dist)) {
  console.error(`bench/sops: ${dist} is missing; build first (pnpm build, or npx tsc -b packages/sops)`);
  process.exit(1);
}
const sops = await import(pathToFileURL(dist).href);
const { decryptSops } = await import("sops-age");

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const WARMUP = 5;
const SECRETS = 1000;
const write = scriptArgs(import.meta.url, { options: { "no-write": { type: "boolean" } } }).values["no-write"] !== true;


// --- the file ---------------------------------------------------------------------------------
const dir = mkdtempSync(join(tmpdir(), "bench-sops-"));
try {
  const { identity, recipient } = await sops.generateIdentity(); // test-only, lives in memory for this run
  const values = new Map();
  for (let i = 0; i < SECRETS; i++) {
    // 40–90 characters, like API keys and URLs
    const v = `sk-${i.toString(36)}-${"abcdefghijklmnopqrstuvwxyz0123456789".repeat(3).slice(i % 13, 40 + (i % 50))}`;
    values.set(`service_${String(i).padStart(4, "0")}_api_key`, v); // lowercase_with_underscores, as DESIGN.md asks
  }
  const text = await sops.encryptSecrets(values, { recipients: [recipient] });
  const path = join(dir, "production.enc.yaml");
  writeFileSync(path, text);

  // Both readers must agree before their times mean anything.
  const ours = await sops.decryptSecrets(text, [identity]);
  const theirs = await decryptSops(text, { secretKey: identity, fileType: "yaml" });
  for (const [k, v] of values) {
    if (ours.values.get(k) !== v || theirs[k] !== v) throw new Error(`bench/sops: readers disagree on ${k}`);
  }

  // --- decrypt + verify, interleaved ------------------------------------------------------------
  const tOurs = [];
  const tTheirs = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const a = await time(() => sops.decryptSecrets(text, [identity]));
    const b = await time(() => decryptSops(text, { secretKey: identity, fileType: "yaml" }));
    if (i >= WARMUP) {
      tOurs.push(a);
      tTheirs.push(b);
    }
  }
  // cold: first call in a fresh state is not measured here (JIT); see "how to reproduce".

  // --- rewrite after one change -----------------------------------------------------------------
  const tReenc = [];
  const tEdit = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const next = new Map(ours.values);
    next.set("service_0500_api_key", `changed-${i}`);
    const a = await time(() => sops.reencryptSecrets(ours, next));
    const b = await time(() => sops.editSecretsFile(path, [identity], (v) => v.set("service_0500_api_key", `edited-${i}`)));
    if (i >= WARMUP) {
      tReenc.push(a);
      tEdit.push(b);
    }
  }

  // --- cold: a fresh node process that imports the library and decrypts the file once ----------
  // (what a CLI command or a deploy-time resolver pays). The key reaches the child via env.
  const { spawnSync } = await import("node:child_process");
  const sopsAgeUrl = pathToFileURL(join(root, "node_modules/sops-age/dist/index.js")).href;
  const coldScript = (which) =>
    which === "ours"
      ? `const s = await import(${JSON.stringify(pathToFileURL(dist).href)}); const fs = await import("node:fs"); await s.decryptSecrets(fs.readFileSync(process.env.F, "utf8"), [process.env.K]);`
      : `const m = await import(${JSON.stringify(sopsAgeUrl)}); const fs = await import("node:fs"); await m.decryptSops(fs.readFileSync(process.env.F, "utf8"), { secretKey: process.env.K, fileType: "yaml" });`;
  const cold = { ours: [], theirs: [], empty: [] };
  const COLD_RUNS = Math.max(5, Math.round(RUNS / 3));
  for (let i = 0; i < COLD_RUNS + 1; i++) {
    for (const [k, src] of [["ours", coldScript("ours")], ["theirs", coldScript("theirs")], ["empty", ""]]) {
      const t0 = performance.now();
      const r = spawnSync(process.execPath, ["--input-type=module", "-e", src], { env: { ...process.env, F: path, K: identity }, stdio: "inherit" });
      if (r.status !== 0) throw new Error(`bench/sops: cold ${k} run failed`);
      if (i > 0) cold[k].push(performance.now() - t0);
    }
  }

  const mOurs = median(tOurs);
  const mTheirs = median(tTheirs);
  const ratio = mTheirs / mOurs;
  const rows = [
    ["decrypt + verify MAC, ours (`decryptSecrets`)", ms(mOurs), `${ratio.toFixed(1)}× faster`],
    ["decrypt, sops-age 4.0.2 `decryptSops` (no MAC check)", ms(mTheirs), "1×"],
    [`cold process: \`node\` start + import + decrypt + verify once, ours (median of ${COLD_RUNS})`, ms(median(cold.ours)), `${(median(cold.theirs) / median(cold.ours)).toFixed(1)}× faster`],
    [`cold process, sops-age (median of ${COLD_RUNS})`, ms(median(cold.theirs)), "1×"],
    [`cold process doing nothing (\`node\` start alone, for reference)`, ms(median(cold.empty)), ""],
    ["rewrite after one change (`reencryptSecrets`, in memory)", ms(median(tReenc)), ""],
    ["edit one value on disk (`editSecretsFile`: lock, read, verify, re-encrypt, verify, atomic write + fsync)", ms(median(tEdit)), ""],
  ];
  const cpu = cpus();
  const machine = `Node ${process.version}, ${cpu.length} × ${cpu[0]?.model ?? "cpu"}, ${process.platform}`;
  const fileSize = `${(Buffer.byteLength(text) / 1024).toFixed(0)} KB`;
  const target = ratio >= 3 ? "met" : "NOT met";

  const table = [
    "| operation (1,000 secrets, " + fileSize + ") | median | vs sops-age |",
    "| --- | --- | --- |",
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
  console.log(`\nsops: ${SECRETS} secrets, ${fileSize}, median of ${RUNS} runs after ${WARMUP} warm-up runs, ${machine}\n`);
  console.log(table);
  console.log(`\nratio sops-age / ours = ${ratio.toFixed(2)} (target ≥ 3: ${target})`);

  if (write) {
    const section = [
      "<!-- bench:sops:start -->",
      "## sops",
      "",
      `Measured by \`bench/sops.mjs\` on ${new Date().toISOString().slice(0, 10)} (${machine}).`,
      `A ${SECRETS}-secret environment file (${fileSize}, flat SOPS YAML, one age recipient) made with a fresh key;`,
      `median of ${RUNS} runs after ${WARMUP} warm-up runs, ours and sops-age interleaved in the same process on the same text.`,
      "",
      table,
      "",
      `Ratio sops-age / ours: **${ratio.toFixed(2)}×** (target ≥ 3×: ${target}). Our time includes parsing, unwrapping the`,
      "data key (age X25519), decrypting every value and verifying the MAC; sops-age does not verify the MAC.",
      "Machines are noisy: trust the ratio more than the milliseconds.",
      "",
      "Reproduce: `pnpm build && node bench/sops.mjs` (or `pnpm bench` for every benchmark);",
      "`BENCH_RUNS=100 node bench/sops.mjs` for more runs, `--no-write` to leave this file alone.",
      "<!-- bench:sops:end -->",
    ].join("\n");
    const doc = join(root, "docs/performance.md");
    let current = existsSync(doc) ? readFileSync(doc, "utf8") : "# Performance\n\nFigures recorded by `pnpm bench` (bench/*.mjs). Each section is rewritten by its benchmark.\n";
    const re = /<!-- bench:sops:start -->[\s\S]*?<!-- bench:sops:end -->/;
    current = re.test(current) ? current.replace(re, () => section) : `${current.trimEnd()}\n\n${section}\n`;
    writeFileSync(doc, current);
    console.log(`\nrecorded in ${doc} (section "sops")`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
