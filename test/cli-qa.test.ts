/**
 * Regression tests for the defects a black-box QA pass found in the CLI: each test failed before
 * its fix. Real CLI processes, real git repositories, real age keys, the `age` CLI as referee.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { CLI_BIN, createSandbox, stanzas, unwrapWith, type AgeKey, type Sandbox, sandboxesCleanedAfterEach } from "./helpers/cli.js";
import { editSecretsFile } from "../packages/sops/src/index.js";
import { parse, parseAsMaps } from "./helpers/yaml.js";

// Each test runs the CLI as many child processes; on a loaded 2-core machine that takes a while.
vi.setConfig({ testTimeout: 180_000 });

const sandboxes = sandboxesCleanedAfterEach();

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

describe("members add never hides recipient drift", () => {
  it("replaces the data key when the file is encrypted to a key that is no longer a member, and lists what that key could read", async () => {
    const { s, alice } = await project();
    const bob = s.keygen("bob");
    const carol = s.keygen("carol");
    expect((await s.run(["members", "add", "bob", bob.recipient, "--env", "production"])).code).toBe(0);
    s.commit("bob joins");
    const bobsKey = unwrapWith(s, "production", bob) as Buffer;
    expect(bobsKey.length).toBe(32);
    // bob is removed from stellar.yaml by hand: the file is still encrypted to him (drift)
    s.write("stellar.yaml", s.read("stellar.yaml").replace(new RegExp(`^.*bob: ${bob.recipient}\\n`, "m"), ""));
    const drift = JSON.parse((await s.run(["members", "list", "--json"])).stdout);
    expect(drift.recipientDrift).toEqual([expect.objectContaining({ environment: "production", extra: [bob.recipient] })]);

    const r = await s.run(["members", "add", "carol", carol.recipient, "--env", "production", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.added).toEqual(["production"]);
    expect(out.dataKeyRotated).toEqual(["production"]);
    expect(out.lostAccess).toEqual([{ environment: "production", recipients: [bob.recipient] }]);
    expect(out.rotateNow).toEqual([
      { environment: "production", secrets: [{ name: "hubspot_api_token", references: 0 }, { name: "stripe_api_key", references: 0 }] },
    ]);
    expect(stanzas(s, "production").map((x) => x.recipient)).toEqual([alice.recipient, carol.recipient]);
    // the age CLI: bob opens no stanza; the new data key is not the one bob knew
    expect(unwrapWith(s, "production", bob)).toBeUndefined();
    const newKey = unwrapWith(s, "production", carol) as Buffer;
    expect(newKey.length).toBe(32);
    expect(newKey.equals(bobsKey)).toBe(false);
    expect(unwrapWith(s, "production", alice)?.equals(newKey)).toBe(true);
    expect((await s.run(["get", "stripe_api_key", "--env", "production"], { env: { SOPS_AGE_KEY_FILE: carol.file } })).stdout).toBe("sk_live_STRIPE");
    const denied = await s.run(["get", "stripe_api_key", "--env", "production"], { env: { SOPS_AGE_KEY_FILE: bob.file } });
    expect(denied.code).toBe(10);
    expect(JSON.parse((await s.run(["members", "list", "--json"])).stdout).recipientDrift).toEqual([]);
    // a plain add without drift still keeps the data key (updatekeys)
    const dave = s.keygen("dave");
    const stagingKey = unwrapWith(s, "staging", alice) as Buffer;
    const plain = await s.run(["members", "add", "dave", dave.recipient, "--env", "staging"]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toBe("added dave to staging; stellar.yaml and .sops.yaml updated\n");
    expect(unwrapWith(s, "staging", dave)?.equals(stagingKey)).toBe(true);
  });

  it("says in text which recipients lost access and which secrets to rotate", async () => {
    const { s } = await project();
    const bob = s.keygen("bob");
    const carol = s.keygen("carol");
    expect((await s.run(["members", "add", "bob", bob.recipient, "--env", "staging"])).code).toBe(0);
    s.write("stellar.yaml", s.read("stellar.yaml").replace(new RegExp(`^.*bob: ${bob.recipient}\\n`, "m"), ""));
    const r = await s.run(["members", "add", "carol", carol.recipient, "--env", "staging"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      [
        "added carol to staging; stellar.yaml and .sops.yaml updated",
        `staging: the file was also encrypted to ${bob.recipient}, not a member of staging; they lost access: new data key, every value re-encrypted`,
        "",
        `${bob.recipient} could read these values (and keeps any copy, e.g. from git history). Rotate them now:`,
        "  staging:",
        "    hubspot_api_token  → new value at the provider, then: stellar-secrets set hubspot_api_token --env staging",
        "",
      ].join("\n"),
    );
    expect(unwrapWith(s, "staging", bob)).toBeUndefined();
  });
});

describe("rotate-key with recipient drift", () => {
  it("names the keys that lost access and lists the secrets they could read", async () => {
    const { s, alice } = await project();
    const bob = s.keygen("bob");
    expect((await s.run(["members", "add", "bob", bob.recipient, "--env", "staging"])).code).toBe(0);
    s.write("stellar.yaml", s.read("stellar.yaml").replace(new RegExp(`^.*bob: ${bob.recipient}\\n`, "m"), ""));
    const r = await s.run(["rotate-key", "--env", "staging,production", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.rotated.map((x: { environment: string; lostAccess: string[] }) => [x.environment, x.lostAccess])).toEqual([
      ["staging", [bob.recipient]],
      ["production", []],
    ]);
    expect(unwrapWith(s, "staging", bob)).toBeUndefined();
    expect(stanzas(s, "staging").map((x) => x.recipient)).toEqual([alice.recipient]);
    expect((await s.run(["members", "add", "bob", bob.recipient, "--env", "staging"])).code).toBe(0);
    s.write("stellar.yaml", s.read("stellar.yaml").replace(new RegExp(`^.*bob: ${bob.recipient}\\n`, "m"), ""));
    const text = await s.run(["rotate-key", "--env", "staging"]);
    expect(text.stdout).toContain(`staging: ${bob.recipient} (not a member of staging) lost access\n\n${bob.recipient} could read these values`);
    expect(text.stdout).toContain("    hubspot_api_token  → new value at the provider, then: stellar-secrets set hubspot_api_token --env staging");
  });
});

describe("members rm with recipient drift", () => {
  it("names the non-member keys that lose access too", async () => {
    const { s } = await project();
    const bob = s.keygen("bob");
    const carol = s.keygen("carol");
    expect((await s.run(["members", "add", "bob", bob.recipient, "--env", "staging"])).code).toBe(0);
    expect((await s.run(["members", "add", "carol", carol.recipient, "--env", "staging"])).code).toBe(0);
    s.write("stellar.yaml", s.read("stellar.yaml").replace(new RegExp(`^.*bob: ${bob.recipient}\\n`, "m"), ""));
    const r = await s.run(["members", "rm", "carol", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).alsoLostAccess).toEqual([{ environment: "staging", recipients: [bob.recipient] }]);
    expect(unwrapWith(s, "staging", bob)).toBeUndefined();
    expect(unwrapWith(s, "staging", carol)).toBeUndefined();
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

describe("edit without a terminal", () => {
  it("refuses to fall back to vi when there is no terminal and no $VISUAL/$EDITOR, printing no value", async () => {
    const { s } = await project();
    const before = s.read("secrets/production.enc.yaml");
    const r = await s.run(["edit", "--env", "production"], { env: { EDITOR: undefined, VISUAL: undefined }, input: ":wq\n" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("USAGE: edit: no terminal and no $VISUAL or $EDITOR; refusing to start vi");
    expect(r.stdout).toBe("");
    expect(r.stderr).not.toMatch(/sk_live_STRIPE|hs_TOKEN_VALUE/);
    expect(s.read("secrets/production.enc.yaml")).toBe(before);
    // an explicit editor still works without a terminal
    const editor = join(s.dir, "append.sh");
    writeFileSync(editor, `#!/bin/sh\nprintf 'new_token: n_VALUE\\n' >> "$1"\n`, { mode: 0o755 });
    const ok = await s.run(["edit", "--env", "production"], { env: { EDITOR: editor, VISUAL: undefined } });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe("production: added new_token\n");
  });
});

describe("a secrets file that is not valid UTF-8", () => {
  it("is refused by every reader (INVALID_UTF8, exit 13), and history reports the version instead of decoding it", async () => {
    const { s } = await project();
    const path = join(s.repo, "secrets/production.enc.yaml");
    const good = readFileSync(path);
    // a comment with a byte that is not UTF-8: replacement-character decoding would still decrypt
    writeFileSync(path, Buffer.concat([Buffer.from("# bad byte: "), Buffer.from([0xff, 0xfe]), Buffer.from("\n"), good]));
    const runs = [
      ["get", "stripe_api_key", "--env", "production"],
      ["export", "--env", "production", "--format", "json"],
      ["exec", "--env", "production", "--", "true"],
      ["list", "--env", "production"],
      ["rotate-key", "--env", "production"],
    ];
    for (const args of runs) {
      const r = await s.run(args);
      expect(r.code, args.join(" ")).toBe(13);
      expect(r.stderr, args.join(" ")).toContain("INVALID_UTF8");
      expect(r.stdout, args.join(" ")).not.toContain("sk_live_STRIPE");
    }
    const set = await s.run(["set", "stripe_api_key", "--env", "production", "--from-stdin"], { input: "new" });
    expect(set.code).toBe(13);
    const edit = await s.run(["edit", "--env", "production"], { env: { EDITOR: "true" } });
    expect(edit.code).toBe(13);

    // history: a committed version that is not UTF-8 is reported and skipped, the others still count
    s.commit("corrupt production");
    writeFileSync(path, good);
    s.commit("restore production");
    const h = await s.run(["history", "--env", "production", "--json"]);
    expect(h.code, h.stderr).toBe(0);
    expect(h.stderr).toMatch(/warning: secrets\/production\.enc\.yaml at [0-9a-f]{12}: a version of the file is not valid UTF-8; skipped/);
    expect(JSON.parse(h.stdout).events.filter((e: { kind: string }) => e.kind === "added").map((e: { name: string }) => e.name).sort()).toEqual([
      "hubspot_api_token",
      "stripe_api_key",
    ]);
    // and an uncommitted one too
    writeFileSync(path, Buffer.concat([Buffer.from([0xc3, 0x28, 0x0a]), good]));
    const w = await s.run(["history", "--env", "production"]);
    expect(w.code, w.stderr).toBe(0);
    expect(w.stderr).toContain("warning: production (working tree): not valid UTF-8; uncommitted changes skipped");
  });
});

describe("init", () => {
  it("refuses a secrets folder that is the repository root before writing anything", async () => {
    const s = sandbox();
    for (const dir of [".", "./", ".//", "././"]) {
      const r = await s.run(["init", "--secrets-dir", dir]);
      expect(r.code, dir).toBe(2);
      expect(r.stderr, dir).toContain("must be a folder inside the repository, relative to it (no .., not the root itself)");
    }
    expect(readdirSync(s.repo).filter((n) => n !== ".git")).toEqual([]);
    expect(existsSync(s.defaultKeyFile)).toBe(false);
    // a nested folder given as ./x is fine, and every command accepts the result
    const ok = await s.run(["init", "--secrets-dir", "./vault/"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(existsSync(join(s.repo, "vault/production.enc.yaml"))).toBe(true);
    expect((await s.run(["list"])).code).toBe(0);
    // written as every reader reads it: stellar.yaml, .sops.yaml's path_regex (sops matches `vault/…`, never `./vault/…`) and .gitattributes name `vault`
    expect(s.read("stellar.yaml")).toMatch(/^secrets_dir: vault$/m);
    expect(s.read(".sops.yaml")).not.toContain("\\./");
    expect(s.read(".sops.yaml")).toContain("vault/production");
    const dotted = sandbox();
    const d = await dotted.run(["init", "--secrets-dir", "vault/."]);
    expect(d.code, d.stderr).toBe(0);
    expect(dotted.read("stellar.yaml")).toMatch(/^secrets_dir: vault$/m);
    expect(dotted.read(".sops.yaml")).not.toContain("\\./");
    expect(dotted.read(".sops.yaml")).toContain("vault/production");
  });

  it("says ALREADY_INITIALIZED on a second init even when it could not tell the member name", async () => {
    const s = sandbox();
    expect((await s.run(["init", "--member", "alice"])).code).toBe(0);
    const again = await s.run(["init"], { env: { USER: undefined, LOGNAME: undefined, GIT_AUTHOR_NAME: undefined, GIT_AUTHOR_EMAIL: undefined } });
    expect(again.code).toBe(6);
    expect(again.stderr).toContain("ALREADY_INITIALIZED");
    const fresh = sandbox();
    const noUser = await fresh.run(["init"], { env: { USER: undefined, LOGNAME: undefined } });
    expect(noUser.code).toBe(19);
  });
});

describe("the rename recipe", () => {
  it("copies a value that ends in a newline byte for byte (set --from-stdin --keep-newlines), through a pipe, nothing on disk", async () => {
    const { s } = await project();
    const pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n";
    const pemFile = join(s.dir, "key.pem");
    writeFileSync(pemFile, pem);
    expect((await s.run(["set", "tls_key", "--env", "production", "--from-file", pemFile])).code).toBe(0);
    const r = await s.run(["rename", "tls_key", "tls_private_key"]);
    expect(r.code).toBe(8);
    const step = r.stderr.split("\n").find((l) => l.startsWith("  1. "))?.slice(5) as string;
    expect(step).toBe("stellar-secrets get tls_key --env production | stellar-secrets set tls_private_key --env production --from-stdin --keep-newlines");
    // run the printed step as a shell pipeline, with `stellar-secrets` on PATH as the built CLI
    const bin = join(s.dir, "bin");
    mkdirSync(bin);
    writeFileSync(join(bin, "stellar-secrets"), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI_BIN)} "$@"\n`, { mode: 0o755 });
    execFileSync("/bin/sh", ["-c", step], { cwd: s.repo, env: { ...s.env, PATH: `${bin}:${s.env.PATH}` }, stdio: ["ignore", "ignore", "pipe"] });
    const sha = (text: string): string => createHash("sha256").update(text).digest("hex");
    const old = await s.run(["get", "tls_key", "--env", "production"]);
    const copied = await s.run(["get", "tls_private_key", "--env", "production"]);
    expect(sha(copied.stdout)).toBe(sha(pem));
    expect(sha(copied.stdout)).toBe(sha(old.stdout));
    // without the flag stdin still loses trailing newlines (the documented gh-like rule), and the flag needs --from-stdin
    expect((await s.run(["set", "trimmed", "--env", "production", "--from-stdin"], { input: pem })).code).toBe(0);
    expect((await s.run(["get", "trimmed", "--env", "production"])).stdout).toBe(pem.trimEnd());
    const lone = await s.run(["set", "x_key", "--env", "production", "--keep-newlines", "--from-file", pemFile]);
    expect(lone.code).toBe(2);
    expect(lone.stderr).toContain("--keep-newlines goes with --from-stdin");
  });
});

describe("export --format k8s", () => {
  it("includes a secret named __proto__ like json and dotenv do", async () => {
    const { s, alice } = await project();
    // the CLI refuses such a name, but a file written by sops may hold one
    await editSecretsFile(join(s.repo, "secrets/staging.enc.yaml"), [alice.identity], (values) => {
      values.set("__proto__", "proto_VALUE");
      values.set("constructor", "ctor_VALUE");
    });
    const json = JSON.parse((await s.run(["export", "--env", "staging", "--format", "json"])).stdout);
    expect(Object.keys(json).sort()).toEqual(["__proto__", "constructor", "hubspot_api_token"]);
    const k8s = await s.run(["export", "--env", "staging", "--format", "k8s", "--namespace", "prod"]);
    expect(k8s.code, k8s.stderr).toBe(0);
    const manifest = parseAsMaps(k8s.stdout) as Map<string, unknown>;
    const data = manifest.get("data") as Map<string, string>;
    expect([...data.keys()].sort()).toEqual(["__proto__", "constructor", "hubspot_api_token"]);
    expect(Buffer.from(data.get("__proto__") as string, "base64").toString()).toBe("proto_VALUE");
    expect(Buffer.from(data.get("constructor") as string, "base64").toString()).toBe("ctor_VALUE");
    expect((manifest.get("metadata") as Map<string, string>).get("namespace")).toBe("prod");
    expect(k8s.stdout).toContain("kind: Secret\n");
  });
});

describe("set with catalog flags only", () => {
  it("refuses a name no environment has (UNKNOWN_SECRET, exit 4) and writes no catalog entry; accepts it with a value in the same command", async () => {
    const { s } = await project();
    const r = await s.run(["set", "nosuch_key", "--owner", "x"]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('UNKNOWN_SECRET: secret "nosuch_key" has no value in any environment');
    expect(r.stderr).toContain("hint: create it and its entry together: stellar-secrets set nosuch_key --env ENV");
    expect(existsSync(join(s.repo, "secrets/catalog.yaml"))).toBe(false);
    const both = await s.run(["set", "nosuch_key", "--owner", "x", "--env", "staging", "--from-stdin"], { input: "v1" });
    expect(both.code, both.stderr).toBe(0);
    expect(parse(s.read("secrets/catalog.yaml")).secrets.nosuch_key.owner).toBe("x");
    const existing = await s.run(["set", "stripe_api_key", "--description", "Stripe"]);
    expect(existing.code, existing.stderr).toBe(0);
    expect(parse(s.read("secrets/catalog.yaml")).secrets.stripe_api_key.description).toBe("Stripe");
  });
});

describe("rm SECRET_IN_USE", () => {
  it("names the environments where the references need the value, as usage does", async () => {
    const { s } = await project();
    s.write("connections/hubspot.yaml", "kind: api_connection\nname: hubspot\nbase_url: https://api.hubapi.com\nheaders:\n  - { name: Authorization, type: secret, secret: hubspot_api_token, prefix: \"Bearer \" }\n");
    s.write("actions/sync.yaml", "kind: action\nname: sync\nconnection: hubspot\nmethod: GET\npath: /crm/v3/objects/contacts\nenvironments: [staging, production]\n");
    const usage = await s.run(["usage", "hubspot_api_token"]);
    expect(usage.stdout).toContain("needed in: staging, production");
    const r = await s.run(["rm", "hubspot_api_token", "--yes"]);
    expect(r.code).toBe(7);
    expect(r.stderr).toContain('SECRET_IN_USE: secret "hubspot_api_token" is referenced in 1 place used in staging and production; deleting it would make those fail:');
    expect(r.stderr).toContain("connections/hubspot.yaml:5:");
    const prod = await s.run(["rm", "hubspot_api_token", "--yes", "--env", "development,production"]);
    expect(prod.stderr).toContain("is referenced in 1 place used in production;");
    // development alone is not needed by anything: deleted
    const dev = await s.run(["rm", "hubspot_api_token", "--yes", "--env", "development"]);
    expect(dev.code, dev.stderr).toBe(0);
  });
});

describe("review of a branch holding a hand-edited environment file", () => {
  it("flags stale-mac when the file kept the mac of an earlier commit of the range, not the base's (exit 1)", async () => {
    const { s } = await project();
    const base = s.git(["rev-parse", "HEAD"]).trim();
    const PROD = "secrets/production.enc.yaml";
    // elsewhere (another branch, never committed here), a real write adds a value
    await setValue(s, "zendesk_api_token", "production", "zd_ELSEWHERE");
    const added = s.read(PROD).split("\n").find((l) => l.startsWith("zendesk_api_token:"))!;
    s.git(["checkout", "-q", "--", PROD]);
    // on the branch: a real commit, then that value line pasted in by hand under this commit's mac
    await setValue(s, "slack_bot_token", "production", "xoxb_BRANCH");
    s.commit("branch: slack");
    const real = s.read(PROD);
    writeFileSync(join(s.repo, PROD), real.replace("sops:\n", `${added}\nsops:\n`));
    s.git(["commit", "-q", "--no-verify", "-am", "branch: zendesk by hand"]);
    // against the base alone the mac differs (the first commit changed it): only the range's commits show it
    for (const format of [["--json"], ["--format", "sarif"]]) {
      const r = await s.run(["review", `${base}..HEAD`, ...format]);
      expect(r.code, r.stdout).toBe(1);
      expect(r.stdout).toContain("stale-mac");
    }
    const stale = JSON.parse((await s.run(["review", `${base}..HEAD`, "--json"])).stdout).diagnostics.filter((d: { rule: string }) => d.rule === "stale-mac");
    expect(stale).toHaveLength(1);
    expect(stale[0]).toMatchObject({ file: PROD, severity: "error", new: true });
    expect(JSON.stringify(stale)).not.toContain("zd_ELSEWHERE");
  });
});

describe("review of a change to .gitattributes", () => {
  it("flags environment files taken off the merge driver (merge=union merges them as text without a conflict): weakened-rule, exit 1", async () => {
    const { s } = await project();
    expect((await s.run(["git", "setup", "--no-hook"])).code).toBe(0);
    const base = s.commit("git setup");
    writeFileSync(join(s.repo, ".gitattributes"), "secrets/*.enc.yaml diff=stellar merge=union\n");
    s.commit("tidy attributes");
    const r = await s.run(["review", `${base}..HEAD`, "--json"]);
    expect(r.code, r.stdout).toBe(1);
    const problems = JSON.parse(r.stdout).problems.filter((p: { file: string }) => p.file === ".gitattributes");
    expect(problems).toMatchObject([{ kind: "weakened-rule", file: ".gitattributes", line: 1 }]);
    expect(problems[0].message).toContain("merge=union");
    // putting the driver back is no problem
    writeFileSync(join(s.repo, ".gitattributes"), "secrets/*.enc.yaml diff=stellar merge=stellar\n");
    const back = s.commit("restore attributes");
    expect((await s.run(["review", `${base}..${back}`, "--json"])).code).toBe(0);
  });
});

describe("review of an environment file replaced by a symbolic link", () => {
  it("is a problem (weakened-rule naming the target, exit 1), not a deleted file with no problems", async () => {
    const { s } = await project();
    const base = s.git(["rev-parse", "HEAD"]).trim();
    const PROD = "secrets/production.enc.yaml";
    mkdirSync(join(s.repo, "docs"), { recursive: true });
    writeFileSync(join(s.repo, "docs", "notes.enc.yaml"), s.read(PROD));
    s.git(["rm", "-q", PROD]);
    execFileSync("ln", ["-s", "../docs/notes.enc.yaml", join(s.repo, PROD)]);
    s.git(["add", "-A"]);
    s.git(["commit", "-q", "--no-verify", "-m", "link"]);
    const r = await s.run(["review", `${base}..HEAD`, "--json"]);
    expect(r.code, r.stdout).toBe(1);
    const linked = JSON.parse(r.stdout).problems.filter((p: { kind: string; file?: string }) => p.kind === "weakened-rule" && p.file === PROD);
    expect(linked).toHaveLength(1);
    expect(linked[0].message).toContain("symbolic link to ../docs/notes.enc.yaml");
    // the secrets folder made a link to a folder of files no review read as the environments'
    s.git(["checkout", "-q", base]);
    s.git(["mv", "secrets", "vault"]);
    execFileSync("ln", ["-s", "vault", join(s.repo, "secrets")]);
    s.git(["add", "-A"]);
    s.git(["commit", "-q", "--no-verify", "-m", "folder link"]);
    const folder = await s.run(["review", `${base}..HEAD`, "--json"]);
    expect(folder.code, folder.stdout).toBe(1);
    const byFolder = JSON.parse(folder.stdout).problems.filter((p: { kind: string; file?: string }) => p.kind === "weakened-rule");
    expect(byFolder.map((p: { file: string }) => p.file).sort()).toEqual(["secrets/development.enc.yaml", PROD, "secrets/staging.enc.yaml"]);
    expect(byFolder[0].message).toContain("(the folder of secrets/");
  });
});
