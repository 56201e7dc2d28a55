/**
 * A zlib-format decoder (RFC 1950 header and Adler-32 trailer around RFC 1951 deflate data), for
 * the small loose objects `check` reads at its start (loose.ts): loading `node:zlib` loads node's
 * whole stream code, which costs more than decoding a few KB here. Written from the RFCs.
 *
 * Decoding is table-driven: each Huffman code has a lookup table indexed by its next
 * {@link FAST_BITS} (or fewer) input bits, which gives the symbol and its length at once; the
 * rare longer codes are decoded canonically, one bit at a time. The output grows by doubling.
 *
 * What it accepts is what `zlib.inflateSync` (default options) accepts:
 * - the header: CM = 8, CINFO ≤ 7, FCHECK valid, no preset dictionary (FDICT); FLEVEL is ignored;
 * - the Adler-32 of the output must match the trailer;
 * - bytes after the trailer are ignored (as inflateSync ignores them);
 * - over-subscribed codes are refused; an incomplete code only where zlib takes one (a
 *   literal/length or distance code with a single one-bit code, or no distance codes at all);
 * - a distance back before the start of the output is refused; one beyond the window the header
 *   declares (CINFO) but inside the output is taken, as inflateSync takes it (its window is 32 KB
 *   whatever CINFO says).
 */

/**
 * The longest lookup index of a code's table (2^9 entries at most); longer codes take the slow
 * path. Small, so that building the tables of a dynamic block stays cheap (a larger table also
 * made V8 optimize the builder, a few ms of compiler time, on `check`'s start).
 */
const FAST_BITS = 9;

/** Each byte's bits reversed. */
const REVERSED = new Uint8Array(256);
for (let i = 1; i < 256; i++) REVERSED[i] = (REVERSED[i >>> 1]! >>> 1) | ((i & 1) << 7);

/** Lengths 257..285: base and extra bits (RFC 1951 3.2.5). */
const LENGTH_BASE = new Uint16Array([3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]);
const LENGTH_EXTRA = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]);
/** Distances 0..29: base and extra bits (RFC 1951 3.2.5). */
const DIST_BASE = new Uint16Array([1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]);
const DIST_EXTRA = new Uint8Array([0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]);
/** The order in which a dynamic block gives the code length code's lengths (RFC 1951 3.2.7). */
const CODE_LENGTH_ORDER = new Uint8Array([16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]);

/**
 * A canonical Huffman code ready for decoding. `fast[bits & (2^fastBits - 1)]` (the next input
 * bits, first bit lowest) is `symbol << 4 | length` for codes of up to `fastBits` bits, 0
 * otherwise (a longer code, or none: see {@link slowDecode}). `count[n]` is the number of codes
 * of length n and `sorted` the symbols ordered by (length, symbol), for the slow path.
 */
interface Huffman {
  fastBits: number;
  fast: Uint16Array;
  count: Uint16Array;
  sorted: Uint16Array;
}

/** Which code a table is for: which incomplete codes are taken, and the messages. */
type CodeKind = typeof CODE_LENGTHS | typeof LITERAL_LENGTHS | typeof DISTANCES;
const CODE_LENGTHS = 0;
const LITERAL_LENGTHS = 1;
const DISTANCES = 2;

/**
 * The code whose symbol `s` has length `lengths[start + s]` (0: unused), for `n` symbols.
 * Throws on an over-subscribed code, and on an incomplete one unless zlib takes it (see the
 * module comment).
 */
function buildHuffman(lengths: Uint8Array, start: number, n: number, kind: CodeKind): Huffman {
  const count = new Uint16Array(16);
  for (let s = 0; s < n; s++) count[lengths[start + s]!]!++;
  count[0] = 0;
  let maxLength = 0;
  let left = 1; // codes of the current length still free
  for (let len = 1; len <= 15; len++) {
    left = (left << 1) - count[len]!;
    if (left < 0) throw new Error(`zlib: invalid ${codeName(kind)} (over-subscribed)`);
    if (count[len] !== 0) maxLength = len;
  }
  // incomplete: zlib takes it only for a literal/length or distance code with at most one one-bit code
  if (left > 0 && (kind === CODE_LENGTHS || maxLength > 1)) throw new Error(`zlib: invalid ${codeName(kind)} (incomplete)`);

  // where each length's symbols start in `sorted`, and the first canonical code of each length
  const offset = new Uint16Array(16);
  const next = new Uint16Array(16);
  for (let len = 1, code = 0; len < 15; len++) {
    offset[len + 1] = offset[len]! + count[len]!;
    code = (code + count[len]!) << 1;
    next[len + 1] = code;
  }
  const sorted = new Uint16Array(n);
  const fastBits = maxLength < FAST_BITS ? maxLength : FAST_BITS;
  const size = 1 << fastBits;
  const fast = new Uint16Array(size);
  for (let s = 0; s < n; s++) {
    const len = lengths[start + s]!;
    if (len === 0) continue;
    sorted[offset[len]!++] = s;
    const code = next[len]!++;
    if (len > fastBits) continue;
    // the code is sent first bit first: the table is indexed by its bits reversed (len ≤ 9 here)
    const reversed = ((REVERSED[code & 255]! << 1) | (code >>> 8)) >>> (9 - len);
    const entry = (s << 4) | len;
    for (let i = reversed; i < size; i += 1 << len) fast[i] = entry;
  }
  return { fastBits, fast, count, sorted };
}

function codeName(kind: CodeKind): string {
  return kind === CODE_LENGTHS ? "code lengths set" : kind === LITERAL_LENGTHS ? "literal/lengths set" : "distances set";
}

/**
 * The symbol and length (`symbol << 4 | length`) of the code at the start of `bits` (at least 15
 * valid bits, first bit lowest) when it is longer than the table's fast bits; -1 when no code of
 * `h` starts there (an incomplete code). Canonical codes of one length are consecutive numbers,
 * each following the last code of the length below doubled.
 */
function slowDecode(h: Huffman, bits: number): number {
  let code = 0; // the bits read so far, first bit highest
  let first = 0; // the first code of length `len`
  let index = 0; // where the codes of length `len` start in `sorted`
  for (let len = 1; len <= 15; len++) {
    code |= (bits >>> (len - 1)) & 1;
    const count = h.count[len]!;
    if (code - first < count) return (h.sorted[index + code - first]! << 4) | len;
    index += count;
    first = (first + count) << 1;
    code <<= 1;
  }
  return -1;
}

let fixedLiteralLengths: Huffman | undefined;
let fixedDistances: Huffman | undefined;

/** The fixed codes of block type 1 (RFC 1951 3.2.6), built on first use. */
function fixedCodes(): [Huffman, Huffman] {
  if (fixedLiteralLengths === undefined || fixedDistances === undefined) {
    const lengths = new Uint8Array(288 + 32);
    lengths.fill(8, 0, 144).fill(9, 144, 256).fill(7, 256, 280).fill(8, 280, 288).fill(5, 288, 320);
    fixedLiteralLengths = buildHuffman(lengths, 0, 288, LITERAL_LENGTHS);
    fixedDistances = buildHuffman(lengths, 288, 32, DISTANCES);
  }
  return [fixedLiteralLengths, fixedDistances];
}

/** The Adler-32 checksum (RFC 1950 8.2) of `bytes[0, end)`. */
export function adler32(bytes: Uint8Array, end: number = bytes.length): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < end; ) {
    // 3800 bytes keep `b` below 2^31 before the reduction (small integers stay small integers)
    const stop = Math.min(end, i + 3800);
    // four bytes a turn: fewer loop steps for the interpreter, which runs this on a cold start
    for (const stop4 = stop - 3; i < stop4; i += 4) {
      a += bytes[i]!;
      b += a;
      a += bytes[i + 1]!;
      b += a;
      a += bytes[i + 2]!;
      b += a;
      a += bytes[i + 3]!;
      b += a;
    }
    for (; i < stop; i++) {
      a += bytes[i]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** A larger copy of `out` holding at least `needed` bytes (doubling), at most `max`; throws past `max`. */
function grow(out: Uint8Array<ArrayBuffer>, used: number, needed: number, max: number): Uint8Array<ArrayBuffer> {
  if (needed > max) throw new Error(`zlib: the output is larger than ${max} bytes`);
  const size = Math.min(max, Math.max(needed, out.length * 2));
  const bigger = new Uint8Array(size);
  bigger.set(out.subarray(0, used));
  return bigger;
}

/**
 * Decides the output's cap from the output's start (e.g. a git object's `<type> <size>\0` header):
 * called once, with the bytes decoded so far, when the output first outgrows the buffer it
 * started with (at least 256 bytes, or four times the input); what it throws is thrown.
 */
export type OutputCap = (start: Uint8Array) => number;

/**
 * The bytes of the zlib stream `input` (RFC 1950: header, deflate data, Adler-32).
 *
 * Throws a plain `Error` (message `zlib: ...`) on any malformed input: a bad header or a preset
 * dictionary, an invalid block type, bad stored-block lengths, over-subscribed or (where not
 * allowed) incomplete codes, bad code-length repeats, an invalid symbol, a distance before the
 * start of the output, a truncated stream, an Adler-32 mismatch, or more than `maxOutput` bytes of
 * output (message `zlib: the output is larger than N bytes`). `maxOutput` is a number, or an
 * {@link OutputCap} that computes it from the output's start. Bytes after the Adler-32 trailer
 * are ignored. Work and memory are bounded by the input's length and `maxOutput` (no cap by
 * default, as `zlib.inflateSync`).
 */
export function inflateZlib(input: Uint8Array, maxOutput: number | OutputCap = Infinity): Buffer {
  return inflate(input, maxOutput, false);
}

/**
 * The first `length` bytes of the zlib stream `input`'s output (all of it when shorter), decoding
 * no further: the Adler-32 trailer is checked only when the whole output is shorter. For reading
 * a git object's header before deciding how much of it to inflate. Throws as {@link inflateZlib}
 * on malformed input met before `length` bytes.
 */
export function inflateZlibStart(input: Uint8Array, length: number): Buffer {
  return inflate(input, length, true);
}

function inflate(input: Uint8Array, maxOutput: number | OutputCap, partial: boolean): Buffer {
  const n = input.length;
  if (n < 2) throw new Error("zlib: unexpected end of file");
  const cmf = input[0]!;
  const flg = input[1]!;
  if ((cmf * 256 + flg) % 31 !== 0) throw new Error("zlib: incorrect header check");
  if ((cmf & 15) !== 8) throw new Error("zlib: unknown compression method");
  if (cmf >>> 4 > 7) throw new Error("zlib: invalid window size");
  if ((flg & 0x20) !== 0) throw new Error("zlib: a preset dictionary is needed");

  let cap = typeof maxOutput === "function" ? maxOutput : undefined;
  let max = typeof maxOutput === "number" ? maxOutput : Infinity;
  let out: Uint8Array<ArrayBuffer> = new Uint8Array(Math.min(max, Math.max(256, n * 4)));
  let op = 0; // bytes written
  // the bit reader: `buf` holds `cnt` bits (first bit lowest); `over` counts the zero bytes added past the end
  let pos = 2;
  let buf = 0;
  let cnt = 0;
  let over = 0;
  const lengths = new Uint8Array(286 + 30);

  let last = 0;
  while (last === 0) {
    // the block header: BFINAL, BTYPE
    while (cnt < 3) {
      if (pos < n) buf |= input[pos++]! << cnt;
      else over++;
      cnt += 8;
    }
    last = buf & 1;
    const type = (buf >>> 1) & 3;
    buf >>>= 3;
    cnt -= 3;
    if (cnt < over << 3) throw new Error("zlib: unexpected end of file");

    if (type === 0) {
      // stored: to the byte boundary, LEN, NLEN, LEN bytes
      const at = pos - ((cnt >>> 3) - over);
      buf = cnt = over = 0;
      if (at + 4 > n) throw new Error("zlib: unexpected end of file");
      const len = input[at]! | (input[at + 1]! << 8);
      if ((input[at + 2]! | (input[at + 3]! << 8)) !== (len ^ 0xffff)) throw new Error("zlib: invalid stored block lengths");
      if (at + 4 + len > n) throw new Error("zlib: unexpected end of file");
      if (op + len > out.length) {
        if (cap !== undefined) {
          max = cap(out.subarray(0, op));
          cap = undefined;
        }
        if (partial && op + len > max) {
          if (out.length < max) out = grow(out, op, max, max);
          out.set(input.subarray(at + 4, at + 4 + max - op), op);
          return Buffer.from(out.buffer, out.byteOffset, max);
        }
        out = grow(out, op, op + len, max);
      }
      out.set(input.subarray(at + 4, at + 4 + len), op);
      op += len;
      pos = at + 4 + len;
      continue;
    }
    if (type === 3) throw new Error("zlib: invalid block type");

    let lit: Huffman;
    let dist: Huffman;
    if (type === 1) {
      [lit, dist] = fixedCodes();
    } else {
      // dynamic: HLIT, HDIST, HCLEN, the code length code, then the two codes' lengths in it
      while (cnt < 14) {
        if (pos < n) buf |= input[pos++]! << cnt;
        else over++;
        cnt += 8;
      }
      const nlit = (buf & 31) + 257;
      const ndist = ((buf >>> 5) & 31) + 1;
      const ncode = ((buf >>> 10) & 15) + 4;
      buf >>>= 14;
      cnt -= 14;
      if (nlit > 286 || ndist > 30) throw new Error("zlib: too many length or distance symbols");
      lengths.fill(0, 0, 19);
      for (let i = 0; i < ncode; i++) {
        if (cnt < 3) {
          if (pos < n) buf |= input[pos++]! << cnt;
          else over++;
          cnt += 8;
        }
        lengths[CODE_LENGTH_ORDER[i]!] = buf & 7;
        buf >>>= 3;
        cnt -= 3;
      }
      if (cnt < over << 3) throw new Error("zlib: unexpected end of file");
      const codes = buildHuffman(lengths, 0, 19, CODE_LENGTHS);
      const codesMask = (1 << codes.fastBits) - 1;
      const total = nlit + ndist;
      for (let i = 0; i < total; ) {
        while (cnt < 24) {
          if (pos < n) buf |= input[pos++]! << cnt;
          else over++;
          cnt += 8;
        }
        let e = codes.fast[buf & codesMask]!;
        if (e === 0) e = slowDecode(codes, buf);
        if (e < 0) throw new Error("zlib: invalid code lengths code");
        const len = e & 15;
        const sym = e >>> 4;
        buf >>>= len;
        cnt -= len;
        if (sym < 16) {
          lengths[i++] = sym;
        } else {
          let value = 0;
          let repeat: number;
          if (sym === 16) {
            if (i === 0) throw new Error("zlib: invalid bit length repeat");
            value = lengths[i - 1]!;
            repeat = 3 + (buf & 3);
            buf >>>= 2;
            cnt -= 2;
          } else if (sym === 17) {
            repeat = 3 + (buf & 7);
            buf >>>= 3;
            cnt -= 3;
          } else {
            repeat = 11 + (buf & 127);
            buf >>>= 7;
            cnt -= 7;
          }
          if (i + repeat > total) throw new Error("zlib: invalid bit length repeat");
          lengths.fill(value, i, i + repeat);
          i += repeat;
        }
        if (cnt < over << 3) throw new Error("zlib: unexpected end of file");
      }
      if (lengths[256] === 0) throw new Error("zlib: invalid code -- missing end-of-block");
      lit = buildHuffman(lengths, 0, nlit, LITERAL_LENGTHS);
      dist = buildHuffman(lengths, nlit, ndist, DISTANCES);
    }

    // the block's data: literals, lengths with distances, end of block. The bit buffer is topped
    // up two bytes at a time to at least 15 bits, the longest code; extra bits top it up again.
    const litFast = lit.fast;
    const litMask = (1 << lit.fastBits) - 1;
    const distFast = dist.fast;
    const distMask = (1 << dist.fastBits) - 1;
    let size = out.length;
    for (;;) {
      if (cnt < 15) {
        if (pos + 1 < n) {
          buf |= (input[pos]! | (input[pos + 1]! << 8)) << cnt;
          pos += 2;
          cnt += 16;
        } else {
          // near the end: literals have no check of their own, so one that read past it is found here
          if (cnt < over << 3) throw new Error("zlib: unexpected end of file");
          do {
            if (pos < n) buf |= input[pos++]! << cnt;
            else over++;
            cnt += 8;
          } while (cnt < 15);
        }
      }
      let e = litFast[buf & litMask]!;
      if (e === 0) {
        e = slowDecode(lit, buf);
        if (e < 0) throw new Error("zlib: invalid literal/length code");
      }
      const codeLength = e & 15;
      buf >>>= codeLength;
      cnt -= codeLength;
      if (e < 256 << 4) {
        // a literal
        if (op === size) {
          if (cap !== undefined) {
            max = cap(out.subarray(0, op));
            cap = undefined;
          }
          if (partial && op === max) return Buffer.from(out.buffer, out.byteOffset, op);
          out = grow(out, op, op + 1, max);
          size = out.length;
        }
        out[op++] = e >>> 4;
        continue;
      }
      if (e < 257 << 4) {
        // the end of the block
        if (cnt < over << 3) throw new Error("zlib: unexpected end of file");
        break;
      }
      const l = (e >>> 4) - 257;
      if (l >= 29) throw new Error("zlib: invalid literal/length code");
      const lengthExtra = LENGTH_EXTRA[l]!;
      if (cnt < lengthExtra) {
        do {
          if (pos < n) buf |= input[pos++]! << cnt;
          else over++;
          cnt += 8;
        } while (cnt < 15);
      }
      const length = LENGTH_BASE[l]! + (buf & ((1 << lengthExtra) - 1));
      buf >>>= lengthExtra;
      cnt -= lengthExtra;
      // a distance code (at most 15 bits), then its extra bits (at most 13)
      if (cnt < 15) {
        do {
          if (pos < n) buf |= input[pos++]! << cnt;
          else over++;
          cnt += 8;
        } while (cnt < 15);
      }
      let d = distFast[buf & distMask]!;
      if (d === 0) {
        d = slowDecode(dist, buf);
        if (d < 0) throw new Error("zlib: invalid distance code");
      }
      buf >>>= d & 15;
      cnt -= d & 15;
      const ds = d >>> 4;
      if (ds >= 30) throw new Error("zlib: invalid distance code");
      const distExtra = DIST_EXTRA[ds]!;
      if (cnt < distExtra) {
        do {
          if (pos < n) buf |= input[pos++]! << cnt;
          else over++;
          cnt += 8;
        } while (cnt < 15);
      }
      const distance = DIST_BASE[ds]! + (buf & ((1 << distExtra) - 1));
      buf >>>= distExtra;
      cnt -= distExtra;
      if (cnt < over << 3) throw new Error("zlib: unexpected end of file");
      if (distance > op) throw new Error("zlib: invalid distance too far back");
      if (op + length > size) {
        if (cap !== undefined) {
          max = cap(out.subarray(0, op));
          cap = undefined;
        }
        if (partial && op + length > max) {
          // the start wanted ends inside this copy: copy up to its end
          if (out.length < max) out = grow(out, op, max, max);
          for (let from = op - distance; op < max; ) out[op++] = out[from++]!;
          return Buffer.from(out.buffer, out.byteOffset, op);
        }
        out = grow(out, op, op + length, max);
        size = out.length;
      }
      let from = op - distance;
      if (distance >= length) {
        out.copyWithin(op, from, from + length);
        op += length;
      } else {
        // the copy overlaps what it writes: byte by byte repeats the last `distance` bytes
        for (const end = op + length; op < end; ) out[op++] = out[from++]!;
      }
    }
  }

  // the Adler-32 trailer, big-endian, at the next byte boundary
  const at = pos - ((cnt >>> 3) - over);
  if (at + 4 > n) throw new Error("zlib: unexpected end of file");
  const expected = ((input[at]! << 24) | (input[at + 1]! << 16) | (input[at + 2]! << 8) | input[at + 3]!) >>> 0;
  if (adler32(out, op) !== expected) throw new Error("zlib: incorrect data check");
  return Buffer.from(out.buffer, out.byteOffset, op);
}
