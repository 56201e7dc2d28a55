#!/usr/bin/env node
// Benchmark of the per-secret merge driver (issue 10). Run after the build: `node bench/merge.mjs`
// (or `pnpm bench`). Not a test: it asserts nothing about time, it measures and records.
//
// 1. Generates a 1,000-secret base file with a fresh test key; "ours" changes 10 values and adds
//    5, "theirs" changes 10 others and adds 5 (disjoint), as two branches do.
// 2. Median of N in-process runs of the whole driver's work: decrypt + verify the three versions,
//    `mergeSecrets`, verify the result (target ≤ 100 ms), and of `mergeSecrets` alone.
// 3. The same against a side that rotated the data key (theirs' changes re-encrypted under it).
// 4. Cold: `stellar-secrets merge-file` as git runs it, a fresh process per merge.
// 5. Prints a table and writes it, with how to reproduce, into docs/performance.md section "merge".
//
// Usage: node bench/merge.mjs [--no-write]   (--no-write: print only; BENCH_RUNS=N, default 30)
import { spawnSync } from "node:child_process";
import { cpus, loadavg, tmpdir } from "node:os";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { performance } from "node:perf_hooks";
import { scriptArgs } from "../scripts/script-args.mjs";
import { median, ms } from "./lib/stats.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "packages/sops/dist/index.js");
const cli = join(root, "packages/cli/bin/stellar-secrets.js");
if (!existsSync(dist) || !existsSync(join(root, "packages/cli/dist/main.js"))) {
  console.error("bench/merge: build first (pnpm build, or npx tsc -b)");
  process.exit(1);
}
const sops = await import(pathToFileURL(dist).href);

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const WARMUP = 5;
const COLD_RUNS = 10;
const SECRETS = 1000;
const write = scriptArgs(import.meta.url, { options: { "no-write": { type: "boolean" } } }).values["no-write"] !== true;


const dir = mkdtempSync(join(tmpdir(), "bench-merge-"));
try {
  const { identity, recipient } = await sops.generateIdentity(); // test-only, lives in memory for this run
  const values = new Map();
  for (let i = 0; i < SECRETS; i++) {
    const v = `sk-${i.toString(36)}-${"abcdefghijklmnopqrstuvwxyz0123456789".repeat(3).slice(i % 13, 40 + (i % 50))}`;
    values.set(`service_${String(i).padStart(4, "0")}_api_key`, v);
  }
  const name = (i) => `service_${String(i).padStart(4, "0")}_api_key`;
  const baseText = await sops.encryptSecrets(values, { recipients: [recipient] });
  const base = await sops.decryptSecrets(baseText, [identity]);
  const branch = async (from, offset) => {
    const next = new Map(from.values);
    for (let i = 0; i < 10; i++) next.set(name(offset + i * 37), `changed-${offset}-${i}`);
    for (let i = 0; i < 5; i++) next.set(`added_${offset}_${i}_api_key`, `new-${offset}-${i}`);
    return sops.reencryptSecrets(from, next);
  };
  const oursText = await branch(base, 1);
  const theirsText = await branch(base, 2);
  const rotatedText = await sops.rotateDataKey(base);

  const driverWork = async (o, t) => {
    // as merge-file does: one cache, so each (key, name, ENC string) is decrypted once
    const cache = new sops.DecryptCache();
    const ours = await sops.decryptSecrets(o, [identity], { cache });
    const theirs = await sops.decryptSecrets(t, [identity], { cache });
    const b = await sops.decryptSecrets(baseText, [identity], { cache });
    const r = sops.mergeSecrets({ base: { text: baseText, secrets: b }, ours: { text: o, secrets: ours }, theirs: { text: t, secrets: theirs } });
    sops.decryptSecretsWithKey(sops.parseSecretsFile(r.text), r.dataKey, r.text, undefined, cache);
    return r;
  };
  const check = await driverWork(oursText, theirsText);
  if (check.conflicts.length !== 0 || (await sops.decryptSecrets(check.text, [identity])).values.size !== SECRETS + 10) {
    throw new Error("bench/merge: the merge did not give the expected result");
  }
  const sides = await Promise.all([baseText, oursText, theirsText].map((x) => sops.decryptSecrets(x, [identity])));
  const pure = () =>
    sops.mergeSecrets({ base: { text: baseText, secrets: sides[0] }, ours: { text: oursText, secrets: sides[1] }, theirs: { text: theirsText, secrets: sides[2] } });

  const tFull = [];
  const tPure = [];
  const tRotated = [];
  const tOne = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    let t0 = performance.now();
    await driverWork(oursText, theirsText);
    const a = performance.now() - t0;
    t0 = performance.now();
    pure();
    const b = performance.now() - t0;
    t0 = performance.now();
    await driverWork(oursText, rotatedText);
    const c = performance.now() - t0;
    t0 = performance.now();
    await sops.decryptSecrets(oursText, [identity]);
    const d = performance.now() - t0;
    if (i >= WARMUP) {
      tFull.push(a);
      tPure.push(b);
      tRotated.push(c);
      tOne.push(d);
    }
  }

  // cold: the driver as git runs it, one process per merge
  const env = { ...process.env, SOPS_AGE_KEY: identity, SOPS_AGE_KEY_FILE: "" };
  const tCold = [];
  for (let i = 0; i < COLD_RUNS + 1; i++) {
    writeFileSync(join(dir, "O"), baseText);
    writeFileSync(join(dir, "A"), oursText);
    writeFileSync(join(dir, "B"), theirsText);
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [cli, "merge-file", "O", "A", "B", "secrets/production.enc.yaml"], { cwd: dir, env, encoding: "utf8" });
    const t = performance.now() - t0;
    if (r.status !== 0) throw new Error(`bench/merge: merge-file failed: ${r.stderr}`);
    if (i > 0) tCold.push(t);
  }

  const full = median(tFull);
  const target = full <= 100 ? "met" : "NOT met";
  const rows = [
    ["decrypt + verify base, ours, theirs; `mergeSecrets`; verify the result (in process)", ms(full)],
    ["`mergeSecrets` alone (versions already decrypted)", ms(median(tPure))],
    ["the same against a side that rotated the data key (in process)", ms(median(tRotated))],
    [`cold process: \`stellar-secrets merge-file\` as git runs it (median of ${COLD_RUNS})`, ms(median(tCold))],
    ["for reference: one `decryptSecrets` (decrypt + verify) of one version, same run", ms(median(tOne))],
  ];
  const cpu = cpus();
  const machine = `Node ${process.version}, ${cpu.length} × ${cpu[0]?.model ?? "cpu"}, ${process.platform}, load average ${loadavg()[0].toFixed(1)}`;
  const fileSize = `${(Buffer.byteLength(baseText) / 1024).toFixed(0)} KB`;
  const table = ["| merge of two 1,000-secret versions (" + fileSize + ") | median |", "| --- | --- |", ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
  console.log(`\nmerge: ${SECRETS} secrets, ${fileSize}, median of ${RUNS} runs after ${WARMUP} warm-up runs, ${machine}\n`);
  console.log(table);
  console.log(`\nin process: ${ms(full)} (target ≤ 100 ms: ${target})`);

  if (write) {
    const section = [
      "<!-- bench:merge:start -->",
      "## merge",
      "",
      `Measured by \`bench/merge.mjs\` on ${new Date().toISOString().slice(0, 10)} (${machine}).`,
      `A ${SECRETS}-secret environment file (${fileSize}, one age recipient) made with a fresh key; "ours" changes 10 values and`,
      `adds 5, "theirs" changes 10 others and adds 5; median of ${RUNS} runs after ${WARMUP} warm-up runs.`,
      "",
      table,
      "",
      `In process: **${ms(full)}** (target ≤ 100 ms: ${target}), ${(full / median(tOne)).toFixed(1)}× one decrypt of one version. The driver parses the`,
      "three versions, unwraps a data key once per distinct key (a byte-identical age stanza means the same key), decrypts",
      "each (key, name, ENC string) once through a `DecryptCache` and verifies every MAC; the merge itself copies every unchanged",
      "ENC string and encrypts only what moved. The cold figure is what git pays per conflicted environment file",
      "(node start + import + the above; the driver does not load core).",
      "Machines are noisy: trust the ratio more than the milliseconds.",
      "",
      "Reproduce: `pnpm build && node bench/merge.mjs` (or `pnpm bench` for every benchmark);",
      "`BENCH_RUNS=100 node bench/merge.mjs` for more runs, `--no-write` to leave this file alone.",
      "<!-- bench:merge:end -->",
    ].join("\n");
    const doc = join(root, "docs/performance.md");
    let current = readFileSync(doc, "utf8");
    const re = /<!-- bench:merge:start -->[\s\S]*?<!-- bench:merge:end -->/;
    current = re.test(current) ? current.replace(re, () => section) : `${current.trimEnd()}\n\n${section}\n`;
    writeFileSync(doc, current);
    console.log(`\nrecorded in ${doc} (section "merge")`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
