/**
 * A sparse checkout that leaves the secrets folder out (`git sparse-checkout set agents/`): git
 * keeps the environment files in its index (skip-worktree), the work tree lacks them. Before, `set`
 * wrote a new file there holding only its value (git 2.37+ takes it as a change: the next
 * `git commit -a` dropped every other secret), `members rm` changed stellar.yaml and re-keyed
 * nothing ("no secrets file yet"), and `get`/`list`/`check` said the file or folder was missing.
 * Each now refuses with NOT_FOUND naming the sparse checkout and `git sparse-checkout add`; `history`
 * (which reads git) no longer shows such a file as removed in the working tree.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { aliceProject, sandboxesCleanedAfterEach } from "./helpers/cli.js";

vi.setConfig({ testTimeout: 180_000 });

const sandboxes = sandboxesCleanedAfterEach();

describe("sparse checkout without the secrets folder", () => {
  it("set, members rm, rotate-key, get, list and check refuse (exit 4, nothing written) and say how to bring the folder in", async () => {
    const { s } = await aliceProject(sandboxes, "production", [
      ["stripe_api_key", "production", "sk_live_BASE"],
      ["hubspot_api_token", "production", "hs_BASE"],
    ]);
    const bob = s.keygen("bob");
    expect((await s.run(["members", "add", "bob", bob.recipient, "--env", "production"])).code).toBe(0);
    expect((await s.run(["git", "setup"])).code).toBe(0);
    s.write("agents/readme.txt", "agents\n");
    s.commit("base");
    s.git(["sparse-checkout", "set", "agents/"]);
    expect(existsSync(join(s.repo, "secrets"))).toBe(false);
    const project = s.read("stellar.yaml");
    const expectRefused = (r: { code: number | null; stderr: string }): void => {
      expect(r.code, r.stderr).toBe(4);
      expect(r.stderr).toContain("secrets/production.enc.yaml is outside this sparse checkout");
      expect(r.stderr).toContain("git sparse-checkout add secrets");
    };

    const set = await s.run(["set", "stripe_api_key", "--env", "production", "--from-stdin"], { input: "sk_live_NEW" });
    expectRefused(set);
    expect(existsSync(join(s.repo, "secrets/production.enc.yaml"))).toBe(false);
    const rm = await s.run(["members", "rm", "bob", "--env", "production"]);
    expectRefused(rm);
    expect(s.read("stellar.yaml")).toBe(project);
    expectRefused(await s.run(["rotate-key", "--env", "production"]));
    expectRefused(await s.run(["get", "stripe_api_key", "--env", "production"]));
    expectRefused(await s.run(["list"]));
    const check = await s.run(["check"]);
    expectRefused(check);
    expect(check.stdout).not.toContain("missing-secrets-dir");
    expect(s.git(["status", "--porcelain"])).toBe("");
    // history reads git: the file left out of the work tree is not "removed" there (it was, as an uncommitted change)
    const history = await s.run(["history", "stripe_api_key", "--env", "production", "--json"]);
    expect(history.code, history.stderr).toBe(0);
    expect((JSON.parse(history.stdout).events as { kind: string }[]).map((e) => e.kind)).toEqual(["added"]);

    // the folder brought back in: everything as committed
    s.git(["sparse-checkout", "add", "secrets"]);
    const list = await s.run(["list"]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/hubspot_api_token\s+set/);
    expect((await s.run(["get", "hubspot_api_token", "--env", "production"])).stdout).toBe("hs_BASE");
  });
});
