#!/usr/bin/env node
/**
 * Model-based simulation of a team working in git (`pnpm fuzz:team`; not part of `npm test`; see
 * docs/fuzz.md, "A team in git"). Three to five members, each with a TEST-ONLY age key made for
 * the run and a HOME of their own, share one real git repository set up with `git setup`, and run
 * the real built CLI (`packages/cli/bin/stellar-secrets.js`) as child processes. A model holds the
 * truth for every commit: per environment, the members (name -> key), the name -> value map and
 * the members removed with a rotation. Seeded random steps: set / rm / "rename" (get | set, rm) on
 * a branch, members add / rm, rotate-key, branch off, merge (merge driver; a conflict is finished
 * with `resolve --ours|--theirs|--from-stdin`), rebase, cherry-pick; criss-cross merges happen as
 * branches merge each other; unless --classic, also git revert, git merge --squash, a merge made
 * without the driver as a server makes it (on a throwaway branch), git stash pop, and a member's
 * fresh clone with git setup and git pull --rebase. After each step the invariants are checked
 * against the model:
 *   decrypt   every environment file of HEAD decrypts (and verifies) to exactly the model's values
 *             with each member's key; a member removed (with the rotation `members rm` does)
 *             cannot open it;
 *   review    `review B...A --json` before A is merged into B lists exactly the secrets added,
 *             changed and removed and the members who gained and lost access, with no problem;
 *   check     `check --json` has no error;
 *   conflict  the merge driver reports a conflict on exactly the names both sides changed
 *             differently (the model's three-way merge per name, over git's merge bases);
 * and, every so often, an attacker step on a throwaway branch (a value's ciphertext copied from
 * another name, a stanza's label changed, the merge driver taken off in .gitattributes, an older
 * file with a revoked member's stanza put back, a value in clear text) after which review of
 * the branch must report a problem and check an error. Any difference is a FINDING (exit 1).
 * Usage: node scripts/fuzz-team.mjs [--steps 200] [--seed 1] [--members 4] [--attack-weight 4 | --no-attacks] [--attacks KIND,...] [--classic] [--focus STEP,...] [--keep] [--stop-on-finding] [--verbose] [--self-test] [--crash-at STEP:N]
 * Needs a build (`npx tsc -b && node scripts/bundle.mjs`).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { seeded } from "./fuzz-random.mjs";
import { scriptArgs } from "./script-args.mjs";

const { values: opts } = scriptArgs(import.meta.url, {
  numbers: ["steps", "seed", "members", "attack-weight"],
  options: {
    steps: { type: "string", default: "200" },
    seed: { type: "string", default: "1" },
    members: { type: "string", default: "4" },
    keep: { type: "boolean", default: false },
    "stop-on-finding": { type: "boolean", default: false },
    verbose: { type: "boolean", default: false },
    "no-attacks": { type: "boolean", default: false },
    "attack-weight": { type: "string", default: "4" },
    attacks: { type: "string" },
    classic: { type: "boolean", default: false },
    // a fixed history instead of the random steps, for paths the random runs reach rarely (see selfTest)
    "self-test": { type: "boolean", default: false },
    focus: { type: "string" },
    // test of the script itself: throw before the Nth git command of step S ("S:N"), as a bug of a step would
    "crash-at": { type: "string" },
  },
});
const STEPS = Number(opts.steps);
const SEED = Number(opts.seed);
const VERBOSE = opts.verbose;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const CLI = join(ROOT, "packages/cli/bin/stellar-secrets.js");
if (!existsSync(join(ROOT, "packages/cli/dist/main.js"))) throw new Error("build first: npx tsc -b && node scripts/bundle.mjs");
const sops = await import("../packages/sops/dist/index.js");
const YAML = createRequire(join(ROOT, "packages/core/package.json"))("yaml");

const { rand, int, pick, chance } = seeded(SEED);
const ALL_MEMBERS = ["alice", "bob", "carol", "dave", "erin"];
const MEMBERS = ALL_MEMBERS.slice(0, Math.min(5, Math.max(3, Number(opts.members))));
const ENVS = ["production", "staging"];
const NAMES = ["stripe_api_key", "hubspot_api_token", "sendgrid_api_key", "zendesk_api_token", "slack_bot_token", "openai_api_key"];
const fileOf = (env) => `secrets/${env}.enc.yaml`;

// ---------------------------------------------------------------- the sandbox
const dir = mkdtempSync(join(tmpdir(), "stellar-fuzz-team-"));
const repo = join(dir, "repo");
mkdirSync(repo);
/** Per member: TEST-ONLY key (made for this run), key file, HOME. */
const people = {};
for (const name of MEMBERS) {
  const { identity, recipient } = await sops.generateIdentity();
  const home = join(dir, "home", name);
  mkdirSync(join(home, ".config"), { recursive: true });
  const file = join(dir, "keys", `${name}.txt`);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `# TEST-ONLY key, made for one fuzz run\n# public key: ${recipient}\n${identity}\n`, { mode: 0o600 });
  people[name] = { name, identity, recipient, file, home };
}
function envOf(who) {
  const p = people[who];
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: p.home,
    XDG_CONFIG_HOME: join(p.home, ".config"),
    USER: who,
    LANG: "C.UTF-8",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: join(p.home, ".gitconfig"),
    GIT_AUTHOR_NAME: who,
    GIT_AUTHOR_EMAIL: `${who}@example.test`,
    GIT_COMMITTER_NAME: who,
    GIT_COMMITTER_EMAIL: `${who}@example.test`,
    GIT_EDITOR: "true",
    SOPS_AGE_KEY_FILE: p.file,
  };
}
let cliRuns = 0;
/** The repository commands run in: the team's, or a member's own clone for the steps that make one. */
let here = repo;
function cli(who, args, input) {
  cliRuns++;
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: here, env: envOf(who), input: input ?? "", encoding: "utf8", timeout: 120_000 });
  if (VERBOSE) console.error(`  [${who}] stellar-secrets ${args.join(" ")} -> ${r.status}`);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const CRASH_AT = opts["crash-at"]?.split(":").map(Number);
let gitCallsInStep = 0;
function git(args, who = "alice") {
  if (CRASH_AT !== undefined && stepNo === CRASH_AT[0] && ++gitCallsInStep === CRASH_AT[1]) throw new Error(`crash injected before git call ${CRASH_AT[1]} of step ${stepNo} (--crash-at): git ${args.join(" ")}`);
  const r = spawnSync("git", args, { cwd: here, env: envOf(who), encoding: "utf8", timeout: 120_000 });
  if (VERBOSE) console.error(`  [${who}] git ${args.join(" ")} -> ${r.status}`);
  return { code: r.status, out: `${r.stdout}${r.stderr}`, stdout: r.stdout };
}
function gitOk(args, who = "alice") {
  const r = git(args, who);
  if (r.code !== 0) throw new Error(`git ${args.join(" ")} exited ${r.code}: ${r.out}`);
  return r.stdout.trim();
}
function must(r, what) {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r;
}

// ---------------------------------------------------------------- the model
/** state: { [env]: { members: {name: recipient}, values: {name: value}, revoked: [names] } } */
const stateAt = new Map();
const clone = (s) => structuredClone(s);
const head = () => gitOk(["rev-parse", "HEAD"]);
const branchTip = (b) => gitOk(["rev-parse", b]);
const sameMap = (a, b) => JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

const findings = [];
const mallory = await sops.generateIdentity(); // TEST-ONLY: the attacker's key, never a member
const counts = {};
const count = (k) => (counts[k] = (counts[k] ?? 0) + 1);
let stepNo = 0;
let stepLabel = "";
function finding(kind, detail) {
  findings.push({ step: stepNo, label: stepLabel, kind, detail });
  console.log(`FINDING step ${stepNo} (${stepLabel}): ${kind}: ${detail}`);
  if (opts["stop-on-finding"]) {
    console.log(`stopped; repository kept as it is: ${repo} (keys: ${join(dir, "keys")})`);
    process.exit(1);
  }
}

/** Three-way merge of one map per key; `conflicts` lists keys both sides changed differently. */
const ABSENT = undefined;
function merge3Map(base, ours, theirs) {
  const out = {};
  const conflicts = [];
  for (const k of new Set([...Object.keys(base), ...Object.keys(ours), ...Object.keys(theirs)])) {
    const b = base[k];
    const o = ours[k];
    const t = theirs[k];
    let r;
    if (eq(o, t)) r = o;
    else if (eq(o, b)) r = t;
    else if (eq(t, b)) r = o;
    else {
      conflicts.push(k);
      r = o;
    }
    if (r !== ABSENT) out[k] = r;
  }
  return { out, conflicts };
}
function eq(a, b) {
  if (a === ABSENT || b === ABSENT) return a === b;
  if (typeof a === "object" || typeof b === "object") return false; // a virtual base's conflict marker equals nothing
  return a === b;
}
/** merge of states; per env conflicts of values (members merge as sets by name: keys never change). */
function mergeStates(base, ours, theirs) {
  const out = {};
  const conflicts = {};
  for (const env of ENVS) {
    const v = merge3Map(base[env].values, ours[env].values, theirs[env].values);
    const m = merge3Map(base[env].members, ours[env].members, theirs[env].members);
    out[env] = { members: m.out, values: v.out, revoked: [...new Set([...ours[env].revoked, ...theirs[env].revoked])].filter((n) => !(n in m.out)) };
    if (v.conflicts.length) conflicts[env] = v.conflicts.sort();
  }
  return { state: out, conflicts };
}
/**
 * git's virtual base of several merge bases, as merge-ort (and merge-recursive) build it: the bases
 * in `git merge-base --all` order (newest first) are reversed, the first (oldest) is the start, and
 * each next base is merged into what was built so far, over the merge bases of that base and the
 * virtual commit, whose parents are every base merged so far (= `git merge-base --all NEXT
 * B1 B2 ...`, the best common ancestors of NEXT and a merge of those bases), recursively when
 * there are several. A name the merged bases changed differently holds a value no version has (the
 * driver's virtual merge, as `merge-file --virtual-base` does).
 */
function virtualBase(commits) {
  const order = [...commits].reverse();
  let acc = stateOf(order[0]);
  const merged = [order[0]];
  for (const c of order.slice(1)) {
    const inner = gitOk(["merge-base", "--all", c, ...merged]).split("\n").filter(Boolean);
    const b = inner.length === 0 ? emptyState() : inner.length === 1 ? stateOf(inner[0]) : virtualBase(inner);
    const { state, conflicts } = mergeStates(b, acc, stateOf(c));
    for (const [env, names] of Object.entries(conflicts)) for (const n of names) state[env].values[n] = { virtual: true };
    acc = state;
    merged.push(c);
  }
  if (commits.length > 2) count("criss-cross merges with three or more merge bases");
  return acc;
}
function emptyState() {
  return Object.fromEntries(ENVS.map((e) => [e, { members: {}, values: {}, revoked: [] }]));
}
function stateOf(commit) {
  const s = stateAt.get(commit);
  if (!s) throw new Error(`no model state for ${commit}`);
  return s;
}

// ---------------------------------------------------------------- reading the truth back
function showFile(rev, path) {
  const r = git(["show", `${rev}:${path}`]);
  return r.code === 0 ? r.stdout : undefined;
}
function membersIn(rev) {
  return membersOfText(showFile(rev, "stellar.yaml"));
}
function membersOfText(text) {
  const doc = YAML.parse(text);
  return Object.fromEntries(ENVS.map((e) => [e, doc.environments?.[e]?.members ?? {}]));
}
async function tryDecrypt(text, who) {
  try {
    const d = await sops.decryptSecrets(text, [people[who].identity]);
    return { ok: true, values: Object.fromEntries(d.values) };
  } catch (e) {
    return { ok: false, code: e?.code ?? String(e) };
  }
}

/** The invariants of the committed HEAD against the model state `want`. */
async function checkCommitted(want, what) {
  const h = head();
  const members = membersIn(h);
  for (const env of ENVS) {
    const w = want[env];
    if (!sameMap(members[env], w.members)) finding("members", `${what}: stellar.yaml members of ${env} are ${Object.keys(members[env]).sort()} where the model has ${Object.keys(w.members).sort()}`);
    const text = showFile(h, fileOf(env));
    if (text === undefined) {
      finding("file", `${what}: ${fileOf(env)} missing at HEAD`);
      continue;
    }
    for (const who of MEMBERS) {
      const d = await tryDecrypt(text, who);
      if (who in w.members) {
        if (!d.ok) finding("decrypt", `${what}: member ${who} cannot decrypt ${env} (${d.code})`);
        else if (!sameMap(d.values, w.values)) finding("values", `${what}: ${env} holds ${describeDiff(w.values, d.values)}`);
      } else if (w.revoked.includes(who) && d.ok) finding("revoked", `${what}: ${who}, removed from ${env} with a rotation, can still decrypt it`);
    }
  }
  count("invariant checks");
}
function describeDiff(want, got) {
  const out = [];
  for (const k of new Set([...Object.keys(want), ...Object.keys(got)])) {
    if (!(k in got)) out.push(`missing ${k}`);
    else if (!(k in want)) out.push(`extra ${k}`);
    else if (want[k] !== got[k]) out.push(`other value of ${k}`);
  }
  return out.join(", ");
}
function checkClean(what) {
  const r = cli("alice", ["check", "--json"]);
  let json;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    finding("check", `${what}: check --json printed no JSON (exit ${r.code}): ${r.stderr.slice(0, 300)}`);
    return;
  }
  const errors = (json.diagnostics ?? []).filter((d) => d.severity === "error");
  if (errors.length || r.code !== 0) finding("check", `${what}: check exit ${r.code}: ${errors.map((d) => `${d.rule} ${d.file}:${d.line} ${d.message}`).join(" | ").slice(0, 600)}`);
}

// ---------------------------------------------------------------- review against the model
const UNCERTAIN_CLEARED = "review: a rotation uncertain with one kept value or none, cleared by --verify (keyless limit)";
function reviewBranch(into, from) {
  const bases = gitOk(["merge-base", "--all", into, from]).split("\n").filter(Boolean);
  const base = gitOk(["merge-base", into, from]);
  const r = cli("alice", ["review", `${into}...${from}`, "--json"]);
  count("reviews");
  let json;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    finding("review", `review ${into}...${from} printed no JSON (exit ${r.code}): ${r.stderr.slice(0, 300)}`);
    return;
  }
  const b = stateOf(base);
  const h = stateOf(branchTip(from));
  const what = `review ${into}...${from}${bases.length > 1 ? " (criss-cross)" : ""}`;
  // A branch cut before the base removed a member, that set a value while that member's stanza was
  // still in its file and then merged the base, keeps a version readable by the removed member in the
  // history it brings: unrotated-removal naming that commit (exposedDuring, docs/cli.md). True of an
  // honest branch too; the model confirms the member was one at that commit and at neither end, and
  // that the commit's version held a name the change adds or changes.
  const exposures = (json.problems ?? []).filter((p) => staleExposure(json, p, b, h));
  if (exposures.length > 0) {
    count("review: a value a stale branch set while a member the base removed could read it (unrotated-removal, confirmed by the model)");
    json.problems = json.problems.filter((p) => !exposures.includes(p));
    if (json.problems.length === 0 && !json.summary?.newErrors && r.code === 1) r.code = 0;
  }
  // One member added on two branches (members add on each, under the same data key): the driver keeps
  // one of the two wraps, and the other stays in the history the change brings. Keyless, no one can
  // tell whom a stanza was wrapped for, so review reports the dropped one (unrotated-removal naming the
  // commit that wrote it, docs/branches.md); the model confirms the commit added that member and the
  // member is one with the same key at both ends.
  const twice = (json.problems ?? []).filter((p) => addedOnTwoBranches(p, b, h));
  if (twice.length > 0) {
    count("review: a member added on two branches, the wrap the merge dropped reported (unrotated-removal, confirmed by the model)");
    json.problems = json.problems.filter((p) => !twice.includes(p));
    if (json.problems.length === 0 && !json.summary?.newErrors && r.code === 1) r.code = 0;
  }
  // The same member added on two branches, seen from the branch whose wrap the merge dropped: the
  // head's stanza for that member is the other branch's (written by the commit that added them there),
  // so keyless it is a stanza wrapped anew under an unrotated data key (rewrapped-without-rotation:
  // the label proves nothing, docs/branches.md). The model confirms the member is one with the same
  // key at both ends and that a commit of the change added them; the member's own key (review
  // --verify as that member) must then show the stanza is theirs and clear the problem.
  const addedTwice = (json.problems ?? []).filter((p) => rewrappedForMemberAddedTwice(p, b, h, base, from));
  if (addedTwice.length > 0) {
    for (const p of addedTwice) {
      const who = /labelled ([a-z]+) \(/.exec(p.message)[1];
      const v = cli(who, ["review", `${into}...${from}`, "--json", "--verify"]);
      let vj = {};
      try {
        vj = JSON.parse(v.stdout);
      } catch {
        /* reported below */
      }
      const still = (vj.problems ?? []).some((q) => q.kind === "rewrapped-without-rotation" && q.environment === p.environment);
      if (still) finding("review-problem", `${what}: review --verify as ${who} still reports ${who}'s stanza wrapped anew in ${p.environment} (a member added on two branches)`);
      else count("review: a member added on two branches, the kept wrap reported by the other branch's review (rewrapped-without-rotation), cleared by --verify with that member's key");
    }
    json.problems = json.problems.filter((p) => !addedTwice.includes(p));
    if (json.problems.length === 0 && !json.summary?.newErrors && r.code === 1) r.code = 0;
  }
  // keyless, one kept value cannot tell a rotation from a change (rotationUncertain, docs/cli.md): the
  // review reports it as a possible unrotated removal, and a member's key (`--verify`) must clear it
  const uncertain = (json.problems ?? []).length > 0 && (json.problems ?? []).every((p) => p.kind === "unrotated-removal" && (json.environments ?? []).find((e) => e.environment === p.environment)?.rotationUncertain);
  if (uncertain && !json.summary?.newErrors) {
    const v = cli("alice", ["review", `${into}...${from}`, "--json", "--verify"]);
    let vj = {};
    try {
      vj = JSON.parse(v.stdout);
    } catch {
      /* reported below */
    }
    if (v.code === 0 && !(vj.problems ?? []).length) {
      count(UNCERTAIN_CLEARED);
      json.problems = [];
      r.code = 0;
    } else finding("review-problem", `${what}: review --verify of an honest branch still reports (exit ${v.code}): ${JSON.stringify((vj.problems ?? []).map((p) => `${p.kind}: ${p.message}`)).slice(0, 600)}`);
  }
  if (r.code !== 0 || (json.problems ?? []).length || json.summary?.newErrors) {
    finding("review-problem", `${what} of an honest branch: exit ${r.code}, problems ${JSON.stringify((json.problems ?? []).map((p) => `${p.kind ?? p.rule}: ${p.message}`)).slice(0, 1200)} newErrors ${json.summary?.newErrors}`);
  }
  for (const env of ENVS) {
    const e = (json.environments ?? []).find((x) => x.environment === env);
    const bv = b[env].values;
    const hv = h[env].values;
    const added = Object.keys(hv).filter((k) => !(k in bv)).sort();
    const removed = Object.keys(bv).filter((k) => !(k in hv)).sort();
    const changed = Object.keys(hv).filter((k) => k in bv && bv[k] !== hv[k]).sort();
    const gained = Object.keys(h[env].members).filter((k) => !(k in b[env].members)).sort();
    const lost = Object.keys(b[env].members).filter((k) => !(k in h[env].members)).sort();
    const got = (kind) => (e?.secrets ?? []).filter((s) => s.change === kind).map((s) => s.name).sort();
    const reenc = new Set(e?.reencrypted ?? []);
    const rotated = !!e && (e.dataKeyRotated || reenc.size > 0);
    const diffs = [];
    if (JSON.stringify(got("added")) !== JSON.stringify(added)) diffs.push(`added ${got("added")} (model ${added})`);
    if (JSON.stringify(got("removed")) !== JSON.stringify(removed)) diffs.push(`removed ${got("removed")} (model ${removed})`);
    if (rotated) {
      const seen = new Set([...got("changed"), ...reenc]);
      const missed = changed.filter((k) => !seen.has(k));
      if (missed.length) diffs.push(`changed ${missed} not listed (re-encrypted: ${[...reenc]})`);
      const extra = got("changed").filter((k) => !changed.includes(k));
      if (extra.length) diffs.push(`changed ${extra} listed, unchanged in the model`);
      count("reviews with a re-encryption");
    } else {
      // a name whose value is the same but whose ciphertext is not (both sides set the same value, each
      // encrypted on its own, and a merge kept one of them): keyless, review sees a new encrypted string.
      const encOf = (rev, name) => new RegExp(`^${name}: (ENC\\[[^\\]]*\\])`, "m").exec(showFile(rev, fileOf(env)) ?? "")?.[1];
      const listed = got("changed").filter((k) => {
        if (changed.includes(k) || !(k in bv) || bv[k] !== hv[k]) return true;
        if (encOf(base, k) !== encOf(branchTip(from), k)) {
          count("review: same value under a new ciphertext listed as changed (keyless limit)");
          return false;
        }
        return true;
      });
      if (JSON.stringify(listed) !== JSON.stringify(changed)) diffs.push(`changed ${got("changed")} (model ${changed})`);
    }
    const mg = (e?.members?.gained ?? []).map((m) => m.name).sort();
    const ml = (e?.members?.lost ?? []).map((m) => m.name).sort();
    if (JSON.stringify(mg) !== JSON.stringify(gained)) diffs.push(`members gained ${mg} (model ${gained})`);
    if (JSON.stringify(ml) !== JSON.stringify(lost)) diffs.push(`members lost ${ml} (model ${lost})`);
    if (diffs.length) finding("review", `${what}, ${env}: ${diffs.join("; ")}`);
  }
}

/**
 * True when review problem `p` is a stale branch's exposure the model confirms: an unrotated-removal
 * naming a commit of the change whose version was wrapped for a key (exposedDuring) of someone who,
 * by the model, was a member of the environment at that commit and is one neither at the merge base
 * (`b`) nor at the head (`h`), and that version held a name whose value the change adds or changes.
 */
function staleExposure(json, p, b, h) {
  if (p.kind !== "unrotated-removal" || typeof p.commit !== "string") return false;
  const env = p.environment;
  const e = (json.environments ?? []).find((x) => x.environment === env);
  let mid;
  try {
    mid = stateOf(p.commit);
  } catch {
    return false;
  }
  const setHere = (n) => n in h[env].values && (!(n in b[env].values) || b[env].values[n] !== h[env].values[n]);
  return (e?.exposedDuring ?? []).some(
    (x) => x.commit === p.commit && x.member !== undefined && mid[env].members[x.member] === x.recipient && !(x.member in b[env].members) && !(x.member in h[env].members) && x.secrets.some(setHere),
  );
}

/** {@link reviewBranch}: `p` names a commit that added a member who is one, with the same key, at both ends. */
function addedOnTwoBranches(p, b, h) {
  if (p.kind !== "unrotated-removal" || typeof p.commit !== "string") return false;
  const env = p.environment;
  let mid;
  let before;
  try {
    mid = stateOf(p.commit);
    before = stateOf(gitOk(["rev-parse", `${p.commit}^`]));
  } catch {
    return false;
  }
  return Object.entries(mid[env].members).some(([m, key]) => !(m in before[env].members) && b[env].members[m] === key && h[env].members[m] === key && p.message.includes(`for ${m} (`));
}

/**
 * {@link reviewBranch}: `p` is a rewrapped-without-rotation of a stanza labelled with a member who is
 * one, with the same key, at both ends, and whom a commit of the change (`base..from`) added to that
 * environment (not a member at its parent).
 */
function rewrappedForMemberAddedTwice(p, b, h, base, from) {
  if (p.kind !== "rewrapped-without-rotation") return false;
  const m = /labelled ([a-z]+) \(/.exec(p.message)?.[1];
  const env = p.environment;
  if (m === undefined || !(m in people) || b[env].members[m] !== people[m].recipient || h[env].members[m] !== people[m].recipient) return false;
  const commits = gitOk(["rev-list", `${base}..${from}`, "--", "stellar.yaml"]).split("\n").filter(Boolean);
  return commits.some((c) => {
    try {
      const parents = gitOk(["rev-list", "--parents", "-n", "1", c]).split(" ").slice(1);
      return parents.length === 1 && stateOf(c)[env].members[m] === people[m].recipient && !(m in stateOf(parents[0])[env].members);
    } catch {
      return false;
    }
  });
}

// ---------------------------------------------------------------- conflicts
function recordedConflicts() {
  const recordsDir = join(here, ".git/stellar-secrets/unresolved");
  const out = {};
  const whole = [];
  if (!existsSync(recordsDir)) return { out, whole };
  for (const f of readdirSync(recordsDir)) {
    const rec = JSON.parse(readFileSync(join(recordsDir, f), "utf8"));
    // a record that no longer matches the file (a merge aborted earlier, the file rewritten) counts for nothing, as for the hook
    const path = join(here, rec.path);
    if (!existsSync(path) || createHash("sha256").update(readFileSync(path)).digest("hex") !== rec.file) continue;
    if (rec.whole || !rec.names || rec.names.length === 0) whole.push(`${rec.environment}: ${rec.whole?.reason ?? "whole file"} ${rec.whole?.code ?? ""}`);
    else out[rec.environment] = [...rec.names].sort();
  }
  return { out, whole };
}
function unmergedPaths() {
  return gitOk(["diff", "--name-only", "--diff-filter=U"]).split("\n").filter(Boolean);
}
/**
 * After git stopped (or not) on a merge / cherry-pick / rebase step: compares the driver's records
 * with the model's conflicts, resolves each with a random choice, returns the resolved state, or
 * undefined when the step had to be abandoned (documented limits; a finding is recorded otherwise).
 */
function finishConflicts(expected, ours, theirs, result, what, gitCode, gitOut = "", choices = ["ours", "theirs", "new"]) {
  // the merger (alice) holds every environment's key and every recipient is a member's key: the
  // driver's fallback for a virtual base it could not make (docs/branches.md, criss-cross merges)
  // is never due here, and it changes what the outer merge reports (seed 12)
  const unmade = gitOut.split("\n").filter((l) => /merge bases of this criss-cross merge could not be merged/.test(l));
  if (unmade.length) finding("virtual-base", `${what}: ${unmade.join(" / ").slice(0, 400)}`);
  const { out: got, whole } = recordedConflicts();
  const unmerged = unmergedPaths();
  const others = unmerged.filter((p) => !ENVS.some((e) => p === fileOf(e)));
  if (whole.length) return { whole: `${whole} (${gitOut.split("\n").filter((l) => /merge-file:.*(MERGE_|member|recipient)/.test(l)).join(" / ").slice(0, 500)})`, others };
  if (JSON.stringify(got) !== JSON.stringify(expected)) finding("conflict", `${what}: the driver reported ${JSON.stringify(got)} where the model says ${JSON.stringify(expected)}; at ${head().slice(0, 10)}`);
  if (others.length) {
    finding("conflict", `${what}: git left other files unmerged: ${others}`);
    return { others };
  }
  const hasExpected = Object.keys(expected).length > 0;
  if (gitCode !== 0 && !hasExpected && Object.keys(got).length === 0 && !/now empty|nothing to commit/.test(gitOut)) finding("conflict", `${what}: git stopped (exit ${gitCode}) with no conflict recorded and none in the model: ${gitOut.slice(0, 400)}`);
  const state = clone(result);
  for (const [env, names] of Object.entries(got)) {
    for (const name of names) {
      const choice = pick(choices);
      let r;
      if (choice === "new") {
        const v = newValue();
        r = cli("alice", ["resolve", name, "--env", env, "--from-stdin"], v);
        state[env].values[name] = v;
      } else {
        r = cli("alice", ["resolve", name, "--env", env, `--${choice}`]);
        const side = choice === "ours" ? ours : theirs;
        if (side[env].values[name] === undefined) delete state[env].values[name];
        else state[env].values[name] = side[env].values[name];
      }
      count(`resolve --${choice}`);
      if (r.code !== 0) finding("resolve", `${what}: resolve ${name} --env ${env} --${choice} exited ${r.code}: ${r.stderr.slice(0, 300)}`);
    }
    gitOk(["add", fileOf(env)]);
  }
  return { state };
}

// ---------------------------------------------------------------- steps
let valueNo = 0;
function newValue() {
  valueNo++;
  const chars = "abcdefghijklmnopqrstuvwxyz0123456789";
  let v = `v${valueNo}_`;
  for (let i = 0; i < 12; i++) v += chars[int(chars.length)];
  if (chance(0.1)) v += "\nsecond line";
  return v;
}
let branchNo = 0;
const branches = ["main"];
function current() {
  return gitOk(["rev-parse", "--abbrev-ref", "HEAD"]);
}
function checkout(b) {
  gitOk(["checkout", "-q", b]);
}
function commit(msg, who = "alice") {
  gitOk(["add", "-A"], who);
  const r = git(["commit", "-q", "-m", msg], who);
  if (r.code !== 0) finding("commit", `commit "${msg}" refused: ${r.out.slice(0, 400)}`);
  return r.code === 0;
}
function anyMember(state, envs) {
  const ok = MEMBERS.filter((m) => envs.every((e) => m in state[e].members));
  return pick(ok);
}

async function stepSet() {
  const s = clone(stateOf(head()));
  const envs = chance(0.3) ? [...ENVS] : [pick(ENVS)];
  const who = anyMember(s, envs);
  const name = pick(NAMES);
  const v = newValue();
  const r = cli(who, ["set", name, "--env", envs.join(","), "--from-stdin", "--keep-newlines"], v);
  if (r.code !== 0) return finding("set", `set ${name} --env ${envs} as ${who} exited ${r.code}: ${r.stderr.slice(0, 300)}`);
  for (const e of envs) s[e].values[name] = v;
  if (commit(`set ${name} in ${envs}`, who)) stateAt.set(head(), s);
  return `set ${name} ${envs} (${who})`;
}
async function stepRm() {
  const s = clone(stateOf(head()));
  const env = pick(ENVS);
  const names = Object.keys(s[env].values);
  if (!names.length) return stepSet();
  const name = pick(names);
  const who = anyMember(s, [env]);
  const r = cli(who, ["rm", name, "--env", env, "--yes", "--force"]);
  if (r.code !== 0) return finding("rm", `rm ${name} --env ${env} exited ${r.code}: ${r.stderr.slice(0, 300)}`);
  delete s[env].values[name];
  if (commit(`rm ${name} from ${env}`, who)) stateAt.set(head(), s);
  return `rm ${name} ${env} (${who})`;
}
async function stepRename() {
  const s = clone(stateOf(head()));
  const env = pick(ENVS);
  const olds = Object.keys(s[env].values);
  const news = NAMES.filter((n) => !(n in s[env].values));
  if (!olds.length || !news.length) return stepSet();
  const from = pick(olds);
  const to = pick(news);
  const who = anyMember(s, [env]);
  const g = cli(who, ["get", from, "--env", env]);
  if (g.code !== 0) return finding("get", `get ${from} --env ${env} exited ${g.code}: ${g.stderr.slice(0, 300)}`);
  if (g.stdout !== s[env].values[from]) finding("get", `get ${from} --env ${env} printed another value than the model's`);
  must(cli(who, ["set", to, "--env", env, "--from-stdin", "--keep-newlines"], g.stdout), `set ${to}`);
  must(cli(who, ["rm", from, "--env", env, "--yes", "--force"]), `rm ${from}`);
  s[env].values[to] = s[env].values[from];
  delete s[env].values[from];
  if (commit(`rename ${from} to ${to} in ${env}`, who)) stateAt.set(head(), s);
  return `rename ${from} -> ${to} ${env} (${who})`;
}
async function stepMembersAdd() {
  const s = clone(stateOf(head()));
  const env = pick(ENVS);
  const outside = MEMBERS.filter((m) => !(m in s[env].members));
  if (!outside.length) return stepMembersRm();
  const who = pick(outside);
  const by = anyMember(s, [env]);
  const r = cli(by, ["members", "add", who, people[who].recipient, "--env", env]);
  if (r.code !== 0) return finding("members add", `members add ${who} --env ${env} exited ${r.code}: ${r.stderr.slice(0, 300)}`);
  s[env].members[who] = people[who].recipient;
  s[env].revoked = s[env].revoked.filter((n) => n !== who);
  if (commit(`members add ${who} to ${env}`, by)) stateAt.set(head(), s);
  return `members add ${who} ${env} (${by})`;
}
async function stepMembersRm() {
  const s = clone(stateOf(head()));
  const env = pick(ENVS);
  const inside = Object.keys(s[env].members).filter((m) => m !== "alice");
  if (!inside.length) return stepMembersAdd();
  const who = pick(inside);
  const by = pick(Object.keys(s[env].members).filter((m) => m !== who));
  const r = cli(by, ["members", "rm", who, "--env", env]);
  if (r.code !== 0) return finding("members rm", `members rm ${who} --env ${env} exited ${r.code}: ${r.stderr.slice(0, 300)}`);
  delete s[env].members[who];
  s[env].revoked = [...new Set([...s[env].revoked, who])];
  let extra = "";
  if (chance(0.3)) {
    must(cli(by, ["rotate-key", "--env", env]), "rotate-key");
    extra = " + rotate-key";
  }
  if (commit(`members rm ${who} from ${env}${extra}`, by)) stateAt.set(head(), s);
  return `members rm ${who} ${env}${extra} (${by})`;
}
async function stepRotate() {
  const s = clone(stateOf(head()));
  const env = pick(ENVS);
  const by = anyMember(s, [env]);
  must(cli(by, ["rotate-key", "--env", env]), "rotate-key");
  if (commit(`rotate-key ${env}`, by)) stateAt.set(head(), s);
  return `rotate-key ${env} (${by})`;
}
async function stepBranch() {
  if (branches.length >= 5) return stepMerge();
  const from = pick(branches);
  const name = `b${++branchNo}`;
  gitOk(["branch", name, from]);
  branches.push(name);
  return `branch ${name} from ${from}`;
}
/**
 * Two branches to merge (`from` into `into`, picked at random), `into` checked out, `from` reviewed
 * first as its pull request (unless `review` is false), and the model's state at their merge base
 * (git's virtual base for several); undefined when `from` is already in `into` (with
 * `neitherAncestor`, also when `into` is in `from`: a fast-forward).
 */
function mergePair({ review = true, neitherAncestor = false } = {}) {
  const into = pick(branches);
  const from = pick(branches.filter((b) => b !== into));
  const tipFrom = branchTip(from);
  const tipInto = branchTip(into);
  if (git(["merge-base", "--is-ancestor", tipFrom, tipInto]).code === 0) return undefined;
  if (neitherAncestor && git(["merge-base", "--is-ancestor", tipInto, tipFrom]).code === 0) return undefined;
  checkout(into);
  if (review) reviewBranch(into, from);
  const bases = gitOk(["merge-base", "--all", tipInto, tipFrom]).split("\n").filter(Boolean);
  const base = bases.length === 1 ? stateOf(bases[0]) : virtualBase(bases);
  return { into, from, tipInto, tipFrom, bases, base };
}
async function stepMerge() {
  if (branches.length < 2) return stepBranch();
  const pair = mergePair();
  if (pair === undefined) return stepSet();
  const { into, from, tipInto, tipFrom, bases, base } = pair;
  if (bases.length > 1) count("criss-cross merges");
  const ours = stateOf(tipInto);
  const theirs = stateOf(tipFrom);
  const { state, conflicts } = mergeStates(base, ours, theirs);
  const r = git(["merge", "--no-edit", from]);
  const what = `merge ${from} into ${into} (merge bases ${bases.map((b) => b.slice(0, 10))})`;
  const fin = finishConflicts(conflicts, ours, theirs, state, what, r.code, r.out);
  if (fin.whole || fin.others) {
    if (fin.whole) finding("conflict", `${what}: nothing of a file merged: ${fin.whole}`);
    gitOk(["merge", "--abort"]);
    return `${what}: abandoned`;
  }
  if (r.code !== 0) {
    const c = git(["commit", "-q", "--no-edit"]);
    if (c.code !== 0) {
      finding("commit", `${what}: the merge commit was refused after resolve: ${c.out.slice(0, 400)}`);
      gitOk(["merge", "--abort"]);
      return `${what}: abandoned`;
    }
    count("merges with conflicts");
  } else count(tipInto === gitOk(["merge-base", tipInto, tipFrom]) ? "fast-forwards" : "clean merges");
  stateAt.set(head(), fin.state);
  return `${what}${Object.keys(conflicts).length ? ` (conflicts ${JSON.stringify(conflicts)})` : ""}${bases.length > 1 ? " criss-cross" : ""}`;
}
/**
 * Does a replayed commit add a member where our side removed one or rotated the data key? During a
 * rebase or cherry-pick the driver does not know their side's stellar.yaml, so it will not wrap a
 * new data key for the added key: a documented whole-file conflict (docs/branches.md).
 */
function stanzasOf(rev, env) {
  const text = showFile(rev, fileOf(env));
  if (!text) return {};
  return Object.fromEntries((YAML.parse(text)?.sops?.age ?? []).map((a) => [a.recipient, a.enc]));
}
/**
 * A replayed commit that is itself a revert of `members rm` (rebase or cherry-pick of it): the member
 * it brings back is in no stellar.yaml the driver sees, so a file changed since on our side is the
 * same documented whole-file conflict as the revert itself (stepRevert).
 */
function replaysRevertOfMembersRm(c) {
  return /^Revert "members rm/.test(gitOk(["log", "-1", "--format=%s", c]));
}
function replayAddsMemberAfterRotation(baseRev, oursRev, base, ours, theirs) {
  return ENVS.some((e) => {
    const added = Object.keys(theirs[e].members).some((m) => !(m in base[e].members));
    if (!added) return false;
    const removed = Object.keys(base[e].members).some((m) => !(m in ours[e].members));
    const b = stanzasOf(baseRev, e);
    const o = stanzasOf(oursRev, e);
    const rotated = Object.keys(o).some((r) => r in b && b[r] !== o[r]);
    return removed || rotated;
  });
}
async function stepCherryPick() {
  const into = pick(branches);
  const from = pick(branches.filter((b) => b !== into));
  if (!from) return stepBranch();
  const candidates = gitOk(["rev-list", "--no-merges", `${into}..${from}`]).split("\n").filter(Boolean);
  if (!candidates.length) return stepSet();
  const c = pick(candidates);
  checkout(into);
  const base = stateOf(gitOk(["rev-parse", `${c}^`]));
  const ours = stateOf(head());
  const theirs = stateOf(c);
  const { state, conflicts } = mergeStates(base, ours, theirs);
  const r = git(["cherry-pick", c]);
  const what = `cherry-pick ${c.slice(0, 10)} (${from}) onto ${into}`;
  const fin = finishConflicts(conflicts, ours, theirs, state, what, r.code, r.out);
  if (fin.whole || fin.others) {
    if (fin.whole && replayAddsMemberAfterRotation(`${c}^`, "HEAD", base, ours, theirs)) count("documented whole-file conflicts (a replayed commit adds a member after a rotation)");
    else if (fin.whole && replaysRevertOfMembersRm(c)) count("documented whole-file conflicts (a replayed revert of members rm)");
    else finding("conflict", `${what}: ${fin.whole ? `nothing of a file merged: ${fin.whole}` : `unmerged ${fin.others}`}`);
    gitOk(["cherry-pick", "--abort"]);
    return `${what}: abandoned`;
  }
  if (r.code !== 0 || existsSync(join(repo, ".git/CHERRY_PICK_HEAD"))) {
    const c2 = git(["-c", "core.editor=true", "cherry-pick", "--continue"]);
    if (c2.code !== 0) {
      if (/empty/.test(c2.out)) {
        gitOk(["cherry-pick", "--skip"]);
        count("cherry-picks left empty");
        if (!sameState(state, ours)) finding("cherry-pick", `${what}: git found the pick empty, the model changes`);
        return `${what}: empty`;
      }
      finding("commit", `${what}: continue refused: ${c2.out.slice(0, 400)}`);
      git(["cherry-pick", "--abort"]);
      return `${what}: abandoned`;
    }
  }
  count("cherry-picks");
  stateAt.set(head(), fin.state);
  return what;
}
function sameState(a, b) {
  return ENVS.every((e) => sameMap(a[e].values, b[e].values) && sameMap(a[e].members, b[e].members));
}
async function stepRebase() {
  const what0 = current();
  const mine = branches.filter((b) => b !== "main");
  if (!mine.length) return stepBranch();
  const b = pick(mine);
  const onto = pick(branches.filter((x) => x !== b));
  const commits = gitOk(["rev-list", "--reverse", `${onto}..${b}`]).split("\n").filter(Boolean);
  if (!commits.length || gitOk(["rev-list", "--merges", `${onto}..${b}`]) !== "") return stepCherryPick();
  if (git(["merge-base", "--is-ancestor", branchTip(onto), branchTip(b)]).code === 0) return stepSet();
  checkout(b);
  const what = `rebase ${b} onto ${onto}`;
  let cur = stateOf(branchTip(onto));
  const expectedStates = [];
  let r = git(["rebase", "-q", onto]);
  for (const c of commits) {
    const base = stateOf(gitOk(["rev-parse", `${c}^`]));
    const theirs = stateOf(c);
    const { state, conflicts } = mergeStates(base, cur, theirs);
    const stopped = existsSync(join(repo, ".git/rebase-merge")) || existsSync(join(repo, ".git/rebase-apply"));
    const at = stopped && existsSync(join(repo, ".git/REBASE_HEAD")) ? gitOk(["rev-parse", "REBASE_HEAD"]) : undefined;
    if (at !== c) {
      if (Object.keys(conflicts).length) finding("conflict", `${what}: commit ${c.slice(0, 10)} applied without a stop where the model says ${JSON.stringify(conflicts)}`);
      cur = state;
      expectedStates.push(state);
      continue;
    }
    const fin = finishConflicts(conflicts, cur, theirs, state, `${what} at ${c.slice(0, 10)}`, r.code, r.out);
    if (fin.whole || fin.others) {
      if (fin.whole && replayAddsMemberAfterRotation(`${c}^`, "HEAD", base, cur, theirs)) count("documented whole-file conflicts (a replayed commit adds a member after a rotation)");
      else if (fin.whole && replaysRevertOfMembersRm(c)) count("documented whole-file conflicts (a replayed revert of members rm)");
      else finding("conflict", `${what} at ${c.slice(0, 10)}: ${fin.whole ? `nothing of a file merged: ${fin.whole}` : `unmerged ${fin.others}`}`);
      gitOk(["rebase", "--abort"]);
      return `${what}: abandoned`;
    }
    cur = fin.state;
    expectedStates.push(cur);
    r = git(["-c", "core.editor=true", "rebase", "--continue"]);
    if (r.code !== 0 && /empty|nothing to commit/.test(r.out) && !existsSync(join(repo, ".git/REBASE_HEAD"))) {
      r = git(["rebase", "--skip"]);
    }
  }
  if (existsSync(join(repo, ".git/rebase-merge"))) {
    finding("rebase", `${what}: still in progress after every commit: ${r.out.slice(0, 300)}`);
    gitOk(["rebase", "--abort"]);
    return `${what}: abandoned`;
  }
  // the new commits must hold the expected states in order (git drops commits left empty)
  const made = gitOk(["rev-list", "--reverse", `${onto}..${b}`]).split("\n").filter(Boolean);
  let j = 0;
  for (const c of made) {
    const vals = await stateFromCommit(c);
    while (j < expectedStates.length && !sameState(expectedStates[j], vals)) j++;
    if (j === expectedStates.length) {
      finding("rebase", `${what}: rebased commit ${c.slice(0, 10)} holds no state the model expects in order`);
      stateAt.set(c, vals);
      continue;
    }
    stateAt.set(c, expectedStates[j]);
    j++;
  }
  if (!made.length) stateAt.set(head(), stateOf(branchTip(onto)));
  count("rebases");
  void what0;
  return what;
}
/** The state a commit holds, read with alice's key (alice is a member of every environment), for mapping rebased commits only. */
async function stateFromCommit(c) {
  const members = membersIn(c);
  const out = {};
  for (const env of ENVS) {
    const d = await tryDecrypt(showFile(c, fileOf(env)) ?? "", "alice");
    out[env] = { members: members[env], values: d.ok ? d.values : {}, revoked: [] };
  }
  // revoked: carried from the nearest ancestor in the model
  const tip = stateOf(gitOk(["merge-base", c, "main"]) || head());
  for (const env of ENVS) out[env].revoked = tip[env].revoked.filter((n) => !(n in out[env].members));
  return out;
}

// ---------------------------------------------------------------- attacker steps
/** Each: on a throwaway branch, one commit that an honest tool never writes; review must report it, check must error. */
const ATTACKS = {
  /** A value's ENC string replaced with another name's (a MAC-covered value moved). */
  copiedCiphertext(env, s) {
    const names = Object.keys(s[env].values);
    if (names.length < 2) return undefined;
    const [a, b] = [pick(names), pick(names)];
    if (a === b) return undefined;
    const text = readFileSync(join(repo, fileOf(env)), "utf8");
    const enc = (n) => new RegExp(`^${n}: (ENC\\[[^\\]]*\\])`, "m").exec(text)?.[1];
    if (!enc(a) || !enc(b)) return undefined;
    writeFileSync(join(repo, fileOf(env)), text.replace(`${a}: ${enc(a)}`, `${a}: ${enc(b)}`));
    return `${a}'s ciphertext replaced with ${b}'s in ${env}`;
  },
  /** A stanza's recipient label changed to the key of someone who is no member. */
  relabelledStanza(env, s) {
    const outsider = MEMBERS.find((m) => !(m in s[env].members));
    if (!outsider) return undefined;
    const text = readFileSync(join(repo, fileOf(env)), "utf8");
    const member = pick(Object.keys(s[env].members));
    const next = text.replace(`recipient: ${s[env].members[member]}`, `recipient: ${people[outsider].recipient}`);
    if (next === text) return undefined;
    writeFileSync(join(repo, fileOf(env)), next);
    return `${member}'s stanza labelled as ${outsider}'s key in ${env}`;
  },
  /** A stanza wrapping the file's data key for mallory (no member), under her own key or under a member's label. */
  async outsiderStanza(env, s) {
    const text = readFileSync(join(repo, fileOf(env)), "utf8");
    const doc = YAML.parse(text);
    const dataKey = await sops.unwrapDataKey(doc.sops.age, [people.alice.identity]);
    if (!dataKey) return undefined;
    const enc = await sops.wrapDataKey(dataKey, mallory.recipient);
    const members = Object.keys(s[env].members);
    const mode = pick(["own label", "a member's label", "replaces a member's stanza"]);
    const label = mode === "own label" ? mallory.recipient : s[env].members[pick(members)];
    const stanza = `        - recipient: ${label}\n          enc: |\n${enc.trimEnd().split("\n").map((l) => `            ${l}`).join("\n")}\n`;
    let next;
    if (mode === "replaces a member's stanza") {
      const at = text.indexOf(`        - recipient: ${label}\n`);
      const end = text.indexOf("-----END AGE ENCRYPTED FILE-----\n", at) + "-----END AGE ENCRYPTED FILE-----\n".length;
      if (at < 0) return undefined;
      next = text.slice(0, at) + stanza + text.slice(end);
    } else next = text.replace("    lastmodified:", `${stanza}    lastmodified:`);
    if (next === text) return undefined;
    writeFileSync(join(repo, fileOf(env)), next);
    // check (keyless, against HEAD) cannot tell a stanza re-wrapped under its label from `sops updatekeys`: review does (docs/threat-model.md)
    return { text: `a stanza for mallory (${mode}) in ${env}`, check: mode !== "replaces a member's stanza" };
  },
  /** .gitattributes takes the environment files off the merge driver. */
  gitattributes() {
    const text = readFileSync(join(repo, ".gitattributes"), "utf8");
    const next = text.replace("secrets/*.enc.yaml diff=stellar merge=stellar", "secrets/*.enc.yaml diff=stellar merge=union");
    if (next === text) return undefined;
    writeFileSync(join(repo, ".gitattributes"), next);
    return ".gitattributes: secrets/*.enc.yaml merge=union";
  },
  /** An older version of the file put back from before a member was removed (with the rotation): the data key they hold again. */
  revokedVersionBack(env, s) {
    if (!s[env].revoked.length) return undefined;
    const revs = gitOk(["log", "--format=%H", "-n", "40", "--", fileOf(env)]).split("\n").filter(Boolean);
    const old = revs.find((c) => stateAt.has(c) && s[env].revoked.some((n) => n in stateOf(c)[env].members));
    if (!old) return undefined;
    writeFileSync(join(repo, fileOf(env)), showFile(old, fileOf(env)));
    return `${fileOf(env)} of ${old.slice(0, 10)} put back (its data key was ${s[env].revoked.filter((n) => n in stateOf(old)[env].members)}'s)`;
  },
  /** A value written in clear text. */
  plaintextValue(env, s) {
    const names = Object.keys(s[env].values);
    if (!names.length) return undefined;
    const a = pick(names);
    const text = readFileSync(join(repo, fileOf(env)), "utf8");
    const next = text.replace(new RegExp(`^${a}: ENC\\[[^\\]]*\\]`, "m"), `${a}: not-encrypted-${valueNo}`);
    if (next === text) return undefined;
    writeFileSync(join(repo, fileOf(env)), next);
    return `${a} in clear text in ${env}`;
  },
};
async function stepAttack() {
  const from = pick(branches);
  checkout(from);
  const s = stateOf(head());
  const kind = pick(opts.attacks ? opts.attacks.split(",") : Object.keys(ATTACKS));
  const env = pick(ENVS);
  gitOk(["checkout", "-q", "-b", "attack"]);
  const made = await ATTACKS[kind](env, s);
  const did = typeof made === "object" ? made.text : made;
  const checkMust = (typeof made !== "object" || made.check);
  let label = `attack ${kind}: not applicable`;
  if (did) {
    gitOk(["add", "-A"]);
    gitOk(["commit", "-q", "--no-verify", "-m", `attack: ${did}`]);
    const r = cli("alice", ["review", `${from}...attack`, "--json"]);
    let json;
    try {
      json = JSON.parse(r.stdout);
    } catch {
      json = {};
    }
    const problems = json.problems ?? [];
    const reported = r.code === 1 && (problems.length > 0 || (json.summary?.newErrors ?? 0) > 0);
    if (!reported) finding("attack-missed", `review ${from}...attack passed ${did} (exit ${r.code}; problems ${problems.length}, newErrors ${json.summary?.newErrors})`);
    const c = cli("alice", ["check", "--json"]);
    let errs = [];
    try {
      errs = (JSON.parse(c.stdout).diagnostics ?? []).filter((d) => d.severity === "error");
    } catch {
      /* no JSON: counts as refused */
    }
    if (checkMust && c.code === 0 && !errs.length) finding("attack-missed", `check passed ${did}`);
    count(`attacks ${kind}`);
    label = `attack ${kind}: ${did}`;
  }
  checkout(from);
  gitOk(["branch", "-D", "attack"]);
  return label;
}

// ---------------------------------------------------------------- more of what teams do (not with --classic)
/**
 * `git revert` of a recent commit of the branch (a set, rm, rename, members add/rm, rotate-key):
 * the driver merges with the reverted commit as base, HEAD as ours and its parent as theirs. A
 * revert of `members rm` whose file changed since is the documented whole-file conflict (the member
 * it brings back is in no stellar.yaml the driver sees). A revert of a rotation with nothing changed
 * since puts the old file back byte for byte (no driver): review must report the retired data key,
 * and the team runs rotate-key again, as docs/branches.md says.
 */
async function stepRevert() {
  checkout(pick(branches));
  const candidates = gitOk(["rev-list", "--no-merges", "-n", "10", "HEAD"])
    .split("\n")
    .filter((c) => c && stateAt.has(c) && git(["rev-parse", "-q", "--verify", `${c}^`]).code === 0 && stateAt.has(gitOk(["rev-parse", `${c}^`])));
  if (!candidates.length) return stepSet();
  const c = pick(candidates);
  const parent = gitOk(["rev-parse", `${c}^`]);
  const subject = gitOk(["log", "-1", "--format=%s", c]);
  const tip = head();
  const ours = stateOf(tip);
  const { state, conflicts } = mergeStates(stateOf(c), ours, stateOf(parent));
  const what = `revert ${c.slice(0, 10)} "${subject}" on ${current()}`;
  const r = git(["revert", "--no-edit", c]);
  const fin = finishConflicts(conflicts, ours, stateOf(parent), state, what, r.code, r.out);
  if (fin.whole || fin.others) {
    if (fin.whole && /^members rm/.test(subject)) count("documented whole-file conflicts (a revert of members rm)");
    else finding("conflict", `${what}: ${fin.whole ? `nothing of a file merged: ${fin.whole}` : `unmerged ${fin.others}`}`);
    gitOk(["revert", "--abort"]);
    return `${what}: abandoned`;
  }
  if (existsSync(join(repo, ".git/REVERT_HEAD"))) {
    const c2 = git(["-c", "core.editor=true", "revert", "--continue"]);
    if (c2.code !== 0) {
      if (/empty|nothing to commit/.test(c2.out)) {
        git(["revert", "--skip"]);
        count("reverts left empty");
        return `${what}: empty`;
      }
      finding("commit", `${what}: continue refused: ${c2.out.slice(0, 400)}`);
      git(["revert", "--abort"]);
      return `${what}: abandoned`;
    }
  } else if (r.code !== 0) {
    if (/nothing to commit|empty/.test(r.out)) return `${what}: empty`;
    finding("revert", `${what}: git revert exited ${r.code}: ${r.out.slice(0, 300)}`);
    return `${what}: failed`;
  }
  count("reverts");
  stateAt.set(head(), clone(fin.state));
  // Two results a review must report, after which the team rotates as docs/rules.md says:
  // a rotation reverted with nothing changed since (the old file and data key back, byte for byte),
  // and a member removed by the revert (of `members add`) under the data key they held.
  let extra = "";
  const done = fin.state;
  for (const env of ENVS) {
    const back = showFile("HEAD", fileOf(env));
    // (`members rm` rotates too: its revert with nothing changed since puts the retired data key back as well)
    const oldKeyBack = /^(rotate-key|members rm)/.test(subject) && back === showFile(parent, fileOf(env)) && back !== showFile(c, fileOf(env));
    const lost = Object.keys(ours[env].members).filter((m) => !(m in done[env].members));
    const before = stanzasOf(tip, env);
    const after = stanzasOf("HEAD", env);
    const sameKey = Object.keys(after).some((r) => before[r] === after[r]);
    const revoke = () => (done[env].revoked = [...new Set([...done[env].revoked, ...lost])]);
    if (!oldKeyBack && !(lost.length && sameKey)) {
      // the driver made a new data key: whoever the revert removed cannot open the result
      if (lost.length) {
        revoke();
        stateAt.set(head(), clone(done));
      }
      continue;
    }
    const rv = cli("alice", ["review", `${tip}...HEAD`, "--json"]);
    count("reviews");
    let json = {};
    try {
      json = JSON.parse(rv.stdout);
    } catch {
      /* counts as not reported */
    }
    const why = oldKeyBack ? `the retired data key of ${env} came back` : `${lost} removed from ${env} under the data key they held`;
    if (rv.code !== 1 || !(json.problems ?? []).length) finding("review", `${what}: ${why}, review exit ${rv.code} with no problem`);
    else count(oldKeyBack ? "reverted rotations reported by review (documented)" : "reverted members add without a rotation reported by review (documented)");
    must(cli("alice", ["rotate-key", "--env", env]), "rotate-key");
    revoke();
    if (commit(`rotate-key ${env} after the revert`)) stateAt.set(head(), clone(done));
    extra += ` + rotate-key ${env}`;
  }
  return `${what}${extra}`;
}
/** `git merge --squash` (the driver merges as for a merge; one commit with one parent), reviewed first as a pull request. */
async function stepSquash() {
  if (branches.length < 2) return stepBranch();
  const pair = mergePair();
  if (pair === undefined) return stepSet();
  const { into, from, tipInto, tipFrom, bases, base } = pair;
  const ours = stateOf(tipInto);
  const theirs = stateOf(tipFrom);
  const { state, conflicts } = mergeStates(base, ours, theirs);
  const r = git(["merge", "--squash", from]);
  const what = `squash ${from} into ${into} (merge bases ${bases.map((b) => b.slice(0, 10))})`;
  const fin = finishConflicts(conflicts, ours, theirs, state, what, r.code, r.out);
  if (fin.whole || fin.others) {
    finding("conflict", `${what}: ${fin.whole ? `nothing of a file merged: ${fin.whole}` : `unmerged ${fin.others}`}`);
    gitOk(["reset", "-q", "--merge"]);
    return `${what}: abandoned`;
  }
  if (sameState(fin.state, ours) && git(["diff", "--cached", "--quiet"]).code === 0) {
    gitOk(["reset", "-q", "--merge"]);
    return `${what}: nothing to commit`;
  }
  if (!commit(`squash ${from} into ${into}`)) {
    gitOk(["reset", "-q", "--merge"]);
    return `${what}: abandoned`;
  }
  count(Object.keys(conflicts).length ? "squash merges with conflicts" : "squash merges");
  stateAt.set(head(), fin.state);
  return `${what}${Object.keys(conflicts).length ? ` (conflicts ${JSON.stringify(conflicts)})` : ""}`;
}
/**
 * A merge made without the driver, as a server makes it (GitHub's merge button, "Update branch",
 * refs/pull/N/merge): `$GIT_DIR/info/attributes` says `* merge=text` for the merge, no hook runs;
 * a text conflict is "resolved" as GitHub's web editor lets one do, keeping both sides' lines. On a
 * throwaway branch. Invariant: either every environment file is what the driver would have made
 * (every member decrypts the model's values; stellar.yaml lists the model's members), or `check`
 * reports an error and `review INTO...server` (the next pull request's view) reports a problem.
 */
async function stepServerMerge() {
  if (branches.length < 2) return stepBranch();
  const pair = mergePair({ review: false, neitherAncestor: true });
  if (pair === undefined) return stepSet();
  const { into, from, tipInto, tipFrom, base } = pair;
  const { state, conflicts } = mergeStates(base, stateOf(tipInto), stateOf(tipFrom));
  gitOk(["checkout", "-q", "-b", "server"]);
  const attrs = join(repo, ".git/info/attributes");
  mkdirSync(dirname(attrs), { recursive: true });
  writeFileSync(attrs, "* merge=text\n");
  let how;
  try {
    const r = git(["merge", "--no-verify", "--no-edit", from]);
    const unmerged = unmergedPaths();
    if (r.code !== 0 && !unmerged.length) {
      finding("server-merge", `text merge of ${from} into ${into} stopped with nothing unmerged: ${r.out.slice(0, 300)}`);
      git(["merge", "--abort"]);
      return "server merge: failed";
    }
    how = unmerged.length ? `conflict in ${unmerged} taken as both sides` : "clean text merge";
    for (const p of unmerged) {
      // GitHub's web editor: the conflict markers removed, both sides' lines kept (as merge=union does)
      const stage = (n) => {
        const f = join(dir, `stage${n}`);
        writeFileSync(f, showFile(`:${n}`, p) ?? "");
        return f;
      };
      const [o, b, t] = [stage(2), stage(1), stage(3)];
      spawnSync("git", ["merge-file", "--union", o, b, t], { cwd: repo, env: envOf("alice") });
      writeFileSync(join(repo, p), readFileSync(o));
      gitOk(["add", p]);
    }
    if (unmerged.length) gitOk(["commit", "-q", "--no-verify", "--no-edit"]);
  } finally {
    rmSync(attrs, { force: true });
  }
  const what = `server merge of ${from} into ${into} (${how})`;
  count(`server merges: ${how.startsWith("conflict") ? "conflict taken as both sides" : "clean text merge"}`);
  // is the result what the driver would have made?
  const h = head();
  const wrong = [];
  let members;
  const projectText = showFile(h, "stellar.yaml"); // (a git failure here is a crash of the step, not a wrong result)
  try {
    members = membersOfText(projectText);
  } catch (error) {
    // both sides' lines kept in stellar.yaml (a key twice): no YAML reader takes it
    wrong.push(`stellar.yaml does not parse (${String(error?.message ?? error).split("\n")[0]})`);
  }
  for (const env of ENVS) {
    if (members !== undefined && !sameMap(members[env], state[env].members)) wrong.push(`${env}: stellar.yaml members`);
    const text = showFile(h, fileOf(env)) ?? "";
    for (const who of Object.keys(state[env].members)) {
      const d = await tryDecrypt(text, who);
      if (!d.ok) wrong.push(`${env}: ${who} cannot decrypt (${d.code})`);
      else if (conflicts[env] || !sameMap(d.values, state[env].values)) wrong.push(`${env}: ${who} decrypts ${conflicts[env] ? `a file where the model has conflicts ${conflicts[env]}` : describeDiff(state[env].values, d.values)}`);
    }
  }
  if (wrong.length) {
    const c = cli("alice", ["check", "--json"]);
    let errs = [];
    try {
      errs = (JSON.parse(c.stdout).diagnostics ?? []).filter((d) => d.severity === "error");
    } catch {
      /* no JSON: counts as refused */
    }
    if (c.code === 0 && !errs.length) finding("server-merge", `${what}: check passed a result the driver would not have made: ${[...new Set(wrong)].join("; ").slice(0, 500)}`);
    const rv = cli("alice", ["review", `${into}...server`, "--json"]);
    count("reviews");
    let json = {};
    try {
      json = JSON.parse(rv.stdout);
    } catch {
      /* counts as not reported */
    }
    if (rv.code !== 1 || !((json.problems ?? []).length || (json.summary?.newErrors ?? 0) > 0)) finding("server-merge", `${what}: review ${into}...server passed a result the driver would not have made (exit ${rv.code}): ${[...new Set(wrong)].join("; ").slice(0, 500)}`);
    count("server merges reported by check and review");
  } else count("server merges equal to the driver's");
  checkout(into);
  gitOk(["branch", "-D", "server"]);
  return `${what}${wrong.length ? ": reported" : ": as the driver"}`;
}
/** `git stash` of an uncommitted `set`, another commit on the branch, `git stash pop` (the driver; no "theirs" ref: resolve --ours or --from-stdin), then commit. */
async function stepStashPop() {
  checkout(pick(branches));
  const s0 = stateOf(head());
  const env = pick(ENVS);
  const who = anyMember(s0, [env]);
  const name = pick(NAMES);
  const v = newValue();
  must(cli(who, ["set", name, "--env", env, "--from-stdin", "--keep-newlines"], v), `set ${name}`);
  const stashed = clone(s0);
  stashed[env].values[name] = v;
  gitOk(["stash", "push", "-q"], who);
  // meanwhile on the branch: a value set (the same name half the time)
  const who2 = anyMember(s0, [env]);
  const name2 = chance(0.5) ? name : pick(NAMES);
  const v2 = newValue();
  must(cli(who2, ["set", name2, "--env", env, "--from-stdin", "--keep-newlines"], v2), `set ${name2}`);
  const mid = clone(s0);
  mid[env].values[name2] = v2;
  if (!commit(`set ${name2} in ${env}`, who2)) return "stash: commit refused";
  stateAt.set(head(), mid);
  const { state, conflicts } = mergeStates(s0, mid, stashed);
  const r = git(["stash", "pop"], who);
  const what = `stash pop of ${name} (${env}) over ${name2}`;
  const fin = finishConflicts(conflicts, mid, stashed, state, what, r.code, r.out, ["ours", "new"]);
  if (fin.whole || fin.others) {
    finding("conflict", `${what}: ${fin.whole ? `nothing of a file merged: ${fin.whole}` : `unmerged ${fin.others}`}`);
    gitOk(["reset", "-q", "--hard"]);
    git(["stash", "drop", "-q"]);
    return `${what}: abandoned`;
  }
  if (r.code !== 0) git(["stash", "drop", "-q"]); // a conflicting pop keeps the entry
  if (sameState(fin.state, mid)) {
    gitOk(["reset", "-q", "--hard"]);
    return `${what}: nothing left to commit`;
  }
  if (commit(`set ${name} in ${env} (from the stash)`, who)) stateAt.set(head(), fin.state);
  count(Object.keys(conflicts).length ? "stash pops with conflicts" : "stash pops");
  return `${what}${Object.keys(conflicts).length ? ` (conflicts ${JSON.stringify(conflicts)})` : ""}`;
}
/**
 * A member clones the repository afresh, runs `git setup`, sets a value and commits (the hooks run);
 * meanwhile the branch moves on in the team's repository half the time; the member then runs
 * `git pull --rebase` (the driver of the clone; "ours" is upstream) and the team's repository takes
 * the result (a fast-forward). The clone must merge with the driver as the team's repository does.
 */
let cloneNo = 0;
async function stepCloneAndPull() {
  const b = pick(branches);
  checkout(b);
  const s0 = stateOf(head());
  const env = pick(ENVS);
  const who = anyMember(s0, [env]);
  const cdir = join(dir, "clones", `${who}-${++cloneNo}`);
  mkdirSync(dirname(cdir), { recursive: true });
  gitOk(["clone", "-q", "-b", b, repo, cdir], who);
  const what0 = `${who} clones ${b}, git setup, set, pull --rebase`;
  here = cdir;
  try {
    must(cli(who, ["git", "setup"]), `git setup in ${who}'s clone`);
    if (git(["config", "merge.stellar.driver"], who).code !== 0) finding("clone", `${what0}: git setup left no merge driver`);
    const name = pick(NAMES);
    const v = newValue();
    must(cli(who, ["set", name, "--env", env, "--from-stdin", "--keep-newlines"], v), `set ${name} in the clone`);
    const mine = clone(s0);
    mine[env].values[name] = v;
    gitOk(["add", "-A"], who);
    const cm = git(["commit", "-q", "-m", `set ${name} in ${env} (${who}'s clone)`], who);
    if (cm.code !== 0) {
      finding("commit", `${what0}: commit in the clone refused: ${cm.out.slice(0, 300)}`);
      return `${what0}: abandoned`;
    }
    const mineCommit = gitOk(["rev-parse", "HEAD"], who);
    stateAt.set(mineCommit, mine);
    // meanwhile, in the team's repository
    here = repo;
    let upstream = s0;
    if (chance(0.5)) {
      const who2 = anyMember(s0, [env]);
      const name2 = chance(0.5) ? name : pick(NAMES);
      const v2 = newValue();
      must(cli(who2, ["set", name2, "--env", env, "--from-stdin", "--keep-newlines"], v2), `set ${name2}`);
      upstream = clone(s0);
      upstream[env].values[name2] = v2;
      if (commit(`set ${name2} in ${env}`, who2)) stateAt.set(head(), upstream);
    }
    here = cdir;
    const { state, conflicts } = mergeStates(s0, upstream, mine);
    const r = git(["pull", "-q", "--rebase", "origin", b], who);
    const what = `${what0}${upstream === s0 ? "" : " over an upstream change"}`;
    if (existsSync(join(cdir, ".git/rebase-merge")) || existsSync(join(cdir, ".git/rebase-apply"))) {
      const fin = finishConflicts(conflicts, upstream, mine, state, what, r.code, r.out);
      if (fin.whole || fin.others) {
        finding("conflict", `${what}: ${fin.whole ? `nothing of a file merged: ${fin.whole}` : `unmerged ${fin.others}`}`);
        return `${what}: abandoned`;
      }
      const chk = cli(who, ["check", "--json"]);
      if (chk.code !== 0) finding("check", `${what}: check before rebase --continue exited ${chk.code}`);
      const c2 = git(["-c", "core.editor=true", "rebase", "--continue"], who);
      if (c2.code !== 0) {
        if (/empty|nothing to commit/.test(c2.out)) git(["rebase", "--skip"], who);
        else {
          finding("rebase", `${what}: rebase --continue refused: ${c2.out.slice(0, 300)}`);
          return `${what}: abandoned`;
        }
      }
      stateAt.set(gitOk(["rev-parse", "HEAD"], who), fin.state);
      count("pull --rebase with conflicts (a fresh clone)");
    } else {
      if (r.code !== 0) {
        finding("rebase", `${what}: git pull --rebase exited ${r.code}: ${r.out.slice(0, 300)}`);
        return `${what}: failed`;
      }
      if (Object.keys(conflicts).length) finding("conflict", `${what}: pull --rebase applied without a stop where the model says ${JSON.stringify(conflicts)}`);
      stateAt.set(gitOk(["rev-parse", "HEAD"], who), state);
      count("pull --rebase (a fresh clone)");
    }
    here = repo;
    gitOk(["pull", "-q", "--ff-only", cdir, "HEAD"]);
    return what;
  } finally {
    here = repo;
    rmSync(cdir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- the self-test (--self-test)
/**
 * A fixed history for the review check's keyless limit, which random runs seldom reach (an
 * environment must keep one value): staging keeps one value on main; branch `honest` removes carol
 * with `members rm` (a rotation: keyless, review cannot tell it from that value changed plus a
 * re-wrap, rotationUncertain, and reports a possible unrotated removal); branch `unrotated` removes
 * her without a rotation, made to look like one (the same data key, every stanza wrapped anew, the
 * value set anew). reviewBranch must clear the first with `review --verify` (no finding) and report
 * the second as a finding. Exits 0 when both hold, else 1.
 */
async function selfTest() {
  const env = "staging";
  for (const name of NAMES.slice(1, 3)) {
    const s = clone(stateOf(head()));
    must(cli("alice", ["rm", name, "--env", env, "--yes", "--force"]), `rm ${name}`);
    delete s[env].values[name];
    if (commit(`rm ${name} from ${env}`)) stateAt.set(head(), s);
  }
  const [kept] = Object.keys(stateOf(head())[env].values);
  for (const b of ["honest", "unrotated"]) {
    gitOk(["branch", b, "main"]);
    branches.push(b);
  }
  // honest: members rm (rotates the data key)
  checkout("honest");
  const h = clone(stateOf(head()));
  must(cli("alice", ["members", "rm", "carol", "--env", env]), "members rm carol");
  delete h[env].members.carol;
  h[env].revoked = [...new Set([...h[env].revoked, "carol"])];
  if (commit(`members rm carol from ${env}`)) stateAt.set(head(), h);
  await checkCommitted(h, "self-test, honest");
  // unrotated: stellar.yaml and .sops.yaml as members rm writes them, the file by hand under the old data key
  checkout("unrotated");
  const u = clone(stateOf(head()));
  const before = await sops.decryptSecrets(showFile("HEAD", fileOf(env)), [people.alice.identity]);
  must(cli("alice", ["members", "rm", "carol", "--env", env]), "members rm carol");
  const values = new Map(before.values);
  values.set(kept, newValue());
  const dropped = await sops.decryptSecrets(await sops.updateKeys(before, [people.alice.recipient, people.bob.recipient]), [people.alice.identity]);
  let text = await sops.reencryptSecrets(dropped, values);
  for (const who of ["alice", "bob"]) {
    const at = text.indexOf(`        - recipient: ${people[who].recipient}\n`);
    const end = text.indexOf("-----END AGE ENCRYPTED FILE-----\n", at) + "-----END AGE ENCRYPTED FILE-----\n".length;
    const enc = await sops.wrapDataKey(before.dataKey, people[who].recipient);
    text = `${text.slice(0, at)}        - recipient: ${people[who].recipient}\n          enc: |\n${enc.trimEnd().split("\n").map((l) => `            ${l}`).join("\n")}\n${text.slice(end)}`;
  }
  writeFileSync(join(repo, fileOf(env)), text);
  delete u[env].members.carol;
  u[env].values[kept] = values.get(kept);
  gitOk(["add", "-A"]);
  gitOk(["commit", "-q", "--no-verify", "-m", `members rm carol from ${env} without a rotation, made to look like one`]);
  stateAt.set(head(), u);
  await checkCommitted(u, "self-test, unrotated");
  checkout("main");
  stepLabel = "self-test";
  const f0 = findings.length;
  const c0 = counts[UNCERTAIN_CLEARED] ?? 0;
  reviewBranch("main", "honest");
  const honestCleared = (counts[UNCERTAIN_CLEARED] ?? 0) === c0 + 1 && findings.length === f0;
  console.log(`self-test: review main...honest (members rm, one kept value): ${honestCleared ? "rotationUncertain, cleared by review --verify" : "NOT cleared"}`);
  reviewBranch("main", "unrotated");
  const caught = findings.slice(f0).some((f) => f.kind === "review-problem" && /review --verify of an honest branch still reports/.test(f.detail));
  console.log(`self-test: review main...unrotated (no rotation, made to look like one): ${caught ? "reported (the FINDING lines above are expected)" : "NOT reported"}`);
  const ok = honestCleared && caught && findings.slice(f0).every((f) => f.kind === "review-problem" && f.detail.startsWith("review main...unrotated"));
  console.log(`self-test ${ok ? "passed" : "FAILED"}: ${cliRuns} CLI runs, ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (opts.keep) console.log(`repository kept: ${repo}`);
  else rmSync(dir, { recursive: true, force: true });
  process.exit(ok ? 0 : 1);
}

// ---------------------------------------------------------------- after a crash
/** The branches a step makes for itself and deletes at its end (an attack's, a server merge's). */
const THROWAWAY = ["attack", "server"];
function inProgress() {
  const g = join(repo, ".git");
  return ["MERGE_HEAD", "CHERRY_PICK_HEAD", "REVERT_HEAD", "rebase-merge", "rebase-apply", "SQUASH_MSG"].filter((f) => existsSync(join(g, f)));
}
/**
 * After a step threw (a bug of the script, or a git or CLI failure it did not expect): puts the
 * team's repository back where any next step can start, and checks that it is, or stops. Undone:
 * an operation in progress (merge, cherry-pick, revert, rebase, a squash), the server merge's
 * `$GIT_DIR/info/attributes`, the work tree and index (back to main's tip, which does not move),
 * untracked files, the driver's records of that operation, the throwaway branches (`attack`,
 * `server`) and stash entries. Checked: nothing in progress, a clean work tree, exactly the team's
 * branches, each tip with a model state (a step that committed before it crashed leaves a tip
 * the model knows nothing of: the run stops there, the repository kept, rather than fail every
 * later step on that branch).
 */
function recoverFromCrash(what) {
  here = repo;
  for (const op of ["merge", "cherry-pick", "revert", "rebase"]) git([op, "--abort"]);
  rmSync(join(repo, ".git/info/attributes"), { force: true });
  git(["checkout", "-q", "-f", "main"]);
  git(["reset", "-q", "--hard"]);
  git(["clean", "-fdq"]);
  rmSync(join(repo, ".git/stellar-secrets/unresolved"), { recursive: true, force: true });
  for (const b of THROWAWAY) git(["branch", "-D", b]);
  git(["stash", "clear"]);
  const left = inProgress().map((f) => `.git/${f} still there`);
  if (git(["status", "--porcelain"]).stdout.trim() !== "") left.push("the work tree is not clean");
  const heads = gitOk(["for-each-ref", "--format=%(refname:short)", "refs/heads"]).split("\n").filter(Boolean);
  for (const b of heads) if (!branches.includes(b)) left.push(`branch ${b} is no branch of the team`);
  for (const b of branches) {
    if (!heads.includes(b)) left.push(`branch ${b} is gone`);
    else if (!stateAt.has(branchTip(b))) left.push(`branch ${b}'s tip ${branchTip(b).slice(0, 10)} has no model state (the step committed before it crashed)`);
  }
  if (left.length) {
    console.log(`stopped: the crash of ${what} left what later steps cannot start from: ${left.join("; ")}; repository kept: ${repo} (keys: ${join(dir, "keys")})`);
    process.exit(1);
  }
  count("crashes recovered from (each also a finding)");
}

// ---------------------------------------------------------------- setup and the run
const started = Date.now();
gitOk(["init", "-q", "-b", "main"]);
must(cli("alice", ["init", "--env", ENVS.join(",")]), "init");
for (const env of ENVS) for (const m of MEMBERS.slice(1, 3)) must(cli("alice", ["members", "add", m, people[m].recipient, "--env", env]), `members add ${m}`);
const initial = emptyState();
for (const env of ENVS) {
  initial[env].members.alice = people.alice.recipient;
  for (const m of MEMBERS.slice(1, 3)) initial[env].members[m] = people[m].recipient;
}
for (const name of NAMES.slice(0, 3)) {
  const v = newValue();
  must(cli("alice", ["set", name, "--env", ENVS.join(","), "--from-stdin", "--keep-newlines"], v), `set ${name}`);
  for (const env of ENVS) initial[env].values[name] = v;
}
must(cli("alice", ["git", "setup"]), "git setup");
commit("base");
stateAt.set(head(), initial);
await checkCommitted(initial, "base");
if (opts["self-test"]) await selfTest();

const STEP_KINDS = [
  [stepSet, 30],
  [stepRm, 8],
  [stepRename, 6],
  [stepMembersAdd, 7],
  [stepMembersRm, 6],
  [stepRotate, 3],
  [stepBranch, 8],
  [stepMerge, 20],
  [stepCherryPick, 5],
  [stepRebase, 5],
  ...(opts["no-attacks"] ? [] : [[stepAttack, Number(opts["attack-weight"])]]),
  // --classic: the step set of the first runs (seeds 2 to 8 replay as they ran)
  ...(opts.classic
    ? []
    : [
        [stepRevert, 4],
        [stepSquash, 3],
        [stepServerMerge, 3],
        [stepStashPop, 3],
        [stepCloneAndPull, 3],
      ]),
];
// --focus stepRevert,...: those step kinds eight times as often (to look at one of them)
for (const k of STEP_KINDS) if (opts.focus?.split(",").includes(k[0].name)) k[1] *= 8;
const TOTAL = STEP_KINDS.reduce((n, [, w]) => n + w, 0);
for (stepNo = 1; stepNo <= STEPS; stepNo++) {
  let x = int(TOTAL);
  let fn = STEP_KINDS[0][0];
  for (const [f, w] of STEP_KINDS) {
    if (x < w) {
      fn = f;
      break;
    }
    x -= w;
  }
  stepLabel = fn.name;
  gitCallsInStep = 0;
  let label;
  try {
    // on-branch steps: pick the branch first
    if ([stepSet, stepRm, stepRename, stepMembersAdd, stepMembersRm, stepRotate].includes(fn)) checkout(pick(branches));
    label = await fn();
    stepLabel = String(label ?? fn.name);
    count(`step ${fn.name}`);
    if (VERBOSE || stepNo % 25 === 0) console.log(`[${stepNo}/${STEPS}] ${current()}: ${stepLabel}`);
    // (the invariants too: a git failure while reading them back is a crash of this step)
    if (stateAt.has(head())) await checkCommitted(stateOf(head()), `after step ${stepNo}`);
    else finding("model", `no model state for HEAD after ${stepLabel}`);
    if (fn !== stepAttack) checkClean(`after step ${stepNo}`);
  } catch (e) {
    finding("crash", `${stepLabel}: ${e instanceof Error ? e.message : String(e)}`.slice(0, 800));
    recoverFromCrash(`step ${stepNo} (${stepLabel})`);
  }
}
// finally: every branch merged into main, each reviewed first
for (const b of branches.slice(1)) {
  stepNo++;
  stepLabel = `final merge of ${b}`;
  gitCallsInStep = 0;
  try {
    checkout("main");
    if (git(["merge-base", "--is-ancestor", b, "main"]).code === 0) continue;
    const tipInto = head();
    const tipFrom = branchTip(b);
    reviewBranch("main", b);
    const bases = gitOk(["merge-base", "--all", tipInto, tipFrom]).split("\n").filter(Boolean);
    const base = bases.length === 1 ? stateOf(bases[0]) : virtualBase(bases);
    const { state, conflicts } = mergeStates(base, stateOf(tipInto), stateOf(tipFrom));
    const r = git(["merge", "--no-edit", b]);
    const fin = finishConflicts(conflicts, stateOf(tipInto), stateOf(tipFrom), state, stepLabel, r.code, r.out);
    if (fin.whole || fin.others) {
      finding("conflict", `${stepLabel}: ${JSON.stringify(fin)}`);
      gitOk(["merge", "--abort"]);
      continue;
    }
    if (r.code !== 0) gitOk(["commit", "-q", "--no-edit"]);
    stateAt.set(head(), fin.state);
    await checkCommitted(fin.state, stepLabel);
    checkClean(stepLabel);
  } catch (e) {
    finding("crash", `${stepLabel}: ${e instanceof Error ? e.message : String(e)}`.slice(0, 800));
    recoverFromCrash(stepLabel);
  }
}
const seconds = ((Date.now() - started) / 1000).toFixed(0);
console.log(`\nseed ${SEED}, ${STEPS} steps, ${MEMBERS.length} members, ${cliRuns} CLI runs, ${seconds} s`);
for (const [k, v] of Object.entries(counts).sort()) console.log(`  ${k}: ${v}`);
console.log(`findings: ${findings.length}`);
for (const f of findings) console.log(`  step ${f.step} [${f.kind}] ${f.detail}`);
if (opts.keep) console.log(`repository kept: ${repo}`);
else rmSync(dir, { recursive: true, force: true });
process.exit(findings.length ? 1 : 0);
