import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { isMap, isNode, isPair, isScalar, isSeq, Pair, parse, parseAllDocuments, Scalar, YAMLMap, YAMLSeq, type Node } from "yaml";
import { findExcessiveNesting } from "@stellar-secrets/sops";
import { describe, expect, it } from "vitest";
import { parseConfigFile, type ConfigFile } from "./config.js";
import { parseSimpleYaml } from "./fast-yaml.js";
import { parsesNearStackLimit } from "./test-support/stack-limit.js";

const REPO = join(import.meta.dirname, "..", "..", "..");

function yamlFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name === ".git") continue;
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) yamlFiles(p, out);
    else if (/\.ya?ml$/.test(name) && !name.endsWith(".enc.yaml")) out.push(p);
  }
  return out;
}

const corpus = [
  ...yamlFiles(join(REPO, "test", "fixtures", "checker")),
  ...["connectors", "connections", "agents"].flatMap((d) => yamlFiles(join(REPO, d))),
].map((p) => readFileSync(p, "utf8"));

const SNIPPETS = [
  "kind: action\nname: a\nmethod: GET\npath: /x\n",
  "kind: action\nname: a\nheaders:\n- name: A\n  type: secret\n  secret: s\n- { name: B, type: static, value: 'it''s' }\n",
  "# c\n---\nkind: agent\nname: x\nactions: [a, b]\n---\nkind: agent\nname: y\n",
  "kind: agent\nname: x\nactions:\n  - a\n  - b # c\n",
  "kind: auth_connector\nname: s\ntype: api_key\napi_key: { secret: k }\n",
  "kind: agent\nname: x\nactions: []\ndescription: {}\n",
  "kind: api_connection\nname: c\nbase_url: https://x.example/a#b\nheaders:\n  - name: A   # why\n    type: secret\n    secret: \"s\"\n",
  "kind: agent\nname: 'q'\n\n\n",
  "kind: agent\nname: x\nnested:\n  deeper:\n    - { a: [x, y], b: z }\n",
  "kind: agent\nname: x\nempty:\n",
  "kind: agent\nname: 1\n",
  "version: 1\nsecrets_dir: secrets\nenvironments:\n  development:\n    members:\n      a: age1x\n",
  "# Generated\ncreation_rules:\n    - path_regex: (^|/)secrets/development\\.enc\\.yaml$\n      age: age1x,age1y\n    - path_regex: a\n      age: >-\n        age1x\n",
  "kind: agent\nn: 0\nm: 007\no: 1234567890123456\np: -1\nq: [1, 2]\nr: 12 # c\n",
  "kind: agent\nname: true\n",
  "kind: agent\nname: x\nname: y\n",
  "kind: agent\nname: &a x\nother: *a\n",
  "kind: agent\ndescription: |\n  text\n",
  "kind: agent\ndescription: two\n  lines\n",
  "kind: agent\nactions: [a,\n  b]\n",
  "kind: agent\nname: \"esc\\n\"\n",
  "kind: agent\nname: x\n...\n",
  "kind: agent\nname: x\n---\n",
  "kind: agent\nname: x: y\n",
  "kind: agent\n  name: x\n",
  "kind: agent\nname: [a, b,]\n",
  "kind: agent\nname: {a: b}\n",
  "kind: agent\nname: { a: b, }\n",
  "kind: agent\n\"quoted key\": x\n'single key': y\n",
  "kind: agent\nname: x #comment\nother: a#b\n",
  "kind: agent\nlist:\n-  a\n-   b\n",
  "kind: agent\nmap:\n    k: v\n    l: w\n",
  "kind: agent\nheaders:\n  - a\n# c\nname: x\n",
  "kind: agent\nnested:\n  a: b\n# c\n  d: e\n",
  "kind: agent\nnested:\n  a: b\n\n# c\n\nname: x\n# end\n",
  "kind: agent\nname: 3MVG9example.app\nv: 1.0.0\nw: 0x1G\nx: .5\ny: 1e3\nz: -\n",
  "- a\n- b\n",
  "kind: agent\nname: x\n  # indented comment\n",
];

/**
 * Every node's ranges and scalar values, for comparing two trees. Block collections are compared
 * on all three offsets (their end is the end of their last value's line, which the checker uses);
 * flow collections and scalars on start and end (the third offset of a flow item is not used).
 */
function shape(node: unknown): unknown {
  if (isMap(node)) return { map: node.flow ? node.range?.slice(0, 2) : node.range, flow: !!node.flow, items: node.items.map((p) => [shape(p.key), shape(p.value)]) };
  if (isSeq(node)) return { seq: node.flow ? node.range?.slice(0, 2) : node.range, flow: !!node.flow, items: node.items.map(shape) };
  if (isScalar(node)) return { scalar: node.range?.slice(0, 2), value: node.value, type: node.type };
  return String(node);
}

/** A deterministic pseudo-random generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INSERTS = [" ", "  ", "\n", ": ", ":", "#", " #", "'", '"', "-", "- ", "[", "]", "{", "}", ",", "&a ", "*a", "!", "|", "\t", "\r", "x", "1", "null", "---\n", "\\"];

function mutations(text: string, count: number, seed: number): string[] {
  const r = rng(seed);
  const out: string[] = [];
  for (let k = 0; k < count; k++) {
    const at = Math.floor(r() * (text.length + 1));
    const op = r();
    if (op < 0.4) out.push(text.slice(0, at) + (INSERTS[Math.floor(r() * INSERTS.length)] as string) + text.slice(at));
    else if (op < 0.7) out.push(text.slice(0, at) + text.slice(at + 1 + Math.floor(r() * 3)));
    else {
      const lines = text.split("\n");
      const i = Math.floor(r() * lines.length);
      lines.splice(i, 0, lines[Math.floor(r() * lines.length)] as string);
      out.push(lines.join("\n"));
    }
  }
  return out;
}

describe("parseSimpleYaml", () => {
  it("reads the example organisation and most fixtures itself (the fast path is used)", () => {
    const accepted = corpus.filter((t) => parseSimpleYaml(t) !== undefined).length;
    expect(accepted / corpus.length).toBeGreaterThan(0.7);
    for (const d of ["connectors", "connections", "agents"]) {
      for (const p of yamlFiles(join(REPO, d))) expect(parseSimpleYaml(readFileSync(p, "utf8")), p).toBeDefined();
    }
  });

  it("builds the same nodes, ranges and values as yaml whenever it accepts a text", () => {
    const texts = [...corpus, ...SNIPPETS, ...corpus.flatMap((t, i) => mutations(t, 40, i + 1)), ...SNIPPETS.flatMap((t, i) => mutations(t, 40, 1000 + i))];
    let accepted = 0;
    for (const text of texts) {
      const fast = parseSimpleYaml(text);
      if (fast === undefined) continue;
      accepted++;
      const slow = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: false });
      const docs = Array.isArray(slow) ? slow : [];
      expect(docs.every((d) => d.errors.length === 0), JSON.stringify(text)).toBe(true);
      expect(fast.map((d) => shape(d.contents)), JSON.stringify(text)).toEqual(docs.map((d) => shape(d.contents as Node)));
      expect(fast.map((d) => d.value), JSON.stringify(text)).toEqual(docs.map((d) => d.toJS()));
    }
    expect(accepted).toBeGreaterThan(500);
  });

  it("nests exactly as deep as the nesting scan counts, on every text it accepts (what lets parseConfigFile skip the scan)", () => {
    const texts = [...corpus, ...SNIPPETS, ...corpus.flatMap((t, i) => mutations(t, 40, i + 1)), ...SNIPPETS.flatMap((t, i) => mutations(t, 40, 1000 + i))];
    let accepted = 0;
    for (const text of texts) {
      if (parseSimpleYaml(text) === undefined) continue;
      accepted++;
      // the fewest levels the fast reader reads it within, and the fewest the scan accepts
      let depth = 0;
      while (parseSimpleYaml(text, depth) === undefined) depth++;
      let scanned = 0;
      while (findExcessiveNesting(text, scanned) !== undefined) scanned++;
      expect(scanned, JSON.stringify(text)).toBe(depth);
    }
    expect(accepted).toBeGreaterThan(500);
  });

  it("gives the same config model and diagnostics as the full parser", () => {
    const texts = [...corpus, ...SNIPPETS, ...corpus.flatMap((t, i) => mutations(t, 25, 5000 + i))];
    for (const text of texts) {
      const fast = parseConfigFile(text, "f.yaml");
      const slow = parseConfigFile(text, "f.yaml", { fast: false });
      expect(JSON.parse(JSON.stringify(fast)), JSON.stringify(text)).toEqual(JSON.parse(JSON.stringify(slow)));
    }
  });

  it("builds nodes that are yaml's own kinds: guards, instanceof and methods work on them", () => {
    const [doc] = parseSimpleYaml("kind: action\nname: 'a'\nheaders:\n  - { name: X, secret: s }\nlist: [a, b]\nversion: 1\n")!;
    const root = doc!.contents as YAMLMap;
    expect(isMap(root) && isNode(root) && root instanceof YAMLMap).toBe(true);
    const pair = root.items[0]!;
    expect(isPair(pair) && pair instanceof Pair).toBe(true);
    expect(isScalar(pair.key) && pair.key instanceof Scalar && !isMap(pair.key)).toBe(true);
    expect(root.get("kind")).toBe("action");
    expect((root.get("name", true) as Scalar).type).toBe(Scalar.QUOTE_SINGLE);
    const headers = root.get("headers") as YAMLSeq;
    expect(isSeq(headers) && headers instanceof YAMLSeq && !headers.flow).toBe(true);
    const header = headers.items[0] as YAMLMap;
    expect(isMap(header) && header.flow === true && header.has("secret")).toBe(true);
    expect(isSeq(root.get("list")) && (root.get("list") as YAMLSeq).flow).toBe(true);
    expect(root.toJSON()).toEqual(doc!.value);
    expect(String(root.get("version", true))).toBe("1");
  });

  it("leaves everything outside the subset to yaml", () => {
    for (const t of [
      "a: &x b\n",
      "a: |\n  b\n",
      "a: 1.5\n",
      "a: 01\n",
      "a: [1]\n",
      "a: true\n",
      "a:\n",
      "a: b\na: c\n",
      "a: [b,\n c]\n",
      "a: \"b\\n\"\n",
      "a: b\r\n",
      "\ta: b\n",
      "a: b\n...\n",
      "a: b\n---\n",
      "a: b\n  c\n",
      "a: !!str b\n",
    ]) {
      expect(parseSimpleYaml(t), JSON.stringify(t)).toBeUndefined();
    }
  });

  it("reads a small decimal int in block context as yaml does (`version: 1`)", () => {
    const [doc] = parseSimpleYaml("version: 1\nn: 0\n")!;
    expect(doc!.value).toEqual({ version: 1, n: 0 });
    expect(shape(doc!.contents)).toEqual(shape(parseAllDocuments("version: 1\nn: 0\n")[0]!.contents));
  });
});

describe("parseSimpleYaml: words the core schema reads as something else than a string", () => {
  it("gives up on null / true / false / numbers in every case and reads the longer words as strings, as yaml does", () => {
    const others = ["FALSE", "False", "false", "Null", "NULL", "null", "TRUE", "True", "true", "~", "012", "-1", "1.5", ".inf", "0x1f", "<<"];
    for (const w of others) {
      expect(parseSimpleYaml(`a: ${w}\n`), w).toBeUndefined();
      expect(parseSimpleYaml(`${w}: x\n`), w).toBeUndefined();
    }
    for (const w of ["falsey", "TRUE_x", "_null", "nullable", "Infinity", "truest", "nulls"]) {
      expect(parseSimpleYaml(`a: ${w}\n`)?.[0]?.value, w).toEqual(parse(`a: ${w}\n`));
      expect(parseSimpleYaml(`${w}: x\n`)?.[0]?.value, w).toEqual(parse(`${w}: x\n`));
    }
    expect(parseSimpleYaml("a: 12\n")?.[0]?.value).toEqual({ a: 12 });
  });
});

describe("parseConfigFile with the stack nearly used up in the fast reader", () => {
  it("gives the slow path's 'nested too deeply' model (uncacheable), never a throw, when the fast reader runs out of stack", () => {
    // nested 31 levels in block style: the fast reader reads it (under FAST_MAX_DEPTH), and recurses once or more per level
    const path = "agents/deep.yaml";
    let nested = "";
    for (let i = 0; i < 30; i++) nested += `${"  ".repeat(i + 1)}k${i}:\n`;
    const text = `kind: agent\nname: deep\nmetadata:\n${nested}${"  ".repeat(31)}leaf: x\n`;
    expect(parseSimpleYaml(text, 32)).toBeDefined();
    const whole = parseConfigFile(text, path);
    expect(whole.documents).toHaveLength(1);
    expect(whole.uncacheable).toBeUndefined();
    const outcomes = parsesNearStackLimit(text, path);
    const firstModel = outcomes.findIndex((o) => o !== "threw");
    expect(firstModel).toBeGreaterThanOrEqual(0);
    // once a parse got going, running out of stack anywhere inside it is the model below, not a throw
    expect(outcomes.slice(firstModel).filter((o) => o === "threw")).toEqual([]);
    const starved = outcomes.filter((o): o is ConfigFile => o !== "threw" && o.uncacheable === true);
    expect(starved.length).toBeGreaterThan(0);
    for (const model of outcomes.slice(firstModel) as ConfigFile[]) {
      if (model.uncacheable === true) {
        expect(model.documents).toEqual([]);
        expect(model.diagnostics.map((d) => [d.rule, d.message])).toEqual([["schema", "cannot parse: nested too deeply; the file was not read: flatten it"]]);
      } else {
        expect(model).toStrictEqual(whole);
      }
    }
  });
});
