/**
 * Takes `--clientProcessId` out of `process.argv` when this module is evaluated: `main.ts` imports
 * it before `vscode-languageserver/node`, whose module body starts its own watch of that pid (one
 * that ends the server on EPERM, see `parent-process.ts`) when it finds the argument there. The
 * server watches the pid itself instead. The only module of the server with an effect at import.
 */
import { takeClientProcessId } from "./parent-process.js";

/** The command line's arguments as the process was given them (`--clientProcessId` included). */
export const GIVEN_ARGS: readonly string[] = process.argv.slice(2);

/** The pid of `--clientProcessId` (now gone from `process.argv`); undefined when none was given. */
export const CLIENT_PROCESS_ID: number | undefined = takeClientProcessId(process.argv);
