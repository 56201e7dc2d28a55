/**
 * sops key groups (SOPS-FORMAT §5): a `sops.key_groups` list used instead of the top-level key
 * lists. With one group, each of its keys wraps the whole data key; with n > 1 groups, the data
 * key is split with Shamir secret sharing (`shamir.ts`) into one share per group, any
 * `shamir_threshold` of which give it back (absent or 0: sops combines whatever groups open, and
 * `sops.mac` tells a right key from a wrong one). This package opens the age keys
 * of as many groups as the caller's identities can; a group whose keys are all pgp/kms/… cannot
 * be opened here and is skipped, as sops skips a group it has no key for. The one reader of
 * `key_groups` and `shamir_threshold` for every decrypting path (the flat reader, the general
 * document reader, hence the resolver).
 */
import { assertAgeStanzaBound, unwrapAgePayload } from "./age.js";
import { SopsError } from "./errors.js";
import type { Identities } from "./identities.js";
import { macAad } from "./mac.js";
import { LineIndex } from "./position.js";
import { SHAMIR_SHARE_BYTES, combineShares } from "./shamir.js";
import type { AgeStanza, SopsMetadata } from "./types.js";
import { decryptValue } from "./values.js";

/** One group of `sops.key_groups`, as read (labels are not proof: spec §4.5). */
export interface KeyGroup {
  /** The group's age entries (recipient label and wrapped share), in file order. */
  age: AgeStanza[];
  /** The group's other master keys, each as `type id` (`pgp FBC7…`, `kms arn:…`), in file order. */
  others: string[];
}

/** A file's key groups and the number of them needed to decrypt it. */
export interface KeyGroups {
  groups: KeyGroup[];
  /**
   * How many groups must be opened before their shares are combined: `shamir_threshold`; when it
   * is absent or 0 (see {@link thresholdWritten}), 2 with several groups and 1 with one group.
   */
  threshold: number;
  /**
   * False when `shamir_threshold` is absent or 0. sops then combines the shares of whatever groups
   * open (a split needs at least two), so how many groups the split really needs is not in the
   * file: too few give a wrong key, which `sops.mac` refuses (a value is never wrong). sops writes
   * the threshold it split with, so with several groups it is absent only from a hand-edited file.
   */
  thresholdWritten: boolean;
}

/**
 * How many of a file's groups decrypt it, for a message: `any 2 of 3 groups` (or `one group` of
 * one); without a written threshold `at least 2 of 3 groups` and why.
 */
export function keyGroupsThresholdText(kg: Pick<KeyGroups, "threshold" | "thresholdWritten"> & { groups: readonly unknown[] }): string {
  const n = kg.groups.length;
  if (n === 1) return "one group";
  if (kg.thresholdWritten) return `any ${kg.threshold} of ${n} groups`;
  return `at least 2 of ${n} groups (no shamir_threshold is written: sops combines the shares of whatever groups open, and how many the split needs is not in the file)`;
}

/** Where a file's metadata is, for the line of an error. */
export interface KeyGroupsSource {
  /** The file's text. */
  text?: string | undefined;
  /** Where its `sops` block starts in `text` (default 0). */
  from?: number;
  file?: string | undefined;
  /**
   * The store the metadata was read from. In YAML and JSON (and the binary store, which is JSON)
   * `shamir_threshold` must be a number: sops 3.7–3.12 decode it into an int there and refuse a
   * quoted `"2"`, and no sops writes one. A dotenv file holds every metadata value as text
   * (`sops_shamir_threshold=2`). Absent: a number or a text of digits are both taken.
   */
  format?: "yaml" | "json" | "dotenv" | "binary" | undefined;
}

/** The most key groups a file can have: one share each, and a share's x is one nonzero byte (sops refuses to split into more parts). */
export const MAX_KEY_GROUPS = 255;

/** How many groups not opened a too-few-groups error describes (the rest are counted). */
const DESCRIBED_CLOSED_GROUPS = 10;

/** The top-level master-key lists that sops reads instead of `key_groups` when any holds a key. */
const TOP_LEVEL_KEYS = ["age", "pgp", "kms", "gcp_kms", "azure_kv", "hc_vault", "hckms"] as const;

/** The field that names each other master-key type's key, for messages. */
const KEY_ID_FIELD: Record<string, string> = { pgp: "fp", kms: "arn", gcp_kms: "resource_id", azure_kv: "vault_url", hc_vault: "key_name", hckms: "key_id" };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || v === "" || (Array.isArray(v) && v.length === 0);
}

/** The 1-based line of the first `field` key of the `sops` block (YAML, JSON or dotenv spelling), if found. */
function lineOfField(where: KeyGroupsSource, field: string): number | undefined {
  if (where.text === undefined) return undefined;
  const from = where.from ?? 0;
  const m = new RegExp(`["']?(?:sops_)?${field}["']?[ \\t]*[:=]|sops_${field}__`).exec(where.text.slice(from));
  return m === null ? undefined : new LineIndex(where.text).positionAt(from + m.index).line;
}

/**
 * The key groups of a file's metadata, checked, or undefined when it has none (`key_groups`
 * absent, null or empty: the top-level lists are read). Pure, no key needed.
 * @throws SopsError MALFORMED_FILE (with the file and the line of `key_groups` or
 * `shamir_threshold` when `where.text` is given) when `key_groups` is not a list of mappings, a
 * group's `age` is not a list of entries with an `enc` text, `shamir_threshold` is not a whole
 * number ≥ 0, is larger than the number of groups, or is 1 with several groups (sops refuses to
 * split so: a share would be the data key), when it has more than {@link MAX_KEY_GROUPS} groups (a
 * share's x is one byte: no split has more); and when the top-level key lists hold a key too
 * (sops then reads those and ignores `key_groups`, and never writes both: the file was edited by
 * hand, and which keys open it is not what it seems).
 */
export function readKeyGroups(meta: SopsMetadata, where: KeyGroupsSource = {}): KeyGroups | undefined {
  const raw = meta.other.key_groups;
  if (isEmpty(raw)) return undefined;
  const bad = (what: string, field = "key_groups", hint = "sops never writes this: the sops block was edited by hand; restore the file from git (`git checkout -- FILE`)", reason?: "quoted-shamir-threshold"): never => {
    throw new SopsError("MALFORMED_FILE", `invalid sops metadata: ${what}`, { file: where.file, line: lineOfField(where, field), hint, reason });
  };
  if (!Array.isArray(raw)) return bad("`key_groups` is not a list of key groups");
  // a share's x is one byte (1…255, distinct): sops refuses to split a key into more parts, so a
  // longer list is no split at all (and is not read group by group: bounded work and messages)
  if (raw.length > MAX_KEY_GROUPS) return bad(`\`key_groups\` has ${raw.length} groups; a data key is split into at most ${MAX_KEY_GROUPS} (a share's x is one byte), and sops never writes more`);
  const topLevel = TOP_LEVEL_KEYS.filter((k) => !isEmpty(k === "age" ? meta.age : meta.other[k]));
  if (topLevel.length > 0) {
    return bad(`the file has both \`key_groups\` and top-level keys (${topLevel.join(", ")}): sops reads only the top-level keys then, and never writes both`);
  }
  const groups: KeyGroup[] = [];
  raw.forEach((g: unknown, i) => {
    if (!isRecord(g)) return bad(`key group ${i + 1} of \`key_groups\` is not a mapping`);
    const age: AgeStanza[] = [];
    if (!isEmpty(g.age)) {
      if (!Array.isArray(g.age)) return bad(`key group ${i + 1}'s \`age\` is not a list`);
      for (const s of g.age as unknown[]) {
        if (!isRecord(s) || typeof s.enc !== "string") return bad(`an \`age\` entry of key group ${i + 1} has no \`enc\` text`);
        age.push({ recipient: typeof s.recipient === "string" ? s.recipient.trim() : "", enc: s.enc });
      }
    }
    const others: string[] = [];
    for (const [type, keys] of Object.entries(g)) {
      if (type === "age" || isEmpty(keys)) continue;
      for (const k of Array.isArray(keys) ? keys : [keys]) {
        const id = isRecord(k) ? k[KEY_ID_FIELD[type] ?? ""] : undefined;
        others.push(typeof id === "string" && id !== "" ? `${type} ${id.slice(0, 120)}` : `${type} key`);
      }
    }
    groups.push({ age, others });
  });
  const t = meta.other.shamir_threshold;
  if (typeof t === "string" && where.format !== undefined && where.format !== "dotenv") {
    const digits = /^\s*(\d{1,6})\s*$/.exec(t)?.[1];
    const written = where.format === "yaml" ? `shamir_threshold: ${digits ?? "N"}` : `"shamir_threshold": ${digits ?? "N"}`;
    return bad(
      "`shamir_threshold` is quoted (a text, not a number): sops 3.7–3.12 read it as a number and refuse to decrypt the file, and sops always writes a number",
      "shamir_threshold",
      `remove the quotes (\`${written}\`; the MAC does not cover it, so the file still verifies), or restore the file from git (\`git checkout -- FILE\`)`,
      "quoted-shamir-threshold",
    );
  }
  // sops decodes the metadata weakly typed: a dotenv file holds `sops_shamir_threshold=2` as text
  const threshold = isEmpty(t) ? 0 : typeof t === "number" ? t : typeof t === "string" && /^\d{1,6}$/.test(t.trim()) ? Number(t.trim()) : NaN;
  if (!Number.isSafeInteger(threshold) || threshold < 0) return bad("`shamir_threshold` is not a whole number", "shamir_threshold");
  if (threshold > groups.length) {
    return bad(`\`shamir_threshold\` is ${threshold}, more than the ${groups.length} key group${groups.length === 1 ? "" : "s"}: no one can decrypt the file`, "shamir_threshold");
  }
  if (threshold === 1 && groups.length > 1) {
    return bad(`\`shamir_threshold\` is 1 with ${groups.length} key groups: sops never splits a data key so (each share would be the key)`, "shamir_threshold");
  }
  // absent or 0: sops combines whatever groups open (at least two shares for a split); the MAC decides
  return { groups, threshold: threshold === 0 ? Math.min(2, groups.length) : threshold, thresholdWritten: threshold !== 0 };
}

/**
 * A label as an error may show it: an `age1…` or `ssh-ed25519 …` public key (shortened), any other
 * key id of plain characters; anything else not at all (the file is anyone's text: a private key
 * pasted as a label, or terminal escapes, must never reach a message).
 */
function shownLabel(label: string): string {
  if (/^age1[0-9a-z]{1,200}$/.test(label)) return label.length > 80 ? `${label.slice(0, 80)}…` : label;
  if (/^ssh-ed25519 [A-Za-z0-9+/=]{1,200}$/.test(label)) return `${label.slice(0, 40)}…`;
  if (/^(?:pgp|kms|gcp_kms|azure_kv|hc_vault|hckms|[a-z_]{1,20}) [A-Za-z0-9:/._@+=-]{1,120}$/.test(label) && !/SECRET|PRIVATE/i.test(label)) return label;
  return "(a label not shown)";
}

/** `group 2 (age1…, pgp FBC7…)`, labels shortened. */
function describeGroup(group: KeyGroup, index: number): string {
  const keys = [...group.age.map((s) => (s.recipient === "" ? "(unlabelled age key)" : shownLabel(s.recipient))), ...group.others.map(shownLabel)];
  const shown = keys.slice(0, 6).join(", ") + (keys.length > 6 ? `, and ${keys.length - 6} more` : "");
  return `group ${index + 1} (${keys.length === 0 ? "no keys" : shown}${group.age.length === 0 && keys.length > 0 ? "; no age key: stellar-secrets cannot open it" : ""})`;
}

/** The groups of `kg` that `opened` (indexes) leaves closed, for an error: the first {@link DESCRIBED_CLOSED_GROUPS} described, the rest counted. */
function closedGroups(kg: KeyGroups, opened: readonly number[]): string {
  const closedIndexes = kg.groups.map((_, i) => i).filter((i) => !opened.includes(i));
  const closed = closedIndexes.slice(0, DESCRIBED_CLOSED_GROUPS).map((i) => describeGroup(kg.groups[i]!, i));
  if (closedIndexes.length > DESCRIBED_CLOSED_GROUPS) closed.push(`and ${closedIndexes.length - DESCRIBED_CLOSED_GROUPS} more groups`);
  return closed.join("; ");
}

/**
 * The data key of a key-groups file: each group's age entries are tried with `identities` (the
 * first that opens gives that group's share, as in sops), and the shares of the groups opened are
 * combined when they are at least the threshold (with one group, its payload is the data key).
 * The combined key is checked against `sops.mac` (it must decrypt it) so that a changed share
 * ends as MAC_MISMATCH here, not as a value that fails to decrypt; the caller still verifies the
 * MAC over the values. Shares are zeroed after use. No share, key or value is ever in an error.
 * @throws SopsError NO_MATCHING_IDENTITY (how many groups were opened, which, the threshold, and
 * the recipients of the first groups not opened, the others counted), MALFORMED_FILE (a share that is not 33 bytes, a
 * one-group payload that is not 32, shares that cannot be combined: see {@link combineShares}),
 * MAC_MISMATCH (the combined key does not open `sops.mac`: a share was changed), UNSUPPORTED
 * (more than {@link MAX_AGE_STANZAS} recipient stanzas in all groups together).
 */
export async function unwrapKeyGroupsKey(kg: KeyGroups, meta: SopsMetadata, identities: Identities, where: KeyGroupsSource = {}): Promise<Uint8Array> {
  const file = where.file;
  const line = lineOfField(where, "key_groups");
  assertAgeStanzaBound(kg.groups.flatMap((g) => g.age));
  const shares: Uint8Array[] = [];
  const opened: number[] = [];
  const wipe = () => shares.forEach((s) => s.fill(0));
  const expected = kg.groups.length === 1 ? 32 : SHAMIR_SHARE_BYTES;
  for (const [i, group] of kg.groups.entries()) {
    const payload = await unwrapAgePayload(group.age, identities.identities);
    if (payload === undefined) continue;
    if (payload.length !== expected) {
      payload.fill(0);
      wipe();
      throw new SopsError("MALFORMED_FILE", `key group ${i + 1} of sops.key_groups holds ${payload.length} bytes for your key, not ${expected === 32 ? "a 32-byte data key" : `a ${SHAMIR_SHARE_BYTES}-byte Shamir share`}`, {
        file,
        line,
        hint: "the group's age entry was replaced outside sops (a data key where a share belongs, or the reverse): restore the file from git (`git checkout -- FILE`)",
      });
    }
    shares.push(payload);
    opened.push(i);
  }
  if (shares.length < kg.threshold) {
    wipe();
    const needed = kg.thresholdWritten ? `and ${kg.threshold} ${kg.threshold === 1 ? "is" : "are"} needed (sops.shamir_threshold)` : "and at least 2 are needed (no sops.shamir_threshold is written: sops combines the shares of whatever groups open)";
    const n = kg.groups.length;
    const openedText = opened.length === 0 ? "none" : opened.map((i) => i + 1).join(", ");
    throw new SopsError(
      "NO_MATCHING_IDENTITY",
      `your ${identities.identities.length} age identit${identities.identities.length === 1 ? "y opens" : "ies open"} ${opened.length} of the file's ${n} key group${n === 1 ? "" : "s"} (${openedText}), ` +
        `${needed}; not opened: ${closedGroups(kg, opened)} (looked in: ${identities.sources.join("; ")})`,
      { file, line, reason: "too-few-key-groups", keyGroups: { opened: opened.map((i) => i + 1), groups: n, threshold: kg.threshold, thresholdWritten: kg.thresholdWritten }, hint: "decrypt it with sops and the keys of enough groups, or ask holders of the other groups' keys; stellar-secrets opens age keys only" },
    );
  }
  let key: Uint8Array;
  if (kg.groups.length === 1) {
    key = shares[0]!;
  } else {
    try {
      key = combineShares(shares);
    } catch (cause) {
      throw new SopsError("MALFORMED_FILE", (cause as SopsError).message, { file, line, hint: (cause as SopsError).hint, cause });
    } finally {
      wipe();
    }
  }
  let aad: string | undefined;
  try {
    aad = meta.mac === "" ? undefined : macAad(meta.lastmodified);
  } catch {
    aad = undefined; // a malformed lastmodified: the MAC check reports it
  }
  if (aad !== undefined) {
    try {
      decryptValue(meta.mac, key, aad).plaintext.fill(0);
    } catch (cause) {
      key.fill(0);
      if (!kg.thresholdWritten && opened.length < kg.groups.length) {
        // no threshold written and not every group opened: too few shares give a wrong key too
        const n = kg.groups.length;
        throw new SopsError(
          "NO_MATCHING_IDENTITY",
          `your ${identities.identities.length} age identit${identities.identities.length === 1 ? "y opens" : "ies open"} ${opened.length} of the file's ${n} key groups (${opened.map((i) => i + 1).join(", ")}), ` +
            `whose shares do not give the data key (it does not open sops.mac): no sops.shamir_threshold is written, so the split may need more groups than these (or a group's share was changed); not opened: ${closedGroups(kg, opened)} (looked in: ${identities.sources.join("; ")})`,
          {
            file,
            line,
            reason: "too-few-key-groups",
            keyGroups: { opened: opened.map((i) => i + 1), groups: n, threshold: opened.length + 1, thresholdWritten: false },
            hint: "decrypt it with sops and the keys of more groups, or ask holders of the other groups' keys; stellar-secrets opens age keys only",
            cause,
          },
        );
      }
      // a written threshold is not under the MAC: lowered below the split's, it makes too few groups look enough
      const lowered = opened.length < kg.groups.length ? `, or sops.shamir_threshold (${kg.threshold}) was lowered below what the split needs (it is not under the MAC: keys of more groups may open the file)` : "";
      throw new SopsError("MAC_MISMATCH", `the data key combined from key groups ${opened.map((i) => i + 1).join(", ")} does not open sops.mac: a group's share was changed (or sops.mac / sops.lastmodified was${lowered})`, {
        file,
        line,
        hint: "a key_groups entry was replaced outside sops: restore the file from git (`git checkout -- FILE`)",
        cause,
      });
    }
  }
  return key;
}
