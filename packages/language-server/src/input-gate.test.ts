/**
 * When the server stops reading the client's messages (input-gate.ts): the client has not read
 * the server's output, or it sends faster than the server handles.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { InputGate } from "./input-gate.js";

function stream() {
  const calls: string[] = [];
  return { calls, input: { pause: () => calls.push("pause"), resume: () => calls.push("resume") } };
}

afterEach(() => vi.useRealTimers());

describe("the gate on the client's messages", () => {
  it("pauses once for either reason and resumes when neither holds", () => {
    const { calls, input } = stream();
    const gate = new InputGate(input, { maxBacklog: 3, backlogPauseMs: 500 });
    gate.set("output", true);
    gate.set("output", true);
    expect(calls).toEqual(["pause"]);
    for (const m of [{ id: 1 }, { id: 2 }, { id: 3 }]) gate.onRead(m);
    expect(calls).toEqual(["pause"]);
    gate.set("output", false);
    // the backlog still holds it
    expect([calls, gate.paused]).toEqual([["pause"], true]);
  });

  it("pauses at maxBacklog messages read and not handled, and resumes when the last one read is handled (the rest of the chunk included)", () => {
    const { calls, input } = stream();
    const gate = new InputGate(input, { maxBacklog: 3, backlogPauseMs: 500 });
    const m = [1, 2, 3, 4, 5].map((id) => ({ id }));
    gate.onRead(m[0]);
    gate.onHandled(m[0]);
    gate.onRead(m[1]);
    gate.onRead(m[2]);
    expect(calls).toEqual([]);
    gate.onRead(m[3]);
    expect(calls).toEqual(["pause"]);
    // read in the same chunk, after the pause
    gate.onRead(m[4]);
    for (const x of m.slice(1, 4)) gate.onHandled(x);
    expect(calls).toEqual(["pause"]);
    gate.onHandled(m[4]);
    expect(calls).toEqual(["pause", "resume"]);
    expect(gate.backlog).toBe(0);
  });

  it("resumes after backlogPauseMs when the last message read is never handled (a request cancelled while queued)", () => {
    vi.useFakeTimers();
    const { calls, input } = stream();
    const gate = new InputGate(input, { maxBacklog: 2, backlogPauseMs: 500 });
    gate.onRead({ id: 1 });
    gate.onRead({ id: 2 });
    expect(calls).toEqual(["pause"]);
    vi.advanceTimersByTime(499);
    expect(calls).toEqual(["pause"]);
    vi.advanceTimersByTime(1);
    expect(calls).toEqual(["pause", "resume"]);
    // counted afresh
    gate.onRead({ id: 3 });
    expect([calls.length, gate.backlog]).toEqual([2, 1]);
  });
});
