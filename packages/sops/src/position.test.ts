import { describe, expect, it } from "vitest";
import { LineIndex } from "./position.js";

describe("LineIndex", () => {
  it("converts offsets to 1-based lines and columns and back", () => {
    const text = "ab\ncd\r\n\nxyz";
    const lines = new LineIndex(text);
    expect(lines.lineCount).toBe(4);
    expect(lines.positionAt(0)).toEqual({ line: 1, column: 1 });
    expect(lines.positionAt(2)).toEqual({ line: 1, column: 3 });
    expect(lines.positionAt(3)).toEqual({ line: 2, column: 1 });
    expect(lines.positionAt(text.indexOf("x"))).toEqual({ line: 4, column: 1 });
    expect(lines.positionAt(999)).toEqual({ line: 4, column: 4 });
    for (let o = 0; o <= text.length; o++) {
      const p = lines.positionAt(o);
      expect(lines.offsetAt(p.line, p.column)).toBe(o);
    }
    expect(lines.offsetAt(1, 99)).toBe(2);
    expect(lines.offsetAt(0, 1)).toBe(0);
    expect(lines.offsetAt(9, 1)).toBe(text.length);
  });

  it("counts columns in UTF-16 code units", () => {
    const lines = new LineIndex("é😀x");
    expect(lines.positionAt(3)).toEqual({ line: 1, column: 4 });
  });
});
