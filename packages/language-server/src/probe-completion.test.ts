import { afterAll, describe, expect, it } from "vitest";
import { createCoreModel } from "./core-model.js";
import { completion } from "./features.js";
import { kindFields, nestedFields } from "./schema-fields.js";
import { makeTempProject, type TempProject } from "./test-support/in-memory.js";

describe("probe fields from core's schemas", () => {
  it("offers probe on connections and OAuth2 connectors only, and its own fields inside it", () => {
    expect(kindFields("api_connection").map((x) => x.name)).toContain("probe");
    expect(kindFields("auth_connector", "oauth2_client_credentials").map((x) => x.name)).toContain("probe");
    expect(kindFields("auth_connector", "api_key").map((x) => x.name)).not.toContain("probe");
    const probe = new Map(nestedFields("api_connection", "probe").map((x) => [x.name, x]));
    expect([...probe.keys()].sort()).toEqual(["description", "method", "path", "timeout", "valid_statuses"]);
    expect(probe.get("method")?.values).toEqual(["GET", "HEAD", "POST"]);
    expect(probe.get("path")?.required).toBe(true);
    expect(nestedFields("auth_connector", "probe", "oauth2_client_credentials").map((x) => x.name).sort()).toEqual(["description", "timeout"]);
    expect(nestedFields("auth_connector", "probe", "api_key")).toEqual([]);
    expect(nestedFields("api_connection", "headers")).toEqual([]);
    expect(nestedFields("action", "probe")).toEqual([]);
  });
});

describe("probe completion", () => {
  let project: TempProject;
  const CONNECTION = "kind: api_connection\nname: hubspot\nbase_url: https://x.example\nprobe:\n  path: /v1/me\n  method: \n  \n";
  afterAll(() => project?.remove());

  it("completes the probe's fields (without those already there) and its method values", async () => {
    project = await makeTempProject({ development: { hubspot_token: "TEST-ONLY-value" } }, { "connections/hubspot.yaml": CONNECTION });
    const model = await createCoreModel(project.path("stellar.yaml"), { bufferOf: () => undefined, read: async () => undefined });
    const keys = completion(model, CONNECTION, { line: 6, character: 2 });
    expect(keys.map((i) => i.label).sort()).toEqual(["description", "timeout", "valid_statuses"]);
    const values = completion(model, CONNECTION, { line: 5, character: 10 });
    expect(values.map((i) => i.label)).toEqual(["GET", "HEAD", "POST"]);
    // top-level keys still come from the kind itself
    const top = completion(model, `${CONNECTION}\n`, { line: 8, character: 0 });
    expect(top.map((i) => i.label)).toContain("auth");
  });
});
