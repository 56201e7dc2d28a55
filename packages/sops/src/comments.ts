/**
 * The comments of a flat secrets file, kept through every stellar-secrets write. sops encrypts a
 * comment by default (`#ENC[AES256_GCM,...,type:comment]`, under the AAD of the map it is in: `:`
 * at the top level) and keeps it outside the MAC (SOPS-FORMAT §4.1, §9.4). A team member who edits
 * with sops writes them; the next `set`, `members add`, `rotate-key` or merge by stellar-secrets
 * must not drop them.
 *
 * Where a comment sits, as sops's YAML store puts it back: lines above the first entry (the file's
 * header), lines above an entry, one comment after an entry's value on its line, and lines after
 * the last entry (before `sops:`). Blank lines are not kept (sops does not keep them either).
 */
import type { DecryptedSecrets, FlatComments, SecretEntry } from "./types.js";
import { aadForPath, decryptValue, encryptValue, parseEnc } from "./values.js";

/** The AAD of a comment of the top-level map (sops: the map's path joined by `:`, plus `:`). */
const TOP_LEVEL_AAD = aadForPath([]);

/** The comment lines (the text after `#`) of the whole lines in `text[from, to)`; anything else is skipped. */
function commentLines(text: string, from: number, to: number): string[] {
  const out: string[] = [];
  for (const line of text.slice(from, to).split("\n")) {
    const t = line.replace(/\r$/, "").replace(/^[ \t]+/, "");
    if (t.startsWith("#")) out.push(t.slice(1));
  }
  return out;
}

/**
 * The comment one YAML line holds, as the text after `#`: a whole-line comment, or one after a value
 * on its line (a `#` after a space or tab, outside a quoted scalar); undefined when it holds none.
 * A quote opens a quoted scalar only where one can start (the line's start, after `:`, `-`, `[`,
 * `{`, `,` or `?`): `it's` in a plain value is no quote. Pure; for keyless views (textconv, review)
 * that must show that a comment is there wherever it stands, never what it says.
 */
export function commentOfLine(line: string): string | undefined {
  const l = line.replace(/\r$/, "");
  let quote: '"' | "'" | undefined;
  let prev = "";
  for (let i = 0; i < l.length; i++) {
    const c = l[i]!;
    if (quote === '"') {
      if (c === "\\") i++;
      else if (c === '"') quote = undefined;
      continue;
    }
    if (quote === "'") {
      if (c === "'" && l[i + 1] === "'") i++;
      else if (c === "'") quote = undefined;
      continue;
    }
    if (c === "#" && (i === 0 || l[i - 1] === " " || l[i - 1] === "\t")) return l.slice(i + 1);
    if ((c === '"' || c === "'") && (prev === "" || ":-[{,?".includes(prev))) quote = c;
    if (c !== " " && c !== "\t") prev = c;
  }
  return undefined;
}

/**
 * The comments of a flat YAML file, found around its entries (`entries` with their ranges, in file
 * order; `metadataStart` the offset of `sops:`). Undefined when the file has none, so that a file
 * without comments parses to exactly what it did before.
 */
export function findFlatComments(text: string, entries: readonly SecretEntry[], metadataStart: number): FlatComments | undefined {
  const above = new Map<string, string[]>();
  const inline = new Map<string, string>();
  let header: string[] = [];
  let from = 0;
  let count = 0;
  for (const [i, e] of entries.entries()) {
    const lines = commentLines(text, from, e.nameRange.start);
    if (i === 0) header = lines;
    else if (lines.length > 0) above.set(e.name, lines);
    count += lines.length;
    let end = text.indexOf("\n", e.valueRange.end);
    if (end === -1) end = text.length;
    const rest = /^[ \t]+#(.*?)\r?$/.exec(text.slice(e.valueRange.end, end));
    if (rest) {
      inline.set(e.name, rest[1]!);
      count++;
    }
    from = end;
  }
  const footer = entries.length === 0 ? [] : commentLines(text, from, metadataStart);
  if (entries.length === 0) header = commentLines(text, 0, metadataStart);
  count += footer.length;
  return count === 0 ? undefined : { header, above, inline, footer };
}

/** One comment as carried to a write: its stored text, and when it was encrypted its plaintext and key. */
interface Carried {
  stored: string;
  plain?: string;
  key?: Uint8Array;
}

/** The comments of one version, each encrypted one decrypted with that version's data key. */
export interface CarriedComments {
  header: Carried[];
  above: Map<string, Carried[]>;
  inline: Map<string, Carried>;
  footer: Carried[];
}

function carry(stored: string, key: Uint8Array): Carried {
  if (parseEnc(stored)?.type !== "comment") return { stored };
  try {
    const d = decryptValue(stored, key, TOP_LEVEL_AAD);
    return { stored, plain: d.plaintext.toString("utf8"), key };
  } catch {
    return { stored }; // sops keeps a comment it cannot decrypt as it is
  }
}

/** The comments of a verified version, ready to be written under any data key. */
export function carriedComments(version: DecryptedSecrets): CarriedComments {
  const c = version.file.comments;
  const k = version.dataKey;
  return {
    header: (c?.header ?? []).map((s) => carry(s, k)),
    above: new Map([...(c?.above ?? [])].map(([n, l]) => [n, l.map((s) => carry(s, k))] as const)),
    inline: new Map([...(c?.inline ?? [])].map(([n, s]) => [n, carry(s, k)] as const)),
    footer: (c?.footer ?? []).map((s) => carry(s, k)),
  };
}

/** What a comment says, for comparing versions under different keys. */
function meaning(c: readonly Carried[] | Carried | undefined): string {
  if (c === undefined) return "";
  const list = Array.isArray(c) ? (c as readonly Carried[]) : [c as Carried];
  return JSON.stringify(list.map((x) => (x.plain !== undefined ? ["e", x.plain] : ["p", x.stored])));
}

/** Ours' slot unless ours is the base's (then theirs: a three-way merge of one slot; no base reads as no comment). */
function pick<T extends readonly Carried[] | Carried | undefined>(base: T | undefined, ours: T, theirs: T): T {
  return meaning(ours) === meaning(base) ? theirs : ours;
}

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/**
 * The comments of a three-way merge: per place (header, footer, above and after each name), ours'
 * unless only theirs changed it from the base. Without a base, ours'; a name only theirs has
 * brings its own.
 */
export function mergeComments(base: CarriedComments | undefined, ours: CarriedComments, theirs: CarriedComments): CarriedComments {
  const names = new Set([...ours.above.keys(), ...ours.inline.keys(), ...theirs.above.keys(), ...theirs.inline.keys(), ...(base ? [...base.above.keys(), ...base.inline.keys()] : [])]);
  const above = new Map<string, Carried[]>();
  const inline = new Map<string, Carried>();
  for (const n of names) {
    const a = pick(base ? (base.above.get(n) ?? []) : undefined, ours.above.get(n) ?? [], theirs.above.get(n) ?? []);
    if (a.length > 0) above.set(n, a);
    const i = pick<Carried | undefined>(base ? base.inline.get(n) : undefined, ours.inline.get(n), theirs.inline.get(n));
    if (i !== undefined) inline.set(n, i);
  }
  return {
    header: pick(base?.header, ours.header, theirs.header),
    above,
    inline,
    footer: pick(base?.footer, ours.footer, theirs.footer),
  };
}

function stored(c: Carried, dataKey: Uint8Array): string {
  if (c.plain === undefined || c.key === undefined) return c.stored;
  if (sameKey(c.key, dataKey)) return c.stored; // same key: the exact ENC string (a minimal diff)
  return c.plain === "" ? "" : encryptValue(Buffer.from(c.plain, "utf8"), dataKey, TOP_LEVEL_AAD, "comment");
}

/**
 * The comments to write with `names` under `dataKey`: an encrypted comment keeps its exact ENC
 * string under the same key and is encrypted anew under another; a clear one is copied. The
 * comments of a name that is no longer written go with it.
 */
export function commentsToWrite(c: CarriedComments | undefined, dataKey: Uint8Array, names: ReadonlySet<string>): FlatComments | undefined {
  if (c === undefined) return undefined;
  const out: FlatComments = {
    header: c.header.map((x) => stored(x, dataKey)),
    above: new Map([...c.above].filter(([n]) => names.has(n)).map(([n, l]) => [n, l.map((x) => stored(x, dataKey))] as const)),
    inline: new Map([...c.inline].filter(([n]) => names.has(n)).map(([n, x]) => [n, stored(x, dataKey)] as const)),
    footer: c.footer.map((x) => stored(x, dataKey)),
  };
  return out.header.length + out.above.size + out.inline.size + out.footer.length === 0 ? undefined : out;
}

/** `name: value` with the comments above it and after it, as sops's YAML store writes them. */
export function renderEntryWithComments(line: string, name: string, comments: FlatComments | undefined): string {
  if (comments === undefined) return `${line}\n`;
  const above = (comments.above.get(name) ?? []).map((c) => `#${c}\n`).join("");
  const inline = comments.inline.get(name);
  return `${above}${line}${inline !== undefined ? ` #${inline}` : ""}\n`;
}
