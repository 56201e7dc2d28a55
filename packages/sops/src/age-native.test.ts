/**
 * age-native.ts (node:crypto age) against two oracles, both directions: the age CLI
 * (/usr/bin/age, age-keygen; skipped with a reason when absent) and typage (age-encryption).
 * Keys are made per run (TEST-ONLY); a key file for `age -d -i` lives in a temp dir, mode 0600.
 */
import { execFileSync } from "node:child_process";
import { createPublicKey, diffieHellman, generateKeyPairSync, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Decrypter, Encrypter, armor, generateHybridIdentity, generateX25519Identity, identityToRecipient as typageRecipient } from "age-encryption";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  X25519Identity,
  X25519Recipient,
  armorDecode,
  armorEncode,
  bech32Decode,
  bech32Encode,
  decryptAge,
  encryptAge,
  generateX25519,
  isSmallOrderX25519,
  parseHeader,
  Stanza,
} from "./age-native.js";
import { MAX_AGE_STANZAS, generateIdentity, identityToRecipient, isMistypedAgeRecipient, isSmallOrderAgeRecipient, unwrapDataKey, wrapDataKey } from "./age.js";
import { haveAgeCli, tempDir } from "../test-fixtures/support.js";

const AGE = haveAgeCli();
let dir = "";
let cleanup = () => {};
beforeAll(() => {
  ({ dir, cleanup } = tempDir("age-native-"));
});
afterAll(() => cleanup());

describe("keys", () => {
  it("generateX25519 gives an identity whose recipient typage derives the same", async () => {
    for (let i = 0; i < 5; i++) {
      const { identity, recipient } = generateX25519();
      expect(identity).toMatch(/^AGE-SECRET-KEY-1[0-9A-Z]{58}$/);
      expect(await typageRecipient(identity)).toBe(recipient);
      expect(new X25519Identity(identity).recipient).toBe(recipient);
    }
  });

  it("typage's identities give the recipient typage gives", async () => {
    const identity = await generateX25519Identity();
    expect(new X25519Identity(identity).recipient).toBe(await typageRecipient(identity));
  });

  it("bech32 round-trips and refuses a changed character, mixed case and a bad checksum", () => {
    const bytes = randomBytes(32);
    const s = bech32Encode("age", bytes);
    expect(bech32Decode(s)?.bytes.equals(bytes)).toBe(true);
    const flipped = s.slice(0, 10) + (s[10] === "q" ? "p" : "q") + s.slice(11);
    expect(bech32Decode(flipped)).toBeUndefined();
    expect(bech32Decode(s.slice(0, 5) + s.slice(5).toUpperCase())).toBeUndefined();
    expect(() => new X25519Recipient(flipped)).toThrow();
    expect(() => new X25519Identity(bech32Encode("age-secret-key-", bytes))).toThrow(); // lower case
    expect(() => new X25519Identity(bech32Encode("age", bytes).toUpperCase())).toThrow(); // wrong hrp
  });
});

describe("typage as the oracle", () => {
  it("typage opens what we encrypt (X25519), for several recipients and sizes", async () => {
    const a = await generateX25519Identity();
    const b = await generateX25519Identity();
    for (const size of [32, 0, 1, 64 * 1024, 64 * 1024 + 1, 200_000]) {
      const plain = randomBytes(size);
      const file = await encryptAge(plain, [new X25519Recipient(await typageRecipient(a)), new X25519Recipient(await typageRecipient(b))]);
      for (const id of [a, b]) {
        const d = new Decrypter();
        d.addIdentity(id);
        expect(Buffer.from(await d.decrypt(file)).equals(plain)).toBe(true);
      }
    }
  });

  it("we open what typage encrypts (X25519), for several sizes, and refuse the wrong key", async () => {
    const id = await generateX25519Identity();
    const other = generateX25519().identity;
    for (const size of [32, 0, 1, 64 * 1024, 64 * 1024 + 1, 200_000]) {
      const plain = randomBytes(size);
      const e = new Encrypter();
      e.addRecipient(await typageRecipient(id));
      const file = await e.encrypt(plain);
      expect((await decryptAge(file, [new X25519Identity(id)]))?.equals(plain)).toBe(true);
      expect(await decryptAge(file, [new X25519Identity(other)])).toBeUndefined();
      // and through the armor
      expect(armorDecode(armor.encode(file)).equals(Buffer.from(file))).toBe(true);
    }
    const small = randomBytes(32);
    expect(armor.decode(armorEncode(small)).length).toBe(32);
  });

  it("a changed header byte, MAC or payload byte is refused (the file key alone is not enough)", async () => {
    const { identity, recipient } = generateX25519();
    const plain = randomBytes(32);
    const file = await encryptAge(plain, [new X25519Recipient(recipient)]);
    const h = parseHeader(file);
    const id = new X25519Identity(identity);
    // flip a byte of the ephemeral share's argument line, of the MAC, of the payload
    const macAt = h.headerNoMac.length + 2;
    for (const at of [30, macAt, file.length - 1, h.payloadStart + 3]) {
      const bad = Buffer.from(file);
      bad[at] = bad[at]! ^ 0x01;
      const r = await decryptAge(bad, [id]).then(
        (v) => v,
        () => "refused",
      );
      expect(r === "refused" || r === undefined).toBe(true);
    }
    // truncated payload
    await expect(decryptAge(file.subarray(0, file.length - 1), [id])).rejects.toThrow();
  });

  it("a malformed X25519 stanza for anyone throws instead of being skipped (as age does)", () => {
    const { identity } = generateX25519();
    const id = new X25519Identity(identity);
    expect(() => id.unwrapFileKey([new Stanza(["X25519"], Buffer.alloc(32))])).toThrow(/arguments/);
    expect(() => id.unwrapFileKey([new Stanza(["X25519", "AAAA"], Buffer.alloc(32))])).toThrow(/share/);
    expect(() => id.unwrapFileKey([new Stanza(["X25519", Buffer.alloc(32).toString("base64").replace(/=+$/, "")], Buffer.alloc(32))])).toThrow(/low-order/);
    expect(id.unwrapFileKey([new Stanza(["ssh-ed25519", "x", "y"], Buffer.alloc(32))])).toBeNull();
  });

  it("wrapDataKey/unwrapDataKey (the sops enc) round-trip with typage on either side", async () => {
    const id = await generateX25519Identity();
    const rcpt = await typageRecipient(id);
    const dataKey = randomBytes(32);
    const enc = await wrapDataKey(dataKey, rcpt);
    const d = new Decrypter();
    d.addIdentity(id);
    expect(Buffer.from(await d.decrypt(armor.decode(enc))).equals(dataKey)).toBe(true);
    const e = new Encrypter();
    e.addRecipient(rcpt);
    const theirs = armor.encode(await e.encrypt(dataKey));
    expect(Buffer.from((await unwrapDataKey([{ recipient: rcpt, enc: theirs }], [id]))!).equals(dataKey)).toBe(true);
  });
});

describe("post-quantum keys go through typage, loaded on first use", () => {
  it("wrap to age1pq1…, unwrap with AGE-SECRET-KEY-PQ-1…, beside X25519 identities", async () => {
    const pq = await generateHybridIdentity();
    const pqRecipient = await identityToRecipient(pq);
    expect(pqRecipient).toMatch(/^age1pq1/);
    const x = await generateIdentity();
    const dataKey = randomBytes(32);
    const enc = await wrapDataKey(dataKey, pqRecipient);
    expect(enc).toContain("BEGIN AGE ENCRYPTED FILE");
    expect(Buffer.from((await unwrapDataKey([{ recipient: pqRecipient, enc }], [x.identity, pq]))!).equals(dataKey)).toBe(true);
    expect(await unwrapDataKey([{ recipient: pqRecipient, enc }], [x.identity])).toBeUndefined();
  });
});

describe.skipIf(!AGE)("the age CLI as the oracle", () => {
  it("`age -d` opens what we encrypt, and we open what `age -r` / `age -a` encrypts", async () => {
    const { identity, recipient } = generateX25519();
    const keyFile = join(dir, "key.txt");
    writeFileSync(keyFile, `# TEST-ONLY\n${identity}\n`, { mode: 0o600 });
    for (const size of [32, 0, 70_000]) {
      const plain = randomBytes(size);
      const ours = await encryptAge(plain, [new X25519Recipient(recipient)]);
      expect(execFileSync("age", ["-d", "-i", keyFile], { input: ours }).equals(plain)).toBe(true);
      expect(execFileSync("age", ["-d", "-i", keyFile], { input: armorEncode(ours) }).equals(plain)).toBe(true);
      const theirs = execFileSync("age", ["-r", recipient], { input: plain });
      expect((await decryptAge(theirs, [new X25519Identity(identity)]))?.equals(plain)).toBe(true);
      const armored = execFileSync("age", ["-a", "-r", recipient], { input: plain }).toString("latin1");
      expect((await decryptAge(armorDecode(armored), [new X25519Identity(identity)]))?.equals(plain)).toBe(true);
    }
  });

  it("age-keygen identities give the recipient `age-keygen -y` prints", () => {
    const keyFile = join(dir, "keygen.txt");
    execFileSync("age-keygen", ["-o", keyFile], { stdio: "ignore" });
    const identity = execFileSync("grep", ["^AGE-SECRET-KEY-1", keyFile]).toString().trim();
    const recipient = execFileSync("age-keygen", ["-y", keyFile]).toString().trim();
    expect(new X25519Identity(identity).recipient).toBe(recipient);
  });

  it("the data key sops stores: age opens our enc and we open age's, with two recipients", async () => {
    const a = generateX25519();
    const b = generateX25519();
    const keyFile = join(dir, "b.txt");
    writeFileSync(keyFile, `${b.identity}\n`, { mode: 0o600 });
    const dataKey = randomBytes(32);
    const theirs = execFileSync("age", ["-a", "-r", a.recipient, "-r", b.recipient], { input: dataKey }).toString("latin1");
    expect(Buffer.from((await unwrapDataKey([{ recipient: a.recipient, enc: theirs }], [b.identity]))!).equals(dataKey)).toBe(true);
    const ours = await wrapDataKey(dataKey, b.recipient);
    expect(execFileSync("age", ["-d", "-i", keyFile], { input: ours }).equals(dataKey)).toBe(true);
  });
});

describe("recipients that are points of small order (no one's key)", () => {
  const P = 2n ** 255n - 19n;
  const le = (n: bigint): Buffer => {
    const b = Buffer.alloc(32);
    for (let i = 0; i < 32; i++) b[i] = Number((n >> BigInt(8 * i)) & 0xffn);
    return b;
  };
  const SMALL = [0n, 1n, 325606250916557431795983626356110631294008115727848805560023387167927233504n, 39382357235489614581723060781553021112529911719440698176882885853963445705823n, P - 1n];
  // every spelling X25519 reads as the same point: u, u + p (below 2^255), and bit 255 set
  const spellings = SMALL.flatMap((u) => [u, ...(u + P < 2n ** 255n ? [u + P] : [])]).flatMap((u) => [le(u), le(u | (1n << 255n))]);
  /** What OpenSSL says (the oracle): X25519 with a point of small order gives all zeros, which it refuses. */
  const opensslRefuses = (u: Buffer): boolean => {
    const { privateKey } = generateKeyPairSync("x25519");
    const publicKey = createPublicKey({ key: { kty: "OKP", crv: "X25519", x: u.toString("base64url") }, format: "jwk" });
    try {
      return diffieHellman({ privateKey, publicKey }).every((b) => b === 0);
    } catch {
      return true;
    }
  };

  it("isSmallOrderX25519 is exactly the points OpenSSL's X25519 refuses, in every spelling, and no random point", () => {
    expect(spellings).toHaveLength(14); // u + p is below 2^255 for u = 0 and 1 only
    for (const u of spellings) {
      expect(opensslRefuses(u), u.toString("hex")).toBe(true);
      expect(isSmallOrderX25519(u), u.toString("hex")).toBe(true);
    }
    for (let i = 0; i < 200; i++) {
      const u = randomBytes(32);
      expect(isSmallOrderX25519(u), u.toString("hex")).toBe(opensslRefuses(u));
    }
    expect(isSmallOrderX25519(bech32Decode(generateX25519().recipient)!.bytes)).toBe(false);
  });

  it("wrapDataKey refuses one with a coded error (was node's ERR_OSSL_FAILED_DURING_DERIVATION, exit 70); the age CLI refuses it too", async () => {
    for (const u of spellings.slice(0, 4)) {
      const recipient = bech32Encode("age", u);
      expect(isSmallOrderAgeRecipient(recipient)).toBe(true);
      expect(isMistypedAgeRecipient(recipient)).toBe(false);
      expect(() => new X25519Recipient(recipient)).toThrow(/small order/);
      await expect(wrapDataKey(randomBytes(32), recipient)).rejects.toMatchObject({ code: "MALFORMED_FILE", message: expect.stringContaining("is a point of small order") });
      if (AGE) {
        // no input: age refuses the recipient before it reads any, and a pipe written to after it
        // exits fails the write (EPIPE) instead (seen under load)
        expect(() => execFileSync("age", ["-r", recipient], { stdio: ["ignore", "pipe", "pipe"] })).toThrow(/low order point/);
      }
    }
    const { recipient } = generateX25519();
    expect(isSmallOrderAgeRecipient(recipient)).toBe(false);
    expect(isSmallOrderAgeRecipient(`${recipient.slice(0, -1)}${recipient.endsWith("q") ? "p" : "q"}`)).toBe(false); // mistyped: another check
    expect(isSmallOrderAgeRecipient("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")).toBe(false);
  });
});

describe("a file whose age list is padded with recipient stanzas (the list is not under the MAC)", () => {
  /** An armored age envelope of `n` X25519 stanzas for random shares (no one's), as a keyless writer can make it. */
  const padding = (n: number): string => {
    let header = "age-encryption.org/v1\n";
    for (let i = 0; i < n; i++) header += `-> X25519 ${randomBytes(32).toString("base64").replace(/=+$/, "")}\n${randomBytes(32).toString("base64").replace(/=+$/, "")}\n`;
    header += `--- ${randomBytes(32).toString("base64").replace(/=+$/, "")}\n`;
    return armorEncode(Buffer.concat([Buffer.from(header, "latin1"), randomBytes(64)]));
  };

  it(`tries at most MAX_AGE_STANZAS (${MAX_AGE_STANZAS}) stanzas in all: one more is UNSUPPORTED before any is tried (20,000 took about 15 s per identity, and read)`, async () => {
    const { identity, recipient } = generateX25519();
    const dataKey = randomBytes(32);
    const real = { recipient, enc: await wrapDataKey(dataKey, recipient) };
    const atLimit = [{ recipient, enc: padding(MAX_AGE_STANZAS - 1) }, real];
    expect(Buffer.from((await unwrapDataKey(atLimit, [identity]))!).equals(dataKey)).toBe(true);
    // refused from the headers, before any stanza is tried: the real stanza first would open
    const over = [real, { recipient, enc: padding(MAX_AGE_STANZAS) }];
    await expect(unwrapDataKey(over, [identity])).rejects.toMatchObject({ code: "UNSUPPORTED", message: `the file's 2 age entries hold ${MAX_AGE_STANZAS + 1} recipient stanzas together; more than ${MAX_AGE_STANZAS} are not tried (sops writes one per recipient)` });
    // many entries of one stanza each count the same
    const entries = [...Array.from({ length: MAX_AGE_STANZAS }, () => ({ recipient, enc: padding(1) })), real];
    await expect(unwrapDataKey(entries, [identity])).rejects.toMatchObject({ code: "UNSUPPORTED" });
  });
});
