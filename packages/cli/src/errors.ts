/**
 * CLI errors and the one table that maps error codes to exit statuses.
 */

/** An error raised by a CLI command, with a stable string code and an actionable message. */
export class CliError extends Error {
  readonly code: string;
  readonly hint?: string;
  constructor(code: string, message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CliError";
    this.code = code;
    if (options?.hint !== undefined) this.hint = options.hint;
  }
}

/**
 * Exit status per error code. 1 is reserved for "the command ran and found problems"
 * (e.g. `check` with errors); 2 for usage errors; everything else is listed here.
 */
export const EXIT_CODES: Readonly<Record<string, number>> = {
  USAGE: 2,
  UNKNOWN_COMMAND: 2,
  INVALID_SECRET_NAME: 3,
  // the sops envelope's refusal of a name it cannot hold ("sops", "", "*_unencrypted"); the CLI
  // checks names first (INVALID_SECRET_NAME), so this is a backstop, never an internal error (70)
  INVALID_NAME: 3,
  NOT_FOUND: 4,
  UNKNOWN_SECRET: 4,
  UNKNOWN_ENVIRONMENT: 4,
  NO_PROJECT: 5,
  ALREADY_INITIALIZED: 6,
  SECRET_IN_USE: 7,
  RENAME_NOT_SUPPORTED: 8,
  CONFIRMATION_REQUIRED: 9,
  DECLINED: 9,
  NO_IDENTITY: 10,
  NO_MATCHING_IDENTITY: 10,
  MAC_MISMATCH: 11,
  TAMPERED: 11,
  NOT_ENCRYPTED: 12,
  MALFORMED_FILE: 13,
  DUPLICATE_KEY: 13,
  INVALID_UTF8: 13,
  FILE_TOO_LARGE: 13,
  UNSUPPORTED: 14,
  LOCK_TIMEOUT: 15,
  IO_ERROR: 16,
  NOT_A_FILE: 16,
  OUTSIDE_REPOSITORY: 16,
  OTHER_ENVIRONMENT_FILE: 16,
  INVALID_CONFIG: 17,
  INVALID_VALUE: 18,
  UNREPRESENTABLE_VALUE: 18,
  INVALID_MEMBER: 19,
  MEMBER_EXISTS: 20,
  UNKNOWN_MEMBER: 4,
  NO_PROPOSAL: 4,
  STALE_PROPOSAL: 20,
  LAST_MEMBER: 20,
  INVALID_VARIABLE_NAME: 21,
  VARIABLE_COLLISION: 21,
  STARTUP_VARIABLE: 21,
  GIT_ERROR: 22,
  CORRUPT_OBJECT: 22,
  OBJECT_TOO_LARGE: 22,
  EDITOR_FAILED: 23,
  SHALLOW_CLONE: 24,
  UNKNOWN_CONNECTION: 4,
  INVALID_CA: 25,
  UNREVIEWED_DESTINATION: 26,
  NO_RECIPIENTS: 27,
  MERGE_CONFLICT: 1,
  MERGE_NEEDS_KEY: 1,
  MERGE_FAILED: 1,
  UNRESOLVED_MERGE: 1,
  IDENTITY_EXISTS: 6,
  ALREADY_MEMBER: 20,
  REQUEST_EXISTS: 20,
  UNKNOWN_REQUEST: 4,
  ABORTED: 130,
  COMMAND_NOT_FOUND: 127,
};

/** The exit status for an error code (unknown codes: 70, like EX_SOFTWARE). */
export function exitCodeFor(code: string | undefined): number {
  return (code !== undefined && EXIT_CODES[code]) || 70;
}
