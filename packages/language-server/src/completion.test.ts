import { afterAll, describe, expect, it } from "vitest";
import { createCoreModel } from "./core-model.js";
import { completion } from "./features.js";
import { makeTempProject, type TempProject } from "./test-support/in-memory.js";

describe("secret name completion where the document is used (qa s22)", () => {
  let project: TempProject;
  afterAll(() => project?.remove());

  it("sorts a secret with no value in an environment the connection is used in after the others, saying where it has none", async () => {
    const CONNECTION = "kind: api_connection\nname: maps\nbase_url: https://maps.example\nheaders:\n  - { name: X-Key, type: secret, secret:  }\n";
    project = await makeTempProject(
      { development: { maps_api_key: "TEST-ONLY-1", sandbox_key: "TEST-ONLY-2" }, production: { maps_api_key: "TEST-ONLY-3" } },
      { "connections/maps.yaml": CONNECTION },
    );
    const model = await createCoreModel(project.path("stellar.yaml"), { bufferOf: () => undefined, read: async () => undefined });
    const items = completion(model, CONNECTION, { line: 4, character: 41 }, project.path("connections/maps.yaml"));
    expect(items.map((i) => [i.label, i.sortText, i.detail])).toEqual([
      ["maps_api_key", undefined, "secret · development, production"],
      ["sandbox_key", "~sandbox_key", "secret · development · no value in production"],
    ]);
    // without the file (an older caller): no ranking
    expect(completion(model, CONNECTION, { line: 4, character: 41 }).map((i) => i.sortText)).toEqual([undefined, undefined]);
  });
});
