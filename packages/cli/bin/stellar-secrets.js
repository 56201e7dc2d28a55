#!/usr/bin/env node
// CommonJS (bin/package.json): node starts a CommonJS entry without its ES-module loader, a few
// milliseconds of every command.
//
// Runs the bundle (dist/bundle/stellar-secrets.cjs, or the command's own dist/bundle/command-NAME.cjs
// when it has one; made by the root build's scripts/bundle.mjs)
// when it is newer than every `tsc -b` output it was made from; otherwise the tsc output itself (a
// `tsc -b` alone never runs stale code). An installed package has no .tsbuildinfo: the bundle.
//
// The bundle is compiled with a V8 code cache kept beside it (stellar-secrets.cjs.COMMAND.cache, or
// command-NAME.cjs.cache) by dist/bundle/code-cache.cjs (the build's copy of scripts/code-cache.cjs,
// the one loader of every bundle: how the cache is checked and written is described there). The
// cache is written at exit when it is missing or V8 rejected it; a usage error (exit status 2)
// writes none.
"use strict";
// Node.js older than package.json's engines (20.19): one clear error (UNSUPPORTED, exit 14)
// instead of a syntax error or a missing API deep in the bundle. npm only warns (EBADENGINE) when
// it installs on such a node. Written so that old nodes parse this whole file (no `?.`, no `??`).
const nodeVersion = process.versions.node;
const [nodeMajor, nodeMinor] = nodeVersion.split(".").map(Number);
if (nodeMajor < 20 || (nodeMajor === 20 && nodeMinor < 19)) {
  const message = "Node.js " + nodeVersion + " (" + process.execPath + ") is too old: stellar-secrets needs Node.js 20.19 or newer";
  const hint = "install Node.js 20.19 or newer (https://nodejs.org/, or `nvm install 20`), make it the `node` on your PATH (`node --version` says which runs), then run the command again";
  if (process.argv.indexOf("--json") !== -1) process.stderr.write(JSON.stringify({ error: { code: "UNSUPPORTED", message: message, hint: hint, exitStatus: 14 } }) + "\n");
  else process.stderr.write("stellar-secrets: UNSUPPORTED: " + message + "\n  hint: " + hint + "\n");
  process.exit(14);
}
const { readFileSync, statSync } = require("node:fs");
const { join } = require("node:path");

const pkg = join(__dirname, "..");
// (no exception for a missing file: an installed package has no .tsbuildinfo, and each throw costs)
const mtime = (path) => {
  const stat = statSync(join(pkg, path), { throwIfNoEntry: false });
  return stat === undefined ? undefined : stat.mtimeMs;
};
const bundle = mtime("dist/bundle/stellar-secrets.cjs");
const fresh = bundle !== undefined && ["dist/.tsbuildinfo", "../core/dist/.tsbuildinfo", "../sops/dist/.tsbuildinfo", "../git/dist/.tsbuildinfo", "../resolver/dist/.tsbuildinfo"].every((p) => (mtime(p) || 0) <= bundle);
if (fresh) {
  const command = /^[a-z][a-z-]{0,30}$/.test(process.argv[2] || "") ? process.argv[2] : undefined;
  // a command with a bundle of its own (dist/bundle/command-NAME.cjs, the commands whose start
  // matters most) runs it: about half as much to read and deserialize as the whole CLI
  let file = command === undefined ? undefined : join(pkg, "dist", "bundle", `command-${command}.cjs`);
  let source;
  try {
    if (file !== undefined) source = readFileSync(file, "utf8");
  } catch {
    // no bundle of its own: the whole CLI
  }
  if (source === undefined) file = join(pkg, "dist", "bundle", "stellar-secrets.cjs");
  // one cache per command: V8 caches the functions a run compiled, and each command runs its own
  const cacheFile = source === undefined ? `${file}.${command || "main"}.cache` : `${file}.cache`;
  const loaded = require(join(pkg, "dist", "bundle", "code-cache.cjs")).loadBundle(file, { source, cacheFile, require });
  if (loaded.stale) {
    process.once("exit", (status) => {
      // a usage error (exit status 2: an unknown command, a bad option) compiled next to nothing,
      // and a typo (`stellar-secrets lsit`) would leave a cache file of its own, about 1 MB
      if (status !== 2) loaded.writeCache();
    });
  }
  loaded.exports.main(process.argv.slice(2));
} else {
  import("../dist/main.js").then(({ main }) => main(process.argv.slice(2)));
}
