/**
 * The JSON Schemas (2020-12) of every file kind. This module is their source; `schemas/*.json`
 * at the repository root are written from it (scripts/write-schemas.mjs) and a test keeps the
 * two in step. Secret names inside references are deliberately not constrained here: a bad
 * name is reported by the `unknown-secret` / `invalid-secret-name` rules with a suggestion.
 */
import { RULES } from "./rules.js";
import { ENVIRONMENT_NAME_PATTERN, MEMBER_KEY_PATTERN, MEMBER_NAME_PATTERN, SECRETS_DIR_PATTERN } from "@stellar-secrets/sops";

/** Base of every schema's `$id`. */
export const SCHEMA_BASE_URI = "https://stellar-secrets.dev/schemas/";

/** A JSON Schema document (plain JSON data). */
export type JsonSchema = { readonly [key: string]: unknown };

/** The config kinds, as written in a file's `kind` field. */
export const CONFIG_KINDS = ["auth_connector", "api_connection", "action", "agent"] as const;
/** One config kind. */
export type ConfigKind = (typeof CONFIG_KINDS)[number];

/** Pattern of object names (connectors, connections, actions, agents). */
export const OBJECT_NAME_PATTERN = "^[A-Za-z][A-Za-z0-9_.-]*$";
/** Patterns of environment names, member names and `secrets_dir` (owned by the layout in `@stellar-secrets/sops`). */
export { ENVIRONMENT_NAME_PATTERN, MEMBER_KEY_PATTERN, MEMBER_NAME_PATTERN, SECRETS_DIR_PATTERN } from "@stellar-secrets/sops";

/**
 * Pattern of a `config.include` glob: relative to stellar.yaml and inside the repository (no
 * leading `/` or drive letter, no `..` segment, no backslash).
 */
export const CONFIG_GLOB_PATTERN = "^(?!/)(?![A-Za-z]:)(?!.*(^|/)\\.\\.(/|$))[^\\\\]+$";
/** Pattern of age X25519 recipients (bech32, 58 data characters). */
export const AGE_RECIPIENT_PATTERN = "^age1[02-9ac-hj-np-z]{58}$";
/** Pattern of HTTP header names (RFC 9110 tokens), as the resolver checks them. */
export const HEADER_NAME_PATTERN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";
/** Pattern of text sent in an HTTP header or form (no CR, LF or NUL: the resolver refuses them). */
export const SINGLE_LINE_PATTERN = "^[^\\r\\n\\u0000]*$";
/**
 * Pattern of a probe's `path`: relative to the connection's `base_url` (one leading `/`, not `//`
 * or `/\\`, which would name another host), no whitespace, no `{`/`}` (no templating, no
 * secret reference), no fragment.
 */
export const PROBE_PATH_PATTERN = "^/(?![/\\\\])[^\\s{}#\\\\\\u0000]*$";
/**
 * An action's `path`: one leading `/`, never `//` or `/\\` (a URL parser resolves `//host/x`
 * or `/\\host/x` against `base_url` to another host, which would get the connection's credentials).
 */
export const ACTION_PATH_PATTERN = "^/(?![/\\\\])";
/** Pattern of a probe's `timeout`: milliseconds or seconds (`1500ms`, `10s`); at most 60 s (checked by `check`). */
export const PROBE_TIMEOUT_PATTERN = "^[1-9][0-9]{0,5}(ms|s)$";
/** Methods a probe may send: reads, plus POST for "who am I" endpoints that need it. Never PUT, PATCH or DELETE. */
export const PROBE_METHODS = ["GET", "HEAD", "POST"] as const;
/** Pattern of rotation periods: days, weeks, months (30 days), years (365 days). */
export const ROTATION_PERIOD_PATTERN = "^[1-9][0-9]*[dwmy]$";

const secretRef = {
  type: "object",
  description: "A reference to a secret by name: `{ secret: stripe_api_key }`.",
  properties: { secret: { type: "string", minLength: 1, description: "The secret's name (case-sensitive)." } },
  required: ["secret"],
  additionalProperties: false,
};
const plainOrSecret = {
  description: "A plain string, or a reference to a secret.",
  anyOf: [{ type: "string" }, { $ref: "#/$defs/secretRef" }],
};
const objectName = { type: "string", pattern: OBJECT_NAME_PATTERN, maxLength: 128 };
const environments = {
  type: "array",
  description: "Environments where this is used (declared in stellar.yaml), at least one. Default (the field left out): every environment.",
  items: { type: "string", pattern: ENVIRONMENT_NAME_PATTERN },
  minItems: 1,
  uniqueItems: true,
};
const header = {
  type: "object",
  description: "An HTTP header: a secret (`type: secret`, `secret: NAME`, optional `prefix`) or a static value.",
  properties: {
    name: { type: "string", pattern: HEADER_NAME_PATTERN, description: "Header name." },
    type: { enum: ["secret", "static"] },
    description: { type: "string" },
  },
  required: ["name", "type"],
  allOf: [
    {
      if: { properties: { type: { const: "secret" } }, required: ["type"] },
      then: {
        properties: {
          secret: { type: "string", minLength: 1, description: "The secret's name (case-sensitive)." },
          prefix: { type: "string", pattern: SINGLE_LINE_PATTERN, description: "Text put before the secret's value, e.g. `Bearer `." },
        },
        required: ["secret"],
      },
    },
    {
      if: { properties: { type: { const: "static" } }, required: ["type"] },
      then: {
        properties: { value: { type: "string", pattern: SINGLE_LINE_PATTERN, description: "The header's value (never a credential)." } },
        required: ["value"],
      },
    },
  ],
  unevaluatedProperties: false,
};
const headers = { type: "array", items: { $ref: "#/$defs/header" } };
const probeTimeout = {
  type: "string",
  pattern: PROBE_TIMEOUT_PATTERN,
  description: "How long to wait for the answer: `10s`, `1500ms` (default 10s, at most 60s).",
};
const connectionProbe = {
  type: "object",
  description:
    "How `stellar-secrets probe` tests this connection's credentials: a request sent to base_url + path with the connection's (and its auth connector's) headers.",
  properties: {
    method: { enum: [...PROBE_METHODS], description: "GET (default), HEAD or POST (sent without a body). Never a method that changes data." },
    path: { type: "string", pattern: PROBE_PATH_PATTERN, description: "Path relative to base_url, e.g. `/v1/account`; may have a query, never a credential." },
    valid_statuses: {
      type: "array",
      description: "HTTP statuses that mean the credential is valid (default: any 2xx).",
      items: { type: "integer", minimum: 100, maximum: 599 },
      minItems: 1,
      uniqueItems: true,
    },
    timeout: probeTimeout,
    description: { type: "string" },
  },
  required: ["path"],
  additionalProperties: false,
};
const tokenProbe = {
  type: "object",
  description: "How `stellar-secrets probe` tests the client credentials: the token request itself (POST token_url).",
  properties: { timeout: probeTimeout, description: { type: "string" } },
  additionalProperties: false,
};

function kindSchema(kind: ConfigKind, title: string, body: Record<string, unknown>): JsonSchema {
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: `${SCHEMA_BASE_URI}${kind}.schema.json`,
    title,
    ...body,
  };
}

/** Schema of `kind: auth_connector`. */
export const AUTH_CONNECTOR_SCHEMA: JsonSchema = kindSchema("auth_connector", "Stellar Secrets auth connector", {
  type: "object",
  properties: {
    kind: { const: "auth_connector" },
    name: objectName,
    description: { type: "string" },
    type: { enum: ["api_key", "bearer_token", "basic", "oauth2_client_credentials"] },
  },
  required: ["kind", "name", "type"],
  allOf: [
    {
      if: { properties: { type: { const: "api_key" } }, required: ["type"] },
      then: {
        properties: {
          api_key: { $ref: "#/$defs/secretRef" },
          header_name: { type: "string", pattern: HEADER_NAME_PATTERN, description: "Header that carries the key (default X-Api-Key)." },
        },
        required: ["api_key"],
      },
    },
    {
      if: { properties: { type: { const: "bearer_token" } }, required: ["type"] },
      then: { properties: { token: { $ref: "#/$defs/secretRef" } }, required: ["token"] },
    },
    {
      if: { properties: { type: { const: "basic" } }, required: ["type"] },
      then: {
        properties: { username: { $ref: "#/$defs/plainOrSecret" }, password: { $ref: "#/$defs/secretRef" } },
        required: ["username", "password"],
      },
    },
    {
      if: { properties: { type: { const: "oauth2_client_credentials" } }, required: ["type"] },
      then: {
        properties: {
          client_id: { $ref: "#/$defs/plainOrSecret" },
          client_secret: { $ref: "#/$defs/secretRef" },
          token_url: { type: "string", pattern: "^https?://" },
          scopes: { type: "array", items: { type: "string", pattern: SINGLE_LINE_PATTERN } },
          probe: tokenProbe,
        },
        required: ["client_id", "client_secret", "token_url"],
      },
    },
  ],
  unevaluatedProperties: false,
  $defs: { secretRef, plainOrSecret },
});

/** Schema of `kind: api_connection`. */
export const API_CONNECTION_SCHEMA: JsonSchema = kindSchema("api_connection", "Stellar Secrets API connection", {
  type: "object",
  properties: {
    kind: { const: "api_connection" },
    name: objectName,
    description: { type: "string" },
    base_url: { type: "string", pattern: "^https?://" },
    auth: { ...objectName, description: "An auth_connector, by name." },
    headers,
    probe: connectionProbe,
  },
  required: ["kind", "name", "base_url"],
  additionalProperties: false,
  $defs: { header },
});

/** Schema of `kind: action`. */
export const ACTION_SCHEMA: JsonSchema = kindSchema("action", "Stellar Secrets action", {
  type: "object",
  properties: {
    kind: { const: "action" },
    name: objectName,
    description: { type: "string" },
    connection: { ...objectName, description: "An api_connection, by name." },
    method: { enum: ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] },
    path: { type: "string", pattern: ACTION_PATH_PATTERN },
    environments,
    headers,
  },
  required: ["kind", "name", "method", "path"],
  additionalProperties: false,
  $defs: { header },
});

/** Schema of `kind: agent`. */
export const AGENT_SCHEMA: JsonSchema = kindSchema("agent", "Stellar Secrets agent", {
  type: "object",
  properties: {
    kind: { const: "agent" },
    name: objectName,
    description: { type: "string" },
    instructions: { type: "string" },
    environments,
    actions: { type: "array", items: { ...objectName, description: "An action, by name." }, uniqueItems: true },
  },
  required: ["kind", "name"],
  additionalProperties: false,
});

/** One schema for any config file, dispatching on `kind` (for editors). */
export const CONFIG_SCHEMA: JsonSchema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  $id: `${SCHEMA_BASE_URI}config.schema.json`,
  title: "Stellar Secrets config file (any kind)",
  type: "object",
  required: ["kind"],
  properties: { kind: { enum: [...CONFIG_KINDS] } },
  allOf: CONFIG_KINDS.map((kind) => ({
    if: { properties: { kind: { const: kind } }, required: ["kind"] },
    then: { $ref: `${kind}.schema.json` },
  })),
};

/** Schema of stellar.yaml. */
export const STELLAR_SCHEMA: JsonSchema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  $id: `${SCHEMA_BASE_URI}stellar.schema.json`,
  title: "Stellar Secrets project (stellar.yaml)",
  type: "object",
  properties: {
    version: { const: 1 },
    secrets_dir: {
      type: "string",
      description: "Folder of the environment files and catalog, relative to stellar.yaml (default: secrets).",
      pattern: SECRETS_DIR_PATTERN,
    },
    environments: {
      type: "object",
      description: "Environments in display order; each lists its members (name -> age public key, or SSH ed25519 public key).",
      minProperties: 1,
      propertyNames: { pattern: ENVIRONMENT_NAME_PATTERN },
      additionalProperties: {
        type: ["object", "null"],
        properties: {
          members: {
            type: ["object", "null"],
            propertyNames: { pattern: MEMBER_NAME_PATTERN },
            additionalProperties: { type: "string", pattern: MEMBER_KEY_PATTERN },
          },
          pending: {
            type: ["object", "null"],
            description: "Access requests waiting for a member's approval (stellar-secrets request-access): they grant nothing; `stellar-secrets members approve NAME --env ENV` makes one a member.",
            propertyNames: { pattern: MEMBER_NAME_PATTERN },
            additionalProperties: {
              type: "object",
              properties: {
                key: { type: "string", pattern: MEMBER_KEY_PATTERN, description: "The public key asked for (age or SSH ed25519)." },
                requested: { type: "string", description: "When it was asked (ISO 8601)." },
              },
              required: ["key"],
              additionalProperties: false,
            },
          },
          approved: {
            type: ["object", "null"],
            description: "Who approved each member's request (stellar-secrets members approve), kept while they are a member.",
            propertyNames: { pattern: MEMBER_NAME_PATTERN },
            additionalProperties: {
              type: "object",
              properties: {
                by: { type: "string", minLength: 1, description: "The approving member." },
                date: { type: "string", description: "When (ISO 8601)." },
              },
              required: ["by"],
              additionalProperties: false,
            },
          },
        },
        additionalProperties: false,
      },
    },
    config: {
      type: "object",
      properties: {
        include: { type: "array", items: { type: "string", minLength: 1, pattern: CONFIG_GLOB_PATTERN } },
        exclude: { type: "array", items: { type: "string", minLength: 1 } },
      },
      additionalProperties: false,
    },
    // the known ids as documented properties (an editor suggests them, with their summary), whose
    // severity is checked; any other key is accepted, as check takes it: a `schema` warning that
    // names the nearest id, the key ignored (a mistyped or retired id must not refuse the project)
    rules: {
      type: "object",
      description: "Severity per rule id: error, warning, info or off. An id that is no rule id sets nothing: check warns about it (schema) and ignores it.",
      properties: Object.fromEntries(RULES.map((r) => [r.id, { description: `${r.summary} Default: ${r.severity}.`, enum: ["error", "warning", "info", "off"] }])),
      additionalProperties: { description: "No rule id (mistyped or retired): check warns about it (schema, naming the nearest id) and ignores it; the rule ids are listed in docs/rules.md." },
    },
  },
  required: ["version"],
  additionalProperties: false,
};

/** Schema of the secrets catalog (secrets/catalog.yaml). */
export const CATALOG_SCHEMA: JsonSchema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  $id: `${SCHEMA_BASE_URI}catalog.schema.json`,
  title: "Stellar Secrets catalog (secrets/catalog.yaml)",
  type: ["object", "null"],
  properties: {
    secrets: {
      type: ["object", "null"],
      additionalProperties: {
        type: ["object", "null"],
        properties: {
          description: { type: "string" },
          owner: { type: "string" },
          rotate_every: {
            type: "string",
            pattern: ROTATION_PERIOD_PATTERN,
            description: "Rotation policy: a number and d (days), w (weeks), m (months of 30 days) or y (years of 365 days).",
          },
        },
        additionalProperties: false,
      },
    },
  },
  additionalProperties: false,
};

/** Every schema, by file name under `schemas/`. */
export const SCHEMA_FILES: Readonly<Record<string, JsonSchema>> = {
  "stellar.schema.json": STELLAR_SCHEMA,
  "catalog.schema.json": CATALOG_SCHEMA,
  "auth_connector.schema.json": AUTH_CONNECTOR_SCHEMA,
  "api_connection.schema.json": API_CONNECTION_SCHEMA,
  "action.schema.json": ACTION_SCHEMA,
  "agent.schema.json": AGENT_SCHEMA,
  "config.schema.json": CONFIG_SCHEMA,
};

/** The schema of a config kind. */
export const KIND_SCHEMAS: Readonly<Record<ConfigKind, JsonSchema>> = {
  auth_connector: AUTH_CONNECTOR_SCHEMA,
  api_connection: API_CONNECTION_SCHEMA,
  action: ACTION_SCHEMA,
  agent: AGENT_SCHEMA,
};
