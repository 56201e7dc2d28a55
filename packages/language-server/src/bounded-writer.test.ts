/**
 * The writer of the server's messages with a bound on what the client has not read
 * (bounded-writer.ts), over an in-memory stream that holds every write until the test lets it
 * through (a client that stops reading: the operating system's buffers are full).
 */
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { BoundedStreamWriter, framed, sizeOf, type ByteSink } from "./bounded-writer.js";
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

  it("reports once, above the limit, and refuses every later write (the transport disconnects the client)", async () => {
    const sink = new HeldSink();
    const { writer, events } = writerOn(sink);
    const size = framed(note(1, 900) as never).length;
    const n = Math.floor(5000 / size) + 1;
    for (let i = 0; i < n; i++) void writer.write(note(i, 900) as never).catch(() => {});
    expect(events).toEqual([expect.stringMatching(/^pause /), `overflow ${n * size}`]);
    await expect(writer.write(note(99, 1) as never)).rejects.toThrow(/disconnected/);
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
