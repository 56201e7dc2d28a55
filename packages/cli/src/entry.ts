/**
 * What every way of starting the CLI shares, without the command table: running one loaded
 * command (`--help`, the options before `--`), formatting errors, and the process entry that maps
 * the result to the exit status. `main.ts` adds the command table; the per-command bundles of the
 * hot commands (scripts/bundle.mjs: get, list, check, set) pair this module with one command, so
 * their start loads and compiles only what that command uses.
 */
import { fstatSync, writeSync } from "node:fs";
import type { Command, CommandContext, OutputStream } from "./command.js";
import { escapeControlCharacters } from "@stellar-secrets/sops";
import { exitCodeFor } from "./errors.js";
import { stringifyJson } from "./json-text.js";

/** Runs an already loaded `command` with its arguments `rest` (after the command name): `--help`/`-h` before any `--` print its help. */
export function runCommand(command: Command, rest: string[], ctx: CommandContext): Promise<number> {
  const options = rest.includes("--") ? rest.slice(0, rest.indexOf("--")) : rest;
  const asks = command.helpOnlyAlone === true ? rest.length === 1 && (rest[0] === "--help" || rest[0] === "-h") : options.includes("--help") || options.includes("-h");
  if (asks) {
    ctx.stdout.write(command.help.endsWith("\n") ? command.help : `${command.help}\n`);
    return Promise.resolve(0);
  }
  return command.run(rest, ctx);
}

/**
 * Formats an error for the terminal: `stellar-secrets: CODE: message` plus the hint, with control
 * characters of names and paths made visible (`escape`, sops' `escapeControlCharacters`); or, with
 * `json`, one line `{"error":{"code","message","hint","exitStatus"}}`. Never includes values.
 */
export function formatError(
  error: unknown,
  options: { json?: boolean; escape?: (text: string, options: { keepNewlines?: boolean }) => string } = {},
): { text: string; status: number } {
  const escape = options.escape ?? ((t: string) => t);
  const coded = error instanceof Error && typeof (error as { code?: unknown }).code === "string";
  const e = error as Error & { code: string; hint?: string };
  const code = coded ? e.code : "INTERNAL_ERROR";
  const message = withoutPrivateKeys(withoutReceived(coded ? e.code : undefined, error instanceof Error ? error.message : String(error)));
  const hintText = coded && e.hint ? withoutPrivateKeys(e.hint) : coded && e.code === "IO_ERROR" ? ioErrorHint(error) : undefined;
  const status = coded ? exitCodeFor(e.code) : 70;
  if (options.json === true) {
    const body: Record<string, unknown> = { code, message, exitStatus: status };
    if (hintText) body.hint = hintText;
    return { text: `${stringifyJson({ error: body })}
`, status };
  }
  if (!coded) return { text: `stellar-secrets: internal error: ${escape(message, { keepNewlines: true })}\n`, status };
  const hint = hintText ? `\n  hint: ${escape(hintText, { keepNewlines: true })}` : "";
  return { text: `stellar-secrets: ${e.code}: ${escape(message, { keepNewlines: true })}${hint}\n`, status };
}

/** What to do about a system error code of an `IO_ERROR` (a permission, a read-only or full disk). */
const IO_HINTS: Readonly<Record<string, string>> = {
  EACCES:
    "permission denied: the user running stellar-secrets cannot write (or read) the file or its folder, where writes also create a lock file and a temp file; check their owner and mode (`ls -ld`), or run as a user who can write there",
  EROFS: "the file system is read-only: run the command in a writable copy of the repository",
  ENOSPC: "no space left on the device: free some space and run the command again",
};

/**
 * The hint of an `IO_ERROR` that carries none, from the system error code of its `cause` (or the
 * `(EACCES)` its message ends with): the message says what failed and where, this how to fix it.
 * Undefined for other codes.
 */
export function ioErrorHint(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown } }).cause?.code;
  const errno = typeof cause === "string" ? cause : /\((E[A-Z]+)\)/.exec(error instanceof Error ? error.message : "")?.[1];
  if (errno === undefined) return undefined;
  return Object.hasOwn(IO_HINTS, errno) ? IO_HINTS[errno] : errno === "EPERM" ? IO_HINTS.EACCES : undefined;
}

/** An age identity (`AGE-SECRET-KEY-1…`, `AGE-SECRET-KEY-PQ-1…`, `AGE-PLUGIN-…-1…`, any case) or a PEM/OpenSSH private key block. */
const PRIVATE_KEY = /AGE-(?:SECRET-KEY-(?:PQ-)?|PLUGIN-[A-Z0-9]+-)1[0-9A-Z]{8,}|-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/gi;

/**
 * `text` with every private key in it replaced by `(a private key, not shown)`. An error often
 * quotes what it was given — a member name, a key, a path — and a private key pasted where a
 * public key or a name belongs (`members rm AGE-SECRET-KEY-1…`) came back whole on stderr, into a
 * terminal's scrollback or a CI log. The last guard, for every command's errors.
 */
export function withoutPrivateKeys(text: string): string {
  return text.replace(PRIVATE_KEY, "(a private key, not shown)");
}

/**
 * node's argument checks (`ERR_INVALID_ARG_VALUE`, `ERR_INVALID_ARG_TYPE`, …) end their message
 * with what they received — for a child's environment, a secret's value. Anything from
 * "Received" on is cut from such a message: the first part names the argument, which is enough.
 */
function withoutReceived(code: string | undefined, message: string): string {
  if (code === undefined || !code.startsWith("ERR_INVALID_ARG")) return message;
  const at = message.search(/\.?\s*Received\b/);
  return at < 0 ? message : `${message.slice(0, at)}. (What node received is not shown: it may hold a secret value.)`;
}

/** True when the command line asks for JSON output (`--json` or `--format json` before any `--`). */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  const options = end < 0 ? argv : argv.slice(0, end);
  return options.some((a, i) => a === "--json" || a === "--format=json" || (a === "--format" && options[i + 1] === "json"));
}

/**
 * Standard output (fd 1) or error (fd 2) for the commands. A pipe, a regular file or (but on
 * Windows, whose console wants its own writes) a character device — a terminal, /dev/null — is
 * written synchronously to the file descriptor, as node itself writes to them on Linux and macOS,
 * without building the process stream: node's pipe and terminal streams load its net and stream
 * code, a few milliseconds of every start (`$(stellar-secrets get ...)`, `list | grep`, `check`'s
 * report in a terminal). Whether a character device is a terminal (`isTTY`) is asked of node:tty
 * only when a command wants to know. Anything else (a socket, an fd that cannot be stat'ed) gets
 * process.stdout / process.stderr. When a write fails (EAGAIN on a pipe or terminal left
 * non-blocking), that chunk and the rest go through the process stream, which reports as it always
 * did; on EPIPE (the reader has gone) the rest is dropped.
 */
function standardStream(fd: 1 | 2): OutputStream {
  let watched = false;
  const stream = (): NodeJS.WriteStream => {
    const out = fd === 1 ? process.stdout : process.stderr;
    if (!watched) {
      watched = true;
      // a socket or pipe whose reader has gone reports EPIPE as an event: the rest is dropped (see below)
      out.on("error", (error: NodeJS.ErrnoException) => {
        if (error.code !== "EPIPE") throw error;
      });
    }
    return out;
  };
  let direct = false;
  let device = false;
  try {
    const st = fstatSync(fd);
    device = st.isCharacterDevice() && process.platform !== "win32";
    direct = st.isFIFO() || st.isFile() || device;
  } catch {
    // not open: the process stream says what node says
  }
  if (!direct) return stream();
  // the reader of a pipe has gone (`stellar-secrets list | head -1`): what is left is dropped and the
  // command finishes its work (a write command still updates what it must) instead of dying on EPIPE
  let gone = false;
  let tty: boolean | undefined;
  return {
    get isTTY(): boolean {
      return (tty ??= device && process.getBuiltinModule("node:tty").isatty(fd));
    },
    write(chunk: string | Uint8Array): boolean {
      if (gone) return true;
      if (!direct) return stream().write(chunk);
      const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
      let done = 0;
      try {
        while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EPIPE") {
          gone = true;
          return true;
        }
        direct = false;
        return stream().write(bytes.subarray(done));
      }
    },
  };
}

/**
 * Process entry: runs `run` with the real process (`argv` without node and script) and sets the
 * exit status; on an error prints it (as JSON with `--json`) and exits with its status. The only
 * place that calls `process.exit`.
 */
export function runProcess(argv: string[], run: (argv: string[], ctx: CommandContext) => Promise<number>): void {
  // the standard streams are read on first use: node builds each one (and loads the stream, fs
  // or net code behind it) when `process.stdin` is first read, a few milliseconds of a command
  // that never reads stdin (get, list, check)
  let stdout: OutputStream | undefined;
  let stderr: OutputStream | undefined;
  const ctx: CommandContext = {
    cwd: process.cwd(),
    env: process.env,
    get stdin() {
      return process.stdin;
    },
    get stdout() {
      return (stdout ??= standardStream(1));
    },
    get stderr() {
      return (stderr ??= standardStream(2));
    },
  };
  run(argv, ctx).then(
    (status) => {
      process.exitCode = status;
    },
    (error: unknown) => {
      const { text, status } = formatError(error, { json: wantsJson(argv), escape: escapeControlCharacters });
      process.stderr.write(text);
      process.exit(status);
    },
  );
}
