// The server's modules take vscode-languageserver/node's values from ./lsp.ts only (types may come
// from the package: `import type` is erased). The bundle wraps each ES-module import of that
// CommonJS package in esbuild's interop helper, which copies its ~320 exports into a new object of
// getters per importing module: twelve importers made twelve copies at every start
// (docs/performance.md, sixteenth round).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const src = join(import.meta.dirname, ".");

/** The value imports (`import { a, type B }`: a) from `vscode-languageserver/node` of a module's text. */
function valueImportsOfLsp(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/^import\s+(type\s+)?\{([^}]*)\}\s+from\s+"vscode-languageserver\/node";/gm)) {
    if (m[1] !== undefined) continue;
    for (const name of (m[2] as string).split(",").map((n) => n.trim())) if (name !== "" && !name.startsWith("type ")) found.push(name);
  }
  for (const m of text.matchAll(/^import\s+(\*\s+as\s+\w+|\w+)\s+from\s+"vscode-languageserver\/node";/gm)) found.push(m[1] as string);
  return found;
}

describe("vscode-languageserver/node is imported for its values in one module", () => {
  it("finds value imports and ignores type-only ones", () => {
    expect(valueImportsOfLsp('import { ResponseError, type Range } from "vscode-languageserver/node";\n')).toEqual(["ResponseError"]);
    expect(valueImportsOfLsp('import type { Range } from "vscode-languageserver/node";\nimport { type Position } from "vscode-languageserver/node";\n')).toEqual([]);
    expect(valueImportsOfLsp('import * as lsp from "vscode-languageserver/node";\n')).toEqual(["* as lsp"]);
    expect(valueImportsOfLsp('import {\n  MarkupKind,\n  type Hover,\n} from "vscode-languageserver/node";\n')).toEqual(["MarkupKind"]);
  });

  it("no module of the server but lsp.ts imports a value of it", () => {
    const offenders: string[] = [];
    for (const name of readdirSync(src)) {
      if (!name.endsWith(".ts") || name.endsWith(".test.ts") || name === "lsp.ts") continue;
      const values = valueImportsOfLsp(readFileSync(join(src, name), "utf8"));
      if (values.length > 0) offenders.push(`${name}: ${values.join(", ")} (import them from ./lsp.js)`);
    }
    expect(offenders).toEqual([]);
  });
});
