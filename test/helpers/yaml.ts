/**
 * The `yaml` package for root-level tests, resolved from the CLI package (the workspace root does
 * not depend on it directly).
 */
import { createRequire } from "node:module";
import { join } from "node:path";
import { REPO_ROOT } from "./cli.js";

const require = createRequire(join(REPO_ROOT, "packages/cli/package.json"));
const yaml = require("yaml") as typeof import("yaml");

/** Parses YAML text into plain data. */
export const parse: (text: string) => any = (text) => yaml.parse(text); // eslint-disable-line @typescript-eslint/no-explicit-any
