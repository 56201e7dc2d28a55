// A project nested in the workspace folder (teams/labs has a stellar.yaml of its own): a message
// naming another project names it from the workspace folder, as `check` run there does, not from
// the file's own project (`../../stellar.yaml`).
import { checkWorkspace, loadWorkspace } from "@stellar-secrets/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTicketAction, HUBSPOT_CONNECTION } from "./test-support/fixtures.js";
import { makeTempProject, startInMemory, type InMemoryServer, type TempProject } from "./test-support/in-memory.js";

describe("messages that name another project", () => {
  let outer: TempProject;
  let inner: TempProject;
  let server: InMemoryServer;
  beforeAll(async () => {
    inner = await makeTempProject({ development: { labs_key: "TEST-ONLY-not-a-real-value" } });
    outer = await makeTempProject(
      { development: { zendesk_token: "TEST-ONLY-not-a-real-value" } },
      {
        "connections/hubspot.yaml": HUBSPOT_CONNECTION,
        "teams/labs/stellar.yaml": inner.read("stellar.yaml"),
        "teams/labs/secrets/development.enc.yaml": inner.read("secrets/development.enc.yaml"),
        "teams/labs/connections/hubspot.yaml": HUBSPOT_CONNECTION,
        // zendesk_token: only the enclosing project (the workspace folder's) has it
        "teams/labs/actions/labs.yaml": createTicketAction("zendesk_token").replace("create_ticket", "labs_ticket"),
      },
    );
    server = await startInMemory({ folders: [outer.dir] });
  });
  afterAll(async () => {
    try {
      await server.dispose();
    } finally {
      outer.remove();
      inner.remove();
    }
  });

  it("names the enclosing project from the workspace folder (stellar.yaml), not from the file's project (../../stellar.yaml)", async () => {
    const labs = outer.uri("teams/labs/actions/labs.yaml");
    const found = await server.waitForDiagnostics(labs, (d) => d.some((x) => x.code === "unknown-secret"));
    const message = String(found.find((x) => x.code === "unknown-secret")?.message);
    // core words it for the nested project's own folder (check run there prints the same)
    const own = checkWorkspace(loadWorkspace(outer.path("teams/labs")).index).find((d) => d.rule === "unknown-secret")?.message;
    expect(own).toContain("the enclosing project (../../stellar.yaml) has it");
    expect(message).toContain("the enclosing project (stellar.yaml) has it");
    expect(message).not.toContain("../../stellar.yaml");
    // everything else of the message is core's
    expect(message).toBe(own?.replace("(../../stellar.yaml)", "(stellar.yaml)"));
  });
});
