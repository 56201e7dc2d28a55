import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CatalogRemovalRequest, ProjectsRequest, UsageRequest, ValidateNameRequest } from "./protocol.js";
import { createCoreModel } from "./core-model.js";
import { NAME_NOT_CHECKED, secretNameProblem } from "./requests.js";
import type { ModelFactory } from "./workspace.js";
import { makeTempProject, rangeOf, startInMemory, type InMemoryServer, type TempProject } from "./test-support/in-memory.js";
import { createTicketAction } from "./test-support/fixtures.js";

const VALUE = "TEST-ONLY-value-never-shown";
const ACTION = createTicketAction("zendesk_token");
const CATALOG = `secrets:
  # the support desk
  zendesk_token:
    description: Zendesk API token
    owner: support-team
  stripe_key:
    description: billing
`;

describe("custom requests", () => {
  let project: TempProject;
  let server: InMemoryServer;
  beforeAll(async () => {
    project = await makeTempProject(
      { development: { zendesk_token: VALUE, stripe_key: VALUE } },
      { "actions/create_ticket.yaml": ACTION, "connections/hubspot.yaml": "kind: api_connection\nname: hubspot\nbase_url: https://x.example\n", "secrets/catalog.yaml": CATALOG },
    );
    server = await startInMemory({ folders: [project.dir] });
  });
  afterAll(async () => {
    await server.dispose();
    project.remove();
  });

  it("stellarSecrets/usage: every reference with its LSP range, project-relative file, 1-based line and owner", async () => {
    const { references } = await server.client.sendRequest(UsageRequest, { root: project.dir, name: "zendesk_token" });
    expect(references).toEqual([
      { uri: project.uri("actions/create_ticket.yaml"), range: rangeOf(ACTION, "zendesk_token"), file: "actions/create_ticket.yaml", line: 7, owner: "action create_ticket" },
    ]);
    expect(await server.client.sendRequest(UsageRequest, { root: "/nowhere", name: "zendesk_token" })).toEqual({ references: [] });
  });

  it("stellarSecrets/usage and catalogRemoval name an open document by the URI the client opened it with (percent-encoded otherwise than node would)", async () => {
    const uri = project.uri("actions/create_ticket.yaml").replace("create_ticket", "create%5fticket");
    const catalogUri = project.uri("secrets/catalog.yaml").replace("catalog", "c%61talog");
    await server.open(uri, ACTION);
    await server.open(catalogUri, CATALOG);
    try {
      const { references } = await server.client.sendRequest(UsageRequest, { root: project.dir, name: "zendesk_token" });
      expect(references.map((r) => [r.uri, r.file])).toEqual([[uri, "actions/create_ticket.yaml"]]);
      const { edit } = await server.client.sendRequest(CatalogRemovalRequest, { root: project.dir, name: "zendesk_token" });
      expect(Object.keys(edit?.changes ?? {})).toEqual([catalogUri]);
    } finally {
      await server.close(uri);
      await server.close(catalogUri);
    }
    const { references } = await server.client.sendRequest(UsageRequest, { root: project.dir, name: "zendesk_token" });
    expect(references.map((r) => r.uri)).toEqual([project.uri("actions/create_ticket.yaml")]);
  });

  it("stellarSecrets/projects: environments, secrets with catalog data, no value", async () => {
    const { projects } = await server.client.sendRequest(ProjectsRequest, {});
    expect(projects).toHaveLength(1);
    const p = projects[0]!;
    expect([p.root, p.configPath, p.valid]).toEqual([project.dir, project.path("stellar.yaml"), true]);
    expect(p.environments.map((e) => [e.name, e.file, e.exists])).toEqual([["development", project.path("secrets/development.enc.yaml"), true]]);
    expect(p.secrets).toEqual([
      { name: "stripe_key", environments: ["development"], references: 0, description: "billing" },
      { name: "zendesk_token", environments: ["development"], references: 1, description: "Zendesk API token", owner: "support-team" },
    ]);
    expect(JSON.stringify(projects)).not.toContain(VALUE);
  });

  it("stellarSecrets/validateName: core's naming rule with its id, and an existing name when asked to refuse", async () => {
    const bad = await server.client.sendRequest(ValidateNameRequest, { root: project.dir, name: "Bad Name", existing: "refuse" });
    expect(bad.message).toMatch(/ \[[a-z-]+\]$/);
    expect(await server.client.sendRequest(ValidateNameRequest, { root: project.dir, name: "zendesk_token", existing: "refuse" })).toEqual({
      message: `"zendesk_token" already exists (set its value with Set Secret Value…)`,
    });
    expect(await server.client.sendRequest(ValidateNameRequest, { root: project.dir, name: "zendesk_token", existing: "allow" })).toEqual({});
    // TEST-ONLY made-up token pasted into the name box
    expect(await server.client.sendRequest(ValidateNameRequest, { root: project.dir, name: "ghp_abcdefghijklmnopqrstuvwxyz0123456789", existing: "refuse" })).toEqual({
      message: "the name looks like a GitHub token (ghp_…), not a secret's name (not shown): a value is never stored as a name, which is not encrypted [invalid-secret-name]",
    });
  });

  it("stellarSecrets/validateName fails closed: parameters that are not a root, a name and allow/refuse are InvalidParams, never an empty (accepting) answer", async () => {
    for (const params of [null, {}, { root: project.dir, name: 5, existing: "refuse" }, { root: project.dir, name: "x" }, { root: project.dir, name: "x", existing: "maybe" }, { root: 3, name: "x", existing: "allow" }]) {
      const answer = server.client.sendRequest(ValidateNameRequest, params as never);
      await expect(answer).rejects.toMatchObject({ code: -32602 });
    }
  });

  it("stellarSecrets/catalogRemoval: one edit replacing the whole catalog, up to its last position", async () => {
    const { edit } = await server.client.sendRequest(CatalogRemovalRequest, { root: project.dir, name: "zendesk_token" });
    const edits = edit?.changes?.[project.uri("secrets/catalog.yaml")];
    expect(edits).toHaveLength(1);
    expect(edits![0]!.range).toEqual({ start: { line: 0, character: 0 }, end: { line: 7, character: 0 } });
    expect(edits![0]!.newText).not.toContain("zendesk_token");
    expect(edits![0]!.newText).toContain("stripe_key:");
    expect(await server.client.sendRequest(CatalogRemovalRequest, { root: project.dir, name: "not_in_catalog" })).toEqual({});
  });
});

describe("secretNameProblem (the editor's Add Secret and Move to Secret name boxes)", () => {
  const none = (): string[] => [];
  it("refuses a credential typed or pasted as the name with set's words, never repeating it", () => {
    // TEST-ONLY made-up tokens
    for (const [name, looks] of [
      ["sk_live_51hqlyjwdarjtt1zdp7dcxyzabcdef0123456789", "a Stripe live secret key (sk_live_…)"],
      ["sk_live_51HqLyjWDarjtT1zdp7dcXYZabcdef0123456789", "a Stripe live secret key (sk_live_…)"],
      ["a3f9c8e7d6b5a4f3e2d1c0b9a8f7e6d5", "a long random string (a key or token)"],
      ["Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZg", "a long random string (a key or token)"],
    ] as const) {
      const message = secretNameProblem(name, none, "refuse");
      expect(message, name).toBe(`the name looks like ${looks}, not a secret's name (not shown): a value is never stored as a name, which is not encrypted [invalid-secret-name]`);
      expect(message).not.toContain(name.slice(8, 24));
    }
  });

  it("accepts realistic names, and still applies the naming rules and the existing names", () => {
    for (const name of ["stripe_api_key", "github_token", "openai_key_v2", "oauth2_client_secret_for_billing_api_2024", "deadbeef"]) expect(secretNameProblem(name, none, "refuse"), name).toBeUndefined();
    expect(secretNameProblem("Bad Name", none, "refuse")).toMatch(/ \[invalid-secret-name\]$/);
    expect(secretNameProblem("github_token", () => ["github_token"], "refuse")).toBe('"github_token" already exists (set its value with Set Secret Value…)');
    expect(secretNameProblem("github_token", () => ["github_token"], "allow")).toBeUndefined();
  });
});

describe("stellarSecrets/validateName when the check itself fails", () => {
  it("refuses the name with a message (a box must not accept a name the server could not check)", async () => {
    const project = await makeTempProject({ development: { zendesk_token: VALUE } });
    // a project whose names cannot be read (a failure inside the server, not the client's mistake)
    const modelFactory: ModelFactory = async (configPath, source) => {
      const model = await createCoreModel(configPath, source);
      model.secretNames = () => {
        throw new Error("TEST-ONLY: the names cannot be read");
      };
      return model;
    };
    const server = await startInMemory({ folders: [project.dir], modelFactory });
    try {
      expect(await server.client.sendRequest(ValidateNameRequest, { root: project.dir, name: "stripe_webhook_secret", existing: "refuse" })).toEqual({ message: NAME_NOT_CHECKED });
      // a name refused before the names are read is still refused for its own reason
      expect((await server.client.sendRequest(ValidateNameRequest, { root: project.dir, name: "Bad Name", existing: "refuse" })).message).toMatch(/ \[[a-z-]+\]$/);
    } finally {
      await server.dispose();
      project.remove();
    }
  });
});
