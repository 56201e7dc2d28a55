/** Secret names: the naming rules every tool applies, and suggestions for near misses. */

import { escapeControlCharacters, SECRET_NAME_PATTERN } from "@stellar-secrets/sops";
import { credentialAsName } from "./credentials.js";

/** What a secret name must match (owned by the layout in `@stellar-secrets/sops`). */
export { SECRET_NAME_PATTERN } from "@stellar-secrets/sops";
/** The longest allowed secret name. */
export const MAX_SECRET_NAME_LENGTH = 64;

/** The outcome of {@link validateSecretName}. */
export type SecretNameValidation = { ok: true } | { ok: false; rule: string; message: string; suggestion?: string };

/**
 * Checks a secret name against the naming rules (rule `invalid-secret-name`): lowercase letters,
 * digits and underscores, starting with a letter, at most 64 characters; not `sops` (the SOPS
 * metadata key) and not ending in `_unencrypted` (sops would store such a value in clear).
 * The message says what is wrong; `suggestion` is a corrected name when one can be derived.
 */
export function validateSecretName(name: string): SecretNameValidation {
  const rule = "invalid-secret-name";
  if (name.length === 0) return { ok: false, rule, message: "a secret name cannot be empty" };
  if (name.length > MAX_SECRET_NAME_LENGTH) {
    return {
      ok: false,
      rule,
      message: `secret name "${name}" is ${name.length} characters long; the limit is ${MAX_SECRET_NAME_LENGTH}`,
    };
  }
  if (name === "sops") {
    return {
      ok: false,
      rule,
      message: `"sops" cannot be a secret name: it is the key where SOPS keeps its metadata`,
      suggestion: "sops_secret",
    };
  }
  if (name.endsWith("_unencrypted")) {
    return {
      ok: false,
      rule,
      message: `secret name ${quoteName(name)} ends in "_unencrypted": sops would store its value in clear text`,
      suggestion: name.slice(0, -"_unencrypted".length) || undefined,
    } as SecretNameValidation;
  }
  if (!SECRET_NAME_PATTERN.test(name)) {
    const suggestion = suggestSecretName(name);
    // eslint-disable-next-line no-control-regex
    const what = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/.test(name)
      ? "contains control or invisible characters (a look-alike of another name, or text that rewrites a terminal)"
      : /[A-Z]/.test(name)
      ? "has uppercase letters"
      : /^[0-9_]/.test(name)
        ? "does not start with a letter"
        : /\s/.test(name)
          ? "contains whitespace"
          : "contains characters other than a-z, 0-9 and _";
    const result: SecretNameValidation = {
      ok: false,
      rule,
      message: `secret name ${quoteName(name)} ${what}; use lowercase_with_underscores (^[a-z][a-z0-9_]*$)`,
    };
    if (suggestion !== undefined && suggestion !== name) result.suggestion = suggestion;
    return result;
  }
  return { ok: true };
}

/**
 * `name` in double quotes for a message, with line breaks, control and invisible characters
 * written as escapes (`\n`, `\x1b`, `\u202e`, sops' `escapeControlCharacters`, and zero-width
 * characters too): a message is one line of `check`'s output that a terminal or editor reads, and
 * a name taken from a config file (a `|` block scalar keeps its line break) can hold anything.
 * A name of the usual characters is simply quoted.
 */
export function quoteName(name: string): string {
  return `"${escapeControlCharacters(name).replace(/[\u200b-\u200d\u2060-\u2065\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)}"`;
}

/** Cyrillic and Greek letters that look like an ASCII letter, as a name set with plain sops or pasted from a chat may hold them. */
const LOOK_ALIKES: Readonly<Record<string, string>> = {
  а: "a", в: "b", е: "e", о: "o", р: "p", с: "c", у: "y", х: "x", ѕ: "s", і: "i", ј: "j", ԁ: "d", һ: "h", ԛ: "q", ԝ: "w", ӏ: "l", ı: "i", ɡ: "g",
  А: "A", В: "B", Е: "E", К: "K", М: "M", Н: "H", О: "O", Р: "P", С: "C", Т: "T", Х: "X", У: "Y", Ѕ: "S", І: "I", Ј: "J",
  α: "a", ο: "o", ρ: "p", ν: "v", ι: "i", κ: "k", υ: "u", χ: "x",
  Α: "A", Β: "B", Ε: "E", Ζ: "Z", Η: "H", Ι: "I", Κ: "K", Μ: "M", Ν: "N", Ο: "O", Ρ: "P", Τ: "T", Υ: "Y", Χ: "X",
};

/**
 * `name` with what looks like ASCII written as ASCII: invisible characters (zero-width spaces and
 * joiners, the soft hyphen, a byte order mark) dropped, accents and compatibility forms
 * (full-width letters, ligatures) decomposed (NFKD, marks dropped), and Cyrillic or Greek
 * look-alikes ({@link LOOK_ALIKES}) replaced by the letter they look like: the name a reader sees.
 */
export function asciiLookAlike(name: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[^\u0000-\u007f]/.test(name)) return name;
  return name
    .replace(/[\u00ad\u200b-\u200d\u2060-\u2064\ufeff]/g, "")
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .replace(/[^\u0000-\u007f]/g, (c) => LOOK_ALIKES[c] ?? c);
}

/**
 * A valid name derived from `name` (look-alike letters read as the ASCII they look like, lowercased, other characters turned into `_`, camelCase
 * split), or undefined when nothing sensible remains, or when `name` looks like a credential given
 * as a name (core's `credentialAsName`: its valid form would repeat it).
 */
export function suggestSecretName(name: string): string | undefined {
  // the valid form of a credential given as a name is the credential (snake_cased): never offered
  if (credentialAsName(name) !== undefined) return undefined;
  let s = asciiLookAlike(name)
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, "_")
    .replace(/_+/g, "_")
    .replace(/^[_0-9]+/, "")
    .replace(/_$/, "");
  if (s.length > MAX_SECRET_NAME_LENGTH) s = s.slice(0, MAX_SECRET_NAME_LENGTH).replace(/_$/, "");
  if (s.endsWith("_unencrypted")) s = s.slice(0, -"_unencrypted".length);
  if (s === "" || s === "sops" || !SECRET_NAME_PATTERN.test(s)) return undefined;
  return s;
}

/**
 * A secret name for a credential found at a place of a config file, made from that place's
 * context (`parts`, e.g. the connection's name and the header's: `stripe` + `X-Api-Key` →
 * `stripe_x_api_key`): snake_cased ({@link suggestSecretName}), valid ({@link validateSecretName})
 * and descriptive ({@link describeNonDescriptiveName}); when `taken(name)` (an existing secret),
 * the first free `name_2`, `name_3`, …. Undefined when the parts give no such name (then a message
 * keeps its `NAME` placeholder).
 */
export function secretNameFromContext(parts: readonly (string | undefined)[], taken: (name: string) => boolean = () => false): string | undefined {
  const base = suggestSecretName(parts.filter((p): p is string => p !== undefined && p !== "").join("_"));
  if (base === undefined || !validateSecretName(base).ok || describeNonDescriptiveName(base) !== undefined) return undefined;
  if (!taken(base)) return base;
  for (let i = 2; i < 100; i++) {
    const suffix = `_${i}`;
    const candidate = `${base.slice(0, MAX_SECRET_NAME_LENGTH - suffix.length).replace(/_$/, "")}${suffix}`;
    if (validateSecretName(candidate).ok && !taken(candidate)) return candidate;
  }
  return undefined;
}

/** Words that say what kind of credential a name is, but not which service it belongs to. */
const GENERIC_WORDS = new Set([
  "access", "account", "api", "apikey", "app", "auth", "authorization", "basic", "bearer", "cert",
  "certificate", "client", "conn", "connection", "cred", "creds", "credential", "credentials", "default",
  "dev", "development", "env", "hash", "id", "jwt", "key", "keys", "login", "main", "master", "my", "new",
  "old", "pass", "passphrase", "password", "passwd", "pat", "pin", "primary", "private", "prod", "production",
  "pub", "public", "pw", "pwd", "refresh", "salt", "secondary", "secret", "secrets", "service", "session",
  "signing", "stage", "staging", "temp", "test", "the", "tmp", "token", "tokens", "user", "username", "value", "var",
]);

/**
 * Why `name` is not descriptive (rule `non-descriptive-secret-name`), or undefined when it is.
 * A name is non-descriptive when every underscore-separated part, ignoring trailing digits,
 * is a generic credential word (`token1`, `key`, `api_key`, `client_secret`), or when it is
 * shorter than three characters.
 */
export function describeNonDescriptiveName(name: string): string | undefined {
  if (!SECRET_NAME_PATTERN.test(name)) return undefined;
  if (name.replace(/[0-9_]/g, "").length < 3) {
    return `secret name "${name}" is too short to say what it is for; name the service and the credential (e.g. stripe_api_key)`;
  }
  const parts = name.split("_").filter((p) => p !== "");
  const words = parts.map((p) => p.replace(/[0-9]+$/, "")).filter((p) => p !== "");
  if (words.length > 0 && words.every((w) => GENERIC_WORDS.has(w))) {
    return `secret name "${name}" does not say which service it belongs to; include the service name (e.g. stripe_${words.join("_")})`;
  }
  return undefined;
}

/** The one nearest-name function and its edit distance (owned by `@stellar-secrets/sops`). */
export { editDistance, namesAtDistance, nearestName, type NearestName } from "@stellar-secrets/sops";
