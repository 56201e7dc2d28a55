import { describe, expect, it } from "vitest";
import { cursorContext } from "./cursor.js";

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
