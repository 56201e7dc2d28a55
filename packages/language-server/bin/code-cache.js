// CommonJS (bin/package.json). Loads the server bundle (dist/bundle/server.cjs) through vm.Script
// with a V8 code cache kept beside it (server.cjs.cache): V8 then skips parsing and compiling what
// an earlier start compiled (the server's modules, and the loader and checker functions its
// initial index ran). Used by the bin and by dist/bundle/server.mjs (the package's module entry).
//
// The cache is written once the initial index is built (a server runs until it is killed, so
// "at exit" would often never come), after a short pause so that the first answers go out first,
// or at exit if the server ends before that; only when there was none or V8 rejected it (another
// Node version or other V8 flags); through a temp file and a rename. V8 checks a cache against the
// source, and so does the hash below, so a stale or damaged cache is never used. A folder that
// cannot be written to (a read-only install) just means no cache.
"use strict";
const { readFileSync, renameSync, rmSync, writeFileSync } = require("node:fs");
const { createRequire } = require("node:module");
const { dirname } = require("node:path");
const { Script } = require("node:vm");

/** How long after the initial index the cache is written (the first diagnostics and answers first). */
const WRITE_DELAY_MS = 1000;

/**
 * The cache file: "SSV8", a 32-bit FNV-1a-style hash of the bundle's bytes and the payload, then V8's
 * payload. V8 checks a cache's header against the source's length, not its bytes, and in a release
 * build never checksums the payload: a damaged payload or a cache of another bundle of the same
 * length would crash the process (a fatal error in V8's deserializer) or run the wrong code. The hash
 * (about 2 ms for both files) makes either one a missing cache, rewritten.
 */
const MAGIC = 0x38565353; // "SSV8" little-endian
const HEADER = 8;

/** Hashes `bytes` into `h`, four bytes at a time. */
function hash(bytes, h) {
  const words = bytes.length >>> 2;
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : Buffer.from(bytes);
  const v = new Int32Array(aligned.buffer, aligned.byteOffset, words);
  for (let i = 0; i < words; i++) h = Math.imul(h ^ v[i], 16777619);
  for (let i = words * 4; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 16777619);
  return h >>> 0;
}

/** The payload of a cache file whose header matches `sourceHash` and its payload, else undefined. */
function verified(file, sourceHash) {
  let bytes;
  try {
    bytes = readFileSync(file);
  } catch {
    return undefined; // no cache yet
  }
  if (bytes.length <= HEADER || bytes.readUInt32LE(0) !== MAGIC) return undefined;
  const payload = bytes.subarray(HEADER);
  return hash(payload, sourceHash) === bytes.readUInt32LE(4) ? payload : undefined;
}

/**
 * Compiles and runs the CommonJS bundle `file`; returns its exports, `main` wrapped to keep the
 * cache, and `codeCache`: "used", "rejected" (by V8) or "none" (missing, damaged, another bundle's).
 * `writeDelayMs`: how long after the initial index the cache is written (tests).
 */
function loadServerBundle(file, { writeDelayMs = WRITE_DELAY_MS } = {}) {
  const cacheFile = `${file}.cache`;
  const bytes = readFileSync(file);
  const sourceHash = hash(bytes, 2166136261);
  const cachedData = verified(cacheFile, sourceHash);
  const source = bytes.toString("utf8");
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, cachedData });
  const module = { exports: {} };
  script.runInThisContext().call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  const write = cachedData === undefined || script.cachedDataRejected === true;
  const writeCache = () => {
    // the pid alone can collide: containers sharing one writable install folder are each pid 1
    const tmp = `${cacheFile}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      const payload = script.createCachedData();
      const header = Buffer.alloc(HEADER);
      header.writeUInt32LE(MAGIC, 0);
      header.writeUInt32LE(hash(payload, sourceHash), 4);
      writeFileSync(tmp, Buffer.concat([header, payload]));
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
  // the bundle's build tag (its last line, scripts/bundle.mjs): the server's model cache is keyed by it
  const buildTag = /\/\/ stellar-secrets build ([0-9a-f]{8})\n$/.exec(source.slice(-64))?.[1];
  return {
    ...module.exports,
    codeCache: cachedData === undefined ? "none" : script.cachedDataRejected === true ? "rejected" : "used",
    main: (options = {}) =>
      main({
        ...(buildTag === undefined ? {} : { buildTag }),
        ...options,
        afterInitialIndex: () => {
          options.afterInitialIndex?.();
          if (!write) return;
          // once: at the timer, or at exit when the server ends before it (an editor closed at once)
          let done = false;
          const once = () => {
            if (done) return;
            done = true;
            process.off("exit", once);
            writeCache();
          };
          setTimeout(once, writeDelayMs).unref();
          process.once("exit", once);
        },
      }),
  };
}

module.exports = { loadServerBundle };
