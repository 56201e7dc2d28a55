import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempProject, rangeOf, startInMemory, type InMemoryServer, type TempProject } from "./test-support/in-memory.js";

const ACTION = `kind: action
name: create_ticket
connection: hubspot
method: POST
path: /tickets
headers:
  - { name: X-Api-Key, type: secret, secret: zendesk_token }
`;
const CONNECTION = `kind: api_connection
name: hubspot
base_url: https://api.hubapi.com
`;

describe("buffers: the last event of a file wins", () => {
  let project: TempProject;
  let server: InMemoryServer;
  beforeAll(async () => {
    project = await makeTempProject({ development: { zendesk_token: "TEST-ONLY-not-a-real-value" } }, { "actions/create_ticket.yaml": ACTION, "connections/hubspot.yaml": CONNECTION });
    server = await startInMemory({ folders: [project.dir] });
  });
  afterAll(async () => {
    await server.dispose();
    project.remove();
  });

  it("an edit typed after a reopen is not replaced by the disk text the close read late", async () => {
    const uri = project.uri("actions/create_ticket.yaml");
    const path = project.path("actions/create_ticket.yaml");
    const { workspace } = server.state;
    // hold the close's disk read until the file is open again and edited (a slow disk under load)
    const read = workspace.read.bind(workspace);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let heldReads = 0;
    workspace.read = async (p: string) => {
      const text = await read(p);
      if (p === path) {
        heldReads++;
        await gate;
      }
      return text;
    };
    try {
      await server.open(uri, ACTION);
      await server.close(uri);
      await server.waitFor(() => heldReads > 0, "the close's disk read");
      await server.open(uri, ACTION);
      const typo = ACTION.replace("zendesk_token", "zendesk_tok");
      await server.change(uri, typo);
      await server.waitForDiagnostics(uri, (d) => d.some((x) => x.code === "unknown-secret"));
      release();
      await new Promise((r) => setTimeout(r, 100)); // the late read settles and the full check runs
      const ds = server.published.get(uri) ?? [];
      expect(ds.map((d) => [d.code, d.range])).toEqual([["unknown-secret", rangeOf(typo, "zendesk_tok")]]);
    } finally {
      release();
      workspace.read = read;
    }
  });
});
