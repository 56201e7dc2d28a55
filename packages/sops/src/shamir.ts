/**
 * Shamir secret sharing as sops splits a data key across key groups (SOPS-FORMAT §5): GF(2^8)
 * with the AES polynomial x^8+x^4+x^3+x+1 (0x11B), one random polynomial per secret byte, a share
 * being the polynomial's value at x for each byte followed by one byte holding x (x = 1…n in
 * current sops, random distinct x in 1…255 in sops ≤ 3.9). Only combining is needed here: this
 * package never splits (it keeps a key-groups file's shares as they are, `key-groups.ts`). Pure.
 */
import { SopsError } from "./errors.js";

/** The length of a share of a 32-byte data key: 32 bytes of values and the x byte. */
export const SHAMIR_SHARE_BYTES = 33;

/** a·b in GF(2^8) mod 0x11B, without a branch or a table lookup on the operands (shares are secret). */
function mul(a: number, b: number): number {
  let product = 0;
  for (let i = 0; i < 8; i++) {
    product ^= -(b & 1) & a;
    const high = -((a >> 7) & 1) & 0x1b;
    a = ((a << 1) & 0xff) ^ high;
    b >>= 1;
  }
  return product & 0xff;
}

/** a^-1 in GF(2^8) as a^254 (a ≠ 0). */
function inverse(a: number): number {
  let result = 1;
  let power = a;
  for (let e = 254; e > 0; e >>= 1) {
    if (e & 1) result = mul(result, power);
    power = mul(power, power);
  }
  return result;
}

/**
 * The secret of `shares` by Lagrange interpolation at x = 0 (every byte at once: the same x for
 * each). Any `threshold` or more shares of one split give the secret; fewer, or a changed share,
 * give other bytes, which nothing here can tell (the caller's MAC check does). The x values are
 * public (the last byte of each share).
 * @throws SopsError MALFORMED_FILE for fewer than 2 shares, shares of different lengths or shorter
 * than 2 bytes, an x of 0 (the secret itself, never a share) or two shares with the same x. The
 * message names counts and x values only, never share bytes.
 */
export function combineShares(shares: readonly Uint8Array[]): Uint8Array {
  const bad = (what: string): never => {
    throw new SopsError("MALFORMED_FILE", `the key groups' Shamir shares cannot be combined: ${what}`, {
      hint: "the key_groups entries were changed or copied between files outside sops: restore the file from git (`git checkout -- FILE`)",
    });
  };
  if (shares.length < 2) bad(`${shares.length} share${shares.length === 1 ? "" : "s"}, and at least 2 are needed`);
  const length = shares[0]!.length;
  if (length < 2) bad("a share is shorter than 2 bytes");
  if (shares.some((s) => s.length !== length)) bad("the shares are not all the same length");
  const xs = shares.map((s) => s[length - 1]!);
  if (xs.includes(0)) bad("a share has x = 0");
  if (new Set(xs).size !== xs.length) bad(`two shares have the same x (${xs.join(", ")})`);
  // basis[i] = Π_{j≠i} x_j / (x_i ⊕ x_j): the Lagrange basis polynomial of share i at 0
  const basis = xs.map((xi, i) => {
    let numerator = 1;
    let denominator = 1;
    xs.forEach((xj, j) => {
      if (j === i) return;
      numerator = mul(numerator, xj);
      denominator = mul(denominator, xi ^ xj);
    });
    return mul(numerator, inverse(denominator));
  });
  const secret = new Uint8Array(length - 1);
  for (let b = 0; b < secret.length; b++) {
    let v = 0;
    for (let i = 0; i < shares.length; i++) v ^= mul(shares[i]![b]!, basis[i]!);
    secret[b] = v;
  }
  return secret;
}
