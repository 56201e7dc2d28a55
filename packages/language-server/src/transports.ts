/**
 * The transports of the command line (`--stdio`, `--node-ipc`, `--socket=PORT`, `--pipe=NAME`),
 * read and checked here rather than by `vscode-languageserver`, which took a port that is no number
 * (`--socket=abc`, `--socket` alone) or out of range for none and crashed with a stack trace of the
 * bundle, ended with 0 and said nothing when the editor's socket or pipe was not there to connect
 * to, ended with 0 when the editor closed it without `shutdown`, read the socket's bytes with the
 * framing stdio no longer uses (a wrong `Content-Length` left it hung, answering nothing, `exit`
 * included), and with `--node-ipc` but no IPC channel (started from a shell) ended with 0, silently.
 *
 * With `--socket` and `--pipe` the server is the side that connects: the editor listens on the port
 * (127.0.0.1) or the pipe (a Unix socket, a Windows named pipe) and starts the server. A socket or
 * pipe is read through the same framing as stdin (`stdio-framing.ts`), and the process ends when it
 * closes: 0 after `shutdown`, else 1, as for stdio. Over `--node-ipc` each message comes whole; one
 * that is no JSON-RPC message is answered with Invalid Request and logged without its content,
 * where the library wrote it back in the client's log; the process ends when the channel closes.
 */
import { connect, type Socket } from "node:net";
import type { DataCallback, Disposable, MessageReader, ResponseMessage } from "vscode-languageserver/node";
import { AbstractMessageReader } from "./lsp.js";
import { messageEvent, PARSE_ERROR, type FrameEvent } from "./stdio-framing.js";

/** A transport of the command line. */
export type Transport = { kind: "stdio" } | { kind: "node-ipc" } | { kind: "socket"; port: number } | { kind: "pipe"; name: string };

/** The usage line (`--help`, and the end of every transport error). */
export const USAGE = "Usage: stellar-secrets-language-server --stdio | --node-ipc | --socket=PORT | --pipe=NAME";

/**
 * The transport the command line names (the first one given, as `vscode-languageserver` takes it):
 * `--stdio`, `--node-ipc`, `--socket=PORT` or `--socket PORT` (a port from 1 to 65535, on
 * 127.0.0.1), `--pipe=NAME` or `--pipe NAME`; `{ error }` when the value of `--socket` or `--pipe`
 * is missing or unusable; undefined when none is named.
 */
export function transportOf(argv: readonly string[]): Transport | { error: string } | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--stdio") return { kind: "stdio" };
    if (arg === "--node-ipc") return { kind: "node-ipc" };
    const m = /^--(socket|pipe)(?:=(.*))?$/s.exec(arg);
    if (m === null) continue;
    const flag = m[1] as "socket" | "pipe";
    const value = m[2] ?? (argv[i + 1] !== undefined && !(argv[i + 1] as string).startsWith("--") ? argv[i + 1] : undefined);
    if (flag === "pipe") {
      if (value === undefined || value === "") return { error: "--pipe needs the name of the pipe the editor listens on (--pipe=NAME)" };
      return { kind: "pipe", name: value };
    }
    if (value === undefined || value === "") return { error: "--socket needs the port the editor listens on (--socket=PORT, on 127.0.0.1)" };
    const port = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
    if (!(port >= 1 && port <= 65535)) return { error: `--socket=${JSON.stringify(value).slice(1, -1).slice(0, 40)} is no port: give the port (1 to 65535) the editor listens on, on 127.0.0.1` };
    return { kind: "socket", port };
  }
  return undefined;
}

/** Where a socket or pipe transport connects, as messages name it. */
export function placeOf(t: Extract<Transport, { kind: "socket" | "pipe" }>): string {
  return t.kind === "socket" ? `127.0.0.1:${t.port}` : `the pipe ${t.name}`;
}

/**
 * Connects to the editor's socket or pipe. `onFailure` is called once when it cannot connect (with
 * the reason: the error's code), `onClosed` once when the connection ends after it was made (the
 * editor closed it, or it broke: ECONNRESET, EPIPE); neither after the other.
 */
export function connectTo(t: Extract<Transport, { kind: "socket" | "pipe" }>, handlers: { onFailure: (code: string) => void; onClosed: () => void }): Socket {
  const socket = t.kind === "socket" ? connect(t.port, "127.0.0.1") : connect(t.name);
  let connected = false;
  let ended = false;
  socket.once("connect", () => (connected = true));
  const end = (e?: NodeJS.ErrnoException): void => {
    if (ended) return;
    ended = true;
    if (connected) handlers.onClosed();
    else handlers.onFailure(e?.code ?? (e?.message ?? "closed"));
  };
  socket.on("error", (e: NodeJS.ErrnoException) => end(e));
  socket.on("close", () => end());
  socket.on("end", () => end());
  return socket;
}

/** What a transport error's message says about how to fix it. */
export function connectFailure(t: Extract<Transport, { kind: "socket" | "pipe" }>, code: string): string {
  return (
    `stellar-secrets-language-server: could not connect to ${placeOf(t)} (${code}): with --${t.kind} the editor listens there first and then starts the server; ` +
    `check the editor's language server settings, or use --stdio`
  );
}

/**
 * A `MessageReader` over node's IPC channel (`--node-ipc`): each message comes whole and is checked
 * as a framed one is (`messageEvent`): a message goes to the connection, one that is no JSON-RPC
 * message to `onInvalid` (the server answers it), a `$/cancelRequest` without an id to `onWarning`.
 */
export class IpcMessageReader extends AbstractMessageReader implements MessageReader {
  constructor(
    private readonly channel: NodeJS.Process,
    private readonly handlers: { onInvalid: (e: Extract<FrameEvent, { type: "invalid" }>) => void; onWarning: (reason: string) => void },
  ) {
    super();
  }

  listen(callback: DataCallback): Disposable {
    const onMessage = (value: unknown): void => {
      const e = messageEvent(value);
      if (e.type === "invalid") return this.handlers.onInvalid(e);
      if (e.type === "warning") return this.handlers.onWarning(e.reason);
      try {
        callback(e.message);
      } catch (err) {
        const method = (e.message as { method?: unknown }).method;
        this.handlers.onWarning(`a message${typeof method === "string" ? ` (${method})` : ""} the connection could not take (${err instanceof Error ? err.message : String(err)}): dropped`);
      }
    };
    this.channel.on("message", onMessage);
    return { dispose: () => this.channel.off("message", onMessage) };
  }
}

/** The answer to a body that is no message (`invalid` of the framing). */
export function invalidAnswer(e: Extract<FrameEvent, { type: "invalid" }>): ResponseMessage {
  return { jsonrpc: "2.0", id: e.id, error: { code: e.code, message: `${e.code === PARSE_ERROR ? "Parse error" : "Invalid Request"}: ${e.reason}` } };
}
