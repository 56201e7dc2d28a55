/**
 * The language server reads git in the background for whatever folder the editor opens, before
 * the user trusts it. A partial clone's missing blob would make git fetch it from the promisor
 * remote — over the network, with the ssh command of the folder's own `.git/config` (a downloaded
 * archive carries one). The server never fetches: it reads what the clone has.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { commitAll, LspClient, makeProject, type TestProject } from "./lsp-harness.js";

describe("the language server in a folder whose git config would fetch", () => {
  let org: TestProject | undefined;
  let client: LspClient | undefined;
  afterAll(async () => {
    await client?.stop();
    org?.remove();
  });

  it("runs no ssh command of the folder's git config for a partial clone's missing blob (no lazy fetch)", async () => {
    org = await makeProject({ secrets: { staging: { stripe_api_key: "sk_test_untrusted_0001" }, production: { stripe_api_key: "sk_test_untrusted_0002" } }, environments: ["staging", "production"] });
    commitAll(org.dir, "the secrets repository", "2024-01-02T12:00:00Z");
    const git = (...args: string[]): string => execFileSync("git", args, { cwd: org!.dir, encoding: "utf8" }).trim();
    // production's committed blob is "not fetched yet", and the folder says where to fetch it from
    const blob = git("rev-parse", "HEAD:secrets/production.enc.yaml");
    rmSync(join(org.dir, ".git", "objects", blob.slice(0, 2), blob.slice(2)));
    const ran = join(org.dir, ".git", "ssh.sh");
    writeFileSync(ran, `#!/bin/sh\necho "$*" >> "${join(org.dir, ".git", "ssh.log")}"\nexit 1\n`, { mode: 0o755 });
    for (const [key, value] of [
      ["core.repositoryformatversion", "1"],
      ["extensions.partialClone", "origin"],
      ["remote.origin.url", "ssh://git.example.invalid/org/secrets.git"],
      ["remote.origin.promisor", "true"],
      ["core.sshCommand", ran],
    ] as const) git("config", key, value);
    // (git itself runs it: the premise of the test)
    expect(() => execFileSync("git", ["cat-file", "-p", blob], { cwd: org!.dir, stdio: "ignore" })).toThrow();
    expect(existsSync(join(org.dir, ".git", "ssh.log"))).toBe(true);
    rmSync(join(org.dir, ".git", "ssh.log"));
    // both files differ from their commit, so stale-mac reads both committed versions (one batch):
    // production by a comment; staging by a value edited by hand under the committed mac, which
    // stale-mac reports only once the committed versions are read
    const production = org.path("secrets/production.enc.yaml");
    writeFileSync(production, `# rotated monthly\n${readFileSync(production, "utf8")}`);
    const staging = org.path("secrets/staging.enc.yaml");
    writeFileSync(staging, readFileSync(staging, "utf8").replace(/data:([A-Za-z0-9+/]{4})/, (_, d: string) => `data:${d === "AAAA" ? "BBBB" : "AAAA"}`));

    client = await LspClient.start({ folders: [org.dir] });
    await client.waitForDiagnostics(org.uri("secrets/staging.enc.yaml"), (ds) => ds.some((d) => d.code === "stale-mac"), "stale-mac in staging (the committed versions were read)");
    expect(existsSync(join(org.dir, ".git", "ssh.log")), "the folder's ssh command ran").toBe(false);
  });
});
