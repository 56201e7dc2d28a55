/**
 * Issue 12 end to end (real CLI processes): bad input is a diagnostic or a coded error, never an
 * internal error; errors are text on stderr, or one JSON object with --json; access errors speak
 * to the person.
 */
import { lstatSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { createSandbox, type AgeKey, type Sandbox, sandboxesCleanedAfterEach, aliceProject } from "./helpers/cli.js";

vi.setConfig({ testTimeout: 120_000 });

const sandboxes = sandboxesCleanedAfterEach();

const project = (): Promise<{ s: Sandbox; alice: AgeKey }> =>
  aliceProject(sandboxes, "development,production", [
    ["api_key", "development", "v-dev"],
    ["api_key", "production", "v-prod"],
  ]);

describe("bad config files are diagnostics", () => {
  it("a 3,000-level nested config file: check reports it (JSON, SARIF, exit 1); list and usage still work", async () => {
    const { s } = await project();
    s.write("agents/deep.yaml", `kind: agent\nname: deep\nactions: ${"[".repeat(3000)}${"]".repeat(3000)}\n`);
    const check = await s.run(["check", "--json"]);
    expect(check.code, check.stderr).toBe(1);
    const errors = (out: string) => JSON.parse(out).diagnostics.filter((d: { severity: string }) => d.severity === "error");
    expect(errors(check.stdout)).toEqual([expect.objectContaining({ rule: "schema", file: "agents/deep.yaml", line: 3 })]);
    const sarif = JSON.parse((await s.run(["check", "--format", "sarif"])).stdout);
    expect(sarif.runs[0].results.filter((r: { level: string }) => r.level === "error").map((r: { ruleId: string }) => r.ruleId)).toEqual(["schema"]);
    for (const args of [["list", "--json"], ["usage", "--json"]]) {
      const r = await s.run(args);
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
      expect(r.stderr).not.toContain("internal error");
    }
  });

  it("a config file over 8 MiB is a diagnostic; usage refuses an invalid stellar.yaml like list does", async () => {
    const { s } = await project();
    s.write("agents/big.yaml", `kind: agent\nname: big\ninstructions: "${"x".repeat(9 * 1024 * 1024)}"\n`);
    const check = await s.run(["check", "--json"]);
    expect(check.code).toBe(1);
    expect(check.stderr).not.toContain("skipped");
    expect(JSON.parse(check.stdout).diagnostics.filter((d: { severity: string }) => d.severity === "error")).toEqual([expect.objectContaining({ rule: "schema", file: "agents/big.yaml", line: 1 })]);
    s.write("agents/big.yaml", "kind: agent\n");
    s.write("stellar.yaml", s.read("stellar.yaml").replace("version: 1", "version: 2"));
    for (const args of [["usage"], ["list"]]) {
      const r = await s.run(args);
      expect([args[0], r.code, r.stderr.split(":")[1]?.trim()]).toEqual([args[0], 17, "INVALID_CONFIG"]);
    }
  });
});

describe("symbolic links and names", () => {
  it("a secrets folder linked outside the repository is refused unless STELLAR_SECRETS_ALLOW_OUTSIDE_LINKS=1", async () => {
    const { s } = await project();
    const elsewhere = join(s.dir, "elsewhere");
    renameSync(join(s.repo, "secrets"), elsewhere);
    symlinkSync(elsewhere, join(s.repo, "secrets"));
    const r = await s.run(["get", "api_key", "--env", "development"]);
    expect([r.code, r.stdout]).toEqual([16, ""]);
    expect(r.stderr).toContain("OUTSIDE_REPOSITORY");
    const check = await s.run(["check", "--json"]);
    expect(check.code).toBe(1);
    expect(JSON.parse(check.stdout).diagnostics.map((d: { file: string }) => d.file)).toContain("secrets");
    const allowed = await s.run(["get", "api_key", "--env", "development"], { env: { STELLAR_SECRETS_ALLOW_OUTSIDE_LINKS: "1" } });
    expect([allowed.code, allowed.stdout]).toEqual([0, "v-dev"]);
  });

  it("an environment's file linked to another environment's file is refused by get, list, set and export (OTHER_ENVIRONMENT_FILE, exit 16); the other environment still works", async () => {
    const { s } = await project();
    const prod = join(s.repo, "secrets", "production.enc.yaml");
    const before = s.read("secrets/development.enc.yaml");
    rmSync(prod);
    symlinkSync("development.enc.yaml", prod);
    for (const args of [
      ["get", "api_key", "--env", "production"],
      ["export", "--env", "production", "--format", "dotenv"],
      ["list", "--env", "production"],
    ]) {
      const r = await s.run(args);
      expect([args[0], r.code, r.stdout]).toEqual([args[0], 16, ""]);
      expect(r.stderr).toContain("OTHER_ENVIRONMENT_FILE");
      expect(r.stderr).toContain('the file of environment "development"');
      expect(r.stderr).toContain("replace the link with production's own file");
      expect(r.stderr).not.toContain("v-dev");
    }
    const json = await s.run(["get", "api_key", "--env", "production", "--json"]);
    expect(JSON.parse(json.stderr)).toEqual({ error: expect.objectContaining({ code: "OTHER_ENVIRONMENT_FILE", exitStatus: 16 }) });
    const set = await s.run(["set", "api_key", "--env", "production", "--from-stdin"], { input: "v-prod-2" });
    expect([set.code, set.stderr.includes("OTHER_ENVIRONMENT_FILE")]).toEqual([16, true]);
    // nothing was written through the link, and the link is still a link
    expect(s.read("secrets/development.enc.yaml")).toBe(before);
    expect(lstatSync(prod).isSymbolicLink()).toBe(true);
    const dev = await s.run(["get", "api_key", "--env", "development"]);
    expect([dev.code, dev.stdout]).toEqual([0, "v-dev"]);
    // a listing of every environment shows development and reports production
    const all = await s.run(["list", "--json"]);
    expect(all.code).toBe(16);
    expect(JSON.parse(all.stdout).unreadable).toEqual([expect.objectContaining({ environment: "production", code: "OTHER_ENVIRONMENT_FILE" })]);
  });

  it("an environment's file linked to a file that is no environment's file inside the repository is followed, as sops does", async () => {
    const { s } = await project();
    mkdirSync(join(s.repo, "vault"));
    renameSync(join(s.repo, "secrets", "production.enc.yaml"), join(s.repo, "vault", "prod-secrets.yaml"));
    symlinkSync(join("..", "vault", "prod-secrets.yaml"), join(s.repo, "secrets", "production.enc.yaml"));
    const r = await s.run(["get", "api_key", "--env", "production"]);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, "v-prod", ""]);
  });

  it("control characters in a name are escaped in errors; --json errors are one JSON object on stderr", async () => {
    const { s } = await project();
    const r = await s.run(["get", "bad\u001b[31mname", "--env", "development"]);
    expect(r.code).toBe(4); // UNKNOWN_SECRET
    expect(r.stderr).not.toContain("\u001b");
    expect(r.stderr).toContain("\\x1b[31m");
    s.write("connections/bad.yaml", 'kind: api_connection\nname: bad\nbase_url: https://x.example\nheaders:\n  - { name: X-Key, type: secret, secret: "evil\\e[2Jname" }\n');
    const check = await s.run(["check"]);
    expect(check.code).toBe(1);
    expect(check.stdout).toContain("evil\\x1b[2Jname");
    expect(check.stdout).not.toContain("\u001b");
    const j = await s.run(["get", "nope", "--env", "development", "--json"]);
    expect(j.stdout).toBe("");
    expect(JSON.parse(j.stderr)).toEqual({ error: expect.objectContaining({ code: "UNKNOWN_SECRET", exitStatus: 4 }) });
  });

  it("JSON and SARIF output write C1 and bidirectional controls as \\u escapes: the same value, never the raw character", async () => {
    const { s } = await project();
    const name = "evil\u202ename\u0085x";
    s.write("connections/bad.yaml", `kind: api_connection\nname: bad\nbase_url: https://x.example\nheaders:\n  - { name: X-Key, type: secret, secret: "${name}" }\n`);
    for (const args of [["check", "--json"], ["check", "--format", "sarif"]]) {
      const r = await s.run(args);
      expect(r.code).toBe(1);
      expect(r.stdout).not.toMatch(/[\u0085\u202e]/);
      expect(r.stdout).toContain("\\u202e");
      expect(JSON.stringify(JSON.parse(r.stdout))).toContain(name); // the parsed text is unchanged
    }
    const e = await s.run(["get", name, "--env", "development", "--json"]);
    expect(e.code).toBe(4);
    expect(e.stderr).not.toMatch(/[\u0085\u202e]/);
    expect(JSON.parse(e.stderr).error.message).toContain(name);
  });
});

describe("access errors speak to the person", () => {
  it("names you, the members and the command to ask for; rm suggests --env for environments you cannot read", async () => {
    const { s } = await project();
    const bob = s.keygen("bob");
    expect((await s.run(["members", "add", "bob", bob.recipient, "--env", "development"])).code).toBe(0);
    const asBob = { SOPS_AGE_KEY_FILE: bob.file, USER: "bob" };
    const r = await s.run(["get", "api_key", "--env", "production"], { env: asBob });
    expect(r.code).toBe(10);
    expect(r.stderr).toContain(`you (bob, ${bob.recipient}) are not a member of production`);
    expect(r.stderr).toContain("its members are alice (age1");
    expect(r.stderr).toContain(`stellar-secrets members add bob ${bob.recipient} --env production`);
    expect(r.stderr).toContain("secrets/production.enc.yaml");
    expect(r.stderr).not.toContain(s.repo);
    const rm = await s.run(["rm", "api_key", "--yes"], { env: asBob });
    expect(rm.code).toBe(10);
    expect(rm.stderr).toContain("stellar-secrets rm api_key --env development");
  });

  it("hints hold complete keys (a hint is a command to copy)", async () => {
    const { s } = await project();
    const bob = s.keygen("bob");
    expect((await s.run(["members", "add", "bob", bob.recipient, "--env", "development"])).code).toBe(0);
    const again = await s.run(["members", "add", "robert", bob.recipient, "--env", "production"]);
    expect(again.code).toBe(20);
    expect(again.stderr).toContain(`hint: a key belongs to one member: stellar-secrets members add bob ${bob.recipient} --env ENV`);
  });
});
