import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CancellationTokenSource,
  DiagnosticSeverity,
  DidChangeWatchedFilesNotification,
  DocumentDiagnosticReportKind,
  DocumentDiagnosticRequest,
  ErrorCodes,
  LSPErrorCodes,
  ShutdownRequest,
  WorkspaceDiagnosticRequest,
  type DocumentDiagnosticReport,
  type WorkspaceDiagnosticReport,
} from "vscode-languageserver/node";
import { MAX_DIAGNOSTICS_PER_FILE, TOO_MANY_DIAGNOSTICS } from "./diagnostics.js";
import { makeTempProject, rangeOf, startInMemory, type InMemoryServer, type TempProject } from "./test-support/in-memory.js";
import { createTicketAction, HUBSPOT_CONNECTION } from "./test-support/fixtures.js";

const ACTION = createTicketAction("zendesk_tokn");
const CONNECTION = HUBSPOT_CONNECTION;

describe("diagnostics publisher, push mode (no pull support)", () => {
  let project: TempProject;
  let server: InMemoryServer;
  beforeAll(async () => {
    project = await makeTempProject({ development: { zendesk_token: "TEST-ONLY-not-a-real-value" } }, { "actions/create_ticket.yaml": ACTION, "connections/hubspot.yaml": CONNECTION });
    server = await startInMemory({ folders: [project.dir] });
  });
  afterAll(async () => {
    await server.dispose();
    project.remove();
  });

  it("publishes every indexed file's diagnostics after the initial index, without any file open", async () => {
    const ds = await server.waitForDiagnostics(project.uri("actions/create_ticket.yaml"), (d) => d.length > 0);
    expect(ds.map((d) => [d.code, d.range])).toEqual([["unknown-secret", rangeOf(ACTION, "zendesk_tokn")]]);
    expect(ds[0]!.data).toEqual({ secret: "zendesk_tokn", suggestion: "zendesk_token" });
    expect(server.capabilities.diagnosticProvider).toBeUndefined();
  });

  it("publishes an empty list once a file's last diagnostic is gone, and nothing for a file that never had one", async () => {
    const uri = project.uri("actions/create_ticket.yaml");
    await server.open(uri, ACTION);
    await server.change(uri, ACTION.replace("zendesk_tokn", "zendesk_token"));
    await server.waitForDiagnostics(uri, (d) => d.length === 0);
    expect(server.published.has(project.uri("connections/hubspot.yaml"))).toBe(false);
  });

  it("gives a file at most MAX_DIAGNOSTICS_PER_FILE diagnostics, the first in file order, and one summary of how many there are", async () => {
    const uri = project.uri("actions/many.yaml");
    const headers = Array.from({ length: MAX_DIAGNOSTICS_PER_FILE + 3 }, (_, i) => `  - { name: X-H${i}, type: secret, secret: missing_${i} }`);
    const text = `kind: action\nname: many\nconnection: hubspot\nmethod: GET\npath: /x\nheaders:\n${headers.join("\n")}\n`;
    await server.open(uri, text);
    const ds = await server.waitForDiagnostics(uri, (d) => d.length > 0);
    expect(ds).toHaveLength(MAX_DIAGNOSTICS_PER_FILE + 1);
    expect(ds.slice(0, MAX_DIAGNOSTICS_PER_FILE).every((d) => d.code === "unknown-secret")).toBe(true);
    expect(ds[0]!.range).toEqual(rangeOf(text, "missing_0"));
    expect(ds[MAX_DIAGNOSTICS_PER_FILE - 1]!.range).toEqual(rangeOf(text, `missing_${MAX_DIAGNOSTICS_PER_FILE - 1}`, `X-H${MAX_DIAGNOSTICS_PER_FILE - 1},`));
    const summary = ds[MAX_DIAGNOSTICS_PER_FILE]!;
    expect([summary.code, summary.severity, summary.range]).toEqual([TOO_MANY_DIAGNOSTICS, DiagnosticSeverity.Information, { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }]);
    expect(summary.message).toContain((MAX_DIAGNOSTICS_PER_FILE + 3).toLocaleString("en-US"));
    await server.close(uri);
  });
});

describe("diagnostics publisher, a client that announces pull diagnostics but no refresh", () => {
  it("gets them pushed, every indexed file's (it could never be told to pull again after a change elsewhere)", async () => {
    const project = await makeTempProject({ development: { zendesk_token: "TEST-ONLY-not-a-real-value" } }, { "actions/create_ticket.yaml": ACTION, "connections/hubspot.yaml": CONNECTION });
    // what Neovim 0.10 and 0.11 announce: pull diagnostics, and no workspace.diagnostics.refreshSupport
    const server = await startInMemory({ folders: [project.dir], capabilities: { textDocument: { diagnostic: { dynamicRegistration: false } }, workspace: { configuration: true, workspaceFolders: true } } });
    try {
      expect(server.capabilities.diagnosticProvider).toBeUndefined();
      const ds = await server.waitForDiagnostics(project.uri("actions/create_ticket.yaml"), (d) => d.length > 0);
      expect(ds.map((d) => [d.code, d.range])).toEqual([["unknown-secret", rangeOf(ACTION, "zendesk_tokn")]]);
    } finally {
      await server.dispose();
      project.remove();
    }
  });
});

describe("diagnostics publisher, pull mode", () => {
  let project: TempProject;
  let server: InMemoryServer;
  beforeAll(async () => {
    project = await makeTempProject(
      { development: { zendesk_token: "TEST-ONLY-not-a-real-value", legacy: "TEST-ONLY-unused" } },
      { "actions/create_ticket.yaml": ACTION, "connections/hubspot.yaml": CONNECTION },
    );
    server = await startInMemory({ folders: [project.dir], pull: true });
  });
  afterAll(async () => {
    await server.dispose();
    project.remove();
  });

  const pullDoc = (uri: string, previousResultId?: string): Promise<DocumentDiagnosticReport> =>
    server.client.sendRequest(DocumentDiagnosticRequest.type, { textDocument: { uri }, ...(previousResultId === undefined ? {} : { previousResultId }) });

  it("announces pull diagnostics and publishes nothing", () => {
    expect(server.capabilities.diagnosticProvider).toEqual({ identifier: "stellar-secrets", interFileDependencies: true, workspaceDiagnostics: true });
    expect(server.published.size).toBe(0);
  });

  it("answers with a result id, Unchanged for the same id, and a new id after the file changes", async () => {
    const uri = project.uri("actions/create_ticket.yaml");
    const first = await pullDoc(uri);
    expect(first.kind).toBe(DocumentDiagnosticReportKind.Full);
    if (first.kind !== DocumentDiagnosticReportKind.Full) return;
    expect(first.items.map((d) => d.code)).toEqual(["unknown-secret"]);
    expect(first.resultId).toMatch(/^[1-9][0-9]*$/);
    expect(await pullDoc(uri, first.resultId)).toEqual({ kind: DocumentDiagnosticReportKind.Unchanged, resultId: first.resultId });

    const refreshes = server.refreshes;
    project.write("actions/create_ticket.yaml", ACTION.replace("zendesk_tokn", "zendesk_token"));
    await server.client.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri, type: 2 }] });
    await server.waitFor(() => server.refreshes > refreshes, "a diagnostic refresh");
    const second = await pullDoc(uri, first.resultId);
    expect(second.kind).toBe(DocumentDiagnosticReportKind.Full);
    if (second.kind !== DocumentDiagnosticReportKind.Full) return;
    expect(Number(second.resultId)).toBeGreaterThan(Number(first.resultId));
    expect(second.items).toEqual([]);
  });

  it("a file outside every project: an empty full report with result id 0", async () => {
    expect(await pullDoc(project.uri("../elsewhere.yaml"))).toEqual({ kind: DocumentDiagnosticReportKind.Full, resultId: "0", items: [] });
    expect(await pullDoc("untitled:Untitled-1")).toEqual({ kind: DocumentDiagnosticReportKind.Full, items: [] });
  });

  it("workspace/diagnostic reports changed files only, and holds the request until something changes", async () => {
    const uri = project.uri("connections/hubspot.yaml");
    const all = (await server.client.sendRequest(WorkspaceDiagnosticRequest.type, { previousResultIds: [] })) as WorkspaceDiagnosticReport;
    const known = all.items.map((i) => ({ uri: i.uri, value: (i as { resultId: string }).resultId }));
    // only files with diagnostics: the unused secret in the environment file
    expect(all.items.map((i) => [i.uri, i.kind === DocumentDiagnosticReportKind.Full ? i.items.map((d) => d.code) : []])).toEqual([
      [project.uri("secrets/development.enc.yaml"), ["unused-secret"]],
    ]);

    let answered = false;
    const held = server.client.sendRequest(WorkspaceDiagnosticRequest.type, { previousResultIds: known }).then((r) => {
      answered = true;
      return r as WorkspaceDiagnosticReport;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(answered).toBe(false); // nothing changed: the long poll waits

    project.write("connections/hubspot.yaml", CONNECTION + "auth: nowhere\n");
    await server.client.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri, type: 2 }] });
    const report = await held;
    const item = report.items.find((i) => i.uri === uri);
    expect(item?.kind).toBe(DocumentDiagnosticReportKind.Full);
    expect(item?.version).toBeNull();
    expect(item?.kind === DocumentDiagnosticReportKind.Full && item.items.length > 0).toBe(true);
  });

  it("a document pull cancelled while the workspace is still being checked is answered at once with RequestCancelled; one not cancelled once the check is done", async () => {
    const uri = project.uri("actions/create_ticket.yaml");
    // the initial check of a large workspace (seconds, with requests answered meanwhile), held until the test releases it
    const checked = server.state.checked;
    let release!: () => void;
    server.state.checked = new Promise<void>((r) => (release = r));
    try {
      const source = new CancellationTokenSource();
      const cancelled = server.client.sendRequest(DocumentDiagnosticRequest.type, { textDocument: { uri } }, source.token).then(
        () => "answered",
        (e: unknown) => (e as { code?: number }).code,
      );
      let keptDone = false;
      const kept = pullDoc(uri).then((r) => ((keptDone = true), r));
      await new Promise((r) => setTimeout(r, 50));
      source.cancel();
      expect(await Promise.race([cancelled, new Promise((r) => setTimeout(() => r("still waiting for the check"), 3000))])).toBe(LSPErrorCodes.RequestCancelled);
      expect(keptDone).toBe(false);
      release();
      expect((await kept).kind).toBe(DocumentDiagnosticReportKind.Full);
    } finally {
      release();
      server.state.checked = checked;
    }
  });

  it("a cancelled workspace/diagnostic long poll is answered at once ($/cancelRequest), never left hanging", async () => {
    const all = (await server.client.sendRequest(WorkspaceDiagnosticRequest.type, { previousResultIds: [] })) as WorkspaceDiagnosticReport;
    const known = all.items.map((i) => ({ uri: i.uri, value: (i as { resultId: string }).resultId }));
    const source = new CancellationTokenSource();
    const held = server.client.sendRequest(WorkspaceDiagnosticRequest.type, { previousResultIds: known }, source.token).then(
      (r) => ({ items: (r as WorkspaceDiagnosticReport).items }),
      (e: unknown) => ({ code: (e as { code?: number }).code }),
    );
    source.cancel();
    // the result (nothing changed) or RequestCancelled: either is an answer
    expect([{ items: [] }, { code: ErrorCodes.RequestCancelled }]).toContainEqual(await held);
  });
});

describe("a workspace/diagnostic long poll at shutdown", () => {
  it("is answered when shutdown comes (with what changed: possibly nothing), never left hanging", async () => {
    const project = await makeTempProject({ development: { zendesk_token: "TEST-ONLY-not-a-real-value" } });
    const server = await startInMemory({ folders: [project.dir], pull: true });
    try {
      const all = (await server.client.sendRequest(WorkspaceDiagnosticRequest.type, { previousResultIds: [] })) as WorkspaceDiagnosticReport;
      const known = all.items.map((i) => ({ uri: i.uri, value: (i as { resultId: string }).resultId }));
      let answered: WorkspaceDiagnosticReport | undefined;
      const held = server.client.sendRequest(WorkspaceDiagnosticRequest.type, { previousResultIds: known }).then((r) => (answered = r as WorkspaceDiagnosticReport));
      await new Promise((r) => setTimeout(r, 50));
      expect(answered).toBeUndefined(); // nothing changed: held
      await server.client.sendRequest(ShutdownRequest.type);
      expect(await Promise.race([held, new Promise((r) => setTimeout(() => r("still held"), 2000))])).toEqual({ items: [] });
    } finally {
      await server.dispose();
      project.remove();
    }
  });
});

describe("a client that pulls diagnostics but never sends workspace/diagnostic (newer Neovim)", () => {
  it("gets the diagnostics of the files it has not pulled pushed, an open pulled file's cleared, a closed one's pushed again, and nothing once it sends workspace/diagnostic", async () => {
    const project = await makeTempProject(
      { development: { zendesk_token: "TEST-ONLY-not-a-real-value", legacy: "TEST-ONLY-unused" } },
      { "actions/create_ticket.yaml": ACTION, "connections/hubspot.yaml": CONNECTION },
    );
    const server = await startInMemory({ folders: [project.dir], pull: true, workspacePullWaitMs: 50 });
    const actionUri = project.uri("actions/create_ticket.yaml");
    const envUri = project.uri("secrets/development.enc.yaml");
    const pullDoc = (uri: string) => server.client.sendRequest(DocumentDiagnosticRequest.type, { textDocument: { uri } });
    // a round trip: whatever the server sent before answering has arrived
    const barrier = () => pullDoc(project.uri("connections/hubspot.yaml"));
    try {
      expect(server.capabilities.diagnosticProvider).toMatchObject({ workspaceDiagnostics: true });
      // the closed files' diagnostics, pushed once no workspace/diagnostic came
      // legacy, and zendesk_token (the action names zendesk_tokn)
      expect((await server.waitForDiagnostics(envUri, (d) => d.length > 0)).map((d) => d.code)).toEqual(["unused-secret", "unused-secret"]);
      expect((await server.waitForDiagnostics(actionUri, (d) => d.length > 0)).map((d) => d.code)).toEqual(["unknown-secret"]);
      expect(server.logs.some((l) => l.includes("sent no workspace/diagnostic"))).toBe(true);

      // opened and pulled: its pushed list is cleared (the client keeps pulled and pushed lists apart: shown twice otherwise)
      await server.open(actionUri, ACTION);
      const pulled = await pullDoc(actionUri);
      expect(pulled.kind === DocumentDiagnosticReportKind.Full && pulled.items.map((d) => d.code)).toEqual(["unknown-secret"]);
      await server.waitForDiagnostics(actionUri, (d) => d.length === 0);
      // and not pushed while it stays open, though its diagnostics change
      const refreshes = server.refreshes;
      await server.change(actionUri, ACTION.replace("zendesk_tokn", "zendesk_tokx"));
      await server.waitFor(() => server.refreshes > refreshes, "a diagnostic refresh");
      await barrier();
      expect(server.published.get(actionUri)).toEqual([]);

      // closed: the client drops what it pulled; the disk's diagnostics are pushed again
      await server.close(actionUri);
      expect((await server.waitForDiagnostics(actionUri, (d) => d.length > 0)).map((d) => [d.code, d.range])).toEqual([["unknown-secret", rangeOf(ACTION, "zendesk_tokn")]]);

      // a workspace/diagnostic after all: every pushed list is cleared and nothing is pushed any more
      const ws = (await server.client.sendRequest(WorkspaceDiagnosticRequest.type, { previousResultIds: [] })) as WorkspaceDiagnosticReport;
      expect(ws.items.map((i) => i.uri).sort()).toEqual([actionUri, envUri].sort());
      await server.waitForDiagnostics(envUri, (d) => d.length === 0);
      await server.waitForDiagnostics(actionUri, (d) => d.length === 0);
      project.write("actions/create_ticket.yaml", ACTION.replace("zendesk_tokn", "zendesk_tokz"));
      const before = server.refreshes;
      await server.client.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: actionUri, type: 2 }] });
      await server.waitFor(() => server.refreshes > before, "a diagnostic refresh");
      await barrier();
      expect(server.published.get(actionUri)).toEqual([]);
    } finally {
      await server.dispose();
      project.remove();
    }
  });

  it("pushes nothing to a client that sends workspace/diagnostic at once (VS Code: pushed and pulled lists would both show)", async () => {
    const project = await makeTempProject({ development: { zendesk_token: "TEST-ONLY-not-a-real-value", legacy: "TEST-ONLY-unused" } }, { "actions/create_ticket.yaml": ACTION });
    const server = await startInMemory({ folders: [project.dir], pull: true, workspacePullWaitMs: 300 });
    try {
      // as vscode-languageclient does as soon as the server announces workspace diagnostics
      const ws = (await server.client.sendRequest(WorkspaceDiagnosticRequest.type, { previousResultIds: [] })) as WorkspaceDiagnosticReport;
      expect(ws.items.length).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 400)); // past the wait
      await server.client.sendRequest(DocumentDiagnosticRequest.type, { textDocument: { uri: project.uri("actions/create_ticket.yaml") } });
      expect(server.published.size).toBe(0);
      expect(server.logs.some((l) => l.includes("sent no workspace/diagnostic"))).toBe(false);
    } finally {
      await server.dispose();
      project.remove();
    }
  });
});

describe("the diagnostics of many files at once (push mode)", () => {
  it("go out a slice at a time: a request sent meanwhile is answered before the last file's; none go out after shutdown", async () => {
    const files: Record<string, string> = { "connections/hubspot.yaml": CONNECTION };
    // (150, not 30: the client reads what the server wrote in chunks, and under a loaded CI a chunk
    // held the answer and every one of 30 files' notifications, all handled before the await resumed)
    const FILES = 150;
    for (let i = 0; i < FILES; i++) files[`actions/a${i}.yaml`] = ACTION.replace("create_ticket", `ticket_${i}`);
    const project = await makeTempProject({ development: { zendesk_token: "TEST-ONLY-not-a-real-value" } }, files);
    // slices of 0 ms: one file at a time
    const server = await startInMemory({ folders: [project.dir], sliceMs: 0 });
    const actions = (): number => [...server.published.keys()].filter((u) => u.includes("/actions/a")).length;
    try {
      // the initial index's diagnostics are under way: a request is answered between two files
      await server.client.sendRequest(DocumentDiagnosticRequest.type, { textDocument: { uri: project.uri("actions/a0.yaml") } }).catch(() => undefined);
      const atAnswer = actions();
      expect(atAnswer).toBeLessThan(FILES);
      await server.waitFor(() => actions() === FILES, "every action's diagnostics");
      expect(server.published.get(project.uri(`actions/a${FILES - 1}.yaml`))!.map((d) => d.code)).toEqual(["unknown-secret"]);
      // a change of every file again (the connection they use is renamed), then shutdown: the files not yet sent are not sent
      server.published.clear();
      project.write("connections/hubspot.yaml", CONNECTION.replace("name: hubspot", "name: hubspot_eu"));
      await server.client.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: project.uri("connections/hubspot.yaml"), type: 2 }] });
      await server.client.sendRequest(ShutdownRequest.type);
      await new Promise((r) => setTimeout(r, 300));
      expect(actions()).toBeLessThan(FILES);
    } finally {
      await server.dispose();
      project.remove();
    }
  });
});

describe("a first workspace/diagnostic of many files (pull mode)", () => {
  it("is collected a slice at a time: a request sent after it is answered first; the report still holds every file", async () => {
    const files: Record<string, string> = { "connections/hubspot.yaml": CONNECTION };
    const FILES = 30;
    for (let i = 0; i < FILES; i++) files[`actions/a${i}.yaml`] = ACTION.replace("create_ticket", `ticket_${i}`);
    const project = await makeTempProject({ development: { zendesk_token: "TEST-ONLY-not-a-real-value" } }, files);
    const server = await startInMemory({ folders: [project.dir], pull: true, sliceMs: 0 });
    try {
      await server.state.checked;
      const order: string[] = [];
      const all = server.client.sendRequest(WorkspaceDiagnosticRequest.type, { previousResultIds: [] }).then((r) => (order.push("workspace"), r as WorkspaceDiagnosticReport));
      const doc = server.client.sendRequest(DocumentDiagnosticRequest.type, { textDocument: { uri: project.uri("actions/a0.yaml") } }).then(() => order.push("document"));
      const [report] = await Promise.all([all, doc]);
      expect(order).toEqual(["document", "workspace"]);
      const actions = report.items.filter((i) => i.uri.includes("/actions/a"));
      expect(actions).toHaveLength(FILES);
      for (const item of actions) expect(item.kind === DocumentDiagnosticReportKind.Full && item.items.map((d) => d.code)).toEqual(["unknown-secret"]);
    } finally {
      await server.dispose();
      project.remove();
    }
  });
});
