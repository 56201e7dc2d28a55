/**
 * The writer of the server's messages with a bound on what the client has not read
 * (bounded-writer.ts), over an in-memory stream that holds every write until the test lets it
 * through (a client that stops reading: the operating system's buffers are full).
 */
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { BoundedIpcWriter, BoundedStreamWriter, framed, sizeOf, WRITER_BOUNDS, writerBounds, type ByteSink } from "./bounded-writer.js";
import { MessageFramer } from "./stdio-framing.js";

/** A stream that takes nothing until `release()` (a client that does not read). */
class HeldSink extends EventEmitter implements ByteSink {
  readonly written: Buffer[] = [];
  private readonly held: ((e?: Error | null) => void)[] = [];
  ended = false;
  write(chunk: Buffer, callback: (error?: Error | null) => void): boolean {
    this.written.push(chunk);
    this.held.push(callback);
    return false;
  }
  /** Lets `n` writes through (all by default), or fails them with `error`. */
  release(n = this.held.length, error?: Error): void {
    for (const cb of this.held.splice(0, n)) cb(error ?? null);
  }
  get waiting(): number {
    return this.held.length;
  }
  end(): void {
    this.ended = true;
  }
}

const note = (id: number, size: number) => ({ jsonrpc: "2.0" as const, id, result: "x".repeat(size) });

function writerOn(sink: HeldSink, bounds = { pauseAt: 1000, resumeAt: 400, limit: 5000 }) {
  const events: string[] = [];
  const writer = new BoundedStreamWriter(sink, { onPressure: (paused, unread) => events.push(`${paused ? "pause" : "resume"} ${unread}`), onOverflow: (unread) => events.push(`overflow ${unread}`) }, bounds);
  return { writer, events };
}

describe("the server's writer, when the client stops reading", () => {
  it("frames each message with the Content-Length of its UTF-8 bytes, in order (read back by the server's own framing)", async () => {
    const sink = new HeldSink();
    const { writer } = writerOn(sink);
    const a = writer.write({ jsonrpc: "2.0", id: 1, result: "é😀 — non-ASCII" } as never);
    const b = writer.write({ jsonrpc: "2.0", method: "window/logMessage", params: { type: 3, message: "ok" } } as never);
    sink.release();
    await Promise.all([a, b]);
    const f = new MessageFramer();
    const events = f.push(Buffer.concat(sink.written));
    expect(events).toEqual([
      { type: "message", message: { jsonrpc: "2.0", id: 1, result: "é😀 — non-ASCII" } },
      { type: "message", message: { jsonrpc: "2.0", method: "window/logMessage", params: { type: 3, message: "ok" } } },
    ]);
    expect(framed({ jsonrpc: "2.0", id: 1, result: "é" } as never).toString("latin1", 0, 20)).toBe("Content-Length: 38\r\n") // 37 characters, 38 UTF-8 bytes;
  });

  it("asks to pause reading above pauseAt unread bytes, and to resume at resumeAt once the client reads", async () => {
    const sink = new HeldSink();
    const { writer, events } = writerOn(sink);
    const size = framed(note(1, 200) as never).length;
    const writes = Array.from({ length: 5 }, (_, i) => writer.write(note(i, 200) as never));
    // 5 messages of `size` bytes: above 1000 at the fourth (or fifth), once
    const pausedAt = Math.floor(1000 / size) + 1;
    expect(events).toEqual([`pause ${pausedAt * size}`]);
    expect(writer.unreadBytes).toBe(5 * size);
    // the client reads two: still above 400
    sink.release(2);
    expect(events).toEqual([`pause ${pausedAt * size}`]);
    sink.release(2);
    expect(events).toEqual([`pause ${pausedAt * size}`, `resume ${size}`]);
    sink.release();
    await Promise.all(writes);
    expect(writer.unreadBytes).toBe(0);
    // and again, when it stops once more
    for (let i = 0; i < 6; i++) void writer.write(note(i, 200) as never);
    expect(events.filter((e) => e.startsWith("pause"))).toHaveLength(2);
  });

  it("reports once, above the limit, and drops every later write unsent, without an error (the transport disconnects the client; an error was logged through the connection, a loop)", async () => {
    const sink = new HeldSink();
    const { writer, events } = writerOn(sink);
    const size = framed(note(1, 900) as never).length;
    const n = Math.floor(5000 / size) + 1;
    for (let i = 0; i < n; i++) void writer.write(note(i, 900) as never).catch(() => {});
    expect(events).toEqual([expect.stringMatching(/^pause /), `overflow ${n * size}`]);
    await expect(writer.write(note(99, 1) as never)).resolves.toBeUndefined();
    // nothing more was written, and no resume is asked once it overflowed
    expect(sink.written).toHaveLength(n);
    sink.release();
    expect(events).toHaveLength(2);
  });

  it("rejects a write the stream fails, and counts it as read", async () => {
    const sink = new HeldSink();
    const { writer } = writerOn(sink);
    const errors: string[] = [];
    writer.onError(([e]) => errors.push(e.message));
    const w = writer.write(note(1, 10) as never);
    sink.release(1, new Error("EPIPE"));
    await expect(w).rejects.toThrow("EPIPE");
    expect(errors).toEqual(["EPIPE"]);
    expect(writer.unreadBytes).toBe(0);
  });

  it("says sizes in KiB and MiB", () => {
    expect([sizeOf(1), sizeOf(4 * 1024 * 1024), sizeOf(70 * 1024 * 1024 + 1)]).toEqual(["1 KiB", "4.0 MiB", "70.0 MiB"]);
  });
});

/** Node's IPC channel as a test holds it: `send` says whether its backlog is under node's threshold (`takes`), and each callback waits for `release()`. */
class HeldChannel {
  readonly sent: unknown[] = [];
  private readonly held: ((e: Error | null) => void)[] = [];
  /** How many more sends return true (node's backlog still under its threshold). */
  takes = Number.POSITIVE_INFINITY;
  send(message: unknown, _h: undefined, _o: undefined, callback: (error: Error | null) => void): boolean {
    this.sent.push(message);
    this.held.push(callback);
    return this.takes-- > 0;
  }
  release(n = this.held.length): void {
    for (const cb of this.held.splice(0, n)) cb(null);
  }
}

describe("BoundedIpcWriter (--node-ipc)", () => {
  const ipcWriter = (channel: HeldChannel, bounds = { pauseAt: 1000, resumeAt: 400, limit: 5000 }) => {
    const events: string[] = [];
    const writer = new BoundedIpcWriter(channel, { onPressure: (paused, unread) => events.push(`${paused ? "pause" : "resume"} ${unread}`), onOverflow: (unread) => events.push(`overflow ${unread}`) }, bounds);
    return { writer, events };
  };

  it("sends at once while the channel takes the messages, measuring none", () => {
    const channel = new HeldChannel();
    const { writer, events } = ipcWriter(channel);
    for (let i = 0; i < 50; i++) void writer.write(note(i, 500));
    expect(channel.sent.map((m) => (m as { id: number }).id)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect([writer.unreadBytes, events]).toEqual([0, []]);
  });

  it("once a send says the backlog is over node's threshold, keeps the messages that follow and counts their bytes; pressure, overflow once (the waiting ones and every later write dropped); in order once the channel took the others", async () => {
    const channel = new HeldChannel();
    channel.takes = 1;
    const { writer, events } = ipcWriter(channel);
    const done = [writer.write(note(0, 10)), writer.write(note(1, 10))];
    expect(channel.sent).toHaveLength(2); // the second one crossed the threshold
    const size = Buffer.byteLength(JSON.stringify(note(2, 300))) + 1;
    for (let i = 2; i < 6; i++) done.push(writer.write(note(i, 300)));
    expect(channel.sent).toHaveLength(2);
    expect(writer.unreadBytes).toBe(4 * size);
    expect(events).toEqual([`pause ${3 * size}`]);
    // the channel takes them: the waiting ones go, in order, each one at once while it takes them
    channel.takes = Number.POSITIVE_INFINITY;
    channel.release();
    expect(channel.sent.map((m) => (m as { id: number }).id)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(writer.unreadBytes).toBe(0);
    expect(events).toEqual([`pause ${3 * size}`, "resume 0"]);
    channel.release();
    await Promise.all(done);
    // a client that no longer reads at all: over the limit, overflow once, and every later write refused
    channel.takes = 0;
    void writer.write(note(10, 10));
    const kept: Promise<void>[] = [];
    for (let i = 11; i < 40; i++) kept.push(writer.write(note(i, 300)).catch(() => {}));
    expect(events.filter((e) => e.startsWith("overflow"))).toHaveLength(1);
    const sent = channel.sent.length;
    await expect(writer.write(note(99, 1))).resolves.toBeUndefined();
    expect([channel.sent.length, writer.unreadBytes]).toEqual([sent, 0]);
    // the messages that waited were dropped with the client (settled, not left pending)
    await Promise.all(kept);
  });

  it("takes its bounds lowered by STELLAR_SECRETS_LSP_UNREAD_LIMIT (for tests), never raised", () => {
    expect(writerBounds({})).toEqual(WRITER_BOUNDS);
    expect(writerBounds({ STELLAR_SECRETS_LSP_UNREAD_LIMIT: "1048576" })).toEqual({ limit: 1048576, pauseAt: 262144, resumeAt: 65536 });
    for (const v of ["999999999999", "abc", "-1", "0", "1e6", ""]) expect(writerBounds({ STELLAR_SECRETS_LSP_UNREAD_LIMIT: v })).toEqual(WRITER_BOUNDS);
  });
});
