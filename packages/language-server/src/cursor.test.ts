import { describe, expect, it } from "vitest";
import { cursorContext, sequenceKey, valueKey } from "./cursor.js";

const at = (text: string) => {
  const i = text.indexOf("|");
  return cursorContext(text.slice(0, i) + text.slice(i + 1), i);
};

describe("cursorContext", () => {
  it("finds the value of a key being typed, with the document's kind", () => {
    const c = at("kind: action\nname: a\nmethod: PO|\n");
    expect(c.kind).toBe("action");
    expect(c.slot).toEqual({ type: "value", key: "method", parent: undefined });
    expect(c.word).toEqual({ start: 29, end: 31, text: "PO" });
  });

  it("reads lines that end in a lone CR as YAML and LSP do", () => {
    const c = at("kind: api_connection\rheaders:\r  - name: X\r    type: |\r");
    expect(c.kind).toBe("api_connection");
    expect(c.slot).toEqual({ type: "value", key: "type", parent: "headers" });
  });

  it("knows the parent key of a header item", () => {
    const c = at("kind: api_connection\nheaders:\n  - name: X\n    type: |\n");
    expect(c.slot).toEqual({ type: "value", key: "type", parent: "headers" });
  });

  it("finds a key slot at the top level and lists the keys already there", () => {
    const c = at("kind: action\nname: a\n|\npath: /x\n");
    expect(c.slot).toEqual({ type: "key", parent: undefined, indent: 0 });
    expect(c.siblingKeys.sort()).toEqual(["kind", "name", "path"]);
  });

  it("finds a key slot inside a header item", () => {
    const c = at("kind: action\nheaders:\n  - name: X\n    |\n");
    expect(c.slot).toMatchObject({ type: "key", parent: "headers", indent: 4 });
    expect(c.siblingKeys).toContain("name");
  });

  it("takes the kind of the document holding the cursor in a multi-document file", () => {
    const c = at("kind: agent\nname: a\n---\nkind: action\nmethod: |\n");
    expect(c.kind).toBe("action");
  });

  it("works on half-typed text no YAML parser accepts", () => {
    expect(at("kind: action\nheaders:\n  - { name: X, type: |").slot).toMatchObject({ type: "value", key: "type" });
    expect(at("kind: [\nfoo: |").slot).toMatchObject({ type: "value", key: "foo" });
  });
});

describe("the scans of the line before the cursor (linear in its length)", () => {
  // what they replace: unanchored expressions that backtracked once per position of a long word
  const oldValueKey = (before: string): string | undefined => /([A-Za-z_][A-Za-z0-9_]*)\s*:\s*["']?[A-Za-z0-9_.@-]*$/.exec(before)?.[1];
  const oldSequenceKey = (before: string): string | undefined => /([A-Za-z_][A-Za-z0-9_]*)\s*:\s*\[[^\]]*$/.exec(before)?.[1];

  it("find the keys the expressions found, on 20,000 random lines of YAML's characters", () => {
    const alphabet = ["a", "b", "Z", "_", "9", "0", " ", " ", "\t", ":", ":", "[", "]", "{", ",", '"', "'", "-", ".", "@", "x"];
    let seed = 34;
    const random = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let i = 0; i < 20_000; i++) {
      let line = "";
      for (let n = random(16); n > 0; n--) line += alphabet[random(alphabet.length)];
      expect(valueKey(line), JSON.stringify(line)).toBe(oldValueKey(line));
      expect(sequenceKey(line), JSON.stringify(line)).toBe(oldSequenceKey(line));
    }
  });

  it("answer a completion in a line of two million characters (a pasted blob): before, it took longer than any client waits", () => {
    for (const blob of ["x".repeat(2_000_000), "x".repeat(1_000_000) + " " + "y".repeat(1_000_000), "a:[".repeat(400_000)]) {
      const text = `kind: action\nname: a\ndescription: ${blob}\nmethod: POST\n`;
      const c = cursorContext(text, text.indexOf("\nmethod") - 10);
      expect(c.kind).toBe("action");
    }
    expect(valueKey(`description: ${"x".repeat(2_000_000)}`)).toBe("description");
    expect(sequenceKey(`environments: [${"a, ".repeat(500_000)}`)).toBe("environments");
  });
});
