#!/usr/bin/env node
// Writes schemas/*.json and packages/core/src/validators.generated.ts (the schemas compiled ahead of
// time by ajv) from packages/core/src/schemas.ts. After changing a schema: `pnpm build`, run this,
// `pnpm build` again. packages/core/src/schemas.test.ts fails when either output is stale.
//
// Usage: node scripts/write-schemas.mjs   (no flags)
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SCHEMA_FILES } from "../packages/core/dist/schemas.js";
import { generateValidatorsModule } from "../packages/core/dist/schema-codegen.js";
import { scriptArgs } from "./script-args.mjs";

scriptArgs(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
for (const [name, schema] of Object.entries(SCHEMA_FILES)) {
  writeFileSync(join(root, "schemas", name), `${JSON.stringify(schema, null, 2)}\n`);
  console.log(`wrote schemas/${name}`);
}
writeFileSync(join(root, "packages/core/src/validators.generated.ts"), generateValidatorsModule());
console.log("wrote packages/core/src/validators.generated.ts");
