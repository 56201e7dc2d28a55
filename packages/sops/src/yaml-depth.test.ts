import { parseDocument } from "yaml";
import { describe, expect, it } from "vitest";
import { findExcessiveNesting, MAX_YAML_DEPTH } from "./yaml-depth.js";

const block = (n: number): string => Array.from({ length: n }, (_, i) => `${" ".repeat(i)}k${i}:\n`).join("") + `${" ".repeat(n)}x: 1\n`;
const flow = (n: number): string => `kind: agent\nactions: ${"[".repeat(n)}${"]".repeat(n)}\n`;
const dashes = (n: number): string => `a:\n${"- ".repeat(n)}x\n`;

describe("findExcessiveNesting", () => {
  it("accepts the layouts people write, however long", () => {
    const ok = [
      "kind: agent\nname: a\nactions: [x, y]\nheaders:\n  - { name: Authorization, type: secret, secret: s, prefix: \"Bearer [\" }\n",
      "text: |\n" + "  [[[[[[[[[[[[[[[[[[[[\n".repeat(50) + "next: 1\n",
      "a: 'it''s [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[['\nb: \"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"\"\n",
      "a: x[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n# [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n",
      block(MAX_YAML_DEPTH - 2),
      flow(MAX_YAML_DEPTH - 2),
      "k: v\n".repeat(100_000),
      '{"a": {"b": [1, 2, {"c": "[[[["}]}}\n',
    ];
    for (const t of ok) expect(findExcessiveNesting(t), t.slice(0, 60)).toBeUndefined();
  });

  it("finds deep block, flow and compact nesting at the line where it goes over", () => {
    expect(findExcessiveNesting(block(3000))).toMatchObject({ line: MAX_YAML_DEPTH + 1, depth: MAX_YAML_DEPTH + 1 });
    expect(findExcessiveNesting(flow(3000))).toMatchObject({ line: 2, column: 9 + MAX_YAML_DEPTH });
    expect(findExcessiveNesting(dashes(3000))).toMatchObject({ line: 2 });
    expect(findExcessiveNesting(`a: [\n${"[\n".repeat(3000)}`)).toMatchObject({ line: MAX_YAML_DEPTH });
    expect(findExcessiveNesting("a: " + "{b: ".repeat(3000))).toBeDefined();
  });

  it("never counts lower than the parser (depth of parsed trees within the bound)", () => {
    const depthOf = (node: unknown): number => {
      let max = 0;
      const stack: [unknown, number][] = [[node, 0]];
      while (stack.length > 0) {
        const [n, d] = stack.pop() as [unknown, number];
        const items = (n as { items?: unknown[] } | null)?.items;
        if (!Array.isArray(items)) continue;
        max = Math.max(max, d + 1);
        for (const it of items) {
          const pair = it as { key?: unknown; value?: unknown };
          if (pair !== null && typeof pair === "object" && "value" in pair && "key" in pair) stack.push([pair.value, d + 1], [pair.key, d + 1]);
          else stack.push([it, d + 1]);
        }
      }
      return max;
    };
    const pairs = (n: number): string => `a: ${"[k: ".repeat(n)}x${"]".repeat(n)}\n`;
    for (const t of [block(40), flow(40), dashes(40), pairs(20), "a:\n  - b:\n      - [c, {d: [e]}]\n", "rules:\n  no-empty: [2, allowEmptyCatch: true]\n", "x: [a: 1, b, c: [d: 2]]\n"]) {
      const found = findExcessiveNesting(t, 1000);
      expect(found).toBeUndefined();
      const parsed = depthOf(parseDocument(t).contents);
      for (let m = 1; m < parsed; m++) expect(findExcessiveNesting(t, m), `${t.slice(0, 30)} at ${m}`).toBeDefined();
    }
  });
});
