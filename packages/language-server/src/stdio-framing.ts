/**
 * The framing of the messages a client writes on the server's stdin (`--stdio`): `Content-Length`
 * headers, a blank line, then that many bytes of JSON (LSP 3.17, "Base Protocol"). The reader of
 * `vscode-jsonrpc` takes a header without `Content-Length`, or a `Content-Length` that does not match
 * the body, as the end of the conversation: it reports an error no one listens to, and every message
 * after it is read at a wrong offset and dropped, so the server hangs silently, answering nothing,
 * `shutdown` included. It also drops a body that is not JSON, or not a JSON-RPC message, without an
 * answer. Hand-written clients do this: a `Content-Length` counted in characters instead of UTF-8
 * bytes (a JavaScript `string.length`, a Vim `strchars()`) is too short for every message with a
 * non-ASCII character.
 *
 * {@link MessageFramer} reads the stream instead, and never loses its place:
 * - a `$/cancelRequest` without the id of a request is dropped and reported (`vscode-jsonrpc` throws on
 *   it, and lost the messages read with it), and a message the connection throws on loses only itself;
 * - a header's lines may end with `\n` instead of the specification's `\r\n` (`Content-Length: 42\n\n`,
 *   as some hand-written clients write it), or mix both: it is read as the same header;
 * - bytes where a header should be (the rest of a body longer than its `Content-Length`, noise) are
 *   skipped up to the next `Content-Length` header, and reported;
 * - a body whose `Content-Length` was too short (it ends inside its JSON) is completed with the bytes
 *   up to the next header, and one that was too long (it holds the next message's header) is cut
 *   there: when that gives one JSON value, the message is taken, and the mismatch is reported;
 * - a body that is not JSON is answered with a Parse error (-32700, `id: null`), and a value that is
 *   no JSON-RPC message (an array: LSP has no batches; a `method` that is no string, an `id` that is
 *   no string or number) with an Invalid Request (-32600), under its `id` when it has one.
 * Reports never hold the message's bytes (a document's text may hold a credential): only sizes,
 * offsets and what was wrong. {@link FramedStdinReader} is the `MessageReader` over it that `main.ts`
 * gives the connection.
 */
import type { DataCallback, Disposable, Message, MessageReader } from "vscode-languageserver/node";
import { AbstractMessageReader } from "./lsp.js";

/** The notification that cancels a request (`params.id`). */
const CANCEL_METHOD = "$/cancelRequest";

/** What is reported of a {@link cancelWithoutId} message (dropped). */
const CANCEL_WITHOUT_ID = `a ${CANCEL_METHOD} without the id (a string or number params.id) of the request to cancel: dropped`;

/**
 * True when `message` is a `$/cancelRequest` without the id of a request (no `params`, or a
 * `params.id` that is no string or number): `vscode-jsonrpc` reads that id before anything else and
 * throws on a missing or null one, losing the messages read with it.
 */
export function cancelWithoutId(message: unknown): boolean {
  if (!isObject(message) || message.method !== CANCEL_METHOD) return false;
  return !(isObject(message.params) && isId(message.params.id));
}

/** JSON-RPC's Parse error: the body is not JSON. */
export const PARSE_ERROR = -32700;
/** JSON-RPC's Invalid Request: JSON, but not a JSON-RPC message. */
export const INVALID_REQUEST = -32600;

/** What the framer read: a message, something it answers with an error, or something it only reports. */
export type FrameEvent =
  | { type: "message"; message: Message }
  /** A body that is not a message: answer `{ id, error: { code, message: reason } }`. */
  | { type: "invalid"; id: number | string | null; code: typeof PARSE_ERROR | typeof INVALID_REQUEST; reason: string }
  /** Something to report only (bytes skipped, a message taken despite a wrong `Content-Length`). */
  | { type: "warning"; reason: string };

/** The most bytes kept while looking for the end of a header: a header is a few dozen bytes. */
export const MAX_HEADER_BYTES = 64 * 1024;

const HEADER_END = Buffer.from("\r\n\r\n", "latin1");
const LF = 0x0a;
const CR = 0x0d;

/**
 * Where the first header block of `bytes` ends: `end`, the offset of its blank line's line break (the
 * header's text is `bytes[0, end)`), and `next`, the offset after it (where the body starts); undefined
 * while no blank line has come. The specification separates lines with `\r\n`; hand-written clients
 * send `\n` (the header `Content-Length: 42\n\n`), or mix both: a line ends at `\n`, with or
 * without a `\r` before it, so `\r\n\r\n`, `\n\n`, `\r\n\n` and `\n\r\n` all end a header.
 */
function headerEnd(bytes: Buffer): { end: number; next: number } | undefined {
  for (let i = bytes.indexOf(LF); i !== -1; i = bytes.indexOf(LF, i + 1)) {
    const next = bytes[i + 1] === LF ? i + 2 : bytes[i + 1] === CR && bytes[i + 2] === LF ? i + 3 : -1;
    if (next !== -1) return { end: i > 0 && bytes[i - 1] === CR ? i - 1 : i, next };
  }
  return undefined;
}
const HEADER_LINE = /^[!#-'*+.0-9A-Z^-z|~-]+[ \t]*:[ \t]*[^\r\n]*$/;
const CONTENT_LENGTH_LINE = /^content-length[ \t]*:[ \t]*(\d+)[ \t]*$/i;
/** Where a `Content-Length` header starts in text that should have been a header (latin1: one character a byte). */
const CONTENT_LENGTH_AT = /content-length[ \t]*:/gi;

/** The `Content-Length` of a header block when every line is a header line and one is a valid `Content-Length`; else undefined. */
function cleanHeader(head: string): number | undefined {
  let length: number | undefined;
  for (const line of head.split(/\r?\n/)) {
    if (!HEADER_LINE.test(line)) return undefined;
    const m = CONTENT_LENGTH_LINE.exec(line);
    if (m !== null) length = Number(m[1]);
  }
  return length !== undefined && Number.isSafeInteger(length) ? length : undefined;
}

/** Offsets in `text` where a `Content-Length:` header starts, after `from`. */
function contentLengthOffsets(text: string, from = 0): number[] {
  const out: number[] = [];
  CONTENT_LENGTH_AT.lastIndex = from;
  for (let m = CONTENT_LENGTH_AT.exec(text); m !== null; m = CONTENT_LENGTH_AT.exec(text)) out.push(m.index);
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const isId = (v: unknown): v is number | string => typeof v === "number" || typeof v === "string";

/** The JSON value of `bytes`, or `undefined` (not JSON; a body is never the JSON text `undefined`). */
function parseJson(bytes: Buffer): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(bytes.toString("utf8")) as unknown };
  } catch {
    return undefined;
  }
}

/** The event of a parsed JSON value: a message, or the Invalid Request it is (also of each message of node's IPC channel: transports.ts). */
export function messageEvent(value: unknown): FrameEvent {
  if (Array.isArray(value)) return { type: "invalid", id: null, code: INVALID_REQUEST, reason: "a JSON array (a JSON-RPC batch): LSP messages are sent one by one" };
  if (!isObject(value)) return { type: "invalid", id: null, code: INVALID_REQUEST, reason: "a JSON value that is no object: a message is a JSON-RPC object" };
  const id = isId(value.id) ? value.id : null;
  if ("id" in value && value.id !== null && !isId(value.id)) return { type: "invalid", id: null, code: INVALID_REQUEST, reason: "an id that is no string or number" };
  if ("method" in value) {
    if (typeof value.method !== "string") return { type: "invalid", id, code: INVALID_REQUEST, reason: "a method that is no string" };
    if ("id" in value && value.id === null) return { type: "invalid", id: null, code: INVALID_REQUEST, reason: `${value.method} with id null: a request needs a string or number id, a notification none` };
    // vscode-jsonrpc reads a cancellation's `params.id` before anything else, and throws on a missing or
    // null one, losing the messages read with it: the server then answered nothing more
    if (!("id" in value) && cancelWithoutId(value)) return { type: "warning", reason: CANCEL_WITHOUT_ID };
    return { type: "message", message: value as unknown as Message };
  }
  if (isId(value.id) && ("result" in value || "error" in value)) return { type: "message", message: value as unknown as Message };
  return { type: "invalid", id, code: INVALID_REQUEST, reason: "neither a request (a method), a notification (a method, no id) nor a response (an id and a result or an error)" };
}

/** Reads framed messages from the bytes of a stream, in the order they come; see the module comment. */
export class MessageFramer {
  private chunks: Buffer[] = [];
  private size = 0;
  /** The length of the body being read; undefined while reading a header. */
  private bodyLength: number | undefined;
  /** A body that was not JSON and may be the start of one whose `Content-Length` was too short (it is completed with the bytes up to the next header). */
  private pending: { body: Buffer; length: number } | undefined;

  /** The events of the bytes read so far that `chunk` completes. */
  push(chunk: Buffer): FrameEvent[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.size += chunk.length;
    }
    const events: FrameEvent[] = [];
    for (;;) {
      if (this.bodyLength === undefined) {
        if (!this.readHeader(events)) break;
      } else {
        if (this.size < this.bodyLength) break;
        const all = this.take(this.size);
        this.keep(all.subarray(this.bodyLength));
        const body = all.subarray(0, this.bodyLength);
        this.bodyLength = undefined;
        this.readBody(body, events);
      }
    }
    return events;
  }

  /**
   * What the bytes read so far are when no more come (call it when the stream is quiet): a body
   * that was not JSON, kept in case the bytes after it completed it, gets its Parse error, unless
   * the bytes after it do complete it; a body shorter than its `Content-Length` that is one whole
   * JSON value already (a `Content-Length` too long, and nothing sent after it) is taken.
   */
  flush(): FrameEvent[] {
    const events: FrameEvent[] = [];
    if (this.bodyLength !== undefined) {
      if (this.size === 0) return events;
      const all = this.take(this.size);
      const parsed = parseJson(all);
      if (parsed !== undefined) {
        events.push({ type: "warning", reason: `a message of ${all.length} bytes came with Content-Length: ${this.bodyLength} and nothing after it (it counts the body's UTF-8 bytes); taken` });
        events.push(messageEvent(parsed.value));
        this.bodyLength = undefined;
        return events;
      }
      // a Content-Length far too long, and the messages after it still waiting in it: cut at the first header after one JSON value
      for (const at of contentLengthOffsets(all.toString("latin1"), 1)) {
        const first = parseJson(all.subarray(0, at));
        if (first === undefined) continue;
        events.push({ type: "warning", reason: `a message of ${at} bytes came with Content-Length: ${this.bodyLength} (it counts the body's UTF-8 bytes); taken` });
        events.push(messageEvent(first.value));
        this.bodyLength = undefined;
        this.keep(all.subarray(at));
        events.push(...this.push(Buffer.alloc(0)));
        return events;
      }
      this.keep(all);
      return events;
    }
    if (this.pending === undefined) return events;
    // the bytes that came after it, up to the next header (or all of them): the rest of its JSON?
    const all = this.take(this.size);
    const at = contentLengthOffsets(all.toString("latin1"))[0] ?? all.length;
    this.keep(all.subarray(at));
    this.settlePending(all.subarray(0, at), events);
    // (a header after it: read now)
    if (this.size > 0) events.push(...this.push(Buffer.alloc(0)));
    return events;
  }

  /** True when the bytes read so far may be something once the stream is quiet ({@link flush}). */
  get waiting(): boolean {
    return this.pending !== undefined || (this.bodyLength !== undefined && this.size > 0);
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
    this.chunks = [];
    this.size = 0;
    return n === all.length ? all : all.subarray(0, n);
  }

  private keep(rest: Buffer): void {
    this.chunks = rest.length > 0 ? [rest, ...this.chunks] : this.chunks;
    this.size += rest.length;
  }

  private parseError(length: number): FrameEvent {
    return { type: "invalid", id: null, code: PARSE_ERROR, reason: `a body of ${length} bytes that is not JSON` };
  }

  /** The pending body followed by `junk` (bytes read where a header should have been): one message, or the pending body's Parse error and the skipped bytes. */
  private settlePending(junk: Buffer, events: FrameEvent[]): void {
    const p = this.pending;
    this.pending = undefined;
    if (p === undefined) {
      if (junk.length > 0) events.push({ type: "warning", reason: `skipped ${junk.length} bytes that are not a message header` });
      return;
    }
    const whole = parseJson(Buffer.concat([p.body, junk]));
    if (whole !== undefined) {
      events.push({ type: "warning", reason: `a message of ${p.length + junk.length} bytes came with Content-Length: ${p.length} (it counts the body's UTF-8 bytes); taken` });
      events.push(messageEvent(whole.value));
      return;
    }
    events.push(this.parseError(p.length));
    if (junk.length > 0) events.push({ type: "warning", reason: `skipped ${junk.length} bytes that are not a message header` });
  }

  /** Reads one header when it is all there; false when more bytes are needed. */
  private readHeader(events: FrameEvent[]): boolean {
    if (this.size === 0) return false;
    const all = this.take(this.size);
    const found = headerEnd(all);
    if (found === undefined) {
      // a pending body completed by the bytes that came so far (a too-short Content-Length, and no message after it yet)
      if (this.pending !== undefined) {
        const at = contentLengthOffsets(all.toString("latin1"))[0];
        const head = all.subarray(0, at ?? all.length);
        if (parseJson(Buffer.concat([this.pending.body, head])) !== undefined) {
          this.keep(all.subarray(head.length));
          this.settlePending(head, events);
          return true;
        }
      }
      if (all.length > MAX_HEADER_BYTES) {
        // no header end in far more bytes than any header: keep from the last `Content-Length` (or the last few bytes)
        const text = all.toString("latin1");
        const last = contentLengthOffsets(text).at(-1);
        const from = last !== undefined && last > 0 ? last : all.length - HEADER_END.length;
        this.keep(all.subarray(from));
        this.settlePending(all.subarray(0, from), events);
        return true;
      }
      this.keep(all);
      return false;
    }
    const { end, next: bodyStart } = found;
    const head = all.toString("latin1", 0, end);
    const length = cleanHeader(head);
    if (length !== undefined) {
      if (this.pending !== undefined) this.settlePending(Buffer.alloc(0), events);
      this.keep(all.subarray(bodyStart));
      this.bodyLength = length;
      return true;
    }
    // not a header: skip to the next `Content-Length` in it (the start of a header run into the bytes before it), else past it
    const next = contentLengthOffsets(head, 1).at(-1);
    const skip = next ?? bodyStart;
    this.keep(all.subarray(skip));
    if (next === undefined && this.pending === undefined) {
      events.push({ type: "warning", reason: `skipped a header of ${skip} bytes without a valid Content-Length` });
      return true;
    }
    this.settlePending(all.subarray(0, skip), events);
    return true;
  }

  /** Reads one body: a message, or what is wrong with it. */
  private readBody(body: Buffer, events: FrameEvent[]): void {
    const parsed = parseJson(body);
    if (parsed !== undefined) {
      events.push(messageEvent(parsed.value));
      return;
    }
    // a Content-Length too long: the body runs into the next message's header
    const text = body.toString("latin1");
    for (const at of contentLengthOffsets(text, 1)) {
      const first = parseJson(body.subarray(0, at));
      if (first === undefined) continue;
      events.push({ type: "warning", reason: `a message of ${at} bytes came with Content-Length: ${body.length} (it counts the body's UTF-8 bytes); taken` });
      events.push(messageEvent(first.value));
      this.keep(body.subarray(at));
      return;
    }
    // a Content-Length too short, perhaps: the rest of the JSON comes where the next header should be
    this.pending = { body, length: body.length };
  }
}

/**
 * A `MessageReader` over a byte stream (the process's stdin) through a {@link MessageFramer}: the
 * messages go to the connection, each Invalid event to `onInvalid` (the server answers it), warnings
 * to `onWarning`. A body kept in case the next bytes complete it is settled after `quietMs` without data.
 */
export class FramedStdinReader extends AbstractMessageReader implements MessageReader {
  private readonly framer = new MessageFramer();
  private quietTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly input: NodeJS.ReadableStream,
    private readonly handlers: {
      onInvalid: (e: Extract<FrameEvent, { type: "invalid" }>) => void;
      onWarning: (reason: string) => void;
      /** Each message handed on to the connection (input-gate.ts counts them). */
      onMessage?: (message: Message) => void;
    },
    private readonly quietMs = 200,
  ) {
    super();
  }

  listen(callback: DataCallback): Disposable {
    const deliver = (events: FrameEvent[]): void => {
      for (const e of events) {
        if (e.type === "message") {
          // a message the connection fails on loses only itself, never the ones read with it
          try {
            this.handlers.onMessage?.(e.message);
            callback(e.message);
          } catch (err) {
            const method = (e.message as { method?: unknown }).method;
            this.handlers.onWarning(`a message${typeof method === "string" ? ` (${method})` : ""} the connection could not take (${err instanceof Error ? err.message : String(err)}): dropped`);
          }
        } else if (e.type === "invalid") this.handlers.onInvalid(e);
        else this.handlers.onWarning(e.reason);
      }
    };
    const onData = (chunk: Buffer | string): void => {
      clearTimeout(this.quietTimer);
      deliver(this.framer.push(typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk));
      if (this.framer.waiting) this.quietTimer = setTimeout(() => deliver(this.framer.flush()), this.quietMs);
    };
    const onError = (e: Error): void => this.fireError(e);
    const onClose = (): void => {
      clearTimeout(this.quietTimer);
      deliver(this.framer.flush());
      this.fireClose();
    };
    this.input.on("data", onData);
    this.input.on("error", onError);
    this.input.on("end", onClose);
    return {
      dispose: () => {
        clearTimeout(this.quietTimer);
        this.input.off("data", onData);
        this.input.off("error", onError);
        this.input.off("end", onClose);
      },
    };
  }
}

