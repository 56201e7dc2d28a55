// Copies the repository's example organisation (stellar.yaml, .sops.yaml, the secrets folder and
// the agent config folders) into a temp directory, for tests that edit it.
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Directories at the repository root that hold the project's code, not the example organisation. */
const CODE_DIRS = new Set(["packages", "extension", "node_modules", "test", "bench", "docs", "scripts", "schemas", "dist", "coverage"]);

/** Copies the example organisation of `repo` into a new temp dir and returns its path. */
export function copyExampleOrg(repo, prefix = "stellar-example-") {
  if (!existsSync(join(repo, "stellar.yaml"))) throw new Error(`${repo}/stellar.yaml is missing: the example organisation is not there`);
  const dest = mkdtempSync(join(tmpdir(), prefix));
  for (const e of readdirSync(repo, { withFileTypes: true })) {
    if (e.name.startsWith(".") && e.name !== ".sops.yaml") continue;
    if (e.isDirectory() && CODE_DIRS.has(e.name)) continue;
    if (e.isFile() && !/\.ya?ml$/.test(e.name)) continue;
    if (e.isFile() && /^(pnpm-|package)/.test(e.name)) continue;
    cpSync(join(repo, e.name), join(dest, e.name), { recursive: true });
  }
  return dest;
}

/** Secret names of an environment file (names are in clear: top-level keys other than `sops`). */
export function secretNamesOf(file) {
  const names = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = /^([A-Za-z0-9_][A-Za-z0-9_.-]*):/.exec(line);
    if (m && m[1] !== "sops") names.push(m[1]);
  }
  return names;
}
