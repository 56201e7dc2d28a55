/**
 * Membership over time, from git: since when each member has been a member of each environment
 * (the first commit of their current, unbroken membership with their current key, in the history
 * of stellar.yaml), who approved them, and when each member was last seen authoring a commit.
 * The pure parts ({@link membershipSince}, {@link lastSeen}, {@link authorMatches}) take parsed
 * data; the readers ({@link readConfigVersions}, {@link readCommits}, {@link memberDetails}) run
 * git through {@link GitRepo}.
 */
import { parseProjectConfig, type EnvironmentConfig, type ProjectConfig } from "@stellar-secrets/core";
import { isSameKey, PROJECT_FILE } from "@stellar-secrets/sops";
import type { CommandContext } from "./command.js";
import { GitRepo } from "./git.js";

/** A commit as these reports show it. */
export interface CommitRef {
  commit: string;
  /** ISO 8601 author date. */
  date: string;
  author: string;
  email: string;
}

/** One committed version of stellar.yaml (oldest first in a list); `text` null when unreadable or deleted. */
export interface ConfigVersion extends CommitRef {
  text: string | null;
  /**
   * The commits of the versions this one follows, in the history of stellar.yaml (git's rewritten
   * parents: two for a merge of branches that both changed it). Absent: the list is one line of
   * history, each version following the one before it.
   */
  parents?: readonly string[];
}

/** `environment\0name` → the commit that started the member's current membership, and the key they have had since. */
export type MembershipStarts = Map<string, CommitRef & { recipient: string }>;

/** The key of {@link MembershipStarts}. */
export function membershipKey(environment: string, name: string): string {
  return `${environment}\u0000${name}`;
}

/**
 * Since when each member is a member: walks the versions (oldest first) and keeps, per environment
 * and name, the commit from which they have been a member with the same key without a break
 * (removed, or their key changed, starts again). Members that no version has are absent
 * (not committed yet).
 *
 * When every version names its `parents` (a history with branches, parents before children), a
 * membership follows the branches: a version keeps the start of a parent version that had the
 * member with the same key (the earliest, when both parents of a merge had them), so a member added
 * on a branch is dated from that branch's commit, not from a commit of another branch that did not
 * have them yet; the result is that of the last version (HEAD's). A parent outside the list counts
 * as a version without the member.
 */
export function membershipSince(versions: readonly ConfigVersion[]): MembershipStarts {
  if (versions.length > 0 && versions.every((v) => v.parents !== undefined)) return membershipSinceInGraph(versions);
  const starts: MembershipStarts = new Map();
  const keys = new Map<string, string>();
  for (const v of versions) {
    const present = membersOf(v);
    for (const k of [...starts.keys()]) {
      if (present.get(k) !== keys.get(k)) {
        starts.delete(k);
        keys.delete(k);
      }
    }
    for (const [k, recipient] of present) {
      if (starts.has(k)) continue;
      starts.set(k, { commit: v.commit, date: v.date, author: v.author, email: v.email, recipient });
      keys.set(k, recipient);
    }
  }
  return starts;
}

/**
 * The members of a version: `membershipKey` → recipient. Parsed once per version object
 * (`members list --long` asks for each version's members once per member and for their start).
 */
function membersOf(v: ConfigVersion): ReadonlyMap<string, string> {
  let present = parsedMembers.get(v);
  if (present === undefined) {
    const config = v.text === null ? undefined : parseProjectConfig(v.text, `/${PROJECT_FILE}`).config;
    present = new Map<string, string>();
    for (const env of config?.environments ?? []) for (const m of env.members) present.set(membershipKey(env.name, m.name), m.recipient);
    parsedMembers.set(v, present);
  }
  return present;
}
const parsedMembers = new WeakMap<ConfigVersion, Map<string, string>>();

/** {@link membershipSince} over versions that name their parents (topological order, oldest first). */
function membershipSinceInGraph(versions: readonly ConfigVersion[]): MembershipStarts {
  const byCommit = new Map<string, MembershipStarts>();
  let last: MembershipStarts = new Map();
  for (const v of versions) {
    const starts: MembershipStarts = new Map();
    const before = (v.parents ?? []).map((p) => byCommit.get(p)).filter((m): m is MembershipStarts => m !== undefined);
    for (const [k, recipient] of membersOf(v)) {
      const kept = before
        .map((m) => m.get(k))
        .filter((st): st is CommitRef & { recipient: string } => st !== undefined && st.recipient === recipient)
        .sort((a, b) => Date.parse(a.date) - Date.parse(b.date))[0];
      starts.set(k, kept ?? { commit: v.commit, date: v.date, author: v.author, email: v.email, recipient });
    }
    byCommit.set(v.commit, starts);
    last = starts;
  }
  return last;
}

/**
 * Whether a commit author is the member `name` (the documented heuristic of `access --inactive`):
 * the author name, the email, or the part of the email before "@" equals the member name, ignoring case.
 */
export function authorMatches(name: string, author: string, email: string): boolean {
  const n = name.toLowerCase();
  const e = email.toLowerCase();
  return author.toLowerCase() === n || e === n || (e.split("@")[0] ?? "") === n;
}

/** The newest commit of `commits` (any order) authored by each of `names` ({@link authorMatches}); absent: never seen. */
export function lastSeen(commits: readonly CommitRef[], names: readonly string[]): Map<string, CommitRef> {
  const out = new Map<string, CommitRef>();
  for (const c of commits) {
    for (const name of names) {
      if (!authorMatches(name, c.author, c.email)) continue;
      const known = out.get(name);
      if (known === undefined || Date.parse(c.date) > Date.parse(known.date)) out.set(name, c);
    }
  }
  return out;
}

const FORMAT = "--format=%x01%H%x00%aI%x00%an%x00%ae";

function parseHeader(line: string): CommitRef | undefined {
  const [commit, date, author, email] = line.split("\u0000");
  if (commit === undefined || date === undefined) return undefined;
  return { commit, date, author: author ?? "", email: email ?? "" };
}

/** The repository of `config`, or undefined when it is not in git or has no commit yet. */
async function repoOf(ctx: CommandContext, config: ProjectConfig): Promise<GitRepo | undefined> {
  try {
    const repo = await GitRepo.open(config.root, ctx.env, "membership dates come from git history");
    return (await repo.hasHead()) ? repo : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The blob a `git log --raw` line gives the file in its commit: `:100644 100644 OLD NEW M\tPATH`, or
 * for a merge (`-c`) `::100644 100644 100644 P1 P2 RESULT MM\tPATH`; the last id before the status
 * letters either way. Undefined for an all-zero id (the file deleted there).
 */
export function rawLineBlob(line: string): string | undefined {
  const fields = line.split("\t")[0]!.trim().split(/\s+/);
  const blob = fields.at(-2);
  return blob === undefined || !/^[0-9a-f]+$/.test(blob) || /^0+$/.test(blob) ? undefined : blob;
}

/** Every committed version of stellar.yaml reachable from HEAD, oldest first; empty outside git. */
export async function readConfigVersions(ctx: CommandContext, config: ProjectConfig): Promise<ConfigVersion[]> {
  const repo = await repoOf(ctx, config);
  if (repo === undefined) return [];
  const path = repo.prefix === "" ? PROJECT_FILE : `${repo.prefix}/${PROJECT_FILE}`;
  // `-c`: a merge commit that git lists here (its stellar.yaml differs from every parent's, e.g. two
  // branches' member changes merged, or a resolved conflict) has a raw line too; without it a merge
  // had none and was taken for a deletion of stellar.yaml, so every member looked "not committed"
  // `--parents`: each version's rewritten parents (the versions it follows), for a history with
  // branches; `--topo-order --reverse`: parents before children, HEAD's version last
  const log = await repo.log(["--reverse", "--topo-order", "--parents", "--raw", "-c", "--no-abbrev", "--no-renames", `${FORMAT}%x00%P`, "--", path]);
  const entries: { ref: CommitRef & { parents: string[] }; blob: string | undefined }[] = [];
  // a commit shown without a change of the file is not a version (never a deletion): its children follow its parents
  const passThrough = new Map<string, string[]>();
  const through = (parents: readonly string[]): string[] => parents.flatMap((p) => passThrough.get(p) ?? [p]);
  for (const chunk of log.split("\u0001").slice(1)) {
    const [header = "", ...rest] = chunk.split("\n");
    const base = parseHeader(header);
    if (base === undefined) continue;
    const parents = through((header.split("\u0000")[4] ?? "").split(" ").filter((p) => p !== ""));
    const raw = rest.find((l) => l.startsWith(":"));
    if (raw === undefined) passThrough.set(base.commit, parents);
    else entries.push({ ref: { ...base, parents }, blob: rawLineBlob(raw) });
  }
  const blobs = await repo.readBlobs([...new Set(entries.map((e) => e.blob).filter((b): b is string => b !== undefined))]);
  return entries.map((e) => ({ ...e.ref, text: e.blob === undefined ? null : (blobs.get(e.blob) ?? null) }));
}

/** Every commit reachable from HEAD (author and date); empty outside git. */
export async function readCommits(ctx: CommandContext, config: ProjectConfig): Promise<CommitRef[]> {
  const repo = await repoOf(ctx, config);
  if (repo === undefined) return [];
  const log = await repo.log([FORMAT]);
  return log
    .split("\u0001")
    .slice(1)
    .map((c) => parseHeader(c.split("\n")[0] ?? ""))
    .filter((c): c is CommitRef => c !== undefined);
}

/** A former member whose key a member has now (under another name). */
export interface FormerKeyHolder {
  name: string;
  /** The key as stellar.yaml spelled it for them. */
  recipient: string;
  /** The last committed version of stellar.yaml (oldest first: the newest) in which they had it. */
  commit: string;
  date: string;
}

/**
 * For a member `name` with key `recipient`: the member of an earlier version of stellar.yaml (any
 * environment) who had the same key ({@link isSameKey}) under another name that is no member now
 * (`currentNames`): someone removed and back under a new name, or one key re-used for another
 * person. The one seen last wins. Undefined when none. Pure.
 */
export function formerKeyHolder(versions: readonly ConfigVersion[], name: string, recipient: string, currentNames: ReadonlySet<string>): FormerKeyHolder | undefined {
  let found: FormerKeyHolder | undefined;
  for (const v of versions) {
    for (const [key, memberRecipient] of membersOf(v)) {
      const memberName = key.slice(key.indexOf("\u0000") + 1);
      if (memberName === name || currentNames.has(memberName) || !isSameKey(memberRecipient, recipient)) continue;
      found = { name: memberName, recipient: memberRecipient, commit: v.commit, date: v.date };
    }
  }
  return found;
}

/** One row of `members list --long`. */
export interface MemberDetail {
  name: string;
  environment: string;
  recipient: string;
  /** First commit of the current membership; null when not committed yet (or no git history). */
  since: CommitRef | null;
  approvedBy: string | null;
  approved: string | null;
  /** True when `approvedBy` is the author of the `since` commit (no recorded approval). */
  approvedByCommitAuthor: boolean;
  /**
   * The former member (another name, no member now) who had this member's key in an earlier
   * version of stellar.yaml, in any spelling ({@link formerKeyHolder}); null when none.
   */
  sameKeyAs: FormerKeyHolder | null;
}

/** Per member and environment: key, since when (git history of stellar.yaml) and who approved. */
export async function memberDetails(ctx: CommandContext, config: ProjectConfig, envs: readonly EnvironmentConfig[]): Promise<MemberDetail[]> {
  const versions = await readConfigVersions(ctx, config);
  const starts = membershipSince(versions);
  const currentNames = new Set(config.environments.flatMap((e) => e.members.map((m) => m.name)));
  const holders = new Map<string, FormerKeyHolder | null>();
  const holderOf = (name: string, recipient: string): FormerKeyHolder | null => {
    const k = `${name}\u0000${recipient}`;
    if (!holders.has(k)) holders.set(k, formerKeyHolder(versions, name, recipient, currentNames) ?? null);
    return holders.get(k) as FormerKeyHolder | null;
  };
  const out: MemberDetail[] = [];
  for (const env of envs) {
    for (const m of env.members) {
      // a key changed in the working tree starts a new membership, not committed yet
      const start = starts.get(membershipKey(env.name, m.name));
      const since = start !== undefined && start.recipient === m.recipient ? { commit: start.commit, date: start.date, author: start.author, email: start.email } : null;
      const approval = env.approved?.find((a) => a.name === m.name);
      out.push({
        name: m.name,
        environment: env.name,
        recipient: m.recipient,
        since,
        approvedBy: approval?.by ?? since?.author ?? null,
        approved: approval?.date ?? null,
        approvedByCommitAuthor: approval === undefined && since !== null,
        sameKeyAs: holderOf(m.name, m.recipient),
      });
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name) || envs.findIndex((e) => e.name === a.environment) - envs.findIndex((e) => e.name === b.environment));
}
