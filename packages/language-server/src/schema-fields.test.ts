import { describe, expect, it } from "vitest";
import { headerFields, kindFields } from "./schema-fields.js";

describe("fields from core's schemas", () => {
  it("lists an action's fields with required flags and enum values", () => {
    const f = new Map(kindFields("action").map((x) => [x.name, x]));
    expect([...f.keys()].sort()).toEqual(["connection", "description", "environments", "headers", "kind", "method", "name", "path"]);
    expect(f.get("method")?.values).toContain("POST");
    expect(f.get("method")?.required).toBe(true);
    expect(f.get("connection")?.required).toBe(false);
  });

  it("narrows an auth connector's fields by its type and marks secret references", () => {
    const bearer = kindFields("auth_connector", "bearer_token").map((x) => x.name);
    expect(bearer).toContain("token");
    expect(bearer).not.toContain("client_secret");
    const oauth = new Map(kindFields("auth_connector", "oauth2_client_credentials").map((x) => [x.name, x]));
    expect(oauth.get("client_secret")?.secretRef).toBe(true);
    expect(oauth.get("client_id")?.secretRef).toBe(true); // plain or { secret }
    expect(oauth.get("token_url")?.secretRef).toBe(false);
  });

  it("lists header fields, with the secret ones under type: secret", () => {
    const all = headerFields("api_connection").map((x) => x.name);
    expect(all).toEqual(expect.arrayContaining(["name", "type", "secret", "prefix", "value"]));
    expect(headerFields("api_connection", "static").map((x) => x.name)).not.toContain("secret");
    expect(headerFields("agent")).toEqual([]);
    expect(kindFields("not_a_kind")).toEqual([]);
  });
});
