/**
 * The fifth realistic organisation, "Corvid Logistics" (test/planted-history/README.md): a real git
 * repository whose HISTORY holds planted mistakes, built once for this file by
 * test/planted-history/org.ts (real age keys made for the run, several authors, branches merged
 * with the merge driver `git setup` installs). Each test runs the commands that read history
 * (`review` of ranges and branches, `history`, `access`, `stale`, `check`, `pre-commit`, `probe`)
 * as the built CLI and pins the finding for one mistake: rule id, place, wording and exit status.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { buildHistoryOrg, PRODUCTION, STAGING, VALUES, type HistoryOrg } from "./planted-history/org.js";
import type { RunResult } from "./helpers/cli.js";

vi.setConfig({ testTimeout: 120_000, hookTimeout: 300_000 });

let org: HistoryOrg;
beforeAll(async () => {
  org = await buildHistoryOrg();
});
afterAll(() => org?.s.cleanup());

interface Problem {
  kind: string;
  environment?: string;
  file: string;
  line?: number;
  message: string;
  commit?: string;
}
interface Review {
  clean: boolean;
  problems: Problem[];
  environments: {
    environment: string;
    reencrypted: string[];
    sameDataKey?: boolean;
    members: { gained: { name: string; recipient: string; sameKeyAs?: { name: string; recipient: string; lostHere: boolean } }[]; lost: { name: string }[] };
    recipients: { lost: { recipient: string }[] };
    exposedDuring?: { recipient: string; commit: string }[];
  }[];
}

/** Every output of every run is checked for the fake values: none may ever be printed. */
function noValues(r: RunResult): RunResult {
  for (const v of Object.values(VALUES)) expect(r.stdout + r.stderr).not.toContain(v);
  return r;
}
async function run(args: string[], env?: Record<string, string | undefined>): Promise<RunResult> {
  return noValues(await org.s.run(args, env === undefined ? {} : { env }));
}
async function review(range: string, ...more: string[]): Promise<{ code: number | null; report: Review; text: string }> {
  const json = await run(["review", range, "--json", ...more]);
  const text = await run(["review", range, ...more]);
  expect(text.code).toBe(json.code);
  return { code: json.code, report: JSON.parse(json.stdout) as Review, text: text.stdout };
}
const kinds = (r: Review): string[] => r.problems.map((p) => p.kind);
const short = (c: string): string => c.slice(0, 10);

describe("planted history: Corvid Logistics", () => {
  it("1. dave removed from production by hand (sops updatekeys, no new data key), then a commit announced as a rotation that only re-encrypts under the same key", async () => {
    const { c } = org;
    const removal = await review(`${c.daveRemoved}^..${c.daveRemoved}`);
    expect(removal.code).toBe(1);
    expect(kinds(removal.report)).toEqual(["unrotated-removal"]);
    expect(removal.report.problems[0]).toMatchObject({ environment: "production", file: PRODUCTION });
    expect(removal.report.problems[0]?.message).toMatch(/^dave was removed from production but the data key was not rotated: dave can still decrypt every value of the file \(4 here.*alice's wrapped data key is unchanged: the data key is the same\); run `stellar-secrets rotate-key --env production`/);

    // the "rotation": every value re-encrypted, alice's wrapped key byte for byte the same
    const fake = await review(`${c.daveRemoved}..${c.fakeRotation}`);
    expect(fake.code).toBe(0);
    expect(fake.text).toContain("every value re-encrypted under the same data key (e.g. a plain sops edit): 4 values");
    // over both commits the removal is still unrotated, and the re-encryption takes nothing out of dave's reach
    const both = await review(`${c.daveRemoved}^..${c.fakeRotation}`);
    expect(kinds(both.report)).toEqual(["unrotated-removal"]);
    expect(both.report.problems[0]?.message).toContain("dave can still decrypt every value of the file (4 here, changed, re-encrypted or not: all are under the data key dave holds)");
    expect(both.report.problems[0]?.message).not.toContain("0 of 4");

    // history: "re-encrypted under the same data key" keyless, "same value" with a key
    const keyless = JSON.parse((await run(["history", "--env", "production", "--no-decrypt", "--json"])).stdout).events.filter((e: { commit: string }) => e.commit === c.fakeRotation);
    expect(keyless.map((e: { kind: string; dataKey: string }) => `${e.kind}/${e.dataKey}`)).toEqual(Array(4).fill("re-encrypted/same"));
    const keyed = await run(["history", "stripe_api_key", "--env", "production"]);
    expect(keyed.stdout).toMatch(new RegExp(`${short(c.fakeRotation)}\\s+Bob <bob@example.test>\\s+re-encrypted \\(same value\\)\\s+production: rotate data key after dave left`));

    // access: the last rotation is still the file's creation, whatever the commit message says
    const access = await run(["access", "--json", "--machine", "david"]);
    const prod = JSON.parse(access.stdout).environments.find((e: { name: string }) => e.name === "production");
    expect(prod.lastRotation).toMatchObject({ commit: c.init, kind: "created" });
  });

  it("2. a value committed in clear text (past the hook) for two commits, then encrypted: review, history and stale", async () => {
    const { c } = org;
    const exposed = await review(`${c.members}..${c.plaintext}`);
    expect(exposed.code).toBe(1);
    expect(exposed.report.problems.map((p) => [p.kind, p.file, p.line])).toEqual([["plaintext", STAGING, 5]]);
    expect(exposed.report.problems[0]?.message).toContain('secret "sendgrid_marketing_key" has a plaintext value instead of ENC[...]; remove it from the file and from git history, rotate the credential');
    // encrypted later in the range: the clear value is still in the range's history
    const range = await review(`${c.members}..${c.encrypted}`);
    expect(range.code).toBe(1);
    expect(kinds(range.report)).toEqual(["plaintext"]);
    expect(range.report.problems[0]?.message).toBe(
      `${STAGING} at commit ${short(c.plaintext)} of this change holds the value of sendgrid_marketing_key in clear text (encrypted or removed again later): the commit is in this branch's history, and merging it puts the value in every clone; treat it as leaked and change it at the provider, and drop that commit from the branch (\`git rebase -i\`, or squash) before it is merged`,
    );

    // history reads the clear-text version (it skipped both, so the secret had no history at all)
    const h = await run(["history", "sendgrid_marketing_key", "--json", "--no-decrypt"]);
    expect(h.code).toBe(0);
    expect(JSON.parse(h.stdout).events.map((e: { commit: string; kind: string; plaintext?: boolean }) => [e.commit, e.kind, e.plaintext ?? false])).toEqual([
      [c.plaintext, "added", true],
      [c.encrypted, "changed", false],
    ]);
    expect(h.stderr).not.toContain("not a readable SOPS file");
    // with a key: the encrypting commit stored the very value that leaked
    const keyed = await run(["history", "sendgrid_marketing_key", "--json"]);
    expect(JSON.parse(keyed.stdout).events.map((e: { kind: string; leakedValue?: boolean; verified: boolean }) => [e.kind, e.leakedValue ?? false, e.verified])).toEqual([
      ["added", false, false],
      ["re-encrypted", true, true],
    ]);
    const text = (await run(["history", "sendgrid_marketing_key"])).stdout;
    expect(text).toContain("added in clear text (leaked: in git history from this commit on; change it at the provider)");
    expect(text).toContain("encrypted, the same value as in clear text before (still the leaked value: change it at the provider)");
    // stale dates the value from the commit that encrypted it without a key (it said "unknown"), from the leak with one
    const staleOf = async (...args: string[]) =>
      JSON.parse((await run(["stale", "--json", "--env", "staging", ...args])).stdout).stale.find((x: { name: string }) => x.name === "sendgrid_marketing_key");
    expect(await staleOf("--no-decrypt")).toMatchObject({ lastChanged: "2025-01-10T09:30:00+00:00" });
    expect(await staleOf()).toMatchObject({ lastChanged: "2025-01-08T09:30:00+00:00" });
    // and, with a key, it is stale whatever the limit: the leaked value was never rotated
    expect(await staleOf("--older-than", "10000d")).toMatchObject({ compromised: { kind: "leaked-never-rotated", commit: c.plaintext, date: "2025-01-08T09:30:00+00:00", replacedName: null } });
    expect(await staleOf("--older-than", "10000d", "--no-decrypt")).toBeUndefined();
    const leakedText = await run(["stale", "--env", "staging", "--older-than", "10000d"]);
    expect(leakedText.code).toBe(1);
    expect(leakedText.stdout).toContain(`! staging sendgrid_marketing_key: leaked-never-rotated: still the value committed in clear text at commit ${short(c.plaintext)} (2025-01-08): it is in git history; change it at the provider`);
  });

  it("3. a text merge of staging (after mistake 6) resolved by hand: stale-mac in check and review, tampered with --verify", async () => {
    const { c } = org;
    const check = await run(["check", "--json"]);
    expect(check.code).toBe(1);
    const diags = JSON.parse(check.stdout).diagnostics as { rule: string; severity: string; file: string }[];
    expect(diags.map((d) => `${d.severity} ${d.rule} ${d.file}`)).toEqual([`error stale-mac ${STAGING}`]);
    const merge = await review(`${c.gitattributes}..${c.handMerge}`);
    expect(merge.code).toBe(1);
    expect(merge.report.problems.map((p) => [p.kind, p.file])).toEqual([["checker-error", STAGING]]);
    expect(merge.report.problems[0]?.message).toMatch(/^stale-mac: the values of secrets\/staging\.enc\.yaml differ from the committed version, but its mac and lastmodified are the committed ones/);
    const verified = await review(`${c.gitattributes}..${c.handMerge}`, "--verify");
    expect(kinds(verified.report)).toEqual(["checker-error", "tampered"]);
    // pre-commit of a clean index passes; the hook (skipped with --no-verify) would have refused the hand-merged file
    expect((await run(["pre-commit"])).code).toBe(0);
    const handMerged = org.s.git(["show", `${c.handMerge}:${STAGING}`]);
    org.s.git(["checkout", "-q", "--detach", `${c.handMerge}^1`]);
    try {
      org.s.write(STAGING, handMerged);
      org.s.git(["add", STAGING]);
      const hook = await run(["pre-commit"]);
      expect(hook.code).toBe(1);
      expect(hook.stdout).toMatch(/^secrets\/staging\.enc\.yaml:\d+:\d+: error stale-mac the values of secrets\/staging\.enc\.yaml differ from the committed version/m);
    } finally {
      org.s.git(["reset", "-q", "--hard"]);
      org.s.git(["checkout", "-q", "main"]);
    }
  });

  it("4. a stanza wrapped for an outsider under bob's label (branch ci/deploy-key): rewrapped-without-rotation, in text, JSON and SARIF", async () => {
    const r = await review(`main...${org.branches.relabel}`);
    expect(r.code).toBe(1);
    expect(r.report.problems.map((p) => [p.kind, p.file])).toEqual([["rewrapped-without-rotation", PRODUCTION]]);
    expect(r.report.problems[0]?.message).toMatch(/^a second age stanza labelled bob \(age1\w{6}…\w{6}\) was added in secrets\/production\.enc\.yaml, but the data key was not rotated/);
    // the checker's recipient-drift at the same stanza is in the review's checker section, not a second problem
    expect(r.text).toMatch(/Checker \(ci\/deploy-key\):\n {2}secrets\/production\.enc\.yaml:\d+:\d+: error recipient-drift the production file has 2 age stanzas labelled age1\w+ \(bob, a member of production\)/);
    const sarif = JSON.parse((await run(["review", `main...${org.branches.relabel}`, "--format", "sarif"])).stdout);
    expect(sarif.runs[0].results.map((x: { ruleId: string; level: string; properties: { problem: boolean } }) => `${x.ruleId}/${x.level}/${x.properties.problem}`)).toEqual([
      "recipient-drift/note/false",
      "rewrapped-without-rotation/error/true",
    ]);
    // one error result at the stanza, as text and JSON count one problem; the checker's severity kept
    expect(sarif.runs[0].results.filter((x: { level: string }) => x.level === "error")).toHaveLength(r.report.problems.length);
    expect(sarif.runs[0].results[0].properties.checkerSeverity).toBe("error");
  });

  it("5. dave (an ssh-ed25519 member) back as david, his same key written in its age1… form", async () => {
    const { c, dave } = org;
    const back = await review(`${c.fakeRotation}..${c.davidAdded}`);
    expect(back.report.environments[0]?.members.gained).toEqual([{ name: "david", recipient: dave.age, sameKeyAs: { name: "dave", recipient: dave.ssh, lostHere: false } }]);
    expect(back.text).toMatch(/access: david gained access \(.*\): the same key as dave's ssh-ed25519 …\S+, written in its age1… form; dave left \(a member in an earlier stellar\.yaml\) and is back under another name; unless that is intended, revert it/);
    // over the whole history dave never lost access: no "lost access", no unrotated removal for dave
    const whole = await review(`${c.members}..${c.davidAdded}`);
    const prod = whole.report.environments.find((e) => e.environment === "production");
    expect(prod?.members.lost).toEqual([]);
    expect(prod?.members.gained.map((m) => [m.name, m.sameKeyAs?.name, m.sameKeyAs?.lostHere])).toEqual([["david", "dave", true]]);
    expect(whole.text).not.toContain("dave lost access");
    expect(whole.report.problems.filter((p) => p.message.startsWith("dave was removed"))).toEqual([]);

    // members list --long says that david's key was dave's (from stellar.yaml's history), text and JSON
    const lastWithDave = org.s.git(["log", "-1", "--format=%H", `${c.daveRemoved}^`, "--", "stellar.yaml"]).trim();
    const long = await run(["members", "list", "--long", "--json"]);
    expect(long.code).toBe(0);
    const rows = JSON.parse(long.stdout).members as { name: string; environment: string; sameKeyAs: unknown }[];
    expect(rows.filter((r) => r.sameKeyAs !== null).map((r) => [r.name, r.environment, r.sameKeyAs])).toEqual([
      ["david", "production", { name: "dave", recipient: dave.ssh, commit: lastWithDave, date: expect.any(String) }],
    ]);
    const text = await run(["members", "list", "--long"]);
    expect(text.stdout).toContain(`david's key was dave's: the same key, written ssh-ed25519 `);
    expect(text.stdout).toContain(`then; dave had it as of commit ${short(lastWithDave)} (2025-01-`);
    expect(text.stdout).toContain(") and is no member now\n");
  });

  it("6. .gitattributes takes the environment files off the merge driver: weakened-rule at .gitattributes", async () => {
    const { c } = org;
    const r = await review(`${c.stagingFakeRotation}..${c.gitattributes}`);
    expect(r.code).toBe(1);
    expect(r.report.problems.map((p) => [p.kind, p.file])).toEqual([["weakened-rule", ".gitattributes"]]);
    expect(r.report.problems[0]?.message).toContain(".gitattributes takes secrets/production.enc.yaml and secrets/staging.enc.yaml off the stellar-secrets merge driver (merge=stellar; now no merge attribute)");
  });

  it("7. stripe's base_url moved to another domain on a branch: credential-destination (and not main's hand merge), probe refuses it", async () => {
    const r = await review(`main...${org.branches.destination}`);
    expect(r.code).toBe(1);
    // main's stale-mac file is not this branch's problem (it was reported on every branch)
    expect(r.report.problems.map((p) => [p.kind, p.file, p.line])).toEqual([["credential-destination", "connections/stripe.yaml", 3]]);
    expect(r.report.problems[0]?.message).toBe(
      "connections/stripe.yaml (api_connection stripe) now sends stripe_api_key to https://api.stripe-payments-proxy.example.net, where the base sent it only to https://api.stripe.com: the next deploy (or `stellar-secrets probe`) hands the credential to whoever runs that host, with no key and no value changed; check that the host is the provider's, or revert the URL",
    );
    org.s.git(["checkout", "-q", org.branches.destination]);
    try {
      const probe = await run(["probe", "--env", "production"]);
      expect(probe.code).toBe(26);
      expect(probe.stderr).toContain("UNREVIEWED_DESTINATION");
      expect(probe.stderr).toContain("connections/stripe.yaml:3: stripe_api_key would go to https://api.stripe-payments-proxy.example.net (api_connection stripe)");
    } finally {
      org.s.git(["checkout", "-q", "main"]);
    }
  });

  it("8. 'rotate staging data key (quarterly)': every stanza wrapped anew, the data key unchanged", async () => {
    const { c } = org;
    const r = await review(`${c.davidAdded}..${c.stagingFakeRotation}`);
    expect(r.code).toBe(1);
    expect(r.report.problems.map((p) => `${p.kind} ${p.file}:${p.line}`)).toEqual([`rewrapped-without-rotation ${STAGING}:8`, `rewrapped-without-rotation ${STAGING}:17`, `rewrapped-without-rotation ${STAGING}:26`]);
    const access = JSON.parse((await run(["access", "--json", "--machine", "david"])).stdout);
    expect(access.environments.find((e: { name: string }) => e.name === "staging").lastRotation).toMatchObject({ commit: c.init, kind: "created" });
  });

  it("9. sendgrid_api_key renamed on one branch, rotated on another: the merge driver stops on it, the rename's removal is kept", async () => {
    const { c } = org;
    expect(org.renameConflict).toContain("CONFLICT (content): Merge conflict in secrets/production.enc.yaml");
    expect(org.renameConflict).toContain(
      "sendgrid_api_key  (ours: changed, theirs: removed; theirs renamed it to sendgrid_mail_api_key, which still holds its value from before our change: keeping the removal (--theirs) leaves that old value under the new name and drops our change, so then set sendgrid_mail_api_key to the value our side set)",
    );
    const r = await review(`${c.erinRevert}..${c.renameMerge}`);
    expect(r.code).toBe(0);
    expect(r.text).toContain("~ connections/sendgrid.yaml:7  sendgrid_api_key → sendgrid_mail_api_key");
    expect(r.text).toContain("without a key the review cannot tell that the new secret holds the old values");
    const h = JSON.parse((await run(["history", "sendgrid_api_key", "--env", "production", "--json"])).stdout).events;
    // `resolve --theirs` left the file exactly the rename side's (its bytes, not a re-encryption with
    // a new lastmodified): git's history simplification (git log -- FILE) follows that side alone,
    // whatever second the merge was resolved in, so the rotation's side branch is not listed
    const rename = org.s.git(["rev-parse", `${c.renameMerge}^2`]).trim();
    expect(org.s.git(["rev-parse", `${c.renameMerge}:secrets/production.enc.yaml`])).toBe(org.s.git(["rev-parse", `${rename}:secrets/production.enc.yaml`]));
    const events = h.map((e: { commit: string; kind: string }) => [e.commit, e.kind]);
    expect(events).toEqual([[c.init, "added"], [rename, "removed"]]);

    // once committed, stale (with a key) says that sendgrid_mail_api_key holds the value the rotation replaced
    const stale = await run(["stale", "--json", "--env", "production", "--older-than", "10000d"]);
    expect(stale.code).toBe(1);
    const out = JSON.parse(stale.stdout) as { stale: { name: string; compromised: unknown }[]; fresh: { name: string; compromised: unknown }[] };
    expect(out.stale).toEqual([
      expect.objectContaining({ name: "sendgrid_mail_api_key", compromised: { kind: "revoked-value-back", commit: c.rotateSendgrid, date: expect.any(String), replacedName: "sendgrid_api_key" } }),
    ]);
    expect(out.fresh.map((r) => r.compromised)).toEqual(out.fresh.map(() => null));
    const text = await run(["stale", "--env", "production", "--older-than", "10000d"]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(
      `! production sendgrid_mail_api_key: revoked-value-back: holds the value that commit ${short(c.rotateSendgrid)} (2025-01-`,
    );
    expect(text.stdout).toContain(" under sendgrid_api_key with a new one (rotated away, e.g. revoked or leaked): the old value is back;");
    // keyless: nothing can be compared
    const keyless = await run(["stale", "--json", "--env", "production", "--older-than", "10000d", "--no-decrypt"]);
    expect(keyless.code).toBe(0);
    expect(JSON.parse(keyless.stdout).stale).toEqual([]);
    // set to the rotated value (what the merge driver told to do): no longer a finding
    expect((await org.s.run(["set", "sendgrid_mail_api_key", "--env", "production", "--from-stdin"], { input: VALUES.sendgridRotated })).code).toBe(0);
    try {
      const fixed = await run(["stale", "--json", "--env", "production", "--older-than", "10000d"]);
      expect(fixed.code).toBe(0);
      expect(JSON.parse(fixed.stdout).stale).toEqual([]);
    } finally {
      org.s.git(["checkout", "-q", "HEAD", "--", PRODUCTION]);
    }
  });

  it("10. git revert -m 1 of the merge that added erin: unrotated-removal naming erin's commit", async () => {
    const { c, erin } = org;
    const r = await review(`${c.encrypted}..${c.erinRevert}`);
    expect(r.code).toBe(1);
    expect(kinds(r.report)).toEqual(["unrotated-removal"]);
    expect(r.report.problems[0]?.message).toContain(`uses the data key that its version at commit ${short(org.s.git(["rev-parse", `${c.erinMerge}^2`]).trim())} of this change also wrapped for ${erin.recipient}`);
    expect(r.report.environments[0]?.exposedDuring?.map((x) => x.recipient)).toEqual([erin.recipient]);
    expect(r.text).toContain("Access: erin had access to production inside this change");
  });

  it("1 and 10 in the access review: erin (reverted) and dave (updatekeys) still hold production's data key, so they are readers too; dave back as david is not counted twice", async () => {
    const { c, erin, dave } = org;
    const erinMerged = org.s.git(["rev-parse", `${c.erinMerge}^2`]).trim();
    const access = await run(["access", "--json", "--machine", "david"]);
    expect(access.code).toBe(1);
    const envs = JSON.parse(access.stdout).environments as { name: string; formerReaders: { recipient: string; name: string | null; commit: string }[] }[];
    expect(envs.find((e) => e.name === "production")?.formerReaders).toEqual([{ recipient: erin.recipient, name: "erin", commit: erinMerged, date: expect.any(String) }]);
    expect(envs.find((e) => e.name === "staging")?.formerReaders).toEqual([]);
    const text = await run(["access", "--env", "production", "--machine", "david"]);
    expect(text.stdout).toContain(
      `  ! erin (${erin.recipient.slice(0, 10)}…${erin.recipient.slice(-6)}) can still decrypt every value: the file is no longer encrypted to them, but commit ${short(erinMerged)} (2025-01-11) wrapped the current data key for them and it was not rotated since; a member runs \`stellar-secrets rotate-key --env production\`, then changes the values at their providers`,
    );
    // before david: dave too (removed by sops updatekeys, the "rotation" after it kept the data key)
    org.s.git(["checkout", "-q", "--detach", c.fakeRotation]);
    try {
      const before = JSON.parse((await run(["access", "--json", "--env", "production"])).stdout).environments[0].formerReaders;
      expect(before.map((r: { name: string; recipient: string }) => [r.name, r.recipient])).toEqual([
        ["dave", dave.ssh],
        ["erin", erin.recipient],
      ]);
    } finally {
      org.s.git(["checkout", "-q", "main"]);
    }
  });
});
