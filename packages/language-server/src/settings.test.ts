import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DidChangeConfigurationNotification } from "vscode-languageserver/node";
import { effectiveSeverity, settingsProblems } from "./settings.js";
import { makeTempProject, startInMemory, type InMemoryServer, type TempProject } from "./test-support/in-memory.js";

describe("settings", () => {
  it("applies the editor's per-rule override on top of the configured severity", () => {
    expect(effectiveSeverity({}, "unused-secret", "warning")).toBe("warning");
    expect(effectiveSeverity({ "unused-secret": "hint" }, "unused-secret", "warning")).toBe("hint");
    expect(effectiveSeverity({ "unused-secret": "off" }, "unused-secret", "warning")).toBeUndefined();
    // an unknown level is ignored rather than guessed
    expect(effectiveSeverity({ "unused-secret": "fatal" as "error" }, "unused-secret", "warning")).toBe("warning");
  });

  describe("over workspace/configuration", () => {
    let project: TempProject;
    let server: InMemoryServer;
    beforeAll(async () => {
      project = await makeTempProject({ development: { zendesk_token: "TEST-ONLY-unused", legacy: "TEST-ONLY-unused-too" } });
      server = await startInMemory({ folders: [project.dir], settings: { rules: { "unused-secret": "hint" } } });
    });
    afterAll(async () => {
      await server.dispose();
      project.remove();
    });

    it("publishes with the folder's override (hint = 4)", async () => {
      const ds = await server.waitForDiagnostics(project.uri("secrets/development.enc.yaml"), (d) => d.length > 0);
      expect(ds.map((d) => [d.code, d.severity])).toEqual([
        ["unused-secret", 4],
        ["unused-secret", 4],
      ]);
    });
  });

  describe("pushed with workspace/didChangeConfiguration, for a client without workspace/configuration", () => {
    let project: TempProject;
    let server: InMemoryServer;
    beforeAll(async () => {
      project = await makeTempProject({ development: { zendesk_token: "TEST-ONLY-unused", legacy: "TEST-ONLY-unused-too" } });
      server = await startInMemory({ folders: [project.dir], capabilities: {}, initializationOptions: { rules: { "unused-secret": "hint" } } });
    });
    afterAll(async () => {
      await server.dispose();
      project.remove();
    });

    it("takes the stellarSecrets section of the pushed settings over initializationOptions, and never asks the client", async () => {
      const uri = project.uri("secrets/development.enc.yaml");
      await server.waitForDiagnostics(uri, (d) => d.length === 2 && d.every((x) => x.severity === 4));
      await server.client.sendNotification(DidChangeConfigurationNotification.type, { settings: { stellarSecrets: { rules: { "unused-secret": "error" } } } });
      await server.waitForDiagnostics(uri, (d) => d.length === 2 && d.every((x) => x.severity === 1));
      // settings without the section (or none at all) leave them as they are
      await server.client.sendNotification(DidChangeConfigurationNotification.type, { settings: null });
      await server.client.sendNotification(DidChangeConfigurationNotification.type, { settings: { other: 1 } });
      await server.client.sendNotification(DidChangeConfigurationNotification.type, { settings: { stellarSecrets: { rules: { "unused-secret": "off" } } } });
      await server.waitForDiagnostics(uri, (d) => d.length === 0);
      expect(server.requests).toEqual([]);
    });

    it("a pushed section is the client's whole stellarSecrets settings: a field left out of it goes back to initializationOptions' (as in an answer to workspace/configuration), not the last push's", async () => {
      const uri = project.uri("secrets/development.enc.yaml");
      await server.client.sendNotification(DidChangeConfigurationNotification.type, { settings: { stellarSecrets: { rules: { "unused-secret": "error" } } } });
      await server.waitForDiagnostics(uri, (d) => d.length === 2 && d.every((x) => x.severity === 1));
      // the user removed the rules from the editor's configuration (eglot, Helix, Sublime LSP push it whole)
      await server.client.sendNotification(DidChangeConfigurationNotification.type, { settings: { stellarSecrets: {} } });
      await server.waitForDiagnostics(uri, (d) => d.length === 2 && d.every((x) => x.severity === 4));
      expect(server.requests).toEqual([]);
    });
  });

  describe("initializationOptions of a client whose workspace/configuration has no stellarSecrets section (Helix, eglot, Sublime LSP answer it from the same settings: null or nothing)", () => {
    let project: TempProject;
    beforeAll(async () => {
      project = await makeTempProject({ development: { zendesk_token: "TEST-ONLY-unused", legacy: "TEST-ONLY-unused-too" } });
    });
    afterAll(() => project.remove());
    /** The severities of the unused-secret diagnostics once published, for a client started with `options`. */
    async function severities(options: Partial<Parameters<typeof startInMemory>[0]>): Promise<number[]> {
      const server = await startInMemory({ folders: [project.dir], ...options });
      try {
        const ds = await server.waitForDiagnostics(project.uri("secrets/development.enc.yaml"), (d) => d.length > 0);
        return ds.map((d) => d.severity ?? 0);
      } finally {
        await server.dispose();
      }
    }

    it("an empty answer (global and per folder) keeps the settings of initializationOptions instead of the defaults", async () => {
      expect(await severities({ initializationOptions: { rules: { "unused-secret": "hint" } }, settings: {} })).toEqual([4, 4]);
    });

    it("an answer overrides initializationOptions field by field, and a folder's answer the global one", async () => {
      expect(await severities({ initializationOptions: { rules: { "unused-secret": "hint" } }, settings: { rules: { "unused-secret": "error" } } })).toEqual([1, 1]);
    });

    it("initializationOptions may hold the settings in a stellarSecrets section too (one configuration for both questions)", async () => {
      expect(await severities({ capabilities: {}, initializationOptions: { stellarSecrets: { rules: { "unused-secret": "hint" } } } })).toEqual([4, 4]);
    });
  });

  it("settings of the wrong type (initializationOptions, workspace/configuration) are ignored, not fatal to the index", async () => {
    const project = await makeTempProject({ development: { legacy: "TEST-ONLY-unused" } });
    try {
      for (const bad of [{ configPath: 5, rules: "x" }, "not an object", [1, 2], { rules: ["error"], configPath: null }]) {
        const server = await startInMemory({ folders: [project.dir], initializationOptions: bad as unknown as Record<string, unknown>, settings: bad as unknown as Record<string, unknown> });
        try {
          await server.waitForDiagnostics(project.uri("secrets/development.enc.yaml"), (d) => d.some((x) => x.code === "unused-secret"));
        } finally {
          await server.dispose();
        }
      }
    } finally {
      project.remove();
    }
  });
});

describe("settings that are wrong (a typo in a rule id or a severity) are logged, not silently without effect", () => {
  it("names an unknown rule id with the nearest one, a severity that is none, and a field of the wrong type", () => {
    expect(settingsProblems({ rules: { "unused-secrets": "hint", "unknown-secret": "warn", "stale-mac": "off" }, indexCache: "no", configPath: 7 })).toEqual([
      "configPath is 7, not a path (a string)",
      'indexCache is "no", not true or false',
      'rules: "unused-secrets" is no rule id (did you mean "unused-secret"?); the ids are those of docs/rules.md and `stellar-secrets check`',
      'rules: "unknown-secret" is set to "warn", which is none of error, warning, info, hint or off',
    ]);
    expect(settingsProblems({ rules: { "unused-secret": "hint" }, configPath: "a/stellar.yaml", indexCache: false, clientCommands: true })).toEqual([]);
    expect(settingsProblems(null)).toEqual([]);
  });

  it("logs each problem once, saying which settings it came from", async () => {
    const project = await makeTempProject({ development: { zendesk_token: "TEST-ONLY-unused" } });
    const server = await startInMemory({ folders: [project.dir], settings: { rules: { "unused-secret": "warn" } }, initializationOptions: { stellarSecrets: { rules: { "unused-secrets": "hint" } } } });
    try {
      await server.client.sendNotification(DidChangeConfigurationNotification.type, { settings: null }); // asked again: the same answer
      await server.waitFor(() => server.logs.filter((l) => l.includes("settings (")).length >= 2, "the settings problems");
      await new Promise((r) => setTimeout(r, 100));
      expect(server.logs.filter((l) => l.includes("settings ("))).toEqual([
        '[stellar-secrets] settings (initializationOptions.stellarSecrets): rules: "unused-secrets" is no rule id (did you mean "unused-secret"?); the ids are those of docs/rules.md and `stellar-secrets check`; that setting is ignored',
        '[stellar-secrets] settings (workspace/configuration): rules: "unused-secret" is set to "warn", which is none of error, warning, info, hint or off; that setting is ignored',
      ]);
    } finally {
      await server.dispose();
      project.remove();
    }
  });
});
