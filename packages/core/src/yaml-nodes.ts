/** Small helpers over `yaml` nodes: ranges, lookups by key path, plain values. */
import { isAlias, isMap, isPair, isScalar, isSeq, visit, type Document, type Node, type Pair, type YAMLMap } from "yaml";
import type { TextRange } from "./position.js";

/** The source range of a node's value (without trailing comments), or undefined for a synthetic node. */
export function nodeRange(node: Node | null | undefined): TextRange | undefined {
  const r = node?.range;
  if (r === undefined || r === null) return undefined;
  return { start: r[0], end: r[1] };
}

/** The key of a pair as a string (scalar keys only), or undefined. */
export function keyString(pair: Pair): string | undefined {
  const k = pair.key as unknown;
  if (isScalar(k)) return k.value === null ? "" : String(k.value);
  if (typeof k === "string") return k;
  return undefined;
}

/** The pair of `map` whose key is `key`. */
export function findPair(map: YAMLMap, key: string): Pair | undefined {
  for (const item of map.items) {
    if (keyString(item) === key) return item;
  }
  return undefined;
}

/** True when `node` is `target` or lies inside it. */
function containsNode(target: unknown, node: unknown): boolean {
  if (target === node) return true;
  let found = false;
  if (isMap(target) || isSeq(target) || isPair(target)) {
    visit(target as Node, {
      Node(_, n) {
        if (n !== node) return undefined;
        found = true;
        return visit.BREAK;
      },
    });
  }
  return found;
}

/**
 * Before an edit of `node` (in place): every alias of `doc` that names `node`, a node inside it or
 * a node holding it becomes a copy of what it named (without anchors). The edit then changes that
 * place only (an alias elsewhere keeps the value it named: a member re-keyed in one environment is
 * not re-keyed in another that named the key through an alias), and no alias is left naming an
 * anchor the edit removed (the YAML writer throws on one).
 */
export function detachAliases(doc: Document, node: Node): void {
  visit(doc, {
    Alias(_, alias) {
      const target = alias.resolve(doc);
      if (target === undefined || !(containsNode(target, node) || containsNode(node, target))) return undefined;
      return unanchoredCopy(target as Node);
    },
  });
}

/** A deep copy of `node` without any anchor (so that no anchor is defined twice). */
function unanchoredCopy(node: Node): Node {
  const copy = node.clone() as Node;
  visit(copy, {
    Node(__, n) {
      delete n.anchor;
    },
  });
  if (!isAlias(copy)) delete copy.anchor;
  return copy;
}

/**
 * Before an edit of the value of `pair` when that value is itself an alias (`production: *dev`):
 * the value becomes a copy of what the alias named (without anchors), so the edit keeps every field
 * it had (members, pending requests, approvals) and changes this place only. Nothing else changes
 * (an alias that names nothing is left as it is).
 */
export function writeOutAlias(doc: Document, pair: Pair): void {
  if (!isAlias(pair.value)) return;
  const target = pair.value.resolve(doc);
  if (target !== undefined) pair.value = unanchoredCopy(target as Node);
}

/** What {@link locatePath} found: the deepest node reached, and the key node of the last step into a map. */
export interface Located {
  node: Node | undefined;
  keyNode: Node | undefined;
  /** True when every segment was found. */
  complete: boolean;
}

/** Follows `segments` (map keys and sequence indexes) from `root`. */
export function locatePath(root: Node | null | undefined, segments: readonly string[]): Located {
  let node: Node | undefined = root ?? undefined;
  let keyNode: Node | undefined;
  for (const seg of segments) {
    if (node !== undefined && isMap(node)) {
      const pair = findPair(node, seg);
      if (pair === undefined) return { node, keyNode, complete: false };
      keyNode = isScalar(pair.key) ? pair.key : keyNode;
      node = (pair.value as Node | null) ?? undefined;
      if (node === undefined) return { node: keyNode, keyNode, complete: false };
    } else if (node !== undefined && isSeq(node)) {
      const item = node.items[Number(seg)] as Node | undefined;
      if (item === undefined) return { node, keyNode, complete: false };
      node = item;
      keyNode = undefined;
    } else {
      return { node, keyNode, complete: false };
    }
  }
  return { node, keyNode, complete: true };
}

/** The value of a scalar node as a string (numbers and booleans converted), or undefined for other nodes. */
export function scalarString(node: unknown): string | undefined {
  if (!isScalar(node)) return undefined;
  const v = node.value;
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v);
  return undefined;
}

/** True for alias nodes (`*anchor`). */
export { isAlias };
