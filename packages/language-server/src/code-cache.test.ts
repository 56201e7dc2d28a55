// The bin's V8 code cache (bin/code-cache.js, over the bundles' one loader scripts/code-cache.cjs,
// which the build copies beside server.cjs): written once the initial index is built, used by the
// next start, and a damaged, foreign or unwritable cache is a missing cache (never a crash: V8's
// deserializer aborts the process on a damaged payload).
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

interface Loaded {
  main: (options?: { afterInitialIndex?: () => void }) => void;
  codeCache: "used" | "rejected" | "none";
  answer: () => number;
}
const require = createRequire(import.meta.url);
const { loadServerBundle } = require("../bin/code-cache.js") as { loadServerBundle: (file: string, o?: { writeDelayMs?: number }) => Loaded };

// a bundle with enough functions for V8 to have something to cache; `main` builds its "index" and
// calls back; its last line is its build tag, as every built bundle's (scripts/bundle.mjs)
const TAG = 0x0000abcd;
const BUNDLE = `"use strict";
${Array.from({ length: 40 }, (_, i) => `function f${i}(x) { return x + ${i}; }`).join("\n")}
exports.answer = () => f41();
function f41() { let s = 0; for (let i = 0; i < 40; i++) s = f0(s); return s; }
exports.main = (options) => { exports.answer(); options.afterInitialIndex?.(); };
// stellar-secrets build 0000abcd
`;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function bundle(text = BUNDLE): string {
  const dir = mkdtempSync(join(tmpdir(), "ls-code-cache-"));
  dirs.push(dir);
  const file = join(dir, "server.cjs");
  writeFileSync(file, text);
  copyFileSync(join(import.meta.dirname, "..", "..", "..", "scripts", "code-cache.cjs"), join(dir, "code-cache.cjs"));
  return file;
}
const settle = () => new Promise((r) => setTimeout(r, 30));
async function start(file: string): Promise<Loaded> {
  const loaded = loadServerBundle(file, { writeDelayMs: 0 });
  let called = false;
  loaded.main({ afterInitialIndex: () => (called = true) });
  expect(called).toBe(true); // the caller's own hook still runs
  await settle();
  return loaded;
}

describe("the language server's code cache", () => {
  it("is written after the initial index and used by the next start", async () => {
    const file = bundle();
    expect((await start(file)).codeCache).toBe("none");
    const cache = readFileSync(`${file}.cache`);
    expect(cache.readUInt32LE(0)).toBe(TAG);
    const second = await start(file);
    expect(second.codeCache).toBe("used");
    expect(second.answer()).toBe(0);
    // a cache V8 accepted is not written again
    expect(readFileSync(`${file}.cache`).equals(cache)).toBe(true);
  });

  it("treats a damaged cache as missing and writes a good one", async () => {
    const file = bundle();
    await start(file);
    const good = readFileSync(`${file}.cache`);
    for (const damage of [
      (b: Buffer) => b.subarray(0, b.length >> 1), // truncated
      (b: Buffer) => Buffer.from(b.map((x, i) => (i > 8 && i < 8 + b.readUInt32LE(4) && i % 97 === 0 ? x ^ 0x5a : x))), // payload bytes flipped (the first copy)
      (b: Buffer) => Buffer.from("not a cache"),
      () => Buffer.alloc(0),
    ]) {
      writeFileSync(`${file}.cache`, damage(Buffer.from(good)));
      expect((await start(file)).codeCache).toBe("none");
      expect((await start(file)).codeCache).toBe("used");
    }
  });

  it("does not use another build's cache of the same length", async () => {
    const file = bundle();
    await start(file);
    writeFileSync(file, BUNDLE.replace("x + 1;", "x + 7;").replace("build 0000abcd", "build 0000abce"));
    expect(readFileSync(file).length).toBe(Buffer.byteLength(BUNDLE));
    expect((await start(file)).codeCache).toBe("none");
  });

  it("runs without a cache where it cannot write one", async () => {
    const file = bundle();
    mkdirSync(`${file}.cache`); // neither readable nor replaceable as a file
    writeFileSync(join(`${file}.cache`, "x"), "");
    const loaded = await start(file);
    expect(loaded.codeCache).toBe("none");
    expect(loaded.answer()).toBe(0);
    expect(statSync(`${file}.cache`).isDirectory()).toBe(true);
  });

  it("writes its cache beside another writer's temp file of the same pid (containers sharing an install folder are each pid 1), and leaves none of its own", async () => {
    const file = bundle();
    // another container's cache write in progress, under the name this process's pid alone would give
    const theirs = `${file}.cache.${process.pid}.tmp`;
    mkdirSync(theirs);
    expect((await start(file)).codeCache).toBe("none");
    expect(readFileSync(`${file}.cache`).readUInt32LE(0)).toBe(TAG);
    expect(statSync(theirs).isDirectory()).toBe(true); // theirs, left alone
    expect(readdirSync(join(file, "..")).filter((f) => f.endsWith(".tmp"))).toEqual([`server.cjs.cache.${process.pid}.tmp`]);
    expect((await start(file)).codeCache).toBe("used");
  });
});
