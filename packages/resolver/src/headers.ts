import type { ActionConfig, ApiConnection, AuthConnector, HeaderConfig, PlainOrSecret, SecretRef } from "./config.js";
import { ResolverError } from "./errors.js";

/**
 * Hands out one value. `header` is true when the value goes into an HTTP header verbatim (the
 * value must then hold no CR, LF or NUL). Throws a {@link ResolverError}; emits the access event.
 */
export type TakeValue = (secret: string, consumer: string, header: boolean) => string;

/** Resolved request headers: header name (as configured) → value. A null-prototype object. */
export type ResolvedHeaders = Record<string, string>;

/** Client credentials for an OAuth 2.0 token request (RFC 6749 §4.4). */
export interface OAuth2Credentials {
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The connector's `scopes`, space-separated, when it has any. */
  readonly scope?: string;
  /**
   * The token request, ready to send: `POST tokenUrl` with the client authenticated by HTTP
   * Basic (RFC 6749 §2.3.1, form-encoded id and secret) and a form body.
   */
  readonly tokenRequest: {
    readonly url: string;
    readonly method: "POST";
    readonly headers: ResolvedHeaders;
    readonly body: string;
  };
}

/** What an auth connector contributes to a request. */
export type ResolvedAuth =
  | { readonly type: "api_key" | "bearer_token" | "basic"; readonly headers: ResolvedHeaders }
  | {
      readonly type: "oauth2_client_credentials";
      /** Empty: the `Authorization` header needs the access token from the token request. */
      readonly headers: ResolvedHeaders;
      readonly oauth2: OAuth2Credentials;
    };

/** The full header set of an action's request. */
export interface ResolvedRequest {
  /** Connection headers, then the auth connector's, then the action's; a later name (any case) replaces an earlier one. */
  readonly headers: ResolvedHeaders;
  /** Present when the connection authenticates with `oauth2_client_credentials`: fetch a token with it, then send `Authorization: Bearer <access_token>`. */
  readonly oauth2?: OAuth2Credentials;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const UNSAFE = /[\r\n\0]/;

function invalid(where: string, what: string, hint: string): ResolverError {
  return new ResolverError("INVALID_CONFIG", `${where}: ${what}. ${hint}`, { hint });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function secretName(ref: unknown, where: string, field: string): string {
  if (!isRecord(ref) || typeof ref["secret"] !== "string" || ref["secret"] === "") {
    throw invalid(where, `${field} must be a secret reference { secret: NAME }`, `Write ${field}: { secret: your_secret_name }.`);
  }
  return ref["secret"];
}

function plainOrSecret(value: unknown, where: string, field: string, take: TakeValue, consumer: string): string {
  if (typeof value === "string") return value;
  return take(secretName(value as SecretRef, where, field), consumer, false);
}

function checkedHeaderName(name: unknown, where: string): string {
  if (typeof name !== "string" || !TOKEN.test(name)) {
    throw invalid(
      where,
      `header name ${JSON.stringify(name)} is not a valid HTTP header name`,
      "Use letters, digits and - (for example X-Api-Key).",
    );
  }
  return name;
}

function checkedLiteral(value: unknown, where: string, field: string): string {
  if (typeof value !== "string") throw invalid(where, `${field} must be a string`, `Give ${field} a string value.`);
  if (UNSAFE.test(value)) throw invalid(where, `${field} contains a line break or NUL`, `Remove the control character from ${field}.`);
  return value;
}

/** Creates the null-prototype object used for every header set (so `__proto__` is just a name). */
export function emptyHeaders(): ResolvedHeaders {
  return Object.create(null) as ResolvedHeaders;
}

/**
 * Builds one header set from several levels (connection, connector, action). Names are
 * case-insensitive: a later level replaces an earlier one's entry (keeping the later spelling);
 * the same name twice within one level is a config error.
 */
export class HeaderSet {
  /** The headers so far. */
  readonly headers: ResolvedHeaders = emptyHeaders();
  readonly #levels = new Map<string, { name: string; level: number }>();
  #level = 0;

  /** Starts a new level (a new list); names set from now on may replace earlier levels' names. */
  nextLevel(): void {
    this.#level++;
  }

  /** True when `lower` (a lower-cased name) was already set at the current level. */
  hasInLevel(lower: string): boolean {
    return this.#levels.get(lower)?.level === this.#level;
  }

  /** Sets a header, replacing an earlier level's entry with the same name in any case. */
  set(name: string, value: string, lower = name.toLowerCase()): void {
    const previous = this.#levels.get(lower);
    if (previous !== undefined && previous.name !== name) delete this.headers[previous.name];
    this.#levels.set(lower, { name, level: this.#level });
    this.headers[name] = value;
  }
}

/**
 * Resolves a `headers:` list into `into` as one new level. `where` names the list's owner for
 * messages (`action create_ticket`), `consumer` is the access-log consumer. A name listed twice
 * (ignoring case) is an `INVALID_CONFIG` error; a name from an earlier level is replaced.
 */
export function resolveHeaderList(
  headers: readonly HeaderConfig[] | undefined,
  take: TakeValue,
  where: string,
  consumer: string,
  into: HeaderSet = new HeaderSet(),
): ResolvedHeaders {
  into.nextLevel();
  if (headers === undefined) return into.headers;
  if (!Array.isArray(headers)) throw invalid(where, "headers must be a list", "Write headers as a YAML list of { name, type, ... } entries.");
  for (let i = 0; i < headers.length; i++) {
    const header: unknown = headers[i];
    if (!isRecord(header)) throw invalid(`${where}, header ${i + 1}`, "a header must be an object { name, type, ... }", "Give each header a name and a type (secret or static).");
    const name = checkedHeaderName(header["name"], `${where}, header ${i + 1}`);
    const lower = name.toLowerCase();
    if (into.hasInLevel(lower)) {
      throw invalid(`${where}, header ${i + 1}`, `header ${name} appears twice in the list`, "Keep one entry per header name (names are case-insensitive).");
    }
    let value: string;
    const type = header["type"];
    if (type === "secret") {
      const secret = header["secret"];
      if (typeof secret !== "string" || secret === "") {
        throw invalid(`${where}, header ${i + 1}`, `header ${name} has type secret but no secret name`, "Add secret: your_secret_name.");
      }
      const prefix = header["prefix"] === undefined ? "" : checkedLiteral(header["prefix"], `${where}, header ${i + 1}`, "prefix");
      value = prefix + take(secret, consumer, true);
    } else if (type === "static") {
      value = checkedLiteral(header["value"], `${where}, header ${i + 1}`, "value");
    } else {
      throw invalid(`${where}, header ${i + 1}`, `header ${name} has type ${JSON.stringify(type)}`, "Use type: secret (with secret:) or type: static (with value:).");
    }
    into.set(name, value, lower);
  }
  return into.headers;
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, "utf8").toString("base64")}`;
}

function describeConnector(connector: { name?: unknown }): string {
  return typeof connector.name === "string" ? `auth connector ${connector.name}` : "auth connector";
}

/**
 * What an auth connector contributes to a request: `api_key` → the key in `header_name`
 * (default `X-Api-Key`); `bearer_token` → `Authorization: Bearer <token>`;
 * `basic` → `Authorization: Basic base64(username:password)`; `oauth2_client_credentials` →
 * no header, and the credentials plus a ready token request. Throws `INVALID_CONFIG` for a bad
 * shape (a basic username with `:`, a token_url that is not http(s)) and the value errors of `take`.
 */
export function resolveAuthWith(connector: AuthConnector, take: TakeValue, consumer: string): ResolvedAuth {
  if (!isRecord(connector)) throw invalid("auth connector", "must be an object with a type", "Pass the parsed auth_connector document.");
  const where = describeConnector(connector);
  const c = connector as unknown as Record<string, unknown>;
  switch (connector.type) {
    case "api_key": {
      const headerName = c["header_name"] === undefined ? "X-Api-Key" : checkedHeaderName(c["header_name"], where);
      const headers = emptyHeaders();
      headers[headerName] = take(secretName(c["api_key"], where, "api_key"), consumer, true);
      return { type: "api_key", headers };
    }
    case "bearer_token": {
      const headers = emptyHeaders();
      headers["Authorization"] = `Bearer ${take(secretName(c["token"], where, "token"), consumer, true)}`;
      return { type: "bearer_token", headers };
    }
    case "basic": {
      const user = plainOrSecret(c["username"], where, "username", take, consumer);
      if (user.includes(":")) {
        throw invalid(where, "the basic-auth username contains ':'", "RFC 7617 forbids ':' in a user-id; check the username value.");
      }
      const password = take(secretName(c["password"], where, "password"), consumer, false);
      const headers = emptyHeaders();
      headers["Authorization"] = basic(user, password);
      return { type: "basic", headers };
    }
    case "oauth2_client_credentials": {
      const tokenUrl = c["token_url"];
      let url: URL | undefined;
      try {
        url = typeof tokenUrl === "string" ? new URL(tokenUrl) : undefined;
      } catch {
        url = undefined;
      }
      if (url === undefined || (url.protocol !== "https:" && url.protocol !== "http:")) {
        throw invalid(where, "token_url must be an absolute http(s) URL", "Set token_url to the provider's token endpoint, for example https://auth.example.com/oauth/token.");
      }
      const rawScopes = c["scopes"];
      let scope: string | undefined;
      if (Array.isArray(rawScopes)) scope = rawScopes.map((s, i) => checkedLiteral(s, where, `scopes[${i}]`)).join(" ");
      else if (rawScopes !== undefined) throw invalid(where, "scopes must be a list of strings", "Write scopes: [read, write].");
      const clientId = plainOrSecret(c["client_id"], where, "client_id", take, consumer);
      const clientSecret = take(secretName(c["client_secret"], where, "client_secret"), consumer, false);
      const form = new URLSearchParams({ grant_type: "client_credentials" });
      if (scope !== undefined && scope !== "") form.set("scope", scope);
      const requestHeaders = emptyHeaders();
      requestHeaders["Authorization"] = basic(formEncode(clientId), formEncode(clientSecret));
      requestHeaders["Content-Type"] = "application/x-www-form-urlencoded";
      requestHeaders["Accept"] = "application/json";
      const oauth2: OAuth2Credentials = {
        tokenUrl: url.href,
        clientId,
        clientSecret,
        ...(scope !== undefined && scope !== "" ? { scope } : {}),
        tokenRequest: { url: url.href, method: "POST", headers: requestHeaders, body: form.toString() },
      };
      return { type: "oauth2_client_credentials", headers: emptyHeaders(), oauth2 };
    }
    default:
      throw invalid(
        where,
        `unknown auth connector type ${JSON.stringify(c["type"])}`,
        "Use api_key, bearer_token, basic or oauth2_client_credentials.",
      );
  }
}

/** `application/x-www-form-urlencoded` encoding of one value (RFC 6749 Appendix B). */
function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, "+").replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The header set of an action's request: the connection's headers, then the auth connector's,
 * then the action's own (the most specific wins for a name, in any case). Checks that the
 * objects belong together: `action.connection` names `connection`, `connection.auth` names
 * `connector` (both must be passed when named, and not passed when not named), and that the
 * action may run in `environment` (`ENVIRONMENT_NOT_ALLOWED`).
 */
export function resolveActionWith(
  environment: string,
  action: ActionConfig,
  connection: ApiConnection | undefined,
  connector: AuthConnector | undefined,
  take: TakeValue,
): ResolvedRequest {
  if (!isRecord(action) || typeof action.name !== "string") {
    throw invalid("action", "must be an object with a name", "Pass the parsed action document.");
  }
  const where = `action ${action.name}`;
  if (action.environments !== undefined) {
    if (!Array.isArray(action.environments)) throw invalid(where, "environments must be a list", "Write environments: [staging, production].");
    if (!action.environments.includes(environment)) {
      throw new ResolverError(
        "ENVIRONMENT_NOT_ALLOWED",
        `${where} is limited to environments ${action.environments.join(", ") || "(none)"}, not ${environment}. Run it in one of those, or add ${environment} to its environments list.`,
        { environment, environments: [...action.environments], hint: `Add ${environment} to the action's environments, or run it elsewhere.` },
      );
    }
  }
  if (action.connection !== undefined) {
    if (connection === undefined) {
      throw invalid(where, `it uses connection ${action.connection}, which was not passed`, "Pass the api_connection object as the second argument of resolveAction.");
    }
    if (connection.name !== action.connection) {
      throw invalid(where, `it uses connection ${action.connection}, but connection ${String(connection.name)} was passed`, "Pass the connection the action names.");
    }
  } else if (connection !== undefined) {
    throw invalid(where, `it names no connection, but connection ${String(connection.name)} was passed`, "Add connection: to the action, or do not pass one.");
  }
  if (connection !== undefined && !isRecord(connection)) throw invalid(where, "the connection must be an object", "Pass the parsed api_connection document.");
  const connectionWhere = connection === undefined ? "" : `connection ${connection.name}`;
  if (connection?.auth !== undefined) {
    if (connector === undefined) {
      throw invalid(connectionWhere, `it authenticates with auth connector ${connection.auth}, which was not passed`, "Pass the auth_connector object as the third argument of resolveAction.");
    }
    if (connector.name !== undefined && connector.name !== connection.auth) {
      throw invalid(connectionWhere, `it uses auth connector ${connection.auth}, but auth connector ${connector.name} was passed`, "Pass the connector the connection names.");
    }
  } else if (connector !== undefined) {
    throw invalid(
      connection === undefined ? where : connectionWhere,
      `an auth connector was passed, but ${connection === undefined ? "the action has no connection" : "the connection has no auth"}`,
      "Set auth: on the connection, or do not pass a connector.",
    );
  }

  const set = new HeaderSet();
  if (connection !== undefined) resolveHeaderList(connection.headers, take, connectionWhere, `connection:${connection.name}`, set);
  let oauth2: OAuth2Credentials | undefined;
  if (connector !== undefined) {
    const auth = resolveAuthWith(connector, take, `connector:${connector.name ?? connection?.auth ?? "unnamed"}`);
    set.nextLevel();
    for (const name in auth.headers) set.set(name, auth.headers[name]!);
    if (auth.type === "oauth2_client_credentials") oauth2 = auth.oauth2;
  }
  resolveHeaderList(action.headers, take, where, `action:${action.name}`, set);
  return oauth2 === undefined ? { headers: set.headers } : { headers: set.headers, oauth2 };
}
