/**
 * `review` as a process on real git repositories with real age keys, one test per contract: the
 * text and the JSON shape (exit 0), a problem (exit 1), the revision forms (including BASE...HEAD
 * and a repository without commits), git's rename detection, a project in a subfolder, and the
 * exit statuses 2, 4, 5 and 22; and that no value ever appears in the output. No review run has
 * a key, except those of `--verify`; hidden readers are crafted with the age CLI, not our writer. What a report says about each kind of change (rotations, access, removals without
 * rotation, weakened rules, plaintext) is tested in memory in packages/core/src/review/model.test.ts,
 * and how it is printed in packages/cli/src/commands/review.test.ts.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { ageDecrypt, CLI_BIN, createSandbox, HAS_AGE_CLI, REPO_ROOT, stanzas, unwrapWith, type AgeKey, type RunResult, type Sandbox, sandboxesCleanedAfterEach } from "./helpers/cli.js";
import { sarifSchemaErrors } from "./helpers/sarif.js";
import { shellWord } from "../packages/core/src/shell.js";

vi.setConfig({ testTimeout: 180_000 });

const sandboxes = sandboxesCleanedAfterEach();

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

/** A nested project in teams/labs (its own stellar.yaml, production only), with a connector and its one secret set. */
async function nestedLabs(s: Sandbox): Promise<string> {
  const labs = join(s.repo, "teams", "labs");
  mkdirSync(labs, { recursive: true });
  expect((await s.run(["init", "--env", "production"], { cwd: labs })).code).toBe(0);
  s.write("teams/labs/connectors/labs.yaml", "kind: auth_connector\nname: labs\ntype: bearer_token\ntoken: { secret: labs_token }\n");
  const labsSet = await s.run(["set", "labs_token", "--env", "production", "--from-stdin"], { cwd: labs, input: VALUES[5] as string });
  expect(labsSet.code, labsSet.stderr).toBe(0);
  return labs;
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

/**
 * Adds mallory to production and commits, removes her again (which rotates the data key) and
 * commits, then checks out a new branch `rekey`: the history of a member who left and kept keys.
 */
async function removedMember(s: Sandbox): Promise<{ mallory: AgeKey; withMallory: string }> {
  const mallory = s.keygen("mallory");
  expect((await s.run(["members", "add", "mallory", mallory.recipient, "--env", "production"])).code).toBe(0);
  const withMallory = s.commit("add mallory");
  expect((await s.run(["members", "rm", "mallory", "--env", "production"])).code).toBe(0);
  s.commit("remove mallory (rotates the data key)");
  s.git(["checkout", "-q", "-b", "rekey"]);
  return { mallory, withMallory };
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
    expect(text.stdout).toContain("Summary: 1 secret added, 1 changed, 1 removed; no problems.");
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
    // from a subfolder the text names paths from there, as check does (JSON keeps the root's, below)
    const inSecrets = await s.run(["review", "HEAD~1", "HEAD"], { cwd: join(s.repo, "secrets"), env: { SOPS_AGE_KEY_FILE: undefined, SOPS_AGE_KEY: undefined } });
    expect(inSecrets.code).toBe(1);
    expect(inSecrets.stdout).toContain("production (production.enc.yaml)\n");
    expect(inSecrets.stdout).toMatch(/^ {2}\.\.\/connectors\/stripe\.yaml:4:\d+: error missing-environment-value/m);
    expect(inSecrets.stdout).toMatch(/^ {2}✗ \.\.\/connectors\/stripe\.yaml:4: /m);
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

  it("flags an environment file or the secrets folder replaced by a git submodule (weakened-rule, exit 1), not a file deleted with no problem", async () => {
    const { s } = await project();
    const head = s.git(["rev-parse", "HEAD"]).trim();
    s.git(["rm", "-q", "--cached", "secrets/production.enc.yaml"]);
    s.git(["update-index", "--add", "--cacheinfo", `160000,${head},secrets/production.enc.yaml`]);
    s.git(["commit", "-q", "-m", "gitlink"]);
    const report = await reviewJson(s, ["HEAD~1", "HEAD"], 1);
    const weakened = report.problems.filter((p) => p.kind === "weakened-rule");
    expect(weakened).toMatchObject([{ kind: "weakened-rule", environment: "production", file: "secrets/production.enc.yaml" }]);
    expect(weakened[0]!.message).toContain(`secrets/production.enc.yaml is a git submodule (commit ${head.slice(0, 10)})`);
    s.git(["rm", "-rq", "--cached", "secrets"]);
    s.git(["update-index", "--add", "--cacheinfo", `160000,${head},secrets`]);
    s.git(["commit", "-q", "-m", "the folder"]);
    const folder = await reviewJson(s, ["HEAD~2", "HEAD"], 1);
    expect(folder.problems.filter((p) => p.kind === "weakened-rule").map((p) => [p.kind, p.environment]).sort()).toEqual([
      ["weakened-rule", "production"],
      ["weakened-rule", "staging"],
    ]);
  });

  it("flags a second copy of a project file under a name a macOS or Windows checkout folds to the same file (Stellar.yaml, secrets/production.ENC.YAML, Secrets/): weakened-rule, exit 1; it was clean", async () => {
    const { s } = await project();
    s.git(["checkout", "-q", "-b", "fold"]);
    s.write("Stellar.yaml", s.read("stellar.yaml").replace("staging:", "staging: # a copy"));
    s.write("secrets/production.ENC.YAML", s.read("secrets/staging.enc.yaml"));
    s.write("Secrets/.sops.yaml", s.read(".sops.yaml"));
    s.commit("copies");
    const report = await reviewJson(s, ["main...HEAD"], 1);
    expect(report.problems.filter((p) => p.kind === "weakened-rule").map((p) => p.file)).toEqual(["Secrets", "Stellar.yaml", "secrets/production.ENC.YAML"]);
    // the working tree (the index's names) says the same; a collision the base already has is not reported again
    expect((await reviewJson(s, ["main"], 1)).problems.map((p) => p.file)).toEqual(["Secrets", "Stellar.yaml", "secrets/production.ENC.YAML"]);
    expect((await reviewJson(s, ["HEAD"], 0)).problems).toEqual([]);
  });

  it("flags a change to the CI workflow that runs stellar-secrets (weakened-rule at it, exit 1), between commits and in the working tree", async () => {
    const { s } = await project();
    const WF = ".github/workflows/stellar-secrets.yml";
    s.write(WF, readFileSync(join(REPO_ROOT, WF), "utf8"));
    s.commit("the gate");
    s.write(WF, s.read(WF).replace('test "${REVIEW_STATUS:-0}" = 0', "true"));
    expect((await reviewJson(s, [], 1)).problems.map((p) => [p.kind, p.file])).toEqual([["weakened-rule", WF]]);
    s.commit("ignore the review's verdict");
    expect((await reviewJson(s, ["HEAD~1...HEAD"], 1)).problems.map((p) => [p.kind, p.file])).toEqual([["weakened-rule", WF]]);
    s.write(".github/workflows/lint.yml", "on: push\njobs: {}\n");
    s.commit("another workflow");
    expect((await reviewJson(s, ["HEAD~1...HEAD"], 0)).problems).toEqual([]);
  });

  it("flags a connection's base_url moved in a file config.exclude (or config.include) leaves out of check, once that exclude has landed: credential-destination, exit 1, between commits and in the working tree", async () => {
    const { s } = await project();
    s.write("connections/stripe.yaml", "kind: api_connection\nname: stripe\nbase_url: https://api.stripe.com\nauth: stripe\n");
    s.commit("stripe connection");
    // the exclude lands in a change of its own (review flagged it then: weakened-rule)
    s.write("stellar.yaml", `${s.read("stellar.yaml").trimEnd()}\nconfig:\n  exclude:\n    - "connections/**"\n`);
    s.commit("exclude connections from check");
    expect((await reviewJson(s, ["HEAD~1", "HEAD"], 1)).problems.map((p) => p.kind)).toEqual(["weakened-rule"]);
    const checked = await s.run(["check", "--json"]);
    const before = JSON.parse(checked.stdout).diagnostics;
    // a later change moves the excluded connection to another host
    s.write("connections/stripe.yaml", s.read("connections/stripe.yaml").replace("https://api.stripe.com", "https://api.stripe.com.evil.example"));
    const working = await reviewJson(s, [], 1);
    expect(working.problems.map((p) => [p.kind, p.file])).toEqual([["credential-destination", "connections/stripe.yaml"]]);
    expect(working.problems[0]!.message).toContain("now sends stripe_api_key to https://api.stripe.com.evil.example");
    s.commit("move stripe");
    const committed = await reviewJson(s, ["HEAD~1", "HEAD"], 1);
    expect(committed.problems.map((p) => [p.kind, p.file])).toEqual([["credential-destination", "connections/stripe.yaml"]]);
    // check still leaves the excluded file out: what it reports is unchanged
    expect(JSON.parse((await s.run(["check", "--json"])).stdout).diagnostics).toEqual(before);
    // an include that does not reach the file hides it from check the same way, not from review
    s.write("stellar.yaml", s.read("stellar.yaml").replace('  exclude:\n    - "connections/**"\n', '  include:\n    - "agents/**/*.yaml"\n    - "connectors/**/*.yaml"\n'));
    s.commit("check agents and connectors only");
    s.write("connections/stripe.yaml", s.read("connections/stripe.yaml").replace("https://api.stripe.com.evil.example", "https://stripe.attacker.example"));
    s.commit("move stripe again");
    expect((await reviewJson(s, ["HEAD~1", "HEAD"], 1)).problems.map((p) => [p.kind, p.file])).toEqual([["credential-destination", "connections/stripe.yaml"]]);
  });

  it("flags a stellar.yaml new in a subfolder (weakened-rule at it, exit 1), in the working tree and between commits; one the base has is not reported", async () => {
    const { s } = await project();
    const NESTED = "teams/labs/stellar.yaml";
    s.write("teams/labs/connector.yaml", "kind: auth_connector\nname: labs\ntype: bearer_token\ntoken: { secret: stripe_api_key }\n");
    s.commit("labs connector");
    s.write(NESTED, "");
    const weakened = (report: Report) => report.problems.filter((p) => p.kind === "weakened-rule");
    expect(weakened(await reviewJson(s, [], 1))).toMatchObject([{ kind: "weakened-rule", file: NESTED }]);
    s.commit("labs: a project of its own");
    const committed = weakened(await reviewJson(s, ["HEAD~1", "HEAD"], 1));
    expect(committed).toMatchObject([{ kind: "weakened-rule", file: NESTED }]);
    expect(committed[0]!.message).toContain("no longer checked against this project's secrets and rules");
    // the base (read from git) has it now: a later change is not flagged again
    s.write("teams/labs/connector.yaml", "kind: auth_connector\nname: labs\ntype: bearer_token\ntoken: { secret: labs_token }\n");
    expect(weakened(await reviewJson(s))).toEqual([]);
  });

  it("reviews each nested project at the outer root as its own project (paths prefixed; exit 1 for its problem; text, JSON projects, SARIF)", async () => {
    const { s, set } = await project();
    const labs = await nestedLabs(s);
    s.commit("labs: a project of its own");
    // no change inside labs: the outer report alone is unchanged, plus a clean labs section
    await set("zendesk_api_token", "production", "zd_token_9999");
    s.commit("outer: zendesk");
    const quiet = await reviewJson(s, ["HEAD~1", "HEAD"]);
    expect(quiet.clean).toBe(true);
    expect((quiet as Report & { projects: { path: string; environments: unknown[]; clean: boolean }[] }).projects).toMatchObject([{ path: "teams/labs", environments: [], clean: true }]);
    // the outer project reads only its connectors: a nested project its config.include never reaches is still reviewed
    const outerAll = readFileSync(join(s.repo, "stellar.yaml"), "utf8");
    s.write("stellar.yaml", `${outerAll}config:\n  include:\n    - "connectors/**/*.yaml"\n`);
    s.commit("outer: read only connectors");
    // a change inside labs: its secret removed while its connector still references it
    const rm = await s.run(["rm", "labs_token", "--env", "production", "--force", "--yes"], { cwd: labs });
    expect(rm.code, rm.stderr).toBe(0);
    s.commit("labs: remove labs_token");
    const text = await review(s, ["HEAD~1", "HEAD"]);
    expect(text.code, text.stdout).toBe(1);
    const [outerText, labsText] = text.stdout.split("\nteams/labs (a project of its own)\n");
    expect(outerText).toContain("Summary: 0 secrets added, 0 changed, 0 removed; no problems.");
    expect(labsText).toMatch(/production \(teams\/labs\/secrets\/production\.enc\.yaml\)\n {2}- labs_token\s+removed/);
    expect(labsText).toMatch(/teams\/labs\/connectors\/labs\.yaml:4:\d+: error unknown-secret/);
    expect(labsText).toContain("All projects: 2 projects reviewed (the root project and teams/labs); problems in teams/labs.");
    const report = (await reviewJson(s, ["HEAD~1", "HEAD"], 1)) as Report & { projects: (Report & { path: string })[] };
    expect(report.environments).toEqual([]);
    expect(report.problems).toEqual([]);
    expect(report.clean).toBe(false);
    expect(report.projects).toHaveLength(1);
    const nested = report.projects[0]!;
    expect(nested.path).toBe("teams/labs");
    expect(nested.clean).toBe(false);
    expect(env(nested, "production")).toMatchObject({ file: "teams/labs/secrets/production.enc.yaml", secrets: [{ name: "labs_token", change: "removed" }] });
    expect(nested.problems).toMatchObject([{ kind: "checker-error", file: "teams/labs/connectors/labs.yaml" }]);
    // the checker's hint, worded for the outer root: run in the folder (at the outer root it would set the outer project's secret)
    expect(nested.problems[0]!.message).toContain("`(cd teams/labs && stellar-secrets set labs_token --env ");
    const sarif = await review(s, ["HEAD~1", "HEAD", "--format", "sarif"]);
    expect(sarif.code).toBe(1);
    const runs = (JSON.parse(sarif.stdout) as { runs: { results: { ruleId: string; locations?: { physicalLocation: { artifactLocation: { uri: string } } }[] }[] }[] }).runs;
    expect(runs).toHaveLength(1);
    expect(runs[0]!.results.filter((r) => r.ruleId === "unknown-secret").map((r) => r.locations?.[0]?.physicalLocation.artifactLocation.uri)).toEqual(["teams/labs/connectors/labs.yaml"]);
    // a nested project removed in head is a line, not a problem
    s.git(["rm", "-q", "teams/labs/stellar.yaml"]);
    s.write("stellar.yaml", outerAll);
    s.commit("labs: back into the root project");
    const gone = (await reviewJson(s, ["HEAD~1", "HEAD"], 1)) as Report & { projects: { path: string; removed?: boolean }[] };
    expect(gone.projects).toEqual([{ path: "teams/labs", removed: true, clean: true }]);
  });

  it("words a nested project's hints for the outer root: its paths below the folder (the hinted git checkout restores the nested file), its commands run in it", async () => {
    const { s } = await project();
    const labs = await nestedLabs(s);
    const base = s.commit("labs: a project of its own");
    // mallory's key added to the labs production file alone (stellar.yaml and .sops.yaml without her): a non-member recipient
    const mallory = s.keygen("mallory");
    expect((await s.run(["members", "add", "mallory", mallory.recipient, "--env", "production"], { cwd: labs })).code).toBe(0);
    s.git(["checkout", "-q", "HEAD", "--", "teams/labs/stellar.yaml", "teams/labs/.sops.yaml"]);
    s.commit("labs: re-wrap");
    const NESTED = "teams/labs/secrets/production.enc.yaml";
    const report = (await reviewJson(s, ["HEAD~1", "HEAD"], 1)) as Report & { projects: (Report & { path: string })[] };
    expect(report.problems).toEqual([]);
    const found = report.projects[0]!.problems.filter((p) => p.kind === "non-member-recipient");
    expect(found).toMatchObject([{ environment: "production", file: NESTED }]);
    const message = found[0]!.message;
    expect(message).toContain(`can decrypt ${NESTED} but is not a member of production in teams/labs/stellar.yaml`);
    expect(message).toContain(`(\`git checkout ${base} -- ${NESTED}\`)`);
    expect(message).toContain("run `(cd teams/labs && stellar-secrets rotate-key --env production)` on a branch without what this change added");
    // no path of the nested project left worded as inside its folder
    expect(message.replaceAll(NESTED, "").replaceAll("teams/labs/stellar.yaml", "")).not.toMatch(/secrets\/production\.enc\.yaml|stellar\.yaml/);
    // the text prints the same hint in the labs section; the outer section has none
    const text = await review(s, ["HEAD~1", "HEAD"]);
    const [outerText, labsText] = text.stdout.split("\nteams/labs (a project of its own)\n");
    expect(labsText).toContain(`\`git checkout ${base} -- ${NESTED}\``);
    expect(outerText).not.toContain("git checkout");
    // the hint, run from the outer root as printed, restores the nested file and leaves the outer one alone
    const hint = /`(git checkout [0-9a-f]{40} -- \S+)`/.exec(message)?.[1];
    expect(hint).toBe(`git checkout ${base} -- ${NESTED}`);
    const outerBefore = s.read("secrets/production.enc.yaml");
    execFileSync("sh", ["-c", hint as string], { cwd: s.repo, env: s.env, stdio: "ignore" });
    expect(s.read(NESTED)).toBe(s.git(["show", `${base}:${NESTED}`]));
    expect(s.read("secrets/production.enc.yaml")).toBe(outerBefore);
    expect(s.git(["status", "--porcelain"]).trim()).toBe(`M  ${NESTED}`);
    // the working tree is the base again: nothing to flag against it
    const restored = (await reviewJson(s, [base])) as Report & { projects: (Report & { path: string })[] };
    expect(restored.projects).toMatchObject([{ path: "teams/labs", environments: [], problems: [], clean: true }]);
    // the stellar-secrets hint, run from the outer root as printed, re-keys the labs file (not the outer one) for its members only
    s.git(["checkout", "-q", "HEAD", "--", NESTED]);
    const rekey = /`(\(cd teams\/labs && stellar-secrets rotate-key --env production\))`/.exec(message)?.[1] as string;
    const bin = join(s.dir, "bin");
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, "stellar-secrets"), `#!/bin/sh\nexec ${[process.execPath, CLI_BIN].map((word) => shellWord(word)).join(" ")} "$@"\n`, { mode: 0o755 });
    execFileSync("sh", ["-c", rekey], { cwd: s.repo, env: { ...s.env, PATH: `${bin}:${s.env.PATH ?? ""}` }, stdio: "ignore" });
    expect(s.read(NESTED)).not.toContain(mallory.recipient);
    expect(s.read("secrets/production.enc.yaml")).toBe(outerBefore);
  });

  it("flags an environment file restored from before a rotation, with a removed member's stanza cut out (unrotated-removal, exit 1)", async () => {
    const { s } = await project();
    const { mallory, withMallory } = await removedMember(s);
    const old = s.git(["show", `${withMallory}:secrets/production.enc.yaml`]);
    const cut = old.replace(new RegExp(` {8}- recipient: ${mallory.recipient}\\n {10}enc: \\|\\n(?: {12}.*\\n)+`), "");
    expect(cut).not.toBe(old);
    s.write("secrets/production.enc.yaml", cut);
    s.commit("production: routine re-key");
    const report = await reviewJson(s, ["main...rekey"], 1);
    const found = report.problems.filter((p) => p.kind === "unrotated-removal");
    expect(found).toMatchObject([{ environment: "production", file: "secrets/production.enc.yaml" }]);
    expect(found[0]!.message).toContain(`at commit ${withMallory.slice(0, 10)}`);
    expect(found[0]!.message).toContain(mallory.recipient);
    // the honest removal itself is no such problem
    expect((await reviewJson(s, ["main~1...main"])).problems.filter((p) => p.message.includes("uses the data key of its version"))).toEqual([]);
  });

  it("flags a member added in one commit of the range and reverted in the next (the file ends as the base's byte for byte; exit 1)", async () => {
    const { s } = await project();
    s.git(["checkout", "-q", "-b", "feature"]);
    const eve = s.keygen("eve");
    expect((await s.run(["members", "add", "eve", eve.recipient, "--env", "production"])).code).toBe(0);
    const added = s.commit("add eve");
    s.git(["revert", "--no-edit", "HEAD"]);
    expect(s.git(["diff", "main", "HEAD", "--stat"])).toBe("");
    const report = await reviewJson(s, ["main...feature"], 1);
    expect(report.problems.map((p) => [p.kind, p.environment, (p as { commit?: string }).commit])).toEqual([["unrotated-removal", "production", added]]);
    expect(report.problems[0]?.message).toContain(eve.recipient);
    // `members rm` instead of the revert rotates the data key: no such problem
    s.git(["reset", "-q", "--hard", added]);
    expect((await s.run(["members", "rm", "eve", "--env", "production"])).code).toBe(0);
    s.commit("remove eve");
    expect((await reviewJson(s, ["main...feature"])).problems).toEqual([]);
  });

  it("reads the environment files of a secrets folder that only the range's commits had (moved to vault/, a member added there, all reverted): unrotated-removal, exit 1", async () => {
    const { s } = await project();
    s.git(["checkout", "-q", "-b", "feature"]);
    s.git(["mv", "secrets", "vault"]);
    s.write("stellar.yaml", s.read("stellar.yaml").replace(/^secrets_dir: .*$/m, "secrets_dir: vault"));
    expect(s.read("stellar.yaml")).toContain("secrets_dir: vault\n");
    const eve = s.keygen("eve");
    expect((await s.run(["members", "add", "eve", eve.recipient, "--env", "production"])).code).toBe(0);
    const moved = s.commit("move to vault, add eve");
    s.git(["revert", "--no-edit", "HEAD"]);
    expect(s.git(["diff", "main", "HEAD", "--stat"])).toBe("");
    const report = await reviewJson(s, ["main...feature"], 1);
    expect(report.problems.map((p) => [p.kind, p.environment, (p as { commit?: string }).commit])).toEqual([["unrotated-removal", "production", moved]]);
    expect(report.problems[0]?.message).toContain("(vault/production.enc.yaml)");
    expect(env(report, "production").exposedDuring).toMatchObject([{ recipient: eve.recipient, member: "eve", commit: moved }]);
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

  it("says when BASE...HEAD has two merge bases (criss-cross merges), which one it compares with, and the files where the other differs", async () => {
    const { s, set } = await project();
    s.git(["checkout", "-q", "-b", "other"]);
    await set("hubspot_api_token", "production", VALUES[5] as string);
    const b1 = s.commit("other changes production");
    s.git(["checkout", "-q", "main"]);
    await set("stripe_api_key", "staging", VALUES[4] as string);
    const a1 = s.commit("main changes staging");
    // each branch merges the other: both a1 and b1 are best common ancestors
    s.git(["merge", "-q", "--no-edit", "other"]);
    s.git(["checkout", "-q", "other"]);
    s.git(["merge", "-q", "--no-edit", a1]);
    const json = (await reviewJson(s, ["main...other"])) as Report & { mergeBases?: string[]; mergeBasesDiffer?: string[] };
    expect(json.mergeBases).toHaveLength(2);
    expect([...(json.mergeBases ?? [])].sort()).toEqual([a1, b1].map((c) => s.git(["rev-parse", c]).trim()).sort());
    expect(json.base.commit).toBe(json.mergeBases?.[0]);
    expect(json.mergeBasesDiffer).toEqual(["secrets/production.enc.yaml", "secrets/staging.enc.yaml"]);
    // and per secret, without a key, what the other base brings
    expect((json as { mergeBasesSecrets?: unknown }).mergeBasesSecrets).toEqual([
      { base: json.mergeBases?.[1], environment: "production", file: "secrets/production.enc.yaml", secrets: [{ name: "hubspot_api_token", change: "changed" }] },
      { base: json.mergeBases?.[1], environment: "staging", file: "secrets/staging.enc.yaml", secrets: [{ name: "stripe_api_key", change: "changed" }] },
    ]);
    const text = await review(s, ["main...other"]);
    expect(text.stdout.split("\n")[1]).toMatch(/^Note: the range has 2 merge bases \(criss-cross merges\): this review compares with [0-9a-f]{10} \(git's pick\), not with [0-9a-f]{10}\. They differ in secrets\/production\.enc\.yaml and secrets\/staging\.enc\.yaml: /);
    expect(text.stdout.split("\n")[2]).toMatch(/^  [0-9a-f]{10} against [0-9a-f]{10}, production \(secrets\/production\.enc\.yaml\): another value of hubspot_api_token$/);
    // one merge base: no such field
    expect((await reviewJson(s, ["HEAD~1...HEAD"])).hasOwnProperty("mergeBases")).toBe(false);
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

  it("prints the same review as a pull-request comment (markdown) and as SARIF 2.1.0; --format json is --json", async () => {
    const { s } = await project();
    expect((await s.run(["rm", "stripe_api_key", "--env", "production", "--force", "--yes"])).code).toBe(0);
    s.commit("remove stripe from production");

    const md = await review(s, ["HEAD~1", "HEAD", "--format", "markdown"]);
    expect(md.code, md.stderr).toBe(1);
    const lines = md.stdout.split("\n");
    expect(lines[0]).toBe("<!-- stellar-secrets review -->");
    expect(lines[1]).toBe("### ❌ Stellar Secrets review: 1 problem");
    expect(md.stdout).toMatch(/^- ❌ \*\*`connectors\/stripe\.yaml:4`\*\* \(checker error\) missing\\-environment\\-value/m);
    expect(md.stdout).toContain("<summary>Changes by environment (1)</summary>");

    const sarif = await review(s, ["HEAD~1", "HEAD", "--format", "sarif"]);
    expect(sarif.code).toBe(1);
    const log = JSON.parse(sarif.stdout) as { runs: { tool: { driver: { rules: { id: string }[] } }; results: { ruleId: string; level: string; baselineState: string; locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[] }[] }[] };
    expect(sarifSchemaErrors(log)).toEqual([]);
    expect(log.runs[0]!.tool.driver.rules.map((r) => r.id)).toEqual(expect.arrayContaining(["missing-environment-value", "unrotated-removal", "weakened-rule"]));
    expect(log.runs[0]!.results.map((r) => [r.ruleId, r.level, r.baselineState, r.locations[0]!.physicalLocation.artifactLocation.uri, r.locations[0]!.physicalLocation.region.startLine])).toEqual([
      ["missing-environment-value", "error", "new", "connectors/stripe.yaml", 4],
    ]);

    const json = await review(s, ["HEAD~1", "HEAD", "--json"]);
    const format = await review(s, ["HEAD~1", "HEAD", "--format", "json"]);
    expect(format.stdout).toBe(json.stdout);
    expect((JSON.parse(json.stdout) as { environments: { notes: unknown[] }[] }).environments[0]!.notes).toEqual([]);
    expect((await review(s, ["--json", "--format", "sarif"])).code).toBe(2);
    expect((await review(s, ["--format", "html"])).code).toBe(2);

    const clean = await review(s, ["HEAD", "HEAD", "--format", "markdown"]);
    expect(clean.code).toBe(0);
    expect(clean.stdout.split("\n")[1]).toBe("### ✅ Stellar Secrets review: no problems");
  });

  it("says a shallow clone lacks the base and how to fetch it (SHALLOW_CLONE, exit 24)", async () => {
    const { s, set } = await project();
    await set("hubspot_api_token", "production", "hs_token_main_2");
    s.commit("main: second");
    s.git(["checkout", "-q", "-b", "feature"]);
    await set("zendesk_api_token", "production", "zd_token_feature");
    s.commit("feature: zendesk");
    await set("zendesk_api_token", "staging", "zd_token_feature_2");
    s.commit("feature: zendesk staging");
    const clone = join(s.dir, "shallow");
    s.git(["clone", "-q", "--depth", "1", "--branch", "feature", `file://${s.repo}`, clone]);
    const inClone = (args: string[]): Promise<RunResult> => s.run(["review", ...args], { cwd: clone, env: { SOPS_AGE_KEY_FILE: undefined } });

    // the base branch was not fetched at all
    const missing = await inClone(["origin/main...HEAD"]);
    expect(missing.code, missing.stderr).toBe(24);
    expect(missing.stderr).toContain('SHALLOW_CLONE: "origin/main" is not a commit');
    expect(missing.stderr).toContain("git fetch --unshallow");
    expect(missing.stderr).toContain("fetch-depth: 0");

    // both tips fetched, but not the history that joins them
    execFileSync("git", ["fetch", "-q", "--depth", "1", "origin", "main:refs/remotes/origin/main"], { cwd: clone, env: s.env });
    const noBase = await inClone(["origin/main...HEAD"]);
    expect(noBase.code, noBase.stderr).toBe(24);
    expect(noBase.stderr).toMatch(/SHALLOW_CLONE: \w+ and \w+ have no common ancestor in this shallow clone/);

    execFileSync("git", ["fetch", "-q", "--unshallow", "origin"], { cwd: clone, env: s.env });
    const full = await inClone(["origin/main...HEAD", "--json"]);
    expect(full.code, full.stderr).toBe(0);
    expect((JSON.parse(full.stdout) as Report).environments.flatMap((e) => e.secrets.map((x) => `${e.environment} ${x.change} ${x.name}`)).sort()).toEqual([
      "production added zendesk_api_token",
      "staging added zendesk_api_token",
    ]);
  });

  it("refuses a shallow clone whose range or base history is cut (SHALLOW_CLONE, exit 24): a restored old version passed there as clean", async () => {
    const { s } = await project();
    const { mallory } = await removedMember(s);
    const old = s.git(["show", "main~1:secrets/production.enc.yaml"]);
    s.write("secrets/production.enc.yaml", old.replace(new RegExp(` {8}- recipient: ${mallory.recipient}\\n {10}enc: \\|\\n(?: {12}.*\\n)+`), ""));
    s.commit("production: routine re-key");
    // the pull request's merge commit, as CI checks it out
    s.git(["checkout", "-q", "main"]);
    s.git(["merge", "-q", "--no-ff", "--no-verify", "-m", "Merge pull request", "rekey"]);
    const shallow = async (depth: number): Promise<RunResult> => {
      const clone = join(s.dir, `depth-${depth}`);
      s.git(["clone", "-q", "--depth", String(depth), "--branch", "main", `file://${s.repo}`, clone]);
      return s.run(["review", "HEAD^1...HEAD", "--format", "markdown"], { cwd: clone, env: { SOPS_AGE_KEY_FILE: undefined } });
    };
    // depth 2: the pull request's own commit is at the edge, its parent was not fetched
    const cutRange = await shallow(2);
    expect(cutRange.code, cutRange.stdout + cutRange.stderr).toBe(24);
    expect(cutRange.stdout).toBe("");
    expect(cutRange.stderr).toMatch(/SHALLOW_CLONE: the commits from \w+ to \w+ are cut in this shallow clone: git did not fetch the parents of \w+/);
    expect(cutRange.stderr).toContain("fetch-depth: 0");
    // depth 3: the range is whole, the base's history (where the retired data key is) is not
    const cutBase = await shallow(3);
    expect(cutBase.code, cutBase.stdout + cutBase.stderr).toBe(24);
    expect(cutBase.stderr).toMatch(/SHALLOW_CLONE: the history of the base \w+ is cut in this shallow clone .*unrotated-removal/);
    // the full history shows the problem
    const full = await reviewJson(s, ["HEAD^1...HEAD"], 1);
    expect(full.problems.map((p) => p.kind)).toContain("unrotated-removal");
  });

  it("refuses a partial clone that cannot fetch an earlier version the look-back reads, naming it (never skipped, never a bare git error)", async () => {
    const { s } = await project();
    const { mallory } = await removedMember(s);
    const old = s.git(["show", "main~1:secrets/production.enc.yaml"]);
    s.write("secrets/production.enc.yaml", old.replace(new RegExp(` {8}- recipient: ${mallory.recipient}\\n {10}enc: \\|\\n(?: {12}.*\\n)+`), ""));
    s.commit("production: routine re-key");
    s.git(["checkout", "-q", "main"]);
    s.git(["merge", "-q", "--no-ff", "--no-verify", "-m", "Merge pull request", "rekey"]);
    s.git(["config", "uploadpack.allowFilter", "true"]);
    s.git(["config", "uploadpack.allowAnySHA1InWant", "true"]);
    // a partial clone: no blob but those its checkouts fetched (the head's, the base's, the range's)
    const clone = join(s.dir, "partial");
    s.git(["clone", "-q", "--filter=blob:none", "--branch", "main", `file://${s.repo}`, clone]);
    for (const rev of ["HEAD^1", "rekey", "main"]) execFileSync("git", ["checkout", "-q", rev], { cwd: clone, env: s.env });
    // its remote gone (offline, or a CI cache without it): the base's earlier versions cannot be fetched
    execFileSync("git", ["remote", "set-url", "origin", `file://${join(s.dir, "gone")}`], { cwd: clone, env: s.env });
    // (git cat-file ended at the first blob it could not fetch, and review failed with its first line: "… does not appear to be a git repository")
    const r = await s.run(["review", "HEAD^1...HEAD", "--format", "markdown"], { cwd: clone, env: { SOPS_AGE_KEY_FILE: undefined } });
    expect(r.code, r.stdout + r.stderr).toBe(22);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      /GIT_ERROR: review cannot read an earlier version of the environment files \(secrets\/production\.enc\.yaml at [0-9a-f]{12}\): git has no copy of it and could not fetch it \(.*could not fetch [0-9a-f]+ from promisor remote\), so a data key the base retired that the head brings back \(unrotated-removal\) would go unseen/,
    );
    expect(r.stderr).toContain("run review where git can reach the remote");
    // with the remote back, git fetches what review reads: the data key brought back is found
    execFileSync("git", ["remote", "set-url", "origin", `file://${s.repo}`], { cwd: clone, env: s.env });
    const back = await s.run(["review", "HEAD^1...HEAD", "--json"], { cwd: clone, env: { SOPS_AGE_KEY_FILE: undefined } });
    expect(back.code, back.stderr).toBe(1);
    expect((JSON.parse(back.stdout) as Report).problems.map((p) => p.kind)).toContain("unrotated-removal");
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
    const noProject = createSandbox();
    sandboxes.push(noProject);
    const none = await noProject.run(["review"]);
    expect(none.code).toBe(5);
    expect(none.stderr).toContain("NO_PROJECT");
  });
});

/** An armored age envelope of `data` for `recipients`, made with the age CLI (not this project's writer). */
function ageWrap(data: Buffer, recipients: string[]): string {
  return execFileSync("age", [...recipients.flatMap((r) => ["-r", r]), "-a"], { input: data, encoding: "utf8" });
}

/** The sops YAML of one age stanza, as an attacker would paste it into a file. */
function stanzaYaml(recipient: string, enc: string): string {
  return `        - recipient: ${recipient}\n          enc: |\n${enc.trimEnd().split("\n").map((l) => `            ${l}`).join("\n")}\n`;
}

describe.skipIf(!HAS_AGE_CLI)("review: hidden readers crafted with the age CLI (skipped: the age CLI is not installed)", () => {
  it("exits 1 for a stanza re-wrapped for an outsider without a rotation; honest members add, members rm and rotate-key exit 0", async () => {
    const { s, alice } = await project();
    const mallory = s.keygen("mallory");
    const file = "secrets/production.enc.yaml";
    const base = s.read(file);
    const dataKey = unwrapWith(s, "production", alice) as Buffer;
    expect(dataKey).toHaveLength(32);
    const [own] = stanzas(s, "production");
    expect(own?.recipient).toBe(alice.recipient);
    const start = base.indexOf("        - recipient:");
    const end = base.indexOf("-----END AGE ENCRYPTED FILE-----\n", start) + "-----END AGE ENCRYPTED FILE-----\n".length;

    // (c) alice's stanza replaced by one envelope for alice and mallory (age -r ALICE -r MALLORY), label kept
    const both = ageWrap(dataKey, [alice.recipient, mallory.recipient]);
    s.write(file, base.slice(0, start) + stanzaYaml(alice.recipient, both) + base.slice(end));
    expect(ageDecrypt(mallory.file, both).equals(dataKey)).toBe(true);
    s.commit("re-wrap production");
    const text = await review(s, ["HEAD~1", "HEAD"]);
    expect(text.code, text.stdout).toBe(1);
    expect(text.stdout).not.toContain("only metadata");
    expect(text.stdout).toContain("the label proves nothing");
    const report = await reviewJson(s, ["HEAD~1", "HEAD"], 1);
    expect(report.problems.map((p) => p.kind)).toContain("rewrapped-without-rotation");
    expect(JSON.stringify(report)).not.toMatch(/members add \S+ age1/);

    // (a) a second stanza labelled alice, wrapped to mallory only; (b) alice's stanza wrapped to mallory only
    for (const head of [
      base.slice(0, start) + stanzaYaml(alice.recipient, ageWrap(dataKey, [mallory.recipient])) + base.slice(start),
      base.slice(0, start) + stanzaYaml(alice.recipient, ageWrap(dataKey, [mallory.recipient])) + base.slice(end),
    ]) {
      s.write(file, head);
      const r = await reviewJson(s, ["HEAD~1"], 1);
      expect(r.problems.map((p) => p.kind)).toContain("rewrapped-without-rotation");
    }
    s.write(file, base);
    s.commit("revert");

    // honest changes made with stellar-secrets stay clean
    const bob = s.keygen("bob");
    for (const args of [
      ["members", "add", "bob", bob.recipient, "--env", "production"],
      ["members", "rm", "bob", "--env", "production"],
      ["rotate-key", "--env", "production"],
    ]) {
      const done = await s.run(args);
      expect(done.code, done.stderr).toBe(0);
      s.commit(args.join(" "));
      const r = await review(s, ["HEAD~1", "HEAD"]);
      expect(r.code, `${args.join(" ")}\n${r.stdout}`).toBe(0);
    }
  });
});

describe("review --verify", () => {
  /** review with alice's (or another) key file. */
  const verify = async (s: Sandbox, key: string | undefined, args: string[]): Promise<RunResult> => {
    const r = await s.run(["review", "--verify", ...args], { env: { SOPS_AGE_KEY_FILE: key, SOPS_AGE_KEY: undefined } });
    for (const v of [...VALUES, "hs_token_changed_8888"]) {
      expect(r.stdout).not.toContain(v);
      expect(r.stderr).not.toContain(v);
    }
    return r;
  };

  it.skipIf(!HAS_AGE_CLI)("proves with a key a file written afresh under a data key a rotation retired (keyless it looks like a rotation)", async () => {
    const { s, alice } = await project();
    const { mallory, withMallory } = await removedMember(s);
    // mallory, removed, still knows the old data key: she writes new values under it and wraps it afresh for alice
    s.write("secrets/production.enc.yaml", s.git(["show", `${withMallory}:secrets/production.enc.yaml`]));
    const oldKey = unwrapWith(s, "production", mallory);
    expect(oldKey).toBeDefined();
    for (const name of ["stripe_api_key", "hubspot_api_token", "legacy_api_token"]) {
      const r = await s.run(["set", name, "--env", "production", "--from-stdin"], { input: `mallory_${name}`, env: { SOPS_AGE_KEY_FILE: mallory.file } });
      expect(r.code, r.stderr).toBe(0);
    }
    const fresh = execFileSync("age", ["-a", "-r", alice.recipient], { input: oldKey, encoding: "utf8" });
    const text = s.read("secrets/production.enc.yaml");
    const indented = fresh.trimEnd().split("\n").map((l) => `            ${l}`).join("\n");
    const rewrapped = text
      .replace(new RegExp(` {8}- recipient: ${mallory.recipient}\\n {10}enc: \\|\\n(?: {12}.*\\n)+`), "")
      .replace(new RegExp(`( {8}- recipient: ${alice.recipient}\\n {10}enc: \\|\\n)(?: {12}.*\\n)+`), `$1${indented}\n`);
    expect(rewrapped).not.toBe(text);
    expect(rewrapped.match(/- recipient: /g)).toHaveLength(1);
    s.write("secrets/production.enc.yaml", rewrapped);
    s.commit("production: re-key");
    // keyless, nothing proves it: a new data key as far as anyone without one can tell
    expect((await reviewJson(s, ["main...rekey"], 0)).problems).toEqual([]);
    const r = await verify(s, alice.file, ["main...rekey", "--json"]);
    expect(r.code, r.stderr + r.stdout).toBe(1);
    const report = JSON.parse(r.stdout) as Report & { verification: { environment: string; retiredKeyOf?: string }[] };
    expect(report.problems.filter((p) => p.kind === "unrotated-removal")).toMatchObject([{ environment: "production", commit: withMallory }]);
    expect(report.verification.find((v) => v.environment === "production")?.retiredKeyOf).toBe(withMallory);
  });

  it("reports each name exactly with a key, names what it could not verify, and fails a tampered head", async () => {
    const { s, alice, set } = await project();
    await set("hubspot_api_token", "production", "hs_token_changed_8888");
    s.commit("change hubspot");
    const r = await verify(s, alice.file, ["HEAD~1", "HEAD", "--json"]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const report = JSON.parse(r.stdout) as Report & { verification: { environment: string; verified: boolean; dataKeyRotated?: boolean; secrets?: { name: string; status: string }[]; reason?: string }[] };
    expect(report.verification).toEqual([
      {
        environment: "production",
        file: "secrets/production.enc.yaml",
        verified: true,
        dataKeyRotated: false,
        secrets: [
          { name: "hubspot_api_token", status: "changed" },
          { name: "legacy_api_token", status: "unchanged" },
          { name: "stripe_api_key", status: "unchanged" },
        ],
        rewraps: [],
      },
    ]);

    // a rotation: every value re-encrypted only, the data key really new
    expect((await s.run(["rotate-key", "--env", "production"])).code).toBe(0);
    s.commit("rotate");
    const rotated = await verify(s, alice.file, ["HEAD~1", "HEAD"]);
    expect(rotated.code, rotated.stdout).toBe(0);
    expect(rotated.stdout).toContain("production (secrets/production.enc.yaml): verified, MAC checked; data key rotated");
    expect(rotated.stdout).toMatch(/\* hubspot_api_token\s+re-encrypted only \(same value\)/);

    // a key that opens nothing: every changed environment is named as not verified
    const stranger = s.keygen("stranger");
    const unverified = await verify(s, stranger.file, ["HEAD~1", "HEAD", "--json"]);
    expect(unverified.code).toBe(0);
    expect((JSON.parse(unverified.stdout) as { verification: unknown[] }).verification).toEqual([
      { environment: "production", file: "secrets/production.enc.yaml", verified: false, reason: "none of your keys opens the head version", code: "NO_MATCHING_IDENTITY", tampered: false },
    ]);

    // a MAC from another file: keyless, a mac replaced while every value and lastmodified stayed is stale-mac
    // (a real write sets lastmodified anew); with the key it fails its MAC too (exit 1)
    const mac = /^ {4}mac: .*$/m;
    s.write("secrets/production.enc.yaml", s.read("secrets/production.enc.yaml").replace(mac, (s.read("secrets/staging.enc.yaml").match(mac) as RegExpMatchArray)[0]));
    s.commit("swap the MAC");
    const keyless = await reviewJson(s, ["HEAD~1", "HEAD"], 1);
    expect(keyless.problems.map((p) => p.message)).toEqual([expect.stringMatching(/^stale-mac: sops\.mac of secrets\/production\.enc\.yaml differs/)]);
    const tampered = await verify(s, alice.file, ["HEAD~1", "HEAD", "--json"]);
    expect(tampered.code, tampered.stdout).toBe(1);
    const t = JSON.parse(tampered.stdout) as Report & { verification: { verified: boolean; tampered?: boolean; code?: string }[] };
    expect(t.verification[0]).toMatchObject({ verified: false, tampered: true, code: "MAC_MISMATCH" });
    expect(t.problems.map((p) => p.kind)).toEqual(["checker-error", "tampered"]);

    // no identity at all: NO_IDENTITY (exit 10)
    const none = await s.run(["review", "--verify", "HEAD~1", "HEAD"], { env: { SOPS_AGE_KEY_FILE: undefined, SOPS_AGE_KEY: undefined } });
    expect(none.code, none.stderr).toBe(10);
    expect(none.stderr).toContain("NO_IDENTITY");
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

describe("review of a branch that gives stellar.yaml export-subst (s24 newattack)", () => {
  it("is weakened-rule (exit 1): git archive expands the comment's $Format:%n…$ into a secrets_dir line that git's copy, which review reads, does not have", async () => {
    const s = createSandbox();
    try {
      s.env.SOPS_AGE_KEY_FILE = s.keygen("alice").file;
      expect((await s.run(["init", "--env", "production"])).code).toBe(0);
      expect((await s.run(["set", "stripe_api_key", "--env", "production", "--from-stdin"], { input: "sk_test_subst" })).code).toBe(0); // TEST-ONLY value
      s.commit("base");
      s.git(["checkout", "-q", "-b", "pr"]);
      s.write(".gitattributes", "stellar.yaml export-subst\n");
      s.write("stellar.yaml", s.read("stellar.yaml").replace(/secrets_dir: .*\n/, "") + "# $Format:%nsecrets_dir: decoy$\n");
      s.commit("pr");
      // what an archive deploy gets: a secrets_dir line git's copy does not have
      const archived = execFileSync("git", ["-C", s.repo, "archive", "HEAD", "stellar.yaml"]).toString("latin1");
      expect(archived).toContain("\nsecrets_dir: decoy\n");
      const r = await s.run(["review", "main...HEAD", "--json"], { env: { SOPS_AGE_KEY_FILE: undefined } });
      expect(r.code, r.stderr).toBe(1);
      expect(JSON.parse(r.stdout).problems).toMatchObject([{ kind: "weakened-rule", file: ".gitattributes", line: 1 }]);
    } finally {
      s.cleanup();
    }
  });
});
