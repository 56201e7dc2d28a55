import { describe, expect, it } from "vitest";
import type { ActionConfig, ApiConnection, AuthConnector, HeaderConfig } from "./config.js";
import { ResolverError } from "./errors.js";
import { resolveActionWith, resolveAuthWith, resolveHeaderList, type TakeValue } from "./headers.js";

// The value source here is a plain map; the real one (the resolver over a decrypted file) is
// exercised in test/resolver.test.ts. These tests pin the request-building rules.
const values = new Map([
  ["hubspot_api_token", "pat-na1-0000"],
  ["zendesk_token", "zd-1111"],
  ["stripe_api_key", "sk_test_2222"],
  ["acme_client_id", "client id/with+chars"],
  ["acme_client_secret", "s3cr:et&="],
  ["jira_user", "alice@example.com"],
  ["jira_password", "pässword"],
  ["bad_user", "ali:ce"],
]);

function recorder(): { take: TakeValue; log: string[] } {
  const log: string[] = [];
  const take: TakeValue = (secret, consumer, header) => {
    const v = values.get(secret);
    if (v === undefined) throw new ResolverError("UNKNOWN_SECRET", `unknown secret ${secret}`, { secret });
    log.push(`${consumer} ${secret}${header ? " (header)" : ""}`);
    return v;
  };
  return { take, log };
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof ResolverError) return error.code;
    throw error;
  }
  return undefined;
}

describe("resolveHeaderList", () => {
  it("resolves secret headers with prefixes and static headers, in order", () => {
    const { take, log } = recorder();
    const headers: HeaderConfig[] = [
      { name: "Authorization", type: "secret", secret: "hubspot_api_token", prefix: "Bearer " },
      { name: "Accept", type: "static", value: "application/json" },
    ];
    const out = resolveHeaderList(headers, take, "connection hubspot", "connection:hubspot");
    expect({ ...out }).toEqual({ Authorization: "Bearer pat-na1-0000", Accept: "application/json" });
    expect(Object.keys(out)).toEqual(["Authorization", "Accept"]);
    expect(log).toEqual(["connection:hubspot hubspot_api_token (header)"]);
  });

  it("treats __proto__ as an ordinary header name (no prototype pollution)", () => {
    const { take } = recorder();
    const out = resolveHeaderList([{ name: "__proto__", type: "static", value: "x" }], take, "headers", "c");
    expect(Object.getOwnPropertyNames(out)).toEqual(["__proto__"]);
    expect(({} as Record<string, unknown>)["x"]).toBeUndefined();
  });

  it("refuses bad shapes with INVALID_CONFIG", () => {
    const { take } = recorder();
    const bad: unknown[] = [
      [{ name: "Bad Header", type: "static", value: "x" }],
      [{ name: "X-A", type: "secret" }],
      [{ name: "X-A", type: "secret", secret: "" }],
      [{ name: "X-A", type: "plain", value: "x" }],
      [{ name: "X-A", type: "static", value: "a\r\nX-Injected: 1" }],
      [{ name: "X-A", type: "secret", secret: "zendesk_token", prefix: "x\n" }],
      [{ name: "X-A", type: "static", value: 3 }],
      [{ name: "X-A", type: "static", value: "1" }, { name: "x-a", type: "static", value: "2" }],
      ["X-A: 1"],
      "not a list",
    ];
    for (const headers of bad) {
      expect(code(() => resolveHeaderList(headers as HeaderConfig[], take, "action a", "action:a"))).toBe("INVALID_CONFIG");
    }
  });

  it("passes value errors through", () => {
    const { take } = recorder();
    expect(code(() => resolveHeaderList([{ name: "X-A", type: "secret", secret: "nope" }], take, "a", "a"))).toBe("UNKNOWN_SECRET");
  });
});

describe("resolveAuthWith", () => {
  it("api_key: X-Api-Key by default, or header_name", () => {
    const { take, log } = recorder();
    const plain = resolveAuthWith({ type: "api_key", name: "stripe", api_key: { secret: "stripe_api_key" } }, take, "connector:stripe");
    expect(plain.type).toBe("api_key");
    expect({ ...plain.headers }).toEqual({ "X-Api-Key": "sk_test_2222" });
    const custom = resolveAuthWith(
      { type: "api_key", api_key: { secret: "stripe_api_key" }, header_name: "Authorization" },
      take,
      "connector:stripe",
    );
    expect({ ...custom.headers }).toEqual({ Authorization: "sk_test_2222" });
    expect(log).toEqual(["connector:stripe stripe_api_key (header)", "connector:stripe stripe_api_key (header)"]);
  });

  it("bearer_token: Authorization: Bearer <token>", () => {
    const { take } = recorder();
    const auth = resolveAuthWith({ type: "bearer_token", token: { secret: "zendesk_token" } }, take, "c");
    expect({ ...auth.headers }).toEqual({ Authorization: "Bearer zd-1111" });
  });

  it("basic: Authorization: Basic base64(user:password) in UTF-8, user plain or secret", () => {
    const { take, log } = recorder();
    const fromSecret = resolveAuthWith({ type: "basic", username: { secret: "jira_user" }, password: { secret: "jira_password" } }, take, "connector:jira");
    expect(fromSecret.headers["Authorization"]).toBe(`Basic ${Buffer.from("alice@example.com:pässword", "utf8").toString("base64")}`);
    expect(Buffer.from(fromSecret.headers["Authorization"]!.slice(6), "base64").toString("utf8")).toBe("alice@example.com:pässword");
    const plainUser = resolveAuthWith({ type: "basic", username: "bob", password: { secret: "jira_password" } }, take, "connector:jira");
    expect(plainUser.headers["Authorization"]).toBe(`Basic ${Buffer.from("bob:pässword").toString("base64")}`);
    expect(log).toEqual(["connector:jira jira_user", "connector:jira jira_password", "connector:jira jira_password"]);
    expect(code(() => resolveAuthWith({ type: "basic", username: { secret: "bad_user" }, password: { secret: "jira_password" } }, take, "c"))).toBe("INVALID_CONFIG");
  });

  it("oauth2_client_credentials: credentials and a ready RFC 6749 token request, no header", () => {
    const { take, log } = recorder();
    const auth = resolveAuthWith(
      {
        type: "oauth2_client_credentials",
        name: "acme",
        client_id: { secret: "acme_client_id" },
        client_secret: { secret: "acme_client_secret" },
        token_url: "https://auth.example.com/oauth/token",
        scopes: ["read", "write"],
      },
      take,
      "connector:acme",
    );
    expect(auth.type).toBe("oauth2_client_credentials");
    expect({ ...auth.headers }).toEqual({});
    if (auth.type !== "oauth2_client_credentials") throw new Error("type");
    expect(auth.oauth2.clientId).toBe("client id/with+chars");
    expect(auth.oauth2.clientSecret).toBe("s3cr:et&=");
    expect(auth.oauth2.scope).toBe("read write");
    expect(auth.oauth2.tokenRequest.url).toBe("https://auth.example.com/oauth/token");
    expect(auth.oauth2.tokenRequest.body).toBe("grant_type=client_credentials&scope=read+write");
    const basic = Buffer.from(auth.oauth2.tokenRequest.headers["Authorization"]!.slice(6), "base64").toString("utf8");
    expect(basic).toBe("client+id%2Fwith%2Bchars:s3cr%3Aet%26%3D");
    expect(auth.oauth2.tokenRequest.headers["Content-Type"]).toBe("application/x-www-form-urlencoded");
    expect(log).toEqual(["connector:acme acme_client_id", "connector:acme acme_client_secret"]);
  });

  it("refuses unknown types, missing references and bad token URLs", () => {
    const { take } = recorder();
    const bad: unknown[] = [
      { type: "api_key", api_key: "sk_live_inline" },
      { type: "api_key", api_key: { secret: "stripe_api_key" }, header_name: "Bad Header" },
      { type: "oauth2_client_credentials", client_id: "x", client_secret: { secret: "acme_client_secret" }, token_url: "https://x", scopes: "read" },
      { type: "bearer_token", token: {} },
      { type: "basic", username: "u" },
      { type: "oauth2_client_credentials", client_id: "x", client_secret: { secret: "acme_client_secret" }, token_url: "ftp://x" },
      { type: "oauth2_client_credentials", client_id: "x", client_secret: { secret: "acme_client_secret" }, token_url: "not a url" },
      { type: "hmac", key: { secret: "x" } },
      null,
    ];
    for (const connector of bad) expect(code(() => resolveAuthWith(connector as AuthConnector, take, "c"))).toBe("INVALID_CONFIG");
  });
});

describe("resolveActionWith", () => {
  const connector: AuthConnector = { kind: "auth_connector", name: "hubspot_auth", type: "bearer_token", token: { secret: "hubspot_api_token" } };
  const connection: ApiConnection = {
    kind: "api_connection",
    name: "hubspot",
    base_url: "https://api.hubapi.com",
    auth: "hubspot_auth",
    headers: [
      { name: "Accept", type: "static", value: "application/json" },
      { name: "authorization", type: "static", value: "overridden by the connector" },
      { name: "X-Trace", type: "static", value: "connection" },
    ],
  };
  const action: ActionConfig = {
    kind: "action",
    name: "create_ticket",
    connection: "hubspot",
    method: "POST",
    environments: ["staging", "production"],
    headers: [
      { name: "X-Api-Key", type: "secret", secret: "zendesk_token" },
      { name: "x-trace", type: "static", value: "action" },
    ],
  };

  it("merges connection, connector and action headers; the most specific wins", () => {
    const { take, log } = recorder();
    const request = resolveActionWith("production", action, connection, connector, take);
    expect({ ...request.headers }).toEqual({
      Accept: "application/json",
      Authorization: "Bearer pat-na1-0000",
      "X-Api-Key": "zd-1111",
      "x-trace": "action",
    });
    expect(request.oauth2).toBeUndefined();
    expect(log).toEqual(["connector:hubspot_auth hubspot_api_token (header)", "action:create_ticket zendesk_token (header)"]);
  });

  it("returns the oauth2 credentials when the connector is oauth2_client_credentials", () => {
    const { take } = recorder();
    const oauth: AuthConnector = {
      name: "hubspot_auth",
      type: "oauth2_client_credentials",
      client_id: "public-id",
      client_secret: { secret: "acme_client_secret" },
      token_url: "https://auth.example.com/token",
    };
    const request = resolveActionWith("staging", action, connection, oauth, take);
    expect(request.oauth2?.clientId).toBe("public-id");
    expect(request.headers["authorization"]).toBe("overridden by the connector");
  });

  it("refuses an action outside its environments", () => {
    const { take } = recorder();
    let error: unknown;
    try {
      resolveActionWith("development", action, connection, connector, take);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ResolverError);
    expect((error as ResolverError).code).toBe("ENVIRONMENT_NOT_ALLOWED");
    expect((error as ResolverError).environments).toEqual(["staging", "production"]);
  });

  it("checks that the connection and connector are the ones named", () => {
    const { take } = recorder();
    expect(code(() => resolveActionWith("production", action, undefined, undefined, take))).toBe("INVALID_CONFIG");
    expect(code(() => resolveActionWith("production", action, { ...connection, name: "other" }, connector, take))).toBe("INVALID_CONFIG");
    expect(code(() => resolveActionWith("production", action, connection, undefined, take))).toBe("INVALID_CONFIG");
    expect(code(() => resolveActionWith("production", action, connection, { ...connector, name: "other" } as AuthConnector, take))).toBe("INVALID_CONFIG");
    const bare: ActionConfig = { name: "ping", headers: [{ name: "X-A", type: "static", value: "1" }] };
    expect(code(() => resolveActionWith("production", bare, connection, undefined, take))).toBe("INVALID_CONFIG");
    expect(code(() => resolveActionWith("production", bare, undefined, connector, take))).toBe("INVALID_CONFIG");
    expect({ ...resolveActionWith("production", bare, undefined, undefined, take).headers }).toEqual({ "X-A": "1" });
  });
});
