import { describe, expect, it } from "vitest";
import { secretDestinations } from "@stellar-secrets/core";
import { reviewedDestinations, reviewedRef, unreviewedDestinationError, unreviewedForProbe } from "./probe-destinations.js";

const files = (stripeUrl: string, tokenUrl = "https://login.salesforce.com/services/oauth2/token"): [string, string][] => [
  ["connectors/stripe.yaml", "kind: auth_connector\nname: stripe\ntype: bearer_token\ntoken: { secret: stripe_api_key }\n"],
  ["connections/stripe.yaml", `kind: api_connection\nname: stripe\nbase_url: ${stripeUrl}\nauth: stripe\n`],
  ["connectors/sf.yaml", `kind: auth_connector\nname: sf\ntype: oauth2_client_credentials\nclient_id: app\nclient_secret: { secret: sf_secret }\ntoken_url: ${tokenUrl}\n`],
  ["connections/sf.yaml", "kind: api_connection\nname: sf\nbase_url: https://x.my.salesforce.com\nauth: sf\n"],
];

describe("unreviewedForProbe", () => {
  const reviewed = secretDestinations(files("https://api.stripe.com"));

  it("refuses only what the probed connections and their connectors would send to a new origin", () => {
    const head = secretDestinations(files("https://evil.example", "https://evil.example/token"));
    expect(unreviewedForProbe(reviewed, head, ["stripe"], ["stripe"]).map((d) => [d.secret, d.origin, d.file, d.line])).toEqual([["stripe_api_key", "https://evil.example", "connections/stripe.yaml", 3]]);
    // the token request goes to the connector's token_url: probing sf alone sees that one
    expect(unreviewedForProbe(reviewed, head, ["sf"], ["sf"]).map((d) => [d.secret, d.origin, d.file, d.line])).toEqual([["sf_secret", "https://evil.example", "connectors/sf.yaml", 6]]);
    expect(unreviewedForProbe(reviewed, head, ["stripe", "sf"], ["stripe", "sf"])).toHaveLength(2);
    // an OAuth2 connection pointed elsewhere: the token comes from the reviewed token_url, the live access token would go to the new host (s24 newattack)
    const moved = secretDestinations(files("https://api.stripe.com").map(([f, t]) => [f, f === "connections/sf.yaml" ? t.replace("https://x.my.salesforce.com", "https://evil.example") : t] as [string, string]));
    const found = unreviewedForProbe(reviewed, moved, ["sf"], ["sf"]);
    expect(found.map((d) => [d.secret, d.origin, d.file, d.line])).toEqual([["sf_secret", "https://evil.example", "connections/sf.yaml", 3]]);
    expect(unreviewedDestinationError(found, "main at 0123456789ab").message).toContain(
      "connections/sf.yaml:3: the access token sf_secret obtains would go to https://evil.example (api_connection sf); the reviewed config sends it only to https://login.salesforce.com, https://x.my.salesforce.com",
    );
    expect(unreviewedForProbe(reviewed, secretDestinations(files("https://api.stripe.com/v2")), ["stripe", "sf"], ["stripe", "sf"])).toEqual([]);
  });
});

describe("reviewedDestinations", () => {
  it("counts the merge-base's origins only where the default branch's tip still sends a credential: a host main has moved every secret away from (decommissioned, its domain lapsed) is no longer reviewed for a branch cut from an old commit (s24 newattack)", () => {
    const old = secretDestinations(files("https://old-api.stripe.example"));
    const tip = secretDestinations(files("https://api.stripe.com"));
    const reviewed = reviewedDestinations(tip, old);
    // a branch cut from the old commit (its merge-base) still sends the key to the old host: refused
    expect(unreviewedForProbe(reviewed, old, ["stripe"], ["stripe"]).map((d) => [d.secret, d.origin, d.before])).toEqual([["stripe_api_key", "https://old-api.stripe.example", ["https://api.stripe.com"]]]);
    // a host the tip still uses (for any credential) keeps counting for the branch behind it
    const legacy: [string, string] = ["connections/legacy.yaml", "kind: api_connection\nname: legacy\nbase_url: https://old-api.stripe.example\nheaders:\n  - { name: X-Key, type: secret, secret: legacy_key }\n"];
    const stillUsed = secretDestinations([...files("https://api.stripe.com"), legacy]);
    expect(unreviewedForProbe(reviewedDestinations(stillUsed, old), old, ["stripe"], ["stripe"])).toEqual([]);
    expect(reviewedDestinations(tip, undefined)).toEqual(tip);
  });
});

describe("reviewedRef", () => {
  it("prefers the remote's default branch to a local branch of that name, which can hold commits nobody reviewed (a PR merged locally, a fork's main checked out as main: s24 newattack)", () => {
    expect(reviewedRef(["refs/heads/main", "refs/remotes/origin/main"])).toBe("origin/main");
    expect(reviewedRef(["refs/heads/master", "refs/remotes/origin/master", "refs/heads/main"])).toBe("origin/master");
    expect(reviewedRef(["refs/heads/main", "refs/remotes/origin/HEAD", "refs/remotes/origin/main"])).toBe("origin/HEAD");
    // without a remote's branch, the local one (as before)
    expect(reviewedRef(["refs/heads/master", "refs/heads/main"])).toBe("main");
    expect(reviewedRef(["refs/heads/feature"])).toBeUndefined();
  });
});

describe("unreviewedDestinationError", () => {
  it("names each secret, origin and config line, and the way out; never a value", () => {
    const found = unreviewedForProbe(secretDestinations(files("https://api.stripe.com")), secretDestinations(files("https://evil.example")), ["stripe"], ["stripe"]);
    const error = unreviewedDestinationError(found, "origin/HEAD at 0123456789ab");
    expect(error.code).toBe("UNREVIEWED_DESTINATION");
    expect(error.message).toMatchInlineSnapshot(`
      "probe: a credential would go to an origin the reviewed config (origin/HEAD at 0123456789ab) never sent it to; nothing was sent:
        connections/stripe.yaml:3: stripe_api_key would go to https://evil.example (api_connection stripe); the reviewed config sends it only to https://api.stripe.com"
    `);
    expect(error.hint).toContain("--allow-new-destination");
    const wired = unreviewedDestinationError([{ ...(found[0] as (typeof found)[number]), before: [] }, { ...(found[0] as (typeof found)[number]), secret: "other", before: [] }], "main at 0123456789ab");
    expect(wired.message).toContain("2 credentials would go to an origin the reviewed config (main at 0123456789ab) never sent them to");
    expect(wired.message).toContain("the reviewed config sends it nowhere");
  });
});
