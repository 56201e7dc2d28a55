import { createHash } from "node:crypto";
import {
  SopsError,
  decryptDocument,
  decryptSecrets,
  formatForPath,
  parseSecretsFile,
  type DecryptedDocument,
} from "@stellar-secrets/sops";
import { ResolverError, toResolverError } from "./errors.js";
import type { ResolverIdentities } from "./identities.js";

/** The shape of a name whose value is not a scalar (only in nested, non-environment SOPS files). */
export type NestedShape = "map" | "list" | "null";

/**
 * One verified, immutable state of an environment file. The resolver swaps whole snapshots, so
 * a reader that took a snapshot sees all of its values and none of another's.
 */
export interface Snapshot {
  /** 1 for the first load, +1 for every successful reload that changed the file. */
  readonly generation: number;
  readonly environment: string;
  readonly file: string;
  /** Name → value as a string (int/float/bool in their canonical sops form, such as `7`, `3.14`, `true`). */
  readonly values: ReadonlyMap<string, string>;
  /** Names whose value is a map, a list or null (nested files only): known, but not handed out. */
  readonly nested: ReadonlyMap<string, NestedShape>;
  /** Names whose value cannot go into an HTTP header verbatim (CR, LF or NUL). */
  readonly headerUnsafe: ReadonlySet<string>;
  /** The file's age recipients (as labelled in its metadata). */
  readonly recipients: readonly string[];
  /** The file's `sops.lastmodified`. */
  readonly lastModified: string;
  /** SHA-256 of the file text, to skip a reload when nothing changed. */
  readonly digest: string;
  readonly loadedAt: Date;
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

/** SHA-256 hex of a text, for {@link Snapshot.digest}. */
export function digestText(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

const UNSAFE = /[\r\n\0]/;

/**
 * Decrypts and verifies an environment file's text into a {@link Snapshot}. Nothing is returned
 * unless every value's tag and the file's MAC verify (`@stellar-secrets/sops` guarantees it).
 *
 * A flat file (the environment-file format) takes the fast path. A SOPS file with nested maps or
 * lists (written by other tools) is decrypted as a general document, verified the same way, and
 * its top-level scalars are served; its maps and lists are known names that `get` refuses with
 * `NOT_A_STRING`.
 *
 * Throws {@link ResolverError}: `NO_IDENTITY` (naming the file's recipients and where keys were
 * looked for) and every read code of the sops package (`NO_MATCHING_IDENTITY`, `MAC_MISMATCH`,
 * `TAMPERED`, `MALFORMED_FILE`, `DUPLICATE_KEY`, `NOT_ENCRYPTED`, `INVALID_UTF8`,
 * `FILE_TOO_LARGE`, `UNSUPPORTED`) with the `SopsError` as `cause`.
 */
export async function decryptSnapshot(text: string, identities: ResolverIdentities, source: SnapshotSource): Promise<Snapshot> {
  const { environment, file } = source;
  const format = source.format ?? detectFormat(file, text);
  if (identities.identities.length === 0) throw noIdentity(text, identities, source, format);
  const keys = { identities: identities.identities, sources: identities.searched };
  const digest = digestText(text);
  try {
    const decrypted = await decryptSecrets(text, keys, { path: file });
    try {
      const values = new Map(decrypted.values);
      return freeze({
        generation: source.generation,
        environment,
        file,
        values,
        nested: new Map(),
        headerUnsafe: unsafeNames(values),
        recipients: [...decrypted.file.recipients],
        lastModified: decrypted.file.metadata.lastmodified,
        digest,
        loadedAt: new Date(),
      });
    } finally {
      decrypted.dataKey.fill(0);
    }
  } catch (error) {
    if (!(error instanceof SopsError) || error.code !== "MALFORMED_FILE") throw toResolverError(error, environment, file);
    // Not a flat environment file. If it is a valid SOPS document with nested values, serve its
    // top-level scalars; if it is not, the general reader's error is the one to report.
    let document: DecryptedDocument;
    try {
      // dotenv files (sops's `.env` store) are flat too, but only the general reader knows them.
      document = await decryptDocument(text, keys, { path: file, format: formatForPath(file) === "dotenv" ? "dotenv" : format });
    } catch (documentError) {
      throw toResolverError(documentError, environment, file);
    }
    try {
      return fromDocument(document, source, digest);
    } finally {
      document.dataKey.fill(0);
    }
  }
}

function fromDocument(document: DecryptedDocument, source: SnapshotSource, digest: string): Snapshot {
  const { environment, file } = source;
  const tree = document.tree;
  if (typeof tree !== "object" || tree === null || Array.isArray(tree)) {
    throw new ResolverError(
      "MALFORMED_FILE",
      `environment ${environment}: ${file} does not hold one mapping of names to values. Environment files are flat name: value maps.`,
      { environment, file, hint: "Keep one YAML/JSON mapping of names to string values in the file." },
    );
  }
  const scalars = new Map<string, string>();
  for (const leaf of document.leaves) {
    const [name] = leaf.path;
    if (leaf.path.length === 1 && name !== undefined && !scalars.has(name)) scalars.set(name, leaf.plaintext);
  }
  const values = new Map<string, string>();
  const nested = new Map<string, NestedShape>();
  for (const [name, value] of Object.entries(tree as Record<string, unknown>)) {
    if (name === "sops") continue;
    if (value === null || value === undefined) nested.set(name, "null");
    else if (Array.isArray(value)) nested.set(name, "list");
    else if (typeof value === "object") nested.set(name, "map");
    else {
      const plaintext = scalars.get(name);
      values.set(name, plaintext ?? String(value));
    }
  }
  return freeze({
    generation: source.generation,
    environment,
    file,
    values,
    nested,
    headerUnsafe: unsafeNames(values),
    recipients: document.metadata.age.map((stanza) => stanza.recipient.trim()),
    lastModified: document.metadata.lastmodified,
    digest,
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
    recipients = parsed.recipients.length > 0 ? ` It is encrypted to: ${parsed.recipients.join(", ")}.` : "";
  } catch {
    // Recipients are a courtesy here; a malformed file is reported once a key is present.
  }
  const hint = "Set SOPS_AGE_KEY_FILE to the path of this environment's age key file (or SOPS_AGE_KEY to its contents), or pass identities to createResolver.";
  return new ResolverError(
    "NO_IDENTITY",
    `environment ${environment}: no age identity to decrypt ${file}.${recipients} Looked in: ${identities.searched.join("; ")}. ${hint}`,
    { environment, file, hint },
  );
}
