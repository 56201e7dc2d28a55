#!/usr/bin/env node
// Writes schemas/*.json from packages/core (their source: packages/core/src/schemas.ts).
// Run after `pnpm build` whenever a schema changes; packages/core/src/schemas.test.ts fails when they drift.
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SCHEMA_FILES } from "../packages/core/dist/schemas.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
for (const [name, schema] of Object.entries(SCHEMA_FILES)) {
  writeFileSync(join(root, "schemas", name), `${JSON.stringify(schema, null, 2)}\n`);
  console.log(`wrote schemas/${name}`);
}
