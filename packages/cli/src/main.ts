/**
 * `stellar-secrets` entry point: parses the command name, loads the command lazily, maps errors
 * to exit statuses. The only place that calls `process.exit`.
 */
import type { Command, CommandContext } from "./command.js";
import { CliError, exitCodeFor } from "./errors.js";
import { didYouMean } from "./suggest.js";

type Loader = () => Promise<{ default: Command }>;

/** Every sub-command, loaded on demand. */
export const COMMANDS: Readonly<Record<string, Loader>> = {
  init: () => import("./commands/init.js"),
  set: () => import("./commands/set.js"),
  get: () => import("./commands/get.js"),
  list: () => import("./commands/list.js"),
  rm: () => import("./commands/rm.js"),
  rename: () => import("./commands/rename.js"),
  members: () => import("./commands/members.js"),
  inbox: () => import("./commands/inbox.js"),
  keygen: () => import("./commands/keygen.js"),
  whoami: () => import("./commands/whoami.js"),
  "request-access": () => import("./commands/request-access.js"),
  access: () => import("./commands/access.js"),
  "rotate-key": () => import("./commands/rotate-key.js"),
  stale: () => import("./commands/stale.js"),
  history: () => import("./commands/history.js"),
  review: () => import("./commands/review.js"),
  textconv: () => import("./commands/textconv.js"),
  "merge-file": () => import("./commands/merge-file.js"),
  resolve: () => import("./commands/resolve.js"),
  git: () => import("./commands/git.js"),
  exec: () => import("./commands/exec.js"),
  export: () => import("./commands/export.js"),
  edit: () => import("./commands/edit.js"),
  check: () => import("./commands/check.js"),
  usage: () => import("./commands/usage.js"),
  probe: () => import("./commands/probe.js"),
  "pre-commit": () => import("./commands/pre-commit.js"),
};


function topHelp(summaries: [string, string][]): string {
  const width = Math.max(...summaries.map(([n]) => n.length));
  return [
    "stellar-secrets — an agent platform's API secrets as SOPS/age-encrypted code in git",
    "",
    "Usage: stellar-secrets <command> [options]",
    "",
    "Commands:",
    ...summaries.map(([n, s]) => `  ${n.padEnd(width)}  ${s}`),
    "",
    "Run `stellar-secrets <command> --help` for a command's options.",
    "",
  ].join("\n");
}

/** Runs the CLI with `argv` (without node and script) against `ctx`; resolves to the exit status. */
export async function run(argv: string[], ctx: CommandContext): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "help" && rest[0] !== undefined && Object.hasOwn(COMMANDS, rest[0])) {
    return run([rest[0], "--help"], ctx);
  }
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    const summaries: [string, string][] = [];
    for (const [n, load] of Object.entries(COMMANDS)) summaries.push([n, (await load()).default.summary]);
    ctx.stdout.write(topHelp(summaries));
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-V") {
    // loaded here, not at the top: no other path of main needs core before a command loads it
    const { VERSION } = await import("@stellar-secrets/core");
    ctx.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (load === undefined) {
    const near = name.startsWith("-") ? undefined : didYouMean(name, Object.keys(COMMANDS));
    const commands = `run \`stellar-secrets --help\` to see the commands (${Object.keys(COMMANDS).join(", ")})`;
    throw new CliError("UNKNOWN_COMMAND", `unknown command "${name}"${near ? `; did you mean "${near}"?` : ""}`, {
      // (the rest of the line is never echoed: it may hold a value typed in the wrong place)
      hint: near ? `run \`stellar-secrets ${near} --help\`, or ${commands.replace(/^run /, "")}` : commands,
    });
  }
  const command = (await load()).default;
  const options = rest.includes("--") ? rest.slice(0, rest.indexOf("--")) : rest;
  if (options.includes("--help") || options.includes("-h")) {
    ctx.stdout.write(command.help.endsWith("\n") ? command.help : `${command.help}\n`);
    return 0;
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
  const message = error instanceof Error ? error.message : String(error);
  const status = coded ? exitCodeFor(e.code) : 70;
  if (options.json === true) {
    const body: Record<string, unknown> = { code, message, exitStatus: status };
    if (coded && e.hint) body.hint = e.hint;
    return { text: `${JSON.stringify({ error: body })}
`, status };
  }
  if (!coded) return { text: `stellar-secrets: internal error: ${escape(message, { keepNewlines: true })}\n`, status };
  const hint = e.hint ? `\n  hint: ${escape(e.hint, { keepNewlines: true })}` : "";
  return { text: `stellar-secrets: ${e.code}: ${escape(e.message, { keepNewlines: true })}${hint}\n`, status };
}

/** True when the command line asks for JSON output (`--json` or `--format json` before any `--`). */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  const options = end < 0 ? argv : argv.slice(0, end);
  return options.some((a, i) => a === "--json" || a === "--format=json" || (a === "--format" && options[i + 1] === "json"));
}

/** Process entry: runs and exits with the status. */
export function main(argv: string[]): void {
  // the standard streams are read on first use: node builds each one (and loads the stream, fs
  // or net code behind it) when `process.stdin` is first read, a few milliseconds of a command
  // that never reads stdin (get, list, check)
  const ctx: CommandContext = {
    cwd: process.cwd(),
    env: process.env,
    get stdin() {
      return process.stdin;
    },
    get stdout() {
      return process.stdout;
    },
    get stderr() {
      return process.stderr;
    },
  };
  run(argv, ctx).then(
    (status) => {
      process.exitCode = status;
    },
    async (error: unknown) => {
      // loaded only on this path: a successful run of a command that never needs sops stays light
      const escape = await import("@stellar-secrets/sops").then((m) => m.escapeControlCharacters, () => undefined);
      const { text, status } = formatError(error, { json: wantsJson(argv), ...(escape === undefined ? {} : { escape }) });
      process.stderr.write(text);
      process.exit(status);
    },
  );
}
