/**
 * A hybrid post-quantum age key (`AGE-SECRET-KEY-PQ-1…`, `age1pq1…`) through the built CLI. Such a
 * key is no member of stellar.yaml (members are X25519 or ssh-ed25519 keys), but sops can add its
 * stanza to an environment file, and whoever holds it reads and writes with `get`, `list` and `set`.
 * age-encryption (typage), which alone unwraps it, is a file of its own beside the CLI's bundles
 * (dist/bundle/age.cjs), loaded only then: X25519 keys never read it.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { encryptSecrets } from "../packages/sops/src/index.js";
import { REPO_ROOT, aliceProject, sandboxesCleanedAfterEach } from "./helpers/cli.js";

const sandboxes = sandboxesCleanedAfterEach();

/** A new TEST-ONLY hybrid post-quantum key pair, made by typage. */
async function postQuantumKey(): Promise<{ identity: string; recipient: string }> {
  const entry = createRequire(join(REPO_ROOT, "packages/sops/package.json")).resolve("age-encryption");
  const typage = (await import(pathToFileURL(entry).href)) as { generateHybridIdentity: () => Promise<string>; identityToRecipient: (i: string) => Promise<string> };
  const identity = await typage.generateHybridIdentity();
  return { identity, recipient: await typage.identityToRecipient(identity) };
}

describe("a post-quantum key through the built CLI", () => {
  it("reads with get and list, and writes with set so that both keys read the result; typage lives in age.cjs apart from the bundles", async () => {
    const { s, alice } = await aliceProject(sandboxes, "development", []);
    const pq = await postQuantumKey();
    expect(pq.identity.startsWith("AGE-SECRET-KEY-PQ-1")).toBe(true);
    // what sops writes when the file's creation rule lists both keys
    const file = join(s.repo, "secrets", "development.enc.yaml");
    writeFileSync(file, await encryptSecrets(new Map([["api_key", "pq-leakcheck-1"]]), { recipients: [alice.recipient, pq.recipient] }));
    const pqKeyFile = join(s.home, "pq-key.txt");
    writeFileSync(pqKeyFile, `# TEST-ONLY key, made by this test\n${pq.identity}\n`, { mode: 0o600 });
    const asPq = { env: { SOPS_AGE_KEY_FILE: pqKeyFile } };

    const got = await s.run(["get", "api_key", "--env", "development"], asPq);
    expect([got.code, got.stdout, got.stderr]).toEqual([0, "pq-leakcheck-1", ""]);
    const listed = await s.run(["list", "--env", "development", "--json"], asPq);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('"api_key"');

    const set = await s.run(["set", "region_token", "--env", "development", "--from-stdin"], { ...asPq, input: "pq-leakcheck-2" });
    expect(set.code).toBe(0);
    // alice (X25519, node:crypto only) and the post-quantum key both read what the post-quantum key wrote
    for (const key of [alice.file, pqKeyFile]) {
      const r = await s.run(["get", "region_token", "--env", "development"], { env: { SOPS_AGE_KEY_FILE: key } });
      expect([key, r.code, r.stdout]).toEqual([key, 0, "pq-leakcheck-2"]);
    }
    expect(readFileSync(file, "utf8")).not.toContain("leakcheck");

    // typage is not in the bundles a start reads, only in the file beside them
    const bundle = join(REPO_ROOT, "packages/cli/dist/bundle");
    expect(existsSync(join(bundle, "age.cjs"))).toBe(true);
    expect(readFileSync(join(bundle, "age.cjs"), "latin1")).toContain("generateHybridIdentity");
    for (const f of ["command-get.cjs", "command-list.cjs", "command-set.cjs", "command-check.cjs", "command-textconv.cjs", "stellar-secrets.cjs"]) {
      expect([f, readFileSync(join(bundle, f), "latin1").includes("generateHybridIdentity")]).toEqual([f, false]);
    }
  });
});
