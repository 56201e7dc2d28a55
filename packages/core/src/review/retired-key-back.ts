/**
 * A data key that came back after a rotation, in the current history, without a key: `git revert`
 * of a `rotate-key` or `members rm` commit (with nothing changed since, git restores the old file
 * byte for byte and no merge driver runs), or `git checkout OLD -- FILE`. The file is then under
 * a data key an earlier commit rotated away from, and whoever could unwrap it before (a member
 * removed since, or whoever the rotation was meant to shut out) can read every value written
 * under it from now on.
 *
 * Ciphertext is bound to its data key (see {@link sharedCiphertext}): a version that shares a
 * wrapped data key, an `ENC[…]` value or the MAC with the current file is under its data key. A
 * commit whose parent's version shares with the current file while its own version shares nothing
 * rotated that key away. Only parent → child steps count, never the date order: a side branch
 * still under an old key, merged into a branch that rotated, is no rotation back.
 */
import { parseSecretsFile, type SecretsFile } from "@stellar-secrets/sops";
import type { GitSource } from "./git.js";
import { parseRawLog, RAW_LOG_FORMAT, type TrackedFile } from "./history.js";
import { sharedCiphertext } from "./retired-key.js";

/** One commit's change of the file: its version in each parent and its own (texts; undefined: absent). */
export interface KeyStep {
  commit: string;
  /** ISO 8601 author date. */
  date: string;
  parents: (string | undefined)[];
  after: string | undefined;
}

/** The current file's data key is one an earlier commit rotated away from. */
export interface RetiredKeyBack {
  /** The commit that rotated the key away (the newest such, full id). */
  commit: string;
  date: string;
  /** Which ciphertext the current file shares with that commit's parent version. */
  proof: string;
  /** Stanza labels of the versions under the current data key (the current file too) that are not among `members` (labels prove nothing, but name who could read it then). */
  formerRecipients: string[];
}

function parsed(text: string | undefined): SecretsFile | undefined {
  if (text === undefined) return undefined;
  try {
    const file = parseSecretsFile(text);
    return file.metadata.age.length === 0 && file.entries.length === 0 ? undefined : file;
  } catch {
    return undefined;
  }
}

/** A recipient as a stanza label or stellar.yaml writes it, without an ssh key's comment. */
const keyOf = (recipient: string): string => recipient.trim().split(/\s+/).slice(0, 2).join(" ");

/**
 * The newest step of `steps` (newest first) that rotated the current file's data key away, or
 * undefined. A step counts when a parent's version shares ciphertext with `currentText` and the
 * step's own version is a readable file that shares none (a deletion or a version that cannot be
 * read is no rotation). `members`: the environment's recipients now (stellar.yaml). Pure.
 */
export function retiredKeyBack(currentText: string, steps: readonly KeyStep[], members: readonly string[]): RetiredKeyBack | undefined {
  const current = parsed(currentText);
  if (current === undefined) return undefined;
  const files = new Map<string, SecretsFile | undefined>();
  const fileOf = (text: string | undefined): SecretsFile | undefined => {
    if (text === undefined) return undefined;
    if (!files.has(text)) files.set(text, parsed(text));
    return files.get(text);
  };
  const now = new Set(members.map(keyOf));
  for (const step of steps) {
    const after = fileOf(step.after);
    if (after === undefined || sharedCiphertext(current, after) !== undefined) continue;
    for (const parent of step.parents) {
      const before = fileOf(parent);
      if (before === undefined) continue;
      const proof = sharedCiphertext(current, before);
      if (proof === undefined) continue;
      // who could unwrap the current data key in the versions under it (their stanza labels)
      const former = new Set<string>(current.metadata.age.map((stanza) => stanza.recipient.trim()).filter((r) => !now.has(keyOf(r))));
      for (const s of steps) {
        for (const text of [s.after, ...s.parents]) {
          const f = fileOf(text);
          if (f === undefined || sharedCiphertext(current, f) === undefined) continue;
          for (const stanza of f.metadata.age) if (!now.has(keyOf(stanza.recipient))) former.add(stanza.recipient.trim());
        }
      }
      return { commit: step.commit, date: step.date, proof, formerRecipients: [...former] };
    }
  }
  return undefined;
}

/**
 * Every commit reachable from HEAD that changed `file` (`git log --full-history`, merges with all
 * their parents' versions), through {@link retiredKeyBack} against `currentText` (the work tree's
 * file) and `members`. Reads ciphertext only; throws what `git` throws.
 */
export async function readRetiredKeyBack(git: GitSource, file: TrackedFile, currentText: string, members: readonly string[]): Promise<RetiredKeyBack | undefined> {
  const path = git.prefix === "" ? file.path : `${git.prefix}/${file.path}`;
  if (!(await git.hasHead())) return undefined;
  const log = parseRawLog(await git.log(["--full-history", "--topo-order", RAW_LOG_FORMAT, "--diff-merges=combined", "--raw", "--no-abbrev", "HEAD", "--", `:(top,literal)${path}`]));
  const ids = new Set<string>();
  for (const c of log) for (const ch of c.changes) if (ch.path === path) for (const b of [...ch.before, ch.after]) if (b !== undefined) ids.add(b);
  const blobs = await git.readBlobs([...ids]);
  const text = (id: string | undefined): string | undefined => {
    const t = id === undefined ? undefined : blobs.get(id);
    return typeof t === "string" ? t : undefined;
  };
  const steps: KeyStep[] = [];
  for (const c of log) for (const ch of c.changes) if (ch.path === path) steps.push({ commit: c.info.commit, date: c.info.date, parents: ch.before.map(text), after: text(ch.after) });
  return retiredKeyBack(currentText, steps, members);
}
