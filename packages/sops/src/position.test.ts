import { describe, expect, it } from "vitest";
import { LineIndex, lineEndAt, lineStartAt, loneCrAsLf, textLines } from "./position.js";

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

  it("ends a line at a lone CR, as YAML, LSP and VS Code do", () => {
    const text = "ab\rcd\r\rxyz\r";
    const lines = new LineIndex(text);
    expect(lines.lineCount).toBe(5);
    expect(lines.lineStarts).toEqual([0, 3, 6, 7, 11]);
    expect(lines.positionAt(text.indexOf("c"))).toEqual({ line: 2, column: 1 });
    expect(lines.positionAt(text.indexOf("z"))).toEqual({ line: 4, column: 3 });
    expect(lines.positionAt(2)).toEqual({ line: 1, column: 3 }); // the CR stays on the line it ends
    for (let o = 0; o <= text.length; o++) {
      const p = lines.positionAt(o);
      expect(lines.offsetAt(p.line, p.column)).toBe(o);
    }
    expect(lines.offsetAt(2, 99)).toBe(5);
  });

  it("counts CRLF as one line break and the CR stays on the line it ends", () => {
    const text = "ab\r\ncd\r\n";
    const lines = new LineIndex(text);
    expect(lines.lineStarts).toEqual([0, 4, 8]);
    expect(lines.positionAt(2)).toEqual({ line: 1, column: 3 });
    expect(lines.positionAt(3)).toEqual({ line: 1, column: 4 });
    expect(lines.positionAt(4)).toEqual({ line: 2, column: 1 });
  });

  it("counts CRLF, LF and lone CR in one text", () => {
    const text = "a\r\nb\nc\rd\n\re\r\n\rf";
    const lines = new LineIndex(text);
    expect(lines.lineCount).toBe(8);
    expect(["a", "b", "c", "d", "e", "f"].map((ch) => lines.positionAt(text.indexOf(ch)).line)).toEqual([1, 2, 3, 4, 6, 8]);
    for (let o = 0; o <= text.length; o++) {
      const p = lines.positionAt(o);
      expect(lines.offsetAt(p.line, p.column)).toBe(o);
    }
  });

  it("finds line starts, line ends and lines the way LineIndex counts them", () => {
    const text = "a\r\nbb\ncc\rd\n\re";
    const lines = new LineIndex(text);
    expect(textLines(text)).toEqual(lines.lineStarts.map((start, i) => {
      const next = lines.lineStarts[i + 1];
      return { start, text: text.slice(start, next === undefined ? text.length : next).replace(/\r?\n$|\r$/, "") };
    }));
    for (let o = 0; o <= text.length; o++) {
      const line = lines.positionAt(o).line;
      expect(lineStartAt(text, o)).toBe(lines.lineStarts[line - 1]);
      const end = lineEndAt(text, o);
      expect(end === text.length || text[end] === "\r" || text[end] === "\n").toBe(true);
      if (o < end) expect(lines.positionAt(end).line).toBe(line);
    }
    expect(textLines("x\n")).toEqual([{ text: "x", start: 0 }, { text: "", start: 2 }]);
  });

  it("agrees with LineIndex on random mixes of CR, LF and CRLF (line start and end of every offset)", () => {
    let seed = 7;
    const rand = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
    for (let round = 0; round < 300; round++) {
      const text = Array.from({ length: rand(30) }, () => ["a", "b", "\r", "\n", "\r\n", " "][rand(6)]).join("");
      const lines = new LineIndex(text);
      for (let o = 0; o <= text.length; o++) {
        const line = lines.positionAt(o).line;
        expect(lineStartAt(text, o), JSON.stringify([text, o])).toBe(lines.lineStarts[line - 1]);
        const next = lines.lineStarts[line];
        const lineEnd = next === undefined ? text.length : next - (text.slice(0, next).endsWith("\r\n") ? 2 : 1);
        // an offset inside a CRLF (on its LF) ends its line there
        expect(lineEndAt(text, o), JSON.stringify([text, o])).toBe(o > lineEnd ? o : lineEnd);
      }
    }
  });

  it("turns each lone CR into LF for the YAML parser, keeping every offset", () => {
    expect(loneCrAsLf("a\rb\r\nc\r")).toBe("a\nb\r\nc\n");
    const plain = "a\nb";
    expect(loneCrAsLf(plain)).toBe(plain);
  });
});
