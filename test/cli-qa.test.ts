/**
 * Regression tests for the defects a black-box QA pass found in the CLI: each test failed before
 * its fix. Real CLI processes, real git repositories, real age keys, the `age` CLI as referee.
 */
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ageDecrypt, createSandbox, type AgeKey, type Sandbox } from "./helpers/cli.js";
import { parse } from "./helpers/yaml.js";

// Each test runs the CLI as many child processes; on a loaded 2-core machine that takes a while.
vi.setConfig({ testTimeout: 180_000 });

let sandboxes: Sandbox[] = [];
afterEach(() => {
  for (const s of sandboxes) s.cleanup();
  sandboxes = [];
});

function sandbox(options?: Parameters<typeof createSandbox>[0]): Sandbox {
  const s = createSandbox(options);
  sandboxes.push(s);
  return s;
}

/** A repository initialised by alice (key in SOPS_AGE_KEY_FILE) with a few secrets, committed. */
async function project(): Promise<{ s: Sandbox; alice: AgeKey }> {
  const s = sandbox();
  const alice = s.keygen("alice");
  s.env.SOPS_AGE_KEY_FILE = alice.file;
  expect((await s.run(["init", "--env", "development,staging,production"])).code).toBe(0);
  await setValue(s, "stripe_api_key", "development,production", "sk_live_STRIPE");
  await setValue(s, "hubspot_api_token", "development,staging,production", "hs_TOKEN_VALUE");
  s.commit("secrets");
  return { s, alice };
}

async function setValue(s: Sandbox, name: string, envs: string, value: string): Promise<void> {
  const r = await s.run(["set", name, "--env", envs, "--from-stdin"], { input: value });
  expect(r.code, r.stderr).toBe(0);
}

/** The age stanzas (recipient, armored wrapped key) of an environment file. */
function stanzas(s: Sandbox, env: string): { recipient: string; enc: string }[] {
  return parse(s.read(`secrets/${env}.enc.yaml`)).sops.age;
}

/** The data key `key` unwraps from one of the file's stanzas with the age CLI, or undefined. */
function unwrapWith(s: Sandbox, env: string, key: AgeKey): Buffer | undefined {
  for (const st of stanzas(s, env)) {
    try {
      return ageDecrypt(key.file, st.enc);
    } catch {
      // not for this key
    }
  }
  return undefined;
}

describe("set never echoes a value given as an argument", () => {
  it("counts an extra positional without showing it, and refuses NAME=VALUE without echoing or building a name from it", async () => {
    const { s } = await project();
    const extra = await s.run(["set", "stripe_api_key", "sk_live_REAL", "--env", "production"]);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toContain("USAGE: set: an unexpected extra argument (not shown: values are never taken from arguments; use the prompt, --from-stdin or --from-file)");
    const two = await s.run(["set", "stripe_api_key", "sk_live_REAL", "more_REAL", "--env", "production"]);
    expect(two.code).toBe(2);
    expect(two.stderr).toContain("2 unexpected extra arguments (not shown");
    const eq = await s.run(["set", "stripe_api_key=sk_live_REAL", "--env", "production", "--from-stdin"], { input: "x" });
    expect(eq.code).toBe(3);
    expect(eq.stderr).toContain("INVALID_SECRET_NAME");
    expect(eq.stderr).toContain("a value must not be passed in the argument");
    expect(eq.stderr).toContain("stellar-secrets set stripe_api_key --env ENV");
    for (const r of [extra, two, eq]) {
      expect(r.stdout + r.stderr).not.toMatch(/sk_live_REAL|sk_live_real|more_REAL/);
    }
    expect((await s.run(["get", "stripe_api_key", "--env", "production"])).stdout).toBe("sk_live_STRIPE");
  });
});

describe("one member name is one key, one key one name", () => {
  it("refuses a key already held under another name, and a second key for a name, in any environment (MEMBER_EXISTS)", async () => {
    const { s } = await project();
    const b = s.keygen("b");
    const c = s.keygen("c");
    expect((await s.run(["members", "add", "bob", b.recipient, "--env", "production"])).code).toBe(0);
    const before = s.read("stellar.yaml");
    const alias = await s.run(["members", "add", "robert", b.recipient, "--env", "staging"]);
    expect(alias.code).toBe(20);
    expect(alias.stderr).toContain('MEMBER_EXISTS: this key is already in production as member "bob"');
    const second = await s.run(["members", "add", "bob", c.recipient, "--env", "development"]);
    expect(second.code).toBe(20);
    expect(second.stderr).toContain('MEMBER_EXISTS: production already has a member "bob" with a different key');
    expect(s.read("stellar.yaml")).toBe(before);
    expect(unwrapWith(s, "staging", b)).toBeUndefined();
    expect(unwrapWith(s, "development", c)).toBeUndefined();
    // the same name with the same key in another environment is fine
    expect((await s.run(["members", "add", "bob", b.recipient, "--env", "staging"])).code).toBe(0);
    expect((await s.run(["members", "rm", "bob"])).code).toBe(0);
    for (const env of ["development", "staging", "production"]) expect(unwrapWith(s, env, b), env).toBeUndefined();
  });
});
