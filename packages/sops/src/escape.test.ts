import { describe, expect, it } from "vitest";
import { escapeControlCharacters } from "./nearest.js";

describe("escapeControlCharacters", () => {
  it("shows C0, DEL and C1 characters as escapes and leaves other text alone", () => {
    expect(escapeControlCharacters("a\u001b[31mb\u0000c\u007f\u0085d\r\t")).toBe("a\\x1b[31mb\\x00c\\x7f\\x85d\\r\\t");
    expect(escapeControlCharacters("line\nnext")).toBe("line\\nnext");
    expect(escapeControlCharacters("line\nnext", { keepNewlines: true })).toBe("line\nnext");
    expect(escapeControlCharacters("ünïcödé ✓ stripe_api_key")).toBe("ünïcödé ✓ stripe_api_key");
  });
});

describe("escapeControlCharacters and bidirectional controls", () => {
  it("shows the Unicode bidi overrides, embeddings, isolates and marks as escapes, so a name cannot reorder what a reviewer reads", () => {
    expect(escapeControlCharacters("stripe\u202eyek_ipa\u202c ok")).toBe("stripe\\u202eyek_ipa\\u202c ok");
    expect(escapeControlCharacters("a\u2066b\u2067c\u2068d\u2069e\u200ef\u200fg\u061ch")).toBe("a\\u2066b\\u2067c\\u2068d\\u2069e\\u200ef\\u200fg\\u061ch");
    expect(escapeControlCharacters("a\u2028b\u2029c")).toBe("a\\u2028b\\u2029c");
    expect(escapeControlCharacters("— “quoted” ✓")).toBe("— “quoted” ✓");
  });
});

describe("escapeControlCharacters and invisible characters", () => {
  it("shows zero-width and other invisible format characters as escapes, so two names that look alike read differently", () => {
    // `age1abc` and `age1a<ZWSP>bc` look the same on a page and in a terminal; git stores different bytes
    expect(escapeControlCharacters("age1a\u200bbc")).toBe("age1a\\u200bbc");
    expect(escapeControlCharacters("a\u200cb\u200dc\u2060d\u2064e\ufefff\u00adg\u034fh\u180ei\u3164j\u206ak")).toBe(
      "a\\u200cb\\u200dc\\u2060d\\u2064e\\ufefff\\xadg\\u034fh\\u180ei\\u3164j\\u206ak",
    );
    // Unicode tag characters (invisible, astral) are escaped by their code point
    expect(escapeControlCharacters("ok\u{e0041}\u{e007f}")).toBe("ok\\u{e0041}\\u{e007f}");
    // an emoji's variation selector is not hidden text: left alone
    expect(escapeControlCharacters("⚠️ ✅")).toBe("⚠️ ✅");
  });
});
