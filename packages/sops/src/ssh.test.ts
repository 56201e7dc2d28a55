/**
 * The age ssh-ed25519 recipient type and the OpenSSH key parsers, in memory. Keys are made per run
 * with node:crypto and encoded here as openssh-key-v1 (TEST-ONLY); the interop with the real
 * `age` CLI and ssh-keygen keys is in test/sops-ssh.test.ts.
 */
import { createHash, createPrivateKey, createPublicKey } from "node:crypto";
import { Decrypter, Encrypter, Stanza } from "age-encryption";
import { describe, expect, it } from "vitest";
import { unwrapDataKey, wrapDataKey, identityToRecipient, isRecipient } from "./age.js";
import { isSopsError } from "./errors.js";
import { decryptSecrets, encryptSecrets, parseSecretsFile, updateKeys } from "./secrets-file.js";
import {
  SshEd25519Identity,
  SshEd25519Recipient,
  edwardsToMontgomery,
  isSshEd25519Recipient,
  normalizeRecipient,
  parseOpenSshPrivateKey,
  parseSshEd25519PublicKey,
} from "./ssh.js";
import { openSshTestKey as makeKey } from "../test-fixtures/support.js";

const DATA_KEY = Buffer.from("0123456789abcdef0123456789abcdef");

describe("Edwards → Montgomery", () => {
  it("maps the Ed25519 base point to u = 9", () => {
    const base = Buffer.from("5866666666666666666666666666666666666666666666666666666666666666", "hex");
    const u = edwardsToMontgomery(base)!;
    expect(u.toString("hex")).toBe(`09${"00".repeat(31)}`);
  });

  it("agrees with X25519 of the clamped SHA-512(seed) scalar, for random keys", () => {
    for (let i = 0; i < 5; i++) {
      const { seed, pub } = makeKey();
      const scalar = createHash("sha512").update(seed).digest().subarray(0, 32);
      const priv = createPrivateKey({ key: Buffer.concat([Buffer.from("302e020100300506032b656e04220420", "hex"), scalar]), format: "der", type: "pkcs8" });
      const x25519Public = createPublicKey(priv).export({ format: "der", type: "spki" }).subarray(12);
      expect(edwardsToMontgomery(pub)!.equals(x25519Public)).toBe(true);
    }
  });

  it("refuses bytes that are not a curve point, and the identity", () => {
    // y = 2 has no x on edwards25519 (x² is not a square)
    const notOnCurve = Buffer.alloc(32);
    notOnCurve[0] = 2;
    expect(edwardsToMontgomery(notOnCurve)).toBeUndefined();
    const identity = Buffer.alloc(32);
    identity[0] = 1;
    expect(edwardsToMontgomery(identity)).toBeUndefined();
    expect(edwardsToMontgomery(Buffer.alloc(31))).toBeUndefined();
  });
});

describe("SSH public keys", () => {
  it("normalises an ssh key to `ssh-ed25519 AAAA…` (comment and extra spaces dropped); age keys are only trimmed", () => {
    const { publicLine } = makeKey({ comment: "alice@laptop" });
    const [type, b64] = publicLine.split(" ");
    expect(normalizeRecipient(`  ${type}   ${b64}   alice@laptop  `)).toBe(`${type} ${b64}`);
    expect(parseSshEd25519PublicKey(publicLine).normalized).toBe(`${type} ${b64}`);
    expect(normalizeRecipient(" age1abc ")).toBe("age1abc");
    expect(isSshEd25519Recipient(publicLine)).toBe(true);
    expect(isRecipient(publicLine)).toBe(true);
  });

  it("refuses ssh-rsa as UNSUPPORTED and a damaged key as MALFORMED_FILE", () => {
    expect(() => parseSshEd25519PublicKey("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ user@host")).toThrow(expect.objectContaining({ code: "UNSUPPORTED" }));
    expect(() => parseSshEd25519PublicKey("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA")).toThrow(expect.objectContaining({ code: "MALFORMED_FILE" }));
    // right length and prefix, but the key length byte says 33
    expect(() => parseSshEd25519PublicKey(`ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIZ${"A".repeat(42)}`)).toThrow(expect.objectContaining({ code: "MALFORMED_FILE" }));
    expect(isSshEd25519Recipient("ssh-rsa AAAAB3NzaC1yc2E")).toBe(false);
    // (0, -1), a point of order 2: on the curve, but X25519 with it is all zeros
    const order2 = Buffer.alloc(32, 0xff);
    order2[0] = 0xec;
    order2[31] = 0x7f;
    const wire = Buffer.concat([Buffer.from("0000000b", "hex"), Buffer.from("ssh-ed25519"), Buffer.from("00000020", "hex"), order2]);
    expect(() => parseSshEd25519PublicKey(`ssh-ed25519 ${wire.toString("base64")}`)).toThrow(expect.objectContaining({ code: "MALFORMED_FILE" }));
  });

  it("wrapDataKey refuses an ssh-rsa recipient with UNSUPPORTED", async () => {
    await expect(wrapDataKey(DATA_KEY, "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ user@host")).rejects.toMatchObject({ code: "UNSUPPORTED" });
  });
});

describe("OpenSSH private keys", () => {
  it("reads an unencrypted ed25519 key and gives its public key", async () => {
    const k = makeKey();
    const parsed = parseOpenSshPrivateKey(k.privateText, "id_test");
    expect(parsed.publicKey.ed25519.equals(k.pub)).toBe(true);
    expect(await identityToRecipient(k.privateText)).toBe(normalizeRecipient(k.publicLine));
  });

  it("refuses a passphrase-protected key and another key type as UNSUPPORTED, naming the source only", () => {
    const enc = makeKey({ cipher: "aes256-ctr" });
    let err: unknown;
    try {
      parseOpenSshPrivateKey(enc.privateText, "/home/u/.ssh/id_ed25519");
    } catch (e) {
      err = e;
    }
    expect(isSopsError(err, "UNSUPPORTED")).toBe(true);
    expect((err as Error).message).toContain("/home/u/.ssh/id_ed25519");
    expect((err as Error).message).toContain("passphrase");
    expect(() => parseOpenSshPrivateKey("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n", "id_rsa")).toThrow(
      expect.objectContaining({ code: "UNSUPPORTED" }),
    );
  });

  it("names another key type only when it looks like one: a damaged private part can hold key bytes where the type goes", () => {
    const message = (type: string): string => {
      try {
        parseOpenSshPrivateKey(makeKey({ type }).privateText, "id_x");
      } catch (e) {
        expect(isSopsError(e, "UNSUPPORTED")).toBe(true);
        return (e as Error).message;
      }
      throw new Error("not refused");
    };
    expect(message("ssh-rsa")).toBe("id_x is an ssh-rsa key; only ssh-ed25519 SSH keys are supported");
    const garbage = message("\u0001PRIVATE-BYTES-a8f3\u00ff k");
    expect(garbage).not.toContain("PRIVATE-BYTES");
    expect(garbage).toBe("id_x is a key of an unknown type (not shown); only ssh-ed25519 SSH keys are supported");
  });

  it("refuses a damaged key (truncated, or private part not matching the public key) as MALFORMED_FILE without printing it", () => {
    const k = makeKey();
    const lines = k.privateText.split("\n");
    const truncated = [lines[0], lines[1], lines[lines.length - 2], ""].join("\n");
    expect(() => parseOpenSshPrivateKey(truncated, "k")).toThrow(expect.objectContaining({ code: "MALFORMED_FILE" }));
    const bad = makeKey({ tamper: (secret) => (secret[0] = (secret[0] as number) ^ 1) });
    let err: unknown;
    try {
      parseOpenSshPrivateKey(bad.privateText, "k");
    } catch (e) {
      err = e;
    }
    expect(isSopsError(err, "MALFORMED_FILE")).toBe(true);
    const body = bad.privateText.split("\n")[1] as string;
    expect((err as Error).message).not.toContain(body.slice(10, 40));
  });
});

describe("ssh-ed25519 stanzas", () => {
  it("wraps and unwraps a data key through typage, with the stanza args age writes", async () => {
    const k = makeKey();
    const enc = await wrapDataKey(DATA_KEY, k.publicLine);
    expect(Buffer.from((await unwrapDataKey([{ recipient: "", enc }], [k.privateText]))!).equals(DATA_KEY)).toBe(true);

    const stanzas = new SshEd25519Recipient(k.publicLine).wrapFileKey(new Uint8Array(16).fill(5));
    expect(stanzas).toHaveLength(1);
    const [type, tag, share] = stanzas[0]!.args;
    expect(type).toBe("ssh-ed25519");
    const wire = parseSshEd25519PublicKey(k.publicLine).wire;
    expect(tag).toBe(createHash("sha256").update(wire).digest().subarray(0, 4).toString("base64").replace(/=+$/, ""));
    expect(share).toMatch(/^[A-Za-z0-9+/]{43}$/);
    expect(stanzas[0]!.body).toHaveLength(32);
  });

  it("another key does not open the stanza (null, not an error), nor does a stanza with a changed body", async () => {
    const a = makeKey();
    const b = makeKey();
    const [stanza] = new SshEd25519Recipient(a.publicLine).wrapFileKey(new Uint8Array(16).fill(5));
    expect(new SshEd25519Identity(b.privateText).unwrapFileKey([stanza!])).toBeNull();
    const body = Uint8Array.from(stanza!.body);
    body[0] = (body[0] as number) ^ 1;
    expect(new SshEd25519Identity(a.privateText).unwrapFileKey([new Stanza(stanza!.args, body)])).toBeNull();
    expect(Buffer.from(new SshEd25519Identity(a.privateText).unwrapFileKey([stanza!])!).equals(Buffer.alloc(16, 5))).toBe(true);
    const enc = await wrapDataKey(DATA_KEY, a.publicLine);
    expect(await unwrapDataKey([{ recipient: "", enc }], [b.privateText])).toBeUndefined();
  });

  it("a malformed stanza for this key is an error, as the typage contract asks", () => {
    const a = makeKey();
    const [stanza] = new SshEd25519Recipient(a.publicLine).wrapFileKey(new Uint8Array(16));
    const args = stanza!.args;
    expect(() => new SshEd25519Identity(a.privateText).unwrapFileKey([new Stanza([args[0]!, args[1]!, `${args[2]}=`], stanza!.body)])).toThrow(/ephemeral share/);
    expect(() => new SshEd25519Identity(a.privateText).unwrapFileKey([new Stanza([args[0]!, args[1]!], stanza!.body)])).toThrow(/arguments/);
  });

  it("mixes with X25519 recipients in one age file, each identity opening it", async () => {
    const k = makeKey();
    const e = new Encrypter();
    e.addRecipient(new SshEd25519Recipient(k.publicLine));
    e.addRecipient("age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p");
    const file = await e.encrypt(DATA_KEY);
    const d = new Decrypter();
    d.addIdentity(new SshEd25519Identity(k.privateText));
    expect(Buffer.from(await d.decrypt(file)).equals(DATA_KEY)).toBe(true);
  });
});

describe("ssh recipients in secrets files", () => {
  it("stores the normalised label, and keeps that stanza byte-for-byte when the key is given again with a comment", async () => {
    const k = makeKey({ comment: "bob@laptop" });
    const other = makeKey();
    const text = await encryptSecrets(new Map([["K", "v"]]), { recipients: [k.publicLine] });
    const file = parseSecretsFile(text);
    expect(file.metadata.age[0]!.recipient).toBe(normalizeRecipient(k.publicLine));
    expect(file.recipients).toEqual([normalizeRecipient(k.publicLine)]);
    const previous = await decryptSecrets(text, [k.privateText]);
    const next = parseSecretsFile(await updateKeys(previous, [`${k.publicLine}  `, other.publicLine]));
    expect(next.metadata.age[0]).toEqual(file.metadata.age[0]);
    expect(next.recipients).toEqual([normalizeRecipient(k.publicLine), normalizeRecipient(other.publicLine)]);
    expect((await decryptSecrets(await updateKeys(previous, [k.publicLine, other.publicLine]), [other.privateText])).values.get("K")).toBe("v");
  });
});

describe("foreign ssh labels", () => {
  it("a label written by sops with a comment (even one YAML would cut at ` #`) is kept, quoted when needed, and read back the same", async () => {
    const k = makeKey();
    const other = makeKey();
    const text = await encryptSecrets(new Map([["K", "v"]]), { recipients: [k.publicLine] });
    const label = `${normalizeRecipient(k.publicLine)} ops #1`;
    const foreign = text.replace(`recipient: ${normalizeRecipient(k.publicLine)}`, `recipient: ${JSON.stringify(label)}`);
    const previous = await decryptSecrets(foreign, [k.privateText]);
    expect(previous.file.metadata.age[0]!.recipient).toBe(label);
    expect(previous.file.recipients).toEqual([normalizeRecipient(k.publicLine)]);
    const written = await updateKeys(previous, [normalizeRecipient(k.publicLine), other.publicLine]);
    expect(written).toContain(`recipient: ${JSON.stringify(label)}\n`);
    const again = parseSecretsFile(written);
    expect(again.metadata.age[0]).toEqual(previous.file.metadata.age[0]);
    expect((await decryptSecrets(written, [other.privateText])).values.get("K")).toBe("v");
  });
});

describe("curve constants", () => {
  it("the written-out Edwards d is −121665/121666 mod p", async () => {
    const { D, mod, inverse } = await import("./ssh.js");
    expect(D).toBe(mod(-121665n * inverse(121666n)));
  });
});
