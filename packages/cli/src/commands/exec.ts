/**
 * `stellar-secrets exec --env ENV -- COMMAND ARGS...`: runs a command with one environment's
 * secrets as environment variables, passing its exit status through and forwarding signals.
 * Values go only to the child's environment, never to argv or output; the child's environment is
 * built by `childEnvironment` (variables.ts).
 */
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { parseCommandArgs, splitAtDoubleDash, splitList } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { CliError } from "../errors.js";
import { decryptEnvironment, openProject, selectOneEnvironment } from "../repository.js";
import { childEnvironment, selectValues, variableNames } from "../variables.js";

const help = `Usage: stellar-secrets exec --env ENV [--only NAME[,NAME]] [--override] [--keep-age-key]
                            [--allow-startup-variables] -- COMMAND [ARGS...]

Decrypts ENV's secrets (verifying the MAC) and runs COMMAND with each one as an environment
variable named after the secret, upper-cased (stripe_api_key -> STRIPE_API_KEY). The command's
stdin, stdout and stderr are this terminal's; its exit status is passed through (a command killed
by a signal gives 128 + the signal number); SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2
are forwarded to it. Nothing is written to disk and no value appears in any argument.
SOPS_AGE_KEY, a private key, is removed from COMMAND's environment (--keep-age-key keeps it);
SOPS_AGE_KEY_FILE and other paths to keys are passed on.

Errors: two secrets that give the same variable (VARIABLE_COLLISION), a name that is not a valid
variable name (INVALID_VARIABLE_NAME), a variable already set in this environment unless
--override (VARIABLE_COLLISION), a secret that would set a variable with which programs load or
run other code — PATH, IFS, LD_*, DYLD_*, BASH_ENV, ENV, PS4, NODE_OPTIONS, PYTHONPATH, PERL5OPT,
RUBYOPT, JAVA_TOOL_OPTIONS, GIT_SSH_COMMAND and the like — unless --allow-startup-variables
(STARTUP_VARIABLE; nothing is run), a value holding a NUL byte, which no environment variable can
carry (UNREPRESENTABLE_VALUE; nothing is run), a command that does not exist (COMMAND_NOT_FOUND, 127).

Options:
  --env ENV             the environment (exactly one)
  --only NAME[,NAME]    only these secrets
  --override            let secrets replace variables already set
  --keep-age-key        pass SOPS_AGE_KEY on to COMMAND (e.g. a script that runs stellar-secrets itself)
  --allow-startup-variables
                        let secrets set PATH, LD_PRELOAD, NODE_OPTIONS and the other variables
                        with which programs load or run other code

Example:
  stellar-secrets exec --env development -- node server.js
`;

const flags = {
  env: { type: "string", multiple: true },
  only: { type: "string", multiple: true },
  override: { type: "boolean" },
  "keep-age-key": { type: "boolean" },
  "allow-startup-variables": { type: "boolean" },
} as const;

const FORWARDED: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"];

async function run(argv: string[], ctx: CommandContext): Promise<number> {
  const { before, after } = splitAtDoubleDash(argv);
  const afterDashes = "put it after --, e.g. stellar-secrets exec --env development -- node server.js";
  let parsed: ReturnType<typeof parseCommandArgs<typeof flags>>;
  try {
    parsed = parseCommandArgs("exec", before, flags);
  } catch (error) {
    // without "--", the command and its options were read as exec's own ("unexpected argument
    // echo", "Unknown option '-e'"): say where the command goes (a mistyped exec flag keeps its did-you-mean)
    if (after === undefined && error instanceof CliError && error.code === "USAGE" && !/did you mean/.test(error.message)) {
      throw new CliError("USAGE", error.message, { hint: "the command to run and its options go after --, e.g. stellar-secrets exec --env development -- node server.js", cause: error });
    }
    throw error;
  }
  const f = parsed.flags;
  if (after === undefined || after.length === 0) {
    throw new CliError("USAGE", "exec: missing the command to run", { hint: afterDashes });
  }
  const config = await openProject(ctx);
  const envNames = splitList(f.env);
  const env = selectOneEnvironment(config, envNames, "exec");
  const decrypted = await decryptEnvironment(ctx, config, env);
  const values = selectValues(decrypted.values, splitList(f.only), env.name);
  const childEnv = childEnvironment(ctx.env, values, variableNames(values.keys()), {
    override: f.override === true,
    keepAgeKey: f["keep-age-key"] === true,
    allowStartupVariables: f["allow-startup-variables"] === true,
  });
  decrypted.dataKey.fill(0);
  const [file, ...args] = after as [string, ...string[]];
  return runChild(file, args, childEnv, ctx.cwd);
}

/** Spawns the child with inherited stdio, forwards signals, resolves to its exit status. */
function runChild(file: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const child = spawn(file, args, { env, cwd, stdio: "inherit" });
    const forward = (signal: NodeJS.Signals): void => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    };
    for (const s of FORWARDED) process.on(s, forward);
    const cleanup = (): void => {
      for (const s of FORWARDED) process.removeListener(s, forward);
    };
    child.once("error", (error: NodeJS.ErrnoException) => {
      cleanup();
      if (error.code === "ENOENT") {
        reject(new CliError("COMMAND_NOT_FOUND", `exec: command not found: ${file}`, { hint: "check the command name and PATH", cause: error }));
      } else if (error.code === "EACCES") {
        reject(new CliError("COMMAND_NOT_FOUND", `exec: ${file} is not executable`, { cause: error }));
      } else {
        reject(new CliError("IO_ERROR", `exec: cannot start ${file} (${error.code ?? error.message})`, { cause: error }));
      }
    });
    child.once("exit", (code, signal) => {
      cleanup();
      if (code !== null) resolve(code);
      else resolve(128 + (signal !== null ? (constants.signals[signal] ?? 0) : 0));
    });
  });
}

const command: Command = { summary: "run a command with one environment's secrets as environment variables", help, run };
export default command;
