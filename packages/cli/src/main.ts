/**
 * `stellar-secrets` entry point: parses the command name, loads the command lazily, maps errors
 * to exit statuses (through `entry.ts`, the only place that calls `process.exit`).
 */
import type { Command, CommandContext } from "./command.js";
import { runCommand, runProcess } from "./entry.js";
import { CliError } from "./errors.js";
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
    "Options:",
    "  -h, --help     this list (`stellar-secrets help COMMAND`, or `COMMAND --help`: a command's usage and options)",
    "  -V, --version  print the version",
    "",
    "Environment:",
    "  SOPS_AGE_KEY, SOPS_AGE_KEY_FILE  your age keys, found as sops finds them (also in",
    "                                   $XDG_CONFIG_HOME/sops/age/keys.txt, else ~/.config/sops/age/keys.txt)",
    "  SOPS_AGE_SSH_PRIVATE_KEY_FILE    an SSH ed25519 private key (else ~/.ssh/id_ed25519)",
    "  SOPS_AGE_KEY_CMD, SOPS_AGE_SSH_PRIVATE_KEY_CMD",
    "                                   never run: pass the key with SOPS_AGE_KEY=\"$(...)\" instead",
    "  VISUAL, EDITOR                   the editor `edit` opens",
    "  STELLAR_SECRETS_PROBE_CA, STELLAR_SECRETS_AUDIT_LOG",
    "                                   probe's --ca and --audit-log when not given",
    "  STELLAR_SECRETS_ALLOW_OUTSIDE_LINKS=1",
    "                                   follow symbolic links that leave the repository",
    "",
    "Run `stellar-secrets <command> --help` for a command's options.",
    "",
  ].join("\n");
}

/**
 * Words other secret tools and shells use for a command (`gh secret delete`, `heroku
 * config:unset`, `ls`), each with the command that does it here. A typed word is looked up here
 * before the nearest name is taken: "unset" is one letter from "set", which does the opposite.
 * `--version` stands for the option.
 */
export const COMMAND_SYNONYMS: Readonly<Record<string, string>> = {
  unset: "rm",
  delete: "rm",
  del: "rm",
  remove: "rm",
  ls: "list",
  show: "get",
  reveal: "get",
  cat: "get",
  put: "set",
  add: "set",
  mv: "rename",
  move: "rename",
  lint: "check",
  validate: "check",
  run: "exec",
  version: "--version",
  "-v": "--version",
  "--v": "--version",
  "-version": "--version",
};

/** The command (or `--version`) a mistyped or foreign command word most likely meant; undefined when none is near. */
export function suggestCommand(typed: string): string | undefined {
  const synonym = Object.hasOwn(COMMAND_SYNONYMS, typed.toLowerCase()) ? COMMAND_SYNONYMS[typed.toLowerCase()] : undefined;
  if (synonym !== undefined) return synonym;
  return typed.startsWith("-") ? undefined : didYouMean(typed, Object.keys(COMMANDS));
}

/** Runs the CLI with `argv` (without node and script) against `ctx`; resolves to the exit status. */
export async function run(argv: string[], ctx: CommandContext): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "help" && rest[0] !== undefined && Object.hasOwn(COMMANDS, rest[0])) {
    return run([rest[0], "--help"], ctx);
  }
  if (name === "help" && rest[0] !== undefined && !rest[0].startsWith("-")) {
    // `help lsit`, `help unset`: the unknown command's error, with its suggestion (only that word is echoed)
    return run([rest[0]], ctx);
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
    const near = suggestCommand(name);
    const commands = `run \`stellar-secrets --help\` to see the commands (${Object.keys(COMMANDS).join(", ")})`;
    // an option before the command (`stellar-secrets --env dev get x`, as git -C or kubectl -n take one)
    const later = near === undefined && name.startsWith("-") ? rest.find((w) => Object.hasOwn(COMMANDS, w)) : undefined;
    if (later !== undefined) {
      throw new CliError("UNKNOWN_COMMAND", `unknown command "${name}": options go after the command (stellar-secrets ${later} [options])`, {
        hint: `put ${name} after ${later}; \`stellar-secrets ${later} --help\` lists its options`,
      });
    }
    const first = near === "--version" ? "run `stellar-secrets --version`" : `run \`stellar-secrets ${near} --help\``;
    throw new CliError("UNKNOWN_COMMAND", `unknown command "${name}"${near ? `; did you mean "${near}"?` : ""}`, {
      // (the rest of the line is never echoed: it may hold a value typed in the wrong place)
      hint: near ? `${first}, or ${commands.replace(/^run /, "")}` : commands,
    });
  }
  return runCommand((await load()).default, rest, ctx);
}

export { formatError, wantsJson } from "./entry.js";

/** Process entry: runs and exits with the status (see {@link runProcess}). */
export function main(argv: string[]): void {
  runProcess(argv, run);
}
