/**
 * "Move to a secret…" for a `plaintext-credential` finding: where the literal is, what it
 * decodes to, and the text edits that turn its place into a reference to a secret. Pure (text
 * and offsets in, data out), shared by the server (is the quick fix offered here?) and the
 * VS Code extension (which decodes the literal in its own process and encrypts it straight
 * into the environment files: the value never crosses the LSP channel, see docs/editor.md).
 */
import { isMap, isScalar, parseAllDocuments, visit, type Node, type Pair, type YAMLMap } from "yaml";

/** Fields of an auth connector that take `{ secret: NAME }` (core's `CONNECTOR_FIELDS`; checked against the schema in the test). */
export const SECRET_FIELDS: ReadonlySet<string> = new Set(["api_key", "token", "password", "client_secret", "username", "client_id"]);

/** A text edit by 0-based offsets (end exclusive). */
export interface OffsetEdit {
  start: number;
  end: number;
  newText: string;
}

/** Where a credential literal is and how to move it. */
export interface MovePlan {
  /** The decoded literal: a credential. Keep it in memory only; never show, log or send it. */
  readonly value: string;
  /** `header` (a static header's `value`), `field` (a connector field) or `reference` (a credential pasted where a secret's name goes: `secret: …`). */
  readonly place: "header" | "field" | "reference";
  /** The edits that replace the literal with a reference to `name` (the value is not in them). */
  edits(name: string): OffsetEdit[];
  /**
   * What to do by hand when the edits could not be applied (the document changed, the save
   * failed), in the file's style as the edits write it (`replace the literal with {"secret":
   * "NAME"}` in a JSON-style file); never the value.
   */
  byHand(name: string): string;
}

const keyOf = (pair: Pair): string | undefined => (isScalar(pair.key) && typeof pair.key.value === "string" ? pair.key.value : undefined);

/**
 * The plan for the string scalar that starts at `start` (the start of a `plaintext-credential`
 * range): a static header's `value` (becomes `type: secret` + `secret: NAME`), a connector
 * field (becomes `{ secret: NAME }`) or a credential pasted into a `secret:` field (becomes `NAME`). Undefined anywhere else (a prefix, a description, a URL:
 * text that is not a credential field), and for text that does not parse.
 */
export function planMoveToSecret(text: string, start: number): MovePlan | undefined {
  let found: { pair: Pair<Node, Node>; parent: YAMLMap; value: string; range: [number, number, number] } | undefined;
  for (const doc of parseAllDocuments(text)) {
    if (!("contents" in doc) || doc.errors.length > 0) continue;
    visit(doc, {
      Pair(_key, pair, path) {
        const v = pair.value;
        if (!isScalar(v) || typeof v.value !== "string" || v.range?.[0] !== start) return undefined;
        const parent = path[path.length - 1];
        if (!isMap(parent)) return undefined;
        found = { pair: pair as Pair<Node, Node>, parent: parent as YAMLMap, value: v.value, range: v.range };
        return visit.BREAK;
      },
    });
    if (found !== undefined) break;
  }
  if (found === undefined) return undefined;
  const { pair, parent, value, range } = found;
  const key = keyOf(pair);
  const keyStart = pair.key.range?.[0];
  if (key === undefined || keyStart === undefined) return undefined;
  const keyEnd = pair.key.range?.[1] ?? keyStart;
  // the file's style, as its key is written: a JSON-style file (`{"value": "sk_live_…"}`) stays
  // JSON (`{"secret": "NAME"}`), a quoted key gets quoted words; a plain key, plain words
  const word = wordInStyleOf(pair.key);
  const siblings = parent.items as Pair<Node, Node>[];
  const typePair = siblings.find((p) => keyOf(p) === "type");
  if (key === "value" && typePair !== undefined && siblings.some((p) => keyOf(p) === "name")) {
    const typeNode = typePair.value;
    return {
      value,
      place: "header",
      edits: (name) => {
        const out: OffsetEdit[] = [];
        const tr = isScalar(typeNode) ? typeNode.range : undefined;
        if (tr && (typeNode as { value?: unknown }).value !== "secret") out.push({ start: tr[0], end: tr[1], newText: wordInStyleOf(typeNode, word)("secret") });
        // the key and the value each replaced, what stands between them (`: `, `":"`, a comment) kept
        out.push({ start: keyStart, end: keyEnd, newText: word("secret") }, { start: range[0], end: range[1], newText: word(name) });
        return out.sort((a, b) => a.start - b.start);
      },
      byHand: (name) => `replace the header's ${word("value")} field with ${word("secret")}: ${word(name)} and set its ${word("type")} to ${wordInStyleOf(typeNode, word)("secret")}`,
    };
  }
  // a credential pasted where a secret's name goes (`secret: sk_live_…`): the name replaces it
  if (key === "secret") return { value, place: "reference", edits: (name) => [{ start: range[0], end: range[1], newText: word(name) }], byHand: (name) => `replace the literal with ${word(name)}` };
  if (SECRET_FIELDS.has(key)) {
    const map = word === plainWord ? (name: string) => `{ secret: ${name} }` : (name: string) => `{${word("secret")}: ${word(name)}}`;
    return { value, place: "field", edits: (name) => [{ start: range[0], end: range[1], newText: map(name) }], byHand: (name) => `replace the literal with ${map(name)}` };
  }
  return undefined;
}

const plainWord = (text: string): string => text;

/**
 * How a word (a key, a secret's name: letters, digits, `_`) is written in the style of `node`: in
 * double quotes after a double-quoted scalar (JSON and JSON-style YAML), in single quotes after a
 * single-quoted one, else plain; `otherwise` for a node that is no scalar.
 */
function wordInStyleOf(node: unknown, otherwise: (text: string) => string = plainWord): (text: string) => string {
  if (!isScalar(node)) return otherwise;
  if (node.type === "QUOTE_DOUBLE") return (text) => JSON.stringify(text);
  if (node.type === "QUOTE_SINGLE") return (text) => `'${text.replace(/'/g, "''")}'`;
  return plainWord;
}
