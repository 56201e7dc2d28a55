import { describe, expect, it } from "vitest";
import { newDestinations, secretDestinations, unreviewedDestinations } from "./destinations.js";

const CONNECTOR = "kind: auth_connector\nname: stripe\ntype: bearer_token\ntoken: { secret: stripe_api_key }\n";
const connection = (url: string, extra = ""): string => `kind: api_connection\nname: stripe\nbase_url: ${url}\nauth: stripe\n${extra}`;
const OAUTH = "kind: auth_connector\nname: sf\ntype: oauth2_client_credentials\nclient_id: app\nclient_secret: { secret: sf_secret }\ntoken_url: https://login.salesforce.com/services/oauth2/token\n";

describe("secretDestinations", () => {
  it("sends a connector's secrets to its connection's base_url origin, header secrets of the connection and its actions too, and oauth2 client secrets to token_url", () => {
    const files: [string, string][] = [
      ["connectors/stripe.yaml", CONNECTOR],
      ["connections/stripe.yaml", connection("https://api.stripe.com/v1", "headers:\n  - { name: X-Extra, type: secret, secret: stripe_extra }\n")],
      ["agents/a/actions/charge.yaml", "kind: action\nname: charge\nconnection: stripe\nmethod: POST\npath: /charges\nheaders:\n  - { name: Idem, type: secret, secret: idem_key }\n"],
      ["connectors/sf.yaml", OAUTH],
      ["connections/sf.yaml", "kind: api_connection\nname: sf\nbase_url: https://x.my.salesforce.com\nauth: sf\n"],
    ];
    const found = secretDestinations(files).map((d) => [d.secret, d.origin, d.file, d.line, d.via]);
    expect(found).toEqual([
      ["stripe_extra", "https://api.stripe.com", "connections/stripe.yaml", 3, "api_connection stripe"],
      ["idem_key", "https://api.stripe.com", "connections/stripe.yaml", 3, "api_connection stripe"],
      ["stripe_api_key", "https://api.stripe.com", "connections/stripe.yaml", 3, "api_connection stripe"],
      ["sf_secret", "https://login.salesforce.com", "connectors/sf.yaml", 6, "auth_connector sf"],
      ["sf_secret", "https://x.my.salesforce.com", "connections/sf.yaml", 3, "api_connection sf"],
    ]);
    // the base_url gets the access token the client secret obtains, not the secret itself
    expect(secretDestinations(files).filter((d) => d.accessToken === true).map((d) => [d.secret, d.via])).toEqual([["sf_secret", "api_connection sf"]]);
  });

  it("an OAuth2 connection's base_url moved to another host is a new destination of the client secret (its live access token goes there: s24 newattack)", () => {
    const files = (url: string): [string, string][] => [["connectors/sf.yaml", OAUTH], ["connections/sf.yaml", `kind: api_connection\nname: sf\nbase_url: ${url}\nauth: sf\n`]];
    const base = secretDestinations(files("https://x.my.salesforce.com"));
    expect(newDestinations(base, secretDestinations(files("https://evil.example/services")))).toEqual([
      { secret: "sf_secret", origin: "https://evil.example", file: "connections/sf.yaml", line: 3, via: "api_connection sf", accessToken: true, before: ["https://login.salesforce.com", "https://x.my.salesforce.com"] },
    ]);
    expect(unreviewedDestinations(base, secretDestinations(files("https://evil.example")))).toMatchObject([{ secret: "sf_secret", origin: "https://evil.example", accessToken: true }]);
    expect(newDestinations(base, secretDestinations(files("https://x.my.salesforce.com/v2")))).toEqual([]);
  });

  it("never throws on text that is not YAML or not ours", () => {
    expect(secretDestinations([["a.yaml", "kind: [\n"], ["b.yaml", "x: 1\n"], ["c.yaml", "kind: api_connection\nbase_url: 3\n"]])).toEqual([]);
  });
});

describe("newDestinations", () => {
  const files = (url: string, more: [string, string][] = []): [string, string][] => [["connectors/stripe.yaml", CONNECTOR], ["connections/stripe.yaml", connection(url)], ...more];
  it("reports a secret the head sends to an origin the base never sent it to (a base_url pointed at another host: s24 attack), at the base_url", () => {
    const base = secretDestinations(files("https://api.stripe.com"));
    expect(newDestinations(base, secretDestinations(files("https://api.stripe.com.evil.example/v1")))).toEqual([
      { secret: "stripe_api_key", origin: "https://api.stripe.com.evil.example", file: "connections/stripe.yaml", line: 3, via: "api_connection stripe", before: ["https://api.stripe.com"] },
    ]);
    // userinfo, another port or scheme is another origin too
    expect(newDestinations(base, secretDestinations(files("https://api.stripe.com@evil.example")))).toMatchObject([{ origin: "https://evil.example" }]);
    expect(newDestinations(base, secretDestinations(files("http://api.stripe.com")))).toMatchObject([{ origin: "http://api.stripe.com" }]);
    // a second connection with the same connector, to another host
    const second: [string, string] = ["connections/mirror.yaml", "kind: api_connection\nname: mirror\nbase_url: https://mirror.example\nauth: stripe\n"];
    expect(newDestinations(base, secretDestinations(files("https://api.stripe.com", [second])))).toMatchObject([{ secret: "stripe_api_key", origin: "https://mirror.example", file: "connections/mirror.yaml" }]);
  });

  it("does not report the same origin (another path, a moved file), nor a secret the base sent nowhere (wired for the first time)", () => {
    const base = secretDestinations(files("https://api.stripe.com"));
    expect(newDestinations(base, secretDestinations(files("https://api.stripe.com/v2/")))).toEqual([]);
    expect(newDestinations(base, secretDestinations([["c/s.yaml", CONNECTOR], ["d/s.yaml", connection("https://api.stripe.com")]]))).toEqual([]);
    expect(newDestinations([], secretDestinations(files("https://evil.example")))).toEqual([]);
  });
});

describe("unreviewedDestinations", () => {
  const files = (url: string, more: [string, string][] = []): [string, string][] => [["connectors/stripe.yaml", CONNECTOR], ["connections/stripe.yaml", connection(url)], ...more];
  it("reports every secret the head sends to an origin no reviewed state sent it to, a secret the reviewed config sent nowhere too (probe's gate)", () => {
    const reviewed = secretDestinations(files("https://api.stripe.com"));
    expect(unreviewedDestinations(reviewed, secretDestinations(files("https://evil.example/v1")))).toEqual([
      { secret: "stripe_api_key", origin: "https://evil.example", file: "connections/stripe.yaml", line: 3, via: "api_connection stripe", before: ["https://api.stripe.com"] },
    ]);
    // wired for the first time on the branch: review lets it through, probe does not
    const wired: [string, string] = ["connections/new.yaml", "kind: api_connection\nname: new\nbase_url: https://new.example\nheaders:\n  - { name: X-Key, type: secret, secret: new_key }\n"];
    expect(newDestinations(reviewed, secretDestinations(files("https://api.stripe.com", [wired])))).toEqual([]);
    expect(unreviewedDestinations(reviewed, secretDestinations(files("https://api.stripe.com", [wired])))).toMatchObject([{ secret: "new_key", origin: "https://new.example", file: "connections/new.yaml", line: 3, before: [] }]);
    expect(unreviewedDestinations([], secretDestinations(files("https://api.stripe.com")))).toMatchObject([{ secret: "stripe_api_key", before: [] }]);
  });

  it("lets through an origin any reviewed state used (the merge-base's or the default branch's), another path, and reports one entry per secret and origin", () => {
    const reviewed = [...secretDestinations(files("https://old.stripe.com")), ...secretDestinations(files("https://api.stripe.com"))];
    expect(unreviewedDestinations(reviewed, secretDestinations(files("https://api.stripe.com/v2/")))).toEqual([]);
    expect(unreviewedDestinations(reviewed, secretDestinations(files("https://old.stripe.com")))).toEqual([]);
    const twice: [string, string] = ["connections/twice.yaml", "kind: api_connection\nname: twice\nbase_url: https://evil.example\nauth: stripe\n"];
    expect(unreviewedDestinations(reviewed, secretDestinations(files("https://evil.example", [twice])))).toMatchObject([
      { secret: "stripe_api_key", origin: "https://evil.example", file: "connections/stripe.yaml", before: ["https://api.stripe.com", "https://old.stripe.com"] },
    ]);
  });
});
