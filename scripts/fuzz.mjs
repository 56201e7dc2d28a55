#!/usr/bin/env node
/**
 * Seeded mutation fuzz of the envelope and the resolver (`pnpm fuzz`; not part of `npm test`).
 * Builds one valid environment file with a TEST-ONLY key made for this run, then applies N
 * deterministic mutations (seeded PRNG: byte flips, deletions, insertions, truncation, line
 * swaps and duplicates, base64 character changes inside ENC[...] and the age stanza, YAML
 * nesting) and reads each mutated file with `decryptSecrets` (packages/sops) and with
 * `createResolver` (packages/resolver). Each case is one of:
 *   refused            a coded error (SopsError / ResolverError)
 *   accepted-unchanged read, with exactly the original names and values
 *   accepted-changed   read, but with other names or values (must be 0: a MAC that lets a change through)
 *   crashed            anything else: an uncoded exception (TypeError, RangeError, ...) (must be 0)
 * Usage: node scripts/fuzz.mjs [--cases 10000] [--seed 12] [--resolver-every 1]
 * Exits 1 when accepted-changed or crashed is not 0. Needs a build (`pnpm build`).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values: opts } = parseArgs({ options: { cases: { type: "string", default: "10000" }, seed: { type: "string", default: "12" }, "resolver-every": { type: "string", default: "1" } } });
const CASES = Number(opts.cases);
const SEED = Number(opts.seed);
const RESOLVER_EVERY = Math.max(1, Number(opts["resolver-every"]));

const sops = await import("../packages/sops/dist/index.js");
const { createResolver, ResolverError } = await import("../packages/resolver/dist/index.js");

/** mulberry32: a small seeded PRNG (deterministic across runs and machines). */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = prng(SEED);
const int = (n) => Math.floor(rand() * n);
const pick = (xs) => xs[int(xs.length)];

const key = await sops.generateIdentity(); // TEST-ONLY, made for this run
const original = new Map([
  ["stripe_api_key", "sk_test_fuzz_value_1"],
  ["hubspot_api_token", "multi\nline value with 'quotes' and $dollar"],
  ["zendesk_api_token", "z"], // not "": sops stores an empty value in clear, outside the MAC (see docs/fuzz.md)
  ["sendgrid_api_key", "ünïcödé ✓"],
]);
const base = await sops.encryptSecrets(original, { recipients: [key.recipient] });
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";

const MUTATIONS = {
  flipByte(t) {
    const b = Buffer.from(t, "utf8");
    const i = int(b.length);
    b[i] ^= 1 << int(8);
    return b.toString("latin1") === t ? t : Buffer.from(b).toString("utf8");
  },
  deleteRange(t) {
    const i = int(t.length);
    return t.slice(0, i) + t.slice(i + 1 + int(8));
  },
  insertChar(t) {
    const i = int(t.length);
    return t.slice(0, i) + pick([" ", "\n", ":", "-", "#", "'", '"', "[", "{", "\t", "\u0000", "x", "=", "A"]) + t.slice(i);
  },
  truncate(t) {
    return t.slice(0, int(t.length));
  },
  swapLines(t) {
    const ls = t.split("\n");
    const i = int(ls.length);
    const j = int(ls.length);
    [ls[i], ls[j]] = [ls[j], ls[i]];
    return ls.join("\n");
  },
  duplicateLine(t) {
    const ls = t.split("\n");
    const i = int(ls.length);
    ls.splice(i, 0, ls[i]);
    return ls.join("\n");
  },
  deleteLine(t) {
    const ls = t.split("\n");
    ls.splice(int(ls.length), 1);
    return ls.join("\n");
  },
  base64Char(t) {
    // a character inside an ENC[...] field or the armored age stanza
    const spots = [];
    const re = /(data|iv|tag):([A-Za-z0-9+/=]+)|^\s+([A-Za-z0-9+/=]{20,})$/gm;
    for (let m = re.exec(t); m !== null; m = re.exec(t)) {
      const s = m[2] ?? m[3];
      spots.push(m.index + m[0].indexOf(s) + int(s.length));
    }
    if (spots.length === 0) return t;
    const i = pick(spots);
    return t.slice(0, i) + pick([...B64]) + t.slice(i + 1);
  },
  swapValues(t) {
    // move one name's ENC string to another name (a classic substitution attack)
    const re = /^(\w+): (ENC\[[^\]]+\])$/gm;
    const found = [...t.matchAll(re)];
    if (found.length < 2) return t;
    const a = pick(found);
    const b = pick(found);
    return t.replace(a[0], `${a[1]}: ${b[2]}`).replace(b[0], `${b[1]}: ${a[2]}`);
  },
  changeType(t) {
    return t.replace(/type:str\]/, pick(["type:int]", "type:bool]", "type:float]", "type:bytes]", "type:xx]"]));
  },
  nest(t) {
    const n = 1 + int(5000);
    return `deep: ${"[".repeat(n)}${"]".repeat(n)}\n${t}`;
  },
  renameKey(t) {
    return t.replace(/^(\w+):/m, (_, k) => `${k}${pick(["x", "_unencrypted", "", "Z"])}:`);
  },
};
const NAMES = Object.keys(MUTATIONS);

function same(values) {
  if (values.size !== original.size) return false;
  for (const [k, v] of original) if (values.get(k) !== v) return false;
  return true;
}

const dir = mkdtempSync(join(tmpdir(), "stellar-fuzz-"));
const file = join(dir, "production.enc.yaml");
const counts = { tried: 0, refused: 0, "accepted-unchanged": 0, "accepted-changed": 0, crashed: 0 };
const resolverCounts = { tried: 0, refused: 0, "accepted-unchanged": 0, "accepted-changed": 0, crashed: 0 };
const byMutation = Object.fromEntries(NAMES.map((n) => [n, 0]));
const problems = [];
const started = Date.now();
try {
  for (let c = 0; c < CASES; c++) {
    let text = base;
    const steps = 1 + int(3);
    const used = [];
    for (let s = 0; s < steps; s++) {
      const m = pick(NAMES);
      used.push(m);
      text = MUTATIONS[m](text);
    }
    for (const m of used) byMutation[m]++;
    counts.tried++;
    try {
      const out = await sops.decryptSecrets(text, [key.identity], { path: "production.enc.yaml" });
      if (same(out.values)) counts["accepted-unchanged"]++;
      else {
        counts["accepted-changed"]++;
        problems.push({ case: c, mutations: used, outcome: "accepted-changed" });
      }
    } catch (e) {
      if (e instanceof sops.SopsError) counts.refused++;
      else {
        counts.crashed++;
        problems.push({ case: c, mutations: used, outcome: "crashed", error: `${e?.name}: ${e?.message}`.slice(0, 200) });
      }
    }
    if (c % RESOLVER_EVERY === 0) {
      resolverCounts.tried++;
      writeFileSync(file, text);
      try {
        const r = await createResolver({ environment: "production", files: { production: file }, identities: key.identity, env: {} });
        const values = new Map(r.names().map((n) => [n, r.get(n)]));
        r.close();
        if (same(values)) resolverCounts["accepted-unchanged"]++;
        else {
          resolverCounts["accepted-changed"]++;
          problems.push({ case: c, mutations: used, outcome: "resolver accepted-changed" });
        }
      } catch (e) {
        if (e instanceof ResolverError) resolverCounts.refused++;
        else {
          resolverCounts.crashed++;
          problems.push({ case: c, mutations: used, outcome: "resolver crashed", error: `${e?.name}: ${e?.message}`.slice(0, 200) });
        }
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const seconds = ((Date.now() - started) / 1000).toFixed(1);
console.log(`seed ${SEED}, ${CASES} cases, ${seconds} s`);
console.log(`envelope (decryptSecrets): ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(" / ")}`);
console.log(`resolver (createResolver): ${Object.entries(resolverCounts).map(([k, v]) => `${k} ${v}`).join(" / ")}`);
console.log(`mutations applied: ${Object.entries(byMutation).map(([k, v]) => `${k} ${v}`).join(", ")}`);
for (const p of problems.slice(0, 20)) console.log(`PROBLEM ${JSON.stringify(p)}`);
process.exitCode = counts["accepted-changed"] + counts.crashed + resolverCounts["accepted-changed"] + resolverCounts.crashed === 0 ? 0 : 1;
