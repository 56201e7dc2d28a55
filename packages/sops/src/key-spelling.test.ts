import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { bech32Encode } from "./age-native.js";
import { edwardsToMontgomery } from "./ssh.js";
import { ageFormsOfSshKeys, canonicalAgeRecipient } from "./key-spelling.js";
import { bech32Decode } from "./age-native.js";

describe("ageFormsOfSshKeys", () => {
  it("pairs an ssh-ed25519 key with its age1… form (computed as ssh-to-age does) and nothing else", () => {
    const keys = [0, 1, 2].map(() => {
      const { publicKey } = generateKeyPairSync("ed25519");
      const ed = Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url");
      const wire = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
      return { ssh: `ssh-ed25519 ${Buffer.concat([wire(Buffer.from("ssh-ed25519")), wire(ed)]).toString("base64")} a@b`, age: bech32Encode("age", edwardsToMontgomery(ed)!) };
    });
    expect(ageFormsOfSshKeys([keys[2]!.age, keys[0]!.age, "not a key"], [keys[0]!.ssh, keys[1]!.ssh, "ssh-ed25519 AAAA"])).toEqual([
      [1, 0],
    ]);
    expect(ageFormsOfSshKeys([], [keys[0]!.ssh])).toEqual([]);
  });
});

describe("canonicalAgeRecipient", () => {
  const ALICE = "age1qua746lhnvd8m6tn52e78hxrkr7nmqjgsq6ttq4nuhz9rgjdeayqhgjcv0";
  it("gives one spelling for AGE1…, the top bit of the last byte set, and u + p; none for what is no age key", () => {
    const bytes = Buffer.from(bech32Decode(ALICE)!.bytes);
    const topBit = Buffer.from(bytes);
    topBit[31]! |= 0x80;
    expect(canonicalAgeRecipient(ALICE)).toBe(ALICE);
    expect(canonicalAgeRecipient(ALICE.toUpperCase())).toBe(ALICE);
    expect(canonicalAgeRecipient(bech32Encode("age", topBit))).toBe(ALICE);
    expect(bech32Encode("age", topBit)).not.toBe(ALICE);
    // u = 1 and u + p (< 2^255): one point
    const one = Buffer.alloc(32);
    one[0] = 1;
    const onePlusP = Buffer.alloc(32, 0xff);
    onePlusP[0] = 0xee; // p = 2^255 - 19 is ed ff … 7f; p + 1 is ee ff … 7f
    onePlusP[31] = 0x7f;
    expect(canonicalAgeRecipient(bech32Encode("age", onePlusP))).toBe(bech32Encode("age", one));
    for (const other of ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINtlsIu9U9RB/IG2860u/xrNi/2A6rWX5oq0OZVLuOws", `${ALICE.slice(0, -1)}x`, "Age1qua746lhnvd8m6tn52e78hxrkr7nmqjgsq6ttq4nuhz9rgjdeayqhgjcv0", bech32Encode("age", Buffer.alloc(31))]) {
      expect(canonicalAgeRecipient(other)).toBeUndefined();
    }
  });

  it("agrees with reducing the bytes mod p for every key near p, keys with the top bit set and random keys, asked once or again", () => {
    const P = 2n ** 255n - 19n;
    const reduced = (bytes: Uint8Array): string => {
      let n = 0n;
      for (let i = 31; i >= 0; i--) n = (n << 8n) | BigInt(i === 31 ? bytes[i]! & 0x7f : bytes[i]!);
      n %= P;
      const out = Buffer.alloc(32);
      for (let i = 0; i < 32; i++, n >>= 8n) out[i] = Number(n & 0xffn);
      return bech32Encode("age", out);
    };
    const cases: Buffer[] = [];
    for (const low of [0xea, 0xeb, 0xec, 0xed, 0xee, 0xff]) {
      const b = Buffer.alloc(32, 0xff); // p − 3 … p − 1, p, p + 1, 2^255 − 1
      b[0] = low;
      b[31] = 0x7f;
      cases.push(b);
      const high = Buffer.from(b);
      high[31] = 0xff;
      cases.push(high);
    }
    const nearlyP = Buffer.alloc(32, 0xff); // below p in a middle byte
    nearlyP[15] = 0xfe;
    nearlyP[31] = 0x7f;
    cases.push(nearlyP);
    let seed = 7;
    for (let k = 0; k < 200; k++) {
      const b = Buffer.alloc(32);
      for (let i = 0; i < 32; i++) b[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
      cases.push(b);
    }
    for (const bytes of cases) {
      const text = bech32Encode("age", bytes);
      for (const spelling of [text, text.toUpperCase(), ` ${text}\n`, text]) expect(canonicalAgeRecipient(spelling), spelling).toBe(reduced(bytes));
    }
    // p itself is 0, p − 1 is its own spelling
    const p = Buffer.alloc(32, 0xff);
    p[0] = 0xed;
    p[31] = 0x7f;
    expect(canonicalAgeRecipient(bech32Encode("age", p))).toBe(bech32Encode("age", Buffer.alloc(32)));
    p[0] = 0xec;
    expect(canonicalAgeRecipient(bech32Encode("age", p))).toBe(bech32Encode("age", p));
  });

  it("gives the same answers asked again, and after more distinct keys than it remembers", () => {
    const bytes = Buffer.from(bech32Decode(ALICE)!.bytes);
    const topBit = Buffer.from(bytes);
    topBit[31]! |= 0x80;
    const respelt = bech32Encode("age", topBit);
    // more keys than the remembered spellings (4,096): the first ones are forgotten and computed again
    const many = Array.from({ length: 5000 }, (_, i) => {
      const b = Buffer.alloc(32);
      b.writeUInt32LE(i + 2, 0);
      b[31] = 0x80; // the top bit set: each one's canonical spelling differs from it
      return b;
    });
    for (let round = 0; round < 2; round++) {
      expect(canonicalAgeRecipient(respelt)).toBe(ALICE);
      expect(canonicalAgeRecipient(`${ALICE.slice(0, -1)}x`)).toBeUndefined();
      for (const b of many) {
        const cleared = Buffer.from(b);
        cleared[31] = 0;
        expect(canonicalAgeRecipient(bech32Encode("age", b))).toBe(bech32Encode("age", cleared));
      }
    }
  });
});
