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
import type { Connection, ResponseMessage } from "vscode-languageserver/node";
import { createConnection, ProposedFeatures, StreamMessageWriter } from "./lsp.js";
import { createCoreModel } from "./core-model.js";
import { lifecycleStrategy, type LifecycleStrategy } from "./lifecycle.js";
import { watchParent, type ParentWatch } from "./parent-process.js";
import { startServer } from "./server.js";
import { FramedStdinReader, PARSE_ERROR } from "./stdio-framing.js";

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
    process.stdout.write("Usage: stellar-secrets-language-server --stdio | --node-ipc | --socket=PORT | --pipe=NAME\n");
    return;
  }
  if (argv.includes("--version")) {
    process.stdout.write("0.1.0\n");
    return;
  }
  if (!argv.some((a) => a === "--stdio" || a === "--node-ipc" || a.startsWith("--socket") || a.startsWith("--pipe") || a.startsWith("--clientProcessId"))) {
    process.stderr.write("stellar-secrets-language-server: choose a transport: --stdio, --node-ipc, --socket=PORT or --pipe=NAME\n");
    process.exitCode = 2;
    return;
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
  // the transport from process.argv; stdio through the server's own framing (stdio-framing.ts)
  const connection = argv.includes("--stdio") ? stdioConnection(lifecycle) : createConnection(ProposedFeatures.all, { messageStrategy: lifecycle });
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
  startServer(connection, { modelFactory: createCoreModel, afterInitialIndex: options.afterInitialIndex, buildTag: options.buildTag ?? ownBuildTag() });
}

/**
 * The connection over stdin and stdout, read through {@link FramedStdinReader}: a message with a
 * wrong `Content-Length`, or bytes that are no message, never leave the server reading at a wrong
 * offset (hanging, answering nothing); a body that is not a message is answered with JSON-RPC's
 * error and logged (without its bytes). What `vscode-languageserver` does itself for `--stdio` is
 * done here too: the process ends when stdin ends (0 after `shutdown`, else 1), and `console`
 * writes to the client's log, never to stdout, which carries the protocol.
 */
function stdioConnection(lifecycle: LifecycleStrategy): Connection {
  const writer = new StreamMessageWriter(process.stdout);
  let connection: Connection | undefined;
  const log = (line: string): void => {
    try {
      connection?.console.error(line);
    } catch {
      process.stderr.write(`${line}\n`);
    }
  };
  const reader = new FramedStdinReader(process.stdin, {
    onInvalid: (e) => {
      log(`[stellar-secrets] the client sent ${e.reason}: answered with ${e.code}`);
      const answer: ResponseMessage = { jsonrpc: "2.0", id: e.id, error: { code: e.code, message: `${e.code === PARSE_ERROR ? "Parse error" : "Invalid Request"}: ${e.reason}` } };
      void writer.write(answer).catch(() => {});
    },
    onWarning: (reason) => log(`[stellar-secrets] the client's stream: ${reason}`),
  });
  connection = createConnection(ProposedFeatures.all, reader, writer, { messageStrategy: lifecycle });
  const end = (): void => process.exit(lifecycle.shutdownReceived ? 0 : 1);
  process.stdin.on("end", end);
  process.stdin.on("close", end);
  const c = connection;
  console.log = (...a: unknown[]) => c.console.log(format(...a));
  console.info = (...a: unknown[]) => c.console.info(format(...a));
  console.debug = (...a: unknown[]) => c.console.log(format(...a));
  console.warn = (...a: unknown[]) => c.console.warn(format(...a));
  console.error = (...a: unknown[]) => c.console.error(format(...a));
  return connection;
}
