import { closeSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { ResolverError } from "./errors.js";

/**
 * What happened when a value was asked for: `"ok"` only when the value was handed out to the
 * caller, else the error code. A value read for a header set, auth or action request that then
 * failed as a whole (another header missing, a bad shape) was never handed out: its event carries
 * that failure's code (`INVALID_CONFIG`, `ENVIRONMENT_NOT_ALLOWED`, ...), not `ok`.
 */
export type AccessOutcome =
  | "ok"
  | "UNKNOWN_SECRET"
  | "MISSING_ENVIRONMENT_VALUE"
  | "NOT_A_STRING"
  | "NOT_ENCRYPTED"
  | "INVALID_HEADER_VALUE"
  | "INVALID_CONFIG"
  | "ENVIRONMENT_NOT_ALLOWED"
  | "INTERNAL_ERROR"
  | (string & {});

/**
 * One access-log event: a secret was asked for. Never carries the value.
 * `consumer` names who asked, as `kind:name` (`action:create_ticket`, `connection:hubspot`,
 * `connector:stripe`) or the string the caller passed to `get`.
 */
export interface AccessEvent {
  /** ISO 8601 UTC time of the request. */
  readonly time: string;
  readonly environment: string;
  readonly secret: string;
  readonly consumer: string;
  readonly outcome: AccessOutcome;
}

/**
 * A sink receives every access event synchronously, in order. It must not throw; if it does,
 * the resolver reports the error to `onSinkError` and still serves the value (an audit outage
 * does not take requests down).
 */
export type AccessSink = (event: AccessEvent) => void;

/** A JSON-lines file sink: call it like any {@link AccessSink}. */
export interface JsonLinesSink extends AccessSink {
  /** The file events are appended to. */
  readonly path: string;
  /** Writes buffered events now (synchronously). Throws the write error, if any. */
  flush(): void;
  /** Flushes and closes the file; later events are dropped and reported to `onError`. */
  close(): void;
}

/** Options of {@link createJsonLinesSink}. */
export interface JsonLinesSinkOptions {
  /** File mode when the file is created (default 0o600: the log names secrets and consumers). */
  mode?: number;
  /**
   * `"tick"` (default): events are buffered and written together once the current turn of the
   * event loop ends, and at process exit. `"event"`: each event is written before the sink returns.
   */
  flush?: "tick" | "event";
  /** Receives write errors (default: `process.emitWarning`). Never receives event values. */
  onError?: (error: Error) => void;
}

const openSinks = new Set<{ flush(): void }>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const sink of openSinks) {
      try {
        sink.flush();
      } catch {
        // Nothing can be reported at exit; the error was already delivered to onError.
      }
    }
  });
}

/**
 * Why the access log at `path` cannot be opened, as a {@link ResolverError} `IO_ERROR` naming the
 * path, the system's code and the fix; node's error is its `cause`.
 */
function openError(path: string, error: unknown): ResolverError {
  const sys = (error as { code?: unknown } | null)?.code;
  const code = typeof sys === "string" ? sys : error instanceof Error ? error.name : "unknown error";
  const folder = dirname(path);
  const [what, hint] =
    code === "ENOENT"
      ? [`its folder ${folder} does not exist`, `create the folder (mkdir -p ${folder}), or pass a path in a folder that exists`]
      : code === "EACCES" || code === "EPERM" || code === "EROFS"
        ? [`this process may not write it${code === "EROFS" ? " (a read-only file system)" : ""}`, `make ${path} (or its folder ${folder}) writable by the user this process runs as, or pass a path it may write`]
        : code === "ERR_ACCESS_DENIED"
          ? ["Node's permission model (--permission) does not let this process write it", `allow it: node --allow-fs-write=${path} …`]
          : code === "EISDIR"
            ? [`${path} is a folder`, `pass the path of a file in it (such as ${path}/access.jsonl)`]
            : code === "ENOTDIR"
              ? [`a part of ${folder} is a file, not a folder`, "pass a path whose folders are folders"]
              : ["the system refused to open it for append", "check that the path is a writable file in a folder that exists"];
  return new ResolverError("IO_ERROR", `cannot open the access log ${path} (${code}): ${what}`, { file: path, hint, cause: error });
}

/**
 * Creates a sink that appends one JSON object per line to `path` (created with mode 0o600 if
 * missing, opened for append, so several processes can share it). Opens the file immediately, so
 * a bad path fails at startup, not at the first request.
 * @throws ResolverError `IO_ERROR` when `path` cannot be opened for append: the message names the
 * path and the system's code (`ENOENT` for a missing folder, `EACCES`, `EISDIR`, ...), `hint` the
 * fix, `file` the path; node's own error is the `cause`.
 */
export function createJsonLinesSink(path: string, options: JsonLinesSinkOptions = {}): JsonLinesSink {
  const onError = options.onError ?? ((error: Error) => process.emitWarning(error));
  const immediate = options.flush === "event";
  let fd: number | undefined;
  try {
    fd = openSync(path, "a", options.mode ?? 0o600);
  } catch (error) {
    throw openError(path, error);
  }
  let pending: string[] = [];
  let scheduled = false;

  const writeAll = (text: string): void => {
    if (fd === undefined) throw new Error(`access log ${path} is closed`);
    const bytes = Buffer.from(text, "utf8");
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
  };

  const flush = (): void => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = pending.join("");
    pending = [];
    writeAll(text);
  };

  const flushReporting = (): void => {
    try {
      flush();
    } catch (error) {
      onError(error instanceof Error ? error : new Error(String(error)));
    }
  };

  const state = { flush: flushReporting };
  openSinks.add(state);
  installExitHook();

  const sink = ((event: AccessEvent): void => {
    if (fd === undefined) {
      onError(new Error(`access log ${path} is closed; event for ${event.secret} dropped`));
      return;
    }
    const line = `${JSON.stringify({
      time: event.time,
      environment: event.environment,
      secret: event.secret,
      consumer: event.consumer,
      outcome: event.outcome,
    })}\n`;
    if (immediate) {
      try {
        writeAll(line);
      } catch (error) {
        onError(error instanceof Error ? error : new Error(String(error)));
      }
      return;
    }
    pending.push(line);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flushReporting);
    }
  }) as JsonLinesSink;

  Object.defineProperty(sink, "path", { value: path, enumerable: true });
  sink.flush = flush;
  sink.close = (): void => {
    if (fd === undefined) return;
    try {
      flush();
    } finally {
      openSinks.delete(state);
      closeSync(fd);
      fd = undefined;
    }
  };
  return sink;
}
