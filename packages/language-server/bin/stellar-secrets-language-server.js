#!/usr/bin/env node
// CommonJS (bin/package.json): node starts a CommonJS entry without its ES-module loader.
//
// Runs the bundle (dist/bundle/server.cjs, made by the root build's scripts/bundle.mjs) when it is
// newer than every `tsc -b` output it was made from; otherwise the tsc output itself (a `tsc -b`
// alone never runs stale code). An installed package has no .tsbuildinfo: the bundle. The bundle
// is compiled with a V8 code cache kept beside it (bin/code-cache.js).
"use strict";
const { statSync } = require("node:fs");
const { join } = require("node:path");

const pkg = join(__dirname, "..");
// (no exception for a missing file: an installed package has no .tsbuildinfo, and each throw costs)
const mtime = (path) => statSync(join(pkg, path), { throwIfNoEntry: false })?.mtimeMs;
const bundle = mtime("dist/bundle/server.cjs");
const fresh = bundle !== undefined && ["dist/.tsbuildinfo", "../core/dist/.tsbuildinfo", "../sops/dist/.tsbuildinfo", "../git/dist/.tsbuildinfo"].every((p) => (mtime(p) ?? 0) <= bundle);
if (fresh) {
  require("./code-cache.js").loadServerBundle(join(pkg, "dist", "bundle", "server.cjs")).main();
} else {
  import("../dist/main.js").then(({ main }) => main());
}
