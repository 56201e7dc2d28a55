/**
 * A client that cannot register file watchers (Helix, Zed, Sublime LSP, Kate, vim-lsp): the server
 * watches each project's folder and secrets folder itself (disk-watch.ts). Before, a secrets file
 * changed by the CLI (or git) while such a client was connected was never seen: its diagnostics
 * stayed those of the old values until a restart.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encryptSecrets } from "@stellar-secrets/sops";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DiskWatch } from "./disk-watch.js";
import { makeTempProject, rangeOf, startInMemory, type InMemoryServer, type TempProject } from "./test-support/in-memory.js";
import { createTicketAction, HUBSPOT_CONNECTION } from "./test-support/fixtures.js";
import type { FileChange } from "./watched-files.js";

describe("the server's own watch of a few folders", () => {
  const dir = mkdtempSync(join(tmpdir(), "stellar-disk-watch-"));
  let watch: DiskWatch | undefined;
  afterEach(() => watch?.dispose());
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const next = (got: FileChange[][]) => async (): Promise<FileChange[]> => {
    for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    return got.shift() ?? [];
  };

  it("reports the files written, replaced by a rename, and deleted in a watched folder, once for changes that come together; not those of a subfolder", async () => {
    const got: FileChange[][] = [];
    mkdirSync(join(dir, "sub"), { recursive: true });
    watch = new DiskWatch((c) => got.push(c), () => {}, 30);
    watch.watch([dir, join(dir, "missing")]);
    expect(watch.folders).toEqual([dir]); // a folder that is not there is skipped
    writeFileSync(join(dir, "a.enc.yaml"), "one");
    writeFileSync(join(dir, "a.enc.yaml.tmp"), "two");
    const { renameSync } = await import("node:fs");
    renameSync(join(dir, "a.enc.yaml.tmp"), join(dir, "a.enc.yaml"));
    const first = await next(got)();
    expect(first.filter((c) => c.path === join(dir, "a.enc.yaml"))).toEqual([{ path: join(dir, "a.enc.yaml"), deleted: false }]);
    expect(first.find((c) => c.path.endsWith(".tmp"))?.deleted).toBe(true);
    unlinkSync(join(dir, "a.enc.yaml"));
    expect(await next(got)()).toEqual([{ path: join(dir, "a.enc.yaml"), deleted: true }]);
    writeFileSync(join(dir, "sub", "b.yaml"), "x");
    await new Promise((r) => setTimeout(r, 200));
    expect(got).toEqual([]);
    // no longer asked for: no longer watched
    watch.watch([]);
    writeFileSync(join(dir, "c.yaml"), "x");
    await new Promise((r) => setTimeout(r, 200));
    expect([watch.folders, got]).toEqual([[], []]);
  });
});

describe("a client without file watchers, a secrets file changed on disk", () => {
  let project: TempProject;
  let server: InMemoryServer;
  let recipient: string;
  beforeAll(async () => {
    project = await makeTempProject(
      { development: { zendesk_token: "TEST-ONLY-not-a-real-value" } },
      { "connections/hubspot.yaml": HUBSPOT_CONNECTION, "actions/create_ticket.yaml": createTicketAction("zendesk_token") },
    );
    recipient = /alice: (age1\w+)/.exec(project.read("stellar.yaml"))![1]!;
    // (no workspace.didChangeWatchedFiles.dynamicRegistration: nothing is registered, nothing reported)
    server = await startInMemory({ folders: [project.dir], capabilities: { workspace: { workspaceFolders: true } } });
  });
  afterAll(async () => {
    await server.dispose();
    project.remove();
  });

  it("re-reads an environment file the CLI rewrote, without the client saying anything, and says so in its log", async () => {
    expect(server.registrations).toEqual([]);
    expect(server.logs.some((l) => l.includes("the server watches each project's folder and secrets folder itself"))).toBe(true);
    const uri = project.uri("actions/create_ticket.yaml");
    expect(server.published.get(uri) ?? []).toEqual([]);
    // the value removed from development (as `stellar-secrets` writes it: a new file renamed over the old)
    writeFileSync(project.path("secrets/.development.tmp"), await encryptSecrets(new Map([["other_token", "TEST-ONLY"]]), { recipients: [recipient] }));
    const { renameSync } = await import("node:fs");
    renameSync(project.path("secrets/.development.tmp"), project.path("secrets/development.enc.yaml"));
    const ds = await server.waitForDiagnostics(uri, (d) => d.length > 0);
    expect(ds.map((d) => [d.code, d.range])).toEqual([["unknown-secret", rangeOf(createTicketAction("zendesk_token"), "zendesk_token")]]);
    // and back
    writeFileSync(project.path("secrets/development.enc.yaml"), await encryptSecrets(new Map([["zendesk_token", "TEST-ONLY"]]), { recipients: [recipient] }));
    expect(await server.waitForDiagnostics(uri, (d) => d.length === 0)).toEqual([]);
  });
});
