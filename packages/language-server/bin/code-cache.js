// CommonJS (bin/package.json). Loads the server bundle (dist/bundle/server.cjs) with a V8 code cache
// kept beside it (server.cjs.cache) through dist/bundle/code-cache.cjs (the build's copy of
// scripts/code-cache.cjs, the one loader of every bundle: how the cache is checked and written is
// described there). Used by the bin and by dist/bundle/server.mjs (the package's module entry).
//
// What is the server's own: the cache is written once the initial index is built (a server runs
// until it is killed, so "at exit" would often never come), after a short pause so that the first
// answers go out first, or at exit if the server ends before that; and the bundle's build tag is
// handed to the server, whose on-disk cache of config models is keyed by it.
"use strict";
const { join } = require("node:path");

/** How long after the initial index the cache is written (the first diagnostics and answers first). */
const WRITE_DELAY_MS = 1000;

/**
 * Compiles and runs the CommonJS bundle `file` (dist/bundle/server.cjs); returns its exports,
 * `main` wrapped to keep the cache, and `codeCache`: "used", "rejected" (by V8) or "none" (missing,
 * damaged, another build's). `writeDelayMs`: how long after the initial index the cache is written
 * (tests).
 */
function loadServerBundle(file, { writeDelayMs = WRITE_DELAY_MS } = {}) {
  const { loadBundle } = require(join(file, "..", "code-cache.cjs"));
  const loaded = loadBundle(file);
  const { main } = loaded.exports;
  // the bundle's build tag (its last line, scripts/bundle.mjs): the server's model cache is keyed by it
  const { buildTag } = loaded;
  return {
    ...loaded.exports,
    codeCache: loaded.codeCache,
    main: (options = {}) =>
      main({
        ...(buildTag === undefined ? {} : { buildTag }),
        ...options,
        afterInitialIndex: () => {
          options.afterInitialIndex?.();
          if (!loaded.stale) return;
          // once: at the timer, or at exit when the server ends before it (an editor closed at once)
          let done = false;
          const once = () => {
            if (done) return;
            done = true;
            process.off("exit", once);
            loaded.writeCache();
          };
          setTimeout(once, writeDelayMs).unref();
          process.once("exit", once);
        },
      }),
  };
}

module.exports = { loadServerBundle };
