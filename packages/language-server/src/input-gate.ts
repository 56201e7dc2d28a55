/**
 * When the server stops reading the client's messages (stdin, the socket, the pipe), and when it
 * reads on. Two reasons pause it, each on its own:
 * - `output`: the client has not read what the server wrote (bounded-writer.ts);
 * - `backlog`: the client sends faster than the server handles. `vscode-jsonrpc` reads every byte
 *   that comes and queues each message, then handles one message per turn of the event loop; a
 *   client that writes a flood of requests (and does not read their answers) had all of them
 *   queued in the server's memory: 20,000 requests of 2 KB, 240 MB. Above {@link MAX_BACKLOG}
 *   messages read and not yet handled, reading pauses until the last one read is handled.
 * Reading resumes when neither holds. The backlog is counted from the messages the reader hands
 * on and the ones the message strategy is given (main.ts): a request cancelled while queued, or
 * one sent twice under one id, is never handed to the strategy, so the count is reset each time the
 * last message read before a pause is handled, and a pause on the backlog ends after
 * {@link BACKLOG_PAUSE_MS} even when that message never comes (it was cancelled).
 */

/** Messages read and not yet handled above which reading pauses. */
export const MAX_BACKLOG = 1000;
/** The longest a pause on the backlog lasts when the last message read before it is never handled (ms). */
export const BACKLOG_PAUSE_MS = 500;

/** What pauses reading (see the module comment). */
export type PauseReason = "output" | "backlog";

/** The transport's side: stop and start reading (`stream.pause()`, `stream.resume()`). */
export interface Readable {
  pause(): unknown;
  resume(): unknown;
}

export class InputGate {
  private readonly reasons = new Set<PauseReason>();
  private read = 0;
  private handled = 0;
  private marker: unknown;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly input: Readable,
    private readonly limits: { maxBacklog: number; backlogPauseMs: number } = { maxBacklog: MAX_BACKLOG, backlogPauseMs: BACKLOG_PAUSE_MS },
  ) {}

  /** True while reading is paused. */
  get paused(): boolean {
    return this.reasons.size > 0;
  }

  /** Messages read and not yet handled (as far as counted). */
  get backlog(): number {
    return this.read - this.handled;
  }

  /** Pauses (true) or releases (false) reading for `reason`. */
  set(reason: PauseReason, on: boolean): void {
    const was = this.paused;
    if (on) this.reasons.add(reason);
    else this.reasons.delete(reason);
    if (!was && this.paused) this.input.pause();
    else if (was && !this.paused) this.input.resume();
  }

  /** A message the reader hands on to the connection. */
  onRead(message: unknown): void {
    this.read++;
    // (the rest of a chunk read before the pause took effect: the last one read is the one to wait for)
    if (this.marker !== undefined) this.marker = message;
    else if (this.read - this.handled >= this.limits.maxBacklog && !this.reasons.has("backlog")) {
      this.marker = message;
      this.timer = setTimeout(() => this.release(), this.limits.backlogPauseMs);
      this.timer.unref?.();
      this.set("backlog", true);
    }
  }

  /** A message the connection handles (its message strategy is given it). */
  onHandled(message: unknown): void {
    this.handled++;
    if (this.marker !== undefined && message === this.marker) this.release();
  }

  private release(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.marker = undefined;
    // every message read before the pause was handled (or dropped: cancelled, replaced)
    this.read = this.handled = 0;
    this.set("backlog", false);
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}
