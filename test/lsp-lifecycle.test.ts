/**
 * The server process's lifecycle over stdio, as a client that sends things out of order sees it
 * (the lifecycle strategy is wired in main.ts, which only a real process runs): errors before
 * initialize and after shutdown, exit codes, and the end of stdin.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { describe, expect, it } from "vitest";
import { LspClient, makeProject, proto, SERVER_BIN } from "./lsp-harness.js";

interface Proc {
  conn: proto.ProtocolConnection;
  proc: ChildProcess;
  exited: Promise<number | null>;
}

/** Spawns the server over stdio with `args` after `--stdio`, as `user` (uid and gid) when given. */
function spawnServer(args: string[] = [], user?: { uid: number; gid: number }): Proc {
  const proc = spawn(process.execPath, [SERVER_BIN, "--stdio", ...args], { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, SOPS_AGE_KEY: "", SOPS_AGE_KEY_FILE: "" }, ...user });
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  const conn = proto.createProtocolConnection(new proto.StreamMessageReader(proc.stdout!), new proto.StreamMessageWriter(proc.stdin!));
  conn.onError(() => {});
  conn.listen();
  return { conn, proc, exited };
}

async function errorCodeOf(p: Promise<unknown>): Promise<number | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    if (e instanceof proto.ResponseError) return e.code;
    throw e;
  }
}

const INIT = { processId: null, rootUri: null, workspaceFolders: null, capabilities: {} };
const HOVER = { textDocument: { uri: "file:///nowhere/a.yaml" }, position: { line: 0, character: 0 } };

describe("the server process's lifecycle over stdio", () => {
  it("answers out-of-order requests with the specification's errors, and exits 0 after shutdown and exit", async () => {
    const s = spawnServer();
    try {
      expect(await errorCodeOf(s.conn.sendRequest(proto.HoverRequest.type, HOVER))).toBe(proto.ErrorCodes.ServerNotInitialized);
      expect(await errorCodeOf(s.conn.sendRequest(proto.InitializeRequest.type, INIT))).toBeUndefined();
      expect(await errorCodeOf(s.conn.sendRequest(proto.InitializeRequest.type, INIT))).toBe(proto.ErrorCodes.InvalidRequest);
      await s.conn.sendNotification(proto.InitializedNotification.type, {});
      expect(await errorCodeOf(s.conn.sendRequest("no/such/method", {}))).toBe(proto.ErrorCodes.MethodNotFound);
      expect(await errorCodeOf(s.conn.sendRequest("$/no/such/method", {}))).toBe(proto.ErrorCodes.MethodNotFound);
      expect(await errorCodeOf(s.conn.sendRequest(proto.ShutdownRequest.type))).toBeUndefined();
      expect(await errorCodeOf(s.conn.sendRequest(proto.HoverRequest.type, HOVER))).toBe(proto.ErrorCodes.InvalidRequest);
      await s.conn.sendNotification(proto.ExitNotification.type);
      expect(await s.exited).toBe(0);
    } finally {
      s.conn.dispose();
      if (s.proc.exitCode === null) s.proc.kill("SIGKILL");
    }
  });

  it("exits 1 on exit without shutdown, and ends when its stdin closes (the client died)", async () => {
    for (const end of ["exit", "stdin"] as const) {
      const s = spawnServer();
      try {
        await s.conn.sendRequest(proto.InitializeRequest.type, INIT);
        await s.conn.sendNotification(proto.InitializedNotification.type, {});
        if (end === "exit") await s.conn.sendNotification(proto.ExitNotification.type);
        else s.proc.stdin!.end();
        expect([end, await s.exited]).toEqual([end, 1]);
      } finally {
        s.conn.dispose();
        if (s.proc.exitCode === null) s.proc.kill("SIGKILL");
      }
    }
  });

  it("ends (1) when the client's process is gone: initialize's processId, or --clientProcessId", async () => {
    const ended = spawnSync(process.execPath, ["-e", "0"]); // a pid whose process is gone
    expect(ended.status).toBe(0);
    const s = spawnServer();
    try {
      void s.conn.sendRequest(proto.InitializeRequest.type, { ...INIT, processId: ended.pid }).catch(() => {});
      expect(await s.exited).toBe(1);
    } finally {
      s.conn.dispose();
      if (s.proc.exitCode === null) s.proc.kill("SIGKILL");
    }
    const a = spawnServer([`--clientProcessId=${ended.pid}`]);
    try {
      expect(await a.exited).toBe(1);
    } finally {
      a.conn.dispose();
      if (a.proc.exitCode === null) a.proc.kill("SIGKILL");
    }
  });

  // EPERM needs a client process of another user: the server runs as `nobody`, the client (this
  // process) is root's. vscode-languageserver's own watch (every 3 s) would end the server.
  const root = process.getuid?.() === 0;
  it.skipIf(!root)("keeps serving while its client's process lives under another user (EPERM), past vscode-languageserver's 3 s check (needs root)", async () => {
    const s = spawnServer([`--clientProcessId=${process.pid}`], { uid: 65534, gid: 65534 });
    try {
      expect(await errorCodeOf(s.conn.sendRequest(proto.InitializeRequest.type, { ...INIT, processId: process.pid }))).toBeUndefined();
      await s.conn.sendNotification(proto.InitializedNotification.type, {});
      await new Promise((r) => setTimeout(r, 3500));
      expect(s.proc.exitCode).toBeNull();
      expect(await errorCodeOf(s.conn.sendRequest(proto.ShutdownRequest.type))).toBeUndefined();
      await s.conn.sendNotification(proto.ExitNotification.type);
      expect(await s.exited).toBe(0);
    } finally {
      s.conn.dispose();
      if (s.proc.exitCode === null) s.proc.kill("SIGKILL");
    }
  });

  it("keeps its place in stdin after a wrong Content-Length, a header without one, a body that is no message, headers ending with \\n, or a $/cancelRequest without an id, and answers the next requests", async () => {
    const proc = spawn(process.execPath, [SERVER_BIN, "--stdio"], { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, SOPS_AGE_KEY: "", SOPS_AGE_KEY_FILE: "" } });
    const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
    // a raw client: the protocol connection of the other tests frames every message correctly
    const received: { id?: unknown; error?: { code: number }; result?: unknown; method?: string }[] = [];
    let buf = Buffer.alloc(0);
    proc.stdout!.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (let end = buf.indexOf("\r\n\r\n"); end !== -1; end = buf.indexOf("\r\n\r\n")) {
        const length = Number(/Content-Length: (\d+)/i.exec(buf.toString("latin1", 0, end))![1]);
        if (buf.length < end + 4 + length) break;
        received.push(JSON.parse(buf.toString("utf8", end + 4, end + 4 + length)));
        buf = buf.subarray(end + 4 + length);
      }
    });
    const send = (body: string, length = Buffer.byteLength(body)): void => void proc.stdin!.write(`Content-Length: ${length}\r\n\r\n${body}`);
    const answer = async (id: unknown): Promise<{ error?: { code: number }; result?: unknown }> => {
      for (let i = 0; i < 500; i++) {
        const r = received.find((m) => m.id === id && m.method === undefined);
        if (r !== undefined) return r;
        await new Promise((res) => setTimeout(res, 20));
      }
      throw new Error(`no answer to ${String(id)}`);
    };
    try {
      send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: INIT }));
      expect((await answer(1)).result).toBeDefined();
      send(JSON.stringify({ jsonrpc: "2.0", method: "initialized", params: {} }));
      // a Content-Length counted in characters, not UTF-8 bytes (a JavaScript client's string.length): the request is still taken
      const hover = JSON.stringify({ jsonrpc: "2.0", id: 2, method: "textDocument/hover", params: { ...HOVER, textDocument: { uri: "file:///nowhere/café-😀.yaml" } } });
      send(hover, hover.length);
      expect(await answer(2)).toMatchObject({ result: null });
      // a header without Content-Length: skipped; the request after it is answered
      proc.stdin!.write("Content-Type: application/vscode-jsonrpc\r\n\r\n");
      send(JSON.stringify({ jsonrpc: "2.0", id: 3, method: "textDocument/hover", params: HOVER }));
      expect(await answer(3)).toMatchObject({ result: null });
      // a body that is not JSON: JSON-RPC's Parse error (id null); a method that is no string: Invalid Request under its id
      send("{not json}");
      send(JSON.stringify({ jsonrpc: "2.0", id: 4, method: 4 }));
      expect((await answer(4)).error?.code).toBe(-32600);
      expect(received.find((m) => m.id === null)?.error?.code).toBe(-32700);
      // a $/cancelRequest without params (vscode-jsonrpc threw on it: the server answered nothing more), in one write with a request
      const frame = (body: string): string => `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
      proc.stdin!.write(frame(JSON.stringify({ jsonrpc: "2.0", method: "$/cancelRequest" })) + frame(JSON.stringify({ jsonrpc: "2.0", method: "$/cancelRequest", params: { id: null } })) + frame(JSON.stringify({ jsonrpc: "2.0", id: 8, method: "textDocument/hover", params: HOVER })));
      expect(await answer(8)).toMatchObject({ result: null });
      // headers whose lines end with \n (hand-written clients), alone and with a second header line; then a correct one again
      const lf = (body: string, headers: string[] = []): void => void proc.stdin!.write([`Content-Length: ${Buffer.byteLength(body)}`, ...headers].join("\n") + "\n\n" + body);
      lf(JSON.stringify({ jsonrpc: "2.0", id: 6, method: "textDocument/hover", params: HOVER }));
      expect(await answer(6)).toMatchObject({ result: null });
      lf(JSON.stringify({ jsonrpc: "2.0", id: 7, method: "textDocument/hover", params: HOVER }), ["Content-Type: application/vscode-jsonrpc; charset=utf-8"]);
      expect(await answer(7)).toMatchObject({ result: null });
      send(JSON.stringify({ jsonrpc: "2.0", id: 5, method: "shutdown" }));
      expect(await answer(5)).toMatchObject({ result: null });
      send(JSON.stringify({ jsonrpc: "2.0", method: "exit" }));
      expect(await exited).toBe(0);
    } finally {
      if (proc.exitCode === null) proc.kill("SIGKILL");
    }
  });
});

describe("a raw client's cancellations and stray text synchronisation, over stdio", () => {
  it("a cancelled hover or completion is answered (its result, or -32800); a cancellation of no request, a didClose and a didChange of a file never opened change nothing; a second didOpen replaces the text", async () => {
    const project = await makeProject({ secrets: { development: { zendesk_token: "v" } }, environments: ["development"], files: { "actions/a.yaml": "kind: action\nname: a\nmethod: GET\npath: /x\nheaders:\n  - { name: K, type: secret, secret: zendesk_tokn }\n" } });
    const client = await LspClient.start({ folders: [project.dir] });
    const uri = project.uri("actions/a.yaml");
    const text = "kind: action\nname: a\nmethod: GET\npath: /x\nheaders:\n  - { name: K, type: secret, secret: zendesk_tokn }\n";
    const at = { line: 5, character: text.split("\n")[5]!.indexOf("zendesk_tokn") + 3 };
    try {
      await client.open(uri, text);
      await client.waitForDiagnostics(uri, (d) => d.some((x) => x.code === "unknown-secret"));
      const answers: string[] = [];
      const cancelled = async (p: Promise<unknown>, what: string): Promise<void> => {
        try {
          await p;
          answers.push(`${what}: result`);
        } catch (e) {
          answers.push(`${what}: ${(e as proto.ResponseError<unknown>).code}`);
        }
      };
      const hoverToken = new proto.CancellationTokenSource();
      const completionToken = new proto.CancellationTokenSource();
      const hover = cancelled(client.conn.sendRequest(proto.HoverRequest.type, { textDocument: { uri }, position: at }, hoverToken.token), "hover");
      const completion = cancelled(client.conn.sendRequest(proto.CompletionRequest.type, { textDocument: { uri }, position: at }, completionToken.token), "completion");
      hoverToken.cancel();
      completionToken.cancel();
      await client.conn.sendNotification("$/cancelRequest", { id: 987_654 });
      await Promise.all([hover, completion]);
      expect(answers.map((a) => a.replace(/: (result|-32800)$/, ": ok"))).toEqual(["hover: ok", "completion: ok"]);
      // stray notifications about a file never opened
      const never = project.uri("actions/never.yaml");
      await client.close(never);
      await client.conn.sendNotification(proto.DidChangeTextDocumentNotification.type, { textDocument: { uri: never, version: 2 }, contentChanges: [{ text: "kind: nope\n" }] });
      // a second didOpen of the open file: its text replaces the first's
      await client.open(uri, text.replace("zendesk_tokn", "zendesk_token"));
      await client.waitForDiagnostics(uri, (d) => d.length === 0);
      const h = await client.conn.sendRequest(proto.HoverRequest.type, { textDocument: { uri }, position: at });
      expect(JSON.stringify(h?.contents)).toContain("zendesk_token");
      expect(client.published.has(never)).toBe(false);
      expect(client.stderr).not.toContain("uncaught");
      expect(await client.stop()).toBe(0);
    } finally {
      if (client.proc.exitCode === null) client.proc.kill("SIGKILL");
      project.remove();
    }
  });
});

describe("the server process over --node-ipc (the VS Code extension's transport)", () => {
  // (each IPC message comes in an event of its own: vscode-jsonrpc's throw on such a cancellation loses only it, where over stdio it lost the messages read with it)
  it("answers the requests after a $/cancelRequest without the id of a request", async () => {
    const client = await LspClient.start({ folders: [], transport: "node-ipc" });
    try {
      await client.conn.sendNotification("$/cancelRequest");
      await client.conn.sendNotification("$/cancelRequest", { id: null });
      const hover = client.conn.sendRequest(proto.HoverRequest.type, HOVER).then(
        (r) => ({ result: r }),
        (e: unknown) => ({ error: (e as Error).message }),
      );
      expect(await Promise.race([hover, new Promise((r) => setTimeout(() => r("no answer"), 5000))])).toEqual({ result: null });
    } finally {
      expect(await client.stop()).toBe(0);
    }
  });
});
