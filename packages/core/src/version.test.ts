import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { VERSION } from "./version.js";

describe("VERSION", () => {
  it("is the version of every package of the repository", () => {
    const root = join(import.meta.dirname, "..", "..", "..");
    for (const manifest of ["package.json", "packages/sops", "packages/core", "packages/git", "packages/resolver", "packages/cli", "packages/language-server", "extension"]) {
      const path = manifest.endsWith(".json") ? join(root, manifest) : join(root, manifest, "package.json");
      expect((JSON.parse(readFileSync(path, "utf8")) as { version: string }).version, manifest).toBe(VERSION);
    }
  });
});
