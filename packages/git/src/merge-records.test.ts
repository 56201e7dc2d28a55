import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { textHash } from "@stellar-secrets/core";
import { amPatchInProgress, findGitLocation, readUnresolvedMerge, readUnresolvedMerges, recordPath, removeUnresolvedMerge, sha256Text, writeUnresolvedMerge } from "./merge-records.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function temp(): string {
  const d = mkdtempSync(join(tmpdir(), "merge-records-"));
  dirs.push(d);
  return d;
}

describe("merge records", () => {
  it("hash texts exactly as core's textHash (the driver does not load core)", () => {
    for (const t of ["", "a: ENC[...]\n", "ünïcödé\r\n"]) expect(sha256Text(t)).toBe(textHash(t));
    // a file git checked out with CRLF (core.autocrlf) is the file the driver wrote with LF
    expect(sha256Text("a: 1\r\nb: 2\r\n")).toBe(sha256Text("a: 1\nb: 2\n"));
    expect(sha256Text("a: 1\nb: 2\n")).not.toBe(sha256Text("a: 1\nb: 2\n\n"));
  });

  it("find a linked worktree's own git directory from its .git file, and a repository's .git folder from a subfolder", () => {
    const d = temp();
    mkdirSync(join(d, "main", ".git", "worktrees", "wt"), { recursive: true });
    mkdirSync(join(d, "wt", "sub"), { recursive: true });
    writeFileSync(join(d, "wt", ".git"), `gitdir: ${join(d, "main", ".git", "worktrees", "wt")}\n`);
    expect(findGitLocation(join(d, "wt", "sub"), {})).toEqual({ top: join(d, "wt"), gitDir: join(d, "main", ".git", "worktrees", "wt") });
    mkdirSync(join(d, "main", "project"), { recursive: true });
    expect(findGitLocation(join(d, "main", "project"), {})).toEqual({ top: join(d, "main"), gitDir: join(d, "main", ".git") });
    // GIT_DIR wins when it names a folder (relative to the top, where git runs hooks and drivers)
    mkdirSync(join(d, "main", "elsewhere"));
    expect(findGitLocation(join(d, "main", "project"), { GIT_DIR: "elsewhere" })?.gitDir).toBe(join(d, "main", "elsewhere"));
    expect(findGitLocation(join(d, "wt"), { GIT_DIR: ".git" })?.gitDir).toBe(join(d, "main", ".git", "worktrees", "wt"));
  });

  it("find the repository of a project reached through a symbolic link, as git does from the real path (a record is not skipped)", () => {
    const d = realpathSync(temp());
    mkdirSync(join(d, "repo", ".git"), { recursive: true });
    mkdirSync(join(d, "repo", "infra", "secrets"), { recursive: true });
    mkdirSync(join(d, "elsewhere"));
    symlinkSync(join(d, "repo", "infra", "secrets"), join(d, "elsewhere", "secrets"));
    expect(findGitLocation(join(d, "elsewhere", "secrets"), {})).toEqual({ top: join(d, "repo"), gitDir: join(d, "repo", ".git") });
  });

  it("write, read (keyed by path under the project root), and remove a record", async () => {
    const d = temp();
    mkdirSync(join(d, ".git"));
    mkdirSync(join(d, "project", "secrets"), { recursive: true });
    const record = { version: 1 as const, path: "project/secrets/production.enc.yaml", environment: "production", names: ["a"], file: sha256Text("x"), theirs: sha256Text("y"), recordedAt: "" };
    await writeUnresolvedMerge(join(d, ".git"), record);
    expect(recordPath(join(d, ".git"), record.path).startsWith(join(d, ".git", "stellar-secrets", "unresolved"))).toBe(true);
    expect(await readUnresolvedMerge(join(d, ".git"), record.path)).toEqual(record);
    expect([...(await readUnresolvedMerges(join(d, "project"), {})).keys()]).toEqual(["secrets/production.enc.yaml"]);
    // a whole-file record (the driver merged nothing) replaces it and reads back as written
    const whole = { ...record, names: [], whole: { reason: "needs-key" as const, code: "MERGE_NEEDS_KEY", members: ["alice"] } };
    await writeUnresolvedMerge(join(d, ".git"), whole);
    expect(await readUnresolvedMerge(join(d, ".git"), record.path)).toEqual(whole);
    removeUnresolvedMerge(join(d, ".git"), record.path);
    expect(await readUnresolvedMerge(join(d, ".git"), record.path)).toBeUndefined();
    expect((await readUnresolvedMerges(join(d, "project"), {})).size).toBe(0);
  });
});

describe("records of a git am -3 session", () => {
  it("count while rebase-apply/ is at the recorded patch; another patch, a rebase's rebase-apply (no `applying`) or none: not; amInProgress is never written", async () => {
    const d = temp();
    const gitDir = join(d, ".git");
    mkdirSync(join(gitDir, "rebase-apply"), { recursive: true });
    writeFileSync(join(d, ".git", "HEAD"), "ref: refs/heads/main\n");
    expect(amPatchInProgress(gitDir)).toBeUndefined();
    writeFileSync(join(gitDir, "rebase-apply", "applying"), "");
    writeFileSync(join(gitDir, "rebase-apply", "next"), "1\n");
    writeFileSync(join(gitDir, "rebase-apply", "0001"), "From: a\n\npatch one\n");
    writeFileSync(join(gitDir, "rebase-apply", "0002"), "From: a\n\npatch two\n");
    const first = amPatchInProgress(gitDir);
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    const path = "secrets/production.enc.yaml";
    const record = { version: 1 as const, path, environment: "production", names: ["a"], file: sha256Text("x"), theirs: sha256Text("y"), recordedAt: "", am: first, amInProgress: true };
    await writeUnresolvedMerge(gitDir, record);
    expect(readFileSync(recordPath(gitDir, path), "utf8")).not.toContain("amInProgress");
    expect((await readUnresolvedMerge(gitDir, path))?.amInProgress).toBe(true);
    expect((await readUnresolvedMerges(d, {})).get(path)?.amInProgress).toBe(true);
    // git am --skip (or --continue) moves to the next patch
    writeFileSync(join(gitDir, "rebase-apply", "next"), "2\n");
    expect(amPatchInProgress(gitDir)).not.toBe(first);
    expect((await readUnresolvedMerge(gitDir, path))?.amInProgress).toBeUndefined();
    // the same patch number with another patch (a new git am session)
    writeFileSync(join(gitDir, "rebase-apply", "next"), "1\n");
    writeFileSync(join(gitDir, "rebase-apply", "0001"), "From: a\n\nanother patch\n");
    expect((await readUnresolvedMerge(gitDir, path))?.amInProgress).toBeUndefined();
    // a rebase keeps rebase-apply/ without `applying`
    writeFileSync(join(gitDir, "rebase-apply", "0001"), "From: a\n\npatch one\n");
    expect((await readUnresolvedMerge(gitDir, path))?.amInProgress).toBe(true);
    rmSync(join(gitDir, "rebase-apply", "applying"));
    expect(amPatchInProgress(gitDir)).toBeUndefined();
    expect((await readUnresolvedMerges(d, {})).get(path)?.amInProgress).toBeUndefined();
  });
});
