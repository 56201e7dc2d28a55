#!/usr/bin/env node
// Bundles the extension (CommonJS, for the VS Code extension host) and the language server
// (one ES module, run by the client as a separate Node process) with esbuild, so the .vsix
// needs no node_modules. Type-checks first. `--package` also writes dist/stellar-secrets.vsix.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const here = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const dist = join(here, "dist");
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", join(here, "tsconfig.json")], { stdio: "inherit" });

const common = { bundle: true, platform: "node", target: "node20", sourcemap: false, minify: false, logLevel: "warning", legalComments: "none" };
await build({
  ...common,
  entryPoints: [join(here, "src/extension.ts")],
  outfile: join(dist, "extension.cjs"),
  format: "cjs",
  external: ["vscode"],
});
// The server: its built dist/main.js and a call to main() (what its bin does; the bin itself
// chooses at run time between its own bundle and dist/, which a bundler cannot follow).
const serverMain = join(here, "node_modules/@stellar-secrets/language-server/dist/main.js");
await build({
  ...common,
  stdin: { contents: `import { main } from ${JSON.stringify(serverMain)};\nmain();\n`, resolveDir: here, sourcefile: "server-entry.mjs", loader: "js" },
  outfile: join(dist, "server.mjs"),
  format: "esm",
  // CommonJS dependencies (vscode-languageserver) call require() for node built-ins.
  banner: { js: "import { createRequire as __stellarCreateRequire } from 'node:module'; const require = __stellarCreateRequire(import.meta.url);" },
});
// the server's build tag, its last line (as scripts/bundle.mjs tags the package's bundles): the
// server keys its on-disk cache of config models with it, so models made by another build are never used
{
  const server = join(dist, "server.mjs");
  const text = readFileSync(server, "utf8");
  const tag = createHash("sha256").update(text).digest("hex").slice(0, 8);
  writeFileSync(server, `${text}${text.endsWith("\n") ? "" : "\n"}// stellar-secrets build ${tag}\n`);
}
if (process.argv.includes("--package")) {
  execFileSync(
    process.execPath,
    [require.resolve("@vscode/vsce/vsce"), "package", "--no-dependencies", "--skip-license", "--out", join(dist, "stellar-secrets.vsix")],
    { cwd: here, stdio: "inherit" },
  );
}
