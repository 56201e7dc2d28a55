/**
 * Process entry of `stellar-secrets-language-server`: creates the connection from the command
 * line (`--stdio`, `--node-ipc`, `--socket=PORT`, `--pipe=NAME`) and starts the server over
 * core's index.
 */
// first: takes --clientProcessId out of process.argv before vscode-languageserver/node is evaluated
// (its module body would start its own watch of that pid, one that ends the server on EPERM)
import { CLIENT_PROCESS_ID, GIVEN_ARGS } from "./client-process-arg.js";
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { format } from "node:util";
import type { Connection, MessageReader, MessageWriter } from "vscode-languageserver/node";
import { createConnection, ProposedFeatures } from "./lsp.js";
import { BoundedIpcWriter, BoundedStreamWriter, sizeOf, type ByteSink, type IpcSink, type WriterHandlers, writerBounds } from "./bounded-writer.js";
import { createCoreModel } from "./core-model.js";
import { lifecycleStrategy, type LifecycleStrategy } from "./lifecycle.js";
import { watchParent, type ParentWatch } from "./parent-process.js";
import { startServer } from "./server.js";
import { InputGate } from "./input-gate.js";
import { FramedStdinReader } from "./stdio-framing.js";
import { connectFailure, connectTo, invalidAnswer, IpcMessageReader, transportOf, USAGE, type Transport } from "./transports.js";

/** What the process entry (the bin, `dist/bundle/server.mjs`) asks of {@link main}. */
export interface MainOptions {
  /** Called once the initial index is built (or failed): the bin writes its V8 code cache then. */
  afterInitialIndex?: () => void;
  /**
   * The bundle's build tag (its last line, `// stellar-secrets build 0123abcd`), which the bin reads
   * with the bundle; without it, the tag of the module file this code runs from (a bundle of its
   * own, as the VS Code extension's), else none: the on-disk model cache is then off.
   */
  buildTag?: string;
}

/** The build tag at the end of the file this module runs from, when it is a tagged bundle; undefined otherwise. Never throws. */
function ownBuildTag(): string | undefined {
  try {
    const url = (import.meta as { url?: string }).url;
    if (url === undefined || !url.startsWith("file:")) return undefined;
    return buildTagOf(fileURLToPath(url));
  } catch {
    return undefined;
  }
}

/** The build tag on the last line of `file` (`// stellar-secrets build 0123abcd`), or undefined. Reads the file's last 64 bytes only. */
export function buildTagOf(file: string): string | undefined {
  const fd = openSync(file, "r");
  try {
    const size = fstatSync(fd).size;
    const tail = Buffer.alloc(Math.min(64, size));
    readSync(fd, tail, 0, tail.length, size - tail.length);
    return /\/\/ stellar-secrets build ([0-9a-f]{8})\n$/.exec(tail.toString("latin1"))?.[1];
  } finally {
    closeSync(fd);
  }
}

/** Starts the server on the transport named in `process.argv`. */
export function main(options: MainOptions = {}): void {
  const argv = [...GIVEN_ARGS];
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (argv.includes("--version")) {
    process.stdout.write("0.1.0\n");
    return;
  }
  // the transport, checked before anything starts (transports.ts): a bad port or pipe, or --node-ipc
  // without a channel, is a usage error (2) that says what to give
  const transport = transportOf(argv);
  const usage = (why: string): void => {
    process.stderr.write(`stellar-secrets-language-server: ${why}\n${USAGE}\n`);
    process.exitCode = 2;
  };
  if (transport === undefined) return usage("choose a transport: --stdio, --node-ipc, --socket=PORT or --pipe=NAME");
  if ("error" in transport) return usage(transport.error);
  if (transport.kind === "node-ipc" && typeof process.send !== "function") {
    return usage("--node-ipc needs the IPC channel of a process started by node's child_process.fork (as the VS Code extension starts it); from a shell or another editor, use --stdio");
  }
  // The client's process (--clientProcessId, else initialize's processId), watched here instead of
  // by vscode-languageserver (parent-process.ts): the server ends when it is gone (ESRCH), with 0
  // after shutdown, else 1, and keeps running while it lives under another user (EPERM).
  let parent: ParentWatch | undefined;
  const watch = (pid: number): void => {
    parent ??= watchParent(pid, () => process.exit(lifecycle.shutdownReceived ? 0 : 1));
  };
  // the lifecycle strategy answers requests sent out of order (lifecycle.ts), and hands initialize's processId to `watch`
  const lifecycle = lifecycleStrategy({ onClientProcessId: watch });
  if (CLIENT_PROCESS_ID !== undefined) watch(CLIENT_PROCESS_ID);
  // stdio, a socket and a pipe through the server's own framing (stdio-framing.ts); the IPC channel's messages checked one by one
  // (the work under way, stopped when the client's end closes: `transportConnection`'s end)
  const stop = { work: (): void => {} };
  const connection = transportConnection(transport, lifecycle, stop);
  // A bug in one request must not end the server: log it and keep answering.
  // a disposed connection throws: the handlers must not throw in their turn
  const report = (line: string): void => {
    try {
      connection.console.error(line);
    } catch {
      process.stderr.write(`${line}\n`);
    }
  };
  process.on("uncaughtException", (e) => report(`[stellar-secrets] uncaught: ${e.stack ?? String(e)}`));
  process.on("unhandledRejection", (e) => report(`[stellar-secrets] unhandled rejection: ${String(e)}`));
  const server = startServer(connection, { modelFactory: createCoreModel, afterInitialIndex: options.afterInitialIndex, buildTag: options.buildTag ?? ownBuildTag() });
  stop.work = () => server.state.shutdown();
}

/** How long the process waits, once the client's end closed, for the messages read before it to be handled (ms). */
const END_GRACE_MS = 50;

/**
 * The connection over the transport: stdin and stdout, the editor's socket or pipe (the server
 * connects to it), or node's IPC channel. Bytes are read through {@link FramedStdinReader}: a message
 * with a wrong `Content-Length`, or bytes that are no message, never leave the server reading at a
 * wrong offset (hanging, answering nothing); a body that is not a message is answered with
 * JSON-RPC's error and logged (without its bytes); so is an IPC message that is none. The process
 * ends when the client's end closes (stdin ends, the socket or pipe closes or breaks, the IPC
 * channel disconnects): 0 after `shutdown`, else 1. A socket or pipe that cannot be connected to
 * ends it with 1 and says where it tried and why. Over stdio, `console` writes to the client's log,
 * never to stdout, which carries the protocol.
 */
function transportConnection(transport: Transport, lifecycle: LifecycleStrategy, stop: { work: () => void }): Connection {
  // (a moment later: the messages read just before the end, `shutdown` and `exit` written before the
  // client closed its end, are handled first, a turn of the event loop each)
  let ending = false;
  // (the client disconnected for not reading the server's messages: 1, whatever it sent)
  let disconnected = false;
  const end = (): void => {
    if (ending) return;
    ending = true;
    // the work under way (a check, diagnostics sent a slice at a time) stops, as at shutdown: nothing
    // can be sent any more (before, each file's diagnostics still due after a disconnect threw
    // "Connection is closed", logged as an uncaught exception; test/lsp-transports.test.ts)
    try {
      stop.work();
    } catch {
      // (the end below stands)
    }
    const status = lifecycle.shutdownReceived && !disconnected ? 0 : 1;
    // (and the status if the process ends before, nothing else keeping it alive)
    process.exitCode = status;
    setTimeout(() => process.exit(status), END_GRACE_MS);
  };
  let connection: Connection | undefined;
  const log = (line: string): void => {
    try {
      connection?.console.error(line);
    } catch {
      process.stderr.write(`${line}\n`);
    }
  };
  let writer: MessageWriter;
  let reader: MessageReader;
  const onWarning = (reason: string): void => log(`[stellar-secrets] the client's stream: ${reason}`);
  const onInvalid = (e: Parameters<typeof invalidAnswer>[0]): void => {
    log(`[stellar-secrets] the client sent ${e.reason}: answered with ${e.code}`);
    void writer.write(invalidAnswer(e)).catch(() => {});
  };
  // The client that stops reading (bounded-writer.ts): above WRITER_BOUNDS.pauseAt bytes it has not
  // read, the server stops reading its messages until it does; above WRITER_BOUNDS.limit it is
  // disconnected (1). Said on stderr: the connection's log goes down the stream it does not read.
  // A client that sends faster than the server handles (input-gate.ts): above MAX_BACKLOG messages
  // read and not yet handled, reading pauses until they are.
  let gate: InputGate | undefined;
  // (lowered for tests only by STELLAR_SECRETS_LSP_UNREAD_LIMIT: bounded-writer.ts writerBounds)
  const bounds = writerBounds(process.env);
  const handlers = (disconnect: () => void, pausesReading: boolean): WriterHandlers => ({
    onPressure: (paused, unread) => {
      gate?.set("output", paused);
      if (!pausesReading) {
        if (paused) process.stderr.write(`[stellar-secrets] the client has not read ${sizeOf(unread)} of the server's messages (above ${sizeOf(bounds.limit)} it is disconnected)\n`);
        else process.stderr.write(`[stellar-secrets] the client reads the server's messages again\n`);
      } else if (paused) {
        process.stderr.write(
          `[stellar-secrets] the client has not read ${sizeOf(unread)} of the server's messages: reading its messages is paused until it reads them (above ${sizeOf(bounds.limit)} it is disconnected)\n`,
        );
      } else {
        process.stderr.write(`[stellar-secrets] the client reads the server's messages again: reading its messages resumed\n`);
      }
    },
    onOverflow: (unread) => {
      process.stderr.write(
        `[stellar-secrets] the client has not read ${sizeOf(unread)} of the server's messages (the bound is ${sizeOf(bounds.limit)}): disconnected; the server ends with 1. ` +
          `Check that the editor's language client is alive and reads the server's output\n`,
      );
      disconnect();
    },
  });
  const bounded = (sink: ByteSink, disconnect: () => void): BoundedStreamWriter => new BoundedStreamWriter(sink, handlers(disconnect, true), bounds);
  if (transport.kind === "node-ipc") {
    // node reads the IPC channel itself: reading cannot be paused, only the client disconnected
    writer = new BoundedIpcWriter(
      process as unknown as IpcSink,
      handlers(() => {
        disconnected = true;
        end();
        try {
          process.disconnect?.();
        } catch {
          // closed already: the end above stands
        }
      }, false),
      bounds,
    );
    reader = new IpcMessageReader(process, { onInvalid, onWarning });
    process.on("disconnect", end);
  } else if (transport.kind === "stdio") {
    gate = new InputGate(process.stdin);
    writer = bounded(process.stdout as unknown as ByteSink, () => {
      disconnected = true;
      process.stdout.destroy();
      end();
    });
    reader = new FramedStdinReader(process.stdin, { onInvalid, onWarning, onMessage: (m) => gate?.onRead(m) });
    process.stdin.on("end", end);
    process.stdin.on("close", end);
  } else {
    const socket = connectTo(transport, {
      onFailure: (code) => {
        process.stderr.write(`${connectFailure(transport, code)}\n`);
        process.exit(1);
      },
      onClosed: end,
    });
    // (destroyed: its close ends the process with 1, shutdown or not, through onClosed)
    gate = new InputGate(socket);
    writer = bounded(socket as unknown as ByteSink, () => {
      disconnected = true;
      socket.destroy();
    });
    reader = new FramedStdinReader(socket, { onInvalid, onWarning, onMessage: (m) => gate?.onRead(m) });
  }
  // (the gate counts the messages the connection handles: each one goes through its message strategy, in the order read)
  const counted = gate;
  const messageStrategy =
    counted === undefined
      ? lifecycle
      : {
          handleMessage: (message: Parameters<LifecycleStrategy["handleMessage"]>[0], next: Parameters<LifecycleStrategy["handleMessage"]>[1]) => {
            counted.onHandled(message);
            return lifecycle.handleMessage(message, next);
          },
        };
  connection = createConnection(ProposedFeatures.all, reader, writer, { messageStrategy });
  if (transport.kind !== "stdio") return connection;
  const c = connection;
  console.log = (...a: unknown[]) => c.console.log(format(...a));
  console.info = (...a: unknown[]) => c.console.info(format(...a));
  console.debug = (...a: unknown[]) => c.console.log(format(...a));
  console.warn = (...a: unknown[]) => c.console.warn(format(...a));
  console.error = (...a: unknown[]) => c.console.error(format(...a));
  return connection;
}
