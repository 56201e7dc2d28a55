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
