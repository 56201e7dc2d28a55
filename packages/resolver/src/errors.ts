import { SopsError, escapeControlCharacters, type SopsErrorCode } from "@stellar-secrets/sops";

/**
 * Codes of {@link ResolverError}. The codes of `@stellar-secrets/sops` that reading a file can
 * produce pass through unchanged (`MAC_MISMATCH`, `TAMPERED`, `MALFORMED_FILE`, ...), with the
 * `SopsError` kept as `cause`; the rest are the resolver's own.
 */
export type ResolverErrorCode =
  /** The name is in no environment file (the message suggests the nearest name). */
  | "UNKNOWN_SECRET"
  /** The name exists in other environments but has no value in this one (they are named). */
  | "MISSING_ENVIRONMENT_VALUE"
  /** The name holds a map, a list or null (a general SOPS file); only scalars are handed out. */
  | "NOT_A_STRING"
  /** No `<secrets_dir>/<environment>.enc.yaml` (the message lists the environments that exist). */
  | "UNKNOWN_ENVIRONMENT"
  /** The action is restricted (`environments:`) to environments that exclude this one. */
  | "ENVIRONMENT_NOT_ALLOWED"
  /** A connector, connection, action or header object has the wrong shape. */
  | "INVALID_CONFIG"
  /** A value cannot be sent in an HTTP header (it holds CR, LF or NUL). */
  | "INVALID_HEADER_VALUE"
  /** The resolver was closed. */
  | "CLOSED"
  /** The age key file can be read or written by every user of the machine, and `keyFileMode` (or STELLAR_SECRETS_KEY_FILE_MODE) is `refuse`. */
  | "INSECURE_KEY_FILE"
  /** A bug: something other than a file or decryption problem failed (see `cause`). */
  | "INTERNAL_ERROR"
  | SopsErrorCode;

/** Extra, value-free facts attached to a {@link ResolverError}. */
export interface ResolverErrorDetails {
  /** The environment the resolver serves. */
  environment?: string;
  /** The file concerned (path as given or as found). */
  file?: string;
  /** 1-based line in `file`, when known. */
  line?: number;
  /** 1-based column in `file`, when known. */
  column?: number;
  /** The secret name asked for. */
  secret?: string;
  /** The nearest existing name, for `UNKNOWN_SECRET`. */
  suggestion?: string;
  /** For `MISSING_ENVIRONMENT_VALUE`: the environments that do have a value. */
  environments?: readonly string[];
  /** How to fix it, in one sentence. */
  hint?: string;
  /** The underlying error (a `SopsError` for file problems). */
  cause?: unknown;
}

/**
 * The one error class of the resolver. `code` is stable; `message` says what happened, where,
 * and how to fix it. No message or field ever holds a secret value or key material.
 * `message` and `hint` hold no control character: text they quote from a file (a recipient label,
 * which is free text outside the MAC; a quoted secret name) has every control, bidi and invisible
 * format character written as an escape (`\x1b`, `\n`), so a runtime that logs them cannot be made
 * to print forged log lines or terminal escape sequences by whoever wrote the file.
 */
export class ResolverError extends Error {
  /** Stable, machine-readable code. */
  readonly code: ResolverErrorCode;
  /** The environment the resolver serves. */
  readonly environment?: string;
  /** The file concerned. */
  readonly file?: string;
  /** 1-based line in `file`, when known. */
  readonly line?: number;
  /** 1-based column in `file`, when known. */
  readonly column?: number;
  /** The secret name asked for. */
  readonly secret?: string;
  /** `UNKNOWN_SECRET`: the nearest existing name. */
  readonly suggestion?: string;
  /** `MISSING_ENVIRONMENT_VALUE`: the environments that have a value; `UNKNOWN_ENVIRONMENT`: those with a file. */
  readonly environments?: readonly string[];
  /** How to fix it, in one sentence. */
  readonly hint?: string;

  constructor(code: ResolverErrorCode, message: string, details: ResolverErrorDetails = {}) {
    super(escapeControlCharacters(message), details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "ResolverError";
    this.code = code;
    if (details.environment !== undefined) this.environment = details.environment;
    if (details.file !== undefined) this.file = details.file;
    if (details.line !== undefined) this.line = details.line;
    if (details.column !== undefined) this.column = details.column;
    if (details.secret !== undefined) this.secret = details.secret;
    if (details.suggestion !== undefined) this.suggestion = details.suggestion;
    if (details.environments !== undefined) this.environments = details.environments;
    if (details.hint !== undefined) this.hint = escapeControlCharacters(details.hint);
  }
}

/**
 * Wraps a failure to read or decrypt an environment file as a {@link ResolverError} with the
 * same code (a `SopsError`'s code passes through; a system error such as `ENOENT` becomes
 * `IO_ERROR`; a module of the package that cannot be loaded, `INTERNAL_ERROR` naming it; anything
 * else `INTERNAL_ERROR`), the `SopsError`'s position and hint, and the
 * original as `cause`. SopsError messages carry no values, so they are reused; other errors
 * contribute only their system code or class name, never their message.
 */
export function toResolverError(error: unknown, environment: string, file: string): ResolverError {
  if (error instanceof ResolverError) return error;
  if (error instanceof SopsError) {
    const details: ResolverErrorDetails = { environment, file: error.file ?? file, cause: error };
    if (error.line !== undefined) details.line = error.line;
    if (error.column !== undefined) details.column = error.column;
    if (error.hint !== undefined) details.hint = error.hint;
    return new ResolverError(error.code, `environment ${environment}: ${error.message}`, details);
  }
  const sys = (error as { code?: unknown } | null)?.code;
  if (typeof sys !== "string") {
    const kind = error instanceof Error ? error.name : typeof error;
    return new ResolverError(
      "INTERNAL_ERROR",
      `environment ${environment}: unexpected ${kind} while loading ${file}. This is a bug in the resolver or @stellar-secrets/sops; the cause is attached.`,
      { environment, file, cause: error },
    );
  }
  if (sys === "MODULE_NOT_FOUND" || sys === "ERR_MODULE_NOT_FOUND") {
    // the general reader's yaml.cjs, loaded on first need, is not where the package put it: not a problem of the file
    return new ResolverError(
      "INTERNAL_ERROR",
      `environment ${environment}: reading ${file} needs a part of @stellar-secrets/resolver that is missing (${sys}: dist/bundle/yaml.cjs, the general SOPS reader). The installed package is incomplete, or it was bundled into the app by a bundler that did not copy it: reinstall the package and keep it out of the app's bundle.`,
      { environment, file, cause: error, hint: "Reinstall @stellar-secrets/resolver (npm install stellar-secrets-resolver-<version>.tgz) and mark it external in the app's bundler." },
    );
  }
  if (sys === "ERR_ACCESS_DENIED") {
    // node --permission: the file may well exist and be readable by the user; the process may not read it
    return new ResolverError(
      "IO_ERROR",
      `environment ${environment}: cannot read ${file} (ERR_ACCESS_DENIED): Node's permission model (--permission) does not let this process read it. Add --allow-fs-read=${file} (or a folder holding it) to the node command line.`,
      { environment, file, cause: error, hint: `Allow reading it: node --allow-fs-read=${file} …` },
    );
  }
  const reason = sys;
  if (reason === "EACCES" || reason === "EPERM") {
    // a deploy that copies files as one user and runs the service as another: say which user
    const uid = typeof process.getuid === "function" ? ` (uid ${process.getuid()})` : "";
    const hint = `Make ${file} and the folders above it readable by the user the service runs as${uid} (chown, chmod, or a group the service is in).`;
    return new ResolverError("IO_ERROR", `environment ${environment}: cannot read ${file} (${reason}): this process${uid} may not read it. ${hint}`, { environment, file, cause: error, hint });
  }
  return new ResolverError(
    "IO_ERROR",
    `environment ${environment}: cannot read ${file} (${reason}). Check that the file exists and is readable by this process.`,
    { environment, file, cause: error },
  );
}
