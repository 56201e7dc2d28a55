/** Errors thrown by core operations (bad input files are diagnostics, not errors). */

/** Codes of {@link CoreError}. */
export type CoreErrorCode =
  | "NO_PROJECT" // no stellar.yaml in the directory or any parent
  | "INVALID_CONFIG" // stellar.yaml has errors
  | "INVALID_SECRET_NAME" // a name breaks the naming rules
  | "UNKNOWN_ENVIRONMENT" // an environment that stellar.yaml does not declare
  | "NOT_FOUND" // a file or entry that should exist does not
  | "OUTSIDE_REPOSITORY" // a symbolic link takes a project file or folder outside the repository
  | "IO_ERROR"; // reading the disk failed

/**
 * A failed core operation: a stable string `code`, a message saying what and where, and a
 * `hint` saying how to fix it. Never contains a secret value or key material.
 */
export class CoreError extends Error {
  readonly code: CoreErrorCode;
  readonly hint?: string;
  /** The file concerned, when there is one (as given by the caller). */
  readonly file?: string;
  constructor(code: CoreErrorCode, message: string, options?: { hint?: string; file?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CoreError";
    this.code = code;
    if (options?.hint !== undefined) this.hint = options.hint;
    if (options?.file !== undefined) this.file = options.file;
  }
}
