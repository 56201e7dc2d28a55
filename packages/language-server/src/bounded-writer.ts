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
 *   later write is refused.
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
    if (this.overflowed) return Promise.reject(new Error("the client was disconnected: it had not read the server's messages"));
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

/** `n` bytes as the logs say it (`3.2 MiB`, `512 KiB`). */
export function sizeOf(n: number): string {
  return n >= 1024 * 1024 ? `${(n / (1024 * 1024)).toFixed(1)} MiB` : `${Math.ceil(n / 1024)} KiB`;
}
