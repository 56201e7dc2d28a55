/**
 * One environment's file on each side of a change, as the review's findings read it ({@link Side},
 * {@link EnvironmentChange}), and what the two sides say of a rotation ({@link rotationOf}). Pure.
 */
import { ciphertextIdentity, environmentFileName, normalizeSecretsDir, parseSecretsFile, type FlatComments } from "@stellar-secrets/sops";
import type { ProjectConfig } from "../project.js";
import type { EnvironmentFile } from "../secrets-dir.js";
import { envelopeOf, groupStanzas } from "./data-key.js";
import type { FileVersion } from "./history.js";
import type { EnvironmentReview } from "./report.js";
import type { ReviewState } from "./state.js";

/** One side's version of an environment file, as the review compares it. */
export interface Side {
  path: string | undefined;
  model: EnvironmentFile | undefined;
  /** name → stored value (ENC string, or the raw text when the file is not valid SOPS). */
  version: FileVersion | undefined;
  /** Names whose value is an ENC string. */
  encryptedNames: Set<string>;
  /** Parses as an encrypted SOPS file. */
  sops: boolean;
  /** The file exists but its names cannot be read (not UTF-8, too large): its secrets are unknown, not absent. */
  unreadable: boolean;
  /** Every age stanza in file order (labels may repeat: `version.stanzas` keeps one per label). */
  stanzaList: { recipient: string; enc: string }[];
  /** The stored (encrypted) MAC; "" when the file is not valid SOPS. */
  mac: string;
  /** The file's comments (valid SOPS files only), where sops places them. */
  comments?: FlatComments;
}

export function side(state: ReviewState, environment: string, config: ProjectConfig | undefined): Side {
  const model = state.index?.environmentFiles.get(environment);
  const path = model?.path ?? (config === undefined ? undefined : `${normalizeSecretsDir(config.secretsDir)}/${environmentFileName(environment)}`);
  const text = path === undefined ? undefined : state.readText(path);
  if (model === undefined || text === undefined || text === null || !model.readable) {
    const unreadable = model !== undefined && (text === null || !model.readable);
    return { path, model, version: undefined, encryptedNames: new Set(), sops: false, unreadable, stanzaList: [], mac: "" };
  }
  try {
    const file = parseSecretsFile(text, { path });
    return {
      path,
      model,
      // values by ciphertext identity (an ENC string's unauthenticated `type` does not make it another value),
      // stanzas by envelope (a YAML block style or re-indent does not make it another wrapping); a
      // key-groups file's are its groups' (each wraps a share of the data key, or the key itself with one group)
      version: {
        values: new Map(file.entries.map((e) => [e.name, ciphertextIdentity(e.raw)])),
        stanzas: new Map([...file.metadata.age, ...groupStanzas(file)].map((s) => [s.recipient.trim(), envelopeOf(s.enc)])),
      },
      encryptedNames: new Set(file.entries.filter((e) => e.encrypted).map((e) => e.name)),
      sops: true,
      unreadable: false,
      stanzaList: file.metadata.age.map((a) => ({ recipient: a.recipient.trim(), enc: a.enc })),
      mac: ciphertextIdentity(file.metadata.mac),
      ...(file.comments === undefined ? {} : { comments: file.comments }),
    };
  } catch {
    // not valid SOPS (e.g. decrypted by hand): compare the stored text of each value, never show it
    const values = new Map(model.entries.map((e) => [e.name, text.slice(e.valueRange.start, e.valueRange.end)]));
    return { path, model, version: { values, stanzas: new Map() }, encryptedNames: new Set(model.entries.filter((e) => e.encrypted).map((e) => e.name)), sops: false, unreadable: false, stanzaList: [], mac: "" };
  }
}

/**
 * Whether a version re-encrypted every value it kept (`reencryptedAll`: every kept encrypted
 * string changed, and either at least two were kept or every wrapped data key changed too) and
 * whether that was a data-key rotation: a recipient whose wrapped key is unchanged proves the
 * data key is the same (a plain \`sops\` edit re-encrypts values under the same key), so a rotation
 * also re-wraps the key for every recipient. With one kept value a rotation cannot be told from a
 * value change plus a re-wrap (\`uncertain\`), nor with none kept (every value added, changed or
 * removed). Both versions must be encrypted SOPS files.
 */
export function rotationOf(before: Side, after: Side): { reencryptedAll: boolean; dataKeyRotated: boolean; uncertain: boolean } {
  const none = { reencryptedAll: false, dataKeyRotated: false, uncertain: false };
  if (!before.sops || !after.sops || before.version === undefined || after.version === undefined) return none;
  const prev = before.version.values;
  const kept = keptEntries(before, after);
  if (kept.some(([n, v]) => prev.get(n) === v)) return none;
  const stanzas = [...after.version.stanzas];
  // a key-groups file's stanzas (each wraps a share, or the whole key in a one-group file), by their age headers
  const groupHeaders = (s: Side) => (s.model?.keyGroups?.groups ?? []).flatMap((g) => g.stanzas.filter((st) => st.envelope.ok).map((st) => JSON.stringify(st.envelope)));
  const groupsAfter = groupHeaders(after);
  const groupsBefore = new Set(groupHeaders(before));
  const rewrapped =
    stanzas.length + groupsAfter.length > 0 && stanzas.every(([r, enc]) => before.version?.stanzas.get(r) !== enc) && groupsAfter.every((h) => !groupsBefore.has(h));
  if (kept.length < 2 && !rewrapped) return none;
  // no value kept (every one added, changed or removed: a first `set` after `members rm`): every
  // stanza wrapped anew may be a rotation or a re-wrap of the same key, which only a key can tell
  if (kept.length === 0) return { reencryptedAll: false, dataKeyRotated: true, uncertain: true };
  return { reencryptedAll: true, dataKeyRotated: rewrapped, uncertain: rewrapped && kept.length < 2 };
}

/** The names with a stored value in both versions, with the head's stored string. */
function keptEntries(before: Side, after: Side): [string, string][] {
  const prev = before.version?.values;
  return [...(after.version?.values ?? [])].filter(([n, v]) => v !== "" && (prev?.get(n) ?? "") !== "");
}

/** How many names have a stored value in both versions (what {@link rotationOf} compares). */
export function keptValues(before: Side, after: Side): number {
  return keptEntries(before, after).length;
}

/** The 1-based line of a stanza in a file's text (its `recipient:` line, found through its envelope), else the recipients block's line. */
export function stanzaLine(side: Side, text: string | null | undefined, enc: string): number | undefined {
  const lines = side.model?.lines;
  if (lines === undefined) return undefined;
  const body = enc.split("\n").map((l) => l.trim()).find((l) => l !== "" && !l.startsWith("-----"));
  const at = typeof text === "string" && body !== undefined ? text.indexOf(body) : -1;
  if (at !== -1) return lines.positionAt(Math.max(0, (text as string).lastIndexOf("recipient:", at))).line;
  return side.model?.recipientsRange === undefined ? undefined : lines.positionAt(side.model.recipientsRange.start).line;
}

/** One environment's file on both sides of a change: what every finding about it reads. */
export interface EnvironmentChange {
  environment: string;
  /** The file's path (the head's, else the base's, else where it would be). */
  file: string;
  before: Side;
  after: Side;
  textBefore: string | null | undefined;
  textAfter: string | null | undefined;
  existedBefore: boolean;
  existsAfter: boolean;
  fileChange: EnvironmentReview["fileChange"];
}

/**
 * How a finding about an environment words its fix when the change gave someone a way in
 * (`introduced`: a fix must never wrap a data key for them, as `rotate-key` on this change would):
 * `revert` the file, or have an existing member rotate on a branch without them (`byMember`).
 */
export interface EnvironmentFix {
  introduced: string[];
  revert: string;
  byMember: string;
}
