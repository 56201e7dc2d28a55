import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { parseProjectConfig } from "./project.js";
import { RULES } from "./rules.js";
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

  it("schemas/stellar.schema.json agrees with check on rules: ids: a known id is a described property whose severity is checked, any other id is accepted (check warns and ignores it)", () => {
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
    const validate = ajv.compile(JSON.parse(readFileSync(join(schemasDir, "stellar.schema.json"), "utf8")) as object);
    const project = (rules: Record<string, unknown>) => ({ version: 1, environments: { production: { members: {} } }, rules });
    expect(validate(project({ "unused-secret": "off", "recipient-drift": "warning" }))).toBe(true);
    // an unknown (mistyped or retired) id: a warning in check, not a refusal, so valid for editors too
    expect(validate(project({ "unused-secrets": "off", "retired-rule": "error" }))).toBe(true);
    const text = 'version: 1\nenvironments:\n  production:\n    members: {}\nrules:\n  unused-secrets: "off"\n';
    expect(parseProjectConfig(text, "/r/stellar.yaml").diagnostics.map((d) => [d.rule, d.severity, d.suggestion])).toEqual([["schema", "warning", "unused-secret"]]);
    // a known id with a severity that is none: an error in both
    expect(validate(project({ "unused-secret": "loud" }))).toBe(false);
    expect(validate?.errors?.map((e) => [e.keyword, e.instancePath])).toEqual([["enum", "/rules/unused-secret"]]);
    expect(parseProjectConfig(text.replace('unused-secrets: "off"', "unused-secret: loud"), "/r/stellar.yaml").diagnostics.map((d) => [d.rule, d.severity])).toEqual([["schema", "error"]]);
    // each known id is documented in the schema (its summary and default severity: what an editor shows)
    const rules = (SCHEMA_FILES["stellar.schema.json"] as { properties: { rules: { properties: Record<string, { description: string }> } } }).properties.rules;
    expect(Object.keys(rules.properties)).toEqual(RULES.map((r) => r.id));
    for (const r of RULES) expect(rules.properties[r.id]!.description).toBe(`${r.summary} Default: ${r.severity}.`);
  });
});
