/**
 * Git's state the server follows besides HEAD and the branches: a `git am -3` session's progress
 * (`rebase-apply/next`, the folder appearing and going), for the merge driver's records of `git am`
 * (they count only while the session is at their patch), and the git directories of a linked work
 * tree (`git worktree add`: HEAD and the merge state in `<common>/worktrees/NAME`, the branches in
 * the common directory). Before, after `git am --skip`, `--continue` or `--abort` the editor showed
 * the record's `unresolved-merge` until something else made the server read git again, and a
 * commit in a linked work tree was never seen (the value history, the committed versions).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { textHash } from "@stellar-secrets/core";
import { recordPath } from "@stellar-secrets/git";
import { editSecretsFile } from "@stellar-secrets/sops";
import { commitAll, makeTempProject, startInMemory, type TempProject } from "./test-support/in-memory.js";

const GIT_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_AUTHOR_NAME: "Alice Example",
  GIT_AUTHOR_EMAIL: "alice@example.test",
  GIT_COMMITTER_NAME: "Alice Example",
  GIT_COMMITTER_EMAIL: "alice@example.test",
};
const git = (cwd: string, args: string[]): string => execFileSync("git", args, { cwd, env: GIT_ENV, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

const ENV = "secrets/development.enc.yaml";
const PATCH_1 = "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\nSubject: [PATCH 1/2] TEST-ONLY patch\n\n";
const PATCH_2 = "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\nSubject: [PATCH 2/2] TEST-ONLY patch\n\n";

/**
 * A committed project whose environment file has a merge record of a `git am -3` session at patch 1
 * (as the driver writes it when it kept our side byte for byte: the record counts only while the
 * session is at that patch), and the session's `rebase-apply` (applying, next = 1).
 */
async function amProject(): Promise<TempProject> {
  const project = await makeTempProject({ development: { zendesk_token: "TEST-ONLY-not-a-real-value" } });
  commitAll(project.dir, "base");
  const gitDir = join(project.dir, ".git");
  const record = {
    version: 1,
    path: ENV,
    environment: "development",
    names: ["zendesk_token"],
    file: textHash(project.read(ENV)),
    theirs: "1".repeat(64),
    recordedAt: "2026-01-01T00:00:00.000Z",
    am: createHash("sha256").update("git am patch 1\n", "utf8").update(PATCH_1).digest("hex"),
  };
  mkdirSync(join(gitDir, "stellar-secrets", "unresolved"), { recursive: true });
  writeFileSync(recordPath(gitDir, ENV), `${JSON.stringify(record, null, 2)}\n`);
  startAm(project);
  return project;
}

/** `git am` stopped at patch 1 (rebase-apply with applying, next = 1, both patches). */
function startAm(project: TempProject): void {
  const dir = join(project.dir, ".git", "rebase-apply");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "0001"), PATCH_1);
  writeFileSync(join(dir, "0002"), PATCH_2);
  writeFileSync(join(dir, "last"), "2\n");
  writeFileSync(join(dir, "applying"), "");
  writeFileSync(join(dir, "next"), "1\n");
}

const unresolved = (ds: { code?: string | number }[]): number => ds.filter((d) => d.code === "unresolved-merge").length;

describe("git am's progress, for the merge driver's records of git am -3", () => {
  it("a client without file watchers: the record's unresolved-merge goes at git am --skip (next patch) and --abort (rebase-apply gone), and comes back with a new session at that patch", async () => {
    const project = await amProject();
    const server = await startInMemory({ folders: [project.dir], capabilities: { workspace: { workspaceFolders: true } } });
    const uri = project.uri(ENV);
    const rebaseApply = join(project.dir, ".git", "rebase-apply");
    try {
      await server.waitForDiagnostics(uri, (d) => unresolved(d) === 1);
      // git am --skip: the session moves to patch 2 (which stops too: rebase-apply stays)
      writeFileSync(join(rebaseApply, "next"), "2\n");
      await server.waitForDiagnostics(uri, (d) => unresolved(d) === 0);
      writeFileSync(join(rebaseApply, "next"), "1\n");
      await server.waitForDiagnostics(uri, (d) => unresolved(d) === 1);
      // git am --abort: the folder goes
      rmSync(rebaseApply, { recursive: true, force: true });
      await server.waitForDiagnostics(uri, (d) => unresolved(d) === 0);
      // git am -3 of the same patches again: the folder appears, and is watched from then on
      startAm(project);
      await server.waitForDiagnostics(uri, (d) => unresolved(d) === 1);
      await new Promise((r) => setTimeout(r, 300));
      writeFileSync(join(rebaseApply, "next"), "2\n");
      await server.waitForDiagnostics(uri, (d) => unresolved(d) === 0);
    } finally {
      await server.dispose();
      project.remove();
    }
  });

  it("a client without watcher registration that reports changes itself: the server's own watch of the project folders stops, git's state is still watched (its watcher of the workspace does not report .git)", async () => {
    const project = await amProject();
    const server = await startInMemory({ folders: [project.dir], capabilities: { workspace: { workspaceFolders: true } } });
    const uri = project.uri(ENV);
    try {
      await server.waitForDiagnostics(uri, (d) => unresolved(d) === 1);
      const { DidChangeWatchedFilesNotification, FileChangeType } = await import("vscode-languageserver/node");
      await server.client.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: project.uri("stellar.yaml"), type: FileChangeType.Changed }] });
      await server.waitFor(() => server.logs.some((l) => l.includes("own watch of the project folders stopped (git's state is still watched)")), "the watch stopped");
      await new Promise((r) => setTimeout(r, 300));
      writeFileSync(join(project.dir, ".git", "rebase-apply", "next"), "2\n");
      await server.waitForDiagnostics(uri, (d) => unresolved(d) === 0);
    } finally {
      await server.dispose();
      project.remove();
    }
  });

  it("a client that registers watchers: rebase-apply and its next are among the globs, and a reported change of next reads the records again", async () => {
    const project = await amProject();
    const server = await startInMemory({ folders: [project.dir] });
    const uri = project.uri(ENV);
    try {
      const globs = server.registrations.flatMap((r) => (r.registerOptions as { watchers: { globPattern: unknown }[] }).watchers.map((w) => w.globPattern));
      expect(globs).toEqual(expect.arrayContaining(["**/.git/rebase-apply", "**/.git/rebase-apply/next"]));
      await server.waitForDiagnostics(uri, (d) => unresolved(d) === 1);
      writeFileSync(join(project.dir, ".git", "rebase-apply", "next"), "2\n");
      const { DidChangeWatchedFilesNotification, FileChangeType } = await import("vscode-languageserver/node");
      await server.client.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: project.uri(".git/rebase-apply/next"), type: FileChangeType.Changed }] });
      await server.waitForDiagnostics(uri, (d) => unresolved(d) === 0);
    } finally {
      await server.dispose();
      project.remove();
    }
  });
});

describe("a linked work tree (git worktree add)", () => {
  const CATALOG = { "connectors/stripe.yaml": "kind: auth_connector\nname: stripe\ntype: bearer_token\ntoken: { secret: stripe_api_key }\n", "secrets/catalog.yaml": "secrets:\n  stripe_api_key:\n    rotate_every: 30d\n" };
  const rotation = (ds: { code?: string | number; message: string }[]) => ds.filter((d) => d.code === "rotation-overdue");

  /** The project committed on main (2020), and a linked work tree of it on a branch `feature`, elsewhere. */
  async function linked(): Promise<{ project: TempProject; wt: string; common: string; remove: () => void }> {
    const project = await makeTempProject({ production: { stripe_api_key: "TEST-ONLY-value-1" } }, CATALOG);
    commitAll(project.dir, "add the stripe key", "2020-01-02T12:00:00Z");
    const outside = realpathSync(mkdtempSync(join(tmpdir(), "stellar-ls-worktree-")));
    const wt = join(outside, "wt");
    git(project.dir, ["worktree", "add", "-q", "-b", "feature", wt]);
    return { project, wt, common: join(realpathSync(project.dir), ".git"), remove: () => (project.remove(), rmSync(outside, { recursive: true, force: true })) };
  }

  it("a client without file watchers: a commit in the linked work tree (its branch in the common directory) is read again (rotation-overdue)", async () => {
    const { project, wt, remove } = await linked();
    const server = await startInMemory({ folders: [wt], capabilities: { workspace: { workspaceFolders: true } } });
    const env = pathToFileURL(join(wt, "secrets/production.enc.yaml")).href;
    try {
      await server.waitForDiagnostics(env, (d) => rotation(d)[0]?.message.includes("(2020-01-02, commit ") === true);
      await editSecretsFile(join(wt, "secrets/production.enc.yaml"), [project.identity], (values) => void values.set("stripe_api_key", "TEST-ONLY-value-2"));
      await server.waitForDiagnostics(env, (d) => rotation(d).length === 0);
      commitAll(wt, "rotate the stripe key", "2021-03-04T12:00:00Z");
      await server.waitForDiagnostics(env, (d) => rotation(d)[0]?.message.includes("(2021-03-04, commit ") === true);
    } finally {
      await server.dispose();
      remove();
    }
  });

  it("a client with watcher registration but without relativePatternSupport: the linked work tree's git directories (outside the workspace folder) are watched by the server itself, and a commit there is read again with no notification", async () => {
    const { project, wt, common, remove } = await linked();
    const server = await startInMemory({ folders: [wt], capabilities: { workspace: { configuration: true, workspaceFolders: true, didChangeWatchedFiles: { dynamicRegistration: true } } } });
    const env = pathToFileURL(join(wt, "secrets/production.enc.yaml")).href;
    try {
      await server.waitForDiagnostics(env, (d) => rotation(d)[0]?.message.includes("(2020-01-02, commit ") === true);
      // only the globs (no relative pattern: the client could not follow one)
      const globs = server.registrations.flatMap((r) => (r.registerOptions as { watchers: { globPattern: unknown }[] }).watchers.map((w) => w.globPattern));
      expect(globs.filter((g) => typeof g === "object")).toEqual([]);
      await server.waitFor(() => server.logs.some((l) => l.includes("the server watches the git directories outside the workspace folders itself")), "the log of the git watch");
      // the value rotated: the client reports the environment file (its glob matches it), as VS Code would
      await editSecretsFile(join(wt, "secrets/production.enc.yaml"), [project.identity], (values) => void values.set("stripe_api_key", "TEST-ONLY-value-2"));
      const { DidChangeWatchedFilesNotification, FileChangeType } = await import("vscode-languageserver/node");
      await server.client.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: env, type: FileChangeType.Changed }] });
      await server.waitForDiagnostics(env, (d) => rotation(d).length === 0);
      // the commit: nothing the client reports (refs/heads/feature is in the common directory, outside the workspace folder)
      commitAll(wt, "rotate the stripe key", "2021-03-04T12:00:00Z");
      await server.waitForDiagnostics(env, (d) => rotation(d)[0]?.message.includes("(2021-03-04, commit ") === true);
      // the project's own folders are not watched by the server (the client reports them): only git's
      expect(server.logs.some((l) => l.includes("watches each project's folders itself"))).toBe(false);
      expect(common.length).toBeGreaterThan(0);
    } finally {
      await server.dispose();
      remove();
    }
  });

  it("a client with relative patterns: the linked work tree's git directory and the common branches are registered, and a reported change of the branch reads git again", async () => {
    const { project, wt, common, remove } = await linked();
    const server = await startInMemory({
      folders: [wt],
      capabilities: { workspace: { configuration: true, workspaceFolders: true, didChangeWatchedFiles: { dynamicRegistration: true, relativePatternSupport: true } } },
    });
    const env = pathToFileURL(join(wt, "secrets/production.enc.yaml")).href;
    try {
      await server.waitForDiagnostics(env, (d) => rotation(d)[0]?.message.includes("(2020-01-02, commit ") === true);
      await server.waitFor(() => server.registrations.length >= 2, "the relative patterns");
      const relative = server.registrations.flatMap((r) => (r.registerOptions as { watchers: { globPattern: unknown }[] }).watchers.map((w) => w.globPattern)).filter((g) => typeof g === "object");
      expect(relative).toEqual(
        expect.arrayContaining([
          { baseUri: pathToFileURL(join(common, "worktrees", "wt")).href, pattern: "{HEAD,MERGE_HEAD,REBASE_HEAD,CHERRY_PICK_HEAD,REVERT_HEAD,rebase-apply,rebase-apply/next,stellar-secrets/unresolved/*.json}" },
          { baseUri: pathToFileURL(common).href, pattern: "refs/heads/**" },
        ]),
      );
      await editSecretsFile(join(wt, "secrets/production.enc.yaml"), [project.identity], (values) => void values.set("stripe_api_key", "TEST-ONLY-value-2"));
      commitAll(wt, "rotate the stripe key", "2021-03-04T12:00:00Z");
      const { DidChangeWatchedFilesNotification, FileChangeType } = await import("vscode-languageserver/node");
      await server.client.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: pathToFileURL(join(common, "refs", "heads", "feature")).href, type: FileChangeType.Changed }] });
      await server.waitForDiagnostics(env, (d) => rotation(d)[0]?.message.includes("(2021-03-04, commit ") === true);
    } finally {
      await server.dispose();
      remove();
    }
  });
});

describe("relative patterns of git directories (clients with relativePatternSupport)", () => {
  it("none for a .git folder inside the workspace folder (the globs cover it); the .git above a project opened as its own folder is registered", async () => {
    const project = await makeTempProject({ development: { zendesk_token: "TEST-ONLY-not-a-real-value" } });
    commitAll(project.dir, "base");
    const capabilities = { workspace: { configuration: true, workspaceFolders: true, didChangeWatchedFiles: { dynamicRegistration: true, relativePatternSupport: true } } };
    const relative = (server: { registrations: { registerOptions?: unknown }[] }) =>
      server.registrations.flatMap((r) => (r.registerOptions as { watchers: { globPattern: unknown }[] }).watchers.map((w) => w.globPattern)).filter((g) => typeof g === "object");
    const inside = await startInMemory({ folders: [project.dir], capabilities });
    try {
      await new Promise((r) => setTimeout(r, 300));
      expect(relative(inside)).toEqual([]);
    } finally {
      await inside.dispose();
    }
    // the same repository with the project moved one folder down, that folder opened alone
    mkdirSync(join(project.dir, "sub"));
    for (const f of ["stellar.yaml", "secrets"]) execFileSync("mv", [join(project.dir, f), join(project.dir, "sub", f)]);
    const below = await startInMemory({ folders: [join(project.dir, "sub")], capabilities });
    try {
      await below.waitFor(() => relative(below).length > 0, "the relative patterns");
      const git = realpathSync(join(project.dir, ".git"));
      expect(relative(below).filter((g) => (g as { baseUri: string }).baseUri.startsWith(pathToFileURL(git).href))).toEqual([
        { baseUri: pathToFileURL(git).href, pattern: "refs/heads/**" },
        { baseUri: pathToFileURL(git).href, pattern: "{HEAD,MERGE_HEAD,REBASE_HEAD,CHERRY_PICK_HEAD,REVERT_HEAD,rebase-apply,rebase-apply/next,stellar-secrets/unresolved/*.json}" },
      ]);
    } finally {
      await below.dispose();
      project.remove();
    }
  });
});

describe("the folders above a subfolder project's root, for a client without relative patterns", () => {
  it.each([
    ["registers watchers but has no relativePatternSupport", { workspace: { configuration: true, workspaceFolders: true, didChangeWatchedFiles: { dynamicRegistration: true } } }],
    ["registers no watchers", { workspace: { configuration: true, workspaceFolders: true } }],
  ])("a client that %s: a .gitattributes written above the root (outside the workspace folder) is read again with no notification", async (_what, capabilities) => {
    const project = await makeTempProject({ development: { zendesk_token: "TEST-ONLY-not-a-real-value" } });
    commitAll(project.dir, "base");
    mkdirSync(join(project.dir, "sub"));
    for (const f of ["stellar.yaml", "secrets"]) execFileSync("mv", [join(project.dir, f), join(project.dir, "sub", f)]);
    const top = realpathSync(project.dir);
    const server = await startInMemory({ folders: [join(top, "sub")], capabilities });
    const attributes = join(top, ".gitattributes");
    const uri = pathToFileURL(attributes).href;
    try {
      await server.waitFor(async () => (await server.client.sendRequest("stellarSecrets/projects", {})) !== undefined, "the index");
      await new Promise((r) => setTimeout(r, 300));
      writeFileSync(attributes, "*.png binary\nsub/secrets/*.enc.yaml filter=lfs\n");
      const found = await server.waitForDiagnostics(uri, (d) => d.some((x) => x.code === "git-attributes"));
      expect(found.map((d) => [d.code, d.range.start.line])).toEqual([["git-attributes", 1]]);
      writeFileSync(attributes, "*.png binary\n");
      await server.waitForDiagnostics(uri, (d) => d.length === 0);
    } finally {
      await server.dispose();
      project.remove();
    }
  });
});

describe("what makes the server read git again", () => {
  it("git's state in the project's git directories, not the index or a lock file (the watcher of deletions reports index.lock at every git status), nor another repository's .git", async () => {
    const { BackgroundGitReads } = await import("./git-reads.js");
    const dir = realpathSync(mkdtempSync(join(tmpdir(), "stellar-git-reads-")));
    try {
      mkdirSync(join(dir, "repo", ".git", "refs", "heads"), { recursive: true });
      mkdirSync(join(dir, "repo", "project"), { recursive: true });
      const root = join(dir, "repo", "project");
      const model = { root, owns: () => false };
      const state = { workspace: { all: () => [model], get: (r: string) => (r === root ? model : undefined) }, log: () => {}, logFailure: () => {}, indexChanged: () => {} };
      let reads = 0;
      const reading = { what: "test", key: () => "k", read: async () => (reads++, "v"), set: () => new Set<string>(), followsEnvironmentFiles: false };
      const bg = new BackgroundGitReads(state as never, reading as never);
      const g = join(dir, "repo", ".git");
      bg.diskChanged([join(g, "index.lock"), join(g, "index"), join(g, "ORIG_HEAD"), join(dir, "other", ".git", "HEAD")]);
      await new Promise((r) => setTimeout(r, 400));
      expect(reads).toBe(0);
      bg.diskChanged([join(g, "refs", "heads", "main")]);
      await new Promise((r) => setTimeout(r, 400));
      expect(reads).toBe(1);
      bg.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
