/**
 * The one owner of offset ↔ line/column conversion in the repository. It lives here, in the
 * lowest package, so that the envelope's error positions and core's diagnostics (which
 * re-exports it) count lines the same way. Offsets are 0-based UTF-16 code unit indexes into the
 * text (what JavaScript strings and the `yaml` package use); lines and columns are 1-based,
 * columns counted in UTF-16 code units (what diagnostics and error messages carry).
 */

/** A 0-based, end-exclusive range of UTF-16 offsets into a text. */
export interface TextRange {
  start: number;
  end: number;
}

/** A 1-based line and column. */
export interface Position {
  line: number;
  column: number;
}

/**
 * Line starts of one text, for fast conversions in both directions. `\n` ends a line; a `\r`
 * before it stays on the line it ends (so CRLF files convert the same as LF files).
 */
export class LineIndex {
  /** Offset of the first character of each line; `lineStarts[0]` is 0. */
  readonly lineStarts: number[];
  /** Length of the text the index was built from. */
  readonly length: number;

  constructor(text: string) {
    const starts = [0];
    let i = text.indexOf("\n");
    while (i !== -1) {
      starts.push(i + 1);
      i = text.indexOf("\n", i + 1);
    }
    this.lineStarts = starts;
    this.length = text.length;
  }

  /** Number of lines (a text ending in `\n` has an empty last line). */
  get lineCount(): number {
    return this.lineStarts.length;
  }

  /** The 1-based line and column of `offset` (clamped to the text). */
  positionAt(offset: number): Position {
    const o = Math.max(0, Math.min(offset, this.length));
    const starts = this.lineStarts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] as number) <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: o - (starts[lo] as number) + 1 };
  }

  /** The offset of a 1-based line and column (clamped to the text; a column past the end of the line clamps to it). */
  offsetAt(line: number, column: number): number {
    if (line < 1) return 0;
    if (line > this.lineStarts.length) return this.length;
    const start = this.lineStarts[line - 1] as number;
    const next = line < this.lineStarts.length ? (this.lineStarts[line] as number) - 1 : this.length;
    return Math.min(start + Math.max(0, column - 1), next);
  }

  /** Both ends of a range as 1-based positions. */
  rangeToPositions(range: TextRange): { start: Position; end: Position } {
    return { start: this.positionAt(range.start), end: this.positionAt(range.end) };
  }
}
