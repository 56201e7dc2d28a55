/**
 * age's native `ssh-ed25519` recipient type (age-encryption.org/v1, "The ssh-ed25519 recipient
 * type"), on node:crypto, with the Recipient/Identity interfaces of age-native.ts (typage's shape, so it
 * plugs into typage too), plus the parsers of
 * OpenSSH public keys and unencrypted `openssh-key-v1` private keys (ed25519 only).
 *
 * Wrapping, as age and sops do it: an ephemeral X25519 share; the shared secret with the
 * recipient's Montgomery form of the Ed25519 key, multiplied again by a tweak
 * (HKDF-SHA-256, empty input, salt = the SSH wire public key, info = the label); the wrapping
 * key is HKDF-SHA-256 of that secret with salt = share ‖ Montgomery key and info = the label; the
 * 16-byte file key is sealed with ChaCha20-Poly1305 under a zero nonce. The stanza is
 * `-> ssh-ed25519 TAG SHARE`, TAG being the first 4 bytes of SHA-256 of the SSH wire key.
 *
 * Never puts key material in an error message.
 */
import { createCipheriv, createDecipheriv, createHash, createPrivateKey, createPublicKey, diffieHellman, hkdfSync, randomBytes } from "./lazy-crypto.js";
import { publicOf, Stanza, x25519PrivateKey, x25519PublicKey, type Identity, type Recipient } from "./age-native.js";
import { SopsError } from "./errors.js";

const LABEL = Buffer.from("age-encryption.org/v1/ssh-ed25519", "utf8");
const KEY_TYPE = "ssh-ed25519";
const PEM_BEGIN = "-----BEGIN OPENSSH PRIVATE KEY-----";
const PEM_END = "-----END OPENSSH PRIVATE KEY-----";
/** The wire form of every ssh-ed25519 key starts with these 25 base64 characters (type name, then the 32-byte key's length). */
const ED25519_B64_PREFIX = "AAAAC3NzaC1lZDI1NTE5AAAAI";
const ED25519_PUBLIC = new RegExp(`^ssh-ed25519 ${ED25519_B64_PREFIX}[A-Za-z0-9+/]{43}$`);

// ---------------------------------------------------------------------------------------------
// SSH public keys
// ---------------------------------------------------------------------------------------------

/** A parsed `ssh-ed25519 AAAA… [comment]` public key. */
export interface SshEd25519PublicKey {
  /** `ssh-ed25519 AAAA…` without the comment: the form stored in stellar.yaml and in stanza labels. */
  normalized: string;
  /** The SSH wire encoding (string "ssh-ed25519", string key). */
  wire: Buffer;
  /** The 32-byte Ed25519 public key. */
  ed25519: Buffer;
  /** Its Curve25519 (Montgomery u) form. */
  montgomery: Buffer;
}

/** True for text that starts like an SSH public key of any type (`ssh-…`, `ecdsa-…`, `sk-…`). */
export function looksLikeSshPublicKey(s: string): boolean {
  return /^\s*(ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+|sk-[a-z0-9@.-]+)\s/.test(s);
}

/**
 * True for an `ssh-ed25519 AAAA…` public key (an optional comment after a space is allowed) whose
 * key is a valid Ed25519 point.
 */
export function isSshEd25519Recipient(s: string): boolean {
  try {
    parseSshEd25519PublicKey(s);
    return true;
  } catch {
    return false;
  }
}

/**
 * The form a recipient is compared and stored in: an SSH public key loses its comment and extra
 * spaces (`ssh-ed25519 AAAA…`); anything else is only trimmed. Two spellings of the same key are
 * then equal strings (stellar.yaml members, stanza labels, recipient-drift).
 */
export function normalizeRecipient(s: string): string {
  const t = s.trim();
  if (!looksLikeSshPublicKey(t)) return t;
  const [type, key] = t.split(/\s+/);
  return `${type} ${key ?? ""}`;
}

/**
 * Parses an `ssh-ed25519` public key line (`authorized_keys` form; comment optional).
 * @throws SopsError UNSUPPORTED for another SSH key type (ssh-rsa, ecdsa, sk-…); MALFORMED_FILE when
 * the text is not a well-formed ed25519 key.
 */
export function parseSshEd25519PublicKey(text: string): SshEd25519PublicKey {
  const t = text.trim();
  const [type, b64] = t.split(/\s+/);
  if (type !== KEY_TYPE) {
    if (type !== undefined && looksLikeSshPublicKey(t)) {
      throw new SopsError("UNSUPPORTED", `${type} keys are not supported; only ssh-ed25519 SSH keys can be recipients`, {
        hint: "make an ed25519 key (`ssh-keygen -t ed25519`) or use an age key (age-keygen)",
      });
    }
    throw new SopsError("MALFORMED_FILE", "not an ssh-ed25519 public key (expected `ssh-ed25519 AAAA…`)");
  }
  const normalized = `${type} ${b64 ?? ""}`;
  if (!ED25519_PUBLIC.test(normalized)) {
    throw new SopsError("MALFORMED_FILE", "not a valid ssh-ed25519 public key (the base64 part must be 68 characters starting AAAAC3NzaC1lZDI1NTE5)", {
      hint: "copy the whole line of your ~/.ssh/id_ed25519.pub",
    });
  }
  const wire = Buffer.from(b64 as string, "base64");
  let name = "";
  let ed25519: Buffer = Buffer.alloc(0);
  try {
    const r = new WireReader(wire);
    name = r.string().toString("latin1");
    ed25519 = r.string();
    if (!r.done()) name = "";
  } catch {
    name = "";
  }
  if (name !== KEY_TYPE || ed25519.length !== 32) {
    throw new SopsError("MALFORMED_FILE", "not a valid ssh-ed25519 public key (bad wire encoding)");
  }
  const montgomery = edwardsToMontgomery(ed25519);
  if (montgomery === undefined || isLowOrder(montgomery)) throw new SopsError("MALFORMED_FILE", "the ssh-ed25519 public key is not a usable Ed25519 point");
  return { normalized, wire, ed25519, montgomery };
}

// ---------------------------------------------------------------------------------------------
// Ed25519 → X25519 (Curve25519) public key: the birational map u = (1 + y) / (1 - y)
// ---------------------------------------------------------------------------------------------

const P = 2n ** 255n - 19n;
/** Edwards d = −121665/121666 mod p, written out: computing it at import cost ~7 ms of every cold start (ssh.test.ts checks it). */
export const D = 37095705934669439343138083508754565189542113879843219016388785533085940283555n;

export function mod(a: bigint): bigint {
  const r = a % P;
  return r < 0n ? r + P : r;
}
function power(base: bigint, exp: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return result;
}
export function inverse(a: bigint): bigint {
  return power(a, P - 2n);
}
function fromLittleEndian(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i] as number);
  return n;
}
function toLittleEndian(n: bigint): Buffer {
  const out = Buffer.alloc(32);
  let v = n;
  for (let i = 0; i < 32; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/**
 * The Montgomery u coordinate of an encoded Ed25519 point, or undefined when the bytes are not a
 * point on the curve (x² = (y² − 1) / (d·y² + 1) has no root) or are the identity (u would be 0).
 * Like Go's edwards25519, a y of p or more is reduced rather than refused.
 */
export function edwardsToMontgomery(encoded: Uint8Array): Buffer | undefined {
  if (encoded.length !== 32) return undefined;
  const bytes = Uint8Array.from(encoded);
  bytes[31] = (bytes[31] as number) & 0x7f;
  const y = mod(fromLittleEndian(bytes));
  const y2 = (y * y) % P;
  const x2 = mod((y2 - 1n) * inverse(mod(D * y2 + 1n)));
  const legendre = power(x2, (P - 1n) / 2n);
  if (legendre !== 0n && legendre !== 1n) return undefined;
  if (y === 1n) return undefined;
  return toLittleEndian(mod((1n + y) * inverse(mod(1n - y))));
}

// ---------------------------------------------------------------------------------------------
// X25519, HKDF, ChaCha20-Poly1305 on node:crypto
// ---------------------------------------------------------------------------------------------

/** X25519(scalar, u): the scalar is clamped (RFC 7748); throws when the result is all zeros (a low-order point). */
function x25519(scalar: Uint8Array, u: Uint8Array): Buffer {
  return diffieHellman({ privateKey: x25519PrivateKey(scalar), publicKey: x25519PublicKey(u) });
}
function x25519Base(scalar: Uint8Array): Buffer {
  return publicOf(x25519PrivateKey(scalar));
}
/** True for a point of small order: X25519 with it gives all zeros (and node refuses it), for any scalar. */
function isLowOrder(u: Uint8Array): boolean {
  try {
    x25519(LOW_ORDER_PROBE, u);
    return false;
  } catch {
    return true;
  }
}
const LOW_ORDER_PROBE = Buffer.alloc(32, 0x5a);
function hkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array): Buffer {
  return Buffer.from(hkdfSync("sha256", ikm, salt, info, 32));
}
function tweakOf(wire: Uint8Array): Buffer {
  return hkdf(new Uint8Array(0), wire, LABEL);
}
/**
 * The 4-byte tag (unpadded base64) an age `ssh-ed25519` stanza names its key by: the first bytes of
 * SHA-256 of the key's SSH wire form. Public, so a keyless reader can tell which SSH key a stanza
 * was made for. @throws SopsError as {@link parseSshEd25519PublicKey}.
 */
export function sshKeyTag(publicKey: string): string {
  return tagOf(parseSshEd25519PublicKey(publicKey).wire);
}
function tagOf(wire: Uint8Array): string {
  return rawBase64(createHash("sha256").update(wire).digest().subarray(0, 4));
}
function rawBase64(b: Uint8Array): string {
  return Buffer.from(b).toString("base64").replace(/=+$/, "");
}
/** Strict unpadded base64 (age's encoding): undefined when not canonical. */
function fromRawBase64(s: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]*$/.test(s)) return undefined;
  const b = Buffer.from(s, "base64");
  return rawBase64(b) === s ? b : undefined;
}
const ZERO_NONCE = Buffer.alloc(12);
function seal(key: Uint8Array, plaintext: Uint8Array): Buffer {
  const c = createCipheriv("chacha20-poly1305", key, ZERO_NONCE, { authTagLength: 16 });
  return Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
}
function open(key: Uint8Array, sealed: Uint8Array): Buffer | undefined {
  const d = createDecipheriv("chacha20-poly1305", key, ZERO_NONCE, { authTagLength: 16 });
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  try {
    return Buffer.concat([d.update(sealed.subarray(0, sealed.length - 16)), d.final()]);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// The recipient and identity (typage's low-level interfaces)
// ---------------------------------------------------------------------------------------------

/** An age `ssh-ed25519` recipient, for typage's `Encrypter.addRecipient`. */
export class SshEd25519Recipient implements Recipient {
  readonly #key: SshEd25519PublicKey;
  /** @throws SopsError as {@link parseSshEd25519PublicKey}. */
  constructor(publicKey: string) {
    this.#key = parseSshEd25519PublicKey(publicKey);
  }
  /** One `ssh-ed25519 TAG SHARE` stanza holding the file key. */
  wrapFileKey(fileKey: Uint8Array): Stanza[] {
    const ephemeral = randomBytes(32);
    const share = x25519Base(ephemeral);
    const shared = x25519(tweakOf(this.#key.wire), x25519(ephemeral, this.#key.montgomery));
    const wrappingKey = hkdf(shared, Buffer.concat([share, this.#key.montgomery]), LABEL);
    return [new Stanza([KEY_TYPE, tagOf(this.#key.wire), rawBase64(share)], seal(wrappingKey, fileKey))];
  }
}

/** An age `ssh-ed25519` identity (an unencrypted OpenSSH ed25519 private key), for typage's `Decrypter.addIdentity`. */
export class SshEd25519Identity implements Identity {
  readonly #scalar: Buffer;
  readonly #key: SshEd25519PublicKey;
  /** @throws SopsError as {@link parseOpenSshPrivateKey}. */
  constructor(privateKeyText: string, source = "SSH private key") {
    const parsed = parseOpenSshPrivateKey(privateKeyText, source);
    this.#key = parsed.publicKey;
    this.#scalar = createHash("sha512").update(parsed.seed).digest().subarray(0, 32);
    parsed.seed.fill(0);
  }
  /** The public key, `ssh-ed25519 AAAA…` (no comment). */
  get recipient(): string {
    return this.#key.normalized;
  }
  /**
   * The file key from the first `ssh-ed25519` stanza made for this key, or null. A stanza for
   * another key (tag differs, or the AEAD fails) is skipped; a malformed stanza for this key throws.
   */
  unwrapFileKey(stanzas: Stanza[]): Uint8Array | null {
    const tag = tagOf(this.#key.wire);
    for (const s of stanzas) {
      if (s.args[0] !== KEY_TYPE) continue;
      if (s.args.length !== 3) throw new Error("invalid ssh-ed25519 stanza: wrong number of arguments");
      if (s.args[1] !== tag) continue;
      const share = fromRawBase64(s.args[2] as string);
      if (share === undefined || share.length !== 32) throw new Error("invalid ssh-ed25519 stanza: bad ephemeral share");
      if (s.body.length !== 32) throw new Error("invalid ssh-ed25519 stanza: the wrapped file key has the wrong size");
      let shared: Buffer;
      try {
        shared = x25519(tweakOf(this.#key.wire), x25519(this.#scalar, share));
      } catch {
        throw new Error("invalid ssh-ed25519 stanza: low-order ephemeral share");
      }
      const fileKey = open(hkdf(shared, Buffer.concat([share, this.#key.montgomery]), LABEL), s.body);
      if (fileKey !== undefined) return fileKey;
    }
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// OpenSSH private keys (openssh-key-v1, PROTOCOL.key)
// ---------------------------------------------------------------------------------------------

/** True when the text holds an OpenSSH private key block (any type, encrypted or not). */
export function isOpenSshPrivateKey(text: string): boolean {
  return text.trimStart().startsWith(PEM_BEGIN);
}

/**
 * Parses an unencrypted `openssh-key-v1` ed25519 private key file (what `ssh-keygen -t ed25519
 * -N ""` writes). Messages name `source`, never key material.
 * @throws SopsError UNSUPPORTED for a passphrase-protected key or another key type (ssh-rsa,
 * ecdsa, a PEM/PKCS#8 file); MALFORMED_FILE when the file is damaged.
 */
export function parseOpenSshPrivateKey(text: string, source: string): { publicKey: SshEd25519PublicKey; seed: Buffer } {
  const t = text.replace(/\r/g, "").trim();
  if (!t.startsWith(PEM_BEGIN)) {
    const pem = /^-----BEGIN ([A-Z0-9 ]+)-----/.exec(t)?.[1];
    if (pem !== undefined) {
      throw new SopsError("UNSUPPORTED", `${source} is a "${pem}" file; only OpenSSH ed25519 private keys are supported`, {
        hint: "use an ed25519 key made by `ssh-keygen -t ed25519`, or an age key",
      });
    }
    throw new SopsError("MALFORMED_FILE", `${source} is not an OpenSSH private key`);
  }
  const end = t.indexOf(PEM_END);
  if (end === -1) throw new SopsError("MALFORMED_FILE", `${source}: the OpenSSH private key has no END line`);
  const body = Buffer.from(t.slice(PEM_BEGIN.length, end).replace(/\s+/g, ""), "base64");
  const magic = Buffer.from("openssh-key-v1\0", "latin1");
  const damaged = (what: string): SopsError => new SopsError("MALFORMED_FILE", `${source}: damaged OpenSSH private key (${what})`);
  if (body.length < magic.length || !body.subarray(0, magic.length).equals(magic)) throw damaged("bad magic");
  try {
    const r = new WireReader(body.subarray(magic.length));
    const cipher = r.string().toString("latin1");
    const kdf = r.string().toString("latin1");
    r.string(); // kdf options
    if (cipher !== "none" || kdf !== "none") {
      throw new SopsError("UNSUPPORTED", `${source} is protected by a passphrase, which is not supported (sops does not support it either)`, {
        hint: "decrypt with an age key instead, or point SOPS_AGE_SSH_PRIVATE_KEY_FILE at an unencrypted ed25519 key (`ssh-keygen -t ed25519 -N \"\"`)",
      });
    }
    const count = r.uint32();
    if (count !== 1) throw damaged(`${count} keys in one file`);
    const publicWire = r.string();
    const priv = new WireReader(r.string());
    if (!r.done()) throw damaged("trailing data");
    if (priv.uint32() !== priv.uint32()) throw damaged("check bytes differ");
    const type = priv.string().toString("latin1");
    if (type !== KEY_TYPE) {
      // the type is read from the private part: a damaged file can put key bytes there, so only a name that looks like one is shown
      const shown = /^[a-z0-9][a-z0-9@.+-]{0,63}$/.test(type) ? `an ${type} key` : "a key of an unknown type (not shown)";
      throw new SopsError("UNSUPPORTED", `${source} is ${shown}; only ssh-ed25519 SSH keys are supported`, {
        hint: "make an ed25519 key (`ssh-keygen -t ed25519`) or use an age key (age-keygen)",
      });
    }
    const pub = priv.string();
    const secret = priv.string();
    priv.string(); // comment
    const padding = priv.rest();
    if (pub.length !== 32 || secret.length !== 64 || !secret.subarray(32).equals(pub)) throw damaged("bad ed25519 key lengths");
    if (!padding.every((b, i) => b === i + 1)) throw damaged("bad padding");
    const publicKey = parseSshEd25519PublicKey(`${KEY_TYPE} ${publicWire.toString("base64")}`);
    if (!publicKey.ed25519.equals(pub)) throw damaged("the public and private parts do not match");
    const seed = Buffer.from(secret.subarray(0, 32));
    secret.fill(0);
    // The seed must give the stored public key (a corrupted file must not silently give a wrong key).
    const derived = createPublicKey(createPrivateKey({ key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]), format: "der", type: "pkcs8" }))
      .export({ format: "der", type: "spki" })
      .subarray(12);
    if (!derived.equals(pub)) throw damaged("the private key does not match its public key");
    return { publicKey, seed };
  } catch (e) {
    if (e instanceof SopsError) throw e;
    throw damaged("truncated");
  }
}

/** A reader of SSH wire data (uint32 lengths, big-endian). Throws a plain Error past the end. */
class WireReader {
  #offset = 0;
  constructor(private readonly buf: Buffer) {}
  uint32(): number {
    if (this.#offset + 4 > this.buf.length) throw new Error("truncated");
    const v = this.buf.readUInt32BE(this.#offset);
    this.#offset += 4;
    return v;
  }
  string(): Buffer {
    const n = this.uint32();
    if (this.#offset + n > this.buf.length) throw new Error("truncated");
    const out = this.buf.subarray(this.#offset, this.#offset + n);
    this.#offset += n;
    return out;
  }
  rest(): Buffer {
    const out = this.buf.subarray(this.#offset);
    this.#offset = this.buf.length;
    return out;
  }
  done(): boolean {
    return this.#offset === this.buf.length;
  }
}
