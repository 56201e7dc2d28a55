/**
 * A data key brought back from an earlier version of an environment file, seen without a key.
 * Ciphertext is bound to its data key: an age stanza's envelope wraps one data key, an `ENC[…]`
 * value or MAC opens under one data key only. So two versions that share any of them share the
 * data key. A head that shares nothing with the base (it looks like a rotation) but shares
 * ciphertext with a version older than the base, which the base itself no longer shares, uses a
 * data key the history had retired (a rotation, `members rm`): whoever could unwrap it then — a
 * member since removed — can read every value written under it from now on. Pure: no I/O.
 */
import { ciphertextIdentity, parseSecretsFile, timingSafeEqual, unwrapFileKey, type Identities, type SecretsFile } from "@stellar-secrets/sops";

/** One committed version of an environment file from the base's history (newest first). */
export interface EarlierVersion {
  /** The commit that holds it (full id). */
  commit: string;
  text: string;
}

/** What proves the head's data key is an earlier version's. */
export interface RetiredKey {
  /** The earlier version's commit. */
  commit: string;
  /** Which ciphertext the head and that version share. */
  proof: string;
  /** The earlier version's stanza labels that the head's file has no stanza for (labels prove nothing, but name who could read it then). */
  formerRecipients: string[];
}

const envelopeOf = (enc: string): string => enc.replace(/\s+/g, "");

function parse(text: string | null | undefined): SecretsFile | undefined {
  if (typeof text !== "string") return undefined;
  try {
    return parseSecretsFile(text);
  } catch {
    return undefined;
  }
}

/** The ciphertext that proves `a` and `b` share a data key, or undefined when they share none. */
export function sharedCiphertext(a: SecretsFile, b: SecretsFile): string | undefined {
  const values = new Map(b.entries.filter((e) => e.raw !== "").map((e) => [ciphertextIdentity(e.raw), e.name]));
  const value = a.entries.find((e) => e.raw !== "" && values.get(ciphertextIdentity(e.raw)) === e.name);
  if (value !== undefined) return `the encrypted value of ${value.name} is byte-for-byte the same`;
  if (a.metadata.mac !== "" && ciphertextIdentity(a.metadata.mac) === ciphertextIdentity(b.metadata.mac)) return "the encrypted MAC is byte-for-byte the same";
  const stanzas = new Set(b.metadata.age.map((s) => envelopeOf(s.enc)));
  const stanza = a.metadata.age.find((s) => stanzas.has(envelopeOf(s.enc)));
  if (stanza !== undefined) return `the wrapped data key labelled ${stanza.recipient} is byte-for-byte the same`;
  return undefined;
}

/**
 * The earlier version whose data key the head uses while the base does not, or undefined. Looks
 * only when the head shares no ciphertext with the base (`base` undefined: no file at the base),
 * and stops at the first (newest) earlier version that shares with the head: when that version
 * also shares with the base, its key is the base's and nothing was retired.
 */
export function retiredDataKey(headText: string, baseText: string | null | undefined, earlier: readonly EarlierVersion[]): RetiredKey | undefined {
  const head = parse(headText);
  if (head === undefined || earlier.length === 0) return undefined;
  const base = parse(baseText);
  if (base !== undefined && sharedCiphertext(head, base) !== undefined) return undefined;
  for (const version of earlier) {
    const old = parse(version.text);
    if (old === undefined) continue;
    const proof = sharedCiphertext(head, old);
    if (proof === undefined) continue;
    if (base !== undefined && sharedCiphertext(base, old) !== undefined) return undefined;
    const now = new Set(head.metadata.age.map((s) => s.recipient.trim()));
    return { commit: version.commit, proof, formerRecipients: [...new Set(old.metadata.age.map((s) => s.recipient.trim()).filter((r) => !now.has(r)))] };
  }
  return undefined;
}

/** At most this many earlier data keys are unwrapped by {@link retiredKeyProvenWith}. */
const MAX_UNWRAPS = 32;

/**
 * With a key (`review --verify`): the commit of the newest earlier version whose data key is the
 * head's while it is not the base's (`baseKey` undefined: no base file), or undefined. This catches
 * what the keyless {@link retiredDataKey} cannot: a file written afresh under a retired data key by
 * someone who still knows it (a removed member), sharing no ciphertext with any version. Versions
 * the identities cannot open are skipped; versions that share ciphertext with one already opened
 * have its key and are not opened again; at most {@link MAX_UNWRAPS} are opened. Never throws for a
 * version it cannot read.
 */
export async function retiredKeyProvenWith(
  headKey: Uint8Array,
  baseKey: Uint8Array | undefined,
  earlier: readonly EarlierVersion[],
  identities: Identities | readonly string[],
): Promise<string | undefined> {
  const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && timingSafeEqual(a, b);
  if (baseKey !== undefined && same(headKey, baseKey)) return undefined;
  let opened: SecretsFile | undefined;
  let unwraps = 0;
  for (const version of earlier) {
    const file = parse(version.text);
    if (file === undefined || file.metadata.age.length === 0) continue;
    if (opened !== undefined && sharedCiphertext(file, opened) !== undefined) continue;
    if (unwraps++ >= MAX_UNWRAPS) break;
    let key: Uint8Array;
    try {
      key = await unwrapFileKey(file, identities);
    } catch {
      continue;
    }
    opened = file;
    if (same(key, headKey)) return version.commit;
  }
  return undefined;
}

/** A committed version of an environment file that a review compares the head with, wherever it was. */
export interface PathVersion {
  /** The commit that holds it (full id). */
  commit: string;
  /** Its path, relative to the project root. */
  path: string;
  text: string;
}

/** The head's data key, wrapped by another version for keys the head has no stanza for. */
export interface KeyLeftBehind {
  /** The first such version (in the order given). */
  version: PathVersion;
  /** Which ciphertext that version and the head share. */
  proof: string;
  /** The labels of the stanzas no longer there (labels prove nothing; they name who it claimed to be for), over every such version. */
  labels: string[];
  /** How many versions wrapped it so. */
  versions: number;
}

/**
 * The versions of `versions` that share the head's data key (a value ciphertext under the same
 * name or a wrapped key, not the MAC, which can be pasted: see {@link sharedCiphertext}) and hold an age stanza whose
 * envelope is neither the head's nor one of `known` (the base's own version of the file, whose
 * dropped stanzas the base-to-head comparison judges, and the versions of the base's history,
 * whose stanzas gave nothing that the base's history had not given already): whoever such a stanza was wrapped for
 * unwrapped the data key the head still uses. E.g. a member added in one commit of a pull request
 * and taken out again by a revert (the file is the base's byte for byte), or an environment renamed
 * with a member's stanza cut out of its moved file. Undefined when none. Pure.
 */
export function keyLeftBehind(headText: string, known: readonly (string | null | undefined)[], versions: readonly PathVersion[]): KeyLeftBehind | undefined {
  const head = parse(headText);
  if (head === undefined) return undefined;
  const headNoMac: SecretsFile = { ...head, metadata: { ...head.metadata, mac: "" } };
  const kept = new Set(head.metadata.age.map((s) => envelopeOf(s.enc)));
  for (const text of known) for (const s of parse(text)?.metadata.age ?? []) kept.add(envelopeOf(s.enc));
  let found: KeyLeftBehind | undefined;
  const seen = new Set<string>();
  for (const version of versions) {
    if (version.text === headText || seen.has(version.text)) continue;
    seen.add(version.text);
    const old = parse(version.text);
    if (old === undefined) continue;
    const gone = old.metadata.age.filter((s) => !kept.has(envelopeOf(s.enc)));
    if (gone.length === 0) continue;
    // a value ciphertext or a wrapped key, not the MAC: a MAC pasted from another file proves no key (that is stale-mac)
    const proof = sharedCiphertext(headNoMac, { ...old, metadata: { ...old.metadata, mac: "" } });
    if (proof === undefined) continue;
    const labels = gone.map((s) => s.recipient.trim());
    if (found === undefined) found = { version, proof, labels: [], versions: 0 };
    found.versions++;
    for (const l of labels) if (!found.labels.includes(l)) found.labels.push(l);
  }
  return found;
}
