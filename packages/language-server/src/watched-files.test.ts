import { mkdirSync, rmSync, symlinkSync } from "node:fs";
import { checkWorkspace, loadWorkspace } from "@stellar-secrets/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DidChangeWatchedFilesNotification, FileChangeType } from "vscode-languageserver/node";
import { FilesChangedNotification, IndexChangedNotification } from "./protocol.js";
import { makeTempProject, rangeOf, startInMemory, type InMemoryServer, type TempProject } from "./test-support/in-memory.js";
import { createTicketAction, HUBSPOT_CONNECTION } from "./test-support/fixtures.js";

const action = createTicketAction;
const CONNECTION = HUBSPOT_CONNECTION;

describe("watched files", () => {
  let project: TempProject;
  let server: InMemoryServer;
  beforeAll(async () => {
    project = await makeTempProject({ development: { zendesk_token: "TEST-ONLY-not-a-real-value" } }, { "connections/hubspot.yaml": CONNECTION, "actions/create_ticket.yaml": action("zendesk_token") });
    server = await startInMemory({ folders: [project.dir] });
  });
  afterAll(async () => {
    await server.dispose();
    project.remove();
  });

  const changed = (uri: string, type: FileChangeType) => server.client.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri, type }] });
  const indexChanges = () => server.notifications.filter((n) => n.method === IndexChangedNotification.method).length;

  it("asks the client to watch the files it reads, deletions of anything, and git's HEAD, branches and merge state", () => {
    expect(server.registrations.map((r) => [r.method, r.registerOptions])).toEqual([
      [
        "workspace/didChangeWatchedFiles",
        {
          watchers: [
            { globPattern: "**/*.{yaml,yml,json,age}" },
            { globPattern: "**/.[gG][iI][tT][aA][tT][tT][rR][iI][bB][uU][tT][eE][sS]" },
            { globPattern: "**/*", kind: 4 },
            { globPattern: "**/.git/HEAD" },
            { globPattern: "**/.git/refs/heads/**" },
            { globPattern: "**/.git/MERGE_HEAD" },
            { globPattern: "**/.git/REBASE_HEAD" },
            { globPattern: "**/.git/CHERRY_PICK_HEAD" },
            { globPattern: "**/.git/REVERT_HEAD" },
            { globPattern: "**/.git/rebase-apply" },
            { globPattern: "**/.git/rebase-apply/next" },
          ],
        },
      ],
    ]);
  });

  it("re-indexes a file created on disk: its diagnostics, the cross-file effect, and indexChanged with the project root", async () => {
    const before = indexChanges();
    const text = action("zendesk_tokn").replace("create_ticket", "close_ticket");
    project.write("actions/close_ticket.yaml", text);
    await changed(project.uri("actions/close_ticket.yaml"), FileChangeType.Created);
    const ds = await server.waitForDiagnostics(project.uri("actions/close_ticket.yaml"), (d) => d.length > 0);
    expect(ds.map((d) => [d.code, d.range])).toEqual([["unknown-secret", rangeOf(text, "zendesk_tokn")]]);
    await server.waitFor(() => indexChanges() > before, "indexChanged");
    expect(server.notifications.filter((n) => n.method === IndexChangedNotification.method).at(-1)?.params).toEqual({ roots: [project.dir] });
  });

  it("an open buffer wins over the disk until it is closed", async () => {
    const uri = project.uri("actions/close_ticket.yaml");
    const open = action("zendesk_tokn").replace("create_ticket", "close_ticket");
    await server.open(uri, open);
    project.write("actions/close_ticket.yaml", action("zendesk_token").replace("create_ticket", "close_ticket"));
    await changed(uri, FileChangeType.Changed);
    await server.client.sendNotification(FilesChangedNotification, { paths: [project.path("actions/close_ticket.yaml")] });
    await new Promise((r) => setTimeout(r, 100));
    expect(server.published.get(uri)?.map((d) => d.code)).toEqual(["unknown-secret"]);
  });

  it("a deleted folder drops every indexed file under it (the client reports the folder only)", async () => {
    project.write("agents/support/actions/refund.yaml", action("zendesk_tokn").replace("create_ticket", "refund"));
    await server.client.sendNotification(FilesChangedNotification, { paths: [project.path("agents/support/actions/refund.yaml")] });
    const uri = project.uri("agents/support/actions/refund.yaml");
    await server.waitForDiagnostics(uri, (d) => d.length > 0);
    rmSync(project.path("agents"), { recursive: true });
    await changed(project.uri("agents"), FileChangeType.Deleted);
    await server.waitForDiagnostics(uri, (d) => d.length === 0);
  });

  it("reports a symbolic link created in the inbox on the link, never reading through it (as check does)", async () => {
    project.write("elsewhere/notes.age", "not a proposal\n");
    mkdirSync(project.path("secrets/inbox/development"), { recursive: true });
    symlinkSync(project.path("elsewhere/notes.age"), project.path("secrets/inbox/development/zendesk_token.abcdefabcdef.age"));
    const uri = project.uri("secrets/inbox/development/zendesk_token.abcdefabcdef.age");
    await changed(uri, FileChangeType.Created);
    const ds = await server.waitForDiagnostics(uri, (d) => d.length > 0);
    expect(ds.map((d) => [d.code, d.range.start.line, d.range.start.character])).toEqual([["invalid-proposal", 0, 0]]);
    expect(ds[0]?.message).toContain("is a symbolic link (to elsewhere/notes.age)");
  });
});

describe("a client that cannot register file watchers (no didChangeWatchedFiles.dynamicRegistration)", () => {
  it("is asked for nothing, the log says what that means, and the changes it reports anyway are taken", async () => {
    const project = await makeTempProject({ development: { zendesk_token: "TEST-ONLY-not-a-real-value" } }, { "connections/hubspot.yaml": CONNECTION, "actions/create_ticket.yaml": action("zendesk_token") });
    const server = await startInMemory({ folders: [project.dir], watch: false });
    try {
      expect(server.registrations).toEqual([]);
      expect(server.logs.filter((l) => l.includes("file watchers"))).toEqual([
        "[stellar-secrets] the client cannot register file watchers (no workspace.didChangeWatchedFiles.dynamicRegistration): the server watches each project's folders itself (every folder of the project, not node_modules, up to 2,000 folders), and git's state (HEAD, the branches, a merge, rebase or git am in progress, a linked work tree's too); files changed on disk in other folders are seen when the client reports them with workspace/didChangeWatchedFiles, or when they are opened",
      ]);
      const text = action("zendesk_tokn");
      project.write("actions/create_ticket.yaml", text);
      await server.client.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: project.uri("actions/create_ticket.yaml"), type: FileChangeType.Changed }] });
      const ds = await server.waitForDiagnostics(project.uri("actions/create_ticket.yaml"), (d) => d.length > 0);
      expect(ds.map((d) => [d.code, d.range])).toEqual([["unknown-secret", rangeOf(text, "zendesk_tokn")]]);
    } finally {
      await server.dispose();
      project.remove();
    }
  });
});

describe("a stellar.yaml created in a folder of a project (a project of its own from then on)", () => {
  let outer: TempProject;
  let inner: TempProject;
  let server: InMemoryServer;
  beforeAll(async () => {
    outer = await makeTempProject(
      { development: { zendesk_token: "TEST-ONLY-not-a-real-value" } },
      { "connections/hubspot.yaml": CONNECTION, "actions/create_ticket.yaml": action("zendesk_token"), "teams/labs/connections/hubspot.yaml": CONNECTION, "teams/labs/actions/labs.yaml": action("labs_key").replace("create_ticket", "labs_ticket") },
    );
    inner = await makeTempProject({ development: { labs_key: "TEST-ONLY-not-a-real-value" } });
    server = await startInMemory({ folders: [outer.dir] });
  });
  afterAll(async () => {
    await server.dispose();
    outer.remove();
    inner.remove();
  });

  it("the outer project stops reading that folder: its files are checked against their own project's secrets", async () => {
    const labs = outer.uri("teams/labs/actions/labs.yaml");
    // before: part of the outer project, which has no labs_key
    await server.waitForDiagnostics(labs, (d) => d.some((x) => x.code === "unknown-secret"));
    outer.write("teams/labs/secrets/development.enc.yaml", inner.read("secrets/development.enc.yaml"));
    outer.write("teams/labs/stellar.yaml", inner.read("stellar.yaml"));
    await server.client.sendNotification(DidChangeWatchedFilesNotification.type, {
      changes: [
        { uri: outer.uri("teams/labs/secrets/development.enc.yaml"), type: FileChangeType.Created },
        { uri: outer.uri("teams/labs/stellar.yaml"), type: FileChangeType.Created },
      ],
    });
    await server.waitForDiagnostics(labs, (d) => d.length === 0);
    // the outer project no longer holds a second hubspot connection (a duplicate name before)
    const outerConnection = server.published.get(outer.uri("connections/hubspot.yaml")) ?? [];
    expect(outerConnection.filter((d) => String(d.message).includes("teams/labs"))).toEqual([]);
  });
});

describe("missing-secrets-dir follows environment files and folders appearing and disappearing on disk", () => {
  let project: TempProject;
  let server: InMemoryServer;
  let envFile: string;
  beforeAll(async () => {
    project = await makeTempProject({ development: { zendesk_token: "TEST-ONLY-not-a-real-value" } });
    envFile = project.read("secrets/development.enc.yaml");
    server = await startInMemory({ folders: [project.dir] });
  });
  afterAll(async () => {
    await server.dispose();
    project.remove();
  });

  const event = (rel: string, type: FileChangeType) => server.client.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: project.uri(rel), type }] });
  /** What `stellar-secrets check` says of the project as it is on disk now: the missing-secrets-dir messages. */
  const checkSays = (): string[] => checkWorkspace(loadWorkspace(project.dir).index).filter((d) => d.rule === "missing-secrets-dir").map((d) => d.message);
  /** The server's missing-secrets-dir messages on stellar.yaml, once they are what `check` says. */
  const serverSays = async (): Promise<string[]> => {
    const expected = checkSays();
    const ds = await server.waitForDiagnostics(project.uri("stellar.yaml"), (d) => JSON.stringify(d.filter((x) => x.code === "missing-secrets-dir").map((x) => x.message)) === JSON.stringify(expected));
    return ds.filter((x) => x.code === "missing-secrets-dir").map((x) => x.message);
  };

  it("appears when the last environment file is deleted, and says so when the folder goes too", async () => {
    expect(checkSays()).toEqual([]);
    rmSync(project.path("secrets/development.enc.yaml"));
    await event("secrets/development.enc.yaml", FileChangeType.Deleted);
    expect(await serverSays()).toEqual([expect.stringMatching(/^secrets_dir is not set, so the default folder "secrets" holds no environment file/)]);
    rmSync(project.path("secrets"), { recursive: true });
    await event("secrets", FileChangeType.Deleted);
    expect(await serverSays()).toEqual([expect.stringMatching(/^secrets_dir is not set, so the default folder "secrets" does not exist/)]);
  });

  it("names a folder beside it once an environment file is created there, and disappears once one is created in the secrets folder", async () => {
    project.write("vault/development.enc.yaml", envFile);
    await event("vault/development.enc.yaml", FileChangeType.Created);
    expect(await serverSays()).toEqual([expect.stringContaining('did you mean "vault" (it holds an environment file)?')]);
    project.write("secrets/development.enc.yaml", envFile);
    await event("secrets/development.enc.yaml", FileChangeType.Created);
    expect(await serverSays()).toEqual([]);
  });

  it("follows secrets_dir edited in stellar.yaml on disk", async () => {
    rmSync(project.path("secrets"), { recursive: true });
    await event("secrets", FileChangeType.Deleted);
    expect(await serverSays()).toHaveLength(1);
    project.write("stellar.yaml", project.read("stellar.yaml").replace(/^version: 1\n/, "version: 1\nsecrets_dir: vault\n"));
    await event("stellar.yaml", FileChangeType.Changed);
    expect(await serverSays()).toEqual([]);
    project.write("stellar.yaml", project.read("stellar.yaml").replace("secrets_dir: vault", "secrets_dir: vaults"));
    await event("stellar.yaml", FileChangeType.Changed);
    expect(await serverSays()).toEqual([expect.stringMatching(/^secrets_dir "vaults" does not exist.*did you mean "vault"/)]);
  });
});

describe("unknown-reference's excluded-file hint follows the excluded files and config.exclude on disk", () => {
  let project: TempProject;
  let server: InMemoryServer;
  const AGENT = "kind: agent\nname: sales\nactions: [lookup]\n";
  const lookup = (name: string) => `kind: action\nname: ${name}\nconnection: hubspot\nmethod: GET\npath: /x\n`;
  beforeAll(async () => {
    project = await makeTempProject({ development: { zendesk_token: "TEST-ONLY-not-a-real-value" } }, { "connections/hubspot.yaml": CONNECTION, "agents/sales.yaml": AGENT });
    project.write("stellar.yaml", project.read("stellar.yaml").replace(/^version: 1\n/, 'version: 1\nconfig:\n  exclude: ["drafts/**"]\n'));
    server = await startInMemory({ folders: [project.dir] });
  });
  afterAll(async () => {
    await server.dispose();
    project.remove();
  });

  const event = (rel: string, type: FileChangeType) => server.client.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: project.uri(rel), type }] });
  /** What `stellar-secrets check` says of the project on disk now: agents/sales.yaml's unknown-reference messages. */
  const checkSays = (): string[] => checkWorkspace(loadWorkspace(project.dir).index).filter((d) => d.rule === "unknown-reference").map((d) => d.message);
  const serverSays = async (): Promise<string[]> => {
    const expected = checkSays();
    const ds = await server.waitForDiagnostics(project.uri("agents/sales.yaml"), (d) => JSON.stringify(d.filter((x) => x.code === "unknown-reference").map((x) => x.message)) === JSON.stringify(expected));
    return ds.filter((x) => x.code === "unknown-reference").map((x) => x.message);
  };

  it("names an excluded file once it is created, stops when it is edited to define another name or deleted", async () => {
    expect(await serverSays()).toEqual([expect.not.stringContaining("drafts/")]);
    project.write("drafts/lookup.yaml", lookup("lookup"));
    await event("drafts/lookup.yaml", FileChangeType.Created);
    expect(await serverSays()).toEqual([expect.stringContaining('drafts/lookup.yaml:2 defines it, but stellar.yaml\'s config.exclude glob "drafts/**"')]);
    project.write("drafts/lookup.yaml", "# moved\n" + lookup("lookup"));
    await event("drafts/lookup.yaml", FileChangeType.Changed);
    expect(await serverSays()).toEqual([expect.stringContaining("drafts/lookup.yaml:3 defines it")]);
    project.write("drafts/lookup.yaml", lookup("lookups"));
    await event("drafts/lookup.yaml", FileChangeType.Changed);
    expect(await serverSays()).toEqual([expect.not.stringContaining("drafts/")]);
    project.write("drafts/lookup.yaml", lookup("lookup"));
    await event("drafts/lookup.yaml", FileChangeType.Changed);
    expect(await serverSays()).toEqual([expect.stringContaining("drafts/lookup.yaml:2 defines it")]);
    rmSync(project.path("drafts"), { recursive: true });
    await event("drafts", FileChangeType.Deleted);
    expect(await serverSays()).toEqual([expect.not.stringContaining("drafts/")]);
  });

  it("follows config.exclude edited in stellar.yaml on disk", async () => {
    project.write("wip/lookup.yaml", lookup("lookup"));
    await event("wip/lookup.yaml", FileChangeType.Created);
    project.write("stellar.yaml", project.read("stellar.yaml").replace('exclude: ["drafts/**"]', 'exclude: ["drafts/**", "wip/**"]'));
    await event("stellar.yaml", FileChangeType.Changed);
    expect(await serverSays()).toEqual([expect.stringContaining('wip/lookup.yaml:2 defines it, but stellar.yaml\'s config.exclude glob "wip/**"')]);
  });
});

describe("a storm of watched-file changes (git checkout of another branch)", () => {
  it("checks each project once for 60 files deleted or created at once, and the diagnostics are those of the files as they are", async () => {
    const files: Record<string, string> = { "connections/hubspot.yaml": CONNECTION };
    const N = 60;
    for (let i = 0; i < N; i++) files[`actions/a${i}.yaml`] = action("zendesk_tokn").replace("create_ticket", `ticket_${i}`);
    const project = await makeTempProject({ development: { zendesk_token: "TEST-ONLY-not-a-real-value" } }, files);
    let checks = 0;
    const { createCoreModel } = await import("./core-model.js");
    const server = await startInMemory({
      folders: [project.dir],
      modelFactory: async (configPath, source) => {
        const model = await createCoreModel(configPath, source);
        // every check after the first: update() is a stage and a flush; a flush with nothing staged checks nothing
        const stage = model.stage.bind(model);
        const flush = model.flush.bind(model);
        let pending = false;
        model.stage = (path, text) => ((pending = true), stage(path, text));
        model.flush = () => {
          if (pending) checks++;
          pending = false;
          return flush();
        };
        model.update = (path, text) => (model.stage(path, text), model.flush());
        return model;
      },
    });
    try {
      await server.waitForDiagnostics(project.uri(`actions/a${N - 1}.yaml`), (d) => d.length > 0);
      // every action deleted, and one changed, in one notification
      checks = 0;
      for (let i = 0; i < N; i++) rmSync(project.path(`actions/a${i}.yaml`));
      project.write("connections/hubspot.yaml", CONNECTION + "auth: nowhere\n");
      const changes = [...Array(N).keys()].map((i) => ({ uri: project.uri(`actions/a${i}.yaml`), type: FileChangeType.Deleted }));
      await server.client.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [...changes, { uri: project.uri("connections/hubspot.yaml"), type: FileChangeType.Changed }] });
      await server.waitForDiagnostics(project.uri(`actions/a${N - 1}.yaml`), (d) => d.length === 0);
      await server.waitForDiagnostics(project.uri("connections/hubspot.yaml"), (d) => d.some((x) => x.code === "unknown-reference"));
      expect(checks).toBe(1);
      // and all back
      checks = 0;
      for (let i = 0; i < N; i++) project.write(`actions/a${i}.yaml`, files[`actions/a${i}.yaml`]!);
      await server.client.sendNotification(DidChangeWatchedFilesNotification.type, { changes: changes.map((c) => ({ ...c, type: FileChangeType.Created })) });
      await server.waitForDiagnostics(project.uri(`actions/a${N - 1}.yaml`), (d) => d.some((x) => x.code === "unknown-secret"));
      expect(server.published.get(project.uri("actions/a0.yaml"))!.map((d) => d.code)).toEqual(["unknown-secret"]);
      expect(checks).toBe(1);
    } finally {
      await server.dispose();
      project.remove();
    }
  });
});
