/**
 * `check` and the pre-commit hook of a project in a subfolder of its repository (`infra/`) read the
 * `.gitattributes` and `.sops.yaml` of the folders above the project root, as git and plain sops do
 * and as `review` does: real git repositories, the built CLI as a child process, test-only age keys
 * made in each sandbox. No key is used by the checks themselves.
 */
import { renameSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { createSandbox, infraProject, type RunResult, type Sandbox, sandboxesCleanedAfterEach } from "./helpers/cli.js";

vi.setConfig({ testTimeout: 180_000 });

const sandboxes = sandboxesCleanedAfterEach();

const VALUE = "sk_live_PARITYtest0001aaaa";
const STRIPE = "kind: auth_connector\nname: stripe\ntype: bearer_token\ntoken: { secret: stripe_api_key }\n";

interface JsonDiagnostic {
  rule: string;
  severity: string;
  file: string;
  line: number;
  message: string;
}

/** A project in the repository's subfolder `infra` (production only, `git setup` run there: infra/.gitattributes), committed. */
async function subfolderProject(): Promise<{ s: Sandbox; infra: string }> {
  const s = createSandbox();
  sandboxes.push(s);
  const infra = await infraProject(s, VALUE);
  expect((await s.run(["git", "setup"], { cwd: infra })).code).toBe(0);
  s.write("infra/connectors/stripe.yaml", STRIPE);
  s.write("README.md", "monorepo\n");
  s.commit("base");
  return { s, infra };
}

/** `check --json` in `cwd`, keyless, checked for the value in its output. */
async function check(s: Sandbox, cwd: string, args: string[] = ["--json"]): Promise<RunResult & { diagnostics: JsonDiagnostic[] }> {
  const r = await s.run(["check", ...args], { cwd, env: { SOPS_AGE_KEY_FILE: undefined, SOPS_AGE_KEY: undefined } });
  expect([0, 1], r.stderr).toContain(r.code);
  expect(r.stdout + r.stderr).not.toContain(VALUE);
  const diagnostics = args.includes("--json") ? (JSON.parse(r.stdout) as { diagnostics: JsonDiagnostic[] }).diagnostics : [];
  return { ...r, diagnostics };
}

describe("check of a project in a subfolder reads the files above its root", () => {
  it("reports a top-level .gitattributes that rewrites the environment files on checkout (filter=lfs), at ../.gitattributes", async () => {
    const { s, infra } = await subfolderProject();
    expect((await check(s, infra)).code).toBe(0);
    s.write(".gitattributes", "*.png binary\ninfra/secrets/*.enc.yaml filter=lfs\n");
    const r = await check(s, infra);
    expect(r.code).toBe(1);
    expect(r.diagnostics.map((d) => [d.rule, d.severity, d.file, d.line])).toEqual([["git-attributes", "error", "../.gitattributes", 2]]);
    expect(r.diagnostics[0]?.message).toContain("gives secrets/production.enc.yaml filter=lfs");
    expect(r.diagnostics[0]?.message).toContain("above the project root");
    // the text output points at the file where it is, from the current folder (git's words)
    const text = await check(s, infra, []);
    expect(text.stdout).toMatch(/^\.\.\/\.gitattributes:2:1: error git-attributes /m);
    const fromTop = await check(s, s.repo, ["infra"]);
    expect(fromTop.stdout).toMatch(/^\.gitattributes:2:1: error git-attributes /m);
    // an honest line above the root (not about the project's files) is no problem
    s.write(".gitattributes", "*.png binary\n");
    expect((await check(s, infra)).code).toBe(0);
  });

  it("reads [attr] macros only from the top's .gitattributes, as git does: one defined there takes the files off the merge driver", async () => {
    const { s, infra } = await subfolderProject();
    s.write(".gitattributes", "[attr]stellar-files -merge\n");
    s.write("infra/.gitattributes", `${s.read("infra/.gitattributes")}secrets/*.enc.yaml stellar-files\n`);
    const r = await check(s, infra);
    expect(r.code).toBe(1);
    const lines = s.read("infra/.gitattributes").split("\n");
    expect(r.diagnostics.map((d) => [d.rule, d.file, d.line])).toEqual([["git-attributes", ".gitattributes", lines.indexOf("secrets/*.enc.yaml stellar-files") + 1]]);
    expect(r.diagnostics[0]?.message).toContain("off the stellar-secrets merge driver (merge=stellar; git gives it -merge)");
    // the same macro defined in infra's own file is not read by git: the line sets nothing, merge=stellar stands
    s.write(".gitattributes", "*.png binary\n");
    s.write("infra/.gitattributes", `[attr]stellar-files -merge\n${s.read("infra/.gitattributes")}`);
    expect((await check(s, infra)).code).toBe(0);
  });

  it("reports a top-level .sops.yaml (or a lone .SOPS.yaml) whose rule gives an outsider the project's files, at the file above the root", async () => {
    const { s, infra } = await subfolderProject();
    const mallory = s.keygen("mallory");
    s.write(".sops.yaml", `creation_rules:\n  - age: ${mallory.recipient}\n`);
    const r = await check(s, infra);
    expect(r.code).toBe(1);
    expect(r.diagnostics.map((d) => [d.rule, d.severity, d.file, d.line])).toEqual([["sops-config-drift", "error", "../.sops.yaml", 2]]);
    expect(r.diagnostics[0]?.message).toContain(mallory.recipient);
    expect(r.diagnostics[0]?.message).toContain("above the project root");
    expect(r.diagnostics[0]?.message).toContain("sops updatekeys infra/secrets/ENV.enc.yaml");
    // a case-insensitive checkout (macOS, Windows) opens a lone .SOPS.yaml as .sops.yaml
    renameSync(join(s.repo, ".sops.yaml"), join(s.repo, ".SOPS.yaml"));
    const variant = await check(s, infra);
    expect(variant.diagnostics.map((d) => [d.rule, d.file, d.line])).toEqual([["sops-config-drift", "../.SOPS.yaml", 2]]);
    // rules that name exactly the members are fine there
    unlinkSync(join(s.repo, ".SOPS.yaml"));
    s.write(".sops.yaml", s.read("infra/.sops.yaml"));
    expect((await check(s, infra)).code).toBe(0);
    // and so is a rule for other files only (no warning about rules that match none of the project's)
    s.write(".sops.yaml", `creation_rules:\n  - path_regex: ^k8s/.*\\.enc\\.yaml$\n    age: ${mallory.recipient}\n`);
    const other = await check(s, infra);
    expect([other.code, other.diagnostics]).toEqual([0, []]);
  });

  it("follows a .sops.yaml above the root that is a symbolic link, as sops does", async () => {
    const { s, infra } = await subfolderProject();
    const mallory = s.keygen("mallory");
    s.write("config/sops.yaml", `creation_rules:\n  - age: ${mallory.recipient}\n`);
    symlinkSync("config/sops.yaml", join(s.repo, ".sops.yaml"));
    const r = await check(s, infra);
    expect(r.diagnostics.map((d) => [d.rule, d.file])).toEqual([["sops-config-drift", "../.sops.yaml"]]);
  });

  it("reads nothing above the root outside a git repository", async () => {
    const s = createSandbox({ gitInit: false });
    sandboxes.push(s);
    const infra = await infraProject(s, VALUE);
    const mallory = s.keygen("mallory");
    s.write(".sops.yaml", `creation_rules:\n  - age: ${mallory.recipient}\n`);
    s.write(".gitattributes", "infra/secrets/*.enc.yaml filter=lfs\n");
    s.write("infra/connectors/stripe.yaml", STRIPE);
    const r = await check(s, infra);
    expect([r.code, r.diagnostics]).toEqual([0, []]);
  });

  it("pre-commit refuses a staged top-level .gitattributes or .sops.yaml that check reports, naming the file from the top", async () => {
    const { s, infra } = await subfolderProject();
    s.write(".gitattributes", "infra/secrets/*.enc.yaml filter=lfs\n");
    s.git(["add", ".gitattributes"]);
    const r = await s.run(["pre-commit"], { env: { SOPS_AGE_KEY_FILE: undefined } });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^\.gitattributes:1:1: error git-attributes \.gitattributes gives infra\/secrets\/production\.enc\.yaml filter=lfs/m);
    // what is only in the working tree does not count: the staged file does
    s.git(["rm", "-q", "--cached", ".gitattributes"]);
    expect((await s.run(["pre-commit"])).code).toBe(0);
    const mallory = s.keygen("mallory");
    s.write(".sops.yaml", `creation_rules:\n  - age: ${mallory.recipient}\n`);
    s.git(["add", ".sops.yaml"]);
    const sops = await s.run(["pre-commit"]);
    expect(sops.code, sops.stderr).toBe(1);
    expect(sops.stdout).toMatch(/^\.sops\.yaml:2:\d+: error sops-config-drift /m);
    expect(sops.stdout).toContain(mallory.recipient);
    void infra;
  });

  it("pre-commit reads the staged files above the root that check reads: case variants, and a .sops.yaml link at its staged target", async () => {
    const { s } = await subfolderProject();
    const hook = (): Promise<RunResult> => s.run(["pre-commit"], { env: { SOPS_AGE_KEY_FILE: undefined } });
    // .GitAttributes: a case-insensitive checkout (macOS, Windows) opens it as .gitattributes
    s.write(".GitAttributes", "infra/secrets/*.enc.yaml filter=lfs\n");
    s.git(["add", ".GitAttributes"]);
    const variant = await hook();
    expect(variant.code, variant.stderr).toBe(1);
    expect(variant.stdout).toMatch(/^\.GitAttributes:1:1: error git-attributes \.GitAttributes gives infra\/secrets\/production\.enc\.yaml filter=lfs/m);
    expect((await check(s, join(s.repo, "infra"))).diagnostics.map((d) => [d.rule, d.file])).toEqual([["git-attributes", "../.GitAttributes"]]);
    s.git(["rm", "-q", "--cached", ".GitAttributes"]);
    unlinkSync(join(s.repo, ".GitAttributes"));
    expect((await hook()).code).toBe(0);
    // a lone .SOPS.yaml in a folder between the top and the root (the project one folder deeper)
    const mallory = s.keygen("mallory");
    s.write(".SOPS.yaml", `creation_rules:\n  - age: ${mallory.recipient}\n`);
    s.git(["add", ".SOPS.yaml"]);
    const lone = await hook();
    expect(lone.code, lone.stderr).toBe(1);
    expect(lone.stdout).toMatch(/^\.SOPS\.yaml:2:\d+: error sops-config-drift /m);
    s.git(["rm", "-q", "--cached", ".SOPS.yaml"]);
    unlinkSync(join(s.repo, ".SOPS.yaml"));
    // a .sops.yaml link: read at its target as staged (sops follows it), not as the working tree holds it
    s.write("config/sops.yaml", `creation_rules:\n  - age: ${mallory.recipient}\n`);
    symlinkSync("config/sops.yaml", join(s.repo, ".sops.yaml"));
    s.git(["add", ".sops.yaml", "config/sops.yaml"]);
    const link = await hook();
    expect(link.code, link.stderr).toBe(1);
    expect(link.stdout).toMatch(/^\.sops\.yaml:2:\d+: error sops-config-drift /m);
    expect(link.stdout).toContain(mallory.recipient);
    s.write("config/sops.yaml", s.read("infra/.sops.yaml"));
    expect((await hook()).code).toBe(1);
    s.git(["add", "config/sops.yaml"]);
    expect((await hook()).code).toBe(0);
  });

  it("refuses a .sops.yaml above the root that is a symbolic link out of the repository, in check and in the hook alike (git holds no target: each clone's sops reads its own)", async () => {
    const { s, infra } = await subfolderProject();
    const mallory = s.keygen("mallory");
    const outside = join(s.dir, "elsewhere-sops.yaml");
    writeFileSync(outside, `creation_rules:\n  - age: ${mallory.recipient}\n`);
    symlinkSync(outside, join(s.repo, ".sops.yaml"));
    const r = await check(s, infra);
    expect(r.code).toBe(1);
    expect(r.diagnostics.map((d) => [d.rule, d.severity, d.file, d.line])).toEqual([["sops-config-drift", "error", "../.sops.yaml", 1]]);
    expect(r.diagnostics[0]?.message).toContain("outside the repository");
    expect(r.diagnostics[0]?.message).toContain("STELLAR_SECRETS_ALLOW_OUTSIDE_LINKS=1");
    // the same link staged: the hook refuses it the same way (it read nothing before, and passed)
    s.git(["add", ".sops.yaml"]);
    const hook = await s.run(["pre-commit"], { env: { SOPS_AGE_KEY_FILE: undefined } });
    expect(hook.code, hook.stderr).toBe(1);
    expect(hook.stdout).toMatch(/^\.sops\.yaml:1:1: error sops-config-drift .*outside the repository/m);
    // followed on purpose: both read the target (it names mallory: still refused, for that)
    const allowed = { SOPS_AGE_KEY_FILE: undefined, STELLAR_SECRETS_ALLOW_OUTSIDE_LINKS: "1" };
    const followedCheck = await s.run(["check", "--json"], { cwd: infra, env: allowed });
    expect((JSON.parse(followedCheck.stdout) as { diagnostics: JsonDiagnostic[] }).diagnostics.map((d) => [d.rule, d.file, d.line])).toEqual([["sops-config-drift", "../.sops.yaml", 2]]);
    const followedHook = await s.run(["pre-commit"], { env: allowed });
    expect(followedHook.code).toBe(1);
    expect(followedHook.stdout).toMatch(/^\.sops\.yaml:2:\d+: error sops-config-drift /m);
    expect(followedHook.stdout).toContain(mallory.recipient);
    // and a target that names exactly the members passes both
    writeFileSync(outside, s.read("infra/.sops.yaml"));
    expect((await s.run(["check"], { cwd: infra, env: allowed })).code).toBe(0);
    expect((await s.run(["pre-commit"], { env: allowed })).code).toBe(0);
  });
});
