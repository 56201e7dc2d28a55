import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProjectsRequest } from "./protocol.js";
import { makeTempProject, startInMemory, type InMemoryServer, type TempProject } from "./test-support/in-memory.js";
import { createTicketAction } from "./test-support/fixtures.js";

const VALUE = "TEST-ONLY-value-never-shown";
const ACTION = createTicketAction("zendesk_tokn");

describe("a broken stellar.yaml keeps the last good project", () => {
  let project: TempProject;
  let server: InMemoryServer;
  beforeAll(async () => {
    project = await makeTempProject(
      { development: { zendesk_token: VALUE } },
      { "actions/create_ticket.yaml": ACTION, "connections/hubspot.yaml": "kind: api_connection\nname: hubspot\nbase_url: https://x.example\n" },
    );
    server = await startInMemory({ folders: [project.dir] });
  });
  afterAll(async () => {
    await server.dispose();
    project.remove();
  });

  it("shows the errors on stellar.yaml while every other file keeps its diagnostics, then recovers", async () => {
    const action = project.uri("actions/create_ticket.yaml");
    const config = project.uri("stellar.yaml");
    await server.waitForDiagnostics(action, (d) => d.some((x) => x.code === "unknown-secret"));
    const good = readFileSync(project.path("stellar.yaml"), "utf8");
    await server.open(config, good.replace("version: 1", "version: [1"));
    const onConfig = await server.waitForDiagnostics(config, (d) => d.length > 0);
    expect(onConfig.every((d) => d.severity === 1)).toBe(true);
    // the other files still show their problems (the last good project), and the Secrets view still has its secrets
    expect(server.published.get(action)?.map((d) => d.code)).toEqual(["unknown-secret"]);
    const { projects } = await server.client.sendRequest(ProjectsRequest, {});
    expect(projects.map((p) => [p.valid, p.stale, p.secrets.map((s) => s.name)])).toEqual([[true, true, ["zendesk_token"]]]);
    // edits to other files are still checked against the last good project
    await server.open(action, ACTION.replace("zendesk_tokn", "zendesk_token"));
    await server.waitForDiagnostics(action, (d) => d.length === 0);
    // fixed: stellar.yaml clean, the project is current again
    await server.change(config, good);
    await server.waitForDiagnostics(config, (d) => d.length === 0);
    await server.waitFor(async () => (await server.client.sendRequest(ProjectsRequest, {})).projects[0]?.stale === undefined, "a current project");
  });
});
