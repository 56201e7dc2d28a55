#!/usr/bin/env node
// The README's main job: a tour of the secret lifecycle with the real `stellar-secrets` CLI.
// Creates a secrets repository in a temp folder — with HOME and XDG_CONFIG_HOME inside it, so it
// never reads or touches your own age keys — then runs init, set (values via stdin), list, get,
// catalog, members add/rm, rotate-key, history, stale, exec, export, rm and rename; and finally
// check and usage on the repository's example organisation. Prints every command it runs.
// All values are fake demo strings.
//
// Usage: node scripts/demo.mjs [--keep]   (needs `pnpm build`; `npm run demo` does both)
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { scriptArgs } from "./script-args.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "packages/cli/bin/stellar-secrets.js");
if (!existsSync(join(root, "packages/cli/dist/main.js"))) {
  console.error("demo: the CLI is not built; run `npm run demo` (or `pnpm build` first)");
  process.exit(1);
}
const keep = scriptArgs(import.meta.url, { options: { keep: { type: "boolean" } } }).values.keep === true;
const color = process.stdout.isTTY ? (code, s) => `\u001b[${code}m${s}\u001b[0m` : (_code, s) => s;

const base = mkdtempSync(join(tmpdir(), "stellar-secrets-demo-"));
const home = join(base, "home");
const repo = join(base, "secrets-repo");
mkdirSync(home, { recursive: true });
mkdirSync(repo, { recursive: true });
const env = {
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  HOME: home,
  XDG_CONFIG_HOME: join(home, ".config"),
  USER: "alice",
  LANG: "C.UTF-8",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_AUTHOR_NAME: "Alice Demo",
  GIT_AUTHOR_EMAIL: "alice@demo.test",
  GIT_COMMITTER_NAME: "Alice Demo",
  GIT_COMMITTER_EMAIL: "alice@demo.test",
};
const hasGit = spawnSync("git", ["--version"], { stdio: "ignore" }).status === 0;
let failures = 0;

function section(title) {
  console.log(`\n${color("1", `## ${title}`)}`);
}

/** Runs the CLI, printing the command line (with `input` shown as a pipe) and its output. */
function run(args, { cwd = repo, input, pipeLabel, expect = 0, extraEnv = {} } = {}) {
  const shown = ["stellar-secrets", ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
  console.log(color("36", `$ ${input !== undefined ? `${pipeLabel ?? `printf %s '${input}'`} | ` : ""}${shown}`));
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, env: { ...env, ...extraEnv }, input: input ?? "", encoding: "utf8" });
  if (r.stdout) process.stdout.write(r.stdout.endsWith("\n") ? r.stdout : `${r.stdout}\n`);
  if (r.stderr) process.stdout.write(color("2", r.stderr.endsWith("\n") ? r.stderr : `${r.stderr}\n`));
  if (r.status !== expect) {
    failures++;
    console.log(color("31", `   ✗ exit status ${r.status}, expected ${expect}`));
  } else if (expect !== 0) {
    console.log(color("2", `   (exit status ${r.status}, as expected)`));
  }
  return r;
}

function git(args, cwd = repo, date) {
  if (!hasGit) return;
  console.log(color("36", `$ git ${args.join(" ")}`));
  const dates = date ? { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } : {};
  execFileSync("git", args, { cwd, env: { ...env, ...dates }, stdio: ["ignore", "ignore", "inherit"] });
}

try {
  console.log(`Demo repository: ${repo}`);
  console.log(`HOME for this demo: ${home} (your own keys are not used)`);

  section("Create a secrets repository");
  if (hasGit) git(["init", "-q", "-b", "main"]);
  run(["init", "--env", "development,staging,production"]);

  section("Add values (from stdin here; on a terminal `set` prompts without echo)");
  run(["set", "stripe_api_key", "--env", "development,staging", "--from-stdin"], { input: "sk_test_demo_4eC39HqLyjWDarjtT1zdp7dc" });
  run(["set", "stripe_api_key", "--env", "production", "--from-stdin"], { input: "sk_live_demo_not_a_real_key_0000" });
  run(["set", "hubspot_api_token", "--env", "development,production", "--from-stdin"], { input: "pat-na1-demo-0000-1111-2222" });
  run(["set", "stripe_api_key", "--description", "Stripe secret key for billing", "--owner", "payments-team", "--rotate-every", "90d"]);
  run(["set", "Stripe-Key", "--env", "development", "--from-stdin"], { input: "x", expect: 3 });

  section("See what exists where — no key needed, no values printed");
  run(["list", "--long"]);

  section("Read one value back (the explicit reveal)");
  run(["get", "stripe_api_key", "--env", "development"]);
  git(["add", "-A"]);
  git(["commit", "-q", "-m", "Add Stripe and HubSpot secrets"], repo, "2025-01-15T09:00:00Z");

  section("Give a teammate access to development, then remove them again");
  const bob = execFileSync(process.execPath, ["--input-type=module", "-e", `import { generateIdentity } from ${JSON.stringify(join(root, "packages/sops/dist/index.js"))}; const k = await generateIdentity(); process.stdout.write(k.recipient);`], { encoding: "utf8" });
  run(["members", "add", "bob", bob, "--env", "development"]);
  run(["members", "list"]);
  git(["commit", "-q", "-am", "Give bob development access"], repo, "2025-02-01T09:00:00Z");
  run(["members", "rm", "bob"]);
  git(["commit", "-q", "-am", "bob left: re-key development"], repo, "2025-03-01T09:00:00Z");

  section("Change a value; rotate a data key");
  run(["set", "hubspot_api_token", "--env", "production", "--from-stdin"], { input: "pat-na1-demo-rotated-3333" });
  run(["rotate-key", "--env", "staging"]);
  git(["commit", "-q", "-am", "Rotate the HubSpot token; re-key staging"], repo, "2025-04-01T09:00:00Z");

  if (hasGit) {
    section("Audit: who changed which value when (from git, no key needed)");
    run(["history"]);
    run(["stale"], { expect: 1 });
  }

  section("Use the values at deploy time");
  run(["exec", "--env", "development", "--", process.execPath, "-e", "console.log('the app sees STRIPE_API_KEY of length', process.env.STRIPE_API_KEY.length)"]);
  run(["export", "--env", "production", "--format", "k8s", "--name", "billing"]);

  section("Names are fixed; deleting asks first");
  run(["rename", "hubspot_api_token", "hubspot_private_app_token"], { expect: 8 });
  run(["rm", "hubspot_api_token", "--env", "development"], { expect: 9 });
  run(["rm", "hubspot_api_token", "--env", "development", "--yes"]);
  run(["list"]);

  section("Check and usage on the repository's example organisation (no keys needed)");
  const org = join(base, "example-org");
  mkdirSync(org);
  for (const p of ["stellar.yaml", ".sops.yaml", "secrets", "connectors", "connections", "agents"]) {
    if (existsSync(join(root, p))) cpSync(join(root, p), join(org, p), { recursive: true });
  }
  run(["check"], { cwd: org });
  run(["usage", "stripe_api_key"], { cwd: org });
  run(["list"], { cwd: org });
  run(["rm", "stripe_api_key", "--yes"], { cwd: org, expect: 7 });
} finally {
  if (keep) console.log(`\nKept ${base}`);
  else rmSync(base, { recursive: true, force: true });
}

if (failures > 0) {
  console.error(`\ndemo: ${failures} step(s) did not end as expected`);
  process.exit(1);
}
console.log("\nDemo finished: every step ended as expected.");
