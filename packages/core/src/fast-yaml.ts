/**
 * A fast reader for the plain YAML that agent config files are written in: block mappings and
 * sequences, one-line flow collections, plain / single-quoted / simple double-quoted string
 * scalars, small decimal ints in block context (`version: 1`), comments, `---` separators. It builds the same `yaml` nodes (with the same ranges)
 * and the same plain values as `yaml`'s parser would, about ten times faster. For anything
 * else (anchors, tags, block scalars, multi-line scalars or flow collections, numbers, booleans,
 * nulls, escapes, duplicate keys, tabs, CR, odd indentation...) it gives up and returns
 * undefined, and the caller uses `yaml` itself. A differential test (fast-yaml.test.ts) checks it
 * against `yaml` on every fixture and on generated variations.
 */
import { Pair, Scalar, YAMLMap, YAMLSeq, type Node } from "yaml";

// Nodes made cheaply. yaml's constructors mark each node with Object.defineProperty (its type
// under a symbol), a slow call that also makes every node a costly object; thousands of files
// make millions of nodes. The nodes here are built by small constructors whose prototype is the
// yaml class's own prototype extended with that type: yaml's guards (isMap, isScalar...) read the
// type through the prototype chain, `instanceof` and every method still work, and the fields the
// parser sets (value, type, source, items, flow, range) are the same.
// (When a yaml release lays its nodes out otherwise, the factories fall back to yaml's constructors.)
const SAMPLES = { scalar: new Scalar(null), pair: new Pair(null), map: new YAMLMap(), seq: new YAMLSeq() };
/** The one own symbol-keyed property of a yaml node is its type (yaml's NODE_TYPE, not exported). */
const LIGHT = Object.values(SAMPLES).every((n) => Object.getOwnPropertySymbols(n).length === 1);
function typed(sample: object): object {
  const key = Object.getOwnPropertySymbols(sample)[0] as symbol;
  return Object.create(Object.getPrototypeOf(sample) as object, { [key]: { value: (sample as Record<symbol, unknown>)[key] } }) as object;
}
type Range3 = [number, number, number];
class LightScalar {
  value: unknown;
  type: Scalar.Type;
  range: Range3;
  constructor(value: unknown, type: Scalar.Type, range: Range3) {
    this.value = value;
    this.type = type;
    this.range = range;
  }
}
class LightPair {
  key: Node;
  value: Node;
  constructor(key: Node, value: Node) {
    this.key = key;
    this.value = value;
  }
}
class LightCollection {
  items: unknown[] = [];
  flow: boolean | undefined;
  range: Range3 | undefined = undefined;
  constructor(flow: boolean | undefined) {
    this.flow = flow;
  }
}
class LightMap extends LightCollection {}
class LightSeq extends LightCollection {}
if (LIGHT) {
  Object.setPrototypeOf(LightScalar.prototype, typed(SAMPLES.scalar));
  Object.setPrototypeOf(LightPair.prototype, typed(SAMPLES.pair));
  Object.setPrototypeOf(LightMap.prototype, typed(SAMPLES.map));
  Object.setPrototypeOf(LightSeq.prototype, typed(SAMPLES.seq));
}
const scalar = LIGHT
  ? (value: unknown, type: Scalar.Type, range: Range3): Scalar => new LightScalar(value, type, range) as unknown as Scalar
  : (value: unknown, type: Scalar.Type, range: Range3): Scalar => Object.assign(new Scalar(value), { type, range });
const pair = LIGHT ? (key: Node, value: Node): Pair => new LightPair(key, value) as unknown as Pair : (key: Node, value: Node): Pair => new Pair(key, value);
const newMap = LIGHT
  ? (flow?: true): YAMLMap => new LightMap(flow) as unknown as YAMLMap
  : (flow?: true): YAMLMap => Object.assign(new YAMLMap(), flow === true ? { flow } : {});
const newSeq = LIGHT
  ? (flow?: true): YAMLSeq => new LightSeq(flow) as unknown as YAMLSeq
  : (flow?: true): YAMLSeq => Object.assign(new YAMLSeq(), flow === true ? { flow } : {});

/** One document read by {@link parseSimpleYaml}. */
export interface SimpleDocument {
  contents: Node;
  /** The plain value (what `doc.toJS()` gives). */
  value: unknown;
}

interface Line {
  indent: number;
  start: number;
  end: number;
  next: number;
}

class GiveUp {}
const GIVE_UP = new GiveUp();

interface Parsed {
  node: Node;
  value: unknown;
  /** Offset just after the node's text. */
  end: number;
}

/** Characters of a plain key: A-Z a-z 0-9 _ . $ / space - */
function isKeyChar(c: number): boolean {
  return (
    (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 45 || c === 46 || c === 32 || c === 36 || c === 47
  );
}
/** Plain scalars that the YAML 1.2 core schema reads as something else than a string (null, bool, int, float). */
const NOT_STRING =
  /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|<<)$/;

/** Decimal ints of up to 15 digits, no sign or leading zero: exactly the numbers yaml reads from them. */
const SMALL_INT = /^(?:0|[1-9][0-9]{0,14})$/;

/**
 * `NOT_STRING.test(s)` for a non-empty `s`, without running the regex for most keys and values:
 * of its words, only null / true / false (4 or 5 letters) start with a letter, so a longer
 * text that starts with a letter or `_` is a string.
 */
function notString(s: string): boolean {
  const c = s.charCodeAt(0);
  if (((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95) && s.length > 5) return false;
  return NOT_STRING.test(s);
}

/**
 * The deepest nesting the fast reader reads before the nesting scan: half the bound
 * (`MAX_YAML_DEPTH`, 64), a margin over the scan's count for the fast reader's layouts
 * (equal to the collections' depth there). Deeper texts go through the scan first (config files, the catalog).
 */
export const FAST_MAX_DEPTH = 32;

/**
 * Collections open around the node being read, and the most it may reach before the reader gives
 * up ({@link parseSimpleYaml}'s `maxDepth`). Counted on entering and leaving each collection; a
 * give-up leaves them as they were, and the next call resets them.
 */
let depth = 0;
let depthLimit = Infinity;

function enter(): void {
  if (++depth > depthLimit) throw GIVE_UP;
}

/**
 * Reads `text` if it uses only the simple subset, else returns undefined (then use `yaml`).
 * `maxDepth`: give up (undefined) when collections (block or flow) nest deeper than this; the
 * result then says that the text nests no deeper (a top-level mapping is depth 1).
 */
export function parseSimpleYaml(text: string, maxDepth = Infinity): SimpleDocument[] | undefined {
  if (text.includes("\r") || text.includes("\t") || text.charCodeAt(0) === 0xfeff) return undefined;
  depth = 0;
  depthLimit = maxDepth;
  try {
    return parseAll(text);
  } catch (e) {
    if (e === GIVE_UP) return undefined;
    throw e;
  }
}

function parseAll(text: string): SimpleDocument[] {
  const sections: Line[][] = [[]];
  let pos = 0;
  const n = text.length;
  while (pos < n) {
    let end = text.indexOf("\n", pos);
    if (end === -1) end = n;
    const next = end === n ? n : end + 1;
    let s = pos;
    while (s < end && text.charCodeAt(s) === 32) s++;
    if (s < end && text.charCodeAt(s) === 35 && s > pos) throw GIVE_UP; // an indented comment line: yaml may count it in ranges
    if (s < end && text.charCodeAt(s) !== 35 /* # */) {
      if (s === pos && (text.startsWith("---", pos) || text.startsWith("...", pos) || text.charCodeAt(pos) === 37 /* % */)) {
        if (text.startsWith("---", pos) && (end === pos + 3 || text.charCodeAt(pos + 3) === 32)) {
          let t = pos + 3;
          while (t < end && text.charCodeAt(t) === 32) t++;
          if (t < end && text.charCodeAt(t) !== 35) throw GIVE_UP; // content after ---
          sections.push([]);
          pos = next;
          continue;
        }
        if (!text.startsWith("---", pos)) throw GIVE_UP;
      }
      (sections[sections.length - 1] as Line[]).push({ indent: s - pos, start: s, end, next });
    }
    pos = next;
  }
  const docs: SimpleDocument[] = [];
  sections.forEach((lines, i) => {
    if (lines.length === 0) {
      if (i === 0) return; // comments before the first ---
      throw GIVE_UP; // an empty document
    }
    const first = lines[0] as Line;
    if (first.indent !== 0) throw GIVE_UP;
    const p = { text, lines, i: 0 };
    const r = parseBlock(p, 0);
    if (p.i !== lines.length) throw GIVE_UP;
    docs.push({ contents: r.node, value: r.value });
  });
  return docs;
}

interface State {
  text: string;
  lines: Line[];
  i: number;
}

function isSeqLine(text: string, line: Line): boolean {
  return text.charCodeAt(line.start) === 45 /* - */ && (line.start + 1 === line.end || text.charCodeAt(line.start + 1) === 32);
}

function parseBlock(p: State, indent: number): Parsed {
  const line = p.lines[p.i] as Line;
  return isSeqLine(p.text, line) ? parseSeq(p, indent) : parseMap(p, indent);
}

/** After a value on one line: only spaces and a comment may follow. Returns the line's `next`. */
function endOfLine(text: string, at: number, line: Line): void {
  let j = at;
  while (j < line.end && text.charCodeAt(j) === 32) j++;
  if (j < line.end && !(text.charCodeAt(j) === 35 && j > at)) throw GIVE_UP;
}

function setEnd(node: Node, end2: number): void {
  (node.range as [number, number, number])[2] = end2;
}

function parseMap(p: State, indent: number): Parsed {
  const { text, lines } = p;
  enter();
  const map = newMap();
  const value: Record<string, unknown> = {};
  const first = (lines[p.i] as Line).start;
  let last = first;
  while (p.i < lines.length) {
    const line = lines[p.i] as Line;
    if (line.indent < indent) break;
    if (line.indent > indent || isSeqLine(text, line)) throw GIVE_UP;
    const key = parseKey(text, line.start, line.end, false);
    if (Object.prototype.hasOwnProperty.call(value, key.value as string)) throw GIVE_UP;
    let vs = key.end + 1; // after ':'
    while (vs < line.end && text.charCodeAt(vs) === 32) vs++;
    let item: Parsed;
    if (vs === line.end || text.charCodeAt(vs) === 35) {
      if (vs < line.end && text.charCodeAt(vs - 1) !== 32) throw GIVE_UP;
      p.i++;
      const next = lines[p.i];
      if (next !== undefined && next.indent > indent) item = parseBlock(p, next.indent);
      else if (next !== undefined && next.indent === indent && isSeqLine(text, next)) item = parseSeq(p, indent);
      else throw GIVE_UP; // a null value
    } else {
      item = parseInline(text, vs, line.end, false);
      endOfLine(text, item.end, line);
      setEnd(item.node, line.next);
      p.i++;
      const next = lines[p.i];
      if (next !== undefined && next.indent > indent) throw GIVE_UP; // continuation lines
    }
    map.items.push(pair(key.node, item.node));
    value[key.value as string] = item.value;
    last = (item.node.range as [number, number, number])[2];
  }
  map.range = [first, last, last];
  depth--;
  return { node: map, value, end: last };
}

function parseSeq(p: State, indent: number): Parsed {
  const { text, lines } = p;
  enter();
  const seq = newSeq();
  const value: unknown[] = [];
  const first = (lines[p.i] as Line).start;
  let last = first;
  while (p.i < lines.length) {
    const line = lines[p.i] as Line;
    if (line.indent < indent) break;
    if (line.indent > indent) throw GIVE_UP;
    if (!isSeqLine(text, line)) break;
    let rs = line.start + 1;
    while (rs < line.end && text.charCodeAt(rs) === 32) rs++;
    if (rs === line.end || text.charCodeAt(rs) === 35) throw GIVE_UP; // empty item or nested block
    if (text.charCodeAt(rs) === 45 && (rs + 1 === line.end || text.charCodeAt(rs + 1) === 32)) throw GIVE_UP; // - - x
    let item: Parsed;
    if (looksLikeKey(text, rs, line.end)) {
      const column = rs - (line.start - line.indent);
      lines[p.i] = { indent: column, start: rs, end: line.end, next: line.next };
      item = parseMap(p, column);
    } else {
      item = parseInline(text, rs, line.end, false);
      endOfLine(text, item.end, line);
      setEnd(item.node, line.next);
      p.i++;
      const next = lines[p.i];
      if (next !== undefined && next.indent > indent) throw GIVE_UP;
    }
    seq.items.push(item.node);
    value.push(item.value);
    last = (item.node.range as [number, number, number])[2];
  }
  seq.range = [first, last, last];
  depth--;
  return { node: seq, value, end: last };
}

/** True when a `key:` starts at `s` (a simple key followed by `: ` or `:` at the end of the line). */
function looksLikeKey(text: string, s: number, end: number): boolean {
  const c = text.charCodeAt(s);
  if (c === 34 || c === 39) {
    const q = text.indexOf(text[s] as string, s + 1);
    return q !== -1 && q < end && text.charCodeAt(q + 1) === 58 && (q + 2 === end || text.charCodeAt(q + 2) === 32);
  }
  let j = s;
  while (j < end && isKeyChar(text.charCodeAt(j))) j++;
  return j > s && j < end && text.charCodeAt(j) === 58 && (j + 1 === end || text.charCodeAt(j + 1) === 32);
}

/** A mapping key at `s`; `end` of the result is the offset of its `:`. */
function parseKey(text: string, s: number, end: number, flow: boolean): { node: Scalar; value: unknown; end: number } {
  const c = text.charCodeAt(s);
  let node: Scalar;
  let colon: number;
  if (c === 34 || c === 39) {
    const q = parseQuoted(text, s, end);
    node = q.node as Scalar;
    colon = q.end;
    (node.range as [number, number, number])[2] = colon;
  } else {
    let j = s;
    while (j < end && isKeyChar(text.charCodeAt(j))) j++;
    if (j === s || text.charCodeAt(j - 1) === 32) throw GIVE_UP;
    const key = text.slice(s, j);
    if (notString(key) || key === "__proto__" || key.startsWith("-") || key.includes(" #")) throw GIVE_UP;
    node = scalar(key, Scalar.PLAIN, [s, j, j]);
    colon = j;
  }
  if (text.charCodeAt(colon) !== 58) throw GIVE_UP;
  const after = colon + 1;
  if (!(after === end || text.charCodeAt(after) === 32) && !(flow && after < end && text.charCodeAt(after) === 32)) throw GIVE_UP;
  if (node.value === "__proto__") throw GIVE_UP;
  return { node, value: node.value, end: colon };
}

function parseQuoted(text: string, s: number, end: number): Parsed {
  const c = text[s] as string;
  let value: string;
  let close: number;
  if (c === '"') {
    close = text.indexOf('"', s + 1);
    if (close === -1 || close >= end) throw GIVE_UP;
    value = text.slice(s + 1, close);
    if (value.includes("\\")) throw GIVE_UP;
  } else {
    let j = s + 1;
    for (;;) {
      const k = text.indexOf("'", j);
      if (k === -1 || k >= end) throw GIVE_UP;
      if (text.charCodeAt(k + 1) === 39) {
        j = k + 2;
        continue;
      }
      close = k;
      break;
    }
    value = text.slice(s + 1, close).replace(/''/g, "'");
  }
  const node = scalar(value, c === '"' ? Scalar.QUOTE_DOUBLE : Scalar.QUOTE_SINGLE, [s, close + 1, close + 1]);
  return { node, value, end: close + 1 };
}

function skipSpaces(text: string, j: number, end: number): number {
  while (j < end && text.charCodeAt(j) === 32) j++;
  return j;
}

function parseInline(text: string, s: number, end: number, flow: boolean): Parsed {
  const c = text.charCodeAt(s);
  if (c === 34 || c === 39) return parseQuoted(text, s, end);
  if (c === 91 /* [ */) return parseFlowSeq(text, s, end);
  if (c === 123 /* { */) return parseFlowMap(text, s, end);
  // indicators that start something outside the subset
  if ("&*!|>%@`,]}#".includes(text[s] as string)) throw GIVE_UP;
  if ((c === 45 || c === 63 || c === 58) && (s + 1 === end || text.charCodeAt(s + 1) === 32)) throw GIVE_UP;
  let j = s;
  let stop = end;
  for (; j < end; j++) {
    const ch = text.charCodeAt(j);
    if (ch === 35 && text.charCodeAt(j - 1) === 32) {
      stop = j;
      break;
    }
    if (ch === 58 && (j + 1 === end || text.charCodeAt(j + 1) === 32 || (flow && ",]}".includes(text[j + 1] as string)))) throw GIVE_UP;
    if (flow && (ch === 44 || ch === 93 || ch === 125)) {
      stop = j;
      break;
    }
    if (flow && (ch === 91 || ch === 123)) throw GIVE_UP;
  }
  if (flow && stop === end) throw GIVE_UP; // a flow collection must close on this line
  let e = stop;
  while (e > s && text.charCodeAt(e - 1) === 32) e--;
  const raw = text.slice(s, e);
  const first = raw.charCodeAt(0);
  if (!flow && first >= 48 && first <= 57 && SMALL_INT.test(raw)) {
    // `version: 1`: a decimal int is read as yaml reads it (number value, source kept)
    const int = scalar(Number(raw), Scalar.PLAIN, [s, e, e]);
    int.source = raw;
    return { node: int, value: int.value, end: e };
  }
  if (raw === "" || notString(raw)) throw GIVE_UP;
  const node = scalar(raw, Scalar.PLAIN, [s, e, e]);
  return { node, value: raw, end: e };
}

function parseFlowSeq(text: string, s: number, end: number): Parsed {
  enter();
  const seq = newSeq(true);
  const value: unknown[] = [];
  let j = skipSpaces(text, s + 1, end);
  if (text.charCodeAt(j) === 93) {
    j++;
  } else {
    for (;;) {
      j = skipSpaces(text, j, end);
      if (j >= end) throw GIVE_UP;
      const item = parseInline(text, j, end, true);
      seq.items.push(item.node);
      value.push(item.value);
      j = skipSpaces(text, item.end, end);
      const ch = text.charCodeAt(j);
      if (ch === 44) {
        j = skipSpaces(text, j + 1, end);
        if (text.charCodeAt(j) === 93) throw GIVE_UP;
        continue;
      }
      if (ch === 93) {
        j++;
        break;
      }
      throw GIVE_UP;
    }
  }
  seq.range = [s, j, j];
  depth--;
  return { node: seq, value, end: j };
}

function parseFlowMap(text: string, s: number, end: number): Parsed {
  enter();
  const map = newMap(true);
  const value: Record<string, unknown> = {};
  let j = skipSpaces(text, s + 1, end);
  if (text.charCodeAt(j) === 125) {
    j++;
  } else {
    for (;;) {
      j = skipSpaces(text, j, end);
      if (j >= end) throw GIVE_UP;
      const key = parseKey(text, j, end, true);
      if (Object.prototype.hasOwnProperty.call(value, key.value as string)) throw GIVE_UP;
      const vs = skipSpaces(text, key.end + 1, end);
      const vc = text.charCodeAt(vs);
      if (vs >= end || vc === 44 || vc === 125) throw GIVE_UP; // a null value
      const item = parseInline(text, vs, end, true);
      map.items.push(pair(key.node, item.node));
      value[key.value as string] = item.value;
      j = skipSpaces(text, item.end, end);
      const ch = text.charCodeAt(j);
      if (ch === 44) {
        j = skipSpaces(text, j + 1, end);
        if (text.charCodeAt(j) === 125) throw GIVE_UP;
        continue;
      }
      if (ch === 125) {
        j++;
        break;
      }
      throw GIVE_UP;
    }
  }
  map.range = [s, j, j];
  depth--;
  return { node: map, value, end: j };
}
