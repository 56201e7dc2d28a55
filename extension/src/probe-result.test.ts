import { describe, expect, it } from "vitest";
import { cliCommand, connectionAt, describeProbe, probeArgs } from "./probe-result.js";

describe("Test Credential (pure parts)", () => {
  it("finds the api_connection document under the cursor", () => {
    const text = "kind: auth_connector\nname: stripe\ntype: api_key\n---\nkind: api_connection\nname: hubspot\nbase_url: https://x\n";
    expect(connectionAt(text, text.indexOf("base_url"))).toBe("hubspot");
    expect(connectionAt(text, text.indexOf("type: api_key"))).toBeUndefined();
    expect(connectionAt("kind: action\nname: a\n", 3)).toBeUndefined();
  });

  it("runs the CLI's probe for one connection and environment, with JSON output", () => {
    expect(probeArgs("hubspot", "production")).toEqual(["probe", "hubspot", "--env", "production", "--json"]);
  });

  it("describes the result by severity, naming secrets and statuses only", () => {
    const ok = JSON.stringify({ environment: "production", results: [{ connection: "hubspot", probe: "request", status: "valid", httpStatus: 200, method: "GET", url: "https://api.hubapi.com/v1", secrets: ["hubspot_api_token"] }] });
    expect(describeProbe(ok)).toEqual({ severity: "info", message: "hubspot in production: valid (200) — GET https://api.hubapi.com/v1 [hubspot_api_token]" });
    const bad = JSON.stringify({ environment: "production", results: [{ connection: "sf", probe: "token", status: "rejected", httpStatus: 401, code: "invalid_client", secrets: ["sf_client_secret"] }] });
    expect(describeProbe(bad)).toEqual({ severity: "error", message: "sf in production: rejected (401, invalid_client) — token request [sf_client_secret]" });
    const slow = JSON.stringify({ environment: "staging", results: [{ connection: "x", probe: "request", status: "unreachable", reason: "timeout: no answer within 300 ms", secrets: [] }] });
    expect(describeProbe(slow).severity).toBe("warning");
    expect(describeProbe("not json").severity).toBe("error");
  });

  it("runs the CLI only in a trusted workspace: the setting, else the project's node_modules/.bin, else PATH; in Restricted Mode none, not even the folder's own", () => {
    const base = { configured: "", root: "/repo", trusted: true, platform: "linux" as const, exists: (p: string) => p === "/repo/node_modules/.bin/stellar-secrets" };
    expect(cliCommand(base)).toEqual({ command: "/repo/node_modules/.bin/stellar-secrets" });
    expect(cliCommand({ ...base, exists: () => false })).toEqual({ command: "stellar-secrets" });
    expect(cliCommand({ ...base, configured: "/opt/bin/stellar-secrets" })).toEqual({ command: "/opt/bin/stellar-secrets" });
    expect(cliCommand({ ...base, platform: "win32", exists: (p) => p.endsWith("stellar-secrets.cmd") })).toEqual({ command: expect.stringMatching(/stellar-secrets\.cmd$/) });
    for (const configured of ["", "./evil.sh"]) {
      const refused = cliCommand({ ...base, configured, trusted: false });
      expect(refused).toEqual({ refused: expect.stringContaining("Restricted Mode") });
    }
  });
});

