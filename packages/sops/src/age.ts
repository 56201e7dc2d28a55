/**
 * age wrapping of the data key (spec §6): one armored age file per recipient, each holding the raw
 * 32-byte data key. Uses `age-encryption` (typage), the reference TypeScript implementation, with
 * our own `ssh-ed25519` recipient type (ssh.ts) plugged in.
 */
import { Decrypter, Encrypter, armor, generateX25519Identity, identityToRecipient as ageIdentityToRecipient } from "age-encryption";
import { SopsError } from "./errors.js";
import { SshEd25519Identity, SshEd25519Recipient, isOpenSshPrivateKey, isSshEd25519Recipient, looksLikeSshPublicKey } from "./ssh.js";
import type { AgeStanza } from "./types.js";

const X25519_RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;
const PQ_RECIPIENT = /^age1pq1[02-9ac-hj-np-z]+$/;

/** True for an age X25519 (`age1…`, 62 characters) or hybrid post-quantum (`age1pq1…`) recipient. */
export function isAgeRecipient(s: string): boolean {
  return X25519_RECIPIENT.test(s) || PQ_RECIPIENT.test(s);
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
  const identity = await generateX25519Identity();
  return { identity, recipient: await ageIdentityToRecipient(identity) };
}

/**
 * The public recipient of an identity: `age1…` for an age identity, `ssh-ed25519 AAAA…` for an
 * OpenSSH ed25519 private key text (as found by findIdentities).
 * @throws SopsError MALFORMED_FILE when it is not an identity; UNSUPPORTED for an SSH key we cannot use.
 */
export async function identityToRecipient(identity: string): Promise<string> {
  if (isOpenSshPrivateKey(identity)) return new SshEd25519Identity(identity).recipient;
  try {
    return await ageIdentityToRecipient(identity);
  } catch (cause) {
    throw new SopsError("MALFORMED_FILE", "not a valid age identity (expected AGE-SECRET-KEY-1…)", { cause });
  }
}

/** Wraps the data key for one recipient, as the armored text sops stores in `enc`. */
export async function wrapDataKey(dataKey: Uint8Array, recipient: string): Promise<string> {
  if (looksLikeSshPublicKey(recipient)) {
    const e = new Encrypter();
    e.addRecipient(new SshEd25519Recipient(recipient)); // throws UNSUPPORTED for ssh-rsa and others
    return armor.encode(await e.encrypt(dataKey));
  }
  if (!isAgeRecipient(recipient)) {
    // Echo the text only when it looks like a public key: a private key pasted here must not be printed.
    const shown = /^age1[0-9a-z]*$/.test(recipient) ? `"${recipient.slice(0, 80)}"` : "a recipient (value not shown)";
    throw new SopsError("MALFORMED_FILE", `${shown} is not an age recipient (expected age1… or ssh-ed25519 AAAA…)`, {
      hint: "age public keys start with age1 (get yours with `age-keygen -y KEYFILE`); SSH keys are the line of ~/.ssh/id_ed25519.pub",
    });
  }
  const e = new Encrypter();
  e.addRecipient(recipient);
  return armor.encode(await e.encrypt(dataKey));
}

/**
 * Unwraps the data key from the first stanza any identity opens (every stanza × every identity;
 * recipient labels are not trusted to choose). Returns undefined when none opens.
 */
export async function unwrapDataKey(stanzas: readonly AgeStanza[], identities: readonly string[]): Promise<Uint8Array | undefined> {
  if (identities.length === 0) return undefined;
  const d = new Decrypter();
  for (const id of identities) {
    try {
      d.addIdentity(isOpenSshPrivateKey(id) ? new SshEd25519Identity(id) : id);
    } catch {
      // An unusable identity line is skipped; findIdentities already reported it.
    }
  }
  for (const stanza of stanzas) {
    let file: Uint8Array;
    try {
      file = armor.decode(stanza.enc);
    } catch {
      continue;
    }
    try {
      const key = await d.decrypt(file);
      if (key.length !== 32) {
        throw new SopsError("UNSUPPORTED", "the age stanza holds a key share, not a 32-byte data key (Shamir key groups are not supported)");
      }
      return key;
    } catch (e) {
      if (e instanceof SopsError) throw e;
    }
  }
  return undefined;
}
