/**
 * Value history of secrets from successive versions of an environment file, without keys.
 *
 * With stable ciphertext a value changed exactly when its ENC string changed. A data-key
 * rotation (or a tool that re-encrypts everything, like a plain `sops edit`) changes every ENC
 * string at once: such a version is reported as `re-encrypted`, meaning "every value was
 * re-encrypted; whether a value also changed cannot be told without a key". With a key, callers
 * refine it by comparing plaintexts ({@link refineWithPlaintexts}).
 *
 * Pure functions (versions in, changes out) and {@link readSecretsHistory}, which reads the
 * versions through a {@link GitSource} the caller passes in.
 */
import { ageFormsOfSshKeys, ciphertextIdentity, createHash, ENVIRONMENT_FILE_SUFFIX, isEncValue, parseSecretsFile } from "@stellar-secrets/sops";
import { isMap, isScalar, parseDocument } from "yaml";
import type { GitSource } from "./git.js";

/** One version of an environment file, as seen without keys. */
export interface FileVersion {
  /** name → raw stored value (ENC[...] string or ""). */
  values: ReadonlyMap<string, string>;
  /** age recipient → wrapped data key (armored). */
  stanzas: ReadonlyMap<string, string>;
  /**
   * Names whose stored value is in clear text (not ENC[...]): a version committed by hand (past
   * the hook) that sops cannot read. Their `values` entry is a digest of the clear text (compared,
   * never shown), so the commit that encrypts the value is still a change of it.
   */
  plaintext?: ReadonlySet<string>;
}

/** What happened to one secret's value in one commit. */
export type ChangeKind = "added" | "changed" | "removed" | "re-encrypted";

/** One secret's change between versions. */
export interface SecretChange {
  name: string;
  kind: ChangeKind;
  /**
   * Only on `re-encrypted`: true when a recipient's wrapped data key is byte for byte the one of
   * the version before, which proves the data key did not change (every value set anew, a plain
   * `sops` edit): a re-encryption, never a data-key rotation.
   */
  sameDataKey?: true;
  /** On `added` and `changed`: the version stores the value in clear text ({@link FileVersion.plaintext}). */
  plaintext?: true;
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
  const sameKey = bulk && keptStanza(before, after);
  const clear = (name: string): { plaintext?: true } => (after?.plaintext?.has(name) === true ? { plaintext: true } : {});
  for (const name of new Set([...prev.keys(), ...next.keys()])) {
    if (!prev.has(name)) changes.push({ name, kind: "added", ...clear(name) });
    else if (!next.has(name)) changes.push({ name, kind: "removed" });
    else if (prev.get(name) !== next.get(name))
      changes.push(bulk && !after?.plaintext?.has(name) && !before?.plaintext?.has(name) ? { name, kind: "re-encrypted", ...(sameKey ? { sameDataKey: true as const } : {}) } : { name, kind: "changed", ...clear(name) });
  }
  return changes.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * The changes from one text of an environment file to another, read without a key
 * ({@link diffVersions}; either text may be undefined: no file there). Undefined when a text is
 * not a readable SOPS file: nothing can then be said per name.
 */
export function diffEnvironmentTexts(before: string | undefined, after: string | undefined): SecretChange[] | undefined {
  const a = before === undefined ? undefined : toVersion(before, "before");
  const b = after === undefined ? undefined : toVersion(after, "after");
  if (a === null || b === null) return undefined;
  return diffVersions(a, b);
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

/** True when a recipient present in both versions has the same wrapped data key (so the same data key). */
function keptStanza(before: FileVersion | undefined, after: FileVersion | undefined): boolean {
  if (before === undefined || after === undefined) return false;
  return [...after.stanzas].some(([r, wrapped]) => before.stanzas.get(r) === wrapped);
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
    return a === b ? c : { name: c.name, kind: "changed" };
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
  /** Only on `re-encrypted`: the version kept a recipient's wrapped data key byte for byte, so the data key did not rotate ({@link SecretChange.sameDataKey}). */
  sameDataKey?: true;
  /**
   * Only on a merge commit that chose between its sides' values (`resolve --ours`/`--theirs`, or
   * a merge that took one side's value where the other side set another) when the side it
   * dropped is listed after the one it kept: the commit that set the value the merge kept. The
   * merge is then listed as the event that decided the current value (`kind` relative to the
   * dropped value: `changed`, or `added`/`removed` when one of the two is no value).
   */
  keptFrom?: string;
  /** On the event whose value a later merge dropped ({@link keptFrom}): that merge's commit. Not the current value. */
  discardedBy?: string;
  /**
   * On an event of a version that re-encrypted every value it kept (`re-encrypted`, or `changed`
   * when a key told it apart), what the wrapped data keys show without a key: `"new"` when every
   * recipient that stayed got a newly wrapped data key (a data-key rotation: `rotate-key`,
   * `members rm`), `"same"` when a recipient's wrapped data key stayed byte for byte (proof of the same data key:
   * a plain `sops` edit, every value set anew). Absent when neither holds (no recipient stayed).
   */
  dataKey?: "new" | "same";
  /**
   * On `added` and `changed`: the commit stored the value in clear text (a file sops cannot read,
   * committed past the hook). The value is in git history from that commit on, whatever later
   * commits do: it is leaked, to be changed at its provider.
   */
  plaintext?: true;
  /**
   * On a `re-encrypted` event (a key told it): the commit encrypted the very value the version
   * before held in clear text ({@link plaintext}): still the leaked value, to be changed at its provider.
   */
  leakedValue?: true;
}

/**
 * What the wrapped data keys of two versions show (see {@link HistoryEvent.dataKey}): `"new"`
 * when every recipient present in both has a different stanza, `"same"` when one has the same
 * (a stanza kept byte for byte wraps the same data key), else undefined.
 */
export function dataKeyChange(before: FileVersion | undefined, after: FileVersion | undefined): "new" | "same" | undefined {
  if (before === undefined || after === undefined) return undefined;
  // one wrapped key kept byte for byte proves the same data key (as `sameDataKey`, see keptStanza)
  if (keptStanza(before, after)) return "same";
  return rewrapped(before, after) ? "new" : undefined;
}

/**
 * The last time each secret's value was set (added or changed) according to `events`
 * (chronological). `re-encrypted` events do not count: the value may be the old one.
 * Secrets whose last event is `removed` are left out.
 */
export function lastValueChanges(events: readonly HistoryEvent[]): Map<string, HistoryEvent> {
  const last = new Map<string, HistoryEvent>();
  // per secret, the events that set a value, by commit (a merge that kept a side's value points back at one)
  const setters = new Map<string, Map<string, HistoryEvent>>();
  for (const e of events) {
    const key = `${e.environment}\u0000${e.name}`;
    if (e.keptFrom !== undefined) {
      // a merge that kept one side's value: that value dates from the commit that set it
      const kept = setters.get(key)?.get(e.keptFrom);
      if (e.kind === "removed") last.delete(key);
      else last.set(key, kept ?? e);
      continue;
    }
    if (e.kind === "added" || e.kind === "changed") {
      last.set(key, e);
      if (!setters.has(key)) setters.set(key, new Map());
      setters.get(key)?.set(e.commit, e);
    } else if (e.kind === "removed") last.delete(key);
  }
  return last;
}

/** One environment file to follow. */
export interface TrackedFile {
  environment: string;
  /** Relative to the project root, `/`-separated. */
  path: string;
}

/** Options of {@link readSecretsHistory}. */
export interface HistoryOptions {
  /** The repository (its `prefix` places the project in the work tree). */
  git: GitSource;
  files: readonly TrackedFile[];
  /**
   * The working-tree text of a followed file (undefined: absent, null: not valid UTF-8), to
   * include uncommitted changes (commit ""). Without it, only commits are read.
   */
  readWorkingText?: (path: string) => string | null | undefined;
  /**
   * Decrypts one version of a file to its plaintexts (name → value), in memory, to tell a
   * `re-encrypted` change from a value change. Throws when it cannot (then the change stays
   * `re-encrypted`). Without it no value is ever read.
   */
  plaintexts?: (text: string) => Promise<ReadonlyMap<string, string>>;
  /** Called as work advances (for a progress line on long runs). */
  onProgress?: (phase: string, done: number, total: number) => void;
  /** The time stamp for uncommitted changes (default now). */
  now?: Date;
}

/** What {@link readSecretsHistory} returns. */
export interface SecretsHistory {
  /** Every event, oldest first. */
  events: HistoryEvent[];
  /** Commits whose file version could not be read (named, never the content). */
  warnings: string[];
  /** How many commits touched the followed files. */
  commits: number;
  /** The age stanzas of each committed version read (oldest first), for {@link formerReaders}. */
  stanzas: VersionStanzas[];
}

/** The age stanzas of one committed version of an environment file. */
export interface VersionStanzas {
  environment: string;
  commit: string;
  date: string;
  /** age recipient → wrapped data key (white space removed). */
  stanzas: ReadonlyMap<string, string>;
  /** name → value ciphertext identity (as {@link FileVersion.values}). */
  values?: ReadonlyMap<string, string>;
}

/** A key that held an environment's current data key in a committed version and is no recipient now. */
export interface FormerReader {
  recipient: string;
  /** The first commit (oldest first) whose version wrapped the current data key for it. */
  commit: string;
  date: string;
}

/**
 * The keys that can still decrypt the current file although it is no longer encrypted to them:
 * recipients of a committed version under the current data key (it keeps one of `current`'s
 * stanzas byte for byte, or a value's ciphertext under the same name in `currentValues`, either of
 * which proves the same data key) that `current` does not list, in either spelling (an
 * ssh-ed25519 key and its age1… form are one key). A member removed without a rotation (sops
 * updatekeys, `git revert` of their addition) stays one until `rotate-key`. Pure.
 */
export function formerReaders(current: ReadonlyMap<string, string>, versions: readonly VersionStanzas[], currentValues?: ReadonlyMap<string, string>): FormerReader[] {
  const now = [...current.keys()];
  const out = new Map<string, FormerReader>();
  for (const v of versions) {
    const sameKey =
      [...v.stanzas].some(([r, enc]) => current.get(r) === enc) || [...(v.values ?? [])].some(([n, c]) => c !== "" && !c.startsWith("plaintext:") && currentValues?.get(n) === c);
    if (!sameKey) continue; // another data key
    for (const r of v.stanzas.keys()) {
      if (current.has(r) || out.has(r)) continue;
      if (ageFormsOfSshKeys([r], now).length > 0 || ageFormsOfSshKeys(now, [r]).length > 0) continue; // the same key, written the other way
      out.set(r, { recipient: r, commit: v.commit, date: v.date });
    }
  }
  return [...out.values()];
}

interface ChangeRecord {
  info: CommitInfo;
  environment: string;
  path: string;
  /** Blob ids of the file in each parent (undefined: absent). One entry for a normal commit. */
  before: (string | undefined)[];
  after: string | undefined;
  /** Position in the log (0 = newest). */
  order: number;
  /** Position of the environment in the requested files. */
  fileIndex: number;
}

const ZERO = /^0+$/;
const FIELD = "\u001f";
const RECORD = "\u001e";

/** The `--format` that {@link parseRawLog} reads (with `--raw --no-abbrev`; `--diff-merges=combined` for merges). */
export const RAW_LOG_FORMAT = `--format=${RECORD}%H${FIELD}%P${FIELD}%an${FIELD}%ae${FIELD}%aI${FIELD}%s`;

/**
 * The `git log` arguments whose output {@link parseRawLog} reads: every commit reachable from
 * HEAD that touched an environment file, with combined diffs of merges and rename detection.
 */
export const HISTORY_LOG_ARGS: readonly string[] = [
  "--topo-order",
  RAW_LOG_FORMAT,
  "--diff-merges=combined",
  "--raw",
  "--no-abbrev",
  "-M",
  "HEAD",
  "--",
  `:(top,glob)**/*${ENVIRONMENT_FILE_SUFFIX}`,
];

/**
 * Reads the value history of the given environment files: one `git log` ({@link HISTORY_LOG_ARGS}),
 * one batch read of the file versions. Follows renames, handles deleted files and merges (a merge
 * reports only what it changed relative to every parent). Throws what `git` throws. Never reads a
 * value unless `plaintexts` is given, and then only to compare plaintexts in memory.
 */
export async function readSecretsHistory(options: HistoryOptions): Promise<SecretsHistory> {
  const { git } = options;
  const top = (rel: string): string => (git.prefix === "" ? rel : `${git.prefix}/${rel}`);
  const hasHead = await git.hasHead();

  const records: ChangeRecord[] = [];
  let commits = 0;
  if (hasHead) {
    options.onProgress?.("reading git log", 0, 1);
    const parsed = parseRawLog(await git.log(HISTORY_LOG_ARGS));
    commits = parsed.length;
    for (const [fileIndex, file] of options.files.entries()) {
      const tracked = new Set([top(file.path)]);
      for (const [order, commit] of parsed.entries()) {
        for (const change of commit.changes) {
          if (!tracked.has(change.path)) continue;
          records.push({ info: commit.info, environment: file.environment, path: change.path, before: change.before, after: change.after, order, fileIndex });
          if (change.renamedFrom !== undefined) tracked.add(change.renamedFrom);
        }
      }
    }
  }
  records.sort((a, b) => b.order - a.order || a.fileIndex - b.fileIndex); // oldest first

  // Working tree: uncommitted changes against HEAD.
  // text: null when the file is not valid UTF-8 (reported, never decoded with replacement characters)
  const pending: { environment: string; before: string | undefined; text: string | null | undefined }[] = [];
  if (options.readWorkingText !== undefined) {
    const atHead = hasHead ? await git.filesAt("HEAD") : new Map<string, string>();
    for (const file of options.files) {
      pending.push({ environment: file.environment, before: atHead.get(file.path), text: options.readWorkingText(file.path) });
    }
  }

  const blobIds = new Set<string>();
  for (const r of records) {
    for (const b of r.before) if (b !== undefined) blobIds.add(b);
    if (r.after !== undefined) blobIds.add(r.after);
  }
  for (const p of pending) if (p.before !== undefined) blobIds.add(p.before);
  options.onProgress?.("reading file versions", 0, blobIds.size);
  const blobs = await git.readBlobs([...blobIds]);

  const warnings: string[] = [];
  const versions = new Map<string, FileVersion | null>();
  const versionOf = (blob: string | undefined, where: string): FileVersion | undefined | null => {
    if (blob === undefined) return undefined;
    if (!versions.has(blob)) {
      const text = blobs.get(blob);
      versions.set(blob, text === undefined || text === null ? null : toVersion(text, where));
    }
    return versions.get(blob) as FileVersion | null;
  };
  const plaintexts = new Map<string, ReadonlyMap<string, string> | undefined>();
  const plaintextOf = async (key: string, text: string | null | undefined): Promise<ReadonlyMap<string, string> | undefined> => {
    if (options.plaintexts === undefined || text === undefined || text === null) return undefined;
    if (!plaintexts.has(key)) {
      try {
        plaintexts.set(key, await options.plaintexts(text));
      } catch {
        plaintexts.set(key, undefined);
      }
    }
    return plaintexts.get(key);
  };

  const events: HistoryEvent[] = [];
  const stanzas: VersionStanzas[] = [];
  // per environment, secret and stored value (ABSENT: none), the event that last set it (its index in
  // `events`): a merge that kept one side's value is listed when the side it dropped is listed later
  const ABSENT = "\u0000absent";
  const setBy = new Map<string, number>();
  const setterKey = (environment: string, name: string, raw: string | undefined): string => `${environment}\u0000${name}\u0000${raw ?? ABSENT}`;
  let done = 0;
  for (const r of records) {
    done++;
    if (done % 50 === 0 || done === records.length) options.onProgress?.("comparing versions", done, records.length);
    const where = `${r.path} at ${r.info.commit.slice(0, 12)}`;
    const after = versionOf(r.after, where);
    const befores = r.before.map((b) => versionOf(b, where));
    if (after === null || befores.some((b) => b === null)) {
      const invalid = [r.after, ...r.before].some((b) => b !== undefined && blobs.get(b) === null);
      warnings.push(`${where}: a version of the file is ${invalid ? "not valid UTF-8" : "not a readable SOPS file"}; skipped`);
      continue;
    }
    if (after !== undefined) stanzas.push({ environment: r.environment, commit: r.info.commit, date: r.info.date, stanzas: after.stanzas, values: after.values });
    let changes: SecretChange[] =
      befores.length > 1 ? diffMerge(befores as (FileVersion | undefined)[], after) : diffVersions(befores[0] as FileVersion | undefined, after);
    let verified = false;
    const bulk = new Set(changes.filter((c) => c.kind === "re-encrypted").map((c) => c.name));
    const dataKey = bulk.size === 0 ? undefined : dataKeyChange(befores[0] as FileVersion | undefined, after);
    if (bulk.size > 0 && options.plaintexts !== undefined && r.before[0] !== undefined && r.after !== undefined) {
      const a = await plaintextOf(r.before[0], blobs.get(r.before[0]));
      const b = await plaintextOf(r.after, blobs.get(r.after));
      if (a !== undefined && b !== undefined) {
        changes = refineWithPlaintexts(changes, a, b);
        verified = true;
      }
    }
    // a value encrypted after it was committed in clear text: with a key, is it that value still?
    const stillLeaked = new Set<string>();
    const cleared = befores.length === 1 ? (befores[0] as FileVersion | undefined)?.plaintext : undefined;
    if (cleared !== undefined && options.plaintexts !== undefined && r.after !== undefined) {
      const leaked = changes.filter((c) => c.kind === "changed" && cleared.has(c.name) && after?.plaintext?.has(c.name) !== true);
      const b = leaked.length === 0 ? undefined : await plaintextOf(r.after, blobs.get(r.after));
      for (const c of leaked) {
        const value = b?.get(c.name);
        if (value !== undefined && `plaintext:${createHash("sha256").update(value).digest("base64")}` === (befores[0] as FileVersion).values.get(c.name)) stillLeaked.add(c.name);
      }
      if (stillLeaked.size > 0) changes = changes.map((c) => (stillLeaked.has(c.name) ? { name: c.name, kind: "re-encrypted" } : c));
    }
    for (const c of changes) {
      events.push({
        ...r.info,
        environment: r.environment,
        name: c.name,
        kind: c.kind,
        verified: (verified && (c.kind === "re-encrypted" || c.kind === "changed")) || stillLeaked.has(c.name),
        ...(stillLeaked.has(c.name) ? { leakedValue: true as const } : {}),
        ...(c.kind === "re-encrypted" && c.sameDataKey === true ? { sameDataKey: true as const } : {}),
        ...(dataKey !== undefined && bulk.has(c.name) ? { dataKey } : {}),
        ...(c.plaintext === true ? { plaintext: true as const } : {}),
      });
      if (c.kind !== "re-encrypted") setBy.set(setterKey(r.environment, c.name, (after as FileVersion | undefined)?.values.get(c.name)), events.length - 1);
    }
    if (befores.length > 1) {
      for (const decided of mergeChoices(r.info, r.environment, befores as (FileVersion | undefined)[], after, (name, raw) => setBy.get(setterKey(r.environment, name, raw)), events)) {
        events.push(decided);
        setBy.set(setterKey(r.environment, decided.name, (after as FileVersion | undefined)?.values.get(decided.name)), events.length - 1);
      }
    }
  }

  const now = (options.now ?? new Date()).toISOString();
  for (const p of pending) {
    const headText = p.before === undefined ? undefined : blobs.get(p.before);
    if (headText === p.text && headText !== null) continue;
    const where = `${p.environment} (working tree)`;
    const versionOrInvalid = (text: string | null | undefined): FileVersion | null | undefined =>
      text === undefined || text === null ? text : toVersion(text, where);
    const before = versionOrInvalid(headText);
    const after = versionOrInvalid(p.text);
    if (before === null || after === null) {
      const invalid = headText === null || p.text === null;
      warnings.push(`${where}: ${invalid ? "not valid UTF-8" : "not a readable SOPS file"}; uncommitted changes skipped`);
      continue;
    }
    let changes = diffVersions(before, after);
    let verified = false;
    const bulk = new Set(changes.filter((c) => c.kind === "re-encrypted").map((c) => c.name));
    const dataKey = bulk.size === 0 ? undefined : dataKeyChange(before, after);
    if (bulk.size > 0 && options.plaintexts !== undefined && p.before !== undefined) {
      const a = await plaintextOf(p.before, headText);
      const b = await plaintextOf(`worktree:${p.environment}`, p.text);
      if (a !== undefined && b !== undefined) {
        changes = refineWithPlaintexts(changes, a, b);
        verified = true;
      }
    }
    const info: CommitInfo = { commit: "", author: "(uncommitted)", email: "", date: now, message: "uncommitted changes in the working tree" };
    for (const c of changes)
      events.push({ ...info, environment: p.environment, name: c.name, kind: c.kind, verified, ...(dataKey !== undefined && bulk.has(c.name) ? { dataKey } : {}), ...(c.plaintext === true ? { plaintext: true as const } : {}) });
  }
  return { events, warnings, commits, stanzas };
}

/**
 * The events of a merge commit that chose between its sides' values: a secret whose value differs
 * between the parents and which the merge left as one parent's (so {@link diffMerge} does not list
 * it), when an event listed after the one that set the kept value set a value the merge dropped
 * (read oldest first, that dropped value would look current). Each such event is listed for the
 * merge with `keptFrom` (the commit that set the kept value), and the dropped value's event gets
 * `discardedBy` (it is changed in `events`). `setter(name, raw)`: the index in `events` of the event
 * that set `raw` (undefined: no value) for `name`.
 */
function mergeChoices(
  info: CommitInfo,
  environment: string,
  parents: readonly (FileVersion | undefined)[],
  after: FileVersion | undefined,
  setter: (name: string, raw: string | undefined) => number | undefined,
  events: HistoryEvent[],
): HistoryEvent[] {
  const out: HistoryEvent[] = [];
  const names = new Set(parents.flatMap((p) => [...(p?.values.keys() ?? [])]));
  for (const n of after?.values.keys() ?? []) names.add(n);
  for (const name of [...names].sort()) {
    const kept = after?.values.get(name);
    const sides = parents.map((p) => p?.values.get(name));
    // one side's value kept, another side's dropped
    if (!sides.includes(kept) || sides.every((x) => x === kept)) continue;
    const keptAt = setter(name, kept);
    if (keptAt === undefined) continue; // (a value set before the history read: nothing listed says otherwise)
    const dropped = [...new Set(sides.filter((x) => x !== kept))]
      .map((raw) => ({ raw, at: setter(name, raw) }))
      .filter((d): d is { raw: string | undefined; at: number } => d.at !== undefined && d.at > keptAt);
    if (dropped.length === 0) continue;
    const latest = dropped.reduce((a, b) => (b.at > a.at ? b : a));
    for (const d of dropped) (events[d.at] as HistoryEvent).discardedBy = info.commit;
    const kind: ChangeKind = kept === undefined ? "removed" : latest.raw === undefined ? "added" : "changed";
    out.push({ ...info, environment, name, kind, verified: false, keptFrom: (events[keptAt] as HistoryEvent).commit });
  }
  return out;
}

function toVersion(text: string, where: string): FileVersion | null {
  try {
    const file = parseSecretsFile(text, { path: where });
    // compared by ciphertext identity and envelope: an ENC string's `type` and a stanza's YAML layout are not authenticated
    return {
      values: new Map(file.entries.map((e) => [e.name, ciphertextIdentity(e.raw)])),
      stanzas: new Map(file.metadata.age.map((s) => [s.recipient.trim(), s.enc.replace(/\s+/g, "")])),
    };
  } catch {
    return withPlaintextValues(text);
  }
}

/**
 * A version sops cannot read because values are stored in clear text (committed by hand, past
 * the hook): read keyless as YAML, each clear value kept only as a digest (to compare), its name
 * in `plaintext`. Null when the text is not such a file (no `sops` metadata with age stanzas, not
 * a mapping, or no clear value: something else is wrong with it).
 */
function withPlaintextValues(text: string): FileVersion | null {
  try {
    const doc = parseDocument(text, { uniqueKeys: true });
    if (doc.errors.length > 0 || !isMap(doc.contents)) return null;
    const values = new Map<string, string>();
    const plaintext = new Set<string>();
    const stanzas = new Map<string, string>();
    for (const pair of doc.contents.items) {
      const name = isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (name === undefined) return null;
      if (name === "sops") {
        const age: unknown = (pair.value as { toJSON?: () => unknown } | null)?.toJSON?.();
        const list = (age as { age?: unknown } | undefined)?.age;
        if (!Array.isArray(list)) return null;
        for (const s of list as { recipient?: unknown; enc?: unknown }[]) {
          if (typeof s?.recipient === "string" && typeof s.enc === "string") stanzas.set(s.recipient.trim(), s.enc.replace(/\s+/g, ""));
        }
        continue;
      }
      if (!isScalar(pair.value) || (typeof pair.value.value !== "string" && typeof pair.value.value !== "number" && typeof pair.value.value !== "boolean")) return null;
      const raw = String(pair.value.value);
      if (raw === "" || isEncValue(raw)) values.set(name, raw === "" ? raw : ciphertextIdentity(raw));
      else {
        // a digest, never the value: compared with later versions, never printed
        values.set(name, `plaintext:${createHash("sha256").update(raw).digest("base64")}`);
        plaintext.add(name);
      }
    }
    return plaintext.size === 0 || stanzas.size === 0 ? null : { values, stanzas, plaintext };
  } catch {
    return null;
  }
}

/** One file changed by one commit, as `git log --raw` tells it (paths relative to the top of the work tree). */
export interface RawChange {
  path: string;
  renamedFrom?: string;
  /** Blob id in each parent (undefined: absent). */
  before: (string | undefined)[];
  after: string | undefined;
}

/** A git submodule's mode in a tree (its id is a commit of another repository). */
const SUBMODULE_MODE = "160000";
const ZERO_ID = "0000000000000000000000000000000000000000";

/**
 * Parses the output of `git log` with {@link HISTORY_LOG_ARGS} (newest commit first). A side where
 * the path is a git submodule (mode 160000) counts as no file there, as review reads it: a commit
 * that replaced the file by a submodule removed it, one that restored it added it back.
 */
export function parseRawLog(log: string): { info: CommitInfo; changes: RawChange[] }[] {
  const out: { info: CommitInfo; changes: RawChange[] }[] = [];
  for (const record of log.split(RECORD)) {
    if (record.trim() === "") continue;
    const [header = "", ...lines] = record.split("\n");
    const [commit = "", , author = "", email = "", date = "", message = ""] = header.split(FIELD);
    const changes: RawChange[] = [];
    for (const line of lines) {
      const combined = /^(:{2,})([^\t]+)\t(.+)$/.exec(line);
      if (combined) {
        // "::mode1 mode2 modeR sha1 sha2 shaR MM<TAB>path": one colon per parent
        const parents = (combined[1] as string).length;
        const tokens = (combined[2] as string).split(" ");
        const modes = tokens.slice(0, parents + 1);
        const shas = tokens.slice(parents + 1, parents + 1 + parents + 1);
        const before = shas.slice(0, parents).map((s, i) => (ZERO.test(s) || modes[i] === SUBMODULE_MODE ? undefined : s));
        const after = shas[parents];
        changes.push({ path: combined[3] as string, before, after: after === undefined || ZERO.test(after) || modes[parents] === SUBMODULE_MODE ? undefined : after });
        continue;
      }
      const single = /^:([0-7]+) ([0-7]+) ([0-9a-f]+) ([0-9a-f]+) ([A-Z])\d*\t([^\t]+)(?:\t([^\t]+))?$/.exec(line);
      if (!single) continue;
      const [, oldMode, newMode, oldId, newId, status, p1, p2] = single as unknown as [string, string, string, string, string, string, string, string | undefined];
      // a submodule on a side (mode 160000) is no version of the file: its id is a commit of another repository
      const oldSha = oldMode === SUBMODULE_MODE ? ZERO_ID : oldId;
      const newSha = newMode === SUBMODULE_MODE ? ZERO_ID : newId;
      if (status === "R" && p2 !== undefined) {
        changes.push({ path: p2, renamedFrom: p1, before: [oldSha], after: newSha });
      } else if (status === "C" && p2 !== undefined) {
        changes.push({ path: p2, before: [undefined], after: newSha });
      } else {
        changes.push({
          path: p1,
          before: [status === "A" || ZERO.test(oldSha) ? undefined : oldSha],
          after: status === "D" || ZERO.test(newSha) ? undefined : newSha,
        });
      }
    }
    out.push({ info: { commit, author, email, date, message }, changes });
  }
  return out;
}
