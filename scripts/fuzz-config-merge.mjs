#!/usr/bin/env node
/**
 * Seeded, deterministic fuzz of the merges of the CONFIG files (`pnpm fuzz:config`; not part of
 * `npm test`; see docs/fuzz.md, "Config merges"):
 *   sops      `.sops.yaml` through the merge driver: `mergeSopsConfigs` (packages/core), and git's
 *             text merge (`git merge-file`) where it declines, as `merge-file` does;
 *   stellar   `stellar.yaml` through the merge driver: `mergeProjectConfigs` (packages/core, per
 *             environment and member name), and git's text merge where it declines or reports a
 *             name changed differently, as `merge-file` does;
 *   history   review's `diffMerge` (the changes a merge commit itself made to an environment file).
 * Each case builds a valid base in one of several layouts, two sides by realistic edits (members
 * added, removed and re-keyed per environment with the CLI's own writers, rules added, removed and
 * reordered, comments, flow vs block style, quoting, CRLF, key_groups, anchors, tags, duplicate
 * keys), then random byte/line mutations on top, runs the merge and checks the oracles:
 *   1 crash      the merge throws an uncoded exception;
 *   2 wrong      a clean merged text does not parse, or an item (a creation rule by path_regex, a
 *                member by environment and name, ...) is not what the per-item three-way merge says
 *                (ours' change, theirs', the one both made), or an item both changed differently
 *                was merged clean;
 *   3 misread    the driver merged clean although a side is not a plain config (unparseable, a key
 *                twice in a mapping, an anchor or alias, a tag);
 *   4 asymmetric merge(base, A, B) and merge(base, B, A) differ (clean vs not, or other items);
 *   5 identity   merge(base, A, A) is not A, or merge(base, base, B) is not B.
 * Usage: node scripts/fuzz-config-merge.mjs [--cases 3000] [--seed 23] [--target sops,stellar,history] [--no-git] [--show 10]
 * Exits 1 when a defect of the driver (`sops`, `stellar`, `history`) is found, or a CLI writer (updateSopsConfig,
 * setEnvironmentMembers, ...) throws an uncoded exception while a side is made. Wrong clean results of git's own
 * text merge are counted and shown (`git` rows) but do not fail the run: no code of ours makes them.
 * Needs a build (`npx tsc -b`).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seeded } from "./fuzz-random.mjs";
import { scriptArgs } from "./script-args.mjs";

const { values: opts } = scriptArgs(import.meta.url, {
  numbers: ["cases", "seed", "show"],
  options: {
    cases: { type: "string", default: "3000" },
    seed: { type: "string", default: "23" },
    target: { type: "string", default: "sops,stellar,history" },
    "no-git": { type: "boolean", default: false },
    show: { type: "string", default: "10" },
  },
});
const CASES = Number(opts.cases);
const SEED = Number(opts.seed);
const TARGETS = new Set(opts.target.split(","));
const GIT = !opts["no-git"] && spawnSync("git", ["--version"]).status === 0;
const SHOW = Number(opts.show);

const core = await import("../packages/core/dist/index.js");
const requireFromCore = createRequire(new URL("../packages/core/package.json", import.meta.url));
const YAML = requireFromCore("yaml");

const { rand, int, pick, chance } = seeded(SEED);
const shuffle = (xs) => {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = int(i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
};

// ---------------------------------------------------------------------------------------------
// keys and names (public keys only: recipients are never secret; none of these is a real key)
const BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
/** A well-formed age recipient (bech32 with a valid checksum) for 32 seeded random bytes: no one holds its private key. */
function fakeRecipient() {
  const data = Array.from({ length: 32 }, () => int(256));
  const words = [];
  let acc = 0;
  let bits = 0;
  for (const b of data) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      words.push((acc >> bits) & 31);
    }
  }
  if (bits > 0) words.push((acc << (5 - bits)) & 31);
  const polymod = (values) => {
    const G = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
    let chk = 1;
    for (const v of values) {
      const top = chk >> 25;
      chk = ((chk & 0x1ffffff) << 5) ^ v;
      for (let i = 0; i < 5; i++) if ((top >> i) & 1) chk ^= G[i];
    }
    return chk;
  };
  const hrp = "age";
  const expanded = [...[...hrp].map((c) => c.charCodeAt(0) >> 5), 0, ...[...hrp].map((c) => c.charCodeAt(0) & 31)];
  const mod = polymod([...expanded, ...words, 0, 0, 0, 0, 0, 0]) ^ 1;
  const checksum = Array.from({ length: 6 }, (_, i) => (mod >> (5 * (5 - i))) & 31);
  return `age1${[...words, ...checksum].map((w) => BECH32[w]).join("")}`;
}
const PEOPLE = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "ci", "deploy-bot", "heidi"];
const ENV_NAMES = ["development", "staging", "production", "qa", "preview", "sandbox"];

/** A project model: environments with members (name → recipient). */
function randomModel() {
  const keys = new Map(PEOPLE.map((p) => [p, fakeRecipient()]));
  const envs = shuffle(ENV_NAMES)
    .slice(0, 2 + int(3))
    .map((name) => ({ name, members: shuffle(PEOPLE).slice(0, 1 + int(4)).map((p) => ({ name: p, recipient: keys.get(p) })) }));
  return { secretsDir: pick(["secrets", "secrets", "config/secrets"]), environments: envs, include: ["**/*.yaml", "**/*.yml"], exclude: ["node_modules/**"], rules: {} };
}
const cloneModel = (m) => ({ ...m, environments: m.environments.map((e) => ({ ...e, members: e.members.map((x) => ({ ...x })) })) });

/** One membership change of one environment in `model` (in place): add, remove or re-key a member. Returns a description. */
function changeMembers(model) {
  const env = pick(model.environments);
  const kind = pick(["add", "add", "rm", "rekey", "replace"]);
  if (kind === "add" || env.members.length <= 1) {
    const name = pick(PEOPLE.filter((p) => !env.members.some((m) => m.name === p))) ?? `new${int(100)}`;
    env.members.push({ name, recipient: fakeRecipient() });
    return `add ${name} to ${env.name}`;
  }
  if (kind === "rm") {
    const i = int(env.members.length);
    const [m] = env.members.splice(i, 1);
    return `rm ${m.name} from ${env.name}`;
  }
  if (kind === "rekey") {
    const m = pick(env.members);
    m.recipient = fakeRecipient();
    return `re-key ${m.name} in ${env.name}`;
  }
  const i = int(env.members.length);
  env.members[i] = { name: pick(PEOPLE), recipient: fakeRecipient() };
  return `replace a member of ${env.name}`;
}

// ---------------------------------------------------------------------------------------------
// text helpers
const lines = (t) => t.split("\n");
const crlf = (t) => t.replace(/\r?\n/g, "\r\n");
function insertLine(t, line) {
  const ls = lines(t);
  ls.splice(int(ls.length), 0, line);
  return ls.join("\n");
}
const RANDOM_MUTATIONS = {
  flipByte(t) {
    const b = Buffer.from(t, "utf8");
    if (b.length === 0) return t;
    b[int(b.length)] ^= 1 << int(7);
    return b.toString("utf8");
  },
  deleteRange: (t) => {
    const i = int(t.length);
    return t.slice(0, i) + t.slice(i + 1 + int(6));
  },
  insertChar: (t) => {
    const i = int(t.length);
    return t.slice(0, i) + pick([" ", "\n", ":", "-", "#", "'", '"', "[", "]", "{", "}", ",", "&", "*", "!", "\t", "\r", "x"]) + t.slice(i);
  },
  truncate: (t) => t.slice(0, int(t.length)),
  swapLines: (t) => {
    const ls = lines(t);
    const i = int(ls.length);
    const j = int(ls.length);
    [ls[i], ls[j]] = [ls[j], ls[i]];
    return ls.join("\n");
  },
  duplicateLine: (t) => {
    const ls = lines(t);
    const i = int(ls.length);
    ls.splice(i, 0, ls[i]);
    return ls.join("\n");
  },
  deleteLine: (t) => {
    const ls = lines(t);
    ls.splice(int(ls.length), 1);
    return ls.join("\n");
  },
  reindentLine: (t) => {
    const ls = lines(t);
    const i = int(ls.length);
    ls[i] = chance(0.5) ? ` ${ls[i]}` : ls[i].replace(/^ /, "");
    return ls.join("\n");
  },
};

/** The three-way merge of one item (values compared as canonical strings; undefined = absent). */
const CONFLICT = Symbol("conflict");
function threeWay(b, o, t) {
  if (o === t) return o;
  if (o === b) return t;
  if (t === b) return o;
  return CONFLICT;
}
/** The three-way merge of keyed items: Map key → value, or CONFLICT (with the keys in conflict). */
function mergeItems(b, o, t) {
  const out = new Map();
  const conflicts = [];
  for (const k of new Set([...b.keys(), ...o.keys(), ...t.keys()])) {
    const v = threeWay(b.get(k), o.get(k), t.get(k));
    if (v === CONFLICT) conflicts.push(k);
    else if (v !== undefined) out.set(k, v);
  }
  return { items: out, conflicts };
}
function sameItems(a, b) {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}
function itemDiff(want, got) {
  const out = [];
  for (const k of new Set([...want.keys(), ...got.keys()])) if (want.get(k) !== got.get(k)) out.push(k);
  return out;
}
const canonical = (v) => JSON.stringify(v, (_, x) => (x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x));

/**
 * A plain reading of a YAML config, independent of the project's readers: undefined (with why) when
 * the text is not a plain config (YAML errors, a key twice in a mapping, an anchor, an alias, a tag,
 * more than one document with content); else its data. A lone CR ends a line, as in YAML.
 */
function plainRead(text) {
  const t = text.replace(/^\uFEFF/, "").replace(/\r(?!\n)/g, "\n");
  let docs;
  try {
    docs = YAML.parseAllDocuments(t, { uniqueKeys: true, prettyErrors: false, merge: false });
  } catch {
    return { why: "unparseable" };
  }
  if (!Array.isArray(docs)) return { why: "unparseable" };
  const withContent = docs.filter((d) => d.contents !== null);
  if (docs.some((d) => d.errors.length > 0)) return { why: docs.some((d) => d.errors.some((e) => e.code === "DUPLICATE_KEY")) ? "duplicate-key" : "unparseable" };
  if (withContent.length > 1) return { why: "several-documents" };
  let why;
  for (const d of docs)
    YAML.visit(d, {
      Alias() {
        why ??= "alias";
        return YAML.visit.BREAK;
      },
      Node(_, n) {
        // (the yaml library sets `tag` only for an explicit tag, `!x` or `!!str`, and `anchor` for `&a`)
        if (n.anchor) why ??= "anchor";
        else if (typeof n.tag === "string") why ??= "tag";
      },
    });
  if (why !== undefined) return { why };
  return { data: withContent.length === 0 ? null : withContent[0].toJS({ maxAliasCount: 0 }) };
}
// ---------------------------------------------------------------------------------------------
// .sops.yaml
const SOPS = ".sops.yaml";

/**
 * Per-item reading of a plain .sops.yaml: one item per rule (its fields but `age`), one per rule's
 * path_regex, one per recipient of a rule. A rule is named by `name(key, index, keys)`, where key is
 * its path_regex (the n-th repeat suffixed) and keys those of this version; by default its key.
 */
function sopsItems(text, name = (key) => key) {
  const r = plainRead(text);
  if (r.data === undefined) return { why: r.why };
  const data = r.data;
  if (data === null || typeof data !== "object" || Array.isArray(data)) return { why: "not-a-mapping" };
  const rules = data.creation_rules;
  if (!Array.isArray(rules)) return { why: "no-rules-list" };
  const items = new Map();
  const seen = new Map();
  const keys = [];
  for (const rule of rules) {
    if (rule === null || typeof rule !== "object" || Array.isArray(rule)) return { why: "rule-not-a-mapping" };
    const key0 = `rule ${typeof rule.path_regex === "string" ? rule.path_regex : canonical(rule.path_regex ?? "<none>")}`;
    const n = (seen.get(key0) ?? 0) + 1;
    seen.set(key0, n);
    keys.push(n === 1 ? key0 : `${key0} #${n}`);
  }
  const keySet = new Set(keys);
  const order = [];
  const ids = new Map();
  rules.forEach((rule, i) => {
    const id = name(keys[i], i, keySet);
    ids.set(keys[i], id);
    // one item per recipient (a member of the rule), one for its path_regex, one for the rest of the rule
    const value = { ...rule };
    if ("age" in value) {
      for (const r of recipientSet(value.age)) items.set(`${id} age ${r}`, "present");
      value.age = "(per recipient)";
    }
    items.set(`${id} path_regex`, canonical(value.path_regex ?? null));
    delete value.path_regex;
    if (Array.isArray(value.key_groups)) value.key_groups = value.key_groups.map((g) => (g && typeof g === "object" && "age" in g ? { ...g, age: recipientSet(g.age) } : g));
    items.set(id, canonical(value));
    order.push(id);
  });
  const rest = { ...data };
  delete rest.creation_rules;
  items.set("(other keys)", canonical(rest));
  return { items, order, keys, ids };
}
/**
 * The three versions read with rules named across them: a side's rule is the base rule of the same
 * path_regex, else the base rule at its position whose path_regex the side no longer has (its
 * path_regex edited in place), else a new rule.
 */
function sopsSides(base, ours, theirs) {
  const rb = sopsItems(base);
  if (rb.items === undefined) return [rb, sopsItems(ours), sopsItems(theirs)];
  const baseKeys = new Set(rb.keys);
  const side = (key, i, keys) => (baseKeys.has(key) ? key : rb.keys[i] !== undefined && !keys.has(rb.keys[i]) ? rb.keys[i] : `new ${key}`);
  return [rb, sopsItems(ours, side), sopsItems(theirs, side)];
}
/** A merged text read with its rules named as in the sides: ours' name for its path_regex, else theirs', else the base's, else new. */
function sopsMerged(text, rb, ro, rt) {
  return sopsItems(text, (key) => ro.ids?.get(key) ?? rt.ids?.get(key) ?? (rb.ids?.has(key) ? key : `new ${key}`));
}
/**
 * The order of the rules matters (sops takes the first that matches): for every two rules of the
 * merged text, their order is what the three-way merge of their order in base, ours and theirs says
 * (a side that lacks either has no say). The pairs in conflict or out of order, as text.
 */
function orderProblems(b, o, t, merged) {
  const pos = (order) => new Map(order.map((id, i) => [id, i]));
  const [pb, po, pt, pm] = [pos(b), pos(o), pos(t), pos(merged)];
  const rel = (p, x, y) => (p.has(x) && p.has(y) ? (p.get(x) < p.get(y) ? "<" : ">") : undefined);
  const out = [];
  for (let i = 0; i < merged.length; i++)
    for (let j = i + 1; j < merged.length; j++) {
      const [x, y] = [merged[i], merged[j]];
      const sides = [rel(pb, x, y), rel(po, x, y), rel(pt, x, y)];
      const [rb, ro, rt] = sides;
      // a side that lacks one of the two rules has no say about their order
      const want = ro === undefined && rt === undefined ? undefined : ro === undefined ? rt : rt === undefined ? ro : threeWay(rb, ro, rt);
      if (want === CONFLICT) out.push(`order of ${x} and ${y} changed differently`);
      else if (want !== undefined && want !== rel(pm, x, y)) out.push(`order of ${x} and ${y}`);
    }
  return out;
}
function recipientSet(v) {
  const parts = [];
  const add = (x) => {
    if (typeof x === "string") parts.push(...x.split(","));
    else if (typeof x === "number" || typeof x === "boolean") parts.push(String(x));
    else if (x !== null && x !== undefined) parts.push(canonical(x));
  };
  if (Array.isArray(v)) v.forEach(add);
  else add(v);
  return [...new Set(parts.map((p) => p.trim()).filter((p) => p !== ""))].sort();
}

/** A base .sops.yaml for `model` in one of several layouts, with a description. */
function sopsBase(model) {
  let text = core.renderSopsConfig(model);
  const layout = [];
  const style = pick(["init", "init", "old-4-space", "block-list", "flow-list", "quoted", "single-quoted"]);
  layout.push(style);
  if (style === "old-4-space") text = text.replace(/^  - /gm, "    - ").replace(/^    age/gm, "      age");
  if (style === "block-list") text = text.replace(/^(\s+)age: (.*)$/gm, (_, ind, v) => `${ind}age:\n${v.split(",").map((r) => `${ind}  - ${r}`).join("\n")}`);
  if (style === "flow-list") text = text.replace(/^(\s+)age: (.*)$/gm, (_, ind, v) => `${ind}age: [${v.split(",").join(", ")}]`);
  if (style === "quoted") text = text.replace(/^(\s+)age: (.*)$/gm, (_, ind, v) => `${ind}age: "${v}"`);
  if (style === "single-quoted") text = text.replace(/^(\s+)(path_regex|age): (.*)$/gm, (_, ind, k, v) => `${ind}${k}: '${v}'`);
  if (chance(0.25)) {
    layout.push("comments");
    text = text.replace(/^(\s+)- path_regex/m, "$1# the first environment\n$1- path_regex");
    text += "# end of rules\n";
  }
  if (chance(0.15)) {
    layout.push("catch-all rule");
    text += `  - age: ${fakeRecipient()}\n`;
  }
  if (chance(0.05)) {
    layout.push("key_groups rule");
    text += `  - path_regex: legacy\\.yaml$\n    key_groups:\n      - age:\n          - ${fakeRecipient()}\n`;
  }
  if (chance(0.1)) {
    layout.push("CRLF");
    text = crlf(text);
  }
  return { text, layout: layout.join("+") };
}

/** Realistic edits of a .sops.yaml side (each returns the new text, or the same text when it does not apply). */
const SOPS_EDITS = {
  // what `members add|rm|approve` and `rotate-key` write: updateSopsConfig for the changed model
  members(text, side) {
    const d = changeMembers(side.model);
    const next = core.updateSopsConfig(text, SOPS, side.model);
    return [next ?? text, d];
  },
  reorderRecipients(text) {
    return [text.replace(/^(\s+age: )([^\n\r[]*,[^\n\r]*)$/m, (_, k, v) => `${k}${v.split(",").reverse().join(",")}`), "reorder recipients"];
  },
  addRule(text) {
    const crlfText = text.includes("\r\n");
    const t = text.replace(/\r\n/g, "\n");
    const m = /^(\s*)- path_regex/m.exec(t);
    const ind = m?.[1] ?? "  ";
    const rule = `${ind}- path_regex: ${pick(["(^|/)secrets/extra\\.enc\\.yaml$", "other/.*\\.yaml$", "^dev/"])}\n${ind}  age: ${fakeRecipient()}\n`;
    const at = chance(0.5) && m ? m.index : t.length;
    const out = t.slice(0, at) + rule + t.slice(at);
    return [crlfText ? crlf(out) : out, "add a rule"];
  },
  removeRule(text) {
    const re = /^\s*- path_regex[^\n]*\n(?:\s+(?!- )[^\n]*\n)*/gm;
    const found = [...text.matchAll(re)];
    if (found.length === 0) return [text, "remove a rule (none)"];
    const m = pick(found);
    return [text.slice(0, m.index) + text.slice(m.index + m[0].length), "remove a rule"];
  },
  swapRules(text) {
    const re = /^\s*- path_regex[^\n]*\n(?:\s+(?!- )[^\n]*\n)*/gm;
    const found = [...text.matchAll(re)];
    if (found.length < 2) return [text, "swap rules (none)"];
    const i = int(found.length - 1);
    const a = found[i];
    const b = found[i + 1];
    if (a.index + a[0].length !== b.index) return [text, "swap rules (not adjacent)"];
    return [text.slice(0, a.index) + b[0] + a[0] + text.slice(b.index + b[0].length), "swap two rules"];
  },
  comment(text) {
    return [insertLine(text, pick(["# reviewed", "  # production needs two approvers", "#", "# TODO: split staging"])), "add a comment"];
  },
  changeRegex(text) {
    return [text.replace(/(path_regex: '?\(\^\|\/\)[^\n]*?)\\\.enc/, "$1-v2\\.enc"), "change a path_regex"];
  },
  toFlow(text) {
    return [text.replace(/^(\s+)age: ([^\n\r"'[]+)$/m, (_, ind, v) => `${ind}age: [${v.split(",").join(", ")}]`), "age as a flow list"];
  },
  toBlock(text) {
    return [text.replace(/^(\s+)age: ([^\n\r"'[]+)$/m, (_, ind, v) => `${ind}age:\n${v.split(",").map((r) => `${ind}  - ${r}`).join("\n")}`), "age as a block list"];
  },
  quote(text) {
    return [text.replace(/^(\s+)age: ([^\n\r"'[]+)$/m, (_, ind, v) => `${ind}age: "${v}"`), "quote an age value"];
  },
  crlf(text) {
    return [text.includes("\r\n") ? text.replace(/\r\n/g, "\n") : crlf(text), "toggle CRLF"];
  },
  keyGroups(text) {
    return [text.replace(/^(\s+)age: ([^\n\r]+)$/m, (_, ind, v) => `${ind}key_groups:\n${ind}  - age: [${v.replace(/^["'[]|["'\]]$/g, "")}]`), "to key_groups"];
  },
  duplicateKey(text) {
    return [text.replace(/^(\s+)age: ([^\n\r]+)$/m, (all, ind) => `${all}\n${ind}age: ${fakeRecipient()}`), "a second age key"];
  },
  anchorAlias(text) {
    let n = 0;
    return [
      text.replace(/^(\s+)age: ([^\n\r]+)$/gm, (all, ind, v) => (++n === 1 ? `${ind}age: &keys ${v}` : n === 2 ? `${ind}age: *keys` : all)),
      "anchor and alias",
    ];
  },
  anchorOnly(text) {
    return [text.replace(/^(\s+)age: ([^\n\r]+)$/m, (_, ind, v) => `${ind}age: &k ${v}`), "an anchor"];
  },
  tag(text) {
    return [text.replace(/^(\s+)age: ([^\n\r]+)$/m, (_, ind, v) => `${ind}age: ${pick(["!!str", "!custom", "!!binary"])} ${v}`), "a tag"];
  },
  spaceInList(text) {
    return [text.replace(/^(\s+age: [^\n\r,]+),/m, "$1 , "), "spaces around a comma"];
  },
  trailingComma(text) {
    return [text.replace(/^(\s+age: [^\n\r"'[\]]+)$/m, "$1,"), "a trailing comma"];
  },
};
const SOPS_EDIT_WEIGHTS = [
  ["members", 14],
  ["reorderRecipients", 2],
  ["addRule", 2],
  ["removeRule", 1],
  ["swapRules", 1],
  ["comment", 2],
  ["changeRegex", 1],
  ["toFlow", 1],
  ["toBlock", 1],
  ["quote", 1],
  ["crlf", 1],
  ["keyGroups", 1],
  ["duplicateKey", 1],
  ["anchorAlias", 1],
  ["anchorOnly", 1],
  ["tag", 1],
  ["spaceInList", 1],
  ["trailingComma", 1],
];
const weighted = (table) => {
  const total = table.reduce((s, [, w]) => s + w, 0);
  let r = rand() * total;
  for (const [k, w] of table) if ((r -= w) < 0) return k;
  return table[0][0];
};

const writerCrashes = [];
/** One side: 0–3 realistic edits (members most), then rarely 1–2 random mutations. */
function editSide(base, model, edits, weights, mutateP) {
  const side = { model: cloneModel(model) };
  let text = base;
  const done = [];
  const n = pick([0, 1, 1, 1, 2, 2, 3]);
  for (let i = 0; i < n; i++) {
    const e = weighted(weights);
    try {
      const [next, d] = edits[e](text, side);
      text = next;
      done.push(d);
    } catch (error) {
      // a core writer refusing an already-broken side (a coded CoreError) is what the CLI would say: no edit;
      // an uncoded exception is a crash of the writer the CLI uses (members add|rm, rotate-key, approve)
      if (typeof error?.code !== "string") writerCrashes.push({ edit: e, message: `${error?.name}: ${error?.message}`, text });
      done.push(`${e} refused (${error?.code ?? "crash"})`);
    }
  }
  if (chance(mutateP)) {
    for (let i = 0, k = 1 + int(2); i < k; i++) {
      const m = pick(Object.keys(RANDOM_MUTATIONS));
      text = RANDOM_MUTATIONS[m](text);
      done.push(`mutation ${m}`);
    }
  }
  return { text, done };
}

// ---------------------------------------------------------------------------------------------
// git's text merge (what the driver falls back to; all that stellar.yaml gets)
const work = GIT ? mkdtempSync(join(tmpdir(), "stellar-fuzz-config-")) : undefined;
function gitMergeFile(base, ours, theirs) {
  writeFileSync(join(work, "base"), base);
  writeFileSync(join(work, "ours"), ours);
  writeFileSync(join(work, "theirs"), theirs);
  const r = spawnSync("git", ["merge-file", "-p", "-L", "ours", "-L", "base", "-L", "theirs", "ours", "base", "theirs"], { cwd: work, encoding: "utf8", maxBuffer: 1 << 24 });
  if (r.status === null || r.status < 0 || r.status > 127) return { error: r.stderr || String(r.status) };
  return { clean: r.status === 0, text: r.stdout };
}

// ---------------------------------------------------------------------------------------------
// figures
function newStats() {
  return { cases: 0, clean: 0, conflict: 0, leftToGit: 0, gitClean: 0, gitConflict: 0, gitRefused: 0, gitWrong: 0, invalidSide: 0, defects: { crash: 0, wrong: 0, misread: 0, asymmetric: 0, identity: 0 } };
}
const problems = [];
function defect(stats, target, oracle, c, detail) {
  stats.defects[oracle]++;
  problems.push({ target, oracle, detail, case: c });
}

const isCoded = (e) => typeof e?.code === "string" && /^[A-Z][A-Z0-9_]+$/.test(e.code);
function runSopsMerge(b, o, t) {
  try {
    return { value: core.mergeSopsConfigs(b, o, t, SOPS) };
  } catch (error) {
    return isCoded(error) ? { coded: error.code } : { crash: error };
  }
}

function sopsCase(stats, i) {
  const model = randomModel();
  const { text: base, layout } = sopsBase(model);
  const a = editSide(base, model, SOPS_EDITS, SOPS_EDIT_WEIGHTS, 0.15);
  const b = chance(0.1) ? { text: a.text, done: [...a.done, "(same as ours)"] } : editSide(base, model, SOPS_EDITS, SOPS_EDIT_WEIGHTS, 0.15);
  const c = { i, layout, base, ours: a.text, theirs: b.text, ourEdits: a.done, theirEdits: b.done };
  stats.cases++;
  const [rb, ro, rt] = sopsSides(base, a.text, b.text);
  const invalid = [rb, ro, rt].find((r) => r.items === undefined);
  if (invalid) stats.invalidSide++;
  const strictInvalid = [rb, ro, rt].find((r) => ["unparseable", "duplicate-key", "alias", "anchor", "tag", "several-documents"].includes(r.why));
  const r1 = runSopsMerge(base, a.text, b.text);
  const r2 = runSopsMerge(base, b.text, a.text);
  for (const r of [r1, r2]) if (r.crash) defect(stats, "sops", "crash", c, `${r.crash?.name}: ${r.crash?.message}`);
  const m1 = r1.value;
  const m2 = r2.value;
  if (m1 !== undefined) {
    stats.clean++;
    if (strictInvalid) defect(stats, "sops", "misread", c, `merged clean although a side is not a plain config (${strictInvalid.why})`);
    else if (!invalid) {
      const bad = sopsVerdict(rb, ro, rt, m1.text);
      if (bad !== undefined) defect(stats, "sops", "wrong", c, bad);
    } else if (parseOk(m1.text) === false) defect(stats, "sops", "wrong", c, "the merged text does not parse");
  } else {
    if (!invalid && mergeItems(rb.items, ro.items, rt.items).conflicts.length > 0) stats.conflict++;
    else stats.leftToGit++;
    if (GIT) {
      const g = gitMergeFile(base, a.text, b.text);
      // the driver's check of a clean text merge (textMergedSopsConfigProblem): what it refuses is a conflict (exit 1)
      const refused = g.clean && typeof core.textMergedSopsConfigProblem === "function" && core.textMergedSopsConfigProblem(base, a.text, b.text, g.text, SOPS) !== undefined;
      if (refused) stats.gitRefused++;
      else if (g.clean) {
        stats.gitClean++;
        if (!invalid) {
          const bad = sopsVerdict(rb, ro, rt, g.text);
          if (bad !== undefined) {
            stats.gitWrong++;
            problems.push({ target: "sops", oracle: "git-text-merge", detail: bad, case: c });
          }
        }
      } else stats.gitConflict++;
    }
  }
  // 4: symmetric
  if ((m1 === undefined) !== (m2 === undefined)) defect(stats, "sops", "asymmetric", c, `merge(base, A, B) is ${m1 ? "clean" : "not merged"}, merge(base, B, A) ${m2 ? "clean" : "not merged"}`);
  else if (m1 !== undefined && m2 !== undefined) {
    const x = sopsItems(m1.text);
    const y = sopsItems(m2.text);
    if ((x.items === undefined) !== (y.items === undefined) || (x.items && !sameItems(x.items, y.items))) defect(stats, "sops", "asymmetric", c, "merge(base, A, B) and merge(base, B, A) read differently");
  }
  // 5: identities
  const same = runSopsMerge(base, a.text, a.text);
  if (same.crash) defect(stats, "sops", "crash", c, `merge(base, A, A): ${same.crash.message}`);
  else if (same.value !== undefined && same.value.text !== a.text) defect(stats, "sops", "identity", c, "merge(base, A, A) is not A");
  const theirsOnly = runSopsMerge(base, base, b.text);
  if (theirsOnly.crash) defect(stats, "sops", "crash", c, `merge(base, base, B): ${theirsOnly.crash.message}`);
  else if (theirsOnly.value !== undefined && theirsOnly.value.text !== b.text) defect(stats, "sops", "identity", c, "merge(base, base, B) is not B");
  const oursOnly = runSopsMerge(base, a.text, base);
  if (oursOnly.crash) defect(stats, "sops", "crash", c, `merge(base, A, base): ${oursOnly.crash.message}`);
  else if (oursOnly.value !== undefined && oursOnly.value.text !== a.text) defect(stats, "sops", "identity", c, "merge(base, A, base) is not A");
}
/** What is wrong with a clean merged .sops.yaml against the per-item three-way merge of the (plain) sides, or undefined. */
function sopsVerdict(rb, ro, rt, text) {
  const want = mergeItems(rb.items, ro.items, rt.items);
  const got = sopsMerged(text, rb, ro, rt);
  if (got.items === undefined) return `the merged text is not a plain config (${got.why})`;
  if (want.conflicts.length > 0) return `clean although both sides changed ${want.conflicts.join(", ")} differently`;
  if (!sameItems(want.items, got.items)) return `items differ from the three-way merge: ${itemDiff(want.items, got.items).join(", ")}`;
  const order = orderProblems(rb.order, ro.order, rt.order, got.order);
  if (order.length > 0) return order.join(", ");
  return undefined;
}
function parseOk(text) {
  return plainRead(text).data !== undefined;
}

// ---------------------------------------------------------------------------------------------
// stellar.yaml (git's text merge: no driver)
function stellarItems(text) {
  const r = plainRead(text);
  if (r.data === undefined) return { why: r.why };
  const d = r.data;
  if (d === null || typeof d !== "object" || Array.isArray(d)) return { why: "not-a-mapping" };
  const items = new Map();
  const envs = d.environments;
  if (envs !== undefined && (envs === null || typeof envs !== "object" || Array.isArray(envs))) return { why: "environments-not-a-mapping" };
  for (const [env, e] of Object.entries(envs ?? {})) {
    items.set(`env ${env}`, "declared");
    if (e === null || typeof e !== "object" || Array.isArray(e)) {
      items.set(`env ${env} (value)`, canonical(e));
      continue;
    }
    for (const field of ["members", "pending", "approved"]) {
      const v = e[field];
      if (v !== null && typeof v === "object" && !Array.isArray(v)) for (const [name, x] of Object.entries(v)) items.set(`${env}.${field}.${name}`, canonical(x));
      else if (v !== undefined) items.set(`${env}.${field}`, canonical(v));
    }
    const rest = { ...e };
    delete rest.members;
    delete rest.pending;
    delete rest.approved;
    if (Object.keys(rest).length > 0) items.set(`${env} (other keys)`, canonical(rest));
  }
  const rest = { ...d };
  delete rest.environments;
  for (const [k, v] of Object.entries(rest)) items.set(`top ${k}`, canonical(v));
  return { items };
}
/** No error-severity finding of the project's own stellar.yaml reader. */
function projectReads(text) {
  try {
    const { config, diagnostics } = core.parseProjectConfig(text, "/fuzz/stellar.yaml");
    return config !== undefined && !diagnostics.some((x) => x.severity === "error");
  } catch (error) {
    return isCoded(error) ? false : { crash: error };
  }
}
function stellarBase(model) {
  let text = core.renderProjectConfig(model);
  const layout = ["init"];
  // pending requests and approvals, as request-access and members approve write them
  for (const env of model.environments) {
    if (chance(0.3)) {
      const name = pick(PEOPLE.filter((p) => !env.members.some((m) => m.name === p))) ?? "zed";
      text = core.setPendingRequests(text, env.name, [{ name, recipient: fakeRecipient(), requested: "2026-12-01T10:00:00Z" }]);
      layout.push("pending");
    }
    if (chance(0.3)) {
      text = core.setApprovals(text, env.name, [{ name: env.members[0].name, by: "alice", date: "2026-11-01T10:00:00Z" }]);
      layout.push("approved");
    }
  }
  if (chance(0.2)) {
    layout.push("4-space");
    text = text.replace(/^( +)/gm, (s) => s + s);
  }
  if (chance(0.2)) {
    layout.push("comments");
    text = text.replace(/^(\s+)members:/m, "$1# who can decrypt\n$1members:");
  }
  if (chance(0.1)) {
    layout.push("CRLF");
    text = crlf(text);
  }
  return { text, layout: layout.join("+") };
}
/** The environment as the project's reader sees it in `text` (pending requests, approvals), or undefined. */
function current(text, envName) {
  return core.parseProjectConfig(text, "/fuzz/stellar.yaml").config?.environments.find((e) => e.name === envName);
}
function setMembersOf(text, side, envName) {
  const env = side.model.environments.find((e) => e.name === envName);
  return core.setEnvironmentMembers(text, envName, env.members);
}
const STELLAR_EDITS = {
  members(text, side) {
    const d = changeMembers(side.model);
    const env = /(?:to|from|in|of) (\S+)$/.exec(d)?.[1];
    return [setMembersOf(text, side, env), d];
  },
  requestAccess(text, side) {
    // request-access: one more pending request (the ones there stay)
    const env = pick(side.model.environments);
    const name = pick(PEOPLE);
    const pending = [...(current(text, env.name)?.pending ?? []).filter((p) => p.name !== name), { name, recipient: fakeRecipient(), requested: "2026-12-02T09:00:00Z" }];
    return [core.setPendingRequests(text, env.name, pending), `request-access ${name} ${env.name}`];
  },
  approve(text, side) {
    // members approve: a pending request (or a new name) becomes a member, its approval is added, its request dropped
    const env = pick(side.model.environments);
    const now = current(text, env.name);
    const request = now?.pending?.find((p) => !env.members.some((m) => m.name === p.name));
    const name = request?.name ?? pick(PEOPLE.filter((p) => !env.members.some((m) => m.name === p))) ?? "zed";
    env.members.push({ name, recipient: request?.recipient ?? fakeRecipient() });
    let t = setMembersOf(text, side, env.name);
    t = core.setApprovals(t, env.name, [...(current(t, env.name)?.approved ?? []).filter((a) => a.name !== name), { name, by: env.members[0].name, date: "2026-12-03T10:00:00Z" }]);
    t = core.setPendingRequests(t, env.name, (now?.pending ?? []).filter((p) => p.name !== name));
    return [t, `approve ${name} in ${env.name}`];
  },
  addEnvironment(text, side) {
    const name = pick(ENV_NAMES.filter((n) => !side.model.environments.some((e) => e.name === n))) ?? "extra";
    side.model.environments.push({ name, members: [{ name: "alice", recipient: fakeRecipient() }] });
    return [setMembersOf(text, side, name), `add environment ${name}`];
  },
  removeEnvironment(text, side) {
    // (a hand edit: no command removes an environment; a side whose alias it would break is left as it was)
    const env = pick(side.model.environments);
    const doc = core.editableDocument(text, "stellar.yaml");
    doc.deleteIn(["environments", env.name]);
    let out;
    try {
      out = core.renderEditedDocument(doc, text);
    } catch {
      return [text, `remove environment ${env.name} (not applicable)`];
    }
    side.model.environments = side.model.environments.filter((e) => e !== env);
    return [out, `remove environment ${env.name}`];
  },
  reorderMembers(text) {
    // two neighbouring member lines swapped (a hand edit that changes no membership)
    const found = [...text.matchAll(/^( +)([\w.@-]+: age1\w+\r?\n)\1([\w.@-]+: age1\w+\r?\n)/gm)];
    if (found.length === 0) return [text, "reorder members (none)"];
    const m = pick(found);
    return [text.slice(0, m.index) + m[1] + m[3] + m[1] + m[2] + text.slice(m.index + m[0].length), "reorder two members"];
  },
  comment(text) {
    return [insertLine(text, pick(["# reviewed", "    # added for the audit", "#"])), "add a comment"];
  },
  severity(text) {
    const doc = core.editableDocument(text, "stellar.yaml");
    doc.setIn(["rules", pick(["unused-secret", "unknown-secret", "sops-config-drift"])], pick(["error", "warning", "off"]));
    return [core.renderEditedDocument(doc, text), "a rule's severity"];
  },
  flowMembers(text) {
    return [text.replace(/^(\s+)members:\n((?:\1 +\S+: \S+\n)+)/m, (_, ind, body) => `${ind}members: {${body.trim().split("\n").map((l) => l.trim()).join(", ")}}\n`), "members as a flow map"];
  },
  crlf(text) {
    return [text.includes("\r\n") ? text.replace(/\r\n/g, "\n") : crlf(text), "toggle CRLF"];
  },
  duplicateMember(text) {
    return [text.replace(/^(\s+)(\w[\w-]*): (age1\w+)$/m, (all, ind, n) => `${all}\n${ind}${n}: ${fakeRecipient()}`), "a member twice"];
  },
  alias(text) {
    let n = 0;
    return [text.replace(/^(\s+)(\w[\w-]*): (age1\w+)$/gm, (all, ind, k, v) => (++n === 1 ? `${ind}${k}: &k ${v}` : n === 2 ? `${ind}${k}: *k` : all)), "anchor and alias"];
  },
};
const STELLAR_EDIT_WEIGHTS = [
  ["members", 14],
  ["requestAccess", 2],
  ["approve", 3],
  ["addEnvironment", 1],
  ["removeEnvironment", 1],
  ["reorderMembers", 1],
  ["comment", 2],
  ["severity", 1],
  ["flowMembers", 1],
  ["crlf", 1],
  ["duplicateMember", 1],
  ["alias", 1],
];

function runProjectMerge(b, o, t) {
  try {
    return { value: core.mergeProjectConfigs(b, o, t, "stellar.yaml") };
  } catch (error) {
    return isCoded(error) ? { coded: error.code } : { crash: error };
  }
}
/** The `env.members.name` items of `items` whose name has two keys across environments, or whose key has two names. */
function identityClashes(items) {
  const members = [...items].flatMap(([k, v]) => {
    const m = /^([^.]+)\.members\.(.+)$/.exec(k);
    return m ? [{ item: k, name: m[2], key: v }] : [];
  });
  const count = (f, g) => {
    const out = new Map();
    for (const x of members) out.set(f(x), new Set([...(out.get(f(x)) ?? []), g(x)]));
    return out;
  };
  const keysOf = count((x) => x.name, (x) => x.key);
  const namesOf = count((x) => x.key, (x) => x.name);
  return new Set(members.filter((x) => keysOf.get(x.name).size > 1 || namesOf.get(x.key).size > 1).map((x) => x.item));
}
/** "clean", "conflict" or "declined": what the driver's stellar.yaml merge made of a case. */
const projectOutcome = (r) => (r.value === undefined ? "declined" : r.value.merged ? "clean" : "conflict");

function stellarCase(stats, i) {
  const model = randomModel();
  const { text: base, layout } = stellarBase(model);
  const a = editSide(base, model, STELLAR_EDITS, STELLAR_EDIT_WEIGHTS, 0.1);
  const b = chance(0.1) ? { text: a.text, done: [...a.done, "(same as ours)"] } : editSide(base, model, STELLAR_EDITS, STELLAR_EDIT_WEIGHTS, 0.1);
  const c = { i, layout, base, ours: a.text, theirs: b.text, ourEdits: a.done, theirEdits: b.done };
  stats.cases++;
  const sides = [base, a.text, b.text].map(stellarItems);
  const reads = [base, a.text, b.text].map(projectReads);
  for (const r of reads) if (r?.crash) defect(stats, "stellar", "crash", c, `parseProjectConfig: ${r.crash.message}`);
  const invalid = sides.some((s) => s.items === undefined) || reads.some((r) => r !== true);
  if (invalid) stats.invalidSide++;
  const strictInvalid = sides.find((r) => ["unparseable", "duplicate-key", "alias", "anchor", "tag", "several-documents"].includes(r.why));
  // the driver: mergeProjectConfigs (git's text merge where it declines or finds a name changed differently)
  const r1 = runProjectMerge(base, a.text, b.text);
  const r2 = runProjectMerge(base, b.text, a.text);
  for (const r of [r1, r2]) if (r.crash) defect(stats, "stellar", "crash", c, `${r.crash?.name}: ${r.crash?.message}`);
  const want = invalid ? undefined : mergeItems(sides[0].items, sides[1].items, sides[2].items);
  const m1 = r1.value;
  if (m1?.merged) {
    stats.clean++;
    // 3: never clean over a side that is not a plain config
    if (strictInvalid && !(a.text === base && b.text === base)) defect(stats, "stellar", "misread", c, `merged clean although a side is not a plain config (${strictInvalid.why})`);
    else if (want !== undefined) {
      // 2: the per-item three-way merge: never a member neither side had, never one a side removed brought back
      const got = stellarItems(m1.text);
      const bad =
        got.items === undefined
          ? `the merged text is not a plain config (${got.why})`
          : projectReads(m1.text) !== true
            ? "stellar.yaml reader reports an error"
            : want.conflicts.length > 0
              ? `clean over ${want.conflicts.join(", ")} changed differently`
              : !sameItems(want.items, got.items)
                ? `items differ from the three-way merge: ${itemDiff(want.items, got.items).join(", ")}`
                : undefined;
      if (bad !== undefined) defect(stats, "stellar", "wrong", c, bad);
    }
  } else if (m1 !== undefined) {
    stats.conflict++;
    // a conflict the per-item merge has, or (one-name-one-key) a member name with two keys, or a key with two names, in its result
    const clashing = want === undefined || want.conflicts.length > 0 ? undefined : identityClashes(want.items);
    const unfounded = clashing === undefined ? [] : m1.conflicts.filter((x) => x.reason !== "one-name-one-key" || !clashing.has(`${x.environment}.members.${x.name}`));
    if (unfounded.length > 0) defect(stats, "stellar", "wrong", c, `reports ${unfounded.map((x) => `${x.environment}.${x.field}.${x.name} (${x.reason})`).join(", ")}; the three-way merge has no such conflict`);
  } else stats.leftToGit++;
  if (m1 === undefined || !m1.merged) {
    if (GIT) {
      const g = gitMergeFile(base, a.text, b.text);
      if (!g.clean) stats.gitConflict++;
      else if (m1 !== undefined) stats.gitRefused++; // the driver reports the names and exits 1 over git's clean text
      else if (typeof core.textMergedProjectConfigProblem === "function" && core.textMergedProjectConfigProblem(base, a.text, b.text, g.text) !== undefined) stats.gitRefused++; // the driver's check of a clean text merge: exit 1
      else {
        stats.gitClean++;
        if (!invalid) {
          const got = stellarItems(g.text);
          const readsBack = projectReads(g.text);
          if (readsBack?.crash) defect(stats, "stellar", "crash", c, `parseProjectConfig: ${readsBack.crash.message}`);
          const bad =
            got.items === undefined
              ? `not a plain config (${got.why})`
              : readsBack !== true
                ? "stellar.yaml reader reports an error"
                : want.conflicts.length > 0
                  ? `clean over ${want.conflicts.join(", ")} changed differently`
                  : !sameItems(want.items, got.items)
                    ? `items differ: ${itemDiff(want.items, got.items).join(", ")}`
                    : undefined;
          if (bad !== undefined) {
            stats.gitWrong++;
            problems.push({ target: "stellar", oracle: "git-text-merge", detail: bad, case: c });
          }
        }
      }
    }
  }
  // 4: symmetric (clean, conflict or declined alike; the same items when clean)
  if (!r1.crash && !r2.crash) {
    const [k1, k2] = [projectOutcome(r1), projectOutcome(r2)];
    if (k1 !== k2) defect(stats, "stellar", "asymmetric", c, `merge(base, A, B) is ${k1}, merge(base, B, A) ${k2}`);
    else if (k1 === "clean") {
      const x = stellarItems(r1.value.text);
      const y = stellarItems(r2.value.text);
      if ((x.items === undefined) !== (y.items === undefined) || (x.items && !sameItems(x.items, y.items))) defect(stats, "stellar", "asymmetric", c, "merge(base, A, B) and merge(base, B, A) read differently");
    }
  }
  // 5: identities
  for (const [label, o, t, expected] of [
    ["merge(base, A, A)", a.text, a.text, a.text],
    ["merge(base, base, B)", base, b.text, b.text],
    ["merge(base, A, base)", a.text, base, a.text],
  ]) {
    const r = runProjectMerge(base, o, t);
    if (r.crash) defect(stats, "stellar", "crash", c, `${label}: ${r.crash.message}`);
    else if (r.value !== undefined && !(r.value.merged && r.value.text === expected)) defect(stats, "stellar", "identity", c, `${label} is not ${expected === base ? "base" : label.endsWith("B)") ? "B" : "A"}`);
  }
}

// ---------------------------------------------------------------------------------------------
// review's diffMerge (history of a merge commit): pure, versions in, changes out
function historyCase(stats, i) {
  const names = ["a", "b", "c", "d", "e"];
  const enc = () => `ENC[AES256_GCM,data:${int(6)},iv:x,tag:y,type:str]`;
  const version = () => (chance(0.1) ? undefined : { values: new Map(names.filter(() => chance(0.7)).map((n) => [n, enc()])), stanzas: new Map([["age1x", `w${int(3)}`]]) });
  const derive = (v) => {
    if (v === undefined || chance(0.1)) return version();
    const values = new Map(v.values);
    for (const n of names) if (chance(0.3)) chance(0.3) ? values.delete(n) : values.set(n, enc());
    return { values, stanzas: chance(0.2) ? new Map([["age1x", `w${int(3)}`]]) : v.stanzas };
  };
  const base = version();
  const p1 = derive(base);
  const p2 = derive(base);
  const parents = chance(0.15) ? [p1, p2, derive(base)] : [p1, p2];
  const after = chance(0.3) ? derive(pick(parents)) : derive(p1);
  const c = { i, layout: "history", base: "", ours: "", theirs: "", ourEdits: [], theirEdits: [] };
  stats.cases++;
  let out;
  let swapped;
  try {
    out = core.diffMerge(parents, after);
    swapped = core.diffMerge([...parents].reverse(), after);
  } catch (error) {
    defect(stats, "history", "crash", c, String(error?.message));
    return;
  }
  const next = after?.values ?? new Map();
  const differsFromEvery = (n) => parents.every((p) => p?.values.get(n) !== next.get(n));
  const want = new Set([...new Set([...parents.flatMap((p) => [...(p?.values.keys() ?? [])]), ...next.keys()])].filter(differsFromEvery));
  const got = new Set(out.map((x) => x.name));
  if (want.size !== got.size || [...want].some((n) => !got.has(n))) defect(stats, "history", "wrong", c, `names ${[...got]} instead of ${[...want]}`);
  const first = parents[0]?.values ?? new Map();
  for (const x of out) {
    const kind = !first.has(x.name) ? "added" : !next.has(x.name) ? "removed" : ["changed", "re-encrypted"];
    if (Array.isArray(kind) ? !kind.includes(x.kind) : x.kind !== kind) defect(stats, "history", "wrong", c, `${x.name} is ${x.kind}, relative to the first parent it is ${kind}`);
  }
  const gotSwapped = new Set(swapped.map((x) => x.name));
  if (gotSwapped.size !== got.size || [...got].some((n) => !gotSwapped.has(n))) defect(stats, "history", "asymmetric", c, "another parent order lists other names");
  if (out.length > 0 || swapped.length > 0) stats.clean++;
  // 5: a merge commit that is one parent's version made no change of its own
  for (const p of parents) {
    if (p !== undefined && core.diffMerge(parents, p).length > 0) defect(stats, "history", "identity", c, "a merge that kept a parent's version lists changes");
  }
}

// ---------------------------------------------------------------------------------------------
const started = Date.now();
const all = {};
for (const target of ["sops", "stellar", "history"]) {
  if (!TARGETS.has(target)) continue;
  const stats = newStats();
  all[target] = stats;
  for (let i = 0; i < CASES; i++) {
    if (target === "sops") sopsCase(stats, i);
    else if (target === "stellar") stellarCase(stats, i);
    else historyCase(stats, i);
  }
}
if (work) rmSync(work, { recursive: true, force: true });

const fmt = (n) => n.toLocaleString("en-US");
console.log(`config-merge fuzz: seed ${SEED}, ${fmt(CASES)} cases per target, git text merge ${GIT ? "on" : "off"}, ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
console.log("| target | cases | a side not plain | driver clean | driver: changed differently | left to git | git conflict | git clean, driver refuses | git clean | git clean but wrong | crash | wrong | misread | asymmetric | identity |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const [target, s] of Object.entries(all)) {
  const d = s.defects;
  const name = target === "sops" ? "`.sops.yaml` (`mergeSopsConfigs`)" : target === "stellar" ? "`stellar.yaml` (`mergeProjectConfigs`)" : "review `diffMerge`";
  console.log(
    `| ${name} | ${fmt(s.cases)} | ${fmt(s.invalidSide)} | ${fmt(s.clean)} | ${fmt(s.conflict)} | ${fmt(s.leftToGit)} | ${GIT ? fmt(s.gitConflict) : "-"} | ${GIT && target !== "history" ? fmt(s.gitRefused) : "-"} | ${GIT ? fmt(s.gitClean) : "-"} | ${GIT ? fmt(s.gitWrong) : "-"} | ${d.crash} | ${d.wrong} | ${d.misread} | ${d.asymmetric} | ${d.identity} |`,
  );
}
if (writerCrashes.length > 0) {
  const kinds = new Map();
  for (const w of writerCrashes) kinds.set(`${w.edit}: ${w.message}`, [...(kinds.get(`${w.edit}: ${w.message}`) ?? []), w]);
  console.log(`\nWriters that crashed while making a side (an uncoded exception of the CLI's own writer): ${writerCrashes.length}`);
  for (const [k, ws] of kinds) console.log(`  ${String(ws.length).padStart(5)}  ${k}\n         e.g. ${JSON.stringify(ws[0].text)}`);
}
const byKind = new Map();
for (const p of problems) {
  const k = `${p.target} ${p.oracle}: ${p.detail.replace(/age1\w+/g, "age1…").replace(/rule [^,]*/g, "rule …")}`;
  byKind.set(k, (byKind.get(k) ?? 0) + 1);
}
if (byKind.size > 0) {
  console.log("\nProblems by kind:");
  for (const [k, n] of [...byKind].sort((x, y) => y[1] - x[1]).slice(0, 40)) console.log(`  ${String(n).padStart(5)}  ${k}`);
}
const shown = new Set();
let left = SHOW;
for (const p of problems) {
  if (left <= 0) break;
  const kind = `${p.target}:${p.oracle}:${p.detail.slice(0, 40)}`;
  if (shown.has(kind)) continue;
  shown.add(kind);
  left--;
  console.log(`\n--- ${p.target} ${p.oracle} (case ${p.case.i}, base ${p.case.layout}): ${p.detail}`);
  console.log(`ours: ${p.case.ourEdits.join("; ") || "(no edit)"}\ntheirs: ${p.case.theirEdits.join("; ") || "(no edit)"}`);
  if (p.target !== "history") {
    console.log(`BASE:\n${JSON.stringify(p.case.base)}\nOURS:\n${JSON.stringify(p.case.ours)}\nTHEIRS:\n${JSON.stringify(p.case.theirs)}`);
  }
}
const driverDefects = Object.values(all).reduce((s, x) => s + Object.values(x.defects).reduce((a, b) => a + b, 0), 0);
process.exit(driverDefects + writerCrashes.length > 0 ? 1 : 0);
