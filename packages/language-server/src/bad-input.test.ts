/**
 * One bad file never silences the others (issue 12, item 3): a config file nested thousands of
 * levels deep is one `schema` error on that file, on disk at start and as an open buffer, while
 * every other file keeps getting its diagnostics.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempProject, rangeOf, startInMemory, type InMemoryServer, type TempProject } from "./test-support/in-memory.js";
import { createTicketAction, HUBSPOT_CONNECTION } from "./test-support/fixtures.js";

const ACTION = createTicketAction("zendesk_tokn");
const CONNECTION = HUBSPOT_CONNECTION;
const DEEP = `kind: api_connection\nname: deep\nheaders: ${"[".repeat(3000)}${"]".repeat(3000)}\n`;
const DEEP_BLOCK = `kind: agent\nname: deep\n${Array.from({ length: 1000 }, (_, i) => `${" ".repeat(i)}k${i}:`).join("\n")}\n`;

describe("a deeply nested file is isolated", () => {
  let project: TempProject;
  let server: InMemoryServer;
  beforeAll(async () => {
    project = await makeTempProject(
      { development: { zendesk_token: "TEST-ONLY-not-a-real-value" } },
      { "actions/create_ticket.yaml": ACTION, "connections/hubspot.yaml": CONNECTION, "connections/deep.yaml": DEEP },
    );
    server = await startInMemory({ folders: [project.dir] });
  });
  afterAll(async () => {
    await server.dispose();
    project.remove();
  });

  it("reports the deep file (schema, at the line that goes over) and still checks the others", async () => {
    const deep = await server.waitForDiagnostics(project.uri("connections/deep.yaml"), (d) => d.length > 0);
    expect(deep.map((d) => [d.code, d.range.start.line])).toEqual([["schema", 2]]);
    expect(deep[0]!.message).toContain("nested deeper than 64 levels");
    const action = await server.waitForDiagnostics(project.uri("actions/create_ticket.yaml"), (d) => d.length > 0);
    expect(action.map((d) => [d.code, d.range])).toEqual([["unknown-secret", rangeOf(ACTION, "zendesk_tokn")]]);
  });

  it("an open buffer that becomes deeply nested is reported, and edits of other files are still checked", async () => {
    const hub = project.uri("connections/hubspot.yaml");
    await server.open(hub, CONNECTION);
    await server.change(hub, DEEP_BLOCK);
    const ds = await server.waitForDiagnostics(hub, (d) => d.some((x) => x.code === "schema"));
    expect(ds.find((d) => d.code === "schema")!.range.start.line).toBe(2 + 64);
    const action = project.uri("actions/create_ticket.yaml");
    await server.open(action, ACTION);
    await server.change(action, ACTION.replace("zendesk_tokn", "zendesk_token"));
    // the action's connection (hubspot) is gone with the deep buffer: that is the only problem left
    const after = await server.waitForDiagnostics(action, (d) => !d.some((x) => x.code === "unknown-secret"));
    expect(after.map((d) => d.code)).not.toContain("unknown-secret");
  });
});
