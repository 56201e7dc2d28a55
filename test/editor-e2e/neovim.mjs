#!/usr/bin/env node
// Another real LSP client: headless Neovim 0.7 (push diagnostics only, no pull support) opens the
// example organisation with one misspelt reference and must show `unknown-secret` at its range,
// complete the secret names and hover the reference. Called by scripts/editor-e2e.sh.
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { copyExampleOrg, secretNamesOf } from "./example-org.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "..", "..");
const art = process.argv[2] ?? join(repo, ".test-artifacts/editor-e2e");
mkdirSync(art, { recursive: true });
const ws = copyExampleOrg(repo, "stellar-nvim-ws-");
const names = [...new Set(readdirSync(join(ws, "secrets")).filter((f) => f.endsWith(".enc.yaml")).flatMap((f) => secretNamesOf(join(ws, "secrets", f))))].sort();
const target = names[0];
const typo = target.slice(0, -1) + "x";
const file = join(ws, "connections", "nvim_check.yaml");
const lines = ["kind: api_connection", "name: nvim_check", "base_url: https://nvim.example.com", "headers:", "  - name: Authorization", "    type: secret", `    secret: ${typo}`, ""];
writeFileSync(file, lines.join("\n"));
const out = join(art, "neovim-result.json");
try {
  execFileSync("nvim", ["--headless", "-u", "NONE", "-i", "NONE", "-n", "-c", `luafile ${join(here, "neovim.lua")}`, file], {
    env: { ...process.env, SERVER: join(repo, "packages/language-server/bin/stellar-secrets-language-server.js"), WS: ws, OUT: out, LINE: "6", COL: String(`    secret: ${typo}`.length) },
    stdio: ["ignore", "ignore", "inherit"],
    timeout: 60_000,
  });
  const r = JSON.parse(readFileSync(out, "utf8"));
  const problems = [];
  const d = r.diagnostics.find((x) => x.code === "unknown-secret");
  if (!d) problems.push(`no unknown-secret diagnostic: ${JSON.stringify(r.diagnostics)}`);
  else if (d.line !== 6 || d.col !== 12 || d.end_col !== 12 + typo.length) problems.push(`unknown-secret at ${d.line}:${d.col}-${d.end_col}, expected 6:12-${12 + typo.length}`);
  const missing = names.filter((n) => !r.completion.includes(n));
  if (missing.length > 0) problems.push(`completion misses ${missing.join(", ")}: ${JSON.stringify(r.completion)}`);
  if (!r.hover.includes(typo)) problems.push(`hover does not name ${typo}: ${JSON.stringify(r.hover)}`);
  console.log(`editor-e2e neovim: diagnostics ${JSON.stringify(r.diagnostics.map((x) => `${x.line + 1}:${x.col + 1} ${x.code}`))}, ${r.completion.length} completion items`);
  if (problems.length > 0) {
    console.log(`editor-e2e neovim: FAIL\n  ${problems.join("\n  ")}`);
    process.exitCode = 1;
  } else console.log("editor-e2e neovim: PASS (push diagnostics at the exact range, completion, hover)");
} finally {
  rmSync(ws, { recursive: true, force: true });
}
