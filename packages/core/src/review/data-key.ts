/**
 * What the files themselves prove about a data key, without a key: the same data key on both
 * sides of a change ({@link sameDataKeyProof}), and the age stanzas a change wrapped anew under
 * it ({@link rewrapsOf}). Pure.
 */
import { readKeyGroups, type SecretsFile } from "@stellar-secrets/sops";

/** The age stanzas of a file's key groups, in group order (none without key groups, or when the readers refuse them). */
export function groupStanzas(file: SecretsFile): { recipient: string; enc: string }[] {
  try {
    return (readKeyGroups(file.metadata)?.groups ?? []).flatMap((g) => g.age);
  } catch {
    return [];
  }
}

/**
 * Every age stanza of a file: its top-level ones, then its key groups' tagged with their group
 * (1-based, in group order). A key group's stanza wraps that group's share of the data key (the key
 * itself with one group), so two stanzas are compared only within the same group. Key groups the
 * readers refuse add none.
 */
export function stanzasOf(file: SecretsFile): GroupedStanza[] {
  const top = file.metadata.age.map((a) => ({ recipient: a.recipient.trim(), enc: a.enc }));
  let groups: { recipient: string; enc: string }[][] = [];
  try {
    groups = (readKeyGroups(file.metadata)?.groups ?? []).map((g) => g.age);
  } catch {
    groups = [];
  }
  return [...top, ...groups.flatMap((g, i) => g.map((st) => ({ recipient: st.recipient.trim(), enc: st.enc, group: i + 1 })))];
}

/** An age stanza; `group`: the 1-based key group it is in (absent: a top-level stanza). */
export interface GroupedStanza {
  recipient: string;
  enc: string;
  group?: number;
}

/** An envelope's text without its line breaks and indentation (a YAML re-indent is not a new wrapping). */
export const envelopeOf = (enc: string): string => enc.replace(/\s+/g, "");

/**
 * What proves, without a key, that `after` uses the same data key as `before` (undefined when
 * nothing does): a value whose encrypted string is byte-for-byte the same (only that data key
 * decrypts it), the same encrypted MAC, or a recipient whose wrapped data key is the same.
 * Both sides must be valid SOPS files.
 */
export function sameDataKeyProof(
  before: { values: ReadonlyMap<string, string>; stanzas: readonly { recipient: string; enc: string }[]; mac: string },
  after: { values: ReadonlyMap<string, string>; stanzas: readonly { recipient: string; enc: string }[]; mac: string },
  nameOf: (recipient: string) => string | undefined = () => undefined,
): string | undefined {
  const same = [...after.values].filter(([n, v]) => v.startsWith("ENC[") && before.values.get(n) === v).map(([n]) => n);
  if (same.length > 0) return `the encrypted value of ${same[0]}${same.length > 1 ? ` (and ${same.length - 1} more)` : ""} is byte-for-byte the same`;
  if (after.mac !== "" && after.mac === before.mac) return "the encrypted MAC is byte-for-byte the same";
  const kept = after.stanzas.find((s) => before.stanzas.some((b) => b.recipient === s.recipient && envelopeOf(b.enc) === envelopeOf(s.enc)));
  if (kept !== undefined) return `${nameOf(kept.recipient) ?? kept.recipient}'s wrapped data key is unchanged`;
  return undefined;
}

/** An age stanza that a change wrapped anew while the data key stayed the same. */
export interface Rewrap {
  /** The `recipient` label of the stanza (which proves nothing). */
  recipient: string;
  /**
   * `replaced`: the label's wrapped key changed; `added`: another stanza appeared under a label
   * that already had one; `duplicate`: a label new in this change appears more than once.
   */
  how: "replaced" | "added" | "duplicate";
  /** The new stanza's armored envelope (to locate it in the file). */
  enc: string;
  /** The 1-based sops key group the stanza is in (absent: a top-level stanza): it wraps that group's share of the data key. */
  group?: number;
  /**
   * Set by `review --verify` only ({@link rewrapsOpenedWith}): the public key of the reviewer's own
   * key that opened this stanza, each of the reviewer's keys tried on it alone. Absent when none did.
   */
  openedWith?: string;
}

/**
 * The stanzas of `after` wrapped anew under labels that do not account for them, when the data
 * key did not change: under a label `before` had, any envelope `before` did not have (the label
 * stays, so who can decrypt it is unknown); under a new label, a second stanza. A stanza under a
 * new label on its own is an access change (`members add`), not a re-wrap. A key group's stanza
 * is compared with the same group's only (its label in another group wraps another share). One
 * per label and group, in file order. Pure and keyless; the caller decides that the data key is
 * the same.
 */
export function rewrapsOf(before: readonly GroupedStanza[], after: readonly GroupedStanza[]): Rewrap[] {
  const keyOf = (s: GroupedStanza): string => `${s.group ?? 0}\u0000${s.recipient}`;
  const was = new Map<string, string[]>();
  for (const s of before) was.set(keyOf(s), [...(was.get(keyOf(s)) ?? []), envelopeOf(s.enc)]);
  const now = new Map<string, string[]>();
  for (const s of after) now.set(keyOf(s), [...(now.get(keyOf(s)) ?? []), envelopeOf(s.enc)]);
  const out: Rewrap[] = [];
  const seen = new Map<string, number>();
  const reported = new Set<string>();
  for (const s of after) {
    const key = keyOf(s);
    const count = (seen.get(key) ?? 0) + 1;
    seen.set(key, count);
    if (reported.has(key)) continue;
    const where = s.group === undefined ? {} : { group: s.group };
    const old = was.get(key);
    if (old === undefined) {
      if (count > 1) {
        reported.add(key);
        out.push({ recipient: s.recipient, how: "duplicate", enc: s.enc, ...where });
      }
      continue;
    }
    if (old.includes(envelopeOf(s.enc))) continue;
    const keptAll = old.every((e) => (now.get(key) ?? []).includes(e));
    reported.add(key);
    out.push({ recipient: s.recipient, how: keptAll ? "added" : "replaced", enc: s.enc, ...where });
  }
  return out;
}
