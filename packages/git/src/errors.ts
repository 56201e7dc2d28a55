/**
 * The coded error of the git adapter. Callers branch on `code`, never on the message; the CLI
 * maps the codes to exit statuses in its one table (`GIT_ERROR` 22, `NOT_FOUND` 4,
 * `SHALLOW_CLONE` 24, `CORRUPT_OBJECT` 22, `OBJECT_TOO_LARGE` 22) and prints `code: message` and the hint as for every coded error.
 */

/**
 * What went wrong: git failed or there is no repository; a ref or common ancestor does not exist;
 * it may exist in history a shallow clone did not fetch; a git object inflates past the size its
 * header declares (damaged, or a zlib bomb); a git object is larger than what is read of it.
 */
export type GitErrorCode = "GIT_ERROR" | "NOT_FOUND" | "SHALLOW_CLONE" | "CORRUPT_OBJECT" | "OBJECT_TOO_LARGE";

/** A failed git operation, with a stable code, a message that says what and where, and how to fix it (`hint`). */
export class GitError extends Error {
  readonly code: GitErrorCode;
  readonly hint?: string;
  constructor(code: GitErrorCode, message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "GitError";
    this.code = code;
    if (options?.hint !== undefined) this.hint = options.hint;
  }
}

/** True when `error` is a {@link GitError}. */
export function isGitError(error: unknown): error is GitError {
  return error instanceof GitError;
}
