/**
 * The first CLI commands end to end (issue 2): init, set, get, list — the built CLI as a child
 * process in a temp git repository with its own HOME and real age keys.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parse } from "./helpers/yaml.js";
import { createSandbox, recipientOfKeyFile, type Sandbox } from "./helpers/cli.js";

// Each test runs the CLI as many child processes; on a loaded 2-core machine that takes a while.
vi.setConfig({ testTimeout: 180_000 });

let sandboxes: Sandbox[] = [];
function sandbox(options?: Parameters<typeof createSandbox>[0]): Sandbox {
  const s = createSandbox(options);
  sandboxes.push(s);
  return s;
}
afterEach(() => {
  for (const s of sandboxes) s.cleanup();
  sandboxes = [];
});

describe("init", () => {
  it("in a subfolder: no `git init` advice inside a git repository, and a note when a secrets repository is above", async () => {
    const s = sandbox();
    mkdirSync(join(s.repo, "infra/secrets"), { recursive: true });
    const inGit = await s.run(["init", "--env", "development"], { cwd: join(s.repo, "infra/secrets") });
    expect(inGit.code).toBe(0);
    expect(inGit.stdout).not.toContain("git init");
    expect(inGit.stderr).toBe("");
    mkdirSync(join(s.repo, "infra/secrets/agents/billing"), { recursive: true });
    const nested = await s.run(["init", "--env", "development"], { cwd: join(s.repo, "infra/secrets/agents/billing") });
    expect(nested.code).toBe(0);
    expect(nested.stderr).toBe(
      `note: ${join(s.repo, "infra/secrets/agents/billing")} is inside the secrets repository ${join(s.repo, "infra/secrets")} (its stellar.yaml): this made a second, separate one here; its commands read the nearest stellar.yaml. To undo, remove the files it created\n`,
    );
    const outside = sandbox({ gitInit: false });
    const plain = await outside.run(["init", "--env", "development"]);
    expect(plain.stdout).toContain("git init && git add -A");
  });

  it("creates stellar.yaml, .sops.yaml, one encrypted file per environment and a 0600 identity in a 0700 folder", async () => {
    const s = sandbox();
    const r = await s.run(["init", "--env", "development,staging"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    // the identity: in the sops default key file, private modes
    expect(statSync(s.defaultKeyFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(s.home, ".config/sops/age")).mode & 0o777).toBe(0o700);
    const keyText = readFileSync(s.defaultKeyFile, "utf8");
    const identity = keyText.split("\n").find((l) => l.startsWith("AGE-SECRET-KEY-1")) as string;
    expect(identity).toBeDefined();
    expect(r.stdout).not.toContain(identity);
    const recipient = recipientOfKeyFile(s.defaultKeyFile);

    const config = parse(s.read("stellar.yaml"));
    expect(config.version).toBe(1);
    expect(Object.keys(config.environments)).toEqual(["development", "staging"]);
    expect(config.environments.development.members).toEqual({ alice: recipient });
    expect(config.environments.staging.members).toEqual({ alice: recipient });

    const sops = parse(s.read(".sops.yaml"));
    expect(sops.creation_rules).toHaveLength(2);
    expect(sops.creation_rules[0].age).toBe(recipient);

    for (const env of ["development", "staging"]) {
      const file = parse(s.read(`secrets/${env}.enc.yaml`));
      expect(file.sops.age.map((a: { recipient: string }) => a.recipient)).toEqual([recipient]);
      expect(file.sops.mac).toMatch(/^ENC\[AES256_GCM,/);
    }
    expect(existsSync(join(s.repo, "secrets/production.enc.yaml"))).toBe(false);
  });

  it("defaults to development, staging and production and uses an existing identity instead of creating one", async () => {
    const s = sandbox();
    const key = s.keygen("bob");
    const r = await s.run(["init", "--member", "bob"], { env: { SOPS_AGE_KEY_FILE: key.file } });
    expect(r.code).toBe(0);
    expect(existsSync(s.defaultKeyFile)).toBe(false);
    const config = parse(s.read("stellar.yaml"));
    expect(Object.keys(config.environments)).toEqual(["development", "staging", "production"]);
    expect(config.environments.production.members).toEqual({ bob: key.recipient });
  });

  it("refuses to overwrite an existing setup (ALREADY_INITIALIZED, exit 6) and leaves the files alone", async () => {
    const s = sandbox();
    expect((await s.run(["init"])).code).toBe(0);
    const before = s.read("stellar.yaml");
    const again = await s.run(["init", "--env", "qa"]);
    expect(again.code).toBe(6);
    expect(again.stderr).toContain("ALREADY_INITIALIZED");
    expect(s.read("stellar.yaml")).toBe(before);

    const t = sandbox();
    t.write(".sops.yaml", "creation_rules: []\n");
    const r = await t.run(["init"]);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain(".sops.yaml");
    expect(existsSync(join(t.repo, "stellar.yaml"))).toBe(false);
  });

  it("rejects bad environment and member names as usage errors", async () => {
    const s = sandbox();
    expect((await s.run(["init", "--env", "Prod"])).code).toBe(2);
    const bad = await s.run(["init", "--member=bad name"]);
    expect(bad.code).toBe(19);
    expect(bad.stderr).toContain("INVALID_MEMBER");
  });
});

describe("set, get, list", () => {
  async function initialized(): Promise<Sandbox> {
    const s = sandbox();
    const r = await s.run(["init", "--env", "development,staging,production"]);
    expect(r.code).toBe(0);
    return s;
  }

  it("list names a secrets_dir that does not exist (a typo in stellar.yaml hides every secret)", async () => {
    const s = await initialized();
    await s.run(["set", "stripe_api_key", "--env", "development", "--from-stdin"], { input: "x" });
    s.write("stellar.yaml", s.read("stellar.yaml").replace("secrets_dir: secrets", "secrets_dir: secret"));
    const r = await s.run(["list"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("No secrets yet");
    expect(r.stderr).toBe('note: the secrets folder "secret" (secrets_dir in stellar.yaml) does not exist\n');
  });

  it("sets from stdin (trailing newlines removed, like gh secret set) and reads it back with get", async () => {
    const s = await initialized();
    const set = await s.run(["set", "stripe_api_key", "--env", "development,staging", "--from-stdin"], { input: "sk_test_51abc\r\n\n" });
    expect(set.stderr).toBe("");
    expect(set.code).toBe(0);
    expect(set.stdout).toBe("created stripe_api_key in development and staging\n");
    const get = await s.run(["get", "stripe_api_key", "--env", "staging"]);
    expect(get.code).toBe(0);
    expect(get.stdout).toBe("sk_test_51abc"); // not a terminal: no newline added
    const json = await s.run(["get", "stripe_api_key", "--env", "development", "--json"]);
    expect(JSON.parse(json.stdout)).toEqual({ name: "stripe_api_key", environment: "development", value: "sk_test_51abc" });
  });

  it("reads an environment file with lone-CR line breaks as sops does (get, list, check), and set writes it back with LF", async () => {
    const s = await initialized();
    await s.run(["set", "stripe_api_key", "--env", "production", "--from-stdin"], { input: "sk_live_cr" });
    await s.run(["set", "hubspot_token", "--env", "production", "--from-stdin"], { input: "pat-cr" });
    const lfCheck = await s.run(["check", "--json"]);
    const lfList = await s.run(["list", "--json"]);
    const path = "secrets/production.enc.yaml";
    s.write(path, s.read(path).replace(/\n/g, "\r"));
    const get = await s.run(["get", "stripe_api_key", "--env", "production"]);
    expect([get.code, get.stdout, get.stderr]).toEqual([0, "sk_live_cr", ""]);
    expect((await s.run(["list", "--json"])).stdout).toBe(lfList.stdout);
    const crCheck = await s.run(["check", "--json"]);
    expect([crCheck.code, crCheck.stdout]).toEqual([lfCheck.code, lfCheck.stdout]);
    const set = await s.run(["set", "stripe_api_key", "--env", "production", "--from-stdin"], { input: "sk_live_2" });
    expect([set.code, set.stdout]).toEqual([0, "updated stripe_api_key in production\n"]);
    expect(s.read(path)).not.toContain("\r");
    expect((await s.run(["get", "hubspot_token", "--env", "production"])).stdout).toBe("pat-cr");
    expect((await s.run(["get", "stripe_api_key", "--env", "production"])).stdout).toBe("sk_live_2");
  });

  it("keeps the exact bytes of --from-file, including a trailing newline and multi-line text", async () => {
    const s = await initialized();
    const pem = "-----BEGIN KEY-----\nabc\ndef\n-----END KEY-----\n";
    writeFileSync(join(s.dir, "key.pem"), pem);
    const set = await s.run(["set", "github_app_private_key", "--env", "production", "--from-file", join(s.dir, "key.pem")]);
    expect(set.code).toBe(0);
    expect((await s.run(["get", "github_app_private_key", "--env", "production"])).stdout).toBe(pem);
  });

  it("updates an existing value and reports unchanged when the value is the same", async () => {
    const s = await initialized();
    await s.run(["set", "sendgrid_api_token", "--env", "development", "--from-stdin"], { input: "one" });
    const file = s.read("secrets/development.enc.yaml");
    const again = await s.run(["set", "sendgrid_api_token", "--env", "development", "--from-stdin", "--json"], { input: "one" });
    expect(s.read("secrets/development.enc.yaml")).toBe(file); // not even mac/lastmodified change
    expect(JSON.parse(again.stdout).environments).toEqual([{ environment: "development", action: "unchanged", file: "secrets/development.enc.yaml" }]);
    const update = await s.run(["set", "sendgrid_api_token", "--env", "development", "--from-stdin"], { input: "two" });
    expect(update.stdout).toBe("updated sendgrid_api_token in development\n");
    expect((await s.run(["get", "sendgrid_api_token", "--env", "development"])).stdout).toBe("two");
  });

  it("rejects names that break the naming rules with the rule id (exit 3) and writes nothing", async () => {
    const s = await initialized();
    const before = s.read("secrets/development.enc.yaml");
    for (const name of ["StripeKey", "stripe-key", "1password_token", "with space", "__proto__", "sops"]) {
      const r = await s.run(["set", name, "--env", "development", "--from-stdin"], { input: "v" });
      expect(r.code, name).toBe(3);
      expect(r.stderr, name).toContain("INVALID_SECRET_NAME");
      expect(r.stderr, name).toContain("[invalid-secret-name]");
    }
    const r = await s.run(["set", "StripeKey", "--env", "development", "--from-stdin"], { input: "v" });
    expect(r.stderr).toContain('try "stripe_key"');
    expect(s.read("secrets/development.enc.yaml")).toBe(before);
  });

  it("refuses values from arguments, unknown flags and missing sources as usage errors (exit 2)", async () => {
    const s = await initialized();
    const extra = await s.run(["set", "stripe_api_key", "sk_live_value", "--env", "development"]);
    expect(extra.code).toBe(2);
    expect(extra.stderr).not.toContain("sk_live_value\n");
    expect((await s.run(["set", "stripe_api_key", "--value", "x", "--env", "development"])).code).toBe(2);
    const noSource = await s.run(["set", "stripe_api_key", "--env", "development"]);
    expect(noSource.code).toBe(2);
    expect(noSource.stderr).toContain("--from-stdin");
    expect((await s.run(["set", "stripe_api_key", "--env", "development", "--from-stdin", "--from-file", "x"])).code).toBe(2);
    expect((await s.run(["list", "--bogus"])).code).toBe(2);
    expect((await s.run(["frobnicate"])).code).toBe(2);
    expect((await s.run(["constructor"])).code).toBe(2);
  });

  it("rejects empty and non-UTF-8 values (INVALID_VALUE, exit 18)", async () => {
    const s = await initialized();
    const empty = await s.run(["set", "stripe_api_key", "--env", "development", "--from-stdin"], { input: "\n" });
    expect(empty.code).toBe(18);
    const binary = await s.run(["set", "stripe_api_key", "--env", "development", "--from-stdin"], { input: Buffer.from([0xff, 0xfe, 0x41]) });
    expect(binary.code).toBe(18);
    expect(binary.stderr).toContain("UTF-8");
  });

  it("names an unknown environment (exit 4) and a missing secret with where it is set", async () => {
    const s = await initialized();
    const r = await s.run(["set", "stripe_api_key", "--env", "prod", "--from-stdin"], { input: "x" });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("UNKNOWN_ENVIRONMENT");
    expect(r.stderr).toContain("development, staging, production");
    await s.run(["set", "stripe_api_key", "--env", "staging", "--from-stdin"], { input: "x" });
    const g = await s.run(["get", "stripe_api_key", "--env", "production"]);
    expect(g.code).toBe(4);
    expect(g.stderr).toContain("UNKNOWN_SECRET");
    expect(g.stderr).toContain("it is set in: staging");
    // "prod" is a typo of production; a secret name one typo away is named before a second secret is created
    expect(r.stderr).toContain('did you mean "production"?');
    const typo = await s.run(["set", "strip_api_key", "--env", "production", "--from-stdin"], { input: "x" });
    expect(typo.code).toBe(0);
    expect(typo.stderr).toBe('note: no environment has "strip_api_key": this creates a new secret; did you mean "stripe_api_key"?\n');
    // a new name whose exec/export variable is a startup variable: set writes it, and notes why check warns
    const startup = await s.run(["set", "ld_preload", "--env", "production", "--from-stdin"], { input: "x" });
    expect(startup.code).toBe(0);
    expect(startup.stdout).toBe("created ld_preload in production\n");
    expect(startup.stderr).toMatch(/^note: secret "ld_preload" would set LD_PRELOAD .*\(`check` warns: invalid-secret-name\)\n$/);
    expect((await s.run(["set", "ld_preload", "--env", "production", "--from-stdin"], { input: "y" })).stderr).toBe("");
    const typoGet = await s.run(["get", "stripe_api_kye", "--env", "staging"]);
    expect(typoGet.stderr).toContain('hint: did you mean "stripe_api_key"?');
  });

  it("refuses set into an environment with no members (NO_RECIPIENTS, exit 27), naming it and members add, and writes nothing", async () => {
    const s = await initialized();
    s.write("stellar.yaml", `${s.read("stellar.yaml").trimEnd()}\n  preview:\n    members: {}\n`);
    const r = await s.run(["set", "stripe_api_key", "--env", "preview", "--from-stdin"], { input: "x" });
    expect(r.code).toBe(27);
    expect(r.stderr).toContain('NO_RECIPIENTS: environment "preview" has no members');
    expect(r.stderr).toContain("stellar-secrets members add NAME KEY --env preview");
    expect(existsSync(join(s.repo, "secrets/preview.enc.yaml"))).toBe(false);
  });

  it("the first set into an environment added to stellar.yaml by hand adds its .sops.yaml rule (as init writes one); members add into one too", async () => {
    const s = await initialized();
    const me = recipientOfKeyFile(s.defaultKeyFile);
    const other = s.keygen("ci").recipient;
    s.write("stellar.yaml", `${s.read("stellar.yaml").trimEnd()}\n  preview:\n    members:\n      alice: ${me}\n  qa:\n    members:\n      alice: ${me}\n`);
    const before = s.read(".sops.yaml");
    const r = await s.run(["set", "stripe_api_key", "--env", "preview", "--from-stdin"], { input: "x" });
    expect([r.code, r.stdout, r.stderr]).toEqual([0, "created stripe_api_key in preview\n", "note: added a creation rule for preview to .sops.yaml (sops encrypts secrets/preview.enc.yaml to its members)\n"]);
    expect(s.read(".sops.yaml")).toBe(`${before}  - path_regex: (^|/)secrets/preview\\.enc\\.yaml$\n    age: ${me}\n`);
    // a second set changes nothing there
    expect((await s.run(["set", "stripe_api_key", "--env", "preview", "--from-stdin"], { input: "y" })).stderr).toBe("");
    const added = await s.run(["members", "add", "ci", other, "--env", "qa"]);
    expect([added.code, added.stderr]).toEqual([0, ""]);
    expect(s.read(".sops.yaml")).toContain(`  - path_regex: (^|/)secrets/qa\\.enc\\.yaml$\n    age: ${me},${other}\n`);
    const check = await s.run(["check", "--json"]);
    expect(check.stdout).not.toContain("sops-config-drift");
  });

  it("lists the names × environments matrix with set/missing, as text and JSON, without values", async () => {
    const s = await initialized();
    await s.run(["set", "stripe_api_key", "--env", "development,production", "--from-stdin"], { input: "sk_value_1" });
    await s.run(["set", "hubspot_api_token", "--env", "staging", "--from-stdin"], { input: "hs_value_2" });
    const list = await s.run(["list"]);
    expect(list.code).toBe(0);
    expect(list.stdout).toBe(
      [
        "NAME               development  staging  production  REFS",
        "hubspot_api_token  missing      set      missing     0",
        "stripe_api_key     set          missing  set         0",
        "",
      ].join("\n"),
    );
    const json = JSON.parse((await s.run(["list", "--json"])).stdout);
    expect(json.environments).toEqual(["development", "staging", "production"]);
    expect(json.secrets.map((x: { name: string }) => x.name)).toEqual(["hubspot_api_token", "stripe_api_key"]);
    expect(json.secrets[1].environments).toEqual({ development: "set", staging: "missing", production: "set" });
    const only = await s.run(["list", "--env", "staging"]);
    expect(only.stdout.split("\n")[0]).toBe("NAME               staging  REFS");
  });

  it("writes and shows catalog entries with set --description/--owner/--rotate-every and list --long", async () => {
    const s = await initialized();
    await s.run(["set", "stripe_api_key", "--env", "production", "--from-stdin"], { input: "v" });
    const cat = await s.run(["set", "stripe_api_key", "--description", "Stripe secret key for billing", "--owner", "payments-team", "--rotate-every", "90d"]);
    expect(cat.code).toBe(0);
    expect(parse(s.read("secrets/catalog.yaml")).secrets.stripe_api_key).toEqual({
      description: "Stripe secret key for billing",
      owner: "payments-team",
      rotate_every: "90d",
    });
    const long = await s.run(["list", "--long"]);
    expect(long.stdout).toContain("OWNER");
    expect(long.stdout).toMatch(/stripe_api_key\s+missing\s+missing\s+set\s+0\s+payments-team\s+90d\s+Stripe secret key for billing/);
    expect((await s.run(["set", "stripe_api_key", "--rotate-every", "soon"])).code).toBe(2);
  });

  it("keeps the ciphertext of unchanged values: a second set changes only that value, mac and lastmodified", async () => {
    const s = await initialized();
    await s.run(["set", "stripe_api_key", "--env", "development", "--from-stdin"], { input: "a" });
    await s.run(["set", "twilio_auth_token", "--env", "development", "--from-stdin"], { input: "b" });
    s.commit("two secrets");
    await s.run(["set", "twilio_auth_token", "--env", "development", "--from-stdin"], { input: "c" });
    const diff = s.git(["diff", "-U0", "--", "secrets/development.enc.yaml"]);
    const changed = diff
      .split("\n")
      .filter((l) => /^[-+][^-+]/.test(l))
      .map((l) => l.slice(1).trim().split(":")[0] ?? "");
    // lastmodified has one-second resolution, so it may or may not differ
    expect(changed).toContain("twilio_auth_token");
    expect(changed).toContain("mac");
    expect(changed.filter((k) => !["twilio_auth_token", "mac", "lastmodified"].includes(k))).toEqual([]);
  });

  it("writes nothing when one of several environments cannot be opened with your key", async () => {
    const s = sandbox();
    const alice = s.keygen("alice");
    const bob = s.keygen("bob");
    expect((await s.run(["init", "--env", "development,production"], { env: { SOPS_AGE_KEY_FILE: alice.file } })).code).toBe(0);
    expect((await s.run(["members", "add", "bob", bob.recipient, "--env", "development"], { env: { SOPS_AGE_KEY_FILE: alice.file } })).code).toBe(0);
    const dev = s.read("secrets/development.enc.yaml");
    const r = await s.run(["set", "stripe_api_key", "--env", "development,production", "--from-stdin"], { input: "v", env: { SOPS_AGE_KEY_FILE: bob.file } });
    expect(r.code).toBe(10);
    expect(r.stderr).toContain("NO_MATCHING_IDENTITY");
    expect(r.stderr).toContain(alice.recipient);
    expect(s.read("secrets/development.enc.yaml")).toBe(dev);
    const none = await s.run(["get", "stripe_api_key", "--env", "development"], { env: { SOPS_AGE_KEY_FILE: undefined } });
    expect(none.code).toBe(10);
    expect(none.stderr).toContain("NO_IDENTITY");
  });

  it("init --recipient uses a given public key and creates no identity", async () => {
    const s = sandbox();
    const key = s.keygen("ci");
    const r = await s.run(["init", "--env", "production", "--member", "ci-deploy", "--recipient", key.recipient, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ environments: ["production"], member: { name: "ci-deploy", recipient: key.recipient }, keyFile: null });
    expect(existsSync(s.defaultKeyFile)).toBe(false);
    const set = await s.run(["set", "stripe_api_key", "--env", "production", "--from-stdin"], { input: "v", env: { SOPS_AGE_KEY_FILE: key.file } });
    expect(set.code, set.stderr).toBe(0);
    expect((await s.run(["init", "--recipient", "age1nope"])).code).toBe(6);
  });

  it("finds stellar.yaml from a subdirectory and says NO_PROJECT (exit 5) outside one", async () => {
    const s = await initialized();
    s.write("agents/support/readme.txt", "x");
    const r = await s.run(["list"], { cwd: join(s.repo, "agents/support") });
    expect(r.code).toBe(0);
    const t = sandbox();
    const none = await t.run(["list"]);
    expect(none.code).toBe(5);
    expect(none.stderr).toContain("NO_PROJECT");
  });

  it("prints help for every command and the command list", async () => {
    const s = sandbox();
    const top = await s.run(["--help"]);
    expect(top.code).toBe(0);
    for (const name of ["init", "set", "get", "list", "rm", "rename", "members", "rotate-key", "stale", "history", "exec", "export", "edit"]) {
      expect(top.stdout).toContain(`  ${name} `);
      const h = await s.run([name, "--help"]);
      expect(h.code, name).toBe(0);
      expect(h.stdout, name).toMatch(/^Usage: stellar-secrets /);
      expect(h.stdout, name).toContain("Example");
    }
  });
});
