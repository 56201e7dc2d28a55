import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { generateValidatorsModule } from "./schema-codegen.js";
import { SCHEMA_FILES } from "./schemas.js";
import { validatorFor } from "./validate.js";

const schemasDir = join(import.meta.dirname, "..", "..", "..", "schemas");

describe("schemas/", () => {
  it("holds exactly the schemas core validates with (run scripts/write-schemas.mjs after a change)", () => {
    const files = readdirSync(schemasDir).filter((f) => f.endsWith(".json")).sort();
    expect(files).toEqual(Object.keys(SCHEMA_FILES).sort());
    for (const [name, schema] of Object.entries(SCHEMA_FILES)) {
      expect(JSON.parse(readFileSync(join(schemasDir, name), "utf8")), name).toEqual(schema);
    }
  });

  it("has validators.generated.ts compiled from the current schemas (run scripts/write-schemas.mjs after a change)", () => {
    const committed = readFileSync(join(import.meta.dirname, "validators.generated.ts"), "utf8");
    expect(committed === generateValidatorsModule()).toBe(true);
  });

  it("validates with the precompiled validators like ajv does", () => {
    const action = validatorFor("action.schema.json");
    expect(action({ kind: "action", name: "a", method: "GET", path: "/x" })).toBe(true);
    expect(action({ kind: "action", name: "a", method: "FETCH", path: "/x", extra: 1 })).toBe(false);
    expect(action.errors?.map((e) => [e.keyword, e.instancePath])).toEqual([
      ["additionalProperties", ""],
      ["enum", "/method"],
    ]);
    expect(action.schema).toBe(SCHEMA_FILES["action.schema.json"]);
  });

  it("compiles in strict mode as a set, with unique $ids", () => {
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
    for (const schema of Object.values(SCHEMA_FILES)) ajv.addSchema(schema as object);
    const ids = Object.values(SCHEMA_FILES).map((s) => s.$id);
    expect(new Set(ids).size).toBe(ids.length);
    const validate = ajv.getSchema("https://stellar-secrets.dev/schemas/config.schema.json");
    expect(validate?.({ kind: "agent", name: "support", actions: ["a"] })).toBe(true);
    expect(validate?.({ kind: "agent", name: "support", action: ["a"] })).toBe(false);
    expect(validate?.({ kind: "auth_connector", name: "s", type: "bearer_token", token: { secret: "x_y" } })).toBe(true);
    expect(validate?.({ kind: "auth_connector", name: "s", type: "bearer_token", api_key: { secret: "x_y" } })).toBe(false);
  });
});
