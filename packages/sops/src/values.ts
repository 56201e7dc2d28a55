/**
 * The value layer: `ENC[AES256_GCM,...]` strings, AES-256-GCM with path AAD, and the canonical
 * plaintext bytes of each SOPS type (spec §2). The one owner of plaintext ↔ ciphertext for values.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "./lazy-crypto.js";
import { SopsError } from "./errors.js";

/** The value types SOPS writes in the `type:` field. */
export type SopsValueType = "str" | "int" | "float" | "bool" | "time" | "comment" | "bytes";

const VALUE_TYPES: ReadonlySet<string> = new Set(["str", "int", "float", "bool", "time", "comment", "bytes"]);

/** The grammar sops uses, reproduced exactly (greedy, anchored at the start only). */
const ENC_PATTERN = /^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]/;

/** The parts of an ENC string, base64 still encoded. */
export interface EncParts {
  data: string;
  iv: string;
  tag: string;
  type: string;
}

/** True when `s` has the shape of an encrypted SOPS value. */
export function isEncValue(s: string): boolean {
  return s.startsWith("ENC[") && ENC_PATTERN.test(s);
}

/** Splits an ENC string into its parts; undefined when it does not match the grammar. */
export function parseEnc(s: string): EncParts | undefined {
  const m = ENC_PATTERN.exec(s);
  if (m === null) return undefined;
  return { data: m[1]!, iv: m[2]!, tag: m[3]!, type: m[4]! };
}

/** Standard base64 with canonical padding: groups of 4, the last one `xx==` or `xxx=` at most. */
const B64_SHAPE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** The last character before `==` may carry no spare bits (its value is a multiple of 16). */
const B64_TWO_PAD_LAST = /[AQgw]==$/;
/** The last character before a single `=` may carry no spare bits (its value is a multiple of 4). */
const B64_ONE_PAD_LAST = /[AEIMQUYcgkosw048]=$/;

/**
 * An ENC string as far as its ciphertext goes: the same string with its `type` written `str`.
 * The type is the one part of an ENC string no tag covers (SOPS-FORMAT §2.1–2.3): `type:str` made
 * `type:bytes` (or `type:int` for digits) decrypts to the same value under the same key. Two ENC
 * strings with the same identity hold the same ciphertext, so a keyless comparison of versions
 * ("unchanged value", "same data key") must compare identities, never the raw text. Anything
 * that is no ENC string (`""`, plaintext) is returned unchanged. Pure.
 */
export function ciphertextIdentity(raw: string): string {
  const parts = parseEnc(raw);
  return parts === undefined || parts.type === "str" ? raw : `ENC[AES256_GCM,data:${parts.data},iv:${parts.iv},tag:${parts.tag},type:str]`;
}

/**
 * Strict standard base64: right alphabet, right padding, and canonical (re-encoding gives the same
 * text), so that no character of a stored value can change without changing the bytes. A
 * character outside the alphabet (skipped by the decoder), a URL-safe `-`/`_`, missing or extra
 * padding and non-zero spare bits are all refused, exactly the texts that would re-encode
 * differently (values.test.ts compares both definitions), without encoding again.
 */
export function decodeB64Strict(s: string): Buffer | undefined {
  if (!B64_SHAPE.test(s)) return undefined;
  if (s.endsWith("=") && !(s.endsWith("==") ? B64_TWO_PAD_LAST : B64_ONE_PAD_LAST).test(s)) return undefined;
  return Buffer.from(s, "base64");
}

/** Strict base64 (see {@link decodeB64Strict}) as a pattern: groups of 4, a last group whose spare bits are zero. */
const B64_STRICT = "(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?";
/**
 * An ENC string as sops and this package write it, matched whole: strict base64 parts, a 16-byte
 * tag, a known type, nothing after the `]`. Its parts hold no comma, so it splits exactly as
 * {@link ENC_PATTERN} splits it, and each part passes {@link decodeB64Strict}: one match instead of
 * five (this runs once per value, and a deploy's first resolve decrypts every value). Anything
 * else takes the general way, which gives the same answers and the precise error.
 */
const CANONICAL_ENC = new RegExp(`^ENC\\[AES256_GCM,data:(${B64_STRICT}),iv:(${B64_STRICT}),tag:([A-Za-z0-9+/]{21}[AQgw]==),type:(str|int|float|bool|time|comment|bytes)\\]$`);

/**
 * Why no key can open the ENC string `raw`, read without a key (undefined when only the data key
 * can tell): it breaks the grammar, its type is none sops knows, its base64 is not strict and
 * canonical, its IV is empty or its tag is not 16 bytes (the checks {@link decryptValue} makes
 * before it decrypts), or it is typed `bool` or `time` while its ciphertext has a length no such
 * value has (the ciphertext is as long as the plaintext; {@link canonicalize} refuses it): a file
 * holding such a string never decrypts, for anyone. The reason names no part of the ciphertext.
 * Pure; never throws.
 */
export function encStringProblem(raw: string): string | undefined {
  // the canonical form (every value a writer makes) needs no decoding: only a bool's or a time's
  // length is checked, and base64's length gives it (check runs this for every value of every file)
  const m = CANONICAL_ENC.exec(raw);
  let n: number;
  let type: string;
  if (m !== null && m[1] !== "" && m[2] !== "") {
    type = m[4]!;
    if (type !== "bool" && type !== "time") return undefined;
    const data = m[1]!;
    n = (data.length / 4) * 3 - (data.endsWith("==") ? 2 : data.endsWith("=") ? 1 : 0);
  } else {
    try {
      const parts = decodeEnc(raw);
      n = parts.data.length;
      type = parts.type;
    } catch (e) {
      return e instanceof SopsError ? e.message.replace(/^value /, "") : "it cannot be read";
    }
  }
  // the ciphertext is as long as the plaintext, and a bool or a time has only a few lengths (§2.3; canonicalize refuses any other)
  if (type === "bool" && !BOOL_LENGTHS.has(n)) return `it is typed bool, which sops reads from 1, 4 or 5 bytes (1, true, False, ...), but its ciphertext is ${n} bytes`;
  if (type === "time" && (n < TIME_LENGTH.min || n > TIME_LENGTH.max)) {
    return `it is typed time, which sops reads from ${TIME_LENGTH.min} to ${TIME_LENGTH.max} bytes (RFC 3339), but its ciphertext is ${n} bytes`;
  }
  return undefined;
}

/** The lengths of the spellings {@link canonicalBool} reads. */
const BOOL_LENGTHS: ReadonlySet<number> = new Set([1, 4, 5]);
/** The shortest and longest text {@link canonicalTime} reads: `2006-01-02T15:04:05Z` to nanoseconds and an offset. */
const TIME_LENGTH = { min: 20, max: 35 };

/** The decoded parts of an ENC string and its type; throws as {@link decryptValue} does when it breaks the grammar. */
function decodeEnc(enc: string): { data: Buffer; iv: Buffer; tag: Buffer; type: SopsValueType } {
  const m = CANONICAL_ENC.exec(enc);
  if (m !== null && m[1] !== "" && m[2] !== "") {
    return { data: Buffer.from(m[1]!, "base64"), iv: Buffer.from(m[2]!, "base64"), tag: Buffer.from(m[3]!, "base64"), type: m[4] as SopsValueType };
  }
  const parts = parseEnc(enc);
  if (parts === undefined) throw new SopsError("MALFORMED_FILE", "value is not a valid ENC[AES256_GCM,...] string");
  if (!VALUE_TYPES.has(parts.type)) {
    throw new SopsError("TAMPERED", `value has unknown type "${parts.type.slice(0, 20)}"`);
  }
  const data = decodeB64Strict(parts.data);
  const iv = decodeB64Strict(parts.iv);
  const tag = decodeB64Strict(parts.tag);
  if (data === undefined || iv === undefined || tag === undefined || iv.length === 0 || tag.length !== 16) {
    throw new SopsError("TAMPERED", "value has invalid base64 or a wrong IV/tag length");
  }
  return { data, iv, tag, type: parts.type as SopsValueType };
}

/**
 * Decrypts one ENC string with the data key and AAD (the key path plus ':').
 * @returns the plaintext bytes and the declared type.
 * @throws SopsError MALFORMED_FILE when the string breaks the grammar; TAMPERED when the tag check fails.
 */
export function decryptValue(enc: string, dataKey: Uint8Array, aad: string): { plaintext: Buffer; type: SopsValueType } {
  const { data, iv, tag, type } = decodeEnc(enc);
  try {
    const d = createDecipheriv("aes-256-gcm", dataKey, iv, { authTagLength: 16 });
    d.setAAD(Buffer.from(aad, "utf8"));
    d.setAuthTag(tag);
    const out = d.update(data);
    const rest = d.final(); // checks the tag; GCM is a stream mode: nothing is left over
    return { plaintext: rest.length === 0 ? out : Buffer.concat([out, rest]), type };
  } catch (cause) {
    throw new SopsError("TAMPERED", "value failed its authentication check (changed, or moved from another key)", { cause });
  }
}

/**
 * Encrypts plaintext bytes into an ENC string with a fresh random 32-byte IV.
 * Never call with an empty plaintext: SOPS stores empty strings unencrypted as "".
 */
export function encryptValue(plaintext: Uint8Array, dataKey: Uint8Array, aad: string, type: SopsValueType, iv: Uint8Array = randomBytes(32)): string {
  const c = createCipheriv("aes-256-gcm", dataKey, iv, { authTagLength: 16 });
  c.setAAD(Buffer.from(aad, "utf8"));
  const data = Buffer.concat([c.update(plaintext), c.final()]);
  const tag = c.getAuthTag();
  return `ENC[AES256_GCM,data:${data.toString("base64")},iv:${Buffer.from(iv).toString("base64")},tag:${tag.toString("base64")},type:${type}]`;
}

/** The AAD of a leaf: mapping keys from the root joined by ':' plus a trailing ':' (list indices excluded). */
export function aadForPath(path: readonly string[]): string {
  return path.length === 0 ? ":" : `${path.join(":")}:`;
}

// ---------------------------------------------------------------------------------------------
// Canonical plaintext forms (spec §2.3), shared by decryption and the MAC.

/** Go strconv.ParseBool → SOPS's `True`/`False`. */
export function canonicalBool(s: string): "True" | "False" | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(s)) return "True";
  if (["0", "f", "F", "FALSE", "false", "False"].includes(s)) return "False";
  return undefined;
}

/** Go strconv.Atoi then Itoa: optional sign, decimal digits, no leading zeros; int64 range. */
export function canonicalInt(s: string): string | undefined {
  const m = /^([+-]?)(\d+)$/.exec(s);
  if (m === null) return undefined;
  const n = BigInt(`${m[1] === "-" ? "-" : ""}${m[2]}`);
  if (n > 9223372036854775807n || n < -9223372036854775808n) return undefined;
  return n.toString();
}

/** Go FormatFloat(f, 'f', -1, 64): shortest round-trip decimal, never an exponent. */
export function formatGoFloat(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "+Inf";
  if (x === -Infinity) return "-Inf";
  if (Object.is(x, -0)) return "-0";
  const s = String(x);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (m === null) return s;
  const [, sign, lead, frac = "", expText] = m;
  const digits = `${lead}${frac}`;
  const exp = Number(expText);
  const point = 1 + exp; // position of the decimal point within `digits`
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${"0".repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/**
 * Go strconv.ParseFloat(s, 64) then FormatFloat 'f' -1 (what sops decrypts a `type:float` value to,
 * and the bytes its MAC covers): `inf`, `infinity` (signed) and `nan` in any case; a decimal
 * mantissa with an optional `e` exponent, or a hexadecimal one (`0x1p-2`, `0X1.8P+1`) whose `p`
 * exponent is required; `_` between digits (or after the base prefix) as Go's literals allow it.
 * Undefined where Go refuses: another syntax, or a finite text beyond float64's range (ErrRange,
 * which sops reports as an error; a value too small becomes 0, as in Go).
 */
export function canonicalFloat(s: string): string | undefined {
  if (/^[+-]?(inf|infinity)$/i.test(s)) return formatGoFloat(s.startsWith("-") ? -Infinity : Infinity);
  if (/^nan$/i.test(s)) return formatGoFloat(NaN);
  // Go's readFloat: sign, digits with at most one point and an optional `e` exponent, or 0x, hexadecimal digits and a required `p` exponent
  const hex = /^([+-]?)0[xX]([0-9a-fA-F_.]*)[pP]([+-]?[0-9][0-9_]*)$/.exec(s);
  const m = hex ?? /^([+-]?)([0-9_.]*)(?:[eE]([+-]?[0-9][0-9_]*))?$/.exec(s);
  if (m === null) return undefined;
  const [, sign, mantissa = "", exponent] = m;
  if (!/[0-9a-fA-F]/.test(mantissa) || mantissa.indexOf(".") !== mantissa.lastIndexOf(".")) return undefined;
  if (s.includes("_") && !underscoreOK(s)) return undefined;
  const plain = (t: string | undefined): string => (t ?? "").replace(/_/g, "");
  const x = hex === null ? Number(`${sign}${plain(mantissa)}${exponent === undefined ? "" : `e${plain(exponent)}`}`) : hexFloat(sign === "-", plain(mantissa), plain(exponent));
  return Number.isFinite(x) ? formatGoFloat(x) : undefined;
}

/** Go's underscoreOK: each `_` between two digits, or between the base prefix and a digit. */
function underscoreOK(s: string): boolean {
  let t = s.replace(/^[+-]/, "");
  let saw = "^";
  let hex = false;
  if (/^0[xXbBoO]/.test(t)) {
    hex = /^0[xX]/.test(t);
    t = t.slice(2);
    saw = "0";
  }
  for (const c of t) {
    if (/[0-9]/.test(c) || (hex && /[a-fA-F]/.test(c))) saw = "0";
    else if (c === "_") {
      if (saw !== "0") return false;
      saw = "_";
    } else {
      if (saw === "_") return false;
      saw = "!";
    }
  }
  return saw !== "_";
}

/** The float64 nearest `0x<mantissa>p<exponent>` (ties to even; ±Infinity beyond the range), as Go's atofHex rounds it. */
function hexFloat(negative: boolean, mantissa: string, exponent: string): number {
  const point = mantissa.indexOf(".");
  const digits = mantissa.replace(".", "");
  let m = BigInt(`0x${digits === "" ? "0" : digits}`);
  // (Go reads at most five exponent digits' worth: beyond that the value is 0 or out of range either way)
  const e = Math.max(-100_000, Math.min(100_000, Number(exponent))) - 4 * (point === -1 ? 0 : digits.length - point);
  let value: number;
  if (m === 0n) value = 0;
  else {
    const top = m.toString(2).length - 1 + e; // the exponent of the leading bit
    // keep 53 bits, or fewer below the smallest normal exponent (down to 2^-1074)
    const shift = Math.max(top - 52, -1074) - e;
    let k = e;
    if (shift > 0) {
      const s = BigInt(shift);
      const q = m >> s;
      const rest = m - (q << s);
      const half = 1n << (s - 1n);
      m = rest > half || (rest === half && (q & 1n) === 1n) ? q + 1n : q;
      k = e + shift;
    }
    // (m has at most 53 bits now and k is at least -1074: the product is exact, or beyond the range)
    value = Number(m) * 2 ** k;
  }
  return negative ? -value : value;
}

/** Go's RFC 3339 layout: its `T` and `Z` match exactly (uppercase only; `t`/`z` are refused by time.Parse). */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** The days of a month in the proleptic Gregorian calendar (as Go's `daysIn`). */
function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * The range checks of Go's RFC 3339 parser (time/format_rfc3339.go, and the general parser it falls
 * back to): month 1–12, a day the month has, hour 0–23, minute and second 0–59 (no leap second), an
 * offset of at most 23:59.
 */
function onTheCalendar(y: number, mo: number, d: number, h: number, mi: number, se: number, off: string): boolean {
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || se > 59) return false;
  if (off.length === 6 && (Number(off.slice(1, 3)) > 23 || Number(off.slice(4, 6)) > 59)) return false;
  return true;
}

/**
 * Go time.Parse(RFC3339) then MarshalText (RFC3339Nano): fraction without trailing zeros, `Z` for a
 * zero offset, other offsets kept. With `dropFraction`, formats like RFC3339 (used for the MAC AAD).
 * Undefined when `s` breaks the RFC 3339 shape or names a date or time that is not on the calendar
 * (month 13, February 30, hour 24, second 60), or spells `T` or `Z` in lowercase, which Go refuses too.
 */
export function canonicalTime(s: string, dropFraction = false): string | undefined {
  const m = RFC3339.exec(s);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, se, frac, off] = m;
  if (!onTheCalendar(Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(se), off!)) return undefined;
  let fraction = "";
  if (!dropFraction && frac !== undefined) {
    const f = frac.replace(/0+$/, "");
    if (f !== "") fraction = `.${f}`;
  }
  const offset = off === "Z" || off === "+00:00" || off === "-00:00" ? "Z" : off;
  return `${y}-${mo}-${d}T${h}:${mi}:${se}${fraction}${offset}`;
}

/**
 * The canonical MAC/plaintext bytes of a decrypted value of the given type.
 * @throws SopsError TAMPERED when the plaintext does not parse as its type.
 */
export function canonicalize(plaintext: string, type: SopsValueType): string {
  let out: string | undefined;
  switch (type) {
    case "str":
    case "bytes":
    case "comment":
      return plaintext;
    case "int":
      out = canonicalInt(plaintext);
      break;
    case "float":
      out = canonicalFloat(plaintext);
      break;
    case "bool":
      out = canonicalBool(plaintext);
      break;
    case "time":
      out = canonicalTime(plaintext);
      break;
  }
  if (out === undefined) throw new SopsError("TAMPERED", `a value of type ${type} does not parse as one`);
  return out;
}

/** Today's `lastmodified`: UTC `YYYY-MM-DDTHH:MM:SSZ`, exactly as sops writes it. */
export function formatLastModified(now: Date): string {
  return `${now.toISOString().slice(0, 19)}Z`;
}
