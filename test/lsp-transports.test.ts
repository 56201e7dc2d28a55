/**
 * The server's other transports over real processes (transports.ts): `--socket=PORT` and
 * `--pipe=NAME` (the editor listens, the server connects) and `--node-ipc`. Before: a bad port
 * crashed with a stack trace of the bundle; a socket or pipe nobody listened on, and `--node-ipc`
 * without a channel, ended 0 and said nothing; a wrong `Content-Length` on a socket left the server
 * hung (no answer, `exit` included); an editor closing the socket, pipe or IPC channel without
 * `shutdown` ended it with 0; an IPC message that is no message was written back into the log.
 */
import { spawn, fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { pathToFileURL } from "node:url";
import { makeProject, SERVER_BIN } from "./lsp-harness.js";

const dir = mkdtempSync(join(tmpdir(), "stellar-lsp-transports-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const frame = (o: unknown): Buffer => {
  const body = Buffer.from(JSON.stringify(o), "utf8");
  return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, "latin1"), body]);
};
const INIT = { jsonrpc: "2.0", id: 1, method: "initialize", params: { processId: null, rootUri: null, capabilities: {} } };

interface Run {
  proc: ChildProcess;
  exited: Promise<{ code: number | null; stderr: string }>;
}

function run(args: string[]): Run {
  const proc = spawn(process.execPath, [SERVER_BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  proc.stderr!.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
  proc.stdout!.resume();
  const exited = new Promise<{ code: number | null; stderr: string }>((r) => proc.once("exit", (code) => r({ code, stderr })));
  return { proc, exited };
}

async function within<T>(p: Promise<T>, ms: number, proc: ChildProcess): Promise<T | "hung"> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([p, new Promise<"hung">((res) => (timer = setTimeout(() => res("hung"), ms)))]);
  clearTimeout(timer);
  if (r === "hung") proc.kill("SIGKILL");
  return r;
}

/** The messages read on a socket so far (framed as the server writes them). */
function messagesOf(socket: Socket): { all: Record<string, unknown>[]; next: (pred: (m: Record<string, unknown>) => boolean) => Promise<Record<string, unknown>> } {
  const all: Record<string, unknown>[] = [];
  let buf = Buffer.alloc(0);
  const waiters: (() => void)[] = [];
  socket.on("data", (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const end = buf.indexOf("\r\n\r\n");
      if (end === -1) break;
      const len = Number(/Content-Length: (\d+)/i.exec(buf.subarray(0, end).toString("latin1"))?.[1]);
      if (buf.length < end + 4 + len) break;
      all.push(JSON.parse(buf.subarray(end + 4, end + 4 + len).toString("utf8")) as Record<string, unknown>);
      buf = buf.subarray(end + 4 + len);
    }
    for (const w of waiters.splice(0)) w();
  });
  const next = async (pred: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> => {
    for (let i = 0; i < 200; i++) {
      const found = all.find(pred);
      if (found !== undefined) return found;
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 50);
      });
    }
    throw new Error(`no such message among ${all.length}`);
  };
  return { all, next };
}

/** A listener (TCP on 127.0.0.1, or a Unix socket at `path`) and the server started to connect to it. */
async function editorListening(kind: "socket" | "pipe"): Promise<{ server: Server; run: Run; socket: Socket }> {
  const server = createServer();
  const path = join(dir, `p${Math.random().toString(36).slice(2)}.sock`);
  await new Promise<void>((r) => (kind === "socket" ? server.listen(0, "127.0.0.1", r) : server.listen(path, r)));
  const address = server.address();
  const connected = new Promise<Socket>((r) => server.once("connection", r));
  const arg = kind === "socket" ? `--socket=${typeof address === "object" && address !== null ? address.port : 0}` : `--pipe=${path}`;
  const r = run([arg]);
  const socket = await connected;
  return { server, run: r, socket };
}

describe("the transport's arguments", () => {
  it("refuses a port that is no port, and --socket or --pipe without a value, with a usage error (2) and no stack trace", async () => {
    for (const args of [["--socket=abc"], ["--socket=0"], ["--socket=70000"], ["--socket=-1"], ["--socket"], ["--socket="], ["--pipe"], ["--pipe="], ["--clientProcessId=1"]]) {
      const r = run(args);
      const { code, stderr } = (await within(r.exited, 20_000, r.proc)) as { code: number | null; stderr: string };
      expect([args, code]).toEqual([args, 2]);
      expect(stderr).toMatch(/^stellar-secrets-language-server: .*\nUsage: stellar-secrets-language-server --stdio \| --node-ipc \| --socket=PORT \| --pipe=NAME\n$/);
      expect(stderr).not.toMatch(/\n\s+at /);
    }
  });

  it("says where it could not connect, and ends 1: a port nobody listens on, a pipe that is not there", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const a = run([`--socket=${port}`]);
    const refused = await within(a.exited, 20_000, a.proc);
    expect(refused).toEqual({ code: 1, stderr: expect.stringContaining(`could not connect to 127.0.0.1:${port} (ECONNREFUSED)`) as unknown });
    const missing = join(dir, "nobody-listens.sock");
    const b = run([`--pipe=${missing}`]);
    expect(await within(b.exited, 20_000, b.proc)).toEqual({ code: 1, stderr: expect.stringContaining(`could not connect to the pipe ${missing} (ENOENT)`) as unknown });
  });

  it("refuses --node-ipc without an IPC channel (started from a shell) with a usage error", async () => {
    const r = run(["--node-ipc"]);
    const { code, stderr } = (await within(r.exited, 20_000, r.proc)) as { code: number; stderr: string };
    expect(code).toBe(2);
    expect(stderr).toContain("--node-ipc needs the IPC channel of a process started by node's child_process.fork");
  });
});

describe.each(["socket", "pipe"] as const)("--%s", (kind) => {
  it("reads past a wrong Content-Length and answers the requests after it; shutdown and exit end it with 0", async () => {
    const { server, run: r, socket } = await editorListening(kind);
    try {
      const m = messagesOf(socket);
      // a Content-Length counted short (5 for a body of 17 bytes), then initialize
      socket.write('Content-Length: 5\r\n\r\n{"jsonrpc":"2.0"}');
      socket.write(frame(INIT));
      expect((await m.next((x) => x.id === 1)).result).toBeDefined();
      socket.write(frame({ jsonrpc: "2.0", id: 2, method: "shutdown" }));
      expect(await m.next((x) => x.id === 2)).toEqual({ jsonrpc: "2.0", id: 2, result: null });
      socket.write(frame({ jsonrpc: "2.0", method: "exit" }));
      expect((await within(r.exited, 20_000, r.proc)) as { code: number }).toMatchObject({ code: 0 });
    } finally {
      socket.destroy();
      server.close();
      if (r.proc.exitCode === null) r.proc.kill("SIGKILL");
    }
  });

  it("ends with 1 when the editor closes the connection without shutdown, with 0 after shutdown", async () => {
    for (const shutdown of [false, true]) {
      const { server, run: r, socket } = await editorListening(kind);
      try {
        const m = messagesOf(socket);
        socket.write(frame(INIT));
        await m.next((x) => x.id === 1);
        // shutdown written and the connection closed at once, without waiting for the answer
        if (shutdown) socket.write(frame({ jsonrpc: "2.0", id: 2, method: "shutdown" }));
        socket.end();
        expect([shutdown, ((await within(r.exited, 20_000, r.proc)) as { code: number }).code]).toEqual([shutdown, shutdown ? 0 : 1]);
      } finally {
        socket.destroy();
        server.close();
        if (r.proc.exitCode === null) r.proc.kill("SIGKILL");
      }
    }
  });
});

describe.each(["socket", "pipe"] as const)("--%s, a client that stops reading", (kind) => {
  it("stops reading its messages while it has not read 4 MiB of answers, says so on stderr, and answers them all, in order, once it reads again", async () => {
    const { server, run: r, socket } = await editorListening(kind);
    let stderr = "";
    r.proc.stderr!.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    try {
      const m = messagesOf(socket);
      socket.write(frame(INIT));
      await m.next((x) => x.id === 1);
      socket.write(frame({ jsonrpc: "2.0", method: "initialized", params: {} }));
      // it stops reading; each request's answer (Unhandled method NAME) is 20 KB: 600 make 12 MB
      socket.pause();
      const N = 600;
      const send = (from: number, count: number): void => {
        for (let i = from; i < from + count; i++) socket.write(frame({ jsonrpc: "2.0", id: 100 + i, method: `x/${"m".repeat(20_000)}` }));
      };
      send(0, N);
      for (let i = 0; i < 600 && !stderr.includes("reading its messages is paused"); i++) await new Promise((res) => setTimeout(res, 50));
      expect(stderr).toMatch(/the client has not read \d+\.\d MiB of the server's messages: reading its messages is paused until it reads them/);
      // 24 MB more: before, the server read them all too and queued them and their answers in its
      // memory (the client's writes were all taken); now most of them wait on the client's side (the
      // kernel's buffers take a few MB of them: up to 10 MB over TCP on this machine)
      send(N, 2 * N);
      await new Promise((res) => setTimeout(res, 1500));
      expect(socket.writableLength).toBeGreaterThan(4 * 1024 * 1024);
      socket.resume();
      for (let t = Date.now(); Date.now() - t < 30_000 && !m.all.some((x) => x.id === 100 + 3 * N - 1); ) await new Promise((res) => setTimeout(res, 50));
      expect((m.all.find((x) => x.id === 100 + 3 * N - 1)?.error as { code: number } | undefined)?.code).toBe(-32601);
      const ids = m.all.filter((x) => typeof x.id === "number" && x.id >= 100).map((x) => x.id);
      expect(ids).toEqual(Array.from({ length: 3 * N }, (_, i) => 100 + i));
      for (let i = 0; i < 100 && !stderr.includes("resumed"); i++) await new Promise((res) => setTimeout(res, 50));
      expect(stderr).toContain("the client reads the server's messages again: reading its messages resumed");
      socket.write(frame({ jsonrpc: "2.0", id: 2, method: "shutdown" }));
      await m.next((x) => x.id === 2);
      socket.write(frame({ jsonrpc: "2.0", method: "exit" }));
      expect((await within(r.exited, 20_000, r.proc)) as { code: number }).toMatchObject({ code: 0 });
    } finally {
      socket.destroy();
      server.close();
      if (r.proc.exitCode === null) r.proc.kill("SIGKILL");
    }
  }, 60_000);
});

describe("--stdio, a client that stops reading", () => {
  it("a workspace with many diagnostics and a client that stops reading stdout: the server says so on stderr, disconnects above the bound (lowered to 256 KiB by STELLAR_SECRETS_LSP_UNREAD_LIMIT) and ends with 1 within 5 s, instead of keeping them all", async () => {
    // 300 config files, each with 12 findings (an unknown connection, 11 unknown secrets): about 2 MB of publishDiagnostics
    const files: Record<string, string> = {};
    for (let i = 0; i < 300; i++) {
      const headers = Array.from({ length: 11 }, (_, j) => `  - { name: X-Key-${j}, type: secret, secret: missing_secret_${i}_${j} }`).join("\n");
      files[`actions/a${i}.yaml`] = `kind: action\nname: action_${i}\nconnection: no_such_connection\nmethod: POST\npath: /x\nheaders:\n${headers}\n`;
    }
    const project = await makeProject({ secrets: { development: {} }, environments: ["development"], files });
    const proc = spawn(process.execPath, [SERVER_BIN, "--stdio"], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, STELLAR_SECRETS_NO_INDEX_CACHE: "1", STELLAR_SECRETS_LSP_UNREAD_LIMIT: String(256 * 1024) },
    });
    let stderr = "";
    let disconnectedAt = 0;
    proc.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString("utf8");
      if (disconnectedAt === 0 && stderr.includes("disconnected; the server ends with 1")) disconnectedAt = Date.now();
    });
    proc.stdin!.on("error", () => {});
    const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
    let out = "";
    const onData = (d: Buffer): void => void (out += d.toString("latin1"));
    proc.stdout!.on("data", onData);
    try {
      proc.stdin!.write(frame({ ...INIT, params: { processId: null, rootUri: pathToFileURL(project.dir).href, capabilities: {} } }));
      for (let i = 0; i < 400 && !out.includes('"id":1'); i++) await new Promise((r) => setTimeout(r, 25));
      expect(out).toContain('"id":1');
      // it stops reading stdout (its process hung): the pipe fills, then the server's own buffer
      proc.stdout!.off("data", onData);
      proc.stdout!.pause();
      proc.stdin!.write(frame({ jsonrpc: "2.0", method: "initialized", params: {} }));
      expect(await within(exited, 60_000, proc)).toBe(1);
      expect(stderr).toMatch(/the client has not read \d+ KiB of the server's messages: reading its messages is paused until it reads them \(above 256 KiB it is disconnected\)/);
      expect(stderr).toMatch(/the client has not read \d+ KiB of the server's messages \(the bound is 256 KiB\): disconnected; the server ends with 1/);
      // ended at once once disconnected (not hung on the pipe nobody reads)
      expect(disconnectedAt).toBeGreaterThan(0);
      expect(Date.now() - disconnectedAt).toBeLessThan(5000);
      expect(stderr).not.toContain("Sending log message failed");
      // nothing sent after the end: before, the diagnostics still being sent each threw "Connection is closed", logged as an uncaught exception
      expect(stderr).not.toContain("uncaught");
    } finally {
      proc.stdout!.destroy();
      if (proc.exitCode === null) proc.kill("SIGKILL");
      project.remove();
    }
  }, 90_000);
});

describe("--node-ipc", () => {
  it("a client that stops reading the IPC channel: the server logs the pressure, disconnects it above the bound (lowered to 1 MiB by STELLAR_SECRETS_LSP_UNREAD_LIMIT, for tests) and ends with 1", async () => {
    // node's IPC channel over a socket the test holds itself (NODE_CHANNEL_FD, as fork sets it up):
    // it can stop reading it, which a forked child's parent cannot
    const proc = spawn(process.execPath, [SERVER_BIN, "--node-ipc"], {
      stdio: ["ignore", "ignore", "pipe", "pipe"],
      env: { ...process.env, NODE_CHANNEL_FD: "3", NODE_CHANNEL_SERIALIZATION_MODE: "json", STELLAR_SECRETS_LSP_UNREAD_LIMIT: String(1024 * 1024) },
    });
    const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
    let stderr = "";
    proc.stderr!.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    const channel = proc.stdio[3] as Socket;
    channel.on("error", () => {});
    let buffered = "";
    const got: Record<string, unknown>[] = [];
    const onData = (d: Buffer): void => {
      buffered += d.toString("utf8");
      for (let i = buffered.indexOf("\n"); i !== -1; i = buffered.indexOf("\n")) {
        got.push(JSON.parse(buffered.slice(0, i)) as Record<string, unknown>);
        buffered = buffered.slice(i + 1);
      }
    };
    channel.on("data", onData);
    const send = (m: unknown): boolean => channel.write(`${JSON.stringify(m)}\n`);
    try {
      send(INIT);
      for (let i = 0; i < 200 && !got.some((m) => m.id === 1); i++) await new Promise((r) => setTimeout(r, 50));
      expect(got.find((m) => m.id === 1)?.result).toBeDefined();
      send({ jsonrpc: "2.0", method: "initialized", params: {} });
      // it stops reading; each request's answer (Unhandled method NAME) is 20 KB: 400 make 8 MB
      channel.off("data", onData);
      channel.pause();
      for (let i = 0; i < 400; i++) send({ jsonrpc: "2.0", id: 100 + i, method: `x/${"m".repeat(20_000)}` });
      expect(await within(exited, 20_000, proc)).toBe(1);
      expect(stderr).toMatch(/the client has not read \d+ KiB of the server's messages \(above 1\.0 MiB it is disconnected\)/);
      expect(stderr).toMatch(/the client has not read 1\.\d MiB of the server's messages \(the bound is 1\.0 MiB\): disconnected; the server ends with 1/);
      // (before, it kept every answer in memory for as long as the client lived; and once the writer refused them, a loop of failed log messages kept the process from ending)
      expect(stderr).not.toContain("Sending log message failed");
    } finally {
      channel.destroy();
      if (proc.exitCode === null) proc.kill("SIGKILL");
    }
  }, 30_000);

  it("answers a message that is no message with Invalid Request, logs it without its content, and ends with 1 when the channel closes without shutdown", async () => {
    const proc = fork(SERVER_BIN, ["--node-ipc"], { stdio: ["ignore", "ignore", "ignore", "ipc"] });
    const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
    const got: Record<string, unknown>[] = [];
    proc.on("message", (m) => got.push(m as Record<string, unknown>));
    try {
      const TEXT = "TEST-ONLY a document's text the client sent by mistake";
      proc.send(TEXT);
      proc.send([{ jsonrpc: "2.0", id: 9, method: "initialize" }]);
      proc.send({ jsonrpc: "2.0", id: 7, method: 42 });
      proc.send(INIT);
      for (let i = 0; i < 200 && !got.some((m) => m.id === 1); i++) await new Promise((r) => setTimeout(r, 50));
      expect(got.find((m) => m.id === 1)?.result).toBeDefined();
      const errors = got.filter((m) => m.error !== undefined).map((m) => [m.id, (m.error as { code: number }).code]);
      expect(errors).toEqual([
        [null, -32600],
        [null, -32600],
        [7, -32600],
      ]);
      // the log says what was wrong, never what was sent
      expect(JSON.stringify(got)).not.toContain("TEST-ONLY");
      proc.disconnect();
      expect(await within(exited, 20_000, proc)).toBe(1);
    } finally {
      if (proc.exitCode === null) proc.kill("SIGKILL");
    }
  });
});
