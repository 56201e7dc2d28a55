/**
 * A deployed runtime installs @stellar-secrets/resolver alone: `scripts/pack-all.mjs` packs the
 * bundled resolver (sops and yaml inside, no dependency), `npm install --offline` puts it into an
 * empty folder without any registry, and the resolver is used from there in a child process.
 * The CLI and language-server tarballs of the same run are installed the same way (the CLI with
 * `npm install -g --prefix`), and their binaries run.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { buildSync } from "esbuild";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FIXTURES_DIR, REPO_ROOT, encryptSecrets, keyFileText, tempDir, testKey, type TestKey } from "../packages/resolver/test/support.js";

const VALUES = new Map([
  ["hubspot_api_token", "pat-pkg-leakcheck-1"],
  ["zendesk_token", "zd-pkg-leakcheck-2"],
]);

let work: { dir: string; cleanup: () => void };
let app = "";
let tarballs = "";
let key: TestKey;

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env });
}

/**
 * A code cache file (an 8-byte header, then V8's payload twice) with bytes flipped through the first
 * copy, the second, or both at different places, its length kept (what a bad disk or a half-copied
 * file gives).
 */
function damaged(cache: Buffer, where: "first" | "second" | "both" = "first"): Buffer {
  const n = cache.readUInt32LE(4);
  expect(cache.length).toBe(8 + 2 * n);
  const b = Buffer.from(cache);
  if (where !== "second") for (let i = 64; i < 8 + n; i += 97) b[i] = b[i]! ^ 0x5a;
  if (where !== "first") for (let i = 8 + n + 100; i < b.length; i += 89) b[i] = b[i]! ^ 0x5a;
  return b;
}

/** npm with its cache in the temp folder and no registry: an install that needs one fails. */
function npmOffline(args: string[], cwd: string): void {
  run("npm", [...args, "--offline", "--no-audit", "--no-fund", "--cache", join(work.dir, "npm-cache")], cwd);
}

function sizeOf(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? sizeOf(p) : statSync(p).size;
  }
  return n;
}

beforeAll(async () => {
  // The setup's build makes the bundles; rebuild only those older than the tsc output.
  run("npx", ["tsc", "-b", "packages/resolver", "packages/cli", "packages/language-server"], REPO_ROOT);
  run(process.execPath, [join(REPO_ROOT, "scripts/bundle.mjs"), "--if-stale"], REPO_ROOT);
  work = tempDir("resolver-pack-");
  tarballs = join(work.dir, "tarballs");
  run(process.execPath, [join(REPO_ROOT, "scripts/pack-all.mjs"), "--no-build", "--no-vsix", "--quiet", "--out", tarballs], REPO_ROOT);
  expect(readdirSync(tarballs).sort()).toEqual(["stellar-secrets-cli-0.1.0.tgz", "stellar-secrets-language-server-0.1.0.tgz", "stellar-secrets-resolver-0.1.0.tgz"]);
  app = join(work.dir, "app");
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "deployed-agent", private: true, type: "module" }));
  npmOffline(["install", "--omit=dev", join(tarballs, "stellar-secrets-resolver-0.1.0.tgz")], app);
  key = await testKey();
  mkdirSync(join(app, "secrets"));
  writeFileSync(join(app, "secrets", "production.enc.yaml"), await encryptSecrets(VALUES, { recipients: [key.recipient] }));
  writeFileSync(join(app, "secrets", "staging.enc.yaml"), await encryptSecrets(new Map([["sendgrid_api_key", "SG-pkg-leakcheck-3"]]), { recipients: [key.recipient] }));
  writeFileSync(join(app, "age-key.txt"), keyFileText(key), { mode: 0o600 });
  writeFileSync(
    join(app, "main.mjs"),
    `import { createResolver, createJsonLinesSink, ResolverError } from "@stellar-secrets/resolver";
const audit = createJsonLinesSink("access.jsonl");
const out = { resolvedFrom: import.meta.resolve("@stellar-secrets/resolver") };
try {
  const resolver = await createResolver({ environment: process.argv[2], root: ".", audit });
  const request = resolver.resolveAction(
    { kind: "action", name: "create_ticket", connection: "hubspot", headers: [{ name: "X-Api-Key", type: "secret", secret: "zendesk_token" }] },
    { kind: "api_connection", name: "hubspot", base_url: "https://api.hubapi.com", auth: "hubspot_auth", headers: [{ name: "Accept", type: "static", value: "application/json" }] },
    { kind: "auth_connector", name: "hubspot_auth", type: "bearer_token", token: { secret: "hubspot_api_token" } },
  );
  out.headers = { ...request.headers };
  try { resolver.get("sendgrid_api_key"); } catch (e) { out.missing = { code: e.code, environments: e.environments }; }
} catch (e) {
  if (!(e instanceof ResolverError)) throw e;
  out.error = { code: e.code, message: e.message };
  process.exitCode = 3;
}
audit.close();
console.log(JSON.stringify(out));
`,
  );
}, 180_000);

afterAll(() => work?.cleanup());

function runApp(environment: string, env: NodeJS.ProcessEnv): { status: number | null; out: Record<string, unknown>; stderr: string } {
  const child = spawnSync(process.execPath, ["main.mjs", environment], {
    cwd: app,
    encoding: "utf8",
    env: { PATH: process.env["PATH"], HOME: join(app, "no-home"), ...env },
  });
  return { status: child.status, out: JSON.parse(child.stdout || "{}") as Record<string, unknown>, stderr: child.stderr };
}

describe("the packed resolver, installed alone with production dependencies", () => {
  it("installs the resolver alone, offline: one bundled module and its types, under 1.5 MB", () => {
    const modules = join(app, "node_modules");
    const top = readdirSync(modules).filter((n) => !n.startsWith("."));
    const names = top.flatMap((n) => (n.startsWith("@") ? readdirSync(join(modules, n)).map((s) => `${n}/${s}`) : [n])).sort();
    expect(names).toEqual(["@stellar-secrets/resolver"]);
    const manifest = JSON.parse(readFileSync(join(modules, "@stellar-secrets/resolver/package.json"), "utf8")) as Record<string, unknown>;
    expect(manifest["dependencies"]).toBeUndefined();
    expect(manifest["peerDependenciesMeta"]).toEqual({ "age-encryption": { optional: true } });
    // bundlers (their `module` condition) take the ES-module entry, whose files webpack copies; node and jest take require or default
    expect(manifest["exports"]).toEqual({
      ".": { module: "./dist/bundle/index.mjs", require: { types: "./dist/types/index.d.cts", default: "./dist/bundle/index.cjs" }, types: "./dist/types/index.d.ts", default: "./dist/bundle/index.mjs" },
    });
    expect(JSON.stringify(manifest)).not.toContain("workspace:");
    expect(readdirSync(join(modules, "@stellar-secrets/resolver/dist/bundle")).sort()).toEqual(["index.cjs", "index.mjs", "resolver.cjs", "yaml.cjs"]);
    const types = readdirSync(join(modules, "@stellar-secrets/resolver/dist/types"));
    expect(types).toContain("index.d.ts");
    expect(types.filter((f) => f.includes(".test.") || f.endsWith(".tsbuildinfo"))).toEqual([]);
    expect(readFileSync(join(modules, "@stellar-secrets/resolver/dist/types/index.d.ts"), "utf8")).not.toContain('from "@stellar-secrets/sops"');
    expect(sizeOf(join(modules, "@stellar-secrets/resolver"))).toBeLessThan(1.5 * 1024 * 1024);
  });

  it("resolves an action's headers in a child process, with SOPS_AGE_KEY_FILE, and writes the access log", () => {
    const { status, out, stderr } = runApp("production", { SOPS_AGE_KEY_FILE: join(app, "age-key.txt") });
    expect(stderr).toBe("");
    expect(status).toBe(0);
    expect(out["resolvedFrom"]).toBe(`file://${join(app, "node_modules/@stellar-secrets/resolver/dist/bundle/index.mjs")}`);
    expect(out["headers"]).toEqual({
      Accept: "application/json",
      Authorization: "Bearer pat-pkg-leakcheck-1",
      "X-Api-Key": "zd-pkg-leakcheck-2",
    });
    expect(out["missing"]).toEqual({ code: "MISSING_ENVIRONMENT_VALUE", environments: ["staging"] });
    // the first process left its V8 code cache beside the bundle; the next one uses it
    const cache = join(app, "node_modules/@stellar-secrets/resolver/dist/bundle/resolver.cjs.cache");
    expect(existsSync(cache)).toBe(true);
    const log = readFileSync(join(app, "access.jsonl"), "utf8");
    expect(log).not.toContain("leakcheck");
    expect(log.trimEnd().split("\n").map((l) => { const e = JSON.parse(l) as Record<string, string>; return `${e["secret"]} ${e["consumer"]} ${e["outcome"]}`; })).toEqual([
      "hubspot_api_token connector:hubspot_auth ok",
      "zendesk_token action:create_ticket ok",
      "sendgrid_api_key get MISSING_ENVIRONMENT_VALUE",
    ]);
    // a cache damaged inside (right length) is not used, never aborts the app, and is written again
    const good = readFileSync(cache);
    writeFileSync(cache, damaged(good));
    const again = runApp("production", { SOPS_AGE_KEY_FILE: join(app, "age-key.txt") });
    expect(again.status).toBe(0);
    expect(again.out["headers"]).toEqual(out["headers"]);
    expect(readFileSync(cache).equals(damaged(good))).toBe(false);
  });

  it("refuses a tampered file and a missing key from the installed package, printing no value", () => {
    const noKey = runApp("production", {});
    expect(noKey.status).toBe(3);
    expect(noKey.out["error"]).toMatchObject({ code: "NO_IDENTITY" });
    const file = join(app, "secrets", "production.enc.yaml");
    const good = readFileSync(file, "utf8");
    try {
      writeFileSync(file, good.replace(/(zendesk_token: ENC\[AES256_GCM,data:)(.)/, (_m, p: string, c: string) => p + (c === "A" ? "B" : "A")));
      const tampered = runApp("production", { SOPS_AGE_KEY: key.identity });
      expect(tampered.status).toBe(3);
      expect(tampered.out["error"]).toMatchObject({ code: "TAMPERED" });
      expect(JSON.stringify(tampered.out) + tampered.stderr).not.toContain("leakcheck");
    } finally {
      writeFileSync(file, good);
    }
  });

  it.skipIf(!existsSync(join(FIXTURES_DIR, "MANIFEST.md")))("a file only the general reader reads (sops-made, nested values) resolves from the installed package: yaml, a file of its own beside the bundle, is loaded when needed", () => {
    // ../shared/interop/sops-fixtures (test-only keys, public test data); absent in a user's own clone
    const root = join(app, "fixture-root");
    mkdirSync(join(root, "secrets"), { recursive: true });
    writeFileSync(join(root, "secrets", "fixture.enc.yaml"), readFileSync(join(FIXTURES_DIR, "humphd-sops-age", "secret.enc.yaml")));
    writeFileSync(
      join(app, "nested.mjs"),
      `import { createResolver } from "@stellar-secrets/resolver";
const r = await createResolver({ environment: "fixture", root: ${JSON.stringify(root)} });
console.log(JSON.stringify({ names: r.names(), int: r.get("int"), boolean: r.get("boolean"), yamlLoaded: Object.keys(process.getBuiltinModule("node:module")._cache).some((f) => f.endsWith("yaml.cjs")) }));
`,
    );
    const child = spawnSync(process.execPath, ["nested.mjs"], {
      cwd: app,
      encoding: "utf8",
      // (a copy of mode 0600: the shared fixture is 0444, which the resolver warns about on stderr)
      env: { PATH: process.env["PATH"], HOME: join(app, "no-home"), SOPS_AGE_KEY_FILE: privateCopy(join(FIXTURES_DIR, "humphd-sops-age", "key.txt"), join(app, "fixture-key.txt")) },
    });
    expect(child.stderr).toBe("");
    expect(child.status).toBe(0);
    const out = JSON.parse(child.stdout) as { names: string[]; int: string; boolean: string; yamlLoaded: boolean };
    expect([...out.names].sort()).toEqual(["boolean", "float", "int", "secret", "string"]);
    expect([out.int, out.boolean, out.yamlLoaded]).toEqual(["7", "true", true]);
    // the flat environment files of the other tests never load it
    writeFileSync(join(app, "flat.mjs"), `import { createResolver } from "@stellar-secrets/resolver";\nawait createResolver({ environment: "production", root: "." });\nconsole.log(Object.keys(process.getBuiltinModule("node:module")._cache).filter((f) => f.includes("@stellar-secrets")).map((f) => f.split("/").pop()).join(","));\n`);
    const flat = spawnSync(process.execPath, ["flat.mjs"], { cwd: app, encoding: "utf8", env: { PATH: process.env["PATH"], HOME: join(app, "no-home"), SOPS_AGE_KEY_FILE: join(app, "age-key.txt") } });
    expect([flat.status, flat.stdout.trim()]).toEqual([0, ""]);
  });

  it("under Node's permission model, a secrets folder or key file the process may not read is named with the --allow-fs-read it needs", () => {
    writeFileSync(join(app, "perm.mjs"), `import { createResolver } from "@stellar-secrets/resolver";\ntry { await createResolver({ environment: "production", root: "." }); console.log("{}"); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }\n`);
    const flag = process.allowedNodeEnvironmentFlags.has("--permission") ? "--permission" : "--experimental-permission";
    const run = (allowed: string[]) => {
      const child = spawnSync(process.execPath, [flag, "--no-warnings", ...[join(app, "node_modules"), join(app, "perm.mjs"), join(app, "stellar.yaml"), ...allowed].map((p) => `--allow-fs-read=${p}`), "perm.mjs"], { cwd: app, encoding: "utf8", env: { PATH: process.env["PATH"], HOME: join(app, "no-home"), SOPS_AGE_KEY_FILE: join(app, "age-key.txt") } });
      expect(child.stderr).toBe("");
      return JSON.parse(child.stdout) as { code?: string; message?: string };
    };
    const secrets = run([join(app, "age-key.txt")]);
    expect(secrets.code).toBe("IO_ERROR");
    expect(secrets.message).toContain(`cannot read ${join(app, "secrets")} (ERR_ACCESS_DENIED): Node's permission model (--permission) does not let this process read it. Add --allow-fs-read=${join(app, "secrets")}`);
    const key = run([join(app, "secrets")]);
    expect(key.code).toBe("NO_IDENTITY");
    expect(key.message).toContain(`SOPS_AGE_KEY_FILE=${join(app, "age-key.txt")} (cannot read: ERR_ACCESS_DENIED, node --permission: add --allow-fs-read=${join(app, "age-key.txt")})`);
    expect(run([join(app, "secrets"), join(app, "age-key.txt")])).toEqual({});
  });

  it("an error the app does not catch reads well: `ResolverError: …` and a short source line, not a line of minified code", () => {
    writeFileSync(join(app, "uncaught.mjs"), `import { createResolver } from "@stellar-secrets/resolver";\nawait createResolver({ environment: "nope", root: "." });\n`);
    const child = spawnSync(process.execPath, ["uncaught.mjs"], { cwd: app, encoding: "utf8", env: { PATH: process.env["PATH"], HOME: join(app, "no-home") } });
    expect(child.status).toBe(1);
    expect(child.stderr).toMatch(/^ResolverError: no secrets file for environment nope/m);
    expect(Math.max(...child.stderr.split("\n").map((l) => l.length))).toBeLessThan(400);
  });
});

describe("the packed resolver in a CommonJS app", () => {
  it("require() works where Node cannot require an ES module (as in jest's module system), and the app that also imports it gets the same ResolverError class", () => {
    const cjs = join(work.dir, "cjs-app");
    mkdirSync(cjs);
    cpSync(join(app, "node_modules"), join(cjs, "node_modules"), { recursive: true });
    writeFileSync(join(cjs, "package.json"), JSON.stringify({ name: "cjs-agent", private: true }));
    writeFileSync(
      join(cjs, "main.js"),
      `const { createResolver, ResolverError } = require("@stellar-secrets/resolver");
(async () => {
  const resolver = await createResolver({ environment: "production", root: ${JSON.stringify(app)} });
  let error;
  try { resolver.get("hubspot_api_tokn"); } catch (e) { error = e; }
  const esm = await import("@stellar-secrets/resolver");
  console.log(JSON.stringify({ length: resolver.get("hubspot_api_token").length, code: error.code, required: error instanceof ResolverError, imported: error instanceof esm.ResolverError, same: esm.createResolver === createResolver, from: require.resolve("@stellar-secrets/resolver") }));
})();
`,
    );
    for (const flags of [["--no-experimental-require-module"], []]) {
      const child = spawnSync(process.execPath, [...flags, "main.js"], { cwd: cjs, encoding: "utf8", env: { PATH: process.env["PATH"], HOME: join(app, "no-home"), SOPS_AGE_KEY_FILE: join(app, "age-key.txt") } });
      expect([flags, child.stderr, child.status]).toEqual([flags, "", 0]);
      expect(JSON.parse(child.stdout)).toEqual({ length: 19, code: "UNKNOWN_SECRET", required: true, imported: true, same: true, from: join(cjs, "node_modules/@stellar-secrets/resolver/dist/bundle/index.cjs") });
    }
  });
});

describe("the packed resolver's types in a TypeScript app", () => {
  it("a CommonJS app with module node16 type-checks without skipLibCheck (TypeScript refused a CommonJS file importing the ES-module declarations: TS1479), and a wrong option is still an error; an ES-module app with nodenext too", () => {
    // each tsc run reads @types/node: about 10 s here, so two projects (the other resolutions were checked by hand, docs/resolver.md)
    const tsc = join(REPO_ROOT, "node_modules/typescript/bin/tsc");
    const source = `import { createResolver, ResolverError, type ResolverErrorCode, type ResolvedHeaders } from "@stellar-secrets/resolver";
export async function main(): Promise<void> {
  const resolver = await createResolver({ environment: "production", root: "." });
  const headers: ResolvedHeaders = resolver.resolveHeaders([{ name: "Authorization", type: "secret", secret: "hubspot_api_token", prefix: "Bearer " }]);
  try { resolver.get("nope"); } catch (e) { if (e instanceof ResolverError) { const code: ResolverErrorCode = e.code; console.log(code, Object.keys(headers)); } }
}
`;
    const check = (kind: "esm" | "cjs", module: string, skipLibCheck: boolean): string => {
      const dir = join(work.dir, `ts-${kind}`);
      mkdirSync(dir, { recursive: true });
      cpSync(join(app, "node_modules"), join(dir, "node_modules"), { recursive: true });
      writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "ts-app", private: true, ...(kind === "esm" ? { type: "module" } : {}) }));
      writeFileSync(join(dir, "main.ts"), source);
      writeFileSync(join(dir, "wrong.ts"), source.replace('environment: "production"', "environment: 7"));
      const options = { strict: true, noEmit: true, skipLibCheck, target: "es2022", module, moduleResolution: module, types: ["node"], typeRoots: [join(REPO_ROOT, "node_modules/@types")] };
      writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: options, files: ["main.ts", "wrong.ts"] }));
      const out = spawnSync(process.execPath, [tsc, "-p", dir], { cwd: dir, encoding: "utf8" });
      return out.stdout + out.stderr;
    };
    for (const [kind, module, skipLibCheck] of [["cjs", "node16", false], ["esm", "nodenext", true]] as const) {
      const out = check(kind, module, skipLibCheck);
      expect([kind, out.match(/error TS\d+/g)]).toEqual([kind, ["error TS2322"]]);
      expect(out).toMatch(/^wrong\.ts\(3,\d+\): error TS2322: Type 'number' is not assignable to type 'string'/);
    }
  }, 120_000);
});

describe("the packed resolver inside an app that a bundler builds", () => {
  const keyEnv = () => ({ PATH: process.env["PATH"], HOME: join(app, "no-home"), SOPS_AGE_KEY_FILE: join(app, "age-key.txt") });

  it("bundled by esbuild, the import fails at once with what to do (keep the package external), not a bare ENOENT; marked external, the same app works", () => {
    const dist = join(app, "dist");
    buildSync({ entryPoints: [join(app, "main.mjs")], bundle: true, platform: "node", format: "esm", outfile: join(dist, "bundled.mjs"), logLevel: "silent" });
    const bundled = spawnSync(process.execPath, [join(dist, "bundled.mjs"), "production"], { cwd: app, encoding: "utf8", env: keyEnv() });
    expect(bundled.status).toBe(1);
    expect(bundled.stdout).toBe("");
    expect(bundled.stderr).toMatch(/@stellar-secrets\/resolver: cannot read its own code .*resolver\.cjs \(ENOENT\)\. The package was bundled into this app/);
    expect(bundled.stderr).toContain("esbuild --external:@stellar-secrets/resolver");
    expect(bundled.stderr).toContain("code: 'ERR_STELLAR_RESOLVER_MISSING'");
    // a CommonJS bundle: esbuild takes the package's module entry, and leaves import.meta.url empty
    writeFileSync(join(app, "main.cjs"), `require("@stellar-secrets/resolver").createResolver({ environment: "production", root: "." }).then(() => console.log("resolved"));\n`);
    buildSync({ entryPoints: [join(app, "main.cjs")], bundle: true, platform: "node", format: "cjs", outfile: join(dist, "bundled.cjs"), logLevel: "silent" });
    const cjs = spawnSync(process.execPath, [join(dist, "bundled.cjs")], { cwd: app, encoding: "utf8", env: keyEnv() });
    expect([cjs.status, cjs.stdout]).toEqual([1, ""]);
    expect(cjs.stderr).toMatch(/@stellar-secrets\/resolver: cannot read its own code resolver\.cjs \(ERR_INVALID_URL\)\. The package was bundled into this app/);
    buildSync({ entryPoints: [join(app, "main.mjs")], bundle: true, platform: "node", format: "esm", outfile: join(dist, "external.mjs"), external: ["@stellar-secrets/resolver"], logLevel: "silent" });
    const external = spawnSync(process.execPath, [join(dist, "external.mjs"), "production"], { cwd: app, encoding: "utf8", env: keyEnv() });
    expect(external.stderr).toBe("");
    expect((JSON.parse(external.stdout) as { headers: Record<string, string> }).headers["Authorization"]).toBe("Bearer pat-pkg-leakcheck-1");
  });

  it.skipIf(!existsSync(join(FIXTURES_DIR, "MANIFEST.md")))("yaml.cjs is found by its own URL, as a bundler that renames what `new URL(…, import.meta.url)` names (webpack's assets) leaves it; and missing, a general SOPS file is INTERNAL_ERROR naming it, not IO_ERROR of the secrets file", () => {
    // what webpack 5 makes of index.mjs: resolver.cjs and yaml.cjs emitted as assets under hashed names, each URL rewritten
    const out = join(work.dir, "webpack-like");
    cpSync(join(app, "node_modules/@stellar-secrets/resolver/dist/bundle"), out, { recursive: true, filter: (p) => !p.endsWith(".cache") });
    renameSync(join(out, "resolver.cjs"), join(out, "828dadb266e37419a047.cjs"));
    renameSync(join(out, "yaml.cjs"), join(out, "5b1f0c7a9d2e4f6a8b3c.cjs"));
    const entry = readFileSync(join(out, "index.mjs"), "utf8");
    expect(entry).toContain('new URL("./yaml.cjs", import.meta.url)');
    writeFileSync(join(out, "index.mjs"), entry.replace('new URL("./resolver.cjs", import.meta.url)', 'new URL("./828dadb266e37419a047.cjs", import.meta.url)').replace('new URL("./yaml.cjs", import.meta.url)', 'new URL("./5b1f0c7a9d2e4f6a8b3c.cjs", import.meta.url)'));
    const root = join(work.dir, "nested-root");
    mkdirSync(join(root, "secrets"), { recursive: true });
    writeFileSync(join(root, "secrets", "fixture.enc.yaml"), readFileSync(join(FIXTURES_DIR, "humphd-sops-age", "secret.enc.yaml")));
    const script = `const { createResolver } = await import(${JSON.stringify(join(out, "index.mjs"))});
try { const r = await createResolver({ environment: "fixture", root: ${JSON.stringify(root)} }); console.log(JSON.stringify({ int: r.get("int") })); }
catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
    const env = { PATH: process.env["PATH"], HOME: join(app, "no-home"), SOPS_AGE_KEY_FILE: join(FIXTURES_DIR, "humphd-sops-age", "key.txt") };
    const run = () => JSON.parse(spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", env }).stdout || "{}") as Record<string, string>;
    expect(run()).toEqual({ int: "7" });
    rmSync(join(out, "5b1f0c7a9d2e4f6a8b3c.cjs"));
    const missing = run();
    expect(missing["code"]).toBe("INTERNAL_ERROR");
    expect(missing["message"]).toContain("needs a part of @stellar-secrets/resolver that is missing (MODULE_NOT_FOUND: dist/bundle/yaml.cjs");
  });
});

/** `source` copied to `dest` with mode 0600 (as a deploy's key file should be), once; `dest` returned. */
function privateCopy(source: string, dest: string): string {
  if (!existsSync(dest)) writeFileSync(dest, readFileSync(source), { mode: 0o600 });
  return dest;
}

describe("the packed CLI and language server, installed with npm alone", () => {
  it("`npm install -g` of the CLI tarball gives a working stellar-secrets: --version, init, set, get in a new repository", () => {
    const prefix = join(work.dir, "global");
    npmOffline(["install", "-g", "--prefix", prefix, join(tarballs, "stellar-secrets-cli-0.1.0.tgz")], work.dir);
    const bin = join(prefix, "bin", "stellar-secrets");
    const env = { PATH: `${join(prefix, "bin")}:${process.env["PATH"]}`, HOME: join(work.dir, "home"), USER: "pkgtest", GIT_CONFIG_NOSYSTEM: "1" };
    mkdirSync(env.HOME);
    expect(run(bin, ["--version"], work.dir, env).trim()).toBe("0.1.0");
    const repo = join(work.dir, "my-secrets");
    mkdirSync(repo);
    run("git", ["init", "-q"], repo, env);
    run(bin, ["init", "--env", "development,production"], repo, env);
    execFileSync(bin, ["set", "stripe_api_key", "--env", "development", "--from-stdin"], { cwd: repo, env, input: "sk-pkg-leakcheck-4", stdio: ["pipe", "pipe", "pipe"] });
    expect(run(bin, ["get", "stripe_api_key", "--env", "development"], repo, env)).toBe("sk-pkg-leakcheck-4");
    expect(readFileSync(join(repo, "secrets", "development.enc.yaml"), "utf8")).not.toContain("leakcheck");
    // the first `get` wrote its V8 code cache beside its bundle (get has one of its own: command-get.cjs);
    // a damaged cache is rejected by V8 and rewritten
    const cache = join(prefix, "lib", "node_modules", "@stellar-secrets", "cli", "dist", "bundle", "command-get.cjs.cache");
    expect(existsSync(cache)).toBe(true);
    writeFileSync(cache, "not a code cache");
    expect(run(bin, ["get", "stripe_api_key", "--env", "development"], repo, env)).toBe("sk-pkg-leakcheck-4");
    expect(readFileSync(cache).length).toBeGreaterThan(1000);
    // damaged inside, right length: V8 alone would abort the process at every run (no checksum by
    // default). The file holds V8's payload twice after an 8-byte header: damage in either copy (or
    // both, at different places) makes it a missing cache, written again
    const good = readFileSync(cache);
    const payload = (good.length - 8) / 2;
    expect(good.subarray(8, 8 + payload).equals(good.subarray(8 + payload))).toBe(true);
    for (const bad of [damaged(good, "first"), damaged(good, "second"), damaged(good, "both")]) {
      writeFileSync(cache, bad);
      expect(run(bin, ["get", "stripe_api_key", "--env", "development"], repo, env)).toBe("sk-pkg-leakcheck-4");
      expect(readFileSync(cache).equals(bad)).toBe(false);
      expect(run(bin, ["get", "stripe_api_key", "--env", "development"], repo, env)).toBe("sk-pkg-leakcheck-4");
    }
    // the installed package holds the bundle and the bin only
    const installed = join(prefix, "lib", "node_modules", "@stellar-secrets", "cli");
    expect(readdirSync(installed).sort()).toEqual(["README.md", "bin", "dist", "package.json"]);
    expect(existsSync(join(prefix, "lib", "node_modules", "@stellar-secrets", "core"))).toBe(false);
  });

  it("the language-server tarball installs offline and its binary answers --version", () => {
    const dir = join(work.dir, "ls");
    mkdirSync(dir);
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "editor", private: true }));
    npmOffline(["install", join(tarballs, "stellar-secrets-language-server-0.1.0.tgz")], dir);
    expect(run(join(dir, "node_modules", ".bin", "stellar-secrets-language-server"), ["--version"], dir).trim()).toBe("0.1.0");
  });
});
