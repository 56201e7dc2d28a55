/**
 * The shape every `stellar-secrets` sub-command has. A command module default-exports a
 * {@link Command}; `main.ts` loads it lazily, so a command's dependencies cost nothing to the others.
 */
import type { Readable } from "node:stream";

/** What a command may touch. Entry points pass the real process; tests pass their own. */
export interface CommandContext {
  /** Working directory; commands find `stellar.yaml` from here upwards. */
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdin: Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  /** Where results go: commands only write to it (and ask whether it is a terminal). */
  stdout: OutputStream;
  /** Messages, prompts and progress: written to, asked whether it is a terminal. */
  stderr: OutputStream;
}

/** What a command writes to (stdout, stderr): a `Writable` (process.stdout, a test's stream) or the process entry's direct writer. */
export interface OutputStream {
  write(chunk: string | Uint8Array): unknown;
  isTTY?: boolean;
}

/** One sub-command. `run` returns the exit status; failures are thrown as `CliError` or a coded error. */
export interface Command {
  /** One line for the command list in `stellar-secrets --help`. */
  summary: string;
  /** The full `--help` text. */
  help: string;
  run(argv: string[], ctx: CommandContext): Promise<number>;
  /**
   * Set for a command git runs with paths it appends (`merge-file`): `--help`/`-h` shows the help
   * only when it is the only argument, so that a file named `--help` is merged, not taken for a
   * help request (which exits 0 and makes git take our side as the merge).
   */
  helpOnlyAlone?: boolean;
}
