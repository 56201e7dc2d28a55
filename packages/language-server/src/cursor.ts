/**
 * Where the cursor is in a YAML config file, for completion: which key's value (or which list's
 * item) is being typed, and the document's `kind`. Line-based on purpose: it has to work on
 * half-typed text that no YAML parser accepts (`secret: str|`, `environments: [stag|`).
 */
import { loneCrAsLf } from "@stellar-secrets/core";

/** The completion context at one offset. */
export interface CursorContext {
  /** `kind` of the YAML document holding the cursor, when it has one. */
  kind: string | undefined;
  /** What is typed: a mapping key, the value of `key`, or an item of the list under `key`. */
  slot: { type: "key"; parent: string | undefined; indent: number } | { type: "value" | "item"; key: string; parent: string | undefined };
  /** The word being typed: its start/end offsets and its text so far. */
  word: { start: number; end: number; text: string };
  /** Keys already present in the mapping the cursor is in (key slots only, same indent). */
  siblingKeys: string[];
}

const WORD = /[A-Za-z0-9_.@-]/;

function lineBounds(text: string, offset: number): { start: number; end: number } {
  const start = text.lastIndexOf("\n", offset - 1) + 1;
  let end = text.indexOf("\n", offset);
  if (end === -1) end = text.length;
  return { start, end };
}

function documentKind(text: string, offset: number): string | undefined {
  // The document is delimited by `---` lines.
  const sep = /^---\s*$/gm;
  let docStart = 0;
  let docEnd = text.length;
  for (let m = sep.exec(text); m !== null; m = sep.exec(text)) {
    if (m.index < offset) docStart = m.index + m[0].length;
    else {
      docEnd = m.index;
      break;
    }
  }
  const doc = text.slice(docStart, docEnd);
  const k = /^kind:[ \t]*["']?([A-Za-z_]+)["']?[ \t]*(?:#.*)?$/m.exec(doc);
  return k?.[1];
}

/**
 * The key whose value holds a position indented by `indent` at `lineStart`: the nearest key above
 * whose column is smaller. A list item (`- name: x`) on the way is a sibling mapping, not the
 * parent: the parent of its sequence sits at the dash's column or left of it.
 */
function parentKey(text: string, lineStart: number, indent: number): { key: string; indent: number } | undefined {
  let bound = indent;
  let pos = lineStart;
  while (pos > 0) {
    const prevStart = text.lastIndexOf("\n", pos - 2) + 1;
    const line = text.slice(prevStart, pos - 1);
    pos = prevStart;
    if (/^\s*(#.*)?$/.test(line)) continue;
    if (/^---/.test(line)) return undefined;
    const lineIndent = /^\s*/.exec(line)?.[0].length ?? 0;
    const m = /^(\s*)(-\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*:/.exec(line);
    const dash = /^\s*-(\s|$)/.test(line);
    if (dash) {
      const keyCol = m ? lineIndent + (m[2]?.length ?? 0) : undefined;
      if (keyCol !== undefined && keyCol < bound) return { key: m![3] as string, indent: keyCol };
      if (lineIndent < bound) bound = lineIndent + 1; // the sequence's key is at the dash's column or left of it
      continue;
    }
    if (m && lineIndent < bound) return { key: m[3] as string, indent: lineIndent };
    if (lineIndent === 0) return undefined;
  }
  return undefined;
}

function siblingKeys(text: string, lineStart: number, indent: number): string[] {
  const keys: string[] = [];
  const re = new RegExp(`^(?:[ ]{${indent}}|[ ]{${Math.max(0, indent - 2)}}- )([A-Za-z_][A-Za-z0-9_]*)\\s*:`);
  // walk up and down while lines stay at least as indented
  for (const dir of [-1, 1] as const) {
    let pos = lineStart;
    for (;;) {
      let s: number;
      let e: number;
      if (dir === -1) {
        if (pos === 0) break;
        s = text.lastIndexOf("\n", pos - 2) + 1;
        e = pos - 1;
      } else {
        const nl = text.indexOf("\n", pos);
        if (nl === -1) break;
        s = nl + 1;
        e = text.indexOf("\n", s);
        if (e === -1) e = text.length;
      }
      const line = text.slice(s, e);
      pos = s;
      if (/^\s*(#.*)?$/.test(line)) continue;
      if (/^---/.test(line)) break;
      const ind = /^\s*/.exec(line)?.[0].length ?? 0;
      const m = re.exec(line);
      if (m) keys.push(m[1] as string);
      if (ind < indent && !(ind === indent - 2 && /^\s*- /.test(line))) break;
      if (dir === -1 && ind === indent - 2 && /^\s*- /.test(line)) break;
    }
  }
  return keys;
}

/*
 * The scans of the line before the cursor below run in time linear in its length. They were
 * unanchored regular expressions (`/([A-Za-z_][A-Za-z0-9_]*)\s*:\s*…$/`), which backtrack through a
 * long word once per position in it: a completion in a line of 40,000 letters took 1.4 s, in one of
 * a million (a pasted blob, a minified value) longer than any client waits, and the server answered
 * nothing meanwhile. They find the same keys.
 */
const KEY_CHAR = /[A-Za-z0-9_]/;
const SPACE = /\s/;
const VALUE_TAIL = /^\s*["']?[A-Za-z0-9_.@-]*$/;

/** The key (`[A-Za-z_][A-Za-z0-9_]*`, the longest, not before `from`) that ends, spaces aside, at `end` of `s`; undefined when none does. */
function keyEndingAt(s: string, end: number, from = 0): string | undefined {
  let e = end;
  while (e > from && SPACE.test(s[e - 1] as string)) e--;
  let b = e;
  while (b > from && KEY_CHAR.test(s[b - 1] as string)) b--;
  while (b < e && /[0-9]/.test(s[b] as string)) b++; // a key starts with a letter or `_`
  return b < e ? s.slice(b, e) : undefined;
}

/** In `before` (the line up to the cursor), the key whose value is being typed (`key: val`, `{ key: "val`): what `/([A-Za-z_][A-Za-z0-9_]*)\s*:\s*["']?[A-Za-z0-9_.@-]*$/` matched. */
export function valueKey(before: string): string | undefined {
  const colon = before.lastIndexOf(":");
  if (colon === -1 || !VALUE_TAIL.test(before.slice(colon + 1))) return undefined;
  return keyEndingAt(before, colon);
}

/** In `before`, the key of the open flow sequence the cursor is in (`key: [a, b`): what `/([A-Za-z_][A-Za-z0-9_]*)\s*:\s*\[[^\]]*$/` matched (its leftmost match). */
export function sequenceKey(before: string): string | undefined {
  // an open `[` has no `]` after it; the key before it neither
  const from = before.lastIndexOf("]") + 1;
  for (let open = before.indexOf("[", from); open !== -1; open = before.indexOf("[", open + 1)) {
    let c = open;
    while (c > from && SPACE.test(before[c - 1] as string)) c--;
    if (c === from || before[c - 1] !== ":") continue;
    const key = keyEndingAt(before, c - 1, from);
    if (key !== undefined) return key;
  }
  return undefined;
}

/** The completion context at `offset` in `text` (a lone CR ends a line, as in YAML and LSP). */
export function cursorContext(original: string, offset: number): CursorContext {
  const text = loneCrAsLf(original); // same offsets; the line scans below look for LF only
  const { start: ls } = lineBounds(text, offset);
  const before = text.slice(ls, offset);
  let ws = offset;
  while (ws > ls && WORD.test(text[ws - 1] as string)) ws--;
  let we = offset;
  while (we < text.length && WORD.test(text[we] as string)) we++;
  const word = { start: ws, end: we, text: text.slice(ws, offset) };
  const kind = documentKind(text, offset);
  const indentOf = /^(\s*)/.exec(before)?.[1]?.length ?? 0;

  // Flow mapping / sequence on this line: `{ secret: x`, `environments: [a, b`
  const flowMapKey = valueKey(before);
  const flowSeqKey = sequenceKey(before);
  if (flowSeqKey !== undefined && valueKey(before.slice(before.lastIndexOf("["))) === undefined) {
    return { kind, slot: { type: "item", key: flowSeqKey, parent: undefined }, word, siblingKeys: [] };
  }
  if (flowMapKey !== undefined) {
    const key = flowMapKey;
    const lead = /^\s*(?:-\s+)?/.exec(before)?.[0].length ?? 0;
    const p = parentKey(text, ls, lead);
    return { kind, slot: { type: "value", key, parent: p?.key }, word, siblingKeys: [] };
  }
  // Block sequence item: `  - stag`
  const item = /^(\s*)-\s+["']?[A-Za-z0-9_.@-]*$/.exec(before);
  if (item) {
    const p = parentKey(text, ls, (item[1] as string).length + 1);
    if (p) return { kind, slot: { type: "item", key: p.key, parent: undefined }, word, siblingKeys: [] };
  }
  // A key being typed: `  na`, or `  - na` (first key of a list item)
  const key = /^(\s*)(-\s+)?[A-Za-z_]*$/.exec(before);
  if (key) {
    const indent = (key[1] as string).length + (key[2]?.length ?? 0);
    const p = indent === 0 ? undefined : parentKey(text, ls, indent);
    return { kind, slot: { type: "key", parent: p?.key, indent }, word, siblingKeys: siblingKeys(text, ls, indent) };
  }
  return { kind, slot: { type: "key", parent: undefined, indent: indentOf }, word: { start: offset, end: offset, text: "" }, siblingKeys: [] };
}
