import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempProject, startInMemory, type InMemoryServer, type TempProject } from "./test-support/in-memory.js";

describe("the initial index, whatever the client answers to the server's requests", () => {
  let project: TempProject;
  beforeAll(async () => {
    project = await makeTempProject({ development: { old_token: "TEST-ONLY-not-a-real-value" } });
  });
  afterAll(() => project.remove());

  const started: InMemoryServer[] = [];
  afterAll(async () => {
    for (const s of started) await s.dispose();
  });

  // capabilities announcing both (as VS Code's), answered with an error, or never
  for (const clientAnswers of ["refuse", "never"] as const) {
    it(`is built and published when the client ${clientAnswers === "refuse" ? "refuses" : "never answers"} watcher registration and workspace/configuration`, async () => {
      const s = await startInMemory({ folders: [project.dir], clientAnswers, clientAnswerTimeoutMs: 50 });
      started.push(s);
      expect(s.requests.sort()).toEqual(["client/registerCapability", "workspace/configuration"]);
      const ds = await s.waitForDiagnostics(project.uri("secrets/development.enc.yaml"), (d) => d.length > 0);
      expect(ds.map((d) => d.code)).toContain("unused-secret");
    });
  }
});

describe("a client that answers workspace/configuration after the server stopped waiting", () => {
  it("has its settings applied when the answer comes (the diagnostics are published again under them)", async () => {
    const project = await makeTempProject({ development: { old_token: "TEST-ONLY-not-a-real-value" } });
    const s = await startInMemory({ folders: [project.dir], clientAnswers: "late", lateAnswerMs: 300, clientAnswerTimeoutMs: 50, settings: { rules: { "unused-secret": "off" } } });
    try {
      const uri = project.uri("secrets/development.enc.yaml");
      // indexed without the settings first (defaults: unused-secret reported) ...
      expect((await s.waitForDiagnostics(uri, (d) => d.length > 0)).map((d) => d.code)).toContain("unused-secret");
      // ... then the late answer turns the rule off
      await s.waitForDiagnostics(uri, (d) => !d.some((x) => x.code === "unused-secret"));
      expect(s.logs.some((l) => l.includes("the late answer is applied"))).toBe(true);
    } finally {
      await s.dispose();
      project.remove();
    }
  });
});

describe("work that ends after the client closed the connection", () => {
  it("logs into the void instead of throwing (a late failure or log line no longer raises 'Connection is disposed')", async () => {
    const project = await makeTempProject({ development: { api_key: "TEST-ONLY-v" } });
    try {
      const server = await startInMemory({ folders: [project.dir] });
      await server.dispose();
      expect(() => server.state.log("a line after the end")).not.toThrow();
      expect(() => server.state.logFailure("a late request", new Error("late"))).not.toThrow();
    } finally {
      project.remove();
    }
  });
});
