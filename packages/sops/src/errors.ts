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
  | "OUTSIDE_REPOSITORY"
  /** An environment's file (`production.enc.yaml`) is a symbolic link to another environment's file. */
  | "OTHER_ENVIRONMENT_FILE"
  | "IO_ERROR";

/**
 * Which problem, for the errors a caller may treat differently from others of the same code
 * (the checker reports these per entry instead of once per file). Stable strings; more may be
 * added.
 * - `plaintext-value` (NOT_ENCRYPTED): a secret's value is not an `ENC[...]` string.
 * - `nested-value` (MALFORMED_FILE): a secret's value is a map or a list.
 * - `invalid-version` (MALFORMED_FILE): `sops.version` is not a semantic version.
 * - `conflict-markers` (MALFORMED_FILE): the file holds git conflict markers (git merged it as
 *   text, without the stellar-secrets merge driver); reported at the first marker line.
 * - `too-few-key-groups` (NO_MATCHING_IDENTITY): the file uses sops key groups and your
 *   identities open fewer of them than its `shamir_threshold` needs (the message says which).
 * - `quoted-shamir-threshold` (MALFORMED_FILE): a YAML or JSON file's `shamir_threshold` is a
 *   text (`"2"`), which sops 3.7–3.12 refuse; the hint says how to write it as a number.
 */
export type SopsErrorReason = "plaintext-value" | "nested-value" | "null-value" | "invalid-version" | "conflict-markers" | "too-few-key-groups" | "quoted-shamir-threshold";

/** Where an error happened, when known. Lines and columns are 1-based. */
export interface SopsErrorDetails {
  /** Which problem, when the code alone does not say (see {@link SopsErrorReason}). */
  reason?: SopsErrorReason | undefined;
  file?: string | undefined;
  line?: number | undefined;
  column?: number | undefined;
  hint?: string | undefined;
  cause?: unknown;
  /** With reason `too-few-key-groups`: see {@link SopsError.keyGroups}. */
  keyGroups?: TooFewKeyGroups | undefined;
}

/** What a `too-few-key-groups` refusal found (no key, share or label). */
export interface TooFewKeyGroups {
  /** The 1-based numbers of the groups the identities opened, in file order (may be empty). */
  opened: number[];
  /** How many groups the file has. */
  groups: number;
  /** How many groups are needed: `shamir_threshold`, or, when none is written, at least this many (see {@link thresholdWritten}). */
  threshold: number;
  /** False when the file writes no `shamir_threshold`: how many groups its split needs is not known, only that `threshold` is the fewest that may do. */
  thresholdWritten: boolean;
}

/** An error from reading, verifying or writing a SOPS file. */
export class SopsError extends Error {
  readonly code: SopsErrorCode;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  readonly hint?: string;
  /** Which problem, when the code alone does not say (see {@link SopsErrorReason}). */
  readonly reason?: SopsErrorReason;
  /** With reason `too-few-key-groups`: which groups the identities opened, of how many, and how many are needed. */
  readonly keyGroups?: TooFewKeyGroups;

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
    if (details.reason !== undefined) this.reason = details.reason;
    if (details.keyGroups !== undefined) this.keyGroups = details.keyGroups;
  }
}

/** True when `e` is a {@link SopsError}, optionally with the given code. */
export function isSopsError(e: unknown, code?: SopsErrorCode): e is SopsError {
  return e instanceof SopsError && (code === undefined || e.code === code);
}
