/**
 * The `stale-mac` rule: environment files that cannot decrypt, caught without a key. A real write
 * (stellar-secrets or sops) always changes `mac` and `lastmodified` and never reuses an IV, so
 * - values that differ from the committed version under a byte-identical `mac` and `lastmodified`,
 * - a byte-identical `mac` under another `lastmodified` (the MAC's AAD) or `mac_only_encrypted`
 *   (which changes what the MAC hashes), and another `mac` under the same values and `lastmodified`,
 * - the same ciphertext under two names, or a committed one under another name,
 * - an ENC string (a value's or the MAC's) that no key can open (bad base64, IV or tag length),
 * - age stanzas none of which holds a 32-byte data key (a payload cut or grown), and
 * - leftover merge conflict markers
 * all mean the file was edited or merged by hand, and no one can decrypt it (MAC mismatch).
 */
import { agePayloadBytes, ciphertextIdentity, CONFLICT_MARKER_LINE, encStringProblem, macAad, WRAPPED_DATA_KEY_PAYLOAD_BYTES, parseSecretsFile, type SecretsFile } from "@stellar-secrets/sops";
import { diagnosticAt, type Diagnostic } from "./diagnostics.js";
import { textLines, type LineIndex, type TextRange } from "./position.js";
import type { Severity } from "./rules.js";
import { shellPathWord } from "./shell.js";

/** The types sops gives a value (SOPS-FORMAT §2.3); `comment` is for comments only. */
const VALUE_TYPES: ReadonlySet<string> = new Set(["str", "int", "float", "bool", "time", "bytes"]);

/** A line git writes around a conflict (`<<<<<<< `, `=======`, `>>>>>>> `, and diff3's `||||||| `): sops owns the pattern. */
const MARKER = CONFLICT_MARKER_LINE;

/** The environment file being checked. */
export interface StaleMacTarget {
  text: string;
  /** Relative to the repository root. */
  path: string;
  environment: string;
  lines: LineIndex;
  /**
   * `parseSecretsFile(text)` when the caller already has it (the loader's, see `secretsFileOf`),
   * so that the text is not parsed again; undefined: parsed here. Read, never changed.
   */
  parsed?: SecretsFile;
}

function tryParse(text: string): SecretsFile | undefined {
  try {
    return parseSecretsFile(text);
  } catch {
    return undefined;
  }
}

/** The range of the `mac` key of the sops block (else the `sops` key). */
function macRange(text: string, file: SecretsFile): TextRange {
  return metadataKeyRange(text, file, "mac");
}

/** The range of a key of the sops block (`mac`, `age`), else of the `sops` key. */
function metadataKeyRange(text: string, file: SecretsFile, key: string): TextRange {
  const re = new RegExp(`^[ \\t]+${key}:`, "gm");
  re.lastIndex = file.metadataRange.start;
  const m = re.exec(text);
  if (m === null) return { start: file.metadataRange.start, end: file.metadataRange.start + 4 };
  const start = m.index + m[0].indexOf(key);
  return { start, end: start + key.length };
}

function sameEntries(a: SecretsFile, b: SecretsFile): boolean {
  return a.entries.length === b.entries.length && a.entries.every((e, i) => e.name === b.entries[i]!.name && e.raw === b.entries[i]!.raw);
}

/** The IV of an ENC string (unique per write), or undefined for "" values. */
function ivOf(raw: string): string | undefined {
  return /,iv:([^,\]]+),/.exec(raw)?.[1];
}

/**
 * The `stale-mac` diagnostics of one environment file at `severity`: conflict markers and
 * ciphertext shared by two names (in the file alone), and values changed under the `mac` and
 * `lastmodified` of a committed version (each of `committed`, e.g. HEAD and a merge's other side).
 * Never throws; a file that does not parse only gets its marker diagnostics (other rules report it).
 */
export function checkStaleMac(target: StaleMacTarget, committed: readonly string[] = [], severity: Severity = "error", committedEdit?: "head" | "restored"): Diagnostic[] {
  const { text, path, environment, lines } = target;
  // A hand edit already committed (`committedEdit`): HEAD and its parent share a MAC over other
  // values, so restoring HEAD's version restores the edit; and a file restored from the parent
  // still shares HEAD's MAC. Either way the version that decrypts must be written anew.
  const anew = `write it anew so its MAC is not the hand edit's (\`stellar-secrets rotate-key --env ${environment}\`, or make the change with \`stellar-secrets set\`), then commit`;
  const restore =
    committedEdit === "head"
      ? `restore the version before the commit that made this edit (\`git checkout HEAD~1 -- ${shellPathWord(path)}\`; \`stellar-secrets get NAME --env ${environment}\` opens it), then ${anew}`
      : committedEdit === "restored"
        ? `this is the version before HEAD's hand edit: ${anew}`
        : `restore it (\`git checkout -- ${shellPathWord(path)}\`)`;
  const restoreFile = committedEdit === undefined ? `restore the file (\`git checkout -- ${shellPathWord(path)}\`)` : restore;
  const out: Diagnostic[] = [];
  const report = (range: TextRange, message: string, secret?: string): void => {
    out.push(diagnosticAt("stale-mac", severity, path, lines, range, message, secret === undefined ? undefined : { secret }));
  };
  const redo =
    `redo the change: during a merge, rebase or cherry-pick, \`git checkout -m -- ${shellPathWord(path)}\` re-runs the merge with the stellar-secrets merge driver ` +
    `(\`stellar-secrets git setup\` configures it), then \`stellar-secrets resolve NAME --env ${environment} --ours|--theirs\` for each conflict; ` +
    (committedEdit === undefined ? `otherwise ${restore} and make the change with \`stellar-secrets set\`` : `otherwise ${restore}`);

  let markers = 0;
  for (const line of textLines(text)) {
    if (MARKER.test(line.text)) {
      markers++;
      if (markers === 1) {
        report({ start: line.start, end: line.start + line.text.length }, `${path} still has git conflict markers: it was merged as text, so no one can decrypt it; ${redo}`);
      }
    }
  }
  if (markers > 0) return out;

  const file = target.parsed ?? tryParse(text);
  if (file === undefined) return out;

  // a value under a type no writer gives a value (a comment, or one sops does not know) does not decrypt
  for (const e of file.entries) {
    const type = e.type as string | undefined;
    if (type === undefined || VALUE_TYPES.has(type)) continue;
    report(e.nameRange, `secret "${e.name}" in ${path} is stored with type "${type.slice(0, 20)}", which no write gives a value (the type is covered by no tag): it was edited by hand, and it does not decrypt; ${restoreFile}`, e.name);
  }

  // an ENC string whose grammar, base64, IV or tag length no key can open (the checks the envelope
  // makes before decrypting): a value's makes the whole file undecryptable, the MAC's too
  for (const e of file.entries) {
    if (e.raw === "" || !e.encrypted || out.some((d) => d.secret === e.name)) continue;
    const problem = encStringProblem(e.raw);
    if (problem === undefined) continue;
    report(e.nameRange, `secret "${e.name}" in ${path} has an ENC string no key can open (${problem}): it was edited by hand, and the file does not decrypt; ${restoreFile}`, e.name);
  }
  const macProblem = file.metadata.mac === "" ? undefined : encStringProblem(file.metadata.mac);
  if (macProblem !== undefined) {
    report(macRange(text, file), `sops.mac of ${path} is an ENC string no key can open (${macProblem}): it was edited by hand, so no one can verify or decrypt the file; ${restoreFile}`);
  }

  // the age stanzas: when none holds a 32-byte data key (a payload cut or grown by hand; headers still
  // readable: an unreadable one is recipient-drift's), no one can decrypt the file
  const payloads = file.metadata.age.map((s) => agePayloadBytes(s.enc));
  if (payloads.length > 0 && !payloads.includes(WRAPPED_DATA_KEY_PAYLOAD_BYTES) && payloads.some((p) => p !== undefined)) {
    const sizes = [...new Set(payloads.filter((p): p is number => p !== undefined))].join(", ");
    report(
      metadataKeyRange(text, file, "age"),
      `no age stanza of ${path} holds a data key: the payload of ${payloads.length === 1 ? "its stanza" : "each readable stanza"} is ${sizes} bytes, where a wrapped 32-byte data key takes ${WRAPPED_DATA_KEY_PAYLOAD_BYTES} (nonce, key, tag): it was edited by hand, and no one can decrypt the file; ${restoreFile}`,
    );
  }

  const byIv = new Map<string, string>();
  for (const e of file.entries) {
    const iv = ivOf(e.raw);
    if (iv === undefined) continue;
    const first = byIv.get(iv);
    if (first === undefined) {
      byIv.set(iv, e.name);
      continue;
    }
    report(e.nameRange, `secret "${e.name}" has the same ciphertext as "${first}" (a write never reuses one): it was copied by hand, so ${path} cannot be decrypted; ${redo}, or set it again with \`stellar-secrets set ${e.name} --env ${environment}\``, e.name);
  }

  // each committed version parsed once, for both comparisons below
  const earlier = committed.map(tryParse).filter((v): v is SecretsFile => v !== undefined);
  // the type of an ENC string is covered by no tag: a committed ciphertext under another type was edited by hand
  // (a write that keeps a value copies its ENC string whole), and `type:comment` or a wrong type does not decrypt
  const retyped = new Set<string>();
  for (const before of earlier) {
    const was = new Map(before.entries.map((e) => [e.name, e.raw]));
    for (const e of file.entries) {
      const raw = was.get(e.name);
      if (raw === undefined || raw === e.raw || retyped.has(e.name) || ciphertextIdentity(raw) !== ciphertextIdentity(e.raw)) continue;
      if (out.some((d) => d.secret === e.name)) continue; // already reported in the file alone
      retyped.add(e.name);
      report(e.nameRange, `the type of secret "${e.name}"'s ciphertext in ${path} differs from the committed version while the ciphertext is the same: the type is covered by no tag, so it was changed by hand (a write copies an unchanged value's ENC string whole), and a wrong type does not decrypt; ${restoreFile}`, e.name);
    }
    // a committed ciphertext under another name: a value is encrypted with its name as associated data, so it
    // does not decrypt under another (two values swapped, or one moved, by hand; `rename` encrypts anew)
    const owners = new Map<string, string[]>();
    for (const b of before.entries) if (b.raw.startsWith("ENC[")) owners.set(ciphertextIdentity(b.raw), [...(owners.get(ciphertextIdentity(b.raw)) ?? []), b.name]);
    for (const e of file.entries) {
      const names = e.raw.startsWith("ENC[") ? (owners.get(ciphertextIdentity(e.raw)) ?? []) : [];
      const other = names.includes(e.name) ? undefined : names[0];
      if (other === undefined || retyped.has(e.name) || out.some((d) => d.secret === e.name)) continue;
      retyped.add(e.name);
      report(
        e.nameRange,
        `secret "${e.name}" in ${path} holds the ciphertext the committed version stores under "${other}": a value is bound to its name (its associated data), so it does not decrypt under another; ` +
          `it was moved or swapped by hand, and no one can decrypt ${path}; ${restoreFile}${committedEdit === undefined ? ", then set the values anew with `stellar-secrets set` (`rename` moves a value)" : ""}`,
        e.name,
      );
    }
    const mac = before.metadata.mac;
    if (!retyped.has("\0mac") && mac !== "" && mac !== file.metadata.mac && ciphertextIdentity(mac) === ciphertextIdentity(file.metadata.mac)) {
      retyped.add("\0mac");
      report(macRange(text, file), `the type of sops.mac in ${path} differs from the committed version while the ciphertext is the same: it was changed by hand; ${restoreFile}`);
    }
  }

  for (const before of earlier) {
    if (before.metadata.mac !== file.metadata.mac) {
      // the MAC replaced alone: a real write sets `lastmodified` to its own time and encrypts the MAC under it
      if (file.metadata.mac !== "" && before.metadata.mac !== "" && aadOf(before.metadata.lastmodified) === aadOf(file.metadata.lastmodified) && sameEntries(before, file)) {
        report(
          macRange(text, file),
          `sops.mac of ${path} differs from the committed version while every value and lastmodified are the committed ones (a real write sets lastmodified anew): ` +
            `the MAC was replaced by hand, so no one can decrypt the file (MAC check fails); ${committedEdit === undefined ? `${restore} and make changes with stellar-secrets or sops` : restore}`,
        );
        break;
      }
      continue;
    }
    const changed = file.metadata.mac === "" ? undefined : metadataChange(before, file);
    if (changed !== undefined) {
      report(macRange(text, file), `${changed} of ${path} differs from the committed version, but its mac is the committed one (a real write encrypts the MAC anew): no one can decrypt the file (MAC check fails); ${committedEdit === undefined ? `${restore} and make changes with stellar-secrets or sops` : restore}`);
      break;
    }
    if (before.metadata.lastmodified !== file.metadata.lastmodified) continue;
    if (sameEntries(before, file)) continue;
    report(macRange(text, file), `the values of ${path} differ from the committed version, but its mac and lastmodified are the committed ones (a real write changes both): it was edited or merged by hand, so no one can decrypt it; ${redo}`);
    break;
  }
  return out;
}

/** The AAD of the MAC (normalised `lastmodified`), or the text itself when it is no RFC 3339 time. */
function aadOf(lastmodified: string): string {
  try {
    return macAad(lastmodified);
  } catch {
    return lastmodified;
  }
}

/**
 * What changed between two versions with the same `mac` that decides whether that MAC opens and
 * matches: `lastmodified` (the MAC's AAD, compared as sops normalises it) or `mac_only_encrypted`
 * (what is hashed). Undefined when neither did.
 */
function metadataChange(before: SecretsFile, file: SecretsFile): string | undefined {
  if (aadOf(before.metadata.lastmodified) !== aadOf(file.metadata.lastmodified)) return "sops.lastmodified (the MAC's associated data)";
  if ((before.metadata.mac_only_encrypted === true) !== (file.metadata.mac_only_encrypted === true)) return "sops.mac_only_encrypted (what the MAC hashes)";
  return undefined;
}
