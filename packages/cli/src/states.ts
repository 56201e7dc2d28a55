/**
 * The states `review` and `pre-commit` read without keys: a commit or the index (through core's
 * readers over the {@link GitRepo} adapter: nothing is checked out or written to disk), the
 * working tree, or nothing (before the first commit).
 */
import { existsSync, readdirSync, readFileSync, readlinkSync, type Dirent } from "node:fs";
import { join, posix, resolve } from "node:path";
import { aboveRootNames, emptyState, linkOutsideRoot, loadWorkspace, nodeWorkspaceFs, PROJECT_FILE, type FolderEntry, readCommitState, readIndexState, stateOfIndex, type ReadStateOptions, type ReviewState } from "@stellar-secrets/core";
import type { GitRepo } from "./git.js";
import { readWorkingText } from "./git.js";

/** A revision: a commit-ish, the index (what is staged), the working tree, or nothing. */
export type Revision = { kind: "commit"; ref: string } | { kind: "index" } | { kind: "working-tree" } | { kind: "empty" };

/** Reads one state (`root`: the absolute project root; `options.alsoRead`: further config scopes to read, e.g. the base's). */
export async function readState(repo: GitRepo, root: string, revision: Revision, label: string, options: ReadStateOptions = {}): Promise<ReviewState> {
  if (revision.kind === "empty") return emptyState(label);
  if (revision.kind === "commit") return readCommitState(repo, root, revision.ref, label, options);
  if (revision.kind === "index") return readIndexState(repo, root, label, options);
  const loaded = existsSync(join(root, PROJECT_FILE)) ? loadWorkspace(root) : undefined;
  return stateOfIndex(label, undefined, loaded?.index, (rel) => readWorkingText(root, rel), (scope) => loadWorkspace(root, { alsoInclude: [scope] }).index, loaded?.skipped);
}

/**
 * The `.gitattributes` and `.sops.yaml` of each folder above the project root (`prefix`: the root
 * below the top of the work tree, non-empty), and a `stellar.yaml` there, at a commit, in the index,
 * in the working tree, or none (`undefined`: no state, `"empty"`): path relative to the top → text
 * (a file that is not valid UTF-8 left out). The names are those check reads on disk (core
 * {@link aboveRootNames}: a case variant such as `.GitAttributes` or a lone `.SOPS.yaml`, under its
 * own name; a `.sops.yaml` that is a symbolic link is read at its target, in the same state, when
 * that is inside the work tree, as sops follows it; git follows no link to a `.gitattributes`).
 * A `.sops.yaml` link (at a commit or in the index) whose target leaves the work tree is in no
 * state of git: with `options.outside` it is put there (path → its target, as check reports it,
 * core `AboveRootFiles.outside`), or with `options.allowOutsideLinks` read at that target on disk,
 * as check then reads it. Throws what git throws.
 */
export async function aboveRootFiles(repo: GitRepo, prefix: string, at: string | undefined, options: { outside?: Map<string, string>; allowOutsideLinks?: boolean } = {}): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (at === undefined || at === "empty") return out;
  const parts = prefix.split("/");
  // the folders from the top down to the root's parent ("" is the top)
  const folders = parts.map((_, i) => parts.slice(0, i).join("/"));
  const under = (dir: string, name: string): string => (dir === "" ? name : `${dir}/${name}`);
  if (at === "working-tree") {
    for (const dir of folders) {
      let entries: Dirent[];
      try {
        entries = readdirSync(join(repo.top, dir), { withFileTypes: true });
      } catch {
        continue;
      }
      const names = aboveRootNames(entries.map((e) => ({ name: e.name, type: e.isFile() ? "file" : e.isDirectory() ? "folder" : e.isSymbolicLink() ? "link" : "other" })));
      for (const name of [names.gitattributes, names.sopsConfig, names.project ? PROJECT_FILE : undefined]) {
        if (name === undefined) continue;
        // a .sops.yaml link out of the work tree: as at a commit (refused, or read where allowed)
        const leaves = name === names.sopsConfig && options.allowOutsideLinks !== true ? linkOutsideRoot(nodeWorkspaceFs, repo.top, join(repo.top, dir, name)) : undefined;
        if (leaves !== undefined) {
          options.outside?.set(under(dir, name), readlinkSync(join(repo.top, dir, name)));
          continue;
        }
        try {
          out.set(under(dir, name), readFileSync(join(repo.top, dir, name), "utf8"));
        } catch {
          // unreadable, a broken link: nothing there for git or sops either (a stellar.yaml still makes its folder a project)
          if (name === PROJECT_FILE) out.set(under(dir, name), "");
        }
      }
    }
    return out;
  }
  // the entries of those folders: ls-tree (a commit) or ls-files --stage (the index, each folder's
  // own files: `*` of a glob pathspec stops at a `/`), at the top: `MODE [TYPE] ID [STAGE]\tPATH`
  const ownFiles = (dir: string): string => `${dir.replace(/[\\*?[]/g, "\\$&")}${dir === "" ? "" : "/"}*`;
  const list = (paths: string[], globs: boolean): Promise<string> =>
    at === "index"
      ? repo.run([globs ? "--glob-pathspecs" : "--literal-pathspecs", "ls-files", "-s", "-z", "--", ...paths])
      : repo.run(["--literal-pathspecs", "ls-tree", "-z", at, "--", ...paths]);
  const entriesOf = (listing: string): Map<string, { mode: string; id: string }> => {
    const entries = new Map<string, { mode: string; id: string }>();
    for (const entry of listing.split("\0")) {
      const tab = entry.indexOf("\t");
      const fields = entry.slice(0, tab).split(" ");
      const mode = fields[0] ?? "";
      const id = at === "index" ? fields[1] : fields[2];
      if (tab < 0 || id === undefined) continue;
      // a conflicted path: "ours" (stage 2)
      if (at === "index" && fields[2] !== "0" && fields[2] !== "2") continue;
      entries.set(entry.slice(tab + 1), { mode, id });
    }
    return entries;
  };
  const listed = entriesOf(await list(at === "index" ? folders.map(ownFiles) : folders.map((dir) => (dir === "" ? "." : `${dir}/`)), at === "index"));
  const typeOf = (mode: string): FolderEntry["type"] => (mode === "100644" || mode === "100755" ? "file" : mode === "120000" ? "link" : mode === "040000" ? "folder" : "other");
  const ids = new Map<string, string>();
  const links = new Map<string, string>();
  for (const dir of folders) {
    const entries = [...listed].filter(([path]) => path.slice(0, Math.max(0, path.lastIndexOf("/"))) === dir);
    const names = aboveRootNames(entries.map(([path, e]) => ({ name: path.slice(path.lastIndexOf("/") + 1), type: typeOf(e.mode) })));
    for (const name of [names.gitattributes, names.sopsConfig, names.project ? PROJECT_FILE : undefined]) {
      const entry = name === undefined ? undefined : listed.get(under(dir, name));
      if (name === undefined || entry === undefined) continue;
      if (typeOf(entry.mode) === "file") ids.set(under(dir, name), entry.id);
      else if (typeOf(entry.mode) === "link") links.set(under(dir, name), entry.id);
    }
  }
  // a link (a .sops.yaml, or a stellar.yaml): its target in the same state, through a few links at most
  for (let [path, id] of links) {
    const from = path;
    for (let hops = 0; hops < 8; hops++) {
      const target = (await repo.readBlobs([id])).get(id);
      if (typeof target !== "string") break;
      const resolved = posix.normalize(posix.join(posix.dirname(path), target));
      // outside the work tree: not in git, so not in this state (a .sops.yaml: refused, or read on disk where allowed, as check does)
      if (posix.isAbsolute(target) || resolved === ".." || resolved.startsWith("../")) {
        if (posix.basename(from) === PROJECT_FILE) break;
        if (options.allowOutsideLinks === true) {
          try {
            out.set(from, readFileSync(resolve(repo.top, posix.dirname(path), target), "utf8"));
          } catch {
            // a broken link: nothing there for sops either
          }
        } else options.outside?.set(from, target);
        break;
      }
      const entry = entriesOf(await list([resolved], false)).get(resolved);
      if (entry === undefined) break;
      if (typeOf(entry.mode) === "file") {
        ids.set(from, entry.id);
        break;
      }
      if (typeOf(entry.mode) !== "link") break;
      [path, id] = [resolved, entry.id];
    }
  }
  const texts = await repo.readBlobs([...new Set(ids.values())]);
  for (const [rel, id] of ids) {
    const text = texts.get(id);
    if (typeof text === "string") out.set(rel, text);
  }
  // a stellar.yaml link that leads nowhere in this state still makes its folder a project, as on disk
  for (const rel of links.keys()) if (posix.basename(rel) === PROJECT_FILE && !out.has(rel)) out.set(rel, "");
  return out;
}
