#!/usr/bin/env node
// CommonJS (bin/package.json): node starts a CommonJS entry without its ES-module loader, a few
// milliseconds of every command.
//
// Runs the bundle (dist/bundle/stellar-secrets.cjs, or the command's own dist/bundle/command-NAME.cjs
// when it has one; made by the root build's scripts/bundle.mjs)
// when it is newer than every `tsc -b` output it was made from; otherwise the tsc output itself (a
// `tsc -b` alone never runs stale code). An installed package has no .tsbuildinfo: the bundle.
//
// The bundle is compiled with vm.Script and a V8 code cache kept beside it
// (stellar-secrets.cjs.COMMAND.cache): V8 then skips parsing and compiling what an earlier run of
// the command compiled, most of a command's start. The cache is written at exit when it is
// missing or V8 rejected it (another Node version), through a temp file and a rename; a folder
// that cannot be written to just means no cache, and a usage error (exit status 2) writes none.
// V8 checks the cache against the source's length and its own version and flags, so a stale
// cache is rejected (a rebuild also deletes the caches).
//
// V8 checks the cache against the source's length only, not its text: the header holds the
// bundle's build tag (its last line, see `buildTag`), and a cache of another build is not used.
//
// V8 does not check the payload's bytes in a release build (only with --verify-snapshot-checksum,
// which only `node:v8` can set: loading it loads node's whole stream code, 2–4 ms of every command):
// a damaged payload of the right length would abort every run with a fatal V8 error. So the file
// holds the payload twice (see `verifiedCache`): two copies that differ are damage, and the cache is
// not used (and is written again). Comparing them is one memcmp; hashing them in JavaScript would
// cost about 2 ms.
"use strict";
const { readFileSync, renameSync, rmSync, statSync, writeFileSync } = require("node:fs");
const { dirname, join } = require("node:path");
const { Script } = require("node:vm");

/**
 * The header: the bundle's build tag (u32 LE, see `buildTag`), the payload's length (u32 LE); then
 * the payload, the payload again.
 */
const MAGIC = 0x32435353; // "SSC2" little-endian: the tag of a bundle that has no build line
const HEADER = 8;

/**
 * The bundle's build tag: the first 32 bits of its SHA-256, which scripts/bundle.mjs writes as its
 * last line (`// stellar-secrets build 0123abcd`). V8 checks a cache against the source's length
 * only: a cache left by another build of the same length (a release that changed one character,
 * a copy over an install that kept the old cache) would run that build's code. Reading the tag
 * costs nothing; hashing the bundle here would cost about 2 ms.
 */
function buildTag(source) {
  const m = /\/\/ stellar-secrets build ([0-9a-f]{8})\n$/.exec(source.slice(-40));
  return m === null ? MAGIC : Number.parseInt(m[1], 16);
}

/** The V8 payload of the cache file's bytes when its header (`tag`, length) and both copies agree, else undefined. */
function verifiedCache(bytes, tag) {
  if (bytes.length <= HEADER || bytes.readUInt32LE(0) !== tag) return undefined;
  const n = bytes.readUInt32LE(4);
  if (n === 0 || bytes.length !== HEADER + 2 * n) return undefined;
  const first = bytes.subarray(HEADER, HEADER + n);
  return first.equals(bytes.subarray(HEADER + n)) ? first : undefined;
}

/** The cache file's bytes for a V8 payload of the bundle whose build tag is `tag`. */
function cacheBytes(payload, tag) {
  const header = Buffer.alloc(HEADER);
  header.writeUInt32LE(tag, 0);
  header.writeUInt32LE(payload.length, 4);
  return Buffer.concat([header, payload, payload]);
}

const pkg = join(__dirname, "..");
// (no exception for a missing file: an installed package has no .tsbuildinfo, and each throw costs)
const mtime = (path) => statSync(join(pkg, path), { throwIfNoEntry: false })?.mtimeMs;
const bundle = mtime("dist/bundle/stellar-secrets.cjs");
const fresh = bundle !== undefined && ["dist/.tsbuildinfo", "../core/dist/.tsbuildinfo", "../sops/dist/.tsbuildinfo", "../git/dist/.tsbuildinfo", "../resolver/dist/.tsbuildinfo"].every((p) => (mtime(p) ?? 0) <= bundle);
if (fresh) {
  const command = /^[a-z][a-z-]{0,30}$/.test(process.argv[2] ?? "") ? process.argv[2] : undefined;
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
  const cacheFile = source === undefined ? `${file}.${command ?? "main"}.cache` : `${file}.cache`;
  source ??= readFileSync(file, "utf8");
  const tag = buildTag(source);
  let cachedData;
  try {
    cachedData = verifiedCache(readFileSync(cacheFile), tag);
  } catch {
    // no cache yet
  }
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, cachedData });
  const module = { exports: {} };
  script.runInThisContext().call(module.exports, module.exports, require, module, file, dirname(file));
  if (cachedData === undefined || script.cachedDataRejected === true) {
    process.once("exit", (status) => {
      // a usage error (exit status 2: an unknown command, a bad option) compiled next to nothing,
      // and a typo (`stellar-secrets lsit`) would leave a cache file of its own, about 1 MB
      if (status === 2) return;
      // the pid alone can collide: containers sharing one writable install folder are each pid 1
      const tmp = `${cacheFile}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      try {
        writeFileSync(tmp, cacheBytes(script.createCachedData(), tag));
        renameSync(tmp, cacheFile);
      } catch {
        // a read-only install: run without a cache. A temp file written but not renamed (a full
        // disk, a folder where the cache goes) is removed: else each run would leave one behind.
        try {
          rmSync(tmp, { force: true });
        } catch {
          // nothing to remove
        }
      }
    });
  }
  module.exports.main(process.argv.slice(2));
} else {
  import("../dist/main.js").then(({ main }) => main(process.argv.slice(2)));
}
