/**
 * Every CLI command against a copy of the repository's example organisation (stellar.yaml,
 * secrets/, connectors/, connections/, agents/) with its TEST-ONLY keys; and the leak check:
 * the output of every command that does not exist to reveal values is searched for every value.
 */
import { cpSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { createSandbox, REPO_ROOT, type RunResult, type Sandbox, sandboxesCleanedAfterEach } from "./helpers/cli.js";

// Each test runs the CLI as many child processes; on a loaded 2-core machine that takes a while.
vi.setConfig({ testTimeout: 180_000 });

const sandboxes = sandboxesCleanedAfterEach();

/** A committed copy of the example organisation; alice's TEST-ONLY key is the identity. */
function exampleOrg(): Sandbox {
  const s = createSandbox();
  sandboxes.push(s);
  for (const p of ["stellar.yaml", ".sops.yaml", "secrets", "connectors", "connections", "agents"]) {
    cpSync(join(REPO_ROOT, p), join(s.repo, p), { recursive: true });
  }
  const key = join(s.dir, "alice.txt");
  cpSync(join(REPO_ROOT, "test/fixtures/keys/alice.txt"), key);
  s.env.SOPS_AGE_KEY_FILE = key;
  s.commit("example organisation", { date: "2025-01-01T00:00:00Z" });
  return s;
}

/** Every value of every environment (read with the revealing `export`). */
async function allValues(s: Sandbox): Promise<string[]> {
  const values = new Set<string>();
  for (const env of ["development", "staging", "production"]) {
    const r = await s.run(["export", "--env", env, "--format", "json"]);
    expect(r.code, r.stderr).toBe(0);
    for (const v of Object.values(JSON.parse(r.stdout) as Record<string, string>)) values.add(v);
  }
  return [...values];
}

function expectNoValues(label: string, r: RunResult, values: string[]): void {
  const out = r.stdout + r.stderr;
  for (const v of values) {
    expect(out.includes(v), `${label} printed a value`).toBe(false);
    // also no base64 or JSON-escaped form
    expect(out.includes(Buffer.from(v).toString("base64")), `${label} printed a base64 value`).toBe(false);
  }
}

describe("the example organisation", () => {
  it("lists its secrets with reference counts and catalog fields", async () => {
    const s = exampleOrg();
    const r = await s.run(["list", "--long", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.environments).toEqual(["development", "staging", "production"]);
    const stripe = out.secrets.find((x: { name: string }) => x.name === "stripe_api_key");
    expect(stripe.references).toBeGreaterThan(0);
    expect(stripe.owner).toBe("payments-team");
    expect(stripe.rotate_every).toBe("90d");
    const text = await s.run(["list"]);
    expect(text.stdout.split("\n")[0]).toMatch(/^NAME\s+development\s+staging\s+production\s+REFS$/);
  });

  it("refuses to delete a referenced secret, listing file:line:column, until --force", async () => {
    const s = exampleOrg();
    const before = s.read("secrets/production.enc.yaml");
    const r = await s.run(["rm", "stripe_api_key", "--yes"]);
    expect(r.code).toBe(7);
    expect(r.stderr).toContain("SECRET_IN_USE");
    expect(r.stderr).toMatch(/connectors\/stripe\.yaml:6:\d+ \(auth_connector stripe, token\)/);
    expect(s.read("secrets/production.enc.yaml")).toBe(before);
    const forced = await s.run(["rm", "stripe_api_key", "--env", "production", "--force", "--yes"]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toContain("warning: still referenced (--force)");
    const rename = await s.run(["rename", "hubspot_api_token", "hubspot_private_app_token"]);
    expect(rename.code).toBe(8);
    expect(rename.stderr).toMatch(/connections\/hubspot\.yaml:\d+:\d+/);
  });

  it("refuses to delete a referenced secret through edit", async () => {
    const s = exampleOrg();
    const script = join(s.dir, "drop-stripe.mjs");
    writeFileSync(script, `import { readFileSync, writeFileSync } from "node:fs"; const f = process.argv[2]; writeFileSync(f, readFileSync(f, "utf8").replace(/^stripe_api_key:.*\\n/m, ""));`);
    const r = await s.run(["edit", "--env", "development"], { env: { EDITOR: `${process.execPath} ${script}` } });
    expect(r.code).toBe(7);
    expect(r.stderr).toContain("SECRET_IN_USE");
  });

  it("reads, exports, runs and shows members, history and staleness", async () => {
    const s = exampleOrg();
    const get = await s.run(["get", "stripe_api_key", "--env", "development"]);
    expect(get.code).toBe(0);
    expect(get.stdout).toMatch(/^sk_test_example_dev_/);
    const members = await s.run(["members", "list", "--json"]);
    expect(JSON.parse(members.stdout).environments.map((e: { members: { name: string }[] }) => e.members.map((m) => m.name))).toEqual([
      ["alice", "bob", "ci"],
      ["alice", "ci"],
      ["alice", "deploy"],
    ]);
    const history = JSON.parse((await s.run(["history", "stripe_api_key", "--json"])).stdout).events;
    expect(history.map((e: { environment: string; kind: string }) => `${e.environment}:${e.kind}`)).toEqual([
      "development:added",
      "staging:added",
      "production:added",
    ]);
    const stale = await s.run(["stale", "--json"]);
    expect(stale.code).toBe(1); // committed 2025-01-01 with a 90d policy
    expect(JSON.parse(stale.stdout).stale.some((x: { name: string; limitFrom: string }) => x.name === "stripe_api_key" && x.limitFrom === "catalog")).toBe(true);
  });
});

describe("no value in the output of commands that do not reveal", () => {
  it("checks list, members, history, stale, rename, rm, set, members add/rm, rotate-key, edit, exec, errors", async () => {
    const s = exampleOrg();
    const values = await allValues(s);
    expect(values.length).toBeGreaterThan(5);
    const bob = s.keygen("newbie");
    const script = join(s.dir, "touch.mjs");
    writeFileSync(script, `import { readFileSync, writeFileSync } from "node:fs"; const f = process.argv[2]; writeFileSync(f, readFileSync(f, "utf8") + "brand_new_service_token: fresh-value\\n");`);
    const commands: [string, string[], { input?: string; env?: Record<string, string> }?][] = [
      ["list", ["list"]],
      ["list --long", ["list", "--long"]],
      ["list --json", ["list", "--json", "--long"]],
      ["members list", ["members", "list"]],
      ["members list --json", ["members", "list", "--json"]],
      ["history", ["history"]],
      ["history --json", ["history", "--json"]],
      ["stale", ["stale"]],
      ["stale --json", ["stale", "--json"]],
      ["rename", ["rename", "stripe_api_key", "stripe_key"]],
      ["rm refused", ["rm", "stripe_api_key", "--yes"]],
      ["set", ["set", "zendesk_api_token", "--env", "development", "--from-stdin"], { input: values[0] as string }],
      ["set --json", ["set", "zendesk_api_token", "--env", "staging", "--from-stdin", "--json"], { input: "x-new-value" }],
      ["set bad name", ["set", "Bad Name", "--env", "staging", "--from-stdin"], { input: values[1] as string }],
      ["members add", ["members", "add", "newbie", bob.recipient, "--env", "development", "--json"]],
      ["members rm", ["members", "rm", "newbie"]],
      ["rotate-key", ["rotate-key", "--env", "staging", "--json"]],
      ["edit", ["edit", "--env", "development", "--json"], { env: { EDITOR: `${process.execPath} ${script}` } }],
      ["rm unconfirmed", ["rm", "brand_new_service_token"]],
      ["exec (child prints nothing)", ["exec", "--env", "production", "--", "true"]],
      ["get unknown", ["get", "no_such_secret", "--env", "production"]],
      ["get without a matching key", ["get", "stripe_api_key", "--env", "production"], { env: { SOPS_AGE_KEY_FILE: bob.file } }],
      ["export collision", ["exec", "--env", "production", "--", "true"], { env: { STRIPE_API_KEY: "outer" } }],
      ["rm --force", ["rm", "slack_bot_token", "--env", "staging", "--force", "--yes", "--json"]],
    ];
    for (const [label, args, opts] of commands) {
      const r = await s.run(args, opts ?? {});
      expect(r.code === null, label).toBe(false);
      expectNoValues(label, r, values);
      expect(r.stdout + r.stderr, label).not.toContain("fresh-value");
      expect(r.stdout + r.stderr, label).not.toContain("AGE-SECRET-KEY");
    }
  });
});
