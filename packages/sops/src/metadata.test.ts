/**
 * Crypt rules as sops applies them (SOPS-FORMAT §3): sops matches `encrypted_regex` and
 * `unencrypted_regex` with Go's RE2, which differs from JavaScript's RegExp in syntax. Expected
 * results were taken from Go's regexp package (regexp.MatchString), not from this code.
 */
import { describe, expect, it } from "vitest";
import { sopsEncryptsPath, unsupportedCryptRule, type SopsMetadata } from "./index.js";

const meta = (rule: Partial<SopsMetadata>): SopsMetadata => ({ age: [], lastmodified: "2026-01-02T03:04:05Z", mac: "", version: "3.13.2", other: {}, ...rule });
const encrypts = (regex: string, key: string) => sopsEncryptsPath(meta({ encrypted_regex: regex }), [key]);

describe("encrypted_regex / unencrypted_regex match as Go's RE2 matches", () => {
  // [pattern, key, Go's regexp.MatchString]
  const cases: [string, string, boolean][] = [
    ["(?i)^api_", "API_KEY", true],
    ["(?i)^api_", "plain", false],
    ["(?s)^a.b$", "a\nb", true],
    ["(?U)^a+$", "aaa", true],
    ["(?P<n>pass)", "password", true],
    ["(?<n>pass)", "password", true],
    ["\\Apass\\z", "pass", true],
    ["\\Apass\\z", "passx", false],
    ["^[[:upper:]]+_KEY$", "DB_KEY", true],
    ["^[[:upper:]]+_KEY$", "db_KEY", false],
    ["[^[:digit:]]", "5", false],
    ["^[[:alnum:]_]+$", "a_1", true],
    ["^\\pL+$", "é", true],
    ["^\\p{Lu}", "É", true],
    ["\\Qa.b\\E", "a.b", true],
    ["\\Qa.b\\E", "axb", false],
    ["^\\x{41}$", "A", true],
    ["^a\\sb$", "a b", true],
    ["^a\\sb$", "a\u00a0b", false],
    ["[]a]", "]", true],
    ["[\\d-z]", "-", true],
    ["^(data|stringData)$", "data", true],
  ];
  for (const [pattern, key, want] of cases) {
    it(`${JSON.stringify(pattern)} on ${JSON.stringify(key)} → ${want}`, () => {
      expect(encrypts(pattern, key)).toBe(want);
      expect(sopsEncryptsPath(meta({ unencrypted_regex: pattern }), [key])).toBe(!want);
    });
  }

  // RE2 refuses these (JavaScript would take them): sops's match fails, so it never matches
  for (const pattern of ["^(?!public)", "(a)\\1", "(?=x)", "(?<=a)b", "x{1001}", "\\C"]) {
    it(`${JSON.stringify(pattern)} is invalid in RE2, so it never matches (encrypted_regex encrypts nothing)`, () => {
      expect(encrypts(pattern, "secret")).toBe(false);
      expect(encrypts(pattern, "aa")).toBe(false);
      expect(unsupportedCryptRule(meta({ encrypted_regex: pattern }))).toBeUndefined();
    });
  }

  // valid RE2 this package does not translate: refused (readers UNSUPPORTED, check reports it) rather than guessed
  for (const pattern of ["pass(?i)word", "(?i:PASS)word", "[[:^alpha:]]", "(?i-s)x"]) {
    it(`${JSON.stringify(pattern)} is not translated: the rule is unsupported, never guessed`, () => {
      expect(encrypts(pattern, "password")).toBeUndefined();
      expect(unsupportedCryptRule(meta({ encrypted_regex: pattern }))).toEqual({ rule: "encrypted_regex", why: expect.stringContaining("RE2") });
    });
  }

  it("comment-based rules are unsupported too; suffix rules never are", () => {
    expect(unsupportedCryptRule(meta({ encrypted_comment_regex: "sops:enc" }))).toEqual({ rule: "encrypted_comment_regex", why: expect.stringContaining("comment") });
    expect(unsupportedCryptRule(meta({ encrypted_suffix: "_secret" }))).toBeUndefined();
    expect(unsupportedCryptRule(meta({}))).toBeUndefined();
  });
});
