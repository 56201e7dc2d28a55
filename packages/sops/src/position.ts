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
 * Line starts of one text, for fast conversions in both directions. As in YAML, LSP and VS Code,
 * `\r\n`, `\n` and a lone `\r` each end a line; the `\r` of a `\r\n` stays on the line it ends
 * (so CRLF files convert the same as LF files).
 */
export class LineIndex {
  /** Offset of the first character of each line; `lineStarts[0]` is 0. */
  readonly lineStarts: number[];
  /** Length of the text the index was built from. */
  readonly length: number;

  constructor(text: string) {
    const starts = [0];
    if (text.indexOf("\r") === -1) {
      // the hot path (thousands of files per check): no per-character work
      let i = text.indexOf("\n");
      while (i !== -1) {
        starts.push(i + 1);
        i = text.indexOf("\n", i + 1);
      }
    } else {
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) starts.push(i + 1);
      }
    }
    this.lineStarts = starts;
    this.length = text.length;
  }

  /** Number of lines (a text ending in a line break has an empty last line). */
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

/**
 * The offset of the end of the line that holds `offset`: of the first `\n` or `\r` at or after it,
 * or the text's length. Line breaks as in {@link LineIndex}.
 */
export function lineEndAt(text: string, offset: number): number {
  const lf = text.indexOf("\n", offset);
  const end = lf === -1 ? text.length : lf;
  // a CR is looked for on this line only: searching the rest of the text for one would make a
  // caller that walks the lines (the comment scan of every config file) quadratic in an LF file
  for (let i = offset; i < end; i++) if (text.charCodeAt(i) === 13) return i;
  return end;
}

/** The offset of the start of the line that holds `offset` (just after the line break before it). Line breaks as in {@link LineIndex}. */
export function lineStartAt(text: string, offset: number): number {
  if (offset <= 0) return 0;
  const lf = text.lastIndexOf("\n", offset - 1);
  // a CR is looked for on this line only (between the LF before it and `offset`), as in lineEndAt;
  // the `\r` of a `\r\n` whose `\n` is at `offset` ends no line before it
  for (let i = offset - 1; i > lf; i--) {
    if (text.charCodeAt(i) === 13 && !(i === offset - 1 && text.charCodeAt(offset) === 10)) return i + 1;
  }
  return lf + 1;
}

/**
 * The lines of `text` without their line breaks, each with the offset where it starts. Line
 * breaks as in {@link LineIndex} (`\r\n`, `\n`, lone `\r`); a text ending in a line break has an
 * empty last line.
 */
export function textLines(text: string): { text: string; start: number }[] {
  const out: { text: string; start: number }[] = [];
  const re = /\r\n?|\n/g;
  let start = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    out.push({ text: text.slice(start, m.index), start });
    start = m.index + m[0].length;
  }
  out.push({ text: text.slice(start), start });
  return out;
}

/** A kind of line break: `\n`, `\r\n` or a lone `\r`. */
export type LineBreak = "\n" | "\r\n" | "\r";

/**
 * The line break a text is written with: its first line break's kind (`\n` when it has none). A
 * writer writes every line with it, so a file saved with CRLF (a Windows checkout with
 * `core.autocrlf=false`) stays CRLF and `git diff` shows only the lines that changed; a file that
 * mixes kinds is written with its first one throughout. Reads the first line only.
 */
export function lineBreakOf(text: string): LineBreak {
  const end = lineEndAt(text, 0);
  if (text.charCodeAt(end) !== 13) return "\n";
  return text.charCodeAt(end + 1) === 10 ? "\r\n" : "\r";
}

/**
 * `text` (written with `\n` only) with each `\n` turned into `lineBreak`. Returns `text` itself
 * for `\n`.
 */
export function withLineBreak(text: string, lineBreak: LineBreak): string {
  return lineBreak === "\n" ? text : text.replace(/\n/g, lineBreak);
}

/**
 * `text` with each lone `\r` (one not followed by `\n`) turned into `\n`. YAML counts a lone `\r`
 * as a line break (as sops' parser does) but the `yaml` package does not; parse this instead of
 * the text itself. It has the same length, so every offset the parser gives is an offset into the
 * original text, and {@link LineIndex} of the original converts it. Returns `text` itself when it
 * holds no `\r`.
 */
export function loneCrAsLf(text: string): string {
  return text.indexOf("\r") === -1 ? text : text.replace(/\r(?!\n)/g, "\n");
}
