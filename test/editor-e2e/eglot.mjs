#!/usr/bin/env node
// A third real LSP client: Emacs eglot in batch mode (push diagnostics; the setup of docs/editor.md)
// opens the example organisation with one misspelt reference and must show `unknown-secret` at its
// range, hover and complete the reference, and offer the "Replace with" quick fix. Called by
// scripts/editor-e2e.sh when `emacs` with eglot is installed (Debian 12: emacs-nox elpa-eglot);
// skipped (exit 0, said) otherwise.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { copyExampleOrg, secretNamesOf } from "./example-org.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "..", "..");
const art = process.argv[2] ?? join(repo, ".test-artifacts/editor-e2e");
mkdirSync(art, { recursive: true });
const probe = spawnSync("emacs", ["--batch", "-q", "--eval", "(progn (package-initialize) (require 'eglot))"], { encoding: "utf8" });
if (probe.status !== 0) {
  console.log(`editor-e2e eglot: SKIPPED (no emacs with eglot: ${(probe.error?.message ?? probe.stderr).trim().split("\n").at(-1)})`);
  process.exit(0);
}
const ws = copyExampleOrg(repo, "stellar-eglot-ws-");
// eglot's project is the version-controlled folder around the file
execFileSync("git", ["init", "-q"], { cwd: ws });
const names = [...new Set(readdirSync(join(ws, "secrets")).filter((f) => f.endsWith(".enc.yaml")).flatMap((f) => secretNamesOf(join(ws, "secrets", f))))].sort();
const target = names[0];
const typo = target.slice(0, -1) + "x";
const file = join(ws, "connections", "eglot_check.yaml");
const lines = ["kind: api_connection", "name: eglot_check", "base_url: https://eglot.example.com", "headers:", "  - name: Authorization", "    type: secret", `    secret: ${typo}`, ""];
writeFileSync(file, lines.join("\n"));
const out = join(art, "eglot-result.json");
rmSync(out, { force: true });
try {
  execFileSync("emacs", ["--batch", "-q", "-l", join(here, "eglot.el"), file], {
    env: { ...process.env, SERVER: join(repo, "packages/language-server/bin/stellar-secrets-language-server.js"), OUT: out, LINE: "6", COL: String(`    secret: ${typo}`.length) },
    stdio: ["ignore", "ignore", "inherit"],
    timeout: 90_000,
  });
  const r = JSON.parse(readFileSync(out, "utf8"));
  const problems = [];
  const d = r.diagnostics.find((x) => x.text.includes("[unknown-secret]"));
  if (!d) problems.push(`no unknown-secret diagnostic: ${JSON.stringify(r.diagnostics)}`);
  else if (d.line !== 6 || d.col !== 12 || d.end_col !== 12 + typo.length) problems.push(`unknown-secret at ${d.line}:${d.col}-${d.end_col}, expected 6:12-${12 + typo.length}`);
  const missing = names.filter((n) => !r.completion.includes(n));
  if (missing.length > 0) problems.push(`completion misses ${missing.join(", ")}: ${JSON.stringify(r.completion)}`);
  if (!String(r.hover).includes(typo)) problems.push(`hover does not name ${typo}: ${JSON.stringify(r.hover)}`);
  if (!r.actions.includes(`Replace with ${target}`)) problems.push(`no "Replace with ${target}" quick fix: ${JSON.stringify(r.actions)}`);
  if (r.encoding !== "utf-16") problems.push(`position encoding ${r.encoding}, expected utf-16`);
  console.log(`editor-e2e eglot: diagnostics ${JSON.stringify(r.diagnostics.map((x) => `${x.line + 1}:${x.col + 1} ${x.text.slice(0, 60)}`))}, ${r.completion.length} completion items, actions ${JSON.stringify(r.actions)}`);
  if (problems.length > 0) {
    console.log(`editor-e2e eglot: FAIL\n  ${problems.join("\n  ")}`);
    process.exitCode = 1;
  } else console.log("editor-e2e eglot: PASS (push diagnostics at the exact range, hover, completion, quick fix)");
} finally {
  rmSync(ws, { recursive: true, force: true });
}
