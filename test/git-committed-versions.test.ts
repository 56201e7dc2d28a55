/**
 * readCommittedVersions (what `check` and the language server compare environment files with,
 * for stale-mac) reads loose objects straight from the git directory, else the folders' trees and
 * the blobs with one `git cat-file --batch` process;
 * its answers must stay those of the ls-tree + cat-file reading it replaced (GitRepo.filesAt and
 * catFileBatch, still used by review): regular files only (no symbolic link), strict UTF-8, a
 * project in a subfolder, every line of a pseudo-ref, a pseudo-ref that names no commit, linked
 * work trees, loose objects read without git and packed ones through git. A real temporary git
 * repository.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CatFileSession, catFileBatch, findGitDir, GitRepo, readCommittedVersions, startCommittedVersions } from "../packages/git/src/index.js";

const env = { PATH: process.env.PATH, HOME: tmpdir(), GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", GIT_AUTHOR_NAME: "A", GIT_AUTHOR_EMAIL: "a@example.test", GIT_COMMITTER_NAME: "A", GIT_COMMITTER_EMAIL: "a@example.test" };
const git = (cwd: string, args: string[], input?: string): string => execFileSync("git", args, { cwd, env, input, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] }).trim();

/** The committed versions as the ls-tree + cat-file reading gave them (HEAD, then each pseudo-ref line). */
async function previousReading(root: string, paths: string[], pseudoRefs: string[], e: NodeJS.ProcessEnv = env): Promise<Map<string, string[]>> {
  const repo = await GitRepo.open(root, e);
  const out = new Map<string, string[]>();
  const add = (versions: Map<string, string | null>): void => {
    for (const [path, text] of versions) if (text !== null) out.set(path, [...(out.get(path) ?? []), text]);
  };
  add(await repo.showManyAtCommit(await repo.resolve("HEAD"), paths));
  for (const ref of pseudoRefs) add(await repo.showMany(ref, paths));
  return out;
}

describe("readCommittedVersions", () => {
  let dir: string;
  let root: string;
  const paths = ["secrets/development.enc.yaml", "secrets/run.enc.yaml", "secrets/link.enc.yaml", "secrets/latin1.enc.yaml", "secrets/absent.enc.yaml", "top.enc.yaml", "secrets/deeper/staging.enc.yaml", "nowhere/x.enc.yaml"];
  let second: string;
  let blob: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "git-committed-"));
    git(dir, ["init", "-q", "-b", "main"]);
    root = join(dir, "project"); // the project in a subfolder of the work tree
    mkdirSync(join(root, "secrets", "deeper"), { recursive: true });
    writeFileSync(join(dir, "outside.enc.yaml"), "not the project's\n");
    writeFileSync(join(root, "secrets/development.enc.yaml"), "dev: one\n");
    writeFileSync(join(root, "secrets/run.enc.yaml"), "run: executable\n");
    chmodSync(join(root, "secrets/run.enc.yaml"), 0o755);
    symlinkSync("development.enc.yaml", join(root, "secrets/link.enc.yaml"));
    writeFileSync(join(root, "secrets/latin1.enc.yaml"), Buffer.from([0x61, 0x3a, 0x20, 0xe9, 0x0a]));
    writeFileSync(join(root, "top.enc.yaml"), "top: at the root\n");
    writeFileSync(join(root, "secrets/deeper/staging.enc.yaml"), "staging: nested\n");
    git(dir, ["add", "-A"]);
    git(dir, ["commit", "-qm", "one"]);
    writeFileSync(join(root, "secrets/development.enc.yaml"), "dev: two\n");
    git(dir, ["commit", "-qam", "two"]);
    second = git(dir, ["rev-parse", "HEAD"]);
    git(dir, ["reset", "-q", "--hard", "HEAD~1"]);
    blob = git(dir, ["hash-object", "-w", "--stdin"], "a blob, not a commit\n");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("gives HEAD's regular, UTF-8 files of the project folder, as the ls-tree reading did", async () => {
    const got = await readCommittedVersions(root, env, paths);
    expect(Object.fromEntries(got)).toEqual({
      "secrets/development.enc.yaml": ["dev: one\n"],
      "secrets/run.enc.yaml": ["run: executable\n"],
      "top.enc.yaml": ["top: at the root\n"],
      "secrets/deeper/staging.enc.yaml": ["staging: nested\n"],
    });
    expect(got).toEqual(await previousReading(root, paths, []));
  });

  it("adds each line of MERGE_HEAD (an octopus merge names several) and skips a line that names no commit", async () => {
    const mergeHead = join(dir, ".git", "MERGE_HEAD");
    writeFileSync(mergeHead, `${second}\n${blob}\n${second}\n`);
    try {
      const got = await readCommittedVersions(root, env, paths);
      expect(got.get("secrets/development.enc.yaml")).toEqual(["dev: one\n", "dev: two\n", "dev: two\n"]);
      expect(got).toEqual(await previousReading(root, paths, [second, blob, second]));
    } finally {
      rmSync(mergeHead);
    }
  });

  it("reads a linked work tree's own MERGE_HEAD, from its git directory", async () => {
    const wt = join(dir, "..", `${dir.split("/").pop()}-wt`);
    git(dir, ["worktree", "add", "-q", "--detach", wt]);
    try {
      const wtRoot = join(wt, "project");
      const wtGitDir = findGitDir(wtRoot, env)!;
      expect(wtGitDir).toBe(join(dir, ".git", "worktrees", wt.split("/").pop()!));
      writeFileSync(join(wtGitDir, "MERGE_HEAD"), `${second}\n`);
      const got = await readCommittedVersions(wtRoot, env, paths);
      expect(got.get("secrets/development.enc.yaml")).toEqual(["dev: one\n", "dev: two\n"]);
      expect(got).toEqual(await previousReading(wtRoot, paths, [second]));
      // the main work tree has no merge in progress
      expect((await readCommittedVersions(root, env, paths)).get("secrets/development.enc.yaml")).toEqual(["dev: one\n"]);
    } finally {
      git(dir, ["worktree", "remove", "--force", wt]);
    }
  });

  it("leaves finding the repository to git when GIT_DIR is set (same answers)", async () => {
    const withGitDir = { ...env, GIT_DIR: join(dir, ".git"), GIT_WORK_TREE: dir };
    expect(findGitDir(root, withGitDir)).toBeUndefined();
    writeFileSync(join(dir, ".git", "MERGE_HEAD"), `${second}\n`);
    try {
      const got = await readCommittedVersions(root, withGitDir, paths);
      expect(got.get("secrets/development.enc.yaml")).toEqual(["dev: one\n", "dev: two\n"]);
      expect(got).toEqual(await previousReading(root, paths, [second], withGitDir));
    } finally {
      rmSync(join(dir, ".git", "MERGE_HEAD"));
    }
  });

  it("reads loose objects without running git, and asks git once objects are packed (same answers)", async () => {
    const noGit = { ...env, PATH: "/nonexistent" };
    const expected = await previousReading(root, paths, []);
    expect(await readCommittedVersions(root, noGit, paths)).toEqual(expected); // loose: git never starts
    const copy = mkdtempSync(join(tmpdir(), "git-committed-packed-"));
    try {
      execFileSync("cp", ["-a", `${dir}/.`, copy]);
      git(copy, ["gc", "-q", "--prune=now"]); // every object and ref packed
      const packedRoot = join(copy, "project");
      expect(await readCommittedVersions(packedRoot, env, paths)).toEqual(expected);
      expect((await readCommittedVersions(packedRoot, noGit, paths)).size).toBe(0); // it needed git
      // a commit after the gc: HEAD's commit is loose, the unchanged folders are still packed
      writeFileSync(join(packedRoot, "top.enc.yaml"), "top: after gc\n");
      git(copy, ["commit", "-qam", "after gc"]);
      const after = await readCommittedVersions(packedRoot, env, paths);
      expect(after.get("top.enc.yaml")).toEqual(["top: after gc\n"]);
      expect(after).toEqual(await previousReading(packedRoot, paths, []));
      // and a detached HEAD, a packed branch ref
      git(copy, ["checkout", "-q", "--detach", "HEAD~1"]);
      expect(await readCommittedVersions(packedRoot, env, paths)).toEqual(expected);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it("reads loose objects past the JavaScript inflate's budget through node:zlib, and a corrupt loose object through git", async () => {
    const noGit = { ...env, PATH: "/nonexistent" };
    const copy = mkdtempSync(join(tmpdir(), "git-committed-large-"));
    try {
      execFileSync("cp", ["-a", `${dir}/.`, copy]);
      const copyRoot = join(copy, "project");
      // 24 KB of base64 compresses to about 18 KB: more than the JavaScript inflate's budget (8 KB)
      let x = 2463534242;
      const noise = Buffer.from(Array.from({ length: 18_000 }, () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), x & 255)));
      const large = `big: ${noise.toString("base64")}\n`;
      writeFileSync(join(copyRoot, "secrets/development.enc.yaml"), large);
      git(copy, ["commit", "-qam", "large"]);
      const expected = await previousReading(copyRoot, paths, []);
      expect(expected.get("secrets/development.enc.yaml")).toEqual([large]);
      expect(await readCommittedVersions(copyRoot, noGit, paths)).toEqual(expected); // loose: no git
      // a loose object whose Adler-32 trailer is wrong, also in a pack (git reads the packed copy first)
      git(copy, ["repack", "-q", "-a"]);
      const id = git(copy, ["rev-parse", "HEAD:project/top.enc.yaml"]);
      const file = join(copy, ".git", "objects", id.slice(0, 2), id.slice(2));
      const raw = readFileSync(file);
      raw[raw.length - 1]! ^= 1;
      chmodSync(file, 0o644);
      writeFileSync(file, raw);
      expect((await readCommittedVersions(copyRoot, noGit, paths)).size).toBe(0); // it needed git: the corrupt object was not taken
      expect(await readCommittedVersions(copyRoot, env, paths)).toEqual(expected);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it("does not take a loose object whose header git refuses (a size with a leading zero), nor one whose header gives another size", async () => {
    const noGit = { ...env, PATH: "/nonexistent" };
    for (const header of ["blob 010\0", "blob 9\0"]) {
      const copy = mkdtempSync(join(tmpdir(), "git-committed-header-"));
      try {
        execFileSync("cp", ["-a", `${dir}/.`, copy]);
        const copyRoot = join(copy, "project");
        const id = git(copy, ["rev-parse", "HEAD:project/top.enc.yaml"]);
        const file = join(copy, ".git", "objects", id.slice(0, 2), id.slice(2));
        chmodSync(file, 0o644);
        writeFileSync(file, deflateSync(Buffer.from(`${header}top: 1234\n`, "latin1")));
        if (header === "blob 010\0") expect(() => git(copy, ["cat-file", "-p", id])).toThrow(); // git: unable to parse the header
        const got = await readCommittedVersions(copyRoot, noGit, paths);
        expect(got.get("top.enc.yaml")).toBeUndefined(); // not taken: only git could answer, and git has no git here
      } finally {
        rmSync(copy, { recursive: true, force: true });
      }
    }
  });

  it("answers an object over the round's limit as too large, skipping its bytes, and the next answers still arrive (CatFileSession)", async () => {
    const big = git(dir, ["hash-object", "-w", "--stdin"], "x".repeat(300_000)); // more than one pipe chunk
    const small = git(dir, ["rev-parse", "HEAD:project/top.enc.yaml"]);
    const session = new CatFileSession(root, env);
    try {
      const [a, b, c] = await session.request([big, small, "0".repeat(40)], 1000);
      expect(a).toMatchObject({ id: big, type: "blob", size: 300_000, tooLarge: true });
      expect(a!.content.length).toBe(0);
      expect(b?.content.toString()).toBe("top: at the root\n");
      expect(c).toBeUndefined();
      // the next round, with the default limit, reads it whole
      const [again] = await session.request([big]);
      expect(again?.content.length).toBe(300_000);
      expect(again?.tooLarge).toBeUndefined();
    } finally {
      session.close();
    }
    // catFileBatch (review's reading) answers null for a blob over a secrets file's limit, as strictText does
    const huge = git(dir, ["hash-object", "-w", "--stdin"], "y".repeat(8 * 1024 * 1024 + 1));
    const texts = await catFileBatch(root, [huge, small], env);
    expect(texts.get(huge)).toBeNull();
    expect(texts.get(small)).toBe("top: at the root\n");
  });

  it("refuses a tree with two entries of one name (git fsck: duplicateEntries) rather than pick one: loose, through git, and ls-tree", async () => {
    const noGit = { ...env, PATH: "/nonexistent" };
    const copy = mkdtempSync(join(tmpdir(), "git-committed-dups-"));
    try {
      execFileSync("cp", ["-a", `${dir}/.`, copy]);
      const copyRoot = join(copy, "project");
      const one = git(copy, ["hash-object", "-w", "--stdin"], "dev: first\n");
      const two = git(copy, ["hash-object", "-w", "--stdin"], "dev: second\n");
      // the project's secrets folder, crafted with development.enc.yaml twice (git mktree --missing takes it)
      const secrets = git(copy, ["mktree", "--missing"], `100644 blob ${one}\tdevelopment.enc.yaml\n100644 blob ${two}\tdevelopment.enc.yaml\n`);
      const project = git(copy, ["mktree", "--missing"], `040000 tree ${secrets}\tsecrets\n100644 blob ${git(copy, ["rev-parse", "HEAD:project/top.enc.yaml"])}\ttop.enc.yaml\n`);
      const top = git(copy, ["mktree", "--missing"], `040000 tree ${project}\tproject\n`);
      const commit = git(copy, ["commit-tree", top, "-p", "HEAD", "-m", "crafted"]);
      git(copy, ["update-ref", "refs/heads/main", commit]);
      expect(() => git(copy, ["fsck", "--no-dangling"])).toThrow(/duplicateEntries/);
      for (const e of [noGit, env]) {
        const got = await readCommittedVersions(copyRoot, e, ["secrets/development.enc.yaml", "top.enc.yaml"]);
        expect(got.get("secrets/development.enc.yaml")).toBeUndefined(); // neither "first" nor "second"
      }
      const repo = await GitRepo.open(copyRoot, env);
      await expect(repo.filesAt(commit)).rejects.toMatchObject({ code: "CORRUPT_OBJECT", message: expect.stringContaining('"project/secrets/development.enc.yaml"') });
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it("is empty outside a git repository and before the first commit; a reader started early ends git when given no path", async () => {
    const plain = mkdtempSync(join(tmpdir(), "git-committed-plain-"));
    try {
      expect((await readCommittedVersions(plain, env, paths)).size).toBe(0);
      git(plain, ["init", "-q"]);
      writeFileSync(join(plain, "top.enc.yaml"), "x: 1\n");
      expect((await readCommittedVersions(plain, env, ["top.enc.yaml"])).size).toBe(0);
      expect((await startCommittedVersions(root, env).read([])).size).toBe(0);
    } finally {
      rmSync(plain, { recursive: true, force: true });
    }
  });
});
