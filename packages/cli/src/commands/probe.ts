/**
 * `stellar-secrets probe [CONNECTION...] --env ENV`: tests each connection's credentials against
 * the API they are for. Headers and auth are resolved by `@stellar-secrets/resolver`, exactly as
 * at deploy time; each connection's `probe` (or its OAuth2 connector's token request) is sent to
 * its own origin only; the report names secrets and statuses, never a value.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseAllDocuments } from "yaml";
import {
  classifyStatus,
  DEFAULT_PROBE_TIMEOUT_MS,
  InvalidConfigError,
  loadWorkspace,
  MAX_PROBE_TIMEOUT_MS,
  nearestName,
  parseProbeTimeout,
  probeUrl,
  VERSION,
  type ObjectDefinition,
  type WorkspaceIndex,
} from "@stellar-secrets/core";
import {
  createJsonLinesSink,
  createResolver,
  ResolverError,
  type AccessEvent,
  type ApiConnection,
  type AuthConnector,
  type Resolver,
} from "@stellar-secrets/resolver";
import { parseCommandArgs, splitList } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { CliError } from "../errors.js";
import { looksLikeWindowsPath, windowsPathHint } from "../path-hints.js";
import { sendProbe, type ProbeAnswer, type ProbeRequest, type SendOptions } from "../probe-http.js";
import { hasFailures, redactValues, renderProbeJson, renderProbeMarkdown, renderProbeText, type ProbeReport, type ProbeResult } from "../probe-render.js";
import { readReviewedDestinations, unreviewedDestinationError, unreviewedForProbe, workingTreeDestinations } from "../probe-destinations.js";
import { homeOf, identitiesFor, selectEnvironments } from "../repository.js";

const help = `Usage: stellar-secrets probe [CONNECTION...] --env ENV [--json | --format text|json|markdown] [--concurrency N]
                             [--timeout DURATION] [--ca FILE] [--audit-log FILE] [--allow-new-destination]

Tests the credentials of each API connection (or only those named) in one environment against
the API they are for: resolves the connection's headers and its auth connector for ENV exactly as
the resolver does at deploy time, sends the connection's \`probe\` (a GET, HEAD or POST of a path
relative to its base_url), and reports per connection and secret:
  valid        the answer is one of the probe's valid_statuses (default: any 2xx)
  rejected     401 or 403: the credential is revoked, expired or of the wrong type
  unexpected   another status (shown), or a redirect to another origin (not followed)
  unreachable  DNS, TCP, TLS or timeout failure (the reason is shown)
  unresolved   a secret has no value in ENV (or the config is invalid): nothing was sent
  no-probe     the connection declares no probe (add probe: { path: /... })
An OAuth2 client-credentials connector is probed by its token request; when the connection has a
probe too, it is then sent with the access token. Credentials go only to the connection's (or the
token URL's) origin, only over https (http only to localhost, 127.0.0.1, ::1). Values are never
printed. Needs a key of the environment (age identities found as sops finds them; SSH keys are not
used). Exit status 1 when a credential is rejected or unresolved.

Before anything is resolved or sent, the origins each secret would go to are compared with those
of the reviewed config: the committed config of the default branch (origin/HEAD, else
origin/main, origin/master, main, master), at its tip, and at its merge-base with HEAD for the
origins the tip still sends a credential to. A secret bound for
an origin no reviewed state sent it to (a branch's new base_url or token_url) is refused:
UNREVIEWED_DESTINATION, exit 26, naming the secret, the origin and the config line. Outside git or
without such a branch, a note says so and the probe runs unchecked.

Options:
  --env ENV            the environment (exactly one)
  --json               same as --format json: {"environment","summary","results":[{"connection",
                       "file","line","probe","status","connector","method","url","httpStatus",
                       "reason","code","secrets"}],"secrets":[{"name","status","connections"}]}
  --format FORMAT      text (default), json, or markdown (for a scheduled CI job's summary)
  --concurrency N      probes in flight at once (default 4, 1-32)
  --timeout DURATION   for probes without their own timeout (default 10s, at most 60s)
  --ca FILE            also trust the PEM certificate(s) in FILE for https (a private CA);
                       default: $STELLAR_SECRETS_PROBE_CA
  --audit-log FILE     append the resolver's access events (consumer probe:connection:NAME,
                       probe:connector:NAME; never a value) as JSON lines;
                       default: $STELLAR_SECRETS_AUDIT_LOG
  --allow-new-destination
                       send credentials to origins the reviewed config never sent them to
                       (you trust the branch's hosts); skips the comparison

Examples:
  stellar-secrets probe --env production
  stellar-secrets probe hubspot stripe --env staging --json
  stellar-secrets probe --env production --format markdown >> "$GITHUB_STEP_SUMMARY"
`;

const flags = {
  env: { type: "string", multiple: true },
  json: { type: "boolean" },
  format: { type: "string" },
  concurrency: { type: "string" },
  timeout: { type: "string" },
  ca: { type: "string" },
  "audit-log": { type: "string" },
  "allow-new-destination": { type: "boolean" },
} as const;

const FORMATS = ["text", "json", "markdown"] as const;
type Format = (typeof FORMATS)[number];

type Data = Record<string, unknown>;

/** Reads the plain data of one config document (the checker's index keeps ranges, not data). */
function documentData(root: string, def: ObjectDefinition, cache: Map<string, unknown[]>): Data | undefined {
  let docs = cache.get(def.file);
  if (docs === undefined) {
    const text = readFileSync(join(root, def.file), "utf8");
    docs = parseAllDocuments(text).map((d) => {
      try {
        return d.toJS({ maxAliasCount: 100 }) as unknown;
      } catch {
        return undefined;
      }
    });
    cache.set(def.file, docs);
  }
  const data = docs[def.document.documentIndex];
  return typeof data === "object" && data !== null && !Array.isArray(data) ? (data as Data) : undefined;
}

/** The first error diagnostic inside a definition's document, as `file:line:column: message`. */
function firstError(index: WorkspaceIndex, def: ObjectDefinition): string | undefined {
  const file = index.configFiles.get(def.file);
  if (file === undefined) return undefined;
  const { start, end } = def.document.range;
  for (const d of file.diagnostics) {
    if (d.severity !== "error") continue;
    const offset = file.lines.offsetAt(d.line, d.column);
    if (offset >= start && offset <= end) return `${d.file}:${d.line}:${d.column}: ${d.rule}: ${d.message}`;
  }
  return undefined;
}

/** Secret names the config references from a connection and its connector (for `no-probe`). */
function referencedSecrets(index: WorkspaceIndex, kind: "api_connection" | "auth_connector", name: string | undefined): string[] {
  if (name === undefined) return [];
  return [...new Set(index.allReferences().filter((r) => r.kind === kind && r.owner === name).map((r) => r.secret))];
}

/** Runs `tasks` with at most `limit` in flight; results in input order. */
async function pool<T>(tasks: readonly (() => Promise<T>)[], limit: number): Promise<T[]> {
  const out = new Array<T>(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await (tasks[i] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return out;
}

function readCa(path: string, cwd: string, from: "--ca" | "STELLAR_SECRETS_PROBE_CA"): string[] {
  // the fix is where the path came from: the flag typed, or a variable set elsewhere (a CI job, a profile)
  const fix = from === "--ca" ? "pass --ca a PEM file of the certificate(s) to trust" : "point STELLAR_SECRETS_PROBE_CA at a PEM file of the certificate(s) to trust, or unset it";
  let text: string;
  try {
    text = readFileSync(resolve(cwd, path), "utf8");
  } catch (error) {
    throw new CliError("INVALID_CA", `cannot read the CA file ${path} (${(error as NodeJS.ErrnoException).code ?? "unreadable"}), given by ${from}`, {
      hint: windowsPathHint(path) ?? fix,
      cause: error,
    });
  }
  const certs = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (certs.length === 0) {
    throw new CliError("INVALID_CA", `the CA file ${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----), given by ${from}`, {
      hint: `${fix} (never a private key)`,
    });
  }
  return certs;
}

function timeoutOf(text: unknown, fallback: number): number {
  return typeof text === "string" ? Math.min(parseProbeTimeout(text) ?? fallback, MAX_PROBE_TIMEOUT_MS) : fallback;
}

const OAUTH_REJECTED = new Set(["invalid_client", "unauthorized_client"]);
const OAUTH_ERRORS = new Set(["invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type", "invalid_scope"]);

interface Context {
  index: WorkspaceIndex;
  root: string;
  environment: string;
  resolver: () => Promise<Resolver>;
  /** Secret names the resolver handed out since the last call (from its access events). */
  takeAccessed: () => string[];
  values: Set<string>;
  send: (request: ProbeRequest) => Promise<ProbeAnswer>;
  defaultTimeout: number;
  cache: Map<string, unknown[]>;
}

function errorResult(base: Omit<ProbeResult, "status" | "secrets">, error: unknown, secrets: string[]): ProbeResult {
  const code = typeof (error as { code?: unknown })?.code === "string" ? (error as { code: string }).code : "INTERNAL_ERROR";
  const message = error instanceof Error ? error.message : String(error);
  return { ...base, status: "unresolved", code, reason: message, secrets };
}

function answerResult(base: Omit<ProbeResult, "status" | "secrets">, answer: ProbeAnswer, secrets: string[], valid?: readonly number[]): ProbeResult {
  if (answer.kind === "unreachable") return { ...base, status: "unreachable", reason: answer.reason, secrets };
  if (answer.offOrigin !== undefined) {
    return {
      ...base,
      status: "unexpected",
      httpStatus: answer.status,
      reason: `redirect to another origin (${answer.offOrigin}) not followed: credentials are only sent to ${new URL(base.url ?? "http://invalid").origin}`,
      secrets,
    };
  }
  const status = classifyStatus(answer.status, valid);
  return { ...base, status, httpStatus: answer.status, secrets };
}

async function probeConnection(ctx: Context, def: ObjectDefinition): Promise<ProbeResult[]> {
  const line = ctx.index.configFiles.get(def.file)?.lines.positionAt(def.document.range.start).line ?? 1;
  const base = { connection: def.name, file: def.file, line };
  const connection = documentData(ctx.root, def, ctx.cache) as (ApiConnection & Data) | undefined;
  const authName = typeof connection?.auth === "string" ? connection.auth : undefined;
  const connectorDef = authName === undefined ? undefined : ctx.index.objectDefinitions("auth_connector", authName)[0];
  const withConnector = authName === undefined ? base : { ...base, connector: authName };
  const configured = [...referencedSecrets(ctx.index, "api_connection", def.name), ...referencedSecrets(ctx.index, "auth_connector", authName)];
  const invalid = firstError(ctx.index, def) ?? (connectorDef === undefined ? undefined : firstError(ctx.index, connectorDef));
  if (connection === undefined || invalid !== undefined) {
    return [{ ...withConnector, probe: "none", status: "unresolved", code: "INVALID_CONFIG", reason: `${invalid ?? `${def.file}: not readable`}; run \`stellar-secrets check\``, secrets: configured }];
  }
  if (authName !== undefined && connectorDef === undefined) {
    return [{ ...withConnector, probe: "none", status: "unresolved", code: "INVALID_CONFIG", reason: `auth connector ${authName} does not exist; run \`stellar-secrets check\``, secrets: configured }];
  }
  const connector = connectorDef === undefined ? undefined : (documentData(ctx.root, connectorDef, ctx.cache) as (AuthConnector & Data) | undefined);
  const probe = connection["probe"] as Data | undefined;
  const oauth2 = connector?.type === "oauth2_client_credentials";
  if (probe === undefined && !oauth2) {
    return [{ ...withConnector, probe: "none", status: "no-probe", reason: `add probe: { path: /... } to ${def.file}`, secrets: configured }];
  }

  // Where each request goes, known before any value is resolved (a bad path resolves nothing).
  let target: { method: ProbeRequest["method"]; url: URL } | undefined;
  if (probe !== undefined) {
    const method = (typeof probe["method"] === "string" ? probe["method"] : "GET") as ProbeRequest["method"];
    try {
      target = { method, url: probeUrl(String(connection.base_url), String(probe["path"])) };
    } catch (error) {
      return [{ ...withConnector, probe: "request", status: "unresolved", code: "INVALID_CONFIG", reason: `${def.file}: ${(error as Error).message}`, secrets: configured }];
    }
  }
  const requestBase: Omit<ProbeResult, "status" | "secrets"> =
    target === undefined ? { ...withConnector, probe: "request" } : { ...withConnector, probe: "request", method: target.method, url: displayUrl(target.url) };
  const tokenUrl = oauth2 ? parseUrl((connector as Data)["token_url"]) : undefined;
  const tokenBase: Omit<ProbeResult, "status" | "secrets"> =
    tokenUrl === undefined ? { ...withConnector, probe: "token" } : { ...withConnector, probe: "token", method: "POST", url: displayUrl(tokenUrl) };

  // Resolve exactly as at deploy time: the connection's headers, then its connector's (which win).
  // A connection without a probe of its own (an OAuth2 token request only) sends no header of its own.
  const resolver = await ctx.resolver();
  ctx.takeAccessed();
  let headers: Record<string, string> = {};
  let connectionSecrets: string[] = [];
  if (probe !== undefined) {
    try {
      headers = { ...resolver.resolveHeaders(connection.headers ?? [], `probe:connection:${def.name}`) };
    } catch (error) {
      return [errorResult(requestBase, error, ctx.takeAccessed())];
    }
    connectionSecrets = ctx.takeAccessed();
  }
  // values to keep out of the output (defence in depth): secret headers, not static ones
  const secretHeaders = new Set(
    (Array.isArray(connection.headers) ? connection.headers : [])
      .filter((h) => (h as { type?: unknown }).type === "secret")
      .map((h) => String((h as { name?: unknown }).name).toLowerCase()),
  );
  for (const [n, v] of Object.entries(headers)) if (secretHeaders.has(n.toLowerCase())) ctx.values.add(v);
  const results: ProbeResult[] = [];
  let bearer: string | undefined;
  if (connector !== undefined) {
    let auth;
    try {
      auth = resolver.resolveAuth(connector, `probe:connector:${authName}`);
    } catch (error) {
      return [errorResult(oauth2 ? tokenBase : requestBase, error, [...connectionSecrets, ...ctx.takeAccessed()])];
    }
    const connectorSecrets = ctx.takeAccessed();
    for (const [name, value] of Object.entries(auth.headers)) {
      ctx.values.add(value);
      for (const existing of Object.keys(headers)) if (existing.toLowerCase() === name.toLowerCase()) delete headers[existing];
      headers[name] = value;
    }
    if (auth.type === "oauth2_client_credentials") {
      const o = auth.oauth2;
      ctx.values.add(o.clientSecret);
      if (typeof (connector as Data)["client_id"] !== "string") ctx.values.add(o.clientId);
      ctx.values.add(o.tokenRequest.headers["Authorization"] ?? "");
      const url = new URL(o.tokenRequest.url);
      const timeoutMs = timeoutOf((connector["probe"] as Data | undefined)?.["timeout"], ctx.defaultTimeout);
      const answer = await ctx.send({ method: "POST", url, headers: o.tokenRequest.headers, body: o.tokenRequest.body, timeoutMs, readJson: true });
      const result = tokenResult(tokenBase, answer, connectorSecrets);
      results.push(result);
      if (answer.kind === "status" && result.status === "valid") {
        const token = (answer.json as Data)["access_token"] as string;
        ctx.values.add(token);
        bearer = token;
      }
      if (probe === undefined) {
        const own = referencedSecrets(ctx.index, "api_connection", def.name);
        if (own.length > 0) {
          results.push({ ...withConnector, probe: "none", status: "no-probe", reason: `the connection's own headers are not tested: add probe: { path: /... } to ${def.file}`, secrets: own });
        }
        return results;
      }
      if (bearer === undefined) {
        results.push({ ...requestBase, status: "unresolved", code: "NO_ACCESS_TOKEN", reason: "not sent: the token request did not give an access token", secrets: connectionSecrets });
        return results;
      }
      for (const existing of Object.keys(headers)) if (existing.toLowerCase() === "authorization") delete headers[existing];
      headers["Authorization"] = `Bearer ${bearer}`;
    } else {
      connectionSecrets = [...connectionSecrets, ...connectorSecrets];
    }
  }
  if (probe === undefined || target === undefined) return results;
  if (!Object.keys(headers).some((h) => h.toLowerCase() === "user-agent")) headers["User-Agent"] = `stellar-secrets-probe/${VERSION}`;
  const timeoutMs = timeoutOf(probe["timeout"], ctx.defaultTimeout);
  const answer = await ctx.send({ method: target.method, url: target.url, headers, timeoutMs });
  const valid = Array.isArray(probe["valid_statuses"]) ? (probe["valid_statuses"] as number[]) : undefined;
  results.push(answerResult(requestBase, answer, connectionSecrets, valid));
  return results;
}

function tokenResult(base: Omit<ProbeResult, "status" | "secrets">, answer: ProbeAnswer, secrets: string[]): ProbeResult {
  if (answer.kind === "unreachable" || answer.offOrigin !== undefined) return answerResult(base, answer, secrets);
  const json = typeof answer.json === "object" && answer.json !== null ? (answer.json as Data) : undefined;
  const error = typeof json?.["error"] === "string" && OAUTH_ERRORS.has(json["error"]) ? json["error"] : undefined;
  const withCode = error === undefined ? base : { ...base, code: error };
  if (answer.status >= 200 && answer.status < 300) {
    if (typeof json?.["access_token"] === "string" && json["access_token"] !== "") return { ...withCode, status: "valid", httpStatus: answer.status, secrets };
    return { ...withCode, status: "unexpected", httpStatus: answer.status, reason: "the token endpoint answered without an access_token", secrets };
  }
  if (answer.status === 401 || answer.status === 403 || (error !== undefined && OAUTH_REJECTED.has(error))) {
    return { ...withCode, status: "rejected", httpStatus: answer.status, secrets };
  }
  return { ...withCode, status: "unexpected", httpStatus: answer.status, secrets };
}

/** `text` as an absolute URL, or undefined. */
function parseUrl(text: unknown): URL | undefined {
  if (typeof text !== "string") return undefined;
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** A URL as shown: origin, path and query, never user info. */
function displayUrl(url: URL): string {
  return `${url.origin}${url.pathname}${url.search}`;
}

async function run(argv: string[], ctx: CommandContext): Promise<number> {
  const { flags: f, positionals } = parseCommandArgs("probe", argv, flags, { min: 0, max: Number.POSITIVE_INFINITY, names: "CONNECTION" });
  if (f.json && f.format !== undefined && f.format !== "json") {
    throw new CliError("USAGE", "probe: --json and --format are exclusive", { hint: "use one of --json or --format text|json|markdown" });
  }
  const format = (f.json ? "json" : (f.format ?? "text")) as Format;
  if (!FORMATS.includes(format)) throw new CliError("USAGE", `probe: unknown format "${format}"`, { hint: "use --format text, json or markdown" });
  const concurrency = f.concurrency === undefined ? 4 : Number(f.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 32) {
    throw new CliError("USAGE", `probe: --concurrency must be a whole number from 1 to 32 (got ${JSON.stringify(f.concurrency)})`);
  }
  const defaultTimeout = f.timeout === undefined ? DEFAULT_PROBE_TIMEOUT_MS : parseProbeTimeout(f.timeout);
  if (defaultTimeout === undefined || defaultTimeout > MAX_PROBE_TIMEOUT_MS) {
    throw new CliError("USAGE", `probe: --timeout must be a duration such as 10s or 1500ms, at most 60s (got ${JSON.stringify(f.timeout)})`);
  }
  const envNames = splitList(f.env);
  if (envNames.length !== 1) throw new CliError("USAGE", "probe: --env takes exactly one environment", { hint: "e.g. stellar-secrets probe --env production" });
  const caPath = f.ca ?? (ctx.env.STELLAR_SECRETS_PROBE_CA || undefined);
  const sendOptions: SendOptions = caPath === undefined ? {} : { ca: readCa(caPath, ctx.cwd, f.ca !== undefined ? "--ca" : "STELLAR_SECRETS_PROBE_CA") };
  const auditPath = f["audit-log"] ?? (ctx.env.STELLAR_SECRETS_AUDIT_LOG || undefined);
  if (auditPath !== undefined && looksLikeWindowsPath(auditPath)) {
    // appended to, so created when missing: `C:\logs\probe.jsonl` would become a file of that name here
    throw new CliError("USAGE", `probe: ${f["audit-log"] !== undefined ? "--audit-log" : "STELLAR_SECRETS_AUDIT_LOG"} ${auditPath} would create a file of that name in ${ctx.cwd}`, {
      hint: windowsPathHint(auditPath),
    });
  }

  const { index } = loadWorkspace(ctx.cwd);
  if (!index.projectUsable) throw new InvalidConfigError(index.project.configPath, index.projectDiagnostics);
  const config = index.project;
  const env = selectEnvironments(config, envNames, { all: false })[0]!;
  const connections = index.objects("api_connection");
  const names = positionals.length > 0 ? [...new Set(positionals)] : [...connections.keys()].sort();
  for (const name of names) {
    if (!connections.has(name)) {
      const near = nearestName(name, [...connections.keys()]);
      throw new CliError("UNKNOWN_CONNECTION", `no api_connection named "${name}"`, {
        hint: near === undefined ? "run `stellar-secrets usage` or look in your connection files" : `did you mean "${near.name}"?`,
      });
    }
  }

  // no credential goes to an origin the reviewed config never sent it to (a branch's own host)
  const cache = new Map<string, unknown[]>();
  if (f["allow-new-destination"] !== true) {
    const reviewed = await readReviewedDestinations(config.root, ctx.env);
    if (!reviewed.found) {
      ctx.stderr.write(`probe: ${reviewed.why}: the destinations are not compared with a reviewed config; credentials go where the working tree's config says\n`);
    } else {
      const connectors = names.flatMap((name) => {
        const def = (connections.get(name) as ObjectDefinition[])[0] as ObjectDefinition;
        const auth = documentData(config.root, def, cache)?.["auth"];
        return typeof auth === "string" ? [auth] : [];
      });
      const found = unreviewedForProbe(reviewed.destinations, workingTreeDestinations(index, config.root), names, connectors);
      if (found.length > 0) throw unreviewedDestinationError(found, reviewed.label);
    }
  }

  let accessed: string[] = [];
  const sinks: ((e: AccessEvent) => void)[] = [(e) => accessed.push(e.secret)];
  let auditSink: ReturnType<typeof createJsonLinesSink> | undefined;
  if (auditPath !== undefined) {
    try {
      auditSink = createJsonLinesSink(resolve(ctx.cwd, auditPath), { flush: "event" });
    } catch (error) {
      // the resolver's IO_ERROR names the path, the system's code and the fix
      if (error instanceof ResolverError) throw new CliError("IO_ERROR", error.message, { hint: error.hint ?? "pass --audit-log with a writable file path", cause: error });
      throw error;
    }
    sinks.push(auditSink);
  }
  let resolverPromise: Promise<Resolver> | undefined;
  const resolverFor = (): Promise<Resolver> => {
    resolverPromise ??= (async () => {
      const ids = identitiesFor(ctx);
      const ageKeys = ids.identities.filter((k) => k.startsWith("AGE-SECRET-KEY-1"));
      if (ageKeys.length === 0) {
        throw new CliError("NO_IDENTITY", `no age identity to decrypt the ${env.name} secrets (looked in: ${ids.sources.join("; ") || "SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, the sops default key file"})`, {
          hint: "set SOPS_AGE_KEY_FILE to an age key file of one of the environment's members (probe resolves as the deploy-time resolver does: age keys only, no SSH key)",
        });
      }
      return createResolver({
        environment: env.name,
        root: config.root,
        // the CLI's own key lookup (sops order, merged); the resolver takes age identities only
        identities: ageKeys,
        audit: sinks,
        env: ctx.env,
        home: homeOf(ctx),
      });
    })();
    return resolverPromise;
  };

  const values = new Set<string>();
  const probeCtx: Context = {
    index,
    root: config.root,
    environment: env.name,
    resolver: resolverFor,
    takeAccessed: () => {
      const out = [...new Set(accessed)];
      accessed = [];
      return out;
    },
    values,
    send: (request) => sendProbe(request, sendOptions),
    defaultTimeout,
    cache,
  };
  // Resolution is synchronous and happens before each probe's first await, so access events
  // never interleave between connections even with several probes in flight.
  let results: ProbeResult[];
  try {
    const perConnection = await pool(
      names.map((name) => () => probeConnection(probeCtx, (connections.get(name) as ObjectDefinition[])[0] as ObjectDefinition)),
      concurrency,
    );
    results = perConnection.flat();
  } finally {
    auditSink?.close();
    if (resolverPromise !== undefined) (await resolverPromise.catch(() => undefined))?.close();
  }
  const report: ProbeReport = { environment: env.name, results };
  const render = format === "json" ? renderProbeJson : format === "markdown" ? renderProbeMarkdown : renderProbeText;
  ctx.stdout.write(redactValues(render(report), values));
  const failed = hasFailures(report);
  if (failed && format === "text") {
    ctx.stderr.write(`a credential was rejected or has no value in ${env.name}: set a current value with \`stellar-secrets set NAME --env ${env.name}\` and probe again\n`);
  }
  return failed ? 1 : 0;
}

const command: Command = { summary: "test each connection's credentials against its API (never showing a value)", help, run };
export default command;
