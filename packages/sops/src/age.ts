/**
 * age wrapping of the data key (spec §6): one armored age file per recipient, each holding the raw
 * 32-byte data key. X25519 (`age1…`) and ssh-ed25519 keys go through age-native.ts and ssh.ts, on
 * node:crypto only. Hybrid post-quantum keys (`age1pq1…`, `AGE-SECRET-KEY-PQ-1…`) go through
 * `age-encryption` (typage), the reference TypeScript implementation, loaded on first use only:
 * it brings ML-KEM and pure-JavaScript curves that nothing else needs.
 */
import { X25519Identity, X25519Recipient, armorDecode, armorEncode, bech32Decode, decryptAge, encryptAge, generateX25519, isSmallOrderX25519, parseHeader, parseX25519Recipient, type Identity } from "./age-native.js";
import { SopsError } from "./errors.js";
import { SshEd25519Identity, SshEd25519Recipient, isOpenSshPrivateKey, isSshEd25519Recipient, looksLikeSshPublicKey } from "./ssh.js";

type Typage = typeof import("age-encryption");
let typage: Promise<Typage> | undefined;
/** `age-encryption`, imported once, on the first post-quantum key. */
function loadTypage(): Promise<Typage> {
  typage ??= import("age-encryption").catch((cause: unknown) => {
    typage = undefined;
    throw new SopsError("UNSUPPORTED", "post-quantum age keys (age1pq1…, AGE-SECRET-KEY-PQ-1…) need the age-encryption package, which is not installed", {
      hint: "install it beside this package (`npm install age-encryption@0.3.1`), or use an X25519 age key (age-keygen)",
      cause,
    });
  });
  return typage;
}
import type { AgeStanza } from "./types.js";

const X25519_RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;
const PQ_RECIPIENT = /^age1pq1[02-9ac-hj-np-z]+$/;

/** True for an age X25519 (`age1…`, 62 characters) or hybrid post-quantum (`age1pq1…`) recipient. */
export function isAgeRecipient(s: string): boolean {
  return X25519_RECIPIENT.test(s) || PQ_RECIPIENT.test(s);
}

/**
 * True when `recipient` has the shape of an age X25519 recipient (`age1` and 58 bech32
 * characters: {@link isAgeRecipient} accepts it) but does not decode, because its bech32 checksum
 * fails: a character was mistyped or lost in copying, and nothing can be encrypted to it
 * (wrapping a data key for it throws). False for every other text. Never throws.
 */
export function isMistypedAgeRecipient(recipient: string): boolean {
  return X25519_RECIPIENT.test(recipient) && parseX25519Recipient(recipient) === undefined;
}

/**
 * True when `recipient` is an age X25519 recipient that decodes (checksum and length right) to a
 * point of small order (the all-zero key, `age1qqqq…5cu47z`, and the few others, in any
 * spelling): no one holds its private key, X25519 with it gives all zeros, and age, sops and this
 * package refuse to encrypt to it. Such a key can only have been made up, e.g. written into an
 * access request by hand. False for every other text. Never throws.
 */
export function isSmallOrderAgeRecipient(recipient: string): boolean {
  if (!X25519_RECIPIENT.test(recipient)) return false;
  const key = parseX25519Recipient(recipient);
  return key !== undefined && isSmallOrderX25519(key);
}

/**
 * True for an `AGE-SECRET-KEY-1…` identity whose bech32 checksum fails (or that holds no 32-byte
 * key): a character was changed, added or lost in copying, and it can open nothing. False for every
 * other text (a post-quantum `AGE-SECRET-KEY-PQ-1…` included). Never throws.
 */
export function isMistypedAgeIdentity(identity: string): boolean {
  if (!isAgeIdentity(identity) || identity.startsWith("AGE-SECRET-KEY-PQ-")) return false;
  const d = bech32Decode(identity);
  return d === undefined || d.hrp !== "age-secret-key-" || d.bytes.length !== 32;
}

/**
 * True for any recipient this package can wrap a data key to: an age recipient
 * ({@link isAgeRecipient}) or an `ssh-ed25519 AAAA…` public key (comment allowed).
 */
export function isRecipient(s: string): boolean {
  return isAgeRecipient(s) || isSshEd25519Recipient(s);
}

/** True for an age identity line (`AGE-SECRET-KEY-1…` or `AGE-SECRET-KEY-PQ-1…`). */
export function isAgeIdentity(s: string): boolean {
  return /^AGE-SECRET-KEY-(PQ-)?1[02-9AC-HJ-NP-Z]+$/.test(s);
}

/** A new X25519 identity and its recipient. The identity must be stored by the caller (0600). */
export async function generateIdentity(): Promise<{ identity: string; recipient: string }> {
  return generateX25519();
}

/**
 * The public recipient of an identity: `age1…` for an age identity, `ssh-ed25519 AAAA…` for an
 * OpenSSH ed25519 private key text (as found by findIdentities).
 * @throws SopsError MALFORMED_FILE when it is not an identity; UNSUPPORTED for an SSH key we cannot use.
 */
export async function identityToRecipient(identity: string): Promise<string> {
  if (isOpenSshPrivateKey(identity)) return new SshEd25519Identity(identity).recipient;
  try {
    if (/^AGE-SECRET-KEY-1/.test(identity)) return new X25519Identity(identity).recipient;
    if (!/^AGE-SECRET-KEY-PQ-1/.test(identity)) throw new Error("not an age identity");
    return await (await loadTypage()).identityToRecipient(identity);
  } catch (cause) {
    if (cause instanceof SopsError) throw cause;
    throw new SopsError("MALFORMED_FILE", "not a valid age identity (expected AGE-SECRET-KEY-1…)", { cause });
  }
}

/** Wraps the data key for one recipient, as the armored text sops stores in `enc`. */
export async function wrapDataKey(dataKey: Uint8Array, recipient: string): Promise<string> {
  if (looksLikeSshPublicKey(recipient)) {
    // throws UNSUPPORTED for ssh-rsa and others
    return armorEncode(await encryptAge(dataKey, [new SshEd25519Recipient(recipient)]));
  }
  if (!isAgeRecipient(recipient)) {
    // Echo the text only when it looks like a public key: a private key pasted here must not be printed.
    const shown = /^age1[0-9a-z]*$/.test(recipient) ? `"${recipient.slice(0, 80)}"` : "a recipient (value not shown)";
    throw new SopsError("MALFORMED_FILE", `${shown} is not an age recipient (expected age1… or ssh-ed25519 AAAA…)`, {
      hint: "age public keys start with age1 (get yours with `age-keygen -y KEYFILE`); SSH keys are the line of ~/.ssh/id_ed25519.pub",
    });
  }
  if (isSmallOrderAgeRecipient(recipient)) {
    throw new SopsError("MALFORMED_FILE", `"${recipient}" is not a usable age public key: it is a point of small order, whose private key no one holds, so nothing can be encrypted to it`, {
      hint: "such a key was made up, not made by age-keygen: ask the member for the `# public key: age1...` line of their key file (`stellar-secrets whoami` prints it)",
    });
  }
  if (X25519_RECIPIENT.test(recipient)) return armorEncode(await encryptAge(dataKey, [new X25519Recipient(recipient)]));
  const { Encrypter, armor } = await loadTypage();
  const e = new Encrypter();
  e.addRecipient(recipient);
  return armor.encode(await e.encrypt(dataKey));
}

/**
 * The most recipient stanzas the age envelopes of one file may hold together. sops writes one
 * envelope of one stanza per recipient, so a real file holds as many as the environment has
 * members; each stanza costs an X25519 per identity tried, and the `age` list is not under the MAC,
 * so without a bound anyone who can write the file (no key needed) could pad it with tens of
 * thousands (about 50,000 fit in the 8 MiB a secrets file may have): every read would still succeed,
 * after about a minute per identity.
 */
export const MAX_AGE_STANZAS = 1024;

/**
 * The recipient stanzas the age envelopes of `stanzas` hold together (a malformed envelope counts
 * none: it opens for nobody).
 */
function countRecipientStanzas(stanzas: readonly AgeStanza[]): number {
  let count = 0;
  for (const stanza of stanzas) {
    try {
      count += parseHeader(armorDecode(stanza.enc)).stanzas.length;
    } catch {
      // an enc that is no armored age file, or a malformed header: decryptAge refuses it without trying any stanza
    }
  }
  return count;
}

/**
 * Refuses envelopes that hold more than {@link MAX_AGE_STANZAS} recipient stanzas together
 * (`stanzas` being every age entry a read may try: the top-level list, or every key group's).
 * @throws SopsError UNSUPPORTED
 */
export function assertAgeStanzaBound(stanzas: readonly AgeStanza[]): void {
  const count = countRecipientStanzas(stanzas);
  if (count > MAX_AGE_STANZAS) {
    throw new SopsError("UNSUPPORTED", `the file's ${stanzas.length} age entries hold ${count} recipient stanzas together; more than ${MAX_AGE_STANZAS} are not tried (sops writes one per recipient)`, {
      hint: "the age list was padded by hand (it is not under the MAC): restore the file from git (`git checkout -- FILE`), or have a member rewrite it for the members with `stellar-secrets rotate-key`",
    });
  }
}

/**
 * The payload of the first stanza any identity opens (every stanza × every identity; recipient
 * labels are not trusted to choose), of whatever length: the data key of a one-group file, a
 * Shamir share (`key-groups.ts`) of a key group's. Returns undefined when none opens. The caller
 * bounds the stanzas first ({@link assertAgeStanzaBound}).
 */
export async function unwrapAgePayload(stanzas: readonly AgeStanza[], identities: readonly string[]): Promise<Uint8Array | undefined> {
  if (identities.length === 0) return undefined;
  const native: Identity[] = [];
  const postQuantum: string[] = [];
  for (const id of identities) {
    try {
      if (isOpenSshPrivateKey(id)) native.push(new SshEd25519Identity(id));
      else if (/^AGE-SECRET-KEY-PQ-1/.test(id)) postQuantum.push(id);
      else native.push(new X25519Identity(id));
    } catch {
      // An unusable identity line is skipped; findIdentities already reported it.
    }
  }
  for (const stanza of stanzas) {
    let file: Uint8Array;
    try {
      file = armorDecode(stanza.enc);
    } catch {
      continue; // an enc that is no armored age file opens for nobody
    }
    let key: Uint8Array | undefined;
    try {
      key = await decryptAge(file, native);
    } catch {
      continue; // malformed, or a stanza for one of our keys that fails: this enc opens for nobody
    }
    if (key === undefined && postQuantum.length > 0) key = await unwrapPostQuantum(file, postQuantum);
    if (key !== undefined) return key;
  }
  return undefined;
}

/**
 * Unwraps the data key from the first stanza any identity opens (every stanza × every identity;
 * recipient labels are not trusted to choose). Returns undefined when none opens.
 * @throws SopsError UNSUPPORTED when the envelopes hold more than {@link MAX_AGE_STANZAS} recipient
 * stanzas together (nothing is tried); UNSUPPORTED when the stanza opened holds a Shamir share (33
 * bytes: it belongs in a key group of `sops.key_groups`, `key-groups.ts`) or anything but 32 bytes.
 */
export async function unwrapDataKey(stanzas: readonly AgeStanza[], identities: readonly string[]): Promise<Uint8Array | undefined> {
  if (identities.length === 0) return undefined;
  assertAgeStanzaBound(stanzas);
  const key = await unwrapAgePayload(stanzas, identities);
  if (key !== undefined && key.length !== 32) {
    throw new SopsError("UNSUPPORTED", "the age stanza holds a key share, not a 32-byte data key (a Shamir share belongs in a key group of sops.key_groups, not in the top-level age list)");
  }
  return key;
}

/** The data key through typage, for post-quantum identities; undefined when none opens the file. */
async function unwrapPostQuantum(file: Uint8Array, identities: readonly string[]): Promise<Uint8Array | undefined> {
  const { Decrypter } = await loadTypage();
  const d = new Decrypter();
  let added = 0;
  for (const id of identities) {
    try {
      d.addIdentity(id);
      added++;
    } catch {
      // skipped, as above
    }
  }
  if (added === 0) return undefined;
  try {
    return await d.decrypt(file);
  } catch {
    return undefined;
  }
}
