import { describe, expect, it } from "vitest";
import { LspLineMap, rangeContains, toLspDiagnostic } from "./positions.js";

describe("positions", () => {
  it("converts a core diagnostic (1-based) to LSP (0-based) with rule id, severity and fix data", () => {
    const d = toLspDiagnostic(
      { rule: "unknown-secret", severity: "error", file: "a.yaml", line: 7, column: 13, endLine: 7, endColumn: 30, message: "m", secret: "x", suggestion: "y" },
      "hint",
    );
    expect(d).toEqual({
      range: { start: { line: 6, character: 12 }, end: { line: 6, character: 29 } },
      severity: 4,
      code: "unknown-secret",
      source: "stellar-secrets",
      message: "m",
      data: { secret: "x", suggestion: "y" },
    });
  });

  it("maps offsets and LSP positions both ways, CRLF and astral characters included", () => {
    const text = "a: 1\r\nb: 😀x\n";
    const m = new LspLineMap(text);
    const x = text.indexOf("x");
    expect(m.positionAt(x)).toEqual({ line: 1, character: 5 });
    expect(m.offsetAt({ line: 1, character: 5 })).toBe(x);
    expect(m.offsetAt({ line: 0, character: 99 })).toBe(5); // clamped to the line (before \n)
    expect(m.offsetAt({ line: 9, character: 0 })).toBe(text.length);
  });

  it("counts the end of a name as inside it", () => {
    const r = { start: { line: 1, character: 4 }, end: { line: 1, character: 9 } };
    expect(rangeContains(r, { line: 1, character: 9 })).toBe(true);
    expect(rangeContains(r, { line: 1, character: 10 })).toBe(false);
    expect(rangeContains(r, { line: 0, character: 5 })).toBe(false);
  });
});
