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
 * Every mutant is also read by the KEYLESS readers, in process and without a key (see docs/fuzz.md,
 * "The keyless readers"): `check` of the file alone (the secrets-folder survey the language server
 * uses too), `check` against the committed original (the pre-commit hook), `review` of the change
 * original → mutant, and the merge driver's reading with the mutant as one side. Each is classified
 * against the decrypting reader; the DEFECT classes must be 0.
 * Usage: node scripts/fuzz.mjs [--cases 10000] [--seed 12] [--resolver-every 1] [--no-keyless] [--show 20] [--dump CASE,...|problems] [--dump-class READER:CLASS]
 * Exits 1 when accepted-changed, crashed or a keyless DEFECT class is not 0. Needs a build (`pnpm build`).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seeded } from "./fuzz-random.mjs";
import { scriptArgs } from "./script-args.mjs";

const { values: opts } = scriptArgs(import.meta.url, {
  numbers: ["cases", "seed", "resolver-every", "show"],
  options: {
    cases: { type: "string", default: "10000" },
    seed: { type: "string", default: "12" },
    "resolver-every": { type: "string", default: "1" },
    "no-keyless": { type: "boolean", default: false },
    show: { type: "string", default: "20" },
    dump: { type: "string" },
    "dump-class": { type: "string" },
  },
});
const KEYLESS = !opts["no-keyless"];
const SHOW = Number(opts.show);
const CASES = Number(opts.cases);
const SEED = Number(opts.seed);
const RESOLVER_EVERY = Math.max(1, Number(opts["resolver-every"]));

const sops = await import("../packages/sops/dist/index.js");
const { createResolver, ResolverError } = await import("../packages/resolver/dist/index.js");
const core = KEYLESS ? await import("../packages/core/dist/index.js") : undefined;
const { keylessReaders, CLASSES, MERGE_CLASSES } = await import("./fuzz-keyless.mjs");

const { rand, int, pick } = seeded(SEED);

const key = await sops.generateIdentity(); // TEST-ONLY, made for this run
const original = new Map([
  ["stripe_api_key", "sk_test_fuzz_value_1"],
  ["hubspot_api_token", "multi\nline value with 'quotes' and $dollar"],
  ["zendesk_api_token", "z"], // not "": sops stores an empty value in clear, outside the MAC (see docs/fuzz.md)
  ["sendgrid_api_key", "ünïcödé ✓"],
]);
const base = await sops.encryptSecrets(original, { recipients: [key.recipient] });
const keyless = KEYLESS ? await keylessReaders({ sops, core, key, base, original }) : undefined;
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

/** Prints the lines of a mutant that differ from the valid file (ciphertext only: the file holds no plaintext; the key is this run's). */
function dump(c, used, text) {
  const before = new Set(base.split("\n"));
  console.log(`--- case ${c} (${used.join(", ")}):\n${text.split("\n").map((l, i) => (before.has(l) ? undefined : `${i + 1}: ${JSON.stringify(l)}`)).filter(Boolean).join("\n")}`);
}

const dir = mkdtempSync(join(tmpdir(), "stellar-fuzz-"));
const file = join(dir, "production.enc.yaml");
const counts = { tried: 0, refused: 0, "accepted-unchanged": 0, "accepted-changed": 0, crashed: 0 };
const resolverCounts = { tried: 0, refused: 0, "accepted-unchanged": 0, "accepted-changed": 0, crashed: 0 };
const byMutation = Object.fromEntries(NAMES.map((n) => [n, 0]));
const problems = [];
const KEYLESS_READERS = ["check", "check+committed", "review"];
const keylessCounts = Object.fromEntries(KEYLESS_READERS.map((r) => [r, Object.fromEntries(CLASSES.map((c) => [c.id, 0]))]));
/** reader → class → mutation → cases (the classes worth a breakdown) */
const keylessByMutation = Object.fromEntries(KEYLESS_READERS.map((r) => [r, {}]));
/** reader → rule → cases, for the decrypted files a keyless reader flags */
const flaggedRules = Object.fromEntries(KEYLESS_READERS.map((r) => [r, {}]));
const mergeCounts = Object.fromEntries(MERGE_CLASSES.map((c) => [c.id, 0]));
const DEFECT = new Set(CLASSES.filter((c) => c.defect).map((c) => c.id));
let keylessMs = 0;
/** reader → why the file alone proves it undecryptable → cases, for the DEFECT class */
const provableWhy = {};
/** reader → what differs → cases, for the well-formed files only a key refuses */
const structureKinds = {};
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
    const problemsBefore = problems.length;
    if (opts.dump !== undefined && opts.dump.split(",").map(Number).includes(c)) dump(c, used, text);
    counts.tried++;
    let decrypted;
    try {
      const out = await sops.decryptSecrets(text, [key.identity], { path: "production.enc.yaml" });
      decrypted = out;
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
    if (keyless !== undefined) {
      const t0 = performance.now();
      const verdicts = keyless.read(text, decrypted?.values);
      for (const [reader, v] of Object.entries(verdicts)) {
        keylessCounts[reader][v.cls]++;
        if (v.cls !== "decrypts-agrees" && v.cls !== "refused-flagged") {
          const byMut = (keylessByMutation[reader][v.cls] ??= {});
          for (const m of new Set(used)) byMut[m] = (byMut[m] ?? 0) + 1;
        }
        if (opts["dump-class"] === `${reader}:${v.cls}`) dump(c, used, text);
        if (v.cls === "refused-needs-key-structure") {
          const kinds = (structureKinds[reader] ??= {});
          const k = keyless.structureKind(text);
          kinds[k] = (kinds[k] ?? 0) + 1;
        }
        if (v.cls === "refused-clean-provable") {
          const why = (provableWhy[reader] ??= {});
          const w = keyless.provable(text);
          why[w] = (why[w] ?? 0) + 1;
        }
        if (v.cls === "decrypts-flagged") for (const r of v.rules) flaggedRules[reader][r] = (flaggedRules[reader][r] ?? 0) + 1;
        if (DEFECT.has(v.cls)) problems.push({ case: c, mutations: used, outcome: `${reader}: ${v.cls}`, ...(v.detail ? { error: v.detail } : {}), ...(v.cls === "refused-clean-provable" ? { why: keyless.provable(text) } : {}) });
      }
      const merged = await keyless.merge(text, decrypted === undefined ? undefined : { secrets: decrypted, values: decrypted.values });
      for (const m of merged) {
        mergeCounts[m]++;
        if (m === "merged-wrong" || m === "crashed") problems.push({ case: c, mutations: used, outcome: `merge: ${m}` });
      }
      keylessMs += performance.now() - t0;
    }
    if (opts.dump === "problems" && problems.length > problemsBefore) dump(c, used, text);
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
let keylessDefects = 0;
if (keyless !== undefined) {
  const fmt = (n) => n.toLocaleString("en-US");
  console.log(`\nkeyless readers (${(keylessMs / 1000).toFixed(1)} s of the run): one row per class, DEFECT classes must be 0`);
  console.log(`| class | ${KEYLESS_READERS.join(" | ")} |`);
  console.log(`| --- | ${KEYLESS_READERS.map(() => "---:").join(" | ")} |`);
  for (const cl of CLASSES) {
    console.log(`| ${cl.label}${cl.defect ? " — DEFECT" : ""} | ${KEYLESS_READERS.map((r) => fmt(keylessCounts[r][cl.id])).join(" | ")} |`);
    if (cl.defect) keylessDefects += KEYLESS_READERS.reduce((n, r) => n + keylessCounts[r][cl.id], 0);
  }
  console.log(`\nmerge driver, the mutant as our side and as their side (${fmt(CASES * 2)} merges):`);
  for (const cl of MERGE_CLASSES) {
    console.log(`  ${cl.label}${cl.defect ? " — DEFECT" : ""}: ${fmt(mergeCounts[cl.id])}`);
    if (cl.defect) keylessDefects += mergeCounts[cl.id];
  }
  console.log("\nby mutation (a case may apply several):");
  for (const r of KEYLESS_READERS) {
    for (const [cls, byMut] of Object.entries(keylessByMutation[r])) {
      console.log(`  ${r} / ${cls}: ${Object.entries(byMut).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", ")}`);
    }
    const kinds = Object.entries(structureKinds[r] ?? {}).sort((a, b) => b[1] - a[1]);
    if (kinds.length > 0) console.log(`  ${r} / refused-needs-key-structure, what differs: ${kinds.map(([k, v]) => `${k} ${v}`).join(", ")}`);
    const why = Object.entries(provableWhy[r] ?? {});
    if (why.length > 0) console.log(`  ${r} / refused-clean-provable, why: ${why.map(([k, v]) => `${k} ${v}`).join(", ")}`);
    const rules = Object.entries(flaggedRules[r]);
    if (rules.length > 0) console.log(`  ${r} / decrypts-flagged rules: ${rules.map(([k, v]) => `${k} ${v}`).join(", ")}`);
  }
}
for (const p of problems.slice(0, SHOW)) console.log(`PROBLEM ${JSON.stringify(p)}`);
if (problems.length > SHOW) console.log(`(${problems.length - SHOW} more problems: --show N)`);
process.exitCode = counts["accepted-changed"] + counts.crashed + resolverCounts["accepted-changed"] + resolverCounts.crashed + keylessDefects === 0 ? 0 : 1;
