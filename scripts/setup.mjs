#!/usr/bin/env node
// Installs the workspace (pnpm, pinned) and builds every package. Used by `npm run demo`,
// `npm test` and `npm run bench`, so that each works on a fresh machine with only Node and npm.
//
// Usage: node scripts/setup.mjs   (no flags; STELLAR_SETUP_QUIET=1 prints only errors)

// `npm run demo` / `npm test` on a node older than package.json's engines: say so before pnpm and
// tsc fail in their own words (npm runs scripts whatever the engines say)
{
  const [major, minor] = process.versions.node.split(".").map(Number);
  if (major < 20 || (major === 20 && minor < 19)) {
    console.error(`setup: Node.js ${process.versions.node} (${process.execPath}) is too old: this repository needs Node.js 20.19 or newer.`);
    console.error("  hint: install Node.js 20.19 or newer (https://nodejs.org/, or `nvm install 20`), make it the `node` on your PATH (`node --version`), then run the command again");
    process.exit(1);
  }
}
// Everything else is imported only after that check: this file has no static import, since a node
// that cannot link one (Node 16 and 18.0-18.2 have no util.parseArgs, which script-args.mjs imports)
// would stop with a SyntaxError before any line of it ran, the version check included
main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});

async function main() {
  const [{ execFileSync }, { existsSync }, { fileURLToPath }, { dirname, join }, { scriptArgs }] = await Promise.all([
    import("node:child_process"),
    import("node:fs"),
    import("node:url"),
    import("node:path"),
    import("./script-args.mjs"),
  ]);
  scriptArgs(import.meta.url);
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  const PNPM = "pnpm@10.34.9";
  const quiet = process.env.STELLAR_SETUP_QUIET === "1";

  function sh(cmd, args) {
    execFileSync(cmd, args, { cwd: root, stdio: quiet ? ["ignore", "ignore", "inherit"] : "inherit", env: { ...process.env, COREPACK_INTEGRITY_KEYS: "0" } });
  }

  let pnpm = ["pnpm"];
  try {
    // asked in the sources' folder, never where setup was started (a CI job starts it in the checked-out
    // pull request, whose package.json `packageManager` would choose the pnpm a corepack shim runs)
    const v = execFileSync("pnpm", ["--version"], { cwd: root, encoding: "utf8" }).trim();
    if (v !== "10.34.9") pnpm = ["npx", "-y", PNPM];
  } catch {
    pnpm = ["npx", "-y", PNPM];
  }
  const [cmd, ...pre] = pnpm;
  // node_modules made with another package store (or pnpm version) is rebuilt without asking: the
  // question needs a terminal, and `npm test` in CI or a pipe has none (ERR_PNPM_ABORTED_REMOVE_MODULES_DIR_NO_TTY)
  sh(cmd, [...pre, "install", "--frozen-lockfile", "--prefer-offline", "--config.confirm-modules-purge=false"]);
  sh(cmd, [...pre, "run", "build"]);
  if (!existsSync(join(root, "node_modules/.bin/stellar-secrets"))) {
    console.error("setup: node_modules/.bin/stellar-secrets is missing after install");
    process.exit(1);
  }
}
