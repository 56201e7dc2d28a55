/**
 * The secret lifecycle in the CLI (issue 4) end to end: rm, rename, members, rotate-key, exec,
 * export — real CLI processes, a real git repository, real age keys, the `age` CLI as referee.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { createSandbox, stanzas, unwrapWith, type AgeKey, type Sandbox, sandboxesCleanedAfterEach, aliceProject } from "./helpers/cli.js";
import { parse } from "./helpers/yaml.js";

// Each test runs the CLI as many child processes; on a loaded 2-core machine that takes a while.
vi.setConfig({ testTimeout: 180_000 });

const sandboxes = sandboxesCleanedAfterEach();

/** A repository initialised by alice (key in SOPS_AGE_KEY_FILE) with a few secrets. */
async function project(): Promise<{ s: Sandbox; alice: AgeKey }> {
  const { s, alice } = await aliceProject(sandboxes, "development,staging,production", [
    ["stripe_api_key", "development,production", "sk_live_STRIPE"],
    ["hubspot_api_token", "development,staging,production", "hs_TOKEN_VALUE"],
    ["twilio_auth_token", "production", "tw_AUTH_VALUE"],
  ]);
  s.commit("secrets");
  return { s, alice };
}

describe("rm", () => {
  it("refuses without a terminal and without --yes (CONFIRMATION_REQUIRED, exit 9), deleting nothing", async () => {
    const { s } = await project();
    const before = s.read("secrets/production.enc.yaml");
    const r = await s.run(["rm", "twilio_auth_token"]);
    expect(r.code).toBe(9);
    expect(r.stderr).toContain("CONFIRMATION_REQUIRED");
    expect(r.stderr).toContain("--yes");
    expect(s.read("secrets/production.enc.yaml")).toBe(before);
  });

  it("deletes from the given environments with --yes, keeping the other values' ciphertext", async () => {
    const { s } = await project();
    const r = await s.run(["rm", "hubspot_api_token", "--env", "staging,production", "--yes", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.removedFrom).toEqual(["staging", "production"]);
    expect(out.stillSetIn).toEqual(["development"]);
    const list = JSON.parse((await s.run(["list", "--json"])).stdout);
    expect(list.secrets.find((x: { name: string }) => x.name === "hubspot_api_token").environments).toEqual({
      development: "set",
      staging: "missing",
      production: "missing",
    });
    const diff = s.git(["diff", "-U0", "--", "secrets/production.enc.yaml"]);
    const keys = diff.split("\n").filter((l) => /^[-+][^-+]/.test(l)).map((l) => l.slice(1).trim().split(":")[0] ?? "");
    expect(keys.filter((k) => !["hubspot_api_token", "mac", "lastmodified"].includes(k))).toEqual([]);
  });

  it("removes the catalog entry once no environment has a value, and names unknown secrets (exit 4)", async () => {
    const { s } = await project();
    await s.run(["set", "twilio_auth_token", "--owner", "comms"]);
    expect(s.read("secrets/catalog.yaml")).toContain("twilio_auth_token");
    const r = await s.run(["rm", "twilio_auth_token", "--yes"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("removed its catalog entry");
    expect(s.read("secrets/catalog.yaml")).not.toContain("twilio_auth_token");
    const again = await s.run(["rm", "twilio_auth_token", "--yes"]);
    expect(again.code).toBe(4);
    expect(again.stderr).toContain("UNKNOWN_SECRET");
  });
});

describe("rename", () => {
  it("explains that names are fixed and prints the steps with the environments, exit 8, changing nothing", async () => {
    const { s } = await project();
    const before = s.read("secrets/development.enc.yaml");
    const r = await s.run(["rename", "stripe_api_key", "stripe_secret_key"]);
    expect(r.code).toBe(8);
    expect(r.stderr).toContain("RENAME_NOT_SUPPORTED");
    expect(r.stderr).toContain("stellar-secrets get stripe_api_key --env development | stellar-secrets set stripe_secret_key --env development --from-stdin --keep-newlines");
    expect(r.stderr).toContain("stellar-secrets get stripe_api_key --env production | stellar-secrets set stripe_secret_key --env production --from-stdin --keep-newlines");
    expect(r.stderr).toContain("stellar-secrets rm stripe_api_key --env development,production");
    expect(s.read("secrets/development.enc.yaml")).toBe(before);
    const json = await s.run(["rename", "stripe_api_key", "Bad-Name", "--json"]);
    expect(json.code).toBe(8);
    const plan = JSON.parse(json.stdout);
    expect(plan.setIn).toEqual(["development", "production"]);
    expect(plan.newNameProblem).toContain("uppercase");
  });
});

describe("members", () => {
  it("lists members per environment and reports recipient drift", async () => {
    const { s, alice } = await project();
    const r = await s.run(["members", "list", "--json"]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.environments[0]).toEqual({ name: "development", members: [{ name: "alice", recipient: alice.recipient }] });
    expect(out.recipientDrift).toEqual([]);
    const text = await s.run(["members", "list"]);
    expect(text.stdout.split("\n")[0]).toMatch(/^MEMBER\s+KEY\s+development\s+staging\s+production$/);
    expect(text.stdout.split("\n")[1]).toMatch(/^alice\s+age1\S+\s+yes\s+yes\s+yes$/);
    // bob is removed from stellar.yaml by hand: the file can still be decrypted by him
    const bob = s.keygen("bob");
    expect((await s.run(["members", "add", "bob", bob.recipient, "--env", "staging"])).code).toBe(0);
    s.write("stellar.yaml", s.read("stellar.yaml").replace(`      bob: ${bob.recipient}\n`, ""));
    const drift = await s.run(["members", "list"]);
    expect(drift.stdout).toContain(`warning: secrets/staging.enc.yaml can also be decrypted by ${bob.recipient}`);
    const json = JSON.parse((await s.run(["members", "list", "--json"])).stdout);
    expect(json.recipientDrift).toEqual([{ environment: "staging", file: "secrets/staging.enc.yaml", exists: true, extra: [bob.recipient], missing: [] }]);
    expect((await s.run(["rotate-key", "--env", "staging"])).code).toBe(0);
    expect(JSON.parse((await s.run(["members", "list", "--json"])).stdout).recipientDrift).toEqual([]);
  });

  it("add wraps the same data key for the new member (values untouched); the age CLI unwraps it with the new key", async () => {
    const { s, alice } = await project();
    const bob = s.keygen("bob");
    const dataKeyBefore = unwrapWith(s, "staging", alice) as Buffer;
    const valuesBefore = parse(s.read("secrets/staging.enc.yaml")).hubspot_api_token;
    const r = await s.run(["members", "add", "bob", bob.recipient, "--env", "staging"]);
    expect(r.code, r.stderr).toBe(0);
    expect(parse(s.read("stellar.yaml")).environments.staging.members).toEqual({ alice: alice.recipient, bob: bob.recipient });
    expect(s.read(".sops.yaml")).toContain(`${alice.recipient},${bob.recipient}`);
    expect(stanzas(s, "staging").map((x) => x.recipient)).toEqual([alice.recipient, bob.recipient]);
    expect(unwrapWith(s, "staging", bob)?.equals(dataKeyBefore)).toBe(true);
    expect(parse(s.read("secrets/staging.enc.yaml")).hubspot_api_token).toBe(valuesBefore);
    expect(unwrapWith(s, "production", bob)).toBeUndefined();
    // bob can read staging with the CLI
    const got = await s.run(["get", "hubspot_api_token", "--env", "staging"], { env: { SOPS_AGE_KEY_FILE: bob.file } });
    expect(got.stdout).toBe("hs_TOKEN_VALUE");
    // adding again is a no-op; the same name with another key is refused
    expect((await s.run(["members", "add", "bob", bob.recipient, "--env", "staging"])).stdout).toContain("already a member");
    const carol = s.keygen("carol");
    const clash = await s.run(["members", "add", "bob", carol.recipient, "--env", "staging"]);
    expect(clash.code).toBe(20);
    expect(clash.stderr).toContain("MEMBER_EXISTS");
    const bad = await s.run(["members", "add", "dave", "age1notakey", "--env", "staging"]);
    expect(bad.code).toBe(19);
    expect((await s.run(["members", "add", "dave", carol.recipient])).code).toBe(2);
  });

  it("rm rotates the data key: the removed key no longer unwraps the file (age CLI), the remaining members do, and it lists what to rotate", async () => {
    const { s, alice } = await project();
    const bob = s.keygen("bob");
    expect((await s.run(["members", "add", "bob", bob.recipient, "--env", "development,production"])).code).toBe(0);
    s.commit("bob joins");
    const oldKey = unwrapWith(s, "production", bob) as Buffer;
    expect(oldKey).toBeDefined();
    const oldEnc = parse(s.read("secrets/production.enc.yaml")).stripe_api_key;

    const r = await s.run(["members", "rm", "bob", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.removedFrom).toEqual(["development", "production"]);
    expect(out.dataKeyRotated).toEqual(["development", "production"]);
    expect(out.rotateNow).toEqual([
      { environment: "development", secrets: [{ name: "hubspot_api_token", references: 0 }, { name: "stripe_api_key", references: 0 }] },
      {
        environment: "production",
        secrets: [
          { name: "hubspot_api_token", references: 0 },
          { name: "stripe_api_key", references: 0 },
          { name: "twilio_auth_token", references: 0 },
        ],
      },
    ]);
    for (const env of ["development", "production"]) {
      expect(stanzas(s, env).map((x) => x.recipient)).toEqual([alice.recipient]);
      expect(unwrapWith(s, env, bob), env).toBeUndefined();
      const newKey = unwrapWith(s, env, alice);
      expect(newKey?.length).toBe(32);
    }
    expect(unwrapWith(s, "production", alice)?.equals(oldKey)).toBe(false);
    expect(parse(s.read("secrets/production.enc.yaml")).stripe_api_key).not.toBe(oldEnc);
    expect(parse(s.read("stellar.yaml")).environments.production.members).toEqual({ alice: alice.recipient });
    expect(s.read(".sops.yaml")).not.toContain(bob.recipient);
    const get = await s.run(["get", "stripe_api_key", "--env", "production"]);
    expect(get.stdout).toBe("sk_live_STRIPE");
    const denied = await s.run(["get", "stripe_api_key", "--env", "production"], { env: { SOPS_AGE_KEY_FILE: bob.file } });
    expect(denied.code).toBe(10);
    expect(denied.stderr).toContain("NO_MATCHING_IDENTITY");
  });

  it("rm prints the secrets to rotate as text, and refuses to remove the last member (LAST_MEMBER) or an unknown one", async () => {
    const { s } = await project();
    const bob = s.keygen("bob");
    await s.run(["members", "add", "bob", bob.recipient, "--env", "staging"]);
    const r = await s.run(["members", "rm", "bob"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Rotate them now");
    expect(r.stdout).toContain("hubspot_api_token  → new value at the provider, then: stellar-secrets set hubspot_api_token --env staging");
    const last = await s.run(["members", "rm", "alice", "--env", "production"]);
    expect(last.code).toBe(20);
    expect(last.stderr).toContain("LAST_MEMBER");
    const unknown = await s.run(["members", "rm", "zed"]);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain("UNKNOWN_MEMBER");
  });
});

describe("keyless listings with one environment file that cannot be read", () => {
  it("list and members list show the other environments, report the file (what, where, how) and exit 13 (MALFORMED_FILE), writing nothing", async () => {
    const { s } = await project();
    // a merge done as text: git conflict markers in staging's file
    const lines = s.read("secrets/staging.enc.yaml").split("\n");
    s.write("secrets/staging.enc.yaml", [lines[0], "<<<<<<< HEAD", ...lines.slice(1), "=======", ">>>>>>> feature", ""].join("\n"));
    const files = ["development", "staging", "production"].map((e) => s.read(`secrets/${e}.enc.yaml`));

    const list = await s.run(["list"], { env: { SOPS_AGE_KEY_FILE: undefined } });
    expect(list.code).toBe(13);
    expect(list.stdout.split("\n")[0]).toMatch(/^NAME\s+development\s+production\s+REFS$/);
    expect(list.stdout).toMatch(/^hubspot_api_token\s+set\s+set\s+0$/m);
    expect(list.stderr).toContain("MALFORMED_FILE");
    expect(list.stderr).toContain("secrets/staging.enc.yaml:2:1");
    expect(list.stderr).toContain("hint: ");
    expect(list.stderr).toContain("note: staging: not listed");
    const json = await s.run(["list", "--json"], { env: { SOPS_AGE_KEY_FILE: undefined } });
    expect(json.code).toBe(13);
    const doc = JSON.parse(json.stdout);
    expect(doc.environments).toEqual(["development", "production"]);
    expect(doc.unreadable).toMatchObject([{ environment: "staging", file: "secrets/staging.enc.yaml", code: "MALFORMED_FILE" }]);
    // only the broken environment asked for: refused as before
    expect((await s.run(["list", "--env", "staging"])).code).toBe(13);
    expect((await s.run(["list", "--env", "production"])).code).toBe(0);

    const members = await s.run(["members", "list"], { env: { SOPS_AGE_KEY_FILE: undefined } });
    expect(members.code).toBe(13);
    expect(members.stdout).toMatch(/^alice\s+age1\S+\s+yes\s+yes\s+yes$/m);
    expect(members.stderr).toContain("secrets/staging.enc.yaml:2:1");
    expect(members.stderr).toContain("note: staging: ");
    const membersJson = JSON.parse((await s.run(["members", "list", "--json"])).stdout);
    expect(membersJson.unreadable).toMatchObject([{ environment: "staging", code: "MALFORMED_FILE" }]);

    for (const out of [list, json, members]) expect(out.stdout + out.stderr).not.toMatch(/sk_live_STRIPE|hs_TOKEN_VALUE|tw_AUTH_VALUE/);
    expect(["development", "staging", "production"].map((e) => s.read(`secrets/${e}.enc.yaml`))).toEqual(files);
  });
});

describe("concurrent changes", () => {
  it("applies member additions and catalog entries from parallel processes without losing one", async () => {
    const { s } = await project();
    const keys = ["m1", "m2", "m3", "m4"].map((n) => s.keygen(n));
    const results = await Promise.all([
      ...keys.map((k, i) => s.run(["members", "add", `m${i + 1}`, k.recipient, "--env", "staging"])),
      ...["stripe_api_key", "hubspot_api_token", "twilio_auth_token"].map((n) => s.run(["set", n, "--owner", `team-${n}`])),
    ]);
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    expect(Object.keys(parse(s.read("stellar.yaml")).environments.staging.members).sort()).toEqual(["alice", "m1", "m2", "m3", "m4"]);
    expect(stanzas(s, "staging").map((x) => x.recipient).sort()).toEqual([...keys.map((k) => k.recipient), parse(s.read("stellar.yaml")).environments.staging.members.alice].sort());
    for (const k of keys) expect(unwrapWith(s, "staging", k)?.length).toBe(32);
    expect(Object.keys(parse(s.read("secrets/catalog.yaml")).secrets).sort()).toEqual(["hubspot_api_token", "stripe_api_key", "twilio_auth_token"]);
  });
});

describe("rotate-key", () => {
  it("replaces the data key and re-encrypts every value, keeping the values", async () => {
    const { s, alice } = await project();
    const before = parse(s.read("secrets/production.enc.yaml"));
    const oldKey = unwrapWith(s, "production", alice) as Buffer;
    const r = await s.run(["rotate-key", "--env", "production"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("rotated the data key of production");
    const after = parse(s.read("secrets/production.enc.yaml"));
    for (const name of ["stripe_api_key", "hubspot_api_token", "twilio_auth_token"]) expect(after[name]).not.toBe(before[name]);
    expect(unwrapWith(s, "production", alice)?.equals(oldKey)).toBe(false);
    expect((await s.run(["get", "twilio_auth_token", "--env", "production"])).stdout).toBe("tw_AUTH_VALUE");
    expect(s.read("secrets/development.enc.yaml")).toBe(s.git(["show", "HEAD:secrets/development.enc.yaml"]));
    expect((await s.run(["rotate-key"])).code).toBe(2);
  });
});

describe("exec", () => {
  it("runs a command with the secrets as upper-cased variables and passes the exit status through", async () => {
    const { s } = await project();
    const script = join(s.dir, "show.mjs");
    writeFileSync(script, `process.stdout.write(JSON.stringify({ s: process.env.STRIPE_API_KEY, h: process.env.HUBSPOT_API_TOKEN, t: process.env.TWILIO_AUTH_TOKEN ?? null })); process.exit(7);`);
    const r = await s.run(["exec", "--env", "development", "--", process.execPath, script]);
    expect(r.code).toBe(7);
    expect(JSON.parse(r.stdout)).toEqual({ s: "sk_live_STRIPE", h: "hs_TOKEN_VALUE", t: null });
    const only = await s.run(["exec", "--env", "production", "--only", "twilio_auth_token", "--", process.execPath, script]);
    expect(JSON.parse(only.stdout)).toEqual({ t: "tw_AUTH_VALUE" });
  });

  it("forwards SIGTERM to the child and reports 128 + signal", async () => {
    const { s } = await project();
    const script = join(s.dir, "wait.mjs");
    const marker = join(s.dir, "got-signal");
    writeFileSync(
      script,
      `import { writeFileSync } from "node:fs"; process.on("SIGTERM", () => { writeFileSync(${JSON.stringify(marker)}, "TERM"); process.exit(42); }); process.stdout.write("ready\\n"); setInterval(() => {}, 1000);`,
    );
    const p = s.start(["exec", "--env", "development", "--", process.execPath, script]);
    for (let i = 0; i < 200 && !p.stdout().includes("ready"); i++) await new Promise((r) => setTimeout(r, 50));
    p.kill("SIGTERM");
    const r = await p.done;
    expect(r.code).toBe(42);
    expect((await import("node:fs")).readFileSync(marker, "utf8")).toBe("TERM");

    const self = join(s.dir, "self.mjs");
    writeFileSync(self, `process.kill(process.pid, "SIGTERM"); setInterval(() => {}, 1000);`);
    const killed = await s.run(["exec", "--env", "development", "--", process.execPath, self]);
    expect(killed.code).toBe(128 + 15);
  });

  it("refuses collisions, invalid variable names, unknown --only names and missing commands", async () => {
    const { s } = await project();
    const collide = await s.run(["exec", "--env", "development", "--", "true"], { env: { STRIPE_API_KEY: "outer" } });
    expect(collide.code).toBe(21);
    expect(collide.stderr).toContain("VARIABLE_COLLISION");
    expect(collide.stderr).not.toContain("sk_live_STRIPE");
    expect((await s.run(["exec", "--env", "development", "--override", "--", "true"], { env: { STRIPE_API_KEY: "outer" } })).code).toBe(0);
    const unknown = await s.run(["exec", "--env", "development", "--only", "nope", "--", "true"]);
    expect(unknown.code).toBe(4);
    const missing = await s.run(["exec", "--env", "development", "--", "/nonexistent/cmd"]);
    expect(missing.code).toBe(127);
    expect((await s.run(["exec", "--env", "development"])).code).toBe(2);
    // --help after -- belongs to the child
    const argvScript = join(s.dir, "argv.mjs");
    writeFileSync(argvScript, "process.stdout.write(process.argv.slice(2).join(' '));");
    const help = await s.run(["exec", "--env", "development", "--", process.execPath, argvScript, "--help"]);
    expect(help.stdout).toBe("--help");
  });
});

describe("export", () => {
  it("writes dotenv, json and a Kubernetes Secret", async () => {
    const { s } = await project();
    await s.run(["set", "quoted_test_value", "--env", "development", "--from-stdin"], { input: 'a "b" $c\\d\nline2' });
    const dotenv = await s.run(["export", "--env", "development"]);
    expect(dotenv.code).toBe(0);
    expect(dotenv.stdout).toBe(
      ['HUBSPOT_API_TOKEN="hs_TOKEN_VALUE"', `QUOTED_TEST_VALUE='a "b" $c\\d\nline2'`, 'STRIPE_API_KEY="sk_live_STRIPE"', ""].join("\n"),
    );
    const json = await s.run(["export", "--env", "production", "--format", "json", "--only", "stripe_api_key,twilio_auth_token"]);
    expect(JSON.parse(json.stdout)).toEqual({ stripe_api_key: "sk_live_STRIPE", twilio_auth_token: "tw_AUTH_VALUE" });
    const k8s = await s.run(["export", "--env", "production", "--format", "k8s", "--name", "billing", "--namespace", "prod"]);
    const doc = parse(k8s.stdout);
    expect(doc).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "billing", namespace: "prod" },
      type: "Opaque",
      data: {
        hubspot_api_token: Buffer.from("hs_TOKEN_VALUE").toString("base64"),
        stripe_api_key: Buffer.from("sk_live_STRIPE").toString("base64"),
        twilio_auth_token: Buffer.from("tw_AUTH_VALUE").toString("base64"),
      },
    });
    expect(parse((await s.run(["export", "--env", "staging", "--format", "k8s"])).stdout).metadata).toEqual({ name: "stellar-secrets-staging" });
    expect((await s.run(["export", "--env", "staging", "--format", "xml"])).code).toBe(2);
    expect((await s.run(["export", "--env", "staging", "--name", "x"])).code).toBe(2);
  });
});
