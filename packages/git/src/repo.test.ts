import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GitError } from "./errors.js";
import { startCommittedVersions } from "./history.js";
import { discoverWorkTree, findWorkTree, readBranches, refsInProgress, regularFilesOfTree, shallowEdges, skipWorktreeEntries, squashHeadIn, treeEntries } from "./repo.js";

/** A raw tree entry: `<octal mode> <name>\0<id bytes>`. */
const entry = (mode: string, name: string, idHex: string): Buffer => Buffer.concat([Buffer.from(`${mode} ${name}\0`, "utf8"), Buffer.from(idHex, "hex")]);

describe("skipWorktreeEntries", () => {
  it("takes the paths git ls-files -t tags S (skipped by a sparse checkout), not H (in the work tree) nor others", () => {
    const out = "S secrets/production.enc.yaml\0H agents/a.yaml\0S secrets/dir with space/x.enc.yaml\0C changed.yaml\0";
    expect([...skipWorktreeEntries(out)]).toEqual(["secrets/production.enc.yaml", "secrets/dir with space/x.enc.yaml"]);
    expect(skipWorktreeEntries("").size).toBe(0);
  });
});

describe("regularFilesOfTree", () => {
  it("keeps regular files (any 100xxx mode, as git canonicalises it) and leaves out links, folders and submodules", () => {
    const a = "a".repeat(40);
    const b = "b".repeat(40);
    const c = "c".repeat(40);
    const tree = Buffer.concat([
      entry("100644", "development.enc.yaml", a),
      entry("100755", "run.enc.yaml", b),
      entry("100664", "old-git.enc.yaml", c),
      entry("120000", "link.enc.yaml", a),
      entry("40000", "deeper", b),
      entry("160000", "module", c),
      entry("100644", "é.enc.yaml", b),
    ]);
    expect(Object.fromEntries(regularFilesOfTree(tree, 20))).toEqual({ "development.enc.yaml": a, "run.enc.yaml": b, "old-git.enc.yaml": c, "é.enc.yaml": b });
  });

  it("reads SHA-256 ids and stops at a truncated entry", () => {
    const id = "d".repeat(64);
    const tree = Buffer.concat([entry("100644", "x.enc.yaml", id), Buffer.from("100644 cut")]);
    expect(Object.fromEntries(regularFilesOfTree(tree, 32))).toEqual({ "x.enc.yaml": id });
  });
});

describe("treeEntries", () => {
  const a = "a".repeat(40);
  const b = "b".repeat(40);
  const codeOf = (f: () => unknown): string => {
    try {
      f();
      return "no error";
    } catch (error) {
      return error instanceof GitError ? `${error.code}: ${error.message}` : String(error);
    }
  };

  it("refuses a tree with two entries of one name (git fsck: duplicateEntries), naming the tree and the name", () => {
    const tree = Buffer.concat([entry("100644", "development.enc.yaml", a), entry("100644", "x", b), entry("100644", "development.enc.yaml", b)]);
    expect(codeOf(() => treeEntries(tree, 20, "c".repeat(40)))).toBe(`CORRUPT_OBJECT: the git tree ${"c".repeat(40)} holds two entries named "development.enc.yaml"`);
    expect(codeOf(() => regularFilesOfTree(tree, 20, "c".repeat(40)))).toMatch(/^CORRUPT_OBJECT: .*"development\.enc\.yaml"$/);
  });

  it("refuses one name given to a file and a folder (git writes neither), and keeps distinct names whose bytes are not UTF-8", () => {
    expect(codeOf(() => treeEntries(Buffer.concat([entry("100644", "secrets", a), entry("100644", "secrets-old", a), entry("40000", "secrets", b)]), 20))).toMatch(/^CORRUPT_OBJECT: .*"secrets"$/);
    // 0xff and 0xfe both decode to U+FFFD: still two names
    const raw = (nameByte: number, id: string): Buffer => Buffer.concat([Buffer.from("100644 "), Buffer.from([0x78, nameByte, 0]), Buffer.from(id, "hex")]);
    expect(treeEntries(Buffer.concat([raw(0xfe, a), raw(0xff, b)]), 20)).toHaveLength(2);
    expect(codeOf(() => treeEntries(Buffer.concat([raw(0xff, a), raw(0xff, b)]), 20))).toMatch(/^CORRUPT_OBJECT/);
  });
});

describe("shallowEdges", () => {
  it("lists the commits of the shallow file (a linked worktree's through commondir); none in a full clone", () => {
    const dir = mkdtempSync(join(tmpdir(), "stellar-shallow-"));
    try {
      const common = join(dir, ".git");
      const worktree = join(common, "worktrees", "wt");
      mkdirSync(worktree, { recursive: true });
      expect(shallowEdges(common)).toEqual([]);
      const a = "a".repeat(40);
      const b = "b".repeat(64);
      writeFileSync(join(common, "shallow"), `${a}\n${b}\nnot an id\n`);
      writeFileSync(join(worktree, "commondir"), "../..\n");
      expect(shallowEdges(common)).toEqual([a, b]);
      expect(shallowEdges(worktree)).toEqual([a, b]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("discoverWorkTree", () => {
  /** A fresh folder; the tests that need "no repository above" skip when the temp folder itself sits in one. */
  const fresh = (): string => mkdtempSync(join(tmpdir(), "git-discover-"));
  const insideRepository = (dir: string): boolean => discoverWorkTree(join(dir, ".."), {}) !== "none";

  it('is "none" outside every repository, the work tree when a .git folder is found, and undefined (ask git) when git could answer otherwise', () => {
    const dir = fresh();
    try {
      const nested = join(dir, "a", "b");
      mkdirSync(nested, { recursive: true });
      if (!insideRepository(dir)) expect(discoverWorkTree(nested, {})).toBe("none");
      // a variable that moves discovery: only git can say
      expect(discoverWorkTree(nested, { GIT_DIR: join(dir, "elsewhere") })).toBeUndefined();
      expect(discoverWorkTree(nested, { GIT_CEILING_DIRECTORIES: dir })).toBeUndefined();
      // a folder on the way that looks like a bare repository
      mkdirSync(join(dir, "a", "objects"));
      mkdirSync(join(dir, "a", "refs"));
      writeFileSync(join(dir, "a", "HEAD"), "ref: refs/heads/main\n");
      expect(discoverWorkTree(nested, {})).toBeUndefined();
      // a work tree
      const git = join(dir, "a", "b", ".git");
      mkdirSync(join(git, "objects"), { recursive: true });
      mkdirSync(join(git, "refs"));
      writeFileSync(join(git, "HEAD"), "ref: refs/heads/main\n");
      expect(discoverWorkTree(nested, {})).toEqual({ top: nested, gitDir: git });
      expect(findWorkTree(nested, {})).toEqual({ top: nested, gitDir: git });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("walks up the real path, as git does from its physical working folder: a project reached through a symbolic link into a repository is in it", () => {
    const dir = fresh();
    try {
      // a repository whose project folder is reached through a link from outside it (check LINK, a workspace opened by the link)
      const top = join(dir, "repo");
      const git = join(top, ".git");
      mkdirSync(join(git, "objects"), { recursive: true });
      mkdirSync(join(git, "refs"));
      writeFileSync(join(git, "HEAD"), "ref: refs/heads/main\n");
      mkdirSync(join(top, "infra", "secrets"), { recursive: true });
      mkdirSync(join(dir, "elsewhere"));
      const link = join(dir, "elsewhere", "secrets");
      symlinkSync(join(top, "infra", "secrets"), link);
      const found = { top: realpathSync(top), gitDir: realpathSync(git) };
      expect(discoverWorkTree(link, {})).toEqual(found);
      expect(discoverWorkTree(join(link, "."), {})).toEqual(found);
      // a .git beside the link is not the repository git finds
      const decoy = join(dir, "elsewhere", ".git");
      mkdirSync(join(decoy, "objects"), { recursive: true });
      mkdirSync(join(decoy, "refs"));
      writeFileSync(join(decoy, "HEAD"), "ref: refs/heads/main\n");
      expect(discoverWorkTree(link, {})).toEqual(found);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("lets startCommittedVersions find nothing without starting git outside every repository", async () => {
    const dir = fresh();
    try {
      if (insideRepository(dir)) return; // (the temp folder is inside a repository here: nothing to prove)
      // a `git` first on PATH that leaves a mark when it runs
      const bin = join(dir, "bin");
      mkdirSync(bin);
      const mark = join(dir, "git-ran");
      writeFileSync(join(bin, "git"), `#!/bin/sh\ntouch '${mark}'\nexit 128\n`, { mode: 0o755 });
      const project = join(dir, "project");
      mkdirSync(project);
      const reader = startCommittedVersions(project, { PATH: `${bin}:${process.env.PATH ?? ""}` });
      const read = await reader.readWithEarlier(["secrets/production.enc.yaml"]);
      expect(read.committed.size).toBe(0);
      expect(read.earlier.size).toBe(0);
      expect(existsSync(mark)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("squashHeadIn", () => {
  it("names the tip a `git merge --squash` in progress merges (the first commit of SQUASH_MSG), as the other side of the operation; nothing for a real merge or another message", () => {
    const dir = mkdtempSync(join(tmpdir(), "stellar-squash-"));
    try {
      const tip = "c".repeat(40);
      expect(squashHeadIn(dir)).toBeUndefined();
      writeFileSync(join(dir, "SQUASH_MSG"), `Squashed commit of the following:\n\ncommit ${tip}\nAuthor: a <a@x>\n\n    f\n\ncommit ${"d".repeat(40)}\n`);
      expect(squashHeadIn(dir)).toBe(tip);
      expect(refsInProgress(dir)).toEqual({ pseudoRefs: [tip], revertHead: undefined });
      writeFileSync(join(dir, "SQUASH_MSG"), `my own message\ncommit ${tip}\n`);
      expect(squashHeadIn(dir)).toBeUndefined();
      writeFileSync(join(dir, "SQUASH_MSG"), `Squashed commit of the following:\n\ncommit ${tip}\n`);
      writeFileSync(join(dir, "MERGE_HEAD"), `${"e".repeat(40)}\n`);
      expect(squashHeadIn(dir)).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("readBranches", () => {
  it("names the branch checked out and the default one (origin/HEAD's, else main, else master), with one git call; nothing when detached or outside git", async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), "stellar-branches-")));
    const env = { ...process.env, GIT_CEILING_DIRECTORIES: realpathSync(tmpdir()), GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: join(dir, "gitconfig"), GIT_AUTHOR_NAME: "a", GIT_AUTHOR_EMAIL: "a@x", GIT_COMMITTER_NAME: "a", GIT_COMMITTER_EMAIL: "a@x" };
    const repo = join(dir, "repo");
    const git = (...args: string[]): string => execFileSync("git", args, { cwd: repo, env, encoding: "utf8" });
    try {
      expect(await readBranches(dir, env)).toEqual({ current: undefined, default: undefined });
      mkdirSync(repo);
      git("init", "-q", "-b", "master");
      expect(await readBranches(repo, env)).toEqual({ current: undefined, default: undefined }); // no commit yet
      git("commit", "-q", "--allow-empty", "-m", "one");
      expect(await readBranches(repo, env)).toEqual({ current: "master", default: "master" });
      git("checkout", "-q", "-b", "main");
      git("checkout", "-q", "-b", "feature/x");
      expect(await readBranches(repo, env)).toEqual({ current: "feature/x", default: "main" });
      git("update-ref", "refs/remotes/origin/trunk", "HEAD");
      git("symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/trunk");
      expect(await readBranches(repo, env)).toEqual({ current: "feature/x", default: "trunk" });
      git("checkout", "-q", "--detach");
      expect(await readBranches(repo, env)).toEqual({ current: undefined, default: "trunk" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
