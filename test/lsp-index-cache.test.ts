/**
 * The language server's cache of config models through its real bin (the one real-process test of
 * it; the rest is in packages/language-server/src/index-cache.test.ts and core's model-cache.test.ts):
 * the bin hands the bundle's build tag to the server, the first run writes the cache (0700 folder,
 * 0600 file) into the user's cache folder (XDG_CACHE_HOME here) at its exit, and the second run takes
 * every model from it and publishes the same diagnostics.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LspClient, makeProject, repo, type TestProject } from "./lsp-harness.js";

/** True when the bin runs the bundle (what it does when the bundle is newer than every tsc output it was made from). */
function bundleIsFresh(): boolean {
  const pkg = join(repo, "packages/language-server");
  const mtime = (p: string): number | undefined => statSync(join(pkg, p), { throwIfNoEntry: false })?.mtimeMs;
  const bundle = mtime("dist/bundle/server.cjs");
  return bundle !== undefined && ["dist/.tsbuildinfo", "../core/dist/.tsbuildinfo", "../sops/dist/.tsbuildinfo", "../git/dist/.tsbuildinfo"].every((p) => (mtime(p) ?? 0) <= bundle);
}

describe("the language server's cache of config models (real process)", () => {
  const cleanup: (() => void)[] = [];
  afterAll(() => cleanup.forEach((c) => c()));

  it.skipIf(!bundleIsFresh())("a second start takes every model from the cache the first one wrote (skipped when the bundle is older than the tsc output: run `node scripts/bundle.mjs`)", async () => {
    const project: TestProject = await makeProject({
      secrets: { development: { hubspot_key: "TEST-ONLY-value" } },
      files: {
        "actions/ticket.yaml": "kind: action\nname: ticket\nconnection: hubspot\nmethod: POST\npath: /t\nheaders:\n  - { name: X-Api-Key, type: secret, secret: hubspot_kye }\n  - { name: Accept, type: static, value: application/json }\n",
        "connections/hubspot.yaml": "kind: api_connection\nname: hubspot\nbase_url: https://api.hubapi.com\n",
      },
    });
    cleanup.push(() => project.remove());
    const cacheHome = mkdtempSync(join(tmpdir(), "stellar-lsp-cache-"));
    cleanup.push(() => rmSync(cacheHome, { recursive: true, force: true }));
    const env = { STELLAR_SECRETS_NO_INDEX_CACHE: "", XDG_CACHE_HOME: cacheHome };
    const uri = project.uri("actions/ticket.yaml");
    const logs = (c: LspClient): string[] =>
      c.notifications.filter((n) => n.method === "window/logMessage").map((n) => (n.params as { message: string }).message).filter((m) => m.includes("index cache"));

    const first = await LspClient.start({ folders: [project.dir], env });
    const cold = await first.waitForDiagnostics(uri, (d) => d.length > 0);
    expect(logs(first)).toEqual([expect.stringContaining("index cache: 0 of 2 config models")]);
    expect(await first.stop()).toBe(0);
    const dir = join(cacheHome, "stellar-secrets");
    const files = readdirSync(dir);
    expect(files).toEqual([expect.stringMatching(/^models-[0-9a-f]{32}\.json$/)]);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, files[0]!)).mode & 0o777).toBe(0o600);

    const second = await LspClient.start({ folders: [project.dir], env });
    const warm = await second.waitForDiagnostics(uri, (d) => d.length > 0);
    expect(logs(second)).toEqual([expect.stringContaining("index cache: 2 of 2 config models")]);
    expect(warm).toEqual(cold);
    expect(await second.stop()).toBe(0);
  });
});
