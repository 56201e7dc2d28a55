/**
 * The three-way merge of a flat secrets file, per name, for git's merge driver: decrypted base,
 * ours and theirs in, one valid SOPS text out (fresh MAC, stable ciphertext), plus the names that
 * changed differently on both sides. Pure apart from the random IVs of re-encrypted values.
 */
import { encryptWithKey, encryptWithNewKey, parseSecretsFile, refuseForeignKeys, sameBytes, writtenVersion } from "./secrets-file.js";
import type { AgeStanza, DecryptedSecrets } from "./types.js";
import { carriedComments, mergeComments, type CarriedComments } from "./comments.js";

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
}

/**
 * The text `merge-file --virtual-base` writes as git's virtual merge base when the two merge bases
 * could not be merged (no key, recipients changed differently, a version that cannot be read): the
 * outer merge reads it as {@link MergeInput.baseUnknown}. A comment line only: no sops file reads as it.
 */
export const VIRTUAL_BASE_UNMERGED = "# stellar-secrets: virtual merge base of a criss-cross merge; the merge bases could not be merged\n";

/** How one side changed a name relative to the base. */
export type NameChange = "added" | "changed" | "removed";

/** A name changed differently on both sides. The result keeps ours' state of it (or `conflictValue`). */
export interface NameConflict {
  name: string;
  ours: NameChange;
  theirs: NameChange;
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
   * True when both sides changed the recipients (or the data key) differently: nothing is merged
   * then, `text` is ours unchanged, since any choice could give a removed member the other side's values.
   */
  recipientsConflict: boolean;
  /** Whose data key and recipient stanzas the result uses. */
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
 * when both did, they must agree on the recipients (and, when both rotated, the result takes ours),
 * else it is a conflict.
 */
function chooseKey(base: DecryptedSecrets | undefined, ours: DecryptedSecrets, theirs: DecryptedSecrets): "ours" | "theirs" | "conflict" {
  const oursRecipients = recipientSet(ours);
  const theirsRecipients = recipientSet(theirs);
  if (base === undefined) return sameSet(oursRecipients, theirsRecipients) ? "ours" : "conflict";
  const baseRecipients = recipientSet(base);
  const oursMoved = !sameBytes(ours.dataKey, base.dataKey) || !sameSet(oursRecipients, baseRecipients);
  const theirsMoved = !sameBytes(theirs.dataKey, base.dataKey) || !sameSet(theirsRecipients, baseRecipients);
  if (!theirsMoved) return "ours";
  if (!oursMoved) return "theirs";
  if (!sameSet(oursRecipients, theirsRecipients)) return "conflict";
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
 * merge. When both sides changed the recipients differently, nothing is merged
 * (`recipientsConflict`, ours' text returned). Every value that did not need re-encrypting keeps
 * its exact ENC string (from any version under the result's data key).
 *
 * Names: ours' order, then names that only theirs has, in theirs' order.
 * @throws SopsError UNSUPPORTED for files with non-age master keys or JSON files; INVALID_NAME for a
 *   name the format cannot hold (never for names already in the versions).
 */
export function mergeSecrets(input: MergeInput): MergeResult {
  const plan = planMerge(input);
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
}

/** {@link mergeSecrets}' decisions per name and of the data key; a recipients conflict is its result already (ours' text). */
function planMerge(input: MergeInput): MergePlan | { recipientsConflict: MergeResult } {
  const { ours, theirs } = input;
  const base = input.base?.secrets;
  const o = ours.secrets;
  const t = theirs.secrets;
  refuseForeignKeys(o);
  refuseForeignKeys(t);
  const keyChoice = chooseKey(base, o, t);
  if (keyChoice === "conflict") {
    return { recipientsConflict: { text: ours.text, dataKey: o.dataKey, conflicts: [], recipientsConflict: true, keyFrom: "ours", reencrypted: [] } };
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
      conflicts.push({ name, ours: changeOf(b, ov), theirs: changeOf(b, tv) });
    }
    if (v !== undefined) merged.set(name, v);
  };
  for (const name of o.values.keys()) decide(name);
  for (const name of t.values.keys()) if (!o.values.has(name)) decide(name);

  const k = (keyChoice === "ours" ? ours : theirs).secrets;
  const other = keyChoice === "ours" ? t : o;
  const reencrypted: string[] = [];
  const sources = [k, other, ...(base !== undefined ? [base] : [])].filter((v) => sameBytes(v.dataKey, k.dataKey));
  for (const [name, value] of merged) {
    if (value !== "" && !sources.some((s) => s.values.get(name) === value)) reencrypted.push(name);
  }
  return { merged, conflicts, keyFrom: keyChoice, reencrypted };
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
  const text = encryptWithKey(merged, {
    dataKey: k.dataKey,
    age,
    // every side: encryptWithKey copies ENC strings only from those under `k`'s key, and takes a
    // re-encrypted value's sops type (int, bool, ...) from whichever side holds it unchanged
    reuseFrom: [k, other, ...(base !== undefined ? [base] : [])],
    version: writtenVersion(k.file.metadata.version, undefined),
    comments: mergedComments(input),
    ...(input.now ? { now: input.now } : {}),
  });
  return result(text);
}

/** What {@link mergeSecretsGuarded} decided: {@link MergeResult}, and whether the result has a data key of its own. */
export interface GuardedMergeResult extends MergeResult {
  /**
   * True when the result is encrypted under a new data key (wrapped for the recipients of the
   * side it takes them from, every value re-encrypted) rather than under their side's.
   */
  freshKey: boolean;
}

/**
 * {@link mergeSecrets} for git's merge driver, which runs on branches anyone with push access can
 * write. Whoever wrote a version knows its data key, and someone who holds only the members' public
 * keys can write a whole file afresh under a key of their own (valid MAC, stanzas for the real
 * members: without a signature it looks exactly like a `rotate-key`). So when the merge takes their
 * side's data key, their side rotated it (it differs from the base's) and values of ours have to be
 * re-encrypted under it, the result is encrypted under a **new** data key instead, for the same
 * recipients (their side's: a member it removed stays out): our side's values never go under a key
 * their writer chose. Otherwise the result is {@link mergeSecrets}' (`freshKey` false). A recipients
 * conflict is returned as it is. Throws what {@link mergeSecrets} throws.
 */
export async function mergeSecretsGuarded(input: MergeInput): Promise<GuardedMergeResult> {
  const plan = planMerge(input);
  if ("recipientsConflict" in plan) return { ...plan.recipientsConflict, freshKey: false };
  const base = input.base?.secrets;
  const theirs = input.theirs.secrets;
  if (plan.keyFrom !== "theirs" || plan.reencrypted.length === 0 || base === undefined || sameBytes(theirs.dataKey, base.dataKey)) {
    return { ...writeMerge(input, plan), freshKey: false };
  }
  // encrypted once, under the new key: never first under their key (nothing of ours is written under it)
  const merged = plan.merged;
  // each value keeps the sops type (int, bool, ...) of a side that holds it unchanged
  const typesFrom = [input.ours.secrets, theirs, base];
  const fresh = await encryptWithNewKey(
    merged,
    {
      recipients: theirs.file.recipients,
      version: writtenVersion(theirs.file.metadata.version, undefined),
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
    keyFrom: "theirs",
    reencrypted: [...merged].filter(([, v]) => v !== "").map(([name]) => name),
    freshKey: true,
  };
}
