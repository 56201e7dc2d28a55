/**
 * age-native.ts makes its X25519 keys through JWK (OpenSSL's raw-key path, 5-10x quicker than its
 * DER decoders) and falls back to PKCS#8 DER when a node refuses the private JWK it passes (its `x`
 * is left empty: node takes the key from `d`). Here node's `createPrivateKey` refuses every JWK, as
 * such a node would: identities, recipients and both directions of wrapping must stay the same.
 * Keys are made per run (TEST-ONLY).
 */
import * as nodeCrypto from "node:crypto";
import { describe, expect, it, vi } from "vitest";

const jwkCalls = { private: 0, refused: 0 };
vi.mock("./lazy-crypto.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("./lazy-crypto.js")>();
  const createPrivateKey: typeof real.createPrivateKey = (key) => {
    if (typeof key === "object" && !Buffer.isBuffer(key) && "format" in key && key.format === "jwk") {
      jwkCalls.refused++;
      throw new TypeError("this node refuses private JWKs");
    }
    jwkCalls.private++;
    return real.createPrivateKey(key);
  };
  return { ...real, createPrivateKey };
});

const { X25519Identity, X25519Recipient, generateX25519 } = await import("./age-native.js");

describe("age-native without private JWKs (the PKCS#8 DER fallback)", () => {
  it("derives node's recipient of the scalar, and wraps and unwraps", () => {
    const real = nodeCrypto.generateKeyPairSync("x25519").privateKey.export({ format: "jwk" });
    const identity = new X25519Identity(bech32("age-secret-key-", Buffer.from(real.d!, "base64url")).toUpperCase());
    expect(jwkCalls.refused).toBeGreaterThan(0);
    expect(jwkCalls.private).toBeGreaterThan(0);
    expect(identity.recipient).toBe(bech32("age", Buffer.from(real.x!, "base64url")));
    const fileKey = new Uint8Array(16).fill(9);
    const stanzas = [generateX25519().recipient, identity.recipient].flatMap((r) => new X25519Recipient(r).wrapFileKey(fileKey));
    expect(identity.unwrapFileKey(stanzas)).toEqual(Buffer.from(fileKey));
  });
});

/** Bech32 of bytes (BIP 173), written here so that the test does not use the code under test to encode keys. */
function bech32(hrp: string, bytes: Buffer): string {
  const CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
  const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  const polymod = (values: number[]) => {
    let chk = 1;
    for (const v of values) {
      const top = chk >>> 25;
      chk = (((chk & 0x1ffffff) << 5) ^ v) >>> 0;
      for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk = (chk ^ GEN[i]!) >>> 0;
    }
    return chk;
  };
  const data: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) data.push((acc >>> (bits -= 5)) & 31);
  }
  if (bits > 0) data.push((acc << (5 - bits)) & 31);
  const expand = [...hrp].map((c) => c.charCodeAt(0) >>> 5).concat(0, [...hrp].map((c) => c.charCodeAt(0) & 31));
  const mod = polymod([...expand, ...data, 0, 0, 0, 0, 0, 0]) ^ 1;
  const checksum = [0, 1, 2, 3, 4, 5].map((i) => (mod >>> (5 * (5 - i))) & 31);
  return `${hrp}1${[...data, ...checksum].map((d) => CHARSET[d]).join("")}`;
}
