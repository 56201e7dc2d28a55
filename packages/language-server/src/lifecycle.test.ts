import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import {
  ConfigurationRequest,
  DidChangeConfigurationNotification,
  DidChangeWorkspaceFoldersNotification,
  DidChangeTextDocumentNotification,
  DidCloseTextDocumentNotification,
  DidOpenTextDocumentNotification,
  CancellationTokenSource,
  ErrorCodes,
  HoverRequest,
  LSPErrorCodes,
  InitializedNotification,
  InitializeRequest,
  RegistrationRequest,
  ResponseError,
  ShutdownRequest,
  type Message,
} from "vscode-languageserver/node";
import { LIFECYCLE_ERROR_METHOD, lifecycleStrategy } from "./lifecycle.js";
import { ProjectsRequest } from "./protocol.js";
import { connectInMemory, makeTempProject, rangeOf, startInMemory, type InMemoryServer } from "./test-support/in-memory.js";
import { createTicketAction, HUBSPOT_CONNECTION } from "./test-support/fixtures.js";
import { createCoreModel } from "./core-model.js";
import type { ModelFactory } from "./workspace.js";

/** The error code a request is answered with (undefined: a result). */
async function errorCodeOf(p: Promise<unknown>): Promise<number | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    if (e instanceof ResponseError) return e.code;
    throw e;
  }
}

const hoverParams = { textDocument: { uri: "file:///nowhere/a.yaml" }, position: { line: 0, character: 0 } };
const initParams = { processId: null, rootUri: null, capabilities: {}, workspaceFolders: null };

describe("the LSP lifecycle (3.17 'Server lifecycle'), whatever the client sends", () => {
  let server: InMemoryServer | undefined;
  afterEach(async () => {
    await server?.dispose();
    server = undefined;
  });

  it("answers a request before initialize with ServerNotInitialized (-32002), and drops notifications", async () => {
    server = connectInMemory();
    expect(await errorCodeOf(server.client.sendRequest(HoverRequest.type, hoverParams))).toBe(ErrorCodes.ServerNotInitialized);
    expect(await errorCodeOf(server.client.sendRequest("stellarSecrets/projects", {}))).toBe(ErrorCodes.ServerNotInitialized);
    expect(await errorCodeOf(server.client.sendRequest(ShutdownRequest.type))).toBe(ErrorCodes.ServerNotInitialized);
    // a didOpen before initialize is dropped: the document is not open afterwards
    await server.client.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: hoverParams.textDocument.uri, languageId: "yaml", version: 1, text: "kind: action\n" } });
    expect(await errorCodeOf(server.client.sendRequest(InitializeRequest.type, initParams))).toBeUndefined();
    expect(server.state.documents.get(hoverParams.textDocument.uri)).toBeUndefined();
    await server.client.sendNotification(InitializedNotification.type, {});
    expect(await errorCodeOf(server.client.sendRequest(HoverRequest.type, hoverParams))).toBeUndefined();
  });

  it("answers a second initialize with InvalidRequest (-32600) and keeps serving", async () => {
    server = connectInMemory();
    expect(await errorCodeOf(server.client.sendRequest(InitializeRequest.type, initParams))).toBeUndefined();
    expect(await errorCodeOf(server.client.sendRequest(InitializeRequest.type, initParams))).toBe(ErrorCodes.InvalidRequest);
    await server.client.sendNotification(InitializedNotification.type, {});
    expect(await errorCodeOf(server.client.sendRequest(HoverRequest.type, hoverParams))).toBeUndefined();
  });

  it("answers every request after shutdown (a second shutdown too) with InvalidRequest (-32600)", async () => {
    server = connectInMemory();
    await server.client.sendRequest(InitializeRequest.type, initParams);
    await server.client.sendNotification(InitializedNotification.type, {});
    expect(await errorCodeOf(server.client.sendRequest(ShutdownRequest.type))).toBeUndefined();
    expect(await errorCodeOf(server.client.sendRequest(HoverRequest.type, hoverParams))).toBe(ErrorCodes.InvalidRequest);
    expect(await errorCodeOf(server.client.sendRequest("stellarSecrets/projects", {}))).toBe(ErrorCodes.InvalidRequest);
    expect(await errorCodeOf(server.client.sendRequest(ShutdownRequest.type))).toBe(ErrorCodes.InvalidRequest);
  });

  it("the internal method of refused requests is not a way in: sent directly it is an unknown method", async () => {
    server = connectInMemory();
    await server.client.sendRequest(InitializeRequest.type, initParams);
    expect(await errorCodeOf(server.client.sendRequest(LIFECYCLE_ERROR_METHOD, { nothing: 1 }))).toBe(ErrorCodes.MethodNotFound);
    expect(await errorCodeOf(server.client.sendRequest("stellarSecrets/noSuchRequest", {}))).toBe(ErrorCodes.MethodNotFound);
  });

  it("takes an initialize without capabilities (or without parameters) as one announcing none, instead of failing it", async () => {
    const project = await makeTempProject({ development: { old_token: "TEST-ONLY-not-a-real-value" } });
    try {
      server = connectInMemory();
      expect(await errorCodeOf(server.client.sendRequest(InitializeRequest.method, { processId: null, rootUri: project.uri("") }))).toBeUndefined();
      await server.client.sendNotification(InitializedNotification.type, {});
      const ds = await server.waitForDiagnostics(project.uri("secrets/development.enc.yaml"), (d) => d.length > 0);
      expect(ds.map((d) => d.code)).toContain("unused-secret");
      expect(server.requests).toEqual([]);
      for (const params of [null, 42, { capabilities: null, rootUri: 5, rootPath: [], workspaceFolders: "nope" }]) {
        const other = connectInMemory();
        try {
          expect([params, await errorCodeOf(other.client.sendRequest(InitializeRequest.method, params))]).toEqual([params, undefined]);
        } finally {
          await other.dispose();
        }
      }
    } finally {
      project.remove();
    }
  });
});

/** The methods `lifecycleStrategy` hands on for `messages`, in order. */
function handedOn(messages: Message[]): string[] {
  const strategy = lifecycleStrategy();
  const out: string[] = [];
  for (const m of messages) void strategy.handleMessage(m, (h) => out.push((h as { method: string }).method));
  return out;
}

let nextId = 0;
const request = (method: string, params: unknown = {}): Message => ({ jsonrpc: "2.0", id: ++nextId, method, params }) as Message;
const notification = (method: string, params: unknown = {}): Message => ({ jsonrpc: "2.0", method, params }) as Message;
const openParams = { textDocument: { uri: "file:///nowhere/a.yaml", languageId: "yaml", version: 1, text: "kind: action\n" } };

describe("a client that does not send initialized, or sends it late", () => {
  it("a client that sends initialized first: every message handed on as it came, nothing added", () => {
    const messages = [request(InitializeRequest.method, initParams), notification(InitializedNotification.method), request(HoverRequest.method, hoverParams), notification(DidOpenTextDocumentNotification.method, openParams), request(ShutdownRequest.method)];
    expect(handedOn(messages)).toEqual(messages.map((m) => (m as { method: string }).method));
  });

  it("the first request or didOpen after initialize comes after an initialized handed on for it, once; the client's late initialized is dropped", () => {
    const init = request(InitializeRequest.method, initParams);
    expect(handedOn([init, request(HoverRequest.method, hoverParams), request("stellarSecrets/projects"), notification(InitializedNotification.method), notification(InitializedNotification.method)])).toEqual([
      InitializeRequest.method,
      InitializedNotification.method,
      HoverRequest.method,
      "stellarSecrets/projects",
    ]);
    expect(handedOn([init, notification(DidChangeConfigurationNotification.method, { settings: {} }), notification(DidOpenTextDocumentNotification.method, openParams), notification(InitializedNotification.method)])).toEqual([
      InitializeRequest.method,
      DidChangeConfigurationNotification.method, // needs no index: does not start the server
      InitializedNotification.method,
      DidOpenTextDocumentNotification.method,
    ]);
    // shutdown needs no index, and nothing starts the server after it
    expect(handedOn([init, request(ShutdownRequest.method), notification(DidOpenTextDocumentNotification.method, openParams)])).toEqual([InitializeRequest.method, ShutdownRequest.method, DidOpenTextDocumentNotification.method]);
  });

  it("a workspace folder change before initialized comes after an initialized handed on for it (its listener is set up by the start-up)", () => {
    const change = notification(DidChangeWorkspaceFoldersNotification.method, { event: { added: [], removed: [] } });
    expect(handedOn([request(InitializeRequest.method, initParams), change, notification(InitializedNotification.method)])).toEqual([
      InitializeRequest.method,
      InitializedNotification.method,
      DidChangeWorkspaceFoldersNotification.method,
    ]);
  });

  const capabilities = { workspace: { configuration: true, didChangeWatchedFiles: { dynamicRegistration: true } } };
  let server: InMemoryServer | undefined;
  afterEach(async () => {
    await server?.dispose();
    server = undefined;
  });

  it("builds the index for a request sent without initialized, and starts once when initialized comes late", async () => {
    const project = await makeTempProject({ development: { old_token: "TEST-ONLY-not-a-real-value" } });
    try {
      server = connectInMemory();
      await server.client.sendRequest(InitializeRequest.type, { ...initParams, rootUri: project.uri(""), capabilities });
      const { projects } = await server.client.sendRequest(ProjectsRequest, {});
      expect(projects.map((p) => p.root)).toEqual([project.dir]);
      await server.client.sendNotification(InitializedNotification.type, {});
      await server.client.sendRequest(ProjectsRequest, {}); // answered after the late initialized was handled
      // one start-up: the settings asked once, the watchers registered once, one initial index
      expect(server.requests.filter((m) => m === ConfigurationRequest.method)).toHaveLength(1);
      expect(server.requests.filter((m) => m === RegistrationRequest.method)).toHaveLength(1);
      expect(server.logs.filter((l) => /^\[stellar-secrets\] indexed /.test(l))).toHaveLength(1);
    } finally {
      project.remove();
    }
  });

  it("starts for a didOpen sent without initialized: the settings asked, the project indexed, its diagnostics published", async () => {
    const project = await makeTempProject({ development: { old_token: "TEST-ONLY-not-a-real-value" } });
    try {
      server = connectInMemory();
      await server.client.sendRequest(InitializeRequest.type, { ...initParams, rootUri: project.uri(""), capabilities });
      await server.open(project.uri("stellar.yaml"), readFileSync(project.path("stellar.yaml"), "utf8"));
      const ds = await server.waitForDiagnostics(project.uri("secrets/development.enc.yaml"), (d) => d.length > 0);
      expect(ds.map((d) => d.code)).toContain("unused-secret");
      expect(server.requests).toContain(ConfigurationRequest.method);
    } finally {
      project.remove();
    }
  });
});

describe("the client's processId (watched by main.ts, not by vscode-languageserver)", () => {
  /** The processId `initialize` is handed on with, by a new strategy given `options`. */
  function processIdHandedOn(processId: unknown, options: Parameters<typeof lifecycleStrategy>[0]): unknown {
    let handed: unknown = "not handed on";
    void lifecycleStrategy(options).handleMessage(request(InitializeRequest.method, { ...initParams, processId }), (m) => {
      handed = ((m as { params: { processId: unknown } }).params).processId;
    });
    return handed;
  }

  it("with onClientProcessId: a pid goes to it and initialize is handed on with null; a number naming no process is nulled and not passed", () => {
    const passed: number[] = [];
    const onClientProcessId = (pid: number): void => void passed.push(pid);
    expect(processIdHandedOn(4242, { onClientProcessId })).toBeNull();
    expect(passed).toEqual([4242]);
    expect([0, -1, 1.5].map((p) => processIdHandedOn(p, { onClientProcessId }))).toEqual([null, null, null]);
    expect(processIdHandedOn(null, { onClientProcessId })).toBeNull();
    expect(passed).toEqual([4242]);
  });

  it("without it: processId handed on as it came", () => {
    expect(processIdHandedOn(4242, {})).toBe(4242);
  });

  it("says when shutdown was received (the exit status when the client's process dies)", () => {
    const strategy = lifecycleStrategy();
    const next = (): void => {};
    void strategy.handleMessage(request(InitializeRequest.method, initParams), next);
    expect(strategy.shutdownReceived).toBe(false);
    void strategy.handleMessage(request(ShutdownRequest.method), next);
    expect(strategy.shutdownReceived).toBe(true);
  });
});

describe("text synchronisation notifications without what the open documents need", () => {
  it("are dropped whole and logged: no document with a number for a URI or text, no change applied in part, and later closes still work", async () => {
    const project = await makeTempProject({ development: { zendesk_token: "TEST-ONLY-not-a-real-value" } }, { "connections/hubspot.yaml": HUBSPOT_CONNECTION });
    const server = await startInMemory({ folders: [project.dir] });
    try {
      const uri = project.uri("actions/create_ticket.yaml");
      const typo = createTicketAction("zendesk_tokn");
      await server.open(uri, typo);
      await server.waitForDiagnostics(uri, (d) => d.some((x) => x.code === "unknown-secret"));
      const send = (method: string, params: unknown) => server.client.sendNotification(method, params);
      await send(DidOpenTextDocumentNotification.method, { textDocument: { uri: 5, languageId: "yaml", version: 1, text: "kind: action\n" } });
      await send(DidOpenTextDocumentNotification.method, { textDocument: { uri: project.uri("actions/other.yaml"), languageId: "yaml", version: 1, text: 5 } });
      // the fix of the typo, then a change whose range is no range: neither is applied
      const fix = { range: rangeOf(typo, "zendesk_tokn"), text: "zendesk_token" };
      await send(DidChangeTextDocumentNotification.method, { textDocument: { uri, version: 2 }, contentChanges: [fix, { range: { start: { line: 0, character: 0 }, end: null }, text: "x" }] });
      await send(DidChangeTextDocumentNotification.method, { textDocument: { uri, version: 3 }, contentChanges: [{ range: { start: { line: -1, character: 0 }, end: { line: 0, character: 2 } }, text: "x" }] });
      await server.waitFor(() => server.logs.filter((l) => l.includes("ignored (the open documents are as they were)")).length === 4, "the four notifications logged");
      expect(server.logs.filter((l) => l.includes("ignored")).map((l) => l.replace(/ ignored.*/, ""))).toEqual([
        "[stellar-secrets] textDocument/didOpen without textDocument.uri (a string):",
        "[stellar-secrets] textDocument/didOpen without textDocument.text (a string):",
        "[stellar-secrets] textDocument/didChange without contentChanges[].range ({ start, end }: positions of unsigned integers):",
        "[stellar-secrets] textDocument/didChange without contentChanges[].range ({ start, end }: positions of unsigned integers):",
      ]);
      expect(server.state.documents.all().map((d) => [d.uri, d.version, d.getText()])).toEqual([[uri, 1, typo]]);
      // a close after them: the file goes back to the disk's text (it has none: out of the index)
      await send(DidCloseTextDocumentNotification.method, { textDocument: { uri } });
      await server.waitFor(() => !server.state.workspace.isOpen(project.path("actions/create_ticket.yaml")), "the close");
    } finally {
      await server.dispose();
      project.remove();
    }
  });
});

describe("a request cancelled while the initial index is being built", () => {
  it("is answered at once with RequestCancelled (-32800); one not cancelled is answered once the index is ready", async () => {
    const project = await makeTempProject({ development: { zendesk_token: "TEST-ONLY-not-a-real-value" } }, { "actions/create_ticket.yaml": createTicketAction("zendesk_tokn") });
    // a project that loads slowly (a large workspace): held until the test releases it
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const modelFactory: ModelFactory = async (configPath, source) => {
      await gate;
      return createCoreModel(configPath, source);
    };
    const server = connectInMemory({ modelFactory });
    try {
      await server.client.sendRequest(InitializeRequest.type, { processId: null, rootUri: project.uri(""), capabilities: {}, workspaceFolders: null });
      await server.client.sendNotification(InitializedNotification.type, {});
      const params = { textDocument: { uri: project.uri("actions/create_ticket.yaml") }, position: { line: 0, character: 0 } };
      // cancelled at once (before its handler runs), and cancelled once it waits for the index
      const source = new CancellationTokenSource();
      const cancelled = errorCodeOf(server.client.sendRequest(HoverRequest.type, params, source.token));
      const kept = errorCodeOf(server.client.sendRequest(HoverRequest.type, params));
      source.cancel();
      const pending = new Promise<string>((r) => setTimeout(() => r("still waiting for the index"), 3000));
      expect(await Promise.race([cancelled, pending])).toBe(LSPErrorCodes.RequestCancelled);
      const later = new CancellationTokenSource();
      const waiting = errorCodeOf(server.client.sendRequest(HoverRequest.type, params, later.token));
      await new Promise((r) => setTimeout(r, 100));
      later.cancel();
      expect(await Promise.race([waiting, new Promise<string>((r) => setTimeout(() => r("still waiting for the index"), 3000))])).toBe(LSPErrorCodes.RequestCancelled);
      release();
      expect(await kept).toBeUndefined();
    } finally {
      release();
      await server.dispose();
      project.remove();
    }
  });
});
