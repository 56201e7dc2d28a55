/**
 * The one error class of the SOPS envelope. Every failure has a stable string code; messages say
 * what went wrong, where, and how to fix it, and never contain a plaintext value, a data key or
 * an identity.
 */

/** Stable error codes (see API.md). */
export type SopsErrorCode =
  | "MALFORMED_FILE"
  | "DUPLICATE_KEY"
  | "FILE_TOO_LARGE"
  | "INVALID_UTF8"
  | "NOT_ENCRYPTED"
  | "TAMPERED"
  | "MAC_MISMATCH"
  | "NO_IDENTITY"
  | "NO_MATCHING_IDENTITY"
  | "UNSUPPORTED"
  | "LOCK_TIMEOUT"
  | "INVALID_NAME"
  | "NO_RECIPIENTS"
  | "NOT_A_FILE"
  | "IO_ERROR";

/** Where an error happened, when known. Lines and columns are 1-based. */
export interface SopsErrorDetails {
  file?: string | undefined;
  line?: number | undefined;
  column?: number | undefined;
  hint?: string | undefined;
  cause?: unknown;
}

/** An error from reading, verifying or writing a SOPS file. */
export class SopsError extends Error {
  readonly code: SopsErrorCode;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  readonly hint?: string;

  constructor(code: SopsErrorCode, message: string, details: SopsErrorDetails = {}) {
    const where = details.file
      ? `${details.file}${details.line ? `:${details.line}${details.column ? `:${details.column}` : ""}` : ""}: `
      : "";
    super(`${where}${message}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "SopsError";
    this.code = code;
    if (details.file !== undefined) this.file = details.file;
    if (details.line !== undefined) this.line = details.line;
    if (details.column !== undefined) this.column = details.column;
    if (details.hint !== undefined) this.hint = details.hint;
  }
}

/** True when `e` is a {@link SopsError}, optionally with the given code. */
export function isSopsError(e: unknown, code?: SopsErrorCode): e is SopsError {
  return e instanceof SopsError && (code === undefined || e.code === code);
}
