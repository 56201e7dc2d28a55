// The one V8 code-cache loader of Stellar Secrets' bundles. scripts/bundle.mjs copies this file, as
// it is, beside the CLI's and the language server's bundles (dist/bundle/code-cache.cjs), where
// their bins require it, and writes it into the resolver's ES-module entry (dist/bundle/index.mjs:
// in an app of ES modules a require() would first set up node's CommonJS loader). CommonJS, no
// dependency but node's own modules.
//
// A bundle is compiled with vm.Script and a V8 code cache kept beside it: V8 then skips parsing and
// compiling what an earlier run compiled, most of a start. The cache is written by the caller's
// choice of moment (`writeCache`), only when there was none or V8 rejected it (another Node
// version or other V8 flags), through a temp file and a rename; a folder that cannot be written to
// just means no cache.
//
// V8 checks a cache against the source's length only, not its text: the header holds the bundle's
// build tag (its last line, see `buildTag`), and a cache of another build is not used. V8 does not
// check the payload's bytes in a release build (only with --verify-snapshot-checksum, which only
// `node:v8` can set: loading it loads node's whole stream code, 2-4 ms of every start): a damaged
// payload of the right length would abort the process with a fatal V8 error. So the file holds the
// payload twice (see `verifiedCache`): two copies that differ are damage, and the cache is not used
// (and is written again). Comparing them is one memcmp; hashing them in JavaScript would cost ~2 ms.
"use strict";
const { readFileSync, renameSync, rmSync, writeFileSync } = require("node:fs");
const { dirname } = require("node:path");
const { Script } = require("node:vm");

/** The header: the build tag (u32 LE), the payload's length (u32 LE); then the payload, twice. */
const HEADER = 8;
/** "SSC2" little-endian: the tag of a bundle that has no build line. */
const NO_TAG = 0x32435353;

/**
 * The bundle's build tag: the first 32 bits of its SHA-256, which scripts/bundle.mjs writes as its
 * last line (`// stellar-secrets build 0123abcd`). A cache left by another build of the same length
 * (a release that changed one character, a copy over an install that kept the old cache) would run
 * that build's code. Reading the tag costs nothing; hashing the bundle here would cost about 2 ms.
 */
function buildTag(source) {
  const m = /\/\/ stellar-secrets build ([0-9a-f]{8})\n$/.exec(source.slice(-40));
  return m === null ? undefined : m[1];
}

/** The V8 payload of a cache file's bytes when its header (`tag`, length) and both copies agree, else undefined. */
function verifiedCache(bytes, tag) {
  if (bytes.length <= HEADER || bytes.readUInt32LE(0) !== tag) return undefined;
  const n = bytes.readUInt32LE(4);
  if (n === 0 || bytes.length !== HEADER + 2 * n) return undefined;
  const first = bytes.subarray(HEADER, HEADER + n);
  return first.equals(bytes.subarray(HEADER + n)) ? first : undefined;
}

/** A cache file's bytes for a V8 payload of the bundle whose build tag is `tag`. */
function cacheBytes(payload, tag) {
  const header = Buffer.alloc(HEADER);
  header.writeUInt32LE(tag, 0);
  header.writeUInt32LE(payload.length, 4);
  return Buffer.concat([header, payload, payload]);
}

/**
 * Compiles and runs the CommonJS bundle `file` (its text `source`, read when not given) with the
 * code cache `cacheFile` (default: beside it, `FILE.cache`), giving it `require` (default: this
 * loader's, which resolves from the same folder). Returns the bundle's `exports`, its `source` and
 * `buildTag` (the 8 hex digits of its last line, undefined without one),
 * `codeCache` ("used", "rejected" by V8, or "none": missing, damaged, another build's), `stale` (true when the
 * cache should be written) and `writeCache()`, which writes it (never throws; call it once the run
 * compiled what later runs need, e.g. at exit).
 */
function loadBundle(file, options = {}) {
  const source = options.source ?? readFileSync(file, "utf8");
  const cacheFile = options.cacheFile ?? `${file}.cache`;
  const built = buildTag(source);
  const tag = built === undefined ? NO_TAG : Number.parseInt(built, 16);
  let cachedData;
  try {
    cachedData = verifiedCache(readFileSync(cacheFile), tag);
  } catch {
    // no cache yet
  }
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, cachedData });
  const module = { exports: {} };
  script.runInThisContext().call(module.exports, module.exports, options.require ?? require, module, file, dirname(file));
  const rejected = cachedData !== undefined && script.cachedDataRejected === true;
  return {
    exports: module.exports,
    source,
    buildTag: built,
    codeCache: cachedData === undefined ? "none" : rejected ? "rejected" : "used",
    stale: cachedData === undefined || rejected,
    writeCache() {
      // the pid alone can collide: containers sharing one writable install folder are each pid 1
      const tmp = `${cacheFile}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      try {
        writeFileSync(tmp, cacheBytes(script.createCachedData(), tag));
        renameSync(tmp, cacheFile);
      } catch {
        // a read-only install: no cache. A temp file written but not renamed (a full disk, a folder
        // where the cache goes) is removed: else each start would leave one behind.
        try {
          rmSync(tmp, { force: true });
        } catch {
          // nothing to remove
        }
      }
    },
  };
}

module.exports = { loadBundle };
