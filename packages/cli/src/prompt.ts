/**
 * Terminal prompts: a hidden prompt for secret values (raw mode, echoes nothing) and a yes/no
 * confirmation. Both read from the command's stdin, which must be a terminal, and write the
 * question to stderr so that stdout stays clean for data.
 */
import { StringDecoder } from "node:string_decoder";
import type { CommandContext } from "./command.js";
import { CliError } from "./errors.js";

/** True when prompts can be shown: stdin is a terminal that supports raw mode. */
export function canPrompt(ctx: CommandContext): boolean {
  return ctx.stdin.isTTY === true && typeof ctx.stdin.setRawMode === "function";
}

/**
 * Asks `question` on stderr and reads one line without echoing anything (not even `*`).
 * Enter ends the line; Backspace deletes, Ctrl-U clears; escape sequences (arrows, bracketed
 * paste markers) are ignored. Ctrl-C, or Ctrl-D on an empty line, aborts with `CliError("ABORTED")`.
 * A pasted value of several lines (more text right after the Enter, or an Enter inside a
 * bracketed paste) is refused whole with `CliError("INVALID_VALUE")` pointing to `--from-file`,
 * never cut to its first line.
 * Throws `CliError("USAGE")` when stdin is not a terminal.
 */
export function promptHidden(ctx: CommandContext, question: string): Promise<string> {
  return readLine(ctx, question, false);
}

/**
 * Asks a yes/no `question` (default no) and resolves to true only for `y` or `yes`.
 * Throws `CliError("CONFIRMATION_REQUIRED")` when stdin is not a terminal, naming `--yes`.
 */
export async function confirm(ctx: CommandContext, question: string): Promise<boolean> {
  if (!canPrompt(ctx)) {
    throw new CliError("CONFIRMATION_REQUIRED", "this command asks for confirmation, and stdin is not a terminal", {
      hint: "pass --yes to confirm without a prompt",
    });
  }
  const answer = await readLine(ctx, `${question} [y/N] `, true);
  return /^(y|yes)$/i.test(answer.trim());
}

/** Bracketed-paste start/end markers, kept as private-use characters while other escapes are stripped. */
const PASTE_START = "\uE000";
const PASTE_END = "\uE001";

/** Removes terminal escape sequences (CSI such as arrow keys, SS3); paste markers become PASTE_START/END. */
function stripEscapes(text: string): string {
  return text
    .replace(/\u001b\[200~/g, PASTE_START)
    .replace(/\u001b\[201~/g, PASTE_END)
    .replace(/\u001b\[[0-9;?]*[ -/]*[@-~]/g, "")
    .replace(/\u001bO./g, "")
    .replace(/\u001b/g, "");
}

/**
 * How long the hidden prompt waits after Enter for more input of the same paste. A paste arrives
 * at once; a person does not type a second line within this time.
 */
const PASTE_WINDOW_MS = 40;

function multilinePaste(): CliError {
  return new CliError("INVALID_VALUE", "the pasted value has more than one line; the prompt reads a single line, so nothing was stored", {
    hint: "put the value in a file and pass --from-file FILE (or pipe it: --from-stdin --keep-newlines)",
  });
}

function readLine(ctx: CommandContext, question: string, echo: boolean): Promise<string> {
  const stdin = ctx.stdin;
  if (!canPrompt(ctx) || stdin.setRawMode === undefined) {
    return Promise.reject(
      new CliError("USAGE", "cannot prompt: stdin is not a terminal", {
        hint: "pipe the value with --from-stdin or read it from a file with --from-file F",
      }),
    );
  }
  const setRawMode = stdin.setRawMode.bind(stdin);
  return new Promise<string>((resolve, reject) => {
    const decoder = new StringDecoder("utf8");
    const chars: string[] = [];
    let done = false;
    let pasting = false;
    // hidden prompt: after Enter, more text of the same paste means the value had several lines
    let ended = false;
    let multiline = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (error: CliError | undefined): void => {
      if (done) return;
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      stdin.removeListener("data", onData);
      stdin.removeListener("end", onEnd);
      setRawMode(false);
      stdin.pause();
      ctx.stderr.write("\n");
      if (error) {
        chars.fill("");
        reject(error);
      } else resolve(chars.join(""));
    };
    const settle = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(() => finish(multiline ? multilinePaste() : undefined), PASTE_WINDOW_MS);
    };
    const onEnd = (): void => (ended ? finish(multiline ? multilinePaste() : undefined) : finish(new CliError("ABORTED", "input ended before a line was entered")));
    const onData = (chunk: Buffer | string): void => {
      const text = stripEscapes(typeof chunk === "string" ? chunk : decoder.write(chunk));
      for (const ch of text) {
        if (ch === PASTE_START) {
          pasting = true;
          continue;
        }
        if (ch === PASTE_END) {
          pasting = false;
          continue;
        }
        if (ended) {
          if (ch === "\u0003") return finish(new CliError("ABORTED", "aborted (Ctrl-C)"));
          if (!/\s/.test(ch)) multiline = true;
          continue;
        }
        if (ch === "\r" || ch === "\n") {
          if (echo) return finish(undefined);
          ended = true;
          if (pasting) multiline = true;
          continue;
        }
        if (ch === "\u0003") return finish(new CliError("ABORTED", "aborted (Ctrl-C)"));
        if (ch === "\u0004") {
          if (chars.length === 0) return finish(new CliError("ABORTED", "aborted (Ctrl-D)"));
          return finish(undefined);
        }
        if (ch === "\u007f" || ch === "\b") {
          if (chars.length > 0) {
            chars.pop();
            if (echo) ctx.stderr.write("\b \b");
          }
          continue;
        }
        if (ch === "\u0015") {
          if (echo) ctx.stderr.write("\b \b".repeat(chars.length));
          chars.length = 0;
          continue;
        }
        if (ch < " " && ch !== "\t") continue;
        chars.push(ch);
        if (echo) ctx.stderr.write(ch);
      }
      if (ended) settle();
    };
    // Echo off before the question appears: anything typed after it is never echoed.
    setRawMode(true);
    stdin.on("data", onData);
    stdin.once("end", onEnd);
    stdin.resume();
    ctx.stderr.write(question);
  });
}
