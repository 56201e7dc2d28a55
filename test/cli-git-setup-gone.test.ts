/**
 * `git setup` after the CLI it was run with is gone (reinstalled elsewhere, nvm switched node, the
 * global package removed): the hooks and the git config entries it wrote name that CLI by absolute
 * paths. Each says what is gone, where, and how to fix it, with a non-zero exit, where it died with
 * sh's "not found" or node's "Cannot find module" stack trace. Real git, a real copy of the
 * installed CLI (its bin and bundles) that the test removes.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { shellWord } from "../packages/core/src/shell.js";
import { hookScript, mergeDriverCommand, mergeHookScript, textconvCommand } from "../packages/cli/src/commands/git.js";
import { aliceProject, REPO_ROOT, sandboxesCleanedAfterEach, tryGit, type Sandbox } from "./helpers/cli.js";

vi.setConfig({ testTimeout: 180_000 });

const sandboxes = sandboxesCleanedAfterEach();

/** A copy of the built CLI as a package install holds it (bin, bundles), in `dir`: its bin script. */
function installCopy(dir: string): string {
  mkdirSync(join(dir, "dist"), { recursive: true });
  cpSync(join(REPO_ROOT, "packages/cli/bin"), join(dir, "bin"), { recursive: true });
  cpSync(join(REPO_ROOT, "packages/cli/dist/bundle"), join(dir, "dist/bundle"), { recursive: true });
  cpSync(join(REPO_ROOT, "packages/cli/package.json"), join(dir, "package.json"));
  return join(dir, "bin", "stellar-secrets.js");
}

/** Runs the CLI at `bin` in the sandbox's repository (exit status and output; never throws). */
function runAt(s: Sandbox, bin: string, args: string[]): { code: number; out: string } {
  try {
    const out = execFileSync(process.execPath, [bin, ...args], { cwd: s.repo, env: s.env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return { code: 0, out };
  } catch (e) {
    const err = e as { status?: number; stdout?: string; stderr?: string };
    return { code: err.status ?? -1, out: `${err.stdout ?? ""}${err.stderr ?? ""}` };
  }
}

describe("git setup's hooks, merge driver and textconv when the CLI they name is gone", () => {
  it("say what is gone, where, and to run git setup again, and refuse (commit, merge, diff); git setup again fixes them", async () => {
    const { s } = await aliceProject(sandboxes, "production", [["stripe_api_key", "production", "sk_live_BASE"]]);
    const old = installCopy(join(s.dir, "old-install"));
    const setup = runAt(s, old, ["git", "setup"]);
    expect(setup.code, setup.out).toBe(0);
    s.commit("base");
    s.git(["checkout", "-q", "-b", "feature"]);
    expect((await s.run(["set", "hubspot_api_token", "--env", "production", "--from-stdin"], { input: "hs_FEATURE" })).code).toBe(0);
    s.commit("feature adds hubspot");
    s.git(["checkout", "-q", "main"]);
    expect((await s.run(["set", "openai_api_key", "--env", "production", "--from-stdin"], { input: "sk-MAIN" })).code).toBe(0);
    s.commit("main adds openai");

    rmSync(join(s.dir, "old-install"), { recursive: true, force: true });

    // the pre-commit hook
    s.write("connectors/stripe.yaml", "kind: auth_connector\nname: stripe\ntype: bearer_token\ntoken: { secret: stripe_api_key }\n");
    s.git(["add", "-A"]);
    const before = s.git(["rev-parse", "HEAD"]).trim();
    const commit = tryGit(s, ["commit", "-q", "-m", "stripe"]);
    expect(commit.ok).toBe(false);
    expect(commit.out).toContain("stellar-secrets: the pre-commit hook cannot run: the stellar-secrets CLI that git setup configured here is gone");
    expect(commit.out).toContain(`no file ${old}`);
    expect(commit.out).toContain("run 'stellar-secrets git setup' in this repository with the CLI you use now");
    expect(commit.out).not.toMatch(/Cannot find module|not found|    at /);
    expect(s.git(["rev-parse", "HEAD"]).trim()).toBe(before);
    s.git(["commit", "-q", "--no-verify", "-m", "stripe"]);

    // textconv: git diff of an environment file
    s.write("secrets/production.enc.yaml", `${s.read("secrets/production.enc.yaml")}# edited\n`);
    const diff = tryGit(s, ["diff"]);
    expect(diff.ok).toBe(false);
    expect(diff.out).toContain("stellar-secrets: the git diff view (diff.stellar.textconv) cannot run");
    expect(diff.out).toContain(`no file ${old}`);
    expect(diff.out).not.toMatch(/Cannot find module|    at /);
    s.git(["checkout", "--", "secrets/production.enc.yaml"]);

    // the merge driver: git reports a conflict; the driver's message says why and what to do
    const merge = tryGit(s, ["merge", "--no-edit", "feature"]);
    expect(merge.ok).toBe(false);
    expect(merge.out).toContain("stellar-secrets: the merge driver (merge.stellar.driver) cannot run");
    expect(merge.out).toContain(`no file ${old}`);
    expect(merge.out).toContain("then merge again (git merge --abort");
    expect(merge.out).not.toMatch(/Cannot find module|    at /);
    s.git(["merge", "--abort"]);

    // git setup --check names what is missing; git setup with the CLI in use fixes all three
    expect((await s.run(["git", "setup", "--check"])).code).toBe(1);
    expect((await s.run(["git", "setup"])).code).toBe(0);
    expect(tryGit(s, ["merge", "--no-edit", "feature"]).ok).toBe(true);
    s.write("connectors/stripe.yaml", `${s.read("connectors/stripe.yaml")}# reviewed\n`);
    s.git(["add", "-A"]);
    expect(tryGit(s, ["commit", "-q", "-m", "reviewed"]).ok).toBe(true);
  });

  it("name node when node is gone (nvm switched), in each hook and config entry", () => {
    const cli = `${shellWord("/gone/node")} ${shellWord(join(REPO_ROOT, "packages/cli/bin/stellar-secrets.js"))}`;
    const tmp = execFileSync("mktemp", ["-d"], { encoding: "utf8" }).trim();
    try {
      const cases: Array<[string, string, string[]]> = [
        ["hook", hookScript(cli), []],
        ["merge hook", mergeHookScript(cli), []],
        // git expands %O %A %B %P before sh runs a merge driver, and appends the file to textconv's
        ["merge driver", `#!/bin/sh\n${mergeDriverCommand(cli).replace(/%([OABP])/g, "$1")}\n`, []],
        ["textconv", `#!/bin/sh\n${textconvCommand(cli)} "$@"\n`, ["secrets/production.enc.yaml"]],
      ];
      for (const [label, script, args] of cases) {
        const file = join(tmp, "script");
        writeFileSync(file, script);
        chmodSync(file, 0o755);
        let code = 0;
        let stderr = "";
        try {
          execFileSync(file, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        } catch (e) {
          code = (e as { status: number }).status;
          stderr = (e as { stderr: string }).stderr;
        }
        expect(code, label).toBe(1);
        expect(stderr, label).toContain("no file /gone/node");
        expect(stderr, label).toContain("run 'stellar-secrets git setup' in this repository");
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
