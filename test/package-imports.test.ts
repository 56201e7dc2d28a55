/**
 * The `tsc -b` output runs on its own (without the esbuild bundles): every package a package's
 * dist/ imports (statically or through import()) is declared in that package's package.json, so
 * node finds it from there under pnpm's strict node_modules. A package imported only through
 * another one (age-encryption's @noble/* through age-encryption) is that one's to declare.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { assertBuilt, REPO_ROOT } from "./helpers/cli.js";

/** The package names `text` (compiled JavaScript) imports: bare specifiers, without node: built-ins. */
function importedPackages(text: string): string[] {
  const names = new Set<string>();
  for (const m of text.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|^import\s*["']([^"']+)["']/gm)) {
    const spec = m[1] ?? m[2] ?? m[3]!;
    if (spec.startsWith(".") || spec.startsWith("/") || spec.startsWith("node:")) continue;
    const parts = spec.split("/");
    names.add(spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!);
  }
  return [...names];
}

describe("the tsc output of each package imports only what its package.json declares", () => {
  it("finds imports the way the check below reads them", () => {
    expect(importedPackages(`import { a } from "yaml";\nimport "side-effect";\nexport { b } from "@scope/pkg/sub.js";\nconst t = () => import("age-encryption");\nimport { c } from "./local.js";\nimport { d } from "node:fs";`).sort()).toEqual(
      ["@scope/pkg", "age-encryption", "side-effect", "yaml"],
    );
  });

  it("core, sops, git, resolver, cli, language-server", () => {
    assertBuilt();
    const undeclared: string[] = [];
    const found = new Set<string>();
    for (const pkg of ["core", "sops", "git", "resolver", "cli", "language-server"]) {
      const dir = join(REPO_ROOT, "packages", pkg);
      const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Record<string, Record<string, string> | string | undefined>;
      const declared = new Set([manifest.name as string, ...["dependencies", "peerDependencies", "optionalDependencies"].flatMap((k) => Object.keys((manifest[k] as Record<string, string> | undefined) ?? {}))]);
      // the output of a source that exists (a dist/ built before a source was removed keeps its old output)
      const files = readdirSync(join(dir, "dist"), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".js") && !f.startsWith("bundle") && existsSync(join(dir, "src", f.replace(/\.js$/, ".ts"))));
      expect(files.length, pkg).toBeGreaterThan(0);
      for (const f of files) {
        for (const name of importedPackages(readFileSync(join(dir, "dist", f), "utf8"))) {
          found.add(name);
          if (!declared.has(name)) undeclared.push(`packages/${pkg}/dist/${f} imports ${name}`);
        }
      }
    }
    expect(undeclared).toEqual([]);
    // the check saw the imports it is about (age-encryption: sops's import() for proposals)
    expect([...found]).toEqual(expect.arrayContaining(["yaml", "ajv", "age-encryption", "vscode-languageserver", "@stellar-secrets/sops", "@stellar-secrets/core"]));
  });
});
