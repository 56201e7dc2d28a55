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
}

/**
 * The stanzas of `after` wrapped anew under labels that do not account for them, when the data
 * key did not change: under a label `before` had, any envelope `before` did not have (the label
 * stays, so who can decrypt it is unknown); under a new label, a second stanza. A stanza under a
 * new label on its own is an access change (`members add`), not a re-wrap. One per label, in
 * file order. Pure and keyless; the caller decides that the data key is the same.
 */
export function rewrapsOf(before: readonly { recipient: string; enc: string }[], after: readonly { recipient: string; enc: string }[]): Rewrap[] {
  const was = new Map<string, string[]>();
  for (const s of before) was.set(s.recipient, [...(was.get(s.recipient) ?? []), envelopeOf(s.enc)]);
  const now = new Map<string, string[]>();
  for (const s of after) now.set(s.recipient, [...(now.get(s.recipient) ?? []), envelopeOf(s.enc)]);
  const out: Rewrap[] = [];
  const seen = new Map<string, number>();
  for (const s of after) {
    const count = (seen.get(s.recipient) ?? 0) + 1;
    seen.set(s.recipient, count);
    if (out.some((r) => r.recipient === s.recipient)) continue;
    const old = was.get(s.recipient);
    if (old === undefined) {
      if (count > 1) out.push({ recipient: s.recipient, how: "duplicate", enc: s.enc });
      continue;
    }
    if (old.includes(envelopeOf(s.enc))) continue;
    const keptAll = old.every((e) => (now.get(s.recipient) ?? []).includes(e));
    out.push({ recipient: s.recipient, how: keptAll ? "added" : "replaced", enc: s.enc });
  }
  return out;
}
