import { describe, expect, it } from "vitest";
import { parseConfigFile } from "./config.js";
import { classifyStatus, credentialQueryParam, insecureReason, isLoopbackHost, parseProbeTimeout, probeUrl } from "./probe.js";

describe("probe meaning", () => {
  it("classifies statuses: valid_statuses (default 2xx), 401/403 rejected, anything else unexpected", () => {
    expect([200, 204, 299, 401, 403, 404, 500, 302].map((s) => classifyStatus(s))).toEqual([
      "valid",
      "valid",
      "valid",
      "rejected",
      "rejected",
      "unexpected",
      "unexpected",
      "unexpected",
    ]);
    expect(classifyStatus(200, [204])).toBe("unexpected");
    expect(classifyStatus(403, [200, 403])).toBe("valid");
  });

  it("parses timeouts in s and ms", () => {
    expect(parseProbeTimeout("10s")).toBe(10_000);
    expect(parseProbeTimeout("1500ms")).toBe(1500);
    expect(parseProbeTimeout("0s")).toBeUndefined();
    expect(parseProbeTimeout("10m")).toBeUndefined();
  });

  it("joins base_url and path without leaving the origin", () => {
    expect(probeUrl("https://api.example.com/", "/v1/account").href).toBe("https://api.example.com/v1/account");
    expect(probeUrl("https://api.example.com/base", "/v1?x=1").href).toBe("https://api.example.com/base/v1?x=1");
    expect(() => probeUrl("https://api.example.com", "@evil.example/x")).toThrow(/not to the connection's origin/);
  });

  it("sends credentials only over https or to loopback", () => {
    expect(insecureReason(new URL("https://api.example.com"))).toBeUndefined();
    expect(insecureReason(new URL("http://127.0.0.1:8080"))).toBeUndefined();
    expect(insecureReason(new URL("http://[::1]:8080"))).toBeUndefined();
    expect(insecureReason(new URL("http://localhost"))).toBeUndefined();
    expect(insecureReason(new URL("http://api.example.com"))).toMatch(/only sent over https/);
    expect(isLoopbackHost("127.1.2.3")).toBe(true);
    expect(isLoopbackHost("128.0.0.1")).toBe(false);
  });

  it("finds a credential in a probe path's query", () => {
    expect(credentialQueryParam("/v1/me?api_key=abc")).toBe("api_key");
    expect(credentialQueryParam("/v1/me?limit=1&Access-Token=abc")).toBe("Access-Token");
    expect(credentialQueryParam("/v1/me?token=")).toBeUndefined();
    expect(credentialQueryParam("/v1/me?limit=1")).toBeUndefined();
  });
});

describe("check of probes", () => {
  const connection = (probe: string, base = "https://api.example.com"): string =>
    `kind: api_connection\nname: x\nbase_url: ${base}\nprobe:\n${probe}\n`;
  // the fast reader of simple files and the full parser must agree
  const rules = (text: string): [string, number, number][] => {
    const [full, fast] = [false, true].map((f) => parseConfigFile(text, "c.yaml", { fast: f }).diagnostics.map((d): [string, number, number] => [d.rule, d.line, d.column]));
    expect(fast).toEqual(full);
    return full as [string, number, number][];
  };

  it("accepts a complete probe on a connection and a token probe on an OAuth2 connector", () => {
    expect(rules(connection("  method: HEAD\n  path: /v1/account?limit=1\n  valid_statuses: [200, 204]\n  timeout: 5s"))).toEqual([]);
    expect(rules(connection("  path: /v1/account", "http://127.0.0.1:8080"))).toEqual([]);
    const oauth = `kind: auth_connector\nname: sf\ntype: oauth2_client_credentials\nclient_id: abc\nclient_secret: { secret: sf_client_secret }\ntoken_url: https://login.example.com/token\nprobe: { timeout: 3s }\n`;
    expect(rules(oauth)).toEqual([]);
  });

  it("refuses a path that is not relative, templated, or holds a credential", () => {
    expect(rules(connection("  path: https://evil.example/v1"))).toEqual([["schema", 5, 9]]);
    expect(rules(connection("  path: //evil.example/v1"))).toEqual([["schema", 5, 9]]);
    expect(rules(connection("  path: /v1/{secret}"))).toEqual([["schema", 5, 9]]);
    expect(rules(connection("  path: /v1/me?api_key=abc"))).toEqual([["plaintext-credential", 5, 9]]);
    expect(rules(connection("  path: /v1/me?x=sk_live_abcdefghijklmnop"))).toEqual([["plaintext-credential", 5, 9]]);
    expect(rules(connection("  path: { secret: stripe_key }"))).toEqual([["schema", 5, 9]]);
  });

  it("refuses a method that changes data, a bad status, an over-long timeout and plain http to another host", () => {
    expect(rules(connection("  method: DELETE\n  path: /v1"))).toEqual([["schema", 5, 11]]);
    expect(rules(connection("  path: /v1\n  valid_statuses: [99]"))).toEqual([["schema", 6, 20]]);
    expect(rules(connection("  path: /v1\n  timeout: 90s"))).toEqual([["schema", 6, 12]]);
    expect(rules(connection("  path: /v1", "http://api.example.com"))).toEqual([["schema", 3, 11]]);
    expect(rules(connection("  path: /v1\n  body: x"))).toEqual([["schema", 6, 3]]);
  });

  it("refuses a probe on a connector type without a token request", () => {
    const apiKey = `kind: auth_connector\nname: s\ntype: api_key\napi_key: { secret: s_key }\nprobe: { timeout: 3s }\n`;
    expect(rules(apiKey).map(([r]) => r)).toEqual(["schema"]);
  });
});
