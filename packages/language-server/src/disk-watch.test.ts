/**
 * A client that cannot register file watchers (Helix, Zed, Sublime LSP, Kate, vim-lsp): the server
 * watches each project's folders and git state itself (disk-watch.ts). Before, a secrets file
 * changed by the CLI (or git) while such a client was connected was never seen: its diagnostics
 * stayed those of the old values until a restart.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encryptSecrets } from "@stellar-secrets/sops";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { editSecretsFile } from "@stellar-secrets/sops";
import { DiskWatch, gitChangeOf, gitDirsOf, projectFolders } from "./disk-watch.js";
import { commitAll, makeTempProject, rangeOf, startInMemory, type InMemoryServer, type TempProject } from "./test-support/in-memory.js";
import { createTicketAction, HUBSPOT_CONNECTION } from "./test-support/fixtures.js";
import type { FileChange } from "./watched-files.js";

describe("the server's own watch of a few folders", () => {
  const dir = mkdtempSync(join(tmpdir(), "stellar-disk-watch-"));
  let watch: DiskWatch | undefined;
  afterEach(() => watch?.dispose());
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const next = (got: FileChange[][]) => async (): Promise<FileChange[]> => {
    for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    return got.shift() ?? [];
  };

  it("reports the files written, replaced by a rename, and deleted in a watched folder, once for changes that come together; not those of a subfolder", async () => {
    const got: FileChange[][] = [];
    mkdirSync(join(dir, "sub"), { recursive: true });
    watch = new DiskWatch((c) => got.push(c), () => {}, 30);
    watch.watch([dir, join(dir, "missing")]);
    expect(watch.folders).toEqual([dir]); // a folder that is not there is skipped
    writeFileSync(join(dir, "a.enc.yaml"), "one");
    writeFileSync(join(dir, "a.enc.yaml.tmp"), "two");
    const { renameSync } = await import("node:fs");
    renameSync(join(dir, "a.enc.yaml.tmp"), join(dir, "a.enc.yaml"));
    const first = await next(got)();
    expect(first.filter((c) => c.path === join(dir, "a.enc.yaml"))).toEqual([{ path: join(dir, "a.enc.yaml"), deleted: false }]);
    expect(first.find((c) => c.path.endsWith(".tmp"))?.deleted).toBe(true);
    unlinkSync(join(dir, "a.enc.yaml"));
    expect(await next(got)()).toEqual([{ path: join(dir, "a.enc.yaml"), deleted: true }]);
    writeFileSync(join(dir, "sub", "b.yaml"), "x");
    await new Promise((r) => setTimeout(r, 200));
    expect(got).toEqual([]);
    // no longer asked for: no longer watched
    watch.watch([]);
    writeFileSync(join(dir, "c.yaml"), "x");
    await new Promise((r) => setTimeout(r, 200));
    expect([watch.folders, got]).toEqual([[], []]);
  });
});

describe("a client without file watchers, a secrets file changed on disk", () => {
  let project: TempProject;
  let server: InMemoryServer;
  let recipient: string;
  beforeAll(async () => {
    project = await makeTempProject(
      { development: { zendesk_token: "TEST-ONLY-not-a-real-value" } },
      { "connections/hubspot.yaml": HUBSPOT_CONNECTION, "actions/create_ticket.yaml": createTicketAction("zendesk_token") },
    );
    recipient = /alice: (age1\w+)/.exec(project.read("stellar.yaml"))![1]!;
    // (no workspace.didChangeWatchedFiles.dynamicRegistration: nothing is registered, nothing reported)
    server = await startInMemory({ folders: [project.dir], capabilities: { workspace: { workspaceFolders: true } } });
  });
  afterAll(async () => {
    await server.dispose();
    project.remove();
  });

  it("re-reads an environment file the CLI rewrote, without the client saying anything, and says so in its log", async () => {
    expect(server.registrations).toEqual([]);
    expect(server.logs.some((l) => l.includes("the server watches each project's folders itself"))).toBe(true);
    const uri = project.uri("actions/create_ticket.yaml");
    expect(server.published.get(uri) ?? []).toEqual([]);
    // the value removed from development (as `stellar-secrets` writes it: a new file renamed over the old)
    writeFileSync(project.path("secrets/.development.tmp"), await encryptSecrets(new Map([["other_token", "TEST-ONLY"]]), { recipients: [recipient] }));
    const { renameSync } = await import("node:fs");
    renameSync(project.path("secrets/.development.tmp"), project.path("secrets/development.enc.yaml"));
    const ds = await server.waitForDiagnostics(uri, (d) => d.length > 0);
    expect(ds.map((d) => [d.code, d.range])).toEqual([["unknown-secret", rangeOf(createTicketAction("zendesk_token"), "zendesk_token")]]);
    // and back
    writeFileSync(project.path("secrets/development.enc.yaml"), await encryptSecrets(new Map([["zendesk_token", "TEST-ONLY"]]), { recipients: [recipient] }));
    expect(await server.waitForDiagnostics(uri, (d) => d.length === 0)).toEqual([]);
  });
});

describe("a client without file watchers, git's HEAD and branches", () => {
  it("finds the git directories of a work tree (a .git folder in the root or above; a linked work tree's .git file and its commondir), none outside git", () => {
    const dir = mkdtempSync(join(tmpdir(), "stellar-git-above-"));
    try {
      mkdirSync(join(dir, "repo", ".git", "worktrees", "linked"), { recursive: true });
      mkdirSync(join(dir, "repo", "sub", "project"), { recursive: true });
      mkdirSync(join(dir, "linked", "project"), { recursive: true });
      mkdirSync(join(dir, "plain"), { recursive: true });
      writeFileSync(join(dir, "linked", ".git"), `gitdir: ${join(dir, "repo", ".git", "worktrees", "linked")}\n`);
      writeFileSync(join(dir, "repo", ".git", "worktrees", "linked", "commondir"), "../..\n");
      const repo = join(dir, "repo", ".git");
      expect(gitDirsOf(join(dir, "repo"))).toEqual({ gitDir: repo, commonDir: repo });
      expect(gitDirsOf(join(dir, "repo", "sub", "project"))).toEqual({ gitDir: repo, commonDir: repo });
      expect(gitDirsOf(join(dir, "linked", "project"))).toEqual({ gitDir: join(repo, "worktrees", "linked"), commonDir: repo });
      // a relative gitdir (a submodule's), without commondir: its own directory is also the common one
      writeFileSync(join(dir, "plain", ".git"), "gitdir: ../repo/.git/worktrees/linked/../../modules/x\n");
      expect(gitDirsOf(join(dir, "plain"))).toEqual({ gitDir: join(repo, "modules", "x"), commonDir: join(repo, "modules", "x") });
      // a .git file that names nothing
      writeFileSync(join(dir, "plain", ".git"), "not a gitdir line\n");
      expect(gitDirsOf(join(dir, "plain"))).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads a hostile folder's .git only as a small regular file: a FIFO is not opened (it would block the server), a huge file is read 4 KiB at most", async () => {
    const { execFileSync } = await import("node:child_process");
    const dir = mkdtempSync(join(tmpdir(), "stellar-git-hostile-"));
    try {
      mkdirSync(join(dir, "fifo"));
      execFileSync("mkfifo", [join(dir, "fifo", ".git")]);
      expect(gitDirsOf(join(dir, "fifo"))).toBeUndefined();
      mkdirSync(join(dir, "huge"));
      writeFileSync(join(dir, "huge", ".git"), "x".repeat(8 * 1024 * 1024) + "\ngitdir: /elsewhere\n");
      expect(gitDirsOf(join(dir, "huge"))).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("passes on HEAD, the branches (of the common directory), the merge state, git am's progress and the merge driver's records; not the index, locks or objects", () => {
    const g = join("/w", "repo", ".git");
    const dirs = [{ gitDir: g, commonDir: g }];
    const state = [join(g, "HEAD"), join(g, "MERGE_HEAD"), join(g, "REBASE_HEAD"), join(g, "CHERRY_PICK_HEAD"), join(g, "REVERT_HEAD"), join(g, "refs", "heads", "main"), join(g, "refs", "heads", "feature", "x"), join(g, "rebase-apply"), join(g, "rebase-apply", "next"), join(g, "stellar-secrets", "unresolved", "0123.json")];
    expect(state.map((p) => gitChangeOf(p, dirs))).toEqual(state.map(() => "state"));
    const other = [join(g, "index"), join(g, "index.lock"), join(g, "HEAD.lock"), join(g, "ORIG_HEAD"), join(g, "objects", "ab"), join(g, "rebase-apply", "0001"), join(g, "rebase-apply", "patch"), join("/w", "elsewhere", ".git", "HEAD")];
    expect(other.map((p) => gitChangeOf(p, dirs))).toEqual(other.map(() => "other"));
    expect(gitChangeOf(join("/w", "repo", "HEAD"), dirs)).toBeUndefined();
    // a linked work tree: its own HEAD and am state in worktrees/NAME, the branches in the common directory (not another work tree's HEAD)
    const linked = [{ gitDir: join(g, "worktrees", "wt"), commonDir: g }];
    expect([join(g, "worktrees", "wt", "HEAD"), join(g, "worktrees", "wt", "rebase-apply", "next"), join(g, "refs", "heads", "feature")].map((p) => gitChangeOf(p, linked))).toEqual(["state", "state", "state"]);
    expect([join(g, "worktrees", "other", "HEAD"), join(g, "worktrees", "wt", "index")].map((p) => gitChangeOf(p, linked))).toEqual(["other", "other"]);
  });

  it("reads the value history again after a commit, without the client saying anything (rotation-overdue)", async () => {
    const project = await makeTempProject(
      { production: { stripe_api_key: "TEST-ONLY-value-1" } },
      { "connectors/stripe.yaml": "kind: auth_connector\nname: stripe\ntype: bearer_token\ntoken: { secret: stripe_api_key }\n", "secrets/catalog.yaml": "secrets:\n  stripe_api_key:\n    rotate_every: 30d\n" },
    );
    commitAll(project.dir, "add the stripe key", "2020-01-02T12:00:00Z");
    const server = await startInMemory({ folders: [project.dir], capabilities: { workspace: { workspaceFolders: true } } });
    const env = project.uri("secrets/production.enc.yaml");
    const rotation = (ds: { code?: string | number; message: string }[]) => ds.filter((d) => d.code === "rotation-overdue");
    try {
      await server.waitForDiagnostics(env, (d) => rotation(d)[0]?.message.includes("(2020-01-02, commit ") === true);
      // a new value written by the CLI (seen: the secrets folder is watched): uncommitted, so set now
      await editSecretsFile(project.path("secrets/production.enc.yaml"), [project.identity], (values) => void values.set("stripe_api_key", "TEST-ONLY-value-2"));
      await server.waitForDiagnostics(env, (d) => rotation(d).length === 0);
      // committed (with a date long past): only .git changes
      commitAll(project.dir, "rotate the stripe key", "2021-03-04T12:00:00Z");
      const ds = await server.waitForDiagnostics(env, (d) => rotation(d)[0]?.message.includes("(2021-03-04, commit ") === true);
      expect(rotation(ds)).toHaveLength(1);
    } finally {
      await server.dispose();
      project.remove();
    }
  });
});

describe("a client without watcher registration that reports disk changes itself", () => {
  it("stops the server's own watch at its first workspace/didChangeWatchedFiles (and says so): its reports are the ones followed", async () => {
    const project = await makeTempProject(
      { development: { zendesk_token: "TEST-ONLY-not-a-real-value" } },
      { "connections/hubspot.yaml": HUBSPOT_CONNECTION, "actions/create_ticket.yaml": createTicketAction("zendesk_token") },
    );
    const recipient = /alice: (age1\w+)/.exec(project.read("stellar.yaml"))![1]!;
    const server = await startInMemory({ folders: [project.dir], capabilities: { workspace: { workspaceFolders: true } } });
    const uri = project.uri("actions/create_ticket.yaml");
    try {
      const { DidChangeWatchedFilesNotification, FileChangeType } = await import("vscode-languageserver/node");
      await server.client.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: project.uri("connections/hubspot.yaml"), type: FileChangeType.Changed }] });
      await server.waitFor(() => server.logs.some((l) => l.includes("the server's own watch of the project folders stopped")), "the watch stopped");
      // written without a report: not seen
      writeFileSync(project.path("secrets/development.enc.yaml"), await encryptSecrets(new Map([["other_token", "TEST-ONLY"]]), { recipients: [recipient] }));
      await new Promise((r) => setTimeout(r, 600));
      expect(server.published.get(uri) ?? []).toEqual([]);
      // reported: seen
      await server.client.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: project.uri("secrets/development.enc.yaml"), type: FileChangeType.Changed }] });
      expect((await server.waitForDiagnostics(uri, (d) => d.length > 0)).map((d) => d.code)).toEqual(["unknown-secret"]);
    } finally {
      await server.dispose();
      project.remove();
    }
  });
});

describe("a client without file watchers, config files in sub-folders (git checkout)", () => {
  it("re-reads a config file a checkout changed deep in the project, reads the files of a folder it created, and drops those of a folder it deleted, without the client saying anything", async () => {
    const action = (name: string, secret: string): string => createTicketAction(secret).replace("name: create_ticket", `name: ${name}`);
    const project = await makeTempProject(
      { development: { zendesk_token: "TEST-ONLY-not-a-real-value" } },
      { "connections/hubspot.yaml": HUBSPOT_CONNECTION, "actions/deep/er/create_ticket.yaml": action("create_ticket", "zendesk_token") },
    );
    commitAll(project.dir, "main");
    const { execFileSync } = await import("node:child_process");
    const env = { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" };
    const git = (args: string[]): void => void execFileSync("git", args, { cwd: project.dir, env, stdio: "ignore" });
    git(["checkout", "-q", "-b", "other"]);
    project.write("actions/deep/er/create_ticket.yaml", action("create_ticket", "missing_token"));
    project.write("actions/new/folder/close_ticket.yaml", action("close_ticket", "another_missing"));
    commitAll(project.dir, "other");
    git(["checkout", "-q", "main"]);
    const server = await startInMemory({ folders: [project.dir], capabilities: { workspace: { workspaceFolders: true } } });
    const deep = project.uri("actions/deep/er/create_ticket.yaml");
    const created = project.uri("actions/new/folder/close_ticket.yaml");
    const codes = (ds: { code?: string | number }[]) => ds.map((d) => d.code);
    try {
      expect(server.published.get(deep) ?? []).toEqual([]);
      git(["checkout", "-q", "other"]);
      expect(codes(await server.waitForDiagnostics(deep, (d) => d.length > 0))).toEqual(["unknown-secret"]);
      expect(codes(await server.waitForDiagnostics(created, (d) => d.length > 0))).toEqual(["unknown-secret"]);
      // the created folder is watched from then on
      await new Promise((r) => setTimeout(r, 300));
      project.write("actions/new/folder/close_ticket.yaml", action("close_ticket", "zendesk_token"));
      await server.waitForDiagnostics(created, (d) => d.length === 0);
      project.write("actions/new/folder/close_ticket.yaml", action("close_ticket", "another_missing"));
      await server.waitForDiagnostics(created, (d) => d.length > 0);
      git(["checkout", "-q", "-f", "main"]);
      await server.waitForDiagnostics(deep, (d) => d.length === 0);
      await server.waitForDiagnostics(created, (d) => d.length === 0);
    } finally {
      await server.dispose();
      project.remove();
    }
  });

  it("a project's folders: breadth first, not .git, node_modules or a nested project's, at most the limit", () => {
    const dir = mkdtempSync(join(tmpdir(), "stellar-folders-"));
    try {
      for (const d of ["a/b/c", "a/x", "node_modules/p", ".git/refs", "nested/inner"]) mkdirSync(join(dir, d), { recursive: true });
      writeFileSync(join(dir, "nested", "stellar.yaml"), "version: 1\n");
      expect(projectFolders(dir, 100)).toEqual({ folders: [dir, join(dir, "a"), join(dir, "a", "b"), join(dir, "a", "x"), join(dir, "a", "b", "c")], truncated: false });
      expect(projectFolders(dir, 2)).toEqual({ folders: [dir, join(dir, "a")], truncated: true });
      // a folder created below the root: walked as the project's (a nested project's folder is still its own)
      expect(projectFolders(join(dir, "nested"), 100, dir)).toEqual({ folders: [], truncated: false });
      expect(projectFolders(join(dir, "node_modules"), 100, dir)).toEqual({ folders: [], truncated: false });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the cap on the folders the server watches itself", () => {
  it("watches at most maxFolders project folders in all (each project's root whatever the count), and says once that files in the others are seen when opened", async () => {
    const { WatchedFiles } = await import("./watched-files.js");
    const dir = mkdtempSync(join(tmpdir(), "stellar-folder-cap-"));
    try {
      for (const d of ["p1/a", "p1/b", "p2/c"]) mkdirSync(join(dir, d), { recursive: true });
      const logs: string[] = [];
      const models = [{ root: join(dir, "p1"), config: undefined, aboveRootFolders: () => [] }, { root: join(dir, "p2"), config: undefined, aboveRootFolders: () => [] }];
      const state = { capabilities: {}, shuttingDown: false, workspace: { all: () => models }, folderPaths: () => [dir], log: (l: string) => logs.push(l), logFailure: () => {} };
      const files = new WatchedFiles(state as never, {} as never);
      files.maxFolders = 3;
      files.watchDiskItself();
      files.watchDiskItself();
      const watching = (files as unknown as { disk: DiskWatch }).disk.folders;
      expect(watching).toEqual([join(dir, "p1"), join(dir, "p1", "a"), join(dir, "p1", "b"), join(dir, "p2")]);
      expect(logs.filter((l) => l.includes("watches at most 3 project folders itself"))).toHaveLength(1);
      files.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
