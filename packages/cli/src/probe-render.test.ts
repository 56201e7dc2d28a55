import { describe, expect, it } from "vitest";
import { bySecret, hasFailures, redactValues, renderProbeJson, renderProbeMarkdown, renderProbeText, summarize, type ProbeReport } from "./probe-render.js";
import { reasonOf } from "./probe-http.js";

const report: ProbeReport = {
  environment: "production",
  results: [
    { connection: "billing", file: "c/billing.yaml", line: 1, probe: "request", status: "rejected", method: "GET", url: "https://api.stripe.com/v1/balance", httpStatus: 401, secrets: ["stripe_api_key"] },
    { connection: "hubspot", file: "c/hubspot.yaml", line: 1, probe: "request", status: "valid", method: "GET", url: "https://api.hubapi.com/account-info/v3/details", httpStatus: 200, secrets: ["hubspot_api_token"] },
    { connection: "sf", file: "c/sf.yaml", line: 1, connector: "sf", probe: "token", status: "valid", method: "POST", url: "https://login.salesforce.com/services/oauth2/token", httpStatus: 200, secrets: ["sf_client_secret"] },
    { connection: "zendesk", file: "c/zendesk.yaml", line: 1, probe: "none", status: "no-probe", reason: "add probe: { path: /... } to c/zendesk.yaml", secrets: ["zendesk_token", "stripe_api_key"] },
  ],
};

describe("probe reports", () => {
  it("counts statuses and gives each secret the worst status of the probes that used it", () => {
    expect(summarize(report.results)).toEqual({ rejected: 1, unresolved: 0, unexpected: 0, unreachable: 0, valid: 2, "no-probe": 1 });
    expect(bySecret(report.results)).toEqual([
      { name: "hubspot_api_token", status: "valid", connections: ["hubspot"] },
      { name: "sf_client_secret", status: "valid", connections: ["sf"] },
      { name: "stripe_api_key", status: "rejected", connections: ["billing", "zendesk"] },
      { name: "zendesk_token", status: "no-probe", connections: ["zendesk"] },
    ]);
    expect(hasFailures(report)).toBe(true);
    expect(hasFailures({ environment: "x", results: report.results.filter((r) => r.status !== "rejected") })).toBe(false);
    expect(hasFailures({ environment: "x", results: [{ ...report.results[0]!, status: "unresolved" }] })).toBe(true);
  });

  it("renders text, one line per probe and its reason below", () => {
    expect(renderProbeText(report)).toMatchInlineSnapshot(`
      "probe production: 1 rejected, 2 valid, 1 no-probe
        billing  rejected (401)    GET https://api.stripe.com/v1/balance  secrets: stripe_api_key
        hubspot  valid (200)       GET https://api.hubapi.com/account-info/v3/details  secrets: hubspot_api_token
        sf       valid (200)       token POST https://login.salesforce.com/services/oauth2/token  secrets: sf_client_secret
        zendesk  no-probe          secrets: zendesk_token, stripe_api_key
                 add probe: { path: /... } to c/zendesk.yaml
      "
    `);
  });

  it("renders markdown with escaped cells and the secrets that need attention", () => {
    const md = renderProbeMarkdown({ environment: "production", results: [{ ...report.results[0]!, reason: "a | b" }, report.results[1]!] });
    expect(md).toContain("| billing | `GET https://api.stripe.com/v1/balance` | ❌ rejected \\(401\\) | `stripe_api_key` | a \\| b |");
    expect(md).toContain("**Needs attention** (1): `stripe_api_key` (rejected, billing).");
    expect(renderProbeMarkdown({ environment: "production", results: [] })).not.toContain("Needs attention");
  });

  it("renders names and reasons in markdown as text: no link, image, markup, mention or issue reference", () => {
    // a connection name from the repository, a reason from an API's answer: neither may notify anyone or link anywhere
    const hostile = { ...report.results[0]!, connection: "x@octocat", reason: "see #12 [here](https://evil.example) <img src=x> www.evil.example **now**" };
    const md = renderProbeMarkdown({ environment: "production", results: [hostile] });
    expect(md).toContain("x@&#8203;octocat");
    expect(md).not.toMatch(/#12|\]\(http|<img|www\.evil|\*\*now/);
    expect(md).toContain("\\[here\\]\\(https\\://evil\\.example\\)");
    expect(md).toContain("&lt;img src\\=x&gt;");
  });

  it("renders JSON with the summary, results and secrets", () => {
    const json = JSON.parse(renderProbeJson(report)) as { summary: Record<string, number>; results: unknown[]; secrets: unknown[] };
    expect(json.summary.rejected).toBe(1);
    expect(json.results).toHaveLength(4);
    expect(json.secrets).toHaveLength(4);
  });

  it("turns network errors into reasons made of a code and fixed words", () => {
    const err = (code: string, message = "something with a header value CANARY"): Error => Object.assign(new Error(message), { code });
    expect(reasonOf(err("ENOTFOUND"), 1000)).toBe("DNS: host not found (ENOTFOUND)");
    expect(reasonOf(err("ECONNREFUSED"), 1000)).toBe("TCP: connection refused (ECONNREFUSED)");
    expect(reasonOf(err("DEPTH_ZERO_SELF_SIGNED_CERT"), 1000)).toMatch(/^TLS: DEPTH_ZERO_SELF_SIGNED_CERT \(to trust a private CA/);
    expect(reasonOf(err("ERR_WHATEVER"), 1000)).toBe("request failed (ERR_WHATEVER)");
    expect(reasonOf(new Error("CANARY"), 1000)).toBe("request failed");
  });

  it("redacts known values (6 characters or longer) from a report as a last guard", () => {
    expect(redactValues("a TEST-ONLY-secret and TEST-ONLY-secret, abc", ["TEST-ONLY-secret", "abc"])).toBe("a [redacted] and [redacted], abc");
  });
});
