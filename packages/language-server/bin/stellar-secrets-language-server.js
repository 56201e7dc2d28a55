#!/usr/bin/env node
// CommonJS (bin/package.json). Runs the bundle (dist/bundle/server.mjs, made by the root build's
// scripts/bundle.mjs) when it is newer than every `tsc -b` output it was made from; otherwise the
// tsc output itself (a `tsc -b` alone never runs stale code). An installed package has no
// .tsbuildinfo: the bundle.
"use strict";
const { statSync } = require("node:fs");
const { join } = require("node:path");

const pkg = join(__dirname, "..");
const mtime = (path) => {
  try {
    return statSync(join(pkg, path)).mtimeMs;
  } catch {
    return undefined;
  }
};
const bundle = mtime("dist/bundle/server.mjs");
const fresh = bundle !== undefined && ["dist/.tsbuildinfo", "../core/dist/.tsbuildinfo", "../sops/dist/.tsbuildinfo", "../git/dist/.tsbuildinfo"].every((p) => (mtime(p) ?? 0) <= bundle);
import(fresh ? "../dist/bundle/server.mjs" : "../dist/main.js").then(({ main }) => main());
