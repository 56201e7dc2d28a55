import { LineIndex } from "@stellar-secrets/core";
import { describe, expect, it } from "vitest";
import { toLspDiagnostic, toLspPosition, toLspRange, toOffset } from "./ranges.js";

describe("ranges", () => {
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

  it("maps offsets and LSP positions both ways over core's LineIndex, CRLF and astral characters included", () => {
    const text = "a: 1\r\nb: 😀x\n";
    const lines = new LineIndex(text);
    const x = text.indexOf("x");
    expect(toLspPosition(lines, x)).toEqual({ line: 1, character: 5 });
    expect(toOffset(lines, { line: 1, character: 5 })).toBe(x);
    expect(toOffset(lines, { line: 0, character: 99 })).toBe(5); // clamped to the line (before \n)
    expect(toOffset(lines, { line: 9, character: 0 })).toBe(text.length);
    expect(toOffset(lines, { line: -1, character: 3 })).toBe(0);
    expect(toLspPosition(lines, text.length)).toEqual({ line: 2, character: 0 });
  });

  it("converts an offset range, collapsing an inverted one to its start", () => {
    const text = "kind: action\nname: create_ticket\n";
    const lines = new LineIndex(text);
    const s = text.indexOf("create_ticket");
    expect(toLspRange(lines, { start: s, end: s + "create_ticket".length })).toEqual({ start: { line: 1, character: 6 }, end: { line: 1, character: 19 } });
    expect(toLspRange(lines, { start: s, end: s - 3 })).toEqual({ start: { line: 1, character: 6 }, end: { line: 1, character: 6 } });
  });
});
