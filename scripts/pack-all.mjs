#!/usr/bin/env node
// `pnpm pack:all`: builds everything (tsc -b + the esbuild bundles of scripts/bundle.mjs), then
// writes installable tarballs of @stellar-secrets/cli, @stellar-secrets/resolver and
// @stellar-secrets/language-server, and the VS Code extension's .vsix, into one folder
// (default `artifacts/`, or `--out DIR`).
//
// Each tarball holds its bundle (the workspace's internal packages core and sops, and yaml/ajv,
// are inside it), so it has no dependency to fetch: `npm install -g ./stellar-secrets-cli-0.1.0.tgz`
// works on a machine with only Node and npm, offline. The tarball's package.json is written
// from the workspace one (name, version, description, license, engines, bin), pointing at the
// bundle; `workspace:*` never reaches it. The resolver keeps `age-encryption` as an optional peer
// (loaded only for post-quantum keys). `--no-vsix` skips the extension, `--no-build` the build,
// `--quiet` prints only errors.
//
// Usage: node scripts/pack-all.mjs [--out DIR] [--no-vsix] [--no-build] [--quiet]   (`pnpm pack:all` installs and builds first)
import { execFileSync } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { scriptArgs } from "./script-args.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values: opts } = scriptArgs(import.meta.url, {
  options: { out: { type: "string" }, quiet: { type: "boolean" }, "no-build": { type: "boolean" }, "no-vsix": { type: "boolean" } },
});
const out = resolve(opts.out ?? join(root, "artifacts"));
const quiet = opts.quiet === true;
const log = (s) => quiet || console.log(s);
const sh = (cmd, argv, cwd = root) => execFileSync(cmd, argv, { cwd, stdio: quiet ? ["ignore", "pipe", "inherit"] : "inherit" });

if (opts["no-build"] !== true) {
  sh(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-b"]);
  sh(process.execPath, [join(root, "scripts/bundle.mjs")]);
}
mkdirSync(out, { recursive: true });
for (const f of readdirSync(out)) if (/^stellar-secrets-.*\.tgz$|\.vsix$/.test(f)) rmSync(join(out, f));

const readJson = (p) => JSON.parse(readFileSync(p, "utf8"));
const stage = mkdtempSync(join(tmpdir(), "stellar-pack-"));

/** Copies `copies` ([source relative to the package, or absolute; destination]) into a staging folder with `manifest`, then `npm pack` into `out`. */
function pack(name, manifest, copies, readme) {
  const from = join(root, "packages", name);
  const dir = join(stage, name);
  mkdirSync(dir, { recursive: true });
  // V8 code caches that runs in this workspace wrote beside a bundle are this machine's: never shipped
  const filter = (p) => !p.endsWith(".cache") && !p.endsWith(".tmp");
  for (const [src, dest] of copies) cpSync(src.startsWith("/") ? src : join(from, src), join(dir, dest ?? src), { recursive: true, filter });
  copyFileSync(join(root, readme), join(dir, "README.md"));
  if (existsSync(join(root, "LICENSE"))) copyFileSync(join(root, "LICENSE"), join(dir, "LICENSE"));
  writeFileSync(join(dir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  const file = execFileSync("npm", ["pack", "--silent", "--pack-destination", out], { cwd: dir, encoding: "utf8" }).trim().split("\n").pop();
  log(`packed ${join(out, file)}`);
  return join(out, file);
}

const base = (name) => {
  const p = readJson(join(root, "packages", name, "package.json"));
  return { name: p.name, version: p.version, description: p.description, type: "module", license: p.license, engines: p.engines };
};

// ---- the CLI: bin + the bundle (its V8 code cache is written by the first run of each command) --------------------------------------------------------
pack(
  "cli",
  {
    ...base("cli"),
    bin: { "stellar-secrets": "./bin/stellar-secrets.js" },
    exports: { ".": "./dist/bundle/stellar-secrets.cjs" },
    files: ["bin", "dist/bundle"],
  },
  [["bin"], ["dist/bundle"]],
  "docs/install.md",
);

// ---- the resolver: one module, types with the sops types they name ---------------------------
{
  const types = join(stage, "resolver-types");
  mkdirSync(join(types, "sops"), { recursive: true });
  const copyDts = (from, to, rewrite) => {
    for (const f of readdirSync(from)) {
      if (!f.endsWith(".d.ts")) continue;
      let text = readFileSync(join(from, f), "utf8");
      if (rewrite) text = text.replaceAll('from "@stellar-secrets/sops"', 'from "./sops/index.js"');
      text = text.replace(/\n\/\/# sourceMappingURL=.*\n?$/, "\n");
      writeFileSync(join(to, f), text);
      // the same declarations as CommonJS ones (x.d.cts importing "./y.cjs"), for the `require`
      // condition: TypeScript's node16 mode refuses a CommonJS file importing ES-module declarations
      // (TS1479), even where Node 20.19+ (and the package's index.cjs) can require it
      writeFileSync(join(to, f.replace(/\.d\.ts$/, ".d.cts")), text.replace(/(from "\.{1,2}\/[^"]*)\.js"/g, '$1.cjs"'));
    }
  };
  copyDts(join(root, "packages/resolver/dist"), types, true);
  copyDts(join(root, "packages/sops/dist"), join(types, "sops"), false);
  pack(
    "resolver",
    {
      ...base("resolver"),
      main: "./dist/bundle/index.mjs",
      types: "./dist/types/index.d.ts",
      // require: a CommonJS entry for what cannot require an ES module (jest's module system on Node 20,
      // node --no-experimental-require-module); it shares one instance with index.mjs (bundle.mjs)
      // in this order: bundlers match `module` first (webpack copies what index.mjs names, not what
      // index.cjs reads); TypeScript matches require's own types for a CommonJS importer, `types` else
      exports: {
        ".": {
          module: "./dist/bundle/index.mjs",
          require: { types: "./dist/types/index.d.cts", default: "./dist/bundle/index.cjs" },
          types: "./dist/types/index.d.ts",
          default: "./dist/bundle/index.mjs",
        },
      },
      files: ["dist/bundle", "dist/types"],
      peerDependencies: { "age-encryption": "0.3.1" },
      peerDependenciesMeta: { "age-encryption": { optional: true } },
      keywords: ["sops", "age", "secrets", "runtime"],
    },
    [["dist/bundle"], [types, "dist/types"]],
    "docs/resolver.md",
  );
}

// ---- the language server: bin + one module ---------------------------------------------------
pack(
  "language-server",
  {
    ...base("language-server"),
    bin: { "stellar-secrets-language-server": "./bin/stellar-secrets-language-server.js" },
    exports: { ".": "./dist/bundle/server.mjs" },
    files: ["bin", "dist/bundle"],
  },
  [["bin"], ["dist/bundle"]],
  "docs/editor.md",
);

// ---- the extension's .vsix ------------------------------------------------------------------
if (opts["no-vsix"] !== true) {
  sh(process.execPath, [join(root, "extension/scripts/build.mjs"), "--package"], join(root, "extension"));
  copyFileSync(join(root, "extension/dist/stellar-secrets.vsix"), join(out, "stellar-secrets.vsix"));
  log(`packed ${join(out, "stellar-secrets.vsix")}`);
}
rmSync(stage, { recursive: true, force: true });
