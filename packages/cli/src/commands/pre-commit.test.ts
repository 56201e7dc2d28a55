import { stateFromFiles } from "@stellar-secrets/core";
import { encryptSecrets, generateIdentity } from "@stellar-secrets/sops";
import { describe, expect, it } from "vitest";
import { blockingErrors } from "./pre-commit.js";

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
