import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { effectiveSeverity } from "./settings.js";
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
});
