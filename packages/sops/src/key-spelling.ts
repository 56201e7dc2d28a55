// One X25519 key written two ways: an `ssh-ed25519` public key and the `age1…` form of its Montgomery
// point (what `ssh-to-age` prints; the ssh private key opens what is wrapped to it, with age itself).
import { bech32Decode, bech32Encode, parseX25519Recipient } from "./age-native.js";

const P = 2n ** 255n - 19n;

/** The 32 little-endian bytes as a field element, the top bit cleared (X25519 and Ed25519 ignore it), reduced mod p. */
function fieldElement(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = 31; i >= 0; i--) n = (n << 8n) | BigInt(i === 31 ? bytes[i]! & 0x7f : bytes[i]!);
  return n % P;
}

/** The y coordinate of an `ssh-ed25519 BASE64 [comment]` public key, or undefined when it is none. */
function sshY(recipient: string): bigint | undefined {
  const m = /^ssh-ed25519 ([A-Za-z0-9+/]+={0,2})(?:\s|$)/.exec(recipient.trim());
  if (m === null) return undefined;
  const wire = Buffer.from(m[1]!, "base64");
  // string "ssh-ed25519" (4 + 11 bytes), then the 32-byte key (4 + 32)
  if (wire.length !== 51 || wire.readUInt32BE(15) !== 32) return undefined;
  return fieldElement(wire.subarray(19));
}

/**
 * The pairs (index into `ages`, index into `sshKeys`) where an `age1…` key is the X25519 form of an
 * ssh-ed25519 key: its Montgomery u equals (1 + y) / (1 − y) of the Ed25519 point, tested as
 * u·(1 − y) ≡ 1 + y (mod p) with no inversion. Each key is decoded once, so comparing every pair of
 * a project's members costs microseconds. Texts that are no such key match nothing.
 */
export function ageFormsOfSshKeys(ages: readonly string[], sshKeys: readonly string[]): [number, number][] {
  const us = ages.map((a) => {
    const bytes = parseX25519Recipient(a.trim());
    return bytes === undefined ? undefined : fieldElement(bytes);
  });
  const found: [number, number][] = [];
  sshKeys.forEach((ssh, j) => {
    const y = sshY(ssh);
    if (y === undefined) return;
    const oneMinusY = (1n - y + P) % P;
    const onePlusY = (1n + y) % P;
    us.forEach((u, i) => {
      if (u !== undefined && (u * oneMinusY) % P === onePlusY) found.push([i, j]);
    });
  });
  return found;
}

/**
 * The one spelling of the X25519 key an age recipient names: `age1…` in lower case, of the key
 * reduced as X25519 reads it (the top bit of the last byte cleared, then mod p). bech32 is
 * case-insensitive (`AGE1…` is the same string to age), and X25519 ignores that top bit, so
 * `age1…` strings that differ only there (or in case) name one key, which one private key opens
 * (age's own client only for the reduced form: it salts with its own public key). Undefined for
 * text that is no age X25519 recipient (an ssh key, a mistyped checksum). Pure.
 */
export function canonicalAgeRecipient(recipient: string): string | undefined {
  const known = canonicalSpellings.get(recipient);
  if (known !== undefined || canonicalSpellings.has(recipient)) return known;
  if (canonicalSpellings.size >= MAX_REMEMBERED) canonicalSpellings.clear();
  const canonical = canonicalSpelling(recipient);
  canonicalSpellings.set(recipient, canonical);
  return canonical;
}

/**
 * The spellings {@link canonicalAgeRecipient} worked out, by the text as given. `check` asks for
 * each member's key once per environment and per stanza (about 20 calls for one member in three
 * environments), and in a fresh process each call ran cold code: about 5 ms of a small
 * repository's `check`. Bounded, for a long-running language server.
 */
const canonicalSpellings = new Map<string, string | undefined>();
const MAX_REMEMBERED = 4096;

function canonicalSpelling(recipient: string): string | undefined {
  const text = recipient.trim();
  const d = bech32Decode(text);
  if (d === undefined || d.hrp !== "age" || d.bytes.length !== 32) return undefined;
  // every key age makes is already reduced (top bit clear, below p): its own spelling in lower
  // case, which is what encoding the same bytes again gives (bech32Decode refuses non-zero padding)
  if (isReduced(d.bytes)) return text.toLowerCase();
  let n = fieldElement(d.bytes);
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++, n >>= 8n) bytes[i] = Number(n & 0xffn);
  return bech32Encode("age", bytes);
}

/** Whether 32 little-endian bytes are a field element as X25519 reads it: top bit clear and below p = 2^255 − 19. */
function isReduced(bytes: Uint8Array): boolean {
  if (bytes[31]! & 0x80) return false;
  if (bytes[31] !== 0x7f) return true;
  for (let i = 30; i >= 1; i--) if (bytes[i] !== 0xff) return true;
  return bytes[0]! < 0xed;
}

/**
 * True when two member keys are one key: the same text; two `age1…` spellings of one X25519 key
 * (case, the top bit: {@link canonicalAgeRecipient}); or an ssh-ed25519 key and its `age1…` form
 * (`ssh-to-age`). The one test of "the same member key" (review's `sameKeyAs`, `members list
 * --long`'s former key holders). Pure.
 */
export function isSameKey(a: string, b: string): boolean {
  if (a.trim() === b.trim()) return true;
  const ca = canonicalAgeRecipient(a);
  if (ca !== undefined && ca === canonicalAgeRecipient(b)) return true;
  return ageFormsOfSshKeys([a], [b]).length > 0 || ageFormsOfSshKeys([b], [a]).length > 0;
}
