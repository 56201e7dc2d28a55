/**
 * The agent config shapes the resolver reads, as plain objects.
 *
 * These mirror the config kinds of the checker (`auth_connector`, `api_connection`, `action`;
 * `schemas/*.schema.json` is the contract) without depending on `@stellar-secrets/core`: a deployed runtime passes the objects it already
 * holds (parsed YAML, JSON, or built in code). Extra fields (`kind`, `base_url`, `method`, ...)
 * are allowed and ignored.
 */

/** A reference to a secret by name: `{ secret: stripe_api_key }`. */
export interface SecretRef {
  readonly secret: string;
}

/** A field that is either a plain (non-secret) string or a reference to a secret. */
export type PlainOrSecret = string | SecretRef;

/** A header whose value is a secret, optionally with a prefix such as `"Bearer "`. */
export interface SecretHeader {
  readonly name: string;
  readonly type: "secret";
  readonly secret: string;
  readonly prefix?: string;
}

/** A header with a literal value (never a credential: the checker flags those). */
export interface StaticHeader {
  readonly name: string;
  readonly type: "static";
  readonly value: string;
}

/** One entry of an API connection's or an action's `headers` list. */
export type HeaderConfig = SecretHeader | StaticHeader;

/** `type: api_key`: the key is sent as-is in the header `header_name` (default `X-Api-Key`). */
export interface ApiKeyConnector {
  readonly kind?: "auth_connector";
  readonly name?: string;
  readonly type: "api_key";
  readonly api_key: SecretRef;
  readonly header_name?: string;
}

/** `type: bearer_token`: `Authorization: Bearer <token>`. */
export interface BearerTokenConnector {
  readonly kind?: "auth_connector";
  readonly name?: string;
  readonly type: "bearer_token";
  readonly token: SecretRef;
}

/** `type: basic`: `Authorization: Basic base64(username:password)` (RFC 7617, UTF-8). */
export interface BasicConnector {
  readonly kind?: "auth_connector";
  readonly name?: string;
  readonly type: "basic";
  readonly username: PlainOrSecret;
  readonly password: SecretRef;
}

/**
 * `type: oauth2_client_credentials`: the resolver hands out the client id and secret to use at
 * `token_url`; fetching the access token is the runtime's job (the resolver never does network I/O).
 */
export interface OAuth2ClientCredentialsConnector {
  readonly kind?: "auth_connector";
  readonly name?: string;
  readonly type: "oauth2_client_credentials";
  readonly client_id: PlainOrSecret;
  readonly client_secret: SecretRef;
  readonly token_url: string;
  /** Scopes to request (sent space-separated). */
  readonly scopes?: readonly string[];
}

/** Every auth connector type. */
export type AuthConnector =
  | ApiKeyConnector
  | BearerTokenConnector
  | BasicConnector
  | OAuth2ClientCredentialsConnector;

/** The auth connector `type` values. */
export type AuthConnectorType = AuthConnector["type"];

/** An API connection (`kind: api_connection`). */
export interface ApiConnection {
  readonly kind?: "api_connection";
  readonly name: string;
  readonly base_url?: string;
  /** Name of the auth connector this connection uses, if any. */
  readonly auth?: string;
  readonly headers?: readonly HeaderConfig[];
}

/** An action (`kind: action`). */
export interface ActionConfig {
  readonly kind?: "action";
  readonly name: string;
  /** Name of the API connection this action uses, if any. */
  readonly connection?: string;
  readonly method?: string;
  readonly path?: string;
  /** Environments where the action may run; absent means every environment. */
  readonly environments?: readonly string[];
  readonly headers?: readonly HeaderConfig[];
}
