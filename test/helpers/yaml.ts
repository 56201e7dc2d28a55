/**
 * The `yaml` package for root-level tests, resolved from the CLI package (the workspace root does
 * not depend on it directly).
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// (not imported from ./cli.js, which imports this module: no import cycle)
const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), "../../packages/cli/package.json"));
const yaml = require("yaml") as { parse(text: string, options?: { mapAsMap?: boolean }): unknown };

/** Parses YAML text into plain data (typed loosely: tests inspect it with expect). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const parse = (text: string): any => yaml.parse(text);

/** Parses YAML text with every mapping as a `Map` (keys such as `__proto__` stay ordinary keys). */
export const parseAsMaps = (text: string): unknown => yaml.parse(text, { mapAsMap: true });
