/**
 * Reading a secret value: from a hidden prompt, from stdin (`--from-stdin`) or from a file
 * (`--from-file F`). Never from a command-line argument, so values stay out of shell history
 * and `ps`.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { credentialAsName, credentialAsNameMessage, pastedCredential } from "@stellar-secrets/core";
import type { CommandContext } from "./command.js";
import { CliError } from "./errors.js";
import { windowsPathHint } from "./path-hints.js";
import { canPrompt, promptHidden } from "./prompt.js";

/** Largest value accepted, in bytes (an environment file is limited to 8 MiB as a whole). */
export const MAX_VALUE_BYTES = 1024 * 1024;

/** Where a value comes from. */
export type ValueSource =
  | { kind: "prompt"; question: string }
  | { kind: "stdin"; keepNewlines?: boolean }
  | { kind: "file"; path: string };

/**
 * Picks the value source from the flags: `--from-stdin`, `--from-file F`, else the hidden prompt
 * when stdin is a terminal. Throws `CliError("USAGE")` when both flags are given, or when neither
 * is given and stdin is not a terminal.
 */
export function chooseValueSource(
  ctx: CommandContext,
  flags: { "from-stdin"?: boolean; "from-file"?: string; "keep-newlines"?: boolean },
  question: string,
): ValueSource {
  if (flags["from-stdin"] && flags["from-file"] !== undefined) {
    throw new CliError("USAGE", "give either --from-stdin or --from-file, not both");
  }
  if (flags["keep-newlines"] && !flags["from-stdin"]) {
    throw new CliError("USAGE", "--keep-newlines goes with --from-stdin", {
      hint: "--from-file always keeps the exact bytes; the prompt takes one line",
    });
  }
  if (flags["from-stdin"]) return flags["keep-newlines"] ? { kind: "stdin", keepNewlines: true } : { kind: "stdin" };
  if (flags["from-file"] !== undefined) return { kind: "file", path: resolve(ctx.cwd, flags["from-file"]) };
  if (canPrompt(ctx)) return { kind: "prompt", question };
  throw new CliError("USAGE", "no value given, and stdin is not a terminal to prompt on", {
    hint: "pipe the value with --from-stdin (e.g. `printf %s \"$VALUE\" | stellar-secrets set NAME --env ENV --from-stdin`) or use --from-file F",
  });
}

/**
 * Reads a value from `source`:
 * - prompt: the typed line, without its Enter;
 * - stdin: every byte until end of input, minus trailing `\r`/`\n` characters (like `gh secret set`,
 *   so `echo value |` stores `value`), or exactly every byte with `keepNewlines`;
 * - file: the exact bytes of the file (a trailing newline is kept).
 * The value must be non-empty, valid UTF-8 and at most {@link MAX_VALUE_BYTES}. Throws
 * `CliError("INVALID_VALUE")` (the message never contains the value) or `CliError("NOT_FOUND")`.
 */
export async function readValue(ctx: CommandContext, source: ValueSource): Promise<string> {
  let bytes: Uint8Array;
  let where: string;
  if (source.kind === "prompt") {
    const typed = await promptHidden(ctx, source.question);
    bytes = Buffer.from(typed, "utf8");
    where = "the prompt";
  } else if (source.kind === "stdin") {
    const raw = await readAll(ctx.stdin);
    let end = raw.length;
    while (source.keepNewlines !== true && end > 0 && (raw[end - 1] === 0x0a || raw[end - 1] === 0x0d)) end--;
    bytes = raw.subarray(0, end);
    where = "stdin";
  } else {
    try {
      bytes = await readFile(source.path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const shown = shownPath(source.path);
      const windows = shown === source.path ? windowsPathHint(source.path) : undefined;
      if (code === "ENOENT") {
        const hint = shown === source.path ? windows : "--from-file takes the path of a file holding the value, not the value: if it was a real value, treat it as exposed (shell history) and rotate it";
        throw new CliError("NOT_FOUND", `--from-file: no such file ${shown}`, { cause: error, ...(hint === undefined ? {} : { hint }) });
      }
      // a folder (EISDIR) or a file this user may not read (EACCES): say which, and what to pass instead
      const hint = code === "EISDIR" ? `${shown} is a folder: --from-file takes the path of the file that holds the value` : code === "EACCES" ? `you may not read ${shown}: check its permissions (ls -l), or pipe the value with --from-stdin` : windows;
      throw new CliError("IO_ERROR", `--from-file: cannot read ${shown} (${code ?? "error"})`, { cause: error, ...(hint === undefined ? {} : { hint }) });
    }
    where = shownPath(source.path);
  }
  if (bytes.length === 0) {
    // the usual cause on stdin: `printf '%s' "$VAR" |` with VAR unset or empty in this shell (a copied line)
    const stdin = source.kind === "stdin" ? `stdin held nothing but line breaks, if anything: a pipe from \`printf '%s' "$VAR"\` sends nothing when VAR is unset or empty in this shell (set it first, e.g. \`read -rs VAR\`, or run \`set\` without --from-stdin to be prompted); ` : "";
    throw new CliError("INVALID_VALUE", `the value from ${where} is empty`, {
      hint: `${stdin}a secret needs a value; to delete one use \`stellar-secrets rm NAME --env ENV\``,
    });
  }
  if (bytes.length > MAX_VALUE_BYTES) {
    throw new CliError("INVALID_VALUE", `the value from ${where} is ${bytes.length} bytes, over the limit of ${MAX_VALUE_BYTES}`);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (error) {
    throw new CliError("INVALID_VALUE", `the value from ${where} is not valid UTF-8 text`, {
      hint: "store binary data base64-encoded (e.g. `base64 -w0 FILE | stellar-secrets set NAME --env ENV --from-stdin`)",
      cause: error,
    });
  }
}

/**
 * A `--from-file` path as an error may show it: the path, unless a part of it looks like a
 * credential (the value given in place of its file: `--from-file sk_live_…`), which is then not shown.
 */
function shownPath(path: string): string {
  return path.split("/").some((part) => part !== "" && pastedCredential(part) !== undefined) ? "(the path given, not shown: it looks like a credential, not a file name)" : path;
}

/** Reads a stream to its end. */
export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : Buffer.from(chunk);
    total += buf.length;
    if (total > MAX_VALUE_BYTES + 2) {
      throw new CliError("INVALID_VALUE", `the value from stdin is over the limit of ${MAX_VALUE_BYTES} bytes`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/**
 * `CliError("INVALID_SECRET_NAME")` when a secret's name looks like a credential pasted where the
 * name belongs (`set sk_live_… --env production`, a `ghp_…: x` line in `edit`): core's
 * {@link credentialAsName} (a well-known format, a long random string that is no valid name, or
 * 24 or more random-looking lower-case hex digits), the test `check` and the editor use too.
 * Such a name was either stored in clear text (names are not encrypted) as a key of the environment
 * file, committed and pushed, or refused with a message quoting it. The name is never shown: the
 * message says what it looks like and `where` it was (`the NAME argument`, `line 3`). Undefined for
 * any other name.
 */
export function pastedValueAsName(name: string, where: string): CliError | undefined {
  const looks = credentialAsName(name);
  if (looks === undefined) return undefined;
  return new CliError("INVALID_SECRET_NAME", `${credentialAsNameMessage(where, looks)} [invalid-secret-name]`, {
    hint: "give the secret a name (e.g. stripe_api_key) and pass the value through the prompt, --from-stdin or --from-file; if it was a real value, treat it as exposed (shell history) and rotate it",
  });
}
