/**
 * The two states `review` compares, read without keys: a commit (its tree read from git with
 * `git ls-tree` and one `git cat-file --batch`, served to core's `loadWorkspace` through an
 * in-memory {@link WorkspaceFs}: nothing is checked out or written to disk), the working tree,
 * or nothing (before the first commit).
 */
import { existsSync, readFileSync, realpathSync, type Dirent, type Stats } from "node:fs";
import { join, relative, sep } from "node:path";
import {
  checkWorkspace,
  classifyPath,
  GlobFilter,
  loadWorkspace,
  sopsConfigCandidates,
  parseProjectConfig,
  PROJECT_FILE,
  type Diagnostic,
  type ProjectConfig,
  type WorkspaceFs,
  type WorkspaceIndex,
} from "@stellar-secrets/core";
import { decodeUtf8 } from "@stellar-secrets/sops";
import { CliError } from "./errors.js";
import { GitRepo } from "./git.js";

export { GitRepo } from "./git.js";

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
  checkWith(rules: ProjectConfig["rules"]): Diagnostic[];
  /**
   * The text of a file (path relative to the project root): undefined when absent, null when
   * it is not valid UTF-8.
   */
  readText(rel: string): string | null | undefined;
}

/** A revision a review compares: a commit-ish, the working tree, or nothing. */
export type Revision = { kind: "commit"; ref: string } | { kind: "working-tree" } | { kind: "empty" };

/** Reads one side of a review. `root` is the project root (absolute). */
export async function readState(repo: GitRepo | undefined, root: string, revision: Revision, label: string): Promise<ReviewState> {
  if (revision.kind === "empty") {
    return { label, commit: undefined, index: undefined, diagnostics: [], checkWith: () => [], readText: () => undefined };
  }
  if (revision.kind === "working-tree") {
    const index = existsSync(join(root, PROJECT_FILE)) ? loadWorkspace(root).index : undefined;
    return {
      label,
      commit: undefined,
      index,
      diagnostics: index === undefined ? [] : checkWorkspace(index),
      checkWith: (rules) => checkWithRules(index, rules),
      readText: (rel) => readDiskText(join(root, rel)),
    };
  }
  if (repo === undefined) throw new CliError("GIT_ERROR", `cannot read ${revision.ref}: ${root} is not in a git repository`);
  const commit = await repo.resolve(revision.ref);
  const files = await repo.filesAt(commit);
  const projectBlob = files.get(PROJECT_FILE);
  if (projectBlob === undefined) return { label, commit, index: undefined, diagnostics: [], checkWith: () => [], readText: () => undefined };
  const projectText = (await repo.readBlobs([projectBlob])).get(projectBlob);
  // read only the files the loader will read: stellar.yaml decides which those are
  const parsed = typeof projectText === "string" ? parseProjectConfig(projectText, join(root, PROJECT_FILE)).config : undefined;
  const wanted = new Set<string>([projectBlob]);
  if (parsed !== undefined) {
    const filter = new GlobFilter(parsed.include, parsed.exclude);
    for (const [rel, id] of files) if (classifyPath(parsed, rel, filter).role !== "ignored") wanted.add(id);
    for (const rel of sopsConfigCandidates(parsed.secretsDir)) {
      const id = files.get(rel);
      if (id !== undefined) wanted.add(id);
    }
  }
  const blobs = await repo.readBlobs([...wanted]);
  const readText = (rel: string): string | null | undefined => {
    const id = files.get(rel);
    return id === undefined ? undefined : blobs.get(id);
  };
  const index = loadWorkspace(root, { fs: treeFs(root, files, readText) }).index;
  return { label, commit, index, diagnostics: checkWorkspace(index), checkWith: (rules) => checkWithRules(index, rules), readText };
}

/** The diagnostics of `index` with `rules` in place of its own stellar.yaml's. */
function checkWithRules(index: WorkspaceIndex | undefined, rules: ProjectConfig["rules"]): Diagnostic[] {
  return index === undefined ? [] : checkWorkspace(index, { rules });
}

function readDiskText(path: string): string | null | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    return undefined;
  }
  try {
    return decodeUtf8(bytes, { path });
  } catch {
    return null;
  }
}

/** A read-only {@link WorkspaceFs} over the files of a commit (paths relative to `root`). */
function treeFs(root: string, files: ReadonlyMap<string, string>, readText: (rel: string) => string | null | undefined): WorkspaceFs {
  const dirs = new Map<string, Map<string, boolean>>(); // folder → child name → is a folder
  const addChild = (dir: string, name: string, isDir: boolean): void => {
    let children = dirs.get(dir);
    if (children === undefined) dirs.set(dir, (children = new Map()));
    if (!children.has(name)) children.set(name, isDir);
  };
  dirs.set("", new Map());
  for (const rel of files.keys()) {
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
  const entry = (name: string, isDir: boolean): Dirent =>
    ({ name, isDirectory: () => isDir, isFile: () => !isDir, isSymbolicLink: () => false }) as unknown as Dirent;
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
      return [...children].map(([name, isDir]) => entry(name, isDir));
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
  };
}
