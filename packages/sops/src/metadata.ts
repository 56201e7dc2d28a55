/**
 * The `sops` metadata block: validation of what was read, and the YAML layout that is written
 * (sops 3.10–3.12 field order, 4-space indentation, `lastmodified` double-quoted, `enc` literal).
 */
import { SopsError, type SopsErrorReason } from "./errors.js";
import type { AgeStanza, SopsMetadata } from "./types.js";
import { canonicalBool } from "./values.js";
import { LineIndex } from "./position.js";

/** The sops release whose metadata layout this package writes. */
export const WRITTEN_SOPS_VERSION = "3.10.2";

const CRYPT_RULES = [
  "unencrypted_suffix",
  "encrypted_suffix",
  "unencrypted_regex",
  "encrypted_regex",
  "unencrypted_comment_regex",
  "encrypted_comment_regex",
] as const;

const KNOWN = new Set<string>(["age", "lastmodified", "mac", "version", "mac_only_encrypted", ...CRYPT_RULES]);

/** Master-key types other than age; files that use them are read (through age) but not rewritten. */
export const OTHER_MASTER_KEYS = ["pgp", "kms", "gcp_kms", "azure_kv", "hc_vault", "hckms", "key_groups"] as const;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function scalarText(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (v instanceof Date) return v.toISOString();
  return undefined;
}

/**
 * Validates the `sops` block as read from a file.
 * @throws SopsError MALFORMED_FILE (wrong shapes, several crypt rules, bad version).
 */
export function metadataFromObject(value: unknown, file?: string, line?: number): SopsMetadata {
  const bad = (what: string, reason?: SopsErrorReason): never => {
    throw new SopsError("MALFORMED_FILE", `invalid sops metadata: ${what}`, {
      file,
      line,
      reason,
      hint: "restore the file from git; the sops block must be written by sops or stellar-secrets",
    });
  };
  if (!isRecord(value)) return bad("`sops` is not a mapping");
  const age: AgeStanza[] = [];
  const rawAge = value.age;
  if (rawAge !== undefined && rawAge !== null) {
    if (!Array.isArray(rawAge)) return bad("`age` is not a list");
    for (const s of rawAge) {
      if (!isRecord(s) || typeof s.enc !== "string") return bad("an `age` entry has no `enc` text");
      age.push({ recipient: typeof s.recipient === "string" ? s.recipient.trim() : "", enc: s.enc });
    }
  }
  const lastmodified = scalarText(value.lastmodified);
  if (lastmodified === undefined) return bad("`lastmodified` is missing");
  const version = scalarText(value.version) ?? "";
  // sops: blang/semver.Make after a leading `v` is trimmed (version.AIsNewerThanB); a failure refuses the file
  if (version !== "" && !/^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/.test(version)) {
    return bad(`\`version\` "${version.slice(0, 20)}" is not a semantic version`, "invalid-version");
  }
  const mac = value.mac === undefined || value.mac === null ? "" : scalarText(value.mac);
  if (mac === undefined) return bad("`mac` is not text");
  const meta: SopsMetadata = { age, lastmodified, mac, version, other: {} };
  let rules = 0;
  for (const rule of CRYPT_RULES) {
    const v = value[rule];
    if (v === undefined || v === null || v === "") continue;
    if (typeof v !== "string") return bad(`\`${rule}\` is not text`);
    meta[rule] = v;
    rules++;
  }
  if (rules > 1) return bad("more than one encryption rule (unencrypted_suffix, encrypted_regex, ...) is set");
  if (value.mac_only_encrypted !== undefined && value.mac_only_encrypted !== null) {
    // sops decodes its metadata weakly typed: a dotenv/INI file holds `sops_mac_only_encrypted=true` as text
    const flag = value.mac_only_encrypted;
    const parsed = typeof flag === "boolean" ? flag : typeof flag === "string" ? canonicalBool(flag) : undefined;
    if (parsed === undefined) return bad("`mac_only_encrypted` is not a boolean");
    meta.mac_only_encrypted = parsed === true || parsed === "True";
  }
  for (const [k, v] of Object.entries(value)) {
    if (!KNOWN.has(k)) Object.defineProperty(meta.other, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return meta;
}

/** True when the file uses master keys other than age (pgp, kms, key groups, ...). */
export function hasOtherMasterKeys(meta: SopsMetadata): boolean {
  return OTHER_MASTER_KEYS.some((k) => {
    const v = meta.other[k];
    return Array.isArray(v) ? v.length > 0 : v !== undefined && v !== null;
  });
}

/**
 * The non-age master keys of a file's metadata, per type: those of {@link OTHER_MASTER_KEYS} in
 * that order, then any other key of the `sops` block that holds a list of entries with an `enc`
 * (a wrapped data key of a type this package does not know, e.g. a newer sops' plugin keys). Each
 * entry can decrypt the file with sops; `key_groups` is what sops reads when the top-level lists
 * are empty (and what this package refuses to decrypt). Empty lists (as sops 3.7–3.9 write them)
 * and nulls are not listed. Pure.
 */
export function otherMasterKeys(meta: SopsMetadata): { type: string; count: number }[] {
  const out: { type: string; count: number }[] = [];
  for (const type of OTHER_MASTER_KEYS) {
    const v = meta.other[type];
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) {
      if (v.length > 0) out.push({ type, count: v.length });
    } else {
      out.push({ type, count: 1 });
    }
  }
  for (const [type, v] of Object.entries(meta.other)) {
    if ((OTHER_MASTER_KEYS as readonly string[]).includes(type) || !Array.isArray(v)) continue;
    const wrapped = v.filter((e) => isRecord(e) && "enc" in e).length;
    if (wrapped > 0) out.push({ type, count: wrapped });
  }
  return out;
}

/** What an RE2 pattern is in JavaScript: the same matcher, a pattern RE2 refuses, or RE2 this package does not translate. */
export type Re2Translation = { re: RegExp } | { invalid: true } | { unsupported: string };

/** POSIX classes RE2 takes inside brackets (`[[:alpha:]]`), as JavaScript ranges (ASCII, as in RE2). */
const POSIX_CLASSES: Record<string, string> = {
  alnum: "0-9A-Za-z",
  alpha: "A-Za-z",
  ascii: "\\x00-\\x7F",
  blank: "\\t ",
  cntrl: "\\x00-\\x1F\\x7F",
  digit: "0-9",
  graph: "!-~",
  lower: "a-z",
  print: " -~",
  punct: "!-\\/:-@\\[-`{-~",
  space: "\\t\\n\\v\\f\\r ",
  upper: "A-Z",
  word: "0-9A-Za-z_",
  xdigit: "0-9A-Fa-f",
};

/** RE2's `\s` (JavaScript's also takes Unicode spaces and `\v`). */
const RE2_SPACE = "\\t\\n\\f\\r ";

const translations = new Map<string, Re2Translation>();

/**
 * An RE2 pattern (Go's regexp, what sops matches `encrypted_regex` and `unencrypted_regex` with)
 * as a JavaScript RegExp that matches the same strings: leading flags `(?i)`/`(?s)`/`(?m)` (`(?U)`
 * changes no match), `(?P<name>`, `\A`, `\z`, `\Q…\E`, `\pL`, `\x{41}`, POSIX classes, a leading
 * `]` in a class, RE2's ASCII `\s`. What RE2 refuses (lookaround, backreferences, `\C`, a repeat
 * over 1000) is `invalid`: sops's match then fails, so the rule never matches. Valid RE2 that is
 * not translated (flags later in the pattern, `[[:^alpha:]]`) is `unsupported`, never guessed.
 * Pure; results are cached per pattern. The one reading of RE2 for every pattern sops matches
 * (crypt rules here, `.sops.yaml` `path_regex` in core).
 */
export function translateRe2(src: string): Re2Translation {
  const known = translations.get(src);
  if (known !== undefined) return known;
  const result = translateRe2Uncached(src);
  if (translations.size < 256) translations.set(src, result);
  return result;
}

function translateRe2Uncached(src: string): Re2Translation {
  const unsupported = (what: string): Re2Translation => ({ unsupported: `${what} (RE2 syntax stellar-secrets does not translate)` });
  let flags = "";
  let i = 0;
  const lead = /^\(\?([imsU]+)\)/.exec(src);
  if (lead !== null) {
    for (const f of lead[1]!) if (f !== "U" && !flags.includes(f)) flags += f;
    i = lead[0].length;
  }
  let out = "";
  let unicode = false;
  let inClass = false;
  let classStart = false;
  while (i < src.length) {
    const c = src[i]!;
    if (c === "\\") {
      const n = src[i + 1];
      if (n === undefined) return { invalid: true };
      if (/[1-9]/.test(n) || n === "k" || n === "C") return { invalid: true };
      if (n === "Q") {
        if (inClass) return unsupported("\\Q inside a class");
        const endQ = src.indexOf("\\E", i + 2);
        const lit = src.slice(i + 2, endQ === -1 ? src.length : endQ);
        out += lit.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");
        i = endQ === -1 ? src.length : endQ + 2;
        classStart = false;
        continue;
      }
      if (n === "A" || n === "z") {
        if (inClass) return { invalid: true };
        if (flags.includes("m")) return unsupported(`\\${n} with (?m)`);
        out += n === "A" ? "^" : "$";
        i += 2;
        continue;
      }
      if (n === "p" || n === "P") {
        unicode = true;
        if (src[i + 2] === "{") {
          const close = src.indexOf("}", i + 3);
          if (close === -1) return { invalid: true };
          out += src.slice(i, close + 1);
          i = close + 1;
        } else {
          if (src[i + 2] === undefined) return { invalid: true };
          out += `\\${n}{${src[i + 2]}}`;
          i += 3;
        }
        classStart = false;
        continue;
      }
      if (n === "x" && src[i + 2] === "{") {
        const close = src.indexOf("}", i + 3);
        if (close === -1) return { invalid: true };
        unicode = true;
        out += `\\u{${src.slice(i + 3, close)}}`;
        i = close + 1;
        classStart = false;
        continue;
      }
      if (n === "s") {
        out += inClass ? RE2_SPACE : `[${RE2_SPACE}]`;
        i += 2;
        classStart = false;
        continue;
      }
      if (n === "S") {
        if (inClass) return unsupported("\\S inside a class");
        out += `[^${RE2_SPACE}]`;
        i += 2;
        continue;
      }
      out += c + n;
      i += 2;
      classStart = false;
      continue;
    }
    if (inClass) {
      if (c === "]" && !classStart) {
        inClass = false;
        out += "]";
        i++;
        continue;
      }
      if (c === "]") {
        out += "\\]"; // RE2: a `]` first in a class is literal; JavaScript would close an empty class
        i++;
        classStart = false;
        continue;
      }
      if (c === "[" && src[i + 1] === ":") {
        const close = src.indexOf(":]", i + 2);
        if (close !== -1) {
          const name = src.slice(i + 2, close);
          if (name.startsWith("^")) return unsupported(`[[:${name}:]]`);
          const range = POSIX_CLASSES[name];
          if (range === undefined) return { invalid: true };
          out += range;
          i = close + 2;
          classStart = false;
          continue;
        }
      }
      out += c === "[" ? "\\[" : c;
      i++;
      classStart = false;
      continue;
    }
    if (c === "[") {
      inClass = true;
      classStart = true;
      out += "[";
      i++;
      if (src[i] === "^") {
        out += "^";
        i++;
      }
      continue;
    }
    if (c === "(" && src[i + 1] === "?") {
      const rest = src.slice(i + 2);
      if (rest.startsWith("P<")) {
        out += "(?<";
        i += 4;
        continue;
      }
      if (rest.startsWith(":")) {
        out += "(?:";
        i += 3;
        continue;
      }
      if (rest.startsWith("<") && !rest.startsWith("<=") && !rest.startsWith("<!")) {
        out += "(?<";
        i += 3;
        continue;
      }
      if (/^(?:=|!|<=|<!|>)/.test(rest)) return { invalid: true };
      return unsupported("flags or a group after the start of the pattern");
    }
    if (c === "{") {
      const m = /^\{(\d+)(?:,(\d*))?\}/.exec(src.slice(i));
      if (m !== null && (Number(m[1]) > 1000 || (m[2] !== undefined && m[2] !== "" && Number(m[2]) > 1000))) return { invalid: true };
    }
    out += c;
    i++;
  }
  if (inClass) return { invalid: true };
  try {
    return { re: new RegExp(out, flags + (unicode ? "u" : "")) };
  } catch {
    return unsupported("a pattern JavaScript reads differently");
  }
}

/**
 * A crypt rule this package cannot apply as sops does: a comment-based rule (which leaves sops
 * encrypts depends on how its YAML library attaches comments), or an `encrypted_regex` /
 * `unencrypted_regex` in RE2 syntax that is not translated. Readers refuse such a file
 * (UNSUPPORTED) and `check` reports it, rather than read it differently from sops. Pure.
 */
export function unsupportedCryptRule(meta: SopsMetadata): { rule: string; why: string } | undefined {
  for (const rule of ["unencrypted_comment_regex", "encrypted_comment_regex"] as const) {
    if (meta[rule] !== undefined) return { rule, why: "a comment-based encryption rule, which stellar-secrets does not read" };
  }
  for (const rule of ["encrypted_regex", "unencrypted_regex"] as const) {
    const re = meta[rule];
    if (re === undefined) continue;
    const t = translateRe2(re);
    if ("unsupported" in t) return { rule, why: `a regular expression with ${t.unsupported}` };
  }
  return undefined;
}

/**
 * Whether sops encrypts the leaf at `path` (mapping keys from the root) under the file's crypt
 * rule (SOPS-FORMAT §3): `unencrypted_suffix` (default `_unencrypted`), `encrypted_suffix`,
 * `encrypted_regex` and `unencrypted_regex` (RE2, searched, not anchored, translated by
 * {@link translateRe2}; a pattern RE2 refuses never matches, as in sops). Returns undefined for a
 * rule {@link unsupportedCryptRule} names. Pure.
 */
export function sopsEncryptsPath(meta: SopsMetadata, path: readonly string[]): boolean | undefined {
  if (unsupportedCryptRule(meta) !== undefined) return undefined;
  const compile = (re: string): RegExp | undefined => {
    const t = translateRe2(re);
    return "re" in t ? t.re : undefined; // sops: an invalid regex never matches
  };
  if (meta.encrypted_suffix !== undefined) {
    const s = meta.encrypted_suffix;
    return path.some((k) => k.endsWith(s));
  }
  if (meta.encrypted_regex !== undefined) {
    const r = compile(meta.encrypted_regex);
    return r !== undefined && path.some((k) => r.test(k));
  }
  if (meta.unencrypted_regex !== undefined) {
    const r = compile(meta.unencrypted_regex);
    return !(r !== undefined && path.some((k) => r.test(k)));
  }
  const suffix = meta.unencrypted_suffix ?? "_unencrypted";
  return !path.some((k) => k.endsWith(suffix));
}

/**
 * The error for a file whose crypt rule {@link unsupportedCryptRule} names (a comment-based rule,
 * an untranslated RE2 pattern): refused rather than read differently from sops. The line is the
 * rule's, found in `text` from `from` (the `sops` block), when given. Undefined for any other rule.
 */
export function unsupportedRuleError(meta: SopsMetadata, where: { text?: string | undefined; from?: number; file?: string | undefined } = {}): SopsError | undefined {
  const problem = unsupportedCryptRule(meta);
  if (problem === undefined) return undefined;
  const { rule, why } = problem;
  let line: number | undefined;
  if (where.text !== undefined) {
    const from = where.from ?? 0;
    const m = new RegExp(`${rule}["']?[ \\t]*[:=]`).exec(where.text.slice(from));
    if (m !== null) line = new LineIndex(where.text).positionAt(from + m.index).line;
  }
  return new SopsError("UNSUPPORTED", `the file's sops.${rule} is ${why}`, {
    file: where.file,
    ...(line !== undefined ? { line } : {}),
    hint: "re-encrypt it with sops without that rule (`sops decrypt FILE | sops encrypt --filename-override FILE /dev/stdin > NEW`, then replace FILE with NEW), or set its values again with `stellar-secrets set`",
  });
}

/** Compares two `X.Y.Z` versions (a leading `v` allowed); non-versions sort lowest. */
export function compareVersions(a: string, b: string): number {
  const p = (s: string): number[] => (/^v?(\d+)\.(\d+)\.(\d+)/.exec(s)?.slice(1).map(Number)) ?? [0, 0, 0];
  const x = p(a);
  const y = p(b);
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}

/** What the written metadata holds. */
export interface WrittenMetadata {
  age: AgeStanza[];
  lastmodified: string;
  mac: string;
  version: string;
}

/** What yaml.v3 (sops) does not take raw in a double-quoted scalar: DEL and C1 (U+0085 is a line break there), U+2028/U+2029 (line breaks) and U+FEFF. */
const YAML_V3_UNSAFE = /[\u007f-\u009f\u2028\u2029\ufeff]/g;

/**
 * `s` as a YAML double-quoted scalar that yaml.v3 and `yaml` both read back as `s`: JSON's escapes
 * (C0 controls, `"`, `\`), plus `\uXXXX` for each character of {@link YAML_V3_UNSAFE}.
 */
export function yamlDoubleQuoted(s: string): string {
  return JSON.stringify(s).replace(YAML_V3_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * A recipient label as a YAML scalar: plain when YAML reads it back unchanged (every `age1…` and
 * `ssh-ed25519 AAAA…` label), else double-quoted (a kept foreign label with, say, ` #` in an SSH
 * key comment).
 */
function yamlRecipient(r: string): string {
  return /^[A-Za-z0-9][A-Za-z0-9+/=@._-]*( [A-Za-z0-9+/=@._-]+)*$/.test(r) ? r : yamlDoubleQuoted(r);
}

/** The oldest release this package writes: age recipients need sops 3.7. */
const OLDEST_WRITTEN = "3.7.0";

/**
 * The `sops:` block laid out as the release named in `version` writes it (spec §8.2): 4-space
 * indent, `enc` as a literal block indented 12 spaces, `lastmodified` double-quoted, `version`
 * plain, and the field order of that release:
 * - 3.7–3.9: empty `kms/gcp_kms/azure_kv/hc_vault` lists first, `pgp: []` after `mac`;
 * - 3.10–3.12: empty lists omitted;
 * - 3.13+: keys sorted (same order for these fields), `enc` before `recipient` in each entry.
 * Ends with a newline.
 * @throws SopsError UNSUPPORTED when `version` is not an `X.Y.Z` sops release ≥ 3.7.0 (sops
 * refuses to decrypt a file whose version is not semver).
 */
export function renderMetadataYaml(meta: WrittenMetadata): string {
  if (!/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/.test(meta.version) || compareVersions(meta.version, OLDEST_WRITTEN) < 0) {
    throw new SopsError("UNSUPPORTED", `cannot write sops version "${meta.version.slice(0, 20)}": it must be a sops release X.Y.Z, ${OLDEST_WRITTEN} or later`, {
      hint: `leave the version out to write ${WRITTEN_SOPS_VERSION}`,
    });
  }
  const before310 = compareVersions(meta.version, "3.10.0") < 0;
  const sorted = compareVersions(meta.version, "3.13.0") >= 0;
  const out: string[] = ["sops:"];
  if (before310) out.push("    kms: []", "    gcp_kms: []", "    azure_kv: []", "    hc_vault: []");
  out.push("    age:");
  for (const s of meta.age) {
    const enc = s.enc.endsWith("\n") ? s.enc.slice(0, -1) : s.enc;
    const block = enc.split("\n").map((line) => `            ${line}`);
    const recipient = yamlRecipient(s.recipient);
    if (sorted) out.push("        - enc: |", ...block, `          recipient: ${recipient}`);
    else out.push(`        - recipient: ${recipient}`, "          enc: |", ...block);
  }
  out.push(`    lastmodified: "${meta.lastmodified}"`);
  out.push(`    mac: ${meta.mac}`);
  if (before310) out.push("    pgp: []");
  out.push("    unencrypted_suffix: _unencrypted");
  out.push(`    version: ${meta.version}`);
  return `${out.join("\n")}\n`;
}

/**
 * A `sops:` block kept as read (a key-groups file's: its `key_groups`, `shamir_threshold`,
 * version and layout are kept byte for byte by writes that keep the data key, as `sops set`
 * keeps them) with only `lastmodified` (double-quoted) and `mac` replaced. Returns undefined when
 * the block does not hold exactly one `lastmodified:` and one `mac:` line at its fields'
 * indentation (a flow mapping, a multi-line scalar): the caller refuses such a write rather than
 * re-lay the block out. Ends with a line break (that of the block's lines). Pure.
 */
export function rewriteKeptMetadata(block: string, lastmodified: string, mac: string): string | undefined {
  const lines = block.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  if (!/^["']?sops["']?[ \t]*:[ \t]*\r?$/.test(lines[0] ?? "")) return undefined;
  const indent = /^( +)\S/.exec(lines.slice(1).find((l) => l.trim() !== "") ?? "")?.[1];
  if (indent === undefined) return undefined;
  const replaced = { lastmodified: 0, mac: 0 };
  let continued = false;
  const out = lines.map((line, i) => {
    const m = new RegExp(`^${indent}(lastmodified|mac):[ \\t]+\\S.*?(\\r?)$`).exec(line);
    if (m === null) return line;
    const field = m[1] as "lastmodified" | "mac";
    // a value that goes on past its line (a block scalar `>-`, a quoted or plain scalar continued
    // on a more indented line) cannot be replaced in place
    const next = lines[i + 1];
    if (/^[ \t]*[|>]/.test(line.slice(m[0].indexOf(":") + 1)) || (next !== undefined && next.trim() !== "" && /^ */.exec(next)![0].length > indent.length)) continued = true;
    replaced[field]++;
    return `${indent}${field}: ${field === "lastmodified" ? `"${lastmodified}"` : mac}${m[2]}`;
  });
  if (replaced.lastmodified !== 1 || replaced.mac !== 1 || continued) return undefined;
  return `${out.join("\n")}\n`;
}
