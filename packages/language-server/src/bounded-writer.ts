/**
 * The writer of the server's messages on a byte stream (stdout with `--stdio`, the editor's socket
 * with `--socket`, its pipe with `--pipe`), with a bound on what the client has not read.
 *
 * `vscode-jsonrpc`'s `StreamMessageWriter` writes one message at a time and waits for the stream to
 * take it before the next: when the client stops reading (its window hung, a plugin stuck on
 * something else), the kernel's buffers fill, the stream stops taking bytes, and every later
 * message (answers, pushed diagnostics, log lines) waits in memory in the writer's queue, without
 * bound, for as long as the client lives.
 *
 * {@link BoundedStreamWriter} frames each message itself (`Content-Length` of its UTF-8 bytes, as
 * the library does) and counts the bytes the stream has not handed to the operating system yet:
 * - above `pauseAt` it calls `onPressure(true)`: the transport stops reading the client's messages
 *   (`main.ts` pauses the input stream), so a client that keeps writing requests but reads no
 *   answer gets no more answers queued for it; once the count falls to `resumeAt`, `onPressure(false)`
 *   and reading goes on where it stopped (no message is lost or reordered);
 * - above `limit` (messages the server writes on its own: diagnostics of a large workspace, logs,
 *   with reading paused) it calls `onOverflow` once, with the count: the transport logs it and
 *   disconnects (the process ends with 1, as when the client closes without `shutdown`), and every
 *   later write is dropped (resolved unsent: a refusal was logged through the connection, whose log
 *   message was refused in turn, a loop of promises in which the process never ended).
 * The count is of bytes, never of what they say: the reports hold sizes only (a document's text may
 * hold a credential).
 */
import type { Message } from "vscode-languageserver/node";
import { AbstractMessageWriter } from "./lsp.js";

/** The stream the writer writes to: a `net.Socket`, `process.stdout`. */
export interface ByteSink {
  write(chunk: Buffer, callback: (error?: Error | null) => void): boolean;
  on(event: "error" | "close", listener: (...args: unknown[]) => void): unknown;
  end(): unknown;
}

/** The bounds of a {@link BoundedStreamWriter}, in bytes not yet taken by the operating system. */
export interface WriterBounds {
  /** Reading is paused above this many bytes. */
  pauseAt: number;
  /** And resumed at or below this many. */
  resumeAt: number;
  /** Above this many, the client is disconnected. */
  limit: number;
}

/** The bounds the transports use: reading paused above 4 MiB unread, resumed at 1 MiB, the client disconnected above 64 MiB. */
export const WRITER_BOUNDS: WriterBounds = { pauseAt: 4 * 1024 * 1024, resumeAt: 1024 * 1024, limit: 64 * 1024 * 1024 };

/** The environment variable that lowers {@link WRITER_BOUNDS}' `limit` (bytes), for tests: a real process disconnected in a second rather than after 64 MiB. A value that is no whole number, or is not lower, is ignored. */
export const UNREAD_LIMIT_VARIABLE = "STELLAR_SECRETS_LSP_UNREAD_LIMIT";

/** The bounds the transports use: {@link WRITER_BOUNDS}, with the limit lowered by {@link UNREAD_LIMIT_VARIABLE} (the pause and resume points lowered with it, to a quarter and a sixteenth of it at most). */
export function writerBounds(env: NodeJS.ProcessEnv): WriterBounds {
  const given = env[UNREAD_LIMIT_VARIABLE];
  const limit = given !== undefined && /^[1-9][0-9]{0,15}$/.test(given) ? Number(given) : Number.POSITIVE_INFINITY;
  if (!(limit < WRITER_BOUNDS.limit)) return WRITER_BOUNDS;
  return { limit, pauseAt: Math.min(WRITER_BOUNDS.pauseAt, Math.floor(limit / 4)), resumeAt: Math.min(WRITER_BOUNDS.resumeAt, Math.floor(limit / 16)) };
}

/** What the writer tells the transport. */
export interface WriterHandlers {
  /** True when the unread bytes went above `pauseAt` (stop reading), false when they fell back to `resumeAt` (read again). */
  onPressure: (paused: boolean, unreadBytes: number) => void;
  /** Once, when the unread bytes went above `limit`. */
  onOverflow: (unreadBytes: number) => void;
}

const CRLF2 = "\r\n\r\n";

/** A message as the Base Protocol frames it: `Content-Length: N\r\n\r\n` (N = UTF-8 bytes of the JSON), then the JSON. */
export function framed(msg: Message): Buffer {
  const body = JSON.stringify(msg);
  const length = Buffer.byteLength(body, "utf8");
  const header = `Content-Length: ${length}${CRLF2}`;
  const out = Buffer.allocUnsafe(header.length + length);
  out.write(header, 0, "latin1");
  out.write(body, header.length, "utf8");
  return out;
}

/** A `MessageWriter` on a byte stream that bounds what the client has not read; see the module comment. */
export class BoundedStreamWriter extends AbstractMessageWriter {
  private unread = 0;
  private paused = false;
  private overflowed = false;
  private errorCount = 0;

  constructor(
    private readonly sink: ByteSink,
    private readonly handlers: WriterHandlers,
    private readonly bounds: WriterBounds = WRITER_BOUNDS,
  ) {
    super();
    sink.on("error", (e) => this.fireError(e instanceof Error ? e : new Error(String(e))));
    sink.on("close", () => this.fireClose());
  }

  /** The bytes written that the stream has not handed to the operating system yet. */
  get unreadBytes(): number {
    return this.unread;
  }

  write(msg: Message): Promise<void> {
    // (dropped, not refused: each refusal was logged through the connection, whose log message was refused in turn,
    // a loop of promises that never let the process end; the transport ends it)
    if (this.overflowed) return Promise.resolve();
    const bytes = framed(msg);
    const size = bytes.length;
    this.unread += size;
    const done = new Promise<void>((resolve, reject) => {
      try {
        this.sink.write(bytes, (error) => {
          this.unread -= size;
          if (this.paused && !this.overflowed && this.unread <= this.bounds.resumeAt) {
            this.paused = false;
            this.handlers.onPressure(false, this.unread);
          }
          if (error === undefined || error === null) {
            this.errorCount = 0;
            resolve();
          } else {
            this.errorCount++;
            this.fireError(error, msg, this.errorCount);
            reject(error);
          }
        });
      } catch (e) {
        this.unread -= size;
        this.errorCount++;
        const error = e instanceof Error ? e : new Error(String(e));
        this.fireError(error, msg, this.errorCount);
        reject(error);
      }
    });
    if (this.unread > this.bounds.limit) {
      this.overflowed = true;
      this.handlers.onOverflow(this.unread);
    } else if (!this.paused && this.unread > this.bounds.pauseAt) {
      this.paused = true;
      this.handlers.onPressure(true, this.unread);
    }
    return done;
  }

  end(): void {
    this.sink.end();
  }
}

/** Node's IPC channel as the server writes to it (`process`). */
export interface IpcSink {
  /** `process.send`: false when the channel's backlog is over node's threshold (or it is closed); the callback once the message was handed to the operating system, or failed. */
  send(message: unknown, sendHandle: undefined, options: undefined, callback: (error: Error | null) => void): boolean;
}

/**
 * The writer of the server's messages on node's IPC channel (`--node-ipc`, the VS Code extension's
 * transport), with a bound on what the client has not read. `vscode-jsonrpc`'s `IPCMessageWriter`
 * sends one message at a time and keeps the others in an array until the channel took the one before:
 * a client whose process stops reading (hung, busy) made that array grow without bound. Node gives no
 * count of the bytes waiting in the channel, but `process.send` returns false once its backlog is
 * over node's threshold (128 KiB of serialized messages waiting in libuv), and its callback says when
 * a message was handed to the operating system. So: while the channel takes them, messages are sent
 * at once and never measured (no second serialization: the common case costs nothing more); once a
 * send returned false, the messages that follow wait here, each measured (its JSON's UTF-8 bytes,
 * as node's `json` serialization writes it, plus the line break), until every message sent has been
 * taken; then they are sent in order. The bytes waiting here are bounded as
 * {@link BoundedStreamWriter}'s are: `onPressure` above `pauseAt` (and back at `resumeAt`), and
 * `onOverflow` once above `limit` (the transport disconnects; the messages waiting and every later write are dropped). What is
 * not counted: node's own backlog (128 KiB and the message that crossed it) and the kernel's buffers.
 * Reading cannot be paused over IPC (node reads the channel itself): the transport only logs the
 * pressure.
 */
export class BoundedIpcWriter extends AbstractMessageWriter {
  private inFlight = 0;
  private blocked = false;
  private readonly queue: { msg: Message; size: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  private waiting = 0;
  private paused = false;
  private overflowed = false;
  private errorCount = 0;

  constructor(
    private readonly channel: IpcSink,
    private readonly handlers: WriterHandlers,
    private readonly bounds: WriterBounds = WRITER_BOUNDS,
  ) {
    super();
  }

  /** The bytes of the messages waiting for the channel to take those sent before them. */
  get unreadBytes(): number {
    return this.waiting;
  }

  write(msg: Message): Promise<void> {
    if (this.overflowed) return Promise.resolve(); // dropped (see BoundedStreamWriter.write)
    if (!this.blocked && this.queue.length === 0) return this.send(msg);
    const size = Buffer.byteLength(JSON.stringify(msg), "utf8") + 1;
    const done = new Promise<void>((resolve, reject) => this.queue.push({ msg, size, resolve, reject }));
    this.waiting += size;
    if (this.waiting > this.bounds.limit) {
      this.overflowed = true;
      const waiting = this.waiting;
      // the messages waiting are dropped with the client (and their memory freed)
      for (const q of this.queue.splice(0)) q.resolve();
      this.waiting = 0;
      this.handlers.onOverflow(waiting);
    } else if (!this.paused && this.waiting > this.bounds.pauseAt) {
      this.paused = true;
      this.handlers.onPressure(true, this.waiting);
    }
    return done;
  }

  private send(msg: Message): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.inFlight++;
      let taken: boolean;
      try {
        taken = this.channel.send(msg, undefined, undefined, (error) => {
          this.inFlight--;
          if (error === null || error === undefined) {
            this.errorCount = 0;
            resolve();
          } else {
            this.errorCount++;
            this.fireError(error, msg, this.errorCount);
            reject(error);
          }
          if (this.inFlight === 0) {
            this.blocked = false;
            this.drain();
          }
        });
      } catch (e) {
        this.inFlight--;
        this.errorCount++;
        const error = e instanceof Error ? e : new Error(String(e));
        this.fireError(error, msg, this.errorCount);
        reject(error);
        return;
      }
      if (!taken) this.blocked = true;
    });
  }

  /** Sends the waiting messages, in order, until the channel's backlog is over node's threshold again. */
  private drain(): void {
    while (!this.blocked && !this.overflowed && this.queue.length > 0) {
      const next = this.queue.shift()!;
      this.waiting -= next.size;
      this.send(next.msg).then(next.resolve, next.reject);
    }
    if (this.paused && !this.overflowed && this.waiting <= this.bounds.resumeAt) {
      this.paused = false;
      this.handlers.onPressure(false, this.waiting);
    }
  }

  end(): void {}
}

/** `n` bytes as the logs say it (`3.2 MiB`, `512 KiB`). */
export function sizeOf(n: number): string {
  return n >= 1024 * 1024 ? `${(n / (1024 * 1024)).toFixed(1)} MiB` : `${Math.ceil(n / 1024)} KiB`;
}
