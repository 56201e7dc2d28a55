import { readerWording, stateFromFiles } from "@stellar-secrets/core";
import { encryptSecrets, generateIdentity } from "@stellar-secrets/sops";
import { describe, expect, it } from "vitest";
import { blockingErrors, unresolvedMergeError } from "./pre-commit.js";

describe("blockingErrors", () => {
  it("names a file with git conflict markers once (stale-mac at the first marker), and a plaintext file even with unencrypted-secrets-file off", async () => {
    const alice = await generateIdentity(); // TEST-ONLY
    const project = `version: 1\nenvironments:\n  staging:\n    members:\n      alice: ${alice.recipient}\n  production:\n    members:\n      alice: ${alice.recipient}\n`;
    const lines = (await encryptSecrets(new Map([["stripe_key", "TEST-ONLY-1"]]), { recipients: [alice.recipient] })).split("\n");
    const conflicted = ["<<<<<<< HEAD", lines[0], "=======", lines[0], ">>>>>>> feature", ...lines.slice(1)].join("\n");
    const state = (stellar: string) =>
      stateFromFiles("staged", undefined, "/p", new Map([["stellar.yaml", stellar], ["secrets/staging.enc.yaml", conflicted], ["secrets/production.enc.yaml", "stripe_key: TEST-ONLY-plain\n"]]));
    const found = (stellar: string) => blockingErrors(state(stellar)).map((d) => `${d.file}:${d.line} ${d.rule}`);
    expect(found(project).filter((d) => d.startsWith("secrets/staging"))).toEqual(["secrets/staging.enc.yaml:1 stale-mac"]);
    expect(found(`${project}rules:\n  unencrypted-secrets-file: "off"\n`)).toContain("secrets/production.enc.yaml:1 unencrypted-secrets-file");
  });
});

describe("unresolvedMergeError", () => {
  const outer = readerWording("/r", "/r", true); // git runs the hook at the top of the work tree
  const labs = readerWording("/r/teams/labs", "/r", false);

  it("words a nested project's resolve commands for that project ((cd DIR && stellar-secrets resolve ...)), git add from the current directory", () => {
    const e = unresolvedMergeError(
      [
        { file: "secrets/staging.enc.yaml", path: "secrets/staging.enc.yaml", environment: "staging", names: ["stripe_key"], words: outer },
        { file: "teams/labs/secrets/staging.enc.yaml", path: "secrets/staging.enc.yaml", environment: "staging", names: ["labs_token"], words: labs },
        { file: "teams/labs/secrets/production.enc.yaml", path: "secrets/production.enc.yaml", environment: "production", names: [], whole: { reason: "recipients", code: "MERGE_CONFLICT", members: [] }, words: labs },
      ],
      outer,
      0,
      "git commit --no-verify",
    );
    expect(e.code).toBe("UNRESOLVED_MERGE");
    expect(e.message).toContain("not resolved in the staged secrets/staging.enc.yaml (stripe_key) and teams/labs/secrets/staging.enc.yaml (labs_token)");
    expect(e.hint).toContain(
      "finish with: `stellar-secrets resolve stripe_key --env staging --ours|--theirs|--from-stdin`; `git add secrets/staging.enc.yaml`; " +
        "`(cd teams/labs && stellar-secrets resolve labs_token --env staging --ours|--theirs|--from-stdin)`; `git add teams/labs/secrets/staging.enc.yaml`",
    );
    expect(e.hint).toContain(
      "teams/labs/secrets/production.enc.yaml: keep one side whole with `(cd teams/labs && stellar-secrets resolve --env production --ours|--theirs)` (the other side's changes to teams/labs/secrets/production.enc.yaml are then lost), then `git add teams/labs/secrets/production.enc.yaml`",
    );
    expect(e.hint).not.toMatch(/`stellar-secrets resolve labs_token/);
  });

  it("run inside the nested project, its commands need no cd and its paths are relative to there", () => {
    const here = readerWording("/r/teams/labs", "/r/teams/labs", true);
    const fromHere = readerWording("/r", "/r/teams/labs", false);
    const e = unresolvedMergeError([{ file: "teams/labs/secrets/staging.enc.yaml", path: "secrets/staging.enc.yaml", environment: "staging", names: ["labs_token"], words: here }], fromHere, 1, "git commit --no-verify");
    expect(e.hint).toContain("finish with: `stellar-secrets resolve labs_token --env staging --ours|--theirs|--from-stdin`; `git add secrets/staging.enc.yaml`");
    expect(e.message).toContain("(and 1 other error above)");
  });
});
