import { describe, expect, it } from "vitest";
import { describeNonDescriptiveName, quoteName, secretNameFromContext, suggestSecretName, validateSecretName } from "./names.js";

describe("validateSecretName", () => {
  it("accepts lowercase_with_underscores up to 64 characters", () => {
    expect(validateSecretName("stripe_api_key")).toEqual({ ok: true });
    expect(validateSecretName("a".repeat(64))).toEqual({ ok: true });
    expect(validateSecretName("s3_bucket_key2")).toEqual({ ok: true });
  });

  it.each([
    ["", /empty/],
    ["a".repeat(65), /65 characters long; the limit is 64/],
    ["Stripe_Key", /uppercase/],
    ["stripe-key", /characters other than/],
    ["stripe key", /whitespace/],
    ["1password", /does not start with a letter/],
    ["_stripe", /does not start with a letter/],
  ])("refuses %j", (name, message) => {
    const r = validateSecretName(name);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.rule).toBe("invalid-secret-name");
      expect(r.message).toMatch(message);
    }
  });

  it("refuses sops and names ending in _unencrypted, each with its own reason", () => {
    const sops = validateSecretName("sops");
    const clear = validateSecretName("db_password_unencrypted");
    expect(sops.ok || sops.message).toMatch(/metadata/);
    expect(clear.ok || clear.message).toMatch(/in clear text/);
    expect(clear.ok || clear.suggestion).toBe("db_password");
  });

  it("suggests a valid spelling", () => {
    expect(validateSecretName("Stripe-API-Key")).toMatchObject({ suggestion: "stripe_api_key" });
    expect(suggestSecretName("hubspotApiToken")).toBe("hubspot_api_token");
    expect(suggestSecretName("!!!")).toBeUndefined();
  });

  it("suggests the name a look-alike spells: Cyrillic and Greek letters, accents, full-width forms and invisible characters folded to the ASCII they look like", () => {
    expect(suggestSecretName("stripe_api_k\u0435y")).toBe("stripe_api_key"); // Cyrillic е
    expect(suggestSecretName("\u0441\u0430sh_\u0430pi_key")).toBe("cash_api_key"); // с, а
    expect(suggestSecretName("twilio_\u03bfauth_token")).toBe("twilio_oauth_token"); // Greek ο
    expect(suggestSecretName("caf\u00e9_api_key")).toBe("cafe_api_key");
    expect(suggestSecretName("\uff53tripe_api_key")).toBe("stripe_api_key"); // full-width s
    expect(suggestSecretName("stripe_api_key\u200b")).toBe("stripe_api_key"); // a zero-width space
    expect(suggestSecretName("stripe\u00adapi_key")).toBe("stripeapi_key"); // a soft hyphen is invisible
    expect(validateSecretName("stripe_api_k\u0435y")).toMatchObject({ ok: false, suggestion: "stripe_api_key" });
  });
});

describe("describeNonDescriptiveName", () => {
  it.each(["token1", "key", "secret", "password", "api_key", "client_secret", "access_token2", "pw"])("flags %s", (name) => {
    expect(describeNonDescriptiveName(name)).toBeDefined();
  });
  it.each(["stripe_api_key", "hubspot_token", "github_pat", "zendesk_token", "db_password"])("accepts %s", (name) => {
    expect(describeNonDescriptiveName(name)).toBeUndefined();
  });
});

describe("validateSecretName: control and invisible characters", () => {
  it("says so first, even when the name also has uppercase letters", () => {
    for (const name of ["api\u001b[31mKey", "api\u200bkey", "api\u202ekey", "\ufeffapi_key", "api\u0085key"]) {
      const r = validateSecretName(name);
      expect(r.ok).toBe(false);
      expect(r.ok === false && r.message).toContain("contains control or invisible characters");
    }
    const upper = validateSecretName("ApiKey");
    expect(upper.ok === false && upper.message).toContain("has uppercase letters");
  });
});

describe("quoteName", () => {
  it("quotes a usual name as it is", () => {
    expect(quoteName("stripe_api_key")).toBe('"stripe_api_key"');
    expect(quoteName("Stripe Key-1 ")).toBe('"Stripe Key-1 "');
  });

  it("writes line breaks, control and invisible characters as escapes, so a message stays one line", () => {
    expect(quoteName("github_app_token\n")).toBe('"github_app_token\\n"');
    expect(quoteName("a\r\tb")).toBe('"a\\r\\tb"');
    expect(quoteName("\u001b[2Jx")).toBe('"\\x1b[2Jx"');
    expect(quoteName("key\u202e\u200b\ufeff\u0085")).toBe('"key\\u202e\\u200b\\ufeff\\x85"');
    for (const c of ["\n", "\r", "\u2028", "\u2029", "\u0085"]) expect(quoteName(`a${c}b`)).not.toMatch(/[\n\r\u2028\u2029\u0085]/);
  });
});

describe("validateSecretName: a name with a line break", () => {
  it("says so on one line", () => {
    const r = validateSecretName("stripe_key\n");
    expect(r.ok).toBe(false);
    expect(r.ok ? "" : r.message).toMatch(/^secret name "stripe_key\\n" contains control/);
  });
});

describe("secretNameFromContext (the name plaintext-credential proposes)", () => {
  it("snake_cases the parts into a valid, descriptive name, skipping the names taken", () => {
    expect(secretNameFromContext(["stripe", "Authorization"])).toBe("stripe_authorization");
    expect(secretNameFromContext(["Stripe.Prod", "X-Api-Key"])).toBe("stripe_prod_x_api_key");
    expect(secretNameFromContext([undefined, "token"])).toBeUndefined(); // generic alone: no name
    expect(secretNameFromContext(["hubspot", "token"], (n) => n === "hubspot_token" || n === "hubspot_token_2")).toBe("hubspot_token_3");
    const long = secretNameFromContext(["a".repeat(70), "token"], (n) => n.length === 64 && !n.endsWith("_2"));
    expect(long).toMatch(/^a+_2$/);
    expect(long!.length).toBeLessThanOrEqual(64);
  });
});
