/**
 * A client without file watchers (Helix, Zed, Sublime LSP, Kate, vim-lsp), folders that go and come
 * back: the server's own watch (disk-watch.ts) must follow them. Before, a secrets folder deleted
 * and created again was never watched again (the watch of a folder ends with it, and only an index
 * change made the server look for the folders again): the environment files written in it were
 * never read.
 */
import { mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
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

  it("a folder renamed in a project (mv actions tasks), and a file moved from one project to another: the old paths' diagnostics go, the new ones come", async () => {
    const project = await makeTempProject(
      { development: { zendesk_token: "TEST-ONLY-not-a-real-value" } },
      { "connections/hubspot.yaml": HUBSPOT_CONNECTION, "actions/deep/create_ticket.yaml": createTicketAction("missing_token") },
    );
    // a second project beside it, in the same workspace folder, with its own connection
    project.write("other/stellar.yaml", project.read("stellar.yaml"));
    project.write("other/secrets/development.enc.yaml", project.read("secrets/development.enc.yaml"));
    project.write("other/connections/hubspot.yaml", HUBSPOT_CONNECTION);
    const server = await startInMemory({ folders: [project.dir], capabilities: { workspace: { workspaceFolders: true } } });
    const codes = (ds: { code?: string | number }[]) => ds.map((d) => d.code);
    const before = project.uri("actions/deep/create_ticket.yaml");
    const renamed = project.uri("tasks/deep/create_ticket.yaml");
    const moved = project.uri("other/actions/create_ticket.yaml");
    try {
      expect(codes(await server.waitForDiagnostics(before, (d) => d.length > 0))).toEqual(["unknown-secret"]);
      renameSync(project.path("actions"), project.path("tasks"));
      await server.waitForDiagnostics(before, (d) => d.length === 0);
      expect(codes(await server.waitForDiagnostics(renamed, (d) => d.length > 0))).toEqual(["unknown-secret"]);
      // the renamed folder's sub-folder is watched: an edit there is seen
      await new Promise((r) => setTimeout(r, 300));
      project.write("tasks/deep/create_ticket.yaml", createTicketAction("zendesk_token"));
      await server.waitForDiagnostics(renamed, (d) => d.length === 0);
      project.write("tasks/deep/create_ticket.yaml", createTicketAction("missing_token"));
      await server.waitForDiagnostics(renamed, (d) => d.length > 0);
      // moved into the other project (a folder it did not have)
      mkdirSync(project.path("other/actions"));
      renameSync(project.path("tasks/deep/create_ticket.yaml"), project.path("other/actions/create_ticket.yaml"));
      await server.waitForDiagnostics(renamed, (d) => d.length === 0);
      expect(codes(await server.waitForDiagnostics(moved, (d) => d.length > 0))).toEqual(["unknown-secret"]);
    } finally {
      await server.dispose();
      project.remove();
    }
  });
});
