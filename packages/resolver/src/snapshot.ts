import {
  SopsError,
  decryptDocument,
  decryptSecrets,
  formatForPath,
  identityToRecipient,
  keyGroupsThresholdText,
  parseSecretsFile,
  readKeyGroups,
  type DecryptedDocument,
  type DecryptedSecrets,
  type SopsMetadata,
} from "@stellar-secrets/sops";
import { ResolverError, toResolverError, type ResolverErrorDetails } from "./errors.js";
import type { ResolverIdentities } from "./identities.js";

/**
 * Why a known name is not handed out (only in general SOPS files written by other tools): its
 * value is a map, a list or null, or it is stored in clear (`clear`: left unencrypted by the
 * file's `encrypted_regex`/`unencrypted_suffix`...; sops does not authenticate those rules).
 */
export type UnservedReason = "map" | "list" | "null" | "clear";

/**
 * One verified, immutable state of an environment file. The resolver swaps whole snapshots, so
 * a reader that took a snapshot sees all of its values and none of another's.
 */
export interface Snapshot {
  /** 1 for the first load, +1 for every successful reload that changed the file. */
  readonly generation: number;
  readonly environment: string;
  readonly file: string;
  /** Name → value as a string, as `sops -d` prints it: int `7`, float `3.14`, bool `true`/`false`. */
  readonly values: ReadonlyMap<string, string>;
  /** Names that are known but not handed out, and why (general SOPS files only). */
  readonly unserved: ReadonlyMap<string, UnservedReason>;
  /** Names whose value cannot go into an HTTP header verbatim (CR, LF or NUL). */
  readonly headerUnsafe: ReadonlySet<string>;
  /**
   * The file's age recipients (as labelled in its metadata): the top-level stanzas' labels, or,
   * in a key-groups file, every group's age labels in group order, each once.
   */
  readonly recipients: readonly string[];
  /** A key-groups file's groups (see {@link SnapshotKeyGroups}); absent for a file without key groups. */
  readonly keyGroups?: SnapshotKeyGroups;
  /** The file's `sops.lastmodified`. */
  readonly lastModified: string;
  /** The file's text (ciphertext and names, as on disk), to skip a reload when nothing changed. */
  readonly text: string;
  readonly loadedAt: Date;
}

/**
 * The key groups of a sops key-groups file (Shamir secret sharing, SOPS-FORMAT §5), as labelled
 * (labels are not proof: anyone who can write the file may set them without a key).
 */
export interface SnapshotKeyGroups {
  /**
   * How many groups' keys together decrypt the file: `shamir_threshold`; when the file writes none
   * (`thresholdWritten` false), the fewest that may (2 with several groups): the resolver then
   * combines the shares of whatever groups its keys open, as sops does, and the MAC decides.
   */
  readonly threshold: number;
  /** False when the file writes no `shamir_threshold`: how many groups its split needs is then not in the file. */
  readonly thresholdWritten: boolean;
  /** Each group's keys: age labels, and other master keys as `type id` (`pgp FBC7…`), in file order. */
  readonly groups: readonly { readonly age: readonly string[]; readonly others: readonly string[] }[];
}

/** The recipients of a file's metadata, and its key groups when it has them (see {@link Snapshot.recipients}). */
function recipientsOf(metadata: SopsMetadata, topLevel: readonly string[]): { recipients: string[]; keyGroups?: SnapshotKeyGroups } {
  // after a decrypt the groups read (it went through them); an error message's caller catches a refusal
  const kg = readKeyGroups(metadata);
  if (kg === undefined) return { recipients: [...topLevel] };
  const groups = kg.groups.map((g) => Object.freeze({ age: Object.freeze(g.age.map((s) => s.recipient.trim())), others: Object.freeze([...g.others]) }));
  return {
    recipients: [...new Set(groups.flatMap((g) => g.age))],
    keyGroups: Object.freeze({ threshold: kg.threshold, thresholdWritten: kg.thresholdWritten, groups: Object.freeze(groups) }),
  };
}

/** Where a snapshot comes from. */
export interface SnapshotSource {
  environment: string;
  file: string;
  generation: number;
  /** Defaults to the file extension (`.json` → json, `.yaml`/`.yml` → yaml), else the first character (`{` → json). */
  format?: "yaml" | "json";
}

/** The format of a SOPS file from its name, else from its first non-space character. */
export function detectFormat(file: string, text: string): "yaml" | "json" {
  const lower = file.toLowerCase();
  if (lower.endsWith(".json")) return "json";
  if (lower.endsWith(".yaml") || lower.endsWith(".yml")) return "yaml";
  return /^\s*\{/.test(text) ? "json" : "yaml";
}

const UNSAFE = /[\r\n\0]/;

/**
 * Decrypts and verifies an environment file's text into a {@link Snapshot}. Nothing is returned
 * unless every value's tag and the file's MAC verify (`@stellar-secrets/sops` guarantees it).
 *
 * A flat file (the environment-file format) takes the fast path. Any other SOPS file (nested
 * maps or lists, values left in clear by `encrypted_regex`, dotenv) is decrypted as a general
 * document, verified the same way, and only its encrypted top-level scalars are served; its maps,
 * lists and clear values are known names that `get` refuses (`NOT_A_STRING`, `NOT_ENCRYPTED`).
 *
 * Throws {@link ResolverError}: `NO_IDENTITY` (naming the file's recipients and where keys were
 * looked for) and every read code of the sops package (`NO_MATCHING_IDENTITY`, `MAC_MISMATCH`,
 * `TAMPERED`, `MALFORMED_FILE`, `DUPLICATE_KEY`, `NOT_ENCRYPTED`, `INVALID_UTF8`,
 * `FILE_TOO_LARGE`, `UNSUPPORTED`) with the `SopsError` as `cause`.
 */
export async function decryptSnapshot(text: string, identities: ResolverIdentities, source: SnapshotSource): Promise<Snapshot> {
  try {
    return await decryptVerified(text, identities, source);
  } catch (error) {
    throw await withOwnRecipients(cutShort(error, text), identities);
  }
}

/**
 * `NO_MATCHING_IDENTITY`: the public keys of the identities this process holds, beside the file's
 * recipients the message already lists, so whoever reads it can tell a key that is not a member
 * (ask for it to be added) from a file of another environment or a key file of another
 * environment (the recipients are some other environment's). Public keys are not secret.
 */
async function withOwnRecipients(error: unknown, identities: ResolverIdentities): Promise<unknown> {
  if (!(error instanceof ResolverError) || error.code !== "NO_MATCHING_IDENTITY") return error;
  // a key-groups file opened by too few groups: its message already says which groups the keys opened
  if ((error.cause as { reason?: unknown } | undefined)?.reason === "too-few-key-groups") return error;
  const own: string[] = [];
  for (const identity of identities.identities.slice(0, 8)) {
    try {
      own.push(await identityToRecipient(identity));
    } catch {
      // a post-quantum key without the optional age-encryption, an SSH key: not listed
    }
  }
  if (own.length === 0) return error;
  const more = identities.identities.length > 8 ? ` and ${identities.identities.length - 8} more` : "";
  const details: ResolverErrorDetails = { cause: error.cause ?? error };
  if (error.environment !== undefined) details.environment = error.environment;
  if (error.file !== undefined) details.file = error.file;
  if (error.line !== undefined) details.line = error.line;
  if (error.hint !== undefined) details.hint = error.hint;
  return new ResolverError(
    error.code,
    `${error.message}. The identities this process holds are for: ${own.join(", ")}${more} (public keys). None is a recipient: if the recipients are another environment's members, this is another environment's file or key.`,
    details,
  );
}

/**
 * A file refused as not SOPS (`NOT_ENCRYPTED`, `MALFORMED_FILE`) that looks cut short: empty,
 * encrypted values with no `sops` block after them, or no final line break. That is what a reader
 * finds while a deploy writes the file in place, or after a copy that stopped (a full disk): the
 * message said "the file is not encrypted", which sent people looking for plaintext. The code
 * stays; the message says so, and the hint says how deploys avoid it (a rename is atomic).
 */
function cutShort(error: unknown, text: string): unknown {
  if (!(error instanceof ResolverError) || (error.code !== "NOT_ENCRYPTED" && error.code !== "MALFORMED_FILE")) return error;
  const empty = text.length === 0;
  const noMetadata = text.includes("ENC[AES256_GCM,") && !/^sops:|^\s*"sops"\s*:/m.test(text);
  const unfinished = !empty && !noMetadata && text.endsWith("\n") && endsInsideSopsBlock(text);
  if (!empty && !noMetadata && !unfinished && text.endsWith("\n")) return error;
  const what = empty
    ? "The file is empty"
    : noMetadata
      ? "The file has encrypted values but ends before its sops metadata"
      : unfinished
        ? "The file ends inside its sops metadata, before `version` (which sops writes last)"
        : "The file does not end with a line break";
  const details: ResolverErrorDetails = {
    hint: "Restore the file from git; a deploy that writes it should write a temporary file in the same folder and rename it over this one (a rename is atomic: a reader sees the old file or the new one, never part of one).",
    cause: error.cause ?? error,
  };
  if (error.environment !== undefined) details.environment = error.environment;
  if (error.file !== undefined) details.file = error.file;
  if (error.line !== undefined) details.line = error.line;
  return new ResolverError(error.code, `${error.message}${error.message.endsWith(".") ? "" : "."} ${what}: it may be cut short (a copy that stopped, or read while a deploy was writing it).`, details);
}

/**
 * A YAML file whose `sops` block is its last top-level key and has no `version`: sops and
 * stellar-secrets write `version` as the block's last field, so such a file most likely stopped at
 * a line end inside the block (a cut at any other point already ends without a line break).
 */
function endsInsideSopsBlock(text: string): boolean {
  const start = /^sops:[ \t]*$/m.exec(text);
  if (start === null) return false;
  const block = text.slice(start.index + start[0].length);
  return !/^[^\s#]/m.test(block) && !/^[ \t]+version:/m.test(block);
}

async function decryptVerified(text: string, identities: ResolverIdentities, source: SnapshotSource): Promise<Snapshot> {
  const { environment, file } = source;
  const format = source.format ?? detectFormat(file, text);
  if (identities.identities.length === 0) throw noIdentity(text, identities, source, format);
  const keys = { identities: identities.identities, sources: identities.searched };
  // sops's dotenv store (`.env`) is flat too, but only the general reader knows its syntax.
  if (formatForPath(file) === "dotenv") return viaDocument(text, keys, source, "dotenv");
  let decrypted: DecryptedSecrets;
  try {
    decrypted = await decryptSecrets(text, keys, { path: file, format });
  } catch (error) {
    if (!(error instanceof SopsError) || (error.code !== "MALFORMED_FILE" && error.code !== "NOT_ENCRYPTED")) {
      throw toResolverError(error, environment, file);
    }
    // Not a flat environment file. If it is a valid SOPS document (nested values, values left in
    // clear by its rules), serve its encrypted top-level scalars; if it is not, the general
    // reader's error (same codes: it enforces the file's crypt rules) is the one to report.
    return viaDocument(text, keys, source, format);
  }
  try {
    const values = new Map(decrypted.values);
    for (const entry of decrypted.file.entries) {
      if (entry.type === "bool") values.set(entry.name, values.get(entry.name)!.toLowerCase());
    }
    return freeze({
      generation: source.generation,
      environment,
      file,
      values,
      unserved: new Map(),
      headerUnsafe: unsafeNames(values),
      ...recipientsOf(decrypted.file.metadata, decrypted.file.recipients),
      lastModified: decrypted.file.metadata.lastmodified,
      text,
      loadedAt: new Date(),
    });
  } finally {
    decrypted.dataKey.fill(0);
  }
}

async function viaDocument(
  text: string,
  keys: { identities: string[]; sources: string[] },
  source: SnapshotSource,
  format: "yaml" | "json" | "dotenv",
): Promise<Snapshot> {
  let document: DecryptedDocument;
  try {
    document = await decryptDocument(text, keys, { path: source.file, format });
  } catch (error) {
    throw toResolverError(error, source.environment, source.file);
  }
  try {
    return fromDocument(document, source, text);
  } finally {
    document.dataKey.fill(0);
  }
}

function fromDocument(document: DecryptedDocument, source: SnapshotSource, text: string): Snapshot {
  const { environment, file } = source;
  const tree = document.tree;
  if (typeof tree !== "object" || tree === null || Array.isArray(tree)) {
    throw new ResolverError(
      "MALFORMED_FILE",
      `environment ${environment}: ${file} does not hold one mapping of names to values. Environment files are flat name: value maps.`,
      { environment, file, hint: "Keep one YAML/JSON mapping of names to string values in the file." },
    );
  }
  const scalars = new Map<string, DecryptedDocument["leaves"][number]>();
  for (const leaf of document.leaves) {
    const [name] = leaf.path;
    if (leaf.path.length === 1 && name !== undefined && !scalars.has(name)) scalars.set(name, leaf);
  }
  const values = new Map<string, string>();
  const unserved = new Map<string, UnservedReason>();
  for (const [name, value] of Object.entries(tree as Record<string, unknown>)) {
    if (name === "sops") continue;
    const leaf = scalars.get(name);
    if (value === null || value === undefined) unserved.set(name, "null");
    else if (Array.isArray(value)) unserved.set(name, "list");
    else if (typeof value === "object") unserved.set(name, "map");
    else if (leaf === undefined || (!leaf.encrypted && leaf.plaintext !== "")) unserved.set(name, "clear");
    else values.set(name, leaf.type === "bool" ? leaf.plaintext.toLowerCase() : leaf.plaintext);
  }
  return freeze({
    generation: source.generation,
    environment,
    file,
    values,
    unserved,
    headerUnsafe: unsafeNames(values),
    ...recipientsOf(document.metadata, document.metadata.age.map((stanza) => stanza.recipient.trim())),
    lastModified: document.metadata.lastmodified,
    text,
    loadedAt: new Date(),
  });
}

function unsafeNames(values: ReadonlyMap<string, string>): Set<string> {
  const unsafe = new Set<string>();
  for (const [name, value] of values) if (UNSAFE.test(value)) unsafe.add(name);
  return unsafe;
}

function freeze(snapshot: Snapshot): Snapshot {
  return Object.freeze(snapshot);
}

function noIdentity(text: string, identities: ResolverIdentities, source: SnapshotSource, format: "yaml" | "json"): ResolverError {
  const { environment, file } = source;
  let recipients = "";
  try {
    const parsed = parseSecretsFile(text, { path: file, format });
    // a key-groups file has no top-level recipient: its groups' labels, and how many groups decrypt together
    const { recipients: labels, keyGroups } = recipientsOf(parsed.metadata, parsed.recipients);
    const together =
      keyGroups === undefined
        ? ""
        : keyGroups.groups.length === 1
          ? " (one sops key group: any one of them decrypts)"
          : ` (in ${keyGroups.groups.length} sops key groups: ${keyGroupsThresholdText(keyGroups)} decrypt together)`;
    recipients = labels.length > 0 ? ` It is encrypted to: ${labels.join(", ")}${together}.` : "";
  } catch {
    // Recipients are a courtesy here; a malformed file is reported once a key is present.
  }
  // a source that was set but gave no key says what is wrong with it; else where to put a key
  const hint =
    identities.problem ?? "Set SOPS_AGE_KEY_FILE to the path of this environment's age key file (or SOPS_AGE_KEY to its contents), or pass identities to createResolver.";
  return new ResolverError(
    "NO_IDENTITY",
    `environment ${environment}: no age identity to decrypt ${file}.${recipients} Looked in: ${identities.searched.join("; ")}. ${hint}`,
    { environment, file, hint },
  );
}
