/**
 * Value history of secrets from successive versions of an environment file, without keys.
 *
 * With stable ciphertext a value changed exactly when its ENC string changed. A data-key
 * rotation (or a tool that re-encrypts everything, like a plain `sops edit`) changes every ENC
 * string at once: such a version is reported as `re-encrypted`, meaning "every value was
 * re-encrypted; whether a value also changed cannot be told without a key". With a key, callers
 * refine it by comparing plaintexts ({@link refineWithPlaintexts}).
 *
 * Pure functions: versions in, changes out. Reading git lives in `git-history.ts`.
 */

/** One version of an environment file, as seen without keys. */
export interface FileVersion {
  /** name → raw stored value (ENC[...] string or ""). */
  values: ReadonlyMap<string, string>;
  /** age recipient → wrapped data key (armored). */
  stanzas: ReadonlyMap<string, string>;
}

/** What happened to one secret's value in one commit. */
export type ChangeKind = "added" | "changed" | "removed" | "re-encrypted";

/** One secret's change between versions. */
export interface SecretChange {
  name: string;
  kind: ChangeKind;
}

/**
 * The changes from `before` to `after` (either may be undefined: the file did not exist).
 * A secret whose ENC string changed is `changed`, unless the version re-encrypted every value
 * it kept: every kept value's ENC string changed and either at least two values were kept or
 * the data key was re-wrapped for every recipient that stayed; then `re-encrypted`.
 * Sorted by name.
 */
export function diffVersions(before: FileVersion | undefined, after: FileVersion | undefined): SecretChange[] {
  const prev = before?.values ?? new Map<string, string>();
  const next = after?.values ?? new Map<string, string>();
  const changes: SecretChange[] = [];
  const kept = [...next.keys()].filter((n) => prev.has(n));
  const changed = kept.filter((n) => prev.get(n) !== next.get(n));
  const bulk = changed.length > 0 && changed.length === kept.length && (kept.length >= 2 || rewrapped(before, after));
  for (const name of new Set([...prev.keys(), ...next.keys()])) {
    if (!prev.has(name)) changes.push({ name, kind: "added" });
    else if (!next.has(name)) changes.push({ name, kind: "removed" });
    else if (prev.get(name) !== next.get(name)) changes.push({ name, kind: bulk ? "re-encrypted" : "changed" });
  }
  return changes.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * The changes a merge commit itself made: a secret counts only when its stored value differs
 * from its value in every parent (otherwise the change came from, and is reported at, a parent's
 * side). Kinds are relative to the first parent.
 */
export function diffMerge(parents: (FileVersion | undefined)[], after: FileVersion | undefined): SecretChange[] {
  const first = parents[0];
  const next = after?.values ?? new Map<string, string>();
  return diffVersions(first, after).filter((change) =>
    parents.every((p) => {
      const raw = p?.values.get(change.name);
      return raw !== next.get(change.name);
    }),
  );
}

/** True when every recipient present in both versions has a different wrapped data key. */
function rewrapped(before: FileVersion | undefined, after: FileVersion | undefined): boolean {
  if (before === undefined || after === undefined) return false;
  const shared = [...after.stanzas.keys()].filter((r) => before.stanzas.has(r));
  return shared.length > 0 && shared.every((r) => before.stanzas.get(r) !== after.stanzas.get(r));
}

/**
 * Refines `re-encrypted` changes with plaintexts (from a key): `changed` when the plaintext
 * differs, still `re-encrypted` when it is the same. Other kinds and names absent from either
 * map are kept as they are.
 */
export function refineWithPlaintexts(
  changes: SecretChange[],
  before: ReadonlyMap<string, string> | undefined,
  after: ReadonlyMap<string, string> | undefined,
): SecretChange[] {
  if (before === undefined || after === undefined) return changes;
  return changes.map((c) => {
    if (c.kind !== "re-encrypted") return c;
    const a = before.get(c.name);
    const b = after.get(c.name);
    if (a === undefined || b === undefined) return c;
    return { name: c.name, kind: a === b ? "re-encrypted" : "changed" };
  });
}

/** A commit as history reports it. `commit` is "" for uncommitted changes in the working tree. */
export interface CommitInfo {
  commit: string;
  author: string;
  email: string;
  /** ISO 8601 author date. */
  date: string;
  message: string;
}

/** One entry of a secret's history in one environment. */
export interface HistoryEvent extends CommitInfo {
  environment: string;
  name: string;
  kind: ChangeKind;
  /** True when `kind` was decided by comparing plaintexts (a key was available). */
  verified: boolean;
}

/**
 * The last time each secret's value was set (added or changed) according to `events`
 * (chronological). `re-encrypted` events do not count: the value may be the old one.
 * Secrets whose last event is `removed` are left out.
 */
export function lastValueChanges(events: readonly HistoryEvent[]): Map<string, HistoryEvent> {
  const last = new Map<string, HistoryEvent>();
  for (const e of events) {
    const key = `${e.environment}\u0000${e.name}`;
    if (e.kind === "added" || e.kind === "changed") last.set(key, e);
    else if (e.kind === "removed") last.delete(key);
  }
  return last;
}
