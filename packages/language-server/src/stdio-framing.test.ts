/**
 * The stdio framing (stdio-framing.ts) as hand-written clients get it wrong: a `Content-Length`
 * counted in characters (too short for non-ASCII text), one too long, a header without it, noise
 * between messages, bodies that are not JSON or not JSON-RPC. The stream is never lost: every
 * message after the mistake is read.
 */
import { describe, expect, it } from "vitest";
import { MAX_HEADER_BYTES, MessageFramer, type FrameEvent } from "./stdio-framing.js";

const frame = (body: string, length = Buffer.byteLength(body)): Buffer => Buffer.from(`Content-Length: ${length}\r\n\r\n${body}`, "utf8");
const request = (id: number, extra = ""): string => JSON.stringify({ jsonrpc: "2.0", id, method: "textDocument/hover", params: { note: extra } });

/** The events of the bytes pushed in one piece, then (when `quiet`) of the stream going quiet. */
function read(bytes: Buffer[], quiet = false): FrameEvent[] {
  const f = new MessageFramer();
  const out = bytes.flatMap((b) => f.push(b));
  return quiet ? [...out, ...f.flush()] : out;
}

/** The ids of the messages read, and a short form of every other event. */
function summary(events: FrameEvent[]): string[] {
  return events.map((e) => (e.type === "message" ? `message ${String((e.message as { id?: unknown }).id)}` : e.type === "invalid" ? `invalid ${e.code} id=${String(e.id)}` : "warning"));
}

describe("the framing of stdin's messages", () => {
  it("reads well-framed messages whole, in pieces of any size (one byte at a time too) and several in one piece", () => {
    const bytes = Buffer.concat([frame(request(1, "é😀")), frame(request(2)), Buffer.from("Content-Type: application/vscode-jsonrpc; charset=utf-8\r\nContent-Length: 2\r\n\r\n{}")]);
    const whole = read([bytes]);
    expect(summary(whole)).toEqual(["message 1", "message 2", "invalid -32600 id=null"]);
    const f = new MessageFramer();
    const byByte: FrameEvent[] = [];
    for (let i = 0; i < bytes.length; i++) byByte.push(...f.push(bytes.subarray(i, i + 1)));
    expect(byByte).toEqual(whole);
    expect((whole[0] as { message: { params: { note: string } } }).message.params.note).toBe("é😀");
  });

  it("takes a message whose Content-Length counts characters instead of UTF-8 bytes (too short), and the ones after it", () => {
    const body = request(1, "café 😀 Zürich");
    const short = frame(body, body.length); // JavaScript's string.length: UTF-16 code units
    expect(body.length).toBeLessThan(Buffer.byteLength(body));
    // alone (nothing sent after it: its rest is where a header should be), and followed by another message
    expect(summary(read([short]))).toEqual(["warning", "message 1"]);
    expect(summary(read([short, frame(request(2))]))).toEqual(["warning", "message 1", "message 2"]);
    // its rest in the same piece as the next message's header
    expect(summary(read([Buffer.concat([short, frame(request(2))])]))).toEqual(["warning", "message 1", "message 2"]);
  });

  it("takes a message whose Content-Length is too long, cut at the next message's header, and the next one", () => {
    const body = request(1);
    expect(summary(read([Buffer.concat([frame(body, Buffer.byteLength(body) + 20), frame(request(2)), frame(request(3))])]))).toEqual([
      "warning",
      "message 1",
      "message 2",
      "message 3",
    ]);
    // nothing after it: taken once the stream is quiet, not before
    const f = new MessageFramer();
    expect(f.push(frame(body, Buffer.byteLength(body) + 20))).toEqual([]);
    expect(f.waiting).toBe(true);
    expect(summary(f.flush())).toEqual(["warning", "message 1"]);
    expect(summary(f.push(frame(request(2))))).toEqual(["message 2"]);
    // far too long, the messages after it inside what it claims: taken once the stream is quiet, and the ones after it
    const g = new MessageFramer();
    expect(g.push(Buffer.concat([frame(body, 100_000), frame(request(2)), frame(request(3))]))).toEqual([]);
    expect(summary(g.flush())).toEqual(["warning", "message 1", "message 2", "message 3"]);
    expect(summary(g.push(frame(request(4))))).toEqual(["message 4"]);
  });

  it("skips a header without Content-Length, or with one that is no number, and noise between messages", () => {
    const events = read([
      Buffer.from("Content-Type: application/json\r\n\r\n"),
      frame(request(1)),
      Buffer.from("Content-Length: many\r\n\r\n"),
      frame(request(2)),
      Buffer.from("garbage\n"),
      frame(request(3)),
    ]);
    expect(summary(events)).toEqual(["warning", "message 1", "warning", "message 2", "warning", "message 3"]);
  });

  it("answers a body that is not JSON with a Parse error (id null) and one that is no JSON-RPC message with an Invalid Request, under its id", () => {
    const events = read(
      [
        frame("{not json}"),
        frame("[1, 2]"),
        frame("42"),
        frame(JSON.stringify({ jsonrpc: "2.0", id: 7, method: 5 })),
        frame(JSON.stringify({ jsonrpc: "2.0", id: 8 })),
        frame(JSON.stringify({ jsonrpc: "2.0", id: null, method: "textDocument/hover" })),
        frame(JSON.stringify({ jsonrpc: "2.0", id: { a: 1 }, method: "textDocument/hover" })),
        frame(JSON.stringify({ jsonrpc: "2.0", method: "initialized", params: {} })),
        frame(JSON.stringify({ jsonrpc: "2.0", id: "r1", result: null })),
        frame("{truncated"),
      ],
      true,
    );
    expect(summary(events)).toEqual([
      "invalid -32700 id=null",
      "invalid -32600 id=null",
      "invalid -32600 id=null",
      "invalid -32600 id=7",
      "invalid -32600 id=8",
      "invalid -32600 id=null",
      "invalid -32600 id=null",
      "message undefined",
      "message r1",
      "invalid -32700 id=null",
    ]);
  });

  it("never repeats a message's bytes in what it reports (a document's text may hold a credential)", () => {
    const secret = "sk_live_TEST_ONLY_not_a_real_key_0123456789";
    const events = read([frame(`{"text": "${secret}"`), Buffer.from(`${secret}\r\n\r\n`), frame(`{"bad": ${secret}}`), frame(request(1))], true);
    expect(summary(events).at(-1)).toBe("message 1");
    expect(JSON.stringify(events)).not.toContain(secret.slice(0, 12));
  });

  it("keeps no more than a header's worth of bytes that never end a header, and reads the message after them", () => {
    const f = new MessageFramer();
    const noise = Buffer.alloc(MAX_HEADER_BYTES + 10, "x");
    expect(summary(f.push(noise))).toEqual(["warning"]);
    // (the few bytes kept, in case they began a header, are skipped once the next header comes)
    expect(summary(f.push(frame(request(1))))).toEqual(["warning", "message 1"]);
  });
});

describe("headers whose lines end with \\n instead of \\r\\n (hand-written clients)", () => {
  const framed = (body: string, sep: string, headers = [`Content-Length: ${Buffer.byteLength(body)}`]): Buffer => Buffer.from(headers.join(sep) + sep + sep + body, "utf8");
  it("reads Content-Length: N\\n\\n, a lone \\n between header lines, and mixed line ends, whole or a byte at a time, among correct messages", () => {
    const bytes = Buffer.concat([
      framed(request(1, "é"), "\n"),
      frame(request(2)),
      framed(request(3), "\n", ["Content-Length: " + Buffer.byteLength(request(3)), "Content-Type: application/vscode-jsonrpc; charset=utf-8"]),
      Buffer.from(`Content-Length: ${Buffer.byteLength(request(4))}\r\n\n${request(4)}`),
      Buffer.from(`Content-Type: application/vscode-jsonrpc\nContent-Length: ${Buffer.byteLength(request(5))}\n\r\n${request(5)}`),
      frame(request(6)),
    ]);
    const whole = read([bytes]);
    expect(summary(whole)).toEqual(["message 1", "message 2", "message 3", "message 4", "message 5", "message 6"]);
    const f = new MessageFramer();
    const byByte: FrameEvent[] = [];
    for (let i = 0; i < bytes.length; i++) byByte.push(...f.push(bytes.subarray(i, i + 1)));
    expect(byByte).toEqual(whole);
    expect((whole[0] as { message: { params: { note: string } } }).message.params.note).toBe("é");
  });

  it("still waits for the blank line: a header cut after its first \\n, or after \\r\\n\\r, is not read early", () => {
    const f = new MessageFramer();
    const body = request(7);
    expect(f.push(Buffer.from(`Content-Length: ${Buffer.byteLength(body)}\n`))).toEqual([]);
    expect(summary(f.push(Buffer.from(`\n${body}`)))).toEqual(["message 7"]);
    const g = new MessageFramer();
    expect(g.push(Buffer.from(`Content-Length: ${Buffer.byteLength(body)}\r\n\r`))).toEqual([]);
    expect(summary(g.push(Buffer.from(`\n${body}`)))).toEqual(["message 7"]);
  });
});

describe("a $/cancelRequest without a request's id", () => {
  it("is dropped with a warning (vscode-jsonrpc throws on it); one with an id, and the messages around it, are read", () => {
    const cancel = (params: unknown): string => JSON.stringify({ jsonrpc: "2.0", method: "$/cancelRequest", ...(params === undefined ? {} : { params }) });
    const events = read([frame(request(1)), frame(cancel(null)), frame(cancel(undefined)), frame(cancel({})), frame(cancel({ id: null })), frame(cancel({ id: 1 })), frame(cancel({ id: "a" })), frame(request(2))]);
    expect(summary(events)).toEqual(["message 1", "warning", "warning", "warning", "warning", "message undefined", "message undefined", "message 2"]);
    expect(events.filter((e) => e.type === "warning").map((e) => (e as { reason: string }).reason)).toEqual(Array(4).fill("a $/cancelRequest without the id (a string or number params.id) of the request to cancel: dropped"));
  });
});
