/**
 * `review` of a change that turns a flat environment file (alice and bob, both members) into a sops
 * key-groups file (Shamir, SOPS-FORMAT §5), through the built CLI: the groups' keys are the file's
 * readers (by label, as the top-level stanzas are), and a new data key (every value re-encrypted,
 * every wrapping new) is a rotation. So only what is true is said: `key-groups-change` always; a
 * member removed, and not rotated, only when their key is in no group and the data key is provably
 * the same (a value's encrypted string byte for byte). Files made by the independent oracle.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { aliceProject, sandboxesCleanedAfterEach } from "./helpers/cli.js";
import { oracleEncrypt, oracleSealKeyGroups } from "../packages/sops/test-fixtures/support.js";
import { decryptSecrets } from "../packages/sops/src/index.js";

vi.setConfig({ testTimeout: 240_000 });
const sandboxes = sandboxesCleanedAfterEach();
const FILE = "secrets/production.enc.yaml";

async function flatProject() {
  const { s, alice } = await aliceProject(sandboxes, "production", [
    ["api_key", "production", "sk-live-kg-1"],
    ["db_password", "production", "pw-kg-2"],
  ]);
  const bob = s.keygen("bob");
  const add = await s.run(["members", "add", "bob", bob.recipient, "--env", "production"]);
  expect(add.code, add.stderr).toBe(0);
  s.commit("alice and bob");
  return { s, alice, bob };
}

interface Review {
  code: number;
  problems: { kind: string; message: string }[];
  diagnostics: { rule: string; file: string }[];
  environments: { environment: string; recipients: { gained: { recipient: string }[]; lost: { recipient: string; member?: string }[] }; dataKeyRotated: boolean }[];
}

async function review(s: Awaited<ReturnType<typeof flatProject>>["s"]): Promise<Review> {
  const r = await s.run(["review", "HEAD~1", "HEAD", "--json"]);
  return { code: r.code, ...(JSON.parse(r.stdout) as Omit<Review, "code">) };
}

describe("review: a file that becomes a key-groups file", () => {
  it("under a new data key, with alice and bob each holding a group: key-groups-change only (no one lost access, the key was rotated)", async () => {
    const { s, alice, bob } = await flatProject();
    const key = randomBytes(32);
    const values = ["sk-live-kg-1", "pw-kg-2"];
    const body = `api_key: ${oracleEncrypt(key, values[0]!, "api_key:")}\ndb_password: ${oracleEncrypt(key, values[1]!, "db_password:")}\n`;
    s.write(FILE, oracleSealKeyGroups(body, { dataKey: key, groups: [{ age: [alice.recipient] }, { age: [bob.recipient] }], threshold: 2, macValues: values }));
    s.commit("sops rotate into key groups");
    const r = await review(s);
    expect(r.problems.map((p) => p.kind)).toEqual(["key-groups-change"]);
    const env = r.environments.find((e) => e.environment === "production")!;
    expect(env.recipients).toEqual({ gained: [], lost: [] });
    expect(env.dataKeyRotated).toBe(true);
    // the head's checker says the same of the key groups (recipient-drift at key_groups): listed with the checker's diagnostics, not a second problem
    expect(r.code).toBe(1);
    // (and that its groups are not those of its .sops.yaml rule, a plain list of alice and bob: key-groups-rule.test.ts)
    expect(r.diagnostics.filter((d) => d.rule === "recipient-drift").map((d) => [d.file, d.message.split(":")[0]])).toEqual([
      [FILE, "the production file uses sops.key_groups (Shamir secret sharing)"],
      [FILE, `the production file's sops.key_groups are not those of creation rule 1 of .sops.yaml (line 4), which sops uses for ${FILE}`],
    ]);
  });

  it("under a new data key, bob's group only: alice lost access, but the data key was rotated, so no unrotated-removal", async () => {
    const { s, bob } = await flatProject();
    const key = randomBytes(32);
    const values = ["sk-live-kg-1", "pw-kg-2"];
    const body = `api_key: ${oracleEncrypt(key, values[0]!, "api_key:")}\ndb_password: ${oracleEncrypt(key, values[1]!, "db_password:")}\n`;
    s.write(FILE, oracleSealKeyGroups(body, { dataKey: key, groups: [{ age: [bob.recipient] }], macValues: values }));
    s.commit("alice out, into one key group");
    const r = await review(s);
    expect(r.problems.map((p) => p.kind)).toEqual(["key-groups-change"]);
    expect(r.environments.find((e) => e.environment === "production")!.recipients.lost.map((l) => l.member)).toEqual(["alice"]);
  });

  it("under the same data key (the values' encrypted strings kept): nobody lost while both hold a group; alice's removal is unrotated when she holds none", async () => {
    const { s, alice, bob } = await flatProject();
    const flat = s.read(FILE);
    const { dataKey, values } = await decryptSecrets(flat, [alice.identity]);
    const body = flat.slice(0, flat.indexOf("sops:\n"));
    const macValues = [values.get("api_key")!, values.get("db_password")!];
    s.write(FILE, oracleSealKeyGroups(body, { dataKey, groups: [{ age: [alice.recipient] }, { age: [bob.recipient] }], threshold: 2, macValues }));
    s.commit("sops updatekeys into key groups, alice and bob");
    const both = await review(s);
    expect(both.problems.map((p) => p.kind)).toEqual(["key-groups-change"]);
    expect(both.environments.find((e) => e.environment === "production")!.recipients).toEqual({ gained: [], lost: [] });
    // alice's group dropped, the data key kept: she still holds it
    s.write(FILE, oracleSealKeyGroups(body, { dataKey, groups: [{ age: [bob.recipient] }], macValues, lastmodified: "2026-01-03T00:00:00Z" }));
    s.commit("alice's group dropped, same data key");
    const dropped = await review(s);
    expect(dropped.problems.map((p) => p.kind).sort()).toEqual(["key-groups-change", "unrotated-removal"]);
    expect(dropped.problems.find((p) => p.kind === "unrotated-removal")!.message).toContain("alice held a share of production's data key (a key group of secrets/production.enc.yaml, where 2 of 2 groups decrypt) and holds nothing in the file now, but the data key was not rotated");
  });
});

describe("review --verify: a key-groups file", () => {
  /** alice, bob and carol members; the file a 2-of-3 split (one group each) of one data key; a key file of alice's and bob's keys. */
  async function twoOfThree() {
    const { s, alice, bob } = await flatProject();
    const carol = s.keygen("carol");
    const add = await s.run(["members", "add", "carol", carol.recipient, "--env", "production"]);
    expect(add.code, add.stderr).toBe(0);
    const key = randomBytes(32);
    const values = ["sk-live-kg-1", "pw-kg-2"];
    const body = `api_key: ${oracleEncrypt(key, values[0]!, "api_key:")}\ndb_password: ${oracleEncrypt(key, values[1]!, "db_password:")}\n`;
    s.write(FILE, oracleSealKeyGroups(body, { dataKey: key, groups: [{ age: [alice.recipient] }, { age: [bob.recipient] }, { age: [carol.recipient] }], threshold: 2, macValues: values }));
    s.commit("2 of 3 key groups");
    const both = join(s.dir, "alice-and-bob.txt"); // test-only keys
    writeFileSync(both, `${readFileSync(alice.file, "utf8")}\n${readFileSync(bob.file, "utf8")}`, { mode: 0o600 });
    return { s, alice, bob, carol, key, values, both };
  }

  /** carol's group dropped under the same data key, split anew (new shares, every value re-encrypted): a rotation to look at, but none. */
  function carolOutUnrotated(t: Awaited<ReturnType<typeof twoOfThree>>): void {
    const { s, alice, bob, key, values } = t;
    const body = `api_key: ${oracleEncrypt(key, values[0]!, "api_key:")}\ndb_password: ${oracleEncrypt(key, values[1]!, "db_password:")}\n`;
    s.write(FILE, oracleSealKeyGroups(body, { dataKey: key, groups: [{ age: [alice.recipient] }, { age: [bob.recipient] }], threshold: 2, macValues: values, lastmodified: "2026-01-03T00:00:00Z" }));
    s.commit("carol out (a rotation, it says)");
  }

  async function verify(s: Awaited<ReturnType<typeof twoOfThree>>["s"], keyFile: string) {
    const r = await s.run(["review", "--verify", "HEAD~1", "HEAD", "--json"], { env: { SOPS_AGE_KEY_FILE: keyFile, SOPS_AGE_KEY: undefined } });
    return { code: r.code, ...(JSON.parse(r.stdout) as { problems: { kind: string; message: string }[]; verification: { verified: boolean; reason?: string; code?: string; dataKeyRotated?: boolean }[] }) };
  }

  it("a key that opens one group of a 2-of-2 head is not 'none of your keys': it says which groups it opened and that nothing is verified", async () => {
    const t = await twoOfThree();
    carolOutUnrotated(t);
    const r = await verify(t.s, t.alice.file);
    expect(r.verification).toHaveLength(1);
    expect(r.verification[0]).toMatchObject({ verified: false, code: "NO_MATCHING_IDENTITY" });
    expect(r.verification[0]!.reason).toBe("your keys open 1 of the head version's 2 key groups (group 1) and 2 are needed, so its data key cannot be combined and nothing in it is verified");
    // keys of two groups where three are needed (the threshold raised): both named
    const three = await twoOfThree();
    three.s.write(FILE, three.s.read(FILE).replace("    shamir_threshold: 2\n", "    shamir_threshold: 3\n"));
    three.s.commit("threshold 3");
    const raised = await verify(three.s, three.both);
    expect(raised.verification[0]!.reason).toBe("your keys open 2 of the head version's 3 key groups (groups 1 and 2) and 3 are needed, so its data key cannot be combined and nothing in it is verified");
  });

  it("a head that writes no shamir_threshold: two groups' keys of a 3-of-3 split give no data key, and --verify says so, not 'tampered'", async () => {
    const t = await twoOfThree();
    const { s, alice, bob, carol, values } = t;
    const key = randomBytes(32);
    const body = `api_key: ${oracleEncrypt(key, values[0]!, "api_key:")}\ndb_password: ${oracleEncrypt(key, values[1]!, "db_password:")}\n`;
    s.write(FILE, oracleSealKeyGroups(body, { dataKey: key, groups: [{ age: [alice.recipient] }, { age: [bob.recipient] }, { age: [carol.recipient] }], threshold: 3, macValues: values }).replace("    shamir_threshold: 3\n", ""));
    s.commit("rotated into a 3-of-3 split, no threshold written");
    const r = await verify(s, t.both);
    expect(r.verification[0]).toMatchObject({ verified: false, code: "NO_MATCHING_IDENTITY", tampered: false });
    expect(r.verification[0]!.reason).toBe(
      "your keys open 2 of the head version's 3 key groups (groups 1 and 2) whose shares do not give its data key (it writes no shamir_threshold: its split may need more groups, or a share was changed) and nothing in it is verified",
    );
    expect(r.problems.map((p) => p.kind)).not.toContain("tampered");
  });

  it("keys of enough groups prove the split anew was no rotation, and a removed group's holder is said to hold a share, not to decrypt alone", async () => {
    const t = await twoOfThree();
    carolOutUnrotated(t);
    const r = await verify(t.s, t.both);
    expect(r.verification[0]).toMatchObject({ verified: true, dataKeyRotated: false });
    const removal = r.problems.filter((p) => p.kind === "unrotated-removal");
    expect(removal).toHaveLength(1);
    expect(removal[0]!.message).toContain("carol held a share of production's data key (a key group of secrets/production.enc.yaml, where 2 of 3 groups decrypt) and holds nothing in the file now, but the data key was not rotated (verified with your key): with shares of enough other groups");
    expect(removal[0]!.message).not.toContain("carol was removed from production but");
    // the split anew wrapped alice's and bob's groups' shares anew under the same data key; the reviewer's keys
    // (alice's and bob's) each open one of them alone, under its own label: no one holds what they did not, no problem
    const rewraps = (r.verification[0] as unknown as { rewraps: { recipient: string; group?: number; openedWith?: string }[] }).rewraps;
    expect(rewraps.map((x) => [x.group, x.recipient === x.openedWith])).toEqual([[1, true], [2, true]]);
    expect(r.problems.filter((p) => p.kind === "rewrapped-without-rotation")).toEqual([]);
    expect(r.code).toBe(1);
    // alice alone cannot combine the shares: nothing is verified, and nothing is said of bob's stanza
  });
});

describe("review: a .sops.yaml creation rule with key_groups", () => {
  it("a lowered shamir_threshold, a rule made one flat list or a key copied into another group is a weakened-rule; a raised threshold or an outsider's key in a group a key-groups-change (the checker's sops-config-drift stays a diagnostic); a comment nothing", async () => {
    const { s, alice, bob } = await flatProject();
    const carol = s.keygen("carol");
    const mallory = s.keygen("mallory");
    const add = await s.run(["members", "add", "carol", carol.recipient, "--env", "production"]);
    expect(add.code, add.stderr).toBe(0);
    const rule = (groups: string[][], t?: number) =>
      `creation_rules:\n  - path_regex: secrets/production\\.enc\\.yaml$\n${t === undefined ? "" : `    shamir_threshold: ${t}\n`}    key_groups:\n` +
      groups.map((g) => `      - age:\n${g.map((r) => `          - ${r}\n`).join("")}`).join("");
    const [a, b, c] = [alice.recipient, bob.recipient, carol.recipient];
    const base = rule([[a], [b], [c]], 2);
    s.write(".sops.yaml", base);
    s.commit("a 2-of-3 rule");
    const variants: [string, string, string | undefined][] = [
      ["threshold raised", rule([[a], [b], [c]], 3), "key-groups-change"],
      ["one flat list", `creation_rules:\n  - path_regex: secrets/production\\.enc\\.yaml$\n    age: ${a},${b},${c}\n`, "weakened-rule"],
      ["alice copied into bob's group", rule([[a], [b, a], [c]], 2), "weakened-rule"],
      ["mallory in bob's group", rule([[a], [b, mallory.recipient], [c]], 2), "key-groups-change"],
      ["a comment", `# reviewed\n${base}`, undefined],
    ];
    for (const [label, text, kind] of variants) {
      s.write(".sops.yaml", text);
      s.commit(label);
      const r = await s.run(["review", "HEAD~1", "HEAD", "--json"]);
      const report = JSON.parse(r.stdout) as { problems: { kind: string; file?: string; line?: number; message: string }[]; diagnostics: { rule: string }[] };
      expect(report.problems.map((p) => p.kind), label).toEqual(kind === undefined ? [] : [kind]);
      expect(r.code, label).toBe(kind === undefined ? 0 : 1);
      // at the head rule's key_groups (or age) key
      if (kind !== undefined) expect(report.problems[0]).toMatchObject({ file: ".sops.yaml", line: text.split("\n").findIndex((l) => /^ {4}(key_groups|age):/.test(l)) + 1 });
      if (label === "one flat list") {
        expect(report.problems[0]!.message).toContain(
          "from 3 key groups, any 2 of which decrypt together (group 1: alice; group 2: bob; group 3: carol) to one list of keys, any one of which decrypts (alice, bob, carol): fewer keys together decrypt such a file now",
        );
      }
      if (label === "mallory in bob's group") {
        expect(report.problems[0]!.message).toContain("group 2: bob, age1");
        expect(report.problems[0]!.message).toContain("(no member)");
        expect(report.diagnostics.map((d) => d.rule)).toContain("sops-config-drift");
      }
      s.git(["reset", "-q", "--hard", "HEAD~1"]);
    }
    // the threshold lowered: 3 → 2
    s.write(".sops.yaml", rule([[a], [b], [c]], 3));
    s.commit("3 of 3");
    s.write(".sops.yaml", rule([[a], [b], [c]], 2));
    s.commit("2 of 3");
    const lowered = JSON.parse((await s.run(["review", "HEAD~1", "HEAD", "--json"])).stdout) as { problems: { kind: string; message: string }[] };
    expect(lowered.problems.map((p) => p.kind)).toEqual(["weakened-rule"]);
    expect(lowered.problems[0]!.message).toContain("from 3 key groups, any 3 of which decrypt together");
  });
});
