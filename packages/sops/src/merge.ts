/**
 * The three-way merge of a flat secrets file, per name, for git's merge driver: decrypted base,
 * ours and theirs in, one valid SOPS text out (fresh MAC, stable ciphertext), plus the names that
 * changed differently on both sides. Pure apart from the random IVs of re-encrypted values.
 */
import { encryptWithKey, encryptWithNewKey, parseSecretsFile, refuseForeignKeys, sameBytes, writtenVersion } from "./secrets-file.js";
import type { AgeStanza, DecryptedSecrets } from "./types.js";
import type { LineBreak } from "./position.js";
import { carriedComments, mergeComments, type CarriedComments } from "./comments.js";
import { isSmallOrderX25519, parseX25519Recipient } from "./age-native.js";
import { SshEd25519Recipient, isSshEd25519Recipient, parseSshEd25519PublicKey } from "./ssh.js";

/** One version of the file: its exact text and its verified decryption. */
export interface MergeSide {
  text: string;
  secrets: DecryptedSecrets;
}

/** The versions git gives a merge driver (%O %A %B). */
export interface MergeInput {
  /** The common ancestor; undefined when the file did not exist there (added on both sides). */
  base: MergeSide | undefined;
  ours: MergeSide;
  theirs: MergeSide;
  /** The clock for `lastmodified` (default: now). */
  now?: Date;
  /**
   * For git's virtual merge base (the inner merge of two merge bases in a criss-cross merge,
   * `merge-file --virtual-base`): the value every conflicting name gets instead of ours' state. It
   * must be a value no version holds (the driver makes a random one): the outer merge then sees
   * both sides changed the name and reports it, as git's text merge does with the conflict markers
   * it leaves in a virtual base. The names are in `conflicts` all the same.
   */
  conflictValue?: string;
  /**
   * The common ancestor exists but could not be made: git's virtual merge base of a criss-cross
   * merge that `merge-file --virtual-base` could not merge (see {@link VIRTUAL_BASE_UNMERGED}).
   * `base` is then undefined, and a name that only one side holds is a conflict (one side may have
   * added it, or the other removed it: which is unknown), never taken silently. Names both sides
   * hold are merged as for a file added on both sides.
   */
  baseUnknown?: boolean;
  /**
   * Whether a recipient is a member of the file's environment (the merge driver asks both sides'
   * stellar.yaml). When set, {@link mergeSecretsGuarded}'s set merge of the recipients under a new
   * data key wraps it for no recipient a side added that is not a member: that stays a recipients
   * conflict. A label proves nothing, and the side that added it may not even know the data key
   * (its stanza can wrap anything): wrapping a new key for it would make real an access that side
   * could not give, for a key no one made a member. Under the kept key nothing is wrapped (the
   * side's stanza is carried, giving only what its writer could give), so this is not asked. The
   * same holds when their side rotated and our values go under a new key for their side's
   * recipients: one their side added that is not a member makes it a recipients conflict. Not asked
   * for git's virtual merge base ({@link MergeInput.conflictValue} set): nothing of it is committed,
   * and the merge bases' members are not the ones a driver can read (its tips' stellar.yaml).
   */
  isMember?: (recipient: string) => boolean;
}

/**
 * The text `merge-file --virtual-base` writes as git's virtual merge base when the two merge bases
 * could not be merged (no key, recipients that cannot be merged as a set, a version that cannot be read): the
 * outer merge reads it as {@link MergeInput.baseUnknown}. A comment line only: no sops file reads as it.
 */
export const VIRTUAL_BASE_UNMERGED = "# stellar-secrets: virtual merge base of a criss-cross merge; the merge bases could not be merged\n";

/** Which side(s) made a change to the recipients. */
export type RecipientChangeBy = "ours" | "theirs" | "both";

/**
 * The X25519 point a recipient's key is (the Montgomery u coordinate, reduced, as hex), whatever
 * its spelling: an `age1…` key with bit 255 set (X25519 ignores it) or u ≥ p is the same key as its
 * canonical form, and an `ssh-ed25519` key is the same key as the `age1…` form of its Montgomery
 * point (what `ssh-to-age` makes; the ssh private key opens it with age itself), and as the
 * Ed25519 key with the sign of x flipped. Undefined for a recipient that is no such key.
 */
function keyPoint(recipient: string): string | undefined {
  let u: Uint8Array | undefined;
  if (recipient.startsWith("age1")) u = parseX25519Recipient(recipient);
  else if (isSshEd25519Recipient(recipient)) u = parseSshEd25519PublicKey(recipient).montgomery;
  if (u === undefined || u.length !== 32) return undefined;
  let n = 0n;
  for (let i = 31; i >= 0; i--) n = (n << 8n) | BigInt(i === 31 ? u[i]! & 0x7f : u[i]!);
  const p = 2n ** 255n - 19n;
  return (n % p).toString(16);
}

/**
 * A recipient of the merged set whose key one side removed, written another way by the other side
 * (see {@link keyPoint}): the base has the key, a side holds no spelling of it, and the result
 * still would. A reason, or undefined.
 */
function removedKeyBack(base: readonly string[], ours: readonly string[], theirs: readonly string[], result: readonly string[]): string | undefined {
  const points = (list: readonly string[]): Map<string, string> => {
    const m = new Map<string, string>();
    for (const r of list) {
      const k = keyPoint(r);
      if (k !== undefined && !m.has(k)) m.set(k, r);
    }
    return m;
  };
  const b = points(base);
  const o = points(ours);
  const t = points(theirs);
  for (const r of result) {
    const k = keyPoint(r);
    if (k === undefined || !b.has(k) || (o.has(k) && t.has(k))) continue;
    const remover = !o.has(k) && !t.has(k) ? "both sides" : !o.has(k) ? "our side" : "their side";
    return (
      `${shownRecipient(r)} is the same key as ${shownRecipient(b.get(k)!)}, which ${remover} removed, written another way ` +
      "(the age1… form of an ssh-ed25519 key, as ssh-to-age makes it, or another encoding of the same X25519 key): merged as a set it would give the removed key a stanza again; " +
      "take it out of stellar.yaml too before anyone runs rotate-key (which wraps for every member there)"
    );
  }
  return undefined;
}

/**
 * The three-way set merge of the recipients that {@link mergeSecretsGuarded} made (the same rule as
 * the `.sops.yaml` merge of a creation rule's recipients): a recipient either side added is in, one
 * either side removed is out, one both kept is in.
 */
export interface RecipientsUnion {
  /** The result's recipients (normalised public keys): the base's that stay, in its order, then ours' additions, then theirs'. */
  recipients: string[];
  /** Recipients the base did not have, with the side(s) that added each. */
  added: { recipient: string; by: RecipientChangeBy }[];
  /** The base's recipients that are not in the result, with the side(s) that removed each. */
  removed: { recipient: string; by: RecipientChangeBy }[];
  /** The sides whose data key differs from the base's (`rotate-key`, `sops rotate`). */
  rotated: ("ours" | "theirs")[];
  /**
   * `kept`: nobody was removed and neither side rotated, so the result keeps the base's data key,
   * our side's stanzas verbatim for the recipients the base had (both sides kept them), and for each
   * added recipient the stanza of the side that added it, verbatim (ours' when both did). `new`: the
   * result is under a new random data key wrapped afresh for every recipient's public key (as
   * `rotate-key`), so no removed member, no stanza a side carried under a label, and no key the
   * other side's writer chose can open it.
   *
   * Why an added recipient's stanza is carried, not wrapped afresh, under the kept key: the stanza
   * wraps the very data key the result keeps, so whoever it was made for (labels prove nothing)
   * already holds that key from the adding side's commit, and a fresh stanza would take nothing
   * back; but a keyless review of the merge (`review main..HEAD`) must report a stanza wrapped anew
   * under an unrotated data key, and one a commit of the range holds that the head lacks, as a
   * possible grant to someone else (`rewrapped-without-rotation`, `unrotated-removal`): with the
   * stanzas carried, every stanza of the result is one a version already had.
   */
  dataKey: "kept" | "new";
}

/** How one side changed a name relative to the base. */
export type NameChange = "added" | "changed" | "removed";

/** A name changed differently on both sides. The result keeps ours' state of it (or `conflictValue`). */
export interface NameConflict {
  name: string;
  ours: NameChange;
  theirs: NameChange;
  /**
   * Only when one side removed the name while the other changed it: the names the removing side
   * added holding the base's value of it (a rename: set under the new name, removed under the
   * old). The other side's change is in none of them: resolving the removal keeps the old value
   * under the new name (a rotated credential's revoked value).
   */
  renamedTo?: string[];
}

/** What {@link mergeSecrets} decided. */
export interface MergeResult {
  /**
   * The merged file: a valid SOPS file with a fresh MAC. Ours' text verbatim when the merge
   * changes nothing for ours (and whenever the recipients conflict), theirs' verbatim when the
   * result is exactly theirs.
   */
  text: string;
  /** The data key `text` is encrypted with (keep in memory only). */
  dataKey: Uint8Array;
  /** Names changed differently on both sides (ours' value kept for each), in result order. */
  conflicts: NameConflict[];
  /**
   * True when both sides changed the recipients (or the data key) differently and the change could
   * not be merged: nothing is merged then, `text` is ours unchanged, since any choice could give a
   * removed member the other side's values. {@link mergeSecrets} reports every such change so;
   * {@link mergeSecretsGuarded} merges the recipients as a set ({@link MergeResult.recipientsMerged})
   * and reports only what it cannot prove safe ({@link MergeResult.recipientsConflictReason}).
   */
  recipientsConflict: boolean;
  /**
   * With `recipientsConflict`: why the recipients could not be merged, in words (no value, no
   * recipient text that is not a well-formed public key). Absent otherwise.
   */
  recipientsConflictReason?: string;
  /**
   * Set when both sides changed the recipients (or one rotated and the other changed the
   * recipients) and {@link mergeSecretsGuarded} merged them as a set. Absent otherwise.
   */
  recipientsMerged?: RecipientsUnion;
  /** Whose data key and recipient stanzas the result uses ("ours", nominally, when {@link MergeResult.recipientsMerged} is set: see its `dataKey`). */
  keyFrom: "ours" | "theirs";
  /** Names whose value had to be encrypted again (moved under the other side's data key). */
  reencrypted: string[];
}

function recipientSet(s: DecryptedSecrets): Set<string> {
  return new Set(s.file.recipients.map((r) => r.trim()));
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

function sameValues(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  const y = [...b];
  let i = 0;
  for (const [k, v] of a) {
    const [k2, v2] = y[i++]!;
    if (k !== k2 || v !== v2) return false;
  }
  return true;
}

function sameStanzas(a: readonly AgeStanza[], b: readonly AgeStanza[]): boolean {
  return a.length === b.length && a.every((s, i) => s.recipient === b[i]!.recipient && s.enc === b[i]!.enc);
}

/** The comments of a side's text (read from the text itself: it is what git handed the driver). */
function commentsOfSide(side: MergeSide): CarriedComments {
  if (!side.text.includes("#")) return carriedComments({ ...side.secrets, file: { ...side.secrets.file, comments: undefined } });
  return carriedComments({ ...side.secrets, file: parseSecretsFile(side.text) });
}

/** Each comment slot of the result: ours, unless only their side changed it (see `mergeComments`). */
function mergedComments(input: MergeInput): CarriedComments {
  return mergeComments(input.base !== undefined ? commentsOfSide(input.base) : undefined, commentsOfSide(input.ours), commentsOfSide(input.theirs));
}

function changeOf(base: string | undefined, side: string | undefined): NameChange {
  return base === undefined ? "added" : side === undefined ? "removed" : "changed";
}

/**
 * Whose data key and stanzas the result takes. A side "rotated" when its data key differs from the
 * base's; it "re-keyed" when its recipients differ from the base's. The side that did either wins;
 * when both did and agree on the recipients, the result takes ours' (or the one rotated side's);
 * when they disagree it is a "union" (the recipients merged as a set, see {@link unionOf}), or a
 * conflict when there is no base to merge against.
 */
function chooseKey(base: DecryptedSecrets | undefined, ours: DecryptedSecrets, theirs: DecryptedSecrets): "ours" | "theirs" | "union" | "conflict" {
  const oursRecipients = recipientSet(ours);
  const theirsRecipients = recipientSet(theirs);
  if (base === undefined) return sameSet(oursRecipients, theirsRecipients) ? "ours" : "conflict";
  const baseRecipients = recipientSet(base);
  const oursMoved = !sameBytes(ours.dataKey, base.dataKey) || !sameSet(oursRecipients, baseRecipients);
  const theirsMoved = !sameBytes(theirs.dataKey, base.dataKey) || !sameSet(theirsRecipients, baseRecipients);
  if (!theirsMoved) return "ours";
  if (!oursMoved) return "theirs";
  // both moved to different recipients: merged as a set by mergeSecretsGuarded (see unionOf)
  if (!sameSet(oursRecipients, theirsRecipients)) return "union";
  // both rotated or re-keyed to the same recipients: if only one rotated, its key is the one the
  // removed recipients (if any) never had
  const oursRotated = !sameBytes(ours.dataKey, base.dataKey);
  const theirsRotated = !sameBytes(theirs.dataKey, base.dataKey);
  return theirsRotated && !oursRotated ? "theirs" : "ours";
}

/**
 * Merges three verified versions of one environment file per name: a name added, changed or
 * removed on one side only is taken from that side; the same change on both sides is taken once;
 * different changes to one name are a conflict (ours' state is kept and the name is reported).
 *
 * The result uses the data key and the recipient stanzas (verbatim) of the side that rotated the
 * key or changed the recipients (`rotate-key`, `members add/rm`); values from the other side are
 * encrypted again under it, so a member removed on one side never regains access through the
 * merge. When both sides changed the recipients differently, nothing is merged here
 * (`recipientsConflict`, ours' text returned): merging them needs the data key wrapped afresh,
 * which {@link mergeSecretsGuarded} does. Every value that did not need re-encrypting keeps
 * its exact ENC string (from any version under the result's data key).
 *
 * Names: ours' order, then names that only theirs has, in theirs' order.
 * @throws SopsError UNSUPPORTED for files with non-age master keys or JSON files; INVALID_NAME for a
 *   name the format cannot hold (never for names already in the versions).
 */
export function mergeSecrets(input: MergeInput): MergeResult {
  const plan = planMerge(input, false);
  return "recipientsConflict" in plan ? plan.recipientsConflict : writeMerge(input, plan);
}

/** What the merge of {@link MergeInput} decided, before anything is encrypted. */
interface MergePlan {
  /** The merged values, in result order. */
  merged: Map<string, string>;
  conflicts: NameConflict[];
  keyFrom: "ours" | "theirs";
  /** Names whose value is under no ENC string of the result's data key (see {@link MergeResult.reencrypted}). */
  reencrypted: string[];
  /** Both sides changed the recipients differently and they are merged as a set (then `keyFrom` is nominal: ours). */
  union?: RecipientsUnion;
}

/** The recipients conflict result: ours' text, nothing merged. */
function recipientsConflictOf(ours: MergeSide, reason?: string): { recipientsConflict: MergeResult } {
  return {
    recipientsConflict: {
      text: ours.text,
      dataKey: ours.secrets.dataKey,
      conflicts: [],
      recipientsConflict: true,
      ...(reason !== undefined ? { recipientsConflictReason: reason } : {}),
      keyFrom: "ours",
      reencrypted: [],
    },
  };
}

/**
 * True for a recipient the merge writes a stanza for (wrapped afresh, or carried from the side that
 * added it): an age X25519 recipient (`age1…`) that decodes and is no point of small order
 * (nothing can be encrypted to one), or an `ssh-ed25519` public key that parses. Post-quantum keys are not merged as a set (their wrapping needs an optional package).
 */
function wrappable(recipient: string): boolean {
  if (/^age1[02-9ac-hj-np-z]{58}$/.test(recipient)) {
    const key = parseX25519Recipient(recipient);
    return key !== undefined && !isSmallOrderX25519(key);
  }
  if (!isSshEd25519Recipient(recipient)) return false;
  try {
    new SshEd25519Recipient(recipient);
    return true;
  } catch {
    return false;
  }
}

/** A recipient as a message may show it: an `age1…`/`ssh-ed25519 …` text shortened, anything else not at all (a private key pasted as a label must never be printed). */
function shownRecipient(recipient: string): string {
  if (/^age1[0-9a-z]*$/.test(recipient)) return `"${recipient.length > 80 ? `${recipient.slice(0, 80)}…` : recipient}"`;
  if (/^ssh-[a-z0-9-]+ [A-Za-z0-9+/=]+$/.test(recipient)) return `"${recipient.slice(0, 40)}…"`;
  return "a recipient (text not shown)";
}

/**
 * The three-way set merge of the recipients (a recipient added by either side is in, one removed
 * by either is out, one both kept is in) and whether the base's data key can stay: only when
 * nobody was removed and neither side rotated. A reason (a string) when the merge cannot be proved
 * safe: a recipient to carry or wrap a stanza for that is no well-formed age X25519 or ssh-ed25519 public key, or no
 * recipient left.
 */
function unionOf(base: DecryptedSecrets, ours: DecryptedSecrets, theirs: DecryptedSecrets, isMember?: (recipient: string) => boolean): RecipientsUnion | string {
  const b = base.file.recipients;
  const o = new Set(ours.file.recipients);
  const t = new Set(theirs.file.recipients);
  const baseSet = new Set(b);
  const by = (inOurs: boolean, inTheirs: boolean): RecipientChangeBy => (inOurs && inTheirs ? "both" : inOurs ? "ours" : "theirs");
  const removed = [...baseSet].filter((r) => !o.has(r) || !t.has(r)).map((recipient) => ({ recipient, by: by(!o.has(recipient), !t.has(recipient)) }));
  const added: { recipient: string; by: RecipientChangeBy }[] = [];
  for (const r of [...o, ...t]) {
    if (!baseSet.has(r) && !added.some((a) => a.recipient === r)) added.push({ recipient: r, by: by(o.has(r), t.has(r)) });
  }
  const recipients = [...[...baseSet].filter((r) => o.has(r) && t.has(r)), ...added.map((a) => a.recipient)];
  const rotated = (
    [
      ["ours", ours],
      ["theirs", theirs],
    ] as const
  )
    .filter(([, side]) => !sameBytes(side.dataKey, base.dataKey))
    .map(([name]) => name);
  const dataKey = removed.length === 0 && rotated.length === 0 ? "kept" : "new";
  if (recipients.length === 0) return "no recipient would be left (each side removed the ones the other kept)";
  // "removed by either: out" holds for the key, not only for the text a side spelled it with
  const back = removedKeyBack(b, ours.file.recipients, theirs.file.recipients, recipients);
  if (back !== undefined) return back;
  // every recipient this merge writes a stanza for must be a key: under a new data key all (wrapped
  // afresh), under the base's the added ones (a side's label that is no key is no member: never carried)
  const toWrap = dataKey === "kept" ? added.map((a) => a.recipient) : recipients;
  const bad = toWrap.find((r) => !wrappable(r));
  if (bad !== undefined) {
    const adder = added.find((a) => a.recipient === bad)?.by;
    const where = adder === undefined ? "in the base" : `added by ${adder === "both" ? "both sides" : adder === "ours" ? "our side" : "their side"}`;
    return `${shownRecipient(bad)} (${where}) is not a valid age X25519 (age1…) or ssh-ed25519 public key, so it cannot be a member: the merge neither carries nor wraps a stanza for it`;
  }
  // a new data key is wrapped for members only: a side's label for anyone else may be a stanza its
  // writer could not make real (no key of the file), and the merge must not make it real for them
  const outsider = dataKey === "new" && isMember !== undefined ? added.find((a) => !isMember(a.recipient)) : undefined;
  if (outsider !== undefined) {
    const where = outsider.by === "both" ? "both sides" : outsider.by === "ours" ? "our side" : "their side";
    return (
      `${shownRecipient(outsider.recipient)} (added by ${where}) is no member of the environment in our side's or their side's stellar.yaml, ` +
      "and the merge would wrap a new data key for it (a member was removed or a side rotated): a label proves nothing, so the merge wraps a new key for members only"
    );
  }
  return { recipients, added, removed, rotated, dataKey };
}

/**
 * True when the versions use sops key groups (Shamir) that a merge keeps as they are: ours and
 * theirs (and the base, when there is one) have the same data key and the same `key_groups`,
 * `shamir_threshold` and other metadata, and ours' `sops:` block can be kept in place
 * ({@link SecretsFile.keptMetadata}). Such a merge only merges values, as for a one-group file
 * whose recipients did not change; any other key-groups merge (a side re-split the key, changed
 * a group, or rotated) is refused by {@link refuseForeignKeys}: a whole-file conflict.
 */
function sameKeyGroups(base: DecryptedSecrets | undefined, ours: DecryptedSecrets, theirs: DecryptedSecrets): boolean {
  const groups = ours.file.metadata.other.key_groups;
  if (!Array.isArray(groups) || groups.length === 0 || ours.file.keptMetadata === undefined) return false;
  const same = (v: DecryptedSecrets) => sameBytes(v.dataKey, ours.dataKey) && v.file.metadata.age.length === 0 && JSON.stringify(v.file.metadata.other) === JSON.stringify(ours.file.metadata.other);
  return same(theirs) && (base === undefined || same(base));
}

/**
 * {@link mergeSecrets}' decisions per name and of the data key; a recipients conflict is its result
 * already (ours' text). With `union`, recipients both sides changed differently are merged as a set
 * ({@link unionOf}) instead of conflicting, when there is a base.
 */
function planMerge(input: MergeInput, union: boolean): MergePlan | { recipientsConflict: MergeResult } {
  const { ours, theirs } = input;
  const base = input.base?.secrets;
  const o = ours.secrets;
  const t = theirs.secrets;
  if (!sameKeyGroups(base, o, t)) {
    refuseForeignKeys(o);
    refuseForeignKeys(t);
  }
  const keyChoice = chooseKey(base, o, t);
  if (keyChoice === "conflict") {
    return recipientsConflictOf(ours, union ? "there is no common base version to merge the recipients against" : undefined);
  }
  let recipientsUnion: RecipientsUnion | undefined;
  if (keyChoice === "union") {
    if (!union || base === undefined) return recipientsConflictOf(ours);
    refuseForeignKeys(base);
    // not for git's virtual merge base (`conflictValue`): it is never committed, its new data key
    // gives no one anything, and the stellar.yaml the driver reads is the outer merge's sides', not
    // the merge bases': a member of a base whom both tips removed since would make the inner merge
    // fail, and the outer merge then had no base at all (a whole-file conflict, team simulation seed 12)
    const u = unionOf(base, o, t, input.conflictValue === undefined ? input.isMember : undefined);
    if (typeof u === "string") return recipientsConflictOf(ours, u);
    recipientsUnion = u;
  }
  const merged = new Map<string, string>();
  const conflicts: NameConflict[] = [];
  const baseValues = base?.values ?? new Map<string, string>();
  const decide = (name: string): void => {
    const b = baseValues.get(name);
    const ov = o.values.get(name);
    const tv = t.values.get(name);
    let v: string | undefined;
    if (ov === tv) v = ov;
    else if (input.baseUnknown === true && b === undefined && (ov === undefined || tv === undefined)) {
      // the base is unknown: "only one side holds it" may be the other side's removal
      v = ov;
      conflicts.push({ name, ours: ov === undefined ? "removed" : "added", theirs: tv === undefined ? "removed" : "added" });
    } else if (tv === b) v = ov;
    else if (ov === b) v = tv;
    else {
      v = input.conflictValue ?? ov;
      const conflict: NameConflict = { name, ours: changeOf(b, ov), theirs: changeOf(b, tv) };
      // a rename on the removing side: new names that hold the base's value (compared in memory, never shown)
      const remover = ov === undefined && tv !== undefined ? o : tv === undefined && ov !== undefined ? t : undefined;
      if (remover !== undefined && b !== undefined && b !== "") {
        const renamedTo = [...remover.values].filter(([n, v]) => v === b && !baseValues.has(n)).map(([n]) => n);
        if (renamedTo.length > 0) conflict.renamedTo = renamedTo;
      }
      conflicts.push(conflict);
    }
    if (v !== undefined) merged.set(name, v);
  };
  for (const name of o.values.keys()) decide(name);
  for (const name of t.values.keys()) if (!o.values.has(name)) decide(name);

  if (recipientsUnion !== undefined) {
    // under a new key every value is encrypted anew; under the base's, only what no version holds under it
    const sources = recipientsUnion.dataKey === "kept" ? [o, t, base!] : [];
    const reencrypted = [...merged].filter(([name, value]) => value !== "" && !sources.some((s) => s.values.get(name) === value)).map(([name]) => name);
    return { merged, conflicts, keyFrom: "ours", reencrypted, union: recipientsUnion };
  }
  const keyFrom = keyChoice === "union" ? "ours" : keyChoice;
  const k = (keyFrom === "ours" ? ours : theirs).secrets;
  const other = keyFrom === "ours" ? t : o;
  const reencrypted: string[] = [];
  const sources = [k, other, ...(base !== undefined ? [base] : [])].filter((v) => sameBytes(v.dataKey, k.dataKey));
  for (const [name, value] of merged) {
    if (value !== "" && !sources.some((s) => s.values.get(name) === value)) reencrypted.push(name);
  }
  return { merged, conflicts, keyFrom, reencrypted };
}


/** The merged file of `plan` under the data key and stanzas of the side it takes them from (see {@link mergeSecrets}). */
function writeMerge(input: MergeInput, plan: MergePlan): MergeResult {
  const { ours, theirs } = input;
  const base = input.base?.secrets;
  const { merged, conflicts, keyFrom, reencrypted } = plan;
  const keySide = keyFrom === "ours" ? ours : theirs;
  const k = keySide.secrets;
  const other = (keyFrom === "ours" ? theirs : ours).secrets;
  const result = (text: string): MergeResult => ({ text, dataKey: k.dataKey, conflicts, recipientsConflict: false, keyFrom, reencrypted });

  // the result is exactly one side (same key and stanzas): its text as it is (no new mac or lastmodified)
  if (sameValues(merged, k.values)) return result(keySide.text);
  const otherSide = keyFrom === "ours" ? theirs : ours;
  if (sameValues(merged, other.values) && sameBytes(other.dataKey, k.dataKey) && sameStanzas(other.file.metadata.age, k.file.metadata.age)) {
    return result(otherSide.text);
  }
  const age: AgeStanza[] = k.file.metadata.age;
  // a key-groups file (planMerge let it through only when every side has the same groups and key): ours' sops block, kept in place
  const groups = ours.secrets.file.metadata.other.key_groups;
  const keptMetadata = Array.isArray(groups) && groups.length > 0 ? ours.secrets.file.keptMetadata : undefined;
  const text = encryptWithKey(merged, {
    dataKey: k.dataKey,
    age,
    ...(keptMetadata !== undefined ? { keptMetadata } : {}),
    // every side: encryptWithKey copies ENC strings only from those under `k`'s key, and takes a
    // re-encrypted value's sops type (int, bool, ...) from whichever side holds it unchanged
    reuseFrom: [k, other, ...(base !== undefined ? [base] : [])],
    version: writtenVersion(k.file.metadata.version, undefined),
    comments: mergedComments(input),
    lineBreak: oursLineBreak(input),
    ...(input.now ? { now: input.now } : {}),
  });
  return result(text);
}

/**
 * The line break a merged file is written with: ours' (the file in the work tree that the result
 * replaces). Git hands a driver the versions as stored, so sides stored with CRLF give CRLF.
 */
function oursLineBreak(input: MergeInput): LineBreak {
  return input.ours.secrets.file.lineBreak ?? "\n";
}

/** What {@link mergeSecretsGuarded} decided: {@link MergeResult}, and whether the result has a data key of its own. */
export interface GuardedMergeResult extends MergeResult {
  /**
   * True when the result is encrypted under a new data key (every value re-encrypted) rather than
   * under a side's: their side rotated and values of ours had to be carried over (wrapped for their
   * side's recipients), both sides rotated apart, a side took a recipient out without a rotation
   * (a version under the kept key had a stanza the result lacks), or the recipients were merged as
   * a set with a new key ({@link RecipientsUnion.dataKey} `new`, wrapped for the merged recipients).
   */
  freshKey: boolean;
}

/** True when `a`'s `lastmodified` is earlier than `b`'s (both readable RFC 3339 times; sops writes whole seconds). */
function writtenBefore(a: DecryptedSecrets, b: DecryptedSecrets): boolean {
  const ta = Date.parse(a.file.metadata.lastmodified);
  const tb = Date.parse(b.file.metadata.lastmodified);
  return Number.isFinite(ta) && Number.isFinite(tb) && ta < tb;
}

/**
 * {@link mergeSecrets} for git's merge driver, which runs on branches anyone with push access can
 * write. Whoever wrote a version knows its data key, and someone who holds only the members' public
 * keys can write a whole file afresh under a key of their own (valid MAC, stanzas for the real
 * members: without a signature it looks exactly like a `rotate-key`). So when the merge takes their
 * side's data key, their side rotated it (it differs from the base's) and values of ours have to be
 * re-encrypted under it, the result is encrypted under a **new** data key instead, for the same
 * recipients (their side's: a member it removed stays out): our side's values never go under a key
 * their writer chose. So too when the result would keep a data key that a version held for a
 * recipient the result no longer has (a side took a stanza out without a rotation: a `git revert`
 * of `members add`, `sops updatekeys`): the result goes under a new data key for the key side's
 * recipients, as `members rm` would have made it. Otherwise the result is {@link mergeSecrets}' (`freshKey` false). Not for git's
 * virtual merge base (`conflictValue` set), which is never committed: there their side's data key is
 * kept, so that the outer merge sees which side rotated (with a new key both would look rotated).
 *
 * When both sides changed the recipients differently (each `members add` of another member; or one
 * removed or rotated, the other added), they are merged as a set against the base
 * ({@link MergeResult.recipientsMerged}): added by either side, in; removed by either, out. When
 * nobody was removed and neither side rotated, the result keeps the base's data key, our side's
 * stanzas verbatim and the adding side's stanza verbatim for each added recipient (why: see
 * {@link RecipientsUnion.dataKey}); otherwise every value goes under a new data key wrapped afresh
 * for every recipient's public key, as `rotate-key` does (no side's stanza is carried). Names are
 * merged and reported as always. Without a base, or with a recipient to carry or wrap a stanza for that is no
 * well-formed age X25519 or ssh-ed25519 public key, it stays a recipients conflict, with
 * {@link MergeResult.recipientsConflictReason}. Throws what {@link mergeSecrets} throws.
 */
export async function mergeSecretsGuarded(input: MergeInput): Promise<GuardedMergeResult> {
  const plan = planMerge(input, true);
  if ("recipientsConflict" in plan) return { ...plan.recipientsConflict, freshKey: false };
  if (plan.union !== undefined) return writeUnion(input, plan, plan.union);
  const base = input.base?.secrets;
  const theirs = input.theirs.secrets;
  // git's virtual merge base (`conflictValue`: the inner merge of a criss-cross merge) is never
  // committed: it only tells the outer merge what each side changed. A new data key there would make
  // both sides of the outer merge look rotated, and the outer merge then kept our side's data key
  // even when their side had rotated away from it (a rotate-key undone by a criss-cross merge); so it
  // keeps their side's data key, as the base that rotated has it
  // both sides rotated the data key apart (same recipients: chooseKey keeps ours): either side may
  // have rotated away from the key the other keeps (a member removed and the key retired there, then
  // ours brought back through a criss-cross history), and the three versions cannot tell which; a
  // new key for those recipients gives no one access they lack, and no retired key comes back
  const ours = input.ours.secrets;
  const rotatedApart = base !== undefined && !sameBytes(ours.dataKey, base.dataKey) && !sameBytes(theirs.dataKey, base.dataKey) && !sameBytes(ours.dataKey, theirs.dataKey);
  const theirKeyTaken = plan.keyFrom === "theirs" && plan.reencrypted.length > 0 && base !== undefined && !sameBytes(theirs.dataKey, base.dataKey);
  // a stanza taken out without a rotation (a `git revert` of `members add`, `sops updatekeys`): the
  // result would keep a data key that a version held for a recipient the result no longer has, who
  // could read every value of it and every later one; a new key, as `members rm` takes
  const keySide = plan.keyFrom === "ours" ? ours : theirs;
  const kept = new Set(keySide.file.recipients);
  const removedUnderKey = [base, ours, theirs].some((v) => v !== undefined && sameBytes(v.dataKey, keySide.dataKey) && v.file.recipients.some((r) => !kept.has(r)));
  // their side written before the base (a `git revert`: theirs is the reverted commit's parent,
  // the base the reverted commit; git tells a merge driver nothing of the operation, and writes
  // REVERT_HEAD only after it): a data key of theirs other than the base's is then one the base
  // rotated away from, not a newer rotation, and keeping it would undo that rotation for whoever
  // held it. A new key instead (a clock that ran behind costs only that). Within one second (sops
  // writes whole seconds) the order is unknown and their key is kept, as for a merge
  const retiredKeyTaken = plan.keyFrom === "theirs" && base !== undefined && !sameBytes(theirs.dataKey, base.dataKey) && writtenBefore(theirs, base);
  if (base === undefined || input.conflictValue !== undefined || !(theirKeyTaken || rotatedApart || removedUnderKey || retiredKeyTaken)) {
    return { ...writeMerge(input, plan), freshKey: false };
  }
  // the new key goes to their side's recipients: with isMember, none their side added that is no member
  // (their writer may hold only public keys: our values must not go to a key they merely labelled)
  if (input.isMember !== undefined) {
    const known = new Set(base.file.recipients);
    const outsider = theirs.file.recipients.find((r) => !known.has(r) && !input.isMember!(r));
    if (outsider !== undefined) {
      return {
        ...recipientsConflictOf(
          input.ours,
          `${shownRecipient(outsider)} (added by their side, which rotated the data key) is no member of the environment in our side's or their side's stellar.yaml, ` +
            "and our side's values would go under a new data key wrapped for it: a label proves nothing, so the merge wraps a new key for members only",
        ).recipientsConflict,
        freshKey: false,
      };
    }
  }
  // encrypted once, under the new key: never first under their key (nothing of ours is written under it)
  const merged = plan.merged;
  // each value keeps the sops type (int, bool, ...) of a side that holds it unchanged
  const typesFrom = [input.ours.secrets, theirs, base];
  const fresh = await encryptWithNewKey(
    merged,
    {
      recipients: keySide.file.recipients,
      version: writtenVersion(keySide.file.metadata.version, undefined),
      lineBreak: oursLineBreak(input),
      ...(input.now ? { now: input.now } : {}),
    },
    typesFrom,
    mergedComments(input),
  );
  return {
    text: fresh.text,
    dataKey: fresh.dataKey,
    conflicts: plan.conflicts,
    recipientsConflict: false,
    keyFrom: plan.keyFrom,
    reencrypted: [...merged].filter(([, v]) => v !== "").map(([name]) => name),
    freshKey: true,
  };
}

/** The merged file of a plan whose recipients are merged as a set (see {@link mergeSecretsGuarded}). */
async function writeUnion(input: MergeInput, plan: MergePlan, union: RecipientsUnion): Promise<GuardedMergeResult> {
  // (async for the new key's wrapping; the kept key only carries stanzas)
  const base = input.base!.secrets;
  const o = input.ours.secrets;
  const t = input.theirs.secrets;
  const version = writtenVersion(o.file.metadata.version, undefined);
  const now = input.now ? { now: input.now } : {};
  const done = (text: string, dataKey: Uint8Array): GuardedMergeResult => ({
    text,
    dataKey,
    conflicts: plan.conflicts,
    recipientsConflict: false,
    recipientsMerged: union,
    keyFrom: "ours",
    reencrypted: plan.reencrypted,
    freshKey: union.dataKey === "new",
  });
  if (union.dataKey === "new") {
    const fresh = await encryptWithNewKey(plan.merged, { recipients: union.recipients, version, lineBreak: oursLineBreak(input), ...now }, [o, t, base], mergedComments(input));
    return done(fresh.text, fresh.dataKey);
  }
  // the base's data key, which ours and theirs use too: our side's stanza (byte for byte) for each
  // recipient our side holds (every one the base had and both kept, and those our side added), their
  // side's for each only they added (see RecipientsUnion.dataKey: every stanza of the result is one a
  // version already has). Not the base's: in a cherry-pick or rebase the base is the picked commit's
  // parent, any text that decrypts for the merger, and a junk stanza there under a member's label
  // would lock that member out; ours is HEAD (for `git merge`, a descendant of the base)
  const stanzaOf = (v: DecryptedSecrets, r: string): AgeStanza | undefined => {
    const i = v.file.recipients.indexOf(r);
    return i < 0 ? undefined : v.file.metadata.age[i];
  };
  const age = union.recipients.map((r) => {
    const stanza = stanzaOf(o, r) ?? stanzaOf(t, r);
    if (stanza === undefined) throw new Error(`internal: no stanza for a recipient of the merge`);
    return stanza;
  });
  const text = encryptWithKey(plan.merged, {
    dataKey: base.dataKey,
    age,
    reuseFrom: [o, t, base],
    version,
    comments: mergedComments(input),
    lineBreak: oursLineBreak(input),
    ...now,
  });
  return done(text, base.dataKey);
}
