/**
 * Reads the history of environment files from git (simple-git for the log, one `git cat-file
 * --batch` for the file versions) and turns it into per-secret events with `history.ts`.
 * Follows renames, handles deleted files and merges (a merge reports only what it changed
 * relative to every parent), and scales to long histories (one log, one batch read).
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { relative } from "node:path";
import { simpleGit, type SimpleGit } from "simple-git";
import { decryptSecrets, parseSecretsFile, type Identities } from "@stellar-secrets/sops";
import { CliError } from "./errors.js";
import { catFileBatch, gitEnv, strictText } from "./git.js";

export { catFileBatch, gitEnv } from "./git.js";
import {
  diffMerge,
  diffVersions,
  refineWithPlaintexts,
  type CommitInfo,
  type FileVersion,
  type HistoryEvent,
  type SecretChange,
} from "./history.js";

/** One environment file to follow. `path` is absolute. */
export interface TrackedFile {
  environment: string;
  path: string;
}

/** Options of {@link readSecretsHistory}. */
export interface HistoryOptions {
  /** A directory inside the git work tree (the project root). */
  cwd: string;
  files: TrackedFile[];
  /** Environment for git (HOME, PATH...). */
  env: NodeJS.ProcessEnv;
  /** When given, `re-encrypted` changes are checked by decrypting both versions. */
  identities?: Identities | undefined;
  /** Include uncommitted changes of the working tree (commit ""). Default true. */
  workingTree?: boolean;
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

/**
 * Reads the value history of the given environment files. Throws `CliError("GIT_ERROR")` when
 * `cwd` is not in a git work tree or git fails. Never reads or prints a value unless `identities`
 * is given, and then only to compare plaintexts in memory.
 */
export async function readSecretsHistory(options: HistoryOptions): Promise<SecretsHistory> {
  // simple-git runs git with this process's environment; it refuses some variables (such as
  // GIT_CONFIG_GLOBAL) when they are passed explicitly, so only a different environment is passed.
  const git = options.env === process.env ? simpleGit({ baseDir: options.cwd }) : simpleGit({ baseDir: options.cwd }).env(safeGitEnv(options.env));
  let top: string;
  try {
    top = (await git.revparse(["--show-toplevel"])).trim();
  } catch (error) {
    throw new CliError("GIT_ERROR", `${options.cwd} is not inside a git repository; history comes from git commits`, {
      hint: "run `git init` and commit the secrets files",
      cause: error,
    });
  }
  const rel = options.files.map((f) => ({ ...f, rel: relative(top, f.path).split("\\").join("/") }));
  const hasHead = await git
    .raw(["rev-parse", "--verify", "-q", "HEAD"])
    .then((s) => s.trim() !== "")
    .catch(() => false);

  const records: ChangeRecord[] = [];
  let commits = 0;
  if (hasHead) {
    options.onProgress?.("reading git log", 0, 1);
    const log = await runGit(git, [
      "log",
      "--topo-order",
      `--format=${RECORD}%H${FIELD}%P${FIELD}%an${FIELD}%ae${FIELD}%aI${FIELD}%s`,
      "--diff-merges=combined",
      "--raw",
      "--no-abbrev",
      "-M",
      "HEAD",
      "--",
      ":(top,glob)**/*.enc.yaml",
      ":(top,glob)**/*.enc.json",
    ]);
    const parsed = parseRawLog(log);
    commits = parsed.length;
    for (const [fileIndex, file] of rel.entries()) {
      const tracked = new Set([file.rel]);
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
  if (options.workingTree !== false) {
    for (const file of rel) {
      const headBlob = hasHead
        ? await git
            .raw(["rev-parse", "-q", "--verify", `HEAD:${file.rel}`])
            .then((s) => s.trim() || undefined)
            .catch(() => undefined)
        : undefined;
      const text = existsSync(file.path) ? strictText(await readFile(file.path), file.rel) : undefined;
      pending.push({ environment: file.environment, before: headBlob, text });
    }
  }

  const blobIds = new Set<string>();
  for (const r of records) {
    for (const b of r.before) if (b !== undefined) blobIds.add(b);
    if (r.after !== undefined) blobIds.add(r.after);
  }
  for (const p of pending) if (p.before !== undefined) blobIds.add(p.before);
  options.onProgress?.("reading file versions", 0, blobIds.size);
  const blobs = await catFileBatch(top, [...blobIds], options.env);

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
  const plaintexts = new Map<string, Map<string, string> | undefined>();
  const plaintextOf = async (key: string, text: string | null | undefined): Promise<Map<string, string> | undefined> => {
    if (options.identities === undefined || text === undefined || text === null) return undefined;
    if (!plaintexts.has(key)) {
      try {
        plaintexts.set(key, (await decryptSecrets(text, options.identities)).values);
      } catch {
        plaintexts.set(key, undefined);
      }
    }
    return plaintexts.get(key);
  };

  const events: HistoryEvent[] = [];
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
    let changes: SecretChange[] =
      befores.length > 1 ? diffMerge(befores as (FileVersion | undefined)[], after) : diffVersions(befores[0] as FileVersion | undefined, after);
    let verified = false;
    if (changes.some((c) => c.kind === "re-encrypted") && options.identities !== undefined && r.before[0] !== undefined && r.after !== undefined) {
      const a = await plaintextOf(r.before[0], blobs.get(r.before[0]));
      const b = await plaintextOf(r.after, blobs.get(r.after));
      if (a !== undefined && b !== undefined) {
        changes = refineWithPlaintexts(changes, a, b);
        verified = true;
      }
    }
    for (const c of changes) {
      events.push({ ...r.info, environment: r.environment, name: c.name, kind: c.kind, verified: verified && (c.kind === "re-encrypted" || c.kind === "changed") });
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
    if (changes.some((c) => c.kind === "re-encrypted") && options.identities !== undefined && p.before !== undefined) {
      const a = await plaintextOf(p.before, headText);
      const b = await plaintextOf(`worktree:${p.environment}`, p.text);
      if (a !== undefined && b !== undefined) {
        changes = refineWithPlaintexts(changes, a, b);
        verified = true;
      }
    }
    const info: CommitInfo = { commit: "", author: "(uncommitted)", email: "", date: now, message: "uncommitted changes in the working tree" };
    for (const c of changes) events.push({ ...info, environment: p.environment, name: c.name, kind: c.kind, verified });
  }
  return { events, warnings, commits };
}

function toVersion(text: string, where: string): FileVersion | null {
  try {
    const file = parseSecretsFile(text, { path: where });
    return {
      values: new Map(file.entries.map((e) => [e.name, e.raw])),
      stanzas: new Map(file.metadata.age.map((s) => [s.recipient.trim(), s.enc])),
    };
  } catch {
    return null;
  }
}

interface RawChange {
  path: string;
  renamedFrom?: string;
  before: (string | undefined)[];
  after: string | undefined;
}

/** Parses `git log --raw --diff-merges=combined` output in the format above. Exported for tests. */
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
        const shas = tokens.slice(parents + 1, parents + 1 + parents + 1);
        const before = shas.slice(0, parents).map((s) => (ZERO.test(s) ? undefined : s));
        const after = shas[parents];
        changes.push({ path: combined[3] as string, before, after: after === undefined || ZERO.test(after) ? undefined : after });
        continue;
      }
      const single = /^:[0-7]+ [0-7]+ ([0-9a-f]+) ([0-9a-f]+) ([A-Z])\d*\t([^\t]+)(?:\t([^\t]+))?$/.exec(line);
      if (!single) continue;
      const [, oldSha, newSha, status, p1, p2] = single as unknown as [string, string, string, string, string, string | undefined];
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

async function runGit(git: SimpleGit, args: string[]): Promise<string> {
  try {
    return await git.raw(args);
  } catch (error) {
    throw new CliError("GIT_ERROR", `git ${args[0]} failed: ${(error as Error).message.split("\n")[0]}`, { cause: error });
  }
}

function safeGitEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out = gitEnv(env);
  for (const key of Object.keys(out)) if (key.startsWith("GIT_CONFIG")) delete out[key];
  return out;
}

