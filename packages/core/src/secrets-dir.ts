/**
 * Files of the secrets folder, read without keys: an environment file's names (with their
 * ranges), whether each value is encrypted, and the file's age recipients, through
 * `@stellar-secrets/sops`'s `parseSecretsFile`. Broken files still give their names (read with
 * a plain YAML fallback) plus `unencrypted-secrets-file` diagnostics.
 */
import {
  decodeUtf8,
  inspectAgeEnvelope,
  readKeyGroups,
  isSopsEncrypted,
  isSopsError,
  macAad,
  normalizeRecipient,
  otherMasterKeys,
  parseSecretsFile,
  resolveYamlV3Plain,
  sopsEncryptsPath,
  unsupportedCryptRule,
  type AgeEnvelopeInfo,
  type SecretsFile,
} from "@stellar-secrets/sops";
import { commentOfLine, findExcessiveNesting } from "@stellar-secrets/sops";
import { isMap, isScalar, isSeq, parseDocument } from "yaml";
import { compareDiagnostics, diagnosticAt, type Diagnostic } from "./diagnostics.js";
import { LineIndex, lineEndAt, loneCrAsLf, type TextRange } from "./position.js";
import { keyString, nodeRange } from "./yaml-nodes.js";
import { suggestSecretName, validateSecretName } from "./names.js";
import { commentCredentials, credentialAsName } from "./credentials.js";
import { shellPathWord } from "./shell.js";

/** One name defined in one environment file. */
export interface SecretDefinition {
  name: string;
  environment: string;
  /** The environment file, relative to the repository root. */
  file: string;
  /** Range of the key. */
  range: TextRange;
  /** Range of the stored value. */
  valueRange: TextRange;
  /** True when the value is "" (stored, but no value). */
  empty: boolean;
  /** True when the value is an ENC[...] string. */
  encrypted: boolean;
}

/** A parsed environment file (`<secrets_dir>/<env>.enc.yaml`). */
export interface EnvironmentFile {
  environment: string;
  /** Relative to the repository root. */
  path: string;
  lines: LineIndex;
  /** False when the file could not be read even with the fallback: its names are unknown. */
  readable: boolean;
  /** Names in file order. */
  entries: SecretDefinition[];
  /** The age recipients of the sops metadata (labels, not proof: see SOPS-FORMAT §4.5), undefined without valid metadata. */
  recipients: string[] | undefined;
  /** Where to report recipient problems (the `age:` key of the metadata, else the `sops:` key). */
  recipientsRange: TextRange | undefined;
  /**
   * The age stanzas in file order, each with what its header shows without a key (how many
   * recipient stanzas, of which types). Absent without valid metadata.
   */
  stanzas?: EnvironmentStanza[];
  /**
   * The non-age master keys of the metadata (`pgp`, `kms`, `key_groups`, ...), each type with how
   * many entries it has and where its key is: sops decrypts with any of them. Absent without valid
   * metadata; empty for a file stellar-secrets or sops wrote for age recipients.
   */
  otherMasterKeys?: { type: string; count: number; range: TextRange | undefined }[];
  /**
   * The file's sops key groups (Shamir secret sharing, `sops.key_groups`), read without a key:
   * each group's age stanzas (with what their headers show) and other keys (`pgp FP`, ...), and
   * the number of groups that decrypt it; or `problem` when the key groups cannot be read (sops
   * or stellar-secrets refuses the file). Absent for a file without key groups.
   */
  keyGroups?: EnvironmentKeyGroups;
  /** `unencrypted-secrets-file` (and `schema` for duplicate keys and nested values) at default severity. */
  diagnostics: Diagnostic[];
  /** The file's text, for rules that look at the stored bytes (`stale-mac`); absent when it could not be read. */
  text?: string;
  /**
   * True when the file holds nothing but blanks and comments (emptied by hand, or made with
   * `touch`): no metadata, no names; sops and every command refuse it until it is restored or
   * deleted, so its `unencrypted-secrets-file` error is the one finding (no value is reported
   * missing at each reference, with `set` as the fix that it refuses). Absent otherwise.
   */
  empty?: true;
}

/** The key groups of an environment file (see {@link EnvironmentFile.keyGroups}). */
export interface EnvironmentKeyGroups {
  /** Where `key_groups` is written. */
  range: TextRange | undefined;
  /**
   * How many groups decrypt the file: `shamir_threshold`; when none is written (`thresholdWritten`
   * false), the fewest that may (2 with several groups, 1 with one). Absent with `problem`.
   */
  threshold?: number;
  /** False when the file writes no `shamir_threshold` (sops then combines whatever groups open); absent with `problem`. */
  thresholdWritten?: boolean;
  groups: { stanzas: EnvironmentStanza[]; others: string[] }[];
  /** Why the readers refuse these key groups (MALFORMED_FILE), when they do. */
  problem?: string;
  /** Where `problem` is when it is not at `key_groups` (a quoted `shamir_threshold`). */
  problemRange?: TextRange;
  /** How to fix `problem`, when the readers say it (a quoted `shamir_threshold`: remove the quotes). */
  problemFix?: string;
}

/**
 * Each key group's age stanzas, by labels, without those whose age header (readable, with its
 * ephemeral share) already stood in an earlier group: one wrapping copied into two groups holds
 * one share, so it counts for one group only (a reader who opens both gets one share twice and
 * refuses the file). Pure, no key.
 */
export function shareStanzasOfGroups(kg: EnvironmentKeyGroups): EnvironmentStanza[][] {
  const earlier = new Set<string>();
  return kg.groups.map((g) => {
    const headers = g.stanzas.map((st) => (st.envelope.ok ? JSON.stringify(st.envelope.stanzas) : undefined));
    const fresh = g.stanzas.filter((_, i) => headers[i] === undefined || !earlier.has(headers[i]!));
    for (const h of headers) if (h !== undefined) earlier.add(h);
    return fresh;
  });
}

/** One age stanza of an environment file's metadata. */
export interface EnvironmentStanza {
  /** The `recipient` label, trimmed (not proof of who can decrypt). */
  recipient: string;
  /** The label's value in the file, when it could be located. */
  range: TextRange | undefined;
  /** The header of its armored age file (`enc`), read without a key. */
  envelope: AgeEnvelopeInfo;
}

/**
 * What `parseSecretsFile` made of each environment file's text in {@link parseEnvironmentFile}, kept
 * beside the model (not in it: a model is plain data, compared and copied as such) so that a rule
 * that reads the same text again (`stale-mac`) does not parse it twice. Dropped with the model.
 */
const secretsFiles = new WeakMap<EnvironmentFile, SecretsFile>();

/**
 * The sops reader's parse of `file.text` made when `file` was parsed ({@link parseEnvironmentFile}),
 * the same value `parseSecretsFile(file.text)` returns; undefined when the text did not parse (or
 * the model was not made by {@link parseEnvironmentFile}). Not to be changed: shared with the model.
 */
export function secretsFileOf(file: EnvironmentFile): SecretsFile | undefined {
  return secretsFiles.get(file);
}

const ENC = /^ENC\[AES256_GCM,data:[A-Za-z0-9+/=]*,iv:[A-Za-z0-9+/=]+,tag:[A-Za-z0-9+/=]+,type:[a-z]+\]$/;

/**
 * Parses one environment file. `path` is relative to the repository root. Never throws:
 * a file without valid SOPS metadata, or with a plaintext value, gives `unencrypted-secrets-file`
 * diagnostics (never showing the value) and its names from a plain YAML read when possible.
 */
export function parseEnvironmentFile(text: string, path: string, environment: string): EnvironmentFile {
  const lines = new LineIndex(text);
  const result: EnvironmentFile = {
    environment,
    path,
    lines,
    readable: true,
    entries: [],
    recipients: undefined,
    recipientsRange: undefined,
    diagnostics: [],
    text,
  };
  let parsed: SecretsFile | undefined;
  try {
    parsed = parseSecretsFile(text);
  } catch (e) {
    if (!isSopsError(e)) throw e;
    const at = e.line !== undefined ? lines.offsetAt(e.line, e.column ?? 1) : 0;
    const lineEnd = e.line !== undefined ? lines.offsetAt(e.line + 1, 1) : 0;
    const rule = e.code === "DUPLICATE_KEY" ? "schema" : "unencrypted-secrets-file";
    // plaintext and nested values, and a bad `version` in the metadata, are reported one by one by the fallback below;
    // conflict markers without the reader's hint: `stale-mac` says how to redo the merge, with the file's path
    const byFallback = e.reason === "plaintext-value" || e.reason === "nested-value" || e.reason === "null-value" || e.reason === "invalid-version";
    fallback(text, result);
    if (!byFallback) {
      const what = e.code === "NOT_ENCRYPTED" ? "is not encrypted" : "has no valid SOPS metadata";
      if (e.code === "NOT_ENCRYPTED" && e.message.includes("the file is empty")) {
        // (the reader's hint, `stellar-secrets init`, refuses an existing project)
        result.empty = true;
        result.diagnostics.push(
          diagnosticAt(
            "unencrypted-secrets-file",
            "error",
            path,
            lines,
            { start: 0, end: 0 },
            `${path} is empty (nothing but blanks or comments): it has no sops metadata and no secrets, and sops and stellar-secrets refuse it (\`set\` too); ` +
              `if git has a version of it, restore that (\`git checkout -- ${shellPathWord(path)}\`; \`git log -- ${shellPathWord(path)}\` shows its history); ` +
              `otherwise delete it: the first \`stellar-secrets set NAME --env ${environment}\` then creates it for ${environment}'s members`,
          ),
        );
        result.diagnostics.sort(compareDiagnostics);
        return result;
      }
      const message = e.message.replace(/^.*?:\d+(:\d+)?: /, "");
      // a name written twice is no metadata problem: say which line has it first, and the fix as the fix
      const dup = e.code === "DUPLICATE_KEY" ? /^secret "(.*)" appears twice$/.exec(message)?.[1] : undefined;
      const first = dup === undefined ? undefined : result.entries.find((x) => x.name === dup);
      const firstLine = first === undefined ? undefined : lines.positionAt(first.range.start).line;
      result.diagnostics.push(
        diagnosticAt(
          rule,
          "error",
          path,
          lines,
          { start: at, end: Math.max(at, lineEnd - 1) },
          dup !== undefined && firstLine !== undefined && firstLine !== e.line
            ? `${message} in ${path} (here and at line ${firstLine}), and sops and stellar-secrets refuse the file until one is left; ${e.hint ?? "remove one of the two entries"}`
            : `${path} ${what}: ${message}${e.hint && e.reason !== "conflict-markers" ? ` (${e.hint})` : ""}`,
        ),
      );
    }
    result.diagnostics.sort(compareDiagnostics);
    return result;
  }
  secretsFiles.set(result, parsed);
  for (const entry of parsed.entries) {
    result.entries.push({
      name: entry.name,
      environment,
      file: path,
      range: entry.nameRange,
      valueRange: entry.valueRange,
      empty: entry.raw === "",
      encrypted: entry.encrypted,
    });
  }
  result.recipients = parsed.recipients;
  result.recipientsRange = recipientsRangeOf(text, parsed.metadataRange.start);
  const labelRanges = recipientLabelRanges(text, parsed.metadataRange.start);
  result.stanzas = parsed.metadata.age.map((stanza, i) => ({
    recipient: stanza.recipient.trim(),
    range: labelRanges.length === parsed.metadata.age.length ? labelRanges[i] : undefined,
    envelope: inspectAgeEnvelope(stanza.enc),
  }));
  const sopsStart = parsed.metadataRange.start;
  result.otherMasterKeys = otherMasterKeys(parsed.metadata).map((k) => ({ ...k, range: metadataKeyRange(text, sopsStart, k.type) }));
  const groupsRaw = parsed.metadata.other.key_groups;
  if (groupsRaw !== undefined && groupsRaw !== null && !(Array.isArray(groupsRaw) && groupsRaw.length === 0)) {
    const range = metadataKeyRange(text, sopsStart, "key_groups");
    try {
      const kg = readKeyGroups(parsed.metadata, { text, from: sopsStart, format: parsed.format });
      if (kg !== undefined) {
        result.keyGroups = {
          range,
          threshold: kg.threshold,
          thresholdWritten: kg.thresholdWritten,
          groups: kg.groups.map((g) => ({ stanzas: g.age.map((a) => ({ recipient: a.recipient, range: undefined, envelope: inspectAgeEnvelope(a.enc) })), others: g.others })),
        };
      }
    } catch (e) {
      if (!isSopsError(e)) throw e;
      result.keyGroups = { range, groups: [], problem: e.message.replace(/^invalid sops metadata: /, "") };
      if (e.reason === "quoted-shamir-threshold") {
        const at = metadataKeyRange(text, sopsStart, "shamir_threshold");
        if (at !== undefined) result.keyGroups.problemRange = at;
        if (e.hint !== undefined) result.keyGroups.problemFix = e.hint.replace("FILE", path);
      }
    }
  }
  checkMetadata(result, text, { start: sopsStart, end: sopsStart + 4 }, parsed.metadata.mac, rawVersion(text, sopsStart) ?? parsed.metadata.version);
  checkLastModified(result, text, sopsStart, parsed.metadata.lastmodified);
  checkCryptRule(result, text, parsed);
  // a plain comment stays in clear (sops would have encrypted it): a credential in one is committed as is
  if (text.includes("#")) {
    for (const f of commentCredentials(text)) {
      result.diagnostics.push(
        diagnosticAt(
          "plaintext-credential",
          "error",
          path,
          lines,
          f.range,
          `a comment of ${path} holds what looks like ${f.what} in plain text (comments of an environment file are not encrypted by stellar-secrets); remove it, rotate it at its provider (git history keeps it), and set it with \`stellar-secrets set NAME --env ${environment}\``,
        ),
      );
    }
  }
  result.diagnostics.sort(compareDiagnostics);
  return result;
}

const CRYPT_RULE_KEYS = ["unencrypted_suffix", "encrypted_suffix", "unencrypted_regex", "encrypted_regex", "unencrypted_comment_regex", "encrypted_comment_regex"] as const;

/**
 * SOPS-FORMAT §3: sops decides from the metadata's crypt rule which leaves are encrypted, and reads
 * any other leaf as clear text, `ENC[...]` string and all, into its MAC. A rule under which an
 * encrypted value is "clear" (`encrypted_regex` matching no name, `unencrypted_suffix: _key`) or a
 * comment-based rule (which stellar-secrets cannot read) makes the file undecryptable by sops or
 * by stellar-secrets, while nothing else in it changed. Reported at the rule's key.
 */
function checkCryptRule(result: EnvironmentFile, text: string, parsed: SecretsFile): void {
  const meta = parsed.metadata;
  const key = CRYPT_RULE_KEYS.find((k) => meta[k] !== undefined);
  if (key === undefined) return;
  const sopsStart = parsed.metadataRange.start;
  const at = metadataKeyRange(text, sopsStart, key) ?? { start: sopsStart, end: sopsStart + 4 };
  const rule = `sops.${key}`;
  const restore = `restore the file from git (\`git checkout -- ${shellPathWord(result.path)}\`); stellar-secrets and sops write \`unencrypted_suffix: _unencrypted\``;
  const unsupported = unsupportedCryptRule(meta);
  if (unsupported !== undefined) {
    const why = unsupported.rule.includes("comment") ? "a comment-based encryption rule, which stellar-secrets cannot decrypt by" : unsupported.why;
    result.diagnostics.push(diagnosticAt("unencrypted-secrets-file", "error", result.path, result.lines, at, `${result.path}: ${rule} is ${why} (and no write of it sets); ${restore}`));
    return;
  }
  const clear = parsed.entries.filter((e) => e.encrypted && sopsEncryptsPath(meta, [e.name]) === false).map((e) => e.name);
  if (clear.length === 0) return;
  const shown = clear.slice(0, 5).join(", ") + (clear.length > 5 ? ", ..." : "");
  result.diagnostics.push(
    diagnosticAt(
      "unencrypted-secrets-file",
      "error",
      result.path,
      result.lines,
      at,
      `${result.path}: under ${rule} sops reads ${clear.length} encrypted value${clear.length === 1 ? "" : "s"} (${shown}) as clear text, ` +
        `so \`sops -d\` fails the MAC check and a sops write would store such a name unencrypted; ${restore}`,
    ),
  );
}

/** sops's own test of a version (§8.1): `X.Y.Z`, a leading `v` tolerated. */
const SEMVER = /^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/** The range of a key of the sops block (`mac`, `version`), found from the block's start. */
function metadataKeyRange(text: string, sopsStart: number, key: string): TextRange | undefined {
  const re = new RegExp(`^[ \\t]+${key}:`, "gm");
  re.lastIndex = sopsStart;
  const m = re.exec(text);
  if (m === null) return undefined;
  const start = m.index + m[0].indexOf(key);
  return { start, end: start + key.length };
}

/** The `version` of the sops block as written (a plain `3.10` must not read as the number 3.1). */
function rawVersion(text: string, sopsStart: number): string | undefined {
  const r = metadataKeyRange(text, sopsStart, "version");
  if (r === undefined) return undefined;
  const line = text.slice(r.end + 1, lineEndAt(text, r.end)).replace(/\r$/, "");
  // a comment after the value on its line is no part of it (YAML)
  const comment = commentOfLine(line);
  const raw = (comment === undefined ? line : line.slice(0, line.length - comment.length - 1)).trim();
  return raw.replace(/^(["'])(.*)\1$/, "$2");
}

/**
 * SOPS-FORMAT §8.4: a file is encrypted only when `sops.mac` and `sops.version` are both
 * non-empty, and sops refuses a `version` that is not X.Y.Z. Reports each problem at its key
 * (or at `sops:` when the key is missing).
 */
function checkMetadata(result: EnvironmentFile, text: string, sopsRange: TextRange, mac: string | undefined, version: string | undefined): void {
  const { path, lines } = result;
  const restore = `restore the file from git (\`git checkout -- ${shellPathWord(path)}\`)`;
  /** One error at the metadata key (or at `sops:` when the key is missing); `what` gets "missing"/"empty". */
  const report = (key: "mac" | "version", message: (state: "missing" | "empty") => string): void => {
    const at = metadataKeyRange(text, sopsRange.start, key);
    result.diagnostics.push(diagnosticAt("unencrypted-secrets-file", "error", path, lines, at ?? sopsRange, `${path}: ${message(at === undefined ? "missing" : "empty")}; ${restore}`));
  };
  if (mac === undefined || mac === "") {
    report("mac", (state) => `sops.mac is ${state}, so by SOPS's rules the file is not encrypted and its values cannot be verified`);
  }
  if (version === undefined || version === "") {
    report("version", (state) => `sops.version is ${state}, so by SOPS's rules the file is not encrypted (sops refuses to decrypt it)`);
  } else if (!SEMVER.test(version)) {
    report("version", () => `sops.version "${version.slice(0, 20)}" is not a version X.Y.Z (such as 3.10.2), so sops refuses to decrypt the file`);
  }
}

/**
 * SOPS-FORMAT §8.4: sops 3.13 and later map the `sops` block onto its metadata through the parsed
 * YAML, where an unquoted `lastmodified: 2026-01-02T03:04:05Z` is a timestamp, not the string the
 * field needs: such a file cannot be decrypted by those versions (older ones, and stellar-secrets,
 * read it). Every writer of sops and stellar-secrets quotes it. Reported at the key. `value` (the
 * field as read, when known): one that is no RFC 3339 time at all is reported instead, since every
 * version refuses it (sops parses it; it is the MAC's associated data).
 */
function checkLastModified(result: EnvironmentFile, text: string, sopsStart: number, value?: string): void {
  const r = metadataKeyRange(text, sopsStart, "lastmodified");
  if (r === undefined) return;
  if (value !== undefined && !isRfc3339Time(value)) {
    // the MAC's associated data: sops parses it as RFC 3339 and refuses the metadata, stellar-secrets cannot open the MAC
    const { path, lines } = result;
    result.diagnostics.push(
      diagnosticAt(
        "unencrypted-secrets-file",
        "error",
        path,
        lines,
        r,
        `${path}: sops.lastmodified "${value.slice(0, 40)}" is not an RFC 3339 time (such as 2026-01-02T03:04:05Z): sops refuses the metadata, and the MAC, encrypted with that time as its associated data, cannot be verified, so no one can decrypt the file; ` +
          `restore the file from git (\`git checkout -- ${shellPathWord(path)}\`)`,
      ),
    );
    return;
  }
  const raw = text.slice(r.end + 1, lineEndAt(text, r.end)).replace(/(?:^|[ \t])#.*$/, "").trim();
  let resolved: ReturnType<typeof resolveYamlV3Plain>;
  try {
    resolved = resolveYamlV3Plain(raw);
  } catch {
    return;
  }
  if (resolved?.type !== "time") return;
  const { path, lines } = result;
  result.diagnostics.push(
    diagnosticAt(
      "unencrypted-secrets-file",
      "error",
      path,
      lines,
      r,
      `${path}: sops.lastmodified is not quoted, so sops 3.13 and later read it as a timestamp and refuse to decrypt the file; ` +
        `quote it (\`lastmodified: "${raw.slice(0, 40)}"\`, as sops and stellar-secrets write it) or restore the file from git (\`git checkout -- ${shellPathWord(path)}\`)`,
    ),
  );
}

/** True when `value` is a time sops reads as `lastmodified` (RFC 3339; the MAC's associated data). */
function isRfc3339Time(value: string): boolean {
  try {
    macAad(value);
    return true;
  } catch {
    return false;
  }
}

/** Plain scalars under a nested value (a map or list), for the plaintext check. */
function leaves(node: unknown, out: unknown[] = []): unknown[] {
  if (isMap(node) || isSeq(node)) {
    for (const item of node.items) leaves(isMap(node) ? (item as { value?: unknown }).value : item, out);
  } else if (isScalar(node)) {
    out.push(node.value);
  } else {
    out.push(undefined);
  }
  return out;
}

/**
 * An environment file whose text cannot be read (not UTF-8, too large): unreadable, so its
 * names are unknown, with one `unencrypted-secrets-file` diagnostic at line 1 saying why and
 * that no `missing-environment-value` is reported for its environment.
 */
export function unreadableEnvironmentFile(path: string, environment: string, why: string, hint: string): EnvironmentFile {
  const lines = new LineIndex("");
  return {
    environment,
    path,
    lines,
    readable: false,
    entries: [],
    recipients: undefined,
    recipientsRange: undefined,
    diagnostics: [
      diagnosticAt(
        "unencrypted-secrets-file",
        "error",
        path,
        lines,
        { start: 0, end: 0 },
        `${path} ${why}, so it was not read: its encryption and names are not checked, and no missing-environment-value is reported for ${environment}; ${hint}`,
      ),
    ],
  };
}

/**
 * {@link parseEnvironmentFile} from the file's bytes: bytes that are not valid UTF-8 (which
 * sops refuses) give an unreadable file with an `unencrypted-secrets-file` diagnostic at line 1.
 */
export function parseEnvironmentBytes(bytes: Uint8Array, path: string, environment: string): EnvironmentFile {
  let text: string;
  try {
    text = decodeUtf8(bytes, { path, maxBytes: Number.MAX_SAFE_INTEGER });
  } catch (e) {
    if (!isSopsError(e) || e.code !== "INVALID_UTF8") throw e;
    return unreadableEnvironmentFile(path, environment, "is not valid UTF-8 text (sops cannot read it)", `restore it from git (\`git checkout -- ${shellPathWord(path)}\`)`);
  }
  return parseEnvironmentFile(text, path, environment);
}

/** The value ranges of every `recipient:` key after the metadata's start (YAML or JSON layout). */
function recipientLabelRanges(text: string, sopsStart: number): TextRange[] {
  const re = /^[ \t]*(?:-[ \t]+)?(["']?)recipient\1[ \t]*:[ \t]*(.*)$/gm;
  re.lastIndex = sopsStart;
  const out: TextRange[] = [];
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const value = (m[2] ?? "").replace(/,?\s*$/, "");
    const start = m.index + m[0].length - (m[2] ?? "").length;
    out.push({ start, end: start + value.length });
  }
  return out;
}

function recipientsRangeOf(text: string, sopsStart: number): TextRange {
  const re = /^[ \t]+age:/gm;
  re.lastIndex = sopsStart;
  const m = re.exec(text);
  if (m !== null) {
    const start = m.index + m[0].indexOf("age");
    return { start, end: start + 3 };
  }
  return { start: sopsStart, end: sopsStart + 4 };
}

/** Reads names and the metadata's presence with a plain YAML parse, flagging plaintext values. */
function fallback(text: string, result: EnvironmentFile): void {
  const { path, lines, environment } = result;
  let doc;
  // a lone CR is a line break (as in YAML and sops); the `yaml` package reads the same offsets with LF there
  const src = loneCrAsLf(text);
  if (findExcessiveNesting(src) !== undefined) {
    // never parsed (the envelope reader already reported the line)
    result.readable = false;
    return;
  }
  try {
    doc = parseDocument(src, { uniqueKeys: false, prettyErrors: false });
  } catch {
    result.readable = false;
    return;
  }
  const root = doc.contents;
  if (doc.errors.length > 0 || !isMap(root)) {
    result.readable = text.trim() === "";
    return;
  }
  let hasMetadata = false;
  for (const pair of root.items) {
    const name = keyString(pair);
    const keyRange = nodeRange(pair.key as never);
    if (name === undefined || keyRange === undefined) continue;
    if (name === "sops") {
      hasMetadata = true;
      result.recipientsRange = recipientsRangeOf(text, keyRange.start);
      const value = pair.value;
      if (isMap(value)) {
        const scalarOf = (key: string): string | undefined => {
          const v = value.items.find((p) => keyString(p) === key)?.value;
          if (!isScalar(v) || v.value === null) return undefined;
          return typeof v.value === "string" ? v.value : (v.source ?? String(v.value));
        };
        checkMetadata(result, text, keyRange, scalarOf("mac"), scalarOf("version"));
        checkLastModified(result, text, keyRange.start, scalarOf("lastmodified"));
        const age = value.items.find((p) => keyString(p) === "age")?.value;
        const js = (age as { toJSON?: () => unknown } | undefined)?.toJSON?.();
        if (Array.isArray(js)) {
          result.recipients = js
            .map((s) => (s !== null && typeof s === "object" ? (s as Record<string, unknown>).recipient : undefined))
            .filter((r): r is string => typeof r === "string")
            .map(normalizeRecipient);
          // the stanzas too, so a hidden reader is reported even in a file with other problems
          const stanzas = js.filter((s): s is Record<string, unknown> => s !== null && typeof s === "object" && typeof (s as Record<string, unknown>).recipient === "string");
          const labelRanges = recipientLabelRanges(text, keyRange.start);
          result.stanzas = stanzas.map((s, i) => ({
            recipient: (s.recipient as string).trim(),
            range: labelRanges.length === stanzas.length ? labelRanges[i] : undefined,
            envelope: inspectAgeEnvelope(typeof s.enc === "string" ? s.enc : ""),
          }));
        }
      }
      continue;
    }
    const value = pair.value;
    const valueRange = nodeRange(value as never) ?? keyRange;
    if (isMap(value) || isSeq(value)) {
      // sops encrypts nested values too, but an environment file maps each name to one string
      const plain = leaves(value).filter((v) => v !== "" && !(typeof v === "string" && ENC.test(v)));
      result.entries.push({ name, environment, file: path, range: keyRange, valueRange, empty: false, encrypted: plain.length === 0 });
      result.diagnostics.push(
        diagnosticAt(
          "schema",
          "error",
          path,
          lines,
          keyRange,
          `secret "${name}" has a nested value (a ${isMap(value) ? "map" : "list"}); an environment file maps each name to one string: store each part under its own name with \`stellar-secrets set NAME --env ${environment}\`, then remove "${name}" with \`stellar-secrets rm ${name}\``,
          { secret: name },
        ),
      );
      if (plain.length === 0) continue;
    }
    if (isScalar(value) && value.value === null) {
      // `name: null`, `name:` or `name: ~`: sops writes it for an entry left empty (no bytes in the MAC); not a credential
      result.entries.push({ name, environment, file: path, range: keyRange, valueRange, empty: true, encrypted: false });
      result.diagnostics.push(
        diagnosticAt(
          "schema",
          "error",
          path,
          lines,
          keyRange,
          `secret "${name}" has no value (null: sops writes one for an entry left empty), and stellar-secrets reads a string for each name: give it a value with \`stellar-secrets set ${settableName(name)} --env ${environment}\`, or remove the line; nothing else in the file can be read until then`,
          { secret: name },
        ),
      );
      continue;
    }
    const raw = isScalar(value) && typeof value.value === "string" ? value.value : undefined;
    const encrypted = raw !== undefined && ENC.test(raw);
    const empty = raw === "";
    if (!isMap(value) && !isSeq(value)) result.entries.push({ name, environment, file: path, range: keyRange, valueRange, empty, encrypted });
    if (!encrypted && !empty) {
      result.diagnostics.push(
        diagnosticAt(
          "unencrypted-secrets-file",
          "error",
          path,
          lines,
          valueRange,
          `secret "${name}" has a plaintext value instead of ENC[...]; ${plaintextValueFix(name, environment)}`,
          { secret: name },
        ),
      );
    }
  }
  if (!hasMetadata && !result.diagnostics.some((d) => d.line === 1 && d.column === 1)) {
    result.diagnostics.push(diagnosticAt("unencrypted-secrets-file", "error", path, lines, { start: 0, end: 0 }, `${path} has no SOPS metadata: it is not encrypted`));
  }
}

/**
 * Checks a file of the secrets folder that is neither an environment file nor the catalog
 * (`unencrypted-secrets-file` unless it is a valid SOPS file). `path` is relative to the root.
 */
export function checkOtherSecretsFile(text: string, path: string): Diagnostic[] {
  const copy = environmentFileCopy(path);
  if (copy !== undefined) {
    // (a decrypted copy, values in plaintext, is reported as such below: that is the worse finding)
    const decrypted = !isSopsEncrypted(text) && plaintextAssignments(text).length > 0;
    if (!decrypted) return [diagnosticAt("environment-file-copy", "error", path, new LineIndex(text), { start: 0, end: 0 }, environmentFileCopyMessage(path, copy))];
  }
  if (isSopsEncrypted(text)) return [];
  const lines = new LineIndex(text);
  // (only in a file named as values are kept: `.env`, `production.env`, `production.yaml`, `prod.dec.yaml`, `.properties`; never a README)
  const plain = copy !== undefined || /(?:^|\/)\.env(?:\.[^/]*)?$|\.(?:env|ya?ml|properties|ini)$/i.test(path) ? plaintextAssignments(text) : [];
  const base = `${path} is not a SOPS-encrypted file; the secrets folder holds only encrypted environment files (<env>.enc.yaml) and catalog.yaml`;
  let message = base;
  if (plain.length > 0) {
    // an export or a decrypted copy committed beside the environment files: say that its values are readable, and the fix
    const shown = plain.filter((a) => credentialAsName(a.name) === undefined).slice(0, 3);
    const named = shown.length === 0 ? "" : ` (${shown.map((a) => `line ${a.line}: ${a.name}`).join(", ")}${plain.length > shown.length ? ", …" : ""})`;
    const environment = copy?.environment ?? /^(?:.*\/)?\.?([a-z][a-z0-9_-]*)\.(?:env|ya?ml|properties|ini|dec\.ya?ml|plain\.ya?ml)$/i.exec(path)?.[1]?.toLowerCase();
    const env = environment !== undefined && environment !== "env" && environment !== "secrets" ? environment : "ENV";
    message =
      `${base}. It holds ${plain.length} value${plain.length === 1 ? "" : "s"} in plaintext${named}, an exported or decrypted copy of secrets?: whoever can read the repository reads them. ` +
      `Remove it (\`git rm --cached ${shellPathWord(path)}\`, and from git history if it was committed), rotate each value at its provider, and keep the values only in the encrypted environment files (\`stellar-secrets set NAME --env ${env}\`); a deploy reads them with \`stellar-secrets exec\`, or \`export\` to a file outside the repository`;
  }
  return [diagnosticAt("unencrypted-secrets-file", "error", path, lines, { start: 0, end: 0 }, message)];
}

/** What made a copy of an environment file, by its name's ending. */
type CopyMaker = "mergetool-backup" | "mergetool-temp" | "patch" | "editor";

/**
 * The environment file that the secrets-folder file `path` is a copy of, by its name, and what made
 * it: `production.enc.yaml.orig` (git mergetool's backup, mergetool.keepBackup; or patch's),
 * `production.enc_BACKUP_1234.yaml` and `_LOCAL_`, `_REMOTE_`, `_BASE_` (git mergetool's temporary
 * files; older gits wrote `.BACKUP.`), `.rej` (patch, `git apply --reject`), `~` and `.bak` (editors).
 */
export function environmentFileCopy(path: string): { original: string; environment: string; maker: CopyMaker } | undefined {
  const base = path.slice(path.lastIndexOf("/") + 1);
  const suffix = /^((?:[^/]+)\.enc\.(?:ya?ml|json))(\.orig|\.rej|\.bak|~)$/.exec(base);
  if (suffix !== null) {
    const original = suffix[1]!;
    const maker: CopyMaker = suffix[2] === ".orig" ? "mergetool-backup" : suffix[2] === ".rej" ? "patch" : "editor";
    return { original, environment: original.slice(0, original.indexOf(".enc.")), maker };
  }
  const temp = /^([^/]+?)\.enc(?:\.ya?ml)?[._](?:BACKUP|LOCAL|REMOTE|BASE)[._]\d+(?:\.ya?ml)?$/.exec(base);
  if (temp !== null) return { original: `${temp[1]!}.enc.yaml`, environment: temp[1]!, maker: "mergetool-temp" };
  return undefined;
}

function environmentFileCopyMessage(path: string, copy: { original: string; environment: string; maker: CopyMaker }): string {
  const by = {
    "mergetool-backup": "git mergetool's backup of it (mergetool.keepBackup), or patch's",
    "mergetool-temp": "a temporary file of git mergetool, left when the tool was stopped",
    patch: "the hunks patch or `git apply --reject` could not apply",
    editor: "an editor's backup",
  }[copy.maker];
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/") + 1) : "";
  const setup = copy.maker === "mergetool-backup" || copy.maker === "mergetool-temp" ? "; `stellar-secrets git setup` sets mergetool.keepBackup=false, so git mergetool leaves no such copy" : "";
  return (
    `${path} is a leftover of ${copy.environment}'s environment file ${dir}${copy.original} (${by}): no command reads it, \`rotate-key\` and member changes do not re-key it (whoever could read ${copy.environment} when it was made still can), and \`git add -A\` commits it. ` +
    `Delete it (\`rm ${shellPathWord(path)}\`, and \`git rm --cached ${shellPathWord(path)}\` if it was committed)${setup}`
  );
}

/**
 * The `NAME=value` (dotenv, `export NAME=value`) and top-level `name: value` lines of a text whose
 * value is not empty and not `ENC[…]`: values in plaintext (never returned, only where). Bounded
 * to the first 1,000 lines.
 */
function plaintextAssignments(text: string): { name: string; line: number }[] {
  const out: { name: string; line: number }[] = [];
  const all = text.split("\n", 1000);
  all.forEach((raw, i) => {
    const m = /^(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.-]*)[ \t]*(?:=|:[ \t])[ \t]*(.*)$/.exec(raw.replace(/\r$/, ""));
    if (m === null) return;
    const value = m[2]!.replace(/[ \t]+#.*$/, "").trim().replace(/^(["'])(.*)\1$/, "$2");
    if (value === "" || ENC.test(value) || value === "null" || value === "~" || value === "|" || value === ">") return;
    out.push({ name: m[1]!, line: i + 1 });
  });
  return out;
}

/** `name` when `stellar-secrets set` accepts it, else a corrected name (or the placeholder NAME): what a fix hint tells the person to set. */
/**
 * How to fix a plaintext value of `name` in an environment file: remove, rotate, then `set` it in
 * `environment` (the checker passes a declared one when the file's environment is not declared).
 */
export function plaintextValueFix(name: string, environment: string, note = ""): string {
  return `remove it from the file and from git history, rotate the credential, then set it with \`stellar-secrets set ${settableName(name)} --env ${environment}\`${note}${settableName(name) === name ? "" : ` (\`set\` refuses the name "${name}"; move its references too)`}`;
}

function settableName(name: string): string {
  if (credentialAsName(name) !== undefined) return "NAME"; // (a credential given as a name: never repeated)
  const v = validateSecretName(name);
  if (v.ok) return name;
  const fixed = v.suggestion ?? suggestSecretName(name);
  return fixed !== undefined && validateSecretName(fixed).ok ? fixed : "NAME";
}
