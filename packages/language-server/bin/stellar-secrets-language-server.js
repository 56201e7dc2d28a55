#!/usr/bin/env node
// Runs the bundle (dist/bundle, made by the root build's scripts/bundle.mjs) when it is newer than
// every `tsc -b` output it was made from; otherwise the tsc output itself (a `tsc -b` alone never
// runs stale code). An installed package has no .tsbuildinfo: the bundle.
import { statSync } from "node:fs";

const mtime = (path) => {
  try {
    return statSync(new URL(path, import.meta.url)).mtimeMs;
  } catch {
    return undefined;
  }
};
const bundle = mtime("../dist/bundle/server.mjs");
const fresh = bundle !== undefined && ["../dist/.tsbuildinfo", "../../core/dist/.tsbuildinfo", "../../sops/dist/.tsbuildinfo"].every((p) => (mtime(p) ?? 0) <= bundle);
const { main } = await import(fresh ? "../dist/bundle/server.mjs" : "../dist/main.js");
main();
