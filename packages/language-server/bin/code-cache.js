// CommonJS (bin/package.json). Loads the server bundle (dist/bundle/server.cjs) through vm.Script
// with a V8 code cache kept beside it (server.cjs.cache): V8 then skips parsing and compiling what
// an earlier start compiled (the server's modules, and the loader and checker functions its
// initial index ran). Used by the bin and by dist/bundle/server.mjs (the package's module entry).
//
// The cache is written once the initial index is built (a server runs until it is killed, so
// "at exit" would often never come), after a short pause so that the first answers go out first,
// or at exit if the server ends before that, and only when there was none or V8 rejected it (another Node version or other V8 flags; V8 checks
// it against the source, so a stale cache is never used): through a temp file and a rename. A
// folder that cannot be written to (a read-only install) just means no cache.
"use strict";
const { readFileSync, renameSync, rmSync, writeFileSync } = require("node:fs");
const { createRequire } = require("node:module");
const { dirname } = require("node:path");
const { Script } = require("node:vm");

/** How long after the initial index the cache is written (the first diagnostics and answers first). */
const WRITE_DELAY_MS = 1000;

/** Compiles and runs the CommonJS bundle `file`; returns its exports, `main` wrapped to keep the cache. */
function loadServerBundle(file) {
  const cacheFile = `${file}.cache`;
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // no cache yet
  }
  const source = readFileSync(file, "utf8");
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, cachedData });
  const module = { exports: {} };
  script.runInThisContext().call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  const write = cachedData === undefined || script.cachedDataRejected === true;
  const writeCache = () => {
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, cacheFile);
    } catch {
      // a read-only install: run without a cache
      try {
        rmSync(tmp, { force: true });
      } catch {
        // nothing written
      }
    }
  };
  const { main } = module.exports;
  return {
    ...module.exports,
    main: (options = {}) =>
      main({
        ...options,
        afterInitialIndex: () => {
          options.afterInitialIndex?.();
          if (!write) return;
          // once: at the timer, or at exit when the server ends before it (an editor closed at once)
          let done = false;
          const once = () => {
            if (done) return;
            done = true;
            writeCache();
          };
          setTimeout(once, WRITE_DELAY_MS).unref();
          process.once("exit", once);
        },
      }),
  };
}

module.exports = { loadServerBundle };
