// inflateZlib against node:zlib as the oracle: what deflateSync writes (every level, strategy,
// window size and memory level) reads back byte for byte; hand-made streams that reach each
// check of the decoder throw as zlib throws; corrupted streams never read back as other bytes
// than zlib's; real git loose objects read back as git wrote them.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { constants, deflateSync, inflateSync, type ZlibOptions } from "node:zlib";
import { describe, expect, it } from "vitest";
import { adler32, inflateZlib, inflateZlibStart } from "./inflate.js";

/** A small deterministic generator (tests must not depend on Math.random). */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function randomBytes(n: number, seed: number): Buffer {
  const next = random(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (next() * 256) | 0;
  return b;
}

/** YAML-like text with repeats near and far (what environment files and trees look like). */
function text(n: number, seed: number): Buffer {
  const next = random(seed);
  let s = "";
  for (let i = 0; s.length < n; i++) s += `key_${i % 37}: ENC[AES256_GCM,data:${randomBytes(8 + ((next() * 40) | 0), i).toString("base64")},type:str]\n`;
  return Buffer.from(s.slice(0, n));
}

const INPUTS: [string, Buffer][] = [
  ["empty", Buffer.alloc(0)],
  ["one byte", Buffer.from([0x2a])],
  ["all-zero 100 KB", Buffer.alloc(100_000)],
  ["random 40 KB (stored blocks)", randomBytes(40_000, 7)],
  ["text 30 KB", text(30_000, 3)],
  ["a long repeat", Buffer.from("abcdefgh".repeat(9000) + "x".repeat(5000))],
  ["every byte value", Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131) & 255))],
];

/** What zlib says of `stream`: its bytes, or that it throws. */
function zlibSays(stream: Uint8Array): Buffer | "throws" {
  try {
    return inflateSync(stream);
  } catch {
    return "throws";
  }
}

function oursSays(stream: Uint8Array): Buffer | "throws" {
  try {
    return inflateZlib(stream);
  } catch (e) {
    expect(e).toBeInstanceOf(Error);
    return "throws";
  }
}

describe("inflateZlib reads what deflateSync writes", () => {
  it.each(INPUTS)("%s, at every level", (_, input) => {
    for (let level = 0; level <= 9; level++) expect(inflateZlib(deflateSync(input, { level })).equals(input)).toBe(true);
  });

  it.each(INPUTS)("%s, with every strategy, window size and memory level", (_, input) => {
    const strategies = [constants.Z_DEFAULT_STRATEGY, constants.Z_FILTERED, constants.Z_HUFFMAN_ONLY, constants.Z_RLE, constants.Z_FIXED];
    for (const strategy of strategies)
      for (let windowBits = 9; windowBits <= 15; windowBits += 3)
        for (const memLevel of [1, 8, 9]) {
          const options: ZlibOptions = { strategy, windowBits, memLevel, level: 6 };
          expect(inflateZlib(deflateSync(input, options)).equals(input), JSON.stringify(options)).toBe(true);
        }
  });

  it("reads many small random texts at mixed settings (trees, commits and environment files)", () => {
    const next = random(11);
    for (let i = 0; i < 60; i++) {
      const input = i % 3 === 0 ? randomBytes((next() * 3000) | 0, i) : text((next() * 6000) | 0, i);
      const options = { level: (next() * 10) | 0, windowBits: 9 + ((next() * 7) | 0), memLevel: 1 + ((next() * 9) | 0) };
      expect(inflateZlib(deflateSync(input, options)).equals(input), JSON.stringify(options)).toBe(true);
    }
  });

  it("ignores bytes after the Adler-32 trailer, as inflateSync does", () => {
    const input = text(500, 1);
    const stream = Buffer.concat([deflateSync(input), Buffer.from("trailing garbage")]);
    expect(inflateSync(stream).equals(input)).toBe(true);
    expect(inflateZlib(stream).equals(input)).toBe(true);
  });

  it("takes a distance beyond the window the header declares, as inflateSync does", () => {
    const half = Buffer.concat([randomBytes(5000, 31), Buffer.alloc(10)]);
    const input = Buffer.concat([half, half]); // the second half is one match 5010 bytes back
    const stream = Buffer.from(deflateSync(input));
    stream[0] = 0x08; // CINFO 0: a 256-byte window
    stream[1] = (stream[1]! & 0xe0) + (31 - ((0x08 * 256 + (stream[1]! & 0xe0)) % 31)); // FCHECK again
    expect(inflateSync(stream).equals(input)).toBe(true);
    expect(inflateZlib(stream).equals(input)).toBe(true);
  });

  it("stops at maxOutput", () => {
    const stream = deflateSync(Buffer.alloc(10_000));
    expect(inflateZlib(stream, 10_000).length).toBe(10_000);
    expect(() => inflateZlib(stream, 9_999)).toThrow("zlib: the output is larger than 9999 bytes");
    expect(() => inflateZlib(deflateSync(Buffer.from([1])), 0)).toThrow(/larger than 0 bytes/);
  });

  it("takes its cap from the output's start when given a function, and refuses a bomb past it", () => {
    const bomb = deflateSync(Buffer.alloc(10_000_000)); // about 10 KB that inflate to 10 MB
    const seen: number[] = [];
    const cap = (start: Uint8Array): number => {
      seen.push(start.length);
      return 50_000;
    };
    expect(() => inflateZlib(bomb, cap)).toThrow("zlib: the output is larger than 50000 bytes");
    expect(seen).toHaveLength(1); // asked once, when the first buffer was full
    expect(seen[0]).toBeGreaterThanOrEqual(256);
    // a cap the output fits in changes nothing; one that throws is thrown
    const input = Buffer.alloc(30_000, "ab");
    expect(inflateZlib(deflateSync(input), () => 30_000).equals(input)).toBe(true);
    expect(() => inflateZlib(deflateSync(input), () => {
      throw new Error("no header");
    })).toThrow("no header");
    // output that fits the first buffer never asks
    expect(inflateZlib(deflateSync(Buffer.from("small")), () => 0).toString()).toBe("small");
  });

  it("inflateZlibStart gives the output's first bytes, or all of it when shorter", () => {
    for (const [name, input] of INPUTS) {
      for (const level of [0, 1, 6, 9]) {
        const stream = deflateSync(input, { level });
        for (const length of [0, 1, 7, 32, 255, 256, 257, 5000, 1_000_000]) {
          expect(inflateZlibStart(stream, length).equals(input.subarray(0, length)), `${name}, level ${level}, ${length} bytes`).toBe(true);
        }
      }
    }
    // it stops early: a bomb's first bytes come without inflating the rest
    expect(inflateZlibStart(deflateSync(Buffer.alloc(50_000_000)), 32).equals(Buffer.alloc(32))).toBe(true);
  });

  it("computes Adler-32 as RFC 1950 defines it (sums modulo 65521, across the reduction boundary)", () => {
    const naive = (b: Uint8Array): number => {
      let a = 1;
      let s = 0;
      for (const x of b) {
        a = (a + x) % 65521;
        s = (s + a) % 65521;
      }
      return ((s << 16) | a) >>> 0;
    };
    for (const n of [0, 1, 3, 4, 5, 3799, 3800, 3801, 3804, 20_000]) {
      expect(adler32(Buffer.alloc(n, 0xff))).toBe(naive(Buffer.alloc(n, 0xff)));
      expect(adler32(randomBytes(n, n))).toBe(naive(randomBytes(n, n)));
    }
    expect(adler32(Buffer.from("Wikipedia"))).toBe(0x11e60398);
  });
});

/** Writes deflate bits: `bits` first bit lowest (header fields, extra bits), `code` first bit highest (Huffman codes). */
class BitWriter {
  private readonly bytes: number[] = [];
  private acc = 0;
  private count = 0;

  bits(value: number, n: number): this {
    for (let i = 0; i < n; i++) {
      this.acc |= ((value >>> i) & 1) << this.count;
      if (++this.count === 8) this.flush();
    }
    return this;
  }

  code(value: number, n: number): this {
    for (let i = n - 1; i >= 0; i--) this.bits((value >>> i) & 1, 1);
    return this;
  }

  private flush(): void {
    this.bytes.push(this.acc);
    this.acc = 0;
    this.count = 0;
  }

  /** The deflate data in a zlib stream whose trailer is the Adler-32 of `output`. */
  zlib(output: Uint8Array = new Uint8Array(0)): Buffer {
    if (this.count > 0) this.flush();
    const check = Buffer.alloc(4);
    check.writeUInt32BE(adler32(output));
    return Buffer.concat([Buffer.from([0x78, 0x9c]), Buffer.from(this.bytes), check]);
  }
}

/** A literal/length symbol in the fixed code (RFC 1951 3.2.6). */
function fixedLiteral(w: BitWriter, symbol: number): BitWriter {
  if (symbol < 144) return w.code(0x30 + symbol, 8);
  if (symbol < 256) return w.code(0x190 + symbol - 144, 9);
  if (symbol < 280) return w.code(symbol - 256, 7);
  return w.code(0xc0 + symbol - 280, 8);
}

/** A dynamic block header with these code length code lengths (in the RFC's order) and no more. */
function dynamicHeader(hlit: number, hdist: number, codeLengthLengths: number[]): BitWriter {
  const w = new BitWriter().bits(1, 1).bits(2, 2).bits(hlit - 257, 5).bits(hdist - 1, 5).bits(codeLengthLengths.length - 4, 4);
  for (const l of codeLengthLengths) w.bits(l, 3);
  return w;
}

describe("inflateZlib refuses what zlib refuses", () => {
  const fixedBlock = (): BitWriter => new BitWriter().bits(1, 1).bits(1, 2);
  // code length code: symbols 0..18 in the RFC's order 16,17,18,0,8,7,9,6,10,5,11,4,12,3,13,2,14,1,15
  const cases: [string, Buffer, RegExp][] = [
    ["an empty input", Buffer.alloc(0), /unexpected end of file/],
    ["a wrong FCHECK", Buffer.from([0x78, 0x9d, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]), /incorrect header check/],
    ["a method other than deflate", Buffer.from([0x79, 0x18, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]), /unknown compression method/],
    ["a window over 32 KB (CINFO 8)", Buffer.from([0x88, 0x1c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]), /invalid window size/],
    ["a preset dictionary (FDICT)", Buffer.from([0x78, 0xbb, 0x00, 0x00, 0x00, 0x01, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]), /preset dictionary/],
    ["block type 3", new BitWriter().bits(1, 1).bits(3, 2).zlib(), /invalid block type/],
    ["a stored block whose NLEN is not LEN's complement", Buffer.from([0x78, 0x9c, 0x01, 0x01, 0x00, 0xfe, 0xfe, 0x61, 0, 0x62, 0, 0x62]), /invalid stored block lengths/],
    ["a stored block cut short", Buffer.from([0x78, 0x9c, 0x01, 0x05, 0x00, 0xfa, 0xff, 0x61]), /unexpected end of file/],
    ["a distance back before the output's start", fixedLiteral(fixedBlock(), 257).code(0, 5).zlib(), /too far back/],
    ["literal/length symbol 286 in the fixed code", fixedLiteral(fixedBlock(), 286).zlib(), /invalid literal\/length code/],
    ["distance symbol 30 in the fixed code", fixedLiteral(fixedLiteral(fixedBlock(), 0x61), 257).code(30, 5).zlib(Buffer.from("a")), /invalid distance code/],
    ["no end of block (and no trailer)", fixedLiteral(fixedBlock(), 0x61).zlib().subarray(0, -4), /unexpected end of file/],
    ["too many literal/length symbols (287)", dynamicHeader(287, 1, [0, 0, 0, 1, 1]).zlib(), /too many length or distance symbols/],
    ["an over-subscribed code length code", dynamicHeader(257, 1, Array<number>(19).fill(1)).zlib(), /invalid code lengths set/],
    ["an incomplete code length code", dynamicHeader(257, 1, [0, 0, 0, 1]).zlib(), /invalid code lengths set/],
    // code lengths 0 and 16, one bit each: 16 first repeats nothing
    ["a repeat with nothing before it", dynamicHeader(257, 1, [1, 0, 0, 1]).code(1, 1).bits(0, 2).zlib(), /invalid bit length repeat/],
    // 0 (code 0), 18 (code 1): 138 zeros twice overrun 257 + 1 lengths
    ["a repeat past the last length", dynamicHeader(257, 1, [0, 0, 1, 1]).code(1, 1).bits(127, 7).code(1, 1).bits(127, 7).zlib(), /invalid bit length repeat/],
    // 258 lengths, all 0 (18 × 138, 18 × 120): no code for the end of block
    ["no end-of-block code", dynamicHeader(257, 1, [0, 0, 1, 1]).code(1, 1).bits(127, 7).code(1, 1).bits(109, 7).zlib(), /missing end-of-block/],
  ];
  it.each(cases)("%s", (_, stream, message) => {
    expect(zlibSays(stream)).toBe("throws");
    expect(() => inflateZlib(stream)).toThrow(message);
  });

  it("takes the incomplete codes zlib takes: a lone one-bit end-of-block code and no distance code", () => {
    // code length code: 18 → 0, 0 → 10, 1 → 11; lengths: 256 zeros (18 × 138, 18 × 118), 1 for symbol 256, 0 for the one distance
    const v = dynamicHeader(257, 1, [0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    v.code(0, 1).bits(127, 7).code(0, 1).bits(107, 7).code(3, 2).code(2, 2);
    v.code(0, 1); // the block: its end
    const stream = v.zlib();
    expect(zlibSays(stream)).toEqual(Buffer.alloc(0));
    expect(inflateZlib(stream).length).toBe(0);
  });

  it("refuses a wrong Adler-32, a cut trailer and every truncation", () => {
    const input = text(3000, 5);
    const stream = deflateSync(input);
    const bad = Buffer.from(stream);
    bad[bad.length - 1]! ^= 1;
    expect(() => inflateZlib(bad)).toThrow(/incorrect data check/);
    for (let cut = 0; cut < stream.length; cut++) expect(() => inflateZlib(stream.subarray(0, cut)), `cut at ${cut}`).toThrow();
  });

  it("never reads a corrupted stream as other bytes than zlib does (flipped bits, changed bytes)", () => {
    const next = random(99);
    const streams = [
      deflateSync(text(2000, 8)),
      deflateSync(text(2000, 9), { level: 1 }),
      deflateSync(text(1500, 10), { strategy: constants.Z_FIXED }),
      deflateSync(text(1500, 12), { strategy: constants.Z_HUFFMAN_ONLY }),
      deflateSync(randomBytes(300, 13), { level: 0 }),
    ];
    let zlibThrew = 0;
    for (let i = 0; i < 600; i++) {
      const stream = Buffer.from(streams[i % streams.length]!);
      const at = (next() * stream.length) | 0;
      if (i % 2 === 0) stream[at]! ^= 1 << ((next() * 8) | 0);
      else stream[at] = (next() * 256) | 0;
      const expected = zlibSays(stream);
      if (expected === "throws") zlibThrew++;
      const got = oursSays(stream);
      expect(got === "throws" ? got : got.toString("latin1"), `corruption ${i} at ${at}`).toEqual(expected === "throws" ? expected : expected.toString("latin1"));
    }
    expect(zlibThrew).toBeGreaterThan(500); // the corruptions mostly broke the streams
  });

  it("agrees with zlib on random bytes behind a valid header (fixed, dynamic and stored block headers alike)", () => {
    const next = random(5);
    for (let i = 0; i < 800; i++) {
      const body = randomBytes(1 + ((next() * 64) | 0), i + 1000);
      const stream = Buffer.concat([Buffer.from([0x78, 0x9c]), body]);
      const expected = zlibSays(stream);
      const got = oursSays(stream);
      expect(got === "throws" ? got : got.toString("latin1"), `stream ${i}`).toEqual(expected === "throws" ? expected : expected.toString("latin1"));
    }
  });
});

const HAS_GIT = (() => {
  try {
    execFileSync("git", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!HAS_GIT)("inflateZlib reads git's loose objects", () => {
  it("reads blobs git wrote at several compression levels", () => {
    const dir = mkdtempSync(join(tmpdir(), "inflate-git-"));
    try {
      const env = { PATH: process.env.PATH, HOME: dir, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" };
      execFileSync("git", ["init", "-q", dir], { env });
      for (const [level, content] of [
        ["0", text(5000, 21)],
        ["1", text(5000, 22)],
        ["9", Buffer.concat([text(2000, 23), randomBytes(2000, 24)])],
        ["-1", Buffer.alloc(0)],
      ] as const) {
        const id = execFileSync("git", ["-c", `core.looseCompression=${level}`, "hash-object", "-w", "--stdin"], { cwd: dir, env, input: content, encoding: "utf8" }).trim();
        const raw = readFileSync(join(dir, ".git", "objects", id.slice(0, 2), id.slice(2)));
        expect(inflateZlib(raw).equals(Buffer.concat([Buffer.from(`blob ${content.length}\0`), content])), `level ${level}`).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
