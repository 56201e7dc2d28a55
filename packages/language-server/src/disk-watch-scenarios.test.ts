/**
 * A client without file watchers (Helix, Zed, Sublime LSP, Kate, vim-lsp), folders that go and come
 * back: the server's own watch (disk-watch.ts) must follow them. Before, a secrets folder deleted
 * and created again was never watched again (the watch of a folder ends with it, and only an index
 * change made the server look for the folders again): the environment files written in it were
 * never read.
 */
import { readFileSync, rmSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { makeTempProject, startInMemory } from "./test-support/in-memory.js";
import { createTicketAction, HUBSPOT_CONNECTION } from "./test-support/fixtures.js";

describe("a client without file watchers, folders deleted and created again", () => {
  it("a secrets folder deleted (the reference becomes unknown) and created again with its file (found again), then the file removed again", async () => {
    const project = await makeTempProject(
      { development: { zendesk_token: "TEST-ONLY-not-a-real-value" } },
      { "connections/hubspot.yaml": HUBSPOT_CONNECTION, "actions/create_ticket.yaml": createTicketAction("zendesk_token") },
    );
    const env = readFileSync(project.path("secrets/development.enc.yaml"));
    const server = await startInMemory({ folders: [project.dir], capabilities: { workspace: { workspaceFolders: true } } });
    const uri = project.uri("actions/create_ticket.yaml");
    const codes = (ds: { code?: string | number }[]) => ds.map((d) => d.code);
    try {
      expect(server.published.get(uri) ?? []).toEqual([]);
      rmSync(project.path("secrets"), { recursive: true, force: true });
      expect(codes(await server.waitForDiagnostics(uri, (d) => d.length > 0))).toEqual(["unknown-secret"]);
      await new Promise((r) => setTimeout(r, 300));
      project.write("secrets/development.enc.yaml", env.toString("utf8"));
      await server.waitForDiagnostics(uri, (d) => d.length === 0);
      // and the folder created again is watched: its file removed is seen
      await new Promise((r) => setTimeout(r, 300));
      rmSync(project.path("secrets/development.enc.yaml"));
      expect(codes(await server.waitForDiagnostics(uri, (d) => d.length > 0))).toEqual(["unknown-secret"]);
    } finally {
      await server.dispose();
      project.remove();
    }
  });
});
