/**
 * `review` of a stale branch merged after a member was removed on main (real git, test-only age
 * keys made by age-keygen in each sandbox): the branch set a value while the removed member's
 * stanza was still in the file, then merged main (the merge driver re-encrypts under main's new
 * data key). What the review says of the removed member's access inside the change, and its exit
 * status. No value may appear in the output.
 */
import { describe, expect, it, vi } from "vitest";
import { aliceProject, sandboxesCleanedAfterEach } from "./helpers/cli.js";

vi.setConfig({ testTimeout: 180_000 });

const sandboxes = sandboxesCleanedAfterEach();
const VALUES = ["sk_live_STALEmerge0001", "openai_STALEmerge0002", "openai_STALEmerge0003"];

interface Report {
  problems: { kind: string; environment?: string; commit?: string; message: string }[];
  environments: { environment: string; exposedDuring?: { member?: string; commit: string; secrets: string[]; earlierPush?: true }[] }[];
  verification?: { verified: boolean; exposed?: { commit: string; compared: string[]; same: string[] }[] }[];
}

describe("review of a stale branch's merge", () => {
  it("a value the branch set while mallory's stanza was still in the file, merged after main removed her: unrotated-removal naming the commit (exit 1); --verify proves it, and clears it once the value is set anew", async () => {
    const { s, alice } = await aliceProject(sandboxes, "production", [["stripe_api_key", "production", VALUES[0]!]]);
    expect((await s.run(["git", "setup"])).code).toBe(0);
    const mallory = s.keygen("mallory");
    expect((await s.run(["members", "add", "mallory", mallory.recipient, "--env", "production"])).code).toBe(0);
    s.commit("base: mallory in production");
    s.git(["branch", "-M", "main"]);
    s.git(["checkout", "-q", "-b", "feature"]);
    expect((await s.run(["set", "openai_api_key", "--env", "production", "--from-stdin"], { input: VALUES[1]! })).code).toBe(0);
    const exposedAt = s.commit("feature: openai key");
    expect(exposedAt).not.toBe("");
    s.git(["checkout", "-q", "main"]);
    const rm = await s.run(["members", "rm", "mallory", "--env", "production"]);
    expect(rm.code, rm.stderr).toBe(0);
    s.commit("mallory leaves production");
    s.git(["checkout", "-q", "feature"]);
    s.git(["merge", "-q", "--no-edit", "main"]);
    const exposed = s.git(["rev-parse", "HEAD^1"]).trim();
    const review = async (args: string[], key?: string) => {
      const r = await s.run(["review", "main...feature", ...args], { env: { SOPS_AGE_KEY_FILE: key, SOPS_AGE_KEY: undefined } });
      for (const v of VALUES) expect(r.stdout + r.stderr).not.toContain(v);
      return r;
    };
    const keyless = await review(["--json"]);
    expect(keyless.code, keyless.stderr).toBe(1);
    const report = JSON.parse(keyless.stdout) as Report;
    expect(report.environments[0]?.exposedDuring).toMatchObject([{ member: "mallory", commit: exposed, secrets: ["openai_api_key", "stripe_api_key"] }]);
    expect(report.problems.map((p) => [p.kind, p.environment, p.commit])).toEqual([["unrotated-removal", "production", exposed]]);
    expect(report.problems[0]!.message).toContain(`mallory (${mallory.recipient}) is no member of production at the head, but the version of secrets/production.enc.yaml that commit ${exposed.slice(0, 10)} of this change wrote was wrapped for that key too, and held openai_api_key, which this change adds or changes`);
    // (stripe_api_key is the base's, re-encrypted: what mallory read as a member, not this change's)
    expect(report.problems[0]!.message).not.toContain("stripe_api_key");
    const text = await review([]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain("Problems (1):\n  ✗ secrets/production.enc.yaml: mallory (");
    expect(text.stdout).toContain("; 1 problem.");

    // with alice's key: the head's openai_api_key is that version's value, proven
    const verified = await review(["--verify", "--json"], alice.file);
    expect(verified.code, verified.stderr).toBe(1);
    const v = JSON.parse(verified.stdout) as Report;
    expect(v.verification?.[0]?.exposed).toEqual([{ commit: exposed, recipient: mallory.recipient, compared: ["openai_api_key", "stripe_api_key"], same: ["openai_api_key", "stripe_api_key"] }]);
    expect(v.problems.map((p) => [p.kind, p.commit])).toEqual([["unrotated-removal", exposed]]);
    expect(v.problems[0]!.message).toContain("and the head's openai_api_key is the value that version held (verified with your key)");

    // the value changed at its provider and set anew: keyless it cannot be told (still the problem), --verify clears it
    expect((await s.run(["set", "openai_api_key", "--env", "production", "--from-stdin"], { input: VALUES[2]! })).code).toBe(0);
    s.commit("feature: a new openai key");
    expect((await review(["--json"])).code).toBe(1);
    const cleared = await review(["--verify", "--json"], alice.file);
    expect(JSON.parse(cleared.stdout).problems).toEqual([]);
    expect(cleared.code, cleared.stderr).toBe(0);
  });

  it("the same branch rebased onto main and force-pushed: the range no longer holds the exposing commit (exit 0 without more); --previous-head with the earlier push's head reads it: unrotated-removal naming it (exit 1), --verify proves it; an unknown commit is exit 4", async () => {
    const { s, alice } = await aliceProject(sandboxes, "production", [["stripe_api_key", "production", VALUES[0]!]]);
    expect((await s.run(["git", "setup"])).code).toBe(0);
    const mallory = s.keygen("mallory");
    expect((await s.run(["members", "add", "mallory", mallory.recipient, "--env", "production"])).code).toBe(0);
    s.commit("base: mallory in production");
    s.git(["branch", "-M", "main"]);
    s.git(["checkout", "-q", "-b", "feature"]);
    expect((await s.run(["set", "openai_api_key", "--env", "production", "--from-stdin"], { input: VALUES[1]! })).code).toBe(0);
    const pushed = s.commit("feature: openai key");
    s.git(["checkout", "-q", "main"]);
    expect((await s.run(["members", "rm", "mallory", "--env", "production"])).code).toBe(0);
    s.commit("mallory leaves production");
    s.git(["checkout", "-q", "feature"]);
    // the first push was `pushed`; the branch is rebased onto main (the merge driver re-encrypts under main's data key) and force-pushed
    s.git(["rebase", "-q", "main"]);
    const rebased = s.git(["rev-parse", "HEAD"]).trim();
    expect(rebased).not.toBe(pushed);
    expect(s.git(["merge-base", "--is-ancestor", "main", "HEAD"]).trim()).toBe("");
    const review = async (args: string[], key?: string) => {
      const r = await s.run(["review", "main...feature", ...args], { env: { SOPS_AGE_KEY_FILE: key, SOPS_AGE_KEY: undefined } });
      for (const v of VALUES) expect(r.stdout + r.stderr).not.toContain(v);
      return r;
    };
    // the limit: nothing in the rebased range was wrapped for mallory
    const blind = await review(["--json"]);
    expect(blind.code, blind.stderr).toBe(0);
    // the pull request event's `before`: the earlier push (and a first push's all zeros, skipped)
    const withEarlier = await review(["--json", "--previous-head", pushed, "--previous-head", "0".repeat(40)]);
    expect(withEarlier.code, withEarlier.stderr).toBe(1);
    const report = JSON.parse(withEarlier.stdout) as Report;
    expect(report.environments[0]?.exposedDuring).toMatchObject([{ member: "mallory", commit: pushed, secrets: ["openai_api_key", "stripe_api_key"], earlierPush: true }]);
    expect(report.problems.map((p) => [p.kind, p.environment, p.commit])).toEqual([["unrotated-removal", "production", pushed]]);
    expect(report.problems[0]!.message).toContain(`that commit ${pushed.slice(0, 10)} of an earlier push of this change (given with --previous-head; the range no longer holds it: the branch was rewritten) wrote was wrapped for that key too, and held openai_api_key`);
    expect(report.problems[0]!.message).toContain("which was pushed, and a force-push does not take it back");
    const text = await review(["--previous-head", pushed]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`was a recipient of the file in commit ${pushed.slice(0, 10)} of an earlier push of this change (no longer in the range)`);
    // with alice's key: that version's openai_api_key is the head's
    const verified = await review(["--verify", "--json", "--previous-head", pushed], alice.file);
    expect(verified.code, verified.stderr).toBe(1);
    expect((JSON.parse(verified.stdout) as Report).verification?.[0]?.exposed).toEqual([{ commit: pushed, recipient: mallory.recipient, compared: ["openai_api_key", "stripe_api_key"], same: ["openai_api_key", "stripe_api_key"] }]);
    // a commit this clone does not have: said, exit 4, nothing reviewed; the working tree has no earlier push
    const missing = await review(["--previous-head", "f".repeat(40)]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain(`--previous-head "${"f".repeat(40)}" is not a commit of this repository`);
    expect(missing.stderr).toContain(`git fetch origin ${"f".repeat(40)}`);
    const tree = await s.run(["review", "--previous-head", pushed]);
    expect(tree.code).toBe(2);
  });
});
