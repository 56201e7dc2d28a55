// LooseRepository.read over hand-made loose objects in a temporary git directory (no git binary):
// every inflate is bounded by the size the object's header declares, and a declared size over
// the caller's limit is refused before anything is inflated.
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GitError } from "./errors.js";
import { AskGit, LooseRepository } from "./loose.js";

/** A small deterministic generator (tests must not depend on Math.random). */
function noise(n: number, seed: number): Buffer {
  let x = seed;
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 255;
  }
  return b;
}

let top: string;
let gitDir: string;
beforeEach(() => {
  top = mkdtempSync(join(tmpdir(), "loose-"));
  gitDir = join(top, ".git");
  mkdirSync(join(gitDir, "objects"), { recursive: true });
  mkdirSync(join(gitDir, "refs"), { recursive: true });
  writeFileSync(join(gitDir, "HEAD"), "ref: refs/heads/main\n");
  writeFileSync(join(gitDir, "config"), "[core]\n\trepositoryformatversion = 0\n");
});
afterEach(() => rmSync(top, { recursive: true, force: true }));

/** Writes `bytes` (header included) as a loose object under a made-up id; returns the id. */
function writeObject(bytes: Buffer): string {
  const id = createHash("sha1").update(bytes).digest("hex");
  mkdirSync(join(gitDir, "objects", id.slice(0, 2)), { recursive: true });
  writeFileSync(join(gitDir, "objects", id.slice(0, 2), id.slice(2)), deflateSync(bytes));
  return id;
}

function open(): LooseRepository {
  const repo = LooseRepository.open(top, gitDir, {});
  expect(repo).toBeDefined();
  return repo!;
}

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (error) {
    return error instanceof GitError ? error.code : error instanceof AskGit ? "AskGit" : `other: ${(error as Error).message}`;
  }
  return "no error";
}

describe("LooseRepository.read", () => {
  it("reads an object whose bytes are what its header declares", () => {
    const content = Buffer.concat([Buffer.from("a: 1\n".repeat(2000)), noise(3000, 1)]);
    const id = writeObject(Buffer.concat([Buffer.from(`blob ${content.length}\0`), content]));
    const o = open().read(id);
    expect(o.type).toBe("blob");
    expect(o.content.equals(content)).toBe(true);
  });

  it("refuses a zlib bomb behind a small header (CORRUPT_OBJECT), inflated in JavaScript", () => {
    // 10 bytes declared, 2 MB of zeros behind them (about 2 KB compressed: under the JavaScript budget)
    const id = writeObject(Buffer.concat([Buffer.from("blob 10\0"), Buffer.alloc(2_000_000)]));
    const repo = open();
    expect(codeOf(() => repo.read(id))).toBe("CORRUPT_OBJECT");
    try {
      repo.read(id);
    } catch (error) {
      expect((error as GitError).message).toContain(id);
      expect((error as GitError).hint).toContain("git fsck");
    }
  });

  it("refuses a zlib bomb behind a small header (CORRUPT_OBJECT), inflated by node:zlib", () => {
    // noise first spends the JavaScript budget (its compressed size is over 8 KB)
    const id = writeObject(Buffer.concat([Buffer.from("blob 20000\0"), noise(20_000, 7), Buffer.alloc(50_000_000)]));
    expect(codeOf(() => open().read(id))).toBe("CORRUPT_OBJECT");
  });

  it("refuses an object whose header declares more than the limit before inflating it (OBJECT_TOO_LARGE), both ways", () => {
    const small = writeObject(Buffer.concat([Buffer.from("blob 5000\0"), Buffer.alloc(5000, 0x61)]));
    const large = writeObject(Buffer.concat([Buffer.from("blob 30000\0"), noise(30_000, 3)]));
    const repo = open();
    expect(codeOf(() => repo.read(small, 4999))).toBe("OBJECT_TOO_LARGE");
    expect(codeOf(() => repo.read(large, 29_999))).toBe("OBJECT_TOO_LARGE");
    expect(repo.read(large, 30_000).content.length).toBe(30_000);
    // read again (kept), over a smaller limit: still refused
    expect(codeOf(() => repo.read(large, 100))).toBe("OBJECT_TOO_LARGE");
  });

  it("leaves an object whose header declares more than its bytes, or no header, to git (AskGit)", () => {
    const short = writeObject(Buffer.concat([Buffer.from("blob 6000\0"), Buffer.alloc(5000, 0x61)]));
    const headless = writeObject(Buffer.alloc(5000, 0x61));
    const repo = open();
    expect(codeOf(() => repo.read(short))).toBe("AskGit");
    expect(codeOf(() => repo.read(headless))).toBe("AskGit");
  });
});
