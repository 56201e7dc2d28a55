/**
 * A deployed runtime installs @stellar-secrets/resolver alone: pack the resolver and the sops
 * package (`pnpm pack`), install both tarballs into an empty folder with production dependencies
 * only (`npm install --omit=dev`), and use the resolver from there in a child process.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, encryptSecrets, keyFileText, tempDir, testKey, type TestKey } from "../packages/resolver/test/support.js";

const VALUES = new Map([
  ["hubspot_api_token", "pat-pkg-leakcheck-1"],
  ["zendesk_token", "zd-pkg-leakcheck-2"],
]);

let work: { dir: string; cleanup: () => void };
let app = "";
let key: TestKey;
let installError: string | undefined;

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** pnpm as scripts/setup.mjs finds it: the global 10.34.9, else through npx (a machine with only Node and npm). */
function pnpm(): [string, ...string[]] {
  try {
    if (run("pnpm", ["--version"], REPO_ROOT).trim() === "10.34.9") return ["pnpm"];
  } catch {
    // not installed
  }
  return ["npx", "-y", "pnpm@10.34.9"];
}

beforeAll(async () => {
  // The packages are packed from their built dist (the README's setup builds; make sure here).
  run("npx", ["tsc", "-b", "packages/resolver"], REPO_ROOT);
  work = tempDir("resolver-pack-");
  const tarballs = join(work.dir, "tarballs");
  mkdirSync(tarballs);
  // pnpm pack (not npm pack) turns the workspace:* dependency into a version.
  const [cmd, ...pre] = pnpm();
  for (const pkg of ["sops", "resolver"]) run(cmd, [...pre, "pack", "--pack-destination", tarballs], join(REPO_ROOT, "packages", pkg));
  const files = readdirSync(tarballs).sort();
  expect(files).toEqual(["stellar-secrets-resolver-0.1.0.tgz", "stellar-secrets-sops-0.1.0.tgz"]);
  app = join(work.dir, "app");
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "deployed-agent", private: true, type: "module" }));
  const install = spawnSync(
    "npm",
    ["install", "--omit=dev", "--no-audit", "--no-fund", "--prefer-offline", ...files.map((f) => join(tarballs, f))],
    { cwd: app, encoding: "utf8" },
  );
  if (install.status !== 0) {
    const output = `${install.stdout}\n${install.stderr}`;
    if (/ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|network/i.test(output)) installError = `skipped: npm could not reach the registry for age-encryption/yaml:\n${output.slice(-500)}`;
    else throw new Error(`npm install failed:\n${output}`);
  }
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
  it("installs only the resolver, the sops package and their runtime dependencies", (ctx) => {
    if (installError !== undefined) return ctx.skip(installError);
    const modules = join(app, "node_modules");
    const top = readdirSync(modules).filter((n) => !n.startsWith("."));
    const names = top.flatMap((n) => (n.startsWith("@") ? readdirSync(join(modules, n)).map((s) => `${n}/${s}`) : [n])).sort();
    expect(names.filter((n) => !n.startsWith("@noble/") && !n.startsWith("@scure/"))).toEqual([
      "@stellar-secrets/resolver",
      "@stellar-secrets/sops",
      "age-encryption",
      "yaml",
    ]);
    for (const dev of ["ajv", "simple-git", "vscode-languageserver", "@stellar-secrets/core", "@stellar-secrets/cli", "typescript", "vitest", "sops-age"]) {
      expect(existsSync(join(modules, dev)), dev).toBe(false);
    }
    const manifest = JSON.parse(readFileSync(join(modules, "@stellar-secrets/resolver/package.json"), "utf8")) as { dependencies: Record<string, string> };
    expect(manifest.dependencies).toEqual({ "@stellar-secrets/sops": "0.1.0" });
    const shipped = readdirSync(join(modules, "@stellar-secrets/resolver/dist"));
    expect(shipped).toContain("index.js");
    expect(shipped).toContain("index.d.ts");
    expect(shipped.filter((f) => f.includes(".test.") || f.endsWith(".tsbuildinfo"))).toEqual([]);
  });

  it("resolves an action's headers in a child process, with SOPS_AGE_KEY_FILE, and writes the access log", (ctx) => {
    if (installError !== undefined) return ctx.skip(installError);
    const { status, out, stderr } = runApp("production", { SOPS_AGE_KEY_FILE: join(app, "age-key.txt") });
    expect(stderr).toBe("");
    expect(status).toBe(0);
    expect(out["resolvedFrom"]).toBe(`file://${join(app, "node_modules/@stellar-secrets/resolver/dist/index.js")}`);
    expect(out["headers"]).toEqual({
      Accept: "application/json",
      Authorization: "Bearer pat-pkg-leakcheck-1",
      "X-Api-Key": "zd-pkg-leakcheck-2",
    });
    expect(out["missing"]).toEqual({ code: "MISSING_ENVIRONMENT_VALUE", environments: ["staging"] });
    const log = readFileSync(join(app, "access.jsonl"), "utf8");
    expect(log).not.toContain("leakcheck");
    expect(log.trimEnd().split("\n").map((l) => { const e = JSON.parse(l) as Record<string, string>; return `${e["secret"]} ${e["consumer"]} ${e["outcome"]}`; })).toEqual([
      "hubspot_api_token connector:hubspot_auth ok",
      "zendesk_token action:create_ticket ok",
      "sendgrid_api_key get MISSING_ENVIRONMENT_VALUE",
    ]);
  });

  it("refuses a tampered file and a missing key from the installed package, printing no value", (ctx) => {
    if (installError !== undefined) return ctx.skip(installError);
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
});
