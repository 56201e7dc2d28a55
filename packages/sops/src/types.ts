/**
 * Data shapes of the SOPS envelope shared by every module of this package.
 */

import type { TextRange } from "./position.js";

export type { TextRange } from "./position.js";

/** One `name: value` entry of a flat secrets file, as stored (no decryption). */
export interface SecretEntry {
  name: string;
  /** The stored value: an `ENC[...]` string, or "" (empty values are never encrypted). */
  raw: string;
  /** True when `raw` matches the ENC grammar. */
  encrypted: boolean;
  /** The ENC `type:` field when encrypted. */
  type?: string;
  /** The key. */
  nameRange: TextRange;
  /** The value scalar. */
  valueRange: TextRange;
}

/** One age master key: the recipient label and the armored wrapped data key. */
export interface AgeStanza {
  recipient: string;
  enc: string;
}

/** The `sops` metadata block. */
export interface SopsMetadata {
  age: AgeStanza[];
  lastmodified: string;
  mac: string;
  version: string;
  unencrypted_suffix?: string;
  encrypted_suffix?: string;
  unencrypted_regex?: string;
  encrypted_regex?: string;
  unencrypted_comment_regex?: string;
  encrypted_comment_regex?: string;
  mac_only_encrypted?: boolean;
  /** Every other field (pgp, kms, key_groups, ...), kept as read. */
  other: Record<string, unknown>;
}

/** A flat `name: value` environment file (`secrets/<env>.enc.yaml`), parsed without keys. */
export interface SecretsFile {
  format: "yaml" | "json";
  /** Entries in file order. */
  entries: SecretEntry[];
  metadata: SopsMetadata;
  /** The `recipient` labels of the age stanzas, trimmed. Labels are not proof (spec §4.5). */
  recipients: string[];
  /** From the `sops` key to the end of its block. */
  metadataRange: TextRange;
  /**
   * The file's comments (each the text after `#`: an encrypted one is `ENC[...,type:comment]`,
   * as sops writes them), absent when it has none. Every stellar-secrets write keeps them.
   */
  comments?: FlatComments;
  /**
   * The `sops:` block as written (to the end of the file), present only for a YAML file whose
   * metadata uses `key_groups` (sops Shamir) with that block last: writes that keep the data key
   * (`set`, `rm`, `rename`) keep it byte for byte but for `lastmodified` and `mac`.
   */
  keptMetadata?: string;
  /**
   * `\r\n` when the file is written with CRLF ({@link lineBreakOf}: its first line break is one):
   * every write of the file writes each line with it. Absent otherwise (LF, and a lone-CR file,
   * which writes turn into LF).
   */
  lineBreak?: "\r\n";
}

/** Where the comments of a flat file are, as sops's YAML store places them; each is the text after `#`. */
export interface FlatComments {
  /** Lines above the first entry. */
  header: string[];
  /** Lines above an entry (not the first), by name. */
  above: Map<string, string[]>;
  /** The comment after an entry's value, on its line, by name. */
  inline: Map<string, string>;
  /** Lines after the last entry, before `sops:`. */
  footer: string[];
}

/** A verified, decrypted flat secrets file. Keep it in memory only. */
export interface DecryptedSecrets {
  file: SecretsFile;
  /** name → plaintext; non-string types as `sops -d` prints them (ints and floats canonical, booleans `true`/`false`). */
  values: Map<string, string>;
  dataKey: Uint8Array;
}

/** One leaf of a general SOPS document, in MAC walk order. */
export interface DocumentLeaf {
  path: string[];
  aad: string;
  type: string;
  /** The canonical plaintext. */
  plaintext: string;
  encrypted: boolean;
  inMac: boolean;
}

/** One comment of a general SOPS document (never in the MAC). */
export interface DocumentComment {
  aad: string;
  /** Decrypted text, or the stored text when it was clear or did not decrypt. */
  text: string;
  encrypted: boolean;
}

/** A verified, decrypted general SOPS document (YAML, JSON, dotenv or binary store). */
export interface DecryptedDocument {
  format: "yaml" | "json" | "dotenv" | "binary";
  /** The plaintext tree (one per YAML document when there are several: then `trees`). */
  tree: unknown;
  trees: unknown[];
  metadata: SopsMetadata;
  macHex: string;
  dataKey: Uint8Array;
  leaves: DocumentLeaf[];
  comments: DocumentComment[];
}

/** Options for writing a new file. */
export interface EncryptOptions {
  /** age recipients (`age1…`), one stanza each, in this order. */
  recipients: string[];
  /** The clock, for `lastmodified` (default: now). */
  now?: Date;
  /** The sops version written in the metadata (default "3.10.2", whose layout is reproduced). */
  version?: string;
  /** The line break every line is written with (default `\n`): a rewritten file's own ({@link SecretsFile.lineBreak}). */
  lineBreak?: "\n" | "\r\n" | "\r";
}
