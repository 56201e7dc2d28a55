/**
 * Reading many small files in a second thread while this one parses: a worker opens and reads
 * the files in the order given and sends their text back in batches; {@link ReadAhead.take}
 * hands them out in that order, blocking (Atomics.wait) only when the worker is behind. The
 * loader stays synchronous and deterministic: the worker only moves the system calls off the
 * parsing thread. Anything unusual (an error, an empty or large file, not a regular file, a
 * worker that does not start or stalls) gives `undefined`, and the caller reads that file itself
 * the usual way, so the results are exactly those of a plain sequential read.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";

/** Files read ahead, handed out one by one. */
export interface ReadAhead {
  /**
   * The text of `path` if the worker read it (consumed: a second take gives undefined), else
   * undefined (not in the list, or anything unusual: read it yourself). Never throws.
   */
  take(path: string): string | undefined;
  /** Stops the worker and forgets what was not taken. */
  release(): void;
}

/** Fewer files than this are read in this thread (starting a worker costs more than it saves). */
export const READ_AHEAD_MIN_FILES = 256;

/** Largest file the worker reads (bigger ones are read by the caller, which applies its limits). */
const MAX_AHEAD_BYTES = 1024 * 1024;

/** How long to wait for the worker's next batch before reading the rest in this thread. */
const STALL_MS = 2000;

/** How many files the worker may read ahead of the reader. */
const LEAD = 2048;

// The worker: plain CommonJS over node:fs (no import of this package, so it also runs from a
// bundle). Each file: open non-blocking (a FIFO never hangs), fstat, one read of the known size,
// close: the same calls readRegularFileSync makes. Batches grow from 8 to 256 so the first files
// arrive soon. ctrl[0] counts batches sent (the reader waits on it), ctrl[1] is set when done,
// ctrl[2] counts files taken: the worker keeps at most LEAD files ahead of the reader, so memory
// stays small whatever the number of files.
const WORKER_SOURCE = `
const { workerData } = require("node:worker_threads");
const { openSync, fstatSync, readSync, closeSync, constants } = require("node:fs");
const { paths, port, ctrl, maxBytes, lead } = workerData;
const c = new Int32Array(ctrl);
let sent = 0;
let batch = [];
let size = 8;
const flush = () => {
  port.postMessage(batch);
  sent += batch.length;
  batch = [];
  Atomics.add(c, 0, 1);
  Atomics.notify(c, 0);
  if (size < 256) size *= 2;
};
try {
  for (const p of paths) {
    let text = null;
    let fd;
    try {
      fd = openSync(p, constants.O_RDONLY | constants.O_NONBLOCK);
      const st = fstatSync(fd);
      if (st.isFile() && st.size > 0 && st.size <= maxBytes) {
        const b = Buffer.allocUnsafe(st.size);
        let got = 0;
        while (got < b.length) {
          const n = readSync(fd, b, got, b.length - got, null);
          if (n === 0) break;
          got += n;
        }
        if (got === b.length) text = b.toString("utf8");
      }
    } catch {
      text = null;
    } finally {
      if (fd !== undefined) {
        try { closeSync(fd); } catch {}
      }
    }
    batch.push(text);
    if (batch.length >= size) {
      flush();
      for (let taken = Atomics.load(c, 2); sent - taken > lead; taken = Atomics.load(c, 2)) Atomics.wait(c, 2, taken, 1000);
    }
  }
} finally {
  if (batch.length > 0) flush();
  Atomics.store(c, 1, 1);
  Atomics.notify(c, 0);
}
`;

/**
 * Starts reading `paths` (absolute) in a worker thread, or returns undefined when there are fewer
 * than {@link READ_AHEAD_MIN_FILES} or a worker cannot be started.
 */
export function startReadAhead(paths: readonly string[]): ReadAhead | undefined {
  if (paths.length < READ_AHEAD_MIN_FILES) return undefined;
  const ctrl = new SharedArrayBuffer(12);
  const counters = new Int32Array(ctrl);
  let port: MessagePort;
  let worker: Worker;
  try {
    const channel = new MessageChannel();
    port = channel.port1;
    worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { paths, port: channel.port2, ctrl, maxBytes: MAX_AHEAD_BYTES, lead: LEAD },
      transferList: [channel.port2],
      // the worker holds a few batches of text at a time
      resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 },
      stdout: false,
      stderr: false,
    });
  } catch {
    return undefined;
  }
  worker.unref();
  worker.on("error", () => undefined); // a failed worker only means reading in this thread
  const position = new Map<string, number>();
  paths.forEach((p, i) => {
    if (!position.has(p)) position.set(p, i);
  });
  const texts: (string | null | undefined)[] = [];
  let received = 0;
  let live = true;

  const stop = (): void => {
    if (!live) return;
    live = false;
    port.close();
    void worker.terminate().catch(() => undefined);
  };

  /** Receives batches until file `i` is in (true), or the worker is done or stalled (false). */
  const until = (i: number): boolean => {
    while (received <= i) {
      if (!live) return false;
      const seen = Atomics.load(counters, 0);
      const m = receiveMessageOnPort(port);
      if (m !== undefined) {
        for (const t of m.message as (string | null)[]) texts[received++] = t;
        continue;
      }
      if (Atomics.load(counters, 1) === 1 && Atomics.load(counters, 0) === seen) {
        // done and every batch received: nothing more will come
        stop();
        return false;
      }
      if (Atomics.wait(counters, 0, seen, STALL_MS) === "timed-out") {
        stop();
        return false;
      }
    }
    return true;
  };

  return {
    take(path: string): string | undefined {
      const i = position.get(path);
      if (i === undefined) return undefined;
      position.delete(path);
      if (!until(i)) return undefined;
      const t = texts[i];
      texts[i] = undefined;
      if ((i & 63) === 0) {
        Atomics.store(counters, 2, i);
        Atomics.notify(counters, 2);
      }
      return t ?? undefined;
    },
    release: stop,
  };
}
