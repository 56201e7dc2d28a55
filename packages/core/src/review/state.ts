/**
 * The states a review compares, read without keys: a commit (its files read through a
 * {@link GitSource} and served to {@link loadWorkspace} by an in-memory {@link WorkspaceFs}:
 * nothing is checked out or written to disk), a loaded working tree, or nothing (before the
 * first commit).
 */
import type { Dirent, Stats } from "node:fs";
import { join, relative, sep } from "node:path";
import { checkWorkspace, type CheckOptions } from "../check.js";
import type { Diagnostic } from "../diagnostics.js";
import { GlobFilter } from "../globs.js";
import { classifyPath, loadWorkspace, type ConfigScope, type SkippedFile, type WorkspaceFs } from "../load.js";
import { DEFAULT_EXCLUDE, DEFAULT_INCLUDE, parseProjectConfig, PROJECT_FILE, type ProjectConfig } from "../project.js";
import { EXCLUDED_SCAN_MAX_FILES, hasOwnInclude, notIncludedYaml } from "../excluded.js";
import { OTHER_PROJECTS_MAX_BYTES, OTHER_PROJECTS_MAX_FILES, readOtherProjects, type OtherProject } from "../other-projects.js";
import { sopsConfigCandidates } from "../sops-config.js";
import { normalizeSecretsDir } from "@stellar-secrets/sops";
import { gitattributesCandidates } from "./gitattributes.js";
import { PLAINTEXT_ENV_MAX_BYTES, plaintextEnvAssignments, plaintextEnvCandidates } from "../plaintext-env.js";
import type { WorkspaceIndex } from "../workspace.js";
import type { GitSource } from "./git.js";

/** One side of a review, as read without keys. */
export interface ReviewState {
  /** What the user named (`HEAD`, `main`, `(working tree)`, `(nothing)`). */
  label: string;
  /** The full commit id, undefined for the working tree and for the empty state. */
  commit: string | undefined;
  /** The loaded workspace, undefined when the state has no stellar.yaml (e.g. before the first commit). */
  index: WorkspaceIndex | undefined;
  /** Every checker diagnostic of the state (empty without an index). */
  diagnostics: Diagnostic[];
  /**
   * The checker diagnostics of the state evaluated with other rule severities (e.g. the base's,
   * so that a change cannot weaken the rules that judge it). Empty without an index.
   */
  checkWith(rules: ProjectConfig["rules"], options?: Pick<CheckOptions, "committed" | "tracked">): Diagnostic[];
  /**
   * The state's workspace loaded again with the config files of `scope` read as well (e.g. the
   * base's `config.include`/`exclude`, so that a change cannot hide a file by narrowing them).
   * Undefined without an index; absent when the state cannot reload (a test's hand-made state).
   */
  loadWithin?(scope: ConfigScope): WorkspaceIndex | undefined;
  /**
   * The text of a file (path relative to the project root): undefined when absent, null when
   * it is not valid UTF-8.
   */
  readText(rel: string): string | null | undefined;
  /**
   * The folders below the root (relative, `/`-separated) that the loader did not read because each
   * holds a stellar.yaml of its own: other projects ({@link SkippedFile.project}), whose files this
   * state's checker never sees. Absent when not known (an empty or hand-made state).
   */
  nestedProjects?: readonly string[];
  /**
   * Every folder below the root that holds a stellar.yaml of its own (the top-most ones: a project
   * nested in one of them is that project's), from the state's whole file listing, whether or not
   * the root's `config.include` reaches it ({@link projectFolders}). Absent when the listing is
   * not known (a loaded working tree).
   */
  projectsBelow?: readonly string[];
  /**
   * Every file of the state that the loader would read as a config file with the default scope
   * ({@link EVERY_CONFIG_FILE}), whatever this state's `config.include`/`exclude` say, outside the
   * projects nested in it ({@link projectsBelow}); sorted. What a credential's destination is read
   * from: the checker's scope must not hide a connection's host from review. Absent when the
   * listing is not known (a loaded working tree: use {@link loadWithin} with that scope).
   */
  everyConfigFile?: readonly string[];
}

/**
 * The scope of every config file the loader can read (the default `config.include` and
 * `config.exclude`: every YAML file but node_modules'), whatever a project's own scope says.
 * Review reads credential destinations from it; commit states read its files' blobs.
 */
export const EVERY_CONFIG_FILE: ConfigScope = { include: DEFAULT_INCLUDE, exclude: DEFAULT_EXCLUDE };

/**
 * The paths among `paths` (relative to the project root) that `project`'s loader would read as
 * config files under {@link EVERY_CONFIG_FILE}, leaving out those inside `nested` (folders of other
 * projects); sorted. Pure.
 */
export function everyConfigFileOf(paths: Iterable<string>, project: ProjectConfig, nested: readonly string[] = []): string[] {
  const filter = new GlobFilter(EVERY_CONFIG_FILE.include, EVERY_CONFIG_FILE.exclude);
  const out: string[] = [];
  for (const rel of paths) {
    if (nested.some((dir) => rel.startsWith(`${dir}/`))) continue;
    if (classifyPath(project, rel, filter).role === "config") out.push(rel);
  }
  return out.sort();
}

/**
 * The folders (relative, `/`-separated, sorted) among `paths` (every file of a state, relative to
 * the project root) that hold a stellar.yaml of their own: the projects nested in this one, as
 * the loader tells them (not the root; not a folder inside `secretsDir` or one that contains it;
 * not one `exclude`, the project's `config.exclude`, leaves out: an explicit opt-out), the
 * top-most only. Pure.
 */
export function projectFolders(paths: Iterable<string>, secretsDir: string, exclude?: Pick<GlobFilter, "excludesDirectory">): string[] {
  const secrets = normalizeSecretsDir(secretsDir);
  const dirs = new Set<string>();
  const excluded = (dir: string): boolean => exclude !== undefined && dir.split("/").some((_, i, parts) => exclude.excludesDirectory(parts.slice(0, i + 1).join("/")));
  for (const rel of paths) {
    if (!rel.endsWith(`/${PROJECT_FILE}`)) continue;
    const dir = rel.slice(0, -PROJECT_FILE.length - 1);
    if (dir === secrets || dir.startsWith(`${secrets}/`) || secrets.startsWith(`${dir}/`) || excluded(dir)) continue;
    dirs.add(dir);
  }
  return [...dirs].filter((dir) => ![...dirs].some((other) => dir.startsWith(`${other}/`))).sort();
}

/** The state with nothing in it (before the first commit, or a commit without stellar.yaml). */
export function emptyState(label: string, commit?: string): ReviewState {
  return { label, commit, index: undefined, diagnostics: [], checkWith: () => [], readText: () => undefined };
}

/**
 * A state over a loaded workspace (`undefined`: no stellar.yaml), with `readText` giving the
 * text of its files. The checker runs once here, and again for {@link ReviewState.checkWith}.
 * `skipped`: what the load skipped (its `project: true` folders become
 * {@link ReviewState.nestedProjects}; without it they are not known).
 */
export function stateOfIndex(
  label: string,
  commit: string | undefined,
  index: WorkspaceIndex | undefined,
  readText: (rel: string) => string | null | undefined,
  reload?: (scope: ConfigScope) => WorkspaceIndex,
  skipped?: readonly SkippedFile[],
  paths?: Iterable<string>,
): ReviewState {
  const all = paths === undefined || index === undefined ? undefined : [...paths]; // (read twice: an iterator would be spent)
  const below = all === undefined || index === undefined ? undefined : projectFolders(all, index.project.secretsDir, new GlobFilter(index.project.include, index.project.exclude));
  return {
    label,
    commit,
    index,
    diagnostics: index === undefined ? [] : checkWorkspace(index),
    checkWith: (rules, options) => (index === undefined ? [] : checkWorkspace(index, { rules, ...options })),
    ...(reload === undefined ? {} : { loadWithin: (scope: ConfigScope) => (index === undefined ? undefined : reload(scope)) }),
    readText,
    ...(skipped === undefined || index === undefined ? {} : { nestedProjects: skipped.filter((s) => s.project === true).map((s) => s.path) }),
    ...(all === undefined || index === undefined || below === undefined ? {} : { projectsBelow: below, everyConfigFile: everyConfigFileOf(all, index.project, below) }),
  };
}

/**
 * A state over files held in memory: path relative to `root` → text (null: not valid UTF-8).
 * `root` is the absolute project root the workspace is loaded at (nothing is read from it).
 * An empty state when there is no stellar.yaml.
 */
export function stateFromFiles(label: string, commit: string | undefined, root: string, files: ReadonlyMap<string, string | null>): ReviewState {
  if (!files.has(PROJECT_FILE)) return emptyState(label, commit);
  const readText = (rel: string): string | null | undefined => files.get(rel);
  const fs = treeFs(root, new Set(files.keys()), readText);
  const { index, skipped } = loadWorkspace(root, { fs, atRoot: true });
  return stateOfIndex(label, commit, index, readText, (scope) => loadWorkspace(root, { fs, atRoot: true, alsoInclude: [scope] }).index, skipped, files.keys());
}

/** How to read a commit's or the index's state. */
export interface ReadStateOptions {
  /** Further config scopes whose files are read too, for {@link ReviewState.loadWithin} (e.g. the base's). */
  alsoRead?: readonly ConfigScope[];
  /**
   * The project this one is nested in, read from the same tree (the same commit, or the index):
   * its git view (listings relative to its root) and this project's folder below it (`/`-separated).
   * With it a reference to a secret or object only the enclosing project has is worded as `check`
   * words it (core/other-projects.ts); without it only the projects below this one are seen.
   */
  enclosing?: { git: GitSource; dir: string };
}

/**
 * Reads the state of the project at commit-ish `ref` through `git`: lists the commit's files,
 * then reads (in one batch) stellar.yaml and only the files the loader will read. `root` is the
 * absolute project root. Throws what `git` throws (e.g. when `ref` is not a commit).
 */
export async function readCommitState(git: GitSource, root: string, ref: string, label: string, options: ReadStateOptions = {}): Promise<ReviewState> {
  const commit = await git.resolve(ref);
  const [files, links] = await Promise.all([git.filesAt(commit), git.linksAt?.(commit)]);
  const around = options.enclosing === undefined ? undefined : { ...options.enclosing, files: () => (options.enclosing as { git: GitSource }).git.filesAt(commit) };
  return readTreeState(git, root, files, label, commit, options, links, around);
}

/** The staged state (git's index: what `git commit` would commit), read like a commit. */
export async function readIndexState(git: GitSource & Required<Pick<GitSource, "filesInIndex">>, root: string, label: string, options: ReadStateOptions = {}): Promise<ReviewState> {
  const [files, links] = await Promise.all([git.filesInIndex(), git.linksAt?.(undefined)]);
  const enclosingIndex = options.enclosing?.git.filesInIndex;
  const around =
    options.enclosing === undefined || enclosingIndex === undefined ? undefined : { ...options.enclosing, files: () => enclosingIndex.call((options.enclosing as { git: GitSource }).git) };
  return readTreeState(git, root, files, label, undefined, options, links, around);
}

/** The tree around a nested project: the enclosing project's git, this project's folder in it, and its listing (read when needed). */
interface AroundTree {
  git: GitSource;
  dir: string;
  files: () => Promise<Map<string, string>>;
}

/**
 * The other projects around the project at `root` ({@link readOtherProjects}) in a git tree:
 * `listing` (path relative to `top` → blob id; `top` is `root` or the enclosing project's root)
 * served by {@link treeFs}, its blobs read in a few batches as the walk asks for them (the walk's
 * own bounds apply: {@link OTHER_PROJECTS_MAX_FILES} files, so at most that many blobs). Never throws
 * for a blob it cannot read (that file is left out, as the walk leaves out an unreadable file).
 */
async function readOtherProjectsInTree(git: GitSource, top: string, listing: ReadonlyMap<string, string>, project: ProjectConfig, known: ReadonlyMap<string, string | null>): Promise<OtherProject[]> {
  const texts = new Map(known);
  const paths = new Set(listing.keys());
  // each round reads what the walk asked for and could not have: stellar.yaml files, then their environment and config files
  for (let round = 0; ; round++) {
    const missing = new Set<string>();
    const readText = (rel: string): string | null | undefined => {
      const id = listing.get(rel);
      if (id === undefined) return undefined;
      if (!texts.has(id)) missing.add(id);
      const text = texts.get(id);
      // (a tree has no file sizes: the walk's size bound is applied to the text)
      return typeof text === "string" && text.length > OTHER_PROJECTS_MAX_BYTES ? null : text;
    };
    const found = readOtherProjects(treeFs(top, paths, readText), project);
    if (missing.size === 0 || round >= 4) return found;
    const ids = [...missing].slice(0, OTHER_PROJECTS_MAX_FILES);
    let blobs: Map<string, string | null>;
    try {
      blobs = await git.readBlobs(ids);
    } catch {
      return found;
    }
    for (const id of ids) texts.set(id, blobs.get(id) ?? null);
  }
}

/** A state from a listing of blobs (path relative to the project root → blob id). */
async function readTreeState(
  git: GitSource,
  root: string,
  files: ReadonlyMap<string, string>,
  label: string,
  commit: string | undefined,
  options: ReadStateOptions,
  links: ReadonlyMap<string, string> = new Map(),
  around?: AroundTree,
): Promise<ReviewState> {
  const projectBlob = files.get(PROJECT_FILE);
  if (projectBlob === undefined) return emptyState(label, commit);
  const projectText = (await git.readBlobs([projectBlob])).get(projectBlob);
  // read only the files the loader will read: stellar.yaml decides which those are
  const parsed = typeof projectText === "string" ? parseProjectConfig(projectText, join(root, PROJECT_FILE)).config : undefined;
  const wanted = new Set<string>([projectBlob]);
  if (parsed !== undefined) {
    // (and every config file whatever config.include/exclude say: review reads credential destinations from all of them)
    const filters = [new GlobFilter(parsed.include, parsed.exclude), ...[...(options.alsoRead ?? []), EVERY_CONFIG_FILE].map((s) => new GlobFilter(s.include, s.exclude))];
    for (const [rel, id] of files) if (filters.some((filter) => classifyPath(parsed, rel, filter).role !== "ignored")) wanted.add(id);
    for (const rel of [...sopsConfigCandidates(parsed.secretsDir), ...gitattributesCandidates(normalizeSecretsDir(parsed.secretsDir))]) {
      const id = files.get(rel);
      if (id !== undefined) wanted.add(id);
    }
    // the .gitattributes of other folders (a config file's: export-subst), a bounded number
    let attributes = 0;
    for (const [rel, id] of files) {
      if (attributes >= 256) break;
      if (!rel.endsWith("/.gitattributes") || /(^|\/)node_modules\//.test(rel)) continue;
      wanted.add(id);
      attributes++;
    }
  }
  // files config.exclude keeps out (bounded, as excluded.ts reads them): an unknown-reference or an
  // unused-secret message names the one that defines or references the name, as check does
  if (parsed !== undefined) {
    const excluded = new GlobFilter(parsed.include, parsed.exclude.filter((g) => !DEFAULT_EXCLUDE.includes(g)));
    // (and, with include globs of its own, the YAML files none of them matches: a `.yml` beside `*.yaml` globs)
    const ownInclude = hasOwnInclude(parsed.include);
    let n = 0;
    for (const [rel, id] of files) {
      if (n >= EXCLUDED_SCAN_MAX_FILES) break;
      if (wanted.has(id) || (excluded.excludedBy(rel) === undefined && !(ownInclude && notIncludedYaml(excluded, rel) && !/(^|\/)node_modules\//.test(rel)))) continue;
      wanted.add(id);
      n++;
    }
  }
  // a nested project's stellar.yaml (small): a review tells one that is new in the head from one the base had
  for (const [rel, id] of files) if (rel.endsWith(`/${PROJECT_FILE}`)) wanted.add(id);
  // plaintext environment files (.env.production, production.env, secrets.production.json) by name,
  // wherever they are in the tree (a tree's file is tracked by definition; the walk would see only
  // those in the folders it enters): their names and lines, for the staged check's plaintext-credential
  const plaintextEnv = parsed === undefined ? [] : plaintextEnvCandidates(files.keys(), normalizeSecretsDir(parsed.secretsDir), (dir) => files.has(`${dir}/${PROJECT_FILE}`));
  for (const rel of plaintextEnv) wanted.add(files.get(rel)!);
  // symbolic links: only those in the inbox are seen (reported there, never followed); a link's blob is where it points
  const inboxLinks = parsed === undefined ? [] : [...links].filter(([rel]) => classifyPath(parsed, rel).role === "proposal");
  for (const [, id] of inboxLinks) wanted.add(id);
  const blobs = await git.readBlobs([...wanted]);
  const readText = (rel: string): string | null | undefined => {
    const id = files.get(rel);
    return id === undefined ? undefined : blobs.get(id);
  };
  const linkTargets = new Map(inboxLinks.map(([rel, id]): [string, string] => {
    const target = blobs.get(id);
    return [rel, typeof target === "string" ? target : "a path that is not valid UTF-8"];
  }));
  const fs = treeFs(root, new Set(files.keys()), readText, linkTargets);
  const { index, skipped } = loadWorkspace(root, { fs, atRoot: true });
  for (const rel of plaintextEnv) {
    const text = readText(rel);
    if (index.plaintextEnvFiles.has(rel) || typeof text !== "string") continue;
    const assignments = plaintextEnvAssignments(text.length > PLAINTEXT_ENV_MAX_BYTES ? text.slice(0, PLAINTEXT_ENV_MAX_BYTES) : text);
    if (assignments.length > 0) index.setPlaintextEnvFile(rel, { path: rel, assignments });
  }
  // the other projects of the repository (an enclosing one, nested ones), read from this same tree
  // as check reads them from the disk, for the messages that name them: the loader's reader sees
  // only the blobs read above (no environment file of a nested project, nothing above the root)
  let others: readonly OtherProject[] | undefined;
  if (index.projectUsable && (around !== undefined || skipped.some((s) => s.project === true))) {
    let top = root;
    let listing: ReadonlyMap<string, string> = files;
    if (around !== undefined) {
      try {
        listing = await around.files();
        top = join(root, ...around.dir.split("/").map(() => ".."));
      } catch {
        // (the enclosing project's listing cannot be read: only the projects below are seen)
      }
    }
    others = await readOtherProjectsInTree(git, top, listing, index.project, blobs);
    const fixed = others;
    index.setOtherProjectsReader(() => fixed);
  }
  const reload = (scope: ConfigScope): WorkspaceIndex => {
    const again = loadWorkspace(root, { fs, atRoot: true, alsoInclude: [scope] }).index;
    if (others !== undefined) {
      const fixed = others;
      again.setOtherProjectsReader(() => fixed);
    }
    return again;
  };
  return stateOfIndex(label, commit, index, readText, reload, skipped, files.keys());
}

/**
 * A read-only {@link WorkspaceFs} over a set of files (paths relative to `root`, `/`-separated)
 * whose text `readText` gives (undefined: absent, null: not valid UTF-8, reported by the loader
 * like an unreadable file). Folders are those the paths imply. `links` (path → where it points)
 * are symbolic links that are listed but never followed (their stat and realpath fail).
 */
export function treeFs(
  root: string,
  files: ReadonlySet<string>,
  readText: (rel: string) => string | null | undefined,
  links: ReadonlyMap<string, string> = new Map(),
): WorkspaceFs {
  const dirs = new Map<string, Map<string, boolean>>(); // folder → child name → is a folder
  const addChild = (dir: string, name: string, isDir: boolean): void => {
    let children = dirs.get(dir);
    if (children === undefined) dirs.set(dir, (children = new Map()));
    if (!children.has(name)) children.set(name, isDir);
  };
  dirs.set("", new Map());
  for (const rel of [...files, ...links.keys()]) {
    const parts = rel.split("/");
    for (let i = 0; i < parts.length; i++) {
      addChild(parts.slice(0, i).join("/"), parts[i] as string, i < parts.length - 1);
    }
  }
  const relOf = (abs: string): string => {
    const r = relative(root, abs).split(sep).join("/");
    return r === "." ? "" : r;
  };
  const notFound = (abs: string): Error => Object.assign(new Error(`ENOENT: ${abs} is not in the commit`), { code: "ENOENT" });
  const entry = (name: string, isDir: boolean, isLink: boolean): Dirent =>
    ({ name, isDirectory: () => isDir && !isLink, isFile: () => !isDir && !isLink, isSymbolicLink: () => isLink }) as unknown as Dirent;
  return {
    readFile(abs) {
      const text = readText(relOf(abs));
      if (text === undefined) throw notFound(abs);
      if (text === null) throw Object.assign(new Error("not valid UTF-8"), { code: "not valid UTF-8" });
      return text;
    },
    readdir(abs) {
      const children = dirs.get(relOf(abs));
      if (children === undefined) throw notFound(abs);
      const dir = relOf(abs);
      return [...children].map(([name, isDir]) => entry(name, isDir, links.has(dir === "" ? name : `${dir}/${name}`)));
    },
    stat(abs) {
      const rel = relOf(abs);
      const isDir = dirs.has(rel);
      if (!isDir && !files.has(rel)) throw notFound(abs);
      return { isDirectory: () => isDir, isFile: () => !isDir } as unknown as Stats;
    },
    realpath(abs) {
      const rel = relOf(abs);
      if (!dirs.has(rel) && !files.has(rel)) throw notFound(abs);
      return abs;
    },
    readlink(abs) {
      const target = links.get(relOf(abs));
      if (target === undefined) throw notFound(abs);
      return target;
    },
  };
}
