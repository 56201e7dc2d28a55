/**
 * `git revert` of a rotation (`members rm`, `rotate-key`) with nothing changed since: git restores
 * the old environment file byte for byte, no merge driver runs, and git runs no pre-commit hook for
 * the commit `git revert` makes. The file is then under the data key the rotation retired, which the
 * removed member holds (or, after a plain `rotate-key`, whoever the rotation shut out). `stale` (keyless) reports every value of it (`retired-key-back`, exit 1)
 * until `rotate-key` gives the file a new data key, and the pre-commit hook refuses it when it does
 * run (`git revert -n` then `git commit`, `git checkout OLD -- FILE`). Before, both said nothing.
 */
import { describe, expect, it, vi } from "vitest";
import { aliceProject, sandboxesCleanedAfterEach, tryGit } from "./helpers/cli.js";

vi.setConfig({ testTimeout: 180_000 });

const sandboxes = sandboxesCleanedAfterEach();

describe("git revert of rotate-key", () => {
  it("stale reports retired-key-back for every value (naming the rotation's commit) until rotate-key; check has nothing to say (the recipients are the members)", async () => {
    const { s } = await aliceProject(sandboxes, "production", [
      ["stripe_api_key", "production", "sk_live_BASE"],
      ["hubspot_api_token", "production", "hs_BASE"],
    ]);
    const bob = s.keygen("bob");
    expect((await s.run(["members", "add", "bob", bob.recipient, "--env", "production"])).code).toBe(0);
    expect((await s.run(["git", "setup"])).code).toBe(0);
    s.commit("base");
    expect((await s.run(["rotate-key", "--env", "production"])).code).toBe(0);
    // (a rotation shares no ciphertext with HEAD's file: the hook looks in history, and lets it through)
    const rotation = s.commit("rotate-key after a suspected leak");
    expect((await s.run(["stale"])).code).toBe(0);
    // git revert -n, then git commit: the pre-commit hook runs, and refuses the retired key
    s.git(["revert", "-n", "HEAD"]);
    const hook = tryGit(s, ["commit", "-m", "revert the rotation"]);
    expect(hook.ok).toBe(false);
    expect(hook.out).toContain(`error retired-key-back secrets/production.enc.yaml is staged under the data key that commit ${rotation.slice(0, 10)}`);
    expect(hook.out).toContain("stellar-secrets rotate-key --env production");
    s.git(["reset", "-q", "--hard", "HEAD"]);
    // git revert commits by itself, and git runs no pre-commit hook for that commit: stale says it
    s.git(["revert", "--no-edit", "HEAD"]);
    const json = await s.run(["stale", "--json", "--no-decrypt"]);
    expect(json.code, json.stderr).toBe(1);
    const stale = JSON.parse(json.stdout).stale as { name: string; compromised: { kind: string; commit: string; formerRecipients: string[] } | null }[];
    expect(stale.map((r) => r.name).sort()).toEqual(["hubspot_api_token", "stripe_api_key"]);
    for (const r of stale) expect(r.compromised).toMatchObject({ kind: "retired-key-back", commit: rotation, formerRecipients: [] });
    const text = await s.run(["stale"]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`retired-key-back: the file is encrypted under the data key that commit ${rotation.slice(0, 10)}`);
    expect(text.stdout).toContain("stellar-secrets rotate-key --env production");
    expect(text.stdout).not.toContain("sk_live_BASE");
    expect((await s.run(["check", "--max-warnings", "100"])).code).toBe(0);
    // a new data key: nothing retired any more
    expect((await s.run(["rotate-key", "--env", "production"])).code).toBe(0);
    s.commit("rotate again");
    const after = await s.run(["stale"]);
    expect(after.code, after.stdout).toBe(0);
  });
});
