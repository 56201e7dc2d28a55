#!/usr/bin/env node
// Bundles each shipped entry point into dist/bundle/ with esbuild, after `tsc -b` (the root
// `build` runs both). Loading one file instead of ~150 modules is most of a CLI command's start
// time, and a bundled package installs without the workspace's internal packages.
//
// - packages/cli/dist/bundle/stellar-secrets.cjs: the CLI, core, sops, yaml, ajv's runtime in one
//   CommonJS file, run by the bin through vm.Script with a V8 code cache (stellar-secrets.cjs.CMD.cache,
//   written beside it by the first run; a command's start is then mostly node's own); and
//   command-NAME.cjs, one command alone, for the commands whose start is timed (ONE_COMMAND_BUNDLES).
// - packages/resolver/dist/bundle/resolver.cjs + index.mjs/index.cjs: the resolver with sops and yaml, no
//   dependency, loaded through vm.Script with a V8 code cache (index.mjs and index.cjs, written below);
//   `age-encryption` stays an optional import for post-quantum keys only.
// - packages/language-server/dist/bundle/server.cjs + server.mjs: the server and its dependencies in one
//   CommonJS file, run by the bin (and by server.mjs, the package's module entry) through vm.Script
//   with a V8 code cache (server.cjs.cache, written once the first run's initial index is built).
//
// The bins use a bundle only while it is newer than every `tsc -b` output it was made from
// (dist/.tsbuildinfo of the package and of core and sops): a `tsc -b` without this step never
// runs stale code. `--check` prints the sizes.
//
// Usage: node scripts/bundle.mjs [--if-stale] [--check]   (`--if-stale`: only the bundles older than their inputs)
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { scriptArgs } from "./script-args.mjs";

const { values: opts } = scriptArgs(import.meta.url, { options: { "if-stale": { type: "boolean" }, check: { type: "boolean" } } });
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = (name) => join(root, "packages", name);
const common = {
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  minify: true,
  keepNames: false,
  legalComments: "none",
  logLevel: "warning",
  sourcemap: false,
  // CommonJS dependencies (ajv, vscode-languageserver) call require() for node built-ins.
  banner: { js: "import { createRequire as __stellarRequire } from 'node:module'; const require = __stellarRequire(import.meta.url);" },
};

/**
 * The resolver package's two entries, `index.mjs` (import) and `index.cjs` (require: CommonJS
 * apps, and test runners with a module system of their own, such as jest on Node 20, which cannot
 * require an ES module). Each compiles resolver.cjs (the bundle) through vm.Script with a V8 code
 * cache, once per process: the first to run keeps the module's exports on `globalThis` under a
 * symbol named after the bundle's build tag, and the other returns them, so an app that both
 * imports and requires the package has one ResolverError class and `instanceof` holds.
 *
 * The cache goes through the one loader (scripts/code-cache.cjs), written into each entry rather
 * than required beside it: in an app of ES modules, the first require() sets up node's CommonJS
 * loader, ~1.5 % of a deploy's fresh start (callgrind of a deploy start: 269-276 M instructions
 * with the loader inline, 276-278 M with it required). The loader needs only node's own modules.
 */
function resolverEntry(format, tag) {
  const esm = format === "esm";
  const prelude = esm
    ? `// Node's modules come from process.getBuiltinModule, not \`import\`: no ES-module namespace is
// built for them, and node:crypto is not imported here at all (an ES-module import of it also loads
// WebCrypto; the resolver loads node:crypto itself on its first decrypt). The files beside this one
// are named by \`new URL("./x.cjs", import.meta.url)\`: webpack copies what that names, so a
// webpack-bundled app finds them (under other names).
const { readFileSync } = process.getBuiltinModule("node:fs");
const { createRequire } = process.getBuiltinModule("node:module");
const { fileURLToPath } = process.getBuiltinModule("node:url");
const ownFile = () => fileURLToPath(new URL("./resolver.cjs", import.meta.url));
const yamlFile = () => fileURLToPath(new URL("./yaml.cjs", import.meta.url));
const builtin = (id) => process.getBuiltinModule(id);
`
    : `"use strict";
const { readFileSync } = require("node:fs");
const { createRequire } = require("node:module");
const ownFile = () => require("node:path").join(__dirname, "resolver.cjs");
const yamlFile = () => require("node:path").join(__dirname, "yaml.cjs");
const builtin = require;
`;
  const exported = esm
    ? "export const { createResolver, Resolver, ResolverError, createJsonLinesSink, findResolverIdentities, nearestName } = api;\n"
    : "module.exports = api;\n";
  return `// @stellar-secrets/resolver: compiles resolver.cjs (the bundle) with a V8 code cache kept beside
// it (resolver.cjs.cache, written at exit by the first process that had none, or whose cache V8
// rejected, e.g. after a Node upgrade; a read-only folder just means no cache), by the loader below
// (scripts/code-cache.cjs of the repository, the one loader of every bundle, written in by the
// build: how the cache is checked and written is described there).
//
// index.mjs and index.cjs (the same code for import and for require) load it once per process: the
// first keeps the exports on globalThis under a symbol named after the build, the other takes them,
// so an app that does both has one ResolverError class.
${prelude}
const codeCache = { exports: {} };
// ---- scripts/code-cache.cjs
(function (module, require) {
${readFileSync(loaderFile, "utf8").trimEnd()}
})(codeCache, builtin);
// ----

const SHARED = Symbol.for("@stellar-secrets/resolver build ${tag}");
const api = (globalThis[SHARED] ??= load());

function load() {
  let file = "resolver.cjs";
  let source;
  try {
    file = ownFile();
    source = readFileSync(file, "utf8");
  } catch (error) {
    // esbuild and rollup copy this module into an app's bundle but not the files it reads beside
    // itself (and esbuild's CommonJS output has no import.meta.url to find them by): say so, where
    // node would only say ENOENT of a file the app does not know, or "Invalid URL"
    const code = error?.code ?? "unreadable";
    const bundled = code === "ENOENT" || code === "ENOTDIR" || code === "ERR_INVALID_URL";
    throw Object.assign(
      new Error(
        \`@stellar-secrets/resolver: cannot read its own code \${file} (\${code}).\` +
          (bundled
            ? " The package was bundled into this app (by esbuild, rollup or another bundler), which does not copy the files it loads at run time: keep it out of the bundle (esbuild --external:@stellar-secrets/resolver or --packages=external, rollup external: ['@stellar-secrets/resolver'], webpack externals) and install it beside the app (npm install stellar-secrets-resolver-<version>.tgz)."
            : " Check that the installed package is readable by this process (node --permission: --allow-fs-read for its folder)."),
        { cause: error },
      ),
      { code: "ERR_STELLAR_RESOLVER_MISSING" },
    );
  }
  const bundleRequire = createRequire(file);
  // yaml.cjs (loaded on first need) by its own name (see above)
  const require = (id) => bundleRequire(id === "./yaml.cjs" ? yamlFile() : id);
  // node's own functions are of node's main realm: when this entry's Function is not theirs, it runs
  // in a realm of its own, as jest runs each test file (and vitest's vmThreads pool): vm.Script
  // would run the bundle in node's main realm, and its errors would not be instanceof Error there
  if (!(readFileSync instanceof Function)) {
    let yaml; // yaml.cjs in this realm too (its Uint8Array is the one the bundle tests against)
    const own = yamlFile();
    return inThisRealm(source, file, (id) => (id === "./yaml.cjs" ? (yaml ??= inThisRealm(readFileSync(own, "utf8"), own, bundleRequire)) : bundleRequire(id)));
  }
  const loaded = codeCache.exports.loadBundle(file, { source, require });
  if (loaded.stale) process.once("exit", () => loaded.writeCache());
  return loaded.exports;
}

/** The bundle run by this realm's own Function (no code cache): its Error, Promise and Array are the caller's. */
function inThisRealm(source, file, require) {
  const module = { exports: {} };
  const dir = file.slice(0, Math.max(file.lastIndexOf("/"), file.lastIndexOf("\\\\")));
  new Function("exports", "require", "module", "__filename", "__dirname", source + "\\n//# sourceURL=" + file)(module.exports, require, module, file, dir);
  return module.exports;
}

${exported}`;
}

/**
 * The language server package's module entry (`exports`, `bench/lsp.mjs --server`): runs server.cjs
 * through the bin's loader (bin/code-cache.js), which keeps the V8 code cache beside it.
 */
const SERVER_ENTRY = `// @stellar-secrets/language-server: server.cjs (the bundle) compiled with a V8 code cache kept
// beside it (server.cjs.cache); see bin/code-cache.js.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { loadServerBundle } = require("../../bin/code-cache.js");
const server = loadServerBundle(require.resolve("./server.cjs"));
export const main = server.main;
`;

/**
 * The commands whose start matters most (issue 14: `get`, `list`, `check` against a bare `node`,
 * `set` against `get`; `textconv`, which git starts once per file version of a `git log -p`) also get a bundle of their own, dist/bundle/command-NAME.cjs: the command
 * with entry.ts (its `--help`, errors and exit status) and nothing of the other commands, so a run
 * reads and deserializes less. The bin runs it when the command line starts with NAME; every other
 * command line (help, --version, the other commands) runs the whole bundle. Beside the whole
 * bundle, not in a subfolder: `import.meta.url`-relative paths then resolve the same in both.
 */
const ONE_COMMAND_BUNDLES = ["get", "list", "check", "set", "textconv"];
const COMMAND_ENTRY = "stellar-command:";
/** esbuild plugin: the entry module of a one-command bundle (`stellar-command:NAME`). */
const commandEntries = {
  name: "stellar-command-entries",
  setup(b) {
    b.onResolve({ filter: /^stellar-command:/ }, (args) => ({ path: args.path.slice(COMMAND_ENTRY.length), namespace: "stellar-command" }));
    b.onLoad({ filter: /.*/, namespace: "stellar-command" }, (args) => ({
      resolveDir: join(pkg("cli"), "dist"),
      loader: "js",
      contents: [
        `import command from "./commands/${args.path}.js";`,
        `import { runCommand, runProcess } from "./entry.js";`,
        `/** Runs \`stellar-secrets ${args.path} ...\` (argv without node and script, the command name first). */`,
        `export function main(argv) { runProcess(argv, (a, ctx) => runCommand(command, a.slice(1), ctx)); }`,
      ].join("\n"),
    }));
  },
};

/**
 * esbuild plugin: vscode-languageserver's lib/node/files.js loads node:child_process at its top
 * level (about 3 ms of the server's start) for helpers the server never calls before a request
 * needs them (resolving global npm/yarn folders): loaded on first use instead. When the line is
 * not there (another version of the library), the file is bundled as it is.
 */
/**
 * esbuild plugin: `age-encryption` (typage, with @noble's curves, hashes, ciphers and ML-KEM: 140 KB,
 * a quarter of `get`'s bundle) in a file of its own, age.cjs beside the bundle, which sops's one
 * `import("age-encryption")` (hybrid post-quantum keys only, age.ts) requires on first use, by the
 * bundle's own folder (`__dirname`, which each loader gives the bundle): X25519
 * and ssh keys go through node:crypto, and no start reads it. The `age` entry point of the job
 * writes age.cjs; the job sets `dynamic-import: false` so that the import becomes a require()
 * (code that vm.Script compiled cannot import() on Node 20).
 */
const ageApart = {
  name: "age-apart",
  setup(b) {
    b.onResolve({ filter: /^age-encryption$/ }, () => ({ path: "age-encryption", namespace: "age-apart" }));
    // by its full path: the require() a bundle is given may be its loader's (the CLI's bin), not its own
    b.onLoad({ filter: /.*/, namespace: "age-apart" }, () => ({ loader: "js", contents: 'module.exports = require(__dirname + "/age.cjs");' }));
  },
};

/** age-encryption's ES-module entry: the `age` entry point of the CLI's and the server's jobs (age.cjs). */
const ageFile = createRequire(join(pkg("sops"), "package.json")).resolve("age-encryption");

const lazyChildProcess = {
  name: "lazy-child-process",
  setup(b) {
    b.onLoad({ filter: /[\\/]vscode-languageserver[\\/]lib[\\/]node[\\/]files\.js$/ }, (args) => {
      const text = readFileSync(args.path, "utf8");
      const eager = 'const child_process_1 = require("child_process");';
      if (!text.includes(eager)) return undefined;
      const lazy = 'const child_process_1 = { get fork() { return require("child_process").fork; }, get spawnSync() { return require("child_process").spawnSync; } };';
      return { contents: text.replace(eager, lazy), loader: "js" };
    });
  },
};

/**
 * esbuild plugin: `yaml` (112 KB, a third of the resolver bundle) evaluated on first use instead of
 * at load. Its module body builds its classes and schemas, which every start paid even when no file
 * needed it: the resolver reads sops's own layout with the plain readers (the CLI's config readers
 * build yaml nodes, so its bundles load it anyway and are left as they are). An import
 * of "yaml" from our packages resolves to a small CommonJS module whose exports are getters that
 * load the real one on first access; esbuild reads a CommonJS module's named imports through those
 * getters at each use, so only the moment it loads changes. The names are read from the installed
 * package at build time. Measured: the resolver's code cache 359 → 223 KB and its import ~1 ms
 * shorter. The real one is a file of its own beside the bundle (yaml.cjs), so that a start does not
 * even read it (see the resolver's job).
 */
const lazyYaml = {
  name: "lazy-yaml",
  setup(b) {
    b.onResolve({ filter: /^yaml$/ }, (args) => (args.pluginData === "real" || !/[\\/]packages[\\/]/.test(args.importer) ? undefined : { path: "yaml", namespace: "lazy-yaml" }));
    b.onLoad({ filter: /.*/, namespace: "lazy-yaml" }, () => {
      const names = Object.keys(createRequire(join(pkg("sops"), "package.json"))("yaml")).filter((n) => n !== "default" && n !== "__esModule");
      if (names.length < 10) throw new Error(`scripts/bundle.mjs: yaml exports only ${names.join(", ")}`);
      return {
        resolveDir: pkg("sops"),
        pluginData: "real",
        loader: "js",
        contents: [
          "let real;",
          // the file beside the bundle (yaml.cjs, the `yamlFile` entry): never read unless needed
          "const load = () => (real ??= require('./yaml.cjs'));",
          ...names.map((n) => `Object.defineProperty(exports, ${JSON.stringify(n)}, { enumerable: true, get: () => load()[${JSON.stringify(n)}] });`),
        ].join("\n"),
      };
    });
  },
};

/**
 * esbuild plugin: `yaml` bundled from its ES-module build (`yaml/browser/dist`, the same code as its
 * CommonJS `dist` but for two things we never use: warnings through `console.warn` instead of
 * `process.emitWarning`, and `!!binary` through atob/btoa instead of Buffer; and two debug variables,
 * LOG_TOKENS and LOG_STREAM). esbuild then hoists its functions into the bundle's scope: every
 * `isMap(node)` or `new Scalar(…)` of the parsers is a direct call, where the CommonJS build is reached
 * through esbuild's interop object, one getter per use (several milliseconds of the language
 * server's initial index, and the wrappers' set-up at every start).
 */
const yamlEsm = {
  name: "yaml-esm",
  setup(b) {
    b.onResolve({ filter: /^yaml$/ }, (args) => {
      if (args.pluginData === "real") return undefined; // lazyYaml's own import of the real one
      const dir = dirname(createRequire(join(pkg("sops"), "package.json")).resolve("yaml/package.json"));
      return { path: join(dir, "browser", "index.js") };
    });
  },
};

/** yaml's CommonJS build (the resolver's yaml.cjs: its own file beside the bundle, see lazyYaml). */
const yamlFile = createRequire(join(pkg("sops"), "package.json")).resolve("yaml");

const buildInfo = (...names) => names.map((n) => join(pkg(n), "dist/.tsbuildinfo"));
/** The one code-cache loader of the bundles, copied beside each bundle loaded through it (see the file). */
const loaderFile = join(root, "scripts", "code-cache.cjs");
const copyLoader = (out) => copyFileSync(loaderFile, join(out, "code-cache.cjs"));
const jobs = [
  {
    // One CommonJS file: the bin compiles it with vm.Script and a V8 code cache kept beside it
    // (bin/stellar-secrets.js), which a split ES-module bundle cannot use on Node 20. Commands
    // still initialise lazily: esbuild turns each `import()` of a command into a lazy init.
    out: join(pkg("cli"), "dist/bundle"),
    entry: "stellar-secrets.cjs",
    buildTag: true,
    inputs: [...buildInfo("cli", "core", "sops"), loaderFile],
    options: {
      entryPoints: {
        "stellar-secrets": join(pkg("cli"), "dist/main.js"),
        ...Object.fromEntries(ONE_COMMAND_BUNDLES.map((name) => [`command-${name}`, `${COMMAND_ENTRY}${name}`])),
        age: ageFile,
      },
      plugins: [commandEntries, yamlEsm, ageApart],
      supported: { "dynamic-import": false },
      format: "cjs",
      outExtension: { ".js": ".cjs" },
      // import.meta.url (one use, `git`'s hook path) computed on first use, not at every start
      banner: { js: "const __stellarImportMeta = { get url() { return require('node:url').pathToFileURL(__filename).href; } };" },
      define: { "import.meta.url": "__stellarImportMeta.url" },
    },
    after: copyLoader,
  },
  {
    // One CommonJS file behind two small entries (index.mjs for import, index.cjs for require; see resolverEntry) that compile it
    // with vm.Script and a V8 code cache beside it, as the CLI's bin does: a deploy's fresh process
    // then skips parsing and compiling what an earlier start compiled.
    out: join(pkg("resolver"), "dist/bundle"),
    entry: "resolver.cjs",
    buildTag: true,
    inputs: [...buildInfo("resolver", "sops"), loaderFile],
    options: {
      // yaml (180 KB, 57 % of the bundle) in a file of its own, yaml.cjs, which lazyYaml requires on
      // first use: a deploy start reads only the rest (one general-reader file in a hundred needs it)
      entryPoints: { resolver: join(pkg("resolver"), "dist/index.js"), yaml: yamlFile },
      external: ["age-encryption", "./yaml.cjs"],
      plugins: [lazyYaml],
      // it runs inside people's apps: an uncaught error shows a readable source line and class
      // names (`ResolverError: …`, not one 30 KB line of minified code and a one-letter class)
      minify: false,
      minifySyntax: true,
      minifyIdentifiers: true,
      minifyWhitespace: false,
      keepNames: true,
      // its one import() (age-encryption, post-quantum keys only) becomes a require(): code that
      // vm.Script compiled cannot import() on Node 20, and Node ≥ 20.19 requires ES modules
      supported: { "dynamic-import": false },
      format: "cjs",
      outExtension: { ".js": ".cjs" },
      banner: {},
    },
    after: (out, tags) => {
      const tag = tags.get("resolver.cjs");
      if (tag === undefined) throw new Error("scripts/bundle.mjs: resolver.cjs has no build tag");
      writeFileSync(join(out, "index.mjs"), resolverEntry("esm", tag));
      writeFileSync(join(out, "index.cjs"), resolverEntry("cjs", tag));
    },
  },
  {
    // One CommonJS file (server.cjs), compiled with vm.Script and a V8 code cache kept beside it
    // (server.cjs.cache) by the bin, and by server.mjs (written below: the package's module entry,
    // `import { main }`) for whoever imports it: the server's start then skips parsing and
    // compiling what an earlier start compiled, up to its initial index.
    out: join(pkg("language-server"), "dist/bundle"),
    entry: "server.cjs",
    // the tag also keys the server's on-disk cache of config models (index-cache.ts): models made by another build are never used
    buildTag: true,
    inputs: [...buildInfo("language-server", "core", "sops"), loaderFile],
    options: {
      entryPoints: { server: join(pkg("language-server"), "dist/main.js"), age: ageFile },
      // code that vm.Script compiled cannot import() on Node 20: esbuild's lazy inits and require()
      supported: { "dynamic-import": false },
      format: "cjs",
      outExtension: { ".js": ".cjs" },
      banner: {},
      plugins: [lazyChildProcess, yamlEsm, ageApart],
    },
    after: (out) => {
      copyLoader(out);
      writeFileSync(join(out, "server.mjs"), SERVER_ENTRY);
    },
  },
];

/**
 * Ends each CommonJS bundle in `out` with its build tag, `// stellar-secrets build 0123abcd` (the
 * first 32 bits of its SHA-256; returned, file name → tag), which the loaders (the CLI's bin, the resolver's index.mjs) write
 * in their code cache's header and compare: V8 checks a cache against the source's length only,
 * so a cache of another build of the same length would run that build's code.
 */
function buildTagged(out) {
  const tags = new Map();
  for (const f of readdirSync(out).filter((f) => f.endsWith(".cjs"))) {
    const text = asciiOnly(readFileSync(join(out, f), "utf8"));
    const tag = createHash("sha256").update(text).digest("hex").slice(0, 8);
    writeFileSync(join(out, f), `${text}${text.endsWith("\n") ? "" : "\n"}// stellar-secrets build ${tag}\n`);
    tags.set(f, tag);
  }
  return tags;
}

/**
 * `text` with every character beyond ASCII written as a `\uXXXX` escape (UTF-16 code units). esbuild
 * escapes them in strings, templates, regular expressions and names, but keeps a few comments
 * (the resolver's, not minified) with `…` or `—` in them; one such character makes node read the
 * whole bundle into a two-byte string: twice the memory, and slower to decode and compile.
 * Measured on the resolver's bundle (316 KB, 18 such characters), reading it at a deploy's start, 31
 * interleaved fresh processes: median 8.9 ms as it was, 5.5 ms as ASCII. An escape means what its
 * character meant anywhere esbuild could leave one (a comment, a string, a regular expression, a
 * name).
 */
function asciiOnly(text) {
  return text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

const started = Date.now();
const mtime = (p) => {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return undefined;
  }
};
for (const job of jobs) {
  if (opts["if-stale"] === true) {
    const made = mtime(join(job.out, job.entry));
    if (made !== undefined && job.inputs.every((p) => (mtime(p) ?? 0) <= made)) continue;
  }
  rmSync(job.out, { recursive: true, force: true });
  mkdirSync(job.out, { recursive: true });
  await build({ ...common, outExtension: { ".js": ".mjs" }, ...job.options, outdir: job.out });
  const tags = job.buildTag === true ? buildTagged(job.out) : new Map();
  job.after?.(job.out, tags);
  if (opts.check === true) {
    const files = readdirSync(job.out, { recursive: true }).filter((f) => statSync(join(job.out, f)).isFile());
    const bytes = files.reduce((n, f) => n + statSync(join(job.out, f)).size, 0);
    console.log(`${job.out.slice(root.length + 1)}: ${files.length} files, ${(bytes / 1024).toFixed(0)} KB`);
  }
}
if (opts.check === true) console.log(`bundled in ${Date.now() - started} ms`);
