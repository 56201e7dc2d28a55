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
  environments: { environment: string; exposedDuring?: { member?: string; commit: string; secrets: string[] }[] }[];
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
});
