/**
 * Values that came back: a secret whose current value is one that an earlier commit replaced with
 * a new value (rotated away, e.g. because it was revoked or leaked), under any name of the same
 * environment. The typical way in: one branch renames `a` to `b`, another rotates `a`, and the
 * merge keeps the rename, so `b` holds `a`'s old, revoked value.
 *
 * Needs the plaintexts (a key): {@link readReplacedValues} reads every version of the files
 * through a {@link GitSource} (the whole history, not git's simplified one, which leaves out a side
 * branch whose change a merge dropped) and compares values in memory only; nothing it returns
 * holds a value.
 */
import { parseSecretsFile } from "@stellar-secrets/sops";
import type { GitSource } from "./git.js";
import { parseRawLog, RAW_LOG_FORMAT, type TrackedFile } from "./history.js";

/** A current value that an earlier commit replaced with another value. Holds no value. */
export interface RevokedValueBack {
  environment: string;
  /** The secret that holds the value now. */
  name: string;
  /** The secret whose value the earlier commit replaced (may be `name`, or another name: a rename). */
  replacedName: string;
  /** The oldest commit (topological order) that replaced the value with a new one. */
  commit: string;
  /** Its author date (ISO 8601). */
  date: string;
}

/** One commit's versions of a file: each parent's and its own (undefined: absent). */
export interface VersionStep {
  commit: string;
  date: string;
  /** name → value of each parent's version (one entry for a normal commit). */
  parents: readonly (ReadonlyMap<string, string> | undefined)[];
  after: ReadonlyMap<string, string> | undefined;
}

/**
 * The values each step replaced: a name whose value changed to one that no parent held under that
 * name (a new value: `set`, `resolve --from-stdin`; a merge that only took one side's value is a
 * choice, not a replacement), and the value it had in each parent. A removal or a rename replaces
 * nothing. Empty values are left out. `steps` newest first; returns value → the oldest replacing step
 * (in memory only: the keys are plaintexts). Pure.
 */
export function replacedValues(steps: readonly VersionStep[]): Map<string, { name: string; commit: string; date: string }> {
  const out = new Map<string, { name: string; commit: string; date: string }>();
  for (const step of steps) {
    if (step.after === undefined) continue;
    for (const [name, value] of step.after) {
      const before = step.parents.map((p) => p?.get(name));
      if (before.includes(value)) continue; // unchanged against a parent, or a merge's choice of a side
      for (const old of before) {
        if (old === undefined || old === "") continue;
        out.set(old, { name, commit: step.commit, date: step.date }); // newest first: the last set is the oldest
      }
    }
  }
  return out;
}

/**
 * The current values (name → value) that {@link replacedValues} lists, as findings without values.
 * Pure.
 */
export function revokedValuesBack(environment: string, current: ReadonlyMap<string, string>, replaced: ReadonlyMap<string, { name: string; commit: string; date: string }>): RevokedValueBack[] {
  const out: RevokedValueBack[] = [];
  for (const [name, value] of current) {
    if (value === "") continue;
    const r = replaced.get(value);
    if (r !== undefined) out.push({ environment, name, replacedName: r.name, commit: r.commit, date: r.date });
  }
  return out;
}

/** Options of {@link readReplacedValues}. */
export interface ReplacedValuesOptions {
  git: GitSource;
  file: TrackedFile;
  /** Decrypts one version to name → value, in memory; throws when it cannot (that version is then skipped). */
  plaintexts: (text: string) => Promise<ReadonlyMap<string, string>>;
}

/** What {@link readReplacedValues} returns. */
export interface ReplacedValues {
  /** value → where it was replaced (plaintext keys: memory only, never print or log them). */
  replaced: Map<string, { name: string; commit: string; date: string }>;
  /** Versions that did not decrypt with the key (their replacements are not seen). */
  unreadable: number;
}

/**
 * Every commit reachable from HEAD that changed `file` (`git log --full-history`, merges with all
 * their parents' versions), decrypted with `plaintexts`, through {@link replacedValues}. A number,
 * boolean or other non-string sops type is a setting, not a credential: such values are left out.
 * Throws what `git` throws.
 */
export async function readReplacedValues(options: ReplacedValuesOptions): Promise<ReplacedValues> {
  const { git } = options;
  const path = git.prefix === "" ? options.file.path : `${git.prefix}/${options.file.path}`;
  if (!(await git.hasHead())) return { replaced: new Map(), unreadable: 0 };
  const log = parseRawLog(await git.log(["--full-history", "--topo-order", RAW_LOG_FORMAT, "--diff-merges=combined", "--raw", "--no-abbrev", "HEAD", "--", `:(top,literal)${path}`]));
  const ids = new Set<string>();
  for (const c of log) for (const ch of c.changes) if (ch.path === path) for (const b of [...ch.before, ch.after]) if (b !== undefined) ids.add(b);
  const blobs = await git.readBlobs([...ids]);
  const decrypted = new Map<string, ReadonlyMap<string, string> | null>();
  let unreadable = 0;
  const valuesOf = async (id: string | undefined): Promise<ReadonlyMap<string, string> | undefined | null> => {
    if (id === undefined) return undefined;
    if (!decrypted.has(id)) {
      const text = blobs.get(id);
      let values: ReadonlyMap<string, string> | null = null;
      if (typeof text === "string") {
        try {
          const all = await options.plaintexts(text);
          const strings = new Set(parseSecretsFile(text).entries.filter((e) => !e.encrypted || e.type === undefined || e.type === "str").map((e) => e.name));
          values = new Map([...all].filter(([name]) => strings.has(name)));
        } catch {
          values = null;
        }
      }
      if (values === null) unreadable++;
      decrypted.set(id, values);
    }
    return decrypted.get(id) as ReadonlyMap<string, string> | null;
  };
  const steps: VersionStep[] = [];
  for (const c of log) {
    for (const ch of c.changes) {
      if (ch.path !== path) continue;
      const after = await valuesOf(ch.after);
      const parents = [];
      for (const b of ch.before) parents.push(await valuesOf(b));
      if (after === null || parents.some((p) => p === null)) continue; // a version this key does not read
      steps.push({ commit: c.info.commit, date: c.info.date, parents: parents as (ReadonlyMap<string, string> | undefined)[], after });
    }
  }
  return { replaced: replacedValues(steps), unreadable };
}
