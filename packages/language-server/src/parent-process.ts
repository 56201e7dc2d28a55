/**
 * The server's watch over its client's process (the LSP `processId` of `initialize`, or
 * `--clientProcessId` on the command line): the server ends when its client died without ending
 * it. `vscode-languageserver` has a watch of its own that ends the server when `process.kill(pid, 0)`
 * throws anything, EPERM included; but EPERM means the process exists and belongs to another user
 * (an editor run under another account, a sandbox), so that watch ends a server whose client is
 * alive. Here only ESRCH (no such process) counts as dead. `main.ts` takes the pid away from the
 * library's watch (`client-process-arg.ts` for the command line, `lifecycle.ts` for `initialize`)
 * and gives it to {@link watchParent}.
 */

/** How often the client's process is checked (as `vscode-languageserver` does). */
export const PARENT_CHECK_INTERVAL_MS = 3000;

/** `process.kill`'s shape, as {@link isProcessAlive} calls it (signal 0: a check, nothing is sent). */
export type ProcessSignaller = (pid: number, signal: number) => unknown;

/** True for a value that names one process: a positive safe integer (0 and negative pids name process groups). */
export function isProcessId(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0;
}

/**
 * Whether process `pid` exists, by `kill(pid, 0)`: it does unless that fails with ESRCH. EPERM (it
 * exists, owned by another user) and any other failure count as alive: the server ends only for a
 * process known to be gone. Never throws.
 */
export function isProcessAlive(pid: number, kill: ProcessSignaller = process.kill): boolean {
  try {
    kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException | null)?.code !== "ESRCH";
  }
}

/**
 * Removes `--clientProcessId N` / `--clientProcessId=N` from `argv` (in place) and returns the last
 * valid pid it named (undefined: none). Pure apart from editing `argv`.
 */
export function takeClientProcessId(argv: string[]): number | undefined {
  let pid: number | undefined;
  for (let i = 0; i < argv.length; ) {
    const arg = argv[i]!;
    let value: string | undefined;
    let count = 0;
    if (arg === "--clientProcessId") {
      // the next argument is its value only when it is a number (`--clientProcessId --stdio` keeps --stdio)
      const next = argv[i + 1];
      value = next !== undefined && /^[0-9]+$/.test(next) ? next : undefined;
      count = value === undefined ? 1 : 2;
    } else if (arg.startsWith("--clientProcessId=")) {
      value = arg.slice("--clientProcessId=".length);
      count = 1;
    }
    if (count === 0) {
      i++;
      continue;
    }
    argv.splice(i, count);
    const n = value !== undefined && /^[0-9]+$/.test(value) ? Number(value) : undefined;
    if (isProcessId(n)) pid = n;
  }
  return pid;
}

/** Options of {@link watchParent}. */
export interface ParentWatchOptions {
  /** How often to check; default {@link PARENT_CHECK_INTERVAL_MS}. */
  intervalMs?: number;
  /** The liveness check; default {@link isProcessAlive}. */
  isAlive?: (pid: number) => boolean;
}

/** A running watch. */
export interface ParentWatch {
  /** Stops checking. */
  dispose(): void;
}

/**
 * Checks process `pid` now and then every `intervalMs`, and calls `onGone` once, the first time it
 * is gone (then stops). The timer does not keep the process running on its own.
 */
export function watchParent(pid: number, onGone: () => void, options: ParentWatchOptions = {}): ParentWatch {
  const alive = options.isAlive ?? ((p: number) => isProcessAlive(p));
  let timer: NodeJS.Timeout | undefined;
  const dispose = (): void => {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
  };
  const check = (): boolean => {
    if (alive(pid)) return true;
    dispose();
    onGone();
    return false;
  };
  if (check()) {
    timer = setInterval(check, options.intervalMs ?? PARENT_CHECK_INTERVAL_MS);
    timer.unref();
  }
  return { dispose };
}
