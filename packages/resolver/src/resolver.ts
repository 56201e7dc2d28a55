import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import {
  DEFAULT_SECRETS_DIR,
  ENVIRONMENT_LOOKUP_PATTERN,
  MAX_CONFIG_FILE_BYTES,
  PROJECT_FILE,
  assertInsideRoot,
  SopsError,
  decodeUtf8,
  environmentFileName,
  environmentOfFileName,
  nearestName,
  parseSecretsFile,
  readRegularFileSync,
  readEnvironmentMembers,
  readSecretsDir,
} from "@stellar-secrets/sops";
import type { AccessEvent, AccessOutcome, AccessSink } from "./access-log.js";
import type { ActionConfig, ApiConnection, AuthConnector, HeaderConfig } from "./config.js";
import { ResolverError, toResolverError } from "./errors.js";
import {
  resolveActionWith,
  resolveAuthWith,
  resolveHeaderList,
  type ResolvedAuth,
  type ResolvedHeaders,
  type ResolvedRequest,
  type TakeValue,
} from "./headers.js";
import { findResolverIdentities, type IdentityLookupOptions, type ResolverIdentities } from "./identities.js";
import { decryptSnapshot, detectFormat, type Snapshot, type SnapshotKeyGroups } from "./snapshot.js";

/** Options of {@link createResolver}. */
export interface ResolverOptions {
  /** The environment to serve, such as `production`. */
  environment: string;
  /**
   * The secrets repository root: the file is `<root>/<secrets_dir>/<environment>.enc.yaml`, where
   * `secrets_dir` is read from `<root>/stellar.yaml` when there is one (default `secrets`), and the
   * other `*.enc.yaml` files of that folder are read (names only, no keys) to explain a missing
   * value. Defaults to the current directory. Ignored when `files` is given.
   */
  root?: string;
  /**
   * Explicit environment → file paths, instead of `root`. Must contain `environment`; the other
   * entries are only read for names, to explain a missing value. Relative paths are resolved
   * against the current directory when `createResolver` runs (as `root` is).
   */
  files?: Readonly<Record<string, string>>;
  /**
   * Age identities: the text of a key file, or a list of `AGE-SECRET-KEY-1…` strings. When
   * absent: `SOPS_AGE_KEY`, else `SOPS_AGE_KEY_FILE` (re-read on every reload), else nothing.
   */
  identities?: string | readonly string[];
  /** Also accept the sops default key file (`~/.config/sops/age/keys.txt`) as a last resort. Off by default. */
  useSopsKeyFile?: boolean;
  /**
   * Follow symbolic links that take stellar.yaml, the secrets folder or the environment file
   * outside `root` (default false: such a link is `OUTSIDE_REPOSITORY`). Only for a deployment
   * that mounts its secrets folder elsewhere on purpose. Not consulted with `files` (explicit paths).
   */
  allowOutsideLinks?: boolean;
  /** Access-log sink(s): each receives every access event, synchronously. */
  audit?: AccessSink | readonly AccessSink[];
  /** Receives errors thrown by a sink (default: `process.emitWarning`). */
  onSinkError?: (error: unknown) => void;
  /**
   * A key file (`SOPS_AGE_KEY_FILE`, the sops default key file) that every user of the machine may
   * read or write (mode `0644`, `0666`, …): `"warn"` (default) emits one process warning per file
   * and mode (`process.emitWarning`, code `STELLAR_SECRETS_KEY_FILE_MODE`: path and mode only) and
   * serves the values; `"allow"` says nothing (a one-user container whose platform mounts secrets
   * `0644`, as Kubernetes does by default). The keys are used either way: refusing would break
   * deploys that work with sops. `"refuse"` fails with `INSECURE_KEY_FILE` instead (createResolver
   * rejects; a reload fails and keeps the last good values), for a deploy that wants such a key file
   * to stop it. When absent, the environment variable `STELLAR_SECRETS_KEY_FILE_MODE`
   * (`warn` | `allow` | `refuse`, read from `env`) decides; `refuse` in either one refuses.
   */
  keyFileMode?: "warn" | "allow" | "refuse";
  /** Environment variables for the identity lookup; defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Home folder for the sops default key file; defaults to `os.homedir()`. */
  home?: string;
}

/** The result of {@link Resolver.reload}. Never thrown: a failed reload keeps the last good values. */
export type ReloadResult =
  | {
      readonly ok: true;
      /** The snapshot generation now served. */
      readonly generation: number;
      /** True when the file's text was unchanged (nothing was decrypted). */
      readonly unchanged: boolean;
      /** Names added, removed and with a changed value (never the values). */
      readonly added: readonly string[];
      readonly removed: readonly string[];
      readonly changed: readonly string[];
    }
  | {
      readonly ok: false;
      /** Why the file was refused; the resolver still serves generation `generation`. */
      readonly error: ResolverError;
      readonly generation: number;
    };

/** Facts about the values being served (no values). */
export interface ResolverStatus {
  readonly environment: string;
  readonly file: string;
  readonly generation: number;
  readonly loadedAt: Date;
  readonly lastModified: string;
  /**
   * The file's age recipients as labelled: the top-level stanzas' labels, or, in a key-groups
   * file, every group's age labels (each once), none of whom may decrypt alone: see `keyGroups`.
   */
  readonly recipients: readonly string[];
  /**
   * A sops key-groups file's groups (Shamir secret sharing): how many groups' keys together
   * decrypt it (`threshold`) and each group's keys (age labels; other master keys as `type id`).
   * Absent for a file without key groups.
   */
  readonly keyGroups?: SnapshotKeyGroups;
  readonly secretCount: number;
  /** The error of the most recent reload, if it failed (cleared by a successful one). */
  readonly lastReloadError?: ResolverError;
}


interface Location {
  environment: string;
  /** Absolute: resolved against the current directory of createResolver, so a later process.chdir changes nothing. */
  file: string;
  /** The current directory of createResolver: a relative SOPS_AGE_KEY_FILE is read from it at every reload. */
  cwd: string;
  /** The repository root whose inside the file must stay in (checked again at every reload); absent with `files` or `allowOutsideLinks`. */
  insideRoot?: string;
  /** Other environments → file, for names only. `undefined` when listed lazily from `secretsDir`. */
  others?: ReadonlyMap<string, string>;
  secretsDir?: string;
  /** Each environment's member keys, from `<root>/stellar.yaml` as createResolver (or the last reload that decrypted) read it (absent with `files`, or when it lists none plainly). */
  members?: ReadonlyMap<string, ReadonlySet<string>>;
  /** The `root` whose stellar.yaml gives `members`, read again at each reload that decrypts (absent with `files`). */
  projectRoot?: string;
}

/** Names of the other environments, read once per snapshot on the first miss. */
interface OtherNames {
  byEnvironment: Map<string, ReadonlySet<string>>;
  all: Set<string>;
}

/**
 * Serves one environment's secrets from memory: decrypted and verified once, swapped whole on
 * {@link Resolver.reload}. Create it with {@link createResolver}.
 */
export class Resolver {
  /** The environment served. */
  readonly environment: string;
  /**
   * The environment file, as found (`<root>/<secrets_dir>/<environment>.enc.yaml`) or given in
   * `files`, as an absolute path: a relative `root` or `files` path is resolved against the current
   * directory when `createResolver` runs, and `reload()` reads the same file after a `process.chdir`.
   */
  readonly file: string;
  #snapshot: Snapshot | undefined;
  #location: Location;
  readonly #options: ResolverOptions;
  readonly #sinks: readonly AccessSink[];
  readonly #onSinkError: (error: unknown) => void;
  #others: { snapshot: Snapshot; names: OtherNames } | undefined;
  #reloadQueue: Promise<unknown> = Promise.resolve();
  #lastReloadError: ResolverError | undefined;
  /** Keys of a key file that cannot be read twice (a pipe): reused by every reload. */
  #readOnce: ResolverIdentities | undefined;

  /** @internal Use {@link createResolver}. */
  constructor(location: Location, options: ResolverOptions, snapshot: Snapshot, readOnce?: ResolverIdentities) {
    this.environment = location.environment;
    this.#readOnce = readOnce;
    this.file = location.file;
    this.#location = location;
    this.#options = options;
    this.#snapshot = snapshot;
    const audit = options.audit;
    this.#sinks = audit === undefined ? [] : typeof audit === "function" ? [audit] : [...audit];
    this.#onSinkError = options.onSinkError ?? ((error: unknown) => process.emitWarning(error instanceof Error ? error : new Error(String(error))));
  }

  /**
   * The value of `name` in this environment, as a string. Emits an access event for `consumer`
   * (default `"get"`), whatever the outcome.
   *
   * Throws {@link ResolverError}: `UNKNOWN_SECRET` (with the nearest name, and whether it differs
   * only by case), `MISSING_ENVIRONMENT_VALUE` (naming the environments that have it),
   * `NOT_A_STRING` (a map, list or null in a general SOPS file), `NOT_ENCRYPTED` (a value such a
   * file keeps in clear), `CLOSED`.
   */
  get(name: string, consumer = "get"): string {
    const snapshot = this.#current();
    const value = snapshot.values.get(name);
    if (value !== undefined) {
      if (this.#sinks.length > 0) this.#emit(snapshot, name, consumer, "ok");
      return value;
    }
    throw this.#miss(snapshot, name, consumer);
  }

  /** True when this environment has a value for `name` (no access event: nothing is handed out). */
  has(name: string): boolean {
    return this.#current().values.has(name);
  }

  /**
   * The names that hold a string value in this environment's file, in file order: exactly the
   * names for which {@link Resolver.get} returns a value. Not listed: names of maps, lists, null
   * or clear values in a general SOPS file (`get` throws NOT_A_STRING / NOT_ENCRYPTED for them).
   * Names only, from the current snapshot (after the last
   * successful reload); no access event, nothing decrypted anew. Never throws but CLOSED.
   */
  names(): string[] {
    return [...this.#current().values.keys()];
  }

  /**
   * Resolves a `headers:` list (`{name, type: secret, secret, prefix?}` / `{name, type: static,
   * value}`) into a header object, all values from one snapshot. `consumer` names the owner for
   * the access log (such as `action:create_ticket`).
   *
   * Throws {@link ResolverError}: the codes of {@link Resolver.get}, `INVALID_CONFIG` (bad
   * shape, bad header name, a name listed twice), `INVALID_HEADER_VALUE` (a value with CR/LF/NUL).
   */
  resolveHeaders(headers: readonly HeaderConfig[], consumer = "headers"): ResolvedHeaders {
    return this.#handOut((take) => resolveHeaderList(headers, take, "headers", consumer));
  }

  /**
   * What an auth connector adds to a request (see {@link ResolvedAuth}); for
   * `oauth2_client_credentials`, the client id and secret and a ready token request.
   * The access-log consumer is `connector:<name>` unless given.
   * Throws {@link ResolverError} as {@link Resolver.resolveHeaders} does.
   */
  resolveAuth(connector: AuthConnector, consumer?: string): ResolvedAuth {
    return this.#handOut((take) => resolveAuthWith(connector, take, consumer ?? `connector:${connector.name ?? "unnamed"}`));
  }

  /**
   * The full header set of an action's request: connection headers, then the auth connector's,
   * then the action's (the most specific wins for a name, in any case), all from one snapshot.
   * Each value is logged with its owner as consumer (`connection:…`, `connector:…`, `action:…`).
   *
   * Throws {@link ResolverError}: the codes of {@link Resolver.resolveHeaders},
   * `ENVIRONMENT_NOT_ALLOWED` (the action's `environments` exclude this one), `INVALID_CONFIG`
   * (connection or connector missing, extra, or not the one named).
   */
  resolveAction(action: ActionConfig, connection?: ApiConnection, connector?: AuthConnector): ResolvedRequest {
    return this.#handOut((take) => resolveActionWith(this.environment, action, connection, connector, take));
  }

  /**
   * Re-reads, decrypts and verifies the file, then swaps the new values in at once. Concurrent
   * readers see either the old or the new values, never a mix. Calls are serialized. A failed
   * reload (unreadable, tampered, wrong key...) keeps serving the last good values and returns
   * the error; it never rejects. When no identity was passed, the key source is read again, so a
   * rotated key file is picked up (not a key file that is a pipe or device, which cannot be read
   * twice: the keys `createResolver` read from it are kept).
   */
  reload(): Promise<ReloadResult> {
    const next = this.#reloadQueue.then(() => this.#reloadNow());
    this.#reloadQueue = next;
    return next;
  }

  /** Facts about what is served (no values). */
  status(): ResolverStatus {
    const s = this.#current();
    const status: ResolverStatus = {
      environment: this.environment,
      file: this.file,
      generation: s.generation,
      loadedAt: s.loadedAt,
      lastModified: s.lastModified,
      recipients: s.recipients,
      ...(s.keyGroups === undefined ? {} : { keyGroups: s.keyGroups }),
      secretCount: s.values.size,
      ...(this.#lastReloadError === undefined ? {} : { lastReloadError: this.#lastReloadError }),
    };
    return status;
  }

  /** Drops the values from memory; every later call throws `CLOSED`. */
  close(): void {
    this.#snapshot = undefined;
    this.#others = undefined;
    this.#readOnce = undefined;
  }

  #current(): Snapshot {
    const snapshot = this.#snapshot;
    if (snapshot === undefined) {
      throw new ResolverError("CLOSED", `the resolver for environment ${this.environment} was closed. Create a new one with createResolver.`, {
        environment: this.environment,
      });
    }
    return snapshot;
  }

  async #reloadNow(): Promise<ReloadResult> {
    const old = this.#snapshot;
    if (old === undefined) {
      const error = new ResolverError("CLOSED", `the resolver for environment ${this.environment} was closed; reload does nothing.`, {
        environment: this.environment,
      });
      return { ok: false, error, generation: 0 };
    }
    try {
      // a git pull can turn the file into a link out of the repository, which createResolver refuses
      if (this.#location.insideRoot !== undefined) assertInside(this.#location.insideRoot, this.file, basename(this.file), this.environment);
      const text = readText(this.file, this.environment);
      if (text === old.text) {
        this.#lastReloadError = undefined;
        return { ok: true, generation: old.generation, unchanged: true, added: [], removed: [], changed: [] };
      }
      const identities = this.#readOnce ?? lookupIdentities(this.#location, this.#options);
      // the members as stellar.yaml gives them now: a pull that changes them and re-keys the file
      // together is judged by the new ones (the file's recipients are compared with them)
      const location = withCurrentMembers(this.#location);
      const next = await loadSnapshot(text, location, identities, old.generation + 1);
      if (this.#snapshot !== old) {
        // Closed while decrypting.
        return { ok: false, error: new ResolverError("CLOSED", `the resolver for environment ${this.environment} was closed during reload.`), generation: 0 };
      }
      this.#location = location;
      this.#snapshot = next;
      this.#lastReloadError = undefined;
      return { ok: true, generation: next.generation, unchanged: false, ...compare(old, next) };
    } catch (error) {
      const failure = toResolverError(error, this.environment, this.file);
      this.#lastReloadError = failure;
      return { ok: false, error: failure, generation: old.generation };
    }
  }

  /**
   * Runs one resolution over one snapshot. Its access events say `ok` only once the whole
   * result is handed out: when a later header or field fails, the values already taken are
   * logged with that failure's code instead (they never left the resolver).
   */
  #handOut<T>(resolveWith: (take: TakeValue) => T): T {
    const snapshot = this.#current();
    const taken: [string, string][] = [];
    let result: T;
    try {
      result = resolveWith(this.#taker(snapshot, taken));
    } catch (error) {
      if (this.#sinks.length > 0) {
        const code = error instanceof ResolverError ? error.code : "INTERNAL_ERROR";
        for (const [secret, consumer] of taken) this.#emit(snapshot, secret, consumer, code);
      }
      throw error;
    }
    if (this.#sinks.length > 0) for (const [secret, consumer] of taken) this.#emit(snapshot, secret, consumer, "ok");
    return result;
  }

  #taker(snapshot: Snapshot, taken: [string, string][]): TakeValue {
    return (secret, consumer, header) => {
      const value = snapshot.values.get(secret);
      if (value === undefined) throw this.#miss(snapshot, secret, consumer);
      if (header && snapshot.headerUnsafe.has(secret)) {
        if (this.#sinks.length > 0) this.#emit(snapshot, secret, consumer, "INVALID_HEADER_VALUE");
        throw new ResolverError(
          "INVALID_HEADER_VALUE",
          `secret ${secret} in environment ${this.environment} contains a line break or NUL, so it cannot be sent in an HTTP header (${consumer}). Set the value again without the trailing newline (for example with --from-file on a file without one).`,
          { environment: this.environment, file: this.file, secret, hint: "Re-set the value without line breaks." },
        );
      }
      taken.push([secret, consumer]);
      return value;
    };
  }

  #emit(snapshot: Snapshot, secret: string, consumer: string, outcome: AccessOutcome): void {
    const event: AccessEvent = { time: isoNow(), environment: snapshot.environment, secret, consumer, outcome };
    for (const sink of this.#sinks) {
      try {
        sink(event);
      } catch (error) {
        this.#onSinkError(error);
      }
    }
  }

  #miss(snapshot: Snapshot, name: string, consumer: string): ResolverError {
    const env = this.environment;
    const file = this.file;
    const reason = snapshot.unserved.get(name);
    if (reason === "clear") {
      if (this.#sinks.length > 0) this.#emit(snapshot, name, consumer, "NOT_ENCRYPTED");
      const hint = "Encrypt the value (in a secrets file every value is encrypted), or read it from plain configuration.";
      return new ResolverError(
        "NOT_ENCRYPTED",
        `${name} in ${file} (environment ${env}) is stored in clear (left unencrypted by the file's sops rules); the resolver hands out encrypted values only. ${hint}`,
        { environment: env, file, secret: name, hint },
      );
    }
    if (reason !== undefined) {
      if (this.#sinks.length > 0) this.#emit(snapshot, name, consumer, "NOT_A_STRING");
      return new ResolverError(
        "NOT_A_STRING",
        `${name} in ${file} (environment ${env}) is a ${reason === "null" ? "null value" : reason}, not a string; the resolver hands out strings only. Store each value under its own flat name (such as ${name}_value).`,
        { environment: env, file, secret: name, hint: "Environment files are flat name: string maps." },
      );
    }
    const others = this.#otherNames(snapshot);
    const having = [...others.byEnvironment].filter(([, names]) => names.has(name)).map(([e]) => e);
    if (having.length > 0) {
      if (this.#sinks.length > 0) this.#emit(snapshot, name, consumer, "MISSING_ENVIRONMENT_VALUE");
      const hint = `Set a value for ${name} in ${env} (stellar-secrets set ${name} --env ${env}), or stop using it in ${env}.`;
      return new ResolverError(
        "MISSING_ENVIRONMENT_VALUE",
        `secret ${name} has no value in environment ${env} (${file}); it has values in ${having.join(", ")}. ${hint}`,
        { environment: env, file, secret: name, environments: having, hint },
      );
    }
    if (this.#sinks.length > 0) this.#emit(snapshot, name, consumer, "UNKNOWN_SECRET");
    const known = new Set<string>([...snapshot.values.keys(), ...snapshot.unserved.keys(), ...others.all]);
    const near = nearestName(name, known);
    let message = `unknown secret ${name}: no environment file has it (looked in ${file}${others.byEnvironment.size > 0 ? ` and ${others.byEnvironment.size} other environment file(s)` : ""}).`;
    let hint: string;
    if (near?.caseOnly) {
      hint = `Use ${near.name}: names are case-sensitive.`;
      message += ` ${near.name} exists and differs only by case; names are case-sensitive.`;
    } else if (near !== undefined) {
      hint = `Check the spelling: did you mean ${near.name}?`;
      message += ` Did you mean ${near.name}?`;
    } else {
      hint = `Check the name (case-sensitive), or create it with stellar-secrets set ${name} --env ${env}.`;
      message += ` ${hint}`;
    }
    return new ResolverError("UNKNOWN_SECRET", message, {
      environment: env,
      file,
      secret: name,
      ...(near === undefined ? {} : { suggestion: near.name }),
      hint,
    });
  }

  /** Names in the other environment files (parsed without keys), cached for the snapshot. */
  #otherNames(snapshot: Snapshot): OtherNames {
    if (this.#others?.snapshot === snapshot) return this.#others.names;
    const names: OtherNames = { byEnvironment: new Map(), all: new Set() };
    for (const [environment, file] of otherFiles(this.#location)) {
      try {
        // a regular file only: a FIFO among the other files must not block the explanation
        const text = readRegularFileSync(file).toString("utf8");
        const parsed = parseSecretsFile(text, { path: file, format: detectFormat(file, text) });
        const set = new Set(parsed.entries.map((e) => e.name));
        names.byEnvironment.set(environment, set);
        for (const n of set) names.all.add(n);
      } catch {
        // An unreadable or malformed other file only makes the explanation less precise; the
        // checker reports it. The served environment itself was verified.
      }
    }
    this.#others = { snapshot, names };
    return names;
  }
}

let lastMillis = -1;
let lastIso = "";

/** The current time as ISO 8601, formatted once per millisecond (formatting costs ~0.5 µs). */
function isoNow(): string {
  const now = Date.now();
  if (now !== lastMillis) {
    lastMillis = now;
    lastIso = new Date(now).toISOString();
  }
  return lastIso;
}

function compare(old: Snapshot, next: Snapshot): { added: string[]; removed: string[]; changed: string[] } {
  const added: string[] = [];
  const removed: string[] = [];
  const changed: string[] = [];
  for (const [name, value] of next.values) {
    const before = old.values.get(name);
    if (before === undefined) added.push(name);
    else if (before !== value) changed.push(name);
  }
  for (const name of old.values.keys()) if (!next.values.has(name)) removed.push(name);
  return { added, removed, changed };
}

function otherFiles(location: Location): [string, string][] {
  if (location.others !== undefined) return [...location.others];
  if (location.secretsDir === undefined) return [];
  const result: [string, string][] = [];
  let entries: string[];
  try {
    entries = readdirSync(location.secretsDir).sort();
  } catch {
    return [];
  }
  const seen = new Set<string>([location.environment]);
  for (const entry of entries) {
    const environment = environmentOfFileName(entry);
    if (environment === undefined || seen.has(environment)) continue;
    seen.add(environment);
    result.push([environment, join(location.secretsDir, entry)]);
  }
  return result;
}

/**
 * Reads a file as strict UTF-8 with the sops size limit: invalid bytes are an `INVALID_UTF8`
 * error at their line, never silently replaced.
 */
function readText(file: string, environment: string): string {
  let bytes: Buffer;
  try {
    // a regular file only (opened non-blocking, fstat before reading): a FIFO is NOT_A_FILE, never a hang.
    // Read synchronously: one small file, and a fresh deploy process's first read through the thread
    // pool (open, fstat, read, close: four round trips, and node's promise-based fs loaded) cost more
    // than the read itself.
    bytes = readRegularFileSync(file);
  } catch (error) {
    // an errno failure keeps its errno message (ENOENT, EACCES); NOT_A_FILE and FILE_TOO_LARGE stay coded
    const errno = error instanceof SopsError && error.code === "IO_ERROR" && error.cause !== undefined ? error.cause : error;
    throw toResolverError(errno, environment, file);
  }
  try {
    return decodeUtf8(bytes, { path: file });
  } catch (error) {
    if (error instanceof SopsError && error.code === "INVALID_UTF8") {
      const line = invalidUtf8Line(bytes);
      throw new ResolverError(
        "INVALID_UTF8",
        `environment ${environment}: ${file}:${line} is not valid UTF-8. SOPS files are UTF-8 text; restore the file from version control.`,
        { environment, file, line, hint: "Restore the file from git; SOPS files are UTF-8 text.", cause: error },
      );
    }
    throw toResolverError(error, environment, file);
  }
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** The 1-based line holding the first invalid UTF-8 sequence. */
function invalidUtf8Line(bytes: Buffer): number {
  let line = 1;
  let start = 0;
  for (;;) {
    const end = bytes.indexOf(0x0a, start);
    try {
      strictUtf8.decode(bytes.subarray(start, end === -1 ? bytes.length : end));
    } catch {
      return line;
    }
    if (end === -1) return line;
    line++;
    start = end + 1;
  }
}

function lookupIdentities(location: Location, options: ResolverOptions): ResolverIdentities {
  const lookup: IdentityLookupOptions = {};
  if (options.identities !== undefined) lookup.identities = options.identities;
  if (options.useSopsKeyFile !== undefined) lookup.useSopsKeyFile = options.useSopsKeyFile;
  if (options.env !== undefined) lookup.env = options.env;
  if (options.home !== undefined) lookup.home = options.home;
  lookup.cwd = location.cwd;
  const found = findResolverIdentities(lookup);
  if (found.keyFile !== undefined) {
    const mode = keyFileModeOf(options);
    if (mode === "refuse") refuseKeyFileMode(found.keyFile.path, found.keyFile.mode, location.environment);
    else if (mode !== "allow") warnKeyFileMode(found.keyFile.path, found.keyFile.mode);
  }
  return found;
}

/** The environment variable that sets {@link ResolverOptions.keyFileMode} when the option is absent. */
export const KEY_FILE_MODE_VARIABLE = "STELLAR_SECRETS_KEY_FILE_MODE";

const KEY_FILE_MODES: readonly string[] = ["warn", "allow", "refuse"];

/**
 * What to do with a key file other users may read: `refuse` when the option or the environment
 * variable says so (either one), else the option, else the variable, else `warn`. Both are checked
 * by createResolver ({@link checkKeyFileModeOptions}).
 */
function keyFileModeOf(options: ResolverOptions): "warn" | "allow" | "refuse" {
  const variable = (options.env ?? process.env)[KEY_FILE_MODE_VARIABLE];
  const fromVariable = variable === undefined || variable === "" ? undefined : (variable.trim().toLowerCase() as "warn" | "allow" | "refuse");
  if (options.keyFileMode === "refuse" || fromVariable === "refuse") return "refuse";
  return options.keyFileMode ?? fromVariable ?? "warn";
}

/** @throws ResolverError INVALID_CONFIG when `keyFileMode` or STELLAR_SECRETS_KEY_FILE_MODE is none of warn, allow, refuse (a typo must not weaken a deploy that meant refuse). */
function checkKeyFileModeOptions(options: ResolverOptions): void {
  const option: unknown = options.keyFileMode;
  if (option !== undefined && !KEY_FILE_MODES.includes(option as string)) {
    throw new ResolverError("INVALID_CONFIG", `createResolver: keyFileMode is ${typeof option === "string" ? JSON.stringify(option) : describeOption(option)}, not "warn", "allow" or "refuse".`, {
      hint: 'Pass keyFileMode: "warn" (the default), "allow" or "refuse".',
    });
  }
  const variable = (options.env ?? process.env)[KEY_FILE_MODE_VARIABLE];
  if (variable !== undefined && variable !== "" && !KEY_FILE_MODES.includes(variable.trim().toLowerCase())) {
    throw new ResolverError("INVALID_CONFIG", `${KEY_FILE_MODE_VARIABLE} is ${JSON.stringify(variable.slice(0, 40))}, not warn, allow or refuse.`, {
      hint: `Set ${KEY_FILE_MODE_VARIABLE}=refuse (or warn, allow), or unset it.`,
    });
  }
}

/** @throws ResolverError INSECURE_KEY_FILE when the key file's mode lets every user read or write it (path and mode only, never the key). */
function refuseKeyFileMode(path: string, mode: number, environment: string): void {
  if ((mode & 0o006) === 0) return;
  const octal = `0${(mode & 0o777).toString(8).padStart(3, "0")}`;
  const who = (mode & 0o002) !== 0 ? "written by every user of this machine" : "read by every user of this machine";
  const hint = "Make it readable by the service's user only (chmod 0400, owned by that user); on Kubernetes, set defaultMode: 0400 on the secret volume (its default is 0644)";
  throw new ResolverError(
    "INSECURE_KEY_FILE",
    `the age key file ${path} can be ${who} (mode ${octal}), and keyFileMode (or ${KEY_FILE_MODE_VARIABLE}) is "refuse": its key was not used. ${hint}.`,
    { environment, file: path, hint },
  );
}

/**
 * `location` with the members `<root>/stellar.yaml` gives now (read as createResolver reads it:
 * a stellar.yaml that became a link out of the root, or that cannot be read, fails the reload).
 * `location` itself when the resolver was made with `files`.
 */
function withCurrentMembers(location: Location): Location {
  const root = location.projectRoot;
  if (root === undefined) return location;
  if (location.insideRoot !== undefined) assertInside(location.insideRoot, join(root, PROJECT_FILE), PROJECT_FILE, location.environment);
  const project: { text?: string } = {};
  projectSecretsDir(root, location.environment, project);
  const members = project.text === undefined ? undefined : readEnvironmentMembers(project.text);
  const { members: _old, ...rest } = location;
  return members === undefined ? rest : { ...rest, members };
}

/** Key files (path and mode) already warned about by this process: one warning each, not one per reload. */
const keyFileModeWarned = new Set<string>();

/** The warning for a key file others may read or write (mode & 0o006), once per path and mode in a process. */
export function keyFileModeWarning(path: string, mode: number): string | undefined {
  if ((mode & 0o006) === 0) return undefined;
  const octal = `0${(mode & 0o777).toString(8).padStart(3, "0")}`;
  const who = (mode & 0o002) !== 0 ? "written by every user of this machine" : "read by every user of this machine";
  return (
    `the age key file ${path} can be ${who} (mode ${octal}); its key opens this environment's values. ` +
    `Make it readable by the service's user only (chmod 0400, owned by that user); on Kubernetes, set defaultMode: 0400 on the secret volume (its default is 0644). ` +
    `In a container where the service is the only user, pass keyFileMode: "allow" to createResolver to silence this warning`
  );
}

function warnKeyFileMode(path: string, mode: number): void {
  const text = keyFileModeWarning(path, mode);
  const key = `${path}\0${mode}`;
  if (text === undefined || keyFileModeWarned.has(key)) return;
  keyFileModeWarned.add(key);
  process.emitWarning(text, { code: "STELLAR_SECRETS_KEY_FILE_MODE" });
}

async function loadSnapshot(text: string, location: Location, identities: ResolverIdentities, generation: number): Promise<Snapshot> {
  const snapshot = await decryptSnapshot(text, identities, { environment: location.environment, file: location.file, generation });
  assertOwnRecipients(snapshot, location);
  return snapshot;
}

/**
 * Refuses a file that is provably another environment's: its age recipients are exactly the
 * members stellar.yaml gives another environment, and not this one's (staging's file copied to
 * production's path in an image, opened by a key that is a member of both). Nothing is proved,
 * and the file is served, when stellar.yaml was not read plainly (`files`, none, an alias), in a
 * key-groups file, when this environment lists no member, or when the recipients are this
 * environment's members (two environments with the same members cannot be told apart).
 * @throws ResolverError OTHER_ENVIRONMENT_FILE
 */
function assertOwnRecipients(snapshot: Snapshot, location: Location): void {
  const members = location.members;
  const own = members?.get(location.environment);
  if (members === undefined || own === undefined || own.size === 0 || snapshot.keyGroups !== undefined || snapshot.recipients.length === 0) return;
  const recipients = new Set(snapshot.recipients.map((r) => (r.trim().toLowerCase().startsWith("age1") ? r.trim().toLowerCase() : r.trim())));
  const same = (keys: ReadonlySet<string>): boolean => keys.size === recipients.size && [...keys].every((k) => recipients.has(k));
  if (same(own)) return;
  const others = [...members].filter(([e, keys]) => e !== location.environment && keys.size > 0 && same(keys)).map(([e]) => e);
  if (others.length === 0) return;
  const whose = others.length === 1 ? `environment "${others[0]}"` : `environments ${others.map((e) => `"${e}"`).join(", ")}`;
  throw new ResolverError(
    "OTHER_ENVIRONMENT_FILE",
    `${location.file} is encrypted to exactly the members stellar.yaml gives ${whose}, not ${location.environment}'s: it is that environment's file under ${location.environment}'s name (copied over it in a build or a deploy script?), and was not served, although this process's key opens it`,
    {
      environment: location.environment,
      file: location.file,
      hint: `deploy ${location.environment}'s own file (\`git checkout -- ${basename(location.file)}\` in the secrets folder, then rebuild the image); if ${location.environment}'s members really changed, run \`stellar-secrets check\` and re-key the file for them (recipient-drift says how)`,
    },
  );
}

function locate(options: ResolverOptions): Location {
  const environment = options.environment;
  if (typeof environment !== "string" || !ENVIRONMENT_LOOKUP_PATTERN.test(environment)) {
    throw new ResolverError(
      "INVALID_CONFIG",
      `environment ${JSON.stringify(environment)} is not a valid environment name. Use letters, digits, _ . and - (such as production).`,
      { hint: "Pass environment: 'production' (or another name from stellar.yaml)." },
    );
  }
  if (options.files !== undefined) {
    const file = options.files[environment];
    if (file === undefined) {
      const known = Object.keys(options.files);
      throw new ResolverError(
        "UNKNOWN_ENVIRONMENT",
        `environment ${environment} is not in the files option (it has ${known.join(", ") || "no environments"}). Add ${environment}: <path> to files.`,
        { environment, environments: known },
      );
    }
    const notPath = Object.entries(options.files).find(([, f]) => typeof f !== "string" || f === "");
    if (notPath !== undefined) {
      throw new ResolverError("INVALID_CONFIG", `createResolver: files.${notPath[0]} is ${notPath[1] === "" ? "an empty string" : describeOption(notPath[1])}, not a file path.`, {
        environment,
        hint: "Pass files: { <environment>: <path of its SOPS file> }.",
      });
    }
    // absolute from here on: a reload after process.chdir reads the same files
    const others = new Map(Object.entries(options.files).filter(([e]) => e !== environment).map(([e, f]) => [e, resolve(f)] as const));
    return { environment, file: resolve(file), others, cwd: process.cwd() };
  }
  const root = resolve(options.root ?? ".");
  const inside = (path: string, name: string): void => {
    if (options.allowOutsideLinks !== true) assertInside(root, path, name, environment);
  };
  inside(join(root, PROJECT_FILE), PROJECT_FILE);
  const project: { text?: string } = {};
  const dirName = projectSecretsDir(root, environment, project);
  const members = project.text === undefined ? undefined : readEnvironmentMembers(project.text);
  const secretsDir = join(root, dirName);
  inside(secretsDir, "the secrets folder");
  const wanted = environmentFileName(environment);
  // where root and the folder came from: a service started elsewhere than its files (systemd
  // without WorkingDirectory, a Docker WORKDIR that is not the app's) reads another folder
  const whence = () =>
    `(root ${root}: ${options.root === undefined ? "the current directory, since no root was given" : "the root option"}; secrets folder ${JSON.stringify(dirName)}: ${
      existsSync(join(root, PROJECT_FILE)) ? `secrets_dir of ${join(root, PROJECT_FILE)}` : `the default, with no ${PROJECT_FILE} in root`
    })`;
  const fixRoot = `Pass root: the folder that holds ${PROJECT_FILE} and the secrets folder (or files: { ${environment}: <path> }).`;
  let entries: string[];
  try {
    entries = readdirSync(secretsDir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" && code !== "ENOTDIR") throw toResolverError(error, environment, secretsDir);
    throw new ResolverError("IO_ERROR", `environment ${environment}: there is no secrets folder ${secretsDir} (${code}) ${whence()}. ${fixRoot}`, {
      environment,
      file: secretsDir,
      cause: error,
      hint: fixRoot,
    });
  }
  if (!entries.includes(wanted)) {
    const existing = [...new Set(entries.map(environmentOfFileName).filter((e): e is string => e !== undefined))].sort();
    throw new ResolverError(
      "UNKNOWN_ENVIRONMENT",
      `no secrets file for environment ${environment}: ${join(secretsDir, wanted)} does not exist. Environments with a file: ${existing.join(", ") || "none"}. Check the environment name (case-sensitive) or the root folder ${whence()}.`,
      { environment, file: join(secretsDir, wanted), environments: existing, hint: existing.length > 0 ? `Use one of: ${existing.join(", ")}, or add ${wanted} to ${secretsDir}.` : fixRoot },
    );
  }
  inside(join(secretsDir, wanted), wanted);
  return {
    environment,
    file: join(secretsDir, wanted),
    secretsDir,
    cwd: process.cwd(),
    projectRoot: root,
    ...(options.allowOutsideLinks === true ? {} : { insideRoot: root }),
    ...(members === undefined ? {} : { members }),
  };
}

/**
 * Throws OUTSIDE_REPOSITORY (a ResolverError) when `path` is, through a symbolic link, outside
 * `root`: at createResolver for stellar.yaml, the secrets folder and the file, and at every reload
 * for the file (and the folders above it).
 */
function assertInside(root: string, path: string, name: string, environment: string): void {
  try {
    assertInsideRoot(root, path, name, "pass allowOutsideLinks: true to createResolver if this deployment mounts it there on purpose");
  } catch (error) {
    throw toResolverError(error, environment, path);
  }
}

/**
 * The secrets folder (relative to `root`) that `<root>/stellar.yaml` names in `secrets_dir`, or
 * the default `secrets` when there is no stellar.yaml or it names none. A stellar.yaml that
 * cannot be read or parsed, or whose `secrets_dir` leaves the repository, is `INVALID_CONFIG`:
 * the resolver never guesses where the secrets are.
 */
function projectSecretsDir(root: string, environment: string, seen?: { text?: string }): string {
  const path = join(root, PROJECT_FILE);
  let text: string;
  try {
    const st = statSync(path);
    if (!st.isFile()) return DEFAULT_SECRETS_DIR;
    if (st.size > MAX_CONFIG_FILE_BYTES) {
      throw new ResolverError("INVALID_CONFIG", `${path} is larger than ${MAX_CONFIG_FILE_BYTES} bytes; it cannot be a stellar.yaml.`, { environment, file: path });
    }
    const bytes = readFileSync(path);
    try {
      text = strictUtf8.decode(bytes);
    } catch {
      throw new ResolverError("INVALID_CONFIG", `${path}:${invalidUtf8Line(bytes)} is not valid UTF-8; it cannot be a stellar.yaml.`, {
        environment,
        file: path,
        line: invalidUtf8Line(bytes),
        hint: "Save stellar.yaml as UTF-8 (`stellar-secrets check` names the line).",
      });
    }
  } catch (error) {
    if (error instanceof ResolverError) throw error;
    if ((error as NodeJS.ErrnoException).code === "ENOENT" || (error as NodeJS.ErrnoException).code === "ENOTDIR") return DEFAULT_SECRETS_DIR;
    throw toResolverError(error, environment, path);
  }
  const found = readSecretsDir(text);
  if (seen !== undefined) seen.text = text;
  if (found.ok) return found.secretsDir;
  throw new ResolverError("INVALID_CONFIG", `${path}:${found.line}: ${found.message}. The resolver reads secrets_dir from it to find the secrets folder.`, {
    environment,
    file: path,
    line: found.line,
    hint: "Fix stellar.yaml (`stellar-secrets check` names every problem), or pass files: { <environment>: <path> } instead of root.",
  });
}

/**
 * `audit` must be a sink (a function taking an access event) or a list of them, `onSinkError` a
 * function: checked before anything is read, since plain JavaScript callers get no type check.
 * @throws ResolverError INVALID_CONFIG naming the option.
 */
function checkAuditOptions(options: ResolverOptions): void {
  const audit: unknown = options.audit;
  const sinks: unknown[] = audit === undefined ? [] : typeof audit === "function" ? [audit] : Array.isArray(audit) ? audit : [audit];
  const wrong = sinks.findIndex((sink) => typeof sink !== "function");
  if (wrong >= 0) {
    const what = Array.isArray(audit) ? `audit[${wrong}] is ${describeOption(sinks[wrong])}` : `audit is ${describeOption(audit)}`;
    throw new ResolverError("INVALID_CONFIG", `createResolver: ${what}, not an access sink (a function that takes an access event).`, {
      hint: "Pass audit: (event) => { ... }, createJsonLinesSink(path), or a list of them; a logger object goes in as audit: (event) => logger.info(event).",
    });
  }
  const onSinkError: unknown = options.onSinkError;
  if (onSinkError !== undefined && typeof onSinkError !== "function") {
    throw new ResolverError("INVALID_CONFIG", `createResolver: onSinkError is ${describeOption(onSinkError)}, not a function.`, {
      hint: "Pass onSinkError: (error) => { ... }, or leave it out (errors of a sink then go to process.emitWarning).",
    });
  }
}

/** What kind of value an option is, for a message (never its contents). */
function describeOption(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/**
 * Creates a resolver for one environment: finds `<secrets_dir>/<environment>.enc.yaml` under `root`
 * (`secrets_dir` from `<root>/stellar.yaml` when present, default `secrets`)
 * (or `files[environment]`), finds the age identity (the `identities` option, else
 * `SOPS_AGE_KEY`, else `SOPS_AGE_KEY_FILE`; the sops default key file only with
 * `useSopsKeyFile`; never a command, never an SSH key), decrypts the file once and **verifies
 * every value and the MAC before returning**. Values stay in memory only.
 *
 * Rejects with {@link ResolverError}: `INVALID_CONFIG` (also for an `audit` or `onSinkError` that is not a function, or a `keyFileMode` or STELLAR_SECRETS_KEY_FILE_MODE that is none of warn, allow, refuse), `INSECURE_KEY_FILE` (keyFileMode refuse), `UNKNOWN_ENVIRONMENT`, `IO_ERROR`,
 * `NO_IDENTITY`, `NO_MATCHING_IDENTITY`, `MAC_MISMATCH`, `TAMPERED`, `MALFORMED_FILE`,
 * `DUPLICATE_KEY`, `NOT_ENCRYPTED`, `INVALID_UTF8`, `FILE_TOO_LARGE`, `UNSUPPORTED`, `OUTSIDE_REPOSITORY`,
 * `NOT_A_FILE`, `OTHER_ENVIRONMENT_FILE` (the environment file is a symbolic link to another
 * environment's file, or is encrypted to exactly another environment's members as stellar.yaml
 * lists them, and not to this one's).
 */
export async function createResolver(options: ResolverOptions): Promise<Resolver> {
  checkAuditOptions(options);
  checkKeyFileModeOptions(options);
  const location = locate(options);
  const text = readText(location.file, location.environment);
  const identities = lookupIdentities(location, options);
  const snapshot = await loadSnapshot(text, location, identities, 1);
  return new Resolver(location, options, snapshot, identities.readOnce === true ? identities : undefined);
}
