/**
 * `pre-commit` end to end on real git repositories: it checks what is staged (the index), not the
 * working tree; it blocks (exit 1, file:line) plaintext in a secrets file, a broken reference and
 * a plaintext credential; and, installed as a real git hook, it makes `git commit` refuse.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { COMMANDS } from "../packages/cli/src/main.js";
import { CLI_BIN, createSandbox, REPO_ROOT, type Sandbox, sandboxesCleanedAfterEach } from "./helpers/cli.js";
import { shellWord } from "../packages/core/src/shell.js";
import { parse } from "./helpers/yaml.js";

vi.setConfig({ testTimeout: 120_000 });

const sandboxes = sandboxesCleanedAfterEach();

const PLAIN = "sk_live_PRECOMMITplain0001";
const CREDENTIAL = "xoxb-FAKE-0000000000-notreal";

async function project(): Promise<Sandbox> {
  const s = createSandbox();
  sandboxes.push(s);
  s.env.SOPS_AGE_KEY_FILE = s.keygen("alice").file;
  expect((await s.run(["init", "--env", "staging,production"])).code).toBe(0);
  s.write("connectors/stripe.yaml", "kind: auth_connector\nname: stripe\ntype: bearer_token\ntoken: { secret: stripe_api_key }\n");
  for (const env of ["staging", "production"]) {
    expect((await s.run(["set", "stripe_api_key", "--env", env, "--from-stdin"], { input: `sk_test_${env}` })).code).toBe(0);
  }
  s.commit("base");
  return s;
}

async function preCommit(s: Sandbox): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const r = await s.run(["pre-commit"], { env: { SOPS_AGE_KEY_FILE: undefined } });
  for (const v of [PLAIN, CREDENTIAL, "sk_test_staging", "sk_test_production"]) expect(r.stdout + r.stderr).not.toContain(v);
  return r;
}

describe("pre-commit", () => {
  it("outside a git repository says that it checks what git has staged (GIT_ERROR, exit 22)", async () => {
    const s = createSandbox({ gitInit: false });
    sandboxes.push(s);
    s.env.SOPS_AGE_KEY_FILE = s.keygen("alice").file;
    expect((await s.run(["init", "--env", "staging"])).code).toBe(0);
    const r = await preCommit(s);
    expect(r.code).toBe(22);
    expect(r.stderr).toMatch(/^stellar-secrets: GIT_ERROR: .* is not inside a git repository; pre-commit checks what is staged in git\n/);
    expect(r.stderr).not.toContain("review");
  });

  it("checks the staged content, not the working tree", async () => {
    const s = await project();
    expect(await preCommit(s)).toMatchObject({ code: 0, stdout: "" });

    // a broken reference in the working tree only: not staged, not checked
    s.write("connectors/hubspot.yaml", "kind: auth_connector\nname: hubspot\ntype: bearer_token\ntoken: { secret: hubspot_api_token }\n");
    expect((await preCommit(s)).code).toBe(0);

    s.git(["add", "connectors/hubspot.yaml"]);
    const staged = await preCommit(s);
    expect(staged.code).toBe(1);
    expect(staged.stdout).toMatch(/^connectors\/hubspot\.yaml:4:\d+: error unknown-secret /m);
    expect(staged.stderr).toContain("commit refused");
    expect(staged.stderr).toContain("git commit --no-verify");

    // fixed in the working tree but the fix not staged: still refused; staged: accepted
    s.write("connectors/hubspot.yaml", "kind: auth_connector\nname: hubspot\ntype: bearer_token\ntoken: { secret: stripe_api_key }\n");
    expect((await preCommit(s)).code).toBe(1);
    s.git(["add", "connectors/hubspot.yaml"]);
    expect((await preCommit(s)).code).toBe(0);
  });

  it("words its text for the current directory, as check and git do: run from a subfolder, files and hints are relative to it", async () => {
    const s = await project();
    s.write("connectors/hubspot.yaml", "kind: auth_connector\nname: hubspot\ntype: bearer_token\ntoken: { secret: hubspot_api_token }\n");
    s.git(["add", "connectors/hubspot.yaml"]);
    const atTop = await preCommit(s);
    expect(atTop.stdout).toMatch(/^connectors\/hubspot\.yaml:4:\d+: error unknown-secret /m);
    const inside = await s.run(["pre-commit"], { cwd: join(s.repo, "connectors"), env: { SOPS_AGE_KEY_FILE: undefined } });
    expect(inside.code).toBe(1);
    expect(inside.stdout).toMatch(/^hubspot\.yaml:4:\d+: error unknown-secret /m);
    expect(inside.stdout).not.toContain("connectors/hubspot.yaml");
    const inSecrets = await s.run(["pre-commit"], { cwd: join(s.repo, "secrets"), env: { SOPS_AGE_KEY_FILE: undefined } });
    expect(inSecrets.stdout).toMatch(/^\.\.\/connectors\/hubspot\.yaml:4:\d+: error unknown-secret /m);
  });

  it("blocks plaintext in a secrets file and a plaintext credential, with file:line", async () => {
    const s = await project();
    const text = s.read("secrets/staging.enc.yaml");
    const plain = text.replace(/^stripe_api_key: ENC\[[^\n]*$/m, `stripe_api_key: ${PLAIN}`);
    expect(plain).not.toBe(text);
    s.write("secrets/staging.enc.yaml", plain);
    s.write("connectors/inline.yaml", `kind: auth_connector\nname: inline\ntype: bearer_token\ntoken: ${CREDENTIAL}\n`);
    s.git(["add", "-A"]);
    const r = await preCommit(s);
    expect(r.code).toBe(1);
    const rules = r.stdout.trim().split("\n").map((l) => /^(\S+):(\d+):\d+: error (\S+) /.exec(l)?.slice(1, 4).join(" "));
    expect(rules).toContain("secrets/staging.enc.yaml 1 unencrypted-secrets-file");
    expect(rules).toContain("connectors/inline.yaml 4 plaintext-credential");
    expect(r.stderr).toMatch(/\d+ errors? in the staged files/);
  });

  it("checks a nested project's staged files as that project: a plaintext credential in teams/labs/x.yaml is refused", async () => {
    const s = await project();
    const labs = join(s.repo, "teams", "labs");
    mkdirSync(labs, { recursive: true });
    const init = await s.run(["init", "--env", "production"], { cwd: labs });
    expect(init.code, init.stderr).toBe(0);
    s.write("teams/labs/x.yaml", `kind: auth_connector\nname: labs\ntype: bearer_token\ntoken: ${CREDENTIAL}\n`);
    // stripe_api_key is the outer project's secret, not the nested one's: judged against its own
    s.write("teams/labs/y.yaml", "kind: auth_connector\nname: stripe\ntype: bearer_token\ntoken: { secret: stripe_api_key }\n");
    s.git(["add", "-A"]);
    const r = await preCommit(s);
    expect(r.code, r.stderr).toBe(1);
    const rules = r.stdout.trim().split("\n").map((l) => /^(\S+):(\d+):\d+: error (\S+) /.exec(l)?.slice(1, 4).join(" "));
    expect(rules).toContain("teams/labs/x.yaml 4 plaintext-credential");
    expect(rules).toContain("teams/labs/y.yaml 4 unknown-secret");
    // worded to run at the outer root, where the hook runs (`set` there would write the outer project's secrets)
    expect(r.stdout).toContain("(cd teams/labs && stellar-secrets set labs_token --env ENV)");
    // fixed and staged: accepted (the nested project's own check passes, as the outer one does)
    s.git(["rm", "-qf", "teams/labs/x.yaml", "teams/labs/y.yaml"]);
    expect(await preCommit(s)).toMatchObject({ code: 0, stdout: "" });
  });

  it("checks a nested project that the outer config.include never reaches: a plaintext value in its secrets file is refused", async () => {
    const s = await project();
    s.write("stellar.yaml", `${s.read("stellar.yaml").trimEnd()}\nconfig:\n  include:\n    - "connectors/**/*.yaml"\n`);
    const labs = join(s.repo, "teams", "labs");
    mkdirSync(labs, { recursive: true });
    const init = await s.run(["init", "--env", "production"], { cwd: labs });
    expect(init.code, init.stderr).toBe(0);
    s.write("teams/labs/secrets/production.enc.yaml", `labs_token: ${PLAIN}\n`);
    s.git(["add", "-A"]);
    const r = await preCommit(s);
    expect(r.code, r.stderr + r.stdout).toBe(1);
    expect(r.stdout).toMatch(/^teams\/labs\/secrets\/production\.enc\.yaml:1:\d+: error unencrypted-secrets-file /m);
  });

  it("keeps blocking a plaintext secrets file when the staged stellar.yaml turns the rule off", async () => {
    const s = await project();
    s.write("stellar.yaml", `${s.read("stellar.yaml").trimEnd()}\nrules:\n  unencrypted-secrets-file: "off"\n`);
    s.write("secrets/production.enc.yaml", `stripe_api_key: ${PLAIN}\n`);
    s.git(["add", "-A"]);
    const r = await preCommit(s);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^secrets\/production\.enc\.yaml:\d+:\d+: error unencrypted-secrets-file /m);
  });

  it("blocks a hand-merged environment file: values changed under the committed mac (stale-mac), in a merge too", async () => {
    const s = await project();
    const base = s.git(["rev-parse", "HEAD"]).trim();
    s.git(["checkout", "-q", "-b", "feature"]);
    expect((await s.run(["set", "feature_api_key", "--env", "production", "--from-stdin"], { input: "sk_test_feature" })).code).toBe(0);
    s.commit("feature");
    const theirs = s.read("secrets/production.enc.yaml");
    const line = /^feature_api_key: [^\n]*\n/m.exec(theirs)?.[0] ?? "";
    expect(line).not.toBe("");
    s.git(["checkout", "-q", "-"]);
    // keep both value lines, our mac: what a hand-resolved conflict looks like
    const hand = (text: string): string => text.replace(/^sops:/m, `${line}sops:`);
    s.write("secrets/production.enc.yaml", hand(s.read("secrets/production.enc.yaml")));
    s.git(["add", "-A"]);
    const r = await preCommit(s);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^secrets\/production\.enc\.yaml:\d+:\d+: error stale-mac /m);

    // during a merge: their mac, both value lines (the mac matches MERGE_HEAD's, not HEAD's)
    s.git(["checkout", "-q", "--", "."]);
    s.git(["reset", "-q", "--hard", base]);
    s.write("connectors/stripe.yaml", `${s.read("connectors/stripe.yaml")}# ours\n`);
    s.commit("ours");
    expect((await s.run(["set", "stripe_api_key", "--env", "production", "--from-stdin"], { input: "sk_test_ours" })).code).toBe(0);
    s.commit("ours value");
    const ourLine = /^stripe_api_key: [^\n]*\n/m.exec(s.read("secrets/production.enc.yaml"))?.[0] ?? "";
    try {
      s.git(["merge", "-q", "--no-commit", "feature"]);
    } catch {
      // a text merge of the environment file conflicts (no merge driver here)
    }
    s.write("secrets/production.enc.yaml", theirs.replace(/^stripe_api_key: [^\n]*\n/m, ourLine));
    s.git(["add", "-A"]);
    const m = await preCommit(s);
    expect(m.code).toBe(1);
    expect(m.stdout).toMatch(/^secrets\/production\.enc\.yaml:\d+:\d+: error stale-mac /m);
  });

  it("makes git commit refuse when installed as the pre-commit hook", async () => {
    const s = await project();
    const hook = join(s.repo, ".git", "hooks", "pre-commit");
    writeFileSync(hook, `#!/bin/sh\nexec ${shellWord(process.execPath)} ${shellWord(CLI_BIN)} pre-commit\n`);
    chmodSync(hook, 0o755);
    s.write("secrets/production.enc.yaml", `stripe_api_key: ${PLAIN}\n`);
    s.git(["add", "-A"]);
    const before = s.git(["rev-parse", "HEAD"]).trim();
    expect(() => s.git(["commit", "-q", "-m", "leak"])).toThrow(/unencrypted-secrets-file/);
    expect(s.git(["rev-parse", "HEAD"]).trim()).toBe(before);
    s.git(["restore", "--staged", "--worktree", "secrets/production.enc.yaml"]);
    s.write("connectors/stripe.yaml", `${s.read("connectors/stripe.yaml")}# reviewed\n`);
    s.git(["add", "-A"]);
    s.git(["commit", "-q", "-m", "fine"]);
    expect(s.git(["rev-parse", "HEAD"]).trim()).not.toBe(before);
  });

  it("as the pre-merge-commit hook git setup writes, refuses a merge that conflicts by meaning only (a reference to a removed secret)", async () => {
    const s = await project();
    expect((await s.run(["git", "setup"])).code).toBe(0);
    s.commit("setup");
    s.git(["checkout", "-q", "-b", "cleanup"]);
    s.git(["rm", "-q", "connectors/stripe.yaml"]);
    for (const env of ["staging", "production"]) expect((await s.run(["rm", "stripe_api_key", "--env", env, "--yes"])).code).toBe(0);
    s.commit("remove stripe");
    s.git(["checkout", "-q", "-"]);
    s.write("connectors/billing.yaml", "kind: auth_connector\nname: billing\ntype: bearer_token\ntoken: { secret: stripe_api_key }\n");
    s.commit("billing uses stripe");
    const before = s.git(["rev-parse", "HEAD"]).trim();
    // nothing conflicts in the text: git merge commits by itself, and only pre-merge-commit runs
    let message = "";
    try {
      s.git(["merge", "-q", "--no-edit", "cleanup"]);
    } catch (e) {
      message = String((e as { stderr?: unknown }).stderr ?? e);
    }
    expect(message).toMatch(/connectors\/billing\.yaml:\d+:\d+: error unknown-secret /);
    expect(message).toContain("merge commit refused");
    expect(message).toContain("git merge --no-verify");
    expect(s.git(["rev-parse", "HEAD"]).trim()).toBe(before);
    s.git(["merge", "--abort"]);
    s.git(["merge", "-q", "--no-edit", "--no-verify", "cleanup"]);
    expect(s.git(["rev-parse", "HEAD"]).trim()).not.toBe(before);
  });

  it("finds a project in a subfolder of the repository when git runs the hook from the top", async () => {
    const s = createSandbox();
    sandboxes.push(s);
    s.env.SOPS_AGE_KEY_FILE = s.keygen("alice").file;
    const proj = join(s.repo, "infra", "secrets-project");
    mkdirSync(proj, { recursive: true });
    expect((await s.run(["init", "--env", "production"], { cwd: proj })).code).toBe(0);
    expect((await s.run(["git", "setup"], { cwd: proj })).code).toBe(0);
    // a project nested in it is checked with it: it does not make the staged project ambiguous
    mkdirSync(join(proj, "teams", "labs"), { recursive: true });
    expect((await s.run(["init", "--env", "production"], { cwd: join(proj, "teams", "labs") })).code).toBe(0);
    s.commit("base");
    // git runs the hook at the work tree's top, above stellar.yaml: the staged project is checked
    expect((await s.run(["pre-commit"], { env: { SOPS_AGE_KEY_FILE: undefined } })).code).toBe(0);
    s.write("infra/secrets-project/secrets/production.enc.yaml", `stripe_api_key: ${PLAIN}\n`);
    s.git(["add", "-A"]);
    const r = await s.run(["pre-commit"], { env: { SOPS_AGE_KEY_FILE: undefined } });
    expect(r.code).toBe(1);
    // named from where git runs the hook (the top of the work tree), as git names it
    expect(r.stdout).toMatch(/^infra\/secrets-project\/secrets\/production\.enc\.yaml:1:\d+: error unencrypted-secrets-file /m);
    expect(() => s.git(["commit", "-q", "-m", "leak"])).toThrow(/unencrypted-secrets-file/);
    s.git(["restore", "--staged", "--worktree", "infra"]);
    s.write("README.md", "elsewhere in the repository\n");
    s.git(["add", "-A"]);
    s.git(["commit", "-q", "-m", "unrelated"]);
  });

  it("refuses a staged plaintext .env.production holding a value of the project's secrets (plaintext-credential), in a folder config.include never reaches too, as a real git hook; never prints the value (checker session 8, item 1)", async () => {
    const s = await project();
    expect((await s.run(["git", "setup"])).code).toBe(0);
    s.commit("setup");
    // TEST-ONLY fake value
    s.write("deploy/k8s/.env.production", `PORT=8080\nSTRIPE_API_KEY=${PLAIN}\n`);
    s.write(".env.example", "STRIPE_API_KEY=changeme\n");
    s.git(["add", "-A"]);
    const r = await preCommit(s);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      "deploy/k8s/.env.production:2:1: error plaintext-credential deploy/k8s/.env.production holds a value of this project's secrets in plaintext (line 2: STRIPE_API_KEY (secret stripe_api_key)) and git tracks it: whoever can read the repository reads it. " +
        "Stop tracking it (`git rm --cached deploy/k8s/.env.production`, add it to .gitignore, and remove it from git history), rotate each value at its provider, and let the process read the values at run time: `stellar-secrets exec --env production -- COMMAND` (or `export --env production` to a file outside the repository)\n",
    );
    let out = "";
    try {
      s.git(["commit", "-q", "-m", "deploy env"]);
    } catch (e) {
      out = String((e as { stderr?: unknown }).stderr ?? e) + String((e as { stdout?: unknown }).stdout ?? "");
    }
    expect(out).toContain("error plaintext-credential deploy/k8s/.env.production");
    expect(out).not.toContain(PLAIN);
    expect(s.git(["log", "--format=%s", "-1"]).trim()).toBe("setup");
    // unstaged (kept on disk, ignored): the commit goes through
    s.git(["rm", "-q", "--cached", "deploy/k8s/.env.production"]);
    s.write(".gitignore", ".env.production\n");
    s.git(["add", ".gitignore"]);
    expect(await preCommit(s)).toMatchObject({ code: 0, stdout: "" });
    s.git(["commit", "-q", "-m", "ignore it"]);
  });

  it("prints a staged name's control characters escaped, never raw", async () => {
    const s = await project();
    const text = s.read("secrets/staging.enc.yaml");
    // a hand-edited file: a name holding an escape sequence and a C1 control (an error: invalid-secret-name, stale-mac)
    s.write("secrets/staging.enc.yaml", text.replace(/^stripe_api_key: /m, '"evil\\e[2J\\u009bname": '));
    s.git(["add", "-A"]);
    const r = await preCommit(s);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("evil\\x1b[2J\\x9bname");
    expect(r.stdout + r.stderr).not.toMatch(/[\u001b\u009b]/);
  });

  it("passes while stellar.yaml is not staged, and refuses arguments", async () => {
    const s = createSandbox();
    sandboxes.push(s);
    s.env.SOPS_AGE_KEY_FILE = s.keygen("alice").file;
    expect((await s.run(["init", "--env", "production"])).code).toBe(0);
    const r = await preCommit(s);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("stellar.yaml is not staged");
    expect((await s.run(["pre-commit", "extra"])).code).toBe(2);
  });
});

describe(".pre-commit-hooks.yaml", () => {
  it("offers stellar-secrets-check, which runs this command on the whole staged state", () => {
    const hooks = parse(readFileSync(join(REPO_ROOT, ".pre-commit-hooks.yaml"), "utf8")) as Record<string, unknown>[];
    const hook = hooks.find((h) => h.id === "stellar-secrets-check");
    expect(hook).toMatchObject({ entry: "stellar-secrets pre-commit", language: "system", pass_filenames: false, always_run: true });
    expect(Object.hasOwn(COMMANDS, String(hook?.entry).split(" ")[1])).toBe(true);
  });

  it("an environment file only partly staged (`git add -p` of the value line, not the mac): refused as stale-mac, and told to stage it whole, not to restore it", async () => {
    const s = await project();
    const file = "secrets/production.enc.yaml";
    const committed = s.read(file);
    expect((await s.run(["set", "stripe_api_key", "--env", "production", "--from-stdin"], { input: "sk_test_NEW" })).code).toBe(0);
    const written = s.read(file);
    // what `git add -p` stages when only the value's hunk is taken: the new ENC line under the committed mac
    const valueLine = written.split("\n").find((l) => l.startsWith("stripe_api_key:")) as string;
    s.write(file, committed.replace(/^stripe_api_key:.*$/m, valueLine));
    s.git(["add", file]);
    s.write(file, written);
    const r = await preCommit(s);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("error stale-mac");
    expect(r.stderr).toContain(`${file} is only partly staged`);
    expect(r.stderr).toContain(`stage it whole with \`git add ${file}\``);
    // staged whole: nothing to say
    s.git(["add", file]);
    const whole = await preCommit(s);
    expect(whole.code, whole.stdout + whole.stderr).toBe(0);
    // a hand edit staged as it is in the working tree (no newer write beside it): no such note
    s.write(file, committed.replace(/^stripe_api_key:.*$/m, valueLine));
    s.git(["add", file]);
    const hand = await preCommit(s);
    expect(hand.code).toBe(1);
    expect(hand.stderr).not.toContain("partly staged");
  });

  it("`git am` of a format-patch that adds a plaintext value: git runs no pre-commit hook for it, the pre-applypatch hook that git setup installs refuses it", async () => {
    const s = await project();
    expect((await s.run(["git", "setup"])).code).toBe(0);
    expect(s.read(".git/hooks/pre-applypatch")).toMatch(/\nSTELLAR_SECRETS_HOOK=pre-applypatch\nexport STELLAR_SECRETS_HOOK\n.*stellar-secrets\.js pre-commit "\$@"\n$/s);
    s.commit("setup");
    s.git(["checkout", "-q", "-b", "contributor"]);
    const file = "secrets/production.enc.yaml";
    s.write(file, s.read(file).replace(/^stripe_api_key:.*$/m, `stripe_api_key: ${PLAIN}`));
    s.git(["add", file]);
    s.git(["commit", "-q", "--no-verify", "-m", "paste the key"]);
    s.write("plain.patch", s.git(["format-patch", "-1", "--stdout"]));
    s.git(["checkout", "-q", "main"]);
    const head = s.git(["rev-parse", "HEAD"]).trim();
    let out = "";
    try {
      s.git(["am", "plain.patch"]);
    } catch (e) {
      out = String((e as { stderr?: unknown }).stderr ?? e) + String((e as { stdout?: unknown }).stdout ?? "");
    }
    expect(s.git(["rev-parse", "HEAD"]).trim()).toBe(head);
    expect(out).toContain("error unencrypted-secrets-file");
    expect(out).toContain("in the patch `git am` applied: not committed");
    expect(out).toContain("`git am --no-verify` skips this check");
    expect(out).not.toContain(PLAIN);
    s.git(["am", "--abort"]);
  });
});
