import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  DidChangeWatchedFilesNotification,
  DidChangeWorkspaceFoldersNotification,
  DocumentDiagnosticRequest,
  FileChangeType,
  HoverRequest,
  InitializedNotification,
  InitializeRequest,
  ShutdownRequest,
} from "vscode-languageserver/node";
import { createCoreModel } from "./core-model.js";
import { ProjectsRequest } from "./protocol.js";
import { initialFolders } from "./projects.js";
import { connectInMemory, makeTempProject, rangeOf, startInMemory, type InMemoryServer, type TempProject } from "./test-support/in-memory.js";
import { createTicketAction, HUBSPOT_CONNECTION } from "./test-support/fixtures.js";
import type { ModelFactory } from "./workspace.js";

const ACTION = createTicketAction("zendesk_token");
const TYPO = createTicketAction("zendesk_tokn");

describe("initialFolders: the workspace a client names in initialize", () => {
  it("takes workspaceFolders, else rootUri, else rootPath, else nothing (single-file mode)", () => {
    const folder = { uri: "file:///w/a", name: "a" };
    expect(initialFolders({ workspaceFolders: [folder], rootUri: "file:///w/b", rootPath: "/w/c" })).toEqual([folder]);
    expect(initialFolders({ workspaceFolders: null, rootUri: "file:///w/b", rootPath: "/w/c" })).toEqual([{ uri: "file:///w/b", name: "b" }]);
    // an empty list with a root: the root (clients that send both mean the root)
    expect(initialFolders({ workspaceFolders: [], rootUri: "file:///w/b" })).toEqual([{ uri: "file:///w/b", name: "b" }]);
    expect(initialFolders({ rootUri: null, rootPath: "/w/with space" })).toEqual([{ uri: pathToFileURL("/w/with space").href, name: "with space" }]);
    expect(initialFolders({ rootUri: null, rootPath: null })).toEqual([]);
    expect(initialFolders({ rootUri: null, rootPath: "relative/path" })).toEqual([]);
  });
});

/** A client that announces nothing (no workspace folders, configuration, watchers or pull diagnostics). */
const MINIMAL = { capabilities: {}, watch: false } as const;

describe("clients with minimal capabilities", () => {
  let project: TempProject;
  beforeAll(async () => {
    project = await makeTempProject({ development: { zendesk_token: "TEST-ONLY-not-a-real-value", old_token: "TEST-ONLY-not-a-real-value" } }, { "actions/create_ticket.yaml": ACTION, "connections/hubspot.yaml": HUBSPOT_CONNECTION });
  });
  afterAll(() => project.remove());

  const started: InMemoryServer[] = [];
  afterAll(async () => {
    for (const s of started) await s.dispose();
  });
  const start = async (initializeParams: Parameters<typeof startInMemory>[0]["initializeParams"]): Promise<InMemoryServer> => {
    const s = await startInMemory({ folders: [], ...MINIMAL, initializeParams });
    started.push(s);
    return s;
  };
  const unused = (s: InMemoryServer) => s.waitForDiagnostics(project.uri("secrets/development.enc.yaml"), (d) => d.some((x) => x.code === "unused-secret"));

  it("rootUri only: indexes and publishes, and sends the client no request", async () => {
    const s = await start({ rootUri: project.uri(""), workspaceFolders: null });
    await unused(s);
    expect(s.requests).toEqual([]);
  });

  it("rootPath only (no rootUri): indexes and publishes, and sends the client no request", async () => {
    const s = await start({ rootUri: null, rootPath: project.dir, workspaceFolders: null });
    await unused(s);
    expect(s.requests).toEqual([]);
  });

  it("no root at all (single-file mode): opening a file loads the project of the stellar.yaml above it", async () => {
    const s = await start({ rootUri: null, workspaceFolders: null });
    expect(await s.client.sendRequest(ProjectsRequest, {})).toEqual({ projects: [] });
    const uri = project.uri("actions/create_ticket.yaml");
    await s.open(uri, TYPO);
    const ds = await s.waitForDiagnostics(uri, (d) => d.length > 0);
    expect(ds.map((d) => [d.code, d.range])).toEqual([["unknown-secret", rangeOf(TYPO, "zendesk_tokn")]]);
    // cross-file, as in a folder: the environment file's unused names are published too
    await s.waitForDiagnostics(project.uri("secrets/development.enc.yaml"), (d) => d.some((x) => x.code === "unused-secret" && x.message.includes("zendesk_token")));
    expect((await s.client.sendRequest(ProjectsRequest, {})).projects.map((p) => p.root)).toEqual([project.dir]);
    await s.change(uri, ACTION);
    await s.waitForDiagnostics(uri, (d) => d.length === 0);
    expect(s.requests).toEqual([]);
  });

  it("no root at all, pull diagnostics: a pull sent while the opened file's project is loading waits for it", async () => {
    // the project's load is held until the pull has reached the server (a large repository on a slow disk)
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let loads = 0;
    const modelFactory: ModelFactory = async (configPath, source) => {
      loads++;
      await gate;
      return createCoreModel(configPath, source);
    };
    const s = await startInMemory({ folders: [], modelFactory, capabilities: { textDocument: { diagnostic: {} }, workspace: { diagnostics: { refreshSupport: true } } }, initializeParams: { rootUri: null, workspaceFolders: null } });
    started.push(s);
    const uri = project.uri("actions/create_ticket.yaml");
    await s.open(uri, TYPO);
    await s.waitFor(() => loads > 0, "the project's load");
    const pulled = s.client.sendRequest(DocumentDiagnosticRequest.type, { textDocument: { uri } });
    // requests are dispatched in order: once a later one is answered, the pull was handled (answered, or waiting)
    await s.client.sendRequest(ProjectsRequest, {});
    release();
    const report = await pulled;
    expect(report.kind === "full" ? report.items.map((d) => [d.code, d.range]) : report).toEqual([["unknown-secret", rangeOf(TYPO, "zendesk_tokn")]]);
  });

  it("no root at all: opening stellar.yaml itself loads its project", async () => {
    const s = await start({ rootUri: null, workspaceFolders: null });
    await s.open(project.uri("stellar.yaml"), "version: [1\n");
    await s.waitForDiagnostics(project.uri("stellar.yaml"), (d) => d.length > 0);
  });

  it("a file with no stellar.yaml above it, or of another scheme, stays without a project", async () => {
    const s = await start({ rootUri: null, workspaceFolders: null });
    await s.open("untitled:Untitled-1", TYPO);
    await s.open(pathToFileURL("/nonexistent-stellar-test/a.yaml").href, TYPO);
    expect(await s.client.sendRequest(ProjectsRequest, {})).toEqual({ projects: [] });
  });
});

describe("the initial index answers before the first check", () => {
  let project: TempProject;
  beforeAll(async () => {
    project = await makeTempProject({ development: { zendesk_token: "TEST-ONLY-not-a-real-value", old_token: "TEST-ONLY-not-a-real-value" } }, { "actions/create_ticket.yaml": TYPO });
  });
  afterAll(() => project.remove());

  it("a request sent with `initialized` is answered from the index before any diagnostics are sent; the diagnostics follow", async () => {
    const server = connectInMemory({});
    try {
      await server.client.sendRequest(InitializeRequest.type, { processId: null, rootUri: project.uri(""), capabilities: {}, workspaceFolders: null });
      await server.client.sendNotification(InitializedNotification.type, {});
      const { projects } = await server.client.sendRequest(ProjectsRequest, {});
      const publishedWhenAnswered = server.published.size;
      expect(projects.map((p) => p.secrets.map((s) => s.name))).toEqual([["old_token", "zendesk_token"]]);
      expect(publishedWhenAnswered).toBe(0);
      // then the check: the misspelt reference and the two unused names
      const typo = await server.waitForDiagnostics(project.uri("actions/create_ticket.yaml"), (d) => d.length > 0);
      expect(typo.map((d) => d.code)).toContain("unknown-secret");
      await server.waitForDiagnostics(project.uri("secrets/development.enc.yaml"), (d) => d.filter((x) => x.code === "unused-secret").length === 2);
    } finally {
      await server.dispose();
    }
  });
});

describe("workspace/didChangeWorkspaceFolders", () => {
  let a: TempProject;
  let b: TempProject;
  beforeAll(async () => {
    a = await makeTempProject({ development: { zendesk_token: "TEST-ONLY-not-a-real-value" } }, { "actions/create_ticket.yaml": ACTION, "connections/hubspot.yaml": HUBSPOT_CONNECTION });
    b = await makeTempProject({ development: { zendesk_token: "TEST-ONLY-not-a-real-value" } }, { "actions/create_ticket.yaml": TYPO, "connections/hubspot.yaml": HUBSPOT_CONNECTION });
  });
  afterAll(() => {
    a.remove();
    b.remove();
  });
  const folder = (p: TempProject, name: string) => ({ uri: p.uri(""), name });
  const roots = async (s: InMemoryServer) => (await s.client.sendRequest(ProjectsRequest, {})).projects.map((p) => p.root);
  const capabilities = { workspace: { workspaceFolders: true, configuration: true, didChangeWatchedFiles: { dynamicRegistration: true } } };

  it("adds a folder's project (its diagnostics published) and drops a removed folder's (its diagnostics cleared)", async () => {
    const s = await startInMemory({ folders: [a.dir] });
    try {
      await s.client.sendNotification(DidChangeWorkspaceFoldersNotification.type, { event: { added: [folder(b, "b")], removed: [] } });
      await s.waitForDiagnostics(b.uri("actions/create_ticket.yaml"), (d) => d.some((x) => x.code === "unknown-secret"));
      expect(await roots(s)).toEqual([a.dir, b.dir].sort());
      await s.client.sendNotification(DidChangeWorkspaceFoldersNotification.type, { event: { added: [], removed: [folder(b, "b")] } });
      await s.waitForDiagnostics(b.uri("actions/create_ticket.yaml"), (d) => d.length === 0);
      expect(await roots(s)).toEqual([a.dir]);
    } finally {
      await s.dispose();
    }
  });

  it("a folder removed while a disk change of it is re-checked (its stellar.yaml and config files reported changed): nothing of it is published after its diagnostics are cleared, and the folder added again is indexed again", async () => {
    const c = await makeTempProject({ development: { zendesk_token: "TEST-ONLY-not-a-real-value" } }, { "actions/create_ticket.yaml": TYPO, "connections/hubspot.yaml": HUBSPOT_CONNECTION });
    for (let i = 0; i < 40; i++) c.write(`actions/more_${i}.yaml`, createTicketAction(`zendesk_tok${i}`).replace("create_ticket", `more_${i}`));
    const uri = c.uri("actions/create_ticket.yaml");
    const cUris = (u: string): boolean => u.startsWith(`${c.uri("")}/`);
    // sliceMs 0: the re-check lets other messages through after every piece, as a large project's does after 20 ms
    const s = await startInMemory({ folders: [a.dir, c.dir], capabilities, sliceMs: 0 });
    try {
      await s.waitForDiagnostics(uri, (d) => d.some((x) => x.code === "unknown-secret"));
      await s.waitForDiagnostics(c.uri("actions/more_39.yaml"), (d) => d.some((x) => x.code === "unknown-secret"));
      for (let round = 0; round < 3; round++) {
        // stellar.yaml and every config file changed on disk (a git checkout), and the folder removed at once
        c.write("stellar.yaml", `${c.read("stellar.yaml")}# ${round}\n`);
        const changes = [c.uri("stellar.yaml"), uri, ...Array.from({ length: 40 }, (_, i) => c.uri(`actions/more_${i}.yaml`))].map((u) => ({ uri: u, type: FileChangeType.Changed }));
        void s.client.sendNotification(DidChangeWatchedFilesNotification.type, { changes });
        await s.client.sendNotification(DidChangeWorkspaceFoldersNotification.type, { event: { added: [], removed: [folder(c, "c")] } });
        await s.waitFor(async () => (await roots(s)).length === 1 && [...s.published].filter(([u, d]) => cUris(u) && d.length > 0).length === 0, "the folder's diagnostics cleared");
        const cleared = s.publishedLog.length;
        // everything settles (the re-check, the reload): nothing of the removed folder comes after the clear
        await new Promise((r) => setTimeout(r, 600));
        expect(await roots(s)).toEqual([a.dir]);
        expect(s.publishedLog.slice(cleared).filter((p) => cUris(p.uri) && p.count > 0)).toEqual([]);
        expect([...s.published].filter(([u, d]) => cUris(u) && d.length > 0)).toEqual([]);
        // added again: indexed again
        await s.client.sendNotification(DidChangeWorkspaceFoldersNotification.type, { event: { added: [folder(c, "c")], removed: [] } });
        await s.waitForDiagnostics(uri, (d) => d.some((x) => x.code === "unknown-secret"));
        await s.waitForDiagnostics(c.uri("actions/more_39.yaml"), (d) => d.some((x) => x.code === "unknown-secret"));
        expect(await roots(s)).toEqual([a.dir, c.dir].sort());
      }
    } finally {
      await s.dispose();
      c.remove();
    }
  });

  it("a folder removed while its project is being reloaded (its stellar.yaml changed on disk): the reload that ends after the removal does not bring the project back, nor publish its diagnostics", async () => {
    const c = await makeTempProject({ development: { zendesk_token: "TEST-ONLY-not-a-real-value" } }, { "actions/create_ticket.yaml": TYPO, "connections/hubspot.yaml": HUBSPOT_CONNECTION });
    const uri = c.uri("actions/create_ticket.yaml");
    const cUris = (u: string): boolean => u.startsWith(`${c.uri("")}/`);
    // the reload of c's project waits until the test lets it go (a large project's load takes seconds)
    let hold: Promise<void> | undefined;
    let entered = false;
    const modelFactory: ModelFactory = async (configPath, source) => {
      if (hold !== undefined && configPath === c.path("stellar.yaml")) {
        entered = true;
        await hold;
      }
      return createCoreModel(configPath, source);
    };
    const s = await startInMemory({ folders: [a.dir, c.dir], capabilities, modelFactory });
    try {
      await s.waitForDiagnostics(uri, (d) => d.some((x) => x.code === "unknown-secret"));
      let release!: () => void;
      hold = new Promise((r) => (release = r));
      c.write("stellar.yaml", `${c.read("stellar.yaml")}# changed\n`);
      await s.client.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: c.uri("stellar.yaml"), type: FileChangeType.Changed }] });
      await s.waitFor(() => entered, "the reload under way");
      await s.client.sendNotification(DidChangeWorkspaceFoldersNotification.type, { event: { added: [], removed: [folder(c, "c")] } });
      await s.waitFor(async () => (await roots(s)).length === 1 && (s.published.get(uri)?.length ?? 0) === 0, "the folder's diagnostics cleared");
      const cleared = s.publishedLog.length;
      hold = undefined;
      release();
      await new Promise((r) => setTimeout(r, 500));
      // before: the reload put the project back (roots [a, c]) and published its unknown-secret again
      expect(await roots(s)).toEqual([a.dir]);
      expect(s.publishedLog.slice(cleared).filter((p) => cUris(p.uri) && p.count > 0)).toEqual([]);
      // added again: indexed again
      await s.client.sendNotification(DidChangeWorkspaceFoldersNotification.type, { event: { added: [folder(c, "c")], removed: [] } });
      await s.waitForDiagnostics(uri, (d) => d.some((x) => x.code === "unknown-secret"));
      expect(await roots(s)).toEqual([a.dir, c.dir].sort());
    } finally {
      await s.dispose();
      c.remove();
    }
  });

  it("a file still open when its folder is removed keeps its project (a file outside every folder from then on): diagnostics, hover and edits keep working", async () => {
    const s = await startInMemory({ folders: [a.dir, b.dir] });
    const uri = b.uri("actions/create_ticket.yaml");
    try {
      await s.open(uri, TYPO);
      await s.waitForDiagnostics(uri, (d) => d.some((x) => x.code === "unknown-secret"));
      const indexed = () => s.logs.filter((l) => /^\[stellar-secrets\] indexed /.test(l)).length;
      const before = indexed();
      await s.client.sendNotification(DidChangeWorkspaceFoldersNotification.type, { event: { added: [], removed: [folder(b, "b")] } });
      await s.waitFor(() => indexed() > before, "the load after the removal");
      expect(await roots(s)).toEqual([a.dir, b.dir].sort());
      const hover = await s.client.sendRequest(HoverRequest.type, { textDocument: { uri }, position: rangeOf(TYPO, "zendesk_tokn").start });
      expect(hover?.range).toEqual(rangeOf(TYPO, "zendesk_tokn"));
      await s.change(uri, createTicketAction("zendesk_tokx"));
      const ds = await s.waitForDiagnostics(uri, (d) => d.some((x) => x.code === "unknown-secret" && x.range.end.character === rangeOf(createTicketAction("zendesk_tokx"), "zendesk_tokx").end.character && String(x.message).includes("zendesk_tokx")));
      expect(ds.map((d) => d.code)).toEqual(["unknown-secret"]);
    } finally {
      await s.dispose();
    }
  });

  it("a folder named with a trailing slash (eglot) is that folder: a project created in it is found, and removing it by either spelling removes it", async () => {
    const s = await startInMemory({ folders: [], initializeParams: { workspaceFolders: [{ uri: `${a.uri("")}/`, name: "a" }] } });
    const nested = `nested-${Date.now()}`;
    try {
      expect(await roots(s)).toEqual([a.dir]);
      // a stellar.yaml created inside the folder: a project of its own
      a.write(`${nested}/stellar.yaml`, "version: 1\nenvironments:\n  development:\n    members: {}\n");
      await s.client.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: a.uri(`${nested}/stellar.yaml`), type: FileChangeType.Created }] });
      await s.waitFor(async () => (await roots(s)).length === 2, "the nested project");
      expect(await roots(s)).toEqual([a.dir, a.path(nested)]);
      await s.client.sendNotification(DidChangeWorkspaceFoldersNotification.type, { event: { added: [], removed: [folder(a, "a")] } });
      await s.waitFor(async () => (await roots(s)).length === 0, "the folder removed");
    } finally {
      await s.dispose();
      rmSync(a.path(nested), { recursive: true, force: true });
    }
  });

  it("a folder added right after initialized, while the client has not yet answered the watcher registration, is not lost", async () => {
    const s = connectInMemory({ clientAnswers: "late", lateAnswerMs: 150 });
    try {
      await s.client.sendRequest(InitializeRequest.type, { processId: null, rootUri: null, capabilities, workspaceFolders: [folder(a, "a")] });
      await s.client.sendNotification(InitializedNotification.type, {});
      await s.client.sendNotification(DidChangeWorkspaceFoldersNotification.type, { event: { added: [folder(b, "b")], removed: [] } });
      await s.waitForDiagnostics(b.uri("actions/create_ticket.yaml"), (d) => d.some((x) => x.code === "unknown-secret"));
      expect(await roots(s)).toEqual([a.dir, b.dir].sort());
    } finally {
      await s.dispose();
    }
  });

  it("a folder added then removed while its project is still loading stays removed (the loads run one after the other)", async () => {
    // b's project loads slowly (a large repository on a slow disk): its removal arrives meanwhile
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let bLoads = 0;
    const modelFactory: ModelFactory = async (configPath, source) => {
      if (configPath === b.path("stellar.yaml")) {
        bLoads++;
        await gate;
      }
      return createCoreModel(configPath, source);
    };
    const s = await startInMemory({ folders: [a.dir], modelFactory });
    try {
      const indexed = () => s.logs.filter((l) => /^\[stellar-secrets\] indexed /.test(l)).length;
      await s.client.sendNotification(DidChangeWorkspaceFoldersNotification.type, { event: { added: [folder(b, "b")], removed: [] } });
      await s.waitFor(() => bLoads > 0, "b's load");
      await s.client.sendNotification(DidChangeWorkspaceFoldersNotification.type, { event: { added: [], removed: [folder(b, "b")] } });
      await s.client.sendRequest(ProjectsRequest, {}); // the removal was handled
      await new Promise((r) => setTimeout(r, 50)); // its settings asked for, its load under way (or waiting)
      release();
      await s.waitFor(() => indexed() === 3, "the two loads after the initial index");
      expect(await roots(s)).toEqual([a.dir]);
    } finally {
      await s.dispose();
    }
  });

  it("a project that cannot be loaded (its stellar.yaml gone or unreadable since it was found) is logged, and the others are still loaded", async () => {
    // the first project in load order fails (before, its failure ended the initial index: no project after it was loaded)
    const [first, second] = [a, b].sort((x, y) => (x.dir < y.dir ? -1 : 1)) as [TempProject, TempProject];
    const modelFactory: ModelFactory = async (configPath, source) => {
      if (configPath === first.path("stellar.yaml")) throw new Error("EACCES: permission denied, open 'stellar.yaml'");
      return createCoreModel(configPath, source);
    };
    const s = await startInMemory({ folders: [a.dir, b.dir], modelFactory });
    try {
      expect(await roots(s)).toEqual([second.dir]);
      // and checked: b's typo is reported when b is the project that loads
      if (second === b) await s.waitForDiagnostics(b.uri("actions/create_ticket.yaml"), (d) => d.some((x) => x.code === "unknown-secret"));
      expect(s.logs.some((l) => l.includes(`loading the project of ${first.path("stellar.yaml")}`) && l.includes("EACCES"))).toBe(true);
    } finally {
      await s.dispose();
    }
  });

  it("follows a folder change from a client that did not announce workspace.workspaceFolders (the server says it takes them)", async () => {
    const s = await startInMemory({ folders: [a.dir], capabilities: { workspace: { configuration: true } } });
    try {
      await s.client.sendNotification(DidChangeWorkspaceFoldersNotification.type, { event: { added: [folder(b, "b")], removed: [folder(a, "a")] } });
      await s.waitForDiagnostics(b.uri("actions/create_ticket.yaml"), (d) => d.some((x) => x.code === "unknown-secret"));
      expect(await roots(s)).toEqual([b.dir]);
    } finally {
      await s.dispose();
    }
  });

  it("a folder added by a client that never sends initialized is not lost", async () => {
    const s = connectInMemory();
    try {
      await s.client.sendRequest(InitializeRequest.type, { processId: null, rootUri: null, capabilities: { workspace: { workspaceFolders: true } }, workspaceFolders: [folder(a, "a")] });
      await s.client.sendNotification(DidChangeWorkspaceFoldersNotification.type, { event: { added: [folder(b, "b")], removed: [] } });
      await s.waitForDiagnostics(b.uri("actions/create_ticket.yaml"), (d) => d.some((x) => x.code === "unknown-secret"));
      expect(await roots(s)).toEqual([a.dir, b.dir].sort());
    } finally {
      await s.dispose();
    }
  });
});

describe("a document whose URI reaches a project's file another way (a symbolic link on the way; on a case-insensitive file system, another case)", () => {
  let project: TempProject;
  let link: string;
  beforeAll(async () => {
    project = await makeTempProject({ development: { zendesk_token: "TEST-ONLY-not-a-real-value" } }, { "actions/create_ticket.yaml": TYPO, "connections/hubspot.yaml": HUBSPOT_CONNECTION });
    link = `${project.dir}-link`;
    symlinkSync(project.dir, link);
  });
  afterAll(() => {
    rmSync(link, { force: true });
    project.remove();
  });

  it("is the project's file: no second project, its diagnostics under the client's URI, the other files' only under the folder's", async () => {
    const s = await startInMemory({ folders: [project.dir] });
    try {
      const canonical = project.uri("actions/create_ticket.yaml");
      await s.waitForDiagnostics(canonical, (d) => d.some((x) => x.code === "unknown-secret"));
      const uri = pathToFileURL(join(link, "actions/create_ticket.yaml")).href;
      await s.open(uri, TYPO);
      const ds = await s.waitForDiagnostics(uri, (d) => d.some((x) => x.code === "unknown-secret"));
      expect(ds.map((d) => [d.code, d.range])).toEqual([["unknown-secret", rangeOf(TYPO, "zendesk_tokn")]]);
      await s.waitForDiagnostics(canonical, (d) => d.length === 0);
      const hover = await s.client.sendRequest(HoverRequest.type, { textDocument: { uri }, position: rangeOf(TYPO, "zendesk_tokn").start });
      expect(hover?.range).toEqual(rangeOf(TYPO, "zendesk_tokn"));
      expect((await s.client.sendRequest(ProjectsRequest, {})).projects.map((p) => p.root)).toEqual([project.dir]);
      // nothing is published under the link's spelling but the open document
      expect([...s.published.keys()].filter((u) => u.startsWith(pathToFileURL(link).href) && u !== uri)).toEqual([]);
      // an edit through the link is an edit of the project's file
      await s.change(uri, ACTION);
      await s.waitForDiagnostics(uri, (d) => d.length === 0);
      await s.waitForDiagnostics(project.uri("secrets/development.enc.yaml"), (d) => d.length === 0);
    } finally {
      await s.dispose();
    }
  });
});

describe("the check after the initial index, with many projects (a client started in / or the home folder)", () => {
  it("lets shutdown through between projects, and checks no further project once it came", async () => {
    const subprojects: Record<string, string> = {};
    for (let i = 0; i < 9; i++) subprojects[`p${i}/stellar.yaml`] = "version: 1\nenvironments:\n  development:\n    members: {}\n";
    const project = await makeTempProject({ development: {} }, subprojects);
    // each project's first check takes 40 ms (a large project), twice the check's slice (CHECK_SLICE_MS)
    let checked = 0;
    let atShutdown: number | undefined;
    let shutdown: Promise<unknown> | undefined;
    let server: InMemoryServer | undefined;
    const modelFactory: ModelFactory = async (configPath, source) => {
      const model = await createCoreModel(configPath, source);
      const diagnostics = model.diagnostics.bind(model);
      let first = true;
      model.diagnostics = (path) => {
        if (first) {
          first = false;
          checked++;
          const until = Date.now() + 40;
          while (Date.now() < until);
          // the client sends shutdown while the first project is checked
          if (checked === 1 && server !== undefined) shutdown = server.client.sendRequest(ShutdownRequest.type);
        }
        return diagnostics(path);
      };
      return model;
    };
    try {
      server = connectInMemory({ modelFactory });
      const s = server;
      s.state.onShutdown(() => (atShutdown = checked));
      await s.client.sendRequest(InitializeRequest.type, { processId: null, rootUri: project.uri(""), capabilities: {}, workspaceFolders: null });
      await s.client.sendNotification(InitializedNotification.type, {});
      await s.waitFor(() => shutdown !== undefined, "the check of the first project");
      expect(await Promise.race([shutdown!.then(() => "answered"), new Promise((r) => setTimeout(() => r("no answer"), 5000))])).toBe("answered");
      await s.state.checked;
      await new Promise((r) => setTimeout(r, 100));
      // answered after a project or two, not after all ten; the check stopped there, and published nothing
      expect(atShutdown).toBeGreaterThanOrEqual(1);
      expect(atShutdown).toBeLessThan(5);
      expect(checked).toBe(atShutdown);
      expect(s.published.size).toBe(0);
    } finally {
      await server?.dispose();
      project.remove();
    }
  });
});
