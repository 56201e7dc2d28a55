/**
 * A sops key-groups file (Shamir, SOPS-FORMAT §5) as an environment file, through the built CLI:
 * read by get/export/exec, kept (key_groups byte for byte) by set/rm, refused
 * clearly by writes that need a new data key or recipients. The file is made by the independent
 * oracle (python split, `age` CLI, node:crypto), as another SOPS writer would make it.
 */
import { randomBytes } from "node:crypto";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { aliceProject, sandboxesCleanedAfterEach, tryGit } from "./helpers/cli.js";
import { oracleEncrypt, oracleSealKeyGroups, oracleSealYaml } from "../packages/sops/test-fixtures/support.js";

vi.setConfig({ testTimeout: 240_000 });
const sandboxes = sandboxesCleanedAfterEach();

const FILE = "secrets/production.enc.yaml";
const block = (text: string) => text.slice(text.indexOf("\nsops:\n") + 1);
const withoutLmMac = (b: string) => b.replace(/^ {4}(lastmodified|mac): .*$/gm, "    $1: X");

/** alice's project whose production file is replaced by a 2-of-2 key-groups file (alice's group, bob's group); SOPS_AGE_KEY_FILE holds both keys. */
async function keyGroupsProject() {
  const { s, alice } = await aliceProject(sandboxes, "production", [["api_key", "production", "placeholder"]]);
  const bob = s.keygen("bob");
  const key = randomBytes(32);
  const values = ["sk-live-kg-1", "pw-kg-2"];
  const text = oracleSealKeyGroups(`api_key: ${oracleEncrypt(key, values[0]!, "api_key:")}\ndb_password: ${oracleEncrypt(key, values[1]!, "db_password:")}\n`, {
    dataKey: key,
    groups: [{ age: [alice.recipient] }, { age: [bob.recipient] }],
    threshold: 2,
    macValues: values,
  });
  s.write(FILE, text);
  s.commit("a key-groups file, as sops writes it");
  const both = join(s.dir, "keys", "both.txt");
  writeFileSync(both, `# TEST-ONLY keys, never use for real secrets\n${alice.identity}\n${bob.identity}\n`, { mode: 0o600 });
  s.env.SOPS_AGE_KEY_FILE = both;
  return { s, alice, bob, text };
}

describe("CLI: a key-groups environment file", () => {
  it("get, export and exec read it with keys of enough groups; one group's key is exit 10 naming the groups", async () => {
    const { s, alice } = await keyGroupsProject();
    const get = await s.run(["get", "api_key", "--env", "production"]);
    expect([get.code, get.stdout.trimEnd(), get.stderr]).toEqual([0, "sk-live-kg-1", ""]);
    const exported = await s.run(["export", "--env", "production", "--format", "dotenv"]);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toContain("DB_PASSWORD=");
    expect(exported.stdout).toContain("pw-kg-2");
    const run = await s.run(["exec", "--env", "production", "--", process.execPath, "-e", "process.stdout.write(String(process.env.DB_PASSWORD === 'pw-kg-2'))"]);
    expect([run.code, run.stdout]).toEqual([0, "true"]);
    const one = await s.run(["get", "api_key", "--env", "production"], { env: { SOPS_AGE_KEY_FILE: alice.file } });
    expect(one.code).toBe(10);
    expect(one.stderr).toContain("opens 1 of the file's 2 key groups (1)");
    expect(one.stderr).not.toContain("not a member");
    expect(one.stdout).toBe("");
  });

  it("a 2-of-3 file whose shamir_threshold was removed: get reads it with two groups' keys (as sops does), and review calls the removal a key-groups-change", async () => {
    const { s, alice } = await aliceProject(sandboxes, "production", [["api_key", "production", "placeholder"]]);
    const bob = s.keygen("bob");
    const carol = s.keygen("carol");
    const key = randomBytes(32);
    const text = oracleSealKeyGroups(`api_key: ${oracleEncrypt(key, "sk-live-kg-1", "api_key:")}\n`, {
      dataKey: key,
      groups: [{ age: [alice.recipient] }, { age: [bob.recipient] }, { age: [carol.recipient] }],
      threshold: 2,
      macValues: ["sk-live-kg-1"],
    });
    s.write(FILE, text);
    s.commit("2 of 3");
    s.write(FILE, text.replace("    shamir_threshold: 2\n", ""));
    s.commit("threshold removed by hand");
    const two = join(s.dir, "keys", "alice-carol.txt");
    writeFileSync(two, `# TEST-ONLY keys, never use for real secrets\n${alice.identity}\n${carol.identity}\n`, { mode: 0o600 });
    const get = await s.run(["get", "api_key", "--env", "production"], { env: { SOPS_AGE_KEY_FILE: two } });
    expect([get.code, get.stdout.trimEnd(), get.stderr]).toEqual([0, "sk-live-kg-1", ""]);
    const one = await s.run(["get", "api_key", "--env", "production"], { env: { SOPS_AGE_KEY_FILE: alice.file } });
    expect(one.code).toBe(10);
    expect(one.stderr).toContain("at least 2 are needed (no sops.shamir_threshold is written");
    const review = await s.run(["review", "HEAD~1", "HEAD", "--json"]);
    const problems = (JSON.parse(review.stdout) as { problems: { kind: string; message: string }[] }).problems;
    expect(problems.map((p) => p.kind)).toEqual(["key-groups-change"]);
    expect(problems[0]!.message).toContain("changes its sops key groups (Shamir secret sharing): at least 2 of 3 groups (no shamir_threshold is written");
  });

  it("set refuses to create a file (exit 14, nothing written) where the .sops.yaml rule sops uses for it splits the data key into key groups; with a one-list rule it creates it", async () => {
    const { s, alice } = await aliceProject(sandboxes, "production", [["api_key", "production", "placeholder"]]);
    const bob = s.keygen("bob");
    const add = await s.run(["members", "add", "bob", bob.recipient, "--env", "production"]);
    expect(add.code, add.stderr).toBe(0);
    const groups = `creation_rules:\n  - path_regex: secrets/production\\.enc\\.yaml$\n    shamir_threshold: 2\n    key_groups:\n      - age:\n          - ${alice.recipient}\n      - age:\n          - ${bob.recipient}\n`;
    s.write(".sops.yaml", groups);
    rmSync(join(s.repo, FILE));
    const r = await s.run(["set", "stripe_api_key", "--env", "production", "--from-stdin"], { input: "sk-live-not-split" });
    expect(r.code).toBe(14);
    expect(r.stderr).toContain("UNSUPPORTED: creation rule 1 of .sops.yaml, which sops uses for secrets/production.enc.yaml, splits its data key into 2 key groups (sops Shamir secret sharing; 2 needed together), and stellar-secrets does not split a data key");
    expect(r.stderr).not.toContain("sk-live-not-split");
    expect(existsSync(join(s.repo, FILE))).toBe(false);
    expect(s.read(".sops.yaml")).toBe(groups);
    s.write(".sops.yaml", `creation_rules:\n  - path_regex: secrets/production\\.enc\\.yaml$\n    age: ${alice.recipient},${bob.recipient}\n`);
    const flat = await s.run(["set", "stripe_api_key", "--env", "production", "--from-stdin"], { input: "sk-live-not-split" });
    expect(flat.code, flat.stderr).toBe(0);
    expect(existsSync(join(s.repo, FILE))).toBe(true);
  });

  it("members add and rm under a .sops.yaml rule with key groups say it was left as it is, never '.sops.yaml updated'", async () => {
    const { s, alice } = await aliceProject(sandboxes, "production", [["api_key", "production", "placeholder"]]);
    const bob = s.keygen("bob");
    const groups = `creation_rules:\n  - path_regex: secrets/production\\.enc\\.yaml$\n    shamir_threshold: 2\n    key_groups:\n      - age:\n          - ${alice.recipient}\n      - age:\n          - ${bob.recipient}\n`;
    s.write(".sops.yaml", groups);
    const add = await s.run(["members", "add", "bob", bob.recipient, "--env", "production"]);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toContain(
      "added bob to production; stellar.yaml updated; .sops.yaml left as it is for production: its creation rule 1 has 2 key groups, which stellar-secrets does not change",
    );
    expect(add.stdout).not.toContain(".sops.yaml updated");
    const rm = await s.run(["members", "rm", "bob", "--env", "production"]);
    expect(rm.code, rm.stderr).toBe(0);
    expect(rm.stdout).toContain("new data key, every value re-encrypted; stellar.yaml updated; .sops.yaml left as it is for production");
    expect(s.read(".sops.yaml")).toBe(groups);
  });

  it("set and rm keep key_groups and shamir_threshold byte for byte (only values, lastmodified and mac change)", async () => {
    const { s, text } = await keyGroupsProject();
    for (const args of [["set", "new_token", "--env", "production", "--from-stdin"], ["rm", "db_password", "--env", "production", "--yes"]]) {
      const r = await s.run(args, { input: "tok-kg-3" });
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
      expect(withoutLmMac(block(s.read(FILE))), args[0]).toBe(withoutLmMac(block(text)));
    }
    const after = await s.run(["export", "--env", "production", "--format", "json"]);
    expect(JSON.parse(after.stdout)).toEqual({ api_key: "sk-live-kg-1", new_token: "tok-kg-3" });
  });

  it("set and rm of a CRLF key-groups file (a Windows checkout) keep CRLF throughout and the sops block but lastmodified and mac", async () => {
    const { s, text } = await keyGroupsProject();
    const crlf = text.replace(/\n/g, "\r\n");
    s.write(FILE, crlf);
    const crlfBlock = (t: string) => withoutLmMac(t.slice(t.indexOf("\r\nsops:\r\n") + 2));
    for (const args of [["set", "new_token", "--env", "production", "--from-stdin"], ["rm", "db_password", "--env", "production", "--yes"]]) {
      const r = await s.run(args, { input: "tok-kg-3" });
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
      const written = s.read(FILE);
      expect(written.replace(/\r\n/g, "").includes("\n"), `${args[0]}: an LF without its CR`).toBe(false);
      expect(crlfBlock(written), args[0]).toBe(crlfBlock(crlf));
    }
    const after = await s.run(["export", "--env", "production", "--format", "json"]);
    expect(JSON.parse(after.stdout)).toEqual({ api_key: "sk-live-kg-1", new_token: "tok-kg-3" });
  });

  it("rotate-key and members add are refused with exit 14 (UNSUPPORTED) saying to use sops, and change no file", async () => {
    const { s, text } = await keyGroupsProject();
    const carol = s.keygen("carol");
    const project = s.read("stellar.yaml");
    const rotate = await s.run(["rotate-key", "--env", "production"]);
    expect(rotate.code).toBe(14);
    expect(rotate.stderr).toContain("sops key groups");
    const add = await s.run(["members", "add", "carol", carol.recipient, "--env", "production"]);
    expect(add.code).toBe(14);
    expect(add.stderr).toContain("sops key groups");
    expect(s.read(FILE)).toBe(text);
    expect(s.read("stellar.yaml")).toBe(project);
  });

  it("an access request is written (it names no file), and members approve of it is refused with exit 14, changing no file", async () => {
    const { s, text } = await keyGroupsProject();
    const carol = s.keygen("carol");
    const carolKeys = join(s.dir, "keys", "carol-only.txt");
    writeFileSync(carolKeys, `# TEST-ONLY key, never use for real secrets\n${carol.identity}\n`, { mode: 0o600 });
    const asked = await s.run(["request-access", "--env", "production", "--name", "carol"], { env: { SOPS_AGE_KEY_FILE: carolKeys } });
    expect([asked.code, asked.stderr]).toEqual([0, ""]);
    expect(s.read("stellar.yaml")).toContain(carol.recipient);
    const project = s.read("stellar.yaml");
    const approve = await s.run(["members", "approve", "carol", "--env", "production"]);
    expect(approve.code).toBe(14);
    expect(approve.stderr).toContain("sops key groups");
    expect(s.read(FILE)).toBe(text);
    expect(s.read("stellar.yaml")).toBe(project);
  });

  it("git merge through the driver: two branches setting different names merge per name, key_groups kept byte for byte", async () => {
    const { s, text } = await keyGroupsProject();
    expect((await s.run(["git", "setup", "--no-hook"])).code).toBe(0);
    s.commit("driver");
    s.git(["checkout", "-q", "-b", "feature"]);
    expect((await s.run(["set", "feature_token", "--env", "production", "--from-stdin"], { input: "ft-1" })).code).toBe(0);
    s.commit("feature sets feature_token");
    s.git(["checkout", "-q", "main"]);
    expect((await s.run(["set", "main_token", "--env", "production", "--from-stdin"], { input: "mt-1" })).code).toBe(0);
    s.commit("main sets main_token");
    const merge = tryGit(s, ["merge", "--no-edit", "feature"]);
    expect(merge.ok, merge.out).toBe(true);
    expect(withoutLmMac(block(s.read(FILE)))).toBe(withoutLmMac(block(text)));
    const after = await s.run(["export", "--env", "production", "--format", "json"]);
    expect(JSON.parse(after.stdout)).toEqual({ api_key: "sk-live-kg-1", db_password: "pw-kg-2", main_token: "mt-1", feature_token: "ft-1" });
  });

  it("check reports the file's groups, threshold and who cannot decrypt alone (recipient-drift), never 'not encrypted for' a member who is in a group", async () => {
    const { s } = await keyGroupsProject();
    const check = await s.run(["check", "--json"]);
    expect(check.code).toBe(1);
    const drift = (JSON.parse(check.stdout).diagnostics as { rule: string; message: string }[]).filter((d) => d.rule === "recipient-drift").map((d) => d.message);
    expect(drift).toEqual([
      expect.stringContaining("uses sops.key_groups (Shamir secret sharing): 2 groups, any 2 of which decrypt it (group 1: alice; group 2: age1"),
      // init's .sops.yaml rule names alice in one list: sops would write no split (key-groups-rule.test.ts)
      expect.stringContaining("sops.key_groups are not those of creation rule 1 of .sops.yaml (line 4), which sops uses for secrets/production.enc.yaml: the file has 2 groups"),
    ]);
    expect(drift[0]).toContain("alice (keys in 1 of the 2 groups needed) cannot decrypt it alone");
  });

  it("review: a change of the key groups (a group handed to another key, or a stanza wrapped anew under the same label) is a key-groups-change problem; a value set under the same groups is not", async () => {
    const { s, alice, bob } = await keyGroupsProject();
    const mallory = s.keygen("mallory");
    const problemsOf = async () => {
      const r = await s.run(["review", "HEAD~1", "HEAD", "--json"]);
      return { code: r.code, kinds: (JSON.parse(r.stdout).problems as { kind: string; message: string }[]).map((p) => p.kind), messages: (JSON.parse(r.stdout).problems as { message: string }[]).map((p) => p.message) };
    };
    expect((await s.run(["set", "new_token", "--env", "production", "--from-stdin"], { input: "x" })).code).toBe(0);
    s.commit("a value set under the same groups");
    expect((await problemsOf()).kinds).not.toContain("key-groups-change");
    // the same data key, group 2 now wrapped for mallory (she holds bob's share: with alice's group, she decrypts)
    const key = randomBytes(32);
    const replaced = oracleSealKeyGroups(`api_key: ${oracleEncrypt(key, "v", "api_key:")}\n`, { dataKey: key, groups: [{ age: [alice.recipient] }, { age: [mallory.recipient] }], threshold: 2, macValues: ["v"] });
    s.write(FILE, replaced);
    s.commit("group 2 to mallory");
    const handed = await problemsOf();
    expect(handed.code).toBe(1);
    expect(handed.kinds).toContain("key-groups-change");
    expect(handed.messages.find((m) => m.includes("changes its sops key groups"))).toContain("any 2 of 2 groups decrypt it (group 1: alice");
    // the same labels, bob's stanza wrapped anew (a keyless reader cannot tell for whom)
    const rewrapped = oracleSealKeyGroups(`api_key: ${oracleEncrypt(key, "v", "api_key:")}\n`, { dataKey: key, groups: [{ age: [alice.recipient] }, { age: [bob.recipient] }], threshold: 2, macValues: ["v"] });
    s.write(FILE, rewrapped);
    s.commit("groups as before, by label");
    // the same labels and values, both groups' stanzas wrapped anew (fresh age headers)
    const again = rewrapped.replace(/^ {4}key_groups:\n[\s\S]*?(?=^ {4}lastmodified:)/m, oracleSealKeyGroups("", { dataKey: key, groups: [{ age: [alice.recipient] }, { age: [bob.recipient] }], threshold: 2, macValues: [] }).match(/^ {4}key_groups:\n[\s\S]*?(?=^ {4}lastmodified:)/m)![0]);
    expect(again).not.toBe(rewrapped);
    expect(again.replace(/^ {4}key_groups:[\s\S]*$/m, "")).toBe(rewrapped.replace(/^ {4}key_groups:[\s\S]*$/m, ""));
    s.write(FILE, again);
    s.commit("both groups wrapped anew under the same labels");
    expect((await problemsOf()).kinds).toContain("key-groups-change");
  });

  it("review: a key-groups file turned into one list of stanzas under the same data key is a key-groups-change, and a member who held the whole key (one group) is an unrotated-removal", async () => {
    for (const groups of ["one group", "two groups"] as const) {
      const { s, alice } = await aliceProject(sandboxes, "production", [["api_key", "production", "placeholder"]]);
      const bob = s.keygen("bob");
      expect((await s.run(["members", "add", "bob", bob.recipient, "--env", "production"])).code).toBe(0);
      s.commit("bob joins");
      const key = randomBytes(32);
      const body = `api_key: ${oracleEncrypt(key, "v1", "api_key:")}\n`;
      const split = groups === "one group" ? [{ age: [alice.recipient, bob.recipient] }] : [{ age: [alice.recipient] }, { age: [bob.recipient] }];
      s.write(FILE, oracleSealKeyGroups(body, { dataKey: key, groups: split, ...(split.length > 1 ? { threshold: 2 } : {}), macValues: ["v1"] }));
      s.commit(`production as key groups (${groups})`);
      // bob leaves stellar.yaml; the file becomes one list (alice) under the same data key: the value's ciphertext is kept
      s.write("stellar.yaml", s.read("stellar.yaml").replace(/^ {6}bob: .*\n/m, ""));
      s.write(FILE, oracleSealYaml(body, { dataKey: key, recipients: [alice.recipient], macValues: ["v1"], lastmodified: "2026-01-03T03:04:05Z" }));
      s.commit("bob removed, the file one list again");
      const r = await s.run(["review", "HEAD~1", "HEAD", "--json"]);
      expect(r.code, groups).toBe(1);
      const problems = JSON.parse(r.stdout).problems as { kind: string; message: string }[];
      const change = problems.filter((p) => p.kind === "key-groups-change");
      expect(change, groups).toHaveLength(1);
      expect(change[0]!.message).toContain("stops using sops key groups");
      expect(change[0]!.message).toContain(`the data key was not rotated (the encrypted value of api_key is byte-for-byte the same)`);
      expect(change[0]!.message).toContain(groups === "one group" ? "keys of 1 of its 1 group (group 1: alice" : "keys of 2 of its 2 groups (group 1: alice");
      // one group: each of its stanzas wrapped the whole data key, so bob still holds it; two groups: bob held one share of
      // the same data key (and, before the split, the whole key): a removal under an unrotated key either way, in true words
      const removal = problems.filter((p) => p.kind === "unrotated-removal").map((p) => p.message);
      if (groups === "one group") expect(removal).toEqual([expect.stringContaining("bob was removed from production but the data key was not rotated")]);
      else expect(removal).toEqual([expect.stringContaining("bob held a share of production's data key (a key group of secrets/production.enc.yaml, where 2 of 2 groups decrypt) and holds nothing in the file now, but the data key was not rotated")]);
    }
  });

  it("review: members who still hold a group's key were not removed, and a one-group file re-keyed without carol is a rotation, not an unrotated removal", async () => {
    const { s, alice } = await aliceProject(sandboxes, "production", [["api_key", "production", "placeholder"]]);
    const bob = s.keygen("bob");
    const carol = s.keygen("carol");
    for (const [name, key] of [["bob", bob], ["carol", carol]] as const) expect((await s.run(["members", "add", name, key.recipient, "--env", "production"])).code).toBe(0);
    s.commit("bob and carol join");
    // the values' ciphertexts are kept under a kept data key (as sops and stellar-secrets keep them)
    const bodies = new Map<Buffer, string>();
    const bodyOf = (key: Buffer) => bodies.get(key) ?? bodies.set(key, `api_key: ${oracleEncrypt(key, "v1", "api_key:")}\nb: ${oracleEncrypt(key, "v2", "b:")}\n`).get(key)!;
    const sealed = (key: Buffer, groups: { age: string[] }[], lastmodified: string) =>
      oracleSealKeyGroups(bodyOf(key), { dataKey: key, groups, ...(groups.length > 1 ? { threshold: groups.length } : {}), macValues: ["v1", "v2"], lastmodified });
    const review = async () => {
      const r = await s.run(["review", "HEAD~1", "HEAD", "--json"]);
      return (JSON.parse(r.stdout).problems as { kind: string; message: string }[]).filter((p) => p.kind === "unrotated-removal").map((p) => p.message);
    };
    // flat alice, bob -> 2 of 2 groups (alice; bob) under the same data key: both still hold a share
    const key = randomBytes(32);
    s.write(FILE, oracleSealYaml(bodyOf(key), { dataKey: key, recipients: [alice.recipient, bob.recipient], macValues: ["v1", "v2"] }));
    s.commit("flat");
    s.write(FILE, sealed(key, [{ age: [alice.recipient] }, { age: [bob.recipient] }], "2026-01-03T00:00:00Z"));
    s.commit("the same data key split for alice and bob");
    expect(await review()).toEqual([]);
    // one group alice, bob, carol -> one group alice, bob, carol gone from stellar.yaml: a new data key, then (another branch) the same one
    s.write(FILE, sealed(key, [{ age: [alice.recipient, bob.recipient, carol.recipient] }], "2026-01-04T00:00:00Z"));
    s.write("stellar.yaml", s.read("stellar.yaml").replace(/^ {6}carol: .*\n/m, ""));
    s.commit("one group");
    s.git(["checkout", "-q", "-b", "rotated"]);
    s.write(FILE, sealed(randomBytes(32), [{ age: [alice.recipient, bob.recipient] }], "2026-01-05T00:00:00Z"));
    s.commit("carol out, a new data key");
    expect(await review()).toEqual([]);
    s.git(["checkout", "-q", "-b", "kept", "HEAD~1"]);
    s.write(FILE, sealed(key, [{ age: [alice.recipient, bob.recipient] }], "2026-01-05T00:00:00Z"));
    s.commit("carol out, the same data key");
    expect(await review()).toEqual([expect.stringContaining(`${carol.recipient} was removed from production but the data key was not rotated`)]);
  });

  it("members add and rotate-key over two environments, one of them a key-groups file, write neither (no half-done change)", async () => {
    const { s: plain, alice } = await aliceProject(sandboxes, "development,production", [["api_key", "development,production", "placeholder"]]);
    const bob = plain.keygen("bob");
    const key = randomBytes(32);
    const text = oracleSealKeyGroups(`api_key: ${oracleEncrypt(key, "v", "api_key:")}\n`, { dataKey: key, groups: [{ age: [alice.recipient] }, { age: [bob.recipient] }], threshold: 2, macValues: ["v"] });
    plain.write(FILE, text);
    plain.commit("production as key groups");
    const both = join(plain.dir, "keys", "both.txt");
    writeFileSync(both, `# TEST-ONLY keys, never use for real secrets\n${alice.identity}\n${bob.identity}\n`, { mode: 0o600 });
    plain.env.SOPS_AGE_KEY_FILE = both;
    const carol = plain.keygen("carol");
    const development = plain.read("secrets/development.enc.yaml");
    const project = plain.read("stellar.yaml");
    for (const args of [["members", "add", "carol", carol.recipient, "--env", "development,production"], ["rotate-key", "--env", "development,production"]]) {
      const r = await plain.run(args);
      expect(r.code, args.join(" ")).toBe(14);
      expect(plain.read("secrets/development.enc.yaml"), args.join(" ")).toBe(development);
      expect(plain.read(FILE)).toBe(text);
      expect(plain.read("stellar.yaml")).toBe(project);
    }
  });
});
