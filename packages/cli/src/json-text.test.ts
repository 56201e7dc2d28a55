import { describe, expect, it } from "vitest";
import { stringifyJson } from "./json-text.js";

describe("stringifyJson", () => {
  it("escapes DEL, C1, bidirectional controls and line separators; the parsed value is the same", () => {
    const value = { name: "a\u007fb\u0085c\u009bd\u061ce\u200ef\u2028g\u202eh\u2066i\u2069j", plain: "é ü 日本 \u{1f600}", n: [1, null] };
    const text = stringifyJson(value, 2);
    expect(text).not.toMatch(/[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/);
    expect(text).toContain("\\u202e");
    expect(text).toContain("\\u0085");
    expect(text).toContain("é ü 日本 \u{1f600}"); // other characters stay as they are
    expect(JSON.parse(text)).toEqual(value);
    expect(stringifyJson({ a: 1 })).toBe('{"a":1}');
  });
});

describe("stringifyJson and invisible characters", () => {
  it("escapes zero-width and other invisible format characters too (two names that look alike read differently); the parsed value is the same", () => {
    const value = { recipient: "age1a\u200bb\u200cc\u200dd\u2060e\ufefff\u00adg", emoji: "⚠️ ✅" };
    const text = stringifyJson(value);
    expect(text).toBe('{"recipient":"age1a\\u200bb\\u200cc\\u200dd\\u2060e\\ufefff\\u00adg","emoji":"⚠️ ✅"}');
    expect(JSON.parse(text)).toEqual(value);
  });
});
