import { afterEach, describe, expect, it } from "vitest";
import { DidOpenTextDocumentNotification, ErrorCodes, HoverRequest, InitializedNotification, InitializeRequest, ResponseError, ShutdownRequest } from "vscode-languageserver/node";
import { LIFECYCLE_ERROR_METHOD } from "./lifecycle.js";
import { connectInMemory, makeTempProject, type InMemoryServer } from "./test-support/in-memory.js";

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
