import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { SCHEMA_FILES } from "./schemas.js";

const schemasDir = join(import.meta.dirname, "..", "..", "..", "schemas");

describe("schemas/", () => {
  it("holds exactly the schemas core validates with (run scripts/write-schemas.mjs after a change)", () => {
    const files = readdirSync(schemasDir).filter((f) => f.endsWith(".json")).sort();
    expect(files).toEqual(Object.keys(SCHEMA_FILES).sort());
    for (const [name, schema] of Object.entries(SCHEMA_FILES)) {
      expect(JSON.parse(readFileSync(join(schemasDir, name), "utf8")), name).toEqual(schema);
    }
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
