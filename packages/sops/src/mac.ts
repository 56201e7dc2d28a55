/**
 * The SOPS MAC (spec §4): SHA-512 over the canonical plaintext of every leaf in document order,
 * stored as 128 uppercase hex characters encrypted with the data key under the `lastmodified` AAD.
 */
import { createHash, timingSafeEqual } from "./lazy-crypto.js";
import { SopsError } from "./errors.js";
import { canonicalTime, decryptValue, encryptValue } from "./values.js";

/** SHA-256("sops"): the prefix fed to the hash when `mac_only_encrypted` is true. */
const MAC_ONLY_ENCRYPTED_PREFIX = Buffer.from("8a3fd2ad54ce66527b1034f3d147be0b0b975b3bf44f72c6fdadec8176f27d69", "hex");

/** Incremental MAC over canonical plaintexts. */
export class MacBuilder {
  private readonly hash = createHash("sha512");
  constructor(macOnlyEncrypted = false) {
    if (macOnlyEncrypted) this.hash.update(MAC_ONLY_ENCRYPTED_PREFIX);
  }
  /** Feeds one leaf's canonical plaintext. */
  add(canonical: string | Uint8Array): void {
    this.hash.update(canonical);
  }
  /** The MAC as 128 uppercase hex characters. */
  digestHex(): string {
    return this.hash.digest("hex").toUpperCase();
  }
}

/** Computes the MAC of a list of canonical plaintexts, in order. */
export function computeMac(values: Iterable<string>, macOnlyEncrypted = false): string {
  const b = new MacBuilder(macOnlyEncrypted);
  for (const v of values) b.add(v);
  return b.digestHex();
}

/** The AAD sops uses for the MAC: `lastmodified` re-formatted as RFC 3339 (no fraction, `Z` for UTC). */
export function macAad(lastmodified: string, file?: string): string {
  const aad = canonicalTime(lastmodified, true);
  if (aad === undefined) {
    throw new SopsError("MALFORMED_FILE", "sops.lastmodified is not an RFC 3339 time", { file, hint: "restore the file from git" });
  }
  return aad;
}

/** Encrypts a MAC for storage. */
export function encryptMac(macHex: string, dataKey: Uint8Array, lastmodified: string): string {
  return encryptValue(Buffer.from(macHex, "utf8"), dataKey, lastmodified, "str");
}

/**
 * Checks the stored MAC against the computed one in constant time.
 * @throws SopsError MAC_MISMATCH when the MAC is missing, cannot be decrypted, or differs.
 */
export function verifyMac(storedEnc: string, computedHex: string, dataKey: Uint8Array, lastmodified: string, file?: string): void {
  const hint = "the file was changed outside sops/stellar-secrets or is corrupt: restore it from git (`git checkout -- FILE`) and reapply the change";
  if (storedEnc === "") throw new SopsError("MAC_MISMATCH", "the file has no MAC (sops.mac is missing or empty)", { file, hint });
  let stored: Buffer;
  try {
    stored = decryptValue(storedEnc, dataKey, macAad(lastmodified, file)).plaintext;
  } catch (cause) {
    if (cause instanceof SopsError && cause.code === "MALFORMED_FILE" && cause.message.includes("lastmodified")) throw cause;
    throw new SopsError("MAC_MISMATCH", "the MAC cannot be decrypted (sops.mac or sops.lastmodified was changed)", { file, hint, cause });
  }
  const computed = Buffer.from(computedHex, "utf8");
  if (stored.length !== computed.length || !timingSafeEqual(stored, computed)) {
    throw new SopsError("MAC_MISMATCH", "MAC mismatch: the values do not match the file's MAC (a value was changed, added, removed or reordered)", { file, hint });
  }
}
