/**
 * `review` end to end on real git repositories with real age keys: secrets added, changed and
 * removed; a data-key rotation told from value changes; members and recipients that gained or
 * lost access; a removal without rotation; a removed secret still referenced; plaintext; the
 * JSON shape; the revision forms; and that no value ever appears in the output. No review run
 * has a key.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { aadForPath, decryptValue, encryptValue, parseSecretsFile, unwrapFileKey, updateKeysFile, type SopsValueType } from "../packages/sops/src/index.js";
import { createSandbox, REPO_ROOT, type AgeKey, type RunResult, type Sandbox } from "./helpers/cli.js";

vi.setConfig({ testTimeout: 180_000 });

let sandboxes: Sandbox[] = [];
afterEach(() => {
  for (const s of sandboxes) s.cleanup();
  sandboxes = [];
});

const VALUES = ["sk_live_AAAAbbbbCCCC1111", "hs_token_ZZZZyyyy2222", "sk_live_DDDDeeee3333", "legacy_QQQQ4444", "sk_live_PLAINplain5555", "plain_hub_AAAA6666", "plain_legacy_BBBB7777", "plain_stripe_CCCC8888"];

interface Report {
  base: { label: string; commit: string | null };
  head: { label: string; commit: string | null };
  environments: {
    environment: string;
    file: string;
    fileChange: string;
    secrets: { name: string; change: string; before?: string; after?: string }[];
    dataKeyRotated: boolean;
    rotationUncertain: boolean;
    reencrypted: string[];
    members: { gained: { name: string; recipient: string }[]; lost: { name: string; recipient: string }[]; keyChanged: unknown[] };
    recipients: { gained: { recipient: string; member?: string }[]; lost: { recipient: string; member?: string }[] };
    encrypted: boolean | undefined;
    problems: { kind: string; message: string }[];
  }[];
  diagnostics: { rule: string; severity: string; file: string; line: number; secret?: string; message: string; new: boolean }[];
  problems: { kind: string; environment?: string; file?: string; message: string }[];
  summary: Record<string, number>;
  clean: boolean;
}

async function project(): Promise<{ s: Sandbox; alice: AgeKey; set: (name: string, env: string, value: string) => Promise<void> }> {
  const s = createSandbox();
  sandboxes.push(s);
  const alice = s.keygen("alice");
  s.env.SOPS_AGE_KEY_FILE = alice.file;
  expect((await s.run(["init", "--env", "staging,production"])).code).toBe(0);
  const set = async (name: string, env: string, value: string): Promise<void> => {
    const r = await s.run(["set", name, "--env", env, "--from-stdin"], { input: value });
    expect(r.code, r.stderr).toBe(0);
  };
  s.write("connectors/stripe.yaml", "kind: auth_connector\nname: stripe\ntype: bearer_token\ntoken: { secret: stripe_api_key }\n");
  await set("stripe_api_key", "staging", VALUES[0] as string);
  await set("stripe_api_key", "production", VALUES[2] as string);
  await set("hubspot_api_token", "production", VALUES[1] as string);
  await set("legacy_api_token", "production", VALUES[3] as string);
  s.commit("base");
  return { s, alice, set };
}

/** Runs review without any key (no SOPS_AGE_KEY_FILE, an empty HOME key file location). */
async function review(s: Sandbox, args: string[] = []): Promise<RunResult> {
  const r = await s.run(["review", ...args], { env: { SOPS_AGE_KEY_FILE: undefined, SOPS_AGE_KEY: undefined } });
  for (const v of VALUES) {
    expect(r.stdout).not.toContain(v);
    expect(r.stderr).not.toContain(v);
  }
  expect(r.stdout).not.toContain("AGE-SECRET-KEY");
  return r;
}

async function reviewJson(s: Sandbox, args: string[] = [], status = 0): Promise<Report> {
  const r = await review(s, [...args, "--json"]);
  expect(r.code, r.stderr + r.stdout).toBe(status);
  return JSON.parse(r.stdout) as Report;
}

/** What a plain `sops` edit does: every value re-encrypted with a fresh IV under the same data key (wrapped keys untouched). */
async function sopsEditSameKey(s: Sandbox, rel: string, identity: string): Promise<void> {
  const text = s.read(rel);
  const file = parseSecretsFile(text, { path: rel });
  const key = await unwrapFileKey(file, [identity]);
  let out = text;
  for (const e of file.entries) {
    if (!e.encrypted) continue;
    const aad = aadForPath([e.name]);
    const { plaintext, type } = decryptValue(e.raw, key, aad);
    out = out.replace(e.raw, encryptValue(plaintext, key, aad, type as SopsValueType));
  }
  expect(out).not.toBe(text);
  s.write(rel, out);
}

const env = (report: Report, name: string): Report["environments"][number] => {
  const e = report.environments.find((x) => x.environment === name);
  if (e === undefined) throw new Error(`no review of ${name} in ${JSON.stringify(report.environments.map((x) => x.environment))}`);
  return e;
};

describe("review", () => {
  it("lists secrets added, changed and removed per environment, for the working tree and for commits", async () => {
    const { s, set } = await project();
    const before = s.read("secrets/production.enc.yaml");
    await set("zendesk_api_token", "production", "zd_token_9999");
    await set("hubspot_api_token", "production", "hs_token_changed_8888");
    expect((await s.run(["rm", "legacy_api_token", "--env", "production", "--yes"])).code).toBe(0);

    const report = await reviewJson(s);
    expect(report.base.label).toBe("HEAD");
    expect(report.base.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(report.head).toEqual({ label: "working tree", commit: null });
    expect(report.environments.map((e) => e.environment)).toEqual(["production"]);
    const prod = env(report, "production");
    expect(prod.file).toBe("secrets/production.enc.yaml");
    expect(prod.fileChange).toBe("modified");
    expect(prod.secrets.map((x) => `${x.change} ${x.name}`)).toEqual(["changed hubspot_api_token", "removed legacy_api_token", "added zendesk_api_token"]);
    expect(prod.dataKeyRotated).toBe(false);
    expect(prod.reencrypted).toEqual([]);
    // fingerprints: 8 hex digits of the ENC string's sha256, different for a changed value
    const hub = prod.secrets[0] as { before: string; after: string };
    expect(hub.before).toMatch(/^[0-9a-f]{8}$/);
    expect(hub.after).toMatch(/^[0-9a-f]{8}$/);
    expect(hub.before).not.toBe(hub.after);
    expect(before).toContain("hubspot_api_token: ENC[");
    expect(report.summary).toMatchObject({ added: 1, changed: 1, removed: 1, reencrypted: 0, problems: 0 });
    expect(report.clean).toBe(true);
    expect(report.problems).toEqual([]);

    const text = await review(s);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("production (secrets/production.enc.yaml)");
    expect(text.stdout).toMatch(/\+ zendesk_api_token\s+added/);
    expect(text.stdout).toMatch(/~ hubspot_api_token\s+changed/);
    expect(text.stdout).toMatch(/- legacy_api_token\s+removed/);
    expect(text.stdout).toContain("Summary: 1 added, 1 changed, 1 removed; no problems.");
    expect(text.stdout).not.toContain("staging (");

    s.commit("change production");
    const two = await reviewJson(s, ["HEAD~1", "HEAD"]);
    const dots = await reviewJson(s, ["HEAD~1..HEAD"]);
    const one = await reviewJson(s, ["HEAD~1"]);
    for (const r of [two, dots, one]) expect(env(r, "production").secrets).toEqual(prod.secrets);
    expect(two.head.label).toBe("HEAD");
    expect(one.head.label).toBe("working tree");
    // nothing changed since the commit
    const none = await review(s);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain("No change to any secrets file or member.");
  });

  it("reports a data-key rotation as one re-encryption, not as a change of every value", async () => {
    const { s } = await project();
    expect((await s.run(["rotate-key", "--env", "production"])).code).toBe(0);
    const report = await reviewJson(s);
    const prod = env(report, "production");
    expect(prod.dataKeyRotated).toBe(true);
    expect(prod.rotationUncertain).toBe(false);
    expect(prod.secrets).toEqual([]);
    expect(prod.reencrypted).toEqual(["hubspot_api_token", "legacy_api_token", "stripe_api_key"]);
    expect(report.summary).toMatchObject({ added: 0, changed: 0, removed: 0, reencrypted: 1 });
    const text = await review(s);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("data key rotated: 3 values (hubspot_api_token, legacy_api_token and stripe_api_key) re-encrypted");
    expect(text.stdout).toContain("re-encrypted (values may or may not have changed)");
    expect(text.stdout).not.toMatch(/~ \w+\s+changed/);
  });

  it("never says no value changed when every value was re-encrypted under the same data key", async () => {
    const { s, alice } = await project();
    await sopsEditSameKey(s, "secrets/production.enc.yaml", alice.identity);
    const report = await reviewJson(s);
    const prod = env(report, "production");
    expect(prod).toMatchObject({ dataKeyRotated: false, rotationUncertain: false, secrets: [], reencrypted: ["hubspot_api_token", "legacy_api_token", "stripe_api_key"] });
    const text = await review(s);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("every value re-encrypted under the same data key (e.g. a plain sops edit): 3 values");
    expect(text.stdout).not.toContain("no value changed");
  });

  it("names members who gained and lost access; a removal with rotation is clean", async () => {
    const { s } = await project();
    const bob = s.keygen("bob");
    expect((await s.run(["members", "add", "bob", bob.recipient, "--env", "production"])).code).toBe(0);
    const added = await reviewJson(s);
    const prod = env(added, "production");
    expect(prod.members.gained).toEqual([{ name: "bob", recipient: bob.recipient }]);
    expect(prod.recipients.gained).toEqual([{ recipient: bob.recipient, member: "bob" }]);
    expect(prod.secrets).toEqual([]);
    expect(prod.dataKeyRotated).toBe(false);
    expect(added.clean).toBe(true);
    const text = await review(s);
    expect(text.stdout).toContain("access: bob gained access");
    s.commit("add bob");

    expect((await s.run(["members", "rm", "bob", "--env", "production"])).code).toBe(0);
    const removed = await reviewJson(s);
    const after = env(removed, "production");
    expect(after.members.lost).toEqual([{ name: "bob", recipient: bob.recipient }]);
    expect(after.recipients.lost).toEqual([{ recipient: bob.recipient, member: "bob" }]);
    expect(after.dataKeyRotated).toBe(true);
    expect(after.problems).toEqual([]);
    expect(removed.clean).toBe(true);
    expect((await review(s)).stdout).toContain("access: bob lost access");
  });

  it("flags a member removed without a data-key rotation (exit 1)", async () => {
    const { s, alice } = await project();
    const bob = s.keygen("bob");
    expect((await s.run(["members", "add", "bob", bob.recipient, "--env", "production"])).code).toBe(0);
    s.commit("add bob");
    // by hand: bob out of stellar.yaml, and the file re-wrapped for alice only (sops updatekeys: same data key)
    const config = s.read("stellar.yaml");
    const without = config.split("\n").filter((l) => !l.includes(bob.recipient)).join("\n");
    expect(without).not.toBe(config);
    s.write("stellar.yaml", without);
    // (.sops.yaml too: one left naming bob is its own finding, sops-config-drift)
    s.write(".sops.yaml", s.read(".sops.yaml").replace(`,${bob.recipient}`, ""));
    await updateKeysFile(join(s.repo, "secrets/production.enc.yaml"), [alice.identity], [alice.recipient]);

    const r = await review(s);
    expect(r.code, r.stdout).toBe(1);
    expect(r.stdout).toContain("bob was removed from production but the data key was not rotated: bob can still decrypt values that are not changed");
    const report = await reviewJson(s, [], 1);
    const prod = env(report, "production");
    expect(prod.dataKeyRotated).toBe(false);
    expect(prod.members.lost.map((m) => m.name)).toEqual(["bob"]);
    expect(prod.recipients.lost).toEqual([{ recipient: bob.recipient, member: "bob" }]);
    expect(prod.problems.map((p) => p.kind)).toEqual(["unrotated-removal"]);
    expect(report.problems.map((p) => `${p.kind} ${p.environment}`)).toEqual(["unrotated-removal production"]);

    // after rotate-key the same change is clean
    expect((await s.run(["rotate-key", "--env", "production"])).code).toBe(0);
    const fixed = await reviewJson(s);
    expect(env(fixed, "production").problems).toEqual([]);
    expect(fixed.clean).toBe(true);
  });

  it("flags a removal without rotation in an environment with no values: an unchanged wrapped key proves the same data key", async () => {
    const s = createSandbox();
    sandboxes.push(s);
    const alice = s.keygen("alice");
    s.env.SOPS_AGE_KEY_FILE = alice.file;
    expect((await s.run(["init", "--env", "zero"])).code).toBe(0);
    const bob = s.keygen("bob");
    expect((await s.run(["members", "add", "bob", bob.recipient, "--env", "zero"])).code).toBe(0);
    s.commit("zero with bob");
    const file = "secrets/zero.enc.yaml";
    const before = s.read(file);
    expect(before).toContain(bob.recipient);
    expect(parseSecretsFile(before, { path: file }).entries).toEqual([]);
    // by hand: bob out of stellar.yaml and his recipient block out of the file; alice's wrapped key untouched
    s.write("stellar.yaml", s.read("stellar.yaml").split("\n").filter((l) => !l.includes(bob.recipient)).join("\n"));
    const lines = before.split("\n");
    const start = lines.findIndex((l) => l.includes(`recipient: ${bob.recipient}`));
    const end = lines.findIndex((l, i) => i > start && l.includes("-----END AGE ENCRYPTED FILE-----"));
    expect(start).toBeGreaterThan(-1);
    lines.splice(start, end - start + 1);
    s.write(file, lines.join("\n"));
    s.commit("drop bob by hand");

    const r = await review(s, ["HEAD~1...HEAD"]);
    expect(r.code, r.stdout).toBe(1);
    expect(r.stdout).toContain("bob was removed from zero but the data key was not rotated: bob can still decrypt any value later encrypted with this data key");
    expect(r.stdout).toContain("(alice's wrapped data key is unchanged: the data key is the same)");
    const report = await reviewJson(s, ["HEAD~1...HEAD"], 1);
    const zero = env(report, "zero");
    expect(zero.recipients.lost).toEqual([{ recipient: bob.recipient, member: "bob" }]);
    expect(zero.dataKeyRotated).toBe(false);
    expect(zero.problems.map((p) => p.kind)).toEqual(["unrotated-removal"]);
    expect(report.problems.map((p) => `${p.kind} ${p.environment}`)).toContain("unrotated-removal zero");
    expect(report.clean).toBe(false);

    // rotating the data key re-wraps it for alice: clean
    expect((await s.run(["rotate-key", "--env", "zero"])).code).toBe(0);
    const rotated = await reviewJson(s, ["HEAD~1"]);
    expect(env(rotated, "zero").problems).toEqual([]);
  });

  it("says so when one kept value cannot tell a rotation from a change plus a re-wrap (exit 1 on a removal)", async () => {
    const { s } = await project();
    const bob = s.keygen("bob");
    expect((await s.run(["members", "add", "bob", bob.recipient, "--env", "staging"])).code).toBe(0);
    s.commit("add bob to staging");
    // members rm rotates: every stanza re-wrapped and the one value re-encrypted, which a keyless
    // review cannot tell from the value changing plus a re-wrap
    expect((await s.run(["members", "rm", "bob", "--env", "staging"])).code).toBe(0);
    const report = await reviewJson(s, [], 1);
    const staging = env(report, "staging");
    expect(staging).toMatchObject({ dataKeyRotated: true, rotationUncertain: true, reencrypted: ["stripe_api_key"], secrets: [] });
    expect(staging.problems.map((p) => p.kind)).toEqual(["unrotated-removal"]);
    expect(staging.problems[0]?.message).toContain("bob was removed from staging, and with only one value kept a data-key rotation cannot be told from a changed value without a key");
    const text = await review(s);
    expect(text.stdout).toContain("data key rotated, or the one value changed and the key re-wrapped (cannot tell without a key)");
  });

  it("flags a stellar.yaml removal whose file can still be decrypted by the member (recipient drift)", async () => {
    const { s } = await project();
    const bob = s.keygen("bob");
    expect((await s.run(["members", "add", "bob", bob.recipient, "--env", "production"])).code).toBe(0);
    s.commit("add bob");
    s.write("stellar.yaml", s.read("stellar.yaml").split("\n").filter((l) => !l.includes(bob.recipient)).join("\n"));
    s.write(".sops.yaml", s.read(".sops.yaml").replace(`,${bob.recipient}`, "")); // else also sops-config-drift
    const report = await reviewJson(s, [], 1);
    expect(env(report, "production").members.lost.map((m) => m.name)).toEqual(["bob"]);
    expect(env(report, "production").recipients.lost).toEqual([]);
    const drift = report.diagnostics.find((d) => d.rule === "recipient-drift");
    expect(drift).toMatchObject({ severity: "error", file: "secrets/production.enc.yaml", new: true });
    // bob's key still opens the file but he is no member: one problem (not also the checker's drift error)
    expect(report.problems.map((p) => p.kind)).toEqual(["non-member-recipient"]);
    expect(report.problems[0]?.message).toContain(`bob (${bob.recipient}) can decrypt secrets/production.enc.yaml but is not a member of production in stellar.yaml`);
  });

  it("a change cannot weaken its own checks: weakened rules are problems, and the base's severities judge the change", async () => {
    const { s, alice } = await project();
    const carol = s.keygen("carol");
    expect(s.read("stellar.yaml")).not.toMatch(/^rules:/m);
    // a non-member recipient added by hand, with the drift check turned off in the same change
    s.write("stellar.yaml", `${s.read("stellar.yaml").trimEnd()}\nrules:\n  recipient-drift: off\n`);
    await updateKeysFile(join(s.repo, "secrets/production.enc.yaml"), [alice.identity], [alice.recipient, carol.recipient]);
    s.commit("sneak carol in");
    const r = await review(s, ["HEAD~1...HEAD"]);
    expect(r.code, r.stdout).toBe(1);
    expect(r.stdout).toContain("stellar.yaml weakens rule recipient-drift from error to off");
    expect(r.stdout).toContain(`${carol.recipient} can decrypt secrets/production.enc.yaml but is not a member of production in stellar.yaml`);
    const report = await reviewJson(s, ["HEAD~1...HEAD"], 1);
    expect(report.problems.map((p) => p.kind).sort()).toEqual(["non-member-recipient", "weakened-rule"]);
    expect(report.problems.find((p) => p.kind === "weakened-rule")).toMatchObject({ file: "stellar.yaml", line: expect.any(Number) });
    expect(env(report, "production").recipients.gained).toEqual([{ recipient: carol.recipient }]);
    // judged by the base's rules: the drift error is still reported
    expect(report.diagnostics.find((d) => d.rule === "recipient-drift")).toMatchObject({ severity: "error", new: true, file: "secrets/production.enc.yaml" });

    // a removed secret still referenced, with its rule lowered to a warning in the same change
    const { s: t } = await project();
    expect((await t.run(["rm", "stripe_api_key", "--env", "production", "--force", "--yes"])).code).toBe(0);
    t.write("stellar.yaml", `${t.read("stellar.yaml").trimEnd()}\nrules:\n  missing-environment-value: warning\n`);
    const lowered = await reviewJson(t, [], 1);
    expect(lowered.problems.map((p) => p.kind).sort()).toEqual(["checker-error", "weakened-rule"]);
    expect(lowered.problems.find((p) => p.kind === "weakened-rule")?.message).toContain("stellar.yaml weakens rule missing-environment-value from error to warning");
    expect(lowered.diagnostics.find((d) => d.rule === "missing-environment-value")).toMatchObject({ severity: "error", new: true, secret: "stripe_api_key" });

    // raising a severity is not a weakening
    const { s: u } = await project();
    u.write("stellar.yaml", `${u.read("stellar.yaml").trimEnd()}\nrules:\n  recipient-drift: error\n`);
    expect((await reviewJson(u)).problems).toEqual([]);
  });

  it("a pure git mv of a config file or of the secrets folder brings no new problem", async () => {
    const { s } = await project();
    // errors that already exist in the base: a reference to a secret no file has, and (as errors) unused secrets
    s.write("connectors/ghost.yaml", "kind: auth_connector\nname: ghost\ntype: bearer_token\ntoken: { secret: ghost_token }\n");
    s.write("stellar.yaml", `${s.read("stellar.yaml").trimEnd()}\nrules:\n  unused-secret: error\n`);
    s.commit("base errors");
    const baseline = await reviewJson(s, ["HEAD~1", "HEAD"], 1);
    expect(baseline.diagnostics.filter((d) => d.new && d.severity === "error").map((d) => d.rule)).toEqual(["unknown-secret"]);

    s.git(["mv", "connectors/ghost.yaml", "connectors/phantom.yaml"]);
    // the working tree (staged move) and the commit
    const staged = await reviewJson(s);
    expect(staged.problems).toEqual([]);
    s.commit("rename the connector");
    const moved = await review(s, ["HEAD~1", "HEAD"]);
    expect(moved.code, moved.stdout).toBe(0);
    expect(moved.stdout).toContain("no problems");

    // the secrets folder moved, with stellar.yaml's secrets_dir following it
    s.git(["mv", "secrets", "vault"]);
    const config = s.read("stellar.yaml");
    s.write("stellar.yaml", config.match(/^secrets_dir:/m) ? config.replace(/^secrets_dir:.*$/m, "secrets_dir: vault") : config.replace(/^version: 1$/m, "version: 1\nsecrets_dir: vault"));
    expect(s.read("stellar.yaml")).toContain("secrets_dir: vault");
    s.commit("move the secrets folder");
    const folder = await reviewJson(s, ["HEAD~1", "HEAD"]);
    expect(folder.problems).toEqual([]);
    expect(folder.environments.map((e) => e.fileChange).filter((c) => c !== "unchanged")).toEqual([]);
    // the same errors are still there, just not new
    const check = await s.run(["check"]);
    expect(check.code).not.toBe(0);
  });

  it("flags a removed secret that is still referenced (exit 1)", async () => {
    const { s } = await project();
    expect((await s.run(["rm", "stripe_api_key", "--env", "production", "--force", "--yes"])).code).toBe(0);
    s.commit("remove stripe from production");
    const r = await review(s, ["HEAD~1", "HEAD"]);
    expect(r.code, r.stdout).toBe(1);
    expect(r.stdout).toMatch(/- stripe_api_key\s+removed/);
    expect(r.stdout).toMatch(/connectors\/stripe\.yaml:4:\d+: error missing-environment-value/);
    const report = await reviewJson(s, ["HEAD~1", "HEAD"], 1);
    const d = report.diagnostics.find((x) => x.rule === "missing-environment-value");
    expect(d).toMatchObject({ file: "connectors/stripe.yaml", line: 4, secret: "stripe_api_key", severity: "error", new: true });
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toMatchObject({ kind: "checker-error", file: "connectors/stripe.yaml" });
    expect(report.summary.newErrors).toBe(1);

    // removed everywhere: unknown-secret
    expect((await s.run(["rm", "stripe_api_key", "--force", "--yes"])).code).toBe(0);
    const gone = await reviewJson(s, ["HEAD~1"], 1);
    expect(gone.diagnostics.filter((x) => x.new).map((x) => x.rule)).toContain("unknown-secret");
    expect(env(gone, "staging").secrets.map((x) => `${x.change} ${x.name}`)).toEqual(["removed stripe_api_key"]);
  });

  it("flags a secrets file that became plaintext, never showing the value", async () => {
    const { s } = await project();
    s.write("secrets/staging.enc.yaml", `stripe_api_key: ${VALUES[4]}\n`);
    const r = await review(s);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("staging (secrets/staging.enc.yaml)");
    expect(r.stdout).toContain("the file is not a valid encrypted SOPS file");
    const report = await reviewJson(s, [], 1);
    const staging = env(report, "staging");
    expect(staging.encrypted).toBe(false);
    expect(staging.problems.map((p) => p.kind)).toContain("plaintext");
    // the plaintext value is changed (differs from the ENC string) but never fingerprinted
    expect(staging.secrets).toEqual([{ name: "stripe_api_key", change: "changed", before: expect.stringMatching(/^[0-9a-f]{8}$/) }]);
    expect(report.problems.every((p) => p.kind === "plaintext")).toBe(true);

    // bytes that are not UTF-8: unreadable, its names unknown (not all "removed")
    writeFileSync(join(s.repo, "secrets/production.enc.yaml"), Buffer.from([0x73, 0x3a, 0x20, 0xff, 0xfe, 0x0a]));
    const unreadable = env(await reviewJson(s, [], 1), "production");
    expect(unreadable.secrets).toEqual([]);
    expect(unreadable.encrypted).toBe(false);
    expect(unreadable.problems.map((p) => p.kind)).toEqual(["plaintext"]);
  });

  it("flags one plaintext value in an otherwise encrypted file", async () => {
    const { s } = await project();
    const text = s.read("secrets/production.enc.yaml");
    const plain = text.replace(/^hubspot_api_token: ENC\[[^\n]*$/m, `hubspot_api_token: ${VALUES[4]}`);
    expect(plain).not.toBe(text);
    s.write("secrets/production.enc.yaml", plain);
    const report = await reviewJson(s, [], 1);
    expect(env(report, "production").problems.map((p) => p.kind)).toContain("plaintext");

    // a whole file decrypted by hand: every value changed, not a data-key rotation
    s.write("secrets/production.enc.yaml", `hubspot_api_token: ${VALUES[5]}\nlegacy_api_token: ${VALUES[6]}\nstripe_api_key: ${VALUES[7]}\n`);
    const decrypted = env(await reviewJson(s, [], 1), "production");
    expect(decrypted.dataKeyRotated).toBe(false);
    expect(decrypted.secrets.map((x) => `${x.change} ${x.name}`)).toEqual(["changed hubspot_api_token", "changed legacy_api_token", "changed stripe_api_key"]);
    expect(decrypted.secrets.every((x) => x.after === undefined)).toBe(true);
  });

  it("reads a project in a subfolder of the git repository at each commit", async () => {
    const s = createSandbox();
    sandboxes.push(s);
    s.env.SOPS_AGE_KEY_FILE = s.keygen("alice").file;
    const cwd = join(s.repo, "infra", "secrets-repo");
    mkdirSync(cwd, { recursive: true });
    expect((await s.run(["init", "--env", "production"], { cwd })).code).toBe(0);
    s.write("infra/secrets-repo/connectors/stripe.yaml", "kind: auth_connector\nname: stripe\ntype: bearer_token\ntoken: { secret: stripe_api_key }\n");
    expect((await s.run(["set", "stripe_api_key", "--env", "production", "--from-stdin"], { cwd, input: "sk_sub_1" })).code).toBe(0);
    s.commit("base");
    expect((await s.run(["rm", "stripe_api_key", "--env", "production", "--force", "--yes"], { cwd })).code).toBe(0);
    s.commit("remove");
    const r = await s.run(["review", "HEAD~1", "HEAD", "--json"], { cwd: join(cwd, "connectors"), env: { SOPS_AGE_KEY_FILE: undefined } });
    expect(r.code, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout) as Report;
    expect(env(report, "production").secrets).toEqual([{ name: "stripe_api_key", change: "removed", before: expect.stringMatching(/^[0-9a-f]{8}$/) }]);
    expect(report.diagnostics.filter((d) => d.new).map((d) => `${d.rule} ${d.file}`)).toEqual(["unknown-secret connectors/stripe.yaml"]);
    // the base, read from git, has no diagnostics about stripe: it was defined and referenced there
    const base = await s.run(["review", "HEAD~1", "HEAD~1", "--json"], { cwd, env: { SOPS_AGE_KEY_FILE: undefined } });
    expect(base.code, base.stdout).toBe(0);
    expect((JSON.parse(base.stdout) as Report).environments).toEqual([]);
  });

  it("reviews a pull request with BASE...HEAD, and a repository without commits", async () => {
    const { s, set } = await project();
    s.git(["checkout", "-q", "-b", "feature"]);
    await set("slack_bot_token", "staging", "xoxb-1234");
    s.commit("feature: slack");
    s.git(["checkout", "-q", "main"]);
    await set("hubspot_api_token", "production", "hs_main_7777");
    s.commit("main: hubspot");
    const pr = await reviewJson(s, ["main...feature"]);
    expect(pr.base.label).toBe("merge-base of main and feature");
    expect(pr.environments.map((e) => `${e.environment}: ${e.secrets.map((x) => `${x.change} ${x.name}`).join(", ")}`)).toEqual(["staging: added slack_bot_token"]);
    const direct = await reviewJson(s, ["main..feature"]);
    expect(direct.environments.map((e) => e.environment).sort()).toEqual(["production", "staging"]);

    const fresh = createSandbox();
    sandboxes.push(fresh);
    fresh.env.SOPS_AGE_KEY_FILE = fresh.keygen("alice").file;
    expect((await fresh.run(["init", "--env", "production"])).code).toBe(0);
    expect((await fresh.run(["set", "stripe_api_key", "--env", "production", "--from-stdin"], { input: "sk_x_1" })).code).toBe(0);
    const first = await reviewJson(fresh);
    expect(first.base).toEqual({ label: "nothing (no commit yet)", commit: null });
    expect(env(first, "production").fileChange).toBe("added");
    expect(env(first, "production").members.gained.map((m) => m.name)).toEqual(["alice"]);
    expect(env(first, "production").secrets).toEqual([{ name: "stripe_api_key", change: "added", after: expect.stringMatching(/^[0-9a-f]{8}$/) }]);
  });

  it("rejects bad revisions and arguments", async () => {
    const { s } = await project();
    const bad = await review(s, ["no-such-branch"]);
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain('NOT_FOUND: "no-such-branch" is not a commit');
    expect((await review(s, ["HEAD", "HEAD", "HEAD"])).code).toBe(2);
    expect((await review(s, ["HEAD..HEAD", "HEAD"])).code).toBe(2);
    const outside = createSandbox({ gitInit: false });
    sandboxes.push(outside);
    writeFileSync(join(outside.repo, "stellar.yaml"), readFileSync(join(s.repo, "stellar.yaml")));
    const nogit = await outside.run(["review"]);
    expect(nogit.code).toBe(22);
    expect(nogit.stderr).toContain("GIT_ERROR");
  });
});

describe("textconv", () => {
  it("makes git diff of environment files readable without a key", async () => {
    const { s, set } = await project();
    const tc = await s.run(["textconv", "secrets/production.enc.yaml"], { env: { SOPS_AGE_KEY_FILE: undefined } });
    expect(tc.code, tc.stderr).toBe(0);
    const lines = tc.stdout.split("\n");
    expect(lines[0]).toMatch(/^# stellar-secrets textconv: keyless view/);
    expect(lines.filter((l) => /^\w+: fp:[0-9a-f]{8}$/.test(l)).map((l) => l.split(":")[0])).toEqual(["stripe_api_key", "hubspot_api_token", "legacy_api_token"]);
    const alice = s.read("stellar.yaml").match(/alice: (age1\w+)/)?.[1] as string;
    expect(tc.stdout).toMatch(new RegExp(`^alice ${alice} wrapped-key fp:[0-9a-f]{8}$`, "m"));
    expect(tc.stdout).not.toContain("ENC[");

    // as a git diff driver: one changed value is one changed line
    s.write(".gitattributes", "secrets/*.enc.yaml diff=stellar\n");
    s.git(["config", "diff.stellar.textconv", `${process.execPath} ${join(REPO_ROOT, "packages/cli/bin/stellar-secrets.js")} textconv`]);
    await set("hubspot_api_token", "production", "hs_token_changed_8888");
    const diff = s.git(["diff", "--", "secrets/production.enc.yaml"]);
    const changed = diff.split("\n").filter((l) => /^[-+][^-+]/.test(l));
    expect(changed).toHaveLength(2);
    expect(changed[0]).toMatch(/^-hubspot_api_token: fp:[0-9a-f]{8}$/);
    expect(changed[1]).toMatch(/^\+hubspot_api_token: fp:[0-9a-f]{8}$/);
    // the fingerprints are the ones review reports
    const report = await reviewJson(s);
    const hub = env(report, "production").secrets[0] as { before: string; after: string };
    expect(changed[0]).toContain(hub.before);
    expect(changed[1]).toContain(hub.after);
    for (const v of [...VALUES, "hs_token_changed_8888"]) expect(diff).not.toContain(v);
  });

  it("flags a plaintext file without printing its values", async () => {
    const { s } = await project();
    s.write("secrets/staging.enc.yaml", `stripe_api_key: ${VALUES[4]}\nempty_one: ""\n`);
    const tc = await s.run(["textconv", "secrets/staging.enc.yaml"]);
    expect(tc.code).toBe(0);
    expect(tc.stdout).toContain("# WARNING: not a valid encrypted SOPS file");
    expect(tc.stdout).toContain("stripe_api_key: PLAINTEXT (not encrypted; value not shown)");
    expect(tc.stdout).toContain("empty_one: (empty)");
    // the fix hint names the environment of the file
    expect(tc.stdout).toContain("`stellar-secrets set stripe_api_key --env staging`");
    expect(tc.stdout).not.toMatch(/--env `/);
    s.write("secrets/odd-name.yaml", `stripe_api_key: ${VALUES[4]}\n`);
    const odd = await s.run(["textconv", "secrets/odd-name.yaml"]);
    expect(odd.stdout).toContain("`stellar-secrets set stripe_api_key --env ENV`");
    expect(odd.stdout).not.toContain(VALUES[4]);
    expect(tc.stdout).not.toContain(VALUES[4]);
    const missing = await s.run(["textconv", "secrets/nope.enc.yaml"]);
    expect(missing.code).toBe(4);
  });
});
