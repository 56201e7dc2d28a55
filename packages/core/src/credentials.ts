import { lineEndAt, lineStartAt, textLines, type LineIndex } from "./position.js";

/**
 * Does a plain string look like a credential? Used by the `plaintext-credential` rule.
 * Detectors return a description ("a Stripe live secret key (sk_live_…)"), never the value.
 */
import { SECRET_NAME_PATTERN } from "@stellar-secrets/sops";

interface PrefixDetector {
  re: RegExp;
  what: string;
}

/** Well-known credential formats; each needs enough characters after its prefix to be a real key. */
const DETECTORS: readonly PrefixDetector[] = [
  { re: /(?:^|[^A-Za-z0-9_])sk_live_[A-Za-z0-9]{8,}/, what: "a Stripe live secret key (sk_live_…)" },
  { re: /(?:^|[^A-Za-z0-9_])rk_live_[A-Za-z0-9]{8,}/, what: "a Stripe live restricted key (rk_live_…)" },
  { re: /(?:^|[^A-Za-z0-9_])sk_test_[A-Za-z0-9]{8,}/, what: "a Stripe test secret key (sk_test_…)" },
  { re: /(?:^|[^A-Za-z0-9_])rk_test_[A-Za-z0-9]{8,}/, what: "a Stripe test restricted key (rk_test_…)" },
  { re: /(?:^|[^A-Za-z0-9_])whsec_[A-Za-z0-9]{16,}/, what: "a Stripe webhook signing secret (whsec_…)" },
  { re: /(?:^|[^A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{20,}/, what: "a GitHub token (ghp_…)" },
  { re: /(?:^|[^A-Za-z0-9_])github_pat_[A-Za-z0-9_]{20,}/, what: "a GitHub fine-grained token (github_pat_…)" },
  { re: /(?:^|[^A-Za-z0-9_])glpat-[A-Za-z0-9_-]{16,}/, what: "a GitLab token (glpat-…)" },
  { re: /(?:^|[^A-Za-z0-9_])xox[abposr]-[A-Za-z0-9-]{10,}/, what: "a Slack token (xoxb-…)" },
  { re: /(?:^|[^A-Za-z0-9_])xapp-[A-Za-z0-9-]{10,}/, what: "a Slack app token (xapp-…)" },
  { re: /(?:^|[^A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])/, what: "an AWS access key id (AKIA…)" },
  { re: /AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{20,}/, what: "an age private key (AGE-SECRET-KEY-1…)" },
  { re: /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/, what: "a PEM private key" },
  { re: /(?:^|[^A-Za-z0-9_])AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/, what: "a Google API key (AIza…)" },
  { re: /(?:^|[^A-Za-z0-9_])sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}/, what: "an OpenAI/Anthropic API key (sk-…)" },
  { re: /(?:^|[^A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])/, what: "an npm token (npm_…)" },
  { re: /(?:^|[^A-Za-z0-9_])SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}/, what: "a SendGrid API key (SG.…)" },
  { re: /(?:^|[^A-Za-z0-9_])shp(?:at|ss|ca|pa)_[a-fA-F0-9]{24,}/, what: "a Shopify access token (shpat_…)" },
  { re: /(?:^|[^A-Za-z0-9_])hf_[A-Za-z0-9]{30,}/, what: "a Hugging Face token (hf_…)" },
  { re: /(?:^|[^A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/, what: "a JSON Web Token (eyJ…)" },
  { re: /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i, what: "a URL with a password in it (scheme://user:password@host)" },
];

/** A cheap first test: a value without any of these cannot match a detector. */
const ANY_PREFIX = /sk_|rk_|whsec_|gh[pousr]_|github_pat_|glpat-|xox|xapp-|AKIA|ASIA|AGE-SECRET-KEY|PRIVATE KEY|AIza|sk-|npm_|SG\.|shp|hf_|eyJ|@/;

/** Shannon entropy in bits per character. */
export function shannonEntropy(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) {
    const p = c / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TOKEN_CHARS = /^[A-Za-z0-9+/=_.~-]+$/;

/**
 * True when `token` (one word) looks like a random secret: at least 24 characters of a
 * token alphabet, with letters and digits, high entropy (3.0 bits/char for hex, 3.5 otherwise);
 * UUIDs, paths and dotted identifiers are not.
 */
export function looksRandom(token: string): boolean {
  if (token.length < 24 || !TOKEN_CHARS.test(token) || UUID.test(token)) return false;
  if (!/[0-9]/.test(token) || !/[A-Za-z]/.test(token)) return false;
  if (token.startsWith("/") || /^[a-z]+(\.[a-z]+)+$/.test(token)) return false;
  const hex = /^[0-9a-f]+$/i.test(token);
  return shannonEntropy(token) >= (hex ? 3.0 : 3.5);
}

/**
 * What credential `value` looks like, or undefined. `entropy` also flags long random-looking
 * values (use it for fields meant to carry opaque values, such as static header values);
 * well-known prefixes are always checked. Authorization schemes (`Bearer `, `Basic `, `token `)
 * are skipped before the entropy test.
 */
export function detectCredential(value: string, options?: { entropy?: boolean }): string | undefined {
  if (ANY_PREFIX.test(value)) for (const d of DETECTORS) if (d.re.test(value)) return d.what;
  if (options?.entropy) {
    const v = value.trim().replace(/^(?:bearer|basic|token|apikey|api-key|key)\s+/i, "");
    if (!/\s/.test(v) && looksRandom(v)) return "a long random string (a key or token)";
  }
  return undefined;
}

/**
 * The lines of `text` that hold a well-known credential format (formats only, no entropy guess),
 * each as its range without the line break and the format's description, never the value. For
 * plain project files that never hold a credential (stellar.yaml, the catalog), whose every line,
 * comments included, is committed in clear.
 */
export function credentialLines(text: string): { range: { start: number; end: number }; what: string }[] {
  const out: { range: { start: number; end: number }; what: string }[] = [];
  for (const line of textLines(text)) {
    const what = line.text.length >= 8 ? detectCredential(line.text) : undefined;
    if (what !== undefined) out.push({ range: { start: line.start, end: line.start + line.text.length }, what });
  }
  return out;
}

/**
 * The YAML comments of `text` that hold a well-known credential format (formats only): each as
 * the comment's range (from its `#` to the end of the line) and the format's description, never
 * the value. A `#` starts a comment at the start of a line or after a space or tab, outside a
 * quoted scalar of that line. Comments are committed in clear like values, and no field check
 * reads them.
 */
export function commentCredentials(text: string): { range: { start: number; end: number }; what: string }[] {
  const out: { range: { start: number; end: number }; what: string }[] = [];
  // only the lines that hold a `#`, found from the text itself (no array of every line: most config
  // files of a repository have a comment or two, and this runs on each of them at every load)
  for (let hash = text.indexOf("#"); hash !== -1; ) {
    const start = lineStartAt(text, hash);
    const end = lineEndAt(text, hash);
    const line = text.slice(start, end);
    const at = commentStart(line);
    const what = at === -1 ? undefined : detectCredential(line.slice(at + 1));
    if (what !== undefined) out.push({ range: { start: start + at, end }, what });
    hash = end === text.length ? -1 : text.indexOf("#", end + 1);
  }
  return out;
}

/** One YAML comment of a config file ({@link commentsIn}). */
export interface ConfigComment {
  /** 1-based line. */
  line: number;
  /** The comment's text after its `#` (at most {@link MAX_COMMENT_CHARS} characters). */
  text: string;
}

/** Most comments {@link commentsIn} keeps of one file, and most characters of each. */
export const MAX_COMMENTS = 500;
export const MAX_COMMENT_CHARS = 400;

/**
 * The YAML comments of `text` (as {@link commentCredentials} finds them: a `#` at the start of a
 * line or after a space or tab, outside a quoted scalar of that line), each as its line and the
 * text after the `#`; bounded ({@link MAX_COMMENTS}, {@link MAX_COMMENT_CHARS}). For `unused-secret`,
 * which says when a comment is the only place that names a secret.
 */
export function commentsIn(text: string, lines: LineIndex): ConfigComment[] {
  const out: ConfigComment[] = [];
  for (let hash = text.indexOf("#"); hash !== -1 && out.length < MAX_COMMENTS; ) {
    const start = lineStartAt(text, hash);
    const end = lineEndAt(text, hash);
    const at = commentStart(text.slice(start, end));
    if (at !== -1) {
      out.push({ line: lines.positionAt(start).line, text: text.slice(start + at + 1, Math.min(end, start + at + 1 + MAX_COMMENT_CHARS)) });
    }
    hash = end === text.length ? -1 : text.indexOf("#", end + 1);
  }
  return out;
}

/** Where a YAML comment starts on `line`, or -1: a `#` at the start or after whitespace, outside quotes. */
function commentStart(line: string): number {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote !== undefined) {
      if (quote === '"' && c === "\\") i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === "#" && (i === 0 || line[i - 1] === " " || line[i - 1] === "\t")) return i;
    if ((c === '"' || c === "'") && (i === 0 || /[\s:,[{-]/.test(line[i - 1] as string))) quote = c;
  }
  return -1;
}

/**
 * What the name of a reference to no known secret looks like when it is a credential pasted where
 * a secret's name belongs (`secret: sk_live_…`), or undefined: a well-known format, or a long
 * random string that cannot be a secret name (names are `^[a-z][a-z0-9_]*$`: a valid name is never
 * guessed to be random). Such a name is never repeated in output. Only for names that no
 * environment file has (callers check that first).
 */
export function pastedCredential(name: string): string | undefined {
  return detectCredential(name, { entropy: !SECRET_NAME_PATTERN.test(name) });
}

/**
 * What a secret's NAME looks like when it is a credential given in place of a name, or undefined:
 * {@link pastedCredential} (a well-known format, or a long random string that is no valid name),
 * or 24 or more random-looking lower-case hex digits (a valid name, but no one's: no real name is
 * a long hex string without an underscore). Names are stored in clear text, so such a name is a
 * credential committed in clear. The one test for names: `set` and `edit` refuse such a name,
 * `check` reports one already in an environment file (`plaintext-credential`), `check` and
 * `review` never print one ({@link hideCredentialNames}), the editor's name box refuses one.
 * Realistic names (`stripe_api_key`, `github_token`, `openai_key_v2`) are never flagged.
 */
export function credentialAsName(name: string): string | undefined {
  return pastedCredential(name) ?? (name.length >= 24 && /^[0-9a-f]+$/.test(name) && looksRandom(name) ? "a long random string (a key or token)" : undefined);
}

/**
 * The words that refuse a credential given as a name (`where`: `the NAME argument`, `line 3: the
 * name`), which never quote it: what it `looks` like ({@link credentialAsName}) and why it is no name.
 */
export function credentialAsNameMessage(where: string, looks: string): string {
  return `${where} looks like ${looks}, not a secret's name (not shown): a value is never stored as a name, which is not encrypted`;
}

/** What `check` and `review` print in place of a name that looks like a credential ({@link credentialAsName}). */
export const HIDDEN_NAME = "(a name that looks like a credential, not shown)";

/**
 * `text` with each of `names` (names that look like credentials, {@link credentialAsName}) replaced
 * by {@link HIDDEN_NAME}, quoted or not (`"sk_live_…"` becomes the placeholder without the quotes).
 * The text itself when `names` is empty or none occurs in it.
 */
export function hideCredentialNames(text: string, names: Iterable<string>): string {
  let out = text;
  for (const name of names) {
    if (!out.includes(name)) continue;
    out = out.split(`"${name}"`).join(HIDDEN_NAME).split(name).join(HIDDEN_NAME);
  }
  return out;
}

/**
 * A copy of `value` (plain data: strings, numbers, arrays, objects) with {@link hideCredentialNames}
 * applied to every string in it, keys left as they are. `value` itself when `names` is empty. For
 * whole reports (`review`) that carry secret names in lists and messages.
 */
export function hideCredentialNamesIn<T>(value: T, names: ReadonlySet<string>): T {
  if (names.size === 0) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return hideCredentialNames(v, names);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}
