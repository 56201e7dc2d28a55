import { describe, expect, it } from "vitest";
import { commentCredentials, credentialAsName, credentialAsNameMessage, credentialLines, detectCredential, HIDDEN_NAME, hideCredentialNames, hideCredentialNamesIn, looksRandom, pastedCredential, shannonEntropy } from "./credentials.js";

describe("detectCredential", () => {
  it.each([
    ["sk_live_FAKEFAKEFAKEFAKE0000", /Stripe live secret key/],
    ["Bearer ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake0000", /GitHub token/],
    ["xoxb-FAKE-0000000000-notreal", /Slack token/],
    ["AKIAFAKEFAKEFAKE0000", /AWS access key id/],
    ["AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ", /age private key/],
    ["-----BEGIN RSA PRIVATE KEY-----", /PEM private key/],
    ["eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJmYWtlIn0.ZmFrZS1zaWduYXR1cmU", /JSON Web Token/],
    ["https://admin:hunter2@db.example.com/x", /URL with a password/],
  ])("recognises %s", (value, what) => {
    expect(detectCredential(value)).toMatch(what);
  });

  it("does not flag ordinary values, prefixes without a key, UUIDs or URLs", () => {
    for (const v of [
      "application/json",
      "uses sk_live_ keys",
      "123e4567-e89b-12d3-a456-426614174000",
      "https://api.example.com/v1/things/42",
      "support-bot@example.com/token",
      "/crm/v3/objects/contacts/search",
    ]) {
      expect(detectCredential(v, { entropy: true }), v).toBeUndefined();
    }
  });

  it("flags long random strings only when asked (static header values)", () => {
    const random = "q8Zr2LpX0vTn5WbY7cKd3HsJ9mFa6GeQ";
    expect(detectCredential(random)).toBeUndefined();
    expect(detectCredential(random, { entropy: true })).toMatch(/random string/);
    expect(detectCredential(`Bearer ${random}`, { entropy: true })).toMatch(/random string/);
    expect(looksRandom("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa11")).toBe(false);
    expect(shannonEntropy("abab")).toBe(1);
  });

  it("describes the format, never the value", () => {
    expect(detectCredential("sk_live_FAKEFAKEFAKEFAKE0000")).not.toContain("FAKE");
  });
});

describe("commentCredentials", () => {
  const KEY = "sk_live_FAKEFAKEFAKEFAKE0000";
  it("finds a credential in the comment of any line (first, middle, last without newline, CRLF), from the # to the line's end", () => {
    const lines = [`# ${KEY}`, "kind: action", `name: x # ${KEY}`, 'note: "# not a comment"', `path: "/a#b" # ${KEY}\r`, `# last ${KEY}`];
    const text = lines.join("\n");
    const found = commentCredentials(text);
    const shown = found.map((f) => text.slice(f.range.start, f.range.end));
    expect(shown).toEqual([`# ${KEY}`, `# ${KEY}`, `# ${KEY}`, `# last ${KEY}`]);
    expect(found.every((f) => /Stripe live secret key/.test(f.what))).toBe(true);
  });
  it("ignores a # inside quotes or within a word, and a line with several # once", () => {
    expect(commentCredentials(`a: "x # ${KEY}"\nb: c#${KEY}\n`)).toEqual([]);
    expect(commentCredentials(`a: 1 # one # ${KEY}\n`).map((f) => f.range)).toEqual([{ start: 5, end: 5 + `# one # ${KEY}`.length }]);
    expect(commentCredentials("no comment here\n")).toEqual([]);
    expect(commentCredentials("#")).toEqual([]);
  });
  it("ends a comment at a lone CR, as YAML does (the next line is not part of it)", () => {
    const text = `a: 1 # note\rb: ${KEY}\r# ${KEY}\rc: 2`;
    const found = commentCredentials(text);
    expect(found.map((f) => text.slice(f.range.start, f.range.end))).toEqual([`# ${KEY}`]);
  });
});

describe("credentialLines", () => {
  const KEY = "sk_live_FAKEFAKEFAKEFAKE0000";
  it("gives each line's range without its line break, for LF, CRLF and lone CR alike", () => {
    const text = `a: 1\rb: ${KEY}\r\nc: 2\n# ${KEY}\rd: 3`;
    expect(credentialLines(text).map((f) => text.slice(f.range.start, f.range.end))).toEqual([`b: ${KEY}`, `# ${KEY}`]);
  });
});

describe("pastedCredential", () => {
  it("finds a well-known format, and a long random string that cannot be a name", () => {
    expect(pastedCredential("sk_live_FAKEabcdefghijklmnopqrstuvwx")).toContain("sk_live_");
    expect(pastedCredential("Q7mZp2XrL9vKt4NwB8sHc3JdF6gY1aEu")).toContain("random");
  });

  it("never takes a valid secret name or a short wrong name for a credential", () => {
    for (const name of ["openai_api_key_for_production_2024", "stripe_api_key", "StripeWebhookKey", "Zendesk_API_Token", "hubspot-api-token", "3f2a9c1e-8b7d-4e6f-a5c4-1d2e3f4a5b6c"]) {
      expect(pastedCredential(name), name).toBeUndefined();
    }
  });
});

describe("credentialAsName (the one test of a name given in place of a credential: set, edit, check, review, the editor)", () => {
  // TEST-ONLY made-up tokens
  it("finds well-known formats, mixed-case random tokens and long random lower-case hex keys", () => {
    for (const [name, looks] of [
      ["sk_live_51hqlyjwdarjtt1zdp7dcxyzabcdef0123456789", "Stripe live secret key"],
      ["sk_live_51HqLyjWDarjtT1zdp7dcXYZabcdef0123456789", "Stripe live secret key"],
      ["ghp_abcdefghijklmnopqrstuvwxyz0123456789", "GitHub token"],
      ["xoxb-1234567890-abcdefghij", "Slack token"],
      ["AKIAIOSFODNN7EXAMPLE", "AWS access key id"],
      ["a3f9c8e7d6b5a4f3e2d1c0b9a8f7e6d5", "long random string"],
      ["Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZg", "long random string"],
    ] as const) {
      expect(credentialAsName(name), name).toContain(looks);
    }
  });

  it("never flags a realistic secret name (long, versioned, hex-looking, with a provider's prefix word)", () => {
    const realistic = [
      "stripe_api_key", "github_token", "openai_key_v2", "sk_live_key", "stripe_sk_live", "ghp_token", "hf_token", "npm_token",
      "aws_access_key_id", "aws_secret_access_key", "slack_bot_token", "xoxb_token", "sendgrid_api_key", "twilio_auth_token",
      "google_places_api_key", "anthropic_api_key", "oauth2_client_secret_for_billing_api_2024", "openai_api_key_for_production_2024",
      "stripe_webhook_secret_v3", "hubspot_private_app_token", "zendesk_api_token", "database_url", "postgres_password",
      "jwt_signing_key", "shopify_access_token", "gitlab_deploy_token", "deadbeef", "abc123", "sha256_hmac_key",
      "key_2f9a", "s3_bucket_secret", "age_secret_key", "pagerduty_routing_key_eu", "datadog_api_key_us5",
    ];
    for (const name of realistic) expect(credentialAsName(name), name).toBeUndefined();
  });

  it("words a refusal without the name", () => {
    expect(credentialAsNameMessage("the name", "a GitHub token (ghp_…)")).toBe(
      "the name looks like a GitHub token (ghp_…), not a secret's name (not shown): a value is never stored as a name, which is not encrypted",
    );
  });
});

describe("hideCredentialNames / hideCredentialNamesIn", () => {
  const name = "sk_live_51HqLyjWDarjtT1zdp7dcXYZabcdef0123456789"; // TEST-ONLY
  it("replaces the name, quoted or not, by the placeholder, and leaves other text alone", () => {
    expect(hideCredentialNames(`secret "${name}" is not referenced; remove it with \`rm ${name}\``, [name])).toBe(
      `secret ${HIDDEN_NAME} is not referenced; remove it with \`rm ${HIDDEN_NAME}\``,
    );
    expect(hideCredentialNames("secret \"stripe_api_key\"", [name])).toBe('secret "stripe_api_key"');
  });
  it("walks plain data: every string, keys kept, and the value itself without names", () => {
    const report = { environments: [{ secrets: [{ name, change: "added" }], reencrypted: [name, "b"] }], summary: { added: 1 } };
    const hidden = hideCredentialNamesIn(report, new Set([name]));
    expect(hidden).toEqual({ environments: [{ secrets: [{ name: HIDDEN_NAME, change: "added" }], reencrypted: [HIDDEN_NAME, "b"] }], summary: { added: 1 } });
    expect(hideCredentialNamesIn(report, new Set())).toBe(report);
  });
});
