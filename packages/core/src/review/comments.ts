/**
 * Encrypted comments of an environment file, compared without a key. sops encrypts a comment
 * (`#ENC[AES256_GCM,…,type:comment]`, SOPS-FORMAT §9.4) and leaves it outside the MAC; its text
 * is encrypted data, but where it stands is in clear: above the first secret, above a secret,
 * after a secret's value on its line, or after the last one. So a review can say that an
 * encrypted comment was added, removed or changed above NAME, never what it says. Comments in
 * clear text are the review's `clearComments` (their lines), not this.
 */
import { parseEnc, type FlatComments } from "@stellar-secrets/sops";

/** An encrypted comment the change added, removed or changed (keyless: its place, never its text). */
export interface CommentChange {
  change: "added" | "removed" | "changed";
  /** `top`: above the first secret; `above`: above `secret`; `after`: after `secret`'s value on its line; `end`: after the last secret. */
  place: "top" | "above" | "after" | "end";
  /** The secret it is above or after (`above`, `after`). */
  secret?: string;
  /** 1-based line of the comment: in the head's file, or in the base's for one removed. */
  line?: number;
}

interface Slot {
  place: CommentChange["place"];
  secret?: string;
  stored: string[];
}

const encrypted = (stored: string): boolean => parseEnc(stored)?.type === "comment";

/** Every place of a file's comments, with the encrypted comments stored there. */
function slots(c: FlatComments | undefined): Slot[] {
  if (c === undefined) return [];
  const out: Slot[] = [{ place: "top", stored: c.header.filter(encrypted) }];
  for (const [secret, list] of c.above) out.push({ place: "above", secret, stored: list.filter(encrypted) });
  for (const [secret, one] of c.inline) out.push({ place: "after", secret, stored: encrypted(one) ? [one] : [] });
  out.push({ place: "end", stored: c.footer.filter(encrypted) });
  return out.filter((s) => s.stored.length > 0);
}

const slotKey = (s: { place: string; secret?: string }): string => `${s.place}\u0000${s.secret ?? ""}`;

/** The 1-based line of `#stored` in `text` (an ENC string is unique in a file). */
function lineOf(text: string | undefined, stored: string): number | undefined {
  if (text === undefined) return undefined;
  const at = text.indexOf(`#${stored}`);
  if (at === -1) return undefined;
  let line = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < at; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

/**
 * The encrypted comments `after` adds, removes and changes against `before` (each file's
 * `SecretsFile.comments`), by place. A comment whose encrypted string is unchanged is no change
 * wherever it moved (an entry added before it moves a comment between `top` and `above`). At one
 * place, an encrypted string replaced by another is `changed` — unless `reencrypted` (every value
 * was encrypted anew: a rotation or a plain sops edit writes every comment anew too), when only
 * comments added or removed count. The comments of a secret in `removedSecrets` go with it and
 * are not listed. `textBefore`/`textAfter` give the lines. Pure; never decrypts.
 */
export function diffComments(
  before: FlatComments | undefined,
  after: FlatComments | undefined,
  options: { reencrypted?: boolean; removedSecrets?: ReadonlySet<string>; textBefore?: string; textAfter?: string } = {},
): CommentChange[] {
  const was = slots(before);
  const now = slots(after);
  // the same encrypted string on both sides is the same comment, wherever it stands now
  const kept = new Set(was.flatMap((s) => s.stored).filter((x) => now.some((n) => n.stored.includes(x))));
  const left = (list: Slot[]): Map<string, Slot> => new Map(list.map((s) => [slotKey(s), { ...s, stored: s.stored.filter((x) => !kept.has(x)) }]));
  const oldAt = left(was);
  const newAt = left(now);
  const out: CommentChange[] = [];
  const at = (s: Slot): Pick<CommentChange, "place" | "secret"> => (s.secret === undefined ? { place: s.place } : { place: s.place, secret: s.secret });
  const withLine = (c: CommentChange, line: number | undefined): CommentChange => (line === undefined ? c : { ...c, line });
  for (const [key, n] of newAt) {
    const o = oldAt.get(key);
    const paired = Math.min(n.stored.length, o?.stored.length ?? 0);
    n.stored.forEach((stored, i) => {
      if (i < paired && options.reencrypted === true) return;
      out.push(withLine({ change: i < paired ? "changed" : "added", ...at(n) }, lineOf(options.textAfter, stored)));
    });
    if (o !== undefined) o.stored = o.stored.slice(paired);
  }
  for (const o of oldAt.values()) {
    if (o.secret !== undefined && options.removedSecrets?.has(o.secret) === true) continue;
    for (const stored of o.stored) out.push(withLine({ change: "removed", ...at(o) }, lineOf(options.textBefore, stored)));
  }
  return out;
}

/** "an encrypted comment was added above stripe_api_key (line 3)", as a review line says it. */
export function commentChangeText(c: CommentChange): string {
  const where = { top: "at the top of the file", above: `above ${c.secret ?? "?"}`, after: `after ${c.secret ?? "?"}`, end: "at the end of the file" }[c.place];
  return `an encrypted comment was ${c.change} ${where}${c.line === undefined ? "" : ` (${c.change === "removed" ? "was " : ""}line ${c.line})`}`;
}
