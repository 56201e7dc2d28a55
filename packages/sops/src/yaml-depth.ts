/**
 * A bound on YAML nesting, checked on the text before any parser or tree walk sees it. The
 * `yaml` parser and every walk over its trees (schema validation, reference indexing, `toJS`)
 * recurse once per level, so a few thousand nested `[` or indented keys exhaust the stack
 * ("Maximum call stack size exceeded"). Every place that reads YAML (core's config, stellar.yaml,
 * catalog and `.sops.yaml` parsers, the envelope's readers, the resolver through them) checks
 * {@link findExcessiveNesting} first and reports the file instead.
 */
import { SopsError } from "./errors.js";
import { LineIndex } from "./position.js";

/**
 * Deepest nesting of collections (mappings and sequences, block or flow) accepted in any YAML
 * or JSON file the project reads: 64. The deepest real file (an agent config) nests about 6.
 */
export const MAX_YAML_DEPTH = 64;

/** Where a text first nests deeper than the bound. */
export interface ExcessiveNesting {
  /** The depth reached there (the first level over the bound). */
  depth: number;
  /** Offset of the line's first character, or of the opening bracket that went over. */
  offset: number;
  /** 1-based line and column of `offset`. */
  line: number;
  column: number;
}

const FLOW_OPEN = 0x5b; // [
const MAP_OPEN = 0x7b; // {
const FLOW_CLOSE = 0x5d; // ]
const MAP_CLOSE = 0x7d; // }

/**
 * The first place where `text` nests collections deeper than `max` levels, or undefined.
 * Iterative and linear in the text; never throws. It counts conservatively (an estimate that can
 * only be higher than the parser's depth for the layouts people write: block indentation levels,
 * compact `- -` sequences, flow brackets outside quotes and comments; block scalars are skipped),
 * so a file it accepts never makes a recursive walk go deeper than about `max` levels.
 */
export function findExcessiveNesting(text: string, max: number = MAX_YAML_DEPTH): ExcessiveNesting | undefined {
  const indents: number[] = [];
  const sequences: boolean[] = [];
  let flow = 0;
  // open flow collections (their bracket) and whether each sequence holds an implicit `key: value` entry now
  const kinds: number[] = [];
  const pairs: boolean[] = [];
  let implicitPairs = 0;
  let quote = 0; // 0, or the char code of the open quote
  let blockScalarIndent = -1;
  let found: number | undefined;
  let foundDepth = 0;
  const over = (offset: number, depth: number): boolean => {
    if (depth > max) {
      found = offset;
      foundDepth = depth;
      return true;
    }
    return false;
  };
  let pos = 0;
  const n = text.length;
  while (pos < n && found === undefined) {
    let end = text.indexOf("\n", pos);
    if (end < 0) end = n;
    let i = pos;
    let indent = 0;
    while (i < end && text.charCodeAt(i) === 0x20) i++;
    indent = i - pos;
    const blank = i >= end || text.charCodeAt(i) === 0x0d || (quote === 0 && text.charCodeAt(i) === 0x23);
    if (blockScalarIndent >= 0) {
      if (blank || indent > blockScalarIndent) {
        pos = end + 1;
        continue;
      }
      blockScalarIndent = -1;
    }
    if (blank) {
      pos = end + 1;
      continue;
    }
    // the token before the current character, to tell a value's start from the middle of a plain scalar
    let atValueStart = false;
    let keyColumn = -1;
    if (quote === 0 && flow === 0) {
      if (indent === 0 && (text.startsWith("---", i) || text.startsWith("...", i))) {
        indents.length = 0;
        sequences.length = 0;
        i += 3;
      } else {
        // a sequence may sit at its parent key's indentation (`key:` then `- item`): one level more
        const dash = text.charCodeAt(i) === 0x2d && (i + 1 >= end || isSpace(text.charCodeAt(i + 1)));
        while (indents.length > 0 && ((indents[indents.length - 1] as number) > indent || ((indents[indents.length - 1] as number) === indent && !dash))) {
          indents.pop();
          sequences.pop();
        }
        const top = indents.length - 1;
        if (!(dash && top >= 0 && indents[top] === indent && sequences[top] === true)) {
          indents.push(indent);
          sequences.push(dash);
        }
        if (over(pos, indents.length)) break;
      }
      atValueStart = true;
    }
    for (; i < end; i++) {
      const c = text.charCodeAt(i);
      if (quote !== 0) {
        if (c === quote) {
          if (quote === 0x27 && text.charCodeAt(i + 1) === 0x27) i++;
          else quote = 0;
        } else if (c === 0x5c && quote === 0x22) i++;
        continue;
      }
      if (c === 0x20 || c === 0x09 || c === 0x0d) continue;
      if (c === 0x23 && (i === pos || text.charCodeAt(i - 1) === 0x20 || text.charCodeAt(i - 1) === 0x09)) break; // a comment
      if (flow > 0) {
        if (c === FLOW_OPEN || c === MAP_OPEN) {
          flow++;
          kinds.push(c);
          pairs.push(false);
          if (over(i, indents.length + flow + implicitPairs)) break;
        } else if (c === FLOW_CLOSE || c === MAP_CLOSE) {
          flow--;
          kinds.pop();
          if (pairs.pop() === true) implicitPairs--;
          if (flow === 0) atValueStart = false;
        } else if (c === 0x2c) {
          // `,` ends an implicit `key: value` entry of a flow sequence
          if (pairs[pairs.length - 1] === true) {
            pairs[pairs.length - 1] = false;
            implicitPairs--;
          }
        } else if (c === 0x3a && kinds[kinds.length - 1] === FLOW_OPEN && pairs[pairs.length - 1] === false && (i + 1 >= end || isSpace(text.charCodeAt(i + 1)) || text.charCodeAt(i + 1) === 0x2c || text.charCodeAt(i + 1) === FLOW_CLOSE)) {
          // `[a: b]`: a single-pair mapping inside the sequence, one level more
          pairs[pairs.length - 1] = true;
          implicitPairs++;
          if (over(i, indents.length + flow + implicitPairs)) break;
        } else if (c === 0x22 || c === 0x27) {
          const prev = previousToken(text, i, pos);
          if (prev === -1 || prev === FLOW_OPEN || prev === MAP_OPEN || prev === 0x2c || prev === 0x3a) quote = c;
        }
        continue;
      }
      if (!atValueStart) {
        // inside a plain scalar or key: look for the `: ` that starts a value
        if (c === 0x3a && (i + 1 >= end || isSpace(text.charCodeAt(i + 1)))) {
          atValueStart = true;
          if (keyColumn > indent) {
            // `- key: value`: a mapping inside the sequence item, one level more
            indents.push(keyColumn);
            sequences.push(false);
            keyColumn = -1;
            if (over(i, indents.length)) break;
          }
        }
        continue;
      }
      // at the start of a node in block context
      if ((c === 0x2d || c === 0x3f || c === 0x3a) && (i + 1 >= end || isSpace(text.charCodeAt(i + 1)))) {
        // `- ` / `? ` / `: ` indicators: a compact nested collection starts after them
        if (c !== 0x3a) {
          const col = i - pos;
          if (col > indent) {
            indents.push(col);
            sequences.push(c === 0x2d);
            if (over(i, indents.length)) break;
          }
        }
        continue;
      }
      if (c === FLOW_OPEN || c === MAP_OPEN) {
        flow = 1;
        kinds.length = 0;
        pairs.length = 0;
        implicitPairs = 0;
        kinds.push(c);
        pairs.push(false);
        if (over(i, indents.length + flow)) break;
        continue;
      }
      if (c === 0x7c || c === 0x3e) {
        // a block scalar: its lines are more indented than this line
        blockScalarIndent = indent;
        break;
      }
      if (c === 0x22 || c === 0x27) {
        quote = c;
        atValueStart = false;
        keyColumn = i - pos;
        continue;
      }
      if (c === 0x26 || c === 0x21) {
        // an anchor or a tag before the node: skip the word
        while (i + 1 < end && !isSpace(text.charCodeAt(i + 1))) i++;
        continue;
      }
      atValueStart = false;
      keyColumn = i - pos;
    }
    pos = end + 1;
  }
  if (found === undefined) return undefined;
  const p = new LineIndex(text).positionAt(found);
  return { depth: foundDepth, offset: found, line: p.line, column: p.column };
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

/** The char code of the last non-blank character before `i` on its line (from `lineStart`), or -1. */
function previousToken(text: string, i: number, lineStart: number): number {
  for (let j = i - 1; j >= lineStart; j--) {
    const c = text.charCodeAt(j);
    if (!isSpace(c)) return c;
  }
  return -1;
}

/** The message every reader gives for {@link ExcessiveNesting} (no file name: callers add it). */
export function excessiveNestingMessage(e: ExcessiveNesting, max: number = MAX_YAML_DEPTH): string {
  return `nested deeper than ${max} levels (lists or mappings inside each other, from line ${e.line}); the file was not read: flatten it`;
}

/**
 * Throws MALFORMED_FILE (with the line) when `text` nests deeper than {@link MAX_YAML_DEPTH};
 * `lineOffset` is added to the line when `text` is a slice of the file. The envelope's readers
 * call it before parsing.
 * @throws SopsError MALFORMED_FILE
 */
export function assertNestingBound(text: string, file: string | undefined, lineOffset = 0): void {
  const found = findExcessiveNesting(text);
  if (found === undefined) return;
  throw new SopsError("MALFORMED_FILE", excessiveNestingMessage({ ...found, line: found.line + lineOffset }), {
    file,
    line: found.line + lineOffset,
    column: found.column,
    hint: "restore the file from git",
  });
}
